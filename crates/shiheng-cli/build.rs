//! Marks a build whose SDK merged `SHIHENG_SPEC_OVERLAY` into the spec (the
//! SDK's build.rs does the merging), so that tests/extended_spec_cli.rs,
//! which drives the operations the overlay adds, is compiled only then.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(shiheng_spec_overlay)");
    println!("cargo:rerun-if-env-changed=SHIHENG_SPEC_OVERLAY");
    if std::env::var_os("SHIHENG_SPEC_OVERLAY").is_some_and(|p| !p.is_empty()) {
        println!("cargo::rustc-cfg=shiheng_spec_overlay");
    }
}
