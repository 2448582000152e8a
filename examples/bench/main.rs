//! Benchmark of the release binary running `bigin-mcp serve`, spoken to over
//! MCP stdio (newline-delimited JSON-RPC 2.0) exactly as a host would.
//!
//! Run it with:
//!
//! ```text
//! cargo build --release && cargo run --release --example bench
//! cargo run --release --example bench -- --bin PATH   # another binary
//! ```
//!
//! The server runs as in production (`serve` with env credentials) against
//! the project's sandbox Zoho API, which this program starts on 127.0.0.1 in
//! its own process, so the server's figures do not include the fake Zoho.
//! `serve --demo` (sandbox inside the server) is measured too, for reference.
//! What it measures:
//!
//! 1. cold start: wall time from just before spawn to the `tools/list`
//!    reply, over 20 fresh processes (median, min, max);
//! 2. peak RSS (`VmHWM`) of one session doing initialize, `tools/list` and
//!    21 mixed tool calls (every read tool, the largest pages);
//! 3. median `tools/call` latency in a warm process: 50 calls of
//!    `bigin_get_organization`, 20 of `bigin_access_review`, 20 of
//!    `bigin_list_users` with `{"limit":200}`;
//! 4. bytes per user of `bigin_list_users` text output, concise vs full;
//! 5. bytes of the `tools/list` result for the default tool set;
//! 6. peak RSS of 1,000 pipelined `bigin_access_review` calls (all written
//!    before the first reply is read), and the RSS once they are answered.
//!
//! For context it also shows spawn to the initialize reply, the start-up
//! floor (spawn to exit of `bigin-mcp --version`) and stdin EOF to exit.
//!
//! It prints a table, writes the same figures to `target/bench.json`, and
//! exits 1 if any target fails (2 if the benchmark itself could not run), so
//! a regression cannot pass silently.
//!
//! Only std and serde_json are used: the point is to measure the server, not
//! an MCP client library, and to see the raw bytes a host would see.

use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod measures;
mod session;
use measures::*;
use session::*;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Any wait on the server (a reply, an exit) longer than this is an error:
/// a hung server must fail the benchmark, not hang it.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The protocol version we offer; the reply's is checked against it.
const PROTOCOL_VERSION: &str = "2025-06-18";
/// Fresh processes for the cold-start figure.
const COLD_RUNS: usize = 20;
/// A single call slower than this is worth mentioning in the notes.
const SLOW_CALL: Duration = Duration::from_secs(1);

// Targets. The cold start is judged on the median so one unlucky schedule
// on a busy machine does not fail the run; min and max are still shown.
const TARGET_COLD_MS: f64 = 10.0;
const TARGET_RSS_MIB: f64 = 12.0;
/// The default tools/list budget (the brief: up to 10 KiB; KiB, as a power of
/// two is the usual reading of "KB" for an agent's context).
const TARGET_TOOLS_LIST_BYTES: usize = 10 * 1024;
const TARGET_CONCISE_PCT: f64 = 15.0;
/// Pipelined access reviews in the burst figure, and its memory ceiling.
const BURST: usize = 1000;
const TARGET_BURST_MIB: f64 = 64.0;
/// All tools enabled: tools/list ceiling.
const TARGET_TOOLS_LIST_ALL_BYTES: usize = 12 * 1024;
/// The review's size in each channel for the 450-user sandbox.
const TARGET_REVIEW_BYTES: usize = 8 * 1024;
/// Zoho requests of a first review of the 450-user sandbox.
const TARGET_FIRST_REVIEW_REQUESTS: usize = 10;
/// The organisation of the scale figure, and its ceilings.
const SCALE_USERS: usize = 50_000;
const TARGET_SCALE_MIB: f64 = 40.0;
const TARGET_PAGING_RATIO: f64 = 1.5;

