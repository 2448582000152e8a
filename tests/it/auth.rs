//! The login procedures in-process, with the sandbox as Zoho's accounts
//! server and an in-memory keychain: runs everywhere, daemon or not.
//! (`login` drives the real binary and the real Secret Service.)

use std::sync::Arc;
use std::time::Duration;

use bigin_mcp::auth::flow::{self, LoginParams};
use bigin_mcp::auth::{
    Accounts, KeychainCredentials, MemoryStore, SecretKind, SecretStore, StoreOpener,
};
use bigin_mcp::sandbox::{self, Fault, FaultKind, Sandbox};
use bigin_mcp::zoho::{BiginClient, DataCentre, RefreshTokenSource, http_client};
use secrecy::{ExposeSecret, SecretString};

use crate::common::*;

fn params(sb: &Sandbox, account: &str, port: u16) -> LoginParams {
    LoginParams {
        account: account.into(),
        dc: DataCentre::from_accounts_url("https://accounts.zoho.com").unwrap(),
        start_accounts: sb.base_url(),
        accounts_override: Some(sb.base_url()),
        client_id: sandbox::DEMO_CLIENT_ID.into(),
        client_secret: SecretString::from(sandbox::DEMO_CLIENT_SECRET.to_string()),
        scopes: vec!["ZohoBigin.users.ALL".into(), "ZohoBigin.org.READ".into()],
        port,
        timeout: Duration::from_secs(10),
        self_client_code: None,
        pkce: true,
        secrets: bigin_mcp::auth::SecretsIn::Keychain,
    }
}

/// Plays the browser: follows the consent redirect to the callback, optionally
/// rewriting the callback URL first (to forge state or accounts-server).
fn browser(rewrite: impl Fn(String) -> String + Send + 'static) -> impl FnOnce(&str) {
    move |url: &str| {
        let url = url.to_string();
        tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let consent = http.get(&url).send().await.unwrap();
            let location = consent.headers()["location"].to_str().unwrap().to_string();
            let _ = http.get(rewrite(location)).send().await;
        });
    }
}

fn setup() -> (Arc<MemoryStore>, Accounts, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let accounts = Accounts::new(dir.path().join("accounts.json"));
    (Arc::new(MemoryStore::default()), accounts, dir)
}

#[tokio::test]
async fn login_stores_tokens_then_serve_uses_them_then_logout_revokes() {
    let sb = eu_sandbox().await;
    let (store, accounts, _dir) = setup();
    let http = http_client(Duration::from_secs(5));
    let out = flow::login(
        &http,
        params(&sb, "eu1", free_port()),
        store.clone(),
        &accounts,
        browser(|u| u),
    )
    .await
    .unwrap();
    assert_eq!(
        out.meta.dc, "eu",
        "the callback's location decides the data centre"
    );
    assert_eq!(out.meta.accounts_server, sb.base_url());
    assert_eq!(out.meta.api_domain, sb.base_url());
    assert!(out.meta.org_name.as_deref().is_some_and(|n| !n.is_empty()));
    // The exchange carried the PKCE verifier and the redirect URI.
    let exchange = sb
        .requests()
        .into_iter()
        .find(|r| r.path == "/oauth/v2/token")
        .unwrap();
    assert!(
        exchange.body.contains("code_verifier=") && exchange.body.contains("redirect_uri="),
        "{}",
        exchange.body
    );
    assert!(exchange.body.contains("grant_type=authorization_code"));

    for kind in SecretKind::ALL {
        assert!(
            store.get(&kind.key("eu1")).unwrap().is_some(),
            "{kind:?} stored"
        );
    }
    let file = std::fs::read_to_string(accounts.path()).unwrap();
    for (_, secret) in store.dump() {
        assert!(!file.contains(&secret), "the account file holds no secret");
    }

    // serve's path: metadata + keychain, reusing the cached access token.
    let meta = accounts.get("eu1").unwrap().unwrap();
    let s2: Arc<dyn SecretStore> = store.clone();
    let opener: StoreOpener = Arc::new(move || Ok(s2.clone()));
    let creds = Arc::new(KeychainCredentials::new("eu1", meta, opener));
    let tokens = Arc::new(RefreshTokenSource::new(http.clone(), creds));
    let client = BiginClient::new(http.clone(), tokens.clone(), fast_options());
    sb.clear_requests();
    client.get_org().await.unwrap();
    assert_eq!(
        tokens.refresh_count(),
        0,
        "the access token from login was reused"
    );
    assert_eq!(sb.requests().len(), 1);

    let report = flow::logout(&http, "eu1", store.clone(), &accounts)
        .await
        .unwrap();
    assert!(report.revoked.is_ok(), "{:?}", report.revoked);
    assert!(
        sb.requests()
            .iter()
            .any(|r| r.path == "/oauth/v2/token/revoke")
    );
    assert!(store.dump().is_empty());
    assert!(accounts.get("eu1").unwrap().is_none());
    // The revoked refresh token is dead at Zoho too.
    sb.expire_access_tokens();
    assert!(client.get_org().await.is_err());
}

