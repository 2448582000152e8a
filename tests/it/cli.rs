//! The binary's `install` / `uninstall` against a temporary HOME, and the
//! helpers the terminal tests (`terminal.rs`) share.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_bigin-mcp");

/// A temp HOME (with XDG_CONFIG_HOME inside it) and a project directory.
pub(crate) struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    pub(crate) fn new() -> Home {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("project")).unwrap();
        Home { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("XDG_DATA_HOME", self.path().join("data"))
            .current_dir(self.path().join("project"))
            .args(args)
            .stdin(Stdio::null());
        c
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run bigin-mcp")
    }

    pub(crate) fn desktop_config(&self) -> PathBuf {
        self.path().join("config/Claude/claude_desktop_config.json")
    }
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

pub(crate) fn this_binary() -> String {
    std::fs::canonicalize(BIN).unwrap().display().to_string()
}

/// The backup `install` names in its report ("... kept as PATH.").
pub(crate) fn backup_named_in(report: &str) -> PathBuf {
    let line = report
        .lines()
        .find_map(|l| l.strip_prefix("The previous file is kept as "))
        .unwrap_or_else(|| panic!("no backup named in: {report}"));
    PathBuf::from(line.trim_end_matches('.'))
}

// ---------------------------------------------------------------------------
// install / uninstall

