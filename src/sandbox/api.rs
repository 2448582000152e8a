//! The imitation Bigin REST API v2 under `/bigin/v2`: users (list, get,
//! add, update, delete), roles, profiles and org, with Zoho's auth, scope,
//! paging and error behaviour (§4–5 of the shared API notes). Writes mutate
//! the in-memory org so later reads see them.
//!
//! Writes answer with one result element per record. A refused record is an
//! element with `"status":"error"` inside HTTP 200, for PUT and DELETE as
//! the notes decide and, since they are silent about it, for POST too; a
//! POST that adds its user answers 201.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::auth;
use super::seed::{self, Org};
use super::util::{api_error, json_response, no_content, parse_urlencoded};
use super::{FaultKind, Req, Shared};

const MAX_PER_PAGE: usize = 200;
const INVALID_ID_MESSAGE: &str = "the id given seems to be invalid";

/// Scopes of which any one grants an endpoint (§3 of the notes). Updates
/// accept both spellings the docs use, `UPDATE` and `WRITE`.
const USERS_READ: &[&str] = &["ZohoBigin.users.ALL", "ZohoBigin.users.READ"];
const USERS_CREATE: &[&str] = &["ZohoBigin.users.ALL", "ZohoBigin.users.CREATE"];
const USERS_UPDATE: &[&str] = &[
    "ZohoBigin.users.ALL",
    "ZohoBigin.users.UPDATE",
    "ZohoBigin.users.WRITE",
];
const USERS_DELETE: &[&str] = &["ZohoBigin.users.ALL", "ZohoBigin.users.DELETE"];
const ROLES_READ: &[&str] = &[
    "ZohoBigin.settings.roles.READ",
    "ZohoBigin.settings.roles.ALL",
    "ZohoBigin.settings.ALL",
];
const PROFILES_READ: &[&str] = &[
    "ZohoBigin.settings.profiles.READ",
    "ZohoBigin.settings.profiles.ALL",
    "ZohoBigin.settings.ALL",
];
const ORG_READ: &[&str] = &["ZohoBigin.org.READ", "ZohoBigin.org.ALL"];

type Sh = State<Arc<Shared>>;

/// The `{id}` of a path. One that cannot be decoded (invalid UTF-8 after
/// percent-decoding) is kept as a rejection so the handler can answer with
/// Zoho's `INVALID_DATA` after the token check, rather than axum's text.
type PathId = Result<Path<String>, PathRejection>;

/// The id out of a [`PathId`]; an undecodable one becomes "", which no id
/// check accepts.
fn path_id(id: PathId) -> String {
    id.map(|Path(id)| id).unwrap_or_default()
}

/// 401 `INVALID_TOKEN`: no, an unknown or an expired access token.
pub(super) fn invalid_token() -> Response {
    api_error(
        StatusCode::UNAUTHORIZED,
        "INVALID_TOKEN",
        "invalid oauth token",
        json!({}),
    )
}

/// Zoho's gate in front of every endpoint: a valid access token, then one of
/// `scopes`. `Some` is the answer that refuses the request.
fn refusal(shared: &Shared, headers: &HeaderMap, scopes: &[&str]) -> Option<Response> {
    match auth::authenticate(&shared.lock(), headers) {
        Err(auth::InvalidToken) => Some(invalid_token()),
        Ok(granted) if !granted.allows_any(scopes) => Some(scope_mismatch()),
        Ok(_) => None,
    }
}

/// `GET /users`.
pub(super) async fn list_users(State(shared): Sh, req: Req) -> Response {
    refusal(&shared, &req.headers, USERS_READ).unwrap_or_else(|| list(&shared, &req))
}

/// `POST /users`.
pub(super) async fn add_user(State(shared): Sh, req: Req) -> Response {
    refusal(&shared, &req.headers, USERS_CREATE).unwrap_or_else(|| add(&shared, &req))
}

/// `PUT /users` (bulk).
pub(super) async fn put_users(State(shared): Sh, req: Req) -> Response {
    refusal(&shared, &req.headers, USERS_UPDATE).unwrap_or_else(|| put(&shared, &req, None))
}

