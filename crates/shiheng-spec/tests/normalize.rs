//! `shiheng_spec::normalize`, the build's normalisation pass at run time:
//! the spec the SDK embeds is already in its form (whatever the spec file
//! says, as build.rs normalised it), and a spec read from a file with
//! inline schemas gets the names the build gives them.

use serde_json::{Value, json};
use shiheng_spec::normalize::normalize;

#[test]
fn the_embedded_spec_is_already_normalised() {
    let mut doc: Value = serde_json::from_str(shiheng::spec::SPEC_JSON).expect("the spec");
    let before = doc.clone();
    let normalized = normalize(&mut doc).expect("normalises");
    assert!(normalized.hoisted.is_empty(), "{:?}", normalized.hoisted);
    assert_eq!(doc, before);
}

#[test]
fn a_spec_read_from_a_file_gets_the_builds_names() {
    let mut doc = json!({
        "openapi": "3.0.3",
        "paths": {"/store/profile": {"post": {
            "operationId": "getStoreProfile",
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"paramContent": {
                    "type": "object", "required": ["storeId"],
                    "properties": {"storeId": {"type": "integer", "minimum": 1}}
                }}
            }}}},
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"result": {"$ref": "#/components/schemas/StoreAlias"}}
            }}}}}
        }}},
        "components": {"schemas": {
            "StoreAlias": {"$ref": "#/components/schemas/Store"},
            "Store": {"type": "object", "properties": {"name": {"type": "string"}}}
        }}
    });
    let normalized = normalize(&mut doc).expect("normalises");
    let names: Vec<&str> = normalized.hoisted.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "GetStoreProfileRequest",
            "GetStoreProfileParams",
            "GetStoreProfileResponse"
        ]
    );
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["GetStoreProfileRequest"]["properties"]["paramContent"],
        json!({"$ref": "#/components/schemas/GetStoreProfileParams"})
    );
    assert_eq!(
        schemas["GetStoreProfileResponse"]["properties"]["result"],
        json!({"$ref": "#/components/schemas/Store"}),
        "the chain followed"
    );
    assert!(schemas.get("StoreAlias").is_none());
}
