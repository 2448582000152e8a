//! The write guard: every change to a user passes here. It verifies the
//! target (id, confirmation email, current state), never touches the primary
//! user, runs writes to one user one at a time, refuses new writes while the
//! server stops, and leaves an audit line for every attempt (two for a sent
//! write: pending, then its outcome). A change that cannot be audited is not
//! made.

use std::collections::HashMap;
use std::sync::Arc;

use rmcp::{Json, schemars};
use schemars::JsonSchema;
use serde::Serialize;

use super::audit::AuditEntry;
use super::error::ToolError;
use super::server::BiginServer;
use super::view::ConciseUser;
use crate::zoho::{User, ZohoError, ZohoId};

/// The result of a write tool.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WriteResult {
    /// deactivate, activate or delete.
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

/// What a write does, for messages and the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Deactivate,
    Activate,
    Delete,
}

impl Action {
    pub fn verb(self) -> &'static str {
        match self {
            Action::Deactivate => "deactivate",
            Action::Activate => "activate",
            Action::Delete => "delete",
        }
    }
    pub fn tool(self) -> &'static str {
        match self {
            Action::Delete => "bigin_delete_user",
            _ => "bigin_set_user_status",
        }
    }
}

impl BiginServer {
    /// One audit line. `email` is the email on record (empty when the user
    /// could not be read); `given` is what the caller passed as confirm_email.
    fn audit_write(&self, action: Action, target: &Target<'_>, outcome: &str, detail: &str) {
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
        if let Err(e) = self.audit_log().append(entry) {
            tracing::error!(error = %e, "audit log write failed");
        }
    }

    /// Refuses with an audit line and the message the caller sees.
    fn refuse(&self, action: Action, target: &Target<'_>, why: String) -> ToolError {
        self.audit_write(action, target, "refused", &why);
        ToolError(why)
    }

