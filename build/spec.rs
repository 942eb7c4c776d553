//! Reading the spec: the file (or `SHIHENG_SPEC`), an optional overlay
//! (`SHIHENG_SPEC_OVERLAY`, deep-merged), and the small helpers every other
//! build module uses to walk it and to name places in it.

use std::path::Path;

use heck::{ToSnakeCase, ToUpperCamelCase};
use serde_json::Value;

/// A problem found in the spec: where (a dotted path from the document's
/// root, e.g. `components.schemas.Employee.properties.gender.type`) and what.
#[derive(Debug)]
pub struct Problem {
    pub at: String,
    pub what: String,
}

impl Problem {
    pub fn new(at: impl Into<String>, what: impl Into<String>) -> Self {
        Self {
            at: at.into(),
            what: what.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.at.is_empty() {
            f.write_str(&self.what)
        } else {
            write!(f, "{}: {}", self.at, self.what)
        }
    }
}

pub type Result<T> = std::result::Result<T, Problem>;

/// The spec as read: the document (overlay merged) and the text it came
/// from (for the hash).
pub struct Spec {
    pub doc: Value,
    pub text: String,
}

pub fn load(path: &Path, overlay: Option<&Path>) -> Result<Spec> {
    let mut text =
        std::fs::read_to_string(path).map_err(|e| Problem::new("", format!("cannot read: {e}")))?;
    let mut doc: Value = serde_yaml_ng::from_str(&text)
        .map_err(|e| Problem::new("", format!("not valid YAML: {e}")))?;
    if let Some(overlay) = overlay {
        let extra = std::fs::read_to_string(overlay).map_err(|e| {
            Problem::new(
                "",
                format!("overlay {}: cannot read: {e}", overlay.display()),
            )
        })?;
        let extra: Value = serde_yaml_ng::from_str(&extra).map_err(|e| {
            Problem::new(
                "",
                format!("overlay {}: not valid YAML: {e}", overlay.display()),
            )
        })?;
        merge(&mut doc, extra);
        text.push_str(&serde_json::to_string(&doc).unwrap_or_default());
    }
    if !doc.is_object() {
        return Err(Problem::new("", "the document is not a mapping"));
    }
    Ok(Spec { doc, text })
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

pub const REF_PREFIX: &str = "#/components/schemas/";

/// The HTTP methods an OpenAPI path item may hold.
pub const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every operation: (path, method, operation object, its dotted location).
pub fn operations(doc: &Value) -> Vec<(&str, &str, &Value, String)> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            if METHODS.contains(&method.as_str()) {
                out.push((
                    path.as_str(),
                    method.as_str(),
                    op,
                    format!("paths.{path}.{method}"),
                ));
            }
        }
    }
    out
}

/// The schema name a `{$ref: '#/components/schemas/X'}` points at.
pub fn ref_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix(REF_PREFIX))
}

/// The component schema `name`.
pub fn component<'a>(doc: &'a Value, name: &str) -> Option<&'a Value> {
    doc.get("components")?.get("schemas")?.get(name)
}

/// `schema`, or the component it refers to (one level).
pub fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match ref_name(schema).and_then(|name| component(doc, name)) {
        Some(target) => target,
        None => schema,
    }
}

/// The `application/json` schema of a request body or response.
pub fn json_schema(holder: &Value) -> Option<&Value> {
    holder
        .get("content")?
        .get("application/json")?
        .get("schema")
}

pub fn is_required(schema: &Value, field: &str) -> bool {
    schema
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(|r| r.iter().any(|f| f.as_str() == Some(field)))
}

pub fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Rust's keywords, which a field name may not be as is.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
    "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true",
    "try", "type", "unsafe", "use", "where", "while", "yield", "abstract", "become", "do", "final",
    "macro", "override", "priv", "typeof", "unsized", "virtual",
];

/// The Rust field name of a wire name: snake case, keywords suffixed with `_`
/// (the way progenitor names them), and `extra` (the records' own map of
/// undeclared fields) as `extra_`.
pub fn field_name(wire: &str) -> String {
    let snake = wire.to_snake_case();
    let snake = if snake.is_empty() || snake.starts_with(|c: char| c.is_ascii_digit()) {
        format!("f_{snake}")
    } else {
        snake
    };
    if KEYWORDS.contains(&snake.as_str()) || snake == "extra" {
        format!("{snake}_")
    } else {
        snake
    }
}

/// The Rust type name of a schema name.
pub fn type_name(schema: &str) -> String {
    schema.to_upper_camel_case()
}

/// A response, or the `#/components/responses/…` it refers to.
pub fn resolve_response<'a>(doc: &'a Value, response: &'a Value) -> &'a Value {
    response
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|pointer| doc.pointer(pointer))
        .unwrap_or(response)
}

/// Whether `schema` is an object schema and nothing else: besides its
/// `properties`, only documentation, `type: object`, `required` and
/// extensions (no `additionalProperties`, no composition). The generic
/// envelopes stand only for schemas of this form.
pub fn is_plain_object(schema: &Value) -> bool {
    schema.as_object().is_some_and(|obj| {
        obj.iter().all(|(k, v)| {
            k.starts_with("x-")
                || ["description", "title", "required", "properties", "example"]
                    .contains(&k.as_str())
                || (k == "type" && v == "object")
        })
    })
}

/// The component a property names when it is nothing but a `$ref`.
pub fn only_ref(prop: &Value) -> Option<&str> {
    prop.as_object().filter(|obj| obj.len() == 1)?;
    ref_name(prop)
}
