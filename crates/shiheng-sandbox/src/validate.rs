//! The sandbox's wording of the spec tooling's schema walker
//! (`shiheng_spec::schema::walk`): the first breach of a value's schema,
//! named by its place (`paramContent.pageSize`) and said as a refusal
//! (`must be within 1..=100, not 500`). The sandbox's request validation
//! (HTTP 400, code 40004) and the validation of the data a user gives it
//! both end here; what is checked is the walker's (`x-known-values` is a
//! list of documented values, not a limit, and `pattern` is not checked).

use std::fmt;

use serde_json::Value;
use shiheng_spec::schema::{self, Problem, Rules, Unit, json_type};

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
    let rules = Rules::first_breach(unknown == UnknownFields::Refuse);
    let Some(finding) = schema::walk(spec, schema, value, rules).into_iter().next() else {
        return Ok(());
    };
    let path = if finding.path.is_empty() {
        name.to_string()
    } else {
        finding.path
    };
    Err(Violation {
        path,
        problem: refusal(&finding.problem),
    })
}

/// A finding as the sandbox says it, after the field's name.
fn refusal(problem: &Problem) -> String {
    match problem {
        Problem::Unresolvable { .. } => "has a schema the spec cannot resolve".into(),
        Problem::TooDeep => "is nested too deeply".into(),
        Problem::NotNullable { .. } => "must not be null".into(),
        Problem::WrongType { expected, found } => {
            format!("must be {}, not {}", article(expected), describe(found))
        }
        Problem::NoForm { forms, found, .. } => format!(
            "matches none of its forms ({}), it is {}",
            forms.join(" or "),
            describe(found)
        ),
        Problem::NotInEnum { allowed, found } => {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            format!("must be one of {}, not {found}", list.join(", "))
        }
        Problem::OutOfRange { range, found } => format!("must be within {range}, not {found}"),
        Problem::TooShort {
            min: 1,
            len: 0,
            unit: Unit::Characters,
        } => "must not be empty".into(),
        Problem::TooShort { min, len, unit } => {
            format!("must have at least {min} {unit}, not {len}")
        }
        Problem::TooLong { max, len, unit } => format!("must have at most {max} {unit}, not {len}"),
        Problem::MissingRequired => "is missing (the spec requires it)".into(),
        Problem::UnknownField { schema, .. } => format!(
            "is not a field of {}",
            schema.as_deref().unwrap_or("the schema")
        ),
        // Not a breach (`x-known-values`), and whatever the walker adds.
        other => format!("differs from the spec: {other}"),
    }
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
        other => article(json_type(other)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use shiheng::operation::{OperationSpec, PaginationStyle};
    use shiheng_spec::schema::REF_PREFIX;

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
        let spec = schema::document().expect("the embedded spec");
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
