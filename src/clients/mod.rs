//! MCP client config files: where Claude Desktop, Claude Code, Cursor and
//! VS Code keep their server lists, and the change `install` / `uninstall`
//! make to one entry.
//!
//! These files belong to the clients (`~/.claude.json` holds all of Claude
//! Code's state), so a change touches nothing but our entry: the file is
//! edited as a concrete syntax tree (`jsonc-parser`), so every other byte,
//! comments and trailing commas included, stays as it was. Re-installing
//! over an entry of the same name replaces only `command`, `args` and
//! `type` and keeps every other key (`env`, `disabled`, `alwaysAllow`, ...).
//! VS Code and Cursor read JSON with comments, so their files may have
//! them; Claude's files must be plain JSON.
//!
//! Writing takes a lock (concurrent installs and uninstalls on one file all
//! land), re-reads the file under it, keeps a few timestamped backups
//! (`FILE.bak-<time>`, created new: never written through a symlink), and
//! replaces the file through [`crate::fsx`], keeping its permissions.
//! Nothing here prints; the command layer says what happened.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::fsx::{self, FileLock};

mod jsonc;
mod write;

pub use jsonc::show_entry;
use jsonc::{edit, parse_value};
pub use write::apply;

/// How many `FILE.bak-<time>` backups are kept per config file.
pub const KEEP_BACKUPS: usize = 3;

/// The largest config file read (`~/.claude.json` grows with history).
const MAX_CONFIG_BYTES: u64 = 64 << 20;

/// A supported MCP client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    ClaudeDesktop,
    ClaudeCode,
    Cursor,
    VsCode,
}

/// The user's own config, or the project's in the current directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    User,
    Project,
}

/// Why a config file could not be changed. Nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientConfigError {
    #[error(
        "{path} is not valid {syntax} (line {line}, column {column}: {message}); nothing was changed. Fix the file or move it away, then run this again"
    )]
    InvalidJson {
        path: String,
        /// "JSON", or "JSON with comments" for the clients that allow them.
        syntax: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {what}; nothing was changed")]
    Shape { path: String, what: String },
    #[error("{0}")]
    Unsupported(String),
    #[error("no home directory: set HOME (or APPDATA on Windows)")]
    NoHome,
    #[error("cannot {op} {path}: {message}")]
    Io {
        op: &'static str,
        path: String,
        message: String,
    },
}

impl Client {
    pub fn label(self) -> &'static str {
        match self {
            Client::ClaudeDesktop => "Claude Desktop",
            Client::ClaudeCode => "Claude Code",
            Client::Cursor => "Cursor",
            Client::VsCode => "VS Code",
        }
    }

    /// The key that holds the servers: VS Code says `servers`, the others
    /// `mcpServers`.
    pub fn servers_key(self) -> &'static str {
        match self {
            Client::VsCode => "servers",
            _ => "mcpServers",
        }
    }

    /// Whether the client reads its `mcp.json` as JSON with comments and
    /// trailing commas (VS Code and Cursor do; Claude's files are JSON).
    pub fn allows_comments(self) -> bool {
        matches!(self, Client::Cursor | Client::VsCode)
    }

    /// What the person does after `install` for the client to see the
    /// change.
    pub fn restart_step(self, scope: Option<Scope>) -> &'static str {
        match (self, scope) {
            (Client::ClaudeDesktop, _) => {
                "Quit Claude Desktop completely (Cmd+Q on macOS; on Windows and Linux, Quit from the File menu or the tray icon: closing the window leaves it running) and open it again."
            }
            (Client::ClaudeCode, Some(Scope::Project)) => {
                "Start `claude` in this folder (or run /mcp in a running session): it asks once to approve the project's server."
            }
            (Client::ClaudeCode, _) => {
                "Start a new `claude` session (running sessions keep their servers; /mcp lists them)."
            }
            (Client::Cursor, _) => {
                "Open Cursor Settings > MCP (Tools & Integrations) and switch the server on, or restart Cursor."
            }
            (Client::VsCode, _) => {
                "In VS Code run \"MCP: List Servers\" from the Command Palette, pick the server and Start it (or use the Start link above it in .vscode/mcp.json)."
            }
        }
    }

    /// The config file for `scope` (`None`: the client's usual one). `home`
    /// and `config` are the user's home and platform config directories;
    /// `cwd` is the project.
    pub fn config_path(
        self,
        scope: Option<Scope>,
        dirs: &Dirs,
    ) -> Result<PathBuf, ClientConfigError> {
        let unsupported = |what: &str| Err(ClientConfigError::Unsupported(what.into()));
        match (self, scope) {
            (Client::ClaudeDesktop, None | Some(Scope::User)) => Ok(dirs
                .config
                .join("Claude")
                .join("claude_desktop_config.json")),
            (Client::ClaudeDesktop, Some(Scope::Project)) => {
                unsupported("Claude Desktop has no project scope; omit --scope")
            }
            (Client::ClaudeCode, None | Some(Scope::User)) => Ok(dirs.home.join(".claude.json")),
            (Client::ClaudeCode, Some(Scope::Project)) => Ok(dirs.cwd.join(".mcp.json")),
            (Client::Cursor, None | Some(Scope::User)) => {
                Ok(dirs.home.join(".cursor").join("mcp.json"))
            }
            (Client::Cursor, Some(Scope::Project)) => Ok(dirs.cwd.join(".cursor").join("mcp.json")),
            (Client::VsCode, None | Some(Scope::Project)) => {
                Ok(dirs.cwd.join(".vscode").join("mcp.json"))
            }
            (Client::VsCode, Some(Scope::User)) => unsupported(
                "VS Code keeps user-level MCP servers in its profile (command \"MCP: Open User Configuration\"); run this in a workspace folder without --scope to write .vscode/mcp.json",
            ),
        }
    }

    /// The entry that starts `command args...` over stdio.
    pub fn entry(self, command: &str, args: &[String]) -> Value {
        let mut e = serde_json::Map::new();
        // Claude Code and VS Code name the transport; the others assume stdio.
        if matches!(self, Client::ClaudeCode | Client::VsCode) {
            e.insert("type".into(), "stdio".into());
        }
        e.insert("command".into(), command.into());
        e.insert("args".into(), args.into());
        Value::Object(e)
    }
}

