//! How Zoho's answers are read: request-level errors (in 4xx and inside
//! 2xx), per-record write results, the expected wrapper list, and the one
//! record asked for. "None" is only what Zoho said is none.

use serde_json::Value;

use super::calls::RecordOutcome;
use super::{ZohoError, ZohoId};

/// A user record that does not parse.
pub(crate) fn decode_users(e: &serde_json::Error) -> ZohoError {
    ZohoError::Decode {
        what: "the user list".into(),
        message: e.to_string(),
    }
}
/// Reads each record of a list into its typed form.
pub(super) fn typed<T: serde::de::DeserializeOwned>(
    list: Vec<Value>,
    what: &str,
) -> Result<Vec<T>, ZohoError> {
    list.into_iter()
        .map(|v| {
            serde_json::from_value(v).map_err(|e| ZohoError::Decode {
                what: what.into(),
                message: e.to_string(),
            })
        })
        .collect()
}

/// The error of a non-2xx answer: Zoho's top-level `{code, message,
/// details}`, or else (as CRM documents refused writes: HTTP 400 with the
/// reason in the record list) the first refused `users`/`data` element.
pub(super) fn api_error(status: u16, json: Option<Value>) -> ZohoError {
    match &json {
        Some(v) if v.get("code").is_some() => ZohoError::api(
            status,
            v.get("code").and_then(Value::as_str).unwrap_or("UNKNOWN"),
            v.get("message").and_then(Value::as_str).unwrap_or(""),
            v.get("details").cloned().unwrap_or(Value::Null),
        ),
        Some(v) if refused_element(v).is_some() => {
            refused_element(v).map_or_else(|| http_error(status), record_error)
        }
        _ => http_error(status),
    }
}

fn http_error(status: u16) -> ZohoError {
    ZohoError::api(
        status,
        "HTTP_ERROR",
        &format!("HTTP {status} without a Zoho error body"),
        Value::Null,
    )
}

/// The first element of `users` or `data` that carries a `code` and is not
/// a success.
fn refused_element(body: &Value) -> Option<&Value> {
    ["users", "data"]
        .iter()
        .filter_map(|k| body.get(k)?.as_array()?.first())
        .find(|e| {
            e.get("code").is_some_and(Value::is_string)
                && e.get("status").and_then(Value::as_str) != Some("success")
        })
}

/// A refused record as a [`ZohoError::Record`], Zoho's code and message kept.
pub(super) fn record_error(rec: &Value) -> ZohoError {
    let field = |k: &str| rec.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    ZohoError::Record {
        code: field("code"),
        message: field("message"),
        details: rec.get("details").cloned().unwrap_or(Value::Null),
    }
}

/// Zoho ids arrive as strings; tolerate numbers (kept exact by serde_json).
pub(crate) fn id_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A request-level error that Zoho sent inside a 2xx answer
/// (`{"code":"INTERNAL_ERROR","status":"error",...}` with HTTP 200).
pub(super) fn error_in_2xx(body: &Value, key: &str) -> Option<ZohoError> {
    let errorish = body.get("status").and_then(Value::as_str) == Some("error")
        || (body.get(key).is_none() && body.get("code").is_some());
    errorish.then(|| {
        ZohoError::api(
            200,
            body.get("code")
                .and_then(Value::as_str)
                .unwrap_or("UNKNOWN"),
            body.get("message").and_then(Value::as_str).unwrap_or(""),
            body.get("details").cloned().unwrap_or(Value::Null),
        )
    })
}

