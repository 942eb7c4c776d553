//! Hostile servers on loopback, one per row of docs/reliability.md's
//! "Hostile servers" table: redirects to another host (the signed envelope
//! must never reach it), same-origin redirects with the option off and on,
//! 301/302/303 that would turn the POST into a GET, redirect loops, a
//! connection refused after a redirect, `Retry-After` as an HTTP date,
//! `Retry-After` over the caps, and undecodable answers whose HTTP status
//! must still be named. Every server binds 127.0.0.1 and stops when dropped.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::scripted::{Action, ScriptedServer, html, json};
use common::{APP_ID, SECRET, employee_page};
use httpmock::prelude::*;
use shiheng::error::RedirectRefusal;
use shiheng::sign::{Clock, FixedClock};
use shiheng::{Config, Error, ErrorKind, RetryPolicy};

const PAGE_PATH: &str = "/wecom/employee/page";

fn fast_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(attempts)
        .with_backoff(Duration::from_millis(10), Duration::from_millis(40))
}

fn config(url: &str) -> Config {
    Config::new(url, APP_ID, SECRET)
        .with_retry(fast_retries(4))
        .with_timeout(Duration::from_secs(2))
}

fn client(config: Config) -> shiheng::Client {
    shiheng::Client::new(config).expect("client")
}

/// The parts of a redirect error, or a panic naming what came instead.
fn redirect_parts(e: &Error) -> (u16, &str, RedirectRefusal) {
    match e {
        Error::Redirect {
            status,
            location,
            reason,
            ..
        } => (*status, location.as_str(), *reason),
        other => panic!("expected a redirect error, got {other:?}"),
    }
}

/// `redirecting` answers every request with `status` and `Location: target`.
async fn redirect_to(redirecting: &MockServer, status: u16, target: String) -> httpmock::Mock<'_> {
    redirecting
        .mock_async(|when, then| {
            when.any_request();
            then.status(status).header("Location", target);
        })
        .await
}

#[tokio::test]
async fn redirects_to_another_host_never_reach_it_whatever_the_option() {
    for status in [301, 302, 303, 307, 308] {
        for hops in [0, 5] {
            let other = MockServer::start_async().await;
            let target = other.url(PAGE_PATH);
            let redirecting = MockServer::start_async().await;
            let redirect = redirect_to(&redirecting, status, target.clone()).await;
            let anything = other
                .mock_async(|when, then| {
                    when.any_request();
                    then.status(200)
                        .json_body(employee_page(1, 1, Some(1), Some(1)));
                })
                .await;
            let e = client(config(&redirecting.base_url()).with_same_origin_redirects(hops))
                .list_wecom_employees()
                .send()
                .await
                .unwrap_err();
            let (got_status, location, reason) = redirect_parts(&e);
            assert_eq!(got_status, status);
            assert_eq!(location, target, "the Location is named");
            let expected = if hops == 0 {
                RedirectRefusal::Disabled
            } else {
                RedirectRefusal::CrossOrigin
            };
            assert_eq!(reason, expected, "HTTP {status}, {hops} hops");
            assert_eq!((e.kind(), e.status()), (ErrorKind::Redirect, Some(status)));
            let text = e.to_string();
            assert!(!text.contains('\n'), "{text}");
            assert!(
                text.contains(&format!("HTTP {status} redirect to {target}")),
                "{text}"
            );
            assert_eq!(
                anything.calls_async().await,
                0,
                "nothing reached the other host"
            );
            assert_eq!(redirect.calls_async().await, 1, "not retried");
        }
    }
}

/// The requests all of `mocks` answered.
async fn calls(mocks: &[&httpmock::Mock<'_>]) -> usize {
    let mut total = 0;
    for mock in mocks {
        total += mock.calls_async().await;
    }
    total
}

/// What the moved endpoint saw: each correctly signed envelope.
type Seen = Arc<std::sync::Mutex<Vec<serde_json::Value>>>;

/// A gateway that moved the endpoint: `PAGE_PATH` redirects with `status`
/// to `/gw` + `PAGE_PATH` on the same server, which answers the page when
/// the envelope is correctly signed.
async fn moved_endpoint(server: &MockServer, status: u16) -> (httpmock::Mock<'_>, Seen) {
    server
        .mock_async(|when, then| {
            when.path(PAGE_PATH);
            then.status(status)
                .header("Location", format!("/gw{PAGE_PATH}"));
        })
        .await;
    let (seen, signed) = common::signed_by(APP_ID, SECRET);
    let moved = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(format!("/gw{PAGE_PATH}"))
                .is_true(signed);
            then.status(200)
                .json_body(employee_page(42, 1, Some(1), Some(1)));
        })
        .await;
    (moved, seen)
}

