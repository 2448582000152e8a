//! Review decisions turned into a plan: the one implementation behind the
//! CLI's `bigin-mcp apply FILE.csv` and the `bigin_apply_review_decisions`
//! tool. Each decision (`keep`, `deactivate`, `delete`, `profile:<name>`)
//! is checked against the user as Zoho has them now; a row that no longer
//! matches is reported by id and left out, the rest become [`Planned`]
//! changes (from → to) that the caller sends through the write guard.
//! It also names the review snapshot the decisions came from, and seals a
//! plan into a token, so a plan is executed only as it was shown, checks
//! the tool's decision rows, and carries a plan out ([`Executor`]) through
//! the write guard with the caller's own audit line per change.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::admin::audit::{AuditEntry, AuditError, Outcome};
use crate::admin::guard::{Action, Answer, Audited, Confirm, WriteResult};
use crate::admin::snapshots::{Since, SnapshotStore, sha256_hex};
use crate::admin::{AdminError, ConfirmedBy, WriteGuard};
use crate::fsx;
use crate::zoho::{Profile, Ref, User};

/// One reviewer decision about one user.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    /// How the caller names the row in messages: "row 7" (CSV) or
    /// "decision 1" (tool).
    pub label: String,
    pub id: String,
    /// The email the reviewer saw: it must still be the user's, and it is
    /// the write guard's `confirm_email`.
    pub email: String,
    pub name: String,
    /// The status the reviewer saw, when known (the CSV has it).
    pub status: Option<String>,
    /// The profile id the reviewer saw, when known (the CSV has it).
    pub profile_id: Option<String>,
    /// `keep`, `deactivate`, `delete` or `profile:<name>` (any case).
    pub decision: String,
}

/// One change to carry out.
#[derive(Debug, Clone)]
pub struct Planned {
    pub label: String,
    pub id: String,
    pub email: String,
    pub name: String,
    pub action: Action,
    /// From → to, as `Action::change` says it.
    pub change: String,
}

/// A row left out of the plan, by id, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub label: String,
    pub id: String,
    pub why: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, user {}: {}; skipped", self.label, self.id, self.why)
    }
}

/// The changes to make, and the rows left out.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub changes: Vec<Planned>,
    pub skipped: Vec<Skipped>,
}

/// Whether a decision asks for no change.
pub fn is_keep(decision: &str) -> bool {
    let d = decision.trim();
    d.is_empty() || d.eq_ignore_ascii_case("keep")
}

/// Plans `decisions` against `users` and `profiles` as Zoho has them now.
pub fn plan(decisions: &[Decision], users: &[User], profiles: &[Profile]) -> Plan {
    let mut out = Plan::default();
    for d in decisions {
        let decision = d.decision.trim();
        if is_keep(decision) {
            continue;
        }
        let skip = |why: String| Skipped {
            label: d.label.clone(),
            id: d.id.clone(),
            why,
        };
        let Some(user) = users.iter().find(|u| u.id == d.id) else {
            out.skipped.push(skip("no such user in Zoho now".into()));
            continue;
        };
        if let Some(why) = mismatch(user, d) {
            out.skipped.push(skip(format!(
                "no longer matches the review ({why}); review it again"
            )));
            continue;
        }
        let action = match decision.to_ascii_lowercase().as_str() {
            "deactivate" => Action::Deactivate,
            "delete" => Action::Delete,
            l if l.starts_with("profile:") => {
                let want = decision["profile:".len()..].trim();
                let found: Vec<_> = profiles
                    .iter()
                    .filter(|p| p.name.eq_ignore_ascii_case(want))
                    .collect();
                match found.as_slice() {
                    [p] => Action::Update {
                        role: None,
                        profile: Some(Ref {
                            id: p.id.clone(),
                            name: p.name.clone(),
                        }),
                    },
                    [] => {
                        out.skipped
                            .push(skip(format!("no profile is named '{want}'")));
                        continue;
                    }
                    _ => {
                        out.skipped
                            .push(skip(format!("several profiles are named '{want}'")));
                        continue;
                    }
                }
            }
            _ => {
                out.skipped.push(skip(format!(
                    "decision '{decision}' is not keep, deactivate, delete or profile:<name>"
                )));
                continue;
            }
        };
        if let Some(why) = action.noop(user) {
            out.skipped.push(skip(format!("{} {why}", user.full_name)));
            continue;
        }
        out.changes.push(Planned {
            label: d.label.clone(),
            change: action.change(user),
            id: d.id.clone(),
            email: d.email.clone(),
            name: if d.name.is_empty() {
                user.full_name.clone()
            } else {
                d.name.clone()
            },
            action,
        });
    }
    out
}

