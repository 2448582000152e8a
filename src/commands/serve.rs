//! `bigin-mcp serve`: wires credentials, the Zoho client, the tool filters
//! and the audit log into an MCP server on stdin/stdout.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bigin_mcp::cli::{ConnectionArgs, ServeArgs};
use bigin_mcp::mcp::{
    AuditLog, BiginServer, ElicitationPolicy, ServerOptions, Shutdown, SnapshotStore,
};
use bigin_mcp::sandbox::{self, Sandbox, SandboxOptions};
use bigin_mcp::transport::{TransportOptions, line_transport_with};
use bigin_mcp::zoho::{
    BiginClient, ClientOptions, DataCentre, Http, MissingCredentials, RefreshCredentials,
    RefreshTokenSource, TokenSource, check_base_url,
};
use rmcp::ServiceExt;
use rmcp::service::ServerInitializeError;
use secrecy::SecretString;

use super::UsageError;
use super::login::{os_store_opener, store_opener};
use bigin_mcp::auth::connect::{ConnectInClient, FindLogin, Found, InClientLogin, ReadSecret};
use bigin_mcp::auth::{
    DEFAULT_ACCOUNT, FileStore, KeychainCredentials, SecretKind, SecretStore, SecretsIn,
    check_account_name,
};

/// How to get credentials in a terminal command (`review`, `doctor`).
fn login_hint(command: &str) -> String {
    format!(
        "Not logged in to Zoho. Run `bigin-mcp login`, or set BIGIN_CLIENT_ID, BIGIN_CLIENT_SECRET and BIGIN_REFRESH_TOKEN; to try it without Zoho, run `bigin-mcp {command} --demo`."
    )
}

/// What a command does when nobody is logged in.
pub enum WhenNotLoggedIn {
    /// A terminal command: say how to log in (the command's name, for its
    /// `--demo`).
    Say(&'static str),
    /// `serve`: connect from inside the client (a consent link in the first
    /// tool call's error; see [`bigin_mcp::auth::connect`]).
    ConnectInClient {
        port: u16,
        pkce: bool,
        insecure_storage: bool,
        read_only: bool,
    },
}

impl WhenNotLoggedIn {
    fn hint(&self) -> String {
        match self {
            WhenNotLoggedIn::Say(command) => login_hint(command),
            WhenNotLoggedIn::ConnectInClient { .. } => "bigin-mcp is not connected to Zoho: the account file cannot be read. Check the server's log, or turn on the demo organisation (BIGIN_DEMO=1) to try the tools without Zoho.".into(),
        }
    }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let filter = args.tool_filter();
    let selected = filter.select().map_err(|e| UsageError(e.0))?;
    if let Some(why) = filter.explain_empty() {
        tracing::warn!("{why}");
    }
    // A person who ran `serve` by hand sees silence otherwise: say what this
    // is and how to use it. Only when stdin is a terminal (a client always
    // pipes it), and only on stderr (stdout is the protocol's).
    if std::io::stdin().is_terminal() {
        eprintln!(
            "{}",
            first_run_hint(&started_with(), nobody_logged_in(&args.conn))
        );
    }
    let expires_at = match &args.expires_at {
        Some(s) => Some(
            chrono::DateTime::parse_from_rfc3339(s)
                .map_err(|e| UsageError(format!("--expires-at '{s}' is not an RFC 3339 time ({e}); e.g. 2026-12-31T18:00:00Z")))?
                .with_timezone(&chrono::Utc),
        ),
        None => None,
    };
    let audit_path = match args.audit_log.clone() {
        Some(p) => p,
        None => {
            let p = AuditLog::default_path()
                .context("no home directory for the default audit log; pass --audit-log PATH")?;
            // Demo writes go to a separate file so they never mix with real ones.
            if args.conn.demo {
                p.with_file_name("audit-demo.log")
            } else {
                p
            }
        }
    };

    // Held to the end: the demo organisation lives as long as the server.
    let Connection {
        client,
        sandbox: _sandbox,
        ..
    } = connect(
        &args.conn,
        args.demo_users,
        WhenNotLoggedIn::ConnectInClient {
            port: args.callback_port,
            pkce: !args.no_pkce,
            insecure_storage: args.insecure_storage,
            read_only: args.read_only,
        },
    )
    .await?;
    let audit = AuditLog::new(audit_path).with_account(&snapshot_account(&args.conn));
    // Writes refuse themselves without an audit record; say so now, not at
    // the first write.
    let exposes_writes = selected
        .iter()
        .any(|name| bigin_mcp::mcp::tool_info(name).is_some_and(|t| !t.read_only));
    if exposes_writes && let Err(e) = audit.check() {
        tracing::error!(
            "{e}. Write tools will refuse every change until this is fixed (--audit-log / BIGIN_AUDIT_LOG)."
        );
    }
    let shutdown = Shutdown::default();
    let server = BiginServer::new(
        client,
        ServerOptions {
            filter,
            expires_at,
            audit,
            shutdown: shutdown.clone(),
            snapshots: SnapshotStore::default_for(&snapshot_account(&args.conn)),
            // --no-elicitation (the older flag) wins: it can only mean never.
            elicitation: if args.no_elicitation {
                ElicitationPolicy::Never
            } else {
                args.elicitation
            },
            locks: bigin_mcp::admin::WriteGuard::default_lock_dir(),
        },
    )
    .map_err(|e| UsageError(e.0))?;
    tokio::spawn(flip_on_signal(shutdown.clone()));

