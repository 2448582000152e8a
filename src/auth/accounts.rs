//! The account file: non-secret metadata per account (client id, data
//! centre, servers, scopes, organisation), as JSON in the platform config
//! directory. Secrets never go here; they live in the keychain.
//!
//! Logins of different accounts may run at once, beside running servers:
//! every change takes the lock `accounts.json.lock` and re-reads the file
//! under it, and the file is replaced whole ([`crate::fsx`], mode 0600 in a
//! 0700 directory), so no change that reported success is lost.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::AuthError;
use crate::fsx::{self, FileLock};

/// The most `accounts.json` may hold (far above any real set of accounts).
const MAX_BYTES: u64 = 4 << 20;

/// The account `login` creates without `--account`.
pub const DEFAULT_ACCOUNT: &str = "default";

/// What is known about one login, minus its secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountMeta {
    pub client_id: String,
    /// Data-centre code (`us`, `eu`, ...) or the callback's `location`.
    pub dc: String,
    /// Where tokens are refreshed and revoked (the user's own DC).
    pub accounts_server: String,
    pub api_domain: String,
    pub scopes: Vec<String>,
    #[serde(default)]
    pub org_name: Option<String>,
    #[serde(default)]
    pub org_id: Option<String>,
    /// RFC 3339 time of the login.
    #[serde(default)]
    pub logged_in_at: Option<String>,
    /// Where the secrets are; absent (older files) means the keychain.
    #[serde(default, skip_serializing_if = "SecretsIn::is_keychain")]
    pub secrets: SecretsIn,
}

/// Where an account's secrets are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretsIn {
    /// The OS keychain.
    #[default]
    Keychain,
    /// `credentials.json` beside the account file (`login --insecure-storage`).
    File,
}

impl SecretsIn {
    pub fn is_keychain(&self) -> bool {
        *self == SecretsIn::Keychain
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    #[serde(default)]
    accounts: BTreeMap<String, AccountMeta>,
}

/// The account file at a path.
#[derive(Debug, Clone)]
pub struct Accounts {
    path: PathBuf,
}

impl Accounts {
    pub fn new(path: PathBuf) -> Self {
        Accounts { path }
    }

    /// `accounts.json` in the platform config directory
    /// (`~/.config/bigin-mcp` on Linux).
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "bigin-mcp")
            .map(|d| d.config_dir().join("accounts.json"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: impl std::fmt::Display) -> AuthError {
        AuthError::Config {
            path: self.path.display().to_string(),
            message: e.to_string(),
        }
    }

    /// Every account; none when the file does not exist.
    pub fn load(&self) -> Result<BTreeMap<String, AccountMeta>, AuthError> {
        match fsx::read_regular(&self.path, MAX_BYTES) {
            Ok(Some(bytes)) => Ok(serde_json::from_slice::<File>(&bytes)
                .map_err(|e| self.err(e))?
                .accounts),
            Ok(None) => Ok(BTreeMap::new()),
            Err(e) => Err(self.err(e)),
        }
    }

    /// One account, if it exists.
    pub fn get(&self, name: &str) -> Result<Option<AccountMeta>, AuthError> {
        Ok(self.load()?.remove(name))
    }

    /// Adds or replaces an account.
    pub fn put(&self, name: &str, meta: AccountMeta) -> Result<(), AuthError> {
        self.modify(|all| {
            all.insert(name.to_string(), meta);
            true
        })
        .map(|_| ())
    }

    /// Removes an account; true if it existed.
    pub fn remove(&self, name: &str) -> Result<bool, AuthError> {
        self.modify(|all| all.remove(name).is_some())
    }

    /// Runs `change` on the file's current content under the lock and
    /// writes the result if it returns true (which is passed on).
    fn modify(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, AccountMeta>) -> bool,
    ) -> Result<bool, AuthError> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fsx::create_private_dir(dir).map_err(|e| self.err(e))?;
        }
        let _lock = FileLock::beside(&self.path).map_err(|e| self.err(e))?;
        let mut accounts = self.load()?;
        if !change(&mut accounts) {
            return Ok(false);
        }
        let text = serde_json::to_string_pretty(&File { accounts }).map_err(|e| self.err(e))?;
        fsx::write_private(&self.path, (text + "\n").as_bytes()).map_err(|e| self.err(e))?;
        Ok(true)
    }
}

/// Account names end up in keychain keys and file names: keep them plain.
pub fn check_account_name(name: &str) -> Result<(), AuthError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(AuthError::Usage(format!(
            "account name '{name}' is not allowed; use 1-64 letters, digits, '-', '_' or '.'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> AccountMeta {
        AccountMeta {
            client_id: "1000.X".into(),
            dc: "eu".into(),
            accounts_server: "https://accounts.zoho.eu".into(),
            api_domain: "https://www.zohoapis.eu".into(),
            scopes: vec!["ZohoBigin.users.ALL".into()],
            org_name: Some("Northwind".into()),
            org_id: Some("1".into()),
            logged_in_at: None,
            secrets: SecretsIn::Keychain,
        }
    }

    #[test]
    fn put_get_remove_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let a = Accounts::new(dir.path().join("cfg/accounts.json"));
        assert!(a.load().unwrap().is_empty());
        a.put("default", meta()).unwrap();
        a.put("eu-2", meta()).unwrap();
        assert_eq!(a.get("default").unwrap(), Some(meta()));
        assert!(a.remove("default").unwrap());
        assert!(!a.remove("default").unwrap());
        assert_eq!(a.load().unwrap().keys().collect::<Vec<_>>(), vec!["eu-2"]);
    }

    #[test]
    fn concurrent_puts_of_different_accounts_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cfg/accounts.json");
        let threads: Vec<_> = (0..12)
            .map(|t| {
                let a = Accounts::new(path.clone());
                std::thread::spawn(move || {
                    for i in 0..5 {
                        a.put(&format!("a{t}-{i}"), meta()).unwrap();
                    }
                    assert!(a.remove(&format!("a{t}-0")).unwrap());
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let all = Accounts::new(path).load().unwrap();
        assert_eq!(all.len(), 12 * 4, "{:?}", all.keys());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir.path().join("cfg/accounts.json")), 0o600);
            assert_eq!(mode(&dir.path().join("cfg")), 0o700);
        }
    }

    #[test]
    fn account_names_are_plain() {
        assert!(check_account_name("default").is_ok());
        assert!(check_account_name("eu.prod-2").is_ok());
        assert!(check_account_name("../x").is_err());
        assert!(check_account_name("").is_err());
    }
}
