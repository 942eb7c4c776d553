//! The whole loop of docs/spec-changes.md against the sandbox's drift mode
//! (a platform that changed), through the `shiheng` binary: `check` finds
//! drift; `check --write-spec` writes the spec amended with what the
//! answers showed (exit 1 still: drift was found) and leaves the input
//! alone; the written spec is valid (it parses, the spec diff reads it, its
//! schemas resolve); `check --spec` against it finds no drift, every page
//! looked at; `spec diff` classifies every change the patch made, none
//! breaking for Rust. Expectations come from the check's own output and
//! the spec, so an operation added to the spec the README's way is part of
//! the loop too. The sandbox binds 127.0.0.1 and stops with the test.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;
use shiheng_sandbox::{Sandbox, SandboxConfig};

const BIN: &str = env!("CARGO_BIN_EXE_shiheng");
const SECRET: &str = "loop-secret-never-printed";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

fn shipped_spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/shiheng-open.yaml")
}

/// Runs `shiheng ARGS` in `dir`; (exit code, stdout, stderr).
fn shiheng(dir: &Path, url: &str, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .env("SHIHENG_BASE_URL", url)
        .env("SHIHENG_APP_ID", "demo-app")
        .env("SHIHENG_APP_SECRET", SECRET)
        .env_remove("SHIHENG_API_VERSION")
        .timeout(Duration::from_secs(120))
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    (output.status.code().unwrap_or(-1), stdout, stderr)
}

fn drifted() -> SandboxConfig {
    SandboxConfig::default()
        .with_credentials("demo-app", SECRET)
        .with_drift(true)
}

#[test]
fn drift_to_patch_to_no_drift_and_a_classified_diff() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("spec.yaml");
    let original = std::fs::read_to_string(shipped_spec()).expect("the shipped spec");
    std::fs::write(&input, &original).expect("copy");
    let rt = runtime();
    let sandbox = rt.block_on(Sandbox::start(drifted())).expect("sandbox");
    let url = sandbox.url();

    // 1. The platform changed: check says so.
    let (code, found, stderr) = shiheng(dir.path(), &url, &["check", "--spec", "spec.yaml"]);
    assert_eq!(code, 1, "{found}\n{stderr}");
    assert!(found.contains("drift: "), "{found}");

    // 2. --write-spec: exit 1 (drift found), the file written, the input kept.
    let (code, patched, stderr) = shiheng(
        dir.path(),
        &url,
        &[
            "check",
            "--spec",
            "spec.yaml",
            "--write-spec",
            "amended.yaml",
            "--pages",
            "2",
        ],
    );
    assert_eq!(code, 1, "{patched}\n{stderr}");
    assert!(patched.contains("wrote amended.yaml: "), "{patched}");
    assert!(!patched.contains("left for a person"), "{patched}");
    assert_eq!(
        std::fs::read_to_string(&input).expect("input"),
        original,
        "the input spec is never touched"
    );
    let written = std::fs::read_to_string(dir.path().join("amended.yaml")).expect("written");
    let changes: Vec<&str> = patched
        .lines()
        .filter_map(|l| l.strip_prefix("  + "))
        .collect();
    assert!(!changes.is_empty(), "{patched}");

    // 3. The written spec is valid: it parses, keeps every comment line of
    //    the original, its $refs resolve, and the diff reads it.
    let doc = shiheng_spec::patch::parse(&written).expect("it parses");
    for line in original.lines().filter(|l| l.trim_start().starts_with('#')) {
        assert!(written.contains(line), "comment lost: {line}");
    }
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for r in refs {
        let pointer = r.strip_prefix('#').expect("a local $ref");
        assert!(doc.pointer(pointer).is_some(), "dangling {r}");
    }
    for (_, line) in changes.iter().filter_map(|c| c.split_once(": ")) {
        assert!(!line.is_empty());
    }

    // 4. Against the written spec, every page: no drift.
    let (code, clean, stderr) = shiheng(
        dir.path(),
        &url,
        &["check", "--spec", "amended.yaml", "--all"],
    );
    assert_eq!(code, 0, "{clean}\n{stderr}");
    // Operations that could not be checked (one added to the spec with
    // params nothing can invent) are listed first; they are not drift.
    assert!(
        clean.lines().any(|l| l.starts_with("no drift: ")),
        "{clean}"
    );
    rt.block_on(sandbox.shutdown());

    // 5. The diff classifies every change, and none breaks Rust callers.
    let (code, diff, stderr) = shiheng(
        dir.path(),
        &url,
        &[
            "spec",
            "diff",
            "spec.yaml",
            "amended.yaml",
            "--format",
            "json",
        ],
    );
    let report: Value = serde_json::from_str(&diff).unwrap_or_else(|e| panic!("{e}: {diff}"));
    let listed = report["changes"].as_array().expect("changes");
    let api: Vec<&Value> = listed
        .iter()
        .filter(|c| c["category"] != "version")
        .collect();
    let breaking = api.iter().any(|c| c["breaking"] == true);
    assert_eq!(code, i32::from(breaking), "{diff}\n{stderr}");
    for c in &api {
        assert!(c["location"].is_string() && c["message"].is_string(), "{c}");
        assert!(
            c["operation"].is_string(),
            "every change is an operation's: {c}"
        );
        let affects: Vec<&str> = c["affects"]
            .as_array()
            .expect("affects")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(!affects.contains(&"rust"), "breaks Rust callers: {c}");
        if c["breaking"] == true {
            assert_eq!(c["kind"], "wire-form-added", "{c}");
        }
    }
    for change in &changes {
        let location = change.split(": ").next().expect("a location");
        // `X.required: ...` is reported at the field made optional.
        let location = location.strip_suffix(".required").unwrap_or(location);
        assert!(
            api.iter().any(|c| c["location"]
                .as_str()
                .is_some_and(|l| l.starts_with(location))),
            "the diff does not classify {change}:\n{diff}"
        );
    }
    for kind in ["field-added", "known-value-added", "wire-form-added"] {
        assert!(api.iter().any(|c| c["kind"] == kind), "no {kind}: {diff}");
    }
    // The planted object, array and null are described.
    let detail = doc
        .pointer("/components/schemas/Employee/properties/undeclaredDetail")
        .expect("the planted object, as a new field");
    assert_eq!(detail["type"], "object");
    assert_eq!(detail["properties"]["tags"]["type"], "array");
    assert_eq!(detail["properties"]["tags"]["items"]["nullable"], true);
    assert!(
        detail["description"]
            .as_str()
            .is_some_and(|d| d.contains("Observed by `shiheng check` on "))
    );
}

