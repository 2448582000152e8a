//! The commands: the only code that uses `anyhow` and wires the library's
//! layers together.

pub mod apply;
pub mod audit;
pub mod docs;
pub mod doctor;
pub mod install;
pub mod login;
pub mod man;
pub mod review;
pub mod sandbox;
pub mod serve;

/// A mistake in the command line (exit code 2), as opposed to a failure.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// No login for the account asked for (exit code 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotLoggedIn(pub String);

/// The account file at its platform location.
pub fn accounts_file() -> anyhow::Result<bigin_mcp::auth::Accounts> {
    let path = bigin_mcp::auth::Accounts::default_path()
        .ok_or_else(|| anyhow::anyhow!("no home directory, so no place for the account file"))?;
    Ok(bigin_mcp::auth::Accounts::new(path))
}

/// This binary's absolute path, for configs that start it (hosts run
/// servers without the user's PATH).
pub fn this_binary() -> anyhow::Result<std::path::PathBuf> {
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| anyhow::anyhow!("cannot find the path of this program: {e}"))?;
    Ok(exe)
}
