//! Review evidence as MCP resources (issue 14 item 5): the stored
//! snapshots and the audit log are listed once there is something to read,
//! read back as the JSON on disk with its evidence header, and the
//! `snapshot` argument of the template completes to the stored names.

use bigin_mcp::mcp::SnapshotStore;
use bigin_mcp::mcp::resources::{AUDIT, LATEST, TEMPLATE};
use rmcp::RoleClient;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ReadResourceRequestParams, ResourceContents};
use rmcp::service::RunningService;
use serde_json::{Value, json};

use crate::common::*;

async fn call(
    c: &RunningService<RoleClient, ()>,
    tool: &str,
    args: Value,
) -> rmcp::model::CallToolResult {
    let p = CallToolRequestParams::new(tool.to_string())
        .with_arguments(args.as_object().unwrap().clone());
    let r = c.call_tool(p).await.unwrap();
    assert_ne!(r.is_error, Some(true), "{tool}: {}", text(&r));
    r
}

async fn uris(c: &RunningService<RoleClient, ()>) -> Vec<String> {
    c.list_all_resources()
        .await
        .expect("resources/list")
        .into_iter()
        .map(|r| r.uri.clone())
        .collect()
}

async fn read(c: &RunningService<RoleClient, ()>, uri: &str) -> Value {
    let r = c
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .unwrap_or_else(|e| panic!("{uri}: {e}"));
    assert_eq!(r.contents.len(), 1);
    match &r.contents[0] {
        ResourceContents::TextResourceContents {
            text,
            mime_type,
            uri: u,
            ..
        } => {
            assert_eq!(u, uri);
            assert_eq!(mime_type.as_deref(), Some("application/json"));
            serde_json::from_str(text).expect("JSON")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn reviews_and_the_audit_log_are_resources_once_there_is_one() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let (c, _) = client(&sb);
    let end = serve_in_process(
        c,
        bigin_mcp::mcp::ServerOptions {
            snapshots: Some(SnapshotStore::new(dir.path().join("reviews"))),
            ..options(all_tools(), dir.path().join("audit.log"))
        },
    );
    let c = ().serve(end).await.unwrap();
    let caps = c.peer_info().unwrap().capabilities.clone();
    assert!(
        caps.resources.is_some() && caps.completions.is_some(),
        "{caps:?}"
    );

    // Nothing stored, nothing audited: nothing listed, nothing to read.
    assert!(uris(&c).await.is_empty());
    let templates = c.list_all_resource_templates().await.unwrap();
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].uri_template, TEMPLATE);
    assert!(
        c.read_resource(ReadResourceRequestParams::new(LATEST))
            .await
            .is_err()
    );

    // A review stores a snapshot; its result names the path and the URI.
    let first = call(&c, "bigin_access_review", json!({})).await;
    let path = first.structured_content.as_ref().unwrap()["snapshot"]
        .as_str()
        .expect("a stored snapshot")
        .to_string();
    let name = std::path::Path::new(&path)
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let uri = format!("bigin://reviews/{name}");
    let said = text(&first);
    assert!(said.contains(&path) && said.contains(&uri), "{said}");
    // The line adds little to a text near its 8 KiB budget (review.rs).
    let json_len = first.content[0].as_text().unwrap().text.len();
    assert!(
        said.len() - json_len <= 80,
        "{} B added",
        said.len() - json_len
    );

    let listed = uris(&c).await;
    assert_eq!(listed, vec![LATEST.to_string(), uri.clone()]);

    // Reading returns the snapshot as stored: its evidence header, its bytes.
    let latest = read(&c, LATEST).await;
    assert_eq!(
        latest["evidence"]["organization_id"],
        first.structured_content.as_ref().unwrap()["evidence"]["organization_id"]
    );
    assert!(latest["users"].as_array().is_some_and(|u| !u.is_empty()));
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(read(&c, &uri).await, on_disk);
    assert_eq!(latest, on_disk);

    // A second review: latest moves, both complete, newest first.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let second = call(&c, "bigin_access_review", json!({"fresh": true})).await;
    let path2 = second.structured_content.as_ref().unwrap()["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(path, path2);
    let name2 = std::path::Path::new(&path2)
        .file_stem()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let done = c
        .complete_resource_simple(TEMPLATE, "snapshot", "")
        .await
        .unwrap();
    assert_eq!(done, vec![name2.clone(), name.clone()]);
    let done = c
        .complete_resource_simple(TEMPLATE, "snapshot", &name)
        .await
        .unwrap();
    assert_eq!(done, vec![name.clone()]);
    assert!(
        c.complete_resource_simple(TEMPLATE, "other", "")
            .await
            .unwrap()
            .is_empty()
    );
    let latest = read(&c, LATEST).await;
    let on_disk2: Value = serde_json::from_slice(&std::fs::read(&path2).unwrap()).unwrap();
    assert_eq!(latest, on_disk2);

    // A name that is not a snapshot's never leaves the folder.
    for bad in [
        "../audit",
        "review-x/../../audit",
        "nothing",
        "review-19990101T000000.000Z",
    ] {
        let r = c
            .read_resource(ReadResourceRequestParams::new(format!(
                "bigin://reviews/{bad}"
            )))
            .await;
        assert!(r.is_err(), "{bad}: {r:?}");
    }

    // The audit log is listed once written, and reads as its last lines.
    assert!(!uris(&c).await.contains(&AUDIT.to_string()));
    let u = all_users(&sb)
        .await
        .into_iter()
        .find(|u| s(u, "id") != sb.primary_user_id() && s(u, "status") == "active")
        .expect("another active user");
    call(
        &c,
        "bigin_set_user_status",
        json!({"user_id": u["id"], "status": "inactive", "confirm_email": u["email"], "dry_run": true}),
    )
    .await;
    assert!(uris(&c).await.contains(&AUDIT.to_string()));
    let audit = read(&c, AUDIT).await;
    let lines = audit["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{audit}");
    assert_eq!(lines[0]["outcome"], "dry_run");
    assert_eq!(lines[0]["user_id"], u["id"]);
}

#[tokio::test]
async fn the_audit_resource_gives_the_last_fifty_lines_and_refuses_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let body: String = (0..60).map(|i| format!("{}\n", json!({"n": i}))).collect();
    std::fs::write(&log, body).unwrap();
    let got = bigin_mcp::admin::audit::recent(&log, 50).unwrap();
    assert_eq!(got.len(), 50);
    assert_eq!(got[0]["n"], 10);
    assert_eq!(got[49]["n"], 59);
    assert!(
        bigin_mcp::admin::audit::recent(&dir.path().join("none"), 50)
            .unwrap()
            .is_empty()
    );
    #[cfg(unix)]
    {
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        assert!(bigin_mcp::admin::audit::recent(&fifo, 50).is_err());
    }
}
