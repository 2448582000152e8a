//! Access tokens: where they come from and how long they are reused.
//!
//! Zoho allows about 10 access tokens per refresh token per 10 minutes, so a
//! token is cached until shortly before it expires and refreshes are
//! single-flight: the cache sits behind one async mutex that is held across
//! the refresh, so twenty parallel calls cause at most one refresh. Across
//! processes (Claude Desktop runs several copies of one login), credentials
//! that keep the token where other processes see it name a lock file
//! ([`Credentials::refresh_lock`]): the refresh takes it, re-reads the kept
//! token, and refreshes only if that is still needed.
//!
//! Where the refresh credentials live is not this module's business: the
//! [`Credentials`] trait is implemented by plain values (env credentials,
//! the sandbox) and by the keychain layer, which opens the keychain lazily.
//!
//! When the accounts server throttles (`Access Denied`, "too many requests
//! continuously"), every further token request extends the lock-out, so this
//! source sends none for [`THROTTLE_HOLD`] and answers with the same advice.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::Mutex;

use super::ZohoError;
use super::dc::{api_domain_for_accounts, check_base_url};
use super::http::{MAX_TOKEN_BODY_BYTES, read_capped, without_url};

/// A boxed, sendable future: the trait objects here are used behind `Arc<dyn _>`.
pub use futures::future::BoxFuture;

/// Refresh a token this long before Zoho says it expires (at most half its life),
/// so a request never races the expiry.
const EXPIRY_MARGIN: Duration = Duration::from_secs(120);

/// How long no token request is sent after Zoho's throttle answer: Zoho's
/// advice is "try again after some time", about 10 minutes in practice.
pub const THROTTLE_HOLD: Duration = Duration::from_secs(600);

/// An access token with what came with it.
#[derive(Clone)]
pub struct AccessToken {
    /// The bearer secret, sent as `Authorization: Zoho-oauthtoken …`.
    pub secret: SecretString,
    /// The API domain from the token response (multi-DC), if any.
    pub api_domain: Option<String>,
    /// When Zoho will stop accepting it.
    pub expires_at: SystemTime,
    /// Changes on every refresh, so a caller can tell whether the token it
    /// saw rejected has already been replaced by someone else.
    pub generation: u64,
}

impl AccessToken {
    fn fresh_enough(&self) -> bool {
        let now = SystemTime::now();
        match self.expires_at.duration_since(now) {
            Ok(left) => left > EXPIRY_MARGIN,
            Err(_) => false,
        }
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"[redacted]")
            .field("api_domain", &self.api_domain)
            .field("expires_at", &self.expires_at)
            .field("generation", &self.generation)
            .finish()
    }
}

/// What a token source makes of Zoho refusing its login.
pub enum Refusal {
    /// The error stands.
    Keep,
    /// Another login is in use now: send the request once more.
    Retry,
    /// Give this error instead (one with a consent link).
    Replace(ZohoError),
}

/// Gives the client a valid access token.
pub trait TokenSource: Send + Sync {
    /// A token that is not about to expire, refreshed if needed.
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, ZohoError>>;
    /// Zoho refused `stale`: refresh, unless another caller already did.
    fn refresh_after_rejection<'a>(
        &'a self,
        stale: &'a AccessToken,
    ) -> BoxFuture<'a, Result<AccessToken, ZohoError>>;
    /// Zoho refused the login behind these tokens
    /// ([`ZohoError::is_login_refused`]). A source that can use another
    /// login or connect again says what to do; the others keep Zoho's error.
    /// `may_retry`: the request has not been sent again yet.
    fn login_refused<'a>(
        &'a self,
        _err: &'a ZohoError,
        _may_retry: bool,
    ) -> BoxFuture<'a, Refusal> {
        Box::pin(async { Refusal::Keep })
    }
}

/// What a refresh needs. The secrets never appear in `Debug`.
#[derive(Clone)]
pub struct RefreshCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
    pub refresh_token: SecretString,
    /// The accounts server that issued the refresh token (the user's own DC).
    pub accounts_url: String,
    /// API domain remembered from login, used when a refresh response lacks one.
    pub api_domain: Option<String>,
}

