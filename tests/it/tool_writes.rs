//! The write tools in-process: confirmations, dry runs, deactivate,
//! reactivate and delete, the primary user, Zoho's refusals, rate limits and
//! outages as advice, expiry, the tools/list budget and the audit gate.

use bigin_mcp::sandbox::{Fault, FaultKind};
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::common::*;

pub(crate) fn deactivatable(all: &[Value], primary: &str) -> Value {
    all.iter()
        .find(|u| u["status"] == "active" && s(u, "id") != primary)
        .unwrap()
        .clone()
}

#[tokio::test]
async fn writes_refuse_a_wrong_confirmation_and_send_nothing() {
    let sb = sandbox().await;
    let h = harness(&sb, all_tools()).await;
    let u = deactivatable(&all_users(&sb).await, &sb.primary_user_id());
    sb.clear_requests();
    let e = h.err("bigin_set_user_status", json!({"user_id": u["id"], "status": "inactive", "confirm_email": "someone.else@example.com"})).await;
    assert!(
        e.contains("does not match") && e.contains("nothing was changed"),
        "{e}"
    );
    let e = h
        .err(
            "bigin_delete_user",
            json!({"user_id": u["id"], "confirm_email": "someone.else@example.com"}),
        )
        .await;
    assert!(e.contains("does not match"), "{e}");
    assert!(writes(&sb.requests()).is_empty());
    assert_eq!(s(&sb.user(&s(&u, "id")).unwrap(), "status"), "active");
    let audit = h.audit_lines();
    assert_eq!(audit.len(), 2);
    assert!(
        audit
            .iter()
            .all(|l| l["outcome"] == "refused" && l["user_id"] == u["id"])
    );
    assert_eq!(audit[1]["tool"], "bigin_delete_user");
    // A malformed id is refused before any request at all.
    sb.clear_requests();
    let e = h
        .err(
            "bigin_set_user_status",
            json!({"user_id": "12x", "status": "inactive", "confirm_email": "a@b.c"}),
        )
        .await;
    assert!(e.contains("user_id"), "{e}");
    assert!(sb.requests().is_empty());
    assert_eq!(h.audit_lines().len(), 3);
}

#[tokio::test]
async fn dry_runs_report_and_send_no_write() {
    let sb = sandbox().await;
    let h = harness(&sb, all_tools()).await;
    let u = deactivatable(&all_users(&sb).await, &sb.primary_user_id());
    sb.clear_requests();
    let r = h.ok("bigin_set_user_status", json!({"user_id": u["id"], "status": "inactive", "confirm_email": s(&u, "email").to_uppercase(), "dry_run": true})).await;
    assert_eq!(
        (
            r["dry_run"].clone(),
            r["outcome"].clone(),
            r["action"].clone()
        ),
        (json!(true), json!("dry_run"), json!("deactivate"))
    );
    let r = h
        .ok(
            "bigin_delete_user",
            json!({"user_id": u["id"], "confirm_email": u["email"], "dry_run": true}),
        )
        .await;
    assert_eq!(r["outcome"], "dry_run");
    assert!(writes(&sb.requests()).is_empty());
    assert_eq!(s(&sb.user(&s(&u, "id")).unwrap(), "status"), "active");
    let audit = h.audit_lines();
    assert_eq!(
        audit.iter().filter(|l| l["outcome"] == "dry_run").count(),
        2
    );
}

