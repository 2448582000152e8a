//! The transport's own tests: parsing, ids, the session rules and draining.

use super::*;
use futures::StreamExt;
use rmcp::model::JsonRpcMessage;
use serde_json::Value;
use tokio::io::AsyncReadExt;

fn state(initialized: bool) -> State {
    let s = State {
        flight: Mutex::new(Flight::default()),
        replied: Notify::new(),
    };
    s.lock().initialized = initialized;
    s
}

fn reply(st: &State, line: &str) -> Option<Value> {
    match incoming(st, line.as_bytes()) {
        Incoming::Reply(r) => Some(serde_json::from_str(&r).unwrap()),
        _ => None,
    }
}

#[tokio::test]
async fn long_lines_are_refused_and_the_next_line_is_still_served() {
    let (mut client_w, server_r) = tokio::io::duplex(1 << 16);
    let (server_w, mut client_r) = tokio::io::duplex(1 << 16);
    let t = line_transport_with(
        server_r,
        server_w,
        TransportOptions {
            max_line: Some(64),
            ..Default::default()
        },
    );
    let mut stream = t.stream;
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    // Exactly at the limit (the newline does not count): served.
    let padded = format!("{ping}{}", " ".repeat(64 - ping.len()));
    let input = format!("{}\n{padded}\n", "x".repeat(200));
    client_w.write_all(input.as_bytes()).await.unwrap();
    drop(client_w);
    let msg = stream
        .next()
        .await
        .expect("the line after the long one is served");
    assert!(serde_json::to_string(&msg).unwrap().contains("\"ping\""));
    // The ping is in flight and never answered here: the drain gives up
    // after its timeout (60 s by default) – so answer it.
    let mut sink = t.sink;
    use futures::SinkExt;
    let JsonRpcMessage::Request(r) = msg else {
        panic!("a request")
    };
    sink.send(JsonRpcMessage::response(
        rmcp::model::ServerResult::EmptyResult(rmcp::model::EmptyResult {}),
        r.id,
    ))
    .await
    .unwrap();
    assert!(stream.next().await.is_none());
    drop(stream);
    drop(sink);
    t.writer.await.unwrap();
    let mut out = String::new();
    client_r.read_to_string(&mut out).await.unwrap();
    let replies: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(replies.len(), 2, "{out}");
    assert_eq!(replies[0]["error"]["code"], -32600);
    assert_eq!(replies[1]["id"], 1, "the client's id comes back");
}

#[test]
fn garbage_gets_a_parse_error_with_null_id() {
    let r = reply(&state(true), "{not json").unwrap();
    assert_eq!(r["error"]["code"], -32700);
    assert_eq!(r["id"], Value::Null);
}

#[test]
fn wrong_shape_gets_invalid_request_with_its_id() {
    let st = state(true);
    let r = reply(&st, r#"{"jsonrpc":"2.0","id":7,"params":{}}"#).unwrap();
    assert_eq!(r["error"]["code"], -32600);
    assert_eq!(r["id"], 7);
    assert!(reply(&st, "[1,2]").is_some());
}

#[test]
fn before_initialize_only_initialize_and_ping_pass() {
    let st = state(false);
    for n in [
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#,
        r#"{"jsonrpc":"2.0","id":5,"result":{}}"#,
    ] {
        assert!(
            matches!(incoming(&st, n.as_bytes()), Incoming::Ignore(_)),
            "{n}"
        );
    }
    let r = reply(&st, r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#).unwrap();
    assert_eq!(r["error"]["code"], -32600);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("initialize")
    );
    let ping = r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#;
    assert!(matches!(
        incoming(&st, ping.as_bytes()),
        Incoming::Forward(_)
    ));
}

#[test]
fn an_id_in_flight_is_refused_and_a_finished_one_is_free_again() {
    let st = state(true);
    let list = r#"{"jsonrpc":"2.0","id":"a","method":"tools/list"}"#;
    let Incoming::Forward(first) = incoming(&st, list.as_bytes()) else {
        panic!("first passes")
    };
    let r = reply(&st, list).expect("the second is refused");
    assert_eq!(r["id"], "a");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("in flight")
    );
    // Another id passes meanwhile.
    let other = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    assert!(matches!(
        incoming(&st, other.as_bytes()),
        Incoming::Forward(_)
    ));
    // The reply to the first frees its id, and carries it.
    let JsonRpcMessage::Request(r) = *first else {
        panic!("a request")
    };
    let line = outgoing_line(
        &st,
        JsonRpcMessage::response(
            rmcp::model::ServerResult::EmptyResult(rmcp::model::EmptyResult {}),
            r.id,
        ),
    )
    .unwrap();
    assert!(line.starts_with(r#"{"jsonrpc":"2.0","id":"a","#), "{line}");
    assert!(matches!(
        incoming(&st, list.as_bytes()),
        Incoming::Forward(_)
    ));
}

#[test]
fn ids_beyond_i64_come_back_exactly() {
    let st = state(true);
    for id in [
        "9223372036854775808",
        "18446744073709551616",
        "123456789012345678901234567890",
        "1e400",
        "-0",
    ] {
        let line = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/list"}}"#);
        let Incoming::Forward(m) = incoming(&st, line.as_bytes()) else {
            panic!("{id} passes")
        };
        let JsonRpcMessage::Request(r) = *m else {
            panic!("a request")
        };
        let out = outgoing_line(
            &st,
            JsonRpcMessage::response(
                rmcp::model::ServerResult::EmptyResult(rmcp::model::EmptyResult {}),
                r.id,
            ),
        )
        .unwrap();
        assert!(out.contains(&format!(r#""id":{id},"#)), "{out}");
    }
}

#[test]
fn non_object_tool_arguments_are_invalid_params() {
    let st = state(true);
    for args in ["[]", "\"x\"", "3", "true"] {
        let line = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"bigin_get_user","arguments":{args}}}}}"#
        );
        let r = reply(&st, &line).unwrap_or_else(|| panic!("{args} answered"));
        assert_eq!(r["error"]["code"], -32602, "{args}");
    }
    let bad = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"arguments":{}}}"#;
    assert_eq!(reply(&st, bad).unwrap()["error"]["code"], -32602);
}
