//! `bigin-mcp install CLIENT` and `uninstall CLIENT`: the terminal side of
//! [`bigin_mcp::clients`]. Says what changed (or would, with `--dry-run`)
//! on stdout; errors go to stderr through `main`.

use std::process::ExitCode;

use bigin_mcp::cli::{ClientArg, InstallArgs, ScopeArg, UninstallArgs};
use bigin_mcp::clients::{self, Client, Dirs, Outcome, Scope};
use bigin_mcp::mcp::ToolFilter;

use super::UsageError;

fn client(c: ClientArg) -> Client {
    match c {
        ClientArg::ClaudeDesktop => Client::ClaudeDesktop,
        ClientArg::ClaudeCode => Client::ClaudeCode,
        ClientArg::Cursor => Client::Cursor,
        ClientArg::Vscode => Client::VsCode,
    }
}

fn scope(s: Option<ScopeArg>) -> Option<Scope> {
    s.map(|s| match s {
        ScopeArg::User => Scope::User,
        ScopeArg::Project => Scope::Project,
    })
}

fn usage(e: clients::ClientConfigError) -> anyhow::Error {
    match e {
        clients::ClientConfigError::Unsupported(m) => UsageError(m).into(),
        other => other.into(),
    }
}

#[allow(clippy::print_stdout)] // Not `serve`: stdout is this command's report.
pub fn install(args: InstallArgs) -> anyhow::Result<ExitCode> {
    let s = &args.serve;
    // The same checks `serve` makes at start-up, so a typo fails now rather
    // than when the client first starts the server.
    let filter = ToolFilter {
        read_only: s.read_only,
        allow_delete: s.allow_delete,
        methods: s.methods.clone(),
        toolsets: s.toolsets.clone(),
        tools: s.tools.clone(),
        exclude_tools: s.exclude_tools.clone(),
    };
    filter.select().map_err(|e| UsageError(e.0))?;
    if let Some(why) = filter.explain_empty() {
        return Err(UsageError(why).into());
    }
    // --expires-at, --account, --api-domain, --accounts-url, --audit-log and
    // --timeout were checked while parsing, by the parsers `serve` uses.
    let c = client(args.client);
    let dirs = Dirs::from_env()?;
    let scope = scope(args.scope);
    let path = c.config_path(scope, &dirs).map_err(usage)?;
    let shared = c == Client::ClaudeCode && scope == Some(Scope::Project);
    let exe = super::this_binary()?;
    // A project's .mcp.json is shared with the team: name the program as
    // found on the PATH, not this user's absolute path. Other configs are
    // started by hosts without the user's PATH, so they get the full path.
    let on_path = if shared { find_on_path(PROGRAM) } else { None };
    let command = match &on_path {
        Some(_) => PROGRAM.to_string(),
        None => exe.display().to_string(),
    };
    let entry = c.entry(&command, &args.forwarded);
    let shown = path.display();
    if args.dry_run {
        let change = clients::plan_install(&path, c, &args.name, &entry).map_err(usage)?;
        if change.outcome == Outcome::Unchanged {
            println!(
                "{} already has '{}' exactly like this in {shown}; nothing would change.",
                c.label(),
                args.name
            );
            return Ok(ExitCode::SUCCESS);
        }
        let verb = if change.outcome == Outcome::Replaced {
            "replace"
        } else {
            "add"
        };
        println!(
            "Would {verb} '{}' under \"{}\" in {shown} (dry run: nothing written; env values and secrets shown as ***):",
            args.name,
            c.servers_key()
        );
        let new = change.new_entry.as_ref().unwrap_or(&entry);
        if let Some(old) = &change.old_entry {
            println!("- {}", serde_json::to_string(&clients::masked(old))?);
            println!("+ {}", serde_json::to_string(&clients::masked(new))?);
        } else {
            println!("{}", snippet(&args.name, new)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (change, backup) =
        clients::install(&path, c, &args.name, &entry, &dirs.locks).map_err(usage)?;
    if change.outcome == Outcome::Unchanged {
        println!(
            "{} already has '{}' exactly like this in {shown}; nothing changed.",
            c.label(),
            args.name
        );
        return Ok(ExitCode::SUCCESS);
    }
    let new = change.new_entry.as_ref().unwrap_or(&entry);
    let verb = if change.outcome == Outcome::Replaced {
        "Replaced command and args of"
    } else {
        "Added"
    };
    println!(
        "{verb} '{}' in {shown}:\n{}",
        args.name,
        snippet(&args.name, new)?
    );
    if change.outcome == Outcome::Replaced {
        println!("Its other settings (env, disabled, ...) are kept.");
    }
    if let Some(b) = backup {
        println!("The previous file is kept as {}.", b.display());
    }
    if shared {
        match &on_path {
            Some(p) => println!(
                "The entry runs `{PROGRAM}` from the PATH (here {}), not this user's path, because .mcp.json is shared with the project's team; each of them needs bigin-mcp on their PATH.",
                p.display()
            ),
            None => println!(
                "bigin-mcp is not on your PATH, so the entry names this copy by its absolute path, which your teammates will not have. Put bigin-mcp on the PATH and install again to write a shareable `{PROGRAM}`."
            ),
        }
        println!(
            "Claude Code asks each person to approve a project's servers before it starts them (`claude mcp list` shows it as pending until then)."
        );
    }
    println!("Next: {}", c.restart_step(scope));
    if !s.conn.demo {
        println!(
            "If you have not logged in yet: bigin-mcp login (or install with --demo to try the sandbox organisation)."
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The command name written to shared configs.
const PROGRAM: &str = "bigin-mcp";

/// The first `program` on the PATH that is an executable file.
fn find_on_path(program: &str) -> Option<std::path::PathBuf> {
    let name = format!("{program}{}", std::env::consts::EXE_SUFFIX);
    std::env::split_paths(&std::env::var_os("PATH")?)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(&name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &std::path::Path) -> bool {
    let Ok(m) = std::fs::metadata(p) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        m.is_file() && m.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        m.is_file()
    }
}

/// `{ "name": entry }`, secrets masked: the report is shown on a terminal
/// and may be pasted into a bug report.
fn snippet(name: &str, entry: &serde_json::Value) -> anyhow::Result<String> {
    Ok(clients::show_entry(name, entry))
}

#[allow(clippy::print_stdout)] // Not `serve`: stdout is this command's report.
pub fn uninstall(args: UninstallArgs) -> anyhow::Result<ExitCode> {
    let c = client(args.client);
    let dirs = Dirs::from_env()?;
    let path = c.config_path(scope(args.scope), &dirs).map_err(usage)?;
    let shown = path.display();
    let change = if args.dry_run {
        clients::plan_uninstall(&path, c, &args.name).map_err(usage)?
    } else {
        let (change, backup) =
            clients::uninstall(&path, c, &args.name, &dirs.locks).map_err(usage)?;
        if change.outcome == Outcome::Removed {
            println!("Removed '{}' from {shown}.", args.name);
            if let Some(b) = backup {
                println!("The previous file is kept as {}.", b.display());
            }
            return Ok(ExitCode::SUCCESS);
        }
        change
    };
    if change.outcome == Outcome::Absent {
        println!(
            "{} has no server named '{}' in {shown}; nothing changed.",
            c.label(),
            args.name
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Would remove '{}' from {shown} (dry run: nothing written; env values and secrets shown as ***):\n- {}",
        args.name,
        serde_json::to_string(&change.old_entry.as_ref().map(clients::masked))?
    );
    Ok(ExitCode::SUCCESS)
}
