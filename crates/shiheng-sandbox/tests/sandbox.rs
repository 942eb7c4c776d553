//! The sandbox, in process: the real signed client lists everything exactly
//! once, and every malformed or unauthentic request gets its documented
//! answer (never a 500, never a hang).

use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;
use secrecy::SecretString;
use serde_json::{Value, json};
use shiheng::sign::{Clock, FixedClock, Md5Signer, SignInput, Signer, SystemClock};
use shiheng::{Client, Config, ErrorKind};
use shiheng_sandbox::{Sandbox, SandboxConfig};

const ABOVE_2_POW_53: i64 = 9_007_199_254_740_993;
const EMPLOYEES: &str = "/wecom/employee/page";
const CUSTOMERS: &str = "/wecom/customer/list";
const GROUP_CHATS: &str = "/wecom/group-chat/list";

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts")
}

fn client(sandbox: &Sandbox, secret: &str) -> Client {
    Client::new(Config::new(sandbox.url(), "demo-app", secret.to_string())).expect("client")
}

/// A request envelope signed like the client signs, for hand-made requests.
fn envelope(app_id: &str, secret: &str, timestamp: i64, params: Option<Value>) -> Value {
    let signature = Md5Signer::new()
        .sign(
            &SignInput {
                app_id,
                timestamp,
                version: "1.0",
                param_content: params.as_ref(),
            },
            &SecretString::from(secret.to_string()),
        )
        .expect("a signable paramContent");
    let mut body = json!({
        "appId": app_id,
        "sign": signature.sign,
        "version": "1.0",
        "timestamp": timestamp,
    });
    if let Some(params) = params {
        body["paramContent"] = params;
    }
    body
}

fn now() -> i64 {
    SystemClock.now_millis()
}

struct Answer {
    status: u16,
    allow: Option<String>,
    content_type: String,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("(none)").to_string()
    }
}

