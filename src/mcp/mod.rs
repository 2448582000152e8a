//! The MCP surface: the curated tools, the start-up filters, the write
//! guards and the audit log. It reaches Zoho only through
//! [`crate::zoho::BiginClient`] and never touches the keychain.

pub mod audit;
pub mod catalog;
mod error;
pub mod review;
mod schema;
mod server;
pub mod shutdown;
pub mod stdio;

pub use audit::AuditLog;
pub use catalog::{FilterError, ToolFilter};
pub use error::ToolError;
pub use server::{BiginServer, INSTRUCTIONS, ServerOptions};
pub use shutdown::Shutdown;