/// `GET /users/{id}`.
pub(super) async fn get_user(State(shared): Sh, id: PathId, req: Req) -> Response {
    let id = path_id(id);
    refusal(&shared, &req.headers, USERS_READ).unwrap_or_else(|| get_one(&shared, &id))
}

/// `PUT /users/{id}`.
pub(super) async fn put_user(State(shared): Sh, id: PathId, req: Req) -> Response {
    let id = path_id(id);
    refusal(&shared, &req.headers, USERS_UPDATE).unwrap_or_else(|| put(&shared, &req, Some(&id)))
}

/// `DELETE /users/{id}`.
pub(super) async fn delete_user(State(shared): Sh, id: PathId, req: Req) -> Response {
    let id = path_id(id);
    refusal(&shared, &req.headers, USERS_DELETE).unwrap_or_else(|| delete(&shared, &req, &id))
}

/// `GET /settings/roles`.
pub(super) async fn roles(State(shared): Sh, headers: HeaderMap) -> Response {
    refusal(&shared, &headers, ROLES_READ).unwrap_or_else(|| {
        let st = shared.lock();
        let roles: Vec<Value> = (0..st.org.roles.len())
            .map(|ix| st.org.role_json(ix))
            .collect();
        json_response(StatusCode::OK, &json!({ "roles": roles }))
    })
}

/// `GET /settings/roles/{id}`.
pub(super) async fn role(State(shared): Sh, id: PathId, headers: HeaderMap) -> Response {
    let id = path_id(id);
    refusal(&shared, &headers, ROLES_READ).unwrap_or_else(|| {
        if !valid_id(&id) {
            return invalid_path_id(2);
        }
        let st = shared.lock();
        match st.org.role_index(&id) {
            Some(ix) => json_response(StatusCode::OK, &json!({"roles": [st.org.role_json(ix)]})),
            None => no_content(),
        }
    })
}

/// `GET /settings/profiles`.
pub(super) async fn profiles(State(shared): Sh, headers: HeaderMap) -> Response {
    refusal(&shared, &headers, PROFILES_READ).unwrap_or_else(|| {
        let st = shared.lock();
        let profiles: Vec<Value> = (0..st.org.profiles.len())
            .map(|ix| st.org.profile_json(ix))
            .collect();
        json_response(StatusCode::OK, &json!({ "profiles": profiles }))
    })
}

/// `GET /settings/profiles/{id}`, with `permissions_details`.
pub(super) async fn profile(State(shared): Sh, id: PathId, headers: HeaderMap) -> Response {
    let id = path_id(id);
    refusal(&shared, &headers, PROFILES_READ).unwrap_or_else(|| {
        if !valid_id(&id) {
            return invalid_path_id(2);
        }
        let st = shared.lock();
        match st.org.profile_index(&id) {
            Some(ix) => json_response(
                StatusCode::OK,
                &json!({"profiles": [st.org.profile_detail_json(ix)]}),
            ),
            None => no_content(),
        }
    })
}

/// `GET /org`.
pub(super) async fn org(State(shared): Sh, headers: HeaderMap) -> Response {
    refusal(&shared, &headers, ORG_READ).unwrap_or_else(|| {
        let st = shared.lock();
        json_response(StatusCode::OK, &json!({"org": [st.org.org_json()]}))
    })
}

/// Zoho record ids: 1–19 digits and within `i64`.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 19
        && id.bytes().all(|b| b.is_ascii_digit())
        && id.parse::<i64>().is_ok()
}

fn invalid_path_id(index: u32) -> Response {
    api_error(
        StatusCode::BAD_REQUEST,
        "INVALID_DATA",
        INVALID_ID_MESSAGE,
        json!({"resource_path_index": index}),
    )
}

fn invalid_param(param: &str, message: &str) -> Response {
    api_error(
        StatusCode::BAD_REQUEST,
        "INVALID_DATA",
        message,
        json!({"param_name": param}),
    )
}

fn scope_mismatch() -> Response {
    api_error(
        StatusCode::UNAUTHORIZED,
        "OAUTH_SCOPE_MISMATCH",
        "invalid oauth scope to access this URL",
        json!({}),
    )
}

