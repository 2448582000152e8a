//! The users toolset: list (filtered and paged by the server), get, and the
//! guarded writes (status change, deletion). The guard itself is
//! `mcp::guard`.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::{Json, schemars, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::mcp::error::ToolError;
use crate::mcp::guard::{Action, WriteResult};
use crate::mcp::server::BiginServer;
use crate::mcp::view::{UserTable, concise_table, plural_users, resolve};
use crate::zoho::{Interner, User, UserStatus, UserType, ZohoError, ZohoId};

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
    /// Zoho user type. Default AllUsers (every status).
    #[serde(rename = "type")]
    pub user_type: Option<UserType>,
    /// Profile name (any case) or id.
    pub profile: Option<String>,
    /// Role name (any case) or id.
    pub role: Option<String>,
    pub status: Option<StatusFilter>,
    /// Case-insensitive text in name or email.
    pub search: Option<String>,
    /// concise (default): a table of id, name, email, status, role, profile. full: Zoho's records.
    pub detail: Option<Detail>,
    /// Max users returned: 1-1000, default 200; with detail=full 1-100, default 100.
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<u32>,
    /// Skip this many matches (paging).
    pub offset: Option<u32>,
    /// Re-read Zoho instead of this session's 2-minute cache.
    pub fresh: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserIdArgs {
    /// User id (digits, as a string).
    pub user_id: String,
}

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
                u.full_name.to_lowercase().contains(q) || u.email.to_lowercase().contains(q)
            })
    }
}

#[tool_router(router = users_router, vis = "pub(crate)")]
impl BiginServer {
    /// List the organisation's users, filtered and paged by the server. Use it to find users by profile, role, status or name/email, then bigin_get_user for one record. Returns total and next_offset when more match than limit.
    #[tool(
        output_schema = rmcp::handler::server::common::schema_for_output::<UserPage>(),
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
                    let (profiles, _) = self.profiles(fresh).await?;
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
                    let (roles, _) = self.roles(fresh).await?;
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
                .map(str::to_lowercase),
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
        if full {
            // Zoho's records untouched: read page by page, keeping only the
            // ones returned, so memory holds one Zoho page at a time.
            let mut kept: Vec<Map<String, Value>> = Vec::new();
            let mut total = 0usize;
            let mut interner = Interner::default();
            self.client()
                .for_each_users_page(ty, |raws| {
                    for raw in raws {
                        let u = User::from_json(raw.get(), &mut interner).map_err(decode)?;
                        if !filters.keep(&u) {
                            continue;
                        }
                        if total >= offset && kept.len() < limit {
                            kept.push(serde_json::from_str(raw.get()).map_err(decode)?);
                        }
                        total += 1;
                    }
                    Ok(true)
                })
                .await?;
            page.total = total;
            page.returned = kept.len();
            page.users = Some(kept);
        } else {
            cached_users = self.users(ty, fresh).await?.0;
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
        let structured = serde_json::to_value(&page).map_err(|e| ToolError(e.to_string()))?;
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
        match self.client().get_user(&id).await? {
            Some(Value::Object(user)) => Ok(Json(UserRecord { user })),
            Some(_) => Err(ToolError(format!(
                "Zoho's record for user {id} is not an object"
            ))),
            None => Err(ToolError(format!(
                "no user has id {id}; find the id with bigin_list_users (search by name or email)."
            ))),
        }
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

fn decode(e: serde_json::Error) -> ZohoError {
    ZohoError::Decode {
        what: "the user list".into(),
        message: e.to_string(),
    }
}
