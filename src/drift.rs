//! Drift detection: owns the comparison of live answers with the spec this
//! client was generated from. [`compare`] walks any JSON value against one of
//! the spec's schemas (no HTTP); [`check`] calls every operation of the
//! operation table once through its generated method and compares each answer
//! with its 200 schema, operation by operation, going on when one fails.
//!
//! What counts as drift: a field the schema does not declare, a value outside
//! an `enum` or the `x-known-values` extension, a JSON type the schema does
//! not allow (a number where it says string, `null` where it is not
//! `nullable`), an integer outside its `format` or bounds, and a missing
//! `required` field. Drift means it is time to edit `spec/` and regenerate.
//!
//! The spec is embedded as JSON by `build.rs` ([`SPEC_JSON`]) and parsed once
//! (`crate::spec`), so no YAML parser is needed at run time.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value, json};

use crate::operation::{OperationSpec, PaginationStyle};
use crate::spec::{self, MAX_DEPTH, REF_PREFIX, json_type, resolve, type_matches};
use crate::{Client, Error, SPEC_SHA256, SPEC_VERSION};

pub use crate::spec::SPEC_JSON;

/// What kind of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DriftKind {
    /// A field the schema does not declare.
    UnknownField,
    /// A value outside the schema's `enum` or `x-known-values`.
    UnknownValue,
    /// A JSON type the schema does not allow.
    TypeMismatch,
    /// An integer outside its `format` (int32, int64) or `minimum`/`maximum`.
    OutOfRange,
    /// A `required` field that is absent.
    MissingRequired,
    /// The spec itself could not be followed there (a broken `$ref`, too deep).
    Unchecked,
}

impl fmt::Display for DriftKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DriftKind::UnknownField => "unknown field",
            DriftKind::UnknownValue => "unknown value",
            DriftKind::TypeMismatch => "type mismatch",
            DriftKind::OutOfRange => "out of range",
            DriftKind::MissingRequired => "missing required field",
            DriftKind::Unchecked => "unchecked",
        })
    }
}

/// One difference between a live answer and the spec. Differences at the same
/// place of every item of an array are reported once, with a count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// The spec's operationId (or what the caller of [`compare`] named).
    pub operation: String,
    /// Where, from the top of the answer: `result.result[3].phone`.
    pub path: String,
    /// What kind of difference.
    pub kind: DriftKind,
    /// What differs, e.g. `integer where the spec says string`.
    pub detail: String,
    /// How many array items showed the same difference at this place.
    pub occurrences: usize,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(the whole answer)"
        } else {
            &self.path
        };
        write!(f, "{}: {path}: {}", self.operation, self.detail)?;
        if self.occurrences > 1 {
            write!(f, " ({} occurrences)", self.occurrences)?;
        }
        Ok(())
    }
}

/// How the call of one operation went.
#[derive(Debug)]
#[non_exhaustive]
pub enum CheckOutcome {
    /// It answered and the answer was compared with the spec.
    Checked {
        /// The HTTP status of the answer.
        status: u16,
        /// The answer's `traceId`, when it had one.
        trace_id: Option<String>,
    },
    /// It was not called: its request needs a value the spec gives no
    /// example, default or minimum for.
    Skipped {
        /// Why, naming the field.
        reason: String,
    },
    /// The call failed (a business error, HTTP, transport); nothing was
    /// compared.
    Failed {
        /// What the client returned.
        error: Error,
    },
}

/// One operation of the table, as [`check`] handled it.
#[derive(Debug)]
#[non_exhaustive]
pub struct CheckedOperation {
    /// The spec's operationId.
    pub operation: String,
    /// Its path.
    pub path: String,
    /// Checked, skipped or failed.
    pub outcome: CheckOutcome,
}

/// What [`check`] found.
#[derive(Debug)]
#[non_exhaustive]
pub struct DriftReport {
    /// `info.version` of the spec compared against ([`SPEC_VERSION`]).
    pub spec_version: &'static str,
    /// SHA-256 of that spec file ([`SPEC_SHA256`]).
    pub spec_sha256: &'static str,
    /// Every operation of the table, in the spec's order, with its outcome.
    pub operations: Vec<CheckedOperation>,
    /// Every difference found in the checked answers; empty when they match
    /// the spec.
    pub drifts: Vec<Drift>,
}

