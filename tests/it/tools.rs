//! The MCP server in-process: every tool, filter, guard and error path,
//! with expectations computed from the sandbox independently of the tools.

use std::collections::BTreeSet;

use bigin_mcp::mcp::ToolFilter;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::common::*;
use crate::tool_writes::deactivatable;

fn names(tools: &[rmcp::model::Tool]) -> BTreeSet<String> {
    tools.iter().map(|t| t.name.to_string()).collect()
}

#[tokio::test]
async fn initialize_names_the_server_and_explains_the_workflow() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    let info = h.client.peer_info().expect("initialize result");
    assert_eq!(info.server_info.as_ref().unwrap().name, "bigin-mcp");
    assert_eq!(
        info.server_info.as_ref().unwrap().version,
        env!("CARGO_PKG_VERSION")
    );
    let instructions = info.instructions.clone().unwrap_or_default();
    assert!(instructions.contains("bigin_access_review") && instructions.contains("confirm_email"));
    assert!(sb.requests().is_empty(), "initialize sends nothing to Zoho");
}

#[tokio::test]
async fn tools_carry_honest_annotations_and_schemas() {
    let sb = sandbox().await;
    let h = harness(&sb, all_tools()).await;
    let tools = h.client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 12);
    for t in &tools {
        let a = t
            .annotations
            .as_ref()
            .unwrap_or_else(|| panic!("{} has annotations", t.name));
        assert!(
            a.title.as_deref().is_some_and(|x| !x.is_empty()),
            "{} has a title",
            t.name
        );
        let writes = matches!(
            t.name.as_ref(),
            "bigin_set_user_status"
                | "bigin_delete_user"
                | "bigin_update_user"
                | "bigin_invite_user"
                | "bigin_apply_review_decisions"
        );
        assert_eq!(a.read_only_hint, Some(!writes), "{} readOnlyHint", t.name);
        // Inviting adds; every other write can take something away.
        let destructive = writes && t.name != "bigin_invite_user";
        assert_eq!(
            a.destructive_hint,
            Some(destructive),
            "{} destructiveHint",
            t.name
        );
        // Hints only where they mean something: idempotency for writes;
        // openWorldHint is left at its default (true): every tool calls Zoho.
        assert_eq!(a.idempotent_hint.is_some(), writes, "{}", t.name);
        assert_ne!(a.open_world_hint, Some(false), "{}", t.name);
        assert!(t.output_schema.is_some(), "{} has an outputSchema", t.name);
        let schema = Value::Object((*t.input_schema).clone());
        for k in ["anyOf", "oneOf", "allOf"] {
            assert!(
                schema.get(k).is_none(),
                "{} input schema has top-level {k}",
                t.name
            );
        }
        assert!(
            t.description.as_deref().is_some_and(|d| d.len() > 40),
            "{} is described",
            t.name
        );
    }
}

