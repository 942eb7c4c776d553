//! From drift to a spec patch: owns turning the live answers a drift check
//! compared ([`crate::drift::DriftReport`]) into a copy of the spec file
//! amended with what they showed (`shiheng check --write-spec FILE`).
//!
//! The answers are walked again with the one schema walker
//! ([`crate::schema::walk`]), and each finding is traced back to the schema
//! node of the spec it is about (through `$ref`s, `allOf` and the `anyOf`
//! branch the value fits). What can be said by adding or widening is
//! written there, each with a `description` saying it was observed and
//! when:
//!
//! - a field the spec does not declare: a new property, its schema
//!   inferred from every value seen (type and `format`, `nullable: true`
//!   where a null was seen, objects with their properties, arrays with
//!   their items, an `anyOf` when several JSON types were seen);
//! - a value outside `x-known-values` or an `enum`: added to them (a
//!   widening; `spec diff` says whom a new enum value concerns);
//! - `null` where the schema is not nullable: `nullable: true`;
//! - a JSON type the schema does not allow: the schema becomes an `anyOf`
//!   of its wire forms, the spec's form first (as `PhoneNumber` and
//!   `PlatformTime` are written: the Rust type stays the first branch's,
//!   whose decoding rule accepts the others' forms), the form seen second;
//! - a required field that was absent: no longer required.
//!
//! Nothing is removed or narrowed. What cannot be said that way (a number
//! or a length out of its bounds, a spec node written in flow style) is
//! left for a person, listed in
//! [`Patch::left`]. The file is edited as `spec import --write` edits it:
//! by text, key by key, so comments and the order of everything else stay;
//! the result is read back and must be exactly the intended document.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use shiheng::operation::OperationSpec;

use crate::drift::DriftReport;
use crate::import::merge::{block_end, indent, is_blank, key_of};
use crate::import::yaml::{Yaml, emit_map};
use crate::schema::{self, Finding, MAX_DEPTH, Problem, REF_PREFIX, Rules};

/// How many values of one new field are kept to infer its schema from, and
/// how many new known values one field gets.
const MAX_SAMPLES: usize = 200;

/// One live answer, with the path of the operation that sent it.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// The operation's path (`/wecom/employee/page`): its 200 schema is the
    /// one the answer is compared with.
    pub path: &'a str,
    /// The whole answer, envelope included.
    pub body: &'a Value,
}

/// Every answer a drift check compared, in the report's order.
pub fn answers(report: &DriftReport) -> Vec<Answer<'_>> {
    report
        .operations
        .iter()
        .flat_map(|o| {
            o.answers.iter().map(|body| Answer {
                path: &o.path,
                body,
            })
        })
        .collect()
}

/// The amended spec and what was done.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Patch {
    /// The whole spec file, amended.
    pub text: String,
    /// One line per change made, naming the place in the spec.
    pub changes: Vec<String>,
    /// One line per difference not written, with the reason: for a person.
    pub left: Vec<String>,
}

