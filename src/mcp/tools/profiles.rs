//! `bigin_list_profiles` and `bigin_get_profile`: permission sets, summarised
//! for auditors (Zoho's raw permission dump can be hundreds of KB).

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, schemars, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::admin::permissions::{PermissionSummary, admin_reasons, summarize};
use crate::mcp::catalog::Scope;
use crate::mcp::error::ToolError;
use crate::mcp::handler::BiginServer;
use crate::zoho::{Profile, ZohoId};

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
pub struct ProfileOut {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_level: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<PermissionSummary>,
}

impl ProfileOut {
    /// With `judged`, says whether the profile is administrator-level.
    pub fn new(p: &Profile, permissions: Option<PermissionSummary>, judged: bool) -> ProfileOut {
        let admin_level = judged.then(|| !admin_reasons(&p.name, permissions.as_ref()).is_empty());
        ProfileOut {
            id: p.id.clone(),
            name: p.name.clone(),
            description: p.description.clone().filter(|d| !d.is_empty()),
            custom: p.custom,
            admin_level,
            permissions,
        }
    }
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
        let (profiles, _) = self.session().profiles(false).await?;
        let out: Vec<ProfileOut> = if a.include_permissions.unwrap_or(false) {
            let (facts, _) = self.session().profile_facts(profiles.iter(), false).await;
            profiles
                .iter()
                .zip(facts)
                .map(|(p, f)| match f {
                    Ok(f) => Ok(ProfileOut::new(p, f.summary, true)),
                    Err(e) => Err(e.into()),
                })
                .collect::<Result<_, ToolError>>()?
        } else {
            profiles
                .iter()
                .map(|p| ProfileOut::new(p, None, false))
                .collect()
        };
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
        let (detail, _) = self.session().profile_detail(&id, false).await?;
        match detail.as_ref() {
            Some(p) => Ok(Json(ProfileRecord {
                profile: ProfileOut::new(p, summarize(p), true),
            })),
            None => Err(ToolError(format!(
                "no profile has id {id}; bigin_list_profiles lists them."
            ))),
        }
    }
}
