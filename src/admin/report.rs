//! The access review as files for people without an LLM: Markdown for the
//! evidence folder and CSV (one row per user) for spreadsheets. `bigin-mcp
//! review` writes them; JSON is the tool's own structured result.
//!
//! Both are pure (review in, text out). Every value from Zoho is escaped for
//! its format: a user's name is typed by whoever invited them, and the
//! files are opened by auditors in renderers and spreadsheets.

use std::fmt::Write as _;

use std::collections::HashMap;

use super::permissions::SENSITIVE;
use super::review::{AccessReview, Change, Changes, Counts, ProfileGroup, SnapshotUser};
use crate::zoho::Ref;

/// The CSV columns, in order: the list first, the ids of role and
/// profile (names are not unique in Zoho; ids are), the profile's sensitive
/// permissions (space-separated, or `unknown`), and last an empty
/// `decision` for the reviewer: `keep`, `deactivate`, `delete` or
/// `profile:<name>`, which `bigin-mcp apply` carries out.
pub const CSV_COLUMNS: [&str; 12] = [
    "id",
    "name",
    "email",
    "status",
    "confirmed",
    "role",
    "profile",
    "admin_level",
    "role_id",
    "profile_id",
    "sensitive",
    "decision",
];

/// A name's sort key: NFKD with combining marks dropped, lower-cased, so
/// "Émile" sorts beside "Emile" and before "Zoë" (byte order put it after).
pub fn sort_key(name: &str) -> String {
    super::text::fold_for_match(name)
}

/// One row per user (in name order ignoring accents and case, then id, so
/// two quarters' files diff line by line), after a header of
/// [`CSV_COLUMNS`]; `profiles` give the sensitive column. RFC 4180: CRLF
/// line ends, fields with a comma, quote or line break quoted, quotes
/// doubled.
pub fn csv(users: &[SnapshotUser], profiles: &[ProfileGroup]) -> String {
    let sensitive: HashMap<&str, String> = profiles
        .iter()
        .map(|p| (p.id.as_str(), p.sensitive.label()))
        .collect();
    let mut sorted: Vec<(String, &SnapshotUser)> =
        users.iter().map(|u| (sort_key(&u.name), u)).collect();
    sorted.sort_by(|(ka, a), (kb, b)| {
        ka.cmp(kb)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut out = String::with_capacity(120 * (users.len() + 1));
    push_row(&mut out, CSV_COLUMNS.iter().copied());
    for (_, u) in sorted {
        let flag = |b: bool| if b { "true" } else { "false" };
        // A profile missing from the review's list: nothing is known of it.
        let sens = u
            .profile
            .as_ref()
            .and_then(|p| sensitive.get(p.id.as_str()))
            .map(String::as_str)
            .unwrap_or(if u.profile.is_some() { "unknown" } else { "" });
        push_row(
            &mut out,
            [
                u.id.as_str(),
                &u.name,
                &u.email,
                &u.status,
                flag(u.confirmed),
                ref_name(&u.role),
                ref_name(&u.profile),
                flag(u.admin_level),
                ref_id(&u.role),
                ref_id(&u.profile),
                sens,
                "",
            ],
        );
    }
    out
}

fn ref_name(r: &Option<Ref>) -> &str {
    r.as_ref().map(|r| r.name.as_str()).unwrap_or_default()
}

fn ref_id(r: &Option<Ref>) -> &str {
    r.as_ref().map(|r| r.id.as_str()).unwrap_or_default()
}

fn push_row<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_field(f));
    }
    out.push_str("\r\n");
}

