//! [`BiginServer`]: the nine tools, their annotations, and the rules every
//! call passes through (expiry, write guards, audit).
//!
//! Each tool is a method; its doc comment is the description an agent reads,
//! so those say what the tool is for and how it fits with the others.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{Json, RoleServer, ServerHandler, schemars, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::audit::{AuditEntry, AuditLog};
use super::catalog::{FilterError, ToolFilter};
use super::error::ToolError;
use super::review::{
    self, AccessReview, ConciseUser, PermissionSummary, ProfileFacts, Ref, concise_user,
};
use super::schema;
use super::shutdown::Shutdown;
use crate::zoho::{BiginClient, UserType, ZohoError, ZohoId};

/// Most full user records one `bigin_list_users` call returns.
const MAX_FULL: u32 = 100;

/// How the tools fit together, sent in the initialize result.
pub const INSTRUCTIONS: &str = "Administer one Zoho Bigin organisation. \
Review first: bigin_access_review answers an access review in one call (users per profile and role, \
active admins, risky findings); bigin_list_users filters by profile, role, status or search. \
Verify before acting: bigin_get_user shows the exact record. \
Act last: bigin_set_user_status (deactivate/reactivate) and bigin_delete_user (irreversible, often disabled) \
need the user's email as confirm_email; use dry_run=true to preview. Prefer deactivation to deletion. \
Ids are strings of up to 19 digits.";

/// Start-up settings of a server.
pub struct ServerOptions {
    /// Which tools to expose.
    pub filter: ToolFilter,
    /// After this instant every call is refused.
    pub expires_at: Option<DateTime<Utc>>,
    /// Where write attempts are recorded.
    pub audit: AuditLog,
    /// Flipped on SIGTERM/SIGINT: writes not yet sent are refused.
    pub shutdown: Shutdown,
}

/// Tool calls running at once; the rest wait their turn. Zoho limits
/// concurrency per organisation anyway, and this bounds memory.
const MAX_CONCURRENT_CALLS: usize = 8;

