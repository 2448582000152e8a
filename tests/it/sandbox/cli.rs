//! The sandbox's command-line sizes: `sandbox --users N` and
//! `serve --demo --demo-users N` (or `BIGIN_DEMO_USERS`), run as the built
//! binary with a scrubbed environment.

use std::process::Stdio;

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::*;

const BIN: &str = env!("CARGO_BIN_EXE_bigin-mcp");

/// The binary with nothing from the caller's environment but PATH, and a
/// temporary HOME so nothing touches the real data directory.
fn command(home: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

#[tokio::test]
async fn sizes_are_checked_and_demo_users_needs_demo() {
    let home = tempfile::tempdir().unwrap();
    for (args, env, needle) in [
        (&["serve", "--demo-users", "5"][..], None, "--demo"),
        (&["serve"][..], Some(("BIGIN_DEMO_USERS", "5")), "--demo"),
        (
            &["serve", "--demo", "--demo-users", "0"][..],
            None,
            "from 1 to 1000000",
        ),
        (
            &["sandbox", "--users", "many"][..],
            None,
            "from 1 to 1000000",
        ),
        (
            &["sandbox", "--users", "1000001"][..],
            None,
            "from 1 to 1000000",
        ),
    ] {
        let mut cmd = command(home.path(), args);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = cmd.output().await.unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {err}");
        assert!(out.stdout.is_empty(), "nothing on stdout");
        assert!(err.contains(needle), "{args:?} {env:?}: {err}");
    }
}

#[tokio::test]
async fn the_sandbox_command_serves_an_org_of_the_given_size() {
    let home = tempfile::tempdir().unwrap();
    let mut child = command(home.path(), &["sandbox", "--port", "0", "--users", "1000"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bigin-mcp sandbox");
    // Once it listens it prints where, after any log lines.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next_line().await.unwrap().expect("the banner");
        if let Some(rest) = line.strip_prefix("sandbox Bigin API and accounts server on ") {
            break rest.trim().to_string();
        }
    };
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let c = http();
    let token: Value = c
        .post(format!("{url}/oauth/v2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("refresh_token", DEMO_REFRESH_TOKEN),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap();
    let page: Value = c
        .get(format!("{url}/bigin/v2/users?page=5&per_page=200"))
        .header("authorization", format!("Zoho-oauthtoken {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["info"],
        json!({"per_page": 200, "count": 200, "page": 5, "more_records": false})
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn serve_demo_users_sizes_the_demo_org() {
    let home = tempfile::tempdir().unwrap();
    for (flags, env) in [
        (&["serve", "--demo", "--demo-users", "1000"][..], None),
        (&["serve", "--demo"][..], Some(("BIGIN_DEMO_USERS", "1000"))),
    ] {
        let mut cmd = command(home.path(), flags);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let (transport, _stderr) = TokioChildProcess::builder(cmd)
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn bigin-mcp serve");
        let client = ().serve(transport).await.expect("initialize over stdio");
        let review = client
            .call_tool(CallToolRequestParams::new("bigin_access_review"))
            .await
            .expect("tools/call answered")
            .structured_content
            .expect("a review");
        assert_eq!(review["users"]["total"], 1000, "{flags:?} {env:?}");
        client.cancel().await.unwrap();
    }
}

/// `sandbox --variant NAME` takes the names the sandbox knows and refuses
/// others with the list.
#[tokio::test]
async fn variants_are_named_on_the_command_line() {
    let home = tempfile::tempdir().unwrap();
    let out = command(home.path(), &["sandbox", "--variant", "bogus"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for name in bigin_mcp::sandbox::VariantName::ALL {
        assert!(err.contains(name.as_str()), "{name}: {err}");
    }
}
