//! The seeded demo organisation: roles, profiles with their permissions,
//! users (450 by default, any number on request) and the org record, plus
//! how each renders as Bigin v2 JSON.
//!
//! Everything here is generated from a fixed seed, so every sandbox start
//! serves byte-for-byte the same data (apart from records that writes have
//! touched or added). Tests and the `--demo` walkthrough rely on that: the
//! users an access review must flag sit at fixed positions and have fixed
//! names, spread over all three pages of `GET /users?per_page=200`.
//!
//! Orgs of other sizes (scale tests, the benchmark) keep those 450 users as
//! they are: a larger org continues the same random stream after them, with
//! statuses in about the same proportions, and a smaller one is the first N
//! of the 450. Generation is linear in N (50,000 users take a fraction of a
//! second in release builds).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration as ChronoDuration, FixedOffset, TimeZone, Timelike};
use serde_json::{Value, json};

/// Shared prefix of every id in the org, like the `7618134000000` part of real
/// Bigin ids. 13 digits + 6 = 19 digits, well below `i64::MAX` (9.2e18).
const ID_PREFIX: u64 = 4_876_543_000_000_000_000;
const ORG_ID: u64 = ID_PREFIX + 20_001;
const FIRST_ROLE_ID: u64 = ID_PREFIX + 26_005;
const FIRST_PROFILE_ID: u64 = ID_PREFIX + 26_101;
const FIRST_PERMISSION_ID: u64 = ID_PREFIX + 27_001;
const FIRST_USER_ID: u64 = ID_PREFIX + 627_001;

/// Number of users in the default org; with `per_page=200` that makes three
/// pages.
pub const DEFAULT_USER_COUNT: usize = 450;
/// The org's (fictional, RFC 2606 reserved) mail domain.
pub const ORG_DOMAIN: &str = "northwind.example";
const SEED: u64 = 0xB161_5EED_2024;

/// Index of the module permissions within one module: View, Create, Edit, Delete.
const MODULE_ACTIONS: [&str; 4] = ["View", "Create", "Edit", "Delete"];
/// (api name, display label) of each module that has record permissions.
const MODULES: [(&str, &str); 7] = [
    ("Contacts", "Contacts"),
    ("Accounts", "Companies"),
    ("Pipelines", "Pipelines"),
    ("Products", "Products"),
    ("Tasks", "Tasks"),
    ("Events", "Events"),
    ("Calls", "Calls"),
];
/// (permission name, display label, general-section category) of the
/// permissions that are not tied to a module.
const GENERAL_PERMISSIONS: [(&str, &str, &str); 10] = [
    ("Crm_Implied_Manage_Users", "Manage Users", "Setup"),
    ("Crm_Implied_Manage_Roles", "Manage Roles", "Setup"),
    ("Crm_Implied_Manage_Profiles", "Manage Profiles", "Setup"),
    ("Crm_Implied_Setup", "Manage Settings / Setup", "Setup"),
    ("Crm_Implied_Export", "Export", "Data Administration"),
    ("Crm_Implied_Import", "Import", "Data Administration"),
    (
        "Crm_Implied_Mass_Delete",
        "Mass Delete",
        "Data Administration",
    ),
    (
        "Crm_Implied_Mass_Update",
        "Mass Update",
        "Data Administration",
    ),
    (
        "Crm_Implied_Data_Backup",
        "Data Backup",
        "Data Administration",
    ),
    ("Crm_Implied_API_Access", "API Access", "Developer"),
];

#[derive(Debug, Clone)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: String,
    pub share_with_peers: bool,
    pub reporting_to: Option<usize>,
    pub admin_user: bool,
}

#[derive(Debug, Clone)]
pub struct Permission {
    pub id: String,
    pub name: String,
    pub display_label: String,
    pub module: Option<&'static str>,
    /// Ids of the permissions this one requires (Create/Edit/Delete need View).
    pub parents: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub description: String,
    pub custom: bool,
    /// (created_time, modified_time) for custom profiles; defaults have none.
    pub times: Option<(String, String)>,
    /// Enabled flag for each permission, in the order of `Org::permissions`.
    pub enabled: Vec<bool>,
}

/// A user as the sandbox stores it. Only what writes can change is mutable in
/// practice; everything else is rendered as-is.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: String,
    /// Set when the display order differs from "first last" (CJK names).
    pub full_name_override: Option<String>,
    pub email: String,
    pub status: String,
    pub confirm: bool,
    pub zuid: String,
    pub is_online: bool,
    pub role: usize,
    pub profile: usize,
    pub created_time: String,
    pub modified_time: String,
    pub modified_by: usize,
    pub time_zone: &'static str,
    pub offset_ms: i64,
    pub locale: &'static str,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    /// Free-form text fields a PUT may set (fax, website, dob, street, state, zip).
    pub extra: serde_json::Map<String, Value>,
}

