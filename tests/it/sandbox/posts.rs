//! Adding users: POST /users with its refusals (duplicates, unknown ids,
//! missing fields), scopes and record faults.

use super::writes::{ids_by_name, post_user, put_user, refused};
use super::*;

#[tokio::test]
async fn post_adds_an_invited_user() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let (roles, profiles) = ids_by_name(&c, &sb, &token).await;
    let (s, v) = post_user(
        &c,
        &sb,
        &token,
        json!({
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": "grace.hopper@northwind.example",
            "role": roles["Support Agent"],
            "profile": profiles["Support"],
        }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["users"][0]["details"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        v,
        json!({"users":[{"code":"SUCCESS","details":{"id":id},"message":"User added","status":"success"}]})
    );
    assert!(id.len() <= 19 && id.parse::<i64>().is_ok(), "{id}");

    let (s, b) = get(&c, &sb, &format!("/bigin/v2/users/{id}"), &token).await;
    assert_eq!(s, StatusCode::OK);
    let user = parse(&b)["users"][0].clone();
    assert_eq!(user["full_name"], "Grace Hopper");
    assert_eq!(user["email"], "grace.hopper@northwind.example");
    assert_eq!(
        (&user["status"], &user["confirm"]),
        (&json!("active"), &json!(false))
    );
    assert_eq!(
        user["role"],
        json!({"name": "Support Agent", "id": roles["Support Agent"]})
    );
    assert_eq!(
        user["profile"],
        json!({"name": "Support", "id": profiles["Support"]})
    );
    assert_eq!(user["created_by"]["id"], sb.primary_user_id());
    assert_eq!(user["created_time"], user["Modified_Time"]);
    assert_eq!(Some(&user), sb.user(&id).as_ref());

    // Listed last (ids keep growing), among the unconfirmed.
    assert_eq!(count_of_type(&c, &sb, &token, "AllUsers").await, 451);
    assert_eq!(
        count_of_type(&c, &sb, &token, "NotConfirmedUsers").await,
        22
    );
    let (_, b) = get(&c, &sb, "/bigin/v2/users?page=3", &token).await;
    let page = parse(&b);
    assert_eq!(page["info"]["count"], 51);
    assert_eq!(page["users"][50]["id"], id.as_str());

    // first_name is optional; role and profile may be given as {"id": ..}.
    let (s, v) = post_user(
        &c,
        &sb,
        &token,
        json!({
            "last_name": "Solo",
            "email": "solo@northwind.example",
            "role": {"id": roles["Accountant"]},
            "profile": {"id": profiles["Read Only"]},
        }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let second = v["users"][0]["details"]["id"].as_str().unwrap();
    assert!(second.parse::<u64>().unwrap() > id.parse::<u64>().unwrap());
    let solo = sb.user(second).unwrap();
    assert_eq!(
        (&solo["first_name"], &solo["full_name"]),
        (&Value::Null, &json!("Solo"))
    );
    assert_eq!(solo["profile"]["name"], "Read Only");

    // The new user can be updated and deleted like any other.
    let v = put_user(
        &c,
        &sb,
        &token,
        &id,
        json!({"role": roles["Support Manager"]}),
    )
    .await;
    assert_eq!(v["users"][0]["code"], "SUCCESS");
    assert_eq!(sb.user(&id).unwrap()["role"]["name"], "Support Manager");
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::DELETE,
        &format!("/bigin/v2/users/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(parse(&b)["users"][0]["code"], "SUCCESS");
}

#[tokio::test]
async fn post_refuses_duplicates_unknown_ids_and_missing_fields() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let (roles, profiles) = ids_by_name(&c, &sb, &token).await;
    let valid = json!({
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada.lovelace@northwind.example",
        "role": roles["Sales Rep EMEA"],
        "profile": profiles["Standard"],
    });
    let with = |key: &str, value: Value| {
        let mut v = valid.clone();
        v[key] = value;
        v
    };
    let without = |key: &str| {
        let mut v = valid.clone();
        v.as_object_mut().unwrap().remove(key);
        v
    };
    let deleted_email = first_of_type(&c, &sb, &token, "DeletedUsers").await["email"]
        .as_str()
        .unwrap()
        .to_string();
    let inactive_email = first_of_type(&c, &sb, &token, "DeactiveUsers").await["email"]
        .as_str()
        .unwrap()
        .to_string();
    let primary_email = sb.user(&sb.primary_user_id()).unwrap()["email"]
        .as_str()
        .unwrap()
        .to_uppercase();

    for (user, code, field) in [
        (
            with("email", json!(primary_email)),
            "DUPLICATE_DATA",
            "email",
        ),
        (
            with("email", json!(inactive_email)),
            "DUPLICATE_DATA",
            "email",
        ),
        (
            with("role", json!("4876543000000000001")),
            "INVALID_DATA",
            "role",
        ),
        (with("role", json!("CEO")), "INVALID_DATA", "role"),
        (
            with("profile", json!(roles["CEO"])),
            "INVALID_DATA",
            "profile",
        ),
        (
            with("profile", json!({"id": "1"})),
            "INVALID_DATA",
            "profile",
        ),
        (
            with("email", json!("not-an-address")),
            "INVALID_DATA",
            "email",
        ),
        (with("first_name", json!(42)), "INVALID_DATA", "first_name"),
        (without("last_name"), "MANDATORY_NOT_FOUND", "last_name"),
        (
            with("last_name", json!("  ")),
            "MANDATORY_NOT_FOUND",
            "last_name",
        ),
        (without("email"), "MANDATORY_NOT_FOUND", "email"),
        (without("role"), "MANDATORY_NOT_FOUND", "role"),
        (
            with("profile", Value::Null),
            "MANDATORY_NOT_FOUND",
            "profile",
        ),
    ] {
        let (s, v) = post_user(&c, &sb, &token, user.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{user}: {v}");
        assert_eq!(refused(&v), (code, field), "{user}");
    }
    assert_eq!(
        count_of_type(&c, &sb, &token, "AllUsers").await,
        450,
        "nothing added"
    );

    // A deleted user's address is free again.
    let (s, v) = post_user(&c, &sb, &token, with("email", json!(deleted_email))).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // And now it is taken.
    let (s, v) = post_user(&c, &sb, &token, with("email", json!(deleted_email))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(refused(&v), ("DUPLICATE_DATA", "email"));
    assert_eq!(v["users"][0]["message"], "same email id is already present");

    // Request-level errors: one user per request, a JSON body.
    let two = json!({"users": [valid, valid]});
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::POST,
        "/bigin/v2/users",
        Some(&token),
        Some(two),
    )
    .await;
    let v = assert_api_error(s, &b, 400, "INVALID_DATA");
    assert_eq!(v["details"], json!({"param_name": "users"}));
    for body in [json!({}), json!({"users": []}), json!({"users": ["x"]})] {
        let (s, _, b) = call(
            &c,
            &sb,
            reqwest::Method::POST,
            "/bigin/v2/users",
            Some(&token),
            Some(body),
        )
        .await;
        assert_api_error(s, &b, 400, "INVALID_DATA");
    }
    let resp = c
        .post(format!("{}/bigin/v2/users", sb.base_url()))
        .header("authorization", format!("Zoho-oauthtoken {token}"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    let s = resp.status();
    assert_api_error(s, &resp.text().await.unwrap(), 400, "INVALID_DATA");
    assert_eq!(count_of_type(&c, &sb, &token, "AllUsers").await, 451);
}

#[tokio::test]
async fn post_needs_the_create_scope_and_honours_record_faults() {
    let sb = start().await;
    let c = http();
    let demo = demo_token(&c, &sb).await;
    let (roles, profiles) = ids_by_name(&c, &sb, &demo).await;
    let user = |n: u32| {
        json!({
            "last_name": format!("Newcomer{n}"),
            "email": format!("newcomer{n}@northwind.example"),
            "role": roles["Sales Intern"],
            "profile": profiles["Read Only"],
        })
    };
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::POST,
        "/bigin/v2/users",
        None,
        Some(json!({"users": [user(0)]})),
    )
    .await;
    assert_api_error(s, &b, 401, "INVALID_TOKEN");
    for scopes in [
        "ZohoBigin.users.READ",
        "ZohoBigin.users.UPDATE,ZohoBigin.users.DELETE",
    ] {
        let token = grant(&c, &sb, scopes).await["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let (s, _, b) = call(
            &c,
            &sb,
            reqwest::Method::POST,
            "/bigin/v2/users",
            Some(&token),
            Some(json!({"users": [user(1)]})),
        )
        .await;
        assert_api_error(s, &b, 401, "OAUTH_SCOPE_MISMATCH");
    }
    for (n, scopes) in [(2, "ZohoBigin.users.CREATE"), (3, "ZohoBigin.users.ALL")] {
        let token = grant(&c, &sb, scopes).await["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let (s, v) = post_user(&c, &sb, &token, user(n)).await;
        assert_eq!(s, StatusCode::CREATED, "{scopes}: {v}");
    }

    sb.inject(Fault::new(FaultKind::RecordError {
        code: "LICENSE_LIMIT_EXCEEDED".into(),
        message: "no licence left".into(),
    }));
    let (s, v) = post_user(&c, &sb, &demo, user(4)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        v,
        json!({"users":[{"code":"LICENSE_LIMIT_EXCEEDED","details":{},"message":"no licence left","status":"error"}]})
    );
    assert_eq!(
        count_of_type(&c, &sb, &demo, "AllUsers").await,
        452,
        "nothing added"
    );
    let (s, _) = post_user(&c, &sb, &demo, user(4)).await;
    assert_eq!(s, StatusCode::CREATED, "the fault is used up");
}
