//! A local implementation of every operation of the spec of the `shiheng`
//! SDK, for tests, benchmarks, the `shiheng demo` command and other teams'
//! integration work. It routes, validates, sign-checks and answers whatever
//! the SDK's operation table ([`shiheng::operations`]) holds, with data generated from the spec's
//! schemas (or given by the user, [`SandboxConfig::with_items`],
//! [`SandboxConfig::with_data_dir`]). Owns the sandbox's configuration, its
//! lifecycle (bind, address, graceful shutdown) and the knobs tests turn
//! while it runs (latency, failure rate and kinds, data changes
//! mid-listing). Request handling lives in `server`, what each operation
//! serves in `catalog` (`table`, `generate`, `samples`, `userdata`), the
//! checks of requests and data in `validate` (the first finding of the spec
//! tooling's schema walker, `shiheng_spec::schema`, as a refusal), drift
//! mode in `planted`, the fault decisions and counters in `faults`.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use shiheng_sandbox::{Sandbox, SandboxConfig};
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! println!("listening on {}", sandbox.url());
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! [`serve`] runs one until a future completes, for a standalone server.

#![warn(missing_docs)]

mod accept;
mod catalog;
mod faults;
mod generate;
mod planted;
mod rng;
mod samples;
mod server;
mod table;
mod userdata;
mod validate;

pub use faults::{FaultCounts, FaultKind, FaultKinds};
pub use table::{DEFAULT_ITEM_COUNT, MAX_ITEM_COUNT};
pub use userdata::{DataError, SandboxData};

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use catalog::Catalog;
use faults::FaultState;

/// How long [`Sandbox::shutdown`] waits for open connections before it
/// drops them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Default time a client has to send a request's headers (the request
/// line included) before its connection is closed.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Default time a kept-alive connection may stay open with no request in
/// flight.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Default time a client has to send a request's body once its head has
/// arrived; past it the request is answered 408.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Default number of connections served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Default hold-back of a slow fault: longer than any sensible test timeout,
/// short enough that a shutdown's grace covers it.
pub const DEFAULT_SLOW_FAULT_DELAY: Duration = Duration::from_secs(2);

