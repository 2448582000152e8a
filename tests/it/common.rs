//! Shared fixtures: a sandbox per test, clients and servers wired to it.

use std::sync::Arc;
use std::time::Duration;

use bigin_mcp::mcp::{AuditLog, BiginServer, ElicitationPolicy, ServerOptions, ToolFilter};
use bigin_mcp::sandbox::{self, RecordedRequest, Sandbox, SandboxOptions, VariantName};
use bigin_mcp::transport::line_transport;
use bigin_mcp::zoho::{
    BiginClient, ClientOptions, RefreshCredentials, RefreshTokenSource, http_client,
};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use secrecy::SecretString;
use serde_json::Value;

pub async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions::default())
        .await
        .expect("sandbox starts on 127.0.0.1")
}

/// A sandbox playing one of the plausible Zohos ([`VariantName::ALL`] lists
/// them), for tests that must hold against each.
pub async fn sandbox_as(name: VariantName) -> Sandbox {
    Sandbox::start(SandboxOptions {
        variant: name.variant(),
        ..Default::default()
    })
    .await
    .expect("sandbox starts on 127.0.0.1")
}

/// A sandbox that says the user's data centre is `eu`, so nothing can pass
/// by defaulting to `us`.
pub async fn eu_sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions {
        location: "eu".into(),
        ..Default::default()
    })
    .await
    .expect("sandbox starts on 127.0.0.1")
}

/// A port that was free a moment ago (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn creds(sb: &Sandbox) -> RefreshCredentials {
    RefreshCredentials {
        client_id: sandbox::DEMO_CLIENT_ID.into(),
        client_secret: SecretString::from(sandbox::DEMO_CLIENT_SECRET.to_string()),
        refresh_token: SecretString::from(sandbox::DEMO_REFRESH_TOKEN.to_string()),
        accounts_url: sb.base_url(),
        api_domain: None,
    }
}

/// Short waits so retry tests take milliseconds, not the production 20 s.
pub fn fast_options() -> ClientOptions {
    ClientOptions {
        api_domain_override: None,
        timeout: Duration::from_millis(800),
        max_rate_limit_wait: Duration::from_secs(3),
        read_retries: 2,
        backoff_base: Duration::from_millis(20),
        ..Default::default()
    }
}

pub fn client_with(sb: &Sandbox, opts: ClientOptions) -> (BiginClient, Arc<RefreshTokenSource>) {
    let http = http_client(Duration::from_secs(10));
    let tokens = Arc::new(RefreshTokenSource::new(http.clone(), Arc::new(creds(sb))));
    (BiginClient::new(http, tokens.clone(), opts), tokens)
}

pub fn client(sb: &Sandbox) -> (BiginClient, Arc<RefreshTokenSource>) {
    client_with(sb, fast_options())
}

/// A server over `sb` with `filter`, connected to an rmcp client in-process.
pub struct Harness {
    pub client: RunningService<RoleClient, ()>,
    pub tokens: Arc<RefreshTokenSource>,
    pub audit_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

pub async fn harness(sb: &Sandbox, filter: ToolFilter) -> Harness {
    harness_with(sb, filter, None).await
}

pub async fn harness_with(
    sb: &Sandbox,
    filter: ToolFilter,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Harness {
    harness_full(sb, filter, expires_at, fast_options()).await
}

/// Server options for tests: no expiry, no snapshots, elicitation on.
pub fn options(filter: ToolFilter, audit: std::path::PathBuf) -> ServerOptions {
    ServerOptions {
        filter,
        expires_at: None,
        audit: AuditLog::new(audit),
        shutdown: Default::default(),
        snapshots: None,
        elicitation: ElicitationPolicy::Always,
        locks: None,
    }
}

/// A server with `opts` over the client `c`, on the same line transport
/// `serve` uses, in a task of its own; returns the client's end of the pipe.
pub fn serve_in_process(c: BiginClient, opts: ServerOptions) -> tokio::io::DuplexStream {
    let server = BiginServer::new(c, opts).expect("valid filter");
    let (server_end, client_end) = tokio::io::duplex(1 << 20);
    let (r, w) = tokio::io::split(server_end);
    let t = line_transport(r, w);
    tokio::spawn(async move {
        if let Ok(s) = server.serve((t.sink, t.stream)).await {
            let _ = s.waiting().await;
        }
    });
    client_end
}

/// A harness whose Zoho client has these options.
pub async fn harness_full(
    sb: &Sandbox,
    filter: ToolFilter,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    opts: ClientOptions,
) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.log");
    let (c, tokens) = client_with(sb, opts);
    let client_end = serve_in_process(
        c,
        ServerOptions {
            expires_at,
            ..options(filter, audit_path.clone())
        },
    );
    let client = ().serve(client_end).await.expect("MCP initialize");
    Harness {
        client,
        tokens,
        audit_path,
        _dir: dir,
    }
}

impl Harness {
    pub async fn call(&self, tool: &str, args: Value) -> CallToolResult {
        let mut p = CallToolRequestParams::new(tool.to_string());
        if let Value::Object(m) = args {
            p = p.with_arguments(m);
        }
        self.client.call_tool(p).await.expect("tools/call answered")
    }

