//! The line-delimited JSON-RPC transport for `serve`, and the session rules
//! that rmcp leaves to it.
//!
//! Why our own transport rather than rmcp's `transport-io`: rmcp silently
//! drops a line that is not JSON (by design, see its issue 938), ends the
//! session when the first message is not `initialize`, executes two
//! in-flight requests that share an id (and answers only one), and turns ids
//! beyond `i64` into errors. An MCP host, or a person debugging by hand,
//! deserves one answer per request instead. So this layer:
//!
//! - answers `-32700 Parse error` to unparsable lines and `-32600 Invalid
//!   Request` to JSON that is not a JSON-RPC message, and keeps serving;
//! - before `initialize`, ignores notifications and responses and answers any
//!   request other than `initialize` or `ping` with an error;
//! - refuses a request whose id is already in flight, without executing it;
//! - gives every request a private id on the way in and puts the client's
//!   exact id (any string or number, even beyond `i64`) back on the reply;
//! - answers `-32602 Invalid params` when a known method's params do not fit
//!   (rmcp would take it for an unknown method, `-32601`);
//! - on end of input or shutdown, stops reading and lets the requests in
//!   flight finish (bounded by the drain timeout) before the session ends, so
//!   their replies go out and their outcomes are recorded.
//!
//! All output goes through one writer task as whole lines, so rmcp's replies
//! and ours can never interleave inside a line. Nothing else may write to
//! stdout while this runs.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::{Sink, Stream};
use rmcp::RoleServer;
use rmcp::model::{ClientRequest, JsonRpcMessage, NumberOrString};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::admin::shutdown::Shutdown;

/// Lines longer than this are refused rather than buffered without bound.
const MAX_LINE: usize = 16 * 1024 * 1024;

/// Client request methods of the MCP revisions rmcp speaks. A request with
/// one of these methods whose params rmcp cannot read has invalid params,
/// not an unknown method.
const KNOWN_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "server/discover",
    "completion/complete",
    "logging/setLevel",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "resources/directory/read",
    "subscriptions/listen",
    "tools/call",
    "tools/list",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
    "skills/list",
    "skills/get",
];

/// How the transport behaves; [`TransportOptions::default`] suits `serve`.
#[derive(Clone, Default)]
pub struct TransportOptions {
    /// Longest accepted line (default 16 MiB).
    pub max_line: Option<usize>,
    /// When triggered, stop reading and drain.
    pub shutdown: Shutdown,
    /// How long to wait for requests in flight after input ends or shutdown
    /// is triggered (default 60 s). After a shutdown it is a hard limit;
    /// after end of input it restarts whenever a reply goes out.
    pub drain_timeout: Option<Duration>,
}

/// The sink half (rmcp's replies), the stream half (requests), and the
/// writer task to await after the service ends so every reply is flushed.
pub struct LineTransport<Si, St> {
    pub sink: Si,
    pub stream: St,
    pub writer: JoinHandle<()>,
}

/// Requests between the client and rmcp: the ids in flight and whether the
/// session has been initialised.
#[derive(Default)]
struct Flight {
    /// Next private id handed to rmcp.
    next: i64,
    /// Private id → the client's id, as the exact JSON text it sent.
    by_private: HashMap<i64, (IdKey, Box<RawValue>)>,
    /// The client's ids in flight → private id.
    open: HashMap<IdKey, i64>,
    /// `initialize` has been passed to rmcp.
    initialized: bool,
}

/// A client id, compared as JSON-RPC compares them: strings by value,
/// numbers by their text.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
enum IdKey {
    Str(String),
    Num(String),
}