#[tokio::test]
async fn same_origin_307_and_308_are_refused_by_default_and_followed_when_allowed() {
    for status in [307, 308] {
        let server = MockServer::start_async().await;
        let (moved, seen) = moved_endpoint(&server, status).await;
        let e = client(config(&server.base_url()))
            .list_wecom_employees()
            .send()
            .await
            .unwrap_err();
        let (_, location, reason) = redirect_parts(&e);
        assert_eq!(reason, RedirectRefusal::Disabled);
        assert!(location.ends_with(&format!("/gw{PAGE_PATH}")), "{location}");
        assert_eq!(moved.calls_async().await, 0);

        let page = client(config(&server.base_url()).with_same_origin_redirects(2))
            .list_wecom_employees()
            .send()
            .await
            .expect("followed within the origin");
        assert_eq!(page.result.unwrap()[0].id, Some(42));
        assert_eq!(moved.calls_async().await, 1, "the POST was re-sent once");
        let envelopes = seen.lock().unwrap().clone();
        assert_eq!(envelopes.len(), 1);
        // Re-signed with the same paramContent.
        assert_eq!(envelopes[0]["paramContent"]["pageNum"], 1);
    }
}

#[tokio::test]
async fn same_origin_301_302_303_are_not_followed_as_a_get_or_at_all() {
    for status in [301, 302, 303] {
        let server = MockServer::start_async().await;
        let (moved, _) = moved_endpoint(&server, status).await;
        let any_get = server
            .mock_async(|when, then| {
                when.method(GET);
                then.status(200)
                    .json_body(employee_page(1, 1, Some(1), Some(1)));
            })
            .await;
        let e = client(config(&server.base_url()).with_same_origin_redirects(5))
            .list_wecom_employees()
            .send()
            .await
            .unwrap_err();
        let (got, _, reason) = redirect_parts(&e);
        assert_eq!((got, reason), (status, RedirectRefusal::MethodChange));
        assert_eq!(moved.calls_async().await, 0);
        assert_eq!(any_get.calls_async().await, 0);
        assert!(
            e.to_string().contains("would turn the POST into a GET"),
            "{e}"
        );
    }
}

#[tokio::test]
async fn a_redirect_loop_costs_a_few_requests_and_is_not_retried() {
    let server = MockServer::start_async().await;
    let there = server
        .mock_async(|when, then| {
            when.path(PAGE_PATH);
            then.status(307).header("Location", "/loop");
        })
        .await;
    let back = server
        .mock_async(|when, then| {
            when.path("/loop");
            then.status(307).header("Location", PAGE_PATH);
        })
        .await;
    let started = Instant::now();
    let e = client(config(&server.base_url()).with_same_origin_redirects(10))
        .list_wecom_employees()
        .send()
        .await
        .unwrap_err();
    let (_, location, reason) = redirect_parts(&e);
    assert_eq!(reason, RedirectRefusal::Loop);
    assert!(location.ends_with(PAGE_PATH), "{location}");
    assert_eq!(calls(&[&there, &back]).await, 2, "there and back, once");
    assert!(started.elapsed() < Duration::from_secs(1));

    // Redirects off: one request.
    let server = MockServer::start_async().await;
    let to_itself = redirect_to(&server, 308, PAGE_PATH.to_string()).await;
    let e = client(config(&server.base_url()))
        .list_wecom_employees()
        .send()
        .await
        .unwrap_err();
    assert_eq!(redirect_parts(&e).2, RedirectRefusal::Disabled);
    assert_eq!(to_itself.calls_async().await, 1);
}

#[tokio::test]
async fn a_chain_longer_than_the_hop_limit_stops_at_the_limit() {
    let server = MockServer::start_async().await;
    let mut hops = vec![
        server
            .mock_async(|when, then| {
                when.path(PAGE_PATH);
                then.status(307).header("Location", "/hop/1");
            })
            .await,
    ];
    for n in 1..=5 {
        hops.push(
            server
                .mock_async(|when, then| {
                    when.path(format!("/hop/{n}"));
                    then.status(307)
                        .header("Location", format!("/hop/{}", n + 1));
                })
                .await,
        );
    }
    let e = client(config(&server.base_url()).with_same_origin_redirects(2))
        .list_wecom_employees()
        .send()
        .await
        .unwrap_err();
    let (_, location, reason) = redirect_parts(&e);
    assert_eq!(reason, RedirectRefusal::TooMany);
    assert!(location.ends_with("/hop/3"), "{location}");
    let all: Vec<&httpmock::Mock<'_>> = hops.iter().collect();
    assert_eq!(calls(&all).await, 3, "the first request and 2 hops");
}

