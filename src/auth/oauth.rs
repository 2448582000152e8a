//! Zoho's OAuth 2.0 authorization-code flow for an installed app: an
//! authorization URL with `state` and PKCE (S256), a one-shot loopback
//! callback on `127.0.0.1:PORT/callback`, the code exchange at the
//! accounts server the callback names, and revocation.
//!
//! The callback's `accounts-server` decides where the client secret goes,
//! so it is trusted only when it is a known Zoho accounts host, or the host
//! of an explicit `--accounts-url` (proxies, the sandbox). Anything else is
//! refused before a secret leaves the machine.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::Html;
use oauth2::{AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::AuthError;
use crate::zoho::{AccessToken, DataCentre, ZohoError, check_base_url};

/// Default loopback port for the callback. Zoho matches redirect URIs
/// exactly, so it is fixed and documented: register
/// `http://127.0.0.1:53682/callback` in the API console.
pub const DEFAULT_PORT: u16 = 53682;

/// The redirect URI for a port.
pub fn redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}/callback")
}

/// The authorization URL and what must be kept to finish the flow.
pub struct Authorization {
    pub url: String,
    pub state: String,
    /// `None` with `login --no-pkce`.
    pub pkce_verifier: Option<SecretString>,
    pub redirect_uri: String,
}

/// Builds the consent URL at `accounts` (comma-separated scopes, offline
/// access, forced consent so a new refresh token is issued), with a PKCE
/// challenge unless `pkce` is false: Zoho documents PKCE for mobile and
/// desktop clients only, so a server-based client might refuse it.
pub fn authorization(
    accounts: &str,
    client_id: &str,
    scopes: &[String],
    port: u16,
    pkce: bool,
) -> Result<Authorization, AuthError> {
    let redirect = redirect_uri(port);
    let client = oauth2::basic::BasicClient::new(ClientId::new(client_id.to_string()))
        .set_auth_uri(
            AuthUrl::new(format!("{accounts}/oauth/v2/auth"))
                .map_err(|e| AuthError::Usage(format!("bad accounts URL: {e}")))?,
        )
        .set_redirect_uri(
            RedirectUrl::new(redirect.clone()).map_err(|e| AuthError::Usage(e.to_string()))?,
        );
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        // One scope parameter, comma-separated, as Zoho documents.
        .add_scope(Scope::new(scopes.join(",")))
        .add_extra_param("access_type", "offline")
        .add_extra_param("prompt", "consent");
    let mut pkce_verifier = None;
    if pkce {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        request = request.set_pkce_challenge(challenge);
        pkce_verifier = Some(SecretString::from(verifier.secret().clone()));
    }
    let (url, state) = request.url();
    Ok(Authorization {
        url: url.to_string(),
        state: state.secret().clone(),
        pkce_verifier,
        redirect_uri: redirect,
    })
}

/// What the browser brought back to the callback.
#[derive(Debug, Clone)]
pub struct Callback {
    pub code: SecretString,
    pub location: Option<String>,
    pub accounts_server: Option<String>,
}

/// Decides where the code may be exchanged (and the secret sent).
pub fn trusted_accounts_server(
    callback_server: Option<&str>,
    start: &str,
    override_url: Option<&str>,
) -> Result<String, AuthError> {
    let Some(server) = callback_server.map(str::trim).filter(|s| !s.is_empty()) else {
        // No `accounts-server`: the server the flow started at issued the code.
        return Ok(start.trim_end_matches('/').to_string());
    };
    let server = server.trim_end_matches('/');
    if DataCentre::from_accounts_url(server).is_some() {
        return Ok(server.to_string());
    }
    if let Some(o) = override_url {
        // Scheme, host and port: another port on the same host is another server.
        let origin = |u: &str| reqwest::Url::parse(u).ok().map(|u| u.origin());
        if origin(o).is_some_and(|x| x.is_tuple()) && origin(o) == origin(server) {
            return check_base_url(server).map_err(AuthError::Callback);
        }
    }
    // The value came from a URL anyone could have crafted: show it tamed.
    let shown: String = server
        .chars()
        .take(100)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    Err(AuthError::Callback(format!(
        "the callback named '{shown}' as the accounts server, which is not a Zoho accounts host; refusing to send the client secret there. Start again; if you use a proxy, pass --accounts-url with its URL"
    )))
}

