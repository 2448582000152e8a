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
