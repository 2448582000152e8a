//! Typed Bigin records: what this server reads of users, roles, profiles
//! and the organisation. Everything Zoho may omit is an `Option` (or an
//! empty string where "unknown" and "empty" mean the same to every caller),
//! ids arrive as strings or exact numbers, and unknown fields are ignored.
//! Raw JSON is kept only where a tool must return Zoho's record untouched
//! (`bigin_list_users detail=full`, `bigin_get_user`, the org's other fields).

use std::fmt;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A Zoho id as text, whether Zoho sent `"123"` or `123`.
fn de_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(de_opt_id(d)?.unwrap_or_default())
}

fn de_opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        S(String),
        // serde_json keeps integers exact (u64/i64), so a 19-digit id survives.
        N(serde_json::Number),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<Id>::deserialize(d)? {
        Some(Id::S(s)) => Some(s),
        Some(Id::N(n)) => Some(n.to_string()),
        Some(Id::Other(_)) | None => None,
    })
}

/// A string that may be absent or `null`: read as empty.
fn de_str<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// `{id, name}` of a role or profile, as Zoho embeds them in a user.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Ref {
    #[serde(deserialize_with = "de_id", default)]
    pub id: String,
    #[serde(deserialize_with = "de_str", default)]
    pub name: String,
}

/// A user's status. Bigin documents `active`, `inactive` and `deleted`; CRM
/// has more (`disabled`, ...), which are kept as given and never taken for
/// one of the three.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum UserStatus {
    Active,
    Inactive,
    Deleted,
    /// Anything else Zoho says, verbatim; empty when it said nothing.
    Other(String),
    #[default]
    Unknown,
}

impl UserStatus {
    pub fn as_str(&self) -> &str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Inactive => "inactive",
            UserStatus::Deleted => "deleted",
            UserStatus::Other(s) => s,
            UserStatus::Unknown => "",
        }
    }
}

impl From<&str> for UserStatus {
    fn from(s: &str) -> Self {
        match s {
            "active" => UserStatus::Active,
            // CRM's OAS also has `disabled` for a deactivated user.
            "inactive" | "disabled" => UserStatus::Inactive,
            "deleted" => UserStatus::Deleted,
            "" => UserStatus::Unknown,
            other => UserStatus::Other(other.to_string()),
        }
    }
}

impl fmt::Display for UserStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for UserStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for UserStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<String>::deserialize(d)?
            .as_deref()
            .map(UserStatus::from)
            .unwrap_or_default())
    }
}

impl JsonSchema for UserStatus {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "UserStatus".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "description": "active, inactive, deleted (or what Zoho says)"})
    }
}

/// A user as this server reads one: the fields reviews, filters and guards
/// use, about a tenth of Zoho's record. Role and profile are shared between
/// the users of one list (see [`Interner`]), so 50,000 users hold a few
/// dozen of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub full_name: String,
    pub email: String,
    pub status: UserStatus,
    /// Whether the user accepted the invitation; `None` when Zoho did not say.
    pub confirmed: Option<bool>,
    pub role: Option<Arc<Ref>>,
    pub profile: Option<Arc<Ref>>,
    pub zuid: Option<String>,
}

impl User {
    /// Unknown confirmation counts as confirmed: only an explicit `false`
    /// is an open invitation.
    pub fn is_confirmed(&self) -> bool {
        self.confirmed.unwrap_or(true)
    }
}

/// The wire form of a user: only what [`User`] keeps is read.
#[derive(Deserialize)]
struct UserWire {
    #[serde(deserialize_with = "de_id", default)]
    id: String,
    full_name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    #[serde(deserialize_with = "de_str", default)]
    email: String,
    #[serde(default)]
    status: UserStatus,
    confirm: Option<bool>,
    #[serde(default, deserialize_with = "de_ref")]
    role: Option<Ref>,
    #[serde(default, deserialize_with = "de_ref")]
    profile: Option<Ref>,
    #[serde(deserialize_with = "de_opt_id", default)]
    zuid: Option<String>,
}