#[tokio::test]
async fn self_client_codes_need_no_browser() {
    let sb = sandbox().await;
    let (store, accounts, _dir) = setup();
    let mut p = params(&sb, "sc", free_port());
    p.self_client_code = Some(SecretString::from(
        sb.issue_grant_code("ZohoBigin.users.ALL,ZohoBigin.org.READ"),
    ));
    let http = http_client(Duration::from_secs(5));
    let out = flow::login(&http, p, store.clone(), &accounts, |_| {
        panic!("no URL for a Self Client")
    })
    .await
    .unwrap();
    assert_eq!(out.meta.dc, "us");
    let exchange = sb
        .requests()
        .into_iter()
        .find(|r| r.path == "/oauth/v2/token")
        .unwrap();
    assert!(
        !exchange.body.contains("redirect_uri"),
        "Self Client exchanges omit redirect_uri"
    );
    assert!(store.get("sc/refresh_token").unwrap().is_some());
}

async fn assert_nothing_written(store: &MemoryStore, accounts: &Accounts) {
    assert!(store.dump().is_empty(), "no keychain entry");
    assert!(accounts.load().unwrap().is_empty(), "no account");
}

#[tokio::test]
async fn denied_consent_and_forged_callbacks_store_nothing() {
    let sb = eu_sandbox().await;
    let http = http_client(Duration::from_secs(5));

    let (store, accounts, _d) = setup();
    sb.inject(Fault::new(FaultKind::ConsentDenied));
    let e = flow::login(
        &http,
        params(&sb, "x", free_port()),
        store.clone(),
        &accounts,
        browser(|u| u),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("declined"), "{e}");
    assert_nothing_written(&store, &accounts).await;

    let (store, accounts, _d) = setup();
    let forge_state = |u: String| {
        let (head, _) = u.split_once("&state=").unwrap();
        format!("{head}&state=forged")
    };
    let e = flow::login(
        &http,
        params(&sb, "x", free_port()),
        store.clone(),
        &accounts,
        browser(forge_state),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("state"), "{e}");
    assert_nothing_written(&store, &accounts).await;

    let (store, accounts, _d) = setup();
    sb.clear_requests();
    // Another server on the same host as --accounts-url, another port: a
    // leaked secret would land in its log.
    let evil_sb = sandbox().await;
    let evil_url = evil_sb.base_url();
    let evil = move |u: String| {
        let url = reqwest::Url::parse(&u).unwrap();
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    if k == "accounts-server" {
                        evil_url.clone()
                    } else {
                        v.to_string()
                    },
                )
            })
            .collect();
        let mut out = url.clone();
        out.query_pairs_mut().clear().extend_pairs(pairs);
        out.to_string()
    };
    let e = flow::login(
        &http,
        params(&sb, "x", free_port()),
        store.clone(),
        &accounts,
        browser(evil),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("not a Zoho accounts host"), "{e}");
    assert!(
        !sb.requests().iter().any(|r| r.path == "/oauth/v2/token"),
        "the secret was never sent"
    );
    assert!(
        evil_sb.requests().is_empty(),
        "nothing reached the other server"
    );
    assert_nothing_written(&store, &accounts).await;

    let (store, accounts, _d) = setup();
    sb.inject(Fault::new(FaultKind::TokenError {
        error: "invalid_code".into(),
    }));
    let e = flow::login(
        &http,
        params(&sb, "x", free_port()),
        store.clone(),
        &accounts,
        browser(|u| u),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("invalid_code"), "{e}");
    assert_nothing_written(&store, &accounts).await;
}

