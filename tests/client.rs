//! The client against a real local HTTP server (httpmock): signed bodies
//! checked server-side, every error kind, the secret never shown.

mod common;

use std::time::Duration;

use common::{APP_ID, SECRET, client, employee_page, signed_by};
use httpmock::prelude::*;
use serde_json::json;
use shiheng::{Config, Error, ErrorKind};

#[tokio::test]
async fn employees_page_is_signed_and_typed() {
    let server = MockServer::start_async().await;
    let (mock, seen) = common::signed_mock(
        &server,
        "/wecom/employee/page",
        employee_page(9_007_199_254_740_990, 4, Some(7), Some(321)).to_string(),
    )
    .await;

    let page = client(&server.base_url())
        .list_wecom_employees()
        .page(3)
        .page_size(4)
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    assert_eq!(page.pages, Some(7));
    assert_eq!(page.total, Some(321));
    let ids: Vec<i64> = page.result.unwrap().iter().filter_map(|e| e.id).collect();
    assert_eq!(
        ids,
        [
            9_007_199_254_740_990,
            9_007_199_254_740_991,
            9_007_199_254_740_992,
            9_007_199_254_740_993
        ]
    );
    let sent = seen.lock().unwrap()[0].clone();
    assert_eq!(sent["paramContent"], json!({"pageNum": 3, "pageSize": 4}));
}

#[tokio::test]
async fn customers_and_group_chats_are_signed() {
    let server = MockServer::start_async().await;
    let (customers, seen) = common::signed_mock(
        &server,
        "/wecom/customer/list",
        common::cursor_page(&[11, 12], Some(12)).to_string(),
    )
    .await;
    let (chats, seen_chats) = common::signed_mock(
        &server,
        "/wecom/group-chat/list",
        common::fixture("samples/wecom-group-chat-list.json"),
    )
    .await;
    let c = client(&server.base_url());

    let page = c
        .list_wecom_customers()
        .start_id(10)
        .page_size(2)
        .send()
        .await
        .unwrap();
    assert_eq!(page.next_start_id, Some(12));
    assert_eq!(
        page.result.unwrap()[1].phone.as_ref().unwrap().as_str(),
        "13500000012"
    );
    let page = c.list_wecom_group_chats().send().await.unwrap();
    assert_eq!(page.result.unwrap()[0].chat_id.as_deref(), Some("xxxx"));

    customers.assert_async().await;
    chats.assert_async().await;
    assert_eq!(
        seen.lock().unwrap()[0]["paramContent"],
        json!({"startId": 10, "pageSize": 2})
    );
    // Default page size is the spec's maximum.
    assert_eq!(
        seen_chats.lock().unwrap()[0]["paramContent"],
        json!({"startId": 0, "pageSize": 100})
    );
}

#[tokio::test]
async fn generated_methods_are_signed_too() {
    let server = MockServer::start_async().await;
    let (mock, seen) = common::signed_mock(
        &server,
        "/wecom/group-chat/list",
        common::fixture("samples/wecom-group-chat-list.json"),
    )
    .await;
    let c = client(&server.base_url());

    // The caller leaves appId, sign, version and timestamp unset, and sends
    // no paramContent at all (optional on this endpoint).
    let sent = c
        .generated()
        .list_wecom_group_chats(&shiheng::types::ListWecomGroupChatsRequest::default())
        .await;
    let reply = c
        .classify::<shiheng::operations::ListWecomGroupChats>(sent)
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    assert!(reply.payload.result.is_some());
    mock.assert_async().await;
    let sent = seen.lock().unwrap()[0].clone();
    assert!(sent.get("paramContent").is_none(), "{sent}");
}

#[tokio::test]
async fn injected_clock_sets_the_timestamp_and_uppercase_signer_is_used() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/wecom/employee/page")
                .json_body(json!({
                    "appId": "demo-app",
                    "version": "1.0",
                    "timestamp": 1_700_000_000_000i64,
                    "paramContent": {"pageNum": 1, "pageSize": 50},
                    // sign-vectors.json, case "page-number request", uppercase.
                    "sign": "0F63D2848B270E4F5F0DE01CC29A5FFE"
                }));
            then.status(200)
                .json_body(employee_page(1, 1, Some(1), Some(1)));
        })
        .await;
    let config = Config::new(server.base_url(), "demo-app", "demo-secret")
        .with_clock(shiheng::sign::FixedClock(1_700_000_000_000))
        .with_signer(shiheng::sign::Md5Signer::uppercase());
    let c = shiheng::Client::new(config).unwrap();
    c.list_wecom_employees().send().await.unwrap();
    mock.assert_async().await;
}