/// Counts the requests signed (the first, and each redirect or retry
/// re-signs), at a fixed instant.
#[derive(Debug, Default, Clone)]
struct CountingClock(Arc<AtomicUsize>);

impl Clock for CountingClock {
    fn now_millis(&self) -> i64 {
        self.0.fetch_add(1, Ordering::SeqCst);
        1_700_000_000_000
    }
}

/// A server that answers its first request with a same-origin 307 and
/// then stops listening: following the redirect meets a refused connection.
async fn redirect_then_vanish() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        drop(listener);
        let mut buf = vec![0u8; 8192];
        let _ = tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buf)).await;
        let _ = socket
            .write_all(
                b"HTTP/1.1 307 Temporary Redirect\r\nlocation: /moved\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )
            .await;
    });
    url
}

#[tokio::test]
async fn a_connection_refused_after_a_redirect_is_not_never_reached_the_server() {
    // A call not marked idempotent (call_raw under a name of its own): the
    // first server may have acted on it, so it is not sent again.
    let url = redirect_then_vanish().await;
    let signings = CountingClock::default();
    let raw = client(
        config(&url)
            .with_clock(signings.clone())
            .with_same_origin_redirects(3),
    );
    let e = raw
        .call_raw("recordSomething", PAGE_PATH, None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert_eq!(
        signings.0.load(Ordering::SeqCst),
        2,
        "signed for the first request and the redirect, never for a retry"
    );

    // The same failure on the first connection (no redirect before it) is
    // retried, as the request provably went nowhere: 4 signings.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let signings = CountingClock::default();
    let e = client(config(&closed).with_clock(signings.clone()))
        .call_raw("recordSomething", PAGE_PATH, None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport);
    assert_eq!(signings.0.load(Ordering::SeqCst), 4);
}

/// An HTTP-date `seconds` after `clock_millis` (a whole second).
fn http_date(clock_millis: i64, seconds: u64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(clock_millis as u64) + Duration::from_secs(seconds);
    httpdate::fmt_http_date(at)
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    // The date is read against the configured clock: fixed here, so the
    // server's "one second from now" is exactly one second.
    let now = 1_700_000_000_000;
    let server = ScriptedServer::start(vec![
        Action::Answer(503, vec![("retry-after", http_date(now, 1))], String::new()),
        json(200, employee_page(3, 1, Some(1), Some(1))),
    ])
    .await;
    let started = Instant::now();
    let page = client(config(&server.url).with_clock(FixedClock(now)))
        .list_wecom_employees()
        .send()
        .await
        .expect("the retry after the date succeeds");
    let took = started.elapsed();
    assert_eq!(page.result.unwrap()[0].id, Some(3));
    assert_eq!(server.requests(), 2);
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_millis(1900),
        "waited {took:?} for a 1 s Retry-After date (backoff 10 ms)"
    );
}

