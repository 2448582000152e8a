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
    /// Run the sandbox Bigin API and accounts server alone on 127.0.0.1.
    Sandbox(SandboxArgs),
}

/// Comma-separated lists: `--tools a,b --tools c` gives a, b, c.
fn list(s: &str) -> Result<String, String> {
    Ok(s.to_string())
}

#[derive(Debug, Args, Default, Clone)]
pub struct ServeArgs {
    /// Serve against the built-in sandbox organisation (no Zoho account needed).
    #[arg(long)]
    pub demo: bool,
    /// Expose only tools that change nothing. Wins over every other flag.
    #[arg(long, env = "BIGIN_READ_ONLY")]
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
    fn no_subcommand_is_allowed() {
        assert!(parse(&[]).command.is_none());
    }
}
