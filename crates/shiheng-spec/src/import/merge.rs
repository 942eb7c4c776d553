//! Merging a fragment into the spec file by text insertion: the new path at
//! the end of `paths`, the new schemas at the end of `components.schemas`
//! (under one comment line), a new tag at the end of `tags`; with
//! `--replace`, an existing path or schema block is swapped in place. Every
//! other byte of the file stays as it was, comments included. The result is
//! read back and compared with the intended document before anything is
//! written.

use std::collections::BTreeSet;

use serde_json::Value;

use super::mapping::Fragment;
use super::yaml::{Yaml, emit_map};

/// What already exists under the fragment's names.
pub fn conflicts(spec: &Value, fragment: &Fragment) -> Vec<String> {
    let mut found = Vec::new();
    if spec
        .get("paths")
        .and_then(|p| p.get(&fragment.path))
        .is_some()
    {
        found.push(format!("path {}", fragment.path));
    }
    for (name, _) in &fragment.schemas {
        if spec
            .pointer(&format!("/components/schemas/{}", escape(name)))
            .is_some()
        {
            found.push(format!("schema {name}"));
        }
    }
    found
}

fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// The fragment as a standalone YAML document (what is printed without
/// `--write`); it also works as a `SHIHENG_SPEC_OVERLAY`.
pub fn preview(fragment: &Fragment, page: &str) -> String {
    let page = page.replace(|c: char| c.is_control(), "?");
    let mut out = format!(
        "# Imported by `shiheng spec import` from {page}.\n# Merge into the spec, or run again with --write.\n"
    );
    if let Some((name, description)) = &fragment.new_tag {
        out.push_str(&format!(
            "# Also declare the tag in `tags`:\n#   - name: {name}\n#     description: {description}\n"
        ));
    }
    out.push_str("paths:\n");
    emit_map(
        &[(fragment.path.clone(), fragment.path_item.clone())],
        2,
        &mut out,
    );
    out.push_str("components:\n  schemas:\n");
    emit_map(&fragment.schemas, 4, &mut out);
    out
}

/// One edit of the original lines: replace `start..end` with `text`.
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// The spec text with the fragment merged in, and one line per change.
pub fn merge(
    original: &str,
    spec: &Value,
    fragment: &Fragment,
    replace: bool,
    operation_id: &str,
) -> Result<(String, Vec<String>), String> {
    let clashes = conflicts(spec, fragment);
    if !clashes.is_empty() && !replace {
        return Err(format!(
            "the spec already has {}: nothing written (--replace swaps them)",
            clashes.join(", ")
        ));
    }
    let lines: Vec<&str> = original.split_inclusive('\n').collect();
    let newline = if original.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut edits: Vec<Edit> = Vec::new();
    let mut changes = Vec::new();

    // ---- paths -------------------------------------------------------------
    let (paths_at, paths_end) = section(&lines, 0, lines.len(), 0, "paths")
        .ok_or("the spec has no block `paths:` at the top level")?;
    let mut path_text = String::new();
    emit_map(
        &[(fragment.path.clone(), fragment.path_item.clone())],
        2,
        &mut path_text,
    );
    match find_key(&lines, paths_at + 1, paths_end, 2, &fragment.path) {
        Some(at) => {
            edits.push(Edit {
                start: at,
                end: block_end(&lines, at, 2, paths_end),
                text: path_text,
            });
            changes.push(format!("replaced path {}", fragment.path));
        }
        None => {
            edits.push(Edit {
                start: paths_end,
                end: paths_end,
                text: path_text,
            });
            changes.push(format!("added path {}", fragment.path));
        }
    }

    // ---- components.schemas -------------------------------------------------
    let (components_at, components_end) = section(&lines, 0, lines.len(), 0, "components")
        .ok_or("the spec has no block `components:` at the top level")?;
    let (schemas_at, schemas_end) =
        section(&lines, components_at + 1, components_end, 2, "schemas")
            .ok_or("the spec has no block `components.schemas:`")?;
    let mut appended = String::new();
    let mut added = Vec::new();
    for (name, schema) in &fragment.schemas {
        let mut text = String::new();
        emit_map(&[(name.clone(), schema.clone())], 4, &mut text);
        match find_key(&lines, schemas_at + 1, schemas_end, 4, name) {
            Some(at) => {
                edits.push(Edit {
                    start: at,
                    end: block_end(&lines, at, 4, schemas_end),
                    text,
                });
                changes.push(format!("replaced schema {name}"));
            }
            None => {
                appended.push_str(&text);
                added.push(name.clone());
            }
        }
    }
    if !added.is_empty() {
        let header = format!(
            "    # ---- {operation_id}: imported from the platform's page (shiheng spec import) ----\n"
        );
        edits.push(Edit {
            start: schemas_end,
            end: schemas_end,
            text: header + &appended,
        });
        changes.push(format!("added schemas {}", added.join(", ")));
    }

    // ---- tags ------------------------------------------------------------------
    if let Some((name, description)) = &fragment.new_tag {
        let mut text = String::new();
        emit_map(
            &[
                ("name".to_string(), Yaml::str(name)),
                ("description".to_string(), Yaml::str(description)),
            ],
            4,
            &mut text,
        );
        let item = format!("  - {}", &text[4..]);
        match section(&lines, 0, lines.len(), 0, "tags") {
            Some((_, end)) => edits.push(Edit {
                start: end,
                end,
                text: item,
            }),
            None => edits.push(Edit {
                start: paths_at,
                end: paths_at,
                text: format!("tags:\n{item}"),
            }),
        }
        changes.push(format!("added tag {name}"));
    }

    // Bottom to top, so earlier line numbers stay valid.
    edits.sort_by_key(|e| std::cmp::Reverse((e.start, e.end)));
    let mut out_lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    for edit in edits {
        let mut text = edit.text;
        if newline != "\n" {
            text = text.replace('\n', newline);
        }
        // A last line without its newline gets one before text is added after it.
        if edit.start == out_lines.len()
            && let Some(last) = out_lines.last_mut()
            && !last.ends_with('\n')
        {
            last.push_str(newline);
        }
        out_lines.splice(edit.start..edit.end, [text]);
    }
    let merged: String = out_lines.concat();
    verify(&merged, spec, fragment)?;
    Ok((merged, changes))
}

