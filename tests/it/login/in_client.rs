//! Connecting Zoho from inside the client (issue 18 item 1): `serve` with
//! nobody logged in answers the first call with the consent link, waits for
//! Zoho's redirect itself, and the next call works, with no terminal. No
//! keychain here: `BIGIN_INSECURE_STORAGE=1`, as the bundle's setting sets.

use super::*;
use bigin_mcp::auth::connect::CONNECT_SENTENCE;

/// `serve` as a bundle starts it: client id and secret in the env, no login.
fn serve_cmd(c: &LoginCase, port: u16) -> Command {
    let mut cmd = c.home.cmd_without_keychain(&[
        "serve",
        "--account",
        &c.account,
        "--callback-port",
        &port.to_string(),
    ]);
    cmd.env("BIGIN_CLIENT_ID", sandbox::DEMO_CLIENT_ID)
        .env("BIGIN_CLIENT_SECRET", SECRET)
        .env("BIGIN_ACCOUNTS_URL", c.sb.base_url())
        .env("BIGIN_INSECURE_STORAGE", "1");
    cmd
}

async fn start(cmd: Command) -> (RunningService, JoinHandle<String>) {
    let (transport, stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bigin-mcp serve");
    let stderr = tokio::spawn(read_all(stderr.expect("piped stderr")));
    let client = ().serve(transport).await.expect("initialize over stdio");
    (client, stderr)
}

type RunningService = rmcp::service::RunningService<RoleClient, ()>;

async fn list_users(c: &RunningService) -> rmcp::model::CallToolResult {
    c.call_tool(CallToolRequestParams::new("bigin_list_users"))
        .await
        .expect("tools/call answered")
}

/// `bigin_list_users` past the session cache, so it reaches Zoho.
async fn fresh_users(c: &RunningService) -> rmcp::model::CallToolResult {
    let args = serde_json::json!({"fresh": true});
    let p = CallToolRequestParams::new("bigin_list_users")
        .with_arguments(args.as_object().unwrap().clone());
    c.call_tool(p).await.expect("tools/call answered")
}

/// The consent link in a tool error's text (the line that is a URL).
fn link_in(text: &str) -> Url {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("http") && l.contains("/oauth/v2/auth?"))
        .unwrap_or_else(|| panic!("no consent link in: {text}"));
    Url::parse(line).expect("the link parses")
}

