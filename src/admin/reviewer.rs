//! [`Reviewer`]: the access review as a service. It reads the organisation
//! through the [`Session`] (so a review right after a listing costs no
//! credits), computes the review, stores a snapshot, compares with an
//! earlier one when asked, and hands back the per-user rows as well, so a
//! caller writing CSV need not read the snapshot file back.

use std::sync::Arc;

use chrono::Utc;

use super::error::AdminError;
use super::review::{
    AccessReview, Evidence, Finding, FindingKind, ProfileFacts, SnapshotUser, SnapshotView,
    access_review, diff,
};
use super::session::Session;
use super::snapshots::{Since, SnapshotStore};
use crate::zoho::{Ref, User, UserType, count_requests};

/// Runs access reviews of one session's organisation.
pub struct Reviewer<'a> {
    session: &'a Session,
    snapshots: Option<&'a SnapshotStore>,
}

/// A review and the users it judged, one row each (what the snapshot holds).
pub struct ReviewRun {
    pub review: AccessReview,
    users: Arc<Vec<User>>,
    admin_flags: Vec<bool>,
}

impl ReviewRun {
    /// One row per user, as the stored snapshot has them.
    pub fn rows(&self) -> Vec<SnapshotUser> {
        self.users
            .iter()
            .zip(&self.admin_flags)
            .map(|(u, a)| SnapshotUser::of(u, *a))
            .collect()
    }
}

