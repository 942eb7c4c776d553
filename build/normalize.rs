//! One normalisation pass over an OpenAPI 3.0 document, before anything
//! else reads it: every valid way of writing the platform's schemas becomes
//! the one form the generator, the operation table, the sandbox, the CLI and
//! the drift check read (named components, one `$ref` deep).
//!
//! - `$ref` chains: a component that is only a `$ref` to another is an
//!   alias; every reference to it points at the end of the chain instead,
//!   and the alias is dropped (one Rust type per schema, not a newtype each).
//! - `allOf` of object schemas: merged into one object schema (properties in
//!   order, a later branch's property replacing an earlier one of the same
//!   name; `required` united; the keys beside `allOf` kept). `allOf` of one
//!   schema that is not an object (the idiom for a `$ref` with a
//!   description) becomes that schema. Any other `allOf` is named, in one
//!   line, as what the generator cannot map.
//! - Inline schemas of an operation: its request envelope, `paramContent`,
//!   response envelope, `result` and (with `x-pagination`) the item of its
//!   page become components named after the operation (`{OperationId}Request`,
//!   `…Params`, `…Response`, `…Result`, `…Item`; a number is added when the
//!   name is taken), so each has a Rust type and a name in the table.
//!
//! A document already in this form (the shipped spec) is left exactly as it
//! was. Shared as source by `build.rs` (the client is generated from, and
//! embeds, the normalised document) and by `shiheng_spec::normalize` (for a
//! spec read from a file at run time): only `serde_json` is used.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

const PREFIX: &str = "#/components/schemas/";
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
/// Deeper `allOf`s of `allOf`s than this are taken for a cycle.
const MAX_DEPTH: usize = 32;

/// What the pass did that a reader of errors needs: where each hoisted
/// component came from.
#[derive(Debug, Default)]
pub struct Normalized {
    /// `(component name, dotted location of the inline schema it was)`, in
    /// the order they were hoisted.
    pub hoisted: Vec<(String, String)>,
}

impl Normalized {
    /// `at` (a dotted location in the normalised document) as a location in
    /// the document as written: a place inside a hoisted component is named
    /// where the user wrote it.
    pub fn original_location(&self, at: &str) -> String {
        for (name, origin) in self.hoisted.iter().rev() {
            let component = format!("components.schemas.{name}");
            if let Some(rest) = at.strip_prefix(&component)
                && (rest.is_empty() || rest.starts_with('.'))
            {
                return self.original_location(&format!("{origin}{rest}"));
            }
        }
        at.to_string()
    }
}

/// A construct the generator cannot map: where (a dotted location) and why.
#[derive(Debug)]
pub struct Unmappable {
    /// The dotted location in the document, e.g. `components.schemas.Shop.allOf[1]`.
    pub at: String,
    /// What it is and why it cannot be mapped.
    pub what: String,
}

impl std::fmt::Display for Unmappable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.what)
    }
}

/// Normalises `doc` in place (see the module's documentation). A document
/// that is not a mapping, or has no components, is left for the checks that
/// follow to report.
pub fn normalize(doc: &mut Value) -> Result<Normalized, Unmappable> {
    let mut normalized = Normalized::default();
    if !doc.is_object() {
        return Ok(normalized);
    }
    chains(doc)?;
    all_of(doc)?;
    hoist(doc, &mut normalized);
    Ok(normalized)
}

fn component_name(reference: &str) -> Option<&str> {
    reference
        .strip_prefix(PREFIX)
        .filter(|name| !name.contains('/'))
}

fn schemas(doc: &Value) -> Option<&Map<String, Value>> {
    doc.get("components")?.get("schemas")?.as_object()
}

fn schemas_mut(doc: &mut Value) -> Option<&mut Map<String, Value>> {
    doc.get_mut("components")?
        .get_mut("schemas")?
        .as_object_mut()
}

// ---------------------------------------------------------------- chains