impl DriftReport {
    /// Whether any answer differed from the spec.
    pub fn has_drift(&self) -> bool {
        !self.drifts.is_empty()
    }

    /// The operations whose answer was compared with the spec.
    pub fn checked(&self) -> Vec<&CheckedOperation> {
        self.with(|o| matches!(o, CheckOutcome::Checked { .. }))
    }

    /// The operations not called, each with its reason.
    pub fn skipped(&self) -> Vec<&CheckedOperation> {
        self.with(|o| matches!(o, CheckOutcome::Skipped { .. }))
    }

    /// The operations whose call failed, each with its error.
    pub fn failures(&self) -> Vec<&CheckedOperation> {
        self.with(|o| matches!(o, CheckOutcome::Failed { .. }))
    }

    fn with(&self, wanted: impl Fn(&CheckOutcome) -> bool) -> Vec<&CheckedOperation> {
        self.operations
            .iter()
            .filter(|o| wanted(&o.outcome))
            .collect()
    }
}

/// Calls every operation of the table once and compares each answer with
/// its 200 response schema: a paginated one for its first page at its
/// largest page size, one without pagination with a `paramContent` built
/// from the spec (see [`first_request`]). An operation whose call fails (an
/// envelope whose `code` is present and not "0" counts: a check needs real
/// data) is reported as [`CheckOutcome::Failed`] and the others are still
/// checked. Returns `Err` only when no operation could be checked and one
/// failed: the first failure.
pub async fn check(client: &Client) -> Result<DriftReport, Error> {
    let spec = spec::document()?;
    let mut report = DriftReport {
        spec_version: SPEC_VERSION,
        spec_sha256: SPEC_SHA256,
        operations: Vec::new(),
        drifts: Vec::new(),
    };
    for op in OperationSpec::all() {
        let outcome = match first_request(op) {
            Err(reason) => CheckOutcome::Skipped { reason },
            Ok(param_content) => match crate::call::call_whole(client, op, param_content).await {
                Ok(reply) => {
                    report.drifts.extend(compare_in(
                        spec,
                        op.operation_id,
                        op.response_schema,
                        &reply.body,
                    ));
                    CheckOutcome::Checked {
                        status: reply.status,
                        trace_id: reply
                            .body
                            .get("traceId")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                    }
                }
                Err(error) => CheckOutcome::Failed { error },
            },
        };
        report.operations.push(CheckedOperation {
            operation: op.operation_id.to_string(),
            path: op.path.to_string(),
            outcome,
        });
    }
    if report.checked().is_empty()
        && let Some(index) = report
            .operations
            .iter()
            .position(|o| matches!(o.outcome, CheckOutcome::Failed { .. }))
        && let CheckOutcome::Failed { error } = report.operations.swap_remove(index).outcome
    {
        return Err(error);
    }
    Ok(report)
}

/// The `paramContent` [`check`] sends to `op`, or why it cannot:
/// - every field the params schema requires gets the spec's `example` for
///   it, else its `default`, else its first `enum` value, else its
///   `minimum`; an object field is built the same way from its own
///   required fields;
/// - a paginated operation then asks for its first page (page 1 or cursor
///   0, or the spec's minimum) at its largest page size;
/// - `Ok(None)` when the operation takes no `paramContent`, or takes an
///   optional one the spec gives no values for;
/// - `Err` naming the first required field with none of those.
pub fn first_request(op: &OperationSpec) -> Result<Option<Value>, String> {
    let spec = spec::document().map_err(|e| e.to_string())?;
    let request = spec::component(spec, op.request_schema).unwrap_or(&Value::Null);
    let Some(params) = spec::property(spec, request, "paramContent") else {
        return Ok(None);
    };
    let invented = invent(spec, params, "paramContent", 0);
    let Some(pagination) = op.pagination else {
        return match invented {
            Ok(value) => Ok(Some(value)),
            Err(_) if !op.params_required => Ok(None),
            Err(field) => Err(format!(
                "paramContent needs `{field}`, and the spec gives no example, default or minimum to send"
            )),
        };
    };
    let mut value = invented.map_err(|field| {
        format!("paramContent needs `{field}`, and the spec gives no example, default or minimum to send")
    })?;
    let position = pagination.position();
    let start = match pagination.style {
        PaginationStyle::PageNumber { .. } => position.bounds.min.max(1),
        PaginationStyle::Cursor { .. } => position.bounds.min.max(0),
    };
    if let Value::Object(map) = &mut value {
        map.insert(position.name.to_string(), json!(start));
        map.insert(
            pagination.page_size.name.to_string(),
            json!(pagination.page_size.bounds.max),
        );
    }
    Ok(Some(value))
}

