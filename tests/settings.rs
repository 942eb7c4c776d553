//! Settings that make no sense never panic: every `Config` setting and
//! every listing option, including NaN, infinite, 1e-20 and huge rates,
//! zero and `Duration::MAX` timeouts and deadlines, a zero response limit,
//! zero or absurd retry attempts and backoffs. `Client::new` refuses
//! nonsense with a `Config` error naming the setting; whatever it accepts
//! then makes a real request to a sandbox on 127.0.0.1 (and a listing with
//! the generated options) without panicking. Property-based, fixed seed.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed, TestRunner};
use shiheng::{Config, ErrorKind, RetryPolicy};
use shiheng_sandbox::{Sandbox, SandboxConfig};

const CASES: u32 = 80;
/// The longest one case may run: a valid but slow setting (one request an
/// hour) is cut short here, which is fine: only panics are looked for.
const CASE_BUDGET: Duration = Duration::from_millis(250);

fn runtime_and_sandbox() -> &'static (tokio::runtime::Runtime, Sandbox) {
    static SHARED: OnceLock<(tokio::runtime::Runtime, Sandbox)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sandbox = runtime
            .block_on(Sandbox::start(
                SandboxConfig::default().with_item_count("listWecomEmployees", 25),
            ))
            .expect("sandbox");
        (runtime, sandbox)
    })
}

#[derive(Debug, Clone)]
struct Settings {
    rate: Option<f64>,
    timeout: Duration,
    connect_timeout: Duration,
    max_response_bytes: usize,
    attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    max_total_wait: Duration,
    retry_statuses: Vec<u16>,
    redirect_hops: u32,
    api_version: String,
}

#[derive(Debug, Clone)]
struct Listing {
    page: u32,
    page_size: u32,
    concurrency: usize,
    max_pages: u32,
    max_items_per_page: usize,
    deadline: Option<Duration>,
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::from_nanos(1)),
        (1u64..2_000).prop_map(Duration::from_millis),
        (1u64..100_000).prop_map(Duration::from_secs),
        Just(Duration::from_secs(24 * 3600 + 1)),
        Just(Duration::from_secs(u64::MAX)),
        Just(Duration::MAX),
    ]
}

fn rate() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        Just(None),
        Just(Some(0.0)),
        Just(Some(-0.0)),
        Just(Some(-5.0)),
        Just(Some(1e-20)),
        Just(Some(f64::MIN_POSITIVE)),
        Just(Some(f64::NAN)),
        Just(Some(f64::INFINITY)),
        Just(Some(f64::NEG_INFINITY)),
        Just(Some(f64::MAX)),
        Just(Some(1e300)),
        Just(Some(1.0 / 3600.0)),
        (0.001f64..2e6).prop_map(Some),
    ]
}

/// Half the cases from anywhere, half from within the documented ranges
/// (edges included), so that both sides of the rule are exercised.
fn settings() -> impl Strategy<Value = Settings> {
    prop_oneof![any_settings(), sensible_settings()]
}

fn sensible_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::from_nanos(1)),
        (1u64..2_000).prop_map(Duration::from_millis),
        Just(Duration::from_secs(24 * 3600)),
    ]
}

fn sensible_settings() -> impl Strategy<Value = Settings> {
    (
        prop_oneof![
            Just(None),
            Just(Some(1.0 / 3600.0)),
            Just(Some(1e6)),
            (0.001f64..2e5).prop_map(Some)
        ],
        (sensible_duration(), sensible_duration()),
        prop_oneof![Just(1usize), Just(16 << 20), Just(usize::MAX)],
        prop_oneof![1u32..8, Just(100)],
        (
            0u64..1_000,
            0u64..1_000,
            sensible_duration(),
            sensible_duration(),
        ),
        prop_oneof![
            Just(vec![429u16, 502, 503, 504]),
            Just(vec![]),
            Just(vec![400u16, 599])
        ],
        0u32..=10,
    )
        .prop_map(
            |(
                rate,
                (timeout, connect_timeout),
                max_response_bytes,
                attempts,
                (a, b, max_retry_after, max_total_wait),
                retry_statuses,
                redirect_hops,
            )| Settings {
                rate,
                timeout,
                connect_timeout,
                max_response_bytes,
                attempts,
                initial_backoff: Duration::from_millis(a.min(b)),
                max_backoff: Duration::from_millis(a.max(b)),
                max_retry_after,
                max_total_wait,
                retry_statuses,
                redirect_hops,
                api_version: "1.0".to_string(),
            },
        )
}

