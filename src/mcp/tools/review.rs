//! `bigin_access_review`: the quarterly access review in one call, with its
//! evidence header, a stored snapshot, and what changed since an earlier one.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, schemars, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::admin::review::AccessReview;
use crate::admin::snapshots::Since;
use crate::mcp::catalog::Scope;
use crate::mcp::error::ToolError;
use crate::mcp::handler::BiginServer;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewArgs {
    /// "last" or a date (2026-09-30): add changes since that review.
    pub since: Option<String>,
    /// Skip the 2-minute cache.
    pub fresh: Option<bool>,
}

impl BiginServer {
    /// The Zoho scopes each tool here can need: the review reads users,
    /// roles, the held profiles' permissions and the organisation.
    pub(crate) const REVIEW_SCOPES: &[(&str, &[Scope])] = &[(
        "bigin_access_review",
        &[
            Scope::UsersRead,
            Scope::RolesRead,
            Scope::ProfilesRead,
            Scope::OrgRead,
        ],
    )];
}

#[tool_router(router = review_router, vis = "pub(crate)")]
impl BiginServer {
    /// Access review: counts per profile and role, every active admin (confirmed or not), findings, evidence header; stored as a snapshot. Admin = Administrator profile or one that can change settings or manage users/roles/profiles. since adds changes.
    #[tool(annotations(
        title = "Access review",
        read_only_hint = true,
        destructive_hint = false
    ))]
    async fn bigin_access_review(
        &self,
        Parameters(a): Parameters<ReviewArgs>,
    ) -> Result<Json<AccessReview>, ToolError> {
        let since = match a.since.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(
                s.parse::<Since>()
                    .map_err(|e| ToolError(format!("{e}. Nothing was sent to Zoho.")))?,
            ),
            None => None,
        };
        Ok(Json(
            self.access_review(since, a.fresh.unwrap_or(false)).await?,
        ))
    }
}
