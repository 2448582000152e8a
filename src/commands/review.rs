//! `bigin-mcp review`: the access review once, without an LLM, for cron and
//! CI. It reaches Zoho as `serve` does (same credentials, same snapshot
//! directory, so the CLI and the MCP tool share one history), writes
//! Markdown, CSV or JSON, and exits with [`EXIT_FINDINGS`] when the review
//! has findings at or above `--fail-on`.
//!
//! stdout (or `--output`) carries only the review; what a person needs to
//! know (where the snapshot and the file went, why the exit code) goes to
//! stderr, so `review > file` stays clean.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use bigin_mcp::admin::review::{AccessReview, FindingKind, Severity};
use bigin_mcp::admin::{Reviewer, Session, SnapshotStore, report};
use bigin_mcp::cli::{FailOn, ReviewArgs, ReviewFormat};
use bigin_mcp::fsx;
use bigin_mcp::zoho::ZohoError;

use super::NotLoggedIn;
use super::serve::{Connection, WhenNotLoggedIn, connect, snapshot_account};

/// The exit code when the review has findings at or above `--fail-on`;
/// distinct from 1 (failure), 2 (usage) and 3 (not logged in), so a CI gate
/// can tell "the review ran and found something" from "it did not run".
pub const EXIT_FINDINGS: u8 = 4;

pub async fn run(args: ReviewArgs) -> anyhow::Result<ExitCode> {
    let format = args.format();
    let Connection {
        client,
        tokens,
        sandbox: _sandbox,
    } = connect(&args.conn, None, WhenNotLoggedIn::Say("review")).await?;
    // A token first, so a missing login is exit code 3 (not a generic
    // failure) for cron; the token is cached and the review reuses it.
    if let Err(e) = tokens.token().await {
        return Err(match e {
            ZohoError::NotLoggedIn(why) => NotLoggedIn(why).into(),
            e => anyhow::Error::new(e).context("cannot get a Zoho access token"),
        });
    }
    let store = SnapshotStore::default_for(&snapshot_account(&args.conn));
    if store.is_none() && args.since.is_some() {
        anyhow::bail!(
            "--since compares with earlier reviews, but there is no home directory to keep them in"
        );
    }
    let session = Session::new(client);
    // A new process has an empty cache, so this reads Zoho either way;
    // `fresh` says so rather than rely on it.
    let run = Reviewer::new(&session, store.as_ref())
        .prune_later()
        .run(args.since.clone(), true)
        .await
        .map_err(|e| anyhow::anyhow!("the access review failed: {e}"))?;
    let review = &run.review;

    say(&summary(review));
    if let Some(f) = review
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::NoBaseline)
    {
        say(&format!("no changes to show: {}", f.message));
    }

    let body = match format {
        ReviewFormat::Md => report::markdown(review),
        ReviewFormat::Json => {
            let mut s = serde_json::to_string_pretty(review).context("cannot encode the review")?;
            s.push('\n');
            s
        }
        // The rows the snapshot holds, straight from the review.
        ReviewFormat::Csv => report::csv(&run.rows(), &review.profiles),
    };
    // `-o -` is stdout, as for most tools, not a file named "-".
    let to_file = args.output.as_deref().filter(|p| *p != Path::new("-"));
    let delivered = match to_file {
        Some(path) => fsx::write_output(path, body.as_bytes())
            .map(|how| match how {
                fsx::Delivered::Replaced => say(&format!("review written to {}", path.display())),
                fsx::Delivered::Into => say(&format!("review written into {}", path.display())),
            })
            .with_context(|| format!("cannot write the review to {}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(body.as_bytes())
                .and_then(|()| out.flush())
                .context("cannot write the review to stdout")
        }
    };
    if let Err(e) = delivered {
        // A review nobody received must not become the next `--since last`.
        let fate = match (&review.snapshot, store.as_ref()) {
            (Some(p), Some(store)) => match store.discard(Path::new(p)) {
                Ok(()) => format!(
                    "its snapshot {p} was removed, so the next --since last compares with the review before it"
                ),
                Err(re) => format!(
                    "its snapshot {p} could NOT be removed ({re}); delete it, or the next --since last compares with a review nobody received"
                ),
            },
            _ => "no snapshot was stored".to_string(),
        };
        return Err(e.context(format!("the review was not delivered; {fate}")));
    }
    if let Some(store) = &store {
        store.prune(&review.evidence.organization_id);
    }
    // Said once the review is delivered: an undelivered one's is removed.
    match (&review.snapshot, not_saved(review)) {
        (Some(p), _) => say(&format!("snapshot stored in {p}")),
        (None, Some(why)) => say(&format!("snapshot NOT stored: {why}")),
        (None, None) => say("snapshot NOT stored: no data directory (no home directory)"),
    }
    Ok(exit_code(review, args.fail_on))
}

/// A line for the person running the command (stderr).
fn say(msg: &str) {
    eprintln!("bigin-mcp: {msg}");
}

fn summary(r: &AccessReview) -> String {
    let e = &r.evidence;
    let mut by: Vec<(Severity, usize)> = Vec::new();
    for f in &r.findings {
        match by.iter_mut().find(|(s, _)| *s == f.severity) {
            Some((_, n)) => *n += 1,
            None => by.push((f.severity, 1)),
        }
    }
    let findings = if by.is_empty() {
        "no findings".to_string()
    } else {
        let parts: Vec<String> = by.iter().map(|(s, n)| format!("{n} {s}")).collect();
        format!("findings: {}", parts.join(", "))
    };
    format!(
        "access review of {} ({}, data centre {}): {} users, {} active admins, {findings}; {} Zoho API credits",
        e.organization_name,
        e.organization_id,
        e.data_centre,
        r.users.total,
        r.admins.rows.len(),
        e.credits_used,
    )
}

/// Why the server could not store the snapshot, from its finding.
fn not_saved(r: &AccessReview) -> Option<&str> {
    r.findings
        .iter()
        .find(|f| f.kind == FindingKind::SnapshotNotSaved)
        .map(|f| f.message.as_str())
}

fn exit_code(r: &AccessReview, fail_on: FailOn) -> ExitCode {
    let floor = match fail_on {
        FailOn::Never => None,
        FailOn::High => Some(Severity::High),
        FailOn::Medium => Some(Severity::Medium),
    };
    let n = r
        .findings
        .iter()
        .filter(|f| floor.is_some_and(|at| f.severity >= at))
        .count();
    if n == 0 {
        return ExitCode::SUCCESS;
    }
    let flag = match fail_on {
        FailOn::Medium => "medium",
        _ => "high",
    };
    say(&format!(
        "exit code {EXIT_FINDINGS}: {n} finding(s) at or above --fail-on {flag}"
    ));
    ExitCode::from(EXIT_FINDINGS)
}
