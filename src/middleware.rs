//! The generated client's hooks (progenitor's `ClientHooks`, required by
//! `build.rs` with `HooksMode::Expected`): every request the generated code
//! sends is signed here, traced here, retried here, its redirects refused
//! (or, when configured, followed within the origin) here, and its answer
//! read here within the size limit. Calls through [`crate::Client`] and
//! direct calls of the generated methods go through the same code.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use bytes::Bytes;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use secrecy::SecretString;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::config::Config;
use crate::error::{HookError, RedirectRefusal, snippet};
use crate::generated;
use crate::intercept::{Attempt, Interceptor, Outcome};
use crate::operation::OperationSpec;
use crate::retry::{RateLimiter, RetryPolicy, retry_after_wait};
use crate::sign::{Clock, SignInput, Signature, Signer};

/// The state the hooks need: credentials, signer, clock and limits. Cheap to
/// clone; its Debug output never shows the secret.
#[derive(Clone)]
pub struct Middleware {
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
}

/// Marks a response whose body was over the limit, with the limit.
#[derive(Clone, Copy)]
pub(crate) struct BodyTooLarge(pub(crate) usize);

/// The whole body of every answer, kept beside it (a cheap reference-counted
/// copy) so that errors can quote it without reading the response again.
#[derive(Clone)]
pub(crate) struct BufferedBody(pub(crate) Bytes);

impl Middleware {
    /// The hooks' state for `config`.
    pub fn new(config: &Config) -> Self {
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
}

impl Middleware {
    /// `body` signed anew with a fresh timestamp (or as it was, if it could
    /// not be: it was signed once already).
    fn resign(&self, body: &Bytes) -> Bytes {
        match self.sign_body(body) {
            Ok((signed, _)) => signed.into(),
            Err(_) => body.clone(),
        }
    }
}

impl fmt::Debug for Middleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Middleware")
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

impl ClientHooks<Middleware> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let body = request
            .body()
            .and_then(reqwest::Body::as_bytes)
            .unwrap_or(b"{}");
        let (signed, signature) = self
            .inner()
            .sign_body(body)
            .map_err(progenitor_client::Error::Custom)?;
        tracing::trace!(
            operation = info.operation_id,
            string_to_sign = %signature.string_to_sign,
            "signed request"
        );
        *request.body_mut() = Some(signed.into());
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let middleware = self.inner();
        let state = &middleware.state;
        let idempotent = OperationSpec::by_method(info.operation_id)
            .or_else(|| OperationSpec::by_id(info.operation_id))
            .is_some_and(|op| op.idempotent);
        let policy = &state.retry;
        // Each retry and each followed redirect is rebuilt from these parts
        // and signed anew (fresh timestamp); a body that is not in memory
        // cannot be sent twice.
        let resend = (policy.max_attempts > 1 || state.redirect_hops > 0)
            .then(|| Resend::of(&request))
            .flatten();
        let mut backoff = policy.backoff().build();
        let mut waited = Duration::ZERO;
        let mut request = request;
        let mut number = 1;
        loop {
            let failure = match self.attempt(request, info, number, resend.as_ref()).await {
                Ok(response) => return Ok(reqwest::Response::from(response)),
                Err(failure) => failure,
            };
            let Some(resend) = resend.as_ref().filter(|_| failure.retryable(idempotent)) else {
                return failure.into_result();
            };
            let wait = match policy.wait_before_retry(
                number,
                backoff.next(),
                failure.retry_after(),
                waited,
            ) {
                Ok(wait) => wait,
                Err(why) => {
                    tracing::debug!(operation = info.operation_id, reason = %failure, why, "not retrying");
                    return failure.into_result();
                }
            };
            tracing::warn!(
                operation = info.operation_id,
                reason = %failure,
                wait_ms = wait.as_millis() as u64,
                "retrying"
            );
            tokio::time::sleep(wait).await;
            waited += wait;
            number += 1;
            request = resend.build(resend.parts.url.clone(), middleware);
        }
    }

    /// Called by the generated methods after `exec` (the crate's own calls
    /// read the answer themselves): an oversized body, a refused redirect,
    /// an envelope whose `code` is not "0" (whatever the HTTP status) and a
    /// success that will not decode become errors here, with the HTTP
    /// status and the operation, so a generated call never returns a
    /// business error as `Ok` and never loses the status. They travel as
    /// progenitor's `Error::Custom` and convert back with `From` (see
    /// `crate::error`).
    async fn post<E>(
        &self,
        result: &reqwest::Result<reqwest::Response>,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let Ok(response) = result else {
            return Ok(());
        };
        let op = OperationSpec::by_method(info.operation_id);
        let operation = op.map_or(info.operation_id, |op| op.operation_id);
        let found = hook_error(response, operation).or_else(|| {
            let BufferedBody(body) = response.extensions().get::<BufferedBody>()?;
            let status = response.status().as_u16();
            match crate::error::business_error(operation, body, status) {
                Some(error) => HookError::of(&error),
                None if (200..300).contains(&status) => {
                    HookError::of(&op?.typed.check_answer(status, body)?)
                }
                None => None,
            }
        });
        match found {
            Some(error) => Err(progenitor_client::Error::Custom(error.to_message())),
            None => Ok(()),
        }
    }
}

