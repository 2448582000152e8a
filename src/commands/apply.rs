//! `bigin-mcp apply FILE.csv`: the review's decisions carried out. It reads
//! the `decision` column of a review CSV (`keep`, `deactivate`, `delete`,
//! `profile:<name>`), checks each row against the user as Zoho has them now,
//! prints the plan (each change from → to) and changes nothing unless
//! `--execute` is given (asking once for the whole plan on a terminal, or
//! not with `--yes`). Every change goes through the same [`WriteGuard`] as
//! the tools: the row's email is the `confirm_email`, the primary user is
//! refused, and each change gets an audit line naming the review snapshot
//! it came from. A row that no longer matches, or a refused change, is
//! reported by id and makes the exit code 1; the other rows still go ahead.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use bigin_mcp::admin::audit::{AuditEntry, AuditLog, Outcome};
use bigin_mcp::admin::guard::{Action, Answer, Confirm};
use bigin_mcp::admin::snapshots::sha256_hex;
use bigin_mcp::admin::{
    AdminError, ConfirmedBy, Session, Shutdown, Since, SnapshotStore, WriteGuard,
};
use bigin_mcp::cli::ApplyArgs;
use bigin_mcp::fsx;
use bigin_mcp::zoho::{Ref, User, UserType};

use super::serve::{WhenNotLoggedIn, connect, snapshot_account};

/// The largest CSV read (a 50,000-user review is ~7 MB).
const MAX_CSV_BYTES: u64 = 64 * 1024 * 1024;

