//! Proof that the spec drives the client: compiled only when build.rs merged
//! tests/fixtures/spec-overlay-new-endpoint.yaml into the spec
//! (`SHIHENG_SPEC_OVERLAY=tests/fixtures/spec-overlay-new-endpoint.yaml
//! cargo test --test extended_spec`, as .ci/run does). The new endpoint's
//! stream and the new Employee field exist with no hand-written Rust.
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
    let table = shiheng::operation::OperationSpec::by_id("listWecomTags").unwrap();
    assert_eq!(table.pagination.unwrap().page_size.bounds.max, 100);
    assert_eq!(table.cli_command, "list-wecom-tags");
}

#[test]
fn a_new_field_appears_on_the_generated_type() {
    let e: shiheng::types::Employee =
        serde_json::from_str(r#"{"id": 1, "department": "华东区"}"#).unwrap();
    assert_eq!(e.department.as_deref(), Some("华东区"));
    // ... and in the field list writers use to print absent fields as null.
    use shiheng::record::Record;
    assert!(
        shiheng::types::Employee::FIELDS
            .iter()
            .any(|f| f.name == "department")
    );
    let tag_fields: Vec<&str> = shiheng::types::Tag::FIELDS.iter().map(|f| f.name).collect();
    assert_eq!(tag_fields, ["id", "tagName"]);
}
