//! Failures: a clear sentence, a non-zero exit, nothing stored.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_data_centre_is_a_usage_error() {
    // Fails before the keychain is opened, so it runs everywhere.
    let c = LoginCase::maybe_keychain("an_unknown_data_centre_is_a_usage_error", "dc-mars").await;
    let (a, home) = (&c.account, &c.home);
    let args = [
        "login",
        "--dc",
        "mars",
        "--client-id",
        sandbox::DEMO_CLIENT_ID,
        "--client-secret-stdin",
        "--account",
        a,
    ];
    let out = run(home.cmd(&args), SECRET).await;
    assert_eq!(out.code, Some(2), "{out}");
    // Refused by the flag parser (clap's `error:` line), before anything runs.
    assert!(
        out.stderr
            .contains("invalid value 'mars' for '--dc <DC>': unknown data centre")
            && out.stderr.contains("us, eu, in, au, jp, cn, sa, ca"),
        "{out}"
    );
    c.assert_nothing_written();
    assert_no_secrets("login", &out.all(), &[SECRET.to_string()]);
}

#[cfg_attr(
    not(secret_service),
    ignore = "needs a Secret Service: run under scripts/with-secret-service"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_consent_stores_nothing() {
    let Some(c) = LoginCase::with_keychain("declined_consent_stores_nothing", "denied").await
    else {
        return;
    };
    let (sb, home) = (&c.sb, &c.home);
    sb.inject(Fault::new(FaultKind::ConsentDenied));
    let login = start_login(home, &c.login_args(free_port())).await;
    let b = browser();
    let callback = consent(&b, &login.url).await;
    assert_eq!(param(&callback, "error").as_deref(), Some("access_denied"));
    let page = open(&b, &callback).await;
    assert!(page.contains("bigin-mcp login failed"), "{page}");
    let out = login.finish().await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.error_line().contains("consent was declined"), "{out}");
    assert!(token_requests(sb).is_empty());
    c.assert_nothing_written();
    assert_no_secrets("login", &out.all(), &[SECRET.to_string()]);
}

#[cfg_attr(
    not(secret_service),
    ignore = "needs a Secret Service: run under scripts/with-secret-service"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_with_the_wrong_state_is_refused() {
    let Some(c) =
        LoginCase::with_keychain("a_callback_with_the_wrong_state_is_refused", "state").await
    else {
        return;
    };
    let (sb, home) = (&c.sb, &c.home);
    let login = start_login(home, &c.login_args(free_port())).await;
    let b = browser();
    // A real code, but a state this login never issued (a forged redirect).
    let callback = consent(&b, &login.url).await;
    let code = param(&callback, "code").expect("a grant code");
    let forged = with_param(&callback, "state", "forged-state-value");
    let page = open(&b, &forged).await;
    assert!(page.contains("bigin-mcp login failed"), "{page}");
    let out = login.finish().await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.error_line().contains("state does not match"), "{out}");
    assert!(token_requests(sb).is_empty(), "the code was not exchanged");
    c.assert_nothing_written();
    assert_no_secrets("login", &out.all(), &[SECRET.to_string(), code]);
}

#[cfg_attr(
    not(secret_service),
    ignore = "needs a Secret Service: run under scripts/with-secret-service"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_callback_port_is_a_usage_error() {
    // The keychain is opened before the port is bound.
    let Some(c) =
        LoginCase::with_keychain("a_busy_callback_port_is_a_usage_error", "busy-port").await
    else {
        return;
    };
    let (sb, home) = (&c.sb, &c.home);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = run(home.cmd(&c.login_args(port)), SECRET).await;
    assert_eq!(out.code, Some(2), "{out}");
    let line = out.error_line();
    assert!(
        line.contains(&format!("127.0.0.1:{port}")) && line.contains("--port"),
        "{out}"
    );
    assert!(!out.stderr.contains("/oauth/v2/auth"), "no URL: {out}");
    assert!(sb.requests().is_empty());
    c.assert_nothing_written();
    assert_no_secrets("login", &out.all(), &[SECRET.to_string()]);
    drop(taken);
}

