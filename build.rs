//! Generates the client from `spec/shiheng-open.yaml`.
//!
//! Editing the spec and running `cargo build` is the whole regeneration
//! workflow. This script owns three things:
//! - reading and checking the spec, failing with one readable line on error;
//! - the Rust-only view of the spec (envelope fields that the signer fills
//!   become optional; lenient wire types map onto `crate::lenient`);
//! - the generated output in `OUT_DIR`: progenitor's client (`codegen.rs`),
//!   the glue that ties each `x-pagination` operation to the generic
//!   paginators (`glue.rs`), and the spec as JSON (`spec.json`, read by
//!   `shiheng::drift` at run time without a YAML parser).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

const SPEC: &str = "spec/shiheng-open.yaml";

/// Schemas whose wire form the platform sends in more than one shape; the
/// client decodes them with the hand-written lenient types.
const LENIENT_TYPES: &[(&str, &str)] = &[
    ("EmployeeStatus", "crate::lenient::EmployeeStatus"),
    ("FollowUserFlag", "crate::lenient::Flag"),
    ("PhoneNumber", "crate::lenient::PhoneNumber"),
    ("PlatformTime", "crate::lenient::PlatformTime"),
];

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    println!("cargo:rerun-if-changed=build.rs");
    let spec_path = std::env::var_os("SHIHENG_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(SPEC));
    println!("cargo:rerun-if-env-changed=SHIHENG_SPEC");
    println!("cargo:rerun-if-env-changed=SHIHENG_SPEC_OVERLAY");
    println!("cargo::rustc-check-cfg=cfg(shiheng_spec_overlay)");
    let overlay = std::env::var_os("SHIHENG_SPEC_OVERLAY").map(PathBuf::from);
    if let Some(overlay) = &overlay {
        println!("cargo:rerun-if-changed={}", overlay.display());
        // Lets tests that exercise the overlaid operations compile only then.
        println!("cargo::rustc-cfg=shiheng_spec_overlay");
    }
    if let Err(problem) = generate(&spec_path, overlay.as_deref()) {
        // One readable line instead of a panic backtrace.
        // `cargo::error` puts the line at the top of cargo's output; stderr keeps it
        // for older cargo versions.
        println!("cargo::error={}: {problem}", spec_path.display());
        eprintln!("error: {}: {problem}", spec_path.display());
        std::process::exit(1);
    }
}

fn generate(spec_path: &Path, overlay: Option<&Path>) -> Result<(), String> {
    let mut text = std::fs::read_to_string(spec_path).map_err(|e| format!("cannot read: {e}"))?;
    let mut doc: Value =
        serde_yaml_ng::from_str(&text).map_err(|e| format!("not valid YAML: {e}"))?;
    if let Some(overlay) = overlay {
        let extra = std::fs::read_to_string(overlay)
            .map_err(|e| format!("overlay {}: cannot read: {e}", overlay.display()))?;
        let extra: Value = serde_yaml_ng::from_str(&extra)
            .map_err(|e| format!("overlay {}: not valid YAML: {e}", overlay.display()))?;
        merge(&mut doc, extra);
        text.push_str(&serde_json::to_string(&doc).unwrap_or_default());
    }
    let version = doc
        .pointer("/openapi")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !version.starts_with("3.0.") {
        return Err(format!(
            "`openapi: {version}` is not supported: the generator reads OpenAPI 3.0.x"
        ));
    }
    let spec_version = doc
        .pointer("/info/version")
        .and_then(Value::as_str)
        .ok_or("info.version is missing")?
        .to_string();

    let glue = glue::generate(&doc)?;
    // The spec as other languages see it (before the Rust view below), for
    // `shiheng::drift` to compare live answers against at run time.
    let spec_json =
        serde_json::to_string(&doc).map_err(|e| format!("cannot render as JSON: {e}"))?;
    let replacements = rust_view(&mut doc)?;

    let spec: openapiv3::OpenAPI =
        serde_json::from_value(doc).map_err(|e| format!("not an OpenAPI 3.0 document: {e}"))?;
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_inner_type("crate::middleware::Middleware".parse().unwrap())
        .with_hooks(progenitor::HooksMode::Expected)
        .with_derive("PartialEq");
    for (schema, rust_type) in &replacements {
        settings.with_replacement(schema, rust_type, std::iter::empty());
    }
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&spec)
        .map_err(|e| format!("the generator rejected it: {e}"))?;
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
    let code = prettyplease::unparse(&file);

    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    write(&out.join("codegen.rs"), &code)?;
    write(&out.join("spec.json"), &spec_json)?;
    let digest = sha256_hex(text.as_bytes());
    // For `shiheng --version` (clap needs a literal: `concat!` of `env!`s).
    let one_line: String = spec_version
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    println!("cargo:rustc-env=SHIHENG_SPEC_VERSION={one_line}");
    println!("cargo:rustc-env=SHIHENG_SPEC_SHA256={digest}");
    let meta = format!(
        "/// `info.version` of the spec this client was generated from.\n\
         pub const SPEC_VERSION: &str = {spec_version:?};\n\
         /// SHA-256 of the spec file this client was generated from.\n\
         pub const SPEC_SHA256: &str = {digest:?};\n"
    );
    write(&out.join("glue.rs"), &(meta + &glue))?;
    Ok(())
}

