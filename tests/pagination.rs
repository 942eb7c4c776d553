//! Pagination against a real local HTTP server (httpmock): page-number and
//! cursor listings, their edge cases, and the guards against endless ones.

mod common;

use std::time::{Duration, Instant};

use common::{client, cursor_page, employee_page};
use futures::{StreamExt, TryStreamExt};
use httpmock::prelude::*;
use serde_json::{Value, json};
use shiheng::ErrorKind;

fn param(req: &HttpMockRequest, name: &str) -> Option<i64> {
    let body: Value = serde_json::from_slice(req.body_ref()).ok()?;
    body["paramContent"][name].as_i64()
}

/// Answers page `n` of the employee listing with `body`.
async fn on_page(server: &MockServer, n: i64, body: Value, delay_ms: u64) -> httpmock::Mock<'_> {
    server
        .mock_async(move |when, then| {
            when.method(POST)
                .path("/wecom/employee/page")
                .is_true(move |req| param(req, "pageNum") == Some(n));
            then.status(200)
                .delay(Duration::from_millis(delay_ms))
                .json_body(body);
        })
        .await
}

/// Answers the customer listing at cursor `start` with `body`.
async fn on_cursor(server: &MockServer, start: i64, body: Value) -> httpmock::Mock<'_> {
    on_cursor_at(server, "/wecom/customer/list", start, body).await
}

/// Answers the cursor listing at `path` and cursor `start` with `body`.
async fn on_cursor_at<'a>(
    server: &'a MockServer,
    path: &'static str,
    start: i64,
    body: Value,
) -> httpmock::Mock<'a> {
    server
        .mock_async(move |when, then| {
            when.method(POST)
                .path(path)
                .is_true(move |req| param(req, "startId") == Some(start));
            then.status(200).json_body(body);
        })
        .await
}

async fn employee_ids(
    server: &MockServer,
    page_size: u32,
) -> (Result<Vec<i64>, shiheng::Error>, shiheng::ListingSummary) {
    let mut stream = client(&server.base_url())
        .list_wecom_employees()
        .page_size(page_size)
        .concurrency(3)
        .stream();
    let mut ids = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(e) => ids.push(e.id.unwrap()),
            Err(e) => return (Err(e), stream.summary()),
        }
    }
    (Ok(ids), stream.summary())
}

#[tokio::test]
async fn zero_items() {
    let server = MockServer::start_async().await;
    let first = on_page(&server, 1, employee_page(1, 0, Some(0), Some(0)), 0).await;
    let (ids, summary) = employee_ids(&server, 50).await;
    assert_eq!(ids.unwrap(), Vec::<i64>::new());
    assert_eq!((summary.pages, summary.items), (1, 0));
    first.assert_calls_async(1).await;
}

#[tokio::test]
async fn one_page() {
    let server = MockServer::start_async().await;
    let first = on_page(&server, 1, employee_page(1, 3, Some(1), Some(3)), 0).await;
    let (ids, summary) = employee_ids(&server, 50).await;
    assert_eq!(ids.unwrap(), [1, 2, 3]);
    assert!(!summary.totals_disagree());
    first.assert_calls_async(1).await;
}

#[tokio::test]
async fn exactly_full_last_page_with_agreeing_counts_ends_there() {
    let server = MockServer::start_async().await;
    on_page(&server, 1, employee_page(1, 2, Some(2), Some(4)), 0).await;
    on_page(&server, 2, employee_page(3, 2, Some(2), Some(4)), 0).await;
    let third = on_page(&server, 3, employee_page(5, 0, Some(2), Some(4)), 0).await;
    let (ids, summary) = employee_ids(&server, 2).await;
    assert_eq!(ids.unwrap(), [1, 2, 3, 4]);
    assert_eq!(summary.items, 4);
    // pages = 2 and total = 2 full pages: no need to ask for page 3.
    third.assert_calls_async(0).await;
}

