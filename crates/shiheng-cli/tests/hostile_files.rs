//! The real `shiheng` binary against hostile files: `--output` naming a
//! character device, a FIFO, a 0600 file or a read-only file; the spec
//! `spec import --write` replaces keeping its mode; `--app-secret-file`
//! naming `/dev/zero`-like endless input, a FIFO whose writer never comes,
//! NUL bytes, or too much text; a non-UTF-8 `SHIHENG_APP_SECRET`. Devices
//! and FIFOs are made in temporary directories (a device node only when
//! running as root, as CI does): no system device is ever touched. Every
//! server binds 127.0.0.1; every wait has a deadline.
#![cfg(unix)]

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use shiheng_sandbox::{Sandbox, SandboxConfig};

const BIN: &str = env!("CARGO_BIN_EXE_shiheng");
const SECRET: &str = "s3cret-that-must-never-be-printed";
const EMPLOYEES: usize = 123;

/// A sandbox on its own runtime, so tests can run the binary synchronously.
struct TestSandbox {
    runtime: tokio::runtime::Runtime,
    sandbox: Option<Sandbox>,
}

impl TestSandbox {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let config = SandboxConfig::default()
            .with_credentials("demo-app", SECRET)
            .with_item_count("listWecomEmployees", EMPLOYEES);
        let sandbox = runtime.block_on(Sandbox::start(config)).expect("sandbox");
        Self {
            runtime,
            sandbox: Some(sandbox),
        }
    }

    fn url(&self) -> String {
        self.sandbox.as_ref().expect("running").url()
    }
}

impl Drop for TestSandbox {
    fn drop(&mut self) {
        if let Some(sandbox) = self.sandbox.take() {
            self.runtime.block_on(sandbox.shutdown());
        }
    }
}

/// The binary with none of the caller's settings.
fn bare() -> Command {
    let mut cmd = Command::new(BIN);
    for name in [
        "SHIHENG_BASE_URL",
        "SHIHENG_APP_ID",
        "SHIHENG_APP_SECRET",
        "SHIHENG_API_VERSION",
        "RUST_LOG",
        "COLUMNS",
    ] {
        cmd.env_remove(name);
    }
    cmd
}

fn client_cmd(url: &str) -> Command {
    let mut cmd = bare();
    cmd.env("SHIHENG_BASE_URL", url)
        .env("SHIHENG_APP_ID", "demo-app")
        .env("SHIHENG_APP_SECRET", SECRET);
    cmd
}

/// Runs the child to its end, within `limit`; kills it past that.
fn finish(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the binary did not stop within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        !out.contains(SECRET) && !err.contains(SECRET),
        "secret shown"
    );
    output
}

fn run(cmd: &mut Command) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    finish(child, Duration::from_secs(30))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o7777
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success(), "mkfifo");
}

fn list_to(sb: &TestSandbox, target: &Path) -> Command {
    let mut cmd = client_cmd(&sb.url());
    cmd.args(["employees", "--all", "--format", "jsonl", "--output"])
        .arg(target);
    cmd
}

#[test]
fn output_to_a_device_is_written_straight_and_the_device_stays() {
    if !is_root() {
        eprintln!("skipped: making a device node needs root (CI runs as root)");
        return;
    }
    let sb = TestSandbox::new();
    let dir = tempfile::tempdir().expect("tempdir");
    // Our own node of the null device (major 1, minor 3), in a temp dir.
    let device = dir.path().join("null");
    let made = Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "3"])
        .status()
        .expect("mknod");
    assert!(made.success(), "mknod");
    let output = run(&mut list_to(&sb, &device));
    assert!(output.status.success(), "{}", stderr(&output));
    let metadata = std::fs::metadata(&device).expect("still there");
    assert!(
        metadata.file_type().is_char_device(),
        "the device node was replaced by a {:?}",
        metadata.file_type()
    );
    assert!(!dir.path().join("null.partial").exists());
}

