//! [`Elicit`]: the write guard's [`Confirm`], asking the person at the MCP
//! client by elicitation, and [`ElicitationPolicy`]: when to ask at all.
//!
//! rmcp sends `elicitation/create` to clients that declared the
//! capability. That server-to-client request exists up to protocol
//! 2025-11-25; the server offers no later revision (see `handler.rs`), so
//! it is what every session negotiates. Silence, decline, cancel or an
//! unticked box all mean no.
//!
//! Some clients declare the capability and never show the form (see
//! [`SILENT_ELICITORS`]); under the default policy they are not asked, and
//! the write rests on `confirm_email` and the client's own tool approval.
//! The tool call's cancellation (`notifications/cancelled`) reaches the
//! guard through [`Confirm::is_cancelled`].

use std::str::FromStr;
use std::time::Duration;

use rmcp::RoleServer;
use rmcp::model::{ElicitRequestParams, ElicitationAction, ElicitationSchema};
use rmcp::service::RequestContext;

use crate::admin::{Answer, Confirm};

/// When a write asks the person by elicitation (`--elicitation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ElicitationPolicy {
    /// Ask clients that declare elicitation, except [`SILENT_ELICITORS`].
    #[default]
    Auto,
    /// Ask every client that declares elicitation.
    Always,
    /// Never ask (`--no-elicitation`): confirm_email alone decides.
    Never,
}

impl FromStr for ElicitationPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(ElicitationPolicy::Auto),
            "always" => Ok(ElicitationPolicy::Always),
            "never" => Ok(ElicitationPolicy::Never),
            other => Err(format!(
                "'{other}' is not an elicitation policy; use auto, always or never"
            )),
        }
    }
}

/// Clients (`clientInfo.name`; a trailing `*` is a prefix) that declare
/// elicitation but do not render the form, so a question would hang the
/// call until the client gives up. Sources: Claude Desktop's embedded
/// client in chat and Cowork, `claude-ai`, declares `elicitation: {}` and
/// cancels the call after about 60 s (anthropics/claude-code 88901;
/// heznpc/AirMCP PR 46 skips it too); Desktop's Code tab,
/// `local-agent-mode-*` (anthropics/claude-code 96043). See
/// `shared/mcp-clients.md`, "Claude Desktop in practice".
pub const SILENT_ELICITORS: &[&str] = &["claude-ai", "local-agent-mode-*"];

/// Whether the client called `name` is one of [`SILENT_ELICITORS`].
pub fn is_silent_elicitor(name: &str) -> bool {
    SILENT_ELICITORS.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == *p,
    })
}

impl ElicitationPolicy {
    /// Whether a client named `client` that declares elicitation is asked.
    pub fn asks(self, client: &str) -> bool {
        match self {
            ElicitationPolicy::Always => true,
            ElicitationPolicy::Never => false,
            ElicitationPolicy::Auto => !is_silent_elicitor(client),
        }
    }
}

/// Asks through one tool call's client, when it can be asked and the
/// policy allows it.
pub(crate) struct Elicit<'a> {
    pub ctx: &'a RequestContext<RoleServer>,
    pub policy: ElicitationPolicy,
}

impl Confirm for Elicit<'_> {
    fn is_cancelled(&self) -> bool {
        self.ctx.ct.is_cancelled()
    }

    async fn cancelled(&self) {
        self.ctx.ct.cancelled().await
    }

    async fn ask(&self, summary: &str, timeout: Duration) -> Answer {
        let can_ask = self
            .ctx
            .client_capabilities()
            .is_some_and(|c| c.elicitation.is_some());
        let client = self
            .ctx
            .peer
            .peer_info()
            .map(|i| i.client_info.name.clone())
            .unwrap_or_default();
        if !can_ask || !self.policy.asks(&client) {
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
                return Answer::No(format!(
                    "did not answer within {} s, or the client could not show the confirmation dialog (it may never have been shown; a client that does not render it can be served with --elicitation never, relying on confirm_email)",
                    timeout.as_secs()
                ));
            }
        };
        Answer::No(said.to_string())
    }
}
