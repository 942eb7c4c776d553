//! The one transport: every request the generated client sends is signed,
//! sent, retried (re-signed with a fresh timestamp), rate-limited, traced,
//! shown to the interceptors, its redirects refused (or followed within the
//! origin) and its answer read within the size limit here. The generated
//! client's `exec` hook (emitted by `build.rs`) delegates to
//! [`Transport::execute`]; the hand-written layer reaches it only through
//! the generated methods and, for [`crate::Client::call_raw`], directly.
//!
//! Failures found in an answer (a body over the limit, a redirect not
//! followed, a body that could not be signed) are values of
//! [`Refusal`]: the answer handed back carries it as its body's error, so
//! whoever reads the body, the crate's classifier or a direct caller of a
//! generated method, meets it as a typed error in reqwest's source chain.
//!
//! Per-call settings ([`CallOptions`]) and the operation being served reach
//! the transport as a task-local context set by the call layer.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use bytes::Bytes;
use secrecy::SecretString;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::config::Config;
use crate::error::{EnvelopeHead, Error, RedirectRefusal, is_transient, snippet};
use crate::intercept::{Attempt, Interceptor, Outcome};
use crate::retry::{RateLimiter, RetryPolicy, retry_after};
use crate::sign::{Clock, SignInput, Signature, Signer};

/// How the transport learns, for a call that did not come through the
/// crate's request builders, the spec's operationId of a generated method
/// and whether the operation is idempotent.
pub type OperationLookup = fn(&str) -> Option<(&'static str, bool)>;

/// Settings for one call alone, set on any request builder: a timeout per
/// attempt, headers sent with every attempt, a retry policy in place of the
/// client's.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct CallOptions {
    /// The timeout of each attempt (the client's `Config::with_timeout` otherwise).
    pub timeout: Option<Duration>,
    /// Headers added to every attempt, retries and followed redirects included.
    pub headers: reqwest::header::HeaderMap,
    /// The retry policy of this call (the client's otherwise).
    pub retry: Option<RetryPolicy>,
}

impl CallOptions {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.timeout.is_none() && self.headers.is_empty() && self.retry.is_none()
    }
}

/// What the call layer tells the transport about the call it serves.
#[derive(Debug, Clone)]
pub(crate) struct CallContext {
    pub(crate) operation: &'static str,
    pub(crate) idempotent: bool,
    pub(crate) options: Option<Arc<CallOptions>>,
}

tokio::task_local! {
    static CALL: CallContext;
}

/// Runs `future` (a generated method's call) with `context` visible to the
/// transport.
pub(crate) async fn within<F: Future>(context: CallContext, future: F) -> F::Output {
    CALL.scope(context, future).await
}

/// A failure the transport found in an answer or before sending, carried
/// as the error of the answer's body.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Refusal {
    /// The body was over the size limit (bytes).
    TooLarge(usize),
    /// A redirect that was not followed: its status, where it pointed, why.
    Redirect(u16, String, RedirectRefusal),
    /// The request body could not be signed.
    Unsigned(String),
}

impl Refusal {
    /// The crate's error for this refusal in `operation`.
    pub fn into_error(self, operation: &'static str) -> Error {
        match self {
            Refusal::TooLarge(limit) => Error::ResponseTooLarge { operation, limit },
            Refusal::Redirect(status, location, reason) => Error::Redirect {
                operation,
                status,
                location,
                reason,
            },
            Refusal::Unsigned(message) => Error::Signing { operation, message },
        }
    }

    /// The refusal in `error`'s source chain, if reading a body met one.
    pub fn in_chain(error: &(dyn std::error::Error + 'static)) -> Option<Refusal> {
        let mut source = Some(error);
        while let Some(e) = source {
            if let Some(refusal) = e.downcast_ref::<Refusal>() {
                return Some(refusal.clone());
            }
            source = e.source();
        }
        None
    }

    /// An answer with `status` whose body is this refusal.
    fn answer(self, status: http::StatusCode) -> reqwest::Response {
        let body = reqwest::Body::wrap_stream(futures::stream::once(async move {
            Err::<Bytes, Refusal>(self)
        }));
        let mut answer = http::Response::new(body);
        *answer.status_mut() = status;
        reqwest::Response::from(answer)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::TooLarge(limit) => {
                write!(f, "response body larger than the {limit}-byte limit")
            }
            Refusal::Redirect(status, location, reason) => {
                write!(
                    f,
                    "HTTP {status} redirect to {location} not followed: {reason}"
                )
            }
            Refusal::Unsigned(message) => write!(f, "could not sign the request: {message}"),
        }
    }
}

