//! The sandbox as a server facing hostile clients: clients that send half a
//! request and stall, a connection limit, idle kept-alive connections,
//! and a shutdown that stays bounded. Raw TCP clients on 127.0.0.1; every
//! wait has a deadline.

use std::time::{Duration, Instant};

use shiheng::{Client, Config};
use shiheng_sandbox::{Sandbox, SandboxConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HALF_A_REQUEST: &[u8] = b"POST /wecom/employee/page HTTP/1.1\r\nhost: 127.0.0.1\r\n";

async fn sandbox(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config.with_item_count("listWecomEmployees", 30))
        .await
        .expect("sandbox")
}

fn client(sandbox: &Sandbox) -> Client {
    Client::new(
        Config::new(sandbox.url(), sandbox.app_id(), "demo-secret")
            .with_timeout(Duration::from_secs(5)),
    )
    .expect("client")
}

/// Opens a connection and sends the start of a request, never its end.
async fn stall(sandbox: &Sandbox) -> TcpStream {
    let mut stream = TcpStream::connect(sandbox.addr()).await.expect("connect");
    stream.write_all(HALF_A_REQUEST).await.expect("write");
    stream
}

/// Reads until the server closes the connection (or resets it); the time
/// that took, or `None` if it stayed open for `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let read_to_end = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                // hyper may answer 408 before closing: keep reading to the end.
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, read_to_end)
        .await
        .ok()
        .map(|()| started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_neither_starve_others_nor_stay_open() {
    let header_read_timeout = Duration::from_millis(800);
    let sandbox = sandbox({
        let mut config = SandboxConfig::default();
        config.header_read_timeout = header_read_timeout;
        config
    })
    .await;
    let mut stalled = Vec::new();
    for _ in 0..300 {
        stalled.push(stall(&sandbox).await);
    }
    let opened = Instant::now();

    // A legitimate request, while the 300 hold their connections.
    let started = Instant::now();
    let page = client(&sandbox)
        .list_wecom_employees()
        .page_size(10)
        .send()
        .await
        .expect("the legitimate request is answered");
    let took = started.elapsed();
    assert_eq!(page.result.map(|r| r.len()), Some(10));
    assert!(took < Duration::from_secs(1), "answered after {took:?}");

    // Every stalled connection is closed by the server once the header
    // timeout has passed (from its first byte), and not long after.
    let mut closed = 0;
    for stream in &mut stalled {
        let remaining =
            (header_read_timeout + Duration::from_secs(2)).saturating_sub(opened.elapsed());
        if closed_within(stream, remaining).await.is_some() {
            closed += 1;
        }
    }
    assert_eq!(
        closed, 300,
        "every half-sent request's connection was closed"
    );
    let all_closed = opened.elapsed();
    eprintln!(
        "300 half-sent requests: the legitimate one answered in {took:?}; \
         all 300 closed {all_closed:?} after they were opened"
    );
    assert!(
        all_closed >= header_read_timeout.saturating_sub(Duration::from_millis(100)),
        "closed after {all_closed:?}, before the header timeout"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_stalled_client_is_closed_after_the_header_timeout_not_before() {
    let header_read_timeout = Duration::from_millis(400);
    let sandbox = sandbox({
        let mut config = SandboxConfig::default();
        config.header_read_timeout = header_read_timeout;
        config
    })
    .await;
    let mut stream = stall(&sandbox).await;
    let took = closed_within(&mut stream, Duration::from_secs(3))
        .await
        .expect("closed by the server");
    assert!(
        took >= Duration::from_millis(350) && took < Duration::from_millis(1500),
        "closed after {took:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn past_the_connection_limit_new_clients_wait_for_a_free_slot() {
    let header_read_timeout = Duration::from_millis(500);
    let sandbox = sandbox({
        let mut config = SandboxConfig::default();
        config.header_read_timeout = header_read_timeout;
        config.max_connections = 2;
        config
    })
    .await;
    let _a = stall(&sandbox).await;
    let _b = stall(&sandbox).await;
    let opened = Instant::now();
    // The third connection waits in the backlog until the header timeout
    // frees a slot; then it is served normally.
    let page = client(&sandbox)
        .list_wecom_employees()
        .page_size(5)
        .send()
        .await
        .expect("served once a slot is free");
    let waited = opened.elapsed();
    assert_eq!(page.result.map(|r| r.len()), Some(5));
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(3),
        "served after {waited:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let idle_timeout = Duration::from_millis(400);
    let sandbox = sandbox({
        let mut config = SandboxConfig::default();
        config.idle_timeout = idle_timeout;
        config
    })
    .await;
    let mut stream = TcpStream::connect(sandbox.addr()).await.expect("connect");
    // A complete request (an unknown path: 404 envelope), kept alive.
    stream
        .write_all(b"GET /nothing HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.expect("an answer");
    assert_eq!(&head, b"HTTP/1.1 404");
    let took = closed_within(&mut stream, Duration::from_secs(3))
        .await
        .expect("closed by the server");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(1500),
        "closed after {took:?}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_idle_connections_at_once() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let mut idle = TcpStream::connect(sandbox.addr()).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    sandbox.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(
        closed_within(&mut idle, Duration::from_secs(1))
            .await
            .is_some()
    );
}

#[tokio::test]
async fn zero_limits_are_refused() {
    for config in [
        {
            let mut config = SandboxConfig::default();
            config.header_read_timeout = Duration::ZERO;
            config
        },
        {
            let mut config = SandboxConfig::default();
            config.idle_timeout = Duration::ZERO;
            config
        },
        {
            let mut config = SandboxConfig::default();
            config.max_connections = 0;
            config
        },
    ] {
        let e = Sandbox::start(config).await.expect_err("refused");
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("must not be zero"), "{e}");
    }
    let defaults = SandboxConfig::default();
    assert_eq!(
        (
            defaults.header_read_timeout,
            defaults.idle_timeout,
            defaults.max_connections
        ),
        (Duration::from_secs(5), Duration::from_secs(60), 1024)
    );
}

#[tokio::test]
async fn a_kept_alive_connection_gets_the_idle_timeout_not_the_header_timeout() {
    let sandbox = sandbox({
        let mut config = SandboxConfig::default();
        config.header_read_timeout = Duration::from_millis(200);
        config.idle_timeout = Duration::from_millis(900);
        config
    })
    .await;
    let mut stream = TcpStream::connect(sandbox.addr()).await.expect("connect");
    stream
        .write_all(b"GET /nothing HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.expect("an answer");
    // Idle past the header timeout: still open, and a second request in
    // the same connection is answered.
    tokio::time::sleep(Duration::from_millis(400)).await;
    stream
        .write_all(b"GET /again HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("HTTP/1.1 404") {
        let n = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf))
            .await
            .expect("answered in time")
            .expect("read");
        assert!(n > 0, "the kept-alive connection was closed");
        answer.extend_from_slice(&buf[..n]);
    }
    sandbox.shutdown().await;
}
