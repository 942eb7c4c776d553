//! What the CLI's spec-driven tests share: `shiheng sandbox` as a child
//! process on 127.0.0.1 (killed when the test ends) and the `shiheng`
//! binary run against it with the sandbox's credentials.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_shiheng");

/// Kills the sandbox when the test ends, whatever happens.
pub struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `shiheng sandbox` on a free port; returns it and its URL.
pub fn sandbox() -> (Running, String) {
    let mut child = Running(
        Command::new(BIN)
            .args(["sandbox", "--listen", "127.0.0.1:0"])
            .env_remove("SHIHENG_SANDBOX_APP_ID")
            .env_remove("SHIHENG_SANDBOX_APP_SECRET")
            .env_remove("SHIHENG_SANDBOX_API_VERSION")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the sandbox"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = tx.send(lines.next().and_then(Result::ok).unwrap_or_default());
        for _ in lines {}
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the sandbox prints its URL");
    let url = first.rsplit(' ').next().unwrap_or_default().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    (child, url)
}

pub fn cli(url: &str, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(BIN)
        .args(args)
        .env("SHIHENG_BASE_URL", url)
        .env("SHIHENG_APP_ID", "demo-app")
        .env("SHIHENG_APP_SECRET", "demo-secret")
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
