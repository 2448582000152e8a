//! `bigin-mcp doctor`'s probes: each load-bearing assumption about Zoho
//! (the "Unconfirmed" and "Confirmed" lists of `shared/zoho-bigin-api.md`)
//! checked read-only against the user's own organisation, so an unknown
//! becomes a fact the user can paste into a public bug report.
//!
//! Rules: at most [`MAX_REQUESTS`] API requests, all `GET`; a check says
//! `held`, `differed` (with what was seen) or `not_checked`; what was seen
//! is shapes, codes, counts and permission names, never a token, secret,
//! email, name or id. Where a check differs, the code already copes:
//! doctor only reports.

use serde::Serialize;
use serde_json::Value;

use crate::zoho::{BiginClient, DataCentre, ProbeAnswer, ZohoError, count_requests};

/// The most API requests (credits) one run may send.
pub const MAX_REQUESTS: u32 = 12;

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Held,
    Differed,
    NotChecked,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Held => "held",
            Verdict::Differed => "differed",
            Verdict::NotChecked => "not_checked",
        }
    }
}

/// One assumption and what the organisation showed.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub assumption: &'static str,
    pub result: Verdict,
    pub seen: String,
    /// Whether the code depends on it (a difference fails the run).
    #[serde(skip)]
    pub load_bearing: bool,
}

/// Every check of one run, and the API credits it spent.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
    pub credits_used: u32,
}

impl Report {
    /// A load-bearing assumption differed: the run should fail.
    pub fn failed(&self) -> bool {
        self.checks
            .iter()
            .any(|c| c.load_bearing && c.result == Verdict::Differed)
    }

    /// The report as a Markdown table (the default output).
    pub fn to_markdown(&self) -> String {
        let cell = |s: &str| s.replace('|', "\\|").replace(['\n', '\r'], " ");
        let mut out = String::from("| check | assumption | result | seen |\n|---|---|---|---|\n");
        for c in &self.checks {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                c.id,
                cell(c.assumption),
                c.result.as_str(),
                cell(&c.seen)
            ));
        }
        out.push_str(&format!(
            "\nAPI credits used: {}. Nothing was changed.\n",
            self.credits_used
        ));
        out
    }
}

fn check(id: &'static str, assumption: &'static str, load_bearing: bool) -> Check {
    Check {
        id,
        assumption,
        result: Verdict::NotChecked,
        seen: String::new(),
        load_bearing,
    }
}

impl Check {
    fn held(mut self, seen: impl Into<String>) -> Check {
        self.result = Verdict::Held;
        self.seen = seen.into();
        self
    }
    fn differed(mut self, seen: impl Into<String>) -> Check {
        self.result = Verdict::Differed;
        self.seen = seen.into();
        self
    }
    fn not_checked(mut self, why: impl Into<String>) -> Check {
        self.result = Verdict::NotChecked;
        self.seen = why.into();
        self
    }
    fn verdict(self, ok: bool, seen: impl Into<String>) -> Check {
        if ok {
            self.held(seen)
        } else {
            self.differed(seen)
        }
    }
}

/// Runs every probe against the organisation behind `client`.
pub async fn run(client: &BiginClient) -> Report {
    let (checks, credits_used) = count_requests(probes(client)).await;
    Report {
        checks,
        credits_used,
    }
}

/// What a probe's error shows: Zoho's code and HTTP status, never its text
/// (which may quote a name or an address).
fn error_seen(e: &ZohoError) -> String {
    match e {
        ZohoError::Api { status, code, .. } => format!("HTTP {status} {code}"),
        other => match other.code() {
            Some(code) => format!("error {code}"),
            None => "no usable answer (network, timeout or an unreadable body)".into(),
        },
    }
}

/// `HTTP 200, code X` for answers that are not the expected shape.
fn answer_seen(a: &ProbeAnswer) -> String {
    let code = a
        .body
        .as_ref()
        .and_then(|b| b.get("code"))
        .and_then(Value::as_str)
        .map(|c| format!(" {c}"))
        .unwrap_or_default();
    format!("HTTP {}{code}", a.status)
}

fn keys_of(v: &Value) -> String {
    match v.as_object() {
        Some(m) => m.keys().take(8).cloned().collect::<Vec<_>>().join(","),
        None => "not an object".into(),
    }
}

/// The permission names that look administrator-level (CRM's
/// `Crm_Implied_Manage_Users` and the like), squashed for comparison.
fn admin_like(name: &str) -> bool {
    let n: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    [
        "manageusers",
        "usermanagement",
        "setup",
        "manageroles",
        "manageprofiles",
        "orgsettings",
    ]
    .iter()
    .any(|k| n.contains(k))
}

