//! What importing tests/fixtures/pages/wecom-tag-list.page.txt with `shiheng
//! spec import --write` gives, once the client is built from the spec it
//! wrote (`SHIHENG_IMPORT_CHECK=1`, the saved sample in
//! `SHIHENG_IMPORT_SAMPLE`): the typed call exists and pages by cursor
//! against a real local server, and the sample the import saved decodes into
//! the generated types, contradictions included. No Rust was written for the
//! endpoint; compiled only in that build. Under `cargo test`,
//! crates/shiheng-cli/tests/regeneration.rs builds and runs it on a copy of
//! the project after the README's steps; `.ci/import-check` does the same
//! with `--spec` and `--sample-dir` on a copy of the spec.
#![cfg(shiheng_import_check)]

mod common;

use futures::TryStreamExt;
use httpmock::prelude::*;
use serde_json::json;
use shiheng::lenient::PlatformTime;
use shiheng::operation::Operation;

#[test]
fn the_saved_sample_decodes_into_the_generated_types() {
    let path = std::env::var("SHIHENG_IMPORT_SAMPLE")
        .expect("SHIHENG_IMPORT_SAMPLE: the sample the import saved (set by .ci/import-check)");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let envelope: shiheng::types::ListWecomTagsResponse = serde_json::from_str(&text).unwrap();
    assert_eq!(envelope.code.as_deref(), Some("0"));
    let page = envelope.result.unwrap();
    assert_eq!(page.next_start_id, Some(4402));
    let tags = page.result.unwrap();
    assert_eq!(tags.len(), 2);
    assert_eq!(tags[0].id, Some(4401));
    assert_eq!(tags[0].tag_name.as_deref(), Some("VIP"));
    // 3 is not in the table's list (1, 2): the import added it to the known values.
    assert_eq!(tags[1].type_, Some(3));
    // The table says string; the sample sends epoch milliseconds, then text.
    assert_eq!(
        tags[0].create_time,
        Some(PlatformTime::EpochMillis(1_666_751_098_000))
    );
    assert_eq!(
        tags[1].create_time,
        Some(PlatformTime::Text("2022-10-26 10:24:58".into()))
    );
    // Four levels deep in the table.
    let group = tags[0].group.as_ref().unwrap();
    assert_eq!(group.group_name.as_deref(), Some("会员等级"));
    let rules = group.rules.as_ref().unwrap();
    assert_eq!(rules[0].store_ids.as_deref(), Some(&[101, 102][..]));
    assert_eq!(tags[1].group, None);
}

#[tokio::test]
async fn the_typed_call_pages_by_cursor() {
    let server = MockServer::start_async().await;
    let (seen, matcher) = common::signed_by(common::APP_ID, common::SECRET);
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/wecom/tag/list")
                .body_includes("\"startId\":0")
                .is_true(matcher);
            then.status(200)
                .json_body(json!({"code": "0", "traceId": "t1",
                "result": {"nextStartId": 2, "pageSize": 2,
                    "result": [{"id": 1, "tagName": "VIP"}, {"id": 2, "tagName": "新客"}]}}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/wecom/tag/list")
                .body_includes("\"startId\":2");
            then.status(200)
                .json_body(json!({"code": "0", "traceId": "t2",
                "result": {"nextStartId": null, "pageSize": 1,
                    "result": [{"id": 3, "tagName": "流失", "type": 2}]}}));
        })
        .await;
    let tags: Vec<shiheng::types::Tag> = common::client(&server.base_url())
        .list_wecom_tags()
        .stream()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<Option<i64>> = tags.iter().map(|t| t.id).collect();
    assert_eq!(ids, [Some(1), Some(2), Some(3)]);
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "the first request was signed"
    );
    // The bounds came from the page (`[1~100]`) through the shared params.
    let pagination = <shiheng::operations::ListWecomTags as Operation>::SPEC
        .pagination
        .expect("x-pagination");
    let size = pagination.page_size.bounds;
    assert_eq!((size.min, size.max), (1, 100));
}