/// Deep-merges `extra` into `doc`: maps key by key, anything else replaced.
fn merge(doc: &mut Value, extra: Value) {
    match (doc, extra) {
        (Value::Object(doc), Value::Object(extra)) => {
            for (key, value) in extra {
                match doc.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        doc.insert(key, value);
                    }
                }
            }
        }
        (doc, extra) => *doc = extra,
    }
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The Rust view of the spec, for generating this client only (the file
/// other teams receive is untouched):
/// - envelope fields marked `x-signer-filled` become optional in request
///   bodies, so a caller of a generated method never invents an appId or sign;
/// - `nullable` becomes `Option` on the field that refers to the schema,
///   rather than a newtype around `Option` (typify's reading of a nullable
///   component);
/// - components that only name a plain string or integer become that Rust
///   type (`String`, `i64`, `i32`), not a newtype;
/// - responses that are not JSON (the gateway's 503 page) are dropped.
///
/// Returns the replacements to hand to the generator.
fn rust_view(doc: &mut Value) -> Result<Vec<(String, String)>, String> {
    drop_non_json_responses(doc);
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .ok_or("components.schemas is missing")?;
    let mut replacements: Vec<(String, String)> = Vec::new();
    for (name, rust_type) in LENIENT_TYPES {
        if !schemas.contains_key(*name) {
            return Err(format!(
                "components.schemas.{name} is missing (build.rs maps it to a lenient type)"
            ));
        }
        replacements.push((name.to_string(), rust_type.to_string()));
    }
    let refs_to = |pred: &dyn Fn(&Value) -> bool| -> BTreeSet<String> {
        schemas
            .iter()
            .filter(|(_, s)| pred(s))
            .map(|(name, _)| format!("#/components/schemas/{name}"))
            .collect()
    };
    let optional_refs = refs_to(&|s| {
        s.get("x-signer-filled") == Some(&Value::Bool(true))
            || s.get("nullable") == Some(&Value::Bool(true))
    });
    for (name, schema) in schemas.iter_mut() {
        if let Some(obj) = schema.as_object_mut() {
            obj.remove("nullable");
        }
        if let Some(rust_type) = plain_rust_type(schema)
            && !LENIENT_TYPES.iter().any(|(n, _)| n == name)
        {
            replacements.push((name.clone(), rust_type.to_string()));
        }
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            continue;
        };
        let optional: BTreeSet<String> = props
            .iter()
            .filter(|(_, p)| {
                p.get("$ref")
                    .and_then(Value::as_str)
                    .is_some_and(|r| optional_refs.contains(r))
            })
            .map(|(name, _)| name.clone())
            .collect();
        if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
            required.retain(|r| r.as_str().is_none_or(|r| !optional.contains(r)));
        }
    }
    Ok(replacements)
}

/// progenitor takes one error type per operation (it panics on two), so the
/// gateway's `text/html` 503, declared for other languages' clients, is left
/// out of the Rust view: `crate::error` reads answers that are not envelopes
/// itself.
fn drop_non_json_responses(doc: &mut Value) {
    let shared = doc
        .pointer("/components/responses")
        .cloned()
        .unwrap_or_default();
    let is_json = |response: &Value| {
        let response = response
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/responses/"))
            .and_then(|name| shared.get(name))
            .unwrap_or(response);
        response
            .get("content")
            .and_then(Value::as_object)
            .is_none_or(|content| content.contains_key("application/json"))
    };
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for operation in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        if let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        {
            responses.retain(|_, response| is_json(response));
        }
    }
}

