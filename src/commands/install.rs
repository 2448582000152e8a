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
    let path = c
        .config_path(scope(args.scope), &Dirs::from_env()?)
        .map_err(usage)?;
    let exe = super::this_binary()?;
    let entry = c.entry(&exe.display().to_string(), &args.forwarded);
    let change =
        clients::plan_install(&path, c.servers_key(), &args.name, &entry).map_err(usage)?;
    let shown = path.display();
    let snippet = serde_json::to_string_pretty(&serde_json::json!({ &args.name: entry }))?;
    match change.outcome {
        Outcome::Unchanged => {
            println!(
                "{} already has '{}' exactly like this in {shown}; nothing changed.",
                c.label(),
                args.name
            );
            return Ok(ExitCode::SUCCESS);
        }
        _ if args.dry_run => {
            let verb = if change.outcome == Outcome::Replaced {
                "replace"
            } else {
                "add"
            };
            println!(
                "Would {verb} '{}' under \"{}\" in {shown} (dry run: nothing written):",
                args.name,
                c.servers_key()
            );
            if let Some(old) = &change.old_entry {
                println!("- {}", serde_json::to_string(old)?);
                println!("+ {}", serde_json::to_string(&entry)?);
            } else {
                println!("{snippet}");
            }
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let backup = clients::apply(&change).map_err(usage)?;
    let verb = if change.outcome == Outcome::Replaced {
        "Replaced"
    } else {
        "Added"
    };
    println!("{verb} '{}' in {shown}:\n{snippet}", args.name);
    if let Some(b) = backup {
        println!("The previous file is kept as {}.", b.display());
    }
    println!(
        "Restart {} to pick it up.{}",
        c.label(),
        if s.conn.demo {
            ""
        } else {
            " If you have not logged in yet: bigin-mcp login (or install with --demo to try the sandbox organisation)."
        }
    );
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stdout)] // Not `serve`: stdout is this command's report.
pub fn uninstall(args: UninstallArgs) -> anyhow::Result<ExitCode> {
    let c = client(args.client);
    let path = c
        .config_path(scope(args.scope), &Dirs::from_env()?)
        .map_err(usage)?;
    let change = clients::plan_uninstall(&path, c.servers_key(), &args.name).map_err(usage)?;
    let shown = path.display();
    if change.outcome == Outcome::Absent {
        println!(
            "{} has no server named '{}' in {shown}; nothing changed.",
            c.label(),
            args.name
        );
        return Ok(ExitCode::SUCCESS);
    }
    if args.dry_run {
        println!(
            "Would remove '{}' from {shown} (dry run: nothing written):\n- {}",
            args.name,
            serde_json::to_string(&change.old_entry)?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let backup = clients::apply(&change).map_err(usage)?;
    println!("Removed '{}' from {shown}.", args.name);
    if let Some(b) = backup {
        println!("The previous file is kept as {}.", b.display());
    }
    Ok(ExitCode::SUCCESS)
}