impl User {
    pub fn full_name(&self) -> String {
        if let Some(full) = &self.full_name_override {
            return full.clone();
        }
        match &self.first_name {
            Some(first) => format!("{first} {}", self.last_name),
            None => self.last_name.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Org {
    pub roles: Vec<Role>,
    pub permissions: Vec<Permission>,
    pub profiles: Vec<Profile>,
    /// Sorted by id (ascending), which is also the API's listing order.
    pub users: Vec<User>,
    /// Index of the primary user in `users`.
    pub primary: usize,
    /// User licences purchased (also the org's `employee_count`).
    pub licenses: usize,
    /// The organisation's `company_name`.
    pub company: String,
}

/// The demo organisation's name.
pub const COMPANY: &str = "Northwind Trading Co.";

/// Role indexes, named so the seed below reads like an org chart.
mod role {
    pub const CEO: usize = 0;
    pub const VP_SALES: usize = 1;
    pub const VP_OPERATIONS: usize = 2;
    pub const SALES_MANAGER_EMEA: usize = 3;
    pub const SALES_MANAGER_AMERICAS: usize = 4;
    pub const SUPPORT_MANAGER: usize = 5;
    pub const FINANCE_MANAGER: usize = 6;
    pub const SALES_REP_EMEA: usize = 7;
    pub const SALES_REP_AMERICAS: usize = 8;
    pub const SUPPORT_AGENT: usize = 9;
    pub const ACCOUNTANT: usize = 10;
    pub const SALES_INTERN: usize = 11;
    pub const SUPPORT_INTERN: usize = 12;
}

/// Profile indexes.
pub mod profile {
    pub const ADMINISTRATOR: usize = 0;
    pub const STANDARD: usize = 1;
    pub const SALES_ADMIN: usize = 2;
    pub const SUPPORT: usize = 3;
    pub const READ_ONLY: usize = 4;
    pub const FINANCE_AUDITOR: usize = 5;
}

fn id(n: u64) -> String {
    n.to_string()
}

fn org_time(days: i64, secs: i64) -> DateTime<FixedOffset> {
    // The org lives in Asia/Kolkata, so timestamps carry +05:30 like the docs.
    let ist = FixedOffset::east_opt(5 * 3600 + 1800).expect("valid offset");
    let start = ist
        .with_ymd_and_hms(2021, 1, 4, 9, 15, 0)
        .single()
        .expect("valid start date");
    start + ChronoDuration::days(days) + ChronoDuration::seconds(secs)
}

/// ISO-8601 with the numeric offset, e.g. `2021-01-04T09:15:00+05:30`.
pub fn format_time(t: &DateTime<FixedOffset>) -> String {
    // By hand rather than with `format("%Y-%m-%dT%H:%M:%S%:z")`, which
    // parses its pattern on every call: a 50,000-user org formats 100,000
    // timestamps at start-up. Same output (the fingerprint test pins it).
    let offset = t.offset().local_minus_utc();
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.unsigned_abs() / 60;
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        offset / 60,
        offset % 60
    )
}

/// Now, in the org's time zone, formatted like every other timestamp.
pub fn now_string() -> String {
    let ist = FixedOffset::east_opt(5 * 3600 + 1800).expect("valid offset");
    format_time(&chrono::Utc::now().with_timezone(&ist))
}

fn seed_roles() -> Vec<Role> {
    let spec: [(&str, &str, bool, Option<usize>); 13] = [
        (
            "CEO",
            "Users with this role have access to the data owned by all other users.",
            true,
            None,
        ),
        (
            "VP Sales",
            "Heads the sales organisation.",
            true,
            Some(role::CEO),
        ),
        (
            "VP Operations",
            "Heads support and finance.",
            true,
            Some(role::CEO),
        ),
        (
            "Sales Manager EMEA",
            "Manages the EMEA sales team.",
            false,
            Some(role::VP_SALES),
        ),
        (
            "Sales Manager Americas",
            "Manages the Americas sales team.",
            false,
            Some(role::VP_SALES),
        ),
        (
            "Support Manager",
            "Runs customer support.",
            false,
            Some(role::VP_OPERATIONS),
        ),
        (
            "Finance Manager",
            "Runs billing and finance.",
            false,
            Some(role::VP_OPERATIONS),
        ),
        (
            "Sales Rep EMEA",
            "Sells to customers in Europe, the Middle East and Africa.",
            false,
            Some(role::SALES_MANAGER_EMEA),
        ),
        (
            "Sales Rep Americas",
            "Sells to customers in North and South America.",
            false,
            Some(role::SALES_MANAGER_AMERICAS),
        ),
        (
            "Support Agent",
            "Answers customer tickets.",
            false,
            Some(role::SUPPORT_MANAGER),
        ),
        (
            "Accountant",
            "Keeps the books.",
            false,
            Some(role::FINANCE_MANAGER),
        ),
        (
            "Sales Intern",
            "Assists the EMEA sales reps.",
            false,
            Some(role::SALES_REP_EMEA),
        ),
        (
            "Support Intern",
            "Assists the support agents.",
            false,
            Some(role::SUPPORT_AGENT),
        ),
    ];
    spec.iter()
        .enumerate()
        .map(|(i, (name, description, share, reporting_to))| Role {
            id: id(FIRST_ROLE_ID + 3 * i as u64),
            name: (*name).to_string(),
            description: (*description).to_string(),
            share_with_peers: *share,
            reporting_to: *reporting_to,
            admin_user: i == role::CEO,
        })
        .collect()
}

fn seed_permissions() -> Vec<Permission> {
    let mut perms = Vec::new();
    let mut next = FIRST_PERMISSION_ID;
    for (module, _label) in MODULES {
        let view_id = id(next);
        for action in MODULE_ACTIONS {
            let parents = if action == "View" {
                Vec::new()
            } else {
                vec![view_id.clone()]
            };
            perms.push(Permission {
                id: id(next),
                name: format!("Crm_Implied_{action}_{module}"),
                display_label: action.to_string(),
                module: Some(module),
                parents,
            });
            next += 1;
        }
    }
    for (name, label, _category) in GENERAL_PERMISSIONS {
        perms.push(Permission {
            id: id(next),
            name: name.to_string(),
            display_label: label.to_string(),
            module: None,
            parents: Vec::new(),
        });
        next += 1;
    }
    perms
}

fn seed_profiles(perms: &[Permission]) -> Vec<Profile> {
    // Decides each permission for a profile from its (module, action) or name.
    fn grants(perms: &[Permission], rule: impl Fn(&Permission) -> bool) -> Vec<bool> {
        perms.iter().map(rule).collect()
    }
    /// "View"/"Create"/"Edit"/"Delete" of a module permission.
    fn action(p: &Permission) -> &str {
        p.name
            .strip_prefix("Crm_Implied_")
            .and_then(|rest| rest.split('_').next())
            .unwrap_or("")
    }
    let created = |days: i64| {
        let c = format_time(&org_time(days, 3_600));
        let m = format_time(&org_time(days + 40, 7_200));
        Some((c, m))
    };
    vec![
        Profile {
            id: id(FIRST_PROFILE_ID),
            name: "Administrator".into(),
            description: "This profile will have all the permissions. Users with Administrator profile will be able to view and manage all the data within the organization account by default.".into(),
            custom: false,
            times: None,
            enabled: grants(perms, |_| true),
        },
        Profile {
            id: id(FIRST_PROFILE_ID + 3),
            name: "Standard".into(),
            description: "This profile will have all the permissions except administrative privileges.".into(),
            custom: false,
            times: None,
            enabled: grants(perms, |p| {
                p.module.is_some()
                    || matches!(
                        p.name.as_str(),
                        "Crm_Implied_Import" | "Crm_Implied_Mass_Update" | "Crm_Implied_API_Access"
                    )
            }),
        },
        Profile {
            id: id(FIRST_PROFILE_ID + 6),
            name: "Sales Admin".into(),
            description: "Sales operations: manages users and exports data.".into(),
            custom: true,
            times: created(30),
            enabled: grants(perms, |p| {
                p.module.is_some()
                    || !matches!(
                        p.name.as_str(),
                        "Crm_Implied_Manage_Roles"
                            | "Crm_Implied_Manage_Profiles"
                            | "Crm_Implied_Setup"
                            | "Crm_Implied_Data_Backup"
                    )
            }),
        },
        Profile {
            id: id(FIRST_PROFILE_ID + 9),
            name: "Support".into(),
            description: "Support agents: work contacts and activities, never delete.".into(),
            custom: true,
            times: created(45),
            enabled: grants(perms, |p| match p.module {
                Some("Contacts" | "Tasks" | "Events" | "Calls") => action(p) != "Delete",
                Some(_) => action(p) == "View",
                None => false,
            }),
        },
        Profile {
            id: id(FIRST_PROFILE_ID + 12),
            name: "Read Only".into(),
            description: "Can view records and nothing else.".into(),
            custom: true,
            times: created(60),
            enabled: grants(perms, |p| p.module.is_some() && action(p) == "View"),
        },
        Profile {
            id: id(FIRST_PROFILE_ID + 15),
            name: "Finance Auditor".into(),
            description: "Auditors: view and export everything, edit nothing.".into(),
            custom: true,
            times: created(75),
            enabled: grants(perms, |p| {
                (p.module.is_some() && action(p) == "View")
                    || matches!(p.name.as_str(), "Crm_Implied_Export" | "Crm_Implied_Data_Backup")
            }),
        },
    ]
}

/// A name the generator can use: (first name, last name, full name override,
/// ASCII e-mail local part override). CJK names need the overrides.
type NameEntry = (
    Option<&'static str>,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

const FIRST_NAMES: [&str; 64] = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Priya",
    "Rahul",
    "Ananya",
    "Arjun",
    "Aisha",
    "Mohammed",
    "Fatima",
    "Omar",
    "Hiroshi",
    "Yuki",
    "Olga",
    "Dmitri",
    "Ingrid",
    "Lars",
    "Sven",
    "Astrid",
    "François",
    "Amélie",
    "Hélène",
    "Jürgen",
    "Björn",
    "Åsa",
    "Chloé",
    "Noémie",
    "Renée",
    "André",
    "Małgorzata",
    "Þórunn",
    "Ólafur",
    "Siobhán",
    "Seán",
    "Inés",
    "Raúl",
    "Joaquín",
    "Göran",
    "Zoë",
    "Nicolás",
    "Émile",
    "Kateřina",
    "Oğuz",
    "Ayşe",
    "Dagný",
    "Mateus",
    "Léa",
];

const LAST_NAMES: [&str; 64] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Patel",
    "Sharma",
    "Iyer",
    "Reddy",
    "Gupta",
    "Khan",
    "Chen",
    "Tanaka",
    "Suzuki",
    "Sato",
    "Nakamura",
    "Ivanova",
    "Petrov",
    "Schmidt",
    "Müller",
    "Schäfer",
    "Groß",
    "Lefèvre",
    "Dubois",
    "Girard",
    "Næss",
    "Jørgensen",
    "Kowalski",
    "Nowak",
    "Novák",
    "Horváth",
    "Özdemir",
    "Yılmaz",
    "Çelik",
    "Ferreira",
    "Gonçalves",
    "Costa",
    "O'Brien",
    "Murphy",
    "Byrne",
    "Fernández",
    "López",
    "González",
    "Sánchez",
    "Pérez",
    "Rossi",
    "Bianchi",
    "Esposito",
    "Lindqvist",
    "Håkansson",
    "Virtanen",
    "Mäkinen",
    "Hansen",
    "Van der Berg",
    "De Vries",
    "Papadopoulos",
    "Kovačević",
    "Sigurðsson",
    "Brontë",
];

const CJK_NAMES: [NameEntry; 6] = [
    (Some("美玲"), "王", Some("王美玲"), Some("meiling.wang")),
    (Some("太郎"), "山田", Some("山田太郎"), Some("taro.yamada")),
    (Some("지훈"), "김", Some("김지훈"), Some("jihoon.kim")),
    (Some("伟"), "张", Some("张伟"), Some("wei.zhang")),
    (Some("花子"), "佐藤", Some("佐藤花子"), Some("hanako.sato")),
    (Some("秀英"), "刘", Some("刘秀英"), Some("xiuying.liu")),
];

/// A user with a fixed name, status and profile at a fixed list position, so
/// tests and the demo can rely on them.
struct Special {
    index: usize,
    name: NameEntry,
    status: &'static str,
    confirm: bool,
    role: usize,
    profile: usize,
}

const PRIMARY_INDEX: usize = 0;

const SPECIALS: [Special; 9] = [
    Special {
        index: PRIMARY_INDEX,
        name: (Some("Zoë"), "Ångström", None, None),
        status: "active",
        confirm: true,
        role: role::CEO,
        profile: profile::ADMINISTRATOR,
    },
    // Inactive users who still hold a privileged profile: the review flags them.
    Special {
        index: 57,
        name: (Some("José"), "Núñez", None, None),
        status: "inactive",
        confirm: true,
        role: role::VP_SALES,
        profile: profile::ADMINISTRATOR,
    },
    Special {
        index: 203,
        name: (Some("Søren"), "Kierkegaard-Ødegaard", None, None),
        status: "inactive",
        confirm: true,
        role: role::SALES_MANAGER_EMEA,
        profile: profile::SALES_ADMIN,
    },
    Special {
        index: 318,
        name: (Some("Margaret"), "Hale", None, None),
        status: "inactive",
        confirm: true,
        role: role::FINANCE_MANAGER,
        profile: profile::ADMINISTRATOR,
    },
    // Invited but never confirmed, yet privileged: flagged too.
    Special {
        index: 148,
        name: (Some("Łukasz"), "Wójcik", None, None),
        status: "active",
        confirm: false,
        role: role::VP_OPERATIONS,
        profile: profile::ADMINISTRATOR,
    },
    Special {
        index: 266,
        name: (Some("雷"), "李", Some("李雷"), Some("lei.li")),
        status: "active",
        confirm: false,
        role: role::SALES_MANAGER_AMERICAS,
        profile: profile::SALES_ADMIN,
    },
    Special {
        index: 433,
        name: (Some("Ana María"), "Peña", None, None),
        status: "active",
        confirm: false,
        role: role::SALES_MANAGER_EMEA,
        profile: profile::SALES_ADMIN,
    },
    // Distractors: a deleted administrator (no longer a risk) and a legitimate,
    // active Sales Admin with non-ASCII initials.
    Special {
        index: 389,
        name: (Some("Antonín"), "Dvořák", None, None),
        status: "deleted",
        confirm: true,
        role: role::VP_OPERATIONS,
        profile: profile::ADMINISTRATOR,
    },
    Special {
        index: 95,
        name: (Some("Ñuño"), "Álvarez", None, None),
        status: "active",
        confirm: true,
        role: role::SALES_MANAGER_AMERICAS,
        profile: profile::SALES_ADMIN,
    },
];

/// (time zone, offset in ms, locale, city, country) combinations for users.
const PLACES: [(&str, i64, &str, &str, &str); 10] = [
    ("Asia/Kolkata", 19_800_000, "en_IN", "Chennai", "India"),
    ("Asia/Kolkata", 19_800_000, "en_IN", "Bengaluru", "India"),
    ("Europe/London", 0, "en_GB", "London", "United Kingdom"),
    ("Europe/Berlin", 3_600_000, "de_DE", "Berlin", "Germany"),
    ("Europe/Madrid", 3_600_000, "es_ES", "Madrid", "Spain"),
    (
        "America/New_York",
        -18_000_000,
        "en_US",
        "New York",
        "United States",
    ),
    (
        "America/Los_Angeles",
        -28_800_000,
        "en_US",
        "San Francisco",
        "United States",
    ),
    ("Asia/Shanghai", 28_800_000, "zh_CN", "Shanghai", "China"),
    (
        "Australia/Sydney",
        36_000_000,
        "en_AU",
        "Sydney",
        "Australia",
    ),
    ("Africa/Nairobi", 10_800_000, "en_US", "Nairobi", "Kenya"),
];

/// Lower-cases and strips diacritics so a name can become an e-mail local
/// part: "Søren Kierkegaard-Ødegaard" → "soren" / "kierkegaard-odegaard".
pub fn ascii_fold(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        let mapped: &str = match c {
            'a'..='z' | '0'..='9' | '-' => {
                out.push(c);
                continue;
            }
            ' ' | '.' => ".",
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ą' | 'ā' => "a",
            'æ' => "ae",
            'ç' | 'ć' | 'č' => "c",
            'ď' | 'đ' | 'ð' => "d",
            'è' | 'é' | 'ê' | 'ë' | 'ę' | 'ě' | 'ē' => "e",
            'ğ' => "g",
            'ì' | 'í' | 'î' | 'ï' | 'ı' | 'ī' => "i",
            'ł' => "l",
            'ñ' | 'ń' | 'ň' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ő' | 'ō' => "o",
            'œ' => "oe",
            'ř' => "r",
            'ś' | 'š' | 'ş' => "s",
            'ß' => "ss",
            'ť' | 'ţ' => "t",
            'þ' => "th",
            'ù' | 'ú' | 'û' | 'ü' | 'ů' | 'ű' | 'ū' => "u",
            'ý' | 'ÿ' => "y",
            'ź' | 'ż' | 'ž' => "z",
            // Apostrophes and anything unmapped are dropped.
            _ => "",
        };
        out.push_str(mapped);
    }
    out
}