/// Nothing shown in a client tells the person to use a terminal.
fn assert_no_terminal(text: &str) {
    for s in ["bigin-mcp login", "terminal", "run `"] {
        assert!(!text.contains(s), "a client message mentions {s:?}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_call_gives_the_link_and_after_consent_the_next_call_lists_users() {
    let c = LoginCase::without_keychain("in-client").await;
    let port = free_port();
    let (client, stderr) = start(serve_cmd(&c, port)).await;

    let r = list_users(&client).await;
    assert_eq!(r.is_error, Some(true));
    let t = text(&r);
    assert!(t.contains(CONNECT_SENTENCE), "{t}");
    assert_no_terminal(&t);
    let url = link_in(&t);
    assert_eq!(
        param(&url, "redirect_uri").as_deref(),
        Some(format!("http://127.0.0.1:{port}/callback").as_str())
    );
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let state = param(&url, "state").expect("state");
    // Asked again before consent: the same link, still waiting.
    let again = text(&list_users(&client).await);
    assert_eq!(link_in(&again), url, "{again}");
    assert!(!c.home.lists(&c.account), "nothing stored before consent");

    // The browser: consent, then Zoho's redirect to this server's port (the
    // state and PKCE checks are login's own code, tested with `login`).
    let b = browser();
    let callback = consent(&b, &url).await;
    assert_eq!(param(&callback, "state").as_deref(), Some(state.as_str()));
    let page = open(&b, &callback).await;
    assert!(page.contains("bigin-mcp is connected"), "{page}");

    let r = list_users(&client).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let users = r.structured_content.expect("structured users");
    assert!(users["total"].as_u64().unwrap() > 0, "{users}");

    // Stored as `login --insecure-storage` stores: the data centre read from
    // the callback, the secrets in a 0600 file.
    let accounts: Value = serde_json::from_str(&c.home.accounts_text()).unwrap();
    let meta = &accounts["accounts"][&c.account];
    assert_eq!(meta["dc"], "eu", "{accounts}");
    assert_eq!(meta["secrets"], "file", "{accounts}");
    let creds = c.home.dir.path().join("config/bigin-mcp/credentials.json");
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&creds).unwrap()).unwrap();
    let refresh = stored[SecretKind::RefreshToken.key(&c.account)]
        .as_str()
        .expect("the refresh token is in the file")
        .to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&creds).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    client.cancel().await.unwrap();
    let log = tokio::time::timeout(STEP, stderr).await.unwrap().unwrap();
    let code = param(&callback, "code").expect("a code");
    assert_no_secrets(
        "serve's stderr and tool output",
        &format!("{log}\n{t}"),
        &[SECRET.to_string(), refresh, code],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_callback_port_is_said_and_the_link_comes_when_it_is_free() {
    let c = LoginCase::without_keychain("in-client-port").await;
    let port = free_port();
    // Another copy of the server, waiting for its own consent.
    let held = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let mut cmd = serve_cmd(&c, port);
    cmd.env("BIGIN_NO_PKCE", "1");
    let (client, _stderr) = start(cmd).await;
    let r = list_users(&client).await;
    assert_eq!(r.is_error, Some(true));
    let t = text(&r);
    assert!(
        t.contains("another copy of bigin-mcp") && t.contains(&format!("127.0.0.1:{port}")),
        "{t}"
    );
    assert_no_terminal(&t);
    assert!(
        c.sb.requests().is_empty(),
        "nothing sent to Zoho: {:?}",
        c.sb.requests()
    );
    drop(held);
    // The other copy is gone: this one hands out its own link (no PKCE, as
    // BIGIN_NO_PKCE asks).
    let t = text(&list_users(&client).await);
    assert!(t.contains(CONNECT_SENTENCE), "{t}");
    let url = link_in(&t);
    assert_eq!(param(&url, "code_challenge"), None, "{url}");
    assert!(param(&url, "state").is_some());
    client.cancel().await.unwrap();
}

/// `login --insecure-storage` with a Self Client code for `scopes`, as in
/// a terminal: the client id and secret are stored with the login.
async fn terminal_login(c: &LoginCase, scopes: &[&str]) {
    let out = insecure_login(&c.home, &c.sb, &c.account, scopes).await;
    assert_eq!(out.code, Some(0), "{out}");
}

/// `serve` of that login, with no client id or secret in its env.
fn serve_logged_in(c: &LoginCase) -> Command {
    let port = free_port().to_string();
    let args = ["serve", "--account", &c.account, "--callback-port", &port];
    let mut cmd = c.home.cmd_without_keychain(&args);
    cmd.env("BIGIN_ACCOUNTS_URL", c.sb.base_url());
    cmd
}

/// A stored login that Zoho refuses later (its refresh token revoked, as an
/// admin does from Zoho's "Connected apps") gets a consent link inside the
/// client, never advice to run `login`; after consent the server takes up
/// the new login, and the refused one is not tried again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_login_gets_a_new_link_and_the_new_login_is_taken_up() {
    let c = LoginCase::without_keychain("refused").await;
    // Logged in at a terminal: the client's config carries no client id or
    // secret, so connecting again uses the stored login's client.
    let base = c.sb.base_url();
    terminal_login(&c, &bigin_mcp::mcp::login_scopes(false)).await;
    let (client, stderr) = start(serve_logged_in(&c)).await;
    let r = fresh_users(&client).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));

    let creds = c.home.dir.path().join("config/bigin-mcp/credentials.json");
    let refresh_of = || {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&creds).unwrap()).unwrap();
        v[SecretKind::RefreshToken.key(&c.account)]
            .as_str()
            .unwrap()
            .to_string()
    };
    let old = refresh_of();
    let b = browser();
    let revoked = b
        .post(format!("{base}/oauth/v2/token/revoke"))
        .query(&[("token", old.as_str())])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success());
    c.sb.expire_access_tokens();

    let r = fresh_users(&client).await;
    assert_eq!(r.is_error, Some(true));
    let t = text(&r);
    assert!(t.contains("Zoho refused bigin-mcp's login"), "{t}");
    assert!(t.contains(CONNECT_SENTENCE), "{t}");
    assert_no_terminal(&t);
    let url = link_in(&t);
    // Asked again: the same link, and the refused login is not retried.
    c.sb.clear_requests();
    assert_eq!(link_in(&text(&fresh_users(&client).await)), url);
    assert!(c.sb.requests().is_empty(), "{:?}", c.sb.requests());

    let callback = consent(&b, &url).await;
    let page = open(&b, &callback).await;
    assert!(page.contains("bigin-mcp is connected"), "{page}");
    let r = fresh_users(&client).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let new = refresh_of();
    assert_ne!(new, old, "a new login was stored");

    client.cancel().await.unwrap();
    let log = tokio::time::timeout(STEP, stderr).await.unwrap().unwrap();
    assert_no_secrets(
        "serve's stderr and tool output",
        &format!("{log}\n{t}"),
        &[SECRET.to_string(), old, new],
    );
}

/// A login that another copy of the server, or a terminal, made while this
/// one served (revoking the one this copy still held) is taken up at the
/// refusal, and the call goes through: no link, no consent needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_made_elsewhere_replaces_a_refused_one_without_a_link() {
    let c = LoginCase::without_keychain("replaced").await;
    terminal_login(&c, &bigin_mcp::mcp::login_scopes(false)).await;
    let (client, _stderr) = start(serve_logged_in(&c)).await;
    let r = fresh_users(&client).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    // A second login of the account revokes the refresh token it replaces.
    terminal_login(&c, &bigin_mcp::mcp::login_scopes(false)).await;
    c.sb.expire_access_tokens();
    let r = fresh_users(&client).await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    client.cancel().await.unwrap();
}

/// A login without the organisation's scope still serves what it may: the
/// result goes without the organisation's name, the failed read is not
/// repeated, and no consent link is handed out for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_without_the_org_scope_keeps_working() {
    let c = LoginCase::without_keychain("no-org").await;
    let scopes: Vec<&str> = bigin_mcp::mcp::login_scopes(false)
        .into_iter()
        .filter(|s| !s.contains("org."))
        .collect();
    terminal_login(&c, &scopes).await;
    let (client, _stderr) = start(serve_logged_in(&c)).await;
    c.sb.clear_requests();
    for _ in 0..3 {
        let r = fresh_users(&client).await;
        assert_ne!(r.is_error, Some(true), "{}", text(&r));
        let v = r.structured_content.unwrap();
        assert!(v.get("organization").is_none(), "{v}");
    }
    let org_reads =
        c.sb.requests()
            .iter()
            .filter(|r| r.path.ends_with("/org"))
            .count();
    assert_eq!(org_reads, 1, "the organisation is tried once");
    client.cancel().await.unwrap();
}
