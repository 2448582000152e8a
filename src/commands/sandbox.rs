//! `bigin-mcp sandbox`: the sandbox server alone, for the MCP Inspector,
//! curl, or a second `serve` pointed at it.

use std::process::ExitCode;

use bigin_mcp::cli::SandboxArgs;
use bigin_mcp::sandbox::{self, Sandbox, SandboxOptions, ZohoVariant};

pub async fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    let opts = SandboxOptions {
        port: args.port,
        location: args.location,
        users: args.users,
        variant: args
            .variant
            .iter()
            .fold(ZohoVariant::default(), |v, name| name.apply(v)),
        ..Default::default()
    };
    let sb = Sandbox::start(opts).await?;
    let url = sb.base_url();
    for name in &args.variant {
        eprintln!("playing the Zoho variant '{name}'");
    }
    // The sandbox is not `serve`: stdout is free, but people read stderr logs
    // in the same terminal, so keep everything there.
    // These are the sandbox's public demo credentials, not secrets.
    eprintln!(
        "sandbox Bigin API and accounts server on {url}\n\
         \n\
         serve against it with env credentials:\n\
         \x20 BIGIN_CLIENT_ID={id} BIGIN_CLIENT_SECRET={secret} BIGIN_REFRESH_TOKEN={refresh} bigin-mcp serve --accounts-url {url}\n\
         \n\
         or log in to it as to Zoho (its consent page agrees at once), then serve that login:\n\
         \x20 printf %s {secret} | bigin-mcp login --account sandbox --accounts-url {url} --client-id {id} --client-secret-stdin\n\
         \x20 bigin-mcp serve --account sandbox\n\
         (add --insecure-storage to login on a machine without a keychain)\n\
         \n\
         stop with Ctrl-C",
        id = sandbox::DEMO_CLIENT_ID,
        secret = sandbox::DEMO_CLIENT_SECRET,
        refresh = sandbox::DEMO_REFRESH_TOKEN
    );
    sb.run_until_ctrl_c().await?;
    Ok(ExitCode::SUCCESS)
}
