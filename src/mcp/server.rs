//! [`BiginServer`]: the MCP handler. It owns what every call shares (the
//! Zoho client, the session cache, the audit log, the write locks, the
//! concurrency limit) and the rules every call passes through: expiry,
//! tools that start-up flags removed, and prompts. The tools themselves
//! live in `tools/`, one module per domain; the write guard in `guard`.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, GetPromptRequestParams,
    GetPromptResponse, Implementation, ListPromptsResult, PaginatedRequestParams, ProtocolVersion,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler};

use crate::admin::audit::AuditLog;
use crate::admin::cache::{Cache, DEFAULT_TTL};
use super::catalog::{FilterError, ToolFilter};
use super::error::ToolError;
use super::guard::UserLocks;
use crate::admin::permissions::summarize;
use crate::admin::review::{
    AccessReview, Evidence, Finding, ProfileFacts, SnapshotView, access_review, diff,
};
use crate::admin::shutdown::Shutdown;
use crate::admin::snapshots::{Since, SnapshotStore};
use super::view::Named;
use super::{prompts, schema, tools};
use crate::zoho::{
    BiginClient, DataCentre, Org, Profile, Ref, Role, User, UserType, ZohoId, count_requests,
};

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
    /// Where access reviews are stored; `None` keeps none.
    pub snapshots: Option<SnapshotStore>,
    /// Ask the person to confirm each real write by MCP elicitation, when
    /// the client can (`--no-elicitation` turns it off).
    pub elicitation: bool,
}

/// Tool calls running at once; the rest wait their turn. Zoho limits
/// concurrency per organisation anyway, and this bounds memory.
const MAX_CONCURRENT_CALLS: usize = 8;

struct Inner {
    client: BiginClient,
    cache: Cache,
    audit: AuditLog,
    expires_at: Option<DateTime<Utc>>,
    shutdown: Shutdown,
    calls: tokio::sync::Semaphore,
    /// One lock per user being written, so two writes to the same user run
    /// one after the other and the second sees the first one's result.
    user_locks: UserLocks,
    filter: ToolFilter,
    snapshots: Option<SnapshotStore>,
    elicitation: bool,
}

/// The MCP server: clone-cheap, one per session.
#[derive(Clone)]
pub struct BiginServer {
    inner: Arc<Inner>,
    tool_router: ToolRouter<Self>,
    /// The listed definitions, with compacted schemas (see `schema`).
    listed: Arc<Vec<rmcp::model::Tool>>,
    instructions: Arc<String>,
}

