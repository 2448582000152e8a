//! No keychain at all (`--insecure-storage`), and the files and keychain
//! entries that concurrent logins and servers share.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keychain_login_suggests_insecure_storage_before_any_prompt() {
    let home = Home::new();
    // No --client-id and no secret on stdin: were it to prompt first, it
    // would fail on the missing client id instead.
    let out = run(home.cmd_without_keychain(&["login"]), "").await;
    assert_eq!(out.code, Some(1), "{out}");
    let line = out.error_line();
    assert!(
        line.contains("keychain") && line.contains("--insecure-storage"),
        "{out}"
    );
    assert!(!out.stderr.contains("client id"), "no prompt: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_storage_logs_in_serves_and_logs_out_without_a_keychain() {
    let c = LoginCase::without_keychain("file").await;
    let (a, sb, home) = (&c.account, &c.sb, &c.home);
    let code = sb.issue_grant_code("ZohoBigin.users.ALL,ZohoBigin.org.READ");
    let args = [
        "login",
        "--insecure-storage",
        "--code",
        &code,
        "--client-id",
        sandbox::DEMO_CLIENT_ID,
        "--client-secret-stdin",
        "--accounts-url",
        &sb.base_url(),
        "--account",
        a,
    ];
    let out = run(home.cmd_without_keychain(&args), SECRET).await;
    assert_eq!(out.code, Some(0), "{out}");
    let creds = home.dir.path().join("config/bigin-mcp/credentials.json");
    assert!(
        out.stderr.contains(&creds.display().to_string()),
        "login says where: {out}"
    );
    assert!(home.lists(a));
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&creds).unwrap()).unwrap();
    let refresh = stored[SecretKind::RefreshToken.key(a)]
        .as_str()
        .expect("the refresh token is in the file")
        .to_string();
    assert_eq!(stored[SecretKind::ClientSecret.key(a)], SECRET);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&creds), 0o600);
        assert_eq!(mode(creds.parent().unwrap()), 0o700);
    }
    let mut outputs = vec![("login", out.all())];

    // status: on stdout, refresh works, and it says where the secrets are.
    let out = run(home.cmd_without_keychain(&["status", "--account", a]), "").await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        out.stdout.contains("token refresh: works")
            && out.stdout.contains(&creds.display().to_string()),
        "{out}"
    );
    outputs.push(("status", out.all()));

    // serve: the first call finds the file's tokens.
    let (transport, stderr) =
        TokioChildProcess::builder(home.cmd_without_keychain(&["serve", "--account", a]))
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn bigin-mcp serve");
    let stderr = tokio::spawn(read_all(stderr.expect("piped stderr")));
    let client: rmcp::service::RunningService<RoleClient, ()> =
        ().serve(transport).await.expect("initialize over stdio");
    let r = client
        .call_tool(CallToolRequestParams::new("bigin_get_organization"))
        .await
        .expect("tools/call answered");
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    assert_eq!(
        r.structured_content.as_ref().unwrap()["org"]["company_name"],
        ORG_NAME
    );
    client.cancel().await.unwrap();
    outputs.push((
        "serve",
        tokio::time::timeout(STEP, stderr).await.unwrap().unwrap(),
    ));

    // logout: revoked, and the file goes with the last secret.
    let out = run(home.cmd_without_keychain(&["logout", "--account", a]), "").await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(!creds.exists(), "no secrets file left");
    assert!(!home.lists(a));
    outputs.push(("logout", out.all()));

    // Again: nothing to log out, and it says so instead of "log in".
    let out = run(home.cmd_without_keychain(&["logout", "--account", a]), "").await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("Nothing to log out"), "{out}");
    assert!(!out.stderr.contains("bigin-mcp login"), "{out}");

    let secrets = [SECRET.to_string(), code, refresh];
    for (what, text) in &outputs {
        assert_no_secrets(what, text, &secrets);
    }
}

/// The scopes these tests log in with.
const SCOPES: [&str; 2] = ["ZohoBigin.users.ALL", "ZohoBigin.org.READ"];

