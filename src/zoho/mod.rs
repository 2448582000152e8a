//! The Zoho side: an HTTP client for Bigin v2 and the Zoho accounts token
//! endpoint. It owns data centres, id validation, token caching, retries and
//! the mapping of Zoho's error shapes (errors inside HTTP 200, 204 for
//! "nothing", per-record write refusals inside a 4xx or a 2xx, the token
//! throttle) into [`ZohoError`], plus one-shot probes for `doctor`.
//!
//! It must not know about MCP, clap or the keychain: credentials arrive
//! through the [`TokenSource`] trait, which the keychain layer implements too.

mod answers;
mod calls;
mod client;
mod dc;
mod error;
mod http;
mod ids;
pub mod models;
mod probe;
mod token;

pub(crate) use answers::decode_users;
pub use calls::{NewUser, RawUsersPage, RecordOutcome, RefForm, UserType};
pub use client::{
    BiginClient, ClientOptions, PageHook, count_requests, observe_pages, refusals_unreported,
};
pub use dc::{DataCentre, api_domain_for_accounts, check_base_url};
pub use error::ZohoError;
pub(crate) use http::without_url as describe_transport_error;
pub use http::{Http, http_client};
pub(crate) use http::{MAX_TOKEN_BODY_BYTES, read_capped};
pub use ids::{IdError, ZohoId};
pub use models::{Interner, Org, Permission, Profile, Ref, Role, User, UserStatus};
pub use probe::ProbeAnswer;
pub(crate) use token::access_token_from;
pub use token::{
    AccessToken, BoxFuture, Credentials, MissingCredentials, RefreshCredentials,
    RefreshTokenSource, Refusal, TokenSource,
};