struct State {
    flight: Mutex<Flight>,
    /// Signalled whenever a reply leaves, so the drain can re-check.
    replied: Notify,
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Flight> {
        // A panic while holding it leaves only maps behind; keep serving.
        self.flight.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Builds the transport over any reader and writer (stdin/stdout in
/// `serve`, a duplex pipe in tests).
pub fn line_transport<R, W>(
    reader: R,
    writer: W,
) -> LineTransport<
    impl Sink<TxJsonRpcMessage<RoleServer>, Error = io::Error> + Send + Unpin + 'static,
    impl Stream<Item = RxJsonRpcMessage<RoleServer>> + Send + Unpin + 'static,
>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    line_transport_with(reader, writer, TransportOptions::default())
}

/// [`line_transport`] with options.
pub fn line_transport_with<R, W>(
    reader: R,
    writer: W,
    opts: TransportOptions,
) -> LineTransport<
    impl Sink<TxJsonRpcMessage<RoleServer>, Error = io::Error> + Send + Unpin + 'static,
    impl Stream<Item = RxJsonRpcMessage<RoleServer>> + Send + Unpin + 'static,
>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    let max_line = opts.max_line.unwrap_or(MAX_LINE);
    let drain_timeout = opts.drain_timeout.unwrap_or(Duration::from_secs(60));
    let shutdown = opts.shutdown;
    let state = Arc::new(State {
        flight: Mutex::new(Flight::default()),
        replied: Notify::new(),
    });

    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let writer_task = tokio::spawn(async move {
        let mut w = writer;
        while let Some(mut line) = rx.recv().await {
            line.push('\n');
            if w.write_all(line.as_bytes()).await.is_err() || w.flush().await.is_err() {
                // The client went away; nothing left to tell it.
                break;
            }
        }
    });

    let sink_state = Arc::clone(&state);
    let sink = Box::pin(futures::sink::unfold(
        (tx.clone(), sink_state),
        |(tx, state), msg: TxJsonRpcMessage<RoleServer>| async move {
            let line = outgoing_line(&state, msg)?;
            tx.send(line)
                .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "stdout closed"))?;
            state.replied.notify_waiters();
            Ok::<_, io::Error>((tx, state))
        },
    ));

    let reader = BufReader::new(reader);
    let stream = Box::pin(futures::stream::unfold(
        (reader, tx, state, false),
        move |(mut reader, tx, state, done)| {
            let shutdown = shutdown.clone();
            async move {
                if done {
                    return None;
                }
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    let mut limited = (&mut reader).take(max_line as u64 + 1);
                    let read = tokio::select! {
                        biased;
                        _ = shutdown.wait() => {
                            tracing::info!("shutting down: no new requests are read");
                            drain(&state, drain_timeout, true).await;
                            return None;
                        }
                        r = limited.read_until(b'\n', &mut buf) => r,
                    };
                    match read {
                        Ok(0) | Err(_) => {
                            // End of input: the replies still owed go out first.
                            tokio::select! {
                                _ = drain(&state, drain_timeout, false) => {}
                                _ = shutdown.wait() => drain(&state, drain_timeout, true).await,
                            }
                            return None;
                        }
                        Ok(_) => {}
                    }
                    // The newline does not count against the limit; only a
                    // read that hit the limit without finding one is too long.
                    if buf.len() > max_line && !buf.ends_with(b"\n") {
                        let _ = tx.send(error_line(
                            "null",
                            -32600,
                            "Invalid Request: message too long",
                        ));
                        // Skip the rest of the line in bounded chunks.
                        loop {
                            buf.clear();
                            match (&mut reader)
                                .take(64 * 1024)
                                .read_until(b'\n', &mut buf)
                                .await
                            {
                                Ok(0) | Err(_) => {
                                    drain(&state, drain_timeout, false).await;
                                    return None;
                                }
                                Ok(_) if buf.ends_with(b"\n") => break,
                                Ok(_) => {}
                            }
                        }
                        continue;
                    }
                    let line = buf.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&buf);
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match incoming(&state, line) {
                        Incoming::Forward(msg) => return Some((*msg, (reader, tx, state, false))),
                        Incoming::Reply(reply) => {
                            let _ = tx.send(reply);
                        }
                        Incoming::Ignore(why) => tracing::debug!("ignored a message: {why}"),
                    }
                }
            }
        },
    ));

    LineTransport {
        sink,
        stream,
        writer: writer_task,
    }
}

/// Waits until no request is in flight, or the timeout. With `hard`, the
/// timeout runs from now; otherwise it restarts with every reply.
async fn drain(state: &State, timeout: Duration, hard: bool) {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let replied = state.replied.notified();
        tokio::pin!(replied);
        replied.as_mut().enable();
        let open = state.lock().open.len();
        if open == 0 {
            return;
        }
        let until = if hard {
            deadline
        } else {
            tokio::time::Instant::now() + timeout
        };
        tracing::debug!(open, "waiting for requests in flight");
        if tokio::time::timeout_at(until, replied).await.is_err() {
            tracing::warn!(
                open,
                "requests still in flight after {} s; ending the session without their replies",
                timeout.as_secs()
            );
            return;
        }
    }
}

