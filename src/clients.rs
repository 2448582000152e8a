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

use std::io::Write;
use std::path::{Path, PathBuf};

use jsonc_parser::cst::{CstInputValue, CstObject, CstRootNode};
use serde_json::Value;

use crate::fsx::{self, FileLock};

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

/// The edited text: only our entry's node (or its three keys) changes.
fn edit(
    text: &str,
    servers_key: &str,
    name: &str,
    ours: Option<&Value>,
    old: &Option<Value>,
) -> Option<String> {
    let root = CstRootNode::parse(text, &jsonc_options()).ok()?;
    let top = root.object_value_or_set();
    let servers: CstObject = match top.get(servers_key) {
        Some(prop) => match prop.object_value() {
            Some(o) => o,
            // `null`: becomes the list.
            None => {
                prop.set_value(CstInputValue::Object(Vec::new()));
                prop.object_value()?
            }
        },
        None => top
            .append(servers_key, CstInputValue::Object(Vec::new()))
            .object_value()?,
    };
    match (ours, servers.get(name)) {
        (None, Some(prop)) => prop.remove(),
        (None, None) => {}
        (Some(Value::Object(ours)), Some(prop)) if matches!(old, Some(Value::Object(_))) => {
            let entry = prop.object_value()?;
            for (k, v) in ours {
                match entry.get(k) {
                    Some(p) => p.set_value(input(v)),
                    // The transport first, where clients' own examples put it.
                    None if k == "type" => {
                        entry.insert(0, k, input(v));
                    }
                    None => {
                        entry.append(k, input(v));
                    }
                }
            }
        }
        (Some(v), Some(prop)) => prop.set_value(input(v)),
        (Some(v), None) => {
            servers.append(name, input(v));
        }
    }
    let mut out = root.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Some(out)
}

fn input(v: &Value) -> CstInputValue {
    match v {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(a) => CstInputValue::Array(a.iter().map(input).collect()),
        Value::Object(m) => {
            // serde_json sorts keys; an entry reads best in the order the
            // clients' own docs use: type, command, args, then the rest.
            let rank = |k: &str| ["type", "command", "args"].iter().position(|r| *r == k);
            let mut props: Vec<(&String, &Value)> = m.iter().collect();
            props.sort_by_key(|(k, _)| rank(k).unwrap_or(usize::MAX));
            CstInputValue::Object(
                props
                    .into_iter()
                    .map(|(k, v)| (k.clone(), input(v)))
                    .collect(),
            )
        }
    }
}

/// `{"name": entry}` as indented JSON, keys in the order written to files,
/// secrets masked ([`masked`]): for reports on a terminal.
pub fn show_entry(name: &str, entry: &Value) -> String {
    let root = CstRootNode::parse("", &jsonc_options()).expect("empty text parses");
    root.set_value(CstInputValue::Object(vec![(
        name.to_string(),
        input(&masked(entry)),
    )]));
    root.to_string().trim_end().to_string()
}