impl std::error::Error for Refusal {}

/// Credentials, signer, clock and limits: the state every request needs.
/// Cheap to clone; its Debug output never shows the secret.
#[derive(Clone)]
pub struct Transport {
    state: Arc<State>,
}

struct State {
    app_id: String,
    app_secret: SecretString,
    api_version: String,
    signer: Arc<dyn Signer>,
    clock: Arc<dyn Clock>,
    max_response_bytes: usize,
    retry: RetryPolicy,
    rate_limiter: Option<RateLimiter>,
    redirect_hops: u32,
    interceptors: Vec<Arc<dyn Interceptor>>,
    lookup: OperationLookup,
}

impl Transport {
    /// The transport of `config`; `lookup` names the generated methods.
    pub fn new(config: &Config, lookup: OperationLookup) -> Self {
        Self {
            state: Arc::new(State {
                app_id: config.app_id.clone(),
                app_secret: config.app_secret.clone(),
                api_version: config.api_version.clone(),
                signer: config.signer.clone(),
                clock: config.clock.clone(),
                max_response_bytes: config.max_response_bytes,
                retry: config.retry.clone(),
                rate_limiter: config.rate_limit.and_then(RateLimiter::new),
                redirect_hops: config.same_origin_redirects,
                interceptors: config.interceptors.clone(),
                lookup,
            }),
        }
    }

    /// Fills the envelope's `appId`, `version`, `timestamp` and `sign` in a
    /// JSON request body, whatever the caller put there.
    #[doc(hidden)]
    pub fn sign_body(&self, body: &[u8]) -> Result<(Vec<u8>, Signature), String> {
        let mut envelope: Map<String, Value> = serde_json::from_slice(body)
            .map_err(|e| format!("the request body is not a JSON object: {e}"))?;
        if envelope.get("paramContent") == Some(&Value::Null) {
            envelope.remove("paramContent");
        }
        let state = &self.state;
        let timestamp = state.clock.now_millis();
        let signature = state.signer.sign(
            &SignInput {
                app_id: &state.app_id,
                timestamp,
                version: &state.api_version,
                param_content: envelope.get("paramContent"),
            },
            &state.app_secret,
        );
        envelope.insert("appId".into(), Value::String(state.app_id.clone()));
        envelope.insert("version".into(), Value::String(state.api_version.clone()));
        envelope.insert("timestamp".into(), Value::from(timestamp));
        envelope.insert("sign".into(), Value::String(signature.sign.clone()));
        let body = serde_json::to_vec(&envelope).map_err(|e| e.to_string())?;
        Ok((body, signature))
    }

