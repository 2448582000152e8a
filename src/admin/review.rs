//! The access review: users correlated with roles and profiles, every
//! active holder of an administrator-level profile, findings, and what
//! changed since an earlier review (from its snapshot).
//!
//! Everything here is pure (records in, review out) so it is tested without
//! HTTP. Its output stays small whatever the organisation's size: counts per
//! profile and role, the admins, and findings; never one line per user.

use std::collections::{BTreeMap, HashMap};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::permissions::{PermissionSummary, admin_reasons};
use crate::zoho::{Ref, Role, User, UserStatus};

/// A profile as the review sees it.
#[derive(Debug, Clone)]
pub struct ProfileFacts {
    pub id: String,
    pub name: String,
    /// None when the permissions could not be read.
    pub summary: Option<PermissionSummary>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// User counts by status; zeros are left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct Counts {
    #[serde(default)]
    pub total: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub active: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub inactive: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deleted: usize,
    /// Active but never accepted the invitation.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unconfirmed: usize,
}

impl Counts {
    fn add(&mut self, u: &User) {
        self.total += 1;
        match u.status {
            UserStatus::Active => {
                self.active += 1;
                if !u.is_confirmed() {
                    self.unconfirmed += 1;
                }
            }
            UserStatus::Inactive => self.inactive += 1,
            UserStatus::Deleted => self.deleted += 1,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporting_to: Option<String>,
    /// 0 for the top of the hierarchy.
    pub depth: usize,
    pub users: Counts,
}

/// How much a finding matters; ordered, so `High > Medium > Low > Info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finding is about; its `snake_case` name is what callers match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    UnknownProfile,
    NoProfile,
    UnknownRole,
    NoRole,
    UnconfirmedAdmin,
    InactiveAdmin,
    UnknownStatusAdmin,
    ManyAdmins,
    UnconfirmedUsers,
    PermissionsUnknown,
    UnusedProfile,
    /// `since` found no earlier review to compare with.
    NoBaseline,
    /// The review could not be stored as a snapshot.
    SnapshotNotSaved,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::UnknownProfile => "unknown_profile",
            FindingKind::NoProfile => "no_profile",
            FindingKind::UnknownRole => "unknown_role",
            FindingKind::NoRole => "no_role",
            FindingKind::UnconfirmedAdmin => "unconfirmed_admin",
            FindingKind::InactiveAdmin => "inactive_admin",
            FindingKind::UnknownStatusAdmin => "unknown_status_admin",
            FindingKind::ManyAdmins => "many_admins",
            FindingKind::UnconfirmedUsers => "unconfirmed_users",
            FindingKind::PermissionsUnknown => "permissions_unknown",
            FindingKind::UnusedProfile => "unused_profile",
            FindingKind::NoBaseline => "no_baseline",
            FindingKind::SnapshotNotSaved => "snapshot_not_saved",
        }
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// The listed output schema keeps both as plain strings (as before they
// were typed), so `tools/list` does not change.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Finding {
    /// high, medium, low or info.
    #[schemars(with = "String")]
    pub severity: Severity,
    #[schemars(with = "String")]
    pub kind: FindingKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// Every active holder of an administrator-level profile, as a table.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AdminTable {
    /// Always `["id","full_name","email","confirmed","profile","role"]`.
    pub columns: Vec<&'static str>,
    /// One row per admin, in `columns` order (confirmed is true/false).
    pub rows: Vec<(String, String, String, bool, String, String)>,
}

/// Where the review came from: what an auditor files with it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Evidence {
    /// UTC, RFC 3339.
    pub generated_at: String,
    pub organization_id: String,
    pub organization_name: String,
    /// us, eu, in, au, jp, cn, sa, ca; or the API domain when it is none of them.
    pub data_centre: String,
    /// Zoho API credits this review used (one per request; 0 from cache).
    pub credits_used: u32,
    /// Every record came from this session's cache (younger than its TTL).
    pub from_cache: bool,
}

/// The access review, as the tool returns it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccessReview {
    pub evidence: Evidence,
    pub users: Counts,
    pub profiles: Vec<ProfileGroup>,
    pub roles: Vec<RoleGroup>,
    /// Every active user holding an administrator-level profile, confirmed or not.
    pub admins: AdminTable,
    /// Most severe first.
    pub findings: Vec<Finding>,
    /// Set with `since`: what changed from that snapshot to this review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
    /// Where this review's snapshot was stored, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

