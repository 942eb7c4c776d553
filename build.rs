//! Generates the client from `spec/shiheng-open.yaml` (or the file named by
//! `SHIHENG_SPEC`, with `SHIHENG_SPEC_OVERLAY` deep-merged over it).
//!
//! Editing the spec and running `cargo build` is the whole regeneration
//! workflow. This script normalises the spec first (`build/normalize.rs`:
//! inline schemas hoisted to components, `$ref` chains followed, `allOf` of
//! objects merged), then checks it (`build/check.rs`), so a
//! mistake fails the build with one line naming the file and the place in
//! it, never a panic; then writes to `OUT_DIR`, each file formatted Rust
//! built with `quote!` (snapshots of them are kept in `tests/snapshots/`):
//! - `codegen.rs`: progenitor's client and request types, over the Rust view
//!   of the spec (`build/view.rs`), lowered where it repeats itself per
//!   operation (`build/compact.rs`: the structs' serde code;
//!   `build/shared_send.rs`: the methods' bodies);
//! - `model.rs`: the records of the answers, decoded by `crate::record`'s
//!   rule (`build/model.rs`);
//! - `operations.rs`: the operation table and the typed bindings, and
//!   `calls.rs`: the client's calls and the dynamic table's entries
//!   (`build/table.rs`);
//! - `spec.json`: the normalised spec (before the Rust view), for the drift checker
//!   and the sandbox at run time.
//!
//! With `tag-…` features on (and not `all-tags`), only the operations of
//! those tags, and the schemas they reach, are generated (`build/select.rs`).

#[path = "build/check.rs"]
mod check;
#[path = "build/compact.rs"]
mod compact;
#[path = "build/model.rs"]
mod model;
#[path = "build/normalize.rs"]
mod normalize;
#[path = "build/select.rs"]
mod select;
#[path = "build/shared_send.rs"]
mod shared_send;
#[path = "build/spec.rs"]
mod spec;
#[path = "build/table.rs"]
mod table;
#[path = "build/view.rs"]
mod view;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use quote::quote;

const DEFAULT_SPEC: &str = "spec/shiheng-open.yaml";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");
    println!("cargo:rerun-if-env-changed=SHIHENG_SPEC");
    println!("cargo:rerun-if-env-changed=SHIHENG_SPEC_OVERLAY");
    println!("cargo::rustc-check-cfg=cfg(shiheng_spec_overlay)");
    println!("cargo::rustc-check-cfg=cfg(shiheng_custom_spec)");
    println!("cargo::rustc-check-cfg=cfg(shiheng_import_check)");
    println!("cargo::rustc-check-cfg=cfg(shiheng_tag_selection)");
    println!("cargo::rustc-check-cfg=cfg(shiheng_no_page_forms)");
    println!("cargo:rerun-if-env-changed=SHIHENG_IMPORT_CHECK");
    if std::env::var_os("SHIHENG_IMPORT_CHECK").is_some() {
        // .ci/import-check: compiles tests/imported_endpoint.rs, which needs
        // the operation its page imported.
        println!("cargo::rustc-cfg=shiheng_import_check");
    }
    let custom = std::env::var_os("SHIHENG_SPEC").filter(|p| !p.is_empty());
    let spec_path = custom
        .clone()
        .map_or_else(|| PathBuf::from(DEFAULT_SPEC), PathBuf::from);
    // Watched whichever file it is, so an edit to an alternate spec
    // regenerates as an edit to the default one does.
    println!("cargo:rerun-if-changed={}", spec_path.display());
    let overlay = std::env::var_os("SHIHENG_SPEC_OVERLAY")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    if let Some(overlay) = &overlay {
        println!("cargo:rerun-if-changed={}", overlay.display());
        // Lets tests that exercise the overlaid operations compile only then.
        println!("cargo::rustc-cfg=shiheng_spec_overlay");
    }
    if custom.is_some() || overlay.is_some() {
        // The committed snapshots describe the default spec only.
        println!("cargo::rustc-cfg=shiheng_custom_spec");
    }
    if let Err(problem) = generate(&spec_path, overlay.as_deref()) {
        // One readable line: `cargo::error` puts it at the top of cargo's
        // output; stderr keeps it for older cargo versions.
        let line = format!("{}: {problem}", spec_path.display()).replace(['\n', '\r'], " ");
        println!("cargo::error={line}");
        eprintln!("error: {line}");
        std::process::exit(1);
    }
}

