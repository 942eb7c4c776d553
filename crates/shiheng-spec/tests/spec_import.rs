//! `shiheng spec import`, through the real binary (`shiheng-spec import`,
//! the same importer and arguments): the published employee
//! page round-trips to the hand-written `listWecomEmployees` (field by field,
//! every `$ref` followed), pages written in the same format for a cursor
//! endpoint and a one-call endpoint map as documented (copy artefacts,
//! unreadable rows reported with their lines), and `--write` merges into a
//! copy of the spec by insertion only, refusing to overwrite without
//! `--replace`. The pages are in tests/fixtures/pages (README there).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_shiheng-spec");
const REF_PREFIX: &str = "#/components/schemas/";

/// The workspace's root: the spec and tests/fixtures live there.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn repo(path: &str) -> PathBuf {
    root().join(path)
}

fn page(name: &str) -> String {
    repo(&format!("tests/fixtures/pages/{name}"))
        .display()
        .to_string()
}

fn spec_text() -> String {
    std::fs::read_to_string(repo("spec/shiheng-open.yaml")).expect("the spec")
}

fn yaml(text: &str) -> Value {
    serde_yaml_ng::from_str(text).expect("YAML")
}

/// The property names of `components.schemas.<schema>` in the order the
/// text writes them (serde_json's map would sort them).
fn field_order(text: &str, schema: &str) -> Vec<String> {
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).expect("YAML");
    doc["components"]["schemas"][schema]["properties"]
        .as_mapping()
        .expect("properties")
        .keys()
        .map(|k| k.as_str().expect("a name").to_string())
        .collect()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn import(args: &[&str]) -> Run {
    let output = Command::new(BIN)
        .arg("import")
        .args(args)
        .current_dir(root())
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .expect("the binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8"),
    }
}

/// The printed fragment (stdout) as a document, with the report.
fn preview(page_name: &str, path: &str, operation_id: &str, extra: &[&str]) -> (Value, String) {
    let (text, report) = preview_text(page_name, path, operation_id, extra);
    (yaml(&text), report)
}

fn preview_text(
    page_name: &str,
    path: &str,
    operation_id: &str,
    extra: &[&str],
) -> (String, String) {
    let page = page(page_name);
    let mut args = vec![
        page.as_str(),
        "--path",
        path,
        "--operation-id",
        operation_id,
    ];
    args.extend_from_slice(extra);
    let run = import(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    (run.stdout, run.stderr)
}

/// The fragment's paths and schemas set into `doc`, each replacing whatever
/// had its name (not merged into it, which could hide a missing key).
fn apply(doc: &mut Value, fragment: &Value) {
    for (path, item) in fragment["paths"].as_object().expect("paths") {
        doc["paths"][path] = item.clone();
    }
    for (name, schema) in fragment["components"]["schemas"]
        .as_object()
        .expect("schemas")
    {
        doc["components"]["schemas"][name] = schema.clone();
    }
}

fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix(REF_PREFIX))
        {
            Some(name) => {
                schema = doc
                    .pointer(&format!("/components/schemas/{name}"))
                    .unwrap_or_else(|| panic!("missing component {name}"))
            }
            None => return schema,
        }
    }
    panic!("$ref chain too long");
}

