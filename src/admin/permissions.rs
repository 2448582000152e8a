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

/// The sensitive permission categories a review lists per profile, in
/// order: the administrator-level ones, then those that move or destroy
/// data in bulk or outside the app.
pub const SENSITIVE: [&str; 9] = [
    "administration",
    "user_management",
    "role_profile_management",
    "export",
    "mass_delete",
    "mass_update",
    "import",
    "data_backup",
    "api_access",
];

/// Zoho permission names → the category they grant: the one table. A
/// permission matches when its name or label, lower-cased with everything
/// but letters and digits removed, contains the needle. Seeded from the
/// names the sandbox serves (`src/sandbox/seed.rs`, CRM's
/// `Crm_Implied_Manage_Users`, `Crm_Implied_Export`, `Crm_Implied_Mass_Delete`,
/// ...) and CRM's documented labels ("Manage Users", "Mass Delete",
/// "Data Backup", "API Access"); Bigin's own names are unconfirmed, so
/// labels are matched as well as names.
pub const PERMISSION_CATEGORIES: [(&str, &str); 19] = [
    ("manageusers", "user_management"),
    ("usermanagement", "user_management"),
    ("manageroles", "role_profile_management"),
    ("manageprofiles", "role_profile_management"),
    ("rolesandprofiles", "role_profile_management"),
    ("setup", "administration"),
    ("managesettings", "administration"),
    ("administ", "administration"),
    ("customiz", "administration"),
    ("managecompany", "administration"),
    ("massdelete", "mass_delete"),
    ("massupdate", "mass_update"),
    ("masstransfer", "mass_update"),
    ("export", "export"),
    ("import", "import"),
    ("backup", "data_backup"),
    ("apiaccess", "api_access"),
    ("impliedapi", "api_access"),
    ("restapi", "api_access"),
];

impl PermissionSummary {
    fn flag_mut(&mut self, category: &str) -> &mut bool {
        match category {
            "administration" => &mut self.administration,
            "user_management" => &mut self.user_management,
            "role_profile_management" => &mut self.role_profile_management,
            "export" => &mut self.export,
            "mass_delete" => &mut self.mass_delete,
            "mass_update" => &mut self.mass_update,
            "import" => &mut self.import,
            "data_backup" => &mut self.data_backup,
            "api_access" => &mut self.api_access,
            _ => unreachable!("a category of SENSITIVE: {category}"),
        }
    }

    /// Whether the profile grants `category` (one of [`SENSITIVE`]).
    pub fn grants(&self, category: &str) -> bool {
        match category {
            "administration" => self.administration,
            "user_management" => self.user_management,
            "role_profile_management" => self.role_profile_management,
            "export" => self.export,
            "mass_delete" => self.mass_delete,
            "mass_update" => self.mass_update,
            "import" => self.import,
            "data_backup" => self.data_backup,
            "api_access" => self.api_access,
            _ => false,
        }
    }

    /// The [`SENSITIVE`] categories this profile grants, in that order.
    pub fn sensitive(&self) -> Vec<&'static str> {
        SENSITIVE.into_iter().filter(|c| self.grants(c)).collect()
    }
}

/// A profile's sensitive permissions as the review reports them: the list,
/// or `"unknown"` when its permissions could not be read (never an empty
/// list, which would say "none").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Sensitive {
    Known(Vec<&'static str>),
    Unknown(UnknownMarker),
}

/// Serialises as the string `"unknown"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum UnknownMarker {
    #[serde(rename = "unknown")]
    Unknown,
}

impl Sensitive {
    /// For a profile named `name` with `summary` (None: not read). The
    /// built-in Administrator holds every permission whatever is read.
    pub fn of(name: &str, summary: Option<&PermissionSummary>) -> Sensitive {
        if name.eq_ignore_ascii_case("administrator") {
            return Sensitive::Known(SENSITIVE.to_vec());
        }
        match summary {
            Some(s) => Sensitive::Known(s.sensitive()),
            None => Sensitive::Unknown(UnknownMarker::Unknown),
        }
    }

