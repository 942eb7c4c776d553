//! `shiheng check` and `shiheng_spec::drift::check` against in-process sandboxes:
//! the drifted one (every planted difference reported, exit 1) and the normal
//! one (no drift, exit 0); and against httpmock, an operation the platform
//! refuses the invented params of (listed as not checked, exit 0; checked
//! with `--params`; exit 6 with `--require-all`; exit 1 only on drift).
//! Servers bind 127.0.0.1 and stop with the test.

use std::time::Duration;

use assert_cmd::Command;
use httpmock::prelude::*;
use serde_json::json;
use shiheng::operation::OperationSpec;
use shiheng::{Client, Config};
use shiheng_sandbox::{Sandbox, SandboxConfig};
use shiheng_spec::drift::DriftKind;

const BIN: &str = env!("CARGO_BIN_EXE_shiheng");
/// The operations whose planted differences these tests name; the spec may
/// hold more (an endpoint added the README's way), which are counted from
/// the operation table.
const PUBLISHED: [&str; 3] = [
    "listWecomEmployees",
    "listWecomCustomers",
    "listWecomGroupChats",
];
const SECRET: &str = "drift-secret-never-printed";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

fn config(drift: bool) -> SandboxConfig {
    SandboxConfig::default()
        .with_credentials("demo-app", SECRET)
        .with_drift(drift)
        .with_item_count("listWecomEmployees", 60)
        .with_item_count("listWecomCustomers", 30)
        .with_item_count("listWecomGroupChats", 20)
}

fn check_cmd(url: &str) -> (i32, String, String) {
    check_cmd_with(url, &[])
}

