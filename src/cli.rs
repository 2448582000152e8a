//! The command line, parsed with clap. Doc comments are the `--help` text.
//! Parsing lives in the library so it can be unit-tested; running the
//! commands is the binary's job.
//!
//! Every `serve` flag has a `BIGIN_*` environment variable, so a host that
//! can only set env (or a container) configures the server the same way.
//! [`parse_from`] makes an invalid environment value name its variable:
//! clap blames the flag, which the user never typed.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgAction, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

mod connection;

pub use connection::{ConnectionArgs, ForwardedServeArgs};
use connection::{absolute_path, forwarded_args, method_name, rfc3339, tool_name, toolset_name};

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
    /// Log in to Zoho (OAuth in the browser, or a Self Client code) and keep the tokens in the OS keychain (or, with --insecure-storage, a private file).
    Login(LoginArgs),
    /// Revoke an account's refresh token at Zoho and remove it from this machine.
    Logout(LogoutArgs),
    /// Show each logged-in account and whether its token refresh works now.
    Status(StatusArgs),
    /// Run the access review once and print it (Markdown, CSV or JSON), for cron and CI; exit code 4 when it has high-severity findings.
    Review(ReviewArgs),
    /// Check, read-only, what this tool assumes about Zoho against your organisation (at most 12 API credits); paste the report into a bug report. Exit code 4 when a load-bearing assumption differed.
    Doctor(DoctorArgs),
    /// Run the sandbox Bigin API and accounts server alone on 127.0.0.1.
    Sandbox(SandboxArgs),
    /// Add this server to an MCP client's config file (keeps everything else; backs the file up).
    Install(InstallArgs),
    /// Remove this server's entry from an MCP client's config file.
    Uninstall(UninstallArgs),
    /// Print a shell completion script, e.g. `bigin-mcp completions bash > ~/.local/share/bash-completion/completions/bigin-mcp`.
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `bigin-mcp man | man -l -`.
    Man,
    /// Print the tools this binary serves as JSON (feeds the MCPB bundle's manifest).
    #[command(hide = true)]
    Tools(ToolsArgs),
    // Evidence commands (audit log checks); see the block at `AuditArgs`.
    /// Check the audit log's hash chain (`verify`) or print it as a table (`show`).
    Audit(AuditArgs),
    /// Carry out the decisions of a review CSV (its `decision` column): prints the plan; changes nothing without --execute.
    Apply(ApplyArgs),
}

#[derive(Debug, Args, Clone)]
pub struct LoginArgs {
    /// Name for this login; serve, status and logout select it with --account.
    #[arg(long, default_value = "default")]
    pub account: String,
    /// Data centre of the Zoho account: us, eu, in, au, jp, cn, sa, ca (uk: unconfirmed for Bigin).
    #[arg(long, default_value = "us", value_parser = data_centre)]
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
    /// Comma-separated Bigin scopes (default: what the tools need, read scopes plus ZohoBigin.users.ALL).
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
    #[arg(long, default_value_t = 300, value_name = "SECS", value_parser = seconds)]
    pub timeout: u64,
    /// Keep the tokens and client secret in a file (mode 0600) in the config directory instead of the OS keychain, for machines without one.
    #[arg(long)]
    pub insecure_storage: bool,
    /// Send no PKCE challenge (Zoho documents PKCE for mobile/desktop clients only; use this if the code exchange fails).
    #[arg(long)]
    pub no_pkce: bool,
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

/// A timeout in whole seconds; 0 would time out every request at once.
fn seconds(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(0) => Err("must be at least 1 (seconds)".into()),
        Ok(n) => Ok(n),
        Err(_) => Err("not a whole number of seconds".into()),
    }
}

/// Most users a sandbox org may have: twenty times the 50,000 of the scale
/// benchmark (about 1 GB in memory), so a stray extra zero is refused rather
/// than turned into gigabytes.
const MAX_SANDBOX_USERS: usize = 1_000_000;

/// The size of a sandbox org: 1 (the primary user alone) to 1,000,000.
fn user_count(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_SANDBOX_USERS).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number from 1 to {MAX_SANDBOX_USERS}"
        )),
    }
}

