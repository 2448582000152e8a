//! Small helpers shared by the sandbox's handlers: form/query decoding (via
//! `url::form_urlencoded`), secret redaction for the request log, PKCE's
//! S256 check (via `sha2` and `base64`), random hex for tokens, and the JSON
//! response shapes shared by the API and accounts handlers.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use url::form_urlencoded;

/// Form/query fields whose values never reach the request log.
const SECRET_FIELDS: [&str; 6] = [
    "client_secret",
    "refresh_token",
    "code",
    "code_verifier",
    "token",
    "access_token",
];

pub const REDACTED: &str = "[redacted]";

/// Parses `a=1&b=2` (`application/x-www-form-urlencoded`: `%XX` escapes and
/// `+` as space) into decoded pairs, keeping order and duplicates.
pub fn parse_urlencoded(s: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

/// Decodes one urlencoded component (a key or a value).
fn decode_component(s: &str) -> String {
    // A lone component parses as a key with an empty value.
    form_urlencoded::parse(s.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

/// Appends urlencoded `pairs` to `uri`'s query (starting one if it has none).
pub fn append_query<'a>(uri: &str, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut target = uri.to_string();
    target.push(if uri.contains('?') { '&' } else { '?' });
    let start = target.len();
    form_urlencoded::Serializer::for_suffix(target, start)
        .extend_pairs(pairs)
        .finish()
}

/// Replaces the values of secret fields (see [`SECRET_FIELDS`]) in a
/// urlencoded string with `[redacted]`, leaving everything else byte-for-byte.
pub fn redact_urlencoded(s: &str) -> String {
    s.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if SECRET_FIELDS.contains(&decode_component(k).as_str()) => {
                format!("{k}={REDACTED}")
            }
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Replaces secret fields anywhere in a JSON document (a client could send
/// token-endpoint params as JSON; they still must not be logged).
pub fn redact_json(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if SECRET_FIELDS.contains(&k.as_str()) {
                    *val = Value::String(REDACTED.into());
                } else {
                    redact_json(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// `n` random lowercase hex digits.
pub fn random_hex(rng: &mut fastrand::Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(rng.u32(0..16), 16).unwrap_or('0'))
        .collect()
}

/// PKCE's S256 transform (RFC 7636 §4.2): base64url, without padding, of
/// the SHA-256 of the verifier.
pub fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A JSON response with Zoho's content type.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json;charset=UTF-8"),
        )],
        body.to_string(),
    )
        .into_response()
}

/// The request-level error body every Bigin endpoint uses.
pub fn api_error(status: StatusCode, code: &str, message: &str, details: Value) -> Response {
    json_response(
        status,
        &json!({"code": code, "details": details, "message": message, "status": "error"}),
    )
}

/// HTTP 204 with an empty body: Bigin's answer for "nothing found".
pub fn no_content() -> Response {
    (StatusCode::NO_CONTENT, Body::empty()).into_response()
}

/// A small HTML page, for accounts-server errors shown to a browser.
pub fn html_page(status: StatusCode, title: &str, message: &str) -> Response {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let body = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1><p>{m}</p></body></html>",
        t = escape(title),
        m = escape(message)
    );
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html;charset=UTF-8"),
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc7636_example() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn urlencoded_parsing_and_redaction() {
        assert_eq!(
            parse_urlencoded("a=1&b=%C3%A9&c&d=x+y%2"),
            vec![
                ("a".to_string(), "1".to_string()),
                ("b".to_string(), "é".to_string()),
                ("c".to_string(), String::new()),
                ("d".to_string(), "x y%2".to_string()),
            ]
        );
        assert_eq!(
            redact_urlencoded("grant_type=refresh_token&refresh_token=abc&client_secret=s&x=1"),
            "grant_type=refresh_token&refresh_token=[redacted]&client_secret=[redacted]&x=1"
        );
        assert_eq!(
            append_query("http://x/cb", [("a", "1 2"), ("s", "http://y/")]),
            "http://x/cb?a=1+2&s=http%3A%2F%2Fy%2F"
        );
        assert_eq!(
            append_query("http://x/cb?k=v", [("a", "b")]),
            "http://x/cb?k=v&a=b"
        );
        // An encoded key is still recognised.
        assert_eq!(
            redact_urlencoded("client%5Fsecret=s"),
            "client%5Fsecret=[redacted]"
        );
    }
}
