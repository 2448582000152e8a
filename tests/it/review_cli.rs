//! `bigin-mcp review`, the built binary with a temp HOME: against `--demo`
//! and against env credentials pointing at a sandbox started here. Each
//! format, the exit codes CI gates on, `--since last`, the private output
//! file, the stderr messages, and usage errors.

use std::path::{Path, PathBuf};
use std::process::Output;

use bigin_mcp::sandbox::{self, Sandbox};
use bigin_mcp::zoho::{UserStatus, ZohoId};
use serde_json::{Value, json};
use tokio::process::Command;

use crate::common::*;

const BIN: &str = env!("CARGO_BIN_EXE_bigin-mcp");

/// The binary with a scrubbed environment: a temp HOME and data directory
/// and, optionally, env credentials for `sb`.
fn command(home: &Path, sb: Option<&Sandbox>, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .current_dir(home)
        .stdin(std::process::Stdio::null())
        .args(args);
    if let Some(sb) = sb {
        c.env("BIGIN_CLIENT_ID", sandbox::DEMO_CLIENT_ID)
            .env("BIGIN_CLIENT_SECRET", sandbox::DEMO_CLIENT_SECRET)
            .env("BIGIN_REFRESH_TOKEN", sandbox::DEMO_REFRESH_TOKEN)
            .env("BIGIN_ACCOUNTS_URL", sb.base_url());
    }
    c
}

/// Runs to the end without blocking the runtime (the sandbox shares it).
async fn run(home: &Path, sb: Option<&Sandbox>, args: &[&str]) -> Output {
    command(home, sb, args)
        .output()
        .await
        .expect("run bigin-mcp")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed")
}

/// The snapshot path the message on stderr names.
fn snapshot_path(o: &Output) -> PathBuf {
    let err = stderr(o);
    let line = err
        .lines()
        .find_map(|l| l.strip_prefix("bigin-mcp: snapshot stored in "))
        .unwrap_or_else(|| panic!("stderr names the snapshot: {err}"));
    PathBuf::from(line.trim())
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}", stdout(o)))
}

/// RFC 4180, strictly: CRLF after every record, quoted fields may hold
/// commas, quotes (doubled) and line breaks; a bare LF outside quotes or a
/// quote inside an unquoted field is an error.
fn parse_csv(s: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = s.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            '"' => panic!("a quote inside an unquoted field: {field}"),
            ',' => {
                row.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                was_quoted = false;
            }
            '\r' | '\n' => panic!("a bare line break outside quotes"),
            _ if was_quoted => panic!("text after a closing quote"),
            _ => field.push(c),
        }
    }
    assert!(!quoted, "an unclosed quote");
    assert!(
        field.is_empty() && row.is_empty(),
        "the last record ends with CRLF"
    );
    rows
}

