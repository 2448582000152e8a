//! `bigin-mcp audit verify` and `audit show`: the audit log as evidence.
//! `verify` checks the hash chain every line carries (see
//! `bigin_mcp::admin::audit`); `show` prints the lines as a Markdown table,
//! CSV or JSON, filtered by time and user. Both only read the log.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bigin_mcp::admin::audit::{self, AuditLog};
use bigin_mcp::admin::report::{cell, csv_field};
use bigin_mcp::cli::{AuditArgs, AuditCommand, AuditFileArgs, AuditFormat, AuditShowArgs};
use serde_json::Value;

pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        AuditCommand::Verify(a) => verify(a),
        AuditCommand::Show(a) => show(a),
    }
}

fn path_of(a: &AuditFileArgs) -> anyhow::Result<PathBuf> {
    match &a.audit_log {
        Some(p) => Ok(p.clone()),
        None => AuditLog::default_path()
            .context("no home directory for the default audit log; pass --audit-log PATH"),
    }
}

fn verify(a: AuditFileArgs) -> anyhow::Result<ExitCode> {
    let path = path_of(&a)?;
    let v = audit::verify(&path)
        .with_context(|| format!("cannot read the audit log {}", path.display()))?;
    if v.unchained_prefix > 0 {
        eprintln!(
            "bigin-mcp: lines 1-{} of {} predate the hash chain (an older bigin-mcp wrote them); they are pinned by the line after them but carry no hash themselves",
            v.unchained_prefix,
            path.display()
        );
    }
    match v.broken {
        None => {
            println!(
                "{}: {} lines, hash chain intact; last line's SHA-256 {}",
                path.display(),
                v.lines,
                v.head
            );
            Ok(ExitCode::SUCCESS)
        }
        Some((n, why)) => {
            println!("{}: line {n} does not verify: {why}", path.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The columns `show` prints, in order.
const COLUMNS: [&str; 8] = [
    "time",
    "tool",
    "action",
    "user_id",
    "email",
    "outcome",
    "detail",
    "given_email",
];

fn show(a: AuditShowArgs) -> anyhow::Result<ExitCode> {
    let path = path_of(&a.file)?;
    let lines = audit::read(&path)
        .with_context(|| format!("cannot read the audit log {}", path.display()))?;
    let text = |v: &Value, k: &str| match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let user = a.user.as_deref().map(str::to_lowercase);
    let kept: Vec<&Value> = lines
        .iter()
        .filter(|v| {
            a.since.is_none_or(|from| {
                chrono::DateTime::parse_from_rfc3339(&text(v, "time"))
                    .is_ok_and(|t| t.with_timezone(&chrono::Utc) >= from)
            })
        })
        .filter(|v| {
            user.as_deref().is_none_or(|u| {
                text(v, "user_id").to_lowercase() == u
                    || text(v, "email").to_lowercase() == u
                    || text(v, "given_email").to_lowercase() == u
            })
        })
        .collect();
    let mut out = String::new();
    match a.format {
        AuditFormat::Json => {
            out = serde_json::to_string_pretty(&kept).context("cannot encode the lines")?;
            out.push('\n');
        }
        AuditFormat::Csv => {
            out.push_str(&COLUMNS.join(","));
            out.push_str("\r\n");
            for v in &kept {
                let row: Vec<String> = COLUMNS.iter().map(|k| csv_field(&text(v, k))).collect();
                out.push_str(&row.join(","));
                out.push_str("\r\n");
            }
        }
        AuditFormat::Md => {
            out.push_str(&format!("| {} |\n", COLUMNS.join(" | ")));
            out.push_str(&format!("|{}\n", "---|".repeat(COLUMNS.len())));
            for v in &kept {
                let row: Vec<String> = COLUMNS.iter().map(|k| cell(&text(v, k))).collect();
                out.push_str(&format!("| {} |\n", row.join(" | ")));
            }
        }
    }
    print!("{out}");
    eprintln!(
        "bigin-mcp: {} of {} lines of {}",
        kept.len(),
        lines.len(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
