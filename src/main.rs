//! The `bigin-mcp` binary: parses the command line, sets up logging on
//! stderr (stdout belongs to JSON-RPC in `serve`), runs a command, and maps
//! failures to exit codes: 0 ok, 1 failure, 2 bad usage, 3 not logged in,
//! and 4 for `review` with findings at or above `--fail-on` and for `doctor`
//! when a load-bearing assumption differed (the command returns it; it is
//! not an error).

mod commands;

use std::process::ExitCode;

use bigin_mcp::cli::{self, Command};

fn main() -> ExitCode {
    tune_malloc();
    // clap prints its own errors (to stderr) and help (to stdout) and exits.
    let mut cli =
        cli::parse_from(implied_args(std::env::args_os().collect())).unwrap_or_else(|e| e.exit());
    // `bigin-mcp` alone serves, so a host config can name just the binary.
    let command = match cli.command.take() {
        Some(c) => c,
        None => match cli::parse_from(["bigin-mcp", "serve"]) {
            Ok(cli::Cli {
                command: Some(c), ..
            }) => c,
            Ok(_) => unreachable!("serve parses to a command"),
            Err(e) => e.exit(),
        },
    };
    // Commands that only print need no runtime or logging.
    match command {
        Command::Completions(args) => return commands::docs::completions(args),
        Command::Man => return commands::docs::man(),
        Command::Tools(_) => return report(commands::docs::tools()),
        Command::Install(args) => return report(commands::install::install(args)),
        Command::Uninstall(args) => return report(commands::install::uninstall(args)),
        Command::Audit(args) => return report(commands::audit::run(args)),
        _ => {}
    }
    init_logging(matches!(command, Command::Sandbox(_)));
    // One thread: a stdio server answers one client, its work is waiting on
    // Zoho, and a single thread keeps memory (and malloc arenas) small.
    // Blocking keychain calls still run on tokio's blocking pool.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bigin-mcp: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match command {
            Command::Serve(args) => commands::serve::run(args).await,
            Command::Login(args) => commands::login::login(args).await,
            Command::Logout(args) => commands::login::logout(args).await,
            Command::Status(args) => commands::login::status(args).await,
            Command::Review(args) => commands::review::run(args).await,
            Command::Doctor(args) => commands::doctor::run(args).await,
            Command::Sandbox(args) => commands::sandbox::run(args).await,
            Command::Apply(args) => commands::apply::run(args).await,
            Command::Completions(_)
            | Command::Man
            | Command::Tools(_)
            | Command::Install(_)
            | Command::Uninstall(_)
            | Command::Audit(_) => unreachable!("handled before the runtime starts"),
        }
    });
    // stdin is read by a blocking thread that may sit in read(2) forever
    // (a signal ends `serve` with stdin still open); dropping the runtime
    // would wait for it. Everything owed to the client is already flushed.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    report(result)
}

/// The command line with what it implies spelled out: flags without a
/// command are `serve`'s (`bigin-mcp --demo`, as a host config may name
/// just the binary and its flags), and `help --help` (or `-h`) is `--help`.
fn implied_args(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let Some(first) = args.get(1).and_then(|a| a.to_str()) else {
        return args;
    };
    let is_help = |a: &std::ffi::OsString| a == "--help" || a == "-h";
    if first == "help" && args[2..].iter().any(is_help) {
        args.truncate(1);
        args.push("--help".into());
    } else if first.starts_with('-') && !matches!(first, "-h" | "--help" | "-V" | "--version") {
        args.insert(1, "serve".into());
    }
    args
}

/// Prints a command's failure and maps it to the exit code.
fn report(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            // The whole chain on one line, as `{:#}` gives it.
            eprintln!("bigin-mcp: {e:#}");
            if e.downcast_ref::<commands::UsageError>().is_some() {
                ExitCode::from(2)
            } else if e.downcast_ref::<commands::NotLoggedIn>().is_some() {
                ExitCode::from(3)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Logs go to stderr, without colour (hosts capture them to files).
/// `BIGIN_LOG` takes a level (`debug`) or targets (`bigin_mcp=trace,warn`).
fn init_logging(verbose_default: bool) {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    let default = if verbose_default { "info" } else { "warn" };
    let filter = std::env::var("BIGIN_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| default.parse().expect("a level parses"));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false),
        )
        .with(filter)
        .init();
}

/// Large buffers (Zoho's pages, full-record results, a review's JSON) go
/// straight to `mmap` and back to the system when freed. glibc otherwise
/// raises its mmap threshold at the first such free and keeps later ones in
/// a heap that does not shrink: about 0.9 MiB of a session's peak memory
/// (`cargo run --release --example bench`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    // SAFETY: `mallopt` only sets an allocator parameter, and runs before
    // any other thread exists; its result (0 when refused) changes nothing
    // we rely on.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}