/// The errors the hooks marked on an answer: an oversized body, a redirect
/// that was not followed.
pub(crate) fn hook_error(response: &reqwest::Response, operation: &str) -> Option<HookError> {
    if let Some(BodyTooLarge(limit)) = response.extensions().get::<BodyTooLarge>() {
        return Some(HookError::TooLarge {
            operation: operation.to_string(),
            limit: *limit,
        });
    }
    let refused = response.extensions().get::<RedirectRefused>()?;
    Some(HookError::Redirect {
        operation: operation.to_string(),
        status: response.status().as_u16(),
        reason: refused.reason.token().to_string(),
        location: refused.location.clone(),
    })
}

impl generated::Client {
    /// One attempt: waits for the rate limit, sends, reads the answer within
    /// the size limit, follows the redirects the configuration allows, and
    /// sorts out the answers worth another attempt.
    async fn attempt(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
        number: u32,
        resend: Option<&Resend>,
    ) -> Result<http::Response<Bytes>, Failure> {
        let middleware = self.inner();
        let state = &middleware.state;
        let span = tracing::debug_span!(
            "shiheng.attempt",
            operation = info.operation_id,
            attempt = number,
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
                    operation: OperationSpec::by_method(info.operation_id)
                        .map_or(info.operation_id, |op| op.operation_id),
                    number,
                    url: &url,
                };
                for interceptor in &state.interceptors {
                    interceptor.before_send(&seen, request.headers_mut());
                }
                let started = Instant::now();
                let response = match self.client().execute(request).await {
                    // A user-built HTTP client may follow redirects itself:
                    // its answer came from elsewhere and is not used.
                    Ok(response) if response.url() != &url => {
                        Ok(followed_elsewhere(response, &url))
                    }
                    Ok(response) => read_bounded(response, state.max_response_bytes).await,
                    Err(e) => Err(e),
                };
                let latency = started.elapsed();
                for interceptor in &state.interceptors {
                    let outcome = match &response {
                        Ok(answer) => Outcome::Answered {
                            status: answer.status().as_u16(),
                            bytes: answer.body().len(),
                            latency,
                        },
                        Err(error) => Outcome::Failed { error, latency },
                    };
                    interceptor.after_answer(&seen, &outcome);
                }
                let span = tracing::Span::current();
                span.record("latency_ms", latency.as_millis() as u64);
                let mut response = match response {
                    Ok(response) => response,
                    Err(error) => {
                        tracing::debug!(error = %error, "transport failure");
                        let after_redirect = !visited.is_empty();
                        return Err(Failure::Transport {
                            error,
                            after_redirect,
                        });
                    }
                };
                let status = response.status().as_u16();
                span.record("status", status);
                tracing::debug!("answered");
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after_wait(v, state.clock.now_millis()));
                if let Some(wait) = retry_after {
                    response.extensions_mut().insert(RetryAfter(wait));
                }
                if response.extensions().get::<RedirectRefused>().is_some() {
                    return Err(Failure::Redirect(response));
                }
                if is_redirect(status) {
                    visited.push(url);
                    let location = response.headers().get(reqwest::header::LOCATION);
                    let target = redirect_target(
                        state.redirect_hops,
                        status,
                        location.map(|l| l.as_bytes()),
                        &visited,
                    );
                    match (target, resend) {
                        (Ok(target), Some(resend)) => {
                            span.record("redirects", visited.len());
                            tracing::debug!(location = %target, "following a same-origin redirect");
                            request = resend.build(target, middleware);
                            continue;
                        }
                        (Ok(target), None) => {
                            let refused = RedirectRefused {
                                reason: RedirectRefusal::Unrepeatable,
                                location: shown_url(&target),
                            };
                            response.extensions_mut().insert(refused);
                        }
                        (Err(refused), _) => {
                            response.extensions_mut().insert(refused);
                        }
                    }
                    tracing::debug!("redirect not followed");
                    return Err(Failure::Redirect(response));
                }
                if state.retry.retries_status(status) {
                    return Err(Failure::Status(response, retry_after));
                }
                if !state.retry.retry_codes.is_empty()
                    && let Some(code) = envelope_code(response.body())
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
    /// A redirect not followed, marked with [`RedirectRefused`]: never retried.
    Redirect(http::Response<Bytes>),
}

