//! The sandbox's HTTP side: routing by the operation table's paths, the
//! request envelope's schema checks against the operation's request schema
//! (HTTP 400, code 40004, naming the field), the platform's business checks
//! (HTTP 200: appId 40003, then timestamp 40002, then sign 40001, then an
//! unsupported `version` as 40004), acting on fault decisions (503 page,
//! dropped connection, slow answer), and the error envelopes. Answers to
//! well-formed requests come from `catalog`. Every input ends in an envelope
//! or a gateway page: nothing here panics on request data, and every wait is
//! bounded.

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
use super::catalog::Served;
use super::rng::mix;
use super::validate::{self, UnknownFields};
use shiheng::sign::{Clock, Md5Signer, SystemClock, canonical_json_text};
use shiheng_spec::schema::REF_PREFIX;

/// Largest request body read; the real envelopes are a few hundred bytes.
const MAX_BODY_BYTES: usize = 64 * 1024;

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

/// The signing fields of a request envelope that passed the schema checks.
struct Envelope<'a> {
    app_id: &'a str,
    sign: &'a str,
    version: &'a str,
    timestamp: i64,
    /// `paramContent` exactly as received: the sign is checked over its
    /// canonical form taken from this text, so integers beyond 64 bits
    /// keep every digit.
    param_text: Option<&'a str>,
    param_content: Option<&'a Value>,
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let ordinal = shared.requests.fetch_add(1, Ordering::Relaxed);
    let path = request.uri().path().to_owned();
    let Some(served) = shared.catalog.by_path(&path) else {
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
    // The spec's request bodies are application/json (parameters such as
    // charset allowed); anything else, or none, is refused before reading.
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let is_json = content_type.as_deref().is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
    });
    if !is_json {
        let msg = match content_type {
            Some(t) => format!(
                "Content-Type {:?} is not accepted: the request body must be application/json",
                printable(&t)
            ),
            None => "Content-Type is missing: the request body must be application/json".into(),
        };
        // 400 with 40004, the spec's documented refusal of a bad request
        // (a 415 would be an answer the contract does not list).
        return bad_request(&shared, &msg);
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
    let body = match tokio::time::timeout(shared.body_read_timeout, read).await {
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
    // Which of two values a repeated key means depends on the parser: the
    // platform's envelope allows none (and the sign could not cover both).
    let entries = match serde_json::from_slice::<RawObject<'_>>(&body) {
        Ok(RawObject(entries)) => entries,
        Err(_) => Vec::new(),
    };
    let mut names: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        let msg = format!(
            "`{}` appears more than once in the envelope",
            printable(w[0])
        );
        return bad_request(&shared, &msg);
    }
    let param_text = entries
        .iter()
        .find(|(k, _)| k == "paramContent")
        .map(|(_, v)| v.get());
    if let Some(text) = param_text
        && let Err(e) = canonical_json_text(text)
    {
        return bad_request(&shared, &format!("`paramContent`: {e}"));
    }
    let envelope = match parse_envelope(&shared, served, &value, param_text) {
        Ok(envelope) => envelope,
        Err(msg) => return bad_request(&shared, &msg),
    };
    if let Some((code, msg)) = business_check(&shared, &envelope) {
        return error(&shared, StatusCode::OK, code, &msg);
    }
    let page = served.page_request(envelope.param_content);
    if let (Some(page), Some(pagination)) = (page, served.op.pagination) {
        // The schema's bounds were checked; the table's are the same
        // bounds, read by build.rs, and a listing relies on them.
        let position = pagination.position();
        if !position.bounds.contains(page.position)
            || !pagination.page_size.bounds.contains(page.page_size)
        {
            let msg = format!(
                "`paramContent.{}` must be within {}..={} and `paramContent.{}` within {}..={}",
                position.name,
                position.bounds.min,
                position.bounds.max,
                pagination.page_size.name,
                pagination.page_size.bounds.min,
                pagination.page_size.bounds.max
            );
            return bad_request(&shared, &msg);
        }
    }
    let body = served.answer(page, &trace_id(&shared), shared.drift);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// An object's entries in the order of the text, repeats kept: how a
