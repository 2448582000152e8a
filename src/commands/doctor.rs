//! `bigin-mcp doctor`: the read-only probes of [`bigin_mcp::doctor`] against
//! the organisation `serve` would reach (a login, env credentials, or
//! `--demo`), printed on stdout as a Markdown table or JSON, so a first user
//! can paste it into a bug report. Exit code [`EXIT_DIFFERED`] when a
//! load-bearing assumption differed.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use bigin_mcp::cli::{DoctorArgs, DoctorFormat};
use bigin_mcp::zoho::ZohoError;

use super::NotLoggedIn;
use super::serve::{Connection, WhenNotLoggedIn, connect};

/// A load-bearing assumption differed (as `review`'s 4: "it ran and found
/// something", distinct from 1, 2 and 3).
pub const EXIT_DIFFERED: u8 = 4;

pub async fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let Connection {
        client,
        tokens,
        sandbox: _sandbox,
    } = connect(&args.conn, None, WhenNotLoggedIn::Say("doctor")).await?;
    // No login at all is exit code 3 with the way to log in; a refresh
    // that Zoho refuses is a check that differed, reported below.
    if let Err(ZohoError::NotLoggedIn(why)) = tokens.token().await {
        return Err(NotLoggedIn(why).into());
    }
    let report = bigin_mcp::doctor::run(&client).await;
    let text = match args.format {
        DoctorFormat::Md => report.to_markdown(),
        DoctorFormat::Json => {
            serde_json::to_string_pretty(&report).context("cannot write the report")? + "\n"
        }
    };
    // A closed pipe (`doctor | head`) is the reader's choice, not a failure.
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(anyhow::Error::new(e).context("cannot write the report to stdout"));
        }
        _ => {}
    }
    if report.failed() {
        eprintln!(
            "bigin-mcp doctor: a load-bearing assumption differed (see `differed` above); bigin-mcp copes where it can. Please paste this report into an issue."
        );
        return Ok(ExitCode::from(EXIT_DIFFERED));
    }
    Ok(ExitCode::SUCCESS)
}
