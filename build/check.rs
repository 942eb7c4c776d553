//! Checks the spec before anything is generated from it, so that a mistake
//! fails `cargo build` with one line naming its place in the spec instead of
//! a generator panic or a compile error in generated code: unknown types,
//! dangling `$ref`s, names that collide in Rust, operations outside the
//! platform's convention, and `x-pagination`/`x-cli-command` that do not fit.

use std::collections::BTreeMap;

use heck::ToKebabCase;
use serde_json::Value;

use crate::spec::{self, Problem, Result};

/// The subcommands the CLI has whatever the spec says.
pub const BUILTIN_COMMANDS: &[&str] = &["sign", "check", "sandbox", "demo", "spec", "help"];

const TYPES: &[&str] = &["string", "integer", "number", "boolean", "array", "object"];

pub fn check(doc: &Value) -> Result<()> {
    let version = spec::str_at(doc, "openapi").unwrap_or("");
    if !version.starts_with("3.0.") {
        return Err(Problem::new(
            "openapi",
            format!("`{version}` is not supported: the generator reads OpenAPI 3.0.x"),
        ));
    }
    if spec::str_at(doc.get("info").unwrap_or(&Value::Null), "version").is_none() {
        return Err(Problem::new("info.version", "is missing"));
    }
    refs(doc, doc, &mut String::new())?;
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or_else(|| Problem::new("components.schemas", "is missing"))?;
    let mut type_names: BTreeMap<String, &str> = BTreeMap::new();
    for (name, schema) in schemas {
        let at = format!("components.schemas.{name}");
        if let Some(other) = type_names.insert(spec::type_name(name), name) {
            return Err(Problem::new(
                &at,
                format!(
                    "`{other}` and `{name}` both map to the Rust type `{}`",
                    spec::type_name(name)
                ),
            ));
        }
        schema_shape(schema, &at)?;
    }
    operations(doc)
}