#[tokio::test]
async fn retry_after_over_the_cap_ends_the_retries_in_either_form() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for (header, expected) in [
        (http_date(now, 3600), 3600),
        ("60".to_string(), 60),
        ("99999999999999999999999".to_string(), u64::MAX),
    ] {
        let server = ScriptedServer::start(vec![Action::Answer(
            429,
            vec![("retry-after", header.clone())],
            String::new(),
        )])
        .await;
        let started = Instant::now();
        // The default policy: Retry-After honoured up to 10 s.
        let e = client(Config::new(&server.url, APP_ID, SECRET))
            .list_wecom_employees()
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(429));
        assert_eq!(server.requests(), 1, "{header}: not retried");
        assert!(started.elapsed() < Duration::from_secs(1));
        match e {
            Error::Http { retry_after, .. } => {
                let got = retry_after.expect("the wait asked for is reported");
                let got = got.as_secs() + u64::from(got.subsec_nanos() > 0);
                // A date is read at a slightly later instant than `now`.
                assert!(got.abs_diff(expected) <= 1, "{header}: {got}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn the_total_wait_per_call_is_capped() {
    let server = ScriptedServer::start(vec![Action::Answer(
        503,
        vec![("retry-after", "1".into())],
        String::new(),
    )])
    .await;
    let started = Instant::now();
    let policy = fast_retries(10).with_max_total_wait(Duration::from_millis(1500));
    let e = client(config(&server.url).with_retry(policy))
        .list_wecom_employees()
        .send()
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(e.status(), Some(503));
    // 1 s after the first answer; a second 1 s wait would pass 1.5 s.
    assert_eq!(server.requests(), 2);
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_millis(1900),
        "{took:?}"
    );
}

#[tokio::test]
async fn undecodable_answers_name_their_http_status() {
    for (status, body, kind) in [
        (200, "<html>maintenance</html>", ErrorKind::Decode),
        // Not 2xx and no envelope: a gateway's page, whatever the status.
        (400, "<html>bad gateway config</html>", ErrorKind::Http),
        (
            200,
            r#"{"code":"0","result":{"result":"not a list"}}"#,
            ErrorKind::Decode,
        ),
    ] {
        let server = ScriptedServer::start(vec![html(status, body)]).await;
        let e = client(config(&server.url))
            .list_wecom_employees()
            .send()
            .await
            .unwrap_err();
        assert_eq!((e.kind(), e.status()), (kind, Some(status)), "{e}");
        assert!(e.to_string().contains(&format!("HTTP {status}")), "{e}");
    }
    // A generated method's undecodable answer names its status too.
    let server = ScriptedServer::start(vec![html(200, "<html>maintenance</html>")]).await;
    // Read from JSON, so a field the user adds to the spec (optional,
    // as the README says) does not break the test.
    let body: shiheng::types::ListWecomEmployeesRequest =
        serde_json::from_value(serde_json::json!({"paramContent": {"pageNum": 1, "pageSize": 1}}))
            .unwrap();
    let c = client(config(&server.url));
    let sent = c.generated().list_wecom_employees(&body).await;
    let e = c
        .classify::<shiheng::operations::ListWecomEmployees>(sent)
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.status()),
        (ErrorKind::Decode, Some(200)),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with("listWecomEmployees: undecodable response (HTTP 200,"),
        "{e}"
    );
    // A business error inside an envelope that does not decode.
    let server = ScriptedServer::start(vec![json(
        200,
        serde_json::json!({"code": 50000, "msg": "busy", "traceId": "t-1", "result": "x"}),
    )])
    .await;
    let e = client(config(&server.url))
        .list_wecom_employees()
        .send()
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Api, Some(200)), "{e}");
    assert!(e.to_string().contains("HTTP 200"), "{e}");
}

/// Measures the default policy's waits against a server that always
/// answers 503, with and without `Retry-After: 5` (the value that reaches
/// the 15 s cap exactly: 5 + 5 + 5). Takes about 20 s, hence ignored;
/// run with `cargo test --all-features --test hostile_servers -- --ignored
/// --nocapture`. The figures are quoted in docs/reliability.md.
#[tokio::test]
#[ignore = "takes about 20 s; a measurement for the docs"]
async fn measure_the_default_worst_case_waits() {
    let policy = RetryPolicy::default();
    for retry_after in [None, Some("5")] {
        let runs = if retry_after.is_some() { 1 } else { 5 };
        for _ in 0..runs {
            let headers = retry_after
                .map(|v| vec![("retry-after", v.to_string())])
                .unwrap_or_default();
            let server =
                ScriptedServer::start(vec![Action::Answer(503, headers, String::new())]).await;
            let started = Instant::now();
            let e = client(Config::new(&server.url, APP_ID, SECRET))
                .list_wecom_employees()
                .send()
                .await
                .unwrap_err();
            let took = started.elapsed();
            assert_eq!(e.status(), Some(503));
            eprintln!(
                "Retry-After {retry_after:?}: {} requests in {took:.2?} (worst case {:?})",
                server.requests(),
                policy.worst_case_wait()
            );
            // Without Retry-After only the jittered backoffs wait: 2.8 s at most.
            let bound = match retry_after {
                None => RetryPolicy::default()
                    .with_max_retry_after(Duration::ZERO)
                    .worst_case_wait(),
                Some(_) => policy.worst_case_wait(),
            };
            assert!(
                took <= bound + Duration::from_millis(500),
                "{took:?} > {bound:?}"
            );
        }
    }
}

#[tokio::test]
async fn an_envelope_that_repeats_a_key_is_refused_whichever_key() {
    for (key, body) in [
        (
            "code",
            r#"{"code":"40001","code":"0","msg":null,"traceId":"t","result":{"result":[]}}"#,
        ),
        (
            "result",
            r#"{"code":"0","msg":null,"traceId":"t","result":{"result":[]},"result":null}"#,
        ),
        (
            "traceId",
            r#"{"code":"0","traceId":"a","traceId":"b","result":{"result":[]}}"#,
        ),
    ] {
        let server = ScriptedServer::start(vec![Action::Answer(
            200,
            vec![("content-type", "application/json".into())],
            body.into(),
        )])
        .await;
        let e = client(config(&server.url))
            .list_wecom_employees()
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.status()),
            (ErrorKind::Decode, Some(200)),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains(&format!("the envelope has `{key}` twice")),
            "{e}"
        );
    }
}
