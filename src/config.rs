//! Client configuration: where the platform is, who is calling, and how the
//! calls behave (version, timeouts, user agent, signer, clock, limits,
//! redirects, extra trusted certificate authorities), and which settings make sense ([`Config::validate`], run by
//! `Client::new`). Loadable from the environment. The secret is a
//! `SecretString` and never appears in Debug output.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use secrecy::SecretString;

use crate::error::Error;
use crate::intercept::Interceptor;
use crate::retry::RetryPolicy;
use crate::sign::{Clock, Md5Signer, Signer, SystemClock};

/// Environment variable holding the base URL.
pub const ENV_BASE_URL: &str = "SHIHENG_BASE_URL";
/// Environment variable holding the appId.
pub const ENV_APP_ID: &str = "SHIHENG_APP_ID";
/// Environment variable holding the app secret.
pub const ENV_APP_SECRET: &str = "SHIHENG_APP_SECRET";
/// Environment variable holding the API version (default "1.0").
pub const ENV_API_VERSION: &str = "SHIHENG_API_VERSION";

/// The API version sent when none is configured.
pub const DEFAULT_API_VERSION: &str = "1.0";

/// The most same-origin redirects one request may follow
/// ([`Config::with_same_origin_redirects`]).
pub const MAX_REDIRECT_HOPS: u32 = 10;

/// `with_*` setters: each sets one field (to the expression after `=`,
/// which may use the argument) and returns the value.
macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident($arg:ident: $ty:ty) => $field:ident = $value:expr;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, $arg: $ty) -> Self {
                self.$field = $value;
                self
            }
        )*
    };
}
pub(crate) use setters;

/// Everything a [`crate::Client`] needs. Build with [`Config::new`] or
/// [`Config::from_env`], then adjust with the `with_*` methods. Its Debug
/// output never shows the secret (a [`SecretString`]'s is redacted).
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) base_url: String,
    pub(crate) app_id: String,
    pub(crate) app_secret: SecretString,
    pub(crate) api_version: String,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) user_agent: String,
    pub(crate) signer: Arc<dyn Signer>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) max_response_bytes: usize,
    pub(crate) retry: RetryPolicy,
    pub(crate) rate_limit: Option<f64>,
    pub(crate) same_origin_redirects: u32,
    pub(crate) interceptors: Vec<Arc<dyn Interceptor>>,
    pub(crate) http_client: Option<reqwest::Client>,
    /// Parsed by `validate` and by `Client::new`.
    pub(crate) root_certificates: Vec<Pem>,
}

/// A root certificate's PEM text, as given; its Debug output is its size.
#[derive(Clone)]
pub(crate) struct Pem(Arc<[u8]>);

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes of PEM>", self.0.len())
    }
}

impl Config {
    /// A configuration with the defaults: API version "1.0", a 30 s request
    /// timeout, a 10 s connect timeout, the default MD5 signer, the system
    /// clock, a 16 MiB response limit, the default [`RetryPolicy`], no
    /// rate limit and no redirects followed.
    pub fn new(
        base_url: impl Into<String>,
        app_id: impl Into<String>,
        app_secret: impl Into<SecretString>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            app_id: app_id.into(),
            app_secret: app_secret.into(),
            api_version: DEFAULT_API_VERSION.to_string(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("shiheng-rust/", env!("CARGO_PKG_VERSION")).to_string(),
            signer: Arc::new(Md5Signer::new()),
            clock: Arc::new(SystemClock),
            max_response_bytes: 16 * 1024 * 1024,
            retry: RetryPolicy::default(),
            rate_limit: None,
            same_origin_redirects: 0,
            interceptors: Vec::new(),
            http_client: None,
            root_certificates: Vec::new(),
        }
    }

