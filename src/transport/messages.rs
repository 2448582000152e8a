//! One line in, one line out: parsing what the client sent (with the
//! session rules the module docs list) and writing rmcp's replies with the
//! client's own ids put back, and the state they share: the requests in
//! flight.

use std::collections::HashMap;
use std::io;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::Notify;

use rmcp::RoleServer;
use rmcp::model::{ClientRequest, JsonRpcMessage, NumberOrString};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

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

/// Requests between the client and rmcp: the ids in flight and whether the
/// session has been initialised.
#[derive(Default)]
pub(super) struct Flight {
    /// Next private id handed to rmcp.
    pub(super) next: i64,
    /// Private id → the client's id, as the exact JSON text it sent.
    pub(super) by_private: HashMap<i64, (IdKey, Box<RawValue>)>,
    /// The client's ids in flight → private id.
    pub(super) open: HashMap<IdKey, i64>,
    /// `initialize` has been passed to rmcp.
    pub(super) initialized: bool,
}

/// A client id, compared as JSON-RPC compares them: strings by value,
/// numbers by their text.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(super) enum IdKey {
    Str(String),
    Num(String),
}

pub(super) struct State {
    pub(super) flight: Mutex<Flight>,
    /// Signalled whenever a reply leaves, so the drain can re-check.
    pub(super) replied: Notify,
}

impl State {
    pub(super) fn lock(&self) -> MutexGuard<'_, Flight> {
        // A panic while holding it leaves only maps behind; keep serving.
        self.flight.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What to do with one input line.
pub(super) enum Incoming {
    Forward(Box<RxJsonRpcMessage<RoleServer>>),
    Reply(String),
    Ignore(&'static str),
}

pub(super) fn incoming(state: &State, line: &[u8]) -> Incoming {
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

pub(super) fn notification(state: &State, mut obj: Map<String, Value>, method: &str) -> Incoming {
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
pub(super) fn outgoing_line(
    state: &State,
    msg: TxJsonRpcMessage<RoleServer>,
) -> io::Result<String> {
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

pub(super) fn is_valid_id(raw: &RawValue) -> bool {
    let t = raw.get();
    t.starts_with('"') || t.starts_with('-') || t.starts_with(|c: char| c.is_ascii_digit())
}

pub(super) fn id_key(raw: &RawValue) -> IdKey {
    match serde_json::from_str::<String>(raw.get()) {
        Ok(s) => IdKey::Str(s),
        Err(_) => IdKey::Num(raw.get().to_string()),
    }
}

/// An error reply; `id` is JSON text (`null`, `7`, `"a"`).
pub(super) fn error_line(id: &str, code: i64, message: &str) -> String {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"error\":{}}}",
        json!({"code": code, "message": message})
    )
}
