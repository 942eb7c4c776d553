//! Proof that the spec drives the client, the sandbox and the drift checker:
//! compiled only when build.rs merged
//! tests/fixtures/spec-overlay-new-endpoint.yaml into the spec
//! (`SHIHENG_SPEC_OVERLAY`). Under `cargo test`,
//! crates/shiheng-cli/tests/regeneration.rs builds and runs it (by hand:
//! `SHIHENG_SPEC_OVERLAY=$PWD/tests/fixtures/spec-overlay-new-endpoint.yaml
//! cargo test -p shiheng --test extended_spec`). The new endpoints' calls,
//! the new Employee field, the sandbox's answers to both new endpoints and
//! `check`'s verdict on them come with no hand-written Rust. The CLI's side
//! of the same proof (`shiheng list-wecom-tags --all --format jsonl`
//! against `shiheng sandbox` printing every generated tag once, `shiheng
//! get-corp-info` printing its result) is
//! crates/shiheng-cli/tests/extended_spec_cli.rs, run in the same build.
#![cfg(shiheng_spec_overlay)]

mod common;

use futures::TryStreamExt;
use httpmock::prelude::*;
use serde_json::json;

#[tokio::test]
async fn a_new_paginated_endpoint_gets_its_stream() {
    let server = MockServer::start_async().await;
    let (seen, matcher) = common::signed_by(common::APP_ID, common::SECRET);
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/wecom/tag/list")
                .is_true(move |req| {
                    let startid = serde_json::from_slice::<serde_json::Value>(req.body_ref())
                        .ok()
                        .and_then(|b| b["paramContent"]["startId"].as_i64());
                    startid == Some(0) && matcher(req)
                });
            then.status(200).json_body(json!({"code":"0","traceId":"t",
                "result":{"nextStartId":2,"result":[{"id":1,"tagName":"VIP"},{"id":2,"tagName":"新客"}]}}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/wecom/tag/list")
                .body_includes("\"startId\":2");
            then.status(200).json_body(json!({"code":"0","traceId":"t",
                "result":{"nextStartId":null,"result":[{"id":3,"tagName":"流失"}]}}));
        })
        .await;

    let tags: Vec<shiheng::types::Tag> = common::client(&server.base_url())
        .list_wecom_tags()
        .stream()
        .try_collect()
        .await
        .unwrap();
    let names: Vec<_> = tags.iter().filter_map(|t| t.tag_name.as_deref()).collect();
    assert_eq!(names, ["VIP", "新客", "流失"]);
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "the first request was signed"
    );
    // Bounds came from the shared CursorPageParams schema.
    let table = <shiheng::operations::ListWecomTags as shiheng::operation::Operation>::SPEC;
    assert_eq!(table.pagination.map(|p| p.page_size.bounds.max), Some(100));
    // No x-cli-command: the operationId in kebab-case.
    assert_eq!(table.cli_command, "list-wecom-tags");
}

