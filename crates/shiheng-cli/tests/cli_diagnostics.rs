//! The real `shiheng` binary's diagnostics and process handling: `RUST_LOG`
//! and `-v` turn on the library's tracing on stderr without ever printing
//! the secret, `--help` does not show the environment's values, and the
//! `sandbox` command stops with its summary on SIGTERM as on Ctrl-C.
//! Servers bind 127.0.0.1 and stop by themselves; every wait has a deadline.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use shiheng_sandbox::{Sandbox, SandboxConfig};

const BIN: &str = env!("CARGO_BIN_EXE_shiheng");
const SECRET: &str = "s3cret-for-the-trace-test-only";

/// The binary with none of the caller's SHIHENG_* or RUST_LOG settings.
fn bare() -> Command {
    let mut cmd = Command::new(BIN);
    for name in [
        "SHIHENG_BASE_URL",
        "SHIHENG_APP_ID",
        "SHIHENG_APP_SECRET",
        "SHIHENG_API_VERSION",
        "RUST_LOG",
    ] {
        cmd.env_remove(name);
    }
    cmd.timeout(Duration::from_secs(60));
    cmd
}

/// Runs one listing against a fresh sandbox with `configure` applied to
/// the command; returns (exit code, stdout, stderr).
fn list_with(configure: impl FnOnce(&mut Command)) -> (i32, String, String) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let sandbox = runtime
        .block_on(Sandbox::start(
            {
                let mut config = SandboxConfig::default();
                config.app_secret = SECRET.to_string();
                config
            }
            .with_item_count("listWecomEmployees", 7),
        ))
        .expect("sandbox");
    let mut cmd = bare();
    cmd.env("SHIHENG_BASE_URL", sandbox.url())
        .env("SHIHENG_APP_ID", sandbox.app_id())
        .env("SHIHENG_APP_SECRET", SECRET)
        .args(["employees", "--page-size", "5", "--format", "jsonl"]);
    configure(&mut cmd);
    let output = cmd.output().expect("the binary runs");
    runtime.block_on(sandbox.shutdown());
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn rust_log_trace_shows_the_library_tracing_but_never_the_secret() {
    let (code, stdout, stderr) = list_with(|cmd| {
        cmd.env("RUST_LOG", "trace");
    });
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 5);
    // The library's own events, at every level down to trace, and the
    // HTTP stack's (RUST_LOG=trace turns on everything).
    assert!(stderr.contains("TRACE"), "{stderr}");
    assert!(stderr.contains("signed request"), "{stderr}");
    assert!(stderr.contains("string_to_sign"), "{stderr}");
    assert!(stderr.contains("shiheng.attempt"), "{stderr}");
    assert!(stderr.contains("hyper"), "{stderr}");
    assert!(!stderr.contains(SECRET), "the secret leaked: {stderr}");
    assert!(!stdout.contains(SECRET));
}

#[test]
fn verbose_flags_turn_on_the_library_tracing() {
    let (code, _, quiet) = list_with(|_| {});
    assert_eq!(code, 0);
    for level in ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"] {
        assert!(!quiet.contains(level), "no tracing by default: {quiet}");
    }

    let (code, _, debug) = list_with(|cmd| {
        cmd.arg("-v");
    });
    assert_eq!(code, 0, "{debug}");
    assert!(debug.contains("DEBUG"), "{debug}");
    assert!(debug.contains("answered"), "{debug}");
    assert!(!debug.contains("TRACE"), "-v stops at debug: {debug}");

    let (code, _, trace) = list_with(|cmd| {
        cmd.arg("-vv");
    });
    assert_eq!(code, 0, "{trace}");
    assert!(trace.contains("string_to_sign"), "{trace}");
    assert!(
        !trace.contains("hyper"),
        "-vv is the client's only: {trace}"
    );
    assert!(!trace.contains(SECRET), "the secret leaked: {trace}");
}

#[test]
fn help_does_not_show_the_environments_values() {
    let base_url = "https://user:hunter2@gateway.example/openapi";
    let app_id = "app-id-from-the-environment";
    // The sandbox names its own variables: it never reads the client's.
    for (args, variable) in [
        (&["--help"][..], "SHIHENG_BASE_URL"),
        (&["employees", "--help"], "SHIHENG_BASE_URL"),
        (&["sandbox", "--help"], "SHIHENG_SANDBOX_APP_ID"),
    ] {
        let output = bare()
            .env("SHIHENG_BASE_URL", base_url)
            .env("SHIHENG_APP_ID", app_id)
            .args(args)
            .output()
            .expect("the binary runs");
        assert!(output.status.success(), "{args:?}");
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(help.contains(variable), "the variable is named: {help}");
        assert!(
            !help.contains("hunter2"),
            "{args:?} showed the base URL: {help}"
        );
        assert!(!help.contains(app_id), "{args:?} showed the appId: {help}");
    }
}

/// Kills the child it holds when dropped, so a failing test leaves nothing running.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(unix)]
#[test]
fn the_sandbox_command_stops_with_its_summary_on_sigterm() {
    let child = std::process::Command::new(BIN)
        .args([
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--items",
            "employees=3",
        ])
        .env_remove("SHIHENG_APP_ID")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut child = Running(child);
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let _ = tx.send(first);
        for _ in lines {}
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the sandbox prints its URL");
    let url = first
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    let listed = bare()
        .env("SHIHENG_APP_SECRET", "demo-secret")
        .args(["employees", "--base-url", &url, "--app-id", "demo-app"])
        .args(["--format", "jsonl"])
        .output()
        .expect("the binary runs");
    assert!(listed.status.success());

    let pid = child.0.id().to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    assert!(signalled.is_ok_and(|s| s.success()));
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the sandbox did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit {status:?}");
    let mut stderr = String::new();
    if let Some(mut pipe) = child.0.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    assert!(
        stderr.contains("sandbox stopped by SIGTERM after 1 requests; injected "),
        "{stderr}"
    );
}

#[test]
fn hostile_text_in_the_diagnostics_cannot_act_on_the_terminal() {
    // A platform whose msg clears the screen and forges a log line.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let server = std::thread::spawn(move || {
        listener.set_nonblocking(false).ok();
        let body = "{\"code\":\"50001\",\"msg\":\"\\u001b[2J\\r\\nFORGED ERROR line\\u0007\",\"traceId\":\"t\"}";
        if let Ok((mut socket, _)) = listener.accept() {
            socket.set_read_timeout(Some(Duration::from_secs(5))).ok();
            let mut buf = [0u8; 8192];
            let _ = socket.read(&mut buf);
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = std::io::Write::write_all(&mut socket, answer.as_bytes());
        }
    });
    let output = bare()
        .env("SHIHENG_BASE_URL", &url)
        .env("SHIHENG_APP_ID", "demo-app")
        .env("SHIHENG_APP_SECRET", SECRET)
        .env("RUST_LOG", "shiheng=debug")
        .args(["employees"])
        .output()
        .expect("the binary runs");
    let _ = server.join();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let diagnostics: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.starts_with("shiheng: error:"))
        .collect();
    assert!(
        diagnostics
            .iter()
            .any(|l| l.contains("call failed") && l.contains("\\u{1b}[2J\\r\\n")),
        "the msg is logged, escaped: {stderr}"
    );
    for line in &diagnostics {
        assert!(!line.contains('\x1b') && !line.contains('\x07'), "{line:?}");
        assert!(!line.starts_with("FORGED"), "a forged line: {stderr}");
    }
}