    /// Waits for any other write to the same user to finish.
    async fn lock_user(&self, id: &ZohoId) -> UserLock<'_> {
        let lock = {
            let mut map = self.user_locks().lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(map.entry(id.as_str().to_string()).or_default())
        };
        UserLock {
            locks: self.user_locks(),
            id: id.as_str().to_string(),
            guard: Some(lock.lock_owned().await),
        }
    }

    /// Verify, then act: the user is fetched, the confirmation compared, the
    /// primary user and no-op changes refused, and only then is the write
    /// sent. Writes to one user run one at a time, each verifying afresh, so
    /// a repeated call finds the change already made and sends nothing.
    /// Every path leaves one audit line (two for a sent write: pending, then
    /// its outcome).
    pub(crate) async fn guarded_write(
        &self,
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
            Err(e) => return Err(self.refuse(action, &target, ToolError::from(e).0)),
        };
        target.id = id.as_str();
        if confirm.is_empty() || !confirm.contains('@') {
            let why = "confirm_email must be the user's email address (as shown by bigin_get_user). Nothing was sent to Zoho.".to_string();
            return Err(self.refuse(action, &target, why));
        }
        let _lock = self.lock_user(&id).await;
        let client = self.client();
        let user = match client.get_user(&id).await {
            Ok(Some(u)) => u,
            Ok(None) => {
                let why = format!(
                    "no user has id {id}; nothing was changed. Find the id with bigin_list_users."
                );
                return Err(self.refuse(action, &target, why));
            }
            Err(e) => {
                return Err(self.refuse(
                    action,
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
            return Err(self.refuse(action, &target, why));
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
            return Err(self.refuse(action, &target, why));
        }
        let current = who.status.as_str();
        let noop = match action {
            Action::Deactivate if current == "inactive" => Some("is already inactive"),
            Action::Activate if current == "active" => Some("is already active"),
            Action::Delete if current == "deleted" => Some("is already deleted"),
            Action::Deactivate | Action::Activate if current == "deleted" => {
                Some("is deleted; a deleted user cannot be changed")
            }
            _ => None,
        };
        if let Some(state) = noop {
            let why = format!("{} ({email}) {state}; nothing was changed.", who.full_name);
            return Err(self.refuse(action, &target, why));
        }
        // The primary user owns the organisation; Zoho refuses too, but we
        // never even try. If we cannot tell, we do not act.
        let org = match self.org(false).await {
            Ok((o, _)) => o,
            Err(e) => {
                return Err(self.refuse(
                    action,
                    &target,
                    format!(
                        "cannot check whether this is the primary user, so nothing was changed: {e}"
                    ),
                ));
            }
        };
        let primary_email = org
            .primary_email
            .as_deref()
            .unwrap_or("")
            .trim()
            .to_string();
        let primary_zuid = org.primary_zuid.as_deref().unwrap_or("").trim().to_string();
        if primary_email.is_empty() && primary_zuid.is_empty() {
            let why = "the organisation record names no primary user (primary_email and primary_zuid are empty), so this server cannot rule out changing it; nothing was changed. Make the change in Bigin's UI.".to_string();
            return Err(self.refuse(action, &target, why));
        }
        let is_primary = (!primary_email.is_empty() && primary_email.eq_ignore_ascii_case(&email))
            || (!primary_zuid.is_empty()
                && Some(primary_zuid.as_str()) == typed.zuid.as_deref().map(str::trim));
        if is_primary {
            let why = format!(
                "{} ({email}) is the organisation's primary user, which this server never changes; transfer the primary role in Bigin first. Nothing was changed.",
                who.full_name
            );
            return Err(self.refuse(action, &target, why));
        }
        if dry_run {
            let message = format!(
                "Dry run: would {} {} ({email}), currently {current}. Call again without dry_run to do it.",
                action.verb(),
                who.full_name
            );
            self.audit_write(action, &target, "dry_run", &message);
            return Ok(Json(WriteResult {
                action: action.verb().into(),
                dry_run: true,
                outcome: "dry_run".into(),
                user: who,
                message,
            }));
        }
        // A stopping server finishes the writes already sent, and starts none.
        if self.shutdown().is_triggered() {
            let why = "the server is shutting down, so the change was not sent; nothing was changed. Call again once it is restarted.".to_string();
            return Err(self.refuse(action, &target, why));
        }
        // Fail closed: a change that cannot be recorded is not made.
        if let Err(e) = self.audit_log().append(AuditEntry {
            time: String::new(),
            tool: action.tool(),
            user_id: id.as_str(),
            email: &email,
            given_email: confirm,
            action: action.verb(),
            outcome: "pending",
            detail: "sending the change to Zoho",
        }) {
            return Err(ToolError(format!(
                "{e}; refusing to change anything without an audit record. Fix --audit-log / BIGIN_AUDIT_LOG."
            )));
        }
        let result = match action {
            Action::Deactivate => client.set_user_status(&id, "inactive").await,
            Action::Activate => client.set_user_status(&id, "active").await,
            Action::Delete => client.delete_user(&id).await,
        };
        // Sent: whatever Zoho answered, cached user lists may now be wrong.
        self.cache().users_changed();
        match result {
            Ok(outcome) => {
                let done = match action {
                    Action::Deactivate => "deactivated",
                    Action::Activate => "reactivated",
                    Action::Delete => "deleted",
                };
                let message = format!(
                    "{} ({email}) was {done}. Zoho: {} {}",
                    who.full_name, outcome.code, outcome.message
                );
                self.audit_write(action, &target, "success", &message);
                let mut user = who;
                user.status = match action {
                    Action::Deactivate => "inactive",
                    Action::Activate => "active",
                    Action::Delete => "deleted",
                }
                .into();
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
                self.audit_write(action, &target, "error", &msg);
                Err(ToolError(match e {
                    ZohoError::Record { .. } => msg,
                    _ => format!("{msg} (user {id}, {email})"),
                }))
            }
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
