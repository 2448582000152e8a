//! Finding people and the records they hold: roles and profiles by name or
//! id, and users by profile, role, status and a search that ignores accents
//! and case, paged. What `bigin_list_users` answers, without MCP.

use serde_json::{Map, Value};

use super::error::AdminError;
use super::session::Session;
use super::text::fold_for_match;
use super::user::Named;
use crate::zoho::{Interner, Ref, User, UserStatus, UserType, ZohoError, ZohoId, decode_users};

/// Finds a role or profile by id or case-insensitive name. A miss, or a
/// name two records share, is an error listing the valid choices.
pub fn resolve<'a, T: Named>(
    records: &'a [T],
    wanted: &str,
    kind: &str,
    list_tool: &str,
) -> Result<&'a T, String> {
    let w = wanted.trim();
    if ZohoId::parse(w, "id").is_ok()
        && let Some(r) = records.iter().find(|r| r.id() == w)
    {
        return Ok(r);
    }
    let by_name: Vec<&T> = records
        .iter()
        .filter(|r| {
            r.name().eq_ignore_ascii_case(w) || r.label().is_some_and(|l| l.eq_ignore_ascii_case(w))
        })
        .collect();
    match by_name.as_slice() {
        [one] => Ok(one),
        [] => {
            let mut names: Vec<&str> = records.iter().map(Named::name).collect();
            names.sort();
            Err(format!(
                "unknown {kind} '{w}'. Valid {kind}s: {}. Pass a name (any case) or an id; {list_tool} lists them with ids.",
                names.join(", ")
            ))
        }
        many => {
            let choices: Vec<String> = many
                .iter()
                .map(|r| format!("{} ({})", r.name(), r.id()))
                .collect();
            Err(format!(
                "{kind} '{w}' is ambiguous: {} share it. Pass the id instead.",
                choices.join(", ")
            ))
        }
    }
}

/// The two lists a user's place in the organisation is named from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    Role,
    Profile,
}

impl Session {
    /// The role or profile `wanted` names (a name in any case, or an id).
    /// An unknown or ambiguous name is refused with the valid choices,
    /// followed by `then`: what the refusal means for the call ("Nothing
    /// was changed.").
    pub async fn named_ref(
        &self,
        list: Listed,
        wanted: &str,
        fresh: bool,
        then: &str,
    ) -> Result<Ref, AdminError> {
        fn found<T: Named>(r: &T) -> Ref {
            Ref {
                id: r.id().to_string(),
                name: r.name().to_string(),
            }
        }
        let got = match list {
            Listed::Role => {
                let (roles, _) = self.roles(fresh).await?;
                resolve(&roles, wanted, "role", "bigin_list_roles").map(found)
            }
            Listed::Profile => {
                let (profiles, _) = self.profiles(fresh).await?;
                resolve(&profiles, wanted, "profile", "bigin_list_profiles").map(found)
            }
        };
        got.map_err(|e| AdminError::Refused(format!("{e} {then}").trim_end().to_string()))
    }
}

impl Session {
    /// One user's record as Zoho sent it; an id nobody has is refused
    /// with how to find the right one.
    pub async fn user_record(&self, id: &ZohoId) -> Result<Map<String, Value>, AdminError> {
        match self.client().get_user(id).await? {
            Some(Value::Object(user)) => Ok(user),
            Some(_) => Err(AdminError::Refused(format!(
                "Zoho's record for user {id} is not an object"
            ))),
            None => Err(AdminError::Refused(format!(
                "no user has id {id}; find the id with bigin_list_users (search by name or email)."
            ))),
        }
    }
}

/// Which users a listing keeps, with role and profile resolved to ids and
/// the search folded once (see [`fold_for_match`]).
#[derive(Debug, Default)]
pub struct UserFilter {
    pub profile: Option<String>,
    pub role: Option<String>,
    pub status: Option<UserStatus>,
    /// Folded; `None` for no search.
    pub search: Option<String>,
}

