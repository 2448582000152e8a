//! User writes: PUT (status, role, profile), DELETE and POST.

use super::*;

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
