//! The partitioned cursor scan (`.concurrency(n)` on an operation whose spec
//! declares `cursorKey`) yields exactly the sequential scan's items in its
//! order, on every shape of key space; when the platform breaks the
//! monotone-key contract it finishes sequentially and says so. The server is
//! a real HTTP server on loopback implementing keyset pagination over an id
//! set the test chooses.

mod common;

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use httpmock::prelude::*;
use serde_json::{Value, json};

/// A keyset-paginated customer list over `ids` (kept sorted): `startId` c
/// answers the first `pageSize` ids above c, `nextStartId` the last of
/// them, or null when none is left. `break_after`: from that cursor on, the
/// next cursor is one less than the last key (the contract broken).
struct KeysetServer {
    server: MockServer,
    ids: Arc<Mutex<Vec<i64>>>,
    requests: Arc<Mutex<u64>>,
}

impl KeysetServer {
    async fn start(mut ids: Vec<i64>, break_after: Option<i64>) -> Self {
        ids.sort_unstable();
        ids.dedup();
        let ids = Arc::new(Mutex::new(ids));
        let requests = Arc::new(Mutex::new(0u64));
        let server = MockServer::start_async().await;
        let (table, count) = (ids.clone(), requests.clone());
        server
            .mock_async(move |when, then| {
                when.method(POST).path("/wecom/customer/list");
                then.respond_with(move |req: &HttpMockRequest| {
                    *count.lock().unwrap() += 1;
                    let body: Value = serde_json::from_slice(req.body_ref()).unwrap();
                    let start = body["paramContent"]["startId"].as_i64().unwrap();
                    let size = body["paramContent"]["pageSize"].as_u64().unwrap() as usize;
                    let ids = table.lock().unwrap();
                    let from = ids.partition_point(|&id| id <= start);
                    let page: Vec<i64> = ids[from..].iter().take(size).copied().collect();
                    let more = from + page.len() < ids.len();
                    let mut next = if more { page.last().copied() } else { None };
                    if let (Some(limit), Some(n)) = (break_after, next)
                        && start >= limit
                    {
                        next = Some(n - 1);
                    }
                    let answer = common::cursor_page(&page, next);
                    HttpMockResponse::builder()
                        .status(200)
                        .header("content-type", "application/json")
                        .body(answer.to_string())
                        .build()
                });
            })
            .await;
        Self {
            server,
            ids,
            requests,
        }
    }

    fn requests(&self) -> u64 {
        *self.requests.lock().unwrap()
    }

    fn reset(&self) {
        *self.requests.lock().unwrap() = 0;
    }

    /// The listing's ids with `concurrency`, its notices, and the requests it took.
    async fn list(&self, concurrency: usize) -> (Vec<i64>, Vec<String>, u64) {
        self.reset();
        let mut items = common::client(&self.server.base_url())
            .list_wecom_customers()
            .page_size(100)
            .concurrency(concurrency)
            .stream();
        let mut ids = Vec::new();
        while let Some(item) = items.next().await {
            ids.push(item.expect("no error").id.expect("an id"));
        }
        (ids, items.summary().notices, self.requests())
    }
}

/// The partitioned scan equals the sequential one, with few extra requests.
async fn assert_same_as_sequential(ids: Vec<i64>) {
    let mut expected = ids.clone();
    expected.sort_unstable();
    expected.dedup();
    let server = KeysetServer::start(ids, None).await;
    let (sequential, _, sequential_requests) = server.list(1).await;
    assert_eq!(sequential, expected, "the sequential scan is the reference");
    for concurrency in [2, 8, 16] {
        let (partitioned, notices, requests) = server.list(concurrency).await;
        assert_eq!(
            partitioned.len(),
            sequential.len(),
            "concurrency {concurrency}"
        );
        assert!(
            partitioned == sequential,
            "concurrency {concurrency}: a different result"
        );
        assert!(notices.is_empty(), "{notices:?}");
        // Chunk boundaries cost up to half again; the probes a few batches
        // of `concurrency` requests whatever the listing's size.
        let budget = sequential_requests * 3 / 2 + 3 * concurrency as u64;
        assert!(
            requests <= budget,
            "concurrency {concurrency}: {requests} requests vs {sequential_requests} sequential"
        );
    }
}

#[tokio::test]
async fn dense_ids_with_a_tail_above_2_pow_53() {
    let mut ids: Vec<i64> = (1..=20_000).collect();
    ids.push(9_007_199_254_740_993);
    assert_same_as_sequential(ids).await;
}

