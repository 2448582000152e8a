//! The plausible Zohos the sandbox plays ([`bigin_mcp::sandbox::ZohoVariant`]):
//! each open question of the shared API notes answered the other way, over
//! real HTTP. The documented behaviour is what the other modules test.

use bigin_mcp::sandbox::{VariantName, ZohoVariant};

use super::*;

async fn start_as(name: VariantName) -> Sandbox {
    Sandbox::start(SandboxOptions {
        variant: name.variant(),
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox starts")
}

async fn a_profile_id(c: &reqwest::Client, sb: &Sandbox, token: &str) -> String {
    let (_, b) = get(c, sb, "/bigin/v2/settings/profiles", token).await;
    parse(&b)["profiles"][0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_single_profile_endpoint_may_be_absent() {
    let sb = start_as(VariantName::NoSingleProfile).await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let id = a_profile_id(&c, &sb, &token).await;
    let (s, b) = get(
        &c,
        &sb,
        &format!("/bigin/v2/settings/profiles/{id}"),
        &token,
    )
    .await;
    assert_api_error(s, &b, 404, "INVALID_URL_PATTERN");
    // Still behind the token check, as every Zoho endpoint is.
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::GET,
        &format!("/bigin/v2/settings/profiles/{id}"),
        None,
        None,
    )
    .await;
    assert_api_error(s, &b, 401, "INVALID_TOKEN");
    // Switched back at run time: the documented endpoint answers again.
    sb.set_variant(ZohoVariant::default());
    let (s, b) = get(
        &c,
        &sb,
        &format!("/bigin/v2/settings/profiles/{id}"),
        &token,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(parse(&b)["profiles"][0]["permissions_details"].is_array());
}

#[tokio::test]
async fn the_profile_list_may_carry_permissions() {
    let c = http();
    let sb = start().await;
    let token = demo_token(&c, &sb).await;
    let (_, b) = get(&c, &sb, "/bigin/v2/settings/profiles", &token).await;
    assert!(
        parse(&b)["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.get("permissions").is_none()),
        "documented: no permissions in the list"
    );
    let sb = start_as(VariantName::ListPermissions).await;
    let token = demo_token(&c, &sb).await;
    let (_, b) = get(&c, &sb, "/bigin/v2/settings/profiles", &token).await;
    let profiles = parse(&b)["profiles"].as_array().unwrap().clone();
    assert!(profiles.len() >= 2);
    for p in &profiles {
        let perms = p["permissions"]
            .as_array()
            .expect("permissions in the list");
        assert!(!perms.is_empty(), "{p}");
        assert!(
            perms
                .iter()
                .all(|x| x["name"].is_string() && x["enabled"].is_boolean())
        );
    }
    // The list's permissions are the detail's.
    let id = profiles[0]["id"].as_str().unwrap();
    let (_, b) = get(
        &c,
        &sb,
        &format!("/bigin/v2/settings/profiles/{id}"),
        &token,
    )
    .await;
    assert_eq!(
        profiles[0]["permissions"],
        parse(&b)["profiles"][0]["permissions_details"]
    );
}

#[tokio::test]
async fn role_and_profile_strings_may_be_ignored_while_answering_success() {
    let sb = start_as(VariantName::ObjectReferences).await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let (_, b) = get(
        &c,
        &sb,
        "/bigin/v2/users?type=ActiveUsers&per_page=5",
        &token,
    )
    .await;
    let users = parse(&b)["users"].as_array().unwrap().clone();
    let user = users
        .iter()
        .find(|u| u["id"] != sb.primary_user_id().as_str() && u["profile"]["name"] == "Standard")
        .unwrap();
    let id = user["id"].as_str().unwrap();
    let (_, b) = get(&c, &sb, "/bigin/v2/settings/profiles", &token).await;
    let admin = parse(&b)["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Administrator")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/bigin/v2/users/{id}");
    let put = |profile: Value| {
        let body = json!({"users": [{"id": id, "profile": profile}]});
        call(
            &c,
            &sb,
            reqwest::Method::PUT,
            &path,
            Some(&token),
            Some(body),
        )
    };
    // The string form: SUCCESS, and nothing changed.
    let (s, _, b) = put(json!(admin)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(parse(&b)["users"][0]["code"], "SUCCESS");
    assert_eq!(sb.user(id).unwrap()["profile"]["name"], "Standard");
    // The object form takes.
    let (s, _, b) = put(json!({"id": admin, "name": "Administrator"})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(parse(&b)["users"][0]["code"], "SUCCESS");
    assert_eq!(sb.user(id).unwrap()["profile"]["name"], "Administrator");
}

#[tokio::test]
async fn refusals_may_come_inside_http_200() {
    let sb = start_as(VariantName::RefusalsIn200).await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let primary = sb.primary_user_id();
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
        json!({"users":[{"code":"INVALID_REQUEST","details":{},"message":"Primary Contact cannot be deleted","status":"error"}]})
    );
}

#[tokio::test]
async fn a_429_may_carry_its_wait_in_the_body() {
    let c = http();
    for (name, header, body) in [
        (VariantName::Documented, Some("30"), Value::Null),
        (VariantName::RetryAfterInBody, None, json!(30)),
    ] {
        let sb = start_as(name).await;
        sb.inject(Fault::new(FaultKind::RateLimited {
            retry_after_secs: Some(30),
        }));
        let (s, h, b) = call(&c, &sb, reqwest::Method::GET, "/bigin/v2/org", None, None).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{name}");
        assert_eq!(
            h.get("retry-after").map(|v| v.to_str().unwrap()),
            header,
            "{name}"
        );
        assert_eq!(parse(&b)["details"]["retry_after"], body, "{name}");
    }
}

#[tokio::test]
async fn the_token_endpoint_may_throttle_with_200_or_400() {
    let c = http();
    for (name, status) in [
        (VariantName::TokenThrottle, StatusCode::OK),
        (VariantName::TokenThrottle400, StatusCode::BAD_REQUEST),
    ] {
        let sb = start_as(name).await;
        let resp = c
            .post(format!("{}/oauth/v2/token", sb.base_url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[
                ("grant_type", "refresh_token"),
                ("client_id", DEMO_CLIENT_ID),
                ("client_secret", DEMO_CLIENT_SECRET),
                ("refresh_token", DEMO_REFRESH_TOKEN),
            ]))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), status, "{name}");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error"], "Access Denied", "{name}");
        assert!(
            v["error_description"]
                .as_str()
                .unwrap()
                .contains("too many requests continuously"),
            "{name}"
        );
    }
}
