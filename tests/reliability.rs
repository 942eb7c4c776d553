//! Retries, Retry-After, idempotency, rate limiting and deadlines, against a
//! scripted local server that fails on purpose.

mod common;

use std::time::{Duration, Instant};

use common::scripted::{Action, ScriptedServer, html, json};
use common::{APP_ID, SECRET, employee_page};
use futures::TryStreamExt;
use shiheng::{Config, ErrorKind, RetryPolicy};

fn fast_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(attempts)
        .with_backoff(Duration::from_millis(10), Duration::from_millis(40))
}

fn client(url: &str, policy: RetryPolicy) -> shiheng::Client {
    shiheng::Client::new(
        Config::new(url, APP_ID, SECRET)
            .with_retry(policy)
            .with_timeout(Duration::from_millis(300)),
    )
    .unwrap()
}

#[tokio::test]
async fn gateway_errors_are_retried_and_each_retry_is_signed_anew() {
    let server = ScriptedServer::start(vec![
        html(503, "<html>503 Service Unavailable</html>"),
        html(502, "<html>502 Bad Gateway</html>"),
        Action::Drop,
        Action::Delay(
            Duration::from_millis(600),
            Box::new(json(200, employee_page(1, 1, Some(1), Some(1)))),
        ),
        json(200, employee_page(7, 1, Some(1), Some(1))),
    ])
    .await;
    let page = client(&server.url, fast_retries(5))
        .list_wecom_employees()
        .send()
        .await
        .unwrap();
    assert_eq!(page.result.unwrap()[0].id, Some(7));
    let bodies = server.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 5, "503, 502, dropped, too slow, then success");
    for body in &bodies {
        common::check_signed(body.to_string().as_bytes(), APP_ID, SECRET).unwrap();
    }
    let timestamps: Vec<i64> = bodies
        .iter()
        .map(|b| b["timestamp"].as_i64().unwrap())
        .collect();
    assert!(
        timestamps.windows(2).all(|w| w[0] < w[1]),
        "fresh timestamps: {timestamps:?}"
    );
}

#[tokio::test]
async fn retries_end_with_the_last_error_after_the_configured_attempts() {
    let server = ScriptedServer::start(vec![html(503, "<html>still down</html>")]).await;
    let started = Instant::now();
    let e = client(&server.url, fast_retries(3))
        .list_wecom_employees()
        .send()
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Http, Some(503)));
    assert!(e.to_string().contains("still down"), "{e}");
    assert_eq!(server.requests(), 3);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = ScriptedServer::start(vec![
        Action::Answer(429, vec![("retry-after", "1".into())], String::new()),
        json(200, employee_page(1, 1, Some(1), Some(1))),
    ])
    .await;
    let started = Instant::now();
    client(&server.url, fast_retries(3))
        .list_wecom_employees()
        .send()
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_ends_the_retries() {
    let server = ScriptedServer::start(vec![Action::Answer(
        429,
        vec![("retry-after", "3600".into())],
        String::new(),
    )])
    .await;
    let e = client(&server.url, fast_retries(3))
        .list_wecom_employees()
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(429));
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn signature_timestamp_and_parameter_errors_are_never_retried() {
    for code in ["40001", "40002", "40003", "40004"] {
        let server = ScriptedServer::start(vec![json(
            200,
            serde_json::json!({"code": code, "msg": "no", "traceId": "t"}),
        )])
        .await;
        let policy = fast_retries(4).with_retry_codes([code, "42900"]);
        let e = client(&server.url, policy)
            .list_wecom_employees()
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.code(), Some(code));
        assert_eq!(server.requests(), 1, "{code} was retried");
    }
}

#[tokio::test]
async fn configured_business_codes_are_retried() {
    let server = ScriptedServer::start(vec![
        json(
            200,
            serde_json::json!({"code": "42900", "msg": "too many requests", "traceId": "t1"}),
        ),
        json(200, employee_page(1, 1, Some(1), Some(1))),
    ])
    .await;
    let policy = fast_retries(3).with_retry_codes(["42900"]);
    client(&server.url, policy)
        .list_wecom_employees()
        .send()
        .await
        .unwrap();
    assert_eq!(server.requests(), 2);
    // Not configured: the business error comes back at once.
    let server = ScriptedServer::start(vec![json(
        200,
        serde_json::json!({"code": "42900", "msg": "too many requests", "traceId": "t1"}),
    )])
    .await;
    let e = client(&server.url, fast_retries(3))
        .list_wecom_employees()
        .send()
        .await
        .unwrap_err();
    assert_eq!((e.code(), e.trace_id()), (Some("42900"), Some("t1")));
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let e = client(&format!("http://127.0.0.1:{port}"), fast_retries(3))
        .list_wecom_employees()
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport);
    // Two backoffs of 10-40 ms each happened.
    assert!(started.elapsed() >= Duration::from_millis(20));
}

#[tokio::test]
async fn disabled_retries_send_once() {
    let server = ScriptedServer::start(vec![html(503, "down")]).await;
    let e = client(&server.url, RetryPolicy::disabled())
        .list_wecom_employees()
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(503));
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn the_rate_limit_spaces_all_requests_of_a_client() {
    let server =
        ScriptedServer::start(vec![json(200, employee_page(1, 1, Some(1), Some(1)))]).await;
    let c = shiheng::Client::new(Config::new(&server.url, APP_ID, SECRET).with_rate_limit(20.0))
        .unwrap();
    let started = Instant::now();
    let calls = (0..6).map(|_| c.list_wecom_employees().send());
    futures::future::try_join_all(calls).await.unwrap();
    // Six requests at 20/s: slots at 0, 50, ..., 250 ms.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
    assert_eq!(server.requests(), 6);
}

#[tokio::test]
async fn a_listing_deadline_ends_a_slow_listing() {
    let server = ScriptedServer::start(vec![
        json(200, employee_page(1, 2, Some(100), Some(200))),
        Action::Delay(
            Duration::from_millis(200),
            Box::new(json(200, employee_page(3, 2, Some(100), Some(200)))),
        ),
    ])
    .await;
    let started = Instant::now();
    let e = client(&server.url, RetryPolicy::disabled())
        .list_wecom_employees()
        .page_size(2)
        .concurrency(1)
        .deadline(Duration::from_millis(500))
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_millis(900),
        "{elapsed:?}"
    );
}