fn email_local(name: &NameEntry) -> String {
    if let Some(local) = name.3 {
        return local.to_string();
    }
    let last = ascii_fold(name.1);
    match name.0 {
        Some(first) => format!("{}.{last}", ascii_fold(first)),
        None => last,
    }
}

/// Hands out unique addresses: `local@`, then `local2@`, `local3@`, ...
#[derive(Default)]
struct Emails {
    taken: HashSet<String>,
    /// The next suffix to try per local part. Every smaller suffix is taken
    /// (and stays taken), so starting there gives the same address as
    /// counting from 1, without rescanning: in a 50,000-user org each CJK
    /// name is shared by hundreds of users.
    next: HashMap<String, usize>,
}

impl Emails {
    fn reserve(&mut self, address: String) {
        self.taken.insert(address);
    }

    fn unique(&mut self, local: &str) -> String {
        // Looked up before inserting so a known local part costs no key copy.
        if !self.next.contains_key(local) {
            self.next.insert(local.to_string(), 1);
        }
        let n = self.next.get_mut(local).expect("inserted above");
        loop {
            let candidate = if *n == 1 {
                format!("{local}@{ORG_DOMAIN}")
            } else {
                format!("{local}{n}@{ORG_DOMAIN}", n = *n)
            };
            *n += 1;
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
    }
}

/// Status, confirmation and privileged profile of a user beyond the first
/// 450, drawn in about their proportions: 3% deleted, 7% inactive, 4.5%
/// invited and unconfirmed, 0.7% administrators, 1.1% sales admins.
fn extra_kind(rng: &mut fastrand::Rng) -> (&'static str, bool, Option<usize>) {
    match rng.u32(0..1000) {
        0..30 => ("deleted", true, None),
        30..100 => ("inactive", true, None),
        100..145 => ("active", false, None),
        145..152 => ("active", true, Some(profile::ADMINISTRATOR)),
        152..163 => ("active", true, Some(profile::SALES_ADMIN)),
        _ => ("active", true, None),
    }
}

/// Roles a user with the given profile plausibly has (never CEO: only the
/// primary user is CEO).
fn roles_for_profile(p: usize) -> &'static [usize] {
    match p {
        profile::ADMINISTRATOR => &[role::VP_SALES, role::VP_OPERATIONS],
        profile::SALES_ADMIN => &[role::SALES_MANAGER_EMEA, role::SALES_MANAGER_AMERICAS],
        profile::SUPPORT => &[
            role::SUPPORT_MANAGER,
            role::SUPPORT_AGENT,
            role::SUPPORT_AGENT,
        ],
        profile::READ_ONLY => &[role::SALES_INTERN, role::SUPPORT_INTERN],
        profile::FINANCE_AUDITOR => &[role::FINANCE_MANAGER, role::ACCOUNTANT, role::ACCOUNTANT],
        _ => &[
            role::SALES_REP_EMEA,
            role::SALES_REP_AMERICAS,
            role::SALES_REP_EMEA,
            role::SALES_REP_AMERICAS,
            role::SUPPORT_AGENT,
        ],
    }
}

