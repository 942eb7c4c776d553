//! The spec at run time, read: the document the SDK embeds
//! ([`shiheng::spec::SPEC_JSON`], parsed once by [`document`]), the small
//! helpers that follow it (`$ref`s, `required`, `anyOf`/`oneOf`, `allOf`,
//! JSON types in the spec's words, an integer schema's bounds), and the one
//! walker of a JSON value against a schema, [`walk`].
//!
//! The walker is one traversal of (value, schema) that reports
//! [`Finding`]s: where ([`Finding::path`]), what kind ([`FindingKind`]) and
//! what, with the facts any wording needs ([`Problem`], whose `Display` is
//! the message). The drift checker ([`crate::drift`]) reports every finding
//! of a live answer as drift; the sandbox (`shiheng-sandbox`) turns the
//! first finding in a request or in a user's data into a 40004 refusal
//! naming the field. It follows what the spec states: `$ref`, `anyOf` and
//! `oneOf` (any branch), `allOf` (every branch, as one schema), `type`,
//! `nullable`, integer `format` and `minimum`/`maximum` (exclusive ones
//! too), number bounds, `minLength`/`maxLength`, `minItems`/`maxItems`,
//! `enum`, `x-known-values` (documented values, not a limit: reported only
//! when [`Rules`] ask), `required`, `properties` and `additionalProperties`.
//! `pattern` is not checked.
//!
//! Everything here reads OpenAPI 3.0 JSON as `serde_json::Value`s and never
//! panics: a schema without the keyword asked about answers `None`, an
//! empty iterator or the widest bounds; a broken `$ref` or a value nested
//! deeper than [`MAX_DEPTH`] is a finding, not a failure.
//!
//! ```
//! use serde_json::json;
//! use shiheng_spec::schema::{self, Rules};
//!
//! let spec = schema::document()?;
//! let employee = schema::component(spec, "Employee").expect("the spec has Employee");
//! let status = schema::property(spec, employee, "status").expect("Employee.status");
//! assert_eq!(status["type"], "integer");
//!
//! let findings = schema::walk(spec, employee, &json!({"id": "7"}), Rules::first_breach(false));
//! assert_eq!(findings[0].path, "id");
//! assert_eq!(findings[0].to_string(), "id: string where the spec says integer");
//! # Ok::<(), String>(())
//! ```

use std::fmt;
use std::sync::OnceLock;

use serde_json::{Map, Number, Value};

/// Where component schemas live; the only `$ref`s the spec uses.
pub const REF_PREFIX: &str = "#/components/schemas/";
/// Deepest nesting of `$ref`s and values walked; deeper is reported or cut,
/// never followed (a recursive schema or a hostile value cannot exhaust the
/// stack).
pub const MAX_DEPTH: usize = 64;

/// The SDK's embedded spec, parsed, shared by every caller for the life of
/// the process; an `Err` only if the embedded text were not JSON, which the
/// SDK's build rules out.
pub fn document() -> Result<&'static Value, String> {
    static DOCUMENT: OnceLock<Result<Value, String>> = OnceLock::new();
    DOCUMENT
        .get_or_init(|| serde_json::from_str(shiheng::spec::SPEC_JSON).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| format!("the embedded spec is not JSON: {e}"))
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

/// What a walk reports besides breaches of the schema's rules, and whether
/// it stops at the first finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    unknown_fields: bool,
    known_values: bool,
    first_only: bool,
}

impl Rules {
    /// Every finding, undeclared fields and values outside `x-known-values`
    /// included: what the drift checker reports of a live answer.
    pub const fn every_difference() -> Self {
        Self {
            unknown_fields: true,
            known_values: true,
            first_only: false,
        }
    }

    /// The first breach of the schema's rules, and nothing else: what a
    /// validator refuses. Fields an object schema does not declare count
    /// only with `unknown_fields` (the platform ignores request fields it
    /// does not use; in data a user wrote they are most likely typos).
    pub const fn first_breach(unknown_fields: bool) -> Self {
        Self {
            unknown_fields,
            known_values: false,
            first_only: true,
        }
    }
}

/// One place where a value differs from its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Where, from the top of the value: `result.result[3].phone`,
    /// `paramContent.pageSize`; empty for the value itself.
    pub path: String,
    /// What differs, with the facts a message needs.
    pub problem: Problem,
}