/// The `type` filter of `GET /users`.
fn type_filter(kind: &str) -> Option<fn(&Org, usize) -> bool> {
    fn is_admin(org: &Org, ix: usize) -> bool {
        org.users[ix].profile == seed::profile::ADMINISTRATOR
    }
    fn active(org: &Org, ix: usize) -> bool {
        org.users[ix].status == "active"
    }
    Some(match kind {
        "AllUsers" => |_, _| true,
        "ActiveUsers" => active,
        "DeactiveUsers" => |org, ix| org.users[ix].status == "inactive",
        "ConfirmedUsers" => |org, ix| org.users[ix].confirm,
        "NotConfirmedUsers" => |org, ix| !org.users[ix].confirm,
        "DeletedUsers" => |org, ix| org.users[ix].status == "deleted",
        "ActiveConfirmedUsers" => |org, ix| active(org, ix) && org.users[ix].confirm,
        "AdminUsers" => is_admin,
        "ActiveConfirmedAdmins" => {
            |org, ix| active(org, ix) && org.users[ix].confirm && is_admin(org, ix)
        }
        // Every sandbox token belongs to the primary user.
        "CurrentUser" => |org, ix| ix == org.primary,
        _ => return None,
    })
}

/// `GET /users?type=&page=&per_page=`, past the gate.
fn list(shared: &Shared, req: &Req) -> Response {
    let params = parse_urlencoded(&req.query);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(filter) = type_filter(get("type").unwrap_or("AllUsers")) else {
        return invalid_param("type", "the given type is invalid");
    };
    let page = match get("page").map(str::parse::<usize>) {
        None => 1,
        Some(Ok(p)) if p >= 1 => p,
        Some(_) => return invalid_param("page", "the page value given seems to be invalid"),
    };
    let per_page = match get("per_page").map(str::parse::<usize>) {
        None => MAX_PER_PAGE,
        Some(Ok(n)) if (1..=MAX_PER_PAGE).contains(&n) => n,
        Some(_) => {
            return invalid_param(
                "per_page",
                "the per_page value given seems to be invalid (1 to 200)",
            );
        }
    };
    let st = shared.lock();
    let matching: Vec<usize> = (0..st.org.users.len())
        .filter(|ix| filter(&st.org, *ix))
        .collect();
    let start = (page - 1).saturating_mul(per_page);
    if start >= matching.len() {
        return no_content();
    }
    let end = start.saturating_add(per_page).min(matching.len());
    let users: Vec<Value> = matching[start..end]
        .iter()
        .map(|ix| st.org.user_json(*ix))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "users": users,
            "info": {
                "per_page": per_page,
                "count": end - start,
                "page": page,
                "more_records": end < matching.len(),
            },
        }),
    )
}

/// `GET /users/{id}`, past the gate.
fn get_one(shared: &Shared, id: &str) -> Response {
    if !valid_id(id) {
        return invalid_path_id(1);
    }
    let st = shared.lock();
    match st.org.user_index(id) {
        Some(ix) => json_response(StatusCode::OK, &json!({"users": [st.org.user_json(ix)]})),
        None => no_content(),
    }
}

fn record_result(code: &str, id: &str, message: &str, extra: Option<(&str, &str)>) -> Value {
    let mut details = Map::new();
    if let Some((k, v)) = extra {
        details.insert(k.to_string(), Value::String(v.to_string()));
    }
    details.insert("id".to_string(), Value::String(id.to_string()));
    let status = if code == "SUCCESS" {
        "success"
    } else {
        "error"
    };
    json!({"code": code, "details": details, "message": message, "status": status})
}

fn record_error(code: &str, id: &str, message: &str) -> Value {
    record_result(code, id, message, None)
}

/// A write answered with one element per record, HTTP 200.
fn write_results(results: Vec<Value>) -> Response {
    json_response(StatusCode::OK, &json!({ "users": results }))
}

