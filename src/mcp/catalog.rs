//! The tool catalogue as data (name, method, toolset, read-only, Zoho
//! scopes) and the start-up filters that choose which tools a server
//! exposes. One rule, [`ToolFilter::verdict`], decides each tool; the
//! selection, the explanation of an empty selection, the message for a call
//! to a removed tool and the prompts offered are all read from it.
//!
//! Filter order, documented in the README: `--tools` / `--toolsets` /
//! `--methods` intersect; `--exclude-tools` removes; `bigin_delete_user`
//! needs `--allow-delete`; `--read-only` wins over everything.
//!
//! This module imports nothing of the handler: the catalogue itself (read
//! off the routers) is `handler::catalogue`, which passes it in.

use std::collections::BTreeSet;
use std::fmt;

/// What a tool does to Zoho, for `--methods`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    List,
    Get,
    Create,
    Update,
    Delete,
}

impl Method {
    const ALL: [Method; 5] = [
        Method::List,
        Method::Get,
        Method::Create,
        Method::Update,
        Method::Delete,
    ];

    fn name(self) -> &'static str {
        match self {
            Method::List => "list",
            Method::Get => "get",
            Method::Create => "create",
            Method::Update => "update",
            Method::Delete => "delete",
        }
    }

    /// Reads change nothing in Zoho.
    pub fn is_read(self) -> bool {
        matches!(self, Method::List | Method::Get)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A Zoho OAuth scope a tool needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    UsersAll,
    UsersRead,
    RolesRead,
    ProfilesRead,
    OrgRead,
}

impl Scope {
    /// Zoho's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::UsersAll => "ZohoBigin.users.ALL",
            Scope::UsersRead => "ZohoBigin.users.READ",
            Scope::RolesRead => "ZohoBigin.settings.roles.READ",
            Scope::ProfilesRead => "ZohoBigin.settings.profiles.READ",
            Scope::OrgRead => "ZohoBigin.org.READ",
        }
    }

    /// The broader scope that includes this one, if any.
    fn within(self) -> Option<Scope> {
        match self {
            Scope::UsersRead => Some(Scope::UsersAll),
            _ => None,
        }
    }
}

/// One tool's place in the catalogue, read off its own definition: the
/// toolset is the domain router it is routed in, read-only is its
/// `readOnlyHint`, the method is the verb its name starts with, and the
/// scopes are what its module declares beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolInfo {
    pub name: &'static str,
    pub method: Method,
    pub toolset: &'static str,
    /// The tool's `readOnlyHint`.
    pub read_only: bool,
    /// The Zoho scopes a call can need.
    pub scopes: &'static [Scope],
}

/// The method a tool's name says it is (`bigin_<verb>_...`). A tool whose
/// verb is unknown fails the catalogue's tests (`tests/it/catalog.rs`);
/// until then it is taken for the most guarded method, a deletion.
pub fn method_of(name: &str) -> Option<Method> {
    let verb = name.strip_prefix("bigin_")?.split('_').next()?;
    Some(match verb {
        "list" | "access" => Method::List,
        "get" => Method::Get,
        "invite" | "create" => Method::Create,
        // Applying review decisions changes existing users.
        "set" | "update" | "apply" => Method::Update,
        "delete" => Method::Delete,
        _ => return None,
    })
}

/// The irreversible tool that needs `--allow-delete`.
pub const DELETE_TOOL: &str = "bigin_delete_user";

/// Start-up selection of tools. Empty lists mean "no restriction".
#[derive(Debug, Clone, Default)]
pub struct ToolFilter {
    pub read_only: bool,
    pub allow_delete: bool,
    pub methods: Vec<String>,
    pub toolsets: Vec<String>,
    pub tools: Vec<String>,
    pub exclude_tools: Vec<String>,
}

/// A filter names something that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