/// The Rust type of a component that is only a plain string or integer.
fn plain_rust_type(schema: &Value) -> Option<&'static str> {
    if schema.get("enum").is_some() || schema.get("properties").is_some() {
        return None;
    }
    match (
        schema.get("type").and_then(Value::as_str),
        schema.get("format").and_then(Value::as_str),
    ) {
        (Some("string"), None) => Some("::std::string::String"),
        (Some("integer"), Some("int64")) => Some("i64"),
        (Some("integer"), Some("int32")) => Some("i32"),
        _ => None,
    }
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

mod glue {
    //! The pagination glue: for every operation with `x-pagination`, a marker
    //! type implementing the generic paginator trait, and a call on
    //! `crate::Client`; for every operation, the `Envelope` impl of its
    //! success response. Nothing here names an endpoint: it is all read from
    //! the spec.

    use std::fmt::Write as _;

    use heck::{ToSnakeCase, ToUpperCamelCase};
    use serde_json::Value;

    const REF_PREFIX: &str = "#/components/schemas/";

    pub fn generate(doc: &Value) -> Result<String, String> {
        let mut out = String::new();
        let mut idempotent = Vec::new();
        let mut operation_ids = Vec::new();
        // Item types and their schema's field names, once each even when
        // several operations list the same type.
        let mut item_fields: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        let paths = doc
            .get("paths")
            .and_then(Value::as_object)
            .ok_or("paths is missing")?;
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                if !matches!(
                    method.as_str(),
                    "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
                ) {
                    continue;
                }
                let at = format!("paths.{path}.{method}");
                if let Some((item, fields)) =
                    operation(doc, op, &at, &mut out).map_err(|e| format!("{at}: {e}"))?
                {
                    item_fields.insert(item, fields);
                }
                operation_ids.push(str_at(op, "operationId")?.to_string());
                if op.get("x-idempotent") == Some(&Value::Bool(true)) {
                    // As progenitor names it in `OperationInfo::operation_id`.
                    idempotent.push(str_at(op, "operationId")?.to_snake_case());
                }
            }
        }
        for (item, fields) in &item_fields {
            writeln!(
                out,
                "impl crate::paginate::ItemFields for types::{item} {{\n\
                 const FIELDS: &'static [&'static str] = &{fields:?};\n\
                 }}\n"
            )
            .unwrap();
        }
        writeln!(
            out,
            "/// Every operationId of the spec.\n\
             pub const OPERATION_IDS: &[&str] = &{operation_ids:?};"
        )
        .unwrap();
        writeln!(
            out,
            "/// Operations marked `x-idempotent: true` in the spec (safe to retry after\n\
             /// a failure that may have reached the server), as progenitor names them.\n\
             pub const IDEMPOTENT_OPERATIONS: &[&str] = &{idempotent:?};"
        )
        .unwrap();
        Ok(out)
    }

    /// Writes the operation's glue; returns its item type and field names
    /// when it is paginated.
    fn operation(
        doc: &Value,
        op: &Value,
        at: &str,
        out: &mut String,
    ) -> Result<Option<(String, Vec<String>)>, String> {
        let op_id = str_at(op, "operationId")?;
        let response = schema_ref(
            op.pointer("/responses/200/content/application~1json/schema"),
            "responses.200 schema",
        )?;
        let envelope = schema(doc, &response)?;
        for field in ["code", "msg", "traceId", "result"] {
            if envelope.pointer(&format!("/properties/{field}")).is_none() {
                return Err(format!(
                    "the 200 response {response} has no `{field}`: it is not a platform envelope"
                ));
            }
        }
        let payload = schema_ref(envelope.pointer("/properties/result"), "result")?;
        let response_ty = rust_type(&response);
        let payload_ty = rust_type(&payload);
        let code_access = if is_required(envelope, "code") {
            "&self.code"
        } else {
            "self.code.as_deref().unwrap_or(\"\")"
        };
        writeln!(
            out,
            "impl crate::error::Envelope for types::{response_ty} {{\n\
             type Payload = types::{payload_ty};\n\
             fn code(&self) -> &str {{ {code_access} }}\n\
             fn msg(&self) -> Option<&str> {{ self.msg.as_deref() }}\n\
             fn trace_id(&self) -> Option<&str> {{ self.trace_id.as_deref() }}\n\
             fn into_payload(self) -> Option<Self::Payload> {{ self.result }}\n\
             }}\n"
        )
        .unwrap();

        let Some(pagination) = op.get("x-pagination") else {
            return Ok(None);
        };
        let style = str_at(pagination, "style")?;
        let request = schema_ref(
            op.pointer("/requestBody/content/application~1json/schema"),
            "requestBody schema",
        )?;
        let request_schema = schema(doc, &request)?;
        let params = schema_ref(
            request_schema.pointer("/properties/paramContent"),
            "paramContent",
        )?;
        let params_schema = schema(doc, &params)?;
        let payload_schema = schema(doc, &payload)?;
        let items_field = str_at(pagination, "items")?;
        let item = schema_ref(
            payload_schema.pointer(&format!("/properties/{items_field}/items")),
            &format!("x-pagination.items ({items_field}) array items"),
        )?;
        let item_schema = schema(doc, &item)?;
        let item_id = str_at(pagination, "itemId")?;
        if item_schema
            .pointer(&format!("/properties/{item_id}"))
            .is_none()
        {
            return Err(format!("x-pagination.itemId: {item} has no `{item_id}`"));
        }
        let page_size = str_at(pagination, "pageSize")?;
        let page_size_bounds = bounds(params_schema, page_size, &params)?;

        let marker = op_id.to_upper_camel_case();
        let method = op_id.to_snake_case();
        let summary = op.get("summary").and_then(Value::as_str).unwrap_or(op_id);
        let params_ty = rust_type(&params);
        let request_ty = rust_type(&request);
        let set_params = if is_required(request_schema, "paramContent") {
            "param_content(params)"
        } else {
            "param_content(Some(params))"
        };
        let items_expr = field_expr(payload_schema, items_field, "page", "unwrap_or_default()");
        let id_expr = int_expr(item_schema, item_id, "item");
        let (cursor_field, trait_name, request_type, position_ty, position_arg, extra) = match style
        {
            "page-number" => {
                let page = str_at(pagination, "page")?;
                let page_bounds = bounds(params_schema, page, &params)?;
                let pages = str_at(pagination, "pages")?;
                let total = str_at(pagination, "total")?;
                let extra = format!(
                    "const PAGE: crate::paginate::Bounds = {page_bounds};\n\
                         fn pages(page: &Self::Page) -> Option<i64> {{ {} }}\n\
                         fn total(page: &Self::Page) -> Option<i64> {{ {} }}\n",
                    int_expr(payload_schema, pages, "page"),
                    int_expr(payload_schema, total, "page"),
                );
                (
                    page,
                    "PageNumberOperation",
                    "PageNumberRequest",
                    "u32",
                    "page",
                    extra,
                )
            }
            "cursor" => {
                let cursor = str_at(pagination, "cursor")?;
                let cursor_bounds = bounds(params_schema, cursor, &params)?;
                let next = str_at(pagination, "nextCursor")?;
                let extra = format!(
                    "const CURSOR: crate::paginate::Bounds = {cursor_bounds};\n\
                         fn next_cursor(page: &Self::Page) -> Option<i64> {{ {} }}\n",
                    int_expr(payload_schema, next, "page"),
                );
                (
                    cursor,
                    "CursorOperation",
                    "CursorRequest",
                    "i64",
                    "cursor",
                    extra,
                )
            }
            other => {
                return Err(format!(
                    "x-pagination.style `{other}` is not one of page-number, cursor"
                ));
            }
        };
        let cursor_setter = cursor_field.to_snake_case();
        let size_setter = page_size.to_snake_case();
        write!(
            out,
            r#"/// `{op_id}` ({at}): {style} pagination, from the spec's `x-pagination`.
#[derive(Debug, Clone, Copy)]
pub struct {marker};

impl crate::paginate::{trait_name} for {marker} {{
    type Page = types::{payload_ty};
    type Item = types::{item_ty};
    const OPERATION_ID: &'static str = {op_id:?};
    const PAGE_SIZE: crate::paginate::Bounds = {page_size_bounds};
    {extra}
    fn fetch(
        client: &crate::Client,
        {position_arg}: {position_ty},
        page_size: u32,
    ) -> impl ::std::future::Future<Output = Result<crate::Reply<Self::Page>, crate::Error>> + Send + 'static + use<> {{
        let client = client.clone();
        let span = ::tracing::debug_span!(
            "shiheng.call",
            operation = Self::OPERATION_ID,
            {position_arg},
            page_size,
            trace_id = ::tracing::field::Empty,
        );
        ::tracing::Instrument::instrument(async move {{
            let params: types::{params_ty} = types::{params_ty}::builder()
                .{cursor_setter}({position_arg})
                .{size_setter}(page_size)
                .try_into()
                .map_err(|e: types::error::ConversionError| crate::Error::InvalidArgument {{
                    operation: Self::OPERATION_ID,
                    message: e.to_string(),
                }})?;
            let body = types::{request_ty}::builder().{set_params};
            let result = client.generated().{method}().body(body).send().await;
            crate::error::settle(Self::OPERATION_ID, result).await
        }}, span)
    }}
    fn into_items(page: Self::Page) -> Vec<Self::Item> {{ {items_expr} }}
    fn item_id(item: &Self::Item) -> Option<i64> {{ {id_expr} }}
}}

