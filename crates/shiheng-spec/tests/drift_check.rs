//! `shiheng_spec::drift::check` against httpmock: one operation failing does not
//! stop the others, each operation's outcome is reported (a business error
//! as refused, with the params sent; a failed exchange as failed), `Err`
//! comes only when no operation could be checked, and `check_with` sends
//! the params it is given. Servers bind 127.0.0.1.

use httpmock::prelude::*;
use serde_json::json;
use shiheng::ErrorKind;
use shiheng::operation::OperationSpec;
use shiheng_spec::drift::{CheckOptions, CheckOutcome};

const APP_ID: &str = "test-app";
const SECRET: &str = "s3cr3t-Do-Not-Print";

fn no_retries(base_url: &str) -> shiheng::Client {
    shiheng::Client::new(
        shiheng::Config::new(base_url, APP_ID, SECRET).with_retry(shiheng::RetryPolicy::disabled()),
    )
    .expect("client")
}

#[tokio::test]
async fn a_failing_operation_is_reported_and_the_others_are_checked() {
    let server = MockServer::start_async().await;
    let ops = OperationSpec::all();
    let (failing, others) = ops.split_first().expect("operations");
    server
        .mock_async(|when, then| {
            when.method(POST).path(failing.path);
            then.status(200).json_body(json!({
                "code": "40001", "msg": "invalid sign", "traceId": "t-fail", "result": null
            }));
        })
        .await;
    for op in others {
        let items = op.pagination.map_or("result", |p| p.items);
        server
            .mock_async(|when, then| {
                when.method(POST).path(op.path);
                then.status(200).json_body(json!({
                    "code": "0", "msg": null, "traceId": format!("t-{}", op.operation_id),
                    "result": { items: [] }
                }));
            })
            .await;
    }

    let report = shiheng_spec::drift::check(&no_retries(&server.base_url()))
        .await
        .expect("a report: some operations were checked");

    assert!(!report.has_drift(), "{:?}", report.drifts);
    assert_eq!(report.operations.len(), ops.len());
    assert_eq!(report.checked().len(), ops.len() - 1);
    assert!(report.skipped().is_empty());
    assert!(report.failures().is_empty());
    // A business error: refused, with the params invented and sent.
    let refused = report.refused();
    assert_eq!(refused.len(), 1);
    assert_eq!(report.not_checked().len(), 1);
    assert_eq!(refused[0].operation, failing.operation_id);
    assert_eq!(refused[0].path, failing.path);
    let CheckOutcome::Refused {
        error,
        params,
        given,
    } = &refused[0].outcome
    else {
        panic!("{:?}", refused[0].outcome);
    };
    assert_eq!(error.code(), Some("40001"));
    assert_eq!(error.trace_id(), Some("t-fail"));
    assert!(!given);
    assert_eq!(
        params.as_ref(),
        shiheng_spec::drift::first_request(failing)
            .expect("invented")
            .as_ref()
    );
    for checked in report.checked() {
        let CheckOutcome::Checked { status, trace_id } = &checked.outcome else {
            panic!("{:?}", checked.outcome);
        };
        assert_eq!(*status, 200);
        assert_eq!(
            trace_id.as_deref(),
            Some(&*format!("t-{}", checked.operation))
        );
    }
}

#[tokio::test]
async fn nothing_checked_is_the_first_failure() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST);
            then.status(503)
                .header("content-type", "text/html")
                .body("<html>503</html>");
        })
        .await;
    let error = shiheng_spec::drift::check(&no_retries(&server.base_url()))
        .await
        .expect_err("every operation failed");
    assert_eq!((error.kind(), error.status()), (ErrorKind::Http, Some(503)));
    assert!(
        error
            .to_string()
            .starts_with(OperationSpec::all()[0].operation_id),
        "the first operation's failure: {error}"
    );
}

#[tokio::test]
async fn a_failed_exchange_is_failed_and_the_others_are_checked() {
    let server = MockServer::start_async().await;
    let ops = OperationSpec::all();
    let (failing, others) = ops.split_first().expect("operations");
    server
        .mock_async(|when, then| {
            when.method(POST).path(failing.path);
            then.status(502).body("bad gateway");
        })
        .await;
    for op in others {
        let items = op.pagination.map_or("result", |p| p.items);
        server
            .mock_async(|when, then| {
                when.method(POST).path(op.path);
                then.status(200)
                    .json_body(json!({ "code": "0", "msg": null, "result": { items: [] } }));
            })
            .await;
    }
    let report = shiheng_spec::drift::check(&no_retries(&server.base_url()))
        .await
        .expect("a report");
    assert!(report.refused().is_empty());
    let failures = report.failures();
    assert_eq!(failures.len(), 1);
    let CheckOutcome::Failed { error } = &failures[0].outcome else {
        panic!("{:?}", failures[0].outcome);
    };
    assert_eq!((error.kind(), error.status()), (ErrorKind::Http, Some(502)));
    assert_eq!(report.not_checked().len(), 1);
}

