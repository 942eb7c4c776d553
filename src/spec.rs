//! The spec at run time: the document `build.rs` embedded as JSON
//! ([`SPEC_JSON`], parsed once by [`document`]), and the small walking
//! helpers the drift checker, the sandbox (`shiheng-sandbox`) and the CLI
//! share: following `$ref`s ([`resolve`], [`component`], [`property`]),
//! reading `required`, `anyOf`/`oneOf` and `allOf`, naming JSON types in
//! the spec's words ([`json_type`], [`type_matches`]) and reading an integer
//! schema's bounds ([`integer_bounds`]). Facts about operations come from
//! the operation table ([`crate::operation::OperationSpec`]); this module
//! answers questions about schemas.
//!
//! The helpers read OpenAPI 3.0 JSON as `serde_json::Value`s and never
//! panic: a schema without the keyword asked about answers `None`, an empty
//! iterator or the widest bounds.
//!
//! ```
//! let spec = shiheng::spec::document()?;
//! let employee = shiheng::spec::component(spec, "Employee").expect("the spec has Employee");
//! let status = shiheng::spec::property(spec, employee, "status").expect("Employee.status");
//! assert_eq!(status["type"], "integer");
//! # Ok::<(), shiheng::Error>(())
//! ```

use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::Error;

/// The spec this client was generated from, as JSON (`info.version` is
/// [`crate::SPEC_VERSION`], the file's SHA-256 [`crate::SPEC_SHA256`]).
pub const SPEC_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/spec.json"));

/// Where component schemas live; the only `$ref`s the spec uses.
pub const REF_PREFIX: &str = "#/components/schemas/";
/// Deepest nesting of `$ref`s and values walked; deeper is reported or cut,
/// never followed (a recursive schema or a hostile answer cannot exhaust
/// the stack).
pub const MAX_DEPTH: usize = 64;

/// The parsed spec, shared by every caller for the life of the process;
/// an `Err` (of kind [`Config`](crate::ErrorKind::Config)) only if the
/// embedded text were not JSON, which the build rules out.
pub fn document() -> Result<&'static Value, Error> {
    static DOCUMENT: OnceLock<Result<Value, String>> = OnceLock::new();
    DOCUMENT
        .get_or_init(|| serde_json::from_str(SPEC_JSON).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| Error::config(format!("the embedded spec is not JSON: {e}")))
}

/// The component schema `name`.
pub fn component<'a>(spec: &'a Value, name: &str) -> Option<&'a Value> {
    spec.get("components")?.get("schemas")?.get(name)
}

/// `schema` with its `$ref`s followed to the schema they name; `None` when
/// a `$ref` is dangling or the chain is longer than [`MAX_DEPTH`].
pub fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> Option<&'a Value> {
    let mut schema = schema;
    for _ in 0..MAX_DEPTH {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => schema = component(spec, r.strip_prefix(REF_PREFIX)?)?,
            None => return Some(schema),
        }
    }
    None
}

/// The schema of the property `name` of an object schema, resolved.
pub fn property<'a>(spec: &'a Value, schema: &'a Value, name: &str) -> Option<&'a Value> {
    resolve(spec, schema.get("properties")?.get(name)?)
}

/// The names an object schema lists as `required`.
pub fn required(schema: &Value) -> impl Iterator<Item = &str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// The branches of an `anyOf` or `oneOf`.
pub fn branches(schema: &Value) -> Option<&Vec<Value>> {
    schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array)
}

/// The branches of an `allOf` as one object schema: properties and
/// required lists joined, the first type and other keywords kept.
pub fn merge_all_of(spec: &Value, all: &[Value]) -> Value {
    let mut merged = Map::new();
    let mut properties = Map::new();
    let mut required = Vec::new();
    for branch in all.iter().filter_map(|b| resolve(spec, b)) {
        let Some(branch) = branch.as_object() else {
            continue;
        };
        for (key, value) in branch {
            match key.as_str() {
                "properties" => {
                    if let Some(p) = value.as_object() {
                        properties.extend(p.clone());
                    }
                }
                "required" => {
                    if let Some(r) = value.as_array() {
                        required.extend(r.iter().cloned());
                    }
                }
                _ => {
                    merged.entry(key.clone()).or_insert_with(|| value.clone());
                }
            }
        }
    }
    if !properties.is_empty() {
        merged.insert("properties".into(), Value::Object(properties));
    }
    if !required.is_empty() {
        merged.insert("required".into(), Value::Array(required));
    }
    Value::Object(merged)
}

/// The JSON type of a value, in the spec's words.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Whether `value` is of the spec's type `ty` (an unknown type matches).
pub fn type_matches(ty: &str, value: &Value) -> bool {
    match ty {
        "integer" => matches!(value, Value::Number(n) if n.is_i64() || n.is_u64()),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

/// The inclusive bounds of an integer schema: its `minimum`/`maximum`
/// (exclusive ones narrowed by one), within its `format` (int32, int64).
pub fn integer_bounds(schema: &Value) -> (i64, i64) {
    let (mut min, mut max) = match schema.get("format").and_then(Value::as_str) {
        Some("int32") => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    };
    // Bounds beyond i64 (a `maximum` of 1e30, say) leave the format's.
    let bound = |key: &str| -> Option<i64> {
        let v = schema.get(key)?;
        v.as_i64().or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                .map(|f| f as i64)
        })
    };
    let exclusive = |key: &str| schema.get(key) == Some(&Value::Bool(true));
    if let Some(m) = bound("minimum") {
        let m = if exclusive("exclusiveMinimum") {
            m.saturating_add(1)
        } else {
            m
        };
        min = min.max(m);
    }
    if let Some(m) = bound("maximum") {
        let m = if exclusive("exclusiveMaximum") {
            m.saturating_sub(1)
        } else {
            m
        };
        max = max.min(m);
    }
    (min, max)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn refs_resolve_and_dangling_ones_do_not() {
        let spec = document().expect("the embedded spec");
        let employee = component(spec, "Employee").expect("Employee");
        let status = property(spec, employee, "status").expect("status");
        assert_eq!(status["type"], json!("integer"));
        assert!(resolve(spec, &json!({"$ref": "#/components/schemas/Nope"})).is_none());
        let phone = property(spec, employee, "phone").expect("phone");
        assert_eq!(branches(phone).map(Vec::len), Some(2));
    }

    #[test]
    fn integer_bounds_follow_format_and_limits() {
        assert_eq!(
            integer_bounds(&json!({"type": "integer", "format": "int32", "minimum": 1})),
            (1, i64::from(i32::MAX))
        );
        assert_eq!(
            integer_bounds(&json!({"type": "integer", "minimum": 0, "maximum": 10,
                "exclusiveMinimum": true, "exclusiveMaximum": true})),
            (1, 9)
        );
        assert_eq!(
            integer_bounds(&json!({"type": "integer", "maximum": 1e30})),
            (i64::MIN, i64::MAX)
        );
    }
}
