//! `bigin_list_profiles` and `bigin_get_profile`: permission sets, summarised
//! for auditors (Zoho's raw permission dump can be hundreds of KB).

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, schemars, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::admin::permissions::ProfileOut;
use crate::mcp::catalog::Scope;
use crate::mcp::error::ToolError;
use crate::mcp::handler::BiginServer;
use crate::zoho::ZohoId;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListProfilesArgs {
    /// One Zoho call per profile.
    pub include_permissions: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileIdArgs {
    /// Profile id (digits, as a string).
    pub profile_id: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProfileList {
    pub total: usize,
    pub profiles: Vec<ProfileOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProfileRecord {
    pub profile: ProfileOut,
}

impl BiginServer {
    /// The Zoho scopes each tool here can need.
    pub(crate) const PROFILES_SCOPES: &[(&str, &[Scope])] = &[
        ("bigin_list_profiles", &[Scope::ProfilesRead]),
        ("bigin_get_profile", &[Scope::ProfilesRead]),
    ];
}

#[tool_router(router = profiles_router, vis = "pub(crate)")]
impl BiginServer {
    /// List profiles; include_permissions adds each one's permission summary.
    #[tool(annotations(
        title = "List profiles",
        read_only_hint = true,
        destructive_hint = false
    ))]
    async fn bigin_list_profiles(
        &self,
        Parameters(a): Parameters<ListProfilesArgs>,
    ) -> Result<Json<ProfileList>, ToolError> {
        let with = a.include_permissions.unwrap_or(false);
        let out = self.session().profile_views(with).await?;
        Ok(Json(ProfileList {
            total: out.len(),
            profiles: out,
        }))
    }

    /// One profile's permission summary, and whether it is administrator-level.
    #[tool(annotations(title = "Get profile", read_only_hint = true, destructive_hint = false))]
    async fn bigin_get_profile(
        &self,
        Parameters(a): Parameters<ProfileIdArgs>,
    ) -> Result<Json<ProfileRecord>, ToolError> {
        let id = ZohoId::parse(&a.profile_id, "profile_id")?;
        let profile = self.session().profile_view(&id).await?;
        Ok(Json(ProfileRecord { profile }))
    }
}