/// Why `user` no longer matches the row the reviewer decided on.
fn mismatch(user: &User, d: &Decision) -> Option<String> {
    if !user.email.eq_ignore_ascii_case(d.email.trim()) {
        return Some(format!("email is {} now", user.email));
    }
    let now = user.status.to_string();
    if let Some(status) = d.status.as_deref().filter(|s| !s.is_empty())
        && now != status
    {
        return Some(format!("status was {status}, is {now} now"));
    }
    if let Some(profile_id) = d.profile_id.as_deref() {
        let profile_now = user.profile.as_ref().map(|p| p.id.as_str()).unwrap_or("");
        if profile_now != profile_id {
            return Some(format!(
                "profile was {}, is {} now",
                if profile_id.is_empty() {
                    "none"
                } else {
                    profile_id
                },
                user.profile
                    .as_ref()
                    .map(|p| p.name.as_str())
                    .unwrap_or("none")
            ));
        }
    }
    None
}

/// The review snapshot the decisions came from: `given`, or else the
/// latest one in `store` for `org_id`.
pub fn snapshot_path(
    given: Option<&Path>,
    store: Option<&SnapshotStore>,
    org_id: &str,
) -> Option<PathBuf> {
    match given {
        Some(p) => Some(p.to_path_buf()),
        None => store
            .and_then(|s| s.find_with_path(org_id, &Since::Last).ok().flatten())
            .map(|(p, _)| p),
    }
}

/// How an audit line names the snapshot: its path and SHA-256.
pub fn source(snapshot: Option<&Path>) -> String {
    match snapshot {
        Some(p) => {
            let sha = fsx::read_regular(p, 256 * 1024 * 1024)
                .ok()
                .flatten()
                .map(|b| sha256_hex(&b))
                .unwrap_or_else(|| "unreadable".into());
            format!("review snapshot {} (sha256 {sha})", p.display())
        }
        None => "no stored review snapshot".to_string(),
    }
}

/// This process's key for plan tokens: a caller cannot make a token
/// without asking for the plan, and a token from an earlier server is
/// refused.
fn token_key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut k = [0u8; 32];
        fastrand::fill(&mut k);
        k
    })
}

impl Plan {
    /// A token that binds this exact plan (each change, each skipped row)
    /// made from `decisions`, against `source`: any difference when the
    /// plan is made again (other decisions, a user changed since, a newer
    /// snapshot) gives another token.
    pub fn token(&self, decisions: &[Decision], source: &str) -> String {
        let mut h = Sha256::new();
        h.update(token_key());
        let mut field = |s: &str| {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        field(source);
        for d in decisions {
            field(&d.id);
            field(&d.email.trim().to_lowercase());
            field(&d.decision.trim().to_lowercase());
        }
        for c in &self.changes {
            field(&c.label);
            field(&c.id);
            field(c.action.verb());
            field(&c.change);
        }
        for s in &self.skipped {
            field(&s.label);
            field(&s.id);
            field(&s.why);
        }
        let digest = h.finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("plan-{hex}")
    }
}

/// A plan made against Zoho as it is now, with the review snapshot it
/// names ([`source`]).
pub struct Current {
    pub plan: Plan,
    pub source: String,
}

impl crate::admin::Session {
    /// Plans `decisions` against the users, profiles and organisation as
    /// Zoho has them now (read fresh: a plan is never made against a cached
    /// picture), naming the review snapshot they came from: `snapshot` when
    /// given, else the newest of this organisation in `store`.
    pub async fn plan_now(
        &self,
        decisions: &[Decision],
        snapshot: Option<&Path>,
        store: Option<&SnapshotStore>,
    ) -> Result<Current, AdminError> {
        let (users, _) = self.users(crate::zoho::UserType::AllUsers, true).await?;
        let (profiles, _) = self.profiles(true).await?;
        let (org, _) = self.org(true).await?;
        let snapshot = snapshot_path(snapshot, store, &org.id);
        Ok(Current {
            plan: plan(decisions, &users, &profiles),
            source: source(snapshot.as_deref()),
        })
    }
}

/// Most decisions one tool call takes: a plan is shown whole, and each
/// change may ask a person.
pub const MAX_DECISIONS: usize = 500;

/// One decision row as a caller gives it: user id, email, decision.
pub struct Row<'a> {
    pub user_id: &'a str,
    pub email: &'a str,
    pub decision: &'a str,
}

