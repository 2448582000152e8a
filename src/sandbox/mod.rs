//! The sandbox: a real HTTP server on 127.0.0.1 that behaves like the Zoho
//! Bigin REST API v2 *and* the Zoho accounts OAuth server, over a
//! deterministic seeded organisation.
//!
//! It backs `bigin-mcp serve --demo` (so new users can try every tool without
//! a Zoho account) and is the test double for the whole suite, so it follows
//! `shared/zoho-bigin-api.md` to the letter, including its "decisions where
//! the docs are silent". On top of the imitation it offers what tests need:
//! fault injection ([`Sandbox::inject`]), a secret-free request log
//! ([`Sandbox::requests`]), forced token expiry, Self-Client style grant
//! codes, an org of any size ([`SandboxOptions::users`]) for scale tests,
//! and each plausible Zoho where the docs leave Bigin open
//! ([`ZohoVariant`], [`Sandbox::set_variant`]). Its end-to-end tests are in
//! `tests/it/sandbox/`.
//!
//! Layout: this file owns the public types, the server lifecycle, the router
//! (one axum route per endpoint, plus fallbacks that answer like Zoho) and
//! the two middlewares every request passes: the request log (outermost, so
//! it sees faulted requests too; it also enforces the body limit) and the
//! transport-level faults. Semantic faults fire inside the handlers where
//! they make sense. [`auth`] owns the accounts endpoints and the token
//! store; [`api`] owns the `/bigin/v2` endpoints; [`seed`] owns the seeded
//! data and its JSON shapes; [`util`] has the small helpers (form decoding,
//! redaction, PKCE, JSON response shapes); `variant` names the plausible
//! Zohos.

mod api;
mod auth;
mod seed;
mod util;
mod variant;

pub use variant::{References, Refusals, RetryHint, VariantName, ZohoVariant};

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// Client id the sandbox's token and consent endpoints accept.
pub const DEMO_CLIENT_ID: &str = "1000.SANDBOXDEMOCLIENT";
/// The matching client secret. Not a real secret: it only opens the sandbox.
pub const DEMO_CLIENT_SECRET: &str = "sandbox-demo-secret";
/// A refresh token with every scope that never expires (unless revoked).
pub const DEMO_REFRESH_TOKEN: &str = "1000.sandbox.demo-refresh";

/// Largest request body the sandbox reads; Zoho's own limits are far lower
/// for these endpoints, so anything bigger is a client bug.
const MAX_BODY_BYTES: usize = 1 << 20;
/// The request log keeps at most this many entries (oldest dropped first), so
/// a long-running `--demo` server does not grow without bound.
const MAX_RECORDED_REQUESTS: usize = 10_000;

/// Users in the default sandbox org.
pub const DEFAULT_USERS: usize = seed::DEFAULT_USER_COUNT;

/// How to start a [`Sandbox`].
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Data-centre name reported in the consent redirect (`location=`).
    pub location: String,
    /// Lifetime of issued access tokens (`expires_in`).
    pub access_token_ttl: Duration,
    /// Users in the seeded org (at least 1; 0 counts as 1). The default, 450,
    /// is the org the tests and the demo are written against; any other size
    /// is deterministic too and keeps those 450 as its first users (or is
    /// the first N of them), for scale tests and the benchmark.
    pub users: usize,
    /// Which plausible Zoho to play where the docs leave Bigin open.
    pub variant: ZohoVariant,
    /// The organisation's name, when not the demo's (tests that serve two
    /// organisations side by side tell them apart by it).
    pub company: Option<String>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            port: 0,
            location: "us".to_string(),
            access_token_ttl: Duration::from_secs(3600),
            users: DEFAULT_USERS,
            variant: ZohoVariant::default(),
            company: None,
        }
    }
}

/// A fault to inject into upcoming requests. Built with [`Fault::new`] and the
/// builder methods; queued with [`Sandbox::inject`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    /// How many matching requests it fires for before it is removed.
    pub times: u32,
    /// Only requests whose path contains this substring match.
    pub path_contains: Option<String>,
    /// Only requests with this method (case-insensitive) match.
    pub method: Option<String>,
}

impl Fault {
    /// Fires once, on any path and method.
    pub fn new(kind: FaultKind) -> Self {
        Fault {
            kind,
            times: 1,
            path_contains: None,
            method: None,
        }
    }