impl fmt::Debug for RefreshCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .field("accounts_url", &self.accounts_url)
            .field("api_domain", &self.api_domain)
            .finish()
    }
}

/// Where refresh credentials come from, and where access tokens are kept
/// between runs. Implemented by [`RefreshCredentials`] (env, sandbox) and by
/// the keychain store.
pub trait Credentials: Send + Sync {
    /// Loads the refresh credentials. Called lazily, on the first call that
    /// needs a token, so start-up never touches the keychain.
    fn load(&self) -> BoxFuture<'_, Result<RefreshCredentials, ZohoError>>;
    /// An access token kept from an earlier run, if any.
    fn cached_access_token(&self) -> BoxFuture<'_, Option<AccessToken>> {
        Box::pin(async { None })
    }
    /// Keeps a fresh access token for later runs (best effort).
    fn store_access_token<'a>(&'a self, _token: &'a AccessToken) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
    /// The lock file that makes refreshes of these credentials single-flight
    /// across processes, for credentials whose kept token other processes
    /// read ([`Credentials::cached_access_token`]); `None`: this process only.
    fn refresh_lock(&self) -> Option<std::path::PathBuf> {
        None
    }
}

impl Credentials for RefreshCredentials {
    fn load(&self) -> BoxFuture<'_, Result<RefreshCredentials, ZohoError>> {
        let c = self.clone();
        Box::pin(async move { Ok(c) })
    }
}

/// The token source used when nothing is configured: every call explains how
/// to log in, and the server still starts and lists its tools.
pub struct MissingCredentials(pub String);

impl TokenSource for MissingCredentials {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, ZohoError>> {
        Box::pin(async { Err(ZohoError::NotLoggedIn(self.0.clone())) })
    }
    fn refresh_after_rejection<'a>(
        &'a self,
        _stale: &'a AccessToken,
    ) -> BoxFuture<'a, Result<AccessToken, ZohoError>> {
        self.token()
    }
}

#[derive(Default)]
struct State {
    creds: Option<RefreshCredentials>,
    current: Option<AccessToken>,
    tried_cache: bool,
    generation: u64,
    /// Set by a throttle answer: no token request before this instant.
    throttled_until: Option<Instant>,
}

/// Refresh-token grant against `{accounts}/oauth/v2/token`, cached and single-flight.
pub struct RefreshTokenSource {
    http: super::http::Http,
    creds: Arc<dyn Credentials>,
    state: Mutex<State>,
    refreshes: AtomicU64,
}

impl RefreshTokenSource {
    /// `http` should have a timeout and no redirects (see `BiginClient`).
    pub fn new(http: impl Into<super::http::Http>, creds: Arc<dyn Credentials>) -> Self {
        RefreshTokenSource {
            http: http.into(),
            creds,
            state: Mutex::new(State::default()),
            refreshes: AtomicU64::new(0),
        }
    }

