//! [`BiginClient`]: every Bigin v2 call goes through one `send`, which adds
//! the `Zoho-oauthtoken` header and turns Zoho's answers into values or
//! [`ZohoError`]s.
//!
//! Retry rules (why: Zoho rate-limits per org and rarely says for how long):
//! - 401 `INVALID_TOKEN` / `AUTHENTICATION_FAILURE`: one refresh, one retry.
//! - 429: wait `Retry-After` when given, else exponential backoff with
//!   jitter; at most `max_rate_limit_wait` of waiting in all, then an error
//!   that says when to retry.
//! - 5xx, timeouts, dropped connections: bounded retries for reads only; a
//!   write is never repeated blindly, because its outcome is unknown.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap, RETRY_AFTER};
use schemars::JsonSchema;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::http::{Http, without_url};
use super::models::{Interner, Org, Profile, Role, User};
use super::{TokenSource, ZohoError, ZohoId};

tokio::task_local! {
    /// Zoho API requests sent by the current task, when it counts them.
    static REQUESTS: std::cell::Cell<u32>;
    /// Told of each page of users the current task reads, when it watches.
    static ON_PAGE: PageHook;
}

/// Told after each page of users: pages read so far, users read so far.
pub type PageHook = Arc<dyn Fn(u32, usize) + Send + Sync>;

/// Runs `f`, telling `hook` of every page of users it reads. A task-local
/// rather than a parameter: the reads sit below the session cache and the
/// review, which need not know that someone is watching (MCP progress).
pub async fn observe_pages<F: std::future::Future>(hook: PageHook, f: F) -> F::Output {
    ON_PAGE.scope(hook, f).await
}

fn page_read(pages: u32, users: usize) {
    let _ = ON_PAGE.try_with(|h| h(pages, users));
}

/// Runs `f` and counts the Zoho API requests it sends, retries included:
/// each costs an API credit (1 for the reads this server makes).
pub async fn count_requests<F: std::future::Future>(f: F) -> (F::Output, u32) {
    REQUESTS
        .scope(std::cell::Cell::new(0), async move {
            let out = f.await;
            (out, REQUESTS.with(std::cell::Cell::get))
        })
        .await
}

/// Most 429 retries of one request, whatever the waits add up to.
const MAX_RATE_LIMIT_RETRIES: u32 = 8;

/// Largest page Zoho serves.
const PER_PAGE: u32 = 200;
/// Stop paging after this many pages (100,000 users): a guard against an API
/// that keeps saying `more_records: true`.
const MAX_PAGES: u32 = 500;

/// Zoho's user-list `type` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
pub enum UserType {
    #[default]
    AllUsers,
    ActiveUsers,
    DeactiveUsers,
    ConfirmedUsers,
    NotConfirmedUsers,
    DeletedUsers,
    ActiveConfirmedUsers,
    AdminUsers,
    ActiveConfirmedAdmins,
    CurrentUser,
}

impl UserType {
    /// The query-string value.
    pub fn as_str(self) -> &'static str {
        match self {
            UserType::AllUsers => "AllUsers",
            UserType::ActiveUsers => "ActiveUsers",
            UserType::DeactiveUsers => "DeactiveUsers",
            UserType::ConfirmedUsers => "ConfirmedUsers",
            UserType::NotConfirmedUsers => "NotConfirmedUsers",
            UserType::DeletedUsers => "DeletedUsers",
            UserType::ActiveConfirmedUsers => "ActiveConfirmedUsers",
            UserType::AdminUsers => "AdminUsers",
            UserType::ActiveConfirmedAdmins => "ActiveConfirmedAdmins",
            UserType::CurrentUser => "CurrentUser",
        }
    }
}

/// Tunables; the defaults suit real Zoho, tests shorten them.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Overrides the token response's `api_domain` (`--api-domain`).
    pub api_domain_override: Option<String>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Total time spent waiting out 429s before giving up.
    pub max_rate_limit_wait: Duration,
    /// Extra attempts for reads after a 5xx, timeout or dropped connection.
    pub read_retries: u32,
    /// First backoff step; doubles each attempt, with jitter.
    pub backoff_base: Duration,
    /// Largest answer read from Zoho. A page of 200 users is about 250 KB;
    /// anything near this is not a Bigin answer and must not take the
    /// process's memory with it.
    pub max_body_bytes: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            api_domain_override: None,
            timeout: Duration::from_secs(30),
            max_rate_limit_wait: Duration::from_secs(20),
            read_retries: 2,
            backoff_base: Duration::from_millis(500),
            max_body_bytes: 32 << 20,
        }
    }
}