/// A data-centre code, checked while parsing so a typo fails at once, with
/// or without credentials.
fn data_centre(s: &str) -> Result<String, String> {
    s.parse::<crate::zoho::DataCentre>()
        .map(|d| d.code.to_string())
}

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Which organisation, and how to reach it.
    #[command(flatten)]
    pub conn: ConnectionArgs,
    /// With --demo: the number of users in the sandbox organisation (default
    /// 450). Any size is deterministic, for scale tests.
    #[arg(long, env = "BIGIN_DEMO_USERS", value_name = "N", requires = "demo", value_parser = user_count)]
    pub demo_users: Option<usize>,
    /// Expose only tools that change nothing. Wins over every other flag.
    #[arg(long, env = "BIGIN_READ_ONLY", action = ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    pub read_only: bool,
    /// Expose bigin_delete_user (irreversible). Off by default.
    #[arg(long, env = "BIGIN_ALLOW_DELETE", action = ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    pub allow_delete: bool,
    /// Never ask the person to confirm writes by MCP elicitation (confirm_email still applies); the same as --elicitation never.
    #[arg(long, env = "BIGIN_NO_ELICITATION", action = ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    pub no_elicitation: bool,
    /// When to ask the person to confirm a write by MCP elicitation: auto (clients that declare it, except those known not to show the form: Claude Desktop's claude-ai and local-agent-mode-*), always, or never.
    #[arg(long, env = "BIGIN_ELICITATION", default_value = "auto", value_name = "WHEN", value_parser = str::parse::<crate::mcp::ElicitationPolicy>)]
    pub elicitation: crate::mcp::ElicitationPolicy,
    /// Only tools of these methods: list, get, create, update, delete, read (= list,get), write (= create,update,delete).
    #[arg(long, env = "BIGIN_METHODS", value_delimiter = ',', value_parser = method_name, value_name = "LIST")]
    pub methods: Vec<String>,
    // The help names the toolsets as the tools declare them.
    #[arg(long, env = "BIGIN_TOOLSETS", value_delimiter = ',', value_parser = toolset_name, value_name = "LIST",
          help = format!("Only tools of these toolsets: {}.", crate::mcp::toolset_names().join(", ")))]
    pub toolsets: Vec<String>,
    /// Only these tools.
    #[arg(long, env = "BIGIN_TOOLS", value_delimiter = ',', value_parser = tool_name, value_name = "LIST")]
    pub tools: Vec<String>,
    /// Never these tools (wins over --tools).
    #[arg(long, env = "BIGIN_EXCLUDE_TOOLS", value_delimiter = ',', value_parser = tool_name, value_name = "LIST")]
    pub exclude_tools: Vec<String>,
    /// Refuse every tool call after this instant (RFC 3339, e.g. 2026-12-31T18:00:00Z).
    #[arg(long, env = "BIGIN_EXPIRES_AT", value_name = "RFC3339", value_parser = rfc3339)]
    pub expires_at: Option<String>,
    /// Audit log of write attempts (JSON lines, an absolute path). Default: audit.log in the platform data directory.
    #[arg(long, env = "BIGIN_AUDIT_LOG", value_name = "PATH", value_parser = absolute_path)]
    pub audit_log: Option<PathBuf>,
    /// Nobody logged in: the loopback port of the consent link the first tool call gives (the Zoho client's redirect URI http://127.0.0.1:PORT/callback).
    #[arg(long, env = "BIGIN_CALLBACK_PORT", default_value_t = crate::auth::oauth::DEFAULT_PORT, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub callback_port: u16,
    /// Nobody logged in: the consent link sends no PKCE challenge (as `login --no-pkce`).
    #[arg(long, env = "BIGIN_NO_PKCE", action = ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    pub no_pkce: bool,
    /// Nobody logged in: keep the tokens the consent link brings in a 0600 file, not the OS keychain (as `login --insecure-storage`).
    #[arg(long, env = "BIGIN_INSECURE_STORAGE", action = ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    pub insecure_storage: bool,
}

impl ServeArgs {
    /// The tool filter these flags ask for. Blank list entries are dropped:
    /// an empty variable (`BIGIN_TOOLSETS=`, as an MCPB bundle passes for an
    /// unset option) means no restriction, not a toolset named "".
    pub fn tool_filter(&self) -> crate::mcp::ToolFilter {
        let clean = |l: &[String]| -> Vec<String> {
            l.iter()
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        };
        crate::mcp::ToolFilter {
            read_only: self.read_only,
            allow_delete: self.allow_delete,
            methods: clean(&self.methods),
            toolsets: clean(&self.toolsets),
            tools: clean(&self.tools),
            exclude_tools: clean(&self.exclude_tools),
        }
    }
}

