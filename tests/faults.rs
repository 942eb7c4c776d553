//! Fault injection end to end: the sandbox fails a share of requests (503
//! gateway pages, dropped connections, answers slower than the client's
//! timeout) and the real client, with retries, must still list every id
//! exactly once; with every request failing it must end with the last error
//! after the configured attempts, in bounded time, and never report success.
//! Each test prints what it injected and what it counted (`--nocapture`).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures::StreamExt;
use shiheng::{Client, Config, ErrorKind, RetryPolicy};
use shiheng_sandbox::{FaultCounts, FaultKind, FaultKinds, Sandbox, SandboxConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const EMPLOYEES: usize = 10_000;
const CUSTOMERS: usize = 5_000;
/// The client gives up on an answer after this long: long enough that a
/// page the sandbox answers normally is never a timeout, even on a loaded
/// machine (at 300 ms, CI's nested test run saw normal pages time out and
/// retried, which the exact request counts below then miscounted)...
const TIMEOUT: Duration = Duration::from_secs(1);
/// ...so a slow fault, held back this long, is always a timeout.
const SLOW_FAULT: Duration = Duration::from_secs(3);

fn client(sandbox: &Sandbox, policy: RetryPolicy) -> Client {
    Client::new(
        Config::new(sandbox.url(), "demo-app", "demo-secret")
            .with_retry(policy)
            .with_timeout(TIMEOUT),
    )
    .expect("client")
}

async fn faulty_sandbox(rate: f64, faults: FaultKinds) -> Sandbox {
    Sandbox::start(
        {
            let mut config = SandboxConfig::default();
            config.fail_rate = rate;
            config.faults = faults;
            config.slow_fault_delay = SLOW_FAULT;
            config
        }
        .with_item_count("listWecomEmployees", EMPLOYEES)
        .with_item_count("listWecomCustomers", CUSTOMERS),
    )
    .await
    .expect("sandbox")
}

/// What one listing saw.
struct Listed {
    ids: Vec<i64>,
    pages: u64,
    requests: u64,
    faults: FaultCounts,
    summary: shiheng::ListingSummary,
    took: Duration,
}

fn faults_since(now: FaultCounts, before: FaultCounts) -> FaultCounts {
    FaultCounts {
        gateway: now.gateway - before.gateway,
        dropped: now.dropped - before.dropped,
        slow: now.slow - before.slow,
    }
}

async fn list_employees(sandbox: &Sandbox, client: &Client) -> Listed {
    let (requests, faults, started) = (
        sandbox.requests(),
        sandbox.faults_injected(),
        Instant::now(),
    );
    let mut items = client
        .list_wecom_employees()
        .page_size(50)
        .concurrency(4)
        .deadline(Duration::from_secs(60))
        .stream();
    let mut ids = Vec::with_capacity(EMPLOYEES);
    while let Some(item) = items.next().await {
        ids.push(item.expect("every page arrives").id.expect("an id"));
    }
    let summary = items.summary();
    Listed {
        ids,
        pages: summary.pages,
        requests: sandbox.requests() - requests,
        faults: faults_since(sandbox.faults_injected(), faults),
        summary,
        took: started.elapsed(),
    }
}

async fn list_customers(sandbox: &Sandbox, client: &Client) -> Listed {
    let (requests, faults, started) = (
        sandbox.requests(),
        sandbox.faults_injected(),
        Instant::now(),
    );
    let mut items = client
        .list_wecom_customers()
        .page_size(100)
        .deadline(Duration::from_secs(60))
        .stream();
    let mut ids = Vec::with_capacity(CUSTOMERS);
    while let Some(item) = items.next().await {
        ids.push(item.expect("every page arrives").id.expect("an id"));
    }
    let summary = items.summary();
    Listed {
        ids,
        pages: summary.pages,
        requests: sandbox.requests() - requests,
        faults: faults_since(sandbox.faults_injected(), faults),
        summary,
        took: started.elapsed(),
    }
}

fn report(what: &str, listed: &Listed) {
    eprintln!(
        "{what}: injected {}; counted {} items ({} unique), {} pages, {} requests served \
         = pages + {} retries, {} duplicates dropped, in {:?}",
        listed.faults,
        listed.ids.len(),
        listed.ids.iter().collect::<HashSet<_>>().len(),
        listed.pages,
        listed.requests,
        listed.requests.saturating_sub(listed.pages),
        listed.summary.duplicates_dropped,
        listed.took,
    );
}

/// `listed` holds exactly the ids of `reference`, each once.
fn assert_exactly_once(what: &str, listed: &Listed, reference: &Listed, expected: usize) {
    let mut sorted = listed.ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), listed.ids.len(), "{what}: an id came twice");
    assert_eq!(sorted.len(), expected, "{what}: items missing");
    let mut wanted = reference.ids.clone();
    wanted.sort_unstable();
    assert_eq!(
        sorted, wanted,
        "{what}: not the ids of a fault-free listing"
    );
    assert!(
        !listed.summary.totals_disagree(),
        "{what}: {:?}",
        listed.summary
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_percent_failures_lose_nothing() {
    let sandbox = faulty_sandbox(0.1, FaultKinds::ALL).await;
    let client = client(
        &sandbox,
        RetryPolicy::default()
            .with_max_attempts(8)
            .with_backoff(Duration::from_millis(5), Duration::from_millis(100)),
    );
    let employees = list_employees(&sandbox, &client).await;
    report(
        "employees (10% faults, page size 50, concurrency 4)",
        &employees,
    );
    let customers = list_customers(&sandbox, &client).await;
    report("customers (10% faults, page size 100)", &customers);

    sandbox.set_fail_rate(0.0);
    let employees_clean = list_employees(&sandbox, &client).await;
    report("employees (no faults, reference)", &employees_clean);
    let customers_clean = list_customers(&sandbox, &client).await;
    report("customers (no faults, reference)", &customers_clean);

    assert_exactly_once("employees", &employees, &employees_clean, EMPLOYEES);
    assert_exactly_once("customers", &customers, &customers_clean, CUSTOMERS);
    assert_eq!(employees.summary.last_total, Some(EMPLOYEES as i64));
    assert_eq!((employees.pages, customers.pages), (200, 50));
    // Every injected fault cost exactly one more request, and nothing else
    // did: the employee listing's last page is full, but `pages` and `total`
    // agree that it is the last, so there is no request past the end; the
    // cursor listing ends on `nextStartId: null`.
    for listed in [&employees, &customers] {
        assert!(listed.faults.total() > 0);
        assert_eq!(listed.requests, listed.pages + listed.faults.total());
    }
    for clean in [&employees_clean, &customers_clean] {
        assert_eq!(clean.requests, clean.pages);
        assert_eq!(clean.faults, FaultCounts::default());
    }
    let all = sandbox.faults_injected();
    assert!(all.gateway > 0 && all.dropped > 0 && all.slow > 0, "{all}");
    sandbox.shutdown().await;
}

const ATTEMPTS: u32 = 4;
const BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_millis(40);

fn bounded_policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(ATTEMPTS)
        .with_backoff(BACKOFF, MAX_BACKOFF)
        .with_jitter(false)
}