#[test]
fn output_to_a_fifo_reaches_its_reader_and_the_fifo_stays() {
    let sb = TestSandbox::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("pipe");
    mkfifo(&fifo);
    // The writer starts first and waits for a reader without blocking in open().
    let writer = list_to(&sb, &fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(300));
    let reader_path = fifo.clone();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::fs::File::open(&reader_path)
            .expect("open the fifo")
            .read_to_string(&mut text)
            .expect("read");
        text
    });
    let output = finish(writer, Duration::from_secs(30));
    assert!(output.status.success(), "{}", stderr(&output));
    let text = reader.join().expect("reader");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), EMPLOYEES, "every line reached the reader");
    for line in lines {
        let _: serde_json::Value = serde_json::from_str(line).expect("a whole record");
    }
    let file_type = std::fs::symlink_metadata(&fifo).expect("fifo").file_type();
    assert!(file_type.is_fifo(), "the FIFO was replaced: {file_type:?}");
    assert!(!dir.path().join("pipe.partial").exists());
}

#[test]
fn a_fifo_without_a_reader_is_waited_for_until_a_signal() {
    let sb = TestSandbox::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("pipe");
    mkfifo(&fifo);
    let writer = list_to(&sb, &fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(500));
    let sent = Command::new("kill")
        .args(["-TERM", &writer.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let output = finish(writer, Duration::from_secs(5));
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(
        std::fs::symlink_metadata(&fifo)
            .expect("fifo")
            .file_type()
            .is_fifo()
    );
}

#[test]
fn a_0600_output_keeps_its_mode_and_its_partial_file_never_has_more() {
    let sb = TestSandbox::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let private = dir.path().join("private.jsonl");
    std::fs::write(&private, "old\n").expect("write");
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let output = run(&mut list_to(&sb, &private));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(mode(&private), 0o600, "the target's mode was kept");
    let text = std::fs::read_to_string(&private).expect("read");
    assert_eq!(text.lines().count(), EMPLOYEES);

    // A new file holds personal data: 0600 whatever the umask allows.
    let new = dir.path().join("new.jsonl");
    let output = run(&mut list_to(&sb, &new));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(mode(&new), 0o600, "a new export is the owner's only");

    // A failing listing leaves its partial file with the target's mode.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let kept = dir.path().join("kept.jsonl");
    std::fs::write(&kept, "keep\n").expect("write");
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let output = run(client_cmd(&url)
        .args(["employees", "--all", "--format", "jsonl", "--output"])
        .arg(&kept));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&kept).expect("kept"), "keep\n");
    assert_eq!(mode(&dir.path().join("kept.jsonl.partial")), 0o640);
}

#[test]
fn a_read_only_output_is_refused_and_left_as_it_was() {
    let sb = TestSandbox::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let read_only = dir.path().join("read-only.jsonl");
    std::fs::write(&read_only, "do not replace\n").expect("write");
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let output = run(&mut list_to(&sb, &read_only));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("read-only"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&read_only).expect("read"),
        "do not replace\n"
    );
    assert_eq!(mode(&read_only), 0o444);
    assert!(!dir.path().join("read-only.jsonl.partial").exists());
}

/// A secret-file run of `sign`, which reads the secret and sends nothing.
fn sign_with_secret_file(path: &Path) -> Command {
    let mut cmd = bare();
    cmd.args([
        "sign",
        "--app-id",
        "demo-app",
        "--timestamp",
        "1700000000000",
    ])
    .arg("--app-secret-file")
    .arg(path);
    cmd
}

