//! Review snapshots: each access review is stored as JSON (mode 0600, in
//! 0700 directories) per account and organisation, the last
//! [`KEEP`] kept, so a later review can say what changed since. Each is
//! written once and never rewritten; its SHA-256 goes in the review's
//! evidence header so a filed report can be checked against it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};

use sha2::{Digest, Sha256};

use super::review::{Evidence, Snapshot};
use crate::fsx::{self, FsxError};

/// Snapshots kept per organisation; older ones are removed.
pub const KEEP: usize = 20;

/// Which earlier review to compare with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    /// The most recent one.
    Last,
    /// The most recent one taken at or before this instant.
    At(DateTime<Utc>),
}

impl std::str::FromStr for Since {
    type Err = String;
    fn from_str(s: &str) -> Result<Since, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("last") {
            return Ok(Since::Last);
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(Since::At(t.with_timezone(&Utc)));
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            // A day means "as of the end of that day" (UTC).
            let end = d.and_hms_milli_opt(23, 59, 59, 999).expect("a valid time");
            return Ok(Since::At(end.and_utc()));
        }
        Err(format!(
            "since must be \"last\", a date (2026-09-30) or an RFC 3339 time; got '{s}'"
        ))
    }
}

/// The snapshots of one account.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    dir: PathBuf,
}

impl SnapshotStore {
    /// Snapshots under `dir` (one sub-directory per organisation).
    pub fn new(dir: PathBuf) -> SnapshotStore {
        SnapshotStore { dir }
    }

    /// `reviews/<account>` in the platform data directory.
    pub fn default_for(account: &str) -> Option<SnapshotStore> {
        directories::ProjectDirs::from("", "", "bigin-mcp")
            .map(|d| SnapshotStore::new(d.data_dir().join("reviews").join(account)))
    }

    fn org_dir(&self, org_id: &str) -> PathBuf {
        // Zoho ids are digits; anything else is kept out of the path.
        let safe: String = org_id.chars().filter(char::is_ascii_alphanumeric).collect();
        self.dir.join(if safe.is_empty() {
            "unknown".into()
        } else {
            safe
        })
    }

    /// Stores a snapshot (a [`Snapshot`] or a view that serialises like
    /// one) taken with `evidence`, and prunes to [`KEEP`]; returns its path
    /// and the SHA-256 of the file, hex.
    ///
    /// Through [`fsx::create_with`]: written once (an existing snapshot of
    /// the same instant is never replaced), whole or not at all (a full disk
    /// leaves no partial or temp file).
    pub fn save(
        &self,
        evidence: &Evidence,
        snap: &impl serde::Serialize,
    ) -> Result<(PathBuf, String), FsxError> {
        let saved = self.save_unpruned(evidence, snap)?;
        self.prune(&evidence.organization_id);
        Ok(saved)
    }

    /// [`SnapshotStore::save`] without pruning: for a review whose delivery
    /// is still to come (`review -o`), so an undelivered one, once
    /// [discarded](SnapshotStore::discard), has cost no older snapshot.
    /// Call [`SnapshotStore::prune`] once it is delivered.
    pub fn save_unpruned(
        &self,
        evidence: &Evidence,
        snap: &impl serde::Serialize,
    ) -> Result<(PathBuf, String), FsxError> {
        let dir = self.org_dir(&evidence.organization_id);
        let stamp = DateTime::parse_from_rfc3339(&evidence.generated_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now());
        let name = format!("review-{}.json", stamp.format("%Y%m%dT%H%M%S%.3fZ"));
        let path = dir.join(name);
        let mut digest = None;
        fsx::create_with(&path, |f| {
            use std::io::Write;
            // Streamed: a 50,000-user snapshot is ~12 MB of JSON that need
            // not sit in memory at once; hashed on the way out.
            let mut w = HashingWriter {
                inner: std::io::BufWriter::new(f),
                hash: Sha256::new(),
            };
            serde_json::to_writer(&mut w, snap).map_err(std::io::Error::other)?;
            w.inner.flush()?;
            digest = Some(hex(&w.hash.finalize()));
            Ok(())
        })?;
        Ok((path, digest.unwrap_or_default()))
    }

