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

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use bytes::Bytes;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::config::Config;
use crate::error::{EnvelopeHead, Error, RedirectRefusal, is_transient, snippet, sources};
use crate::intercept::{Attempt, Interceptor, Outcome};
use crate::retry::{RateLimiter, RetryPolicy, retry_after};
use crate::sign::{SignInput, Signature};

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

/// What the call layer tells the transport about the call it serves.
#[derive(Debug, Clone)]
pub(crate) struct CallContext {
    pub(crate) operation: &'static str,
    pub(crate) idempotent: bool,
    pub(crate) options: Option<Arc<CallOptions>>,
}

tokio::task_local! {
    /// The call a generated method's future serves, set around it by the
    /// call layer (`CALL.scope(context, future)`).
    pub(crate) static CALL: CallContext;
}

/// A failure the transport found in an answer or before sending, carried
/// as the error of the answer's body.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The body was over the size limit (bytes).
    #[error("response body larger than the {0}-byte limit")]
    TooLarge(usize),
    /// A redirect that was not followed: its status, where it pointed, why.
    #[error("HTTP {0} redirect to {1} not followed: {2}")]
    Redirect(u16, String, RedirectRefusal),
    /// The request body could not be signed.
    #[error("could not sign the request: {0}")]
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
        sources(error)
            .find_map(|e| e.downcast_ref::<Refusal>())
            .cloned()
    }
}

/// Credentials, signer, clock and limits: the client's configuration, which
/// every request needs. Cheap to clone; its Debug output never shows the
/// secret (the configuration's does not).
#[derive(Clone, Debug)]
pub struct Transport {
    config: Arc<Config>,
    rate_limiter: Option<Arc<RateLimiter>>,
    lookup: OperationLookup,
}

