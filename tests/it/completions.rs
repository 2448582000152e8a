//! Shell completions in the real shells, and the man page. Each shell test
//! runs the generated script in that shell, or skips saying why when the
//! shell is not installed (`.ci/run` installs bash, zsh and fish).

use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_bigin-mcp");

fn generate(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The shell's path, or `None` after a line saying the test is skipped.
fn shell(name: &str, test: &str) -> Option<String> {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        eprintln!("skipped completions::{test}: {name} is not installed (apt-get install {name})");
    }
    Some(found?.display().to_string())
}

/// Runs `script` in `sh` with the completion script in a temp file as $1.
fn run_in(sh: &str, completion: &str, script: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("completion");
    std::fs::write(&file, completion).unwrap();
    let out = Command::new(sh)
        .arg("-c")
        .arg(script)
        .arg(sh)
        .arg(&file)
        .env("HOME", dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{sh}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bash_completes_beyond_the_first_word() {
    let test = "bash_completes_beyond_the_first_word";
    let Some(bash) = shell("bash", test) else {
        return;
    };
    let script = generate(&["completions", "bash"]);
    // What bash does on TAB: COMP_WORDS / COMP_CWORD set, then the
    // function registered with `complete -F` called with the command, the
    // current word and the previous one.
    let complete = |words: &[&str]| {
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let cur = words.last().unwrap();
        let prev = words[words.len() - 2];
        run_in(
            &bash,
            &script,
            &format!(
                r#"source "$1"
                f=$(complete -p bigin-mcp | sed -E 's/.*-F ([^ ]+).*/\1/')
                COMP_WORDS=({words}); COMP_CWORD={cword}
                "$f" bigin-mcp '{cur}' '{prev}'
                printf '%s\n' "${{COMPREPLY[@]}}""#,
                words = quoted.join(" "),
                cword = words.len() - 1,
            ),
        )
    };
    let got = complete(&["bigin-mcp", "serve", "--de"]);
    assert_eq!(got.lines().collect::<Vec<_>>(), ["--demo", "--demo-users"]);
    let got = complete(&["bigin-mcp", "review", "--fail-on", ""]);
    assert_eq!(got.lines().collect::<Vec<_>>(), ["none", "high", "medium"]);
    let got = complete(&["bigin-mcp", "inst"]);
    assert_eq!(got.trim(), "install");
}

#[test]
fn fish_completes_serve_flags() {
    let test = "fish_completes_serve_flags";
    let Some(fish) = shell("fish", test) else {
        return;
    };
    let script = generate(&["completions", "fish"]);
    let got = run_in(
        &fish,
        &script,
        r#"source $argv[-1]; complete -C "bigin-mcp serve --de""#,
    );
    let flags: Vec<&str> = got.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(flags, ["--demo", "--demo-users"], "{got}");
}

#[test]
fn zsh_loads_the_completion_with_serve_flags() {
    // zsh completes only in an interactive line editor (a zpty harness);
    // this checks the script loads in zsh's completion system and defines
    // serve's --demo.
    let test = "zsh_loads_the_completion_with_serve_flags";
    let Some(zsh) = shell("zsh", test) else {
        return;
    };
    let script = generate(&["completions", "zsh"]);
    let got = run_in(
        &zsh,
        &script,
        r#"autoload -U compinit && compinit -u -D
        source "$1"
        whence -w _bigin-mcp"#,
    );
    assert!(got.contains("_bigin-mcp: function"), "{got}");
    let serve = script
        .split("(serve)")
        .nth(1)
        .expect("a serve section")
        .split(";;")
        .next()
        .unwrap();
    assert!(serve.contains("--demo["), "{serve}");
}

#[test]
fn the_man_page_has_every_commands_flags_variables_files_and_exit_codes() {
    let page = generate(&["man"]);
    for section in [
        ".SH COMMANDS",
        ".SH ENVIRONMENT",
        ".SH FILES",
        ".SH \"EXIT STATUS\"",
    ] {
        assert!(page.contains(section), "{section} missing");
    }
    for usage in [
        "bigin-mcp serve",
        "bigin-mcp login",
        "bigin-mcp review",
        "bigin-mcp install",
        "bigin-mcp uninstall",
        "bigin-mcp completions",
        "bigin-mcp tools",
    ] {
        assert!(page.contains(&format!(".SS \"{usage}")), "{usage} missing");
    }
    for flag in [
        "\\-\\-read\\-only",
        "\\-\\-insecure\\-storage",
        "\\-\\-fail\\-on",
        "\\-\\-dry\\-run",
    ] {
        assert!(page.contains(flag), "{flag} missing");
    }
    for var in [
        "BIGIN_TOOLSETS",
        "BIGIN_REVIEW_OUTPUT",
        "BIGIN_LOG",
        "BIGIN_REFRESH_TOKEN",
    ] {
        assert!(page.contains(var), "{var} missing");
    }
    assert!(page.contains("credentials.json") && page.contains("audit.log"));
    assert!(
        page.contains("Not logged in for the account"),
        "exit code 3"
    );
}
