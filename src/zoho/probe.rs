//! [`BiginClient::probe`]: one read sent exactly once, answered with its
//! status, the rate-limit and credit headers it carried, and its body as
//! JSON. For `bigin-mcp doctor`, which must see what Zoho said (a 404, a
//! 204, a header) rather than what the client makes of it. No retries, no
//! refresh on 401: a probe reports, it does not cope.

use reqwest::Method;
use reqwest::header::AUTHORIZATION;
use secrecy::ExposeSecret;
use serde_json::Value;

use super::ZohoError;
use super::client::{BiginClient, count_one_request};
use super::http::read_capped;

/// Headers a probe reports when present (names only; values of the credit
/// headers are counts, kept too).
const WATCHED_HEADERS: [&str; 5] = [
    "retry-after",
    "x-api-credits-remaining",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
];

/// What Zoho answered to one probe.
#[derive(Debug, Clone)]
pub struct ProbeAnswer {
    pub status: u16,
    /// Watched headers seen, lower-case name and value.
    pub headers: Vec<(String, String)>,
    /// The body as JSON; `None` when empty or not JSON.
    pub body: Option<Value>,
}

impl BiginClient {
    /// `GET {api_domain}/bigin/v2{path}` once (see the module docs).
    pub async fn probe(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<ProbeAnswer, ZohoError> {
        let token = self.tokens().token().await?;
        let base = self.base_for(&token)?;
        count_one_request();
        self.remember_api_domain(&base);
        let mut req = self
            .http()
            .request(Method::GET, format!("{base}/bigin/v2{path}"))
            .header(
                AUTHORIZATION,
                format!("Zoho-oauthtoken {}", token.secret.expose_secret()),
            )
            .timeout(self.options().timeout);
        if !query.is_empty() {
            req = req.query(query);
        }
        let unavailable = |e: reqwest::Error| ZohoError::Unavailable {
            message: format!(
                "Zoho did not answer GET {path} ({})",
                super::http::without_url(&e)
            ),
        };
        let resp = req.send().await.map_err(unavailable)?;
        let status = resp.status().as_u16();
        let headers = WATCHED_HEADERS
            .iter()
            .filter_map(|h| {
                let v = resp.headers().get(*h)?.to_str().ok()?;
                Some((h.to_string(), v.chars().take(40).collect()))
            })
            .collect();
        let limit = self.options().max_body_bytes;
        let bytes = read_capped(resp, limit)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| ZohoError::TooLarge {
                what: format!("GET {path}"),
                limit,
            })?;
        Ok(ProbeAnswer {
            status,
            headers,
            body: serde_json::from_slice(&bytes).ok(),
        })
    }
}