/// Reads a record's `id` as Zoho sends it: a string, or a (u64) number.
fn record_id(record: &Map<String, Value>) -> Option<String> {
    match record.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `PUT /users` (bulk) and `PUT /users/{id}`, past the gate.
fn put(shared: &Shared, req: &Req, path_id: Option<&str>) -> Response {
    if path_id.is_some_and(|id| !valid_id(id)) {
        return invalid_path_id(1);
    }
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(_) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "INVALID_DATA",
                "the body is not a valid JSON",
                json!({}),
            );
        }
    };
    let records: Vec<Map<String, Value>> = match body.get("users").and_then(Value::as_array) {
        Some(items) if !items.is_empty() => {
            let objects: Option<Vec<_>> = items.iter().map(|v| v.as_object().cloned()).collect();
            match objects {
                Some(objects) => objects,
                None => {
                    return invalid_param("users", "each element of users must be a JSON object");
                }
            }
        }
        _ => return invalid_param("users", "the body must hold a non-empty users array"),
    };
    if let Some(path_id) = path_id {
        if records.len() != 1 {
            return invalid_param("users", "exactly one user can be updated through this URL");
        }
        if record_id(&records[0]).is_some_and(|id| id != path_id) {
            return api_error(
                StatusCode::BAD_REQUEST,
                "INVALID_DATA",
                "the id given in the body does not match the id in the URL",
                json!({"api_name": "id"}),
            );
        }
    }
    let ids: Vec<Option<String>> = records
        .iter()
        .map(|r| record_id(r).or_else(|| path_id.map(str::to_string)))
        .collect();

    if let Some(FaultKind::RecordError { code, message }) =
        req.take_fault(shared, |k| matches!(k, FaultKind::RecordError { .. }))
    {
        let results = ids
            .iter()
            .map(|id| record_error(&code, id.as_deref().unwrap_or(""), &message))
            .collect();
        return write_results(results);
    }

    let mut st = shared.lock();
    let results = records
        .iter()
        .zip(&ids)
        .map(|(record, id)| update_user(&mut st.org, record, id.as_deref()))
        .collect();
    write_results(results)
}

/// Text fields a PUT may change, beyond status/role/profile.
const TEXT_FIELDS: [&str; 12] = [
    "first_name",
    "last_name",
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
];

/// Reads a role/profile reference: `"<id>"` or `{"id": "<id>"}`.
fn reference_id(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// A refused record without an id (POST): `{code, details, message, "error"}`.
fn field_error(code: &str, field: &str, message: &str) -> Value {
    json!({
        "code": code,
        "details": {"api_name": field},
        "message": message,
        "status": "error",
    })
}

/// `POST /users`, past the gate: one user per request (§4.2), added as
/// invited (active, unconfirmed).
fn add(shared: &Shared, req: &Req) -> Response {
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(_) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "INVALID_DATA",
                "the body is not a valid JSON",
                json!({}),
            );
        }
    };
    let record = match body
        .get("users")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([Value::Object(record)]) => record,
        Some([_]) => return invalid_param("users", "each element of users must be a JSON object"),
        Some(items) if items.len() > 1 => {
            return invalid_param("users", "only one user can be added per request");
        }
        _ => return invalid_param("users", "the body must hold a non-empty users array"),
    };
    if let Some(FaultKind::RecordError { code, message }) =
        req.take_fault(shared, |k| matches!(k, FaultKind::RecordError { .. }))
    {
        let error = json!({"code": code, "details": {}, "message": message, "status": "error"});
        return write_results(vec![error]);
    }
    let mut st = shared.lock();
    match new_user(&st.org, record) {
        Ok(user) => {
            let id = st.org.add_user(user);
            json_response(
                StatusCode::CREATED,
                &json!({"users": [record_result("SUCCESS", &id, "User added", None)]}),
            )
        }
        Err(error) => write_results(vec![error]),
    }
}