#[test]
fn install_merges_into_claude_desktop_keeps_the_rest_and_backs_up() {
    let home = Home::new();
    let path = home.desktop_config();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let original = r#"{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"],
      "env": {"DEBUG": "1"}
    }
  },
  "unknownFutureKey": {"nested": [1, 2, {"x": null}]}
}
"#;
    std::fs::write(&path, original).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    }

    let out = home.run(&[
        "install",
        "claude-desktop",
        "--read-only",
        "--account",
        "eu",
        "--toolsets",
        "users,audit",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Added 'bigin'"), "{}", stdout(&out));
    let v = read_json(&path);
    assert_eq!(
        v["mcpServers"]["bigin"],
        json!({
            "command": this_binary(),
            "args": ["serve", "--read-only", "--account", "eu", "--toolsets", "users,audit"]
        })
    );
    // Everything else is still there, in its order.
    assert_eq!(v["globalShortcut"], "Ctrl+Space");
    assert_eq!(
        v["unknownFutureKey"],
        json!({"nested": [1, 2, {"x": null}]})
    );
    assert_eq!(v["mcpServers"]["filesystem"]["env"], json!({"DEBUG": "1"}));
    let text = std::fs::read_to_string(&path).unwrap();
    let pos = |k: &str| text.find(k).unwrap();
    assert!(
        pos("globalShortcut") < pos("mcpServers") && pos("mcpServers") < pos("unknownFutureKey")
    );
    assert!(pos("\"filesystem\"") < pos("\"bigin\""));
    // The previous file is the backup, byte for byte; the mode is kept.
    let backup = backup_named_in(&stdout(&out));
    assert!(
        backup
            .to_string_lossy()
            .contains("claude_desktop_config.json.bak-"),
        "{}",
        backup.display()
    );
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), original);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    // Twice: nothing changes, and it says so.
    let before = std::fs::read_to_string(&path).unwrap();
    let out = home.run(&[
        "install",
        "claude-desktop",
        "--read-only",
        "--account",
        "eu",
        "--toolsets",
        "users,audit",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("nothing changed"), "{}", stdout(&out));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), original);

    // Different flags replace the entry in place.
    let out = home.run(&["install", "claude-desktop", "--demo"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Replaced"), "{}", stdout(&out));
    assert_eq!(
        read_json(&path)["mcpServers"]["bigin"]["args"],
        json!(["serve", "--demo"])
    );

    // uninstall removes only ours; twice says there is nothing to remove.
    let out = home.run(&["uninstall", "claude-desktop"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = read_json(&path);
    assert!(v["mcpServers"].get("bigin").is_none(), "{v}");
    assert_eq!(v["mcpServers"]["filesystem"]["command"], "npx");
    assert_eq!(
        v["unknownFutureKey"],
        json!({"nested": [1, 2, {"x": null}]})
    );
    let out = home.run(&["uninstall", "claude-desktop"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("nothing changed"), "{}", stdout(&out));
}

#[test]
fn dry_run_prints_the_change_and_writes_nothing() {
    let home = Home::new();
    let out = home.run(&[
        "install",
        "cursor",
        "--dry-run",
        "--name",
        "bigin-ro",
        "--read-only",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(
        s.contains("Would add 'bigin-ro'") && s.contains(".cursor/mcp.json"),
        "{s}"
    );
    assert!(
        s.contains("--read-only") && s.contains(&this_binary()),
        "{s}"
    );
    assert!(!home.path().join(".cursor").exists(), "nothing written");
}

#[test]
fn each_client_gets_its_own_file_and_shape() {
    let home = Home::new();
    let exe = this_binary();
    for (args, file, key, entry) in [
        (
            vec!["install", "claude-code"],
            home.path().join(".claude.json"),
            "mcpServers",
            json!({"type": "stdio", "command": exe, "args": ["serve"]}),
        ),
        (
            vec![
                "install",
                "claude-code",
                "--scope",
                "project",
                "--allow-delete",
            ],
            home.path().join("project/.mcp.json"),
            "mcpServers",
            json!({"type": "stdio", "command": exe, "args": ["serve", "--allow-delete"]}),
        ),
        (
            vec!["install", "cursor"],
            home.path().join(".cursor/mcp.json"),
            "mcpServers",
            json!({"command": exe, "args": ["serve"]}),
        ),
        (
            vec!["install", "vscode", "--methods", "read"],
            home.path().join("project/.vscode/mcp.json"),
            "servers",
            json!({"type": "stdio", "command": exe, "args": ["serve", "--methods", "read"]}),
        ),
    ] {
        let out = home.run(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(read_json(&file)[key]["bigin"], entry, "{args:?}");
        let dir = file.parent().unwrap();
        assert!(
            !std::fs::read_dir(dir).unwrap().any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".bak")),
            "no backup of a file that did not exist"
        );
    }
}

#[test]
fn an_invalid_config_file_is_refused_and_left_alone() {
    let home = Home::new();
    let path = home.path().join(".claude.json");
    let broken = "{\n  \"projects\": {},\n  \"mcpServers\": {,}\n}\n";
    std::fs::write(&path, broken).unwrap();
    for args in [
        vec!["install", "claude-code"],
        vec!["uninstall", "claude-code"],
    ] {
        let out = home.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains(&path.display().to_string())
                && err.contains("not valid JSON")
                && err.contains("line 3, column 18")
                && err.contains("nothing was changed"),
            "{err}"
        );
        assert!(stdout(&out).is_empty());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
        assert!(
            !std::fs::read_dir(home.path()).unwrap().any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".bak"))
        );
    }
}

#[test]
fn reinstall_keeps_the_users_keys_and_dry_runs_mask_secrets() {
    let home = Home::new();
    let path = home.desktop_config();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let secret = "zoho-secret-9f8e7d";
    std::fs::write(
        &path,
        json!({"mcpServers": {"bigin": {
            "command": "/old/bigin-mcp", "args": ["serve"],
            "env": {"BIGIN_CLIENT_SECRET": secret, "BIGIN_REFRESH_TOKEN": secret},
            "disabled": true, "alwaysAllow": ["list_users"], "apiToken": secret
        }}})
        .to_string(),
    )
    .unwrap();
    for args in [
        vec!["install", "claude-desktop", "--demo", "--dry-run"],
        vec!["uninstall", "claude-desktop", "--dry-run"],
    ] {
        let out = home.run(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let s = stdout(&out);
        assert!(!s.contains(secret), "{args:?} shows a secret: {s}");
        assert!(s.contains("\"BIGIN_CLIENT_SECRET\":\"***\""), "{s}");
        assert!(s.contains("list_users"), "{s}");
    }
    let out = home.run(&["install", "claude-desktop", "--demo"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stdout(&out).contains(secret), "{}", stdout(&out));
    let entry = &read_json(&path)["mcpServers"]["bigin"];
    assert_eq!(entry["command"], this_binary());
    assert_eq!(entry["args"], json!(["serve", "--demo"]));
    assert_eq!(entry["env"]["BIGIN_CLIENT_SECRET"], secret);
    assert_eq!(entry["disabled"], true);
    assert_eq!(entry["alwaysAllow"], json!(["list_users"]));
    assert_eq!(entry["apiToken"], secret);
}

#[test]
fn concurrent_installs_and_uninstalls_from_many_processes_all_land() {
    let home = Home::new();
    let path = home.path().join(".cursor/mcp.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let old: Vec<String> = (0..4).map(|i| format!("old{i}")).collect();
    let servers: serde_json::Map<String, Value> = old
        .iter()
        .map(|n| (n.clone(), json!({"command": "x"})))
        .chain([("keep".to_string(), json!({"command": "k"}))])
        .collect();
    std::fs::write(&path, json!({"mcpServers": servers}).to_string()).unwrap();
    let mut children = Vec::new();
    for i in 0..8 {
        let name = format!("new{i}");
        children.push(
            home.cmd(&["install", "cursor", "--demo", "--name", &name])
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    for n in &old {
        children.push(
            home.cmd(&["uninstall", "cursor", "--name", n])
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let v = read_json(&path);
    let mut names: Vec<&str> = v["mcpServers"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "keep", "new0", "new1", "new2", "new3", "new4", "new5", "new6", "new7"
        ]
    );
}

#[cfg(unix)]
#[test]
fn project_scope_names_bigin_mcp_from_the_path_and_says_it_needs_approval() {
    let home = Home::new();
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(BIN, bin.join("bigin-mcp")).unwrap();
    let mut path = std::ffi::OsString::from(&bin);
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    let out = home
        .cmd(&["install", "claude-code", "--scope", "project", "--demo"])
        .env("PATH", path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = read_json(&home.path().join("project/.mcp.json"));
    assert_eq!(
        v["mcpServers"]["bigin"],
        json!({"type": "stdio", "command": "bigin-mcp", "args": ["serve", "--demo"]})
    );
    let s = stdout(&out);
    assert!(
        s.contains("from the PATH") && s.contains("shared with the project's team"),
        "{s}"
    );
    assert!(s.contains("asks each person to approve"), "{s}");
    assert!(!s.contains(&this_binary()), "{s}");
    // Without it on the PATH: the absolute path, and the reason.
    let home = Home::new();
    let out = home.run(&["install", "claude-code", "--scope", "project"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("not on your PATH"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn each_client_is_told_its_own_restart_step() {
    let home = Home::new();
    for (args, step) in [
        (
            vec!["install", "claude-desktop"],
            "Quit Claude Desktop completely",
        ),
        (
            vec!["install", "claude-code"],
            "Start a new `claude` session",
        ),
        (vec!["install", "cursor"], "Cursor Settings > MCP"),
        (vec!["install", "vscode"], "MCP: List Servers"),
    ] {
        let out = home.run(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).contains(step), "{args:?}: {}", stdout(&out));
    }
}

#[test]
fn vscode_comments_and_trailing_commas_survive_install_and_uninstall() {
    let home = Home::new();
    let path = home.path().join("project/.vscode/mcp.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let original = "{\n  // Team servers; ask Ana before changing.\n  \"servers\": {\n    \"github\": {\"type\": \"http\", \"url\": \"https://api.githubcopilot.com/mcp/\"}, /* remote */\n  },\n}\n";
    std::fs::write(&path, original).unwrap();
    let out = home.run(&["install", "vscode", "--demo"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("// Team servers; ask Ana before changing.") && text.contains("/* remote */"),
        "{text}"
    );
    assert!(
        text.contains("\"command\": \"") && text.contains("\"--demo\""),
        "{text}"
    );
    let out = home.run(&["uninstall", "vscode"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("// Team servers") && !text.contains("bigin"),
        "{text}"
    );
}

#[test]
fn install_checks_the_serve_flags_it_forwards() {
    let home = Home::new();
    let out = home.run(&["install", "cursor", "--toolsets", "billing"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("users, roles, profiles, org, audit"),
        "{}",
        stderr(&out)
    );
    let out = home.run(&["install", "cursor", "--read-only", "--methods", "write"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--read-only removes every write tool"),
        "{}",
        stderr(&out)
    );
    assert!(!home.path().join(".cursor").exists());
}

/// `install` checks the connection flags with `serve`'s own parsers (so an
/// entry `serve` would refuse is never written), forwards them as typed, and
/// reads no `BIGIN_*` variable into the file.
#[test]
fn install_refuses_what_serve_refuses_and_forwards_only_what_was_typed() {
    let home = Home::new();
    for (args, why) in [
        (vec!["--api-domain", "http://evil.example"], "--api-domain"),
        (vec!["--accounts-url", "ftp://127.0.0.1"], "--accounts-url"),
        (vec!["--audit-log", "relative/audit.log"], "absolute path"),
        (vec!["--account", "bad name"], "--account"),
        (vec!["--expires-at", "tomorrow"], "RFC 3339"),
    ] {
        let mut full = vec!["install", "cursor"];
        full.extend(&args);
        let out = home.run(&full);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(why), "{args:?}: {}", stderr(&out));
        // serve refuses the same values.
        let mut serve = vec!["serve"];
        serve.extend(&args);
        let out = home.run(&serve);
        assert_eq!(
            out.status.code(),
            Some(2),
            "serve {args:?}: {}",
            stderr(&out)
        );
    }
    assert!(!home.path().join(".cursor").exists());

    let out = home
        .cmd(&[
            "install",
            "cursor",
            "--dry-run",
            "--account",
            "work",
            "--api-domain",
            "https://www.zohoapis.eu",
            "--timeout",
            "9",
            "--read-only",
        ])
        .env("BIGIN_DEMO", "1")
        .env("BIGIN_DC", "eu")
        .env("BIGIN_ACCOUNT", "other")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let start = text.find('{').unwrap();
    let entry: Value = serde_json::from_str(&text[start..text.rfind('}').unwrap() + 1]).unwrap();
    assert_eq!(
        entry["bigin"]["args"],
        serde_json::json!([
            "serve",
            "--read-only",
            "--account",
            "work",
            "--api-domain",
            "https://www.zohoapis.eu",
            "--timeout",
            "9"
        ])
    );
}
