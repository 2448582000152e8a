//! End-to-end tests of the sandbox: each starts a server on 127.0.0.1:0 and
//! talks to it over real HTTP with reqwest.

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;

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

async fn demo_token(c: &reqwest::Client, sb: &Sandbox) -> String {
    let v = post_token(
        c,
        sb,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("refresh_token", DEMO_REFRESH_TOKEN),
        ],
    )
    .await;
    v["access_token"]
        .as_str()
        .expect("access token")
        .to_string()
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
    util::parse_urlencoded(query)
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn token_refresh_success_and_errors() {
    let sb = start().await;
    let c = http();
    let ok = post_token(
        &c,
        &sb,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("refresh_token", DEMO_REFRESH_TOKEN),
        ],
    )
    .await;
    let token = ok["access_token"].as_str().unwrap();
    let hex = token.strip_prefix("1000.").expect("1000. prefix");
    assert_eq!(hex.len(), 32);
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(ok["api_domain"], sb.base_url());
    assert_eq!(ok["token_type"], "Bearer");
    assert_eq!(ok["expires_in"], 3600);
    assert!(
        ok.get("refresh_token").is_none(),
        "refresh never returns a refresh token"
    );

    let bad_secret = post_token(
        &c,
        &sb,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", "wrong"),
            ("refresh_token", DEMO_REFRESH_TOKEN),
        ],
    )
    .await;
    assert_eq!(bad_secret, json!({"error": "invalid_client"}));
    let bad_client = post_token(
        &c,
        &sb,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "1000.OTHER"),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("refresh_token", DEMO_REFRESH_TOKEN),
        ],
    )
    .await;
    assert_eq!(bad_client, json!({"error": "invalid_client"}));
    let bad_refresh = post_token(
        &c,
        &sb,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("refresh_token", "1000.nope.nope"),
        ],
    )
    .await;
    assert_eq!(bad_refresh, json!({"error": "invalid_code"}));
    let bad_grant = post_token(&c, &sb, &[("grant_type", "password")]).await;
    assert_eq!(bad_grant, json!({"error": "unsupported_grant_type"}));

    // The same parameters in the query string work too.
    let q = form(&[
        ("grant_type", "refresh_token"),
        ("client_id", DEMO_CLIENT_ID),
        ("client_secret", DEMO_CLIENT_SECRET),
        ("refresh_token", DEMO_REFRESH_TOKEN),
    ]);
    let v: Value = c
        .post(format!("{}/oauth/v2/token?{q}", sb.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["access_token"].as_str().unwrap().starts_with("1000."));
    assert_ne!(
        v["access_token"].as_str().unwrap(),
        token,
        "tokens are fresh"
    );
}