impl Patch {
    /// Whether the spec was changed.
    pub fn changed(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// A spec file's text (YAML or JSON) as JSON.
pub fn parse(text: &str) -> Result<Value, String> {
    serde_yaml_ng::from_str::<Value>(text).map_err(|e| format!("the spec does not parse: {e}"))
}

/// Today's date (UTC) as `YYYY-MM-DD`, for the descriptions.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crate::dates::ymd((secs / 86_400) as i64)
}

/// The spec text `original` amended with what `answers` showed; `date`
/// (`YYYY-MM-DD`) goes in each description. `Err` when the spec does not
/// parse, or (an internal error) when the amended text would not read back
/// as the intended document: nothing is to be written then.
pub fn amend(original: &str, answers: &[Answer<'_>], date: &str) -> Result<Patch, String> {
    let spec = parse(original)?;
    let mut found = Observed::default();
    for answer in answers {
        found.answer(&spec, answer);
    }
    let mut left = found.left.clone();
    let ops = found.ops(&spec, date, &mut left);
    let mut text = original.to_string();
    let mut expected = spec.clone();
    let mut changes = Vec::new();
    for op in ops {
        match set_in_text(&text, &op) {
            Ok(edited) => {
                text = edited;
                set_in_json(&mut expected, &op);
                if !op.change.is_empty() {
                    changes.push(op.change);
                }
            }
            Err(reason) => left.push(format!("{}: {reason}", dotted(&op.node))),
        }
    }
    let read = parse(&text)
        .map_err(|e| format!("the amended spec does not parse ({e}): nothing written"))?;
    if read != expected {
        return Err(
            "the amended text does not read back as the spec plus the additions (a bug of the patch): nothing written"
                .into(),
        );
    }
    left.dedup();
    Ok(Patch {
        text,
        changes,
        left,
    })
}

/// What the answers showed, by schema node (a path of keys from the
/// document's root).
#[derive(Debug, Default)]
struct Observed {
    nodes: BTreeMap<Vec<String>, NodeAmend>,
    /// The order nodes were first met, so changes follow the answers.
    order: Vec<Vec<String>>,
    left: Vec<String>,
}

#[derive(Debug, Default)]
struct NodeAmend {
    /// New properties, in the order met, with the values seen.
    props: Vec<(String, Vec<Value>)>,
    known: Vec<Value>,
    /// Values outside the node's `enum`.
    enumerated: Vec<Value>,
    nullable: bool,
    /// Other JSON types seen, with their values.
    forms: Vec<(&'static str, Vec<Value>)>,
    unrequired: Vec<String>,
}

impl Observed {
    fn node(&mut self, ptr: Vec<String>) -> &mut NodeAmend {
        if !self.nodes.contains_key(&ptr) {
            self.order.push(ptr.clone());
        }
        self.nodes.entry(ptr).or_default()
    }

    fn answer(&mut self, spec: &Value, answer: &Answer<'_>) {
        let Some(root) = root_of(spec, answer.path) else {
            self.left.push(format!(
                "{}: the spec gives no 200 schema for this path",
                answer.path
            ));
            return;
        };
        let schema = spec
            .pointer(&pointer(&root))
            .cloned()
            .unwrap_or(Value::Null);
        let findings = schema::walk(spec, &schema, answer.body, Rules::every_difference());
        let mut flat = Vec::new();
        crate::drift::visit(&findings, &mut |f: &Finding| flat.push(f.clone()));
        for finding in flat {
            self.finding(spec, &root, answer.body, &finding);
        }
    }

    fn finding(&mut self, spec: &Value, root: &[String], body: &Value, finding: &Finding) {
        let tokens = tokens(&finding.path);
        let value = value_at(body, &tokens).cloned().unwrap_or(Value::Null);
        let place = if finding.path.is_empty() {
            "(the whole answer)"
        } else {
            &finding.path
        };
        let not_found = || format!("{place}: its place in the spec could not be found");
        match &finding.problem {
            Problem::UnknownField { .. } | Problem::MissingRequired => {
                let Some((Token::Field(name), parent)) = tokens.split_last() else {
                    return self.left.push(not_found());
                };
                let Some(ptr) = locate(spec, root, body, parent)
                    .and_then(|p| object_node(spec, p, body, parent))
                else {
                    return self.left.push(not_found());
                };
                let node = self.node(ptr);
                if matches!(finding.problem, Problem::MissingRequired) {
                    if !node.unrequired.contains(name) {
                        node.unrequired.push(name.clone());
                    }
                    return;
                }
                match node.props.iter_mut().find(|(n, _)| n == name) {
                    Some((_, samples)) if samples.len() < MAX_SAMPLES => samples.push(value),
                    Some(_) => {}
                    None => node.props.push((name.clone(), vec![value])),
                }
            }
            Problem::NotKnown { found, .. } => {
                let Some(ptr) = locate(spec, root, body, &tokens) else {
                    return self.left.push(not_found());
                };
                let node = self.node(ptr);
                if !node.known.contains(found) && node.known.len() < MAX_SAMPLES {
                    node.known.push(found.clone());
                }
            }
            Problem::NotInEnum { found, .. } => {
                let Some(ptr) = locate(spec, root, body, &tokens) else {
                    return self.left.push(not_found());
                };
                let node = self.node(ptr);
                if !node.enumerated.contains(found) && node.enumerated.len() < MAX_SAMPLES {
                    node.enumerated.push(found.clone());
                }
            }
            Problem::NotNullable { .. } => {
                let Some(ptr) = locate(spec, root, body, &tokens) else {
                    return self.left.push(not_found());
                };
                self.node(ptr).nullable = true;
            }
            Problem::WrongType { .. } | Problem::NoForm { .. } => {
                let Some(ptr) = locate(spec, root, body, &tokens) else {
                    return self.left.push(not_found());
                };
                let ty = schema::json_type(&value);
                let node = self.node(ptr);
                match node.forms.iter_mut().find(|(t, _)| *t == ty) {
                    Some((_, samples)) if samples.len() < MAX_SAMPLES => samples.push(value),
                    Some(_) => {}
                    None => node.forms.push((ty, vec![value])),
                }
            }
            other => self.left.push(format!(
                "{place}: {other}: not an addition or a widening of the spec; edit it by hand if the platform really sends this"
            )),
        }
    }

    /// The edits, node by node in the order met.
    fn ops(&self, spec: &Value, date: &str, left: &mut Vec<String>) -> Vec<Op> {
        let note = format!("Observed by `shiheng check` on {date}");
        let mut ops = Vec::new();
        for ptr in &self.order {
            let amend = &self.nodes[ptr];
            let Some(node) = spec.pointer(&pointer(ptr)).and_then(Value::as_object) else {
                continue;
            };
            let at = dotted(ptr);
            let mut notes = Vec::new();
            if !amend.forms.is_empty() {
                match wire_forms(node, amend, &note) {
                    Some(new) if !ptr.is_empty() => {
                        let forms: Vec<&str> = amend.forms.iter().map(|(t, _)| *t).collect();
                        ops.push(Op {
                            node: ptr[..ptr.len() - 1].to_vec(),
                            key: ptr[ptr.len() - 1].clone(),
                            value: Some(new),
                            change: format!(
                                "{at}: also sent as a JSON {}: an anyOf of its wire forms now, the spec's first",
                                forms.join(" and a JSON ")
                            ),
                        });
                    }
                    _ => left.push(format!(
                        "{at}: sent as {} where the spec has no type to add a wire form beside",
                        amend.forms[0].0
                    )),
                }
                // The wire forms' node carries the rest of what was seen.
                continue;
            }
            if !amend.props.is_empty() {
                let described = format!("{note}: sent by the platform, not in its documentation.");
                let new: Vec<(String, Value)> = amend
                    .props
                    .iter()
                    .map(|(name, samples)| {
                        (name.clone(), infer(samples, Some(&described), name, 0))
                    })
                    .collect();
                match node.get("properties").and_then(Value::as_object) {
                    Some(_) => {
                        for (name, schema) in new {
                            let mut prop = ptr.clone();
                            prop.push("properties".into());
                            ops.push(Op {
                                change: format!(
                                    "{at}.properties.{name}: new field ({})",
                                    summary(&schema)
                                ),
                                node: prop,
                                key: name,
                                value: Some(schema),
                            });
                        }
                    }
                    None => {
                        let names: Vec<String> = new.iter().map(|(n, _)| n.clone()).collect();
                        ops.push(Op {
                            node: ptr.clone(),
                            key: "properties".into(),
                            value: Some(Value::Object(new.into_iter().collect())),
                            change: format!("{at}.properties: new fields {}", names.join(", ")),
                        });
                    }
                }
            }
            for (key, added, now) in [
                ("x-known-values", &amend.known, "now a known value"),
                ("enum", &amend.enumerated, "added to the enum"),
            ] {
                if let Some((note, op)) = values_added(node, ptr, &at, key, added, now) {
                    notes.push(note);
                    ops.push(op);
                }
            }
            if amend.nullable {
                if node.get("type").is_some() {
                    notes.push("null".into());
                    ops.push(Op {
                        node: ptr.clone(),
                        key: "nullable".into(),
                        value: Some(Value::Bool(true)),
                        change: format!("{at}: nullable"),
                    });
                } else if let Some(branches) = node.get("anyOf").and_then(Value::as_array) {
                    notes.push("null".into());
                    for (i, branch) in branches.iter().enumerate() {
                        if branch.get("type").is_some() {
                            let mut at = ptr.clone();
                            at.extend(["anyOf".to_string(), i.to_string()]);
                            ops.push(Op {
                                node: at,
                                key: "nullable".into(),
                                value: Some(Value::Bool(true)),
                                change: format!("{}.anyOf.{i}: nullable", dotted(ptr)),
                            });
                        }
                    }
                    ops.push(Op {
                        node: ptr.clone(),
                        key: "x-nullable".into(),
                        value: Some(Value::Bool(true)),
                        change: format!("{at}: x-nullable"),
                    });
                } else {
                    left.push(format!(
                        "{at}: null was sent, and the schema has no type to say nullable beside"
                    ));
                }
            }
            if !amend.unrequired.is_empty() {
                let rest: Vec<Value> = schema::required(&Value::Object(node.clone()))
                    .filter(|r| !amend.unrequired.iter().any(|u| u == r))
                    .map(|r| json!(r))
                    .collect();
                let names: Vec<String> =
                    amend.unrequired.iter().map(|n| format!("`{n}`")).collect();
                notes.push(format!(
                    "an answer without {}, no longer required",
                    names.join(", ")
                ));
                ops.push(Op {
                    node: ptr.clone(),
                    key: "required".into(),
                    value: (!rest.is_empty()).then_some(Value::Array(rest)),
                    change: format!("{at}.required: {} no longer required", names.join(", ")),
                });
            }
            if !notes.is_empty() {
                let line = format!("{note}: {}.", notes.join("; "));
                ops.push(Op {
                    node: ptr.clone(),
                    key: "description".into(),
                    value: Some(json!(described(node.get("description"), &line))),
                    // Part of the changes above, not one of its own.
                    change: String::new(),
                });
            }
        }
        ops
    }
}

/// A description with `line` added after what it said.
fn described(old: Option<&Value>, line: &str) -> String {
    match old.and_then(Value::as_str).map(str::trim_end) {
        Some(old) if old.contains('\n') => format!("{old}\n\n{line}"),
        Some(old) if !old.is_empty() => format!("{old} {line}"),
        _ => line.to_string(),
    }
}

/// The node rewritten as an `anyOf` of its wire forms: what it said first
/// (its details in that branch), then each form seen; the description,
/// example and Rust type stay beside the `anyOf`.
fn wire_forms(node: &Map<String, Value>, amend: &NodeAmend, note: &str) -> Option<Value> {
    let nullable = amend.nullable
        || node.get("nullable") == Some(&Value::Bool(true))
        || node.get("x-nullable") == Some(&Value::Bool(true));
    let shown: Vec<&str> = amend.forms.iter().map(|(t, _)| *t).collect();
    let line = format!(
        "{note}: also sent as a JSON {}; the spec's form comes first.",
        shown.join(" and a JSON ")
    );
    let mut top = Map::new();
    top.insert(
        "description".into(),
        json!(described(node.get("description"), &line)),
    );
    if nullable {
        top.insert("x-nullable".into(), json!(true));
    }
    let mut branches: Vec<Value> = match node.get("anyOf").or_else(|| node.get("oneOf")) {
        Some(Value::Array(existing)) => existing.clone(),
        Some(_) => return None,
        None => {
            node.get("type")?;
            let mut first = Map::new();
            for (k, v) in node {
                if !matches!(
                    k.as_str(),
                    "description" | "example" | "x-shiheng-type" | "x-nullable"
                ) {
                    first.insert(k.clone(), v.clone());
                }
            }
            if nullable {
                first.insert("nullable".into(), json!(true));
            }
            if !amend.known.is_empty() {
                let mut known = first
                    .get("x-known-values")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                known.extend(amend.known.iter().cloned());
                first.insert("x-known-values".into(), Value::Array(known));
            }
            if !amend.enumerated.is_empty() {
                let mut listed = first
                    .get("enum")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                listed.extend(amend.enumerated.iter().cloned());
                first.insert("enum".into(), Value::Array(listed));
            }
            vec![Value::Object(first)]
        }
    };
    for (_, samples) in &amend.forms {
        let mut branch = infer(samples, None, "", 0);
        if nullable && let Value::Object(b) = &mut branch {
            b.insert("nullable".into(), json!(true));
        }
        branches.push(branch);
    }
    let key = if node.contains_key("oneOf") {
        "oneOf"
    } else {
        "anyOf"
    };
    for (k, v) in node {
        match k.as_str() {
            "description" | "x-nullable" | "anyOf" | "oneOf" => {}
            "x-shiheng-type" | "example" => {
                top.insert(k.clone(), v.clone());
            }
            _ if node.contains_key(key) => {
                top.insert(k.clone(), v.clone());
            }
            _ => {}
        }
    }
    top.insert(key.into(), Value::Array(branches));
    Some(Value::Object(top))
}

/// The schema of a field from the values seen: their JSON types (integer
/// and number seen together: number), `nullable` where a null was, the
/// properties of objects and the items of arrays (inferred the same way),
/// an `anyOf` of the forms when several were seen. `description` on the
/// top; the properties of an object inside the field `name` say so; items
/// have none.
fn infer(samples: &[Value], description: Option<&str>, name: &str, depth: usize) -> Value {
    let mut forms: Vec<&'static str> = Vec::new();
    let mut nullable = false;
    for sample in samples {
        let ty = schema::json_type(sample);
        if ty == "null" {
            nullable = true;
        } else if !forms.contains(&ty) {
            forms.push(ty);
        }
    }
    if forms.contains(&"integer") && forms.contains(&"number") {
        forms.retain(|f| *f != "integer");
    }
    let one = |ty: &str| -> Map<String, Value> {
        let mut s = Map::new();
        s.insert("type".into(), json!(ty));
        match ty {
            "integer" => {
                s.insert("format".into(), json!("int64"));
            }
            "number" => {
                s.insert("format".into(), json!("double"));
            }
            _ => {}
        }
        if nullable {
            s.insert("nullable".into(), json!(true));
        }
        if depth >= MAX_DEPTH {
            return s;
        }
        match ty {
            "array" => {
                let items: Vec<Value> = samples
                    .iter()
                    .filter_map(Value::as_array)
                    .flatten()
                    .take(MAX_SAMPLES)
                    .cloned()
                    .collect();
                let schema = if items.is_empty() {
                    json!({})
                } else {
                    infer(&items, None, name, depth + 1)
                };
                s.insert("items".into(), schema);
            }
            "object" => {
                let mut fields: Vec<(String, Vec<Value>)> = Vec::new();
                for map in samples.iter().filter_map(Value::as_object) {
                    for (k, v) in map {
                        match fields.iter_mut().find(|(n, _)| n == k) {
                            Some((_, vs)) if vs.len() < MAX_SAMPLES => vs.push(v.clone()),
                            Some(_) => {}
                            None => fields.push((k.clone(), vec![v.clone()])),
                        }
                    }
                }
                if !fields.is_empty() {
                    let nested = if name.is_empty() {
                        "Seen inside this value.".to_string()
                    } else {
                        format!("Seen inside `{name}`.")
                    };
                    let properties: Map<String, Value> = fields
                        .iter()
                        .map(|(k, vs)| (k.clone(), infer(vs, Some(&nested), k, depth + 1)))
                        .collect();
                    s.insert("properties".into(), Value::Object(properties));
                }
            }
            _ => {}
        }
        s
    };
    let mut out = match forms.as_slice() {
        [] => Map::new(),
        [ty] => one(ty),
        many => {
            let mut s = Map::new();
            if nullable {
                s.insert("x-nullable".into(), json!(true));
            }
            let branches: Vec<Value> = many.iter().map(|ty| Value::Object(one(ty))).collect();
            s.insert("anyOf".into(), Value::Array(branches));
            s
        }
    };
    let text = match (description, forms.is_empty()) {
        (Some(d), true) => Some(format!(
            "{d} Only null was seen: its type is not known yet."
        )),
        (Some(d), false) => Some(d.to_string()),
        (None, true) => Some("Only null was seen: its type is not known yet.".to_string()),
        (None, false) => None,
    };
    if let Some(text) = text {
        out.insert("description".into(), json!(text));
    }
    Value::Object(out)
}

/// `type (format)` of an inferred schema, for the report.
fn summary(schema: &Value) -> String {
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
        let forms: Vec<String> = branches.iter().map(summary).collect();
        return format!("one of {}", forms.join(", "));
    }
    let mut text = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("any value")
        .to_string();
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        text.push_str(&format!(" ({format})"));
    }
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        text.push_str(", nullable");
    }
    text
}

