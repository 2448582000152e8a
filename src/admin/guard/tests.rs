//! The guard against a fake [`Confirm`] and the sandbox, in-process on
//! 127.0.0.1: each path's answer, what reached Zoho, and its audit lines.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::*;
use crate::sandbox::Sandbox;

/// Answers every confirmation the same way (`None`: never answers) and
/// remembers what it was asked.
struct FakeConfirm {
    answer: Option<Answer>,
    asked: Mutex<Vec<String>>,
}

impl FakeConfirm {
    fn new(answer: Option<Answer>) -> FakeConfirm {
        FakeConfirm {
            answer,
            asked: Mutex::new(Vec::new()),
        }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl Confirm for FakeConfirm {
    async fn ask(&self, summary: &str, _timeout: Duration) -> Answer {
        self.asked.lock().unwrap().push(summary.to_string());
        match &self.answer {
            Some(a) => a.clone(),
            None => std::future::pending().await,
        }
    }
}

struct Fixture {
    sb: Sandbox,
    session: Arc<Session>,
    guard: WriteGuard,
    audit: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let (sb, session) = crate::admin::testkit::sandbox_session().await;
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.log");
    let guard = WriteGuard::new(
        Arc::clone(&session),
        AuditLog::new(audit.clone()),
        Shutdown::default(),
    );
    Fixture {
        sb,
        session,
        guard,
        audit,
        _dir: dir,
    }
}

impl Fixture {
    /// An active user who is not the primary user: (id, email).
    async fn active_user(&self) -> (String, String) {
        let primary = self.sb.primary_user_id();
        let (users, _) = self
            .session
            .users(UserType::AllUsers, true)
            .await
            .expect("users");
        let u = users
            .iter()
            .find(|u| u.status == UserStatus::Active && u.id != primary && !u.email.is_empty())
            .expect("the seed has an active user besides the primary one");
        (u.id.clone(), u.email.clone())
    }

    fn status_of(&self, id: &str) -> String {
        self.sb.user(id).expect("user")["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Writes that reached the sandbox (anything but GET).
    fn writes_sent(&self) -> usize {
        self.sb
            .requests()
            .iter()
            .filter(|r| r.method != "GET" && r.path.contains("/users"))
            .count()
    }

    /// The outcome of each audit line, in order.
    fn outcomes(&self) -> Vec<String> {
        std::fs::read_to_string(&self.audit)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["outcome"].to_string())
            .map(|o| o.trim_matches('"').to_string())
            .collect()
    }
}

#[tokio::test]
async fn an_accepted_change_is_sent_once_and_audited_pending_then_success() {
    let f = fixture().await;
    let (id, email) = f.active_user().await;
    let yes = FakeConfirm::new(Some(Answer::Yes));
    let r = f
        .guard
        .write(&yes, Action::Deactivate, &id, &email, false)
        .await
        .expect("accepted");
    assert_eq!(
        (r.outcome.as_str(), r.user.status.as_str()),
        ("success", "inactive")
    );
    assert_eq!(yes.asked().len(), 1, "the person is asked once");
    assert!(yes.asked()[0].contains(&email), "{:?}", yes.asked());
    assert_eq!(f.status_of(&id), "inactive");
    assert_eq!(f.writes_sent(), 1);
    assert_eq!(f.outcomes(), ["pending", "success"]);
}

#[tokio::test]
async fn a_declined_change_sends_nothing_and_is_audited_declined() {
    let f = fixture().await;
    let (id, email) = f.active_user().await;
    let no = FakeConfirm::new(Some(Answer::No("declined".into())));
    let e = f
        .guard
        .write(&no, Action::Deactivate, &id, &email, false)
        .await
        .expect_err("declined");
    assert!(
        e.to_string()
            .starts_with("The person declined, so nothing was changed"),
        "{e}"
    );
    assert_eq!(f.status_of(&id), "active");
    assert_eq!(f.writes_sent(), 0);
    assert_eq!(f.outcomes(), ["declined"]);
}

#[tokio::test]
async fn an_unanswered_confirmation_times_out_as_no() {
    let f = fixture().await;
    let guard = WriteGuard::new(
        Arc::clone(&f.session),
        AuditLog::new(f.audit.clone()),
        Shutdown::default(),
    )
    .with_confirm_timeout(Duration::from_millis(50));
    let (id, email) = f.active_user().await;
    let silent = FakeConfirm::new(None);
    let e = guard
        .write(&silent, Action::Deactivate, &id, &email, false)
        .await
        .expect_err("nobody answered");
    assert!(e.to_string().contains("timed out"), "{e}");
    assert_eq!(silent.asked().len(), 1);
    assert_eq!(f.status_of(&id), "active");
    assert_eq!(f.writes_sent(), 0);
    assert_eq!(f.outcomes(), ["declined"]);
}

#[tokio::test]
async fn a_change_already_made_is_refused_without_asking() {
    let f = fixture().await;
    let (id, email) = f.active_user().await;
    let yes = FakeConfirm::new(Some(Answer::Yes));
    let e = f
        .guard
        .write(&yes, Action::Activate, &id, &email, false)
        .await
        .expect_err("already active");
    assert!(
        e.to_string()
            .contains("is already active; nothing was changed"),
        "{e}"
    );
    assert!(yes.asked().is_empty(), "a no-op is not put to the person");
    assert_eq!(f.writes_sent(), 0);
    assert_eq!(f.outcomes(), ["refused"]);
}

#[tokio::test]
async fn the_primary_user_is_never_changed() {
    let f = fixture().await;
    let id = f.sb.primary_user_id();
    let email = f.sb.user(&id).unwrap()["email"]
        .as_str()
        .unwrap()
        .to_string();
    let yes = FakeConfirm::new(Some(Answer::Yes));
    for action in [Action::Deactivate, Action::Delete] {
        let e = f
            .guard
            .write(&yes, action, &id, &email, false)
            .await
            .expect_err("primary user");
        assert!(e.to_string().contains("primary user"), "{e}");
    }
    assert!(yes.asked().is_empty());
    assert_eq!(f.status_of(&id), "active");
    assert_eq!(f.writes_sent(), 0);
    assert_eq!(f.outcomes(), ["refused", "refused"]);
}

#[tokio::test]
async fn two_writes_to_one_user_run_one_after_the_other() {
    let f = fixture().await;
    let (id, email) = f.active_user().await;
    let yes = FakeConfirm::new(Some(Answer::Yes));
    let (a, b) = tokio::join!(
        f.guard.write(&yes, Action::Deactivate, &id, &email, false),
        f.guard.write(&yes, Action::Deactivate, &id, &email, false),
    );
    let (ok, refused): (Vec<_>, Vec<_>) = [a, b].into_iter().partition(Result::is_ok);
    assert_eq!((ok.len(), refused.len()), (1, 1));
    let why = refused[0].as_ref().unwrap_err().to_string();
    assert!(why.contains("is already inactive"), "{why}");
    assert_eq!(f.writes_sent(), 1, "the second write found the change made");
    let mut outcomes = f.outcomes();
    outcomes.sort();
    assert_eq!(outcomes, ["pending", "refused", "success"]);
}

#[tokio::test]
async fn a_dry_run_or_a_wrong_email_sends_nothing() {
    let f = fixture().await;
    let (id, email) = f.active_user().await;
    let yes = FakeConfirm::new(Some(Answer::Yes));
    let r = f
        .guard
        .write(&yes, Action::Delete, &id, &email, true)
        .await
        .expect("dry run");
    assert!(
        r.dry_run && r.message.starts_with("Dry run: would delete"),
        "{}",
        r.message
    );
    let e = f
        .guard
        .write(&yes, Action::Delete, &id, "someone.else@example.com", false)
        .await
        .expect_err("wrong email");
    assert!(e.to_string().contains("does not match"), "{e}");
    assert!(yes.asked().is_empty());
    assert_eq!(f.writes_sent(), 0);
    assert_eq!(f.outcomes(), ["dry_run", "refused"]);
}

/// The `confirmed_by` of each audit line, in order.
fn confirmed_by(f: &Fixture) -> Vec<String> {
    std::fs::read_to_string(&f.audit)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["confirmed_by"].to_string())
        .map(|o| o.trim_matches('"').to_string())
        .collect()
}

#[tokio::test]
async fn every_audit_line_says_how_the_write_was_confirmed() {
    let f = fixture().await;
    let (id, email) = f.active_user().await;
    let yes = FakeConfirm::new(Some(Answer::Yes));
    let not_asked = FakeConfirm::new(Some(Answer::NotAsked));
    let no = FakeConfirm::new(Some(Answer::No("declined".into())));
    f.guard
        .write(&yes, Action::Deactivate, &id, &email, true)
        .await
        .unwrap();
    f.guard
        .write(&no, Action::Deactivate, &id, &email, false)
        .await
        .unwrap_err();
    f.guard
        .write(&yes, Action::Deactivate, &id, &email, false)
        .await
        .unwrap();
    f.guard
        .write(&not_asked, Action::Activate, &id, &email, false)
        .await
        .unwrap();
    f.guard
        .write(&yes, Action::Activate, &id, "someone@else.example", false)
        .await
        .unwrap_err();
    assert_eq!(
        f.outcomes(),
        [
            "dry_run", "declined", "pending", "success", "pending", "success", "refused"
        ]
    );
    assert_eq!(
        confirmed_by(&f),
        [
            "none",
            "none",
            "person",
            "person",
            "confirm_email",
            "confirm_email",
            "none"
        ]
    );
}

/// A caller that withdraws the call: already before the guard asks
/// (`early`), or while the person is being asked, who then says yes to
/// the stale question.
struct Withdrawn {
    early: bool,
    cancelled: std::sync::atomic::AtomicBool,
    asked: std::sync::atomic::AtomicUsize,
}

impl Withdrawn {
    fn new(early: bool) -> Withdrawn {
        Withdrawn {
            early,
            cancelled: early.into(),
            asked: 0.into(),
        }
    }
}

impl Confirm for Withdrawn {
    async fn ask(&self, _summary: &str, _timeout: Duration) -> Answer {
        use std::sync::atomic::Ordering::SeqCst;
        self.asked.fetch_add(1, SeqCst);
        if self.early {
            return Answer::NotAsked;
        }
        self.cancelled.store(true, SeqCst);
        Answer::Yes
    }

    fn is_cancelled(&self) -> bool {
        self.cancelled.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[tokio::test]
async fn a_call_cancelled_before_sending_sends_nothing_whatever_is_answered() {
    for early in [true, false] {
        let f = fixture().await;
        let (id, email) = f.active_user().await;
        let withdrawn = Withdrawn::new(early);
        let e = f
            .guard
            .write(&withdrawn, Action::Deactivate, &id, &email, false)
            .await
            .expect_err("a cancelled call sends nothing");
        assert!(e.to_string().contains("cancelled"), "{e}");
        assert_eq!(f.status_of(&id), "active");
        assert_eq!(f.writes_sent(), 0);
        assert_eq!(f.outcomes(), ["cancelled"]);
        assert_eq!(confirmed_by(&f), ["none"]);
    }
}