/// The rows as [`plan`] takes them (labelled "decision N"), or why the
/// call is wrong; nothing is sent to Zoho either way. `delete_allowed` is
/// whether the server exposes `bigin_delete_user`.
pub fn check_rows(rows: &[Row<'_>], delete_allowed: bool) -> Result<Vec<Decision>, AdminError> {
    if rows.is_empty() {
        return Err(AdminError::Refused(
            "decisions is empty: give [{user_id, email, decision}] from the access review. Nothing was sent to Zoho.".into(),
        ));
    }
    if rows.len() > MAX_DECISIONS {
        return Err(AdminError::Refused(format!(
            "at most {MAX_DECISIONS} decisions per call (got {}); split them. Nothing was sent to Zoho.",
            rows.len()
        )));
    }
    let mut out = Vec::with_capacity(rows.len());
    for (i, d) in rows.iter().enumerate() {
        let n = i + 1;
        let decision = d.decision.trim();
        let lower = decision.to_ascii_lowercase();
        let known = matches!(lower.as_str(), "keep" | "deactivate" | "delete")
            || (lower.starts_with("profile:") && !decision[8..].trim().is_empty());
        if !known {
            return Err(AdminError::Refused(format!(
                "decision {n}: '{}' is not keep, deactivate, delete or profile:<name>. Nothing was sent to Zoho.",
                decision.chars().take(60).collect::<String>()
            )));
        }
        if lower == "delete" && !delete_allowed {
            return Err(AdminError::Refused(format!(
                "decision {n}: delete needs bigin_delete_user, which this server does not expose (start it with --allow-delete); use deactivate instead. Nothing was sent to Zoho."
            )));
        }
        if !is_keep(decision) {
            crate::zoho::ZohoId::parse(d.user_id.trim(), "user_id").map_err(|e| {
                AdminError::Refused(format!("decision {n}: {e}. Nothing was sent to Zoho."))
            })?;
        }
        out.push(Decision {
            label: format!("decision {n}"),
            id: d.user_id.trim().to_string(),
            email: d.email.trim().to_string(),
            decision: decision.to_string(),
            ..Default::default()
        });
    }
    Ok(out)
}

/// Who carries out a plan, for its own audit lines.
pub struct Executor<'a> {
    pub guard: &'a WriteGuard,
    /// The audit line's `tool`: the MCP tool or `bigin-mcp apply`.
    pub tool: &'a str,
    /// Put before the change's label in the audit line's detail.
    pub label_prefix: &'a str,
    /// The review snapshot the decisions came from ([`source`]).
    pub source: &'a str,
    /// How the whole plan was confirmed, when one answer stands for every
    /// line, failed or not (the CLI's plan-wide question); `None` records
    /// each change's own answer, and nobody for a change that failed.
    pub plan_confirmed_by: Option<ConfirmedBy>,
}

/// What carrying out one planned change did.
pub struct Executed {
    pub outcome: Outcome,
    /// The guard's message, or the error's text.
    pub detail: String,
    pub result: Result<WriteResult, AdminError>,
}

