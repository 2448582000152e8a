//! Contract tests: the example bodies of `shared/zoho-bigin-api.md` (Zoho's
//! documented or observed answers, copied verbatim where the file has them),
//! served by the sandbox exactly as written and read by the real client.
//! If the client stops reading what Zoho documents, these fail, whatever
//! the sandbox's own rendering does.

use bigin_mcp::sandbox::{Fault, FaultKind};
use bigin_mcp::zoho::{NewUser, UserStatus, UserType, ZohoError, ZohoId};

use crate::common::*;

/// Serves `body` with `status` for requests whose path contains `path`.
fn answer(sb: &bigin_mcp::sandbox::Sandbox, path: &str, status: u16, body: &str) {
    sb.inject(
        Fault::new(FaultKind::Answer {
            status,
            body: body.to_string(),
        })
        .on_path(path)
        .times(3),
    );
}

fn id(s: &str) -> ZohoId {
    ZohoId::parse(s, "id").unwrap()
}

/// §4.1: the user list (shape from real Bigin code, `info` from CRM's OAS).
const USERS: &str = r#"{"users":[{"id":"7618134000000627001","full_name":"Nango Developer","first_name":"Nango","last_name":"Developer",
  "email":"a@b.com","status":"active","confirm":true,"category":"regular_user","zuid":"123","Isonline":false,
  "role":{"name":"CEO","id":"7618134000000026005"},"profile":{"name":"Administrator","id":"7618134000000026011"},
  "created_by":{"name":"..","id":".."},"Modified_By":{"name":"..","id":".."},
  "created_time":"2024-01-02T10:00:00+05:30","Modified_Time":"2024-01-03T10:00:00+05:30",
  "time_zone":"Africa/Nairobi","language":"en_US","locale":"en_US","country_locale":"en_US",
  "phone":null,"mobile":null,"fax":null,"website":null,"dob":null,"street":null,"city":null,"state":null,
  "zip":null,"country":null,"offset":10800000}],
 "info":{"per_page":200,"count":1,"page":1,"more_records":false}}"#;

/// §4.5: the roles list (Bigin v1 sample).
const ROLES: &str = r#"{"roles":[{"display_label":"CEO","share_with_peers":true,"name":"CEO",
  "description":"Users with this role have access to the data owned by all other users.",
  "reporting_to":null,"id":"554023000000026005"},
 {"display_label":"Manager","share_with_peers":false,"name":"Manager","description":"…",
  "reporting_to":{"name":"CEO","id":"554023000000026005"},"id":"554023000000026008"}]}"#;

/// §4.6: CRM's profile list sample ("…" ids made numeric).
const PROFILES: &str = r#"{"profiles":[{"display_label":"Administrator","created_time":null,"modified_time":null,"custom":false,"name":"Administrator","modified_by":null,"description":"…","id":"554023000000026011","category":false,"created_by":null}]}"#;