// ---- where a finding is in the spec ------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Field(String),
    Index(usize),
}

/// `result.result[3].phone` → result, result, [3], phone.
fn tokens(path: &str) -> Vec<Token> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            out.push(Token::Field(name.to_string()));
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let Some(end) = stripped.find(']') else {
                break;
            };
            if let Ok(i) = stripped[..end].parse() {
                out.push(Token::Index(i));
            }
            rest = &stripped[end + 1..];
        }
    }
    out
}

fn value_at<'v>(value: &'v Value, tokens: &[Token]) -> Option<&'v Value> {
    tokens.iter().try_fold(value, |v, t| match t {
        Token::Field(f) => v.get(f),
        Token::Index(i) => v.get(i),
    })
}

/// The pointer of the 200 schema of the operation at `path`: the one its
/// `post` gives, else the SDK table's component for that path.
fn root_of(spec: &Value, path: &str) -> Option<Vec<String>> {
    let given: Vec<String> = [
        "paths",
        path,
        "post",
        "responses",
        "200",
        "content",
        "application/json",
        "schema",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if spec.pointer(&pointer(&given)).is_some() {
        return Some(given);
    }
    let op = OperationSpec::all().iter().find(|op| op.path == path)?;
    let named = vec![
        "components".to_string(),
        "schemas".to_string(),
        op.response_schema.to_string(),
    ];
    spec.pointer(&pointer(&named)).map(|_| named)
}

/// The schema node the value at `tokens` is checked against.
fn locate(spec: &Value, root: &[String], body: &Value, tokens: &[Token]) -> Option<Vec<String>> {
    let mut ptr = follow(spec, root.to_vec(), body)?;
    let mut value = body;
    for token in tokens {
        ptr = child(spec, &ptr, token, value)?;
        value = match token {
            Token::Field(f) => value.get(f)?,
            Token::Index(i) => value.get(i)?,
        };
        ptr = follow(spec, ptr, value)?;
    }
    Some(ptr)
}

/// `$ref`s followed, and the `anyOf`/`oneOf` branch `value` fits (its
/// type's, else the first).
fn follow(spec: &Value, mut ptr: Vec<String>, value: &Value) -> Option<Vec<String>> {
    for _ in 0..MAX_DEPTH {
        let node = spec.pointer(&pointer(&ptr))?;
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let name = reference.strip_prefix(REF_PREFIX)?;
            ptr = vec!["components".into(), "schemas".into(), name.to_string()];
            continue;
        }
        let key = ["anyOf", "oneOf"]
            .into_iter()
            .find(|k| node.get(k).is_some_and(Value::is_array));
        let Some(key) = key else {
            return Some(ptr);
        };
        let branches = node[key].as_array()?;
        let fits = |b: &Value| {
            schema::resolve(spec, b)
                .and_then(|b| b.get("type"))
                .and_then(Value::as_str)
                .is_some_and(|ty| schema::type_matches(ty, value))
        };
        // A value no branch types (null included) is the `anyOf` node's
        // own business.
        let Some(index) = branches.iter().position(fits) else {
            return Some(ptr);
        };
        ptr.push(key.into());
        ptr.push(index.to_string());
    }
    None
}