/// What VS Code's and Cursor's JSONC allows: comments and trailing commas,
/// nothing of JSON5.
fn jsonc_options() -> jsonc_parser::ParseOptions {
    jsonc_parser::ParseOptions {
        allow_comments: true,
        allow_trailing_commas: true,
        allow_loose_object_property_names: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

fn parse_value(text: &str, path: &str, jsonc: bool) -> Result<Value, ClientConfigError> {
    if !jsonc {
        return serde_json::from_str(text).map_err(|e| invalid(path, &e));
    }
    jsonc_parser::parse_to_serde_value::<Value>(text, &jsonc_options()).map_err(|e| {
        ClientConfigError::InvalidJson {
            path: path.into(),
            syntax: "JSON with comments",
            line: e.line_display(),
            column: e.column_display(),
            message: e.kind().to_string(),
        }
    })
}

fn shape(path: &str, what: &str) -> ClientConfigError {
    ClientConfigError::Shape {
        path: path.into(),
        what: what.into(),
    }
}

fn invalid(path: &str, e: &serde_json::Error) -> ClientConfigError {
    // serde_json's message ends with " at line L column C"; the position is
    // given separately.
    let message = e.to_string();
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    ClientConfigError::InvalidJson {
        path: path.into(),
        syntax: "JSON",
        line: e.line(),
        column: e.column(),
        message,
    }
}

fn io(op: &'static str, path: &Path, e: std::io::Error) -> ClientConfigError {
    ClientConfigError::Io {
        op,
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

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
mod tests {
    use super::*;
    use serde_json::json;

    fn entry() -> Value {
        Client::ClaudeDesktop.entry("/bin/bigin-mcp", &["serve".into(), "--read-only".into()])
    }

    #[test]
    fn install_keeps_other_keys_servers_and_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.json");
        let original = "{\n  \"zeta\": 1,\n  \"mcpServers\": {\n    \"other\": {\n      \"command\": \"x\",\n      \"z\": [1,2]\n    }\n  },\n  \"alpha\": {\"b\": 2, \"a\": 1}\n}\n";
        std::fs::write(&p, original).unwrap();
        let c = plan_install(&p, Client::ClaudeDesktop, "bigin", &entry()).unwrap();
        assert_eq!(c.outcome, Outcome::Added);
        assert!(c.after.find("\"zeta\"").unwrap() < c.after.find("\"alpha\"").unwrap());
        // Untouched values keep their exact text.
        assert!(c.after.contains("{\"b\": 2, \"a\": 1}"), "{}", c.after);
        assert!(c.after.contains("\"z\": [1,2]"), "{}", c.after);
        let v: Value = serde_json::from_str(&c.after).unwrap();
        assert_eq!(v["mcpServers"]["other"]["command"], "x");
        assert_eq!(v["mcpServers"]["bigin"], entry());
        let bak = apply(&c).unwrap().unwrap();
        assert!(
            bak.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("c.json.bak-")
        );
        assert_eq!(std::fs::read_to_string(bak).unwrap(), original);
        let again = plan_install(&p, Client::ClaudeDesktop, "bigin", &entry()).unwrap();
        assert_eq!(again.outcome, Outcome::Unchanged);
        let gone = plan_uninstall(&p, Client::ClaudeDesktop, "bigin").unwrap();
        assert_eq!(gone.outcome, Outcome::Removed);
        let v: Value = serde_json::from_str(&gone.after).unwrap();
        assert_eq!(
            v["mcpServers"],
            json!({"other": {"command": "x", "z": [1, 2]}})
        );
    }

    #[test]
    fn invalid_json_names_the_position() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.json");
        std::fs::write(&p, "{\n  \"a\": 1,\n}\n").unwrap();
        let e = plan_install(&p, Client::ClaudeDesktop, "bigin", &entry()).unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("line 3, column 1") && m.contains("c.json"),
            "{m}"
        );
        std::fs::write(&p, "[1]").unwrap();
        let e = plan_install(&p, Client::ClaudeDesktop, "bigin", &entry()).unwrap_err();
        assert!(e.to_string().contains("not a JSON object"), "{e}");
    }

    #[test]
    fn a_missing_or_empty_file_gets_just_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/c.json");
        let c = plan_install(&p, Client::VsCode, "b", &json!({"command": "x"})).unwrap();
        assert_eq!(c.outcome, Outcome::Added);
        assert_eq!(apply(&c).unwrap(), None, "no backup of nothing");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        assert_eq!(v, json!({"servers": {"b": {"command": "x"}}}));
        assert_eq!(
            plan_uninstall(&dir.path().join("none.json"), Client::VsCode, "b")
                .unwrap()
                .outcome,
            Outcome::Absent
        );
    }

    fn locks(dir: &Path) -> PathBuf {
        dir.join("locks")
    }

    #[test]
    fn reinstall_replaces_command_and_args_and_keeps_every_other_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".claude.json");
        std::fs::write(
            &p,
            r#"{"mcpServers": {"bigin": {"type": "stdio", "command": "/old/bigin-mcp", "args": ["serve"], "env": {"BIGIN_CLIENT_SECRET": "s3cr3t", "BIGIN_REFRESH_TOKEN": "r"}, "disabled": true, "alwaysAllow": ["list_users"]}}}"#,
        )
        .unwrap();
        let ours = Client::ClaudeCode.entry("/new/bigin-mcp", &["serve".into(), "--demo".into()]);
        let (c, _) = install(&p, Client::ClaudeCode, "bigin", &ours, &locks(dir.path())).unwrap();
        assert_eq!(c.outcome, Outcome::Replaced);
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        assert_eq!(
            v["mcpServers"]["bigin"],
            json!({"type": "stdio", "command": "/new/bigin-mcp", "args": ["serve", "--demo"],
                   "env": {"BIGIN_CLIENT_SECRET": "s3cr3t", "BIGIN_REFRESH_TOKEN": "r"},
                   "disabled": true, "alwaysAllow": ["list_users"]})
        );
        // Shown masked.
        let shown = masked(c.old_entry.as_ref().unwrap()).to_string();
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("\"r\""),
            "{shown}"
        );
        assert!(shown.contains("list_users"), "{shown}");
        let again = plan_install(&p, Client::ClaudeCode, "bigin", &ours).unwrap();
        assert_eq!(again.outcome, Outcome::Unchanged);
    }

    #[test]
    fn masking_hides_env_values_and_secret_looking_keys() {
        let e = json!({"command": "x", "args": ["serve"], "env": {"DEBUG": "1", "N": 2},
                       "clientSecret": "a", "headers": {"Authorization": "Bearer b"},
                       "nested": {"api_key": "c", "plain": "d"}});
        assert_eq!(
            masked(&e),
            json!({"command": "x", "args": ["serve"], "env": {"DEBUG": "***", "N": "***"},
                   "clientSecret": "***", "headers": {"Authorization": "***"},
                   "nested": {"api_key": "***", "plain": "d"}})
        );
    }

    #[test]
    fn vscode_and_cursor_files_with_comments_are_edited_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mcp.json");
        let original = "// my servers\n{\n  \"servers\": {\n    // the GitHub one\n    \"github\": {\"type\": \"http\", \"url\": \"https://x\",},\n  },\n  /* inputs */ \"inputs\": [],\n}\n";
        std::fs::write(&p, original).unwrap();
        let ours = Client::VsCode.entry("/bin/bigin-mcp", &["serve".into()]);
        install(&p, Client::VsCode, "bigin", &ours, &locks(dir.path())).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        for kept in [
            "// my servers",
            "// the GitHub one",
            "/* inputs */",
            "\"url\": \"https://x\",}",
        ] {
            assert!(text.contains(kept), "{kept} lost:\n{text}");
        }
        let v: Value = jsonc_parser::parse_to_serde_value(&text, &jsonc_options()).unwrap();
        assert_eq!(v["servers"]["bigin"], ours);
        assert_eq!(v["servers"]["github"]["url"], "https://x");
        uninstall(&p, Client::VsCode, "bigin", &locks(dir.path())).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.contains("// the GitHub one") && !text.contains("bigin"),
            "{text}"
        );
        // Claude's files stay strict JSON: a comment there is refused.
        let e = plan_install(&p, Client::ClaudeDesktop, "bigin", &ours).unwrap_err();
        assert!(e.to_string().contains("not valid JSON"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn backups_are_new_files_never_through_a_symlink_and_only_a_few_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.json");
        std::fs::write(&p, "{}").unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        // The old single-backup name, planted as a symlink: never written.
        std::os::unix::fs::symlink(&victim, dir.path().join("c.json.bak")).unwrap();
        let mut made = Vec::new();
        for i in 0..(KEEP_BACKUPS + 2) {
            let e = Client::ClaudeDesktop.entry("/bin/x", &[format!("--n{i}")]);
            let (_, b) =
                install(&p, Client::ClaudeDesktop, "bigin", &e, &locks(dir.path())).unwrap();
            made.push(b.unwrap());
        }
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let mut baks: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with("c.json.bak-"))
            .collect();
        baks.sort();
        assert_eq!(baks.len(), KEEP_BACKUPS, "{baks:?}");
        let newest = made.last().unwrap().file_name().unwrap().to_str().unwrap();
        assert_eq!(baks.last().unwrap(), newest);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(made.last().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn concurrent_installs_and_uninstalls_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.json");
        std::fs::write(&p, "{\"mcpServers\": {\"keep\": {\"command\": \"k\"}}}").unwrap();
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let (p, l) = (p.clone(), locks(dir.path()));
                std::thread::spawn(move || {
                    for i in 0..4 {
                        let e = Client::ClaudeDesktop.entry("/bin/x", &[]);
                        install(&p, Client::ClaudeDesktop, &format!("s{t}-{i}"), &e, &l).unwrap();
                    }
                    uninstall(&p, Client::ClaudeDesktop, &format!("s{t}-0"), &l).unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let names: Vec<&String> = v["mcpServers"].as_object().unwrap().keys().collect();
        assert_eq!(names.len(), 1 + 8 * 3, "{names:?}");
        assert!(v["mcpServers"]["s3-0"].is_null() && v["mcpServers"]["s3-1"].is_object());
    }
}
