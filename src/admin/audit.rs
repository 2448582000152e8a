//! The audit log: one JSON line per write attempt (refused, dry run, failed
//! or done), appended to a file the admin can keep, and [`verify`] and
//! [`read`] for `bigin-mcp audit verify` and `audit show`.
//!
//! Tamper-evident: every line starts with `prev_sha256`, the SHA-256 (hex)
//! of the previous line's bytes (without its newline); the first line of a
//! file chains from [`GENESIS`]. Editing, inserting or removing a line
//! breaks the chain at the line after it, which [`verify`] names. (Cutting
//! lines off the end leaves a shorter valid chain: keep a copy of the last
//! line's hash, e.g. in the filed review, to detect that.) Appends take a
//! [`FileLock`] beside the log around "read the last line, append", so
//! several servers and the CLI writing one log keep one chain.
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
use sha2::{Digest, Sha256};

use crate::fsx::FileLock;

/// What the first line of a log chains from: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The field each line's chain link is kept in.
pub const PREV_FIELD: &str = "prev_sha256";

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
    /// The account whose server writes, put in every line: several
    /// accounts' servers may share one log.
    account: Option<String>,
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
            account: None,
        }
    }

    /// The same log, each line naming `account` (field `account`, after
    /// `prev_sha256`), so two accounts' servers sharing it stay apart.
    pub fn with_account(mut self, account: &str) -> Self {
        self.account = Some(capped(account).into_owned());
        self
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

    /// Appends one line, with the time filled in and chained to the
    /// previous line (see the module docs).
    pub fn append(&self, mut entry: AuditEntry<'_>) -> Result<(), AuditError> {
        if entry.time.is_empty() {
            entry.time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        }
        let mut body = serde_json::to_string(&entry).expect("audit entries serialise");
        // JSON allows U+2028/U+2029 raw, but line splitters (JavaScript's,
        // Python's `splitlines`) break a line there; escaped, they cannot.
        if body.contains(['\u{2028}', '\u{2029}']) {
            body = body
                .replace('\u{2028}', "\\u2028")
                .replace('\u{2029}', "\\u2029");
        }
        let err = |source| AuditError {
            path: self.path.display().to_string(),
            source,
        };
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut f = self.open().map_err(err)?;
        // Other processes append to the same file: the last line must not
        // change between reading it and writing after it.
        let _lock =
            FileLock::beside(&self.path).map_err(|e| err(std::io::Error::other(e.to_string())))?;
        let (prev, torn) = last_line_hash(&mut f).map_err(err)?;
        let mut line = String::with_capacity(body.len() + 100);
        if torn {
            // A line cut short (a crash mid-write) stays its own line,
            // which `verify` then names, rather than swallowing this one.
            line.push('\n');
        }
        line.push_str(&format!("{{\"{PREV_FIELD}\":\"{prev}\","));
        if let Some(a) = &self.account {
            let a = serde_json::to_string(a)
                .expect("a string serialises")
                .replace('\u{2028}', "\\u2028")
                .replace('\u{2029}', "\\u2029");
            line.push_str(&format!("\"account\":{a},"));
        }
        line.push_str(&body[1..]);
        line.push('\n');
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
        // Read too: the last line is hashed into the next one.
        o.create(true).append(true).read(true);
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

/// SHA-256 (hex) of one line's bytes, without its newline.
pub fn line_hash(line: &[u8]) -> String {
    crate::admin::snapshots::hex(&Sha256::digest(line))
}

/// The hash of the file's last line ([`GENESIS`] for an empty file), and
/// whether that line lacks its newline (a torn write).
fn last_line_hash(f: &mut File) -> std::io::Result<(String, bool)> {
    use std::io::{Read, Seek, SeekFrom};
    let len = f.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok((GENESIS.to_string(), false));
    }
    // Lines are capped (every field is), so a few KB usually hold the
    // last one; read more only if not.
    let mut chunk: u64 = 8 * 1024;
    loop {
        let start = len.saturating_sub(chunk);
        f.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::with_capacity((len - start) as usize);
        Read::by_ref(f).take(len - start).read_to_end(&mut buf)?;
        let torn = buf.last() != Some(&b'\n');
        let body = if torn {
            &buf[..]
        } else {
            &buf[..buf.len() - 1]
        };
        match body.iter().rposition(|b| *b == b'\n') {
            Some(nl) => return Ok((line_hash(&body[nl + 1..]), torn)),
            None if start == 0 => return Ok((line_hash(body), torn)),
            None => chunk *= 4,
        }
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Lines read.
    pub lines: usize,
    /// Lines at the start written before the chain existed (no
    /// `prev_sha256`): they cannot be verified themselves, but the first
    /// chained line pins them.
    pub unchained_prefix: usize,
    /// The first line (1-based) that does not verify, and why.
    pub broken: Option<(usize, String)>,
    /// The hash of the last line: note it to detect lines cut off the end.
    pub head: String,
}

/// Checks the chain of the log at `path`.
pub fn verify(path: &Path) -> std::io::Result<Verified> {
    use std::io::BufRead;
    let f = open_for_reading(path)?;
    let mut r = std::io::BufReader::new(f);
    let mut out = Verified {
        lines: 0,
        unchained_prefix: 0,
        broken: None,
        head: GENESIS.to_string(),
    };
    let mut chained = false;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        out.lines += 1;
        let n = out.lines;
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let bad = |why: String| Some((n, why));
        let prev = serde_json::from_slice::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v.get(PREV_FIELD).and_then(|p| p.as_str()).map(String::from));
        match prev {
            Some(p) if p == out.head => chained = true,
            Some(p) => {
                out.broken = bad(format!(
                    "its {PREV_FIELD} is {p}, but the line before it hashes to {}: a line before it was changed, added or removed",
                    out.head
                ));
                break;
            }
            None if !chained && serde_json::from_slice::<serde_json::Value>(line).is_ok() => {
                out.unchained_prefix += 1;
            }
            None => {
                out.broken = bad(
                    if serde_json::from_slice::<serde_json::Value>(line).is_ok() {
                        format!("it has no {PREV_FIELD}, but the lines before it are chained")
                    } else {
                        "it is not a JSON object (edited, or cut short by a crash)".to_string()
                    },
                );
                break;
            }
        }
        out.head = line_hash(line);
    }
    Ok(out)
}

