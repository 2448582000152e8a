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
//! A stored login can stop working while the server runs: its refresh
//! token revoked, or lacking a scope. Zoho's refusal then comes back here
//! ([`TokenSource::login_refused`]) and the answer is a new consent link,
//! not advice to run `login` in a terminal; the refused login is not taken
//! up again, a login made since (here, by another copy, or in a terminal)
//! is.
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
use crate::zoho::{AccessToken, BoxFuture, DataCentre, Http, Refusal, TokenSource, ZohoError};

/// The sentence a client shows the person along with the link.
pub const CONNECT_SENTENCE: &str =
    "Open this link to connect bigin-mcp to your Zoho organisation, then ask again";

/// Finds a stored login of the account (made here, by another copy of the
/// server, or in a terminal) and builds its token source.
pub type FindLogin = Arc<dyn Fn() -> Option<Found> + Send + Sync>;

/// Reads a stored client secret (from the keychain or the file store):
/// `Ok(None)` when there is none, `Err` when the store cannot be read.
pub type ReadSecret = Arc<dyn Fn() -> Result<Option<SecretString>, String> + Send + Sync>;

/// A stored login, as [`FindLogin`] finds it.
#[derive(Clone)]
pub struct Found {
    pub tokens: Arc<dyn TokenSource>,
    /// Changes each time the login is made again (its `logged_in_at`): a
    /// refused login is not taken up again, a newer one is.
    pub stamp: String,
    /// The login's Zoho client, to connect again with when the settings
    /// name none.
    pub client_id: String,
    pub client_secret: ReadSecret,
    /// Where the login keeps its secrets: a login made again goes there too.
    pub secrets: SecretsIn,
    pub store: StoreOpener,
    /// Its data centre code and accounts server: a login made again starts
    /// there (the client may be registered in that data centre only).
    pub dc: String,
    pub accounts_server: String,
}

/// A login Zoho refused while this server used it.
struct Refused {
    /// Its `logged_in_at`: not taken up again.
    stamp: String,
    /// Said with the next link.
    why: String,
    /// Zoho refused the client itself: a login made again must not reuse it.
    client: bool,
}

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
    Connected(Found),
}

/// The token source of a server with nobody logged in (see the module doc).
pub struct ConnectInClient {
    login: Arc<InClientLogin>,
    find: FindLogin,
    phase: Mutex<Phase>,
    /// The login Zoho refused last, if any.
    refused: std::sync::Mutex<Option<Refused>>,
    /// The last login found, whose client and storage a login made again
    /// uses.
    last_found: std::sync::Mutex<Option<Found>>,
}

impl ConnectInClient {
    pub fn new(login: InClientLogin, find: FindLogin) -> Self {
        ConnectInClient {
            login: Arc::new(login),
            find,
            phase: Mutex::new(Phase::Idle),
            refused: std::sync::Mutex::new(None),
            last_found: std::sync::Mutex::new(None),
        }
    }

    /// A stored login that was not refused.
    fn find_usable(&self) -> Option<Found> {
        let found = (self.find)()?;
        let refused = self.refused.lock().ok()?;
        if refused.as_ref().is_some_and(|r| r.stamp == found.stamp) {
            return None;
        }
        Some(found)
    }

    /// Why the next link is handed out, when a login was refused.
    fn refusal(&self) -> Option<String> {
        let r = self.refused.lock().ok()?;
        r.as_ref().map(|r| r.why.clone())
    }

    /// Uses `f` from now on.
    fn connect(&self, phase: &mut Phase, f: Found) -> Arc<dyn TokenSource> {
        if let Phase::Waiting { task, .. } = &*phase {
            // Finished elsewhere: free the port for the other copies.
            task.abort();
        }
        tracing::info!(account = %self.login.account, "connected to Zoho");
        if let Ok(mut last) = self.last_found.lock() {
            *last = Some(f.clone());
        }
        let t = f.tokens.clone();
        *phase = Phase::Connected(f);
        t
    }

    /// The logged-in token source, or the error that carries the link.
    async fn current(&self) -> Result<Arc<dyn TokenSource>, ZohoError> {
        let mut phase = self.phase.lock().await;
        if let Phase::Connected(f) = &*phase {
            return Ok(f.tokens.clone());
        }
        if let Some(f) = self.find_usable() {
            return Ok(self.connect(&mut phase, f));
        }
        Err(self.hand_out_link(&mut phase).await)
    }

    /// The error carrying a consent link: the one already waiting, or a
    /// new one (its task then waits for the callback).
    async fn hand_out_link(&self, phase: &mut Phase) -> ZohoError {
        let why = self.refusal();
        let mut retry = false;
        if let Phase::Waiting { url, task } = &*phase {
            if !task.is_finished() {
                return link_error(url, false, why.as_deref(), self.login.port);
            }
            // The task ended without a stored login: it timed out or failed
            // (its reason is in the log). Hand out a fresh link.
            retry = true;
        }
        *phase = Phase::Idle;
        match self.start().await {
            Ok((url, task)) => {
                let err = link_error(&url, retry, why.as_deref(), self.login.port);
                *phase = Phase::Waiting { url, task };
                err
            }
            Err(ZohoError::NotLoggedIn(m)) if why.is_some() => {
                ZohoError::NotLoggedIn(format!("{} {m}", why.unwrap_or_default()))
            }
            Err(e) => e,
        }
    }