#[tokio::test]
async fn api_requires_a_valid_zoho_oauthtoken() {
    let sb = Sandbox::start(SandboxOptions {
        access_token_ttl: Duration::from_millis(1500),
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let c = http();
    let (s, _, b) = call(&c, &sb, reqwest::Method::GET, "/bigin/v2/users", None, None).await;
    let v = assert_api_error(s, &b, 401, "INVALID_TOKEN");
    assert_eq!(
        v,
        json!({"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"})
    );
    let (s, b) = get(&c, &sb, "/bigin/v2/users", "1000.unknown").await;
    assert_api_error(s, &b, 401, "INVALID_TOKEN");

    let token = demo_token(&c, &sb).await;
    // Bearer is not Zoho's scheme.
    let resp = c
        .get(format!("{}/bigin/v2/org", sb.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let (s, b) = get(&c, &sb, "/bigin/v2/org", &token).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // TTL expiry (generous, so a loaded CI machine does not expire it early).
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (s, b) = get(&c, &sb, "/bigin/v2/org", &token).await;
    assert_api_error(s, &b, 401, "INVALID_TOKEN");

    // Forced expiry; refresh tokens keep working.
    let token = demo_token(&c, &sb).await;
    assert_eq!(
        get(&c, &sb, "/bigin/v2/org", &token).await.0,
        StatusCode::OK
    );
    sb.expire_access_tokens();
    let (s, b) = get(&c, &sb, "/bigin/v2/org", &token).await;
    assert_api_error(s, &b, 401, "INVALID_TOKEN");
    let token = demo_token(&c, &sb).await;
    assert_eq!(
        get(&c, &sb, "/bigin/v2/org", &token).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn users_paging_and_parameter_validation() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let mut all_ids = Vec::new();
    for (page, count, more) in [(1, 200, true), (2, 200, true), (3, 50, false)] {
        let (s, b) = get(
            &c,
            &sb,
            &format!("/bigin/v2/users?page={page}&per_page=200"),
            &token,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let v = parse(&b);
        assert_eq!(
            v["info"],
            json!({"per_page": 200, "count": count, "page": page, "more_records": more})
        );
        let users = v["users"].as_array().unwrap();
        assert_eq!(users.len(), count);
        all_ids.extend(users.iter().map(|u| u["id"].as_str().unwrap().to_string()));
    }
    assert_eq!(all_ids.len(), 450);
    let numeric: Vec<u64> = all_ids.iter().map(|id| id.parse().unwrap()).collect();
    assert!(numeric.windows(2).all(|w| w[0] < w[1]), "stable id order");
    assert!(all_ids.iter().all(|id| id.len() == 19));

    // Defaults: page 1, per_page 200.
    let (_, b) = get(&c, &sb, "/bigin/v2/users", &token).await;
    assert_eq!(parse(&b)["info"]["count"], 200);
    let (_, b) = get(&c, &sb, "/bigin/v2/users?per_page=7&page=2", &token).await;
    let v = parse(&b);
    assert_eq!(v["info"]["count"], 7);
    assert_eq!(v["users"][0]["id"].as_str().unwrap(), all_ids[7]);

    // Past the end: 204 with an empty body.
    let (s, b) = get(&c, &sb, "/bigin/v2/users?page=4", &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(b.is_empty());

    for (query, param) in [
        ("per_page=201", "per_page"),
        ("per_page=0", "per_page"),
        ("per_page=ten", "per_page"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("type=Everyone", "type"),
    ] {
        let (s, b) = get(&c, &sb, &format!("/bigin/v2/users?{query}"), &token).await;
        let v = assert_api_error(s, &b, 400, "INVALID_DATA");
        assert_eq!(v["details"]["param_name"], param, "{query}");
    }
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

#[tokio::test]
async fn user_type_filters() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let expected = [
        ("AllUsers", 450),
        ("ActiveUsers", 404),
        ("DeactiveUsers", 31),
        ("DeletedUsers", 15),
        ("NotConfirmedUsers", 21),
        ("ConfirmedUsers", 429),
        ("ActiveConfirmedUsers", 383),
        ("AdminUsers", 8),
        ("ActiveConfirmedAdmins", 4),
        ("CurrentUser", 1),
    ];
    for (kind, n) in expected {
        assert_eq!(count_of_type(&c, &sb, &token, kind).await, n, "{kind}");
    }
    let (_, b) = get(&c, &sb, "/bigin/v2/users?type=CurrentUser", &token).await;
    let me = &parse(&b)["users"][0];
    assert_eq!(me["id"], sb.primary_user_id());
    assert_eq!(me["email"], "zoe.angstrom@northwind.example");
    assert_eq!(me["full_name"], "Zoë Ångström");
    assert_eq!(me["role"]["name"], "CEO");
    assert_eq!(me["profile"]["name"], "Administrator");
}

#[tokio::test]
async fn get_single_user() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let id = sb.primary_user_id();
    let (s, b) = get(&c, &sb, &format!("/bigin/v2/users/{id}"), &token).await;
    assert_eq!(s, StatusCode::OK);
    let v = parse(&b);
    let users = v["users"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    let keys: BTreeSet<&str> = users[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let want: BTreeSet<&str> = [
        "id",
        "full_name",
        "first_name",
        "last_name",
        "email",
        "status",
        "confirm",
        "category",
        "zuid",
        "Isonline",
        "role",
        "profile",
        "created_by",
        "Modified_By",
        "created_time",
        "Modified_Time",
        "time_zone",
        "language",
        "locale",
        "country_locale",
        "phone",
        "mobile",
        "fax",
        "website",
        "dob",
        "street",
        "city",
        "state",
        "zip",
        "country",
        "offset",
        // CRM fields the shared notes list ([I] for Bigin).
        "date_format",
        "time_format",
        "decimal_separator",
        "Reporting_To",
        "image_link",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, want);
    assert_eq!(users[0]["fax"], Value::Null);
    let created = users[0]["created_time"].as_str().unwrap();
    assert!(created.ends_with("+05:30"), "{created}");
    assert_eq!(Some(users[0].clone()), sb.user(&id));

    let (s, b) = get(&c, &sb, "/bigin/v2/users/4876543000000000001", &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(b.is_empty());
    for bad in ["abc", "99999999999999999999", "9999999999999999999"] {
        let (s, b) = get(&c, &sb, &format!("/bigin/v2/users/{bad}"), &token).await;
        let v = assert_api_error(s, &b, 400, "INVALID_DATA");
        assert_eq!(
            v,
            json!({"code":"INVALID_DATA","details":{"resource_path_index":1},"message":"the id given seems to be invalid","status":"error"})
        );
    }
}

#[tokio::test]
async fn scope_mismatch_is_401() {
    let sb = start().await;
    let c = http();
    let code = sb.issue_grant_code("ZohoBigin.users.READ");
    let v = post_token(
        &c,
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("code", &code),
        ],
    )
    .await;
    let token = v["access_token"].as_str().unwrap().to_string();
    let refresh = v["refresh_token"]
        .as_str()
        .expect("self client gives a refresh token");
    let parts: Vec<&str> = refresh.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0], "1000");

    assert_eq!(
        get(&c, &sb, "/bigin/v2/users", &token).await.0,
        StatusCode::OK
    );
    let mismatch = json!({"code":"OAUTH_SCOPE_MISMATCH","details":{},"message":"invalid oauth scope to access this URL","status":"error"});
    for path in [
        "/bigin/v2/settings/roles",
        "/bigin/v2/settings/profiles",
        "/bigin/v2/org",
    ] {
        let (s, b) = get(&c, &sb, path, &token).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(parse(&b), mismatch);
    }
    let body = json!({"users": [{"id": sb.primary_user_id(), "status": "active"}]});
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::PUT,
        "/bigin/v2/users",
        Some(&token),
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(parse(&b), mismatch);

    // Refreshed tokens keep the granted scopes.
    let v = post_token(
        &c,
        &sb,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("refresh_token", refresh),
        ],
    )
    .await;
    let token2 = v["access_token"].as_str().unwrap();
    assert_eq!(
        get(&c, &sb, "/bigin/v2/users", token2).await.0,
        StatusCode::OK
    );
    assert_eq!(
        get(&c, &sb, "/bigin/v2/org", token2).await.0,
        StatusCode::UNAUTHORIZED
    );

    // The code was one-time.
    let again = post_token(
        &c,
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(again, json!({"error": "invalid_code"}));
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

#[tokio::test]
async fn put_and_delete_users() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let id = some_active_user(&c, &sb, &token, 0).await;
    let before = sb.user(&id).unwrap();
    assert_eq!(before["status"], "active");

    // Deactivate through PUT /users/{id}.
    let body = json!({"users": [{"id": id, "status": "inactive"}]});
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::PUT,
        &format!("/bigin/v2/users/{id}"),
        Some(&token),
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        parse(&b),
        json!({"users":[{"code":"SUCCESS","details":{"id":id},"message":"User updated","status":"success"}]})
    );
    let after = sb.user(&id).unwrap();
    assert_eq!(after["status"], "inactive");
    assert_ne!(after["Modified_Time"], before["Modified_Time"]);
    let (_, b) = get(&c, &sb, &format!("/bigin/v2/users/{id}"), &token).await;
    assert_eq!(parse(&b)["users"][0]["status"], "inactive");
    assert_eq!(count_of_type(&c, &sb, &token, "DeactiveUsers").await, 32);

    // Bulk PUT: reactivate, unknown id, primary deactivation.
    let primary = sb.primary_user_id();
    let body = json!({"users": [
        {"id": id, "status": "active"},
        {"id": "4876543000000000001", "status": "inactive"},
        {"id": primary, "status": "inactive"},
    ]});
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::PUT,
        "/bigin/v2/users",
        Some(&token),
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        parse(&b),
        json!({"users":[
            {"code":"SUCCESS","details":{"id":id},"message":"User updated","status":"success"},
            {"code":"INVALID_DATA","details":{"id":"4876543000000000001"},"message":"the id given seems to be invalid","status":"error"},
            {"code":"NOT_ALLOWED","details":{"id":primary},"message":"The primary user cannot be deactivated","status":"error"},
        ]})
    );
    assert_eq!(sb.user(&id).unwrap()["status"], "active");
    assert_eq!(sb.user(&primary).unwrap()["status"], "active");

    // Path id and body id must agree; malformed JSON is a 400.
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::PUT,
        &format!("/bigin/v2/users/{id}"),
        Some(&token),
        Some(json!({"users": [{"id": primary, "status": "inactive"}]})),
    )
    .await;
    assert_api_error(s, &b, 400, "INVALID_DATA");
    let resp = c
        .put(format!("{}/bigin/v2/users", sb.base_url()))
        .header("authorization", format!("Zoho-oauthtoken {token}"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    let s = resp.status();
    assert_api_error(s, &resp.text().await.unwrap(), 400, "INVALID_DATA");

    // DELETE.
    let victim = some_active_user(&c, &sb, &token, 1).await;
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::DELETE,
        &format!("/bigin/v2/users/{victim}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        parse(&b),
        json!({"users":[{"code":"SUCCESS","details":{"id":victim},"message":"User deleted","status":"success"}]})
    );
    assert_eq!(sb.user(&victim).unwrap()["status"], "deleted");
    assert_eq!(
        count_of_type(&c, &sb, &token, "AllUsers").await,
        450,
        "deleted users still listed"
    );
    assert_eq!(count_of_type(&c, &sb, &token, "DeletedUsers").await, 16);
    // A deleted user cannot be updated.
    let (_, _, b) = call(
        &c,
        &sb,
        reqwest::Method::PUT,
        "/bigin/v2/users",
        Some(&token),
        Some(json!({"users": [{"id": victim, "status": "active"}]})),
    )
    .await;
    let v = parse(&b);
    assert_eq!(v["users"][0]["code"], "NOT_ALLOWED");
    assert_eq!(v["users"][0]["message"], "a deleted user cannot be updated");

    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::DELETE,
        &format!("/bigin/v2/users/{primary}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        parse(&b),
        json!({"users":[{"code":"NOT_ALLOWED","details":{"id":primary},"message":"The primary user cannot be deleted","status":"error"}]})
    );
    for bad in ["4876543000000000001", "abc"] {
        let (s, _, b) = call(
            &c,
            &sb,
            reqwest::Method::DELETE,
            &format!("/bigin/v2/users/{bad}"),
            Some(&token),
            None,
        )
        .await;
        let v = assert_api_error(s, &b, 400, "INVALID_DATA");
        assert_eq!(v["details"], json!({"resource_path_index": 1}));
    }
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let (s, b) = get(&c, &sb, "/bigin/v2/contacts", &token).await;
    let v = assert_api_error(s, &b, 404, "INVALID_URL_PATTERN");
    assert_eq!(
        v["message"],
        "Please check if the URL trying to access is a correct one"
    );
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::POST,
        "/bigin/v2/org",
        Some(&token),
        Some(json!({})),
    )
    .await;
    assert_api_error(s, &b, 405, "INVALID_REQUEST_METHOD");
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::DELETE,
        "/bigin/v2/users",
        Some(&token),
        None,
    )
    .await;
    assert_api_error(s, &b, 405, "INVALID_REQUEST_METHOD");
}

#[tokio::test]
async fn roles_profiles_and_org() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;

    let (s, b) = get(&c, &sb, "/bigin/v2/settings/roles", &token).await;
    assert_eq!(s, StatusCode::OK);
    let roles = parse(&b)["roles"].as_array().unwrap().clone();
    assert_eq!(roles.len(), 13);
    let by_id: std::collections::HashMap<&str, &Value> = roles
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r))
        .collect();
    let parent_of = |r: &Value| r["reporting_to"]["id"].as_str().map(str::to_string);
    let depth = |start: &Value| {
        let mut d = 1;
        let mut parent = parent_of(start);
        while let Some(p) = parent {
            d += 1;
            parent = parent_of(by_id[p.as_str()]);
        }
        d
    };
    assert!(roles.iter().map(depth).max().unwrap() >= 5);
    let ceo = roles.iter().find(|r| r["name"] == "CEO").unwrap();
    assert_eq!(ceo["admin_user"], true);
    assert_eq!(ceo["reporting_to"], Value::Null);
    assert_eq!(roles.iter().filter(|r| r["admin_user"] == true).count(), 1);
    let (s, b) = get(
        &c,
        &sb,
        &format!("/bigin/v2/settings/roles/{}", ceo["id"].as_str().unwrap()),
        &token,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(&parse(&b)["roles"][0], ceo);

    let (_, b) = get(&c, &sb, "/bigin/v2/settings/profiles", &token).await;
    let profiles = parse(&b)["profiles"].as_array().unwrap().clone();
    let names: Vec<&str> = profiles
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Administrator",
            "Standard",
            "Sales Admin",
            "Support",
            "Read Only",
            "Finance Auditor"
        ]
    );
    assert_eq!(profiles[0]["custom"], false);
    assert_eq!(profiles[0]["created_by"], Value::Null);
    assert_eq!(profiles[2]["custom"], true);
    assert_eq!(profiles[2]["created_by"]["id"], sb.primary_user_id());

    let enabled = |detail: &Value, name: &str| {
        detail["permissions_details"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))["enabled"]
            .as_bool()
            .unwrap()
    };
    let detail = |ix: usize| {
        let id = profiles[ix]["id"].as_str().unwrap().to_string();
        let c = c.clone();
        let token = token.clone();
        let sb = &sb;
        async move {
            let (s, b) = get(&c, sb, &format!("/bigin/v2/settings/profiles/{id}"), &token).await;
            assert_eq!(s, StatusCode::OK);
            parse(&b)["profiles"][0].clone()
        }
    };
    let admin = detail(0).await;
    assert_eq!(admin["permissions_details"].as_array().unwrap().len(), 38);
    assert!(
        admin["permissions_details"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["enabled"] == true)
    );
    assert_eq!(admin["sections"][0]["name"], "module");
    let companies = admin["sections"][0]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|cat| cat["module"] == "Accounts")
        .unwrap();
    assert_eq!(companies["display_label"], "Companies");
    assert_eq!(
        companies["permissions_details"].as_array().unwrap().len(),
        4
    );
    let sales_admin = detail(2).await;
    assert!(enabled(&sales_admin, "Crm_Implied_Manage_Users"));
    assert!(enabled(&sales_admin, "Crm_Implied_Export"));
    assert!(!enabled(&sales_admin, "Crm_Implied_Manage_Profiles"));
    let auditor = detail(5).await;
    assert!(enabled(&auditor, "Crm_Implied_Export"));
    assert!(enabled(&auditor, "Crm_Implied_View_Contacts"));
    assert!(!enabled(&auditor, "Crm_Implied_Edit_Contacts"));
    assert!(!enabled(&auditor, "Crm_Implied_Manage_Users"));
    let (s, _) = get(
        &c,
        &sb,
        "/bigin/v2/settings/profiles/4876543000000000001",
        &token,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = get(&c, &sb, "/bigin/v2/settings/profiles/x1", &token).await;
    assert_api_error(s, &b, 400, "INVALID_DATA");

    let (_, b) = get(&c, &sb, "/bigin/v2/org", &token).await;
    let org = parse(&b)["org"].as_array().unwrap()[0].clone();
    let me = sb.user(&sb.primary_user_id()).unwrap();
    assert_eq!(org["primary_email"], me["email"]);
    assert_eq!(org["primary_zuid"], me["zuid"]);
    assert_eq!(org["alias"], Value::Null);
    assert!(org.as_object().unwrap().contains_key("zia_portal_id"));
    assert_eq!(
        org["hierarchy_preferences"],
        json!({"type": "Role_Hierarchy"})
    );
    assert_eq!(org["license_details"]["paid_type"], "biginpremier");
    assert_eq!(org["license_details"]["trial_type"], Value::Null);
    assert!(org["employee_count"].is_number());
}

