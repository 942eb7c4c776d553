//! The CLI half of "every valid form of OpenAPI 3.0.3 works in every face":
//! it runs when the SDK's build.rs merged
//! tests/fixtures/spec-overlay-new-endpoint.yaml into the spec, as
//! tests/regeneration.rs does for a nested build (in any other build each
//! test returns at once: the endpoints are not there). Against `shiheng sandbox` (a child process), the operations
//! written with an inline paramContent (`get-store-profile`) and an `allOf`
//! one (`get-store-detail`) take `--param-content`, refuse parameters that
//! break the schema before sending, and print their result; the inline page
//! (`list-store-notes`) lists; `shiheng check` finds no drift in them.
//! tests/inline_spec.rs is the library's side.

use shiheng::operation::OperationSpec;

use serde_json::Value;

mod common;

use common::{cli, sandbox};

/// Whether this build has the overlay's inline endpoints. Without the
/// overlay the tests have nothing to run; with it (tests/regeneration.rs
/// sets `SHIHENG_SPEC_OVERLAY` for the nested build), the endpoints must be
/// there.
fn overlay_built() -> bool {
    let built = OperationSpec::by_id("getStoreProfile").is_some();
    assert!(
        built || std::env::var_os("SHIHENG_SPEC_OVERLAY").is_none(),
        "SHIHENG_SPEC_OVERLAY is set but the build has no getStoreProfile"
    );
    built
}

#[test]
fn inline_and_all_of_params_are_passed_with_param_content() {
    if !overlay_built() {
        return;
    }
    let (_sandbox, url) = sandbox();
    for command in ["get-store-profile", "get-store-detail"] {
        let (code, help, _) = cli(&url, &[command, "--help"]);
        assert_eq!(code, 0, "{command} --help");
        assert!(help.contains("--param-content"), "{command}:\n{help}");
    }

    let (code, stdout, stderr) = cli(
        &url,
        &[
            "get-store-profile",
            "--param-content",
            r#"{"storeId":1001,"fields":["address"]}"#,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let result: Value = serde_json::from_str(&stdout).expect("the result as JSON");
    assert!(result.is_object(), "{result}");
    assert!(stderr.contains("done (traceId"), "{stderr}");

    let (code, stdout, stderr) = cli(
        &url,
        &[
            "get-store-detail",
            "--param-content",
            r#"{"storeId":1001,"withManager":true}"#,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let result: Value = serde_json::from_str(&stdout).expect("the result as JSON");
    assert!(result.is_object(), "{result}");
}

#[test]
fn params_that_break_the_schema_are_refused_before_sending() {
    if !overlay_built() {
        return;
    }
    let (_sandbox, url) = sandbox();
    for (command, params, field) in [
        ("get-store-profile", r#"{"storeId":0}"#, "storeId"),
        ("get-store-profile", r#"{"fields":["a"]}"#, "storeId"),
        ("get-store-detail", r#"{"withManager":true}"#, "storeId"),
    ] {
        let (code, stdout, stderr) = cli(&url, &[command, "--param-content", params]);
        assert_eq!(code, 2, "{command} {params}: {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(
            stderr.contains("--param-content does not match") && stderr.contains(field),
            "{command} {params}: {stderr}"
        );
    }
    // Required: without it, the command says what it needs.
    let (code, _, stderr) = cli(&url, &["get-store-profile"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--param-content"), "{stderr}");
}

#[test]
fn the_inline_page_lists_and_check_finds_no_drift() {
    if !overlay_built() {
        return;
    }
    let (_sandbox, url) = sandbox();
    let (code, stdout, stderr) = cli(&url, &["list-store-notes", "--all", "--format", "jsonl"]);
    assert_eq!(code, 0, "{stderr}");
    let ids: Vec<i64> = stdout
        .lines()
        .map(|line| {
            let note: Value = serde_json::from_str(line).expect("jsonl");
            note["noteId"].as_i64().expect("a noteId")
        })
        .collect();
    assert!(!ids.is_empty());
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "each note once");

    let (code, stdout, stderr) = cli(&url, &["check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(summary.starts_with("no drift:"), "{stdout}");
    for id in ["getStoreProfile", "getStoreDetail", "listStoreNotes"] {
        assert!(summary.contains(id), "{id} checked: {summary}");
    }
}
