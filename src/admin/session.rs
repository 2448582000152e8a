//! [`Session`]: one organisation as this process sees it: the Zoho client
//! and the session cache in front of its reads (users, roles, profiles,
//! profile details, the organisation), plus the profile facts the review
//! and the profile tools judge administrators by.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;

use super::cache::{Cache, DEFAULT_TTL};
use super::error::AdminError;
use super::permissions::summarize;
use super::review::ProfileFacts;
use super::user::Named;

/// Whether `e` says the endpoint does not exist here (as Bigin may lack
/// `GET /settings/profiles/{id}`), rather than that the call failed.
fn endpoint_absent(e: &ZohoError) -> bool {
    matches!(e, ZohoError::Api { status: 404, .. }) || e.code() == Some("INVALID_URL_PATTERN")
}
use crate::zoho::{
    BiginClient, DataCentre, Org, Profile, RefForm, Role, User, UserType, ZohoError, ZohoId,
};

/// Which organisation a login reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgName {
    pub id: String,
    /// Zoho's `company_name` (empty when it sends none).
    pub name: String,
}

impl std::fmt::Display for OrgName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name.trim() {
            "" => write!(f, "organisation {}", self.id),
            name => write!(f, "{name} ({})", self.id),
        }
    }
}

/// The client and its cache; share it behind an `Arc`.
pub struct Session {
    client: BiginClient,
    cache: Cache,
    /// The organisation as the last read saw it (a login made again may
    /// reach another one).
    known_org: std::sync::RwLock<Option<OrgName>>,
    /// A read only to name the organisation failed (say, a login without
    /// its scope): not tried again.
    org_unreadable: AtomicBool,
    /// Whether role/profile writes go as `{"id":…}` objects: set once a
    /// write read back as taken only in that form, so later writes start
    /// with the form that worked (Bigin documents neither).
    object_refs: AtomicBool,
}

/// A read: the value, and whether it came from the cache.
pub type Read<T> = Result<(Arc<T>, bool), ZohoError>;

impl Session {
    /// A session with an empty cache of the default lifetime.
    pub fn new(client: BiginClient) -> Session {
        Session {
            client,
            cache: Cache::new(DEFAULT_TTL),
            known_org: std::sync::RwLock::new(None),
            org_unreadable: AtomicBool::new(false),
            object_refs: AtomicBool::new(false),
        }
    }

    /// The role/profile body form to try first.
    pub fn ref_form(&self) -> RefForm {
        if self.object_refs.load(Ordering::Relaxed) {
            RefForm::Object
        } else {
            RefForm::IdString
        }
    }

    /// Remembers the form a write was read back as taken in.
    pub fn ref_form_worked(&self, form: RefForm) {
        self.object_refs
            .store(form == RefForm::Object, Ordering::Relaxed);
    }