fn check_cmd_with(url: &str, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(BIN)
        .arg("check")
        .args(args)
        .env("SHIHENG_BASE_URL", url)
        .env("SHIHENG_APP_ID", "demo-app")
        .env("SHIHENG_APP_SECRET", SECRET)
        .env_remove("SHIHENG_API_VERSION")
        .timeout(Duration::from_secs(60))
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    (output.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn check_reports_every_planted_difference_and_exits_1() {
    let rt = runtime();
    let sandbox = rt.block_on(Sandbox::start(config(true))).expect("sandbox");
    let (code, stdout, stderr) = check_cmd(&sandbox.url());
    rt.block_on(sandbox.shutdown());
    assert_eq!(code, 1, "stdout: {stdout}\nstderr: {stderr}");
    let undeclared = "unknown field (string value; the spec does not declare it)";
    for want in [
        format!("listWecomEmployees: result.result[0].undeclaredField: {undeclared} (50 occurrences)"),
        "listWecomEmployees: result.result[1].gender: value \"undocumented\" is not one of the spec's known values [\"0\", \"1\", \"2\"]".to_string(),
        "listWecomEmployees: result.result[1].address: integer where the spec says string".to_string(),
        "listWecomEmployees: result.result[1].undeclaredDetail: unknown field (object value; the spec does not declare it)".to_string(),
        "listWecomCustomers: code: required field missing".to_string(),
        "listWecomCustomers: result.result[1].memberId: string where the spec says integer".to_string(),
        "listWecomGroupChats: result.result[1].employeeId: string where the spec says integer".to_string(),
    ] {
        assert!(stdout.contains(&want), "missing {want:?} in:\n{stdout}");
    }
    // Eleven differences in the three published operations; an operation
    // added to the spec has planted differences of its own.
    let published = |line: &&str| {
        PUBLISHED
            .iter()
            .any(|op| line.starts_with(&format!("{op}: ")))
    };
    assert_eq!(
        stdout.lines().filter(published).count(),
        11,
        "eleven differences in the published operations:\n{stdout}"
    );
    let differences = stdout.lines().count() - 1;
    assert!(
        stdout.contains(&format!("drift: {differences} differences from spec")),
        "one line per difference, then the summary:\n{stdout}"
    );
    assert!(stdout.contains(&shiheng::SPEC_SHA256[..12]), "{stdout}");
}

#[test]
fn check_against_the_normal_sandbox_exits_0() {
    let rt = runtime();
    let sandbox = rt.block_on(Sandbox::start(config(false))).expect("sandbox");
    let (code, stdout, stderr) = check_cmd(&sandbox.url());
    rt.block_on(sandbox.shutdown());
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    let operations = OperationSpec::all().len();
    assert!(
        stdout.starts_with(&format!("no drift: {operations} operations")),
        "{stdout}"
    );
}

#[test]
fn check_with_a_wrong_secret_is_a_business_error() {
    let rt = runtime();
    let sandbox = rt
        .block_on(Sandbox::start(
            config(false).with_credentials("demo-app", "another"),
        ))
        .expect("sandbox");
    let (code, stdout, stderr) = check_cmd(&sandbox.url());
    rt.block_on(sandbox.shutdown());
    // Every operation failed, so nothing was checked: the first failure's
    // exit code.
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("40001"), "{stderr}");
    assert!(!stdout.contains("no drift"), "{stdout}");
}

#[test]
fn the_library_reports_the_same_and_the_contract_it_speaks() {
    let rt = runtime();
    rt.block_on(async {
        let sandbox = Sandbox::start(config(true)).await.expect("sandbox");
        let client = Client::new(Config::new(sandbox.url(), "demo-app", SECRET)).expect("client");
        let report = shiheng_spec::drift::check(&client).await.expect("check");
        sandbox.shutdown().await;
        assert!(report.has_drift());
        assert_eq!(report.spec_version, shiheng::SPEC_VERSION);
        assert_eq!(report.spec_sha256.map(str::len), Some(64));
        assert_eq!(report.operations.len(), OperationSpec::all().len());
        assert_eq!(report.checked().len(), OperationSpec::all().len());
        let mut kinds: Vec<DriftKind> = report
            .drifts
            .iter()
            .filter(|d| PUBLISHED.contains(&d.operation.as_str()))
            .map(|d| d.kind)
            .collect();
        kinds.sort();
        kinds.dedup();
        assert_eq!(
            kinds,
            [
                DriftKind::UnknownField,
                DriftKind::UnknownValue,
                DriftKind::TypeMismatch,
                DriftKind::MissingRequired
            ]
        );
        let undeclared = report
            .drifts
            .iter()
            .find(|d| d.kind == DriftKind::UnknownField)
            .expect("undeclaredField");
        assert_eq!(undeclared.occurrences, 50);
    });
}

#[test]
fn version_names_the_spec_version_and_hash() {
    let output = Command::new(BIN)
        .arg("--version")
        .timeout(Duration::from_secs(30))
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert_eq!(
        stdout.trim(),
        format!(
            "shiheng {} (spec {}, sha256 {})",
            env!("CARGO_PKG_VERSION"),
            shiheng::SPEC_VERSION,
            shiheng::SPEC_SHA256
        )
    );
}

/// The given params that make the refused operation answer.
const GIVEN: &str = r#"{"pageNum":1,"pageSize":10}"#;

/// An httpmock platform: the first operation of the table (`employees`)
/// answers 40004 "no store" unless asked for 10 items a page (what
/// [`GIVEN`] says); every other operation answers an empty page, or, with
/// `drift`, an item the spec does not describe.
fn refusing_server(drift: bool) -> MockServer {
    let server = MockServer::start();
    let ops = OperationSpec::all();
    let (refusing, others) = ops.split_first().expect("operations");
    assert_eq!(refusing.cli_command, "employees");
    let items = |op: &OperationSpec| op.pagination.map_or("result", |p| p.items);
    let page = |op: &OperationSpec, item: Option<serde_json::Value>| {
        json!({
            "code": "0", "msg": null, "traceId": format!("t-{}", op.operation_id),
            "result": { items(op): item.into_iter().collect::<Vec<_>>() }
        })
    };
    server.mock(|when, then| {
        when.method(POST)
            .path(refusing.path)
            .body_includes("\"pageSize\":10");
        then.status(200).json_body(page(refusing, None));
    });
    server.mock(|when, then| {
        when.method(POST)
            .path(refusing.path)
            .body_excludes("\"pageSize\":10");
        then.status(200).json_body(json!({
            "code": "40004", "msg": "no store", "traceId": "t-no-store", "result": null
        }));
    });
    for (i, op) in others.iter().enumerate() {
        let item = (drift && i == 0).then(|| json!({ "notInTheSpec": "x" }));
        server.mock(|when, then| {
            when.method(POST).path(op.path);
            then.status(200).json_body(page(op, item));
        });
    }
    server
}

#[test]
fn an_operation_the_platform_refuses_is_not_checked_and_not_drift() {
    let server = refusing_server(false);
    let (code, stdout, stderr) = check_cmd(&server.base_url());
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    let refused = OperationSpec::all()[0];
    let line = stdout
        .lines()
        .find(|l| l.contains("not checked:"))
        .unwrap_or_else(|| panic!("no not-checked line in:\n{stdout}"));
    assert!(
        line.starts_with(&format!(
            "{} (POST {}): not checked: ",
            refused.operation_id, refused.path
        )),
        "{line}"
    );
    for want in [
        "code 40004",
        "\"no store\"",
        "traceId t-no-store",
        "params invented from the spec",
        "\"pageSize\":50",
        "--params employees=JSON",
    ] {
        assert!(line.contains(want), "missing {want:?} in {line}");
    }
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    let summary = stdout.lines().last().expect("summary");
    let others = OperationSpec::all().len() - 1;
    assert!(
        summary.starts_with(&format!("no drift: {others} operations (")),
        "{summary}"
    );
    assert!(
        summary.ends_with("; 1 operation not checked (above)"),
        "{summary}"
    );
}

#[test]
fn require_all_makes_an_operation_not_checked_exit_6() {
    let server = refusing_server(false);
    let (code, stdout, stderr) = check_cmd_with(&server.base_url(), &["--require-all"]);
    assert_eq!(code, 6, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("not checked: "), "{stdout}");
    assert!(stderr.is_empty(), "the report says it all: {stderr}");
}

#[test]
fn params_given_make_the_refused_operation_checked() {
    let server = refusing_server(false);
    for name in ["employees", "listWecomEmployees"] {
        let given = format!("{name}={GIVEN}");
        let (code, stdout, stderr) =
            check_cmd_with(&server.base_url(), &["--require-all", "--params", &given]);
        assert_eq!(code, 0, "{name}: stdout: {stdout}\nstderr: {stderr}");
        let operations = OperationSpec::all().len();
        assert!(
            stdout.starts_with(&format!("no drift: {operations} operations (")),
            "{stdout}"
        );
        assert!(!stdout.contains("not checked"), "{stdout}");
    }
    // From a file, and refused again: the line says the params were given.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("params.json");
    std::fs::write(&file, r#"{"pageNum":2,"pageSize":20}"#).expect("write");
    let given = format!("employees=@{}", file.display());
    let (code, stdout, stderr) = check_cmd_with(&server.base_url(), &["--params", &given]);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.contains(r#"to the params given with --params ({"pageNum":2,"pageSize":20})"#),
        "{stdout}"
    );
}

#[test]
fn drift_exits_1_whatever_was_not_checked() {
    let server = refusing_server(true);
    for args in [&[][..], &["--require-all"][..]] {
        let (code, stdout, stderr) = check_cmd_with(&server.base_url(), args);
        assert_eq!(code, 1, "{args:?}: stdout: {stdout}\nstderr: {stderr}");
        assert!(stdout.contains("notInTheSpec"), "{stdout}");
        assert!(stdout.contains("not checked: "), "{stdout}");
        let summary = stdout.lines().last().expect("summary");
        assert!(summary.starts_with("drift: "), "{summary}");
        assert!(
            summary.ends_with("; 1 operation not checked (above)"),
            "{summary}"
        );
    }
}

#[test]
fn bad_params_are_a_usage_error_of_one_line_and_nothing_is_sent() {
    let server = MockServer::start();
    let any = server.mock(|when, then| {
        when.any_request();
        then.status(500);
    });
    for (given, want) in [
        ("nosuch={}", "nosuch is not an operation of the spec"),
        ("employees={not json", "--params employees is not JSON"),
        ("employees", "not OPERATION=JSON"),
        (
            r#"employees={"pageNum":"one"}"#,
            "--params employees does not match the spec's EmployeePageParams",
        ),
        (
            "employees=@/nonexistent/params.json",
            "--params employees file /nonexistent/params.json: cannot read it",
        ),
        // A file that never ends is refused after a bound, not read on.
        (
            "employees=@/dev/zero",
            "--params employees file /dev/zero: more than 64 MiB",
        ),
    ]
    .into_iter()
    .map(|(given, want)| (vec!["--params", given], want))
    .chain([(
        vec!["--spec", "/dev/zero"],
        "--spec /dev/zero: more than 64 MiB",
    )]) {
        let (code, stdout, stderr) = check_cmd_with(&server.base_url(), &given);
        let given = given.join(" ");
        assert_eq!(code, 2, "{given}: stdout: {stdout}\nstderr: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{given}: {stderr}");
        assert!(
            stderr.contains(want),
            "{given}: missing {want:?} in {stderr}"
        );
        assert!(stdout.is_empty(), "{stdout}");
    }
    let twice = format!("employees={GIVEN}");
    let again = format!("listWecomEmployees={GIVEN}");
    let (code, _, stderr) = check_cmd_with(
        &server.base_url(),
        &["--params", &twice, "--params", &again],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("given twice"), "{stderr}");
    any.assert_calls(0);
}

#[test]
fn help_names_the_options_and_exit_codes() {
    let output = Command::new(BIN)
        .args(["check", "--help"])
        .timeout(Duration::from_secs(30))
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    for want in [
        "--params <OPERATION=JSON>",
        "--require-all",
        "not checked",
        "6:",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in:\n{stdout}");
    }
    let top = Command::new(BIN).arg("--help").output().expect("runs");
    assert!(String::from_utf8_lossy(&top.stdout).contains("\n  6    `check --require-all`"));
}
