//! The login, logout and status procedures, independent of the terminal:
//! the commands feed them flags and print what they return, tests feed
//! them the sandbox and an in-memory store.
//!
//! Login writes nothing until Zoho has issued the tokens, and then writes
//! all or nothing: a failed keychain write removes what was written.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::keychain::{blocking, encode_access};
use super::oauth::{self, Callback, TokenSet};
use super::{AccountMeta, Accounts, AuthError, SecretKind, SecretStore, SecretsIn};
use crate::zoho::{
    BiginClient, ClientOptions, Credentials, DataCentre, RefreshTokenSource, TokenSource,
    check_base_url,
};

/// Everything a login needs, already validated by the command.
pub struct LoginParams {
    pub account: String,
    pub dc: DataCentre,
    /// Where the flow starts (the DC's accounts server, or `--accounts-url`).
    pub start_accounts: String,
    /// `--accounts-url`, which also makes its host trusted for the callback.
    pub accounts_override: Option<String>,
    pub client_id: String,
    pub client_secret: SecretString,
    pub scopes: Vec<String>,
    pub port: u16,
    pub timeout: Duration,
    /// A Self Client grant code: no browser, no redirect URI.
    pub self_client_code: Option<SecretString>,
    /// Send a PKCE challenge (`login --no-pkce` turns it off: Zoho documents
    /// PKCE for mobile/desktop clients only).
    pub pkce: bool,
    /// Where `store` keeps the secrets, recorded in the account file so
    /// `serve`, `status` and `logout` open the same place.
    pub secrets: SecretsIn,
}

/// What a successful login stored.
#[derive(Debug, Clone, Serialize)]
pub struct LoginOutcome {
    pub account: String,
    pub meta: AccountMeta,
    /// A re-login replaced a refresh token: `Ok` once Zoho revoked it (Zoho
    /// keeps 20 per client and user and silently drops the oldest, which
    /// may be another machine's), `Err` with why not. `None`: a first login.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_token_revoked: Option<Result<(), String>>,
}

/// Runs the whole login. `on_url` gets the authorization URL once the
/// callback port is bound (print it, open a browser).
pub async fn login(
    http: &reqwest::Client,
    p: LoginParams,
    store: Arc<dyn SecretStore>,
    accounts: &Accounts,
    on_url: impl FnOnce(&str),
) -> Result<LoginOutcome, AuthError> {
    login_on(http, p, store, accounts, None, on_url).await
}

/// [`login`] on a callback port the caller already holds (`serve` binds it
/// first, to tell "another copy holds the port" apart from a failed login).
pub async fn login_on(
    http: &reqwest::Client,
    p: LoginParams,
    store: Arc<dyn SecretStore>,
    accounts: &Accounts,
    listener: Option<tokio::net::TcpListener>,
    on_url: impl FnOnce(&str),
) -> Result<LoginOutcome, AuthError> {
    match &p.self_client_code {
        Some(code) => {
            let t = oauth::exchange_code(
                http,
                &p.start_accounts,
                &p.client_id,
                &p.client_secret,
                code,
                None,
                None,
            )
            .await?;
            complete(http, &p, store, accounts, t, p.start_accounts.clone(), None).await
        }
        None => {
            let listener = match listener {
                Some(l) => l,
                None => oauth::bind_callback(p.port).await?.0,
            };
            let auth =
                oauth::authorization(&p.start_accounts, &p.client_id, &p.scopes, p.port, p.pkce)?;
            on_url(&auth.url);
            let (p, auth, store) = (&p, &auth, store);
            // The whole login happens before the browser's page answers, so
            // "connected" there means stored (a client may ask again at once).
            let finish = |cb: Callback| async move {
                let server = oauth::trusted_accounts_server(
                    cb.accounts_server.as_deref(),
                    &p.start_accounts,
                    p.accounts_override.as_deref(),
                )?;
                let t = oauth::exchange_code(
                    http,
                    &server,
                    &p.client_id,
                    &p.client_secret,
                    &cb.code,
                    Some(&auth.redirect_uri),
                    auth.pkce_verifier.as_ref(),
                )
                .await
                .map_err(|e| pkce_hint(e, auth.pkce_verifier.is_some()))?;
                if t.refresh_token.is_none() {
                    return Err(no_refresh_token());
                }
                complete(http, p, store, accounts, t, server, cb.location).await
            };
            oauth::wait_for_callback(listener, &auth.state, p.timeout, finish).await
        }
    }
}

