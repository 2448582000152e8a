//! The flags shared across commands: [`ConnectionArgs`] (which organisation
//! and how to reach it: `serve`, `review`, `doctor`), [`ForwardedServeArgs`]
//! (what `install` writes into a client's config, forwarded as typed), and
//! the value parsers that check them while parsing, so a bad value fails the
//! same way in every command and names the variable it came from.

use std::path::PathBuf;

use clap::{ArgAction, Args};

use super::{data_centre, seconds};

/// The flags that say which organisation and how to reach it, shared by
/// `serve`, `review` and `doctor`, and forwarded by `install`. Each value is
/// checked while parsing, so a bad one (from a flag or its variable) fails
/// the same way everywhere, naming what the user set.
#[derive(Debug, Args, Clone, Default, serde::Serialize)]
pub struct ConnectionArgs {
    /// Use the built-in sandbox organisation (no Zoho account needed).
    #[arg(long, env = "BIGIN_DEMO", action = ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    pub demo: bool,
    /// The logged-in account to use (see `bigin-mcp login --account`); empty means the default.
    #[arg(long, env = "BIGIN_ACCOUNT", default_value = "default", value_parser = account_name)]
    pub account: String,
    /// Zoho data centre of the env credentials: us, eu, in, au, jp, cn, sa, ca (uk: unconfirmed for Bigin).
    #[arg(long, env = "BIGIN_DC", value_name = "DC", value_parser = data_centre_or_us)]
    pub dc: Option<String>,
    /// Override the API domain (default: the token response's api_domain); https, or http to loopback.
    #[arg(long, env = "BIGIN_API_DOMAIN", value_name = "URL", value_parser = base_url)]
    pub api_domain: Option<String>,
    /// Override the accounts server used to refresh tokens; https, or http to loopback.
    #[arg(long, env = "BIGIN_ACCOUNTS_URL", value_name = "URL", value_parser = base_url)]
    pub accounts_url: Option<String>,
    /// Seconds before a Zoho request times out (at least 1).
    #[arg(long, env = "BIGIN_TIMEOUT", default_value_t = 30, value_name = "SECS", value_parser = seconds)]
    pub timeout: u64,
}

/// An account name; blank (an MCPB bundle's unset Account setting) is the
/// default account.
pub(super) fn account_name(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(crate::auth::DEFAULT_ACCOUNT.to_string());
    }
    crate::auth::check_account_name(s).map_err(|e| e.to_string())?;
    Ok(s.to_string())
}

/// A data centre; blank (an MCPB bundle's cleared setting) is `us`, the
/// default where none is given.
pub(super) fn data_centre_or_us(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Ok("us".into());
    }
    data_centre(s.trim())
}

/// A base URL that may carry credentials (see [`crate::zoho::check_base_url`]).
pub(super) fn base_url(s: &str) -> Result<String, String> {
    crate::zoho::check_base_url(s.trim())
}

/// An RFC 3339 instant, kept as given.
pub(super) fn rfc3339(s: &str) -> Result<String, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|_| s.trim().to_string())
        .map_err(|e| format!("not an RFC 3339 time ({e}); e.g. 2026-12-31T18:00:00Z"))
}

/// An absolute path: a relative one would land in whatever directory the
/// MCP client starts the server in.
pub(super) fn absolute_path(s: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(s);
    if p.is_absolute() {
        Ok(p)
    } else {
        Err("must be an absolute path (the MCP client decides the working directory)".into())
    }
}

/// One entry of a filter list, checked against the catalogue while parsing
/// so a bad `BIGIN_*` value is reported under the variable's name. Blank
/// entries pass: an empty variable means no restriction.
pub(super) fn filter_item(
    s: &str,
    set: fn(&mut crate::mcp::ToolFilter, String),
) -> Result<String, String> {
    let item = s.trim();
    if item.is_empty() {
        return Ok(String::new());
    }
    let mut f = crate::mcp::ToolFilter::default();
    set(&mut f, item.to_string());
    match f.select() {
        Ok(_) => Ok(item.to_string()),
        // "--methods: unknown method 'x'; valid: ..." -> without the flag,
        // which clap's message already names.
        Err(e) => Err(e
            .0
            .split_once(": ")
            .map_or(e.0.clone(), |(_, m)| m.to_string())),
    }
}

