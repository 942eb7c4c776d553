//! Which operations this build compiles: the spec's tags as Cargo features.
//!
//! A service that calls five endpoints should compile five. Cargo features
//! cannot be generated from the spec, so the selection is read from the
//! features cargo turned on (`CARGO_FEATURE_TAG_<TAG>`): with `tag-wecom`
//! alone, only the operations tagged `wecom` and the component schemas they
//! reach are generated. No `tag-…` feature, or `all-tags` (what the CLI,
//! the sandbox and the spec tooling turn on, since feature unification would
//! otherwise let one service's selection shrink them), means every
//! operation, so a build that picks its TLS provider with
//! `default-features = false` loses nothing.
//!
//! A selected tag that no operation of the spec has fails the build with
//! one line; a tag of the spec with no feature is simply not selectable
//! alone (adding `tag-<name> = []` to Cargo.toml makes it so), so importing
//! an endpoint with a new tag never breaks a build.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::Value;

use crate::spec::{self, Problem, Result};

/// The tags the enabled features select, or `None` for every operation.
pub fn from_features(vars: impl Iterator<Item = (String, String)>) -> Option<BTreeSet<String>> {
    let mut tags = BTreeSet::new();
    let mut everything = false;
    for (name, _) in vars {
        if name == "CARGO_FEATURE_ALL_TAGS" {
            everything = true;
        } else if let Some(tag) = name.strip_prefix("CARGO_FEATURE_TAG_") {
            tags.insert(feature_key(tag));
        }
    }
    (!everything && !tags.is_empty()).then_some(tags)
}

/// Cargo turns `tag-wecom-hr` into `CARGO_FEATURE_TAG_WECOM_HR`: tags are
/// compared in that form, lower case with `_` for anything else.
fn feature_key(tag: &str) -> String {
    tag.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Removes every operation without a selected tag, then every component
/// schema no remaining operation reaches.
pub fn apply(doc: &mut Value, selected: &BTreeSet<String>) -> Result<()> {
    let mut spec_tags: BTreeMap<String, String> = BTreeMap::new();
    for (_, _, op, _) in spec::operations(doc) {
        for tag in tags_of(op) {
            spec_tags.insert(feature_key(tag), tag.to_string());
        }
    }
    if let Some(unknown) = selected.iter().find(|t| !spec_tags.contains_key(*t)) {
        let known: Vec<&str> = spec_tags.values().map(String::as_str).collect();
        return Err(Problem::new(
            "tags",
            format!(
                "the feature `tag-{}` selects a tag no operation has (the spec's tags: {})",
                unknown.replace('_', "-"),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ));
    }
    let keep = |op: &Value| tags_of(op).any(|t| selected.contains(&feature_key(t)));
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            if let Some(item) = item.as_object_mut() {
                item.retain(|method, op| !spec::METHODS.contains(&method.as_str()) || keep(op));
            }
        }
        paths.retain(|_, item| {
            item.as_object()
                .is_some_and(|m| m.keys().any(|k| spec::METHODS.contains(&k.as_str())))
        });
    }
    let reached = reached_components(doc);
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.retain(|name, _| reached.contains(name));
    }
    Ok(())
}

fn tags_of(op: &Value) -> impl Iterator<Item = &str> {
    op.get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// The component schemas the paths reach, through any chain of `$ref`s
/// (shared responses included).
fn reached_components(doc: &Value) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<&Value> = VecDeque::new();
    if let Some(paths) = doc.get("paths") {
        queue.push_back(paths);
    }
    while let Some(value) = queue.pop_front() {
        match value {
            Value::Object(map) => {
                // Each reference followed once, so a cycle ends.
                if let Some(target) = map.get("$ref").and_then(Value::as_str)
                    && seen.insert(target.to_string())
                    && let Some(found) = target.strip_prefix('#').and_then(|p| doc.pointer(p))
                {
                    queue.push_back(found);
                }
                queue.extend(map.values());
            }
            Value::Array(items) => queue.extend(items),
            _ => {}
        }
    }
    seen.iter()
        .filter_map(|r| r.strip_prefix(spec::REF_PREFIX).map(str::to_string))
        .collect()
}
