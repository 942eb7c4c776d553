//! Listings that survive the platform (issue "tolerant by construction"):
//! fields in other scalar forms decode exactly and are counted, items that
//! cannot be decoded are delivered raw without ending the listing, and
//! answers that would lose or invent items, or never end, stop with a clear
//! error within a few requests. Each case is a real HTTP server on loopback.

mod common;

use std::time::Duration;

use common::client;
use futures::StreamExt;
use httpmock::prelude::*;
use serde_json::{Value, json};
use shiheng::record::Coercion;
use shiheng::{Error, ErrorKind};

fn envelope(result: Value) -> Value {
    json!({"code": "0", "msg": null, "traceId": "t-tolerance", "result": result})
}

/// Every item, each error kept: `(items, item-level errors, final error)`.
async fn drain<T>(
    mut items: shiheng::Items<T>,
) -> (Vec<T>, Vec<Error>, Option<Error>, shiheng::ListingSummary) {
    let (mut ok, mut item_errors, mut fatal) = (Vec::new(), Vec::new(), None);
    while let Some(next) = items.next().await {
        match next {
            Ok(item) => ok.push(item),
            Err(e) if e.kind() == ErrorKind::UndecodableItem => item_errors.push(e),
            Err(e) => {
                assert!(fatal.is_none(), "two fatal errors: {e}");
                fatal = Some(e);
            }
        }
    }
    let summary = items.summary();
    (ok, item_errors, fatal, summary)
}

#[tokio::test]
async fn every_field_in_another_scalar_form_still_decodes_exactly() {
    let server = MockServer::start_async().await;
    // Every declared field of every item in a form the spec does not say:
    // strings as numbers/booleans, integers as text, booleans as 0/1 text.
    let items: Vec<Value> = (1..=3)
        .map(|i| {
            json!({
                "id": format!("{}", 9_007_199_254_740_990_i64 + i),
                "weComUserId": 100 + i,
                "status": format!("{i}"),
                "name": true,
                "corpId": 7,
                "followUserFlag": "1",
                "userId": 12.5,
                "gender": 1,
                "avatarUrl": false,
                "qrCodeUrl": 3,
                "mobileNumber": 13_577_770_000_i64 + i,
                "emailAddress": 0,
                "businessEmail": 0,
                "address": 42,
                "phone": 13_577_770_000_i64
            })
        })
        .collect();
    server
        .mock_async(|when, then| {
            when.method(POST).path("/wecom/employee/page");
            then.status(200).json_body(envelope(
                json!({"pages": "1", "total": "3", "result": items}),
            ));
        })
        .await;
    let (employees, item_errors, fatal, summary) =
        drain(client(&server.base_url()).list_wecom_employees().stream()).await;
    assert!(
        fatal.is_none() && item_errors.is_empty(),
        "{fatal:?} {item_errors:?}"
    );
    assert_eq!(employees.len(), 3);
    let e = &employees[2];
    assert_eq!(e.id, Some(9_007_199_254_740_993));
    assert_eq!(e.we_com_user_id.as_deref(), Some("103"));
    assert_eq!(e.name.as_deref(), Some("true"));
    assert_eq!(e.user_id.as_deref(), Some("12.5"));
    assert_eq!(e.gender.as_deref(), Some("1"));
    assert_eq!(e.follow_user_flag, Some(true));
    assert_eq!(e.mobile_number.as_deref(), Some("13577770003"));
    assert_eq!(e.phone.as_deref(), Some("13577770000"));
    assert_eq!(e.status.map(|s| s.code()), Some(3));
    // The summary names each drifted field, with how and how often.
    let count = |field: &str, kind: Coercion| {
        summary
            .coercions
            .iter()
            .find(|(k, _)| k.schema == "Employee" && k.field == field && k.kind == kind)
            .map_or(0, |(_, n)| *n)
    };
    assert_eq!(count("id", Coercion::TextAsInteger), 3);
    assert_eq!(count("gender", Coercion::NumberAsText), 3);
    assert_eq!(count("name", Coercion::BooleanAsText), 3);
    assert_eq!(count("followUserFlag", Coercion::TextAsBoolean), 3);
    assert_eq!(count("userId", Coercion::NumberAsText), 3);
    // The spec documents phone numbers as a JSON number too (an anyOf of
    // both wire forms): decoded the same, and not a difference.
    assert_eq!(count("phone", Coercion::NumberAsText), 0);
    let drifted: std::collections::BTreeSet<&str> =
        summary.coercions.keys().map(|k| k.field).collect();
    for field in [
        "id",
        "weComUserId",
        "name",
        "corpId",
        "followUserFlag",
        "userId",
        "gender",
        "avatarUrl",
        "qrCodeUrl",
        "mobileNumber",
        "emailAddress",
        "businessEmail",
        "address",
        "pages",
        "total",
    ] {
        assert!(drifted.contains(field), "{field} missing from {drifted:?}");
    }
    assert!(!drifted.contains("phone"), "{drifted:?}");
    assert!(summary.drifted());
    assert!(!summary.totals_disagree(), "{summary:?}");
}