#[tokio::test]
async fn filters_choose_the_listed_tools_and_calls_outside_them_fail() {
    let sb = sandbox().await;
    let default = harness(&sb, filter()).await;
    let n = names(&default.client.list_all_tools().await.unwrap());
    assert_eq!(n.len(), 11);
    assert!(
        !n.contains("bigin_delete_user"),
        "delete needs --allow-delete"
    );

    let ro = harness(
        &sb,
        ToolFilter {
            read_only: true,
            allow_delete: true,
            ..Default::default()
        },
    )
    .await;
    let n = names(&ro.client.list_all_tools().await.unwrap());
    assert_eq!(n.len(), 7);
    assert!(!n.contains("bigin_set_user_status") && !n.contains("bigin_delete_user"));
    assert!(
        !n.contains("bigin_apply_review_decisions"),
        "applying decisions writes"
    );
    // A user the write would otherwise succeed on, with the right email.
    let u = deactivatable(&all_users(&sb).await, &sb.primary_user_id());
    sb.clear_requests();
    let r = ro
        .client
        .call_tool(
            CallToolRequestParams::new("bigin_set_user_status").with_arguments(
                json!({"user_id": u["id"], "status": "inactive", "confirm_email": u["email"]})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await;
    // Unlisted, but a call says what would enable it.
    let r = r.expect("answered as a tool result");
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("--read-only"), "{}", text(&r));
    assert!(sb.requests().is_empty(), "nothing reached Zoho");
    assert_eq!(s(&sb.user(&s(&u, "id")).unwrap(), "status"), "active");

    let f = ToolFilter {
        toolsets: vec!["users".into()],
        methods: vec!["read".into()],
        ..Default::default()
    };
    let n = names(&harness(&sb, f).await.client.list_all_tools().await.unwrap());
    assert_eq!(
        n,
        BTreeSet::from(["bigin_get_user".to_string(), "bigin_list_users".to_string()])
    );

    let f = ToolFilter {
        tools: vec!["bigin_access_review".into(), "bigin_get_user".into()],
        exclude_tools: vec!["bigin_get_user".into()],
        ..Default::default()
    };
    let n = names(&harness(&sb, f).await.client.list_all_tools().await.unwrap());
    assert_eq!(n, BTreeSet::from(["bigin_access_review".to_string()]));
}

#[tokio::test]
async fn list_users_returns_every_status_with_paging_advice() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    let all = all_users(&sb).await;
    let r = h.ok("bigin_list_users", json!({})).await;
    assert_eq!(r["total"], all.len());
    assert_eq!(r["returned"], 200);
    assert_eq!(r["next_offset"], 200);
    assert!(r["note"].as_str().unwrap().contains("offset=200"));
    let statuses: BTreeSet<String> = all.iter().map(|u| s(u, "status")).collect();
    assert_eq!(
        statuses,
        BTreeSet::from(["active".into(), "deleted".into(), "inactive".into()])
    );
    // Concise pages are a table of the six fields, refs given once.
    assert!(r.get("users").is_none(), "no list of objects: {r}");
    let u = &concise_users(&r)[0];
    assert!(u["role"]["id"].is_string() && u["profile"]["name"].is_string());

    let last = h
        .ok("bigin_list_users", json!({"offset": 400, "limit": 1000}))
        .await;
    assert_eq!(last["returned"].as_u64().unwrap() as usize, all.len() - 400);
    assert!(last.get("next_offset").is_none() && last.get("note").is_none());

    let full = h
        .ok("bigin_list_users", json!({"limit": 1, "detail": "full"}))
        .await;
    let page = h
        .ok("bigin_list_users", json!({"detail": "full", "offset": 50}))
        .await;
    assert_eq!(page["returned"], 100, "full pages default to 100 users");
    assert_eq!(page["next_offset"], 150);
    assert!(
        full["users"][0].get("Modified_Time").is_some()
            && full["users"][0].get("time_zone").is_some()
    );
    // The text content carries the same data as the structured content:
    // full pages as the same JSON, concise pages as a table.
    let raw = h
        .call("bigin_list_users", json!({"limit": 2, "detail": "full"}))
        .await;
    let as_text: Value = serde_json::from_str(&text(&raw)).unwrap();
    assert_eq!(Some(as_text), raw.structured_content);
    let raw = h.call("bigin_list_users", json!({"limit": 50})).await;
    let table = text(&raw);
    let sc = raw.structured_content.unwrap();
    assert!(
        table.starts_with(&format!("{} users match; 50 shown", all.len())),
        "{table}"
    );
    for u in &concise_users(&sc) {
        let line = format!(
            "{} | {} | {} | {} | {} | {}",
            s(u, "id"),
            s(u, "full_name"),
            s(u, "email"),
            s(u, "status"),
            s(&u["role"], "name"),
            s(&u["profile"], "name")
        );
        assert!(table.contains(&line), "missing line {line}");
        for k in ["role", "profile"] {
            let legend = format!("{}={}", s(&u[k], "name"), s(&u[k], "id"));
            assert!(table.contains(&legend), "missing {legend}");
        }
    }
}

