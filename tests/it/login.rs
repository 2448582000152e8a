//! `login`, `status`, `serve` and `logout` end to end: the built binary with
//! a scrubbed environment, the sandbox as Zoho (accounts server and API of
//! data centre `eu`), reqwest as the browser, and the real OS keychain (a
//! Secret Service over D-Bus; `scripts/with-secret-service` provides one on
//! headless machines).
//!
//! Covered: the scriptable browser login, status --json, serve reusing the
//! cached access token, logout with revocation; a Self Client code; and the
//! failures (unknown data centre, declined consent, forged state, busy port,
//! token error in HTTP 200, untrusted accounts server, no keychain, failed
//! revocation), each with one clear sentence, a non-zero exit and nothing
//! stored. Every test runs the binary with `BIGIN_LOG=debug` and checks that
//! no secret reaches stdout, stderr or the account file.
//!
//! Tests that need the keychain skip (saying so) when none is reachable,
//! unless `BIGIN_TEST_SECRET_SERVICE=1` says one must be: then they fail.

use std::ffi::OsStr;
use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use bigin_mcp::auth::{OsStore, SecretKind, SecretStore, oauth};
use bigin_mcp::sandbox::{self, Fault, FaultKind, RecordedRequest, Sandbox};
use reqwest::Url;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};

use crate::common::{eu_sandbox, free_port};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use crate::common::text;

const BIN: &str = env!("CARGO_BIN_EXE_bigin-mcp");
/// Upper bound for any one step; a hung login fails the test instead of
/// waiting for the binary's own 300 s browser timeout.
const STEP: Duration = Duration::from_secs(30);
const SECRET: &str = sandbox::DEMO_CLIENT_SECRET;
const ORG_NAME: &str = "Northwind Trading Co.";

// ---------------------------------------------------------------------------
// The keychain, as the binary sees it (same D-Bus session).

/// The OS keychain of the test process. Its D-Bus client blocks, so every
/// call runs on a thread of its own, off the async runtime.
#[derive(Clone)]
struct Keychain(Arc<OsStore>);

/// Runs a blocking keychain call on a plain thread: the Secret Service
/// client must not block inside an async task. The tests use the
/// multi-thread runtime so the sandbox keeps serving meanwhile.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("keychain thread panicked"))
}

fn secret_service_required() -> bool {
    std::env::var("BIGIN_TEST_SECRET_SERVICE").as_deref() == Ok("1")
}

impl Keychain {
    /// Opens the keychain and writes, reads and deletes a probe entry:
    /// opening alone only reaches the bus, not a daemon with an unlocked
    /// collection. The key is per test, since tests probe in parallel.
    fn probe(test: &str) -> Result<Keychain, String> {
        let key = format!("it-probe-{}-{test}/probe", std::process::id());
        off_runtime(|| {
            let store = OsStore::open().map_err(|e| e.to_string())?;
            let value = SecretString::from("probe".to_string());
            store.set(&key, &value).map_err(|e| e.to_string())?;
            let back = store.get(&key).map_err(|e| e.to_string())?;
            store.delete(&key).map_err(|e| e.to_string())?;
            match back {
                Some(v) if v.expose_secret() == "probe" => Ok(Keychain(Arc::new(store))),
                _ => Err("a probe entry did not read back".into()),
            }
        })
    }

    fn get(&self, account: &str, kind: SecretKind) -> Option<String> {
        let key = kind.key(account);
        off_runtime(|| self.0.get(&key))
            .unwrap_or_else(|e| panic!("keychain read of {key}: {e}"))
            .map(|v| v.expose_secret().to_string())
    }

    /// The access token inside the cache entry (JSON with a `token` field).
    fn access_token(&self, account: &str) -> Option<String> {
        let json = self.get(account, SecretKind::AccessToken)?;
        let v: Value = serde_json::from_str(&json).expect("the access token cache is JSON");
        Some(v["token"].as_str().expect("a token field").to_string())
    }

    fn forget(&self, account: &str) {
        off_runtime(|| {
            for kind in SecretKind::ALL {
                let _ = self.0.delete(&kind.key(account));
            }
        });
    }
}

