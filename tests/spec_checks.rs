//! The build's checks of the spec (build/check.rs, compiled here as they are
//! in build.rs): each mistake fails with one line naming its place in the
//! spec, never a panic. `.ci/codegen-check` shows the same through a real
//! `cargo build`.

#[allow(dead_code)]
#[path = "../build/check.rs"]
mod check;
#[allow(dead_code)]
#[path = "../build/spec.rs"]
mod spec;
#[allow(dead_code)]
#[path = "../build/table.rs"]
mod table;

use serde_json::{Value, json};

fn committed_spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/shiheng-open.yaml");
    spec::load(std::path::Path::new(path), None)
        .expect("the committed spec loads")
        .doc
}

/// The committed spec with `edit` applied, checked: the problem's line.
fn problem_after(edit: impl FnOnce(&mut Value)) -> String {
    let mut doc = committed_spec();
    edit(&mut doc);
    match check::check(&doc) {
        Ok(()) => panic!("the edited spec passed the checks"),
        Err(problem) => {
            let line = problem.to_string();
            assert!(!line.contains('\n'), "one line: {line}");
            line
        }
    }
}

fn at<'a>(doc: &'a mut Value, pointer: &str) -> &'a mut Value {
    doc.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} is in the spec"))
}

const EMPLOYEES: &str = "/paths/~1wecom~1employee~1page/post";

#[test]
fn the_committed_spec_passes() {
    check::check(&committed_spec()).expect("the committed spec passes");
}

#[test]
fn a_type_typo_names_the_field() {
    let line = problem_after(|doc| {
        *at(doc, "/components/schemas/Employee/properties/gender/type") = json!("strin");
    });
    assert_eq!(
        line,
        "components.schemas.Employee.properties.gender.type: `strin` is not an OpenAPI type (one of string, integer, number, boolean, array, object)"
    );
}

#[test]
fn a_dangling_ref_names_where_it_is() {
    let line = problem_after(|doc| {
        *at(doc, "/components/schemas/Employee/properties/phone") =
            json!({"$ref": "#/components/schemas/Phone"});
    });
    assert_eq!(
        line,
        "components.schemas.Employee.properties.phone.$ref: `#/components/schemas/Phone` does not resolve (only local references `#/…` are read)"
    );
}

#[test]
fn two_properties_with_one_rust_name_are_refused() {
    let line = problem_after(|doc| {
        at(doc, "/components/schemas/Employee/properties")
            .as_object_mut()
            .unwrap()
            .insert("user_id".into(), json!({"type": "string"}));
    });
    assert_eq!(
        line,
        "components.schemas.Employee.properties: `userId` and `user_id` both map to the Rust field `user_id`"
    );
}

#[test]
fn an_unknown_pagination_field_is_refused() {
    let line = problem_after(|doc| {
        at(doc, &format!("{EMPLOYEES}/x-pagination"))
            .as_object_mut()
            .unwrap()
            .insert("itemIdd".into(), json!("id"));
    });
    assert_eq!(
        line,
        "paths./wecom/employee/page.post.x-pagination.itemIdd: unknown x-pagination field for style page-number (known: style, page, pageSize, pages, total, items, itemId)"
    );
}

#[test]
fn pagination_fields_must_exist_with_the_right_types() {
    let line = problem_after(|doc| {
        *at(doc, &format!("{EMPLOYEES}/x-pagination/itemId")) = json!("employeeNumber");
    });
    assert_eq!(
        line,
        "paths./wecom/employee/page.post.x-pagination.itemId: Employee has no `employeeNumber`"
    );
    let line = problem_after(|doc| {
        *at(doc, &format!("{EMPLOYEES}/x-pagination/itemId")) = json!("name");
    });
    assert_eq!(
        line,
        "paths./wecom/employee/page.post.x-pagination.itemId: Employee.name must be an integer"
    );
    let line = problem_after(|doc| {
        *at(doc, &format!("{EMPLOYEES}/x-pagination/style")) = json!("offset");
    });
    assert_eq!(
        line,
        "paths./wecom/employee/page.post.x-pagination.style: `offset` is not one of page-number, cursor"
    );
}

#[test]
fn cli_commands_must_be_unique_and_not_builtin() {
    let line = problem_after(|doc| {
        *at(doc, &format!("{EMPLOYEES}/x-cli-command")) = json!("customers");
    });
    assert!(
        line.ends_with("both give the CLI command `customers`"),
        "{line}"
    );
    let line = problem_after(|doc| {
        *at(doc, &format!("{EMPLOYEES}/x-cli-command")) = json!("check");
    });
    assert_eq!(
        line,
        "paths./wecom/employee/page.post.x-cli-command: `check` is one of the CLI's own commands (sign, check, sandbox, demo, spec, help)"
    );
}

#[test]
fn operations_outside_the_convention_are_refused() {
    let line = problem_after(|doc| {
        let item = at(doc, "/paths/~1wecom~1employee~1page")
            .as_object_mut()
            .unwrap();
        let op = item.remove("post").unwrap();
        item.insert("get".into(), op);
    });
    assert!(
        line.starts_with("paths./wecom/employee/page.get: only POST operations are supported"),
        "{line}"
    );
    let line = problem_after(|doc| {
        *at(doc, "/openapi") = json!("3.1.0");
    });
    assert_eq!(
        line,
        "openapi: `3.1.0` is not supported: the generator reads OpenAPI 3.0.x"
    );
    let line = problem_after(|doc| {
        *at(doc, &format!("{EMPLOYEES}/operationId")) = json!("listWecomCustomers");
    });
    assert!(
        line.contains("`listWecomCustomers` is also the operationId of"),
        "{line}"
    );
}

#[test]
fn a_result_that_is_not_an_envelope_is_refused() {
    let line = problem_after(|doc| {
        at(
            doc,
            "/components/schemas/ListWecomEmployeesResponse/properties",
        )
        .as_object_mut()
        .unwrap()
        .remove("traceId");
    });
    assert_eq!(
        line,
        "components.schemas.ListWecomEmployeesResponse: has no `traceId`: the 200 answer of paths./wecom/employee/page.post must be a platform envelope"
    );
}