fn generate(spec_path: &Path, overlay: Option<&Path>) -> spec::Result<()> {
    let loaded = spec::load(spec_path, overlay)?;
    let mut doc = loaded.doc;
    // Every form of the spec read as one (build/normalize.rs): what follows,
    // and the spec embedded for the sandbox, the CLI and the drift check,
    // see named components one `$ref` deep.
    let normalized =
        normalize::normalize(&mut doc).map_err(|e| spec::Problem::new(e.at, e.what))?;
    // A problem inside a hoisted schema is named where the user wrote it.
    let relocate =
        |p: spec::Problem| spec::Problem::new(normalized.original_location(&p.at), p.what);
    check::check(&doc).map_err(relocate)?;
    if let Some(tags) = select::from_features(std::env::vars()) {
        select::apply(&mut doc, &tags)?;
        // Lets tests of a selection (tests/tag_selection.rs) compile only then.
        println!("cargo::rustc-cfg=shiheng_tag_selection");
    }
    let spec_version = spec::str_at(&doc["info"], "version")
        .unwrap_or_default()
        .to_string();

    // The spec as other languages see it, before the Rust view.
    let spec_json = serde_json::to_string(&doc)
        .map_err(|e| spec::Problem::new("", format!("cannot render as JSON: {e}")))?;
    let response_side = model::response_side(&doc);
    let model = model::generate(&doc).map_err(relocate)?;
    let replacements: BTreeMap<String, String> = model.replacements.iter().cloned().collect();
    // The Rust view is progenitor's; the table reads the spec itself.
    let mut view_doc = doc.clone();
    let plain = view::apply(&mut view_doc, &response_side)?;
    let known: BTreeMap<String, String> =
        model.replacements.iter().chain(&plain).cloned().collect();
    let envelopes = view::request_envelopes(&view_doc, &known);
    let table = table::generate(
        &doc,
        &table::Types {
            replacements: &replacements,
            envelopes: &envelopes,
            page_forms: &model.page_forms,
        },
    )
    .map_err(relocate)?;
    if !table.reads_page_forms {
        // A selection without such a page (say, one tag of lookups) leaves
        // the dynamic table's page readers unused; src/lib.rs allows that.
        println!("cargo::rustc-cfg=shiheng_no_page_forms");
    }
    let doc = view_doc;

    let openapi: openapiv3::OpenAPI = serde_json::from_value(doc)
        .map_err(|e| spec::Problem::new("", format!("not an OpenAPI 3.0 document: {e}")))?;
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Positional)
        .with_tag(progenitor::TagStyle::Merged)
        .with_inner_type(quote! { crate::transport::Transport })
        .with_hooks(progenitor::HooksMode::Expected)
        .with_derive("PartialEq");
    for (schema, rust_type) in model.replacements.iter().chain(&plain) {
        settings.with_replacement(schema, rust_type, std::iter::empty());
    }
    for alias in &envelopes {
        let path = format!("crate::generated::types::{}", spec::type_name(&alias.name));
        settings.with_replacement(&alias.name, &path, std::iter::empty());
    }
    let codegen =
        without_panics(|| progenitor::Generator::new(&settings).generate_tokens(&openapi))?
            .map_err(|e| spec::Problem::new("", format!("the generator rejected it: {e}")))?;
    let codegen = lower_level(codegen, &envelopes, "codegen.rs")?;
    // The generated client's one hook: every request it sends goes through
    // the transport (signing, retries, limits, tracing, interceptors).
    let codegen = quote! {
        #codegen

        impl ClientHooks<crate::transport::Transport> for Client {
            async fn exec(
                &self,
                request: reqwest::Request,
                info: &OperationInfo,
            ) -> reqwest::Result<reqwest::Response> {
                self.inner().execute(self.client(), request, info.operation_id).await
            }
        }
    };

    let digest = sha256_hex(loaded.text.as_bytes());
    let meta = quote! {
        /// `info.version` of the spec this client was generated from.
        pub const SPEC_VERSION: &str = #spec_version;
        /// SHA-256 of the spec file this client was generated from.
        pub const SPEC_SHA256: &str = #digest;
    };
    let out = PathBuf::from(
        std::env::var_os("OUT_DIR").ok_or_else(|| spec::Problem::new("", "OUT_DIR is not set"))?,
    );
    write(&out.join("codegen.rs"), &format(codegen, "codegen.rs")?)?;
    write(&out.join("model.rs"), &format(model.tokens, "model.rs")?)?;
    write(
        &out.join("operations.rs"),
        &format(
            {
                let table = &table.table;
                quote! { #meta #table }
            },
            "operations.rs",
        )?,
    )?;
    write(&out.join("calls.rs"), &format(table.calls, "calls.rs")?)?;
    write(&out.join("spec.json"), &spec_json)?;
    Ok(())
}

