//! The invite path of the write guard: a new user is checked (name and
//! email rules, the email held by nobody), confirmed like any write, sent,
//! and read back; role and profile are set once in the other body form when
//! the first did not take.

use super::*;
use crate::admin::directory::Listed;
use crate::zoho::NewUser;

impl WriteGuard {
    /// The invitation as asked for: names and address checked (see
    /// [`invitee_problem`]), role and profile resolved by name or id.
    /// Refused before anything is sent.
    pub async fn invitation<'a>(
        &self,
        names: (&'a str, &'a str),
        email: &'a str,
        role: &str,
        profile: &str,
    ) -> Result<Invitation<'a>, AdminError> {
        let (first, last) = names;
        let email = email.trim();
        // Names and look-alike addresses first: nothing forged is ever
        // shown to the person or sent.
        if let Some(why) = invitee_problem(first, last, email) {
            return Err(AdminError::Refused(why));
        }
        let then = "Nobody was invited.";
        let session = &self.session;
        let profile = session.named_ref(Listed::Profile, profile, false, then);
        let profile = profile.await?;
        let role = session.named_ref(Listed::Role, role, false, then).await?;
        let (Ok(role_id), Ok(profile_id)) = (
            ZohoId::parse(&role.id, "role id"),
            ZohoId::parse(&profile.id, "profile id"),
        ) else {
            return Err(AdminError::Refused(
                "Zoho's role or profile id is not a valid id; nobody was invited.".into(),
            ));
        };
        let user = NewUser {
            first_name: Some(first.trim()),
            last_name: last.trim(),
            email,
            role: role_id,
            profile: profile_id,
        };
        Ok(Invitation {
            user,
            role,
            profile,
        })
    }

    /// Verify, then invite: the email must be new (held by no user who is
    /// not deleted), the person is asked where one can be, and every
    /// attempt is audited.
    pub async fn invite(
        &self,
        confirm: &impl Confirm,
        invitation: Invitation<'_>,
        dry_run: bool,
    ) -> Result<WriteResult, AdminError> {
        let inv = &invitation;
        let new = &inv.user;
        let email = new.email.trim().to_string();
        let target = Target {
            id: "",
            email: &email,
            given: &email,
        };
        // Checked here too, so no caller can show or send a forged name.
        if let Some(why) = invitee_problem(new.first_name.unwrap_or(""), new.last_name, new.email) {
            return Err(self.refuse(inv, &target, why));
        }
        let full_name = format!("{} {}", new.first_name.unwrap_or(""), new.last_name)
            .trim()
            .to_string();
        // One invitation per address at a time: two concurrent invites of
        // the same person would otherwise both pass the check.
        let _lock = match self
            .lock_user(&format!("invite:{}", email.to_lowercase()))
            .await
        {
            Ok(l) => l,
            Err(why) => return Err(self.refuse(inv, &target, why)),
        };
        let users = match self.session.users(UserType::AllUsers, true).await {
            Ok((u, _)) => u,
            Err(e) => {
                let why = format!(
                    "cannot check whether {email} is already a user, so nobody was invited: {e}"
                );
                return Err(self.refuse(inv, &target, why));
            }
        };
        if let Some(u) = users.iter().find(|u| {
            u.status != UserStatus::Deleted && u.email.trim().eq_ignore_ascii_case(&email)
        }) {
            let why = format!(
                "{email} already belongs to {} (id {}, status {}); nobody was invited. To change their role or profile use bigin_update_user.",
                u.full_name, u.id, u.status
            );
            return Err(self.refuse(inv, &target, why));
        }
        let summary = format!(
            "invite {full_name} <{email}> as profile {}, role {}",
            inv.profile.name, inv.role.name
        );
        let user = ConciseUser {
            id: String::new(),
            full_name: full_name.clone(),
            email: email.clone(),
            status: "active".into(),
            role: Some(inv.role.clone()),
            profile: Some(inv.profile.clone()),
        };
        if dry_run {
            let message = format!(
                "Dry run: would {summary}. Zoho emails them an invitation; they stay unconfirmed until they accept. Call again without dry_run to do it."
            );
            return Ok(self.dry_run(inv, &target, user, message));
        }
        let pending = format!("sending to Zoho: {summary}");
        let by = self
            .clear_to_send(confirm, inv, &target, &summary, &pending)
            .await?;
        let form = self.session.ref_form();
        let result = self.session.client().create_user_as(new, form).await;
        self.session.cache().users_changed();
        let (id, mut outcome) = match result {
            Ok(r) => r,
            Err(e) => return Err(self.failed(inv, &target, by, e, &format!("inviting {email}"))),
        };
        let done = Target {
            id: id.as_str(),
            email: &email,
            given: &email,
        };
        let mut seen = self.read_back(&id, |u| inv.not_taken(u)).await;
        let mut forms = vec![form.describe()];
        // The user exists with the asked email but not the asked role or
        // profile: the body form was not read. Set them once in the other
        // form, as an update would (the person confirmed exactly this).
        if let ReadBack::NotTaken(what, true) = &seen {
            let other = form.other();
            forms.push(other.describe());
            let pending = format!(
                "setting the role and profile in the other form ({}): Zoho answered SUCCESS to {} but {what}",
                other.describe(),
                form.describe()
            );
            self.audit_as(inv, &done, Outcome::Pending, by, &pending);
            let fix = Action::Update {
                role: Some(inv.role.clone()),
                profile: Some(inv.profile.clone()),
            };
            let again = fix.send(self.session.client(), &id, other).await;
            self.session.cache().users_changed();
            outcome = match again {
                Ok(o) => o,
                Err(e) => {
                    return Err(self.failed(inv, &done, by, e, &format!("user {id}, {email}")));
                }
            };
            seen = self.read_back(&id, |u| inv.not_taken(u)).await;
            if matches!(seen, ReadBack::Taken) {
                self.session.ref_form_worked(other);
            }
        }
        let not_done = format!("{full_name} ({email}) was invited as user {id}, but not as asked");
        let ok = self.verified((inv, &done, by), &seen, &outcome, &forms, &not_done)?;
        let message = format!(
            "{full_name} ({email}) was invited as user {id}. Zoho: {} {}. They stay unconfirmed until they accept the emailed invitation. {ok}",
            outcome.code, outcome.message
        );
        self.audit_as(inv, &done, Outcome::Success, by, &message);
        Ok(WriteResult {
            action: inv.verb().into(),
            dry_run: false,
            outcome: "success".into(),
            verified: true,
            user: ConciseUser {
                id: id.as_str().to_string(),
                ..user
            },
            message,
        })
    }
}