/// The keychain for a test that cannot run without one: `None` (after a
/// line saying why) skips it, unless a Secret Service was promised.
fn require_keychain(test: &str) -> Option<Keychain> {
    match Keychain::probe(test) {
        Ok(k) => Some(k),
        Err(e) if secret_service_required() => {
            panic!("BIGIN_TEST_SECRET_SERVICE=1 but the OS keychain is unusable: {e}")
        }
        Err(e) => {
            eprintln!(
                "skipped login::{test}: no usable OS keychain ({e}); run it under scripts/with-secret-service"
            );
            None
        }
    }
}

/// The keychain for a test that runs without one but checks it when it can.
fn optional_keychain(test: &str) -> Option<Keychain> {
    match Keychain::probe(test) {
        Ok(k) => Some(k),
        Err(e) if secret_service_required() => {
            panic!("BIGIN_TEST_SECRET_SERVICE=1 but the OS keychain is unusable: {e}")
        }
        Err(_) => None,
    }
}

/// Removes an account's entries when the test ends, passed or failed, so
/// the keyring (on a desktop, the user's own) keeps no test secrets.
struct Forget(Option<Keychain>, String);

impl Drop for Forget {
    fn drop(&mut self) {
        if let Some(k) = &self.0 {
            k.forget(&self.1);
        }
    }
}

/// A unique account name: tests run in parallel and share the keyring, and
/// the pid keeps a crashed earlier run's leftovers out of the way.
fn account(name: &str) -> String {
    format!("it-{name}-{}", std::process::id())
}

// ---------------------------------------------------------------------------
// The binary in an isolated home.

/// A temp HOME with its own config and data dirs, so the account file and
/// the audit log of one test never meet another's (or the user's).
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The binary with nothing inherited but PATH and the D-Bus variables
    /// (so it reaches the test keyring), and debug logs on, so the leak
    /// checks cover the logs too.
    fn cmd<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut c = self.bare(args);
        for k in ["DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"] {
            if let Some(v) = std::env::var_os(k) {
                c.env(k, v);
            }
        }
        c
    }

    /// The binary without a session bus. No D-Bus variables; and since zbus
    /// then falls back to `$XDG_RUNTIME_DIR/bus` or `/run/user/UID/bus`
    /// (which a desktop has), XDG_RUNTIME_DIR points at an empty dir.
    fn cmd_without_keychain<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let runtime = self.dir.path().join("empty-runtime");
        std::fs::create_dir_all(&runtime).unwrap();
        let mut c = self.bare(args);
        c.env("XDG_RUNTIME_DIR", runtime);
        c
    }

    fn bare<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let home = self.dir.path();
        let mut c = Command::new(BIN);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("BIGIN_LOG", "debug")
            .args(args)
            .kill_on_drop(true);
        c
    }

    fn accounts_path(&self) -> PathBuf {
        self.dir.path().join("config/bigin-mcp/accounts.json")
    }

    /// The account file's text; empty when it does not exist.
    fn accounts_text(&self) -> String {
        std::fs::read_to_string(self.accounts_path()).unwrap_or_default()
    }

    fn lists(&self, account: &str) -> bool {
        let text = self.accounts_text();
        if text.is_empty() {
            return false;
        }
        let v: Value = serde_json::from_str(&text).expect("the account file is JSON");
        v["accounts"].get(account).is_some()
    }
}

/// A finished run of the binary.
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl fmt::Display for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Out {
    /// The error `main` prints (`bigin-mcp: ...`): exactly one such line
    /// among the debug logs.
    fn error_line(&self) -> String {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("bigin-mcp: "))
            .collect();
        assert_eq!(lines.len(), 1, "one error line expected:\n{self}");
        lines[0].to_string()
    }

    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

async fn read_all(mut r: impl AsyncRead + Unpin) -> String {
    let mut s = String::new();
    let _ = r.read_to_string(&mut s).await;
    s
}