#[tokio::test]
async fn list_users_filters_by_profile_role_status_and_search() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    let all = all_users(&sb).await;
    let admin = all
        .iter()
        .find(|u| u["profile"]["name"] == "Administrator")
        .unwrap()["profile"]
        .clone();
    let expected = all
        .iter()
        .filter(|u| u["profile"]["id"] == admin["id"])
        .count();
    for p in [
        json!("administrator"),
        json!("ADMINISTRATOR"),
        admin["id"].clone(),
    ] {
        let r = h
            .ok("bigin_list_users", json!({"profile": p, "limit": 1000}))
            .await;
        assert_eq!(r["total"], expected, "profile {p}");
        assert!(
            concise_users(&r)
                .iter()
                .all(|u| u["profile"]["id"] == admin["id"])
        );
    }
    let role = all[5]["role"].clone();
    let expected = all
        .iter()
        .filter(|u| u["role"]["id"] == role["id"] && u["status"] == "inactive")
        .count();
    let r = h
        .ok(
            "bigin_list_users",
            json!({"role": role["name"], "status": "inactive", "limit": 1000}),
        )
        .await;
    assert_eq!(r["total"], expected);
    for st in ["active", "inactive", "deleted"] {
        let expected = all.iter().filter(|u| u["status"] == st).count();
        assert!(expected > 0, "the sandbox has {st} users");
        let r = h
            .ok("bigin_list_users", json!({"status": st, "limit": 1000}))
            .await;
        assert_eq!(r["total"], expected, "status {st}");
    }
    // Search is case-insensitive over names and emails, non-ASCII included.
    let someone = all
        .iter()
        .find(|u| !s(u, "full_name").is_ascii())
        .expect("non-ASCII names");
    let needle = s(someone, "full_name").to_uppercase();
    let r = h.ok("bigin_list_users", json!({"search": needle})).await;
    assert!(concise_users(&r).iter().any(|u| u["id"] == someone["id"]));
    let email = s(someone, "email");
    let r = h
        .ok("bigin_list_users", json!({"search": email.to_uppercase()}))
        .await;
    assert_eq!(r["total"], 1);
    let r = h
        .ok(
            "bigin_list_users",
            json!({"type": "NotConfirmedUsers", "limit": 1000}),
        )
        .await;
    let expected = all.iter().filter(|u| u["confirm"] == false).count();
    assert_eq!(r["total"], expected);
}

#[tokio::test]
async fn bad_list_arguments_are_errors_that_send_no_user_request() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    let e = h
        .err("bigin_list_users", json!({"profile": "Wizard"}))
        .await;
    assert!(
        e.contains("'Wizard'") && e.contains("Administrator") && e.contains("Standard"),
        "{e}"
    );
    let e = h.err("bigin_list_users", json!({"role": "Pope"})).await;
    assert!(e.contains("'Pope'") && e.contains("CEO"), "{e}");
    assert!(
        !sb.requests().iter().any(|r| r.path == "/bigin/v2/users"),
        "no user list was fetched"
    );
    sb.clear_requests();
    let e = h
        .err("bigin_list_users", json!({"detail": "full", "limit": 101}))
        .await;
    assert!(e.contains("1 to 100 with detail=full"), "{e}");
    let e = h.err("bigin_list_users", json!({"limit": 0})).await;
    assert!(e.contains("limit"), "{e}");
    let r = h
        .call("bigin_list_users", json!({"status": "sleeping"}))
        .await;
    assert_eq!(r.is_error, Some(true), "an unknown status is refused");
    let r = h.call("bigin_list_users", json!({"colour": "red"})).await;
    assert_eq!(r.is_error, Some(true), "unknown arguments are refused");
    assert!(api_requests(&sb.requests()).is_empty());
}

#[tokio::test]
async fn get_user_validates_ids_before_sending() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    let id = sb.primary_user_id();
    let r = h.ok("bigin_get_user", json!({"user_id": id})).await;
    assert_eq!(r["user"]["id"], id);
    sb.clear_requests();
    for bad in [
        "12ab",
        "",
        "99999999999999999999",
        "9223372036854775808",
        "-5",
    ] {
        let e = h.err("bigin_get_user", json!({"user_id": bad})).await;
        assert!(
            e.contains("user_id") && e.contains("Nothing was sent"),
            "{bad}: {e}"
        );
    }
    assert!(sb.requests().is_empty(), "no request for malformed ids");
    let e = h
        .err("bigin_get_user", json!({"user_id": "1111111111111111111"}))
        .await;
    assert!(
        e.contains("no user has id") && e.contains("bigin_list_users"),
        "{e}"
    );
}