impl Finding {
    /// What kind of difference.
    pub fn kind(&self) -> FindingKind {
        self.problem.kind()
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(the value)"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.problem)
    }
}

/// The kinds of [`Problem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FindingKind {
    /// A field the schema does not declare.
    UnknownField,
    /// A value outside the schema's `enum` or `x-known-values`.
    UnknownValue,
    /// A JSON type the schema does not allow (`null` included).
    TypeMismatch,
    /// A number outside its `format` (int32, int64) or
    /// `minimum`/`maximum`, or a string or array outside its length bounds.
    OutOfRange,
    /// A `required` field that is absent.
    MissingRequired,
    /// The spec itself could not be followed there (a broken `$ref`, too deep).
    Unchecked,
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FindingKind::UnknownField => "unknown field",
            FindingKind::UnknownValue => "unknown value",
            FindingKind::TypeMismatch => "type mismatch",
            FindingKind::OutOfRange => "out of range",
            FindingKind::MissingRequired => "missing required field",
            FindingKind::Unchecked => "unchecked",
        })
    }
}

/// What is measured by a length bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A string's characters (`minLength`, `maxLength`).
    Characters,
    /// An array's items (`minItems`, `maxItems`).
    Items,
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unit::Characters => "characters",
            Unit::Items => "items",
        })
    }
}

/// What differs at a [`Finding`]'s place. A found value is kept as it was
/// for scalars; arrays and objects are kept empty (only their type tells).
/// `Display` is the message in the spec's words (`string where the spec
/// says integer`), as drift reports it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Problem {
    /// The spec's `$ref` there cannot be followed.
    Unresolvable {
        /// The `$ref`.
        reference: String,
    },
    /// Nested deeper than [`MAX_DEPTH`]; not walked further.
    TooDeep,
    /// `null` where the schema has a type and is not `nullable`.
    NotNullable {
        /// The schema's type.
        expected: String,
    },
    /// A JSON type the schema does not allow.
    WrongType {
        /// The schema's type.
        expected: String,
        /// The value found.
        found: Value,
    },
    /// No branch of an `anyOf`/`oneOf` fits.
    NoForm {
        /// The branches' types.
        forms: Vec<String>,
        /// The value found.
        found: Value,
        /// The findings of the closest branch of the value's type (the one
        /// with the fewest); empty when no branch has the value's type.
        closest: Vec<Finding>,
    },
    /// A value outside the schema's `enum`.
    NotInEnum {
        /// The `enum`.
        allowed: Vec<Value>,
        /// The value found.
        found: Value,
    },
    /// A value outside `x-known-values` (reported only when [`Rules`] ask).
    NotKnown {
        /// The `x-known-values`.
        known: Vec<Value>,
        /// The value found.
        found: Value,
    },
    /// A number outside its format or bounds.
    OutOfRange {
        /// The bounds, `min..=max` (`…` for a side without one).
        range: String,
        /// The number found.
        found: Number,
    },
    /// A string or an array shorter than its `minLength`/`minItems`.
    TooShort {
        /// The least length.
        min: u64,
        /// The length found.
        len: u64,
        /// Characters or items.
        unit: Unit,
    },
    /// A string or an array longer than its `maxLength`/`maxItems`.
    TooLong {
        /// The greatest length.
        max: u64,
        /// The length found.
        len: u64,
        /// Characters or items.
        unit: Unit,
    },
    /// A `required` field that is absent (the finding's path names it).
    MissingRequired,
    /// A field the object schema does not declare.
    UnknownField {
        /// The object schema's name, when it was reached by a `$ref`.
        schema: Option<String>,
        /// The field's value.
        found: Value,
    },
}

