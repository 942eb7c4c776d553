//! The crate's one error type, and the mapping from what the generated client
//! returns (progenitor's error, or an envelope whose `code` is not "0") to it.
//! Every variant's Display is one line naming the operation, what failed and,
//! where the platform gave them, its `code`, `msg` and `traceId`.

use std::fmt;

use serde::Deserialize;

/// Longest piece of a response body quoted in an error.
const SNIPPET_CHARS: usize = 200;

/// Prefix of the hooks' message for an error they found in an answer to a
/// generated call (see `middleware`): the error as JSON follows, so that
/// `From<progenitor_client::Error<_>>` can rebuild it.
pub(crate) const HOOK_ERROR_MARKER: &str = "shiheng hook error: ";

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
    /// One item of a listing could not be decoded, even by the decoding
    /// rule; the listing goes on after it.
    UndecodableItem,
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

    /// A one-word name, for the hooks' marker.
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
    /// One item of a listing could not be decoded, even by the decoding
    /// rule (it is not an object, or holds an object where a scalar
    /// belongs). The stream yields this error and goes on with the next
    /// item: stop or continue as you see fit. [`Error::raw_item`] has the
    /// item as the platform sent it.
    #[error(
        "{operation}: item {index} of {position} could not be decoded (traceId {trace}): {what}; item: {item}",
        trace = or_unknown(trace_id.as_deref()),
        item = snippet(raw.get().as_bytes())
    )]
    UndecodableItem {
        /// The spec's operationId.
        operation: &'static str,
        /// The page it was in.
        position: crate::paginate::PagePosition,
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
            Error::UndecodableItem { .. } => ErrorKind::UndecodableItem,
            Error::Redirect { .. } => ErrorKind::Redirect,
        }
    }

    /// Whether trying the same call again later may succeed: transport
    /// failures and timeouts, a deadline that ran out, and the HTTP statuses
    /// of an overloaded or restarting server (408, 425, 429, 500, 502, 503,
    /// 504). Business errors, redirects, undecodable answers, bad arguments
    /// and settings fail the same way every time. The client already retried
    /// what its [`RetryPolicy`](crate::RetryPolicy) allows before returning;
    /// this is for a caller deciding whether to try again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Deadline { .. } => true,
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
}

/// The code of a successful envelope.
pub const SUCCESS_CODE: &str = "0";

