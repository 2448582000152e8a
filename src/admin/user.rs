//! The people and records the services talk about, shared by `admin` and
//! whatever presents it (`mcp`, the CLI): the concise user, and the trait
//! that lets roles and profiles be looked up by name or id.

use schemars::JsonSchema;
use serde::Serialize;

use crate::zoho::{Profile, Ref, Role, User};

/// The fields an admin scans a user by.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq, Eq)]
pub struct ConciseUser {
    pub id: String,
    pub full_name: String,
    pub email: String,
    pub status: String,
    pub role: Option<Ref>,
    pub profile: Option<Ref>,
}

impl From<&User> for ConciseUser {
    fn from(u: &User) -> Self {
        ConciseUser {
            id: u.id.clone(),
            full_name: u.full_name.clone(),
            email: u.email.clone(),
            status: u.status.to_string(),
            role: u.role.as_deref().cloned(),
            profile: u.profile.as_deref().cloned(),
        }
    }
}

/// "1 user", "2 users".
pub fn plural_users(n: usize) -> String {
    if n == 1 {
        "1 user".into()
    } else {
        format!("{n} users")
    }
}

/// A role or profile, for name-or-id lookups.
pub trait Named {
    fn id(&self) -> &str;
    fn name(&self) -> &str;
    fn label(&self) -> Option<&str>;
}

impl Named for Role {
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn label(&self) -> Option<&str> {
        self.display_label.as_deref()
    }
}

impl Named for Ref {
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn label(&self) -> Option<&str> {
        None
    }
}

impl Named for Profile {
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn label(&self) -> Option<&str> {
        self.display_label.as_deref()
    }
}