/// Reads the merged text back: it must be exactly the original document
/// with the fragment's entries set.
fn verify(merged: &str, spec: &Value, fragment: &Fragment) -> Result<(), String> {
    let read: Value = serde_yaml_ng::from_str(merged)
        .map_err(|e| format!("the merged spec does not parse ({e}): nothing written"))?;
    let mut expected = spec.clone();
    let set = |doc: &mut Value, pointer: &[&str], value: Value| {
        let mut at = doc;
        for key in &pointer[..pointer.len() - 1] {
            at = &mut at[*key];
        }
        at[pointer[pointer.len() - 1]] = value;
    };
    set(
        &mut expected,
        &["paths", &fragment.path],
        fragment.path_item.to_json(),
    );
    for (name, schema) in &fragment.schemas {
        set(
            &mut expected,
            &["components", "schemas", name],
            schema.to_json(),
        );
    }
    if let Some((name, description)) = &fragment.new_tag {
        let tag = serde_json::json!({ "name": name, "description": description });
        match expected.get_mut("tags").and_then(Value::as_array_mut) {
            Some(tags) => tags.push(tag),
            None => expected["tags"] = Value::Array(vec![tag]),
        }
    }
    if read != expected {
        return Err(
            "the merged text does not read back as the spec plus the import (an importer bug): nothing written"
                .into(),
        );
    }
    Ok(())
}

/// Components that nothing refers to (the linters reject them): left over
/// from a replaced operation, for the report, as `schema X`, `example Y`,
/// `response Z` (every section of `components`).
pub fn unreferenced(before: &Value, after: &Value) -> Vec<String> {
    let unused = |doc: &Value| -> BTreeSet<String> {
        let mut refs = BTreeSet::new();
        collect_refs(doc, &mut refs);
        let mut out = BTreeSet::new();
        for (section, all) in doc
            .get("components")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let singular = section.strip_suffix('s').unwrap_or(section);
            // Security schemes are referred to by name, not by $ref.
            if section == "securitySchemes" {
                continue;
            }
            for name in all.as_object().into_iter().flat_map(|m| m.keys()) {
                if !refs.contains(&format!("#/components/{section}/{name}")) {
                    out.insert(format!("{singular} {name}"));
                }
            }
        }
        out
    };
    let was = unused(before);
    unused(after).difference(&was).cloned().collect()
}

