//! The Bigin v2 endpoints bigin-mcp calls, as [`BiginClient`] methods: the
//! user list (paged, raw or typed), one user, roles, profiles, the org, and
//! the user writes (status, role/profile, add, delete). Each sends through
//! the client's one `send` and reads the answer with `answers`.

use reqwest::Method;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::answers::{decode_users, id_str, record_outcome, records, the_one, typed};
use super::client::{BiginClient, page_read};
use super::models::{Interner, Org, Profile, Role, User, UserStatus};
use super::{ZohoError, ZohoId};

/// Largest page Zoho serves.
const PER_PAGE: u32 = 200;
/// Stop paging after this many pages (100,000 users): a guard against an API
/// that keeps saying `more_records: true`.
const MAX_PAGES: u32 = 500;

/// Zoho's user-list `type` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
pub enum UserType {
    #[default]
    AllUsers,
    ActiveUsers,
    DeactiveUsers,
    ConfirmedUsers,
    NotConfirmedUsers,
    DeletedUsers,
    ActiveConfirmedUsers,
    AdminUsers,
    ActiveConfirmedAdmins,
    CurrentUser,
}

impl UserType {
    /// The query-string value.
    pub fn as_str(self) -> &'static str {
        match self {
            UserType::AllUsers => "AllUsers",
            UserType::ActiveUsers => "ActiveUsers",
            UserType::DeactiveUsers => "DeactiveUsers",
            UserType::ConfirmedUsers => "ConfirmedUsers",
            UserType::NotConfirmedUsers => "NotConfirmedUsers",
            UserType::DeletedUsers => "DeletedUsers",
            UserType::ActiveConfirmedUsers => "ActiveConfirmedUsers",
            UserType::AdminUsers => "AdminUsers",
            UserType::ActiveConfirmedAdmins => "ActiveConfirmedAdmins",
            UserType::CurrentUser => "CurrentUser",
        }
    }
}
/// One page of `GET /users`, each user still raw JSON.
#[derive(Debug)]
pub struct RawUsersPage {
    pub users: Vec<Box<RawValue>>,
    pub more_records: bool,
}
fn too_many_pages() -> ZohoError {
    ZohoError::Decode {
        what: "the user list".into(),
        message: format!("more than {MAX_PAGES} pages; stopped paging"),
    }
}
/// The success element of a write (`{"code":"SUCCESS","details":..,"message":..}`).
#[derive(Debug, Clone, Serialize)]
pub struct RecordOutcome {
    pub code: String,
    pub message: String,
}

/// How a role or profile travels in a write body. Bigin documents neither:
/// CRM v2 sends the id as a string, CRM v8 as an object, and a Zoho that
/// expects one may silently ignore the other while answering SUCCESS, so
/// writes are read back and the other form tried once (see `admin::guard`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefForm {
    /// `"role": "<id>"` (CRM v2).
    #[default]
    IdString,
    /// `"role": {"id": "<id>"}` (CRM v8).
    Object,
}

impl RefForm {
    /// The form to try when this one did not take.
    pub fn other(self) -> RefForm {
        match self {
            RefForm::IdString => RefForm::Object,
            RefForm::Object => RefForm::IdString,
        }
    }

    /// The JSON for `id` in this form.
    pub fn value(self, id: &ZohoId) -> Value {
        match self {
            RefForm::IdString => id.as_str().into(),
            RefForm::Object => json!({ "id": id.as_str() }),
        }
    }

    /// How a message names the form.
    pub fn describe(self) -> &'static str {
        match self {
            RefForm::IdString => "id strings",
            RefForm::Object => "{\"id\":…} objects",
        }
    }
}