    /// Removes all but the newest [`KEEP`] snapshots of an organisation.
    pub fn prune(&self, org_id: &str) {
        if let Ok(mut all) = list(&self.org_dir(org_id)) {
            while all.len() > KEEP {
                let _ = std::fs::remove_file(all.remove(0));
            }
        }
    }

    /// Removes a snapshot this run stored but whose review was never
    /// delivered (its `-o` could not be written), so it cannot become the
    /// next `since: "last"`. Only a file in this store's folder is removed.
    pub fn discard(&self, path: &Path) -> std::io::Result<()> {
        if !path.starts_with(&self.dir) {
            return Err(std::io::Error::other("not a snapshot of this store"));
        }
        std::fs::remove_file(path)
    }

    /// The snapshot `since` names for this organisation, if there is one.
    ///
    /// Only regular files of at most [`MAX_SNAPSHOT_BYTES`] are read (a
    /// FIFO or a link to `/dev/zero` in the folder neither hangs nor fills
    /// memory), and a snapshot of another organisation, or one dated after
    /// now, is never a baseline: either would hide real changes.
    pub fn find(&self, org_id: &str, since: &Since) -> std::io::Result<Option<Snapshot>> {
        Ok(self.find_with_path(org_id, since)?.map(|(_, s)| s))
    }

    /// [`SnapshotStore::find`], with the snapshot file's path.
    pub fn find_with_path(
        &self,
        org_id: &str,
        since: &Since,
    ) -> std::io::Result<Option<(PathBuf, Snapshot)>> {
        let dir = self.org_dir(org_id);
        if !dir.exists() {
            return Ok(None);
        }
        let now = Utc::now();
        for path in list(&dir)?.into_iter().rev() {
            let bytes = match fsx::read_regular(&path, MAX_SNAPSHOT_BYTES) {
                Ok(Some(b)) => b,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "skipping a review snapshot");
                    continue;
                }
            };
            let Ok(snap) = serde_json::from_slice::<Snapshot>(&bytes) else {
                tracing::warn!(path = %path.display(), "skipping an unreadable review snapshot");
                continue;
            };
            if snap.evidence.organization_id != org_id {
                tracing::warn!(path = %path.display(), "skipping a snapshot of another organisation");
                continue;
            }
            let Ok(at) = DateTime::parse_from_rfc3339(&snap.evidence.generated_at)
                .map(|t| t.with_timezone(&Utc))
            else {
                tracing::warn!(path = %path.display(), "skipping a snapshot without a valid date");
                continue;
            };
            if at > now {
                tracing::warn!(path = %path.display(), "skipping a snapshot dated in the future");
                continue;
            }
            match since {
                Since::Last => return Ok(Some((path, snap))),
                Since::At(limit) if at <= *limit => return Ok(Some((path, snap))),
                Since::At(_) => {}
            }
        }
        Ok(None)
    }
}

impl SnapshotStore {
    /// The names of this organisation's stored snapshots
    /// (`review-20261203T101500.000Z`, without `.json`), newest first: what
    /// the `bigin://reviews/{snapshot}` resource and its completions offer.
    pub fn names(&self, org_id: &str) -> Vec<String> {
        list(&self.org_dir(org_id))
            .unwrap_or_default()
            .into_iter()
            .rev()
            .filter_map(|p| {
                p.file_stem()
                    .and_then(|n| n.to_str())
                    .map(ToString::to_string)
            })
            .collect()
    }

    /// The path of the stored snapshot `name` (with or without `.json`) of
    /// this organisation; `None` for a name that is not a snapshot's, so a
    /// caller's `../` or `/` never leaves the organisation's folder.
    pub fn path_of(&self, org_id: &str, name: &str) -> Option<PathBuf> {
        let stem = name.strip_suffix(".json").unwrap_or(name);
        let ok = stem.starts_with("review-")
            && stem
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            && !stem.contains("..");
        ok.then(|| self.org_dir(org_id).join(format!("{stem}.json")))
    }