/// Deactivates every active admin who never accepted the invitation (the
/// demo organisation's high-severity findings); they remain as medium
/// `inactive_admin` findings.
async fn deactivate_unconfirmed_admins(sb: &Sandbox, review: &Value) -> usize {
    let (c, _) = client(sb);
    let ids: Vec<String> = review["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "high")
        .map(|f| {
            assert_eq!(f["kind"], "unconfirmed_admin", "{f}");
            f["user_id"].as_str().unwrap().to_string()
        })
        .collect();
    for id in &ids {
        c.set_user_status(&ZohoId::parse(id, "user_id").unwrap(), UserStatus::Inactive)
            .await
            .expect("deactivate");
    }
    ids.len()
}

#[tokio::test]
async fn demo_markdown_has_the_evidence_and_the_admins_and_exits_4() {
    let home = tempfile::tempdir().unwrap();
    let o = run(home.path(), None, &["review", "--demo"]).await;
    let md = stdout(&o);
    assert_eq!(code(&o), 4, "unconfirmed admins are high: {}", stderr(&o));
    assert!(
        md.starts_with("# Access review: Northwind Trading Co.\n"),
        "{md}"
    );
    for want in [
        "| Data centre | http://127.0.0.1:", // the sandbox is no Zoho data centre
        "| Generated at (UTC) | 20",
        "| Zoho API credits used | ",
        "## Users",
        "## Profiles",
        "## Administrators (",
        "| ID | Name | Email | Confirmed | Profile | Role |",
        "## Findings (",
        "| high | unconfirmed_admin | ",
    ] {
        assert!(md.contains(want), "markdown lacks {want:?}:\n{md}");
    }
    assert!(!md.contains("## Changes"), "no --since, no changes");
    // Rows of the admins table: confirmed and unconfirmed ones.
    let admins = md
        .split("## Administrators")
        .nth(1)
        .unwrap()
        .split("## Findings")
        .next()
        .unwrap();
    assert!(admins.contains("| yes | Administrator |"), "{admins}");
    assert!(admins.contains("| no | Administrator |"), "{admins}");

    let err = stderr(&o);
    assert!(
        err.contains("access review of Northwind Trading Co."),
        "{err}"
    );
    assert!(err.contains("exit code 4"), "{err}");
    let snap = snapshot_path(&o);
    assert!(
        snap.starts_with(home.path().join("data/bigin-mcp/reviews/demo")),
        "the demo's snapshots are the demo account's, where the MCP tool keeps them: {}",
        snap.display()
    );
    assert!(snap.is_file());
    assert!(md.contains(&format!("| Snapshot | {} |", snap.display())));

    let o = run(
        home.path(),
        None,
        &["review", "--demo", "--fail-on", "none"],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stderr(&o).contains("exit code 4"));
}

#[tokio::test]
async fn demo_csv_has_one_row_per_user_and_parses_back() {
    let home = tempfile::tempdir().unwrap();
    let o = run(home.path(), None, &["review", "--demo", "--format", "csv"]).await;
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    let rows = parse_csv(&stdout(&o));
    assert_eq!(
        rows[0],
        [
            "id",
            "name",
            "email",
            "status",
            "confirmed",
            "role",
            "profile",
            "admin_level",
            "role_id",
            "profile_id"
        ]
    );
    let users = &rows[1..];
    assert_eq!(
        users.len(),
        450,
        "one row per user in the demo organisation"
    );
    let ids: std::collections::BTreeSet<&str> = users.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids.len(), 450, "each user once");
    for r in users {
        assert_eq!(r.len(), 10, "{r:?}");
        assert!(["true", "false"].contains(&r[4].as_str()), "{r:?}");
        assert!(["true", "false"].contains(&r[7].as_str()), "{r:?}");
        assert!(
            !r.iter().any(|f| f.starts_with(['=', '+', '-', '@'])),
            "no cell a spreadsheet would run: {r:?}"
        );
    }
    // The rows are the snapshot's: the same users, the same admin flags.
    let snap: Value = serde_json::from_slice(&std::fs::read(snapshot_path(&o)).unwrap()).unwrap();
    let snap_users = snap["users"].as_array().unwrap();
    assert_eq!(snap_users.len(), 450);
    let admins = users.iter().filter(|r| r[7] == "true").count();
    let snap_admins = snap_users
        .iter()
        .filter(|u| u["admin_level"] == true)
        .count();
    assert_eq!(admins, snap_admins);
    assert!(admins > 0);
}

#[tokio::test]
async fn json_is_the_tools_structured_result() {
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    let o = run(home.path(), Some(&sb), &["review", "--format", "json"]).await;
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    let cli = json_of(&o);
    let snap = snapshot_path(&o);
    assert_eq!(cli["snapshot"], snap.display().to_string());
    assert!(
        snap.starts_with(home.path().join("data/bigin-mcp/reviews/env")),
        "env credentials keep their reviews as `serve` does: {}",
        snap.display()
    );

    let h = harness(&sb, filter()).await;
    let tool = h.ok("bigin_access_review", json!({})).await;
    let keys = |v: &Value| {
        let mut k: Vec<String> = v
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "snapshot") // the harness keeps no snapshots
            .cloned()
            .collect();
        k.sort();
        k
    };
    assert_eq!(keys(&cli), keys(&tool));
    assert_eq!(keys(&cli["evidence"]), keys(&tool["evidence"]));
    for k in ["users", "profiles", "roles", "admins", "findings"] {
        assert_eq!(cli[k], tool[k], "{k} as the tool gives it");
    }
    assert_eq!(
        cli["evidence"]["organization_name"],
        "Northwind Trading Co."
    );
}