#[tokio::test]
async fn a_busy_port_and_a_silent_browser_end_cleanly() {
    let sb = sandbox().await;
    let http = http_client(Duration::from_secs(5));
    let (store, accounts, _d) = setup();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let e = flow::login(
        &http,
        params(&sb, "x", port),
        store.clone(),
        &accounts,
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string().contains(&format!("127.0.0.1:{port}")) && e.to_string().contains("--port"),
        "{e}"
    );
    let mut p = params(&sb, "x", free_port());
    p.timeout = Duration::from_millis(300);
    let e = flow::login(&http, p, store.clone(), &accounts, |_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no answer from the browser"), "{e}");
    assert_nothing_written(&store, &accounts).await;
}

#[tokio::test]
async fn logout_removes_local_entries_even_when_the_revoke_fails() {
    let sb = sandbox().await;
    let (store, accounts, _d) = setup();
    let http = http_client(Duration::from_secs(5));
    let mut p = params(&sb, "r", free_port());
    p.self_client_code = Some(SecretString::from(
        sb.issue_grant_code("ZohoBigin.org.READ"),
    ));
    flow::login(&http, p, store.clone(), &accounts, |_| {})
        .await
        .unwrap();
    let refresh = store
        .get("r/refresh_token")
        .unwrap()
        .unwrap()
        .expose_secret()
        .to_string();
    sb.inject(Fault::new(FaultKind::ServerError { status: 500 }).on_path("/revoke"));
    let report = flow::logout(&http, "r", store.clone(), &accounts)
        .await
        .unwrap();
    assert!(report.revoked.is_err());
    assert!(store.dump().is_empty() && accounts.get("r").unwrap().is_none());
    let log = format!("{:?}", sb.requests());
    assert!(!log.contains(&refresh), "the sandbox log redacts tokens");
}

/// A keychain that refuses writes of one kind of entry, once armed.
struct Flaky {
    inner: MemoryStore,
    fail: std::sync::atomic::AtomicBool,
}

impl SecretStore for Flaky {
    fn get(&self, key: &str) -> Result<Option<SecretString>, bigin_mcp::auth::AuthError> {
        self.inner.get(key)
    }
    fn set(&self, key: &str, value: &SecretString) -> Result<(), bigin_mcp::auth::AuthError> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) && key.ends_with("/access_token") {
            return Err(bigin_mcp::auth::AuthError::KeychainLocked("test".into()));
        }
        self.inner.set(key, value)
    }
    fn delete(&self, key: &str) -> Result<(), bigin_mcp::auth::AuthError> {
        self.inner.delete(key)
    }
}

#[tokio::test]
async fn a_failed_re_login_keeps_the_working_login_and_revokes_the_new_token() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let accounts = Accounts::new(dir.path().join("accounts.json"));
    let store = Arc::new(Flaky {
        inner: MemoryStore::default(),
        fail: false.into(),
    });
    let http = http_client(Duration::from_secs(5));
    let mut p = params(&sb, "keep", free_port());
    p.self_client_code = Some(SecretString::from(
        sb.issue_grant_code("ZohoBigin.org.READ"),
    ));
    flow::login(&http, p, store.clone(), &accounts, |_| {})
        .await
        .unwrap();
    let before = store.inner.dump();
    assert_eq!(before.len(), 3);

    store.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    sb.clear_requests();
    let mut p = params(&sb, "keep", free_port());
    p.self_client_code = Some(SecretString::from(
        sb.issue_grant_code("ZohoBigin.org.READ"),
    ));
    assert!(
        flow::login(&http, p, store.clone(), &accounts, |_| {})
            .await
            .is_err()
    );
    let mut after = store.inner.dump();
    let mut before = before;
    after.sort();
    before.sort();
    assert_eq!(after, before, "the old login is intact");
    assert!(accounts.get("keep").unwrap().is_some());
    assert!(
        sb.requests()
            .iter()
            .any(|r| r.path == "/oauth/v2/token/revoke"),
        "the new refresh token was given back"
    );
}