/// How an answer that lacks the expected list looks, for the error message.
fn shape_of(body: &Value, key: &str) -> String {
    match (body, body.get(key)) {
        (Value::Object(m), _) if m.is_empty() => "an empty object `{}`".into(),
        (_, Some(Value::Null)) => format!("`{key}` is null"),
        (_, Some(other)) => format!("`{key}` is {}", kind_of(other)),
        (Value::Object(m), None) => {
            let keys: Vec<&str> = m.keys().take(5).map(String::as_str).collect();
            format!("no `{key}` (keys: {})", keys.join(", "))
        }
        (other, None) => format!("{} instead of an object", kind_of(other)),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The `key` array of a 2xx answer. Anything else (an error inside HTTP 200,
/// `{}`, `null`) is an error: "none" is only what Zoho said is none.
pub(super) fn records(body: Value, key: &str, what: &str) -> Result<Vec<Value>, ZohoError> {
    if let Some(e) = error_in_2xx(&body, key) {
        return Err(e);
    }
    match body {
        Value::Object(mut m) if matches!(m.get(key), Some(Value::Array(_))) => {
            match m.remove(key) {
                Some(Value::Array(a)) => Ok(a),
                _ => unreachable!("checked above"),
            }
        }
        other => Err(ZohoError::Decode {
            what: what.into(),
            message: format!("expected a `{key}` array, got {}", shape_of(&other, key)),
        }),
    }
}

/// The record with id `id` in the `key` array. An empty array is not "none"
/// (Zoho says that with a 204), and a record with another id is never taken
/// for the one asked for.
pub(super) fn the_one(body: Value, key: &str, id: &ZohoId, what: &str) -> Result<Value, ZohoError> {
    let list = records(body, key, what)?;
    let n = list.len();
    list.into_iter()
        .find(|r| r.get("id").and_then(id_str).as_deref() == Some(id.as_str()))
        .ok_or_else(|| ZohoError::Decode {
            what: what.into(),
            message: if n == 0 {
                format!("an empty `{key}` list instead of the record or HTTP 204")
            } else {
                "Zoho returned a different record than the one asked for".into()
            },
        })
}

/// Writes answer 2xx with one element per record; an element may be an error.
pub(super) fn record_outcome(
    answer: Option<Value>,
    key: &str,
    id: &ZohoId,
    what: &str,
) -> Result<RecordOutcome, ZohoError> {
    let Some(body) = answer else {
        return Err(ZohoError::Decode {
            what: what.into(),
            message: "Zoho answered with no body; check the record before retrying".into(),
        });
    };
    let mut list = records(body, key, what)?;
    if list.len() != 1 {
        return Err(ZohoError::Decode {
            what: what.into(),
            message: format!(
                "expected one `{key}` result element, got {}; check the record before retrying",
                list.len()
            ),
        });
    }
    let rec = list.remove(0);
    let code = rec
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let message = rec
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    // A success for another record is not a success for this one.
    let other_id = rec
        .get("details")
        .and_then(|d| d.get("id"))
        .and_then(id_str)
        .filter(|x| x != id.as_str());
    match rec.get("status").and_then(Value::as_str) {
        Some("success") if other_id.is_none() => Ok(RecordOutcome { code, message }),
        Some("success") => Err(ZohoError::Decode {
            what: what.into(),
            message: format!(
                "Zoho reported success for record {} instead of {id}; check both records before retrying",
                other_id.unwrap_or_default()
            ),
        }),
        Some("error") => Err(record_error(&rec)),
        _ => Err(ZohoError::Decode {
            what: what.into(),
            message: "the result element has no status; check the record before retrying".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn per_record_errors_inside_http_200_are_errors() {
        let body = json!({"users":[{"code":"NOT_ALLOWED","details":{},"message":"The primary user cannot be deleted","status":"error"}]});
        let id = ZohoId::parse("1", "id").unwrap();
        let e = record_outcome(Some(body), "users", &id, "x").unwrap_err();
        assert_eq!(e.code(), Some("NOT_ALLOWED"));
        let ok = json!({"users":[{"code":"SUCCESS","details":{"id":"1"},"message":"User deleted","status":"success"}]});
        assert_eq!(
            record_outcome(Some(ok), "users", &id, "x").unwrap().code,
            "SUCCESS"
        );
        assert!(record_outcome(None, "users", &id, "x").is_err());
        let other = json!({"users":[{"code":"SUCCESS","details":{"id":"2"},"message":"User deleted","status":"success"}]});
        assert!(record_outcome(Some(other), "users", &id, "x").is_err());
        let in_200 =
            json!({"code":"INTERNAL_ERROR","details":{},"message":"boom","status":"error"});
        let e = record_outcome(Some(in_200), "users", &id, "x").unwrap_err();
        assert_eq!(e.code(), Some("INTERNAL_ERROR"));
    }

    #[test]
    fn refusals_inside_http_400_keep_zohos_code_message_and_field() {
        // CRM's documented example for the primary user.
        let body = json!({"users":[{"code":"INVALID_REQUEST","details":{},"message":"Primary Contact cannot be deactivated","status":"error"}]});
        let e = api_error(400, Some(body));
        assert!(matches!(e, ZohoError::Record { .. }), "{e:?}");
        assert_eq!(e.code(), Some("INVALID_REQUEST"));
        assert!(
            e.to_string()
                .contains("Primary Contact cannot be deactivated"),
            "{e}"
        );
        let body = json!({"data":[{"code":"INVALID_DATA","details":{"api_name":"profile"},"message":"invalid data","status":"error"}]});
        let e = api_error(400, Some(body));
        assert_eq!(e.code(), Some("INVALID_DATA"));
        assert!(e.to_string().contains("`profile`"), "{e}");
        // A top-level code still wins (updating a deleted user).
        let body = json!({"code":"NOT_ALLOWED","details":{"resource_path_index":1},"message":"m","status":"error"});
        assert!(matches!(
            api_error(400, Some(body)),
            ZohoError::Api { status: 400, .. }
        ));
        // Neither: the status alone.
        assert_eq!(
            api_error(400, Some(json!({"users":[]}))).code(),
            Some("HTTP_ERROR")
        );
        assert_eq!(api_error(400, None).code(), Some("HTTP_ERROR"));
    }

    #[test]
    fn ids_may_be_strings_or_exact_numbers() {
        let v: Value = serde_json::from_str(r#"{"id":4876543000000012345}"#).unwrap();
        assert_eq!(id_str(&v["id"]).unwrap(), "4876543000000012345");
    }
}
