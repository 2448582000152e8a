//! [`Action`]: one change to an existing user, with everything that differs
//! between changes in one place: the tool and verb it is audited under,
//! when it would change nothing, what it changes, how it is sent and how
//! the user looks afterwards. [`Invitation`] is the one write that has no
//! user yet.

use crate::admin::user::ConciseUser;
use crate::zoho::{
    BiginClient, NewUser, RecordOutcome, Ref, RefForm, User, UserStatus, ZohoError, ZohoId,
};

/// What a write to an existing user does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Deactivate,
    Activate,
    Delete,
    /// A new role and/or profile (already resolved to `{id, name}`).
    Update {
        role: Option<Ref>,
        profile: Option<Ref>,
    },
}

/// The names a write is audited and reported under.
pub trait Audited: Sync {
    /// The MCP tool that asks for it.
    fn tool(&self) -> &'static str;
    /// deactivate, activate, delete, update or invite.
    fn verb(&self) -> &'static str;
}

impl Audited for Action {
    fn verb(&self) -> &'static str {
        match self {
            Action::Deactivate => "deactivate",
            Action::Activate => "activate",
            Action::Delete => "delete",
            Action::Update { .. } => "update",
        }
    }

    fn tool(&self) -> &'static str {
        match self {
            Action::Delete => "bigin_delete_user",
            Action::Deactivate | Action::Activate => "bigin_set_user_status",
            Action::Update { .. } => "bigin_update_user",
        }
    }
}

fn ref_name(r: Option<&Ref>) -> &str {
    r.map_or("none", |r| r.name.as_str())
}

impl Action {
    /// The status a status change sets.
    fn new_status(&self) -> Option<UserStatus> {
        match self {
            Action::Deactivate => Some(UserStatus::Inactive),
            Action::Activate => Some(UserStatus::Active),
            Action::Delete => Some(UserStatus::Deleted),
            Action::Update { .. } => None,
        }
    }

    /// Why this would change nothing (or cannot be done) for `user`, as
    /// the end of a sentence about them; `None` when there is work to do.
    pub fn noop(&self, user: &User) -> Option<String> {
        match (self, &user.status) {
            (Action::Deactivate, UserStatus::Inactive) => Some("is already inactive".into()),
            (Action::Activate, UserStatus::Active) => Some("is already active".into()),
            (Action::Delete, UserStatus::Deleted) => Some("is already deleted".into()),
            (_, UserStatus::Deleted) => Some("is deleted; a deleted user cannot be changed".into()),
            (Action::Update { .. }, UserStatus::Inactive) => Some(
                "is deactivated, and Zoho does not allow updating a deactivated user; reactivate them first (bigin_set_user_status active), or leave them".into(),
            ),
            (Action::Update { .. }, s) if *s != UserStatus::Active => Some(format!(
                "has status '{s}', which this server does not update"
            )),
            (Action::Update { role, profile }, _) => {
                let same_role = role
                    .as_ref()
                    .is_none_or(|r| user.role.as_ref().is_some_and(|x| x.id == r.id));
                let same_profile = profile
                    .as_ref()
                    .is_none_or(|p| user.profile.as_ref().is_some_and(|x| x.id == p.id));
                (same_role && same_profile)
                    .then(|| "already has that role and profile".to_string())
            }
            _ => None,
        }
    }

    /// What changes, from → to, for the person, the log and the result.
    pub fn change(&self, user: &User) -> String {
        let current = &user.status;
        match self {
            Action::Update { role, profile } => {
                let mut parts = Vec::new();
                if let Some(p) = profile {
                    parts.push(format!(
                        "profile {} → {}",
                        ref_name(user.profile.as_deref()),
                        p.name
                    ));
                }
                if let Some(r) = role {
                    parts.push(format!(
                        "role {} → {}",
                        ref_name(user.role.as_deref()),
                        r.name
                    ));
                }
                parts.join(", ")
            }
            Action::Deactivate => format!("status {current} → inactive"),
            Action::Activate => format!("status {current} → active"),
            Action::Delete => format!("status {current} → deleted (irreversible)"),
        }
    }

    /// Whether the change sends a role or profile (whose body form is
    /// undocumented, so a retry in the other form may be needed).
    pub fn sends_references(&self) -> bool {
        matches!(self, Action::Update { .. })
    }