/// Proxy variables are removed from the server's environment: the demo's
/// HTTP client would otherwise honour them and could send the sandbox's
/// loopback traffic to a proxy, and this benchmark must only talk to
/// 127.0.0.1.
const PROXY_VARS: [&str; 6] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
];

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::from(2)
        }
    }
}

/// Where things are and how the server is started.
struct Config {
    bin: PathBuf,
    audit_log: PathBuf,
    /// XDG_DATA_HOME for the server: review snapshots land here, not in
    /// the user's data directory.
    data_home: PathBuf,
    /// Extra `serve` flags (e.g. `--allow-delete` for the all-tools figure).
    extra: Vec<String>,
    /// The sandbox's URL (accounts server and API domain), or `None` for
    /// `serve --demo`.
    sandbox: Option<String>,
}

impl Config {
    /// The server command. Built before the clock starts so that the
    /// cold-start figure is spawn-to-reply only.
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        match &self.sandbox {
            Some(url) => {
                cmd.arg("serve")
                    .env("BIGIN_CLIENT_ID", bigin_mcp::sandbox::DEMO_CLIENT_ID)
                    .env(
                        "BIGIN_CLIENT_SECRET",
                        bigin_mcp::sandbox::DEMO_CLIENT_SECRET,
                    )
                    .env(
                        "BIGIN_REFRESH_TOKEN",
                        bigin_mcp::sandbox::DEMO_REFRESH_TOKEN,
                    )
                    .env("BIGIN_ACCOUNTS_URL", url);
            }
            None => {
                cmd.args(["serve", "--demo"]);
            }
        }
        cmd.args(&self.extra);
        // Never the user's audit log or snapshots; keep their home clean.
        cmd.env("BIGIN_AUDIT_LOG", &self.audit_log)
            .env("XDG_DATA_HOME", &self.data_home)
            .env_remove("BIGIN_TOOLSETS")
            .env_remove("BIGIN_TOOLS")
            .env_remove("BIGIN_EXCLUDE_TOOLS")
            .env_remove("BIGIN_METHODS")
            .env_remove("BIGIN_ALLOW_DELETE")
            // The figures are for the default tool set and default logging,
            // whatever the caller's shell has set.
            .env_remove("BIGIN_READ_ONLY")
            .env_remove("BIGIN_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Logs are not part of the protocol; a full stderr pipe nobody
            // reads could also stall the server.
            .stderr(Stdio::null());
        for v in PROXY_VARS {
            cmd.env_remove(v);
        }
        cmd
    }

    fn command_line(&self) -> String {
        match &self.sandbox {
            Some(url) => format!(
                "BIGIN_CLIENT_ID=… BIGIN_CLIENT_SECRET=… BIGIN_REFRESH_TOKEN=… BIGIN_ACCOUNTS_URL={url} {} serve",
                self.bin.display()
            ),
            None => format!("{} serve --demo", self.bin.display()),
        }
    }
}

fn usage() -> &'static str {
    "usage: cargo run --release --example bench [-- --bin PATH]\n\
     Benchmarks `PATH serve` against the sandbox (default: target/release/bigin-mcp)."
}

/// `--bin PATH` / `--bin=PATH`; anything else is refused so a typo is not
/// silently ignored.
fn parse_args() -> Result<Option<PathBuf>> {
    let mut bin = None;
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("--bin") => {
                let p = args.next().ok_or("--bin needs a path")?;
                bin = Some(PathBuf::from(p));
            }
            Some(s) if s.starts_with("--bin=") => {
                bin = s.strip_prefix("--bin=").map(PathBuf::from);
            }
            Some("-h" | "--help") => {
                println!("{}", usage());
                std::process::exit(0);
            }
            _ => return Err(format!("unexpected argument {a:?}\n{}", usage()).into()),
        }
    }
    Ok(bin)
}

/// `target/release/bigin-mcp`: the example lives in `target/release/examples/`.
fn default_bin() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let release = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot locate the target directory from the example's path")?;
    Ok(release.join(format!("bigin-mcp{}", std::env::consts::EXE_SUFFIX)))
}

