//! [`BiginClient`]: every Bigin v2 call goes through one `send`, which adds
//! the `Zoho-oauthtoken` header and turns Zoho's answers into values or
//! [`ZohoError`]s. The endpoints themselves are in `calls`, the reading of
//! Zoho's answer shapes in `answers`.
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
use secrecy::ExposeSecret;
use serde_json::Value;

use super::answers::api_error;
use super::http::{Http, read_capped, without_url};
use super::{AccessToken, Refusal, TokenSource, ZohoError};

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

pub(super) fn page_read(pages: u32, users: usize) {
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

/// Counts one request for [`count_requests`] (each costs an API credit).
pub(super) fn count_one_request() {
    let _ = REQUESTS.try_with(|n| n.set(n.get() + 1));
}

/// Most 429 retries of one request, whatever the waits add up to.
const MAX_RATE_LIMIT_RETRIES: u32 = 8;

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

tokio::task_local! {
    /// Set while requests run that the caller did not ask for.
    static REFUSALS_UNREPORTED: ();
}

/// Runs `f` without telling the token source when Zoho refuses the login:
/// for requests nobody asked for (naming the organisation in a result),
/// whose refusal, such as a login without that scope, must never end a
/// login that serves the calls it was made for.
pub async fn refusals_unreported<F: std::future::Future>(f: F) -> F::Output {
    REFUSALS_UNREPORTED.scope((), f).await
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

    /// `--api-domain`, when it overrides the token's.
    pub fn api_domain_override(&self) -> Option<String> {
        self.opts.api_domain_override.clone()
    }

    /// The token source (to share it, e.g. with a second client).
    pub fn tokens(&self) -> &Arc<dyn TokenSource> {
        &self.tokens
    }
    /// Sends one request with the retry rules in the module docs. `Ok(None)`
    /// is Zoho's "nothing" (204, 304 or an empty body).
    pub(super) async fn send(
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
    /// else the body's bytes. A refused login is told to the token source,
    /// which may answer with its own error (a consent link) or, having
    /// taken up a newer login, have the request sent once more.
    pub(super) async fn send_raw(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Option<Vec<u8>>, ZohoError> {
        let mut may_retry = true;
        loop {
            let r = self.send_raw_once(method.clone(), path, query, body).await;
            let reported = || REFUSALS_UNREPORTED.try_with(|_| ()).is_err();
            match r {
                Err(e) if e.is_login_refused() && reported() => {
                    match self.tokens.login_refused(&e, may_retry).await {
                        Refusal::Retry if may_retry => may_retry = false,
                        Refusal::Replace(r) => return Err(r),
                        _ => return Err(e),
                    }
                }
                r => return r,
            }
        }
    }

    async fn send_raw_once(
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
            let base = self.base_for(&token)?;
            let url = format!("{base}/bigin/v2{path}");
            count_one_request();
            self.remember_api_domain(&base);
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
                    // Zoho documents no `Retry-After`; CRM's 429 sample has
                    // `details.retry_after` in the body instead.
                    let retry_after = retry_after.or_else(|| retry_after_in_body(json.as_ref()));
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

    /// The API domain a request with `token` goes to.
    pub(super) fn base_for(&self, token: &AccessToken) -> Result<String, ZohoError> {
        match (&self.opts.api_domain_override, &token.api_domain) {
            (Some(d), _) | (None, Some(d)) => Ok(d.clone()),
            (None, None) => Err(ZohoError::NotLoggedIn(
                "no API domain is known for this login; pass --api-domain (e.g. https://www.zohoapis.eu) or run `bigin-mcp login` again".into(),
            )),
        }
    }

    pub(super) fn remember_api_domain(&self, base: &str) {
        *self.api_domain.lock().unwrap_or_else(|p| p.into_inner()) = Some(base.to_string());
    }

    pub(super) fn http(&self) -> &Http {
        &self.http
    }

    pub(super) fn options(&self) -> &ClientOptions {
        &self.opts
    }

    /// Exponential backoff with full jitter: uniform in [step/2, step].
    fn backoff(&self, attempt: u32) -> Duration {
        let step = self.opts.backoff_base * 2u32.saturating_pow(attempt.saturating_sub(1).min(6));
        let half = step / 2;
        half + half.mul_f64(fastrand::f64())
    }
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

/// `details.retry_after` of a 429 body, in seconds (a number or a numeric
/// string); capped at a day so a silly value cannot overflow a deadline.
fn retry_after_in_body(json: Option<&Value>) -> Option<Duration> {
    let v = json?.get("details")?.get("retry_after")?;
    let secs = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_429_body_may_say_how_long_to_wait() {
        let body = |v: Value| {
            Some(serde_json::json!({"code":"TOO_MANY_REQUESTS","details":{"retry_after": v}}))
        };
        assert_eq!(
            retry_after_in_body(body(7.into()).as_ref()),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after_in_body(body("12".into()).as_ref()),
            Some(Duration::from_secs(12))
        );
        assert_eq!(retry_after_in_body(body((-1).into()).as_ref()), None);
        assert_eq!(retry_after_in_body(body(Value::Null).as_ref()), None);
        assert_eq!(retry_after_in_body(None), None);
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
}