    /// Sends `request` (an unsigned envelope) for the generated method
    /// `method`: signs it, applies the call's settings, retries what the
    /// policy allows, and returns the last answer with its body in memory,
    /// or the last transport failure. See the module header for refusals.
    pub async fn execute(
        &self,
        http: &reqwest::Client,
        mut request: reqwest::Request,
        method: &'static str,
    ) -> reqwest::Result<reqwest::Response> {
        let state = &self.state;
        let context = CALL.try_with(CallContext::clone).ok();
        let (operation, idempotent) = match &context {
            Some(call) => (call.operation, call.idempotent),
            None => (state.lookup)(method).unwrap_or((method, false)),
        };
        let options = context.and_then(|call| call.options);
        let policy = options
            .as_ref()
            .and_then(|o| o.retry.as_ref())
            .unwrap_or(&state.retry);
        if let Some(options) = &options {
            for (name, value) in &options.headers {
                request.headers_mut().insert(name, value.clone());
            }
            if let Some(timeout) = options.timeout {
                *request.timeout_mut() = Some(timeout);
            }
        }
        let body = request
            .body()
            .and_then(reqwest::Body::as_bytes)
            .map(Bytes::copy_from_slice)
            .unwrap_or_else(|| Bytes::from_static(b"{}"));
        let parts = RequestParts::of(&request);
        let mut request = match self.signed(&parts, parts.url.clone(), &body, operation) {
            Ok(request) => request,
            Err(refusal) => return Ok(refusal.answer(http::StatusCode::BAD_REQUEST)),
        };
        let mut backoff = policy.backoff().build();
        let mut waited = Duration::ZERO;
        let mut number = 1;
        loop {
            let attempt = Try {
                http,
                operation,
                number,
                parts: &parts,
                body: &body,
            };
            let failure = match self.attempt(request, &attempt).await {
                Ok(response) => return Ok(reqwest::Response::from(response)),
                Err(failure) => failure,
            };
            if !failure.retryable(idempotent) {
                return failure.into_result();
            }
            let wait = match policy.wait_before_retry(
                number,
                backoff.next(),
                failure.retry_after(),
                waited,
            ) {
                Ok(wait) => wait,
                Err(why) => {
                    tracing::debug!(operation, reason = %failure, why, "not retrying");
                    return failure.into_result();
                }
            };
            tracing::warn!(operation, reason = %failure, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
            waited += wait;
            number += 1;
            request = match self.signed(&parts, parts.url.clone(), &body, operation) {
                Ok(request) => request,
                Err(refusal) => return Ok(refusal.answer(http::StatusCode::BAD_REQUEST)),
            };
        }
    }

    /// The request rebuilt from `parts` for `url`, `body` signed anew.
    fn signed(
        &self,
        parts: &RequestParts,
        url: reqwest::Url,
        body: &[u8],
        operation: &'static str,
    ) -> Result<reqwest::Request, Refusal> {
        let (signed, signature) = self.sign_body(body).map_err(Refusal::Unsigned)?;
        tracing::trace!(operation, string_to_sign = %signature.string_to_sign, "signed request");
        Ok(parts.build(url, Bytes::from(signed)))
    }

    /// One attempt: waits for the rate limit, sends, reads the answer within
    /// the size limit, follows the redirects the configuration allows, and
    /// sorts out the answers worth another attempt.
    async fn attempt(
        &self,
        request: reqwest::Request,
        attempt: &Try<'_>,
    ) -> Result<http::Response<Bytes>, Failure> {
        let state = &self.state;
        let span = tracing::debug_span!(
            "shiheng.attempt",
            operation = attempt.operation,
            attempt = attempt.number,
            status = tracing::field::Empty,
            bytes = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
            redirects = tracing::field::Empty,
        );
        async move {
            let mut request = request;
            // The URLs this attempt has been answered from, in order.
            let mut visited: Vec<reqwest::Url> = Vec::new();
            loop {
                if let Some(limiter) = &state.rate_limiter {
                    limiter.acquire().await;
                }
                let url = request.url().clone();
                let seen = Attempt {
                    operation: attempt.operation,
                    number: attempt.number,
                    url: &url,
                };
                for interceptor in &state.interceptors {
                    interceptor.before_send(&seen, request.headers_mut());
                }
                let started = Instant::now();
                let response = match attempt.http.execute(request).await {
                    // A user-built HTTP client may follow redirects itself:
                    // its answer came from elsewhere and is not used.
                    Ok(response) if response.url() != &url => {
                        Ok(Err(followed_elsewhere(&response, &url)))
                    }
                    Ok(response) => read_bounded(response, state.max_response_bytes).await,
                    Err(e) => Err(e),
                };
                let latency = started.elapsed();
                for interceptor in &state.interceptors {
                    let outcome = match &response {
                        Ok(Ok(answer)) => Outcome::Answered {
                            status: answer.status().as_u16(),
                            bytes: answer.body().len(),
                            latency,
                        },
                        Ok(Err((status, _))) => Outcome::Answered {
                            status: status.as_u16(),
                            bytes: 0,
                            latency,
                        },
                        Err(error) => Outcome::Failed { error, latency },
                    };
                    interceptor.after_answer(&seen, &outcome);
                }
                let span = tracing::Span::current();
                span.record("latency_ms", latency.as_millis() as u64);
                let response = match response {
                    Ok(Ok(response)) => response,
                    Ok(Err((status, refusal))) => return Err(Failure::Refused(status, refusal)),
                    Err(error) => {
                        tracing::debug!(error = %error, "transport failure");
                        let after_redirect = !visited.is_empty();
                        return Err(Failure::Transport {
                            error,
                            after_redirect,
                        });
                    }
                };
                let status = response.status();
                span.record("status", status.as_u16());
                tracing::debug!("answered");
                if is_redirect(status.as_u16()) {
                    visited.push(url);
                    let location = response.headers().get(reqwest::header::LOCATION);
                    match redirect_target(
                        state.redirect_hops,
                        status.as_u16(),
                        location.map(|l| l.as_bytes()),
                        &visited,
                    ) {
                        Ok(target) => {
                            span.record("redirects", visited.len());
                            tracing::debug!(location = %target, "following a same-origin redirect");
                            request = match self.signed(
                                attempt.parts,
                                target,
                                attempt.body,
                                attempt.operation,
                            ) {
                                Ok(request) => request,
                                Err(refusal) => return Err(Failure::Refused(status, refusal)),
                            };
                            continue;
                        }
                        Err(refusal) => {
                            tracing::debug!("redirect not followed");
                            return Err(Failure::Refused(status, refusal));
                        }
                    }
                }
                let retry_after = retry_after(response.headers(), state.clock.now_millis());
                if state.retry.retries_status(status.as_u16()) {
                    return Err(Failure::Status(response, retry_after));
                }
                if !state.retry.retry_codes.is_empty()
                    && let Some(code) =
                        EnvelopeHead::read(response.body()).and_then(|head| head.code())
                    && state.retry.retries_code(&code)
                {
                    return Err(Failure::Code(response, code));
                }
                return Ok(response);
            }
        }
        .instrument(span)
        .await
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("app_id", &self.state.app_id)
            .field("app_secret", &"[REDACTED]")
            .field("api_version", &self.state.api_version)
            .field("signer", &self.state.signer)
            .field("max_response_bytes", &self.state.max_response_bytes)
            .field("retry", &self.state.retry)
            .field("rate_limiter", &self.state.rate_limiter)
            .field("redirect_hops", &self.state.redirect_hops)
            .field("interceptors", &self.state.interceptors)
            .finish()
    }
}

/// What every attempt of one call shares.
struct Try<'a> {
    http: &'a reqwest::Client,
    operation: &'static str,
    number: u32,
    parts: &'a RequestParts,
    body: &'a Bytes,
}

