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
//! Tests that need the keychain are `#[ignore]`d unless the build saw
//! `BIGIN_TEST_SECRET_SERVICE=1` (see `build.rs`; scripts/with-secret-service
//! and CI set it), so `cargo test` reports them as ignored, not passed. With
//! it set, an unreachable keychain fails them. Each test starts from a
//! [`LoginCase`]: a temp home, an `eu` sandbox, a unique account name and
//! the keychain, cleaned up when the test ends.
//!
//! - `flows`: the happy paths.
//! - `failures`: every refusal, with nothing stored.
//! - `storage`: `--insecure-storage`, and concurrent logins beside `serve`.
//! - `in_client`: `serve` with nobody logged in gives the consent link and
//!   finishes the login itself (no terminal).

mod failures;
mod flows;
mod in_client;
mod storage;
mod two_orgs;

use std::ffi::OsStr;
use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use bigin_mcp::auth::{OsStore, SecretKind, SecretStore};
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

/// A Self Client login of `account` for `scopes` into `credentials.json`
/// (`--insecure-storage`, no keychain).
async fn insecure_login(home: &Home, sb: &Sandbox, account: &str, scopes: &[&str]) -> Out {
    let code = sb.issue_grant_code(&scopes.join(","));
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
        account,
    ];
    run(home.cmd_without_keychain(&args), SECRET).await
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
// One test's world.

/// A login test's temp home, `eu` sandbox and unique account name, plus the
/// OS keychain when the test uses one. The account's keychain entries are
/// removed when the case is dropped, passed or failed, so the keyring (on a
/// desktop, the user's own) keeps no test secrets.
struct LoginCase {
    home: Home,
    sb: Sandbox,
    account: String,
    kc: Option<Keychain>,
}

impl LoginCase {
    /// For a test that cannot run without the keychain: `None` (after a line
    /// saying why) when there is none, unless one was promised.
    async fn with_keychain(test: &str, name: &str) -> Option<LoginCase> {
        let kc = require_keychain(test)?;
        Some(LoginCase::new(name, Some(kc)).await)
    }

    /// For a test that runs without the keychain but checks it when it can.
    async fn maybe_keychain(test: &str, name: &str) -> LoginCase {
        LoginCase::new(name, optional_keychain(test)).await
    }

    /// For a test that keeps away from the keychain altogether.
    async fn without_keychain(name: &str) -> LoginCase {
        LoginCase::new(name, None).await
    }

    async fn new(name: &str, kc: Option<Keychain>) -> LoginCase {
        LoginCase {
            home: Home::new(),
            sb: eu_sandbox().await,
            account: account(name),
            kc,
        }
    }

    /// The keychain of a case made [`LoginCase::with_keychain`].
    fn kc(&self) -> &Keychain {
        self.kc.as_ref().expect("a case with the keychain")
    }

    /// `login` with the browser flow for this case's account.
    fn login_args(&self, port: u16) -> Vec<String> {
        login_args(&self.sb, &self.account, port)
    }

    /// A Self Client login of this case's account.
    async fn self_client_login(&self, code: &str) -> Out {
        self_client_login(&self.home, &self.sb, &self.account, code).await
    }

    /// The failed login left no trace of this case's account.
    fn assert_nothing_written(&self) {
        assert_nothing_written(&self.home, self.kc.as_ref(), &self.account);
    }
}

impl Drop for LoginCase {
    fn drop(&mut self) {
        if let Some(k) = &self.kc {
            k.forget(&self.account);
        }
    }
}
