//! `shiheng_spec::diff` on a copy of the shipped spec with planted changes:
//! every planted change reported with its `breaking` flag and `affects`, in
//! the three renderings; the semver check; reading files and `REV:PATH`.
//! The inputs are edits of a copy, and the assertions name only what was
//! planted, so the spec may grow without breaking these tests.

use serde_json::{Value, json};
use shiheng_spec::diff::{self, Audience, Category, Change, Report};

const SPEC: &str = include_str!("../../../spec/shiheng-open.yaml");

/// The shipped spec at version 1.0.0 (whatever it says), so the version
/// checks below do not depend on the file.
fn base() -> Value {
    let mut doc = diff::parse(SPEC).expect("the shipped spec parses");
    doc["info"]["version"] = json!("1.0.0");
    doc
}

fn schemas(doc: &mut Value) -> &mut serde_json::Map<String, Value> {
    doc.pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .expect("components.schemas")
}

fn props<'a>(doc: &'a mut Value, schema: &str) -> &'a mut serde_json::Map<String, Value> {
    schemas(doc)[schema]
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .expect("properties")
}

fn find<'r>(report: &'r Report, location: &str, kind: &str) -> &'r Change {
    report
        .changes
        .iter()
        .find(|c| c.location == location && c.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} at {location} in {:#?}", report.changes))
}

fn affects(c: &Change) -> Vec<&'static str> {
    c.affects.iter().map(|a| a.as_str()).collect()
}

fn assert_change(
    report: &Report,
    location: &str,
    kind: &str,
    breaking: bool,
    who: &[&str],
    ops: &[&str],
) {
    let c = find(report, location, kind);
    assert_eq!(c.breaking, breaking, "breaking of {c:#?}");
    assert_eq!(c.category == Category::Breaking, breaking, "{c:#?}");
    let mut got = affects(c);
    got.sort_unstable();
    let mut want = who.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "affects of {c:#?}");
    for op in ops {
        assert!(c.operations.iter().any(|o| o == op), "{op} not in {c:#?}");
    }
}

const ALL: &[&str] = &["rust", "wire", "other-languages"];
const CODE: &[&str] = &["rust", "other-languages"];

/// The old spec with the planted changes, and the report on them.
fn planted(version: &str) -> Report {
    let mut old = base();
    // An operation the new version drops.
    let old_paths = old["paths"].as_object_mut().unwrap();
    let mut dropped = old_paths["/wecom/group-chat/list"].clone();
    dropped["post"]["operationId"] = json!("listOldTags");
    old_paths.insert("/wecom/old-tag/list".into(), dropped);
    let mut new = old.clone();
    new["info"]["version"] = json!(version);
    // Response fields: added, removed, retyped; a known value added.
    props(&mut new, "Employee").insert(
        "nickname".into(),
        json!({"type": "string", "nullable": true}),
    );
    props(&mut new, "Employee").remove("address");
    props(&mut new, "Customer")["memberId"] = json!({"type": "string", "nullable": true});
    schemas(&mut new)["EmployeeStatus"]["x-known-values"]
        .as_array_mut()
        .unwrap()
        .push(json!(7));
    // Request: a required field added, an optional one added, bounds
    // narrowed and widened.
    let params = &mut schemas(&mut new)["EmployeePageParams"];
    params["required"]
        .as_array_mut()
        .unwrap()
        .push(json!("storeId"));
    params["properties"]["storeId"] = json!({"type": "integer", "format": "int64"});
    params["properties"]["keyword"] = json!({"type": "string", "maxLength": 20});
    params["properties"]["pageSize"]["maximum"] = json!(20);
    let cursor = &mut schemas(&mut new)["CursorPageParams"];
    cursor["properties"]["pageSize"]["maximum"] = json!(200);
    // Operations: one moved, one renamed, one removed, one added.
    let paths = new["paths"].as_object_mut().unwrap();
    let employees = paths.remove("/wecom/employee/page").unwrap();
    paths.insert("/wecom/employee/list".into(), employees);
    paths["/wecom/customer/list"]["post"]["operationId"] = json!("listCustomers");
    paths.remove("/wecom/old-tag/list");
    let mut tags = paths["/wecom/group-chat/list"].clone();
    tags["post"]["operationId"] = json!("listPlantedTags");
    paths.insert("/wecom/planted-tag/list".into(), tags);
    // Pagination: a field renamed; idempotency dropped.
    let employees = &mut new["paths"]["/wecom/employee/list"]["post"];
    employees["x-pagination"]["page"] = json!("page");
    employees["x-idempotent"] = json!(false);
    diff::diff(&old, &new)
}

