//! The second adversarial pass, the client's side (docs/reliability.md,
//! "Hostile servers, second pass"): base URLs with parts that do not belong,
//! numbers kept to the digit in undeclared fields, answers the HTTP layer
//! cannot parse (never retried), non-2xx statuses with an envelope, bodies
//! compressed or behind a byte-order mark, negative counts, and integral
//! floats where the spec says integer. Every server binds 127.0.0.1 and
//! stops when dropped.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::scripted::{Action, ScriptedServer, json};
use common::{APP_ID, SECRET};
use serde_json::json;
use shiheng::lenient::EmployeeStatus;
use shiheng::record::Record;
use shiheng::{Config, ErrorKind, RetryPolicy};

fn client(url: &str) -> shiheng::Client {
    let retry =
        RetryPolicy::default().with_backoff(Duration::from_millis(5), Duration::from_millis(10));
    shiheng::Client::new(Config::new(url, APP_ID, SECRET).with_retry(retry)).unwrap()
}

fn page_with(items: &str) -> String {
    format!(
        r#"{{"code":"0","msg":null,"traceId":"t-2","result":{{"pages":1,"total":1,"result":[{items}]}}}}"#
    )
}

fn answer(status: u16, headers: Vec<(&'static str, String)>, body: &str) -> Action {
    Action::Answer(status, headers, body.to_string())
}

#[test]
fn a_base_url_with_a_query_or_a_fragment_is_a_config_error_naming_the_part() {
    for (url, part) in [
        ("http://127.0.0.1:1/ok#frag", "a fragment"),
        ("http://127.0.0.1:1/ok?x=1", "a query"),
    ] {
        let e = shiheng::Client::new(Config::new(url, APP_ID, SECRET)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{e}");
        assert!(e.to_string().contains(part), "{e}");
    }
    assert!(shiheng::Client::new(Config::new("http://127.0.0.1:1/gw/", APP_ID, SECRET)).is_ok());
}

#[tokio::test]
async fn undeclared_fields_keep_every_digit_as_received() {
    let item = r#"{"id":1,"big":123456789012345678901234567890,"e":1E+2,"z":-0,"f":0.1000}"#;
    let server = ScriptedServer::start(vec![answer(200, vec![], &page_with(item))]).await;
    let page = client(&server.url)
        .list_wecom_employees()
        .send()
        .await
        .unwrap();
    let employee = &page.result.expect("items")[0];
    let extra = Record::extra(employee);
    let texts: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (k.as_str(), v.get())).collect();
    assert_eq!(
        texts,
        [
            ("big", "123456789012345678901234567890"),
            ("e", "1E+2"),
            ("f", "0.1000"),
            ("z", "-0")
        ]
    );
    // Written out as received (what the CLI's json and jsonl write).
    let written = serde_json::to_string(employee).unwrap();
    for text in [
        r#""big":123456789012345678901234567890"#,
        r#""e":1E+2"#,
        r#""z":-0"#,
        r#""f":0.1000"#,
    ] {
        assert!(written.contains(text), "{text} in {written}");
    }
}

/// A server that answers every connection with `head` (raw HTTP) and
/// counts the connections.
async fn raw_server(head: String) -> (String, Arc<Mutex<usize>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(Mutex::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // Bounded: a test makes at most a handful of connections.
        for _ in 0..16 {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            *seen.lock().unwrap() += 1;
            let mut buf = vec![0u8; 64 * 1024];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    (url, count)
}

#[tokio::test]
async fn answers_the_http_layer_cannot_parse_are_not_retried() {
    let huge = format!(
        "HTTP/1.1 200 OK\r\nx-big: {}\r\n\r\n",
        "a".repeat(1024 * 1024)
    );
    let bad_length = "HTTP/1.1 200 OK\r\ncontent-length: twelve\r\n\r\n{}".to_string();
    for (what, head) in [
        ("a head too large", huge),
        ("a bad Content-Length", bad_length),
    ] {
        let (url, connections) = raw_server(head).await;
        let e = client(&url)
            .list_wecom_employees()
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Transport, "{what}: {e}");
        assert!(!e.is_retryable(), "{what}: {e}");
        assert_eq!(
            *connections.lock().unwrap(),
            1,
            "{what}: sent once, not retried"
        );
    }
}

#[tokio::test]
async fn a_non_success_status_with_a_success_envelope_says_what_it_is() {
    let body = json!({"code": "0", "msg": null, "traceId": "t-999", "result": {"result": []}});
    let server = ScriptedServer::start(vec![json(999, body)]).await;
    let e = client(&server.url)
        .list_wecom_employees()
        .retry_policy(RetryPolicy::disabled())
        .send()
        .await
        .unwrap_err();
    assert_eq!((e.kind(), e.status()), (ErrorKind::Http, Some(999)), "{e}");
    let text = e.to_string();
    assert!(text.contains("HTTP 999, not a success"), "{text}");
    assert!(!text.contains("without a platform envelope"), "{text}");
}

#[tokio::test]
async fn compressed_bodies_and_byte_order_marks_are_named() {
    let envelope = page_with(r#"{"id":1}"#);
    let gzip_magic = Arc::new(Mutex::new((200, vec![0x1f, 0x8b, 0x08, 0x00, 0x00])));
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(envelope.as_bytes());
    let cases = [
        (
            answer(
                200,
                vec![("content-encoding", "br".into())],
                "\u{1b}garbage",
            ),
            "encoded as `br` (Content-Encoding)",
        ),
        (
            Action::Shared(gzip_magic),
            "gzip-compressed, without a Content-Encoding header",
        ),
        (
            Action::Shared(Arc::new(Mutex::new((200, bom)))),
            "UTF-8 byte-order mark",
        ),
    ];
    for (action, named) in cases {
        let server = ScriptedServer::start(vec![action]).await;
        let e = client(&server.url)
            .list_wecom_employees()
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.status()),
            (ErrorKind::Decode, Some(200)),
            "{e}"
        );
        assert!(e.to_string().contains(named), "{named}: {e}");
    }
}

#[tokio::test]
async fn negative_counts_are_not_counts() {
    let body = r#"{"code":"0","msg":null,"traceId":"t-neg","result":{"pages":-1,"total":-5,"result":[{"id":1}]}}"#;
    let server = ScriptedServer::start(vec![answer(200, vec![], body)]).await;
    let e = client(&server.url)
        .list_wecom_employees()
        .stream()
        .try_collect_with_summary()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Pagination, "{e}");
    assert!(
        e.to_string()
            .contains("reports pages -1, which is not a count"),
        "{e}"
    );
    assert!(!e.to_string().contains("changed"), "{e}");
}

