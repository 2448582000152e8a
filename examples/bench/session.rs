//! One running `bigin-mcp serve` and the client side of its MCP session,
//! spoken as raw newline-delimited JSON-RPC: spawn, initialize, calls with
//! a timeout, and the process's memory.

use super::*;

/// One running server and the client side of its MCP session.
pub(super) struct Session {
    pub(super) child: Child,
    pub(super) stdin: Option<ChildStdin>,
    /// Lines from the server's stdout. A thread reads them so that every
    /// wait can be bounded with `recv_timeout`; a blocking read cannot be.
    pub(super) lines: Receiver<String>,
    pub(super) next_id: u64,
    /// Replies that arrived while we waited for another id: JSON-RPC allows
    /// any order.
    pub(super) early: HashMap<u64, Value>,
    pub(super) notes: Notes,
}

impl Session {
    pub(super) fn spawn(mut cmd: Command) -> Result<Session> {
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        // Bounded, so a server spewing output cannot fill our memory while we
        // wait for a reply. The thread is not joined: it ends at EOF, or when
        // the receiver is dropped.
        let (tx, lines) = mpsc::sync_channel(1024);
        thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf).trim_end().to_string();
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Ok(Session {
            child,
            stdin,
            lines,
            next_id: 1,
            early: HashMap::new(),
            notes: Notes::default(),
        })
    }

    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(super) fn send(&mut self, msg: &Value) -> Result<()> {
        let stdin = self.stdin.as_mut().ok_or("stdin already closed")?;
        // One write per message, newline-terminated: the MCP stdio framing.
        let mut line = serde_json::to_string(msg)?;
        line.push('\n');
        stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("cannot write to the server: {e}"))?;
        Ok(())
    }

    /// Sends a request and returns its `result` (an `error` reply is an error).
    pub(super) fn request(&mut self, method: &str, params: Option<Value>) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if let Some(p) = params {
            msg["params"] = p;
        }
        self.send(&msg)?;
        let mut reply = self.wait_for(id)?;
        if let Some(e) = reply.get("error") {
            return Err(format!("{method} (id {id}) failed: {e}").into());
        }
        reply
            .get_mut("result")
            .map(Value::take)
            .ok_or_else(|| format!("{method} (id {id}): reply has neither result nor error").into())
    }

    pub(super) fn notify(&mut self, method: &str) -> Result<()> {
        self.send(&json!({"jsonrpc": "2.0", "method": method}))
    }

    /// Reads until the reply with `id`, stashing other replies and noting
    /// anything that is not a reply.
    pub(super) fn wait_for(&mut self, id: u64) -> Result<Value> {
        if let Some(v) = self.early.remove(&id) {
            return Ok(v);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            // Checked before every read: a server that keeps talking without
            // ever answering must still time out.
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(
                    format!("no reply to request {id} within {} s", TIMEOUT.as_secs()).into(),
                );
            }
            let line = match self.lines.recv_timeout(left) {
                Ok(l) => l,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(
                        format!("no reply to request {id} within {} s", TIMEOUT.as_secs()).into(),
                    );
                }
                Err(RecvTimeoutError::Disconnected) => {
                    // stdout closing usually means the process is exiting;
                    // give it a moment so the message can say how.
                    let mut status = None;
                    for _ in 0..100 {
                        status = self.child.try_wait().ok().flatten();
                        if status.is_some() {
                            break;
                        }
                        thread::sleep(Duration::from_millis(2));
                    }
                    return Err(format!(
                        "the server closed stdout before replying to request {id} (exit: {})",
                        status.map_or("still running".to_string(), |s| s.to_string())
                    )
                    .into());
                }
            };
            self.classify(line, Some(id));
            if let Some(v) = self.early.remove(&id) {
                return Ok(v);
            }
        }
    }

    /// Files one line from stdout: replies go to `early`; everything else
    /// becomes a note. Requests from the server get a "method not found" so
    /// it is never left waiting on us.
    pub(super) fn classify(&mut self, line: String, waiting_for: Option<u64>) {
        if line.trim().is_empty() {
            self.notes.add("blank line on stdout");
            return;
        }
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            self.notes
                .add(format!("non-JSON line on stdout: {}", shorten(&line, 80)));
            return;
        };
        let method = msg
            .get("method")
            .and_then(Value::as_str)
            .map(str::to_string);
        match (msg.get("id").cloned(), method) {
            (Some(rid), None) => match rid.as_u64() {
                Some(r) if r < self.next_id && !self.early.contains_key(&r) => {
                    if waiting_for.is_some_and(|w| w != r) {
                        self.notes.add("a reply arrived out of order");
                    }
                    self.early.insert(r, msg);
                }
                _ => self.notes.add(format!(
                    "reply with an id we did not send or already got: {}",
                    shorten(&line, 120)
                )),
            },
            (Some(rid), Some(m)) => {
                self.notes.add(format!("server sent a request: {m}"));
                // Best effort: while closing, stdin is already gone.
                let _ = self.send(&json!({"jsonrpc": "2.0", "id": rid,
                    "error": {"code": -32601, "message": "Method not found"}}));
            }
            (None, Some(m)) => self.notes.add(format!("server sent a notification: {m}")),
            (None, None) => self.notes.add(format!(
                "message with neither id nor method: {}",
                shorten(&line, 120)
            )),
        }
    }

    /// initialize, then notifications/initialized.
    pub(super) fn initialize(&mut self) -> Result<()> {
        let init = self.request(
            "initialize",
            Some(json!({
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "bench", "version": "0"}
            })),
        )?;
        let v = init.get("protocolVersion").and_then(Value::as_str);
        if v != Some(PROTOCOL_VERSION) {
            self.notes.add(format!(
                "initialize answered protocolVersion {v:?}, we offered {PROTOCOL_VERSION}"
            ));
        }
        self.notify("notifications/initialized")
    }

    /// The whole MCP start-up a host does; returns the tools/list result.
    pub(super) fn handshake(&mut self) -> Result<Value> {
        self.initialize()?;
        self.request("tools/list", None)
    }

    /// Calls a tool; a tool error (`isError`) fails the benchmark, since a
    /// figure over failed calls would mean nothing.
    pub(super) fn call(&mut self, name: &str, args: Value) -> Result<Value> {
        let started = Instant::now();
        let result = self.request(
            "tools/call",
            Some(json!({"name": name, "arguments": args.clone()})),
        )?;
        let took = started.elapsed();
        if took > SLOW_CALL {
            self.notes
                .add(format!("slow call: {name} {args} took {:.0} ms", ms(took)));
        }
        if result.get("isError").and_then(Value::as_bool) == Some(true) {
            return Err(format!(
                "{name} {args} returned a tool error: {}",
                shorten(text_of(&result), 300)
            )
            .into());
        }
        if result.get("structuredContent").is_none() {
            self.notes
                .add(format!("{name}: result has no structuredContent"));
        }
        Ok(result)
    }

    /// A call timed from the write to the matching reply, in ms.
    pub(super) fn timed_call(&mut self, name: &str, args: &Value) -> Result<f64> {
        let t = Instant::now();
        self.call(name, args.clone())?;
        Ok(ms(t.elapsed()))
    }

    /// Closes stdin (the server exits on EOF), waits for the exit, and
    /// returns the time the exit took. Output after the last reply is noted.
    pub(super) fn close(&mut self, notes: &mut Notes) -> Result<f64> {
        let t = Instant::now();
        drop(self.stdin.take());
        let status = self.wait_exit()?;
        let exit_ms = ms(t.elapsed());
        if !status.success() {
            self.notes
                .add(format!("server exited with {status} after EOF"));
        }
        // The reader ends once stdout closes; whatever is left was sent after
        // the last reply we waited for.
        let deadline = Instant::now() + TIMEOUT;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => self.classify(line, None),
                Err(_) => break,
            }
        }
        notes.merge(std::mem::take(&mut self.notes));
        Ok(exit_ms)
    }

    pub(super) fn wait_exit(&mut self) -> Result<ExitStatus> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(s) = self.child.try_wait()? {
                return Ok(s);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(format!(
                    "the server did not exit within {} s of stdin closing; killed it",
                    TIMEOUT.as_secs()
                )
                .into());
            }
            thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for Session {
    /// On an error path the server may still run; never leave it behind.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Odd things seen on the wire, with how often; printed at the end.
#[derive(Default)]
pub(super) struct Notes(pub(super) BTreeMap<String, usize>);

impl Notes {
    pub(super) fn add(&mut self, note: impl Into<String>) {
        *self.0.entry(note.into()).or_default() += 1;
    }
    pub(super) fn merge(&mut self, other: Notes) {
        for (k, n) in other.0 {
            *self.0.entry(k).or_default() += n;
        }
    }
    pub(super) fn lines(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|(k, n)| {
                if *n == 1 {
                    k.clone()
                } else {
                    format!("{k} (x{n})")
                }
            })
            .collect()
    }
}

pub(super) fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(max).collect::<String>())
    }
}
