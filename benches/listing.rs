//! The client's performance against the baselines a user would otherwise
//! use, measured side by side in one run against the sandbox on loopback.
//! A bench binary with its own statistics (medians over repeated runs), not
//! a timed test:
//!
//! ```sh
//! cargo bench --bench listing            # everything
//! cargo bench --bench listing -- overhead # one part: overhead, listing, scale, cpu, sandbox
//! ```
//!
//! The sandbox runs in a child process (this same binary, `--sandbox-child`)
//! so its memory and allocations never count as the client's; the scale runs
//! list in child processes of their own (`--list-child`), so each peak RSS
//! (VmHWM) is that listing's alone. Figures go to docs/benchmarks.md.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use shiheng::{Client, Config, RetryPolicy};
use shiheng_sandbox::{Sandbox, SandboxConfig};

const APP_ID: &str = "bench-app";
const SECRET: &str = "bench-secret";

fn main() {
    // The raw baselines use plain reqwest clients, which need a process-wide
    // rustls provider when reqwest has none of its own (the `tls-ring` default).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--sandbox-child") => return sandbox_child(&args[1..]),
        Some("--list-child") => return list_child(&args[1..]),
        _ => {}
    }
    // `cargo bench` passes `--bench`; anything else selects parts.
    let parts: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wants = |part: &str| parts.is_empty() || parts.contains(&part);
    println!("# shiheng benchmarks ({})", machine());
    if wants("cpu") {
        cpu();
    }
    if wants("overhead") {
        overhead();
    }
    if wants("listing") {
        listing();
    }
    if wants("cursor") {
        cursor();
    }
    if wants("scale") {
        scale();
    }
    if wants("sandbox") {
        sandbox_cpu();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn client(url: &str, retry: RetryPolicy) -> Client {
    Client::new(Config::new(url, APP_ID, SECRET).with_retry(retry)).expect("a client")
}

/// A sandbox in a child process; killed when dropped.
struct ChildSandbox {
    child: Child,
    url: String,
}

impl ChildSandbox {
    fn start(employees: usize, latency_ms: u64) -> Self {
        Self::start_with(employees, 10, latency_ms)
    }

    fn start_with(employees: usize, customers: usize, latency_ms: u64) -> Self {
        let mut child = Command::new(std::env::current_exe().expect("own path"))
            .args([
                "--sandbox-child",
                &employees.to_string(),
                &latency_ms.to_string(),
                &customers.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the sandbox child");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("the sandbox's URL");
        Self {
            child,
            url: line.trim().to_string(),
        }
    }
}

impl Drop for ChildSandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves until stdin closes (the parent exits or kills it).
fn sandbox_child(args: &[String]) {
    let employees: usize = args[0].parse().expect("employees");
    let latency_ms: u64 = args[1].parse().expect("latency");
    let customers: usize = args.get(2).map_or(10, |c| c.parse().expect("customers"));
    runtime().block_on(async move {
        let sandbox = Sandbox::start(
            {
                let mut config = SandboxConfig::default();
                config.app_id = APP_ID.into();
                config.app_secret = SECRET.into();
                config.latency = Duration::from_millis(latency_ms);
                // The hand-built baseline reuses one signed body for the whole run.
                config.timestamp_window = Duration::from_secs(24 * 3600);
                config
            }
            .with_item_count("listWecomEmployees", employees)
            .with_item_count("listWecomCustomers", customers)
            .with_item_count("listWecomGroupChats", 10),
        )
        .await
        .expect("sandbox");
        println!("{}", sandbox.url());
        std::io::stdout().flush().ok();
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            let _ = std::io::stdin().read_line(&mut sink);
        })
        .await;
        sandbox.shutdown().await;
    });
}

/// Lists every employee and prints `items seconds vmhwm_kib`.
fn list_child(args: &[String]) {
    let url = &args[0];
    let concurrency: usize = args[1].parse().expect("concurrency");
    let rt = runtime();
    let (items, elapsed) = rt.block_on(async {
        let client = client(url, RetryPolicy::disabled());
        let started = Instant::now();
        let mut stream = client
            .list_wecom_employees()
            .page_size(50)
            .concurrency(concurrency)
            .stream();
        let mut items = 0u64;
        while let Some(item) = stream.next().await {
            item.expect("listing");
            items += 1;
        }
        (items, started.elapsed())
    });
    println!("{items} {} {}", elapsed.as_secs_f64(), vm_hwm_kib());
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn percentile(mut xs: Vec<f64>, p: f64) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[((xs.len() as f64 - 1.0) * p).round() as usize]
}

/// Per-call CPU cost of the client's own work: signing and decoding.
fn cpu() {
    use shiheng::sign::{Md5Signer, SignInput, Signer};
    println!("\n## CPU cost per call (no network)\n");
    println!("| step | ns per call |\n|---|---|");
    let secret = secrecy::SecretString::from(SECRET);
    let params = serde_json::json!({"pageNum": 7, "pageSize": 50});
    let input = SignInput {
        app_id: APP_ID,
        timestamp: 1_700_000_000_000,
        version: "1.0",
        param_content: Some(&params),
    };
    let signer = Md5Signer::new();
    let ns = time_per_op(200_000, || {
        let _ = std::hint::black_box(signer.sign(std::hint::black_box(&input), &secret));
    });
    println!("| sign (canonical JSON + MD5) | {ns:.0} |");

    let middleware = shiheng::transport::Transport::new(
        &Config::new("http://127.0.0.1:1", APP_ID, SECRET),
        |_| None,
    );
    let body = br#"{"paramContent":{"pageNum":7,"pageSize":50}}"#;
    let ns = time_per_op(200_000, || {
        std::hint::black_box(
            middleware
                .sign_body(std::hint::black_box(body))
                .expect("signs"),
        );
    });
    println!("| sign the request body (parse, fill envelope, sign, serialize) | {ns:.0} |");

    let page = page_body(50);
    let ns = time_per_op(20_000, || {
        let envelope: shiheng::types::ListWecomEmployeesResponse =
            serde_json::from_slice(std::hint::black_box(&page)).expect("decodes");
        std::hint::black_box(envelope);
    });
    println!(
        "| decode a 50-employee page ({} bytes) into the generated types | {ns:.0} |",
        page.len()
    );
    decoding_rule(&page);
}

/// What the tolerant decoding costs: the same 50-employee page decoded the
/// way the client decodes it now (each item on its own from a raw slice, by
/// the rule, unknown fields kept) and the way it did before (typify's strict
/// serde derive over the whole page, with the hand-written lenient types for
/// the four known quirks). Side by side, medians of 21 alternating rounds.
fn decoding_rule(page: &[u8]) {
    use serde_json::value::RawValue;

    #[derive(serde::Deserialize)]
    struct RawEnvelope<'a> {
        #[serde(borrow)]
        result: Option<RawPage<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct StrictEnvelope {
        result: Option<StrictPage>,
    }
    #[derive(serde::Deserialize)]
    struct RawPage<'a> {
        #[serde(borrow)]
        result: Vec<&'a RawValue>,
    }
    #[derive(serde::Deserialize)]
    struct StrictPage {
        #[allow(dead_code)]
        pages: Option<i64>,
        result: Option<Vec<baseline::Employee>>,
    }

    let items = |page: &[u8]| -> usize {
        let envelope: RawEnvelope<'_> = serde_json::from_slice(page).expect("decodes");
        let raw = envelope.result.expect("a result").result;
        let decoded: Vec<shiheng::types::Employee> = raw
            .iter()
            .map(|item| serde_json::from_str(item.get()).expect("an employee"))
            .collect();
        decoded.len()
    };
    let strict = |page: &[u8]| -> usize {
        let envelope: StrictEnvelope = serde_json::from_slice(page).expect("decodes");
        envelope
            .result
            .expect("a result")
            .result
            .map_or(0, |r| r.len())
    };
    assert_eq!(items(page), strict(page));
    // Many short alternating rounds: on a shared machine, load that comes
    // and goes then falls on both sides alike.
    let (mut new, mut old) = (Vec::new(), Vec::new());
    for _ in 0..21 {
        new.push(time_per_op(2_000, || {
            std::hint::black_box(items(std::hint::black_box(page)));
        }));
        old.push(time_per_op(2_000, || {
            std::hint::black_box(strict(std::hint::black_box(page)));
        }));
    }
    let (new, old) = (median(new), median(old));
    println!(
        "| decode the same page: items one by one by the tolerant rule (now) | {new:.0} |\n\
         | decode the same page: strict derive over the whole page (before) | {old:.0} |\n\
         | tolerant decoding's cost per item over strict | {:+.1} % |",
        (new / old - 1.0) * 100.0
    );
}

