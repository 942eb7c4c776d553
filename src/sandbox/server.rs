//! The sandbox's HTTP side: routing, the request envelope's schema checks
//! (HTTP 400, code 40004), the platform's business checks (HTTP 200: appId
//! 40003, then timestamp 40002, then sign 40001, then an unsupported
//! `version` as 40004), acting on fault decisions (503 page, dropped
//! connection, slow answer), the response envelopes and, in drift mode, the
//! planted differences from the spec. Every input ends in an envelope or a gateway page:
//! nothing here panics on request data, and every wait is bounded.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;

use super::FaultKind;
use super::Shared;
use super::data::{self, mix};
use crate::operation::{Bounds, OperationSpec};
use crate::operations::{LIST_WECOM_CUSTOMERS, LIST_WECOM_EMPLOYEES, LIST_WECOM_GROUP_CHATS};
use crate::sign::{Clock, Md5Signer, SignInput, Signer, SystemClock, signs_match};

/// Largest request body read; the real envelopes are a few hundred bytes.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// How long a client may take to send its body before it is answered 408.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

const INVALID_SIGN: &str = "40001";
const STALE_TIMESTAMP: &str = "40002";
const UNKNOWN_APP: &str = "40003";
const INVALID_PARAMETER: &str = "40004";
const NOT_FOUND: &str = "40404";
const METHOD_NOT_ALLOWED: &str = "40405";

/// What a gateway in front of the platform answers when it gives up.
const GATEWAY_PAGE: &str = "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    // One fallback instead of per-route handlers: every path and method gets
    // the platform's envelope, never the framework's plain-text rejections.
    Router::new().fallback(handle).with_state(shared)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Employees,
    Customers,
    GroupChats,
}

impl Endpoint {
    fn from_path(path: &str) -> Option<Self> {
        match path {
            "/wecom/employee/page" => Some(Self::Employees),
            "/wecom/customer/list" => Some(Self::Customers),
            "/wecom/group-chat/list" => Some(Self::GroupChats),
            _ => None,
        }
    }
}

/// The page a request asks for, validated against the spec's bounds.
#[derive(Debug, Clone, Copy)]
enum Params {
    Number { page: i64, page_size: i64 },
    Cursor { start_id: i64, page_size: i64 },
}

/// A request envelope that passed the schema checks.
struct Envelope<'a> {
    app_id: &'a str,
    sign: &'a str,
    version: &'a str,
    timestamp: i64,
    param_content: Option<&'a Value>,
    params: Params,
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let ordinal = shared.requests.fetch_add(1, Ordering::Relaxed);
    let path = request.uri().path().to_owned();
    let Some(endpoint) = Endpoint::from_path(&path) else {
        let msg = format!("no endpoint at {}", printable(&path));
        return error(&shared, StatusCode::NOT_FOUND, NOT_FOUND, &msg);
    };
    if request.method() != Method::POST {
        let msg = format!("{} is not allowed here; use POST", request.method());
        let mut response = error(
            &shared,
            StatusCode::METHOD_NOT_ALLOWED,
            METHOD_NOT_ALLOWED,
            &msg,
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let latency = shared.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match shared.faults.decide(shared.seed, ordinal) {
        None => {}
        Some(FaultKind::Gateway) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/html")],
                GATEWAY_PAGE,
            )
                .into_response();
        }
        Some(FaultKind::Drop) => return dropped_connection(),
        Some(FaultKind::Slow) => {
            let delay = Duration::from_micros(shared.faults.slow_delay_micros());
            tokio::time::sleep(delay).await;
        }
    }
    let too_large = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|len| len > MAX_BODY_BYTES as u64);
    if too_large {
        let msg = format!("request body over {MAX_BODY_BYTES} bytes");
        return bad_request(&shared, &msg);
    }
    let read = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES);
    let body = match tokio::time::timeout(BODY_TIMEOUT, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            let msg = format!("request body unreadable or over {MAX_BODY_BYTES} bytes");
            return bad_request(&shared, &msg);
        }
        Err(_) => {
            let msg = "request body not received in time";
            return error(&shared, StatusCode::REQUEST_TIMEOUT, INVALID_PARAMETER, msg);
        }
    };
    let value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(e) => return bad_request(&shared, &format!("request body is not JSON: {e}")),
    };
    let Value::Object(map) = &value else {
        return bad_request(&shared, "request body must be a JSON object");
    };
    let envelope = match parse_envelope(map, endpoint) {
        Ok(envelope) => envelope,
        Err(msg) => return bad_request(&shared, &msg),
    };
    if let Some((code, msg)) = business_check(&shared, &envelope) {
        return error(&shared, StatusCode::OK, code, &msg);
    }
    answer(&shared, endpoint, envelope.params)
}