/// `credentials.json` and `accounts.json` as JSON.
fn stored(home: &Home) -> (Value, Value) {
    let read = |name: &str| {
        let p = home.dir.path().join("config/bigin-mcp").join(name);
        serde_json::from_str::<Value>(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    (read("credentials.json"), read("accounts.json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_insecure_logins_beside_a_running_serve_lose_nothing() {
    // Issue 15: with `serve` storing a refreshed token while `login`s ran,
    // logins that said OK had lost their refresh token, and others failed
    // after spending their code. Every change now takes the file's lock and
    // re-reads it, so all of them land.
    let c = LoginCase::without_keychain("busy").await;
    let (a, sb, home) = (&c.account, &c.sb, &c.home);
    let out = insecure_login(home, sb, a, &SCOPES).await;
    assert_eq!(out.code, Some(0), "{out}");
    // Without its cached access token, serve's first call refreshes and
    // writes the file while the logins below write it too.
    let creds = home.dir.path().join("config/bigin-mcp/credentials.json");
    let mut map: serde_json::Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(&creds).unwrap()).unwrap();
    assert!(map.remove(&SecretKind::AccessToken.key(a)).is_some());
    std::fs::write(&creds, serde_json::to_string(&map).unwrap()).unwrap();

    let (transport, _stderr) =
        TokioChildProcess::builder(home.cmd_without_keychain(&["serve", "--account", a]))
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn bigin-mcp serve");
    let client: rmcp::service::RunningService<RoleClient, ()> =
        ().serve(transport).await.expect("initialize over stdio");
    let others: Vec<String> = (0..8).map(|i| format!("{a}-{i}")).collect();
    let logins =
        futures::future::join_all(others.iter().map(|o| insecure_login(home, sb, o, &SCOPES)));
    let call = client.call_tool(CallToolRequestParams::new("bigin_get_organization"));
    let (outs, r) = tokio::join!(logins, call);
    let r = r.expect("tools/call answered");
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    client.cancel().await.unwrap();
    for out in &outs {
        assert_eq!(out.code, Some(0), "{out}");
    }

    let (creds, accounts) = stored(home);
    assert!(
        creds[SecretKind::AccessToken.key(a)].is_string(),
        "serve's refreshed token was stored"
    );
    for acct in others.iter().chain([a]) {
        assert!(accounts["accounts"][acct].is_object(), "{acct}: {accounts}");
        assert!(
            creds[SecretKind::RefreshToken.key(acct)].is_string(),
            "{acct} lost its refresh token"
        );
        assert_eq!(creds[SecretKind::ClientSecret.key(acct)], SECRET);
    }
    let exchanges = token_requests(sb)
        .iter()
        .filter(|r| r.body.contains("grant_type=authorization_code"))
        .count();
    assert_eq!(exchanges, 9, "one code exchange per login, none retried");
}

#[cfg_attr(
    not(secret_service),
    ignore = "needs a Secret Service: run under scripts/with-secret-service"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_keychain_logins_of_different_accounts_all_land() {
    let Some(c) = LoginCase::with_keychain(
        "concurrent_keychain_logins_of_different_accounts_all_land",
        "many",
    )
    .await
    else {
        return;
    };
    let (sb, home, kc) = (&c.sb, &c.home, c.kc());
    let accounts: Vec<String> = (0..6).map(|i| format!("{}-{i}", c.account)).collect();
    // Each account's entries go when the test ends, passed or failed.
    struct ForgetAll<'a>(&'a Keychain, &'a [String]);
    impl Drop for ForgetAll<'_> {
        fn drop(&mut self) {
            for a in self.1 {
                self.0.forget(a);
            }
        }
    }
    let _forget = ForgetAll(kc, &accounts);
    let codes: Vec<String> = accounts
        .iter()
        .map(|_| sb.issue_grant_code("ZohoBigin.users.ALL,ZohoBigin.org.READ"))
        .collect();
    let logins = accounts.iter().zip(&codes).map(|(a, code)| {
        let args = [
            "login",
            "--code",
            code,
            "--client-id",
            sandbox::DEMO_CLIENT_ID,
            "--client-secret-stdin",
            "--accounts-url",
            &sb.base_url(),
            "--account",
            a,
        ]
        .map(String::from);
        run(home.cmd(&args), SECRET)
    });
    for out in futures::future::join_all(logins).await {
        assert_eq!(out.code, Some(0), "{out}");
    }
    for a in &accounts {
        assert!(home.lists(a), "{a}: {}", home.accounts_text());
        assert!(kc.get(a, SecretKind::RefreshToken).is_some(), "{a}");
        assert_eq!(kc.get(a, SecretKind::ClientSecret).as_deref(), Some(SECRET));
        assert!(kc.access_token(a).is_some(), "{a}");
    }
}