#[tokio::test]
async fn documented_read_answers_decode() {
    let sb = sandbox().await;
    let (c, _) = client(&sb);

    answer(&sb, "/bigin/v2/users", 200, USERS);
    let users = c.list_users(UserType::AllUsers).await.unwrap();
    assert_eq!(users.len(), 1);
    let u = &users[0];
    assert_eq!(u.id, "7618134000000627001");
    assert_eq!(u.status, UserStatus::Active);
    assert_eq!(u.confirmed, Some(true));
    assert_eq!(u.role.as_ref().unwrap().name, "CEO");
    assert_eq!(u.profile.as_ref().unwrap().name, "Administrator");
    sb.clear_faults();

    // §4.1: one user, same wrapper.
    answer(&sb, "/bigin/v2/users/7618134000000627001", 200, USERS);
    let one = c
        .get_user(&id("7618134000000627001"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one["email"], "a@b.com");
    sb.clear_faults();

    // §5 / gotcha 6: 204 is "none", with no body.
    answer(&sb, "/bigin/v2/users", 204, "");
    assert!(
        c.list_users(UserType::DeletedUsers)
            .await
            .unwrap()
            .is_empty()
    );
    sb.clear_faults();

    answer(&sb, "/bigin/v2/settings/roles", 200, ROLES);
    let roles = c.list_roles().await.unwrap();
    assert_eq!(roles.len(), 2);
    assert_eq!(roles[1].reporting_to.as_ref().unwrap().name, "CEO");
    assert_eq!(roles[0].share_with_peers, Some(true));
    sb.clear_faults();

    answer(&sb, "/bigin/v2/settings/profiles", 200, PROFILES);
    let profiles = c.list_profiles().await.unwrap();
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].name, "Administrator");
    assert!(profiles[0].permissions_details.is_none());
    sb.clear_faults();

    // §4.7: `{"org":[one]}`, unset fields as explicit null.
    answer(
        &sb,
        "/bigin/v2/org",
        200,
        r#"{"org":[{"id":"554023000000024001","company_name":"Zylker","alias":null,"primary_email":"owner@zylker.example","primary_zuid":"64251234","zgid":"64251235","time_zone":"Asia/Kolkata","employee_count":12,"hierarchy_preferences":{"type":"Role_Hierarchy"},"license_details":{"paid":true,"paid_type":"biginpremier","paid_expiry":null,"trial_type":null,"trial_expiry":null,"users_license_purchased":5}}]}"#,
    );
    let org = c.get_org().await.unwrap();
    assert_eq!(org.primary_email.as_deref(), Some("owner@zylker.example"));
    assert_eq!(org.primary_zuid.as_deref(), Some("64251234"));
}

#[tokio::test]
async fn documented_write_answers_decode() {
    let sb = sandbox().await;
    let (c, _) = client(&sb);
    let user = id("111113000000071587");

    // §4.3 (CRM): success of an update.
    answer(
        &sb,
        "/bigin/v2/users/111113000000071587",
        200,
        r#"{"users":[{"code":"SUCCESS","details":{"id":"111113000000071587"},"message":"User updated","status":"success"}]}"#,
    );
    assert_eq!(
        c.set_user_status(&user, UserStatus::Inactive)
            .await
            .unwrap()
            .code,
        "SUCCESS"
    );
    sb.clear_faults();

    // §4.4 (CRM OAS): success of a deletion.
    answer(
        &sb,
        "/bigin/v2/users/111113000000071587",
        200,
        r#"{"users":[{"code":"SUCCESS","details":{"id":"111113000000071587"},"message":"User deleted","status":"success"}]}"#,
    );
    assert_eq!(c.delete_user(&user).await.unwrap().message, "User deleted");
    sb.clear_faults();

    // §4.2 (CRM OAS createUser): 201 with the new id.
    answer(
        &sb,
        "/bigin/v2/users",
        201,
        r#"{"users":[{"code":"SUCCESS","details":{"id":"554023000000691003"},"message":"User added","status":"success"}]}"#,
    );
    let new = NewUser {
        first_name: Some("Ann"),
        last_name: "Lee",
        email: "ann.lee@zylker.example",
        role: id("554023000000026005"),
        profile: id("554023000000026011"),
    };
    assert_eq!(
        c.create_user(&new).await.unwrap().0.as_str(),
        "554023000000691003"
    );
}