#[tokio::test]
async fn roles_and_their_direct_reports() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    let r = h.ok("bigin_list_roles", json!({})).await;
    let roles = r["roles"].as_array().unwrap().clone();
    assert!(roles.len() >= 8);
    let ceo = roles.iter().find(|x| x["name"] == "CEO").unwrap();
    assert!(ceo["reporting_to"].is_null());
    let expected: BTreeSet<String> = roles
        .iter()
        .filter(|x| x["reporting_to"]["id"] == ceo["id"])
        .map(|x| s(x, "name"))
        .collect();
    assert!(!expected.is_empty());
    for parent in [json!("ceo"), ceo["id"].clone()] {
        let r = h
            .ok("bigin_list_roles", json!({"reporting_to": parent}))
            .await;
        let got: BTreeSet<String> = r["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| s(x, "name"))
            .collect();
        assert_eq!(got, expected);
    }
    let e = h
        .err("bigin_list_roles", json!({"reporting_to": "Nobody"}))
        .await;
    assert!(e.contains("CEO"), "{e}");
}

#[tokio::test]
async fn profiles_are_summarised_for_auditors() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    let plain = h.ok("bigin_list_profiles", json!({})).await;
    assert!(plain["profiles"][0].get("permissions").is_none());
    let before = sb.requests().len();
    let r = h
        .ok("bigin_list_profiles", json!({"include_permissions": true}))
        .await;
    let profiles = r["profiles"].as_array().unwrap();
    assert!(
        sb.requests().len() - before >= profiles.len(),
        "one detail call per profile (the list itself is cached)"
    );
    let by_name = |n: &str| profiles.iter().find(|p| p["name"] == n).unwrap().clone();
    let admin = by_name("Administrator");
    assert_eq!(admin["admin_level"], true);
    assert_eq!(admin["permissions"]["user_management"], true);
    assert_eq!(admin["permissions"]["export"], true);
    let ro = by_name("Read Only");
    assert_eq!(ro["admin_level"], false);
    assert_eq!(ro["permissions"]["mass_delete"], false);
    assert!(
        ro["permissions"]["modules"]["Contacts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a == "view")
    );

    let one = h
        .ok(
            "bigin_get_profile",
            json!({"profile_id": by_name("Sales Admin")["id"]}),
        )
        .await;
    assert_eq!(one["profile"]["permissions"]["user_management"], true);
    assert_eq!(one["profile"]["admin_level"], true);
    let e = h
        .err("bigin_get_profile", json!({"profile_id": "Administrator"}))
        .await;
    assert!(e.contains("profile_id"), "{e}");
    let e = h
        .err(
            "bigin_get_profile",
            json!({"profile_id": "1111111111111111111"}),
        )
        .await;
    assert!(e.contains("bigin_list_profiles"), "{e}");
}

#[tokio::test]
async fn organization_record() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    let r = h.ok("bigin_get_organization", json!({})).await;
    assert!(r["org"]["company_name"].is_string());
    let primary = sb.user(&sb.primary_user_id()).unwrap();
    assert_eq!(r["org"]["primary_email"], primary["email"]);
}