#[test]
fn endless_huge_or_binary_secret_files_are_refused_quickly() {
    let dir = tempfile::tempdir().expect("tempdir");
    // /dev/zero read without bound grew to 1.5 GB: the first 4 KiB decide.
    let started = Instant::now();
    let output = run(&mut sign_with_secret_file(Path::new("/dev/zero")));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("4096 bytes"),
        "{}",
        stderr(&output)
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    let huge = dir.path().join("huge");
    std::fs::write(&huge, vec![b'a'; 1 << 20]).expect("write");
    let output = run(&mut sign_with_secret_file(&huge));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("4096 bytes"),
        "{}",
        stderr(&output)
    );

    let nul = dir.path().join("nul");
    std::fs::write(&nul, b"abc\0def\n").expect("write");
    let output = run(&mut sign_with_secret_file(&nul));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("U+0000"), "{}", stderr(&output));

    let latin1 = dir.path().join("latin1");
    std::fs::write(&latin1, b"caf\xe9\n").expect("write");
    let output = run(&mut sign_with_secret_file(&latin1));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("not UTF-8"), "{}", stderr(&output));

    // A short text secret still works, and is never printed.
    let good = dir.path().join("good");
    std::fs::write(&good, format!("{SECRET}\n")).expect("write");
    let output = run(&mut sign_with_secret_file(&good));
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn a_secret_fifo_is_read_when_its_writer_comes_and_a_signal_ends_the_wait() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("secret");
    mkfifo(&fifo);
    // No writer: SIGINT and SIGTERM end the wait at once (it blocked in open()).
    for signal in ["INT", "TERM"] {
        let child = sign_with_secret_file(&fifo)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(400));
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        let output = finish(child, Duration::from_secs(3));
        assert!(!output.status.success(), "SIG{signal} ended it");
    }
    // A writer that comes after the tool started: the secret is read.
    let child = sign_with_secret_file(&fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(300));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&fifo)
        .and_then(|mut f| std::io::Write::write_all(&mut f, format!("{SECRET}\n").as_bytes()))
        .expect("write the secret");
    let output = finish(child, Duration::from_secs(10));
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("sign: "));
}

#[test]
fn a_non_utf8_secret_in_the_environment_is_named_not_missing() {
    use std::os::unix::ffi::OsStrExt;
    let output = run(bare().args(["sign", "--app-id", "demo-app"]).env(
        "SHIHENG_APP_SECRET",
        std::ffi::OsStr::from_bytes(b"caf\xe9-secret"),
    ));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("SHIHENG_APP_SECRET") && err.contains("not UTF-8"),
        "{err}"
    );
    assert!(!err.contains("no app secret"), "{err}");
}

