//! [`ToolError`]: a tool ran and did not work. It becomes a `CallToolResult`
//! with `isError: true` and a message that says how to fix the call, which
//! clients show to the model (a JSON-RPC error would be rendered opaquely).

use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};

use crate::admin::AdminError;
use crate::zoho::{IdError, ZohoError};

/// A tool failure with a message for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolError(pub String);

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<ZohoError> for ToolError {
    fn from(e: ZohoError) -> Self {
        ToolError(e.to_string())
    }
}

impl From<IdError> for ToolError {
    fn from(e: IdError) -> Self {
        ToolError(format!("{e}. Nothing was sent to Zoho."))
    }
}

impl From<AdminError> for ToolError {
    fn from(e: AdminError) -> Self {
        ToolError(e.to_string())
    }
}

impl From<String> for ToolError {
    fn from(e: String) -> Self {
        ToolError(e)
    }
}

impl IntoCallToolResult for ToolError {
    fn into_call_tool_result(self) -> Result<CallToolResponse, rmcp::ErrorData> {
        Ok(CallToolResult::error(vec![ContentBlock::text(self.0)]).into())
    }
}