impl BiginServer {
    /// A server exposing the tools `options.filter` selects.
    pub fn new(client: BiginClient, options: ServerOptions) -> Result<Self, FilterError> {
        let selected: BTreeSet<&str> = options.filter.select()?;
        let mut tool_router = tools::router();
        for t in tool_router.list_all() {
            if !selected.contains(t.name.as_ref()) {
                tool_router.remove_route(&t.name);
            }
        }
        let listed: Vec<rmcp::model::Tool> = tool_router
            .list_all()
            .into_iter()
            .map(|mut t| {
                t.input_schema = Arc::new(schema::compact_input(&t.input_schema));
                // A write's result is small and flat; one level says so,
                // leaving the byte budget to the read tools.
                let read_only = t.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true);
                let depth = if read_only { 2 } else { 1 };
                t.output_schema = t
                    .output_schema
                    .map(|o| Arc::new(schema::compact_output_to(&o, depth)));
                t
            })
            .collect();
        let instructions = instructions(&selected);
        Ok(BiginServer {
            inner: Arc::new(Inner {
                client,
                cache: Cache::new(DEFAULT_TTL),
                audit: options.audit,
                expires_at: options.expires_at,
                shutdown: options.shutdown,
                calls: tokio::sync::Semaphore::new(MAX_CONCURRENT_CALLS),
                user_locks: Default::default(),
                filter: options.filter,
                snapshots: options.snapshots,
                elicitation: options.elicitation,
            }),
            tool_router,
            listed: Arc::new(listed),
            instructions: Arc::new(instructions),
        })
    }

    /// The tools this server lists (what `tools/list` returns).
    pub fn tools(&self) -> Vec<rmcp::model::Tool> {
        self.listed.as_ref().clone()
    }

    /// The text sent as `instructions` at initialize.
    pub fn instructions(&self) -> &str {
        &self.instructions
    }

    pub(crate) fn client(&self) -> &BiginClient {
        &self.inner.client
    }

    pub(crate) fn cache(&self) -> &Cache {
        &self.inner.cache
    }

    pub(crate) fn audit_log(&self) -> &AuditLog {
        &self.inner.audit
    }

    pub(crate) fn shutdown(&self) -> &Shutdown {
        &self.inner.shutdown
    }

    pub(crate) fn user_locks(&self) -> &UserLocks {
        &self.inner.user_locks
    }

    pub(crate) fn elicitation_enabled(&self) -> bool {
        self.inner.elicitation
    }

    // ---- reads through the session cache: (value, came from the cache) ----

    pub(crate) async fn users(
        &self,
        ty: UserType,
        fresh: bool,
    ) -> Result<(Arc<Vec<User>>, bool), ToolError> {
        let c = &self.inner.cache;
        Ok(c.users(ty)
            .get(c.ttl, fresh, || self.inner.client.list_users(ty))
            .await?)
    }

    pub(crate) async fn roles(&self, fresh: bool) -> Result<(Arc<Vec<Role>>, bool), ToolError> {
        let c = &self.inner.cache;
        Ok(c.roles
            .get(c.ttl, fresh, || self.inner.client.list_roles())
            .await?)
    }

    pub(crate) async fn profiles(
        &self,
        fresh: bool,
    ) -> Result<(Arc<Vec<Profile>>, bool), ToolError> {
        let c = &self.inner.cache;
        Ok(c.profiles
            .get(c.ttl, fresh, || self.inner.client.list_profiles())
            .await?)
    }

    pub(crate) async fn org(&self, fresh: bool) -> Result<(Arc<Org>, bool), ToolError> {
        let c = &self.inner.cache;
        Ok(c.org
            .get(c.ttl, fresh, || self.inner.client.get_org())
            .await?)
    }

    pub(crate) async fn profile_detail(
        &self,
        id: &ZohoId,
        fresh: bool,
    ) -> Result<(Arc<Option<Profile>>, bool), ToolError> {
        let c = &self.inner.cache;
        Ok(c.profile_detail(id.as_str())
            .get(c.ttl, fresh, || self.inner.client.get_profile(id))
            .await?)
    }

    /// Every profile's permissions, at most four requests at a time (Zoho's
    /// concurrency limits are per organisation); the flag says whether all
    /// came from the cache.
    pub(crate) async fn profile_facts<'p, P: Named + 'p>(
        &self,
        profiles: impl IntoIterator<Item = &'p P>,
        fresh: bool,
    ) -> (Vec<Result<ProfileFacts, ToolError>>, bool) {
        let reads: Vec<_> = profiles
            .into_iter()
            .map(|p| async move {
                let id = ZohoId::parse(p.id(), "profile id")?;
                let (detail, cached) = self.profile_detail(&id, fresh).await?;
                Ok::<_, ToolError>((
                    ProfileFacts {
                        id: p.id().to_string(),
                        name: p.name().to_string(),
                        summary: detail.as_ref().as_ref().and_then(summarize),
                    },
                    cached,
                ))
            })
            .collect();
        let results: Vec<_> = futures::stream::iter(reads).buffered(4).collect().await;
        let all_cached = results.iter().all(|r| matches!(r, Ok((_, true))));
        (
            results.into_iter().map(|r| r.map(|(f, _)| f)).collect(),
            all_cached,
        )
    }

    /// The access review, with its evidence header; stores a snapshot and
    /// compares with `since` when asked.
    pub async fn access_review(
        &self,
        since: Option<Since>,
        fresh: bool,
    ) -> Result<AccessReview, ToolError> {
        let (data, credits) = count_requests(async {
            let ((users, c1), (roles, c2), (org, c4)) = tokio::try_join!(
                self.users(UserType::AllUsers, fresh),
                self.roles(fresh),
                self.org(fresh),
            )?;
            // The profiles that matter are the ones users hold: their
            // permissions decide who is an administrator. Taking them from
            // the users (rather than the profile list) saves a credit, and a
            // profile nobody holds grants nobody anything.
            let mut held: Vec<&Ref> = Vec::new();
            for p in users.iter().filter_map(|u| u.profile.as_deref()) {
                if !held.iter().any(|x| x.id == p.id) {
                    held.push(p);
                }
            }
            // The built-in Administrator profile is administrator-level
            // whatever its permissions say, so reading them would only cost
            // a credit.
            let (builtin, others): (Vec<&Ref>, Vec<&Ref>) = held
                .into_iter()
                .partition(|p| p.name.eq_ignore_ascii_case("administrator"));
            let (facts, c3) = self.profile_facts(others.iter().copied(), fresh).await;
            // A profile whose permissions cannot be read could be
            // administrator-level: a review without them could leave an
            // admin out, so there is no review.
            let mut facts = others
                .iter()
                .zip(facts)
                .map(|(p, f)| match f {
                    Ok(f) if f.summary.is_some() => Ok(f),
                    Ok(_) => Err(ToolError(format!(
                        "users hold profile '{}' ({}) but Zoho gives no permissions for it, so this review cannot tell whether its holders are administrators; no review was made. Retry, or check the profile in Bigin.",
                        p.name, p.id
                    ))),
                    Err(e) => Err(ToolError(format!(
                        "cannot read the permissions of profile '{}' ({}), so this review cannot tell whether its holders are administrators; no review was made: {e}",
                        p.name, p.id
                    ))),
                })
                .collect::<Result<Vec<ProfileFacts>, ToolError>>()?;
            facts.extend(builtin.iter().map(|p| ProfileFacts {
                id: p.id.clone(),
                name: p.name.clone(),
                summary: None,
            }));
            facts.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
            Ok::<_, ToolError>((users, roles, facts, org, c1 && c2 && c3 && c4))
        })
        .await;
        let (users, roles, facts, org, from_cache) = data?;
        let computed = access_review(&users, &roles, &facts);
        let evidence = Evidence {
            generated_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            organization_id: org.id.clone(),
            organization_name: org.company_name.clone().unwrap_or_default(),
            data_centre: self.data_centre(),
            credits_used: credits,
            from_cache,
        };
        let mut findings = computed.findings;
        let mut changes = None;
        let mut snapshot = None;
        if let Some(store) = &self.inner.snapshots {
            if let Some(since) = &since {
                match store.find(&org.id, since) {
                    Ok(Some(old)) => changes = Some(diff(&old, &users, &computed.admin_flags)),
                    Ok(None) => {
                        let asked = match since {
                            Since::Last => "last".to_string(),
                            Since::At(t) => t.to_rfc3339(),
                        };
                        findings.push(Finding::info(
                            "no_baseline",
                            format!(
                                "no earlier review of this organisation matches since={asked}; this review is stored as the first"
                            ),
                        ));
                    }
                    Err(e) => findings.push(Finding::info(
                        "no_baseline",
                        format!("earlier reviews cannot be read: {e}"),
                    )),
                }
            }
            let snap = SnapshotView {
                evidence: &evidence,
                users: &users,
                admin_flags: &computed.admin_flags,
            };
            match store.save(&evidence, &snap) {
                Ok(p) => snapshot = Some(p.display().to_string()),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot store the review snapshot");
                    findings.push(Finding::info(
                        "snapshot_not_saved",
                        format!("this review could not be stored for later comparison: {e}"),
                    ));
                }
            }
        } else if since.is_some() {
            return Err(ToolError(
                "this server keeps no review snapshots, so it cannot compare with an earlier review".into(),
            ));
        }
        Ok(AccessReview {
            evidence,
            users: computed.users,
            profiles: computed.profiles,
            roles: computed.roles,
            admins: computed.admins,
            findings,
            changes,
            snapshot,
        })
    }

    /// The data centre the requests went to: its code, or the API domain.
    fn data_centre(&self) -> String {
        match self.inner.client.api_domain() {
            Some(d) => DataCentre::from_api_domain(&d)
                .map(|dc| dc.code.to_string())
                .unwrap_or(d),
            None => "unknown".into(),
        }
    }
}