    /// Fire for the next `n` matching requests (0 means never).
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }

    /// Only match requests whose path contains `s`.
    pub fn on_path(mut self, s: &str) -> Self {
        self.path_contains = Some(s.to_string());
        self
    }

    /// Only match requests with method `m` (case-insensitive).
    pub fn on_method(mut self, m: &str) -> Self {
        self.method = Some(m.to_string());
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.path_contains
            .as_deref()
            .is_none_or(|needle| path.contains(needle))
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

/// What an injected fault does.
///
/// `RateLimited`, `ServerError`, `Delay`, `DropConnection` and `Answer` hit any matching
/// request (API or accounts) before it is even authenticated, like a gateway
/// would. The other kinds are semantic and only fire where they make sense,
/// so an unrelated request in between does not use them up: `RecordError` on
/// the next POST/PUT/DELETE of users that passes auth and body validation,
/// `TokenError` on the next `POST /oauth/v2/token`, `ConsentDenied` on the
/// next valid `GET /oauth/v2/auth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// 429 `TOO_MANY_REQUESTS`; when `Some`, the wait as a `Retry-After`
    /// header, or as `details.retry_after` under [`RetryHint::Body`].
    RateLimited { retry_after_secs: Option<u64> },
    /// A request-level error with this HTTP status (`INTERNAL_ERROR` body).
    ServerError { status: u16 },
    /// HTTP 200 with one `"status":"error"` element per record; nothing changes.
    RecordError { code: String, message: String },
    /// Sleep this long, then answer normally.
    Delay { ms: u64 },
    /// Send the status line and headers, then cut the body short and close
    /// the connection, so the client sees a transport error.
    DropConnection,
    /// The token endpoint answers HTTP 200 `{"error": error}`.
    TokenError { error: String },
    /// The consent page redirects back with `error=access_denied`.
    ConsentDenied,
    /// Answer with this HTTP status and this body (as JSON content), whatever
    /// was asked: Zoho errors inside HTTP 200, empty objects, `null` lists and
    /// oversized pages, to prove the client reads none of them as data.
    Answer { status: u16, body: String },
}

impl FaultKind {
    /// Kinds handled by the fault middleware, before routing.
    fn is_transport(&self) -> bool {
        matches!(
            self,
            FaultKind::RateLimited { .. }
                | FaultKind::ServerError { .. }
                | FaultKind::Delay { .. }
                | FaultKind::DropConnection
                | FaultKind::Answer { .. }
        )
    }
}

/// One request as the sandbox received it, with secrets removed: no
/// `Authorization` value is kept, and the values of `client_secret`,
/// `refresh_token`, `code`, `code_verifier`, `token` and `access_token` in the
/// query or body read `[redacted]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Raw query string without `?` (redacted), empty when none.
    pub query: String,
    /// Body as text (redacted), empty when none.
    pub body: String,
    /// An `Authorization` header was present.
    pub has_authorization: bool,
    /// It carried a currently valid `Zoho-oauthtoken` access token.
    pub authorized: bool,
}

/// State shared by the server task and the [`Sandbox`] handle.
struct Shared {
    base_url: String,
    location: String,
    access_token_ttl: Duration,
    state: Mutex<SandboxState>,
}

struct SandboxState {
    org: seed::Org,
    tokens: auth::Tokens,
    faults: Vec<Fault>,
    requests: VecDeque<RecordedRequest>,
    variant: ZohoVariant,
    /// Entropy-seeded (not the org seed): tokens and codes must be unguessable
    /// across runs even though the org data is fixed.
    rng: fastrand::Rng,
}

impl Shared {
    /// Locks the state. A panic while locked cannot leave the state half
    /// updated in a way that matters to a test double, so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, SandboxState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the first queued fault that `accept`s and matches the request,
    /// counting one use of it.
    fn take_fault(
        &self,
        method: &str,
        path: &str,
        accept: impl Fn(&FaultKind) -> bool,
    ) -> Option<FaultKind> {
        let mut st = self.lock();
        let pos = st
            .faults
            .iter()
            .position(|f| f.times > 0 && accept(&f.kind) && f.matches(method, path))?;
        let fault = &mut st.faults[pos];
        fault.times -= 1;
        let kind = fault.kind.clone();
        if fault.times == 0 {
            st.faults.remove(pos);
        }
        Some(kind)
    }
}

