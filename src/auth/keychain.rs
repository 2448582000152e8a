//! Secrets in the OS keychain (macOS Keychain, Windows Credential Manager,
//! Linux Secret Service) through the keyring-core family, behind the small
//! [`SecretStore`] trait so tests use [`MemoryStore`].
//!
//! Entries live under service `bigin-mcp`, user `<account>/<kind>`. Calls
//! block (D-Bus, Security framework), so async callers go through
//! `spawn_blocking`. Nothing here logs a secret value.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use super::{AccountMeta, AuthError};
use crate::zoho::{AccessToken, BoxFuture, Credentials, RefreshCredentials, ZohoError};

/// The keychain service name.
pub const SERVICE: &str = "bigin-mcp";

/// What a keychain entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    RefreshToken,
    ClientSecret,
    /// JSON: the cached access token with its expiry and API domain.
    AccessToken,
}

impl SecretKind {
    pub const ALL: [SecretKind; 3] = [
        SecretKind::RefreshToken,
        SecretKind::ClientSecret,
        SecretKind::AccessToken,
    ];

    fn name(self) -> &'static str {
        match self {
            SecretKind::RefreshToken => "refresh_token",
            SecretKind::ClientSecret => "client_secret",
            SecretKind::AccessToken => "access_token",
        }
    }

    /// The entry's user name for `account`.
    pub fn key(self, account: &str) -> String {
        format!("{account}/{}", self.name())
    }
}

/// A place for secrets. Implementations must not log values.
pub trait SecretStore: Send + Sync {
    fn get(&self, key: &str) -> Result<Option<SecretString>, AuthError>;
    fn set(&self, key: &str, value: &SecretString) -> Result<(), AuthError>;
    /// Removing a missing entry is not an error.
    fn delete(&self, key: &str) -> Result<(), AuthError>;
}

/// An in-memory store for tests.
#[derive(Default)]
pub struct MemoryStore(Mutex<HashMap<String, String>>);

impl MemoryStore {
    /// Every stored value, for tests that look for leaks.
    pub fn dump(&self) -> Vec<(String, String)> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, key: &str) -> Result<Option<SecretString>, AuthError> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        Ok(map.get(key).map(|v| SecretString::from(v.clone())))
    }
    fn set(&self, key: &str, value: &SecretString) -> Result<(), AuthError> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(key.to_string(), value.expose_secret().to_string());
        Ok(())
    }
    fn delete(&self, key: &str) -> Result<(), AuthError> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
        Ok(())
    }
}

/// The platform keychain.
pub struct OsStore(Arc<keyring_core::CredentialStore>);

impl OsStore {
    /// Opens the platform store. On Linux this connects to the Secret
    /// Service over the D-Bus session bus, which can take several ms and
    /// fails where no session bus or keyring daemon runs.
    pub fn open() -> Result<OsStore, AuthError> {
        #[cfg(target_os = "linux")]
        let store = zbus_secret_service_keyring_store::Store::new()
            .map(|s| s as Arc<keyring_core::CredentialStore>);
        #[cfg(target_os = "macos")]
        let store = apple_native_keyring_store::keychain::Store::new()
            .map(|s| s as Arc<keyring_core::CredentialStore>);
        #[cfg(target_os = "windows")]
        let store = windows_native_keyring_store::Store::new()
            .map(|s| s as Arc<keyring_core::CredentialStore>);
        #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
        let store: Result<Arc<keyring_core::CredentialStore>, keyring_core::Error> = Err(
            keyring_core::Error::NotSupportedByStore("no keychain on this platform".into()),
        );
        store.map(OsStore).map_err(|e| {
            AuthError::KeychainUnavailable(format!(
                "{e}. On Linux, start a Secret Service (GNOME Keyring, KeePassXC) in this session and retry; \
                 where none can run, `serve` also takes BIGIN_CLIENT_ID, BIGIN_CLIENT_SECRET and BIGIN_REFRESH_TOKEN from its environment"
            ))
        })
    }

    fn entry(&self, key: &str) -> Result<keyring_core::Entry, AuthError> {
        keyring_core::Entry::new_in_store(&self.0, SERVICE, key)
            .map_err(|e| map_err("open", key, e))
    }
}

fn map_err(op: &'static str, key: &str, e: keyring_core::Error) -> AuthError {
    match e {
        keyring_core::Error::NoStorageAccess(inner) => AuthError::KeychainLocked(inner.to_string()),
        keyring_core::Error::PlatformFailure(inner) => AuthError::Keychain {
            op,
            key: key.into(),
            message: inner.to_string(),
        },
        // Other variants carry no secret (BadEncoding carries bytes: not shown).
        keyring_core::Error::BadEncoding(_) => AuthError::Keychain {
            op,
            key: key.into(),
            message: "the entry is not UTF-8".into(),
        },
        other => AuthError::Keychain {
            op,
            key: key.into(),
            message: other.to_string(),
        },
    }
}

impl SecretStore for OsStore {
    fn get(&self, key: &str) -> Result<Option<SecretString>, AuthError> {
        match self.entry(key)?.get_password() {
            Ok(v) => Ok(Some(SecretString::from(v))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err("read", key, e)),
        }
    }
    fn set(&self, key: &str, value: &SecretString) -> Result<(), AuthError> {
        self.entry(key)?
            .set_password(value.expose_secret())
            .map_err(|e| map_err("write", key, e))
    }
    fn delete(&self, key: &str) -> Result<(), AuthError> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err("delete", key, e)),
        }
    }
}

