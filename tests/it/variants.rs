//! Every plausible Zoho the sandbox plays ([`VariantName::ALL`], plus the
//! two profile answers combined) against the access review and the four
//! user writes, through the MCP tools, each asserting the outcome
//! documented for that variant (issue 13 item 8):
//!
//! - a write is reported done only when the user read back shows it
//!   (`verified: true`); with role/profile ids taken only as objects, the
//!   update still ends verified through the object-form retry;
//! - without the single-profile endpoint the review uses the list, or
//!   reports the profiles it could not judge and their holders;
//! - a refusal inside HTTP 200 or 400 is the same tool error, naming
//!   Zoho's code and message;
//! - a 429 (wait in the header or the body) is retried, then succeeds;
//! - Zoho's token throttle fails every call with the advice to wait and
//!   sends nothing.

use bigin_mcp::sandbox::{
    Fault, FaultKind, References, Refusals, Sandbox, VariantName, ZohoVariant,
};
use serde_json::{Value, json};

use crate::common::*;

/// A variant under test: its name for messages and what it plays.
struct Case {
    name: String,
    variant: ZohoVariant,
}

fn cases() -> Vec<Case> {
    let mut all: Vec<Case> = VariantName::ALL
        .iter()
        .map(|n| Case {
            name: n.to_string(),
            variant: n.variant(),
        })
        .collect();
    all.push(Case {
        name: "no-single-profile+list-permissions".into(),
        variant: VariantName::NoSingleProfile.apply(VariantName::ListPermissions.variant()),
    });
    all
}

async fn sandbox_playing(v: ZohoVariant) -> Sandbox {
    Sandbox::start(bigin_mcp::sandbox::SandboxOptions {
        variant: v,
        ..Default::default()
    })
    .await
    .expect("sandbox starts on 127.0.0.1")
}

/// Active users other than the primary one, with an email, by sandbox order.
async fn targets(sb: &Sandbox) -> Vec<Value> {
    let primary = sb.primary_user_id();
    all_users(sb)
        .await
        .into_iter()
        .filter(|u| u["status"] == "active" && s(u, "id") != primary && !s(u, "email").is_empty())
        .filter(|u| u["profile"]["name"] != "Administrator")
        .collect()
}

/// The ids of the active Administrator holders, sorted.
async fn administrators(sb: &Sandbox) -> Vec<String> {
    let mut ids: Vec<String> = all_users(sb)
        .await
        .iter()
        .filter(|u| u["status"] == "active" && u["profile"]["name"] == "Administrator")
        .map(|u| s(u, "id"))
        .collect();
    ids.sort();
    ids
}

fn puts(sb: &Sandbox) -> usize {
    writes(&sb.requests())
        .iter()
        .filter(|r| r.method == "PUT")
        .count()
}

#[tokio::test]
async fn the_review_and_every_write_hold_against_every_variant() {
    for case in cases() {
        if case.variant.token_throttle.is_some() {
            throttled(&case).await;
        } else {
            served(&case).await;
        }
    }
}

