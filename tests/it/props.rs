//! Property tests of the session layer: whatever lines a client sends, the
//! server does not crash, answers every request exactly once, writes
//! nothing but JSON-RPC, and sends no write to Zoho for arguments it was
//! not given right.
//!
//! One sandbox and one server serve every case of a property (as a real
//! session would), over the same line transport `serve` uses on stdio.

use std::time::Duration;

use bigin_mcp::mcp::ToolFilter;
use bigin_mcp::sandbox::Sandbox;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::common::*;

struct Session {
    rt: tokio::runtime::Runtime,
    sb: Sandbox,
    w: tokio::sync::Mutex<tokio::io::WriteHalf<tokio::io::DuplexStream>>,
    r: tokio::sync::Mutex<
        tokio::io::Lines<BufReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>>,
    >,
    _dir: tempfile::TempDir,
}

impl Session {
    fn start(filter: ToolFilter) -> Session {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (sb, w, r) = rt.block_on(async {
            let sb = sandbox().await;
            let (c, _) = client(&sb);
            let client_end = serve_in_process(c, options(filter, dir.path().join("audit.log")));
            let (cr, cw) = tokio::io::split(client_end);
            (sb, cw, BufReader::new(cr).lines())
        });
        let s = Session {
            rt,
            sb,
            w: tokio::sync::Mutex::new(w),
            r: tokio::sync::Mutex::new(r),
            _dir: dir,
        };
        let init = json!({"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"prop","version":"0"}}});
        let replies = s.exchange(&[init.to_string()], 1);
        assert_eq!(replies[0]["result"]["serverInfo"]["name"], "bigin-mcp");
        s.exchange(
            &[r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.into()],
            0,
        );
        s
    }

    /// Sends the lines, then reads exactly `expected` replies and checks
    /// that nothing more arrives (a ping sent afterwards is answered next).
    fn exchange(&self, lines: &[String], expected: usize) -> Vec<Value> {
        self.rt.block_on(async {
            let mut w = self.w.lock().await;
            let mut r = self.r.lock().await;
            for l in lines {
                w.write_all(format!("{l}\n").as_bytes()).await.unwrap();
            }
            let mut out = Vec::new();
            while out.len() < expected {
                let line = tokio::time::timeout(Duration::from_secs(20), r.next_line())
                    .await
                    .unwrap_or_else(|_| {
                        panic!(
                            "{} of {expected} replies to {lines:#?}: {out:#?}",
                            out.len()
                        )
                    })
                    .unwrap()
                    .expect("the server is still there");
                out.push(json_rpc_reply(&line));
            }
            let probe = r#"{"jsonrpc":"2.0","id":"probe-after","method":"ping"}"#;
            w.write_all(format!("{probe}\n").as_bytes()).await.unwrap();
            let line = tokio::time::timeout(Duration::from_secs(20), r.next_line())
                .await
                .expect("the server still answers")
                .unwrap()
                .unwrap();
            let v = json_rpc_reply(&line);
            assert_eq!(
                v["id"], "probe-after",
                "an extra reply: {line}\nfor {lines:#?}"
            );
            out
        })
    }
}

/// The line as a JSON-RPC reply, or a test failure saying why it is not.
fn json_rpc_reply(line: &str) -> Value {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    assert_eq!(v["jsonrpc"], "2.0", "{line}");
    assert!(v.get("id").is_some(), "a reply has an id: {line}");
    assert!(
        v.get("result").is_some() != v.get("error").is_some(),
        "result xor error: {line}"
    );
    v
}

/// Whether the server owes this line a reply: everything but blank lines,
/// notifications and responses does.
fn expects_reply(line: &str) -> bool {
    // The transport's own rules: one leading BOM is dropped, and a line of
    // ASCII whitespace is skipped.
    let line = line.strip_prefix('\u{feff}').unwrap_or(line);
    if line.bytes().all(|b| b.is_ascii_whitespace()) {
        return false;
    }
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(m)) => {
            let notification =
                m.get("method").is_some_and(Value::is_string) && !m.contains_key("id");
            let response = !m.contains_key("method")
                && m.contains_key("id")
                && (m.contains_key("result") || m.contains_key("error"));
            !(notification || response)
        }
        _ => true,
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z@.0-9 ]{0,12}".prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn any_id() -> impl Strategy<Value = String> {
    prop_oneof![
        (0i64..5).prop_map(|i| i.to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
        "[0-9]{19,30}",
        "[a-z]{1,3}".prop_map(|s| format!("\"{s}\"")),
        Just("null".to_string()),
        Just("1.5".to_string()),
        Just("{}".to_string()),
    ]
}

const METHODS: &[&str] = &[
    "ping",
    "tools/list",
    "tools/call",
    "prompts/list",
    "resources/list",
    "initialize",
    "no/such/method",
    "notifications/cancelled",
    "notifications/initialized",
];

const READ_TOOLS: &[&str] = &[
    "bigin_list_users",
    "bigin_get_user",
    "bigin_list_roles",
    "bigin_list_profiles",
    "bigin_get_profile",
    "bigin_get_organization",
    "bigin_no_such_tool",
];

fn framing_line() -> impl Strategy<Value = String> {
    let request = (
        any_id(),
        prop::sample::select(METHODS),
        prop::option::of(any_json()),
    )
        .prop_map(|(id, method, params)| {
            let params = params
                .map(|p| format!(",\"params\":{p}"))
                .unwrap_or_default();
            format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}"{params}}}"#)
        });
    let tool_call = (
        any_id(),
        prop::sample::select(READ_TOOLS),
        any_json(),
    )
        .prop_map(|(id, name, args)| {
            format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{name}","arguments":{args}}}}}"#
            )
        });
    let notification = (prop::sample::select(METHODS), prop::option::of(any_json())).prop_map(
        |(method, params)| {
            let params = params
                .map(|p| format!(",\"params\":{p}"))
                .unwrap_or_default();
            format!(r#"{{"jsonrpc":"2.0","method":"{method}"{params}}}"#)
        },
    );
    let response = (any_id(), any_json())
        .prop_map(|(id, r)| format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{r}}}"#));
    prop_oneof![
        3 => request,
        3 => tool_call,
        2 => notification,
        1 => response,
        1 => any_json().prop_map(|v| v.to_string()),
        1 => "[^\n\r]{0,40}",
    ]
}

