//! Proof that every valid form of OpenAPI 3.0.3 the spec may be written in
//! works in the typed client, the sandbox and the drift check, with no
//! hand-written Rust: compiled only when build.rs merged
//! tests/fixtures/spec-overlay-new-endpoint.yaml into the spec (as
//! crates/shiheng-cli/tests/regeneration.rs does, with tests/extended_spec.rs). Its
//! `getStoreProfile` has an inline request envelope, paramContent, response
//! envelope and result (with an inline nested object and a field reached
//! through a `$ref` chain), `getStoreDetail` an `allOf` paramContent and a
//! result that is an alias of an `allOf`, `listStoreNotes` an inline page of
//! inline items. build/normalize.rs names them (`GetStoreProfileParams`,
//! `…Result`, `ListStoreNotesItem`, …). The CLI's side is
//! crates/shiheng-cli/tests/inline_spec_cli.rs.
#![cfg(shiheng_spec_overlay)]

mod common;

use std::num::NonZeroU64;

use httpmock::prelude::*;
use serde_json::json;
use shiheng::operation::Operation;
use shiheng::operations::{GetStoreDetail, GetStoreProfile, ListStoreNotes};
use shiheng::types::{GetStoreDetailParams, GetStoreProfileParams};

fn store_id(id: u64) -> NonZeroU64 {
    NonZeroU64::new(id).expect("not zero")
}

#[test]
fn inline_schemas_are_named_after_their_operation_in_the_table() {
    let profile = GetStoreProfile::SPEC;
    assert_eq!(profile.request_schema, "GetStoreProfileRequest");
    assert_eq!(profile.params_schema, Some("GetStoreProfileParams"));
    assert!(profile.params_required);
    assert_eq!(profile.response_schema, "GetStoreProfileResponse");
    assert_eq!(profile.result_schema, "GetStoreProfileResult");
    // An `allOf` paramContent and a result reached through a `$ref` chain.
    let detail = GetStoreDetail::SPEC;
    assert_eq!(detail.params_schema, Some("GetStoreDetailParams"));
    assert_eq!(detail.result_schema, "StoreDetail");
    // The inline page item, and the bounds of the inline paramContent.
    let notes = ListStoreNotes::SPEC.pagination.expect("paginated");
    assert_eq!(notes.item_schema, "ListStoreNotesItem");
    assert_eq!(
        (notes.page_size.bounds.min, notes.page_size.bounds.max),
        (1, 50)
    );
}

#[tokio::test]
async fn the_typed_client_sends_and_reads_the_inline_forms() {
    let server = MockServer::start_async().await;
    let (seen, matcher) = common::signed_by(common::APP_ID, common::SECRET);
    let profile = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/store/profile")
                .is_true(move |req| {
                    let body = serde_json::from_slice::<serde_json::Value>(req.body_ref())
                        .unwrap_or_default();
                    body["paramContent"] == json!({"storeId": 1001, "fields": ["address"]})
                        && matcher(req)
                });
            then.status(200)
                .json_body(json!({"code": "0", "traceId": "t", "result": {
                    "storeId": 1001, "storeName": "食亨小馆",
                    "address": {"city": "上海", "street": "南京西路 1 号"},
                    "brand": {"brandId": 7, "brandName": "食亨"}
                }}));
        })
        .await;
    let detail = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/store/detail")
                .body_includes("\"withManager\":true");
            then.status(200)
                .json_body(json!({"code": "0", "traceId": "t", "result": {
                    "storeId": 1001, "storeName": "食亨小馆", "manager": "王", "seats": 40,
                    "brand": {"brandName": "食亨"}
                }}));
        })
        .await;
    let client = common::client(&server.base_url());

    let result = client
        .get_store_profile()
        .params(GetStoreProfileParams {
            store_id: store_id(1001),
            fields: Some(vec!["address".into()]),
        })
        .send()
        .await
        .expect("the inline call");
    profile.assert_async().await;
    assert_eq!(seen.lock().expect("seen").len(), 1, "signed");
    assert_eq!(result.store_name.as_deref(), Some("食亨小馆"));
    // The inline nested object is a record of its own.
    let address = result.address.as_ref().expect("an address");
    assert_eq!(address.city.as_deref(), Some("上海"));
    // StoreBrand → BrandRef → Brand: one type, the chain's end.
    let brand: &shiheng::types::Brand = result.brand.as_ref().expect("a brand");
    assert_eq!(brand.brand_id, Some(7));
    assert!(result.extra.is_empty(), "every field declared");

    let merged: shiheng::types::StoreDetail = client
        .get_store_detail()
        .params(GetStoreDetailParams {
            store_id: store_id(1001),
            with_manager: Some(true),
        })
        .send()
        .await
        .expect("the allOf call");
    detail.assert_async().await;
    // Fields of both branches of the allOf, on one record.
    assert_eq!(merged.store_name.as_deref(), Some("食亨小馆"));
    assert_eq!(merged.manager.as_deref(), Some("王"));
    assert_eq!(merged.seats, Some(40));
    assert_eq!(
        merged.brand.as_ref().and_then(|b| b.brand_name.as_deref()),
        Some("食亨")
    );
    assert!(merged.extra.is_empty(), "every field declared");
}