impl Problem {
    /// What kind of difference.
    pub fn kind(&self) -> FindingKind {
        match self {
            Problem::Unresolvable { .. } | Problem::TooDeep => FindingKind::Unchecked,
            Problem::NotNullable { .. } | Problem::WrongType { .. } | Problem::NoForm { .. } => {
                FindingKind::TypeMismatch
            }
            Problem::NotInEnum { .. } | Problem::NotKnown { .. } => FindingKind::UnknownValue,
            Problem::OutOfRange { .. } | Problem::TooShort { .. } | Problem::TooLong { .. } => {
                FindingKind::OutOfRange
            }
            Problem::MissingRequired => FindingKind::MissingRequired,
            Problem::UnknownField { .. } => FindingKind::UnknownField,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |values: &[Value]| {
            let shown: Vec<String> = values.iter().map(Value::to_string).collect();
            shown.join(", ")
        };
        match self {
            Problem::Unresolvable { reference } => {
                write!(f, "the spec's {reference} cannot be resolved")
            }
            Problem::TooDeep => f.write_str("nested too deeply to check"),
            Problem::NotNullable { expected } => {
                write!(f, "null where the spec says {expected} (not nullable)")
            }
            Problem::WrongType { expected, found } => {
                write!(f, "{} where the spec says {expected}", json_type(found))
            }
            Problem::NoForm { forms, found, .. } => write!(
                f,
                "{} where the spec says {}",
                json_type(found),
                forms.join(" or ")
            ),
            Problem::NotInEnum { allowed, found } => write!(
                f,
                "value {found} is not one of the spec's enum values [{}]",
                list(allowed)
            ),
            Problem::NotKnown { known, found } => write!(
                f,
                "value {found} is not one of the spec's known values [{}]",
                list(known)
            ),
            Problem::OutOfRange { range, found } => {
                write!(f, "{found} is outside the spec's {range}")
            }
            Problem::TooShort { min, len, unit } => {
                write!(f, "{len} {unit} where the spec says at least {min}")
            }
            Problem::TooLong { max, len, unit } => {
                write!(f, "{len} {unit} where the spec says at most {max}")
            }
            Problem::MissingRequired => f.write_str("required field missing"),
            Problem::UnknownField { found, .. } => write!(
                f,
                "unknown field ({} value; the spec does not declare it)",
                json_type(found)
            ),
        }
    }
}

/// Walks `value` against `schema` (any schema of `spec`, a `$ref` to one
/// included) and returns what differs, in the order met: depth first, an
/// object's missing `required` fields before its fields, in the value's
/// order. `rules` say what besides breaches is reported and whether the
/// walk stops at the first finding.
pub fn walk(spec: &Value, schema: &Value, value: &Value, rules: Rules) -> Vec<Finding> {
    let mut walker = Walker {
        spec,
        rules,
        found: Vec::new(),
    };
    walker.walk(schema, value, &mut String::new(), None, 0);
    walker.found
}

struct Walker<'s> {
    spec: &'s Value,
    rules: Rules,
    found: Vec<Finding>,
}

