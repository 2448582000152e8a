//! What a review keeps (its evidence header and each user: the snapshot)
//! and what changed between two reviews.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::zoho::{Ref, User};

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
    /// Profiles this review could not judge (their permissions could not
    /// be read), each with why; their holders are in a high finding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unjudged_profiles: Vec<String>,
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
