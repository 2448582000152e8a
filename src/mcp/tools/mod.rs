//! The tools, one module per domain. Each module routes its own tools
//! (`#[tool_router(router = ...)]`); [`routers`] names each router's
//! toolset, which is where `catalog` reads a tool's toolset from.
//! Argument and result types live beside their tools.

use std::sync::OnceLock;

use rmcp::handler::server::router::tool::ToolRouter;

use super::server::BiginServer;

pub mod org;
pub mod profiles;
pub mod review;
pub mod roles;
pub mod users;

/// Every domain router with its toolset name, in catalogue order. Built
/// once per process: the catalogue (read by the start-up filters) and the
/// server both use it, and each build generates every tool's JSON schemas.
pub(crate) fn routers() -> &'static [(&'static str, ToolRouter<BiginServer>)] {
    static ROUTERS: OnceLock<Vec<(&'static str, ToolRouter<BiginServer>)>> = OnceLock::new();
    ROUTERS.get_or_init(|| {
        vec![
            ("users", BiginServer::users_router()),
            ("roles", BiginServer::roles_router()),
            ("profiles", BiginServer::profiles_router()),
            ("org", BiginServer::org_router()),
            ("audit", BiginServer::review_router()),
        ]
    })
}

/// All routes in one router, as the server dispatches them.
pub(crate) fn router() -> ToolRouter<BiginServer> {
    routers()
        .iter()
        .map(|(_, r)| r.clone())
        .fold(ToolRouter::new(), |acc, r| acc + r)
}
