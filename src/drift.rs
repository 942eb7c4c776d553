//! Drift detection: owns the comparison of live answers with the spec this
//! client was generated from. [`compare`] walks any JSON value against one of
//! the spec's schemas (no HTTP); [`check`] calls every operation once through
//! [`Client::call_raw`] and compares each answer with its 200 schema.
//!
//! What counts as drift: a field the schema does not declare, a value outside
//! an `enum` or the `x-known-values` extension, a JSON type the schema does
//! not allow (a number where it says string, `null` where it is not
//! `nullable`), an integer outside its `format` or bounds, and a missing
//! `required` field. Drift means it is time to edit `spec/` and regenerate.
//!
//! The spec is embedded as JSON by `build.rs` (`OUT_DIR/spec.json`), so no
//! YAML parser is needed at run time.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Value, json};

use crate::{Client, Error, SPEC_SHA256, SPEC_VERSION};

/// The spec this client was generated from, as JSON (`info.version` is
/// [`SPEC_VERSION`], the file's SHA-256 [`SPEC_SHA256`]).
pub const SPEC_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/spec.json"));

const REF_PREFIX: &str = "#/components/schemas/";
/// Deepest nesting of `$ref`s and values walked; deeper is reported, not followed.
const MAX_DEPTH: usize = 64;

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

/// One operation called by [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedOperation {
    /// The spec's operationId.
    pub operation: String,
    /// Its path.
    pub path: String,
    /// The HTTP status of the answer.
    pub status: u16,
    /// The answer's `traceId`, when it had one.
    pub trace_id: Option<String>,
}

/// What [`check`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftReport {
    /// `info.version` of the spec compared against ([`SPEC_VERSION`]).
    pub spec_version: &'static str,
    /// SHA-256 of that spec file ([`SPEC_SHA256`]).
    pub spec_sha256: &'static str,
    /// The operations called, in the spec's order.
    pub operations: Vec<CheckedOperation>,
    /// Every difference found; empty when the answers match the spec.
    pub drifts: Vec<Drift>,
}

impl DriftReport {
    /// Whether any answer differed from the spec.
    pub fn has_drift(&self) -> bool {
        !self.drifts.is_empty()
    }
}

/// Calls every operation of the spec once (the first page of a paginated
/// one, at its largest page size) and compares each answer with its 200
/// response schema. An answer whose `code` is present and not "0" is an
/// [`Error::Api`]: a check needs real data.
pub async fn check(client: &Client) -> Result<DriftReport, Error> {
    let spec = spec()?;
    let mut report = DriftReport {
        spec_version: SPEC_VERSION,
        spec_sha256: SPEC_SHA256,
        operations: Vec::new(),
        drifts: Vec::new(),
    };
    for op in operations(&spec) {
        let operation = op.operation_id;
        let reply = client
            .call_raw(operation, &op.path, op.param_content.as_ref())
            .await?;
        if let Some(error) = crate::error::business_error_in(operation, &reply.body, reply.status) {
            return Err(error);
        }
        let trace_id = reply
            .body
            .get("traceId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        report.drifts.extend(compare_in(
            &spec,
            op.operation_id,
            &op.response_schema,
            &reply.body,
        ));
        report.operations.push(CheckedOperation {
            operation: op.operation_id.to_string(),
            path: op.path,
            status: reply.status,
            trace_id,
        });
    }
    Ok(report)
}

/// Compares `json` with the spec's `components.schemas.<schema_name>` and
/// returns every difference, each named after `operation`. An unknown schema
/// name is itself reported (as [`DriftKind::Unchecked`]).
pub fn compare(operation: &str, schema_name: &str, json: &Value) -> Vec<Drift> {
    match spec() {
        Ok(spec) => compare_in(&spec, operation, schema_name, json),
        Err(e) => vec![Drift {
            operation: operation.to_string(),
            path: String::new(),
            kind: DriftKind::Unchecked,
            detail: e.to_string(),
            occurrences: 1,
        }],
    }
}

