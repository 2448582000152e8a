//! The sandbox's user writes: `PUT /users` (bulk and one), `POST /users` and
//! `DELETE /users/{id}`, past the token and scope gate in the parent module.
//!
//! Writes answer with one result element per record. A refused record is an
//! element with `"status":"error"` and CRM's code (`INVALID_REQUEST` for the
//! primary user, `ID_ALREADY_DEACTIVATED`, `ID_ALREADY_DELETED`,
//! `DUPLICATE_DATA`, `INVALID_DATA` with `details.api_name`, ...), answered
//! with HTTP 400 as CRM's examples show, or inside HTTP 200 when the
//! [`super::super::ZohoVariant`] says so (and always when a bulk PUT has a
//! mix of results). Updating a deleted user is a request-level 400
//! `NOT_ALLOWED`. A POST that adds its user answers 201.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::super::seed::{self, Org};
use super::super::util::{api_error, json_response};
use super::super::{FaultKind, References, Refusals, Req, Shared};
use super::{INVALID_ID_MESSAGE, invalid_param, invalid_path_id, valid_id};

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

/// A write answered with one element per record: HTTP 400 when every record
/// was refused and the variant places refusals there, else HTTP 200.
fn write_results(refusals: Refusals, results: Vec<Value>) -> Response {
    let all_refused = results
        .iter()
        .all(|r| r.get("status").and_then(Value::as_str) == Some("error"));
    let status = if all_refused && refusals == Refusals::In400 {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    json_response(status, &json!({ "users": results }))
}

/// The refusal placement the sandbox is playing.
fn refusals(shared: &Shared) -> Refusals {
    shared.lock().variant.refusals
}

/// A refusal with empty `details`, as CRM's primary-user example has.
fn refusal(code: &str, message: &str) -> Value {
    json!({"code": code, "details": {}, "message": message, "status": "error"})
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
pub(super) fn put(shared: &Shared, req: &Req, path_id: Option<&str>) -> Response {
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
        return write_results(refusals(shared), results);
    }

    let mut st = shared.lock();
    // A deleted user cannot be updated: Zoho refuses the whole request.
    let deleted = ids.iter().flatten().find(|id| {
        st.org
            .user_index(id)
            .is_some_and(|ix| st.org.users[ix].status == "deleted")
    });
    if let Some(id) = deleted {
        let details = match path_id {
            Some(_) => json!({"resource_path_index": 1}),
            None => json!({"api_name": "id", "id": id}),
        };
        return api_error(
            StatusCode::BAD_REQUEST,
            "NOT_ALLOWED",
            "the user has been deleted and cannot be updated",
            details,
        );
    }
    let variant = st.variant;
    let results = records
        .iter()
        .zip(&ids)
        .map(|(record, id)| update_user(&mut st.org, record, id.as_deref(), variant.references))
        .collect();
    write_results(variant.refusals, results)
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
pub(super) fn add(shared: &Shared, req: &Req) -> Response {
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
        return write_results(refusals(shared), vec![refusal(&code, &message)]);
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
        Err(error) => write_results(st.variant.refusals, vec![error]),
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
        return Err(field_error(
            "DUPLICATE_DATA",
            "email",
            "same email id is already present",
        ));
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
fn update_user(
    org: &mut Org,
    record: &Map<String, Value>,
    id: Option<&str>,
    references: References,
) -> Value {
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
    let status = match record.get("status") {
        None => None,
        Some(Value::String(s)) if s == "active" || s == "inactive" => Some(s.clone()),
        Some(_) => return invalid_field("status"),
    };
    if ix == org.primary && status.as_deref() == Some("inactive") {
        return refusal("INVALID_REQUEST", "Primary Contact cannot be deactivated");
    }
    // CRM v8's shape: a bare id string is dropped without a word, and the
    // answer still says SUCCESS. Only reading the user back shows it.
    let ignored = |v: Option<&Value>| {
        references == References::ObjectsOnly && matches!(v, Some(Value::String(_)))
    };
    let role = match record.get("role") {
        _ if ignored(record.get("role")) => None,
        None => None,
        Some(v) => match reference_id(v).and_then(|r| org.role_index(r)) {
            Some(r) => Some(r),
            None => return invalid_field("role"),
        },
    };
    let profile = match record.get("profile") {
        _ if ignored(record.get("profile")) => None,
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
    if user.status == "inactive" && status.as_deref() == Some("inactive") {
        return record_error(
            "ID_ALREADY_DEACTIVATED",
            id,
            "the user is already deactivated",
        );
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
pub(super) fn delete(shared: &Shared, req: &Req, id: &str) -> Response {
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
        return write_results(refusals(shared), vec![record_error(&code, id, &message)]);
    }
    let mut st = shared.lock();
    let placement = st.variant.refusals;
    let org = &mut st.org;
    let Some(ix) = org.user_index(id) else {
        return invalid_path_id(1);
    };
    if ix == org.primary {
        return write_results(
            placement,
            vec![refusal(
                "INVALID_REQUEST",
                "Primary Contact cannot be deleted",
            )],
        );
    }
    if org.users[ix].status == "deleted" {
        return write_results(
            placement,
            vec![record_error(
                "ID_ALREADY_DELETED",
                id,
                "the user is already deleted",
            )],
        );
    }
    let primary = org.primary;
    let user = &mut org.users[ix];
    user.status = "deleted".to_string();
    user.is_online = false;
    user.modified_time = seed::now_string();
    user.modified_by = primary;
    write_results(placement, vec![record_error("SUCCESS", id, "User deleted")])
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn email_plausibility() {
        assert!(plausible_email("new.user@northwind.example"));
        for bad in ["", "x", "@a.b", "a@b", "a@.b", "a@b.", "a b@c.d", "a@b@c.d"] {
            assert!(!plausible_email(bad), "{bad}");
        }
    }
}
