//! The access review as audit evidence: the session cache's credit costs,
//! snapshots and `since`, the evidence header, prompts, and instructions
//! that name only the exposed tools.

use bigin_mcp::mcp::{ServerOptions, SnapshotStore, ToolFilter};
use bigin_mcp::sandbox::Sandbox;
use rmcp::ServiceExt;
use rmcp::model::GetPromptRequestParams;
use serde_json::{Value, json};

use crate::common::*;

fn api_count(sb: &Sandbox) -> usize {
    api_requests(&sb.requests()).len()
}

#[tokio::test]
async fn a_second_review_within_the_ttl_costs_nothing_and_a_write_costs_only_user_pages() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    sb.clear_requests();
    let first = h.ok("bigin_access_review", json!({})).await;
    let n1 = api_count(&sb);
    // 3 user pages + roles + the org + the permissions of the 5 profiles
    // users hold besides the built-in Administrator = 10.
    assert!(n1 <= 10, "first review: {n1} requests");
    assert_eq!(
        first["evidence"]["credits_used"].as_u64().unwrap() as usize,
        n1
    );
    assert_eq!(first["evidence"]["from_cache"], false);

    sb.clear_requests();
    let second = h.ok("bigin_access_review", json!({})).await;
    assert_eq!(
        api_count(&sb),
        0,
        "the second review is served from the cache"
    );
    assert_eq!(second["evidence"]["credits_used"], 0);
    assert_eq!(second["evidence"]["from_cache"], true);
    // Paging through users reads the cached list too.
    for offset in [0, 200, 400] {
        h.ok("bigin_list_users", json!({"offset": offset})).await;
    }
    assert_eq!(api_count(&sb), 0, "paging with offset re-reads nothing");

    // A write by this server drops the user list, and only that.
    let u = writable_user(&sb).await;
    h.ok(
        "bigin_set_user_status",
        json!({"user_id": u["id"], "status": "inactive", "confirm_email": u["email"]}),
    )
    .await;
    sb.clear_requests();
    let third = h.ok("bigin_access_review", json!({})).await;
    let reqs = api_requests(&sb.requests())
        .iter()
        .map(|r| r.path.clone())
        .collect::<Vec<_>>();
    assert!(
        !reqs.is_empty() && reqs.iter().all(|p| p == "/bigin/v2/users"),
        "after a write only the user pages: {reqs:?}"
    );
    assert_eq!(
        third["users"]["inactive"].as_u64().unwrap(),
        first["users"]["inactive"].as_u64().unwrap() + 1
    );
    // fresh bypasses the cache.
    sb.clear_requests();
    h.ok("bigin_access_review", json!({"fresh": true})).await;
    assert!(api_count(&sb) >= 5);
}

/// A server with a snapshot store in `dir`, connected in-process.
async fn with_snapshots(
    sb: &Sandbox,
    dir: &std::path::Path,
) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    let (c, _) = client(sb);
    let end = serve_in_process(
        c,
        ServerOptions {
            snapshots: Some(SnapshotStore::new(dir.join("reviews"))),
            ..options(all_tools(), dir.join("audit.log"))
        },
    );
    ().serve(end).await.unwrap()
}

async fn call_ok(
    c: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    tool: &str,
    args: Value,
) -> Value {
    let p = rmcp::model::CallToolRequestParams::new(tool.to_string())
        .with_arguments(args.as_object().unwrap().clone());
    let r = c.call_tool(p).await.unwrap();
    assert_ne!(r.is_error, Some(true), "{tool}: {}", text(&r));
    r.structured_content.unwrap()
}

