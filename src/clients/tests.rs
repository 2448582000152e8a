//! Unit tests of planning, editing and writing client configs.

use super::jsonc::jsonc_options;
use super::*;
use serde_json::json;

fn entry() -> Value {
    Client::ClaudeDesktop.entry("/bin/bigin-mcp", &["serve".into(), "--read-only".into()])
}

#[test]
fn install_keeps_other_keys_servers_and_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.json");
    let original = "{\n  \"zeta\": 1,\n  \"mcpServers\": {\n    \"other\": {\n      \"command\": \"x\",\n      \"z\": [1,2]\n    }\n  },\n  \"alpha\": {\"b\": 2, \"a\": 1}\n}\n";
    std::fs::write(&p, original).unwrap();
    let c = plan_install(&p, Client::ClaudeDesktop, "bigin", &entry()).unwrap();
    assert_eq!(c.outcome, Outcome::Added);
    assert!(c.after.find("\"zeta\"").unwrap() < c.after.find("\"alpha\"").unwrap());
    // Untouched values keep their exact text.
    assert!(c.after.contains("{\"b\": 2, \"a\": 1}"), "{}", c.after);
    assert!(c.after.contains("\"z\": [1,2]"), "{}", c.after);
    let v: Value = serde_json::from_str(&c.after).unwrap();
    assert_eq!(v["mcpServers"]["other"]["command"], "x");
    assert_eq!(v["mcpServers"]["bigin"], entry());
    let bak = apply(&c).unwrap().unwrap();
    assert!(
        bak.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("c.json.bak-")
    );
    assert_eq!(std::fs::read_to_string(bak).unwrap(), original);
    let again = plan_install(&p, Client::ClaudeDesktop, "bigin", &entry()).unwrap();
    assert_eq!(again.outcome, Outcome::Unchanged);
    let gone = plan_uninstall(&p, Client::ClaudeDesktop, "bigin").unwrap();
    assert_eq!(gone.outcome, Outcome::Removed);
    let v: Value = serde_json::from_str(&gone.after).unwrap();
    assert_eq!(
        v["mcpServers"],
        json!({"other": {"command": "x", "z": [1, 2]}})
    );
}

#[test]
fn invalid_json_names_the_position() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.json");
    std::fs::write(&p, "{\n  \"a\": 1,\n}\n").unwrap();
    let e = plan_install(&p, Client::ClaudeDesktop, "bigin", &entry()).unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("line 3, column 1") && m.contains("c.json"),
        "{m}"
    );
    std::fs::write(&p, "[1]").unwrap();
    let e = plan_install(&p, Client::ClaudeDesktop, "bigin", &entry()).unwrap_err();
    assert!(e.to_string().contains("not a JSON object"), "{e}");
}

#[test]
fn a_missing_or_empty_file_gets_just_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sub/c.json");
    let c = plan_install(&p, Client::VsCode, "b", &json!({"command": "x"})).unwrap();
    assert_eq!(c.outcome, Outcome::Added);
    assert_eq!(apply(&c).unwrap(), None, "no backup of nothing");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    assert_eq!(v, json!({"servers": {"b": {"command": "x"}}}));
    assert_eq!(
        plan_uninstall(&dir.path().join("none.json"), Client::VsCode, "b")
            .unwrap()
            .outcome,
        Outcome::Absent
    );
}

fn locks(dir: &Path) -> PathBuf {
    dir.join("locks")
}

#[test]
fn reinstall_replaces_command_and_args_and_keeps_every_other_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(".claude.json");
    std::fs::write(
        &p,
        r#"{"mcpServers": {"bigin": {"type": "stdio", "command": "/old/bigin-mcp", "args": ["serve"], "env": {"BIGIN_CLIENT_SECRET": "s3cr3t", "BIGIN_REFRESH_TOKEN": "r"}, "disabled": true, "alwaysAllow": ["list_users"]}}}"#,
    )
    .unwrap();
    let ours = Client::ClaudeCode.entry("/new/bigin-mcp", &["serve".into(), "--demo".into()]);
    let (c, _) = install(&p, Client::ClaudeCode, "bigin", &ours, &locks(dir.path())).unwrap();
    assert_eq!(c.outcome, Outcome::Replaced);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    assert_eq!(
        v["mcpServers"]["bigin"],
        json!({"type": "stdio", "command": "/new/bigin-mcp", "args": ["serve", "--demo"],
               "env": {"BIGIN_CLIENT_SECRET": "s3cr3t", "BIGIN_REFRESH_TOKEN": "r"},
               "disabled": true, "alwaysAllow": ["list_users"]})
    );
    // Shown masked.
    let shown = masked(c.old_entry.as_ref().unwrap()).to_string();
    assert!(
        !shown.contains("s3cr3t") && !shown.contains("\"r\""),
        "{shown}"
    );
    assert!(shown.contains("list_users"), "{shown}");
    let again = plan_install(&p, Client::ClaudeCode, "bigin", &ours).unwrap();
    assert_eq!(again.outcome, Outcome::Unchanged);
}

