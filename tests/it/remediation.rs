//! Remediation and onboarding: bigin_update_user and bigin_invite_user,
//! human confirmation by MCP elicitation (accepted, declined, absent), and
//! tools that start-up flags removed explaining themselves.

use std::sync::{Arc, Mutex};

use bigin_mcp::mcp::{ElicitationPolicy, ServerOptions, ToolFilter};
use bigin_mcp::sandbox::Sandbox;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, Implementation,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::common::*;

/// A client that declares elicitation and answers every form the same way.
#[derive(Clone)]
struct Person {
    accept: bool,
    asked: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Person {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder().enable_elicitation().build(),
            Implementation::new("person", "0"),
        )
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = &request {
            self.asked.lock().unwrap().push(message.clone());
        }
        Ok(if self.accept {
            ElicitResult::new(ElicitationAction::Accept).with_content(json!({"confirm": true}))
        } else {
            ElicitResult::new(ElicitationAction::Decline)
        })
    }
}

struct Session<C: ClientHandler> {
    client: RunningService<RoleClient, C>,
    audit: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn session<C: ClientHandler>(
    sb: &Sandbox,
    filter: ToolFilter,
    elicitation: bool,
    who: C,
) -> Session<C> {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.log");
    let (c, _) = client(sb);
    let end = serve_in_process(
        c,
        ServerOptions {
            elicitation: if elicitation {
                ElicitationPolicy::Auto
            } else {
                ElicitationPolicy::Never
            },
            ..options(filter, audit.clone())
        },
    );
    Session {
        client: who.serve(end).await.unwrap(),
        audit,
        _dir: dir,
    }
}

impl<C: ClientHandler> Session<C> {
    async fn call(&self, tool: &str, args: Value) -> CallToolResult {
        let p = CallToolRequestParams::new(tool.to_string())
            .with_arguments(args.as_object().unwrap().clone());
        self.client.call_tool(p).await.expect("answered")
    }

