//! A local implementation of the platform's three WeCom endpoints, for tests,
//! benchmarks, the `shiheng demo` command and other teams' integration work.
//! Owns the sandbox's configuration, its lifecycle (bind, address, graceful
//! shutdown) and the knobs tests turn while it runs (latency, failure rate
//! and kinds, data changes mid-listing). Request handling lives in `server`,
//! the accept loop and its connection limits in `accept`, the seeded data
//! in `data`, the fault decisions and counters in `faults`.
//! With [`SandboxConfig::drift`] it answers with planted differences from the
//! spec, for testing drift checkers (`shiheng check`).
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use shiheng::sandbox::{Sandbox, SandboxConfig};
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! println!("listening on {}", sandbox.url());
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

mod accept;
mod data;
mod faults;
mod server;

pub use faults::{FaultCounts, FaultKind, FaultKinds};

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use data::Tables;
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

/// Default number of connections served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Default hold-back of a slow fault: longer than any sensible test timeout,
/// short enough that a shutdown's grace covers it.
pub const DEFAULT_SLOW_FAULT_DELAY: Duration = Duration::from_secs(2);

/// What the sandbox serves and how it behaves.
#[derive(Clone)]
pub struct SandboxConfig {
    /// The one appId the sandbox accepts.
    pub app_id: String,
    /// That app's secret. A sandbox secret protects nothing; it is still
    /// never logged or echoed.
    pub app_secret: String,
    /// The API version accepted in envelopes ("1.0").
    pub api_version: String,
    /// Number of employees generated.
    pub employees: usize,
    /// Number of customers generated.
    pub customers: usize,
    /// Number of group chats generated.
    pub group_chats: usize,
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
    /// changed would: every employee gains an undeclared `nickname` field,
    /// the second employee's `status` is 9 (not a known value), the second
    /// group chat's `num` is a string, and customer envelopes lack the
    /// required `code`. Off by default: the normal data never drifts.
    pub drift: bool,
    /// How long a client has to send a request's headers, on a new or a
    /// kept-alive connection, before the connection is closed (default
    /// [`DEFAULT_HEADER_READ_TIMEOUT`]): a client sending half a request
    /// holds a connection no longer than this. Must not be zero.
    pub header_read_timeout: Duration,
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
            employees: 464,
            customers: 250,
            group_chats: 120,
            seed: 42,
            latency: Duration::ZERO,
            fail_rate: 0.0,
            faults: FaultKinds::GATEWAY,
            slow_fault_delay: DEFAULT_SLOW_FAULT_DELAY,
            timestamp_window: Duration::from_secs(300),
            drift: false,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
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
            .field("employees", &self.employees)
            .field("customers", &self.customers)
            .field("group_chats", &self.group_chats)
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

/// State shared by the handle and the request handlers.
pub(crate) struct Shared {
    pub(crate) app_id: String,
    pub(crate) app_secret: SecretString,
    pub(crate) api_version: String,
    pub(crate) seed: u64,
    pub(crate) timestamp_window: Duration,
    pub(crate) drift: bool,
    tables: Mutex<Tables>,
    pub(crate) requests: AtomicU64,
    /// Feeds trace ids and failure decisions: deterministic per sandbox.
    pub(crate) sequence: AtomicU64,
    pub(crate) faults: FaultState,
    latency_micros: AtomicU64,
}

impl Shared {
    /// The tables. A handler that panicked cannot leave them half-written
    /// (every change is one `splice`/`drain`), so a poisoned lock is still usable.
    pub(crate) fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_micros(self.latency_micros.load(Ordering::Relaxed))
    }
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
    /// Starts a sandbox on an ephemeral port of 127.0.0.1.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        Self::bind(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a sandbox on `addr`. A zero header-read timeout, idle timeout
    /// or connection limit is an `InvalidInput` error.
    pub async fn bind(config: SandboxConfig, addr: SocketAddr) -> std::io::Result<Sandbox> {
        let limits = accept::Limits {
            header_read_timeout: config.header_read_timeout,
            idle_timeout: config.idle_timeout,
            max_connections: config.max_connections,
        };
        for (name, zero) in [
            ("header_read_timeout", limits.header_read_timeout.is_zero()),
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
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let tables = Tables::generate(
            config.seed,
            config.employees,
            config.customers,
            config.group_chats,
        );
        let shared = Arc::new(Shared {
            app_id: config.app_id,
            app_secret: SecretString::from(config.app_secret),
            api_version: config.api_version,
            seed: config.seed,
            timestamp_window: config.timestamp_window,
            drift: config.drift,
            tables: Mutex::new(tables),
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

    /// Adds `n` new employees before the first one: every page-number page
    /// shifts by `n` items, as when people join during a listing.
    pub fn insert_employees(&self, n: usize) {
        self.shared.tables().insert_employees(n);
    }

    /// Removes the first `n` employees: pages shift the other way.
    pub fn remove_employees(&self, n: usize) {
        self.shared.tables().remove_employees(n);
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