pub(super) fn method_name(s: &str) -> Result<String, String> {
    filter_item(s, |f, x| f.methods = vec![x])
}

pub(super) fn toolset_name(s: &str) -> Result<String, String> {
    filter_item(s, |f, x| f.toolsets = vec![x])
}

pub(super) fn tool_name(s: &str) -> Result<String, String> {
    filter_item(s, |f, x| f.tools = vec![x])
}

/// The `serve` flags `install` writes into the client's config: the
/// connection group as `serve` has it, plus the tool filters. No env
/// fallbacks here (see [`super::command`]): what goes into the file is what was
/// typed, checked by the same value parsers `serve` uses, and forwarded as
/// typed ([`super::InstallArgs::forwarded`]).
#[derive(Debug, Args, Clone, Default)]
pub struct ForwardedServeArgs {
    #[command(flatten)]
    pub conn: ConnectionArgs,
    /// serve --read-only.
    #[arg(long)]
    pub read_only: bool,
    /// serve --allow-delete.
    #[arg(long)]
    pub allow_delete: bool,
    /// serve --no-elicitation.
    #[arg(long)]
    pub no_elicitation: bool,
    /// serve --methods LIST.
    #[arg(long, value_delimiter = ',', value_parser = method_name, value_name = "LIST")]
    pub methods: Vec<String>,
    /// serve --toolsets LIST.
    #[arg(long, value_delimiter = ',', value_parser = toolset_name, value_name = "LIST")]
    pub toolsets: Vec<String>,
    /// serve --tools LIST.
    #[arg(long, value_delimiter = ',', value_parser = tool_name, value_name = "LIST")]
    pub tools: Vec<String>,
    /// serve --exclude-tools LIST.
    #[arg(long, value_delimiter = ',', value_parser = tool_name, value_name = "LIST")]
    pub exclude_tools: Vec<String>,
    /// serve --expires-at RFC3339.
    #[arg(long, value_name = "RFC3339", value_parser = rfc3339)]
    pub expires_at: Option<String>,
    /// serve --audit-log PATH (absolute).
    #[arg(long, value_name = "PATH", value_parser = absolute_path)]
    pub audit_log: Option<PathBuf>,
}

/// The `serve` arguments given on `install`'s command line, in `--help`
/// order, read from clap's matches rather than written out flag by flag:
/// a flag added to the group is forwarded without touching this.
pub(super) fn forwarded_args(m: &clap::ArgMatches) -> Vec<String> {
    use clap::parser::ValueSource;
    let group = ForwardedServeArgs::augment_args(clap::Command::new("forwarded"));
    let mut out = vec!["serve".to_string()];
    let typed = |arg: &&clap::Arg| {
        m.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine)
            && arg.get_long().is_some()
    };
    let is_switch = |arg: &clap::Arg| matches!(arg.get_action(), ArgAction::SetTrue);
    // Switches first, then flags with values, each in `--help` order.
    for arg in group.get_arguments().filter(typed).filter(|a| is_switch(a)) {
        if m.get_flag(arg.get_id().as_str()) {
            out.push(format!("--{}", arg.get_long().unwrap_or_default()));
        }
    }
    for arg in group
        .get_arguments()
        .filter(typed)
        .filter(|a| !is_switch(a))
    {
        let id = arg.get_id().as_str();
        let long = arg.get_long().unwrap_or_default();
        let raw: Vec<String> = m
            .get_raw(id)
            .into_iter()
            .flatten()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        if raw.is_empty() {
            continue;
        }
        out.push(format!("--{long}"));
        match arg.get_value_delimiter() {
            Some(d) => out.push(raw.join(&d.to_string())),
            None => out.extend(raw),
        }
    }
    out
}