/// The node of the field or item `token` inside the (followed) node.
fn child(spec: &Value, ptr: &[String], token: &Token, value: &Value) -> Option<Vec<String>> {
    let node = spec.pointer(&pointer(ptr))?;
    let mut out = ptr.to_vec();
    match token {
        Token::Index(_) => {
            node.get("items")?;
            out.push("items".into());
            Some(out)
        }
        Token::Field(name) => {
            if node.get("properties").and_then(|p| p.get(name)).is_some() {
                out.extend(["properties".to_string(), name.clone()]);
                return Some(out);
            }
            if let Some(all) = node.get("allOf").and_then(Value::as_array) {
                for i in 0..all.len() {
                    let mut branch = ptr.to_vec();
                    branch.extend(["allOf".to_string(), i.to_string()]);
                    let branch = follow(spec, branch, value)?;
                    if let Some(found) = child(spec, &branch, token, value) {
                        return Some(found);
                    }
                }
            }
            if node
                .get("additionalProperties")
                .is_some_and(Value::is_object)
            {
                out.push("additionalProperties".into());
                return Some(out);
            }
            None
        }
    }
}

/// The object node that declares the fields of the (followed) node: the
/// node itself, or the last branch of its `allOf` that has properties.
fn object_node(
    spec: &Value,
    ptr: Vec<String>,
    body: &Value,
    tokens: &[Token],
) -> Option<Vec<String>> {
    let node = spec.pointer(&pointer(&ptr))?;
    let Some(all) = node.get("allOf").and_then(Value::as_array) else {
        return Some(ptr);
    };
    let value = value_at(body, tokens)?;
    (0..all.len()).rev().find_map(|i| {
        let mut branch = ptr.clone();
        branch.extend(["allOf".to_string(), i.to_string()]);
        let branch = follow(spec, branch, value)?;
        spec.pointer(&pointer(&branch))?
            .get("properties")
            .map(|_| branch)
    })
}

