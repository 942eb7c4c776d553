//! `shiheng spec diff OLD NEW` as a user runs it: exit 0 when nothing
//! breaks, 1 when something does (or, with --require-version-bump, the
//! version is not bumped as needed), 2 with one line on bad input; the three
//! formats; OLD as `REV:PATH` from a git repository made in a temporary
//! directory. Inputs are edited copies of the shipped spec.

use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_shiheng");
const SPEC: &str = include_str!("../../../spec/shiheng-open.yaml");

/// The shipped spec as JSON (which the diff reads like YAML), at version
/// 1.0.0, edited by `edit`: the inputs do not depend on the file's text, so
/// the spec may grow without breaking these tests.
fn spec(edit: impl FnOnce(&mut Value)) -> String {
    let mut doc: Value = serde_yaml_ng::from_str(SPEC).expect("the shipped spec parses");
    doc["info"]["version"] = json!("1.0.0");
    edit(&mut doc);
    serde_json::to_string_pretty(&doc).unwrap()
}

fn employee(doc: &mut Value) -> &mut serde_json::Map<String, Value> {
    doc.pointer_mut("/components/schemas/Employee/properties")
        .and_then(Value::as_object_mut)
        .expect("Employee's properties")
}

/// A response field removed, and the version left as it is.
fn breaking() -> String {
    spec(|doc| {
        employee(doc).remove("address").expect("Employee.address");
    })
}

/// A response field added, at `version`.
fn additive(version: &str) -> String {
    spec(|doc| {
        employee(doc).insert(
            "nickname".into(),
            json!({"type": "string", "nullable": true}),
        );
        doc["info"]["version"] = json!(version);
    })
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .current_dir(dir)
        .args(["spec", "diff"])
        .args(args)
        .output()
        .expect("run shiheng");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

#[test]
fn exit_codes_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "old.yaml", &spec(|_| {}));
    write(d, "same.yaml", &spec(|_| {}));
    write(d, "breaking.yaml", &breaking());
    write(d, "added.yaml", &additive("1.1.0"));
    write(d, "added-unbumped.yaml", &additive("1.0.0"));

    // Nothing changed: 0.
    let (code, out, _) = run(d, &["old.yaml", "same.yaml"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no changes"), "{out}");

    // A field removed: 1, in every format.
    let (code, out, _) = run(d, &["old.yaml", "breaking.yaml"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("BREAKING  components.schemas.Employee.properties.address"),
        "{out}"
    );
    assert!(out.contains("breaks: rust, wire, other-languages"), "{out}");
    let (code, out, _) = run(d, &["old.yaml", "breaking.yaml", "--format", "markdown"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("### Breaking\n\n- `listWecomEmployees`: response field `address` removed"),
        "{out}"
    );
    assert!(out.contains("> **Version:**"), "{out}");
    let (code, out, _) = run(d, &["old.yaml", "breaking.yaml", "--format", "json"]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    let change = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["location"] == "components.schemas.Employee.properties.address")
        .expect("the removal");
    assert_eq!(change["breaking"], true);
    assert_eq!(change["operation"], "listWecomEmployees");
    assert_eq!(json["summary"]["breaking"], 1);

    // A field added with a minor bump: 0, even with --require-version-bump.
    let (code, out, _) = run(d, &["old.yaml", "added.yaml", "--require-version-bump"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("added     components.schemas.Employee.properties.nickname"),
        "{out}"
    );
    let (_, md, _) = run(d, &["old.yaml", "added.yaml", "--format", "markdown"]);
    assert!(md.contains("### Added"), "{md}");
    assert!(!md.contains("### Breaking"), "{md}");

    // The same addition without the bump: 0, and 1 when the bump is required.
    let (code, out, _) = run(d, &["old.yaml", "added-unbumped.yaml"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("VERSION   info.version"), "{out}");
    let (code, _, _) = run(
        d,
        &["old.yaml", "added-unbumped.yaml", "--require-version-bump"],
    );
    assert_eq!(code, 1);
}

#[test]
fn bad_input_is_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "old.yaml", &spec(|_| {}));
    write(d, "not-yaml.yaml", "a: [\n");
    write(d, "swagger.yaml", "swagger: '2.0'\ninfo: {}\n");
    write(d, "v31.yaml", &spec(|doc| doc["openapi"] = json!("3.1.0")));
    for (new, want) in [
        ("missing.yaml", "no such file"),
        ("not-yaml.yaml", "not YAML or JSON"),
        ("swagger.yaml", "not an OpenAPI 3.0.x document"),
        ("v31.yaml", "OpenAPI 3.1.0 is not supported"),
        ("NOREV:spec.yaml", "from git"),
    ] {
        let (code, out, err) = run(d, &["old.yaml", new]);
        assert_eq!(code, 2, "{new}: {out}{err}");
        assert_eq!(err.lines().count(), 1, "{new}: {err}");
        assert!(
            err.starts_with("shiheng: error: ") && err.contains(want),
            "{new}: {err}"
        );
        assert!(out.is_empty(), "{new}: {out}");
    }
}

fn git(dir: &Path, args: &[&str]) {
    let status = Process::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .status()
        .expect("git");
    assert!(status.success(), "git {args:?}");
}

#[test]
fn rev_path_reads_from_git() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("spec")).unwrap();
    git(d, &["init", "-q"]);
    write(d, "spec/open.yaml", &spec(|_| {}));
    git(d, &["add", "spec/open.yaml"]);
    git(d, &["commit", "-q", "-m", "spec"]);
    // The working copy equals HEAD's: exit 0 (what CI runs).
    let (code, out, err) = run(d, &["HEAD:spec/open.yaml", "spec/open.yaml"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no changes"), "{out}");
    // A breaking edit of the working copy.
    write(d, "spec/open.yaml", &breaking());
    let (code, out, _) = run(d, &["HEAD:spec/open.yaml", "spec/open.yaml"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("components.schemas.Employee.properties.address"),
        "{out}"
    );
    // An unknown path in a known revision: exit 2, git's reason.
    let (code, _, err) = run(d, &["HEAD:spec/none.yaml", "spec/open.yaml"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("HEAD:spec/none.yaml"), "{err}");
    // A file whose name looks like REV:PATH is read as the file.
    write(d, "HEAD:spec", &breaking());
    let (code, _, err) = run(d, &["spec/open.yaml", "HEAD:spec"]);
    assert_eq!(code, 0, "{err}");
}
