//! The real `shiheng` binary against an in-process sandbox or an httpmock
//! server: every command and format, every exit code, the secret never in
//! any output (at TRACE too), `--all` returning every item exactly once,
//! output that is never destroyed or faked on failure or on a signal,
//! hostile text made inert, and listings that survive drift. Every server
//! here binds 127.0.0.1 and stops by itself; every wait has a deadline.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use httpmock::prelude::*;
use serde_json::{Value, json};
use shiheng::operation::OperationSpec;
use shiheng_sandbox::{FaultKinds, Sandbox, SandboxConfig};

const BIN: &str = env!("CARGO_BIN_EXE_shiheng");
const SECRET: &str = "s3cret-that-must-never-be-printed";
const ABOVE_2_POW_53: i64 = 9_007_199_254_740_993;

/// A sandbox on its own runtime, so tests can run the binary synchronously.
struct TestSandbox {
    runtime: tokio::runtime::Runtime,
    sandbox: Option<Sandbox>,
}

impl TestSandbox {
    fn start(config: SandboxConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let sandbox = runtime.block_on(Sandbox::start(config)).expect("sandbox");
        Self {
            runtime,
            sandbox: Some(sandbox),
        }
    }

    fn config() -> SandboxConfig {
        Self::config_with(123, 57, 31)
    }

    /// The tests' configuration with these item counts: the one place that
    /// knows how the sandbox takes its counts.
    fn config_with(employees: usize, customers: usize, group_chats: usize) -> SandboxConfig {
        SandboxConfig::default()
            .with_credentials("demo-app", SECRET)
            .with_item_count("listWecomEmployees", employees)
            .with_item_count("listWecomCustomers", customers)
            .with_item_count("listWecomGroupChats", group_chats)
    }

    fn new() -> Self {
        Self::start(Self::config())
    }

    fn sandbox(&self) -> &Sandbox {
        self.sandbox.as_ref().expect("running")
    }

    fn url(&self) -> String {
        self.sandbox().url()
    }

    /// The binary, configured for this sandbox through the environment.
    fn cmd(&self) -> Command {
        client_cmd(&self.url())
    }
}

impl Drop for TestSandbox {
    fn drop(&mut self) {
        if let Some(sandbox) = self.sandbox.take() {
            self.runtime.block_on(sandbox.shutdown());
        }
    }
}

/// The binary with none of the caller's SHIHENG_* or logging settings.
fn bare() -> Command {
    let mut cmd = Command::new(BIN);
    for name in [
        "SHIHENG_BASE_URL",
        "SHIHENG_APP_ID",
        "SHIHENG_APP_SECRET",
        "SHIHENG_API_VERSION",
        "SHIHENG_SANDBOX_APP_ID",
        "SHIHENG_SANDBOX_APP_SECRET",
        "SHIHENG_SANDBOX_API_VERSION",
        "RUST_LOG",
        "COLUMNS",
    ] {
        cmd.env_remove(name);
    }
    cmd.timeout(Duration::from_secs(60));
    cmd
}

/// The binary, configured for the server at `url`.
fn client_cmd(url: &str) -> Command {
    let mut cmd = bare();
    cmd.env("SHIHENG_BASE_URL", url)
        .env("SHIHENG_APP_ID", "demo-app")
        .env("SHIHENG_APP_SECRET", SECRET);
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Run {
    let output = cmd.output().expect("the binary runs");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stdout.contains(SECRET),
        "secret in stdout: {}",
        run.stdout
    );
    assert!(
        !run.stderr.contains(SECRET),
        "secret in stderr: {}",
        run.stderr
    );
    run
}

fn ok(cmd: &mut Command) -> Run {
    let run = run(cmd);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    run
}

fn failing(cmd: &mut Command, code: i32) -> Run {
    let run = run(cmd);
    assert_eq!(
        run.code, code,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("shiheng: error") || l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "one error line: {}", run.stderr);
    run
}

fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

fn ids(items: &[Value]) -> Vec<i64> {
    items
        .iter()
        .map(|v| v["id"].as_i64().expect("an integer id"))
        .collect()
}

fn assert_each_once(ids: &[i64], expected: usize) {
    let unique: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!((ids.len(), unique.len()), (expected, expected));
    assert!(ids.contains(&ABOVE_2_POW_53), "ids stay exact past 2^53");
}