    /// The bytes of the stored snapshot `name` (`latest`: the newest),
    /// with its path: a regular file of at most [`MAX_SNAPSHOT_BYTES`] only
    /// (see [`fsx::read_regular`]); `None` when there is no such snapshot.
    pub fn read_named(
        &self,
        org_id: &str,
        name: &str,
    ) -> Result<Option<(PathBuf, Vec<u8>)>, FsxError> {
        let newest;
        let name = match name {
            "latest" => match self.names(org_id).into_iter().next() {
                Some(n) => {
                    newest = n;
                    &newest
                }
                None => return Ok(None),
            },
            _ => name,
        };
        let Some(path) = self.path_of(org_id, name) else {
            return Ok(None);
        };
        Ok(fsx::read_regular(&path, MAX_SNAPSHOT_BYTES)?.map(|b| (path, b)))
    }
}

/// The largest snapshot read back (a 50,000-user one is ~12 MB).
pub const MAX_SNAPSHOT_BYTES: u64 = 128 * 1024 * 1024;

/// Feeds what is written to a hash as well.
struct HashingWriter<W> {
    inner: W,
    hash: Sha256,
}

impl<W: std::io::Write> std::io::Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The SHA-256 of a file's bytes, hex (what `snapshot_sha256` holds).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Snapshot files of one organisation, oldest first (names sort by time).
fn list(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("review-") && n.ends_with(".json"))
        })
        .collect();
    v.sort();
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(at: &str) -> Snapshot {
        Snapshot {
            version: 1,
            evidence: Evidence {
                generated_at: at.into(),
                organization_id: "42".into(),
                organization_name: "Acme".into(),
                data_centre: "eu".into(),
                credits_used: 1,
                from_cache: false,
                unjudged_profiles: vec![],
                snapshot_sha256: None,
            },
            users: vec![],
        }
    }

    #[test]
    fn keeps_the_last_twenty_privately_and_finds_by_date() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path().join("acct"));
        let mut last = PathBuf::new();
        for day in 1..=25 {
            let s = snap(&format!("2026-10-{day:02}T12:00:00.000Z"));
            last = store.save(&s.evidence, &s).unwrap().0;
        }
        assert_eq!(list(&dir.path().join("acct/42")).unwrap().len(), KEEP);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&last), 0o600);
            assert_eq!(mode(&dir.path().join("acct/42")), 0o700);
        }
        let found = |s: &str| {
            store
                .find("42", &s.parse().unwrap())
                .unwrap()
                .map(|s| s.evidence.generated_at)
        };
        assert_eq!(found("last").as_deref(), Some("2026-10-25T12:00:00.000Z"));
        assert_eq!(
            found("2026-10-10").as_deref(),
            Some("2026-10-10T12:00:00.000Z")
        );
        assert_eq!(found("2026-10-01"), None, "pruned");
        assert!(store.find("7", &Since::Last).unwrap().is_none());
        assert!("yesterday".parse::<Since>().is_err());
    }

    #[test]
    fn snapshots_saved_at_once_are_each_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path().join("acct"));
        std::thread::scope(|s| {
            for i in 0..8 {
                let store = &store;
                s.spawn(move || {
                    let mut snap = snap(&format!("2026-10-01T12:00:0{i}.000Z"));
                    snap.evidence.organization_name = "Acme ".repeat(20_000 * (i + 1));
                    store.save(&snap.evidence, &snap).unwrap();
                });
            }
        });
        let files = list(&dir.path().join("acct/42")).unwrap();
        assert_eq!(files.len(), 8);
        for f in files {
            let back: Snapshot = serde_json::from_slice(&std::fs::read(&f).unwrap())
                .unwrap_or_else(|e| panic!("{} is not whole: {e}", f.display()));
            assert!(back.evidence.organization_name.starts_with("Acme"));
        }
    }

    /// Writes a file into the store's folder for org 42 as if by hand.
    fn plant(store_dir: &Path, name: &str, body: &str) -> PathBuf {
        let dir = store_dir.join("42");
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p
    }

    #[test]
    fn another_orgs_or_a_future_snapshot_is_never_the_baseline() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path().to_path_buf());
        let good = snap("2026-01-01T00:00:00.000Z");
        store.save(&good.evidence, &good).unwrap();
        // Named to sort after it, but of organisation 7.
        let mut other = snap("2026-02-01T00:00:00.000Z");
        other.evidence.organization_id = "7".into();
        plant(
            dir.path(),
            "review-20260201T000000.000Z.json",
            &serde_json::to_string(&other).unwrap(),
        );
        // Dated in the future.
        let future = snap("2999-01-01T00:00:00.000Z");
        plant(
            dir.path(),
            "review-29990101T000000.000Z.json",
            &serde_json::to_string(&future).unwrap(),
        );
        let found = store.find("42", &Since::Last).unwrap().expect("a baseline");
        assert_eq!(found.evidence.generated_at, "2026-01-01T00:00:00.000Z");
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_links_to_endless_devices_are_skipped_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path().to_path_buf());
        let good = snap("2026-01-01T00:00:00.000Z");
        store.save(&good.evidence, &good).unwrap();
        let org = dir.path().join("42");
        std::os::unix::fs::symlink("/dev/zero", org.join("review-20260301T000000.000Z.json"))
            .unwrap();
        let fifo = org.join("review-20260302T000000.000Z.json");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a node.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Before: reading the FIFO blocked forever and /dev/zero never ended.
        let found = store.find("42", &Since::Last).unwrap().expect("a baseline");
        assert_eq!(found.evidence.generated_at, "2026-01-01T00:00:00.000Z");
    }

    #[test]
    fn a_snapshot_is_written_once_and_a_failed_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path().to_path_buf());
        let s = snap("2026-01-01T00:00:00.000Z");
        let (p, sha) = store.save(&s.evidence, &s).unwrap();
        assert_eq!(sha, sha256_hex(&std::fs::read(&p).unwrap()));
        let before = std::fs::read(&p).unwrap();
        let mut again = s.clone();
        again.users.push(crate::admin::review::SnapshotUser {
            id: "1".into(),
            name: "x".into(),
            email: "x@y.z".into(),
            status: "active".into(),
            confirmed: true,
            role: None,
            profile: None,
            admin_level: true,
        });
        let e = store.save(&again.evidence, &again).unwrap_err();
        assert!(e.to_string().contains("never replaced"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), before, "not rewritten");

        // A writer failing halfway, as a full disk does.
        struct Fails;
        impl serde::Serialize for Fails {
            fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
                use serde::ser::{Error, SerializeSeq};
                let mut seq = ser.serialize_seq(None)?;
                seq.serialize_element(&"x".repeat(100_000))?;
                Err(S::Error::custom("No space left on device"))
            }
        }
        let later = snap("2026-01-02T00:00:00.000Z");
        store.save(&later.evidence, &Fails).unwrap_err();
        let names: Vec<String> = std::fs::read_dir(dir.path().join("42"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            vec![p.file_name().unwrap().to_string_lossy().into_owned()]
        );
    }

    #[test]
    fn an_undelivered_snapshot_discarded_costs_no_older_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::new(dir.path().to_path_buf());
        for day in 1..=KEEP {
            let s = snap(&format!("2026-10-{day:02}T12:00:00.000Z"));
            store.save(&s.evidence, &s).unwrap();
        }
        let before = list(&dir.path().join("42")).unwrap();
        let s = snap("2026-11-01T12:00:00.000Z");
        let (p, _) = store.save_unpruned(&s.evidence, &s).unwrap();
        store.discard(&p).unwrap();
        assert_eq!(list(&dir.path().join("42")).unwrap(), before);
        // Delivered: pruned back to KEEP, the oldest going.
        let (p, _) = store.save_unpruned(&s.evidence, &s).unwrap();
        store.prune("42");
        let after = list(&dir.path().join("42")).unwrap();
        assert_eq!(after.len(), KEEP);
        assert_eq!(after.last(), Some(&p));
        assert!(!after.contains(&before[0]));
        assert!(
            store.discard(Path::new("/etc/passwd")).is_err(),
            "only its own files"
        );
    }
}
