//! The audit log: one JSON line per write attempt (refused, dry run, failed
//! or done), appended to a file the admin can keep.
//!
//! Writes fail closed: if the line cannot be written before a change is
//! sent, the change is refused. Lines never hold a token or secret, but they
//! do hold emails: the file is created 0600 in a 0700 directory, and every
//! field is capped at [`MAX_FIELD_CHARS`] so a caller cannot bloat the log.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Serialize, Serializer};

/// Longest field kept whole; longer ones are cut and marked.
pub const MAX_FIELD_CHARS: usize = 256;

/// `s`, or its first [`MAX_FIELD_CHARS`] characters marked as cut.
fn capped(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(MAX_FIELD_CHARS) {
        None => Cow::Borrowed(s),
        Some((at, _)) => {
            let rest = s[at..].chars().count();
            Cow::Owned(format!("{}…[cut {rest} more chars]", &s[..at]))
        }
    }
}

fn ser_capped<S: Serializer>(s: &str, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(&capped(s))
}

/// What became of one write attempt (one audit line each; a sent write
/// has two: `pending`, then `success`, `unverified` or `error`; a resend in
/// the other role/profile body form adds a second `pending`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A check failed before anything was sent.
    Refused,
    /// The person did not confirm.
    Declined,
    /// A preview: nothing was sent.
    DryRun,
    /// About to be sent.
    Pending,
    /// Sent, accepted, and read back as asked.
    Success,
    /// Sent and answered SUCCESS, but reading the user back did not show
    /// the change (or could not be done).
    Unverified,
    /// Sent, and Zoho refused or failed.
    Error,
    /// The caller cancelled the call before it was sent: nothing was.
    Cancelled,
}

/// How a write was confirmed, on every audit line (`confirmed_by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmedBy {
    /// The person accepted the confirmation dialog.
    Person,
    /// No dialog (the client cannot show one, or asking is off): the
    /// caller's confirm_email is the confirmation.
    ConfirmEmail,
    /// Not confirmed: a dry run, a refusal, a decline or a cancel.
    None,
}