impl Finding {
    /// A finding of severity `info` about no one user.
    pub fn info(kind: FindingKind, message: String) -> Finding {
        Finding {
            severity: Severity::Info,
            kind,
            message,
            user_id: None,
        }
    }
}

impl AccessReview {
    /// Whether any finding is high-severity (the CLI's exit code).
    pub fn has_high(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::High)
    }
}

/// The review without its evidence header (the caller knows where the data
/// came from), plus each user's row for the snapshot.
pub struct Computed {
    pub users: Counts,
    pub profiles: Vec<ProfileGroup>,
    pub roles: Vec<RoleGroup>,
    pub admins: AdminTable,
    pub findings: Vec<Finding>,
    /// Whether each user (in the order given) holds an administrator-level
    /// profile: with the users, what a snapshot stores.
    pub admin_flags: Vec<bool>,
}

/// Correlates users, roles and profiles.
pub fn access_review(users: &[User], roles: &[Role], profiles: &[ProfileFacts]) -> Computed {
    let mut findings = Vec::new();
    let mut finding =
        |severity: Severity, kind: FindingKind, message: String, user: Option<&User>| {
            findings.push(Finding {
                severity,
                kind,
                message,
                user_id: user.map(|u| u.id.clone()),
            })
        };

    let admin: HashMap<&str, Vec<String>> = profiles
        .iter()
        .map(|p| (p.id.as_str(), admin_reasons(&p.name, p.summary.as_ref())))
        .collect();
    // A profile missing from the list is judged by its name, so the
    // built-in Administrator is never left out of the admins.
    let is_admin = |p: &Ref| match admin.get(p.id.as_str()) {
        Some(r) => !r.is_empty(),
        None => !admin_reasons(&p.name, None).is_empty(),
    };

    let mut totals = Counts::default();
    let mut by_profile: HashMap<&str, Counts> = HashMap::new();
    let mut by_role: HashMap<&str, Counts> = HashMap::new();
    let role_ids: HashMap<&str, &Role> = roles.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut admin_rows = Vec::new();
    let mut admin_flags = Vec::with_capacity(users.len());

    for u in users {
        totals.add(u);
        let live = u.status != UserStatus::Deleted;
        let who = format!("{} <{}>", u.full_name, u.email);
        match u.profile.as_deref() {
            Some(p) => {
                by_profile.entry(p.id.as_str()).or_default().add(u);
                if live && !admin.contains_key(p.id.as_str()) {
                    finding(
                        Severity::Medium,
                        FindingKind::UnknownProfile,
                        format!(
                            "{who} holds profile '{}' ({}), which is not in the profile list",
                            p.name, p.id
                        ),
                        Some(u),
                    );
                }
            }
            None if live => finding(
                Severity::Medium,
                FindingKind::NoProfile,
                format!("{who} has no profile on record"),
                Some(u),
            ),
            None => {}
        }
        match u.role.as_deref() {
            Some(r) => {
                by_role.entry(r.id.as_str()).or_default().add(u);
                if live && !role_ids.contains_key(r.id.as_str()) {
                    finding(
                        Severity::Low,
                        FindingKind::UnknownRole,
                        format!(
                            "{who} holds role '{}' ({}), which is not in the role list",
                            r.name, r.id
                        ),
                        Some(u),
                    );
                }
            }
            None if live => finding(
                Severity::Low,
                FindingKind::NoRole,
                format!("{who} has no role on record"),
                Some(u),
            ),
            None => {}
        }
        let admin_level = u.profile.as_deref().is_some_and(is_admin);
        admin_flags.push(admin_level);
        if !admin_level {
            continue;
        }
        let profile = u
            .profile
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default();
        match &u.status {
            UserStatus::Active => {
                if !u.is_confirmed() {
                    finding(
                        Severity::High,
                        FindingKind::UnconfirmedAdmin,
                        format!(
                            "{who} never accepted the invitation but holds the administrator-level profile '{profile}'; cancel the invitation or give a lower profile"
                        ),
                        Some(u),
                    );
                }
                admin_rows.push((
                    u.id.clone(),
                    u.full_name.clone(),
                    u.email.clone(),
                    u.is_confirmed(),
                    profile,
                    u.role.as_ref().map(|r| r.name.clone()).unwrap_or_default(),
                ));
            }
            UserStatus::Inactive => finding(
                Severity::Medium,
                FindingKind::InactiveAdmin,
                format!(
                    "{who} is deactivated but still holds the administrator-level profile '{profile}' and regains it if re-activated; lower the profile or delete the user"
                ),
                Some(u),
            ),
            UserStatus::Other(s) => finding(
                Severity::Medium,
                FindingKind::UnknownStatusAdmin,
                format!(
                    "{who} has status '{s}', which this server does not know, and holds the administrator-level profile '{profile}'; check the user in Bigin"
                ),
                Some(u),
            ),
            UserStatus::Unknown => finding(
                Severity::Medium,
                FindingKind::UnknownStatusAdmin,
                format!(
                    "{who} has no status on record and holds the administrator-level profile '{profile}'; check the user in Bigin"
                ),
                Some(u),
            ),
            UserStatus::Deleted => {}
        }
    }

    let threshold = (totals.active / 10).max(3);
    if admin_rows.len() > threshold {
        finding(
            Severity::Medium,
            FindingKind::ManyAdmins,
            format!(
                "{} active users hold administrator-level profiles ({}% of {} active users); least privilege suggests at most {threshold}",
                admin_rows.len(),
                admin_rows.len() * 100 / totals.active.max(1),
                totals.active
            ),
            None,
        );
    }
    if totals.unconfirmed > 0 {
        finding(
            Severity::Info,
            FindingKind::UnconfirmedUsers,
            format!(
                "{} never accepted their invitation; list them with bigin_list_users type=NotConfirmedUsers",
                super::user::plural_users(totals.unconfirmed).replacen("user", "active user", 1)
            ),
            None,
        );
    }
    for p in profiles {
        if p.summary.is_none() && admin_reasons(&p.name, None).is_empty() {
            finding(
                Severity::Info,
                FindingKind::PermissionsUnknown,
                format!(
                    "the permissions of profile '{}' could not be read; it is judged by name only",
                    p.name
                ),
                None,
            );
        }
        if by_profile.get(p.id.as_str()).is_none_or(|c| c.active == 0) {
            finding(
                Severity::Info,
                FindingKind::UnusedProfile,
                format!("no active user holds profile '{}'", p.name),
                None,
            );
        }
    }

    let depth_of = |id: &str| {
        let mut depth = 0;
        let mut cur = role_ids.get(id).copied();
        while let Some(r) = cur.and_then(|r| r.reporting_to.as_ref()) {
            depth += 1;
            if depth > roles.len() {
                break; // a cycle in bad data; stop rather than spin
            }
            cur = role_ids.get(r.id.as_str()).copied();
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
            users: by_profile.get(p.id.as_str()).cloned().unwrap_or_default(),
        })
        .collect();
    let mut roles_out: Vec<RoleGroup> = roles
        .iter()
        .map(|r| RoleGroup {
            depth: depth_of(&r.id),
            users: by_role.get(r.id.as_str()).cloned().unwrap_or_default(),
            name: r.name.clone(),
            reporting_to: r.reporting_to.as_ref().map(|x| x.name.clone()),
            id: r.id.clone(),
        })
        .collect();
    roles_out.sort_by(|a, b| a.depth.cmp(&b.depth).then_with(|| a.name.cmp(&b.name)));
    // Stable: within a severity, findings keep the order they were made in.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    admin_rows.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    Computed {
        users: totals,
        profiles: profiles_out,
        roles: roles_out,
        admins: AdminTable {
            columns: vec!["id", "full_name", "email", "confirmed", "profile", "role"],
            rows: admin_rows,
        },
        findings,
        admin_flags,
    }
}

