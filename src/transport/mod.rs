//! The line-delimited JSON-RPC transport for `serve`, and the session rules
//! that rmcp leaves to it. `messages` reads and writes the lines; this file
//! runs the reader, the writer task and the drain.
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

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{Sink, Stream};
use rmcp::RoleServer;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::admin::shutdown::Shutdown;

mod messages;
#[cfg(test)]
mod tests;

use messages::{Flight, Incoming, State, error_line, incoming, outgoing_line};

/// Lines longer than this are refused rather than buffered without bound.
const MAX_LINE: usize = 16 * 1024 * 1024;

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
