//! The tools, one module per domain. Each module routes its own tools
//! (`#[tool_router(router = ...)]`); [`routers`] names each router's
//! toolset, which is where `catalog` reads a tool's toolset from.
//! Argument and result types live beside their tools.

use rmcp::handler::server::router::tool::ToolRouter;

use super::server::BiginServer;

pub mod org;
pub mod profiles;
pub mod review;
pub mod roles;
pub mod users;

/// Every domain router with its toolset name, in catalogue order.
pub(crate) fn routers() -> Vec<(&'static str, ToolRouter<BiginServer>)> {
    vec![
        ("users", BiginServer::users_router()),
        ("roles", BiginServer::roles_router()),
        ("profiles", BiginServer::profiles_router()),
        ("org", BiginServer::org_router()),
        ("audit", BiginServer::review_router()),
    ]
}

/// All routes in one router, as the server dispatches them.
pub(crate) fn router() -> ToolRouter<BiginServer> {
    routers()
        .into_iter()
        .map(|(_, r)| r)
        .fold(ToolRouter::new(), |acc, r| acc + r)
}
