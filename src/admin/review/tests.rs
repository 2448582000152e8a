//! The review's pure rules: records in, review out.

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
            unknown: None,
        },
        ProfileFacts {
            id: "11".into(),
            name: "Standard".into(),
            summary: Some(PermissionSummary::default()),
            unknown: None,
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
            unjudged_profiles: vec![],
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

#[test]
fn holders_of_a_profile_whose_permissions_are_unknown_are_a_high_finding() {
    let mut users: Vec<User> = (1..=25)
        .map(|i| user(&i.to_string(), "active", true, "11", "101"))
        .collect();
    users.push(user("90", "inactive", true, "11", "101"));
    users.push(user("91", "active", true, "10", "101"));
    let profiles = vec![
        ProfileFacts {
            id: "10".into(),
            name: "Administrator".into(),
            summary: None,
            unknown: None,
        },
        ProfileFacts {
            id: "11".into(),
            name: "Standard".into(),
            summary: None,
            unknown: Some("GET /settings/profiles/11 is not available".into()),
        },
    ];
    let r = access_review(&users, &[], &profiles);
    let unknown: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::PermissionsUnknown)
        .collect();
    assert_eq!(unknown.len(), 1, "{:?}", r.findings);
    let f = unknown[0];
    assert_eq!(f.severity, Severity::High);
    assert!(
        f.message
            .contains("permissions unknown, could be administrator-level")
    );
    assert!(f.message.contains("'Standard' (11)") && f.message.contains("is not available"));
    assert!(
        f.message
            .contains("Its 25 active holders: User 1 <u1@x.test>"),
        "{}",
        f.message
    );
    assert!(f.message.contains("and 5 more"), "{}", f.message);
    assert!(
        !f.message.contains("u90@"),
        "inactive holders are not active holders"
    );
    // The built-in Administrator's holders are listed as always.
    let ids: Vec<&str> = r.admins.rows.iter().map(|row| row.0.as_str()).collect();
    assert_eq!(ids, ["91"]);
    assert!(r.findings[0].severity == Severity::High);
}
