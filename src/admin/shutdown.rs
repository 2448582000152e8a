//! [`Shutdown`]: the one switch a SIGTERM or SIGINT flips. The transport
//! stops reading and drains; the write guard refuses writes it has not sent
//! yet, so only writes already on their way to Zoho are waited for.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// A cheap-to-clone, one-way switch.
#[derive(Clone, Default)]
pub struct Shutdown(Arc<Inner>);

#[derive(Default)]
struct Inner {
    on: AtomicBool,
    notify: Notify,
}

impl Shutdown {
    /// Flips the switch; every waiter wakes.
    pub fn trigger(&self) {
        self.0.on.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Whether [`Self::trigger`] has been called.
    pub fn is_triggered(&self) -> bool {
        self.0.on.load(Ordering::SeqCst)
    }

    /// Resolves once the switch is flipped (at once if it already is).
    pub async fn wait(&self) {
        loop {
            let notified = self.0.notify.notified();
            tokio::pin!(notified);
            // Registered before the check, so a trigger in between is seen.
            notified.as_mut().enable();
            if self.is_triggered() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_wake_on_trigger_and_late_waiters_return_at_once() {
        let s = Shutdown::default();
        let w = tokio::spawn({
            let s = s.clone();
            async move { s.wait().await }
        });
        tokio::task::yield_now().await;
        assert!(!s.is_triggered());
        s.trigger();
        tokio::time::timeout(std::time::Duration::from_secs(5), w)
            .await
            .expect("the waiter woke")
            .unwrap();
        s.wait().await;
    }
}
