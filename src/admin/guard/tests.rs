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

    /// Field `key` of each audit line, in order.
    fn audit_field(&self, key: &str) -> Vec<String> {
        std::fs::read_to_string(&self.audit)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()[key].to_string())
            .map(|o| o.trim_matches('"').to_string())
            .collect()
    }

    /// The outcome of each audit line, in order.
    fn outcomes(&self) -> Vec<String> {
        self.audit_field("outcome")
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

impl Fixture {
    /// A profile `id` does not hold, as the update action takes it.
    async fn other_profile(&self, id: &str) -> crate::zoho::Ref {
        let (profiles, _) = self.session.profiles(true).await.expect("profiles");
        let held = self.sb.user(id).expect("user")["profile"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let p = profiles
            .iter()
            .find(|p| p.id != held && !p.name.eq_ignore_ascii_case("administrator"))
            .expect("the seed has another profile");
        crate::zoho::Ref {
            id: p.id.clone(),
            name: p.name.clone(),
        }
    }

    fn profile_of(&self, id: &str) -> String {
        self.sb.user(id).expect("user")["profile"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Bodies of the writes that reached the sandbox, in order.
    fn write_bodies(&self) -> Vec<String> {
        self.sb
            .requests()
            .iter()
            .filter(|r| r.method != "GET" && r.path.contains("/users"))
            .map(|r| r.body.clone())
            .collect()
    }
}

/// Zoho's SUCCESS for `id`, whatever was asked: a write that changes nothing.
fn hollow_success(id: &str) -> crate::sandbox::Fault {
    let body = serde_json::json!({"users": [{"code": "SUCCESS", "details": {"id": id}, "message": "User updated", "status": "success"}]});
    crate::sandbox::Fault::new(crate::sandbox::FaultKind::Answer {
        status: 200,
        body: body.to_string(),
    })
    .on_method("PUT")
}

#[tokio::test]
async fn a_success_that_did_not_take_is_unverified_never_done() {
    let f = fixture().await;
    let (id, email) = f.active_user().await;
    f.sb.inject(hollow_success(&id));
    let yes = FakeConfirm::new(Some(Answer::Yes));
    let e = f
        .guard
        .write(&yes, Action::Deactivate, &id, &email, false)
        .await
        .expect_err("a change that did not take is not done")
        .to_string();
    assert!(
        e.contains("Zoho answered SUCCESS but the status is still active"),
        "{e}"
    );
    assert_eq!(f.status_of(&id), "active");
    assert_eq!(f.outcomes(), ["pending", "unverified"]);

    // A role/profile change is tried once in each form, then refused.
    let profile = f.other_profile(&id).await;
    let before = f.profile_of(&id);
    f.sb.inject(hollow_success(&id).times(2));
    let update = Action::Update {
        role: None,
        profile: Some(profile),
    };
    let e = f
        .guard
        .write(&yes, update, &id, &email, false)
        .await
        .expect_err("not done")
        .to_string();
    assert!(e.contains("Zoho answered SUCCESS twice"), "{e}");
    assert!(e.contains("but the profile is still"), "{e}");
    assert_eq!(f.profile_of(&id), before);
    assert_eq!(
        f.outcomes()[2..],
        ["pending", "pending", "unverified"],
        "the resend is audited before it is sent"
    );
    assert_eq!(f.writes_sent(), 3);
}

#[tokio::test]
async fn the_object_form_is_tried_when_strings_do_not_take_and_then_used_first() {
    let f = fixture().await;
    f.sb.set_variant(crate::sandbox::VariantName::ObjectReferences.variant());
    let (id, email) = f.active_user().await;
    let profile = f.other_profile(&id).await;
    let yes = FakeConfirm::new(Some(Answer::Yes));
    let update = Action::Update {
        role: None,
        profile: Some(profile.clone()),
    };
    let r = f
        .guard
        .write(&yes, update, &id, &email, false)
        .await
        .expect("verified after the object-form retry");
    assert!(r.verified, "{}", r.message);
    assert!(r.message.contains("resent as"), "{}", r.message);
    assert_eq!(f.profile_of(&id), profile.id);
    assert_eq!(f.outcomes(), ["pending", "pending", "success"]);
    let bodies = f.write_bodies();
    assert_eq!(bodies.len(), 2);
    assert!(bodies[0].contains("\"profile\":\""), "{}", bodies[0]);
    assert!(bodies[1].contains("\"profile\":{\"id\""), "{}", bodies[1]);
    assert_eq!(f.session.ref_form(), crate::zoho::RefForm::Object);

    // The session remembers: the next change goes as objects at once.
    let back = f.other_profile(&id).await;
    let update = Action::Update {
        role: None,
        profile: Some(back.clone()),
    };
    let r = f
        .guard
        .write(&yes, update, &id, &email, false)
        .await
        .expect("verified");
    assert!(r.verified && !r.message.contains("resent"), "{}", r.message);
    let bodies = f.write_bodies();
    assert_eq!(bodies.len(), 3, "one PUT this time");
    assert!(bodies[2].contains("\"profile\":{\"id\""), "{}", bodies[2]);
}

#[tokio::test]
async fn a_forged_name_is_refused_before_the_person_sees_it() {
    let f = fixture().await;
    let (profiles, _) = f.session.profiles(true).await.unwrap();
    let (roles, _) = f.session.roles(true).await.unwrap();
    let (p, r) = (&profiles[0], &roles[0]);
    let padded = format!(
        "Lee <ann.lee@x.test> as profile Standard{}",
        "\n".repeat(25)
    );
    let yes = FakeConfirm::new(Some(Answer::Yes));
    for (first, last) in [
        ("Ann", padded.as_str()),
        ("Ann\u{202e}", "Lee"),
        ("", "Lee"),
    ] {
        let inv = Invitation {
            user: crate::zoho::NewUser {
                first_name: Some(first),
                last_name: last,
                email: "ann.lee@x.test",
                role: ZohoId::parse(&r.id, "id").unwrap(),
                profile: ZohoId::parse(&p.id, "id").unwrap(),
            },
            role: crate::zoho::Ref {
                id: r.id.clone(),
                name: r.name.clone(),
            },
            profile: crate::zoho::Ref {
                id: p.id.clone(),
                name: p.name.clone(),
            },
        };
        let e = f.guard.invite(&yes, inv, false).await.expect_err("refused");
        assert!(e.to_string().contains("Nothing was sent"), "{e}");
    }
    assert!(yes.asked().is_empty(), "{:?}", yes.asked());
    assert_eq!(f.writes_sent(), 0);
    assert_eq!(f.outcomes(), ["refused", "refused", "refused"]);
}

#[tokio::test]
async fn an_invite_that_reads_back_as_someone_else_is_unverified() {
    let f = fixture().await;
    let (other_id, other_email) = f.active_user().await;
    let (profiles, _) = f.session.profiles(true).await.unwrap();
    let (roles, _) = f.session.roles(true).await.unwrap();
    let (p, r) = (&profiles[0], &roles[0]);
    // Zoho says SUCCESS with an id that is not the new person's.
    let body = serde_json::json!({"users": [{"code": "SUCCESS", "details": {"id": other_id}, "message": "User added", "status": "success"}]});
    f.sb.inject(
        crate::sandbox::Fault::new(crate::sandbox::FaultKind::Answer {
            status: 201,
            body: body.to_string(),
        })
        .on_method("POST"),
    );
    let inv = Invitation {
        user: crate::zoho::NewUser {
            first_name: Some("Ann"),
            last_name: "Lee",
            email: "ann.lee@x.test",
            role: ZohoId::parse(&r.id, "id").unwrap(),
            profile: ZohoId::parse(&p.id, "id").unwrap(),
        },
        role: crate::zoho::Ref {
            id: r.id.clone(),
            name: r.name.clone(),
        },
        profile: crate::zoho::Ref {
            id: p.id.clone(),
            name: p.name.clone(),
        },
    };
    let yes = FakeConfirm::new(Some(Answer::Yes));
    let e = f
        .guard
        .invite(&yes, inv, false)
        .await
        .expect_err("not the person invited")
        .to_string();
    assert!(
        e.contains("Zoho answered SUCCESS but the user reads back with email")
            && e.contains(&other_email),
        "{e}"
    );
    assert_eq!(f.writes_sent(), 1, "no fix-up is sent to someone else");
    assert_eq!(f.outcomes(), ["pending", "unverified"]);
}

/// The `confirmed_by` of each audit line, in order.
fn confirmed_by(f: &Fixture) -> Vec<String> {
    f.audit_field("confirmed_by")
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
