//! The commands: the only code that uses `anyhow` and wires the library's
//! layers together.

pub mod sandbox;
pub mod serve;

/// A mistake in the command line (exit code 2), as opposed to a failure.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