fn any_settings() -> impl Strategy<Value = Settings> {
    (
        (rate(), duration(), duration()),
        prop_oneof![Just(0usize), Just(1), Just(16 << 20), Just(usize::MAX)],
        prop_oneof![Just(0u32), 1u32..8, Just(100), Just(101), Just(u32::MAX)],
        (duration(), duration(), duration(), duration()),
        prop_oneof![
            Just(vec![429u16, 502, 503, 504]),
            Just(vec![]),
            Just(vec![200u16]),
            Just(vec![0u16, 65535]),
            prop::collection::vec(any::<u16>(), 0..4),
        ],
        prop_oneof![0u32..12, Just(u32::MAX)],
        prop_oneof![
            Just("1.0".to_string()),
            Just(String::new()),
            Just(" ".to_string())
        ],
    )
        .prop_map(
            |(
                (rate, timeout, connect_timeout),
                max_response_bytes,
                attempts,
                (initial_backoff, max_backoff, max_retry_after, max_total_wait),
                retry_statuses,
                redirect_hops,
                api_version,
            )| Settings {
                rate,
                timeout,
                connect_timeout,
                max_response_bytes,
                attempts,
                initial_backoff,
                max_backoff,
                max_retry_after,
                max_total_wait,
                retry_statuses,
                redirect_hops,
                api_version,
            },
        )
}

fn listing() -> impl Strategy<Value = Listing> {
    (
        prop_oneof![Just(0u32), 1u32..5, Just(u32::MAX)],
        prop_oneof![Just(0u32), 1u32..60, Just(u32::MAX)],
        prop_oneof![Just(0usize), 1usize..8, Just(usize::MAX)],
        prop_oneof![Just(0u32), 1u32..5, Just(u32::MAX)],
        prop_oneof![Just(0usize), 1usize..20, Just(usize::MAX)],
        prop_oneof![Just(None), duration().prop_map(Some)],
    )
        .prop_map(
            |(page, page_size, concurrency, max_pages, max_items_per_page, deadline)| Listing {
                page,
                page_size,
                concurrency,
                max_pages,
                max_items_per_page,
                deadline,
            },
        )
}

/// The setting an independent reading of the documented rules says is
/// nonsense, as the word the error must contain; `None` when all are fine.
fn nonsense(s: &Settings) -> Option<&'static str> {
    let day = Duration::from_secs(24 * 3600);
    if s.api_version.trim().is_empty() {
        return Some("API version");
    }
    if s.timeout.is_zero() {
        return Some("request timeout");
    }
    if s.connect_timeout.is_zero() {
        return Some("connect timeout");
    }
    if s.max_response_bytes == 0 {
        return Some("response limit");
    }
    if let Some(rate) = s.rate
        && !(rate.is_finite() && (1.0 / 3600.0..=1e6).contains(&rate))
    {
        return Some("rate limit");
    }
    if s.attempts == 0 || s.attempts > 100 {
        return Some("max_attempts");
    }
    for (name, value) in [
        ("initial_backoff", s.initial_backoff),
        ("max_backoff", s.max_backoff),
        ("max_retry_after", s.max_retry_after),
        ("max_total_wait", s.max_total_wait),
    ] {
        if value > day {
            return Some(name);
        }
    }
    if s.initial_backoff > s.max_backoff {
        return Some("initial_backoff");
    }
    if s.retry_statuses.iter().any(|c| !(400..=599).contains(c)) {
        return Some("is not an error status");
    }
    if s.redirect_hops > 10 {
        return Some("redirects");
    }
    None
}

fn build(url: &str, s: &Settings) -> Config {
    let mut config = Config::new(url, "demo-app", "demo-secret")
        .with_api_version(s.api_version.clone())
        .with_timeout(s.timeout)
        .with_connect_timeout(s.connect_timeout)
        .with_max_response_bytes(s.max_response_bytes)
        .with_same_origin_redirects(s.redirect_hops)
        .with_retry({
            // Fields set directly, not through the builders (which clamp):
            // the test feeds nonsense on purpose.
            let mut policy = RetryPolicy::default().with_retry_statuses(s.retry_statuses.clone());
            policy.max_attempts = s.attempts;
            policy.initial_backoff = s.initial_backoff;
            policy.max_backoff = s.max_backoff;
            policy.max_retry_after = s.max_retry_after;
            policy.max_total_wait = s.max_total_wait;
            policy
        });
    if let Some(rate) = s.rate {
        config = config.with_rate_limit(rate);
    }
    config
}