fn repo(path: &str) -> std::path::PathBuf {
    // The workspace's root: the spec and the pages live there.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// `spec import --write` of the tag page into `spec`, under a path and an
/// operationId of its own (the README imports it as listWecomTags, which
/// the spec may hold already).
fn import_into(spec: &Path, samples: &Path) -> Output {
    run(bare()
        .args(["spec", "import"])
        .arg(repo("tests/fixtures/pages/wecom-tag-list.page.txt"))
        .args([
            "--path",
            "/wecom/label/list",
            "--operation-id",
            "listWecomLabels",
        ])
        .arg("--spec")
        .arg(spec)
        .arg("--sample-dir")
        .arg(samples)
        .arg("--write"))
}

#[test]
fn spec_import_write_keeps_the_specs_mode_and_refuses_a_read_only_spec() {
    let original = std::fs::read_to_string(repo("spec/shiheng-open.yaml")).expect("the spec");
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("spec.yaml");
    let samples = dir.path().join("samples");
    std::fs::write(&spec, &original).expect("write");
    std::fs::set_permissions(&spec, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let output = import_into(&spec, &samples);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_ne!(std::fs::read_to_string(&spec).expect("spec"), original);
    assert_eq!(mode(&spec), 0o640, "the spec's mode was kept");
    assert!(!dir.path().join("spec.yaml.import-tmp").exists());

    let read_only = dir.path().join("read-only.yaml");
    std::fs::write(&read_only, &original).expect("write");
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let output = import_into(&read_only, &dir.path().join("other-samples"));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("read-only"), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&read_only).expect("spec"), original);
    assert_eq!(mode(&read_only), 0o444);
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_sandbox_refuses_counts_and_settings_it_cannot_serve_with_exit_2() {
    for args in [
        &["--items", "employees=1000000000000"][..],
        &["--items", "employees=18446744073709551615"],
        &["--items", "employees=99999999999999999999999999"],
        &["--app-id="],
        &["--api-version="],
    ] {
        let started = Instant::now();
        let output = run(bare()
            .args(["sandbox", "--listen", "127.0.0.1:0"])
            .args(args));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(started.elapsed() < Duration::from_secs(5), "{args:?}");
        let err = stderr(&output);
        assert!(
            err.contains("more than the sandbox generates") || err.contains("must not be empty"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn sandbox_data_names_the_files_it_would_skip() {
    type Make = fn(&Path);
    let cases: [(&str, Make); 3] = [
        ("listWecomEmployees.JSON", |p| {
            std::fs::write(p, "[]").expect("write")
        }),
        ("listWecomEmployees.json", |p| {
            std::fs::create_dir(p).expect("mkdir")
        }),
        ("listWecomCustomers.json", |p| mkfifo(p)),
    ];
    for (name, make) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        make(&dir.path().join(name));
        let output = run(bare()
            .args(["sandbox", "--listen", "127.0.0.1:0", "--data"])
            .arg(dir.path()));
        assert_eq!(output.status.code(), Some(2), "{name}: {}", stderr(&output));
        let err = stderr(&output);
        assert!(err.contains(name), "{name}: {err}");
    }
}

#[test]
fn sign_reads_param_content_from_a_file_and_keeps_every_digit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let params = dir.path().join("params.json");
    // sign-vectors.json case 9, its paramContentText.
    std::fs::write(
        &params,
        r#"{"neg":-123456789012345678901234567890,"big":18446744073709551616}"#,
    )
    .expect("write");
    let sign = |param: String| {
        run(bare()
            .args([
                "sign",
                "--app-id",
                "demo-app",
                "--timestamp",
                "1700000000000",
            ])
            .args(["--param-content", &param])
            .env("SHIHENG_APP_SECRET", "demo-secret"))
    };
    let output = sign(format!("@{}", params.display()));
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.contains("sign: 1c6b0faacab3af166b89ea4776a9d754"),
        "{out}"
    );
    assert!(
        out.contains(
            r#""paramContent":{"big":18446744073709551616,"neg":-123456789012345678901234567890}"#
        ),
        "{out}"
    );
    // Case 10: -0 is signed and sent as 0.
    let output = sign(r#"{"pageSize":1,"offset":-0}"#.into());
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.contains("sign: 3da7c0200d932cde56995ad5a01098b3"),
        "{out}"
    );
    assert!(
        out.contains(r#""paramContent":{"offset":0,"pageSize":1}"#),
        "{out}"
    );
    // A file that cannot be read is named.
    let output = sign("@/nonexistent/params.json".into());
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("/nonexistent/params.json"));
}

#[test]
fn timeout_bounds_each_request_to_a_server_that_never_answers() {
    // Accepts connections and reads, never answers (at most 8 connections).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(8).flatten() {
            held.push(stream);
        }
        std::thread::sleep(Duration::from_secs(60));
    });
    let started = Instant::now();
    let output =
        run(client_cmd(&url).args(["employees", "--format", "jsonl", "--timeout", "300ms"]));
    let elapsed = started.elapsed();
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).to_lowercase().contains("timed out")
            || stderr(&output).to_lowercase().contains("timeout"),
        "{}",
        stderr(&output)
    );
    // 4 attempts of 300 ms and the backoff (at most 2.8 s), not 4 × 30 s.
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
    let output = run(client_cmd(&url).args(["employees", "--timeout", "0s"]));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

