//! What a fresh HTTPS connection costs the client on each rustls provider:
//! `shiheng::Client` calls a local rustls server (tests/tls_server/, always on
//! ring, so only the client side changes) that closes every connection, so
//! each call is TCP connect + TLS handshake + one signed request. The same
//! calls over plain HTTP, interleaved with them, give the baseline; the
//! difference is the TLS part. Also times the process's first HTTPS call
//! (a provider's one-time set-up) and `Client::new` (it loads the system's
//! trust store). The provider is the one the features chose:
//!
//! ```text
//! cargo bench --bench tls_handshake                                            # ring
//! cargo bench --bench tls_handshake --no-default-features --features tls-aws-lc
//! ```
//!
//! `TLS_BENCH_CALLS` sets the number of calls per scheme (default 400).

#[path = "../tests/tls_server/mod.rs"]
mod tls_server;

use std::time::{Duration, Instant};

use shiheng::{Client, Config, RetryPolicy};
use tls_server::{CA_PEM, Server, server_config};

const BODY: &str = r#"{"code":"0","msg":null,"traceId":"t-bench","result":{"pages":1,"total":1,"result":[{"id":1,"name":"员工1","status":1}]}}"#;
const WARM_UP: usize = 20;
const CLIENT_BUILDS: usize = 30;

fn provider() -> &'static str {
    if cfg!(feature = "tls-aws-lc") {
        "aws-lc-rs"
    } else {
        "ring"
    }
}

fn client(url: &str) -> Client {
    let config = Config::new(url, "bench-app", "bench-secret")
        .with_root_certificate(CA_PEM)
        .with_retry(RetryPolicy::disabled());
    Client::new(config).expect("a valid configuration")
}

async fn call(client: &Client) -> Duration {
    let started = Instant::now();
    let reply = client
        .call_raw("listWecomEmployees", "/wecom/employee/page", None)
        .await
        .expect("the local server answers");
    let elapsed = started.elapsed();
    assert_eq!(reply.status, 200);
    elapsed
}

/// The value at `fraction` (0.5 = median) of sorted `times`, in microseconds.
fn quantile(times: &mut [Duration], fraction: f64) -> f64 {
    times.sort();
    let at = ((times.len() - 1) as f64 * fraction).round() as usize;
    times[at].as_secs_f64() * 1e6
}

fn main() {
    let calls: usize = std::env::var("TLS_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400)
        .clamp(10, 100_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let https = Server::https(server_config(), BODY).await;
        let http = Server::http(BODY).await;
        let (tls_client, plain_client) = (client(&https.url()), client(&http.url()));

        let mut builds: Vec<Duration> = (0..CLIENT_BUILDS)
            .map(|_| {
                let started = Instant::now();
                std::hint::black_box(client(&https.url()));
                started.elapsed()
            })
            .collect();

        // The process's first handshake: a provider's one-time set-up
        // (aws-lc-rs seeds its random generator from CPU jitter) lands here,
        // once per process — once per CLI command.
        let first_tls = call(&tls_client).await;
        let first_plain = call(&plain_client).await;
        for _ in 1..WARM_UP {
            call(&tls_client).await;
            call(&plain_client).await;
        }
        let (mut tls_times, mut plain_times) = (Vec::new(), Vec::new());
        for _ in 0..calls {
            tls_times.push(call(&tls_client).await);
            plain_times.push(call(&plain_client).await);
        }
        // Connection: close on every answer: one connection, one handshake, per call.
        assert_eq!(https.answered(), WARM_UP + calls);
        assert_eq!(http.answered(), WARM_UP + calls);

        let tls_median = quantile(&mut tls_times, 0.5);
        let plain_median = quantile(&mut plain_times, 0.5);
        println!("provider: {} ({calls} calls per scheme)", provider());
        println!(
            "  https call (connect + handshake + request): median {tls_median:.0} us, p10 {:.0} us, p90 {:.0} us",
            quantile(&mut tls_times, 0.1),
            quantile(&mut tls_times, 0.9)
        );
        println!(
            "  http call (connect + request):              median {plain_median:.0} us, p10 {:.0} us, p90 {:.0} us",
            quantile(&mut plain_times, 0.1),
            quantile(&mut plain_times, 0.9)
        );
        println!(
            "  TLS share (median https - median http):     {:.0} us",
            tls_median - plain_median
        );
        println!(
            "  first https call of the process:            {:.0} us (first http call {:.0} us)",
            first_tls.as_secs_f64() * 1e6,
            first_plain.as_secs_f64() * 1e6
        );
        println!(
            "  Client::new (loads the system trust store): median {:.0} us over {CLIENT_BUILDS}",
            quantile(&mut builds, 0.5)
        );
    });
}
