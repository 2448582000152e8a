//! The MCP surface: the curated tools (one module per domain in `tools`),
//! the start-up filters (`catalog`), the write guard, the audit log, the
//! session cache, the access review with its snapshots and reports (the
//! files `bigin-mcp review` writes), the prompts, and the stdio session
//! layer. It reaches Zoho only through
//! [`crate::zoho::BiginClient`] and never touches the keychain.

pub mod catalog;
mod confirm;
mod error;
mod prompts;
mod schema;
mod server;
mod tools;
pub mod view;

pub use catalog::{FilterError, ToolFilter};
pub use error::ToolError;
pub use server::{BiginServer, ServerOptions, definitions};

// Re-exported for the CLI's flag types, which name them here.
pub use crate::admin::{AuditLog, Shutdown, Since, SnapshotStore};
