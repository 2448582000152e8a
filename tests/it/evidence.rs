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
            confirmed_by: bigin_mcp::admin::ConfirmedBy::Person,
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

/// The binary with env credentials for `sb` (state persists between runs).
async fn run_on(home: &Path, sb: &bigin_mcp::sandbox::Sandbox, args: &[&str]) -> Output {
    command(home, args)
        .env("BIGIN_CLIENT_ID", bigin_mcp::sandbox::DEMO_CLIENT_ID)
        .env(
            "BIGIN_CLIENT_SECRET",
            bigin_mcp::sandbox::DEMO_CLIENT_SECRET,
        )
        .env(
            "BIGIN_REFRESH_TOKEN",
            bigin_mcp::sandbox::DEMO_REFRESH_TOKEN,
        )
        .env("BIGIN_ACCOUNTS_URL", sb.base_url())
        .output()
        .await
        .expect("run bigin-mcp")
}

/// Sets the decision of the row whose `name` column is `name`.
fn decide(csv: &str, name: &str, decision: &str) -> String {
    let mut found = false;
    let out: Vec<String> = csv
        .split("\r\n")
        .map(|l| {
            if l.split(',').nth(1) == Some(name) {
                found = true;
                assert!(l.ends_with(','), "decision is the last, empty column: {l}");
                format!("{l}{decision}")
            } else {
                l.to_string()
            }
        })
        .collect();
    assert!(found, "a row named {name}");
    out.join("\r\n")
}

fn user_named<'a>(users: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    users
        .iter()
        .find(|u| u["full_name"] == name)
        .unwrap_or_else(|| panic!("user {name}"))
}

#[tokio::test]
async fn apply_plans_then_executes_each_decision_through_the_guard() {
    use crate::common::*;
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    let o = run_on(
        home.path(),
        &sb,
        &["review", "--format", "csv", "-o", "q.csv"],
    )
    .await;
    assert_eq!(o.status.code(), Some(4), "{}", err(&o));
    let users = all_users(&sb).await;
    // Three ordinary active users, by name, and the primary user.
    let plain: Vec<String> = users
        .iter()
        .filter(|u| u["status"] == "active" && u["profile"]["name"] == "Standard")
        .map(|u| u["full_name"].as_str().unwrap().to_string())
        .filter(|n| !n.contains([',', '"']))
        .take(3)
        .collect();
    let (a, b, c) = (&plain[0], &plain[1], &plain[2]);
    let mut csv = std::fs::read_to_string(home.path().join("q.csv")).unwrap();
    csv = decide(&csv, a, "deactivate");
    csv = decide(&csv, b, "profile:Read Only");
    csv = decide(&csv, c, "deactivate");
    csv = decide(&csv, "Zoë Ångström", "deactivate");
    std::fs::write(home.path().join("q.csv"), &csv).unwrap();
    // c changes after the review: the row no longer matches.
    let (cl, _) = client(&sb);
    let c_id = user_named(&users, c)["id"].as_str().unwrap().to_string();
    cl.set_user_status(
        &bigin_mcp::zoho::ZohoId::parse(&c_id, "id").unwrap(),
        bigin_mcp::zoho::UserStatus::Inactive,
    )
    .await
    .unwrap();

    sb.clear_requests();
    let o = run_on(home.path(), &sb, &["apply", "q.csv"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let plan = out(&o);
    assert!(
        plan.contains(&format!("{a} <")) && plan.contains("status active → inactive"),
        "{plan}"
    );
    assert!(plan.contains("profile Standard → Read Only"), "{plan}");
    assert!(
        plan.contains("review snapshot "),
        "names its snapshot: {plan}"
    );
    assert!(
        err(&o).contains(&format!("user {c_id}: no longer matches")),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("nothing was changed"), "{}", err(&o));
    assert!(writes(&sb.requests()).is_empty(), "a plan sends nothing");

    // --execute off a terminal wants --yes.
    let o = run_on(home.path(), &sb, &["apply", "q.csv", "--execute"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("--yes"), "{}", err(&o));
    assert!(writes(&sb.requests()).is_empty());

    let o = run_on(
        home.path(),
        &sb,
        &[
            "apply",
            "q.csv",
            "--execute",
            "--yes",
            "--audit-log",
            "audit.log",
        ],
    )
    .await;
    assert_eq!(
        o.status.code(),
        Some(1),
        "the primary user is refused: {}",
        err(&o)
    );
    let now = all_users(&sb).await;
    assert_eq!(user_named(&now, a)["status"], "inactive");
    assert_eq!(user_named(&now, b)["profile"]["name"], "Read Only");
    assert_eq!(user_named(&now, "Zoë Ångström")["status"], "active");
    let primary = user_named(&now, "Zoë Ångström")["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        err(&o).contains(&format!("user {primary}: not changed")),
        "{}",
        err(&o)
    );
    let log = std::fs::read_to_string(home.path().join("audit.log")).unwrap();
    let apply_lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["tool"] == "bigin-mcp apply")
        .collect();
    assert_eq!(apply_lines.len(), 3, "{log}");
    assert!(
        apply_lines
            .iter()
            .all(|v| v["detail"].as_str().unwrap().contains("review snapshot "))
    );
    let o = run(
        home.path(),
        &["audit", "verify", "--audit-log", "audit.log"],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
}
