//! `bigin_get_organization`: the organisation record.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, schemars, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::mcp::catalog::Scope;
use crate::mcp::error::ToolError;
use crate::mcp::handler::BiginServer;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyArgs {}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OrgRecord {
    /// Zoho's organisation record as it sent it.
    pub org: Map<String, Value>,
}

impl BiginServer {
    /// The Zoho scopes each tool here can need.
    pub(crate) const ORG_SCOPES: &[(&str, &[Scope])] =
        &[("bigin_get_organization", &[Scope::OrgRead])];
}

#[tool_router(router = org_router, vis = "pub(crate)")]
impl BiginServer {
    /// The organisation record: company, primary contact, currency, edition, licences.
    #[tool(annotations(
        title = "Get organization",
        read_only_hint = true,
        destructive_hint = false
    ))]
    async fn bigin_get_organization(
        &self,
        Parameters(_): Parameters<EmptyArgs>,
    ) -> Result<Json<OrgRecord>, ToolError> {
        // Asked for by name: always Zoho's current record (and it refreshes
        // the cached one).
        let (org, _) = self.session().org(true).await?;
        let org = match serde_json::to_value(&*org) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        Ok(Json(OrgRecord { org }))
    }
}
