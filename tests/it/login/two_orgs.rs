//! Two organisations side by side (issue 14 item 7): one client config
//! with two `--account` entries, each logged in (file store) against its
//! own sandbox and served by its own `serve` process. Each keeps its own
//! tokens, session cache, snapshots and audit log, and every result names
//! its organisation.

use rmcp::model::ReadResourceRequestParams;
use rmcp::service::RunningService;

use super::*;
use crate::common::{all_users, s};
use serde_json::json;

async fn call(c: &RunningService<RoleClient, ()>, tool: &str, args: Value) -> Value {
    call_with_text(c, tool, args).await.0
}

async fn call_with_text(
    c: &RunningService<RoleClient, ()>,
    tool: &str,
    args: Value,
) -> (Value, String) {
    let p = CallToolRequestParams::new(tool.to_string())
        .with_arguments(args.as_object().unwrap().clone());
    let r = c.call_tool(p).await.expect("tools/call answered");
    assert_ne!(r.is_error, Some(true), "{tool}: {}", text(&r));
    let t = text(&r);
    (r.structured_content.expect("structured content"), t)
}

/// The second organisation's name.
const OTHER_ORG: &str = "Fabrikam Ltd";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_accounts_served_side_by_side_keep_everything_apart() {
    let home = Home::new();
    let big = eu_sandbox().await;
    let small = Sandbox::start(sandbox::SandboxOptions {
        location: "eu".into(),
        users: 40,
        company: Some(OTHER_ORG.into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let (a, b) = (account("org-a"), account("org-b"));
    for (acct, sb) in [(&a, &big), (&b, &small)] {
        let out = insecure_login(&home, sb, acct, &bigin_mcp::mcp::login_scopes(false)).await;
        assert_eq!(out.code, Some(0), "{out}");
    }
    let creds: Value = serde_json::from_str(
        &std::fs::read_to_string(home.dir.path().join("config/bigin-mcp/credentials.json"))
            .unwrap(),
    )
    .unwrap();
    let refresh = |acct: &str| creds[SecretKind::RefreshToken.key(acct)].clone();
    assert!(
        refresh(&a).is_string() && refresh(&b).is_string(),
        "{creds}"
    );

    // Two processes, as a client config with two entries starts them.
    let mut clients = Vec::new();
    // They share the default audit log, as such a config does.
    let log = home.dir.path().join("data/bigin-mcp/audit.log");
    for acct in [&a, &b] {
        let (transport, _stderr) =
            TokioChildProcess::builder(home.cmd_without_keychain(&["serve", "--account", acct]))
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn bigin-mcp serve");
        let c: RunningService<RoleClient, ()> =
            ().serve(transport).await.expect("initialize over stdio");
        clients.push(c);
    }
    big.clear_requests();
    small.clear_requests();

    // Each reviews its own organisation, named in the result, and stores
    // the snapshot under its own account.
    let (ra, rb) = tokio::join!(
        call(&clients[0], "bigin_access_review", json!({})),
        call(&clients[1], "bigin_access_review", json!({}))
    );
    let reviews_dir = home.dir.path().join("data/bigin-mcp/reviews");
    for (r, acct, sb, org) in [(&ra, &a, &big, ORG_NAME), (&rb, &b, &small, OTHER_ORG)] {
        assert_eq!(r["evidence"]["organization_name"], org, "{r}");
        let snap = r["snapshot"].as_str().expect("a stored snapshot");
        assert!(
            std::path::Path::new(snap).starts_with(reviews_dir.join(acct)),
            "{acct}: {snap}"
        );
        let stored: Value = serde_json::from_slice(&std::fs::read(snap).unwrap()).unwrap();
        assert_eq!(
            stored["users"].as_array().unwrap().len(),
            all_users(sb).await.len(),
            "{acct} stored its own organisation's users"
        );
    }
    // Each process's Zoho calls went to its own sandbox, with a token that
    // sandbox issued (a token of the other would not be valid there).
    for sb in [&big, &small] {
        let api: Vec<_> = sb
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with("/bigin"))
            .collect();
        assert!(!api.is_empty());
        assert!(api.iter().all(|r| r.authorized), "{api:?}");
    }

    // The latest-review resource of each is its own snapshot.
    for (c, r) in clients.iter().zip([&ra, &rb]) {
        let got = c
            .read_resource(ReadResourceRequestParams::new(
                bigin_mcp::mcp::resources::LATEST,
            ))
            .await
            .unwrap();
        let rmcp::model::ResourceContents::TextResourceContents { text, .. } = &got.contents[0]
        else {
            panic!("text contents")
        };
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["evidence"]["generated_at"], r["evidence"]["generated_at"]);
    }

    // A dry run in each is attributed to its account in the shared log.
    for (i, (sb, acct)) in [(&big, &a), (&small, &b)].into_iter().enumerate() {
        let primary = sb.primary_user_id();
        let u = all_users(sb)
            .await
            .into_iter()
            .filter(|u| u["status"] == "active" && s(u, "id") != primary)
            .nth(i)
            .unwrap();
        call(
            &clients[i],
            "bigin_set_user_status",
            json!({"user_id": u["id"], "status": "inactive", "confirm_email": u["email"], "dry_run": true}),
        )
        .await;
        let lines: Vec<Value> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), i + 1, "{lines:?}");
        assert_eq!(lines[i]["user_id"], u["id"]);
        assert_eq!(&lines[i]["account"], acct.as_str(), "{lines:?}");
    }

    // Every other result names its organisation too, in the structured
    // content and in the text.
    for (c, sb, org) in [
        (&clients[0], &big, ORG_NAME),
        (&clients[1], &small, OTHER_ORG),
    ] {
        let id = all_users(sb).await[0]["id"].clone();
        for (tool, args) in [
            ("bigin_list_users", json!({"limit": 5})),
            ("bigin_get_user", json!({"user_id": id})),
            ("bigin_list_roles", json!({})),
            ("bigin_list_profiles", json!({})),
        ] {
            let (v, t) = call_with_text(c, tool, args).await;
            assert_eq!(v["organization"]["name"], org, "{tool}: {v}");
            assert!(v["organization"]["id"].is_string(), "{tool}: {v}");
            // A table says it in a line; a JSON text is the structured content.
            if tool == "bigin_list_users" {
                assert!(t.contains(&format!("Organisation: {org} (")), "{t}");
            } else {
                assert_eq!(serde_json::from_str::<Value>(&t).unwrap(), v, "{tool}");
            }
        }
    }
    for c in clients {
        c.cancel().await.unwrap();
    }
}
