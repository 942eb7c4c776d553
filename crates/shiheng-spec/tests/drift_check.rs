//! `shiheng_spec::drift::check` against httpmock: one operation failing does not
//! stop the others, each operation's outcome is reported, and `Err` comes
//! only when no operation could be checked. Servers bind 127.0.0.1.

use httpmock::prelude::*;
use serde_json::json;
use shiheng::ErrorKind;
use shiheng::operation::OperationSpec;
use shiheng_spec::drift::CheckOutcome;

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
    let failures = report.failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].operation, failing.operation_id);
    assert_eq!(failures[0].path, failing.path);
    let CheckOutcome::Failed { error } = &failures[0].outcome else {
        panic!("{:?}", failures[0].outcome);
    };
    assert_eq!(error.code(), Some("40001"));
    assert_eq!(error.trace_id(), Some("t-fail"));
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