#[tokio::test]
async fn exactly_full_last_page_without_a_total_checks_one_page_further() {
    let server = MockServer::start_async().await;
    on_page(&server, 1, employee_page(1, 2, Some(2), None), 0).await;
    on_page(&server, 2, employee_page(3, 2, Some(2), None), 0).await;
    let third = on_page(&server, 3, employee_page(5, 0, Some(2), None), 0).await;
    let (ids, _) = employee_ids(&server, 2).await;
    assert_eq!(ids.unwrap(), [1, 2, 3, 4]);
    third.assert_calls_async(1).await;
}

#[tokio::test]
async fn short_last_page_ends_the_listing() {
    let server = MockServer::start_async().await;
    on_page(&server, 1, employee_page(1, 2, Some(3), Some(5)), 0).await;
    on_page(&server, 2, employee_page(3, 2, Some(3), Some(5)), 0).await;
    on_page(&server, 3, employee_page(5, 1, Some(3), Some(5)), 0).await;
    let fourth = on_page(&server, 4, employee_page(6, 0, None, None), 0).await;
    let (ids, summary) = employee_ids(&server, 2).await;
    assert_eq!(ids.unwrap(), [1, 2, 3, 4, 5]);
    assert!(!summary.totals_disagree());
    fourth.assert_calls_async(0).await;
}