/// One page of `GET /users`, each user still raw JSON.
#[derive(Debug)]
pub struct RawUsersPage {
    pub users: Vec<Box<RawValue>>,
    pub more_records: bool,
}

/// A user record that does not parse.
pub(crate) fn decode_users(e: &serde_json::Error) -> ZohoError {
    ZohoError::Decode {
        what: "the user list".into(),
        message: e.to_string(),
    }
}

fn too_many_pages() -> ZohoError {
    ZohoError::Decode {
        what: "the user list".into(),
        message: format!("more than {MAX_PAGES} pages; stopped paging"),
    }
}

/// Reads each record of a list into its typed form.
fn typed<T: serde::de::DeserializeOwned>(
    list: Vec<Value>,
    what: &str,
) -> Result<Vec<T>, ZohoError> {
    list.into_iter()
        .map(|v| {
            serde_json::from_value(v).map_err(|e| ZohoError::Decode {
                what: what.into(),
                message: e.to_string(),
            })
        })
        .collect()
}

/// The success element of a write (`{"code":"SUCCESS","details":..,"message":..}`).
#[derive(Debug, Clone, Serialize)]
pub struct RecordOutcome {
    pub code: String,
    pub message: String,
}

/// A user to add (`POST /users`): role and profile are ids.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub first_name: Option<&'a str>,
    pub last_name: &'a str,
    pub email: &'a str,
    pub role: ZohoId,
    pub profile: ZohoId,
}

/// A Bigin v2 client for one organisation.
pub struct BiginClient {
    http: Http,
    tokens: Arc<dyn TokenSource>,
    opts: ClientOptions,
    /// The API domain of the last request, to name the data centre.
    api_domain: std::sync::Mutex<Option<String>>,
}

impl BiginClient {
    /// A client that takes tokens from `tokens`.
    pub fn new(http: impl Into<Http>, tokens: Arc<dyn TokenSource>, opts: ClientOptions) -> Self {
        BiginClient {
            http: http.into(),
            tokens,
            opts,
            api_domain: std::sync::Mutex::new(None),
        }
    }

    /// The API domain requests went to, once one has been sent.
    pub fn api_domain(&self) -> Option<String> {
        self.api_domain
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The token source (to share it, e.g. with a second client).
    pub fn tokens(&self) -> &Arc<dyn TokenSource> {
        &self.tokens
    }

    /// One page of users as raw JSON, one slice per user: a tenth of the
    /// memory of parsed values, for callers that need only a few fields.
    pub async fn list_users_page_raw(
        &self,
        ty: UserType,
        page: u32,
        per_page: u32,
    ) -> Result<RawUsersPage, ZohoError> {
        #[derive(Deserialize)]
        struct Info {
            more_records: Option<bool>,
        }
        // The error fields sit beside `users`: Zoho sends request-level
        // errors inside HTTP 200 too, and one read must see both.
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            users: Option<Vec<Box<RawValue>>>,
            info: Option<Info>,
            code: Option<String>,
            status: Option<String>,
            message: Option<String>,
            details: Option<Value>,
        }
        let query = [
            ("type", ty.as_str().to_string()),
            ("page", page.to_string()),
            ("per_page", per_page.to_string()),
        ];
        let Some(bytes) = self.send_raw(Method::GET, "/users", &query, None).await? else {
            // 204: Zoho's own way of saying "no users" (or no more pages).
            return Ok(RawUsersPage {
                users: vec![],
                more_records: false,
            });
        };
        let p: Page = serde_json::from_slice(&bytes).map_err(|e| decode_users(&e))?;
        if p.status.as_deref() == Some("error") || (p.users.is_none() && p.code.is_some()) {
            return Err(ZohoError::api(
                200,
                p.code.as_deref().unwrap_or("UNKNOWN"),
                p.message.as_deref().unwrap_or(""),
                p.details.unwrap_or(Value::Null),
            ));
        }
        let Some(users) = p.users else {
            return Err(ZohoError::Decode {
                what: "the user list".into(),
                message: "the answer has no `users` list, so it cannot say whether there are users; nothing is reported as empty without Zoho saying so".into(),
            });
        };
        let more_records = match p.info.as_ref().and_then(|i| i.more_records) {
            Some(m) => m,
            // An empty list is "no users" only with its `info`; Zoho's
            // usual "none" is a 204, so a bare `[]` is not trusted.
            None if users.is_empty() => {
                return Err(ZohoError::Decode {
                    what: "the user list".into(),
                    message: "an empty `users` list without its `info` block; Zoho says \"no users\" with HTTP 204, so this answer is not read as none".into(),
                });
            }
            // No `info`: assume a full page means there may be more.
            None => users.len() as u32 >= per_page,
        };
        Ok(RawUsersPage {
            users,
            more_records,
        })
    }

