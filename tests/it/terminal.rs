//! The binary at the terminal: environment variables named in errors, the
//! filters they set, completions and the man page, `tools --json`, the
//! banner on a terminal, quiet exits before `initialize`, `help`, and the
//! hints a command gives without a login.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

use crate::cli::{BIN, Home, stderr, stdout, this_binary};

/// Bad values in the environment are reported under the variable's name;
/// a blank BIGIN_ACCOUNT (a bundle's unset Account) is the default account.
#[test]
fn bad_environment_values_name_their_variable() {
    let home = Home::new();
    for (var, value) in [
        ("BIGIN_METHODS", "patch"),
        ("BIGIN_TOOLSETS", "billing"),
        ("BIGIN_TOOLS", "bigin_frobnicate"),
        ("BIGIN_EXCLUDE_TOOLS", "bigin_frobnicate"),
        ("BIGIN_EXPIRES_AT", "tomorrow"),
        ("BIGIN_ACCOUNT", "bad name"),
        ("BIGIN_API_DOMAIN", "http://evil.example"),
        ("BIGIN_ACCOUNTS_URL", "ftp://127.0.0.1"),
    ] {
        let out = home.cmd(&["serve"]).env(var, value).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("environment variable {var}")),
            "{var}: {}",
            stderr(&out)
        );
    }
    // Blank: the default account, which is not logged in here (exit 3),
    // not a usage error.
    let out = home
        .cmd(&["doctor"])
        .env("BIGIN_ACCOUNT", "")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------
// completions, man, tools

#[test]
fn completions_for_every_shell_and_a_man_page() {
    let home = Home::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = home.run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let s = stdout(&out);
        assert!(
            s.contains("bigin-mcp") && s.contains("allow-delete"),
            "{shell}: {s}"
        );
    }
    let out = home.run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let out = home.run(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    let s = stdout(&out);
    assert!(s.starts_with(".ie") || s.contains(".TH bigin-mcp"), "{s}");
    assert!(s.contains("install") && s.contains("completions"), "{s}");
}

#[test]
fn tools_json_lists_the_servers_own_catalogue() {
    let out = Home::new().run(&["tools", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let catalogue: Vec<&str> = bigin_mcp::mcp::catalogue().iter().map(|t| t.name).collect();
    let mut sorted = names.clone();
    sorted.sort();
    let mut expected = catalogue.clone();
    expected.sort();
    assert_eq!(sorted, expected);
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|t| t["description"].as_str().is_some_and(|d| d.len() > 20)),
        "{v}"
    );
}

// ---------------------------------------------------------------------------
// Environment variables