    let t = line_transport_with(
        tokio::io::stdin(),
        tokio::io::stdout(),
        TransportOptions {
            shutdown,
            // A write already sent to Zoho finishes within one request
            // timeout; a little more lets its outcome reach the audit log.
            drain_timeout: Some(Duration::from_secs(args.conn.timeout.max(1) + 5)),
            ..Default::default()
        },
    );
    let service = match server.serve((t.sink, t.stream)).await {
        Ok(service) => service,
        // Nobody asked for anything: stdin ended (Ctrl-D, a client's probe
        // that hung up) or Ctrl-C came before `initialize`. Not a failure.
        Err(ServerInitializeError::ConnectionClosed(_) | ServerInitializeError::Cancelled) => {
            tracing::debug!("the input ended before initialize");
            let _ = t.writer.await;
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(anyhow::Error::new(e).context("MCP initialisation failed")),
    };
    let reason = service.waiting().await;
    tracing::debug!(?reason, "MCP session ended");
    // Every reply must reach stdout before the process exits.
    let _ = t.writer.await;
    Ok(ExitCode::SUCCESS)
}

/// What `serve` and `review` reach Zoho through.
pub struct Connection {
    pub client: BiginClient,
    /// The client's credentials, to ask for a token before the first
    /// request (`review` tells "not logged in" apart from other failures).
    pub tokens: Arc<dyn TokenSource>,
    /// The demo organisation; it serves as long as this lives.
    pub sandbox: Option<Sandbox>,
}

/// The Zoho client the flags ask for: the in-process sandbox with `--demo`,
/// else env credentials, else the keychain login of `--account`. Missing
/// credentials are not an error here: the first request says how to log in.
pub async fn connect(
    args: &ConnectionArgs,
    demo_users: Option<usize>,
    missing: WhenNotLoggedIn,
) -> anyhow::Result<Connection> {
    let api_domain = match &args.api_domain {
        Some(d) if !args.demo => {
            Some(check_base_url(d).map_err(|e| UsageError(format!("--api-domain: {e}")))?)
        }
        _ => None,
    };
    // Built on the first request, so start-up never loads the certificate store.
    let http = Http::lazy(Duration::from_secs(args.timeout));
    let mut demo: Option<Sandbox> = None;
    let tokens: Arc<dyn TokenSource> = if args.demo {
        let defaults = SandboxOptions::default();
        let sb = Sandbox::start(SandboxOptions {
            port: 0,
            users: demo_users.unwrap_or(defaults.users),
            ..defaults
        })
        .await
        .context("cannot start the demo sandbox on 127.0.0.1")?;
        let creds = RefreshCredentials {
            client_id: sandbox::DEMO_CLIENT_ID.into(),
            client_secret: SecretString::from(sandbox::DEMO_CLIENT_SECRET.to_string()),
            refresh_token: SecretString::from(sandbox::DEMO_REFRESH_TOKEN.to_string()),
            accounts_url: sb.base_url(),
            api_domain: None,
        };
        tracing::info!(url = %sb.base_url(), "demo: serving against the sandbox organisation");
        demo = Some(sb);
        Arc::new(RefreshTokenSource::new(http.clone(), Arc::new(creds)))
    } else {
        env_tokens(args, &http, missing)?
    };

    let client = BiginClient::new(
        http,
        tokens.clone(),
        ClientOptions {
            api_domain_override: api_domain,
            timeout: Duration::from_secs(args.timeout),
            ..Default::default()
        },
    );
    Ok(Connection {
        client,
        tokens,
        sandbox: demo,
    })
}

/// Whose reviews these are, for the snapshot directory: the demo, env
/// credentials, or the logged-in account.
pub fn snapshot_account(args: &ConnectionArgs) -> String {
    if args.demo {
        "demo".into()
    } else if std::env::var("BIGIN_REFRESH_TOKEN").is_ok_and(|v| !v.trim().is_empty()) {
        "env".into()
    } else {
        args.account.clone()
    }
}

/// Flips `shutdown` on SIGTERM or SIGINT (Ctrl-C). The transport then stops
/// reading and waits for the requests in flight; writes not yet sent refuse.
async fn flip_on_signal(shutdown: Shutdown) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::warn!("cannot listen for SIGTERM/SIGINT; they will end the server at once");
            return;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: finishing requests in flight"),
            _ = int.recv() => tracing::info!("SIGINT: finishing requests in flight"),
        }
        shutdown.trigger();
        // A second signal means "now": the person has stopped waiting.
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::warn!("second signal: exiting without waiting for requests in flight");
        std::process::exit(130);
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        tracing::info!("Ctrl-C: finishing requests in flight");
        shutdown.trigger();
    }
}

