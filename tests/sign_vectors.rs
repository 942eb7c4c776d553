//! The default signing rule against the independent vectors of
//! tests/fixtures/sign-vectors.json (copied verbatim from the platform's
//! `shared/platform/sign-vectors.json`; see tests/fixtures/README.md): the
//! string to sign, then the sign, then the uppercase option, then the
//! verifier's comparison, for every case; from the parsed `paramContent`
//! and from the text sent (`paramContentText` where a case gives one:
//! integers beyond 64 bits, `-0`), which is what the sandbox verifies.

mod common;

use secrecy::SecretString;
use serde_json::Value;
use shiheng::sign::{
    Md5Signer, SignInput, Signer, canonical_json_text, signs_match, string_to_sign,
};

fn cases() -> Vec<Value> {
    let vectors: Value = serde_json::from_str(&common::fixture("sign-vectors.json")).unwrap();
    vectors["cases"].as_array().unwrap().clone()
}

/// The JSON text a case's request sends: `paramContentText`, else the
/// parsed `paramContent` written back.
fn text_sent(case: &Value) -> Option<String> {
    match case.get("paramContentText") {
        Some(text) => Some(text.as_str().unwrap().to_string()),
        None => case.get("paramContent").map(Value::to_string),
    }
}

#[test]
fn every_vector_reproduces_string_to_sign_and_sign() {
    let cases = cases();
    assert_eq!(cases.len(), 10, "the fixture has ten cases");
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        if case.get("paramContentText").is_some() {
            // A Value holds these numbers as doubles: only the text path applies.
            continue;
        }
        let input = SignInput {
            app_id: case["appId"].as_str().unwrap(),
            timestamp: case["timestamp"].as_i64().unwrap(),
            version: case["version"].as_str().unwrap(),
            param_content: case.get("paramContent"),
        };
        let secret = SecretString::from(case["appSecret"].as_str().unwrap());

        assert_eq!(
            string_to_sign(&input).unwrap(),
            case["stringToSign"].as_str().unwrap(),
            "{name}: string to sign"
        );
        let lower = Md5Signer::new().sign(&input, &secret).unwrap();
        assert_eq!(
            lower.string_to_sign,
            case["stringToSign"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(lower.sign, case["sign"].as_str().unwrap(), "{name}: sign");
        let upper = Md5Signer::uppercase().sign(&input, &secret).unwrap();
        assert_eq!(
            upper.sign,
            case["signUppercase"].as_str().unwrap(),
            "{name}: uppercase"
        );
        // What the sandbox's verifier compares: either case is accepted.
        for received in [&lower.sign, &upper.sign] {
            assert!(signs_match(&lower.sign, received), "{name}: verifier");
        }
    }
}

#[test]
fn every_vector_reproduces_its_sign_from_the_text_sent() {
    for case in &cases() {
        let name = case["name"].as_str().unwrap();
        let secret = SecretString::from(case["appSecret"].as_str().unwrap());
        let text = text_sent(case);
        for (signer, field) in [
            (Md5Signer::new(), "sign"),
            (Md5Signer::uppercase(), "signUppercase"),
        ] {
            let signature = signer
                .sign_json_text(
                    case["appId"].as_str().unwrap(),
                    case["timestamp"].as_i64().unwrap(),
                    case["version"].as_str().unwrap(),
                    text.as_deref(),
                    &secret,
                )
                .unwrap();
            assert_eq!(
                signature.string_to_sign,
                case["stringToSign"].as_str().unwrap(),
                "{name}: string to sign from the text"
            );
            assert_eq!(signature.sign, case[field].as_str().unwrap(), "{name}");
        }
    }
}

#[test]
fn the_canonical_form_keeps_integers_exact_and_writes_minus_zero_as_zero() {
    assert_eq!(
        canonical_json_text(r#"{"b":18446744073709551616,"a":-123456789012345678901234567890}"#)
            .unwrap(),
        r#"{"a":-123456789012345678901234567890,"b":18446744073709551616}"#
    );
    assert_eq!(
        canonical_json_text(r#"{"z":-0,"y":[-0,0,-00000]}"#).ok(),
        None,
        "00000 is not JSON"
    );
    assert_eq!(
        canonical_json_text(r#" {"z":-0, "y":[ -0, 0 ]} "#).unwrap(),
        r#"{"y":[0,0],"z":0}"#
    );
    // A Value's text agrees where a Value can hold the number.
    let value: Value = serde_json::from_str(r#"{"offset":-0,"n":9007199254740993}"#).unwrap();
    assert_eq!(
        canonical_json_text(&value.to_string()).unwrap(),
        r#"{"n":9007199254740993,"offset":0}"#
    );
    // A repeated key has no canonical form.
    let repeated = canonical_json_text(r#"{"a":1,"b":{"c":1,"c":2}}"#).unwrap_err();
    assert!(
        repeated.to_string().contains("\"c\" is repeated"),
        "{repeated}"
    );
}

#[test]
fn signature_never_contains_the_secret() {
    let secret = SecretString::from("demo-secret");
    let input = SignInput {
        app_id: "demo-app",
        timestamp: 1_700_000_000_000,
        version: "1.0",
        param_content: None,
    };
    let signature = Md5Signer::new().sign(&input, &secret).unwrap();
    assert!(!format!("{signature:?}").contains("demo-secret"));
    assert!(!signature.string_to_sign.contains("demo-secret"));
}

/// A `paramContent` nested deeper than 128 levels has no canonical form:
/// signing it is refused with an error saying so, never signed over some
/// other (unsorted) text.
#[test]
fn a_value_nested_too_deeply_is_refused_not_signed_unsorted() {
    let mut value = serde_json::json!({"b": 1, "a": 2});
    for _ in 0..200 {
        value = serde_json::json!([value]);
    }
    let input = SignInput {
        app_id: "demo-app",
        timestamp: 1_700_000_000_000,
        version: "1.0",
        param_content: Some(&value),
    };
    let refused = string_to_sign(&input).unwrap_err();
    assert!(refused.to_string().contains("128 levels"), "{refused}");
    let secret = SecretString::from("demo-secret");
    let refused = Md5Signer::new().sign(&input, &secret).unwrap_err();
    assert!(refused.to_string().contains("128 levels"), "{refused}");
    let text = value.to_string();
    let refused = canonical_json_text(&text).unwrap_err();
    assert!(refused.to_string().contains("128 levels"), "{refused}");
    // At the limit, the canonical form is written (and sorted).
    let mut value = serde_json::json!({"b": 1, "a": 2});
    for _ in 0..127 {
        value = serde_json::json!([value]);
    }
    let canonical = canonical_json_text(&value.to_string()).unwrap();
    assert!(canonical.contains(r#"{"a":2,"b":1}"#), "{canonical}");
}
