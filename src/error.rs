//! The crate's one error type, as values. Every variant's Display is one
//! line naming the operation, what failed and, where the platform gave
//! them, its `code`, `msg` and `traceId`. Which answer becomes which error
//! is decided in one place, `crate::call`'s classifier.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// Where a page sits in its listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagePosition {
    /// The page number that was requested.
    Number(i64),
    /// The cursor that was requested.
    Cursor(i64),
}

impl fmt::Display for PagePosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PagePosition::Number(n) => write!(f, "page {n}"),
            PagePosition::Cursor(c) => write!(f, "cursor {c}"),
        }
    }
}

/// Longest piece of a response body quoted in an error.
const SNIPPET_CHARS: usize = 200;

/// What went wrong, as a value: for matching, metrics and retry decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The platform answered with a business error (`code` is not "0").
    Api,
    /// A non-2xx HTTP answer with no business error in it (a gateway's page,
    /// or an envelope that says nothing failed).
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
    /// One item of a listing could not be decoded, even by the decoding
    /// rule; the listing goes on after it.
    UndecodableItem,
    /// The server answered with a redirect that was not followed.
    Redirect,
}

/// Why a redirect was not followed ([`Error::Redirect`]); its Display is
/// the reason in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectRefusal {
    /// Redirects are off (the default; see
    /// [`crate::Config::with_same_origin_redirects`]).
    #[error("redirects are not followed (a signed request goes only where it was addressed)")]
    Disabled,
    /// The `Location` is on another origin (scheme, host or port).
    #[error("it leads to another origin")]
    CrossOrigin,
    /// A 301, 302 or 303, which would turn the POST into a GET.
    #[error("following it would turn the POST into a GET")]
    MethodChange,
    /// The `Location` leads back to a URL this request already visited.
    #[error("it leads back to a URL already visited (a redirect loop)")]
    Loop,
    /// More redirects than the configured number of hops.
    #[error("too many redirects")]
    TooMany,
    /// The `Location` is missing, not a URL, not http(s), or carries credentials.
    #[error("its Location is not a usable http(s) URL")]
    BadLocation,
}

/// Transport failure detail; its Display says what failed, in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection could be made: the request provably never left.
    #[error("could not connect")]
    Connect,
    /// The request or its answer timed out.
    #[error("timed out")]
    Timeout,
    /// The connection failed while the answer was being read.
    #[error("connection failed while reading the answer")]
    Body,
    /// Anything else reqwest reports.
    #[error("request failed")]
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
        trace = or_unknown(trace_id),
        http = or_unknown(status)
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
    #[error(
        "{operation}: HTTP {status}, not a success, and no business error in the body: {snippet}"
    )]
    Http {
        /// The spec's operationId.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The start of the body, on one line.
        snippet: String,
        /// The wait the server's `Retry-After` asked for (either form), when it sent one.
        retry_after: Option<Duration>,
    },
    /// The request could not be sent, or its answer not received.
    #[error("{operation}: {kind}: {detail}", detail = chain(source))]
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
        http = or_unknown(status),
        trace = or_unknown(trace_id)
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
    /// One item of a listing could not be decoded, even by the decoding
    /// rule (it is not an object, or holds an object where a scalar
    /// belongs). The stream yields this error and goes on with the next
    /// item: stop or continue as you see fit. [`Error::raw_item`] has the
    /// item as the platform sent it.
    #[error(
        "{operation}: item {index} of {position} could not be decoded (traceId {trace}): {what}; item: {item}",
        trace = or_unknown(trace_id),
        item = snippet(raw.get().as_bytes())
    )]
    UndecodableItem {
        /// The spec's operationId.
        operation: &'static str,
        /// The page it was in.
        position: PagePosition,
        /// Its index in the page.
        index: usize,
        /// The page's `traceId`.
        trace_id: Option<String>,
        /// What failed.
        what: String,
        /// The item, as received.
        raw: Box<serde_json::value::RawValue>,
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
    /// The transport could not sign the request.
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
            Error::UndecodableItem { .. } => ErrorKind::UndecodableItem,
            Error::Redirect { .. } => ErrorKind::Redirect,
        }
    }

    /// Whether trying the same call again later may succeed: transport
    /// failures and timeouts (not a TLS certificate the client refused, nor
    /// an answer the HTTP layer could not parse: the client never retries
    /// those either), a deadline that ran out, and the HTTP statuses
    /// of an overloaded or restarting server (408, 425, 429, 500, 502, 503,
    /// 504). Business errors, redirects, undecodable answers, bad arguments
    /// and settings fail the same way every time. The client already retried
    /// what its [`RetryPolicy`](crate::RetryPolicy) allows before returning;
    /// this is for a caller deciding whether to try again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { source, .. } => is_transient(source),
            Error::Deadline { .. } => true,
            Error::Http { status, .. } => matches!(status, 408 | 425 | 429 | 500 | 502 | 503 | 504),
            _ => false,
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
            Error::Api { trace_id, .. }
            | Error::Decode { trace_id, .. }
            | Error::UndecodableItem { trace_id, .. } => trace_id.as_deref(),
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

    /// The item as the platform sent it, for [`Error::UndecodableItem`].
    pub fn raw_item(&self) -> Option<&str> {
        match self {
            Error::UndecodableItem { raw, .. } => Some(raw.get()),
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
#[non_exhaustive]
pub struct Reply<T> {
    /// The envelope's `result`.
    pub payload: T,
    /// The envelope's `traceId`.
    pub trace_id: Option<String>,
    /// The HTTP status.
    pub status: u16,
    /// The answer's HTTP headers.
    pub headers: http::HeaderMap,
}

/// The code of a successful envelope.
pub const SUCCESS_CODE: &str = "0";

/// Records a call's outcome on the current span: its `traceId`, and a debug
/// event when it failed.
pub(crate) fn record_outcome<T: TraceOf>(outcome: &Result<T, Error>) {
    let trace_id = outcome
        .as_ref()
        .map_or_else(Error::trace_id, TraceOf::trace_of);
    if let Some(trace_id) = trace_id {
        tracing::Span::current().record("trace_id", trace_id);
    }
    if let Err(error) = outcome {
        tracing::debug!(%error, "call failed");
    }
}

/// Something that came with a `traceId`.
pub(crate) trait TraceOf {
    fn trace_of(&self) -> Option<&str>;
}

impl<T> TraceOf for Reply<T> {
    fn trace_of(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }
}

/// The head of an envelope: its `code`, `msg` and `traceId`. The
/// classifier reads it by the decoding rule; [`EnvelopeHead::read`] reads
/// it leniently (any JSON type, as text), for answers that are not what the
/// spec says and for the transport's retryable business codes.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct EnvelopeHead {
    #[serde(deserialize_with = "text")]
    pub(crate) code: Option<String>,
    #[serde(deserialize_with = "text")]
    pub(crate) msg: Option<String>,
    #[serde(rename = "traceId", deserialize_with = "text")]
    pub(crate) trace_id: Option<String>,
}

impl EnvelopeHead {
    /// The head of `body`, when it is a JSON object.
    pub(crate) fn read(body: &[u8]) -> Option<Self> {
        // Only an object is an envelope (serde would also read a struct from an array).
        body.trim_ascii_start()
            .starts_with(b"{")
            .then(|| serde_json::from_slice(body).ok())?
    }
}

/// Any JSON value as text (a string as itself), `null` as `None`.
fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        other => Some(other.to_string()),
    })
}