/// The arguments this server was started with, as `serve ...` (a bare
/// `bigin-mcp --demo` serves too), for the config line of the banner.
fn started_with() -> Vec<String> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("serve") {
        args.insert(0, "serve".into());
    }
    args
}

/// No demo, no env credentials and no stored login of the account: what a
/// person who runs `serve` by hand should hear first.
fn nobody_logged_in(conn: &ConnectionArgs) -> Option<String> {
    if conn.demo || std::env::var("BIGIN_REFRESH_TOKEN").is_ok_and(|v| !v.trim().is_empty()) {
        return None;
    }
    match super::accounts_file().and_then(|a| a.get(&conn.account).map_err(anyhow::Error::new)) {
        Ok(None) => Some(conn.account.clone()),
        _ => None,
    }
}

/// What `serve` says when started from a terminal.
fn first_run_hint(args: &[String], not_logged_in: Option<String>) -> String {
    let exe = super::this_binary()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "bigin-mcp".into());
    let quoted = serde_json::Value::from(exe.clone());
    let json_args = serde_json::Value::from(args.to_vec());
    let login = match not_logged_in {
        Some(account) => format!(
            "\nNobody is logged in to Zoho (account '{account}'): run `{exe} login` first, or add --demo to try the sandbox organisation. (Inside a client, the first tool call gives a link to connect instead.)\n"
        ),
        None => String::new(),
    };
    format!(
        "bigin-mcp {version}: an MCP server for Zoho Bigin, waiting for JSON-RPC on stdin.\n\
         An MCP client (Claude Desktop, Claude Code, Cursor, VS Code) starts it for you; you do not run it by hand.\n\
         {login}\
         \n\
         Add it to a client with `{exe} install claude-desktop` (or claude-code, cursor, vscode), or put this in the client's config:\n\
         \n\
         \x20 \"mcpServers\": {{ \"bigin\": {{ \"command\": {quoted}, \"args\": {json_args} }} }}\n\
         \n\
         Try the tools in a browser with the MCP Inspector and the demo organisation:\n\
         \n\
         \x20 npx @modelcontextprotocol/inspector {exe} serve --demo\n\
         \n\
         Still serving on stdin/stdout; press Ctrl-D or Ctrl-C to stop.",
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// Credentials from BIGIN_CLIENT_ID / BIGIN_CLIENT_SECRET / BIGIN_REFRESH_TOKEN
/// when a refresh token is set; otherwise the keychain login.
/// Missing ones do not stop the server: tools/list works and a call says how
/// to log in (or, in `serve`, gives the consent link).
fn env_tokens(
    args: &ConnectionArgs,
    http: &Http,
    missing: WhenNotLoggedIn,
) -> anyhow::Result<Arc<dyn TokenSource>> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let (id, secret, refresh) = (
        var("BIGIN_CLIENT_ID"),
        var("BIGIN_CLIENT_SECRET"),
        var("BIGIN_REFRESH_TOKEN"),
    );
    let (Some(client_id), Some(secret), Some(refresh)) =
        (id.clone(), secret.clone(), refresh.clone())
    else {
        // A refresh token is what makes env credentials: a lone
        // BIGIN_CLIENT_ID (handy for `login` and the in-client link) must
        // not hide a keychain login.
        if refresh.is_some() {
            let missing: Vec<&str> = [
                ("BIGIN_CLIENT_ID", &id),
                ("BIGIN_CLIENT_SECRET", &secret),
                ("BIGIN_REFRESH_TOKEN", &refresh),
            ]
            .into_iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k)
            .collect();
            return Ok(Arc::new(MissingCredentials(format!(
                "Incomplete env credentials: {} not set. Set all three in the server's env, or remove BIGIN_REFRESH_TOKEN to use a stored login.",
                missing.join(", ")
            ))));
        }
        return keychain_tokens(args, http, missing, id, secret);
    };
    let accounts_url = accounts_url(args)?;
    let creds = RefreshCredentials {
        client_id,
        client_secret: SecretString::from(secret),
        refresh_token: SecretString::from(refresh),
        accounts_url,
        api_domain: None,
    };
    Ok(Arc::new(RefreshTokenSource::new(
        http.clone(),
        Arc::new(creds),
    )))
}