async fn served(case: &Case) {
    let (name, v) = (case.name.as_str(), case.variant);
    let sb = sandbox_playing(v).await;
    let h = harness(&sb, filter()).await;

    // A 429, its wait wherever the variant puts it, is retried.
    sb.inject(
        Fault::new(FaultKind::RateLimited {
            retry_after_secs: Some(1),
        })
        .on_path("/org"),
    );
    h.ok("bigin_get_organization", json!({})).await;
    let org_calls = api_requests(&sb.requests())
        .iter()
        .filter(|r| r.path == "/bigin/v2/org")
        .count();
    assert_eq!(org_calls, 2, "{name}: one 429, one retry");

    // The review.
    let r = h.ok("bigin_access_review", json!({"fresh": true})).await;
    let mut admins: Vec<String> = r["admins"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[0].as_str().unwrap().to_string())
        .collect();
    admins.sort();
    let builtin = administrators(&sb).await;
    for id in &builtin {
        assert!(
            admins.contains(id),
            "{name}: the built-in Administrator's holder {id}"
        );
    }
    let unjudged = r["evidence"]["unjudged_profiles"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let unknown: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "permissions_unknown")
        .collect();
    let credits = r["evidence"]["credits_used"].as_u64().unwrap();
    if v.single_profile || v.list_permissions {
        assert!(
            unjudged.is_empty() && unknown.is_empty(),
            "{name}: {unjudged:?} {unknown:?}"
        );
        // The list is read only when the single-profile endpoint is absent.
        assert_eq!(credits, if v.single_profile { 10 } else { 11 }, "{name}");
    } else {
        // Nothing can be read: every held profile but the Administrator
        // is not judged, and its active holders are a high finding.
        let held: Vec<String> = r["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["name"] != "Administrator" && p["users"]["total"].as_u64() > Some(0))
            .map(|p| s(p, "name"))
            .collect();
        assert_eq!(unjudged.len(), held.len(), "{name}: {unjudged:?}");
        for p in &held {
            assert!(
                unjudged
                    .iter()
                    .any(|u| u.as_str().unwrap().contains(&format!("'{p}'"))),
                "{name}: {p} in {unjudged:?}"
            );
            let f = unknown
                .iter()
                .find(|f| s(f, "message").contains(&format!("'{p}'")))
                .unwrap_or_else(|| panic!("{name}: no finding for {p}"));
            assert_eq!(f["severity"], "high", "{name}");
            assert!(
                s(f, "message").contains("could be administrator-level"),
                "{name}"
            );
        }
        assert_eq!(credits, 11, "{name}");
        assert_eq!(
            admins, builtin,
            "{name}: only the Administrator is judged admin"
        );
    }

    let t = targets(&sb).await;
    // Deactivate.
    let before = puts(&sb);
    let d = h
        .ok(
            "bigin_set_user_status",
            json!({"user_id": t[0]["id"], "status": "inactive", "confirm_email": t[0]["email"]}),
        )
        .await;
    assert_eq!(d["verified"], true, "{name}: {d}");
    assert!(s(&d, "message").contains("Verified"), "{name}: {d}");
    assert_eq!(
        sb.user(&s(&t[0], "id")).unwrap()["status"],
        "inactive",
        "{name}"
    );
    assert_eq!(puts(&sb) - before, 1, "{name}");

    // Update: the object-only Zoho ignores the string form, and the retry
    // in the object form makes it take.
    let to = if t[1]["profile"]["name"] == "Read Only" {
        "Standard"
    } else {
        "Read Only"
    };
    let before = puts(&sb);
    let u = h
        .ok(
            "bigin_update_user",
            json!({"user_id": t[1]["id"], "profile": to, "confirm_email": t[1]["email"]}),
        )
        .await;
    assert_eq!(u["verified"], true, "{name}: {u}");
    assert_eq!(
        sb.user(&s(&t[1], "id")).unwrap()["profile"]["name"],
        to,
        "{name}"
    );
    let objects_only = v.references == References::ObjectsOnly;
    assert_eq!(
        puts(&sb) - before,
        if objects_only { 2 } else { 1 },
        "{name}"
    );
    assert_eq!(
        s(&u, "message").contains("resent as"),
        objects_only,
        "{name}: {u}"
    );
    // The session remembers the form that worked: one PUT from now on.
    let before = puts(&sb);
    let u = h
        .ok(
            "bigin_update_user",
            json!({"user_id": t[2]["id"], "role": "Support Agent", "confirm_email": t[2]["email"]}),
        )
        .await;
    assert_eq!(u["verified"], true, "{name}: {u}");
    assert_eq!(puts(&sb) - before, 1, "{name}: {u}");

    // Invite.
    let i = h
        .ok(
            "bigin_invite_user",
            json!({"first_name": "Grace", "last_name": "Hopper", "email": "grace.hopper@northwind.example", "role": "Support Agent", "profile": "Support"}),
        )
        .await;
    assert_eq!(i["verified"], true, "{name}: {i}");
    let created = sb.user(&s(&i["user"], "id")).expect("the new user exists");
    assert_eq!(created["profile"]["name"], "Support", "{name}");

    // A refusal where the variant puts it reads as Zoho's code and message.
    let status = if v.refusals == Refusals::In400 {
        400
    } else {
        200
    };
    let body = json!({"users": [{"code": "LICENSE_LIMIT_EXCEEDED", "details": {}, "message": "the license limit is reached", "status": "error"}]});
    sb.inject(
        Fault::new(FaultKind::Answer {
            status,
            body: body.to_string(),
        })
        .on_method("PUT"),
    );
    let e = h
        .err(
            "bigin_set_user_status",
            json!({"user_id": t[3]["id"], "status": "inactive", "confirm_email": t[3]["email"]}),
        )
        .await;
    assert!(
        e.contains("LICENSE_LIMIT_EXCEEDED") && e.contains("the license limit is reached"),
        "{name}: {e}"
    );
    assert_eq!(
        sb.user(&s(&t[3], "id")).unwrap()["status"],
        "active",
        "{name}"
    );
    let outcomes: Vec<String> = h.audit_lines().iter().map(|l| s(l, "outcome")).collect();
    assert_eq!(outcomes.last().map(String::as_str), Some("error"), "{name}");
    assert!(
        !outcomes.iter().any(|o| o == "unverified"),
        "{name}: {outcomes:?}"
    );
}

/// Every call fails with the advice to wait, and nothing is sent.
async fn throttled(case: &Case) {
    let name = case.name.as_str();
    // The targets are read before the throttle starts.
    let sb = sandbox_playing(ZohoVariant::default()).await;
    let t = targets(&sb).await;
    sb.set_variant(case.variant);
    sb.clear_requests();
    let h = harness(&sb, filter()).await;
    let calls = [
        ("bigin_access_review", json!({"fresh": true})),
        (
            "bigin_set_user_status",
            json!({"user_id": t[0]["id"], "status": "inactive", "confirm_email": t[0]["email"]}),
        ),
        (
            "bigin_update_user",
            json!({"user_id": t[1]["id"], "profile": "Read Only", "confirm_email": t[1]["email"]}),
        ),
        (
            "bigin_invite_user",
            json!({"first_name": "Grace", "last_name": "Hopper", "email": "grace.hopper@northwind.example", "role": "Support Agent", "profile": "Support"}),
        ),
    ];
    for (tool, args) in calls {
        let e = h.err(tool, args).await;
        assert!(e.contains("about 10 minutes"), "{name} {tool}: {e}");
        assert!(!e.contains("run `bigin-mcp login`"), "{name} {tool}: {e}");
    }
    assert!(writes(&sb.requests()).is_empty(), "{name}");
}