#[tokio::test]
async fn missing_pages_falls_back_to_sequential_until_a_short_page() {
    let server = MockServer::start_async().await;
    on_page(&server, 1, employee_page(1, 2, None, None), 0).await;
    on_page(&server, 2, employee_page(3, 2, None, None), 0).await;
    on_page(&server, 3, employee_page(5, 1, None, None), 0).await;
    let (ids, _) = employee_ids(&server, 2).await;
    assert_eq!(ids.unwrap(), [1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn an_empty_page_before_the_reported_end_is_an_error_naming_it() {
    let server = MockServer::start_async().await;
    on_page(&server, 1, employee_page(1, 2, Some(50), Some(100)), 0).await;
    on_page(&server, 2, employee_page(3, 2, Some(50), Some(100)), 0).await;
    let rest = server
        .mock_async(|when, then| {
            when.method(POST).path("/wecom/employee/page");
            then.status(200)
                .json_body(employee_page(0, 0, Some(50), Some(100)));
        })
        .await;
    let mut stream = client(&server.base_url())
        .list_wecom_employees()
        .page_size(2)
        .concurrency(3)
        .stream();
    let mut ids = Vec::new();
    let error = loop {
        match stream.next().await {
            Some(Ok(e)) => ids.push(e.id.unwrap()),
            Some(Err(e)) => break e,
            None => panic!("the listing ended without an error after {ids:?}"),
        }
    };
    // Everything before the gap arrived; then an error, not a silent end.
    assert_eq!(ids, [1, 2, 3, 4]);
    assert_eq!(error.kind(), ErrorKind::Pagination, "{error}");
    let text = error.to_string();
    assert!(text.contains("page 3 held 0 of 2 items"), "{text}");
    assert!(text.contains("50 pages and 100 items"), "{text}");
    assert!(stream.next().await.is_none());
    // Concurrency 3: at most twice that many pages are requested or held
    // ahead of the one judged, so a few pages past the gap, not 48.
    assert!(
        rest.calls_async().await <= 6,
        "{}",
        rest.calls_async().await
    );
}

#[tokio::test]
async fn pages_too_low_keeps_going_while_pages_are_full() {
    let server = MockServer::start_async().await;
    // `pages` says 1, `total` says 5: the counts disagree, so follow the data.
    on_page(&server, 1, employee_page(1, 2, Some(1), Some(5)), 0).await;
    on_page(&server, 2, employee_page(3, 2, Some(1), Some(5)), 0).await;
    on_page(&server, 3, employee_page(5, 1, Some(1), Some(5)), 0).await;
    let (ids, _) = employee_ids(&server, 2).await;
    assert_eq!(ids.unwrap(), [1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn duplicates_across_pages_are_dropped_and_counted() {
    let server = MockServer::start_async().await;
    // An item inserted mid-listing shifted id 3 from page 1 onto page 2.
    on_page(&server, 1, employee_page(1, 3, Some(2), Some(6)), 0).await;
    on_page(&server, 2, employee_page(3, 3, Some(2), Some(6)), 0).await;
    on_page(&server, 3, employee_page(0, 0, Some(2), Some(6)), 0).await;
    let (ids, summary) = employee_ids(&server, 3).await;
    assert_eq!(ids.unwrap(), [1, 2, 3, 4, 5]);
    assert_eq!(summary.duplicates_dropped, 1);
    assert_eq!(
        (summary.first_total, summary.last_total),
        (Some(6), Some(6))
    );
    assert!(summary.totals_disagree(), "6 reported, 5 yielded");
}

#[tokio::test]
async fn pages_arrive_in_order_whatever_their_latency() {
    let server = MockServer::start_async().await;
    on_page(&server, 1, employee_page(1, 2, Some(4), Some(8)), 0).await;
    on_page(&server, 2, employee_page(3, 2, Some(4), Some(8)), 300).await;
    on_page(&server, 3, employee_page(5, 2, Some(4), Some(8)), 0).await;
    on_page(&server, 4, employee_page(7, 2, Some(4), Some(8)), 100).await;
    on_page(&server, 5, employee_page(0, 0, Some(4), Some(8)), 0).await;
    let (ids, summary) = employee_ids(&server, 2).await;
    assert_eq!(ids.unwrap(), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert!(!summary.totals_disagree());
}

#[tokio::test]
async fn an_error_on_page_k_ends_the_stream_after_the_items_before_it() {
    let server = MockServer::start_async().await;
    on_page(&server, 1, employee_page(1, 2, Some(4), Some(8)), 0).await;
    on_page(&server, 2, employee_page(3, 2, Some(4), Some(8)), 0).await;
    on_page(
        &server,
        3,
        json!({"code": "50001", "msg": "db down", "traceId": "t3"}),
        0,
    )
    .await;
    on_page(&server, 4, employee_page(7, 2, Some(4), Some(8)), 0).await;
    let mut stream = client(&server.base_url())
        .list_wecom_employees()
        .page_size(2)
        .stream();
    let mut ids = Vec::new();
    let mut error = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(e) => ids.push(e.id.unwrap()),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    assert_eq!(ids, [1, 2, 3, 4]);
    let error = error.expect("the stream yields the error");
    assert_eq!(
        (error.code(), error.trace_id()),
        (Some("50001"), Some("t3"))
    );
    assert!(stream.next().await.is_none(), "nothing after the error");
}

#[tokio::test]
async fn dropping_the_stream_stops_the_listing() {
    let server = MockServer::start_async().await;
    on_page(&server, 1, employee_page(1, 2, Some(1000), Some(2000)), 0).await;
    let rest = server
        .mock_async(|when, then| {
            when.method(POST).path("/wecom/employee/page");
            then.status(200)
                .delay(Duration::from_millis(500))
                .json_body(employee_page(100, 2, Some(1000), Some(2000)));
        })
        .await;
    let mut stream = client(&server.base_url())
        .list_wecom_employees()
        .page_size(2)
        .concurrency(4)
        .stream();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.id, Some(1));
    // Pages 2.. are in flight now; dropping cancels them and starts no more.
    let started = Instant::now();
    drop(stream);
    assert!(started.elapsed() < Duration::from_millis(100));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let asked = rest.calls_async().await;
    assert!(
        asked <= 4,
        "{asked} requests after the drop; concurrency was 4"
    );
}

#[tokio::test]
async fn a_page_cap_ends_an_endless_listing() {
    let server = MockServer::start_async().await;
    let all = server
        .mock_async(|when, then| {
            when.method(POST).path("/wecom/employee/page");
            // Always full, never a `pages`: would go on forever.
            then.status(200).json_body(employee_page(1, 2, None, None));
        })
        .await;
    let result: Result<Vec<_>, _> = client(&server.base_url())
        .list_wecom_employees()
        .page_size(2)
        .max_pages(5)
        .pages()
        .try_collect()
        .await;
    let e = result.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Pagination, "{e}");
    assert!(e.to_string().contains("max_pages"), "{e}");
    all.assert_calls_async(5).await;
}

#[tokio::test]
async fn cursor_listing_follows_next_start_id_to_null() {
    let server = MockServer::start_async().await;
    on_cursor(&server, 0, cursor_page(&[3, 7], Some(7))).await;
    on_cursor(&server, 7, cursor_page(&[8, 9], Some(9))).await;
    on_cursor(&server, 9, cursor_page(&[9_007_199_254_740_993], None)).await;
    let (items, summary) = client(&server.base_url())
        .list_wecom_customers()
        .page_size(2)
        .stream()
        .try_collect_with_summary()
        .await
        .unwrap();
    let ids: Vec<i64> = items.iter().map(|c| c.id.unwrap()).collect();
    assert_eq!(ids, [3, 7, 8, 9, 9_007_199_254_740_993]);
    assert_eq!(
        (summary.pages, summary.items, summary.duplicates_dropped),
        (3, 5, 0)
    );
}

#[tokio::test]
async fn a_cursor_that_does_not_advance_is_an_error() {
    let server = MockServer::start_async().await;
    on_cursor(&server, 0, cursor_page(&[1, 2], Some(5))).await;
    let stuck = on_cursor(&server, 5, cursor_page(&[6, 7], Some(5))).await;
    let mut stream = client(&server.base_url())
        .list_wecom_customers()
        .page_size(2)
        .stream();
    let mut ids = Vec::new();
    let error = loop {
        match stream.next().await {
            Some(Ok(c)) => ids.push(c.id.unwrap()),
            Some(Err(e)) => break e,
            None => panic!("the listing must not end quietly"),
        }
    };
    // The stuck page's items are delivered, then the error.
    assert_eq!(ids, [1, 2, 6, 7]);
    assert_eq!(error.kind(), ErrorKind::Pagination);
    assert!(
        error
            .to_string()
            .contains("startId 5 answered nextStartId 5"),
        "{error}"
    );
    assert!(stream.next().await.is_none());
    stuck.assert_calls_async(1).await;
}

#[tokio::test]
async fn the_same_cursor_page_twice_is_an_error() {
    let server = MockServer::start_async().await;
    on_cursor(&server, 0, cursor_page(&[1, 2], Some(2))).await;
    on_cursor(&server, 2, cursor_page(&[1, 2], Some(4))).await;
    let result: Result<Vec<_>, _> = client(&server.base_url())
        .list_wecom_customers()
        .page_size(2)
        .stream()
        .try_collect()
        .await;
    let e = result.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Pagination);
    assert!(e.to_string().contains("same page"), "{e}");
}

#[tokio::test]
async fn group_chat_pages_carry_their_cursor() {
    let server = MockServer::start_async().await;
    let sample: Value =
        serde_json::from_str(&common::fixture("samples/wecom-group-chat-list.json")).unwrap();
    let end = json!({"code": "0", "traceId": "t", "result": {"nextStartId": null, "pageSize": 0, "result": []}});
    on_cursor_at(&server, "/wecom/group-chat/list", 0, sample).await;
    on_cursor_at(&server, "/wecom/group-chat/list", 133, end).await;
    let pages: Vec<_> = client(&server.base_url())
        .list_wecom_group_chats()
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(
        pages[0].position,
        shiheng::paginate::PagePosition::Cursor(0)
    );
    assert_eq!(pages[0].next_cursor, Some(133));
    assert_eq!(
        pages[1].position,
        shiheng::paginate::PagePosition::Cursor(133)
    );
    assert_eq!(
        pages[0].trace_id.as_deref(),
        Some("85c64652945145619295e03a2cb1f57f")
    );
}

#[tokio::test]
async fn invalid_listing_arguments_fail_before_sending() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200);
        })
        .await;
    let c = client(&server.base_url());
    let e = c
        .list_wecom_employees()
        .page_size(51)
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = c
        .list_wecom_employees()
        .concurrency(0)
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = c
        .list_wecom_customers()
        .page_size(0)
        .pages()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    any.assert_calls_async(0).await;
}
