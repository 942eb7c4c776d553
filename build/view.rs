//! The Rust view of the spec, for progenitor only (the file other teams
//! receive is untouched):
//! - envelope fields marked `x-signer-filled` become optional in request
//!   bodies, so a caller of a generated method never invents an appId or sign;
//! - `nullable` becomes `Option` on the field that refers to the schema,
//!   rather than a newtype around `Option` (typify's reading of a nullable
//!   component);
//! - components that only name a plain string or integer become that Rust
//!   type, not a newtype;
//! - every operation answers one `default` response of raw bytes: the
//!   generated methods hand back the answer unread, whatever its status,
//!   and the crate's one classifier (`crate::call`) reads it once.
//!
//! Returns the replacements to hand to the generator besides the model's.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::spec::{self, Problem, Result};
use crate::table::EnvelopeAlias;

pub fn apply(doc: &mut Value, response_side: &BTreeSet<String>) -> Result<Vec<(String, String)>> {
    raw_answers(doc);
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| Problem::new("components.schemas", "is missing"))?;
    let refs_to = |pred: &dyn Fn(&Value) -> bool| -> BTreeSet<String> {
        schemas
            .iter()
            .filter(|(_, s)| pred(s))
            .map(|(name, _)| format!("{}{name}", spec::REF_PREFIX))
            .collect()
    };
    let optional_refs = refs_to(&|s| {
        s.get("x-signer-filled") == Some(&Value::Bool(true))
            || s.get("nullable") == Some(&Value::Bool(true))
    });
    let mut replacements = Vec::new();
    for (name, schema) in schemas.iter_mut() {
        if let Some(obj) = schema.as_object_mut() {
            obj.remove("nullable");
        }
        if !response_side.contains(name)
            && let Some(rust_type) = plain_rust_type(schema)
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

fn raw_answers(doc: &mut Value) {
    let raw = serde_json::json!({
        "default": {
            "description": "The answer, unread: the crate's classifier reads it.",
            "content": { "application/octet-stream": {} }
        }
    });
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if spec::METHODS.contains(&method.as_str())
                && let Some(op) = op.as_object_mut()
            {
                op.insert("responses".into(), raw.clone());
            }
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

/// The envelope aliases of the spec (after [`apply`]): schemas whose keys
/// are only documentation, `type: object`, `required` and `properties`, and
/// whose properties are the four signer-filled fields (as `$ref`s to
/// components of the types `RequestEnvelope` has) and a `paramContent`
/// that is a `$ref`. Any other form keeps progenitor's own struct.
pub fn request_envelopes(
    doc: &Value,
    replacements: &std::collections::BTreeMap<String, String>,
) -> Vec<EnvelopeAlias> {
    let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    let signer_field = |prop: Option<&Value>, ty: &str, format: Option<&str>| {
        let Some(target) = prop.and_then(spec::only_ref).and_then(|n| schemas.get(n)) else {
            return false;
        };
        target.get("x-signer-filled") == Some(&Value::Bool(true))
            && target.get("enum").is_none()
            && target.get("type").and_then(Value::as_str) == Some(ty)
            && target.get("format").and_then(Value::as_str) == format
    };
    let mut aliases = Vec::new();
    for (name, schema) in schemas {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            continue;
        };
        let plain_keys = spec::is_plain_object(schema);
        let params = props.get("paramContent").and_then(spec::only_ref);
        let (true, 5, Some(params)) = (plain_keys, props.len(), params) else {
            continue;
        };
        if !(signer_field(props.get("appId"), "string", None)
            && signer_field(props.get("sign"), "string", None)
            && signer_field(props.get("version"), "string", None)
            && signer_field(props.get("timestamp"), "integer", Some("int64")))
        {
            continue;
        }
        let params_type = replacements
            .get(params)
            .cloned()
            .unwrap_or_else(|| format!("crate::generated::types::{}", spec::type_name(params)));
        let params_type = if spec::is_required(schema, "paramContent") {
            params_type
        } else {
            format!("::std::option::Option<{params_type}>")
        };
        aliases.push(EnvelopeAlias {
            name: name.clone(),
            doc: spec::str_at(schema, "description")
                .unwrap_or("")
                .to_string(),
            rust: format!("crate::operation::RequestEnvelope<{params_type}>"),
            params: params_type,
        });
    }
    aliases
}