/// Checks a POSTed user against the org: mandatory fields first, then their
/// values, then duplicates. `Err` is the record's result element.
fn new_user(org: &Org, record: &Map<String, Value>) -> Result<seed::NewUser, Value> {
    let present = |field: &str| match record.get(field) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    };
    for field in ["last_name", "email", "role", "profile"] {
        if !present(field) {
            return Err(field_error(
                "MANDATORY_NOT_FOUND",
                field,
                "required field not found",
            ));
        }
    }
    let invalid = |field: &str| field_error("INVALID_DATA", field, "invalid data");
    let text = |field: &str| match record.get(field) {
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        None | Some(Value::Null) => Ok(None),
        Some(_) => Err(invalid(field)),
    };
    let first_name = text("first_name")?.filter(|s| !s.is_empty());
    let last_name = text("last_name")?.unwrap_or_default();
    let email = text("email")?.unwrap_or_default();
    if !plausible_email(&email) {
        return Err(invalid("email"));
    }
    let role = record
        .get("role")
        .and_then(reference_id)
        .and_then(|r| org.role_index(r))
        .ok_or_else(|| invalid("role"))?;
    let profile = record
        .get("profile")
        .and_then(reference_id)
        .and_then(|p| org.profile_index(p))
        .ok_or_else(|| invalid("profile"))?;
    // A deleted user's address is free again; anyone else's is taken.
    let taken = org
        .users
        .iter()
        .any(|u| u.status != "deleted" && u.email.eq_ignore_ascii_case(&email));
    if taken {
        return Err(field_error("DUPLICATE_DATA", "email", "duplicate data"));
    }
    Ok(seed::NewUser {
        first_name,
        last_name,
        email,
        role,
        profile,
    })
}

/// `local@domain.tld` without spaces: enough to refuse what no mail server
/// would take, without pretending to implement RFC 5322.
fn plausible_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// Validates and applies one record of a PUT; returns its result element.
fn update_user(org: &mut Org, record: &Map<String, Value>, id: Option<&str>) -> Value {
    let Some(id) = id else {
        return json!({
            "code": "MANDATORY_NOT_FOUND",
            "details": {"api_name": "id"},
            "message": "required field not found",
            "status": "error",
        });
    };
    let Some(ix) = valid_id(id).then(|| org.user_index(id)).flatten() else {
        return record_error("INVALID_DATA", id, INVALID_ID_MESSAGE);
    };
    let invalid_field = |field: &str| {
        record_result(
            "INVALID_DATA",
            id,
            "invalid data",
            Some(("api_name", field)),
        )
    };
    let user = &org.users[ix];
    if user.status == "deleted" {
        return record_error("NOT_ALLOWED", id, "a deleted user cannot be updated");
    }
    let status = match record.get("status") {
        None => None,
        Some(Value::String(s)) if s == "active" || s == "inactive" => Some(s.clone()),
        Some(_) => return invalid_field("status"),
    };
    if ix == org.primary && status.as_deref() == Some("inactive") {
        return record_error("NOT_ALLOWED", id, "The primary user cannot be deactivated");
    }
    let role = match record.get("role") {
        None => None,
        Some(v) => match reference_id(v).and_then(|r| org.role_index(r)) {
            Some(r) => Some(r),
            None => return invalid_field("role"),
        },
    };
    let profile = match record.get("profile") {
        None => None,
        Some(v) => match reference_id(v).and_then(|p| org.profile_index(p)) {
            Some(p) => Some(p),
            None => return invalid_field("profile"),
        },
    };
    if ix == org.primary && profile.is_some_and(|p| p != seed::profile::ADMINISTRATOR) {
        return record_error(
            "NOT_ALLOWED",
            id,
            "The primary user must keep the Administrator profile",
        );
    }
    // Zoho lets a user change only their own time zone (and every token here
    // belongs to the primary user); for the primary it is accepted and ignored.
    if record.contains_key("time_zone") && ix != org.primary {
        return record_error(
            "NOT_ALLOWED",
            id,
            "The time zone of another user cannot be changed",
        );
    }
    let mut texts: Vec<(&str, Option<String>)> = Vec::new();
    for field in TEXT_FIELDS {
        match record.get(field) {
            None => {}
            Some(Value::String(s)) if !s.trim().is_empty() => {
                texts.push((field, Some(s.clone())));
            }
            Some(Value::Null) if field != "last_name" => texts.push((field, None)),
            Some(_) => return invalid_field(field),
        }
    }
    let other_changes = role.is_some() || profile.is_some() || !texts.is_empty();
    if user.status == "inactive" && status.as_deref() != Some("active") && other_changes {
        return record_error("NOT_ALLOWED", id, "a deactivated user cannot be updated");
    }

    let primary = org.primary;
    let user = &mut org.users[ix];
    if let Some(status) = status {
        if status != "active" {
            user.is_online = false;
        }
        user.status = status;
    }
    if let Some(r) = role {
        user.role = r;
    }
    if let Some(p) = profile {
        user.profile = p;
    }
    for (field, value) in texts {
        match field {
            "first_name" => user.first_name = value,
            "last_name" => user.last_name = value.unwrap_or_default(),
            "phone" => user.phone = value,
            "mobile" => user.mobile = value,
            "city" => user.city = value,
            "country" => user.country = value,
            _ => {
                user.extra
                    .insert(field.to_string(), value.map_or(Value::Null, Value::String));
            }
        }
        if matches!(field, "first_name" | "last_name") {
            // A renamed CJK user no longer needs the reordered display name.
            user.full_name_override = None;
        }
    }
    user.modified_time = seed::now_string();
    user.modified_by = primary;
    record_error("SUCCESS", id, "User updated")
}

