//! `shiheng_sandbox::serve`, the standalone entry: it serves on the address
//! given until its future completes, answers the real signed client
//! meanwhile, stops listening afterwards and reports the requests served;
//! a configuration it cannot serve fails before anything is served.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use shiheng::{Client, Config};
use shiheng_sandbox::SandboxConfig;
use tokio::sync::oneshot;

/// A port of 127.0.0.1 that was free a moment ago.
fn free_loopback_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

#[tokio::test]
async fn serve_answers_until_its_future_completes_and_counts_the_requests() {
    let addr = free_loopback_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(shiheng_sandbox::serve(
        SandboxConfig::default().with_item_count("listWecomEmployees", 7),
        addr,
        async {
            let _ = stopped.await;
        },
    ));
    let client = Client::new(
        Config::new(format!("http://{addr}"), "demo-app", "demo-secret")
            .with_timeout(Duration::from_secs(5)),
    )
    .expect("client");
    // The spawned task binds first; retry the first call briefly until it listens.
    let mut page = None;
    for _ in 0..50 {
        match client.list_wecom_employees().send().await {
            Ok(answer) => {
                page = Some(answer);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert_eq!(page.expect("an answer").total, Some(7));
    stop.send(()).expect("the server is running");
    let served = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("serve returns after its future")
        .expect("no panic")
        .expect("served");
    assert!(served >= 1, "served {served}");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still listening after serve returned"
    );
}

#[tokio::test]
async fn serve_refuses_a_configuration_it_cannot_serve_before_serving() {
    let config = SandboxConfig::default().with_item_count("noSuchOperation", 1);
    let outcome = tokio::time::timeout(
        Duration::from_secs(5),
        shiheng_sandbox::serve(config, free_loopback_addr(), std::future::pending()),
    )
    .await
    .expect("refused at once, without waiting for the future");
    let error = outcome.expect_err("an unknown operation is refused");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{error}");
}