#[tokio::test]
async fn access_review_correlates_users_roles_and_profiles() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    let all = all_users(&sb).await;
    let r = h.ok("bigin_access_review", json!({})).await;
    assert_eq!(r["users"]["total"], all.len());
    let count = |st: &str| all.iter().filter(|u| u["status"] == st).count();
    assert_eq!(r["users"]["inactive"], count("inactive"));
    assert_eq!(r["users"]["deleted"], count("deleted"));
    // Per-profile counts add up and match an independent count.
    let profiles = r["profiles"].as_array().unwrap();
    let sum: u64 = profiles
        .iter()
        .map(|p| p["users"]["total"].as_u64().unwrap())
        .sum();
    assert_eq!(sum as usize, all.len());
    for p in profiles {
        let n = all.iter().filter(|u| u["profile"]["id"] == p["id"]).count();
        assert_eq!(p["users"]["total"], n, "{}", p["name"]);
    }
    let roles = r["roles"].as_array().unwrap();
    assert!(
        roles.iter().any(|x| x["depth"].as_u64().unwrap() >= 4),
        "a deep hierarchy"
    );
    // Every inactive holder of an admin-level profile is a finding.
    let admin_ids: BTreeSet<String> = profiles
        .iter()
        .filter(|p| p["admin_level"] == true)
        .map(|p| s(p, "id"))
        .collect();
    assert!(
        admin_ids.len() >= 2,
        "Administrator and Sales Admin are admin-level"
    );
    let findings = r["findings"].as_array().unwrap();
    let flagged = |kind: &str| -> BTreeSet<String> {
        findings
            .iter()
            .filter(|f| f["kind"] == kind)
            .map(|f| s(f, "user_id"))
            .collect()
    };
    let inactive_admins: BTreeSet<String> = all
        .iter()
        .filter(|u| u["status"] == "inactive" && admin_ids.contains(&s(&u["profile"], "id")))
        .map(|u| s(u, "id"))
        .collect();
    assert!(!inactive_admins.is_empty());
    assert_eq!(flagged("inactive_admin"), inactive_admins);
    let unconfirmed_admins: BTreeSet<String> = all
        .iter()
        .filter(|u| {
            u["status"] == "active"
                && u["confirm"] == false
                && admin_ids.contains(&s(&u["profile"], "id"))
        })
        .map(|u| s(u, "id"))
        .collect();
    assert!(!unconfirmed_admins.is_empty());
    assert_eq!(flagged("unconfirmed_admin"), unconfirmed_admins);
    assert_eq!(findings[0]["severity"], "high");
    // Every active holder of an admin-level profile is listed, confirmed
    // or not, and the per-profile counts agree with the list.
    let active_admins: BTreeSet<String> = all
        .iter()
        .filter(|u| u["status"] == "active" && admin_ids.contains(&s(&u["profile"], "id")))
        .map(|u| s(u, "id"))
        .collect();
    let rows = r["admins"]["rows"].as_array().unwrap();
    let listed: BTreeSet<String> = rows
        .iter()
        .map(|row| s(&json!({"id": row[0]}), "id"))
        .collect();
    assert_eq!(listed, active_admins);
    assert!(
        unconfirmed_admins.is_subset(&listed),
        "unconfirmed admins are listed too"
    );
    for row in rows {
        let confirmed = all.iter().find(|u| u["id"] == row[0]).unwrap()["confirm"] != false;
        assert_eq!(row[3], confirmed, "{row}");
    }
    let active_in_admin_profiles: u64 = profiles
        .iter()
        .filter(|p| p["admin_level"] == true)
        .map(|p| p["users"]["active"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(active_in_admin_profiles as usize, rows.len());
    // The evidence header says where this came from.
    let ev = &r["evidence"];
    assert!(ev["generated_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(ev["organization_id"], "4876543000000020001");
    assert!(ev["organization_name"].is_string() && ev["data_centre"].is_string());
    assert_eq!(ev["from_cache"], false);
    assert!(ev["credits_used"].as_u64().unwrap() >= 4);
    // Three lists and a detail call per profile, all on one access token.
    assert_eq!(h.tokens.refresh_count(), 1);
}

/// Issue 18: people are found as they are typed, without accents or capitals.
#[tokio::test]
async fn list_users_search_ignores_accents_and_case_and_says_how_to_widen() {
    let sb = sandbox().await;
    let h = harness(&sb, filter()).await;
    let all = all_users(&sb).await;
    // The seeded spellings, compared exactly (no folding in the expectation).
    for (query, spelled) in [
        ("omar kovacevic", "Omar Kovačević"),
        ("Zoe Angstrom", "Zoë Ångström"),
        ("ZOË ÅNGSTRÖM", "Zoë Ångström"),
    ] {
        let mut expected: Vec<&str> = all
            .iter()
            .filter(|u| u["full_name"] == spelled)
            .map(|u| u["id"].as_str().unwrap())
            .collect();
        assert!(!expected.is_empty(), "the seed has {spelled}");
        let r = h
            .ok("bigin_list_users", json!({"search": query, "limit": 1000}))
            .await;
        let mut got: Vec<&str> = r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row[0].as_str().unwrap())
            .collect();
        expected.sort();
        got.sort();
        assert_eq!(got, expected, "{query}: {r}");
    }
    // Emails ignore case.
    let email = all[0]["email"].as_str().unwrap();
    let r = h
        .ok("bigin_list_users", json!({"search": email.to_uppercase()}))
        .await;
    assert_eq!(r["rows"][0][0], all[0]["id"], "{r}");
    // Nobody: the reply says how to widen the search.
    let r = h
        .call("bigin_list_users", json!({"search": "omar kovacevicz"}))
        .await;
    assert_ne!(r.is_error, Some(true));
    let t = text(&r);
    assert!(
        t.contains("0 users match") || t.contains("No user matches"),
        "{t}"
    );
    assert!(t.contains("part of the name") && t.contains("email"), "{t}");
}
