//! `bigin-mcp apply FILE.csv`: the review's decisions carried out. It reads
//! the `decision` column of a review CSV (`keep`, `deactivate`, `delete`,
//! `profile:<name>`), checks each row against the user as Zoho has them now,
//! prints the plan (each change from → to) and changes nothing unless
//! `--execute` is given (asking once for the whole plan on a terminal, or
//! not with `--yes`). Every change goes through the same [`WriteGuard`] as
//! the tools: the row's email is the `confirm_email`, the primary user is
//! refused, and each change gets an audit line naming the review snapshot
//! it came from (the planning is `admin::decisions`, shared with the
//! `bigin_apply_review_decisions` tool). A row that no longer matches, or a refused change, is
//! reported by id and makes the exit code 1; the other rows still go ahead.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use bigin_mcp::admin::audit::AuditLog;
use bigin_mcp::admin::decisions::{self, Decision, PlanAnswer};
use bigin_mcp::admin::guard::{Answer, NoConfirm};
use bigin_mcp::admin::{ConfirmedBy, Session, Shutdown, SnapshotStore, WriteGuard};
use bigin_mcp::cli::ApplyArgs;
use bigin_mcp::fsx;

use super::serve::{WhenNotLoggedIn, connect, snapshot_account};

/// The largest CSV read (a 50,000-user review is ~7 MB).
const MAX_CSV_BYTES: u64 = 64 * 1024 * 1024;

pub async fn run(args: ApplyArgs) -> anyhow::Result<ExitCode> {
    let bytes = fsx::read_regular(&args.file, MAX_CSV_BYTES)
        .with_context(|| format!("cannot read {}", args.file.display()))?
        .with_context(|| format!("{} does not exist", args.file.display()))?;
    let text = String::from_utf8(bytes).context("the CSV is not UTF-8")?;
    let rows = parse_csv(&text)?;
    let Some((header, body)) = rows.split_first() else {
        bail!("{} is empty", args.file.display());
    };
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("the CSV has no '{name}' column; use the file `bigin-mcp review --format csv` writes"))
    };
    let (c_id, c_email, c_name, c_status, c_profile_id, c_decision) = (
        col("id")?,
        col("email")?,
        col("name")?,
        col("status")?,
        col("profile_id")?,
        col("decision")?,
    );

    let conn = connect(&args.conn, None, WhenNotLoggedIn::Say("apply")).await?;
    let session = Arc::new(Session::new(conn.client));
    // The snapshot the decisions came from, named in every audit line.
    let store = SnapshotStore::default_for(&snapshot_account(&args.conn));
    let rows: Vec<Decision> = body
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let get = |c: usize| unguard(r.get(c).map(String::as_str).unwrap_or("")).to_string();
            Decision {
                // 1-based, after the header.
                label: format!("row {}", i + 2),
                id: get(c_id),
                email: get(c_email),
                name: get(c_name),
                status: Some(get(c_status)),
                profile_id: Some(get(c_profile_id)),
                decision: get(c_decision),
            }
        })
        .collect();
    let decisions::Current {
        plan: decisions::Plan {
            changes: plan,
            skipped,
        },
        source,
    } = session
        .plan_now(&rows, args.snapshot.as_deref(), store.as_ref())
        .await
        .context("cannot read the users, profiles and organisation to plan against")?;
    let problems: Vec<String> = skipped.iter().map(ToString::to_string).collect();

    let mut out = std::io::stdout().lock();
    writeln!(out, "Plan from {} ({source}):", args.file.display())?;
    if plan.is_empty() {
        writeln!(out, "  nothing to change")?;
    }
    for p in &plan {
        writeln!(
            out,
            "  {}: {} <{}> ({}): {}",
            p.label, p.name, p.email, p.id, p.change
        )?;
    }
    out.flush()?;
    drop(out);
    for p in &problems {
        say(p);
    }

    if !args.execute {
        say(&format!(
            "nothing was changed; run again with --execute to make these {} change(s)",
            plan.len()
        ));
        return Ok(exit(&problems, &[]));
    }
    if !plan.is_empty() && !args.yes {
        if !std::io::stdin().is_terminal() {
            bail!(
                "--execute asks for confirmation on a terminal; stdin is not one, so pass --yes to make the changes"
            );
        }
        eprint!("bigin-mcp: make these {} change(s)? [y/N] ", plan.len());
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            say("nothing was changed");
            return Ok(ExitCode::FAILURE);
        }
    }

    // The person answered yes to the whole plan at the terminal, or --yes
    // said it for them (then the CSV's email is the only confirmation).
    let person = !plan.is_empty() && !args.yes;
    let confirmed = PlanAnswer::new(
        &NoConfirm,
        if person {
            Answer::Yes
        } else {
            Answer::NotAsked
        },
    );
    let audit_path = match &args.audit_log {
        Some(p) => p.clone(),
        None => {
            let p = AuditLog::default_path()
                .context("no home directory for the default audit log; pass --audit-log PATH")?;
            if args.conn.demo {
                p.with_file_name("audit-demo.log")
            } else {
                p
            }
        }
    };
    let guard = WriteGuard::new(
        session.clone(),
        AuditLog::new(audit_path),
        Shutdown::default(),
    );
    let run = bigin_mcp::admin::decisions::Executor {
        guard: &guard,
        tool: "bigin-mcp apply",
        label_prefix: "decision in CSV ",
        source: &source,
        // The plan-wide answer stands for every line, failed or not.
        plan_confirmed_by: Some(if person {
            ConfirmedBy::Person
        } else {
            ConfirmedBy::ConfirmEmail
        }),
    };
    let mut failed = Vec::new();
    for p in &plan {
        let done = run
            .run(&confirmed, p)
            .await
            .context("cannot write the audit log")?;
        match done.result {
            Ok(r) => say(&format!("{}: {}", p.label, r.message)),
            Err(e) => {
                let m = format!("{}, user {}: not changed: {e}", p.label, p.id);
                say(&m);
                failed.push(m);
            }
        }
    }
    Ok(exit(&problems, &failed))
}

fn exit(problems: &[String], failed: &[String]) -> ExitCode {
    if problems.is_empty() && failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        say(&format!(
            "exit code 1: {} row(s) skipped, {} change(s) refused or failed",
            problems.len(),
            failed.len()
        ));
        ExitCode::FAILURE
    }
}

/// Undoes the CSV writer's formula guard (a leading `'` before `=+-@`).
fn unguard(v: &str) -> &str {
    match v.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => v,
    }
}

/// RFC 4180 (CRLF or LF line ends; quoted fields with doubled quotes).
fn parse_csv(s: &str) -> anyhow::Result<Vec<Vec<String>>> {
    let s = s.strip_prefix('\u{feff}').unwrap_or(s);
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = s.chars().peekable();
    let mut quoted = false;
    let mut line = 1;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                line += 1;
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            _ => field.push(c),
        }
    }
    if quoted {
        bail!("the CSV has an unclosed quote (line {line})");
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

fn say(msg: &str) {
    eprintln!("bigin-mcp: {msg}");
}