type Params = HashMap<String, String>;
/// One browser hit on the callback, with where to send the page's verdict.
type Hit = (Params, oneshot::Sender<(bool, String)>);

/// Waits for one `/callback` on `listener`, checks `state`, and answers
/// the browser with the outcome `finish` reports.
pub async fn wait_for_callback<F, Fut, T>(
    listener: tokio::net::TcpListener,
    expected_state: &str,
    timeout: Duration,
    finish: F,
) -> Result<T, AuthError>
where
    F: FnOnce(Callback) -> Fut,
    Fut: std::future::Future<Output = Result<T, AuthError>>,
{
    let (tx, mut rx) = mpsc::channel::<Hit>(1);
    async fn handle(
        State(tx): State<mpsc::Sender<Hit>>,
        Query(params): Query<Params>,
    ) -> Html<String> {
        let (reply_tx, reply_rx) = oneshot::channel();
        if tx.send((params, reply_tx)).await.is_err() {
            return Html(page(
                false,
                "This login attempt is already finished. Run bigin-mcp login again.",
            ));
        }
        let (ok, message) = reply_rx
            .await
            .unwrap_or((false, "The login stopped.".into()));
        Html(page(ok, &message))
    }
    let app = axum::Router::new()
        .route("/callback", axum::routing::get(handle))
        .with_state(tx);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await;
    });

    let outcome = async {
        let Ok(Some((params, reply))) = tokio::time::timeout(timeout, rx.recv()).await else {
            return Err(AuthError::Callback(format!(
                "no answer from the browser within {} s; run bigin-mcp login again (and finish the consent page)",
                timeout.as_secs()
            )));
        };
        let result = check_callback(&params, expected_state);
        let result = match result {
            Ok(cb) => finish(cb).await,
            Err(e) => Err(e),
        };
        let _ = reply.send(match &result {
            Ok(_) => (true, "bigin-mcp is connected to your Zoho organisation and has kept the login.".to_string()),
            Err(e) => (false, e.to_string()),
        });
        result
    }
    .await;
    // Let the page reach the browser before the server goes.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
    outcome
}

fn check_callback(
    params: &HashMap<String, String>,
    expected_state: &str,
) -> Result<Callback, AuthError> {
    // State first, so the message says what really happened. Any mismatch
    // ends the login (the safe reading of a forged or stale redirect).
    if params.get("state").map(String::as_str) != Some(expected_state) {
        return Err(AuthError::Callback(
            "the callback's state does not match this login (a stale or forged redirect); nothing was stored. Run bigin-mcp login again".into(),
        ));
    }
    if let Some(err) = params.get("error") {
        let why = if err == "access_denied" {
            "consent was declined"
        } else {
            "Zoho reported an error"
        };
        return Err(AuthError::Callback(format!(
            "{why} ({err}); nothing was stored. Run bigin-mcp login again and choose Accept"
        )));
    }
    let code = params
        .get("code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            AuthError::Callback("the callback carried no code; run bigin-mcp login again".into())
        })?;
    Ok(Callback {
        code: SecretString::from(code.clone()),
        location: params.get("location").cloned(),
        accounts_server: params.get("accounts-server").cloned(),
    })
}

fn page(ok: bool, message: &str) -> String {
    let title = if ok {
        "bigin-mcp is connected"
    } else {
        "bigin-mcp login failed"
    };
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!doctype html><meta charset=utf-8><title>{title}</title><body style=\"font-family:sans-serif;margin:3em\"><h1>{title}</h1><p>{escaped}</p><p>You can close this tab.</p></body>"
    )
}

/// The tokens a code exchange returns.
pub struct TokenSet {
    pub access: AccessToken,
    /// The granted scopes, when the token response names them.
    pub scopes: Option<Vec<String>>,
    pub refresh_token: Option<SecretString>,
}

