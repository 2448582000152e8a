//! Review snapshots: each access review is stored as JSON (mode 0600, in
//! 0700 directories) per account and organisation, the last
//! [`KEEP`] kept, so a later review can say what changed since.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};

use super::review::{Evidence, Snapshot};

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
    /// one) taken with `evidence`, and prunes to [`KEEP`]; returns its path.
    pub fn save(
        &self,
        evidence: &Evidence,
        snap: &impl serde::Serialize,
    ) -> std::io::Result<PathBuf> {
        let dir = self.org_dir(&evidence.organization_id);
        let stamp = DateTime::parse_from_rfc3339(&evidence.generated_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now());
        let name = format!("review-{}.json", stamp.format("%Y%m%dT%H%M%S%.3fZ"));
        let path = dir.join(name);
        // Through fsx: a temp file of its own (two processes or tasks may
        // save at once), fsynced, then renamed, so every snapshot is whole.
        crate::fsx::replace_with(&path, crate::fsx::Mode::Private, |f| {
            use std::io::Write;
            // Streamed: a 50,000-user snapshot is ~12 MB of JSON that need
            // not sit in memory at once.
            let mut w = std::io::BufWriter::new(f);
            serde_json::to_writer(&mut w, snap).map_err(std::io::Error::other)?;
            w.flush()
        })
        .map_err(std::io::Error::other)?;
        let mut all = list(&dir)?;
        while all.len() > KEEP {
            let _ = std::fs::remove_file(all.remove(0));
        }
        Ok(path)
    }

    /// The snapshot `since` names for this organisation, if there is one.
    pub fn find(&self, org_id: &str, since: &Since) -> std::io::Result<Option<Snapshot>> {
        let dir = self.org_dir(org_id);
        if !dir.exists() {
            return Ok(None);
        }
        for path in list(&dir)?.into_iter().rev() {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let Ok(snap) = serde_json::from_slice::<Snapshot>(&bytes) else {
                tracing::warn!(path = %path.display(), "skipping an unreadable review snapshot");
                continue;
            };
            let at = DateTime::parse_from_rfc3339(&snap.evidence.generated_at)
                .map(|t| t.with_timezone(&Utc));
            match since {
                Since::Last => return Ok(Some(snap)),
                Since::At(limit) if at.is_ok_and(|t| t <= *limit) => return Ok(Some(snap)),
                Since::At(_) => {}
            }
        }
        Ok(None)
    }
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
            last = store.save(&s.evidence, &s).unwrap();
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
}