#[tokio::test]
async fn exit_code_follows_the_worst_finding_and_fail_on() {
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    let first = run(home.path(), Some(&sb), &["review", "--format", "json"]).await;
    assert_eq!(code(&first), 4, "{}", stderr(&first));
    let fixed = deactivate_unconfirmed_admins(&sb, &json_of(&first)).await;
    assert!(fixed > 0);

    // No high-severity finding left: the gate passes...
    let o = run(home.path(), Some(&sb), &["review", "--format", "json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r = json_of(&o);
    let severities: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert!(!severities.contains(&"high"), "{severities:?}");
    assert!(severities.contains(&"medium"), "the deactivated admins");
    // ...unless medium findings fail it too.
    let o = run(
        home.path(),
        Some(&sb),
        &["review", "--format", "json", "--fail-on", "medium"],
    )
    .await;
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains("--fail-on medium"), "{}", stderr(&o));
}

#[tokio::test]
async fn since_last_adds_what_changed_on_a_later_run() {
    let sb = sandbox().await;
    let home = tempfile::tempdir().unwrap();
    // No earlier review: said on stderr, and no changes.
    let first = run(
        home.path(),
        Some(&sb),
        &["review", "--format", "json", "--since", "last"],
    )
    .await;
    assert!(
        stderr(&first).contains("no changes to show"),
        "{}",
        stderr(&first)
    );
    let r1 = json_of(&first);
    assert!(r1.get("changes").is_none());
    deactivate_unconfirmed_admins(&sb, &r1).await;

    let o = run(
        home.path(),
        Some(&sb),
        &["review", "--format", "json", "--since", "last"],
    )
    .await;
    let r2 = json_of(&o);
    let changes = &r2["changes"];
    assert_eq!(changes["since"], r1["evidence"]["generated_at"]);
    let changed: Vec<&str> = changes["status"]
        .as_array()
        .unwrap_or_else(|| panic!("status changes: {changes}"))
        .iter()
        .map(|c| c["to"].as_str().unwrap())
        .collect();
    assert!(!changed.is_empty() && changed.iter().all(|t| *t == "inactive"));

    // Markdown shows them too; nothing changed since the last run.
    let o = run(home.path(), Some(&sb), &["review", "--since", "last"]).await;
    let md = stdout(&o);
    assert!(md.contains("## Changes since "), "{md}");
    assert!(md.contains("No changes."), "{md}");
}

#[tokio::test]
async fn output_goes_to_a_private_file_in_the_format_its_name_implies() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("evidence").join("review.csv");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    // A looser file already there does not keep its mode.
    std::fs::write(&out, "old").unwrap();
    let o = run(
        home.path(),
        None,
        &["review", "--demo", "--output", out.to_str().unwrap()],
    )
    .await;
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "the review went to the file");
    let err = stderr(&o);
    assert!(
        err.contains(&format!("review written to {}", out.display())),
        "{err}"
    );
    assert!(snapshot_path(&o).is_file());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("id,name,email,"), "csv from the extension");
    assert_eq!(parse_csv(&text).len(), 451);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "it names people and their emails");
    }
    let left: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "no temporary file left: {left:?}");

    // A relative name is the current directory's; .md is Markdown.
    let o = run(home.path(), None, &["review", "--demo", "-o", "r.md"]).await;
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    let md = std::fs::read_to_string(home.path().join("r.md")).unwrap();
    assert!(md.starts_with("# Access review: "));
}

#[tokio::test]
async fn bad_values_are_usage_errors_naming_the_flag_or_variable() {
    let home = tempfile::tempdir().unwrap();
    for (args, flag) in [
        (&["review", "--demo", "--format", "xml"][..], "--format"),
        (&["review", "--demo", "--since", "yesterday"][..], "--since"),
        (&["review", "--demo", "--fail-on", "low"][..], "--fail-on"),
    ] {
        let o = run(home.path(), None, args).await;
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(flag), "{args:?}: {}", stderr(&o));
    }
    let o = command(home.path(), None, &["review", "--demo"])
        .env("BIGIN_REVIEW_SINCE", "someday")
        .output()
        .await
        .unwrap();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("BIGIN_REVIEW_SINCE"), "{}", stderr(&o));
    assert!(
        !home.path().join("data/bigin-mcp/reviews").exists(),
        "nothing ran"
    );
}

#[tokio::test]
async fn without_credentials_it_is_not_logged_in() {
    let home = tempfile::tempdir().unwrap();
    let o = run(home.path(), None, &["review"]).await;
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stderr(&o).contains("bigin-mcp login"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}