/// Runs the generator, turning a panic inside it into one line.
fn without_panics<T>(run: impl FnOnce() -> T) -> spec::Result<T> {
    static MESSAGE: Mutex<String> = Mutex::new(String::new());
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let text = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        if let Ok(mut message) = MESSAGE.lock() {
            *message = text;
        }
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run));
    std::panic::set_hook(previous);
    result.map_err(|_| {
        let message = MESSAGE.lock().map(|m| m.clone()).unwrap_or_default();
        spec::Problem::new(
            "",
            format!("the generator (progenitor) failed on this spec: {message}"),
        )
    })
}

/// Progenitor's client is the lower level: its constructors would bypass
/// `Config` (no validation, its own timeouts) and its prelude would present
/// it as the entry point. Both stay usable, hidden from the docs, with a
/// pointer to `shiheng::Client`.
///
/// Also names the request envelopes: each replaced request schema becomes
/// an alias of `RequestEnvelope<P>` in the `types` module, where
/// progenitor's own struct would have been.
fn lower_level(
    tokens: proc_macro2::TokenStream,
    envelopes: &[table::EnvelopeAlias],
    what: &str,
) -> spec::Result<proc_macro2::TokenStream> {
    let mut file: syn::File = syn::parse2(tokens)
        .map_err(|e| spec::Problem::new("", format!("generated {what} does not parse: {e}")))?;
    let hidden: syn::Attribute = syn::parse_quote!(#[doc(hidden)]);
    let note: syn::Attribute = syn::parse_quote!(
        #[doc = "Hidden: build a `shiheng::Client` from a `shiheng::Config` and call `generated()` on it."]
    );
    let mut shared = false;
    for item in &mut file.items {
        match item {
            syn::Item::Mod(module) if module.ident == "prelude" => {
                module.attrs.push(hidden.clone())
            }
            syn::Item::Mod(module) if module.ident == "types" => {
                if let Some((_, items)) = &mut module.content {
                    compact::apply(items);
                    for alias in envelopes {
                        let name = quote::format_ident!("{}", spec::type_name(&alias.name));
                        let rust: syn::Type = syn::parse_str(&alias.rust).map_err(|e| {
                            spec::Problem::new(
                                "",
                                format!("`{}` is not a Rust type: {e}", alias.rust),
                            )
                        })?;
                        let doc = &alias.doc;
                        items.push(syn::parse_quote! {
                            #[doc = #doc]
                            pub type #name = #rust;
                        });
                    }
                }
            }
            syn::Item::Impl(block) if block.trait_.is_none() => {
                for member in &mut block.items {
                    if let syn::ImplItem::Fn(function) = member
                        && matches!(
                            function.sig.ident.to_string().as_str(),
                            "new" | "new_with_client"
                        )
                    {
                        function.attrs.push(note.clone());
                        function.attrs.push(hidden.clone());
                    }
                }
                shared |= shared_send::apply(block);
            }
            _ => {}
        }
    }
    let sender = if shared {
        shared_send::sender()
    } else {
        quote! {}
    };
    Ok(quote! { #file #sender })
}

const HEADER: &str =
    "// @generated by build.rs from the spec; do not edit. Regenerated by `cargo build`.\n";

fn format(tokens: proc_macro2::TokenStream, what: &str) -> spec::Result<String> {
    let file: syn::File = syn::parse2(tokens)
        .map_err(|e| spec::Problem::new("", format!("generated {what} does not parse: {e}")))?;
    Ok(format!("{HEADER}{}", prettyplease::unparse(&file)))
}

fn write(path: &Path, contents: &str) -> spec::Result<()> {
    // Unchanged output keeps its timestamp, so nothing downstream rebuilds.
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    std::fs::write(path, contents)
        .map_err(|e| spec::Problem::new("", format!("cannot write {}: {e}", path.display())))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