async fn error_for(status: u16, body: &str, content_type: &str) -> Error {
    let server = MockServer::start_async().await;
    let body = body.to_string();
    let content_type = content_type.to_string();
    server
        .mock_async(move |when, then| {
            when.method(POST).path("/wecom/employee/page");
            then.status(status)
                .header("content-type", content_type)
                .body(body);
        })
        .await;
    client(&server.base_url())
        .list_wecom_employees()
        .send()
        .await
        .unwrap_err()
}

#[tokio::test]
async fn business_error_with_http_200_is_typed() {
    let e = error_for(
        200,
        r#"{"code":"40001","msg":"invalid sign","traceId":"abc123","result":null}"#,
        "application/json",
    )
    .await;
    assert_eq!(e.kind(), ErrorKind::Api);
    assert_eq!(e.code(), Some("40001"));
    assert_eq!(e.trace_id(), Some("abc123"));
    assert_eq!(e.status(), Some(200));
    assert_eq!(
        e.to_string(),
        "listWecomEmployees: the platform answered code 40001 \"invalid sign\" (traceId abc123, HTTP 200)"
    );
}

#[tokio::test]
async fn business_error_keeps_a_non_2xx_status() {
    let e = error_for(
        400,
        r#"{"code":"40004","msg":"pageSize out of range","traceId":"t400","result":null}"#,
        "application/json",
    )
    .await;
    assert_eq!(
        (e.kind(), e.code(), e.status()),
        (ErrorKind::Api, Some("40004"), Some(400))
    );
    let e = error_for(
        503,
        r#"{"code":"50300","msg":"busy","traceId":"t503"}"#,
        "application/json",
    )
    .await;
    assert_eq!(
        (e.kind(), e.code(), e.status()),
        (ErrorKind::Api, Some("50300"), Some(503))
    );
    assert_eq!(e.trace_id(), Some("t503"));
}

#[tokio::test]
async fn gateway_html_is_an_http_error_with_a_snippet() {
    let e = error_for(
        503,
        "<html><body>503 Service Temporarily Unavailable</body></html>",
        "text/html",
    )
    .await;
    assert_eq!(e.kind(), ErrorKind::Http);
    assert_eq!(e.status(), Some(503));
    let text = e.to_string();
    assert!(
        text.contains("HTTP 503") && text.contains("Service Temporarily Unavailable"),
        "{text}"
    );
    assert!(!text.contains('\n'));
}

#[tokio::test]
async fn garbage_is_a_decode_error_never_a_panic() {
    for body in [
        "not json at all",
        "",
        "[1,2,3]",
        r#"{"code":"0","traceId":"tid-1","result":{"result":[{"id":"not-a-number"}]}}"#,
        r#"{"code":"0","result":{"pages":"many"}}"#,
        "\u{0}\u{1}\u{2}",
    ] {
        let e = error_for(200, body, "application/json").await;
        assert_eq!(e.kind(), ErrorKind::Decode, "{body:?}: {e}");
    }
    let e = error_for(
        200,
        r#"{"code":"0","traceId":"tid-1","result":{"result":[{"id":"x"}]}}"#,
        "application/json",
    )
    .await;
    assert_eq!(e.trace_id(), Some("tid-1"), "{e}");
    // A business error whose result does not fit the schema is still the business error.
    let e = error_for(
        200,
        r#"{"code":"500","msg":"boom","traceId":"t","result":"oops"}"#,
        "application/json",
    )
    .await;
    assert_eq!((e.kind(), e.code()), (ErrorKind::Api, Some("500")));
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    // Bind then drop: nothing listens on this loopback port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = client(&format!("http://127.0.0.1:{port}"))
        .list_wecom_employees()
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport);
    assert!(
        matches!(
            e,
            Error::Transport {
                kind: shiheng::error::TransportKind::Connect,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("listWecomEmployees: could not connect"),
        "{e}"
    );
}

#[tokio::test]
async fn slow_server_is_a_timeout() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST);
            then.status(200)
                .delay(Duration::from_secs(3))
                .json_body(employee_page(1, 1, None, None));
        })
        .await;
    let config = Config::new(server.base_url(), APP_ID, SECRET)
        .with_timeout(Duration::from_millis(200))
        .with_retry(shiheng::RetryPolicy::disabled());
    let started = std::time::Instant::now();
    let e = shiheng::Client::new(config)
        .unwrap()
        .list_wecom_employees()
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn oversized_body_is_refused() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST);
            then.status(200)
                .json_body(employee_page(1, 50, Some(1), Some(50)));
        })
        .await;
    let config = Config::new(server.base_url(), APP_ID, SECRET).with_max_response_bytes(512);
    let e = shiheng::Client::new(config)
        .unwrap()
        .list_wecom_employees()
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResponseTooLarge, "{e}");
    assert!(e.to_string().contains("512-byte limit"));
}

