//! The built binary over real stdio: rmcp's client for the protocol, raw
//! pipes for what a client library would hide (malformed input, exit codes,
//! every byte on stdout).

use std::process::Stdio;
use std::time::Duration;

use bigin_mcp::sandbox::{self, Sandbox};
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use crate::common::*;

/// How many tools `f` exposes, by the library's own filter rules (which
/// `tests/it/catalog.rs` pins by name): the binary's flags must agree.
pub(crate) fn exposed(f: bigin_mcp::mcp::ToolFilter) -> usize {
    f.select().expect("a valid filter").len()
}

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_bigin-mcp");

/// The binary with a scrubbed environment: a temp HOME (so nothing touches
/// the real data directory) and, optionally, sandbox credentials.
pub(crate) fn command(home: &std::path::Path, sb: Option<&Sandbox>, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("BIGIN_LOG", "debug")
        .args(args);
    if let Some(sb) = sb {
        c.env("BIGIN_CLIENT_ID", sandbox::DEMO_CLIENT_ID)
            .env("BIGIN_CLIENT_SECRET", sandbox::DEMO_CLIENT_SECRET)
            .env("BIGIN_REFRESH_TOKEN", sandbox::DEMO_REFRESH_TOKEN)
            .env("BIGIN_ACCOUNTS_URL", sb.base_url());
    }
    c
}

pub(crate) async fn connect(cmd: Command) -> RunningService<RoleClient, ()> {
    let (transport, _stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn bigin-mcp");
    ().serve(transport).await.expect("initialize over stdio")
}

pub(crate) async fn call(
    c: &RunningService<RoleClient, ()>,
    tool: &str,
    args: Value,
) -> rmcp::model::CallToolResult {
    let p = CallToolRequestParams::new(tool.to_string())
        .with_arguments(args.as_object().unwrap().clone());
    c.call_tool(p).await.expect("tools/call answered")
}

#[tokio::test]
async fn every_tool_works_over_stdio() {
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    let c = connect(command(
        home.path(),
        Some(&sb),
        &["serve", "--allow-delete"],
    ))
    .await;
    assert_eq!(
        c.peer_info().unwrap().server_info.as_ref().unwrap().name,
        "bigin-mcp"
    );
    let tools = c.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), exposed(all_tools()));
    let users = call(
        &c,
        "bigin_list_users",
        json!({"status": "active", "limit": 5}),
    )
    .await;
    let listed = concise_users(&users.structured_content.unwrap());
    let first = listed
        .into_iter()
        .find(|u| u["id"] != sb.primary_user_id().as_str())
        .unwrap();
    let id = first["id"].as_str().unwrap().to_string();
    let profiles = call(&c, "bigin_list_profiles", json!({}))
        .await
        .structured_content
        .unwrap();
    let profile_id = profiles["profiles"][0]["id"].clone();
    let calls = [
        ("bigin_get_user", json!({"user_id": id})),
        ("bigin_list_roles", json!({})),
        ("bigin_get_profile", json!({"profile_id": profile_id})),
        ("bigin_get_organization", json!({})),
        ("bigin_access_review", json!({})),
        (
            "bigin_set_user_status",
            json!({"user_id": id, "status": "inactive", "confirm_email": first["email"], "dry_run": true}),
        ),
        (
            "bigin_delete_user",
            json!({"user_id": id, "confirm_email": first["email"], "dry_run": true}),
        ),
        // A plan only: it sends nothing without execute and its token.
        (
            "bigin_apply_review_decisions",
            json!({"decisions": [{"user_id": id, "email": first["email"], "decision": "deactivate"}]}),
        ),
    ];
    for (tool, args) in calls {
        let r = call(&c, tool, args).await;
        assert_ne!(r.is_error, Some(true), "{tool}: {}", text(&r));
        assert!(
            r.structured_content.is_some(),
            "{tool} has structured content"
        );
    }
    assert!(writes(&sb.requests()).is_empty(), "dry runs only");
    let audit = std::fs::read_to_string(home.path().join("data/bigin-mcp/audit.log"))
        .expect("default audit log in the data dir");
    assert_eq!(audit.lines().count(), 2);
    c.cancel().await.unwrap();
}

