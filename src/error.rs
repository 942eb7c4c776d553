//! The crate's one error type, and the mapping from what the generated client
//! returns (progenitor's error, or an envelope whose `code` is not "0") to it.
//! Every variant's Display is one line naming the operation, what failed and,
//! where the platform gave them, its `code`, `msg` and `traceId`.

use std::fmt;

use progenitor_client::ResponseValue;
use serde::Deserialize;

use crate::generated::types::ErrorEnvelope;

/// Longest piece of a response body quoted in an error.
const SNIPPET_CHARS: usize = 200;

/// Prefix of the middleware's marker for an oversized body (see `middleware`).
pub(crate) const TOO_LARGE_MARKER: &str = "shiheng: response body over ";

/// Prefix of the middleware's marker for a redirect it did not follow,
/// followed by `{status} {reason} {location}` (see `middleware`).
pub(crate) const REDIRECT_MARKER: &str = "shiheng: redirect not followed: ";

/// What went wrong, as a value: for matching, metrics and retry decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The platform answered with a business error (`code` is not "0").
    Api,
    /// A non-2xx HTTP answer without a platform envelope.
    Http,
    /// The request could not be sent or its answer not received.
    Transport,
    /// The request or the listing ran out of time.
    Timeout,
    /// The answer could not be decoded.
    Decode,
    /// The answer was larger than the configured maximum.
    ResponseTooLarge,
    /// An argument was refused before anything was sent.
    InvalidArgument,
    /// A listing did not make progress (a cursor that does not advance, too many pages).
    Pagination,
    /// The client's configuration is incomplete or invalid.
    Config,
    /// The server answered with a redirect that was not followed.
    Redirect,
}

/// Why a redirect was not followed ([`Error::Redirect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RedirectRefusal {
    /// Redirects are off (the default; see
    /// [`crate::Config::with_same_origin_redirects`]).
    Disabled,
    /// The `Location` is on another origin (scheme, host or port).
    CrossOrigin,
    /// A 301, 302 or 303, which would turn the POST into a GET.
    MethodChange,
    /// The `Location` leads back to a URL this request already visited.
    Loop,
    /// More redirects than the configured number of hops.
    TooMany,
    /// The `Location` is missing, not a URL, not http(s), or carries credentials.
    BadLocation,
    /// The request's body is not in memory, so it cannot be sent again.
    Unrepeatable,
}

impl RedirectRefusal {
    const ALL: [RedirectRefusal; 7] = [
        RedirectRefusal::Disabled,
        RedirectRefusal::CrossOrigin,
        RedirectRefusal::MethodChange,
        RedirectRefusal::Loop,
        RedirectRefusal::TooMany,
        RedirectRefusal::BadLocation,
        RedirectRefusal::Unrepeatable,
    ];

    /// A one-word name, for the middleware's marker.
    pub(crate) fn token(self) -> &'static str {
        match self {
            RedirectRefusal::Disabled => "disabled",
            RedirectRefusal::CrossOrigin => "cross-origin",
            RedirectRefusal::MethodChange => "method-change",
            RedirectRefusal::Loop => "loop",
            RedirectRefusal::TooMany => "too-many",
            RedirectRefusal::BadLocation => "bad-location",
            RedirectRefusal::Unrepeatable => "unrepeatable",
        }
    }

    fn from_token(token: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.token() == token)
    }
}

impl fmt::Display for RedirectRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RedirectRefusal::Disabled => {
                "redirects are not followed (a signed request goes only where it was addressed)"
            }
            RedirectRefusal::CrossOrigin => "it leads to another origin",
            RedirectRefusal::MethodChange => "following it would turn the POST into a GET",
            RedirectRefusal::Loop => "it leads back to a URL already visited (a redirect loop)",
            RedirectRefusal::TooMany => "too many redirects",
            RedirectRefusal::BadLocation => "its Location is not a usable http(s) URL",
            RedirectRefusal::Unrepeatable => "the request body cannot be sent again",
        })
    }
}

/// Transport failure detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection could be made: the request provably never left.
    Connect,
    /// The request or its answer timed out.
    Timeout,
    /// The connection failed while the answer was being read.
    Body,
    /// Anything else reqwest reports.
    Other,
}

