//! The text of a config file: parsing it as JSON or as JSON with comments
//! (VS Code, Cursor), and editing one entry in its concrete syntax tree so
//! every other byte, comments included, stays as it was.

use jsonc_parser::cst::{CstInputValue, CstObject, CstRootNode};
use serde_json::Value;

use super::{ClientConfigError, masked};

/// The edited text: only our entry's node (or its three keys) changes.
pub(super) fn edit(
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
pub(super) fn jsonc_options() -> jsonc_parser::ParseOptions {
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

pub(super) fn parse_value(text: &str, path: &str, jsonc: bool) -> Result<Value, ClientConfigError> {
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
