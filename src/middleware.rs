//! The generated client's hooks (progenitor's `ClientHooks`, required by
//! `build.rs` with `HooksMode::Expected`): every request the generated code
//! sends is signed here, traced here, and its answer read here within the
//! size limit. Calls through [`crate::Client`] and direct calls of the
//! generated methods go through the same code.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::Retryable;
use bytes::Bytes;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use secrecy::SecretString;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::config::Config;
use crate::error::HookError;
use crate::generated;
use crate::operation::OperationSpec;
use crate::retry::{RateLimiter, RetryPolicy};
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
        let idempotent = OperationSpec::by_method(info.operation_id)
            .or_else(|| OperationSpec::by_id(info.operation_id))
            .is_some_and(|op| op.idempotent);
        let policy = &middleware.state.retry;
        // Each retry is rebuilt from these parts and signed anew (fresh
        // timestamp); a body that is not in memory cannot be sent twice.
        let body = request
            .body()
            .and_then(reqwest::Body::as_bytes)
            .map(Bytes::copy_from_slice);
        let Some(body) = body.filter(|_| policy.max_attempts > 1) else {
            return self
                .attempt(request, info, 1)
                .await
                .map_or_else(Failure::into_result, Ok);
        };
        let template = RequestParts::of(&request);
        let first = std::sync::Mutex::new(Some(request));
        let attempts = std::sync::atomic::AtomicU32::new(0);
        let result = (|| async {
            let number = attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let first = first.lock().ok().and_then(|mut r| r.take());
            let request = first.unwrap_or_else(|| template.build(middleware.resign(&body)));
            self.attempt(request, info, number).await
        })
        .retry(policy.backoff())
        .when(|failure| failure.retryable(idempotent))
        .adjust(|failure, backoff| match (failure.retry_after(), backoff) {
            (Some(asked), _) if asked > policy.max_retry_after => None,
            (Some(asked), Some(backoff)) => Some(asked.max(backoff)),
            (_, backoff) => backoff,
        })
        .notify(|failure, wait| {
            tracing::warn!(
                operation = info.operation_id,
                reason = %failure,
                wait_ms = wait.as_millis() as u64,
                "retrying"
            );
        })
        .await;
        result.map_or_else(Failure::into_result, Ok)
    }

    /// Called by the generated methods (and `Client::call_raw`) after
    /// `exec`: turns an oversized body, and an envelope whose `code` is not
    /// "0" (whatever the HTTP status), into errors, so a generated call never
    /// returns a business error as `Ok`. They travel as progenitor's
    /// `Error::Custom` and convert back with `From` (see `crate::error`).
    async fn post<E>(
        &self,
        result: &reqwest::Result<reqwest::Response>,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let Ok(response) = result else {
            return Ok(());
        };
        let operation = OperationSpec::by_method(info.operation_id)
            .map_or(info.operation_id, |op| op.operation_id)
            .to_string();
        if let Some(BodyTooLarge(limit)) = response.extensions().get::<BodyTooLarge>() {
            let error = HookError::TooLarge {
                operation,
                limit: *limit,
            };
            return Err(progenitor_client::Error::Custom(error.to_message()));
        }
        let status = response.status().as_u16();
        if let Some(BufferedBody(body)) = response.extensions().get::<BufferedBody>()
            && let Some(crate::Error::Api {
                code,
                msg,
                trace_id,
                ..
            }) = crate::error::business_error("", body, status)
        {
            let error = HookError::Api {
                operation,
                code,
                msg,
                trace_id,
                status,
            };
            return Err(progenitor_client::Error::Custom(error.to_message()));
        }
        Ok(())
    }
}

impl generated::Client {
    /// One attempt: waits for the rate limit, sends, reads the answer within
    /// the size limit, and sorts out the answers worth another attempt.
    async fn attempt(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
        number: u32,
    ) -> Result<reqwest::Response, Failure> {
        let state = &self.inner().state;
        let span = tracing::debug_span!(
            "shiheng.attempt",
            operation = info.operation_id,
            attempt = number,
            status = tracing::field::Empty,
            bytes = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        async move {
            if let Some(limiter) = &state.rate_limiter {
                limiter.acquire().await;
            }
            let started = Instant::now();
            let response = match self.client().execute(request).await {
                Ok(response) => read_bounded(response, state.max_response_bytes).await,
                Err(e) => Err(e),
            };
            let span = tracing::Span::current();
            span.record("latency_ms", started.elapsed().as_millis() as u64);
            let response = match response {
                Ok(response) => response,
                Err(e) => {
                    tracing::debug!(error = %e, "transport failure");
                    return Err(Failure::Transport(e));
                }
            };
            let status = response.status().as_u16();
            span.record("status", status);
            tracing::debug!("answered");
            if state.retry.retries_status(status) {
                let retry_after = retry_after(&response);
                return Err(Failure::Status(response, retry_after));
            }
            if !state.retry.retry_codes.is_empty()
                && let Some(code) = envelope_code(response.body())
                && state.retry.retries_code(&code)
            {
                return Err(Failure::Code(response, code));
            }
            Ok(reqwest::Response::from(response))
        }
        .instrument(span)
        .await
    }
}

/// Why an attempt did not produce the final answer.
enum Failure {
    /// reqwest could not send the request or read its answer.
    Transport(reqwest::Error),
    /// A retryable HTTP status, with the server's `Retry-After`.
    Status(http::Response<Bytes>, Option<Duration>),
    /// A retryable business code.
    Code(http::Response<Bytes>, String),
}

impl Failure {
    fn retryable(&self, idempotent: bool) -> bool {
        match self {
            // No connection: the request provably never reached the server.
            Failure::Transport(e) if e.is_connect() => true,
            Failure::Transport(_) | Failure::Status(..) | Failure::Code(..) => idempotent,
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
            Failure::Transport(e) => Err(e),
            Failure::Status(response, _) | Failure::Code(response, _) => {
                Ok(reqwest::Response::from(response))
            }
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Transport(e) => write!(f, "transport failure: {e}"),
            Failure::Status(response, _) => write!(f, "HTTP {}", response.status().as_u16()),
            Failure::Code(_, code) => write!(f, "platform code {code}"),
        }
    }
}

/// What a retry reuses of the first request.
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

    fn build(&self, body: Bytes) -> reqwest::Request {
        let mut request = reqwest::Request::new(self.method.clone(), self.url.clone());
        *request.headers_mut() = self.headers.clone();
        *request.timeout_mut() = self.timeout;
        *request.version_mut() = self.version;
        *request.body_mut() = Some(body.into());
        request
    }
}

fn retry_after(response: &http::Response<Bytes>) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
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