/// The code exchange and the revocation read the accounts server's answer
/// with a cap too: an oversized answer is refused, not read into memory.
#[tokio::test]
async fn oversized_token_endpoint_answers_are_refused_unread() {
    let sb = sandbox().await;
    let http = http_client(Duration::from_secs(10));
    let body = format!("{{\"access_token\":\"{}\"}}", "x".repeat(2 << 20));
    sb.inject(
        Fault::new(FaultKind::Answer { status: 200, body })
            .on_path("/oauth/v2/token")
            .times(2),
    );
    let code = SecretString::from(sb.issue_grant_code("ZohoBigin.users.ALL"));
    let secret = SecretString::from(sandbox::DEMO_CLIENT_SECRET.to_string());
    let e = bigin_mcp::auth::oauth::exchange_code(
        &http,
        &sb.base_url(),
        sandbox::DEMO_CLIENT_ID,
        &secret,
        &code,
        None,
        None,
    )
    .await
    .err()
    .expect("refused");
    assert!(e.to_string().contains("larger than"), "{e}");
    let e = bigin_mcp::auth::oauth::revoke(
        &http,
        &sb.base_url(),
        &SecretString::from(sandbox::DEMO_REFRESH_TOKEN.to_string()),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("larger than"), "{e}");
}

/// Zoho keeps 20 refresh tokens per client and user and drops the oldest
/// silently (maybe another machine's): a re-login gives back the one it
/// replaced, and only after the new one is stored.
#[tokio::test]
async fn a_re_login_revokes_the_refresh_token_it_replaced() {
    let sb = sandbox().await;
    let (store, accounts, _d) = setup();
    let http = http_client(Duration::from_secs(5));
    let login = |n: u32| {
        let mut p = params(&sb, "again", free_port());
        p.self_client_code = Some(SecretString::from(
            sb.issue_grant_code("ZohoBigin.org.READ"),
        ));
        let (http, store, accounts) = (&http, store.clone(), &accounts);
        async move {
            let out = flow::login(http, p, store.clone(), accounts, |_| {})
                .await
                .unwrap_or_else(|e| panic!("login {n}: {e}"));
            let token = store.get("again/refresh_token").unwrap().unwrap();
            (out, token)
        }
    };
    let (first, old) = login(1).await;
    assert!(first.previous_token_revoked.is_none(), "nothing replaced");
    let (second, new) = login(2).await;
    assert_ne!(old.expose_secret(), new.expose_secret());
    assert_eq!(second.previous_token_revoked, Some(Ok(())));
    let c = reqwest::Client::new();
    let refresh = |t: SecretString| {
        let c = c.clone();
        let url = format!("{}/oauth/v2/token", sb.base_url());
        async move {
            let form = [
                ("grant_type", "refresh_token"),
                ("client_id", sandbox::DEMO_CLIENT_ID),
                ("client_secret", sandbox::DEMO_CLIENT_SECRET),
                ("refresh_token", t.expose_secret()),
            ];
            let v: serde_json::Value = c
                .post(url)
                .form(&form)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v
        }
    };
    assert_eq!(
        refresh(old).await["error"],
        "invalid_code",
        "the old one is gone"
    );
    assert!(
        refresh(new).await["access_token"].is_string(),
        "the new one works"
    );
}

/// `--no-pkce`: no challenge in the consent URL, no verifier in the exchange.
/// With PKCE, a refused exchange names the flag.
#[tokio::test]
async fn logins_without_pkce_and_a_pkce_hint_on_refused_exchanges() {
    let sb = sandbox().await;
    let http = http_client(Duration::from_secs(5));
    let (store, accounts, _d) = setup();
    let mut p = params(&sb, "nopkce", free_port());
    p.pkce = false;
    let seen = Arc::new(std::sync::Mutex::new(String::new()));
    let keep = seen.clone();
    let open = browser(|u| u);
    flow::login(&http, p, store.clone(), &accounts, move |url: &str| {
        *keep.lock().unwrap() = url.to_string();
        open(url)
    })
    .await
    .unwrap();
    assert!(!seen.lock().unwrap().contains("code_challenge"));
    let exchange = sb
        .requests()
        .into_iter()
        .find(|r| r.path == "/oauth/v2/token")
        .unwrap();
    assert!(
        !exchange.body.contains("code_verifier"),
        "{}",
        exchange.body
    );
    assert!(store.get("nopkce/refresh_token").unwrap().is_some());

    let (store, accounts, _d) = setup();
    sb.inject(Fault::new(FaultKind::TokenError {
        error: "invalid_code".into(),
    }));
    let e = flow::login(
        &http,
        params(&sb, "pkce", free_port()),
        store.clone(),
        &accounts,
        browser(|u| u),
    )
    .await
    .unwrap_err();
    let m = e.to_string();
    assert!(m.contains("invalid_code") && m.contains("--no-pkce"), "{m}");
    assert_nothing_written(&store, &accounts).await;
}