/// One user as a snapshot keeps them: enough to say what changed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SnapshotUser {
    pub id: String,
    pub name: String,
    pub email: String,
    pub status: String,
    pub confirmed: bool,
    pub role: Option<Ref>,
    pub profile: Option<Ref>,
    pub admin_level: bool,
}

impl SnapshotUser {
    pub fn of(u: &User, admin_level: bool) -> SnapshotUser {
        SnapshotUser {
            id: u.id.clone(),
            name: u.full_name.clone(),
            email: u.email.clone(),
            status: u.status.to_string(),
            confirmed: u.is_confirmed(),
            role: u.role.as_deref().cloned(),
            profile: u.profile.as_deref().cloned(),
            admin_level,
        }
    }
}

/// A stored review: its evidence header and every user's row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u32,
    pub evidence: Evidence,
    pub users: Vec<SnapshotUser>,
}

/// A [`Snapshot`] written straight from the review's users, without a copy
/// of each one (50,000 users would take ~17 MB more): it serialises to the
/// same JSON.
pub struct SnapshotView<'a> {
    pub evidence: &'a Evidence,
    pub users: &'a [User],
    pub admin_flags: &'a [bool],
}

impl Serialize for SnapshotView<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeSeq, SerializeStruct};
        struct Users<'a>(&'a [User], &'a [bool]);
        impl Serialize for Users<'_> {
            fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
                let mut seq = ser.serialize_seq(Some(self.0.len()))?;
                for (u, admin) in self.0.iter().zip(self.1) {
                    seq.serialize_element(&SnapshotUser::of(u, *admin))?;
                }
                seq.end()
            }
        }
        let mut st = ser.serialize_struct("Snapshot", 3)?;
        st.serialize_field("version", &1u32)?;
        st.serialize_field("evidence", self.evidence)?;
        st.serialize_field("users", &Users(self.users, self.admin_flags))?;
        st.end()
    }
}