impl Transport {
    /// The transport of `config`; `lookup` names the generated methods.
    pub fn new(config: &Config, lookup: OperationLookup) -> Self {
        Self {
            config: Arc::new(config.clone()),
            rate_limiter: config.rate_limit.and_then(RateLimiter::new).map(Arc::new),
            lookup,
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
        let config = &self.config;
        let timestamp = config.clock.now_millis();
        let input = SignInput {
            app_id: &config.app_id,
            timestamp,
            version: &config.api_version,
            param_content: envelope.get("paramContent"),
        };
        let signature = config
            .signer
            .sign(&input, &config.app_secret)
            .map_err(|e| e.to_string())?;
        envelope.insert("appId".into(), Value::String(config.app_id.clone()));
        envelope.insert("version".into(), Value::String(config.api_version.clone()));
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
        let context = CALL.try_with(CallContext::clone).ok();
        let (operation, idempotent) = match &context {
            Some(call) => (call.operation, call.idempotent),
            None => (self.lookup)(method).unwrap_or((method, false)),
        };
        let options = context.and_then(|call| call.options);
        if let Some(options) = &options {
            // A header of the call's replaces the generated method's.
            request.headers_mut().extend(options.headers.clone());
            if let Some(timeout) = options.timeout {
                *request.timeout_mut() = Some(timeout);
            }
        }
        // Every attempt and hop is built from this request, without its
        // body: the body is signed anew each time.
        let body = request
            .body_mut()
            .take()
            .as_ref()
            .and_then(reqwest::Body::as_bytes)
            .map(Bytes::copy_from_slice)
            .unwrap_or_else(|| Bytes::from_static(b"{}"));
        let policy = options.as_ref().and_then(|o| o.retry.as_ref());
        let call = Call {
            http,
            operation,
            policy: policy.unwrap_or(&self.config.retry),
            template: request,
            body,
        };
        let mut backoff = call.policy.backoff().build();
        let mut waited = Duration::ZERO;
        let mut number = 0;
        loop {
            number += 1;
            let failure = match self.attempt(&call, number).await {
                Ok(response) => return Ok(reqwest::Response::from(response)),
                Err(failure) if !failure.retryable(idempotent) => return failure.into_result(),
                Err(failure) => failure,
            };
            let retry_after = match &failure {
                Failure::Answer { retry_after, .. } => *retry_after,
                _ => None,
            };
            match call
                .policy
                .wait_before_retry(number, backoff.next(), retry_after, waited)
            {
                Ok(wait) => {
                    tracing::warn!(operation, reason = %failure, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                    waited += wait;
                }
                Err(why) => {
                    tracing::debug!(operation, reason = %failure, why, "not retrying");
                    return failure.into_result();
                }
            }
        }
    }

    /// One attempt: signs, waits for the rate limit, sends, reads the answer within
    /// the size limit, follows the redirects the configuration allows, and
    /// sorts out the answers worth another attempt.
    async fn attempt(&self, call: &Call<'_>, number: u32) -> Result<Read, Failure> {
        let config = &self.config;
        let span = tracing::debug_span!(
            "shiheng.attempt",
            operation = call.operation,
            attempt = number,
            status = tracing::field::Empty,
            bytes = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
            redirects = tracing::field::Empty,
        );
        async move {
            let mut url = call.template.url().clone();
            // The URLs this attempt has been answered from, in order.
            let mut visited: Vec<reqwest::Url> = Vec::new();
            loop {
                // The call's request for `url`, its body signed anew.
                let (signed, signature) = self.sign_body(&call.body).map_err(|message| {
                    Failure::Refused(http::StatusCode::BAD_REQUEST, Refusal::Unsigned(message))
                })?;
                tracing::trace!(operation = call.operation, string_to_sign = %signature.string_to_sign, "signed request");
                let template = &call.template;
                let mut request = reqwest::Request::new(template.method().clone(), url.clone());
                *request.headers_mut() = template.headers().clone();
                *request.timeout_mut() = template.timeout().copied();
                *request.version_mut() = template.version();
                *request.body_mut() = Some(signed.into());
                if let Some(limiter) = &self.rate_limiter {
                    limiter.acquire().await;
                }
                let seen = Attempt {
                    operation: call.operation,
                    number,
                    url: &url,
                };
                for interceptor in &config.interceptors {
                    interceptor.before_send(&seen, request.headers_mut());
                }
                let started = Instant::now();
                let response = match call.http.execute(request).await {
                    // A user-built HTTP client may follow redirects itself:
                    // its answer came from elsewhere and is not used.
                    Ok(response) if response.url() != &url => {
                        Ok(followed_elsewhere(&response, &url))
                    }
                    Ok(response) => read_bounded(response, config.max_response_bytes).await,
                    Err(e) => Err(e),
                };
                let latency = started.elapsed();
                let outcome = match &response {
                    Ok(answer) => Outcome::Answered {
                        status: answer.status().as_u16(),
                        bytes: answer.body().len(),
                        latency,
                    },
                    Err(error) => Outcome::Failed { error, latency },
                };
                for interceptor in &config.interceptors {
                    interceptor.after_answer(&seen, &outcome);
                }
                let span = tracing::Span::current();
                span.record("latency_ms", latency.as_millis() as u64);
                let mut response = response.map_err(|error| {
                    tracing::debug!(error = %error, "transport failure");
                    Failure::Transport {
                        error,
                        after_redirect: !visited.is_empty(),
                    }
                })?;
                let status = response.status();
                if let Some(refusal) = response.extensions_mut().remove::<Refusal>() {
                    return Err(Failure::Refused(status, refusal));
                }
                span.record("status", status.as_u16());
                tracing::debug!("answered");
                // The statuses that redirect (RFC 9110 §15.4); 300, 304 and
                // the unused 305/306 are answers like any other.
                if matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
                    visited.push(url);
                    let location = response.headers().get(reqwest::header::LOCATION);
                    let location = location.map(|l| l.as_bytes());
                    let max_hops = config.same_origin_redirects;
                    let target = redirect_target(max_hops, status.as_u16(), location, &visited);
                    url = target.map_err(|refusal| {
                        tracing::debug!("redirect not followed");
                        Failure::Refused(status, refusal)
                    })?;
                    span.record("redirects", visited.len());
                    tracing::debug!(location = %url, "following a same-origin redirect");
                    continue;
                }
                if call.policy.retry_statuses.contains(&status.as_u16()) {
                    return Err(Failure::Answer {
                        reason: format!("HTTP {}", status.as_u16()),
                        retry_after: retry_after(response.headers(), config.clock.now_millis()),
                        response,
                    });
                }
                if !call.policy.retry_codes.is_empty()
                    && let Some(code) =
                        EnvelopeHead::read(response.body()).and_then(|head| head.code)
                    && call.policy.retries_code(&code)
                {
                    return Err(Failure::Answer {
                        reason: format!("platform code {code}"),
                        retry_after: None,
                        response,
                    });
                }
                return Ok(response);
            }
        }
        .instrument(span)
        .await
    }
}

/// What every attempt of one call shares.
struct Call<'a> {
    http: &'a reqwest::Client,
    operation: &'static str,
    policy: &'a RetryPolicy,
    /// The request as the generated method built it, without its body.
    template: reqwest::Request,
    /// The unsigned envelope.
    body: Bytes,
}