/// A response whose body fails before its first byte. hyper then closes the
/// connection without flushing the buffered head, so the client reads no
/// answer at all: the same as a proxy or a crashed server cutting it.
fn dropped_connection() -> Response {
    let failing = futures::stream::once(async {
        Err::<bytes::Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox: injected dropped connection",
        ))
    });
    Response::new(axum::body::Body::from_stream(failing))
}

fn parse_envelope(map: &Map<String, Value>, endpoint: Endpoint) -> Result<Envelope<'_>, String> {
    let app_id = required_string(map, "appId")?;
    let sign = required_string(map, "sign")?;
    let version = required_string(map, "version")?;
    let timestamp = integer(
        map,
        "timestamp",
        "timestamp",
        Bounds {
            min: 0,
            max: i64::MAX,
        },
    )?
    .ok_or("missing field `timestamp`")?;
    let param_content = map.get("paramContent");
    let params = match (endpoint, param_content) {
        (Endpoint::GroupChats, None) => Params::Cursor {
            start_id: position(&LIST_WECOM_GROUP_CHATS).min.max(0),
            page_size: page_size(&LIST_WECOM_GROUP_CHATS).max,
        },
        (_, None) => return Err("missing field `paramContent`".into()),
        (_, Some(Value::Object(params))) => match endpoint {
            Endpoint::Employees => Params::Number {
                page: required_integer(params, "pageNum", position(&LIST_WECOM_EMPLOYEES))?,
                page_size: required_integer(params, "pageSize", page_size(&LIST_WECOM_EMPLOYEES))?,
            },
            Endpoint::Customers => cursor_params(&LIST_WECOM_CUSTOMERS, params)?,
            Endpoint::GroupChats => cursor_params(&LIST_WECOM_GROUP_CHATS, params)?,
        },
        (_, Some(_)) => return Err("`paramContent` must be an object".into()),
    };
    Ok(Envelope {
        app_id,
        sign,
        version,
        timestamp,
        param_content,
        params,
    })
}

fn cursor_params(op: &OperationSpec, params: &Map<String, Value>) -> Result<Params, String> {
    Ok(Params::Cursor {
        start_id: required_integer(params, "startId", position(op))?,
        page_size: required_integer(params, "pageSize", page_size(op))?,
    })
}

fn position(op: &OperationSpec) -> Bounds {
    op.pagination.map_or(
        Bounds {
            min: 0,
            max: i64::MAX,
        },
        |p| p.position().bounds,
    )
}

fn page_size(op: &OperationSpec) -> Bounds {
    op.pagination
        .map_or(Bounds { min: 1, max: 100 }, |p| p.page_size.bounds)
}

fn required_string<'a>(map: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match map.get(name) {
        None => Err(format!("missing field `{name}`")),
        Some(Value::String(s)) if s.is_empty() => Err(format!("`{name}` must not be empty")),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!("`{name}` must be a string")),
    }
}

fn required_integer(map: &Map<String, Value>, name: &str, bounds: Bounds) -> Result<i64, String> {
    integer(map, name, &format!("paramContent.{name}"), bounds)?
        .ok_or_else(|| format!("missing field `paramContent.{name}`"))
}

fn integer(
    map: &Map<String, Value>,
    name: &str,
    shown: &str,
    bounds: Bounds,
) -> Result<Option<i64>, String> {
    let Some(value) = map.get(name) else {
        return Ok(None);
    };
    let out_of_range = || format!("`{shown}` must be within {}..={}", bounds.min, bounds.max);
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(v) if (bounds.min..=bounds.max).contains(&v) => Ok(Some(v)),
            Some(_) => Err(out_of_range()),
            None if n.is_u64() => Err(out_of_range()),
            None => Err(format!("`{shown}` must be an integer")),
        },
        _ => Err(format!("`{shown}` must be an integer")),
    }
}

