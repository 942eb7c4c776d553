//! Your own HTTP client and an interceptor that records per-operation
//! latency, against an embedded sandbox:
//!
//! ```sh
//! cargo run --example metrics
//! ```
//!
//! In a service, the interceptor would feed your metrics library instead of
//! a map, and the `reqwest::Client` would be the one the service already
//! shares (custom CA, proxy, pool settings).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt;
use shiheng::intercept::{Attempt, Interceptor, Outcome};
use shiheng::{Client, Config};
use shiheng_sandbox::{Sandbox, SandboxConfig};

/// Latencies by operation, and a correlation header on every request.
#[derive(Debug, Default)]
struct Latencies(Mutex<BTreeMap<&'static str, Vec<Duration>>>);

impl Interceptor for Latencies {
    fn before_send(&self, attempt: &Attempt<'_>, headers: &mut reqwest::header::HeaderMap) {
        let id = format!("{}-{}", attempt.operation, attempt.number);
        if let Ok(value) = id.parse() {
            headers.insert("x-correlation-id", value);
        }
    }

    fn after_answer(&self, attempt: &Attempt<'_>, outcome: &Outcome<'_>) {
        let latency = match outcome {
            Outcome::Answered { latency, .. } | Outcome::Failed { latency, .. } => *latency,
            _ => return,
        };
        if let Ok(mut map) = self.0.lock() {
            map.entry(attempt.operation).or_default().push(latency);
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start({
        let mut config = SandboxConfig::default();
        config.latency = Duration::from_millis(5);
        config
    })
    .await?;

    // The service's own HTTP client settings (pool, timeouts, user agent)
    // on top of the crate's TLS setup and redirect policy.
    let config = Config::new(sandbox.url(), "demo-app", "demo-secret");
    let http = config
        .http_client_builder()?
        .pool_max_idle_per_host(8)
        .timeout(Duration::from_secs(10))
        .user_agent("my-service/1.0")
        .build()?;
    let latencies = Arc::new(Latencies::default());
    let client = Client::new(
        config
            .with_http_client(http)
            .with_interceptor(latencies.clone()),
    )?;

    let employees: Vec<_> = client.list_wecom_employees().stream().try_collect().await?;
    let customers: Vec<_> = client
        .list_wecom_customers()
        .concurrency(4)
        .stream()
        .try_collect()
        .await?;
    println!(
        "{} employees, {} customers",
        employees.len(),
        customers.len()
    );
    let recorded = latencies.0.lock().map_err(|_| "poisoned")?.clone();
    for (operation, mut samples) in recorded {
        samples.sort();
        let median = samples[samples.len() / 2];
        println!("{operation}: {} requests, median {median:?}", samples.len());
    }
    sandbox.shutdown().await;
    Ok(())
}