/// Every error this crate returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The platform's business error: the envelope's `code` was not "0".
    #[error(
        "{operation}: the platform answered code {code}{msg} (traceId {trace}, HTTP {http})",
        msg = quoted(msg.as_deref()),
        trace = or_unknown(trace_id.as_deref()),
        http = status.map_or("unknown".to_string(), |s| s.to_string())
    )]
    Api {
        /// The spec's operationId.
        operation: &'static str,
        /// The envelope's `code`.
        code: String,
        /// The envelope's `msg`.
        msg: Option<String>,
        /// The envelope's `traceId`.
        trace_id: Option<String>,
        /// The HTTP status the envelope came with, when known.
        status: Option<u16>,
    },
    /// A non-2xx answer that is not a platform envelope (a gateway's page, say).
    #[error("{operation}: HTTP {status} without a platform envelope; body: {snippet}")]
    Http {
        /// The spec's operationId.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The start of the body, on one line.
        snippet: String,
        /// `Retry-After` in seconds, when the server sent one.
        retry_after: Option<u64>,
    },
    /// The request could not be sent, or its answer not received.
    #[error("{operation}: {what}: {detail}", what = transport_what(*kind), detail = chain(source))]
    Transport {
        /// The spec's operationId.
        operation: &'static str,
        /// What kind of transport failure.
        kind: TransportKind,
        /// reqwest's error.
        #[source]
        source: reqwest::Error,
    },
    /// The answer could not be decoded into the spec's types.
    #[error(
        "{operation}: undecodable response (HTTP {http}, traceId {trace}): {what}; body: {snippet}",
        http = status.map_or("unknown".to_string(), |s| s.to_string()),
        trace = or_unknown(trace_id.as_deref())
    )]
    Decode {
        /// The spec's operationId.
        operation: &'static str,
        /// The HTTP status, when known.
        status: Option<u16>,
        /// What failed to parse, and where.
        what: String,
        /// The start of the body, on one line.
        snippet: String,
        /// The envelope's `traceId`, when it could be read.
        trace_id: Option<String>,
    },
    /// The answer was larger than [`crate::Config::max_response_bytes`].
    #[error("{operation}: response body larger than the {limit}-byte limit")]
    ResponseTooLarge {
        /// The spec's operationId.
        operation: &'static str,
        /// The configured limit in bytes.
        limit: usize,
    },
    /// An argument was refused before anything was sent.
    #[error("{operation}: invalid argument: {message}")]
    InvalidArgument {
        /// The spec's operationId.
        operation: &'static str,
        /// What was wrong.
        message: String,
    },
    /// A listing stopped because it was not making progress.
    #[error("{operation}: pagination stopped: {message}")]
    Pagination {
        /// The spec's operationId.
        operation: &'static str,
        /// What was wrong.
        message: String,
    },
    /// A listing or call ran past its deadline.
    #[error("{operation}: deadline of {seconds:.1}s exceeded")]
    Deadline {
        /// The spec's operationId.
        operation: &'static str,
        /// The deadline in seconds.
        seconds: f64,
    },
    /// The configuration is incomplete or invalid.
    #[error("configuration: {message}")]
    Config {
        /// What was wrong.
        message: String,
    },
    /// The server answered with a redirect, which was not followed: a
    /// signed request is never re-sent anywhere else. Not retried.
    #[error("{operation}: HTTP {status} redirect to {location} not followed: {reason}")]
    Redirect {
        /// The spec's operationId.
        operation: &'static str,
        /// The redirect's HTTP status.
        status: u16,
        /// Where it pointed (resolved against the request's URL, without
        /// any credentials; the raw header, cleaned, when it is not a URL).
        location: String,
        /// Why it was not followed.
        reason: RedirectRefusal,
    },
    /// The signing middleware could not sign the request.
    #[error("{operation}: could not sign the request: {message}")]
    Signing {
        /// The spec's operationId.
        operation: &'static str,
        /// What was wrong.
        message: String,
    },
}

