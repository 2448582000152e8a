//! The write guard: every change to a user passes here. It verifies the
//! target (id, confirmation email, current state), never touches the primary
//! user, asks a person through [`Confirm`] where one can be asked, runs
//! writes to one user one at a time, refuses new writes while the process
//! stops, and leaves an audit line for every attempt (two for a sent write:
//! pending, then its outcome). A change that cannot be audited is not made.
//!
//! Zoho's SUCCESS is not taken as proof: every sent write is read back
//! (`GET /users/{id}`) and compared with what was asked; a change that did
//! not take is an error audited `unverified`. A role or profile whose body
//! form Zoho did not read is resent once in the other form (see
//! [`crate::zoho::RefForm`]), and the session remembers the form that worked.
//!
//! How the person is asked is the caller's business: `mcp` asks by MCP
//! elicitation, a test answers itself. Silence (past the guard's timeout,
//! [`CONFIRM_TIMEOUT`]), a decline or a cancel all mean no. A call the
//! caller withdrew ([`Confirm::is_cancelled`]) before its write was sent
//! sends nothing, whatever the person answers afterwards; every audit line
//! says how the write was confirmed (`confirmed_by`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

mod action;
mod invite;
#[cfg(test)]
mod tests;

pub use action::{Action, Audited, Invitation, NAME_MAX, forged_char, invitee_problem};

use super::audit::{AuditEntry, AuditError, AuditLog, ConfirmedBy, Outcome};
use super::error::AdminError;
use super::session::Session;
use super::shutdown::Shutdown;
use super::user::ConciseUser;
use crate::fsx::FileLock;
use crate::zoho::{RecordOutcome, User, UserStatus, UserType, ZohoError, ZohoId};

/// How long a person has to answer a confirmation: below the clients' own
/// call timeouts (Claude Desktop's Cowork and Code tab give up after about
/// 60 s), so an unanswered dialog ends as "nothing sent", not as a call
/// the client abandoned.
pub const CONFIRM_TIMEOUT: Duration = Duration::from_secs(45);

/// The result of a write.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WriteResult {
    /// deactivate, activate, delete, update or invite.
    pub action: String,
    pub dry_run: bool,
    /// dry_run or success.
    pub outcome: String,
    /// True when the user was read back after the write and showed the
    /// change (a write that did not read back as asked is an error).
    pub verified: bool,
    pub user: ConciseUser,
    pub message: String,
}

/// What reading a user back after a write showed.
enum ReadBack {
    /// The change is there.
    Taken,
    /// It is not: what was seen instead, and whether the role/profile
    /// body form may be why (so the other form is worth one more try).
    NotTaken(String, bool),
    /// The user could not be read back: why.
    Unreadable(String),
}

/// The sentence ending every verified write's message.
const VERIFIED: &str = "Verified by reading the user back from Zoho.";

/// What the person said to one confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Nobody could be asked (the client cannot, or asking is off): the
    /// caller's confirmation email is all the confirmation there is.
    NotAsked,
    /// The person confirmed.
    Yes,
    /// The person did not confirm; how, as it ends "The person ...":
    /// "declined", "cancelled", "did not tick the confirmation".
    No(String),
}

/// Asks a person to confirm one write. `summary` is one line: what changes,
/// for whom. `timeout` is how long the guard waits; an implementation
/// that can pass it on to its peer should.
pub trait Confirm: Send + Sync {
    fn ask(&self, summary: &str, timeout: Duration) -> impl Future<Output = Answer> + Send;

    /// Whether the caller has withdrawn the call (MCP
    /// `notifications/cancelled`); checked at the last gate before sending.
    fn is_cancelled(&self) -> bool {
        false
    }

    /// Resolves once the caller withdraws the call; never, by default.
    fn cancelled(&self) -> impl Future<Output = ()> + Send {
        std::future::pending()
    }
}

/// Asks nobody: the CLI and read-only callers.
pub struct NoConfirm;

impl Confirm for NoConfirm {
    async fn ask(&self, _summary: &str, _timeout: Duration) -> Answer {
        Answer::NotAsked
    }
}

/// Per-user locks of the writes in progress.
type UserLocks = std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>;

/// Held while a write to one user runs; the map entry goes with the last holder.
struct UserLock<'a> {
    locks: &'a UserLocks,
    id: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// The same user's lock across processes, when the guard has a lock
    /// directory.
    file: Option<FileLock>,
}

