//! The app secret never appears in Debug output, errors or logs (the most
//! verbose level included). A test binary of its own: it installs the global
//! tracing subscriber.

mod common;

use common::{APP_ID, SECRET};
use httpmock::prelude::*;
use serde_json::json;
use shiheng::Config;

#[tokio::test]
async fn the_secret_never_shows_in_debug_errors_or_logs() {
    // Capture everything the crate logs, at the most verbose level.
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
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // Global, in a test binary of its own: tracing caches per-callsite
    // interest globally, so a thread-local subscriber can miss events that
    // other tests' threads registered first.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST);
            then.status(200)
                .json_body(json!({"code":"40001","msg":"invalid sign","traceId":"t"}));
        })
        .await;
    let config = Config::new(server.base_url(), APP_ID, SECRET);
    let c = shiheng::Client::new(config.clone()).unwrap();
    let e = c.list_wecom_employees().send().await.unwrap_err();

    let logs = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("string_to_sign"), "the trace log ran: {logs}");
    for text in [
        format!("{config:?}"),
        format!("{c:?}"),
        format!("{e:?}"),
        e.to_string(),
        logs,
    ] {
        assert!(!text.contains(SECRET), "secret leaked in: {text}");
    }
}
