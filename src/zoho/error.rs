//! [`ZohoError`]: every way a call to Zoho can fail, each with a message that
//! names Zoho's code and tells the caller (often an agent) what to do next.
//!
//! Messages never contain tokens, the client secret or an Authorization
//! header: only Zoho's codes, Zoho's messages and our advice.

use std::time::Duration;

use serde_json::Value;

/// A failed call to Zoho (API or accounts server).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZohoError {
    /// No credentials are configured (or they cannot be read).
    #[error("{0}")]
    NotLoggedIn(String),

    /// The accounts server refused the credentials or the code (an
    /// `{"error": ...}` body, which Zoho sends with HTTP 200).
    #[error("Zoho's accounts server refused the request ({code}): {advice}")]
    Auth { code: String, advice: String },

    /// A request-level API error: `{"code","details","message","status":"error"}`.
    #[error("Zoho answered HTTP {status} {code}: {message}. {advice}")]
    Api {
        status: u16,
        code: String,
        message: String,
        details: Value,
        advice: String,
    },

    /// A refused write record: `"status":"error"` in the `users`/`data` list,
    /// inside a 4xx (as Zoho documents) or a 2xx answer.
    #[error("{}", record_message(code, message, details))]
    Record {
        code: String,
        message: String,
        details: Value,
    },

    /// Still rate-limited after the bounded retries.
    #[error("{}", rate_limited_message(*retry_after))]
    RateLimited { retry_after: Option<Duration> },

    /// Network failure, timeout or 5xx that retries did not cure.
    #[error("{message}")]
    Unavailable { message: String },

    /// An answer larger than this client reads (`ClientOptions::max_body_bytes`).
    #[error(
        "Zoho's answer to {what} is larger than {} MiB, which no Bigin call should need; it was not read. Narrow the request, or retry later",
        limit >> 20
    )]
    TooLarge { what: String, limit: usize },

    /// Zoho answered something this client does not understand.
    #[error("unexpected answer from Zoho for {what}: {message}")]
    Decode { what: String, message: String },
}

/// "Zoho refused the change (CODE): message (field `x`). Advice. Nothing was
/// changed." Unknown codes keep Zoho's code and message, without advice.
fn record_message(code: &str, message: &str, details: &Value) -> String {
    let field = details
        .get("api_name")
        .and_then(Value::as_str)
        .map(|f| format!(" (field `{f}`)"))
        .unwrap_or_default();
    let message = message.trim_end_matches('.');
    let advice = match code {
        "DUPLICATE_DATA" => {
            "A user with this email already exists; look it up with bigin_list_users. "
        }
        "ID_ALREADY_DEACTIVATED" => "The user is already inactive. ",
        "ID_ALREADY_DELETED" => "The user is already deleted. ",
        "INVALID_REQUEST" => "Zoho does not allow this for this user (e.g. the primary contact). ",
        "INVALID_DATA" => "Check that value; list the records to find valid ids. ",
        "MANDATORY_NOT_FOUND" => "Zoho needs that field; pass it. ",
        "LICENSE_LIMIT_EXCEEDED" => {
            "Every user licence of this edition is in use: free one (deactivate a user) or buy more. "
        }
        "NOT_ALLOWED" => "Zoho does not allow this change for this record. ",
        _ => "",
    };
    format!("Zoho refused the change ({code}): {message}{field}. {advice}Nothing was changed.")
}

fn rate_limited_message(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(
            "Zoho is rate-limiting this organisation (TOO_MANY_REQUESTS). Retry after {} s; fewer or narrower calls help (API credits are per 24 h).",
            d.as_secs().max(1)
        ),
        None => "Zoho is rate-limiting this organisation (TOO_MANY_REQUESTS) and the retries did not get through. Retry in a minute; fewer or narrower calls help (API credits are per 24 h).".to_string(),
    }
}

impl ZohoError {
    /// Builds an API error from Zoho's code, with the next step an agent or
    /// admin should take.
    pub fn api(status: u16, code: &str, message: &str, details: Value) -> ZohoError {
        let advice = match code {
            "INVALID_TOKEN" | "INVALID_OAUTHTOKEN" | "AUTHENTICATION_FAILURE" => {
                "The access token was refused even after a refresh: run `bigin-mcp login` again (or check the API domain / data centre)."
            }
            "OAUTH_SCOPE_MISMATCH" => {
                "The login lacks the OAuth scope for this call: run `bigin-mcp login` again to grant the Bigin scopes."
            }
            "NO_PERMISSION" => {
                "The Zoho user behind this login lacks the permission (or the Bigin edition lacks the feature): use an administrator's login."
            }
            "INVALID_URL_PATTERN" => {
                "The URL does not exist at this API domain: check the data centre / --api-domain."
            }
            "INVALID_DATA" => {
                "Check the ids and values passed; list the records to find valid ones."
            }
            "NOT_ALLOWED" => "Zoho does not allow this change for this record.",
            "INTERNAL_ERROR" => "Zoho had an internal error; retry later.",
            "LICENSE_LIMIT_EXCEEDED" | "FEATURE_NOT_SUPPORTED" => {
                "The organisation's Bigin edition does not allow this."
            }
            _ => "See Zoho's message above.",
        };
        ZohoError::Api {
            status,
            code: code.to_string(),
            message: message.to_string(),
            details,
            advice: advice.to_string(),
        }
    }

