//! User writes: PUT (status, role, profile), DELETE and POST (add user),
//! with their per-record errors, scopes and record faults.

use std::collections::HashMap;

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
            {"code":"INVALID_REQUEST","details":{},"message":"Primary Contact cannot be deactivated","status":"error"},
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
    // A deleted user cannot be updated: a request-level 400 NOT_ALLOWED.
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::PUT,
        "/bigin/v2/users",
        Some(&token),
        Some(json!({"users": [{"id": victim, "status": "active"}]})),
    )
    .await;
    assert_api_error(s, &b, 400, "NOT_ALLOWED");
    assert_eq!(
        parse(&b)["message"],
        "the user has been deleted and cannot be updated"
    );

    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::DELETE,
        &format!("/bigin/v2/users/{primary}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        parse(&b),
        json!({"users":[{"code":"INVALID_REQUEST","details":{},"message":"Primary Contact cannot be deleted","status":"error"}]})
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

/// Ids of the roles and profiles, by name.
pub(super) async fn ids_by_name(
    c: &reqwest::Client,
    sb: &Sandbox,
    token: &str,
) -> (HashMap<String, String>, HashMap<String, String>) {
    let mut out = Vec::new();
    for (path, key) in [
        ("/bigin/v2/settings/roles", "roles"),
        ("/bigin/v2/settings/profiles", "profiles"),
    ] {
        let (_, b) = get(c, sb, path, token).await;
        let by_name: HashMap<String, String> = parse(&b)[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let text = |k: &str| r[k].as_str().unwrap().to_string();
                (text("name"), text("id"))
            })
            .collect();
        out.push(by_name);
    }
    let profiles = out.pop().unwrap();
    (out.pop().unwrap(), profiles)
}

pub(super) async fn send(
    c: &reqwest::Client,
    sb: &Sandbox,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let (s, _, b) = call(c, sb, method, path, Some(token), Some(body)).await;
    (s, parse(&b))
}

pub(super) async fn post_user(
    c: &reqwest::Client,
    sb: &Sandbox,
    token: &str,
    user: Value,
) -> (StatusCode, Value) {
    let body = json!({"users": [user]});
    send(c, sb, reqwest::Method::POST, "/bigin/v2/users", token, body).await
}

pub(super) async fn put_user(
    c: &reqwest::Client,
    sb: &Sandbox,
    token: &str,
    id: &str,
    record: Value,
) -> Value {
    let path = format!("/bigin/v2/users/{id}");
    let body = json!({"users": [record]});
    let (s, v) = send(c, sb, reqwest::Method::PUT, &path, token, body).await;
    // Zoho documents a refused record as HTTP 400 with the reason inside.
    let expected = if v["users"][0]["status"] == "error" {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    assert_eq!(s, expected, "{v}");
    v
}

/// A per-record error element: its code and `details.api_name`.
pub(super) fn refused(v: &Value) -> (&str, &str) {
    let element = &v["users"][0];
    assert_eq!(element["status"], "error", "{v}");
    (
        element["code"].as_str().unwrap(),
        element["details"]["api_name"].as_str().unwrap_or(""),
    )
}

#[tokio::test]
async fn put_changes_role_and_profile() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let (roles, profiles) = ids_by_name(&c, &sb, &token).await;
    let id = some_active_user(&c, &sb, &token, 3).await;
    let before = sb.user(&id).unwrap();
    assert_ne!(before["role"]["name"], "Accountant");

    let v = put_user(
        &c,
        &sb,
        &token,
        &id,
        json!({"id": id, "role": roles["Accountant"]}),
    )
    .await;
    assert_eq!(
        v,
        json!({"users":[{"code":"SUCCESS","details":{"id":id},"message":"User updated","status":"success"}]})
    );
    let after = sb.user(&id).unwrap();
    assert_eq!(
        after["role"],
        json!({"name": "Accountant", "id": roles["Accountant"]})
    );
    assert_eq!(after["profile"], before["profile"], "only the role changed");
    assert_ne!(after["Modified_Time"], before["Modified_Time"]);
    assert_eq!(after["Modified_By"]["id"], sb.primary_user_id());

    let v = put_user(
        &c,
        &sb,
        &token,
        &id,
        json!({"role": {"id": roles["Support Manager"]}, "profile": profiles["Finance Auditor"]}),
    )
    .await;
    assert_eq!(v["users"][0]["code"], "SUCCESS");
    let after = sb.user(&id).unwrap();
    assert_eq!(after["role"]["name"], "Support Manager");
    assert_eq!(
        after["profile"],
        json!({"name": "Finance Auditor", "id": profiles["Finance Auditor"]})
    );
    // Reads see it too.
    let (_, b) = get(&c, &sb, &format!("/bigin/v2/users/{id}"), &token).await;
    assert_eq!(parse(&b)["users"][0], after);

    // Unknown or malformed ids: INVALID_DATA naming the field; nothing changes.
    for (record, field) in [
        (json!({"role": "4876543000000000001"}), "role"),
        (json!({"role": "Manager"}), "role"),
        (json!({"profile": roles["CEO"]}), "profile"),
        (json!({"profile": {"id": "7"}}), "profile"),
        (json!({"role": roles["CEO"], "profile": "nope"}), "profile"),
    ] {
        let v = put_user(&c, &sb, &token, &id, record.clone()).await;
        assert_eq!(refused(&v), ("INVALID_DATA", field), "{record}");
        assert_eq!(v["users"][0]["details"]["id"], id.as_str());
    }
    assert_eq!(sb.user(&id).unwrap(), after);

    // The primary user keeps the Administrator profile.
    let primary = sb.primary_user_id();
    let v = put_user(
        &c,
        &sb,
        &token,
        &primary,
        json!({"profile": profiles["Standard"]}),
    )
    .await;
    assert_eq!(refused(&v).0, "NOT_ALLOWED");
    assert_eq!(
        sb.user(&primary).unwrap()["profile"]["name"],
        "Administrator"
    );
}