/// A request with its body already read, as the handlers see it.
struct Req {
    method: Method,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for Req {
    type Rejection = Response;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Response> {
        let (parts, body) = request.into_parts();
        // The log middleware has already read the body within the limit, so
        // this only collects the buffered bytes again.
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .map_err(|_| body_too_large())?;
        Ok(Req {
            method: parts.method,
            path: parts.uri.path().to_string(),
            query: parts.uri.query().unwrap_or("").to_string(),
            headers: parts.headers,
            body,
        })
    }
}

impl Req {
    fn take_fault(
        &self,
        shared: &Shared,
        accept: impl Fn(&FaultKind) -> bool,
    ) -> Option<FaultKind> {
        shared.take_fault(self.method.as_str(), &self.path, accept)
    }
}

/// A running sandbox server. Dropping it stops the server.
pub struct Sandbox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// Dropping this sender starts a graceful shutdown, which also closes idle
    /// keep-alive connections (aborting the accept loop alone would leave them
    /// served by their own tasks).
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.shared.base_url)
            .finish_non_exhaustive()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Sandbox {
    /// Binds 127.0.0.1:`opts.port` and starts serving in a background task.
    pub async fn start(opts: SandboxOptions) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, opts.port)).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let mut tokens = auth::Tokens::default();
        tokens.add_demo_refresh_token();
        let mut org = seed::build(opts.users);
        if let Some(c) = opts.company {
            org.company = c;
        }
        let shared = Arc::new(Shared {
            base_url: base_url.clone(),
            location: opts.location,
            access_token_ttl: opts.access_token_ttl,
            state: Mutex::new(SandboxState {
                org,
                tokens,
                faults: Vec::new(),
                requests: VecDeque::new(),
                variant: opts.variant,
                rng: fastrand::Rng::new(),
            }),
        });
        let app = router(Arc::clone(&shared));
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    // Resolves when the Sandbox (holding the sender) is dropped.
                    let _ = shutdown_rx.await;
                })
                .await
        });
        tracing::info!(%base_url, "Bigin sandbox listening");
        Ok(Sandbox {
            shared,
            addr,
            server,
            _shutdown: shutdown_tx,
        })
    }

    /// `http://127.0.0.1:PORT`: both the accounts server and the API domain.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a fault (see [`Fault`] for matching rules).
    pub fn inject(&self, fault: Fault) {
        if fault.times > 0 {
            self.shared.lock().faults.push(fault);
        }
    }

    /// Plays another [`ZohoVariant`] from the next request on.
    pub fn set_variant(&self, variant: ZohoVariant) {
        self.shared.lock().variant = variant;
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Every request received so far (up to the last 10 000), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.iter().cloned().collect()
    }

    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Invalidates every access token issued so far; their next use gets
    /// 401 `INVALID_TOKEN`. Refresh tokens keep working.
    pub fn expire_access_tokens(&self) {
        self.shared.lock().tokens.expire_access_tokens();
    }

    /// Issues a grant code like Zoho's Self Client does: one-time, valid for 3
    /// minutes, exchangeable without `redirect_uri`, for the given
    /// comma-separated scopes; the exchange also yields a refresh token.
    pub fn issue_grant_code(&self, scopes: &str) -> String {
        let mut st = self.shared.lock();
        let st = &mut *st;
        st.tokens
            .issue_code(&mut st.rng, auth::parse_scopes(scopes), None, None, true)
    }

    /// The current JSON of a user, as `GET /users/{id}` would render it.
    pub fn user(&self, id: &str) -> Option<Value> {
        let st = self.shared.lock();
        st.org.user_index(id).map(|ix| st.org.user_json(ix))
    }

    /// Id of the org's primary user (the owner of every sandbox token).
    pub fn primary_user_id(&self) -> String {
        let st = self.shared.lock();
        st.org.users[st.org.primary].id.clone()
    }

    /// Serves until Ctrl-C (then shuts down) or until the server fails.
    pub async fn run_until_ctrl_c(mut self) -> std::io::Result<()> {
        tokio::select! {
            signal = tokio::signal::ctrl_c() => {
                tracing::info!("Ctrl-C received, stopping the sandbox");
                signal
            }
            joined = &mut self.server => match joined {
                Ok(result) => result,
                Err(e) => Err(std::io::Error::other(e)),
            },
        }
    }
}

/// Every endpoint the sandbox serves, behind the log and fault middlewares.
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/bigin/v2/users",
            get(api::list_users).post(api::add_user).put(api::put_users),
        )
        .route(
            "/bigin/v2/users/{id}",
            get(api::get_user)
                .put(api::put_user)
                .delete(api::delete_user),
        )
        .route("/bigin/v2/settings/roles", get(api::roles))
        .route("/bigin/v2/settings/roles/{id}", get(api::role))
        .route("/bigin/v2/settings/profiles", get(api::profiles))
        .route("/bigin/v2/settings/profiles/{id}", get(api::profile))
        .route("/bigin/v2/org", get(api::org))
        .route("/oauth/v2/auth", get(auth::authorize))
        .route("/oauth/v2/token", post(auth::token))
        .route("/oauth/v2/token/revoke", post(auth::revoke))
        .route("/oauth/serverinfo", get(auth::serverinfo))
        // After the routes: it applies to those registered before it.
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        // The last layer added runs first: log, then faults, then routing.
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            transport_faults,
        ))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            log_request,
        ))
        .with_state(shared)
}

fn body_too_large() -> Response {
    util::api_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "REQUEST_ENTITY_TOO_LARGE",
        "the request body is too large",
        json!({}),
    )
}

