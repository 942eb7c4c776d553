//! The default signing rule against the independent vectors of
//! tests/fixtures/sign-vectors.json: the string to sign, then the sign, then
//! the uppercase option, then the verifier's comparison, for every case.

mod common;

use secrecy::SecretString;
use serde_json::Value;
use shiheng::sign::{Md5Signer, SignInput, Signer, signs_match, string_to_sign};

#[test]
fn every_vector_reproduces_string_to_sign_and_sign() {
    let vectors: Value = serde_json::from_str(&common::fixture("sign-vectors.json")).unwrap();
    let cases = vectors["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 8, "the fixture has eight cases");
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let input = SignInput {
            app_id: case["appId"].as_str().unwrap(),
            timestamp: case["timestamp"].as_i64().unwrap(),
            version: case["version"].as_str().unwrap(),
            param_content: case.get("paramContent"),
        };
        let secret = SecretString::from(case["appSecret"].as_str().unwrap());

        assert_eq!(
            string_to_sign(&input),
            case["stringToSign"].as_str().unwrap(),
            "{name}: string to sign"
        );
        let lower = Md5Signer::new().sign(&input, &secret);
        assert_eq!(
            lower.string_to_sign,
            case["stringToSign"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(lower.sign, case["sign"].as_str().unwrap(), "{name}: sign");
        let upper = Md5Signer::uppercase().sign(&input, &secret);
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
fn signature_never_contains_the_secret() {
    let secret = SecretString::from("demo-secret");
    let input = SignInput {
        app_id: "demo-app",
        timestamp: 1_700_000_000_000,
        version: "1.0",
        param_content: None,
    };
    let signature = Md5Signer::new().sign(&input, &secret);
    assert!(!format!("{signature:?}").contains("demo-secret"));
    assert!(!signature.string_to_sign.contains("demo-secret"));
}
