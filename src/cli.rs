//! The command line, parsed with clap. Doc comments are the `--help` text.
//! Parsing lives in the library so it can be unit-tested; running the
//! commands is the binary's job.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A local MCP server for administering a Zoho Bigin organisation.
#[derive(Debug, Parser)]
#[command(name = "bigin-mcp", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the tools over MCP on stdin/stdout (the default command).
    Serve(ServeArgs),
    /// Log in to Zoho (OAuth in the browser, or a Self Client code) and keep the tokens in the OS keychain.
    Login(LoginArgs),
    /// Revoke an account's refresh token at Zoho and remove it from this machine.
    Logout(LogoutArgs),
    /// Show each logged-in account and whether its token refresh works now.
    Status(StatusArgs),
    /// Run the sandbox Bigin API and accounts server alone on 127.0.0.1.
    Sandbox(SandboxArgs),
}

#[derive(Debug, Args, Clone)]
pub struct LoginArgs {
    /// Name for this login; serve, status and logout select it with --account.
    #[arg(long, default_value = "default")]
    pub account: String,
    /// Data centre of the Zoho account: us, eu, in, au, jp, cn, sa, ca.
    #[arg(long, default_value = "us")]
    pub dc: String,
    /// The OAuth client id from the Zoho API console (default: BIGIN_CLIENT_ID, else a prompt).
    #[arg(long, env = "BIGIN_CLIENT_ID", value_name = "ID")]
    pub client_id: Option<String>,
    /// Read the client secret from stdin instead of a hidden prompt.
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// Loopback port for the redirect http://127.0.0.1:PORT/callback.
    #[arg(long, default_value_t = crate::auth::oauth::DEFAULT_PORT, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: u16,
    /// Print the authorization URL but do not open a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// Comma-separated Bigin scopes (default: read scopes plus ZohoBigin.users.ALL).
    #[arg(long, value_name = "LIST")]
    pub scopes: Option<String>,
    /// Ask for read scopes only.
    #[arg(long)]
    pub read_only: bool,
    /// Start the flow at this accounts server instead of the data centre's (proxies, tests).
    // No env fallback: where the client secret goes must be said on the command line.
    #[arg(long, value_name = "URL")]
    pub accounts_url: Option<String>,
    /// Exchange a Self Client grant code from the Zoho API console instead of opening a browser.
    #[arg(long, value_name = "GRANT_CODE")]
    pub code: Option<String>,
    /// Seconds to wait for the browser.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub timeout: u64,
}

#[derive(Debug, Args, Clone)]
pub struct LogoutArgs {
    /// The account to log out.
    #[arg(long, default_value = "default")]
    pub account: String,
}

#[derive(Debug, Args, Clone)]
pub struct StatusArgs {
    /// Only this account (default: every account).
    #[arg(long)]
    pub account: Option<String>,
    /// Print exactly one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Comma-separated lists: `--tools a,b --tools c` gives a, b, c.
fn list(s: &str) -> Result<String, String> {
    Ok(s.to_string())
}

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Serve against the built-in sandbox organisation (no Zoho account needed).
    #[arg(long)]
    pub demo: bool,
    /// The logged-in account to use (see `bigin-mcp login --account`).
    #[arg(long, env = "BIGIN_ACCOUNT", default_value = "default")]
    pub account: String,
    /// Expose only tools that change nothing. Wins over every other flag.
    #[arg(long, env = "BIGIN_READ_ONLY", value_parser = clap::builder::BoolishValueParser::new())]
    pub read_only: bool,
    /// Expose bigin_delete_user (irreversible). Off by default.
    #[arg(long)]
    pub allow_delete: bool,
    /// Only tools of these methods: list, get, create, update, delete, read (= list,get), write (= create,update,delete).
    #[arg(long, value_delimiter = ',', value_parser = list, value_name = "LIST")]
    pub methods: Vec<String>,
    /// Only tools of these toolsets: users, roles, profiles, org, audit.
    #[arg(long, value_delimiter = ',', value_parser = list, value_name = "LIST")]
    pub toolsets: Vec<String>,
    /// Only these tools.
    #[arg(long, value_delimiter = ',', value_parser = list, value_name = "LIST")]
    pub tools: Vec<String>,
    /// Never these tools (wins over --tools).
    #[arg(long, value_delimiter = ',', value_parser = list, value_name = "LIST")]
    pub exclude_tools: Vec<String>,
    /// Refuse every tool call after this instant (RFC 3339, e.g. 2026-12-31T18:00:00Z).
    #[arg(long, value_name = "RFC3339")]
    pub expires_at: Option<String>,
    /// Zoho data centre of the env credentials: us, eu, in, au, jp, cn, sa, ca.
    #[arg(long, env = "BIGIN_DC", value_name = "DC")]
    pub dc: Option<String>,
    /// Override the API domain (default: the token response's api_domain).
    #[arg(long, env = "BIGIN_API_DOMAIN", value_name = "URL")]
    pub api_domain: Option<String>,
    /// Override the accounts server used to refresh tokens.
    #[arg(long, env = "BIGIN_ACCOUNTS_URL", value_name = "URL")]
    pub accounts_url: Option<String>,
    /// Audit log of write attempts (JSON lines). Default: audit.log in the platform data directory.
    #[arg(long, env = "BIGIN_AUDIT_LOG", value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
    /// Seconds before a Zoho request times out.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
}

#[derive(Debug, Args, Clone)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8719)]
    pub port: u16,
    /// The data centre the consent redirect reports (`location`).
    #[arg(long, default_value = "us")]
    pub location: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("bigin-mcp").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn lists_split_on_commas_and_repeat() {
        let Some(Command::Serve(s)) =
            parse(&["serve", "--tools", "a,b", "--tools", "c", "--read-only"]).command
        else {
            panic!("not serve")
        };
        assert_eq!(s.tools, vec!["a", "b", "c"]);
        assert!(s.read_only && !s.allow_delete);
    }

    #[test]
    fn the_callback_port_cannot_be_zero() {
        let r = Cli::try_parse_from(["bigin-mcp", "login", "--port", "0"]);
        assert!(r.is_err(), "port 0 cannot be registered as a redirect URI");
        assert!(Cli::try_parse_from(["bigin-mcp", "login", "--port", "8080"]).is_ok());
    }

    #[test]
    fn no_subcommand_is_allowed() {
        assert!(parse(&[]).command.is_none());
    }
}