#[tokio::test]
async fn deactivate_reactivate_and_delete_change_zoho_and_are_audited() {
    let sb = sandbox().await;
    let h = harness(&sb, all_tools()).await;
    let u = deactivatable(&all_users(&sb).await, &sb.primary_user_id());
    let id = s(&u, "id");
    let r = h
        .ok(
            "bigin_set_user_status",
            json!({"user_id": id, "status": "inactive", "confirm_email": u["email"]}),
        )
        .await;
    assert_eq!(r["outcome"], "success");
    assert_eq!(r["user"]["status"], "inactive");
    assert_eq!(s(&sb.user(&id).unwrap(), "status"), "inactive");
    let put = sb
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(put.path, format!("/bigin/v2/users/{id}"));
    let body: Value = serde_json::from_str(&put.body).unwrap();
    assert_eq!(body["users"][0]["status"], "inactive");
    assert_eq!(body["users"][0]["id"], id, "ids travel as strings");
    // Doing it again is refused as a no-op, without a write.
    let before = writes(&sb.requests()).len();
    let e = h
        .err(
            "bigin_set_user_status",
            json!({"user_id": id, "status": "inactive", "confirm_email": u["email"]}),
        )
        .await;
    assert!(e.contains("already inactive"), "{e}");
    assert_eq!(writes(&sb.requests()).len(), before);
    h.ok(
        "bigin_set_user_status",
        json!({"user_id": id, "status": "active", "confirm_email": u["email"]}),
    )
    .await;
    assert_eq!(s(&sb.user(&id).unwrap(), "status"), "active");
    let r = h
        .ok(
            "bigin_delete_user",
            json!({"user_id": id, "confirm_email": u["email"]}),
        )
        .await;
    assert_eq!(r["user"]["status"], "deleted");
    assert_eq!(s(&sb.user(&id).unwrap(), "status"), "deleted");
    let outcomes: Vec<String> = h
        .audit_lines()
        .iter()
        .map(|l| format!("{}:{}", s(l, "action"), s(l, "outcome")))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            "deactivate:pending",
            "deactivate:success",
            "deactivate:refused",
            "activate:pending",
            "activate:success",
            "delete:pending",
            "delete:success"
        ]
    );
    let text = std::fs::read_to_string(&h.audit_path).unwrap();
    assert!(
        !text.contains("Zoho-oauthtoken") && !text.contains(bigin_mcp::sandbox::DEMO_REFRESH_TOKEN)
    );
}

#[tokio::test]
async fn the_primary_user_is_never_written() {
    let sb = sandbox().await;
    let h = harness(&sb, all_tools()).await;
    let id = sb.primary_user_id();
    let email = s(&sb.user(&id).unwrap(), "email");
    sb.clear_requests();
    let e = h
        .err(
            "bigin_set_user_status",
            json!({"user_id": id, "status": "inactive", "confirm_email": email}),
        )
        .await;
    assert!(e.contains("primary user"), "{e}");
    let e = h
        .err(
            "bigin_delete_user",
            json!({"user_id": id, "confirm_email": email, "dry_run": true}),
        )
        .await;
    assert!(e.contains("primary user"), "{e}");
    assert!(writes(&sb.requests()).is_empty());
}

#[tokio::test]
async fn zoho_refusals_inside_http_200_become_tool_errors() {
    let sb = sandbox().await;
    let h = harness(&sb, all_tools()).await;
    let u = deactivatable(&all_users(&sb).await, &sb.primary_user_id());
    sb.inject(Fault::new(FaultKind::RecordError {
        code: "NOT_ALLOWED".into(),
        message: "Updating this user is not allowed".into(),
    }));
    let e = h
        .err(
            "bigin_set_user_status",
            json!({"user_id": u["id"], "status": "inactive", "confirm_email": u["email"]}),
        )
        .await;
    assert!(
        e.contains("NOT_ALLOWED") && e.contains("Nothing was changed"),
        "{e}"
    );
    assert_eq!(s(&sb.user(&s(&u, "id")).unwrap(), "status"), "active");
    assert_eq!(h.audit_lines().last().unwrap()["outcome"], "error");
}

#[tokio::test]
async fn rate_limits_and_outages_reach_the_agent_as_advice() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    h.ok("bigin_get_organization", json!({})).await;
    sb.inject(
        Fault::new(FaultKind::RateLimited {
            retry_after_secs: Some(90),
        })
        .times(5),
    );
    let e = h.err("bigin_get_organization", json!({})).await;
    assert!(
        e.contains("TOO_MANY_REQUESTS") && e.contains("Retry after 90 s"),
        "{e}"
    );
    sb.clear_faults();
    sb.inject(Fault::new(FaultKind::ServerError { status: 500 }).times(10));
    let e = h.err("bigin_list_roles", json!({})).await;
    assert!(e.contains("retry"), "{e}");
}