/// `DELETE /users/{id}`, past the gate.
fn delete(shared: &Shared, req: &Req, id: &str) -> Response {
    if !valid_id(id) {
        return invalid_path_id(1);
    }
    if shared.lock().org.user_index(id).is_none() {
        // Unlike GET (204), deleting an unknown id is a request-level error.
        return invalid_path_id(1);
    }
    if let Some(FaultKind::RecordError { code, message }) =
        req.take_fault(shared, |k| matches!(k, FaultKind::RecordError { .. }))
    {
        return write_results(vec![record_error(&code, id, &message)]);
    }
    let mut st = shared.lock();
    let org = &mut st.org;
    let Some(ix) = org.user_index(id) else {
        return invalid_path_id(1);
    };
    if ix == org.primary {
        return write_results(vec![record_error(
            "NOT_ALLOWED",
            id,
            "The primary user cannot be deleted",
        )]);
    }
    if org.users[ix].status == "deleted" {
        return write_results(vec![record_error(
            "NOT_ALLOWED",
            id,
            "the user has already been deleted",
        )]);
    }
    let primary = org.primary;
    let user = &mut org.users[ix];
    user.status = "deleted".to_string();
    user.is_online = false;
    user.modified_time = seed::now_string();
    user.modified_by = primary;
    write_results(vec![record_error("SUCCESS", id, "User deleted")])
}

#[cfg(test)]
mod unit {
    use super::auth::Scopes;
    use super::*;

    #[test]
    fn id_validation() {
        assert!(valid_id("4876543000000627001"));
        assert!(valid_id("1"));
        assert!(!valid_id(""));
        assert!(!valid_id("12a"));
        assert!(!valid_id("99999999999999999999"));
        // 19 digits but above i64::MAX.
        assert!(!valid_id("9999999999999999999"));
    }

    #[test]
    fn email_plausibility() {
        assert!(plausible_email("new.user@northwind.example"));
        for bad in ["", "x", "@a.b", "a@b", "a@.b", "a@b.", "a b@c.d", "a@b@c.d"] {
            assert!(!plausible_email(bad), "{bad}");
        }
    }

    #[test]
    fn scopes_gate_endpoints() {
        let read = auth::parse_scopes("ZohoBigin.users.READ");
        assert!(read.allows_any(USERS_READ));
        assert!(!read.allows_any(USERS_UPDATE));
        assert!(!read.allows_any(USERS_CREATE));
        let create = auth::parse_scopes("ZohoBigin.users.CREATE");
        assert!(create.allows_any(USERS_CREATE));
        assert!(!create.allows_any(USERS_READ));
        let settings = auth::parse_scopes("ZohoBigin.settings.ALL");
        assert!(settings.allows_any(ROLES_READ));
        assert!(settings.allows_any(PROFILES_READ));
        assert!(!settings.allows_any(ORG_READ));
        assert!(Scopes::All.allows_any(ORG_READ));
    }
}
