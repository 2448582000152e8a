//! The HTTP layer under both Zoho clients (API and accounts): the one
//! `reqwest` set-up (rustls, no redirects, proxies with loopback bypassed),
//! the lazily built [`Http`] handle, and transport errors described without
//! URLs, and bodies read with a size cap. It sits below `client` and `token`, so neither imports the other.

use std::sync::Arc;
use std::time::Duration;

/// Builds the HTTP client every Zoho call uses: rustls with ring, no
/// redirects (the token must never follow a redirect elsewhere), a timeout.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    // Installing twice is harmless; the first provider wins.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("bigin-mcp/", env!("CARGO_PKG_VERSION")))
        // Proxies come from the environment as usual, below, except that
        // loopback (the sandbox, local proxies) is always reached directly.
        .no_proxy();
    for proxy in env_proxies() {
        b = b.proxy(proxy);
    }
    b.build()
        .expect("the TLS backend and resolver are available")
}

/// Largest answer read from the accounts server (refresh, code exchange,
/// revoke). A token answer is under 1 KB; this leaves room for an HTML error
/// page while a runaway answer cannot take the process's memory.
pub(crate) const MAX_TOKEN_BODY_BYTES: usize = 1 << 20;

/// The body, read chunk by chunk; `None` once it passes `cap` bytes, so a
/// runaway answer costs at most `cap` of memory.
pub(crate) async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Ok(None);
    }
    let mut buf = Vec::with_capacity(resp.content_length().unwrap_or(0) as usize);
    while let Some(chunk) = resp.chunk().await? {
        if buf.len() + chunk.len() > cap {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Some(buf))
}

/// `HTTPS_PROXY`, `HTTP_PROXY` and `ALL_PROXY` (either case), honouring
/// `NO_PROXY` plus loopback. A malformed proxy URL is ignored with a warning.
fn env_proxies() -> Vec<reqwest::Proxy> {
    let var = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok())
            .filter(|v| !v.trim().is_empty())
    };
    let no_proxy = format!(
        "{},localhost,127.0.0.1,::1",
        var(["NO_PROXY", "no_proxy"]).unwrap_or_default()
    );
    let mut out = Vec::new();
    type MakeProxy = fn(&str) -> reqwest::Result<reqwest::Proxy>;
    let kinds: [([&str; 2], MakeProxy); 3] = [
        (["HTTPS_PROXY", "https_proxy"], |u| reqwest::Proxy::https(u)),
        (["HTTP_PROXY", "http_proxy"], |u| reqwest::Proxy::http(u)),
        (["ALL_PROXY", "all_proxy"], |u| reqwest::Proxy::all(u)),
    ];
    for (names, make) in kinds {
        if let Some(url) = var(names) {
            match make(&url) {
                Ok(p) => out.push(p.no_proxy(reqwest::NoProxy::from_string(&no_proxy))),
                Err(_) => tracing::warn!(
                    variable = names[0],
                    "ignoring a proxy URL that does not parse"
                ),
            }
        }
    }
    out
}

/// An HTTP client built on first use. Building one loads the platform's
/// certificate store (about 4 ms and a few hundred files), which start-up
/// and `tools/list` should not pay for.
#[derive(Clone)]
pub struct Http {
    cell: Arc<std::sync::OnceLock<reqwest::Client>>,
    timeout: Duration,
}

impl Http {
    /// A client that is built when the first request needs it.
    pub fn lazy(timeout: Duration) -> Http {
        Http {
            cell: Arc::new(std::sync::OnceLock::new()),
            timeout,
        }
    }

    /// The client, built now if it was not yet.
    pub fn client(&self) -> &reqwest::Client {
        self.cell.get_or_init(|| http_client(self.timeout))
    }
}

impl From<reqwest::Client> for Http {
    fn from(c: reqwest::Client) -> Http {
        Http {
            cell: Arc::new(std::sync::OnceLock::from(c)),
            timeout: Duration::from_secs(30),
        }
    }
}

impl std::ops::Deref for Http {
    type Target = reqwest::Client;
    fn deref(&self) -> &reqwest::Client {
        self.client()
    }
}

/// Describes a transport error without its URL: ours never carries a
/// secret, but the message reads better as "timed out: ..." than as a URL dump.
pub(crate) fn without_url(e: &reqwest::Error) -> String {
    let mut msg = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "the response was cut off"
    } else {
        "request failed"
    }
    .to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}