    /// How many refresh requests this source has sent (for tests and benchmarks).
    pub fn refresh_count(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// Refreshes now, whatever the cache holds (`status` asks "does a
    /// refresh work?"), and keeps the new token like any other.
    pub async fn force_refresh(&self) -> Result<AccessToken, ZohoError> {
        self.get(None, true).await
    }

    async fn get(&self, stale: Option<u64>, force: bool) -> Result<AccessToken, ZohoError> {
        let mut st = self.state.lock().await;
        if force {
            st.tried_cache = true;
            st.current = None;
        }
        if let Some(cur) = &st.current {
            let replaced = stale.is_some_and(|g| g != cur.generation);
            if (stale.is_none() || replaced) && cur.fresh_enough() {
                return Ok(cur.clone());
            }
        }
        if stale.is_none() && !st.tried_cache {
            st.tried_cache = true;
            if let Some(mut t) = self.creds.cached_access_token().await
                && t.fresh_enough()
            {
                st.generation += 1;
                t.generation = st.generation;
                st.current = Some(t.clone());
                return Ok(t);
            }
        }
        if st.throttled_until.is_some_and(|t| Instant::now() < t) {
            return Err(ZohoError::auth("access_denied"));
        }
        // Other processes of this login: wait for any refresh they run, then
        // take the token it kept unless it is the one being replaced.
        let _shared = match self.creds.refresh_lock() {
            Some(path) => {
                let lock =
                    tokio::task::spawn_blocking(move || crate::fsx::FileLock::acquire(&path))
                        .await
                        .ok()
                        .and_then(|r| {
                            r.map_err(
                        |e| tracing::warn!(error = %e, "refreshing without the cross-process lock"),
                    )
                    .ok()
                        });
                if !force
                    && let Some(mut t) = self.creds.cached_access_token().await
                    && t.fresh_enough()
                {
                    let replaced = st
                        .current
                        .as_ref()
                        .is_none_or(|c| c.secret.expose_secret() != t.secret.expose_secret());
                    if stale.is_none() || replaced {
                        st.generation += 1;
                        t.generation = st.generation;
                        st.current = Some(t.clone());
                        return Ok(t);
                    }
                }
                lock
            }
            None => None,
        };
        let creds = match &st.creds {
            Some(c) => c.clone(),
            None => {
                let c = self.creds.load().await?;
                st.creds = Some(c.clone());
                c
            }
        };
        let refreshed = self.refresh(&creds).await;
        if let Err(e) = &refreshed
            && e.is_token_throttle()
        {
            st.throttled_until = Some(Instant::now() + THROTTLE_HOLD);
        }
        let mut token = refreshed?;
        st.generation += 1;
        token.generation = st.generation;
        st.current = Some(token.clone());
        self.creds.store_access_token(&token).await;
        Ok(token)
    }

    async fn refresh(&self, creds: &RefreshCredentials) -> Result<AccessToken, ZohoError> {
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        let accounts = check_base_url(&creds.accounts_url).map_err(ZohoError::NotLoggedIn)?;
        let url = format!("{accounts}/oauth/v2/token");
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.client_secret.expose_secret()),
            ("refresh_token", creds.refresh_token.expose_secret()),
        ];
        tracing::debug!(%url, "refreshing the access token");
        let mut last_err = None;
        // One retry for transport failures and 5xx: a refresh is idempotent.
        for attempt in 0..2 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            let resp = match self.http.post(&url).form(&form).send().await {
                Ok(r) => r,
                Err(e) => {
                    last_err = Some(format!(
                        "cannot reach the Zoho accounts server at {accounts}: {}",
                        without_url(&e)
                    ));
                    continue;
                }
            };
            let status = resp.status();
            let body = match read_capped(resp, MAX_TOKEN_BODY_BYTES).await {
                Ok(Some(b)) => b,
                Ok(None) => {
                    return Err(ZohoError::TooLarge {
                        what: "the token refresh".into(),
                        limit: MAX_TOKEN_BODY_BYTES,
                    });
                }
                Err(e) => {
                    last_err = Some(format!(
                        "the Zoho accounts server at {accounts} dropped the answer: {}",
                        without_url(&e)
                    ));
                    continue;
                }
            };
            if status.is_server_error() {
                last_err = Some(format!(
                    "the Zoho accounts server at {accounts} answered HTTP {status}"
                ));
                continue;
            }
            return parse_token_response(status.as_u16(), &body, creds, &accounts);
        }
        Err(ZohoError::Unavailable {
            message: last_err.unwrap_or_default() + "; retry in a moment",
        })
    }
}

