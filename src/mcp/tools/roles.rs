//! `bigin_list_roles`: the reporting hierarchy.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, schemars, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::admin::directory::resolve;
use crate::mcp::catalog::Scope;
use crate::mcp::error::ToolError;
use crate::mcp::handler::BiginServer;
use crate::zoho::{Ref, Role};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRolesArgs {
    /// Role name or id.
    pub reporting_to: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RoleOut {
    pub id: String,
    pub name: String,
    pub reporting_to: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_with_peers: Option<bool>,
}

impl From<&Role> for RoleOut {
    fn from(r: &Role) -> Self {
        RoleOut {
            id: r.id.clone(),
            name: r.name.clone(),
            reporting_to: r.reporting_to.clone(),
            description: r.description.clone().filter(|d| !d.is_empty()),
            share_with_peers: r.share_with_peers,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RoleList {
    pub total: usize,
    pub roles: Vec<RoleOut>,
}

impl BiginServer {
    /// The Zoho scopes each tool here can need.
    pub(crate) const ROLES_SCOPES: &[(&str, &[Scope])] =
        &[("bigin_list_roles", &[Scope::RolesRead])];
}

#[tool_router(router = roles_router, vis = "pub(crate)")]
impl BiginServer {
    /// List roles (the hierarchy); reporting_to: only the roles directly under it.
    #[tool(annotations(title = "List roles", read_only_hint = true, destructive_hint = false))]
    async fn bigin_list_roles(
        &self,
        Parameters(a): Parameters<ListRolesArgs>,
    ) -> Result<Json<RoleList>, ToolError> {
        let (roles, _) = self.session().roles(false).await?;
        let selected: Vec<RoleOut> = match &a.reporting_to {
            Some(parent) => {
                let parent_id = &resolve(&roles, parent, "role", "bigin_list_roles")?.id;
                roles
                    .iter()
                    .filter(|r| r.reporting_to.as_ref().is_some_and(|p| &p.id == parent_id))
                    .map(RoleOut::from)
                    .collect()
            }
            None => roles.iter().map(RoleOut::from).collect(),
        };
        Ok(Json(RoleList {
            total: selected.len(),
            roles: selected,
        }))
    }
}