#[test]
fn any_framing_gets_exactly_one_reply_per_request() {
    let session = Session::start(ToolFilter {
        read_only: true,
        ..Default::default()
    });
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(framing_line(), 1..8), |lines| {
            // A reused id in one batch may legitimately be refused (in
            // flight) or served (finished): either way, one reply.
            let expected = lines.iter().filter(|l| expects_reply(l)).count();
            session.exchange(&lines, expected);
            Ok(())
        })
        .unwrap();
    assert!(writes(&session.sb.requests()).is_empty());
}

fn tool_args() -> impl Strategy<Value = (&'static str, Value)> {
    let keys = prop::sample::select(
        &[
            "user_id",
            "status",
            "confirm_email",
            "dry_run",
            "limit",
            "offset",
            "profile",
            "role",
            "search",
            "detail",
            "type",
            "profile_id",
            "reporting_to",
            "include_permissions",
            "extra",
        ][..],
    );
    let value = prop_oneof![
        any_json(),
        "[0-9]{1,25}".prop_map(Value::from),
        prop::sample::select(
            &[
                "inactive", "active", "deleted", "full", "concise", "AllUsers"
            ][..]
        )
        .prop_map(Value::from),
    ];
    (
        prop::sample::select(
            &[
                "bigin_list_users",
                "bigin_get_user",
                "bigin_list_roles",
                "bigin_list_profiles",
                "bigin_get_profile",
                "bigin_get_organization",
                "bigin_access_review",
                "bigin_set_user_status",
                "bigin_delete_user",
            ][..],
        ),
        prop::collection::btree_map(keys, value, 0..5),
    )
        .prop_map(|(tool, m)| {
            (
                tool,
                Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
            )
        })
}

#[test]
fn any_tool_arguments_get_one_reply_and_send_no_write() {
    let session = Session::start(all_tools());
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let counter = std::sync::atomic::AtomicU64::new(0);
    runner
        .run(&tool_args(), |(tool, args)| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            let call = json!({"jsonrpc":"2.0","id":n,"method":"tools/call","params":{"name":tool,"arguments":args}});
            let replies = session.exchange(&[call.to_string()], 1);
            prop_assert_eq!(&replies[0]["id"], &json!(n));
            Ok(())
        })
        .unwrap();
    assert!(
        writes(&session.sb.requests()).is_empty(),
        "random arguments never carry a right confirmation"
    );
}
