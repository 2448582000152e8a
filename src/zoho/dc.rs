//! Zoho data centres: which accounts server pairs with which API domain.
//!
//! The token response's `api_domain` is authoritative; this table is the
//! fallback when it is missing, and the list of accounts hosts that are
//! trusted as an OAuth callback's `accounts-server`.

use std::fmt;
use std::str::FromStr;

/// One Zoho data centre where Bigin is offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataCentre {
    /// Short code used on the command line and in Zoho's `location` parameter.
    pub code: &'static str,
    /// Base URL of the accounts server (OAuth).
    pub accounts: &'static str,
    /// Base URL of the API domain (`{api_domain}/bigin/v2/...`).
    pub api_domain: &'static str,
    /// Whether Zoho's Bigin pages list this data centre. The UK one exists
    /// for other Zoho products; Bigin there is unconfirmed, so it is accepted
    /// (a UK callback is not refused) and said to be unconfirmed.
    pub bigin_confirmed: bool,
}

/// Every data centre in the shared API notes. CA's accounts host is
/// `zohocloud.ca`, not `zoho.ca`. UK is last: unconfirmed for Bigin.
pub const DATA_CENTRES: &[DataCentre] = &[
    DataCentre {
        code: "us",
        accounts: "https://accounts.zoho.com",
        api_domain: "https://www.zohoapis.com",
        bigin_confirmed: true,
    },
    DataCentre {
        code: "eu",
        accounts: "https://accounts.zoho.eu",
        api_domain: "https://www.zohoapis.eu",
        bigin_confirmed: true,
    },
    DataCentre {
        code: "in",
        accounts: "https://accounts.zoho.in",
        api_domain: "https://www.zohoapis.in",
        bigin_confirmed: true,
    },
    DataCentre {
        code: "au",
        accounts: "https://accounts.zoho.com.au",
        api_domain: "https://www.zohoapis.com.au",
        bigin_confirmed: true,
    },
    DataCentre {
        code: "jp",
        accounts: "https://accounts.zoho.jp",
        api_domain: "https://www.zohoapis.jp",
        bigin_confirmed: true,
    },
    DataCentre {
        code: "cn",
        accounts: "https://accounts.zoho.com.cn",
        api_domain: "https://www.zohoapis.com.cn",
        bigin_confirmed: true,
    },
    DataCentre {
        code: "sa",
        accounts: "https://accounts.zoho.sa",
        api_domain: "https://www.zohoapis.sa",
        bigin_confirmed: true,
    },
    DataCentre {
        code: "ca",
        accounts: "https://accounts.zohocloud.ca",
        api_domain: "https://www.zohoapis.ca",
        bigin_confirmed: true,
    },
    DataCentre {
        code: "uk",
        accounts: "https://accounts.zoho.uk",
        api_domain: "https://www.zohoapis.uk",
        bigin_confirmed: false,
    },
];

impl DataCentre {
    /// All data-centre codes, for error messages.
    pub fn codes() -> String {
        DATA_CENTRES
            .iter()
            .map(|d| d.code)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The data centre whose accounts server is `url` (scheme and host compared,
    /// trailing slash ignored).
    pub fn from_accounts_url(url: &str) -> Option<DataCentre> {
        Self::find(url, |d| d.accounts)
    }

    /// The data centre whose API domain is `url`.
    pub fn from_api_domain(url: &str) -> Option<DataCentre> {
        Self::find(url, |d| d.api_domain)
    }

    fn find(url: &str, field: fn(&DataCentre) -> &'static str) -> Option<DataCentre> {
        let url = url.trim_end_matches('/');
        DATA_CENTRES
            .iter()
            .copied()
            .find(|d| field(d).eq_ignore_ascii_case(url))
    }
}

impl fmt::Display for DataCentre {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl FromStr for DataCentre {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        // Zoho's callback says `location=us`; people also type `com`.
        let wanted = if wanted == "com" {
            "us".to_string()
        } else {
            wanted
        };
        DATA_CENTRES
            .iter()
            .copied()
            .find(|d| d.code == wanted)
            .ok_or_else(|| {
                format!(
                    "unknown data centre '{s}'; use one of: {}",
                    DataCentre::codes()
                )
            })
    }
}

/// The API domain that goes with an accounts server, when the token response
/// did not name one.
pub fn api_domain_for_accounts(accounts: &str) -> Option<&'static str> {
    DataCentre::from_accounts_url(accounts).map(|d| d.api_domain)
}

/// Checks that a base URL may carry credentials: `https`, or `http` only to a
/// loopback host (the sandbox, local proxies). Returns it without a trailing slash.
pub fn check_base_url(url: &str) -> Result<String, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("'{url}' is not a URL: {e}"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(format!("'{url}' has no host")),
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        other => {
            return Err(format!(
                "'{url}' uses {other}://; credentials are only sent over https (or http to 127.0.0.1/localhost)"
            ));
        }
    }
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_and_lists_valid_ones() {
        assert_eq!(
            "EU".parse::<DataCentre>().unwrap().accounts,
            "https://accounts.zoho.eu"
        );
        assert_eq!("com".parse::<DataCentre>().unwrap().code, "us");
        let err = "xx".parse::<DataCentre>().unwrap_err();
        assert!(err.contains("us, eu, in, au, jp, cn, sa, ca"), "{err}");
    }

    #[test]
    fn canada_uses_zohocloud() {
        let ca: DataCentre = "ca".parse().unwrap();
        assert_eq!(ca.accounts, "https://accounts.zohocloud.ca");
        assert_eq!(
            api_domain_for_accounts("https://accounts.zohocloud.ca/"),
            Some("https://www.zohoapis.ca")
        );
        assert_eq!(api_domain_for_accounts("https://accounts.zoho.ca"), None);
    }

    #[test]
    fn the_uk_is_accepted_as_unconfirmed_for_bigin() {
        let uk: DataCentre = "uk".parse().unwrap();
        assert_eq!(uk.accounts, "https://accounts.zoho.uk");
        assert_eq!(uk.api_domain, "https://www.zohoapis.uk");
        assert!(!uk.bigin_confirmed);
        assert_eq!(
            DataCentre::from_accounts_url("https://accounts.zoho.uk"),
            Some(uk)
        );
        assert!(
            DATA_CENTRES
                .iter()
                .filter(|d| d.code != "uk")
                .all(|d| d.bigin_confirmed)
        );
    }

    #[test]
    fn base_urls_must_be_https_unless_loopback() {
        assert_eq!(
            check_base_url("https://www.zohoapis.eu/").unwrap(),
            "https://www.zohoapis.eu"
        );
        assert!(check_base_url("http://127.0.0.1:8080").is_ok());
        assert!(check_base_url("http://localhost:1").is_ok());
        assert!(check_base_url("http://www.zohoapis.com").is_err());
        assert!(check_base_url("ftp://127.0.0.1").is_err());
        assert!(check_base_url("nonsense").is_err());
    }
}
