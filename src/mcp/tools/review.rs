//! `bigin_access_review`: the quarterly access review in one call, with its
//! evidence header, a stored snapshot, and what changed since an earlier one.
//! `bigin_apply_review_decisions`: the review's decisions planned (the same
//! `admin::decisions` as the CLI's `apply`), then carried out through the
//! write guard only on a second call that passes the plan's token.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{Json, RoleServer, schemars, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::admin::Reviewer;
use crate::admin::audit::Outcome;
use crate::admin::decisions;
use crate::admin::review::AccessReview;
use crate::admin::snapshots::Since;
use crate::mcp::catalog::Scope;
use crate::mcp::error::ToolError;
use crate::mcp::handler::BiginServer;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewArgs {
    /// "last" or a date (2026-09-30): add changes since that review.
    pub since: Option<String>,
    /// Skip the 2-minute cache.
    pub fresh: Option<bool>,
}

/// The tool's name, in its audit lines.
const APPLY_TOOL: &str = "bigin_apply_review_decisions";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyArgs {
    pub decisions: Vec<DecisionArg>,
    /// Carry out the plan; needs its token.
    pub execute: Option<bool>,
    /// From the plan call.
    pub token: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionArg {
    pub user_id: String,
    /// As in the review.
    pub email: String,
    /// keep, deactivate, delete or profile:<name>.
    pub decision: String,
}

/// A plan, or what carrying it out did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ApplyResult {
    pub executed: bool,
    /// The review snapshot the audit lines name.
    pub source: String,
    pub changes: Vec<ChangeRow>,
    /// Rows left out, by id: no longer matching the review, or nothing to do.
    pub skipped: Vec<SkippedRow>,
    /// Pass with execute=true to carry out this plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub message: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ChangeRow {
    pub user_id: String,
    pub email: String,
    pub name: String,
    /// From → to.
    pub change: String,
    /// planned, success, refused or error.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SkippedRow {
    pub user_id: String,
    pub why: String,
}

impl BiginServer {
    /// The Zoho scopes each tool here can need: the review reads users,
    /// roles, the held profiles' permissions and the organisation; applying
    /// decisions writes users, reading profiles and the organisation (the
    /// primary-user check, the snapshot).
    pub(crate) const REVIEW_SCOPES: &[(&str, &[Scope])] = &[
        (
            "bigin_access_review",
            &[
                Scope::UsersRead,
                Scope::RolesRead,
                Scope::ProfilesRead,
                Scope::OrgRead,
            ],
        ),
        (
            APPLY_TOOL,
            &[Scope::UsersAll, Scope::ProfilesRead, Scope::OrgRead],
        ),
    ];
}

#[tool_router(router = review_router, vis = "pub(crate)")]
impl BiginServer {
    /// Access review: counts per profile and role, every active admin (confirmed or not), findings, evidence header; stored as a snapshot. Admin = Administrator profile or one that can change settings or manage users/roles/profiles. since adds changes.
    #[tool(annotations(
        title = "Access review",
        read_only_hint = true,
        destructive_hint = false
    ))]
    async fn bigin_access_review(
        &self,
        Parameters(a): Parameters<ReviewArgs>,
    ) -> Result<Json<AccessReview>, ToolError> {
        let since = match a.since.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(
                s.parse::<Since>()
                    .map_err(|e| ToolError(format!("{e}. Nothing was sent to Zoho.")))?,
            ),
            None => None,
        };
        let reviewer = Reviewer::new(self.session(), self.snapshots());
        let run = reviewer.run(since, a.fresh.unwrap_or(false)).await?;
        Ok(Json(run.review))
    }

    /// Apply review decisions [{user_id, email, decision: keep|deactivate|delete|profile:<name>}]: returns the plan (from → to) and a token; only execute=true with that token changes users, each through the guard; audit-logged.
    #[tool(annotations(
        title = "Apply review decisions",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false
    ))]
    async fn bigin_apply_review_decisions(
        &self,
        Parameters(a): Parameters<ApplyArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<ApplyResult>, ToolError> {
        let execute = a.execute.unwrap_or(false);
        let given_token = a.token.as_deref().map(str::trim).filter(|t| !t.is_empty());
        if execute && given_token.is_none() {
            return Err(ToolError(
                "execute=true needs the token of the plan: call first without execute, show the plan, then call again with the same decisions, execute=true and its token. Nothing was sent to Zoho.".into(),
            ));
        }
        let given: Vec<decisions::Row<'_>> = a
            .decisions
            .iter()
            .map(|d| decisions::Row {
                user_id: &d.user_id,
                email: &d.email,
                decision: &d.decision,
            })
            .collect();
        let delete = self.exposes(crate::mcp::catalog::DELETE_TOOL);
        let rows = decisions::check_rows(&given, delete)?;
        let decisions::Current { plan, source } = (self.session())
            .plan_now(&rows, None, self.snapshots())
            .await?;
        let token = plan.token(&rows, &source);
        let skipped: Vec<SkippedRow> = plan
            .skipped
            .iter()
            .map(|s| SkippedRow {
                user_id: s.id.clone(),
                why: format!("{}: {}", s.label, s.why),
            })
            .collect();
        let row = |p: &decisions::Planned, outcome: &str, message: Option<String>| ChangeRow {
            user_id: p.id.clone(),
            email: p.email.clone(),
            name: p.name.clone(),
            change: p.change.clone(),
            outcome: outcome.into(),
            message,
        };
        if !execute {
            let n = plan.changes.len();
            return Ok(Json(ApplyResult {
                executed: false,
                message: format!(
                    "Plan only: nothing was changed. {n} change(s), {} row(s) skipped. Show the plan to the person; to carry it out call again with the same decisions, execute=true and this token.",
                    skipped.len()
                ),
                changes: plan
                    .changes
                    .iter()
                    .map(|p| row(p, "planned", None))
                    .collect(),
                skipped,
                token: Some(token),
                source,
            }));
        }
        if given_token != Some(token.as_str()) {
            return Err(ToolError(
                "the token does not match the plan these decisions give now (other decisions, users changed since, a newer review, or a token of another plan or server). Nothing was sent to Zoho. Call again without execute to see the plan as it is now and get its token.".into(),
            ));
        }
        let mut changes = Vec::with_capacity(plan.changes.len());
        let mut failed = 0;
        let run = decisions::Executor {
            guard: self.guard(),
            tool: APPLY_TOOL,
            label_prefix: "",
            source: &source,
            plan_confirmed_by: None,
        };
        // One question for the whole plan, not one per change.
        let ctx_confirm = self.confirm(&ctx);
        let confirm = run.ask_for_plan(&ctx_confirm, &plan.changes).await?;
        for p in &plan.changes {
            let done = run.run(&confirm, p).await.map_err(|e| {
                ToolError(format!(
                    "cannot write the audit log, so the remaining changes were not made: {e}"
                ))
            })?;
            if done.result.is_err() {
                failed += 1;
            }
            let name = match done.outcome {
                Outcome::Success => "success",
                Outcome::Refused => "refused",
                _ => "error",
            };
            changes.push(row(p, name, Some(done.detail)));
        }
        let done = changes.len() - failed;
        Ok(Json(ApplyResult {
            executed: true,
            message: format!(
                "{done} change(s) made, {failed} refused or failed, {} row(s) skipped (by user_id in skipped).",
                skipped.len()
            ),
            changes,
            skipped,
            token: None,
            source,
        }))
    }
}