/// How `review` writes the review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReviewFormat {
    /// Markdown: the evidence header, counts, admins, findings, changes.
    #[value(alias = "markdown")]
    Md,
    /// One row per user, for spreadsheets.
    Csv,
    /// The MCP tool's structured result, pretty-printed.
    Json,
}

impl ReviewFormat {
    /// The format a file name implies (`.md`, `.csv`, `.json`).
    pub fn from_path(p: &std::path::Path) -> Option<ReviewFormat> {
        let ext = p.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "md" | "markdown" => Some(ReviewFormat::Md),
            "csv" => Some(ReviewFormat::Csv),
            "json" => Some(ReviewFormat::Json),
            _ => None,
        }
    }
}

/// Which findings make `review` exit with code 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Never: exit 0 whatever the findings.
    #[value(name = "none")]
    Never,
    /// High-severity findings (the default).
    High,
    /// High- or medium-severity findings.
    Medium,
}

#[derive(Debug, Args, Clone)]
pub struct ReviewArgs {
    /// Which organisation, and how to reach it.
    #[command(flatten)]
    pub conn: ConnectionArgs,
    /// md, csv or json. Default: from the --output file's extension, else md.
    #[arg(long, env = "BIGIN_REVIEW_FORMAT", value_enum, value_name = "FORMAT")]
    pub format: Option<ReviewFormat>,
    /// Write the review to this file (mode 0600) instead of stdout.
    #[arg(long, short = 'o', env = "BIGIN_REVIEW_OUTPUT", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Add what changed since an earlier review: "last", a date (2026-09-30) or an RFC 3339 time.
    #[arg(long, env = "BIGIN_REVIEW_SINCE", value_name = "WHEN", value_parser = since)]
    pub since: Option<crate::mcp::Since>,
    /// Exit with code 4 on findings of this severity or worse: none, high or medium.
    #[arg(
        long,
        env = "BIGIN_REVIEW_FAIL_ON",
        value_enum,
        default_value = "high",
        value_name = "SEVERITY"
    )]
    pub fail_on: FailOn,
}

impl ReviewArgs {
    /// The format asked for, else the one `--output`'s extension implies,
    /// else Markdown.
    pub fn format(&self) -> ReviewFormat {
        self.format
            .or_else(|| self.output.as_deref().and_then(ReviewFormat::from_path))
            .unwrap_or(ReviewFormat::Md)
    }
}

/// How `doctor` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoctorFormat {
    /// A Markdown table, to paste into a bug report.
    #[value(alias = "markdown")]
    Md,
    /// `{"checks":[{"id","assumption","result","seen"}],"credits_used":N}`.
    Json,
}

#[derive(Debug, Args, Clone)]
pub struct DoctorArgs {
    /// Which organisation, and how to reach it.
    #[command(flatten)]
    pub conn: ConnectionArgs,
    /// md (default) or json.
    #[arg(long, value_enum, default_value = "md", value_name = "FORMAT")]
    pub format: DoctorFormat,
}

/// `--since`, checked while parsing so a typo is a usage error.
fn since(s: &str) -> Result<crate::mcp::Since, String> {
    s.parse()
}

/// The MCP clients `install` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientArg {
    /// Claude Desktop (claude_desktop_config.json).
    ClaudeDesktop,
    /// Claude Code (~/.claude.json, or .mcp.json with --scope project).
    ClaudeCode,
    /// Cursor (~/.cursor/mcp.json, or .cursor/mcp.json with --scope project).
    Cursor,
    /// VS Code (.vscode/mcp.json in the current folder).
    Vscode,
}

/// Whose config file: the user's, or the project in the current directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    User,
    Project,
}

#[derive(Debug, Args, Clone)]
pub struct InstallArgs {
    /// The client whose config file gets the entry.
    #[arg(value_enum)]
    pub client: ClientArg,
    /// user (default) or project (Claude Code: .mcp.json; Cursor: .cursor/mcp.json). VS Code is always project.
    #[arg(long, value_enum)]
    pub scope: Option<ScopeArg>,
    /// The entry's name in the client's server list.
    #[arg(long, default_value = "bigin", value_parser = entry_name)]
    pub name: String,
    /// Print the change without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Flags for `serve`, written into the entry's args.
    #[command(flatten)]
    pub serve: ForwardedServeArgs,
    /// The `serve` command line for the entry: `serve` and the flags above
    /// as typed (filled by [`parse_from`]).
    #[arg(skip)]
    pub forwarded: Vec<String>,
}