/// Builds the organisation with `user_count` users (at least 1: the primary
/// user always exists). Deterministic: same output on every call, and the
/// first `min(user_count, 450)` users are those of the default org.
pub fn build(user_count: usize) -> Org {
    let user_count = user_count.max(1);
    // A smaller org is the first N of the default one, so generate those.
    let generated = user_count.max(DEFAULT_USER_COUNT);
    let mut rng = fastrand::Rng::with_seed(SEED);
    let roles = seed_roles();
    let permissions = seed_permissions();
    let profiles = seed_profiles(&permissions);

    // Decide every non-special user's status/confirm up front, with exact
    // counts, by shuffling the free positions.
    let special_at = |i: usize| SPECIALS.iter().find(|s| s.index == i);
    let mut free: Vec<usize> = (0..DEFAULT_USER_COUNT)
        .filter(|i| special_at(*i).is_none())
        .collect();
    rng.shuffle(&mut free);
    // (status, confirm, privileged profile) per position.
    let mut kind: Vec<(&str, bool, Option<usize>)> =
        vec![("active", true, None); DEFAULT_USER_COUNT];
    let mut cursor = free.iter();
    let mut assign = |n: usize, k: (&'static str, bool, Option<usize>)| {
        for i in cursor.by_ref().take(n) {
            kind[*i] = k;
        }
    };
    assign(14, ("deleted", true, None));
    assign(28, ("inactive", true, None));
    assign(18, ("active", false, None));
    assign(3, ("active", true, Some(profile::ADMINISTRATOR)));
    assign(5, ("active", true, Some(profile::SALES_ADMIN)));

    let mut emails = Emails::default();
    for s in &SPECIALS {
        emails.reserve(format!("{}@{ORG_DOMAIN}", email_local(&s.name)));
    }

    let mut users = Vec::with_capacity(generated);
    let mut next_id = FIRST_USER_ID;
    let mut next_zuid: u64 = 60_012_345_000;
    for i in 0..generated {
        let special = special_at(i);
        let (name, status, confirm, profile_ix, role_ix) = match special {
            Some(s) => (s.name, s.status, s.confirm, s.profile, s.role),
            None => {
                let name: NameEntry = if rng.u32(0..100) < 5 {
                    CJK_NAMES[rng.usize(0..CJK_NAMES.len())]
                } else {
                    (
                        Some(FIRST_NAMES[rng.usize(0..FIRST_NAMES.len())]),
                        LAST_NAMES[rng.usize(0..LAST_NAMES.len())],
                        None,
                        None,
                    )
                };
                let (status, confirm, privileged) = match kind.get(i) {
                    Some(k) => *k,
                    None => extra_kind(&mut rng),
                };
                let p = privileged.unwrap_or_else(|| match rng.u32(0..100) {
                    0..60 => profile::STANDARD,
                    60..78 => profile::SUPPORT,
                    78..90 => profile::READ_ONLY,
                    _ => profile::FINANCE_AUDITOR,
                });
                let candidates = roles_for_profile(p);
                let r = candidates[rng.usize(0..candidates.len())];
                (name, status, confirm, p, r)
            }
        };
        let email = match special {
            Some(_) => format!("{}@{ORG_DOMAIN}", email_local(&name)),
            None => emails.unique(&email_local(&name)),
        };
        let place = PLACES[if i == PRIMARY_INDEX {
            0
        } else {
            rng.usize(0..PLACES.len())
        }];
        let created = if i == PRIMARY_INDEX {
            org_time(0, 0)
        } else {
            org_time(rng.i64(1..1500), rng.i64(0..36_000))
        };
        let modified = created + ChronoDuration::days(rng.i64(0..300));
        let phone = (rng.u32(0..100) < 60)
            .then(|| format!("+91 9{:04} {:05}", rng.u32(0..10_000), rng.u32(0..100_000)));
        let mobile =
            (rng.u32(0..100) < 20).then(|| format!("+44 7700 9{:05}", rng.u32(0..100_000)));
        let with_address = rng.u32(0..100) < 50;
        next_id += rng.u64(1..40);
        next_zuid += rng.u64(1..5000);
        users.push(User {
            id: id(next_id),
            first_name: name.0.map(str::to_string),
            last_name: name.1.to_string(),
            full_name_override: name.2.map(str::to_string),
            email,
            status: status.to_string(),
            confirm,
            zuid: next_zuid.to_string(),
            is_online: status == "active" && confirm && rng.u32(0..100) < 5,
            role: role_ix,
            profile: profile_ix,
            created_time: format_time(&created),
            modified_time: format_time(&modified),
            modified_by: PRIMARY_INDEX,
            time_zone: place.0,
            offset_ms: place.1,
            locale: place.2,
            phone,
            mobile,
            city: with_address.then(|| place.3.to_string()),
            country: with_address.then(|| place.4.to_string()),
            extra: serde_json::Map::new(),
        });
    }
    users.truncate(user_count);
    Org {
        roles,
        permissions,
        profiles,
        users,
        primary: PRIMARY_INDEX,
        // 500 for the default org, and always enough for everyone.
        licenses: user_count.next_multiple_of(100).max(500),
        company: COMPANY.to_string(),
    }
}