/// A value for a required field, from what the spec says of it; `Err`
/// with the field's path when it says nothing usable.
fn invent(spec: &Value, schema: &Value, path: &str, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(path.to_string());
    }
    for key in ["example", "default"] {
        if let Some(value) = schema.get(key) {
            return Ok(value.clone());
        }
    }
    let schema = resolve(spec, schema).ok_or_else(|| path.to_string())?;
    for key in ["example", "default"] {
        if let Some(value) = schema.get(key) {
            return Ok(value.clone());
        }
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return Ok(first.clone());
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") if schema.get("minimum").is_some() => {
            Ok(json!(spec::integer_bounds(schema).0))
        }
        Some("number") if schema.get("minimum").is_some() => {
            Ok(schema.get("minimum").cloned().unwrap_or(json!(0)))
        }
        Some("object") | None
            if schema.get("properties").is_some() || schema.get("type").is_some() =>
        {
            let mut map = Map::new();
            for field in spec::required(schema) {
                let property = schema
                    .get("properties")
                    .and_then(|p| p.get(field))
                    .ok_or_else(|| format!("{path}.{field}"))?;
                let value = invent(spec, property, &format!("{path}.{field}"), depth + 1)?;
                map.insert(field.to_string(), value);
            }
            Ok(Value::Object(map))
        }
        _ => Err(path.to_string()),
    }
}

/// Compares `json` with the spec's `components.schemas.<schema_name>` and
/// returns every difference, each named after `operation`. An unknown schema
/// name is itself reported (as [`DriftKind::Unchecked`]).
pub fn compare(operation: &str, schema_name: &str, json: &Value) -> Vec<Drift> {
    match spec::document() {
        Ok(spec) => compare_in(spec, operation, schema_name, json),
        Err(e) => vec![Drift {
            operation: operation.to_string(),
            path: String::new(),
            kind: DriftKind::Unchecked,
            detail: e.to_string(),
            occurrences: 1,
        }],
    }
}

fn compare_in(spec: &Value, operation: &str, schema_name: &str, json: &Value) -> Vec<Drift> {
    let mut walker = Walker {
        spec,
        found: BTreeMap::new(),
        order: Vec::new(),
    };
    let schema = json!({ "$ref": format!("{REF_PREFIX}{schema_name}") });
    walker.walk(&schema, json, &mut String::new(), 0);
    walker
        .order
        .into_iter()
        .filter_map(|key| walker.found.remove(&key))
        .map(|(path, kind, detail, occurrences)| Drift {
            operation: operation.to_string(),
            path,
            kind,
            detail,
            occurrences,
        })
        .collect()
}

/// Key of a finding: the path with array indices blanked, the kind, the detail.
type Key = (String, DriftKind, String);

struct Walker<'a> {
    spec: &'a Value,
    /// First concrete path, kind, detail and count, per key.
    found: BTreeMap<Key, (String, DriftKind, String, usize)>,
    /// Keys in the order first seen.
    order: Vec<Key>,
}

