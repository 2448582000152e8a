//! Logging in to Zoho and keeping the result: the OAuth authorization-code
//! flow (PKCE, state, loopback callback), Self Client codes, revocation,
//! the OS keychain for secrets and a small config file for the rest.
//!
//! It plugs into the Zoho client through [`crate::zoho::Credentials`]
//! ([`KeychainCredentials`]) and never talks MCP. The keychain is opened
//! lazily, on the first call that needs a token, so `serve` starts (and
//! lists its tools) even where no keychain is reachable. Where none exists,
//! `login --insecure-storage` keeps the secrets in a 0600 file instead
//! ([`FileStore`]) and the account file records which.

mod accounts;
pub mod connect;
mod error;
mod filestore;
pub mod flow;
mod keychain;
pub mod oauth;

pub use accounts::{AccountMeta, Accounts, DEFAULT_ACCOUNT, SecretsIn, check_account_name};
pub use error::AuthError;
pub use filestore::FileStore;
pub use keychain::{
    KeychainCredentials, MemoryStore, OsStore, SecretKind, SecretStore, StoreOpener, blocking,
};