#[tokio::test]
async fn invalid_arguments_are_refused_before_sending() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200);
        })
        .await;
    let c = client(&server.base_url());
    let cases = [
        c.list_wecom_employees()
            .page_size(51)
            .send()
            .await
            .unwrap_err(),
        c.list_wecom_employees()
            .page_size(0)
            .send()
            .await
            .unwrap_err(),
        c.list_wecom_employees().page(0).send().await.unwrap_err(),
        c.list_wecom_customers()
            .page_size(101)
            .send()
            .await
            .unwrap_err(),
        c.list_wecom_group_chats()
            .page_size(0)
            .send()
            .await
            .unwrap_err(),
        c.list_wecom_customers()
            .start_id(-1)
            .send()
            .await
            .unwrap_err(),
    ];
    for e in &cases {
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    }
    assert_eq!(
        cases[0].to_string(),
        "listWecomEmployees: invalid argument: pageSize 51 is outside 1..=50 (the spec's bounds)"
    );
    assert_eq!(mock.calls_async().await, 0);
}

#[test]
fn config_from_env_and_its_errors() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    let config = Config::from_lookup(vars(&[
        ("SHIHENG_BASE_URL", "http://127.0.0.1:9"),
        ("SHIHENG_APP_ID", "app"),
        ("SHIHENG_APP_SECRET", SECRET),
    ]))
    .unwrap();
    assert_eq!(config.api_version(), "1.0");
    let config = Config::from_lookup(vars(&[
        ("SHIHENG_BASE_URL", "http://127.0.0.1:9"),
        ("SHIHENG_APP_ID", "app"),
        ("SHIHENG_APP_SECRET", SECRET),
        ("SHIHENG_API_VERSION", "2.0"),
    ]))
    .unwrap();
    assert_eq!(config.api_version(), "2.0");
    let e = Config::from_lookup(vars(&[("SHIHENG_BASE_URL", "http://x")])).unwrap_err();
    assert_eq!(e.to_string(), "configuration: SHIHENG_APP_ID is not set");
    let e = shiheng::Client::new(Config::new("ftp://x", "a", "b")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn call_raw_is_signed_keeps_every_field_and_shares_the_limits() {
    let server = MockServer::start_async().await;
    let (seen, matcher) = signed_by(APP_ID, SECRET);
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/wecom/employee/page")
                .is_true(matcher);
            then.status(200)
                .json_body(json!({"code": "0", "traceId": "t", "result": {"surprise": [1, "x"]}}));
        })
        .await;
    let params = json!({"pageNum": 1, "pageSize": 1});
    let reply = client(&server.base_url())
        .call_raw("listWecomEmployees", "/wecom/employee/page", Some(&params))
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["result"]["surprise"], json!([1, "x"]));
    assert_eq!(seen.lock().unwrap()[0]["paramContent"], params);

    let small = shiheng::Client::new(
        Config::new(server.base_url(), APP_ID, SECRET).with_max_response_bytes(10),
    )
    .unwrap();
    let e = small
        .call_raw("listWecomEmployees", "/wecom/employee/page", Some(&params))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResponseTooLarge, "{e}");
}

/// A `paramContent` nested deeper than 128 levels has no canonical form:
/// the call fails with `Error::Signing` and nothing is sent.
#[tokio::test]
async fn a_param_content_too_deep_to_sign_is_refused_before_sending() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST);
            then.status(200)
                .json_body(json!({"code": "0", "result": {}}));
        })
        .await;
    let mut params = json!({"b": 1, "a": 2});
    for _ in 0..200 {
        params = json!([params]);
    }
    let e = client(&server.base_url())
        .call_raw("listWecomEmployees", "/wecom/employee/page", Some(&params))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Signing { .. }), "{e:?}");
    assert!(e.to_string().contains("could not sign the request"), "{e}");
    assert_eq!(mock.calls_async().await, 0);
}