#[test]
fn write_spec_replaces_its_input_only_when_named_and_needs_a_spec() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("spec.yaml");
    let original = std::fs::read_to_string(shipped_spec()).expect("the shipped spec");
    std::fs::write(&input, &original).expect("copy");
    let rt = runtime();
    let sandbox = rt.block_on(Sandbox::start(drifted())).expect("sandbox");
    let url = sandbox.url();
    // No --spec and no spec/shiheng-open.yaml here: a usage error, nothing sent.
    let (code, _, stderr) = shiheng(dir.path(), &url, &["check", "--write-spec", "out.yaml"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--spec FILE"), "{stderr}");
    assert!(!dir.path().join("out.yaml").exists());
    // FILE is the input: replaced, the amended copy in its place.
    let (code, out, stderr) = shiheng(
        dir.path(),
        &url,
        &["check", "--spec", "spec.yaml", "--write-spec", "spec.yaml"],
    );
    assert_eq!(code, 1, "{out}\n{stderr}");
    let replaced = std::fs::read_to_string(&input).expect("input");
    assert_ne!(replaced, original);
    assert!(!dir.path().join("spec.yaml.partial").exists());
    let (code, out, stderr) = shiheng(dir.path(), &url, &["check", "--spec", "spec.yaml"]);
    assert_eq!(code, 0, "{out}\n{stderr}");
    // A spec that is not one: exit 2.
    std::fs::write(dir.path().join("bad.yaml"), "openapi: [").expect("write");
    let (code, _, stderr) = shiheng(dir.path(), &url, &["check", "--spec", "bad.yaml"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("bad.yaml"), "{stderr}");
    rt.block_on(sandbox.shutdown());
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref"
                    && let Some(r) = v.as_str()
                {
                    out.push(r.to_string());
                }
                collect_refs(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