#[tokio::test]
async fn reviews_are_stored_privately_and_since_names_what_changed() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let c = with_snapshots(&sb, dir.path()).await;
    let first = call_ok(&c, "bigin_access_review", json!({"since": "last"})).await;
    assert!(
        first.get("changes").is_none(),
        "nothing to compare with yet"
    );
    assert!(
        first["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "no_baseline")
    );
    let path = std::path::PathBuf::from(first["snapshot"].as_str().unwrap());
    assert!(path.starts_with(dir.path().join("reviews/4876543000000020001")));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // Between the two reviews: one deactivation, one profile change.
    let users = all_users(&sb).await;
    let primary = sb.primary_user_id();
    let mut active = users.iter().filter(|u| {
        u["status"] == "active" && s(u, "id") != primary && u["profile"]["name"] != "Administrator"
    });
    let a = active.next().unwrap().clone();
    let b = active.next().unwrap().clone();
    call_ok(
        &c,
        "bigin_set_user_status",
        json!({"user_id": a["id"], "status": "inactive", "confirm_email": a["email"]}),
    )
    .await;
    let promoted = call_ok(
        &c,
        "bigin_update_user",
        json!({"user_id": b["id"], "profile": "administrator", "confirm_email": b["email"]}),
    )
    .await;
    assert_eq!(promoted["user"]["profile"]["name"], "Administrator");
    let second = call_ok(&c, "bigin_access_review", json!({"since": "last"})).await;
    let ch = &second["changes"];
    assert_eq!(ch["since"], first["evidence"]["generated_at"]);
    assert_eq!(ch["status"][0]["id"], a["id"]);
    assert_eq!(ch["status"][0]["to"], "inactive");
    assert_eq!(ch["profile"][0]["id"], b["id"]);
    assert_eq!(ch["profile"][0]["to"], "Administrator");
    assert_eq!(ch["gained_admin"][0]["id"], b["id"]);
    // A date before any review has no baseline; a bad one is refused.
    let old = call_ok(&c, "bigin_access_review", json!({"since": "2020-01-01"})).await;
    assert!(old.get("changes").is_none());
    let p = rmcp::model::CallToolRequestParams::new("bigin_access_review")
        .with_arguments(json!({"since": "yesterday"}).as_object().unwrap().clone());
    let r = c.call_tool(p).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("since"), "{}", text(&r));
}

#[tokio::test]
async fn the_review_fits_in_8_kb_in_each_channel() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    let r = h.call("bigin_access_review", json!({})).await;
    let structured = r.structured_content.clone().unwrap().to_string();
    let t = text(&r);
    assert!(
        structured.len() <= 8 * 1024,
        "structured {} B",
        structured.len()
    );
    assert!(t.len() <= 8 * 1024, "text {} B", t.len());
}

#[tokio::test]
async fn prompts_are_listed_and_filled_in() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    let prompts = h.client.list_all_prompts().await.unwrap();
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["access_review", "offboard_user"]);
    let mut req = GetPromptRequestParams::new("offboard_user");
    req.arguments = Some(
        json!({"user": "ada@northwind.example"})
            .as_object()
            .unwrap()
            .clone(),
    );
    let got = h.client.get_prompt(req).await.unwrap();
    let body = serde_json::to_string(&got.messages).unwrap();
    for needle in [
        "ada@northwind.example",
        "bigin_get_user",
        "dry_run",
        "bigin_set_user_status",
        "audit",
    ] {
        assert!(body.contains(needle), "{needle} in {body}");
    }
    assert!(
        !body.contains("bigin_delete_user with"),
        "offboarding deactivates"
    );
    let mut req = GetPromptRequestParams::new("access_review");
    req.arguments = Some(json!({"since": "last"}).as_object().unwrap().clone());
    let got = h.client.get_prompt(req).await.unwrap();
    assert!(
        serde_json::to_string(&got.messages)
            .unwrap()
            .contains("since=\\\"last\\\"")
    );
    assert!(
        h.client
            .get_prompt(GetPromptRequestParams::new("offboard_user"))
            .await
            .is_err(),
        "user is required"
    );
    assert!(
        h.client
            .get_prompt(GetPromptRequestParams::new("nope"))
            .await
            .is_err()
    );
    assert!(sb.requests().is_empty(), "prompts send nothing to Zoho");
}