/// Why an attempt did not produce the final answer.
enum Failure {
    /// reqwest could not send the request or read its answer; after a
    /// followed redirect, a server was reached before.
    Transport {
        error: reqwest::Error,
        after_redirect: bool,
    },
    /// A retryable HTTP status, with the server's `Retry-After`.
    Status(http::Response<Bytes>, Option<Duration>),
    /// A retryable business code.
    Code(http::Response<Bytes>, String),
    /// An answer refused (a redirect not followed, a body over the limit):
    /// never retried.
    Refused(http::StatusCode, Refusal),
}

impl Failure {
    fn retryable(&self, idempotent: bool) -> bool {
        match self {
            Failure::Transport { error, .. } if !is_transient(error) => false,
            // No connection, and no redirect before it: the request provably
            // never reached a server. After a redirect, the first server
            // may have acted on it.
            Failure::Transport {
                error,
                after_redirect: false,
            } if error.is_connect() => true,
            Failure::Refused(..) => false,
            Failure::Transport { .. } | Failure::Status(..) | Failure::Code(..) => idempotent,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::Status(_, retry_after) => *retry_after,
            _ => None,
        }
    }

    /// The last attempt's outcome, for the generated code to hand back.
    fn into_result(self) -> reqwest::Result<reqwest::Response> {
        match self {
            Failure::Transport { error, .. } => Err(error),
            Failure::Status(response, _) | Failure::Code(response, _) => {
                Ok(reqwest::Response::from(response))
            }
            Failure::Refused(status, refusal) => Ok(refusal.answer(status)),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Transport { error, .. } => write!(f, "transport failure: {error}"),
            Failure::Status(response, _) => write!(f, "HTTP {}", response.status().as_u16()),
            Failure::Code(_, code) => write!(f, "platform code {code}"),
            Failure::Refused(_, refusal) => refusal.fmt(f),
        }
    }
}

