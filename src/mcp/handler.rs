//! [`BiginServer`]: the MCP handler. It owns what every call shares (the
//! admin session and write guard, the concurrency limit) and the rules
//! every call passes through: expiry, tools that start-up flags removed,
//! and prompts. The tools themselves live in `tools/`, one module per
//! domain, as thin methods over `admin`'s services.
//!
//! The domain routers are named here, with their toolsets, and the tool
//! catalogue is read off them here: `catalog` holds only the rules, so
//! the modules depend one way (tools → handler → catalog).

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    ContentBlock, GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams, ProtocolVersion,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, ServerCapabilities,
    ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler};

use super::catalog::{FilterError, ToolFilter};
use super::catalog::{Method, ToolInfo, method_of};
use super::confirm::{Elicit, ElicitationPolicy};
use super::{prompts, resources, schema};
use crate::admin::{AuditLog, Session, Shutdown, SnapshotStore, WriteGuard};
use crate::zoho::BiginClient;

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
    /// When to ask the person to confirm each real write by MCP
    /// elicitation (`--elicitation`; `--no-elicitation` is `never`).
    pub elicitation: ElicitationPolicy,
    /// Where writes to one user take their cross-process lock; `None`
    /// serialises them within this process only.
    pub locks: Option<std::path::PathBuf>,
}

/// Every domain router with its toolset name and its tools' scopes, in
/// catalogue order. Both are generated or declared in `tools/` on
/// `BiginServer` itself, so this names them without importing `tools`. Built once per process: the catalogue (read by the
/// start-up filters) and the server both use it, and each build generates
/// every tool's JSON schemas.
type Routers = Vec<(&'static str, ToolRouter<BiginServer>, Scopes)>;
type Scopes = &'static [(&'static str, &'static [super::catalog::Scope])];

fn routers() -> &'static Routers {
    static ROUTERS: OnceLock<Routers> = OnceLock::new();
    ROUTERS.get_or_init(|| {
        vec![
            (
                "users",
                BiginServer::users_router(),
                BiginServer::USERS_SCOPES,
            ),
            (
                "roles",
                BiginServer::roles_router(),
                BiginServer::ROLES_SCOPES,
            ),
            (
                "profiles",
                BiginServer::profiles_router(),
                BiginServer::PROFILES_SCOPES,
            ),
            ("org", BiginServer::org_router(), BiginServer::ORG_SCOPES),
            (
                "audit",
                BiginServer::review_router(),
                BiginServer::REVIEW_SCOPES,
            ),
        ]
    })
}

/// All routes in one router, as the server dispatches them.
fn router() -> ToolRouter<BiginServer> {
    routers()
        .iter()
        .map(|(_, r, _)| r.clone())
        .fold(ToolRouter::new(), |acc, r| acc + r)
}

/// Every tool the server knows, derived once from the domain routers, in
/// the order the README lists them.
pub fn catalogue() -> &'static [ToolInfo] {
    static TOOLS: OnceLock<Vec<ToolInfo>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        routers()
            .iter()
            .flat_map(|&(toolset, ref router, scopes)| {
                router
                    .list_all()
                    .into_iter()
                    .map(move |t| {
                        let name: &'static str = match t.name {
                            std::borrow::Cow::Borrowed(n) => n,
                            std::borrow::Cow::Owned(n) => Box::leak(n.into_boxed_str()),
                        };
                        ToolInfo {
                            name,
                            // An unknown verb fails the catalogue's tests;
                            // until then it is guarded as a deletion.
                            method: method_of(name).unwrap_or(Method::Delete),
                            toolset,
                            read_only: t
                                .annotations
                                .as_ref()
                                .and_then(|a| a.read_only_hint)
                                .unwrap_or(false),
                            scopes: scopes
                                .iter()
                                .find(|(n, _)| *n == name)
                                .map_or(&[][..], |(_, s)| *s),
                        }
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    })
}