/// With `--replace`: the new path item, with what the page does not say
/// kept from the operation it replaces (an `x-cli-command` not given
/// again, the examples, responses the page does not list such as 503, any
/// other key); returns it and what was kept, as `post.x-cli-command`.
pub fn keep_existing(existing: Option<&Value>, new: &Yaml) -> (Yaml, Vec<String>) {
    let mut kept = Vec::new();
    let merged = match existing {
        Some(existing) => keep(existing, new, "", &mut kept),
        None => new.clone(),
    };
    (merged, kept)
}

fn keep(existing: &Value, new: &Yaml, at: &str, kept: &mut Vec<String>) -> Yaml {
    let (Value::Object(old), Yaml::Map(entries)) = (existing, new) else {
        return new.clone();
    };
    // A reference stands alone: nothing is added beside it.
    if entries.iter().any(|(k, _)| k == "$ref") {
        return new.clone();
    }
    let mut out: Vec<(String, Yaml)> = entries
        .iter()
        .map(|(k, v)| {
            let value = match old.get(k) {
                Some(old) => keep(old, v, &format!("{at}{k}."), kept),
                None => v.clone(),
            };
            (k.clone(), value)
        })
        .collect();
    for (k, v) in old {
        if !entries.iter().any(|(key, _)| key == k) {
            kept.push(format!("{at}{k}"));
            out.push((k.clone(), Yaml::from_json(v)));
        }
    }
    Yaml::Map(out)
}