#[test]
fn a_new_field_appears_on_the_generated_type() {
    let e: shiheng::types::Employee =
        serde_json::from_str(r#"{"id": 1, "department": "华东区"}"#).unwrap();
    assert_eq!(e.department.as_deref(), Some("华东区"));
    // ... and in the field list writers use to print absent fields as null.
    use shiheng::record::Record;
    let names = |fields: &[shiheng::record::Field]| -> Vec<&str> {
        fields.iter().map(|f| f.name).collect()
    };
    assert!(names(shiheng::types::Employee::FIELDS).contains(&"department"));
    assert_eq!(
        names(shiheng::types::Tag::FIELDS),
        [
            "id",
            "tagName",
            "groupName",
            "order",
            "createTime",
            "deleted"
        ]
    );
}

#[test]
fn envelopes_in_the_platforms_form_are_the_generic_types_others_keep_their_own() {
    use shiheng::types::{
        CorpInfo, CursorPageParams, GetCorpInfoRequest, GetCorpInfoResponse, ListWecomTagsRequest,
        ListWecomTagsResponse, ResponseEnvelope, TagPage,
    };
    fn request<P>(_: Option<&shiheng::operation::RequestEnvelope<P>>) {}
    fn response<T>(_: Option<&ResponseEnvelope<T>>) {}
    request::<CursorPageParams>(None::<&ListWecomTagsRequest>);
    response::<TagPage>(None::<&ListWecomTagsResponse>);
    // `additionalProperties` is not the plain form: generated types of their own.
    let own = |name: &str| name.rsplit("::").next().map(str::to_string);
    assert_eq!(
        own(std::any::type_name::<GetCorpInfoRequest>()).as_deref(),
        Some("GetCorpInfoRequest")
    );
    assert_eq!(
        own(std::any::type_name::<GetCorpInfoResponse>()).as_deref(),
        Some("GetCorpInfoResponse")
    );
    let answer: GetCorpInfoResponse =
        serde_json::from_str(r#"{"code": "0", "traceId": "t1", "result": {"corpId": "ww1"}}"#)
            .unwrap();
    assert_eq!(answer.trace_id.as_deref(), Some("t1"));
    assert_eq!(
        answer.result.and_then(|r: CorpInfo| r.corp_id).as_deref(),
        Some("ww1")
    );
    let tags: ListWecomTagsResponse =
        serde_json::from_str(r#"{"code": 0, "result": {"nextStartId": null, "result": []}}"#)
            .unwrap();
    assert_eq!(tags.code.as_deref(), Some("0"));
    assert_eq!(tags.result.and_then(|p| p.result).map(|r| r.len()), Some(0));
}

/// A paginated operation's page is an alias of one generic record per page
/// form (fields, types, wire names), its items as `T`: the shipped cursor
/// pages share one, `TagPage` (no `pageSize`) is another.
#[test]
fn pages_of_one_form_are_one_generic_record() {
    use shiheng::types::{
        CursorPage, CursorPage2, Customer, CustomerPage, Employee, EmployeePage, GroupChat,
        GroupChatPage, NumberedPage, Tag, TagPage,
    };
    use std::any::TypeId;
    fn same<A: 'static, B: 'static>() -> bool {
        TypeId::of::<A>() == TypeId::of::<B>()
    }
    assert!(same::<CustomerPage, CursorPage<Customer>>());
    assert!(same::<GroupChatPage, CursorPage<GroupChat>>());
    assert!(same::<EmployeePage, NumberedPage<Employee>>());
    assert!(same::<TagPage, CursorPage2<Tag>>());
    assert!(!same::<TagPage, CursorPage<Tag>>());

    // Read through the alias, by the decoding rule: a field the spec does
    // not declare is kept, an item of another form is refused naming it.
    let page: TagPage = serde_json::from_str(
        r#"{"nextStartId": 3, "result": [{"id": 3, "tagName": "VIP"}], "hasMore": true}"#,
    )
    .unwrap();
    assert_eq!(page.next_start_id, Some(3));
    let tags = page.result.unwrap_or_default();
    assert_eq!(tags[0].tag_name.as_deref(), Some("VIP"));
    assert!(page.extra.contains_key("hasMore"), "{:?}", page.extra);
    let error = serde_json::from_str::<TagPage>(r#"{"result": [7]}"#).unwrap_err();
    assert!(error.to_string().contains("(Tag)"), "{error}");
}

/// Progenitor's parameter structs decode through the compact decoder
/// (build/compact.rs) with serde's rules: an unknown field is ignored, an
/// `Option` may be missing, a missing or unfit field is named.
#[test]
fn parameter_structs_decode_by_serdes_rules_naming_the_field() {
    use shiheng::types::{GetStoreDetailParams, GetStoreProfileParams};
    let params: GetStoreDetailParams =
        serde_json::from_str(r#"{"storeId": 7, "withManager": true, "later": 1}"#).unwrap();
    assert_eq!(
        (params.store_id.get(), params.with_manager),
        (7, Some(true))
    );
    let params: GetStoreProfileParams = serde_json::from_str(r#"{"storeId": 8}"#).unwrap();
    assert_eq!((params.store_id.get(), params.fields), (8, None));
    for (text, named) in [
        (r#"{"withManager": true}"#, "field `storeId`: missing"),
        (
            r#"{"storeId": null}"#,
            "field `storeId`: invalid type: null",
        ),
        (
            r#"{"storeId": 0}"#,
            "field `storeId`: invalid value: integer `0`",
        ),
        (
            r#"{"storeId": 1, "withManager": "yes"}"#,
            "field `withManager`: invalid type",
        ),
    ] {
        let error = serde_json::from_str::<GetStoreDetailParams>(text).unwrap_err();
        assert!(error.to_string().starts_with(named), "{text}: {error}");
    }
    let error = serde_json::from_str::<GetStoreDetailParams>("[7]").unwrap_err();
    assert!(error.to_string().contains("expected a map"), "{error}");
    // A typed call names the field under `paramContent`, before sending.
    let envelope = serde_json::json!({"paramContent": {"storeId": 0}});
    let error = shiheng::operation::request_envelope::<GetStoreDetailParams>(&envelope)
        .map(|_| ())
        .unwrap_err();
    assert!(
        error.starts_with("`paramContent.storeId`: does not fit"),
        "{error}"
    );
}

/// The new endpoints served by the sandbox, listed and called through the
/// typed client, and checked by `shiheng_spec::drift::check`.
mod sandbox {
    use std::collections::HashSet;

    use futures::TryStreamExt;
    use serde_json::{Value, json};
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

    #[tokio::test]
    async fn the_new_cursor_endpoint_lists_every_generated_tag_exactly_once() {
        let (sandbox, client) = started(SandboxConfig::default()).await;
        let expected = sandbox.item_count("listWecomTags").expect("a listing");
        assert_eq!(expected, shiheng_sandbox::DEFAULT_ITEM_COUNT);
        let tags: Vec<shiheng::types::Tag> = client
            .list_wecom_tags()
            .page_size(7)
            .stream()
            .try_collect()
            .await
            .expect("every tag");
        let ids: Vec<i64> = tags.iter().map(|t| t.id.expect("an id")).collect();
        assert_eq!(ids.len(), expected);
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), expected, "unique");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ascending: {ids:?}");
        assert_eq!(ids.last(), Some(&ABOVE_2_POW_53));
        // Generated from the Tag schema: every field, bounds kept.
        assert!(
            tags.iter()
                .all(|t| t.order.is_none_or(|o| (0..=1000).contains(&o)))
        );
        assert!(tags.iter().any(|t| t.tag_name.is_some()));
        assert!(tags.iter().any(|t| t.deleted.is_some()));
        assert!(
            tags.iter().all(|t| t.extra.is_empty()),
            "nothing undeclared"
        );
        // 100 tags at 7 a page: 15 pages.
        assert!(sandbox.requests() >= 15);
        sandbox.shutdown().await;
    }

    #[tokio::test]
    async fn the_new_endpoint_without_pagination_answers_its_generated_result() {
        let (sandbox, client) = started(SandboxConfig::default()).await;
        let params = json!({"corpId": "ww0123456789abcdef"});
        let raw = client
            .call_raw("getCorpInfo", "/corp/info", Some(&params))
            .await
            .expect("raw call");
        assert_eq!(raw.body["code"], json!("0"));
        let result = raw.body["result"].clone();
        assert!(result.is_object(), "{result}");

        let typed = client
            .get_corp_info()
            .param_content(params)
            .send()
            .await
            .expect("typed call");
        assert_eq!(
            serde_json::to_value(&typed).expect("json"),
            result,
            "the same result"
        );
        let with_params = client
            .get_corp_info()
            .params(shiheng::types::CorpInfoParams {
                corp_id: "ww0123456789abcdef".parse().expect("a corp id"),
                with_stats: Some(true),
            })
            .send()
            .await
            .expect("typed params");
        assert_eq!(with_params, typed, "the same seed, the same result");
        sandbox.shutdown().await;
    }

    #[tokio::test]
    async fn the_new_endpoints_requests_are_checked_against_their_schemas() {
        let (sandbox, client) = started(SandboxConfig::default()).await;
        // The typed call reads its parameters as the spec's type first: a
        // missing required field is refused before anything is sent.
        let local = client
            .get_corp_info()
            .param_content(json!({"withStats": true}))
            .send()
            .await
            .expect_err("corpId is required");
        assert_eq!(local.kind(), shiheng::ErrorKind::InvalidArgument, "{local}");
        assert!(local.to_string().contains("corpId"), "{local}");
        // The sandbox checks what reaches it all the same.
        let refused = client
            .call_raw(
                "getCorpInfo",
                "/corp/info",
                Some(&json!({"withStats": true})),
            )
            .await
            .expect_err("corpId is required");
        assert_eq!(refused.code(), Some("40004"), "{refused}");
        assert!(
            refused.to_string().contains("paramContent.corpId"),
            "{refused}"
        );
        let local = client
            .get_corp_info()
            .param_content(json!({"corpId": ""}))
            .send()
            .await
            .expect_err("corpId has a minLength");
        assert_eq!(local.kind(), shiheng::ErrorKind::InvalidArgument, "{local}");
        assert!(local.to_string().contains("paramContent.corpId"), "{local}");
        let refused = client
            .call_raw("getCorpInfo", "/corp/info", Some(&json!({"corpId": ""})))
            .await
            .expect_err("corpId has a minLength");
        assert!(
            refused
                .to_string()
                .contains("`paramContent.corpId` must not be empty"),
            "{refused}"
        );
        let refused = client
            .call_raw(
                "listWecomTags",
                "/wecom/tag/list",
                Some(&json!({"startId": 0, "pageSize": 101})),
            )
            .await
            .expect_err("page size over the spec's maximum");
        assert_eq!(refused.code(), Some("40004"), "{refused}");
        assert!(
            refused.to_string().contains("paramContent.pageSize"),
            "{refused}"
        );
        sandbox.shutdown().await;
    }

    #[tokio::test]
    async fn check_finds_no_drift_in_them_and_drift_mode_plants_some() {
        let (sandbox, client) = started(SandboxConfig::default()).await;
        let report = shiheng_spec::drift::check(&client).await.expect("check");
        sandbox.shutdown().await;
        assert!(!report.has_drift(), "{:?}", report.drifts);
        assert_eq!(
            report.checked().len(),
            report.operations.len(),
            "{:?}",
            report.operations
        );
        for new in ["listWecomTags", "getCorpInfo"] {
            let checked = report
                .operations
                .iter()
                .find(|o| o.operation == new)
                .expect("in the report");
            assert!(matches!(
                checked.outcome,
                CheckOutcome::Checked { status: 200, .. }
            ));
        }

        let (sandbox, client) = started({
            let mut config = SandboxConfig::default();
            config.drift = true;
            config
        })
        .await;
        let report = shiheng_spec::drift::check(&client).await.expect("check");
        sandbox.shutdown().await;
        for new in ["listWecomTags", "getCorpInfo"] {
            let kinds: Vec<DriftKind> = report
                .drifts
                .iter()
                .filter(|d| d.operation == new)
                .map(|d| d.kind)
                .collect();
            assert!(kinds.contains(&DriftKind::UnknownField), "{new}: {kinds:?}");
            assert!(kinds.contains(&DriftKind::TypeMismatch), "{new}: {kinds:?}");
        }
        let plan = report
            .drifts
            .iter()
            .find(|d| d.operation == "getCorpInfo" && d.kind == DriftKind::UnknownValue)
            .expect("plan has x-known-values");
        assert_eq!(plan.path, "result.plan");
    }

    #[tokio::test]
    async fn user_data_for_the_new_endpoints_is_served_as_given() {
        let tags = vec![
            json!({"id": 30, "tagName": "VIP"}),
            json!({"id": 10, "tagName": "新客", "order": 2}),
            json!({"id": ABOVE_2_POW_53, "tagName": "流失", "deleted": true}),
        ];
        let corp =
            json!({"corpId": "ww1", "corpName": "食亨小馆", "plan": "pro", "industries": ["餐饮"]});
        let config = SandboxConfig::default()
            .with_items("listWecomTags", tags)
            .with_result("getCorpInfo", corp.clone());
        let (sandbox, client) = started(config).await;
        let listed: Vec<shiheng::types::Tag> = client
            .list_wecom_tags()
            .page_size(2)
            .stream()
            .try_collect()
            .await
            .expect("the user's tags");
        let names: Vec<_> = listed
            .iter()
            .filter_map(|t| t.tag_name.as_deref())
            .collect();
        assert_eq!(names, ["新客", "VIP", "流失"], "in cursor key order");
        let info = client
            .get_corp_info()
            .param_content(json!({"corpId": "ww1"}))
            .send()
            .await
            .expect("the user's result");
        assert_eq!(
            serde_json::to_value(&info)
                .expect("json")
                .as_object()
                .map(|o| o
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<serde_json::Map<String, Value>>()),
            corp.as_object().cloned()
        );
        sandbox.shutdown().await;
    }
}
