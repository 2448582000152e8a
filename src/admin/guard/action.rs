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

/// Longest first or last name Zoho takes (CRM caps both at 50).
pub const NAME_MAX: usize = 50;

/// A character that must not be in a name shown to a person: anything
/// that can end a line, move the cursor or reorder what is displayed, so a
/// name cannot make the confirmation say something other than what is sent:
/// C0 and C1 controls (ESC, DEL included), the line and paragraph
/// separators, and the bidi marks, embeddings, overrides and isolates.
pub fn forged_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{2028}' | '\u{2029}'
            | '\u{200E}' | '\u{200F}' | '\u{061C}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}')
}

/// Why the person to invite cannot be invited as given (checked before
/// anything is sent or shown); `None` when they can. The values are checked
/// as given, before trimming: a trailing line break is refused too, as
/// nobody types one into a name.
pub fn invitee_problem(first: &str, last: &str, email: &str) -> Option<String> {
    let fix = "Nothing was sent to Zoho.";
    for (field, raw) in [("first_name", first), ("last_name", last)] {
        let value = raw.trim();
        if let Some(c) = raw.chars().find(|&c| forged_char(c)) {
            return Some(format!(
                "{field} contains U+{:04X}, a control, line-breaking or text-direction character that could make the confirmation show something other than what is sent; names may contain none. Pass the name as plain text. {fix}",
                c as u32
            ));
        }
        if value.is_empty() {
            return Some(format!(
                "{field} is required (Bigin requires a first and a last name). {fix}"
            ));
        }
        let n = value.chars().count();
        if n > NAME_MAX {
            return Some(format!(
                "{field} is {n} characters; Zoho takes at most {NAME_MAX}. {fix}"
            ));
        }
    }
    if let Some(c) = email.trim().chars().find(|c| !c.is_ascii_graphic()) {
        return Some(format!(
            "email contains U+{:04X}, which is not printable ASCII; an address with an invisible or look-alike character (a zero-width space, a Cyrillic letter that looks Latin) could invite someone other than the person reads, so only printable-ASCII addresses are accepted. Type the address again in plain ASCII. {fix}",
            c as u32
        ));
    }
    if !is_email(email.trim()) {
        return Some(format!(
            "email must be one address like name@example.com (got '{}'). {fix}",
            email.trim().chars().take(80).collect::<String>()
        ));
    }
    None
}

/// One plausible address: one `@`, something before it, a dot after it,
/// no spaces or control characters. Zoho checks the rest.
fn is_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    e.len() <= 100
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_forge_the_confirmation_are_refused() {
        assert_eq!(invitee_problem("Ann", "Lee", "ann.lee@x.test"), None);
        assert_eq!(invitee_problem("Zoë", "Ørsted-Łukasz", "zoe@x.test"), None);
        let long = "x".repeat(NAME_MAX + 1);
        let ok = "x".repeat(NAME_MAX);
        assert_eq!(invitee_problem(&ok, &ok, "a@x.test"), None);
        let cases: [(&str, &str, &str, &str); 6] = [
            ("", "Lee", "a@x.test", "first_name is required"),
            ("Ann", "", "a@x.test", "last_name is required"),
            (&long, "Lee", "a@x.test", "first_name is 51 characters"),
            ("Ann", &long, "a@x.test", "last_name is 51 characters"),
            ("Ann", "Lee", "\u{430}nn@x.test", "U+0430"),
            ("Ann", "Lee", "a\u{200b}nn@x.test", "U+200B"),
        ];
        for (first, last, email, said) in cases {
            let why = invitee_problem(first, last, email).expect(said);
            assert!(
                why.contains(said) && why.contains("Nothing was sent"),
                "{why}"
            );
        }
        for c in [
            '\n', '\r', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{2028}', '\u{2029}', '\u{202a}',
            '\u{202e}', '\u{2066}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{61c}',
        ] {
            let name = format!("Lee{c}Administrator");
            let why = invitee_problem("Ann", &name, "a@x.test").expect("refused");
            assert!(why.contains(&format!("U+{:04X}", c as u32)), "{why}");
            let why = invitee_problem(&name, "Lee", "a@x.test").expect("refused");
            assert!(why.starts_with("first_name"), "{why}");
        }
    }
}