/// Why an attempt did not produce the final answer.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// reqwest could not send the request or read its answer; after a
    /// followed redirect, a server was reached before.
    #[error("transport failure: {error}")]
    Transport {
        error: reqwest::Error,
        after_redirect: bool,
    },
    /// An answer the policy retries (its HTTP status, with the server's
    /// `Retry-After`, or its business code).
    #[error("{reason}")]
    Answer {
        response: http::Response<Bytes>,
        retry_after: Option<Duration>,
        reason: String,
    },
    /// An answer refused (a redirect not followed, a body over the limit):
    /// never retried.
    #[error("{1}")]
    Refused(http::StatusCode, Refusal),
}

impl Failure {
    fn retryable(&self, idempotent: bool) -> bool {
        match self {
            // No connection, and no redirect before it: the request provably
            // never reached a server. After a redirect, the first server
            // may have acted on it.
            Failure::Transport {
                error,
                after_redirect,
            } => is_transient(error) && (idempotent || (error.is_connect() && !after_redirect)),
            Failure::Answer { .. } => idempotent,
            Failure::Refused(..) => false,
        }
    }

    /// The last attempt's outcome, for the generated code to hand back.
    fn into_result(self) -> reqwest::Result<reqwest::Response> {
        match self {
            Failure::Transport { error, .. } => Err(error),
            Failure::Answer { response, .. } => Ok(reqwest::Response::from(response)),
            // An answer whose body is the refusal.
            Failure::Refused(status, refusal) => {
                let body = futures::stream::once(async move { Err::<Bytes, _>(refusal) });
                let mut answer = http::Response::new(reqwest::Body::wrap_stream(body));
                *answer.status_mut() = status;
                Ok(reqwest::Response::from(answer))
            }
        }
    }
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
        let location = snippet(location.as_bytes());
        Err(Refusal::Redirect(status, location, reason))
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
    let has_credentials = !target.username().is_empty() || target.password().is_some();
    let same_origin = target.scheme() == from.scheme()
        && target.host_str() == from.host_str()
        && target.port_or_known_default() == from.port_or_known_default();
    let usable = matches!(target.scheme(), "http" | "https") && !has_credentials;
    // The first rule broken says why.
    let rules = [
        (max_hops == 0, RedirectRefusal::Disabled),
        (!usable, RedirectRefusal::BadLocation),
        (!same_origin, RedirectRefusal::CrossOrigin),
        (!matches!(status, 307 | 308), RedirectRefusal::MethodChange),
        (visited.contains(&target), RedirectRefusal::Loop),
        (visited.len() > max_hops as usize, RedirectRefusal::TooMany),
    ];
    match rules.into_iter().find(|(broken, _)| *broken) {
        Some((_, reason)) => refuse(reason, &shown),
        None => Ok(target),
    }
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
fn followed_elsewhere(response: &reqwest::Response, requested: &reqwest::Url) -> Read {
    let location = shown_url(response.url());
    let status = if response.status().is_redirection() {
        response.status()
    } else {
        http::StatusCode::TEMPORARY_REDIRECT
    };
    tracing::warn!(from = %shown_url(requested), to = %location, "the HTTP client followed a redirect; answer refused");
    let refusal = Refusal::Redirect(status.as_u16(), location, RedirectRefusal::Disabled);
    refused(status, refusal)
}

/// An answer read whole, or refused: then its body is empty and its
/// extensions hold the [`Refusal`].
type Read = http::Response<Bytes>;

/// An answer with `status` refused for `refusal`.
fn refused(status: http::StatusCode, refusal: Refusal) -> Read {
    let mut answer = http::Response::new(Bytes::new());
    *answer.status_mut() = status;
    answer.extensions_mut().insert(refusal);
    answer
}

/// A body read in chunks, as one: most answers arrive in one chunk, kept
/// as it is, copied only to join.
pub(crate) fn joined(chunks: Vec<Bytes>) -> Bytes {
    match <[Bytes; 1]>::try_from(chunks) {
        Ok([only]) => only,
        Err(chunks) => Bytes::from(chunks.concat()),
    }
}

/// Reads the whole body, refusing more than `limit` bytes.
async fn read_bounded(mut response: reqwest::Response, limit: usize) -> reqwest::Result<Read> {
    let status = response.status();
    let too_large = || Ok(refused(status, Refusal::TooLarge(limit)));
    if response.content_length().unwrap_or(0) > limit as u64 {
        return too_large();
    }
    let mut chunks = Vec::new();
    let mut len = 0usize;
    while let Some(chunk) = response.chunk().await? {
        len += chunk.len();
        if len > limit {
            return too_large();
        }
        chunks.push(chunk);
    }
    let body = joined(chunks);
    tracing::Span::current().record("bytes", body.len());
    let mut answer = http::Response::new(body);
    *answer.status_mut() = status;
    *answer.version_mut() = response.version();
    *answer.headers_mut() = std::mem::take(response.headers_mut());
    Ok(answer)
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