/// How the exposed tools fit together, sent at initialize. Only tools the
/// client can call are named.
fn instructions(exposed: &BTreeSet<&str>) -> String {
    let has = |t: &str| exposed.contains(t);
    let mut parts = vec!["Administer one Zoho Bigin organisation.".to_string()];
    let mut review = Vec::new();
    if has("bigin_access_review") {
        review.push("bigin_access_review answers an access review in one call (users per profile and role, every active admin, risky findings; since=\"last\" shows what changed)");
    }
    if has("bigin_list_users") {
        review.push("bigin_list_users filters by profile, role, status or search");
    }
    if !review.is_empty() {
        parts.push(format!("Review first: {}.", review.join("; ")));
    }
    if has("bigin_get_user") {
        parts.push("Verify before acting: bigin_get_user shows the exact record.".into());
    }
    let writes: Vec<&str> = [
        "bigin_set_user_status",
        "bigin_update_user",
        "bigin_delete_user",
    ]
    .into_iter()
    .filter(|t| has(t))
    .collect();
    if !writes.is_empty() {
        let mut w = format!(
            "Act last: {} need the user's email as confirm_email; use dry_run=true to preview.",
            writes.join(", ")
        );
        if has("bigin_set_user_status") {
            w.push_str(" Prefer deactivation (bigin_set_user_status inactive) to deletion.");
        }
        if has("bigin_update_user") {
            w.push_str(" bigin_update_user lowers a profile or changes a role, by name or id.");
        }
        parts.push(w);
    }
    if has("bigin_invite_user") {
        parts.push("bigin_invite_user adds a user (dry_run=true previews); they stay unconfirmed until they accept.".into());
    }
    if writes.is_empty() && !has("bigin_invite_user") {
        parts.push("This server changes nothing in Zoho: its write tools are off.".into());
    }
    parts.push("Ids are strings of up to 19 digits.".into());
    parts.join(" ")
}

