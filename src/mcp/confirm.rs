//! [`Elicit`]: the write guard's [`Confirm`], asking the person at the MCP
//! client by elicitation.
//!
//! rmcp sends `elicitation/create` to clients that declared the
//! capability. That server-to-client request exists up to protocol
//! 2025-11-25; the server offers no later revision (see `handler.rs`), so
//! it is what every session negotiates. Silence, decline, cancel or an
//! unticked box all mean no.

use std::time::Duration;

use rmcp::RoleServer;
use rmcp::model::{ElicitRequestParams, ElicitationAction, ElicitationSchema};
use rmcp::service::RequestContext;

use crate::admin::{Answer, Confirm};

/// Asks through one tool call's client, when it can be asked and
/// elicitation is on (`--no-elicitation` turns it off).
pub(crate) struct Elicit<'a> {
    pub ctx: &'a RequestContext<RoleServer>,
    pub enabled: bool,
}

impl Confirm for Elicit<'_> {
    async fn ask(&self, summary: &str, timeout: Duration) -> Answer {
        let can_ask = self
            .ctx
            .client_capabilities()
            .is_some_and(|c| c.elicitation.is_some());
        if !self.enabled || !can_ask {
            return Answer::NotAsked;
        }
        let schema = match ElicitationSchema::builder()
            .required_bool_with("confirm", |b| {
                b.title("Yes, make this change").with_default(false)
            })
            .build()
        {
            Ok(s) => s,
            Err(e) => {
                return Answer::No(format!(
                    "could not be asked (cannot build the confirmation form: {e})"
                ));
            }
        };
        let asked = self
            .ctx
            .peer
            .create_elicitation_with_timeout(
                ElicitRequestParams::FormElicitationParams {
                    meta: None,
                    message: format!("Confirm this change in Zoho Bigin: {summary}"),
                    requested_schema: schema,
                },
                Some(timeout),
            )
            .await;
        let said = match asked {
            Ok(r) => match r.action {
                ElicitationAction::Accept
                    if r.content
                        .as_ref()
                        .and_then(|c| c.get("confirm"))
                        .and_then(serde_json::Value::as_bool)
                        == Some(true) =>
                {
                    return Answer::Yes;
                }
                ElicitationAction::Accept => "did not tick the confirmation",
                ElicitationAction::Decline => "declined",
                ElicitationAction::Cancel => "cancelled",
                _ => "did not confirm",
            },
            Err(e) => {
                tracing::warn!(error = %e, "confirmation request failed");
                "could not be asked (the confirmation request failed or timed out)"
            }
        };
        Answer::No(said.to_string())
    }
}