/// Runs a blocking keychain operation off the async threads (D-Bus and the
/// Security framework block), so every caller maps a lost task the same way.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AuthError> + Send + 'static,
) -> Result<T, AuthError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AuthError::KeychainUnavailable(e.to_string()))?
}

/// Opens a store on demand (the OS keychain in the binary, memory in tests).
pub type StoreOpener = Arc<dyn Fn() -> Result<Arc<dyn SecretStore>, AuthError> + Send + Sync>;

#[derive(Serialize, Deserialize)]
struct CachedAccess {
    token: String,
    /// Unix seconds.
    expires_at: u64,
    api_domain: Option<String>,
}

/// Encodes an access token for the keychain cache.
pub(crate) fn encode_access(t: &AccessToken) -> SecretString {
    let c = CachedAccess {
        token: t.secret.expose_secret().to_string(),
        expires_at: t
            .expires_at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        api_domain: t.api_domain.clone(),
    };
    SecretString::from(serde_json::to_string(&c).unwrap_or_default())
}

fn decode_access(s: &SecretString) -> Option<AccessToken> {
    let c: CachedAccess = serde_json::from_str(s.expose_secret()).ok()?;
    Some(AccessToken {
        secret: SecretString::from(c.token),
        api_domain: c.api_domain,
        expires_at: UNIX_EPOCH + Duration::from_secs(c.expires_at),
        generation: 0,
    })
}

/// [`Credentials`] for a logged-in account: metadata from the account file,
/// secrets from the keychain, opened on first use.
pub struct KeychainCredentials {
    account: String,
    meta: AccountMeta,
    opener: StoreOpener,
    store: OnceCell<Arc<dyn SecretStore>>,
}

impl KeychainCredentials {
    pub fn new(account: &str, meta: AccountMeta, opener: StoreOpener) -> Self {
        KeychainCredentials {
            account: account.into(),
            meta,
            opener,
            store: OnceCell::new(),
        }
    }

    async fn store(&self) -> Result<Arc<dyn SecretStore>, AuthError> {
        self.store
            .get_or_try_init(|| async {
                let opener = self.opener.clone();
                blocking(move || opener()).await
            })
            .await
            .cloned()
    }

    async fn get(&self, kind: SecretKind) -> Result<Option<SecretString>, AuthError> {
        let store = self.store().await?;
        let key = kind.key(&self.account);
        blocking(move || store.get(&key)).await
    }
}

fn to_zoho(e: AuthError) -> ZohoError {
    ZohoError::NotLoggedIn(e.to_string())
}

impl Credentials for KeychainCredentials {
    fn load(&self) -> BoxFuture<'_, Result<RefreshCredentials, ZohoError>> {
        Box::pin(async move {
            let refresh = self.get(SecretKind::RefreshToken).await.map_err(to_zoho)?;
            let secret = self.get(SecretKind::ClientSecret).await.map_err(to_zoho)?;
            let (Some(refresh_token), Some(client_secret)) = (refresh, secret) else {
                return Err(to_zoho(AuthError::NotLoggedIn(self.account.clone())));
            };
            Ok(RefreshCredentials {
                client_id: self.meta.client_id.clone(),
                client_secret,
                refresh_token,
                accounts_url: self.meta.accounts_server.clone(),
                api_domain: Some(self.meta.api_domain.clone()),
            })
        })
    }

    fn cached_access_token(&self) -> BoxFuture<'_, Option<AccessToken>> {
        Box::pin(async move {
            match self.get(SecretKind::AccessToken).await {
                Ok(Some(s)) => decode_access(&s).filter(|t| t.expires_at > SystemTime::now()),
                Ok(None) => None,
                Err(e) => {
                    tracing::debug!(error = %e, "no cached access token");
                    None
                }
            }
        })
    }

    /// `locks/token-<account>.lock` in the data directory: every server
    /// process of this login refreshes under it.
    fn refresh_lock(&self) -> Option<std::path::PathBuf> {
        directories::ProjectDirs::from("", "", "bigin-mcp").map(|d| {
            d.data_dir()
                .join("locks")
                .join(format!("token-{}.lock", self.account))
        })
    }

    fn store_access_token<'a>(&'a self, token: &'a AccessToken) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Ok(store) = self.store().await else {
                return;
            };
            let key = SecretKind::AccessToken.key(&self.account);
            let value = encode_access(token);
            if let Err(e) = blocking(move || store.set(&key, &value)).await {
                // Only a cache: the next start refreshes instead.
                tracing::warn!(error = %e, "cannot cache the access token in the keychain");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_tokens_round_trip_through_the_cache_format() {
        let t = AccessToken {
            secret: SecretString::from("1000.abc".to_string()),
            api_domain: Some("https://www.zohoapis.eu".into()),
            expires_at: UNIX_EPOCH + Duration::from_secs(2_000_000_000),
            generation: 7,
        };
        let back = decode_access(&encode_access(&t)).unwrap();
        assert_eq!(back.secret.expose_secret(), "1000.abc");
        assert_eq!(back.api_domain, t.api_domain);
        assert_eq!(back.expires_at, t.expires_at);
    }

    #[test]
    fn memory_store_gets_sets_and_deletes() {
        let m = MemoryStore::default();
        let k = SecretKind::RefreshToken.key("default");
        assert_eq!(k, "default/refresh_token");
        assert!(m.get(&k).unwrap().is_none());
        m.set(&k, &SecretString::from("r".to_string())).unwrap();
        assert_eq!(m.get(&k).unwrap().unwrap().expose_secret(), "r");
        m.delete(&k).unwrap();
        m.delete(&k).unwrap();
        assert!(m.get(&k).unwrap().is_none());
    }
}