/// Reads a token endpoint answer (refresh or code exchange). Zoho reports
/// errors inside HTTP 200 as `{"error": "<code>"}`. The `api_domain` is
/// returned as given: callers decide on fallbacks and checks.
pub(crate) fn access_token_from(v: &Value, what: &str) -> Result<AccessToken, ZohoError> {
    if let Some(code) = v.get("error").and_then(Value::as_str) {
        let description = v.get("error_description").and_then(Value::as_str);
        return Err(ZohoError::token_endpoint(code, description));
    }
    let Some(secret) = v.get("access_token").and_then(Value::as_str) else {
        return Err(ZohoError::Decode {
            what: what.into(),
            message: "no access_token and no error in the answer".into(),
        });
    };
    let expires_in = v.get("expires_in").and_then(Value::as_u64).unwrap_or(3600);
    Ok(AccessToken {
        secret: SecretString::from(secret.to_string()),
        api_domain: v
            .get("api_domain")
            .and_then(Value::as_str)
            .map(str::to_string),
        expires_at: SystemTime::now() + Duration::from_secs(expires_in),
        generation: 0,
    })
}

/// A refresh answer, with the API domain falling back to the login's and
/// then to the data-centre table, and checked before a token goes there.
fn parse_token_response(
    status: u16,
    body: &[u8],
    creds: &RefreshCredentials,
    accounts: &str,
) -> Result<AccessToken, ZohoError> {
    let v: Value = serde_json::from_slice(body).map_err(|_| ZohoError::Decode {
        what: "the token refresh".into(),
        message: format!("HTTP {status} with a body that is not JSON"),
    })?;
    let mut token = access_token_from(&v, "the token refresh")?;
    let api_domain = token
        .api_domain
        .take()
        .or_else(|| creds.api_domain.clone())
        .or_else(|| api_domain_for_accounts(accounts).map(str::to_string));
    token.api_domain = match api_domain {
        Some(d) => Some(check_base_url(&d).map_err(|m| ZohoError::Decode {
            what: "the token refresh's api_domain".into(),
            message: m,
        })?),
        None => None,
    };
    Ok(token)
}

impl TokenSource for RefreshTokenSource {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, ZohoError>> {
        Box::pin(self.get(None, false))
    }
    fn refresh_after_rejection<'a>(
        &'a self,
        stale: &'a AccessToken,
    ) -> BoxFuture<'a, Result<AccessToken, ZohoError>> {
        Box::pin(self.get(Some(stale.generation), false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> RefreshCredentials {
        RefreshCredentials {
            client_id: "1000.X".into(),
            client_secret: SecretString::from("s3cret-value".to_string()),
            refresh_token: SecretString::from("1000.refresh-value".to_string()),
            accounts_url: "https://accounts.zoho.eu".into(),
            api_domain: None,
        }
    }

    #[test]
    fn debug_output_hides_secrets() {
        let d = format!("{:?}", creds());
        assert!(
            !d.contains("s3cret-value") && !d.contains("refresh-value"),
            "{d}"
        );
        let t = AccessToken {
            secret: SecretString::from("1000.access-value".to_string()),
            api_domain: None,
            expires_at: SystemTime::now(),
            generation: 1,
        };
        assert!(!format!("{t:?}").contains("access-value"));
    }

    #[test]
    fn token_errors_inside_http_200_are_errors() {
        let e = parse_token_response(
            200,
            br#"{"error":"invalid_code"}"#,
            &creds(),
            "https://accounts.zoho.eu",
        )
        .unwrap_err();
        assert_eq!(e.code(), Some("invalid_code"));
    }

    #[test]
    fn api_domain_falls_back_to_the_dc_table() {
        let t = parse_token_response(
            200,
            br#"{"access_token":"a","expires_in":3600}"#,
            &creds(),
            "https://accounts.zoho.eu",
        )
        .unwrap();
        assert_eq!(t.api_domain.as_deref(), Some("https://www.zohoapis.eu"));
        let t = parse_token_response(
            200,
            br#"{"access_token":"a","api_domain":"https://www.zohoapis.in"}"#,
            &creds(),
            "https://accounts.zoho.eu",
        )
        .unwrap();
        assert_eq!(t.api_domain.as_deref(), Some("https://www.zohoapis.in"));
        // An api_domain that would carry the token over plain http is refused.
        assert!(
            parse_token_response(
                200,
                br#"{"access_token":"a","api_domain":"http://evil.example"}"#,
                &creds(),
                "https://accounts.zoho.eu"
            )
            .is_err()
        );
    }
}
