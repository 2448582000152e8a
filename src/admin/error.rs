//! [`AdminError`]: a service could not do what was asked. Its text is
//! written for the caller (it says what to fix and whether anything was
//! sent); `mcp` turns it into a tool error, the CLI into a message.

use crate::zoho::{IdError, ZohoError};

/// Why a service refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Zoho refused or could not be reached.
    #[error(transparent)]
    Zoho(#[from] ZohoError),
    /// An id given by the caller is not a Zoho id.
    #[error("{0}. Nothing was sent to Zoho.")]
    Id(#[from] IdError),
    /// The service itself refused, before sending anything: the text says
    /// why and what to do.
    #[error("{0}")]
    Refused(String),
    /// A write was sent and Zoho did not accept it (already audited).
    #[error("{0}")]
    Failed(String),
}
