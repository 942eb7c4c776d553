//! `shiheng check` and `shiheng::drift::check` against in-process sandboxes:
//! the drifted one (every planted difference reported, exit 1) and the normal
//! one (no drift, exit 0). Servers bind 127.0.0.1 and stop with the test.

use std::time::Duration;

use assert_cmd::Command;
use shiheng::drift::DriftKind;
use shiheng::{Client, Config};
use shiheng_sandbox::{Sandbox, SandboxConfig};

const BIN: &str = env!("CARGO_BIN_EXE_shiheng");
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
    let output = Command::new(BIN)
        .arg("check")
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
        "listWecomCustomers: code: required field missing".to_string(),
        "listWecomCustomers: result.result[1].memberId: string where the spec says integer".to_string(),
        "listWecomGroupChats: result.result[1].employeeId: string where the spec says integer".to_string(),
    ] {
        assert!(stdout.contains(&want), "missing {want:?} in:\n{stdout}");
    }
    assert_eq!(
        stdout.lines().count(),
        9,
        "eight differences and a summary:\n{stdout}"
    );
    assert!(
        stdout.contains("drift: 8 differences from spec"),
        "{stdout}"
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
    assert!(stdout.starts_with("no drift: 3 operations"), "{stdout}");
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
        let report = shiheng::drift::check(&client).await.expect("check");
        sandbox.shutdown().await;
        assert!(report.has_drift());
        assert_eq!(report.spec_version, shiheng::SPEC_VERSION);
        assert_eq!(report.spec_sha256.len(), 64);
        assert_eq!(report.operations.len(), 3);
        assert_eq!(report.checked().len(), 3);
        let mut kinds: Vec<DriftKind> = report.drifts.iter().map(|d| d.kind).collect();
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