fn collect_refs(value: &Value, refs: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "$ref"
                    && let Some(target) = value.as_str()
                {
                    refs.insert(target.to_string());
                }
                collect_refs(value, refs);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

pub(crate) fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

pub(crate) fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// The key of a `key:` or `key: value` line, unquoted.
pub(crate) fn key_of(line: &str) -> Option<String> {
    let text = line.trim();
    if text.starts_with('#') || text.starts_with('-') {
        return None;
    }
    for quote in ['\'', '"'] {
        if let Some(rest) = text.strip_prefix(quote) {
            let end = rest.find(quote)?;
            return rest[end + 1..]
                .starts_with(':')
                .then(|| rest[..end].to_string());
        }
    }
    let end = text
        .find(": ")
        .or_else(|| text.strip_suffix(':').map(str::len))?;
    Some(text[..end].to_string())
}

pub(crate) fn find_key(
    lines: &[&str],
    start: usize,
    end: usize,
    at: usize,
    key: &str,
) -> Option<usize> {
    (start..end).find(|&i| indent(lines[i]) == at && key_of(lines[i]).as_deref() == Some(key))
}

/// Where the block opened at line `start` ends: before the next line (a
/// comment too) indented no deeper than `at`, trailing blank lines left
/// with what follows.
pub(crate) fn block_end(lines: &[&str], start: usize, at: usize, limit: usize) -> usize {
    let mut end = (start + 1..limit)
        .find(|&i| !is_blank(lines[i]) && indent(lines[i]) <= at)
        .unwrap_or(limit);
    while end > start + 1 && is_blank(lines[end - 1]) {
        end -= 1;
    }
    end
}

/// A block mapping key (`key:` alone on its line) and where its block ends.
fn section(
    lines: &[&str],
    start: usize,
    end: usize,
    at: usize,
    key: &str,
) -> Option<(usize, usize)> {
    let line = find_key(lines, start, end, at, key)?;
    if lines[line].trim() != format!("{key}:") {
        return None;
    }
    Some((line, block_end(lines, line, at, end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fragment(path: &str, schema: &str) -> Fragment {
        Fragment {
            path: path.into(),
            path_item: Yaml::Map(vec![(
                "post".into(),
                Yaml::Map(vec![("operationId".into(), Yaml::str("x"))]),
            )]),
            schemas: vec![(
                schema.into(),
                Yaml::Map(vec![("type".into(), Yaml::str("string"))]),
            )],
            new_tag: Some(("t".into(), "Tag t.".into())),
            sample: None,
            unreadable: 0,
        }
    }

    const SPEC: &str = "openapi: 3.0.3\n# top comment\ntags:\n  - name: a\npaths:\n  /a:\n    post:\n      operationId: a   # keep\n\n# between\ncomponents:\n  schemas:\n    # ---- section\n    A:\n      type: string\n\n    B:\n      type: integer\n";

    #[test]
    fn adds_by_insertion_and_keeps_everything_else() {
        let spec: Value = serde_yaml_ng::from_str(SPEC).unwrap();
        let (merged, changes) = merge(SPEC, &spec, &fragment("/b", "C"), false, "x").unwrap();
        assert_eq!(
            merged,
            "openapi: 3.0.3\n# top comment\ntags:\n  - name: a\n  - name: t\n    description: Tag t.\npaths:\n  /a:\n    post:\n      operationId: a   # keep\n  /b:\n    post:\n      operationId: x\n\n# between\ncomponents:\n  schemas:\n    # ---- section\n    A:\n      type: string\n\n    B:\n      type: integer\n    # ---- x: imported from the platform's page (shiheng spec import) ----\n    C:\n      type: string\n"
        );
        assert_eq!(changes.len(), 3);
    }

    #[test]
    fn refuses_to_overwrite_then_replaces_in_place() {
        let spec: Value = serde_yaml_ng::from_str(SPEC).unwrap();
        let err = merge(SPEC, &spec, &fragment("/a", "A"), false, "x").unwrap_err();
        assert!(err.contains("path /a") && err.contains("schema A"), "{err}");
        let (merged, _) = merge(SPEC, &spec, &fragment("/a", "A"), true, "x").unwrap();
        assert!(merged.contains("  /a:\n    post:\n      operationId: x\n\n# between\n"));
        assert!(merged.contains("    # ---- section\n    A:\n      type: string\n\n    B:\n"));
        assert!(!merged.contains("# keep"));
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let crlf = SPEC.replace('\n', "\r\n");
        let spec: Value = serde_yaml_ng::from_str(&crlf).unwrap();
        let (merged, _) = merge(&crlf, &spec, &fragment("/b", "C"), false, "x").unwrap();
        assert!(!merged.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn unreferenced_components_after_a_change() {
        let before: Value = serde_json::json!({"paths": {"/a": {"$ref": "#/components/schemas/A"}},
            "components": {"schemas": {"A": {}, "B": {}}}});
        let after: Value = serde_json::json!({"paths": {"/a": {"$ref": "#/components/schemas/C"}},
            "components": {"schemas": {"A": {}, "B": {}, "C": {}}}});
        assert_eq!(unreferenced(&before, &after), ["schema A"]);
        // Examples (and every other section) are listed too.
        let before: Value = serde_json::json!({"paths": {"/a": {"examples": {"e": {"$ref": "#/components/examples/E"}}}},
            "components": {"examples": {"E": {}}, "securitySchemes": {"k": {}}}});
        let after: Value = serde_json::json!({"paths": {"/a": {}},
            "components": {"examples": {"E": {}}, "securitySchemes": {"k": {}}}});
        assert_eq!(unreferenced(&before, &after), ["example E"]);
    }

    #[test]
    fn replace_keeps_what_the_page_does_not_say() {
        let existing: Value = serde_json::json!({"post": {
            "operationId": "listX", "x-cli-command": "xs", "summary": "old",
            "requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Old"},
                "examples": {"signed": {"$ref": "#/components/examples/X"}}}}},
            "responses": {"200": {"description": "ok"}, "503": {"$ref": "#/components/responses/G"}}}});
        let new = Yaml::Map(vec![(
            "post".into(),
            Yaml::Map(vec![
                ("operationId".into(), Yaml::str("listX")),
                ("summary".into(), Yaml::str("new")),
                (
                    "requestBody".into(),
                    Yaml::Map(vec![(
                        "content".into(),
                        Yaml::Map(vec![(
                            "application/json".into(),
                            Yaml::Map(vec![("schema".into(), Yaml::schema_ref("New"))]),
                        )]),
                    )]),
                ),
                (
                    "responses".into(),
                    Yaml::Map(vec![(
                        "200".into(),
                        Yaml::Map(vec![("description".into(), Yaml::str("new ok"))]),
                    )]),
                ),
            ]),
        )]);
        let (merged, kept) = keep_existing(Some(&existing), &new);
        let merged = merged.to_json();
        assert_eq!(merged["post"]["x-cli-command"], "xs");
        assert_eq!(merged["post"]["summary"], "new");
        assert_eq!(
            merged["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/New"
        );
        assert_eq!(
            merged["post"]["requestBody"]["content"]["application/json"]["examples"]["signed"]["$ref"],
            "#/components/examples/X"
        );
        assert_eq!(merged["post"]["responses"]["200"]["description"], "new ok");
        assert_eq!(
            merged["post"]["responses"]["503"]["$ref"],
            "#/components/responses/G"
        );
        assert_eq!(
            kept,
            [
                "post.requestBody.content.application/json.examples",
                "post.responses.503",
                "post.x-cli-command"
            ]
        );
    }
}