/// Exchanges a grant code at `accounts` (form body, as Zoho expects).
/// `redirect_uri` is omitted for Self Client codes.
pub async fn exchange_code(
    http: &reqwest::Client,
    accounts: &str,
    client_id: &str,
    client_secret: &SecretString,
    code: &SecretString,
    redirect_uri: Option<&str>,
    pkce_verifier: Option<&SecretString>,
) -> Result<TokenSet, AuthError> {
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "authorization_code"),
        ("client_id", client_id),
        ("client_secret", client_secret.expose_secret()),
        ("code", code.expose_secret()),
    ];
    if let Some(r) = redirect_uri {
        form.push(("redirect_uri", r));
    }
    if let Some(v) = pkce_verifier {
        form.push(("code_verifier", v.expose_secret()));
    }
    let body = post_form(http, &format!("{accounts}/oauth/v2/token"), &form).await?;
    Ok(TokenSet {
        access: crate::zoho::access_token_from(&body, "the code exchange")?,
        scopes: body.get("scope").and_then(Value::as_str).map(|sc| {
            sc.split([',', ' '])
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        }),
        refresh_token: body
            .get("refresh_token")
            .and_then(Value::as_str)
            .map(|r| SecretString::from(r.to_string())),
    })
}

/// Revokes a refresh token (and its access tokens) at `accounts`.
pub async fn revoke(
    http: &reqwest::Client,
    accounts: &str,
    refresh_token: &SecretString,
) -> Result<(), AuthError> {
    // Zoho documents the token as a query parameter of a POST.
    let url = format!("{accounts}/oauth/v2/token/revoke");
    let resp = http
        .post(&url)
        .query(&[("token", refresh_token.expose_secret())])
        .send()
        .await
        .map_err(|e| unreachable_accounts(accounts, &e))?;
    let status = resp.status();
    let body: Value = match crate::zoho::read_capped(resp, crate::zoho::MAX_TOKEN_BODY_BYTES).await
    {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        Ok(None) => return Err(token_answer_too_large().into()),
        Err(e) => return Err(unreachable_accounts(accounts, &e)),
    };
    if let Some(code) = body.get("error").and_then(Value::as_str) {
        let description = body.get("error_description").and_then(Value::as_str);
        return Err(ZohoError::token_endpoint(code, description).into());
    }
    if !status.is_success() || body.get("status").and_then(Value::as_str) == Some("error") {
        return Err(AuthError::Callback(format!(
            "Zoho answered HTTP {status} to the revocation"
        )));
    }
    Ok(())
}

async fn post_form(
    http: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
) -> Result<Value, AuthError> {
    let accounts = url.split("/oauth/").next().unwrap_or(url);
    let resp = http
        .post(url)
        .form(form)
        .send()
        .await
        .map_err(|e| unreachable_accounts(accounts, &e))?;
    let status = resp.status();
    let bytes = crate::zoho::read_capped(resp, crate::zoho::MAX_TOKEN_BODY_BYTES)
        .await
        .map_err(|e| unreachable_accounts(accounts, &e))?
        .ok_or_else(token_answer_too_large)?;
    serde_json::from_slice(&bytes).map_err(|_| {
        AuthError::Zoho(ZohoError::Decode {
            what: "the token endpoint".into(),
            message: format!("HTTP {status} with a body that is not JSON"),
        })
    })
}

/// The token endpoint's answer passed the cap: it is not a token answer.
fn token_answer_too_large() -> ZohoError {
    ZohoError::TooLarge {
        what: "the token endpoint".into(),
        limit: crate::zoho::MAX_TOKEN_BODY_BYTES,
    }
}

fn unreachable_accounts(accounts: &str, e: &reqwest::Error) -> AuthError {
    AuthError::Zoho(ZohoError::Unavailable {
        message: format!(
            "cannot reach the Zoho accounts server {accounts} ({}); check the network and retry",
            crate::zoho::describe_transport_error(e)
        ),
    })
}