/// A user as `POST /users` asks for it, already checked against the org.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub first_name: Option<String>,
    pub last_name: String,
    pub email: String,
    /// Index into `Org::roles`.
    pub role: usize,
    /// Index into `Org::profiles`.
    pub profile: usize,
}

fn name_id(name: &str, id: &str) -> Value {
    json!({"name": name, "id": id})
}

impl Org {
    pub fn user_index(&self, id: &str) -> Option<usize> {
        // Ids are digit strings without leading zeros, kept in ascending
        // order (new users get larger ids), so (length, text) order is
        // numeric order and a binary search finds any of 50,000 at once.
        self.users
            .binary_search_by(|u| (u.id.len(), u.id.as_str()).cmp(&(id.len(), id)))
            .ok()
    }

    /// Adds an invited user (active, not confirmed until they accept) with
    /// the next id, in the org's own time zone and locale; returns the id.
    pub fn add_user(&mut self, new: NewUser) -> String {
        // The last user has the largest id and zuid (both only grow), so
        // the new ones keep the listing sorted and stay unique.
        let last = self.users.last();
        let last_id = last.and_then(|u| u.id.parse::<u64>().ok());
        let last_zuid = last.and_then(|u| u.zuid.parse::<u64>().ok());
        let id = id(last_id.unwrap_or(FIRST_USER_ID) + 17);
        let now = now_string();
        let home = PLACES[0];
        self.users.push(User {
            id: id.clone(),
            first_name: new.first_name,
            last_name: new.last_name,
            full_name_override: None,
            email: new.email,
            status: "active".to_string(),
            confirm: false,
            zuid: (last_zuid.unwrap_or(60_012_345_000) + 1).to_string(),
            is_online: false,
            role: new.role,
            profile: new.profile,
            created_time: now.clone(),
            modified_time: now,
            modified_by: self.primary,
            time_zone: home.0,
            offset_ms: home.1,
            locale: home.2,
            phone: None,
            mobile: None,
            city: None,
            country: None,
            extra: serde_json::Map::new(),
        });
        id
    }

