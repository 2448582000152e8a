//! `login --insecure-storage`: secrets in a plain JSON file, for machines
//! without an OS keychain (containers, servers without a desktop session).
//!
//! The file is `credentials.json` beside the account file, mode 0600 in a
//! 0700 directory, created with those modes (never briefly readable by
//! others) and replaced atomically ([`crate::fsx`]). It is only as safe as
//! the user account that owns it, which is why the flag says "insecure"
//! (gh's convention). Nothing here logs or reports a value; errors name the
//! file only.
//!
//! Several processes share it (Claude Desktop runs more than one copy of
//! `serve`, which stores refreshed tokens, and `login` may run beside them),
//! so every change takes the lock `credentials.json.lock` and re-reads the
//! file under it: a change reported as done is never overwritten by a
//! writer that read the file before it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

use super::{AuthError, SecretStore};
use crate::fsx::{self, FileLock};

/// The file's name in the config directory.
pub const FILE_NAME: &str = "credentials.json";

/// Secrets in a 0600 file.
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    pub fn new(path: PathBuf) -> FileStore {
        FileStore { path }
    }

    /// `credentials.json` in the same directory as the account file.
    pub fn beside(accounts_file: &Path) -> FileStore {
        FileStore::new(accounts_file.with_file_name(FILE_NAME))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, op: &str, e: impl std::fmt::Display) -> AuthError {
        AuthError::SecretsFile {
            path: self.path.display().to_string(),
            message: format!("{op}: {e}"),
        }
    }

    fn load(&self) -> Result<BTreeMap<String, String>, AuthError> {
        // A regular file only, with a cap far above any real token set.
        match fsx::read_regular(&self.path, MAX_BYTES) {
            // serde_json's errors give a position, never the text.
            Ok(Some(bytes)) => {
                serde_json::from_slice(&bytes).map_err(|e| self.err("not valid JSON", e))
            }
            Ok(None) => Ok(BTreeMap::new()),
            Err(e) => Err(self.err("read", e)),
        }
    }

    /// Runs `change` on the file's current content under the lock, and
    /// writes the result if it says so.
    fn modify(
        &self,
        change: impl FnOnce(&mut BTreeMap<String, String>) -> bool,
    ) -> Result<(), AuthError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fsx::create_private_dir(dir).map_err(|e| self.err("create the directory", e))?;
        let _lock = FileLock::beside(&self.path).map_err(|e| self.err("lock", e))?;
        let mut map = self.load()?;
        if !change(&mut map) {
            return Ok(());
        }
        if map.is_empty() {
            // The last secret gone: leave no empty file behind.
            return match std::fs::remove_file(&self.path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(self.err("remove", e)),
            };
        }
        let text = serde_json::to_string_pretty(&map).map_err(|e| self.err("encode", e))? + "\n";
        fsx::write_private(&self.path, text.as_bytes()).map_err(|e| self.err("write", e))
    }
}

/// The most `credentials.json` may hold (a few tokens per account).
const MAX_BYTES: u64 = 4 << 20;

impl SecretStore for FileStore {
    fn get(&self, key: &str) -> Result<Option<SecretString>, AuthError> {
        // No lock: the file is only ever replaced whole, by a rename.
        Ok(self.load()?.remove(key).map(SecretString::from))
    }

    fn set(&self, key: &str, value: &SecretString) -> Result<(), AuthError> {
        self.modify(|map| {
            map.insert(key.to_string(), value.expose_secret().to_string());
            true
        })
    }

    fn delete(&self, key: &str) -> Result<(), AuthError> {
        self.modify(|map| map.remove(key).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_private_modes() {
        let dir = tempfile::tempdir().unwrap();
        let s = FileStore::new(dir.path().join("cfg/credentials.json"));
        assert!(s.get("a/refresh_token").unwrap().is_none());
        s.set("a/refresh_token", &SecretString::from("r1".to_string()))
            .unwrap();
        s.set("b/refresh_token", &SecretString::from("r2".to_string()))
            .unwrap();
        assert_eq!(
            s.get("a/refresh_token").unwrap().unwrap().expose_secret(),
            "r1"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(s.path()), 0o600);
            assert_eq!(mode(&dir.path().join("cfg")), 0o700);
        }
        s.delete("a/refresh_token").unwrap();
        s.delete("a/refresh_token").unwrap();
        assert!(s.path().exists(), "b is still there");
        s.delete("b/refresh_token").unwrap();
        assert!(!s.path().exists(), "no empty file left");
    }

    #[test]
    fn concurrent_writers_lose_nothing_that_reported_success() {
        // Separate stores, as separate processes have (a `serve` storing a
        // refreshed token while `login`s store theirs): each set re-reads the
        // file under the lock, so every key that was set is still there.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cfg/credentials.json");
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let s = FileStore::new(path);
                    for i in 0..12 {
                        let v = SecretString::from(format!("token-{t}-{i}"));
                        s.set(&format!("acct{t}/refresh_token"), &v).unwrap();
                        s.set(&format!("acct{t}-{i}/refresh_token"), &v).unwrap();
                    }
                    s.delete(&format!("acct{t}-0/refresh_token")).unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let s = FileStore::new(path);
        for t in 0..8 {
            let got = s.get(&format!("acct{t}/refresh_token")).unwrap().unwrap();
            assert_eq!(got.expose_secret(), format!("token-{t}-11"));
            assert!(
                s.get(&format!("acct{t}-0/refresh_token"))
                    .unwrap()
                    .is_none()
            );
            for i in 1..12 {
                assert!(
                    s.get(&format!("acct{t}-{i}/refresh_token"))
                        .unwrap()
                        .is_some(),
                    "acct{t}-{i} lost"
                );
            }
        }
        let names: Vec<_> = std::fs::read_dir(dir.path().join("cfg"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            names
                .iter()
                .all(|n| n == "credentials.json" || n == "credentials.json.lock"),
            "no temp files left: {names:?}"
        );
    }
}