impl Walker<'_> {
    fn report(&mut self, path: &str, kind: DriftKind, detail: String) {
        let key = (blank_indices(path), kind, detail.clone());
        match self.found.get_mut(&key) {
            Some(entry) => entry.3 += 1,
            None => {
                self.order.push(key.clone());
                self.found.insert(key, (path.to_string(), kind, detail, 1));
            }
        }
    }

    fn walk(&mut self, schema: &Value, value: &Value, path: &mut String, depth: usize) {
        if depth > MAX_DEPTH {
            self.report(
                path,
                DriftKind::Unchecked,
                "nested too deeply to check".into(),
            );
            return;
        }
        let schema = match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => match resolve(self.spec, schema) {
                Some(s) => s,
                None => {
                    self.report(
                        path,
                        DriftKind::Unchecked,
                        format!("the spec's {r} cannot be resolved"),
                    );
                    return;
                }
            },
            None => schema,
        };
        if let Some(branches) = spec::branches(schema) {
            self.walk_any(branches, value, path, depth);
            return;
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            // One schema of every branch's fields: walking the branches one
            // by one would call a field of one branch unknown to the others.
            let merged = spec::merge_all_of(self.spec, all);
            self.walk(&merged, value, path, depth + 1);
            return;
        }
        if value.is_null() {
            let nullable = schema.get("nullable") == Some(&Value::Bool(true));
            if !nullable && let Some(ty) = schema.get("type").and_then(Value::as_str) {
                self.report(
                    path,
                    DriftKind::TypeMismatch,
                    format!("null where the spec says {ty} (not nullable)"),
                );
            }
            return;
        }
        if let Some(ty) = schema.get("type").and_then(Value::as_str)
            && !type_matches(ty, value)
        {
            self.report(
                path,
                DriftKind::TypeMismatch,
                format!("{} where the spec says {ty}", json_type(value)),
            );
            return;
        }
        self.check_value(schema, value, path);
        match value {
            Value::Object(map) => {
                let props = schema.get("properties").and_then(Value::as_object);
                if let Some(required) = schema.get("required").and_then(Value::as_array) {
                    for name in required.iter().filter_map(Value::as_str) {
                        if !map.contains_key(name) {
                            let at = join(path, name);
                            self.report(
                                &at,
                                DriftKind::MissingRequired,
                                "required field missing".into(),
                            );
                        }
                    }
                }
                let additional = schema.get("additionalProperties");
                for (name, item) in map {
                    let len = path.len();
                    push_field(path, name);
                    match (props.and_then(|p| p.get(name)), additional) {
                        (Some(prop), _) => self.walk(prop, item, path, depth + 1),
                        (None, Some(Value::Bool(true))) => {}
                        (None, Some(extra @ Value::Object(_))) => {
                            self.walk(extra, item, path, depth + 1);
                        }
                        (None, _) if props.is_some() => {
                            let detail = format!(
                                "unknown field ({} value; the spec does not declare it)",
                                json_type(item)
                            );
                            self.report(path, DriftKind::UnknownField, detail);
                        }
                        (None, _) => {}
                    }
                    path.truncate(len);
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        let len = path.len();
                        path.push_str(&format!("[{i}]"));
                        self.walk(item_schema, item, path, depth + 1);
                        path.truncate(len);
                    }
                }
            }
            _ => {}
        }
    }

    /// A value matching any branch is fine; otherwise the closest branch's
    /// differences, or one type mismatch naming every branch's type.
    fn walk_any(&mut self, branches: &[Value], value: &Value, path: &mut String, depth: usize) {
        let mut best: Option<Walker<'_>> = None;
        for branch in branches {
            let mut trial = Walker {
                spec: self.spec,
                found: BTreeMap::new(),
                order: Vec::new(),
            };
            trial.walk(branch, value, path, depth + 1);
            if trial.found.is_empty() {
                return;
            }
            let resolved = resolve(self.spec, branch).unwrap_or(branch);
            let type_ok = resolved
                .get("type")
                .and_then(Value::as_str)
                .is_none_or(|ty| type_matches(ty, value) || value.is_null());
            if type_ok
                && best
                    .as_ref()
                    .is_none_or(|b| trial.found.len() < b.found.len())
            {
                best = Some(trial);
            }
        }
        match best {
            Some(trial) => {
                for key in trial.order {
                    if let Some((at, kind, detail, n)) = trial.found.get(&key).cloned() {
                        for _ in 0..n {
                            self.report(&at, kind, detail.clone());
                        }
                    }
                }
            }
            None => {
                let types: Vec<&str> = branches
                    .iter()
                    .filter_map(|b| resolve(self.spec, b))
                    .filter_map(|b| b.get("type").and_then(Value::as_str))
                    .collect();
                self.report(
                    path,
                    DriftKind::TypeMismatch,
                    format!(
                        "{} where the spec says {}",
                        json_type(value),
                        types.join(" or ")
                    ),
                );
            }
        }
    }

    /// `enum`, `x-known-values`, integer formats and bounds.
    fn check_value(&mut self, schema: &Value, value: &Value, path: &str) {
        if let Value::Number(n) = value
            && schema.get("type").and_then(Value::as_str) == Some("integer")
        {
            let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
            let fits = match format {
                "int32" => n.as_i64().is_some_and(|v| i32::try_from(v).is_ok()),
                "int64" => n.as_i64().is_some(),
                _ => true,
            };
            if !fits {
                self.report(
                    path,
                    DriftKind::OutOfRange,
                    format!("integer {n} does not fit the spec's {format}"),
                );
                return;
            }
        }
        for key in ["enum", "x-known-values"] {
            if let Some(known) = schema.get(key).and_then(Value::as_array)
                && !known.iter().any(|k| same_value(k, value))
            {
                let list: Vec<String> = known.iter().map(Value::to_string).collect();
                let detail = format!(
                    "value {value} is not one of the spec's {} [{}]",
                    if key == "enum" {
                        "enum values"
                    } else {
                        "known values"
                    },
                    list.join(", ")
                );
                self.report(path, DriftKind::UnknownValue, detail);
            }
        }
        let Value::Number(n) = value else {
            return;
        };
        let below = schema
            .get("minimum")
            .and_then(Value::as_f64)
            .zip(n.as_f64())
            .is_some_and(|(min, v)| v < min);
        let above = schema
            .get("maximum")
            .and_then(Value::as_f64)
            .zip(n.as_f64())
            .is_some_and(|(max, v)| v > max);
        if below || above {
            let bound = |k: &str| {
                schema
                    .get(k)
                    .map_or_else(|| "…".to_string(), Value::to_string)
            };
            self.report(
                path,
                DriftKind::OutOfRange,
                format!(
                    "{n} is outside the spec's {}..={}",
                    bound("minimum"),
                    bound("maximum")
                ),
            );
        }
    }
}

