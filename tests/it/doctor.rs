//! `bigin-mcp doctor` against the sandbox, as documented and as each
//! plausible Zoho: what held, what differed, what it cost, and that the
//! report can be pasted in public.

use bigin_mcp::doctor::{self, Report, Verdict};
use bigin_mcp::sandbox::VariantName;

use crate::common::*;

fn verdict(r: &Report, id: &str) -> Verdict {
    r.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id}"))
        .result
}

fn seen(r: &Report, id: &str) -> String {
    r.checks.iter().find(|c| c.id == id).unwrap().seen.clone()
}

/// No email, name, token or id of the org in the report.
fn assert_pasteable(sb: &bigin_mcp::sandbox::Sandbox, r: &Report) {
    let text = r.to_markdown() + &serde_json::to_string(r).unwrap();
    assert!(!text.contains('@'), "an address: {text}");
    let primary = sb.user(&sb.primary_user_id()).unwrap();
    for k in ["full_name", "last_name", "email", "id", "zuid"] {
        let v = s(&primary, k);
        assert!(v.is_empty() || !text.contains(&v), "{k} {v} in {text}");
    }
    assert!(!text.contains("1000."), "a token: {text}");
}

#[tokio::test]
async fn the_documented_zoho_holds_in_at_most_12_credits_and_writes_nothing() {
    let sb = sandbox().await;
    let (c, _) = client(&sb);
    let r = doctor::run(&c).await;
    assert!(!r.failed(), "{}", r.to_markdown());
    for id in [
        "token_refresh",
        "users_list",
        "users_per_page",
        "empty_is_204",
        "roles_list",
        "profiles_list",
        "profile_list_permissions",
        "profile_detail",
        "admin_permission_names",
        "org_primary",
        "headers",
    ] {
        assert_eq!(verdict(&r, id), Verdict::Held, "{id}: {}", seen(&r, id));
    }
    assert!(seen(&r, "admin_permission_names").contains("Crm_Implied_Manage_Users"));
    let api = api_requests(&sb.requests()).len() as u32;
    assert_eq!(r.credits_used, api);
    assert!(r.credits_used <= doctor::MAX_REQUESTS, "{}", r.credits_used);
    assert!(
        sb.requests()
            .iter()
            .all(|q| q.method == "GET" || q.path.starts_with("/oauth/"))
    );
    assert_pasteable(&sb, &r);
}

#[tokio::test]
async fn an_absent_profile_endpoint_differs_and_the_list_may_make_up_for_it() {
    let sb = sandbox_as(VariantName::NoSingleProfile).await;
    let (c, _) = client(&sb);
    let r = doctor::run(&c).await;
    assert_eq!(verdict(&r, "profile_detail"), Verdict::Differed);
    assert!(seen(&r, "profile_detail").contains("INVALID_URL_PATTERN"));
    // Nothing else to read permissions from: that differs too.
    assert_eq!(verdict(&r, "admin_permission_names"), Verdict::Differed);
    assert!(r.failed());

    // With the list carrying permissions, they can still be named.
    sb.set_variant(VariantName::NoSingleProfile.apply(VariantName::ListPermissions.variant()));
    let (c, _) = client(&sb);
    let r = doctor::run(&c).await;
    assert_eq!(verdict(&r, "profile_detail"), Verdict::Differed);
    assert_eq!(verdict(&r, "profile_list_permissions"), Verdict::Differed);
    assert_eq!(verdict(&r, "admin_permission_names"), Verdict::Held);
    assert!(seen(&r, "admin_permission_names").starts_with("from the list"));
    assert_pasteable(&sb, &r);
}

#[tokio::test]
async fn a_throttled_token_endpoint_is_reported_without_spending_credits() {
    let sb = sandbox_as(VariantName::TokenThrottle400).await;
    let (c, _) = client(&sb);
    let r = doctor::run(&c).await;
    assert_eq!(verdict(&r, "token_refresh"), Verdict::Differed);
    assert!(seen(&r, "token_refresh").contains("access_denied"));
    assert_eq!(r.credits_used, 0);
    assert!(api_requests(&sb.requests()).is_empty());
    assert!(r.failed());
}

#[tokio::test]
async fn every_variant_runs_within_the_credit_budget() {
    for name in VariantName::ALL {
        let sb = sandbox_as(name).await;
        let (c, _) = client(&sb);
        let r = doctor::run(&c).await;
        assert!(r.credits_used <= doctor::MAX_REQUESTS, "{name}");
        assert!(
            sb.requests()
                .iter()
                .all(|q| q.method == "GET" || q.path.starts_with("/oauth/")),
            "{name}: a write"
        );
        assert_pasteable(&sb, &r);
    }
}

#[test]
fn the_cli_prints_json_or_markdown_and_exits_by_verdict() {
    let bin = env!("CARGO_BIN_EXE_bigin-mcp");
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env_remove("BIGIN_REFRESH_TOKEN")
            .env_remove("BIGIN_ACCOUNT")
            .output()
            .unwrap()
    };
    let out = run(&["doctor", "--demo", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let checks = v["checks"].as_array().unwrap();
    assert!(checks.len() >= 10);
    for c in checks {
        for k in ["id", "assumption", "result", "seen"] {
            assert!(c[k].is_string(), "{c}");
        }
    }
    assert!(v["credits_used"].as_u64().unwrap() <= 12);
    let out = run(&["doctor", "--demo"]);
    assert_eq!(out.status.code(), Some(0));
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.starts_with("| check | assumption | result | seen |"),
        "{md}"
    );
    // Not logged in: exit 3 with the way to log in, nothing probed.
    let out = run(&["doctor"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("bigin-mcp login"));
}