/// One audit record.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry<'a> {
    /// RFC 3339 time of the attempt.
    pub time: String,
    #[serde(serialize_with = "ser_capped")]
    pub tool: &'a str,
    #[serde(serialize_with = "ser_capped")]
    pub user_id: &'a str,
    /// The user's email on record; empty when the user could not be read.
    #[serde(serialize_with = "ser_capped")]
    pub email: &'a str,
    /// What the caller gave as `confirm_email`, which may differ.
    #[serde(serialize_with = "ser_capped")]
    pub given_email: &'a str,
    /// What was asked: `deactivate`, `activate`, `delete`.
    #[serde(serialize_with = "ser_capped")]
    pub action: &'a str,
    /// `refused`, `declined`, `dry_run`, `pending`, `success`, `unverified`,
    /// `error`, `cancelled`.
    pub outcome: Outcome,
    /// `person`, `confirm_email` or `none`.
    pub confirmed_by: ConfirmedBy,
    /// Why, in one sentence.
    #[serde(serialize_with = "ser_capped")]
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
        // JSON allows U+2028/U+2029 raw, but line splitters (JavaScript's,
        // Python's `splitlines`) break a line there; escaped, they cannot.
        if line.contains(['\u{2028}', '\u{2029}']) {
            line = line
                .replace('\u{2028}', "\\u2028")
                .replace('\u{2029}', "\\u2029");
        }
        line.push('\n');
        let err = |source| AuditError {
            path: self.path.display().to_string(),
            source,
        };
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut f = self.open().map_err(err)?;
        // One write call per line keeps lines whole even with other writers.
        f.write_all(line.as_bytes()).map_err(err)?;
        Ok(())
    }

    /// Opens (creating) the file for appending, as a write would. `serve`
    /// calls it at start-up so a broken path is reported before any write.
    pub fn check(&self) -> Result<(), AuditError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.open().map(drop).map_err(|source| AuditError {
            path: self.path.display().to_string(),
            source,
        })
    }

    fn open(&self) -> std::io::Result<File> {
        if let Some(dir) = self.path.parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.create(dir)?;
        }
        let mut o = OpenOptions::new();
        o.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let f = o.open(&self.path)?;
        // A file made before this rule (or by hand) is tightened: it holds emails.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = f.metadata()?;
            if meta.permissions().mode() & 0o077 != 0 {
                f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            }
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_json_lines_and_creates_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("sub/audit.log"));
        for outcome in [Outcome::DryRun, Outcome::Success] {
            log.append(AuditEntry {
                time: String::new(),
                tool: "bigin_set_user_status",
                user_id: "1",
                email: "a@b.c",
                given_email: "a@b.c",
                action: "deactivate",
                outcome,
                confirmed_by: ConfirmedBy::None,
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
    fn line_and_paragraph_separators_cannot_split_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("audit.log"));
        let detail = "invite Ann\u{2028}Lee\u{2029}as Administrator";
        log.append(AuditEntry {
            time: String::new(),
            tool: "bigin_invite_user",
            user_id: "",
            email: "a@b.c",
            given_email: "a@b.c",
            action: "invite",
            outcome: Outcome::Refused,
            confirmed_by: ConfirmedBy::None,
            detail,
        })
        .unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        assert!(!text.contains(['\u{2028}', '\u{2029}']), "{text:?}");
        // A splitter that breaks at U+2028/9 (Python's splitlines) sees one line.
        let split: Vec<&str> = text
            .split(['\n', '\u{2028}', '\u{2029}'])
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(split.len(), 1);
        let v: serde_json::Value = serde_json::from_str(split[0]).unwrap();
        assert_eq!(v["detail"], detail, "the text itself is kept");
    }

    #[cfg(unix)]
    #[test]
    fn the_log_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("new/audit.log"));
        log.check().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(log.path()), 0o600);
        assert_eq!(mode(&dir.path().join("new")), 0o700);
        // An existing world-readable log is tightened on first use.
        let old = dir.path().join("old.log");
        std::fs::write(&old, "").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        AuditLog::new(old.clone()).check().unwrap();
        assert_eq!(mode(&old), 0o600);
    }

    #[test]
    fn every_field_is_capped_and_marked() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("audit.log"));
        let huge = "x".repeat(1_000_000);
        log.append(AuditEntry {
            time: String::new(),
            tool: "bigin_set_user_status",
            user_id: "1",
            email: "a@b.c",
            given_email: &huge,
            action: "deactivate",
            outcome: Outcome::Refused,
            confirmed_by: ConfirmedBy::None,
            detail: &huge,
        })
        .unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        assert!(text.len() < 2_000, "{} bytes", text.len());
        let line: serde_json::Value = serde_json::from_str(&text).unwrap();
        let given = line["given_email"].as_str().unwrap();
        assert!(given.starts_with(&"x".repeat(MAX_FIELD_CHARS)));
        assert!(given.ends_with("[cut 999744 more chars]"), "{given}");
        assert_eq!(line["email"], "a@b.c");
    }

    #[test]
    fn two_writers_at_once_keep_every_line_whole() {
        // Two logs on one file: two server processes, each with its own lock.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let logs = [AuditLog::new(path.clone()), AuditLog::new(path.clone())];
        let detail = "d".repeat(MAX_FIELD_CHARS);
        std::thread::scope(|s| {
            for (i, log) in logs.iter().enumerate() {
                for _ in 0..4 {
                    let detail = &detail;
                    s.spawn(move || {
                        for _ in 0..50 {
                            log.append(AuditEntry {
                                time: String::new(),
                                tool: "bigin_set_user_status",
                                user_id: if i == 0 { "1" } else { "2" },
                                email: "a@b.c",
                                given_email: "a@b.c",
                                action: "deactivate",
                                outcome: Outcome::Pending,
                                confirmed_by: ConfirmedBy::Person,
                                detail,
                            })
                            .unwrap();
                        }
                    });
                }
            }
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 400);
        for l in text.lines() {
            let v: serde_json::Value = serde_json::from_str(l).expect("a whole line");
            assert_eq!(v["confirmed_by"], "person");
        }
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
            given_email: "",
            action: "delete",
            outcome: Outcome::Refused,
            confirmed_by: ConfirmedBy::None,
            detail: "",
        });
        assert!(e.is_err());
    }
}