#[derive(Debug, Args, Clone)]
pub struct UninstallArgs {
    /// The client whose config file loses the entry.
    #[arg(value_enum)]
    pub client: ClientArg,
    /// user (default) or project, as for install.
    #[arg(long, value_enum)]
    pub scope: Option<ScopeArg>,
    /// The entry's name in the client's server list.
    #[arg(long, default_value = "bigin", value_parser = entry_name)]
    pub name: String,
    /// Print the change without writing anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// Entry names become JSON keys and command-line words in docs: keep them plain.
fn entry_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(s.to_string())
    } else {
        Err("use 1-64 letters, digits, '-', '_' or '.'".into())
    }
}

#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args, Clone)]
pub struct ToolsArgs {
    /// Print JSON (the only format; the flag keeps scripts explicit).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8719)]
    pub port: u16,
    /// The data centre the consent redirect reports (`location`).
    #[arg(long, default_value = "us")]
    pub location: String,
    /// Users in the organisation. 450 is the demo org; any size is
    /// deterministic and starts with those 450, for scale tests.
    #[arg(long, value_name = "N", default_value_t = crate::sandbox::DEFAULT_USERS, value_parser = user_count)]
    pub users: usize,
    /// Play a Zoho that answers an open question differently (repeatable, combined):
    /// no-single-profile, list-permissions, object-references, refusals-in-200,
    /// retry-after-in-body, token-throttle, token-throttle-400. Default: as documented.
    #[arg(long, value_name = "NAME", value_parser = clap::value_parser!(crate::sandbox::VariantName))]
    pub variant: Vec<crate::sandbox::VariantName>,
}

// ---- Evidence commands: `audit verify`, `audit show` --------------------

#[derive(Debug, Args, Clone)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, Subcommand, Clone)]
pub enum AuditCommand {
    /// Check every line's hash chain; exit 0 when intact, 1 naming the first line that does not verify.
    Verify(AuditFileArgs),
    /// Print the audit log as a table.
    Show(AuditShowArgs),
}

#[derive(Debug, Args, Clone)]
pub struct AuditFileArgs {
    /// The audit log (default: the one `serve` writes, audit.log in the platform data directory).
    #[arg(long, env = "BIGIN_AUDIT_LOG", value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
}

/// `audit show --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Md,
    Csv,
    Json,
}

#[derive(Debug, Args, Clone)]
pub struct AuditShowArgs {
    #[command(flatten)]
    pub file: AuditFileArgs,
    /// Only lines at or after this date (2026-09-30, UTC) or RFC 3339 time.
    #[arg(long, value_name = "WHEN", value_parser = after)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only lines about this user (id or email, case-insensitive).
    #[arg(long, value_name = "ID_OR_EMAIL")]
    pub user: Option<String>,
    /// md, csv or json.
    #[arg(long, value_enum, default_value = "md", value_name = "FORMAT")]
    pub format: AuditFormat,
}

#[derive(Debug, Args, Clone)]
pub struct ApplyArgs {
    /// The review CSV (`bigin-mcp review --format csv`) with its `decision` column filled in: keep, deactivate, delete or profile:<name>.
    #[arg(value_name = "FILE.csv")]
    pub file: PathBuf,
    /// Make the changes (default: only print the plan).
    #[arg(long)]
    pub execute: bool,
    /// With --execute: do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// The review snapshot the decisions came from, named in each audit line. Default: the organisation's latest.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// The connection, as `serve` and `review` take it (--demo, --account, --dc, ...).
    #[command(flatten)]
    pub conn: ConnectionArgs,
    /// Audit log of the changes. Default: the one `serve` writes.
    #[arg(long, env = "BIGIN_AUDIT_LOG", value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
}

/// `audit show --since`: a date means from the start of that day (UTC).
fn after(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
        .map_err(|_| format!("expected a date (2026-09-30) or an RFC 3339 time; got '{s}'"))
}

/// Parses `args` (program name first). On an invalid value that came from
/// an environment variable, the error names the variable instead of the
/// flag. Help and version requests come back as errors too, as clap does.
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut cmd = command();
    let parsed = cmd
        .try_get_matches_from_mut(args.iter().cloned())
        .and_then(|m| {
            let mut cli = Cli::from_arg_matches(&m)?;
            if let (Some(Command::Install(i)), Some(("install", sub))) =
                (cli.command.as_mut(), m.subcommand())
            {
                i.forwarded = forwarded_args(sub);
            }
            Ok(cli)
        });
    parsed.map_err(|e| blame_env(e, &args, &mut cmd))
}