/// The generated employee as it was before the tolerant rule: typify's
/// serde derive with the hand-written lenient types of the time, for the
/// decoding comparison.
mod baseline {
    use serde::de::{self, Deserializer, Visitor};
    use std::fmt;

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    pub struct Employee {
        pub id: Option<i64>,
        pub we_com_user_id: Option<String>,
        pub status: Option<shiheng::lenient::EmployeeStatus>,
        pub name: Option<String>,
        pub corp_id: Option<String>,
        pub follow_user_flag: Option<Flag>,
        pub user_id: Option<String>,
        pub gender: Option<String>,
        pub avatar_url: Option<String>,
        pub qr_code_url: Option<String>,
        pub mobile_number: Option<String>,
        pub email_address: Option<String>,
        pub business_email: Option<String>,
        pub address: Option<String>,
        pub phone: Option<Phone>,
    }

    #[allow(dead_code)]
    pub struct Flag(bool);

    impl<'de> serde::Deserialize<'de> for Flag {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Flag;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a flag")
                }
                fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                    Ok(Flag(v))
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Flag, E> {
                    Ok(Flag(v == 1))
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<Flag, E> {
                    Ok(Flag(v == 1))
                }
            }
            d.deserialize_any(V)
        }
    }

    #[allow(dead_code)]
    pub struct Phone(String);

    impl<'de> serde::Deserialize<'de> for Phone {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = Phone;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a phone")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Phone, E> {
                    Ok(Phone(v.to_owned()))
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<Phone, E> {
                    Ok(Phone(v.to_string()))
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<Phone, E> {
                    Ok(Phone(v.to_string()))
                }
            }
            d.deserialize_any(V)
        }
    }
}

