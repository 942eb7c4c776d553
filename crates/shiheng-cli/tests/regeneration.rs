//! Regenerating needs no Rust, proven under the README's test command: the
//! regeneration proofs are built from an extended spec by a nested `cargo
//! test` and run here, so `cargo test --workspace --all-features` runs them
//! (they used to run only through .ci/ scripts).
//!
//! 1. The README's steps, literally, on a copy of the project: a field
//!    added by hand under `components.schemas.Employee.properties`, then
//!    `shiheng spec import page.txt --path /wecom/tag/list --operation-id
//!    listWecomTags --cli-command tags --write` with
//!    tests/fixtures/pages/wecom-tag-list.page.txt. The copy's build runs
//!    tests/imported_endpoint.rs (the typed call, the saved sample),
//!    tests/samples.rs (every saved sample against the spec) and
//!    crates/shiheng-cli/tests/extended_spec_cli.rs (a command per added
//!    operation, against `shiheng sandbox`).
//! 2. The project with tests/fixtures/spec-overlay-new-endpoint.yaml merged
//!    into its spec (`SHIHENG_SPEC_OVERLAY`): tests/extended_spec.rs and
//!    extended_spec_cli.rs again, and the overlay's endpoints written with
//!    inline schemas, `$ref` chains and `allOf` (tests/inline_spec.rs,
//!    inline_spec_cli.rs).
//!
//! Both builds go to `<target>/regen/target`, a target directory of their
//! own: the outer `cargo test` holds the lock of its own while tests run.
//! The copy lives in `<target>/regen/project` and is written file by file
//! only where its content changed, so a second run rebuilds nothing that
//! did not change; the two builds differ in one profile setting of the SDK
//! (`debug`), which keeps their artifacts apart instead of rebuilding each
//! other's. `.ci/regen-check` then runs the whole suite in that copy.
//! Costs, measured: docs/testing.md ("The regeneration proofs").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_shiheng");
/// The longest a nested build and test may take (a clean build of every
/// dependency on a slow, shared machine included).
const NESTED_LIMIT: Duration = Duration::from_secs(60 * 60);

/// The README's first regeneration step: the field, as the README shows it.
const FIELD: &str = "        department:
          type: string
          nullable: true
          description: Department name (部门).
";

fn root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The nested builds' directory, under the outer target directory.
fn regen_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is <target>/tmp")
        .join("regen")
}

/// Every file of the project but build output and VCS data, relative to
/// `dir`.
fn project_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        let entries = std::fs::read_dir(dir.join(&rel))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(&rel).display()));
        for entry in entries {
            let entry = entry.expect("a directory entry");
            let name = entry.file_name();
            let path = rel.join(&name);
            let kind = entry.file_type().expect("a file type");
            // A worktree's `.git` is a file naming the repository: the
            // copy is no checkout of it.
            if matches!(
                name.to_str(),
                Some("target" | ".git" | "node_modules" | ".venv")
            ) {
                continue;
            }
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let bytes = std::fs::read(entry.path())
                    .unwrap_or_else(|e| panic!("{}: {e}", entry.path().display()));
                files.insert(path, bytes);
            }
        }
    }
    files
}

/// Makes `dst` hold exactly `files`, writing only what differs, so that
/// cargo's freshness checks (file times) see only real changes.
fn sync(files: &BTreeMap<PathBuf, Vec<u8>>, dst: &Path) {
    for (rel, bytes) in files {
        let path = dst.join(rel);
        if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("create the copy");
            std::fs::write(&path, bytes)
                .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        }
    }
    if dst.exists() {
        for rel in project_files(dst).keys() {
            if !files.contains_key(rel) {
                std::fs::remove_file(dst.join(rel)).expect("remove a stale file");
            }
        }
    }
}

/// The README's two steps on a copy of the spec and the saved samples in
/// `stage`, run as a user runs them (from the project's root, with the
/// defaults); returns the files they changed, relative to the project.
fn readme_steps(stage: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let _ = std::fs::remove_dir_all(stage);
    let spec = stage.join("spec/shiheng-open.yaml");
    std::fs::create_dir_all(spec.parent().expect("spec/")).expect("stage");
    let samples = Path::new("tests/fixtures/samples");
    std::fs::create_dir_all(stage.join(samples)).expect("stage");
    for (rel, bytes) in project_files(&root().join(samples)) {
        std::fs::write(stage.join(samples).join(rel), bytes).expect("stage a sample");
    }

    // Step 1: the field, under components.schemas.Employee.properties.
    let text = std::fs::read_to_string(root().join("spec/shiheng-open.yaml")).expect("the spec");
    let employee = text
        .find("\n    Employee:\n")
        .expect("components.schemas.Employee in the spec");
    let properties = employee
        + text[employee..]
            .find("\n      properties:\n")
            .expect("Employee.properties")
        + "\n      properties:\n".len();
    let edited = format!("{}{FIELD}{}", &text[..properties], &text[properties..]);
    std::fs::write(&spec, edited).expect("write the edited spec");

    // Step 2: the import, as the README writes it.
    let page = root().join("tests/fixtures/pages/wecom-tag-list.page.txt");
    let output = Command::new(BIN)
        .current_dir(stage)
        .args(["spec", "import"])
        .arg(&page)
        .args([
            "--path",
            "/wecom/tag/list",
            "--operation-id",
            "listWecomTags",
            "--cli-command",
            "tags",
            "--write",
        ])
        .output()
        .expect("shiheng spec import runs");
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the import failed:\n{report}");
    assert!(report.contains("added path /wecom/tag/list"), "{report}");
    for rust_edit in ["build.rs", "LENIENT_TYPES", "src/lenient.rs"] {
        assert!(
            !report.contains(rust_edit),
            "the report asks for Rust ({rust_edit}):\n{report}"
        );
    }

    let mut changed = BTreeMap::new();
    changed.insert(
        PathBuf::from("spec/shiheng-open.yaml"),
        std::fs::read(&spec).expect("the merged spec"),
    );
    for (rel, bytes) in project_files(&stage.join(samples)) {
        changed.insert(samples.join(rel), bytes);
    }
    assert!(
        changed.contains_key(&samples.join("wecom-tag-list.json")),
        "the import saved its sample"
    );
    changed
}

