//! The happy paths: a browser login followed by status, serve and logout;
//! a Self Client code.

use super::*;

#[cfg_attr(
    not(secret_service),
    ignore = "needs a Secret Service: run under scripts/with-secret-service"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_login_then_status_serve_and_logout() {
    let Some(c) =
        LoginCase::with_keychain("browser_login_then_status_serve_and_logout", "round-trip").await
    else {
        return;
    };
    let (a, sb, home, kc) = (&c.account, &c.sb, &c.home, c.kc());
    let port = free_port();
    let b = browser();

    // login: the URL on stderr, then the browser's two hops.
    let login = start_login(home, &c.login_args(port)).await;
    let url = &login.url;
    assert!(
        url.as_str()
            .starts_with(&format!("{}/oauth/v2/auth?", sb.base_url())),
        "{url}"
    );
    assert_eq!(
        param(url, "client_id").as_deref(),
        Some(sandbox::DEMO_CLIENT_ID)
    );
    assert_eq!(
        param(url, "redirect_uri"),
        Some(format!("http://127.0.0.1:{port}/callback"))
    );
    assert_eq!(
        param(url, "scope"),
        Some(bigin_mcp::mcp::login_scopes(false).join(","))
    );
    let callback = consent(&b, url).await;
    assert_eq!(callback.host_str(), Some("127.0.0.1"));
    assert_eq!(callback.port(), Some(port));
    assert_eq!(callback.path(), "/callback");
    assert_eq!(param(&callback, "location").as_deref(), Some("eu"));
    assert_eq!(param(&callback, "accounts-server"), Some(sb.base_url()));
    assert_eq!(param(&callback, "state"), Some(login.state.clone()));
    let code = param(&callback, "code").expect("a grant code");
    let page = open(&b, &callback).await;
    assert!(page.contains("bigin-mcp is connected"), "{page}");
    let out = login.finish().await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        out.stderr.contains(&format!("organisation '{ORG_NAME}'")),
        "{out}"
    );
    assert!(out.stderr.contains("data centre eu"), "{out}");
    assert!(
        out.stdout.is_empty(),
        "login writes nothing on stdout: {out}"
    );
    assert!(home.lists(a));
    let refresh = kc
        .get(a, SecretKind::RefreshToken)
        .expect("refresh token stored");
    assert_eq!(kc.get(a, SecretKind::ClientSecret).as_deref(), Some(SECRET));
    let login_access = kc.access_token(a).expect("login cached the access token");
    // ...one the API accepts, for the API domain Zoho named.
    let cache: Value = serde_json::from_str(&kc.get(a, SecretKind::AccessToken).unwrap()).unwrap();
    assert_eq!(cache["api_domain"], sb.base_url().as_str());
    let org = b
        .get(format!("{}/bigin/v2/org", sb.base_url()))
        .header("Authorization", format!("Zoho-oauthtoken {login_access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(org.status(), 200, "the cached access token works");
    assert_eq!(token_requests(sb).len(), 1, "one code exchange");
    let mut outputs = vec![("login", out.all()), ("account file", home.accounts_text())];

    // status --json: one JSON document, with a real refresh.
    let out = run(home.cmd(&["status", "--account", a, "--json"]), "").await;
    assert_eq!(out.code, Some(0), "{out}");
    let docs: Vec<Value> = serde_json::Deserializer::from_str(&out.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{out}"));
    assert_eq!(docs.len(), 1, "exactly one JSON document:\n{out}");
    assert_eq!(docs[0]["logged_in"], true);
    let accounts = docs[0]["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1);
    let st = &accounts[0];
    assert_eq!(st["account"], a.as_str());
    assert_eq!(st["dc"], "eu");
    assert_eq!(st["api_domain"], sb.base_url().as_str());
    assert_eq!(st["accounts_server"], sb.base_url().as_str());
    assert_eq!(st["client_id"], sandbox::DEMO_CLIENT_ID);
    assert_eq!(
        st["scopes"],
        serde_json::json!(bigin_mcp::mcp::login_scopes(false))
    );
    assert_eq!(st["organization"], ORG_NAME);
    assert_eq!(st["refresh_ok"], true, "{out}");
    assert!(st.get("refresh_error").is_none(), "{out}");
    let refreshes = token_requests(sb);
    assert_eq!(refreshes.len(), 2, "status refreshed once");
    assert!(refreshes[1].body.contains("grant_type=refresh_token"));
    outputs.push(("status", out.all()));
    // status keeps its fresh token; serve should find that one.
    let status_access = kc.access_token(a).expect("access token cached");

    // serve over real stdio, no BIGIN_CLIENT_* in its env: the keychain.
    let (transport, stderr) = TokioChildProcess::builder(home.cmd(&["serve", "--account", a]))
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bigin-mcp serve");
    let stderr = tokio::spawn(read_all(stderr.expect("piped stderr")));
    let client: rmcp::service::RunningService<RoleClient, ()> =
        ().serve(transport).await.expect("initialize over stdio");
    let before = sb.requests().len();
    let r = client
        .call_tool(CallToolRequestParams::new("bigin_get_organization"))
        .await
        .expect("tools/call answered");
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let org = r.structured_content.clone().expect("structured content");
    assert_eq!(org["org"]["company_name"], ORG_NAME, "{org}");
    client.cancel().await.unwrap();
    let serve_log = tokio::time::timeout(STEP, stderr).await.unwrap().unwrap();
    let during: Vec<RecordedRequest> = sb.requests().split_off(before);
    assert!(
        during.iter().all(|r| !r.path.starts_with("/oauth")),
        "serve reused the cached access token: {during:?}"
    );
    assert!(
        during
            .iter()
            .any(|r| r.path == "/bigin/v2/org" && r.authorized),
        "{during:?}"
    );
    outputs.push(("serve stderr", serve_log));
    outputs.push(("serve tool output", serde_json::to_string(&r).unwrap()));

    // logout: revoked at Zoho, gone locally.
    let out = run(home.cmd(&["logout", "--account", a]), "").await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("Zoho revoked"), "{out}");
    assert!(
        sb.requests()
            .iter()
            .any(|r| r.method == "POST" && r.path == "/oauth/v2/token/revoke"),
        "logout revokes"
    );
    for kind in SecretKind::ALL {
        assert!(kc.get(a, kind).is_none(), "{} left", kind.key(a));
    }
    outputs.push(("logout", out.all()));

    // status: not logged in any more.
    let out = run(home.cmd(&["status", "--account", a]), "").await;
    assert_eq!(out.code, Some(3), "{out}");
    assert!(out.error_line().contains("not logged in"), "{out}");
    assert!(!home.lists(a), "{}", home.accounts_text());
    outputs.push(("status after logout", out.all()));
    outputs.push(("account file after logout", home.accounts_text()));

    let secrets = [
        SECRET.to_string(),
        refresh,
        login_access,
        status_access,
        code,
    ];
    for (what, text) in &outputs {
        assert_no_secrets(what, text, &secrets);
    }
}

#[cfg_attr(
    not(secret_service),
    ignore = "needs a Secret Service: run under scripts/with-secret-service"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_client_code_logs_in_without_a_browser() {
    let Some(c) =
        LoginCase::with_keychain("self_client_code_logs_in_without_a_browser", "self-client").await
    else {
        return;
    };
    let (a, sb, home, kc) = (&c.account, &c.sb, &c.home, c.kc());
    let code = sb.issue_grant_code("ZohoBigin.users.ALL,ZohoBigin.org.READ");
    let out = c.self_client_login(&code).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        !out.stderr.contains("/oauth/v2/auth"),
        "no browser step: {out}"
    );
    assert!(
        out.stderr.contains(&format!("organisation '{ORG_NAME}'")),
        "{out}"
    );
    assert!(
        !sb.requests().iter().any(|r| r.path == "/oauth/v2/auth"),
        "no consent page"
    );
    let exchange = token_requests(sb);
    assert_eq!(exchange.len(), 1);
    assert!(
        !exchange[0].body.contains("redirect_uri"),
        "Self Client codes are exchanged without a redirect URI: {}",
        exchange[0].body
    );
    assert!(home.lists(a));
    let refresh = kc.get(a, SecretKind::RefreshToken).expect("refresh token");
    let access = kc.access_token(a).expect("access token cached");
    assert_eq!(kc.get(a, SecretKind::ClientSecret).as_deref(), Some(SECRET));
    let secrets = [SECRET.to_string(), code, refresh, access];
    assert_no_secrets("login", &out.all(), &secrets);
    assert_no_secrets("account file", &home.accounts_text(), &secrets);
}