impl<'a> Reviewer<'a> {
    /// A reviewer storing snapshots in `snapshots` (`None` keeps none, and
    /// then cannot compare with an earlier review).
    pub fn new(session: &'a Session, snapshots: Option<&'a SnapshotStore>) -> Reviewer<'a> {
        Reviewer { session, snapshots }
    }

    /// The access review, with its evidence header; stores a snapshot and
    /// compares with `since` when asked.
    pub async fn run(&self, since: Option<Since>, fresh: bool) -> Result<ReviewRun, AdminError> {
        let s = self.session;
        let (data, credits) = count_requests(async {
            let ((users, c1), (roles, c2), (org, c4)) = tokio::try_join!(
                s.users(UserType::AllUsers, fresh),
                s.roles(fresh),
                s.org(fresh),
            )?;
            // The profiles that matter are the ones users hold: their
            // permissions decide who is an administrator. Taking them from
            // the users (rather than the profile list) saves a credit, and a
            // profile nobody holds grants nobody anything.
            let mut held: Vec<&Ref> = Vec::new();
            for p in users.iter().filter_map(|u| u.profile.as_deref()) {
                if !held.iter().any(|x| x.id == p.id) {
                    held.push(p);
                }
            }
            // The built-in Administrator profile is administrator-level
            // whatever its permissions say, so reading them would only cost
            // a credit.
            let (builtin, others): (Vec<&Ref>, Vec<&Ref>) = held
                .into_iter()
                .partition(|p| p.name.eq_ignore_ascii_case("administrator"));
            let (facts, c3) = s.profile_facts(others.iter().copied(), fresh).await;
            // A profile whose permissions Zoho does not give (no endpoint,
            // none in the list) could be administrator-level: the review
            // still runs, and its holders are reported as such (never
            // counted as non-admins). A failed read is another matter: it
            // may work on a retry, so there is no review.
            let mut facts = others
                .iter()
                .zip(facts)
                .map(|(p, f)| match f {
                    Ok(f) if f.summary.is_some() || f.unknown.is_some() => Ok(f),
                    Ok(_) => Err(AdminError::Refused(format!(
                        "users hold profile '{}' ({}) but Zoho answers that there is no such profile, so this review cannot tell whether its holders are administrators; no review was made. Retry, or check the profile in Bigin.",
                        p.name, p.id
                    ))),
                    Err(e) => Err(AdminError::Refused(format!(
                        "cannot read the permissions of profile '{}' ({}), so this review cannot tell whether its holders are administrators; no review was made: {e}",
                        p.name, p.id
                    ))),
                })
                .collect::<Result<Vec<ProfileFacts>, AdminError>>()?;
            facts.extend(builtin.iter().map(|p| ProfileFacts {
                id: p.id.clone(),
                name: p.name.clone(),
                summary: None,
                unknown: None,
            }));
            facts.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
            Ok::<_, AdminError>((users, roles, facts, org, c1 && c2 && c3 && c4))
        })
        .await;
        let (users, roles, facts, org, from_cache) = data?;
        let computed = access_review(&users, &roles, &facts);
        let evidence = Evidence {
            generated_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            organization_id: org.id.clone(),
            organization_name: org.company_name.clone().unwrap_or_default(),
            data_centre: s.data_centre(),
            credits_used: credits,
            from_cache,
            unjudged_profiles: facts
                .iter()
                .filter_map(|p| {
                    let why = p.unknown.as_deref()?;
                    Some(format!("'{}' ({}): {why}", p.name, p.id))
                })
                .collect(),
        };
        let mut findings = computed.findings;
        let mut changes = None;
        let mut snapshot = None;
        if let Some(store) = self.snapshots {
            if let Some(since) = &since {
                match store.find(&org.id, since) {
                    Ok(Some(old)) => changes = Some(diff(&old, &users, &computed.admin_flags)),
                    Ok(None) => {
                        let asked = match since {
                            Since::Last => "last".to_string(),
                            Since::At(t) => t.to_rfc3339(),
                        };
                        findings.push(Finding::info(
                            FindingKind::NoBaseline,
                            format!(
                                "no earlier review of this organisation matches since={asked}; this review is stored as the first"
                            ),
                        ));
                    }
                    Err(e) => findings.push(Finding::info(
                        FindingKind::NoBaseline,
                        format!("earlier reviews cannot be read: {e}"),
                    )),
                }
            }
            let snap = SnapshotView {
                evidence: &evidence,
                users: &users,
                admin_flags: &computed.admin_flags,
            };
            match store.save(&evidence, &snap) {
                Ok(p) => snapshot = Some(p.display().to_string()),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot store the review snapshot");
                    findings.push(Finding::info(
                        FindingKind::SnapshotNotSaved,
                        format!("this review could not be stored for later comparison: {e}"),
                    ));
                }
            }
        } else if since.is_some() {
            return Err(AdminError::Refused(
                "this server keeps no review snapshots, so it cannot compare with an earlier review".into(),
            ));
        }
        Ok(ReviewRun {
            review: AccessReview {
                evidence,
                users: computed.users,
                profiles: computed.profiles,
                roles: computed.roles,
                admins: computed.admins,
                findings,
                changes,
                snapshot,
            },
            users,
            admin_flags: computed.admin_flags,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::review::Snapshot;

    #[tokio::test]
    async fn the_rows_are_the_ones_the_snapshot_stores() {
        let (_sb, session) = crate::admin::testkit::sandbox_session().await;
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path().to_path_buf());
        let run = Reviewer::new(&session, Some(&store))
            .run(None, true)
            .await
            .expect("review");
        let rows = run.rows();
        assert_eq!(rows.len(), run.review.users.total);
        let path = run.review.snapshot.as_deref().expect("stored");
        let stored: Snapshot = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(stored.evidence, run.review.evidence);
        assert_eq!(stored.users, rows);
        // Every admin in the review is an admin row, and no one else is.
        let admins: Vec<&str> = rows
            .iter()
            .filter(|u| u.admin_level && u.status == "active")
            .map(|u| u.id.as_str())
            .collect();
        assert!(!admins.is_empty());
        let mut listed: Vec<&str> = run
            .review
            .admins
            .rows
            .iter()
            .map(|r| r.0.as_str())
            .collect();
        let mut admins = admins;
        listed.sort();
        admins.sort();
        assert_eq!(listed, admins);
    }

    #[tokio::test]
    async fn without_a_store_since_is_refused() {
        let (_sb, session) = crate::admin::testkit::sandbox_session().await;
        let e = Reviewer::new(&session, None)
            .run(Some(Since::Last), true)
            .await
            .err()
            .expect("refused");
        assert!(e.to_string().contains("keeps no review snapshots"), "{e}");
    }
}