/// Looks a tool up by name.
pub fn tool_info(name: &str) -> Option<&'static ToolInfo> {
    catalogue().iter().find(|t| t.name == name)
}

/// The Zoho scopes the tools `filter` exposes can need: what `login`
/// should ask for to serve them.
pub fn required_scopes(filter: &ToolFilter) -> Result<Vec<&'static str>, FilterError> {
    filter.scopes_in(catalogue())
}

/// The scopes `login` asks for by default: what every tool needs
/// (`bigin_delete_user` included, so a later `--allow-delete` works without a
/// new login), or only what the read tools need for `login --read-only`.
pub fn login_scopes(read_only: bool) -> Vec<&'static str> {
    let filter = ToolFilter {
        read_only,
        allow_delete: !read_only,
        ..Default::default()
    };
    // The unfiltered catalogue cannot fail to select: no list names a tool.
    filter.scopes_in(catalogue()).unwrap_or_default()
}

/// The toolsets in catalogue order, for `--toolsets`' help text.
pub fn toolset_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for t in catalogue() {
        if !names.contains(&t.toolset) {
            names.push(t.toolset);
        }
    }
    names
}

/// The filter rules of `catalog`, over this server's catalogue.
impl ToolFilter {
    /// The names of the tools to expose, or an error naming the unknown
    /// entries and the valid ones.
    pub fn select(&self) -> Result<BTreeSet<&'static str>, FilterError> {
        self.select_in(catalogue())
    }

    /// Why the filters leave no tool; `None` when some tool is left.
    pub fn explain_empty(&self) -> Option<String> {
        self.explain_empty_in(catalogue())
    }

    /// Why these flags removed `name`; `None` when exposed or unknown.
    pub fn why_removed(&self, name: &str) -> Option<String> {
        self.why_removed_in(catalogue(), name)
    }
}

/// Claude Code cuts a tool result above about 25,000 tokens unless the
/// result raises its own cap under this `_meta` key (up to 500,000 chars).
const MAX_RESULT_SIZE_KEY: &str = "anthropic/maxResultSizeChars";

/// The cap a read that can be large declares: one full user record (Zoho's
/// record is a few KB; this leaves room for custom fields), or a page of up
/// to 100 of them with `detail: "full"`.
fn max_result_chars(request: &CallToolRequestParams) -> Option<u64> {
    let detail = request
        .arguments
        .as_ref()
        .and_then(|a| a.get("detail"))
        .and_then(serde_json::Value::as_str);
    match (request.name.as_ref(), detail) {
        ("bigin_get_user", _) => Some(50_000),
        ("bigin_list_users", Some("full")) => Some(500_000),
        _ => None,
    }
}

/// Read-only tool calls running at once; the rest wait their turn. Zoho
/// limits concurrency per organisation anyway, and this bounds memory.
const MAX_CONCURRENT_CALLS: usize = 8;

/// Write calls running at once, counted apart from reads: a write may wait
/// up to the guard's confirmation timeout for a person, and writes waiting
/// on dialogs must never hold a slot a read needs.
const MAX_CONCURRENT_WRITES: usize = 4;

