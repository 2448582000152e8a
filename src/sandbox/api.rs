//! The imitation Bigin REST API v2 under `/bigin/v2`: users (list, get,
//! add, update, delete), roles, profiles and org, with Zoho's auth, scope,
//! paging and error behaviour (§4–5 of the shared API notes). Writes mutate
//! the in-memory org so later reads see them.
//!
//! The reads are here; the writes (and how they refuse) are in [`writes`].

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::auth;
use super::seed::{self, Org};
use super::util::{api_error, json_response, no_content, parse_urlencoded};
use super::{Req, Shared};
mod writes;

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
    refusal(&shared, &req.headers, USERS_CREATE).unwrap_or_else(|| writes::add(&shared, &req))
}

/// `PUT /users` (bulk).
pub(super) async fn put_users(State(shared): Sh, req: Req) -> Response {
    refusal(&shared, &req.headers, USERS_UPDATE).unwrap_or_else(|| writes::put(&shared, &req, None))
}

/// `GET /users/{id}`.
pub(super) async fn get_user(State(shared): Sh, id: PathId, req: Req) -> Response {
    let id = path_id(id);
    refusal(&shared, &req.headers, USERS_READ).unwrap_or_else(|| get_one(&shared, &id))
}

/// `PUT /users/{id}`.
pub(super) async fn put_user(State(shared): Sh, id: PathId, req: Req) -> Response {
    let id = path_id(id);
    refusal(&shared, &req.headers, USERS_UPDATE)
        .unwrap_or_else(|| writes::put(&shared, &req, Some(&id)))
}

/// `DELETE /users/{id}`.
pub(super) async fn delete_user(State(shared): Sh, id: PathId, req: Req) -> Response {
    let id = path_id(id);
    refusal(&shared, &req.headers, USERS_DELETE)
        .unwrap_or_else(|| writes::delete(&shared, &req, &id))
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

/// `GET /settings/profiles`; each profile carries its `permissions` when
/// the variant plays a Zoho whose list does (as Bigin's v1 SDK reads it).
pub(super) async fn profiles(State(shared): Sh, headers: HeaderMap) -> Response {
    refusal(&shared, &headers, PROFILES_READ).unwrap_or_else(|| {
        let st = shared.lock();
        let with_permissions = st.variant.list_permissions;
        let profiles: Vec<Value> = (0..st.org.profiles.len())
            .map(|ix| {
                let mut p = st.org.profile_json(ix);
                if with_permissions {
                    let detail = st.org.profile_detail_json(ix);
                    p["permissions"] = detail["permissions_details"].clone();
                }
                p
            })
            .collect();
        json_response(StatusCode::OK, &json!({ "profiles": profiles }))
    })
}

/// `GET /settings/profiles/{id}`, with `permissions_details`; documented for
/// CRM only, so a variant answers it as an endpoint Bigin lacks would.
pub(super) async fn profile(State(shared): Sh, id: PathId, headers: HeaderMap) -> Response {
    let id = path_id(id);
    refusal(&shared, &headers, PROFILES_READ).unwrap_or_else(|| {
        if !shared.lock().variant.single_profile {
            return api_error(
                StatusCode::NOT_FOUND,
                "INVALID_URL_PATTERN",
                "Please check if the URL trying to access is a correct one",
                json!({}),
            );
        }
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
