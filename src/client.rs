//! The hand-written entry point: a [`Client`] built from a [`Config`]. It
//! owns the generated client (whose hooks sign every request); the calls per
//! endpoint (`list_wecom_employees()`, ...) are generated from the spec into
//! [`crate::operations`]. [`Client::call_raw`] sends a signed envelope and
//! returns the answer as JSON, for callers (such as [`crate::drift`]) that
//! must see every field the platform sent.

use std::sync::Arc;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::{self, Error, snippet};
use crate::generated;
use crate::generated::types::ErrorEnvelope;
use crate::middleware::Middleware;

/// A client of the Shiheng Open Platform. Cheap to clone; clones share one
/// connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    raw: Arc<generated::Client>,
}

impl Client {
    /// A client for `config`; fails with [`Error::Config`] for a base URL
    /// that is not http(s) or a setting that makes no sense
    /// ([`Config::validate`]).
    pub fn new(config: Config) -> Result<Self, Error> {
        let base_url = config.base_url.trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base_url)
            .map_err(|e| Error::config(format!("base URL {base_url:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::config(format!(
                "base URL {base_url:?} must start with http:// or https://"
            )));
        }
        config.validate()?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.clone())
            // The middleware sees every redirect and decides (by default: an
            // error); reqwest would re-send the signed envelope anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?;
        let raw = generated::Client::new_with_client(&base_url, http, Middleware::new(&config));
        Ok(Self { raw: Arc::new(raw) })
    }

    /// A client configured from `SHIHENG_BASE_URL`, `SHIHENG_APP_ID`,
    /// `SHIHENG_APP_SECRET` and `SHIHENG_API_VERSION`.
    pub fn from_env() -> Result<Self, Error> {
        Self::new(Config::from_env()?)
    }

    /// The client progenitor generated from the spec. Its requests are
    /// signed by the same middleware; its envelope fields `appId`, `sign`,
    /// `version` and `timestamp` may be left unset (the middleware fills them).
    pub fn generated(&self) -> &generated::Client {
        &self.raw
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        progenitor_client::ClientInfo::baseurl(&*self.raw)
    }

    /// Sends one signed request envelope to `path` (e.g. `/wecom/employee/page`)
    /// with `param_content` (none when `None`) and returns the answer as JSON,
    /// undecoded: unknown fields and unexpected types are kept, as the platform
    /// sent them. It goes through the same hooks as the generated methods
    /// (signing, rate limit, size limit, tracing; retries only of connection
    /// failures, as `operation` is not marked idempotent under this name;
    /// redirects as configured).
    /// Errors name `operation`. A non-JSON answer is [`Error::Http`] (non-2xx)
    /// or [`Error::Decode`]; the envelope's `code` is not interpreted.
    pub async fn call_raw(
        &self,
        operation: &'static str,
        path: &str,
        param_content: Option<&Value>,
    ) -> Result<RawReply, Error> {
        let mut envelope = Map::new();
        if let Some(params) = param_content {
            envelope.insert("paramContent".into(), params.clone());
        }
        let body = Value::Object(envelope).to_string();
        let info = OperationInfo {
            operation_id: operation,
        };
        let hooked = async {
            let mut request = self
                .raw
                .client()
                .post(format!("{}{path}", self.base_url()))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body)
                .build()?;
            self.raw.pre(&mut request, &info).await?;
            let result = self.raw.exec(request, &info).await;
            self.raw.post(&result, &info).await?;
            Ok::<_, progenitor_client::Error<ErrorEnvelope>>(result?)
        };
        let response = match crate::middleware::observing_status(hooked).await {
            (Ok(response), _) => response,
            (Err(e), status) => return Err(error::from_generated(operation, e, status).await),
        };
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| error::transport(operation, e))?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(body) => Ok(RawReply { status, body }),
            Err(_) if !(200..300).contains(&status) => Err(Error::Http {
                operation,
                status,
                snippet: snippet(&bytes),
                retry_after: None,
            }),
            Err(e) => Err(Error::Decode {
                operation,
                status: Some(status),
                what: e.to_string(),
                snippet: snippet(&bytes),
                trace_id: None,
            }),
        }
    }
}

/// An answer of [`Client::call_raw`]: the HTTP status and the body as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct RawReply {
    /// The HTTP status.
    pub status: u16,
    /// The body, as the platform sent it.
    pub body: Value,
}
