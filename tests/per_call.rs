//! Per-call settings against a local server: a timeout, a header and a
//! retry policy set on one request builder apply to that call alone (every
//! attempt of it, retries included), and a successful answer's metadata
//! (status, headers, traceId) comes back beside the typed value.

mod common;

use std::time::{Duration, Instant};

use common::{client, employee_page};
use httpmock::prelude::*;
use shiheng::{ErrorKind, RetryPolicy};

const PAGE_PATH: &str = "/wecom/employee/page";

#[tokio::test]
async fn a_timeout_applies_to_its_call_only() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path(PAGE_PATH);
            then.status(200)
                .delay(Duration::from_millis(400))
                .json_body(employee_page(1, 2, Some(1), Some(2)));
        })
        .await;
    let c = client(&server.base_url());
    let started = Instant::now();
    let e = c
        .list_wecom_employees()
        .timeout(Duration::from_millis(100))
        .retry_policy(RetryPolicy::disabled())
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        started.elapsed() < Duration::from_millis(380),
        "{:?}",
        started.elapsed()
    );
    // The next call has the client's timeout (30 s): the slow answer arrives.
    let page = c.list_wecom_employees().send().await.unwrap();
    assert_eq!(page.result.map(|items| items.len()), Some(2));
}

#[tokio::test]
async fn a_header_goes_with_every_attempt_of_its_call_and_no_other() {
    let server = MockServer::start_async().await;
    let tagged = server
        .mock_async(|when, then| {
            when.method(POST).path(PAGE_PATH).header("x-tenant", "t1");
            then.status(503).body("busy");
        })
        .await;
    let plain = server
        .mock_async(|when, then| {
            when.method(POST).path(PAGE_PATH).header_missing("x-tenant");
            then.status(200)
                .json_body(employee_page(1, 1, Some(1), Some(1)));
        })
        .await;
    let c = client(&server.base_url());
    let e = c
        .list_wecom_employees()
        .header("x-tenant", "t1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(503), "{e}");
    // The default policy makes 4 attempts: each carried the header.
    assert_eq!(tagged.calls_async().await, 4);
    assert_eq!(plain.calls_async().await, 0);
    c.list_wecom_employees().send().await.unwrap();
    assert_eq!(
        (tagged.calls_async().await, plain.calls_async().await),
        (4, 1)
    );
    // A header that is not valid HTTP is refused before anything is sent.
    let e = c
        .list_wecom_employees()
        .header("bad header", "x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert_eq!(
        (tagged.calls_async().await, plain.calls_async().await),
        (4, 1)
    );
}

#[tokio::test]
async fn a_retry_policy_overrides_the_clients_for_its_call_only() {
    let server = MockServer::start_async().await;
    let failing = always(&server, 503).await;
    let c = client(&server.base_url());
    let once = c
        .list_wecom_employees()
        .retry_policy(RetryPolicy::disabled())
        .send()
        .await
        .unwrap_err();
    assert_eq!(once.status(), Some(503));
    assert_eq!(
        failing.calls_async().await,
        1,
        "one attempt with retries off"
    );
    let twice = c
        .list_wecom_employees()
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(2)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(twice.status(), Some(503));
    assert_eq!(failing.calls_async().await, 3, "two more");
    c.list_wecom_employees().send().await.unwrap_err();
    assert_eq!(
        failing.calls_async().await,
        7,
        "the client's policy: four more"
    );
}

#[tokio::test]
async fn a_calls_retry_policy_also_decides_which_statuses_are_retried() {
    let server = MockServer::start_async().await;
    let failing = always(&server, 500).await;
    let c = client(&server.base_url());
    // The client's policy does not retry a 500: one attempt.
    c.list_wecom_employees().send().await.unwrap_err();
    assert_eq!(failing.calls_async().await, 1);
    // This call's policy does: three attempts.
    let e = c
        .list_wecom_employees()
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(2))
                .with_retry_statuses([500]),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(500));
    assert_eq!(failing.calls_async().await, 4, "three more");
}

#[tokio::test]
async fn listings_take_the_settings_on_every_page() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(PAGE_PATH)
                .header("x-tenant", "t2")
                .body_includes("\"pageNum\":1");
            then.status(200)
                .json_body(employee_page(1, 2, Some(2), Some(4)));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(PAGE_PATH)
                .header("x-tenant", "t2")
                .body_includes("\"pageNum\":2");
            then.status(200)
                .json_body(employee_page(3, 2, Some(2), Some(4)));
        })
        .await;
    let c = client(&server.base_url());
    let (items, _) = c
        .list_wecom_employees()
        .page_size(2)
        .concurrency(1)
        .header("x-tenant", "t2")
        .stream()
        .try_collect_with_summary()
        .await
        .unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(
        (first.calls_async().await, second.calls_async().await),
        (1, 1)
    );
}

#[tokio::test]
async fn a_reply_carries_the_answers_status_headers_and_trace_id() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path(PAGE_PATH);
            then.status(200)
                .header("x-request-id", "req-42")
                .json_body(employee_page(1, 1, Some(1), Some(1)));
        })
        .await;
    let reply = client(&server.base_url())
        .list_wecom_employees()
        .send_with_reply()
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.trace_id.as_deref(), Some("t-page"));
    assert_eq!(
        reply.headers.get("x-request-id").map(|v| v.as_bytes()),
        Some(&b"req-42"[..])
    );
    assert_eq!(reply.payload.total, Some(1));
}

#[tokio::test]
async fn a_deadline_bounds_one_page_too() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path(PAGE_PATH);
            then.status(200)
                .delay(Duration::from_millis(500))
                .json_body(employee_page(1, 1, Some(1), Some(1)));
        })
        .await;
    let started = Instant::now();
    let e = client(&server.base_url())
        .list_wecom_employees()
        .deadline(Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        started.elapsed() < Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
}

/// A page endpoint that always answers `status`.
async fn always(server: &MockServer, status: u16) -> httpmock::Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(POST).path(PAGE_PATH);
            then.status(status).body("unavailable");
        })
        .await
}
