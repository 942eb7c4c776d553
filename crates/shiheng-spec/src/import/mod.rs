//! `shiheng spec import`: from a platform page as published to the spec.
//! This module owns the command's arguments and its one entry point, [`run`];
//! `page` reads the page, `sample` holds the sample against the tables,
//! `prose` reads bounds, value lists and names, `mapping` builds the spec
//! fragment, `yaml` writes it, `merge` inserts it into the spec file and
//! `report` says what happened. docs/spec-import.md describes the whole.

mod mapping;
pub(crate) mod merge;
mod page;
mod prose;
mod report;
mod sample;
pub(crate) mod yaml;

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::Value;

/// `shiheng spec ...`.
#[derive(Debug, Args)]
pub struct SpecArgs {
    #[command(subcommand)]
    command: SpecCommand,
}

#[derive(Debug, Subcommand)]
enum SpecCommand {
    /// Turn a platform documentation page (field tables and sample) into
    /// the spec's path and schemas; print them, or merge them with --write.
    Import(ImportArgs),
    /// What changed between two versions of the spec, and for whom it
    /// breaks (Rust callers, the wire, other languages' generated clients).
    /// OLD and NEW are files or REV:PATH. Exit 0: nothing breaking; 1:
    /// something breaking (or, with --require-version-bump, info.version
    /// not bumped as needed); 2: bad input.
    Diff(crate::diff::DiffArgs),
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// The page as published: its text copied from the platform's documentation.
    page: PathBuf,
    /// The request path, e.g. /wecom/tag/list (pages do not print it).
    #[arg(long, value_name = "PATH")]
    path: String,
    /// The operationId, lowerCamelCase, e.g. listWecomTags.
    #[arg(long, value_name = "ID")]
    operation_id: String,
    /// The spec to map onto (its shared components are reused) and, with
    /// --write, to merge into.
    #[arg(long, default_value = "spec/shiheng-open.yaml", value_name = "FILE")]
    spec: PathBuf,
    /// Merge into --spec and save the sample under --sample-dir; without it,
    /// the YAML is printed on stdout and nothing is written.
    #[arg(long)]
    write: bool,
    /// With --write: swap an existing path, schema or sample of the same name.
    #[arg(long, requires = "write")]
    replace: bool,
    /// The CLI subcommand's name (`x-cli-command`); default: the
    /// operationId in kebab-case.
    #[arg(long, value_name = "NAME")]
    cli_command: Option<String>,
    /// The item schema's name, instead of the one the naming rule chooses.
    #[arg(long, value_name = "NAME")]
    item: Option<String>,
    /// Where --write saves the sample as <path with - for />.json.
    #[arg(long, default_value = "tests/fixtures/samples", value_name = "DIR")]
    sample_dir: PathBuf,
}

/// Runs `shiheng spec ...`: `import` prints the YAML (without --write) on
/// stdout and the report on stderr; `diff` prints its report on stdout.
/// Returns the exit code (`diff`: 1 when something is breaking; otherwise
/// 0); an error is one line for the caller to print (exit 2).
pub fn run(args: &SpecArgs) -> Result<u8, String> {
    match &args.command {
        SpecCommand::Import(args) => import(args).map(|()| 0),
        SpecCommand::Diff(args) => crate::diff::run(args),
    }
}

fn import(args: &ImportArgs) -> Result<(), String> {
    let page_text = std::fs::read_to_string(&args.page)
        .map_err(|e| format!("cannot read the page {}: {e}", args.page.display()))?;
    let spec_text = std::fs::read_to_string(&args.spec)
        .map_err(|e| format!("cannot read the spec {}: {e}", args.spec.display()))?;
    let spec: Value = serde_yaml_ng::from_str(&spec_text)
        .map_err(|e| format!("the spec {} is not YAML: {e}", args.spec.display()))?;
    let page = page::parse(&page_text);
    let mut report = report::Report {
        title: format!(
            "shiheng spec import: {} as {} (POST {})",
            args.page.display(),
            args.operation_id,
            args.path
        ),
        ..Default::default()
    };
    let options = mapping::Options {
        path: args.path.clone(),
        operation_id: args.operation_id.clone(),
        cli_command: args.cli_command.clone(),
        item: args.item.clone(),
    };
    let mut fragment = mapping::map(&page, &spec, &options, &mut report)?;
    if args.write && args.replace {
        let existing = spec.get("paths").and_then(|p| p.get(&fragment.path));
        let (path_item, kept) = merge::keep_existing(existing, &fragment.path_item);
        fragment.path_item = path_item;
        if !kept.is_empty() {
            report.changes.push(format!(
                "kept from the operation replaced (the page does not say them): {}",
                kept.join(", ")
            ));
        }
    }
    let clashes = merge::conflicts(&spec, &fragment);
    let sample_file = fragment
        .sample
        .as_ref()
        .map(|(name, text)| (args.sample_dir.join(name), text.clone()));
    let sample_clash = sample_file
        .as_ref()
        .is_some_and(|(path, text)| std::fs::read_to_string(path).is_ok_and(|old| old != *text));

    if !args.write {
        print!(
            "{}",
            merge::preview(&fragment, &args.page.display().to_string())
        );
        let names: Vec<&str> = fragment.schemas.iter().map(|(n, _)| n.as_str()).collect();
        report.changes.push(format!(
            "with --write: path {} and schemas {} into {}",
            fragment.path,
            names.join(", "),
            args.spec.display()
        ));
        if let Some((path, _)) = &sample_file {
            report
                .changes
                .push(format!("with --write: the sample as {}", path.display()));
        }
        if !clashes.is_empty() || sample_clash {
            let mut all = clashes.clone();
            if sample_clash && let Some((path, _)) = &sample_file {
                all.push(format!("a different sample {}", path.display()));
            }
            report.changes.push(format!(
                "--write would refuse: the spec already has {} (--replace swaps them)",
                all.join(", ")
            ));
        }
        if fragment.unreadable > 0 {
            report.changes.push(format!(
                "--write would refuse: {} rows could not be read",
                fragment.unreadable
            ));
        }
        eprint!("{}", report.render());
        return Ok(());
    }

    if fragment.unreadable > 0 {
        eprint!("{}", report.render());
        return Err(format!(
            "{} rows of the page could not be read (listed above with their lines): nothing written; fix the page text and import again",
            fragment.unreadable
        ));
    }
    if sample_clash && !args.replace {
        eprint!("{}", report.render());
        let (path, _) = sample_file.as_ref().expect("a clash has a file");
        return Err(format!(
            "{} exists with another sample: nothing written (--replace swaps it)",
            path.display()
        ));
    }
    let (merged, changes) = match merge::merge(
        &spec_text,
        &spec,
        &fragment,
        args.replace,
        &args.operation_id,
    ) {
        Ok(done) => done,
        Err(e) => {
            eprint!("{}", report.render());
            return Err(e);
        }
    };
    let merged_doc: Value = serde_yaml_ng::from_str(&merged).map_err(|e| e.to_string())?;
    for name in merge::unreferenced(&spec, &merged_doc) {
        report.warnings.push(format!(
            "{name} is no longer referenced after the replace: remove it (the linters reject unused components)"
        ));
    }
    write_atomically(&args.spec, &merged)?;
    report.changes.extend(
        changes
            .into_iter()
            .map(|c| format!("{c} ({})", args.spec.display())),
    );
    if let Some((path, text)) = &sample_file {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        write_atomically(path, text)?;
        report
            .changes
            .push(format!("saved the sample as {}", path.display()));
    }
    report.changes.push(
        "next: cargo build (its checks of the spec, then the regenerated client), cargo test (tests/samples.rs holds the saved sample against the spec); .ci/lint-spec is the fuller lint CI runs (Python 3, Node.js and npm)"
            .into(),
    );
    eprint!("{}", report.render());
    Ok(())
}

