//! `bigin-mcp man`: one roff page for the whole program. clap_mangen's
//! page lists the subcommands but not their flags, so this renders its
//! title, name, synopsis, description and top-level options, then every
//! subcommand with its flags (and the variable each reads), and the
//! sections clap knows nothing of: environment, files and exit status.

use std::collections::BTreeMap;
use std::io::Write;

use clap_mangen::roff::{Roff, bold, italic, roman};

/// Variables read outside the flags: (name, meaning).
const MORE_VARIABLES: &[(&str, &str)] = &[
    (
        "BIGIN_CLIENT_SECRET",
        "With BIGIN_CLIENT_ID and BIGIN_REFRESH_TOKEN: credentials from the environment instead of the keychain (containers, CI).",
    ),
    (
        "BIGIN_REFRESH_TOKEN",
        "A Zoho refresh token; when set, the BIGIN_CLIENT_* variables override the keychain.",
    ),
    (
        "BIGIN_LOG",
        "Log level on stderr: error, warn, info (default), debug or trace.",
    ),
];

/// Files the program reads and writes: (path, what).
const FILES: &[(&str, &str)] = &[
    (
        "~/.config/bigin-mcp/accounts.json",
        "Each login's non-secret settings (macOS: ~/Library/Application Support/bigin-mcp; Windows: %APPDATA%\\bigin-mcp\\config). Mode 0600 in a 0700 directory.",
    ),
    (
        "~/.config/bigin-mcp/credentials.json",
        "Secrets of logins made with --insecure-storage, beside accounts.json, mode 0600. Otherwise secrets live in the OS keychain (service bigin-mcp).",
    ),
    (
        "~/.config/bigin-mcp/locks/",
        "Lock files that let concurrent install and uninstall runs take turns on one client config.",
    ),
    (
        "~/.local/share/bigin-mcp/audit.log",
        "One JSON line per write attempted through the server (--audit-log to move it).",
    ),
    (
        "~/.local/share/bigin-mcp/reviews/ACCOUNT/",
        "Access-review snapshots, the baseline of review --since last.",
    ),
    (
        "CLIENT-CONFIG.bak-TIME",
        "The config file as it was before install or uninstall changed it; the newest 3 are kept.",
    ),
];

/// Exit codes: (code, meaning).
const EXIT_CODES: &[(&str, &str)] = &[
    ("0", "Success."),
    ("1", "Failure (Zoho, the network, the keychain, a file)."),
    ("2", "Bad usage: an invalid flag, value or variable."),
    ("3", "Not logged in for the account asked for."),
    (
        "4",
        "review only: findings at or above --fail-on (the review itself was written).",
    ),
];

/// Renders the page to `w`.
pub fn render(w: &mut dyn Write) -> std::io::Result<()> {
    let mut cmd = bigin_mcp::cli::command();
    // Sets each subcommand's bin name ("bigin-mcp serve") for the usages.
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    man.render_options_section(w)?;

    let mut page = Roff::new();
    // Variable -> the flags that read it, in command order.
    let mut variables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    page.control("SH", ["COMMANDS"]);
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = sub.get_name();
        let usage = sub.clone().render_usage().to_string();
        let usage = usage.trim_start_matches("Usage: ");
        page.control("SS", [usage]);
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            page.text([roman(about.to_string())]);
        }
        if sub.is_hide_set() {
            page.text([roman(
                "Not shown in --help: for packaging (scripts/build-mcpb reads it).",
            )]);
        }
        for arg in sub.get_arguments() {
            if arg.is_hide_set() || matches!(arg.get_id().as_str(), "help" | "version") {
                continue;
            }
            let flag = match (arg.get_short(), arg.get_long()) {
                (Some(s), Some(l)) => format!("-{s}, --{l}"),
                (None, Some(l)) => format!("--{l}"),
                (Some(s), None) => format!("-{s}"),
                (None, None) => arg
                    .get_value_names()
                    .and_then(|v| v.first())
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| arg.get_id().to_string().to_uppercase()),
            };
            let takes_value = arg.get_action().takes_values();
            let value = arg
                .get_value_names()
                .and_then(|v| v.first())
                .map(|v| format!(" <{v}>"))
                .filter(|_| takes_value && !arg.is_positional())
                .unwrap_or_default();
            page.control("TP", []);
            page.text([bold(flag.clone()), italic(value)]);
            let mut help = arg
                .get_long_help()
                .or(arg.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default();
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            if !values.is_empty() && takes_value {
                help.push_str(&format!(" [values: {}]", values.join(", ")));
            }
            let defaults: Vec<String> = arg
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            if !defaults.is_empty() && takes_value {
                help.push_str(&format!(" [default: {}]", defaults.join(",")));
            }
            if let Some(env) = arg.get_env() {
                let env = env.to_string_lossy().into_owned();
                help.push_str(&format!(" [env: {env}]"));
                let flags = variables.entry(env).or_default();
                let used = format!("{name} {flag}");
                if !flags.contains(&used) {
                    flags.push(used);
                }
            }
            page.text([roman(help)]);
        }
    }

    page.control("SH", ["ENVIRONMENT"]);
    page.text([roman(
        "Each flag's variable sets it when the flag is not given; an invalid value is reported under the variable's name.",
    )]);
    for (var, flags) in &variables {
        page.control("TP", []);
        page.text([bold(var.clone())]);
        page.text([roman(format!("As {}.", flags.join("; ")))]);
    }
    for (var, what) in MORE_VARIABLES {
        page.control("TP", []);
        page.text([bold(*var)]);
        page.text([roman(*what)]);
    }
    page.control("SH", ["FILES"]);
    page.text([roman(
        "Paths are Linux defaults; XDG_CONFIG_HOME and XDG_DATA_HOME move them.",
    )]);
    for (path, what) in FILES {
        page.control("TP", []);
        page.text([italic(*path)]);
        page.text([roman(*what)]);
    }
    page.control("SH", ["EXIT STATUS"]);
    for (code, what) in EXIT_CODES {
        page.control("TP", []);
        page.text([bold(*code)]);
        page.text([roman(*what)]);
    }
    // The title's preamble is already written: the rest without it.
    w.write_all(page.to_roff().as_bytes())?;
    man.render_version_section(w)
}