#[tokio::test]
async fn consent_redirect_and_code_exchange_with_pkce() {
    let sb = Sandbox::start(SandboxOptions {
        location: "eu".into(),
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let c = http();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let pkce = [
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("state", "xyz 42"),
    ];
    let redirect = consent(&c, &sb, &pkce).await;
    assert_eq!(param(&redirect, "location"), Some("eu"));
    assert_eq!(
        param(&redirect, "accounts-server"),
        Some(sb.base_url().as_str())
    );
    assert_eq!(param(&redirect, "state"), Some("xyz 42"));
    let code = param(&redirect, "code").unwrap().to_string();
    assert!(code.starts_with("1000."));

    let exchange = |code: String, redirect_uri: &'static str, verifier: &'static str| {
        let c = c.clone();
        let sb = &sb;
        async move {
            post_token(
                &c,
                sb,
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", DEMO_CLIENT_ID),
                    ("client_secret", DEMO_CLIENT_SECRET),
                    ("code", &code),
                    ("redirect_uri", redirect_uri),
                    ("code_verifier", verifier),
                ],
            )
            .await
        }
    };
    let ok = exchange(code.clone(), "http://127.0.0.1:9/callback", verifier).await;
    assert!(ok["access_token"].as_str().unwrap().starts_with("1000."));
    assert!(ok["refresh_token"].as_str().unwrap().starts_with("1000."));
    assert_eq!(ok["api_domain"], sb.base_url());
    assert_eq!(ok["token_type"], "Bearer");
    assert_eq!(ok["expires_in"], 3600);
    let token = ok["access_token"].as_str().unwrap();
    assert_eq!(get(&c, &sb, "/bigin/v2/org", token).await.0, StatusCode::OK);
    // users.ALL and org.READ only.
    assert_eq!(
        get(&c, &sb, "/bigin/v2/settings/roles", token).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        exchange(code, "http://127.0.0.1:9/callback", verifier).await,
        json!({"error": "invalid_code"}),
        "codes are one-time"
    );

    let code = param(&consent(&c, &sb, &pkce).await, "code")
        .unwrap()
        .to_string();
    assert_eq!(
        exchange(code, "http://127.0.0.1:9/other", verifier).await,
        json!({"error": "invalid_redirect_uri"})
    );
    let code = param(&consent(&c, &sb, &pkce).await, "code")
        .unwrap()
        .to_string();
    assert_eq!(
        exchange(
            code,
            "http://127.0.0.1:9/callback",
            "wrong-verifier-wrong-verifier-wrong-verifier"
        )
        .await,
        json!({"error": "invalid_code"})
    );

    // No state given: none echoed. Online access: no refresh token.
    let redirect = consent(&c, &sb, &[]).await;
    assert_eq!(param(&redirect, "state"), None);
    let code = param(
        &consent(&c, &sb, &[("access_type", "online")]).await,
        "code",
    )
    .unwrap()
    .to_string();
    let online = exchange(code, "http://127.0.0.1:9/callback", "unused").await;
    assert!(online["access_token"].is_string());
    assert!(online.get("refresh_token").is_none());

    // Unknown client and bad redirect URIs get an HTML page, no redirect.
    for query in [
        form(&[
            ("client_id", "1000.OTHER"),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("response_type", "code"),
            ("scope", "ZohoBigin.users.ALL"),
        ]),
        form(&[
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", "ftp://127.0.0.1/cb"),
            ("response_type", "code"),
            ("scope", "ZohoBigin.users.ALL"),
        ]),
    ] {
        let resp = c
            .get(format!("{}/oauth/v2/auth?{query}", sb.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.headers().get("location").is_none());
        assert!(resp.text().await.unwrap().contains("<h1>Invalid"));
    }
}

#[tokio::test]
async fn revoke_kills_refresh_and_its_access_tokens() {
    let sb = start().await;
    let c = http();
    let code = sb.issue_grant_code("ZohoBigin.users.ALL");
    let v = post_token(
        &c,
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("code", &code),
        ],
    )
    .await;
    let access = v["access_token"].as_str().unwrap();
    let refresh = v["refresh_token"].as_str().unwrap();
    let demo = demo_token(&c, &sb).await;
    assert_eq!(
        get(&c, &sb, "/bigin/v2/users", access).await.0,
        StatusCode::OK
    );

    let revoke = |token: String| {
        let c = c.clone();
        let url = format!(
            "{}/oauth/v2/token/revoke?{}",
            sb.base_url(),
            form(&[("token", &token)])
        );
        async move {
            let resp = c.post(url).send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            resp.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(
        revoke(refresh.to_string()).await,
        json!({"status": "success"})
    );
    let (s, b) = get(&c, &sb, "/bigin/v2/users", access).await;
    assert_api_error(s, &b, 401, "INVALID_TOKEN");
    let refreshed = post_token(
        &c,
        &sb,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("refresh_token", refresh),
        ],
    )
    .await;
    assert_eq!(refreshed, json!({"error": "invalid_code"}));
    assert_eq!(
        revoke(refresh.to_string()).await,
        json!({"error": "invalid_token"})
    );
    // Other tokens are untouched.
    assert_eq!(
        get(&c, &sb, "/bigin/v2/users", &demo).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn fault_rate_limited_and_server_error() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    sb.inject(Fault::new(FaultKind::RateLimited {
        retry_after_secs: Some(7),
    }));
    let (s, h, b) = call(
        &c,
        &sb,
        reqwest::Method::GET,
        "/bigin/v2/org",
        Some(&token),
        None,
    )
    .await;
    assert_api_error(s, &b, 429, "TOO_MANY_REQUESTS");
    assert_eq!(h["retry-after"], "7");
    sb.inject(Fault::new(FaultKind::RateLimited {
        retry_after_secs: None,
    }));
    let (s, h, b) = call(
        &c,
        &sb,
        reqwest::Method::GET,
        "/bigin/v2/org",
        Some(&token),
        None,
    )
    .await;
    assert_api_error(s, &b, 429, "TOO_MANY_REQUESTS");
    assert!(h.get("retry-after").is_none());
    assert_eq!(
        get(&c, &sb, "/bigin/v2/org", &token).await.0,
        StatusCode::OK,
        "used up"
    );

    // times + path + method matching.
    sb.inject(
        Fault::new(FaultKind::ServerError { status: 503 })
            .times(2)
            .on_path("/users")
            .on_method("get"),
    );
    assert_eq!(
        get(&c, &sb, "/bigin/v2/org", &token).await.0,
        StatusCode::OK
    );
    let (s, b) = get(&c, &sb, "/bigin/v2/users", &token).await;
    assert_api_error(s, &b, 503, "INTERNAL_ERROR");
    let (s, _, _) = call(
        &c,
        &sb,
        reqwest::Method::DELETE,
        "/bigin/v2/users/abc",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "method filter");
    let (s, b) = get(&c, &sb, "/bigin/v2/users/1", &token).await;
    assert_api_error(s, &b, 503, "INTERNAL_ERROR");
    assert_eq!(
        get(&c, &sb, "/bigin/v2/users", &token).await.0,
        StatusCode::OK
    );

    // Faults hit the accounts server too, and clear_faults drops them.
    sb.inject(Fault::new(FaultKind::ServerError { status: 500 }).on_path("/oauth/v2/token"));
    let resp = c
        .post(format!("{}/oauth/v2/token", sb.base_url()))
        .body(form(&[("grant_type", "refresh_token")]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    sb.inject(Fault::new(FaultKind::ServerError { status: 500 }).times(5));
    sb.clear_faults();
    assert_eq!(
        get(&c, &sb, "/bigin/v2/org", &token).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn fault_record_error_changes_nothing() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let id = some_active_user(&c, &sb, &token, 2).await;
    sb.inject(
        Fault::new(FaultKind::RecordError {
            code: "INTERNAL_ERROR".into(),
            message: "something went wrong".into(),
        })
        .times(2),
    );
    // A read in between does not use the fault up.
    assert_eq!(
        get(&c, &sb, "/bigin/v2/users", &token).await.0,
        StatusCode::OK
    );
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::PUT,
        "/bigin/v2/users",
        Some(&token),
        Some(json!({"users": [{"id": id, "status": "inactive"}]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        parse(&b),
        json!({"users":[{"code":"INTERNAL_ERROR","details":{"id":id},"message":"something went wrong","status":"error"}]})
    );
    assert_eq!(sb.user(&id).unwrap()["status"], "active");
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::DELETE,
        &format!("/bigin/v2/users/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(parse(&b)["users"][0]["status"], "error");
    assert_eq!(sb.user(&id).unwrap()["status"], "active");
    // Used up: the next write goes through.
    let (_, _, b) = call(
        &c,
        &sb,
        reqwest::Method::DELETE,
        &format!("/bigin/v2/users/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(parse(&b)["users"][0]["code"], "SUCCESS");
}

#[tokio::test]
async fn fault_delay_and_drop_connection() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    sb.inject(Fault::new(FaultKind::Delay { ms: 300 }));
    let t0 = Instant::now();
    assert_eq!(
        get(&c, &sb, "/bigin/v2/org", &token).await.0,
        StatusCode::OK
    );
    assert!(t0.elapsed() >= Duration::from_millis(300));

    sb.inject(Fault::new(FaultKind::DropConnection).on_path("/bigin/v2/users"));
    let result = async {
        let resp = c
            .get(format!("{}/bigin/v2/users", sb.base_url()))
            .header("authorization", format!("Zoho-oauthtoken {token}"))
            .send()
            .await?;
        resp.text().await
    }
    .await;
    assert!(
        result.is_err(),
        "client must see a transport error, got {result:?}"
    );
    // The server keeps working afterwards.
    assert_eq!(
        get(&c, &sb, "/bigin/v2/users", &token).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn fault_token_error_and_consent_denied() {
    let sb = start().await;
    let c = http();
    sb.inject(Fault::new(FaultKind::TokenError {
        error: "access_denied".into(),
    }));
    let v = post_token(
        &c,
        &sb,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("refresh_token", DEMO_REFRESH_TOKEN),
        ],
    )
    .await;
    assert_eq!(v, json!({"error": "access_denied"}));
    assert!(demo_token(&c, &sb).await.starts_with("1000."));

    sb.inject(Fault::new(FaultKind::ConsentDenied));
    let redirect = consent(&c, &sb, &[("state", "s1")]).await;
    assert_eq!(param(&redirect, "error"), Some("access_denied"));
    assert_eq!(param(&redirect, "state"), Some("s1"));
    assert_eq!(param(&redirect, "code"), None);
    let redirect = consent(&c, &sb, &[("state", "s2")]).await;
    assert!(param(&redirect, "code").is_some());
}

#[tokio::test]
async fn request_log_records_everything_without_secrets() {
    let sb = start().await;
    let c = http();
    let code = sb.issue_grant_code("ZohoBigin.users.ALL");
    let v = post_token(
        &c,
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("code", &code),
            ("code_verifier", "my-verifier-secret"),
        ],
    )
    .await;
    let access = v["access_token"].as_str().unwrap().to_string();
    let refresh = v["refresh_token"].as_str().unwrap().to_string();
    let q = form(&[
        ("grant_type", "refresh_token"),
        ("client_id", DEMO_CLIENT_ID),
        ("client_secret", DEMO_CLIENT_SECRET),
        ("refresh_token", &refresh),
    ]);
    c.post(format!("{}/oauth/v2/token?{q}", sb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        get(&c, &sb, "/bigin/v2/users?page=2", &access).await.0,
        StatusCode::OK
    );
    let (s, _) = get(&c, &sb, "/bigin/v2/org", "1000.bogus").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    call(&c, &sb, reqwest::Method::GET, "/bigin/v2/org", None, None).await;
    // Secrets in a JSON body are redacted too.
    c.post(format!("{}/oauth/v2/token", sb.base_url()))
        .header("content-type", "application/json")
        .body(json!({"refresh_token": refresh, "nested": {"access_token": access}}).to_string())
        .send()
        .await
        .unwrap();
    c.post(format!(
        "{}/oauth/v2/token/revoke?token={refresh}",
        sb.base_url()
    ))
    .send()
    .await
    .unwrap();

    let log = sb.requests();
    assert_eq!(log.len(), 7);
    let secrets = [
        code.as_str(),
        access.as_str(),
        refresh.as_str(),
        DEMO_CLIENT_SECRET,
        "my-verifier-secret",
    ];
    for r in &log {
        for secret in secrets {
            let text = format!("{r:?}");
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
    }
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].path, "/oauth/v2/token");
    assert!(log[0].body.contains("code=[redacted]"));
    assert!(log[0].body.contains("client_secret=[redacted]"));
    assert!(log[0].body.contains("code_verifier=[redacted]"));
    assert!(log[0].body.contains("grant_type=authorization_code"));
    assert!(log[1].query.contains("refresh_token=[redacted]"));
    assert!(
        log[1]
            .query
            .contains(&format!("client_id={DEMO_CLIENT_ID}"))
    );
    assert_eq!(log[2].path, "/bigin/v2/users");
    assert_eq!(log[2].query, "page=2");
    assert!(log[2].has_authorization && log[2].authorized);
    assert!(log[3].has_authorization && !log[3].authorized);
    assert!(!log[4].has_authorization && !log[4].authorized);
    assert!(log[5].body.contains("[redacted]"));
    assert_eq!(log[6].query, "token=[redacted]");

    sb.clear_requests();
    assert!(sb.requests().is_empty());

    // Bodies without secrets are logged byte-for-byte (not re-serialized).
    let demo = demo_token(&c, &sb).await;
    let raw = r#"{"users": [{"status": "inactive", "id": "1"}]}"#;
    c.put(format!("{}/bigin/v2/users", sb.base_url()))
        .header("authorization", format!("Zoho-oauthtoken {demo}"))
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    let log = sb.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].method, "PUT");
    assert_eq!(log[1].body, raw);
    assert!(log[1].authorized);
}

#[tokio::test]
async fn dropping_the_sandbox_stops_the_server() {
    let sb = start().await;
    let c = http();
    let url = format!("{}/oauth/serverinfo", sb.base_url());
    let v: Value = c.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["locations"]["us"], sb.base_url());
    drop(sb);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(c.get(&url).send().await.is_err());
}

#[test]
fn sandbox_handle_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Sandbox>();
    assert_send_sync::<Fault>();
    assert_send_sync::<RecordedRequest>();
}

#[test]
fn seed_is_deterministic_and_well_formed() {
    let a = seed::build();
    let b = seed::build();
    let emails = |o: &seed::Org| o.users.iter().map(|u| u.email.clone()).collect::<Vec<_>>();
    assert_eq!(emails(&a), emails(&b));
    assert_eq!(
        a.users.iter().map(|u| u.id.clone()).collect::<Vec<_>>(),
        b.users.iter().map(|u| u.id.clone()).collect::<Vec<_>>()
    );
    assert_eq!(a.users.len(), 450);
    let unique: HashSet<&str> = a.users.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(unique.len(), 450, "emails are unique");
    assert!(a.users.iter().all(|u| u.email.is_ascii()));
    let all_ids = a
        .users
        .iter()
        .map(|u| &u.id)
        .chain(a.roles.iter().map(|r| &r.id))
        .chain(a.profiles.iter().map(|p| &p.id))
        .chain(a.permissions.iter().map(|p| &p.id));
    for id in all_ids {
        assert_eq!(id.len(), 19, "{id}");
        assert!(id.starts_with("4876543000000"));
        assert!(id.parse::<i64>().is_ok());
    }
    let count = |f: &dyn Fn(&seed::User) -> bool| a.users.iter().filter(|u| f(u)).count();
    assert_eq!(count(&|u| u.status == "deleted"), 15);
    assert_eq!(count(&|u| u.status == "inactive"), 31);
    assert_eq!(count(&|u| u.status == "active" && !u.confirm), 21);
    assert_eq!(count(&|u| u.status == "active" && u.confirm), 383);

    // The users an access review must flag: privileged yet inactive or unconfirmed.
    let privileged = |u: &seed::User| {
        u.profile == seed::profile::ADMINISTRATOR || u.profile == seed::profile::SALES_ADMIN
    };
    let mut flagged: Vec<(usize, String, &str)> = a
        .users
        .iter()
        .enumerate()
        .filter(|(_, u)| {
            privileged(u) && (u.status == "inactive" || (u.status == "active" && !u.confirm))
        })
        .map(|(i, u)| (i, u.full_name(), u.status.as_str()))
        .collect();
    flagged.sort();
    let names: Vec<&str> = flagged.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "José Núñez",
            "Łukasz Wójcik",
            "Søren Kierkegaard-Ødegaard",
            "李雷",
            "Margaret Hale",
            "Ana María Peña"
        ]
    );
    let primary = &a.users[a.primary];
    assert_eq!(primary.email, "zoe.angstrom@northwind.example");
    assert_eq!(primary.role, 0);
    assert_eq!(
        a.users.iter().filter(|u| u.role == 0).count(),
        1,
        "only the primary is CEO"
    );
    let soren = a
        .users
        .iter()
        .find(|u| u.last_name == "Kierkegaard-Ødegaard")
        .unwrap();
    assert_eq!(soren.email, "soren.kierkegaard-odegaard@northwind.example");
    let pena = a.users.iter().find(|u| u.last_name == "Peña").unwrap();
    assert_eq!(pena.email, "ana.maria.pena@northwind.example");
}