/// Who changed how between two reviews.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Changes {
    /// The `generated_at` of the snapshot compared with.
    pub since: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<Change>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<Change>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<Change>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profile: Vec<Change>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub role: Vec<Change>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gained_admin: Vec<Change>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lost_admin: Vec<Change>,
}

/// One user's change: `from` → `to` (absent for additions and removals).
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq, Eq)]
pub struct Change {
    pub id: String,
    pub name: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

fn change(u: &SnapshotUser, from: Option<String>, to: Option<String>) -> Change {
    Change {
        id: u.id.clone(),
        name: u.name.clone(),
        email: u.email.clone(),
        from,
        to,
    }
}

fn ref_name(r: &Option<Ref>) -> Option<String> {
    r.as_ref().map(|r| r.name.clone())
}

/// What changed from `old` to the users now (with their admin flags), by
/// user id.
pub fn diff(old: &Snapshot, users: &[User], admin_flags: &[bool]) -> Changes {
    let before: BTreeMap<&str, &SnapshotUser> =
        old.users.iter().map(|u| (u.id.as_str(), u)).collect();
    let after: BTreeMap<&str, (&User, bool)> = users
        .iter()
        .zip(admin_flags)
        .map(|(u, a)| (u.id.as_str(), (u, *a)))
        .collect();
    let mut c = Changes {
        since: old.evidence.generated_at.clone(),
        ..Default::default()
    };
    for (id, (u, admin)) in &after {
        let n = &SnapshotUser::of(u, *admin);
        let Some(o) = before.get(id) else {
            c.added.push(change(n, None, Some(n.status.clone())));
            if n.admin_level {
                c.gained_admin.push(change(n, None, ref_name(&n.profile)));
            }
            continue;
        };
        if o.status != n.status {
            c.status
                .push(change(n, Some(o.status.clone()), Some(n.status.clone())));
        }
        if o.profile.as_ref().map(|r| &r.id) != n.profile.as_ref().map(|r| &r.id) {
            c.profile
                .push(change(n, ref_name(&o.profile), ref_name(&n.profile)));
        }
        if o.role.as_ref().map(|r| &r.id) != n.role.as_ref().map(|r| &r.id) {
            c.role.push(change(n, ref_name(&o.role), ref_name(&n.role)));
        }
        match (o.admin_level, n.admin_level) {
            (false, true) => {
                c.gained_admin
                    .push(change(n, ref_name(&o.profile), ref_name(&n.profile)))
            }
            (true, false) => {
                c.lost_admin
                    .push(change(n, ref_name(&o.profile), ref_name(&n.profile)))
            }
            _ => {}
        }
    }
    for (id, o) in &before {
        if !after.contains_key(id) {
            c.removed.push(change(o, Some(o.status.clone()), None));
            if o.admin_level {
                c.lost_admin.push(change(o, ref_name(&o.profile), None));
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn user(id: &str, status: &str, confirm: bool, profile: &str, role: &str) -> User {
        let pname = if profile == "10" {
            "Administrator"
        } else {
            "Standard"
        };
        User {
            id: id.into(),
            full_name: format!("User {id}"),
            email: format!("u{id}@x.test"),
            status: UserStatus::from(status),
            confirmed: Some(confirm),
            role: Some(Arc::new(Ref {
                id: role.into(),
                name: "R".into(),
            })),
            profile: Some(Arc::new(Ref {
                id: profile.into(),
                name: pname.into(),
            })),
            zuid: None,
        }
    }

    fn role(id: &str, name: &str, parent: Option<(&str, &str)>) -> Role {
        serde_json::from_value(serde_json::json!({"id": id, "name": name,
            "reporting_to": parent.map(|(i, n)| serde_json::json!({"id": i, "name": n}))}))
        .unwrap()
    }

    #[test]
    fn every_active_admin_is_listed_confirmed_or_not_and_counts_agree() {
        let users = vec![
            user("1", "active", true, "10", "100"),
            user("2", "inactive", true, "10", "101"),
            user("3", "active", false, "10", "101"),
            user("4", "active", true, "11", "101"),
            user("5", "deleted", true, "10", "101"),
            user("6", "active", true, "99", "101"),
        ];
        let roles = vec![
            role("100", "CEO", None),
            role("101", "Rep", Some(("100", "CEO"))),
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
        let u = &r.users;
        assert_eq!(
            (u.total, u.active, u.inactive, u.deleted, u.unconfirmed),
            (6, 4, 1, 1, 1)
        );
        let ids: Vec<&str> = r.admins.rows.iter().map(|row| row.0.as_str()).collect();
        assert_eq!(ids, vec!["1", "3"], "the unconfirmed admin is listed too");
        assert!(!r.admins.rows[1].3, "with confirmed = false");
        let admin = r.profiles.iter().find(|p| p.id == "10").unwrap();
        assert_eq!(
            admin.users.active,
            r.admins.rows.len(),
            "counts agree with the list"
        );
        let kinds: Vec<(&str, &str)> = r
            .findings
            .iter()
            .map(|f| (f.severity.as_str(), f.kind.as_str()))
            .collect();
        assert_eq!(kinds[0], ("high", "unconfirmed_admin"));
        assert!(kinds.contains(&("medium", "inactive_admin")));
        assert!(kinds.contains(&("medium", "unknown_profile")));
        assert!(!r.findings.iter().any(|f| f.user_id.as_deref() == Some("5")));
        let rep = r.roles.iter().find(|x| x.name == "Rep").unwrap();
        assert_eq!((rep.depth, rep.users.total), (1, 5));
        assert!(r.profiles[0].admin_level && !r.profiles[1].admin_level);
    }

    #[test]
    fn an_administrator_missing_from_the_profile_list_is_still_an_admin() {
        let users = vec![user("1", "active", true, "10", "100")];
        let r = access_review(&users, &[], &[]);
        assert_eq!(r.admins.rows.len(), 1);
    }

    #[test]
    fn diff_names_every_kind_of_change() {
        let users_before = [
            user("1", "active", true, "10", "100"),
            user("2", "active", true, "11", "100"),
            user("3", "active", true, "11", "100"),
        ];
        let before = access_review(&users_before, &[], &[]);
        let old = Snapshot {
            version: 1,
            evidence: Evidence {
                generated_at: "2026-09-30T00:00:00Z".into(),
                organization_id: "9".into(),
                organization_name: "Acme".into(),
                data_centre: "eu".into(),
                credits_used: 0,
                from_cache: false,
            },
            users: users_before
                .iter()
                .zip(&before.admin_flags)
                .map(|(u, a)| SnapshotUser::of(u, *a))
                .collect(),
        };
        let users_after = [
            user("1", "inactive", true, "11", "100"),
            user("2", "active", true, "10", "101"),
            user("4", "active", true, "11", "100"),
        ];
        let after = access_review(&users_after, &[], &[]);
        let c = diff(&old, &users_after, &after.admin_flags);
        // The view writes what a Snapshot reads back.
        let view = SnapshotView {
            evidence: &old.evidence,
            users: &users_after,
            admin_flags: &after.admin_flags,
        };
        let back: Snapshot = serde_json::from_str(&serde_json::to_string(&view).unwrap()).unwrap();
        assert_eq!(back.users.len(), 3);
        assert!(back.users[1].admin_level);
        let ids = |v: &[Change]| v.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&c.added), ["4"]);
        assert_eq!(ids(&c.removed), ["3"]);
        assert_eq!(ids(&c.status), ["1"]);
        assert_eq!(ids(&c.profile), ["1", "2"]);
        assert_eq!(ids(&c.role), ["2"]);
        assert_eq!(ids(&c.gained_admin), ["2"]);
        assert_eq!(ids(&c.lost_admin), ["1"]);
        assert_eq!(c.status[0].to.as_deref(), Some("inactive"));
    }
}
