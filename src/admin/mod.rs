//! What an administrator can do to one organisation, without MCP: the
//! [`Session`] (the Zoho client with its cache of users, roles, profiles
//! and the organisation), the [`WriteGuard`] every change to a user passes
//! through (asking a person through [`Confirm`]), the [`Reviewer`] that runs
//! the access review, and what they keep on disk: the audit log, review
//! snapshots and reports.
//!
//! It reaches Zoho only through [`crate::zoho::BiginClient`] and imports
//! nothing of `mcp`: the MCP handler, the CLI and the tests are its callers.

pub mod audit;
pub mod cache;
pub mod decisions;
pub mod directory;
mod error;
pub mod guard;
pub mod permissions;
pub mod report;
pub mod review;
mod reviewer;
mod session;
pub mod shutdown;
pub mod snapshots;
#[cfg(test)]
mod testkit;
pub mod text;
pub mod user;

pub use audit::{AuditLog, ConfirmedBy};
pub use error::AdminError;
pub use guard::{Answer, Confirm, WriteGuard};
pub use reviewer::{ReviewRun, Reviewer};
pub use session::{OrgName, Session};
pub use shutdown::Shutdown;
pub use snapshots::{Since, SnapshotStore};
