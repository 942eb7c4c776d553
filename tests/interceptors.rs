//! Ways in: a user-built `reqwest::Client` and interceptors that see every
//! request (after signing) and every answer, retries included.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt;
use httpmock::prelude::*;
use shiheng::intercept::{Attempt, Interceptor, Outcome};
use shiheng::{Config, RetryPolicy};
use shiheng_sandbox::{FaultKinds, Sandbox, SandboxConfig};

#[derive(Debug, Default)]
struct Recorder {
    sent: Mutex<Vec<(String, u32)>>,
    answered: Mutex<Vec<(String, Option<u16>)>>,
}

impl Interceptor for Recorder {
    fn before_send(&self, attempt: &Attempt<'_>, headers: &mut reqwest::header::HeaderMap) {
        self.sent
            .lock()
            .unwrap()
            .push((attempt.operation.to_string(), attempt.number));
        headers.insert("x-request-tag", "tagged".parse().unwrap());
    }

    fn after_answer(&self, attempt: &Attempt<'_>, outcome: &Outcome<'_>) {
        let status = match outcome {
            Outcome::Answered { status, .. } => Some(*status),
            _ => None,
        };
        self.answered
            .lock()
            .unwrap()
            .push((attempt.operation.to_string(), status));
    }
}

#[tokio::test]
async fn an_interceptor_sees_every_request_of_a_listing_retries_included() {
    let sandbox = Sandbox::start({
        let mut config = SandboxConfig::default();
        config.fail_rate = 0.3;
        config.faults = FaultKinds::GATEWAY;
        config.seed = 7;
        config
    })
    .await
    .unwrap();
    let recorder = Arc::new(Recorder::default());
    let retry = RetryPolicy::default()
        .with_max_attempts(10)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5));
    let client = shiheng::Client::new(
        Config::new(sandbox.url(), "demo-app", "demo-secret")
            .with_retry(retry)
            .with_interceptor(recorder.clone()),
    )
    .unwrap();
    let employees: Vec<_> = client
        .list_wecom_employees()
        .concurrency(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(employees.len(), 464);
    let sent = recorder.sent.lock().unwrap().clone();
    let answered = recorder.answered.lock().unwrap().clone();
    // Every request the sandbox received, the interceptor saw, once each.
    assert_eq!(sent.len() as u64, sandbox.requests(), "{sent:?}");
    assert_eq!(answered.len(), sent.len());
    assert!(sent.iter().all(|(op, _)| op == "listWecomEmployees"));
    let retries = sent.iter().filter(|(_, n)| *n > 1).count();
    assert!(retries > 0, "a 30 % fault rate made retries");
    assert_eq!(
        answered.iter().filter(|(_, s)| *s == Some(503)).count(),
        sandbox.faults_injected().gateway as usize
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn headers_added_by_an_interceptor_reach_the_server_and_the_sign_holds() {
    let server = MockServer::start_async().await;
    let (_seen, signed) = common::signed_by(common::APP_ID, common::SECRET);
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/wecom/customer/list")
                .header("x-request-tag", "tagged")
                .is_true(signed);
            then.status(200)
                .json_body(common::cursor_page(&[1, 2], None));
        })
        .await;
    let client = shiheng::Client::new(
        Config::new(server.base_url(), common::APP_ID, common::SECRET)
            .with_interceptor(Arc::new(Recorder::default())),
    )
    .unwrap();
    let customers: Vec<_> = client
        .list_wecom_customers()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(customers.len(), 2);
    mock.assert_async().await;
}

#[tokio::test]
async fn a_user_built_http_client_is_used_and_its_redirects_are_refused() {
    let target = MockServer::start_async().await;
    let elsewhere = target
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).json_body(common::cursor_page(&[9], None));
        })
        .await;
    let origin = MockServer::start_async().await;
    origin
        .mock_async(|when, then| {
            when.method(POST).path("/wecom/customer/list");
            then.status(307)
                .header("location", target.url("/wecom/customer/list"));
        })
        .await;
    // A client that follows redirects itself (reqwest's default policy),
    // against the documented advice.
    let config = Config::new(origin.base_url(), common::APP_ID, common::SECRET);
    let http = config
        .http_client_builder()
        .unwrap()
        .user_agent("my-service/1.0")
        .redirect(reqwest::redirect::Policy::default())
        .build()
        .unwrap();
    let client = shiheng::Client::new(config.with_http_client(http)).unwrap();
    let error = client.list_wecom_customers().send().await.unwrap_err();
    assert_eq!(error.kind(), shiheng::ErrorKind::Redirect, "{error}");
    // The answer from elsewhere was not used (reqwest had already gone there).
    assert_eq!(elsewhere.calls_async().await, 1);

    // With redirects off, as documented, the user's client is used as is.
    let server = MockServer::start_async().await;
    let with_agent = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/wecom/customer/list")
                .header("user-agent", "my-service/1.0");
            then.status(200).json_body(common::cursor_page(&[3], None));
        })
        .await;
    let config = Config::new(server.base_url(), common::APP_ID, common::SECRET);
    let http = config
        .http_client_builder()
        .unwrap()
        .user_agent("my-service/1.0")
        .build()
        .unwrap();
    let client = shiheng::Client::new(config.with_http_client(http)).unwrap();
    let page = client.list_wecom_customers().send().await.unwrap();
    assert_eq!(page.result.unwrap()[0].id, Some(3));
    with_agent.assert_async().await;
}