    pub fn role_index(&self, id: &str) -> Option<usize> {
        self.roles.iter().position(|r| r.id == id)
    }

    pub fn profile_index(&self, id: &str) -> Option<usize> {
        self.profiles.iter().position(|p| p.id == id)
    }

    fn user_ref(&self, ix: usize) -> Value {
        let u = &self.users[ix];
        name_id(&u.full_name(), &u.id)
    }

    /// A user as Bigin v2 renders it: every field of the documented sample,
    /// unset ones as explicit `null`, plus the CRM fields the notes list.
    pub fn user_json(&self, ix: usize) -> Value {
        let u = &self.users[ix];
        let role = &self.roles[u.role];
        let profile = &self.profiles[u.profile];
        let extra = |k: &str| u.extra.get(k).cloned().unwrap_or(Value::Null);
        json!({
            "id": u.id,
            "full_name": u.full_name(),
            "first_name": u.first_name,
            "last_name": u.last_name,
            "email": u.email,
            "status": u.status,
            "confirm": u.confirm,
            "category": "regular_user",
            "zuid": u.zuid,
            "Isonline": u.is_online,
            "role": name_id(&role.name, &role.id),
            "profile": name_id(&profile.name, &profile.id),
            "created_by": self.user_ref(self.primary),
            "Modified_By": self.user_ref(u.modified_by),
            "created_time": u.created_time,
            "Modified_Time": u.modified_time,
            "time_zone": u.time_zone,
            "language": u.locale,
            "locale": u.locale,
            "country_locale": u.locale,
            "phone": u.phone,
            "mobile": u.mobile,
            "fax": extra("fax"),
            "website": extra("website"),
            "dob": extra("dob"),
            "street": extra("street"),
            "city": u.city,
            "state": extra("state"),
            "zip": extra("zip"),
            "country": u.country,
            "offset": u.offset_ms,
            // Fields the shared notes list as present in CRM user records
            // ([I] for Bigin); clients must tolerate them.
            "date_format": "MM/dd/yyyy",
            "time_format": "hh:mm a",
            "decimal_separator": "Period",
            "Reporting_To": if ix == self.primary { Value::Null } else { self.user_ref(self.primary) },
            "image_link": format!("https://profile.zoho.com/api/v1/user/{}/photo", u.zuid),
        })
    }

