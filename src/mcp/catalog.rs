//! The tool catalogue as data (name, method, toolset) and the start-up
//! filters that choose which tools a server exposes.
//!
//! Filter order, documented in the README: `--tools` / `--toolsets` /
//! `--methods` intersect; `--exclude-tools` removes; `bigin_delete_user`
//! needs `--allow-delete`; `--read-only` wins over everything.

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

/// One tool's place in the catalogue, read off its own definition: the
/// toolset is the domain router it is routed in, read-only is its
/// `readOnlyHint`, and the method is the verb its name starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolInfo {
    pub name: &'static str,
    pub method: Method,
    pub toolset: &'static str,
    /// The tool's `readOnlyHint`.
    pub read_only: bool,
}

/// The method a tool's name says it is (`bigin_<verb>_...`).
pub fn method_of(name: &str) -> Option<Method> {
    let verb = name.strip_prefix("bigin_")?.split('_').next()?;
    Some(match verb {
        "list" | "access" => Method::List,
        "get" => Method::Get,
        "invite" | "create" => Method::Create,
        "set" | "update" => Method::Update,
        "delete" => Method::Delete,
        _ => return None,
    })
}

/// Every tool the server knows, derived once from the domain routers
/// (see `tools::ROUTERS`), in the order the README lists them.
pub fn tools() -> &'static [ToolInfo] {
    static TOOLS: std::sync::OnceLock<Vec<ToolInfo>> = std::sync::OnceLock::new();
    TOOLS.get_or_init(|| {
        super::tools::routers()
            .iter()
            .flat_map(|&(toolset, ref router)| {
                router
                    .list_all()
                    .into_iter()
                    .map(move |t| {
                        let name: &'static str = match t.name {
                            std::borrow::Cow::Borrowed(n) => n,
                            std::borrow::Cow::Owned(n) => Box::leak(n.into_boxed_str()),
                        };
                        ToolInfo {
                            name,
                            method: method_of(name).unwrap_or_else(|| {
                                panic!("tool {name} does not start with a known verb")
                            }),
                            toolset,
                            read_only: t
                                .annotations
                                .as_ref()
                                .and_then(|a| a.read_only_hint)
                                .unwrap_or(false),
                        }
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
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

impl ToolFilter {
    /// The names of the tools to expose, or an error naming the unknown
    /// entries and the valid ones.
    pub fn select(&self) -> Result<BTreeSet<&'static str>, FilterError> {
        let methods = self.parse_methods()?;
        // Toolsets are the domain routers the tools are routed in.
        let mut all_toolsets: Vec<&str> = Vec::new();
        for t in tools() {
            if !all_toolsets.contains(&t.toolset) {
                all_toolsets.push(t.toolset);
            }
        }
        let all_tools: Vec<&str> = tools().iter().map(|t| t.name).collect();
        check_known("--toolsets", &self.toolsets, &all_toolsets)?;
        check_known("--tools", &self.tools, &all_tools)?;
        check_known("--exclude-tools", &self.exclude_tools, &all_tools)?;
        let has = |list: &[String], x: &str| list.iter().any(|v| v.trim().eq_ignore_ascii_case(x));
        Ok(tools()
            .iter()
            .filter(|t| methods.as_ref().is_none_or(|m| m.contains(&t.method)))
            .filter(|t| self.toolsets.is_empty() || has(&self.toolsets, t.toolset))
            .filter(|t| self.tools.is_empty() || has(&self.tools, t.name))
            .filter(|t| !has(&self.exclude_tools, t.name))
            .filter(|t| t.name != DELETE_TOOL || self.allow_delete)
            .filter(|t| !self.read_only || t.read_only)
            .map(|t| t.name)
            .collect())
    }

    /// Why the filters leave no tool, in the words of the flags; `None`
    /// when some tool is left (or a name is unknown: `select` says that).
    /// Each tool is blamed on the first filter that removed it, in the
    /// documented order, and only tools `--tools` named are discussed.
    pub fn explain_empty(&self) -> Option<String> {
        if !self.select().ok()?.is_empty() {
            return None;
        }
        let methods = self.parse_methods().ok()?;
        let has = |list: &[String], x: &str| list.iter().any(|v| v.trim().eq_ignore_ascii_case(x));
        let joined = |l: &[String]| l.join(",");
        // (reason, tools) in filter order; a reason appears once.
        let mut reasons: Vec<(String, Vec<&str>)> = Vec::new();
        let mut blame = |reason: String, tool: &'static str| match reasons
            .iter_mut()
            .find(|(r, _)| *r == reason)
        {
            Some((_, tools)) => tools.push(tool),
            None => reasons.push((reason, vec![tool])),
        };
        for t in tools() {
            if !self.tools.is_empty() && !has(&self.tools, t.name) {
                continue;
            }
            let reason = if methods.as_ref().is_some_and(|m| !m.contains(&t.method)) {
                format!("--methods {} leaves out", joined(&self.methods))
            } else if !self.toolsets.is_empty() && !has(&self.toolsets, t.toolset) {
                format!("--toolsets {} leaves out", joined(&self.toolsets))
            } else if has(&self.exclude_tools, t.name) {
                "--exclude-tools removes".to_string()
            } else if t.name == DELETE_TOOL && !self.allow_delete {
                "--allow-delete is needed for".to_string()
            } else if self.read_only && !t.read_only {
                "--read-only removes every write tool, here".to_string()
            } else {
                continue;
            };
            blame(reason, t.name);
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

    /// Why these flags removed `name`, naming the flag that would bring it
    /// back; `None` when the tool is exposed or unknown.
    pub fn why_removed(&self, name: &str) -> Option<String> {
        let t = tool_info(name)?;
        let has = |list: &[String], x: &str| list.iter().any(|v| v.trim().eq_ignore_ascii_case(x));
        let methods = self.parse_methods().ok()?;
        Some(if self.read_only && !t.read_only {
            format!(
                "{name} changes Zoho and the server runs with --read-only (BIGIN_READ_ONLY), which removes every write tool"
            )
        } else if t.name == DELETE_TOOL && !self.allow_delete {
            format!(
                "{name} is irreversible and off by default; the server must be started with --allow-delete (BIGIN_ALLOW_DELETE=true)"
            )
        } else if has(&self.exclude_tools, t.name) {
            format!("{name} is removed by --exclude-tools (BIGIN_EXCLUDE_TOOLS)")
        } else if !self.tools.is_empty() && !has(&self.tools, t.name) {
            format!(
                "{name} is not among --tools {} (BIGIN_TOOLS)",
                self.tools.join(",")
            )
        } else if methods.as_ref().is_some_and(|m| !m.contains(&t.method)) {
            format!(
                "{name} is a {} tool and --methods is {} (BIGIN_METHODS)",
                t.method,
                self.methods.join(",")
            )
        } else if !self.toolsets.is_empty() && !has(&self.toolsets, t.toolset) {
            format!(
                "{name} is in toolset {} and --toolsets is {} (BIGIN_TOOLSETS)",
                t.toolset,
                self.toolsets.join(",")
            )
        } else {
            return None;
        })
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

/// Looks a tool up by name.
pub fn tool_info(name: &str) -> Option<&'static ToolInfo> {
    tools().iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn default_hides_only_delete() {
        let s = ToolFilter::default().select().unwrap();
        assert_eq!(s.len(), tools().len() - 1);
        assert!(!s.contains(DELETE_TOOL));
        let s = ToolFilter {
            allow_delete: true,
            ..Default::default()
        }
        .select()
        .unwrap();
        assert!(s.contains(DELETE_TOOL));
    }

    #[test]
    fn read_only_wins_over_everything() {
        let f = ToolFilter {
            read_only: true,
            allow_delete: true,
            methods: list(&["write"]),
            tools: list(&["bigin_delete_user", "bigin_set_user_status"]),
            ..Default::default()
        };
        assert!(f.select().unwrap().is_empty());
        let s = ToolFilter {
            read_only: true,
            ..Default::default()
        }
        .select()
        .unwrap();
        assert_eq!(s.len(), 7);
        assert!(s.iter().all(|n| tool_info(n).unwrap().read_only));
    }

    #[test]
    fn filters_intersect_and_exclude_wins() {
        let f = ToolFilter {
            methods: list(&["read"]),
            toolsets: list(&["users", "roles"]),
            exclude_tools: list(&["bigin_get_user"]),
            ..Default::default()
        };
        let s: Vec<_> = f.select().unwrap().into_iter().collect();
        assert_eq!(s, vec!["bigin_list_roles", "bigin_list_users"]);
        let f = ToolFilter {
            tools: list(&["bigin_get_user"]),
            exclude_tools: list(&["bigin_get_user"]),
            ..Default::default()
        };
        assert!(f.select().unwrap().is_empty());
    }

    #[test]
    fn an_empty_selection_is_explained_flag_by_flag() {
        let f = ToolFilter {
            tools: list(&["bigin_delete_user"]),
            ..Default::default()
        };
        let why = f.explain_empty().unwrap();
        assert!(
            why.contains("--allow-delete is needed for bigin_delete_user"),
            "{why}"
        );
        let f = ToolFilter {
            read_only: true,
            allow_delete: true,
            methods: list(&["write"]),
            ..Default::default()
        };
        let why = f.explain_empty().unwrap();
        assert!(
            why.contains("--methods write leaves out bigin_get_user, bigin_list_users")
                && why.contains(
                    "--read-only removes every write tool, here bigin_delete_user, bigin_invite_user, bigin_set_user_status, bigin_update_user"
                ),
            "{why}"
        );
        assert_eq!(ToolFilter::default().explain_empty(), None);
    }

    #[test]
    fn unknown_names_are_errors_that_list_valid_ones() {
        let e = ToolFilter {
            toolsets: list(&["userz"]),
            ..Default::default()
        }
        .select()
        .unwrap_err();
        assert!(
            e.0.contains("userz") && e.0.contains("users, roles, profiles, org, audit"),
            "{e}"
        );
        let e = ToolFilter {
            methods: list(&["patch"]),
            ..Default::default()
        }
        .select()
        .unwrap_err();
        assert!(e.0.contains("patch"), "{e}");
        let e = ToolFilter {
            exclude_tools: list(&["nope"]),
            ..Default::default()
        }
        .select()
        .unwrap_err();
        assert!(
            e.0.contains("--exclude-tools") && e.0.contains("bigin_list_users"),
            "{e}"
        );
    }
}
