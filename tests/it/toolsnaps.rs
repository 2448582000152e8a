//! Tool schema snapshots: every tool's listed definition (name, description,
//! annotations, input and output schema, as `tools/list` sends them) is
//! checked in under `tests/snapshots/tools/`, so a schema change shows as a
//! reviewed diff. After an intended change, regenerate them with
//! `UPDATE_SNAPSHOTS=1 cargo test --test it toolsnaps` and review the diff.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::common::*;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/tools")
}

#[tokio::test]
async fn tools_list_matches_the_checked_in_snapshots() {
    let sb = sandbox().await;
    let h = harness(&sb, all_tools()).await;
    let listed = h.client.list_tools(None).await.unwrap();
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut stale = Vec::new();
    let mut names = BTreeSet::new();
    for t in &listed.tools {
        let path = dir().join(format!("{}.json", t.name));
        names.insert(format!("{}.json", t.name));
        let now = serde_json::to_string_pretty(t).unwrap() + "\n";
        if update {
            std::fs::create_dir_all(dir()).unwrap();
            std::fs::write(&path, &now).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(before) if before == now => {}
            Ok(_) => stale.push(format!("{} changed", t.name)),
            Err(_) => stale.push(format!("{} has no snapshot", t.name)),
        }
    }
    // A snapshot of a tool that no longer exists is stale too.
    for entry in std::fs::read_dir(dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".json") && !names.contains(&name) {
            if update {
                std::fs::remove_file(dir().join(&name)).unwrap();
            } else {
                stale.push(format!("{name} is for a tool that is gone"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "tool schemas differ from tests/snapshots/tools ({}); if intended, run UPDATE_SNAPSHOTS=1 cargo test --test it toolsnaps and review the diff",
        stale.join("; ")
    );
}

#[tokio::test]
async fn routed_tools_and_the_catalogue_are_the_same_set() {
    let sb = sandbox().await;
    let h = harness(&sb, all_tools()).await;
    let listed: BTreeSet<String> = h
        .client
        .list_all_tools()
        .await
        .unwrap()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    let catalogue: BTreeSet<String> = bigin_mcp::mcp::catalogue()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(listed, catalogue);
    // And what the catalogue says agrees with each tool's own annotations.
    for t in h.client.list_all_tools().await.unwrap() {
        let info = bigin_mcp::mcp::tool_info(&t.name).unwrap();
        let ann = t.annotations.as_ref().unwrap();
        assert_eq!(ann.read_only_hint, Some(info.read_only), "{}", t.name);
        assert_eq!(
            info.method.is_read(),
            info.read_only,
            "{}: method vs hint",
            t.name
        );
    }
}