/// What the sandbox serves and how it behaves.
#[derive(Clone)]
#[non_exhaustive]
pub struct SandboxConfig {
    /// The one appId the sandbox accepts.
    pub app_id: String,
    /// That app's secret. A sandbox secret protects nothing; it is still
    /// never logged or echoed.
    pub app_secret: String,
    /// The API version accepted in envelopes ("1.0").
    pub api_version: String,
    /// Items generated per paginated operation, by operationId; an
    /// operation not named here gets its item schema's sample-like count
    /// (464 employees, 250 customers, 120 group chats) or
    /// [`DEFAULT_ITEM_COUNT`]. See [`SandboxConfig::with_item_count`].
    pub item_counts: BTreeMap<String, usize>,
    /// Data served instead of generated data, by operationId; checked
    /// against the spec when the sandbox starts. See
    /// [`SandboxConfig::with_items`], [`SandboxConfig::with_result`] and
    /// [`SandboxConfig::with_data_dir`].
    pub data: BTreeMap<String, SandboxData>,
    /// Seed of the data and of the failure decisions: same seed, same sandbox.
    pub seed: u64,
    /// Delay added before every answer.
    pub latency: Duration,
    /// Share of endpoint requests that fail (0.0..=1.0), each with one of
    /// the kinds in `faults`.
    pub fail_rate: f64,
    /// The kinds of failure injected, each equally likely (default: only
    /// 503 gateway pages).
    pub faults: FaultKinds,
    /// How long a slow fault holds its answer back before giving it
    /// normally (default [`DEFAULT_SLOW_FAULT_DELAY`]).
    pub slow_fault_delay: Duration,
    /// How far a request's timestamp may be from the sandbox's clock.
    pub timestamp_window: Duration,
    /// Answer with planted differences from the spec, as a platform that
    /// changed would, in every operation; each chosen from the operation's
    /// item schema (its result schema, without pagination), fields taken in
    /// name order:
    /// - every item (the result) gains the undeclared field
    ///   `undeclaredField`;
    /// - in the second item of each page (the first, when the page has one;
    ///   the result), the undeclared object field `undeclaredDetail`
    ///   (`{"level": 2, "tags": ["planted", null], "note": null}`) is added,
    ///   the first field with `x-known-values` or `enum` holds
    ///   a value outside them (an integer: the largest known value plus 3;
    ///   text: `"undocumented"`, so an employee's `gender` is
    ///   `"undocumented"`), and the first plain field other
    ///   than the id and the cursor key, integers first, then strings,
    ///   booleans and numbers, is sent in another JSON type (an integer as
    ///   its digits in a string, a string as a number, ...);
    /// - the envelopes of every second operation of the table (the 2nd,
    ///   4th, ...) lack the required `code`.
    ///
    /// Off by default: the normal data never drifts.
    pub drift: bool,
    /// How long a client has to send a request's headers, on a new or a
    /// kept-alive connection, before the connection is closed (default
    /// [`DEFAULT_HEADER_READ_TIMEOUT`]): a client sending half a request
    /// holds a connection no longer than this. Must not be zero.
    pub header_read_timeout: Duration,
    /// How long a client has to send a request's body once its head has
    /// arrived (default [`DEFAULT_BODY_READ_TIMEOUT`]); past it the request
    /// is answered HTTP 408 (code 40004) and the connection's slot freed.
    /// Must not be zero.
    pub body_read_timeout: Duration,
    /// How long a connection may stay open with no request in flight
    /// (default [`DEFAULT_IDLE_TIMEOUT`]). Must not be zero.
    pub idle_timeout: Duration,
    /// Connections served at once (default [`DEFAULT_MAX_CONNECTIONS`]);
    /// further ones wait in the listen backlog until one closes. Must not
    /// be zero.
    pub max_connections: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            app_id: "demo-app".to_string(),
            app_secret: "demo-secret".to_string(),
            api_version: "1.0".to_string(),
            item_counts: BTreeMap::new(),
            data: BTreeMap::new(),
            seed: 42,
            latency: Duration::ZERO,
            fail_rate: 0.0,
            faults: FaultKinds::GATEWAY,
            slow_fault_delay: DEFAULT_SLOW_FAULT_DELAY,
            timestamp_window: Duration::from_secs(300),
            drift: false,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl std::fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("app_id", &self.app_id)
            .field("app_secret", &"[REDACTED]")
            .field("api_version", &self.api_version)
            .field("item_counts", &self.item_counts)
            .field("data", &self.data.keys().collect::<Vec<_>>())
            .field("seed", &self.seed)
            .field("latency", &self.latency)
            .field("fail_rate", &self.fail_rate)
            .field("faults", &self.faults)
            .field("slow_fault_delay", &self.slow_fault_delay)
            .field("timestamp_window", &self.timestamp_window)
            .field("drift", &self.drift)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl SandboxConfig {
    /// The one app the sandbox accepts: its appId and secret.
    pub fn with_credentials(
        mut self,
        app_id: impl Into<String>,
        app_secret: impl Into<String>,
    ) -> Self {
        self.app_id = app_id.into();
        self.app_secret = app_secret.into();
        self
    }

    /// The API version accepted in envelopes.
    pub fn with_api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// The seed of the data and of the failure decisions.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The delay added before every answer.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// The share of requests that fail (0.0..=1.0), each with one of `faults`.
    pub fn with_faults(mut self, fail_rate: f64, faults: FaultKinds) -> Self {
        self.fail_rate = fail_rate;
        self.faults = faults;
        self
    }

    /// How long a slow fault holds its answer back.
    pub fn with_slow_fault_delay(mut self, delay: Duration) -> Self {
        self.slow_fault_delay = delay;
        self
    }

    /// How far a request's timestamp may be from the sandbox's clock.
    pub fn with_timestamp_window(mut self, window: Duration) -> Self {
        self.timestamp_window = window;
        self
    }

    /// Answer with planted differences from the spec (see [`SandboxConfig::drift`]).
    pub fn with_drift(mut self, drift: bool) -> Self {
        self.drift = drift;
        self
    }

    /// The header-read timeout, the idle timeout and the connection limit.
    pub fn with_connection_limits(
        mut self,
        header_read_timeout: Duration,
        idle_timeout: Duration,
        max_connections: usize,
    ) -> Self {
        self.header_read_timeout = header_read_timeout;
        self.idle_timeout = idle_timeout;
        self.max_connections = max_connections;
        self
    }

    /// The body-read timeout (see [`SandboxConfig::body_read_timeout`]).
    pub fn with_body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// Generates `count` items for the paginated operation `operation_id`
    /// (at most [`MAX_ITEM_COUNT`]: the sandbox refuses to start with more).
    pub fn with_item_count(mut self, operation_id: impl Into<String>, count: usize) -> Self {
        self.item_counts.insert(operation_id.into(), count);
        self
    }

    /// Serves `items` for the paginated operation `operation_id` instead of
    /// generated ones: a page-number listing in this order, a cursor listing
    /// in ascending order of its cursor key (which every item then needs).
    /// Each item must be an object of the operation's item schema; the
    /// sandbox refuses to start otherwise ([`DataError`]).
    pub fn with_items(mut self, operation_id: impl Into<String>, items: Vec<Value>) -> Self {
        let operation_id = operation_id.into();
        let origin = format!("with_items({operation_id})");
        self.data
            .insert(operation_id, SandboxData::Items { items, origin });
        self
    }

    /// Like [`with_items`](Self::with_items), with typed records (the
    /// item types of [`shiheng::types`], or anything that serializes to the
    /// item schema's objects).
    pub fn with_records<R: serde::Serialize>(
        self,
        operation_id: impl Into<String>,
        records: impl IntoIterator<Item = R>,
    ) -> Result<Self, DataError> {
        let operation_id = operation_id.into();
        let origin = format!("with_records({operation_id})");
        let items = records
            .into_iter()
            .enumerate()
            .map(|(index, record)| {
                serde_json::to_value(record).map_err(|e| {
                    DataError::new(
                        &origin,
                        Some(index),
                        None,
                        format!("does not serialize: {e}"),
                    )
                })
            })
            .collect::<Result<Vec<Value>, DataError>>()?;
        let mut config = self;
        config
            .data
            .insert(operation_id, SandboxData::Items { items, origin });
        Ok(config)
    }

    /// Serves `result` as the `result` of the operation without pagination
    /// `operation_id`, instead of a generated one. It must be of the
    /// operation's result schema.
    pub fn with_result(mut self, operation_id: impl Into<String>, result: Value) -> Self {
        let operation_id = operation_id.into();
        let origin = format!("with_result({operation_id})");
        self.data
            .insert(operation_id, SandboxData::Result { result, origin });
        self
    }

    /// Reads the user's data from `dir`: `DIR/<operationId>.json` holds a
    /// JSON array of items for a paginated operation, `{"result": …}` for
    /// one without pagination; other files are ignored. Fails on a file
    /// named after no operation, or that is not JSON of that shape, and on
    /// one that looks like data but would be skipped (`X.JSON`, a
    /// directory or a FIFO named `X.json`); the
    /// data is checked against the spec's schemas when the sandbox starts
    /// (or by [`validate`](Self::validate)), errors naming the file, the
    /// item and the field.
    pub fn with_data_dir(mut self, dir: impl AsRef<Path>) -> Result<Self, DataError> {
        for (operation_id, data) in userdata::read_dir(dir.as_ref())? {
            self.data.insert(operation_id, data);
        }
        Ok(self)
    }

    /// Checks what [`Sandbox::start`] would check, without starting: every
    /// operationId named exists (and pages, for an item count), and the
    /// user's data fits the spec's schemas (ids unique, cursor keys
    /// present). The error names the data's origin, the item and the field.
    pub fn validate(&self) -> Result<(), DataError> {
        Catalog::check(self)
    }

    /// How many items the paginated operation `operation_id` starts with:
    /// the user's items, the configured count, or the default. `None` when
    /// the operation does not page or is not in the spec.
    pub fn item_count(&self, operation_id: &str) -> Option<usize> {
        let op = shiheng::operation::OperationSpec::by_id(operation_id)?;
        op.pagination?;
        if let Some(SandboxData::Items { items, .. }) = self.data.get(operation_id) {
            return Some(items.len());
        }
        if let Some(count) = self.item_counts.get(operation_id) {
            return Some(*count);
        }
        let spec = shiheng_spec::schema::document().ok()?;
        table::Maker::new(spec, op, self.seed).map(|m| m.default_count())
    }
}

/// State shared by the handle and the request handlers.
pub(crate) struct Shared {
    pub(crate) app_id: String,
    pub(crate) app_secret: SecretString,
    pub(crate) api_version: String,
    pub(crate) seed: u64,
    pub(crate) timestamp_window: Duration,
    pub(crate) body_read_timeout: Duration,
    pub(crate) drift: bool,
    /// The parsed spec, for request validation.
    pub(crate) spec: &'static Value,
    /// What each operation serves.
    pub(crate) catalog: Catalog,
    pub(crate) requests: AtomicU64,
    /// Feeds trace ids and failure decisions: deterministic per sandbox.
    pub(crate) sequence: AtomicU64,
    pub(crate) faults: FaultState,
    latency_micros: AtomicU64,
}

impl Shared {
    pub(crate) fn latency(&self) -> Duration {
        Duration::from_micros(self.latency_micros.load(Ordering::Relaxed))
    }
}

/// Serves `config` on `addr` until `until` completes, then shuts down as
/// [`Sandbox::shutdown`] does; returns the number of requests served. Fails
/// as [`Sandbox::bind`] does, before serving anything.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use shiheng_sandbox::SandboxConfig;
/// let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 8080));
/// let stop = async { tokio::time::sleep(std::time::Duration::from_secs(60)).await };
/// let served = shiheng_sandbox::serve(SandboxConfig::default(), addr, stop).await?;
/// println!("{served} requests served");
/// # Ok(()) }
/// ```
pub async fn serve(
    config: SandboxConfig,
    addr: SocketAddr,
    until: impl Future<Output = ()>,
) -> std::io::Result<u64> {
    let sandbox = Sandbox::bind(config, addr).await?;
    until.await;
    let served = sandbox.requests();
    sandbox.shutdown().await;
    Ok(served)
}

/// A running sandbox. Dropping it stops the server abruptly; prefer
/// [`Sandbox::shutdown`].
pub struct Sandbox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .field("app_id", &self.shared.app_id)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts a sandbox on an ephemeral port of 127.0.0.1. Fails with
    /// [`std::io::ErrorKind::InvalidInput`] (wrapping a [`DataError`]) when
    /// the configuration names an operation the spec does not have or its
    /// data breaks the spec's schemas.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        Self::bind(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a sandbox on `addr`; fails as [`Sandbox::start`] does, and
    /// with `InvalidInput` for a zero header-read, body-read or idle
    /// timeout or connection limit, an empty appId or API version, or an
    /// item count over [`MAX_ITEM_COUNT`].
    pub async fn bind(config: SandboxConfig, addr: SocketAddr) -> std::io::Result<Sandbox> {
        let limits = accept::Limits {
            header_read_timeout: config.header_read_timeout,
            idle_timeout: config.idle_timeout,
            max_connections: config.max_connections,
        };
        for (name, zero) in [
            ("header_read_timeout", limits.header_read_timeout.is_zero()),
            ("body_read_timeout", config.body_read_timeout.is_zero()),
            ("idle_timeout", limits.idle_timeout.is_zero()),
            ("max_connections", limits.max_connections == 0),
        ] {
            if zero {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("sandbox: {name} must not be zero"),
                ));
            }
        }
        // Every request would fail with these: refused at start-up instead.
        for (name, value) in [
            ("app_id", &config.app_id),
            ("api_version", &config.api_version),
        ] {
            if value.trim().is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("sandbox: {name} must not be empty"),
                ));
            }
        }
        let catalog = Catalog::build(&config)?;
        let spec = shiheng_spec::schema::document().map_err(std::io::Error::other)?;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            app_id: config.app_id,
            app_secret: SecretString::from(config.app_secret),
            api_version: config.api_version,
            seed: config.seed,
            timestamp_window: config.timestamp_window,
            body_read_timeout: config.body_read_timeout,
            drift: config.drift,
            spec,
            catalog,
            requests: AtomicU64::new(0),
            sequence: AtomicU64::new(0),
            faults: FaultState::new(
                config.fail_rate,
                config.faults,
                duration_micros(config.slow_fault_delay),
            ),
            latency_micros: AtomicU64::new(duration_micros(config.latency)),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let app = server::router(shared.clone());
        let task = tokio::spawn(accept::serve(listener, app, limits, stopped));
        Ok(Sandbox {
            shared,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address the sandbox listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give a client, e.g. `http://127.0.0.1:38211`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The appId the sandbox accepts.
    pub fn app_id(&self) -> &str {
        &self.shared.app_id
    }

    /// Requests received so far, on every path (including refused and
    /// failed ones).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Changes the share of endpoint requests that fail (clamped to
    /// 0.0..=1.0), each with one of the enabled fault kinds.
    pub fn set_fail_rate(&self, rate: f64) {
        self.shared.faults.set_rate(rate);
    }

    /// Changes the kinds of failure injected.
    pub fn set_faults(&self, kinds: FaultKinds) {
        self.shared.faults.set_kinds(kinds);
    }

    /// Changes how long a slow fault holds its answer back.
    pub fn set_slow_fault_delay(&self, delay: Duration) {
        self.shared
            .faults
            .set_slow_delay_micros(duration_micros(delay));
    }

    /// The failures injected so far, by kind.
    pub fn faults_injected(&self) -> FaultCounts {
        self.shared.faults.counts()
    }

    /// The kind of the most recent injected failure, if any.
    pub fn last_fault(&self) -> Option<FaultKind> {
        self.shared.faults.last()
    }

    /// Changes the delay added before every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.shared
            .latency_micros
            .store(duration_micros(latency), Ordering::Relaxed);
    }

    /// Adds `n` fresh items before the first one of the paginated
    /// operation `operation_id` (keys below the first, so a cursor listing
    /// past them does not see them, and every page-number page shifts by
    /// `n`, as when people join during a listing). Returns `n`; never
    /// silently nothing: an error names the operation when it is not in
    /// the spec, does not page, or its key's bounds leave no room for `n`
    /// fresh keys (a cursor listing needs them below the first).
    pub fn insert_items(&self, operation_id: &str, n: usize) -> Result<usize, DataError> {
        let origin = format!("insert_items({operation_id})");
        self.served(&origin, operation_id)?
            .insert(n)
            .map_err(|problem| DataError::new(&origin, None, None, problem))
    }

    /// Removes the first `n` items of the paginated operation
    /// `operation_id` (pages shift the other way); returns how many (fewer
    /// when it holds fewer), or an error naming the operation when it is
    /// not in the spec or does not page.
    pub fn remove_items(&self, operation_id: &str, n: usize) -> Result<usize, DataError> {
        let origin = format!("remove_items({operation_id})");
        self.served(&origin, operation_id)?
            .remove(n)
            .map_err(|problem| DataError::new(&origin, None, None, problem))
    }

    fn served(&self, origin: &str, operation_id: &str) -> Result<&catalog::Served, DataError> {
        userdata::operation(origin, operation_id)?;
        self.shared
            .catalog
            .by_id(operation_id)
            .ok_or_else(|| DataError::new(origin, None, None, "is in the spec but not served"))
    }

    /// How many items the paginated operation `operation_id` holds now;
    /// `None` when it does not page or is not in the spec.
    pub fn item_count(&self, operation_id: &str) -> Option<usize> {
        self.shared.catalog.by_id(operation_id)?.items()
    }

    /// Stops accepting connections, lets answers in progress finish, and
    /// returns within a few seconds whatever the clients do.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn duration_micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
