//! Checking a JSON value against a schema of the spec, with the first
//! violation named by its place (`paramContent.pageSize`) and what is wrong.
//! The one checker behind the sandbox's request validation (HTTP 400, code
//! 40004) and the validation of the data a user gives it. It follows what
//! the spec states: `required`, `type`, `nullable`, integer `format` and
//! `minimum`/`maximum`, number bounds, `minLength`/`maxLength`, `enum`,
//! `minItems`/`maxItems`, `anyOf`/`oneOf` (any branch), `allOf` (every
//! branch). `x-known-values` is a list of documented values, not a limit,
//! and `pattern` is not checked.

use std::fmt;

use serde_json::Value;

use shiheng::spec::{self, MAX_DEPTH, REF_PREFIX};

/// What to do with a field the schema does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnknownFields {
    /// Accept it, as the platform does with request fields it does not use.
    Ignore,
    /// Refuse it: in data a user wrote, it is most likely a typo.
    Refuse,
}

/// The first place where a value breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// Where, from the top of the value (`paramContent.pageSize`,
    /// `tags[2]`); empty for the value itself.
    pub(crate) path: String,
    /// What is wrong (`must be an integer, not a string`).
    pub(crate) problem: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "the value {}", self.problem)
        } else {
            write!(f, "`{}` {}", self.path, self.problem)
        }
    }
}

/// Checks `value` against `schema`; `name` is what the value is called in
/// messages when the violation is the value itself (`request body`).
pub(crate) fn check(
    spec: &Value,
    schema: &Value,
    value: &Value,
    name: &str,
    unknown: UnknownFields,
) -> Result<(), Violation> {
    let checker = Checker { spec, unknown };
    checker
        .walk(schema, value, &mut String::new(), None, 0)
        .map_err(|mut violation| {
            if violation.path.is_empty() {
                violation.path = name.to_string();
            }
            violation
        })
}

struct Checker<'s> {
    spec: &'s Value,
    unknown: UnknownFields,
}

