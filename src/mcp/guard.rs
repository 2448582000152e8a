//! The write guard: every change to a user passes here. It verifies the
//! target (id, confirmation email, current state), never touches the primary
//! user, asks the human by MCP elicitation where the client can ask, runs
//! writes to one user one at a time, refuses new writes while the server
//! stops, and leaves an audit line for every attempt (two for a sent write:
//! pending, then its outcome). A change that cannot be audited is not made.
//!
//! Elicitation: rmcp sends `elicitation/create` to clients that declared the
//! capability. That server-to-client request exists up to protocol
//! 2025-11-25; the server offers no later revision (see `server.rs`), so it
//! is what every session negotiates. A person has [`ELICIT_TIMEOUT`] to answer;
//! silence, decline, cancel or an unticked box all mean no.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{ElicitRequestParams, ElicitationAction, ElicitationSchema};
use rmcp::service::RequestContext;
use rmcp::{Json, RoleServer, schemars};
use schemars::JsonSchema;
use serde::Serialize;

use crate::admin::audit::AuditEntry;
use super::error::ToolError;
use super::server::BiginServer;
use super::view::ConciseUser;
use crate::zoho::{NewUser, Ref, User, UserStatus, ZohoError, ZohoId};

/// How long a person has to answer a confirmation.
pub const ELICIT_TIMEOUT: Duration = Duration::from_secs(300);

/// The result of a write tool.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WriteResult {
    /// deactivate, activate, delete, update or invite.
    pub action: String,
    pub dry_run: bool,
    /// dry_run or success.
    pub outcome: String,
    pub user: ConciseUser,
    pub message: String,
}

/// Per-user locks of the writes in progress.
pub type UserLocks = std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>;

/// Held while a write to one user runs; the map entry goes with the last holder.
struct UserLock<'a> {
    locks: &'a UserLocks,
    id: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for UserLock<'_> {
    fn drop(&mut self) {
        self.guard.take();
        let mut map = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(&self.id).is_some_and(|l| Arc::strong_count(l) == 1) {
            map.remove(&self.id);
        }
    }
}

/// What a write does.
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
    Invite,
}

impl Action {
    pub fn verb(&self) -> &'static str {
        match self {
            Action::Deactivate => "deactivate",
            Action::Activate => "activate",
            Action::Delete => "delete",
            Action::Update { .. } => "update",
            Action::Invite => "invite",
        }
    }

    pub fn tool(&self) -> &'static str {
        match self {
            Action::Delete => "bigin_delete_user",
            Action::Deactivate | Action::Activate => "bigin_set_user_status",
            Action::Update { .. } => "bigin_update_user",
            Action::Invite => "bigin_invite_user",
        }
    }
}

/// Whom a write is aimed at, as far as it is known, for the audit log.
struct Target<'a> {
    id: &'a str,
    /// The email on record, once the user has been read.
    email: &'a str,
    /// What the caller passed as confirm_email.
    given: &'a str,
}

fn ref_name(r: Option<&Ref>) -> &str {
    r.map_or("none", |r| r.name.as_str())
}

impl BiginServer {
    /// One audit line; a failure is logged (the caller goes on).
    fn audit_write(&self, action: &Action, target: &Target<'_>, outcome: &str, detail: &str) {
        if let Err(e) = self.try_audit(action, target, outcome, detail) {
            tracing::error!(error = %e, "audit log write failed");
        }
    }

    /// One audit line, or why it could not be written.
    fn try_audit(
        &self,
        action: &Action,
        target: &Target<'_>,
        outcome: &str,
        detail: &str,
    ) -> Result<(), crate::admin::audit::AuditError> {
        let entry = AuditEntry {
            time: String::new(),
            tool: action.tool(),
            user_id: target.id,
            email: target.email,
            given_email: target.given,
            action: action.verb(),
            outcome,
            detail,
        };
        self.audit_log().append(entry)
    }

    /// The last gate before a write is sent: the person confirms (where the
    /// client can ask), a stopping server starts nothing new, and the
    /// `pending` line is written. Fails closed: a change that cannot be
    /// recorded is not made.
    async fn clear_to_send(
        &self,
        ctx: &RequestContext<RoleServer>,
        action: &Action,
        target: &Target<'_>,
        summary: &str,
        pending: &str,
    ) -> Result<(), ToolError> {
        self.confirm_with_human(ctx, action, target, summary)
            .await?;
        // A stopping server finishes the writes already sent, and starts none.
        if self.shutdown().is_triggered() {
            let why = format!(
                "the server is shutting down, so this was not sent to Zoho: {summary}. Nothing was changed; call again once it is restarted."
            );
            return Err(self.refuse(action, target, why));
        }
        self.try_audit(action, target, "pending", pending)
            .map_err(|e| {
                ToolError(format!(
                    "{e}; refusing to change anything without an audit record. Fix --audit-log / BIGIN_AUDIT_LOG."
                ))
            })
    }