/// The parts of the first request every attempt reuses.
struct RequestParts {
    method: reqwest::Method,
    url: reqwest::Url,
    headers: reqwest::header::HeaderMap,
    timeout: Option<Duration>,
    version: reqwest::Version,
}

impl RequestParts {
    fn of(request: &reqwest::Request) -> Self {
        Self {
            method: request.method().clone(),
            url: request.url().clone(),
            headers: request.headers().clone(),
            timeout: request.timeout().copied(),
            version: request.version(),
        }
    }

    fn build(&self, url: reqwest::Url, body: Bytes) -> reqwest::Request {
        let mut request = reqwest::Request::new(self.method.clone(), url);
        *request.headers_mut() = self.headers.clone();
        *request.timeout_mut() = self.timeout;
        *request.version_mut() = self.version;
        *request.body_mut() = Some(body.into());
        request
    }
}

/// The statuses that redirect (RFC 9110 §15.4); 300, 304 and the unused
/// 305/306 are answers like any other.
fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Where a redirect answered from the last of `visited` may be followed,
/// or why not. Only 307 and 308 keep the method and body; only the same
/// origin (scheme, host, port) is trusted with a signed envelope.
fn redirect_target(
    max_hops: u32,
    status: u16,
    location: Option<&[u8]>,
    visited: &[reqwest::Url],
) -> Result<reqwest::Url, Refusal> {
    let refuse = |reason, location: &str| {
        Err(Refusal::Redirect(
            status,
            snippet(location.as_bytes()),
            reason,
        ))
    };
    let (Some(from), Some(raw)) = (visited.last(), location) else {
        return refuse(RedirectRefusal::BadLocation, "(no Location)");
    };
    let Some(mut target) = std::str::from_utf8(raw)
        .ok()
        .and_then(|text| from.join(text.trim()).ok())
    else {
        return refuse(RedirectRefusal::BadLocation, &String::from_utf8_lossy(raw));
    };
    target.set_fragment(None);
    let shown = shown_url(&target);
    if max_hops == 0 {
        return refuse(RedirectRefusal::Disabled, &shown);
    }
    let has_credentials = !target.username().is_empty() || target.password().is_some();
    if !matches!(target.scheme(), "http" | "https") || has_credentials {
        return refuse(RedirectRefusal::BadLocation, &shown);
    }
    let same_origin = target.scheme() == from.scheme()
        && target.host_str() == from.host_str()
        && target.port_or_known_default() == from.port_or_known_default();
    if !same_origin {
        return refuse(RedirectRefusal::CrossOrigin, &shown);
    }
    if !matches!(status, 307 | 308) {
        return refuse(RedirectRefusal::MethodChange, &shown);
    }
    if visited.contains(&target) {
        return refuse(RedirectRefusal::Loop, &shown);
    }
    if visited.len() > max_hops as usize {
        return refuse(RedirectRefusal::TooMany, &shown);
    }
    Ok(target)
}

/// A URL as an error may show it: without user name or password.
fn shown_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// The refusal of an answer a user-built HTTP client fetched by following a
/// redirect on its own.
fn followed_elsewhere(
    response: &reqwest::Response,
    requested: &reqwest::Url,
) -> (http::StatusCode, Refusal) {
    let location = shown_url(response.url());
    let status = if response.status().is_redirection() {
        response.status()
    } else {
        http::StatusCode::TEMPORARY_REDIRECT
    };
    tracing::warn!(from = %shown_url(requested), to = %location, "the HTTP client followed a redirect; answer refused");
    (
        status,
        Refusal::Redirect(status.as_u16(), location, RedirectRefusal::Disabled),
    )
}