    pub fn role_json(&self, ix: usize) -> Value {
        let r = &self.roles[ix];
        json!({
            "display_label": r.name,
            "name": r.name,
            "id": r.id,
            "description": r.description,
            "share_with_peers": r.share_with_peers,
            "reporting_to": r.reporting_to.map(|p| name_id(&self.roles[p].name, &self.roles[p].id)),
            "admin_user": r.admin_user,
        })
    }

    /// The fields of a profile shared by the list and the detail view.
    pub fn profile_json(&self, ix: usize) -> Value {
        let p = &self.profiles[ix];
        let (created_time, modified_time) = match &p.times {
            Some((c, m)) => (json!(c), json!(m)),
            None => (Value::Null, Value::Null),
        };
        let by = if p.custom {
            self.user_ref(self.primary)
        } else {
            Value::Null
        };
        json!({
            "display_label": p.name,
            "name": p.name,
            "id": p.id,
            "description": p.description,
            "custom": p.custom,
            "category": false,
            "created_time": created_time,
            "modified_time": modified_time,
            "created_by": by,
            "modified_by": by,
        })
    }

    /// A profile with `permissions_details` and `sections`, as
    /// `GET /settings/profiles/{id}` returns it.
    pub fn profile_detail_json(&self, ix: usize) -> Value {
        let p = &self.profiles[ix];
        let mut v = self.profile_json(ix);
        let details: Vec<Value> = self
            .permissions
            .iter()
            .zip(&p.enabled)
            .map(|(perm, enabled)| {
                json!({
                    "id": perm.id,
                    "name": perm.name,
                    "display_label": perm.display_label,
                    "module": perm.module,
                    "enabled": enabled,
                    // The Administrator profile cannot be edited.
                    "customizable": ix != profile::ADMINISTRATOR,
                    "parent_permissions": perm.parents,
                })
            })
            .collect();
        let module_categories: Vec<Value> = MODULES
            .iter()
            .map(|(module, label)| {
                let ids: Vec<&str> = self
                    .permissions
                    .iter()
                    .filter(|perm| perm.module == Some(*module))
                    .map(|perm| perm.id.as_str())
                    .collect();
                json!({"display_label": label, "permissions_details": ids, "module": module, "name": module})
            })
            .collect();
        let mut general_categories: Vec<Value> = Vec::new();
        for category in ["Setup", "Data Administration", "Developer"] {
            let ids: Vec<&str> = GENERAL_PERMISSIONS
                .iter()
                .filter(|(_, _, c)| *c == category)
                .filter_map(|(name, _, _)| {
                    self.permissions
                        .iter()
                        .find(|perm| perm.name == *name)
                        .map(|perm| perm.id.as_str())
                })
                .collect();
            general_categories.push(json!({
                "display_label": category,
                "permissions_details": ids,
                "module": null,
                "name": category.to_lowercase().replace(' ', "_"),
            }));
        }
        if let Value::Object(map) = &mut v {
            map.insert("permissions_details".into(), Value::Array(details));
            map.insert(
                "sections".into(),
                json!([
                    {"name": "module", "categories": module_categories},
                    {"name": "general", "categories": general_categories},
                ]),
            );
        }
        v
    }

