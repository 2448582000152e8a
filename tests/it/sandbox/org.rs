//! The seeded organisation: the default 450 users, byte for byte, and orgs
//! of any size (`SandboxOptions::users`), read over HTTP like a client.

use sha2::{Digest, Sha256};

use super::*;

/// Every user, in listing order, read page by page with `per_page=200`.
async fn all_users(c: &reqwest::Client, sb: &Sandbox, token: &str) -> Vec<Value> {
    let mut users = Vec::new();
    for page in 1.. {
        let (s, b) = get(
            c,
            sb,
            &format!("/bigin/v2/users?page={page}&per_page=200"),
            token,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "page {page}: {b}");
        let v = parse(&b);
        users.extend(v["users"].as_array().unwrap().iter().cloned());
        if v["info"]["more_records"] == false {
            break;
        }
    }
    users
}

/// SHA-256 (hex) of every body a client can read from an untouched org:
/// all users, roles, profiles with their details, and the org record.
async fn fingerprint(c: &reqwest::Client, sb: &Sandbox, token: &str) -> String {
    let mut hasher = Sha256::new();
    for user in all_users(c, sb, token).await {
        hasher.update(user.to_string());
    }
    for path in [
        "/bigin/v2/settings/roles",
        "/bigin/v2/settings/profiles",
        "/bigin/v2/org",
    ] {
        hasher.update(get(c, sb, path, token).await.1);
    }
    let (_, b) = get(c, sb, "/bigin/v2/settings/profiles", token).await;
    for profile in parse(&b)["profiles"].as_array().unwrap() {
        let id = profile["id"].as_str().unwrap();
        let path = format!("/bigin/v2/settings/profiles/{id}");
        hasher.update(get(c, sb, &path, token).await.1);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The default org is exactly the one the suite was written against: same
/// ids, names, e-mails, statuses, roles, profiles and timestamps. (The
/// value was taken from the sandbox before orgs of other sizes existed.)
#[tokio::test]
async fn the_default_org_is_unchanged() {
    let sb = start().await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    assert_eq!(
        fingerprint(&c, &sb, &token).await,
        "c3876c7c145469d46f2c7d26e9c73c4da9bfa51bbc1d09b266ff63aae16bd3c9",
        "the default sandbox org changed"
    );
}

#[tokio::test]
async fn seed_is_deterministic_and_well_formed() {
    let c = http();
    let (a, b) = (start().await, start().await);
    let (ta, tb) = (demo_token(&c, &a).await, demo_token(&c, &b).await);
    let users = all_users(&c, &a, &ta).await;
    assert_eq!(
        users,
        all_users(&c, &b, &tb).await,
        "same org on every start"
    );
    assert_eq!(users.len(), 450);
    let text = |u: &Value, k: &str| u[k].as_str().unwrap().to_string();
    let unique: HashSet<String> = users.iter().map(|u| text(u, "email")).collect();
    assert_eq!(unique.len(), 450, "emails are unique");
    assert!(unique.iter().all(|e| e.is_ascii()));

    let mut ids: Vec<String> = users.iter().map(|u| text(u, "id")).collect();
    let (_, roles) = get(&c, &a, "/bigin/v2/settings/roles", &ta).await;
    let (_, profiles) = get(&c, &a, "/bigin/v2/settings/profiles", &ta).await;
    let admin_id = parse(&profiles)["profiles"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, admin) = get(
        &c,
        &a,
        &format!("/bigin/v2/settings/profiles/{admin_id}"),
        &ta,
    )
    .await;
    for (body, key) in [(&roles, "roles"), (&profiles, "profiles")] {
        ids.extend(
            parse(body)[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| text(r, "id")),
        );
    }
    let admin = parse(&admin);
    let permissions = admin["profiles"][0]["permissions_details"]
        .as_array()
        .unwrap();
    ids.extend(permissions.iter().map(|p| text(p, "id")));
    for id in &ids {
        assert_eq!(id.len(), 19, "{id}");
        assert!(id.starts_with("4876543000000"));
        assert!(id.parse::<i64>().is_ok());
    }

    let count = |f: &dyn Fn(&Value) -> bool| users.iter().filter(|u| f(u)).count();
    assert_eq!(count(&|u| u["status"] == "deleted"), 15);
    assert_eq!(count(&|u| u["status"] == "inactive"), 31);
    assert_eq!(
        count(&|u| u["status"] == "active" && u["confirm"] == false),
        21
    );
    assert_eq!(
        count(&|u| u["status"] == "active" && u["confirm"] == true),
        383
    );

    // The users an access review must flag: privileged yet inactive or
    // unconfirmed, in listing order.
    let privileged = |u: &Value| {
        u["profile"]["name"] == "Administrator" || u["profile"]["name"] == "Sales Admin"
    };
    let flagged: Vec<String> = users
        .iter()
        .filter(|u| {
            privileged(u)
                && (u["status"] == "inactive" || (u["status"] == "active" && u["confirm"] == false))
        })
        .map(|u| text(u, "full_name"))
        .collect();
    assert_eq!(
        flagged,
        [
            "José Núñez",
            "Łukasz Wójcik",
            "Søren Kierkegaard-Ødegaard",
            "李雷",
            "Margaret Hale",
            "Ana María Peña"
        ]
    );
    let primary = &users[0];
    assert_eq!(text(primary, "id"), a.primary_user_id());
    assert_eq!(primary["email"], "zoe.angstrom@northwind.example");
    assert_eq!(primary["role"]["name"], "CEO");
    assert_eq!(
        count(&|u| u["role"]["name"] == "CEO"),
        1,
        "only the primary is CEO"
    );
    let by_last = |last: &str| users.iter().find(|u| u["last_name"] == last).unwrap();
    assert_eq!(
        by_last("Kierkegaard-Ødegaard")["email"],
        "soren.kierkegaard-odegaard@northwind.example"
    );
    assert_eq!(by_last("Peña")["email"], "ana.maria.pena@northwind.example");
}

async fn sandbox_with_users(users: usize) -> Sandbox {
    Sandbox::start(SandboxOptions {
        users,
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox starts")
}

#[tokio::test]
async fn orgs_of_other_sizes_keep_the_default_users_first() {
    let c = http();
    let default = start().await;
    let token = demo_token(&c, &default).await;
    let base = all_users(&c, &default, &token).await;
    for size in [1, 100, 1000] {
        let sb = sandbox_with_users(size).await;
        let token = demo_token(&c, &sb).await;
        let users = all_users(&c, &sb, &token).await;
        assert_eq!(users.len(), size);
        let shared = size.min(450);
        assert_eq!(users[..shared], base[..shared], "size {size}");
        assert_eq!(users[0]["id"], sb.primary_user_id());

        let ids: Vec<u64> = users
            .iter()
            .map(|u| u["id"].as_str().unwrap().parse().unwrap())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ascending, unique ids");
        assert!(
            ids.iter()
                .all(|id| *id <= i64::MAX as u64 && id.to_string().len() <= 19)
        );
        let emails: HashSet<&str> = users.iter().map(|u| u["email"].as_str().unwrap()).collect();
        assert_eq!(emails.len(), size, "unique e-mails");

        let (_, org) = get(&c, &sb, "/bigin/v2/org", &token).await;
        let licences = &parse(&org)["org"][0]["license_details"]["users_license_purchased"];
        assert!(licences.as_u64().unwrap() >= size as u64);
    }

    // Beyond the first 450, every state still occurs.
    let sb = sandbox_with_users(1000).await;
    let token = demo_token(&c, &sb).await;
    let users = all_users(&c, &sb, &token).await;
    let extra = &users[450..];
    for (what, pred) in [
        (
            "deleted",
            &(|u: &Value| u["status"] == "deleted") as &dyn Fn(&Value) -> bool,
        ),
        ("inactive", &|u: &Value| u["status"] == "inactive"),
        ("unconfirmed", &|u: &Value| {
            u["status"] == "active" && u["confirm"] == false
        }),
        ("administrator", &|u: &Value| {
            u["profile"]["name"] == "Administrator"
        }),
        ("standard", &|u: &Value| u["profile"]["name"] == "Standard"),
    ] {
        assert!(
            extra.iter().any(pred),
            "no {what} user beyond the first 450"
        );
    }
    // Same size, same org.
    let again = sandbox_with_users(1000).await;
    let t = demo_token(&c, &again).await;
    assert_eq!(all_users(&c, &again, &t).await, users);
}

/// Paging reaches the end of a 50,000-user org with any page size; only the
/// last pages are read.
#[tokio::test]
async fn a_50000_user_org_pages_to_its_end() {
    let sb = sandbox_with_users(50_000).await;
    let c = http();
    let token = demo_token(&c, &sb).await;
    let page = |page: usize, per_page: usize| {
        let (c, sb, token) = (&c, &sb, &token);
        async move {
            get(
                c,
                sb,
                &format!("/bigin/v2/users?page={page}&per_page={per_page}"),
                token,
            )
            .await
        }
    };
    let (s, b) = page(250, 200).await;
    assert_eq!(s, StatusCode::OK);
    let last = parse(&b);
    assert_eq!(
        last["info"],
        json!({"per_page": 200, "count": 200, "page": 250, "more_records": false})
    );
    let (s, b) = page(251, 200).await;
    assert_eq!((s, b.as_str()), (StatusCode::NO_CONTENT, ""));
    // 50,000 = 7,142 × 7 + 6.
    let (_, b) = page(7143, 7).await;
    let v = parse(&b);
    assert_eq!(v["info"]["count"], 6);
    assert_eq!(v["info"]["more_records"], false);
    assert_eq!(v["users"][5], last["users"][199], "the same last user");
    let (_, b) = page(7142, 7).await;
    assert_eq!(parse(&b)["info"]["more_records"], true);

    let id = last["users"][199]["id"].as_str().unwrap();
    assert!(id.len() <= 19 && id.parse::<i64>().is_ok(), "{id}");
    let (s, b) = get(&c, &sb, &format!("/bigin/v2/users/{id}"), &token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(parse(&b)["users"][0], last["users"][199]);
    assert_eq!(sb.user(id).as_ref(), Some(&last["users"][199]));
}