/// repeated envelope key is found (a `Value` keeps only one of them).
struct RawObject<'a>(Vec<(String, &'a serde_json::value::RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for RawObject<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Entries<'a> {
            type Value = RawObject<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    entries.push((key, map.next_value()?));
                }
                Ok(RawObject(entries))
            }
        }
        d.deserialize_map(Entries(std::marker::PhantomData))
    }
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

/// Checks the body against the operation's request schema, then reads the
/// envelope's signing fields (which the platform requires of every call,
/// whatever a request schema says).
fn parse_envelope<'a>(
    shared: &Shared,
    served: &Served,
    body: &'a Value,
    param_text: Option<&'a str>,
) -> Result<Envelope<'a>, String> {
    let Value::Object(map) = body else {
        return Err(format!(
            "the request body must be a JSON object, not {}",
            shiheng_spec::schema::json_type(body)
        ));
    };
    if !served.op.request_schema.is_empty() {
        let schema = json!({ "$ref": format!("{REF_PREFIX}{}", served.op.request_schema) });
        validate::check(
            shared.spec,
            &schema,
            body,
            "request body",
            UnknownFields::Ignore,
        )
        .map_err(|violation| violation.to_string())?;
    }
    let timestamp = match map.get("timestamp") {
        None => return Err("`timestamp` is missing (the spec requires it)".into()),
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|t| *t >= 0)
            .ok_or("`timestamp` must be an integer of epoch milliseconds")?,
        Some(_) => return Err("`timestamp` must be an integer".into()),
    };
    let param_content = map.get("paramContent");
    if served.op.params_required && param_content.is_none() {
        return Err("`paramContent` is missing (the spec requires it)".into());
    }
    if param_content.is_some_and(|p| !p.is_object()) {
        return Err("`paramContent` must be an object".into());
    }
    Ok(Envelope {
        app_id: required_string(map, "appId")?,
        sign: required_string(map, "sign")?,
        version: required_string(map, "version")?,
        timestamp,
        param_text,
        param_content,
    })
}

fn required_string<'a>(map: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match map.get(name) {
        None => Err(format!("`{name}` is missing (the spec requires it)")),
        Some(Value::String(s)) if s.is_empty() => Err(format!("`{name}` must not be empty")),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!("`{name}` must be a string")),
    }
}

/// Whether the received sign is the expected one, in hex of either case:
/// both lowercased, then compared with `subtle` in time that depends only
/// on their lengths (a length mismatch is refused at once; an MD5 sign's
/// length is public).
fn sign_matches(expected: &str, received: &str) -> bool {
    let expected = expected.to_ascii_lowercase();
    let received = received.to_ascii_lowercase();
    expected.as_bytes().ct_eq(received.as_bytes()).into()
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
    // Verified over what was received, canonicalised from its text by the
    // client's own signer: the wire may order keys differently, the sign
    // may not differ, and no digit of a large integer is lost.
    let expected = match Md5Signer::new().sign_json_text(
        envelope.app_id,
        envelope.timestamp,
        envelope.version,
        envelope.param_text,
        &shared.app_secret,
    ) {
        Ok(expected) => expected,
        Err(e) => return Some((INVALID_PARAMETER, format!("`paramContent`: {e}"))),
    };
    if !sign_matches(&expected.sign, envelope.sign) {
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

#[cfg(test)]
mod tests {
    use super::sign_matches;

    #[test]
    fn signs_match_in_either_hex_case_and_only_at_the_same_length() {
        assert!(sign_matches("0f63ab", "0F63AB"));
        assert!(sign_matches("0f63ab", "0f63ab"));
        assert!(!sign_matches("0f63ab", "0f63ac"));
        assert!(!sign_matches("0f63ab", "0f63a"));
        assert!(!sign_matches("0f63ab", ""));
    }
}