/// Every difference between two schemas once `$ref`s are followed, words
/// (description, example) and the Rust client's own type choice
/// (`x-shiheng-type`, not a fact a page can give) aside: fields and their
/// order, types, formats, bounds, nullable, required, known values, wire forms.
fn differences(
    a_doc: &Value,
    a: &Value,
    b_doc: &Value,
    b: &Value,
    at: &str,
    out: &mut Vec<String>,
) {
    let (a, b) = (resolve(a_doc, a), resolve(b_doc, b));
    let (Some(a_map), Some(b_map)) = (a.as_object(), b.as_object()) else {
        if a != b {
            out.push(format!("{at}: {a} vs {b}"));
        }
        return;
    };
    let mut keys: Vec<&String> = a_map.keys().chain(b_map.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        if matches!(key.as_str(), "description" | "example" | "x-shiheng-type") {
            continue;
        }
        let (x, y) = (a.get(key), b.get(key));
        match key.as_str() {
            "properties" => {
                let names = |v: Option<&Value>| -> Vec<String> {
                    v.and_then(Value::as_object)
                        .map(|m| m.keys().cloned().collect())
                        .unwrap_or_default()
                };
                let (xs, ys) = (names(x), names(y));
                // A field the spec (a) has beyond the page (b) was added
                // to it since, as the README shows: not a difference. Every
                // field of the page must be the spec's, in its order.
                let xs: Vec<String> = xs.into_iter().filter(|n| ys.contains(n)).collect();
                if xs != ys {
                    out.push(format!("{at}: fields {xs:?} vs {ys:?}"));
                    continue;
                }
                for name in xs {
                    differences(
                        a_doc,
                        &x.unwrap()[&name],
                        b_doc,
                        &y.unwrap()[&name],
                        &format!("{at}.{name}"),
                        out,
                    );
                }
            }
            "items" => match (x, y) {
                (Some(x), Some(y)) => differences(a_doc, x, b_doc, y, &format!("{at}[]"), out),
                _ => out.push(format!("{at}: items {x:?} vs {y:?}")),
            },
            "anyOf" | "oneOf" | "allOf" => {
                match (x.and_then(Value::as_array), y.and_then(Value::as_array)) {
                    (Some(xs), Some(ys)) if xs.len() == ys.len() => {
                        for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                            differences(a_doc, x, b_doc, y, &format!("{at}.{key}[{i}]"), out);
                        }
                    }
                    _ => out.push(format!("{at}: {key} {x:?} vs {y:?}")),
                }
            }
            "required" => {
                let set = |v: Option<&Value>| -> Vec<String> {
                    let mut list: Vec<String> = v
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|s| s.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default();
                    list.sort();
                    list
                };
                if set(x) != set(y) {
                    out.push(format!("{at}: required {x:?} vs {y:?}"));
                }
            }
            _ => {
                if x != y {
                    out.push(format!(
                        "{at}: {key} {} vs {}",
                        x.map_or("absent".into(), Value::to_string),
                        y.map_or("absent".into(), Value::to_string)
                    ));
                }
            }
        }
    }
}

/// The operation at `path` in two documents: its pagination and flags, and
/// its request and response schemas field by field.
fn operation_differences(a_doc: &Value, b_doc: &Value, path: &str) -> Vec<String> {
    let (a, b) = (&a_doc["paths"][path]["post"], &b_doc["paths"][path]["post"]);
    let mut out = Vec::new();
    for key in [
        "tags",
        "operationId",
        "x-idempotent",
        "x-pagination",
        "security",
    ] {
        if a.get(key) != b.get(key) {
            out.push(format!(
                "operation {key}: {:?} vs {:?}",
                a.get(key),
                b.get(key)
            ));
        }
    }
    if a["requestBody"]["required"] != b["requestBody"]["required"] {
        out.push("requestBody.required".into());
    }
    if a["responses"]["400"] != b["responses"]["400"] {
        out.push("responses.400".into());
    }
    let body = "/requestBody/content/application~1json/schema";
    let ok = "/responses/200/content/application~1json/schema";
    differences(
        a_doc,
        a.pointer(body).unwrap(),
        b_doc,
        b.pointer(body).unwrap(),
        "request",
        &mut out,
    );
    differences(
        a_doc,
        a.pointer(ok).unwrap(),
        b_doc,
        b.pointer(ok).unwrap(),
        "response",
        &mut out,
    );
    out
}

/// No difference at all: the importer reads the gender table's value list
/// (`0表示未定义,1表示男性,2表示女性`) into x-known-values ['0', '1', '2'],
/// which the hand-written Employee.gender has too.
#[test]
fn the_employee_page_round_trips_to_the_hand_written_operation() {
    let original = yaml(&spec_text());
    let (text, report) = preview_text(
        "wecom-employee-page.source.txt",
        "/wecom/employee/page",
        "listWecomEmployees",
        &[],
    );
    let fragment = yaml(&text);
    // The table's field order, as the hand-written schemas (the CLI's columns follow it).
    for schema in [
        "Employee",
        "EmployeePage",
        "ListWecomEmployeesRequest",
        "ListWecomEmployeesResponse",
    ] {
        let page = field_order(&text, schema);
        let spec: Vec<String> = field_order(&spec_text(), schema)
            .into_iter()
            .filter(|name| page.contains(name))
            .collect();
        assert_eq!(page, spec, "{schema}");
        assert!(!page.is_empty(), "{schema}");
    }
    // Against the spec as it is: the existing params and status are reused.
    assert_eq!(
        fragment.pointer("/paths/~1wecom~1employee~1page/post/x-pagination"),
        original.pointer("/paths/~1wecom~1employee~1page/post/x-pagination")
    );
    assert_eq!(
        fragment["components"]["schemas"]["ListWecomEmployeesRequest"]["properties"]["paramContent"],
        json!({"$ref": "#/components/schemas/EmployeePageParams"})
    );
    let mut imported = original.clone();
    apply(&mut imported, &fragment);
    assert_eq!(
        operation_differences(&original, &imported, "/wecom/employee/page"),
        Vec::<String>::new()
    );
    // The report names the status the table does not list.
    assert!(
        report.contains("`result.result[].status`: the sample sends 6 (2 times), which the table's list (0, 1, 2, 4, 5) does not name"),
        "{report}"
    );
    assert!(report.contains(
        "x-pagination page-number: the request has pageNum and pageSize, the answer pages and total"
    ));
    assert!(report.contains("x-idempotent: true"));
    assert!(
        report.contains("result.result[].userId (string)"),
        "{report}"
    );
}

