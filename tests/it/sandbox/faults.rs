//! Fault injection, the request log and the server lifecycle.

use super::*;

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
    assert_eq!(s, StatusCode::BAD_REQUEST);
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
    assert_eq!(s, StatusCode::BAD_REQUEST);
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
    let v = refresh(&c, &sb, DEMO_REFRESH_TOKEN).await;
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
    let v = exchange(&c, &sb, &code, &[("code_verifier", "my-verifier-secret")]).await;
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
async fn an_oversized_body_is_refused_and_logged_without_its_content() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let id = some_active_user(&c, &sb, &token, 0).await;
    // Over the 1 MiB limit, and a valid update if it were read.
    let padding = "x".repeat(1 << 20);
    let body = json!({"users": [{"id": id, "status": "inactive", "website": padding}]});
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::PUT,
        "/bigin/v2/users",
        Some(&token),
        Some(body),
    )
    .await;
    assert_api_error(s, &b, 413, "REQUEST_ENTITY_TOO_LARGE");
    assert_eq!(sb.user(&id).unwrap()["status"], "active");
    let last = sb.requests().pop().unwrap();
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("PUT", "/bigin/v2/users")
    );
    assert_eq!(last.body, "[body too large]");
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