struct Inner {
    session: Arc<Session>,
    /// Every write passes it.
    guard: WriteGuard,
    expires_at: Option<DateTime<Utc>>,
    /// Slots of read-only calls.
    calls: tokio::sync::Semaphore,
    /// Slots of write calls (see [`MAX_CONCURRENT_WRITES`]).
    writes: tokio::sync::Semaphore,
    filter: ToolFilter,
    snapshots: Option<SnapshotStore>,
    elicitation: ElicitationPolicy,
    /// The audit log's path, read by the `bigin://audit/recent` resource.
    audit_path: std::path::PathBuf,
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
        let (tool_router, listed) = selected_tools(&selected);
        let instructions = instructions(&selected);
        let session = Arc::new(Session::new(client));
        let audit_path = options.audit.path().to_path_buf();
        Ok(BiginServer {
            inner: Arc::new(Inner {
                guard: {
                    let g = WriteGuard::new(Arc::clone(&session), options.audit, options.shutdown);
                    match options.locks {
                        Some(dir) => g.with_lock_dir(dir),
                        None => g,
                    }
                },
                session,
                expires_at: options.expires_at,
                calls: tokio::sync::Semaphore::new(MAX_CONCURRENT_CALLS),
                writes: tokio::sync::Semaphore::new(MAX_CONCURRENT_WRITES),
                filter: options.filter,
                snapshots: options.snapshots,
                elicitation: options.elicitation,
                audit_path,
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

    /// Whether the start-up filters expose the tool `name` (its verdict).
    pub(crate) fn exposes(&self, name: &str) -> bool {
        tool_info(name).is_some_and(|t| self.inner.filter.verdict(t).is_ok())
    }

    /// The gate every write passes.
    pub(crate) fn guard(&self) -> &WriteGuard {
        &self.inner.guard
    }

    /// How this call's person is asked to confirm a write.
    pub(crate) fn confirm<'a>(&self, ctx: &'a RequestContext<RoleServer>) -> Elicit<'a> {
        Elicit {
            ctx,
            policy: self.inner.elicitation,
        }
    }

    /// The organisation this server administers: client and cache.
    pub(crate) fn session(&self) -> &Session {
        &self.inner.session
    }

    /// Where access reviews are stored, if anywhere.
    pub(crate) fn snapshots(&self) -> Option<&SnapshotStore> {
        self.inner.snapshots.as_ref()
    }

    /// This server's organisation id, once a read has seen it: the review
    /// resources are this organisation's snapshots.
    fn org_id(&self) -> Option<String> {
        self.inner.session.known_org().map(|o| o.id)
    }

    /// Names the organisation in a result that does not already (the
    /// review's evidence, `bigin_get_organization`), so two servers side by
    /// side are told apart. Read once per process; unreadable, not named.
    async fn name_org(&self, tool: &str, r: &mut CallToolResult) {
        let Some(serde_json::Value::Object(m)) = r.structured_content.as_mut() else {
            return;
        };
        if tool == "bigin_get_organization" || m.contains_key("evidence") {
            return;
        }
        // Bounded: the result is ready, the name must not hold it back.
        let within = std::time::Duration::from_secs(2);
        let Some(org) = self.inner.session.org_name(within).await else {
            return;
        };
        let named = serde_json::json!({"id": org.id, "name": org.name});
        // A JSON text stays the structured content's twin (the key is put
        // in place, not the result serialised again); a table gets a line.
        match r.content.first_mut() {
            Some(ContentBlock::Text(t)) if t.text.starts_with('{') => {
                let empty = t.text[1..].trim_start().starts_with('}');
                let key = format!("\"organization\":{named}{}", if empty { "" } else { "," });
                t.text.insert_str(1, &key);
            }
            _ => {
                let line = format!("Organisation: {}", super::view::cell(&org.to_string()));
                r.content.push(ContentBlock::text(line));
            }
        }
        m.insert("organization".into(), named);
    }
}

/// A result that names a stored snapshot (`"snapshot": path`) also gives,
/// in text, the resource that reads it: some clients drop resource links.
fn name_snapshot(r: &mut CallToolResult) {
    let Some(path) = r
        .structured_content
        .as_ref()
        .and_then(|v| v.get("snapshot"))
        .and_then(serde_json::Value::as_str)
    else {
        return;
    };
    // The path is already in the text (the JSON names it); the URI is
    // added in as few bytes as can say it, as the review's text is near
    // its 8 KiB budget.
    if let Some(uri) = resources::uri_of(std::path::Path::new(path)) {
        r.content
            .push(ContentBlock::text(format!("Snapshot resource: {uri}")));
    }
}

/// The router of the `selected` tools, and their definitions as listed
/// (with compacted schemas).
fn selected_tools(selected: &BTreeSet<&str>) -> (ToolRouter<BiginServer>, Vec<rmcp::model::Tool>) {
    let mut tool_router = router();
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
    (tool_router, listed)
}

/// The definitions a server with `filter` would list (`tools/list`),
/// without a server: `bigin-mcp tools` needs no client and no credentials.
pub fn definitions(filter: &ToolFilter) -> Result<Vec<rmcp::model::Tool>, FilterError> {
    Ok(selected_tools(&filter.select()?).1)
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
    let apply = "bigin_apply_review_decisions";
    if has(apply) {
        parts.push(format!("{apply} carries out a review's decisions: call it for the plan, show it, and pass execute=true with its token only once the person agrees."));
    }
    if writes.is_empty() && !has("bigin_invite_user") && !has(apply) {
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
                .enable_resources()
                .enable_completions()
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
        Ok(ListPromptsResult::with_all_items(prompts::list(|t| {
            self.exposes(t)
        })))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, rmcp::ErrorData> {
        // A prompt the filters leave out is refused, as it is unlisted.
        if prompts::list(|_| true)
            .iter()
            .any(|p| p.name == request.name)
            && !prompts::offered(&request.name, |t| self.exposes(t))
        {
            return Err(rmcp::ErrorData::invalid_params(
                format!(
                    "prompt '{}' is not offered: this server's start-up filters remove tools it uses",
                    request.name
                ),
                None,
            ));
        }
        prompts::get(&request, |t| self.exposes(t)).map(Into::into)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, rmcp::ErrorData> {
        Ok(ListResourcesResult::with_all_items(resources::list(
            self.inner.snapshots.as_ref(),
            self.org_id().as_deref(),
            &self.inner.audit_path,
        )))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, rmcp::ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            resources::templates(self.inner.snapshots.as_ref()),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, rmcp::ErrorData> {
        // A snapshot is up to 128 MB: read off the async workers.
        let (store, org, audit) = (
            self.inner.snapshots.clone(),
            self.org_id(),
            self.inner.audit_path.clone(),
        );
        let contents = tokio::task::spawn_blocking(move || {
            resources::read(&request.uri, store.as_ref(), org.as_deref(), &audit)
        })
        .await
        .map_err(|e| rmcp::ErrorData::internal_error(e.to_string(), None))??;
        Ok(ReadResourceResult::new(vec![contents]).into())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, rmcp::ErrorData> {
        Ok(resources::complete(
            &request,
            self.inner.snapshots.as_ref(),
            self.org_id().as_deref(),
        ))
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
        let read_only = tool_info(&request.name).is_some_and(|t| t.read_only);
        let slots = if read_only {
            &self.inner.calls
        } else {
            &self.inner.writes
        };
        let Ok(_permit) = slots.acquire().await else {
            return Err(rmcp::ErrorData::internal_error(
                "the server is stopping",
                None,
            ));
        };
        let watch = super::progress::TOOLS
            .contains(&request.name.as_ref())
            .then(|| super::progress::Watch::of(&context))
            .flatten();
        let max_chars = max_result_chars(&request);
        let tool = request.name.clone();
        let tcc = ToolCallContext::new(self, request, context);
        let mut response = super::progress::reporting(watch, self.tool_router.call(tcc)).await?;
        if let CallToolResponse::Complete(r) = &mut response
            && r.is_error != Some(true)
        {
            name_snapshot(r);
            self.name_org(&tool, r).await;
        }
        if let (Some(n), CallToolResponse::Complete(r)) = (max_chars, &mut response)
            && r.is_error != Some(true)
        {
            r.meta
                .get_or_insert_with(rmcp::model::MetaObject::new)
                .0
                .insert(MAX_RESULT_SIZE_KEY.into(), n.into());
        }
        Ok(response)
    }
}
