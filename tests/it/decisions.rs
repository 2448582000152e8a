//! `bigin_apply_review_decisions` over rmcp's client and the sandbox: the
//! plan sends nothing, only execute=true with the plan's token changes
//! users (each through the write guard, audited with the review snapshot),
//! an altered or stale token is refused with nothing sent, and a row that
//! no longer matches is reported by id while the others go ahead.

use bigin_mcp::mcp::{ServerOptions, SnapshotStore, ToolFilter};
use bigin_mcp::zoho::{UserStatus, ZohoId};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService};
use serde_json::{Value, json};

use crate::common::*;

const TOOL: &str = "bigin_apply_review_decisions";

type Client = RunningService<RoleClient, ()>;

/// A server with `filter` and a snapshot store in `dir`, connected in-process.
async fn server(sb: &bigin_mcp::sandbox::Sandbox, dir: &std::path::Path, f: ToolFilter) -> Client {
    let (c, _) = client(sb);
    let end = serve_in_process(
        c,
        ServerOptions {
            snapshots: Some(SnapshotStore::new(dir.join("reviews"))),
            ..options(f, dir.join("audit.log"))
        },
    );
    ().serve(end).await.unwrap()
}

async fn call(c: &Client, tool: &str, args: Value) -> CallToolResult {
    let p = CallToolRequestParams::new(tool.to_string())
        .with_arguments(args.as_object().unwrap().clone());
    c.call_tool(p).await.unwrap()
}

async fn ok(c: &Client, args: Value) -> Value {
    let r = call(c, TOOL, args).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    r.structured_content.unwrap()
}

async fn refused(c: &Client, args: Value) -> String {
    let r = call(c, TOOL, args).await;
    assert_eq!(r.is_error, Some(true), "should be refused: {}", text(&r));
    text(&r)
}

fn decision(u: &Value, d: &str) -> Value {
    json!({"user_id": u["id"], "email": u["email"], "decision": d})
}

fn change_of<'a>(r: &'a Value, u: &Value) -> &'a Value {
    r["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["user_id"] == u["id"])
        .unwrap_or_else(|| panic!("a change for {}: {r}", u["id"]))
}