#[test]
fn every_planted_change_is_classified() {
    let r = planted("2.0.0");
    let emp = "listWecomEmployees";
    // Response fields.
    assert_change(
        &r,
        "components.schemas.Employee.properties.nickname",
        "field-added",
        false,
        &[],
        &[emp],
    );
    assert_change(
        &r,
        "components.schemas.Employee.properties.address",
        "field-removed",
        true,
        ALL,
        &[emp],
    );
    assert_change(
        &r,
        "components.schemas.Customer.properties.memberId",
        "type-changed",
        true,
        ALL,
        &["listCustomers"],
    );
    assert_change(
        &r,
        "components.schemas.EmployeeStatus.x-known-values",
        "known-value-added",
        false,
        &[],
        &[emp],
    );
    // Request fields.
    let params = "components.schemas.EmployeePageParams.properties";
    assert_change(
        &r,
        &format!("{params}.storeId"),
        "required-field-added",
        true,
        ALL,
        &[emp],
    );
    assert_change(
        &r,
        &format!("{params}.keyword"),
        "field-added",
        false,
        &[],
        &[emp],
    );
    assert_change(
        &r,
        &format!("{params}.pageSize.maximum"),
        "bound-narrowed",
        true,
        &["wire"],
        &[emp],
    );
    // CursorPageParams is shared: the widening names both operations reaching it.
    let widened = find(
        &r,
        "components.schemas.CursorPageParams.properties.pageSize.maximum",
        "bound-widened",
    );
    assert!(!widened.breaking);
    assert!(widened.operations.contains(&"listCustomers".to_owned()));
    assert!(
        widened
            .operations
            .contains(&"listWecomGroupChats".to_owned())
    );
    // Operations.
    assert_change(
        &r,
        "paths./wecom/employee/list.post",
        "operation-moved",
        true,
        &["wire"],
        &[emp],
    );
    assert_change(
        &r,
        "paths./wecom/customer/list.post.operationId",
        "operation-renamed",
        true,
        CODE,
        &["listCustomers"],
    );
    assert_change(
        &r,
        "paths./wecom/old-tag/list.post",
        "operation-removed",
        true,
        ALL,
        &["listOldTags"],
    );
    assert_change(
        &r,
        "paths./wecom/planted-tag/list.post",
        "operation-added",
        false,
        &[],
        &["listPlantedTags"],
    );
    // Pagination and retries.
    assert_change(
        &r,
        "paths./wecom/employee/list.post.x-pagination.page",
        "pagination-changed",
        true,
        &["wire", "rust"],
        &[emp],
    );
    let idem = find(
        &r,
        "paths./wecom/employee/list.post.x-idempotent",
        "idempotency-changed",
    );
    assert!(
        !idem.breaking && idem.message.contains("retry"),
        "{idem:#?}"
    );
    // The version: bumped as needed, so no semver change.
    assert_change(&r, "info.version", "version-changed", false, &[], &[]);
    assert!(!r.version_bump_missing(), "{:#?}", r.changes);
    assert!(r.is_breaking());
    // Nothing but what was planted.
    for c in &r.changes {
        assert!(
            !c.location.contains("Customer.properties.id") && !c.location.contains("AppId"),
            "unplanted change {c:#?}"
        );
    }
}

#[test]
fn enum_values_on_answers_and_requests() {
    let mut old = base();
    props(&mut old, "GroupChat")["status"]["enum"] = json!([0, 1]);
    schemas(&mut old)["CursorPageParams"]["properties"]["pageSize"]["enum"] = json!([10, 50, 100]);
    let mut new = old.clone();
    props(&mut new, "GroupChat")["status"]["enum"] = json!([0, 1, 2]);
    schemas(&mut new)["CursorPageParams"]["properties"]["pageSize"]["enum"] = json!([10, 50]);
    new["info"]["version"] = json!("2.0.0");
    let r = diff::diff(&old, &new);
    let added = find(
        &r,
        "components.schemas.GroupChat.properties.status.enum",
        "enum-value-added",
    );
    assert!(!added.breaking);
    assert_eq!(added.affects, vec![Audience::OtherLanguages]);
    assert!(
        added.message.contains("strict generated enums"),
        "{added:#?}"
    );
    let removed = find(
        &r,
        "components.schemas.CursorPageParams.properties.pageSize.enum",
        "enum-narrowed",
    );
    assert!(removed.breaking);
    // Every operation whose params are CursorPageParams, as the table says
    // (an endpoint imported the README's way shares them).
    let mut sharing: Vec<&str> = shiheng::operation::OperationSpec::all()
        .iter()
        .filter(|op| op.params_schema == Some("CursorPageParams"))
        .map(|op| op.operation_id)
        .collect();
    sharing.sort_unstable();
    let mut named: Vec<&str> = removed.operations.iter().map(String::as_str).collect();
    named.sort_unstable();
    assert_eq!(named, sharing, "{removed:#?}");
    assert!(named.contains(&"listWecomCustomers") && named.contains(&"listWecomGroupChats"));
}

