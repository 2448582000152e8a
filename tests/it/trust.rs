//! Trust under faults and concurrency: no Zoho answer is read as "none"
//! unless Zoho said so, no write is sent twice, every fault ends in a clear
//! tool error while the server keeps serving, and no name can forge a row.

use std::time::Duration;

use bigin_mcp::sandbox::{Fault, FaultKind, Sandbox};
use bigin_mcp::zoho::ClientOptions;
use serde_json::{Value, json};

use crate::common::*;

fn answer(status: u16, body: &str) -> FaultKind {
    FaultKind::Answer {
        status,
        body: body.to_string(),
    }
}

const INTERNAL_ERROR: &str = r#"{"code":"INTERNAL_ERROR","details":{},"message":"Internal Server Error occurred while processing this request","status":"error"}"#;
const NO_PERMISSION: &str = r#"{"code":"NO_PERMISSION","details":{"permissions":["Crm_Implied_Manage_Users"]},"message":"permission denied","status":"error"}"#;

#[tokio::test]
async fn zoho_errors_and_empty_shapes_in_http_200_are_never_no_users() {
    let bodies = [
        ("INTERNAL_ERROR", INTERNAL_ERROR),
        ("NO_PERMISSION", NO_PERMISSION),
        ("{}", "{}"),
        ("users null", r#"{"users":null}"#),
        ("empty list without info", r#"{"users":[]}"#),
        ("users not a list", r#"{"users":{"id":"1"}}"#),
    ];
    for (label, body) in bodies {
        let sb = sandbox().await;
        let h = harness(&sb, filter()).await;
        for tool in ["bigin_list_users", "bigin_access_review"] {
            sb.inject(
                Fault::new(answer(200, body))
                    .on_path("/bigin/v2/users")
                    .on_method("GET"),
            );
            let r = h.call(tool, json!({})).await;
            let t = text(&r);
            assert_eq!(r.is_error, Some(true), "{label} / {tool} must fail: {t}");
            assert!(!t.contains("0 users"), "{label} / {tool}: {t}");
            if let Some(code) = ["INTERNAL_ERROR", "NO_PERMISSION"]
                .into_iter()
                .find(|c| body.contains(c))
            {
                assert!(t.contains(code), "{label} / {tool} names Zoho's code: {t}");
            }
            sb.clear_faults();
        }
        // The server keeps serving the real list afterwards.
        let ok = h.ok("bigin_list_users", json!({"limit": 1})).await;
        assert!(ok["total"].as_u64().unwrap() > 400, "{label}");
    }
}

#[tokio::test]
async fn none_is_reported_only_when_zoho_says_so() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    // A 204 and an empty list with its info are Zoho's "no users".
    for (status, body) in [
        (204, ""),
        (
            200,
            r#"{"users":[],"info":{"per_page":200,"count":0,"page":1,"more_records":false}}"#,
        ),
    ] {
        sb.inject(Fault::new(answer(status, body)).on_path("/bigin/v2/users"));
        let r = h.ok("bigin_list_users", json!({"fresh": true})).await;
        assert_eq!(r["total"], 0, "{status} {body}");
        assert_eq!(r["rows"], json!([]));
    }
    // Single records: an error or an empty list is not "no such user".
    let u = writable_user(&sb).await;
    let id = s(&u, "id");
    for body in [INTERNAL_ERROR, "{}", r#"{"users":[]}"#, r#"{"users":null}"#] {
        sb.inject(Fault::new(answer(200, body)).on_path(&format!("/users/{id}")));
        let e = h.err("bigin_get_user", json!({"user_id": id})).await;
        assert!(!e.contains("no user has id"), "{body}: {e}");
    }
    // Roles, profiles, profile detail and the org are checked the same way.
    for (tool, path, args) in [
        ("bigin_list_roles", "/settings/roles", json!({})),
        ("bigin_list_profiles", "/settings/profiles", json!({})),
        ("bigin_get_organization", "/org", json!({})),
    ] {
        for body in [
            INTERNAL_ERROR,
            "{}",
            r#"{"roles":null,"profiles":null,"org":null}"#,
        ] {
            sb.inject(Fault::new(answer(200, body)).on_path(path));
            let e = h.err(tool, args.clone()).await;
            assert!(!e.is_empty(), "{tool} {body}");
        }
    }
    let profiles = h.ok("bigin_list_profiles", json!({})).await;
    // Not the Administrator: its permissions are never needed (admin by name).
    let pid = profiles["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Sales Admin")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    sb.inject(Fault::new(answer(200, r#"{"profiles":[]}"#)).on_path(&format!("/profiles/{pid}")));
    let e = h.err("bigin_get_profile", json!({"profile_id": pid})).await;
    assert!(!e.contains("no profile has id"), "{e}");
    // An access review whose roles or profiles come back as an error fails
    // as a whole instead of reporting a clean organisation.
    for path in ["/settings/roles", "/settings/profiles"] {
        sb.inject(
            Fault::new(answer(200, INTERNAL_ERROR))
                .on_path(path)
                .times(10),
        );
        let e = h.err("bigin_access_review", json!({"fresh": true})).await;
        assert!(e.contains("INTERNAL_ERROR"), "{path}: {e}");
        sb.clear_faults();
    }
    // So does one whose profile permissions cannot be read: its holders
    // could be administrators.
    for body in [INTERNAL_ERROR, ""] {
        let status = if body.is_empty() { 204 } else { 200 };
        sb.inject(
            Fault::new(answer(status, body))
                .on_path(&format!("/settings/profiles/{pid}"))
                .times(10),
        );
        let e = h.err("bigin_access_review", json!({"fresh": true})).await;
        assert!(e.contains(&pid) && e.contains("administrators"), "{e}");
        sb.clear_faults();
    }
    let ok = h.ok("bigin_access_review", json!({"fresh": true})).await;
    assert!(ok["users"]["total"].as_u64().unwrap() > 400);
}

#[tokio::test]
async fn two_concurrent_writes_to_one_user_send_one_change() {
    for (tool, extra, method) in [
        (
            "bigin_set_user_status",
            json!({"status": "inactive"}),
            "PUT",
        ),
        ("bigin_delete_user", json!({}), "DELETE"),
    ] {
        let sb = sandbox().await;
        let h = harness(&sb, all_tools()).await;
        let u = writable_user(&sb).await;
        let id = s(&u, "id");
        // Slow reads of the user, so both calls are verified at once unless
        // the server serialises them.
        sb.inject(
            Fault::new(FaultKind::Delay { ms: 150 })
                .on_path(&format!("/users/{id}"))
                .times(4),
        );
        let mut args = json!({"user_id": id, "confirm_email": u["email"]});
        args.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (a, b) = tokio::join!(h.call(tool, args.clone()), h.call(tool, args.clone()));
        let writes: Vec<_> = sb
            .requests()
            .into_iter()
            .filter(|r| r.method == method)
            .collect();
        assert_eq!(writes.len(), 1, "{tool}: one {method}, not two");
        let errors = [&a, &b].iter().filter(|r| r.is_error == Some(true)).count();
        assert_eq!(errors, 1, "{tool}: one succeeds, one is refused");
        let refused = if a.is_error == Some(true) { &a } else { &b };
        assert!(text(refused).contains("already"), "{}", text(refused));
        let audit = h.audit_lines();
        let outcomes: Vec<&str> = audit
            .iter()
            .map(|l| l["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(
            outcomes.iter().filter(|o| **o == "success").count(),
            1,
            "{outcomes:?}"
        );
        assert_eq!(outcomes.len(), 3, "pending, success, refused: {outcomes:?}");
    }
}

#[tokio::test]
async fn a_refused_call_records_what_the_caller_gave() {
    let sb = sandbox().await;
    let h = harness(&sb, all_tools()).await;
    let u = writable_user(&sb).await;
    let given = "someone.else@example.com";
    h.err(
        "bigin_set_user_status",
        json!({"user_id": s(&u, "id"), "status": "inactive", "confirm_email": given}),
    )
    .await;
    let line = h.audit_lines().pop().unwrap();
    assert_eq!(line["outcome"], "refused");
    assert_eq!(line["given_email"], given);
    assert_eq!(line["email"], u["email"], "the email on record, apart");
    // A huge confirmation is cut in the log, not written whole.
    let huge = format!("{}@x.com", "a".repeat(1_000_000));
    h.err(
        "bigin_set_user_status",
        json!({"user_id": s(&u, "id"), "status": "inactive", "confirm_email": huge}),
    )
    .await;
    let raw = std::fs::read_to_string(&h.audit_path).unwrap();
    let last = raw.lines().last().unwrap();
    assert!(last.len() < 4_000, "{} bytes", last.len());
    assert!(last.contains("[cut "), "{last}");
}

#[tokio::test]
async fn no_name_from_zoho_can_forge_a_table_row() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    let breakers = [
        "\r", "\u{b}", "\u{c}", "\u{85}", "\u{2028}", "\u{2029}", "\n", "\u{0}",
    ];
    let users: Vec<Value> = breakers
        .iter()
        .enumerate()
        .map(|(i, b)| {
            json!({
                "id": format!("10000000000000000{i:02}"),
                "full_name": format!("Eve{b}1 | Fake Admin | evil@x.com | active | CEO | Administrator"),
                "first_name": "Eve", "last_name": format!("X{b}"),
                "email": format!("eve{i}{b}@x.com"),
                "status": format!("active{b}"), "confirm": true,
                "role": {"name": format!("CEO{b}"), "id": "1"},
                "profile": {"name": format!("Standard{b}|"), "id": "2"},
            })
        })
        .collect();
    let page = json!({"users": users, "info": {"per_page": 200, "count": users.len(), "page": 1, "more_records": false}});
    sb.inject(Fault::new(answer(200, &page.to_string())).on_path("/bigin/v2/users"));
    let r = h.call("bigin_list_users", json!({})).await;
    let t = text(&r);
    // Split the way any reader might: every line-break character counts.
    let lines: Vec<&str> = t
        .split([
            '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{2028}', '\u{2029}',
        ])
        .filter(|l| !l.is_empty())
        .collect();
    let rows = lines.iter().filter(|l| l.contains(" | ")).count();
    // The column header plus one row per user, nothing more.
    assert_eq!(rows, 1 + breakers.len(), "{t}");
    assert!(
        !t.chars().any(|c| c.is_control() && c != '\n'),
        "no raw control character: {t:?}"
    );
}

/// The client options of the fault matrix: short timeouts and waits, so
/// every fault ends within seconds, and a small body cap. The timeout is
/// well above a healthy request's time on a loaded 2-core machine (300 ms
/// was not), and well below the "slow" fault's delay.
fn matrix_options() -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_millis(1_000),
        max_rate_limit_wait: Duration::from_millis(300),
        read_retries: 1,
        backoff_base: Duration::from_millis(5),
        max_body_bytes: 64 * 1024,
        ..Default::default()
    }
}

/// Every fault the sandbox injects, on every API or token request.
fn faults() -> Vec<(&'static str, Fault)> {
    let big = format!(r#"{{"users":[{}]}}"#, "\"x\",".repeat(40_000) + "\"x\"");
    let all = |k: FaultKind| Fault::new(k).times(10_000);
    vec![
        (
            "rate_limited",
            all(FaultKind::RateLimited {
                retry_after_secs: None,
            })
            .on_path("/bigin"),
        ),
        (
            "server_error",
            all(FaultKind::ServerError { status: 500 }).on_path("/bigin"),
        ),
        (
            "bad_gateway",
            all(FaultKind::ServerError { status: 502 }).on_path("/bigin"),
        ),
        (
            "slow",
            all(FaultKind::Delay { ms: 3_000 }).on_path("/bigin"),
        ),
        ("dropped", all(FaultKind::DropConnection).on_path("/bigin")),
        (
            "error_in_200",
            all(answer(200, INTERNAL_ERROR)).on_path("/bigin"),
        ),
        (
            "no_permission_in_200",
            all(answer(200, NO_PERMISSION)).on_path("/bigin"),
        ),
        (
            "forbidden",
            all(answer(403, NO_PERMISSION)).on_path("/bigin"),
        ),
        ("empty_object", all(answer(200, "{}")).on_path("/bigin")),
        (
            "null_lists",
            all(answer(
                200,
                r#"{"users":null,"roles":null,"profiles":null,"org":null}"#,
            ))
            .on_path("/bigin"),
        ),
        (
            "not_json",
            all(answer(200, "<html>oops</html>")).on_path("/bigin"),
        ),
        ("oversized", all(answer(200, &big)).on_path("/bigin")),
        (
            "token_refused",
            all(FaultKind::TokenError {
                error: "invalid_code".into(),
            }),
        ),
    ]
}

/// Each tool with arguments that succeed against a healthy sandbox.
async fn tool_calls(sb: &Sandbox) -> Vec<(&'static str, Value)> {
    let u = writable_user(sb).await;
    let profile = {
        let (c, _) = client(sb);
        json!(c.list_profiles().await.unwrap()[0].id.clone())
    };
    vec![
        ("bigin_list_users", json!({"limit": 5})),
        ("bigin_get_user", json!({"user_id": u["id"]})),
        ("bigin_list_roles", json!({})),
        ("bigin_list_profiles", json!({"include_permissions": true})),
        ("bigin_get_profile", json!({"profile_id": profile})),
        ("bigin_get_organization", json!({})),
        ("bigin_access_review", json!({})),
        (
            "bigin_set_user_status",
            json!({"user_id": u["id"], "status": "inactive", "confirm_email": u["email"]}),
        ),
        (
            "bigin_delete_user",
            json!({"user_id": u["id"], "confirm_email": u["email"]}),
        ),
        (
            "bigin_update_user",
            json!({"user_id": u["id"], "profile": "Read Only", "confirm_email": u["email"]}),
        ),
        (
            "bigin_invite_user",
            json!({"first_name": "Ann", "last_name": "New", "email": "new.person@northwind.example", "role": "CEO", "profile": "Standard"}),
        ),
    ]
}

async fn one_cell(name: &'static str, fault: Fault, tool: &'static str, args: Value) {
    let sb = sandbox().await;
    let h = harness_full(&sb, all_tools(), None, matrix_options()).await;
    sb.inject(fault);
    let r = tokio::time::timeout(Duration::from_secs(15), h.call(tool, args))
        .await
        .unwrap_or_else(|_| panic!("{name} × {tool}: no answer within 15 s"));
    let t = text(&r);
    assert_eq!(r.is_error, Some(true), "{name} × {tool} must fail: {t}");
    assert!(
        t.len() > 20,
        "{name} × {tool}: a message that says what: {t}"
    );
    assert!(
        writes(&sb.requests()).len() <= 1,
        "{name} × {tool}: a write sent twice"
    );
    // The server keeps serving once Zoho is healthy again.
    sb.clear_faults();
    let ok = tokio::time::timeout(
        Duration::from_secs(15),
        h.call("bigin_get_organization", json!({})),
    )
    .await
    .unwrap_or_else(|_| panic!("{name} × {tool}: the server stopped serving"));
    assert_ne!(ok.is_error, Some(true), "{name} × {tool}: {}", text(&ok));
}

#[tokio::test]
async fn fault_matrix_every_fault_times_every_tool_ends_in_a_clear_error() {
    let calls = tool_calls(&sandbox().await).await;
    // Ids and emails are the same in every sandbox: the org is seeded.
    let mut cells = Vec::new();
    for (name, fault) in faults() {
        for (tool, args) in &calls {
            cells.push(one_cell(name, fault.clone(), tool, args.clone()));
        }
    }
    assert_eq!(cells.len(), 13 * 11);
    // A dozen cells at a time: each has its own sandbox and server.
    futures::stream::iter(cells)
        .buffer_unordered(12)
        .collect::<Vec<()>>()
        .await;
}

use futures::StreamExt;

#[tokio::test]
async fn faults_on_the_write_itself_never_send_it_twice() {
    let write_faults = [
        ("server_error", FaultKind::ServerError { status: 500 }),
        ("dropped", FaultKind::DropConnection),
        ("slow", FaultKind::Delay { ms: 1_000 }),
        (
            "rate_limited",
            FaultKind::RateLimited {
                retry_after_secs: None,
            },
        ),
        (
            "record_error",
            FaultKind::RecordError {
                code: "NOT_ALLOWED".into(),
                message: "not allowed".into(),
            },
        ),
        ("error_in_200", answer(200, INTERNAL_ERROR)),
        ("empty_object", answer(200, "{}")),
    ];
    for (name, kind) in write_faults {
        for (tool, method) in [
            ("bigin_set_user_status", "PUT"),
            ("bigin_delete_user", "DELETE"),
        ] {
            let sb = sandbox().await;
            let h = harness_full(&sb, all_tools(), None, matrix_options()).await;
            let u = writable_user(&sb).await;
            let mut args = json!({"user_id": u["id"], "confirm_email": u["email"]});
            if tool == "bigin_set_user_status" {
                args["status"] = json!("inactive");
            }
            sb.inject(Fault::new(kind.clone()).on_method(method).times(10_000));
            let r = h.call(tool, args).await;
            assert_eq!(r.is_error, Some(true), "{name} × {tool}: {}", text(&r));
            let sent = sb.requests().iter().filter(|r| r.method == method).count();
            // A 429 is answered before Zoho acts, so it may be retried; every
            // other fault leaves the outcome unknown or refused: one send.
            if name == "rate_limited" {
                assert!(sent >= 1, "{name} × {tool}");
            } else {
                assert_eq!(sent, 1, "{name} × {tool}: sent {sent} times");
            }
            let outcomes: Vec<String> = h
                .audit_lines()
                .iter()
                .map(|l| l["outcome"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(outcomes, ["pending", "error"], "{name} × {tool}");
        }
    }
}