/// The error kind a fault of `kind` becomes at the last attempt.
fn expected_kind(kind: FaultKind) -> ErrorKind {
    match kind {
        FaultKind::Gateway => ErrorKind::Http,
        FaultKind::Drop => ErrorKind::Transport,
        FaultKind::Slow => ErrorKind::Timeout,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_requests_failing_ends_with_the_last_error() {
    // Backoffs 10 + 20 + 40 ms; a slow attempt costs the whole timeout.
    let backoffs = Duration::from_millis(70);
    let worst = backoffs + TIMEOUT * ATTEMPTS + Duration::from_secs(1);
    let cases = [
        FaultKinds::only(FaultKind::Gateway),
        FaultKinds::only(FaultKind::Drop),
        FaultKinds::only(FaultKind::Slow),
        FaultKinds::ALL,
    ];
    for faults in cases {
        let sandbox = faulty_sandbox(1.0, faults).await;
        let client = client(&sandbox, bounded_policy());

        let started = Instant::now();
        let error = client
            .list_wecom_employees()
            .send()
            .await
            .expect_err("every request fails");
        let took = started.elapsed();
        let last = sandbox.last_fault().expect("a fault was injected");
        eprintln!(
            "100% {faults} faults, one call: injected {}; {} requests served; \
             ended with {:?} ({last} last) in {took:?}: {error}",
            sandbox.faults_injected(),
            sandbox.requests(),
            error.kind(),
        );
        assert_eq!(sandbox.requests(), u64::from(ATTEMPTS));
        assert_eq!(sandbox.faults_injected().total(), u64::from(ATTEMPTS));
        assert_eq!(error.kind(), expected_kind(last), "{error}");
        if last == FaultKind::Gateway {
            assert_eq!(error.status(), Some(503));
        }
        assert!(took >= backoffs, "{took:?}");
        assert!(took < worst, "{took:?} > {worst:?}");

        // A listing never ends as if complete: it yields the error and stops.
        let before = sandbox.requests();
        let started = Instant::now();
        let outcomes: Vec<_> = client
            .list_wecom_customers()
            .page_size(100)
            .stream()
            .collect()
            .await;
        let took = started.elapsed();
        eprintln!(
            "100% {faults} faults, listing: {} requests served; {} outcomes, last {:?}, in {took:?}",
            sandbox.requests() - before,
            outcomes.len(),
            outcomes
                .last()
                .map(|o| o.as_ref().map(|_| ()).map_err(|e| e.kind())),
        );
        assert_eq!(outcomes.len(), 1, "one error, no items");
        let error = outcomes[0].as_ref().expect_err("never Ok");
        assert_eq!(error.kind(), expected_kind(sandbox.last_fault().unwrap()));
        assert_eq!(sandbox.requests() - before, u64::from(ATTEMPTS));
        assert!(took < worst, "{took:?} > {worst:?}");
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn a_dropped_connection_carries_no_answer() {
    let sandbox = faulty_sandbox(1.0, FaultKinds::only(FaultKind::Drop)).await;
    let mut stream = tokio::net::TcpStream::connect(sandbox.addr())
        .await
        .expect("connect");
    let request = "POST /wecom/employee/page HTTP/1.1\r\nHost: sandbox\r\n\
                   Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut received))
        .await
        .expect("the sandbox closes the connection");
    // A clean close or a reset, but never a byte of an answer.
    if read.is_ok() {
        assert!(
            received.is_empty(),
            "{:?}",
            String::from_utf8_lossy(&received)
        );
    }
    assert_eq!(sandbox.faults_injected().dropped, 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn slow_faults_answer_normally_after_the_delay() {
    let sandbox = faulty_sandbox(1.0, FaultKinds::only(FaultKind::Slow)).await;
    sandbox.set_slow_fault_delay(Duration::from_millis(100));
    let started = Instant::now();
    let page = Client::new(Config::new(sandbox.url(), "demo-app", "demo-secret"))
        .expect("client")
        .list_wecom_employees()
        .page_size(5)
        .send()
        .await
        .expect("a slow answer is still an answer");
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(page.result.map(|r| r.len()), Some(5));
    assert_eq!(sandbox.faults_injected().slow, 1);
    sandbox.set_faults(FaultKinds::NONE);
    Client::new(Config::new(sandbox.url(), "demo-app", "demo-secret"))
        .expect("client")
        .list_wecom_employees()
        .send()
        .await
        .expect("no faults once no kind is enabled");
    assert_eq!(sandbox.faults_injected().total(), 1, "no kinds, no faults");
    sandbox.shutdown().await;
}