/// The inline-forms endpoints served by the sandbox, called through the
/// typed client, refused when their parameters break the schema, and
/// checked by `shiheng_spec::drift::check`.
mod sandbox {
    use futures::TryStreamExt;
    use serde_json::json;
    use shiheng::{Client, Config};
    use shiheng_sandbox::{Sandbox, SandboxConfig};
    use shiheng_spec::drift::{CheckOutcome, DriftKind};

    use super::{GetStoreDetailParams, GetStoreProfileParams, store_id};

    const INLINE: &[&str] = &["getStoreProfile", "getStoreDetail", "listStoreNotes"];

    async fn started(config: SandboxConfig) -> (Sandbox, Client) {
        let sandbox = Sandbox::start(config).await.expect("sandbox");
        let client =
            Client::new(Config::new(sandbox.url(), "demo-app", "demo-secret")).expect("client");
        (sandbox, client)
    }

    #[tokio::test]
    async fn the_sandbox_answers_every_inline_form() {
        let (sandbox, client) = started(SandboxConfig::default()).await;
        let profile = client
            .get_store_profile()
            .params(GetStoreProfileParams {
                store_id: store_id(1001),
                fields: None,
            })
            .send()
            .await
            .expect("an inline result");
        assert!(profile.extra.is_empty(), "{profile:?}");
        let detail = client
            .get_store_detail()
            .params(GetStoreDetailParams {
                store_id: store_id(1001),
                with_manager: None,
            })
            .send()
            .await
            .expect("a merged result");
        assert!(detail.extra.is_empty(), "{detail:?}");
        let expected = sandbox.item_count("listStoreNotes").expect("a listing");
        let notes: Vec<shiheng::types::ListStoreNotesItem> = client
            .list_store_notes()
            .page_size(50)
            .stream()
            .try_collect()
            .await
            .expect("every note");
        assert_eq!(notes.len(), expected);
        assert!(notes.iter().all(|n| n.note_id.is_some()));
        sandbox.shutdown().await;
    }

    #[tokio::test]
    async fn parameters_that_break_an_inline_or_merged_schema_are_refused() {
        let (sandbox, client) = started(SandboxConfig::default()).await;
        // The typed call reads the params as the hoisted type first.
        let local = client
            .get_store_profile()
            .param_content(json!({"storeId": 0}))
            .send()
            .await
            .expect_err("storeId has a minimum of 1");
        assert_eq!(local.kind(), shiheng::ErrorKind::InvalidArgument, "{local}");
        // What reaches the sandbox is validated against the same schema.
        for (id, path, params, field) in [
            (
                "getStoreProfile",
                "/store/profile",
                json!({"storeId": 0}),
                "paramContent.storeId",
            ),
            (
                "getStoreProfile",
                "/store/profile",
                json!({"fields": []}),
                "paramContent.storeId",
            ),
            (
                "getStoreDetail",
                "/store/detail",
                json!({"withManager": true}),
                "paramContent.storeId",
            ),
            (
                "getStoreDetail",
                "/store/detail",
                json!({"storeId": 1, "withManager": "yes"}),
                "paramContent.withManager",
            ),
            (
                "listStoreNotes",
                "/store/notes",
                json!({"pageNum": 1, "pageSize": 51}),
                "paramContent.pageSize",
            ),
        ] {
            let refused = client
                .call_raw(id, path, Some(&params))
                .await
                .expect_err("refused");
            assert_eq!(refused.code(), Some("40004"), "{id} {params}: {refused}");
            assert!(
                refused.to_string().contains(field),
                "{id} {params}: {refused}"
            );
        }
        sandbox.shutdown().await;
    }

    #[tokio::test]
    async fn check_finds_no_drift_in_the_inline_forms_and_drift_mode_plants_some() {
        let (sandbox, client) = started(SandboxConfig::default()).await;
        let report = shiheng_spec::drift::check(&client).await.expect("check");
        sandbox.shutdown().await;
        assert!(!report.has_drift(), "{:?}", report.drifts);
        for id in INLINE {
            let checked = report
                .operations
                .iter()
                .find(|o| o.operation == *id)
                .expect("in the report");
            assert!(
                matches!(checked.outcome, CheckOutcome::Checked { status: 200, .. }),
                "{id}: {:?}",
                checked.outcome
            );
        }

        let (sandbox, client) = started({
            let mut config = SandboxConfig::default();
            config.drift = true;
            config
        })
        .await;
        let report = shiheng_spec::drift::check(&client).await.expect("check");
        sandbox.shutdown().await;
        for id in ["getStoreProfile", "getStoreDetail"] {
            let kinds: Vec<DriftKind> = report
                .drifts
                .iter()
                .filter(|d| d.operation == id)
                .map(|d| d.kind)
                .collect();
            assert!(kinds.contains(&DriftKind::UnknownField), "{id}: {kinds:?}");
        }
    }
}
