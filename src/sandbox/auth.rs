//! The imitation Zoho accounts server: the token store (refresh tokens,
//! access tokens, grant codes, scopes) and the `/oauth/...` endpoints
//! (consent, token, revoke, serverinfo), following §2 of the shared API notes.
//! Token-endpoint errors are HTTP 200 with `{"error": ...}`, as Zoho does.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::util::{self, html_page, json_response};
use super::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, FaultKind, Req, Shared};

/// Zoho grant codes live 2–3 minutes; the sandbox uses the longer figure.
const GRANT_CODE_TTL: Duration = Duration::from_secs(180);

/// The scopes a token carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scopes {
    /// Every scope (the demo refresh token).
    All,
    /// Exactly these, case-sensitive, e.g. `ZohoBigin.users.ALL`.
    Listed(Vec<String>),
}

impl Scopes {
    /// True when any of `needed` is granted.
    pub fn allows_any(&self, needed: &[&str]) -> bool {
        match self {
            Scopes::All => true,
            Scopes::Listed(have) => needed.iter().any(|n| have.iter().any(|h| h == n)),
        }
    }
}

/// Parses Zoho's comma-separated scope list.
pub fn parse_scopes(s: &str) -> Scopes {
    Scopes::Listed(
        s.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

struct RefreshToken {
    scopes: Scopes,
}

struct AccessToken {
    scopes: Scopes,
    expires_at: Instant,
    /// The refresh token it came from, so revoking that kills it too.
    refresh: Option<String>,
}

struct GrantCode {
    scopes: Scopes,
    redirect_uri: Option<String>,
    /// (challenge, method) when the consent request used PKCE.
    challenge: Option<(String, String)>,
    expires_at: Instant,
    /// `access_type=offline`: the exchange also returns a refresh token.
    offline: bool,
}

#[derive(Default)]
pub struct Tokens {
    refresh: HashMap<String, RefreshToken>,
    access: HashMap<String, AccessToken>,
    codes: HashMap<String, GrantCode>,
}

impl Tokens {
    pub fn add_demo_refresh_token(&mut self) {
        self.refresh.insert(
            DEMO_REFRESH_TOKEN.to_string(),
            RefreshToken {
                scopes: Scopes::All,
            },
        );
    }

    pub fn expire_access_tokens(&mut self) {
        // Forgetting them is indistinguishable, to a client, from expiry.
        self.access.clear();
    }

    pub fn issue_code(
        &mut self,
        rng: &mut fastrand::Rng,
        scopes: Scopes,
        redirect_uri: Option<String>,
        challenge: Option<(String, String)>,
        offline: bool,
    ) -> String {
        let code = format!(
            "1000.{}.{}",
            util::random_hex(rng, 32),
            util::random_hex(rng, 32)
        );
        self.codes.insert(
            code.clone(),
            GrantCode {
                scopes,
                redirect_uri,
                challenge,
                expires_at: Instant::now() + GRANT_CODE_TTL,
                offline,
            },
        );
        code
    }

    fn issue_access(
        &mut self,
        rng: &mut fastrand::Rng,
        scopes: Scopes,
        refresh: Option<String>,
        ttl: Duration,
    ) -> String {
        let now = Instant::now();
        // Drop dead tokens so a long demo session does not accumulate them.
        self.access.retain(|_, t| t.expires_at > now);
        let token = format!("1000.{}", util::random_hex(rng, 32));
        self.access.insert(
            token.clone(),
            AccessToken {
                scopes,
                expires_at: now + ttl,
                refresh,
            },
        );
        token
    }
}

/// Why a request's `Authorization` header was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidToken;

/// Checks `Authorization: Zoho-oauthtoken <token>` and returns the token's
/// scopes. `Bearer` is not accepted, like the real API.
pub fn authenticate(st: &super::SandboxState, headers: &HeaderMap) -> Result<Scopes, InvalidToken> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(InvalidToken)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(InvalidToken)?;
    if !scheme.eq_ignore_ascii_case("Zoho-oauthtoken") {
        return Err(InvalidToken);
    }
    let access = st.tokens.access.get(token.trim()).ok_or(InvalidToken)?;
    if access.expires_at <= Instant::now() {
        return Err(InvalidToken);
    }
    Ok(access.scopes.clone())
}

/// `GET /oauth/serverinfo`: the accounts server of each DC; the sandbox
/// knows one.
pub(super) async fn serverinfo(State(shared): State<Arc<Shared>>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({
            "result": "success",
            "locations": { shared.location.as_str(): shared.base_url },
        }),
    )
}