    /// Fetches every page of users of a type, each user read into a
    /// [`User`] as its page arrives, so at most one page is ever held raw.
    pub async fn list_users(&self, ty: UserType) -> Result<Vec<User>, ZohoError> {
        let mut all = Vec::new();
        let mut interner = Interner::default();
        for page in 1..=MAX_PAGES {
            let p = self.list_users_page_raw(ty, page, PER_PAGE).await?;
            let done = !p.more_records || p.users.is_empty();
            for raw in p.users {
                all.push(User::from_json(raw.get(), &mut interner).map_err(|e| decode_users(&e))?);
            }
            page_read(page, all.len());
            if done {
                return Ok(all);
            }
        }
        Err(too_many_pages())
    }

    /// Calls `f` with each page of raw users in turn, for callers that must
    /// return some records exactly as Zoho sent them. `f` returns false to
    /// stop paging early.
    pub async fn for_each_users_page(
        &self,
        ty: UserType,
        mut f: impl FnMut(Vec<Box<RawValue>>) -> Result<bool, ZohoError>,
    ) -> Result<(), ZohoError> {
        let mut read = 0;
        for page in 1..=MAX_PAGES {
            let p = self.list_users_page_raw(ty, page, PER_PAGE).await?;
            let done = !p.more_records || p.users.is_empty();
            read += p.users.len();
            page_read(page, read);
            if !f(p.users)? || done {
                return Ok(());
            }
        }
        Err(too_many_pages())
    }

    /// Fetches one user; `None` when Zoho has no such user (HTTP 204).
    pub async fn get_user(&self, id: &ZohoId) -> Result<Option<Value>, ZohoError> {
        let path = format!("/users/{id}");
        let Some(body) = self.send(Method::GET, &path, &[], None).await? else {
            return Ok(None);
        };
        // Zoho has been seen answering an odd id with the *current* user:
        // never act on a record other than the one asked for.
        the_one(body, "users", id, &format!("user {id}")).map(Some)
    }

    /// `GET /settings/roles`.
    pub async fn list_roles(&self) -> Result<Vec<Role>, ZohoError> {
        match self.send(Method::GET, "/settings/roles", &[], None).await? {
            Some(body) => typed(records(body, "roles", "the role list")?, "the role list"),
            None => Ok(vec![]),
        }
    }

    /// `GET /settings/profiles`.
    pub async fn list_profiles(&self) -> Result<Vec<Profile>, ZohoError> {
        match self
            .send(Method::GET, "/settings/profiles", &[], None)
            .await?
        {
            Some(body) => typed(
                records(body, "profiles", "the profile list")?,
                "the profile list",
            ),
            None => Ok(vec![]),
        }
    }

    /// `GET /settings/profiles/{id}`, with `permissions_details`; `None` if unknown.
    pub async fn get_profile(&self, id: &ZohoId) -> Result<Option<Profile>, ZohoError> {
        let path = format!("/settings/profiles/{id}");
        let what = format!("profile {id}");
        match self.send(Method::GET, &path, &[], None).await? {
            Some(body) => {
                let one = the_one(body, "profiles", id, &what)?;
                Ok(typed(vec![one], &what)?.pop())
            }
            None => Ok(None),
        }
    }

    /// `GET /org` (Zoho wraps the one organisation in an array).
    pub async fn get_org(&self) -> Result<Org, ZohoError> {
        let what = "the organisation";
        let Some(body) = self.send(Method::GET, "/org", &[], None).await? else {
            return Err(ZohoError::Decode {
                what: what.into(),
                message: "Zoho answered with no organisation record (HTTP 204 or an empty body)"
                    .into(),
            });
        };
        let list = records(body, "org", what)?;
        match list.len() {
            1 if list[0].is_object() => Ok(typed(list, what)?.remove(0)),
            n => Err(ZohoError::Decode {
                what: what.into(),
                message: format!("expected one organisation record in `org`, got {n}"),
            }),
        }
    }