/// What to do with one input line.
enum Incoming {
    Forward(Box<RxJsonRpcMessage<RoleServer>>),
    Reply(String),
    Ignore(&'static str),
}

fn incoming(state: &State, line: &[u8]) -> Incoming {
    // One parse: the id kept as its exact text (an id may be a number no
    // `Value` holds exactly), every other field as a `Value`.
    let fields: HashMap<String, &RawValue> = match serde_json::from_slice(line) {
        Ok(f) => f,
        Err(e) => {
            return Incoming::Reply(
                if serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok() {
                    error_line(
                        "null",
                        -32600,
                        "Invalid Request: a JSON-RPC message is a JSON object (batches are not supported)",
                    )
                } else {
                    error_line("null", -32700, &format!("Parse error: {e}"))
                },
            );
        }
    };
    let mut raw_id = None;
    let mut obj = Map::new();
    for (k, v) in fields {
        if k == "id" {
            raw_id = Some(v.to_owned());
            continue;
        }
        match serde_json::from_str::<Value>(v.get()) {
            Ok(v) => {
                obj.insert(k, v);
            }
            Err(e) => {
                return Incoming::Reply(error_line("null", -32700, &format!("Parse error: {e}")));
            }
        }
    }
    let method = obj
        .get("method")
        .and_then(Value::as_str)
        .map(str::to_string);
    let has_id = raw_id.is_some();

    let Some(method) = method else {
        // A response to one of our requests (elicitation, ping), or junk.
        if has_id && (obj.contains_key("result") || obj.contains_key("error")) {
            if !state.lock().initialized {
                return Incoming::Ignore("a response before initialize");
            }
            // Responses answer our own requests, whose ids rmcp chose.
            if let Some(id) = raw_id
                .as_deref()
                .and_then(|r| serde_json::from_str(r.get()).ok())
            {
                obj.insert("id".into(), id);
            }
            return match serde_json::from_value(Value::Object(obj)) {
                Ok(msg) => Incoming::Forward(Box::new(msg)),
                Err(_) => Incoming::Ignore("a response rmcp cannot read"),
            };
        }
        let id = raw_id
            .as_deref()
            .filter(|r| is_valid_id(r))
            .map_or("null", RawValue::get);
        return Incoming::Reply(error_line(
            id,
            -32600,
            "Invalid Request: no method (a request needs jsonrpc, id and method)",
        ));
    };

    if !has_id {
        return notification(state, obj, &method);
    }
    // A request. Its id must be a string or a number.
    let Some(raw_id) = raw_id.filter(|r| is_valid_id(r)) else {
        return Incoming::Reply(error_line(
            "null",
            -32600,
            "Invalid Request: the id must be a string or a number",
        ));
    };
    let key = id_key(&raw_id);
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Incoming::Reply(error_line(
            raw_id.get(),
            -32600,
            "Invalid Request: jsonrpc must be \"2.0\"",
        ));
    }

    {
        let f = state.lock();
        if !f.initialized && method != "initialize" && method != "ping" {
            return Incoming::Reply(error_line(
                raw_id.get(),
                -32600,
                &format!(
                    "Invalid Request: the session is not initialized; send initialize before {method}"
                ),
            ));
        }
        if f.open.contains_key(&key) {
            return Incoming::Reply(error_line(
                raw_id.get(),
                -32600,
                &format!(
                    "Invalid Request: id {} is already used by a request in flight; use a new id. This request was not executed",
                    raw_id.get()
                ),
            ));
        }
    }
    if method == "tools/call"
        && let Some(Value::Object(params)) = obj.get("params")
        && let Some(args) = params.get("arguments")
        && !args.is_object()
        && !args.is_null()
    {
        return Incoming::Reply(error_line(
            raw_id.get(),
            -32602,
            "Invalid params: tools/call arguments must be a JSON object",
        ));
    }