    /// The single element of `GET /org`'s `org` array.
    pub fn org_json(&self) -> Value {
        let primary = &self.users[self.primary];
        json!({
            "id": id(ORG_ID),
            "company_name": self.company,
            "alias": null,
            "description": "Demo organisation served by the bigin-mcp sandbox.",
            "primary_email": primary.email,
            "primary_zuid": primary.zuid,
            "zgid": "60012340001",
            "zia_portal_id": null,
            "photo_id": null,
            "phone": "+91 44 6600 0000",
            "mobile": null,
            "fax": null,
            "website": "https://www.northwind.example",
            "street": "12 Harbour Road",
            "city": "Chennai",
            "state": "Tamil Nadu",
            "zip": "600001",
            "country": "India",
            "country_code": "IN",
            "currency": "Indian Rupee - INR",
            "currency_symbol": "₹",
            "currency_locale": "en_IN",
            "iso_code": "INR",
            "time_zone": "Asia/Kolkata",
            "employee_count": self.licenses,
            "mc_status": false,
            "gapps_enabled": false,
            "lite_users_enabled": false,
            "translation_enabled": false,
            "privacy_settings": false,
            "hipaa_compliance_enabled": false,
            "deletable_org_account": false,
            "domain_name": ORG_DOMAIN,
            "hierarchy_preferences": {"type": "Role_Hierarchy"},
            "license_details": {
                "paid": true,
                "paid_type": "biginpremier",
                "paid_expiry": "2027-01-31T23:59:59+05:30",
                "trial_type": null,
                "trial_expiry": null,
                "users_license_purchased": self.licenses,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_time_matches_chronos_rfc3339_shape() {
        for (secs, offset) in [(19_800, 0), (-28_800, 86_399), (0, 59), (-9_000, 1)] {
            let tz = FixedOffset::east_opt(secs).unwrap();
            let t = tz.with_ymd_and_hms(2024, 2, 29, 23, 59, 58).unwrap()
                + ChronoDuration::seconds(offset);
            assert_eq!(
                format_time(&t),
                t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
            );
        }
    }
}
