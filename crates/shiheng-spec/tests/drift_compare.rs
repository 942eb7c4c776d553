//! `shiheng_spec::drift::compare` on answers of the three published endpoints:
//! a conforming page (the samples' wire forms included) has no drift, and
//! each kind of difference is reported with its path and a count. No HTTP.

use serde_json::json;
use shiheng_spec::drift::{Drift, DriftKind, compare};

fn kinds(drifts: &[Drift]) -> Vec<(String, DriftKind)> {
    drifts.iter().map(|d| (d.path.clone(), d.kind)).collect()
}

#[test]
fn a_conforming_page_has_no_drift() {
    let page = json!({
        "code": "0", "msg": null, "traceId": "t",
        "result": {"pages": 1, "total": 2, "result": [
            {"id": 9_007_199_254_740_993_i64, "status": 6, "phone": 13_577_770_000_i64,
             "followUserFlag": false, "gender": "0"},
            {"id": 2, "status": null, "phone": "13577770001", "followUserFlag": 1}
        ]}
    });
    assert_eq!(
        compare("listWecomEmployees", "ListWecomEmployeesResponse", &page),
        []
    );
}

#[test]
fn every_kind_is_reported_with_its_path() {
    let page = json!({
        "msg": null,
        "result": {"pages": "1", "result": [
            {"id": 1, "status": 9, "nickname": "x"},
            {"id": 2, "phone": true, "nickname": "y"},
            {"id": 3_000_000_000_i64, "status": 3_000_000_000_i64}
        ]}
    });
    let drifts = compare("listWecomEmployees", "ListWecomEmployeesResponse", &page);
    assert_eq!(
        kinds(&drifts),
        [
            ("code".to_string(), DriftKind::MissingRequired),
            ("result.pages".to_string(), DriftKind::TypeMismatch),
            (
                "result.result[0].nickname".to_string(),
                DriftKind::UnknownField
            ),
            (
                "result.result[0].status".to_string(),
                DriftKind::UnknownValue
            ),
            (
                "result.result[1].phone".to_string(),
                DriftKind::TypeMismatch
            ),
            ("result.result[2].status".to_string(), DriftKind::OutOfRange),
        ]
    );
    assert_eq!(drifts[2].occurrences, 2);
    assert_eq!(
        drifts[1].to_string(),
        "listWecomEmployees: result.pages: string where the spec says integer"
    );
    assert_eq!(
        drifts[4].to_string(),
        "listWecomEmployees: result.result[1].phone: boolean where the spec says string or integer"
    );
}