/// Form body params first, then query params (Zoho accepts either).
struct Params(Vec<(String, String)>);

impl Params {
    fn of(req: &Req) -> Params {
        let mut all = util::parse_urlencoded(&String::from_utf8_lossy(&req.body));
        all.extend(util::parse_urlencoded(&req.query));
        Params(all)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn token_error(error: &str) -> Response {
    json_response(StatusCode::OK, &json!({ "error": error }))
}

/// Zoho's throttle answer: `Access Denied`, capitalised and spaced, with
/// HTTP 200 (CRM community docs) or 400 (seen by a production client).
fn token_throttle(status: u16) -> Response {
    json_response(
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        &json!({
            "error": "Access Denied",
            "error_description": "You have made too many requests continuously. Please try again after some time.",
        }),
    )
}

/// `POST /oauth/v2/token`.
pub(super) async fn token(State(shared): State<Arc<Shared>>, req: Req) -> Response {
    let shared = &*shared;
    let req = &req;
    if let Some(status) = shared.lock().variant.token_throttle {
        return token_throttle(status);
    }
    if let Some(FaultKind::TokenError { error }) =
        req.take_fault(shared, |k| matches!(k, FaultKind::TokenError { .. }))
    {
        return token_error(&error);
    }
    let p = Params::of(req);
    let grant_type = p.get("grant_type").unwrap_or("");
    if !matches!(grant_type, "refresh_token" | "authorization_code") {
        return token_error("unsupported_grant_type");
    }
    if p.get("client_id") != Some(DEMO_CLIENT_ID)
        || p.get("client_secret") != Some(DEMO_CLIENT_SECRET)
    {
        return token_error("invalid_client");
    }
    let ttl = shared.access_token_ttl;
    let mut st = shared.lock();
    let st = &mut *st;
    if grant_type == "refresh_token" {
        let Some(refresh) = p.get("refresh_token") else {
            return token_error("invalid_code");
        };
        let Some(scopes) = st.tokens.refresh.get(refresh).map(|r| r.scopes.clone()) else {
            return token_error("invalid_code");
        };
        let access = st
            .tokens
            .issue_access(&mut st.rng, scopes, Some(refresh.to_string()), ttl);
        return json_response(
            StatusCode::OK,
            &json!({
                "access_token": access,
                "api_domain": shared.base_url,
                "token_type": "Bearer",
                "expires_in": ttl.as_secs(),
            }),
        );
    }

    // authorization_code. A code is one-time: presenting it consumes it, even
    // when the rest of the request is wrong (as OAuth servers do).
    let Some(code) = p.get("code").and_then(|c| st.tokens.codes.remove(c)) else {
        return token_error("invalid_code");
    };
    if code.expires_at <= Instant::now() {
        return token_error("invalid_code");
    }
    if let Some(expected) = &code.redirect_uri
        && p.get("redirect_uri") != Some(expected.as_str())
    {
        return token_error("invalid_redirect_uri");
    }
    if let Some((challenge, method)) = &code.challenge {
        let Some(verifier) = p.get("code_verifier") else {
            return token_error("invalid_code");
        };
        let derived = if method == "S256" {
            util::pkce_s256(verifier)
        } else {
            verifier.to_string()
        };
        if &derived != challenge {
            return token_error("invalid_code");
        }
    }
    let refresh = code.offline.then(|| {
        let token = format!(
            "1000.{}.{}",
            util::random_hex(&mut st.rng, 32),
            util::random_hex(&mut st.rng, 32)
        );
        st.tokens.refresh.insert(
            token.clone(),
            RefreshToken {
                scopes: code.scopes.clone(),
            },
        );
        token
    });
    let access = st
        .tokens
        .issue_access(&mut st.rng, code.scopes, refresh.clone(), ttl);
    let mut body = json!({
        "access_token": access,
        "api_domain": shared.base_url,
        "token_type": "Bearer",
        "expires_in": ttl.as_secs(),
    });
    if let (Some(refresh), Value::Object(map)) = (refresh, &mut body) {
        map.insert("refresh_token".into(), Value::String(refresh));
    }
    json_response(StatusCode::OK, &body)
}

/// `POST /oauth/v2/token/revoke?token=<refresh_token>`.
pub(super) async fn revoke(State(shared): State<Arc<Shared>>, req: Req) -> Response {
    let p = Params::of(&req);
    let mut st = shared.lock();
    let Some(token) = p
        .get("token")
        .filter(|t| st.tokens.refresh.contains_key(*t))
    else {
        return token_error("invalid_token");
    };
    let token = token.to_string();
    st.tokens.refresh.remove(&token);
    st.tokens
        .access
        .retain(|_, a| a.refresh.as_deref() != Some(token.as_str()));
    json_response(StatusCode::OK, &json!({"status": "success"}))
}

/// `GET /oauth/v2/auth`: a user who consents at once (or denies, with the
/// `ConsentDenied` fault).
pub(super) async fn authorize(State(shared): State<Arc<Shared>>, req: Req) -> Response {
    let shared = &*shared;
    let req = &req;
    let p = Params(util::parse_urlencoded(&req.query));
    if p.get("client_id") != Some(DEMO_CLIENT_ID) {
        return html_page(
            StatusCode::OK,
            "Invalid Client",
            "The client_id in this request is invalid. Check the client id registered in the API console.",
        );
    }
    let redirect_uri = match p.get("redirect_uri") {
        Some(uri) if uri.starts_with("http://") || uri.starts_with("https://") => uri.to_string(),
        _ => {
            return html_page(
                StatusCode::OK,
                "Invalid Redirect Uri",
                "The redirect_uri must start with http:// or https:// and match the registered one.",
            );
        }
    };
    let state = p.get("state");
    if req
        .take_fault(shared, |k| matches!(k, FaultKind::ConsentDenied))
        .is_some()
    {
        return redirect(&redirect_uri, &[("error", "access_denied")], state);
    }
    if p.get("response_type") != Some("code") {
        return redirect(
            &redirect_uri,
            &[("error", "unsupported_response_type")],
            state,
        );
    }
    let scopes = parse_scopes(p.get("scope").unwrap_or(""));
    if scopes == Scopes::Listed(Vec::new()) {
        return redirect(&redirect_uri, &[("error", "invalid_scope")], state);
    }
    let challenge = match p.get("code_challenge") {
        None => None,
        Some(c) => match p.get("code_challenge_method").unwrap_or("plain") {
            // Zoho's default method is `plain`.
            m @ ("S256" | "plain") => Some((c.to_string(), m.to_string())),
            _ => return redirect(&redirect_uri, &[("error", "invalid_request")], state),
        },
    };
    let offline = p.get("access_type") == Some("offline");
    let code = {
        let mut st = shared.lock();
        let st = &mut *st;
        st.tokens.issue_code(
            &mut st.rng,
            scopes,
            Some(redirect_uri.clone()),
            challenge,
            offline,
        )
    };
    redirect(
        &redirect_uri,
        &[
            ("code", code.as_str()),
            ("location", shared.location.as_str()),
            ("accounts-server", shared.base_url.as_str()),
        ],
        state,
    )
}

/// 302 to `redirect_uri` with `params` (and `state`, when given) appended.
fn redirect(redirect_uri: &str, params: &[(&str, &str)], state: Option<&str>) -> Response {
    let pairs = params.iter().copied().chain(state.map(|s| ("state", s)));
    let location = util::append_query(redirect_uri, pairs);
    match HeaderValue::from_str(&location) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        // A redirect_uri with characters a header cannot carry.
        Err(_) => html_page(
            StatusCode::OK,
            "Invalid Redirect Uri",
            "The redirect_uri contains characters that are not allowed.",
        ),
    }
}