#[tokio::test]
async fn flags_filter_the_tools_a_real_client_sees() {
    let home = tempfile::tempdir().unwrap();
    let read_only = exposed(bigin_mcp::mcp::ToolFilter {
        read_only: true,
        ..Default::default()
    });
    let users_audit_reads = exposed(bigin_mcp::mcp::ToolFilter {
        toolsets: vec!["users".into(), "audit".into()],
        methods: vec!["read".into()],
        ..Default::default()
    });
    for (args, expected) in [
        (vec!["serve", "--read-only", "--allow-delete"], read_only),
        (vec!["serve", "--methods", "read"], read_only),
        (
            vec!["serve", "--toolsets", "users,audit", "--methods", "read"],
            users_audit_reads,
        ),
        (
            vec![
                "serve",
                "--tools",
                "bigin_get_user,bigin_delete_user",
                "--allow-delete",
                "--exclude-tools",
                "bigin_get_user",
            ],
            1,
        ),
        (vec![], exposed(filter())), // no subcommand serves
    ] {
        let c = connect(command(home.path(), None, &args)).await;
        assert_eq!(
            c.list_all_tools().await.unwrap().len(),
            expected,
            "{args:?}"
        );
        c.cancel().await.unwrap();
    }
    // Hosts' env blocks say 1/yes/true; all mean read-only.
    for v in ["1", "yes", "true"] {
        let mut cmd = command(home.path(), None, &["serve"]);
        cmd.env("BIGIN_READ_ONLY", v);
        let c = connect(cmd).await;
        let n = c.list_all_tools().await.unwrap().len();
        assert_eq!(n, read_only, "BIGIN_READ_ONLY={v}");
        c.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn bad_flags_fail_at_startup_with_a_clear_message() {
    let home = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (
            vec!["serve", "--toolsets", "users,billing"],
            "users, roles, profiles, org, audit",
        ),
        (
            vec!["serve", "--tools", "bigin_frobnicate"],
            "bigin_list_users",
        ),
        (
            vec!["serve", "--methods", "patch"],
            "list, get, create, update, delete",
        ),
        (vec!["serve", "--expires-at", "tomorrow"], "RFC 3339"),
        (
            vec!["serve", "--dc", "mars"],
            "us, eu, in, au, jp, cn, sa, ca",
        ),
    ] {
        let mut cmd = command(home.path(), None, &args);
        if args.contains(&"--dc") {
            cmd.env("BIGIN_CLIENT_ID", "x")
                .env("BIGIN_CLIENT_SECRET", "y")
                .env("BIGIN_REFRESH_TOKEN", "z");
        }
        let out = cmd.stdin(Stdio::null()).output().await.unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "nothing on stdout");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[tokio::test]
async fn without_credentials_it_starts_and_calls_explain_how_to_connect() {
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    // The sandbox is named as accounts server and API domain, and a lone
    // client id is set (as for `login`), so a request sent anyway would
    // show in its log.
    let mut cmd = command(home.path(), None, &["serve"]);
    cmd.env("BIGIN_ACCOUNTS_URL", sb.base_url())
        .env("BIGIN_API_DOMAIN", sb.base_url())
        .env("BIGIN_CLIENT_ID", sandbox::DEMO_CLIENT_ID);
    let c = connect(cmd).await;
    assert_eq!(c.list_all_tools().await.unwrap().len(), 11);
    let r = call(&c, "bigin_get_organization", json!({})).await;
    assert_eq!(r.is_error, Some(true));
    let t = text(&r);
    // Issue 18: inside a client there is no terminal, so the way in is the
    // server's settings (here the secret is missing), never `bigin-mcp login`.
    assert!(
        t.contains("client secret")
            && t.contains("BIGIN_CLIENT_SECRET")
            && t.contains("BIGIN_DEMO"),
        "{t}"
    );
    assert!(
        !t.contains("bigin-mcp login") && !t.contains("terminal"),
        "{t}"
    );
    assert!(sb.requests().is_empty());
    c.cancel().await.unwrap();
}

#[tokio::test]
async fn demo_mode_serves_the_sandbox_organisation() {
    let home = tempfile::tempdir().unwrap();
    // Corporate machines set proxies; loopback must still be reached
    // directly (these point at a closed port, so going through them fails).
    let mut cmd = command(home.path(), None, &["serve", "--demo"]);
    for v in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy"] {
        cmd.env(v, "http://127.0.0.1:9");
    }
    let c = connect(cmd).await;
    let r = call(&c, "bigin_access_review", json!({})).await;
    let review = r.structured_content.expect("review");
    assert!(review["users"]["total"].as_u64().unwrap() > 400);
    assert!(
        review["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "inactive_admin")
    );
    c.cancel().await.unwrap();
}

#[tokio::test]
async fn an_expired_binary_refuses_calls_but_lists_tools() {
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    let c = connect(command(
        home.path(),
        Some(&sb),
        &["serve", "--expires-at", "2020-01-01T00:00:00Z"],
    ))
    .await;
    assert_eq!(c.list_all_tools().await.unwrap().len(), 11);
    let r = call(&c, "bigin_list_users", json!({})).await;
    assert!(text(&r).contains("access expired"));
    assert!(sb.requests().is_empty());
    c.cancel().await.unwrap();
}

/// Reads stdout lines until one answers `id`, returning every line read.
pub(crate) async fn read_until_id(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    id: Value,
    seen: &mut Vec<String>,
) -> Value {
    loop {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("an answer within 10 s")
            .unwrap()
            .expect("stdout open");
        seen.push(line.clone());
        let v: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
        if v["id"] == id {
            return v;
        }
    }
}

#[tokio::test]
async fn malformed_input_gets_error_replies_and_stdout_stays_json_rpc() {
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    let mut child = command(home.path(), Some(&sb), &["serve"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let send = |v: &str| format!("{v}\n");

    stdin
        .write_all(send("this is not json").as_bytes())
        .await
        .unwrap();
    let r = read_until_id(&mut lines, Value::Null, &mut seen).await;
    assert_eq!(r["error"]["code"], -32700);
    stdin
        .write_all(send(r#"{"jsonrpc":"2.0","id":41,"params":{}}"#).as_bytes())
        .await
        .unwrap();
    let r = read_until_id(&mut lines, json!(41), &mut seen).await;
    assert_eq!(r["error"]["code"], -32600);

    // The server lives on: a normal session works after the garbage.
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}});
    stdin
        .write_all(send(&init.to_string()).as_bytes())
        .await
        .unwrap();
    let r = read_until_id(&mut lines, json!(1), &mut seen).await;
    assert_eq!(r["result"]["serverInfo"]["name"], "bigin-mcp");
    stdin
        .write_all(send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).as_bytes())
        .await
        .unwrap();
    stdin
        .write_all(send("{\"half\": ").as_bytes())
        .await
        .unwrap();
    let r = read_until_id(&mut lines, Value::Null, &mut seen).await;
    assert_eq!(r["error"]["code"], -32700);
    // Errors of every kind, with debug logging on: stdout must stay clean.
    let calls = [
        json!({"name": "bigin_get_user", "arguments": {"user_id": "not-an-id"}}),
        json!({"name": "bigin_list_users", "arguments": {"profile": "Nope"}}),
        json!({"name": "bigin_no_such_tool", "arguments": {}}),
        json!({"name": "bigin_list_users", "arguments": {"limit": 3}}),
    ];
    for (i, params) in calls.iter().enumerate() {
        let id = 100 + i;
        let msg = json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":params});
        stdin
            .write_all(send(&msg.to_string()).as_bytes())
            .await
            .unwrap();
        let r = read_until_id(&mut lines, json!(id), &mut seen).await;
        assert!(r.get("result").is_some() || r.get("error").is_some());
    }
    drop(stdin); // EOF ends the session
    while let Ok(Some(l)) = lines.next_line().await {
        seen.push(l);
    }
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "clean exit on EOF");
    for l in &seen {
        let v: Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["jsonrpc"], "2.0", "{l}");
    }
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr)
        .await
        .unwrap();
    assert!(stderr.contains("DEBUG"), "logs went to stderr");
    for secret in [
        sandbox::DEMO_CLIENT_SECRET,
        sandbox::DEMO_REFRESH_TOKEN,
        "Zoho-oauthtoken",
    ] {
        assert!(!stderr.contains(secret), "stderr leaks {secret}");
        assert!(
            !seen.iter().any(|l| l.contains(secret)),
            "stdout leaks {secret}"
        );
    }
}

