//! Commands that only print: shell completions, the man page, and the tool
//! catalogue the MCPB bundle's manifest is generated from.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use bigin_mcp::cli::CompletionsArgs;
use bigin_mcp::mcp::{AuditLog, BiginServer, ServerOptions, ToolFilter};
use bigin_mcp::zoho::{BiginClient, ClientOptions, Http, MissingCredentials};

/// `bigin-mcp completions SHELL`: the script on stdout.
pub fn completions(args: CompletionsArgs) -> ExitCode {
    let mut cmd = bigin_mcp::cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, "bigin-mcp", &mut out);
    finish(out.flush())
}

/// `bigin-mcp man`: roff on stdout.
pub fn man() -> ExitCode {
    let mut out = std::io::stdout().lock();
    let written = clap_mangen::Man::new(bigin_mcp::cli::command()).render(&mut out);
    finish(written.and_then(|()| out.flush()))
}

/// A closed pipe (`| head`) is not worth an error message; anything else is.
fn finish(r: std::io::Result<()>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bigin-mcp: cannot write to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `bigin-mcp tools --json`: every tool the server can expose (delete
/// included), as `[{"name", "description"}]`, read from the server's own
/// `tools/list` so the bundle's manifest cannot drift from the binary.
#[allow(clippy::print_stdout)] // This command's output is the JSON.
pub fn tools() -> anyhow::Result<ExitCode> {
    // Never called: listing tools needs no credentials and no network.
    let client = BiginClient::new(
        Http::lazy(Duration::from_secs(30)),
        Arc::new(MissingCredentials("listing tools only".into())),
        ClientOptions::default(),
    );
    let server = BiginServer::new(
        client,
        ServerOptions {
            filter: ToolFilter {
                allow_delete: true,
                ..Default::default()
            },
            expires_at: None,
            // Not written: nothing is called.
            audit: AuditLog::new(std::env::temp_dir().join("bigin-mcp-unused-audit.log")),
            shutdown: Default::default(),
            snapshots: None,
            elicitation: false,
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let tools: Vec<serde_json::Value> = server
        .tools()
        .into_iter()
        .map(|t| {
            serde_json::json!({
                "name": t.name,
                "description": t.description.as_deref().unwrap_or_default(),
            })
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&tools)?);
    Ok(ExitCode::SUCCESS)
}