fn spec() -> Result<Value, Error> {
    serde_json::from_str(SPEC_JSON)
        .map_err(|e| Error::config(format!("the embedded spec is not JSON: {e}")))
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

/// An operation to call: where, with what, and the schema of its answer.
struct Operation {
    operation_id: &'static str,
    path: String,
    param_content: Option<Value>,
    response_schema: String,
}

/// Every operation of the table, with the first page's `paramContent`
/// (page or cursor at its minimum, page size at its maximum).
fn operations(_spec: &Value) -> Vec<Operation> {
    crate::operation::OperationSpec::all()
        .iter()
        .map(|op| Operation {
            operation_id: op.operation_id,
            path: op.path.to_string(),
            param_content: op.pagination.as_ref().map(|p| {
                let position = p.position();
                let start = match p.style {
                    crate::operation::PaginationStyle::PageNumber { .. } => {
                        position.bounds.min.max(1)
                    }
                    _ => position.bounds.min.max(0),
                };
                json!({ position.name: start, p.page_size.name: p.page_size.bounds.max })
            }),
            response_schema: op.response_schema.to_string(),
        })
        .collect()
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> Option<&'a Value> {
    let mut schema = schema;
    for _ in 0..MAX_DEPTH {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.strip_prefix(REF_PREFIX)?;
                schema = spec.get("components")?.get("schemas")?.get(name)?;
            }
            None => return Some(schema),
        }
    }
    None
}

/// The JSON type of a value, in the spec's words.
fn json_type(value: &Value) -> &'static str {
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
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                self.walk_any(branches, value, path, depth);
                return;
            }
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for branch in all {
                self.walk(branch, value, path, depth + 1);
            }
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

fn type_matches(ty: &str, value: &Value) -> bool {
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

    fn kinds(drifts: &[Drift]) -> Vec<(String, DriftKind)> {
        drifts.iter().map(|d| (d.path.clone(), d.kind)).collect()
    }

    #[test]
    fn a_conforming_page_has_no_drift() {
        let page = json!({
            "code": "0", "msg": null, "traceId": "t",
            "result": {"pages": 1, "total": 2, "result": [
                {"id": 9_007_199_254_740_993_i64, "status": 6, "phone": 13_577_770_000_i64,
                 "followUserFlag": false, "gender": "0"},
                {"id": 2, "status": null, "phone": "13577770001", "followUserFlag": 1}
            ]}
        });
        assert_eq!(
            compare("listWecomEmployees", "ListWecomEmployeesResponse", &page),
            []
        );
    }

    #[test]
    fn every_kind_is_reported_with_its_path() {
        let page = json!({
            "msg": null,
            "result": {"pages": "1", "result": [
                {"id": 1, "status": 9, "nickname": "x"},
                {"id": 2, "phone": true, "nickname": "y"},
                {"id": 3_000_000_000_i64, "status": 3_000_000_000_i64}
            ]}
        });
        let drifts = compare("listWecomEmployees", "ListWecomEmployeesResponse", &page);
        assert_eq!(
            kinds(&drifts),
            [
                ("code".to_string(), DriftKind::MissingRequired),
                ("result.pages".to_string(), DriftKind::TypeMismatch),
                (
                    "result.result[0].nickname".to_string(),
                    DriftKind::UnknownField
                ),
                (
                    "result.result[0].status".to_string(),
                    DriftKind::UnknownValue
                ),
                (
                    "result.result[1].phone".to_string(),
                    DriftKind::TypeMismatch
                ),
                ("result.result[2].status".to_string(), DriftKind::OutOfRange),
            ]
        );
        assert_eq!(drifts[2].occurrences, 2);
        assert_eq!(
            drifts[1].to_string(),
            "listWecomEmployees: result.pages: string where the spec says integer"
        );
        assert_eq!(
            drifts[4].to_string(),
            "listWecomEmployees: result.result[1].phone: boolean where the spec says string or integer"
        );
    }

    #[test]
    fn unknown_schema_and_hostile_values_do_not_panic() {
        let drifts = compare("x", "NoSuchSchema", &json!({}));
        assert_eq!(drifts[0].kind, DriftKind::Unchecked);
        let mut deep = json!(1);
        for _ in 0..200 {
            deep = json!({ "result": deep });
        }
        let _ = compare("x", "ListWecomEmployeesResponse", &deep);
        let _ = compare("x", "ListWecomEmployeesResponse", &json!([1, "a", null]));
    }

    #[test]
    fn every_operation_gets_a_first_page() {
        let spec = spec().expect("embedded spec");
        let ops = operations(&spec);
        assert_eq!(ops.len(), 3);
        let employees = ops
            .iter()
            .find(|o| o.operation_id == "listWecomEmployees")
            .expect("listWecomEmployees");
        assert_eq!(
            employees.param_content,
            Some(json!({"pageNum": 1, "pageSize": 50}))
        );
    }
}