/// Outermost middleware: reads the body (up to [`MAX_BODY_BYTES`]) and
/// appends the request, secrets removed, to the log. A body over the limit
/// is logged as `[body too large]` and answered 413 before anything else.
async fn log_request(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        record(&shared, &parts, b"[body too large]");
        return body_too_large();
    };
    record(&shared, &parts, &body);
    tracing::debug!(method = %parts.method, path = %parts.uri.path(), "sandbox request");
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// Applies the first matching transport-level fault (see [`FaultKind`]):
/// it answers in place of the endpoint, like a gateway would, or delays it.
async fn transport_faults(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let fault = shared.take_fault(
        request.method().as_str(),
        request.uri().path(),
        FaultKind::is_transport,
    );
    match fault {
        Some(FaultKind::RateLimited { retry_after_secs }) => {
            // The wait goes where the variant says: the header, or CRM's
            // `details.retry_after`.
            let in_body = shared.lock().variant.retry_hint == RetryHint::Body;
            let details = match retry_after_secs {
                Some(secs) if in_body => json!({ "retry_after": secs }),
                _ => json!({}),
            };
            let mut resp = util::api_error(
                StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_REQUESTS",
                "too many requests continuously. please try again after some time",
                details,
            );
            if let Some(secs) = retry_after_secs.filter(|_| !in_body) {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            return resp;
        }
        Some(FaultKind::ServerError { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return util::api_error(
                status,
                "INTERNAL_ERROR",
                "Internal Server Error occurred while processing this request",
                json!({}),
            );
        }
        Some(FaultKind::DropConnection) => return dropped_connection(),
        Some(FaultKind::Answer { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut resp = (status, body).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json;charset=UTF-8"),
            );
            return resp;
        }
        Some(FaultKind::Delay { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        _ => {}
    }
    next.run(request).await
}

/// Zoho checks the access token of an API call before it looks at the path
/// or method, so an unknown `/bigin/` path without a valid token is a 401.
fn unauthenticated_api_call(shared: &Shared, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
    if !uri.path().starts_with("/bigin/") {
        return None;
    }
    let authenticated = auth::authenticate(&shared.lock(), headers).is_ok();
    (!authenticated).then(api::invalid_token)
}

/// No route matches: 404 `INVALID_URL_PATTERN`.
async fn not_found(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    unauthenticated_api_call(&shared, &uri, &headers).unwrap_or_else(|| {
        util::api_error(
            StatusCode::NOT_FOUND,
            "INVALID_URL_PATTERN",
            "Please check if the URL trying to access is a correct one",
            json!({}),
        )
    })
}

/// The path exists but not with this method: 405 `INVALID_REQUEST_METHOD`.
async fn method_not_allowed(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    unauthenticated_api_call(&shared, &uri, &headers).unwrap_or_else(|| {
        util::api_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "INVALID_REQUEST_METHOD",
            "The http request method type is not a valid one",
            json!({}),
        )
    })
}

/// A response whose body breaks off: a chunked body that yields its first
/// chunk, then an error. hyper sends the status line, the headers and that
/// chunk, then aborts the connection mid-body, so the client gets a transport
/// error while reading the body. (A lying `Content-Length` would do the same
/// on the wire but trips hyper's debug assertions.)
fn dropped_connection() -> Response {
    let chunks: Vec<Result<&'static str, std::io::Error>> = vec![
        Ok("{\"users\":["),
        Err(std::io::Error::other(
            "sandbox: connection dropped by fault injection",
        )),
    ];
    let mut resp = (
        StatusCode::OK,
        Body::from_stream(futures::stream::iter(chunks)),
    )
        .into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    resp
}

/// Appends the request to the log with every secret removed.
fn record(shared: &Shared, parts: &Parts, body: &[u8]) {
    let has_authorization = parts.headers.contains_key(header::AUTHORIZATION);
    let body_text = String::from_utf8_lossy(body);
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"))
        || body_text.trim_start().starts_with(['{', '[']);
    let body = if body_text.is_empty() {
        String::new()
    } else if is_json {
        match serde_json::from_str::<Value>(&body_text) {
            Ok(original) => {
                let mut redacted = original.clone();
                util::redact_json(&mut redacted);
                // Keep the client's exact bytes unless a secret had to go.
                if redacted == original {
                    body_text.into_owned()
                } else {
                    redacted.to_string()
                }
            }
            // Unparseable "JSON" is kept only if it cannot hide a secret field.
            Err(_) => util::redact_urlencoded(&body_text),
        }
    } else {
        util::redact_urlencoded(&body_text)
    };
    let mut st = shared.lock();
    let authorized = auth::authenticate(&st, &parts.headers).is_ok();
    if st.requests.len() >= MAX_RECORDED_REQUESTS {
        st.requests.pop_front();
    }
    st.requests.push_back(RecordedRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: util::redact_urlencoded(parts.uri.query().unwrap_or("")),
        body,
        has_authorization,
        authorized,
    });
}
