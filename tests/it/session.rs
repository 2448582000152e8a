//! The built binary's session rules over raw pipes: messages before
//! `initialize`, reused ids, SIGTERM with a write in flight, the audit log
//! at start-up, Desktop's `server/discover` probe, a cancel before the write
//! is sent, and two server processes writing one user.

use std::process::Stdio;
use std::time::Duration;

use bigin_mcp::sandbox::Sandbox;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::common::*;
use crate::stdio::{call, command, connect, exposed, read_until_id};

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
    assert_eq!(
        r["result"]["tools"].as_array().unwrap().len(),
        exposed(filter())
    );
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
    let u = writable_user(&sb).await;
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
    assert_eq!(c.list_all_tools().await.unwrap().len(), exposed(filter()));
    c.cancel().await.unwrap();
}

#[tokio::test]
async fn a_cancel_while_the_user_is_verified_stops_the_write() {
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    let u = writable_user(&sb).await;
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
