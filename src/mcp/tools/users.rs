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

use crate::admin::guard::{Action, Invitation, WriteResult, invitee_problem};
use crate::admin::text::fold_for_match;
use crate::mcp::catalog::Scope;
use crate::mcp::error::ToolError;
use crate::mcp::handler::BiginServer;
use crate::mcp::view::{UserTable, concise_table, plural_users, resolve};
use crate::zoho::{Interner, NewUser, Ref, User, UserStatus, UserType, ZohoId, decode_users};

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

/// One plausible address: one `@`, something before it, a dot after it,
/// no spaces or control characters. Zoho checks the rest.
fn is_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    e.len() <= 100
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
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

/// The filters of one `bigin_list_users` call, resolved to ids.
struct Filters {
    profile: Option<String>,
    role: Option<String>,
    status: Option<UserStatus>,
    search: Option<String>,
}

impl Filters {
    fn keep(&self, u: &User) -> bool {
        fn id(r: &Option<std::sync::Arc<crate::zoho::Ref>>) -> Option<&str> {
            r.as_ref().map(|x| x.id.as_str())
        }
        self.profile
            .as_deref()
            .is_none_or(|p| id(&u.profile) == Some(p))
            && self.role.as_deref().is_none_or(|r| id(&u.role) == Some(r))
            && self.status.as_ref().is_none_or(|s| &u.status == s)
            && self.search.as_ref().is_none_or(|q| {
                // The query is folded once (see `search` below); names are
                // folded (accents, case), emails only lowercased.
                fold_for_match(&u.full_name).contains(q.as_str())
                    || u.email.to_lowercase().contains(q.trim())
            })
    }
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

impl BiginServer {
    /// What deactivating `user` leaves behind when their profile is
    /// administrator-level: Zoho refuses to change a deactivated user's
    /// profile, so the review keeps an `inactive_admin` finding until they
    /// are reactivated, lowered and deactivated again (or deleted).
    async fn admin_profile_note(&self, user: &crate::admin::user::ConciseUser) -> Option<String> {
        let p = user.profile.as_ref()?;
        let summary = match ZohoId::parse(&p.id, "profile id") {
            Ok(id) => self
                .session()
                .profile_detail(&id, false)
                .await
                .ok()
                .and_then(|(d, _)| {
                    d.as_ref()
                        .as_ref()
                        .and_then(crate::admin::permissions::summarize)
                }),
            Err(_) => None,
        };
        if crate::admin::permissions::admin_reasons(&p.name, summary.as_ref()).is_empty() {
            return None;
        }
        let mut fix = "reactivate them (bigin_set_user_status active), lower the profile with bigin_update_user, then deactivate again".to_string();
        if !self.exposes_tool("bigin_update_user") {
            fix = "that needs bigin_update_user, which this server does not expose".into();
        }
        Some(format!(
            "Note: {} keeps the administrator-level profile '{}' while deactivated, and Zoho does not change a deactivated user's profile; the access review will list them as inactive_admin. Next time lower the profile first (bigin_update_user), then deactivate. To clear it now: {fix}.",
            user.full_name, p.name
        ))
    }
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
        let filters = Filters {
            profile: match &a.profile {
                Some(p) => {
                    let (profiles, _) = self.session().profiles(fresh).await?;
                    Some(
                        resolve(&profiles, p, "profile", "bigin_list_profiles")?
                            .id
                            .clone(),
                    )
                }
                None => None,
            },
            role: match &a.role {
                Some(r) => {
                    let (roles, _) = self.session().roles(fresh).await?;
                    Some(resolve(&roles, r, "role", "bigin_list_roles")?.id.clone())
                }
                None => None,
            },
            status: a.status.map(|s| match s {
                StatusFilter::Active => UserStatus::Active,
                StatusFilter::Inactive => UserStatus::Inactive,
                StatusFilter::Deleted => UserStatus::Deleted,
            }),
            search: a
                .search
                .as_deref()
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(fold_for_match),
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
        let cached_users;
        // Full records are moved into the result, never copied: 100 of them
        // as parsed JSON are over a MiB.
        let mut full_records: Vec<Map<String, Value>> = Vec::new();
        if full {
            // Zoho's records untouched: read page by page, keeping only the
            // ones returned, so memory holds one Zoho page at a time.
            let mut kept: Vec<Map<String, Value>> = Vec::new();
            let mut total = 0usize;
            let mut interner = Interner::default();
            self.session()
                .client()
                .for_each_users_page(ty, |raws| {
                    for raw in raws {
                        let u = User::from_json(raw.get(), &mut interner)
                            .map_err(|e| decode_users(&e))?;
                        if !filters.keep(&u) {
                            continue;
                        }
                        if total >= offset && kept.len() < limit {
                            kept.push(
                                serde_json::from_str(raw.get()).map_err(|e| decode_users(&e))?,
                            );
                        }
                        total += 1;
                    }
                    Ok(true)
                })
                .await?;
            page.total = total;
            page.returned = kept.len();
            full_records = kept;
        } else {
            cached_users = self.session().users(ty, fresh).await?.0;
            let matching: Vec<&User> = cached_users.iter().filter(|u| filters.keep(u)).collect();
            let shown: Vec<&User> = matching.iter().skip(offset).take(limit).copied().collect();
            page.total = matching.len();
            page.returned = shown.len();
            page.table = Some(UserTable::new(shown.iter().copied()));
            text = Some(shown);
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
        match self.session().client().get_user(&id).await? {
            Some(Value::Object(user)) => Ok(Json(UserRecord { user })),
            Some(_) => Err(ToolError(format!(
                "Zoho's record for user {id} is not an object"
            ))),
            None => Err(ToolError(format!(
                "no user has id {id}; find the id with bigin_list_users (search by name or email)."
            ))),
        }
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
        if action == Action::Deactivate
            && let Some(note) = self.admin_profile_note(&result.user).await
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
        let profile = match a.profile.as_deref().filter(|p| !p.trim().is_empty()) {
            Some(p) => {
                let (profiles, _) = self.session().profiles(false).await?;
                let found = resolve(&profiles, p, "profile", "bigin_list_profiles")
                    .map_err(|e| ToolError(format!("{e} Nothing was changed.")))?;
                Some(Ref {
                    id: found.id.clone(),
                    name: found.name.clone(),
                })
            }
            None => None,
        };
        let role = match a.role.as_deref().filter(|r| !r.trim().is_empty()) {
            Some(r) => {
                let (roles, _) = self.session().roles(false).await?;
                let found = resolve(&roles, r, "role", "bigin_list_roles")
                    .map_err(|e| ToolError(format!("{e} Nothing was changed.")))?;
                Some(Ref {
                    id: found.id.clone(),
                    name: found.name.clone(),
                })
            }
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
        let email = a.email.trim();
        let last = a.last_name.trim();
        let first = a.first_name.trim();
        // Names and look-alike addresses first: nothing forged is ever
        // shown to the person or sent.
        if let Some(why) = invitee_problem(&a.first_name, &a.last_name, email) {
            return Err(ToolError(why));
        }
        if !is_email(email) {
            return Err(ToolError(format!(
                "email must be one address like name@example.com (got '{}'). Nothing was sent to Zoho.",
                email.chars().take(80).collect::<String>()
            )));
        }
        let (profiles, _) = self.session().profiles(false).await?;
        let profile = resolve(&profiles, &a.profile, "profile", "bigin_list_profiles")
            .map_err(|e| ToolError(format!("{e} Nobody was invited.")))?;
        let (roles, _) = self.session().roles(false).await?;
        let role = resolve(&roles, &a.role, "role", "bigin_list_roles")
            .map_err(|e| ToolError(format!("{e} Nobody was invited.")))?;
        let (Ok(role_id), Ok(profile_id)) = (
            ZohoId::parse(&role.id, "role id"),
            ZohoId::parse(&profile.id, "profile id"),
        ) else {
            return Err(ToolError(
                "Zoho's role or profile id is not a valid id; nobody was invited.".into(),
            ));
        };
        let new = NewUser {
            first_name: Some(first),
            last_name: last,
            email,
            role: role_id,
            profile: profile_id,
        };
        let invitation = Invitation {
            user: new,
            role: Ref {
                id: role.id.clone(),
                name: role.name.clone(),
            },
            profile: Ref {
                id: profile.id.clone(),
                name: profile.name.clone(),
            },
        };
        let dry_run = a.dry_run.unwrap_or(false);
        Ok(Json(
            self.guard()
                .invite(&self.confirm(&ctx), invitation, dry_run)
                .await?,
        ))
    }
}