impl Executor<'_> {
    /// Sends one planned change through the write guard, then appends the
    /// caller's own audit line saying what became of it and who confirmed
    /// it. An audit line that cannot be written stops the run (fail closed).
    pub async fn run(&self, confirm: &impl Confirm, p: &Planned) -> Result<Executed, AuditError> {
        let recorded = Recorded {
            inner: confirm,
            yes: AtomicBool::new(false),
        };
        let result = self
            .guard
            .write(&recorded, p.action.clone(), &p.id, &p.email, false)
            .await;
        let (outcome, detail) = match &result {
            Ok(r) => (Outcome::Success, r.message.clone()),
            // Refused before sending, or sent and not accepted.
            Err(e @ (AdminError::Refused(_) | AdminError::Id(_))) => {
                (Outcome::Refused, e.to_string())
            }
            Err(e) => (Outcome::Error, e.to_string()),
        };
        let by = if let Some(by) = self.plan_confirmed_by {
            by
        } else if result.is_err() {
            ConfirmedBy::None
        } else if recorded.yes.load(Ordering::Relaxed) {
            ConfirmedBy::Person
        } else {
            ConfirmedBy::ConfirmEmail
        };
        self.audit(p, outcome, by, &detail)?;
        Ok(Executed {
            outcome,
            detail,
            result,
        })
    }

    /// The caller's own audit line for planned change `p`: its label and
    /// the snapshot it came from, then `detail`.
    fn audit(
        &self,
        p: &Planned,
        outcome: Outcome,
        by: ConfirmedBy,
        detail: &str,
    ) -> Result<(), AuditError> {
        let line = format!(
            "{}{} from {}: {detail}",
            self.label_prefix, p.label, self.source
        );
        self.guard.audit_log().append(AuditEntry {
            time: String::new(),
            tool: self.tool,
            user_id: &p.id,
            email: &p.email,
            given_email: &p.email,
            action: p.action.verb(),
            outcome,
            confirmed_by: by,
            detail: &line,
        })
    }
}

/// Most changes a plan's confirmation names one by one.
const PLAN_LINES: usize = 20;

impl Executor<'_> {
    /// Asks the person once for the whole plan, bounded like every
    /// question; their answer then stands for each change ([`PlanAnswer`]),
    /// so a plan of 40 changes is one dialog, not 40. A plan the person did
    /// not agree to (declined, unanswered, or the call cancelled) changes
    /// nothing, and each planned change gets an audit line saying so.
    pub async fn ask_for_plan<'c, C: Confirm>(
        &self,
        confirm: &'c C,
        plan: &[Planned],
    ) -> Result<PlanAnswer<'c, C>, AdminError> {
        let agreed = |answer| {
            Ok(PlanAnswer {
                inner: confirm,
                answer,
            })
        };
        if plan.is_empty() {
            return agreed(Answer::NotAsked);
        }
        let mut summary = format!("carry out {} change(s) from the access review", plan.len());
        for p in plan.iter().take(PLAN_LINES) {
            summary.push_str(&format!("; {} <{}>: {}", p.name, p.email, p.change));
        }
        if plan.len() > PLAN_LINES {
            summary.push_str(&format!("; and {} more", plan.len() - PLAN_LINES));
        }
        let (outcome, why) = match self.guard.ask_person(confirm, &summary).await {
            Some(a @ (Answer::Yes | Answer::NotAsked)) => return agreed(a),
            Some(Answer::No(said)) => (Outcome::Declined, format!("The person {said}")),
            None => (
                Outcome::Cancelled,
                "The call was cancelled before any change was sent".into(),
            ),
        };
        let why = format!("{why}, so nothing was changed");
        for p in plan {
            self.audit(p, outcome, ConfirmedBy::None, &why)
                .map_err(|e| {
                    AdminError::Failed(format!("{why}; the audit log could not record it: {e}"))
                })?;
        }
        Err(AdminError::Refused(format!(
            "{why}: {} planned change(s).",
            plan.len()
        )))
    }
}

/// The person's one answer to a whole plan, given to each change's own
/// question; a cancel of the call still reaches every change.
pub struct PlanAnswer<'a, C> {
    inner: &'a C,
    answer: Answer,
}

impl<'a, C> PlanAnswer<'a, C> {
    /// `answer` for every change, cancellation from `inner`.
    pub fn new(inner: &'a C, answer: Answer) -> Self {
        PlanAnswer { inner, answer }
    }
}

impl<C: Confirm> Confirm for PlanAnswer<'_, C> {
    async fn ask(&self, _summary: &str, _timeout: Duration) -> Answer {
        self.answer.clone()
    }

    fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }

    fn cancelled(&self) -> impl Future<Output = ()> + Send {
        self.inner.cancelled()
    }
}

/// Passes the person's confirmation through, remembering whether they
/// said yes to the change, for the caller's own audit line.
struct Recorded<'a, C> {
    inner: &'a C,
    yes: AtomicBool,
}

impl<C: Confirm> Confirm for Recorded<'_, C> {
    async fn ask(&self, summary: &str, timeout: Duration) -> Answer {
        let a = self.inner.ask(summary, timeout).await;
        self.yes.store(a == Answer::Yes, Ordering::Relaxed);
        a
    }

    fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }

    fn cancelled(&self) -> impl Future<Output = ()> + Send {
        self.inner.cancelled()
    }
}
