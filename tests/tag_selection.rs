//! Proof that a service compiles only the operations of the tags it selects:
//! compiled only when build.rs applied a selection, as .ci/codegen-check
//! does with `SHIHENG_SPEC_OVERLAY=tests/fixtures/spec-overlay-second-tag.yaml
//! cargo test -p shiheng --no-default-features --features tls-ring,tag-wecom
//! --test tag_selection`. The overlay adds an operation tagged `shop`; with
//! `tag-wecom` alone, neither it nor the records only it reaches exist.
#![cfg(shiheng_tag_selection)]

mod common;

use httpmock::prelude::*;
use serde_json::{Value, json};

fn embedded_spec() -> Value {
    serde_json::from_str(shiheng::spec::SPEC_JSON).expect("the embedded spec is JSON")
}

#[test]
fn only_operations_of_the_selected_tag_are_generated() {
    assert!(
        shiheng::operation::OperationSpec::by_id("getShopStore").is_none(),
        "the `shop` operation was generated without its tag selected"
    );
    assert!(shiheng::operation::OperationSpec::by_path("/shop/store/get").is_none());
    assert!(
        !shiheng::operation::OperationSpec::all().is_empty(),
        "the `wecom` operations are missing"
    );
    let spec = embedded_spec();
    let paths = spec["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("a path item") {
            let tags = op["tags"].as_array().cloned().unwrap_or_default();
            assert!(
                tags.contains(&json!("wecom")),
                "{method} {path} is not tagged wecom, yet it was kept: {tags:?}"
            );
        }
    }
    for spec in shiheng::operation::OperationSpec::all() {
        assert!(
            paths.contains_key(spec.path),
            "{} is in the table but not in the embedded spec",
            spec.operation_id
        );
    }
    let schemas = spec["components"]["schemas"].as_object().expect("schemas");
    assert!(
        !schemas.contains_key("ShopStore") && !schemas.contains_key("GetShopStoreRequest"),
        "records only the `shop` operation reaches were kept"
    );
    assert!(schemas.contains_key("Employee"));
}

#[tokio::test]
async fn a_selected_operation_is_called() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/wecom/employee/page");
            then.status(200).json_body(json!({"code":"0","traceId":"t",
                "result":{"pages":1,"total":1,"result":[{"id":7,"name":"张三"}]}}));
        })
        .await;
    let page = common::client(&server.base_url())
        .list_wecom_employees()
        .send()
        .await
        .expect("the selected operation answers");
    mock.assert_async().await;
    let ids: Vec<i64> = page.result.unwrap().iter().filter_map(|e| e.id).collect();
    assert_eq!(ids, [7]);
}
