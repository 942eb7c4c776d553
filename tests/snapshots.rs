//! The generated code, kept as reviewable snapshots: `tests/snapshots/` holds
//! what `build.rs` generates from the committed spec. A spec edit or a
//! generator upgrade that changes the generated Rust fails this test until
//! the snapshots are updated, so the change shows up as a diff in review:
//!
//! ```sh
//! SHIHENG_UPDATE_SNAPSHOTS=1 cargo test --test snapshots   # then review `git diff tests/snapshots`
//! ```
//!
//! Builds from another spec (`SHIHENG_SPEC`, `SHIHENG_SPEC_OVERLAY`) skip it.
#![cfg(not(shiheng_custom_spec))]

const GENERATED: &[(&str, &str)] = &[
    (
        "codegen.rs",
        include_str!(concat!(env!("OUT_DIR"), "/codegen.rs")),
    ),
    (
        "model.rs",
        include_str!(concat!(env!("OUT_DIR"), "/model.rs")),
    ),
    (
        "operations.rs",
        include_str!(concat!(env!("OUT_DIR"), "/operations.rs")),
    ),
    (
        "calls.rs",
        include_str!(concat!(env!("OUT_DIR"), "/calls.rs")),
    ),
];

#[test]
fn generated_code_matches_the_committed_snapshots() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let update = std::env::var_os("SHIHENG_UPDATE_SNAPSHOTS").is_some();
    let mut stale = Vec::new();
    for (name, generated) in GENERATED {
        let path = dir.join(name);
        if update {
            std::fs::write(&path, generated).expect("write the snapshot");
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != *generated {
            let first = committed
                .lines()
                .zip(generated.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
            stale.push(format!(
                "tests/snapshots/{name} differs from the generated code from line {} on ({} lines committed, {} generated)",
                first + 1,
                committed.lines().count(),
                generated.lines().count()
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "{}\nthe generated code changed (a spec edit or a generator upgrade): this test shows the diff, it is not a failure of the change. Review it, then accept it with: SHIHENG_UPDATE_SNAPSHOTS=1 cargo test -p shiheng --test snapshots (and commit tests/snapshots/)",
        stale.join("\n")
    );
}