#[test]
fn identical_specs_have_no_changes() {
    let r = diff::diff(&base(), &base());
    assert!(r.changes.is_empty(), "{:#?}", r.changes);
    assert!(!r.is_breaking());
    assert!(diff::render_text(&r).contains("no changes"));
}

#[test]
fn the_semver_check() {
    // Breaking without a major bump.
    let r = planted("1.1.0");
    let v = find(&r, "info.version", "version-bump-missing");
    assert!(!v.breaking && v.category == Category::Version);
    assert!(v.message.contains("major"), "{v:#?}");
    // Additions without a minor bump.
    let old = base();
    let mut new = old.clone();
    props(&mut new, "Employee").insert("nickname".into(), json!({"type": "string"}));
    new["info"]["version"] = json!("1.0.1");
    let r = diff::diff(&old, &new);
    assert!(!r.is_breaking());
    assert!(
        find(&r, "info.version", "version-bump-missing")
            .message
            .contains("minor")
    );
    new["info"]["version"] = json!("1.1.0");
    assert!(!diff::diff(&old, &new).version_bump_missing());
    // Not bumped at all.
    new["info"]["version"] = old["info"]["version"].clone();
    assert!(diff::diff(&old, &new).version_bump_missing());
}

#[test]
fn three_renderings() {
    let r = planted("1.1.0");
    // JSON: every change with the documented fields.
    let j = diff::render_json(&r);
    let changes = j["changes"].as_array().unwrap();
    assert_eq!(changes.len(), r.changes.len());
    let removed = changes
        .iter()
        .find(|c| c["location"] == "components.schemas.Employee.properties.address")
        .unwrap();
    assert_eq!(removed["breaking"], json!(true));
    assert_eq!(removed["operation"], json!("listWecomEmployees"));
    assert_eq!(
        removed["affects"],
        json!(["rust", "wire", "other-languages"])
    );
    assert!(removed["message"].as_str().unwrap().contains("address"));
    let added = changes
        .iter()
        .find(|c| c["location"] == "components.schemas.Employee.properties.nickname")
        .unwrap();
    assert_eq!(added["breaking"], json!(false));
    assert_eq!(added["affects"], json!([]));
    let version = changes
        .iter()
        .find(|c| c["kind"] == "version-bump-missing")
        .unwrap();
    assert_eq!(version["operation"], Value::Null);
    assert_eq!(j["summary"]["versionBumpMissing"], json!(true));
    assert_eq!(j["summary"]["requiredBump"], json!("major"));
    // address, memberId, storeId, pageSize, moved, renamed, removed, pagination.
    assert_eq!(j["summary"]["breaking"], json!(8), "{:#?}", r.changes);
    // Markdown: the sections, each change in its own.
    let md = diff::render_markdown(&r);
    let breaking = md.find("### Breaking").expect("Breaking section");
    let added_at = md.find("### Added").expect("Added section");
    let changed = md.find("### Changed").expect("Changed section");
    assert!(breaking < added_at && added_at < changed, "{md}");
    let line = |needle: &str| {
        md.find(needle)
            .unwrap_or_else(|| panic!("{needle} not in {md}"))
    };
    let address = line("`components.schemas.Employee.properties.address`");
    assert!(breaking < address && address < added_at, "{md}");
    let nickname = line("`components.schemas.Employee.properties.nickname`");
    assert!(added_at < nickname && nickname < changed, "{md}");
    let widened = line("`components.schemas.CursorPageParams.properties.pageSize.maximum`");
    assert!(changed < widened, "{md}");
    assert!(md.starts_with("> **Version:**"), "{md}");
    // Text: one block per change, labelled.
    let text = diff::render_text(&r);
    assert!(
        text.contains("BREAKING  components.schemas.Employee.properties.address"),
        "{text}"
    );
    assert!(
        text.contains("added     components.schemas.Employee.properties.nickname"),
        "{text}"
    );
    assert!(text.contains("VERSION   info.version"), "{text}");
    assert!(text.contains("summary: "), "{text}");
}

#[test]
fn bad_documents_are_one_line() {
    for (text, want) in [
        ("a: [", "not YAML or JSON"),
        ("- 1\n- 2\n", "not a mapping"),
        ("openapi: 3.1.0\n", "3.1.0 is not supported"),
        ("swagger: '2.0'\n", "no `openapi` version"),
    ] {
        let e = diff::parse(text).unwrap_err();
        assert!(e.contains(want), "{text:?}: {e}");
        assert!(!e.contains('\n'), "{e}");
    }
    let e = diff::load("/nonexistent/spec.yaml").unwrap_err();
    assert!(e.contains("no such file"), "{e}");
}
