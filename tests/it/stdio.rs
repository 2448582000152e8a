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

const BIN: &str = env!("CARGO_BIN_EXE_bigin-mcp");

/// The binary with a scrubbed environment: a temp HOME (so nothing touches
/// the real data directory) and, optionally, sandbox credentials.
fn command(home: &std::path::Path, sb: Option<&Sandbox>, args: &[&str]) -> Command {
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

async fn connect(cmd: Command) -> RunningService<RoleClient, ()> {
    let (transport, _stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn bigin-mcp");
    ().serve(transport).await.expect("initialize over stdio")
}

async fn call(
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
    assert_eq!(tools.len(), 12);
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
    for (args, expected) in [
        (vec!["serve", "--read-only", "--allow-delete"], 7),
        (vec!["serve", "--methods", "read"], 7),
        (
            vec!["serve", "--toolsets", "users,audit", "--methods", "read"],
            3,
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
        (vec![], 11), // no subcommand serves
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
        assert_eq!(n, 7, "BIGIN_READ_ONLY={v}");
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
async fn without_credentials_it_starts_and_calls_explain_how_to_log_in() {
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
    assert!(t.contains("bigin-mcp login") && t.contains("--demo"), "{t}");
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
async fn read_until_id(
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

/// A raw session with the binary: lines in, lines out.
struct Raw {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    seen: Vec<String>,
}

impl Raw {
    fn start(home: &std::path::Path, sb: &Sandbox, args: &[&str]) -> Raw {
        let mut child = command(home, Some(sb), args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Raw {
            stdin: child.stdin.take().unwrap(),
            lines: BufReader::new(child.stdout.take().unwrap()).lines(),
            child,
            seen: Vec::new(),
        }
    }

    async fn send(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }

    async fn until(&mut self, id: Value) -> Value {
        read_until_id(&mut self.lines, id, &mut self.seen).await
    }

    async fn initialize(&mut self) {
        let init = json!({"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}});
        self.send(&init.to_string()).await;
        let r = self.until(json!("init")).await;
        assert_eq!(r["result"]["serverInfo"]["name"], "bigin-mcp");
        self.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            .await;
    }

    /// Closes stdin, reads what is left, and returns the exit status.
    async fn finish(mut self) -> (std::process::ExitStatus, Vec<String>) {
        drop(self.stdin);
        while let Ok(Ok(Some(l))) =
            tokio::time::timeout(Duration::from_secs(20), self.lines.next_line()).await
        {
            self.seen.push(l);
        }
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("exits after EOF")
            .unwrap();
        (status, self.seen)
    }
}

#[tokio::test]
async fn stray_messages_before_initialize_do_not_end_the_server() {
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    let mut s = Raw::start(home.path(), &sb, &["serve"]);
    for n in [
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","id":99,"result":{}}"#,
    ] {
        s.send(n).await;
    }
    s.send(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .await;
    let r = s.until(json!(1)).await;
    assert_eq!(r["error"]["code"], -32600, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("initialize")
    );
    s.send(r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#).await;
    assert_eq!(s.until(json!(2)).await["result"], json!({}));
    s.initialize().await;
    s.send(r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#)
        .await;
    let r = s.until(json!(3)).await;
    assert_eq!(r["result"]["tools"].as_array().unwrap().len(), 11);
    let (status, seen) = s.finish().await;
    assert!(status.success(), "ends only at EOF, cleanly: {status}");
    // Nothing was answered for the notifications and the response.
    assert_eq!(seen.len(), 4, "{seen:#?}");
}

#[tokio::test]
async fn a_reused_id_in_flight_is_refused_and_every_request_gets_one_reply() {
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    let mut s = Raw::start(home.path(), &sb, &["serve"]);
    s.initialize().await;
    // Slow user pages keep the first call in flight while the second arrives.
    sb.inject(
        bigin_mcp::sandbox::Fault::new(bigin_mcp::sandbox::FaultKind::Delay { ms: 400 })
            .on_path("/bigin/v2/users")
            .times(50),
    );
    sb.clear_requests();
    let call = json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"bigin_list_users","arguments":{"limit":1}}});
    s.send(&call.to_string()).await;
    s.send(&call.to_string()).await;
    let first = s.until(json!(7)).await;
    let second = s.until(json!(7)).await;
    let (refused, served) = if first.get("error").is_some() {
        (first, second)
    } else {
        (second, first)
    };
    assert_eq!(refused["error"]["code"], -32600, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("in flight")
    );
    assert!(
        served["result"]["structuredContent"]["total"]
            .as_u64()
            .unwrap()
            > 400
    );
    let user_reads = sb
        .requests()
        .iter()
        .filter(|r| r.path == "/bigin/v2/users")
        .count();
    assert_eq!(user_reads, 3, "one listing (3 pages), not two");
    // The id is free again once answered.
    s.send(&call.to_string()).await;
    assert!(s.until(json!(7)).await.get("result").is_some());

    // Ids beyond i64 come back exactly, not as floats.
    for id in ["9223372036854775808", "123456789012345678901234567890"] {
        s.send(&format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#))
            .await;
        let line = loop {
            let l = tokio::time::timeout(Duration::from_secs(10), s.lines.next_line())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            if l.contains("\"result\":{}") {
                break l;
            }
        };
        assert!(line.contains(&format!(r#""id":{id},"#)), "{line}");
    }
    // Arguments that are not an object are invalid params.
    s.send(r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"bigin_list_users","arguments":[1]}}"#)
        .await;
    assert_eq!(s.until(json!(8)).await["error"]["code"], -32602);
    let (status, _) = s.finish().await;
    assert!(status.success());
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_lets_a_write_in_flight_finish_and_records_its_outcome() {
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    let u = all_users(&sb)
        .await
        .into_iter()
        .find(|u| u["status"] == "active" && s(u, "id") != sb.primary_user_id())
        .unwrap();
    let mut raw = Raw::start(home.path(), &sb, &["serve"]);
    raw.initialize().await;
    // Zoho takes a while to apply the change.
    sb.inject(
        bigin_mcp::sandbox::Fault::new(bigin_mcp::sandbox::FaultKind::Delay { ms: 800 })
            .on_method("PUT"),
    );
    let call = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"bigin_set_user_status","arguments":{"user_id":u["id"],"status":"inactive","confirm_email":u["email"]}}});
    raw.send(&call.to_string()).await;
    let audit = home.path().join("data/bigin-mcp/audit.log");
    // Wait until the change is on its way (the pending line), then stop.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&audit)
        .unwrap_or_default()
        .contains("pending")
    {
        assert!(tokio::time::Instant::now() < deadline, "no pending line");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = raw.child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let r = raw.until(json!(1)).await;
    assert_ne!(r["result"]["isError"], true, "{r}");
    // Stdin stays open: the signal alone ends the server, after the write.
    let status = tokio::time::timeout(Duration::from_secs(20), raw.child.wait())
        .await
        .expect("exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status}");
    let outcomes: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    assert_eq!(outcomes[1]["outcome"], "success");
    assert_eq!(sb.user(&s(&u, "id")).unwrap()["status"], "inactive");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&audit).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[tokio::test]
async fn an_audit_log_that_cannot_be_opened_is_reported_at_start_up() {
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    // A directory where the file should be.
    let bad = home.path().to_str().unwrap();
    let out = command(home.path(), Some(&sb), &["serve", "--audit-log", bad])
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("audit log") && err.contains("refuse"), "{err}");
    assert!(out.stdout.is_empty());
    // Read-only servers write nothing, so they have nothing to warn about.
    let out = command(
        home.path(),
        Some(&sb),
        &["serve", "--read-only", "--audit-log", bad],
    )
    .stdin(Stdio::null())
    .output()
    .await
    .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("audit log"));
}

#[tokio::test]
async fn a_server_discover_probe_before_initialize_is_answered_and_serving_goes_on() {
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    // Claude Desktop's era probe, as raw lines.
    let mut s = Raw::start(home.path(), &sb, &["serve"]);
    s.send(r#"{"jsonrpc":"2.0","id":"probe","method":"server/discover","params":{}}"#)
        .await;
    let r = s.until(json!("probe")).await;
    // A correlated error that is not a modern-era rejection tells the client
    // to fall back to initialize on the same pipe.
    let code = r["error"]["code"].as_i64().expect("an error reply");
    assert!(code == -32600 || code == -32601, "{r}");
    s.initialize().await;
    s.send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
        .await;
    assert_eq!(
        s.until(json!(2)).await["result"]["tools"]
            .as_array()
            .unwrap()
            .len(),
        11
    );
    let (status, _) = s.finish().await;
    assert!(status.success(), "{status}");

    // rmcp's client in auto mode probes, falls back and is served.
    use rmcp::model::ProtocolVersion;
    use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
    let (transport, _) = TokioChildProcess::builder(command(home.path(), Some(&sb), &["serve"]))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let c = ()
        .serve_with_lifecycle(
            transport,
            ClientLifecycleMode::Auto {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                legacy_version: None,
            },
        )
        .await
        .expect("the probe falls back to initialize");
    assert_eq!(c.list_all_tools().await.unwrap().len(), 11);
    c.cancel().await.unwrap();
}

#[tokio::test]
async fn a_cancel_while_the_user_is_verified_stops_the_write() {
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    let u = all_users(&sb)
        .await
        .into_iter()
        .find(|u| u["status"] == "active" && s(u, "id") != sb.primary_user_id())
        .unwrap();
    let mut raw = Raw::start(home.path(), &sb, &["serve"]);
    raw.initialize().await;
    // Zoho is slow to answer the verification read.
    sb.inject(
        bigin_mcp::sandbox::Fault::new(bigin_mcp::sandbox::FaultKind::Delay { ms: 500 })
            .on_method("GET")
            .on_path(&format!("/users/{}", s(&u, "id")))
            .times(1),
    );
    let call = json!({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"bigin_set_user_status","arguments":{"user_id":u["id"],"status":"inactive","confirm_email":u["email"]}}});
    raw.send(&call.to_string()).await;
    raw.send(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"stop"}}"#)
        .await;
    let audit = home.path().join("data/bigin-mcp/audit.log");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&audit)
        .unwrap_or_default()
        .contains("cancelled")
    {
        assert!(tokio::time::Instant::now() < deadline, "no cancelled line");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Anything the cancelled call could still do happens before this answer.
    raw.send(r#"{"jsonrpc":"2.0","id":8,"method":"ping"}"#)
        .await;
    raw.until(json!(8)).await;
    let (status, _) = raw.finish().await;
    assert!(status.success(), "{status}");
    let lines: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["outcome"], "cancelled");
    assert!(writes(&sb.requests()).is_empty(), "nothing was sent");
    assert_eq!(sb.user(&s(&u, "id")).unwrap()["status"], "active");
}

#[tokio::test]
async fn two_server_processes_deactivating_one_user_send_one_put() {
    let sb = sandbox().await;
    // One login, one data directory: Claude Desktop's chat and Cowork copies.
    let home = tempfile::tempdir().unwrap();
    let u = all_users(&sb)
        .await
        .into_iter()
        .find(|u| {
            u["status"] == "active"
                && s(u, "id") != sb.primary_user_id()
                && u["profile"]["name"] != "Administrator"
        })
        .unwrap();
    let a = connect(command(home.path(), Some(&sb), &["serve"])).await;
    let b = connect(command(home.path(), Some(&sb), &["serve"])).await;
    // Both verifications would overlap: each read of the user is slow.
    sb.inject(
        bigin_mcp::sandbox::Fault::new(bigin_mcp::sandbox::FaultKind::Delay { ms: 400 })
            .on_method("GET")
            .on_path(&format!("/users/{}", s(&u, "id")))
            .times(2),
    );
    let args = json!({"user_id": u["id"], "status": "inactive", "confirm_email": u["email"]});
    let (ra, rb) = tokio::join!(
        call(&a, "bigin_set_user_status", args.clone()),
        call(&b, "bigin_set_user_status", args.clone()),
    );
    let ok = [&ra, &rb]
        .iter()
        .filter(|r| r.is_error != Some(true))
        .count();
    assert_eq!(ok, 1, "{} / {}", text(&ra), text(&rb));
    let refused = if ra.is_error == Some(true) { &ra } else { &rb };
    assert!(
        text(refused).contains("already inactive"),
        "{}",
        text(refused)
    );
    assert_eq!(writes(&sb.requests()).len(), 1, "one PUT");
    let audit = std::fs::read_to_string(home.path().join("data/bigin-mcp/audit.log")).unwrap();
    let outcomes: Vec<String> = audit
        .lines()
        .map(|l| s(&serde_json::from_str(l).unwrap(), "outcome"))
        .collect();
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    a.cancel().await.unwrap();
    b.cancel().await.unwrap();
}
