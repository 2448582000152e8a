//! `login --insecure-storage`: secrets in a plain JSON file, for machines
//! without an OS keychain (containers, servers without a desktop session).
//!
//! The file is `credentials.json` beside the account file, mode 0600 in a
//! 0700 directory, created with those modes (never briefly readable by
//! others) and replaced atomically. It is only as safe as the user account
//! that owns it, which is why the flag says "insecure" (gh's convention).
//! Nothing here logs or reports a value; errors name the file only.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};

use super::{AuthError, SecretStore};

/// The file's name in the config directory.
pub const FILE_NAME: &str = "credentials.json";

/// Secrets in a 0600 file.
pub struct FileStore {
    path: PathBuf,
    // One writer at a time within the process (read-modify-write).
    lock: Mutex<()>,
}

impl FileStore {
    pub fn new(path: PathBuf) -> FileStore {
        FileStore {
            path,
            lock: Mutex::new(()),
        }
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
        match std::fs::read(&self.path) {
            // serde_json's errors give a position, never the text.
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| self.err("not valid JSON", e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(self.err("read", e)),
        }
    }

    fn save(&self, map: &BTreeMap<String, String>) -> Result<(), AuthError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir).map_err(|e| self.err("create the directory", e))?;
        let text = serde_json::to_string_pretty(map).map_err(|e| self.err("encode", e))?;
        let tmp = self.path.with_extension("json.tmp");
        let _ = std::fs::remove_file(&tmp);
        let write = || -> std::io::Result<()> {
            let mut f = private_file(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            self.err("write", e)
        })
    }
}

/// A directory only its owner can enter.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        // An existing config directory may be 0755: the secrets must not be
        // listed there either.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// A new file that only its owner can read, created with that mode.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

impl SecretStore for FileStore {
    fn get(&self, key: &str) -> Result<Option<SecretString>, AuthError> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        Ok(self.load()?.remove(key).map(SecretString::from))
    }

    fn set(&self, key: &str, value: &SecretString) -> Result<(), AuthError> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.load()?;
        map.insert(key.to_string(), value.expose_secret().to_string());
        self.save(&map)
    }

    fn delete(&self, key: &str) -> Result<(), AuthError> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.load()?;
        if map.remove(key).is_none() {
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
        self.save(&map)
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
}