/// One decision to carry out.
struct Planned {
    row: usize,
    id: String,
    email: String,
    name: String,
    action: Action,
    change: String,
}

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
    let (users, _) = session
        .users(UserType::AllUsers, true)
        .await
        .context("cannot read the users")?;
    let (profiles, _) = session
        .profiles(true)
        .await
        .context("cannot read the profiles")?;
    let (org, _) = session
        .org(true)
        .await
        .context("cannot read the organisation")?;

    // The snapshot the decisions came from, named in every audit line.
    let snapshot: Option<PathBuf> = match &args.snapshot {
        Some(p) => Some(p.clone()),
        None => SnapshotStore::default_for(&snapshot_account(&args.conn))
            .and_then(|s| s.find_with_path(&org.id, &Since::Last).ok().flatten())
            .map(|(p, _)| p),
    };
    let source = match &snapshot {
        Some(p) => {
            let sha = fsx::read_regular(p, 256 * 1024 * 1024)
                .ok()
                .flatten()
                .map(|b| sha256_hex(&b))
                .unwrap_or_else(|| "unreadable".into());
            format!("review snapshot {} (sha256 {sha})", p.display())
        }
        None => "no stored review snapshot".to_string(),
    };

    let mut problems: Vec<String> = Vec::new();
    let mut plan: Vec<Planned> = Vec::new();
    for (i, r) in body.iter().enumerate() {
        let row = i + 2; // 1-based, after the header
        let get = |c: usize| unguard(r.get(c).map(String::as_str).unwrap_or(""));
        let decision = get(c_decision).trim().to_string();
        if decision.is_empty() || decision.eq_ignore_ascii_case("keep") {
            continue;
        }
        let id = get(c_id).to_string();
        let email = get(c_email).to_string();
        let Some(user) = users.iter().find(|u| u.id == id) else {
            problems.push(format!(
                "row {row}, user {id}: no such user in Zoho now; skipped"
            ));
            continue;
        };
        if let Some(why) = mismatch(user, &email, get(c_status), get(c_profile_id)) {
            problems.push(format!(
                "row {row}, user {id}: no longer matches the review ({why}); skipped, review it again"
            ));
            continue;
        }
        let action = match decision.to_ascii_lowercase().as_str() {
            "deactivate" => Action::Deactivate,
            "delete" => Action::Delete,
            d if d.starts_with("profile:") => {
                let want = decision["profile:".len()..].trim();
                let found: Vec<_> = profiles
                    .iter()
                    .filter(|p| p.name.eq_ignore_ascii_case(want))
                    .collect();
                match found.as_slice() {
                    [p] => Action::Update {
                        role: None,
                        profile: Some(Ref {
                            id: p.id.clone(),
                            name: p.name.clone(),
                        }),
                    },
                    [] => {
                        problems.push(format!(
                            "row {row}, user {id}: no profile is named '{want}'; skipped"
                        ));
                        continue;
                    }
                    _ => {
                        problems.push(format!(
                            "row {row}, user {id}: several profiles are named '{want}'; skipped"
                        ));
                        continue;
                    }
                }
            }
            _ => {
                problems.push(format!(
                    "row {row}, user {id}: decision '{decision}' is not keep, deactivate, delete or profile:<name>; skipped"
                ));
                continue;
            }
        };
        if let Some(why) = action.noop(user) {
            problems.push(format!(
                "row {row}, user {id}: {} {why}; skipped",
                user.full_name
            ));
            continue;
        }
        plan.push(Planned {
            row,
            change: action.change(user),
            id,
            email,
            name: get(c_name).to_string(),
            action,
        });
    }

    let mut out = std::io::stdout().lock();
    writeln!(out, "Plan from {} ({source}):", args.file.display())?;
    if plan.is_empty() {
        writeln!(out, "  nothing to change")?;
    }
    for p in &plan {
        writeln!(
            out,
            "  row {}: {} <{}> ({}): {}",
            p.row, p.name, p.email, p.id, p.change
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
    let confirmed = PlanConfirmed(!plan.is_empty() && !args.yes);
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
    let mut failed = Vec::new();
    for p in &plan {
        let result = guard
            .write(&confirmed, p.action.clone(), &p.id, &p.email, false)
            .await;
        let (outcome, detail) = match &result {
            Ok(r) => (Outcome::Success, r.message.clone()),
            // Refused before sending, or sent and not accepted.
            Err(e @ (AdminError::Refused(_) | AdminError::Id(_))) => {
                (Outcome::Refused, e.to_string())
            }
            Err(e) => (Outcome::Error, e.to_string()),
        };
        let line = format!("decision in CSV row {} from {source}: {detail}", p.row);
        guard
            .audit_log()
            .append(AuditEntry {
                time: String::new(),
                tool: "bigin-mcp apply",
                user_id: &p.id,
                email: &p.email,
                given_email: &p.email,
                action: bigin_mcp::admin::guard::Audited::verb(&p.action),
                outcome,
                confirmed_by: if confirmed.0 {
                    ConfirmedBy::Person
                } else {
                    ConfirmedBy::ConfirmEmail
                },
                detail: &line,
            })
            .context("cannot write the audit log")?;
        match result {
            Ok(r) => say(&format!("row {}: {}", p.row, r.message)),
            Err(e) => {
                let m = format!("row {}, user {}: not changed: {e}", p.row, p.id);
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

/// Why `user` no longer matches the row the reviewer decided on.
fn mismatch(user: &User, email: &str, status: &str, profile_id: &str) -> Option<String> {
    if !user.email.eq_ignore_ascii_case(email.trim()) {
        return Some(format!("email is {} now", user.email));
    }
    let now = user.status.to_string();
    if !status.is_empty() && now != status {
        return Some(format!("status was {status}, is {now} now"));
    }
    let profile_now = user.profile.as_ref().map(|p| p.id.as_str()).unwrap_or("");
    if profile_now != profile_id {
        return Some(format!(
            "profile was {}, is {} now",
            if profile_id.is_empty() {
                "none"
            } else {
                profile_id
            },
            user.profile
                .as_ref()
                .map(|p| p.name.as_str())
                .unwrap_or("none")
        ));
    }
    None
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

/// How the plan was confirmed, told to the write guard for each change:
/// `true` when the person said yes to the whole plan at the terminal.
struct PlanConfirmed(bool);

impl Confirm for PlanConfirmed {
    async fn ask(&self, _summary: &str, _timeout: std::time::Duration) -> Answer {
        if self.0 {
            Answer::Yes
        } else {
            Answer::NotAsked
        }
    }
}