#[tokio::test]
async fn check_with_sends_the_params_given_completed_with_the_first_page() {
    let server = MockServer::start_async().await;
    let ops = OperationSpec::all();
    let (refusing, others) = ops.split_first().expect("operations");
    let pagination = refusing.pagination.expect("a listing");
    let size = pagination.page_size.name;
    // Answers only when asked for 7 items a page.
    let answered = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(refusing.path)
                .body_includes(format!("\"{size}\":7"));
            then.status(200).json_body(json!({
                "code": "0", "msg": null, "traceId": "t-given", "result": { pagination.items: [] }
            }));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path(refusing.path)
                .body_excludes(format!("\"{size}\":7"));
            then.status(200).json_body(json!({
                "code": "40004", "msg": "no store", "traceId": "t-no-store", "result": null
            }));
        })
        .await;
    for op in others {
        let items = op.pagination.map_or("result", |p| p.items);
        server
            .mock_async(|when, then| {
                when.method(POST).path(op.path);
                then.status(200)
                    .json_body(json!({ "code": "0", "msg": null, "result": { items: [] } }));
            })
            .await;
    }
    let client = no_retries(&server.base_url());

    // Without params: not checked, with the platform's answer.
    let report = shiheng_spec::drift::check(&client).await.expect("a report");
    assert!(!report.has_drift());
    let not_checked = report.not_checked();
    assert_eq!(not_checked.len(), 1);
    assert_eq!(not_checked[0].operation, refusing.operation_id);
    let CheckOutcome::Refused { error, given, .. } = &not_checked[0].outcome else {
        panic!("{:?}", not_checked[0].outcome);
    };
    assert_eq!(
        (error.code(), error.trace_id(), *given),
        (Some("40004"), Some("t-no-store"), false)
    );

    // With params: checked; the first page is added to what was given.
    let options = CheckOptions::new().with_params(refusing.operation_id, json!({ size: 7 }));
    let report = shiheng_spec::drift::check_with(&client, &options)
        .await
        .expect("a report");
    assert!(report.not_checked().is_empty(), "{:?}", report.operations);
    assert_eq!(report.checked().len(), ops.len());
    answered.assert_calls_async(1).await;
    let sent = shiheng_spec::drift::complete_first_page(refusing, json!({ size: 7 }));
    assert_eq!(sent[pagination.position().name], json!(1));

    // Given params refused too: said so.
    let options = CheckOptions::new().with_params(refusing.operation_id, json!({ size: 8 }));
    let report = shiheng_spec::drift::check_with(&client, &options)
        .await
        .expect("a report");
    let CheckOutcome::Refused { params, given, .. } = &report.not_checked()[0].outcome else {
        panic!("{:?}", report.operations);
    };
    assert!(*given);
    assert_eq!(params.as_ref().expect("sent")[size], json!(8));
}

#[tokio::test]
async fn concurrent_checks_keep_the_spec_order_and_report_progress_once_each() {
    let server = MockServer::start_async().await;
    let ops = OperationSpec::all();
    let mut mocks = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let items = op.pagination.map_or("result", |p| p.items);
        // The first operations answer last, so the answers arrive out of
        // the spec's order whenever more than one is in flight.
        let delay = std::time::Duration::from_millis(40 * (ops.len() - i) as u64);
        mocks.push(
            server
                .mock_async(|when, then| {
                    when.method(POST).path(op.path);
                    then.status(200).delay(delay).json_body(json!({
                        "code": "0", "msg": null, "traceId": format!("t-{}", op.operation_id),
                        "result": { items: [] }
                    }));
                })
                .await,
        );
    }
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = seen.clone();
    let options = CheckOptions::new()
        .with_concurrency(ops.len().max(2))
        .with_progress(move |checked| recorded.lock().unwrap().push(checked.operation.clone()));

    let report = shiheng_spec::drift::check_with(&no_retries(&server.base_url()), &options)
        .await
        .expect("a report");

    let in_spec_order: Vec<String> = ops.iter().map(|op| op.operation_id.to_string()).collect();
    let reported: Vec<String> = report
        .operations
        .iter()
        .map(|o| o.operation.clone())
        .collect();
    assert_eq!(reported, in_spec_order, "the report keeps the spec's order");
    assert_eq!(
        *seen.lock().unwrap(),
        in_spec_order,
        "progress once per operation, in order"
    );
    assert_eq!(report.checked().len(), ops.len());
    for mock in mocks {
        mock.assert_calls_async(1).await;
    }
}