#[cfg_attr(
    not(secret_service),
    ignore = "needs a Secret Service: run under scripts/with-secret-service"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_error_inside_http_200_fails_the_login() {
    let Some(c) = LoginCase::with_keychain(
        "a_token_error_inside_http_200_fails_the_login",
        "token-error",
    )
    .await
    else {
        return;
    };
    let (sb, home) = (&c.sb, &c.home);
    sb.inject(Fault::new(FaultKind::TokenError {
        error: "invalid_code".into(),
    }));
    let login = start_login(home, &c.login_args(free_port())).await;
    let b = browser();
    let callback = consent(&b, &login.url).await;
    let code = param(&callback, "code").expect("a grant code");
    let page = open(&b, &callback).await;
    assert!(page.contains("bigin-mcp login failed"), "{page}");
    assert!(page.contains("invalid_code"), "{page}");
    let out = login.finish().await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.error_line().contains("invalid_code"), "{out}");
    assert_eq!(token_requests(sb).len(), 1, "one exchange, refused");
    c.assert_nothing_written();
    assert_no_secrets("login", &out.all(), &[SECRET.to_string(), code]);
}

#[cfg_attr(
    not(secret_service),
    ignore = "needs a Secret Service: run under scripts/with-secret-service"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_accounts_server_gets_no_secret() {
    let Some(c) =
        LoginCase::with_keychain("an_untrusted_accounts_server_gets_no_secret", "evil").await
    else {
        return;
    };
    let (sb, home) = (&c.sb, &c.home);
    let port = free_port();
    let login = start_login(home, &c.login_args(port)).await;
    let b = browser();
    // The browser never visits the consent page: the callback is built by
    // hand, with the right state (from the printed URL) and a foreign
    // accounts server.
    let mut forged = Url::parse(&format!("http://127.0.0.1:{port}/callback")).unwrap();
    forged
        .query_pairs_mut()
        .append_pair("code", "1000.forged-grant-code")
        .append_pair("location", "eu")
        .append_pair("accounts-server", "https://evil.example")
        .append_pair("state", &login.state);
    assert!(
        forged
            .as_str()
            .contains("accounts-server=https%3A%2F%2Fevil.example")
    );
    let page = open(&b, &forged).await;
    assert!(page.contains("bigin-mcp login failed"), "{page}");
    let out = login.finish().await;
    assert_eq!(out.code, Some(1), "{out}");
    let line = out.error_line();
    assert!(
        line.contains("evil.example") && line.contains("not a Zoho accounts host"),
        "{out}"
    );
    assert!(token_requests(sb).is_empty(), "no token request anywhere");
    c.assert_nothing_written();
    assert_no_secrets("login", &out.all(), &[SECRET.to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keychain_login_fails_before_the_browser() {
    // Needs no keychain itself; checks the real one (if any) stays clean.
    let c = LoginCase::maybe_keychain(
        "without_a_keychain_login_fails_before_the_browser",
        "no-keychain",
    )
    .await;
    let (sb, home) = (&c.sb, &c.home);
    let out = run(
        home.cmd_without_keychain(&c.login_args(free_port())),
        SECRET,
    )
    .await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.error_line().contains("keychain"), "{out}");
    assert!(!out.stderr.contains("/oauth/v2/auth"), "no URL: {out}");
    assert!(sb.requests().is_empty(), "nothing sent to Zoho");
    c.assert_nothing_written();
    assert_no_secrets("login", &out.all(), &[SECRET.to_string()]);
}

#[cfg_attr(
    not(secret_service),
    ignore = "needs a Secret Service: run under scripts/with-secret-service"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_forgets_locally_even_when_the_revoke_fails() {
    let Some(c) = LoginCase::with_keychain(
        "logout_forgets_locally_even_when_the_revoke_fails",
        "revoke-fails",
    )
    .await
    else {
        return;
    };
    let (a, sb, home, kc) = (&c.account, &c.sb, &c.home, c.kc());
    let code = sb.issue_grant_code("ZohoBigin.users.ALL,ZohoBigin.org.READ");
    let login = c.self_client_login(&code).await;
    assert_eq!(login.code, Some(0), "{login}");
    let refresh = kc.get(a, SecretKind::RefreshToken).expect("refresh token");
    let access = kc.access_token(a).expect("access token cached");

    sb.inject(Fault::new(FaultKind::ServerError { status: 500 }).on_path("/revoke"));
    let out = run(home.cmd(&["logout", "--account", a]), "").await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr
            .contains(&format!("Removed '{a}' from this machine"))
            && out.stderr.contains("did not confirm the revocation"),
        "{out}"
    );
    assert!(
        sb.requests()
            .iter()
            .any(|r| r.method == "POST" && r.path == "/oauth/v2/token/revoke"),
        "a revocation was attempted"
    );
    c.assert_nothing_written();
    let secrets = [SECRET.to_string(), code, refresh, access];
    assert_no_secrets("login", &login.all(), &secrets);
    assert_no_secrets("logout", &out.all(), &secrets);
    assert_no_secrets("account file", &home.accounts_text(), &secrets);
}
