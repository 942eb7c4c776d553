//! Every published sample (tests/fixtures/samples, verbatim) decodes into the
//! generated types, with the values the platform sent, including where the
//! samples contradict the field tables.

mod common;

use shiheng::lenient::{EmployeeStatus, PlatformTime};
use shiheng::types::{
    ListWecomCustomersResponse, ListWecomEmployeesResponse, ListWecomGroupChatsResponse,
};

#[test]
fn employee_sample_decodes_with_undocumented_status() {
    let envelope: ListWecomEmployeesResponse =
        serde_json::from_str(&common::fixture("samples/wecom-employee-page.json")).unwrap();
    assert_eq!(envelope.code.as_deref(), Some("0"));
    assert_eq!(envelope.msg, None);
    assert_eq!(
        envelope.trace_id.as_deref(),
        Some("1a2f11b046bf414ea6e5dc0c97860460")
    );
    let page = envelope.result.unwrap();
    assert_eq!((page.pages, page.total), (Some(232), Some(464)));
    let employees = page.result.unwrap();
    assert_eq!(employees.len(), 2);
    assert_eq!(employees[0].id, Some(1_473_493));
    assert_eq!(employees[1].id, Some(1_473_494));
    assert_eq!(employees[0].status, Some(EmployeeStatus::Undocumented(6)));
    assert_eq!(employees[0].status.unwrap().code(), 6);
    assert_eq!(employees[0].follow_user_flag, Some(false));
    assert_eq!(employees[0].we_com_user_id.as_deref(), Some("xxxx"));
    assert_eq!(employees[0].phone, None);
    assert_eq!(employees[0].gender, None);
}

#[test]
fn customer_sample_keeps_the_13_digit_phone_and_millis() {
    let envelope: ListWecomCustomersResponse =
        serde_json::from_str(&common::fixture("samples/wecom-customer-list.json")).unwrap();
    assert_eq!(
        envelope.trace_id.as_deref(),
        Some("13d0f3a6dadf4487b91a1ed2fe85bed5")
    );
    let page = envelope.result.unwrap();
    assert_eq!(page.next_start_id, Some(105_295));
    assert_eq!(page.page_size, Some(2));
    let customers = page.result.unwrap();
    assert_eq!(customers[0].id, Some(1234));
    assert_eq!(customers[0].member_id, Some(1234));
    assert_eq!(customers[0].phone.as_deref(), Some("13577770000"));
    assert_eq!(
        customers[0].sh_create_time,
        Some(PlatformTime::EpochMillis(1_666_751_098_000))
    );
    assert_eq!(customers[1].name.as_deref(), Some("李四"));
    assert_eq!(customers[1].phone, None);
    assert_eq!(customers[1].union_id, None);
    assert_eq!(
        customers[1]
            .sh_create_time
            .as_ref()
            .and_then(PlatformTime::epoch_millis),
        Some(1_728_960_079_000)
    );
}

#[test]
fn group_chat_sample_decodes() {
    let envelope: ListWecomGroupChatsResponse =
        serde_json::from_str(&common::fixture("samples/wecom-group-chat-list.json")).unwrap();
    let page = envelope.result.unwrap();
    assert_eq!(page.next_start_id, Some(133));
    let chats = page.result.unwrap();
    assert_eq!(chats.len(), 2);
    assert_eq!(chats[0].id, Some(132));
    assert_eq!(chats[0].employee_id, Some(1_444_448));
    assert_eq!(chats[0].num, Some(15));
    assert_eq!(chats[0].status, Some(0));
    assert_eq!(
        chats[0].chat_create_time,
        Some(PlatformTime::EpochMillis(1_648_353_114_000))
    );
    assert_eq!(chats[1].chat_name.as_deref(), Some("123sda"));
    assert_eq!(chats[1].notice, None);
}

#[test]
fn lenient_forms_decode_and_ids_stay_exact() {
    let json = r#"{"id": 9007199254740993, "status": "2", "followUserFlag": 1,
        "phone": "13577770000", "unknownField": {"x": 1}}"#;
    let e: shiheng::types::Employee = serde_json::from_str(json).unwrap();
    assert_eq!(e.id, Some(9_007_199_254_740_993));
    assert_eq!(e.status, Some(EmployeeStatus::Disabled));
    assert_eq!(e.follow_user_flag, Some(true));
    assert_eq!(e.phone.as_deref(), Some("13577770000"));
    assert_eq!(
        e.extra["unknownField"].to_value(),
        serde_json::json!({"x": 1})
    );
    let c: shiheng::types::Customer =
        serde_json::from_str(r#"{"phone": 13577770000, "shCreateTime": "2022-10-26 10:24:58"}"#)
            .unwrap();
    assert_eq!(c.phone.as_deref(), Some("13577770000"));
    assert_eq!(
        c.sh_create_time,
        Some(PlatformTime::Text("2022-10-26 10:24:58".into()))
    );
}

/// Every sample in tests/fixtures/samples, including those `shiheng spec
/// import --write` saves, is the answer of an operation of the spec (its file
/// name is the operation's path with `-` for `/`) and matches that
/// operation's response schema with no drift: no undeclared field, no value
/// outside the known values, no JSON type the schema does not allow.
#[test]
fn every_saved_sample_matches_its_operation_in_the_spec() {
    let spec: serde_json::Value = serde_json::from_str(shiheng::spec::SPEC_JSON).unwrap();
    let paths = spec["paths"].as_object().unwrap();
    let dir = format!("{}/tests/fixtures/samples", env!("CARGO_MANIFEST_DIR"));
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().path();
        let stem = file.file_stem().unwrap().to_str().unwrap().to_string();
        let (path, item) = paths
            .iter()
            .find(|(path, _)| path.trim_matches('/').replace('/', "-") == stem)
            .unwrap_or_else(|| panic!("{stem}.json belongs to no path of the spec"));
        let operation = &item["post"];
        let schema = operation
            .pointer("/responses/200/content/application~1json/schema/$ref")
            .and_then(serde_json::Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .unwrap_or_else(|| panic!("{path}: no 200 schema"));
        let sample: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let drift = shiheng_spec::drift::compare(
            operation["operationId"].as_str().unwrap(),
            schema,
            &sample,
        );
        assert!(drift.is_empty(), "{stem}.json against {schema}: {drift:#?}");
        checked.push(stem);
    }
    checked.sort();
    assert!(
        checked.len() >= 3,
        "the published samples are all there: {checked:?}"
    );
}
