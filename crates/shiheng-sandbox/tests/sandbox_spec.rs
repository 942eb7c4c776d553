//! The sandbox is driven by the operation table, whatever it holds: every
//! operation is routed, its requests checked against its request schema
//! (40004 naming the field), its generated data listed exactly once with
//! unique ids (ascending for cursor listings, one above 2^53), its drift
//! mode planting differences the drift checker reports. These tests walk
//! `OperationSpec::all()` rather than naming endpoints, so they cover an
//! operation added to the spec as well.

use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;
use secrecy::SecretString;
use serde_json::{Value, json};
use shiheng::operation::{OperationSpec, PaginationStyle};
use shiheng::paginate::ListingOptions;
use shiheng::sign::{Clock, Md5Signer, SignInput, Signer, SystemClock};
use shiheng::{Client, Config};
use shiheng_sandbox::{Sandbox, SandboxConfig};
use shiheng_spec::drift::{CheckOutcome, DriftKind};

const ABOVE_2_POW_53: i64 = 9_007_199_254_740_993;

async fn started(config: SandboxConfig) -> (Sandbox, Client) {
    let sandbox = Sandbox::start(config).await.expect("sandbox");
    let client =
        Client::new(Config::new(sandbox.url(), "demo-app", "demo-secret")).expect("client");
    (sandbox, client)
}

fn paginated() -> impl Iterator<Item = &'static OperationSpec> {
    OperationSpec::all()
        .iter()
        .copied()
        .filter(|op| op.pagination.is_some())
}

/// A signed envelope around `params`, as the client would send it.
fn envelope(params: &Value) -> Value {
    let timestamp = SystemClock.now_millis();
    let signature = Md5Signer::new()
        .sign(
            &SignInput {
                app_id: "demo-app",
                timestamp,
                version: "1.0",
                param_content: Some(params),
            },
            &SecretString::from("demo-secret"),
        )
        .expect("a signable paramContent");
    json!({"appId": "demo-app", "sign": signature.sign, "version": "1.0",
           "timestamp": timestamp, "paramContent": params})
}