/// A role/profile reference that may be `null` or not an object.
fn de_ref<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Ref>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(v @ Value::Object(_)) => serde_json::from_value(v).ok(),
        _ => None,
    })
}

/// Shares equal role and profile references between users.
#[derive(Default)]
pub struct Interner(std::collections::HashSet<Arc<Ref>>);

impl Interner {
    fn intern(&mut self, r: Option<Ref>) -> Option<Arc<Ref>> {
        let r = r?;
        if let Some(x) = self.0.get(&r) {
            return Some(Arc::clone(x));
        }
        let a = Arc::new(r);
        self.0.insert(Arc::clone(&a));
        Some(a)
    }
}

impl User {
    /// Reads one user from Zoho's JSON, sharing refs through `interner`.
    pub fn from_json(json: &str, interner: &mut Interner) -> Result<User, serde_json::Error> {
        let w: UserWire = serde_json::from_str(json)?;
        Ok(Self::from_wire(w, interner))
    }

    /// Reads one user from a parsed value.
    pub fn from_value(v: &Value) -> Result<User, serde_json::Error> {
        let w = UserWire::deserialize(v)?;
        Ok(Self::from_wire(w, &mut Interner::default()))
    }

    fn from_wire(w: UserWire, interner: &mut Interner) -> User {
        let full_name = match w.full_name.filter(|n| !n.trim().is_empty()) {
            Some(n) => n,
            None => format!(
                "{} {}",
                w.first_name.unwrap_or_default(),
                w.last_name.unwrap_or_default()
            )
            .trim()
            .to_string(),
        };
        User {
            id: w.id,
            full_name,
            email: w.email,
            status: w.status,
            confirmed: w.confirm,
            role: interner.intern(w.role),
            profile: interner.intern(w.profile),
            zuid: w.zuid,
        }
    }
}

/// A role from `GET /settings/roles`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Role {
    #[serde(deserialize_with = "de_id", default)]
    pub id: String,
    #[serde(deserialize_with = "de_str", default)]
    pub name: String,
    pub display_label: Option<String>,
    #[serde(default, deserialize_with = "de_ref")]
    pub reporting_to: Option<Ref>,
    pub description: Option<String>,
    pub share_with_peers: Option<bool>,
    pub admin_user: Option<bool>,
}

/// A profile from `GET /settings/profiles` (no permissions) or
/// `GET /settings/profiles/{id}` (with `permissions_details`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Profile {
    #[serde(deserialize_with = "de_id", default)]
    pub id: String,
    #[serde(deserialize_with = "de_str", default)]
    pub name: String,
    pub display_label: Option<String>,
    pub description: Option<String>,
    pub custom: Option<bool>,
    /// Only in a single profile's answer.
    pub permissions_details: Option<Vec<Permission>>,
    /// What a profile *list* may carry instead (Bigin's v1 SDK reads
    /// `permissions` and `sections` from it); kept raw, as their shape is
    /// undocumented. See [`Profile::listed_permissions`].
    #[serde(default)]
    pub permissions: Option<Value>,
    #[serde(default)]
    pub sections: Option<Value>,
}

impl Profile {
    /// Every permission-like object (a `name` and a boolean `enabled`)
    /// found anywhere in `permissions` and `sections`; `None` when there is
    /// none, so "carries nothing" is never read as "grants nothing".
    pub fn listed_permissions(&self) -> Option<Vec<Permission>> {
        fn walk(v: &Value, out: &mut Vec<Permission>, depth: usize) {
            if depth > 8 {
                return;
            }
            match v {
                Value::Array(items) => items.iter().for_each(|i| walk(i, out, depth + 1)),
                Value::Object(m) => {
                    let named = m.get("name").is_some_and(Value::is_string);
                    if named && m.get("enabled").is_some_and(Value::is_boolean) {
                        if let Ok(p) = Permission::deserialize(v) {
                            out.push(p);
                        }
                    } else {
                        m.values().for_each(|x| walk(x, out, depth + 1));
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for v in [&self.permissions, &self.sections].into_iter().flatten() {
            walk(v, &mut out, 0);
        }
        (!out.is_empty()).then_some(out)
    }
}

/// One entry of a profile's `permissions_details`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Permission {
    #[serde(deserialize_with = "de_str", default)]
    pub name: String,
    #[serde(deserialize_with = "de_str", default)]
    pub display_label: String,
    /// The module a permission belongs to: Zoho sends a name or an object.
    #[serde(default, deserialize_with = "de_module")]
    pub module: Option<String>,
    pub enabled: Option<bool>,
}

fn de_module<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(m)) if !m.is_empty() => Some(m),
        Some(Value::Object(o)) => o
            .get("api_name")
            .or_else(|| o.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    })
}