fn time_per_op(iterations: u32, mut op: impl FnMut()) -> f64 {
    for _ in 0..iterations / 10 {
        op();
    }
    let runs: Vec<f64> = (0..5)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..iterations {
                op();
            }
            started.elapsed().as_nanos() as f64 / f64::from(iterations)
        })
        .collect();
    median(runs)
}

/// A 50-employee page as the sandbox serves it.
fn page_body(n: usize) -> Vec<u8> {
    let rt = runtime();
    rt.block_on(async {
        let sandbox = Sandbox::start(
            {
                let mut config = SandboxConfig::default();
                config.app_id = APP_ID.into();
                config.app_secret = SECRET.into();
                config
            }
            .with_item_count("listWecomEmployees", n),
        )
        .await
        .expect("sandbox");
        let body = raw_call(&reqwest::Client::new(), &sandbox.url(), &signed_body(1)).await;
        sandbox.shutdown().await;
        assert!(
            body.starts_with(br#"{"code":"0""#),
            "{}",
            String::from_utf8_lossy(&body)
        );
        body
    })
}

/// A signed request body for page `page`, built once.
fn signed_body(page: u32) -> Vec<u8> {
    let middleware = shiheng::transport::Transport::new(
        &Config::new("http://127.0.0.1:1", APP_ID, SECRET),
        |_| None,
    );
    let unsigned = serde_json::json!({"paramContent": {"pageNum": page, "pageSize": 50}});
    middleware
        .sign_body(unsigned.to_string().as_bytes())
        .expect("signs")
        .0
}

async fn raw_call(http: &reqwest::Client, url: &str, body: &[u8]) -> Vec<u8> {
    http.post(format!("{url}/wecom/employee/page"))
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .expect("sent")
        .bytes()
        .await
        .expect("read")
        .to_vec()
}

/// One signed call of a 50-item page through the client vs the same request
/// built by hand with reqwest + serde_json, interleaved, zero latency.
fn overhead() {
    println!("\n## Per-request overhead (50-item page, zero injected latency)\n");
    let sandbox = ChildSandbox::start(1_000, 0);
    let rt = runtime();
    let (ours, hand) = rt.block_on(async {
        let client = client(&sandbox.url, RetryPolicy::disabled());
        let http = reqwest::Client::new();
        let body = signed_body(3);
        let mut ours = Vec::new();
        let mut hand = Vec::new();
        for i in 0..3_000 {
            let started = Instant::now();
            let page = client
                .list_wecom_employees()
                .page(3)
                .page_size(50)
                .send()
                .await
                .expect("client call");
            std::hint::black_box(page);
            let a = started.elapsed().as_secs_f64() * 1e6;
            let started = Instant::now();
            let bytes = raw_call(&http, &sandbox.url, &body).await;
            let envelope: shiheng::types::ListWecomEmployeesResponse =
                serde_json::from_slice(&bytes).expect("decodes");
            assert_eq!(envelope.code.as_deref(), Some("0"));
            std::hint::black_box(envelope);
            let b = started.elapsed().as_secs_f64() * 1e6;
            if i >= 300 {
                ours.push(a);
                hand.push(b);
            }
        }
        (ours, hand)
    });
    println!("| variant | median µs | p95 µs |\n|---|---|---|");
    println!(
        "| hand-built reqwest + serde_json (pre-signed body) | {:.1} | {:.1} |",
        median(hand.clone()),
        percentile(hand.clone(), 0.95)
    );
    println!(
        "| shiheng client (signed per call, hooks, error mapping) | {:.1} | {:.1} |",
        median(ours.clone()),
        percentile(ours.clone(), 0.95)
    );
    println!(
        "\nratio (client / hand-built), medians: **{:.3}** (2,700 calls each, interleaved, after 300 warm-up calls)",
        median(ours) / median(hand)
    );
}

/// 10,000 employees (200 pages of 50) with 20 ms injected latency.
/// Counts the requests a client sends (retries included).
#[derive(Debug, Default)]
struct Requests(std::sync::atomic::AtomicU64);

impl shiheng::Interceptor for Requests {
    fn before_send(&self, _: &shiheng::intercept::Attempt<'_>, _: &mut reqwest::header::HeaderMap) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A cursor listing: the sequential scan against the partitioned one, side
/// by side on the same sandbox, with the requests each took and whether the
/// ids and their order are identical.
fn cursor() {
    const TOTAL: usize = 20_000;
    const LATENCY_MS: u64 = 20;
    println!(
        "\n## Cursor listing: {TOTAL} customers, pages of 100, {LATENCY_MS} ms injected latency\n"
    );
    let sandbox = ChildSandbox::start_with(10, TOTAL, LATENCY_MS);
    let rt = runtime();
    let list = |concurrency: usize| -> (f64, u64, Vec<i64>) {
        let requests = std::sync::Arc::new(Requests::default());
        let client = Client::new(
            Config::new(&sandbox.url, APP_ID, SECRET).with_interceptor(requests.clone()),
        )
        .expect("a client");
        let started = Instant::now();
        let ids = rt.block_on(async {
            let mut items = client
                .list_wecom_customers()
                .concurrency(concurrency)
                .stream();
            let mut ids = Vec::with_capacity(TOTAL + 1);
            while let Some(item) = items.next().await {
                ids.push(item.expect("an item").id.expect("an id"));
            }
            ids
        });
        let took = started.elapsed().as_secs_f64();
        (
            took,
            requests.0.load(std::sync::atomic::Ordering::Relaxed),
            ids,
        )
    };
    let runs = 3;
    let mut rows = Vec::new();
    let mut reference: Option<(f64, u64, Vec<i64>)> = None;
    for concurrency in [1usize, 8, 16] {
        let mut times = Vec::new();
        let mut last = (0, Vec::new());
        for _ in 0..runs {
            let (t, requests, ids) = list(concurrency);
            times.push(t);
            last = (requests, ids);
        }
        let t = median(times);
        let (requests, ids) = last;
        if reference.is_none() {
            reference = Some((t, requests, ids.clone()));
        }
        let (t1, r1, ids1) = reference.as_ref().expect("the sequential run");
        rows.push(format!(
            "| concurrency {concurrency}{} | {t:.3} | {requests} | {:.2}× | {:.2}× | {} |",
            if concurrency == 1 {
                " (sequential)"
            } else {
                " (partitioned)"
            },
            t1 / t,
            requests as f64 / *r1 as f64,
            if &ids == ids1 { "yes" } else { "**no**" }
        ));
    }
    println!(
        "| variant | median s | requests | speed-up | requests vs sequential | same ids, same order |"
    );
    println!("|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    println!("\nmedian of {runs} runs each; sequential floor = 200 × L = 4.0 s.");
}

fn listing() {
    const TOTAL: usize = 10_000;
    const LATENCY_MS: u64 = 20;
    const PAGES: u64 = 200;
    println!(
        "\n## Full listing: {TOTAL} employees, {PAGES} pages of 50, {LATENCY_MS} ms injected latency\n"
    );
    let sandbox = ChildSandbox::start(TOTAL, LATENCY_MS);
    let rt = runtime();
    let floor = |c: u64| LATENCY_MS as f64 / 1e3 * (1 + (PAGES - 1).div_ceil(c)) as f64;
    let runs = 3;
    let mut rows: Vec<(String, f64, f64)> = Vec::new();
    let naive = median(
        (0..runs)
            .map(|_| rt.block_on(naive_loop(&sandbox.url, TOTAL)))
            .collect(),
    );
    rows.push(("naive sequential loop of `.send()`".into(), naive, floor(1)));
    let mut by_concurrency = Vec::new();
    for c in [1usize, 4, 8, 16] {
        let t = median(
            (0..runs)
                .map(|_| rt.block_on(stream_all(&sandbox.url, c, TOTAL)))
                .collect(),
        );
        by_concurrency.push((c, t));
        let label = if c == shiheng::paginate::DEFAULT_CONCURRENCY {
            format!("client `.stream()`, concurrency {c} (default)")
        } else {
            format!("client `.stream()`, concurrency {c}")
        };
        rows.push((label, t, floor(c as u64)));
    }
    // What one request really takes at this injected latency (the timer's
    // rounding and the sandbox's own work included): the naive loop makes
    // exactly one request per page, one after the other.
    let measured_latency = naive / PAGES as f64;
    let rounds = |floor_s: f64| floor_s / (LATENCY_MS as f64 / 1e3);
    println!(
        "| variant | median s | floor s | ratio to floor | ratio to floor at the measured {:.1} ms per request | speed-up vs concurrency 1 |",
        measured_latency * 1e3
    );
    println!("|---|---|---|---|---|---|");
    let c1 = by_concurrency[0].1;
    for (label, t, f) in &rows {
        println!(
            "| {label} | {t:.3} | {f:.3} | {:.2} | {:.2} | {:.2}× |",
            t / f,
            t / (rounds(*f) * measured_latency),
            c1 / t
        );
    }
    let c8 = by_concurrency[2].1;
    println!(
        "\nconcurrency 8 vs the naive loop: **{:.1}× faster**; floor = L × (1 + ceil((pages − 1) / concurrency)); median of {runs} runs each.",
        naive / c8
    );
}

async fn naive_loop(url: &str, total: usize) -> f64 {
    let client = client(url, RetryPolicy::disabled());
    let started = Instant::now();
    let mut items = 0;
    let mut page = 1;
    loop {
        let result = client
            .list_wecom_employees()
            .page(page)
            .page_size(50)
            .send()
            .await
            .expect("page");
        let n = result.result.map_or(0, |r| r.len());
        items += n;
        if n < 50 || i64::from(page) >= result.pages.unwrap_or(0) {
            break;
        }
        page += 1;
    }
    assert_eq!(items, total);
    started.elapsed().as_secs_f64()
}

async fn stream_all(url: &str, concurrency: usize, total: usize) -> f64 {
    let client = client(url, RetryPolicy::disabled());
    let started = Instant::now();
    let mut stream = client
        .list_wecom_employees()
        .page_size(50)
        .concurrency(concurrency)
        .stream();
    let mut items = 0;
    while let Some(item) = stream.next().await {
        item.expect("item");
        items += 1;
    }
    assert_eq!(items, total);
    started.elapsed().as_secs_f64()
}

/// 100,000 and 1,000,000 employees at zero latency, each listed by a child
/// process that reports its own peak RSS.
fn scale() {
    println!("\n## Scale: zero injected latency, page size 50, default concurrency\n");
    println!("| employees | seconds | items per second | peak RSS of the listing process |");
    println!("|---|---|---|---|");
    for total in [100_000usize, 1_000_000] {
        let sandbox = ChildSandbox::start(total, 0);
        let out = Command::new(std::env::current_exe().expect("own path"))
            .args([
                "--list-child",
                &sandbox.url,
                &shiheng::paginate::DEFAULT_CONCURRENCY.to_string(),
            ])
            .output()
            .expect("list child");
        let text = String::from_utf8_lossy(&out.stdout);
        let fields: Vec<f64> = text
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        assert_eq!(fields.len(), 3, "list child said: {text}");
        assert_eq!(fields[0] as usize, total);
        println!(
            "| {total} | {:.2} | {:.0} | {:.1} MiB |",
            fields[1],
            fields[0] / fields[1],
            fields[2] / 1024.0
        );
    }
}

/// The CPU time a process has used so far, in seconds: the sum of its
/// threads' run time in nanoseconds (`/proc/<pid>/task/*/schedstat`), or,
/// where that is not available, its user + system time in 10 ms clock ticks
/// (`/proc/<pid>/stat`). The sandbox's threads (tokio's workers) live as
/// long as it does, so no time leaves with an exited thread.
fn cpu_seconds(pid: u32) -> f64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
                .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
                .sum::<u64>()
        })
        .unwrap_or(0);
    if tasks > 0 {
        return tasks as f64 / 1e9;
    }
    const TICKS_PER_SECOND: f64 = 100.0;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are the 14th and 15th fields of the line, the 12th
    // and 13th after the command name.
    (ticks(11) + ticks(12)) / TICKS_PER_SECOND
}

/// The sandbox's own CPU per item served: a sandbox child with 200,000
/// employees listed in full five times by the client (page size 50,
/// default concurrency, zero latency); the child's CPU time over each
/// listing, divided by the items.
fn sandbox_cpu() {
    const TOTAL: usize = 200_000;
    const RUNS: usize = 5;
    println!(
        "\n## Sandbox CPU per item served ({TOTAL} employees, pages of 50, {RUNS} listings)\n"
    );
    let sandbox = ChildSandbox::start(TOTAL, 0);
    let pid = sandbox.child.id();
    let rt = runtime();
    let per_item: Vec<f64> = (0..RUNS)
        .map(|_| {
            let before = cpu_seconds(pid);
            rt.block_on(stream_all(
                &sandbox.url,
                shiheng::paginate::DEFAULT_CONCURRENCY,
                TOTAL,
            ));
            (cpu_seconds(pid) - before) / TOTAL as f64 * 1e6
        })
        .collect();
    let min = per_item.iter().copied().fold(f64::INFINITY, f64::min);
    let max = per_item.iter().copied().fold(0.0, f64::max);
    println!("| sandbox CPU per item served | median µs | range µs |\n|---|---|---|");
    println!(
        "| CPU time of the sandbox process (its threads' run time) | {:.2} | {min:.2}–{max:.2} |",
        median(per_item)
    );
}
