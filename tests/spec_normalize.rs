//! The normalisation pass of the build (build/normalize.rs, compiled here as
//! it is in build.rs, with the checks that follow it): every valid form of
//! the platform's schemas (inline request, params, response and result,
//! `$ref` chains, `allOf` of objects) passes the build's checks as the named
//! form does; what cannot be mapped is named in one line with its place; a
//! spec already in the named form is left as it was.
//! tests/extended_spec.rs proves the same forms through a real build.

#[allow(dead_code)]
#[path = "../build/check.rs"]
mod check;
#[allow(dead_code)]
#[path = "../build/normalize.rs"]
mod normalize;
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

const EMPLOYEES: &str = "/paths/~1wecom~1employee~1page/post";

/// The committed spec's employees operation with its request envelope,
/// paramContent, response envelope, result and page item written inline
/// (copies of the components they referred to).
fn employees_inline(doc: &mut Value) {
    let component = |doc: &Value, name: &str| doc["components"]["schemas"][name].clone();
    let schema_of = |doc: &Value, pointer: &str| -> String {
        doc.pointer(pointer).expect("in the spec")["$ref"]
            .as_str()
            .expect("a $ref")
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let body = format!("{EMPLOYEES}/requestBody/content/application~1json/schema");
    let ok = format!("{EMPLOYEES}/responses/200/content/application~1json/schema");
    let request_name = schema_of(doc, &body);
    let response_name = schema_of(doc, &ok);
    let mut request = component(doc, &request_name);
    let params_name = request["properties"]["paramContent"]["$ref"]
        .as_str()
        .expect("a $ref")
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    request["properties"]["paramContent"] = component(doc, &params_name);
    let mut response = component(doc, &response_name);
    let result_name = response["properties"]["result"]["$ref"]
        .as_str()
        .expect("a $ref")
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut result = component(doc, &result_name);
    result["properties"]["result"]["items"] = component(doc, "Employee");
    response["properties"]["result"] = result;
    *doc.pointer_mut(&body).expect("body") = request;
    *doc.pointer_mut(&ok).expect("ok") = response;
}

#[test]
fn the_committed_spec_is_left_as_it_is() {
    let mut doc = committed_spec();
    let before = doc.clone();
    let normalized = normalize::normalize(&mut doc).expect("normalises");
    assert!(normalized.hoisted.is_empty(), "{:?}", normalized.hoisted);
    assert_eq!(doc, before);
}

#[test]
fn inline_schemas_become_components_named_after_the_operation() {
    let mut doc = committed_spec();
    employees_inline(&mut doc);
    let normalized = normalize::normalize(&mut doc).expect("normalises");
    check::check(&doc).expect("the inline forms pass the checks");
    let names: Vec<&str> = normalized
        .hoisted
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "ListWecomEmployeesRequest2",
            "ListWecomEmployeesParams",
            "ListWecomEmployeesResponse2",
            "ListWecomEmployeesResult",
            "ListWecomEmployeesItem",
        ],
        "named after the operation; a taken name gets a number"
    );
    let op = doc.pointer(EMPLOYEES).expect("the operation");
    assert_eq!(
        op.pointer("/requestBody/content/application~1json/schema/$ref"),
        Some(&json!("#/components/schemas/ListWecomEmployeesRequest2"))
    );
    // The hoisted params are the component they were copied from, bounds
    // and all.
    let committed = committed_spec();
    let request = committed
        .pointer(&format!(
            "{EMPLOYEES}/requestBody/content/application~1json/schema/$ref"
        ))
        .and_then(Value::as_str)
        .and_then(|r| committed.pointer(r.trim_start_matches('#')))
        .expect("the committed request envelope");
    let params = request["properties"]["paramContent"]["$ref"]
        .as_str()
        .and_then(|r| committed.pointer(r.trim_start_matches('#')))
        .expect("the committed params");
    assert_eq!(
        doc["components"]["schemas"]["ListWecomEmployeesParams"],
        *params
    );
    // The paginated operation's table reads the hoisted item.
    let pagination = op.get("x-pagination").expect("x-pagination");
    table::pagination(&doc, op, pagination, "x").expect("the item is named");
    // Where each came from, for errors.
    assert_eq!(
        normalized.original_location(
            "components.schemas.ListWecomEmployeesParams.properties.pageSize.type"
        ),
        "paths./wecom/employee/page.post.requestBody.content.application/json.schema.properties.paramContent.properties.pageSize.type"
    );
    assert_eq!(
        normalized.original_location("components.schemas.Employee.type"),
        "components.schemas.Employee.type"
    );
}

#[test]
fn normalising_twice_changes_nothing_more() {
    let mut doc = committed_spec();
    employees_inline(&mut doc);
    normalize::normalize(&mut doc).expect("normalises");
    let once = doc.clone();
    let again = normalize::normalize(&mut doc).expect("normalises");
    assert!(again.hoisted.is_empty());
    assert_eq!(doc, once);
}

