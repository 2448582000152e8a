//! `bigin-mcp login`, `logout` and `status`: the terminal side of
//! [`bigin_mcp::auth::flow`], and which store (OS keychain, or the
//! `--insecure-storage` file) holds an account's secrets. `status` writes
//! its report to stdout (people and scripts alike); `login` and `logout`
//! talk to people on stderr.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bigin_mcp::auth::flow::{self, LoginParams};
use bigin_mcp::auth::{
    AccountMeta, Accounts, AuthError, FileStore, KeychainCredentials, OsStore, SecretStore,
    SecretsIn, StoreOpener, blocking, check_account_name,
};
use bigin_mcp::cli::{LoginArgs, LogoutArgs, StatusArgs};
use bigin_mcp::zoho::{DataCentre, check_base_url, http_client};
use secrecy::SecretString;

use super::{NotLoggedIn, UsageError, accounts_file};

/// The OS keychain, opened when first needed.
pub fn os_store_opener() -> StoreOpener {
    Arc::new(|| OsStore::open().map(|s| Arc::new(s) as Arc<dyn SecretStore>))
}

/// Where an account's secrets are, as its login recorded.
pub fn store_opener(meta: &AccountMeta, accounts: &Accounts) -> StoreOpener {
    match meta.secrets {
        SecretsIn::Keychain => os_store_opener(),
        SecretsIn::File => {
            let path = accounts.path().to_path_buf();
            Arc::new(move || Ok(Arc::new(FileStore::beside(&path)) as Arc<dyn SecretStore>))
        }
    }
}

/// Where the secrets are, for people.
fn secrets_location(secrets: SecretsIn, accounts: &Accounts) -> String {
    match secrets {
        SecretsIn::Keychain => "the OS keychain".into(),
        SecretsIn::File => format!(
            "{} (--insecure-storage)",
            FileStore::beside(accounts.path()).path().display()
        ),
    }
}

fn usage(e: AuthError) -> anyhow::Error {
    match e {
        AuthError::Usage(m) => UsageError(m).into(),
        AuthError::NotLoggedIn(_) => anyhow::Error::new(NotLoggedIn(e.to_string())),
        other => other.into(),
    }
}