/// Which flag removed a tool, the first in the documented order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// `--read-only`, and the tool writes.
    ReadOnly,
    /// The delete tool, without `--allow-delete`.
    NeedsAllowDelete,
    /// `--exclude-tools` names it.
    Excluded,
    /// `--tools` is set and does not name it.
    NotInTools,
    /// `--methods` leaves its method out.
    Method,
    /// `--toolsets` leaves its toolset out.
    Toolset,
}

fn has(list: &[String], x: &str) -> bool {
    list.iter().any(|v| v.trim().eq_ignore_ascii_case(x))
}

impl Removed {
    /// Why `t` is not exposed, naming the flag (and variable) that would
    /// bring it back: the answer to a call of a removed tool.
    pub fn why(self, f: &ToolFilter, t: &ToolInfo) -> String {
        let name = t.name;
        match self {
            Removed::ReadOnly => format!(
                "{name} changes Zoho and the server runs with --read-only (BIGIN_READ_ONLY), which removes every write tool"
            ),
            Removed::NeedsAllowDelete => format!(
                "{name} is irreversible and off by default; the server must be started with --allow-delete (BIGIN_ALLOW_DELETE=true)"
            ),
            Removed::Excluded => {
                format!("{name} is removed by --exclude-tools (BIGIN_EXCLUDE_TOOLS)")
            }
            Removed::NotInTools => format!(
                "{name} is not among --tools {} (BIGIN_TOOLS)",
                f.tools.join(",")
            ),
            Removed::Method => format!(
                "{name} is a {} tool and --methods is {} (BIGIN_METHODS)",
                t.method,
                f.methods.join(",")
            ),
            Removed::Toolset => format!(
                "{name} is in toolset {} and --toolsets is {} (BIGIN_TOOLSETS)",
                t.toolset,
                f.toolsets.join(",")
            ),
        }
    }

    /// The start of a sentence blaming this flag, for the explanation of
    /// an empty selection ("--exclude-tools removes bigin_get_user").
    fn blame(self, f: &ToolFilter) -> String {
        match self {
            Removed::ReadOnly => "--read-only removes every write tool, here".into(),
            Removed::NeedsAllowDelete => "--allow-delete is needed for".into(),
            Removed::Excluded => "--exclude-tools removes".into(),
            Removed::NotInTools => format!("--tools {} leaves out", f.tools.join(",")),
            Removed::Method => format!("--methods {} leaves out", f.methods.join(",")),
            Removed::Toolset => format!("--toolsets {} leaves out", f.toolsets.join(",")),
        }
    }
}

impl ToolFilter {
    /// The one rule: whether these flags expose `t`, or which flag removed
    /// it. Names are not checked here ([`ToolFilter::select_in`] does); an
    /// unreadable `--methods` restricts nothing.
    pub fn verdict(&self, t: &ToolInfo) -> Result<(), Removed> {
        let methods = self.parse_methods().ok().flatten();
        if self.read_only && !t.read_only {
            Err(Removed::ReadOnly)
        } else if t.name == DELETE_TOOL && !self.allow_delete {
            Err(Removed::NeedsAllowDelete)
        } else if has(&self.exclude_tools, t.name) {
            Err(Removed::Excluded)
        } else if !self.tools.is_empty() && !has(&self.tools, t.name) {
            Err(Removed::NotInTools)
        } else if methods.is_some_and(|m| !m.contains(&t.method)) {
            Err(Removed::Method)
        } else if !self.toolsets.is_empty() && !has(&self.toolsets, t.toolset) {
            Err(Removed::Toolset)
        } else {
            Ok(())
        }
    }

