//! The audit log: one JSON line per write attempt (refused, dry run, failed
//! or done), appended to a file the admin can keep.
//!
//! Writes fail closed: if the line cannot be written before a change is
//! sent, the change is refused. Lines never hold a token or secret.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

/// One audit record.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry<'a> {
    /// RFC 3339 time of the attempt.
    pub time: String,
    pub tool: &'a str,
    pub user_id: &'a str,
    /// The user's email on record when known, else the confirmation given.
    pub email: &'a str,
    /// What was asked: `deactivate`, `activate`, `delete`.
    pub action: &'a str,
    /// `refused`, `dry_run`, `pending`, `success`, `error`.
    pub outcome: &'a str,
    /// Why, in one sentence.
    pub detail: &'a str,
}

/// An append-only JSON-lines file.
pub struct AuditLog {
    path: PathBuf,
    // Serialises appends from parallel tool calls so lines never interleave.
    lock: Mutex<()>,
}

/// The audit file cannot be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the audit log {path}: {source}")]
pub struct AuditError {
    path: String,
    #[source]
    source: std::io::Error,
}

impl AuditLog {
    /// A log at `path`; the file and its directory are created on first write.
    pub fn new(path: PathBuf) -> Self {
        AuditLog {
            path,
            lock: Mutex::new(()),
        }
    }

    /// The default location: `audit.log` in the platform data directory
    /// (`~/.local/share/bigin-mcp` on Linux).
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "bigin-mcp").map(|d| d.data_dir().join("audit.log"))
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line, with the time filled in.
    pub fn append(&self, mut entry: AuditEntry<'_>) -> Result<(), AuditError> {
        if entry.time.is_empty() {
            entry.time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        }
        let mut line = serde_json::to_string(&entry).expect("audit entries serialise");
        line.push('\n');
        let err = |source| AuditError {
            path: self.path.display().to_string(),
            source,
        };
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = self.path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(err)?;
        // One write call per line keeps lines whole even with other writers.
        f.write_all(line.as_bytes()).map_err(err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_json_lines_and_creates_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("sub/audit.log"));
        for outcome in ["dry_run", "success"] {
            log.append(AuditEntry {
                time: String::new(),
                tool: "bigin_set_user_status",
                user_id: "1",
                email: "a@b.c",
                action: "deactivate",
                outcome,
                detail: "",
            })
            .unwrap();
        }
        let text = std::fs::read_to_string(log.path()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["outcome"], "success");
        assert!(lines[0]["time"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn an_unwritable_path_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be.
        let log = AuditLog::new(dir.path().to_path_buf());
        let e = log.append(AuditEntry {
            time: String::new(),
            tool: "t",
            user_id: "1",
            email: "",
            action: "delete",
            outcome: "refused",
            detail: "",
        });
        assert!(e.is_err());
    }
}