/// Terminal cells of a line (wide CJK characters take two).
fn cells(line: &str) -> usize {
    line.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF => 2,
            0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

/// An employee as the spec describes it exactly (no coercion needed).
fn employee(id: i64) -> Value {
    json!({"id": id, "name": format!("员工{id}"), "status": 1, "gender": "1",
        "followUserFlag": true, "phone": format!("138{id:08}")})
}

fn employee_envelope(items: Vec<Value>, pages: i64, total: i64) -> Value {
    json!({"code": "0", "msg": "ok", "traceId": "t-page",
        "result": {"pages": pages, "total": total, "result": items}})
}

/// Serves `pages` (each a list of employee items) as a page-number listing
/// of `size` items per page on an httpmock server.
fn employee_server(pages: &[Vec<Value>], size: usize) -> MockServer {
    let server = MockServer::start();
    let total: usize = pages.iter().map(Vec::len).sum();
    for (n, items) in pages.iter().enumerate() {
        let body = employee_envelope(items.clone(), pages.len() as i64, total as i64);
        server.mock(|when, then| {
            when.method(POST)
                .path(employees_path())
                .body_includes(format!("\"pageNum\":{},\"pageSize\":{size}", n + 1));
            then.status(200).json_body(body);
        });
    }
    server
}

/// The employee listing's path and command, from the operation table.
fn employees_op() -> &'static OperationSpec {
    OperationSpec::by_id("listWecomEmployees").expect("in the spec")
}

fn employees_path() -> &'static str {
    employees_op().path
}