async fn send(sandbox: &Sandbox, method: reqwest::Method, path: &str, body: Vec<u8>) -> Answer {
    // A plain reqwest client needs a process-wide rustls provider when
    // reqwest has none of its own (shiheng's default `tls-ring` feature).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    let response = http
        .request(method, format!("{}{path}", sandbox.url()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the sandbox answers");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let allow = header("allow");
    let content_type = header("content-type").unwrap_or_default();
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    Answer {
        status,
        allow,
        content_type,
        text,
    }
}

async fn post(sandbox: &Sandbox, path: &str, body: &Value) -> Answer {
    send(
        sandbox,
        reqwest::Method::POST,
        path,
        body.to_string().into_bytes(),
    )
    .await
}

fn assert_error_envelope(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["code"], json!(code), "{}", answer.text);
    assert!(body["msg"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(body["result"].is_null());
    let trace = body["traceId"].as_str().unwrap_or_default();
    assert_eq!(trace.len(), 32, "traceId {trace:?}");
    assert!(trace.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!answer.text.contains("demo-secret"));
}

#[tokio::test]
async fn the_client_lists_every_item_exactly_once() {
    let sandbox = sandbox().await;
    let client = client(&sandbox, "demo-secret");

    let mut employees = client
        .list_wecom_employees()
        .page_size(50)
        .concurrency(4)
        .stream();
    let mut ids = Vec::new();
    while let Some(item) = employees.next().await {
        ids.push(item.expect("an employee").id.expect("an id"));
    }
    let unique: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(ids.len(), 464);
    assert_eq!(unique.len(), 464);
    assert!(ids.contains(&ABOVE_2_POW_53), "64-bit ids survive exactly");
    let summary = employees.summary();
    assert_eq!((summary.pages, summary.duplicates_dropped), (10, 0));
    assert!(!summary.totals_disagree());

    let (customers, _) = client
        .list_wecom_customers()
        .page_size(100)
        .stream()
        .try_collect_with_summary()
        .await
        .expect("customers");
    let ids: HashSet<i64> = customers.iter().filter_map(|c| c.id).collect();
    assert_eq!((customers.len(), ids.len()), (250, 250));

    let (chats, summary) = client
        .list_wecom_group_chats()
        .page_size(7)
        .stream()
        .try_collect_with_summary()
        .await
        .expect("group chats");
    let ids: HashSet<i64> = chats.iter().filter_map(|c| c.id).collect();
    assert_eq!((chats.len(), ids.len()), (120, 120));
    assert_eq!(summary.pages, 18);
    assert!(sandbox.requests() >= 10 + 3 + 18);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_data_looks_like_the_published_samples() {
    let sandbox = sandbox().await;
    let answer = post(
        &sandbox,
        EMPLOYEES,
        &envelope(
            "demo-app",
            "demo-secret",
            now(),
            Some(json!({"pageNum": 1, "pageSize": 50})),
        ),
    )
    .await;
    assert_eq!((answer.status, answer.code()), (200, "0".to_string()));
    let body = answer.json();
    assert!(body["msg"].is_null());
    assert_eq!(
        (
            body["result"]["pages"].clone(),
            body["result"]["total"].clone()
        ),
        (json!(10), json!(464))
    );
    let items = body["result"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(items.len(), 50);
    assert_eq!(items[0]["status"], json!(6), "the undocumented status");
    assert!(items.iter().any(|e| e["phone"].is_string()));
    assert!(items.iter().any(|e| e["phone"].is_u64()));
    assert!(items.iter().any(|e| e["followUserFlag"].is_boolean()));
    assert!(items.iter().any(|e| e["followUserFlag"].is_u64()));
    assert!(items.iter().any(|e| e["mobileNumber"].is_null()));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_body_altered_after_signing_is_an_invalid_sign() {
    let sandbox = sandbox().await;
    let mut body = envelope(
        "demo-app",
        "demo-secret",
        now(),
        Some(json!({"pageNum": 1, "pageSize": 50})),
    );
    body["paramContent"]["pageSize"] = json!(49);
    let answer = post(&sandbox, EMPLOYEES, &body).await;
    assert_error_envelope(&answer, 200, "40001");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn keys_in_another_order_and_an_uppercase_sign_are_accepted() {
    let sandbox = sandbox().await;
    let params = json!({"startId": 0, "pageSize": 3});
    let mut body = envelope("demo-app", "demo-secret", now(), Some(params));
    body["sign"] = json!(body["sign"].as_str().unwrap_or_default().to_uppercase());
    // The canonical form sorts keys; write them reversed on the wire.
    let text = body.to_string().replace(
        r#"{"pageSize":3,"startId":0}"#,
        r#"{"startId":0,"pageSize":3}"#,
    );
    let answer = send(
        &sandbox,
        reqwest::Method::POST,
        CUSTOMERS,
        text.into_bytes(),
    )
    .await;
    assert_eq!(
        (answer.status, answer.code()),
        (200, "0".to_string()),
        "{}",
        answer.text
    );
    assert_eq!(answer.json()["result"]["pageSize"], json!(3));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_wrong_secret_is_an_invalid_sign() {
    let sandbox = sandbox().await;
    let error = client(&sandbox, "not-the-secret")
        .list_wecom_employees()
        .send()
        .await
        .expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.code(), Some("40001"));
    assert!(!error.to_string().contains("demo-secret"));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_stale_timestamp_is_out_of_window() {
    let sandbox = sandbox().await;
    let config = Config::new(sandbox.url(), "demo-app", "demo-secret".to_string())
        .with_clock(FixedClock(now() - 301_000));
    let error = Client::new(config)
        .expect("client")
        .list_wecom_customers()
        .send()
        .await
        .expect_err("refused");
    assert_eq!(error.code(), Some("40002"), "{error}");
    // In the future is as bad as in the past.
    let answer = post(
        &sandbox,
        CUSTOMERS,
        &envelope(
            "demo-app",
            "demo-secret",
            now() + 301_000,
            Some(json!({"startId": 0, "pageSize": 1})),
        ),
    )
    .await;
    assert_error_envelope(&answer, 200, "40002");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_unknown_app_id_is_refused_first() {
    let sandbox = sandbox().await;
    // Stale and badly signed too: the appId check comes first.
    let body = envelope(
        "other-app",
        "x",
        1,
        Some(json!({"startId": 0, "pageSize": 1})),
    );
    assert_error_envelope(&post(&sandbox, GROUP_CHATS, &body).await, 200, "40003");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn schema_violations_are_http_400_with_40004() {
    let sandbox = sandbox().await;
    let signed = |params: Value| envelope("demo-app", "demo-secret", now(), Some(params));
    let cases = [
        (EMPLOYEES, signed(json!({"pageNum": 1, "pageSize": 51}))),
        (EMPLOYEES, signed(json!({"pageNum": 0, "pageSize": 50}))),
        (EMPLOYEES, signed(json!({"pageNum": 1}))),
        (EMPLOYEES, signed(json!({"pageNum": 1, "pageSize": "50"}))),
        (EMPLOYEES, signed(json!({"pageNum": 1, "pageSize": 1.5}))),
        (EMPLOYEES, envelope("demo-app", "demo-secret", now(), None)),
        (CUSTOMERS, signed(json!({"startId": 0, "pageSize": 101}))),
        (CUSTOMERS, signed(json!({"startId": -1, "pageSize": 100}))),
        (
            CUSTOMERS,
            signed(json!({"startId": 18446744073709551615u64, "pageSize": 100})),
        ),
        (GROUP_CHATS, signed(json!({"startId": 0, "pageSize": 0}))),
        (GROUP_CHATS, signed(json!([1, 2]))),
        (
            GROUP_CHATS,
            json!({"appId": "demo-app", "version": "1.0", "timestamp": now()}),
        ),
        (
            GROUP_CHATS,
            json!({"appId": "demo-app", "sign": "x", "version": "1.0", "timestamp": "now"}),
        ),
        (
            GROUP_CHATS,
            json!({"appId": "", "sign": "x", "version": "1.0", "timestamp": 1}),
        ),
        (GROUP_CHATS, json!([])),
    ];
    for (path, body) in cases {
        let answer = post(&sandbox, path, &body).await;
        assert_error_envelope(&answer, 400, "40004");
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn garbage_and_oversized_bodies_are_400_not_500() {
    let sandbox = sandbox().await;
    let bodies: [Vec<u8>; 4] = [
        b"\xff\xfe\x00garbage".to_vec(),
        Vec::new(),
        b"{\"appId\":".to_vec(),
        vec![b' '; 200 * 1024],
    ];
    for body in bodies {
        let answer = send(&sandbox, reqwest::Method::POST, EMPLOYEES, body).await;
        assert_error_envelope(&answer, 400, "40004");
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn other_methods_get_405_with_allow_and_unknown_paths_404() {
    let sandbox = sandbox().await;
    for method in [
        reqwest::Method::GET,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
    ] {
        let answer = send(&sandbox, method, CUSTOMERS, Vec::new()).await;
        assert_eq!(answer.allow.as_deref(), Some("POST"));
        assert_error_envelope(&answer, 405, "40405");
    }
    let answer = post(&sandbox, "/wecom/nothing", &json!({})).await;
    assert_error_envelope(&answer, 404, "40404");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn group_chats_without_param_content_start_from_the_beginning() {
    let sandbox = sandbox().await;
    let answer = post(
        &sandbox,
        GROUP_CHATS,
        &envelope("demo-app", "demo-secret", now(), None),
    )
    .await;
    assert_eq!(
        (answer.status, answer.code()),
        (200, "0".to_string()),
        "{}",
        answer.text
    );
    assert_eq!(answer.json()["result"]["pageSize"], json!(100));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn injected_failures_are_gateway_pages() {
    let sandbox = Sandbox::start({
        let mut config = SandboxConfig::default();
        config.fail_rate = 1.0;
        config
    })
    .await
    .expect("sandbox");
    let body = envelope(
        "demo-app",
        "demo-secret",
        now(),
        Some(json!({"pageNum": 1, "pageSize": 50})),
    );
    let answer = post(&sandbox, EMPLOYEES, &body).await;
    assert_eq!(answer.status, 503);
    assert!(answer.content_type.starts_with("text/html"));
    let error = client(&sandbox, "demo-secret")
        .list_wecom_employees()
        .send()
        .await
        .expect_err("503");
    assert_eq!(error.kind(), ErrorKind::Http);
    assert_eq!(error.status(), Some(503));

    sandbox.set_fail_rate(0.0);
    sandbox.set_latency(Duration::from_millis(20));
    let started = std::time::Instant::now();
    client(&sandbox, "demo-secret")
        .list_wecom_employees()
        .send()
        .await
        .expect("recovered");
    assert!(started.elapsed() >= Duration::from_millis(20));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn failures_are_the_same_every_run() {
    let mut outcomes = Vec::new();
    for _ in 0..2 {
        let sandbox = Sandbox::start({
            let mut config = SandboxConfig::default();
            config.fail_rate = 0.5;
            config
        })
        .await
        .expect("sandbox");
        let mut run = Vec::new();
        for _ in 0..20 {
            let body = envelope(
                "demo-app",
                "demo-secret",
                now(),
                Some(json!({"pageNum": 1, "pageSize": 1})),
            );
            run.push(post(&sandbox, EMPLOYEES, &body).await.status);
        }
        sandbox.shutdown().await;
        outcomes.push(run);
    }
    assert_eq!(outcomes[0], outcomes[1]);
    assert!(outcomes[0].contains(&503) && outcomes[0].contains(&200));
}

async fn list_changing_after_first_page(change: impl FnOnce(&Sandbox)) -> shiheng::ListingSummary {
    let sandbox = sandbox().await;
    let mut items = client(&sandbox, "demo-secret")
        .list_wecom_employees()
        .page_size(50)
        .concurrency(1)
        .stream();
    // The first page is in hand once its first item is; later pages are
    // only requested when the stream is polled past it.
    let first = items.next().await;
    assert!(matches!(first, Some(Ok(_))));
    change(&sandbox);
    while let Some(item) = items.next().await {
        item.expect("an employee");
    }
    sandbox.shutdown().await;
    items.summary()
}

#[tokio::test]
async fn employees_inserted_mid_listing_show_up_in_the_summary() {
    let summary = list_changing_after_first_page(|s| {
        assert_eq!(s.insert_items("listWecomEmployees", 10), Ok(10))
    })
    .await;
    assert_eq!(summary.duplicates_dropped, 10);
    assert_eq!(summary.items, 464);
    assert_eq!(
        (summary.first_total, summary.last_total),
        (Some(464), Some(474))
    );
    assert!(summary.totals_disagree());
}

#[tokio::test]
async fn employees_removed_mid_listing_show_up_in_the_summary() {
    let summary = list_changing_after_first_page(|s| {
        assert_eq!(s.remove_items("listWecomEmployees", 10), Ok(10))
    })
    .await;
    assert_eq!(summary.duplicates_dropped, 0);
    assert_eq!(summary.items, 454, "ten items were skipped by the shift");
    assert_eq!(summary.last_total, Some(454));
    assert!(summary.totals_disagree());
}

#[tokio::test]
async fn shutdown_is_bounded_even_with_a_stalled_client() {
    let sandbox = sandbox().await;
    // A client that opens a connection and sends half a request.
    let mut stalled = tokio::net::TcpStream::connect(sandbox.addr())
        .await
        .expect("connect");
    tokio::io::AsyncWriteExt::write_all(
        &mut stalled,
        b"POST /wecom/employee/page HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{",
    )
    .await
    .expect("write");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    sandbox.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Each operation's data is generated when first asked for, so the order in
/// which operations are first called must not change what they serve: two
/// sandboxes of one seed, asked in opposite orders, serve the same pages.
#[tokio::test]
async fn data_generated_on_first_use_does_not_depend_on_the_order_of_use() {
    let first = sandbox().await;
    let second = sandbox().await;
    let ops = shiheng::operation::OperationSpec::all();
    let mut seen = Vec::new();
    for (sandbox, order) in [
        (&first, ops.iter().collect::<Vec<_>>()),
        (&second, ops.iter().rev().collect::<Vec<_>>()),
    ] {
        let client = client(sandbox, "demo-secret");
        let mut pages = std::collections::BTreeMap::new();
        for op in order {
            let params = shiheng_spec::drift::first_request(op).expect("params from the spec");
            let reply = shiheng::dynamic::of(op)
                .call_whole(&client, params)
                .await
                .expect("the sandbox answers");
            let mut body = reply.body;
            body.as_object_mut().map(|b| b.remove("traceId"));
            pages.insert(op.operation_id, body);
        }
        seen.push(pages);
    }
    first.shutdown().await;
    second.shutdown().await;
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0].len(), ops.len());
}
