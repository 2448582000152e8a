//! The catalogue and its filters, over the handler's real routers, through
//! the library's public API.

use bigin_mcp::mcp::catalog::*;
// The catalogue is read off the handler's routers.
use bigin_mcp::mcp::{catalogue as tools, login_scopes, required_scopes, tool_info};

fn list(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| x.to_string()).collect()
}

#[test]
fn default_hides_only_delete() {
    let s = ToolFilter::default().select().unwrap();
    assert_eq!(s.len(), tools().len() - 1);
    assert!(!s.contains(DELETE_TOOL));
    let s = ToolFilter {
        allow_delete: true,
        ..Default::default()
    }
    .select()
    .unwrap();
    assert!(s.contains(DELETE_TOOL));
}

#[test]
fn read_only_wins_over_everything() {
    let f = ToolFilter {
        read_only: true,
        allow_delete: true,
        methods: list(&["write"]),
        tools: list(&["bigin_delete_user", "bigin_set_user_status"]),
        ..Default::default()
    };
    assert!(f.select().unwrap().is_empty());
    let s = ToolFilter {
        read_only: true,
        ..Default::default()
    }
    .select()
    .unwrap();
    let reads = tools().iter().filter(|t| t.read_only).count();
    assert!(reads > 0);
    assert_eq!(s.len(), reads);
    assert!(s.iter().all(|n| tool_info(n).unwrap().read_only));
}

#[test]
fn filters_intersect_and_exclude_wins() {
    let f = ToolFilter {
        methods: list(&["read"]),
        toolsets: list(&["users", "roles"]),
        exclude_tools: list(&["bigin_get_user"]),
        ..Default::default()
    };
    let s: Vec<_> = f.select().unwrap().into_iter().collect();
    assert_eq!(s, vec!["bigin_list_roles", "bigin_list_users"]);
    let f = ToolFilter {
        tools: list(&["bigin_get_user"]),
        exclude_tools: list(&["bigin_get_user"]),
        ..Default::default()
    };
    assert!(f.select().unwrap().is_empty());
}

#[test]
fn an_empty_selection_is_explained_flag_by_flag() {
    let f = ToolFilter {
        tools: list(&["bigin_delete_user"]),
        ..Default::default()
    };
    let why = f.explain_empty().unwrap();
    assert!(
        why.contains("--allow-delete is needed for bigin_delete_user"),
        "{why}"
    );
    let f = ToolFilter {
        read_only: true,
        allow_delete: true,
        methods: list(&["write"]),
        ..Default::default()
    };
    let why = f.explain_empty().unwrap();
    assert!(
        why.contains("--methods write leaves out bigin_get_user, bigin_list_users")
            && why.contains(
                "--read-only removes every write tool, here bigin_delete_user, bigin_invite_user, bigin_set_user_status, bigin_update_user"
            ),
        "{why}"
    );
    assert_eq!(ToolFilter::default().explain_empty(), None);
}

#[test]
fn unknown_names_are_errors_that_list_valid_ones() {
    let e = ToolFilter {
        toolsets: list(&["userz"]),
        ..Default::default()
    }
    .select()
    .unwrap_err();
    assert!(
        e.0.contains("userz") && e.0.contains("users, roles, profiles, org, audit"),
        "{e}"
    );
    let e = ToolFilter {
        methods: list(&["patch"]),
        ..Default::default()
    }
    .select()
    .unwrap_err();
    assert!(e.0.contains("patch"), "{e}");
    let e = ToolFilter {
        exclude_tools: list(&["nope"]),
        ..Default::default()
    }
    .select()
    .unwrap_err();
    assert!(
        e.0.contains("--exclude-tools") && e.0.contains("bigin_list_users"),
        "{e}"
    );
}

#[test]
fn every_tool_has_a_known_verb_and_declares_its_scopes() {
    for t in tools() {
        assert_eq!(
            method_of(t.name),
            Some(t.method),
            "{} does not start with a known verb (bigin_list_, bigin_get_, ...)",
            t.name
        );
        assert!(!t.scopes.is_empty(), "{} declares no Zoho scopes", t.name);
        assert!(
            t.read_only || t.scopes.contains(&Scope::UsersAll),
            "{} writes, so it needs ZohoBigin.users.ALL",
            t.name
        );
    }
    assert_eq!(method_of("bigin_frobnicate_user"), None);
}