pub async fn login(args: LoginArgs) -> anyhow::Result<ExitCode> {
    check_account_name(&args.account).map_err(usage)?;
    let dc: DataCentre = args.dc.parse().map_err(UsageError)?;
    let start_accounts = match &args.accounts_url {
        Some(u) => check_base_url(u).map_err(|e| UsageError(format!("--accounts-url: {e}")))?,
        None => dc.accounts.to_string(),
    };
    let scopes: Vec<String> = match &args.scopes {
        Some(s) => s
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        // What the tools declare they need (`bigin_mcp::mcp::login_scopes`).
        None => bigin_mcp::mcp::login_scopes(args.read_only)
            .into_iter()
            .map(str::to_string)
            .collect(),
    };
    if scopes.is_empty() {
        return Err(UsageError("--scopes is empty; omit it for the default scopes".into()).into());
    }
    let accounts = accounts_file()?;
    // Before any prompt: asking for a secret that cannot be kept wastes the
    // user's time (and a Self Client code, which expires).
    let (store, secrets): (Arc<dyn SecretStore>, SecretsIn) = if args.insecure_storage {
        let s = FileStore::beside(accounts.path());
        eprintln!(
            "--insecure-storage: the tokens and client secret go to {} (mode 0600), not the OS keychain.",
            s.path().display()
        );
        (Arc::new(s), SecretsIn::File)
    } else {
        let store = blocking(|| os_store_opener()()).await.map_err(|e| {
            anyhow::anyhow!(
                "{e}. On a machine without a keychain, `bigin-mcp login --insecure-storage` keeps the tokens in a file readable only by you"
            )
        })?;
        (store, SecretsIn::Keychain)
    };
    let client_id = match args.client_id.clone().filter(|c| !c.trim().is_empty()) {
        Some(c) => c.trim().to_string(),
        None if std::io::stdin().is_terminal() && !args.client_secret_stdin => {
            eprint!("Zoho client id: ");
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("cannot read the client id")?;
            line.trim().to_string()
        }
        None => {
            return Err(UsageError(
                "no client id: pass --client-id (or set BIGIN_CLIENT_ID); create one at https://api-console.zoho.com".into(),
            )
            .into());
        }
    };
    let client_secret = read_secret(args.client_secret_stdin)?;

    let params = LoginParams {
        account: args.account.clone(),
        dc,
        start_accounts,
        accounts_override: args.accounts_url.clone(),
        client_id,
        client_secret,
        scopes,
        port: args.port,
        timeout: Duration::from_secs(args.timeout),
        self_client_code: args.code.clone().map(SecretString::from),
        pkce: !args.no_pkce,
        secrets,
    };
    let http = http_client(Duration::from_secs(30));
    let no_browser = args.no_browser;
    let outcome = flow::login(&http, params, store, &accounts, |url| {
        eprintln!(
            "Open this URL in a browser to allow bigin-mcp access to Zoho Bigin:\n\n  {url}\n"
        );
        if !no_browser && !open_browser(url) {
            eprintln!("(could not open a browser; copy the URL above)");
        }
        eprintln!(
            "Waiting for Zoho to redirect to 127.0.0.1:{} ...",
            args.port
        );
    })
    .await
    .map_err(usage)?;
    let m = &outcome.meta;
    let org = match (&m.org_name, &m.org_id) {
        (Some(n), Some(id)) => format!("organisation '{n}' ({id})"),
        _ => {
            "an organisation whose name could not be read (GET /org failed; see the warning above)"
                .into()
        }
    };
    eprintln!(
        "Logged in as account '{}': {org}, data centre {}, API domain {}.\nSecrets are in {}; metadata in {}.",
        outcome.account,
        m.dc,
        m.api_domain,
        secrets_location(m.secrets, &accounts),
        accounts.path().display()
    );
    if m.dc.parse::<DataCentre>().is_ok_and(|d| !d.bigin_confirmed) {
        eprintln!(
            "Note: Zoho does not list Bigin in the '{}' data centre; if calls fail, run `bigin-mcp doctor` and report what it says.",
            m.dc
        );
    }
    match &outcome.previous_token_revoked {
        Some(Ok(())) => eprintln!(
            "The refresh token of this account's previous login was revoked (Zoho keeps 20 per client and user and drops the oldest silently)."
        ),
        Some(Err(e)) => eprintln!(
            "Could not revoke the refresh token of this account's previous login ({e}); remove it under Connected Apps in your Zoho account settings."
        ),
        None => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// The client secret from stdin or a hidden prompt; never from argv.
fn read_secret(from_stdin: bool) -> anyhow::Result<SecretString> {
    let secret = if from_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the client secret from stdin")?;
        s
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Zoho client secret (hidden): ")
            .context("cannot read the client secret")?
    } else {
        return Err(UsageError(
            "no terminal for the client secret prompt; pipe it in with --client-secret-stdin"
                .into(),
        )
        .into());
    };
    let secret = secret.trim().to_string();
    if secret.is_empty() {
        return Err(UsageError("the client secret is empty".into()).into());
    }
    Ok(SecretString::from(secret))
}

/// Best effort: the platform's opener, detached.
fn open_browser(url: &str) -> bool {
    let mut cmd = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(target_os = "windows") {
        let mut c = std::process::Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    cmd.arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}

pub async fn logout(args: LogoutArgs) -> anyhow::Result<ExitCode> {
    check_account_name(&args.account).map_err(usage)?;
    let accounts = accounts_file()?;
    let Some(meta) = accounts.get(&args.account).map_err(anyhow::Error::new)? else {
        eprintln!(
            "Nothing to log out: there is no login named '{}' on this machine.",
            args.account
        );
        return Ok(ExitCode::SUCCESS);
    };
    let opener = store_opener(&meta, &accounts);
    let store = blocking(move || opener()).await?;
    let http = http_client(Duration::from_secs(30));
    let report = flow::logout(&http, &args.account, store, &accounts)
        .await
        .map_err(usage)?;
    match report.revoked {
        Ok(()) => {
            eprintln!(
                "Logged out '{}': Zoho revoked the refresh token and the local entries are removed.",
                args.account
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            eprintln!(
                "Removed '{}' from this machine, but Zoho did not confirm the revocation ({why}); revoke it at https://accounts.zoho.com/home#sessions/userconnectedapps (or your data centre's accounts site).",
                args.account
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

#[allow(clippy::print_stdout)] // Not `serve`: stdout is status's output, for people and scripts.
pub async fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let accounts = accounts_file()?;
    let all = accounts.load().map_err(anyhow::Error::new)?;
    let selected: Vec<(String, _)> = match &args.account {
        Some(name) => all.into_iter().filter(|(n, _)| n == name).collect(),
        None => all.into_iter().collect(),
    };
    if selected.is_empty() {
        let who = args.account.clone().unwrap_or_else(|| "any account".into());
        if args.json {
            println!(
                "{}",
                serde_json::json!({"logged_in": false, "accounts": []})
            );
        }
        return Err(NotLoggedIn(format!("not logged in ({who}); run `bigin-mcp login`")).into());
    }
    let http = http_client(Duration::from_secs(30));
    let mut out = Vec::new();
    for (name, meta) in selected {
        let opener = store_opener(&meta, &accounts);
        let creds = Arc::new(KeychainCredentials::new(&name, meta.clone(), opener));
        out.push(flow::check_account(&http, &name, meta, creds).await);
    }
    let all_ok = out.iter().all(|a| a.refresh_ok);
    if args.json {
        println!(
            "{}",
            serde_json::json!({"logged_in": true, "accounts": out})
        );
    } else {
        for a in &out {
            println!(
                "{}: {} ({}) in data centre {} via {}\n  scopes: {}\n  secrets: {}\n  token refresh: {}",
                a.account,
                a.organization.as_deref().unwrap_or("unknown organisation"),
                a.organization_id.as_deref().unwrap_or("?"),
                a.dc,
                a.api_domain,
                a.scopes.join(","),
                secrets_location(a.secrets, &accounts),
                match &a.refresh_error {
                    None => "works".to_string(),
                    Some(e) => format!("FAILS: {e}"),
                }
            );
        }
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
