//! Files that stay whole: the one way this program replaces a file on disk,
//! reads one it does not trust, and serialises writers across processes.
//!
//! Whole files that bigin-mcp writes go through [`replace`] (the secrets
//! file, the account file and client configs today; review snapshots and
//! `review -o` are meant to as well): a temp file in the same directory,
//! written, fsynced, then renamed over the target, so a reader never sees
//! half a file and a crash leaves the old one. The temp file is removed on
//! every error path (a full disk leaves nothing behind). The audit log is
//! appended to, not replaced, and is not written here.
//!
//! The target must be a regular file or absent. A device, FIFO, socket,
//! directory or symlink in its place is refused ([`FsxError::NotRegular`]):
//! renaming over `/dev/null` as root replaces the device node with a file,
//! and renaming over a symlink silently detaches whatever it pointed to.
//! Output the user names on the command line (`review -o`) is different:
//! [`write_output`] writes *into* a character device or FIFO (`/dev/null`,
//! `/dev/stdout`, a named pipe) and follows a symlink to a regular file, but
//! never renames over anything that is not a regular file.
//!
//! Claude Desktop starts several copies of the server at once, and `login`
//! may run beside them, so read-modify-write of a shared file takes a
//! [`FileLock`] (an advisory `flock`-style lock on a lock file, through
//! `fs4`) around the read, the change and the rename.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Why a file could not be written or read. Nothing was changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FsxError {
    #[error("{path} is {kind}, not a regular file; nothing was written to it")]
    NotRegular { path: String, kind: &'static str },
    #[error("{path} already exists; it is written once and never replaced")]
    Exists { path: String },
    #[error("{path} is larger than {cap} bytes; it was not read")]
    TooLarge { path: String, cap: u64 },
    #[error("cannot {op} {path}: {message}")]
    Io {
        op: &'static str,
        path: String,
        message: String,
    },
}

impl FsxError {
    fn io(op: &'static str, path: &Path, e: std::io::Error) -> FsxError {
        FsxError::Io {
            op,
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}

/// Who may read the file [`replace`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Mode 0600 in a directory made (or tightened to) 0700: our own
    /// files (secrets, account data, snapshots).
    Private,
    /// Mode 0600 (whatever the old file's), in a directory that must exist
    /// and is left as it is: output the user asked for by path (`review
    /// -o`), which may be in their home or `/tmp`.
    Owner,
    /// The existing file's permissions, or the process default (0666 less
    /// the umask) for a new file, in a directory created as usual: files
    /// that belong to other programs (client configs).
    Keep,
}

/// Replaces `path` with `bytes` atomically (see the module docs). Refuses a
/// target that exists and is not a regular file.
pub fn replace(path: &Path, bytes: &[u8], mode: Mode) -> Result<(), FsxError> {
    replace_with(path, mode, |f| f.write_all(bytes))
}

/// Shorthand for [`replace`] with [`Mode::Private`].
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), FsxError> {
    replace(path, bytes, Mode::Private)
}

