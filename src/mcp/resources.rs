//! Review evidence as MCP resources: the stored review snapshots
//! (`bigin://reviews/latest` and the template `bigin://reviews/{snapshot}`,
//! whose `snapshot` argument completes to the stored names) and the last
//! lines of the audit log (`bigin://audit/recent`). Everything is read from
//! disk through `fsx::read_regular` with a cap; nothing here reaches Zoho.
//!
//! A server knows its organisation's id only once a review has run in it,
//! so the review resources are listed from then on.

use std::path::Path;

use rmcp::model::{
    CompleteRequestParams, CompleteResult, CompletionInfo, Reference, Resource, ResourceContents,
    ResourceTemplate,
};

use crate::admin::SnapshotStore;
use crate::admin::audit;

/// The newest stored review of this server's organisation.
pub const LATEST: &str = "bigin://reviews/latest";
/// One stored review by name.
pub const TEMPLATE: &str = "bigin://reviews/{snapshot}";
const REVIEW_PREFIX: &str = "bigin://reviews/";
/// The last [`AUDIT_LINES`] audit lines.
pub const AUDIT: &str = "bigin://audit/recent";
/// How many audit lines `bigin://audit/recent` returns.
pub const AUDIT_LINES: usize = 50;

const JSON: &str = "application/json";

/// The URI of the stored snapshot at `path`.
pub fn uri_of(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    Some(format!("{REVIEW_PREFIX}{stem}"))
}

/// What `resources/list` returns: the review resources once this server's
/// organisation is known and has a stored review, and the audit log once
/// it exists.
pub fn list(store: Option<&SnapshotStore>, org: Option<&str>, audit_path: &Path) -> Vec<Resource> {
    let mut out = Vec::new();
    if let (Some(store), Some(org)) = (store, org) {
        let names = store.names(org);
        if !names.is_empty() {
            out.push(
                Resource::new(LATEST, "latest review")
                    .with_description(
                        "The newest stored access review of this organisation, with its evidence header",
                    )
                    .with_mime_type(JSON),
            );
        }
        for n in names {
            out.push(
                Resource::new(format!("{REVIEW_PREFIX}{n}"), n.clone())
                    .with_description("A stored access review snapshot")
                    .with_mime_type(JSON),
            );
        }
    }
    if audit_path.is_file() {
        out.push(
            Resource::new(AUDIT, "recent audit lines")
                .with_description(format!(
                    "The last {AUDIT_LINES} lines of the audit log, as JSON"
                ))
                .with_mime_type(JSON),
        );
    }
    out
}

/// What `resources/templates/list` returns.
pub fn templates(store: Option<&SnapshotStore>) -> Vec<ResourceTemplate> {
    if store.is_none() {
        return Vec::new();
    }
    vec![
        ResourceTemplate::new(TEMPLATE, "stored review")
            .with_description(
                "A stored access review snapshot by name (completions list the stored names)",
            )
            .with_mime_type(JSON),
    ]
}

/// Reads `uri`: the snapshot file's JSON as stored (its evidence header
/// included), or the recent audit lines.
pub fn read(
    uri: &str,
    store: Option<&SnapshotStore>,
    org: Option<&str>,
    audit_path: &Path,
) -> Result<ResourceContents, rmcp::ErrorData> {
    let not_found =
        |why: String| rmcp::ErrorData::resource_not_found(format!("{uri}: {why}"), None);
    if uri == AUDIT {
        let lines = audit::recent(audit_path, AUDIT_LINES)
            .map_err(|e| rmcp::ErrorData::internal_error(e.to_string(), None))?;
        let text = serde_json::json!({
            "audit_log": audit_path.display().to_string(),
            "lines": lines,
        })
        .to_string();
        return Ok(ResourceContents::text(text, uri).with_mime_type(JSON));
    }
    let Some(name) = uri.strip_prefix(REVIEW_PREFIX) else {
        return Err(not_found(format!(
            "unknown resource; this server offers {LATEST}, {TEMPLATE} and {AUDIT}"
        )));
    };
    let Some(store) = store else {
        return Err(not_found("this server stores no reviews".into()));
    };
    let Some(org) = org else {
        return Err(not_found(
            "no review has run in this server yet; call bigin_access_review first".into(),
        ));
    };
    match store.read_named(org, name) {
        Ok(Some((_, bytes))) => {
            let text = String::from_utf8(bytes).map_err(|_| {
                rmcp::ErrorData::internal_error("a snapshot that is not UTF-8", None)
            })?;
            Ok(ResourceContents::text(text, uri).with_mime_type(JSON))
        }
        Ok(None) if name == "latest" => Err(not_found("no review is stored yet".into())),
        Ok(None) => Err(not_found(format!(
            "no stored review named '{name}'; complete the snapshot argument for the stored names"
        ))),
        Err(e) => Err(rmcp::ErrorData::internal_error(e.to_string(), None)),
    }
}

/// `completion/complete`: the `snapshot` argument of [`TEMPLATE`] lists
/// the stored names starting with what was typed (newest first); anything
/// else completes to nothing.
pub fn complete(
    request: &CompleteRequestParams,
    store: Option<&SnapshotStore>,
    org: Option<&str>,
) -> CompleteResult {
    let values = match (&request.r#ref, store, org) {
        (Reference::Resource(r), Some(store), Some(org))
            if r.uri == TEMPLATE && request.argument.name == "snapshot" =>
        {
            store
                .names(org)
                .into_iter()
                .filter(|n| n.starts_with(&request.argument.value))
                .collect()
        }
        _ => Vec::new(),
    };
    let total = values.len();
    let has_more = total > CompletionInfo::MAX_VALUES;
    let values: Vec<String> = values
        .into_iter()
        .take(CompletionInfo::MAX_VALUES)
        .collect();
    let info =
        CompletionInfo::with_pagination(values, Some(total as u32), has_more).unwrap_or_default();
    CompleteResult::new(info)
}
