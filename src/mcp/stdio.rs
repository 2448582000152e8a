//! The line-delimited JSON-RPC transport for `serve`.
//!
//! rmcp's own stdio transport silently drops a line that is not JSON. MCP
//! hosts and people debugging by hand deserve an answer, so this transport
//! replies `-32700 Parse error` to unparsable lines and `-32600 Invalid
//! Request` to JSON that is not a JSON-RPC message, and keeps serving.
//!
//! All output goes through one writer task as whole lines, so rmcp's replies
//! and ours can never interleave inside a line. Nothing else may write to
//! stdout while this runs.

use std::io;

use futures::{Sink, Stream};
use rmcp::RoleServer;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Lines longer than this are refused rather than buffered without bound.
const MAX_LINE: usize = 16 * 1024 * 1024;

/// The sink half (rmcp's replies), the stream half (requests), and the
/// writer task to await after the service ends so every reply is flushed.
pub struct LineTransport<Si, St> {
    pub sink: Si,
    pub stream: St,
    pub writer: JoinHandle<()>,
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
    line_transport_limited(reader, writer, MAX_LINE)
}

fn line_transport_limited<R, W>(
    reader: R,
    writer: W,
    max_line: usize,
) -> LineTransport<
    impl Sink<TxJsonRpcMessage<RoleServer>, Error = io::Error> + Send + Unpin + 'static,
    impl Stream<Item = RxJsonRpcMessage<RoleServer>> + Send + Unpin + 'static,
>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
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

    let sink_tx = tx.clone();
    let sink = Box::pin(futures::sink::unfold(
        sink_tx,
        |tx, msg: TxJsonRpcMessage<RoleServer>| async move {
            let line = serde_json::to_string(&msg).map_err(io::Error::other)?;
            tx.send(line)
                .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "stdout closed"))?;
            Ok::<_, io::Error>(tx)
        },
    ));

    let reader = BufReader::new(reader);
    let stream = Box::pin(futures::stream::unfold(
        (reader, tx),
        move |(mut reader, tx)| async move {
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match (&mut reader)
                    .take(max_line as u64 + 1)
                    .read_until(b'\n', &mut buf)
                    .await
                {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
                // The newline does not count against the limit; only a read
                // that hit the limit without finding one is too long.
                if buf.len() > max_line && !buf.ends_with(b"\n") {
                    let _ = tx.send(error_line(
                        Value::Null,
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
                            Ok(0) | Err(_) => return None,
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
                match serde_json::from_slice::<RxJsonRpcMessage<RoleServer>>(line) {
                    Ok(msg) => return Some((msg, (reader, tx))),
                    Err(e) => {
                        if let Some(reply) = reply_to_bad_line(line, &e) {
                            tracing::debug!("answered a malformed JSON-RPC line: {e}");
                            let _ = tx.send(reply);
                        }
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

fn error_line(id: Value, code: i64, message: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}).to_string()
}

/// The reply a line that rmcp cannot take deserves, if any. Notifications
/// (a method, no id) are never answered, as JSON-RPC requires.
fn reply_to_bad_line(line: &[u8], e: &serde_json::Error) -> Option<String> {
    let Ok(v) = serde_json::from_slice::<Value>(line) else {
        return Some(error_line(
            Value::Null,
            -32700,
            &format!("Parse error: {e}"),
        ));
    };
    let id = v
        .get("id")
        .cloned()
        .filter(|i| i.is_string() || i.is_number());
    if v.get("method").is_some() && id.is_none() && v.get("id").is_none() {
        return None;
    }
    Some(error_line(
        id.unwrap_or(Value::Null),
        -32600,
        &format!("Invalid Request: {e}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(line: &str) -> Option<Value> {
        let e = serde_json::from_str::<RxJsonRpcMessage<RoleServer>>(line).unwrap_err();
        reply_to_bad_line(line.as_bytes(), &e).map(|r| serde_json::from_str(&r).unwrap())
    }

    #[tokio::test]
    async fn long_lines_are_refused_and_the_next_line_is_still_served() {
        use futures::StreamExt;
        use tokio::io::AsyncReadExt;
        let (mut client_w, server_r) = tokio::io::duplex(1 << 16);
        let (server_w, mut client_r) = tokio::io::duplex(1 << 16);
        let t = line_transport_limited(server_r, server_w, 64);
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
        assert!(stream.next().await.is_none());
        drop(stream);
        drop(t.sink);
        t.writer.await.unwrap();
        let mut out = String::new();
        client_r.read_to_string(&mut out).await.unwrap();
        let replies: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(replies.len(), 1, "{out}");
        assert_eq!(replies[0]["error"]["code"], -32600);
    }

    #[test]
    fn garbage_gets_a_parse_error_with_null_id() {
        let r = reply("{not json").unwrap();
        assert_eq!(r["error"]["code"], -32700);
        assert_eq!(r["id"], Value::Null);
    }

    #[test]
    fn wrong_shape_gets_invalid_request_with_its_id() {
        let r = reply(r#"{"jsonrpc":"2.0","id":7,"params":{}}"#).unwrap();
        assert_eq!(r["error"]["code"], -32600);
        assert_eq!(r["id"], 7);
        assert!(reply("[1,2]").is_some());
    }
}
