//! The sandbox itself, end to end: each test starts one on 127.0.0.1:0 and
//! talks to it over real HTTP with reqwest, as a client would. (Moved here
//! from `src/sandbox/tests.rs`; only the public `Sandbox` API is used.)
//!
//! - `accounts`: the imitation accounts server (tokens, consent, revoke);
//! - `api`: the read endpoints, auth, paging and errors;
//! - `writes`: PUT, DELETE and POST of users;
//! - `faults`: fault injection, the request log, the server lifecycle;
//! - `org`: the seeded organisation, at 450 users and at other sizes;
//! - `cli`: `sandbox --users N` and `serve --demo --demo-users N`;
//! - `variants`: the plausible Zohos it can play where the docs are open.

mod accounts;
mod api;
mod cli;
mod faults;
mod org;
mod posts;
mod variants;
mod writes;

pub use std::collections::{BTreeSet, HashSet};
pub use std::time::{Duration, Instant};

pub use bigin_mcp::sandbox::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, Fault, FaultKind, RecordedRequest,
    Sandbox, SandboxOptions,
};
pub use reqwest::StatusCode;
pub use serde_json::{Value, json};

fn http() -> reqwest::Client {
    // reqwest is built without a default TLS provider; plain http needs none,
    // but the builder wants one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("http client")
}

async fn start() -> Sandbox {
    Sandbox::start(SandboxOptions::default())
        .await
        .expect("sandbox starts")
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn post_token(c: &reqwest::Client, sb: &Sandbox, pairs: &[(&str, &str)]) -> Value {
    let resp = c
        .post(format!("{}/oauth/v2/token", sb.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs))
        .send()
        .await
        .expect("token request");
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.expect("token json")
}

/// The refresh grant with the demo client; returns the token endpoint's JSON.
async fn refresh(c: &reqwest::Client, sb: &Sandbox, refresh_token: &str) -> Value {
    post_token(
        c,
        sb,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// An access token with every scope, from the demo refresh token.
async fn demo_token(c: &reqwest::Client, sb: &Sandbox) -> String {
    refresh(c, sb, DEMO_REFRESH_TOKEN).await["access_token"]
        .as_str()
        .expect("access token")
        .to_string()
}

/// Exchanges a grant code with the demo client (plus `extra` pairs such as
/// `redirect_uri` and `code_verifier`); returns the token endpoint's JSON,
/// success or `{"error": ..}`.
async fn exchange(c: &reqwest::Client, sb: &Sandbox, code: &str, extra: &[(&str, &str)]) -> Value {
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("client_id", DEMO_CLIENT_ID),
        ("client_secret", DEMO_CLIENT_SECRET),
        ("code", code),
    ];
    pairs.extend_from_slice(extra);
    post_token(c, sb, &pairs).await
}

/// Issues a Self-Client grant code for `scopes` and exchanges it: the token
/// JSON, with an access and a refresh token.
async fn grant(c: &reqwest::Client, sb: &Sandbox, scopes: &str) -> Value {
    let code = sb.issue_grant_code(scopes);
    let v = exchange(c, sb, &code, &[]).await;
    assert!(v["access_token"].is_string(), "code exchange failed: {v}");
    v
}

/// Sends a request with `Zoho-oauthtoken`; returns status, headers and body.
async fn call(
    c: &reqwest::Client,
    sb: &Sandbox,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut rb = c.request(method, format!("{}{path}", sb.base_url()));
    if let Some(t) = token {
        rb = rb.header("authorization", format!("Zoho-oauthtoken {t}"));
    }
    if let Some(b) = body {
        rb = rb
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = rb.send().await.expect("request");
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.expect("body"))
}

async fn get(c: &reqwest::Client, sb: &Sandbox, path: &str, token: &str) -> (StatusCode, String) {
    let (s, _, b) = call(c, sb, reqwest::Method::GET, path, Some(token), None).await;
    (s, b)
}

fn parse(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn assert_api_error(status: StatusCode, body: &str, want_status: u16, code: &str) -> Value {
    assert_eq!(status.as_u16(), want_status, "body: {body}");
    let v = parse(body);
    assert_eq!(v["code"], code, "body: {body}");
    assert_eq!(v["status"], "error");
    assert!(v["message"].is_string());
    assert!(v["details"].is_object());
    v
}

/// Runs the consent step and returns the redirect's query pairs.
async fn consent(
    c: &reqwest::Client,
    sb: &Sandbox,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    // Extras first: the server reads the first occurrence of a parameter.
    let mut pairs = extra.to_vec();
    pairs.extend_from_slice(&[
        ("scope", "ZohoBigin.users.ALL,ZohoBigin.org.READ"),
        ("client_id", DEMO_CLIENT_ID),
        ("response_type", "code"),
        ("access_type", "offline"),
        ("prompt", "consent"),
        ("redirect_uri", "http://127.0.0.1:9/callback"),
    ]);
    let resp = c
        .get(format!("{}/oauth/v2/auth?{}", sb.base_url(), form(&pairs)))
        .send()
        .await
        .expect("consent");
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_string();
    let (base, query) = location.split_once('?').expect("query in redirect");
    assert_eq!(base, "http://127.0.0.1:9/callback");
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

async fn count_of_type(c: &reqwest::Client, sb: &Sandbox, token: &str, kind: &str) -> usize {
    let mut total = 0;
    for page in 1.. {
        let (s, b) = get(
            c,
            sb,
            &format!("/bigin/v2/users?type={kind}&page={page}"),
            token,
        )
        .await;
        if s == StatusCode::NO_CONTENT {
            break;
        }
        let v = parse(&b);
        total += v["users"].as_array().unwrap().len();
        if v["info"]["more_records"] == false {
            break;
        }
    }
    total
}

/// The first user of Zoho user type `kind`, as the API lists it.
async fn first_of_type(c: &reqwest::Client, sb: &Sandbox, token: &str, kind: &str) -> Value {
    let path = format!("/bigin/v2/users?type={kind}&per_page=1");
    let (_, b) = get(c, sb, &path, token).await;
    parse(&b)["users"][0].clone()
}

/// Some active, confirmed, non-primary user from the first page.
async fn some_active_user(c: &reqwest::Client, sb: &Sandbox, token: &str, skip: usize) -> String {
    let (_, b) = get(
        c,
        sb,
        "/bigin/v2/users?type=ActiveConfirmedUsers&per_page=50",
        token,
    )
    .await;
    let v = parse(&b);
    v["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .filter(|id| *id != sb.primary_user_id())
        .nth(skip)
        .unwrap()
}