async fn post(sandbox: &Sandbox, path: &str, body: &Value) -> (u16, Value) {
    // A plain reqwest client needs a process-wide rustls provider when
    // reqwest has none of its own (shiheng's default `tls-ring` feature).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let response = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http")
        .post(format!("{}{path}", sandbox.url()))
        .json(body)
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_paginated_operation_lists_its_generated_items_exactly_once() {
    let config = paginated().fold(SandboxConfig::default(), |config, op| {
        config.with_item_count(op.operation_id, 57)
    });
    let (sandbox, client) = started(config).await;
    for op in paginated() {
        let Some(pagination) = op.pagination else {
            continue;
        };
        assert_eq!(sandbox.item_count(op.operation_id), Some(57));
        let options = ListingOptions::new().page_size(10);
        let mut items = shiheng::dynamic::of(op)
            .list(&client, options)
            .expect("a listing");
        let mut ids = Vec::new();
        while let Some(item) = items.next().await {
            let item = item.unwrap_or_else(|e| panic!("{}: {e}", op.operation_id));
            let id = item.get(pagination.item_id).and_then(|c| c.as_i64());
            ids.push(id.unwrap_or_else(|| panic!("{}: an item without id", op.operation_id)));
            assert!(item.extra().is_empty(), "nothing undeclared: {item:?}");
        }
        let unique: HashSet<i64> = ids.iter().copied().collect();
        assert_eq!((ids.len(), unique.len()), (57, 57), "{}", op.operation_id);
        assert!(ids.contains(&ABOVE_2_POW_53), "{}", op.operation_id);
        if matches!(pagination.style, PaginationStyle::Cursor { .. }) {
            assert!(
                ids.windows(2).all(|w| w[0] < w[1]),
                "{}: cursor ids ascend: {ids:?}",
                op.operation_id
            );
        }
        let summary = items.summary();
        assert_eq!((summary.items, summary.duplicates_dropped), (57, 0));
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn cursor_pages_follow_the_key_and_end_with_a_null_cursor() {
    let (sandbox, _) = started(SandboxConfig::default()).await;
    for op in paginated() {
        let Some(pagination) = op.pagination else {
            continue;
        };
        let PaginationStyle::Cursor {
            cursor,
            next_cursor,
            key,
        } = pagination.style
        else {
            continue;
        };
        let key = key.unwrap_or(pagination.item_id);
        let size = pagination.page_size.name;
        let mut position = 0i64;
        let mut keys: Vec<i64> = Vec::new();
        for _ in 0..1000 {
            let (status, body) = post(
                &sandbox,
                op.path,
                &envelope(&json!({ cursor.name: position, size: 25 })),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            let page = &body["result"];
            let items = page[pagination.items]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let page_keys: Vec<i64> = items.iter().filter_map(|i| i[key].as_i64()).collect();
            assert!(
                page_keys.iter().all(|k| *k > position),
                "keys after the cursor"
            );
            keys.extend(&page_keys);
            match page[next_cursor].as_i64() {
                Some(next) => {
                    assert_eq!(Some(&next), page_keys.last(), "next cursor = last key");
                    position = next;
                }
                None => {
                    assert!(page[next_cursor].is_null());
                    break;
                }
            }
        }
        assert_eq!(keys.len(), sandbox.item_count(op.operation_id).unwrap_or(0));
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn requests_are_checked_against_each_operations_request_schema() {
    let (sandbox, _) = started(SandboxConfig::default()).await;
    for op in paginated() {
        let Some(pagination) = op.pagination else {
            continue;
        };
        let position = pagination.position().name;
        let size = pagination.page_size;
        let start = pagination.position().bounds.min.max(1);
        let cases = [
            (
                json!({ position: start }),
                format!("`paramContent.{}` is missing", size.name),
            ),
            (
                json!({ position: start, size.name: "10" }),
                format!(
                    "`paramContent.{}` must be an integer, not a string",
                    size.name
                ),
            ),
            (
                json!({ position: start, size.name: size.bounds.max + 1 }),
                format!(
                    "`paramContent.{}` must be within {}..={}",
                    size.name, size.bounds.min, size.bounds.max
                ),
            ),
            (
                json!({ position: -1, size.name: 1 }),
                format!("`paramContent.{position}` must be within"),
            ),
        ];
        for (params, want) in cases {
            let (status, body) = post(&sandbox, op.path, &envelope(&params)).await;
            assert_eq!(status, 400, "{}: {params}: {body}", op.operation_id);
            assert_eq!(body["code"], json!("40004"));
            let msg = body["msg"].as_str().unwrap_or_default();
            assert!(
                msg.contains(&want),
                "{}: {msg:?} lacks {want:?}",
                op.operation_id
            );
        }
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn drift_mode_plants_differences_in_every_operation() {
    let (sandbox, client) = started({
        let mut config = SandboxConfig::default();
        config.drift = true;
        config
    })
    .await;
    let report = shiheng_spec::drift::check(&client).await.expect("a report");
    sandbox.shutdown().await;
    assert_eq!(report.operations.len(), OperationSpec::all().len());
    for (position, op) in OperationSpec::all().iter().enumerate() {
        let checked = &report.operations[position];
        assert_eq!(checked.operation, op.operation_id);
        assert!(
            matches!(checked.outcome, CheckOutcome::Checked { status: 200, .. }),
            "{:?}",
            checked.outcome
        );
        let kinds: Vec<DriftKind> = report
            .drifts
            .iter()
            .filter(|d| d.operation == op.operation_id)
            .map(|d| d.kind)
            .collect();
        assert!(kinds.contains(&DriftKind::UnknownField), "{kinds:?}");
        assert!(kinds.contains(&DriftKind::TypeMismatch), "{kinds:?}");
        // Every second operation's envelopes lack `code`.
        assert_eq!(
            kinds.contains(&DriftKind::MissingRequired),
            position % 2 == 1,
            "{}: {kinds:?}",
            op.operation_id
        );
    }
}

/// The planted differences for the three published endpoints, as
/// `SandboxConfig::drift` documents them.
#[tokio::test]
async fn drift_mode_plants_the_documented_differences() {
    let (sandbox, client) = started({
        let mut config = SandboxConfig::default();
        config.drift = true;
        config
    })
    .await;
    let report = shiheng_spec::drift::check(&client).await.expect("a report");
    sandbox.shutdown().await;
    // The three published endpoints' differences only: an operation added
    // to the spec has its own (the test above covers every operation).
    let published = [
        "listWecomEmployees",
        "listWecomCustomers",
        "listWecomGroupChats",
    ];
    let lines: Vec<String> = report
        .drifts
        .iter()
        .filter(|d| published.contains(&d.operation.as_str()))
        .map(ToString::to_string)
        .collect();
    let undeclared = "unknown field (string value; the spec does not declare it)";
    for want in [
        format!("listWecomEmployees: result.result[0].undeclaredField: {undeclared} (50 occurrences)"),
        "listWecomEmployees: result.result[1].gender: value \"undocumented\" is not one of the spec's known values [\"0\", \"1\", \"2\"]".to_string(),
        "listWecomEmployees: result.result[1].address: integer where the spec says string".to_string(),
        "listWecomEmployees: result.result[1].undeclaredDetail: unknown field (object value; the spec does not declare it)".to_string(),
        "listWecomCustomers: code: required field missing".to_string(),
        format!("listWecomCustomers: result.result[0].undeclaredField: {undeclared} (100 occurrences)"),
        "listWecomCustomers: result.result[1].memberId: string where the spec says integer".to_string(),
        format!("listWecomGroupChats: result.result[0].undeclaredField: {undeclared} (100 occurrences)"),
        "listWecomGroupChats: result.result[1].employeeId: string where the spec says integer".to_string(),
    ] {
        assert!(lines.contains(&want), "missing {want:?} in {lines:#?}");
    }
    assert_eq!(lines.len(), 11, "{lines:#?}");
}

#[tokio::test]
async fn inserting_and_removing_items_work_for_every_paginated_operation() {
    let (sandbox, client) = started(SandboxConfig::default()).await;
    for op in paginated() {
        let Some(pagination) = op.pagination else {
            continue;
        };
        let before = sandbox.item_count(op.operation_id).expect("a listing");
        assert_eq!(
            sandbox.insert_items(op.operation_id, 5),
            Ok(5),
            "{}",
            op.operation_id
        );
        assert_eq!(sandbox.item_count(op.operation_id), Some(before + 5));
        // The fresh items are served, ids unique, before the others.
        let mut items = shiheng::dynamic::of(op)
            .list(&client, ListingOptions::new())
            .expect("a listing");
        let mut ids = Vec::new();
        while let Some(item) = items.next().await {
            let item = item.unwrap_or_else(|e| panic!("{}: {e}", op.operation_id));
            ids.extend(item.get(pagination.item_id).and_then(|c| c.as_i64()));
        }
        assert_eq!(ids.len(), before + 5, "{}", op.operation_id);
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), before + 5);
        assert_eq!(
            sandbox.remove_items(op.operation_id, 7),
            Ok(7),
            "{}",
            op.operation_id
        );
        assert_eq!(sandbox.item_count(op.operation_id), Some(before - 2));
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn inserting_items_never_silently_does_nothing() {
    let (sandbox, _) = started(SandboxConfig::default()).await;
    let unknown = sandbox
        .insert_items("noSuchOperation", 5)
        .expect_err("not an operation");
    assert!(
        unknown.to_string().starts_with(
            "insert_items(noSuchOperation): `noSuchOperation` is not an operationId of the spec"
        ),
        "{unknown}"
    );
    assert!(sandbox.remove_items("noSuchOperation", 5).is_err());
    for op in OperationSpec::all()
        .iter()
        .filter(|op| op.pagination.is_none())
    {
        let error = sandbox
            .insert_items(op.operation_id, 1)
            .expect_err("nothing to insert into");
        assert!(error.to_string().contains("does not page"), "{error}");
        assert!(error.to_string().contains(op.operation_id), "{error}");
        assert!(sandbox.remove_items(op.operation_id, 1).is_err());
    }
    sandbox.shutdown().await;
    // A cursor listing whose items start at the key's lowest value has no
    // room below the first: an error that says so.
    for op in paginated().filter(|op| {
        op.pagination
            .is_some_and(|p| matches!(p.style, PaginationStyle::Cursor { .. }))
    }) {
        let pagination = op.pagination.expect("paged");
        let key = match pagination.style {
            PaginationStyle::Cursor { key, .. } => key.unwrap_or(pagination.item_id),
            _ => pagination.item_id,
        };
        let mut item = serde_json::Map::new();
        item.insert(pagination.item_id.to_string(), json!(1));
        item.insert(key.to_string(), json!(1));
        let config =
            SandboxConfig::default().with_items(op.operation_id, vec![Value::Object(item)]);
        let (sandbox, _) = started(config).await;
        let error = sandbox
            .insert_items(op.operation_id, 1)
            .expect_err("no key below 1");
        let text = error.to_string();
        assert!(text.contains(op.operation_id), "{text}");
        assert!(text.contains("no room"), "{text}");
        assert_eq!(sandbox.item_count(op.operation_id), Some(1), "unchanged");
        sandbox.shutdown().await;
    }
}

#[tokio::test]
async fn an_unknown_operation_in_the_configuration_is_refused() {
    let error = Sandbox::start(SandboxConfig::default().with_item_count("listWecomEmployes", 3))
        .await
        .expect_err("a typo");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    let text = error.to_string();
    assert!(
        text.contains("`listWecomEmployes` is not an operationId of the spec"),
        "{text}"
    );
    assert!(
        text.contains("listWecomEmployees"),
        "names the ones there are: {text}"
    );
}
