//! The generated client's hooks (progenitor's `ClientHooks`, required by
//! `build.rs` with `HooksMode::Expected`): every request the generated code
//! sends is signed here, traced here, and its answer read here within the
//! size limit. Calls through [`crate::Client`] and direct calls of the
//! generated methods go through the same code.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use secrecy::SecretString;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::config::Config;
use crate::error::TOO_LARGE_MARKER;
use crate::generated;
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
}

/// Marks a response whose body was over the limit (read by the `post` hook).
#[derive(Clone, Copy)]
struct BodyTooLarge(usize);

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
            }),
        }
    }

    /// Fills the envelope's `appId`, `version`, `timestamp` and `sign` in a
    /// JSON request body, whatever the caller put there.
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

impl fmt::Debug for Middleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Middleware")
            .field("app_id", &self.state.app_id)
            .field("app_secret", &"[REDACTED]")
            .field("api_version", &self.state.api_version)
            .field("signer", &self.state.signer)
            .field("max_response_bytes", &self.state.max_response_bytes)
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
        let span = tracing::debug_span!(
            "shiheng.request",
            operation = info.operation_id,
            status = tracing::field::Empty,
            bytes = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let limit = self.inner().state.max_response_bytes;
        async move {
            let started = Instant::now();
            let response = self.client().execute(request).await;
            let response = match response {
                Ok(response) => read_bounded(response, limit).await,
                Err(e) => Err(e),
            };
            let span = tracing::Span::current();
            span.record("latency_ms", started.elapsed().as_millis() as u64);
            match &response {
                Ok(r) => {
                    span.record("status", r.status().as_u16());
                    tracing::debug!("answered");
                }
                Err(e) => tracing::debug!(error = %e, "transport failure"),
            }
            response
        }
        .instrument(span)
        .await
    }

    async fn post<E>(
        &self,
        result: &reqwest::Result<reqwest::Response>,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        if let Ok(response) = result
            && let Some(BodyTooLarge(limit)) = response.extensions().get::<BodyTooLarge>()
        {
            return Err(progenitor_client::Error::Custom(format!(
                "{TOO_LARGE_MARKER}{limit}"
            )));
        }
        Ok(())
    }
}

/// Reads the whole body, refusing more than `limit` bytes, and hands back an
/// equivalent response whose body is already in memory.
async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> reqwest::Result<reqwest::Response> {
    let mut builder = http::Response::builder()
        .status(response.status())
        .version(response.version());
    if let Some(headers) = builder.headers_mut() {
        *headers = std::mem::take(response.headers_mut());
    }
    let too_large = |builder: http::response::Builder| {
        let response = builder
            .extension(BodyTooLarge(limit))
            .body(bytes::Bytes::new())
            .expect("status and headers came from a valid response");
        Ok(reqwest::Response::from(response))
    };
    let declared = response.content_length().unwrap_or(0);
    if declared > limit as u64 {
        return too_large(builder);
    }
    let mut body = Vec::with_capacity(declared as usize);
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return too_large(builder);
        }
        body.extend_from_slice(&chunk);
    }
    tracing::Span::current().record("bytes", body.len());
    let response = builder
        .body(bytes::Bytes::from(body))
        .expect("status and headers came from a valid response");
    Ok(reqwest::Response::from(response))
}
