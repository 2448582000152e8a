//! MCP progress for the long reads: when a `tools/call` carries
//! `_meta.progressToken`, each page of users read sends
//! `notifications/progress` (pages so far, and "read 400 users"), at most
//! a few a second. Claude Code shows them and they reset its idle clock.
//! The pages are seen through [`crate::zoho::observe_pages`], so the
//! session and the review stay unaware of MCP.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::RoleServer;
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::{Peer, RequestContext};

use crate::zoho::{PageHook, observe_pages};

/// The tools whose reads page through every user.
pub(crate) const TOOLS: &[&str] = &["bigin_list_users", "bigin_access_review"];

/// Least time between two notifications of one call.
const MIN_GAP: Duration = Duration::from_millis(250);

/// Where one call's progress goes: its token and its client.
pub(crate) struct Watch {
    token: ProgressToken,
    peer: Peer<RoleServer>,
}

impl Watch {
    /// The call's watcher, when it asked for progress.
    pub(crate) fn of(ctx: &RequestContext<RoleServer>) -> Option<Watch> {
        Some(Watch {
            token: ctx.meta.get_progress_token()?,
            peer: ctx.peer.clone(),
        })
    }
}

/// The text of one notification.
fn message(users: usize) -> String {
    format!("read {users} users")
}

/// Runs `f`, reporting the pages of users it reads to `watch` (if any).
/// Every notification is sent before this returns, so none follows the
/// call's result.
pub(crate) async fn reporting<F: Future>(watch: Option<Watch>, f: F) -> F::Output {
    let Some(Watch { token, peer }) = watch else {
        return f.await;
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u32, usize)>();
    let forward = tokio::spawn(async move {
        while let Some((pages, users)) = rx.recv().await {
            let mut p = ProgressNotificationParam::new(token.clone(), f64::from(pages));
            p.message = Some(message(users));
            if let Err(e) = peer.notify_progress(p).await {
                tracing::debug!(error = %e, "cannot send a progress notification");
                break;
            }
        }
    });
    let last: Mutex<Option<Instant>> = Mutex::new(None);
    let hook: PageHook = Arc::new(move |pages, users| {
        let now = Instant::now();
        let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| now.duration_since(t) < MIN_GAP) {
            return;
        }
        *last = Some(now);
        let _ = tx.send((pages, users));
    });
    // The hook, and with it the channel's sender, goes with the scope: the
    // forwarder then sends what is queued and ends.
    let out = observe_pages(hook, f).await;
    let _ = forward.await;
    out
}