#[tokio::test]
async fn undecodable_items_are_delivered_raw_and_the_listing_goes_on() {
    let server = MockServer::start_async().await;
    let page = json!({"nextStartId": null, "result": [
        {"id": 1, "name": "甲"},
        null,
        "a string",
        {"id": 4, "name": {"nested": "object"}},
        {"id": 5, "name": "乙"}
    ]});
    server
        .mock_async(|when, then| {
            when.method(POST).path("/wecom/customer/list");
            then.status(200).json_body(envelope(page));
        })
        .await;
    let (customers, item_errors, fatal, summary) =
        drain(client(&server.base_url()).list_wecom_customers().stream()).await;
    assert!(fatal.is_none(), "{fatal:?}");
    let ids: Vec<i64> = customers.iter().filter_map(|c| c.id).collect();
    assert_eq!(ids, [1, 5]);
    assert_eq!(item_errors.len(), 3);
    let raw: Vec<&str> = item_errors.iter().filter_map(Error::raw_item).collect();
    assert_eq!(
        raw,
        [
            "null",
            "\"a string\"",
            r#"{"id":4,"name":{"nested":"object"}}"#
        ]
    );
    let third = item_errors[2].to_string();
    assert!(third.contains("item 3 of cursor 0"), "{third}");
    assert!(third.contains("traceId t-tolerance"), "{third}");
    assert!(
        third.contains("Customer.name: an object where the spec says string"),
        "{third}"
    );
    assert_eq!((summary.items, summary.undecodable), (2, 3));
}

#[tokio::test]
async fn code_zero_without_a_result_is_an_error_not_an_empty_list() {
    for body in [
        json!({"code": "0", "msg": null, "traceId": "t-null", "result": null}),
        json!({"code": "0", "msg": null, "traceId": "t-null"}),
    ] {
        let server = MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.method(POST).path("/wecom/employee/page");
                then.status(200).json_body(body.clone());
            })
            .await;
        let (items, _, fatal, _) =
            drain(client(&server.base_url()).list_wecom_employees().stream()).await;
        assert!(items.is_empty());
        let e = fatal.expect("an error");
        assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
        assert!(e.to_string().contains("without a `result`"), "{e}");
        assert_eq!(e.trace_id(), Some("t-null"));
        assert_eq!(e.status(), Some(200));
    }
}

#[tokio::test]
async fn a_server_repeating_the_same_full_page_stops_within_a_few_pages() {
    let server = MockServer::start_async().await;
    let all = server
        .mock_async(|when, then| {
            when.method(POST).path("/wecom/employee/page");
            // No `pages`: a full page always asks for one more.
            then.status(200)
                .json_body(common::employee_page(1, 50, None, None));
        })
        .await;
    let (items, _, fatal, summary) =
        drain(client(&server.base_url()).list_wecom_employees().stream()).await;
    assert_eq!(items.len(), 50, "each id once");
    let e = fatal.expect("a pagination error");
    assert_eq!(e.kind(), ErrorKind::Pagination, "{e}");
    assert!(e.to_string().contains("brought no new item id"), "{e}");
    // The stall guard's pages plus what was already requested ahead
    // (at most twice the concurrency of 4): a few requests, not a million.
    let limit =
        shiheng::paginate::STALLED_PAGES as usize + 2 * shiheng::paginate::DEFAULT_CONCURRENCY;
    assert!(
        all.calls_async().await <= limit,
        "{} requests",
        all.calls_async().await
    );
    assert_eq!(summary.duplicates_dropped, 150);
}

#[tokio::test]
async fn pages_of_items_without_ids_stop_instead_of_counting_as_progress() {
    let server = MockServer::start_async().await;
    let empty_objects: Vec<Value> = (0..50).map(|_| json!({})).collect();
    let all = server
        .mock_async(|when, then| {
            when.method(POST).path("/wecom/employee/page");
            then.status(200).json_body(envelope(
                json!({"pages": 1_000_000, "result": empty_objects}),
            ));
        })
        .await;
    let (items, _, fatal, _) = drain(
        client(&server.base_url())
            .list_wecom_employees()
            .concurrency(2)
            .stream(),
    )
    .await;
    let e = fatal.expect("a pagination error");
    assert!(e.to_string().contains("brought no new item id"), "{e}");
    // Nothing is lost: the id-less items of the pages read are delivered.
    assert_eq!(items.len(), 150);
    assert!(
        all.calls_async().await <= 6,
        "{} requests",
        all.calls_async().await
    );
}