impl Error {
    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api { .. } => ErrorKind::Api,
            Error::Http { .. } => ErrorKind::Http,
            Error::Transport {
                kind: TransportKind::Timeout,
                ..
            }
            | Error::Deadline { .. } => ErrorKind::Timeout,
            Error::Transport { .. } => ErrorKind::Transport,
            Error::Decode { .. } => ErrorKind::Decode,
            Error::ResponseTooLarge { .. } => ErrorKind::ResponseTooLarge,
            Error::InvalidArgument { .. } | Error::Signing { .. } => ErrorKind::InvalidArgument,
            Error::Pagination { .. } => ErrorKind::Pagination,
            Error::Config { .. } => ErrorKind::Config,
            Error::Redirect { .. } => ErrorKind::Redirect,
        }
    }

    /// The platform's `code`, for business errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The platform's `traceId`, when the answer carried one.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Error::Api { trace_id, .. } | Error::Decode { trace_id, .. } => trace_id.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Decode { status, .. } => *status,
            Error::Http { status, .. } | Error::Redirect { status, .. } => Some(*status),
            Error::Transport { source, .. } => source.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    pub(crate) fn invalid_argument(operation: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            operation,
            message: message.into(),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
        }
    }
}

/// A successful answer: the envelope's `result` and what came with it.
#[derive(Debug, Clone)]
pub struct Reply<T> {
    /// The envelope's `result` (its default when the platform sent null).
    pub payload: T,
    /// The envelope's `traceId`.
    pub trace_id: Option<String>,
    /// The HTTP status.
    pub status: u16,
}

/// A response envelope of the spec (`code`, `msg`, `traceId`, `result`).
/// `build.rs` implements it for each operation's success response.
pub trait Envelope {
    /// The type of `result`.
    type Payload: Default;
    /// The envelope's `code`.
    fn code(&self) -> &str;
    /// The envelope's `msg`.
    fn msg(&self) -> Option<&str>;
    /// The envelope's `traceId`.
    fn trace_id(&self) -> Option<&str>;
    /// The envelope's `result`.
    fn into_payload(self) -> Option<Self::Payload>;
}

/// The code of a successful envelope.
pub const SUCCESS_CODE: &str = "0";

/// Awaits a generated method's call and turns what it returned into the
/// payload or an [`Error`]. The call runs under the middleware's status
/// probe, so an error progenitor reports without the HTTP status (an
/// undecodable body) still names the status of the answer it came with.
pub(crate) async fn settle<R, F>(
    operation: &'static str,
    call: F,
) -> Result<Reply<R::Payload>, Error>
where
    R: Envelope,
    F: std::future::Future<
            Output = Result<ResponseValue<R>, progenitor_client::Error<ErrorEnvelope>>,
        >,
{
    let (result, status) = crate::middleware::observing_status(call).await;
    let settled = settle_inner(operation, result, status).await;
    let span = tracing::Span::current();
    match &settled {
        Ok(reply) => {
            if let Some(trace_id) = &reply.trace_id {
                span.record("trace_id", trace_id.as_str());
            }
        }
        Err(error) => {
            if let Some(trace_id) = error.trace_id() {
                span.record("trace_id", trace_id);
            }
            tracing::debug!(%error, "call failed");
        }
    }
    settled
}

async fn settle_inner<R: Envelope>(
    operation: &'static str,
    result: Result<ResponseValue<R>, progenitor_client::Error<ErrorEnvelope>>,
    status: Option<u16>,
) -> Result<Reply<R::Payload>, Error> {
    match result {
        Ok(value) => {
            let status = value.status().as_u16();
            let envelope = value.into_inner();
            if envelope.code() != SUCCESS_CODE {
                return Err(Error::Api {
                    operation,
                    code: envelope.code().to_owned(),
                    msg: envelope.msg().map(str::to_owned),
                    trace_id: envelope.trace_id().map(str::to_owned),
                    status: Some(status),
                });
            }
            let trace_id = envelope.trace_id().map(str::to_owned);
            Ok(Reply {
                payload: envelope.into_payload().unwrap_or_default(),
                trace_id,
                status,
            })
        }
        Err(error) => Err(from_generated(operation, error, status).await),
    }
}

