//! Observed drift: every coercion the decoding rule makes is also a warning
//! in the service's logs, once per operation, field and kind per client, so
//! "the platform sends gender as a number: update the spec" shows without
//! anyone running `shiheng check`. A test binary of its own: it installs the
//! global tracing subscriber.

mod common;

use futures::TryStreamExt;
use httpmock::prelude::*;
use serde_json::json;

#[tokio::test]
async fn each_coercion_is_logged_once_per_client() {
    #[derive(Clone, Default)]
    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let server = MockServer::start_async().await;
    for page in 1..=3 {
        let items: Vec<_> = (0..2)
            .map(|i| json!({"id": page * 10 + i, "gender": 1, "status": 1}))
            .collect();
        server
            .mock_async(|when, then| {
                when.method(POST)
                    .path("/wecom/employee/page")
                    .body_includes(format!("\"pageNum\":{page}"));
                then.status(200)
                    .json_body(json!({"code": "0", "traceId": "t",
                    "result": {"pages": 3, "total": 6, "result": items}}));
            })
            .await;
    }
    let client = common::client(&server.base_url());
    for _ in 0..2 {
        let employees: Vec<_> = client
            .list_wecom_employees()
            .page_size(2)
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(employees.len(), 6);
    }
    let logs = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("Employee.gender"))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "once for 12 coercions over two listings: {logs}"
    );
    assert!(
        lines[0]
            .contains("the platform sent Employee.gender as a number where the spec says string"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("listWecomEmployees"), "{}", lines[0]);
    // Another client reports again: the memory is per client.
    let _: Vec<_> = common::client(&server.base_url())
        .list_wecom_employees()
        .page_size(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let logs = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        logs.lines()
            .filter(|l| l.contains("Employee.gender"))
            .count(),
        2
    );
}