/// Whether a transport failure may pass on its own: not a TLS certificate
/// the client refused (an unknown issuer, a wrong name, an expired
/// certificate), which reqwest reports as a connect error, nor an answer
/// the HTTP layer could not parse (a head too large, a bad Content-Length),
/// which the same server sends again. The transport retries by this rule
/// and [`Error::is_retryable`] answers by it.
pub(crate) fn is_transient(error: &reqwest::Error) -> bool {
    !sources(error).any(|e| {
        e.downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_parse)
            || matches!(
                e.downcast_ref::<rustls::Error>(),
                Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
            )
    })
}

/// `error` and its sources, outermost first. An io::Error's `source` skips
/// the error it wraps: this descends into it.
pub(crate) fn sources(error: &DynError) -> impl Iterator<Item = &DynError> {
    std::iter::successors(Some(error), |e| match e.downcast_ref::<std::io::Error>() {
        Some(io) => io.get_ref().map(|inner| inner as &DynError),
        None => e.source(),
    })
}

/// An error of any type, as a source.
type DynError = dyn std::error::Error + 'static;

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

fn or_unknown<T: fmt::Display>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map_or_else(|| "unknown".to_string(), T::to_string)
}

/// An error and its sources on one line, without repeating a message.
fn chain(error: &DynError) -> String {
    let mut parts: Vec<String> = Vec::new();
    for text in sources(error).map(ToString::to_string) {
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
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

    #[test]
    fn only_what_may_pass_is_retryable() {
        let http = |status| Error::Http {
            operation: "op",
            status,
            snippet: String::new(),
            retry_after: None,
        };
        assert!(http(503).is_retryable() && http(429).is_retryable());
        assert!(!http(404).is_retryable() && !http(400).is_retryable());
        let deadline = Error::Deadline {
            operation: "op",
            seconds: 1.0,
        };
        assert!(deadline.is_retryable());
        let api = Error::Api {
            operation: "op",
            code: "40001".into(),
            msg: None,
            trace_id: None,
            status: Some(200),
        };
        assert!(!api.is_retryable());
        assert!(!Error::config("x").is_retryable());
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
}
