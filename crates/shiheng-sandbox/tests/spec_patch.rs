//! The library side of `shiheng check --write-spec`, without the CLI: the
//! drift mode's answers (every page), `shiheng_spec::patch::amend` on the
//! shipped spec's text, then `drift::check_with` against the amended spec
//! (`CheckOptions::with_spec`): no drift left, nothing left for a person,
//! and only additions and widenings (every schema of the shipped spec is
//! still there). The sandbox binds 127.0.0.1 and stops with the test.

use serde_json::Value;
use shiheng::{Client, Config};
use shiheng_sandbox::{Sandbox, SandboxConfig};
use shiheng_spec::drift::{self, CheckOptions};
use shiheng_spec::patch;

const SPEC: &str = include_str!("../../../spec/shiheng-open.yaml");

#[tokio::test]
async fn the_patch_of_the_drift_mode_leaves_no_drift() {
    let mut config = SandboxConfig::default();
    config.drift = true;
    let sandbox = Sandbox::start(config).await.expect("sandbox");
    let client =
        Client::new(Config::new(sandbox.url(), "demo-app", "demo-secret")).expect("client");
    let original = patch::parse(SPEC).expect("the shipped spec parses");
    let options = CheckOptions::new()
        .with_spec(original.clone())
        .with_pages(drift::MAX_PAGES);
    let report = drift::check_with(&client, &options)
        .await
        .expect("a report");
    assert!(report.has_drift());
    assert_eq!(
        report.spec_sha256, None,
        "a spec given at run time has no hash"
    );
    // Every operation checked kept what it compared.
    for op in report.checked() {
        assert!(!op.answers.is_empty(), "{}", op.operation);
    }
    let patched = patch::amend(SPEC, &patch::answers(&report), "2026-12-02").expect("amended");
    assert!(patched.changed());
    assert_eq!(patched.left, Vec::<String>::new());
    let amended = patch::parse(&patched.text).expect("the patch parses");

    let options = CheckOptions::new()
        .with_spec(amended.clone())
        .with_pages(drift::MAX_PAGES);
    let again = drift::check_with(&client, &options)
        .await
        .expect("a report");
    sandbox.shutdown().await;
    let left: Vec<String> = again.drifts.iter().map(ToString::to_string).collect();
    assert_eq!(left, Vec::<String>::new());
    assert_eq!(again.checked().len(), report.checked().len());

    // Only additions and widenings: every schema and property stays.
    let schemas = |doc: &Value| -> Vec<String> {
        let mut out = Vec::new();
        for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
            out.push(name.clone());
            for field in schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|p| p.keys())
            {
                out.push(format!("{name}.{field}"));
            }
        }
        out
    };
    let after = schemas(&amended);
    for kept in schemas(&original) {
        assert!(after.contains(&kept), "{kept} was removed");
    }
    assert_eq!(amended["paths"], original["paths"]);
}