#[test]
fn no_setting_panics_and_nonsense_is_a_config_error() {
    let (runtime, sandbox) = runtime_and_sandbox();
    let mut runner = TestRunner::new(ProptestConfig {
        cases: CASES,
        rng_seed: RngSeed::Fixed(0x5E77_1265),
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let accepted = AtomicUsize::new(0);
    let refused = AtomicUsize::new(0);
    let cut_short = AtomicUsize::new(0);
    runner
        .run(&(settings(), listing()), |(s, l)| {
            let config = build(&sandbox.url(), &s);
            match (shiheng::Client::new(config), nonsense(&s)) {
                (Err(e), Some(word)) => {
                    prop_assert_eq!(e.kind(), ErrorKind::Config);
                    let text = e.to_string();
                    prop_assert!(text.contains(word), "{} should name {}", text, word);
                    prop_assert!(!text.contains('\n'));
                    refused.fetch_add(1, Ordering::Relaxed);
                }
                (Err(e), None) => prop_assert!(false, "refused sensible settings: {}", e),
                (Ok(_), Some(word)) => prop_assert!(false, "accepted nonsense: {}", word),
                (Ok(client), None) => {
                    accepted.fetch_add(1, Ordering::Relaxed);
                    runtime.block_on(async {
                        let exercise = async {
                            let _ = client.list_wecom_employees().page_size(5).send().await;
                            // A valid slow rate would spend the budget waiting for
                            // the second request's slot; the first was the test.
                            if s.rate.is_some_and(|r| r < 100.0) {
                                return;
                            }
                            let mut request = client
                                .list_wecom_employees()
                                .page(l.page)
                                .page_size(l.page_size)
                                .concurrency(l.concurrency)
                                .max_pages(l.max_pages)
                                .max_items_per_page(l.max_items_per_page);
                            if let Some(deadline) = l.deadline {
                                request = request.deadline(deadline);
                            }
                            let mut items = request.stream();
                            for _ in 0..30 {
                                if items.next().await.is_none() {
                                    break;
                                }
                            }
                        };
                        // Only a panic fails the case; a slow setting is cut short.
                        if tokio::time::timeout(CASE_BUDGET, exercise).await.is_err() {
                            cut_short.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                }
            }
            Ok(())
        })
        .unwrap();
    // Both sides of the rule were exercised.
    let (accepted, refused) = (accepted.into_inner(), refused.into_inner());
    eprintln!(
        "{accepted} accepted, {refused} refused, {} cut short",
        cut_short.into_inner()
    );
    assert!(
        accepted >= 10 && refused >= 10,
        "{accepted} accepted, {refused} refused"
    );
}

#[test]
fn the_documented_examples_of_nonsense_are_refused() {
    let (_, sandbox) = runtime_and_sandbox();
    let base = || Config::new(sandbox.url(), "demo-app", "demo-secret");
    for (config, word) in [
        (base().with_rate_limit(0.0), "rate limit"),
        (base().with_rate_limit(1e-20), "rate limit"),
        (base().with_rate_limit(f64::NAN), "rate limit"),
        (base().with_rate_limit(f64::INFINITY), "rate limit"),
        (base().with_rate_limit(-1.0), "rate limit"),
        (base().with_timeout(Duration::ZERO), "request timeout"),
        (
            base().with_connect_timeout(Duration::ZERO),
            "connect timeout",
        ),
        (base().with_max_response_bytes(0), "response limit"),
        (
            base().with_retry({
                let mut policy = RetryPolicy::default();
                policy.max_attempts = 0;
                policy
            }),
            "max_attempts",
        ),
        (
            base().with_retry(RetryPolicy::default().with_max_total_wait(Duration::MAX)),
            "max_total_wait",
        ),
        (base().with_same_origin_redirects(11), "redirects"),
    ] {
        let e = shiheng::Client::new(config).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.to_string().contains(word), "{e}");
    }
}

#[test]
fn a_deadline_of_duration_max_never_fires_and_never_panics() {
    let (runtime, sandbox) = runtime_and_sandbox();
    let client = shiheng::Client::new(Config::new(sandbox.url(), "demo-app", "demo-secret"))
        .expect("client");
    let items: Vec<_> = runtime.block_on(
        client
            .list_wecom_employees()
            .page_size(10)
            .deadline(Duration::MAX)
            .stream()
            .collect(),
    );
    assert_eq!(items.len(), 25);
    assert!(items.iter().all(Result::is_ok));
}