struct Inner {
    client: BiginClient,
    audit: AuditLog,
    expires_at: Option<DateTime<Utc>>,
    shutdown: Shutdown,
    calls: tokio::sync::Semaphore,
    /// One lock per user being written, so two writes to the same user run
    /// one after the other and the second sees the first one's result.
    user_locks: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Held while a write to one user runs; the map entry goes with the last holder.
struct UserLock<'a> {
    locks: &'a std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    id: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for UserLock<'_> {
    fn drop(&mut self) {
        self.guard.take();
        let mut map = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(&self.id).is_some_and(|l| Arc::strong_count(l) == 1) {
            map.remove(&self.id);
        }
    }
}

/// The MCP server: clone-cheap, one per session.
#[derive(Clone)]
pub struct BiginServer {
    inner: Arc<Inner>,
    tool_router: ToolRouter<Self>,
    /// The listed definitions, with compacted schemas (see `schema`).
    listed: Arc<Vec<rmcp::model::Tool>>,
}

// ---- arguments ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Inactive,
    Deleted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NewStatus {
    Active,
    Inactive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Detail {
    #[default]
    Concise,
    Full,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListUsersArgs {
    /// Zoho user type. Default AllUsers (every status).
    #[serde(rename = "type")]
    pub user_type: Option<UserType>,
    /// Profile name (any case) or id.
    pub profile: Option<String>,
    /// Role name (any case) or id.
    pub role: Option<String>,
    pub status: Option<UserStatus>,
    /// Case-insensitive text in name or email.
    pub search: Option<String>,
    /// concise (default): id, name, email, status, role, profile. full: Zoho's record.
    pub detail: Option<Detail>,
    /// Max users returned: 1-1000, default 200; with detail=full 1-100, default 100.
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<u32>,
    /// Skip this many matches (paging).
    pub offset: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserIdArgs {
    /// User id (digits, as a string).
    pub user_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRolesArgs {
    /// Only roles reporting directly to this role (name or id).
    pub reporting_to: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListProfilesArgs {
    /// Add each profile's permission summary (one extra call per profile).
    pub include_permissions: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileIdArgs {
    /// Profile id (digits, as a string).
    pub profile_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyArgs {}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetStatusArgs {
    /// User id (digits, as a string).
    pub user_id: String,
    pub status: NewStatus,
    /// The user's email, to confirm the target.
    pub confirm_email: String,
    /// Preview only; change nothing.
    pub dry_run: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteUserArgs {
    /// User id (digits, as a string).
    pub user_id: String,
    /// The user's email, to confirm the target.
    pub confirm_email: String,
    /// Preview only; change nothing.
    pub dry_run: Option<bool>,
}

// ---- results ----

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserList {
    /// Users matching the filters.
    pub total: usize,
    pub offset: usize,
    pub returned: usize,
    pub users: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserRecord {
    pub user: Value,
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

#[derive(Debug, Serialize, JsonSchema)]
pub struct RoleList {
    pub total: usize,
    pub roles: Vec<RoleOut>,
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

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProfileList {
    pub total: usize,
    pub profiles: Vec<ProfileOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProfileRecord {
    pub profile: ProfileOut,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OrgRecord {
    pub org: Value,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WriteResult {
    /// deactivate, activate or delete.
    pub action: String,
    pub dry_run: bool,
    /// dry_run or success.
    pub outcome: String,
    pub user: ConciseUser,
    pub message: String,
}

fn s(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn decode_error(e: &serde_json::Error) -> ToolError {
    ToolError(format!("unexpected user record from Zoho: {e}"))
}

fn opt_s(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
}

fn role_out(r: &Value) -> RoleOut {
    RoleOut {
        id: s(r, "id"),
        name: s(r, "name"),
        reporting_to: r
            .get("reporting_to")
            .filter(|x| x.is_object())
            .map(|x| Ref {
                id: s(x, "id"),
                name: s(x, "name"),
            }),
        description: opt_s(r, "description"),
        share_with_peers: r.get("share_with_peers").and_then(Value::as_bool),
    }
}

fn profile_out(p: &Value, permissions: Option<PermissionSummary>, with_admin: bool) -> ProfileOut {
    let name = s(p, "name");
    let admin_level =
        with_admin.then(|| !review::admin_reasons(&name, permissions.as_ref()).is_empty());
    ProfileOut {
        id: s(p, "id"),
        description: opt_s(p, "description"),
        custom: p.get("custom").and_then(Value::as_bool),
        admin_level,
        permissions,
        name,
    }
}

/// What a write does, for messages and the audit log.
#[derive(Clone, Copy)]
enum Action {
    Deactivate,
    Activate,
    Delete,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Deactivate => "deactivate",
            Action::Activate => "activate",
            Action::Delete => "delete",
        }
    }
    fn tool(self) -> &'static str {
        match self {
            Action::Delete => "bigin_delete_user",
            _ => "bigin_set_user_status",
        }
    }
}

#[tool_router]
impl BiginServer {
    /// A server exposing the tools `options.filter` selects.
    pub fn new(client: BiginClient, options: ServerOptions) -> Result<Self, FilterError> {
        let selected: BTreeSet<&str> = options.filter.select()?;
        let mut tool_router = Self::tool_router();
        for t in tool_router.list_all() {
            if !selected.contains(t.name.as_ref()) {
                tool_router.remove_route(&t.name);
            }
        }
        let listed = tool_router
            .list_all()
            .into_iter()
            .map(|mut t| {
                t.input_schema = Arc::new(schema::compact_input(&t.input_schema));
                t.output_schema = t
                    .output_schema
                    .map(|o| Arc::new(schema::shallow_output(&o)));
                t
            })
            .collect();
        Ok(BiginServer {
            inner: Arc::new(Inner {
                client,
                audit: options.audit,
                expires_at: options.expires_at,
                shutdown: options.shutdown,
                calls: tokio::sync::Semaphore::new(MAX_CONCURRENT_CALLS),
                user_locks: Default::default(),
            }),
            tool_router,
            listed: Arc::new(listed),
        })
    }

    /// The tools this server lists, for tests and `--help` output.
    pub fn tools(&self) -> Vec<rmcp::model::Tool> {
        self.listed.as_ref().clone()
    }

    /// List the organisation's users, filtered and paged by the server. Use it to find users by profile, role, status or name/email, then bigin_get_user for one record. Returns total and next_offset when more match than limit.
    #[tool(
        output_schema = rmcp::handler::server::common::schema_for_output::<UserList>(),
        annotations(
            title = "List users",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn bigin_list_users(
        &self,
        Parameters(a): Parameters<ListUsersArgs>,
    ) -> Result<CallToolResult, ToolError> {
        let full = a.detail.unwrap_or_default() == Detail::Full;
        // Full records are ~1 KB each: 100 of them are already ~25k tokens of
        // an agent's context, so full pages are capped lower than concise ones.
        let max = if full { MAX_FULL } else { 1000 };
        let limit = a.limit.unwrap_or(if full { MAX_FULL } else { 200 });
        if !(1..=max).contains(&limit) {
            let detail = if full {
                "with detail=full"
            } else {
                "with concise detail"
            };
            return Err(ToolError(format!(
                "limit must be 1 to {max} {detail} (got {limit}); page with offset, or narrow with profile, role, status or search. Nothing was sent to Zoho."
            )));
        }
        let offset = a.offset.unwrap_or(0) as usize;
        let search = a
            .search
            .as_deref()
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_lowercase);
        let client = &self.inner.client;
        let profile = match &a.profile {
            Some(p) => Some(
                review::resolve(
                    &client.list_profiles().await?,
                    p,
                    "profile",
                    "bigin_list_profiles",
                )?
                .clone(),
            ),
            None => None,
        };
        let role = match &a.role {
            Some(r) => Some(
                review::resolve(&client.list_roles().await?, r, "role", "bigin_list_roles")?
                    .clone(),
            ),
            None => None,
        };
        // A status alone maps to the narrowest Zoho type, so fewer pages travel.
        let ty = a.user_type.unwrap_or(match a.status {
            Some(UserStatus::Active) => UserType::ActiveUsers,
            Some(UserStatus::Inactive) => UserType::DeactiveUsers,
            Some(UserStatus::Deleted) => UserType::DeletedUsers,
            None => UserType::AllUsers,
        });
        let users = client.list_users_raw(ty).await?;
        let id_of = |u: &Value, key: &str| u.get(key).map(|r| s(r, "id")).unwrap_or_default();
        let status_name = a.status.map(|st| match st {
            UserStatus::Active => "active",
            UserStatus::Inactive => "inactive",
            UserStatus::Deleted => "deleted",
        });
        let keep = |u: &Value| {
            profile
                .as_ref()
                .is_none_or(|p| id_of(u, "profile") == s(p, "id"))
                && role.as_ref().is_none_or(|r| id_of(u, "role") == s(r, "id"))
                && status_name.is_none_or(|st| s(u, "status") == st)
                && search.as_ref().is_none_or(|q| {
                    let c = concise_user(u);
                    c.full_name.to_lowercase().contains(q) || c.email.to_lowercase().contains(q)
                })
        };
        // Records are moved, never copied: a full page of 450 users is a few
        // MiB as JSON values, and memory is part of the promise.
        let mut total = 0usize;
        let mut full_page: Vec<Value> = Vec::new();
        let mut concise_page: Vec<ConciseUser> = Vec::new();
        for raw in users {
            let u = review::lite_user(&raw).map_err(|e| decode_error(&e))?;
            if !keep(&u) {
                continue;
            }
            if total >= offset && (full_page.len() + concise_page.len()) < limit as usize {
                if full {
                    full_page.push(serde_json::from_str(raw.get()).map_err(|e| decode_error(&e))?);
                } else {
                    concise_page.push(concise_user(&u));
                }
            }
            total += 1;
        }
        let returned = full_page.len() + concise_page.len();
        let next_offset = (offset + returned < total).then_some(offset + returned);
        let note = next_offset.map(|n| {
            format!(
                "{} match; this is {}-{}. Narrow with profile, role, status or search, or call again with offset={n}.",
                review::plural_users(total),
                offset + 1,
                offset + returned
            )
        });
        // Concise pages reach the model as a compact table (the same data as
        // the structured content, role and profile ids given once); full
        // pages as JSON. The table is about half the bytes of the JSON.
        let table =
            (!full).then(|| review::concise_table(total, offset, note.as_deref(), &concise_page));
        let users_value = if full {
            Value::Array(full_page)
        } else {
            serde_json::to_value(&concise_page).unwrap_or_default()
        };
        let mut out = serde_json::Map::new();
        out.insert("total".into(), total.into());
        out.insert("offset".into(), offset.into());
        out.insert("returned".into(), returned.into());
        out.insert("users".into(), users_value);
        if let (Some(n), Some(note)) = (next_offset, note) {
            out.insert("next_offset".into(), n.into());
            out.insert("note".into(), note.into());
        }
        if let Some(text) = table {
            let mut r = CallToolResult::success(vec![ContentBlock::text(text)]);
            r.structured_content = Some(Value::Object(out));
            return Ok(r);
        }
        Ok(CallToolResult::structured(Value::Object(out)))
    }

    /// Get one user's full Zoho record by id (profile, role, status, confirmation, timestamps). Use it to verify a user before bigin_set_user_status or bigin_delete_user.
    #[tool(annotations(
        title = "Get user",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn bigin_get_user(
        &self,
        Parameters(a): Parameters<UserIdArgs>,
    ) -> Result<Json<UserRecord>, ToolError> {
        let id = ZohoId::parse(&a.user_id, "user_id")?;
        match self.inner.client.get_user(&id).await? {
            Some(user) => Ok(Json(UserRecord { user })),
            None => Err(ToolError(format!(
                "no user has id {id}; find the id with bigin_list_users (search by name or email)."
            ))),
        }
    }

    /// List roles (the reporting hierarchy). With reporting_to, only the roles directly under that role.
    #[tool(annotations(
        title = "List roles",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn bigin_list_roles(
        &self,
        Parameters(a): Parameters<ListRolesArgs>,
    ) -> Result<Json<RoleList>, ToolError> {
        let roles = self.inner.client.list_roles().await?;
        let selected: Vec<RoleOut> = match &a.reporting_to {
            Some(parent) => {
                let parent_id = s(
                    review::resolve(&roles, parent, "role", "bigin_list_roles")?,
                    "id",
                );
                roles
                    .iter()
                    .filter(|r| {
                        r.get("reporting_to").map(|p| s(p, "id")) == Some(parent_id.clone())
                    })
                    .map(role_out)
                    .collect()
            }
            None => roles.iter().map(role_out).collect(),
        };
        Ok(Json(RoleList {
            total: selected.len(),
            roles: selected,
        }))
    }

    /// List profiles (permission sets). include_permissions adds what each allows: administration, user management, export, mass delete, module access.
    #[tool(annotations(
        title = "List profiles",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn bigin_list_profiles(
        &self,
        Parameters(a): Parameters<ListProfilesArgs>,
    ) -> Result<Json<ProfileList>, ToolError> {
        let profiles = self.inner.client.list_profiles().await?;
        let out: Vec<ProfileOut> = if a.include_permissions.unwrap_or(false) {
            let facts = self.profile_facts(&profiles).await;
            let mut out = Vec::with_capacity(profiles.len());
            for (p, f) in profiles.iter().zip(facts) {
                out.push(profile_out(p, f?.summary, true));
            }
            out
        } else {
            profiles
                .iter()
                .map(|p| profile_out(p, None, false))
                .collect()
        };
        Ok(Json(ProfileList {
            total: out.len(),
            profiles: out,
        }))
    }

    /// Get one profile with a summary of its permissions (administration, user management, export, import, mass delete, module access) and whether it is administrator-level.
    #[tool(annotations(
        title = "Get profile",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn bigin_get_profile(
        &self,
        Parameters(a): Parameters<ProfileIdArgs>,
    ) -> Result<Json<ProfileRecord>, ToolError> {
        let id = ZohoId::parse(&a.profile_id, "profile_id")?;
        match self.inner.client.get_profile(&id).await? {
            Some(p) => {
                let summary = review::summarize_permissions(&p);
                Ok(Json(ProfileRecord {
                    profile: profile_out(&p, summary, true),
                }))
            }
            None => Err(ToolError(format!(
                "no profile has id {id}; bigin_list_profiles lists them."
            ))),
        }
    }

    /// Get the organisation record: company, primary contact, time zone, currency, edition and licences.
    #[tool(annotations(
        title = "Get organization",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn bigin_get_organization(
        &self,
        Parameters(_): Parameters<EmptyArgs>,
    ) -> Result<Json<OrgRecord>, ToolError> {
        Ok(Json(OrgRecord {
            org: self.inner.client.get_org().await?,
        }))
    }

    /// Quarterly access review in one call: user counts per profile and role, active holders of administrator-level profiles, and findings (e.g. inactive or unconfirmed users still holding an admin profile), most severe first.
    #[tool(annotations(
        title = "Access review",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn bigin_access_review(
        &self,
        Parameters(_): Parameters<EmptyArgs>,
    ) -> Result<Json<AccessReview>, ToolError> {
        let client = &self.inner.client;
        let (users, roles, profiles) = tokio::try_join!(
            client.list_users_raw(UserType::AllUsers),
            client.list_roles(),
            client.list_profiles()
        )?;
        let mut facts = Vec::with_capacity(profiles.len());
        for (p, f) in profiles.iter().zip(self.profile_facts(&profiles).await) {
            facts.push(match f {
                Ok(f) => f,
                // One unreadable profile should not sink the whole review:
                // it is judged by name and reported as a finding.
                Err(e) => {
                    tracing::warn!(profile = %s(p, "id"), error = %e, "cannot read profile permissions");
                    ProfileFacts { id: s(p, "id"), name: s(p, "name"), summary: None }
                }
            });
        }
        let users = users
            .iter()
            .map(|raw| review::lite_user(raw))
            .collect::<Result<Vec<Value>, _>>()
            .map_err(|e| decode_error(&e))?;
        Ok(Json(review::access_review(&users, &roles, &facts)))
    }

    /// Deactivate (status=inactive) or reactivate (status=active) a user: the reversible way to offboard. confirm_email must equal the user's email; dry_run=true previews. The primary user is never changed. Every attempt is audit-logged.
    #[tool(annotations(
        title = "Set user status",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn bigin_set_user_status(
        &self,
        Parameters(a): Parameters<SetStatusArgs>,
    ) -> Result<Json<WriteResult>, ToolError> {
        let action = match a.status {
            NewStatus::Inactive => Action::Deactivate,
            NewStatus::Active => Action::Activate,
        };
        self.guarded_write(
            action,
            &a.user_id,
            &a.confirm_email,
            a.dry_run.unwrap_or(false),
        )
        .await
    }

    /// Permanently delete a user (irreversible; prefer bigin_set_user_status inactive). confirm_email must equal the user's email; dry_run=true previews. The primary user is never deleted. Every attempt is audit-logged.
    #[tool(annotations(
        title = "Delete user",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn bigin_delete_user(
        &self,
        Parameters(a): Parameters<DeleteUserArgs>,
    ) -> Result<Json<WriteResult>, ToolError> {
        self.guarded_write(
            Action::Delete,
            &a.user_id,
            &a.confirm_email,
            a.dry_run.unwrap_or(false),
        )
        .await
    }
}

impl BiginServer {
    /// Reads every profile's permissions, at most four requests at a time
    /// (Zoho's concurrency limits are per organisation).
    async fn profile_facts(&self, profiles: &[Value]) -> Vec<Result<ProfileFacts, ToolError>> {
        let reads: Vec<_> = profiles.iter().map(|p| self.profile_fact(p)).collect();
        futures::stream::iter(reads).buffered(4).collect().await
    }

    async fn profile_fact(&self, p: &Value) -> Result<ProfileFacts, ToolError> {
        let id = ZohoId::parse(&s(p, "id"), "profile id")?;
        let detail = self.inner.client.get_profile(&id).await?;
        Ok(ProfileFacts {
            id: id.to_string(),
            name: s(p, "name"),
            summary: detail.as_ref().and_then(review::summarize_permissions),
        })
    }

    /// One audit line. `email` is the email on record (empty when the user
    /// could not be read); `given` is what the caller passed as confirm_email.
    fn audit(&self, action: Action, target: &Target<'_>, outcome: &str, detail: &str) {
        let entry = AuditEntry {
            time: String::new(),
            tool: action.tool(),
            user_id: target.id,
            email: target.email,
            given_email: target.given,
            action: action.verb(),
            outcome,
            detail,
        };
        if let Err(e) = self.inner.audit.append(entry) {
            tracing::error!(error = %e, "audit log write failed");
        }
    }

    /// Refuses with an audit line and the message the caller sees.
    fn refuse(&self, action: Action, target: &Target<'_>, why: String) -> ToolError {
        self.audit(action, target, "refused", &why);
        ToolError(why)
    }

    /// Waits for any other write to the same user to finish.
    async fn lock_user(&self, id: &ZohoId) -> UserLock<'_> {
        let lock = {
            let mut map = self
                .inner
                .user_locks
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            Arc::clone(map.entry(id.as_str().to_string()).or_default())
        };
        UserLock {
            locks: &self.inner.user_locks,
            id: id.as_str().to_string(),
            guard: Some(lock.lock_owned().await),
        }
    }

    /// Verify, then act: the user is fetched, the confirmation compared, the
    /// primary user and no-op changes refused, and only then is the write
    /// sent. Writes to one user run one at a time, each verifying afresh, so
    /// a repeated call finds the change already made and sends nothing.
    /// Every path leaves one audit line (two for a sent write: pending, then
    /// its outcome).
    async fn guarded_write(
        &self,
        action: Action,
        raw_id: &str,
        confirm: &str,
        dry_run: bool,
    ) -> Result<Json<WriteResult>, ToolError> {
        let shown_id: String = raw_id.chars().take(40).collect();
        let confirm = confirm.trim();
        let mut target = Target {
            id: &shown_id,
            email: "",
            given: confirm,
        };
        let id = match ZohoId::parse(raw_id, "user_id") {
            Ok(id) => id,
            Err(e) => return Err(self.refuse(action, &target, ToolError::from(e).0)),
        };
        target.id = id.as_str();
        if confirm.is_empty() || !confirm.contains('@') {
            let why = "confirm_email must be the user's email address (as shown by bigin_get_user). Nothing was sent to Zoho.".to_string();
            return Err(self.refuse(action, &target, why));
        }
        let _lock = self.lock_user(&id).await;
        let client = &self.inner.client;
        let user = match client.get_user(&id).await {
            Ok(Some(u)) => u,
            Ok(None) => {
                let why = format!(
                    "no user has id {id}; nothing was changed. Find the id with bigin_list_users."
                );
                return Err(self.refuse(action, &target, why));
            }
            Err(e) => {
                return Err(self.refuse(
                    action,
                    &target,
                    format!(
                        "cannot verify the user before the change, so nothing was changed: {e}"
                    ),
                ));
            }
        };
        let who = concise_user(&user);
        let email = who.email.trim().to_string();
        target.email = &email;
        if !email.eq_ignore_ascii_case(confirm) {
            let why = format!(
                "confirm_email does not match the email on record for user {id} ({}); nothing was changed. Check the user with bigin_get_user and pass their exact email.",
                who.full_name
            );
            // The email on record is for the log, not for the caller.
            return Err(self.refuse(action, &target, why));
        }
        let current = who.status.as_str();
        let noop = match action {
            Action::Deactivate if current == "inactive" => Some("is already inactive"),
            Action::Activate if current == "active" => Some("is already active"),
            Action::Delete if current == "deleted" => Some("is already deleted"),
            Action::Deactivate | Action::Activate if current == "deleted" => {
                Some("is deleted; a deleted user cannot be changed")
            }
            _ => None,
        };
        if let Some(state) = noop {
            let why = format!("{} ({email}) {state}; nothing was changed.", who.full_name);
            return Err(self.refuse(action, &target, why));
        }
        // The primary user owns the organisation; Zoho refuses too, but we
        // never even try. If we cannot tell, we do not act.
        let org = match client.get_org().await {
            Ok(o) => o,
            Err(e) => {
                return Err(self.refuse(
                    action,
                    &target,
                    format!(
                        "cannot check whether this is the primary user, so nothing was changed: {e}"
                    ),
                ));
            }
        };
        let primary_email = s(&org, "primary_email").trim().to_string();
        // zuids arrive as strings or numbers; review::s reads both.
        let primary_zuid = review::s(&org, "primary_zuid").trim().to_string();
        if primary_email.is_empty() && primary_zuid.is_empty() {
            let why = "the organisation record names no primary user (primary_email and primary_zuid are empty), so this server cannot rule out changing it; nothing was changed. Make the change in Bigin's UI.".to_string();
            return Err(self.refuse(action, &target, why));
        }
        let is_primary = (!primary_email.is_empty() && primary_email.eq_ignore_ascii_case(&email))
            || (!primary_zuid.is_empty() && primary_zuid == review::s(&user, "zuid").trim());
        if is_primary {
            let why = format!(
                "{} ({email}) is the organisation's primary user, which this server never changes; transfer the primary role in Bigin first. Nothing was changed.",
                who.full_name
            );
            return Err(self.refuse(action, &target, why));
        }
        if dry_run {
            let message = format!(
                "Dry run: would {} {} ({email}), currently {current}. Call again without dry_run to do it.",
                action.verb(),
                who.full_name
            );
            self.audit(action, &target, "dry_run", &message);
            return Ok(Json(WriteResult {
                action: action.verb().into(),
                dry_run: true,
                outcome: "dry_run".into(),
                user: who,
                message,
            }));
        }
        // A stopping server finishes the writes already sent, and starts none.
        if self.inner.shutdown.is_triggered() {
            let why = "the server is shutting down, so the change was not sent; nothing was changed. Call again once it is restarted.".to_string();
            return Err(self.refuse(action, &target, why));
        }
        // Fail closed: a change that cannot be recorded is not made.
        if let Err(e) = self.inner.audit.append(AuditEntry {
            time: String::new(),
            tool: action.tool(),
            user_id: id.as_str(),
            email: &email,
            given_email: confirm,
            action: action.verb(),
            outcome: "pending",
            detail: "sending the change to Zoho",
        }) {
            return Err(ToolError(format!(
                "{e}; refusing to change anything without an audit record. Fix --audit-log / BIGIN_AUDIT_LOG."
            )));
        }
        let result = match action {
            Action::Deactivate => client.set_user_status(&id, "inactive").await,
            Action::Activate => client.set_user_status(&id, "active").await,
            Action::Delete => client.delete_user(&id).await,
        };
        match result {
            Ok(outcome) => {
                let done = match action {
                    Action::Deactivate => "deactivated",
                    Action::Activate => "reactivated",
                    Action::Delete => "deleted",
                };
                let message = format!(
                    "{} ({email}) was {done}. Zoho: {} {}",
                    who.full_name, outcome.code, outcome.message
                );
                self.audit(action, &target, "success", &message);
                let mut user = who;
                user.status = match action {
                    Action::Deactivate => "inactive",
                    Action::Activate => "active",
                    Action::Delete => "deleted",
                }
                .into();
                Ok(Json(WriteResult {
                    action: action.verb().into(),
                    dry_run: false,
                    outcome: "success".into(),
                    user,
                    message,
                }))
            }
            Err(e) => {
                let msg = e.to_string();
                self.audit(action, &target, "error", &msg);
                Err(ToolError(match e {
                    ZohoError::Record { .. } => msg,
                    _ => format!("{msg} (user {id}, {email})"),
                }))
            }
        }
    }
}

/// Whom a write is aimed at, as far as it is known, for the audit log.
struct Target<'a> {
    id: &'a str,
    /// The email on record, once the user has been read.
    email: &'a str,
    /// What the caller passed as confirm_email.
    given: &'a str,
}

impl ServerHandler for BiginServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("bigin-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS.to_string())
    }

    async fn list_tools(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListToolsResult, rmcp::ErrorData> {
        Ok(rmcp::model::ListToolsResult::with_all_items(self.tools()))
    }

    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        self.listed.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, rmcp::ErrorData> {
        // Expiry is checked before anything else, so an expired server sends
        // nothing to Zoho, whatever the tool.
        if let Some(at) = self.inner.expires_at
            && Utc::now() >= at
        {
            let msg = format!(
                "This server's access expired at {}; no call was sent to Zoho. Ask the administrator to renew it (restart with a later --expires-at).",
                at.to_rfc3339()
            );
            return Ok(CallToolResult::error(vec![ContentBlock::text(msg)]).into());
        }
        let Ok(_permit) = self.inner.calls.acquire().await else {
            return Err(rmcp::ErrorData::internal_error(
                "the server is stopping",
                None,
            ));
        };
        let tcc = ToolCallContext::new(self, request, context);
        self.tool_router.call(tcc).await
    }
}