fn chains(doc: &mut Value) -> Result<(), Unmappable> {
    let Some(components) = schemas(doc) else {
        return Ok(());
    };
    let alias_of = |name: &str| -> Option<&str> {
        components
            .get(name)?
            .get("$ref")?
            .as_str()
            .and_then(component_name)
    };
    // Alias → the schema at the end of its chain (one that exists and is
    // not itself a `$ref`). A chain ending nowhere is left for the reference
    // check to name.
    let mut ends: BTreeMap<String, String> = BTreeMap::new();
    for name in components.keys() {
        let mut seen = vec![name.as_str()];
        let mut current = name.as_str();
        while let Some(next) = alias_of(current) {
            if seen.contains(&next) {
                seen.push(next);
                return Err(Unmappable {
                    at: format!("components.schemas.{name}.$ref"),
                    what: format!(
                        "the `$ref` chain {} is a cycle: it names no schema",
                        seen.join(" → ")
                    ),
                });
            }
            seen.push(next);
            current = next;
        }
        if current != name && components.contains_key(current) {
            ends.insert(name.clone(), current.to_string());
        }
    }
    if ends.is_empty() {
        return Ok(());
    }
    retarget(doc, &ends, false);
    if let Some(components) = schemas_mut(doc) {
        components.retain(|name, _| !ends.contains_key(name));
    }
    Ok(())
}

/// Examples hold data, not schemas; a property may be named `example`.
fn is_example(key: &str, within_properties: bool) -> bool {
    !within_properties && (key == "example" || key == "examples")
}

fn retarget(value: &mut Value, ends: &BTreeMap<String, String>, within_properties: bool) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref")
                && let Some(end) = component_name(reference).and_then(|name| ends.get(name))
            {
                *reference = format!("{PREFIX}{end}");
            }
            for (key, child) in map.iter_mut() {
                if !is_example(key, within_properties) {
                    retarget(child, ends, key == "properties" && !within_properties);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| retarget(item, ends, false)),
        _ => {}
    }
}

// ---------------------------------------------------------------- allOf

fn all_of(doc: &mut Value) -> Result<(), Unmappable> {
    let Some(components) = schemas(doc).cloned() else {
        return Ok(());
    };
    let mut at = String::new();
    merge_all(doc, &components, &mut at, false)
}

