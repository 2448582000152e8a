//! The MCP surface: the handler (`handler`, which also names the domain
//! routers), the curated tools (one module per domain in `tools`, thin
//! methods over [`crate::admin`]'s services), the catalogue and start-up
//! filters (`catalog`), how a write is confirmed by elicitation
//! (`confirm`), views, schemas and prompts. It reaches Zoho only through
//! `admin` and [`crate::zoho::BiginClient`], and never touches the keychain.
//! The transport it is served over is [`crate::transport`].

pub mod catalog;
pub mod confirm;
mod error;
mod handler;
mod progress;
mod prompts;
mod schema;
mod tools;
pub mod view;

pub use catalog::{FilterError, ToolFilter};
pub use confirm::ElicitationPolicy;
pub use error::ToolError;
pub use handler::{
    BiginServer, ServerOptions, catalogue, definitions, login_scopes, required_scopes, tool_info,
    toolset_names,
};

// Re-exported for the CLI's flag types, which name them here.
pub use crate::admin::{AuditLog, Shutdown, Since, SnapshotStore};
