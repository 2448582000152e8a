//! The users toolset: list (filtered and paged by the server), get, and the
//! guarded writes (status change, deletion). The guard itself is
//! `admin::guard`.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::service::RequestContext;
use rmcp::{Json, RoleServer, schemars, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::admin::directory::{Listed, UserFilter};
use crate::admin::guard::{Action, WriteResult};
use crate::mcp::catalog::Scope;
use crate::mcp::error::ToolError;
use crate::mcp::handler::BiginServer;
use crate::mcp::view::{UserTable, concise_table, plural_users};
use crate::zoho::{User, UserStatus, UserType, ZohoId};

/// Most full user records one `bigin_list_users` call returns: 100 of them
/// are already ~25k tokens of an agent's context.
const MAX_FULL: u32 = 100;
/// Most concise users one call returns.
const MAX_CONCISE: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
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
    /// Zoho user type (default AllUsers).
    #[serde(rename = "type")]
    pub user_type: Option<UserType>,
    /// Name or id.
    pub profile: Option<String>,
    /// Name or id.
    pub role: Option<String>,
    pub status: Option<StatusFilter>,
    /// Name or email part; any case/accent.
    pub search: Option<String>,
    /// concise (default): a table; full: Zoho's records.
    pub detail: Option<Detail>,
    /// Default 200 (full: 1-100, default 100).
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<u32>,
    /// Matches to skip.
    pub offset: Option<u32>,
    /// Skip the 2-minute cache.
    pub fresh: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserIdArgs {
    /// User id.
    pub user_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetStatusArgs {
    /// User id.
    pub user_id: String,
    pub status: NewStatus,
    /// The user's email, confirming the target.
    pub confirm_email: String,
    /// Preview; change nothing.
    pub dry_run: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserArgs {
    /// User id.
    pub user_id: String,
    /// Name or id.
    pub profile: Option<String>,
    /// Name or id.
    pub role: Option<String>,
    /// The user's email, confirming the target.
    pub confirm_email: String,
    /// Preview; change nothing.
    pub dry_run: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteUserArgs {
    // Names: at most 50 characters of plain text each (the tool error says
    // so; a description here would cost every turn ~90 bytes of tools/list).
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Name or id.
    pub role: String,
    /// Name or id.
    pub profile: String,
    /// Preview; invite nobody.
    pub dry_run: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteUserArgs {
    /// User id.
    pub user_id: String,
    /// The user's email, confirming the target.
    pub confirm_email: String,
    /// Preview; change nothing.
    pub dry_run: Option<bool>,
}

/// One page of `bigin_list_users`: a table (concise) or Zoho's records (full).
#[derive(Debug, Serialize, JsonSchema)]
pub struct UserPage {
    /// Users matching the filters.
    pub total: usize,
    pub offset: usize,
    pub returned: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Concise pages: roles and profiles once, then one row per user.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub table: Option<UserTable>,
    /// Full pages: Zoho's user records as it sent them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<Map<String, Value>>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserRecord {
    /// Zoho's user record as it sent it.
    pub user: Map<String, Value>,
}

impl BiginServer {
    /// The Zoho scopes each tool here can need. Writes also read the user and
    /// the organisation (the primary-user check); names resolve through the
    /// role and profile lists.
    pub(crate) const USERS_SCOPES: &[(&str, &[Scope])] = &[
        (
            "bigin_list_users",
            &[Scope::UsersRead, Scope::RolesRead, Scope::ProfilesRead],
        ),
        ("bigin_get_user", &[Scope::UsersRead]),
        ("bigin_set_user_status", &[Scope::UsersAll, Scope::OrgRead]),
        ("bigin_delete_user", &[Scope::UsersAll, Scope::OrgRead]),
        (
            "bigin_update_user",
            &[
                Scope::UsersAll,
                Scope::OrgRead,
                Scope::RolesRead,
                Scope::ProfilesRead,
            ],
        ),
        (
            "bigin_invite_user",
            &[Scope::UsersAll, Scope::RolesRead, Scope::ProfilesRead],
        ),
    ];
}

#[tool_router(router = users_router, vis = "pub(crate)")]
impl BiginServer {
    /// List users, filtered (profile, role, status, search) and paged (limit, offset; next_offset when more match). Then bigin_get_user for one record.
    #[tool(
        output_schema = rmcp::handler::server::common::schema_for_output::<UserPage>(),
        annotations(
            title = "List users",
            read_only_hint = true,
            destructive_hint = false
        )
    )]
    async fn bigin_list_users(
        &self,
        Parameters(a): Parameters<ListUsersArgs>,
    ) -> Result<CallToolResult, ToolError> {
        let full = a.detail.unwrap_or_default() == Detail::Full;
        let max = if full { MAX_FULL } else { MAX_CONCISE };
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
        let limit = limit as usize;
        let fresh = a.fresh.unwrap_or(false);
        let session = self.session();
        let filters = UserFilter {
            profile: match &a.profile {
                Some(p) => Some(session.named_ref(Listed::Profile, p, fresh, "").await?.id),
                None => None,
            },
            role: match &a.role {
                Some(r) => Some(session.named_ref(Listed::Role, r, fresh, "").await?.id),
                None => None,
            },
            status: a.status.map(|s| match s {
                StatusFilter::Active => UserStatus::Active,
                StatusFilter::Inactive => UserStatus::Inactive,
                StatusFilter::Deleted => UserStatus::Deleted,
            }),
            search: UserFilter::search_for(a.search.as_deref()),
        };
        let ty = a.user_type.unwrap_or(UserType::AllUsers);

        let mut page = UserPage {
            total: 0,
            offset,
            returned: 0,
            next_offset: None,
            note: None,
            table: None,
            users: None,
        };
        let mut text = None;
        // Full records are moved into the result, never copied: 100 of them
        // as parsed JSON are over a MiB.
        let mut full_records: Vec<Map<String, Value>> = Vec::new();
        let shown;
        if full {
            let found = self
                .session()
                .find_user_records(ty, &filters, offset, limit)
                .await?;
            page.total = found.total;
            page.returned = found.page.len();
            full_records = found.page;
        } else {
            let found = self
                .session()
                .find_users(ty, &filters, offset, limit, fresh)
                .await?;
            page.total = found.total;
            page.returned = found.page.len();
            shown = found.page;
            let refs: Vec<&User> = shown.iter().collect();
            page.table = Some(UserTable::new(refs.iter().copied()));
            text = Some(refs);
        }
        if offset + page.returned < page.total {
            let n = offset + page.returned;
            page.next_offset = Some(n);
            page.note = Some(format!(
                "{} match; this is {}-{}. Narrow with profile, role, status or search, or call again with offset={n}.",
                plural_users(page.total),
                offset + 1,
                n
            ));
        }
        if page.total == 0
            && let Some(q) = a.search.as_deref().map(str::trim).filter(|q| !q.is_empty())
        {
            // A search that finds nobody is often a spelling: say how to widen it.
            page.note = Some(format!(
                "No user matches search '{q}'{}. Widen it: search part of the name (the surname alone, or a first name) or part of the email; accents and case are ignored.",
                if a.profile.is_some() || a.role.is_some() || a.status.is_some() {
                    " with these filters (drop profile, role or status to search everyone)"
                } else {
                    ""
                }
            ));
        }
        let mut structured = serde_json::to_value(&page).map_err(|e| ToolError(e.to_string()))?;
        if full && let Value::Object(m) = &mut structured {
            m.insert(
                "users".into(),
                Value::Array(full_records.into_iter().map(Value::Object).collect()),
            );
        }
        // Concise pages reach a text-reading model as a compact table (the
        // same data as the structured content); full pages as JSON.
        let body = match text {
            Some(shown) => concise_table(page.total, offset, page.note.as_deref(), &shown),
            None => structured.to_string(),
        };
        let mut r = CallToolResult::success(vec![ContentBlock::text(body)]);
        r.structured_content = Some(structured);
        Ok(r)
    }

    /// One user's full Zoho record by id. Verify a user with it before any write.
    #[tool(annotations(title = "Get user", read_only_hint = true, destructive_hint = false))]
    async fn bigin_get_user(
        &self,
        Parameters(a): Parameters<UserIdArgs>,
    ) -> Result<Json<UserRecord>, ToolError> {
        let id = ZohoId::parse(&a.user_id, "user_id")?;
        let user = self.session().user_record(&id).await?;
        Ok(Json(UserRecord { user }))
    }

    /// Deactivate (inactive) or reactivate (active) a user: reversible offboarding. Needs confirm_email; dry_run previews; never the primary user; audit-logged.
    #[tool(annotations(
        title = "Set user status",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true
    ))]
    async fn bigin_set_user_status(
        &self,
        Parameters(a): Parameters<SetStatusArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<WriteResult>, ToolError> {
        let action = match a.status {
            NewStatus::Inactive => Action::Deactivate,
            NewStatus::Active => Action::Activate,
        };
        let mut result = self
            .guard()
            .write(
                &self.confirm(&ctx),
                action.clone(),
                &a.user_id,
                &a.confirm_email,
                a.dry_run.unwrap_or(false),
            )
            .await?;
        let can_update = self.exposes("bigin_update_user");
        if action == Action::Deactivate
            && let Some(note) = (self.session())
                .deactivated_admin_note(&result.user, can_update)
                .await
        {
            result.message.push(' ');
            result.message.push_str(&note);
        }
        Ok(Json(result))
    }

    /// Permanently delete a user (irreversible; prefer bigin_set_user_status inactive). Needs confirm_email; dry_run previews; never the primary user; audit-logged.
    #[tool(annotations(
        title = "Delete user",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true
    ))]
    async fn bigin_delete_user(
        &self,
        Parameters(a): Parameters<DeleteUserArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<WriteResult>, ToolError> {
        self.guard()
            .write(
                &self.confirm(&ctx),
                Action::Delete,
                &a.user_id,
                &a.confirm_email,
                a.dry_run.unwrap_or(false),
            )
            .await
            .map(Json)
            .map_err(ToolError::from)
    }

    /// Change a user's profile and/or role (name or id), e.g. demote an admin. Guarded like bigin_set_user_status; Zoho does not update deactivated users.
    #[tool(annotations(
        title = "Update user",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true
    ))]
    async fn bigin_update_user(
        &self,
        Parameters(a): Parameters<UpdateUserArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<WriteResult>, ToolError> {
        if a.profile.as_deref().is_none_or(|p| p.trim().is_empty())
            && a.role.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            return Err(ToolError(
                "give profile and/or role (a name or an id) to change. Nothing was sent to Zoho."
                    .into(),
            ));
        }
        // Names are resolved before anything is sent; an unknown or
        // ambiguous one lists the valid choices.
        let (session, then) = (self.session(), "Nothing was changed.");
        let profile = match a.profile.as_deref().filter(|p| !p.trim().is_empty()) {
            Some(p) => Some(session.named_ref(Listed::Profile, p, false, then).await?),
            None => None,
        };
        let role = match a.role.as_deref().filter(|r| !r.trim().is_empty()) {
            Some(r) => Some(session.named_ref(Listed::Role, r, false, then).await?),
            None => None,
        };
        self.guard()
            .write(
                &self.confirm(&ctx),
                Action::Update { role, profile },
                &a.user_id,
                &a.confirm_email,
                a.dry_run.unwrap_or(false),
            )
            .await
            .map(Json)
            .map_err(ToolError::from)
    }

    /// Invite a user with a role and profile (name or id); refuses a used email. dry_run previews; audit-logged. Returns the new id, unconfirmed until accepted.
    #[tool(annotations(
        title = "Invite user",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false
    ))]
    async fn bigin_invite_user(
        &self,
        Parameters(a): Parameters<InviteUserArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<WriteResult>, ToolError> {
        let names = (a.first_name.as_str(), a.last_name.as_str());
        let invitation = (self.guard())
            .invitation(names, &a.email, &a.role, &a.profile)
            .await?;
        let dry_run = a.dry_run.unwrap_or(false);
        Ok(Json(
            self.guard()
                .invite(&self.confirm(&ctx), invitation, dry_run)
                .await?,
        ))
    }
}