impl Failure {
    fn retryable(&self, idempotent: bool) -> bool {
        match self {
            // A certificate the client refuses is refused again next time.
            Failure::Transport { error, .. } if is_certificate_error(error) => false,
            // No connection, and no redirect before it: the request provably
            // never reached a server. After a redirect, the first server
            // may have acted on it.
            Failure::Transport {
                error,
                after_redirect: false,
            } if error.is_connect() => true,
            Failure::Redirect(_) => false,
            Failure::Transport { .. } | Failure::Status(..) | Failure::Code(..) => idempotent,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::Status(_, retry_after) => *retry_after,
            _ => None,
        }
    }

    /// The last attempt's outcome, for the generated code to decode.
    fn into_result(self) -> reqwest::Result<reqwest::Response> {
        match self {
            Failure::Transport { error, .. } => Err(error),
            Failure::Status(response, _)
            | Failure::Code(response, _)
            | Failure::Redirect(response) => Ok(reqwest::Response::from(response)),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Transport { error, .. } => write!(f, "transport failure: {error}"),
            Failure::Status(response, _) | Failure::Redirect(response) => {
                write!(f, "HTTP {}", response.status().as_u16())
            }
            Failure::Code(_, code) => write!(f, "platform code {code}"),
        }
    }
}

/// Whether a transport failure is a TLS certificate the client refused (an
/// unknown issuer, a wrong name, an expired certificate): reqwest reports
/// it as a connect error, but it is not transient.
fn is_certificate_error(error: &reqwest::Error) -> bool {
    let refused = |tls: &rustls::Error| {
        matches!(
            tls,
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
        )
    };
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return refused(tls);
        }
        // An io::Error's `source` skips the error it wraps: descend into it.
        source = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    false
}

/// What a retry or a followed redirect reuses of the first request: its
/// parts and its body, to be signed anew.
struct Resend {
    parts: RequestParts,
    body: Bytes,
}

impl Resend {
    /// `None` when the body is not in memory.
    fn of(request: &reqwest::Request) -> Option<Self> {
        let body = request.body()?.as_bytes().map(Bytes::copy_from_slice)?;
        Some(Self {
            parts: RequestParts::of(request),
            body,
        })
    }

