//! The sandbox serves the user's data: JSON files per operation
//! (tests/fixtures/sandbox-data, `SandboxConfig::with_data_dir`), Rust
//! values and typed records, listed back through the typed client exactly as
//! given; data that breaks the spec is refused at start with the file, the
//! item and the field.

use std::path::{Path, PathBuf};

use futures::TryStreamExt;
use serde_json::{Value, json};
use shiheng::types::{Customer, Employee};
use shiheng::{Client, Config};
use shiheng_sandbox::{DataError, Sandbox, SandboxConfig};

const ABOVE_2_POW_53: i64 = 9_007_199_254_740_993;

fn fixtures() -> PathBuf {
    // The workspace's fixtures, shared with examples/service_test.rs.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/sandbox-data")
}

fn file_items(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(fixtures().join(name)).expect("fixture");
    serde_json::from_str(&text).expect("JSON")
}

async fn started(config: SandboxConfig) -> (Sandbox, Client) {
    let sandbox = Sandbox::start(config).await.expect("sandbox");
    let client =
        Client::new(Config::new(sandbox.url(), "demo-app", "demo-secret")).expect("client");
    (sandbox, client)
}

#[tokio::test]
async fn data_from_json_files_is_listed_exactly_as_given() {
    let config = SandboxConfig::default()
        .with_data_dir(fixtures())
        .expect("the fixtures read");
    assert_eq!(config.item_count("listWecomEmployees"), Some(3));
    let (sandbox, client) = started(config).await;

    let employees: Vec<Employee> = client
        .list_wecom_employees()
        .page_size(2)
        .stream()
        .try_collect()
        .await
        .expect("every employee");
    let listed: Vec<(Option<i64>, Option<&str>)> = employees
        .iter()
        .map(|e| (e.id, e.name.as_deref()))
        .collect();
    assert_eq!(
        listed,
        [
            (Some(1001), Some("王芳")),
            (Some(1002), Some("李强")),
            (Some(ABOVE_2_POW_53), Some("张伟")),
        ]
    );
    let phones: Vec<Option<String>> = employees
        .iter()
        .map(|e| e.phone.as_ref().map(ToString::to_string))
        .collect();
    assert_eq!(
        phones,
        [
            Some("13577770000".to_string()),
            Some("13577770001".to_string()),
            None
        ]
    );

    // On the wire, byte for byte the file's items (page size 50: one page).
    let raw = client
        .call_raw(
            "listWecomEmployees",
            "/wecom/employee/page",
            Some(&json!({"pageNum": 1, "pageSize": 50})),
        )
        .await
        .expect("a page");
    assert_eq!(
        raw.body["result"]["result"],
        Value::Array(file_items("listWecomEmployees.json"))
    );
    assert_eq!(raw.body["result"]["total"], json!(3));

    // A cursor listing serves the items in ascending id order.
    let customers: Vec<Customer> = client
        .list_wecom_customers()
        .page_size(1)
        .stream()
        .try_collect()
        .await
        .expect("every customer");
    let ids: Vec<Option<i64>> = customers.iter().map(|c| c.id).collect();
    assert_eq!(ids, [Some(100), Some(200), Some(300)]);
    assert_eq!(customers[0].remark.as_deref(), Some("喜欢微辣"));

    // Operations without a file keep their generated data.
    assert_eq!(sandbox.item_count("listWecomGroupChats"), Some(120));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn rust_values_and_typed_records_are_served() {
    // The records are non-exhaustive: built from defaults, field by field.
    let mut first = Employee::default();
    first.id = Some(7);
    first.name = Some("赵敏".into());
    let mut second = Employee::default();
    second.id = Some(8);
    second.name = Some("周杰".into());
    second.gender = Some("1".into());
    let records = vec![first, second];
    let config = SandboxConfig::default()
        .with_records("listWecomEmployees", records.clone())
        .expect("records serialize")
        .with_items(
            "listWecomGroupChats",
            vec![json!({"id": 5, "chatName": "会员群"})],
        );
    let (sandbox, client) = started(config).await;
    let employees: Vec<Employee> = client
        .list_wecom_employees()
        .stream()
        .try_collect()
        .await
        .expect("employees");
    assert_eq!(employees, records);
    let chats = client
        .list_wecom_group_chats()
        .send()
        .await
        .expect("a page");
    let names: Vec<_> = chats
        .result
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.chat_name)
        .collect();
    assert_eq!(names, [Some("会员群".to_string())]);
    sandbox.shutdown().await;
}

/// Writes `files` into a fresh directory and starts a sandbox on it.
async fn start_with_files(files: &[(&str, &str)]) -> Result<Sandbox, String> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let config = SandboxConfig::default()
        .with_data_dir(dir.path())
        .map_err(|e: DataError| e.to_string())?;
    Sandbox::start(config).await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn data_that_breaks_the_spec_is_refused_naming_file_item_and_field() {
    let cases: [(&str, &str, &str); 8] = [
        (
            "listWecomEmployees.json",
            r#"[{"id": 1}, {"id": 2, "name": 7}]"#,
            "listWecomEmployees.json: item 1: `name` must be a string, not an integer",
        ),
        (
            "listWecomEmployees.json",
            r#"[{"id": 1, "nickName": "x"}]"#,
            "listWecomEmployees.json: item 0: `nickName` is not a field of Employee",
        ),
        (
            "listWecomEmployees.json",
            r#"[{"id": 1, "followUserFlag": 2}]"#,
            "item 0: `followUserFlag` matches none of its forms (boolean or integer)",
        ),
        (
            "listWecomEmployees.json",
            r#"[{"id": 1}, {"id": 1}]"#,
            "listWecomEmployees.json: item 1: `id` 1 repeats item 0's: ids must be unique",
        ),
        (
            "listWecomCustomers.json",
            r#"[{"id": 1}, {"name": "no id"}]"#,
            "listWecomCustomers.json: item 1: `id` is needed: a cursor listing serves its items in the order of this key",
        ),
        (
            "listWecomCustomers.json",
            r#"{"id": 1}"#,
            "listWecomCustomers.json: must be a JSON array of Customer items, not object",
        ),
        (
            "listWecomCustomers.json",
            r#"[{"id": 1},"#,
            "listWecomCustomers.json: is not JSON: EOF while parsing a value at line 1 column 11",
        ),
        (
            "listWecomEmployes.json",
            "[]",
            "listWecomEmployes.json: `listWecomEmployes` is not an operationId of the spec (it has listWecomEmployees, ",
        ),
    ];
    for (name, text, want) in cases {
        let error = start_with_files(&[(name, text)])
            .await
            .err()
            .unwrap_or_else(|| panic!("{name} {text} was accepted"));
        assert!(error.contains(want), "{error:?}\nlacks {want:?}");
    }
    // The same checks without starting, for Rust values.
    let error = SandboxConfig::default()
        .with_items("listWecomGroupChats", vec![json!({"id": "5"})])
        .validate()
        .expect_err("a string id");
    assert_eq!(
        error.to_string(),
        "with_items(listWecomGroupChats): item 0: `id` must be an integer, not a string"
    );
    assert_eq!((error.item, error.field.as_deref()), (Some(0), Some("id")));
}
