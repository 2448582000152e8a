//! The model-facing views (`mcp::view`): the concise user table and its
//! cells; and the elicitation policy's list of clients that declare a
//! dialog they never show.

use std::sync::Arc;

use bigin_mcp::mcp::view::{UserTable, cell, concise_table};
use bigin_mcp::zoho::{Ref, User, UserStatus};

fn user(id: &str, status: &str, profile: (&str, &str), role: (&str, &str)) -> User {
    User {
        id: id.into(),
        full_name: format!("User {id}"),
        email: format!("u{id}@x.test"),
        status: UserStatus::from(status),
        confirmed: Some(true),
        role: Some(Arc::new(Ref {
            id: role.0.into(),
            name: role.1.into(),
        })),
        profile: Some(Arc::new(Ref {
            id: profile.0.into(),
            name: profile.1.into(),
        })),
        zuid: None,
    }
}

#[test]
fn the_concise_table_carries_every_field_and_each_id_once() {
    let a = user("1", "active", ("10", "Administrator"), ("100", "R"));
    let b = user("2", "inactive", ("11", "Standard"), ("100", "R"));
    let t = concise_table(7, 0, Some("page on"), &[&a, &b]);
    assert!(
        t.starts_with("7 users match; 2 shown from offset 0. page on\n"),
        "{t}"
    );
    assert!(t.contains("roles: R=100\n"), "{t}");
    assert!(
        t.contains("profiles: Administrator=10, Standard=11\n"),
        "{t}"
    );
    assert!(
        t.contains("1 | User 1 | u1@x.test | active | R | Administrator\n"),
        "{t}"
    );
    assert!(
        t.contains("2 | User 2 | u2@x.test | inactive | R | Standard\n"),
        "{t}"
    );
    assert!(concise_table(1, 0, None, &[&a]).starts_with("1 user match;"));
    // Two roles that share a name keep their ids on each line.
    let c = user("3", "active", ("11", "Standard"), ("101", "R"));
    let t = concise_table(2, 0, None, &[&a, &c]);
    assert!(
        t.contains("| R (100) |") && t.contains("| R (101) |"),
        "{t}"
    );
    let table = UserTable::new([&a, &c]);
    assert_eq!(table.roles.len(), 2);
    assert_eq!(table.rows[1][4].as_deref(), Some("101"));
}

#[test]
fn cells_escape_every_line_break() {
    for b in [
        "\r", "\u{b}", "\u{c}", "\u{85}", "\u{2028}", "\u{2029}", "\n", "|",
    ] {
        let raw = format!("a{b}b");
        let c = cell(&raw);
        assert!(
            !c.contains([
                '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{2028}', '\u{2029}'
            ]),
            "{c:?}"
        );
    }
}

#[test]
fn elicitation_auto_skips_only_the_listed_clients() {
    use bigin_mcp::mcp::ElicitationPolicy;
    let auto = ElicitationPolicy::Auto;
    assert!(!auto.asks("claude-ai"));
    assert!(!auto.asks("local-agent-mode-1234"));
    assert!(auto.asks("claude-code"));
    assert!(auto.asks("claude-ai-helper"), "exact names match exactly");
    assert!(ElicitationPolicy::Always.asks("claude-ai"));
    assert!(!ElicitationPolicy::Never.asks("claude-code"));
    assert_eq!("NEVER".parse(), Ok(ElicitationPolicy::Never));
    assert!("sometimes".parse::<ElicitationPolicy>().is_err());
}