#[test]
fn ref_chains_point_at_their_end_and_aliases_go() {
    let mut doc = committed_spec();
    doc["components"]["schemas"]["EmployeeAlias"] =
        json!({"$ref": "#/components/schemas/EmployeeAlias2"});
    doc["components"]["schemas"]["EmployeeAlias2"] =
        json!({"$ref": "#/components/schemas/Employee"});
    *doc.pointer_mut("/components/schemas/EmployeePage/properties/result/items")
        .expect("items") = json!({"$ref": "#/components/schemas/EmployeeAlias"});
    normalize::normalize(&mut doc).expect("normalises");
    check::check(&doc).expect("passes");
    assert_eq!(
        doc.pointer("/components/schemas/EmployeePage/properties/result/items/$ref"),
        Some(&json!("#/components/schemas/Employee"))
    );
    assert!(doc.pointer("/components/schemas/EmployeeAlias").is_none());
    assert!(doc.pointer("/components/schemas/EmployeeAlias2").is_none());
}

#[test]
fn a_ref_cycle_is_named_in_one_line() {
    let mut doc = committed_spec();
    doc["components"]["schemas"]["A"] = json!({"$ref": "#/components/schemas/B"});
    doc["components"]["schemas"]["B"] = json!({"$ref": "#/components/schemas/A"});
    let problem = normalize::normalize(&mut doc).expect_err("a cycle");
    assert_eq!(
        problem.to_string(),
        "components.schemas.A.$ref: the `$ref` chain A → B → A is a cycle: it names no schema"
    );
}

#[test]
fn all_of_objects_merge_into_one_object() {
    let mut doc = json!({
        "components": {"schemas": {
            "Base": {"type": "object", "required": ["id"], "description": "The base.",
                     "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
            "Named": {"allOf": [{"$ref": "#/components/schemas/Base"}]},
            "Detail": {
                "nullable": true,
                "allOf": [
                    {"$ref": "#/components/schemas/Named"},
                    {"type": "object", "required": ["seats"],
                     "properties": {"seats": {"type": "integer"}, "name": {"type": "string", "minLength": 1}}}
                ]
            },
            "Described": {"description": "An id, described.",
                          "allOf": [{"$ref": "#/components/schemas/Id"}]},
            "Id": {"type": "string"},
            "Data": {"type": "object", "properties": {
                "example": {"allOf": [{"$ref": "#/components/schemas/Base"}]}
            }, "example": {"allOf": "data, not a schema"}}
        }}
    });
    normalize::normalize(&mut doc).expect("normalises");
    assert_eq!(
        doc["components"]["schemas"]["Detail"],
        json!({
            "type": "object",
            "description": "The base.",
            "nullable": true,
            "required": ["id", "seats"],
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string", "minLength": 1},
                "seats": {"type": "integer"}
            }
        })
    );
    assert_eq!(
        doc["components"]["schemas"]["Described"],
        json!({"$ref": "#/components/schemas/Id"}),
        "allOf of one schema that is not an object: that schema"
    );
    assert_eq!(
        doc.pointer("/components/schemas/Data/properties/example/type"),
        Some(&json!("object")),
        "a property named `example` is a schema"
    );
    assert_eq!(
        doc.pointer("/components/schemas/Data/example"),
        Some(&json!({"allOf": "data, not a schema"})),
        "examples are data"
    );
}

#[test]
fn an_all_of_that_cannot_be_mapped_is_named_in_one_line() {
    let mut doc = committed_spec();
    doc["components"]["schemas"]["Employee"]["properties"]["code"] = json!({
        "allOf": [{"type": "string"}, {"type": "object", "properties": {"x": {"type": "string"}}}]
    });
    let problem = normalize::normalize(&mut doc).expect_err("unmappable");
    let line = problem.to_string();
    assert!(!line.contains('\n'));
    assert_eq!(
        line,
        "components.schemas.Employee.properties.code.allOf[0]: an `allOf` with a `string` schema cannot be mapped: the generator reads `allOf` only as the merge of object schemas (properties and required)"
    );
}

#[test]
fn a_mistake_inside_an_inline_schema_is_named_where_it_was_written() {
    let mut doc = committed_spec();
    employees_inline(&mut doc);
    *doc.pointer_mut(&format!(
        "{EMPLOYEES}/requestBody/content/application~1json/schema/properties/paramContent/properties/pageSize/type"
    ))
    .expect("pageSize") = json!("integr");
    let normalized = normalize::normalize(&mut doc).expect("normalises");
    let problem = check::check(&doc).expect_err("a typo");
    assert_eq!(
        normalized.original_location(&problem.at),
        "paths./wecom/employee/page.post.requestBody.content.application/json.schema.properties.paramContent.properties.pageSize.type"
    );
}