/// What a generated call meets when the secret is wrong: the platform's
/// HTTP 200 envelope with code 40001.
async fn wrong_secret(server: &MockServer) -> httpmock::Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(POST).path_includes("/wecom/");
            then.status(200).json_body(json!({
                "code": "40001",
                "msg": "invalid sign",
                "traceId": "t-wrong-secret",
                "result": null
            }));
        })
        .await
}

#[tokio::test]
async fn a_generated_call_with_a_wrong_secret_is_an_api_error() {
    let server = MockServer::start_async().await;
    let mock = wrong_secret(&server).await;
    // Read from JSON, so a field the user adds to the spec (optional,
    // as the README says) does not break the test.
    let body: shiheng::types::ListWecomEmployeesRequest =
        serde_json::from_value(serde_json::json!({"paramContent": {"pageNum": 1, "pageSize": 10}}))
            .unwrap();
    let c = client(&server.base_url());
    let sent = c.generated().list_wecom_employees(&body).await;
    let error = c
        .classify::<shiheng::operations::ListWecomEmployees>(sent)
        .await
        .expect_err("code 40001 must not be Ok");
    assert_eq!(error.kind(), ErrorKind::Api, "{error}");
    assert_eq!(error.code(), Some("40001"));
    assert_eq!(error.trace_id(), Some("t-wrong-secret"));
    assert_eq!(error.status(), Some(200));
    assert_eq!(
        error.to_string(),
        "listWecomEmployees: the platform answered code 40001 \"invalid sign\" (traceId t-wrong-secret, HTTP 200)"
    );
    mock.assert_async().await;
}

/// `?` converts a generated call's error into `shiheng::Error`.
async fn first_employee_id(client: &shiheng::Client) -> Result<Option<i64>, Error> {
    // Read from JSON, so a field the user adds to the spec (optional,
    // as the README says) does not break the test.
    let body: shiheng::types::ListWecomEmployeesRequest =
        serde_json::from_value(serde_json::json!({"paramContent": {"pageNum": 1, "pageSize": 10}}))
            .unwrap();
    let sent = client.generated().list_wecom_employees(&body).await;
    let page = client
        .classify::<shiheng::operations::ListWecomEmployees>(sent)
        .await?
        .payload;
    Ok(page
        .result
        .and_then(|employees| employees.first().and_then(|e| e.id)))
}

#[tokio::test]
async fn question_mark_converts_generated_errors() {
    let server = MockServer::start_async().await;
    wrong_secret(&server).await;
    let error = first_employee_id(&client(&server.base_url()))
        .await
        .unwrap_err();
    assert_eq!(
        (error.kind(), error.code()),
        (ErrorKind::Api, Some("40001"))
    );

    // And a success still decodes, through the same records as the typed calls.
    let ok = MockServer::start_async().await;
    ok.mock_async(|when, then| {
        when.method(POST).path("/wecom/employee/page");
        then.status(200)
            .json_body(employee_page(7, 2, Some(1), Some(2)));
    })
    .await;
    assert_eq!(
        first_employee_id(&client(&ok.base_url())).await.unwrap(),
        Some(7)
    );
}

#[tokio::test]
async fn generated_transport_and_http_errors_convert_with_the_operation_named() {
    // Bind then drop: nothing listens there any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = first_employee_id(&client(&format!("http://127.0.0.1:{port}")))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
    assert!(
        error.to_string().starts_with("listWecomEmployees: "),
        "{error}"
    );

    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/wecom/employee/page");
            then.status(502).body("<html>bad gateway</html>");
        })
        .await;
    let c = shiheng::Client::new(
        Config::new(server.base_url(), APP_ID, SECRET).with_retry(shiheng::RetryPolicy::disabled()),
    )
    .unwrap();
    let error = first_employee_id(&c).await.unwrap_err();
    assert_eq!(
        (error.kind(), error.status()),
        (ErrorKind::Http, Some(502)),
        "{error}"
    );
    assert!(error.to_string().contains("bad gateway"), "{error}");
}

