//! [`AuthError`]: why a login, logout or keychain operation failed, each
//! message one sentence that says what to do.

/// A failed login step or keychain operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error("{0}")]
    Usage(String),
    #[error(
        "no Zoho login for account '{0}'; run `bigin-mcp login --account {0}` (or omit --account for 'default')"
    )]
    NotLoggedIn(String),
    #[error("cannot reach the OS keychain: {0}")]
    KeychainUnavailable(String),
    #[error(
        "the OS keychain is locked or refused access: {0}; unlock it (log in to the desktop session) and retry"
    )]
    KeychainLocked(String),
    #[error("keychain {op} of '{key}' failed: {message}")]
    Keychain {
        op: &'static str,
        key: String,
        message: String,
    },
    #[error("cannot use the secrets file {path} ({message})")]
    SecretsFile { path: String, message: String },
    #[error("cannot read or write the account file {path}: {message}")]
    Config { path: String, message: String },
    #[error("{0}")]
    Callback(String),
    #[error(transparent)]
    Zoho(#[from] crate::zoho::ZohoError),
}