    fn outcomes(&self) -> Vec<String> {
        std::fs::read_to_string(&self.audit)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["outcome"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }
}

async fn target(sb: &Sandbox) -> Value {
    let primary = sb.primary_user_id();
    all_users(sb)
        .await
        .into_iter()
        .find(|u| {
            u["status"] == "active"
                && s(u, "id") != primary
                && u["profile"]["name"] != "Administrator"
        })
        .unwrap()
}

#[tokio::test]
async fn a_person_confirms_or_declines_each_real_write() {
    for accept in [true, false] {
        let sb = sandbox().await;
        let asked = Arc::new(Mutex::new(Vec::new()));
        let p = Person {
            accept,
            asked: asked.clone(),
        };
        let h = session(&sb, all_tools(), true, p).await;
        let u = target(&sb).await;
        // A dry run asks nobody.
        let r = h
            .call(
                "bigin_set_user_status",
                json!({"user_id": u["id"], "status": "inactive", "confirm_email": u["email"], "dry_run": true}),
            )
            .await;
        assert_ne!(r.is_error, Some(true), "{}", text(&r));
        assert!(asked.lock().unwrap().is_empty());
        let r = h
            .call(
                "bigin_set_user_status",
                json!({"user_id": u["id"], "status": "inactive", "confirm_email": u["email"]}),
            )
            .await;
        let question = asked.lock().unwrap().pop().expect("the person was asked");
        assert!(
            question.contains(s(&u, "full_name").as_str())
                && question.contains(s(&u, "email").as_str())
                && question.contains("active → inactive"),
            "{question}"
        );
        let puts = writes(&sb.requests()).len();
        let status = s(&sb.user(&s(&u, "id")).unwrap(), "status");
        if accept {
            assert_ne!(r.is_error, Some(true), "{}", text(&r));
            assert_eq!((puts, status.as_str()), (1, "inactive"));
            assert_eq!(h.outcomes(), ["dry_run", "pending", "success"]);
        } else {
            assert_eq!(r.is_error, Some(true));
            assert!(text(&r).contains("declined"), "{}", text(&r));
            assert_eq!((puts, status.as_str()), (0, "active"), "nothing was sent");
            assert_eq!(h.outcomes(), ["dry_run", "declined"]);
        }
    }
}

#[tokio::test]
async fn without_the_capability_or_with_no_elicitation_confirm_email_alone_decides() {
    let sb = sandbox().await;
    let asked = Arc::new(Mutex::new(Vec::new()));
    // A client that would decline, but the server never asks.
    let h = session(
        &sb,
        all_tools(),
        false,
        Person {
            accept: false,
            asked: asked.clone(),
        },
    )
    .await;
    let u = target(&sb).await;
    let r = h
        .call(
            "bigin_set_user_status",
            json!({"user_id": u["id"], "status": "inactive", "confirm_email": u["email"]}),
        )
        .await;
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    assert!(
        asked.lock().unwrap().is_empty(),
        "--no-elicitation asks nobody"
    );
    // A client without the capability (Claude Desktop today): unchanged.
    let plain = harness(&sb, all_tools()).await;
    let u = target(&sb).await;
    plain
        .ok(
            "bigin_set_user_status",
            json!({"user_id": u["id"], "status": "inactive", "confirm_email": u["email"]}),
        )
        .await;
}

#[tokio::test]
async fn update_user_resolves_names_and_refuses_what_zoho_would() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    let u = target(&sb).await;
    let id = s(&u, "id");
    // Unknown names list the choices; nothing is sent.
    let e = h
        .err(
            "bigin_update_user",
            json!({"user_id": id, "profile": "Boss", "confirm_email": u["email"]}),
        )
        .await;
    assert!(
        e.contains("Valid profiles") && e.contains("Administrator"),
        "{e}"
    );
    let e = h
        .err(
            "bigin_update_user",
            json!({"user_id": id, "role": "Nobody", "confirm_email": u["email"]}),
        )
        .await;
    assert!(e.contains("Valid roles") && e.contains("CEO"), "{e}");
    let e = h
        .err(
            "bigin_update_user",
            json!({"user_id": id, "confirm_email": u["email"]}),
        )
        .await;
    assert!(e.contains("profile and/or role"), "{e}");
    assert!(writes(&sb.requests()).is_empty());
    // The same profile and role: nothing to do.
    let e = h
        .err(
            "bigin_update_user",
            json!({"user_id": id, "profile": u["profile"]["name"], "role": u["role"]["id"], "confirm_email": u["email"]}),
        )
        .await;
    assert!(e.contains("already has"), "{e}");
    // A dry run says from → to.
    let r = h
        .ok(
            "bigin_update_user",
            json!({"user_id": id, "profile": "read only", "role": "ceo", "confirm_email": u["email"], "dry_run": true}),
        )
        .await;
    let msg = r["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("profile {} → Read Only", s(&u["profile"], "name"))),
        "{msg}"
    );
    assert!(writes(&sb.requests()).is_empty());
    // For real: one PUT with the ids.
    h.ok(
        "bigin_update_user",
        json!({"user_id": id, "profile": "Read Only", "confirm_email": u["email"]}),
    )
    .await;
    let reqs = sb.requests();
    let puts = writes(&reqs);
    assert_eq!(puts.len(), 1);
    let body: Value = serde_json::from_str(&puts[0].body).unwrap();
    assert!(
        body["users"][0]["profile"].as_str().unwrap().len() >= 18,
        "{body}"
    );
    assert!(
        body["users"][0].get("role").is_none(),
        "only what changes is sent"
    );
    assert_eq!(sb.user(&id).unwrap()["profile"]["name"], "Read Only");
    let line = h.audit_lines().pop().unwrap();
    assert_eq!(line["outcome"], "success");
    assert!(
        line["detail"].as_str().unwrap().contains("→ Read Only"),
        "{line}"
    );
    // An inactive user is refused before sending, as Zoho would.
    let inactive = all_users(&sb)
        .await
        .into_iter()
        .find(|u| u["status"] == "inactive")
        .unwrap();
    let e = h
        .err(
            "bigin_update_user",
            json!({"user_id": inactive["id"], "profile": "Standard", "confirm_email": inactive["email"]}),
        )
        .await;
    assert!(e.contains("deactivated"), "{e}");
    // The primary user never.
    let primary = sb.user(&sb.primary_user_id()).unwrap();
    let e = h
        .err(
            "bigin_update_user",
            json!({"user_id": primary["id"], "profile": "Standard", "confirm_email": primary["email"]}),
        )
        .await;
    assert!(e.contains("primary user"), "{e}");
    assert_eq!(writes(&sb.requests()).len(), 1);
}

#[tokio::test]
async fn invite_user_refuses_an_email_in_use_and_returns_the_new_id() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    let taken = target(&sb).await;
    let e = h
        .err(
            "bigin_invite_user",
            json!({"first_name": "Ann", "last_name": "Dup", "email": taken["email"].as_str().unwrap().to_uppercase(), "role": "CEO", "profile": "Standard"}),
        )
        .await;
    assert!(
        e.contains("already belongs") && e.contains(s(&taken, "id").as_str()),
        "{e}"
    );
    for bad in ["not-an-email", "a@b", "two@@x.com", "sp ace@x.com"] {
        let e = h
            .err(
                "bigin_invite_user",
                json!({"first_name": "Ann", "last_name": "X", "email": bad, "role": "CEO", "profile": "Standard"}),
            )
            .await;
        assert!(e.contains("email"), "{bad}: {e}");
    }
    let e = h
        .err(
            "bigin_invite_user",
            json!({"first_name": "Ann", "last_name": "X", "email": "new@x.com", "role": "CEO", "profile": "Nope"}),
        )
        .await;
    assert!(e.contains("Valid profiles"), "{e}");
    let dry = h
        .ok(
            "bigin_invite_user",
            json!({"first_name": "Grace", "last_name": "Hopper", "email": "grace@northwind.example", "role": "sales rep emea", "profile": "standard", "dry_run": true}),
        )
        .await;
    assert_eq!(dry["dry_run"], true);
    assert!(
        writes(&sb.requests()).is_empty(),
        "no request for refusals and dry runs"
    );
    let r = h
        .ok(
            "bigin_invite_user",
            json!({"first_name": "Grace", "last_name": "Hopper", "email": "grace@northwind.example", "role": "sales rep emea", "profile": "standard"}),
        )
        .await;
    let id = s(&r["user"], "id");
    assert!(id.len() >= 18, "{r}");
    assert!(r["message"].as_str().unwrap().contains("unconfirmed"));
    let created = sb.user(&id).expect("the sandbox has the new user");
    assert_eq!(created["confirm"], false);
    assert_eq!(created["profile"]["name"], "Standard");
    let posts: Vec<_> = sb
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/bigin"))
        .collect();
    assert_eq!(posts.len(), 1);
    // The same address again is refused before sending.
    let e = h
        .err(
            "bigin_invite_user",
            json!({"first_name": "Ann", "last_name": "Hopper", "email": "grace@northwind.example", "role": "CEO", "profile": "Standard"}),
        )
        .await;
    assert!(e.contains("already belongs"), "{e}");
    let outcomes: Vec<String> = h.audit_lines().iter().map(|l| s(l, "outcome")).collect();
    assert_eq!(outcomes.last().unwrap(), "refused");
    assert!(outcomes.contains(&"success".to_string()));
}