#[test]
fn login_asks_for_exactly_the_scopes_the_tools_need() {
    // The least-privilege sets the README documents; login asks for what
    // `login_scopes` derives from the tools, so this pins the derivation.
    const DEFAULT_SCOPES: &[&str] = &[
        "ZohoBigin.users.ALL",
        "ZohoBigin.settings.roles.READ",
        "ZohoBigin.settings.profiles.READ",
        "ZohoBigin.org.READ",
    ];
    const READ_ONLY_SCOPES: &[&str] = &[
        "ZohoBigin.users.READ",
        "ZohoBigin.settings.roles.READ",
        "ZohoBigin.settings.profiles.READ",
        "ZohoBigin.org.READ",
    ];
    fn sorted(v: &[&'static str]) -> Vec<&'static str> {
        let mut v = v.to_vec();
        v.sort();
        v
    }
    let all = ToolFilter {
        allow_delete: true,
        ..Default::default()
    };
    let need = required_scopes(&all).unwrap();
    assert_eq!(sorted(&need), sorted(DEFAULT_SCOPES));
    assert_eq!(sorted(&login_scopes(false)), sorted(DEFAULT_SCOPES));
    assert_eq!(sorted(&login_scopes(true)), sorted(READ_ONLY_SCOPES));
    let read_only = ToolFilter {
        read_only: true,
        ..Default::default()
    };
    let need = required_scopes(&read_only).unwrap();
    assert_eq!(sorted(&need), sorted(READ_ONLY_SCOPES));
    let roles_only = ToolFilter {
        toolsets: list(&["roles"]),
        ..Default::default()
    };
    assert_eq!(
        required_scopes(&roles_only).unwrap(),
        ["ZohoBigin.settings.roles.READ"]
    );
}

#[test]
fn the_toolsets_help_names_every_toolset() {
    use clap::CommandFactory;
    let mut toolsets: Vec<&str> = Vec::new();
    for t in tools() {
        if !toolsets.contains(&t.toolset) {
            toolsets.push(t.toolset);
        }
    }
    let cmd = bigin_mcp::cli::Cli::command();
    let serve = cmd.find_subcommand("serve").expect("serve");
    let arg = serve
        .get_arguments()
        .find(|a| a.get_id() == "toolsets")
        .expect("--toolsets");
    let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
    assert!(help.contains(&toolsets.join(", ")), "{help}");
}

#[test]
fn one_verdict_answers_selection_and_why_removed() {
    let f = ToolFilter {
        read_only: true,
        exclude_tools: list(&["bigin_get_user"]),
        ..Default::default()
    };
    let all = tools();
    let selected = f.select().unwrap();
    for t in all {
        let why = f.why_removed(t.name);
        assert_eq!(
            f.verdict(t).is_ok(),
            selected.contains(t.name),
            "{}",
            t.name
        );
        assert_eq!(why.is_none(), selected.contains(t.name), "{}", t.name);
    }
    let get = tool_info("bigin_get_user").unwrap();
    assert_eq!(f.verdict(get), Err(Removed::Excluded));
    let set = tool_info("bigin_set_user_status").unwrap();
    assert_eq!(f.verdict(set), Err(Removed::ReadOnly));
}

/// The README's scopes table is the tools' own declaration, row for row.
#[test]
fn the_readme_scopes_table_is_what_the_tools_declare() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("| tool | Zoho scopes |")
        .expect("the README has the scopes table");
    let rows: Vec<(String, String)> = readme[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_string(), cells[2].to_string())
        })
        .collect();
    let expected: Vec<(String, String)> = tools()
        .iter()
        .map(|t| {
            let scopes: Vec<String> = t
                .scopes
                .iter()
                .map(|s| format!("`{}`", s.as_str()))
                .collect();
            (t.name.to_string(), scopes.join(", "))
        })
        .collect();
    assert_eq!(
        rows,
        expected,
        "README scopes table; expected rows:\n{}",
        expected
            .iter()
            .map(|(n, s)| format!("| `{n}` | {s} |"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