impl Drop for UserLock<'_> {
    fn drop(&mut self) {
        self.file.take();
        self.guard.take();
        let mut map = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(&self.id).is_some_and(|l| Arc::strong_count(l) == 1) {
            map.remove(&self.id);
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

/// The gate every write passes; one per process (its locks serialise
/// writes to one user).
pub struct WriteGuard {
    session: Arc<Session>,
    audit: AuditLog,
    shutdown: Shutdown,
    /// One lock per user being written, so two writes to the same user run
    /// one after the other and the second sees the first one's result.
    locks: UserLocks,
    /// Where the per-organisation, per-user lock files live, shared by
    /// every server process of this login: Claude Desktop runs several
    /// copies at once, and two of them must not both write one user.
    lock_dir: Option<std::path::PathBuf>,
    confirm_timeout: Duration,
}

impl WriteGuard {
    /// A guard writing through `session`, recording in `audit`, refusing
    /// new writes once `shutdown` is triggered.
    pub fn new(session: Arc<Session>, audit: AuditLog, shutdown: Shutdown) -> WriteGuard {
        WriteGuard {
            session,
            audit,
            shutdown,
            locks: Default::default(),
            lock_dir: None,
            confirm_timeout: CONFIRM_TIMEOUT,
        }
    }

    /// `locks` in the platform data directory (`~/.local/share/bigin-mcp`
    /// on Linux), beside the audit log and the review snapshots.
    pub fn default_lock_dir() -> Option<std::path::PathBuf> {
        directories::ProjectDirs::from("", "", "bigin-mcp").map(|d| d.data_dir().join("locks"))
    }

    /// Serialises writes to one user across processes too, with lock
    /// files under `dir` (`<org id>/<user>.lock`).
    pub fn with_lock_dir(mut self, dir: std::path::PathBuf) -> WriteGuard {
        self.lock_dir = Some(dir);
        self
    }

    /// How long a person has to answer (default [`CONFIRM_TIMEOUT`]).
    pub fn with_confirm_timeout(mut self, timeout: Duration) -> WriteGuard {
        self.confirm_timeout = timeout;
        self
    }

    pub fn audit_log(&self) -> &AuditLog {
        &self.audit
    }

    /// How long a person has to answer a confirmation.
    pub fn confirm_timeout(&self) -> Duration {
        self.confirm_timeout
    }

    /// One audit line of a write that was not sent (`confirmed_by: none`);
    /// a failure is logged (the caller goes on).
    fn audit_write(&self, w: &dyn Audited, target: &Target<'_>, outcome: Outcome, detail: &str) {
        self.audit_as(w, target, outcome, ConfirmedBy::None, detail);
    }

    /// One audit line; a failure is logged (the caller goes on).
    fn audit_as(
        &self,
        w: &dyn Audited,
        target: &Target<'_>,
        outcome: Outcome,
        by: ConfirmedBy,
        detail: &str,
    ) {
        if let Err(e) = self.try_audit(w, target, outcome, by, detail) {
            tracing::error!(error = %e, "audit log write failed");
        }
    }

    /// One audit line, or why it could not be written.
    fn try_audit(
        &self,
        w: &dyn Audited,
        target: &Target<'_>,
        outcome: Outcome,
        confirmed_by: ConfirmedBy,
        detail: &str,
    ) -> Result<(), AuditError> {
        self.audit.append(AuditEntry {
            time: String::new(),
            tool: w.tool(),
            user_id: target.id,
            email: target.email,
            given_email: target.given,
            action: w.verb(),
            outcome,
            confirmed_by,
            detail,
        })
    }

    /// Refuses with an audit line and the message the caller sees.
    fn refuse(&self, w: &dyn Audited, target: &Target<'_>, why: String) -> AdminError {
        self.audit_write(w, target, Outcome::Refused, &why);
        AdminError::Refused(why)
    }

    /// Waits for any other write to the same user to finish, in this
    /// process and (with a lock directory) in every other one. `Err` says
    /// why the lock cannot be taken; the write is then refused.
    async fn lock_user(&self, key: &str) -> Result<UserLock<'_>, String> {
        let lock = {
            let mut map = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(map.entry(key.to_string()).or_default())
        };
        let mut held = UserLock {
            locks: &self.locks,
            id: key.to_string(),
            guard: Some(lock.lock_owned().await),
            file: None,
        };
        // Tasks of this process queue on the mutex above, so at most one
        // blocking thread per user waits for another process.
        if let Some(dir) = &self.lock_dir {
            let org = match self.session.org(false).await {
                Ok((o, _)) => o.id.clone(),
                Err(e) => {
                    return Err(format!(
                        "cannot read the organisation to lock the user, so nothing was changed: {e}"
                    ));
                }
            };
            let path = dir
                .join(file_part(&org))
                .join(format!("{}.lock", file_part(key)));
            let file = tokio::task::spawn_blocking(move || FileLock::acquire(&path))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()))
                .map_err(|e| {
                    format!(
                        "cannot take the lock that keeps other bigin-mcp processes from writing this user at the same time ({e}), so nothing was changed"
                    )
                })?;
            held.file = Some(file);
        }
        Ok(held)
    }

    /// Asks the person to confirm `summary`. `Ok` with who confirmed to go
    /// ahead; `Err` with the reason (already audited as `declined` or
    /// `cancelled`) otherwise. A cancel of the call ends the wait at once.
    async fn confirm_with_person(
        &self,
        confirm: &impl Confirm,
        w: &dyn Audited,
        target: &Target<'_>,
        summary: &str,
    ) -> Result<ConfirmedBy, AdminError> {
        let said = match self.ask_person(confirm, summary).await {
            None => return Err(self.cancelled(w, target, summary)),
            Some(Answer::Yes) => return Ok(ConfirmedBy::Person),
            Some(Answer::NotAsked) => return Ok(ConfirmedBy::ConfirmEmail),
            Some(Answer::No(said)) => said,
        };
        let why = format!("The person {said}, so nothing was changed: {summary}.");
        self.audit_write(w, target, Outcome::Declined, &why);
        Err(AdminError::Refused(why))
    }

    /// Asks the person `summary`, bounded by the confirmation timeout (an
    /// unanswered question is a `No` that says so); `None` when the call
    /// is cancelled meanwhile, which ends the wait at once.
    pub async fn ask_person(&self, confirm: &impl Confirm, summary: &str) -> Option<Answer> {
        let timeout = self.confirm_timeout;
        tokio::select! {
            a = tokio::time::timeout(timeout, confirm.ask(summary, timeout)) => Some(a.unwrap_or_else(|_| Answer::No(format!(
                "did not answer: the question timed out after {timeout:?} (the client may not have shown the confirmation dialog)"
            )))),
            () = confirm.cancelled() => None,
        }
    }

    /// A call withdrawn before its write was sent: audited `cancelled`.
    fn cancelled(&self, w: &dyn Audited, target: &Target<'_>, summary: &str) -> AdminError {
        let why = format!(
            "the call was cancelled before the change was sent, so nothing was changed: {summary}."
        );
        self.audit_write(w, target, Outcome::Cancelled, &why);
        AdminError::Refused(why)
    }

    /// The last gate before a write is sent: the person confirms (where one
    /// can be asked), a cancelled call or a stopping process starts nothing
    /// new, and the `pending` line is written. Fails closed: a change that
    /// cannot be recorded is not made. Returns who confirmed, for the
    /// outcome's line.
    async fn clear_to_send(
        &self,
        confirm: &impl Confirm,
        w: &dyn Audited,
        target: &Target<'_>,
        summary: &str,
        pending: &str,
    ) -> Result<ConfirmedBy, AdminError> {
        let by = self
            .confirm_with_person(confirm, w, target, summary)
            .await?;
        // A confirmation answered after its call was withdrawn changes
        // nothing: the caller has stopped waiting for this write.
        if confirm.is_cancelled() {
            return Err(self.cancelled(w, target, summary));
        }
        // A stopping process finishes the writes already sent, and starts none.
        if self.shutdown.is_triggered() {
            let why = format!(
                "the server is shutting down, so this was not sent to Zoho: {summary}. Nothing was changed; call again once it is restarted."
            );
            return Err(self.refuse(w, target, why));
        }
        self.try_audit(w, target, Outcome::Pending, by, pending)
            .map_err(|e| {
                AdminError::Refused(format!(
                    "{e}; refusing to change anything without an audit record. Fix --audit-log / BIGIN_AUDIT_LOG."
                ))
            })?;
        Ok(by)
    }

    /// A dry run's answer, audited.
    fn dry_run(
        &self,
        w: &dyn Audited,
        target: &Target<'_>,
        user: ConciseUser,
        message: String,
    ) -> WriteResult {
        self.audit_write(w, target, Outcome::DryRun, &message);
        WriteResult {
            action: w.verb().into(),
            dry_run: true,
            outcome: "dry_run".into(),
            verified: false,
            user,
            message,
        }
    }

    /// Verify, then act on an existing user: the user is fetched, the
    /// confirmation compared, the primary user and no-op changes refused,
    /// the person asked (where one can be), and only then is the write
    /// sent. Writes to one user run one at a time, each verifying afresh, so
    /// a repeated call finds the change already made and sends nothing.
    pub async fn write(
        &self,
        confirm: &impl Confirm,
        action: Action,
        raw_id: &str,
        confirm_email: &str,
        dry_run: bool,
    ) -> Result<WriteResult, AdminError> {
        let shown_id: String = raw_id.chars().take(40).collect();
        let given = confirm_email.trim();
        let mut target = Target {
            id: &shown_id,
            email: "",
            given,
        };
        let id = match ZohoId::parse(raw_id, "user_id") {
            Ok(id) => id,
            Err(e) => return Err(self.refuse(&action, &target, AdminError::Id(e).to_string())),
        };
        target.id = id.as_str();
        if given.is_empty() || !given.contains('@') {
            let why = "confirm_email must be the user's email address (as shown by bigin_get_user). Nothing was sent to Zoho.".to_string();
            return Err(self.refuse(&action, &target, why));
        }
        let _lock = match self.lock_user(id.as_str()).await {
            Ok(l) => l,
            Err(why) => return Err(self.refuse(&action, &target, why)),
        };
        let client = self.session.client();
        let user = match client.get_user(&id).await {
            Ok(Some(u)) => u,
            Ok(None) => {
                let why = format!(
                    "no user has id {id}; nothing was changed. Find the id with bigin_list_users."
                );
                return Err(self.refuse(&action, &target, why));
            }
            Err(e) => {
                let why = format!(
                    "cannot verify the user before the change, so nothing was changed: {e}"
                );
                return Err(self.refuse(&action, &target, why));
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
        if !email.eq_ignore_ascii_case(given) {
            let why = format!(
                "confirm_email does not match the email on record for user {id} ({}); nothing was changed. Check the user with bigin_get_user and pass their exact email.",
                who.full_name
            );
            // The email on record is for the log, not for the caller.
            return Err(self.refuse(&action, &target, why));
        }
        if let Some(state) = action.noop(&typed) {
            let why = format!("{} ({email}) {state}; nothing was changed.", who.full_name);
            return Err(self.refuse(&action, &target, why));
        }
        if let Some(why) = self.primary_user(&typed, &email, &who.full_name).await {
            return Err(self.refuse(&action, &target, why));
        }
        let change = action.change(&typed);
        let summary = format!("{} {} <{email}>: {change}", action.verb(), who.full_name);
        if dry_run {
            let message = format!("Dry run: would {summary}. Call again without dry_run to do it.");
            return Ok(self.dry_run(&action, &target, who, message));
        }
        let pending = format!("sending the change to Zoho: {change}");
        let by = self
            .clear_to_send(confirm, &action, &target, &summary, &pending)
            .await?;
        let mut form = self.session.ref_form();
        let result = action.send(client, &id, form).await;
        // Sent: whatever Zoho answered, cached user lists may now be wrong.
        self.session.cache().users_changed();
        let about = format!("user {id}, {email}");
        let mut outcome = match result {
            Ok(o) => o,
            Err(e) => return Err(self.failed(&action, &target, by, e, &about)),
        };
        // Zoho's SUCCESS is not proof: a body form it does not read is
        // answered SUCCESS too. Read the user back (one more credit).
        let mut seen = self.read_back(&id, |u| action.not_taken(u)).await;
        let mut forms = vec![form];
        if let ReadBack::NotTaken(what, true) = &seen {
            // Bigin documents neither form: try the other one, once.
            form = form.other();
            forms.push(form);
            let pending = format!(
                "resending in the other form ({}): Zoho answered SUCCESS to {} but {what}",
                form.describe(),
                forms[0].describe()
            );
            self.audit_as(&action, &target, Outcome::Pending, by, &pending);
            let again = action.send(client, &id, form).await;
            self.session.cache().users_changed();
            outcome = match again {
                Ok(o) => o,
                Err(e) => return Err(self.failed(&action, &target, by, e, &about)),
            };
            seen = self.read_back(&id, |u| action.not_taken(u)).await;
        }
        let sent: Vec<&str> = forms.iter().map(|f| f.describe()).collect();
        let done = action.done(&change);
        let not_done = format!("{} ({email}) was not {done}", who.full_name);
        let ok = self.verified((&action, &target, by), &seen, &outcome, &sent, &not_done)?;
        if action.sends_references() {
            self.session.ref_form_worked(form);
        }
        let message = format!(
            "{} ({email}) was {done}. Zoho: {} {}. {ok}",
            who.full_name, outcome.code, outcome.message
        );
        self.audit_as(&action, &target, Outcome::Success, by, &message);
        let mut user = who;
        action.apply(&mut user);
        Ok(WriteResult {
            action: action.verb().into(),
            dry_run: false,
            outcome: "success".into(),
            verified: true,
            user,
            message,
        })
    }

    /// Reads user `id` back and judges it with `not_taken`.
    async fn read_back(
        &self,
        id: &ZohoId,
        not_taken: impl FnOnce(Option<&User>) -> Option<(String, bool)>,
    ) -> ReadBack {
        let user = match self.session.client().get_user(id).await {
            Ok(None) => None,
            Ok(Some(v)) => match User::from_value(&v) {
                Ok(u) => Some(u),
                Err(e) => {
                    return ReadBack::Unreadable(format!("Zoho's record cannot be read: {e}"));
                }
            },
            Err(e) => return ReadBack::Unreadable(e.to_string()),
        };
        match not_taken(user.as_ref()) {
            None => ReadBack::Taken,
            Some((what, retry)) => ReadBack::NotTaken(what, retry),
        }
    }

    /// The words a verified write ends with, or the error (audited as
    /// `unverified`, with how it was confirmed) for one that did not read
    /// back as asked. `sent` names the body forms sent, in order;
    /// `not_done` says what is not so.
    fn verified(
        &self,
        (w, target, by): (&dyn Audited, &Target<'_>, ConfirmedBy),
        seen: &ReadBack,
        outcome: &RecordOutcome,
        sent: &[&str],
        not_done: &str,
    ) -> Result<String, AdminError> {
        let answered = match sent {
            [first, second, ..] => format!(
                "Zoho answered {} twice (the role/profile sent as {first}, then as {second})",
                outcome.code
            ),
            _ => format!("Zoho answered {}", outcome.code),
        };
        let why = match seen {
            ReadBack::Taken if sent.len() > 1 => {
                return Ok(format!(
                    "{VERIFIED} (The role/profile sent as {} did not take; resent as {}, which did, and which this session now sends first.)",
                    sent[0],
                    sent[sent.len() - 1]
                ));
            }
            ReadBack::Taken => return Ok(VERIFIED.to_string()),
            ReadBack::NotTaken(what, _) => format!(
                "{answered} but {what}: {not_done}. Nothing more was sent; check the user with bigin_get_user."
            ),
            ReadBack::Unreadable(e) => format!(
                "{answered} but the user could not be read back to verify it ({e}), so it is not reported as done; check the user with bigin_get_user before calling again."
            ),
        };
        self.audit_as(w, target, Outcome::Unverified, by, &why);
        Err(AdminError::Failed(why))
    }

    /// Why `user` must not be changed because they own the organisation,
    /// or because that cannot be ruled out; `None` when they may be.
    /// Zoho refuses too, but we never even try. If we cannot tell, we do
    /// not act.
    async fn primary_user(&self, user: &User, email: &str, name: &str) -> Option<String> {
        let org = match self.session.org(false).await {
            Ok((o, _)) => o,
            Err(e) => {
                return Some(format!(
                    "cannot check whether this is the primary user, so nothing was changed: {e}"
                ));
            }
        };
        let primary_email = org.primary_email.as_deref().unwrap_or("").trim();
        let primary_zuid = org.primary_zuid.as_deref().unwrap_or("").trim();
        if primary_email.is_empty() && primary_zuid.is_empty() {
            return Some("the organisation record names no primary user (primary_email and primary_zuid are empty), so this server cannot rule out changing it; nothing was changed. Make the change in Bigin's UI.".to_string());
        }
        let is_primary = (!primary_email.is_empty() && primary_email.eq_ignore_ascii_case(email))
            || (!primary_zuid.is_empty()
                && Some(primary_zuid) == user.zuid.as_deref().map(str::trim));
        is_primary.then(|| format!(
            "{name} ({email}) is the organisation's primary user, which this server never changes; transfer the primary role in Bigin first. Nothing was changed."
        ))
    }

    /// A sent write Zoho did not accept, audited as `error`.
    fn failed(
        &self,
        w: &dyn Audited,
        target: &Target<'_>,
        by: ConfirmedBy,
        e: ZohoError,
        about: &str,
    ) -> AdminError {
        let msg = e.to_string();
        self.audit_as(w, target, Outcome::Error, by, &msg);
        AdminError::Failed(match e {
            ZohoError::Record { .. } => msg,
            _ => format!("{msg} ({about})"),
        })
    }
}

/// `s` as one file-name component: ASCII letters and digits kept, anything
/// else `_` (ids are digits; an invite's key holds an email).
fn file_part(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(120)
        .collect();
    if out.is_empty() { "_".into() } else { out }
}
