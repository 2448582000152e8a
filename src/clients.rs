//! MCP client config files: where Claude Desktop, Claude Code, Cursor and
//! VS Code keep their server lists, and the change `install` / `uninstall`
//! make to one entry.
//!
//! These files belong to the clients (`~/.claude.json` holds all of Claude
//! Code's state), so a change must touch nothing but our entry: every other
//! value is carried over as raw JSON text, in its order, and only the server
//! list's own object is re-indented. Writing is atomic (temp file + rename),
//! keeps the file's permissions, and leaves the previous file as `FILE.bak`.
//! Nothing here prints; the command layer says what happened.

use std::io::Write;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

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
        "{path} is not valid JSON (line {line}, column {column}: {message}); nothing was changed. Fix the file (comments and trailing commas are not JSON) or move it away, then run this again"
    )]
    InvalidJson {
        path: String,
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
        Ok(Dirs {
            home: base.home_dir().to_path_buf(),
            config: base.config_dir().to_path_buf(),
            cwd,
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
    /// The file's text before (`None`: no file).
    pub before: Option<String>,
    /// The file's text after.
    pub after: String,
}

/// Computes adding (or replacing) `name` under `servers_key`.
pub fn plan_install(
    path: &Path,
    servers_key: &str,
    name: &str,
    entry: &Value,
) -> Result<Change, ClientConfigError> {
    plan(path, servers_key, name, Some(entry))
}

/// Computes removing `name` from `servers_key`.
pub fn plan_uninstall(
    path: &Path,
    servers_key: &str,
    name: &str,
) -> Result<Change, ClientConfigError> {
    plan(path, servers_key, name, None)
}

/// A value in the rewritten file: carried over untouched, or ours.
#[derive(Serialize)]
#[serde(untagged)]
enum Node {
    Raw(Box<RawValue>),
    Map(IndexMap<String, Node>),
    Value(Value),
}

type RawObject = IndexMap<String, Box<RawValue>>;

fn plan(
    path: &Path,
    servers_key: &str,
    name: &str,
    entry: Option<&Value>,
) -> Result<Change, ClientConfigError> {
    let shown = path.display().to_string();
    let before = match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io("read", path, e)),
    };
    let text = before.as_deref().unwrap_or("");
    // An empty file is what some clients create before their first server.
    let mut top: RawObject = if text.trim().is_empty() {
        RawObject::new()
    } else {
        parse_object(text, &shown, "the file")?
    };
    let mut servers: RawObject = match top.get(servers_key) {
        Some(raw) if raw.get() == "null" => RawObject::new(),
        Some(raw) => parse_object(raw.get(), &shown, &format!("\"{servers_key}\""))?,
        None => RawObject::new(),
    };
    let old_entry: Option<Value> = match servers.get(name) {
        Some(raw) => Some(serde_json::from_str(raw.get()).map_err(|e| invalid(&shown, &e))?),
        None => None,
    };
    let outcome = match (entry, &old_entry) {
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
            after: text.to_string(),
            before,
        });
    }
    // Rebuild: every value raw except the server list, whose entries are
    // raw except ours. A replaced entry keeps its place in the list.
    let mut list: IndexMap<String, Node> = IndexMap::new();
    let mut placed = false;
    for (k, v) in servers.drain(..) {
        if k == name {
            if let Some(new) = entry {
                list.insert(k, Node::Value(new.clone()));
                placed = true;
            }
        } else {
            list.insert(k, Node::Raw(v));
        }
    }
    if let (Some(new), false) = (entry, placed) {
        list.insert(name.to_string(), Node::Value(new.clone()));
    }
    let mut out: IndexMap<String, Node> = IndexMap::new();
    let mut list = Some(list);
    for (k, v) in top.drain(..) {
        if k == servers_key {
            out.insert(k, Node::Map(list.take().unwrap_or_default()));
        } else {
            out.insert(k, Node::Raw(v));
        }
    }
    if let Some(list) = list {
        out.insert(servers_key.to_string(), Node::Map(list));
    }
    let after = serde_json::to_string_pretty(&out).map_err(|e| ClientConfigError::Io {
        op: "serialise",
        path: shown.clone(),
        message: e.to_string(),
    })? + "\n";
    Ok(Change {
        path: path.to_path_buf(),
        outcome,
        old_entry,
        before,
        after,
    })
}

