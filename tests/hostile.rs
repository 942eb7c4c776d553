//! Hostile answers: arbitrary bytes and arbitrary JSON, served over real HTTP
//! on loopback, must come back as `Ok` or a typed error, never a panic.
//! Property-based (proptest) with a fixed seed and a bounded case count, so
//! CI runs the same cases every time in well under a minute.

mod common;

use std::sync::{Arc, Mutex};

use common::scripted::{Action, ScriptedServer};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed, TestRunner};
use serde_json::Value;
use shiheng::{ErrorKind, RetryPolicy};

const CASES: u32 = 400;

/// The status and body the scripted server answers with next.
type Answer = Arc<Mutex<(u16, Vec<u8>)>>;

fn runner() -> TestRunner {
    TestRunner::new(ProptestConfig {
        cases: CASES,
        rng_seed: RngSeed::Fixed(0x5E1F_CAFE),
        failure_persistence: None,
        ..ProptestConfig::default()
    })
}

/// Arbitrary JSON, biased towards envelope-shaped objects with the fields
/// the client reads, holding values of every type.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(Value::from("0")),
    ];
    let value = leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("id".to_string()),
                    Just("status".to_string()),
                    Just("phone".to_string()),
                    Just("followUserFlag".to_string()),
                    Just("result".to_string()),
                    Just("pages".to_string()),
                    "[a-zA-Z]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    (value.clone(), value, any::<bool>()).prop_map(|(code_or_any, result, envelope)| {
        if envelope {
            serde_json::json!({"code": "0", "msg": null, "traceId": "t", "result": {"pages": 1, "total": 1, "result": [result, code_or_any]}})
        } else {
            code_or_any
        }
    })
}

fn check(
    rt: &tokio::runtime::Runtime,
    client: &shiheng::Client,
    shared: &Answer,
    status: u16,
    body: Vec<u8>,
) -> Result<(), TestCaseError> {
    *shared.lock().unwrap() = (status, body);
    let outcome = rt.block_on(client.list_wecom_employees().send());
    if let Err(e) = outcome {
        let text = e.to_string();
        prop_assert!(!text.contains('\n'), "one line: {text}");
        prop_assert!(
            matches!(
                e.kind(),
                ErrorKind::Decode | ErrorKind::Api | ErrorKind::Http
            ),
            "unexpected kind {:?}: {text}",
            e.kind()
        );
    } else {
        prop_assert!((200..300).contains(&status));
    }
    Ok(())
}

fn setup() -> (
    tokio::runtime::Runtime,
    ScriptedServer,
    shiheng::Client,
    Answer,
) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let shared: Answer = Arc::default();
    let server = rt.block_on(ScriptedServer::start(vec![Action::Shared(shared.clone())]));
    let client = shiheng::Client::new(
        shiheng::Config::new(&server.url, common::APP_ID, common::SECRET)
            .with_retry(RetryPolicy::disabled()),
    )
    .unwrap();
    (rt, server, client, shared)
}

#[test]
fn arbitrary_bytes_never_panic() {
    let (rt, server, client, shared) = setup();
    let statuses = prop_oneof![
        Just(200u16),
        Just(400u16),
        Just(404u16),
        Just(500u16),
        Just(503u16)
    ];
    runner()
        .run(
            &(statuses, prop::collection::vec(any::<u8>(), 0..512)),
            |(status, body)| check(&rt, &client, &shared, status, body),
        )
        .unwrap();
    assert_eq!(server.requests(), CASES as usize);
}

#[test]
fn arbitrary_json_never_panics() {
    let (rt, server, client, shared) = setup();
    let statuses = prop_oneof![Just(200u16), Just(400u16), Just(503u16)];
    runner()
        .run(&(statuses, arbitrary_json()), |(status, json)| {
            check(&rt, &client, &shared, status, json.to_string().into_bytes())
        })
        .unwrap();
    assert_eq!(server.requests(), CASES as usize);
}