impl UserFilter {
    /// The search as typed, folded for matching; blank means none.
    pub fn search_for(typed: Option<&str>) -> Option<String> {
        typed
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(fold_for_match)
    }

    /// Whether `u` passes every filter. Names are folded (accents, case),
    /// emails only lowercased.
    pub fn keep(&self, u: &User) -> bool {
        fn id(r: &Option<std::sync::Arc<crate::zoho::Ref>>) -> Option<&str> {
            r.as_ref().map(|x| x.id.as_str())
        }
        self.profile
            .as_deref()
            .is_none_or(|p| id(&u.profile) == Some(p))
            && self.role.as_deref().is_none_or(|r| id(&u.role) == Some(r))
            && self.status.as_ref().is_none_or(|s| &u.status == s)
            && self.search.as_ref().is_none_or(|q| {
                fold_for_match(&u.full_name).contains(q.as_str())
                    || u.email.to_lowercase().contains(q.trim())
            })
    }
}

/// One page of matching users: how many match in all, and the page.
pub struct Found<T> {
    pub total: usize,
    pub page: Vec<T>,
}

impl Session {
    /// Matching users from the session cache, `limit` from `offset`.
    pub async fn find_users(
        &self,
        ty: UserType,
        filter: &UserFilter,
        offset: usize,
        limit: usize,
        fresh: bool,
    ) -> Result<Found<User>, ZohoError> {
        let (users, _) = self.users(ty, fresh).await?;
        let matching: Vec<&User> = users.iter().filter(|u| filter.keep(u)).collect();
        Ok(Found {
            total: matching.len(),
            page: matching
                .into_iter()
                .skip(offset)
                .take(limit)
                .cloned()
                .collect(),
        })
    }

    /// Matching users' records exactly as Zoho sent them, read page by page
    /// past the cache, so memory holds one Zoho page and the kept records.
    pub async fn find_user_records(
        &self,
        ty: UserType,
        filter: &UserFilter,
        offset: usize,
        limit: usize,
    ) -> Result<Found<Map<String, Value>>, ZohoError> {
        let mut kept: Vec<Map<String, Value>> = Vec::new();
        let mut total = 0usize;
        let mut interner = Interner::default();
        self.client()
            .for_each_users_page(ty, |raws| {
                for raw in raws {
                    let u =
                        User::from_json(raw.get(), &mut interner).map_err(|e| decode_users(&e))?;
                    if !filter.keep(&u) {
                        continue;
                    }
                    if total >= offset && kept.len() < limit {
                        kept.push(serde_json::from_str(raw.get()).map_err(|e| decode_users(&e))?);
                    }
                    total += 1;
                }
                Ok(true)
            })
            .await?;
        Ok(Found { total, page: kept })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zoho::Role;

    #[test]
    fn resolves_names_and_ids_and_lists_valid_names_on_a_miss() {
        let role = |id: &str, name: &str| -> Role {
            serde_json::from_value(serde_json::json!({"id": id, "name": name})).unwrap()
        };
        let roles = vec![
            role("1", "CEO"),
            role("2", "Manager"),
            role("3", "Twin"),
            role("4", "twin"),
        ];
        assert_eq!(
            resolve(&roles, "manager", "role", "bigin_list_roles")
                .unwrap()
                .id,
            "2"
        );
        assert_eq!(
            resolve(&roles, "1", "role", "bigin_list_roles")
                .unwrap()
                .name,
            "CEO"
        );
        let e = resolve(&roles, "Boss", "role", "bigin_list_roles").unwrap_err();
        assert!(e.contains("'Boss'") && e.contains("CEO, Manager"), "{e}");
        let e = resolve(&roles, "TWIN", "role", "bigin_list_roles").unwrap_err();
        assert!(
            e.contains("ambiguous") && e.contains("(3)") && e.contains("(4)"),
            "{e}"
        );
    }
}