/// Equality that treats 6 and 6.0 alike.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn join(path: &str, name: &str) -> String {
    let mut out = path.to_string();
    push_field(&mut out, name);
    out
}

fn push_field(path: &mut String, name: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(name);
}

/// `result.result[3].phone` → `result.result[].phone`.
fn blank_indices(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_schema_and_hostile_values_do_not_panic() {
        let drifts = compare("x", "NoSuchSchema", &json!({}));
        assert_eq!(drifts[0].kind, DriftKind::Unchecked);
        let any = OperationSpec::all()[0].response_schema;
        let mut deep = json!(1);
        for _ in 0..200 {
            deep = json!({ "result": deep });
        }
        let _ = compare("x", any, &deep);
        let _ = compare("x", any, &json!([1, "a", null]));
    }

    #[test]
    fn every_paginated_operation_asks_for_its_first_page_at_the_largest_size() {
        for op in OperationSpec::all() {
            let Some(pagination) = op.pagination else {
                continue;
            };
            let params = first_request(op).expect("a first page").expect("params");
            let start = params[pagination.position().name].as_i64().expect("start");
            assert!(start == 0 || start == 1, "{}: {params}", op.operation_id);
            assert_eq!(
                params[pagination.page_size.name],
                json!(pagination.page_size.bounds.max)
            );
        }
    }

    #[test]
    fn required_fields_come_from_example_default_enum_or_minimum() {
        let spec = json!({"components": {"schemas": {
            "Code": {"type": "string", "example": "sh001"},
            "Params": {"type": "object", "required": ["a", "b", "c", "d", "e", "f"],
                "properties": {
                    "a": {"$ref": "#/components/schemas/Code"},
                    "b": {"type": "integer", "default": 7},
                    "c": {"type": "string", "enum": ["x", "y"]},
                    "d": {"type": "integer", "format": "int32", "minimum": 3},
                    "e": {"type": "object", "required": ["g"],
                          "properties": {"g": {"type": "boolean", "example": false}}},
                    "f": {"type": "string", "example": "given", "minLength": 1},
                    "optional": {"type": "string"}}},
            "Needy": {"type": "object", "required": ["name"],
                      "properties": {"name": {"type": "string"}}}
        }}});
        let params = json!({"$ref": "#/components/schemas/Params"});
        assert_eq!(
            invent(&spec, &params, "paramContent", 0),
            Ok(json!({"a": "sh001", "b": 7, "c": "x", "d": 3, "e": {"g": false}, "f": "given"}))
        );
        let needy = json!({"$ref": "#/components/schemas/Needy"});
        assert_eq!(
            invent(&spec, &needy, "paramContent", 0),
            Err("paramContent.name".to_string())
        );
    }
}