    /// `PUT /users/{id}` with `{"status": status}` (`active` / `inactive`).
    pub async fn set_user_status(
        &self,
        id: &ZohoId,
        status: &str,
    ) -> Result<RecordOutcome, ZohoError> {
        let body = json!({ "users": [ { "id": id.as_str(), "status": status } ] });
        let path = format!("/users/{id}");
        let answer = self.send(Method::PUT, &path, &[], Some(&body)).await?;
        record_outcome(answer, "users", id, "the status change")
    }

    /// `PUT /users/{id}` with a new role and/or profile id (shared notes 4.3).
    pub async fn update_user(
        &self,
        id: &ZohoId,
        role: Option<&ZohoId>,
        profile: Option<&ZohoId>,
    ) -> Result<RecordOutcome, ZohoError> {
        let mut user = serde_json::Map::new();
        user.insert("id".into(), id.as_str().into());
        if let Some(r) = role {
            user.insert("role".into(), r.as_str().into());
        }
        if let Some(p) = profile {
            user.insert("profile".into(), p.as_str().into());
        }
        let body = json!({ "users": [ user ] });
        let path = format!("/users/{id}");
        let answer = self.send(Method::PUT, &path, &[], Some(&body)).await?;
        record_outcome(answer, "users", id, "the role/profile change")
    }

    /// `POST /users` with one user (shared notes 4.2); returns the new id.
    /// Zoho invites the person by email; they stay unconfirmed until they
    /// accept.
    pub async fn create_user(
        &self,
        user: &NewUser<'_>,
    ) -> Result<(ZohoId, RecordOutcome), ZohoError> {
        let mut u = serde_json::Map::new();
        if let Some(f) = user.first_name {
            u.insert("first_name".into(), f.into());
        }
        u.insert("last_name".into(), user.last_name.into());
        u.insert("email".into(), user.email.into());
        u.insert("role".into(), user.role.as_str().into());
        u.insert("profile".into(), user.profile.as_str().into());
        let body = json!({ "users": [ u ] });
        let what = "the new user";
        let answer = self.send(Method::POST, "/users", &[], Some(&body)).await?;
        let Some(body) = answer else {
            return Err(ZohoError::Decode {
                what: what.into(),
                message: "Zoho answered with no body; check the user list before retrying".into(),
            });
        };
        let list = records(body, "users", what)?;
        let [rec] = list.as_slice() else {
            return Err(ZohoError::Decode {
                what: what.into(),
                message: format!(
                    "expected one `users` result element, got {}; check the user list before retrying",
                    list.len()
                ),
            });
        };
        let field = |k: &str| rec.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        match rec.get("status").and_then(Value::as_str) {
            Some("success") => {
                let id = rec
                    .get("details")
                    .and_then(|d| d.get("id"))
                    .and_then(id_str)
                    .and_then(|i| ZohoId::parse(&i, "id").ok())
                    .ok_or_else(|| ZohoError::Decode {
                        what: what.into(),
                        message: "Zoho reported success without the new user's id; check the user list before retrying".into(),
                    })?;
                Ok((
                    id,
                    RecordOutcome {
                        code: field("code"),
                        message: field("message"),
                    },
                ))
            }
            Some("error") => Err(ZohoError::Record {
                code: field("code"),
                message: field("message"),
                details: rec.get("details").cloned().unwrap_or(Value::Null),
            }),
            _ => Err(ZohoError::Decode {
                what: what.into(),
                message: "the result element has no status; check the user list before retrying"
                    .into(),
            }),
        }
    }

    /// `DELETE /users/{id}`.
    pub async fn delete_user(&self, id: &ZohoId) -> Result<RecordOutcome, ZohoError> {
        let path = format!("/users/{id}");
        let answer = self.send(Method::DELETE, &path, &[], None).await?;
        record_outcome(answer, "users", id, "the deletion")
    }