/// Zoho issued `tokens`: find the organisation, store everything (all or
/// nothing) and give back the refresh token this login replaces.
async fn complete(
    http: &reqwest::Client,
    p: &LoginParams,
    store: Arc<dyn SecretStore>,
    accounts: &Accounts,
    tokens: TokenSet,
    accounts_server: String,
    location: Option<String>,
) -> Result<LoginOutcome, AuthError> {
    let refresh = tokens.refresh_token.clone().ok_or_else(no_refresh_token)?;
    let dc = location
        .as_deref()
        .and_then(|l| l.parse::<DataCentre>().ok())
        .or_else(|| DataCentre::from_accounts_url(&accounts_server))
        .or_else(|| {
            let domain = tokens.access.api_domain.as_deref()?;
            DataCentre::from_api_domain(domain)
        })
        .map(|d| d.code.to_string())
        .or(location.clone())
        .unwrap_or_else(|| p.dc.code.to_string());
    let api_domain = match &tokens.access.api_domain {
        Some(d) => check_base_url(d).map_err(AuthError::Usage)?,
        None => crate::zoho::api_domain_for_accounts(&accounts_server)
            .map(str::to_string)
            .ok_or_else(|| {
                AuthError::Usage("Zoho did not say which API domain serves this account".into())
            })?,
    };
    let mut meta = AccountMeta {
        client_id: p.client_id.clone(),
        dc,
        accounts_server,
        api_domain,
        // What Zoho granted when it says so (a Self Client code carries its
        // own scopes); else what was asked for.
        scopes: tokens.scopes.clone().unwrap_or_else(|| p.scopes.clone()),
        org_name: None,
        org_id: None,
        // To the millisecond: a server that saw one login refused takes up
        // the next one by this stamp (see `auth::connect`), even when both
        // fall in one second.
        logged_in_at: Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        secrets: p.secrets,
    };
    // The login this one replaces, to give its refresh token back afterwards.
    let replaced_server = accounts
        .get(&p.account)
        .ok()
        .flatten()
        .map(|m| m.accounts_server);
    // Which organisation did the user pick on the consent page? Ask, with
    // the fresh token, before anything is stored.
    let org = organisation(http, &meta, &tokens).await;
    match org {
        Ok((name, id)) => {
            meta.org_name = name;
            meta.org_id = id;
        }
        Err(e) => tracing::warn!(error = %e, "logged in, but GET /org failed"),
    }
    let saved = save(
        &store,
        accounts,
        &p.account,
        &meta,
        &refresh,
        &p.client_secret,
        &tokens,
    )
    .await;
    let previous_refresh = match saved {
        Ok(previous) => previous,
        Err(e) => {
            // Zoho counts refresh tokens per user (the 21st evicts the oldest):
            // give back the one that could not be kept.
            if let Err(r) = oauth::revoke(http, &meta.accounts_server, &refresh).await {
                tracing::warn!(error = %r, "could not revoke the refresh token that was not stored");
            }
            return Err(e);
        }
    };
    // The new login is stored: give back the refresh token it replaced, at
    // the accounts server that issued it.
    let previous_token_revoked = match previous_refresh {
        Some(old) if old.expose_secret() != refresh.expose_secret() => {
            let server = replaced_server.as_deref().unwrap_or(&meta.accounts_server);
            let r = oauth::revoke(http, server, &old)
                .await
                .map_err(|e| e.to_string());
            if let Err(e) = &r {
                tracing::warn!(error = %e, "could not revoke the refresh token this login replaced");
            }
            Some(r)
        }
        _ => None,
    };
    Ok(LoginOutcome {
        account: p.account.clone(),
        meta,
        previous_token_revoked,
    })
}

/// A refused code exchange that PKCE could explain gets the way around it:
/// Zoho documents PKCE for mobile/desktop clients only.
fn pkce_hint(e: AuthError, pkce_sent: bool) -> AuthError {
    let AuthError::Zoho(z) = &e else { return e };
    let unrelated = matches!(
        z.code(),
        Some("invalid_client" | "invalid_client_secret" | "invalid_redirect_uri" | "access_denied")
    );
    if !pkce_sent || unrelated || !matches!(z, crate::zoho::ZohoError::Auth { .. }) {
        return e;
    }
    AuthError::Callback(format!(
        "{e}. If the code was fresh, this Zoho client may not accept PKCE: run `bigin-mcp login --no-pkce`"
    ))
}

fn no_refresh_token() -> AuthError {
    AuthError::Callback(
        "Zoho returned no refresh token (it only does with access_type=offline and prompt=consent); nothing was stored. Run bigin-mcp login again".into(),
    )
}

/// `(company_name, id)` from GET /org, with a token source that hands out
/// the token just issued.
async fn organisation(
    http: &reqwest::Client,
    meta: &AccountMeta,
    tokens: &TokenSet,
) -> Result<(Option<String>, Option<String>), crate::zoho::ZohoError> {
    struct Fixed(crate::zoho::AccessToken);
    impl TokenSource for Fixed {
        fn token(
            &self,
        ) -> crate::zoho::BoxFuture<'_, Result<crate::zoho::AccessToken, crate::zoho::ZohoError>>
        {
            let t = self.0.clone();
            Box::pin(async move { Ok(t) })
        }
        fn refresh_after_rejection<'a>(
            &'a self,
            _stale: &'a crate::zoho::AccessToken,
        ) -> crate::zoho::BoxFuture<'a, Result<crate::zoho::AccessToken, crate::zoho::ZohoError>>
        {
            Box::pin(async {
                Err(crate::zoho::ZohoError::NotLoggedIn(
                    "the new access token was refused".into(),
                ))
            })
        }
    }
    let client = BiginClient::new(
        http.clone(),
        Arc::new(Fixed(tokens.access.clone())),
        ClientOptions {
            api_domain_override: Some(meta.api_domain.clone()),
            ..Default::default()
        },
    );
    let org = client.get_org().await?;
    Ok((org.company_name, Some(org.id).filter(|id| !id.is_empty())))
}

