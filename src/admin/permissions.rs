//! Profile permissions in the terms an auditor asks about, and the one rule
//! for "administrator-level" that every tool and the review share.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use crate::zoho::{Permission, Profile};

/// What "administrator-level" means, said once for tool descriptions.
pub const ADMIN_LEVEL: &str = "administrator-level = the built-in Administrator profile, or any profile whose permissions allow changing organisation settings, managing users, or managing roles/profiles";

/// A profile's permissions in the terms an auditor asks about.
#[derive(Debug, Clone, Default, Serialize, JsonSchema, PartialEq, Eq)]
pub struct PermissionSummary {
    /// Setup / organisation settings.
    pub administration: bool,
    pub user_management: bool,
    pub role_profile_management: bool,
    pub export: bool,
    pub import: bool,
    pub mass_delete: bool,
    pub mass_update: bool,
    pub data_backup: bool,
    pub api_access: bool,
    /// Module → enabled actions (view, create, edit, delete).
    pub modules: BTreeMap<String, Vec<String>>,
    /// Other enabled permissions, by label.
    pub other: Vec<String>,
    pub enabled: usize,
    pub total: usize,
}

fn squash(x: &str) -> String {
    x.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Summarises a profile's `permissions_details` (Zoho's raw dump can be
/// hundreds of KB), or else what a profile list carries (`permissions`,
/// `sections`); `None` when it carries none. An empty list is none too: it
/// says nothing about what the profile grants.
pub fn summarize(profile: &Profile) -> Option<PermissionSummary> {
    match profile.permissions_details.as_deref() {
        Some(list) if !list.is_empty() => Some(summarize_list(list)),
        _ => profile.listed_permissions().as_deref().map(summarize_list),
    }
}

fn summarize_list(perms: &[Permission]) -> PermissionSummary {
    let mut out = PermissionSummary {
        total: perms.len(),
        ..Default::default()
    };
    for p in perms {
        if p.enabled != Some(true) {
            continue;
        }
        out.enabled += 1;
        let (name, label) = (&p.name, &p.display_label);
        let key = format!("{} {}", squash(name), squash(label));
        let shown = || {
            if label.is_empty() {
                name.clone()
            } else {
                label.clone()
            }
        };
        if let Some(module) = &p.module {
            let action = ["view", "create", "edit", "delete"]
                .into_iter()
                .find(|a| squash(name).contains(a) || squash(label).starts_with(a));
            let entry = out.modules.entry(module.clone()).or_default();
            match action {
                Some(a) if !entry.iter().any(|x| x == a) => entry.push(a.to_string()),
                Some(_) => {}
                None => entry.push(shown()),
            }
            continue;
        }
        let flags: [(&[&str], &mut bool); 9] = [
            (&["manageusers", "usermanagement"], &mut out.user_management),
            (
                &["manageroles", "manageprofiles", "rolesandprofiles"],
                &mut out.role_profile_management,
            ),
            (
                &[
                    "setup",
                    "managesettings",
                    "administ",
                    "customiz",
                    "managecompany",
                ],
                &mut out.administration,
            ),
            (&["massdelete"], &mut out.mass_delete),
            (&["massupdate", "masstransfer"], &mut out.mass_update),
            (&["export"], &mut out.export),
            (&["import"], &mut out.import),
            (&["backup"], &mut out.data_backup),
            (&["apiaccess", "impliedapi", "restapi"], &mut out.api_access),
        ];
        let mut matched = false;
        for (needles, flag) in flags {
            if needles.iter().any(|n| key.contains(n)) {
                *flag = true;
                matched = true;
            }
        }
        if !matched {
            out.other.push(shown());
        }
    }
    for actions in out.modules.values_mut() {
        actions.sort();
    }
    out.other.sort();
    out
}

/// Why a profile counts as administrator-level (empty: it does not). See
/// [`ADMIN_LEVEL`].
pub fn admin_reasons(name: &str, summary: Option<&PermissionSummary>) -> Vec<String> {
    let mut r = Vec::new();
    if name.eq_ignore_ascii_case("administrator") {
        r.push("the built-in Administrator profile".to_string());
    }
    if let Some(p) = summary {
        if p.administration {
            r.push("can change organisation settings".into());
        }
        if p.user_management {
            r.push("can manage users".into());
        }
        if p.role_profile_management {
            r.push("can manage roles or profiles".into());
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile(enabled: &[&str]) -> Profile {
        let all = [
            "Crm_Implied_Manage_Users",
            "Crm_Implied_Export",
            "Crm_Implied_Mass_Delete",
            "Crm_Implied_Setup",
            "Crm_Implied_Something_New",
        ];
        let mut list: Vec<serde_json::Value> = all
            .iter()
            .map(|n| json!({"name": n, "display_label": n.replace("Crm_Implied_", "").replace('_', " "), "module": null, "enabled": enabled.contains(n)}))
            .collect();
        list.push(json!({"name": "Crm_Implied_View_Contacts", "display_label": "View", "module": "Contacts", "enabled": true}));
        list.push(json!({"name": "Crm_Implied_Delete_Contacts", "display_label": "Delete", "module": {"api_name": "Contacts"}, "enabled": true}));
        serde_json::from_value(json!({"id": "1", "name": "P", "permissions_details": list}))
            .unwrap()
    }

    #[test]
    fn summarises_permissions_for_auditors() {
        let p = summarize(&profile(&[
            "Crm_Implied_Export",
            "Crm_Implied_Something_New",
        ]))
        .unwrap();
        assert!(p.export && !p.user_management && !p.mass_delete && !p.administration);
        assert_eq!(p.modules["Contacts"], vec!["delete", "view"]);
        assert_eq!(p.other, vec!["Something New"]);
        assert_eq!((p.enabled, p.total), (4, 7));
        let p = summarize(&profile(&["Crm_Implied_Manage_Users", "Crm_Implied_Setup"])).unwrap();
        assert!(p.user_management && p.administration);
        assert_eq!(admin_reasons("Helpdesk", Some(&p)).len(), 2);
        let bare: Profile = serde_json::from_value(json!({"id": "1", "name": "x"})).unwrap();
        assert!(summarize(&bare).is_none());
        let empty: Profile =
            serde_json::from_value(json!({"id": "1", "name": "x", "permissions_details": []}))
                .unwrap();
        assert!(
            summarize(&empty).is_none(),
            "an empty list grants nothing known"
        );
    }

    #[test]
    fn a_profile_list_entry_is_read_for_permissions_in_either_field() {
        let flat: Profile = serde_json::from_value(json!({"id": "1", "name": "Ops", "permissions": [
            {"name": "Crm_Implied_Manage_Users", "display_label": "Manage Users", "enabled": true},
            {"name": "Crm_Implied_Export", "enabled": false}
        ]}))
        .unwrap();
        let p = summarize(&flat).expect("read from `permissions`");
        assert!(p.user_management && !p.export);
        assert_eq!(admin_reasons("Ops", Some(&p)), ["can manage users"]);
        let nested: Profile =
            serde_json::from_value(json!({"id": "1", "name": "Ops", "sections": [
                {"name": "setup", "categories": [{"name": "general", "permissions": [
                    {"name": "Crm_Implied_Setup", "enabled": true}
                ]}]}
            ]}))
            .unwrap();
        assert!(
            summarize(&nested)
                .expect("read from `sections`")
                .administration
        );
        let shapeless: Profile = serde_json::from_value(
            json!({"id": "1", "name": "x", "sections": [{"name": "setup"}], "permissions": {}}),
        )
        .unwrap();
        assert!(summarize(&shapeless).is_none());
    }
}