#[test]
fn employees_one_page_in_every_format() {
    let sb = TestSandbox::new();
    let text = ok(sb
        .cmd()
        .args(["employees", "--page-size", "20", "--format", "jsonl"]))
    .stdout;
    let lines = jsonl(&text);
    assert_eq!(lines.len(), 20);
    let first = &lines[0];
    let declared: Vec<&str> = shiheng::dynamic::of(employees_op())
        .item_fields()
        .iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(first.as_object().map(|o| o.len()), Some(declared.len()));
    // The spec's order, absent fields null (the raw line: `Value` sorts keys).
    let first_line = text.lines().next().unwrap_or_default();
    let positions: Vec<usize> = declared
        .iter()
        .map(|name| {
            first_line
                .find(&format!("\"{name}\":"))
                .unwrap_or_else(|| panic!("{name} in {first_line}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{first_line}");
    assert_eq!(first["status"], Value::from(6), "status 6, as received");
    for item in &lines {
        assert!(item["phone"].is_string() || item["phone"].is_null());
        assert!(item["followUserFlag"].is_boolean() || item["followUserFlag"].is_null());
    }

    // `--page` is the visible alias of the spec's `--page-num`.
    for flag in ["--page", "--page-num"] {
        let json: Value = serde_json::from_str(
            &ok(sb.cmd().args([
                "employees",
                flag,
                "2",
                "--page-size",
                "20",
                "--format",
                "json",
            ]))
            .stdout,
        )
        .expect("one JSON array");
        let page2 = json.as_array().cloned().unwrap_or_default();
        assert_eq!(page2.len(), 20);
        assert!(ids(&page2)[0] > ids(&lines)[19]);
    }

    let run = ok(sb
        .cmd()
        .args(["employees", "--page-size", "20", "--format", "csv"]));
    let rows: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(rows.len(), 21, "a header and 20 rows");
    assert_eq!(rows[0], declared.join(","));
    assert!(
        run.stderr
            .contains("page 1 of 7 (123 items in total); next: --page-num 2"),
        "{}",
        run.stderr
    );

    let table = ok(sb.cmd().args(["employees", "--page-size", "20"])).stdout;
    assert_eq!(table.lines().count(), 21);
    // The columns in the spec's order, from its first declared field (a
    // field added to the spec by hand may come first).
    let header = table.lines().next().unwrap_or_default();
    assert!(
        header.starts_with(declared[0]) && header.contains("name"),
        "{header}"
    );
}

#[test]
fn customers_and_group_chats_one_page_in_every_format() {
    let sb = TestSandbox::new();
    for (command, count) in [("customers", 57), ("group-chats", 31)] {
        let run = ok(sb
            .cmd()
            .args([command, "--page-size", "10", "--format", "jsonl"]));
        let lines = jsonl(&run.stdout);
        assert_eq!(lines.len(), 10);
        let last = ids(&lines)[9];
        assert!(
            run.stderr
                .contains(&format!("more after this page: --start-id {last}")),
            "{}",
            run.stderr
        );
        let after = jsonl(
            &ok(sb.cmd().args([
                command,
                "--start-id",
                &last.to_string(),
                "--page-size",
                "5",
                "--format",
                "jsonl",
            ]))
            .stdout,
        );
        assert!(ids(&after).iter().all(|id| *id > last));

        let run = ok(sb.cmd().args([command, "--format", "json"]));
        let json: Value = serde_json::from_str(&run.stdout).expect("json");
        assert_eq!(json.as_array().map(Vec::len), Some(count));
        assert!(run.stderr.contains("this was the last page"));
        let csv = ok(sb
            .cmd()
            .args([command, "--page-size", "3", "--format", "csv"]))
        .stdout;
        assert_eq!(csv.lines().count(), 4);
        let table = ok(sb
            .cmd()
            .args([command, "--page-size", "3", "--format", "table"]))
        .stdout;
        assert_eq!(table.lines().count(), 4);
    }
}

#[test]
fn all_returns_every_item_exactly_once() {
    let sb = TestSandbox::new();
    let run = ok(sb.cmd().args([
        "employees",
        "--all",
        "--page-size",
        "7",
        "--concurrency",
        "3",
        "--format",
        "jsonl",
    ]));
    assert_each_once(&ids(&jsonl(&run.stdout)), 123);
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("123 items in 18 pages, 0 duplicates dropped")),
        "one wording for the summary: {}",
        run.stderr
    );
    let customers = jsonl(
        &ok(sb.cmd().args([
            "customers",
            "--all",
            "--page-size",
            "9",
            "--format",
            "jsonl",
        ]))
        .stdout,
    );
    assert_each_once(&ids(&customers), 57);
    let chats = ok(sb.cmd().args([
        "group-chats",
        "--all",
        "--page-size",
        "4",
        "--format",
        "json",
    ]));
    let chats: Value = serde_json::from_str(&chats.stdout).expect("json");
    assert_each_once(
        &ids(chats.as_array().map(Vec::as_slice).unwrap_or_default()),
        31,
    );
    // Defaults are the largest page sizes: 123 employees take 3 pages (the
    // engine asks for the first 4 together when the page size is full).
    let before = sb.sandbox().requests();
    let run = ok(sb.cmd().args(["employees", "--all", "--format", "csv"]));
    assert_eq!(run.stdout.lines().count(), 124);
    assert!((3..=4).contains(&(sb.sandbox().requests() - before)));

    // A partitioned scan of a keyed cursor: the same items in the same order.
    let args = [
        "customers",
        "--all",
        "--page-size",
        "5",
        "--format",
        "jsonl",
    ];
    let one_by_one = ok(sb.cmd().args(args)).stdout;
    let partitioned = ok(sb.cmd().args(args).args(["--concurrency", "8"])).stdout;
    assert_eq!(partitioned, one_by_one);
    assert_each_once(&ids(&jsonl(&partitioned)), 57);
}

#[test]
fn max_pages_and_deadline_bound_a_listing() {
    let sb = TestSandbox::new();
    let run = failing(
        sb.cmd().args([
            "customers",
            "--all",
            "--page-size",
            "5",
            "--max-pages",
            "2",
            "--format",
            "jsonl",
        ]),
        4,
    );
    assert!(run.stderr.contains("cap of 2 pages"), "{}", run.stderr);
    assert_eq!(jsonl(&run.stdout).len(), 10, "the two pages are written");

    let slow = TestSandbox::start(TestSandbox::config().with_latency(Duration::from_millis(300)));
    let started = Instant::now();
    let run = failing(
        slow.cmd().args([
            "customers",
            "--all",
            "--page-size",
            "1",
            "--deadline",
            "1s",
            "--format",
            "jsonl",
        ]),
        4,
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(run.stderr.contains("deadline"), "{}", run.stderr);
    assert!((1..57).contains(&jsonl(&run.stdout).len()));
}

/// Kills the child it holds when dropped, so a failing test leaves nothing running.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary with piped output and returns it with a channel of its
/// stdout lines.
fn spawn(cmd: &mut std::process::Command) -> (Running, mpsc::Receiver<String>) {
    let mut child = Running(
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

fn std_cmd(url: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(BIN);
    cmd.env("SHIHENG_BASE_URL", url)
        .env("SHIHENG_APP_ID", "demo-app")
        .env("SHIHENG_APP_SECRET", SECRET)
        .env_remove("RUST_LOG")
        .env_remove("COLUMNS");
    cmd
}

/// Waits for the child's exit, within ten seconds; returns its code and stderr.
fn exit_of(child: &mut Running) -> (Option<i32>, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the child did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.0.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert!(!stderr.contains(SECRET));
    (status.code(), stderr)
}

fn signal(child: &Running, name: &str) {
    let sent = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.0.id().to_string()])
        .status();
    assert!(sent.is_ok_and(|s| s.success()), "kill -{name}");
}

#[test]
fn items_reach_the_output_while_the_listing_is_still_running() {
    let sb = TestSandbox::start(
        TestSandbox::config_with(8, 57, 31).with_latency(Duration::from_millis(400)),
    );
    let started = Instant::now();
    let (mut child, lines) = spawn(std_cmd(&sb.url()).args([
        "employees",
        "--all",
        "--page-size",
        "1",
        "--concurrency",
        "1",
        "--format",
        "jsonl",
    ]));
    // Eight pages take over three seconds; the first item shows after one.
    let first = lines
        .recv_timeout(Duration::from_secs(30))
        .expect("a first line");
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_millis(2400),
        "first item after {waited:?}"
    );
    assert!(first.contains("\"id\""), "{first}");
    let rest: Vec<String> = lines.iter().collect();
    assert_eq!(rest.len(), 7);
    assert_eq!(exit_of(&mut child).0, Some(0));
}

#[test]
fn sigint_and_sigterm_stop_a_listing_with_its_summary_and_exit_130() {
    let sb = TestSandbox::start(TestSandbox::config().with_latency(Duration::from_millis(150)));
    for name in ["INT", "TERM"] {
        let (mut child, lines) = spawn(std_cmd(&sb.url()).args([
            "employees",
            "--all",
            "--page-size",
            "2",
            "--concurrency",
            "1",
            "--format",
            "json",
        ]));
        let mut seen = vec![
            lines
                .recv_timeout(Duration::from_secs(30))
                .expect("the listing started"),
        ];
        signal(&child, name);
        let (code, stderr) = exit_of(&mut child);
        seen.extend(lines.iter());
        assert_eq!(code, Some(130), "SIG{name}: {stderr}");
        assert!(
            stderr.contains(&format!("interrupted by SIG{name}")),
            "{stderr}"
        );
        assert!(
            stderr.lines().any(|l| l.contains(" items in ")),
            "the summary: {stderr}"
        );
        // Every record written is whole, and the array is not closed.
        assert_eq!(seen[0], "[");
        let records = &seen[1..];
        assert!(!records.is_empty() && records.len() < 123);
        for record in records {
            let record = record.trim_end_matches(',');
            assert!(serde_json::from_str::<Value>(record).is_ok(), "{record}");
        }
        assert!(seen.iter().all(|l| l != "]"), "no closing bracket");
    }

    // To a file: the target is not created, the records are in .partial.
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("employees.jsonl");
    let (mut child, _) = spawn(
        std_cmd(&sb.url())
            .args([
                "employees",
                "--all",
                "--page-size",
                "2",
                "--concurrency",
                "1",
                "--format",
                "jsonl",
                "--output",
            ])
            .arg(&target),
    );
    let partial = dir.path().join("employees.jsonl.partial");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::metadata(&partial).map_or(0, |m| m.len()) == 0 {
        assert!(Instant::now() < deadline, "nothing written");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&child, "INT");
    let (code, stderr) = exit_of(&mut child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(!target.exists());
    let kept = std::fs::read_to_string(&partial).expect("partial");
    assert!(!jsonl(&kept).is_empty());
    assert!(stderr.contains("employees.jsonl.partial"), "{stderr}");
}

#[test]
fn output_goes_to_a_file_only_when_the_listing_succeeds() {
    let sb = TestSandbox::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("customers.jsonl");
    std::fs::write(&path, "the old file\n").expect("write");
    let run = ok(bare()
        .env("SHIHENG_APP_SECRET", SECRET)
        .args(["customers", "--all", "--format", "jsonl", "--output"])
        .arg(&path)
        .args(["--base-url", &sb.url(), "--app-id", "demo-app"]));
    assert!(run.stdout.is_empty());
    let text = std::fs::read_to_string(&path).expect("the file");
    assert_each_once(&ids(&jsonl(&text)), 57);
    assert!(!dir.path().join("customers.jsonl.partial").exists());

    // An unreachable platform: the old file stays as it was.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let csv = dir.path().join("old.csv");
    std::fs::write(&csv, "keep,me\n").expect("write");
    failing(
        client_cmd(&url)
            .args(["customers", "--all", "--format", "csv", "--output"])
            .arg(&csv),
        4,
    );
    assert_eq!(std::fs::read_to_string(&csv).expect("csv"), "keep,me\n");
}

#[test]
fn a_listing_that_fails_midway_keeps_what_it_wrote_without_faking_the_end() {
    // Page 1 answers, page 2 is a business error.
    let server = MockServer::start();
    let page1: Vec<Value> = (1..=3).map(employee).collect();
    server.mock(|when, then| {
        when.method(POST)
            .path(employees_path())
            .body_includes("\"pageNum\":1,");
        then.status(200).json_body(employee_envelope(page1, 3, 9));
    });
    server.mock(|when, then| {
        when.method(POST).path(employees_path());
        then.status(200)
            .json_body(json!({"code": "50001", "msg": "busy", "traceId": "t-2"}));
    });
    let args = [
        "employees",
        "--all",
        "--page-size",
        "3",
        "--concurrency",
        "1",
    ];

    // json on stdout: the records, but no closing bracket.
    let run = failing(
        client_cmd(&server.base_url())
            .args(args)
            .args(["--format", "json"]),
        3,
    );
    assert!(serde_json::from_str::<Value>(&run.stdout).is_err());
    assert!(run.stdout.starts_with("[\n"), "{}", run.stdout);
    assert!(!run.stdout.trim_end().ends_with(']'), "{}", run.stdout);
    assert_eq!(run.stdout.lines().count(), 4, "[ and three records");
    assert!(run.stderr.contains("50001") && run.stderr.contains("t-2"));
    assert!(run.stderr.contains("3 items in 1 page"), "{}", run.stderr);

    // To a file: the old file untouched, the three records in .partial.
    let dir = tempfile::tempdir().expect("tempdir");
    for format in ["json", "jsonl", "csv", "table"] {
        let target = dir.path().join(format!("out.{format}"));
        std::fs::write(&target, "old").expect("write");
        let run = failing(
            client_cmd(&server.base_url())
                .args(args)
                .args(["--format", format, "--output"])
                .arg(&target),
            3,
        );
        assert!(run.stdout.is_empty());
        assert_eq!(std::fs::read_to_string(&target).expect("target"), "old");
        let partial = std::fs::read_to_string(dir.path().join(format!("out.{format}.partial")))
            .expect("partial");
        assert!(partial.contains("员工3"), "{format}: {partial}");
        assert!(!partial.contains(']') || format != "json");
    }
}

#[test]
fn the_secret_file_is_read_without_its_trailing_newline() {
    let sb = TestSandbox::new();
    let mut file = tempfile::NamedTempFile::new().expect("tempfile");
    writeln!(file, "{SECRET}").expect("write");
    ok(bare()
        .args([
            "employees",
            "--base-url",
            &sb.url(),
            "--app-id",
            "demo-app",
            "--app-secret-file",
        ])
        .arg(file.path())
        .args(["--page-size", "1"]));
}

#[test]
fn usage_errors_exit_2_before_any_request() {
    let sb = TestSandbox::new();
    for args in [
        &["employees", "--page-size", "51"][..],
        &["employees", "--page-size", "0"],
        &["employees", "--page", "0"],
        &["employees", "--concurrency", "0"],
        &["employees", "--max-pages", "3"],
        &["employees", "--all", "--max-pages", "0"],
        &["employees", "--all", "--deadline", "5x"],
        &["employees", "--columns", "id,nonsense"],
        &["customers", "--page-size", "101"],
        &["customers", "--concurrency", "0"],
        &["group-chats", "--start-id", "-1"],
        &["customers", "--format", "xml"],
        &["customers", "--app-secret", "x"],
        &["sign", "--param-content", "{not json"],
        &["sign", "--base-url", "http://x"],
        &["demo", "--app-id", "x"],
        &["sandbox", "--base-url", "http://x"],
        &["sandbox", "--faults", "503,teapot"],
        &["sandbox", "--items", "nonsense=3"],
        &["sandbox", "--items", "employees=many"],
        &["sandbox", "--fail-rate", "1.5"],
        &["nonsense"],
    ] {
        let run = run(sb.cmd().args(args));
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    }
    failing(
        bare()
            .env("SHIHENG_APP_ID", "demo-app")
            .env("SHIHENG_APP_SECRET", SECRET)
            .arg("employees"),
        2,
    );
    failing(
        sb.cmd().env_remove("SHIHENG_APP_SECRET").arg("customers"),
        2,
    );
    failing(sb.cmd().env_remove("SHIHENG_APP_ID").arg("group-chats"), 2);
    failing(
        sb.cmd()
            .args(["customers", "--app-secret-file", "/nonexistent/secret"]),
        2,
    );
    failing(
        sb.cmd().args(["customers", "--base-url", "ftp://example"]),
        2,
    );
    assert_eq!(sb.sandbox().requests(), 0, "nothing was sent");
}

#[test]
fn help_lists_every_operation_with_its_summary_and_hides_settings() {
    let help = ok(bare()
        .env("SHIHENG_BASE_URL", "https://user:pw-in-url@example.invalid")
        .env("SHIHENG_APP_ID", "prod-app-id-value")
        .arg("--help"))
    .stdout;
    for op in OperationSpec::all() {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(op.cli_command))
            .unwrap_or_else(|| panic!("{} in:\n{help}", op.cli_command));
        assert!(line.contains(op.summary), "{line}");
    }
    for command in ["employees", "customers", "check", "sign"] {
        let help = ok(bare()
            .env("SHIHENG_BASE_URL", "https://user:pw-in-url@example.invalid")
            .env("SHIHENG_APP_ID", "prod-app-id-value")
            .args([command, "--help"]))
        .stdout;
        assert!(!help.contains("pw-in-url") && !help.contains("prod-app-id-value"));
    }
    // Each command shows only the options it uses.
    let sign = ok(bare().args(["sign", "--help"])).stdout;
    assert!(sign.contains("--app-id") && !sign.contains("--base-url"));
    let demo = ok(bare().args(["demo", "--help"])).stdout;
    for absent in [
        "--base-url",
        "--app-id",
        "--app-secret-file",
        "--api-version",
    ] {
        assert!(!demo.contains(absent), "demo shows {absent}");
    }
    let sandbox = ok(bare().args(["sandbox", "--help"])).stdout;
    assert!(sandbox.contains("SHIHENG_SANDBOX_APP_SECRET"));
    assert!(!sandbox.contains("--base-url") && !sandbox.contains("--app-secret-file"));
    // A cursor over a monotone key scans in partitions, one request at a
    // time by default; page-number listings fetch 4 pages at once.
    let customers = ok(bare().args(["customers", "--help"])).stdout;
    assert!(customers.contains("--start-id") && customers.contains("partitioned scan"));
    let employees = ok(bare().args(["employees", "--help"])).stdout;
    assert!(employees.contains("--page-num") && employees.contains("1 to 50"));
}

#[test]
fn business_errors_exit_3_with_code_msg_and_trace_id() {
    let sb = TestSandbox::new();
    let run = failing(
        sb.cmd()
            .env("SHIHENG_APP_SECRET", "wrong-secret")
            .arg("employees"),
        3,
    );
    assert!(run.stderr.contains("40001") && run.stderr.contains("invalid sign"));
    assert!(run.stderr.contains("traceId") && !run.stderr.contains("traceId unknown"));
    assert!(!run.stderr.contains("wrong-secret"));
    let run = failing(
        sb.cmd()
            .env("SHIHENG_APP_ID", "another-app")
            .arg("customers"),
        3,
    );
    assert!(run.stderr.contains("40003"));
    let run = failing(sb.cmd().args(["group-chats", "--api-version", "2.0"]), 3);
    assert!(run.stderr.contains("40004"));
}

#[test]
fn platform_text_cannot_act_on_the_terminal() {
    let server = MockServer::start();
    let huge = "x".repeat(1 << 20);
    server.mock(|when, then| {
        when.method(POST).path(employees_path());
        then.status(200).json_body(json!({
            "code": "40001",
            "msg": format!("\u{1b}[2J\u{1b}]0;owned\u{7}clear screen{huge}"),
            "traceId": "t\u{1b}[31m-red"
        }));
    });
    let run = failing(client_cmd(&server.base_url()).arg("employees"), 3);
    assert!(!run.stderr.contains('\u{1b}') && !run.stderr.contains('\u{7}'));
    assert!(run.stderr.contains("\\u{1b}[2J"), "{}", run.stderr);
    assert!(
        run.stderr.contains("traceId t\\u{1b}[31m-red"),
        "the traceId survives a huge msg"
    );
    assert!(run.stderr.len() < 2000, "{} bytes", run.stderr.len());
}

#[test]
fn csv_and_table_cells_cannot_act() {
    let hostile = [
        "=HYPERLINK(\"http://evil\",\"x\")",
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        "red\u{1b}[31m",
    ];
    let items: Vec<Value> = hostile
        .iter()
        .enumerate()
        .map(|(n, name)| {
            let mut item = employee(n as i64 + 1);
            item["name"] = Value::from(*name);
            item
        })
        .collect();
    let server = employee_server(&[items], 50);
    let run = ok(client_cmd(&server.base_url()).args([
        "employees",
        "--format",
        "csv",
        "--columns",
        "id,name",
    ]));
    assert!(!run.stdout.contains('\u{1b}'));
    let rows: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(rows.len(), 8, "{}", run.stdout);
    assert_eq!(rows[1], "1,\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"");
    assert_eq!(rows[2], "2,\"'+1+1\"");
    assert_eq!(rows[3], "3,\"'-2+3\"");
    assert_eq!(rows[4], "4,\"'@SUM(A1)\"");
    assert_eq!(rows[5], "5,\"'\\t=1\"");
    assert_eq!(rows[6], "6,\"'\\r=1\"");
    assert_eq!(rows[7], "7,red\\u{1b}[31m");
    let table = ok(client_cmd(&server.base_url()).arg("employees")).stdout;
    assert!(!table.contains('\u{1b}') && !table.contains('\r'));
    assert_eq!(table.lines().count(), 8);
}

#[test]
fn table_output_fits_the_width_with_readable_times() {
    let sb = TestSandbox::new();
    for op in OperationSpec::all()
        .iter()
        .filter(|op| op.pagination.is_some())
    {
        for (columns, width) in [(None, 80), (Some("50"), 50), (Some("200"), 200)] {
            let mut cmd = sb.cmd();
            if let Some(columns) = columns {
                cmd.env("COLUMNS", columns);
            }
            let table = ok(cmd.args([op.cli_command, "--all"])).stdout;
            assert!(table.lines().count() > 1);
            // The id column has room for any id, even one of a later page.
            assert!(table.contains(&ABOVE_2_POW_53.to_string()), "{table}");
            for line in table.lines() {
                assert!(
                    cells(line) <= width,
                    "{} cells > {width}: {line}",
                    cells(line)
                );
            }
        }
    }
    // Chosen columns, squeezed to fit; times as UTC text in the table only.
    let table = ok(sb.cmd().args([
        "customers",
        "--columns",
        "id,weComUserId,corpId,name,unionId,avatar,shCreateTime",
    ]))
    .stdout;
    let header = table.lines().next().unwrap_or_default();
    assert!(header.starts_with("id") && header.contains("shCreat"));
    for line in table.lines() {
        assert!(cells(line) <= 80, "{line}");
    }
    assert!(table.contains('…'), "cut cells end with …");
    let times = ok(sb.cmd().args(["customers", "--columns", "id,shCreateTime"])).stdout;
    let row = times.lines().nth(1).unwrap_or_default();
    let time = row.split_whitespace().skip(1).collect::<Vec<_>>().join(" ");
    assert_eq!(time.len(), 19, "YYYY-MM-DD HH:MM:SS: {row}");
    assert_eq!(&time[4..5], "-");
    assert_eq!(&time[13..14], ":");
    let jsonl = jsonl(&ok(sb.cmd().args(["customers", "--format", "jsonl"])).stdout);
    assert!(
        jsonl.iter().any(|c| c["shCreateTime"].is_i64()),
        "as received"
    );
}

#[test]
fn a_field_in_another_form_is_coerced_warned_once_and_counted() {
    // gender as the number 1 where the spec says string, on every item.
    let pages: Vec<Vec<Value>> = (0..3)
        .map(|p| {
            (1..=5)
                .map(|n| {
                    let mut item = employee(p * 5 + n);
                    item["gender"] = Value::from(1);
                    item
                })
                .collect()
        })
        .collect();
    let server = employee_server(&pages, 5);
    let args = [
        "employees",
        "--all",
        "--page-size",
        "5",
        "--format",
        "jsonl",
    ];
    let run = ok(client_cmd(&server.base_url()).args(args));
    let items = jsonl(&run.stdout);
    assert_eq!(ids(&items), (1..=15).collect::<Vec<_>>());
    assert!(items.iter().all(|i| i["gender"] == "1"), "exact text");
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("shiheng: warning"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(warnings[0].contains("Employee.gender: a number where the spec says string"));
    assert!(
        run.stderr
            .contains("drift: Employee.gender: a number where the spec says string (15 values)"),
        "{}",
        run.stderr
    );

    let run = failing(client_cmd(&server.base_url()).args(args).arg("--strict"), 5);
    assert!(
        run.stdout.is_empty(),
        "stopped before writing: {}",
        run.stdout
    );
    assert!(run.stderr.contains("--strict") && run.stderr.contains("Employee.gender"));
}

#[test]
fn an_undecodable_item_is_kept_as_received_and_the_listing_goes_on() {
    let mut items: Vec<Value> = (1..=4).map(employee).collect();
    items[1] = Value::from("not an object");
    items[2] = json!({"id": 3, "name": {"nested": true}});
    let server = employee_server(&[items.clone()], 50);

    let run = ok(client_cmd(&server.base_url()).args(["employees", "--all", "--format", "jsonl"]));
    let lines = jsonl(&run.stdout);
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[1], items[1], "as received");
    assert_eq!(lines[2], items[2], "as received");
    assert_eq!(lines[3]["id"], 4, "the listing went on");
    assert_eq!(
        run.stderr.matches("could not be decoded").count(),
        2,
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("item 1 of page 1"), "{}", run.stderr);
    assert!(run.stderr.contains("2 undecodable (written as received)"));

    // csv cannot hold them: the rest is written, each is reported, exit 5.
    let run = failing(
        client_cmd(&server.base_url()).args(["employees", "--all", "--format", "csv"]),
        5,
    );
    assert_eq!(run.stdout.lines().count(), 3, "header and two rows");
    assert!(run.stderr.contains("item 2 of page 1") && run.stderr.contains("left out"));

    // One page without --all does the same.
    let run = ok(client_cmd(&server.base_url()).args(["employees", "--format", "jsonl"]));
    assert_eq!(jsonl(&run.stdout).len(), 4);

    let run = failing(
        client_cmd(&server.base_url()).args([
            "employees",
            "--all",
            "--format",
            "jsonl",
            "--strict",
        ]),
        5,
    );
    assert_eq!(jsonl(&run.stdout).len(), 1, "stopped at the first");
}

#[test]
fn the_secret_is_never_logged_even_at_trace() {
    let sb = TestSandbox::new();
    let run = ok(sb.cmd().env("RUST_LOG", "trace").args([
        "employees",
        "--page-size",
        "2",
        "--format",
        "jsonl",
    ]));
    assert!(run.stderr.contains("string_to_sign"), "{}", run.stderr);
    assert!(!run.stderr.contains('\u{1b}'), "no colours");
    let run = ok(sb
        .cmd()
        .args(["-vv", "customers", "--page-size", "2", "--format", "jsonl"]));
    assert!(run.stderr.contains("TRACE"), "{}", run.stderr);
    let quiet = ok(sb
        .cmd()
        .args(["customers", "--page-size", "2", "--format", "jsonl"]));
    assert!(!quiet.stderr.contains("TRACE") && !quiet.stderr.contains("DEBUG"));
}

#[test]
fn transport_and_http_errors_exit_4() {
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let run = failing(
        client_cmd(&format!("http://127.0.0.1:{port}")).arg("employees"),
        4,
    );
    assert!(run.stderr.contains("connect"), "{}", run.stderr);

    let sb = TestSandbox::start(TestSandbox::config().with_faults(1.0, FaultKinds::GATEWAY));
    let run = failing(sb.cmd().args(["customers", "--all"]), 4);
    assert!(run.stderr.contains("503"));
}

/// A server that answers every request with 200 and a body that is not JSON,
/// for at most `connections` connections or ten seconds.
fn not_json_server(connections: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut served = 0;
        while served < connections && Instant::now() < deadline {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            served += 1;
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let body = "<html>not json</html>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn undecodable_answers_exit_5() {
    let url = not_json_server(3);
    let run = failing(client_cmd(&url).arg("customers"), 5);
    assert!(run.stderr.contains("undecodable"), "{}", run.stderr);
}

#[test]
fn sign_prints_the_string_to_sign_with_the_secret_masked() {
    // The spec's worked example; no base URL, nothing sent.
    let run = ok(bare()
        .env("SHIHENG_APP_SECRET", "demo-secret")
        .args([
            "sign",
            "--app-id",
            "demo-app",
            "--timestamp",
            "1700000000000",
        ])
        .args(["--param-content", r#"{"pageSize":50,"pageNum":1}"#]));
    assert!(run.stdout.contains(
        r#"string to sign: appId=demo-app&paramContent={"pageNum":1,"pageSize":50}&timestamp=1700000000000&version=1.0****"#
    ));
    assert!(
        run.stdout
            .contains("sign: 0f63d2848b270e4f5f0de01cc29a5ffe")
    );
    assert!(!run.stdout.contains("demo-secret"));

    let run = ok(bare().env("SHIHENG_APP_SECRET", SECRET).args([
        "sign",
        "--app-id",
        "demo-app",
        "--timestamp",
        "1",
    ]));
    assert!(
        run.stdout
            .contains("string to sign: appId=demo-app&timestamp=1&version=1.0****")
    );
    failing(bare().env("SHIHENG_APP_ID", "demo-app").arg("sign"), 2);
}

#[test]
fn demo_lists_every_paginated_operation_of_the_embedded_sandbox() {
    let run = ok(bare().arg("demo"));
    for op in OperationSpec::all()
        .iter()
        .filter(|op| op.pagination.is_some())
    {
        assert!(
            run.stdout
                .contains(&format!("{} ({}): ", op.cli_command, op.operation_id)),
            "{}",
            run.stdout
        );
    }
    assert!(
        run.stdout.contains(
            "employees (listWecomEmployees): 464 items in 10 pages, 0 duplicates dropped"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("requests: 10 served by the sandbox in ")
    );
    assert!(run.stdout.contains("; the platform reports 464 items"));
    // The documented statuses, 6 included, with their counts.
    let statuses = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("status: "))
        .unwrap_or_default();
    assert!(statuses.contains("6 ×"), "{statuses}");
    assert!(
        run.stdout
            .contains("largest id: 9007199254740993 (above 2^53 = 9007199254740992: kept exact)")
    );
    assert!(
        !run.stderr.contains('\u{1b}'),
        "no progress bar when stderr is not a terminal"
    );
}

#[test]
fn the_sandbox_command_serves_until_stopped_with_its_own_credentials() {
    let mut cmd = std::process::Command::new(BIN);
    cmd.args([
        "sandbox",
        "--listen",
        "127.0.0.1:0",
        "--items",
        "employees=40",
        "--seed",
        "7",
        // Faults the client's default retries absorb: slow answers come
        // within its timeout, 503s and dropped connections are retried.
        "--fail-rate",
        "0.3",
        "--faults",
        "503,drop,slow",
        "--slow-fault-ms",
        "50",
    ])
    // Production settings in the environment never reach the sandbox.
    .env("SHIHENG_APP_ID", "prod-app")
    .env("SHIHENG_APP_SECRET", "prod-secret")
    .env("SHIHENG_SANDBOX_APP_ID", "sandbox-app")
    .env("SHIHENG_SANDBOX_APP_SECRET", "sandbox-secret")
    .env_remove("SHIHENG_SANDBOX_API_VERSION")
    .env_remove("RUST_LOG");
    let (mut child, lines) = spawn(&mut cmd);
    let mut banner = Vec::new();
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(30)) {
        let done = line.starts_with("Press Ctrl-C");
        banner.push(line);
        if done {
            break;
        }
    }
    let banner = banner.join("\n");
    assert!(
        banner.contains("export SHIHENG_APP_ID=sandbox-app"),
        "{banner}"
    );
    assert!(banner.contains("export SHIHENG_APP_SECRET=sandbox-secret"));
    assert!(!banner.contains("prod-"), "{banner}");
    let url = banner
        .lines()
        .next()
        .and_then(|l| l.rsplit(' ').next())
        .unwrap_or_default()
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{banner}");
    let run = ok(bare().env("SHIHENG_APP_SECRET", "sandbox-secret").args([
        "employees",
        "--base-url",
        &url,
        "--app-id",
        "sandbox-app",
        "--all",
        "--page-size",
        "5",
        // One request at a time, so which request fails (a function of the
        // seed and the request's number) and hence the outcome is the same
        // every run; concurrent pages would race for the failing numbers.
        "--concurrency",
        "1",
        "--format",
        "jsonl",
    ]));
    assert_each_once(&ids(&jsonl(&run.stdout)), 40);

    // SIGTERM stops it cleanly (exit 0) with its summary.
    signal(&child, "TERM");
    let (code, stderr) = exit_of(&mut child);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("stopped by SIGTERM after"), "{stderr}");
    assert!(!stderr.contains("injected 0 faults"), "{stderr}");
}