/// One CSV field. A spreadsheet runs a cell that starts with `=`, `+`, `-`
/// or `@` (or a tab or carriage return, which some strip first) as a
/// formula; a name like `=HYPERLINK(...)` would run on the auditor's
/// machine. A leading `'` makes it text (OWASP's advice).
pub fn csv_field(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// Characters a name must not carry into a document as they are: controls
/// (C0, DEL, C1), line and paragraph separators, and the bidi controls that
/// reorder what a reader sees (U+202A-U+202E, U+2066-U+2069, LRM, RLM, ALM).
pub fn is_invisible(c: char) -> bool {
    crate::admin::guard::forged_char(c)
}

/// Text for a Markdown table cell: one line, no `|` that would split the
/// cell, no markup (links, HTML, code spans) from a name in Zoho, and no
/// control or bidi character ([`is_invisible`]: shown as `U+202E`), so a
/// name cannot forge a row or reorder the text an auditor reads.
pub fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            // Other controls, separators and bidi marks would end the line
            // in some reader or reorder the row: shown, not obeyed, as the
            // MCP tables do.
            c if is_invisible(c) => {
                let _ = write!(out, "U+{:04X}", c as u32);
            }
            '\\' | '|' | '`' | '*' | '[' | ']' | '<' | '>' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Header and separator of a Markdown table.
fn table_head(out: &mut String, columns: &[&str]) {
    let _ = writeln!(out, "| {} |", columns.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(columns.len()));
}

fn table_row(out: &mut String, cells: &[String]) {
    let _ = writeln!(out, "| {} |", cells.join(" | "));
}

fn counts_cells(c: &Counts) -> Vec<String> {
    [c.active, c.unconfirmed, c.inactive, c.deleted, c.total]
        .iter()
        .map(usize::to_string)
        .collect()
}

/// The review as a Markdown document: the evidence header, user counts
/// (overall, per profile, per role), every active admin, the findings,
/// and the changes when the review was compared with an earlier one.
pub fn markdown(r: &AccessReview) -> String {
    let mut out = String::new();
    let e = &r.evidence;
    let org = if e.organization_name.is_empty() {
        format!("organisation {}", e.organization_id)
    } else {
        e.organization_name.clone()
    };
    let _ = writeln!(out, "# Access review: {}\n", cell(&org));
    table_head(&mut out, &["Evidence", "Value"]);
    let mut fact = |k: &str, v: String| table_row(&mut out, &[k.to_string(), v]);
    fact("Organisation", cell(&e.organization_name));
    fact("Organisation id", cell(&e.organization_id));
    fact("Data centre", cell(&e.data_centre));
    fact("Generated at (UTC)", cell(&e.generated_at));
    fact("Zoho API credits used", e.credits_used.to_string());
    fact("From cache", yes_no(e.from_cache).into());
    for p in &e.unjudged_profiles {
        fact("Profile not judged", cell(p));
    }
    if let Some(p) = &r.snapshot {
        fact("Snapshot", cell(p));
    }
    if let Some(h) = &e.snapshot_sha256 {
        fact("Snapshot SHA-256", cell(h));
    }

    let _ = writeln!(out, "\n## Users\n");
    let status_columns = ["Active", "Unconfirmed", "Inactive", "Deleted", "Total"];
    table_head(&mut out, &status_columns);
    table_row(&mut out, &counts_cells(&r.users));
    let _ = writeln!(
        out,
        "\nUnconfirmed users are active but never accepted their invitation; they are counted as active too."
    );

    let _ = writeln!(out, "\n## Profiles\n");
    let mut columns = vec!["Profile", "Administrator-level"];
    columns.extend(status_columns);
    table_head(&mut out, &columns);
    for p in &r.profiles {
        let mut row = vec![cell(&p.name), yes_no(p.admin_level).to_string()];
        row.extend(counts_cells(&p.users));
        table_row(&mut out, &row);
    }

    sensitive_section(&mut out, &r.profiles);

    let _ = writeln!(out, "\n## Roles\n");
    let mut columns = vec!["Role", "Reports to"];
    columns.extend(status_columns);
    table_head(&mut out, &columns);
    for role in &r.roles {
        let mut row = vec![
            cell(&role.name),
            role.reporting_to.as_deref().map(cell).unwrap_or_default(),
        ];
        row.extend(counts_cells(&role.users));
        table_row(&mut out, &row);
    }

    let _ = writeln!(out, "\n## Administrators ({})\n", r.admins.rows.len());
    let _ = writeln!(
        out,
        "Every active user holding an administrator-level profile, confirmed or not.\n"
    );
    if r.admins.rows.is_empty() {
        let _ = writeln!(out, "None.");
    } else {
        table_head(
            &mut out,
            &["ID", "Name", "Email", "Confirmed", "Profile", "Role"],
        );
        for (id, name, email, confirmed, profile, role) in &r.admins.rows {
            table_row(
                &mut out,
                &[
                    cell(id),
                    cell(name),
                    cell(email),
                    yes_no(*confirmed).into(),
                    cell(profile),
                    cell(role),
                ],
            );
        }
    }

    let _ = writeln!(out, "\n## Findings ({})\n", r.findings.len());
    if r.findings.is_empty() {
        let _ = writeln!(out, "None.");
    } else {
        table_head(&mut out, &["Severity", "Kind", "Message", "User ID"]);
        for f in &r.findings {
            table_row(
                &mut out,
                &[
                    cell(f.severity.as_str()),
                    cell(f.kind.as_str()),
                    cell(&f.message),
                    f.user_id.as_deref().map(cell).unwrap_or_default(),
                ],
            );
        }
    }

    if let Some(c) = &r.changes {
        changes(&mut out, c);
    }
    out
}

/// Which profile grants which sensitive permission, with its holders.
fn sensitive_section(out: &mut String, profiles: &[ProfileGroup]) {
    let _ = writeln!(out, "\n## Sensitive permissions\n");
    let _ = writeln!(
        out,
        "export and mass_delete in a profile held by users in a leaf role (one no role reports to) is a high finding. unknown: the permissions could not be read.\n"
    );
    let mut columns = vec!["Profile", "Active holders"];
    columns.extend(SENSITIVE);
    table_head(out, &columns);
    for p in profiles {
        let mut row = vec![cell(&p.name), p.users.active.to_string()];
        row.extend(SENSITIVE.iter().map(|c| {
            match p.sensitive.grants(c) {
                Some(true) => "yes",
                Some(false) => "no",
                None => "unknown",
            }
            .to_string()
        }));
        table_row(out, &row);
    }
}

fn changes(out: &mut String, c: &Changes) {
    let _ = writeln!(out, "\n## Changes since {}\n", cell(&c.since));
    let groups: [(&str, &[Change]); 7] = [
        ("Added", &c.added),
        ("Removed", &c.removed),
        ("Status changed", &c.status),
        ("Profile changed", &c.profile),
        ("Role changed", &c.role),
        ("Gained an administrator-level profile", &c.gained_admin),
        ("Lost an administrator-level profile", &c.lost_admin),
    ];
    if groups.iter().all(|(_, v)| v.is_empty()) {
        let _ = writeln!(out, "No changes.");
        return;
    }
    for (title, list) in groups {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title} ({})\n", list.len());
        table_head(out, &["ID", "Name", "Email", "From", "To"]);
        for ch in list {
            let opt = |v: &Option<String>| v.as_deref().map(cell).unwrap_or_default();
            table_row(
                out,
                &[
                    cell(&ch.id),
                    cell(&ch.name),
                    cell(&ch.email),
                    opt(&ch.from),
                    opt(&ch.to),
                ],
            );
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, name: &str, email: &str) -> SnapshotUser {
        SnapshotUser {
            id: id.into(),
            name: name.into(),
            email: email.into(),
            status: "active".into(),
            confirmed: true,
            role: Some(Ref {
                id: "7".into(),
                name: "Sales, EMEA".into(),
            }),
            profile: None,
            admin_level: false,
        }
    }

    #[test]
    fn csv_quotes_per_rfc_4180_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(
            csv_field("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_field("a=b"), "a=b", "only a leading sign is a formula");
    }

    #[test]
    fn csv_has_a_header_and_one_sorted_row_per_user() {
        let out = csv(
            &[
                user("2", "Zed", "z@x.test"),
                user("1", "=cmd|' /C calc'!A0", "a@x.test"),
            ],
            &[],
        );
        let lines: Vec<&str> = out.split("\r\n").collect();
        assert_eq!(lines[0], CSV_COLUMNS.join(","));
        assert_eq!(
            lines[1],
            "1,'=cmd|' /C calc'!A0,a@x.test,active,true,\"Sales, EMEA\",,false,7,,,"
        );
        assert!(lines[2].starts_with("2,Zed,"));
        assert_eq!(lines[3], "", "the last row ends with CRLF too");
    }

    #[test]
    fn markdown_cells_cannot_break_the_table_or_add_markup() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(
            cell("[x](javascript:1) <img>"),
            "\\[x\\](javascript:1) \\<img\\>"
        );
    }

    #[test]
    fn markdown_cells_show_controls_separators_and_bidi_marks_as_escapes() {
        let forged = "Ann\u{2028}Lee\u{202e}rotartsinimdA\u{1b}[2J\u{7f}\u{85}\u{2066}";
        let c = cell(forged);
        assert_eq!(
            c,
            "AnnU+2028LeeU+202ErotartsinimdAU+001B\\[2JU+007FU+0085U+2066"
        );
        assert!(!c.chars().any(crate::admin::guard::forged_char), "{c}");
    }

    #[test]
    fn names_sort_ignoring_accents_and_case() {
        let out = csv(
            &[
                user("1", "Zoë", "z@x.test"),
                user("2", "Émile", "e@x.test"),
                user("3", "adam", "a@x.test"),
            ],
            &[],
        );
        let firsts: Vec<&str> = out
            .split("\r\n")
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|l| l.split(',').nth(1).unwrap())
            .collect();
        assert_eq!(firsts, vec!["adam", "Émile", "Zoë"]);
        assert!(out.starts_with(&CSV_COLUMNS.join(",")));
        assert!(CSV_COLUMNS.ends_with(&["sensitive", "decision"]));
    }

    #[test]
    fn markdown_cells_show_control_and_bidi_characters_as_code_points() {
        assert_eq!(cell("Ann\u{202E}gnp.exe"), "AnnU+202Egnp.exe");
        assert_eq!(cell("a\u{1b}[31mb"), "aU+001B\\[31mb");
        assert_eq!(cell("x\u{2028}y\u{85}z\u{2067}"), "xU+2028yU+0085zU+2067");
    }
}