#[tokio::test]
async fn an_expired_server_refuses_every_call_without_calling_zoho() {
    let sb = sandbox().await;
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    let h = harness_with(&sb, filter(), Some(past)).await;
    assert_eq!(
        h.client.list_all_tools().await.unwrap().len(),
        11,
        "it still lists its tools"
    );
    for tool in [
        "bigin_list_users",
        "bigin_get_organization",
        "bigin_access_review",
    ] {
        let e = h.err(tool, json!({})).await;
        assert!(e.contains("access expired"), "{e}");
    }
    assert!(sb.requests().is_empty());
    let future = chrono::Utc::now() + chrono::Duration::hours(1);
    let h = harness_with(&sb, filter(), Some(future)).await;
    h.ok("bigin_get_organization", json!({})).await;
}

#[tokio::test]
async fn tools_list_stays_small_enough_for_every_turn() {
    let sb = sandbox().await;
    let h = harness(&sb, all_tools()).await;
    let listed = h.client.list_tools(None).await.unwrap();
    let bytes = serde_json::to_string(&listed).unwrap().len();
    // Every tool, delete included: the default budget plus room for the
    // opt-in tools.
    assert!(
        bytes <= 12 * 1024,
        "tools/list with every tool is {bytes} bytes"
    );
    let default = harness(&sb, filter()).await;
    let d = serde_json::to_string(&default.client.list_tools(None).await.unwrap())
        .unwrap()
        .len();
    // The brief's budget: Claude Code loads tools on demand, so clear names,
    // descriptions and annotations come before bytes, up to 10 KiB.
    assert!(d <= 10 * 1024, "the default tools/list is {d} bytes");
    // Compaction must not lose what callers need: enums and descriptions.
    let users = listed
        .tools
        .iter()
        .find(|t| t.name == "bigin_list_users")
        .unwrap();
    let props = &users.input_schema["properties"];
    assert_eq!(
        props["status"]["enum"],
        json!(["active", "inactive", "deleted"])
    );
    assert!(
        props["type"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("NotConfirmedUsers"))
    );
    assert!(props["profile"]["description"].is_string());
    // Output schemas describe the real shape, items typed.
    let out = users.output_schema.as_ref().unwrap();
    assert_eq!(out["properties"]["rows"]["type"], "array");
    assert_eq!(out["properties"]["rows"]["items"]["type"], "array");
    assert_eq!(out["properties"]["users"]["items"]["type"], "object");
    let review = listed
        .tools
        .iter()
        .find(|t| t.name == "bigin_access_review")
        .unwrap();
    let out = review.output_schema.as_ref().unwrap();
    assert_eq!(out["properties"]["findings"]["items"]["type"], "object");
    assert!(out["properties"]["evidence"]["properties"]["generated_at"].is_object());
}

#[tokio::test]
async fn a_write_that_cannot_be_audited_is_not_made() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let (c, _) = client(&sb);
    // A directory where the audit file should be: every append fails.
    let client_end = serve_in_process(c, options(all_tools(), dir.path().to_path_buf()));
    let client = rmcp::ServiceExt::serve((), client_end).await.unwrap();
    let u = deactivatable(&all_users(&sb).await, &sb.primary_user_id());
    sb.clear_requests();
    let r = client
        .call_tool(
            CallToolRequestParams::new("bigin_set_user_status").with_arguments(
                json!({"user_id": u["id"], "status": "inactive", "confirm_email": u["email"]})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("audit"), "{}", text(&r));
    assert!(
        writes(&sb.requests()).is_empty(),
        "no PUT without an audit record"
    );
    assert_eq!(s(&sb.user(&s(&u, "id")).unwrap(), "status"), "active");
}