#[tokio::test]
async fn integral_floats_are_the_integers_they_write() {
    let items = r#"{"id":1.0,"status":6.0},{"id":2,"status":1e0},{"id":3,"status":-0}"#;
    let server = ScriptedServer::start(vec![answer(200, vec![], &page_with(items))]).await;
    let page = client(&server.url)
        .list_wecom_employees()
        .send()
        .await
        .unwrap();
    let statuses: Vec<_> = page
        .result
        .expect("items")
        .iter()
        .map(|e| (e.id, e.status))
        .collect();
    assert_eq!(
        statuses,
        [
            (Some(1), Some(EmployeeStatus::Undocumented(6))),
            (Some(2), Some(EmployeeStatus::Activated)),
            (Some(3), Some(EmployeeStatus::Unknown)),
        ]
    );
}

#[tokio::test]
async fn an_integer_past_64_bits_is_named_as_too_large_not_as_a_fraction() {
    let items = r#"{"id":18446744073709551616},{"id":7}"#;
    let server = ScriptedServer::start(vec![answer(200, vec![], &page_with(items))]).await;
    let mut listed = Vec::new();
    let mut errors = Vec::new();
    let mut stream = client(&server.url).list_wecom_employees().stream();
    while let Some(item) = futures::StreamExt::next(&mut stream).await {
        match item {
            Ok(employee) => listed.push(employee.id),
            Err(e) => errors.push(e),
        }
    }
    assert_eq!(listed, [Some(7)]);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind(), ErrorKind::UndecodableItem);
    let text = errors[0].to_string();
    assert!(
        text.contains("an integer too large to keep exactly"),
        "{text}"
    );
    assert!(!text.contains("fraction"), "{text}");
}