    /// The client to connect with: the settings' (BIGIN_CLIENT_ID and
    /// BIGIN_CLIENT_SECRET), else that of the login found last, unless Zoho
    /// refused that client. `Err`: its secret cannot be read.
    async fn client(&self) -> Result<Option<(String, SecretString)>, String> {
        let l = &self.login;
        if let (Some(id), Some(secret)) = (l.client_id.clone(), l.client_secret.clone()) {
            return Ok(Some((id, secret)));
        }
        let client_refused =
            (self.refused.lock().ok()).is_some_and(|r| r.as_ref().is_some_and(|r| r.client));
        let last = self.last_found.lock().ok().and_then(|f| f.clone());
        let Some(last) = last.filter(|_| !client_refused) else {
            return Ok(None);
        };
        let read = last.client_secret;
        let secret = tokio::task::spawn_blocking(move || read())
            .await
            .map_err(|e| e.to_string())??;
        Ok(secret.map(|s| (last.client_id, s)))
    }

    /// Binds the port, starts the flow in a task, and returns its link.
    async fn start(&self) -> Result<(String, JoinHandle<()>), ZohoError> {
        let l = &self.login;
        let (client_id, client_secret) = match self.client().await {
            Ok(Some(c)) => c,
            Ok(None) => return Err(ZohoError::NotLoggedIn(no_client_message(l.port))),
            Err(e) => {
                return Err(ZohoError::NotLoggedIn(format!(
                    "bigin-mcp cannot read the Zoho client secret of its login from where it is kept ({e}). Unlock the keychain, or enter the Zoho client id and client secret in bigin-mcp's settings, and ask again."
                )));
            }
        };
        // The store first: a link whose tokens cannot be kept wastes the
        // person's consent. A login made again keeps its secrets where the
        // refused one did or, when that store cannot be opened, where the
        // settings say; and starts in its data centre.
        let last = self.last_found.lock().ok().and_then(|f| f.clone());
        let mut stores = Vec::new();
        if let Some(f) = &last {
            stores.push((f.secrets, f.store.clone()));
        }
        stores.push((l.secrets, l.store.clone()));
        let mut opened = Err(String::new());
        for (secrets, opener) in stores {
            match blocking(move || opener()).await {
                Ok(store) => {
                    opened = Ok((secrets, store));
                    break;
                }
                Err(e) => opened = Err(e.to_string()),
            }
        }
        let (secrets, store) = opened.map_err(|e| {
            ZohoError::NotLoggedIn(format!(
                "bigin-mcp is not connected to Zoho yet, and this computer has no usable keychain to keep the Zoho tokens in ({e}). Turn on the \"Store tokens in a file\" setting of bigin-mcp (BIGIN_INSECURE_STORAGE=1 in the server's env: a file readable only by you), then ask again."
            ))
        })?;
        let (dc, start_accounts) = match (&l.accounts_override, &last) {
            (None, Some(f)) => (f.dc.parse().unwrap_or(l.dc), f.accounts_server.clone()),
            _ => (l.dc, l.start_accounts.clone()),
        };
        let listener = match super::oauth::bind_callback(l.port).await {
            Ok((listener, _)) => listener,
            Err(_) => return Err(ZohoError::NotLoggedIn(port_held_message(l.port))),
        };
        let params = LoginParams {
            account: l.account.clone(),
            dc,
            start_accounts,
            accounts_override: l.accounts_override.clone(),
            client_id,
            client_secret,
            scopes: l.scopes.clone(),
            port: l.port,
            timeout: l.timeout,
            self_client_code: None,
            pkce: l.pkce,
            secrets,
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

    /// Zoho refused the login in use. A login stored since (by another
    /// copy, or in a terminal) is taken up at once and the request sent
    /// again; otherwise the refused login is not taken up again, and the
    /// person gets a link to connect anew.
    fn login_refused<'a>(&'a self, err: &'a ZohoError, may_retry: bool) -> BoxFuture<'a, Refusal> {
        Box::pin(async move {
            let mut phase = self.phase.lock().await;
            if let Phase::Connected(f) = &*phase {
                let stamp = f.stamp.clone();
                // Only a first refusal looks for a newer login (a file read).
                let newer = may_retry.then(|| self.find_usable()).flatten();
                if let Some(n) = newer.filter(|n| n.stamp != stamp) {
                    self.connect(&mut phase, n);
                    return Refusal::Retry;
                }
                tracing::warn!(account = %self.login.account, error = %err, "Zoho refused the stored login; handing out a consent link");
                let client = matches!(err.code(), Some("invalid_client" | "invalid_client_secret"));
                if let Ok(mut r) = self.refused.lock() {
                    let why = refusal_text(err);
                    *r = Some(Refused { stamp, why, client });
                }
                *phase = Phase::Idle;
            }
            Refusal::Replace(self.hand_out_link(&mut phase).await)
        })
    }
}

/// What Zoho refused, for the person: its code, never a token.
fn refusal_text(err: &ZohoError) -> String {
    let code = err.code().unwrap_or("refused");
    let what = if code == "OAUTH_SCOPE_MISMATCH" {
        "the login lacks a permission bigin-mcp needs"
    } else if code.starts_with("invalid_client") {
        "the Zoho client was refused: deleted, its secret changed, or registered in another data centre; enter a valid client id and secret in bigin-mcp's settings"
    } else {
        "the login was revoked, expired or belongs to another data centre"
    };
    format!("Zoho refused bigin-mcp's login ({code}: {what}).")
}

fn link_error(url: &str, retry: bool, refused: Option<&str>, port: u16) -> ZohoError {
    let again = if retry {
        "The previous link expired or was not accepted, so here is a new one. "
    } else {
        ""
    };
    let state = match refused {
        Some(why) => format!("{why} bigin-mcp needs to be connected to Zoho again."),
        None => "bigin-mcp is not connected to Zoho yet.".into(),
    };
    ZohoError::NotLoggedIn(format!(
        "{state} {again}{CONNECT_SENTENCE}:\n\n{url}\n\nShow the person this link. It works for 5 minutes, in a browser on this computer (Zoho sends the browser back to http://127.0.0.1:{port}/callback)."
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