    /// Refuses with an audit line and the message the caller sees.
    fn refuse(&self, action: &Action, target: &Target<'_>, why: String) -> ToolError {
        self.audit_write(action, target, "refused", &why);
        ToolError(why)
    }

    /// Waits for any other write to the same user to finish.
    async fn lock_user(&self, id: &str) -> UserLock<'_> {
        let lock = {
            let mut map = self.user_locks().lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(map.entry(id.to_string()).or_default())
        };
        UserLock {
            locks: self.user_locks(),
            id: id.to_string(),
            guard: Some(lock.lock_owned().await),
        }
    }

    /// Asks the person at the client to confirm `summary`, when the client
    /// can be asked and elicitation is on. `Ok(())` to go ahead; `Err` with
    /// the reason (already audited as `declined`) otherwise.
    async fn confirm_with_human(
        &self,
        ctx: &RequestContext<RoleServer>,
        action: &Action,
        target: &Target<'_>,
        summary: &str,
    ) -> Result<(), ToolError> {
        let can_ask = ctx
            .client_capabilities()
            .is_some_and(|c| c.elicitation.is_some());
        if !self.elicitation_enabled() || !can_ask {
            return Ok(());
        }
        let schema = ElicitationSchema::builder()
            .required_bool_with("confirm", |b| {
                b.title("Yes, make this change").with_default(false)
            })
            .build()
            .map_err(|e| ToolError(format!("cannot build the confirmation form: {e}")))?;
        let asked = ctx
            .peer
            .create_elicitation_with_timeout(
                ElicitRequestParams::FormElicitationParams {
                    meta: None,
                    message: format!("Confirm this change in Zoho Bigin: {summary}"),
                    requested_schema: schema,
                },
                Some(ELICIT_TIMEOUT),
            )
            .await;
        let said = match asked {
            Ok(r) => match r.action {
                ElicitationAction::Accept
                    if r.content
                        .as_ref()
                        .and_then(|c| c.get("confirm"))
                        .and_then(serde_json::Value::as_bool)
                        == Some(true) =>
                {
                    return Ok(());
                }
                ElicitationAction::Accept => "did not tick the confirmation",
                ElicitationAction::Decline => "declined",
                ElicitationAction::Cancel => "cancelled",
                _ => "did not confirm",
            },
            Err(e) => {
                tracing::warn!(error = %e, "confirmation request failed");
                "could not be asked (the confirmation request failed or timed out)"
            }
        };
        let why = format!("The person {said}, so nothing was changed: {summary}.");
        self.audit_write(action, target, "declined", &why);
        Err(ToolError(why))
    }

    /// Verify, then act on an existing user: the user is fetched, the
    /// confirmation compared, the primary user and no-op changes refused,
    /// the human asked (where the client can), and only then is the write
    /// sent. Writes to one user run one at a time, each verifying afresh, so
    /// a repeated call finds the change already made and sends nothing.
    pub(crate) async fn guarded_write(
        &self,
        ctx: &RequestContext<RoleServer>,
        action: Action,
        raw_id: &str,
        confirm: &str,
        dry_run: bool,
    ) -> Result<Json<WriteResult>, ToolError> {
        let shown_id: String = raw_id.chars().take(40).collect();
        let confirm = confirm.trim();
        let mut target = Target {
            id: &shown_id,
            email: "",
            given: confirm,
        };
        let id = match ZohoId::parse(raw_id, "user_id") {
            Ok(id) => id,
            Err(e) => return Err(self.refuse(&action, &target, ToolError::from(e).0)),
        };
        target.id = id.as_str();
        if confirm.is_empty() || !confirm.contains('@') {
            let why = "confirm_email must be the user's email address (as shown by bigin_get_user). Nothing was sent to Zoho.".to_string();
            return Err(self.refuse(&action, &target, why));
        }
        let _lock = self.lock_user(id.as_str()).await;
        let client = self.client();
        let user = match client.get_user(&id).await {
            Ok(Some(u)) => u,
            Ok(None) => {
                let why = format!(
                    "no user has id {id}; nothing was changed. Find the id with bigin_list_users."
                );
                return Err(self.refuse(&action, &target, why));
            }
            Err(e) => {
                return Err(self.refuse(
                    &action,
                    &target,
                    format!(
                        "cannot verify the user before the change, so nothing was changed: {e}"
                    ),
                ));
            }
        };
        let Ok(typed) = User::from_value(&user) else {
            let why =
                format!("Zoho's record for user {id} cannot be read, so nothing was changed.");
            return Err(self.refuse(&action, &target, why));
        };
        let who = ConciseUser::from(&typed);
        let email = who.email.trim().to_string();
        target.email = &email;
        if !email.eq_ignore_ascii_case(confirm) {
            let why = format!(
                "confirm_email does not match the email on record for user {id} ({}); nothing was changed. Check the user with bigin_get_user and pass their exact email.",
                who.full_name
            );
            // The email on record is for the log, not for the caller.
            return Err(self.refuse(&action, &target, why));
        }
        let current = typed.status.clone();
        let noop: Option<String> = match (&action, &current) {
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
                    .is_none_or(|r| typed.role.as_ref().is_some_and(|x| x.id == r.id));
                let same_profile = profile
                    .as_ref()
                    .is_none_or(|p| typed.profile.as_ref().is_some_and(|x| x.id == p.id));
                (same_role && same_profile)
                    .then(|| "already has that role and profile".to_string())
            }
            _ => None,
        };
        if let Some(state) = noop {
            let why = format!("{} ({email}) {state}; nothing was changed.", who.full_name);
            return Err(self.refuse(&action, &target, why));
        }
        // The primary user owns the organisation; Zoho refuses too, but we
        // never even try. If we cannot tell, we do not act.
        let org = match self.org(false).await {
            Ok((o, _)) => o,
            Err(e) => {
                return Err(self.refuse(
                    &action,
                    &target,
                    format!(
                        "cannot check whether this is the primary user, so nothing was changed: {e}"
                    ),
                ));
            }
        };
        let primary_email = org.primary_email.as_deref().unwrap_or("").trim();
        let primary_zuid = org.primary_zuid.as_deref().unwrap_or("").trim();
        if primary_email.is_empty() && primary_zuid.is_empty() {
            let why = "the organisation record names no primary user (primary_email and primary_zuid are empty), so this server cannot rule out changing it; nothing was changed. Make the change in Bigin's UI.".to_string();
            return Err(self.refuse(&action, &target, why));
        }
        let is_primary = (!primary_email.is_empty() && primary_email.eq_ignore_ascii_case(&email))
            || (!primary_zuid.is_empty()
                && Some(primary_zuid) == typed.zuid.as_deref().map(str::trim));
        if is_primary {
            let why = format!(
                "{} ({email}) is the organisation's primary user, which this server never changes; transfer the primary role in Bigin first. Nothing was changed.",
                who.full_name
            );
            return Err(self.refuse(&action, &target, why));
        }
        // What changes, from → to, for the person, the log and the result.
        let change = match &action {
            Action::Update { role, profile } => {
                let mut parts = Vec::new();
                if let Some(p) = profile {
                    parts.push(format!(
                        "profile {} → {}",
                        ref_name(typed.profile.as_deref()),
                        p.name
                    ));
                }
                if let Some(r) = role {
                    parts.push(format!(
                        "role {} → {}",
                        ref_name(typed.role.as_deref()),
                        r.name
                    ));
                }
                parts.join(", ")
            }
            Action::Deactivate => format!("status {current} → inactive"),
            Action::Activate => format!("status {current} → active"),
            Action::Delete => format!("status {current} → deleted (irreversible)"),
            Action::Invite => String::new(),
        };
        let summary = format!("{} {} <{email}>: {change}", action.verb(), who.full_name);
        if dry_run {
            let message = format!("Dry run: would {summary}. Call again without dry_run to do it.");
            self.audit_write(&action, &target, "dry_run", &message);
            return Ok(Json(WriteResult {
                action: action.verb().into(),
                dry_run: true,
                outcome: "dry_run".into(),
                user: who,
                message,
            }));
        }
        self.clear_to_send(
            ctx,
            &action,
            &target,
            &summary,
            &format!("sending the change to Zoho: {change}"),
        )
        .await?;
        let result = match &action {
            Action::Deactivate => client.set_user_status(&id, "inactive").await,
            Action::Activate => client.set_user_status(&id, "active").await,
            Action::Delete => client.delete_user(&id).await,
            Action::Update { role, profile } => {
                let ids =
                    |r: &Option<Ref>| r.as_ref().map(|r| ZohoId::parse(&r.id, "id")).transpose();
                match (ids(role), ids(profile)) {
                    (Ok(r), Ok(p)) => client.update_user(&id, r.as_ref(), p.as_ref()).await,
                    _ => Err(ZohoError::Decode {
                        what: "the role or profile".into(),
                        message: "an id from Zoho is not a valid id".into(),
                    }),
                }
            }
            Action::Invite => unreachable!("invites go through guarded_invite"),
        };
        // Sent: whatever Zoho answered, cached user lists may now be wrong.
        self.cache().users_changed();
        match result {
            Ok(outcome) => {
                let done = match &action {
                    Action::Deactivate => "deactivated".to_string(),
                    Action::Activate => "reactivated".to_string(),
                    Action::Delete => "deleted".to_string(),
                    Action::Update { .. } => format!("updated ({change})"),
                    Action::Invite => unreachable!(),
                };
                let message = format!(
                    "{} ({email}) was {done}. Zoho: {} {}",
                    who.full_name, outcome.code, outcome.message
                );
                self.audit_write(&action, &target, "success", &message);
                let mut user = who;
                match &action {
                    Action::Deactivate => user.status = "inactive".into(),
                    Action::Activate => user.status = "active".into(),
                    Action::Delete => user.status = "deleted".into(),
                    Action::Update { role, profile } => {
                        if let Some(r) = role {
                            user.role = Some(r.clone());
                        }
                        if let Some(p) = profile {
                            user.profile = Some(p.clone());
                        }
                    }
                    Action::Invite => {}
                }
                Ok(Json(WriteResult {
                    action: action.verb().into(),
                    dry_run: false,
                    outcome: "success".into(),
                    user,
                    message,
                }))
            }
            Err(e) => {
                let msg = e.to_string();
                self.audit_write(&action, &target, "error", &msg);
                Err(ToolError(match e {
                    ZohoError::Record { .. } => msg,
                    _ => format!("{msg} (user {id}, {email})"),
                }))
            }
        }
    }

    /// Verify, then invite: the email must be new (held by no user who is
    /// not deleted), the human is asked where the client can, and every
    /// attempt is audited.
    pub(crate) async fn guarded_invite(
        &self,
        ctx: &RequestContext<RoleServer>,
        new: NewUser<'_>,
        role: &Ref,
        profile: &Ref,
        dry_run: bool,
    ) -> Result<Json<WriteResult>, ToolError> {
        let action = Action::Invite;
        let email = new.email.trim().to_string();
        let target = Target {
            id: "",
            email: &email,
            given: &email,
        };
        let full_name = format!("{} {}", new.first_name.unwrap_or(""), new.last_name)
            .trim()
            .to_string();
        // One invitation per address at a time: two concurrent invites of
        // the same person would otherwise both pass the check.
        let _lock = self
            .lock_user(&format!("invite:{}", email.to_lowercase()))
            .await;
        let users = match self.users(crate::zoho::UserType::AllUsers, true).await {
            Ok((u, _)) => u,
            Err(e) => {
                return Err(self.refuse(
                    &action,
                    &target,
                    format!(
                        "cannot check whether {email} is already a user, so nobody was invited: {e}"
                    ),
                ));
            }
        };
        if let Some(u) = users.iter().find(|u| {
            u.status != UserStatus::Deleted && u.email.trim().eq_ignore_ascii_case(&email)
        }) {
            let why = format!(
                "{email} already belongs to {} (id {}, status {}); nobody was invited. To change their role or profile use bigin_update_user.",
                u.full_name, u.id, u.status
            );
            return Err(self.refuse(&action, &target, why));
        }
        let summary = format!(
            "invite {full_name} <{email}> as profile {}, role {}",
            profile.name, role.name
        );
        let user = ConciseUser {
            id: String::new(),
            full_name: full_name.clone(),
            email: email.clone(),
            status: "active".into(),
            role: Some(role.clone()),
            profile: Some(profile.clone()),
        };
        if dry_run {
            let message = format!(
                "Dry run: would {summary}. Zoho emails them an invitation; they stay unconfirmed until they accept. Call again without dry_run to do it."
            );
            self.audit_write(&action, &target, "dry_run", &message);
            return Ok(Json(WriteResult {
                action: action.verb().into(),
                dry_run: true,
                outcome: "dry_run".into(),
                user,
                message,
            }));
        }
        self.clear_to_send(
            ctx,
            &action,
            &target,
            &summary,
            &format!("sending to Zoho: {summary}"),
        )
        .await?;
        let result = self.client().create_user(&new).await;
        self.cache().users_changed();
        match result {
            Ok((id, outcome)) => {
                let message = format!(
                    "{full_name} ({email}) was invited as user {id}. Zoho: {} {}. They stay unconfirmed until they accept the emailed invitation.",
                    outcome.code, outcome.message
                );
                let done = Target {
                    id: id.as_str(),
                    email: &email,
                    given: &email,
                };
                self.audit_write(&action, &done, "success", &message);
                Ok(Json(WriteResult {
                    action: action.verb().into(),
                    dry_run: false,
                    outcome: "success".into(),
                    user: ConciseUser {
                        id: id.as_str().to_string(),
                        ..user
                    },
                    message,
                }))
            }
            Err(e) => {
                let msg = e.to_string();
                self.audit_write(&action, &target, "error", &msg);
                Err(ToolError(match e {
                    ZohoError::Record { .. } => msg,
                    _ => format!("{msg} (inviting {email})"),
                }))
            }
        }
    }
}