impl Walker<'_> {
    fn done(&self) -> bool {
        self.rules.first_only && !self.found.is_empty()
    }

    fn report(&mut self, path: &str, problem: Problem) {
        self.found.push(Finding {
            path: path.to_string(),
            problem,
        });
    }

    /// `named`: the name of the nearest `$ref` that led here, for an
    /// undeclared field's message.
    fn walk(
        &mut self,
        schema: &Value,
        value: &Value,
        path: &mut String,
        named: Option<&str>,
        depth: usize,
    ) {
        if self.done() {
            return;
        }
        if depth > MAX_DEPTH {
            return self.report(path, Problem::TooDeep);
        }
        let reference = schema.get("$ref").and_then(Value::as_str);
        let named = reference.and_then(|r| r.strip_prefix(REF_PREFIX)).or(named);
        let Some(schema) = resolve(self.spec, schema) else {
            let reference = reference.unwrap_or_default().to_string();
            return self.report(path, Problem::Unresolvable { reference });
        };
        if let Some(branches) = branches(schema) {
            return self.walk_any(branches, value, path, named, depth);
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            // One schema of every branch's fields: walking the branches one
            // by one would call a field of one branch unknown to the others.
            let merged = merge_all_of(self.spec, all);
            return self.walk(&merged, value, path, named, depth + 1);
        }
        let ty = schema.get("type").and_then(Value::as_str);
        if value.is_null() {
            if let Some(ty) = ty
                && schema.get("nullable") != Some(&Value::Bool(true))
            {
                let expected = ty.to_string();
                self.report(path, Problem::NotNullable { expected });
            }
            return;
        }
        if let Some(ty) = ty
            && !type_matches(ty, value)
        {
            let (expected, found) = (ty.to_string(), shape(value));
            return self.report(path, Problem::WrongType { expected, found });
        }
        match value {
            Value::Number(n) => {
                if let Some(range) = out_of_range(schema, ty, n) {
                    let found = n.clone();
                    // A number out of range is not also an unknown value.
                    return self.report(path, Problem::OutOfRange { range, found });
                }
            }
            Value::String(s) => self.length(schema, path, s.chars().count(), Unit::Characters),
            Value::Array(items) => self.length(schema, path, items.len(), Unit::Items),
            _ => {}
        }
        self.listed(schema, value, path);
        match value {
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        let len = path.len();
                        path.push_str(&format!("[{i}]"));
                        self.walk(item_schema, item, path, None, depth + 1);
                        path.truncate(len);
                    }
                }
            }
            Value::Object(map) => self.object(schema, map, path, named, depth),
            _ => {}
        }
    }

    /// A value fitting any branch is fine; otherwise one [`Problem::NoForm`]
    /// with the closest branch's findings.
    fn walk_any(
        &mut self,
        branches: &[Value],
        value: &Value,
        path: &mut String,
        named: Option<&str>,
        depth: usize,
    ) {
        let mut closest: Option<Vec<Finding>> = None;
        for branch in branches {
            let mut trial = Walker {
                spec: self.spec,
                rules: self.rules,
                found: Vec::new(),
            };
            trial.walk(branch, value, path, named, depth + 1);
            if trial.found.is_empty() {
                return;
            }
            let resolved = resolve(self.spec, branch).unwrap_or(branch);
            let same_type = resolved
                .get("type")
                .and_then(Value::as_str)
                .is_none_or(|ty| type_matches(ty, value) || value.is_null());
            if same_type && closest.as_ref().is_none_or(|c| trial.found.len() < c.len()) {
                closest = Some(trial.found);
            }
        }
        let forms = branches
            .iter()
            .filter_map(|b| resolve(self.spec, b))
            .filter_map(|b| b.get("type").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        let (found, closest) = (shape(value), closest.unwrap_or_default());
        self.report(
            path,
            Problem::NoForm {
                forms,
                found,
                closest,
            },
        );
    }

    /// `minLength`/`maxLength` or `minItems`/`maxItems`.
    fn length(&mut self, schema: &Value, path: &str, len: usize, unit: Unit) {
        let (min_key, max_key) = match unit {
            Unit::Characters => ("minLength", "maxLength"),
            Unit::Items => ("minItems", "maxItems"),
        };
        let len = len as u64;
        if let Some(min) = schema.get(min_key).and_then(Value::as_u64)
            && len < min
        {
            self.report(path, Problem::TooShort { min, len, unit });
        } else if let Some(max) = schema.get(max_key).and_then(Value::as_u64)
            && len > max
        {
            self.report(path, Problem::TooLong { max, len, unit });
        }
    }

    /// `enum`, and `x-known-values` when the rules ask.
    fn listed(&mut self, schema: &Value, value: &Value, path: &str) {
        if self.done() {
            return;
        }
        let listed = |key: &str| {
            schema
                .get(key)
                .and_then(Value::as_array)
                .filter(|list| !list.iter().any(|v| same_value(v, value)))
                .cloned()
        };
        if let Some(allowed) = listed("enum") {
            let found = value.clone();
            self.report(path, Problem::NotInEnum { allowed, found });
        }
        if self.rules.known_values
            && let Some(known) = listed("x-known-values")
        {
            let found = value.clone();
            self.report(path, Problem::NotKnown { known, found });
        }
    }

    /// Missing `required` fields, then each field: declared ones walked,
    /// `additionalProperties` followed, undeclared ones reported when the
    /// rules ask and the schema declares any.
    fn object(
        &mut self,
        schema: &Value,
        map: &Map<String, Value>,
        path: &mut String,
        named: Option<&str>,
        depth: usize,
    ) {
        for field in required(schema) {
            if !self.done() && !map.contains_key(field) {
                let len = path.len();
                push_field(path, field);
                self.report(path, Problem::MissingRequired);
                path.truncate(len);
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        for (field, item) in map {
            if self.done() {
                return;
            }
            let len = path.len();
            push_field(path, field);
            match (properties.and_then(|p| p.get(field)), additional) {
                (Some(property), _) => self.walk(property, item, path, None, depth + 1),
                (None, Some(Value::Bool(true))) => {}
                (None, Some(extra @ Value::Object(_))) => {
                    self.walk(extra, item, path, None, depth + 1);
                }
                (None, _) if self.rules.unknown_fields && properties.is_some() => {
                    let (schema, found) = (named.map(str::to_string), shape(item));
                    self.report(path, Problem::UnknownField { schema, found });
                }
                (None, _) => {}
            }
            path.truncate(len);
        }
    }
}

/// The bounds a number breaks, as `min..=max`: an integer schema's
/// [`integer_bounds`], another's `minimum`/`maximum`.
fn out_of_range(schema: &Value, ty: Option<&str>, n: &Number) -> Option<String> {
    if ty == Some("integer") {
        let (min, max) = integer_bounds(schema);
        let within = n.as_i64().is_some_and(|v| (min..=max).contains(&v));
        return (!within).then(|| format!("{min}..={max}"));
    }
    let v = n.as_f64()?;
    let min = schema.get("minimum").and_then(Value::as_f64);
    let max = schema.get("maximum").and_then(Value::as_f64);
    let outside = min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m);
    let show = |b: Option<f64>| b.map_or_else(|| "…".to_string(), |b| b.to_string());
    outside.then(|| format!("{}..={}", show(min), show(max)))
}

/// A value as a finding keeps it: scalars as they are, arrays and objects
/// empty.
fn shape(value: &Value) -> Value {
    match value {
        Value::Array(_) => Value::Array(Vec::new()),
        Value::Object(_) => Value::Object(Map::new()),
        scalar => scalar.clone(),
    }
}

/// Equality that treats 6 and 6.0 alike.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn push_field(path: &mut String, name: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(name);
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

    /// The same walk serves both: every difference for drift, the first
    /// breach (no undeclared field, no undocumented value) for validation.
    #[test]
    fn rules_choose_what_is_reported() {
        let spec = json!({"components": {"schemas": {
            "Thing": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "integer", "format": "int32"},
                "status": {"type": "integer", "x-known-values": [1, 2]},
                "name": {"type": "string", "minLength": 1},
                "open": {"type": "object", "additionalProperties": true, "properties": {}}}}
        }}});
        let schema = json!({"$ref": "#/components/schemas/Thing"});
        let value = json!({"status": 3, "name": "", "extra": [1], "open": {"any": 1}});
        let every = walk(&spec, &schema, &value, Rules::every_difference());
        let shown: Vec<(String, FindingKind)> =
            every.iter().map(|f| (f.path.clone(), f.kind())).collect();
        assert_eq!(
            shown,
            [
                ("id".to_string(), FindingKind::MissingRequired),
                ("extra".to_string(), FindingKind::UnknownField),
                ("name".to_string(), FindingKind::OutOfRange),
                ("status".to_string(), FindingKind::UnknownValue),
            ]
        );
        assert_eq!(
            every[1].problem,
            Problem::UnknownField {
                schema: Some("Thing".into()),
                found: json!([])
            }
        );
        let first = walk(
            &spec,
            &schema,
            &json!({"id": 1, "status": 3, "extra": 1}),
            Rules::first_breach(false),
        );
        assert_eq!(first, []);
        let first = walk(&spec, &schema, &value, Rules::first_breach(true));
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].to_string(), "id: required field missing");
    }

    #[test]
    fn hostile_values_and_schemas_are_findings() {
        let spec = json!({"components": {"schemas": {
            "Loop": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Loop"}}}
        }}});
        let mut deep = json!({});
        for _ in 0..200 {
            deep = json!({ "next": deep });
        }
        let found = walk(
            &spec,
            &json!({"$ref": "#/components/schemas/Loop"}),
            &deep,
            Rules::every_difference(),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].problem, Problem::TooDeep);
        let found = walk(
            &spec,
            &json!({"$ref": "#/components/schemas/Nope"}),
            &json!(1),
            Rules::every_difference(),
        );
        assert_eq!(
            found[0].to_string(),
            "(the value): the spec's #/components/schemas/Nope cannot be resolved"
        );
    }
}
