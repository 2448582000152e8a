//! The correlation work the server does so the model does not have to:
//! concise users, permission summaries and the access review.
//!
//! Everything here is pure (records in, summaries out) so it is tested
//! without HTTP. It reads Zoho's JSON defensively: a missing field is
//! "unknown", never a panic.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::zoho::ZohoId;

/// `{id, name}` of a role or profile.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq, Eq)]
pub struct Ref {
    pub id: String,
    pub name: String,
}

/// The fields an admin scans a user by.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ConciseUser {
    pub id: String,
    pub full_name: String,
    pub email: String,
    pub status: String,
    pub role: Option<Ref>,
    pub profile: Option<Ref>,
}

/// A string field, or a number field as its digits (ids come both ways).
pub(crate) fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn reference(v: &Value, key: &str) -> Option<Ref> {
    let r = v.get(key)?;
    if !r.is_object() {
        return None;
    }
    Some(Ref {
        id: s(r, "id"),
        name: s(r, "name"),
    })
}

/// The user's concise form.
pub fn concise_user(u: &Value) -> ConciseUser {
    let mut full_name = s(u, "full_name");
    if full_name.is_empty() {
        full_name = format!("{} {}", s(u, "first_name"), s(u, "last_name"))
            .trim()
            .to_string();
    }
    ConciseUser {
        id: s(u, "id"),
        full_name,
        email: s(u, "email"),
        status: s(u, "status"),
        role: reference(u, "role"),
        profile: reference(u, "profile"),
    }
}

/// The fields the filters, concise form and review read, parsed from one
/// user's raw JSON into a small value (about a tenth of the full record).
pub fn lite_user(raw: &serde_json::value::RawValue) -> Result<Value, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Lite {
        #[serde(default)]
        id: Value,
        full_name: Option<String>,
        first_name: Option<String>,
        last_name: Option<String>,
        email: Option<String>,
        status: Option<String>,
        confirm: Option<bool>,
        role: Option<Value>,
        profile: Option<Value>,
    }
    let l: Lite = serde_json::from_str(raw.get())?;
    let pick = |r: Option<Value>| match r {
        Some(Value::Object(o)) => {
            serde_json::json!({"id": o.get("id").cloned().unwrap_or(Value::Null), "name": o.get("name").cloned().unwrap_or(Value::Null)})
        }
        _ => Value::Null,
    };
    Ok(serde_json::json!({
        "id": l.id, "full_name": l.full_name, "first_name": l.first_name, "last_name": l.last_name,
        "email": l.email, "status": l.status, "confirm": l.confirm,
        "role": pick(l.role), "profile": pick(l.profile),
    }))
}

/// "1 user", "2 users".
pub fn plural_users(n: usize) -> String {
    if n == 1 {
        "1 user".into()
    } else {
        format!("{n} users")
    }
}

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

/// Concise users as a table for the model: a header line, the role and
/// profile ids once each, then one line per user. It carries exactly the
/// data of the structured content in about half the bytes.
pub fn concise_table(
    total: usize,
    offset: usize,
    note: Option<&str>,
    users: &[ConciseUser],
) -> String {
    use std::collections::BTreeMap;
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
    let show = |i: usize, r: &Option<Ref>| match r {
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
            cell(&u.status),
            show(0, &u.role),
            show(1, &u.profile)
        );
    }
    out
}

/// Whether the user accepted the invitation (`confirm`); unknown counts as confirmed.
pub fn is_confirmed(u: &Value) -> bool {
    u.get("confirm").and_then(Value::as_bool).unwrap_or(true)
}

/// Finds a record (role or profile) by id or case-insensitive name. On a
/// miss, the error lists the valid names so the caller can fix the call.
pub fn resolve<'a>(
    records: &'a [Value],
    wanted: &str,
    kind: &str,
    list_tool: &str,
) -> Result<&'a Value, String> {
    let w = wanted.trim();
    let found = if ZohoId::parse(w, "id").is_ok() {
        records.iter().find(|r| s(r, "id") == w)
    } else {
        None
    }
    .or_else(|| {
        records.iter().find(|r| {
            s(r, "name").eq_ignore_ascii_case(w) || s(r, "display_label").eq_ignore_ascii_case(w)
        })
    });
    found.ok_or_else(|| {
        let mut names: Vec<String> = records.iter().map(|r| s(r, "name")).collect();
        names.sort();
        format!(
            "unknown {kind} '{w}'. Valid {kind}s: {}. Pass a name (any case) or an id; {list_tool} lists them with ids.",
            names.join(", ")
        )
    })
}