/// Where the user's files are.
#[derive(Debug, Clone)]
pub struct Dirs {
    pub home: PathBuf,
    /// The platform config directory: `~/.config` (or `$XDG_CONFIG_HOME`),
    /// `~/Library/Application Support`, `%APPDATA%`.
    pub config: PathBuf,
    pub cwd: PathBuf,
    /// Where the locks around config changes live (bigin-mcp's own config
    /// directory), so no lock file lands beside the clients' files.
    pub locks: PathBuf,
}

impl Dirs {
    /// From the environment (`HOME`, `XDG_CONFIG_HOME`, `APPDATA`), so tests
    /// can point them at a temp dir.
    pub fn from_env() -> Result<Dirs, ClientConfigError> {
        let base = directories::BaseDirs::new().ok_or(ClientConfigError::NoHome)?;
        let cwd = std::env::current_dir().map_err(|e| ClientConfigError::Io {
            op: "find",
            path: "the current directory".into(),
            message: e.to_string(),
        })?;
        let locks = directories::ProjectDirs::from("", "", "bigin-mcp")
            .map(|d| d.config_dir().join("locks"))
            .unwrap_or_else(|| base.config_dir().join("bigin-mcp").join("locks"));
        Ok(Dirs {
            home: base.home_dir().to_path_buf(),
            config: base.config_dir().to_path_buf(),
            cwd,
            locks,
        })
    }
}

/// What a change does to the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Added,
    Replaced,
    /// The entry is already exactly this: nothing to write.
    Unchanged,
    Removed,
    /// Nothing to remove: nothing to write.
    Absent,
}

impl Outcome {
    pub fn writes(self) -> bool {
        matches!(self, Outcome::Added | Outcome::Replaced | Outcome::Removed)
    }
}

/// A computed change to one config file, not yet written.
#[derive(Debug)]
pub struct Change {
    pub path: PathBuf,
    pub outcome: Outcome,
    /// The entry before the change, if there was one.
    pub old_entry: Option<Value>,
    /// The entry after the change (install only): ours merged into the old
    /// one, whose other keys are kept.
    pub new_entry: Option<Value>,
    /// The file's text before (`None`: no file).
    pub before: Option<String>,
    /// The file's text after.
    pub after: String,
}

/// Computes adding `name`, or updating its `command`, `args` and `type`.
pub fn plan_install(
    path: &Path,
    client: Client,
    name: &str,
    entry: &Value,
) -> Result<Change, ClientConfigError> {
    plan(path, client, name, Some(entry))
}

/// Computes removing `name`.
pub fn plan_uninstall(
    path: &Path,
    client: Client,
    name: &str,
) -> Result<Change, ClientConfigError> {
    plan(path, client, name, None)
}

/// Installs `entry` as `name`: under the lock, re-reads the file, plans
/// and writes. Returns the change and the backup made, if any.
pub fn install(
    path: &Path,
    client: Client,
    name: &str,
    entry: &Value,
    locks: &Path,
) -> Result<(Change, Option<PathBuf>), ClientConfigError> {
    let _lock = lock(path, locks)?;
    let change = plan_install(path, client, name, entry)?;
    let backup = apply(&change)?;
    Ok((change, backup))
}

/// Removes `name`, as [`install`] adds it.
pub fn uninstall(
    path: &Path,
    client: Client,
    name: &str,
    locks: &Path,
) -> Result<(Change, Option<PathBuf>), ClientConfigError> {
    let _lock = lock(path, locks)?;
    let change = plan_uninstall(path, client, name)?;
    let backup = apply(&change)?;
    Ok((change, backup))
}

