//! Connecting Zoho from inside an MCP client: the token source `serve` uses
//! when nobody is logged in. A person who installed the bundle in Claude
//! Desktop has no terminal, so the first tool call answers with the consent
//! link, and the server meanwhile waits for Zoho's redirect on the callback
//! port, with the same flow as `login` ([`super::flow::login_on`]: state,
//! PKCE, trusted accounts server, data centre from the callback, all-or-
//! nothing storage). Once the login is stored, the next call works.
//!
//! Several copies of the server may run at once (Claude Desktop starts one
//! per chat, Cowork and Code session), so the port may be held by another
//! copy that is waiting for the same consent: that is said, never a crash.
//! And since that other copy (or `login` in a terminal) may finish the
//! login, every call first looks for a stored login again.
//!
//! No message here tells the person to run a command: they only have the
//! client and its settings.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::{Mutex, oneshot};
use tokio::task::JoinHandle;

use super::flow::{self, LoginParams};
use super::{Accounts, SecretsIn, StoreOpener, blocking};
use crate::zoho::{AccessToken, BoxFuture, DataCentre, Http, TokenSource, ZohoError};

/// The sentence a client shows the person along with the link.
pub const CONNECT_SENTENCE: &str =
    "Open this link to connect bigin-mcp to your Zoho organisation, then ask again";

/// Finds a stored login of the account (made here, by another copy of the
/// server, or in a terminal) and builds its token source.
pub type FindLogin = Arc<dyn Fn() -> Option<Arc<dyn TokenSource>> + Send + Sync>;

/// Everything an in-client login needs, as `serve` was configured.
pub struct InClientLogin {
    pub account: String,
    /// From BIGIN_CLIENT_ID (the bundle's "Zoho client id" setting).
    pub client_id: Option<String>,
    /// From BIGIN_CLIENT_SECRET (the bundle's sensitive setting).
    pub client_secret: Option<SecretString>,
    /// The data centre to start at (the callback's `location` wins).
    pub dc: DataCentre,
    pub start_accounts: String,
    pub accounts_override: Option<String>,
    pub scopes: Vec<String>,
    pub port: u16,
    pub pkce: bool,
    /// How long one link stays valid.
    pub timeout: Duration,
    pub secrets: SecretsIn,
    pub store: StoreOpener,
    pub accounts: Accounts,
    pub http: Http,
}

enum Phase {
    Idle,
    /// A link was handed out; the task waits for its callback.
    Waiting {
        url: String,
        task: JoinHandle<()>,
    },
    Connected(Arc<dyn TokenSource>),
}

/// The token source of a server with nobody logged in (see the module doc).
pub struct ConnectInClient {
    login: Arc<InClientLogin>,
    find: FindLogin,
    phase: Mutex<Phase>,
}

impl ConnectInClient {
    pub fn new(login: InClientLogin, find: FindLogin) -> Self {
        ConnectInClient {
            login: Arc::new(login),
            find,
            phase: Mutex::new(Phase::Idle),
        }
    }

    /// The logged-in token source, or the error that carries the link.
    async fn current(&self) -> Result<Arc<dyn TokenSource>, ZohoError> {
        let mut phase = self.phase.lock().await;
        if let Phase::Connected(t) = &*phase {
            return Ok(t.clone());
        }
        if let Some(t) = (self.find)() {
            if let Phase::Waiting { task, .. } = &*phase {
                // Finished elsewhere: free the port for the other copies.
                task.abort();
            }
            tracing::info!(account = %self.login.account, "connected to Zoho");
            *phase = Phase::Connected(t.clone());
            return Ok(t);
        }
        let mut retry = false;
        if let Phase::Waiting { url, task } = &*phase {
            if !task.is_finished() {
                return Err(link_error(url, false, self.login.port));
            }
            // The task ended without a stored login: it timed out or failed
            // (its reason is in the log). Hand out a fresh link.
            retry = true;
        }
        *phase = Phase::Idle;
        let url = self.start().await?;
        let err = link_error(&url.0, retry, self.login.port);
        *phase = Phase::Waiting {
            url: url.0,
            task: url.1,
        };
        Err(err)
    }

