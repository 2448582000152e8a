//! The session cache: users, roles, profiles, profile permissions and the
//! organisation, kept for a short TTL so that an access review followed by
//! a few lookups costs Zoho credits once (Bigin Free has 5,000 a day).
//!
//! Rules: each entry is fetched by one caller at a time (others wait and
//! share the answer); `fresh` bypasses and refreshes it; a write by this
//! server drops the users (roles and profiles do not change with a user's
//! status). A fetch that started before a drop is not stored, so a list
//! read while a write was on its way is never served afterwards.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::zoho::{Org, Profile, Role, User, UserType, ZohoError};

/// How long an entry is served without asking Zoho again.
pub const DEFAULT_TTL: Duration = Duration::from_secs(120);

/// One cached value with single-flight fetching.
pub struct Slot<T> {
    flight: tokio::sync::Mutex<()>,
    value: Mutex<Option<(Instant, u64, Arc<T>)>>,
    generation: AtomicU64,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            flight: tokio::sync::Mutex::new(()),
            value: Mutex::new(None),
            generation: AtomicU64::new(0),
        }
    }
}

impl<T> Slot<T> {
    /// The value, from the cache when it is younger than `ttl` and `fresh`
    /// is false; the flag says whether it came from the cache.
    pub async fn get<F, Fut>(
        &self,
        ttl: Duration,
        fresh: bool,
        fetch: F,
    ) -> Result<(Arc<T>, bool), ZohoError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, ZohoError>>,
    {
        let cached = || {
            let g = self.generation.load(Ordering::SeqCst);
            let v = self.value.lock().unwrap_or_else(|p| p.into_inner());
            v.as_ref()
                .filter(|(at, gen_, _)| *gen_ == g && at.elapsed() < ttl)
                .map(|(_, _, x)| Arc::clone(x))
        };
        if !fresh && let Some(v) = cached() {
            return Ok((v, true));
        }
        let _one_at_a_time = self.flight.lock().await;
        // Whoever held the flight may have just fetched it.
        if !fresh && let Some(v) = cached() {
            return Ok((v, true));
        }
        let started = self.generation.load(Ordering::SeqCst);
        let v = Arc::new(fetch().await?);
        if self.generation.load(Ordering::SeqCst) == started {
            *self.value.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((Instant::now(), started, Arc::clone(&v)));
        }
        Ok((v, false))
    }

    /// Drops the value; a fetch in flight will not store its answer.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        *self.value.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// Everything the tools read more than once per session.
pub struct Cache {
    pub ttl: Duration,
    users: Mutex<HashMap<UserType, Arc<Slot<Vec<User>>>>>,
    pub roles: Slot<Vec<Role>>,
    pub profiles: Slot<Vec<Profile>>,
    profile_details: Mutex<HashMap<String, Arc<Slot<Option<Profile>>>>>,
    pub org: Slot<Org>,
}

impl Cache {
    pub fn new(ttl: Duration) -> Cache {
        Cache {
            ttl,
            users: Mutex::default(),
            roles: Slot::default(),
            profiles: Slot::default(),
            profile_details: Mutex::default(),
            org: Slot::default(),
        }
    }

    /// The slot of one user list type.
    pub fn users(&self, ty: UserType) -> Arc<Slot<Vec<User>>> {
        let mut m = self.users.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(m.entry(ty).or_default())
    }

    /// The slot of one profile's detail (with permissions).
    pub fn profile_detail(&self, id: &str) -> Arc<Slot<Option<Profile>>> {
        let mut m = self
            .profile_details
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        Arc::clone(m.entry(id.to_string()).or_default())
    }

    /// After a write to users: every user list is stale.
    pub fn users_changed(&self) {
        let m = self.users.lock().unwrap_or_else(|p| p.into_inner());
        for slot in m.values() {
            slot.invalidate();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test]
    async fn one_fetch_serves_concurrent_callers_until_invalidated() {
        let slot: Slot<u32> = Slot::default();
        let fetches = AtomicUsize::new(0);
        let fetch = || async {
            fetches.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(7)
        };
        let ttl = Duration::from_secs(60);
        let (a, b) = tokio::join!(slot.get(ttl, false, fetch), slot.get(ttl, false, fetch));
        assert_eq!((*a.unwrap().0, *b.unwrap().0), (7, 7));
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert!(slot.get(ttl, false, fetch).await.unwrap().1, "from cache");
        assert!(
            !slot.get(ttl, true, fetch).await.unwrap().1,
            "fresh bypasses"
        );
        slot.invalidate();
        assert!(!slot.get(ttl, false, fetch).await.unwrap().1);
        assert_eq!(fetches.load(Ordering::SeqCst), 3);
        // Expired entries are fetched again.
        assert!(!slot.get(Duration::ZERO, false, fetch).await.unwrap().1);
    }

    #[tokio::test]
    async fn a_fetch_overtaken_by_a_write_is_not_stored() {
        let slot: Arc<Slot<u32>> = Arc::default();
        let s2 = Arc::clone(&slot);
        let ttl = Duration::from_secs(60);
        let slow = tokio::spawn(async move {
            s2.get(ttl, false, || async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(1)
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        slot.invalidate();
        slow.await.unwrap().unwrap();
        let (v, cached) = slot.get(ttl, false, || async { Ok(2) }).await.unwrap();
        assert_eq!((*v, cached), (2, false));
    }
}
