//! How users reach the model: the concise projection, the compact table for
//! the text channel, the columns-and-rows shape for `structuredContent`,
//! and name-or-id resolution of roles and profiles.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

pub use crate::admin::user::{ConciseUser, Named, plural_users};
use crate::zoho::{Ref, User};

/// One table cell, safe to put between `|` on one line: the pipe and the
/// backslash are escaped, and so is every character that could end the line
/// in some reader (C0 and C1 controls, U+0085, U+2028, U+2029), so a name
/// from Zoho can never forge a row.
pub fn cell(x: &str) -> Cow<'_, str> {
    let unsafe_char =
        |c: char| c == '|' || c == '\\' || c.is_control() || c == '\u{2028}' || c == '\u{2029}';
    if !x.contains(unsafe_char) {
        return Cow::Borrowed(x);
    }
    let mut out = String::with_capacity(x.len() + 8);
    for c in x.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A page of concise users for `structuredContent`: the roles and profiles
/// once each, then one row per user. About half the bytes of a list of
/// objects, and what Claude Code and VS Code show the model.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct UserTable {
    /// Role id → name, for the `role_id` column.
    pub roles: BTreeMap<String, String>,
    /// Profile id → name, for the `profile_id` column.
    pub profiles: BTreeMap<String, String>,
    /// Always `["id","full_name","email","status","role_id","profile_id"]`.
    pub columns: Vec<&'static str>,
    /// One row per user, in `columns` order; a missing role or profile is null.
    pub rows: Vec<[Option<String>; 6]>,
}

/// The columns of [`UserTable`].
pub const USER_COLUMNS: [&str; 6] = [
    "id",
    "full_name",
    "email",
    "status",
    "role_id",
    "profile_id",
];

impl UserTable {
    pub fn new<'a>(users: impl IntoIterator<Item = &'a User>) -> UserTable {
        let mut t = UserTable {
            roles: BTreeMap::new(),
            profiles: BTreeMap::new(),
            columns: USER_COLUMNS.to_vec(),
            rows: Vec::new(),
        };
        for u in users {
            if let Some(r) = &u.role {
                t.roles
                    .entry(r.id.clone())
                    .or_insert_with(|| r.name.clone());
            }
            if let Some(p) = &u.profile {
                t.profiles
                    .entry(p.id.clone())
                    .or_insert_with(|| p.name.clone());
            }
            t.rows.push([
                Some(u.id.clone()),
                Some(u.full_name.clone()),
                Some(u.email.clone()),
                Some(u.status.to_string()),
                u.role.as_ref().map(|r| r.id.clone()),
                u.profile.as_ref().map(|p| p.id.clone()),
            ]);
        }
        t
    }
}

/// Concise users as a table for the model's text channel: a header line,
/// the role and profile ids once each, then one line per user.
pub fn concise_table(total: usize, offset: usize, note: Option<&str>, users: &[&User]) -> String {
    use std::fmt::Write;
    // A name is shown alone when it stands for one id on this page;
    // otherwise as "name (id)".
    let mut ids: [BTreeMap<&str, Vec<&str>>; 2] = Default::default();
    for u in users {
        for (i, r) in [&u.role, &u.profile].into_iter().enumerate() {
            if let Some(r) = r {
                let v = ids[i].entry(r.name.as_str()).or_default();
                if !v.contains(&r.id.as_str()) {
                    v.push(r.id.as_str());
                }
            }
        }
    }
    let mut out = String::with_capacity(64 + users.len() * 110);
    let _ = writeln!(
        out,
        "{} match; {} shown from offset {offset}.{}",
        plural_users(total),
        users.len(),
        note.map(|n| format!(" {n}")).unwrap_or_default()
    );
    for (i, label) in ["roles", "profiles"].into_iter().enumerate() {
        let legend: Vec<String> = ids[i]
            .iter()
            .flat_map(|(name, list)| {
                list.iter()
                    .map(move |id| format!("{}={}", cell(name), cell(id)))
            })
            .collect();
        if !legend.is_empty() {
            let _ = writeln!(out, "{label}: {}", legend.join(", "));
        }
    }
    out.push_str("id | full_name | email | status | role | profile\n");
    let show = |i: usize, r: Option<&Ref>| match r {
        None => "-".to_string(),
        Some(r) if ids[i].get(r.name.as_str()).is_some_and(|v| v.len() > 1) => {
            format!("{} ({})", cell(&r.name), cell(&r.id))
        }
        Some(r) => cell(&r.name).into_owned(),
    };
    for u in users {
        let _ = writeln!(
            out,
            "{} | {} | {} | {} | {} | {}",
            cell(&u.id),
            cell(&u.full_name),
            cell(&u.email),
            cell(u.status.as_str()),
            show(0, u.role.as_deref()),
            show(1, u.profile.as_deref())
        );
    }
    out
}