#[test]
fn masking_hides_env_values_and_secret_looking_keys() {
    let e = json!({"command": "x", "args": ["serve"], "env": {"DEBUG": "1", "N": 2},
                   "clientSecret": "a", "headers": {"Authorization": "Bearer b"},
                   "nested": {"api_key": "c", "plain": "d"}});
    assert_eq!(
        masked(&e),
        json!({"command": "x", "args": ["serve"], "env": {"DEBUG": "***", "N": "***"},
               "clientSecret": "***", "headers": {"Authorization": "***"},
               "nested": {"api_key": "***", "plain": "d"}})
    );
}

#[test]
fn vscode_and_cursor_files_with_comments_are_edited_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mcp.json");
    let original = "// my servers\n{\n  \"servers\": {\n    // the GitHub one\n    \"github\": {\"type\": \"http\", \"url\": \"https://x\",},\n  },\n  /* inputs */ \"inputs\": [],\n}\n";
    std::fs::write(&p, original).unwrap();
    let ours = Client::VsCode.entry("/bin/bigin-mcp", &["serve".into()]);
    install(&p, Client::VsCode, "bigin", &ours, &locks(dir.path())).unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    for kept in [
        "// my servers",
        "// the GitHub one",
        "/* inputs */",
        "\"url\": \"https://x\",}",
    ] {
        assert!(text.contains(kept), "{kept} lost:\n{text}");
    }
    let v: Value = jsonc_parser::parse_to_serde_value(&text, &jsonc_options()).unwrap();
    assert_eq!(v["servers"]["bigin"], ours);
    assert_eq!(v["servers"]["github"]["url"], "https://x");
    uninstall(&p, Client::VsCode, "bigin", &locks(dir.path())).unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(
        text.contains("// the GitHub one") && !text.contains("bigin"),
        "{text}"
    );
    // Claude's files stay strict JSON: a comment there is refused.
    let e = plan_install(&p, Client::ClaudeDesktop, "bigin", &ours).unwrap_err();
    assert!(e.to_string().contains("not valid JSON"), "{e}");
}

#[cfg(unix)]
#[test]
fn backups_are_new_files_never_through_a_symlink_and_only_a_few_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.json");
    std::fs::write(&p, "{}").unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    // The old single-backup name, planted as a symlink: never written.
    std::os::unix::fs::symlink(&victim, dir.path().join("c.json.bak")).unwrap();
    let mut made = Vec::new();
    for i in 0..(KEEP_BACKUPS + 2) {
        let e = Client::ClaudeDesktop.entry("/bin/x", &[format!("--n{i}")]);
        let (_, b) = install(&p, Client::ClaudeDesktop, "bigin", &e, &locks(dir.path())).unwrap();
        made.push(b.unwrap());
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let mut baks: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("c.json.bak-"))
        .collect();
    baks.sort();
    assert_eq!(baks.len(), KEEP_BACKUPS, "{baks:?}");
    let newest = made.last().unwrap().file_name().unwrap().to_str().unwrap();
    assert_eq!(baks.last().unwrap(), newest);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(made.last().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn concurrent_installs_and_uninstalls_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.json");
    std::fs::write(&p, "{\"mcpServers\": {\"keep\": {\"command\": \"k\"}}}").unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (p, l) = (p.clone(), locks(dir.path()));
            std::thread::spawn(move || {
                for i in 0..4 {
                    let e = Client::ClaudeDesktop.entry("/bin/x", &[]);
                    install(&p, Client::ClaudeDesktop, &format!("s{t}-{i}"), &e, &l).unwrap();
                }
                uninstall(&p, Client::ClaudeDesktop, &format!("s{t}-0"), &l).unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    let names: Vec<&String> = v["mcpServers"].as_object().unwrap().keys().collect();
    assert_eq!(names.len(), 1 + 8 * 3, "{names:?}");
    assert!(v["mcpServers"]["s3-0"].is_null() && v["mcpServers"]["s3-1"].is_object());
}