#[tokio::test]
async fn a_cursor_advancing_by_one_over_overlapping_pages_stops_early() {
    let server = MockServer::start_async().await;
    // startId n answers ids n+1..=n+100 and nextStartId n+1: each page is
    // 99 % the previous one.
    let all = server
        .mock_async(|when, then| {
            when.method(POST).path("/wecom/customer/list");
            then.respond_with(|req: &HttpMockRequest| {
                let body: Value = serde_json::from_slice(req.body_ref()).unwrap();
                let start = body["paramContent"]["startId"].as_i64().unwrap();
                let ids: Vec<i64> = (start + 1..=start + 100).collect();
                let page = common::cursor_page(&ids, Some(start + 1));
                HttpMockResponse::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(page.to_string())
                    .build()
            });
        })
        .await;
    let (items, _, fatal, summary) =
        drain(client(&server.base_url()).list_wecom_customers().stream()).await;
    let e = fatal.expect("a pagination error");
    assert!(e.to_string().contains("were new"), "{e}");
    let mut ids: Vec<i64> = items.iter().filter_map(|c| c.id).collect();
    let listed = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), listed, "each id once");
    assert!(
        all.calls_async().await <= 10,
        "{} requests",
        all.calls_async().await
    );
    assert!(summary.duplicates_dropped > 0);
}

#[tokio::test]
async fn a_page_over_the_item_limit_is_a_clear_error() {
    let server = MockServer::start_async().await;
    let many: Vec<Value> = (0..2_000).map(|i| json!({"id": i})).collect();
    server
        .mock_async(|when, then| {
            when.method(POST).path("/wecom/customer/list");
            then.status(200)
                .json_body(envelope(json!({"nextStartId": null, "result": many})));
        })
        .await;
    let (items, _, fatal, _) = drain(
        client(&server.base_url())
            .list_wecom_customers()
            .max_items_per_page(1_000)
            .stream(),
    )
    .await;
    assert!(items.is_empty());
    let e = fatal.expect("an error");
    assert_eq!(e.kind(), ErrorKind::Pagination, "{e}");
    assert!(
        e.to_string().contains(
            "cursor 0 holds more than 1000 items, the limit per page (traceId t-tolerance)"
        ),
        "{e}"
    );
}

#[tokio::test]
async fn a_short_page_while_later_pages_are_reported_is_an_error() {
    let server = MockServer::start_async().await;
    for (page, from, n) in [(1, 1, 50), (2, 51, 50), (3, 101, 10)] {
        server
            .mock_async(|when, then| {
                when.method(POST)
                    .path("/wecom/employee/page")
                    .body_includes(format!("\"pageNum\":{page}"));
                then.status(200)
                    .json_body(common::employee_page(from, n, Some(10), Some(500)));
            })
            .await;
    }
    let (items, _, fatal, _) = drain(
        client(&server.base_url())
            .list_wecom_employees()
            .concurrency(1)
            .deadline(Duration::from_secs(10))
            .stream(),
    )
    .await;
    assert_eq!(items.len(), 110, "what arrived is delivered");
    let e = fatal.expect("a pagination error");
    assert!(e.to_string().contains("page 3 held 10 of 50 items"), "{e}");
}

#[test]
fn a_record_or_list_of_another_json_form_is_refused_naming_what_was_expected() {
    for text in [r#""x""#, "[1]", "7", "true"] {
        let error = serde_json::from_str::<shiheng::types::Employee>(text)
            .expect_err("only an object is an Employee");
        assert!(
            error.to_string().contains("expected an object (Employee)"),
            "{text}: {error}"
        );
    }
    // Nested: a page whose item is a string.
    let error = serde_json::from_str::<shiheng::types::EmployeePage>(r#"{"result": ["x"]}"#)
        .expect_err("an item must be an object");
    assert!(error.to_string().contains("(Employee)"), "{error}");
    // A list is null (none) or an array, nothing else.
    let page: shiheng::types::EmployeePage =
        serde_json::from_str(r#"{"result": null, "total": 0}"#).unwrap();
    assert_eq!((page.result, page.total), (None, Some(0)));
    let error = serde_json::from_str::<shiheng::types::EmployeePage>(r#"{"result": "x"}"#)
        .expect_err("a list must be an array");
    assert!(error.to_string().contains("expected an array"), "{error}");
}