    /// Sends one request with the retry rules in the module docs. `Ok(None)`
    /// is Zoho's "nothing" (204, 304 or an empty body).
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Option<Value>, ZohoError> {
        match self.send_raw(method.clone(), path, query, body).await? {
            None => Ok(None),
            Some(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|_| ZohoError::Decode {
                        what: format!("{method} {path}"),
                        message: "a 2xx answer whose body is not JSON".into(),
                    })
            }
        }
    }

    /// [`Self::send`] without parsing a 2xx body: `Ok(None)` for "nothing",
    /// else the body's bytes.
    async fn send_raw(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Option<Vec<u8>>, ZohoError> {
        let is_read = method == Method::GET;
        let mut token = self.tokens.token().await?;
        let mut refreshed = false;
        let mut rate_waits = 0u32;
        let mut waited = Duration::ZERO;
        let mut failures = 0u32;
        loop {
            let base = match (&self.opts.api_domain_override, &token.api_domain) {
                (Some(d), _) | (None, Some(d)) => d.clone(),
                (None, None) => {
                    return Err(ZohoError::NotLoggedIn(
                        "no API domain is known for this login; pass --api-domain (e.g. https://www.zohoapis.eu) or run `bigin-mcp login` again".into(),
                    ));
                }
            };
            let url = format!("{base}/bigin/v2{path}");
            let _ = REQUESTS.try_with(|n| n.set(n.get() + 1));
            *self.api_domain.lock().unwrap_or_else(|p| p.into_inner()) = Some(base.clone());
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header(
                    AUTHORIZATION,
                    format!("Zoho-oauthtoken {}", token.secret.expose_secret()),
                )
                .timeout(self.opts.timeout);
            if !query.is_empty() {
                req = req.query(query);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            tracing::debug!(%method, %path, "calling Zoho");
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry_after = retry_after(resp.headers());
                    match read_capped(resp, self.opts.max_body_bytes).await {
                        Ok(Some(bytes)) => Ok((status, retry_after, bytes)),
                        Ok(None) => {
                            let limit = self.opts.max_body_bytes;
                            return Err(if is_read {
                                ZohoError::TooLarge {
                                    what: format!("{method} {path}"),
                                    limit,
                                }
                            } else {
                                unavailable(
                                    &method,
                                    path,
                                    &format!("an answer over {} MiB", limit >> 20),
                                    false,
                                )
                            });
                        }
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            let (status, retry_after, bytes) = match outcome {
                Ok(x) => x,
                Err(e) => {
                    if is_read && failures < self.opts.read_retries {
                        failures += 1;
                        tracing::warn!(%path, error = %without_url(&e), "retrying a read after a transport error");
                        tokio::time::sleep(self.backoff(failures)).await;
                        continue;
                    }
                    return Err(unavailable(&method, path, &without_url(&e), is_read));
                }
            };
            let blank = bytes.iter().all(u8::is_ascii_whitespace);
            if (200..=299).contains(&status) {
                return Ok(if status == 204 || blank {
                    None
                } else {
                    Some(bytes)
                });
            }
            // Only error bodies are parsed here; they are small.
            let json: Option<Value> = if blank {
                None
            } else {
                serde_json::from_slice(&bytes).ok()
            };
            match status {
                304 => return Ok(None),
                401 if !refreshed && refreshable(error_code(&json).as_deref()) => {
                    tracing::info!("access token refused; refreshing once");
                    token = self.tokens.refresh_after_rejection(&token).await?;
                    refreshed = true;
                    continue;
                }
                429 => {
                    // Never faster than our own backoff: a `Retry-After: 0`
                    // (or a date in the past) must not turn into a busy loop.
                    let wait = retry_after
                        .unwrap_or_default()
                        .max(self.backoff(rate_waits + 1));
                    let total = waited.checked_add(wait);
                    if rate_waits >= MAX_RATE_LIMIT_RETRIES
                        || total.is_none_or(|t| t > self.opts.max_rate_limit_wait)
                    {
                        return Err(ZohoError::RateLimited {
                            retry_after: Some(retry_after.unwrap_or(wait)),
                        });
                    }
                    rate_waits += 1;
                    waited = total.unwrap_or(waited);
                    tracing::warn!(%path, wait_ms = wait.as_millis() as u64, "rate-limited by Zoho; waiting");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                500..=599 if is_read && failures < self.opts.read_retries => {
                    failures += 1;
                    tracing::warn!(%path, status, "retrying a read after a server error");
                    tokio::time::sleep(self.backoff(failures)).await;
                    continue;
                }
                500..=599 if !is_read => {
                    return Err(unavailable(&method, path, &format!("HTTP {status}"), false));
                }
                _ => return Err(api_error(status, json)),
            }
        }
    }

    /// Exponential backoff with full jitter: uniform in [step/2, step].
    fn backoff(&self, attempt: u32) -> Duration {
        let step = self.opts.backoff_base * 2u32.saturating_pow(attempt.saturating_sub(1).min(6));
        let half = step / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// The body, read chunk by chunk; `None` once it passes `cap` bytes, so a
/// runaway answer costs at most `cap` of memory.
async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Ok(None);
    }
    let mut buf = Vec::with_capacity(resp.content_length().unwrap_or(0) as usize);
    while let Some(chunk) = resp.chunk().await? {
        if buf.len() + chunk.len() > cap {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Some(buf))
}

fn unavailable(method: &Method, path: &str, what: &str, is_read: bool) -> ZohoError {
    let message = if is_read {
        format!("Zoho did not answer {method} {path} after retries ({what}); retry in a minute")
    } else {
        format!(
            "Zoho did not confirm {method} {path} ({what}); the change may or may not have happened. Check the record (e.g. bigin_get_user) before retrying"
        )
    };
    ZohoError::Unavailable { message }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// 401 codes that mean "this access token is no good": refresh once and
/// retry. `INVALID_OAUTHTOKEN` is what a token evicted by Zoho's per-refresh
/// -token limit answers with; no code at all is treated the same way.
fn refreshable(code: Option<&str>) -> bool {
    matches!(
        code,
        None | Some("INVALID_TOKEN" | "INVALID_OAUTHTOKEN" | "AUTHENTICATION_FAILURE")
    )
}

fn error_code(json: &Option<Value>) -> Option<String> {
    json.as_ref()?.get("code")?.as_str().map(str::to_string)
}

fn api_error(status: u16, json: Option<Value>) -> ZohoError {
    match json {
        Some(v) if v.get("code").is_some() => ZohoError::api(
            status,
            v.get("code").and_then(Value::as_str).unwrap_or("UNKNOWN"),
            v.get("message").and_then(Value::as_str).unwrap_or(""),
            v.get("details").cloned().unwrap_or(Value::Null),
        ),
        _ => ZohoError::api(
            status,
            "HTTP_ERROR",
            &format!("HTTP {status} without a Zoho error body"),
            Value::Null,
        ),
    }
}

/// Zoho ids arrive as strings; tolerate numbers (kept exact by serde_json).
pub(crate) fn id_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A request-level error that Zoho sent inside a 2xx answer
/// (`{"code":"INTERNAL_ERROR","status":"error",...}` with HTTP 200).
fn error_in_2xx(body: &Value, key: &str) -> Option<ZohoError> {
    let errorish = body.get("status").and_then(Value::as_str) == Some("error")
        || (body.get(key).is_none() && body.get("code").is_some());
    errorish.then(|| {
        ZohoError::api(
            200,
            body.get("code")
                .and_then(Value::as_str)
                .unwrap_or("UNKNOWN"),
            body.get("message").and_then(Value::as_str).unwrap_or(""),
            body.get("details").cloned().unwrap_or(Value::Null),
        )
    })
}

/// How an answer that lacks the expected list looks, for the error message.
fn shape_of(body: &Value, key: &str) -> String {
    match (body, body.get(key)) {
        (Value::Object(m), _) if m.is_empty() => "an empty object `{}`".into(),
        (_, Some(Value::Null)) => format!("`{key}` is null"),
        (_, Some(other)) => format!("`{key}` is {}", kind_of(other)),
        (Value::Object(m), None) => {
            let keys: Vec<&str> = m.keys().take(5).map(String::as_str).collect();
            format!("no `{key}` (keys: {})", keys.join(", "))
        }
        (other, None) => format!("{} instead of an object", kind_of(other)),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The `key` array of a 2xx answer. Anything else (an error inside HTTP 200,
/// `{}`, `null`) is an error: "none" is only what Zoho said is none.
fn records(body: Value, key: &str, what: &str) -> Result<Vec<Value>, ZohoError> {
    if let Some(e) = error_in_2xx(&body, key) {
        return Err(e);
    }
    match body {
        Value::Object(mut m) if matches!(m.get(key), Some(Value::Array(_))) => {
            match m.remove(key) {
                Some(Value::Array(a)) => Ok(a),
                _ => unreachable!("checked above"),
            }
        }
        other => Err(ZohoError::Decode {
            what: what.into(),
            message: format!("expected a `{key}` array, got {}", shape_of(&other, key)),
        }),
    }
}

/// The record with id `id` in the `key` array. An empty array is not "none"
/// (Zoho says that with a 204), and a record with another id is never taken
/// for the one asked for.
fn the_one(body: Value, key: &str, id: &ZohoId, what: &str) -> Result<Value, ZohoError> {
    let list = records(body, key, what)?;
    let n = list.len();
    list.into_iter()
        .find(|r| r.get("id").and_then(id_str).as_deref() == Some(id.as_str()))
        .ok_or_else(|| ZohoError::Decode {
            what: what.into(),
            message: if n == 0 {
                format!("an empty `{key}` list instead of the record or HTTP 204")
            } else {
                "Zoho returned a different record than the one asked for".into()
            },
        })
}

/// Writes answer 2xx with one element per record; an element may be an error.
fn record_outcome(
    answer: Option<Value>,
    key: &str,
    id: &ZohoId,
    what: &str,
) -> Result<RecordOutcome, ZohoError> {
    let Some(body) = answer else {
        return Err(ZohoError::Decode {
            what: what.into(),
            message: "Zoho answered with no body; check the record before retrying".into(),
        });
    };
    let mut list = records(body, key, what)?;
    if list.len() != 1 {
        return Err(ZohoError::Decode {
            what: what.into(),
            message: format!(
                "expected one `{key}` result element, got {}; check the record before retrying",
                list.len()
            ),
        });
    }
    let rec = list.remove(0);
    let code = rec
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let message = rec
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    // A success for another record is not a success for this one.
    let other_id = rec
        .get("details")
        .and_then(|d| d.get("id"))
        .and_then(id_str)
        .filter(|x| x != id.as_str());
    match rec.get("status").and_then(Value::as_str) {
        Some("success") if other_id.is_none() => Ok(RecordOutcome { code, message }),
        Some("success") => Err(ZohoError::Decode {
            what: what.into(),
            message: format!(
                "Zoho reported success for record {} instead of {id}; check both records before retrying",
                other_id.unwrap_or_default()
            ),
        }),
        Some("error") => Err(ZohoError::Record {
            code,
            message,
            details: rec.get("details").cloned().unwrap_or(Value::Null),
        }),
        _ => Err(ZohoError::Decode {
            what: what.into(),
            message: "the result element has no status; check the record before retrying".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_record_errors_inside_http_200_are_errors() {
        let body = json!({"users":[{"code":"NOT_ALLOWED","details":{},"message":"The primary user cannot be deleted","status":"error"}]});
        let id = ZohoId::parse("1", "id").unwrap();
        let e = record_outcome(Some(body), "users", &id, "x").unwrap_err();
        assert_eq!(e.code(), Some("NOT_ALLOWED"));
        let ok = json!({"users":[{"code":"SUCCESS","details":{"id":"1"},"message":"User deleted","status":"success"}]});
        assert_eq!(
            record_outcome(Some(ok), "users", &id, "x").unwrap().code,
            "SUCCESS"
        );
        assert!(record_outcome(None, "users", &id, "x").is_err());
        let other = json!({"users":[{"code":"SUCCESS","details":{"id":"2"},"message":"User deleted","status":"success"}]});
        assert!(record_outcome(Some(other), "users", &id, "x").is_err());
        let in_200 =
            json!({"code":"INTERNAL_ERROR","details":{},"message":"boom","status":"error"});
        let e = record_outcome(Some(in_200), "users", &id, "x").unwrap_err();
        assert_eq!(e.code(), Some("INTERNAL_ERROR"));
    }

    #[test]
    fn stale_token_codes_trigger_one_refresh_and_scope_errors_do_not() {
        for code in [
            None,
            Some("INVALID_TOKEN"),
            Some("INVALID_OAUTHTOKEN"),
            Some("AUTHENTICATION_FAILURE"),
        ] {
            assert!(refreshable(code), "{code:?}");
        }
        assert!(!refreshable(Some("OAUTH_SCOPE_MISMATCH")));
    }

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let soon = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        h.insert(RETRY_AFTER, soon.parse().unwrap());
        let d = retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
    }

    #[test]
    fn ids_may_be_strings_or_exact_numbers() {
        let v: Value = serde_json::from_str(r#"{"id":4876543000000012345}"#).unwrap();
        assert_eq!(id_str(&v["id"]).unwrap(), "4876543000000012345");
    }
}