#[tokio::test]
async fn a_tool_the_flags_removed_says_what_would_enable_it() {
    let sb = sandbox().await;
    let u = target(&sb).await;
    let cases = [
        (filter(), "bigin_delete_user", "--allow-delete"),
        (
            ToolFilter {
                read_only: true,
                ..Default::default()
            },
            "bigin_set_user_status",
            "--read-only",
        ),
        (
            ToolFilter {
                methods: vec!["read".into()],
                ..Default::default()
            },
            "bigin_invite_user",
            "--methods",
        ),
        (
            ToolFilter {
                exclude_tools: vec!["bigin_update_user".into()],
                ..Default::default()
            },
            "bigin_update_user",
            "--exclude-tools",
        ),
    ];
    for (f, tool, flag) in cases {
        let h = harness(&sb, f).await;
        let listed = h.client.list_all_tools().await.unwrap();
        assert!(
            !listed.iter().any(|t| t.name == tool),
            "{tool} stays unlisted"
        );
        let e = h
            .err(
                tool,
                json!({"user_id": u["id"], "status": "inactive", "confirm_email": u["email"]}),
            )
            .await;
        assert!(e.contains(flag), "{tool}: {e}");
    }
    assert!(writes(&sb.requests()).is_empty());
    // An unknown tool is still an unknown tool.
    let h = harness(&sb, filter()).await;
    let p = CallToolRequestParams::new("bigin_no_such_tool");
    assert!(h.client.call_tool(p).await.is_err());
}

