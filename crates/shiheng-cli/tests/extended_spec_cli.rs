//! The CLI half of "a new endpoint in the spec works everywhere with no
//! Rust": against `shiheng sandbox` (a child process), every operation of
//! the table is a command: a paginated one lists every generated item
//! exactly once (the same items the library lists), one without pagination
//! prints its result. The operations are found in the table, not named
//! here, so the test holds for whatever spec the build was generated from.
//! tests/regeneration.rs runs it on builds from extended specs (the
//! README's steps on a copy; the overlay tests/fixtures/spec-overlay-new-endpoint.yaml),
//! where it also checks, from the environment that build was given, that
//! the spec did add operations.

use std::collections::HashSet;

use futures::TryStreamExt;
use serde_json::Value;
use shiheng::operation::OperationSpec;
use shiheng::paginate::ListingOptions;
use shiheng::record::DynRecord;

mod common;

use common::{cli, sandbox};
/// The operations of the spec without the overlay.
const BASE_OPERATIONS: &[&str] = &[
    "listWecomEmployees",
    "listWecomCustomers",
    "listWecomGroupChats",
];

/// A `paramContent` for `schema` from the spec alone: each required field's
/// `example`.
fn example_params(schema: &str) -> Value {
    let spec: Value = serde_json::from_str(shiheng::spec::SPEC_JSON).expect("the spec");
    let schema = &spec["components"]["schemas"][schema];
    let mut params = serde_json::Map::new();
    for name in schema["required"].as_array().into_iter().flatten() {
        let name = name.as_str().expect("a field name");
        let example = &schema["properties"][name]["example"];
        assert!(!example.is_null(), "the spec gives {name} an example");
        params.insert(name.to_string(), example.clone());
    }
    Value::Object(params)
}

#[test]
fn every_operation_is_a_command_that_works_against_the_sandbox() {
    let added: Vec<&'static OperationSpec> = OperationSpec::all()
        .iter()
        .copied()
        .filter(|op| !BASE_OPERATIONS.contains(&op.operation_id))
        .collect();
    // Built from an extended spec (tests/regeneration.rs says so through
    // the environment it gives the build and the tests).
    let overlay = std::env::var_os("SHIHENG_SPEC_OVERLAY").is_some();
    if overlay || std::env::var_os("SHIHENG_IMPORT_CHECK").is_some() {
        assert!(
            added.iter().any(|op| op.pagination.is_some()),
            "the extended spec adds a paginated operation"
        );
    }
    // The overlay also adds one without pagination (the README's import of
    // a cursor page does not).
    if overlay {
        assert!(
            added.iter().any(|op| op.pagination.is_none()),
            "the overlay adds an operation without pagination"
        );
    }
    let (_sandbox, url) = sandbox();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = shiheng::Client::new(shiheng::Config::new(
        url.as_str(),
        "demo-app",
        "demo-secret",
    ))
    .expect("client");

    let (code, help, _) = cli(&url, &["--help"]);
    assert_eq!(code, 0);
    // The published operations and the added ones alike.
    for op in OperationSpec::all() {
        assert!(
            help.lines()
                .any(|l| l.contains(op.cli_command) && l.contains(op.summary)),
            "{} in --help:\n{help}",
            op.cli_command
        );
        match &op.pagination {
            Some(pagination) => {
                let (code, stdout, stderr) =
                    cli(&url, &[op.cli_command, "--all", "--format", "jsonl"]);
                assert_eq!(code, 0, "{}: {stderr}", op.cli_command);
                let ids: Vec<i64> = stdout
                    .lines()
                    .map(|line| {
                        let item: Value = serde_json::from_str(line).expect("jsonl");
                        item[pagination.item_id].as_i64().expect("an id")
                    })
                    .collect();
                let unique: HashSet<i64> = ids.iter().copied().collect();
                assert_eq!(unique.len(), ids.len(), "each item once");
                // The same items the library lists from the same sandbox.
                let listed: Vec<i64> = runtime.block_on(async {
                    let items = shiheng::dynamic::of(op)
                        .list(&client, ListingOptions::new())
                        .expect("a listing");
                    let items: Vec<Box<dyn DynRecord>> =
                        items.try_collect().await.expect("every item");
                    items
                        .iter()
                        .filter_map(|item| item.get(pagination.item_id).and_then(|c| c.as_i64()))
                        .collect()
                });
                assert!(!listed.is_empty(), "{} generated items", op.cli_command);
                assert_eq!(ids, listed, "{}", op.cli_command);
            }
            None => {
                let params = op.params_schema.map(example_params);
                let text = params.as_ref().map(Value::to_string);
                let mut args = vec![op.cli_command];
                if let Some(text) = &text {
                    args.extend(["--param-content", text.as_str()]);
                }
                let (code, stdout, stderr) = cli(&url, &args);
                assert_eq!(code, 0, "{}: {stderr}", op.cli_command);
                let printed: Value = serde_json::from_str(&stdout).expect("the result as JSON");
                let called = runtime
                    .block_on(shiheng::dynamic::of(op).call(&client, params))
                    .expect("the library's call");
                assert_eq!(printed, called.payload, "{}", op.cli_command);
                assert!(stderr.contains("done (traceId"), "{stderr}");
            }
        }
    }
}