impl ServerHandler for BiginServer {
    /// Up to 2025-11-25: the write guard asks people to confirm with
    /// `elicitation/create`, a server-to-client request that 2026-07-28
    /// replaces with multi-round-trip results. Offering only revisions where
    /// it works keeps one confirmation path, and every client in use today
    /// (Claude Desktop, Claude Code, Cursor, VS Code) starts with an
    /// `initialize` of 2025-11-25 or earlier.
    fn supported_protocol_versions(&self) -> std::borrow::Cow<'static, [ProtocolVersion]> {
        std::borrow::Cow::Borrowed(ProtocolVersion::known_up_to(&ProtocolVersion::V_2025_11_25))
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .build(),
        )
        .with_server_info(Implementation::new("bigin-mcp", env!("CARGO_PKG_VERSION")))
        .with_instructions(self.instructions.to_string())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListToolsResult, rmcp::ErrorData> {
        Ok(rmcp::model::ListToolsResult::with_all_items(self.tools()))
    }

    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        self.listed.iter().find(|t| t.name == name).cloned()
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, rmcp::ErrorData> {
        Ok(ListPromptsResult::with_all_items(prompts::list()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, rmcp::ErrorData> {
        prompts::get(&request).map(Into::into)
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
        // A tool the flags removed stays unlisted, but a call to it says how
        // to get it, rather than "tool not found".
        if !self.tool_router.has_route(&request.name)
            && let Some(why) = self.inner.filter.why_removed(&request.name)
        {
            let msg = format!("{why}. Nothing was sent to Zoho.");
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
