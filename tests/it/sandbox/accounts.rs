//! The imitation accounts server: refresh and code grants, consent with
//! PKCE, revocation, scopes carried by tokens.

use super::*;

#[tokio::test]
async fn token_refresh_success_and_errors() {
    let sb = start().await;
    let c = http();
    let ok = refresh(&c, &sb, DEMO_REFRESH_TOKEN).await;
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
    let bad_refresh = refresh(&c, &sb, "1000.nope.nope").await;
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
            let extra = [("redirect_uri", redirect_uri), ("code_verifier", verifier)];
            exchange(&c, sb, &code, &extra).await
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
    let v = grant(&c, &sb, "ZohoBigin.users.ALL").await;
    let access = v["access_token"].as_str().unwrap();
    let refresh_token = v["refresh_token"].as_str().unwrap();
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
        revoke(refresh_token.to_string()).await,
        json!({"status": "success"})
    );
    let (s, b) = get(&c, &sb, "/bigin/v2/users", access).await;
    assert_api_error(s, &b, 401, "INVALID_TOKEN");
    let refreshed = refresh(&c, &sb, refresh_token).await;
    assert_eq!(refreshed, json!({"error": "invalid_code"}));
    assert_eq!(
        revoke(refresh_token.to_string()).await,
        json!({"error": "invalid_token"})
    );
    // Other tokens are untouched.
    assert_eq!(
        get(&c, &sb, "/bigin/v2/users", &demo).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn scope_mismatch_is_401() {
    let sb = start().await;
    let c = http();
    let code = sb.issue_grant_code("ZohoBigin.users.READ");
    let v = exchange(&c, &sb, &code, &[]).await;
    let token = v["access_token"].as_str().unwrap().to_string();
    let refresh_token = v["refresh_token"]
        .as_str()
        .expect("self client gives a refresh token");
    let parts: Vec<&str> = refresh_token.split('.').collect();
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
    let v = refresh(&c, &sb, refresh_token).await;
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
    let again = exchange(&c, &sb, &code, &[]).await;
    assert_eq!(again, json!({"error": "invalid_code"}));
}