#[tokio::test]
async fn a_logged_in_account_without_a_reachable_keychain_still_serves_tools_list() {
    // Hosts may start servers with a stripped environment (no D-Bus): the
    // keychain must be opened lazily, so start-up and tools/list still work
    // and the first call says what is missing.
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    let accounts =
        bigin_mcp::auth::Accounts::new(home.path().join("config/bigin-mcp/accounts.json"));
    accounts
        .put(
            "default",
            bigin_mcp::auth::AccountMeta {
                client_id: sandbox::DEMO_CLIENT_ID.into(),
                dc: "us".into(),
                accounts_server: sb.base_url(),
                api_domain: sb.base_url(),
                scopes: vec!["ZohoBigin.org.READ".into()],
                org_name: None,
                org_id: None,
                logged_in_at: None,
                secrets: bigin_mcp::auth::SecretsIn::Keychain,
            },
        )
        .unwrap();
    // command() gives no D-Bus variables; point the session bus at nothing.
    let mut cmd = command(home.path(), None, &["serve"]);
    cmd.env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    let c = connect(cmd).await;
    assert_eq!(c.list_all_tools().await.unwrap().len(), 11);
    let r = call(&c, "bigin_get_organization", json!({})).await;
    assert_eq!(r.is_error, Some(true));
    let t = text(&r);
    assert!(
        t.contains("keychain") && t.contains("BIGIN_CLIENT_ID"),
        "{t}"
    );
    assert!(sb.requests().is_empty(), "nothing reached Zoho");
    c.cancel().await.unwrap();
}