/// A user to add (`POST /users`): role and profile are ids.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub first_name: Option<&'a str>,
    pub last_name: &'a str,
    pub email: &'a str,
    pub role: ZohoId,
    pub profile: ZohoId,
}
impl BiginClient {
    /// One page of users as raw JSON, one slice per user: a tenth of the
    /// memory of parsed values, for callers that need only a few fields.
    pub async fn list_users_page_raw(
        &self,
        ty: UserType,
        page: u32,
        per_page: u32,
    ) -> Result<RawUsersPage, ZohoError> {
        #[derive(Deserialize)]
        struct Info {
            more_records: Option<bool>,
        }
        // The error fields sit beside `users`: Zoho sends request-level
        // errors inside HTTP 200 too, and one read must see both.
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            users: Option<Vec<Box<RawValue>>>,
            info: Option<Info>,
            code: Option<String>,
            status: Option<String>,
            message: Option<String>,
            details: Option<Value>,
        }
        let query = [
            ("type", ty.as_str().to_string()),
            ("page", page.to_string()),
            ("per_page", per_page.to_string()),
        ];
        let Some(bytes) = self.send_raw(Method::GET, "/users", &query, None).await? else {
            // 204: Zoho's own way of saying "no users" (or no more pages).
            return Ok(RawUsersPage {
                users: vec![],
                more_records: false,
            });
        };
        let p: Page = serde_json::from_slice(&bytes).map_err(|e| decode_users(&e))?;
        if p.status.as_deref() == Some("error") || (p.users.is_none() && p.code.is_some()) {
            return Err(ZohoError::api(
                200,
                p.code.as_deref().unwrap_or("UNKNOWN"),
                p.message.as_deref().unwrap_or(""),
                p.details.unwrap_or(Value::Null),
            ));
        }
        let Some(users) = p.users else {
            return Err(ZohoError::Decode {
                what: "the user list".into(),
                message: "the answer has no `users` list, so it cannot say whether there are users; nothing is reported as empty without Zoho saying so".into(),
            });
        };
        let more_records = match p.info.as_ref().and_then(|i| i.more_records) {
            Some(m) => m,
            // An empty list is "no users" only with its `info`; Zoho's
            // usual "none" is a 204, so a bare `[]` is not trusted.
            None if users.is_empty() => {
                return Err(ZohoError::Decode {
                    what: "the user list".into(),
                    message: "an empty `users` list without its `info` block; Zoho says \"no users\" with HTTP 204, so this answer is not read as none".into(),
                });
            }
            // No `info`: assume a full page means there may be more.
            None => users.len() as u32 >= per_page,
        };
        Ok(RawUsersPage {
            users,
            more_records,
        })
    }

    /// Fetches every page of users of a type, each user read into a
    /// [`User`] as its page arrives, so at most one page is ever held raw.
    pub async fn list_users(&self, ty: UserType) -> Result<Vec<User>, ZohoError> {
        let mut all = Vec::new();
        let mut interner = Interner::default();
        for page in 1..=MAX_PAGES {
            let p = self.list_users_page_raw(ty, page, PER_PAGE).await?;
            let done = !p.more_records || p.users.is_empty();
            for raw in p.users {
                all.push(User::from_json(raw.get(), &mut interner).map_err(|e| decode_users(&e))?);
            }
            page_read(page, all.len());
            if done {
                return Ok(all);
            }
        }
        Err(too_many_pages())
    }

    /// Calls `f` with each page of raw users in turn, for callers that must
    /// return some records exactly as Zoho sent them. `f` returns false to
    /// stop paging early.
    pub async fn for_each_users_page(
        &self,
        ty: UserType,
        mut f: impl FnMut(Vec<Box<RawValue>>) -> Result<bool, ZohoError>,
    ) -> Result<(), ZohoError> {
        let mut read = 0;
        for page in 1..=MAX_PAGES {
            let p = self.list_users_page_raw(ty, page, PER_PAGE).await?;
            let done = !p.more_records || p.users.is_empty();
            read += p.users.len();
            page_read(page, read);
            if !f(p.users)? || done {
                return Ok(());
            }
        }
        Err(too_many_pages())
    }

    /// Fetches one user; `None` when Zoho has no such user (HTTP 204).
    pub async fn get_user(&self, id: &ZohoId) -> Result<Option<Value>, ZohoError> {
        let path = format!("/users/{id}");
        let Some(body) = self.send(Method::GET, &path, &[], None).await? else {
            return Ok(None);
        };
        // Zoho has been seen answering an odd id with the *current* user:
        // never act on a record other than the one asked for.
        the_one(body, "users", id, &format!("user {id}")).map(Some)
    }

    /// `GET /settings/roles`.
    pub async fn list_roles(&self) -> Result<Vec<Role>, ZohoError> {
        match self.send(Method::GET, "/settings/roles", &[], None).await? {
            Some(body) => typed(records(body, "roles", "the role list")?, "the role list"),
            None => Ok(vec![]),
        }
    }

    /// `GET /settings/profiles`.
    pub async fn list_profiles(&self) -> Result<Vec<Profile>, ZohoError> {
        match self
            .send(Method::GET, "/settings/profiles", &[], None)
            .await?
        {
            Some(body) => typed(
                records(body, "profiles", "the profile list")?,
                "the profile list",
            ),
            None => Ok(vec![]),
        }
    }

    /// `GET /settings/profiles/{id}`, with `permissions_details`; `None` if unknown.
    pub async fn get_profile(&self, id: &ZohoId) -> Result<Option<Profile>, ZohoError> {
        let path = format!("/settings/profiles/{id}");
        let what = format!("profile {id}");
        match self.send(Method::GET, &path, &[], None).await? {
            Some(body) => {
                let one = the_one(body, "profiles", id, &what)?;
                Ok(typed(vec![one], &what)?.pop())
            }
            None => Ok(None),
        }
    }

    /// `GET /org` (Zoho wraps the one organisation in an array).
    pub async fn get_org(&self) -> Result<Org, ZohoError> {
        let what = "the organisation";
        let Some(body) = self.send(Method::GET, "/org", &[], None).await? else {
            return Err(ZohoError::Decode {
                what: what.into(),
                message: "Zoho answered with no organisation record (HTTP 204 or an empty body)"
                    .into(),
            });
        };
        let list = records(body, "org", what)?;
        match list.len() {
            1 if list[0].is_object() => Ok(typed(list, what)?.remove(0)),
            n => Err(ZohoError::Decode {
                what: what.into(),
                message: format!("expected one organisation record in `org`, got {n}"),
            }),
        }
    }

    /// `PUT /users/{id}` with `{"status": status}`: only `Active` or
    /// `Inactive` can be set this way (deletion is [`Self::delete_user`]).
    pub async fn set_user_status(
        &self,
        id: &ZohoId,
        status: UserStatus,
    ) -> Result<RecordOutcome, ZohoError> {
        if !matches!(status, UserStatus::Active | UserStatus::Inactive) {
            return Err(ZohoError::Decode {
                what: "the status change".into(),
                message: format!(
                    "status '{status}' cannot be set; only active or inactive (nothing was sent)"
                ),
            });
        }
        let body = json!({ "users": [ { "id": id.as_str(), "status": status.as_str() } ] });
        let path = format!("/users/{id}");
        let answer = self.send(Method::PUT, &path, &[], Some(&body)).await?;
        record_outcome(answer, "users", id, "the status change")
    }

    /// `PUT /users/{id}` with a new role and/or profile id as strings
    /// (shared notes 4.3).
    pub async fn update_user(
        &self,
        id: &ZohoId,
        role: Option<&ZohoId>,
        profile: Option<&ZohoId>,
    ) -> Result<RecordOutcome, ZohoError> {
        self.update_user_as(id, role, profile, RefForm::IdString)
            .await
    }

    /// `PUT /users/{id}` with a new role and/or profile in `form`.
    pub async fn update_user_as(
        &self,
        id: &ZohoId,
        role: Option<&ZohoId>,
        profile: Option<&ZohoId>,
        form: RefForm,
    ) -> Result<RecordOutcome, ZohoError> {
        let mut user = serde_json::Map::new();
        user.insert("id".into(), id.as_str().into());
        if let Some(r) = role {
            user.insert("role".into(), form.value(r));
        }
        if let Some(p) = profile {
            user.insert("profile".into(), form.value(p));
        }
        let body = json!({ "users": [ user ] });
        let path = format!("/users/{id}");
        let answer = self.send(Method::PUT, &path, &[], Some(&body)).await?;
        record_outcome(answer, "users", id, "the role/profile change")
    }

    /// `POST /users` with one user (shared notes 4.2); returns the new id.
    /// Zoho invites the person by email; they stay unconfirmed until they
    /// accept.
    pub async fn create_user(
        &self,
        user: &NewUser<'_>,
    ) -> Result<(ZohoId, RecordOutcome), ZohoError> {
        self.create_user_as(user, RefForm::IdString).await
    }

    /// `POST /users` with the role and profile in `form`.
    pub async fn create_user_as(
        &self,
        user: &NewUser<'_>,
        form: RefForm,
    ) -> Result<(ZohoId, RecordOutcome), ZohoError> {
        let mut u = serde_json::Map::new();
        if let Some(f) = user.first_name {
            u.insert("first_name".into(), f.into());
        }
        u.insert("last_name".into(), user.last_name.into());
        u.insert("email".into(), user.email.into());
        u.insert("role".into(), form.value(&user.role));
        u.insert("profile".into(), form.value(&user.profile));
        let body = json!({ "users": [ u ] });
        let what = "the new user";
        let answer = self.send(Method::POST, "/users", &[], Some(&body)).await?;
        let Some(body) = answer else {
            return Err(ZohoError::Decode {
                what: what.into(),
                message: "Zoho answered with no body; check the user list before retrying".into(),
            });
        };
        let list = records(body, "users", what)?;
        let [rec] = list.as_slice() else {
            return Err(ZohoError::Decode {
                what: what.into(),
                message: format!(
                    "expected one `users` result element, got {}; check the user list before retrying",
                    list.len()
                ),
            });
        };
        let field = |k: &str| rec.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        match rec.get("status").and_then(Value::as_str) {
            Some("success") => {
                let id = rec
                    .get("details")
                    .and_then(|d| d.get("id"))
                    .and_then(id_str)
                    .and_then(|i| ZohoId::parse(&i, "id").ok())
                    .ok_or_else(|| ZohoError::Decode {
                        what: what.into(),
                        message: "Zoho reported success without the new user's id; check the user list before retrying".into(),
                    })?;
                Ok((
                    id,
                    RecordOutcome {
                        code: field("code"),
                        message: field("message"),
                    },
                ))
            }
            Some("error") => Err(ZohoError::Record {
                code: field("code"),
                message: field("message"),
                details: rec.get("details").cloned().unwrap_or(Value::Null),
            }),
            _ => Err(ZohoError::Decode {
                what: what.into(),
                message: "the result element has no status; check the user list before retrying"
                    .into(),
            }),
        }
    }

    /// `DELETE /users/{id}`.
    pub async fn delete_user(&self, id: &ZohoId) -> Result<RecordOutcome, ZohoError> {
        let path = format!("/users/{id}");
        let answer = self.send(Method::DELETE, &path, &[], None).await?;
        record_outcome(answer, "users", id, "the deletion")
    }
}