    /// Binds the port, starts the flow in a task, and returns its link.
    async fn start(&self) -> Result<(String, JoinHandle<()>), ZohoError> {
        let l = &self.login;
        let (Some(client_id), Some(client_secret)) = (l.client_id.clone(), l.client_secret.clone())
        else {
            return Err(ZohoError::NotLoggedIn(no_client_message(l.port)));
        };
        // The store first: a link whose tokens cannot be kept wastes the
        // person's consent.
        let opener = l.store.clone();
        let store = blocking(move || opener()).await.map_err(|e| {
            ZohoError::NotLoggedIn(format!(
                "bigin-mcp is not connected to Zoho yet, and this computer has no usable keychain to keep the Zoho tokens in ({e}). Turn on the \"Store tokens in a file\" setting of bigin-mcp (BIGIN_INSECURE_STORAGE=1 in the server's env: a file readable only by you), then ask again."
            ))
        })?;
        let listener = match super::oauth::bind_callback(l.port).await {
            Ok((listener, _)) => listener,
            Err(_) => return Err(ZohoError::NotLoggedIn(port_held_message(l.port))),
        };
        let params = LoginParams {
            account: l.account.clone(),
            dc: l.dc,
            start_accounts: l.start_accounts.clone(),
            accounts_override: l.accounts_override.clone(),
            client_id,
            client_secret,
            scopes: l.scopes.clone(),
            port: l.port,
            timeout: l.timeout,
            self_client_code: None,
            pkce: l.pkce,
            secrets: l.secrets,
        };
        let (tx, rx) = oneshot::channel::<String>();
        let login = self.login.clone();
        let task = tokio::spawn(async move {
            let http = login.http.client().clone();
            let r = flow::login_on(
                &http,
                params,
                store,
                &login.accounts,
                Some(listener),
                |url| {
                    let _ = tx.send(url.to_string());
                },
            )
            .await;
            match r {
                Ok(o) => tracing::info!(
                    account = %o.account,
                    dc = %o.meta.dc,
                    organisation = ?o.meta.org_name,
                    "logged in to Zoho from the client's link"
                ),
                Err(e) => tracing::warn!(error = %e, "the Zoho link was not completed"),
            }
        });
        match rx.await {
            Ok(url) => Ok((url, task)),
            Err(_) => {
                // The flow ended before it had a link (a bad accounts URL):
                // its reason is in the log.
                let _ = task.await;
                Err(ZohoError::NotLoggedIn(
                    "bigin-mcp could not prepare the Zoho consent link; the server's log says why (check the data centre and accounts URL settings)".into(),
                ))
            }
        }
    }
}

impl TokenSource for ConnectInClient {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, ZohoError>> {
        Box::pin(async move {
            let t = self.current().await?;
            t.token().await
        })
    }

    fn refresh_after_rejection<'a>(
        &'a self,
        stale: &'a AccessToken,
    ) -> BoxFuture<'a, Result<AccessToken, ZohoError>> {
        Box::pin(async move {
            let t = self.current().await?;
            t.refresh_after_rejection(stale).await
        })
    }
}

fn link_error(url: &str, retry: bool, port: u16) -> ZohoError {
    let again = if retry {
        "The previous link expired or was not accepted, so here is a new one. "
    } else {
        ""
    };
    ZohoError::NotLoggedIn(format!(
        "bigin-mcp is not connected to Zoho yet. {again}{CONNECT_SENTENCE}:\n\n{url}\n\nShow the person this link. It works for 5 minutes, in a browser on this computer (Zoho sends the browser back to http://127.0.0.1:{port}/callback)."
    ))
}

fn port_held_message(port: u16) -> String {
    format!(
        "bigin-mcp is not connected to Zoho yet, and another copy of bigin-mcp is already waiting for the Zoho consent on 127.0.0.1:{port}. If you have opened the link it gave, finish the Zoho page and ask again; otherwise ask again in 5 minutes, when that link has expired, for a new one."
    )
}

fn no_client_message(port: u16) -> String {
    format!(
        "bigin-mcp is not connected to Zoho yet, and it has no Zoho client to connect with. Create one at https://api-console.zoho.com (a \"Server-based Application\" with the redirect URI http://127.0.0.1:{port}/callback), then enter its client id and client secret in bigin-mcp's settings (in Claude Desktop: Settings, Extensions, bigin-mcp, Configure; in other clients, BIGIN_CLIENT_ID and BIGIN_CLIENT_SECRET in the server's env), and ask again. To try the tools without Zoho, turn on the demo organisation (BIGIN_DEMO=1)."
    )
}