#[tokio::test]
async fn call_raw_returns_business_errors_as_errors() {
    let server = MockServer::start_async().await;
    wrong_secret(&server).await;
    let error = client(&server.base_url())
        .call_raw(
            "listWecomEmployees",
            "/wecom/employee/page",
            Some(&json!({"pageNum": 1, "pageSize": 1})),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (error.kind(), error.code()),
        (ErrorKind::Api, Some("40001"))
    );
    assert_eq!(error.status(), Some(200));
}

/// The call chosen at run time (the CLI's, `shiheng::dynamic`) classifies
/// the envelope as every call does, then decodes the `result` by the
/// operation's own decoder: a `result` that is not the spec's is a decode
/// error naming `result`, with the answer's traceId and status.
#[tokio::test]
async fn a_dynamic_call_decodes_its_result_or_names_why_not() {
    let server = MockServer::start_async().await;
    let op = shiheng::dynamic::all()
        .iter()
        .find(|op| !op.spec().params_required)
        .copied()
        .expect("the spec has an operation callable without paramContent");
    let path = op.spec().path;
    let bad = server
        .mock_async(|when, then| {
            when.method(POST).path(path);
            then.status(200)
                .json_body(json!({"code": "0", "msg": "ok", "traceId": "t-dyn", "result": [1, 2]}));
        })
        .await;
    let c = client(&server.base_url());
    let e = op.call(&c, None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert_eq!(
        (e.trace_id(), e.status()),
        (Some("t-dyn"), Some(200)),
        "{e}"
    );
    assert!(e.to_string().contains("`result`"), "{e}");
    bad.delete_async().await;
    // A business error is the business error, whatever the result.
    server
        .mock_async(|when, then| {
            when.method(POST).path(path);
            then.status(200).json_body(
                json!({"code": "40001", "msg": "invalid sign", "traceId": "t-dyn2", "result": [1]}),
            );
        })
        .await;
    let e = op.call(&c, None).await.unwrap_err();
    assert_eq!((e.kind(), e.code()), (ErrorKind::Api, Some("40001")), "{e}");
    assert_eq!(e.trace_id(), Some("t-dyn2"));
}

/// The dynamic table reads a page of a generic form with its items as text
/// and each item by the item codec (`DynOperation::paged`): its JSON is the
/// typed page's, written by the records, whatever the items hold (a number
/// where the spec says string, undeclared fields, a null item).
#[tokio::test]
async fn a_dynamic_page_is_the_typed_page_as_json() {
    let server = MockServer::start_async().await;
    let mut employees: serde_json::Value =
        serde_json::from_str(&common::fixture("samples/wecom-employee-page.json")).unwrap();
    let list = employees["result"]["result"].as_array_mut().unwrap();
    list[0]["addedLater"] = json!({"nested": [1, 2.5, "x"]});
    list[0]["mobileNumber"] = json!(13500000001u64);
    list.push(serde_json::Value::Null);
    let customers = common::fixture("samples/wecom-customer-list.json").replace(
        "\"memberId\": 1234,",
        "\"memberId\": 1234, \"bigId\": 123456789012345678901234567890,",
    );
    let cases = [
        (
            "/wecom/employee/page",
            employees.to_string(),
            json!({"pageNum": 1, "pageSize": 2}),
        ),
        (
            "/wecom/customer/list",
            customers,
            json!({"startId": 0, "pageSize": 2}),
        ),
    ];
    for (path, body, _) in &cases {
        server
            .mock_async(|when, then| {
                when.method(POST).path(*path);
                then.status(200)
                    .header("content-type", "application/json")
                    .body(body.clone());
            })
            .await;
    }
    let c = client(&server.base_url());
    let typed = [
        serde_json::to_value(c.list_wecom_employees().send().await.unwrap()).unwrap(),
        serde_json::to_value(c.list_wecom_customers().send().await.unwrap()).unwrap(),
    ];
    for ((path, _, params), typed) in cases.into_iter().zip(typed) {
        let op = shiheng::dynamic::all()
            .iter()
            .find(|op| op.spec().path == path)
            .unwrap();
        let dynamic = op.call(&c, Some(params)).await.unwrap().payload;
        assert_eq!(dynamic, typed, "{path}");
        let items = dynamic["result"].as_array().unwrap();
        assert!(
            items.len() >= 2 && items.iter().all(|i| i.is_object()),
            "{path}: {dynamic}"
        );
    }
}