/// Writes through a temporary file in the same directory, so a failure
/// never leaves half a spec; the file keeps its mode (and owner, where the
/// process may), a read-only one is refused, a new one gets
/// [`crate::files::NEW_SOURCE_MODE`].
fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    crate::files::replace(
        path,
        text.as_bytes(),
        ".import-tmp",
        crate::files::NEW_SOURCE_MODE,
    )
    .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn spec() -> Value {
        let text = |d: &str| json!({"type": "string", "description": d});
        json!({
            "openapi": "3.0.3",
            "tags": [{"name": "wecom"}],
            "paths": {},
            "components": {"schemas": {
                "AppId": text("a"), "Sign": text("s"), "ApiVersion": text("v"),
                "Timestamp": {"type": "integer", "format": "int64"},
                "ResultCode": text("c"), "ResultMessage": text("m"), "TraceId": text("t"),
                "PhoneNumber": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "PlatformTime": {"anyOf": [{"type": "string"}, {"type": "integer"}]}
            }}
        })
    }

    /// Page text, sample, mapping, emission and merge: whatever the page.
    fn import_all_the_way(text: &str) {
        let page = page::parse(text);
        let mut report = report::Report::default();
        let options = mapping::Options {
            path: "/wecom/x/list".into(),
            operation_id: "listWecomXs".into(),
            cli_command: None,
            item: None,
        };
        let spec = spec();
        if let Ok(fragment) = mapping::map(&page, &spec, &options, &mut report) {
            let preview = merge::preview(&fragment, "page");
            let _: Value = serde_yaml_ng::from_str(&preview).expect("the preview is YAML");
            let original = "openapi: 3.0.3\ntags:\n  - name: wecom\npaths:\n  /a:\n    post: {}\ncomponents:\n  schemas:\n    A:\n      type: string\n";
            let doc: Value = serde_yaml_ng::from_str(original).unwrap();
            merge::merge(original, &doc, &fragment, false, "listWecomXs")
                .expect("a new operation merges into a spec without it");
        }
        let _ = report.render();
    }

    #[test]
    fn deep_nesting_is_reported_not_followed() {
        let mut text = String::from(
            "名称 | 必选 | 类型 | 默认值 | 描述 |\n---|---|---|---|---|\nresult | 否 | object | r |\n",
        );
        for depth in 1..200 {
            text.push_str(&format!(
                "{} x{depth} | 否 | object | d |\n",
                "│ ".repeat(depth)
            ));
        }
        let page = page::parse(&text);
        assert!(
            page.problems
                .iter()
                .any(|p| p.why.contains("deeper than 32"))
        );
        import_all_the_way(&text);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
        #[test]
        fn any_page_text_imports_or_is_refused_without_panicking(
            text in "(名称 \\| 必选 \\| 类型 \\| 默认值 \\| 描述 \\|\n|---\\|---\n|[├└│ ]{0,5}(appId|paramContent|pageNum|pageSize|startId|nextStartId|pages|total|result|id|status|phone|createTime|flag|x) \\| (是|否|也许|) \\| (string|integer|object|object\\[\\]|string\\[\\]|boolean|number|map) \\| [^|\n]{0,16} \\|?\n|\\{\"code\":\"0\",\"result\":[\\[\\]{}0-9,\":a-z ]{0,30}\n|[^\n]{0,20}\n){0,30}"
        ) {
            import_all_the_way(&text);
        }
    }
}