fn parse_object(text: &str, path: &str, what: &str) -> Result<RawObject, ClientConfigError> {
    // Syntax first, so the position reported is the file's, not the shape's.
    let value: Value = serde_json::from_str(text).map_err(|e| invalid(path, &e))?;
    if !value.is_object() {
        return Err(ClientConfigError::Shape {
            path: path.into(),
            what: format!("{what} is not a JSON object"),
        });
    }
    serde_json::from_str(text).map_err(|e| invalid(path, &e))
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

/// Writes a change: the old file to `FILE.bak`, the new text to a temp file
/// beside it with the old file's permissions, then a rename over the old
/// one. A symlinked config is written through to its target. Returns the
/// backup's path, if one was made.
pub fn apply(change: &Change) -> Result<Option<PathBuf>, ClientConfigError> {
    if !change.outcome.writes() {
        return Ok(None);
    }
    let target = match std::fs::canonicalize(&change.path) {
        Ok(p) => p,
        Err(_) => change.path.clone(),
    };
    let dir = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
    let old_perms = std::fs::metadata(&target).ok().map(|m| m.permissions());
    let backup = match &change.before {
        Some(_) => {
            let mut name = target.file_name().unwrap_or_default().to_os_string();
            name.push(".bak");
            let bak = target.with_file_name(name);
            std::fs::copy(&target, &bak).map_err(|e| io("back up", &target, e))?;
            Some(bak)
        }
        None => None,
    };
    let mut tmp_name = target.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = target.with_file_name(tmp_name);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        if let Some(p) = &old_perms {
            f.set_permissions(p.clone())?;
        }
        f.write_all(change.after.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &target)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("write", &target, e));
    }
    Ok(backup)
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
        let c = plan_install(&p, "mcpServers", "bigin", &entry()).unwrap();
        assert_eq!(c.outcome, Outcome::Added);
        assert!(c.after.find("\"zeta\"").unwrap() < c.after.find("\"alpha\"").unwrap());
        // Untouched values keep their exact text.
        assert!(c.after.contains("{\"b\": 2, \"a\": 1}"), "{}", c.after);
        assert!(c.after.contains("\"z\": [1,2]"), "{}", c.after);
        let v: Value = serde_json::from_str(&c.after).unwrap();
        assert_eq!(v["mcpServers"]["other"]["command"], "x");
        assert_eq!(v["mcpServers"]["bigin"], entry());
        apply(&c).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("c.json.bak")).unwrap(),
            original
        );
        let again = plan_install(&p, "mcpServers", "bigin", &entry()).unwrap();
        assert_eq!(again.outcome, Outcome::Unchanged);
        let gone = plan_uninstall(&p, "mcpServers", "bigin").unwrap();
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
        let e = plan_install(&p, "mcpServers", "bigin", &entry()).unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("line 3, column 1") && m.contains("c.json"),
            "{m}"
        );
        std::fs::write(&p, "[1]").unwrap();
        let e = plan_install(&p, "mcpServers", "bigin", &entry()).unwrap_err();
        assert!(e.to_string().contains("not a JSON object"), "{e}");
    }

    #[test]
    fn a_missing_or_empty_file_gets_just_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/c.json");
        let c = plan_install(&p, "servers", "b", &json!({"command": "x"})).unwrap();
        assert_eq!(c.outcome, Outcome::Added);
        assert_eq!(apply(&c).unwrap(), None, "no backup of nothing");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        assert_eq!(v, json!({"servers": {"b": {"command": "x"}}}));
        assert_eq!(
            plan_uninstall(&dir.path().join("none.json"), "servers", "b")
                .unwrap()
                .outcome,
            Outcome::Absent
        );
    }
}
