//! The read endpoints of the imitation Bigin API: authentication, paging
//! and filters, single users, roles, profiles, org, unknown paths.

use super::*;

#[tokio::test]
async fn api_requires_a_valid_zoho_oauthtoken() {
    let sb = start().await;
    let c = http();
    let (s, _, b) = call(&c, &sb, reqwest::Method::GET, "/bigin/v2/users", None, None).await;
    let v = assert_api_error(s, &b, 401, "INVALID_TOKEN");
    assert_eq!(
        v,
        json!({"code":"INVALID_TOKEN","details":{},"message":"invalid oauth token","status":"error"})
    );
    let (s, b) = get(&c, &sb, "/bigin/v2/users", "1000.unknown").await;
    assert_api_error(s, &b, 401, "INVALID_TOKEN");

    let token = demo_token(&c, &sb).await;
    // Bearer is not Zoho's scheme.
    let resp = c
        .get(format!("{}/bigin/v2/org", sb.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let (s, b) = get(&c, &sb, "/bigin/v2/org", &token).await;
    assert_eq!(s, StatusCode::OK, "{b}");

    // TTL expiry, without waiting: tokens of a zero lifetime are born expired.
    let short = Sandbox::start(SandboxOptions {
        access_token_ttl: Duration::ZERO,
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let expired = refresh(&c, &short, DEMO_REFRESH_TOKEN).await;
    assert_eq!(expired["expires_in"], 0);
    let expired = expired["access_token"].as_str().unwrap();
    let (s, b) = get(&c, &short, "/bigin/v2/org", expired).await;
    assert_api_error(s, &b, 401, "INVALID_TOKEN");

    // Forced expiry; refresh tokens keep working.
    let token = demo_token(&c, &sb).await;
    assert_eq!(
        get(&c, &sb, "/bigin/v2/org", &token).await.0,
        StatusCode::OK
    );
    sb.expire_access_tokens();
    let (s, b) = get(&c, &sb, "/bigin/v2/org", &token).await;
    assert_api_error(s, &b, 401, "INVALID_TOKEN");
    let token = demo_token(&c, &sb).await;
    assert_eq!(
        get(&c, &sb, "/bigin/v2/org", &token).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn users_paging_and_parameter_validation() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let mut all_ids = Vec::new();
    for (page, count, more) in [(1, 200, true), (2, 200, true), (3, 50, false)] {
        let (s, b) = get(
            &c,
            &sb,
            &format!("/bigin/v2/users?page={page}&per_page=200"),
            &token,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let v = parse(&b);
        assert_eq!(
            v["info"],
            json!({"per_page": 200, "count": count, "page": page, "more_records": more})
        );
        let users = v["users"].as_array().unwrap();
        assert_eq!(users.len(), count);
        all_ids.extend(users.iter().map(|u| u["id"].as_str().unwrap().to_string()));
    }
    assert_eq!(all_ids.len(), 450);
    let numeric: Vec<u64> = all_ids.iter().map(|id| id.parse().unwrap()).collect();
    assert!(numeric.windows(2).all(|w| w[0] < w[1]), "stable id order");
    assert!(all_ids.iter().all(|id| id.len() == 19));

    // Defaults: page 1, per_page 200.
    let (_, b) = get(&c, &sb, "/bigin/v2/users", &token).await;
    assert_eq!(parse(&b)["info"]["count"], 200);
    let (_, b) = get(&c, &sb, "/bigin/v2/users?per_page=7&page=2", &token).await;
    let v = parse(&b);
    assert_eq!(v["info"]["count"], 7);
    assert_eq!(v["users"][0]["id"].as_str().unwrap(), all_ids[7]);

    // Past the end: 204 with an empty body.
    let (s, b) = get(&c, &sb, "/bigin/v2/users?page=4", &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(b.is_empty());

    for (query, param) in [
        ("per_page=201", "per_page"),
        ("per_page=0", "per_page"),
        ("per_page=ten", "per_page"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("type=Everyone", "type"),
    ] {
        let (s, b) = get(&c, &sb, &format!("/bigin/v2/users?{query}"), &token).await;
        let v = assert_api_error(s, &b, 400, "INVALID_DATA");
        assert_eq!(v["details"]["param_name"], param, "{query}");
    }
}

#[tokio::test]
async fn user_type_filters() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let expected = [
        ("AllUsers", 450),
        ("ActiveUsers", 404),
        ("DeactiveUsers", 31),
        ("DeletedUsers", 15),
        ("NotConfirmedUsers", 21),
        ("ConfirmedUsers", 429),
        ("ActiveConfirmedUsers", 383),
        ("AdminUsers", 8),
        ("ActiveConfirmedAdmins", 4),
        ("CurrentUser", 1),
    ];
    for (kind, n) in expected {
        assert_eq!(count_of_type(&c, &sb, &token, kind).await, n, "{kind}");
    }
    let (_, b) = get(&c, &sb, "/bigin/v2/users?type=CurrentUser", &token).await;
    let me = &parse(&b)["users"][0];
    assert_eq!(me["id"], sb.primary_user_id());
    assert_eq!(me["email"], "zoe.angstrom@northwind.example");
    assert_eq!(me["full_name"], "Zoë Ångström");
    assert_eq!(me["role"]["name"], "CEO");
    assert_eq!(me["profile"]["name"], "Administrator");
}

#[tokio::test]
async fn get_single_user() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let id = sb.primary_user_id();
    let (s, b) = get(&c, &sb, &format!("/bigin/v2/users/{id}"), &token).await;
    assert_eq!(s, StatusCode::OK);
    let v = parse(&b);
    let users = v["users"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    let keys: BTreeSet<&str> = users[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let want: BTreeSet<&str> = [
        "id",
        "full_name",
        "first_name",
        "last_name",
        "email",
        "status",
        "confirm",
        "category",
        "zuid",
        "Isonline",
        "role",
        "profile",
        "created_by",
        "Modified_By",
        "created_time",
        "Modified_Time",
        "time_zone",
        "language",
        "locale",
        "country_locale",
        "phone",
        "mobile",
        "fax",
        "website",
        "dob",
        "street",
        "city",
        "state",
        "zip",
        "country",
        "offset",
        // CRM fields the shared notes list ([I] for Bigin).
        "date_format",
        "time_format",
        "decimal_separator",
        "Reporting_To",
        "image_link",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, want);
    assert_eq!(users[0]["fax"], Value::Null);
    let created = users[0]["created_time"].as_str().unwrap();
    assert!(created.ends_with("+05:30"), "{created}");
    assert_eq!(Some(users[0].clone()), sb.user(&id));

    let (s, b) = get(&c, &sb, "/bigin/v2/users/4876543000000000001", &token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(b.is_empty());
    // %FF is not UTF-8 once decoded: still Zoho's error, not the router's.
    for bad in ["abc", "99999999999999999999", "9999999999999999999", "%FF"] {
        let (s, b) = get(&c, &sb, &format!("/bigin/v2/users/{bad}"), &token).await;
        let v = assert_api_error(s, &b, 400, "INVALID_DATA");
        assert_eq!(
            v,
            json!({"code":"INVALID_DATA","details":{"resource_path_index":1},"message":"the id given seems to be invalid","status":"error"})
        );
    }
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let (s, b) = get(&c, &sb, "/bigin/v2/contacts", &token).await;
    let v = assert_api_error(s, &b, 404, "INVALID_URL_PATTERN");
    assert_eq!(
        v["message"],
        "Please check if the URL trying to access is a correct one"
    );
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::POST,
        "/bigin/v2/org",
        Some(&token),
        Some(json!({})),
    )
    .await;
    assert_api_error(s, &b, 405, "INVALID_REQUEST_METHOD");
    let (s, _, b) = call(
        &c,
        &sb,
        reqwest::Method::DELETE,
        "/bigin/v2/users",
        Some(&token),
        None,
    )
    .await;
    assert_api_error(s, &b, 405, "INVALID_REQUEST_METHOD");

    // Zoho checks the token of an API call before the path or the method.
    for (method, path) in [
        (reqwest::Method::GET, "/bigin/v2/contacts"),
        (reqwest::Method::DELETE, "/bigin/v2/users"),
    ] {
        let (s, _, b) = call(&c, &sb, method, path, None, None).await;
        assert_api_error(s, &b, 401, "INVALID_TOKEN");
    }
    // The accounts server and other paths need no token to say so.
    for path in ["/oauth/v2/nothing", "/", "/bigin"] {
        let (s, _, b) = call(&c, &sb, reqwest::Method::GET, path, None, None).await;
        assert_api_error(s, &b, 404, "INVALID_URL_PATTERN");
    }
    let (s, _, b) = call(&c, &sb, reqwest::Method::GET, "/oauth/v2/token", None, None).await;
    assert_api_error(s, &b, 405, "INVALID_REQUEST_METHOD");
}

#[tokio::test]
async fn roles_profiles_and_org() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;

    let (s, b) = get(&c, &sb, "/bigin/v2/settings/roles", &token).await;
    assert_eq!(s, StatusCode::OK);
    let roles = parse(&b)["roles"].as_array().unwrap().clone();
    assert_eq!(roles.len(), 13);
    let by_id: std::collections::HashMap<&str, &Value> = roles
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r))
        .collect();
    let parent_of = |r: &Value| r["reporting_to"]["id"].as_str().map(str::to_string);
    let depth = |start: &Value| {
        let mut d = 1;
        let mut parent = parent_of(start);
        while let Some(p) = parent {
            d += 1;
            parent = parent_of(by_id[p.as_str()]);
        }
        d
    };
    assert!(roles.iter().map(depth).max().unwrap() >= 5);
    let ceo = roles.iter().find(|r| r["name"] == "CEO").unwrap();
    assert_eq!(ceo["admin_user"], true);
    assert_eq!(ceo["reporting_to"], Value::Null);
    assert_eq!(roles.iter().filter(|r| r["admin_user"] == true).count(), 1);
    let (s, b) = get(
        &c,
        &sb,
        &format!("/bigin/v2/settings/roles/{}", ceo["id"].as_str().unwrap()),
        &token,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(&parse(&b)["roles"][0], ceo);

    let (_, b) = get(&c, &sb, "/bigin/v2/settings/profiles", &token).await;
    let profiles = parse(&b)["profiles"].as_array().unwrap().clone();
    let names: Vec<&str> = profiles
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Administrator",
            "Standard",
            "Sales Admin",
            "Support",
            "Read Only",
            "Finance Auditor"
        ]
    );
    assert_eq!(profiles[0]["custom"], false);
    assert_eq!(profiles[0]["created_by"], Value::Null);
    assert_eq!(profiles[2]["custom"], true);
    assert_eq!(profiles[2]["created_by"]["id"], sb.primary_user_id());

    let enabled = |detail: &Value, name: &str| {
        detail["permissions_details"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))["enabled"]
            .as_bool()
            .unwrap()
    };
    let detail = |ix: usize| {
        let id = profiles[ix]["id"].as_str().unwrap().to_string();
        let c = c.clone();
        let token = token.clone();
        let sb = &sb;
        async move {
            let (s, b) = get(&c, sb, &format!("/bigin/v2/settings/profiles/{id}"), &token).await;
            assert_eq!(s, StatusCode::OK);
            parse(&b)["profiles"][0].clone()
        }
    };
    let admin = detail(0).await;
    assert_eq!(admin["permissions_details"].as_array().unwrap().len(), 38);
    assert!(
        admin["permissions_details"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["enabled"] == true)
    );
    assert_eq!(admin["sections"][0]["name"], "module");
    let companies = admin["sections"][0]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|cat| cat["module"] == "Accounts")
        .unwrap();
    assert_eq!(companies["display_label"], "Companies");
    assert_eq!(
        companies["permissions_details"].as_array().unwrap().len(),
        4
    );
    let sales_admin = detail(2).await;
    assert!(enabled(&sales_admin, "Crm_Implied_Manage_Users"));
    assert!(enabled(&sales_admin, "Crm_Implied_Export"));
    assert!(!enabled(&sales_admin, "Crm_Implied_Manage_Profiles"));
    let auditor = detail(5).await;
    assert!(enabled(&auditor, "Crm_Implied_Export"));
    assert!(enabled(&auditor, "Crm_Implied_View_Contacts"));
    assert!(!enabled(&auditor, "Crm_Implied_Edit_Contacts"));
    assert!(!enabled(&auditor, "Crm_Implied_Manage_Users"));
    let (s, _) = get(
        &c,
        &sb,
        "/bigin/v2/settings/profiles/4876543000000000001",
        &token,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = get(&c, &sb, "/bigin/v2/settings/profiles/x1", &token).await;
    assert_api_error(s, &b, 400, "INVALID_DATA");

    let (_, b) = get(&c, &sb, "/bigin/v2/org", &token).await;
    let org = parse(&b)["org"].as_array().unwrap()[0].clone();
    let me = sb.user(&sb.primary_user_id()).unwrap();
    assert_eq!(org["primary_email"], me["email"]);
    assert_eq!(org["primary_zuid"], me["zuid"]);
    assert_eq!(org["alias"], Value::Null);
    assert!(org.as_object().unwrap().contains_key("zia_portal_id"));
    assert_eq!(
        org["hierarchy_preferences"],
        json!({"type": "Role_Hierarchy"})
    );
    assert_eq!(org["license_details"]["paid_type"], "biginpremier");
    assert_eq!(org["license_details"]["trial_type"], Value::Null);
    assert!(org["employee_count"].is_number());
}