    /// Reads `SHIHENG_BASE_URL`, `SHIHENG_APP_ID`, `SHIHENG_APP_SECRET` and
    /// (optionally) `SHIHENG_API_VERSION`.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Config::from_env`], reading variables through `lookup` (for tests
    /// and for tools that keep their settings elsewhere).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let required =
            |name: &str| set(name).ok_or_else(|| Error::config(format!("{name} is not set")));
        let mut config = Self::new(
            required(ENV_BASE_URL)?,
            required(ENV_APP_ID)?,
            SecretString::from(required(ENV_APP_SECRET)?),
        );
        if let Some(version) = set(ENV_API_VERSION) {
            config.api_version = version;
        }
        Ok(config)
    }

    setters! {
        /// The API version sent in every envelope (default "1.0").
        with_api_version(version: impl Into<String>) => api_version = version.into();

        /// The timeout of one HTTP request, from sending to the last byte
        /// (zero is refused by [`crate::Client::new`]; a huge one saturates).
        with_timeout(timeout: Duration) => timeout = timeout;

        /// The timeout for establishing a connection (zero is refused).
        with_connect_timeout(timeout: Duration) => connect_timeout = timeout;

        /// The `User-Agent` header.
        with_user_agent(user_agent: impl Into<String>) => user_agent = user_agent.into();

        /// Another signing rule (the default is [`Md5Signer`]).
        with_signer(signer: impl Signer + 'static) => signer = Arc::new(signer);

        /// Another clock for request timestamps (the default is the system clock).
        with_clock(clock: impl Clock + 'static) => clock = Arc::new(clock);

        /// The largest response body accepted, in bytes (default 16 MiB); a
        /// larger one fails with [`Error::ResponseTooLarge`] instead of filling memory.
        with_max_response_bytes(limit: usize) => max_response_bytes = limit;

        /// The retry policy (default: [`RetryPolicy::default`]; turn retries off
        /// with [`RetryPolicy::disabled`]).
        with_retry(policy: RetryPolicy) => retry = policy;

        /// At most this many requests per second from this client, all calls and
        /// concurrent page fetches together (default: no cap). The rate must be
        /// a finite number from 1/3600 to 1,000,000: anything else (0, negative,
        /// NaN, infinite, 1e-20) makes [`crate::Client::new`] fail with
        /// [`Error::Config`]; it never silently means "no limit".
        with_rate_limit(requests_per_second: f64) => rate_limit = Some(requests_per_second);

        /// Follow up to `max_hops` redirects per request, but only those that
        /// stay on the base URL's origin (same scheme, host and port) and keep
        /// the method and body: HTTP 307 and 308. Each hop re-sends the
        /// envelope signed anew (a fresh timestamp, the same `paramContent`),
        /// as a retry does. A 301, 302 or 303 (which would turn the POST into a
        /// GET), a redirect to another origin, a loop, or more hops than
        /// `max_hops` fail with [`Error::Redirect`] and are not retried.
        ///
        /// For clients behind a gateway that moves paths around. The default,
        /// 0, follows no redirect at all: a signed request is never sent
        /// anywhere but where it was addressed. At most [`MAX_REDIRECT_HOPS`].
        with_same_origin_redirects(max_hops: u32) => same_origin_redirects = max_hops;

        /// Sends requests with this `reqwest::Client` (a proxy, connection pool
        /// settings, shared with the rest of a service) instead of one built
        /// from this configuration. Start from [`Config::http_client_builder`]:
        /// it has this crate's TLS setup (the crypto provider, the trust store,
        /// [`with_root_certificate`](Self::with_root_certificate)'s roots) and
        /// redirects off. The client's settings are then yours:
        /// [`with_timeout`](Self::with_timeout),
        /// [`with_connect_timeout`](Self::with_connect_timeout) and
        /// [`with_user_agent`](Self::with_user_agent) are not applied (a
        /// deadline on a listing still is). A client with reqwest's default
        /// redirect policy would re-send a signed request to wherever a redirect
        /// points before this crate sees it: an answer that arrives from another
        /// URL than the request's is refused as [`Error::Redirect`], but the
        /// request went there.
        with_http_client(client: reqwest::Client) => http_client = Some(client);
    }

    /// Calls `interceptor` for every request this client sends (each
    /// attempt, retries and followed redirects included), after signing,
    /// and for every answer or failure: for metrics, request logging or an
    /// extra header. Interceptors run in the order added. See
    /// [`crate::intercept`].
    pub fn with_interceptor(mut self, interceptor: impl Interceptor + 'static) -> Self {
        self.interceptors.push(Arc::new(interceptor));
        self
    }

    /// A `reqwest::ClientBuilder` set up as this crate sets up its own HTTP
    /// client (TLS, timeouts, user agent, no redirects), to adjust and hand
    /// to [`Config::with_http_client`]: the way to add a proxy or pool
    /// settings without losing those. An [`Error::Config`] for a root
    /// certificate that does not parse.
    pub fn http_client_builder(&self) -> Result<reqwest::ClientBuilder, Error> {
        // The rustls configuration: the crypto provider, the operating
        // system's trust store plus `with_root_certificate`'s roots, TLS 1.3
        // and 1.2, and ALPN for HTTP/2 and HTTP/1.1, as reqwest would set up
        // by itself. reqwest is built without a provider of its own
        // (`rustls-no-provider`), so the choice is made here rather than by
        // whichever provider happens to be compiled in.
        // With both features on, aws-lc-rs wins: `tls-ring` is in the default
        // features, so having both means someone asked for aws-lc-rs explicitly.
        #[cfg(feature = "tls-aws-lc")]
        let feature_provider = rustls::crypto::aws_lc_rs::default_provider;
        #[cfg(not(feature = "tls-aws-lc"))]
        let feature_provider = rustls::crypto::ring::default_provider;
        // The program's process-wide provider, if it installed one, outranks
        // the features' choice: an application's choice (a FIPS build, say)
        // outranks a library's.
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(feature_provider()));
        let cannot = |e: rustls::Error| Error::config(format!("cannot set up TLS: {e}"));
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
            self.root_certificates_der()?,
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
        Ok(reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent.clone())
            // The transport sees every redirect and decides (by default: an
            // error); reqwest would re-send the signed envelope anywhere.
            .redirect(reqwest::redirect::Policy::none()))
    }

    /// Also trust the certificate authorities in `pem` (PEM text: one or more
    /// `CERTIFICATE` blocks) for HTTPS, beside the operating system's trust
    /// store, which stays in use: for a platform reached through a private
    /// CA (a staging gateway, a TLS-inspecting proxy) or a local test server.
    /// Verification stays as strict as ever: the server's chain must lead to
    /// one of these roots or a system one, and its name must match the base
    /// URL's host. Call again to add more. Text with no certificate in it, or
    /// a certificate that does not parse, makes [`crate::Client::new`] fail
    /// with [`Error::Config`].
    pub fn with_root_certificate(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.root_certificates.push(Pem(Arc::from(pem.as_ref())));
        self
    }

    /// The extra trusted roots ([`Config::with_root_certificate`]) as DER,
    /// in order; an [`Error::Config`] naming the one that is not a PEM
    /// certificate.
    pub(crate) fn root_certificates_der(&self) -> Result<Vec<CertificateDer<'static>>, Error> {
        let mut roots = Vec::new();
        for (number, Pem(pem)) in (1..).zip(&self.root_certificates) {
            let bad = |why: String| Error::config(format!("root certificate #{number} {why}"));
            let certificates = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(format!("is not valid PEM: {e}")))?;
            if certificates.is_empty() {
                return Err(bad("has no PEM CERTIFICATE block".into()));
            }
            // Parsed as a trust anchor now, so a broken certificate is a
            // configuration error rather than a failed handshake later.
            for certificate in &certificates {
                rustls::RootCertStore::empty()
                    .add(certificate.clone())
                    .map_err(|e| bad(format!("is not a usable X.509 certificate: {e}")))?;
            }
            roots.extend(certificates);
        }
        Ok(roots)
    }

    /// Checks every setting, as [`crate::Client::new`] does: a timeout of
    /// zero, a response limit of zero bytes, a rate limit that is not a
    /// positive finite number in range, a retry policy that makes no sense
    /// (see [`RetryPolicy::validate`]), an empty API version or an extra root
    /// certificate that does not parse is a
    /// [`Error::Config`] naming the setting.
    pub fn validate(&self) -> Result<(), Error> {
        let refuse = |message: &str| Err(Error::config(message));
        if self.app_id.trim().is_empty() {
            return refuse("appId is empty");
        }
        if self.api_version.trim().is_empty() {
            return refuse("the API version is empty");
        }
        if self.timeout.is_zero() {
            return refuse("the request timeout is zero: every request would time out");
        }
        if self.connect_timeout.is_zero() {
            return refuse("the connect timeout is zero: no connection could be made");
        }
        if self.max_response_bytes == 0 {
            return refuse("the response limit is 0 bytes: every answer would be refused");
        }
        let rate_limit = self.rate_limit.map(crate::retry::validate_rate_limit);
        rate_limit.transpose().map_err(Error::config)?;
        self.retry.validate().map_err(Error::config)?;
        if self.same_origin_redirects > MAX_REDIRECT_HOPS {
            return Err(Error::config(format!(
                "{} same-origin redirects per request is over {MAX_REDIRECT_HOPS}",
                self.same_origin_redirects
            )));
        }
        self.root_certificates_der()?;
        Ok(())
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The appId.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The API version.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The response size limit in bytes.
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }
}

#[cfg(not(any(feature = "tls-ring", feature = "tls-aws-lc")))]
compile_error!(
    "shiheng needs a TLS crypto provider: enable the feature `tls-ring` (the default) \
     or `tls-aws-lc`"
);