#[tokio::test]
async fn invite_refuses_forged_names_and_look_alike_emails_before_sending() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    let padded = format!(
        "Lee <ann.lee@northwind.example> as profile Standard{}",
        "\n".repeat(25)
    );
    let long = "x".repeat(51);
    let cases = [
        json!({"first_name": "Ann", "last_name": padded, "email": "ann.lee@northwind.example", "role": "CEO", "profile": "Administrator"}),
        json!({"first_name": "Ann\u{1b}[2J", "last_name": "Lee", "email": "ann.lee@northwind.example", "role": "CEO", "profile": "Standard"}),
        json!({"first_name": "Ann", "last_name": "Lee\u{202e}", "email": "ann.lee@northwind.example", "role": "CEO", "profile": "Standard"}),
        json!({"first_name": "Ann", "last_name": "Lee\u{2028}", "email": "ann.lee@northwind.example", "role": "CEO", "profile": "Standard"}),
        json!({"first_name": " ", "last_name": "Lee", "email": "ann.lee@northwind.example", "role": "CEO", "profile": "Standard"}),
        json!({"first_name": long, "last_name": "Lee", "email": "ann.lee@northwind.example", "role": "CEO", "profile": "Standard"}),
        json!({"first_name": "Ann", "last_name": "Lee", "email": "\u{430}nn.lee@northwind.example", "role": "CEO", "profile": "Standard"}),
        json!({"first_name": "Ann", "last_name": "Lee", "email": "ann.lee\u{200b}@northwind.example", "role": "CEO", "profile": "Standard"}),
    ];
    for args in cases {
        let e = h.err("bigin_invite_user", args.clone()).await;
        assert!(e.contains("Nothing was sent to Zoho"), "{args}: {e}");
    }
    // first_name is required by the schema itself.
    let listed = h.client.list_all_tools().await.unwrap();
    let invite = listed
        .iter()
        .find(|t| t.name == "bigin_invite_user")
        .unwrap();
    let required = &invite.input_schema["required"];
    assert!(
        required
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "first_name"),
        "{required}"
    );
    assert!(writes(&sb.requests()).is_empty());
}

/// `bigin_apply_review_decisions` asks the person once for the whole plan,
/// not once per change: accepted, every change is made and audited as
/// confirmed by the person; declined, nothing is sent and each planned
/// change is audited as declined.
#[tokio::test]
async fn a_plan_of_review_decisions_is_one_question_for_the_person() {
    for accept in [true, false] {
        let sb = sandbox().await;
        let asked = Arc::new(Mutex::new(Vec::new()));
        let p = Person {
            accept,
            asked: asked.clone(),
        };
        let h = session(&sb, all_tools(), true, p).await;
        let users = all_users(&sb).await;
        let plain: Vec<&Value> = users
            .iter()
            .filter(|u| u["status"] == "active" && u["profile"]["name"] == "Standard")
            .take(3)
            .collect();
        let decisions: Vec<Value> = plain
            .iter()
            .map(|u| json!({"user_id": u["id"], "email": u["email"], "decision": "deactivate"}))
            .collect();
        let plan = h
            .call(
                "bigin_apply_review_decisions",
                json!({"decisions": decisions}),
            )
            .await;
        assert_ne!(plan.is_error, Some(true), "{}", text(&plan));
        let token = plan.structured_content.unwrap()["token"].clone();
        assert!(asked.lock().unwrap().is_empty(), "a plan asks nobody");
        sb.clear_requests();
        let r = h
            .call(
                "bigin_apply_review_decisions",
                json!({"decisions": decisions, "execute": true, "token": token}),
            )
            .await;
        let questions = asked.lock().unwrap().clone();
        assert_eq!(
            questions.len(),
            1,
            "one question for the plan: {questions:?}"
        );
        assert!(questions[0].contains("3 change(s)"), "{}", questions[0]);
        for u in &plain {
            assert!(
                questions[0].contains(s(u, "email").as_str()),
                "{}",
                questions[0]
            );
        }
        let lines: Vec<Value> = std::fs::read_to_string(&h.audit)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .filter(|l: &Value| l["tool"] == "bigin_apply_review_decisions")
            .collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        if accept {
            assert_ne!(r.is_error, Some(true), "{}", text(&r));
            assert_eq!(writes(&sb.requests()).len(), 3);
            assert!(
                lines
                    .iter()
                    .all(|l| l["outcome"] == "success" && l["confirmed_by"] == "person"),
                "{lines:?}"
            );
        } else {
            assert_eq!(r.is_error, Some(true));
            assert!(text(&r).contains("nothing was changed"), "{}", text(&r));
            assert!(
                writes(&sb.requests()).is_empty(),
                "a declined plan sends nothing"
            );
            assert!(
                lines
                    .iter()
                    .all(|l| l["outcome"] == "declined" && l["confirmed_by"] == "none"),
                "{lines:?}"
            );
        }
    }
}