/// The platform's checks on a well-formed request, in its order.
fn business_check(shared: &Shared, envelope: &Envelope<'_>) -> Option<(&'static str, String)> {
    let app_matches: bool = envelope
        .app_id
        .as_bytes()
        .ct_eq(shared.app_id.as_bytes())
        .into();
    if !app_matches {
        return Some((
            UNKNOWN_APP,
            format!("unknown appId {:?}", printable(envelope.app_id)),
        ));
    }
    let now = SystemClock.now_millis();
    let window_ms = u64::try_from(shared.timestamp_window.as_millis()).unwrap_or(u64::MAX);
    let skew = now.abs_diff(envelope.timestamp);
    if skew > window_ms {
        return Some((
            STALE_TIMESTAMP,
            format!(
                "timestamp {} is {} s away from the server's clock (window {} s)",
                envelope.timestamp,
                skew / 1000,
                window_ms / 1000
            ),
        ));
    }
    // Verified over what was received, canonicalised by the client's own
    // signer: the wire may order keys differently, the sign may not differ.
    let expected = Md5Signer::new().sign(
        &SignInput {
            app_id: envelope.app_id,
            timestamp: envelope.timestamp,
            version: envelope.version,
            param_content: envelope.param_content,
        },
        &shared.app_secret,
    );
    if !signs_match(&expected.sign, envelope.sign) {
        // The string to sign helps an integrator find the difference; the
        // secret is never part of it.
        return Some((
            INVALID_SIGN,
            format!(
                "invalid sign; string to sign (before the secret): {}",
                expected.string_to_sign
            ),
        ));
    }
    if envelope.version != shared.api_version {
        return Some((
            INVALID_PARAMETER,
            format!(
                "unsupported version {:?}; this server accepts {:?}",
                printable(envelope.version),
                shared.api_version
            ),
        ));
    }
    None
}

fn answer(shared: &Shared, endpoint: Endpoint, params: Params) -> Response {
    let result = {
        let tables = shared.tables();
        match params {
            Params::Number { page, page_size } => {
                let (items, pages, total) = data::number_page(
                    &tables.employees,
                    page.unsigned_abs(),
                    page_size.unsigned_abs(),
                );
                json!({ "pages": pages, "total": total, "result": items })
            }
            Params::Cursor {
                start_id,
                page_size,
            } => {
                let table = if endpoint == Endpoint::Customers {
                    &tables.customers
                } else {
                    &tables.group_chats
                };
                let size = usize::try_from(page_size).unwrap_or(0);
                let (items, next) = data::cursor_page(table, start_id, size);
                json!({ "nextStartId": next, "pageSize": items.len(), "result": items })
            }
        }
    };
    let mut body = json!({
        "code": "0",
        "msg": null,
        "traceId": trace_id(shared),
        "result": result,
    });
    if shared.drift {
        plant_drift(endpoint, &mut body);
    }
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Drift mode: the differences from the spec documented on
/// [`super::SandboxConfig::drift`], planted in a success envelope.
fn plant_drift(endpoint: Endpoint, body: &mut Value) {
    let items = body
        .pointer_mut("/result/result")
        .and_then(Value::as_array_mut);
    match (endpoint, items) {
        (Endpoint::Employees, Some(items)) => {
            for (i, item) in items.iter_mut().enumerate() {
                if let Value::Object(employee) = item {
                    let nickname = format!("{}同学", employee["name"].as_str().unwrap_or("某"));
                    employee.insert("nickname".into(), json!(nickname));
                    if i == 1 {
                        employee.insert("status".into(), json!(9));
                    }
                }
            }
        }
        (Endpoint::GroupChats, Some(items)) => {
            if let Some(Value::Object(chat)) = items.get_mut(1) {
                let num = chat.get("num").map(Value::to_string).unwrap_or_default();
                chat.insert("num".into(), json!(num));
            }
        }
        (Endpoint::Customers, _) => {
            if let Value::Object(envelope) = body {
                envelope.remove("code");
            }
        }
        _ => {}
    }
}

/// An error envelope: `code`, `msg`, a fresh `traceId`, `result` null.
fn error(shared: &Shared, status: StatusCode, code: &str, msg: &str) -> Response {
    let body = json!({
        "code": code,
        "msg": msg,
        "traceId": trace_id(shared),
        "result": null,
    });
    tracing::debug!(%status, code, msg, "sandbox refused a request");
    (status, axum::Json(body)).into_response()
}

/// A body that breaks the spec's request schema.
fn bad_request(shared: &Shared, msg: &str) -> Response {
    error(shared, StatusCode::BAD_REQUEST, INVALID_PARAMETER, msg)
}

/// 32 lowercase hex digits, unique per answer of this sandbox.
fn trace_id(shared: &Shared) -> String {
    let n = shared.sequence.fetch_add(1, Ordering::Relaxed);
    let a = mix(shared.seed ^ mix(n.wrapping_add(0x7ACE)));
    let b = mix(a ^ n);
    format!("{a:016x}{b:016x}")
}

/// Request text quoted in a message: bounded, without control characters.
fn printable(text: &str) -> String {
    text.chars()
        .take(100)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