/// Runs the binary to completion with `stdin` as its input.
async fn run(mut cmd: Command, stdin: &str) -> Out {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn bigin-mcp");
    let mut input = child.stdin.take().unwrap();
    // A command that fails before reading stdin closes it: ignore EPIPE.
    let _ = input.write_all(stdin.as_bytes()).await;
    drop(input);
    let out = tokio::time::timeout(STEP, child.wait_with_output())
        .await
        .expect("bigin-mcp exits within 30 s")
        .unwrap();
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

// ---------------------------------------------------------------------------
// The sandbox, the browser and a login in flight.

/// The issue's scriptable login, minus the secret (which goes to stdin).
fn login_args(sb: &Sandbox, account: &str, port: u16) -> Vec<String> {
    [
        "login",
        "--no-browser",
        "--client-id",
        sandbox::DEMO_CLIENT_ID,
        "--client-secret-stdin",
        "--port",
        &port.to_string(),
        "--accounts-url",
        &sb.base_url(),
        "--account",
        account,
    ]
    .map(String::from)
    .to_vec()
}

fn token_requests(sb: &Sandbox) -> Vec<RecordedRequest> {
    sb.requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/oauth/v2/token")
        .collect()
}

/// The browser: follows nothing by itself, so every hop can be checked.
fn browser() -> reqwest::Client {
    bigin_mcp::zoho::http_client(STEP)
}

fn param(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// `url` with `key` set to `value` (form-encoded, like a browser would).
fn with_param(url: &Url, key: &str, value: &str) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == key {
                value.to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}

/// The consent page: the sandbox's user accepts (or declines) at once and
/// is redirected; returns where to.
async fn consent(b: &reqwest::Client, url: &Url) -> Url {
    let r = b.get(url.clone()).send().await.expect("consent page");
    assert_eq!(r.status(), 302, "the consent page redirects");
    let location = r.headers()[reqwest::header::LOCATION].to_str().unwrap();
    Url::parse(location).expect("the redirect is a URL")
}

/// Opens the callback page; returns its HTML.
async fn open(b: &reqwest::Client, url: &Url) -> String {
    let r = b.get(url.clone()).send().await.expect("callback page");
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// A `login` that printed its authorization URL and waits for the browser.
struct PendingLogin {
    child: Child,
    url: Url,
    state: String,
    stderr_head: String,
    stderr_rest: JoinHandle<String>,
    stdout: JoinHandle<String>,
}

/// Starts `login` with the secret piped in and reads stderr up to the URL.
async fn start_login(home: &Home, args: &[String]) -> PendingLogin {
    let mut child = home
        .cmd(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bigin-mcp login");
    let mut stdin = child.stdin.take().unwrap();
    // `printf %s "$SECRET" |`: no newline, then EOF.
    stdin.write_all(SECRET.as_bytes()).await.unwrap();
    drop(stdin);
    let stdout = tokio::spawn(read_all(child.stdout.take().unwrap()));
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut head = String::new();
    let url = loop {
        let line = tokio::time::timeout(STEP, lines.next_line())
            .await
            .expect("the URL within 30 s")
            .unwrap();
        let Some(line) = line else {
            panic!("login ended before printing the authorization URL:\n{head}");
        };
        head.push_str(&line);
        head.push('\n');
        let l = line.trim();
        if l.starts_with("http") && l.contains("/oauth/v2/auth?") {
            break Url::parse(l).expect("the printed URL parses");
        }
    };
    let stderr_rest = tokio::spawn(async move {
        let mut s = String::new();
        while let Ok(Some(l)) = lines.next_line().await {
            s.push_str(&l);
            s.push('\n');
        }
        s
    });
    let state = param(&url, "state").expect("the URL carries state");
    PendingLogin {
        child,
        url,
        state,
        stderr_head: head,
        stderr_rest,
        stdout,
    }
}

impl PendingLogin {
    async fn finish(mut self) -> Out {
        let status = tokio::time::timeout(STEP, self.child.wait())
            .await
            .expect("login exits within 30 s")
            .unwrap();
        Out {
            code: status.code(),
            stdout: self.stdout.await.unwrap(),
            stderr: self.stderr_head + &self.stderr_rest.await.unwrap(),
        }
    }
}

// ---------------------------------------------------------------------------
// Shared assertions.

/// No secret in `text`. Panics with the secret's first characters only.
fn assert_no_secrets(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(s.len() >= 8, "too short to search for: {s}");
        assert!(
            !text.contains(s.as_str()),
            "{what} contains a secret ({}...):\n{text}",
            &s[..6]
        );
    }
}

/// A failed login left no trace: not in the account file, not in the
/// keychain (when there is one to look at).
fn assert_nothing_written(home: &Home, kc: Option<&Keychain>, account: &str) {
    assert!(
        !home.lists(account),
        "the account file lists {account}:\n{}",
        home.accounts_text()
    );
    if let Some(kc) = kc {
        for kind in SecretKind::ALL {
            assert!(
                kc.get(account, kind).is_none(),
                "the keychain holds {}",
                kind.key(account)
            );
        }
    }
}

/// A Self Client login (no browser) for tests that need a logged-in account.
async fn self_client_login(home: &Home, sb: &Sandbox, account: &str, code: &str) -> Out {
    let args = [
        "login",
        "--code",
        code,
        "--client-id",
        sandbox::DEMO_CLIENT_ID,
        "--client-secret-stdin",
        "--accounts-url",
        &sb.base_url(),
        "--account",
        account,
    ];
    run(home.cmd(&args), SECRET).await
}

// ---------------------------------------------------------------------------
// The happy paths.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_login_then_status_serve_and_logout() {
    let Some(kc) = require_keychain("browser_login_then_status_serve_and_logout") else {
        return;
    };
    let a = account("round-trip");
    let _forget = Forget(Some(kc.clone()), a.clone());
    let sb = eu_sandbox().await;
    let home = Home::new();
    let port = free_port();
    let b = browser();

    // login: the URL on stderr, then the browser's two hops.
    let login = start_login(&home, &login_args(&sb, &a, port)).await;
    let url = &login.url;
    assert!(
        url.as_str()
            .starts_with(&format!("{}/oauth/v2/auth?", sb.base_url())),
        "{url}"
    );
    assert_eq!(
        param(url, "client_id").as_deref(),
        Some(sandbox::DEMO_CLIENT_ID)
    );
    assert_eq!(
        param(url, "redirect_uri"),
        Some(format!("http://127.0.0.1:{port}/callback"))
    );
    assert_eq!(param(url, "scope"), Some(oauth::DEFAULT_SCOPES.join(",")));
    let callback = consent(&b, url).await;
    assert_eq!(callback.host_str(), Some("127.0.0.1"));
    assert_eq!(callback.port(), Some(port));
    assert_eq!(callback.path(), "/callback");
    assert_eq!(param(&callback, "location").as_deref(), Some("eu"));
    assert_eq!(param(&callback, "accounts-server"), Some(sb.base_url()));
    assert_eq!(param(&callback, "state"), Some(login.state.clone()));
    let code = param(&callback, "code").expect("a grant code");
    let page = open(&b, &callback).await;
    assert!(page.contains("bigin-mcp is connected"), "{page}");
    let out = login.finish().await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        out.stderr.contains(&format!("organisation '{ORG_NAME}'")),
        "{out}"
    );
    assert!(out.stderr.contains("data centre eu"), "{out}");
    assert!(
        out.stdout.is_empty(),
        "login writes nothing on stdout: {out}"
    );
    assert!(home.lists(&a));
    let refresh = kc
        .get(&a, SecretKind::RefreshToken)
        .expect("refresh token stored");
    assert_eq!(
        kc.get(&a, SecretKind::ClientSecret).as_deref(),
        Some(SECRET)
    );
    let login_access = kc.access_token(&a).expect("login cached the access token");
    // ...one the API accepts, for the API domain Zoho named.
    let cache: Value = serde_json::from_str(&kc.get(&a, SecretKind::AccessToken).unwrap()).unwrap();
    assert_eq!(cache["api_domain"], sb.base_url().as_str());
    let org = b
        .get(format!("{}/bigin/v2/org", sb.base_url()))
        .header("Authorization", format!("Zoho-oauthtoken {login_access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(org.status(), 200, "the cached access token works");
    assert_eq!(token_requests(&sb).len(), 1, "one code exchange");
    let mut outputs = vec![("login", out.all()), ("account file", home.accounts_text())];

    // status --json: one JSON document, with a real refresh.
    let out = run(home.cmd(&["status", "--account", &a, "--json"]), "").await;
    assert_eq!(out.code, Some(0), "{out}");
    let docs: Vec<Value> = serde_json::Deserializer::from_str(&out.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{out}"));
    assert_eq!(docs.len(), 1, "exactly one JSON document:\n{out}");
    assert_eq!(docs[0]["logged_in"], true);
    let accounts = docs[0]["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 1);
    let st = &accounts[0];
    assert_eq!(st["account"], a.as_str());
    assert_eq!(st["dc"], "eu");
    assert_eq!(st["api_domain"], sb.base_url().as_str());
    assert_eq!(st["accounts_server"], sb.base_url().as_str());
    assert_eq!(st["client_id"], sandbox::DEMO_CLIENT_ID);
    assert_eq!(st["scopes"], serde_json::json!(oauth::DEFAULT_SCOPES));
    assert_eq!(st["organization"], ORG_NAME);
    assert_eq!(st["refresh_ok"], true, "{out}");
    assert!(st.get("refresh_error").is_none(), "{out}");
    let refreshes = token_requests(&sb);
    assert_eq!(refreshes.len(), 2, "status refreshed once");
    assert!(refreshes[1].body.contains("grant_type=refresh_token"));
    outputs.push(("status", out.all()));
    // status keeps its fresh token; serve should find that one.
    let status_access = kc.access_token(&a).expect("access token cached");

    // serve over real stdio, no BIGIN_CLIENT_* in its env: the keychain.
    let (transport, stderr) = TokioChildProcess::builder(home.cmd(&["serve", "--account", &a]))
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bigin-mcp serve");
    let stderr = tokio::spawn(read_all(stderr.expect("piped stderr")));
    let client: rmcp::service::RunningService<RoleClient, ()> =
        ().serve(transport).await.expect("initialize over stdio");
    let before = sb.requests().len();
    let r = client
        .call_tool(CallToolRequestParams::new("bigin_get_organization"))
        .await
        .expect("tools/call answered");
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    let org = r.structured_content.clone().expect("structured content");
    assert_eq!(org["org"]["company_name"], ORG_NAME, "{org}");
    client.cancel().await.unwrap();
    let serve_log = tokio::time::timeout(STEP, stderr).await.unwrap().unwrap();
    let during: Vec<RecordedRequest> = sb.requests().split_off(before);
    assert!(
        during.iter().all(|r| !r.path.starts_with("/oauth")),
        "serve reused the cached access token: {during:?}"
    );
    assert!(
        during
            .iter()
            .any(|r| r.path == "/bigin/v2/org" && r.authorized),
        "{during:?}"
    );
    outputs.push(("serve stderr", serve_log));
    outputs.push(("serve tool output", serde_json::to_string(&r).unwrap()));

    // logout: revoked at Zoho, gone locally.
    let out = run(home.cmd(&["logout", "--account", &a]), "").await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("Zoho revoked"), "{out}");
    assert!(
        sb.requests()
            .iter()
            .any(|r| r.method == "POST" && r.path == "/oauth/v2/token/revoke"),
        "logout revokes"
    );
    for kind in SecretKind::ALL {
        assert!(kc.get(&a, kind).is_none(), "{} left", kind.key(&a));
    }
    outputs.push(("logout", out.all()));

    // status: not logged in any more.
    let out = run(home.cmd(&["status", "--account", &a]), "").await;
    assert_eq!(out.code, Some(3), "{out}");
    assert!(out.error_line().contains("not logged in"), "{out}");
    assert!(!home.lists(&a), "{}", home.accounts_text());
    outputs.push(("status after logout", out.all()));
    outputs.push(("account file after logout", home.accounts_text()));

    let secrets = [
        SECRET.to_string(),
        refresh,
        login_access,
        status_access,
        code,
    ];
    for (what, text) in &outputs {
        assert_no_secrets(what, text, &secrets);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_client_code_logs_in_without_a_browser() {
    let Some(kc) = require_keychain("self_client_code_logs_in_without_a_browser") else {
        return;
    };
    let a = account("self-client");
    let _forget = Forget(Some(kc.clone()), a.clone());
    let sb = eu_sandbox().await;
    let home = Home::new();
    let code = sb.issue_grant_code("ZohoBigin.users.ALL,ZohoBigin.org.READ");
    let out = self_client_login(&home, &sb, &a, &code).await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        !out.stderr.contains("/oauth/v2/auth"),
        "no browser step: {out}"
    );
    assert!(
        out.stderr.contains(&format!("organisation '{ORG_NAME}'")),
        "{out}"
    );
    assert!(
        !sb.requests().iter().any(|r| r.path == "/oauth/v2/auth"),
        "no consent page"
    );
    let exchange = token_requests(&sb);
    assert_eq!(exchange.len(), 1);
    assert!(
        !exchange[0].body.contains("redirect_uri"),
        "Self Client codes are exchanged without a redirect URI: {}",
        exchange[0].body
    );
    assert!(home.lists(&a));
    let refresh = kc.get(&a, SecretKind::RefreshToken).expect("refresh token");
    let access = kc.access_token(&a).expect("access token cached");
    assert_eq!(
        kc.get(&a, SecretKind::ClientSecret).as_deref(),
        Some(SECRET)
    );
    let secrets = [SECRET.to_string(), code, refresh, access];
    assert_no_secrets("login", &out.all(), &secrets);
    assert_no_secrets("account file", &home.accounts_text(), &secrets);
}

// ---------------------------------------------------------------------------
// Failures: a clear sentence, a non-zero exit, nothing stored.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_data_centre_is_a_usage_error() {
    // Fails before the keychain is opened, so it runs everywhere.
    let kc = optional_keychain("an_unknown_data_centre_is_a_usage_error");
    let a = account("dc-mars");
    let _forget = Forget(kc.clone(), a.clone());
    let home = Home::new();
    let args = [
        "login",
        "--dc",
        "mars",
        "--client-id",
        sandbox::DEMO_CLIENT_ID,
        "--client-secret-stdin",
        "--account",
        &a,
    ];
    let out = run(home.cmd(&args), SECRET).await;
    assert_eq!(out.code, Some(2), "{out}");
    // Refused by the flag parser (clap's `error:` line), before anything runs.
    assert!(
        out.stderr
            .contains("invalid value 'mars' for '--dc <DC>': unknown data centre")
            && out.stderr.contains("us, eu, in, au, jp, cn, sa, ca"),
        "{out}"
    );
    assert_nothing_written(&home, kc.as_ref(), &a);
    assert_no_secrets("login", &out.all(), &[SECRET.to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_consent_stores_nothing() {
    let Some(kc) = require_keychain("declined_consent_stores_nothing") else {
        return;
    };
    let a = account("denied");
    let _forget = Forget(Some(kc.clone()), a.clone());
    let sb = eu_sandbox().await;
    let home = Home::new();
    sb.inject(Fault::new(FaultKind::ConsentDenied));
    let login = start_login(&home, &login_args(&sb, &a, free_port())).await;
    let b = browser();
    let callback = consent(&b, &login.url).await;
    assert_eq!(param(&callback, "error").as_deref(), Some("access_denied"));
    let page = open(&b, &callback).await;
    assert!(page.contains("bigin-mcp login failed"), "{page}");
    let out = login.finish().await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.error_line().contains("consent was declined"), "{out}");
    assert!(token_requests(&sb).is_empty());
    assert_nothing_written(&home, Some(&kc), &a);
    assert_no_secrets("login", &out.all(), &[SECRET.to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_with_the_wrong_state_is_refused() {
    let Some(kc) = require_keychain("a_callback_with_the_wrong_state_is_refused") else {
        return;
    };
    let a = account("state");
    let _forget = Forget(Some(kc.clone()), a.clone());
    let sb = eu_sandbox().await;
    let home = Home::new();
    let login = start_login(&home, &login_args(&sb, &a, free_port())).await;
    let b = browser();
    // A real code, but a state this login never issued (a forged redirect).
    let callback = consent(&b, &login.url).await;
    let code = param(&callback, "code").expect("a grant code");
    let forged = with_param(&callback, "state", "forged-state-value");
    let page = open(&b, &forged).await;
    assert!(page.contains("bigin-mcp login failed"), "{page}");
    let out = login.finish().await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.error_line().contains("state does not match"), "{out}");
    assert!(token_requests(&sb).is_empty(), "the code was not exchanged");
    assert_nothing_written(&home, Some(&kc), &a);
    assert_no_secrets("login", &out.all(), &[SECRET.to_string(), code]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_callback_port_is_a_usage_error() {
    // The keychain is opened before the port is bound.
    let Some(kc) = require_keychain("a_busy_callback_port_is_a_usage_error") else {
        return;
    };
    let a = account("busy-port");
    let _forget = Forget(Some(kc.clone()), a.clone());
    let sb = eu_sandbox().await;
    let home = Home::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = run(home.cmd(&login_args(&sb, &a, port)), SECRET).await;
    assert_eq!(out.code, Some(2), "{out}");
    let line = out.error_line();
    assert!(
        line.contains(&format!("127.0.0.1:{port}")) && line.contains("--port"),
        "{out}"
    );
    assert!(!out.stderr.contains("/oauth/v2/auth"), "no URL: {out}");
    assert!(sb.requests().is_empty());
    assert_nothing_written(&home, Some(&kc), &a);
    assert_no_secrets("login", &out.all(), &[SECRET.to_string()]);
    drop(taken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_error_inside_http_200_fails_the_login() {
    let Some(kc) = require_keychain("a_token_error_inside_http_200_fails_the_login") else {
        return;
    };
    let a = account("token-error");
    let _forget = Forget(Some(kc.clone()), a.clone());
    let sb = eu_sandbox().await;
    let home = Home::new();
    sb.inject(Fault::new(FaultKind::TokenError {
        error: "invalid_code".into(),
    }));
    let login = start_login(&home, &login_args(&sb, &a, free_port())).await;
    let b = browser();
    let callback = consent(&b, &login.url).await;
    let code = param(&callback, "code").expect("a grant code");
    let page = open(&b, &callback).await;
    assert!(page.contains("bigin-mcp login failed"), "{page}");
    assert!(page.contains("invalid_code"), "{page}");
    let out = login.finish().await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.error_line().contains("invalid_code"), "{out}");
    assert_eq!(token_requests(&sb).len(), 1, "one exchange, refused");
    assert_nothing_written(&home, Some(&kc), &a);
    assert_no_secrets("login", &out.all(), &[SECRET.to_string(), code]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_accounts_server_gets_no_secret() {
    let Some(kc) = require_keychain("an_untrusted_accounts_server_gets_no_secret") else {
        return;
    };
    let a = account("evil");
    let _forget = Forget(Some(kc.clone()), a.clone());
    let sb = eu_sandbox().await;
    let home = Home::new();
    let port = free_port();
    let login = start_login(&home, &login_args(&sb, &a, port)).await;
    let b = browser();
    // The browser never visits the consent page: the callback is built by
    // hand, with the right state (from the printed URL) and a foreign
    // accounts server.
    let mut forged = Url::parse(&format!("http://127.0.0.1:{port}/callback")).unwrap();
    forged
        .query_pairs_mut()
        .append_pair("code", "1000.forged-grant-code")
        .append_pair("location", "eu")
        .append_pair("accounts-server", "https://evil.example")
        .append_pair("state", &login.state);
    assert!(
        forged
            .as_str()
            .contains("accounts-server=https%3A%2F%2Fevil.example")
    );
    let page = open(&b, &forged).await;
    assert!(page.contains("bigin-mcp login failed"), "{page}");
    let out = login.finish().await;
    assert_eq!(out.code, Some(1), "{out}");
    let line = out.error_line();
    assert!(
        line.contains("evil.example") && line.contains("not a Zoho accounts host"),
        "{out}"
    );
    assert!(token_requests(&sb).is_empty(), "no token request anywhere");
    assert_nothing_written(&home, Some(&kc), &a);
    assert_no_secrets("login", &out.all(), &[SECRET.to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keychain_login_fails_before_the_browser() {
    // Needs no keychain itself; checks the real one (if any) stays clean.
    let kc = optional_keychain("without_a_keychain_login_fails_before_the_browser");
    let a = account("no-keychain");
    let _forget = Forget(kc.clone(), a.clone());
    let sb = eu_sandbox().await;
    let home = Home::new();
    let out = run(
        home.cmd_without_keychain(&login_args(&sb, &a, free_port())),
        SECRET,
    )
    .await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.error_line().contains("keychain"), "{out}");
    assert!(!out.stderr.contains("/oauth/v2/auth"), "no URL: {out}");
    assert!(sb.requests().is_empty(), "nothing sent to Zoho");
    assert_nothing_written(&home, kc.as_ref(), &a);
    assert_no_secrets("login", &out.all(), &[SECRET.to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_forgets_locally_even_when_the_revoke_fails() {
    let Some(kc) = require_keychain("logout_forgets_locally_even_when_the_revoke_fails") else {
        return;
    };
    let a = account("revoke-fails");
    let _forget = Forget(Some(kc.clone()), a.clone());
    let sb = eu_sandbox().await;
    let home = Home::new();
    let code = sb.issue_grant_code("ZohoBigin.users.ALL,ZohoBigin.org.READ");
    let login = self_client_login(&home, &sb, &a, &code).await;
    assert_eq!(login.code, Some(0), "{login}");
    let refresh = kc.get(&a, SecretKind::RefreshToken).expect("refresh token");
    let access = kc.access_token(&a).expect("access token cached");

    sb.inject(Fault::new(FaultKind::ServerError { status: 500 }).on_path("/revoke"));
    let out = run(home.cmd(&["logout", "--account", &a]), "").await;
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stderr
            .contains(&format!("Removed '{a}' from this machine"))
            && out.stderr.contains("did not confirm the revocation"),
        "{out}"
    );
    assert!(
        sb.requests()
            .iter()
            .any(|r| r.method == "POST" && r.path == "/oauth/v2/token/revoke"),
        "a revocation was attempted"
    );
    assert_nothing_written(&home, Some(&kc), &a);
    let secrets = [SECRET.to_string(), code, refresh, access];
    assert_no_secrets("login", &login.all(), &secrets);
    assert_no_secrets("logout", &out.all(), &secrets);
    assert_no_secrets("account file", &home.accounts_text(), &secrets);
}

// ---------------------------------------------------------------------------
// No keychain at all: `--insecure-storage`.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keychain_login_suggests_insecure_storage_before_any_prompt() {
    let home = Home::new();
    // No --client-id and no secret on stdin: were it to prompt first, it
    // would fail on the missing client id instead.
    let out = run(home.cmd_without_keychain(&["login"]), "").await;
    assert_eq!(out.code, Some(1), "{out}");
    let line = out.error_line();
    assert!(
        line.contains("keychain") && line.contains("--insecure-storage"),
        "{out}"
    );
    assert!(!out.stderr.contains("client id"), "no prompt: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_storage_logs_in_serves_and_logs_out_without_a_keychain() {
    let a = account("file");
    let sb = eu_sandbox().await;
    let home = Home::new();
    let code = sb.issue_grant_code("ZohoBigin.users.ALL,ZohoBigin.org.READ");
    let args = [
        "login",
        "--insecure-storage",
        "--code",
        &code,
        "--client-id",
        sandbox::DEMO_CLIENT_ID,
        "--client-secret-stdin",
        "--accounts-url",
        &sb.base_url(),
        "--account",
        &a,
    ];
    let out = run(home.cmd_without_keychain(&args), SECRET).await;
    assert_eq!(out.code, Some(0), "{out}");
    let creds = home.dir.path().join("config/bigin-mcp/credentials.json");
    assert!(
        out.stderr.contains(&creds.display().to_string()),
        "login says where: {out}"
    );
    assert!(home.lists(&a));
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&creds).unwrap()).unwrap();
    let refresh = stored[SecretKind::RefreshToken.key(&a)]
        .as_str()
        .expect("the refresh token is in the file")
        .to_string();
    assert_eq!(stored[SecretKind::ClientSecret.key(&a)], SECRET);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&creds), 0o600);
        assert_eq!(mode(creds.parent().unwrap()), 0o700);
    }
    let mut outputs = vec![("login", out.all())];

    // status: on stdout, refresh works, and it says where the secrets are.
    let out = run(home.cmd_without_keychain(&["status", "--account", &a]), "").await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        out.stdout.contains("token refresh: works")
            && out.stdout.contains(&creds.display().to_string()),
        "{out}"
    );
    outputs.push(("status", out.all()));

    // serve: the first call finds the file's tokens.
    let (transport, stderr) =
        TokioChildProcess::builder(home.cmd_without_keychain(&["serve", "--account", &a]))
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn bigin-mcp serve");
    let stderr = tokio::spawn(read_all(stderr.expect("piped stderr")));
    let client: rmcp::service::RunningService<RoleClient, ()> =
        ().serve(transport).await.expect("initialize over stdio");
    let r = client
        .call_tool(CallToolRequestParams::new("bigin_get_organization"))
        .await
        .expect("tools/call answered");
    assert_ne!(r.is_error, Some(true), "{}", text(&r));
    assert_eq!(
        r.structured_content.as_ref().unwrap()["org"]["company_name"],
        ORG_NAME
    );
    client.cancel().await.unwrap();
    outputs.push((
        "serve",
        tokio::time::timeout(STEP, stderr).await.unwrap().unwrap(),
    ));

    // logout: revoked, and the file goes with the last secret.
    let out = run(home.cmd_without_keychain(&["logout", "--account", &a]), "").await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(!creds.exists(), "no secrets file left");
    assert!(!home.lists(&a));
    outputs.push(("logout", out.all()));

    // Again: nothing to log out, and it says so instead of "log in".
    let out = run(home.cmd_without_keychain(&["logout", "--account", &a]), "").await;
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("Nothing to log out"), "{out}");
    assert!(!out.stderr.contains("bigin-mcp login"), "{out}");

    let secrets = [SECRET.to_string(), code, refresh];
    for (what, text) in &outputs {
        assert_no_secrets(what, text, &secrets);
    }
}