    fn build(&self, url: reqwest::Url, middleware: &Middleware) -> reqwest::Request {
        self.parts.build(url, middleware.resign(&self.body))
    }
}

/// The parts of the first request a resend reuses.
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

/// The wait a response's `Retry-After` asked for, as read by the attempt
/// (both forms, dates against the configured clock).
#[derive(Clone, Copy)]
struct RetryAfter(Duration);

/// Marks a redirect the attempt did not follow.
#[derive(Clone)]
pub(crate) struct RedirectRefused {
    reason: RedirectRefusal,
    location: String,
}

/// The `Retry-After` of an answer that came through the hooks, in whole
/// seconds (rounded up), whichever form the server used.
pub(crate) fn retry_after_seconds(response: &reqwest::Response) -> Option<u64> {
    let RetryAfter(wait) = response.extensions().get::<RetryAfter>()?;
    Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
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
) -> Result<reqwest::Url, RedirectRefused> {
    let refuse = |reason, location: &str| {
        Err(RedirectRefused {
            reason,
            location: snippet(location.as_bytes()),
        })
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

/// An answer a user-built HTTP client fetched by following a redirect on
/// its own: marked as a refused redirect, its body dropped.
fn followed_elsewhere(
    response: reqwest::Response,
    requested: &reqwest::Url,
) -> http::Response<Bytes> {
    let refused = RedirectRefused {
        reason: RedirectRefusal::Disabled,
        location: shown_url(response.url()),
    };
    let status = if response.status().is_redirection() {
        response.status()
    } else {
        http::StatusCode::TEMPORARY_REDIRECT
    };
    tracing::warn!(from = %shown_url(requested), to = %refused.location, "the HTTP client followed a redirect; answer refused");
    let mut answer = http::Response::new(Bytes::new());
    *answer.status_mut() = status;
    answer.extensions_mut().insert(refused);
    answer.extensions_mut().insert(BufferedBody(Bytes::new()));
    answer
}

/// The envelope's `code`, read from a body already in memory.
fn envelope_code(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Head {
        code: Option<Value>,
    }
    match serde_json::from_slice::<Head>(body).ok()?.code? {
        Value::String(code) => Some(code),
        other => Some(other.to_string()),
    }
}

/// Reads the whole body, refusing more than `limit` bytes: an oversized
/// answer becomes an empty one marked [`BodyTooLarge`], for the `post` hook.
async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> reqwest::Result<http::Response<Bytes>> {
    let mut builder = http::Response::builder()
        .status(response.status())
        .version(response.version());
    if let Some(headers) = builder.headers_mut() {
        *headers = std::mem::take(response.headers_mut());
    }
    let declared = response.content_length().unwrap_or(0);
    let mut too_large = declared > limit as u64;
    // Most answers arrive in one chunk: keep it as it is, copy only to join.
    let mut first: Option<Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    let mut len = 0usize;
    while !too_large && let Some(chunk) = response.chunk().await? {
        len += chunk.len();
        too_large = len > limit;
        if too_large {
            break;
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
    let body = match (too_large, first) {
        (true, _) => {
            builder = builder.extension(BodyTooLarge(limit));
            Bytes::new()
        }
        (false, Some(only)) => only,
        (false, None) => Bytes::from(joined),
    };
    builder = builder.extension(BufferedBody(body.clone()));
    tracing::Span::current().record("bytes", body.len());
    Ok(builder
        .body(body)
        .expect("status, version and headers came from a valid response"))
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
            .map_err(|r| r.reason)
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
        assert_eq!(refused.location, "http://evil.example/x");
        let junk = redirect_target(0, 302, Some(b"\x1b[2J\xff"), &visited).unwrap_err();
        assert!(!junk.location.contains('\x1b'), "{:?}", junk.location);
    }
}