/// The accounts server the flags name: `--accounts-url`, else `--dc`'s, else US.
fn accounts_url(args: &ConnectionArgs) -> anyhow::Result<String> {
    Ok(match (&args.accounts_url, &args.dc) {
        (Some(u), _) => {
            check_base_url(u).map_err(|e| UsageError(format!("--accounts-url: {e}")))?
        }
        (None, Some(dc)) => dc
            .parse::<DataCentre>()
            .map_err(UsageError)?
            .accounts
            .to_string(),
        (None, None) => "https://accounts.zoho.com".to_string(),
    })
}

/// The logged-in account, or what to do without one: `review` and
/// `doctor` say how to log in; `serve` connects from inside the client.
fn keychain_tokens(
    args: &ConnectionArgs,
    http: &Http,
    missing: WhenNotLoggedIn,
    client_id: Option<String>,
    client_secret: Option<String>,
) -> anyhow::Result<Arc<dyn TokenSource>> {
    check_account_name(&args.account).map_err(|e| UsageError(e.to_string()))?;
    match stored_login(args, http) {
        // `serve` keeps a stored login behind the in-client connection, so a
        // login Zoho refuses later gets a consent link, not terminal advice.
        Ok(Some(found)) if !matches!(missing, WhenNotLoggedIn::ConnectInClient { .. }) => {
            return Ok(found.tokens);
        }
        Ok(_) => {}
        Err(e) => {
            return Ok(Arc::new(MissingCredentials(format!(
                "{e:#}; {}",
                missing.hint()
            ))));
        }
    }
    let WhenNotLoggedIn::ConnectInClient {
        port,
        pkce,
        insecure_storage,
        read_only,
    } = missing
    else {
        let hint = missing.hint();
        return Ok(Arc::new(MissingCredentials(
            if args.account == DEFAULT_ACCOUNT {
                hint
            } else {
                format!(
                    "No login named '{0}'. Run `bigin-mcp login --account {0}`, or check --account / BIGIN_ACCOUNT. {hint}",
                    args.account
                )
            },
        )));
    };
    let accounts = super::accounts_file()?;
    let (secrets, store) = if insecure_storage {
        let path = accounts.path().to_path_buf();
        let opener: bigin_mcp::auth::StoreOpener =
            Arc::new(move || Ok(Arc::new(FileStore::beside(&path)) as Arc<dyn SecretStore>));
        (SecretsIn::File, opener)
    } else {
        (SecretsIn::Keychain, os_store_opener())
    };
    let dc: DataCentre = args
        .dc
        .as_deref()
        .unwrap_or("us")
        .parse()
        .map_err(UsageError)?;
    // What the tools declare they need, as `login` asks.
    let scopes = bigin_mcp::mcp::login_scopes(read_only);
    let login = InClientLogin {
        account: args.account.clone(),
        client_id,
        client_secret: client_secret.map(SecretString::from),
        dc,
        start_accounts: accounts_url(args)?,
        accounts_override: args.accounts_url.clone(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        port,
        pkce,
        timeout: Duration::from_secs(300),
        secrets,
        store,
        accounts,
        http: http.clone(),
    };
    let (args, http) = (args.clone(), http.clone());
    let find: FindLogin = Arc::new(move || stored_login(&args, &http).ok().flatten());
    Ok(Arc::new(ConnectInClient::new(login, find)))
}

/// Credentials of a logged-in account: metadata now (a file read), the
/// keychain only when the first tool call needs a token. `None`: no login.
fn stored_login(args: &ConnectionArgs, http: &Http) -> anyhow::Result<Option<Found>> {
    let accounts = super::accounts_file()?;
    let Some(mut meta) = accounts.get(&args.account).map_err(anyhow::Error::new)? else {
        return Ok(None);
    };
    // An explicit accounts server (a proxy) wins over the one login recorded.
    if let Some(u) = &args.accounts_url {
        meta.accounts_server =
            check_base_url(u).map_err(|e| UsageError(format!("--accounts-url: {e}")))?;
    }
    let opener = store_opener(&meta, &accounts);
    let key = SecretKind::ClientSecret.key(&args.account);
    let read = opener.clone();
    let client_secret: ReadSecret = Arc::new(move || {
        let store = read().map_err(|e| e.to_string())?;
        store.get(&key).map_err(|e| e.to_string())
    });
    let found = Found {
        stamp: meta.logged_in_at.clone().unwrap_or_default(),
        client_id: meta.client_id.clone(),
        client_secret,
        secrets: meta.secrets,
        store: opener.clone(),
        dc: meta.dc.clone(),
        accounts_server: meta.accounts_server.clone(),
        tokens: Arc::new(RefreshTokenSource::new(
            http.clone(),
            Arc::new(KeychainCredentials::new(&args.account, meta, opener)),
        )),
    };
    Ok(Some(found))
}