impl crate::Client {{
    #[doc = {doc:?}]
    pub fn {method}(&self) -> crate::paginate::{request_type}<{marker}> {{
        crate::paginate::{request_type}::new(self.clone())
    }}
}}

"#,
            item_ty = rust_type(&item),
            doc = format!(
                "{summary}.\n\n`{op_id}`, with {style} pagination: `.send()` fetches one page, \
                 `.stream()` every item, `.pages()` every page."
            ),
        )
        .unwrap();
        let fields = item_schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| props.keys().cloned().collect())
            .unwrap_or_default();
        Ok(Some((rust_type(&item), fields)))
    }

    fn str_at<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
        v.get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("`{key}` is missing or not a string"))
    }

    fn schema_ref(v: Option<&Value>, what: &str) -> Result<String, String> {
        v.and_then(|v| v.get("$ref"))
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix(REF_PREFIX))
            .map(str::to_string)
            .ok_or_else(|| format!("{what} must be a $ref to {REF_PREFIX}…"))
    }

    fn schema<'a>(doc: &'a Value, name: &str) -> Result<&'a Value, String> {
        doc.pointer(&format!("/components/schemas/{name}"))
            .ok_or_else(|| format!("components.schemas.{name} is missing"))
    }

    fn rust_type(schema_name: &str) -> String {
        schema_name.to_upper_camel_case()
    }

    fn is_required(schema: &Value, field: &str) -> bool {
        schema
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|f| f.as_str() == Some(field)))
    }

    /// Bounds of an integer field, from its `minimum`/`maximum`.
    fn bounds(schema: &Value, field: &str, schema_name: &str) -> Result<String, String> {
        let prop = schema
            .pointer(&format!("/properties/{field}"))
            .ok_or_else(|| format!("{schema_name} has no `{field}`"))?;
        if prop.get("type").and_then(Value::as_str) != Some("integer") {
            return Err(format!("{schema_name}.{field} must be an integer"));
        }
        let min = prop.get("minimum").and_then(Value::as_i64).unwrap_or(0);
        let max = prop.get("maximum").and_then(Value::as_i64).unwrap_or(
            if prop.get("format").and_then(Value::as_str) == Some("int32") {
                i64::from(i32::MAX)
            } else {
                i64::MAX
            },
        );
        Ok(format!(
            "crate::paginate::Bounds {{ min: {min}, max: {max} }}"
        ))
    }

    fn field_expr(schema: &Value, field: &str, var: &str, default: &str) -> String {
        let name = field.to_snake_case();
        if is_required(schema, field) {
            format!("{var}.{name}")
        } else {
            format!("{var}.{name}.{default}")
        }
    }

    fn int_expr(schema: &Value, field: &str, var: &str) -> String {
        let name = field.to_snake_case();
        if is_required(schema, field) {
            format!("i64::try_from({var}.{name}).ok()")
        } else {
            format!("{var}.{name}.and_then(|v| i64::try_from(v).ok())")
        }
    }
}
