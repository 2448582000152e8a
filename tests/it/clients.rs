//! Where Claude really runs (issue 14) and cancels (issue 15): clients that
//! declare elicitation without showing it, dialogs nobody answers, calls
//! withdrawn before their write is sent, several server processes at once.

use std::sync::{Arc, Mutex};

use bigin_mcp::mcp::{ElicitationPolicy, ServerOptions};
use bigin_mcp::sandbox::Sandbox;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig,
    ClientRequest, ElicitRequestParams, ElicitResult, ElicitationAction, Implementation,
};
use rmcp::service::{PeerRequestOptions, RequestContext, RunningService};
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::common::*;

/// A client called `name` that declares elicitation, records each question
/// and answers "yes" only once `answer` turns true (never, if it does not).
#[derive(Clone)]
struct Dialog {
    name: &'static str,
    asked: Arc<Mutex<Vec<String>>>,
    asked_tx: Arc<watch::Sender<usize>>,
    answer: watch::Receiver<bool>,
}

impl Dialog {
    fn new(name: &'static str) -> (Dialog, watch::Sender<bool>) {
        let (tx, rx) = watch::channel(false);
        let d = Dialog {
            name,
            asked: Default::default(),
            asked_tx: Arc::new(watch::channel(0).0),
            answer: rx,
        };
        (d, tx)
    }

    /// Waits until `n` questions have been asked.
    async fn asked_at_least(&self, n: usize) {
        let mut rx = self.asked_tx.subscribe();
        rx.wait_for(|&k| k >= n).await.unwrap();
    }
}

impl ClientHandler for Dialog {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder().enable_elicitation().build(),
            Implementation::new(self.name, "0"),
        )
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = &request {
            self.asked.lock().unwrap().push(message.clone());
        }
        self.asked_tx.send_modify(|k| *k += 1);
        let mut rx = self.answer.clone();
        let _ = rx.wait_for(|&yes| yes).await;
        Ok(ElicitResult::new(ElicitationAction::Accept).with_content(json!({"confirm": true})))
    }
}

struct Session {
    client: RunningService<RoleClient, Dialog>,
    audit: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn session(sb: &Sandbox, policy: ElicitationPolicy, who: Dialog) -> Session {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.log");
    let (c, _) = client(sb);
    let end = serve_in_process(
        c,
        ServerOptions {
            elicitation: policy,
            ..options(all_tools(), audit.clone())
        },
    );
    Session {
        client: who.serve(end).await.unwrap(),
        audit,
        _dir: dir,
    }
}

fn params(tool: &str, args: Value) -> CallToolRequestParams {
    CallToolRequestParams::new(tool.to_string()).with_arguments(args.as_object().unwrap().clone())
}

impl Session {
    async fn call(&self, tool: &str, args: Value) -> CallToolResult {
        self.client
            .call_tool(params(tool, args))
            .await
            .expect("answered")
    }

