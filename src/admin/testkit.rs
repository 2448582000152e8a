//! Test fixtures for the services: a sandbox on 127.0.0.1 in-process and a
//! session logged in to it.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use super::Session;
use crate::sandbox::{self, Sandbox, SandboxOptions};
use crate::zoho::{
    BiginClient, ClientOptions, RefreshCredentials, RefreshTokenSource, http_client,
};

/// A fresh sandbox and a session on it.
pub async fn sandbox_session() -> (Sandbox, Arc<Session>) {
    let sb = Sandbox::start(SandboxOptions::default())
        .await
        .expect("sandbox starts on 127.0.0.1");
    let http = http_client(Duration::from_secs(10));
    let creds = RefreshCredentials {
        client_id: sandbox::DEMO_CLIENT_ID.into(),
        client_secret: SecretString::from(sandbox::DEMO_CLIENT_SECRET.to_string()),
        refresh_token: SecretString::from(sandbox::DEMO_REFRESH_TOKEN.to_string()),
        accounts_url: sb.base_url(),
        api_domain: None,
    };
    let tokens = Arc::new(RefreshTokenSource::new(http.clone(), Arc::new(creds)));
    let client = BiginClient::new(http, tokens, ClientOptions::default());
    (sb, Arc::new(Session::new(client)))
}