    /// Sends the change to Zoho, any role/profile in `form`.
    pub async fn send(
        &self,
        client: &BiginClient,
        id: &ZohoId,
        form: RefForm,
    ) -> Result<RecordOutcome, ZohoError> {
        match self {
            Action::Deactivate | Action::Activate => {
                let status = self.new_status().unwrap_or(UserStatus::Unknown);
                client.set_user_status(id, status).await
            }
            Action::Delete => client.delete_user(id).await,
            Action::Update { role, profile } => {
                let ids =
                    |r: &Option<Ref>| r.as_ref().map(|r| ZohoId::parse(&r.id, "id")).transpose();
                match (ids(role), ids(profile)) {
                    (Ok(r), Ok(p)) => {
                        client
                            .update_user_as(id, r.as_ref(), p.as_ref(), form)
                            .await
                    }
                    _ => Err(ZohoError::Decode {
                        what: "the role or profile".into(),
                        message: "an id from Zoho is not a valid id".into(),
                    }),
                }
            }
        }
    }

    /// What reading the user back shows that differs from what was asked
    /// (`after` is `None` when Zoho no longer has the user), and whether
    /// the role/profile body form may be why; `None` when the change took.
    pub fn not_taken(&self, after: Option<&User>) -> Option<(String, bool)> {
        let retry = after.is_some() && self.sends_references();
        self.differs(after).map(|what| (what, retry))
    }

    fn differs(&self, after: Option<&User>) -> Option<String> {
        let status = |u: Option<&User>| match u {
            None => "the user cannot be read back (no such user)".to_string(),
            Some(u) if u.status == UserStatus::Unknown => {
                "the user reads back with no status".into()
            }
            Some(u) => format!("the status is still {}", u.status),
        };
        match self {
            Action::Deactivate | Action::Activate => {
                let want = self.new_status();
                (after.map(|u| &u.status) != want.as_ref()).then(|| status(after))
            }
            // A deleted user reads back as deleted, or not at all.
            Action::Delete => after
                .filter(|u| u.status != UserStatus::Deleted)
                .map(|u| format!("the user still reads back as {}", u.status)),
            Action::Update { role, profile } => {
                let Some(u) = after else {
                    return Some(status(after));
                };
                let mut seen = Vec::new();
                if let Some(p) = profile
                    && u.profile.as_ref().is_none_or(|x| x.id != p.id)
                {
                    seen.push(format!(
                        "the profile is still {}",
                        ref_name(u.profile.as_deref())
                    ));
                }
                if let Some(r) = role
                    && u.role.as_ref().is_none_or(|x| x.id != r.id)
                {
                    seen.push(format!("the role is still {}", ref_name(u.role.as_deref())));
                }
                (!seen.is_empty()).then(|| seen.join(" and "))
            }
        }
    }

    /// What the user was, once it is done ("deactivated", "updated (…)").
    pub fn done(&self, change: &str) -> String {
        match self {
            Action::Deactivate => "deactivated".to_string(),
            Action::Activate => "reactivated".to_string(),
            Action::Delete => "deleted".to_string(),
            Action::Update { .. } => format!("updated ({change})"),
        }
    }

    /// The user as the change leaves them.
    pub fn apply(&self, user: &mut ConciseUser) {
        if let Some(s) = self.new_status() {
            user.status = s.to_string();
        }
        if let Action::Update { role, profile } = self {
            if let Some(r) = role {
                user.role = Some(r.clone());
            }
            if let Some(p) = profile {
                user.profile = Some(p.clone());
            }
        }
    }
}

/// A new user to invite, with their role and profile resolved.
pub struct Invitation<'a> {
    pub user: NewUser<'a>,
    pub role: Ref,
    pub profile: Ref,
}

impl Invitation<'_> {
    /// What reading the new user back shows that differs from the
    /// invitation, and whether only the role/profile differ (so their body
    /// form may be why); `None` when it matches.
    pub fn not_taken(&self, after: Option<&User>) -> Option<(String, bool)> {
        let Some(u) = after else {
            return Some((
                "the new user cannot be read back (no such user)".into(),
                false,
            ));
        };
        if !u.email.trim().eq_ignore_ascii_case(self.user.email.trim()) {
            return Some((format!("the user reads back with email {}", u.email), false));
        }
        let mut seen = Vec::new();
        if u.profile.as_ref().is_none_or(|x| x.id != self.profile.id) {
            seen.push(format!(
                "the profile is {} (asked: {})",
                ref_name(u.profile.as_deref()),
                self.profile.name
            ));
        }
        if u.role.as_ref().is_none_or(|x| x.id != self.role.id) {
            seen.push(format!(
                "the role is {} (asked: {})",
                ref_name(u.role.as_deref()),
                self.role.name
            ));
        }
        (!seen.is_empty()).then(|| (seen.join(" and "), true))
    }
}

impl Audited for Invitation<'_> {
    fn tool(&self) -> &'static str {
        "bigin_invite_user"
    }

    fn verb(&self) -> &'static str {
        "invite"
    }
}