/// The lock for one config file: a file in `locks` named after a hash of
/// the config's absolute path (every process computes the same one).
fn lock(path: &Path, locks: &Path) -> Result<FileLock, ClientConfigError> {
    use sha2::Digest;
    let target = resolve(path);
    let digest = sha2::Sha256::digest(target.to_string_lossy().as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    fsx::create_private_dir(locks).map_err(|e| io("create", locks, e))?;
    FileLock::acquire(&locks.join(format!("client-config-{hex}.lock"))).map_err(|e| {
        ClientConfigError::Io {
            op: "lock",
            path: path.display().to_string(),
            message: e.to_string(),
        }
    })
}

/// The file a change is written to: a symlinked config (dotfile managers)
/// is changed at its target; a missing one under its absolute path.
fn resolve(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    match (path.parent().map(std::fs::canonicalize), path.file_name()) {
        (Some(Ok(dir)), Some(name)) => dir.join(name),
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    }
}

/// Ours over the old entry: `command`, `args` (and `type`) replaced, every
/// other key of the user's kept in its place.
fn merge(old: Option<&Value>, ours: &Value) -> Value {
    match (old, ours) {
        (Some(Value::Object(old)), Value::Object(ours)) => {
            let mut m = old.clone();
            for (k, v) in ours {
                m.insert(k.clone(), v.clone());
            }
            Value::Object(m)
        }
        _ => ours.clone(),
    }
}

fn plan(
    path: &Path,
    client: Client,
    name: &str,
    entry: Option<&Value>,
) -> Result<Change, ClientConfigError> {
    let shown = path.display().to_string();
    let servers_key = client.servers_key();
    let before = match fsx::read_regular(&resolve(path), MAX_CONFIG_BYTES) {
        Ok(Some(bytes)) => {
            Some(
                String::from_utf8(bytes).map_err(|_| ClientConfigError::Shape {
                    path: shown.clone(),
                    what: "the file is not UTF-8 text".into(),
                })?,
            )
        }
        Ok(None) => None,
        Err(e) => {
            return Err(ClientConfigError::Io {
                op: "read",
                path: shown,
                message: e.to_string(),
            });
        }
    };
    let text = before.as_deref().unwrap_or("");
    // An empty file is what some clients create before their first server.
    let top: Value = if text.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        parse_value(text, &shown, client.allows_comments())?
    };
    let Value::Object(top) = top else {
        return Err(shape(&shown, "the file is not a JSON object"));
    };
    let servers = match top.get(servers_key) {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => {
            return Err(shape(
                &shown,
                &format!("\"{servers_key}\" is not a JSON object"),
            ));
        }
    };
    let old_entry = servers.and_then(|m| m.get(name)).cloned();
    let new_entry = entry.map(|e| merge(old_entry.as_ref(), e));
    let outcome = match (&new_entry, &old_entry) {
        (Some(new), Some(old)) if new == old => Outcome::Unchanged,
        (Some(_), Some(_)) => Outcome::Replaced,
        (Some(_), None) => Outcome::Added,
        (None, Some(_)) => Outcome::Removed,
        (None, None) => Outcome::Absent,
    };
    if !outcome.writes() {
        return Ok(Change {
            path: path.to_path_buf(),
            outcome,
            old_entry,
            new_entry,
            after: text.to_string(),
            before,
        });
    }
    let after = edit(text, servers_key, name, entry, &old_entry)
        .ok_or_else(|| shape(&shown, "the file could not be edited"))?;
    // The edit must say what was planned; anything else is refused rather
    // than written.
    let check: Value = parse_value(&after, &shown, true)?;
    let got = check.get(servers_key).and_then(|s| s.get(name));
    if got != new_entry.as_ref() {
        return Err(shape(
            &shown,
            "the edited file did not hold the planned entry",
        ));
    }
    Ok(Change {
        path: path.to_path_buf(),
        outcome,
        old_entry,
        new_entry,
        before,
        after,
    })
}

fn shape(path: &str, what: &str) -> ClientConfigError {
    ClientConfigError::Shape {
        path: path.into(),
        what: what.into(),
    }
}

fn io(op: &'static str, path: &Path, e: std::io::Error) -> ClientConfigError {
    ClientConfigError::Io {
        op,
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// An entry as it may be shown (`--dry-run`, the report): every `env`
/// value and the value of every secret-looking key replaced by `"***"`.
pub fn masked(entry: &Value) -> Value {
    fn walk(v: &Value, under_env: bool) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| {
                        let shown = if under_env || looks_secret(k) {
                            mask(v)
                        } else {
                            walk(v, k == "env" || k == "headers")
                        };
                        (k.clone(), shown)
                    })
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(|v| walk(v, under_env)).collect()),
            other if under_env => mask(other),
            other => other.clone(),
        }
    }
    fn mask(v: &Value) -> Value {
        match v {
            Value::Null => Value::Null,
            _ => Value::String("***".into()),
        }
    }
    walk(entry, false)
}

/// Key names that usually hold a secret.
fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "secret",
        "token",
        "password",
        "passwd",
        "apikey",
        "api_key",
        "api-key",
        "authorization",
        "credential",
        "cookie",
        "private",
    ]
    .iter()
    .any(|w| k.contains(w))
}

#[cfg(test)]
mod tests;