#[tokio::test]
async fn decisions_are_planned_then_executed_only_with_the_plans_token() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let c = server(&sb, dir.path(), all_tools()).await;
    let r = call(&c, "bigin_access_review", json!({})).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));

    let users = all_users(&sb).await;
    let plain: Vec<&Value> = users
        .iter()
        .filter(|u| u["status"] == "active" && u["profile"]["name"] == "Standard")
        .take(5)
        .collect();
    let (a, b, cc, moved, kept) = (plain[0], plain[1], plain[2], plain[3], plain[4]);
    let primary = users
        .iter()
        .find(|u| u["id"] == sb.primary_user_id().as_str())
        .unwrap();
    // `moved`'s email changed after the review: the row no longer matches.
    let mut stale = decision(moved, "deactivate");
    stale["email"] = json!("someone.else@example.com");
    let decisions = json!([
        decision(a, "deactivate"),
        decision(b, "profile:Read Only"),
        decision(cc, "deactivate"),
        stale,
        decision(kept, "keep"),
        decision(primary, "deactivate"),
    ]);

    sb.clear_requests();
    let plan = ok(&c, json!({"decisions": decisions})).await;
    assert!(writes(&sb.requests()).is_empty(), "a plan sends nothing");
    assert_eq!(plan["executed"], false);
    assert_eq!(
        change_of(&plan, a)["change"],
        "status active → inactive",
        "{plan}"
    );
    assert_eq!(change_of(&plan, a)["outcome"], "planned");
    assert_eq!(
        change_of(&plan, b)["change"],
        "profile Standard → Read Only"
    );
    assert_eq!(plan["changes"].as_array().unwrap().len(), 4, "{plan}");
    let skipped = plan["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{plan}");
    assert_eq!(skipped[0]["user_id"], moved["id"]);
    assert!(
        skipped[0]["why"]
            .as_str()
            .unwrap()
            .contains("no longer matches"),
        "{plan}"
    );
    assert!(
        plan["source"]
            .as_str()
            .unwrap()
            .starts_with("review snapshot "),
        "{plan}"
    );
    let token = plan["token"].as_str().unwrap().to_string();

    // No token, another token, other decisions: refused, nothing sent.
    let e = refused(&c, json!({"decisions": decisions, "execute": true})).await;
    assert!(e.contains("token"), "{e}");
    let e = refused(
        &c,
        json!({"decisions": decisions, "execute": true, "token": "plan-0123456789abcdef0123456789abcdef"}),
    )
    .await;
    assert!(e.contains("does not match"), "{e}");
    let mut altered = decisions.clone();
    altered[1]["decision"] = json!("deactivate");
    let e = refused(
        &c,
        json!({"decisions": altered, "execute": true, "token": token}),
    )
    .await;
    assert!(
        e.contains("does not match") && e.contains("Nothing was sent"),
        "{e}"
    );
    let fewer = json!([decisions[0].clone()]);
    let e = refused(
        &c,
        json!({"decisions": fewer, "execute": true, "token": token}),
    )
    .await;
    assert!(e.contains("does not match"), "{e}");
    assert!(writes(&sb.requests()).is_empty(), "refusals send nothing");

    // cc is deactivated by someone else: the token is stale.
    let (cl, _) = client(&sb);
    cl.set_user_status(
        &ZohoId::parse(cc["id"].as_str().unwrap(), "id").unwrap(),
        UserStatus::Inactive,
    )
    .await
    .unwrap();
    sb.clear_requests();
    let e = refused(
        &c,
        json!({"decisions": decisions, "execute": true, "token": token}),
    )
    .await;
    assert!(e.contains("does not match"), "{e}");
    assert!(
        writes(&sb.requests()).is_empty(),
        "a stale token sends nothing"
    );

    // The new plan, executed with its token.
    let plan = ok(&c, json!({"decisions": decisions})).await;
    let token = plan["token"].as_str().unwrap().to_string();
    assert_eq!(plan["skipped"].as_array().unwrap().len(), 2, "{plan}");
    let done = ok(
        &c,
        json!({"decisions": decisions, "execute": true, "token": token}),
    )
    .await;
    assert_eq!(done["executed"], true);
    assert!(done.get("token").is_none(), "{done}");
    assert_eq!(change_of(&done, a)["outcome"], "success", "{done}");
    assert_eq!(change_of(&done, b)["outcome"], "success", "{done}");
    assert_eq!(change_of(&done, primary)["outcome"], "refused", "{done}");
    let skipped: Vec<&Value> = done["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["user_id"])
        .collect();
    assert!(
        skipped.contains(&&moved["id"]) && skipped.contains(&&cc["id"]),
        "{done}"
    );

    let now = all_users(&sb).await;
    let find = |u: &Value| now.iter().find(|x| x["id"] == u["id"]).unwrap().clone();
    assert_eq!(find(a)["status"], "inactive");
    assert_eq!(find(b)["profile"]["name"], "Read Only");
    assert_eq!(find(primary)["status"], "active");
    assert_eq!(find(moved)["status"], "active");
    assert_eq!(find(kept)["status"], "active");

    let log = std::fs::read_to_string(dir.path().join("audit.log")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &Value| v["tool"] == TOOL)
        .collect();
    assert_eq!(lines.len(), 3, "one line per change tried: {log}");
    assert!(
        lines
            .iter()
            .all(|v| v["detail"].as_str().unwrap().contains("review snapshot ")),
        "{log}"
    );
    let outcomes: Vec<&str> = lines
        .iter()
        .map(|v| v["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "success").count(),
        2,
        "{log}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| **o == "refused").count(),
        1,
        "{log}"
    );
    // The tool's lines join the guard's in one intact hash chain.
    let v = bigin_mcp::admin::audit::verify(&dir.path().join("audit.log")).unwrap();
    assert_eq!(v.broken, None, "{log}");
    assert_eq!(v.lines, log.lines().count());

    // The same token again: the plan has changed (the changes are made).
    sb.clear_requests();
    let e = refused(
        &c,
        json!({"decisions": decisions, "execute": true, "token": token}),
    )
    .await;
    assert!(e.contains("does not match"), "{e}");
    assert!(writes(&sb.requests()).is_empty());
}

#[tokio::test]
async fn delete_needs_allow_delete_and_bad_decisions_send_nothing() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let c = server(&sb, dir.path(), filter()).await;
    let users = all_users(&sb).await;
    let u = users
        .iter()
        .find(|u| u["status"] == "active" && u["profile"]["name"] == "Standard")
        .unwrap();
    sb.clear_requests();
    let e = refused(&c, json!({"decisions": [decision(u, "delete")]})).await;
    assert!(e.contains("--allow-delete"), "{e}");
    let e = refused(&c, json!({"decisions": [decision(u, "promote")]})).await;
    assert!(
        e.contains("keep, deactivate, delete or profile:<name>"),
        "{e}"
    );
    let e = refused(&c, json!({"decisions": []})).await;
    assert!(e.contains("decisions is empty"), "{e}");
    assert!(sb.requests().is_empty(), "nothing reached Zoho");

    // With --allow-delete the same decision is planned.
    let c = server(&sb, dir.path(), all_tools()).await;
    let plan = ok(&c, json!({"decisions": [decision(u, "delete")]})).await;
    assert_eq!(
        plan["changes"][0]["change"], "status active → deleted (irreversible)",
        "{plan}"
    );
    assert!(writes(&sb.requests()).is_empty());
}