/// An answer read whole, or refused with its status.
type Read = Result<http::Response<Bytes>, (http::StatusCode, Refusal)>;

/// Reads the whole body, refusing more than `limit` bytes.
async fn read_bounded(mut response: reqwest::Response, limit: usize) -> reqwest::Result<Read> {
    let status = response.status();
    let mut builder = http::Response::builder()
        .status(status)
        .version(response.version());
    if let Some(headers) = builder.headers_mut() {
        *headers = std::mem::take(response.headers_mut());
    }
    let declared = response.content_length().unwrap_or(0);
    let too_large = Err((status, Refusal::TooLarge(limit)));
    if declared > limit as u64 {
        return Ok(too_large);
    }
    // Most answers arrive in one chunk: keep it as it is, copy only to join.
    let mut first: Option<Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    let mut len = 0usize;
    while let Some(chunk) = response.chunk().await? {
        len += chunk.len();
        if len > limit {
            return Ok(too_large);
        }
        match first.take() {
            None if joined.is_empty() => first = Some(chunk),
            None => joined.extend_from_slice(&chunk),
            Some(head) => {
                joined.reserve(declared.min(limit as u64) as usize);
                joined.extend_from_slice(&head);
                joined.extend_from_slice(&chunk);
            }
        }
    }
    let body = first.unwrap_or_else(|| Bytes::from(joined));
    tracing::Span::current().record("bytes", body.len());
    Ok(Ok(builder.body(body).expect(
        "status, version and headers came from a valid response",
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> reqwest::Url {
        reqwest::Url::parse(text).unwrap()
    }

    fn target(hops: u32, status: u16, location: Option<&str>) -> Result<String, RedirectRefusal> {
        let visited = [url("http://gw.example:8080/wecom/employee/page")];
        redirect_target(hops, status, location.map(str::as_bytes), &visited)
            .map(|u| u.to_string())
            .map_err(|r| match r {
                Refusal::Redirect(_, _, reason) => reason,
                other => panic!("{other}"),
            })
    }

    #[test]
    fn only_same_origin_307_and_308_with_a_usable_location_are_followed() {
        use RedirectRefusal::*;
        let moved = Some("/gw/wecom/employee/page");
        assert_eq!(
            target(3, 307, moved),
            Ok("http://gw.example:8080/gw/wecom/employee/page".into())
        );
        assert!(target(3, 308, Some("http://gw.example:8080/x#frag")).is_ok());
        assert_eq!(target(0, 307, moved), Err(Disabled));
        for status in [301, 302, 303] {
            assert_eq!(target(3, status, moved), Err(MethodChange));
        }
        for other in [
            "https://gw.example:8080/x",
            "http://gw.example/x",
            "http://gw.example:8081/x",
            "http://other.example:8080/x",
            "//other.example:8080/x",
        ] {
            assert_eq!(target(3, 307, Some(other)), Err(CrossOrigin), "{other}");
        }
        for bad in [
            None,
            Some("http://user:pw@gw.example:8080/x"),
            Some("ftp://gw.example:8080/x"),
            Some("http://[::1"),
        ] {
            assert_eq!(target(3, 307, bad), Err(BadLocation), "{bad:?}");
        }
    }

    #[test]
    fn the_default_port_is_the_same_origin_as_no_port() {
        let visited = [url("https://gw.example/a")];
        let followed = redirect_target(1, 308, Some(b"https://gw.example:443/b"), &visited);
        assert!(followed.is_ok());
    }

    #[test]
    fn a_location_with_credentials_is_shown_without_them() {
        let visited = [url("http://gw.example/a")];
        let refused = redirect_target(
            0,
            302,
            Some(b"http://user:hunter2@evil.example/x"),
            &visited,
        )
        .unwrap_err();
        let Refusal::Redirect(_, location, _) = refused else {
            panic!("not a redirect")
        };
        assert_eq!(location, "http://evil.example/x");
        let junk = redirect_target(0, 302, Some(b"\x1b[2J\xff"), &visited).unwrap_err();
        assert!(!junk.to_string().contains('\x1b'), "{junk}");
    }
}