/// Replaces every `allOf` under `value` (found by walking the whole
/// document, examples aside) with its merge.
fn merge_all(
    value: &mut Value,
    components: &Map<String, Value>,
    at: &mut String,
    within_properties: bool,
) -> Result<(), Unmappable> {
    match value {
        Value::Object(map) => {
            if !within_properties && map.get("allOf").is_some_and(Value::is_array) {
                *value = merged(value, components, at, 0)?;
            }
            let Value::Object(map) = value else {
                return Ok(());
            };
            for (key, child) in map.iter_mut() {
                if is_example(key, within_properties) {
                    continue;
                }
                let child_in_properties = key == "properties" && !within_properties;
                let len = at.len();
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(key);
                merge_all(child, components, at, child_in_properties)?;
                at.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = at.len();
                at.push_str(&format!("[{i}]"));
                merge_all(item, components, at, false)?;
                at.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

/// The merge of the `allOf` of `schema` (a mapping holding one).
fn merged(
    schema: &Value,
    components: &Map<String, Value>,
    at: &str,
    depth: usize,
) -> Result<Value, Unmappable> {
    if depth > MAX_DEPTH {
        return Err(Unmappable {
            at: at.to_string(),
            what: "`allOf` nested too deep (a cycle of `allOf`s through `$ref`s?)".into(),
        });
    }
    let outer = schema.as_object().cloned().unwrap_or_default();
    let branches = outer
        .get("allOf")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // A branch as its schema: a `$ref` followed, a nested `allOf` merged.
    let mut resolved = Vec::new();
    for (i, branch) in branches.iter().enumerate() {
        let branch_at = format!("{at}.allOf[{i}]");
        let target = match branch.get("$ref").and_then(Value::as_str) {
            Some(reference) => component_name(reference)
                .and_then(|name| components.get(name))
                .ok_or_else(|| Unmappable {
                    at: format!("{branch_at}.$ref"),
                    what: format!(
                        "`{reference}` does not resolve (only `#/components/schemas/…` is read in an `allOf`)"
                    ),
                })?,
            None => branch,
        };
        let target = if target.get("allOf").is_some() {
            merged(target, components, &branch_at, depth + 1)?
        } else {
            target.clone()
        };
        resolved.push((branch, target));
    }
    let is_object = |s: &Value| match s.get("type").and_then(Value::as_str) {
        Some("object") => true,
        Some(_) => false,
        // Properties without a type, or only annotations (a description,
        // `nullable`): adds to an object, or nothing.
        None => s.get("anyOf").is_none() && s.get("oneOf").is_none() && s.get("items").is_none(),
    };
    let outer_adds = outer.contains_key("properties") || outer.contains_key("required");
    if let [(branch, target)] = resolved.as_slice()
        && !is_object(target)
        && !outer_adds
    {
        // `allOf: [{$ref: X}]` beside a description: X itself.
        return Ok((*branch).clone());
    }
    if let Some(i) = resolved.iter().position(|(_, target)| !is_object(target)) {
        let ty = resolved[i]
            .1
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("an anyOf/oneOf/array");
        return Err(Unmappable {
            at: format!("{at}.allOf[{i}]"),
            what: format!(
                "an `allOf` with a `{ty}` schema cannot be mapped: the generator reads `allOf` only as the merge of object schemas (properties and required)"
            ),
        });
    }
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    let mut add = |s: &Value| {
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            for (name, prop) in props {
                properties.insert(name.clone(), prop.clone());
            }
        }
        for name in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !required.contains(name) {
                required.push(name.clone());
            }
        }
    };
    for (_, target) in &resolved {
        add(target);
    }
    add(&Value::Object(outer.clone()));
    let mut out = Map::new();
    out.insert("type".into(), Value::String("object".into()));
    // The description of the first branch that has one, unless the schema
    // beside the `allOf` says its own.
    if let Some(description) = resolved.iter().find_map(|(_, t)| t.get("description")) {
        out.insert("description".into(), description.clone());
    }
    for (key, value) in &outer {
        if !matches!(key.as_str(), "allOf" | "properties" | "required" | "type") {
            out.insert(key.clone(), value.clone());
        }
    }
    if !required.is_empty() {
        out.insert("required".into(), Value::Array(required));
    }
    out.insert("properties".into(), Value::Object(properties));
    Ok(Value::Object(out))
}

// ---------------------------------------------------------------- hoisting

fn upper_camel(text: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    out
}

/// Reserves a component name for `wanted`: itself, or with 2, 3, … added,
/// whichever no component has (nor one that would be the same Rust type).
fn free_name(taken: &mut BTreeSet<String>, wanted: &str) -> String {
    let mut candidate = wanted.to_string();
    let mut n = 2;
    while taken.contains(&candidate.to_ascii_lowercase()) {
        candidate = format!("{wanted}{n}");
        n += 1;
    }
    taken.insert(candidate.to_ascii_lowercase());
    candidate
}

/// A place in the document that may hold an inline schema to hoist.
enum Slot {
    /// `pointer` into the document (an operation's own request body or 200
    /// answer, written inline).
    Pointer(String),
    /// A property of a component (`paramContent`, `result`) or the items of
    /// one (`…/items`), as the path under that component.
    Component(String, Vec<String>),
}

fn hoist(doc: &mut Value, normalized: &mut Normalized) {
    let mut taken: BTreeSet<String> = schemas(doc)
        .map(|s| {
            s.keys()
                .flat_map(|k| [k.to_ascii_lowercase(), upper_camel(k).to_ascii_lowercase()])
                .collect()
        })
        .unwrap_or_default();
    for (pointer, id, items) in operations(doc) {
        let base = upper_camel(&id);
        // The request envelope, then its paramContent.
        let body = format!(
            "{}/content/application~1json/schema",
            followed(doc, &format!("{pointer}/requestBody"))
        );
        let request = take(
            doc,
            Slot::Pointer(body.clone()),
            &dotted(&body),
            &format!("{base}Request"),
            &mut taken,
            normalized,
        );
        if let Some((name, origin)) = request {
            take(
                doc,
                Slot::Component(name, vec!["properties".into(), "paramContent".into()]),
                &format!("{origin}.properties.paramContent"),
                &format!("{base}Params"),
                &mut taken,
                normalized,
            );
        }
        let ok = format!(
            "{}/content/application~1json/schema",
            followed(doc, &format!("{pointer}/responses/200"))
        );
        let response = take(
            doc,
            Slot::Pointer(ok.clone()),
            &dotted(&ok),
            &format!("{base}Response"),
            &mut taken,
            normalized,
        );
        let Some((name, origin)) = response else {
            continue;
        };
        let result = take(
            doc,
            Slot::Component(name, vec!["properties".into(), "result".into()]),
            &format!("{origin}.properties.result"),
            &format!("{base}Result"),
            &mut taken,
            normalized,
        );
        if let (Some((name, origin)), Some(items)) = (result, items) {
            take(
                doc,
                Slot::Component(
                    name,
                    vec!["properties".into(), items.clone(), "items".into()],
                ),
                &format!("{origin}.properties.{items}.items"),
                &format!("{base}Item"),
                &mut taken,
                normalized,
            );
        }
    }
}

/// `pointer`, or where the `#/components/…` `$ref` it holds points (a
/// request body or response defined once in `components`).
fn followed(doc: &Value, pointer: &str) -> String {
    doc.pointer(pointer)
        .and_then(|v| v.get("$ref"))
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .filter(|target| target.starts_with("/components/") && doc.pointer(target).is_some())
        .map_or_else(|| pointer.to_string(), str::to_string)
}

/// A JSON pointer as the dotted location errors name.
fn dotted(pointer: &str) -> String {
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|part| part.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

/// Every operation: its JSON pointer, operationId and the
/// `x-pagination.items` field when it has one.
fn operations(doc: &Value) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        for (method, op) in item.as_object().into_iter().flatten() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let escaped = path.replace('~', "~0").replace('/', "~1");
            let items = op
                .pointer("/x-pagination/items")
                .and_then(Value::as_str)
                .map(str::to_string);
            out.push((format!("/paths/{escaped}/{method}"), id.to_string(), items));
        }
    }
    out
}