/// A profile's permissions in the terms an auditor asks about.
#[derive(Debug, Clone, Default, Serialize, JsonSchema, PartialEq, Eq)]
pub struct PermissionSummary {
    /// Setup / organisation settings.
    pub administration: bool,
    pub user_management: bool,
    pub role_profile_management: bool,
    pub export: bool,
    pub import: bool,
    pub mass_delete: bool,
    pub mass_update: bool,
    pub data_backup: bool,
    pub api_access: bool,
    /// Module → enabled actions (view, create, edit, delete).
    pub modules: BTreeMap<String, Vec<String>>,
    /// Other enabled permissions, by label.
    pub other: Vec<String>,
    pub enabled: usize,
    pub total: usize,
}

fn squash(x: &str) -> String {
    x.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn module_name(p: &Value) -> Option<String> {
    match p.get("module") {
        Some(Value::String(m)) if !m.is_empty() => Some(m.clone()),
        Some(Value::Object(o)) => o
            .get("api_name")
            .or_else(|| o.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    }
}

/// Summarises `permissions_details` (Zoho's raw dump can be hundreds of KB).
pub fn summarize_permissions(profile: &Value) -> Option<PermissionSummary> {
    let perms = profile.get("permissions_details")?.as_array()?;
    let mut out = PermissionSummary {
        total: perms.len(),
        ..Default::default()
    };
    for p in perms {
        if p.get("enabled").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        out.enabled += 1;
        let name = s(p, "name");
        let label = s(p, "display_label");
        let key = format!("{} {}", squash(&name), squash(&label));
        if let Some(module) = module_name(p) {
            let action = ["view", "create", "edit", "delete"]
                .into_iter()
                .find(|a| squash(&name).contains(a) || squash(&label).starts_with(a));
            let entry = out.modules.entry(module).or_default();
            match action {
                Some(a) if !entry.iter().any(|x| x == a) => entry.push(a.to_string()),
                Some(_) => {}
                None => entry.push(if label.is_empty() { name } else { label }),
            }
            continue;
        }
        let flags: [(&[&str], &mut bool); 9] = [
            (&["manageusers", "usermanagement"], &mut out.user_management),
            (
                &["manageroles", "manageprofiles", "rolesandprofiles"],
                &mut out.role_profile_management,
            ),
            (
                &[
                    "setup",
                    "managesettings",
                    "administ",
                    "customiz",
                    "managecompany",
                ],
                &mut out.administration,
            ),
            (&["massdelete"], &mut out.mass_delete),
            (&["massupdate", "masstransfer"], &mut out.mass_update),
            (&["export"], &mut out.export),
            (&["import"], &mut out.import),
            (&["backup"], &mut out.data_backup),
            (&["apiaccess", "impliedapi", "restapi"], &mut out.api_access),
        ];
        let mut matched = false;
        for (needles, flag) in flags {
            if needles.iter().any(|n| key.contains(n)) {
                *flag = true;
                matched = true;
            }
        }
        if !matched {
            out.other.push(if label.is_empty() { name } else { label });
        }
    }
    for actions in out.modules.values_mut() {
        actions.sort();
    }
    out.other.sort();
    Some(out)
}

/// Why a profile counts as administrator-level (empty: it does not).
pub fn admin_reasons(name: &str, summary: Option<&PermissionSummary>) -> Vec<String> {
    let mut r = Vec::new();
    if name.eq_ignore_ascii_case("administrator") {
        r.push("the built-in Administrator profile".to_string());
    }
    if let Some(p) = summary {
        if p.administration {
            r.push("can change organisation settings".into());
        }
        if p.user_management {
            r.push("can manage users".into());
        }
        if p.role_profile_management {
            r.push("can manage roles or profiles".into());
        }
    }
    r
}

/// A profile as the review sees it.
#[derive(Debug, Clone)]
pub struct ProfileFacts {
    pub id: String,
    pub name: String,
    /// None when the permissions could not be read.
    pub summary: Option<PermissionSummary>,
}

/// User counts by status.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Counts {
    pub total: usize,
    pub active: usize,
    pub inactive: usize,
    pub deleted: usize,
    /// Active but never accepted the invitation.
    pub unconfirmed: usize,
}

impl Counts {
    fn add(&mut self, u: &Value) {
        self.total += 1;
        match s(u, "status").as_str() {
            "active" => {
                self.active += 1;
                if !is_confirmed(u) {
                    self.unconfirmed += 1;
                }
            }
            "inactive" => self.inactive += 1,
            "deleted" => self.deleted += 1,
            _ => {}
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProfileGroup {
    pub id: String,
    pub name: String,
    pub admin_level: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub admin_reasons: Vec<String>,
    pub users: Counts,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RoleGroup {
    pub id: String,
    pub name: String,
    pub reporting_to: Option<String>,
    /// 0 for the top of the hierarchy.
    pub depth: usize,
    pub users: Counts,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Finding {
    /// high, medium, low or info.
    pub severity: String,
    pub kind: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<ConciseUser>,
}

/// The quarterly access review in one answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccessReview {
    pub users: Counts,
    pub profiles: Vec<ProfileGroup>,
    pub roles: Vec<RoleGroup>,
    /// Active users holding an administrator-level profile.
    pub active_admins: Vec<ConciseUser>,
    /// Most severe first.
    pub findings: Vec<Finding>,
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "high" => 0,
        "medium" => 1,
        "low" => 2,
        _ => 3,
    }
}

/// Correlates users, roles and profiles.
pub fn access_review(users: &[Value], roles: &[Value], profiles: &[ProfileFacts]) -> AccessReview {
    let mut findings = Vec::new();
    let mut finding = |severity: &str, kind: &str, message: String, user: Option<&Value>| {
        findings.push(Finding {
            severity: severity.into(),
            kind: kind.into(),
            message,
            user: user.map(concise_user),
        })
    };

    let admin: HashMap<&str, Vec<String>> = profiles
        .iter()
        .map(|p| (p.id.as_str(), admin_reasons(&p.name, p.summary.as_ref())))
        .collect();
    let is_admin = |u: &Value| {
        reference(u, "profile")
            .is_some_and(|p| admin.get(p.id.as_str()).is_some_and(|r| !r.is_empty()))
    };

    let mut totals = Counts::default();
    let mut by_profile: HashMap<String, Counts> = HashMap::new();
    let mut by_role: HashMap<String, Counts> = HashMap::new();
    let role_ids: HashMap<String, &Value> = roles.iter().map(|r| (s(r, "id"), r)).collect();
    let mut active_admins = Vec::new();

    for u in users {
        totals.add(u);
        let status = s(u, "status");
        let who = format!("{} <{}>", concise_user(u).full_name, s(u, "email"));
        match reference(u, "profile") {
            Some(p) => {
                by_profile.entry(p.id.clone()).or_default().add(u);
                if status != "deleted" && !admin.contains_key(p.id.as_str()) {
                    finding(
                        "medium",
                        "unknown_profile",
                        format!(
                            "{who} holds profile '{}' ({}), which is not in the profile list",
                            p.name, p.id
                        ),
                        Some(u),
                    );
                }
            }
            None if status != "deleted" => finding(
                "medium",
                "no_profile",
                format!("{who} has no profile on record"),
                Some(u),
            ),
            None => {}
        }
        match reference(u, "role") {
            Some(r) => {
                by_role.entry(r.id.clone()).or_default().add(u);
                if status != "deleted" && !role_ids.contains_key(&r.id) {
                    finding(
                        "low",
                        "unknown_role",
                        format!(
                            "{who} holds role '{}' ({}), which is not in the role list",
                            r.name, r.id
                        ),
                        Some(u),
                    );
                }
            }
            None if status != "deleted" => finding(
                "low",
                "no_role",
                format!("{who} has no role on record"),
                Some(u),
            ),
            None => {}
        }
        if !is_admin(u) {
            continue;
        }
        let profile = reference(u, "profile").map(|p| p.name).unwrap_or_default();
        match status.as_str() {
            "active" if !is_confirmed(u) => finding(
                "high",
                "unconfirmed_admin",
                format!(
                    "{who} never accepted the invitation but holds the administrator-level profile '{profile}'; cancel the invitation or give a lower profile"
                ),
                Some(u),
            ),
            "active" => active_admins.push(concise_user(u)),
            "inactive" => finding(
                "medium",
                "inactive_admin",
                format!(
                    "{who} is deactivated but still holds the administrator-level profile '{profile}' and regains it if re-activated; lower the profile or delete the user"
                ),
                Some(u),
            ),
            _ => {}
        }
    }

    let threshold = (totals.active / 10).max(3);
    if active_admins.len() > threshold {
        finding(
            "medium",
            "many_admins",
            format!(
                "{} active users hold administrator-level profiles ({}% of {} active users); least privilege suggests at most {threshold}",
                active_admins.len(),
                active_admins.len() * 100 / totals.active.max(1),
                totals.active
            ),
            None,
        );
    }
    let unconfirmed_plain = totals.unconfirmed;
    if unconfirmed_plain > 0 {
        finding(
            "info",
            "unconfirmed_users",
            format!(
                "{unconfirmed_plain} active users never accepted their invitation; list them with bigin_list_users type=NotConfirmedUsers"
            ),
            None,
        );
    }
    for p in profiles {
        if p.summary.is_none() {
            finding(
                "info",
                "permissions_unknown",
                format!(
                    "the permissions of profile '{}' could not be read; it is judged by name only",
                    p.name
                ),
                None,
            );
        }
        if by_profile.get(&p.id).is_none_or(|c| c.active == 0) {
            finding(
                "info",
                "unused_profile",
                format!("no active user holds profile '{}'", p.name),
                None,
            );
        }
    }

    let depth_of = |id: &str| {
        let mut depth = 0;
        let mut cur = role_ids.get(id).copied();
        while let Some(r) = cur.and_then(|r| reference(r, "reporting_to")) {
            depth += 1;
            if depth > roles.len() {
                break; // a cycle in bad data; stop rather than spin
            }
            cur = role_ids.get(&r.id).copied();
        }
        depth
    };

    let profiles_out = profiles
        .iter()
        .map(|p| ProfileGroup {
            id: p.id.clone(),
            name: p.name.clone(),
            admin_level: admin.get(p.id.as_str()).is_some_and(|r| !r.is_empty()),
            admin_reasons: admin.get(p.id.as_str()).cloned().unwrap_or_default(),
            users: by_profile.get(&p.id).cloned().unwrap_or_default(),
        })
        .collect();
    let mut roles_out: Vec<RoleGroup> = roles
        .iter()
        .map(|r| {
            let id = s(r, "id");
            RoleGroup {
                depth: depth_of(&id),
                users: by_role.get(&id).cloned().unwrap_or_default(),
                name: s(r, "name"),
                reporting_to: reference(r, "reporting_to").map(|x| x.name),
                id,
            }
        })
        .collect();
    roles_out.sort_by(|a, b| a.depth.cmp(&b.depth).then_with(|| a.name.cmp(&b.name)));
    findings.sort_by_key(|f| severity_rank(&f.severity));
    active_admins.sort_by(|a, b| a.full_name.cmp(&b.full_name));
    AccessReview {
        users: totals,
        profiles: profiles_out,
        roles: roles_out,
        active_admins,
        findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(id: &str, status: &str, confirm: bool, profile: &str, role: &str) -> Value {
        json!({"id": id, "full_name": format!("User {id}"), "email": format!("u{id}@x.test"), "status": status,
               "confirm": confirm, "profile": {"id": profile, "name": if profile == "10" {"Administrator"} else {"Standard"}},
               "role": {"id": role, "name": "R"}})
    }

    fn perms(enabled: &[&str]) -> Value {
        let all = [
            "Crm_Implied_Manage_Users",
            "Crm_Implied_Export",
            "Crm_Implied_Mass_Delete",
            "Crm_Implied_Setup",
            "Crm_Implied_Something_New",
        ];
        let mut list: Vec<Value> = all
            .iter()
            .map(|n| json!({"name": n, "display_label": n.replace("Crm_Implied_", "").replace('_', " "), "module": null, "enabled": enabled.contains(n)}))
            .collect();
        list.push(json!({"name": "Crm_Implied_View_Contacts", "display_label": "View", "module": "Contacts", "enabled": true}));
        list.push(json!({"name": "Crm_Implied_Delete_Contacts", "display_label": "Delete", "module": {"api_name": "Contacts"}, "enabled": true}));
        json!({"permissions_details": list})
    }

    #[test]
    fn summarises_permissions_for_auditors() {
        let p = summarize_permissions(&perms(&["Crm_Implied_Export", "Crm_Implied_Something_New"]))
            .unwrap();
        assert!(p.export && !p.user_management && !p.mass_delete && !p.administration);
        assert_eq!(p.modules["Contacts"], vec!["delete", "view"]);
        assert_eq!(p.other, vec!["Something New"]);
        assert_eq!((p.enabled, p.total), (4, 7));
        let p = summarize_permissions(&perms(&["Crm_Implied_Manage_Users", "Crm_Implied_Setup"]))
            .unwrap();
        assert!(p.user_management && p.administration);
        assert_eq!(admin_reasons("Helpdesk", Some(&p)).len(), 2);
        assert!(summarize_permissions(&json!({"name": "x"})).is_none());
    }

    #[test]
    fn the_concise_table_carries_every_field_and_each_id_once() {
        let users: Vec<ConciseUser> = [
            user("1", "active", true, "10", "100"),
            user("2", "inactive", true, "11", "100"),
        ]
        .iter()
        .map(concise_user)
        .collect();
        let t = concise_table(7, 0, Some("page on"), &users);
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
        // Two roles that share a name keep their ids on each line.
        let mut twins = users.clone();
        twins[1].role = Some(Ref {
            id: "101".into(),
            name: "R".into(),
        });
        let t = concise_table(2, 0, None, &twins);
        assert!(
            t.contains("| R (100) |") && t.contains("| R (101) |"),
            "{t}"
        );
    }

    #[test]
    fn resolves_names_and_ids_and_lists_valid_names_on_a_miss() {
        let roles = vec![
            json!({"id": "1", "name": "CEO"}),
            json!({"id": "2", "name": "Manager"}),
        ];
        assert_eq!(
            s(
                resolve(&roles, "manager", "role", "bigin_list_roles").unwrap(),
                "id"
            ),
            "2"
        );
        assert_eq!(
            s(
                resolve(&roles, "1", "role", "bigin_list_roles").unwrap(),
                "name"
            ),
            "CEO"
        );
        let e = resolve(&roles, "Boss", "role", "bigin_list_roles").unwrap_err();
        assert!(e.contains("'Boss'") && e.contains("CEO, Manager"), "{e}");
    }

    #[test]
    fn review_flags_inactive_and_unconfirmed_admins() {
        let users = vec![
            user("1", "active", true, "10", "100"),
            user("2", "inactive", true, "10", "101"),
            user("3", "active", false, "10", "101"),
            user("4", "active", true, "11", "101"),
            user("5", "deleted", true, "10", "101"),
            user("6", "active", true, "99", "101"),
        ];
        let roles = vec![
            json!({"id": "100", "name": "CEO", "reporting_to": null}),
            json!({"id": "101", "name": "Rep", "reporting_to": {"id": "100", "name": "CEO"}}),
        ];
        let profiles = vec![
            ProfileFacts {
                id: "10".into(),
                name: "Administrator".into(),
                summary: None,
            },
            ProfileFacts {
                id: "11".into(),
                name: "Standard".into(),
                summary: Some(PermissionSummary::default()),
            },
        ];
        let r = access_review(&users, &roles, &profiles);
        assert_eq!(
            (
                r.users.total,
                r.users.active,
                r.users.inactive,
                r.users.deleted,
                r.users.unconfirmed
            ),
            (6, 4, 1, 1, 1)
        );
        assert_eq!(
            r.active_admins
                .iter()
                .map(|u| u.id.as_str())
                .collect::<Vec<_>>(),
            vec!["1"]
        );
        let kinds: Vec<(&str, &str)> = r
            .findings
            .iter()
            .map(|f| (f.severity.as_str(), f.kind.as_str()))
            .collect();
        assert_eq!(kinds[0], ("high", "unconfirmed_admin"));
        assert!(kinds.contains(&("medium", "inactive_admin")));
        assert!(kinds.contains(&("medium", "unknown_profile")));
        assert!(
            !r.findings
                .iter()
                .any(|f| f.user.as_ref().is_some_and(|u| u.id == "5")),
            "deleted users are not findings"
        );
        let rep = r.roles.iter().find(|x| x.name == "Rep").unwrap();
        assert_eq!((rep.depth, rep.users.total), (1, 5));
        assert!(r.profiles[0].admin_level && !r.profiles[1].admin_level);
    }
}