/// Every `$ref` must point at something that exists.
fn refs(doc: &Value, value: &Value, at: &mut String) -> Result<()> {
    match value {
        Value::Object(map) => {
            if let Some(target) = map.get("$ref") {
                let target = target
                    .as_str()
                    .ok_or_else(|| Problem::new(at.clone(), "`$ref` is not a string"))?;
                let pointer = target.strip_prefix('#').unwrap_or("!");
                if doc.pointer(pointer).is_none() {
                    return Err(Problem::new(
                        format!("{at}.$ref"),
                        format!(
                            "`{target}` does not resolve (only local references `#/…` are read)"
                        ),
                    ));
                }
            }
            for (key, child) in map {
                let len = at.len();
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(key);
                refs(doc, child, at)?;
                at.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("[{i}]"));
                refs(doc, child, at)?;
                at.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Types, and property names that would collide as Rust fields.
fn schema_shape(schema: &Value, at: &str) -> Result<()> {
    let Some(map) = schema.as_object() else {
        return Err(Problem::new(at, "a schema must be a mapping"));
    };
    if let Some(ty) = map.get("type") {
        match ty.as_str() {
            Some(t) if TYPES.contains(&t) => {}
            Some(t) => {
                return Err(Problem::new(
                    format!("{at}.type"),
                    format!("`{t}` is not an OpenAPI type (one of {})", TYPES.join(", ")),
                ));
            }
            None => {
                return Err(Problem::new(
                    format!("{at}.type"),
                    "must be one type name (OpenAPI 3.0 has no type lists)",
                ));
            }
        }
    }
    if let Some(props) = map.get("properties") {
        let props = props
            .as_object()
            .ok_or_else(|| Problem::new(format!("{at}.properties"), "must be a mapping"))?;
        let mut rust_names: BTreeMap<String, &str> = BTreeMap::new();
        for (name, prop) in props {
            if let Some(other) = rust_names.insert(spec::field_name(name), name) {
                return Err(Problem::new(
                    format!("{at}.properties"),
                    format!(
                        "`{other}` and `{name}` both map to the Rust field `{}`",
                        spec::field_name(name)
                    ),
                ));
            }
            schema_shape(prop, &format!("{at}.properties.{name}"))?;
        }
    }
    if let Some(items) = map.get("items") {
        schema_shape(items, &format!("{at}.items"))?;
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(branches) = map.get(key) {
            let branches = branches
                .as_array()
                .ok_or_else(|| Problem::new(format!("{at}.{key}"), "must be a list"))?;
            for (i, branch) in branches.iter().enumerate() {
                schema_shape(branch, &format!("{at}.{key}[{i}]"))?;
            }
        }
    }
    Ok(())
}

fn operations(doc: &Value) -> Result<()> {
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut methods: BTreeMap<String, String> = BTreeMap::new();
    let mut commands: BTreeMap<String, String> = BTreeMap::new();
    let all = spec::operations(doc);
    if all.is_empty() {
        return Err(Problem::new("paths", "the spec has no operations"));
    }
    for (_, method, op, at) in all {
        if method != "post" {
            return Err(Problem::new(
                &at,
                "only POST operations are supported: the platform's calls are signed JSON envelopes sent with POST",
            ));
        }
        let id = spec::str_at(op, "operationId")
            .ok_or_else(|| Problem::new(format!("{at}.operationId"), "is missing"))?;
        if let Some(other) = ids.insert(id.to_string(), at.clone()) {
            return Err(Problem::new(
                format!("{at}.operationId"),
                format!("`{id}` is also the operationId of {other}"),
            ));
        }
        let method_name = spec::field_name(id);
        if let Some(other) = methods.insert(method_name.clone(), id.to_string()) {
            return Err(Problem::new(
                format!("{at}.operationId"),
                format!("`{id}` and `{other}` both map to the Rust method `{method_name}`"),
            ));
        }
        let command = match op.get("x-cli-command") {
            None => id.to_kebab_case(),
            Some(Value::String(c)) => c.clone(),
            Some(_) => {
                return Err(Problem::new(
                    format!("{at}.x-cli-command"),
                    "must be a string",
                ));
            }
        };
        let valid = command.starts_with(|c: char| c.is_ascii_lowercase())
            && command
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            return Err(Problem::new(
                format!("{at}.x-cli-command"),
                format!(
                    "`{command}` is not a command name (lowercase letters, digits and `-`, starting with a letter)"
                ),
            ));
        }
        if BUILTIN_COMMANDS.contains(&command.as_str()) {
            return Err(Problem::new(
                format!("{at}.x-cli-command"),
                format!(
                    "`{command}` is one of the CLI's own commands ({})",
                    BUILTIN_COMMANDS.join(", ")
                ),
            ));
        }
        if let Some(other) = commands.insert(command.clone(), id.to_string()) {
            return Err(Problem::new(
                format!("{at}.x-cli-command"),
                format!("`{id}` and `{other}` both give the CLI command `{command}`"),
            ));
        }
        if let Some(flag) = op.get("x-idempotent")
            && !flag.is_boolean()
        {
            return Err(Problem::new(
                format!("{at}.x-idempotent"),
                "must be true or false",
            ));
        }
        envelope(doc, op, &at)?;
        if let Some(pagination) = op.get("x-pagination") {
            crate::table::pagination(doc, op, pagination, &format!("{at}.x-pagination"))?;
        }
    }
    Ok(())
}

/// The request is a JSON envelope, the 200 answer a response envelope whose
/// `result` is a named schema.
fn envelope(doc: &Value, op: &Value, at: &str) -> Result<()> {
    let body = op
        .get("requestBody")
        .and_then(spec::json_schema)
        .ok_or_else(|| {
            Problem::new(
                format!("{at}.requestBody"),
                "must have an application/json schema (the request envelope)",
            )
        })?;
    let request = spec::resolve(doc, body);
    if request
        .get("properties")
        .and_then(Value::as_object)
        .is_none()
    {
        return Err(Problem::new(
            format!("{at}.requestBody"),
            "the request envelope must be an object schema with properties",
        ));
    }
    if let Some(params) = request.pointer("/properties/paramContent")
        && spec::resolve(doc, params)
            .get("type")
            .and_then(Value::as_str)
            != Some("object")
    {
        return Err(Problem::new(
            format!("{at}.requestBody"),
            "`paramContent` must be an object schema",
        ));
    }
    let ok = op
        .pointer("/responses/200")
        .and_then(spec::json_schema)
        .ok_or_else(|| {
            Problem::new(
                format!("{at}.responses.200"),
                "must have an application/json schema (the response envelope)",
            )
        })?;
    let name = spec::ref_name(ok).ok_or_else(|| {
        Problem::new(
            format!("{at}.responses.200"),
            "the schema must be a $ref to #/components/schemas/…",
        )
    })?;
    let envelope = spec::component(doc, name).unwrap_or(&Value::Null);
    for field in ["code", "msg", "traceId", "result"] {
        if envelope.pointer(&format!("/properties/{field}")).is_none() {
            return Err(Problem::new(
                format!("components.schemas.{name}"),
                format!("has no `{field}`: the 200 answer of {at} must be a platform envelope"),
            ));
        }
    }
    let result = envelope
        .pointer("/properties/result")
        .unwrap_or(&Value::Null);
    if spec::ref_name(result).is_none() {
        return Err(Problem::new(
            format!("components.schemas.{name}.properties.result"),
            "must be a $ref to #/components/schemas/… (the typed result)",
        ));
    }
    Ok(())
}