impl Checker<'_> {
    fn walk(
        &self,
        schema: &Value,
        value: &Value,
        path: &mut String,
        named: Option<&str>,
        depth: usize,
    ) -> Result<(), Violation> {
        if depth > MAX_DEPTH {
            return fail(path, "is nested too deeply".into());
        }
        let named = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix(REF_PREFIX))
            .or(named);
        let Some(schema) = spec::resolve(self.spec, schema) else {
            return fail(path, "has a schema the spec cannot resolve".into());
        };
        if let Some(branches) = spec::branches(schema) {
            let mut forms = Vec::new();
            for branch in branches {
                if self.walk(branch, value, path, named, depth + 1).is_ok() {
                    return Ok(());
                }
                if let Some(ty) = spec::resolve(self.spec, branch)
                    .and_then(|b| b.get("type"))
                    .and_then(Value::as_str)
                {
                    forms.push(ty);
                }
            }
            return fail(
                path,
                format!(
                    "matches none of its forms ({}), it is {}",
                    forms.join(" or "),
                    describe(value)
                ),
            );
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            // One schema of every branch's fields, so that a field one
            // branch declares is not unknown to another.
            let merged = spec::merge_all_of(self.spec, all);
            return self.walk(&merged, value, path, named, depth + 1);
        }
        if value.is_null() {
            let typed = schema.get("type").is_some();
            if typed && schema.get("nullable") != Some(&Value::Bool(true)) {
                return fail(path, "must not be null".into());
            }
            return Ok(());
        }
        if let Some(ty) = schema.get("type").and_then(Value::as_str)
            && !spec::type_matches(ty, value)
        {
            return fail(
                path,
                format!("must be {}, not {}", article(ty), describe(value)),
            );
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            return fail(
                path,
                format!("must be one of {}, not {value}", list.join(", ")),
            );
        }
        match value {
            Value::Number(n) => {
                if schema.get("type").and_then(Value::as_str) == Some("integer") {
                    let (min, max) = spec::integer_bounds(schema);
                    let within = n.as_i64().is_some_and(|v| (min..=max).contains(&v));
                    if !within {
                        return fail(path, format!("must be within {min}..={max}, not {n}"));
                    }
                } else if let Some(v) = n.as_f64() {
                    let min = schema.get("minimum").and_then(Value::as_f64);
                    let max = schema.get("maximum").and_then(Value::as_f64);
                    if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
                        let show = |b: Option<f64>| b.map_or("…".into(), |b| b.to_string());
                        return fail(
                            path,
                            format!("must be within {}..={}, not {n}", show(min), show(max)),
                        );
                    }
                }
            }
            Value::String(s) => {
                let len = s.chars().count() as u64;
                let min = schema.get("minLength").and_then(Value::as_u64);
                let max = schema.get("maxLength").and_then(Value::as_u64);
                if min == Some(1) && len == 0 {
                    return fail(path, "must not be empty".into());
                }
                if let Some(min) = min.filter(|m| len < *m) {
                    return fail(
                        path,
                        format!("must have at least {min} characters, not {len}"),
                    );
                }
                if let Some(max) = max.filter(|m| len > *m) {
                    return fail(
                        path,
                        format!("must have at most {max} characters, not {len}"),
                    );
                }
            }
            Value::Array(items) => {
                let len = items.len() as u64;
                if let Some(min) = schema
                    .get("minItems")
                    .and_then(Value::as_u64)
                    .filter(|m| len < *m)
                {
                    return fail(path, format!("must have at least {min} items, not {len}"));
                }
                if let Some(max) = schema
                    .get("maxItems")
                    .and_then(Value::as_u64)
                    .filter(|m| len > *m)
                {
                    return fail(path, format!("must have at most {max} items, not {len}"));
                }
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        let len = path.len();
                        path.push_str(&format!("[{i}]"));
                        self.walk(item_schema, item, path, None, depth + 1)?;
                        path.truncate(len);
                    }
                }
            }
            Value::Object(map) => {
                for field in spec::required(schema) {
                    if !map.contains_key(field) {
                        let len = path.len();
                        push_field(path, field);
                        let missing = fail(path, "is missing (the spec requires it)".into());
                        path.truncate(len);
                        return missing;
                    }
                }
                let properties = schema.get("properties").and_then(Value::as_object);
                for (field, item) in map {
                    let len = path.len();
                    push_field(path, field);
                    match properties.and_then(|p| p.get(field)) {
                        Some(property) => self.walk(property, item, path, None, depth + 1)?,
                        None if self.unknown == UnknownFields::Refuse && properties.is_some() => {
                            return fail(
                                path,
                                format!("is not a field of {}", named.unwrap_or("the schema")),
                            );
                        }
                        None => {}
                    }
                    path.truncate(len);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn fail(path: &str, problem: String) -> Result<(), Violation> {
    Err(Violation {
        path: path.to_string(),
        problem,
    })
}

fn push_field(path: &mut String, name: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(name);
}

fn article(ty: &str) -> String {
    match ty {
        "integer" | "object" | "array" => format!("an {ty}"),
        _ => format!("a {ty}"),
    }
}

/// A value's type for a message: `a string`, `the number 1.5`.
fn describe(value: &Value) -> String {
    match value {
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => format!("the number {n}"),
        other => article(spec::json_type(other)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use shiheng::operation::{OperationSpec, PaginationStyle};

    /// A made-up spec with the forms the real one uses.
    fn made_up() -> Value {
        json!({"components": {"schemas": {
            "Flag": {"anyOf": [{"type": "boolean", "nullable": true},
                               {"type": "integer", "minimum": 0, "maximum": 1, "nullable": true}]},
            "Person": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "integer", "format": "int64"},
                "name": {"type": "string", "nullable": true, "maxLength": 4},
                "flag": {"$ref": "#/components/schemas/Flag"},
                "kind": {"type": "string", "enum": ["a", "b"]},
                "score": {"type": "number", "minimum": 0.5},
                "tags": {"type": "array", "maxItems": 1, "items": {"type": "string"}},
                "status": {"type": "integer", "format": "int32", "x-known-values": [1, 2]}}}
        }}})
    }

    fn person(value: &Value, unknown: UnknownFields) -> Result<(), String> {
        let spec = made_up();
        let schema = json!({ "$ref": format!("{REF_PREFIX}Person") });
        check(&spec, &schema, value, "item", unknown).map_err(|v| v.to_string())
    }

    #[test]
    fn violations_name_the_field_and_the_problem() {
        let strict = |v: Value| person(&v, UnknownFields::Refuse);
        assert_eq!(
            strict(json!({"id": 1, "flag": 1, "status": 42, "name": null})),
            Ok(())
        );
        assert_eq!(strict(json!({"id": 1, "flag": true})), Ok(()));
        assert_eq!(
            strict(json!({"name": "x"})),
            Err("`id` is missing (the spec requires it)".into())
        );
        assert_eq!(
            strict(json!({"id": null})),
            Err("`id` must not be null".into())
        );
        assert_eq!(
            strict(json!({"id": "1"})),
            Err("`id` must be an integer, not a string".into())
        );
        assert_eq!(
            strict(json!({"id": 1.5})),
            Err("`id` must be an integer, not the number 1.5".into())
        );
        assert_eq!(
            strict(json!({"id": 18_446_744_073_709_551_615_u64})),
            Err(format!(
                "`id` must be within {}..={}, not 18446744073709551615",
                i64::MIN,
                i64::MAX
            ))
        );
        assert_eq!(
            strict(json!({"id": 1, "status": 3_000_000_000_i64})),
            Err(format!(
                "`status` must be within {}..={}, not 3000000000",
                i32::MIN,
                i32::MAX
            ))
        );
        assert_eq!(
            strict(json!({"id": 1, "name": "abcde"})),
            Err("`name` must have at most 4 characters, not 5".into())
        );
        assert_eq!(
            strict(json!({"id": 1, "kind": "c"})),
            Err(r#"`kind` must be one of "a", "b", not "c""#.into())
        );
        assert_eq!(
            strict(json!({"id": 1, "score": 0.25})),
            Err("`score` must be within 0.5..=…, not 0.25".into())
        );
        assert_eq!(
            strict(json!({"id": 1, "tags": ["a", 2]})),
            Err("`tags` must have at most 1 items, not 2".into())
        );
        assert_eq!(
            strict(json!({"id": 1, "tags": [2]})),
            Err("`tags[0]` must be a string, not an integer".into())
        );
        assert_eq!(
            strict(json!({"id": 1, "flag": 2})),
            Err("`flag` matches none of its forms (boolean or integer), it is an integer".into())
        );
        assert_eq!(
            strict(json!({"id": 1, "nickName": "x"})),
            Err("`nickName` is not a field of Person".into())
        );
        assert_eq!(
            strict(json!([1])),
            Err("`item` must be an object, not an array".into())
        );
        assert_eq!(
            person(&json!({"id": 1, "nickName": "x"}), UnknownFields::Ignore),
            Ok(())
        );
    }

    #[test]
    fn request_envelopes_are_checked_against_the_request_schema() {
        let spec = shiheng::spec::document().expect("the embedded spec");
        for op in OperationSpec::all() {
            let Some(pagination) = op.pagination else {
                continue;
            };
            let schema = json!({ "$ref": format!("{REF_PREFIX}{}", op.request_schema) });
            let (position, size) = (pagination.position(), pagination.page_size);
            let start = match pagination.style {
                PaginationStyle::PageNumber { .. } => position.bounds.min.max(1),
                _ => position.bounds.min.max(0),
            };
            let body = |params: Value| {
                json!({"appId": "a", "sign": "s", "version": "1.0", "timestamp": 1,
                       "paramContent": params, "unknownField": true})
            };
            let request = |v: &Value| {
                check(spec, &schema, v, "request body", UnknownFields::Ignore)
                    .map_err(|v| v.to_string())
            };
            let fine = json!({ position.name: start, size.name: size.bounds.max });
            assert_eq!(request(&body(fine)), Ok(()), "{}", op.operation_id);
            let over = json!({ position.name: start, size.name: size.bounds.max + 1 });
            assert_eq!(
                request(&body(over)),
                Err(format!(
                    "`paramContent.{}` must be within {}..={}, not {}",
                    size.name,
                    size.bounds.min,
                    size.bounds.max,
                    size.bounds.max + 1
                ))
            );
            let missing = json!({ position.name: start });
            assert_eq!(
                request(&body(missing)),
                Err(format!(
                    "`paramContent.{}` is missing (the spec requires it)",
                    size.name
                ))
            );
            let mut empty_app = body(json!({ position.name: start, size.name: 1 }));
            empty_app["appId"] = json!("");
            assert_eq!(request(&empty_app), Err("`appId` must not be empty".into()));
        }
    }
}