/// `cargo test --workspace --all-features --locked` of `tests` in
/// `project`, in the nested target directory, with `env`; returns its
/// stdout (the tests' results) after checking it passed and ran every
/// named test file.
fn nested_cargo_test(
    project: &Path,
    tests: &[&str],
    profile: &[&str],
    env: &[(&str, &Path)],
) -> String {
    let target = regen_dir().join("target");
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(project)
        .args(["test", "--workspace", "--all-features", "--locked"])
        .args(profile);
    for test in tests {
        command.args(["--test", test]);
    }
    command
        .env("CARGO_TARGET_DIR", &target)
        .env("CARGO_BUILD_BUILD_DIR", &target)
        .env_remove("SHIHENG_SPEC")
        .env_remove("SHIHENG_SPEC_OVERLAY")
        .env_remove("SHIHENG_IMPORT_CHECK")
        .env_remove("SHIHENG_IMPORT_SAMPLE")
        .env_remove("SHIHENG_UPDATE_SNAPSHOTS")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // What cargo set for this test process describes this package, not the
    // nested build, and a changed value re-runs build scripts that watch it
    // (ring's watches CARGO_MANIFEST_DIR): the nested build gets the
    // environment a shell would give it, so `.ci/regen-check` reuses it.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || matches!(
                &*name,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "CARGO_BIN_NAME"
                    | "CARGO_TARGET_TMPDIR"
                    | "OUT_DIR"
            )
        {
            command.env_remove(&*name);
        }
    }
    for (name, value) in env {
        command.env(name, value);
    }
    eprintln!(
        "regeneration: {} (in {}, target {})",
        format_command(&command),
        project.display(),
        target.display()
    );
    let started = Instant::now();
    let mut child = command.spawn().expect("cargo runs");
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for cargo") {
            break status;
        }
        if started.elapsed() > NESTED_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the nested cargo test took over {NESTED_LIMIT:?}: stopped");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let stdout = reader.join().expect("the reader");
    eprintln!(
        "regeneration: finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(status.success(), "the nested cargo test failed:\n{stdout}");
    assert!(
        !stdout.contains("running 0 tests"),
        "a proof was compiled out (0 tests):\n{stdout}"
    );
    stdout
}

fn format_command(command: &Command) -> String {
    let envs: Vec<String> = command
        .get_envs()
        .filter_map(|(k, v)| {
            let k = k.to_string_lossy();
            let v = v?.to_string_lossy();
            k.starts_with("SHIHENG_").then(|| format!("{k}={v}"))
        })
        .collect();
    let args: Vec<String> = command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("{} cargo {}", envs.join(" "), args.join(" "))
        .trim()
        .to_string()
}

fn assert_ran(stdout: &str, tests: &[&str]) {
    for test in tests {
        assert!(
            stdout.contains(&format!("test {test} ... ok")),
            "{test} did not run and pass:\n{stdout}"
        );
    }
}

#[test]
fn regeneration_proofs_pass_after_the_readme_steps_and_with_the_overlay() {
    let regen = regen_dir();
    let project = regen.join("project");
    let mut files = project_files(&root());
    files.extend(readme_steps(&regen.join("stage")));
    sync(&files, &project);

    // 1. The README's steps, on the copy.
    let sample = project.join("tests/fixtures/samples/wecom-tag-list.json");
    let stdout = nested_cargo_test(
        &project,
        &["imported_endpoint", "samples", "extended_spec_cli"],
        &[],
        &[
            ("SHIHENG_IMPORT_CHECK", Path::new("1")),
            ("SHIHENG_IMPORT_SAMPLE", &sample),
        ],
    );
    assert_ran(
        &stdout,
        &[
            "the_saved_sample_decodes_into_the_generated_types",
            "the_typed_call_pages_by_cursor",
            "every_saved_sample_matches_its_operation_in_the_spec",
            "every_operation_is_a_command_that_works_against_the_sandbox",
        ],
    );

    // 2. The overlay, merged into the project's own spec. `debug` of the
    // SDK differs from build 1's, so each build keeps its artifacts.
    let overlay = project.join("tests/fixtures/spec-overlay-new-endpoint.yaml");
    let spec = root().join("spec/shiheng-open.yaml");
    let stdout = nested_cargo_test(
        &project,
        &[
            "extended_spec",
            "extended_spec_cli",
            "inline_spec",
            "inline_spec_cli",
        ],
        &["--config", "profile.dev.package.shiheng.debug=\"limited\""],
        &[("SHIHENG_SPEC", &spec), ("SHIHENG_SPEC_OVERLAY", &overlay)],
    );
    assert_ran(
        &stdout,
        &[
            "a_new_paginated_endpoint_gets_its_stream",
            "a_new_field_appears_on_the_generated_type",
            "sandbox::check_finds_no_drift_in_them_and_drift_mode_plants_some",
            "every_operation_is_a_command_that_works_against_the_sandbox",
            "inline_schemas_are_named_after_their_operation_in_the_table",
            "the_typed_client_sends_and_reads_the_inline_forms",
            "inline_and_all_of_params_are_passed_with_param_content",
            "the_inline_page_lists_and_check_finds_no_drift",
        ],
    );
}