/// The command line's definition. `install` forwards flags to `serve`
/// without reading the environment: the connection group it shares with
/// `serve` loses its `BIGIN_*` fallbacks there.
pub fn command() -> clap::Command {
    Cli::command().mut_subcommand("install", |c| c.mut_args(|a| a.env(None::<&str>)))
}

/// Rewrites a value error whose value came from the environment. clap does
/// not say where a failing value came from (and gives no matches to ask),
/// so: the flag is not on the command line, and its variable holds the
/// value clap rejected.
fn blame_env(e: clap::Error, args: &[OsString], cmd: &mut clap::Command) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    use std::error::Error as _;
    if !matches!(
        e.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        return e;
    }
    let ctx = |k| match e.get(k) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let (Some(arg), Some(value)) = (ctx(ContextKind::InvalidArg), ctx(ContextKind::InvalidValue))
    else {
        return e;
    };
    // "--timeout <SECS>" -> "timeout"
    let long = arg
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .trim_start_matches('-')
        .to_string();
    let typed = args.iter().skip(1).any(|a| {
        let a = a.to_string_lossy();
        a == format!("--{long}") || a.starts_with(&format!("--{long}="))
    });
    if typed {
        return e;
    }
    let env = std::iter::once(&*cmd)
        .chain(cmd.get_subcommands())
        .flat_map(|c| c.get_arguments())
        .filter(|a| a.get_long() == Some(long.as_str()))
        .filter_map(|a| a.get_env())
        .find(|var| {
            std::env::var_os(var).is_some_and(|v| {
                let v = v.to_string_lossy();
                v == value || v.split(',').any(|part| part == value)
            })
        })
        .map(|v| v.to_string_lossy().into_owned());
    let Some(var) = env else {
        return e;
    };
    // clap's own explanation (e.g. "1..18446744073709551615"), minus its
    // blame of the flag.
    let why = e.source().map(|s| format!(": {s}")).unwrap_or_default();
    cmd.error(
        e.kind(),
        format!(
            "invalid value '{value}' in the environment variable {var} (read for --{long}){why}"
        ),
    )
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
            // Real names: each entry is checked against the catalogue while parsing.
            parse(&["serve", "--tools", "bigin_list_users,bigin_get_user", "--tools", "bigin_list_roles", "--read-only"]).command
        else {
            panic!("not serve")
        };
        assert_eq!(
            s.tools,
            vec!["bigin_list_users", "bigin_get_user", "bigin_list_roles"]
        );
        assert!(s.read_only && !s.allow_delete);
    }

    #[test]
    fn the_callback_port_cannot_be_zero() {
        let r = Cli::try_parse_from(["bigin-mcp", "login", "--port", "0"]);
        assert!(r.is_err(), "port 0 cannot be registered as a redirect URI");
        assert!(Cli::try_parse_from(["bigin-mcp", "login", "--port", "8080"]).is_ok());
    }

    #[test]
    fn blank_list_entries_restrict_nothing() {
        let Some(Command::Serve(s)) = parse(&[
            "serve",
            "--toolsets",
            "",
            "--tools",
            "bigin_list_users,,bigin_get_user",
        ])
        .command
        else {
            panic!("not serve")
        };
        let f = s.tool_filter();
        assert!(f.toolsets.is_empty());
        assert_eq!(f.tools, vec!["bigin_list_users", "bigin_get_user"]);
    }

    #[test]
    fn review_format_is_the_flag_else_the_output_name_else_markdown() {
        let format = |args: &[&str]| {
            let Some(Command::Review(r)) = parse(args).command else {
                panic!("not review")
            };
            r.format()
        };
        assert_eq!(format(&["review"]), ReviewFormat::Md);
        assert_eq!(format(&["review", "-o", "q3.CSV"]), ReviewFormat::Csv);
        assert_eq!(format(&["review", "-o", "q3.json"]), ReviewFormat::Json);
        assert_eq!(format(&["review", "-o", "q3.txt"]), ReviewFormat::Md);
        assert_eq!(
            format(&["review", "-o", "q3.csv", "--format", "markdown"]),
            ReviewFormat::Md
        );
    }

    #[test]
    fn no_subcommand_is_allowed() {
        assert!(parse(&[]).command.is_none());
    }
}