/// The head of any envelope, read leniently to classify undecodable answers.
#[derive(Deserialize)]
struct EnvelopeHead {
    code: Option<serde_json::Value>,
    msg: Option<String>,
    #[serde(rename = "traceId")]
    trace_id: Option<String>,
}

fn read_head(body: &[u8]) -> Option<EnvelopeHead> {
    serde_json::from_slice::<EnvelopeHead>(body).ok()
}

fn code_text(code: &serde_json::Value) -> String {
    match code {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Our error for progenitor's; `status` is the HTTP status of the last
/// answer, when the middleware saw one (progenitor drops it for bodies it
/// could not decode).
pub(crate) async fn from_generated(
    operation: &'static str,
    error: progenitor_client::Error<ErrorEnvelope>,
    status: Option<u16>,
) -> Error {
    use progenitor_client::Error as G;
    match error {
        G::InvalidRequest(message) => Error::invalid_argument(operation, message),
        G::CommunicationError(source) | G::InvalidUpgrade(source) => transport(operation, source),
        G::ResponseBodyError(source) => Error::Transport {
            operation,
            kind: if source.is_timeout() {
                TransportKind::Timeout
            } else {
                TransportKind::Body
            },
            source,
        },
        G::ErrorResponse(value) => {
            let status = value.status().as_u16();
            let envelope = value.into_inner();
            Error::Api {
                operation,
                code: envelope.code,
                msg: envelope.msg,
                trace_id: envelope.trace_id,
                status: Some(status),
            }
        }
        G::InvalidResponsePayload(body, decode_error) => {
            as_business_error(operation, &body, status).unwrap_or_else(|head| Error::Decode {
                operation,
                status,
                what: decode_error.to_string(),
                snippet: snippet(&body),
                trace_id: head.and_then(|h| h.trace_id),
            })
        }
        G::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            let retry_after = crate::middleware::retry_after_seconds(&response);
            let body = match response.bytes().await {
                Ok(body) => body,
                Err(source) => return transport(operation, source),
            };
            as_business_error(operation, &body, Some(status)).unwrap_or_else(|_| Error::Http {
                operation,
                status,
                snippet: snippet(&body),
                retry_after,
            })
        }
        G::Custom(message) => {
            if let Some(limit) = message.strip_prefix(TOO_LARGE_MARKER) {
                return Error::ResponseTooLarge {
                    operation,
                    limit: limit.parse().unwrap_or(0),
                };
            }
            if let Some(redirect) = message
                .strip_prefix(REDIRECT_MARKER)
                .and_then(|rest| redirect_from_marker(operation, rest))
            {
                return redirect;
            }
            Error::Signing { operation, message }
        }
    }
}

/// The middleware's marker text for a redirect it refused.
pub(crate) fn redirect_marker(status: u16, reason: RedirectRefusal, location: &str) -> String {
    format!("{REDIRECT_MARKER}{status} {} {location}", reason.token())
}

fn redirect_from_marker(operation: &'static str, rest: &str) -> Option<Error> {
    let mut parts = rest.splitn(3, ' ');
    let status = parts.next()?.parse().ok()?;
    let reason = RedirectRefusal::from_token(parts.next()?)?;
    let location = parts.next()?.to_string();
    Some(Error::Redirect {
        operation,
        status,
        location,
        reason,
    })
}

/// The body as the platform's business error, when it is an envelope whose
/// `code` is not "0"; otherwise what could be read of its head.
fn as_business_error(
    operation: &'static str,
    body: &[u8],
    status: Option<u16>,
) -> Result<Error, Option<EnvelopeHead>> {
    from_head(operation, read_head(body), status)
}

/// Like `as_business_error`, for a body already parsed (`Client::call_raw`).
pub(crate) fn business_error_in(
    operation: &'static str,
    body: &serde_json::Value,
    status: u16,
) -> Option<Error> {
    let head = EnvelopeHead::deserialize(body).ok();
    from_head(operation, head, Some(status)).ok()
}

fn from_head(
    operation: &'static str,
    head: Option<EnvelopeHead>,
    status: Option<u16>,
) -> Result<Error, Option<EnvelopeHead>> {
    match head {
        Some(EnvelopeHead {
            code: Some(code),
            msg,
            trace_id,
        }) if code_text(&code) != SUCCESS_CODE => Ok(Error::Api {
            operation,
            code: code_text(&code),
            msg,
            trace_id,
            status,
        }),
        head => Err(head),
    }
}

pub(crate) fn transport(operation: &'static str, source: reqwest::Error) -> Error {
    let kind = if source.is_timeout() {
        TransportKind::Timeout
    } else if source.is_connect() {
        TransportKind::Connect
    } else if source.is_body() || source.is_decode() {
        TransportKind::Body
    } else {
        TransportKind::Other
    };
    Error::Transport {
        operation,
        kind,
        source,
    }
}

/// The start of a body, lossily decoded, on one line.
pub(crate) fn snippet(body: &[u8]) -> String {
    if body.is_empty() {
        return "(empty)".to_string();
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(SNIPPET_CHARS * 4)]);
    let mut out: String = text
        .chars()
        .take(SNIPPET_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > SNIPPET_CHARS || body.len() > SNIPPET_CHARS * 4 {
        out.push('…');
    }
    out
}

fn quoted(msg: Option<&str>) -> String {
    match msg {
        Some(m) if !m.is_empty() => format!(" \"{m}\""),
        _ => String::new(),
    }
}

fn or_unknown(value: Option<&str>) -> &str {
    value.unwrap_or("unknown")
}

fn transport_what(kind: TransportKind) -> &'static str {
    match kind {
        TransportKind::Connect => "could not connect",
        TransportKind::Timeout => "timed out",
        TransportKind::Body => "connection failed while reading the answer",
        TransportKind::Other => "request failed",
    }
}