    /// Whether it grants `category`: `None` when unknown.
    pub fn grants(&self, category: &str) -> Option<bool> {
        match self {
            Sensitive::Known(v) => Some(v.contains(&category)),
            Sensitive::Unknown(_) => None,
        }
    }

    /// Space-separated, or `unknown` (the CSV column).
    pub fn label(&self) -> String {
        match self {
            Sensitive::Known(v) => v.join(" "),
            Sensitive::Unknown(_) => "unknown".into(),
        }
    }
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
        let mut matched = false;
        for (needle, category) in PERMISSION_CATEGORIES {
            if key.contains(needle) {
                *out.flag_mut(category) = true;
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

impl crate::admin::session::Session {
    /// What deactivating `user` leaves behind when their profile is
    /// administrator-level, or `None`: Zoho refuses to change a deactivated
    /// user's profile, so the review keeps an `inactive_admin` finding
    /// until they are reactivated, lowered and deactivated again (or
    /// deleted). `can_update` is whether the caller can change profiles.
    pub async fn deactivated_admin_note(
        &self,
        user: &crate::admin::user::ConciseUser,
        can_update: bool,
    ) -> Option<String> {
        let p = user.profile.as_ref()?;
        let summary = match crate::zoho::ZohoId::parse(&p.id, "profile id") {
            Ok(id) => self
                .profile_detail(&id, false)
                .await
                .ok()
                .and_then(|(d, _)| d.as_ref().as_ref().and_then(summarize)),
            Err(_) => None,
        };
        if admin_reasons(&p.name, summary.as_ref()).is_empty() {
            return None;
        }
        let fix = if can_update {
            "reactivate them (bigin_set_user_status active), lower the profile with bigin_update_user, then deactivate again"
        } else {
            "that needs bigin_update_user, which this server does not expose"
        };
        Some(format!(
            "Note: {} keeps the administrator-level profile '{}' while deactivated, and Zoho does not change a deactivated user's profile; the access review will list them as inactive_admin. Next time lower the profile first (bigin_update_user), then deactivate. To clear it now: {fix}.",
            user.full_name, p.name
        ))
    }
}

/// A profile as an auditor reads it: its permission summary when read,
/// and whether it is administrator-level when that was judged.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProfileOut {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_level: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<PermissionSummary>,
}

impl ProfileOut {
    /// With `judged`, says whether the profile is administrator-level.
    pub fn new(p: &Profile, permissions: Option<PermissionSummary>, judged: bool) -> ProfileOut {
        let admin_level = judged.then(|| !admin_reasons(&p.name, permissions.as_ref()).is_empty());
        ProfileOut {
            id: p.id.clone(),
            name: p.name.clone(),
            description: p.description.clone().filter(|d| !d.is_empty()),
            custom: p.custom,
            admin_level,
            permissions,
        }
    }
}

impl crate::admin::session::Session {
    /// Every profile; with `permissions`, each one's permission summary
    /// and whether it is administrator-level (one Zoho read per profile,
    /// cached).
    pub async fn profile_views(
        &self,
        permissions: bool,
    ) -> Result<Vec<ProfileOut>, crate::admin::AdminError> {
        let (profiles, _) = self.profiles(false).await?;
        if !permissions {
            let out = profiles.iter().map(|p| ProfileOut::new(p, None, false));
            return Ok(out.collect());
        }
        let (facts, _) = self.profile_facts(profiles.iter(), false).await;
        let judged = profiles.iter().zip(facts);
        judged
            .map(|(p, f)| Ok(ProfileOut::new(p, f?.summary, true)))
            .collect()
    }

    /// One profile's permission summary, and whether it is
    /// administrator-level.
    pub async fn profile_view(
        &self,
        id: &crate::zoho::ZohoId,
    ) -> Result<ProfileOut, crate::admin::AdminError> {
        let (detail, _) = self.profile_detail(id, false).await?;
        match detail.as_ref() {
            Some(p) => Ok(ProfileOut::new(p, summarize(p), true)),
            None => Err(crate::admin::AdminError::Refused(format!(
                "no profile has id {id}; bigin_list_profiles lists them."
            ))),
        }
    }
}