    // The private id goes in; the client's id comes back on the reply.
    let private = {
        let mut f = state.lock();
        f.next += 1;
        f.next
    };
    obj.insert("id".into(), Value::from(private));
    let msg: RxJsonRpcMessage<RoleServer> = match serde_json::from_value(Value::Object(obj)) {
        Ok(m) => m,
        Err(e) => {
            let code = if KNOWN_METHODS.contains(&method.as_str()) {
                -32602
            } else {
                -32600
            };
            let kind = if code == -32602 {
                format!("Invalid params for {method}")
            } else {
                "Invalid Request".to_string()
            };
            return Incoming::Reply(error_line(raw_id.get(), code, &format!("{kind}: {e}")));
        }
    };
    if let JsonRpcMessage::Request(r) = &msg
        && matches!(r.request, ClientRequest::CustomRequest(_))
        && KNOWN_METHODS.contains(&method.as_str())
    {
        return Incoming::Reply(error_line(
            raw_id.get(),
            -32602,
            &format!("Invalid params: the params of {method} do not match its schema"),
        ));
    }
    let mut f = state.lock();
    if method == "initialize" {
        f.initialized = true;
    }
    f.open.insert(key.clone(), private);
    f.by_private.insert(private, (key, raw_id));
    Incoming::Forward(Box::new(msg))
}

fn notification(state: &State, mut obj: Map<String, Value>, method: &str) -> Incoming {
    let mut f = state.lock();
    if !f.initialized {
        return Incoming::Ignore("a notification before initialize");
    }
    if method == "notifications/cancelled" {
        // The client names its own id; rmcp knows the private one. The
        // request leaves the flight now: rmcp drops its reply.
        let client_id = obj
            .get("params")
            .and_then(|p| p.get("requestId"))
            .and_then(|v| serde_json::value::to_raw_value(v).ok());
        let Some(private) = client_id.and_then(|r| f.open.remove(&id_key(&r))) else {
            return Incoming::Ignore("a cancellation of no request in flight");
        };
        f.by_private.remove(&private);
        drop(f);
        state.replied.notify_waiters();
        if let Some(Value::Object(p)) = obj.get_mut("params") {
            p.insert("requestId".into(), Value::from(private));
        }
    } else {
        drop(f);
    }
    match serde_json::from_value(Value::Object(obj)) {
        Ok(msg) => Incoming::Forward(Box::new(msg)),
        Err(_) => Incoming::Ignore("a notification rmcp cannot read"),
    }
}

/// The line for one of rmcp's messages, with the client's own id put back
/// on replies.
fn outgoing_line(state: &State, msg: TxJsonRpcMessage<RoleServer>) -> io::Result<String> {
    let private = match &msg {
        JsonRpcMessage::Response(r) => Some(&r.id),
        JsonRpcMessage::Error(e) => e.id.as_ref(),
        _ => None,
    };
    let original = match private {
        Some(NumberOrString::Number(n)) => {
            let mut f = state.lock();
            let found = f.by_private.remove(n);
            if let Some((key, _)) = &found {
                f.open.remove(key);
            }
            found.map(|(_, raw)| raw)
        }
        _ => None,
    };
    let Some(raw) = original else {
        return serde_json::to_string(&msg).map_err(io::Error::other);
    };
    let body = match &msg {
        JsonRpcMessage::Response(r) => format!(
            "\"result\":{}",
            serde_json::to_string(&r.result).map_err(io::Error::other)?
        ),
        JsonRpcMessage::Error(e) => format!(
            "\"error\":{}",
            serde_json::to_string(&e.error).map_err(io::Error::other)?
        ),
        _ => unreachable!("only replies carry a private id"),
    };
    Ok(format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":{},{body}}}",
        raw.get()
    ))
}

fn is_valid_id(raw: &RawValue) -> bool {
    let t = raw.get();
    t.starts_with('"') || t.starts_with('-') || t.starts_with(|c: char| c.is_ascii_digit())
}

fn id_key(raw: &RawValue) -> IdKey {
    match serde_json::from_str::<String>(raw.get()) {
        Ok(s) => IdKey::Str(s),
        Err(_) => IdKey::Num(raw.get().to_string()),
    }
}

/// An error reply; `id` is JSON text (`null`, `7`, `"a"`).
fn error_line(id: &str, code: i64, message: &str) -> String {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"error\":{}}}",
        json!({"code": code, "message": message})
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
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
}