#[tokio::test]
async fn a_read_only_server_offers_only_the_prompts_it_can_follow() {
    let sb = sandbox().await;
    let h = harness(
        &sb,
        ToolFilter {
            read_only: true,
            ..Default::default()
        },
    )
    .await;
    let prompts = h.client.list_all_prompts().await.unwrap();
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["access_review"]);
    let mut req = GetPromptRequestParams::new("offboard_user");
    req.arguments = Some(json!({"user": "ada"}).as_object().unwrap().clone());
    let e = h.client.get_prompt(req).await.unwrap_err().to_string();
    assert!(e.contains("not offered"), "{e}");
}

/// Every `bigin_*` name in `text`.
fn tools_named(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("bigin_"))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn prompt_texts_name_only_exposed_tools_and_lower_before_deactivating() {
    let sb = sandbox().await;
    let only = |tools: &[&str]| ToolFilter {
        tools: tools.iter().map(|t| t.to_string()).collect(),
        allow_delete: true,
        ..Default::default()
    };
    let mut offered = Vec::new();
    for f in [
        all_tools(),
        filter(),
        ToolFilter {
            exclude_tools: vec!["bigin_update_user".into(), "bigin_access_review".into()],
            ..all_tools()
        },
        only(&["bigin_access_review"]),
        only(&["bigin_list_users"]),
    ] {
        let set: Vec<String> = f.select().unwrap().into_iter().map(String::from).collect();
        let h = harness(&sb, f).await;
        let prompts = h.client.list_all_prompts().await.unwrap();
        offered.push(prompts.len());
        for p in prompts {
            let mut req = GetPromptRequestParams::new(p.name.clone());
            req.arguments = Some(
                json!({"user": "Ann Lee", "since": "last"})
                    .as_object()
                    .unwrap()
                    .clone(),
            );
            let r = h.client.get_prompt(req).await.unwrap();
            let text = format!("{:?}", r.messages);
            for t in tools_named(&text) {
                assert!(set.contains(&t), "{} names {t} under {set:?}", p.name);
            }
            if p.name == "offboard_user" {
                let lower = text.find("bigin_update_user");
                let deactivate = text.find("status inactive").unwrap();
                if set.iter().any(|t| t == "bigin_update_user") {
                    assert!(lower.unwrap() < deactivate, "{text}");
                }
                assert!(text.contains("compliance record"));
                if set.iter().any(|t| t == "bigin_access_review") {
                    assert!(text.contains("organization_id and generated_at"));
                }
            }
        }
    }
    // Both prompts with every tool, none when no prompt's tools are there.
    assert_eq!(offered, [2, 2, 1, 1, 0]);
    assert!(sb.requests().is_empty(), "prompts send nothing to Zoho");
}

#[tokio::test]
async fn instructions_name_only_the_exposed_tools() {
    let sb = sandbox().await;
    let ro = harness(
        &sb,
        ToolFilter {
            read_only: true,
            ..Default::default()
        },
    )
    .await;
    let i = ro.client.peer_info().unwrap().instructions.clone().unwrap();
    assert!(i.contains("bigin_access_review"), "{i}");
    for w in [
        "bigin_set_user_status",
        "bigin_delete_user",
        "bigin_update_user",
        "bigin_invite_user",
        "bigin_apply_review_decisions",
        "confirm_email",
    ] {
        assert!(!i.contains(w), "{w} in {i}");
    }
    let all = harness(&sb, all_tools()).await;
    let i = all
        .client
        .peer_info()
        .unwrap()
        .instructions
        .clone()
        .unwrap();
    for w in [
        "bigin_set_user_status",
        "bigin_delete_user",
        "bigin_update_user",
        "bigin_invite_user",
        "bigin_apply_review_decisions",
    ] {
        assert!(i.contains(w), "{w} missing from {i}");
    }
    let default = harness(&sb, filter()).await;
    let i = default
        .client
        .peer_info()
        .unwrap()
        .instructions
        .clone()
        .unwrap();
    assert!(!i.contains("bigin_delete_user"), "{i}");
}
