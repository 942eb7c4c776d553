//! Memory per page is bounded whatever the platform sends: a 16 MiB answer
//! of 5.6 million `{}` items (just under the default 16 MiB response limit)
//! ends in a clear error after at most the per-page item limit, with the
//! whole process's peak RSS well under 200 MiB. One test in this file, so
//! the process's high-water mark is this test's (docs/reliability.md quotes
//! the figure it prints).

use std::sync::Arc;

use futures::StreamExt;
use shiheng::{Client, Config, ErrorKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The process's peak resident set, in KiB (Linux `VmHWM`).
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Serves `body` to every request on 127.0.0.1 until the test ends.
async fn serve(body: Arc<Vec<u8>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = vec![0u8; 64 * 1024];
                let mut read = 0;
                // Headers, then the small JSON body (content-length is < 1 KiB).
                loop {
                    match socket.read(&mut request[read..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => read += n,
                    }
                    let text = String::from_utf8_lossy(&request[..read]);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if read >= end + 4 + length {
                            break;
                        }
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_16_mib_page_of_empty_objects_is_refused_in_bounded_memory() {
    const LIMIT: usize = 16 * 1024 * 1024;
    let head = br#"{"code":"0","msg":null,"traceId":"t-huge","result":{"pages":1000,"total":1000000,"result":["#;
    let tail = b"]}}";
    let items = (LIMIT - head.len() - tail.len()) / 3;
    let mut body = Vec::with_capacity(LIMIT);
    body.extend_from_slice(head);
    for i in 0..items {
        body.extend_from_slice(if i == 0 { b"{}" } else { b",{}" });
    }
    body.extend_from_slice(tail);
    assert!(body.len() <= LIMIT, "{} bytes", body.len());
    let before = peak_rss_kib();
    let url = serve(Arc::new(body)).await;
    let client = Client::new(Config::new(url, "test-app", "test-secret")).unwrap();
    let mut listing = client.list_wecom_employees().stream();
    let mut delivered = 0usize;
    let error = loop {
        match listing.next().await {
            Some(Ok(_)) => delivered += 1,
            Some(Err(e)) => break e,
            None => panic!("the listing ended quietly after {delivered} items"),
        }
    };
    let peak = peak_rss_kib();
    println!(
        "16 MiB page of {items} `{{}}` items: peak RSS {} MiB (before the listing {} MiB); error: {error}",
        peak / 1024,
        before / 1024
    );
    assert_eq!(error.kind(), ErrorKind::Pagination, "{error}");
    assert!(
        error.to_string().contains("holds more than 10000 items"),
        "{error}"
    );
    assert_eq!(delivered, 0);
    assert!(peak < 200 * 1024, "peak RSS {} MiB", peak / 1024);
}