/// Stores secrets, then metadata. On any failure the keychain is put back
/// as it was (a failed re-login must not destroy a working login).
async fn save(
    store: &Arc<dyn SecretStore>,
    accounts: &Accounts,
    account: &str,
    meta: &AccountMeta,
    refresh: &SecretString,
    secret: &SecretString,
    tokens: &TokenSet,
) -> Result<Option<SecretString>, AuthError> {
    let entries = [
        (SecretKind::RefreshToken.key(account), refresh.clone()),
        (SecretKind::ClientSecret.key(account), secret.clone()),
        (
            SecretKind::AccessToken.key(account),
            encode_access(&tokens.access),
        ),
    ];
    let keys: Vec<String> = entries.iter().map(|(k, _)| k.clone()).collect();
    let s = store.clone();
    let previous = blocking(move || {
        let previous = keys
            .iter()
            .map(|k| s.get(k))
            .collect::<Result<Vec<_>, _>>()?;
        for (k, v) in &entries {
            if let Err(e) = s.set(k, v) {
                restore(s.as_ref(), &keys, &previous);
                return Err(e);
            }
        }
        Ok((keys, previous))
    })
    .await?;
    if let Err(e) = accounts.put(account, meta.clone()) {
        let s = store.clone();
        let _ = blocking(move || {
            restore(s.as_ref(), &previous.0, &previous.1);
            Ok(())
        })
        .await;
        return Err(e);
    }
    // The refresh token this login replaced (the first entry), if any.
    Ok(previous.1.into_iter().next().flatten())
}

/// Puts keychain entries back to what they held before (absent ones removed).
fn restore(store: &dyn SecretStore, keys: &[String], previous: &[Option<SecretString>]) {
    for (k, old) in keys.iter().zip(previous) {
        let _ = match old {
            Some(v) => store.set(k, v),
            None => store.delete(k),
        };
    }
}

/// What `logout` did.
#[derive(Debug)]
pub struct LogoutReport {
    /// `Err(message)` when Zoho did not confirm the revocation.
    pub revoked: Result<(), String>,
}

/// Revokes at Zoho, then removes local entries whatever Zoho said.
pub async fn logout(
    http: &reqwest::Client,
    account: &str,
    store: Arc<dyn SecretStore>,
    accounts: &Accounts,
) -> Result<LogoutReport, AuthError> {
    let meta = accounts
        .get(account)?
        .ok_or_else(|| AuthError::NotLoggedIn(account.to_string()))?;
    let key = SecretKind::RefreshToken.key(account);
    let s = store.clone();
    let refresh = blocking(move || s.get(&key)).await?;
    let revoked = match &refresh {
        Some(r) => oauth::revoke(http, &meta.accounts_server, r)
            .await
            .map_err(|e| e.to_string()),
        None => Err("no refresh token was in the keychain, so there was nothing to revoke".into()),
    };
    let account_s = account.to_string();
    blocking(move || {
        for kind in SecretKind::ALL {
            store.delete(&kind.key(&account_s))?;
        }
        Ok(())
    })
    .await?;
    accounts.remove(account)?;
    Ok(LogoutReport { revoked })
}

/// One account as `status` reports it. Never holds a secret.
#[derive(Debug, Clone, Serialize)]
pub struct AccountStatus {
    pub account: String,
    pub dc: String,
    pub accounts_server: String,
    pub api_domain: String,
    pub client_id: String,
    pub organization: Option<String>,
    pub organization_id: Option<String>,
    pub scopes: Vec<String>,
    pub logged_in_at: Option<String>,
    /// Where the secrets are kept.
    pub secrets: SecretsIn,
    /// Whether a token refresh works right now.
    pub refresh_ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_error: Option<String>,
}

/// Checks one account with a real refresh (and keeps the fresh token).
pub async fn check_account(
    http: &reqwest::Client,
    account: &str,
    meta: AccountMeta,
    creds: Arc<dyn Credentials>,
) -> AccountStatus {
    let probe = async {
        let source = RefreshTokenSource::new(http.clone(), creds.clone());
        // A real refresh, not the cache: status answers "does it work now?".
        source.force_refresh().await.map(|_| ())
    };
    let result = probe.await;
    AccountStatus {
        account: account.to_string(),
        dc: meta.dc,
        accounts_server: meta.accounts_server,
        api_domain: meta.api_domain,
        client_id: meta.client_id,
        organization: meta.org_name,
        organization_id: meta.org_id,
        scopes: meta.scopes,
        logged_in_at: meta.logged_in_at,
        secrets: meta.secrets,
        refresh_ok: result.is_ok(),
        refresh_error: result.err().map(|e| e.to_string()),
    }
}