    /// Builds an accounts-server error (`invalid_client`, `invalid_code`, ...).
    pub fn auth(code: &str) -> ZohoError {
        let advice = match code {
            "invalid_client" => {
                "the client id is unknown at this accounts server (wrong client id, or the wrong data centre); check the client and run `bigin-mcp login --dc <dc>`"
            }
            "invalid_client_secret" => "the client secret is wrong; run `bigin-mcp login` again",
            "invalid_code" => {
                "the refresh token or grant code is invalid, expired, revoked or from another data centre; run `bigin-mcp login` again"
            }
            "invalid_redirect_uri" => {
                "the redirect URI does not match the one registered for the client in the Zoho API console"
            }
            "access_denied" => {
                "Zoho is throttling token requests for this client (too many in a short time). Wait about 10 minutes before the next call; do not log in again meanwhile, as each attempt spends another token request and extends the lock-out"
            }
            _ => "run `bigin-mcp login` again",
        };
        ZohoError::Auth {
            code: code.to_string(),
            advice: advice.to_string(),
        }
    }

    /// An `{"error": code, "error_description": ...}` answer of the token
    /// endpoint. Zoho's throttle says `Access Denied` (or `access_denied`,
    /// with HTTP 200 or 400) and "too many requests"; every spelling is read
    /// as the one `access_denied`.
    pub fn token_endpoint(code: &str, description: Option<&str>) -> ZohoError {
        let normalised = code.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        let too_many =
            description.is_some_and(|d| d.to_ascii_lowercase().contains("too many requests"));
        if normalised == "access_denied" || too_many {
            return ZohoError::auth("access_denied");
        }
        ZohoError::auth(code)
    }

    /// Zoho's token-endpoint throttle (see [`ZohoError::token_endpoint`]).
    pub fn is_token_throttle(&self) -> bool {
        matches!(self, ZohoError::Auth { code, .. } if code == "access_denied")
    }

    /// Whether Zoho refused the login itself rather than the call: a
    /// refresh token revoked or expired, the client refused, the access
    /// token refused even after a refresh, or a scope missing. Only a new
    /// consent cures it.
    pub fn is_login_refused(&self) -> bool {
        match self {
            ZohoError::Auth { code, .. } => matches!(
                code.as_str(),
                "invalid_code" | "invalid_client" | "invalid_client_secret"
            ),
            ZohoError::Api { code, .. } => matches!(
                code.as_str(),
                "INVALID_TOKEN"
                    | "INVALID_OAUTHTOKEN"
                    | "AUTHENTICATION_FAILURE"
                    | "OAUTH_SCOPE_MISMATCH"
            ),
            _ => false,
        }
    }

    /// Zoho's error code, when there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ZohoError::Api { code, .. }
            | ZohoError::Record { code, .. }
            | ZohoError::Auth { code, .. } => Some(code),
            ZohoError::RateLimited { .. } => Some("TOO_MANY_REQUESTS"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_code_and_a_next_step() {
        let e = ZohoError::api(
            401,
            "OAUTH_SCOPE_MISMATCH",
            "invalid oauth scope to access this URL",
            Value::Null,
        );
        let m = e.to_string();
        assert!(
            m.contains("OAUTH_SCOPE_MISMATCH") && m.contains("bigin-mcp login"),
            "{m}"
        );
        let m = ZohoError::auth("invalid_client").to_string();
        assert!(
            m.contains("invalid_client") && m.contains("data centre"),
            "{m}"
        );
        let m = ZohoError::RateLimited {
            retry_after: Some(Duration::from_secs(42)),
        }
        .to_string();
        assert!(m.contains("Retry after 42 s"), "{m}");
    }

    #[test]
    fn refused_records_name_code_message_and_field_even_for_unknown_codes() {
        let e = ZohoError::Record {
            code: "INVALID_DATA".into(),
            message: "invalid data".into(),
            details: serde_json::json!({"api_name": "profile"}),
        };
        let m = e.to_string();
        assert!(
            m.contains("INVALID_DATA") && m.contains("field `profile`"),
            "{m}"
        );
        let m = ZohoError::Record {
            code: "SOMETHING_NEW".into(),
            message: "a reason nobody listed".into(),
            details: Value::Null,
        }
        .to_string();
        assert!(
            m.contains("SOMETHING_NEW")
                && m.contains("a reason nobody listed")
                && m.ends_with("Nothing was changed."),
            "{m}"
        );
    }
}