/// Permission entries of a profile: `permissions_details` (CRM's detail)
/// or `permissions` (what Bigin's v1 SDK reads from the list).
fn permissions_of(profile: &Value) -> Option<&Vec<Value>> {
    profile
        .get("permissions_details")
        .or_else(|| profile.get("permissions"))
        .and_then(Value::as_array)
        .filter(|a| a.iter().any(Value::is_object))
}

fn admin_names(perms: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = perms
        .iter()
        .filter(|p| p.get("enabled").and_then(Value::as_bool) == Some(true))
        .filter_map(|p| p.get("name").and_then(Value::as_str))
        .filter(|n| admin_like(n))
        .map(|n| n.chars().take(60).collect())
        .collect();
    names.sort();
    names.dedup();
    names
}

async fn probes(client: &BiginClient) -> Vec<Check> {
    let mut out = Vec::new();
    let mut headers_seen: Vec<(String, String)> = Vec::new();

    // 1. Token refresh and `api_domain` (a token request, not a credit).
    let token = client.tokens().token().await;
    let refresh = check(
        "token_refresh",
        "the refresh grant answers an access token with `api_domain`",
        true,
    );
    let api_domain = match &token {
        Ok(t) => {
            out.push(match &t.api_domain {
                Some(_) => refresh.held("access token issued, api_domain present"),
                None => refresh.differed(
                    "access token issued without api_domain (the data-centre table is used)",
                ),
            });
            t.api_domain.clone()
        }
        Err(e) => {
            out.push(refresh.differed(error_seen(e)));
            // Nothing else can be asked without a token.
            for (id, what) in [
                (
                    "users_list",
                    "GET /users answers `users` plus `info.more_records`",
                ),
                (
                    "org_primary",
                    "GET /org answers `{\"org\":[one]}` with primary_email and primary_zuid",
                ),
            ] {
                out.push(check(id, what, true).not_checked("no access token"));
            }
            return out;
        }
    };

    // 2. The data centre.
    let dc = check(
        "data_centre",
        "the API domain is one of Bigin's documented data centres",
        false,
    );
    let domain = client.api_domain_override().or(api_domain);
    out.push(
        match domain
            .as_deref()
            .map(|d| (d, DataCentre::from_api_domain(d)))
        {
            Some((_, Some(d))) if d.bigin_confirmed => dc.held(format!("data centre {}", d.code)),
            Some((_, Some(d))) => dc.differed(format!(
                "data centre {}: Zoho does not list Bigin there",
                d.code
            )),
            Some((d, None)) if is_loopback(d) => dc.held("the local sandbox (--demo or a proxy)"),
            Some(_) => dc.differed("an API domain outside the data-centre table (a proxy?)"),
            None => dc.not_checked("no API domain known"),
        },
    );

    // 3. The user list: wrapper, `info`, per_page.
    let wrapper = check(
        "users_list",
        "GET /users answers `users` plus `info.more_records`",
        true,
    );
    let per_page = check(
        "users_per_page",
        "`per_page` is honoured and echoed in `info`",
        true,
    );
    let statuses = check(
        "user_status_values",
        "user `status` is one of active, inactive, deleted (or CRM's disabled)",
        true,
    );
    let mut held_profile: Option<String> = None;
    let q = |ty: &str, page: u32, n: u32| {
        vec![
            ("type", ty.to_string()),
            ("page", page.to_string()),
            ("per_page", n.to_string()),
        ]
    };
    match client.probe("/users", &q("AllUsers", 1, 3)).await {
        Ok(a) => {
            headers_seen.extend(a.headers.clone());
            let users = a
                .body
                .as_ref()
                .and_then(|b| b.get("users"))
                .and_then(Value::as_array);
            let info = a.body.as_ref().and_then(|b| b.get("info"));
            match (a.status, users) {
                (200, Some(users)) => {
                    let more = info
                        .and_then(|i| i.get("more_records"))
                        .and_then(Value::as_bool);
                    out.push(wrapper.verdict(
                        more.is_some(),
                        format!(
                            "users[{}], info: {}",
                            users.len(),
                            info.map(keys_of).unwrap_or_else(|| "absent".into())
                        ),
                    ));
                    let echoed = info.and_then(|i| i.get("per_page")).and_then(Value::as_u64);
                    out.push(per_page.verdict(
                        users.len() <= 3 && echoed == Some(3),
                        format!(
                            "asked 3, got {} users, info.per_page = {}",
                            users.len(),
                            echoed.map_or("absent".into(), |n| n.to_string())
                        ),
                    ));
                    let mut seen: Vec<&str> = users
                        .iter()
                        .filter_map(|u| u.get("status").and_then(Value::as_str))
                        .collect();
                    seen.sort_unstable();
                    seen.dedup();
                    let known = seen
                        .iter()
                        .all(|s| matches!(*s, "active" | "inactive" | "deleted" | "disabled"));
                    out.push(statuses.verdict(known, format!("seen: {}", seen.join(", "))));
                    held_profile = users
                        .iter()
                        .filter_map(|u| u.get("profile")?.get("id"))
                        .find_map(|id| match id {
                            Value::String(s) => Some(s.clone()),
                            Value::Number(n) => Some(n.to_string()),
                            _ => None,
                        });
                }
                _ => {
                    out.push(wrapper.differed(answer_seen(&a)));
                    out.push(per_page.not_checked("the list did not answer as expected"));
                    out.push(statuses.not_checked("the list did not answer as expected"));
                }
            }
        }
        Err(e) => {
            out.push(wrapper.differed(error_seen(&e)));
            out.push(per_page.not_checked("the list did not answer"));
            out.push(statuses.not_checked("the list did not answer"));
        }
    }

    // 4. "Nothing" is a 204 with no body.
    let empty = check(
        "empty_is_204",
        "a user type with nobody in it answers HTTP 204 with no body",
        true,
    );
    // DeletedUsers is often empty; if not, page 2 of CurrentUser (one user)
    // surely is.
    let has_users =
        |a: &ProbeAnswer| a.status == 200 && a.body.as_ref().and_then(|b| b.get("users")).is_some();
    let mut verdict = None;
    for (ty, page, what) in [
        ("DeletedUsers", 1, "DeletedUsers"),
        ("CurrentUser", 2, "page 2 of CurrentUser"),
    ] {
        let seen = match client.probe("/users", &q(ty, page, 1)).await {
            Ok(a) if a.status == 204 => Ok(format!("HTTP 204 for {what}")),
            Ok(a) if has_users(&a) => continue,
            Ok(a) => Err(format!("{} for {what}", answer_seen(&a))),
            Err(e) => Err(format!("{} for {what}", error_seen(&e))),
        };
        verdict = Some(match seen {
            Ok(s) => empty.clone().held(s),
            Err(s) => empty.clone().differed(s),
        });
        break;
    }
    out.push(verdict.unwrap_or_else(|| {
        empty.not_checked("every type tried had users, so no empty answer was seen")
    }));

    // 5. Roles.
    let roles = check(
        "roles_list",
        "GET /settings/roles answers a `roles` list",
        true,
    );
    out.push(match client.probe("/settings/roles", &[]).await {
        Ok(a) => {
            headers_seen.extend(a.headers.clone());
            match a
                .body
                .as_ref()
                .and_then(|b| b.get("roles"))
                .and_then(Value::as_array)
            {
                Some(list) if a.status == 200 => roles.verdict(
                    list.iter()
                        .all(|r| r.get("id").is_some() && r.get("name").is_some()),
                    format!("{} roles with id and name", list.len()),
                ),
                _ => roles.differed(answer_seen(&a)),
            }
        }
        Err(e) => roles.differed(error_seen(&e)),
    });

    // 6. Profiles: the list, and whether it carries permissions.
    let plist = check(
        "profiles_list",
        "GET /settings/profiles answers a `profiles` list",
        true,
    );
    let list_perms = check(
        "profile_list_permissions",
        "the profile list carries no permissions (CRM's shape; the detail has them)",
        false,
    );
    let mut list_permissions: Option<Vec<Value>> = None;
    match client.probe("/settings/profiles", &[]).await {
        Ok(a) => {
            headers_seen.extend(a.headers.clone());
            match a
                .body
                .as_ref()
                .and_then(|b| b.get("profiles"))
                .and_then(Value::as_array)
            {
                Some(list) if a.status == 200 => {
                    out.push(plist.held(format!("{} profiles", list.len())));
                    let with: Vec<&Value> = list
                        .iter()
                        .filter(|p| permissions_of(p).is_some())
                        .collect();
                    out.push(if with.is_empty() {
                        list_perms.held("no permissions in the list")
                    } else {
                        list_perms.differed(format!(
                            "{} of {} profiles carry permissions in the list",
                            with.len(),
                            list.len()
                        ))
                    });
                    let held = held_profile.as_deref();
                    list_permissions = list
                        .iter()
                        .find(|p| p.get("id").and_then(Value::as_str) == held)
                        .and_then(permissions_of)
                        .cloned();
                }
                _ => {
                    out.push(plist.differed(answer_seen(&a)));
                    out.push(list_perms.not_checked("the list did not answer as expected"));
                }
            }
        }
        Err(e) => {
            out.push(plist.differed(error_seen(&e)));
            out.push(list_perms.not_checked("the list did not answer"));
        }
    }

    // 7. One held profile's detail.
    let detail = check(
        "profile_detail",
        "GET /settings/profiles/{id} exists and carries `permissions_details`",
        true,
    );
    let admin = check(
        "admin_permission_names",
        "administrator-level permissions can be named (CRM: Crm_Implied_Manage_Users and the like)",
        true,
    );
    let mut perms: Option<Vec<Value>> = None;
    match &held_profile {
        None => out.push(detail.not_checked("no user's profile id was seen")),
        Some(id) => match client.probe(&format!("/settings/profiles/{id}"), &[]).await {
            Ok(a) => {
                headers_seen.extend(a.headers.clone());
                let one = a
                    .body
                    .as_ref()
                    .and_then(|b| b.get("profiles"))
                    .and_then(Value::as_array)
                    .and_then(|l| l.first());
                match one.and_then(|p| p.get("permissions_details").and_then(Value::as_array)) {
                    Some(list) if a.status == 200 => {
                        out.push(detail.held(format!(
                            "endpoint exists; permissions_details[{}]",
                            list.len()
                        )));
                        perms = Some(list.clone());
                    }
                    _ if a.status == 200 => out.push(detail.differed(format!(
                        "endpoint exists, but no permissions_details (keys: {})",
                        one.map(keys_of).unwrap_or_else(|| "no profile".into())
                    ))),
                    _ => out.push(
                        detail.differed(format!("endpoint absent or refused: {}", answer_seen(&a))),
                    ),
                }
            }
            Err(e) => out.push(detail.differed(error_seen(&e))),
        },
    }
    let source = if perms.is_some() { "detail" } else { "list" };
    out.push(match perms.or(list_permissions) {
        Some(list) => {
            let names = admin_names(&list);
            admin.held(format!(
                "from the {source}: {} permissions, administrator-like enabled: {}",
                list.len(),
                if names.is_empty() {
                    "none (a non-admin profile)".to_string()
                } else {
                    names.join(", ")
                }
            ))
        }
        None => admin.differed(
            "no permissions readable from the detail or the list: holders are reported as \"permissions unknown\"",
        ),
    });

    // 8. The organisation's primary user.
    let org = check(
        "org_primary",
        "GET /org answers `{\"org\":[one]}` with primary_email and primary_zuid",
        true,
    );
    out.push(match client.probe("/org", &[]).await {
        Ok(a) => {
            headers_seen.extend(a.headers.clone());
            let list = a
                .body
                .as_ref()
                .and_then(|b| b.get("org"))
                .and_then(Value::as_array);
            match list {
                Some(l) if a.status == 200 && l.len() == 1 => {
                    let has = |k: &str| l[0].get(k).is_some_and(|v| !v.is_null());
                    org.verdict(
                        has("primary_email") && has("primary_zuid"),
                        format!(
                            "one org; primary_email {}, primary_zuid {}",
                            if has("primary_email") {
                                "present"
                            } else {
                                "absent"
                            },
                            if has("primary_zuid") {
                                "present"
                            } else {
                                "absent"
                            }
                        ),
                    )
                }
                Some(l) => org.differed(format!("{}; {} org records", answer_seen(&a), l.len())),
                None => org.differed(answer_seen(&a)),
            }
        }
        Err(e) => org.differed(error_seen(&e)),
    });

    // 9. Headers (none documented for Bigin).
    let headers = check(
        "headers",
        "ordinary answers carry no Retry-After or credit headers (none are documented)",
        false,
    );
    headers_seen.sort();
    headers_seen.dedup_by(|a, b| a.0 == b.0);
    out.push(if headers_seen.is_empty() {
        headers.held("none seen")
    } else {
        headers.differed(
            headers_seen
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", "),
        )
    });
    out
}

fn is_loopback(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_like_names_and_the_markdown_table() {
        assert!(admin_like("Crm_Implied_Manage_Users"));
        assert!(admin_like("Crm_Implied_Setup"));
        assert!(!admin_like("Crm_Implied_View_Contacts"));
        let r = Report {
            checks: vec![check("x", "a | b", true).differed("line\nbreak")],
            credits_used: 3,
        };
        assert!(r.failed());
        let md = r.to_markdown();
        assert!(
            md.contains("| x | a \\| b | differed | line break |"),
            "{md}"
        );
        assert!(md.contains("API credits used: 3"));
        let r = Report {
            checks: vec![check("y", "a", false).differed("z")],
            credits_used: 0,
        };
        assert!(!r.failed(), "only load-bearing differences fail");
    }
}