/// [`replace`], with the content written by `fill` (which may fail: the
/// temp file is then removed and the target left as it was).
pub fn replace_with(
    path: &Path,
    mode: Mode,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<(), FsxError> {
    let name = path.file_name().ok_or_else(|| FsxError::NotRegular {
        path: path.display().to_string(),
        kind: "not a file name",
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match mode {
        Mode::Private => create_private_dir(dir),
        Mode::Keep => std::fs::create_dir_all(dir),
        Mode::Owner => Ok(()),
    }
    .map_err(|e| FsxError::io("create the directory", dir, e))?;
    let existing = match std::fs::symlink_metadata(path) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(FsxError::io("inspect", path, e)),
    };
    if let Some(m) = existing.as_ref().filter(|m| !m.file_type().is_file()) {
        return Err(FsxError::NotRegular {
            path: path.display().to_string(),
            kind: kind_of(&m.file_type()),
        });
    }
    let keep = match mode {
        Mode::Private | Mode::Owner => None,
        Mode::Keep => existing.as_ref().map(|m| m.permissions()),
    };
    let mut tmp = Temp::create(dir, name, mode)?;
    let written = (|| {
        fill(&mut tmp.file)?;
        if let Some(p) = keep {
            // Set on the open file: the umask may have dropped bits at create.
            tmp.file.set_permissions(p)?;
        }
        tmp.file.sync_all()
    })();
    written.map_err(|e| FsxError::io("write", path, e))?;
    std::fs::rename(&tmp.path, path).map_err(|e| FsxError::io("replace", path, e))?;
    tmp.persisted = true;
    // The rename itself is durable only once the directory is synced;
    // failing that is not worth failing a write that is already visible.
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes a new file at `path` (mode 0600 in a 0700 directory, as
/// [`Mode::Private`]) and never replaces one: evidence such as a review
/// snapshot is written once. The content goes to a temp file, is synced,
/// and is then hard-linked into place, which fails if `path` exists (a
/// rename would silently replace it). A failure leaves no temp file.
pub fn create_with(
    path: &Path,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<(), FsxError> {
    let name = path.file_name().ok_or_else(|| FsxError::NotRegular {
        path: path.display().to_string(),
        kind: "not a file name",
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    create_private_dir(dir).map_err(|e| FsxError::io("create the directory", dir, e))?;
    let mut tmp = Temp::create(dir, name, Mode::Private)?;
    (|| {
        fill(&mut tmp.file)?;
        tmp.file.sync_all()
    })()
    .map_err(|e| FsxError::io("write", path, e))?;
    std::fs::hard_link(&tmp.path, path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            FsxError::Exists {
                path: path.display().to_string(),
            }
        } else {
            FsxError::io("create", path, e)
        }
    })?;
    // Temp's drop removes the temp name; `path` keeps the content.
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// What [`write_output`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// A regular file (new or replaced) now holds the bytes.
    Replaced,
    /// The bytes were written into an existing device or FIFO.
    Into,
}

/// Writes output the user asked for at `path` (`review -o`): a regular or
/// missing file is replaced atomically with mode 0600 ([`Mode::Owner`]: the
/// directory must exist and is not touched); a character device or FIFO is
/// written into; a symlink is followed. Directories, sockets and block
/// devices are refused. Nothing but a regular file is ever renamed over.
pub fn write_output(path: &Path, bytes: &[u8]) -> Result<Delivered, FsxError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(FsxError::io("inspect", path, e)),
    };
    let Some(meta) = meta else {
        return replace(path, bytes, Mode::Owner).map(|()| Delivered::Replaced);
    };
    let ft = meta.file_type();
    if ft.is_file() {
        // Through a symlink, the file it points to is replaced, not the link.
        let target = std::fs::canonicalize(path).map_err(|e| FsxError::io("resolve", path, e))?;
        return replace(&target, bytes, Mode::Owner).map(|()| Delivered::Replaced);
    }
    if writable_in_place(&ft) {
        let mut f = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| FsxError::io("open", path, e))?;
        f.write_all(bytes)
            .and_then(|()| f.flush())
            .map_err(|e| FsxError::io("write", path, e))?;
        return Ok(Delivered::Into);
    }
    Err(FsxError::NotRegular {
        path: path.display().to_string(),
        kind: kind_of(&ft),
    })
}

/// Reads `path` if it is a regular file of at most `cap` bytes; `None` if it
/// does not exist. A symlink, FIFO or device is refused without being
/// opened for long (a FIFO would block, `/dev/zero` would never end).
pub fn read_regular(path: &Path, cap: u64) -> Result<Option<Vec<u8>>, FsxError> {
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // No symlinks; and a FIFO must not block the open.
        o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let f = match o.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            // O_NOFOLLOW on a symlink fails with ELOOP: name it plainly.
            if let Ok(m) = std::fs::symlink_metadata(path)
                && !m.file_type().is_file()
            {
                return Err(FsxError::NotRegular {
                    path: path.display().to_string(),
                    kind: kind_of(&m.file_type()),
                });
            }
            return Err(FsxError::io("read", path, e));
        }
    };
    let meta = f.metadata().map_err(|e| FsxError::io("inspect", path, e))?;
    if !meta.file_type().is_file() {
        return Err(FsxError::NotRegular {
            path: path.display().to_string(),
            kind: kind_of(&meta.file_type()),
        });
    }
    if meta.len() > cap {
        return Err(FsxError::TooLarge {
            path: path.display().to_string(),
            cap,
        });
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    // The file may grow after the check: read at most one byte past the cap.
    f.take(cap + 1)
        .read_to_end(&mut out)
        .map_err(|e| FsxError::io("read", path, e))?;
    if out.len() as u64 > cap {
        return Err(FsxError::TooLarge {
            path: path.display().to_string(),
            cap,
        });
    }
    Ok(Some(out))
}

/// An exclusive advisory lock, held until dropped. Other processes (and
/// other threads opening the same lock file) wait in [`FileLock::acquire`].
#[derive(Debug)]
pub struct FileLock {
    // Closing the file releases the lock.
    _file: File,
    path: PathBuf,
}

impl FileLock {
    /// Waits for the lock on `lock_path`, creating it (mode 0600) if needed.
    /// The lock file is never removed: deleting it while another process
    /// waits on it would let a third lock a new file at the same path.
    pub fn acquire(lock_path: &Path) -> Result<FileLock, FsxError> {
        let mut o = OpenOptions::new();
        o.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| FsxError::io("create the directory", dir, e))?;
        }
        let file = o
            .open(lock_path)
            .map_err(|e| FsxError::io("open the lock file", lock_path, e))?;
        let meta = file
            .metadata()
            .map_err(|e| FsxError::io("inspect", lock_path, e))?;
        if !meta.file_type().is_file() {
            return Err(FsxError::NotRegular {
                path: lock_path.display().to_string(),
                kind: kind_of(&meta.file_type()),
            });
        }
        // Fully qualified: std's inherent File::lock is newer than our MSRV.
        fs4::FileExt::lock(&file).map_err(|e| FsxError::io("lock", lock_path, e))?;
        Ok(FileLock {
            _file: file,
            path: lock_path.to_path_buf(),
        })
    }

    /// The lock file `NAME.lock` beside `path` (for files in our own
    /// directories, where a lock file disturbs nobody).
    pub fn beside(path: &Path) -> Result<FileLock, FsxError> {
        FileLock::acquire(&lock_path_beside(path))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `NAME.lock` in the same directory as `path`.
pub fn lock_path_beside(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

/// A directory only its owner can enter: created 0700, or tightened to 0700
/// if it exists (a 0755 config directory must not list our files either).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        let m = std::fs::metadata(dir)?;
        if m.permissions().mode() & 0o777 != 0o700 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// A temp file beside the target, removed on drop unless renamed.
struct Temp {
    file: File,
    path: PathBuf,
    persisted: bool,
}

impl Temp {
    fn create(dir: &Path, name: &std::ffi::OsStr, mode: Mode) -> Result<Temp, FsxError> {
        let mut last = None;
        // A random suffix: two processes (or threads) may write at once.
        for _ in 0..8 {
            let mut tmp_name = std::ffi::OsString::from(".");
            tmp_name.push(name);
            tmp_name.push(format!(
                ".tmp-{}-{:08x}",
                std::process::id(),
                fastrand::u32(..)
            ));
            let path = dir.join(tmp_name);
            let mut o = OpenOptions::new();
            // create_new never follows a symlink planted at the temp name.
            o.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(match mode {
                    Mode::Private | Mode::Owner => 0o600,
                    Mode::Keep => 0o666,
                });
            }
            #[cfg(not(unix))]
            let _ = mode;
            match o.open(&path) {
                Ok(file) => {
                    return Ok(Temp {
                        file,
                        path,
                        persisted: false,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(FsxError::io("create a temp file in", dir, e)),
            }
        }
        Err(FsxError::io(
            "create a temp file in",
            dir,
            last.unwrap_or_else(|| std::io::Error::other("no free name")),
        ))
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn writable_in_place(ft: &std::fs::FileType) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        ft.is_char_device() || ft.is_fifo()
    }
    #[cfg(not(unix))]
    {
        let _ = ft;
        false
    }
}

fn kind_of(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn private_files_are_0600_in_a_0700_directory_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cfg/secret.json");
        write_private(&p, b"one").unwrap();
        write_private(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        #[cfg(unix)]
        {
            assert_eq!(mode(&p), 0o600);
            assert_eq!(mode(&dir.path().join("cfg")), 0o700);
        }
        assert_eq!(entries(&dir.path().join("cfg")), vec!["secret.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn keep_mode_keeps_the_old_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.json");
        std::fs::write(&p, "{}").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        replace(&p, b"{\"a\":1}", Mode::Keep).unwrap();
        assert_eq!(mode(&p), 0o640);
        assert_eq!(std::fs::read(&p).unwrap(), b"{\"a\":1}");
    }

    #[test]
    fn create_with_writes_once_and_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("snaps/one.json");
        create_with(&p, |f| f.write_all(b"first")).unwrap();
        let e = create_with(&p, |f| f.write_all(b"second")).unwrap_err();
        assert!(matches!(e, FsxError::Exists { .. }), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"first");
        // A writer that fails halfway (a full disk) leaves nothing behind.
        let q = dir.path().join("snaps/two.json");
        create_with(&q, |f| {
            f.write_all(b"half")?;
            Err(std::io::Error::other("No space left on device"))
        })
        .unwrap_err();
        assert_eq!(entries(&dir.path().join("snaps")), vec!["one.json"]);
        #[cfg(unix)]
        assert_eq!(mode(&p), 0o600);
    }

    #[test]
    fn a_failed_write_leaves_no_temp_file_and_the_old_content() {
        // What a full disk does halfway through: the writer fails.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, "old").unwrap();
        let e = replace_with(&p, Mode::Private, |f| {
            f.write_all(b"half")?;
            Err(std::io::Error::from_raw_os_error(28)) // ENOSPC
        })
        .unwrap_err();
        assert!(e.to_string().contains("cannot write"), "{e}");
        assert_eq!(entries(dir.path()), vec!["f"], "no temp file left");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_fifos_and_directories_are_never_renamed_over() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let e = write_private(&link, b"x").unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");

        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = write_private(&fifo, b"x").unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        assert!(matches!(
            replace(&sub, b"x", Mode::Keep),
            Err(FsxError::NotRegular { .. })
        ));
        assert_eq!(entries(dir.path()), vec!["fifo", "link", "sub", "victim"]);
    }

    #[cfg(unix)]
    #[test]
    fn output_goes_into_devices_and_through_symlinks_never_over_them() {
        use std::os::unix::fs::FileTypeExt;
        let null = Path::new("/dev/null");
        assert_eq!(write_output(null, b"review").unwrap(), Delivered::Into);
        assert!(
            std::fs::metadata(null)
                .unwrap()
                .file_type()
                .is_char_device()
        );
        // A full device says so; nothing is renamed over it.
        let full = Path::new("/dev/full");
        if full.exists() {
            let e = write_output(full, b"review").unwrap_err();
            assert!(e.to_string().contains("cannot write /dev/full"), "{e}");
            assert!(
                std::fs::metadata(full)
                    .unwrap()
                    .file_type()
                    .is_char_device()
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.md");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("out.md");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(write_output(&link, b"new").unwrap(), Delivered::Replaced);
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        let fresh = dir.path().join("fresh.md");
        // The user's directory (their home, /tmp) keeps its mode.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(write_output(&fresh, b"x").unwrap(), Delivered::Replaced);
        assert_eq!(mode(&fresh), 0o600);
        assert_eq!(mode(dir.path()), 0o755);
        assert_eq!(mode(&real), 0o600, "a looser old mode is not kept");
        assert!(write_output(&dir.path().join("no/such/dir.md"), b"x").is_err());
        assert!(matches!(
            write_output(dir.path(), b"x"),
            Err(FsxError::NotRegular { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn read_regular_refuses_fifos_symlinks_and_big_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.json");
        assert_eq!(read_regular(&f, 10).unwrap(), None);
        std::fs::write(&f, "12345").unwrap();
        assert_eq!(read_regular(&f, 10).unwrap().unwrap(), b"12345");
        assert!(matches!(
            read_regular(&f, 4),
            Err(FsxError::TooLarge { cap: 4, .. })
        ));
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Would block forever without O_NONBLOCK; refused instead.
        assert!(matches!(
            read_regular(&fifo, 10),
            Err(FsxError::NotRegular { .. })
        ));
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let e = read_regular(&zero, 10).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
    }

    #[test]
    fn the_lock_serialises_read_modify_write_across_threads() {
        // Each thread opens its own lock file handle, as separate processes
        // do; flock-style locks conflict between open file descriptions.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("counter");
        write_private(&p, b"0").unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let p = p.clone();
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        let _l = FileLock::beside(&p).unwrap();
                        let n: u32 = std::fs::read_to_string(&p).unwrap().parse().unwrap();
                        write_private(&p, (n + 1).to_string().as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "80");
        assert!(lock_path_beside(&p).exists());
    }
}
