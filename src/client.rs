//! The hand-written entry point: a [`Client`] built from a [`Config`]. It
//! owns the generated client (whose hooks sign every request); the calls per
//! endpoint (`list_wecom_employees()`, ...) are generated from the spec into
//! [`crate::operations`].

use std::sync::Arc;

use crate::config::Config;
use crate::error::Error;
use crate::generated;
use crate::middleware::Middleware;

/// A client of the Shiheng Open Platform. Cheap to clone; clones share one
/// connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    raw: Arc<generated::Client>,
}

impl Client {
    /// A client for `config`.
    pub fn new(config: Config) -> Result<Self, Error> {
        let base_url = config.base_url.trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base_url)
            .map_err(|e| Error::config(format!("base URL {base_url:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::config(format!(
                "base URL {base_url:?} must start with http:// or https://"
            )));
        }
        if config.app_id.trim().is_empty() {
            return Err(Error::config("appId is empty"));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.clone())
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
}
