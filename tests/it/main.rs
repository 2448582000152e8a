//! The single integration-test binary (one link step instead of one per
//! file). Every test talks only to the project's sandbox on 127.0.0.1.
//!
//! - `client`: the Zoho client against the sandbox: paging, retries, rate
//!   limits, token refresh, per-record errors.
//! - `tools`: the MCP server in-process (rmcp client over a duplex pipe):
//!   every tool, filter, guard and error path.
//! - `sandbox`: the sandbox server itself over HTTP: accounts endpoints, API
//!   reads and writes, faults, the request log, orgs of any size.
//! - `stdio`: the built binary over real stdio with rmcp's client and with
//!   raw bytes: start-up flags, demo mode, malformed input, clean stdout.
//! - `trust`: faults × tools, concurrency, no "none" without Zoho saying so.
//! - `props`: property tests of framing and tool arguments.
//! - `review`, `remediation`: the access review as evidence; update, invite,
//!   elicitation and disabled tools.
//! - `clients`: what real clients do (issue 14): dialogs never shown or
//!   never answered, calls cancelled before their write, several server
//!   processes at once.
//! - `tool_writes`: the write tools in-process, refusals, limits, expiry.
//! - `session`: the session rules over raw pipes; several server processes.
//! - `terminal`: the binary at a terminal: variables, completions, banner.
//! - `catalog`: the tool catalogue and its filters, scopes and verbs.
//! - `toolsnaps`: the checked-in `tools/list` schemas.
//! - `completions`: the completion scripts in real bash, zsh and fish; the
//!   man page.
//! - `resources`: stored reviews and the audit log as MCP resources.
//! - `review_cli`: `bigin-mcp review` as cron and CI run it: formats, exit
//!   codes, snapshots, `--since`, the output file.
//! - `decisions`: `bigin_apply_review_decisions`: plan, token, execute.
//! - `contract`: the shared API file's example bodies, read by the client.
//! - `doctor`: `bigin-mcp doctor` against the sandbox and its variants.
//! - `variants`: the review and every write against each Zoho the sandbox plays.
//! - `view`: the concise user table and the elicitation policy's client list.

mod auth;
mod catalog;
mod cli;
mod client;
mod clients;
mod common;
mod completions;
mod contract;
mod decisions;
mod doctor;
mod evidence;
mod login;
mod props;
mod remediation;
mod resources;
mod review;
mod review_cli;
mod sandbox;
mod session;
mod stdio;
mod terminal;
mod tool_writes;
mod tools;
mod toolsnaps;
mod trust;
mod variants;
mod view;
