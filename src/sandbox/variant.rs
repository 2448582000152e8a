//! [`ZohoVariant`]: which of the plausible Zohos the sandbox plays, where the
//! public evidence leaves Bigin's behaviour open (the "Unconfirmed" list of
//! `shared/zoho-bigin-api.md`). The default is the documented or most likely
//! answer; each other value is a Zoho the code must survive too. Set it with
//! [`super::SandboxOptions::variant`], [`super::Sandbox::set_variant`] or the
//! `sandbox` command's flags.

use std::fmt;
use std::str::FromStr;

/// Where a refused write record is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Refusals {
    /// HTTP 400 with the reason in the first `users` element (CRM's OAS
    /// examples: documented).
    #[default]
    In400,
    /// HTTP 200 with a `"status":"error"` element (the older reading, and
    /// what a bulk answer with mixed results looks like).
    In200,
}

/// How a role or profile in a PUT body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum References {
    /// `"<id>"` and `{"id":"<id>"}` both work.
    #[default]
    Either,
    /// Only `{"id":"<id>"}` works; a bare string is silently ignored while
    /// the answer still says SUCCESS (CRM v8's shape, the worst case).
    ObjectsOnly,
}

/// Where a 429 says how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetryHint {
    /// A `Retry-After` header (not documented by Zoho, but common).
    #[default]
    Header,
    /// `details.retry_after` (seconds) in the body, as CRM's 429 sample.
    Body,
}

/// The open questions about real Bigin, one field each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZohoVariant {
    pub refusals: Refusals,
    /// `GET /settings/profiles/{id}` exists (CRM documents it); when false it
    /// answers 404 `INVALID_URL_PATTERN`, as an endpoint Bigin lacks would.
    pub single_profile: bool,
    /// The profile list carries each profile's `permissions` (as Bigin's v1
    /// SDK reads them).
    pub list_permissions: bool,
    pub references: References,
    pub retry_hint: RetryHint,
    /// Every `POST /oauth/v2/token` answers Zoho's throttle, `{"error":
    /// "Access Denied", ...}`, with this HTTP status (200 or 400).
    pub token_throttle: Option<u16>,
}

impl Default for ZohoVariant {
    fn default() -> Self {
        ZohoVariant {
            refusals: Refusals::default(),
            single_profile: true,
            list_permissions: false,
            references: References::default(),
            retry_hint: RetryHint::default(),
            token_throttle: None,
        }
    }
}

/// One named variant, as `--variant NAME` and tests select it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariantName {
    Documented,
    NoSingleProfile,
    ListPermissions,
    ObjectReferences,
    RefusalsIn200,
    RetryAfterInBody,
    /// The throttle with HTTP 200 (CRM community docs).
    TokenThrottle,
    /// The throttle with HTTP 400 (seen by a production client).
    TokenThrottle400,
}

impl VariantName {
    pub const ALL: [VariantName; 8] = [
        VariantName::Documented,
        VariantName::NoSingleProfile,
        VariantName::ListPermissions,
        VariantName::ObjectReferences,
        VariantName::RefusalsIn200,
        VariantName::RetryAfterInBody,
        VariantName::TokenThrottle,
        VariantName::TokenThrottle400,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VariantName::Documented => "documented",
            VariantName::NoSingleProfile => "no-single-profile",
            VariantName::ListPermissions => "list-permissions",
            VariantName::ObjectReferences => "object-references",
            VariantName::RefusalsIn200 => "refusals-in-200",
            VariantName::RetryAfterInBody => "retry-after-in-body",
            VariantName::TokenThrottle => "token-throttle",
            VariantName::TokenThrottle400 => "token-throttle-400",
        }
    }

    /// The variant: the documented defaults with one question answered the
    /// other way.
    pub fn variant(self) -> ZohoVariant {
        self.apply(ZohoVariant::default())
    }

    /// `d` with this name's question answered its way (names combine).
    pub fn apply(self, d: ZohoVariant) -> ZohoVariant {
        match self {
            VariantName::Documented => d,
            VariantName::NoSingleProfile => ZohoVariant {
                single_profile: false,
                ..d
            },
            VariantName::ListPermissions => ZohoVariant {
                list_permissions: true,
                ..d
            },
            VariantName::ObjectReferences => ZohoVariant {
                references: References::ObjectsOnly,
                ..d
            },
            VariantName::RefusalsIn200 => ZohoVariant {
                refusals: Refusals::In200,
                ..d
            },
            VariantName::RetryAfterInBody => ZohoVariant {
                retry_hint: RetryHint::Body,
                ..d
            },
            VariantName::TokenThrottle => ZohoVariant {
                token_throttle: Some(200),
                ..d
            },
            VariantName::TokenThrottle400 => ZohoVariant {
                token_throttle: Some(400),
                ..d
            },
        }
    }
}

impl fmt::Display for VariantName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VariantName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        VariantName::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = VariantName::ALL.iter().map(|v| v.as_str()).collect();
                format!("unknown variant `{s}`; one of: {}", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_each_differs_from_the_documented_one() {
        for v in VariantName::ALL {
            assert_eq!(v.as_str().parse::<VariantName>().unwrap(), v);
            if v != VariantName::Documented {
                assert_ne!(v.variant(), ZohoVariant::default(), "{v}");
            }
        }
        assert!("bogus".parse::<VariantName>().is_err());
        let both = VariantName::NoSingleProfile.apply(VariantName::ListPermissions.variant());
        assert!(!both.single_profile && both.list_permissions);
    }
}
