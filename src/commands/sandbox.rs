//! `bigin-mcp sandbox`: the sandbox server alone, for the MCP Inspector,
//! curl, or a second `serve` pointed at it.

use std::process::ExitCode;

use bigin_mcp::cli::SandboxArgs;
use bigin_mcp::sandbox::{self, Sandbox, SandboxOptions};

pub async fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    let opts = SandboxOptions {
        port: args.port,
        location: args.location,
        ..Default::default()
    };
    let sb = Sandbox::start(opts).await?;
    let url = sb.base_url();
    // The sandbox is not `serve`: stdout is free, but people read stderr logs
    // in the same terminal, so keep everything there.
    eprintln!(
        "sandbox Bigin API and accounts server on {url}\n\
         try: BIGIN_CLIENT_ID={} BIGIN_CLIENT_SECRET={} BIGIN_REFRESH_TOKEN={} bigin-mcp serve --accounts-url {url}\n\
         stop with Ctrl-C",
        sandbox::DEMO_CLIENT_ID,
        sandbox::DEMO_CLIENT_SECRET,
        sandbox::DEMO_REFRESH_TOKEN
    );
    sb.run_until_ctrl_c().await?;
    Ok(ExitCode::SUCCESS)
}