/// An error and its sources on one line, without repeating a message.
fn chain(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_is_bounded_and_one_line() {
        let body = format!("<html>\n{}</html>", "x".repeat(1000));
        let s = snippet(body.as_bytes());
        assert!(!s.contains('\n'));
        assert!(s.chars().count() <= SNIPPET_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(snippet(b""), "(empty)");
        assert_eq!(snippet(&[0xff, 0xfe, b'a']), "\u{fffd}\u{fffd}a");
    }

    #[test]
    fn api_error_is_one_line_with_code_msg_and_trace() {
        let e = Error::Api {
            operation: "listWecomEmployees",
            code: "40001".into(),
            msg: Some("invalid sign".into()),
            trace_id: Some("abc".into()),
            status: Some(200),
        };
        assert_eq!(
            e.to_string(),
            "listWecomEmployees: the platform answered code 40001 \"invalid sign\" (traceId abc, HTTP 200)"
        );
        assert_eq!(e.kind(), ErrorKind::Api);
        assert_eq!(e.code(), Some("40001"));
    }

    #[test]
    fn a_redirect_survives_the_marker_and_reads_as_one_line() {
        for reason in RedirectRefusal::ALL {
            let marker = redirect_marker(307, reason, "http://other.example/a b");
            let rest = marker.strip_prefix(REDIRECT_MARKER).unwrap();
            let e = redirect_from_marker("listWecomEmployees", rest).unwrap();
            assert_eq!((e.kind(), e.status()), (ErrorKind::Redirect, Some(307)));
            let text = e.to_string();
            assert!(
                text.starts_with(
                    "listWecomEmployees: HTTP 307 redirect to http://other.example/a b not followed: "
                ),
                "{text}"
            );
            assert!(text.ends_with(&reason.to_string()));
            assert!(!text.contains('\n'));
        }
        assert!(redirect_from_marker("op", "307 no-such-reason x").is_none());
    }

    #[test]
    fn an_unknown_status_says_unknown_and_a_known_one_is_named() {
        let decode = |status| Error::Decode {
            operation: "op",
            status,
            what: "expected value".into(),
            snippet: "<html>".into(),
            trace_id: None,
        };
        assert!(decode(Some(400)).to_string().contains("(HTTP 400,"));
        assert!(decode(None).to_string().contains("(HTTP unknown,"));
    }
}
