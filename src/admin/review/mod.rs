//! The access review: users correlated with roles and profiles, every
//! active holder of an administrator-level profile, findings, and what
//! changed since an earlier review (from its snapshot).
//!
//! Everything here is pure (records in, review out) so it is tested without
//! HTTP. Its output stays small whatever the organisation's size: counts per
//! profile and role, the admins, and findings; never one line per user.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::permissions::{PermissionSummary, Sensitive, admin_reasons};

mod snapshot;
#[cfg(test)]
mod tests;

use crate::zoho::{Ref, Role, User, UserStatus};
pub use snapshot::{Change, Changes, Evidence, Snapshot, SnapshotUser, SnapshotView, diff};

/// A profile as the review sees it.
#[derive(Debug, Clone)]
pub struct ProfileFacts {
    pub id: String,
    pub name: String,
    /// None when the permissions could not be read (or, for the built-in
    /// Administrator, were not needed).
    pub summary: Option<PermissionSummary>,
    /// Why the permissions could not be read, when they could not: the
    /// holders of such a profile could be administrators.
    pub unknown: Option<String>,
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
    /// Sensitive permissions it grants (administration, user_management,
    /// role_profile_management, export, mass_delete, mass_update, import,
    /// data_backup, api_access); "unknown" when they could not be read.
    /// Its holders are counted in `users`.
    pub sensitive: Sensitive,
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
    /// A profile in use that can export or mass-delete.
    SensitiveProfile,
    /// Users in the lowest roles (leaves) hold a profile that can export or mass-delete.
    LowRoleSensitive,
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
            FindingKind::SensitiveProfile => "sensitive_profile",
            FindingKind::LowRoleSensitive => "low_role_sensitive",
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

/// Most holders a `permissions_unknown` finding names; the rest are counted.
const HOLDERS_NAMED: usize = 20;

/// The finding for a profile whose permissions could not be read: high
/// when active users hold it, naming them, since any of them could be an
/// administrator.
fn permissions_unknown(
    p: &ProfileFacts,
    why: &str,
    users: &[User],
    finding: &mut impl FnMut(Severity, FindingKind, String, Option<&User>),
) {
    let holders: Vec<&User> = users
        .iter()
        .filter(|u| u.status == UserStatus::Active)
        .filter(|u| u.profile.as_ref().is_some_and(|x| x.id == p.id))
        .collect();
    let profile = format!("profile '{}' ({})", p.name, p.id);
    if holders.is_empty() {
        finding(
            Severity::Info,
            FindingKind::PermissionsUnknown,
            format!("{profile}: permissions unknown ({why}); no active user holds it"),
            None,
        );
        return;
    }
    let mut named: Vec<String> = holders
        .iter()
        .take(HOLDERS_NAMED)
        .map(|u| format!("{} <{}>", u.full_name, u.email))
        .collect();
    if holders.len() > HOLDERS_NAMED {
        named.push(format!(
            "and {} more (bigin_list_users with this profile lists them)",
            holders.len() - HOLDERS_NAMED
        ));
    }
    finding(
        Severity::High,
        FindingKind::PermissionsUnknown,
        format!(
            "{profile}: permissions unknown, could be administrator-level ({why}); check it in Bigin. Its {} active holders: {}",
            holders.len(),
            named.join(", ")
        ),
        None,
    );
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
    // Active holders per (profile id, role id): the role/profile mismatch.
    let mut active_by_pair: HashMap<(&str, &str), usize> = HashMap::new();

    for u in users {
        totals.add(u);
        let live = u.status != UserStatus::Deleted;
        if u.status == UserStatus::Active
            && let (Some(p), Some(r)) = (u.profile.as_deref(), u.role.as_deref())
        {
            *active_by_pair
                .entry((p.id.as_str(), r.id.as_str()))
                .or_default() += 1;
        }
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
                            "{who}, invited but not accepted, holds admin-level profile '{profile}': lower it (bigin_update_user) or withdraw the invitation (bigin_delete_user)"
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
                    "{who}, deactivated, keeps admin-level profile '{profile}', which Zoho will not change now: delete (bigin_delete_user), or reactivate, lower, deactivate (bigin_set_user_status, bigin_update_user)"
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
        if let Some(why) = p.unknown.as_deref()
            && admin_reasons(&p.name, None).is_empty()
        {
            permissions_unknown(p, why, users, &mut finding);
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

    let profiles_out: Vec<ProfileGroup> = profiles
        .iter()
        .map(|p| ProfileGroup {
            id: p.id.clone(),
            name: p.name.clone(),
            admin_level: admin.get(p.id.as_str()).is_some_and(|r| !r.is_empty()),
            admin_reasons: admin.get(p.id.as_str()).cloned().unwrap_or_default(),
            sensitive: Sensitive::of(&p.name, p.summary.as_ref()),
            users: by_profile.get(p.id.as_str()).cloned().unwrap_or_default(),
        })
        .collect();
    sensitive_findings(&profiles_out, roles, &active_by_pair, &mut finding);
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
    sort_findings(&mut findings);
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

/// Most severe first; within a severity, findings about one user by name
/// (their message starts with it), then the others (about a profile, a
/// role, the organisation) by message; names compare ignoring accents and
/// case, as the CSV's rows do.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by_cached_key(|f| {
        (
            std::cmp::Reverse(f.severity),
            f.user_id.is_none(),
            super::report::sort_key(&f.message),
        )
    });
}

/// What can do the most damage in bulk: export (data leaves the org) and
/// mass delete.
const BULK_RISK: [&str; 2] = ["export", "mass_delete"];

/// The sensitive-permission findings: a medium one per profile in use that
/// can export or mass-delete, and a high one per leaf role whose active
/// users hold such a profile.
///
/// "Lowest levels of the hierarchy" means leaf roles: roles no other role
/// reports to (a Sales Intern, an Accountant). Depth alone would miss a
/// short branch's bottom and flag a long branch's middle managers. With no
/// role list there are no leaves, and no high finding is made.
fn sensitive_findings(
    profiles: &[ProfileGroup],
    roles: &[Role],
    active_by_pair: &HashMap<(&str, &str), usize>,
    finding: &mut impl FnMut(Severity, FindingKind, String, Option<&User>),
) {
    let is_leaf = |id: &str| {
        !roles
            .iter()
            .any(|r| r.reporting_to.as_ref().is_some_and(|t| t.id == id))
    };
    for p in profiles {
        let risky: Vec<&str> = BULK_RISK
            .into_iter()
            .filter(|c| p.sensitive.grants(c) == Some(true))
            .collect();
        if risky.is_empty() || p.users.active == 0 {
            continue;
        }
        let can = risky
            .iter()
            .map(|c| c.replace('_', "-"))
            .collect::<Vec<_>>()
            .join(" and ");
        finding(
            Severity::Medium,
            FindingKind::SensitiveProfile,
            format!(
                "profile '{}' can {can}; {} {} it: check each needs it (bigin_update_user)",
                p.name,
                super::user::plural_users(p.users.active).replacen("user", "active user", 1),
                if p.users.active == 1 { "holds" } else { "hold" }
            ),
            None,
        );
        for r in roles.iter().filter(|r| is_leaf(&r.id)) {
            let n = active_by_pair
                .get(&(p.id.as_str(), r.id.as_str()))
                .copied()
                .unwrap_or(0);
            if n == 0 {
                continue;
            }
            finding(
                Severity::High,
                FindingKind::LowRoleSensitive,
                format!(
                    "{} in leaf role '{}' {} '{}', which can {can}; give a lower profile (bigin_update_user) or record why",
                    super::user::plural_users(n).replacen("user", "active user", 1),
                    r.name,
                    if n == 1 { "holds" } else { "hold" },
                    p.name
                ),
                None,
            );
        }
    }
}