/// The schema at `slot`: when inline (a mapping without `$ref`), moved to a
/// new component named after `wanted` and replaced by a `$ref` to it. Returns
/// the component the slot now names (new or already referenced) and where
/// it was written, or None when the slot is empty or names no component.
fn take(
    doc: &mut Value,
    slot: Slot,
    origin: &str,
    wanted: &str,
    taken: &mut BTreeSet<String>,
    normalized: &mut Normalized,
) -> Option<(String, String)> {
    let place = match &slot {
        Slot::Pointer(pointer) => doc.pointer_mut(pointer)?,
        Slot::Component(name, path) => {
            let mut place = schemas_mut(doc)?.get_mut(name)?;
            for key in path {
                place = place.get_mut(key)?;
            }
            place
        }
    };
    if let Some(reference) = place.get("$ref").and_then(Value::as_str) {
        let name = component_name(reference)?.to_string();
        return Some((name.clone(), format!("components.schemas.{name}")));
    }
    if !place.is_object() {
        return None;
    }
    let name = free_name(taken, wanted);
    let schema = std::mem::replace(
        place,
        Value::Object(Map::from_iter([(
            "$ref".to_string(),
            Value::String(format!("{PREFIX}{name}")),
        )])),
    );
    let Some(components) = doc.as_object_mut().and_then(|d| {
        d.entry("components")
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()?
            .entry("schemas")
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
    }) else {
        // Components that are not a mapping: the checks that follow say so.
        return None;
    };
    components.insert(name.clone(), schema);
    normalized.hoisted.push((name.clone(), origin.to_string()));
    Some((name, origin.to_string()))
}
