//! Writing a planned change: a new timestamped backup (never through a
//! symlink, the newest few kept), then the file replaced through
//! [`crate::fsx`] with its permissions kept.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Change, ClientConfigError, KEEP_BACKUPS, io, resolve};
use crate::fsx;

/// Writes a change: the old text to a new timestamped backup beside the
/// file (only the newest [`KEEP_BACKUPS`] are kept), then the new text
/// through [`fsx::replace`] with the old file's permissions. A symlinked
/// config is written at its target. Call it under the lock ([`install`]
/// and [`uninstall`] do). Returns the backup's path, if one was made.
pub fn apply(change: &Change) -> Result<Option<PathBuf>, ClientConfigError> {
    if !change.outcome.writes() {
        return Ok(None);
    }
    let target = resolve(&change.path);
    let backup = match &change.before {
        Some(before) => Some(backup(&target, before)?),
        None => None,
    };
    fsx::replace(&target, change.after.as_bytes(), fsx::Mode::Keep).map_err(|e| {
        ClientConfigError::Io {
            op: "write",
            path: target.display().to_string(),
            message: e.to_string(),
        }
    })?;
    Ok(backup)
}

/// `FILE.bak-<UTC time>`, created new with mode 0600 (the entries' `env`
/// may hold secrets): `create_new` never follows a symlink or overwrites
/// anything. Older backups beyond [`KEEP_BACKUPS`] are removed, regular
/// files only.
fn backup(target: &Path, text: &str) -> Result<PathBuf, ClientConfigError> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let prefix = format!("{name}.bak-");
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let mut made = None;
    for n in 0..100 {
        let candidate = if n == 0 {
            dir.join(format!("{prefix}{stamp}"))
        } else {
            dir.join(format!("{prefix}{stamp}-{n:02}"))
        };
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        match o.open(&candidate) {
            Ok(mut f) => {
                let written = f.write_all(text.as_bytes()).and_then(|()| f.sync_all());
                if let Err(e) = written {
                    let _ = std::fs::remove_file(&candidate);
                    return Err(io("back up", target, e));
                }
                made = Some(candidate);
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io("back up", target, e)),
        }
    }
    let made = made.ok_or_else(|| {
        io(
            "back up",
            target,
            std::io::Error::other("no free backup name"),
        )
    })?;
    // Pruning is housekeeping: a failure here leaves an extra backup, not a
    // failed install.
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut old: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .map(|e| e.path())
            .collect();
        old.sort();
        let excess = old.len().saturating_sub(KEEP_BACKUPS);
        for p in old.into_iter().take(excess) {
            let _ = std::fs::remove_file(p);
        }
    }
    Ok(made)
}
