//! The Zoho client against the sandbox: what it sends, how it retries, and
//! how Zoho's odd answers become values or errors.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bigin_mcp::sandbox::{Fault, FaultKind, VariantName};
use bigin_mcp::zoho::{UserStatus, UserType, ZohoError, ZohoId};

use crate::common::*;

#[tokio::test]
async fn pages_through_every_user_with_one_token() {
    let sb = sandbox().await;
    let (c, tokens) = client(&sb);
    let users = c.list_users(UserType::AllUsers).await.unwrap();
    assert!(
        users.len() > 400,
        "several hundred users, got {}",
        users.len()
    );
    let pages: Vec<_> = sb
        .requests()
        .into_iter()
        .filter(|r| r.path == "/bigin/v2/users")
        .collect();
    assert!(pages.len() >= 3, "more than two pages: {}", pages.len());
    assert!(
        pages
            .iter()
            .all(|r| r.authorized && r.query.contains("per_page=200"))
    );
    assert_eq!(tokens.refresh_count(), 1);
    // Ids stay 19-digit strings.
    assert!(users.iter().all(|u| u.id.len() == 19));
}

#[tokio::test]
async fn unknown_ids_are_none_not_errors() {
    let sb = sandbox().await;
    let (c, _) = client(&sb);
    let id = ZohoId::parse("1234567890123456789", "user_id").unwrap();
    assert!(c.get_user(&id).await.unwrap().is_none());
    assert!(c.get_profile(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn twenty_parallel_calls_cause_one_refresh() {
    let sb = sandbox().await;
    let (c, tokens) = client(&sb);
    let calls = (0..20).map(|_| c.get_org());
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(tokens.refresh_count(), 1);
    let token_calls = sb
        .requests()
        .iter()
        .filter(|r| r.path == "/oauth/v2/token")
        .count();
    assert_eq!(token_calls, 1);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_call_retried() {
    let sb = sandbox().await;
    let (c, tokens) = client(&sb);
    c.get_org().await.unwrap();
    sb.expire_access_tokens();
    sb.clear_requests();
    c.get_org().await.unwrap();
    let paths: Vec<_> = sb.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        vec!["/bigin/v2/org", "/oauth/v2/token", "/bigin/v2/org"]
    );
    assert_eq!(tokens.refresh_count(), 2);
}

#[tokio::test]
async fn a_refused_refresh_token_is_an_auth_error_naming_the_code() {
    let sb = sandbox().await;
    sb.inject(Fault::new(FaultKind::TokenError {
        error: "invalid_client".into(),
    }));
    let (c, _) = client(&sb);
    let e = c.get_org().await.unwrap_err();
    assert!(matches!(e, ZohoError::Auth { .. }), "{e:?}");
    let m = e.to_string();
    assert!(
        m.contains("invalid_client") && m.contains("bigin-mcp login"),
        "{m}"
    );
    assert!(
        api_requests(&sb.requests()).is_empty(),
        "no API call without a token"
    );
}

#[tokio::test]
async fn rate_limits_honour_retry_after_then_succeed() {
    let sb = sandbox().await;
    let (c, _) = client(&sb);
    c.get_org().await.unwrap();
    sb.inject(
        Fault::new(FaultKind::RateLimited {
            retry_after_secs: Some(1),
        })
        .on_path("/org"),
    );
    let t = Instant::now();
    c.get_org().await.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn rate_limits_without_retry_after_back_off_exponentially() {
    let sb = sandbox().await;
    let (c, _) = client(&sb);
    c.get_org().await.unwrap();
    sb.clear_requests();
    sb.inject(
        Fault::new(FaultKind::RateLimited {
            retry_after_secs: None,
        })
        .times(3)
        .on_path("/org"),
    );
    c.get_org().await.unwrap();
    assert_eq!(api_requests(&sb.requests()).len(), 4);
}

#[tokio::test]
async fn persistent_rate_limits_end_in_an_error_that_says_when_to_retry() {
    let sb = sandbox().await;
    let (c, _) = client(&sb);
    c.get_org().await.unwrap();
    sb.clear_requests();
    // Retry-After beyond the client's 3 s budget: give up at once.
    sb.inject(
        Fault::new(FaultKind::RateLimited {
            retry_after_secs: Some(60),
        })
        .times(10),
    );
    let t = Instant::now();
    let e = c.get_org().await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(e.to_string().contains("Retry after 60 s"), "{e}");
    // Without Retry-After the budget bounds the waiting.
    sb.clear_faults();
    sb.inject(
        Fault::new(FaultKind::RateLimited {
            retry_after_secs: None,
        })
        .times(1000),
    );
    let t = Instant::now();
    let e = c.get_org().await.unwrap_err();
    assert!(matches!(e, ZohoError::RateLimited { .. }), "{e:?}");
    assert!(
        t.elapsed() <= Duration::from_secs(4),
        "bounded: {:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn reads_retry_server_errors_and_dropped_connections() {
    let sb = sandbox().await;
    let (c, _) = client(&sb);
    c.get_org().await.unwrap();
    sb.inject(Fault::new(FaultKind::ServerError { status: 503 }).on_path("/org"));
    sb.inject(Fault::new(FaultKind::DropConnection).on_path("/org"));
    c.get_org().await.unwrap();
    sb.inject(
        Fault::new(FaultKind::ServerError { status: 500 })
            .times(3)
            .on_path("/org"),
    );
    // Retries exhausted: Zoho's own error, with advice.
    let e = c.get_org().await.unwrap_err();
    assert_eq!(e.code(), Some("INTERNAL_ERROR"), "{e:?}");
    assert!(e.to_string().contains("retry later"), "{e}");
    assert_eq!(
        api_requests(&sb.requests())
            .iter()
            .filter(|r| r.path == "/bigin/v2/org")
            .count(),
        1 + 3 + 3
    );
}

#[tokio::test]
async fn slow_answers_time_out_and_reads_are_retried() {
    let sb = sandbox().await;
    let (c, _) = client(&sb);
    c.get_org().await.unwrap();
    sb.clear_requests();
    sb.inject(Fault::new(FaultKind::Delay { ms: 1500 }).on_path("/org"));
    c.get_org().await.unwrap();
    assert_eq!(
        api_requests(&sb.requests()).len(),
        2,
        "one timed out, one retried"
    );
}

#[tokio::test]
async fn writes_are_never_retried_blindly() {
    let sb = sandbox().await;
    let (c, _) = client(&sb);
    let users = all_users(&sb).await;
    let target = users
        .iter()
        .find(|u| s(u, "status") == "active" && s(u, "id") != sb.primary_user_id())
        .unwrap();
    let id = ZohoId::parse(&s(target, "id"), "user_id").unwrap();
    sb.clear_requests();
    sb.inject(Fault::new(FaultKind::ServerError { status: 503 }).on_method("PUT"));
    let e = c
        .set_user_status(&id, UserStatus::Inactive)
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("may or may not have happened"),
        "{e}"
    );
    assert_eq!(writes(&sb.requests()).len(), 1);
    sb.inject(Fault::new(FaultKind::DropConnection).on_method("PUT"));
    assert!(c.set_user_status(&id, UserStatus::Inactive).await.is_err());
    assert_eq!(writes(&sb.requests()).len(), 2);
}

#[tokio::test]
async fn per_record_errors_in_http_200_are_errors() {
    let sb = sandbox().await;
    let (c, _) = client(&sb);
    let primary = ZohoId::parse(&sb.primary_user_id(), "user_id").unwrap();
    let e = c.delete_user(&primary).await.unwrap_err();
    assert_eq!(e.code(), Some("INVALID_REQUEST"), "{e:?}");
    assert!(
        e.to_string().contains("Primary Contact cannot be deleted"),
        "{e}"
    );
    assert_eq!(s(&sb.user(primary.as_str()).unwrap(), "status"), "active");
}

#[tokio::test]
async fn a_zero_retry_after_is_not_a_busy_loop() {
    let sb = sandbox().await;
    let (c, _) = client(&sb);
    c.get_org().await.unwrap();
    sb.clear_requests();
    sb.inject(
        Fault::new(FaultKind::RateLimited {
            retry_after_secs: Some(0),
        })
        .times(1000),
    );
    let e = c.get_org().await.unwrap_err();
    assert!(matches!(e, ZohoError::RateLimited { .. }), "{e:?}");
    let sent = api_requests(&sb.requests()).len();
    assert!(sent <= 9, "bounded retries, sent {sent}");
}

/// Zoho's documented refusals (HTTP 400, reason in the record list) and the
/// older placement (inside HTTP 200) read the same: Zoho's code and message.
#[tokio::test]
async fn refusals_in_400_or_200_name_zohos_code_and_message() {
    for name in [VariantName::Documented, VariantName::RefusalsIn200] {
        let sb = sandbox_as(name).await;
        let (c, _) = client(&sb);
        let users = c.list_users(UserType::AllUsers).await.unwrap();
        let of = |status: &str| {
            let u = users
                .iter()
                .find(|u| u.status.as_str() == status && u.id != sb.primary_user_id())
                .unwrap();
            ZohoId::parse(&u.id, "id").unwrap()
        };
        let primary = ZohoId::parse(&sb.primary_user_id(), "id").unwrap();
        for (result, code, message) in [
            (
                c.set_user_status(&primary, UserStatus::Inactive).await,
                "INVALID_REQUEST",
                "Primary Contact cannot be deactivated",
            ),
            (
                c.set_user_status(&of("inactive"), UserStatus::Inactive)
                    .await,
                "ID_ALREADY_DEACTIVATED",
                "the user is already deactivated",
            ),
            (
                c.delete_user(&of("deleted")).await,
                "ID_ALREADY_DELETED",
                "the user is already deleted",
            ),
        ] {
            let e = result.unwrap_err();
            assert!(matches!(e, ZohoError::Record { .. }), "{name}: {e:?}");
            assert_eq!(e.code(), Some(code), "{name}");
            let m = e.to_string();
            assert!(m.contains(code) && m.contains(message), "{name}: {m}");
        }
        // Updating a deleted user is refused for the whole request.
        let e = c
            .update_user(&of("deleted"), None, Some(&primary))
            .await
            .unwrap_err();
        assert!(
            matches!(e, ZohoError::Api { status: 400, .. }),
            "{name}: {e:?}"
        );
        assert_eq!(e.code(), Some("NOT_ALLOWED"));
    }
}

/// CRM's 429 sample has no `Retry-After` header but `details.retry_after`
/// in the body; the client reads it there.
#[tokio::test]
async fn a_429_without_the_header_uses_the_bodys_retry_after() {
    let sb = sandbox_as(VariantName::RetryAfterInBody).await;
    let (c, _) = client(&sb);
    c.get_org().await.unwrap();
    sb.inject(
        Fault::new(FaultKind::RateLimited {
            retry_after_secs: Some(60),
        })
        .times(10),
    );
    let e = c.get_org().await.unwrap_err();
    assert!(e.to_string().contains("Retry after 60 s"), "{e}");
    let last = sb.requests().pop().unwrap();
    assert_eq!(last.path, "/bigin/v2/org");
    // Exactly one 429 was met: 60 s is past the budget, so no retry.
    let org_calls = api_requests(&sb.requests())
        .iter()
        .filter(|r| r.path == "/bigin/v2/org")
        .count();
    assert_eq!(org_calls, 2);
}

/// Zoho's token throttle, `Access Denied` with HTTP 200 or 400: advice to
/// wait about 10 minutes, never to log in again, and no second token
/// request while it lasts.
#[tokio::test]
async fn the_token_throttle_says_wait_and_is_not_retried() {
    for status in [200, 400] {
        let sb = sandbox_as(VariantName::TokenThrottle).await;
        sb.set_variant(bigin_mcp::sandbox::ZohoVariant {
            token_throttle: Some(status),
            ..Default::default()
        });
        let (c, tokens) = client(&sb);
        let e = c.get_org().await.unwrap_err();
        assert_eq!(e.code(), Some("access_denied"), "{status}: {e:?}");
        let m = e.to_string();
        assert!(m.contains("about 10 minutes"), "{status}: {m}");
        assert!(!m.contains("run `bigin-mcp login`"), "{status}: {m}");
        // The next calls send no token request (each would extend the lock-out).
        assert!(c.get_org().await.is_err());
        assert!(c.list_roles().await.is_err());
        let token_calls = sb
            .requests()
            .iter()
            .filter(|r| r.path == "/oauth/v2/token")
            .count();
        assert_eq!(token_calls, 1, "{status}");
        assert_eq!(tokens.refresh_count(), 1, "{status}");
        assert!(api_requests(&sb.requests()).is_empty());
    }
}

/// Every spelling of the throttle reads as one: `Access Denied`,
/// `access_denied`, `ACCESS DENIED`, or any code with Zoho's description.
#[test]
fn throttle_spellings_are_one() {
    for (code, description) in [
        ("Access Denied", None),
        ("access_denied", None),
        ("ACCESS DENIED", None),
        (
            "something_else",
            Some("You have made too many requests continuously."),
        ),
    ] {
        let e = ZohoError::token_endpoint(code, description);
        assert!(e.is_token_throttle(), "{code}");
    }
    assert!(!ZohoError::token_endpoint("invalid_code", None).is_token_throttle());
}

/// A token answer is read with a cap, as API answers are: a runaway body is
/// refused, not read into memory.
#[tokio::test]
async fn an_oversized_token_answer_is_not_read() {
    let sb = sandbox().await;
    let (c, _) = client(&sb);
    let body = format!("{{\"access_token\":\"{}\"}}", "x".repeat(2 << 20));
    sb.inject(
        Fault::new(FaultKind::Answer { status: 200, body })
            .on_path("/oauth/v2/token")
            .times(5),
    );
    let e = c.get_org().await.unwrap_err();
    assert!(matches!(e, ZohoError::TooLarge { .. }), "{e:?}");
    assert!(e.to_string().contains("token"), "{e}");
}

/// Credentials that keep the access token in a file other "processes"
/// read, as the keychain does, with a lock file beside it.
struct SharedFile {
    creds: bigin_mcp::zoho::RefreshCredentials,
    path: std::path::PathBuf,
}

impl bigin_mcp::zoho::Credentials for SharedFile {
    fn load(
        &self,
    ) -> bigin_mcp::zoho::BoxFuture<'_, Result<bigin_mcp::zoho::RefreshCredentials, ZohoError>>
    {
        Box::pin(async move { Ok(self.creds.clone()) })
    }

    fn cached_access_token(
        &self,
    ) -> bigin_mcp::zoho::BoxFuture<'_, Option<bigin_mcp::zoho::AccessToken>> {
        Box::pin(async move {
            let text = std::fs::read_to_string(&self.path).ok()?;
            let mut parts = text.split(' ');
            let (secret, secs) = (parts.next()?, parts.next()?);
            Some(bigin_mcp::zoho::AccessToken {
                secret: secret.to_string().into(),
                api_domain: parts.next().map(str::to_string),
                expires_at: std::time::UNIX_EPOCH + Duration::from_secs(secs.parse().ok()?),
                generation: 0,
            })
        })
    }

    fn store_access_token<'a>(
        &'a self,
        t: &'a bigin_mcp::zoho::AccessToken,
    ) -> bigin_mcp::zoho::BoxFuture<'a, ()> {
        use secrecy::ExposeSecret;
        Box::pin(async move {
            let secs = t
                .expires_at
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let domain = t.api_domain.as_deref().unwrap_or_default();
            let line = format!("{} {secs} {domain}", t.secret.expose_secret());
            std::fs::write(&self.path, line).unwrap();
        })
    }

    fn refresh_lock(&self) -> Option<std::path::PathBuf> {
        Some(self.path.with_extension("lock"))
    }
}

#[tokio::test]
async fn four_processes_starting_together_refresh_once() {
    use bigin_mcp::zoho::{BiginClient, RefreshTokenSource};
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    // Four token sources with nothing shared in memory: one per process.
    let clients: Vec<(BiginClient, Arc<RefreshTokenSource>)> = (0..4)
        .map(|_| {
            let shared = Arc::new(SharedFile {
                creds: creds(&sb),
                path: dir.path().join("token"),
            });
            let http = bigin_mcp::zoho::http_client(Duration::from_secs(5));
            let tokens = Arc::new(RefreshTokenSource::new(http.clone(), shared));
            let c = BiginClient::new(http, tokens.clone(), fast_options());
            (c, tokens)
        })
        .collect();
    for r in futures::future::join_all(clients.iter().map(|(c, _)| c.get_org())).await {
        r.unwrap();
    }
    let refreshes: u64 = clients.iter().map(|(_, t)| t.refresh_count()).sum();
    assert_eq!(refreshes, 1);
    let token_calls = sb
        .requests()
        .iter()
        .filter(|r| r.path == "/oauth/v2/token")
        .count();
    assert_eq!(token_calls, 1);
    // A token Zoho rejects is replaced once, and the others take the new one.
    sb.expire_access_tokens();
    for r in futures::future::join_all(clients.iter().map(|(c, _)| c.get_org())).await {
        r.unwrap();
    }
    let refreshes: u64 = clients.iter().map(|(_, t)| t.refresh_count()).sum();
    assert_eq!(refreshes, 2);
}
