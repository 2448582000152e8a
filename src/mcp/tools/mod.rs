//! The tools, one module per domain. Each module routes its own tools
//! (`#[tool_router(router = ...)]`) and declares the Zoho scopes each one
//! needs (`BiginServer::USERS_SCOPES`, ...); the handler names each router's toolset, which is
//! where the catalogue reads a tool's toolset from. Argument and result
//! types live beside their tools.

pub mod org;
pub mod profiles;
pub mod review;
pub mod roles;
pub mod users;