fn pointer(ptr: &[String]) -> String {
    ptr.iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

fn dotted(ptr: &[String]) -> String {
    ptr.join(".")
}

// ---- editing the text ----------------------------------------------------------

/// Set (or, with `None`, remove) `key` of the mapping at `node`.
#[derive(Debug, Clone)]
struct Op {
    node: Vec<String>,
    key: String,
    value: Option<Value>,
    change: String,
}

/// The list `key` of `node` (`x-known-values`, `enum`) with `added`
/// appended, and the description's note about it; `None` when nothing was
/// added.
fn values_added(
    node: &serde_json::Map<String, Value>,
    ptr: &[String],
    at: &str,
    key: &str,
    added: &[Value],
    now: &str,
) -> Option<(String, Op)> {
    if added.is_empty() {
        return None;
    }
    let mut listed = node
        .get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    listed.extend(added.iter().cloned());
    let shown: Vec<String> = added.iter().map(Value::to_string).collect();
    let shown = shown.join(", ");
    Some((
        format!("the value {shown} ({now})"),
        Op {
            node: ptr.to_vec(),
            key: key.into(),
            value: Some(Value::Array(listed)),
            change: format!("{at}.{key}: {shown} added"),
        },
    ))
}

fn set_in_json(doc: &mut Value, op: &Op) {
    let Some(Value::Object(map)) = doc.pointer_mut(&pointer(&op.node)) else {
        return;
    };
    match &op.value {
        Some(value) => {
            map.insert(op.key.clone(), value.clone());
        }
        None => {
            map.remove(&op.key);
        }
    }
}

/// A block of mapping lines: `start..end`, keys at `indent`; `dash`: the
/// line whose key follows a sequence's `- `.
#[derive(Debug, Clone, Copy)]
struct Block {
    start: usize,
    end: usize,
    indent: usize,
    dash: Option<usize>,
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

fn key_at(lines: &[&str], i: usize, block: &Block) -> Option<String> {
    if block.dash == Some(i) {
        let line = lines[i].replacen("- ", "  ", 1);
        return (indent(&line) == block.indent)
            .then(|| key_of(&line))
            .flatten();
    }
    (indent(lines[i]) == block.indent)
        .then(|| key_of(lines[i]))
        .flatten()
}

fn find(lines: &[&str], block: &Block, key: &str) -> Option<usize> {
    (block.start..block.end).find(|&i| key_at(lines, i, block).as_deref() == Some(key))
}

/// The block of `segment` inside `block`: a key's value block, or a
/// sequence item's.
fn enter(lines: &[&str], block: &Block, segment: &str) -> Result<Block, String> {
    let first = (block.start..block.end)
        .find(|&i| !is_blank(lines[i]) && !is_comment(lines[i]) && block.dash != Some(i))
        .filter(|&i| lines[i].trim_start().starts_with('-'));
    if let Some(first) = first
        && key_at(lines, first, block).is_none()
    {
        let at = indent(lines[first]);
        let index: usize = segment
            .parse()
            .map_err(|_| format!("`{segment}` is not an item number"))?;
        let dashes: Vec<usize> = (block.start..block.end)
            .filter(|&i| indent(lines[i]) == at && lines[i].trim_start().starts_with("- "))
            .collect();
        let start = *dashes
            .get(index)
            .ok_or_else(|| format!("item {index} is not written as a block"))?;
        let mut end = dashes.get(index + 1).copied().unwrap_or(block.end);
        while end > start + 1 && is_blank(lines[end - 1]) {
            end -= 1;
        }
        return Ok(Block {
            start,
            end,
            indent: at + 2,
            dash: Some(start),
        });
    }
    let line = find(lines, block, segment).ok_or_else(|| format!("`{segment}` not found"))?;
    let text = if block.dash == Some(line) {
        lines[line].replacen("- ", "  ", 1)
    } else {
        lines[line].to_string()
    };
    let after = text.trim().split_once(':').map_or("", |(_, v)| v).trim();
    // A quoted key's colon: what follows the last `':` or `":` matters.
    let after = match text.trim().rsplit_once(['\'', '"']) {
        Some((_, rest)) if text.trim().starts_with(['\'', '"']) => {
            rest.trim_start_matches(':').trim()
        }
        _ => after,
    };
    if !after.is_empty() && !after.starts_with('#') {
        return Err(format!(
            "`{segment}` is written in flow style on one line; edit it by hand"
        ));
    }
    let end = block_end(lines, line, block.indent, block.end);
    let child = (line + 1..end)
        .find(|&i| !is_blank(lines[i]) && !is_comment(lines[i]))
        .ok_or_else(|| format!("`{segment}` is empty"))?;
    Ok(Block {
        start: line + 1,
        end,
        indent: indent(lines[child]),
        dash: None,
    })
}

fn set_in_text(text: &str, op: &Op) -> Result<String, String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut block = Block {
        start: 0,
        end: lines.len(),
        indent: 0,
        dash: None,
    };
    for segment in &op.node {
        block = enter(&lines, &block, segment)?;
    }
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut emitted = String::new();
    if let Some(value) = &op.value {
        emit_value(&op.key, value, block.indent, &mut emitted);
    }
    let (start, end) = match find(&lines, &block, &op.key) {
        Some(line) => {
            if block.dash == Some(line) {
                if op.value.is_none() {
                    return Err(format!("`{}` opens a sequence item", op.key));
                }
                let pad = " ".repeat(block.indent - 2);
                emitted = format!("{pad}- {}", &emitted[block.indent..]);
            }
            (line, block_end(&lines, line, block.indent, block.end))
        }
        None if op.value.is_none() => return Ok(text.to_string()),
        None => {
            let mut end = block.end;
            while end > block.start && is_blank(lines[end - 1]) {
                end -= 1;
            }
            (end, end)
        }
    };
    if newline != "\n" {
        emitted = emitted.replace('\n', newline);
    }
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    if start == out.len()
        && let Some(last) = out.last_mut()
        && !last.ends_with('\n')
    {
        last.push_str(newline);
    }
    out.splice(start..end, [emitted]);
    Ok(out.concat())
}

/// `key: value` at `indent` in the spec's style; a description of several
/// lines as a literal block (`|-`), as the spec writes them.
fn emit_value(key: &str, value: &Value, indent: usize, out: &mut String) {
    if let Value::String(text) = value
        && text.contains('\n')
        && text
            .lines()
            .all(|l| !l.ends_with(' ') && !l.chars().any(char::is_control))
        && !text.starts_with([' ', '\n'])
    {
        let pad = " ".repeat(indent);
        out.push_str(&format!("{pad}{key}: |-\n"));
        for line in text.lines() {
            if line.is_empty() {
                out.push('\n');
            } else {
                out.push_str(&format!("{pad}  {line}\n"));
            }
        }
        return;
    }
    let yaml = if key == "properties" {
        properties_yaml(value)
    } else {
        schema_yaml(value)
    };
    emit_map(&[(key.to_string(), yaml)], indent, out);
}

/// The order of a schema's keys, as the spec writes them; others follow.
const KEY_ORDER: &[&str] = &[
    "$ref",
    "type",
    "format",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "nullable",
    "description",
    "x-nullable",
    "x-shiheng-type",
    "anyOf",
    "oneOf",
    "allOf",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "enum",
    "example",
    "x-known-values",
];

/// A schema as YAML, its keys in the spec's order (the parsed document
/// keeps no order of its own), nested schemas alike.
fn schema_yaml(value: &Value) -> Yaml {
    let Value::Object(map) = value else {
        return Yaml::from_json(value);
    };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by_key(|k| {
        KEY_ORDER
            .iter()
            .position(|o| o == k)
            .unwrap_or(KEY_ORDER.len())
    });
    Yaml::Map(
        keys.into_iter()
            .map(|k| {
                let v = &map[k];
                let yaml = match (k.as_str(), v) {
                    ("properties", _) => properties_yaml(v),
                    ("anyOf" | "oneOf" | "allOf", Value::Array(items)) => {
                        Yaml::Seq(items.iter().map(schema_yaml).collect())
                    }
                    ("items" | "additionalProperties", Value::Object(_)) => schema_yaml(v),
                    _ => Yaml::from_json(v),
                };
                (k.clone(), yaml)
            })
            .collect(),
    )
}

/// A `properties` mapping: each field's schema in the spec's order.
fn properties_yaml(value: &Value) -> Yaml {
    match value {
        Value::Object(map) => Yaml::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), schema_yaml(v)))
                .collect(),
        ),
        other => Yaml::from_json(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "\
openapi: 3.0.3
# a comment kept
paths:
  /things:
    post:
      operationId: listThings
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/ThingsResponse'
components:
  schemas:
    ThingsResponse:
      type: object
      required: [code]
      properties:
        code:
          type: string
        result:
          type: array
          items:
            $ref: '#/components/schemas/Thing'
    Thing:
      type: object
      description: A thing.  # trailing comment
      properties:
        id:
          type: integer
          format: int64
        status:
          type: integer
          format: int32
          description: |-
            Status.

            Documented values only.
          x-known-values: [0, 1]
        name:
          type: string
        kind:
          type: string
          enum: [a, b]
        count:
          type: integer
          format: int32
          nullable: true
          description: How many.
    # ---- the end
";

    fn patch(answers: &[Value]) -> Patch {
        let answers: Vec<Answer<'_>> = answers
            .iter()
            .map(|body| Answer {
                path: "/things",
                body,
            })
            .collect();
        amend(SPEC, &answers, "2026-12-02").expect("amended")
    }

    #[test]
    fn every_kind_is_added_and_the_rest_kept() {
        let answer = json!({"code": "0", "result": [
            {"id": 1, "status": 7, "name": 42, "count": "3", "extra": null,
             "detail": {"level": 2, "tags": ["a"], "owner": {"id": 9}, "note": null},
             "list": [{"k": 1.5}, {"k": 2}]},
            {"id": 2, "status": 0, "name": "x", "count": null, "extra": "now text", "detail": null,
             "kind": "c"}
        ]});
        let patched = patch(std::slice::from_ref(&answer));
        assert!(patched.left.is_empty(), "{:?}", patched.left);
        let text = &patched.text;
        assert!(
            text.starts_with("openapi: 3.0.3\n# a comment kept\n"),
            "{text}"
        );
        assert!(
            text.contains("description: A thing.  # trailing comment\n"),
            "{text}"
        );
        assert!(text.ends_with("    # ---- the end\n"), "{text}");
        let doc = parse(text).unwrap();
        let thing = &doc["components"]["schemas"]["Thing"];
        assert_eq!(
            thing["properties"]["status"]["x-known-values"],
            json!([0, 1, 7])
        );
        assert!(
            thing["properties"]["status"]["description"]
                .as_str()
                .unwrap()
                .ends_with("\n\nObserved by `shiheng check` on 2026-12-02: the value 7 (now a known value).")
        );
        assert_eq!(thing["properties"]["kind"]["enum"], json!(["a", "b", "c"]));
        let name = &thing["properties"]["name"];
        assert_eq!(
            name["anyOf"],
            json!([{"type": "string"}, {"type": "integer", "format": "int64"}])
        );
        let count = &thing["properties"]["count"];
        assert_eq!(count["x-nullable"], json!(true));
        assert_eq!(
            count["anyOf"][1],
            json!({"type": "string", "nullable": true})
        );
        assert_eq!(count["anyOf"][0]["type"], json!("integer"));
        let extra = &thing["properties"]["extra"];
        assert_eq!(extra["type"], json!("string"));
        assert_eq!(extra["nullable"], json!(true));
        assert!(
            extra["description"]
                .as_str()
                .unwrap()
                .contains("2026-12-02")
        );
        let detail = &thing["properties"]["detail"];
        assert_eq!(detail["type"], json!("object"));
        assert_eq!(detail["nullable"], json!(true));
        assert_eq!(
            detail["properties"]["tags"]["items"],
            json!({"type": "string"})
        );
        assert_eq!(
            detail["properties"]["owner"]["properties"]["id"]["format"],
            json!("int64")
        );
        assert!(detail["properties"]["note"].get("type").is_none());
        assert_eq!(
            thing["properties"]["list"]["items"]["properties"]["k"],
            json!({"type": "number", "format": "double", "description": "Seen inside `list`."})
        );
        // Nothing else of the document moved.
        let mut before = parse(SPEC).unwrap();
        before["components"]["schemas"]["Thing"] = thing.clone();
        assert_eq!(before, doc);
        // The walker finds nothing left in the same answer.
        let schema = json!({"$ref": "#/components/schemas/ThingsResponse"});
        let rest = schema::walk(&doc, &schema, &answer, Rules::every_difference());
        assert_eq!(rest, []);
    }

    #[test]
    fn a_missing_required_field_is_no_longer_required() {
        let patched = patch(&[json!({"result": []})]);
        let doc = parse(&patched.text).unwrap();
        let response = &doc["components"]["schemas"]["ThingsResponse"];
        assert!(response.get("required").is_none(), "{}", patched.text);
        assert!(
            response["description"]
                .as_str()
                .unwrap()
                .contains("without `code`")
        );
        assert_eq!(
            patched.changes,
            ["components.schemas.ThingsResponse.required: `code` no longer required"]
        );
        assert!(
            patched
                .text
                .contains("    ThingsResponse:\n      type: object\n      properties:\n"),
            "{}",
            patched.text
        );
    }

    #[test]
    fn what_is_not_a_widening_is_left() {
        let spec = SPEC.replace(
            "name:\n          type: string",
            "name:\n          type: string\n          maxLength: 2",
        );
        let body = json!({"code": "0", "result": [{"name": "longer"}]});
        let patched = amend(
            &spec,
            &[Answer {
                path: "/things",
                body: &body,
            }],
            "2026-12-02",
        )
        .unwrap();
        assert_eq!(patched.text, spec);
        assert_eq!(patched.left.len(), 1, "{:?}", patched.left);
        assert!(
            patched.left[0].starts_with("result[0].name:"),
            "{:?}",
            patched.left
        );
    }

    #[test]
    fn no_drift_no_change_and_crlf_stays() {
        let crlf = SPEC.replace('\n', "\r\n");
        let body = json!({"code": "0", "result": [{"id": 1, "extra": true}]});
        let patched = amend(
            &crlf,
            &[Answer {
                path: "/things",
                body: &body,
            }],
            "2026-12-02",
        )
        .unwrap();
        assert!(!patched.text.replace("\r\n", "").contains('\n'));
        let body = json!({"code": "0", "result": [{"id": 1}]});
        let patched = amend(
            SPEC,
            &[Answer {
                path: "/things",
                body: &body,
            }],
            "2026-12-02",
        )
        .unwrap();
        assert!(!patched.changed());
        assert_eq!(patched.text, SPEC);
    }

    #[test]
    fn hostile_names_and_flow_style_do_not_break_the_file() {
        let body = json!({"code": "0", "result": [{
            "on": 1, "key: value": "x", "#hash": true, "line\nbreak": "y",
            "quote'd": [], "dotted.name": 2, "br[0]": 3
        }]});
        let patched = amend(
            SPEC,
            &[Answer {
                path: "/things",
                body: &body,
            }],
            "2026-12-02",
        )
        .expect("amended");
        let doc = parse(&patched.text).expect("it reads back");
        let props = &doc["components"]["schemas"]["Thing"]["properties"];
        for name in ["on", "key: value", "#hash", "line\nbreak", "quote'd"] {
            assert!(
                props.get(name).is_some(),
                "{name} not added:\n{}",
                patched.text
            );
        }
        assert_eq!(props["quote'd"]["items"], json!({}));
        // Names a finding's path cannot carry are left, not guessed.
        assert!(
            patched.left.iter().any(|l| l.contains("dotted.name")),
            "{:?}",
            patched.left
        );

        let flow = SPEC.replace(
            "    Thing:\n      type: object\n      description: A thing.  # trailing comment\n      properties:\n",
            "    Thing:\n      type: object\n      description: A thing.  # trailing comment\n      properties: {id: {type: integer}}\n      x-old:\n",
        );
        let body = json!({"code": "0", "result": [{"id": 1, "extra": 1}]});
        let patched = amend(
            &flow,
            &[Answer {
                path: "/things",
                body: &body,
            }],
            "2026-12-02",
        )
        .expect("amended");
        assert_eq!(patched.text, flow);
        assert!(patched.left[0].contains("flow style"), "{:?}", patched.left);
        // Not a spec, or an answer for a path the spec does not have.
        assert!(amend("openapi: [", &[], "2026-12-02").is_err());
        let patched = amend(
            SPEC,
            &[Answer {
                path: "/nope",
                body: &body,
            }],
            "2026-12-02",
        )
        .expect("amended");
        assert!(!patched.changed());
        assert!(patched.left[0].contains("/nope"), "{:?}", patched.left);
    }

    #[test]
    fn dates_and_paths() {
        assert_eq!(crate::dates::ymd(0), "1970-01-01");
        assert_eq!(crate::dates::ymd(20_424), "2025-12-02");
        assert_eq!(
            tokens("result.result[3].phone"),
            [
                Token::Field("result".into()),
                Token::Field("result".into()),
                Token::Index(3),
                Token::Field("phone".into())
            ]
        );
    }
}