/// Records a call's outcome on the current span: its `traceId`, and a debug
/// event when it failed.
pub(crate) fn record_outcome<T>(outcome: &Result<T, Error>)
where
    T: TraceOf,
{
    let span = tracing::Span::current();
    match outcome {
        Ok(value) => {
            if let Some(trace_id) = value.trace_of() {
                span.record("trace_id", trace_id);
            }
        }
        Err(error) => {
            if let Some(trace_id) = error.trace_id() {
                span.record("trace_id", trace_id);
            }
            tracing::debug!(%error, "call failed");
        }
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

impl<T> TraceOf for crate::paginate::Page<T> {
    fn trace_of(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }
}

/// The head of any envelope, read leniently to classify answers that are
/// not what the spec says.
#[derive(Deserialize)]
struct EnvelopeHead {
    code: Option<serde_json::Value>,
    msg: Option<serde_json::Value>,
    #[serde(rename = "traceId")]
    trace_id: Option<serde_json::Value>,
}

fn read_head(body: &[u8]) -> Option<EnvelopeHead> {
    // Only an object is an envelope (serde would also read a struct from an array).
    let start = body.iter().find(|b| !b.is_ascii_whitespace())?;
    (*start == b'{')
        .then(|| serde_json::from_slice::<EnvelopeHead>(body).ok())
        .flatten()
}

fn text(value: Option<serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

/// The platform's business error in `body`, when it is an envelope whose
/// `code` is present and not "0".
pub(crate) fn business_error(operation: &'static str, body: &[u8], status: u16) -> Option<Error> {
    business_error_of(operation, read_head(body)?, status)
}

/// Like [`business_error`], for a body already parsed.
pub(crate) fn business_error_in(
    operation: &'static str,
    body: &serde_json::Value,
    status: u16,
) -> Option<Error> {
    if !body.is_object() {
        return None;
    }
    business_error_of(operation, EnvelopeHead::deserialize(body).ok()?, status)
}

fn business_error_of(operation: &'static str, head: EnvelopeHead, status: u16) -> Option<Error> {
    let code = text(head.code)?;
    (code != SUCCESS_CODE).then(|| Error::Api {
        operation,
        code,
        msg: text(head.msg),
        trace_id: text(head.trace_id),
        status: Some(status),
    })
}

/// An answer that did not decode: the platform's business error if it is
/// one, else a non-2xx status as [`Error::Http`], else [`Error::Decode`].
pub(crate) fn undecodable(
    operation: &'static str,
    status: u16,
    retry_after: Option<u64>,
    body: &[u8],
    decode_error: &serde_json::Error,
) -> Error {
    let head = read_head(body);
    if let Some(head) = head {
        let trace_id = text(head.trace_id.clone());
        if let Some(error) = business_error_of(operation, head, status) {
            return error;
        }
        if (200..300).contains(&status) {
            return Error::Decode {
                operation,
                status: Some(status),
                what: decode_error.to_string(),
                snippet: snippet(body),
                trace_id,
            };
        }
    }
    if (200..300).contains(&status) {
        return Error::Decode {
            operation,
            status: Some(status),
            what: decode_error.to_string(),
            snippet: snippet(body),
            trace_id: None,
        };
    }
    Error::Http {
        operation,
        status,
        snippet: snippet(body),
        retry_after,
    }
}

/// An error the hooks found, as it travels through progenitor's
/// `Error::Custom` to [`From`] (see [`HOOK_ERROR_MARKER`]).
#[derive(serde::Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum HookError {
    Api {
        operation: String,
        code: String,
        msg: Option<String>,
        trace_id: Option<String>,
        status: u16,
    },
    TooLarge {
        operation: String,
        limit: usize,
    },
    Redirect {
        operation: String,
        status: u16,
        reason: String,
        location: String,
    },
    Decode {
        operation: String,
        status: u16,
        what: String,
        snippet: String,
        trace_id: Option<String>,
    },
}

impl HookError {
    /// The marker of an error the hooks found (the kinds it can carry).
    pub(crate) fn of(error: &Error) -> Option<HookError> {
        Some(match error {
            Error::Api {
                operation,
                code,
                msg,
                trace_id,
                status,
            } => HookError::Api {
                operation: operation.to_string(),
                code: code.clone(),
                msg: msg.clone(),
                trace_id: trace_id.clone(),
                status: status.unwrap_or(0),
            },
            Error::Decode {
                operation,
                status,
                what,
                snippet,
                trace_id,
            } => HookError::Decode {
                operation: operation.to_string(),
                status: status.unwrap_or(0),
                what: what.clone(),
                snippet: snippet.clone(),
                trace_id: trace_id.clone(),
            },
            _ => return None,
        })
    }

    /// The message progenitor carries.
    pub(crate) fn to_message(&self) -> String {
        format!(
            "{HOOK_ERROR_MARKER}{}",
            serde_json::to_string(self).unwrap_or_default()
        )
    }

    fn into_error(self) -> Error {
        match self {
            HookError::Api {
                operation,
                code,
                msg,
                trace_id,
                status,
            } => Error::Api {
                operation: static_operation(&operation),
                code,
                msg,
                trace_id,
                status: Some(status),
            },
            HookError::TooLarge { operation, limit } => Error::ResponseTooLarge {
                operation: static_operation(&operation),
                limit,
            },
            HookError::Redirect {
                operation,
                status,
                reason,
                location,
            } => Error::Redirect {
                operation: static_operation(&operation),
                status,
                location,
                reason: RedirectRefusal::from_token(&reason).unwrap_or(RedirectRefusal::Disabled),
            },
            HookError::Decode {
                operation,
                status,
                what,
                snippet,
                trace_id,
            } => Error::Decode {
                operation: static_operation(&operation),
                status: Some(status),
                what,
                snippet,
                trace_id,
            },
        }
    }
}

/// The operationId of the table entry named `name` (operationId or method).
fn static_operation(name: &str) -> &'static str {
    crate::operation::OperationSpec::by_id(name)
        .or_else(|| crate::operation::OperationSpec::by_method(name))
        .map_or(GENERATED_CALL, |op| op.operation_id)
}

/// The operation of a URL, by the path it ends with.
fn operation_of_url(url: Option<&reqwest::Url>) -> &'static str {
    url.and_then(|url| {
        crate::operation::OperationSpec::all()
            .iter()
            .find(|op| url.path().ends_with(op.path))
    })
    .map_or(GENERATED_CALL, |op| op.operation_id)
}