#[tokio::test]
async fn sparse_ids() {
    // Gaps of 1 to 997, deterministic.
    let mut id = 0i64;
    let ids: Vec<i64> = (0..5_000u64)
        .map(|i| {
            id += 1 + ((i * 7919) % 997) as i64;
            id
        })
        .collect();
    assert_same_as_sequential(ids).await;
}

#[tokio::test]
async fn clustered_ids() {
    let ids: Vec<i64> = [
        1_000_000i64,
        1_000_000_000,
        1_000_000_000_000,
        1_000_000_000_000_000,
    ]
    .iter()
    .flat_map(|base| (0..700).map(move |i| base + i * 3))
    .collect();
    assert_same_as_sequential(ids).await;
}

#[tokio::test]
async fn a_single_page_needs_no_probe() {
    let server = KeysetServer::start((1..=60).collect(), None).await;
    let (ids, _, requests) = server.list(8).await;
    assert_eq!(ids, (1..=60).collect::<Vec<_>>());
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn data_inserted_and_removed_mid_listing_is_listed_once_in_order() {
    let server = KeysetServer::start((1..=10_000).map(|i| i * 10).collect(), None).await;
    // Change the data while the listing runs: after the 5th request insert
    // ids between the existing ones and remove others.
    let table = server.ids.clone();
    let count = server.requests.clone();
    let changer = tokio::spawn(async move {
        loop {
            if *count.lock().unwrap() >= 5 {
                let mut ids = table.lock().unwrap();
                ids.retain(|id| id % 70 != 0);
                ids.extend((1..=10_000).filter(|i| i % 3 == 0).map(|i| i * 10 + 5));
                ids.sort_unstable();
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    });
    let (ids, notices, _) = server.list(8).await;
    changer.await.unwrap();
    assert!(notices.is_empty(), "{notices:?}");
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ascending, each id once"
    );
    // Every id present from start to end was listed; nothing that never existed was.
    for id in (1..=10_000).map(|i| i * 10).filter(|id| id % 70 != 0) {
        assert!(ids.binary_search(&id).is_ok(), "{id} is missing");
    }
    assert!(ids.iter().all(|id| id % 10 == 0 || id % 10 == 5));
}

#[tokio::test]
async fn a_broken_contract_finishes_sequentially_and_says_so() {
    let all: Vec<i64> = (1..=8_000).collect();
    // From cursor 3000 on, the next cursor is one less than the last key:
    // pages overlap by one item. The sequential scan copes (duplicates are
    // dropped); the partitioned one must notice and fall back.
    let server = KeysetServer::start(all.clone(), Some(3_000)).await;
    let (sequential, _, _) = server.list(1).await;
    assert_eq!(sequential, all);
    let (partitioned, notices, _) = server.list(8).await;
    assert!(
        partitioned == all,
        "every id once, in order ({} ids)",
        partitioned.len()
    );
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].contains("is not the last item's key")
            && notices[0].contains("listed sequentially from key"),
        "{}",
        notices[0]
    );
}

#[tokio::test]
async fn operations_without_a_cursor_key_stay_sequential() {
    // listWecomEmployees is page-number; its concurrency is its own. This
    // checks the table says which cursor operations may be partitioned.
    let customers = shiheng::operation::OperationSpec::by_id("listWecomCustomers").unwrap();
    assert!(matches!(
        customers.pagination.unwrap().style,
        shiheng::operation::PaginationStyle::Cursor {
            key: Some("id"),
            ..
        }
    ));
    let _ = json!({});
}

#[tokio::test]
async fn the_page_cap_ends_a_partitioned_scan_with_an_error() {
    let server = KeysetServer::start((1..=20_000).collect(), None).await;
    let mut items = common::client(&server.server.base_url())
        .list_wecom_customers()
        .page_size(100)
        .concurrency(8)
        .max_pages(20)
        .stream();
    let mut listed = 0;
    let error = loop {
        match items.next().await {
            Some(Ok(_)) => listed += 1,
            Some(Err(e)) => break e,
            None => panic!("the listing ended after {listed} items without the cap's error"),
        }
    };
    assert_eq!(error.kind(), shiheng::ErrorKind::Pagination);
    assert!(error.to_string().contains("max_pages"), "{error}");
    assert!(listed < 20 * 100, "{listed}");
    assert!(server.requests() <= 20, "{} requests", server.requests());
}