    /// A successful call's structured content.
    pub async fn ok(&self, tool: &str, args: Value) -> Value {
        let r = self.call(tool, args).await;
        assert_ne!(r.is_error, Some(true), "{tool} failed: {}", text(&r));
        r.structured_content.clone().expect("structuredContent")
    }

    /// A failed call's message.
    pub async fn err(&self, tool: &str, args: Value) -> String {
        let r = self.call(tool, args).await;
        assert_eq!(r.is_error, Some(true), "{tool} should fail: {}", text(&r));
        text(&r)
    }

    pub fn audit_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.audit_path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("audit lines are JSON"))
            .collect()
    }
}

pub fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Requests that change something in Zoho.
pub fn writes(reqs: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    reqs.iter()
        .filter(|r| r.method != "GET" && !r.path.starts_with("/oauth"))
        .collect()
}

pub fn api_requests(reqs: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    reqs.iter()
        .filter(|r| r.path.starts_with("/bigin"))
        .collect()
}

pub fn filter() -> ToolFilter {
    ToolFilter::default()
}

pub fn all_tools() -> ToolFilter {
    ToolFilter {
        allow_delete: true,
        ..Default::default()
    }
}

/// The first active user other than the primary one, to aim writes at.
pub async fn writable_user(sb: &Sandbox) -> Value {
    let primary = sb.primary_user_id();
    all_users(sb)
        .await
        .into_iter()
        .find(|u| u["status"] == "active" && s(u, "id") != primary)
        .expect("an active non-primary user")
}

/// Every user in the sandbox as Zoho's JSON, fetched independently of the tools.
pub async fn all_users(sb: &Sandbox) -> Vec<Value> {
    let (c, _) = client(sb);
    let mut out = Vec::new();
    c.for_each_users_page(bigin_mcp::zoho::UserType::AllUsers, |page| {
        for raw in page {
            out.push(serde_json::from_str(raw.get()).expect("a user record"));
        }
        Ok(true)
    })
    .await
    .unwrap();
    out
}

pub fn s(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The users of a concise `bigin_list_users` page (columns and rows, with
/// roles and profiles given once) as objects with `role` and `profile`
/// `{id, name}` refs, checking the table's shape on the way.
pub fn concise_users(page: &Value) -> Vec<Value> {
    assert_eq!(
        page["columns"],
        serde_json::json!([
            "id",
            "full_name",
            "email",
            "status",
            "role_id",
            "profile_id"
        ]),
        "{page}"
    );
    let refs = |kind: &str, id: &Value| match id.as_str() {
        Some(i) => {
            serde_json::json!({"id": i, "name": page[kind][i].as_str().expect("a legend entry")})
        }
        None => Value::Null,
    };
    page["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r[0], "full_name": r[1], "email": r[2], "status": r[3],
                "role": refs("roles", &r[4]), "profile": refs("profiles", &r[5]),
            })
        })
        .collect()
}
