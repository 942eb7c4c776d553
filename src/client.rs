//! The hand-written entry point: a [`Client`] built from a [`Config`]. It
//! owns the generated client (whose hooks sign every request); the calls per
//! endpoint (`list_wecom_employees()`, ...) are generated from the spec into
//! [`crate::operations`]. [`Client::call_raw`] sends a signed envelope and
//! returns the answer as JSON, for callers (such as [`crate::drift`]) that
//! must see every field the platform sent. The client also remembers which
//! coercions it has already reported, so each shows once in the logs. Its
//! TLS configuration (which rustls crypto provider, which roots) is built
//! here too, in the private `tls` module.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::{self, Error, snippet};
use crate::generated;
use crate::middleware::Middleware;
use crate::paginate::Drifted;
use crate::record::Observed;

/// A client of the Shiheng Open Platform. Cheap to clone; clones share one
/// connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    raw: Arc<generated::Client>,
    reported: Arc<Mutex<HashSet<Drifted>>>,
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
        let http = match &config.http_client {
            Some(http) => http.clone(),
            None => config
                .http_client_builder()?
                .build()
                .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?,
        };
        let raw = generated::Client::new_with_client(&base_url, http, Middleware::new(&config));
        Ok(Self {
            raw: Arc::new(raw),
            reported: Arc::default(),
        })
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
    /// (signing, rate limit, size limit, redirects as configured, tracing;
    /// retries as the operation named `operation` in the spec allows).
    /// Errors name `operation`. An envelope whose `code` is not "0" is
    /// [`Error::Api`]; a non-JSON answer is [`Error::Http`] (non-2xx) or
    /// [`Error::Decode`].
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
        let method =
            crate::operation::OperationSpec::by_id(operation).map_or(operation, |op| op.method);
        let info = OperationInfo {
            operation_id: method,
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
            Ok::<_, progenitor_client::Error<()>>(self.raw.exec(request, &info).await?)
        };
        let response = match hooked.await {
            Ok(response) => response,
            Err(e) => return Err(error::from_progenitor(operation, e).await),
        };
        if let Some(hook) = crate::middleware::hook_error(&response, operation) {
            return Err(Error::from(progenitor_client::Error::<()>::Custom(
                hook.to_message(),
            )));
        }
        let status = response.status().as_u16();
        let retry_after = crate::middleware::retry_after_seconds(&response);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| error::transport(operation, e))?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(body) => match error::business_error_in(operation, &body, status) {
                Some(error) => Err(error),
                None => Ok(RawReply { status, body }),
            },
            Err(_) if !(200..300).contains(&status) => Err(Error::Http {
                operation,
                status,
                snippet: snippet(&bytes),
                retry_after,
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

    /// Logs each coercion of the decoding rule once per client: a warning
    /// that the platform sends a field in another form than the spec says,
    /// so a service's logs show drift without anyone running `check`.
    pub(crate) fn note_drift(&self, operation: &'static str, observed: &[Observed]) {
        if observed.is_empty() {
            return;
        }
        let mut reported = self
            .reported
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for o in observed {
            let drifted = Drifted {
                operation,
                schema: o.schema,
                field: o.field,
                kind: o.kind,
            };
            if reported.insert(drifted) {
                tracing::warn!(
                    operation,
                    schema = o.schema,
                    field = o.field,
                    kind = %o.kind,
                    "the platform sent {}.{} as {}: decoded anyway; update the spec",
                    o.schema,
                    o.field,
                    o.kind
                );
            }
        }
    }
}

/// An answer of [`Client::call_raw`]: the HTTP status and the body as JSON.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RawReply {
    /// The HTTP status.
    pub status: u16,
    /// The body, as the platform sent it.
    pub body: Value,
}

pub(crate) use tls::client_config as tls_client_config;

/// The rustls configuration of the client: the crypto provider the crate's
/// features chose, the operating system's trust store plus
/// [`Config::with_root_certificate`]'s roots, TLS 1.3 and 1.2, and ALPN for
/// HTTP/2 and HTTP/1.1, as reqwest would set up by itself. reqwest is built
/// without a provider of its own (`rustls-no-provider`), so the choice is made
/// here rather than by whichever provider happens to be compiled in.
mod tls {
    use std::sync::Arc;

    use rustls::crypto::CryptoProvider;

    use crate::config::Config;
    use crate::error::Error;

    #[cfg(not(any(feature = "tls-ring", feature = "tls-aws-lc")))]
    compile_error!(
        "shiheng needs a TLS crypto provider: enable the feature `tls-ring` (the default) \
         or `tls-aws-lc`"
    );

    /// The provider the features chose: aws-lc-rs. With both features on,
    /// this one wins: `tls-ring` is in the default features, so having both
    /// means someone asked for aws-lc-rs explicitly.
    #[cfg(feature = "tls-aws-lc")]
    fn feature_provider() -> CryptoProvider {
        rustls::crypto::aws_lc_rs::default_provider()
    }

    /// The provider the features chose: ring.
    #[cfg(all(feature = "tls-ring", not(feature = "tls-aws-lc")))]
    fn feature_provider() -> CryptoProvider {
        rustls::crypto::ring::default_provider()
    }

    /// The provider used: the program's process-wide one if it installed one
    /// ([`CryptoProvider::install_default`]: an application's choice, e.g. a
    /// FIPS build, outranks a library's), else the features' choice.
    fn provider() -> Arc<CryptoProvider> {
        CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(feature_provider()))
    }

    /// The configuration handed to reqwest for every HTTPS connection.
    pub(crate) fn client_config(config: &Config) -> Result<rustls::ClientConfig, Error> {
        let cannot = |e: rustls::Error| Error::config(format!("cannot set up TLS: {e}"));
        let provider = provider();
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
            config.root_certificates_der()?,
            provider.clone(),
        )
        .map_err(cannot)?;
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(cannot)?
            .dangerous() // only to plug in the platform verifier: nothing is skipped
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(tls)
    }
}
