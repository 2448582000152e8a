//! Review decisions turned into a plan: the one implementation behind the
//! CLI's `bigin-mcp apply FILE.csv` and the `bigin_apply_review_decisions`
//! tool. Each decision (`keep`, `deactivate`, `delete`, `profile:<name>`)
//! is checked against the user as Zoho has them now; a row that no longer
//! matches is reported by id and left out, the rest become [`Planned`]
//! changes (from → to) that the caller sends through the write guard.
//! It also names the review snapshot the decisions came from, and seals a
//! plan into a token, so a plan is executed only as it was shown.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::admin::guard::{Action, Audited};
use crate::admin::snapshots::{Since, SnapshotStore, sha256_hex};
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