    /// The names of the tools of `all` to expose, or an error naming the
    /// unknown entries and the valid ones.
    pub fn select_in(&self, all: &[ToolInfo]) -> Result<BTreeSet<&'static str>, FilterError> {
        self.parse_methods()?;
        // Toolsets are the domain routers the tools are routed in.
        let mut all_toolsets: Vec<&str> = Vec::new();
        for t in all {
            if !all_toolsets.contains(&t.toolset) {
                all_toolsets.push(t.toolset);
            }
        }
        let all_tools: Vec<&str> = all.iter().map(|t| t.name).collect();
        check_known("--toolsets", &self.toolsets, &all_toolsets)?;
        check_known("--tools", &self.tools, &all_tools)?;
        check_known("--exclude-tools", &self.exclude_tools, &all_tools)?;
        Ok(all
            .iter()
            .filter(|t| self.verdict(t).is_ok())
            .map(|t| t.name)
            .collect())
    }

    /// Why the filters leave no tool of `all`, in the words of the flags;
    /// `None` when some tool is left (or a name is unknown: `select_in`
    /// says that). Each tool is blamed on the flag its verdict names, and
    /// only tools `--tools` named are discussed.
    pub fn explain_empty_in(&self, all: &[ToolInfo]) -> Option<String> {
        if !self.select_in(all).ok()?.is_empty() {
            return None;
        }
        // (reason, tools) in catalogue order; a reason appears once.
        let mut reasons: Vec<(String, Vec<&str>)> = Vec::new();
        for t in all {
            if !self.tools.is_empty() && !has(&self.tools, t.name) {
                continue;
            }
            let reason = match self.verdict(t) {
                Ok(()) | Err(Removed::NotInTools) => continue,
                Err(r) => r.blame(self),
            };
            match reasons.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, tools)) => tools.push(t.name),
                None => reasons.push((reason, vec![t.name])),
            }
        }
        let detail: Vec<String> = reasons
            .into_iter()
            .map(|(r, tools)| format!("{r} {}", tools.join(", ")))
            .collect();
        Some(format!(
            "the filters leave no tools, so the server lists none: {}",
            detail.join("; ")
        ))
    }

    /// Why these flags removed `name` (a tool of `all`), naming the flag
    /// that would bring it back; `None` when the tool is exposed or unknown.
    pub fn why_removed_in(&self, all: &[ToolInfo], name: &str) -> Option<String> {
        let t = all.iter().find(|t| t.name == name)?;
        self.verdict(t).err().map(|r| r.why(self, t))
    }

    /// The Zoho scopes the tools of `all` these flags expose can need, a
    /// scope left out when a broader one is in (`users.READ` under
    /// `users.ALL`).
    pub fn scopes_in(&self, all: &[ToolInfo]) -> Result<Vec<&'static str>, FilterError> {
        let selected = self.select_in(all)?;
        let mut scopes: BTreeSet<Scope> = all
            .iter()
            .filter(|t| selected.contains(t.name))
            .flat_map(|t| t.scopes.iter().copied())
            .collect();
        let covered: Vec<Scope> = scopes
            .iter()
            .copied()
            .filter(|s| s.within().is_some_and(|w| scopes.contains(&w)))
            .collect();
        for s in covered {
            scopes.remove(&s);
        }
        Ok(scopes.into_iter().map(Scope::as_str).collect())
    }

    fn parse_methods(&self) -> Result<Option<BTreeSet<Method>>, FilterError> {
        if self.methods.is_empty() {
            return Ok(None);
        }
        let mut out = BTreeSet::new();
        for m in &self.methods {
            let m = m.trim().to_ascii_lowercase();
            match m.as_str() {
                "read" => out.extend([Method::List, Method::Get]),
                "write" => out.extend([Method::Create, Method::Update, Method::Delete]),
                other => match Method::ALL.iter().find(|x| x.name() == other) {
                    Some(x) => {
                        out.insert(*x);
                    }
                    None => {
                        return Err(FilterError(format!(
                            "--methods: unknown method '{other}'; valid: list, get, create, update, delete, read, write"
                        )));
                    }
                },
            }
        }
        Ok(Some(out))
    }
}

fn check_known(flag: &str, given: &[String], valid: &[&str]) -> Result<(), FilterError> {
    let unknown: Vec<&str> = given
        .iter()
        .map(|g| g.trim())
        .filter(|g| !valid.iter().any(|v| v.eq_ignore_ascii_case(g)))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(FilterError(format!(
            "{flag}: unknown name(s) {}; valid: {}",
            unknown.join(", "),
            valid.join(", ")
        )))
    }
}