/// Every line of the log at `path` as JSON (a line that is not JSON is
/// kept as `{"line": N, "unreadable": "..."}` so `audit show` hides nothing).
pub fn read(path: &Path) -> std::io::Result<Vec<serde_json::Value>> {
    use std::io::BufRead;
    let f = open_for_reading(path)?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).split(b'\n').enumerate() {
        let line = line?;
        out.push(serde_json::from_slice(&line).unwrap_or_else(
            |_| serde_json::json!({"line": i + 1, "unreadable": String::from_utf8_lossy(&line)}),
        ));
    }
    Ok(out)
}

/// The largest audit log [`recent`] reads (about 200,000 lines).
pub const MAX_RECENT_BYTES: u64 = 64 * 1024 * 1024;

/// The last `n` lines of the log at `path` as JSON, oldest first (an
/// unreadable line kept as in [`read`]); empty when there is no log yet.
/// Read through [`crate::fsx::read_regular`], so a FIFO or a link in its
/// place is refused and a log over [`MAX_RECENT_BYTES`] is an error.
pub fn recent(path: &Path, n: usize) -> Result<Vec<serde_json::Value>, crate::fsx::FsxError> {
    let Some(bytes) = crate::fsx::read_regular(path, MAX_RECENT_BYTES)? else {
        return Ok(Vec::new());
    };
    let lines: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let skip = lines.len().saturating_sub(n);
    Ok(lines[skip..]
        .iter()
        .map(|l| {
            serde_json::from_slice(l)
                .unwrap_or_else(|_| serde_json::json!({"unreadable": String::from_utf8_lossy(l)}))
        })
        .collect())
}

