//! The sandbox against hostile requests and settings, second pass: numbers
//! beyond 64 bits and `-0` in a signed `paramContent` (checked from the
//! text received), an envelope with a repeated key, a body that is not
//! `application/json`, a body that never finishes (the body-read timeout
//! as a setting), and start-up settings that would fail every request.
//! Everything binds 127.0.0.1; every wait has a deadline.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use serde_json::{Value, json};
use shiheng::sign::{Clock, SystemClock};
use shiheng_sandbox::{MAX_ITEM_COUNT, Sandbox, SandboxConfig};

const EMPLOYEES: &str = "/wecom/employee/page";

/// The sign of a string to sign with `demo-secret`, computed here from
/// the rule's text, not with the crate's signer.
fn md5_sign(string_to_sign: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(string_to_sign.as_bytes());
    md5.update(b"demo-secret");
    md5.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

struct Answer {
    status: u16,
    body: Value,
}

async fn post_text(sandbox: &Sandbox, content_type: Option<&str>, body: String) -> Answer {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    let mut request = http.post(format!("{}{EMPLOYEES}", sandbox.url()));
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.body(body).send().await.expect("an answer");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer { status, body }
}

/// A correctly signed envelope for the first page of 5 employees, with
/// `first` written before the envelope's own keys.
fn signed(first: &str) -> String {
    let timestamp = SystemClock.now_millis();
    let sign = md5_sign(&format!(
        "appId=demo-app&paramContent={{\"pageNum\":1,\"pageSize\":5}}&timestamp={timestamp}&version=1.0"
    ));
    format!(
        r#"{{{first}"appId":"demo-app","timestamp":{timestamp},"version":"1.0","sign":"{sign}","paramContent":{{"pageSize":5,"pageNum":1}}}}"#
    )
}

async fn post(sandbox: &Sandbox, body: String) -> Answer {
    post_text(sandbox, Some("application/json"), body).await
}

#[tokio::test]
async fn the_sandbox_checks_the_sign_over_the_digits_received() {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox");
    let timestamp = SystemClock.now_millis();
    // As sent: keys unordered, an integer beyond 64 bits, and -0.
    let params = r#"{"pageSize":5,"big":18446744073709551616,"pageNum":1,"offset":-0}"#;
    let string_to_sign = format!(
        "appId=demo-app&paramContent={{\"big\":18446744073709551616,\"offset\":0,\"pageNum\":1,\"pageSize\":5}}&timestamp={timestamp}&version=1.0"
    );
    let envelope = |sign: &str, params: &str| {
        format!(
            r#"{{"appId":"demo-app","timestamp":{timestamp},"version":"1.0","sign":"{sign}","paramContent":{params}}}"#
        )
    };
    let answer = post(&sandbox, envelope(&md5_sign(&string_to_sign), params)).await;
    assert_eq!(answer.body["code"], json!("0"), "{}", answer.body);
    assert_eq!(answer.status, 200);

    // The digits a double keeps, signed as a double-reading client would:
    // not what was sent, so refused.
    let rounded = r#"{"pageSize":5,"big":1.8446744073709552e19,"pageNum":1,"offset":-0}"#;
    let answer = post(&sandbox, envelope(&md5_sign(&string_to_sign), rounded)).await;
    assert_eq!(answer.body["code"], json!("40001"), "{}", answer.body);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_envelope_with_a_repeated_key_is_refused_naming_it() {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox");
    // Signed for demo-app, after another appId (serde_json's Value keeps the last).
    let answer = post(&sandbox, signed(r#""appId":"someone-else","#)).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["code"], json!("40004"));
    let msg = answer.body["msg"].as_str().unwrap_or_default();
    assert!(msg.contains("`appId` appears more than once"), "{msg}");

    // A repeated key inside paramContent: the same.
    let timestamp = SystemClock.now_millis();
    let sign = md5_sign(&format!("appId=demo-app&timestamp={timestamp}&version=1.0"));
    let inner = format!(
        r#"{{"appId":"demo-app","timestamp":{timestamp},"version":"1.0","sign":"{sign}","paramContent":{{"pageNum":1,"pageNum":2,"pageSize":5}}}}"#
    );
    let answer = post(&sandbox, inner).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["code"], json!("40004"));
    let msg = answer.body["msg"].as_str().unwrap_or_default();
    assert!(msg.contains("\"pageNum\" is repeated"), "{msg}");

    // Once each: accepted.
    let answer = post(&sandbox, signed("")).await;
    assert_eq!(answer.body["code"], json!("0"), "{}", answer.body);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_body_that_is_not_application_json_is_refused() {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox");
    let body = signed("");
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let answer = post_text(&sandbox, content_type, body.clone()).await;
        assert_eq!(answer.status, 400, "{content_type:?}: {}", answer.body);
        assert_eq!(answer.body["code"], json!("40004"));
        let msg = answer.body["msg"].as_str().unwrap_or_default();
        assert!(msg.contains("application/json"), "{msg}");
    }
    for content_type in ["application/json", "Application/JSON; charset=utf-8"] {
        let answer = post_text(&sandbox, Some(content_type), body.clone()).await;
        assert_eq!(answer.body["code"], json!("0"), "{content_type}");
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_body_read_timeout_is_a_setting() {
    let config = SandboxConfig::default().with_body_read_timeout(Duration::from_millis(300));
    assert_eq!(config.body_read_timeout, Duration::from_millis(300));
    let sandbox = Sandbox::start(config).await.expect("sandbox");
    let addr = sandbox.addr();
    let started = Instant::now();
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        // The head, then 10 of the 100 bytes announced, then nothing.
        let head = format!(
            "POST {EMPLOYEES} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"appId\":"
        );
        stream.write_all(head.as_bytes()).expect("write");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .expect("client");
    let elapsed = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(3),
        "answered after {elapsed:?} (the default is 10 s)"
    );
    sandbox.shutdown().await;

    let zero = SandboxConfig::default().with_body_read_timeout(Duration::ZERO);
    let refused = Sandbox::start(zero).await.expect_err("zero is refused");
    assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput);
    assert!(refused.to_string().contains("body_read_timeout"));
}

#[tokio::test]
async fn settings_that_would_fail_every_request_or_the_machine_are_refused_at_start() {
    for (config, named) in [
        (
            SandboxConfig::default().with_credentials("", "demo-secret"),
            "app_id",
        ),
        (
            SandboxConfig::default().with_api_version(" "),
            "api_version",
        ),
        (
            SandboxConfig::default().with_item_count("listWecomEmployees", MAX_ITEM_COUNT + 1),
            "more than the sandbox generates",
        ),
        (
            SandboxConfig::default().with_item_count("listWecomEmployees", usize::MAX),
            "more than the sandbox generates",
        ),
    ] {
        let started = Instant::now();
        let error = Sandbox::start(config).await.expect_err("refused");
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
        assert!(error.to_string().contains(named), "{error}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