#[tokio::test]
async fn a_deactivated_or_deleted_user_cannot_change_role_or_profile() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let (roles, profiles) = ids_by_name(&c, &sb, &token).await;
    let inactive = first_of_type(&c, &sb, &token, "DeactiveUsers").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let deleted = first_of_type(&c, &sb, &token, "DeletedUsers").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (inactive_before, deleted_before) =
        (sb.user(&inactive).unwrap(), sb.user(&deleted).unwrap());

    for record in [
        json!({"role": roles["Accountant"]}),
        json!({"profile": profiles["Administrator"]}),
        json!({"status": "inactive", "profile": profiles["Standard"]}),
    ] {
        let v = put_user(&c, &sb, &token, &inactive, record.clone()).await;
        assert_eq!(refused(&v).0, "NOT_ALLOWED", "{record}");
        assert_eq!(
            v["users"][0]["message"],
            "a deactivated user cannot be updated"
        );
        let path = format!("/bigin/v2/users/{deleted}");
        let body = json!({"users": [record.clone()]});
        let (s, v) = send(&c, &sb, reqwest::Method::PUT, &path, &token, body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{record}");
        assert_eq!(v["code"], "NOT_ALLOWED", "{record}");
        assert_eq!(
            v["message"],
            "the user has been deleted and cannot be updated"
        );
    }
    assert_eq!(sb.user(&inactive).unwrap(), inactive_before);
    assert_eq!(sb.user(&deleted).unwrap(), deleted_before);

    // Re-activation is the one update a deactivated user takes; after it,
    // role and profile can change.
    let v = put_user(&c, &sb, &token, &inactive, json!({"status": "active"})).await;
    assert_eq!(v["users"][0]["code"], "SUCCESS");
    let v = put_user(
        &c,
        &sb,
        &token,
        &inactive,
        json!({"role": roles["Accountant"]}),
    )
    .await;
    assert_eq!(v["users"][0]["code"], "SUCCESS");
    assert_eq!(sb.user(&inactive).unwrap()["role"]["name"], "Accountant");

    // A record fault on a role change changes nothing either.
    sb.inject(Fault::new(FaultKind::RecordError {
        code: "INTERNAL_ERROR".into(),
        message: "try again".into(),
    }));
    let v = put_user(
        &c,
        &sb,
        &token,
        &inactive,
        json!({"role": roles["Support Agent"]}),
    )
    .await;
    assert_eq!(v["users"][0]["code"], "INTERNAL_ERROR");
    assert_eq!(sb.user(&inactive).unwrap()["role"]["name"], "Accountant");
}