/// Opens a log to read: a regular file only (a FIFO would block).
fn open_for_reading(path: &Path) -> std::io::Result<File> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    File::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_with_an_account_names_it_in_every_line_and_still_chains() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let a = AuditLog::new(path.clone()).with_account("org-a\u{2028}");
        let b = AuditLog::new(path.clone()).with_account("org-b");
        a.append(entry("1")).unwrap();
        b.append(entry("2")).unwrap();
        AuditLog::new(path.clone()).append(entry("3")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        let lines = read(&path).unwrap();
        assert_eq!(lines[0]["account"], "org-a\u{2028}");
        assert_eq!(lines[1]["account"], "org-b");
        assert!(lines[2].get("account").is_none());
        assert_eq!(lines[1]["user_id"], "2");
        let v = verify(&path).unwrap();
        assert_eq!(v.lines, 3);
        assert_eq!(v.broken, None, "{v:?}");
    }

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

    fn entry(user_id: &str) -> AuditEntry<'_> {
        AuditEntry {
            time: String::new(),
            tool: "bigin_set_user_status",
            user_id,
            email: "a@b.c",
            given_email: "a@b.c",
            action: "deactivate",
            outcome: Outcome::Success,
            confirmed_by: ConfirmedBy::Person,
            detail: "",
        }
    }

    #[test]
    fn each_line_chains_to_the_one_before_from_genesis() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("audit.log"));
        for id in ["1", "2", "3"] {
            log.append(entry(id)).unwrap();
        }
        let text = std::fs::read_to_string(log.path()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let prev = |l: &str| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()[PREV_FIELD]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(prev(lines[0]), GENESIS);
        assert_eq!(prev(lines[1]), line_hash(lines[0].as_bytes()));
        assert_eq!(prev(lines[2]), line_hash(lines[1].as_bytes()));
        let v = verify(log.path()).unwrap();
        assert_eq!((v.lines, v.broken.clone()), (3, None));
        assert_eq!(v.head, line_hash(lines[2].as_bytes()));
    }

    #[test]
    fn an_edited_inserted_or_removed_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::new(path.clone());
        for id in ["1", "2", "3", "4"] {
            log.append(entry(id)).unwrap();
        }
        let good = std::fs::read_to_string(&path).unwrap();
        let broken_at = |text: String| {
            std::fs::write(&path, text).unwrap();
            verify(&path).unwrap().broken.map(|(n, _)| n)
        };
        // Line 2 edited: line 3 no longer verifies.
        assert_eq!(
            broken_at(good.replacen("\"user_id\":\"2\"", "\"user_id\":\"9\"", 1)),
            Some(3)
        );
        // Line 2 removed.
        let mut l: Vec<&str> = good.lines().collect();
        l.remove(1);
        assert_eq!(broken_at(l.join("\n") + "\n"), Some(2));
        // The first line removed: line 2 does not chain from genesis.
        let l: Vec<&str> = good.lines().skip(1).collect();
        assert_eq!(broken_at(l.join("\n") + "\n"), Some(1));
        // Garbage inserted.
        assert_eq!(broken_at(format!("{good}not json\n")), Some(5));
        assert_eq!(broken_at(good), None);
    }

    #[test]
    fn lines_from_before_the_chain_are_counted_and_pinned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        std::fs::write(&path, "{\"tool\":\"old\"}\n{\"tool\":\"old2\"}\n").unwrap();
        let log = AuditLog::new(path.clone());
        log.append(entry("1")).unwrap();
        let v = verify(&path).unwrap();
        assert_eq!((v.unchained_prefix, v.broken), (2, None));
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("old2", "new2");
        std::fs::write(&path, text).unwrap();
        assert_eq!(verify(&path).unwrap().broken.map(|(n, _)| n), Some(3));
    }

    #[test]
    fn appends_from_two_writers_keep_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        // Two logs on one file: each has its own in-process mutex, as two
        // processes would; only the file lock keeps the chain whole.
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let log = AuditLog::new(path);
                    for i in 0..50 {
                        log.append(entry(&format!("{t}-{i}"))).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let v = verify(&path).unwrap();
        assert_eq!((v.lines, v.broken), (100, None));
    }
}