/// `target/bench.json`, next to the `release` directory this example runs
/// from, so it lands in the right place whatever the working directory or
/// `CARGO_TARGET_DIR`.
fn json_out_path() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.parent()?.parent()?.join("bench.json")))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench.json"))
}

fn text_of(result: &Value) -> &str {
    result
        .pointer("/content/0/text")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Median, min, max of a non-empty sample.
#[derive(Clone, Copy)]
struct Stats {
    median: f64,
    min: f64,
    max: f64,
    n: usize,
}

impl Stats {
    fn of(xs: &[f64]) -> Stats {
        let mut v = xs.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Stats {
            median,
            min: v[0],
            max: v[n - 1],
            n,
        }
    }

    fn json(&self) -> Value {
        json!({"runs": self.n, "median": round1(self.median),
            "min": round1(self.min), "max": round1(self.max)})
    }
}

/// Peak resident set size of a live process, from `/proc/<pid>/status`.
fn peak_rss_kib(pid: u32) -> Result<u64> {
    status_kib(pid, "VmHWM:")
}

/// One `kB` line of `/proc/<pid>/status` (`VmHWM:` peak, `VmRSS:` now).
fn status_kib(pid: u32, key: &str) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {path} (Linux only): {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {key} line in {path}").into())
}

struct Target {
    name: &'static str,
    shown: String,
    limit: String,
    pass: bool,
    value: f64,
}

fn run() -> Result<bool> {
    let bin = match parse_args()? {
        Some(b) => b,
        None => default_bin()?,
    };
    if !bin.is_file() {
        return Err(format!(
            "no server binary at {}; run `cargo build --release` first (or pass --bin PATH)",
            bin.display()
        )
        .into());
    }
    let audit_log =
        std::env::temp_dir().join(format!("bigin-mcp-bench-{}.log", std::process::id()));
    // The fake Zoho lives in this process, on its own runtime threads, so
    // the server's memory and start-up are its own.
    let rt = tokio::runtime::Runtime::new()?;
    let sandbox = rt.block_on(bigin_mcp::sandbox::Sandbox::start(Default::default()))?;
    let data_home =
        std::env::temp_dir().join(format!("bigin-mcp-bench-data-{}", std::process::id()));
    let cfg = Config {
        bin,
        audit_log,
        data_home,
        extra: vec![],
        sandbox: Some(sandbox.base_url()),
    };
    let result = measure(&cfg, &sandbox, &rt);
    drop(sandbox);
    let _ = std::fs::remove_dir_all(&cfg.data_home);
    // Read-only tools should write nothing, but clean up whatever was made.
    let _ = std::fs::remove_file(&cfg.audit_log);
    result
}

fn measure(
    cfg: &Config,
    sandbox: &bigin_mcp::sandbox::Sandbox,
    rt: &tokio::runtime::Runtime,
) -> Result<bool> {
    /// Width of the label column.
    const W: usize = 58;
    let mut notes = Notes::default();
    println!("bigin-mcp benchmark");
    println!("command: {}", cfg.command_line());
    println!();

    let demo = Config {
        bin: cfg.bin.clone(),
        audit_log: cfg.audit_log.clone(),
        data_home: cfg.data_home.clone(),
        extra: vec![],
        sandbox: None,
    };
    let demo_cold = cold_start(&demo, &mut notes)?.to_list;
    let (demo_rss, _) = peak_rss(&demo, &mut notes)?;
    let cold_all = cold_start(cfg, &mut notes)?;
    let cold = cold_all.to_list;
    let (rss_mib, tools) = peak_rss(cfg, &mut notes)?;
    let tools_bytes = serde_json::to_string(&tools)?.len();
    let tool_names: Vec<&str> = tools
        .get("tools")
        .and_then(Value::as_array)
        .map(|ts| ts.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();

    let (burst_peak, burst_after, burst_secs) = burst(cfg, &mut notes)?;
    let tools_all_bytes = tools_list_all(cfg)?;
    let costs = review_costs(cfg, sandbox)?;
    let sc = scale(cfg, rt)?;
    let ratio = sc.page_all_s / sc.read_once_s;

    let mut s = Session::spawn(cfg.command())?;
    s.handshake()?;
    let lat = latencies(&mut s)?;
    let (concise, concise_json, n_concise) = bytes_per_user(&mut s, "concise")?;
    let (full, full_json, n_full) = bytes_per_user(&mut s, "full")?;
    s.close(&mut notes)?;
    let pct = concise / full * 100.0;
    if n_concise != n_full {
        notes.add(format!(
            "concise and full pages hold different user counts ({n_concise} vs {n_full})"
        ));
    }

    // Timing rows: median, then min and max for spread.
    let stat_row = |label: String, st: &Stats| {
        println!(
            "{label:<W$} {:>8.1} ms   (min {:.1}, max {:.1})",
            st.median, st.min, st.max
        );
    };
    println!("{:<W$} {:>8}", "measure", "value");
    println!("{}", "-".repeat(W + 9));
    stat_row(
        format!("spawn -> tools/list reply, median of {}", cold.n),
        &cold,
    );
    stat_row(
        "  of which spawn -> initialize reply".into(),
        &cold_all.to_init,
    );
    stat_row(
        "  floor: spawn -> exit of `--version`".into(),
        &cold_all.version,
    );
    stat_row("stdin EOF -> exit".into(), &cold_all.exit);
    println!(
        "{:<W$} {:>8.1} MiB",
        format!("peak RSS (VmHWM), {}-call session", mixed_calls().len()),
        rss_mib
    );
    for (name, args, st) in &lat {
        stat_row(format!("tools/call {name} {args}, median of {}", st.n), st);
    }
    println!(
        "{:<W$} {:>8} B",
        "tools/list result JSON, every tool (--allow-delete)", tools_all_bytes
    );
    println!(
        "{:<W$} {:>8} B    (structured {} B)",
        "access review, text channel", costs.text_bytes, costs.structured_bytes
    );
    println!(
        "{:<W$} {:>8}      (second {}, after a write {}{})",
        "Zoho requests: first access review",
        costs.first,
        costs.second,
        costs.after_write,
        if costs.after_write_only_users {
            ", user pages only"
        } else {
            ", NOT only user pages"
        }
    );
    println!(
        "{:<W$} {:>8}      (user read, PUT, read-back; the org check was cached)",
        "Zoho requests: one deactivation", costs.write
    );
    println!(
        "{:<W$} {:>8.1} MiB",
        format!("{} users: peak RSS, one access review", sc.users),
        sc.review_peak_mib
    );
    println!(
        "{:<W$} {:>8.1} MiB  (all pages {:.2} s, reading Zoho once {:.2} s, {ratio:.2}x)",
        format!("{} users: peak RSS, paging all (1,000 a call)", sc.users),
        sc.list_peak_mib,
        sc.page_all_s,
        sc.read_once_s
    );
    println!(
        "{:<W$} {:>8.1} MiB  (RSS after {burst_after:.1} MiB, {burst_secs:.1} s)",
        format!("peak RSS, {BURST} pipelined access reviews"),
        burst_peak
    );
    println!(
        "{:<W$} {:>8.1} B    ({n_concise} users)",
        "list_users text bytes/user, concise", concise
    );
    println!(
        "{:<W$} {:>8.1} B    ({n_full} users)",
        "list_users text bytes/user, full", full
    );
    println!("{:<W$} {:>8.1} %", "concise / full", pct);
    println!(
        "{:<W$} {:>8.1} B    (full {:.1} B, {:.1} %)",
        "structuredContent JSON bytes/user, concise",
        concise_json,
        full_json,
        concise_json / full_json * 100.0
    );
    println!(
        "{:<W$} {:>8} B    ({} tools)",
        "tools/list result JSON",
        tools_bytes,
        tool_names.len()
    );
    stat_row(
        format!(
            "reference: `serve --demo` spawn -> tools/list, median of {}",
            demo_cold.n
        ),
        &demo_cold,
    );
    println!(
        "{:<W$} {:>8.1} MiB",
        "reference: `serve --demo` peak RSS (sandbox inside)", demo_rss
    );
    println!();

    let targets = [
        Target {
            name: "spawn -> tools/list median",
            shown: format!("{:.1} ms", cold.median),
            limit: format!("< {TARGET_COLD_MS} ms"),
            pass: cold.median < TARGET_COLD_MS,
            value: round1(cold.median),
        },
        Target {
            name: "peak RSS",
            shown: format!("{rss_mib:.1} MiB"),
            limit: format!("< {TARGET_RSS_MIB} MiB"),
            pass: rss_mib < TARGET_RSS_MIB,
            value: round1(rss_mib),
        },
        Target {
            name: "tools/list result",
            shown: format!("{tools_bytes} B"),
            limit: format!("<= {TARGET_TOOLS_LIST_BYTES} B (10 KiB)"),
            pass: tools_bytes <= TARGET_TOOLS_LIST_BYTES,
            value: tools_bytes as f64,
        },
        Target {
            name: "peak RSS, review burst",
            shown: format!("{burst_peak:.1} MiB"),
            limit: format!("<= {TARGET_BURST_MIB} MiB"),
            pass: burst_peak <= TARGET_BURST_MIB,
            value: round1(burst_peak),
        },
        Target {
            name: "tools/list, every tool",
            shown: format!("{tools_all_bytes} B"),
            limit: format!("<= {TARGET_TOOLS_LIST_ALL_BYTES} B (12 KiB)"),
            pass: tools_all_bytes <= TARGET_TOOLS_LIST_ALL_BYTES,
            value: tools_all_bytes as f64,
        },
        Target {
            name: "review bytes, larger channel",
            shown: format!("{} B", costs.text_bytes.max(costs.structured_bytes)),
            limit: format!("<= {TARGET_REVIEW_BYTES} B (8 KiB)"),
            pass: costs.text_bytes.max(costs.structured_bytes) <= TARGET_REVIEW_BYTES,
            value: costs.text_bytes.max(costs.structured_bytes) as f64,
        },
        Target {
            name: "first review, Zoho requests",
            shown: format!("{}", costs.first),
            limit: format!("<= {TARGET_FIRST_REVIEW_REQUESTS}"),
            pass: costs.first <= TARGET_FIRST_REVIEW_REQUESTS,
            value: costs.first as f64,
        },
        Target {
            name: "second review, Zoho requests",
            shown: format!("{}", costs.second),
            limit: "0".into(),
            pass: costs.second == 0,
            value: costs.second as f64,
        },
        Target {
            name: "review after a write",
            shown: format!("{} req", costs.after_write),
            limit: "user pages only".into(),
            pass: costs.after_write_only_users && costs.after_write > 0,
            value: costs.after_write as f64,
        },
        Target {
            name: "50k users: review peak RSS",
            shown: format!("{:.1} MiB", sc.review_peak_mib),
            limit: format!("<= {TARGET_SCALE_MIB} MiB"),
            pass: sc.review_peak_mib <= TARGET_SCALE_MIB,
            value: round1(sc.review_peak_mib),
        },
        Target {
            name: "50k users: paging peak RSS",
            shown: format!("{:.1} MiB", sc.list_peak_mib),
            limit: format!("<= {TARGET_SCALE_MIB} MiB"),
            pass: sc.list_peak_mib <= TARGET_SCALE_MIB,
            value: round1(sc.list_peak_mib),
        },
        Target {
            name: "50k users: paging / read once",
            shown: format!("{ratio:.2}x"),
            limit: format!("<= {TARGET_PAGING_RATIO}x"),
            pass: ratio <= TARGET_PAGING_RATIO,
            value: (ratio * 100.0).round() / 100.0,
        },
        Target {
            name: "concise structured bytes/user",
            shown: format!("{:.1} %", concise_json / full_json * 100.0),
            limit: format!("<= {TARGET_CONCISE_PCT} %"),
            pass: concise_json / full_json * 100.0 <= TARGET_CONCISE_PCT,
            value: round1(concise_json / full_json * 100.0),
        },
        Target {
            name: "concise bytes/user vs full",
            shown: format!("{pct:.1} %"),
            limit: format!("<= {TARGET_CONCISE_PCT} %"),
            pass: pct <= TARGET_CONCISE_PCT,
            value: round1(pct),
        },
    ];
    println!("{:<30} {:>12}  {:<22} result", "target", "value", "limit");
    println!("{}", "-".repeat(73));
    for t in &targets {
        let verdict = if t.pass { "PASS" } else { "FAIL" };
        println!("{:<30} {:>12}  {:<22} {verdict}", t.name, t.shown, t.limit);
    }
    let all_pass = targets.iter().all(|t| t.pass);

    let note_lines = notes.lines();
    println!();
    if note_lines.is_empty() {
        println!("notes: nothing odd on the wire (no stray stdout, notifications or slow calls)");
    } else {
        println!("notes:");
        for n in &note_lines {
            println!("  - {n}");
        }
    }

    let report = json!({
        "command": cfg.command_line(),
        "binary": cfg.bin.display().to_string(),
        "spawn_to_tools_list_ms": cold.json(),
        "spawn_to_initialize_ms": cold_all.to_init.json(),
        "spawn_to_version_exit_ms": cold_all.version.json(),
        "eof_to_exit_ms": cold_all.exit.json(),
        "peak_rss_mib": round1(rss_mib),
        "review_burst": {
            "reviews": BURST,
            "peak_rss_mib": round1(burst_peak),
            "rss_after_mib": round1(burst_after),
            "seconds": round1(burst_secs),
        },
        "demo_spawn_to_tools_list_ms": demo_cold.json(),
        "demo_peak_rss_mib": round1(demo_rss),
        "tools_call_ms": lat.iter().map(|(name, args, st)| {
            let mut v = st.json();
            v["tool"] = json!(name);
            v["arguments"] = args.clone();
            v
        }).collect::<Vec<_>>(),
        "list_users_bytes_per_user": {
            "concise": round1(concise),
            "full": round1(full),
            "users": n_full,
            "concise_pct_of_full": round1(pct),
            "structured_json_concise": round1(concise_json),
            "structured_json_full": round1(full_json),
        },
        "tools_list_bytes": tools_bytes,
        "tools_list_bytes_all_tools": tools_all_bytes,
        "access_review": {
            "text_bytes": costs.text_bytes,
            "structured_bytes": costs.structured_bytes,
            "zoho_requests_first": costs.first,
            "zoho_requests_second": costs.second,
            "zoho_requests_after_write": costs.after_write,
            "zoho_requests_per_deactivation": costs.write,
            "after_write_only_user_pages": costs.after_write_only_users,
        },
        "scale": {
            "users": sc.users,
            "review_peak_rss_mib": round1(sc.review_peak_mib),
            "paging_peak_rss_mib": round1(sc.list_peak_mib),
            "paging_all_seconds": (sc.page_all_s * 1000.0).round() / 1000.0,
            "read_once_seconds": (sc.read_once_s * 1000.0).round() / 1000.0,
            "ratio": (ratio * 100.0).round() / 100.0,
        },
        "tools": tool_names,
        "targets": targets.iter().map(|t| json!({
            "name": t.name, "value": t.value, "limit": t.limit, "pass": t.pass,
        })).collect::<Vec<_>>(),
        "pass": all_pass,
        "notes": note_lines,
    });
    let out = json_out_path();
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, serde_json::to_string_pretty(&report)? + "\n")
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!();
    println!("wrote {}", out.display());
    if !all_pass {
        eprintln!("bench: a target failed");
    }
    Ok(all_pass)
}
