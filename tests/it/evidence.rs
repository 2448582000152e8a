//! The evidence commands as an auditor runs them, on the built binary:
//! `audit verify` (the hash chain), `audit show` (the log as a table) and
//! `apply` (the review's decisions carried out through the write guard).

use std::path::Path;
use std::process::Output;

use bigin_mcp::admin::audit::{AuditEntry, AuditLog, Outcome};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_bigin-mcp");

fn command(home: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .current_dir(home)
        .stdin(std::process::Stdio::null())
        .args(args);
    c
}

async fn run(home: &Path, args: &[&str]) -> Output {
    command(home, args).output().await.expect("run bigin-mcp")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write_log(path: &Path) {
    let log = AuditLog::new(path.to_path_buf());
    for (id, email, when) in [
        ("11", "ann@x.test", "2026-01-01T10:00:00.000Z"),
        ("22", "bob@x.test", "2026-02-01T10:00:00.000Z"),
        ("11", "ann@x.test", "2026-03-01T10:00:00.000Z"),
    ] {
        log.append(AuditEntry {
            time: when.into(),
            tool: "bigin_set_user_status",
            user_id: id,
            email,
            given_email: email,
            action: "deactivate",
            outcome: Outcome::Success,
            detail: "done | =cmd",
        })
        .unwrap();
    }
}

#[tokio::test]
async fn audit_verify_passes_an_intact_log_and_names_the_first_bad_line() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("audit.log");
    write_log(&log);
    let o = run(
        home.path(),
        &["audit", "verify", "--audit-log", "audit.log"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(
        out(&o).contains("3 lines, hash chain intact"),
        "{}",
        out(&o)
    );

    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replacen("bob@x.test", "eve@x.test", 1)).unwrap();
    let o = run(
        home.path(),
        &["audit", "verify", "--audit-log", "audit.log"],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(out(&o).contains("line 3 does not verify"), "{}", out(&o));
}

#[tokio::test]
async fn audit_show_filters_by_time_and_user_in_each_format() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("audit.log");
    write_log(&log);
    let path = log.to_str().unwrap();
    let o = run(home.path(), &["audit", "show", "--audit-log", path]).await;
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let md = out(&o);
    assert!(md.starts_with("| time | tool | action |"), "{md}");
    assert_eq!(md.lines().count(), 2 + 3);
    assert!(md.contains("done \\| =cmd"), "cells escaped: {md}");

    let o = run(
        home.path(),
        &[
            "audit",
            "show",
            "--audit-log",
            path,
            "--user",
            "ANN@x.test",
            "--since",
            "2026-02-01",
            "--format",
            "csv",
        ],
    )
    .await;
    let csv = out(&o);
    let rows: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows[1].starts_with("2026-03-01T10:00:00.000Z,"), "{csv}");

    let o = run(
        home.path(),
        &[
            "audit",
            "show",
            "--audit-log",
            path,
            "--user",
            "22",
            "--format",
            "json",
        ],
    )
    .await;
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["email"], "bob@x.test");
    assert_eq!(list[0]["prev_sha256"].as_str().unwrap().len(), 64);

    let o = run(
        home.path(),
        &["audit", "show", "--audit-log", path, "--since", "soon"],
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
}