#[test]
fn an_invalid_environment_value_names_its_variable() {
    let home = Home::new();
    for (var, value, flag) in [
        ("BIGIN_READ_ONLY", "maybe", "--read-only"),
        ("BIGIN_ALLOW_DELETE", "perhaps", "--allow-delete"),
        ("BIGIN_TIMEOUT", "0", "--timeout"),
        ("BIGIN_DC", "mars", "--dc"),
    ] {
        for args in [vec!["serve"], vec![]] {
            let out = home.cmd(&args).env(var, value).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{var}={value} {args:?}");
            let err = stderr(&out);
            assert!(
                err.contains(&format!("'{value}'")) && err.contains(var) && err.contains(flag),
                "{var}={value} {args:?}: {err}"
            );
            assert!(stdout(&out).is_empty());
        }
    }
    // A typed flag is blamed as such, even with the variable set.
    let out = home
        .cmd(&["serve", "--timeout", "0"])
        .env("BIGIN_TIMEOUT", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("'--timeout <SECS>'") && !err.contains("BIGIN_TIMEOUT"),
        "{err}"
    );
    let out = home.run(&["login", "--timeout", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("at least 1"), "{}", stderr(&out));
}

#[test]
fn environment_variables_set_the_serve_filters() {
    let home = Home::new();
    // Every filter from the environment, leaving nothing: start-up says why.
    let out = home
        .cmd(&["serve"])
        .env("BIGIN_TOOLS", "bigin_delete_user,bigin_get_user")
        .env("BIGIN_EXCLUDE_TOOLS", "bigin_get_user")
        .env("BIGIN_METHODS", "delete,get")
        .env("BIGIN_TOOLSETS", "users")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("leave no tools")
            && err.contains("--exclude-tools removes bigin_get_user")
            && err.contains("--allow-delete is needed for bigin_delete_user"),
        "{err}"
    );
    let out = home
        .cmd(&["serve"])
        .env("BIGIN_TOOLSETS", "billing")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("billing"), "{}", stderr(&out));
    let out = home
        .cmd(&["serve"])
        .env("BIGIN_EXPIRES_AT", "tomorrow")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("RFC 3339"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------
// The first run

/// `script` from util-linux runs a command on a new pseudo-terminal.
fn have_script() -> bool {
    Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn serve_on_a_terminal_explains_itself_on_stderr() {
    if !have_script() {
        eprintln!(
            "skipped cli::serve_on_a_terminal_explains_itself_on_stderr: no util-linux `script`"
        );
        return;
    }
    let home = Home::new();
    // stdin of `script` is empty, so the server on the terminal reads EOF
    // right after printing the hint and exits. stdout is discarded inside
    // the terminal so only stderr reaches the transcript.
    let inner = format!("{BIN} serve --demo 1>/dev/null");
    let out = Command::new("timeout")
        .args(["30", "script", "-qec", &inner, "/dev/null"])
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .stdin(Stdio::null())
        .output()
        .expect("run script");
    let transcript = stdout(&out);
    assert!(
        transcript.contains("an MCP server for Zoho Bigin")
            && transcript.contains("An MCP client")
            && transcript.contains(&format!(
                "npx @modelcontextprotocol/inspector {} serve --demo",
                this_binary()
            ))
            && transcript.contains(&format!("\"command\": \"{}\"", this_binary())),
        "{transcript}\n{}",
        stderr(&out)
    );
}

#[test]
fn serve_on_a_pipe_prints_no_hint_and_only_json_rpc() {
    let home = Home::new();
    let mut child = home
        .cmd(&["serve", "--demo"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"}}});
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{init}").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let s = stdout(&out);
    assert!(!s.is_empty(), "an initialize reply");
    for line in s.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["jsonrpc"], "2.0", "{line}");
    }
    let err = stderr(&out);
    assert!(
        !err.contains("MCP Inspector") && !err.contains("inspector"),
        "{err}"
    );
}

/// `serve` on a terminal, through `script`, with stdout discarded: the
/// transcript is stderr (the banner) and the exit code is the server's.
fn serve_on_a_terminal(home: &Home, args: &str) -> (Output, String) {
    let inner = format!("{BIN} {args} 1>/dev/null");
    let out = Command::new("timeout")
        .args(["30", "script", "-qec", &inner, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .stdin(Stdio::null())
        .output()
        .expect("run script");
    let transcript = stdout(&out);
    (out, transcript)
}

#[test]
fn the_banner_keeps_the_flags_and_says_when_nobody_is_logged_in() {
    if !have_script() {
        eprintln!("skipped: no util-linux `script`");
        return;
    }
    let home = Home::new();
    // A bare `bigin-mcp FLAGS` serves, and the config line keeps the flags.
    let (out, t) = serve_on_a_terminal(&home, "--read-only --toolsets users");
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains(r#""args": ["serve","--read-only","--toolsets","users"]"#),
        "{t}"
    );
    assert!(
        t.contains("Nobody is logged in to Zoho") && t.contains("login"),
        "{t}"
    );
    let (out, t) = serve_on_a_terminal(&home, "serve --demo");
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains(r#""args": ["serve","--demo"]"#), "{t}");
    assert!(
        !t.contains("Nobody is logged in"),
        "the demo needs no login: {t}"
    );
}

#[test]
fn eof_or_ctrl_c_before_initialize_exits_0_quietly() {
    let home = Home::new();
    // EOF at once (stdin is /dev/null).
    let out = home.run(&["serve"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    assert!(
        !stderr(&out).contains("failed") && !stderr(&out).contains("bigin-mcp:"),
        "{}",
        stderr(&out)
    );
    // Ctrl-C while waiting for `initialize` (stdin open).
    let mut child = home
        .cmd(&["serve", "--demo"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // SIGINT only once the handler is set: the server reads stdin only
    // after start-up, so its answer to a ping sent before initialize says
    // it is ready (no fixed delay).
    let mut stdin = child.stdin.take().unwrap();
    writeln!(
        stdin,
        "{}",
        json!({"jsonrpc": "2.0", "id": 0, "method": "ping"})
    )
    .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    let _ = std::io::BufRead::read_line(&mut reader, &mut first);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("failed") && !stderr(&out).contains("bigin-mcp:"),
        "{}",
        stderr(&out)
    );
    drop(stdin);
}

#[test]
fn help_help_and_a_bare_demo_flag_work() {
    let home = Home::new();
    let out = home.run(&["help", "--help"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Usage: bigin-mcp"),
        "{}",
        stdout(&out)
    );
    // `bigin-mcp --demo` is `serve --demo`: it answers initialize and serves
    // the sandbox organisation.
    let mut child = home
        .cmd(&["--demo"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for msg in [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "bigin_get_organization", "arguments": {}}}),
    ] {
        writeln!(stdin, "{msg}").unwrap();
    }
    // Wait for both answers before closing stdin (EOF ends the session).
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    while lines.len() < 2 {
        let mut l = String::new();
        if std::io::BufRead::read_line(&mut reader, &mut l).unwrap() == 0 {
            break;
        }
        lines.push(l);
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let call: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(call["id"], 2, "{call}");
    assert_ne!(call["result"]["isError"], true, "{call}");
    assert!(
        call["result"]["structuredContent"]["org"]["company_name"].is_string(),
        "{call}"
    );
}

#[test]
fn review_without_a_login_suggests_review_demo() {
    let home = Home::new();
    let out = home.run(&["review"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("bigin-mcp review --demo"), "{err}");
    assert!(!err.contains("serve --demo"), "{err}");
}