    pub fn client(&self) -> &BiginClient {
        &self.client
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    // ---- reads through the session cache: (value, came from the cache) ----

    pub async fn users(&self, ty: UserType, fresh: bool) -> Read<Vec<User>> {
        let c = &self.cache;
        c.users(ty)
            .get(c.ttl, fresh, || self.client.list_users(ty))
            .await
    }

    pub async fn roles(&self, fresh: bool) -> Read<Vec<Role>> {
        let c = &self.cache;
        c.roles.get(c.ttl, fresh, || self.client.list_roles()).await
    }

    pub async fn profiles(&self, fresh: bool) -> Read<Vec<Profile>> {
        let c = &self.cache;
        c.profiles
            .get(c.ttl, fresh, || self.client.list_profiles())
            .await
    }

    pub async fn org(&self, fresh: bool) -> Read<Org> {
        let c = &self.cache;
        let got = c.org.get(c.ttl, fresh, || self.client.get_org()).await;
        if let (Ok((org, _)), Ok(mut known)) = (&got, self.known_org.write()) {
            *known = Some(OrgName {
                id: org.id.clone(),
                name: org.company_name.clone().unwrap_or_default(),
            });
        }
        got
    }

    /// The organisation as the last read saw it (no request).
    pub fn known_org(&self) -> Option<OrgName> {
        self.known_org.read().ok()?.clone()
    }

    /// The organisation this login reaches: as last seen, else read once,
    /// within `within`. `None` when it cannot be read (no login yet, no
    /// scope for it: then not tried again) or not in time. A refusal of
    /// this read never ends the login ([`crate::zoho::refusals_unreported`]).
    pub async fn org_name(&self, within: std::time::Duration) -> Option<OrgName> {
        if let Some(o) = self.known_org() {
            return Some(o);
        }
        if self.org_unreadable.load(Ordering::Relaxed) {
            return None;
        }
        let read = crate::zoho::refusals_unreported(self.org(false));
        match tokio::time::timeout(within, read).await {
            Ok(Ok(_)) => self.known_org(),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "the organisation cannot be read to name it");
                // A login that may not read it never will; a passing
                // failure is tried again at the next call.
                if e.is_login_refused() || e.code() == Some("NO_PERMISSION") {
                    self.org_unreadable.store(true, Ordering::Relaxed);
                }
                None
            }
            Err(_) => None,
        }
    }

    pub async fn profile_detail(&self, id: &ZohoId, fresh: bool) -> Read<Option<Profile>> {
        let c = &self.cache;
        c.profile_detail(id.as_str())
            .get(c.ttl, fresh, || self.client.get_profile(id))
            .await
    }

    /// Every profile's permissions, at most four requests at a time (Zoho's
    /// concurrency limits are per organisation); the flag says whether all
    /// came from the cache.
    ///
    /// `GET /settings/profiles/{id}` is documented for CRM only: when it
    /// answers 404 (`INVALID_URL_PATTERN`) or carries no permissions,
    /// the profile list's entry is read instead (one more credit, once per
    /// cache lifetime); when that carries none either, the facts say why in
    /// `unknown`. Other errors are returned.
    pub async fn profile_facts<'p, P: Named + 'p>(
        &self,
        profiles: impl IntoIterator<Item = &'p P>,
        fresh: bool,
    ) -> (Vec<Result<ProfileFacts, AdminError>>, bool) {
        // The list is read once for all of them, even when `fresh`.
        let list = tokio::sync::OnceCell::new();
        let list = &list;
        let reads: Vec<_> = profiles
            .into_iter()
            .map(|p| async move {
                let id = ZohoId::parse(p.id(), "profile id")?;
                let path = format!("GET /settings/profiles/{id}");
                let (summary, missing, cached) = match self.profile_detail(&id, fresh).await {
                    Ok((detail, cached)) => match detail.as_ref() {
                        Some(d) => match summarize(d) {
                            Some(s) => (Some(s), None, cached),
                            None => (None, Some(format!("{path} carries no permissions")), cached),
                        },
                        // "No such profile" for one users hold contradicts
                        // the user records: not a missing endpoint, so no
                        // fallback (the review refuses).
                        None => (None, None, cached),
                    },
                    Err(e) if endpoint_absent(&e) => {
                        (None, Some(format!("{path} is not available ({e})")), false)
                    }
                    Err(e) => return Err(e.into()),
                };
                let mut facts = ProfileFacts {
                    id: p.id().to_string(),
                    name: p.name().to_string(),
                    summary,
                    unknown: None,
                };
                let Some(missing) = missing else {
                    return Ok((facts, cached));
                };
                match list.get_or_init(|| self.profiles(fresh)).await {
                    Ok((list, c)) => {
                        let listed = list.iter().find(|x| x.id == facts.id).and_then(summarize);
                        if listed.is_none() {
                            facts.unknown = Some(format!(
                                "{missing}, and the profile list carries none for it"
                            ));
                        }
                        facts.summary = listed;
                        Ok((facts, cached && *c))
                    }
                    Err(e) => {
                        facts.unknown = Some(format!(
                            "{missing}, and the profile list cannot be read: {e}"
                        ));
                        Ok((facts, false))
                    }
                }
            })
            .collect();
        let results: Vec<_> = futures::stream::iter(reads).buffered(4).collect().await;
        let all_cached = results.iter().all(|r| matches!(r, Ok((_, true))));
        (
            results.into_iter().map(|r| r.map(|(f, _)| f)).collect(),
            all_cached,
        )
    }

    /// The data centre the requests went to: its code, or the API domain.
    pub fn data_centre(&self) -> String {
        match self.client.api_domain() {
            Some(d) => DataCentre::from_api_domain(&d)
                .map(|dc| dc.code.to_string())
                .unwrap_or(d),
            None => "unknown".into(),
        }
    }
}