#[test]
fn the_employee_page_alone_rebuilds_params_status_and_bounds() {
    // Without the employee operation's own components in the spec, the page
    // alone has to give the same schemas: params with bounds, the status
    // with 6 added, flag and phone wire forms.
    let original = yaml(&spec_text());
    let mut stripped = original.clone();
    stripped["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/wecom/employee/page");
    let schemas = stripped["components"]["schemas"].as_object_mut().unwrap();
    for name in [
        "ListWecomEmployeesRequest",
        "ListWecomEmployeesResponse",
        "EmployeePage",
        "Employee",
        "EmployeePageParams",
        "EmployeeStatus",
    ] {
        assert!(schemas.remove(name).is_some(), "{name}");
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("stripped.json");
    std::fs::write(&spec, serde_json::to_string_pretty(&stripped).unwrap()).unwrap();
    let (fragment, report) = preview(
        "wecom-employee-page.source.txt",
        "/wecom/employee/page",
        "listWecomEmployees",
        &["--spec", spec.to_str().unwrap()],
    );
    let new: Vec<&String> = fragment["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert!(new.iter().any(|n| *n == "EmployeePageParams"), "{new:?}");
    let mut imported = stripped.clone();
    apply(&mut imported, &fragment);
    assert_eq!(
        operation_differences(&original, &imported, "/wecom/employee/page"),
        Vec::<String>::new()
    );
    let status = &fragment["components"]["schemas"]["Employee"]["properties"]["status"];
    assert_eq!(status["x-known-values"], json!([0, 1, 2, 4, 5, 6]));
    assert!(
        report.contains("`pageNum` (line 9): `[>= 1]` → minimum 1"),
        "{report}"
    );
    assert!(report.contains("`pageSize` (line 10): `[1~50]` → minimum 1, maximum 50"));
}

#[test]
fn a_cursor_page_with_copy_artefacts_maps_as_documented() {
    let (text, report) = preview_text(
        "wecom-tag-list.page.txt",
        "/wecom/tag/list",
        "listWecomTags",
        &["--cli-command", "tags"],
    );
    let fragment = yaml(&text);
    let op = &fragment["paths"]["/wecom/tag/list"]["post"];
    assert_eq!(
        op["x-pagination"],
        json!({"style": "cursor", "cursor": "startId", "pageSize": "pageSize",
               "nextCursor": "nextStartId", "items": "result", "itemId": "id", "cursorKey": "id"})
    );
    assert_eq!(op["x-cli-command"], "tags");
    assert_eq!(op["x-idempotent"], true);
    let schemas = &fragment["components"]["schemas"];
    // startId [>= 0] and pageSize [1~100] are exactly the shared CursorPageParams.
    assert_eq!(
        schemas["ListWecomTagsRequest"]["properties"]["paramContent"],
        json!({"$ref": "#/components/schemas/CursorPageParams"})
    );
    // The envelope rows of the response table are not the payload.
    assert_eq!(
        field_order(&text, "TagPage"),
        ["nextStartId", "pageSize", "result"]
    );
    assert_eq!(
        schemas["TagPage"]["properties"]["nextStartId"],
        json!({"$ref": "#/components/schemas/NextStartId"})
    );
    let tag = &schemas["Tag"]["properties"];
    assert_eq!(
        field_order(&text, "Tag"),
        [
            "id",
            "tagId",
            "tagName",
            "type",
            "order",
            "createTime",
            "group"
        ]
    );
    assert_eq!(tag["type"]["x-known-values"], json!([1, 2, 3]));
    assert_eq!(
        tag["createTime"],
        json!({"$ref": "#/components/schemas/PlatformTime"})
    );
    // Nested three levels under the items, with blanks where `│` would be.
    assert_eq!(
        tag["group"],
        json!({"$ref": "#/components/schemas/TagGroup"})
    );
    assert_eq!(
        schemas["TagGroup"]["properties"]["rules"]["items"],
        json!({"$ref": "#/components/schemas/TagGroupRule"})
    );
    assert_eq!(
        schemas["TagGroupRule"]["properties"]["storeIds"]["items"],
        json!({"type": "integer", "format": "int64"})
    );
    assert!(report.contains("cursorKey: id"), "{report}");
    assert!(
        report.contains("`result.result[].type`: the sample sends 3 (1 time)"),
        "{report}"
    );
    assert!(report.contains(
        "`result.result[].createTime`: the table types it string, the sample sends integer"
    ));
    assert!(report.contains("line 2 is not a table or the sample, ignored"));
}

#[test]
fn a_one_call_page_reports_unreadable_rows_by_line_and_write_refuses() {
    let (fragment, report) = preview(
        "wecom-corp-info.page.txt",
        "/wecom/corp/info",
        "getWecomCorpInfo",
        &[],
    );
    assert!(
        report.contains("line 28: `extra`: unknown type `map<string,string>`"),
        "{report}"
    );
    assert!(report.contains("line 29: `key` is nested under a row that was left out"));
    let op = &fragment["paths"]["/wecom/corp/info"]["post"];
    assert!(op.get("x-pagination").is_none());
    assert_eq!(op["x-idempotent"], true);
    let schemas = &fragment["components"]["schemas"];
    // paramContent marked 否: not required; its field optional.
    assert_eq!(
        schemas["GetWecomCorpInfoRequest"]["required"],
        json!(["appId", "sign", "version", "timestamp"])
    );
    assert!(schemas["CorpInfoParams"].get("required").is_none());
    let info = &schemas["CorpInfo"];
    assert_eq!(info["nullable"], true);
    assert_eq!(
        info["properties"]["industry"]["x-known-values"],
        json!(["1", "2", "3", "4"])
    );
    assert_eq!(info["properties"]["logo"]["type"], "string");
    assert!(info["properties"].get("extra").is_none());
    assert_eq!(
        schemas["CorpInfoVerified"]["anyOf"],
        json!([{"type": "boolean", "nullable": true},
               {"type": "integer", "format": "int32", "minimum": 0, "maximum": 1, "nullable": true}])
    );
    assert_eq!(
        schemas["CorpInfoAddressGeo"]["properties"]["lat"]["type"],
        "number"
    );
    assert!(report.contains("in the tables but absent from the sample: website"));
    assert!(
        report.contains("`employeeCount`: the table types it integer, the sample sends string")
    );
    // What the Rust client makes of the anyOf fields: said, and never a
    // request to edit Rust.
    assert!(
        report.contains("`CorpInfoVerified`: the Rust client decodes it as a bool"),
        "{report}"
    );
    assert!(
        report.contains("`CorpInfoEmployeeCount`: the Rust client decodes it as i64"),
        "{report}"
    );
    for rust_edit in ["build.rs", "LENIENT_TYPES", "src/lenient.rs"] {
        assert!(!report.contains(rust_edit), "{rust_edit:?} in {report}");
    }

    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, spec_text()).unwrap();
    let page = page("wecom-corp-info.page.txt");
    let run = import(&[
        &page,
        "--path",
        "/wecom/corp/info",
        "--operation-id",
        "getWecomCorpInfo",
        "--spec",
        spec.to_str().unwrap(),
        "--sample-dir",
        dir.path().join("samples").to_str().unwrap(),
        "--write",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("2 rows of the page could not be read"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), spec_text());
    assert!(!dir.path().join("samples").exists());
}

/// The blocks of lines `merged` has beyond `original`, when it only adds.
fn inserted_blocks(original: &str, merged: &str) -> Vec<String> {
    let old: Vec<&str> = original.split_inclusive('\n').collect();
    let new: Vec<&str> = merged.split_inclusive('\n').collect();
    let (mut i, mut blocks, mut current) = (0, Vec::new(), String::new());
    for line in new {
        if i < old.len() && old[i] == line {
            i += 1;
            if !current.is_empty() {
                blocks.push(std::mem::take(&mut current));
            }
        } else {
            current.push_str(line);
        }
    }
    if !current.is_empty() {
        blocks.push(current);
    }
    assert_eq!(i, old.len(), "every original line is still there, in order");
    blocks
}

#[test]
fn write_merges_by_insertion_and_refuses_to_overwrite() {
    // The tag page under another path and operationId: the README imports
    // it as listWecomTags, which the spec may hold already.
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.yaml");
    let samples = dir.path().join("samples");
    std::fs::write(&spec, spec_text()).unwrap();
    let page = page("wecom-tag-list.page.txt");
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut args: Vec<String> = [
            page.as_str(),
            "--path",
            "/wecom/label/list",
            "--operation-id",
            "listWecomLabels",
            "--cli-command",
            "labels",
            "--spec",
            spec.to_str().unwrap(),
            "--sample-dir",
            samples.to_str().unwrap(),
            "--write",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let run_with = |extra: &[&'static str]| {
        let args = args(extra);
        import(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let first = run_with(&[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stdout.is_empty(),
        "with --write nothing goes to stdout"
    );
    let merged = std::fs::read_to_string(&spec).unwrap();
    // The original text, byte for byte, cut in at two places.
    let blocks = inserted_blocks(&spec_text(), &merged);
    assert_eq!(blocks.len(), 2, "{blocks:#?}");
    assert!(blocks[0].starts_with("  /wecom/label/list:\n    post:\n"));
    assert!(blocks[1].starts_with(
        "    # ---- listWecomLabels: imported from the platform's page (shiheng spec import) ----\n    ListWecomLabelsRequest:\n"
    ));
    // It reads back as the spec plus the import.
    let doc = yaml(&merged);
    let mut expected = yaml(&spec_text());
    let (fragment, _) = preview(
        "wecom-tag-list.page.txt",
        "/wecom/label/list",
        "listWecomLabels",
        &["--cli-command", "labels"],
    );
    apply(&mut expected, &fragment);
    assert_eq!(doc, expected);
    // The sample, re-indented as the other fixtures, with the platform's values.
    let sample = std::fs::read_to_string(samples.join("wecom-label-list.json")).unwrap();
    assert!(
        sample.starts_with("{\n  \"code\": \"0\",\n  \"msg\": null,\n"),
        "{sample}"
    );
    let value: Value = serde_json::from_str(&sample).unwrap();
    assert_eq!(value["result"]["result"][1]["type"], 3);
    assert_eq!(
        value["result"]["result"][0]["group"]["rules"][0]["storeIds"],
        json!([101, 102])
    );

    // Again: refused, nothing touched.
    let again = run_with(&[]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("the spec already has path /wecom/label/list, schema ListWecomLabelsRequest"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), merged);

    // With --replace: swapped in place, so the same import gives the same file.
    let replaced = run_with(&["--replace"]);
    assert_eq!(replaced.code, 0, "{}", replaced.stderr);
    assert!(replaced.stderr.contains("replaced path /wecom/label/list"));
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), merged);

    // A different sample under the same name is not overwritten without --replace.
    std::fs::write(samples.join("wecom-label-list.json"), "{}\n").unwrap();
    let clash = run_with(&[]);
    assert_eq!(clash.code, 2);
    assert!(
        clash.stderr.contains("exists with another sample"),
        "{}",
        clash.stderr
    );
}

#[test]
fn bad_arguments_are_one_clear_line() {
    let page = page("wecom-tag-list.page.txt");
    let run = import(&[
        &page,
        "--path",
        "wecom/tag/list",
        "--operation-id",
        "listWecomTags",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--path `wecom/tag/list` must be a path like /x/y/list"),
        "{}",
        run.stderr
    );
    let run = import(&[
        "/nonexistent/page.txt",
        "--path",
        "/a/b",
        "--operation-id",
        "listA",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("cannot read the page /nonexistent/page.txt")
    );
    let run = import(&[&page, "--path", "/a/b", "--operation-id", "ListA"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("must be lowerCamelCase"));
    // A text with no tables at all.
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "👏欢迎访问食亨开放平台\n").unwrap();
    let run = import(&[
        empty.to_str().unwrap(),
        "--path",
        "/a/b",
        "--operation-id",
        "listA",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("the page has no response table"),
        "{}",
        run.stderr
    );
}
