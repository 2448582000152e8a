//! MCP prompts for the two jobs people come for, so clients show them in
//! their menus (Claude Desktop's "+", Claude Code's slash commands): the
//! quarterly access review and offboarding one person safely. A prompt is
//! offered only when the start-up filters expose every tool it tells the
//! model to call (the handler asks the catalogue's verdict), and its text
//! names no other tool: optional steps appear only with their tools.

use rmcp::model::{
    GetPromptRequestParams, GetPromptResult, Prompt, PromptArgument, PromptMessage, Role,
};
use serde_json::Value;

/// The tools each prompt tells the model to call.
const NEEDS: &[(&str, &[&str])] = &[
    ("access_review", &["bigin_access_review"]),
    (
        "offboard_user",
        &[
            "bigin_list_users",
            "bigin_get_user",
            "bigin_set_user_status",
        ],
    ),
];

/// Whether the prompt `name` can be followed with the tools `exposed` says
/// are there.
pub fn offered(name: &str, exposed: impl Fn(&str) -> bool) -> bool {
    NEEDS
        .iter()
        .find(|(n, _)| *n == name)
        .is_some_and(|(_, tools)| tools.iter().all(|t| exposed(t)))
}

/// The prompts this server offers, given which tools are exposed.
pub fn list(exposed: impl Fn(&str) -> bool) -> Vec<Prompt> {
    let all = vec![
        Prompt::new(
            "access_review",
            Some("Run the quarterly access review and report it as audit evidence"),
            Some(vec![PromptArgument::new("since").with_description(
                "Compare with an earlier review: \"last\" or a date (2026-09-30)",
            )]),
        ),
        Prompt::new(
            "offboard_user",
            Some(
                "Offboard one person: find, verify, preview, deactivate, and report the audit record",
            ),
            Some(vec![
                PromptArgument::new("user")
                    .with_description("The person's name or email")
                    .with_required(true),
            ]),
        ),
    ];
    all.into_iter()
        .filter(|p| offered(&p.name, &exposed))
        .collect()
}

fn arg(req: &GetPromptRequestParams, name: &str) -> Option<String> {
    req.arguments
        .as_ref()?
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The remediations the exposed tools can make, for the review prompt.
fn remedies(exposed: &impl Fn(&str) -> bool) -> String {
    let mut r = Vec::new();
    if exposed("bigin_set_user_status") {
        r.push("deactivating (bigin_set_user_status)");
    }
    if exposed("bigin_update_user") {
        r.push("lowering the profile (bigin_update_user)");
    }
    if exposed("bigin_delete_user") {
        r.push("deleting a user who never accepted the invitation (bigin_delete_user)");
    }
    if r.is_empty() {
        return "say what an administrator would change in Bigin (this server's write tools are off)".into();
    }
    format!("propose the remediation, for example {}", r.join(", "))
}

/// One prompt with its arguments filled in; `exposed` says which tools
/// the text may name.
pub fn get(
    req: &GetPromptRequestParams,
    exposed: impl Fn(&str) -> bool,
) -> Result<GetPromptResult, rmcp::ErrorData> {
    let text = match req.name.as_str() {
        "access_review" => {
            let since = arg(req, "since");
            let call = match &since {
                Some(s) => format!(
                    "bigin_access_review with since={}",
                    serde_json::Value::from(s.as_str())
                ),
                None => "bigin_access_review".to_string(),
            };
            format!(
                "Run the quarterly access review of our Zoho Bigin organisation.\n\
                 1. Call {call}.\n\
                 2. Report, in this order: the evidence header (generated_at, organisation, data centre, credits used, whether it came from cache, where the snapshot was stored); user counts; the table of active administrator-level users, marking anyone who never confirmed; every finding, high severity first, with the user it concerns{changes}.\n\
                 3. For each high or medium finding, {remedies}, but change nothing: this is a review.",
                remedies = remedies(&exposed),
                changes = if since.is_some() {
                    "; then what changed since the earlier review (added, removed, status, profile and role changes, who gained or lost administrator-level access)"
                } else {
                    ""
                }
            )
        }
        "offboard_user" => {
            let Some(user) = arg(req, "user") else {
                return Err(rmcp::ErrorData::invalid_params(
                    "offboard_user needs the argument `user`: the person's name or email",
                    None,
                ));
            };
            // Zoho does not change a deactivated user's profile: an
            // administrator is lowered first, or the review keeps an
            // inactive_admin finding nobody can clear.
            let lower = if exposed("bigin_update_user") {
                "3. If their profile is administrator-level, lower it first: bigin_update_user with a non-administrator profile (by name), their email as confirm_email, dry_run true to preview, then again without dry_run once I agree. Zoho does not change the profile of a deactivated user, so this comes before deactivation.\n"
            } else {
                "3. If their profile is administrator-level, stop and tell me: it must be lowered before deactivation (Zoho does not change a deactivated user's profile), and this server does not expose the tool that lowers it.\n"
            };
            let delete = if exposed("bigin_delete_user") {
                " Never use bigin_delete_user for offboarding unless I ask for deletion explicitly."
            } else {
                ""
            };
            let record = if exposed("bigin_access_review") {
                "6. End with the compliance record: call bigin_access_review and give its evidence header's organization_id and generated_at, with the user's new status."
            } else if exposed("bigin_get_organization") {
                "6. End with the compliance record: the organisation's id from bigin_get_organization and the time of the change (UTC), with the user's new status."
            } else {
                "6. End with the compliance record: the time of the change (UTC) and the user's new status."
            };
            format!(
                "Offboard {user} from our Zoho Bigin organisation, safely.\n\
                 1. Find them: bigin_list_users with search set to {q}. If no user or more than one user matches, stop and ask me which one.\n\
                 2. Verify: bigin_get_user with their id; tell me their name, email, status, role and profile, and whether they hold an administrator-level profile.\n\
                 {lower}\
                 4. Preview: bigin_set_user_status with status inactive, their email as confirm_email, and dry_run true. Show me what it would do.\n\
                 5. Deactivate (do not delete): once I agree, call bigin_set_user_status again without dry_run.{delete} Report what the server recorded: the outcome and message the tool returned (it is also in the audit log).\n\
                 {record}",
                q = serde_json::Value::from(user.as_str()),
            )
        }
        other => {
            return Err(rmcp::ErrorData::invalid_params(
                format!("unknown prompt '{other}'; prompts: access_review, offboard_user"),
                None,
            ));
        }
    };
    Ok(GetPromptResult::new(vec![PromptMessage::new_text(
        Role::User,
        text,
    )]))
}