#[tokio::test]
async fn documented_refusals_decode_with_zohos_code_and_message() {
    let sb = sandbox().await;
    let (c, _) = client(&sb);
    let user = id("111113000000071587");
    // "Checked against public evidence": refusals are HTTP 400 with the
    // reason in the record list.
    for (body, code, message) in [
        (
            r#"{"users":[{"code":"INVALID_REQUEST","details":{},"message":"Primary Contact cannot be deactivated","status":"error"}]}"#,
            "INVALID_REQUEST",
            "Primary Contact cannot be deactivated",
        ),
        (
            r#"{"users":[{"code":"ID_ALREADY_DEACTIVATED","details":{"id":"111113000000071587"},"message":"the user is already deactivated","status":"error"}]}"#,
            "ID_ALREADY_DEACTIVATED",
            "already deactivated",
        ),
        (
            r#"{"users":[{"code":"INVALID_DATA","details":{"api_name":"profile"},"message":"invalid data","status":"error"}]}"#,
            "INVALID_DATA",
            "field `profile`",
        ),
        (
            r#"{"data":[{"code":"A_CODE_NOBODY_LISTED","details":{},"message":"something new","status":"error"}]}"#,
            "A_CODE_NOBODY_LISTED",
            "something new",
        ),
    ] {
        answer(&sb, "/bigin/v2/users/111113000000071587", 400, body);
        let e = c
            .set_user_status(&user, UserStatus::Inactive)
            .await
            .unwrap_err();
        assert!(matches!(e, ZohoError::Record { .. }), "{e:?}");
        assert_eq!(e.code(), Some(code));
        assert!(e.to_string().contains(message), "{e}");
        sb.clear_faults();
    }
    // §4.4: an invalid id is a request-level 400.
    answer(
        &sb,
        "/bigin/v2/users/111113000000071587",
        400,
        r#"{"code":"INVALID_DATA","details":{"resource_path_index":1},"message":"the id given seems to be invalid","status":"error"}"#,
    );
    let e = c.delete_user(&user).await.unwrap_err();
    assert!(matches!(e, ZohoError::Api { status: 400, .. }), "{e:?}");
    assert!(e.to_string().contains("the id given seems to be invalid"));
    sb.clear_faults();

    // §5: 403 NO_PERMISSION.
    answer(
        &sb,
        "/bigin/v2/org",
        403,
        r#"{"code":"NO_PERMISSION","details":{"permissions":["Crm_Implied_View_Org"]},"message":"permission denied","status":"error"}"#,
    );
    assert_eq!(c.get_org().await.unwrap_err().code(), Some("NO_PERMISSION"));
}

#[tokio::test]
async fn documented_rate_limit_and_token_answers_decode() {
    let sb = sandbox().await;
    let (c, tokens) = client(&sb);
    // CRM's 429 sample: the wait in `details.retry_after`, no header.
    answer(
        &sb,
        "/bigin/v2/org",
        429,
        r#"{"code":"TOO_MANY_REQUESTS","details":{"retry_after":120},"message":"You have made too many requests. Please try again after some time.","status":"error"}"#,
    );
    let e = c.get_org().await.unwrap_err();
    assert!(e.to_string().contains("Retry after 120 s"), "{e}");
    sb.clear_faults();

    // §2.3: a refresh answer (no refresh_token in it). Its api_domain is
    // only read here: nothing is sent there.
    answer(
        &sb,
        "/oauth/v2/token",
        200,
        r#"{"access_token":"1000.xx.yy","expires_in":3600,"api_domain":"https://www.zohoapis.com","token_type":"Bearer"}"#,
    );
    let t = tokens.force_refresh().await.unwrap();
    assert_eq!(t.api_domain.as_deref(), Some("https://www.zohoapis.com"));
    sb.clear_faults();

    // §2.3: token errors inside HTTP 200.
    answer(&sb, "/oauth/v2/token", 200, r#"{"error":"invalid_code"}"#);
    assert_eq!(
        tokens.force_refresh().await.unwrap_err().code(),
        Some("invalid_code")
    );
    sb.clear_faults();

    // The throttle, with HTTP 400 here (200 in the variant tests).
    answer(
        &sb,
        "/oauth/v2/token",
        400,
        r#"{"error":"Access Denied","error_description":"You have made too many requests continuously. Please try again after some time."}"#,
    );
    let e = tokens.force_refresh().await.unwrap_err();
    assert!(e.is_token_throttle(), "{e:?}");
    assert!(e.to_string().contains("about 10 minutes"), "{e}");
}