#[test]
fn spec_import_refuses_paths_the_spec_cannot_hold() {
    let page = repo("tests/fixtures/pages/wecom-tag-list.page.txt");
    for (path, why) in [
        ("/../../etc/list", "`..` segment"),
        ("/wecom/tag/list?x=1", "query"),
        ("//list", "empty segment"),
        ("/#x/list", "fragment"),
        ("/{id}/list", "template"),
        ("/wecom/tag/", "empty segment"),
        ("/a b/list", "character ' '"),
    ] {
        let output = run(bare()
            .args(["spec", "import"])
            .arg(&page)
            .args(["--path", path, "--operation-id", "listWecomTags", "--spec"])
            .arg(repo("spec/shiheng-open.yaml")));
        assert_eq!(output.status.code(), Some(2), "{path}: {}", stderr(&output));
        let err = stderr(&output);
        assert!(err.contains(why), "{path}: {err}");
        assert!(stdout(&output).is_empty(), "{path}: nothing printed");
    }
}

#[test]
fn spec_import_replace_keeps_what_the_page_does_not_replace() {
    let original = std::fs::read_to_string(repo("spec/shiheng-open.yaml")).expect("the spec");
    let before: serde_json::Value = serde_yaml_ng::from_str(&original).expect("YAML");
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, &original).expect("write");
    let output = run(bare()
        .args(["spec", "import"])
        .arg(repo("tests/fixtures/pages/wecom-employee-page.source.txt"))
        .args([
            "--path",
            "/wecom/employee/page",
            "--operation-id",
            "listWecomEmployees",
            "--write",
            "--replace",
            "--spec",
        ])
        .arg(&spec)
        .arg("--sample-dir")
        .arg(dir.path().join("samples")));
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    let after: serde_json::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(&spec).expect("spec")).expect("YAML");
    let (old, new) = (
        &before["paths"]["/wecom/employee/page"]["post"],
        &after["paths"]["/wecom/employee/page"]["post"],
    );
    assert_eq!(
        new["x-cli-command"], old["x-cli-command"],
        "the CLI command kept"
    );
    assert_eq!(new["x-cli-command"], "employees");
    assert_eq!(new["responses"]["503"], old["responses"]["503"], "503 kept");
    let examples = |op: &serde_json::Value| {
        op["requestBody"]["content"]["application/json"]["examples"].clone()
    };
    assert!(examples(old).is_object());
    assert_eq!(examples(new), examples(old), "the request examples kept");
    assert_eq!(
        new["responses"]["200"]["content"]["application/json"]["examples"],
        old["responses"]["200"]["content"]["application/json"]["examples"],
        "the answer examples kept"
    );
    assert!(err.contains("kept from the operation replaced"), "{err}");
    assert!(err.contains("post.x-cli-command"), "{err}");
    assert!(err.contains("post.responses.503"), "{err}");
}

#[test]
fn verbose_is_offered_only_where_something_logs() {
    let help = |args: &[&str]| {
        let output = run(bare().args(args).arg("--help"));
        assert!(output.status.success(), "{args:?}");
        stdout(&output)
    };
    let import = help(&["spec", "import"]);
    assert!(
        !import.contains("--verbose"),
        "spec import runs no client: {import}"
    );
    let sign = help(&["sign"]);
    assert!(!sign.contains("--verbose"), "sign runs no client: {sign}");
    let sandbox = help(&["sandbox"]);
    assert!(sandbox.contains("Log the sandbox's activity"), "{sandbox}");
    assert!(!sandbox.contains("client's activity"), "{sandbox}");
    for client in [&["employees"][..], &["check"], &["demo"]] {
        let text = help(client);
        assert!(
            text.contains("Log the client's activity"),
            "{client:?}: {text}"
        );
    }
    // Before the command, as before.
    let output = run(bare()
        .args(["-v", "sign", "--app-id", "a"])
        .env("SHIHENG_APP_SECRET", "s"));
    assert!(output.status.success(), "{}", stderr(&output));
}