/// Binds the callback port on 127.0.0.1.
pub async fn bind_callback(port: u16) -> Result<(tokio::net::TcpListener, SocketAddr), AuthError> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
        AuthError::Usage(format!(
            "cannot listen on 127.0.0.1:{port} for the login callback ({e}); close what uses it, or pass --port N and register http://127.0.0.1:N/callback as a redirect URI of your Zoho client"
        ))
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| AuthError::Usage(e.to_string()))?;
    Ok((listener, addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_carries_state_pkce_offline_consent_and_comma_scopes() {
        let scopes: Vec<String> = ["ZohoBigin.users.ALL", "ZohoBigin.org.READ"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let a = authorization("https://accounts.zoho.eu", "1000.ID", &scopes, 53682, true).unwrap();
        let url = reqwest::Url::parse(&a.url).unwrap();
        assert_eq!(url.host_str(), Some("accounts.zoho.eu"));
        assert_eq!(url.path(), "/oauth/v2/auth");
        let q: HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["scope"], "ZohoBigin.users.ALL,ZohoBigin.org.READ");
        assert_eq!(q["access_type"], "offline");
        assert_eq!(q["prompt"], "consent");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:53682/callback");
        assert_eq!(q["state"], a.state);
        assert!(q["code_challenge"].len() >= 43);
        assert!(a.pkce_verifier.is_some());
        // `login --no-pkce`: no challenge, nothing to verify later.
        let a =
            authorization("https://accounts.zoho.eu", "1000.ID", &scopes, 53682, false).unwrap();
        let url = reqwest::Url::parse(&a.url).unwrap();
        assert!(
            !url.query_pairs()
                .any(|(k, _)| k.starts_with("code_challenge"))
        );
        assert!(a.pkce_verifier.is_none());
        assert!(url.query_pairs().any(|(k, _)| k == "state"));
    }

    #[test]
    fn only_zoho_hosts_or_the_override_host_are_trusted() {
        let start = "https://accounts.zoho.com";
        // The UK data centre: unconfirmed for Bigin, but a UK callback is
        // not refused.
        assert_eq!(
            trusted_accounts_server(Some("https://accounts.zoho.uk"), start, None).unwrap(),
            "https://accounts.zoho.uk"
        );
        assert_eq!(
            trusted_accounts_server(Some("https://accounts.zoho.eu"), start, None).unwrap(),
            "https://accounts.zoho.eu"
        );
        assert_eq!(trusted_accounts_server(None, start, None).unwrap(), start);
        assert!(trusted_accounts_server(Some("https://evil.example"), start, None).is_err());
        assert!(
            trusted_accounts_server(Some("https://accounts.zoho.eu.evil.example"), start, None)
                .is_err()
        );
        let o = Some("http://127.0.0.1:9000");
        assert_eq!(
            trusted_accounts_server(Some("http://127.0.0.1:9000"), start, o).unwrap(),
            "http://127.0.0.1:9000"
        );
        assert!(trusted_accounts_server(Some("http://localhost:9000"), start, o).is_err());
        // Same host, another port or scheme: not the server the user named.
        assert!(trusted_accounts_server(Some("http://127.0.0.1:9001"), start, o).is_err());
        assert!(trusted_accounts_server(Some("https://127.0.0.1:9000"), start, o).is_err());
        let e = trusted_accounts_server(Some("https://x.example/\u{1b}[2J"), start, None)
            .unwrap_err()
            .to_string();
        assert!(!e.contains('\u{1b}'), "{e}");
    }

    #[test]
    fn callbacks_are_checked_before_anything_is_sent() {
        let p = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>()
        };
        assert!(check_callback(&p(&[("code", "c"), ("state", "s")]), "s").is_ok());
        let e = check_callback(&p(&[("code", "c"), ("state", "x")]), "s")
            .unwrap_err()
            .to_string();
        assert!(e.contains("state"), "{e}");
        let e = check_callback(&p(&[("error", "access_denied"), ("state", "s")]), "s")
            .unwrap_err()
            .to_string();
        assert!(e.contains("declined"), "{e}");
        assert!(check_callback(&p(&[("state", "s")]), "s").is_err());
    }
}
