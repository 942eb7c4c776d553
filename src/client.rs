//! The entry point: a [`Client`] built from a [`Config`]. It owns the
//! generated client, whose requests all go through one
//! [`Transport`]; the calls per endpoint
//! (`list_wecom_employees()`, ...) are generated from the spec. The client
//! also remembers which coercions it has already reported, so each shows
//! once in the logs.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::Config;
use crate::error::Error;
use crate::generated;
use crate::operation::OperationSpec;
use crate::record::{Drifted, Observed};
use crate::transport::Transport;

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
        for (part, present) in [
            ("a query (?…)", parsed.query().is_some()),
            ("a fragment (#…)", parsed.fragment().is_some()),
        ] {
            if present {
                return Err(Error::config(format!(
                    "base URL {:?} has {part}, which does not belong in a base URL: \
                     paths are appended to it",
                    crate::error::snippet(base_url.as_bytes())
                )));
            }
        }
        config.validate()?;
        let http = match &config.http_client {
            Some(http) => http.clone(),
            None => config
                .http_client_builder()?
                .build()
                .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?,
        };
        let transport = Transport::new(&config, |method| {
            OperationSpec::by_method(method).map(|op| (op.operation_id, op.idempotent))
        });
        let raw = generated::Client::new_with_client(&base_url, http, transport);
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

    /// The client progenitor generated from the spec: the layer every call
    /// goes through. Its methods take the request envelope (the fields
    /// `appId`, `sign`, `version` and `timestamp` may be left unset: the
    /// transport fills them) and return the answer's bytes unread; prefer
    /// [`Client`]'s own methods, which classify them.
    pub fn generated(&self) -> &generated::Client {
        &self.raw
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        progenitor_client::ClientInfo::baseurl(&*self.raw)
    }

    /// Logs each coercion of the decoding rule once per client: a warning
    /// that the platform sends a field in another form than the spec says,
    /// so a service's logs show drift without anyone running `check`.
    pub(crate) fn note_drift(&self, operation: &'static str, observed: &[Observed]) {
        if observed.is_empty() {
            return;
        }
        let mut reported = self.reported.lock().unwrap_or_else(PoisonError::into_inner);
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