    fn audit_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.audit)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits until the audit log has a line with `outcome`.
    async fn audited(&self, outcome: &str) -> Vec<Value> {
        loop {
            let lines = self.audit_lines();
            if lines.iter().any(|l| l["outcome"] == outcome) {
                return lines;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// Active users who are neither the primary user nor administrators.
async fn targets(sb: &Sandbox) -> Vec<Value> {
    let primary = sb.primary_user_id();
    all_users(sb)
        .await
        .into_iter()
        .filter(|u| {
            u["status"] == "active"
                && s(u, "id") != primary
                && u["profile"]["name"] != "Administrator"
        })
        .collect()
}

fn deactivate(u: &Value) -> Value {
    json!({"user_id": u["id"], "status": "inactive", "confirm_email": u["email"]})
}

#[tokio::test]
async fn auto_skips_the_dialog_for_clients_that_never_show_it() {
    let sb = sandbox().await;
    for (name, policy, asked) in [
        ("claude-ai", ElicitationPolicy::Auto, false),
        ("local-agent-mode-42", ElicitationPolicy::Auto, false),
        ("claude-code", ElicitationPolicy::Auto, true),
        ("claude-ai", ElicitationPolicy::Always, true),
    ] {
        let (who, answer) = Dialog::new(name);
        answer.send(true).unwrap();
        let asked_log = who.asked.clone();
        let h = session(&sb, policy, who).await;
        let u = targets(&sb).await.remove(0);
        let r = h.call("bigin_set_user_status", deactivate(&u)).await;
        assert_ne!(r.is_error, Some(true), "{name}: {}", text(&r));
        assert_eq!(
            !asked_log.lock().unwrap().is_empty(),
            asked,
            "{name} under {policy:?}"
        );
        let by = if asked { "person" } else { "confirm_email" };
        let lines = h.audit_lines();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines.iter().all(|l| l["confirmed_by"] == by), "{lines:?}");
    }
}

#[tokio::test]
async fn unanswered_dialogs_never_hold_a_slot_a_read_needs() {
    let sb = sandbox().await;
    let (who, answer) = Dialog::new("person");
    let probe = who.clone();
    let h = Arc::new(session(&sb, ElicitationPolicy::Always, who).await);
    // More writes waiting on dialogs than the server runs calls at once.
    let users = targets(&sb).await;
    let pending: Vec<_> = users[..12]
        .iter()
        .map(|u| {
            let h = Arc::clone(&h);
            let args = deactivate(u);
            tokio::spawn(async move { h.call("bigin_set_user_status", args).await })
        })
        .collect();
    probe.asked_at_least(4).await;
    let page = h
        .call("bigin_list_users", json!({"status": "active", "limit": 5}))
        .await;
    assert_ne!(page.is_error, Some(true), "{}", text(&page));
    assert!(
        pending.iter().all(|p| !p.is_finished()),
        "the read was answered while every write still waited for its person"
    );
    assert!(writes(&sb.requests()).is_empty());
    answer.send(true).unwrap();
    for p in pending {
        let r = p.await.unwrap();
        assert_ne!(r.is_error, Some(true), "{}", text(&r));
    }
    assert_eq!(writes(&sb.requests()).len(), 12);
}

#[tokio::test]
async fn a_dialog_accepted_after_its_call_was_cancelled_changes_nothing() {
    let sb = sandbox().await;
    let (who, answer) = Dialog::new("person");
    let probe = who.clone();
    let h = session(&sb, ElicitationPolicy::Always, who).await;
    let u = targets(&sb).await.remove(0);
    let call = h
        .client
        .peer()
        .send_cancellable_request(
            ClientRequest::CallToolRequest(CallToolRequest::new(params(
                "bigin_set_user_status",
                deactivate(&u),
            ))),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    probe.asked_at_least(1).await;
    call.cancel(Some("the user pressed stop".into()))
        .await
        .unwrap();
    let lines = h.audited("cancelled").await;
    // The person now accepts the stale dialog.
    answer.send(true).unwrap();
    // A later call is answered after anything the cancelled one might do.
    let r = h.call("bigin_get_user", json!({"user_id": u["id"]})).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    assert!(writes(&sb.requests()).is_empty(), "nothing was sent");
    assert_eq!(s(&sb.user(&s(&u, "id")).unwrap(), "status"), "active");
    let outcomes: Vec<_> = h
        .audit_lines()
        .iter()
        .map(|l| l["outcome"].clone())
        .collect();
    assert_eq!(outcomes, [json!("cancelled")], "{lines:?}");
    assert_eq!(h.audit_lines()[0]["confirmed_by"], "none");
}

#[tokio::test]
async fn a_cancel_while_the_put_is_in_flight_is_recorded_as_usual() {
    use bigin_mcp::sandbox::{Fault, FaultKind};
    let sb = sandbox().await;
    let (who, answer) = Dialog::new("person");
    answer.send(true).unwrap();
    let h = session(&sb, ElicitationPolicy::Always, who).await;
    let u = targets(&sb).await.remove(0);
    sb.inject(
        Fault::new(FaultKind::Delay { ms: 300 })
            .on_method("PUT")
            .times(1),
    );
    let call = h
        .client
        .peer()
        .send_cancellable_request(
            ClientRequest::CallToolRequest(CallToolRequest::new(params(
                "bigin_set_user_status",
                deactivate(&u),
            ))),
            PeerRequestOptions::no_options(),
        )
        .await
        .unwrap();
    // Pending is written just before the PUT goes out.
    h.audited("pending").await;
    call.cancel(None).await.unwrap();
    let lines = h.audited("success").await;
    let outcomes: Vec<_> = lines.iter().map(|l| l["outcome"].clone()).collect();
    assert_eq!(outcomes, [json!("pending"), json!("success")]);
    assert_eq!(writes(&sb.requests()).len(), 1);
}

/// A client that records the progress notifications it gets.
#[derive(Clone, Default)]
struct Watcher {
    seen: Arc<Mutex<Vec<rmcp::model::ProgressNotificationParam>>>,
    count: Arc<watch::Sender<usize>>,
}

impl ClientHandler for Watcher {
    async fn on_progress(
        &self,
        params: rmcp::model::ProgressNotificationParam,
        _context: rmcp::service::NotificationContext<RoleClient>,
    ) {
        self.seen.lock().unwrap().push(params);
        self.count.send_modify(|n| *n += 1);
    }
}

#[tokio::test]
async fn long_reads_report_progress_when_asked() {
    let sb = sandbox().await;
    let w = Watcher::default();
    let (c, _) = client(&sb);
    let dir = tempfile::tempdir().unwrap();
    let end = serve_in_process(c, options(all_tools(), dir.path().join("audit.log")));
    // rmcp's client puts a progressToken on every request it sends.
    let client = w.clone().serve(end).await.unwrap();
    for (n, (tool, args)) in [
        ("bigin_list_users", json!({"fresh": true, "limit": 5})),
        ("bigin_access_review", json!({"fresh": true})),
        ("bigin_list_roles", json!({})),
    ]
    .into_iter()
    .enumerate()
    {
        let before = w.seen.lock().unwrap().len();
        let r = client.call_tool(params(tool, args)).await.unwrap();
        assert_ne!(r.is_error, Some(true), "{}", text(&r));
        if tool == "bigin_list_roles" {
            // Reads that do not page through users say nothing; the list
            // call below is answered after anything it could have sent.
            client.list_all_tools().await.unwrap();
            assert_eq!(w.seen.lock().unwrap().len(), before, "{tool}");
            continue;
        }
        let mut rx = w.count.subscribe();
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            rx.wait_for(|&k| k > before),
        )
        .await
        .expect("a progress notification")
        .unwrap();
        let seen = w.seen.lock().unwrap().clone();
        let mine = &seen[before..];
        assert!(mine.len() <= 3, "at most one per page: {mine:?}");
        assert!(
            mine.iter()
                .all(|p| p.progress_token == mine[0].progress_token)
        );
        // The first page of the 450 users is 200 of them.
        assert_eq!(mine[0].progress, 1.0, "{tool} {n}");
        assert_eq!(mine[0].message.as_deref(), Some("read 200 users"));
        assert!(mine.windows(2).all(|w| w[0].progress < w[1].progress));
    }
}

#[tokio::test]
async fn deactivating_an_admin_says_to_lower_the_profile_first() {
    let sb = sandbox().await;
    let h = harness(&sb, all_tools()).await;
    let primary = sb.primary_user_id();
    let users = all_users(&sb).await;
    let admin = users
        .iter()
        .find(|u| {
            u["status"] == "active"
                && s(u, "id") != primary
                && u["profile"]["name"] == "Administrator"
        })
        .expect("the seed has an active administrator besides the primary user");
    let plain = targets(&sb).await.remove(0);
    for dry_run in [true, false] {
        let mut args = deactivate(admin);
        args["dry_run"] = json!(dry_run);
        let r = h.ok("bigin_set_user_status", args).await;
        let m = s(&r, "message");
        assert!(
            m.contains("inactive_admin")
                && m.contains("lower the profile first (bigin_update_user)"),
            "{m}"
        );
    }
    let r = h.ok("bigin_set_user_status", deactivate(&plain)).await;
    assert!(!s(&r, "message").contains("inactive_admin"), "{r}");
    // The review then advises only what the tools can do.
    let review = h.ok("bigin_access_review", json!({"fresh": true})).await;
    let finding = review["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "inactive_admin" && f.to_string().contains(&s(admin, "email")))
        .expect("an inactive_admin finding");
    let text = finding.to_string();
    assert!(
        text.contains("reactivate") && text.contains("bigin_update_user"),
        "{text}"
    );
}

#[tokio::test]
async fn what_the_model_is_given_fits_claude_codes_limits() {
    let sb = sandbox().await;
    let h = harness(&sb, all_tools()).await;
    let instructions = h.client.peer_info().unwrap().instructions.clone().unwrap();
    assert!(instructions.len() < 2048, "{} bytes", instructions.len());
    for t in h.client.list_all_tools().await.unwrap() {
        let d = t.description.as_deref().unwrap_or_default();
        assert!(d.len() < 2048, "{}: {} bytes", t.name, d.len());
    }
    // Reads that can be large raise Claude Code's cap to what they return.
    let u = targets(&sb).await.remove(0);
    let cap = |r: &CallToolResult| {
        r.meta
            .as_ref()
            .and_then(|m| m.0.get("anthropic/maxResultSizeChars"))
            .and_then(Value::as_u64)
    };
    let one = h.call("bigin_get_user", json!({"user_id": u["id"]})).await;
    let full = h
        .call("bigin_list_users", json!({"detail": "full", "limit": 100}))
        .await;
    for r in [&one, &full] {
        let chars = serde_json::to_string(&r.structured_content)
            .unwrap()
            .chars()
            .count()
            .max(text(r).chars().count());
        let cap = cap(r).expect("a cap");
        assert!(chars <= cap as usize && cap <= 500_000, "{chars} > {cap}");
    }
    let concise = h.call("bigin_list_users", json!({"limit": 5})).await;
    assert_eq!(cap(&concise), None);
}

/// Every string in `v`.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn errors_carry_all_their_detail_in_the_text() {
    let sb = sandbox().await;
    let h = harness(&sb, all_tools()).await;
    let u = targets(&sb).await.remove(0);
    let primary = sb.primary_user_id();
    let primary_email = all_users(&sb)
        .await
        .into_iter()
        .find(|x| s(x, "id") == primary)
        .map(|x| s(&x, "email"))
        .unwrap();
    let calls = [
        ("bigin_get_user", json!({"user_id": "12x"}), "user_id"),
        ("bigin_list_users", json!({"limit": 5000}), "limit"),
        (
            "bigin_list_users",
            json!({"profile": "No Such Profile"}),
            "bigin_list_profiles",
        ),
        (
            "bigin_set_user_status",
            json!({"user_id": u["id"], "status": "inactive", "confirm_email": "wrong@example.com"}),
            "confirm_email",
        ),
        (
            "bigin_set_user_status",
            json!({"user_id": primary, "status": "inactive", "confirm_email": primary_email}),
            "primary user",
        ),
        (
            "bigin_update_user",
            json!({"user_id": u["id"], "profile": "Nope", "confirm_email": u["email"]}),
            "profile",
        ),
        (
            "bigin_access_review",
            json!({"since": "yesterday"}),
            "since",
        ),
    ];
    for (tool, args, says) in calls {
        let r = h.call(tool, args).await;
        assert_eq!(r.is_error, Some(true), "{tool}: {}", text(&r));
        let t = text(&r);
        assert!(t.contains(says), "{tool}: {t}");
        if let Some(sc) = &r.structured_content {
            let mut all = Vec::new();
            strings(sc, &mut all);
            for s in all {
                assert!(t.contains(&s), "{tool}: '{s}' is only in structuredContent");
            }
        }
    }
    assert!(writes(&sb.requests()).is_empty());
}
