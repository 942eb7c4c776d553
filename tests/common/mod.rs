//! Helpers shared by the integration tests: fixtures, a server-side sign
//! check written independently of `shiheng::sign`, and a capturing matcher.
#![allow(dead_code)]

pub mod scripted;

use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};
use serde_json::Value;

pub const APP_ID: &str = "test-app";
pub const SECRET: &str = "s3cr3t-Do-Not-Print";

/// A fixture file's text (tests/fixtures/...).
pub fn fixture(path: &str) -> String {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// The sign the server expects, computed without `shiheng::sign`: serde_json's
/// `Value` keeps object keys sorted (BTreeMap) and prints compact JSON.
pub fn server_side_sign(envelope: &Value, secret: &str) -> String {
    let mut parts = Vec::new();
    for key in ["appId", "paramContent", "timestamp", "version"] {
        match envelope.get(key) {
            Some(Value::String(s)) => parts.push(format!("{key}={s}")),
            Some(v) => parts.push(format!("{key}={v}")),
            None => {}
        }
    }
    let text = parts.join("&") + secret;
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks what a signed request must carry; returns the parsed envelope.
pub fn check_signed(body: &[u8], app_id: &str, secret: &str) -> Result<Value, String> {
    let envelope: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if envelope["appId"] != app_id {
        return Err(format!("appId {}", envelope["appId"]));
    }
    if envelope["version"] != "1.0" {
        return Err(format!("version {}", envelope["version"]));
    }
    let ts = envelope["timestamp"].as_i64().ok_or("timestamp")?;
    if ts.to_string().len() != 13 {
        return Err(format!("timestamp {ts} is not 13 digits"));
    }
    let sign = envelope["sign"].as_str().ok_or("sign")?;
    let want = server_side_sign(&envelope, secret);
    if sign != want {
        return Err(format!("sign {sign} != {want}"));
    }
    Ok(envelope)
}

/// A matcher for httpmock's `is_true` that records every body it sees and
/// accepts only correctly signed requests.
pub fn signed_by(
    app_id: &'static str,
    secret: &'static str,
) -> (
    Arc<Mutex<Vec<Value>>>,
    impl Fn(&httpmock::HttpMockRequest) -> bool + Send + Sync + 'static,
) {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = seen.clone();
    let matcher =
        move |req: &httpmock::HttpMockRequest| match check_signed(req.body_ref(), app_id, secret) {
            Ok(envelope) => {
                sink.lock().unwrap().push(envelope);
                true
            }
            Err(e) => {
                eprintln!("rejected by the test server: {e}");
                false
            }
        };
    (seen, matcher)
}

/// A mock that answers `body` (JSON text) on POST `path`, only to requests
/// signed with the test credentials, recording their bodies.
pub async fn signed_mock<'a>(
    server: &'a httpmock::MockServer,
    path: &'static str,
    body: String,
) -> (httpmock::Mock<'a>, Arc<Mutex<Vec<Value>>>) {
    let (seen, matcher) = signed_by(APP_ID, SECRET);
    let mock = server
        .mock_async(|when, then| {
            when.method(httpmock::Method::POST)
                .path(path)
                .header("content-type", "application/json")
                .is_true(matcher);
            then.status(200)
                .header("content-type", "application/json")
                .body(body);
        })
        .await;
    (mock, seen)
}

/// A client for `base_url` with the test credentials.
/// Retries are on (the default policy) with short backoffs, to keep tests fast.
pub fn client(base_url: &str) -> shiheng::Client {
    let retry = shiheng::RetryPolicy::default().with_backoff(
        std::time::Duration::from_millis(5),
        std::time::Duration::from_millis(20),
    );
    shiheng::Client::new(shiheng::Config::new(base_url, APP_ID, SECRET).with_retry(retry)).unwrap()
}

/// An employee page envelope with ids `from..from+n`.
pub fn employee_page(from: i64, n: i64, pages: Option<i64>, total: Option<i64>) -> Value {
    let items: Vec<Value> = (from..from + n)
        .map(|id| serde_json::json!({"id": id, "name": format!("员工{id}"), "status": 1}))
        .collect();
    let mut result = serde_json::json!({"result": items});
    if let Some(p) = pages {
        result["pages"] = p.into();
    }
    if let Some(t) = total {
        result["total"] = t.into();
    }
    serde_json::json!({"code": "0", "msg": null, "traceId": "t-page", "result": result})
}

/// A cursor page envelope with the given ids and next cursor.
pub fn cursor_page(ids: &[i64], next: Option<i64>) -> Value {
    let items: Vec<Value> = ids
        .iter()
        .map(|id| serde_json::json!({"id": id, "name": format!("客户{id}"), "phone": 13500000000i64 + id}))
        .collect();
    serde_json::json!({"code": "0", "msg": null, "traceId": "t-cursor",
        "result": {"nextStartId": next, "pageSize": ids.len(), "result": items}})
}