/// How errors of a generated call whose operation cannot be told are named.
const GENERATED_CALL: &str = "(generated call)";

/// Every error of a generated method (`client.generated().…send()`)
/// converts into this crate's [`Error`], so `?` works in a function that
/// returns `Result<_, shiheng::Error>`. An envelope whose `code` is not "0"
/// arrives here as [`Error::Api`] with its code, msg, traceId and HTTP
/// status, whatever the status was.
impl<E: serde::Serialize> From<progenitor_client::Error<E>> for Error {
    fn from(error: progenitor_client::Error<E>) -> Self {
        from_progenitor_sync(None, error)
    }
}

/// Converts what progenitor's hooks or methods returned, naming `operation`.
pub(crate) async fn from_progenitor<E: serde::Serialize>(
    operation: &'static str,
    error: progenitor_client::Error<E>,
) -> Error {
    from_progenitor_sync(Some(operation), error)
}

fn from_progenitor_sync<E: serde::Serialize>(
    operation: Option<&'static str>,
    error: progenitor_client::Error<E>,
) -> Error {
    use progenitor_client::Error as G;
    match error {
        G::Custom(message) => match message.strip_prefix(HOOK_ERROR_MARKER) {
            Some(json) => match serde_json::from_str::<HookError>(json) {
                Ok(hook) => hook.into_error(),
                Err(_) => Error::Signing {
                    operation: operation.unwrap_or(GENERATED_CALL),
                    message,
                },
            },
            None => Error::Signing {
                operation: operation.unwrap_or(GENERATED_CALL),
                message,
            },
        },
        G::InvalidRequest(message) => {
            Error::invalid_argument(operation.unwrap_or(GENERATED_CALL), message)
        }
        G::CommunicationError(source) | G::InvalidUpgrade(source) => {
            let operation = operation.unwrap_or_else(|| operation_of_url(source.url()));
            transport(operation, source)
        }
        G::ResponseBodyError(source) => {
            let operation = operation.unwrap_or_else(|| operation_of_url(source.url()));
            Error::Transport {
                operation,
                kind: if source.is_timeout() {
                    TransportKind::Timeout
                } else {
                    TransportKind::Body
                },
                source,
            }
        }
        G::ErrorResponse(value) => {
            let operation = operation.unwrap_or(GENERATED_CALL);
            let status = value.status().as_u16();
            let body = serde_json::to_value(value.into_inner()).unwrap_or_default();
            business_error_in(operation, &body, status).unwrap_or_else(|| Error::Http {
                operation,
                status,
                snippet: snippet(body.to_string().as_bytes()),
                retry_after: None,
            })
        }
        G::InvalidResponsePayload(body, decode_error) => {
            let operation = operation.unwrap_or(GENERATED_CALL);
            business_error(operation, &body, 200).unwrap_or_else(|| Error::Decode {
                operation,
                status: None,
                what: decode_error.to_string(),
                snippet: snippet(&body),
                trace_id: read_head(&body).and_then(|h| text(h.trace_id)),
            })
        }
        G::UnexpectedResponse(response) => {
            let operation = operation.unwrap_or_else(|| operation_of_url(Some(response.url())));
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            // The hooks keep every body in memory (see `middleware`).
            let body = response
                .extensions()
                .get::<crate::middleware::BufferedBody>()
                .map(|b| b.0.clone())
                .unwrap_or_default();
            business_error(operation, &body, status).unwrap_or_else(|| Error::Http {
                operation,
                status,
                snippet: snippet(&body),
                retry_after,
            })
        }
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
    fn a_redirect_survives_the_hooks_marker_and_reads_as_one_line() {
        for reason in RedirectRefusal::ALL {
            let marker = HookError::Redirect {
                operation: "listWecomEmployees".into(),
                status: 307,
                reason: reason.token().into(),
                location: "http://other.example/a b".into(),
            }
            .to_message();
            let e = Error::from(progenitor_client::Error::<()>::Custom(marker));
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