/// The organisation from `GET /org`: the fields the guards and the review
/// read, typed; every other field kept as Zoho sent it, for
/// `bigin_get_organization`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Org {
    #[serde(deserialize_with = "de_id", default)]
    pub id: String,
    pub company_name: Option<String>,
    pub primary_email: Option<String>,
    #[serde(deserialize_with = "de_opt_id", default)]
    pub primary_zuid: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disabled_user_is_inactive() {
        // CRM's OAS has `disabled` where Bigin's pages say `inactive`.
        let u = User::from_value(&serde_json::json!({"id": "1", "status": "disabled"})).unwrap();
        assert_eq!(u.status, UserStatus::Inactive);
        assert_eq!(UserStatus::from("inactive"), UserStatus::Inactive);
        assert_eq!(
            UserStatus::from("paused"),
            UserStatus::Other("paused".into())
        );
    }

    #[test]
    fn users_read_what_zoho_may_send() {
        let mut i = Interner::default();
        let u = User::from_json(
            r#"{"id":4876543000000012345,"first_name":"Ada","last_name":"L","email":null,
                "status":"disabled","role":{"id":"1","name":"CEO"},"profile":null,"zuid":77}"#,
            &mut i,
        )
        .unwrap();
        assert_eq!(u.id, "4876543000000012345");
        assert_eq!(u.full_name, "Ada L");
        assert_eq!(u.email, "");
        // CRM's `disabled` is a deactivated user (issue 13 item 4).
        assert_eq!(u.status, UserStatus::Inactive);
        assert!(
            u.is_confirmed(),
            "unknown confirmation is not an open invitation"
        );
        assert_eq!(u.profile, None);
        assert_eq!(u.zuid.as_deref(), Some("77"));
        let v = User::from_json(
            r#"{"id":"2","role":{"id":"1","name":"CEO"},"confirm":false}"#,
            &mut i,
        )
        .unwrap();
        assert!(Arc::ptr_eq(
            u.role.as_ref().unwrap(),
            v.role.as_ref().unwrap()
        ));
        assert!(!v.is_confirmed());
        assert_eq!(v.status, UserStatus::Unknown);
    }

    #[test]
    fn the_org_keeps_every_other_field() {
        let o: Org = serde_json::from_str(
            r#"{"id":"9","company_name":"Acme","primary_email":"a@b.c","primary_zuid":123,"currency":"EUR","license_details":{"paid":true}}"#,
        )
        .unwrap();
        assert_eq!(o.primary_zuid.as_deref(), Some("123"));
        let back = serde_json::to_value(&o).unwrap();
        assert_eq!(back["currency"], "EUR");
        assert_eq!(back["license_details"]["paid"], true);
    }

    #[test]
    fn permission_modules_come_as_names_or_objects() {
        let p: Profile = serde_json::from_str(
            r#"{"id":"1","name":"Admin","permissions_details":[
                {"name":"a","display_label":"A","module":"Contacts","enabled":true},
                {"name":"b","display_label":"B","module":{"api_name":"Deals"},"enabled":false},
                {"name":"c","module":null}]}"#,
        )
        .unwrap();
        let ps = p.permissions_details.unwrap();
        assert_eq!(ps[0].module.as_deref(), Some("Contacts"));
        assert_eq!(ps[1].module.as_deref(), Some("Deals"));
        assert_eq!(ps[2].module, None);
    }
}
