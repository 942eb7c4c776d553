//! Request signing: owns the canonical JSON form, the string to sign and the
//! default MD5 rule, as pure functions of (envelope parameters, secret). The
//! client's transport, the sandbox's verifier and `shiheng sign` all call
//! this module, so they cannot disagree.

use std::fmt;

use md5::{Digest, Md5};
use secrecy::{ExposeSecret, SecretString};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

/// The envelope parameters that a signature covers (everything but `sign`).
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    /// The application's id (`appId`).
    pub app_id: &'a str,
    /// Request time in epoch milliseconds (`timestamp`).
    pub timestamp: i64,
    /// API version (`version`).
    pub version: &'a str,
    /// The endpoint's parameters (`paramContent`), when the request has them.
    pub param_content: Option<&'a Value>,
}

/// A computed signature, with the text it was computed over (neither holds
/// the secret, so Debug shows both).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Signature {
    /// The string to sign *without* the secret (what the platform's support
    /// asks for when a sign is rejected; safe to log).
    pub string_to_sign: String,
    /// The `sign` field's value.
    pub sign: String,
}

/// A signing rule. The default is [`Md5Signer`]; implement this trait to plug
/// in another rule (another digest, another placement of the secret) without
/// forking the client.
pub trait Signer: Send + Sync + fmt::Debug {
    /// Signs `input` with `secret`; fails when `input` has no string to
    /// sign (a `paramContent` without a canonical form).
    fn sign(
        &self,
        input: &SignInput<'_>,
        secret: &SecretString,
    ) -> Result<Signature, serde_json::Error>;
}

/// The platform's default rule (see `spec/shiheng-open.yaml`, `info.description`):
/// parameters sorted by name and joined as `name=value` with `&`, the secret
/// appended, MD5 in hex.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Md5Signer {
    uppercase: bool,
}

impl Md5Signer {
    /// The default rule with lowercase hex.
    pub fn new() -> Self {
        Self::default()
    }

    /// The default rule with uppercase hex, for integrations issued that way.
    pub fn uppercase() -> Self {
        Self { uppercase: true }
    }

    /// Signs an envelope whose `paramContent` is given as the JSON text
    /// sent (or received), canonicalised from that text by
    /// [`canonical_json_text`]: integers keep every digit whatever their
    /// size, which a [`Value`] cannot hold beyond 64 bits. What the sandbox
    /// verifies and what `shiheng sign` prints. Fails when the text is not
    /// JSON or an object in it repeats a key.
    pub fn sign_json_text(
        &self,
        app_id: &str,
        timestamp: i64,
        version: &str,
        param_content: Option<&str>,
        secret: &SecretString,
    ) -> Result<Signature, serde_json::Error> {
        let canonical = param_content.map(canonical_json_text).transpose()?;
        let string_to_sign = assemble(app_id, timestamp, version, canonical.as_deref());
        Ok(self.digest(string_to_sign, secret))
    }

    fn digest(&self, string_to_sign: String, secret: &SecretString) -> Signature {
        let mut md5 = Md5::new();
        md5.update(string_to_sign.as_bytes());
        md5.update(secret.expose_secret().as_bytes());
        // Hex by table: `format!` per byte costs more than the MD5 itself.
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut sign: String = md5
            .finalize()
            .iter()
            .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0x0f)]])
            .map(char::from)
            .collect();
        if self.uppercase {
            sign.make_ascii_uppercase();
        }
        Signature {
            string_to_sign,
            sign,
        }
    }
}

impl Signer for Md5Signer {
    fn sign(
        &self,
        input: &SignInput<'_>,
        secret: &SecretString,
    ) -> Result<Signature, serde_json::Error> {
        Ok(self.digest(string_to_sign(input)?, secret))
    }
}

/// The default rule's string to sign, before the secret: parameter names in
/// byte order (`appId` < `paramContent` < `timestamp` < `version`), each as
/// `name=value`, joined with `&`; `paramContent` in the canonical form of
/// its JSON text ([`canonical_json_text`]). A [`Value`] holds integers
/// beyond 64 bits as doubles: sign such a `paramContent` from its text,
/// [`Md5Signer::sign_json_text`]. Fails when `paramContent` is nested
/// deeper than 128 levels, which has no canonical form.
pub fn string_to_sign(input: &SignInput<'_>) -> Result<String, serde_json::Error> {
    let canonical = input
        .param_content
        .map(|value| canonical_json_text(&value.to_string()))
        .transpose()?;
    Ok(assemble(
        input.app_id,
        input.timestamp,
        input.version,
        canonical.as_deref(),
    ))
}

fn assemble(app_id: &str, timestamp: i64, version: &str, params: Option<&str>) -> String {
    let params = params.map(|params| format!("&paramContent={params}"));
    let params = params.as_deref().unwrap_or_default();
    format!("appId={app_id}{params}&timestamp={timestamp}&version={version}")
}

/// The canonical JSON of a JSON text: compact, object keys sorted by byte
/// order at every depth, array order kept, non-ASCII written as itself,
/// only `"`, `\\` and control characters escaped, numbers taken from the
/// text itself: an integer is written as its decimal digits, exact at any
/// size (`18446744073709551616` stays so; a [`Value`] would hold it as a
/// double), `-0` as `0`. Fails when the text is not JSON, is nested deeper
/// than 128 levels, or an object in it repeats a key (which value a
/// repeated key means depends on the parser: no signature can cover it).
pub fn canonical_json_text(text: &str) -> Result<String, serde_json::Error> {
    let mut out = String::with_capacity(text.len());
    write_canonical(&mut out, serde_json::from_str(text)?, 0)?;
    Ok(out)
}

/// Nesting deeper than this is refused (serde_json's own parser stops at 128).
const MAX_DEPTH: usize = 128;

/// Appends the canonical JSON of `raw`, found at `depth`, to `out`.
fn write_canonical(
    out: &mut String,
    raw: &RawValue,
    depth: usize,
) -> Result<(), serde_json::Error> {
    use serde::de::Error as _;
    if depth > MAX_DEPTH {
        return Err(serde_json::Error::custom(format!(
            "nested deeper than {MAX_DEPTH} levels: no canonical form"
        )));
    }
    let text = raw.get().trim();
    match text.as_bytes().first() {
        Some(b'{') => {
            let mut entries = serde_json::Deserializer::from_str(text).deserialize_map(Entries)?;
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            if let Some(w) = entries.windows(2).find(|w| w[0].0 == w[1].0) {
                let repeated = format!("the key {:?} is repeated", w[0].0);
                return Err(serde_json::Error::custom(repeated));
            }
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                out.push_str(if i > 0 { "," } else { "" });
                out.push_str(&serde_json::to_string(&key)?);
                out.push(':');
                write_canonical(out, value, depth + 1)?;
            }
            out.push('}');
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(text)?;
            out.push('[');
            for (i, item) in items.into_iter().enumerate() {
                out.push_str(if i > 0 { "," } else { "" });
                write_canonical(out, item, depth + 1)?;
            }
            out.push(']');
        }
        // Only `"`, `\\` and control characters escaped, as serde_json
        // escapes them (`\n`, `\u001f`, ...); non-ASCII written as itself.
        Some(b'"') => {
            let string: String = serde_json::from_str(text)?;
            out.push_str(&serde_json::to_string(&string)?);
        }
        Some(b't' | b'f' | b'n') => out.push_str(text),
        // An integer (the text is JSON: digits after an optional minus):
        // its digits as sent, at any size; -0 is 0.
        _ if text == "-0" => out.push('0'),
        _ if text.bytes().all(|b| b.is_ascii_digit() || b == b'-') => out.push_str(text),
        // Not an integer (the rule does not define these): as serde_json
        // writes the double, `-0.0` as `0`.
        _ => match serde_json::from_str::<serde_json::Number>(text)? {
            n if n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative()) => out.push('0'),
            n => out.push_str(&n.to_string()),
        },
    }
    Ok(())
}

/// Reads an object's entries in the order of the text, repeats kept.
struct Entries;

impl<'de> Visitor<'de> for Entries {
    type Value = Vec<(String, &'de RawValue)>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            entries.push((key, map.next_value()?));
        }
        Ok(entries)
    }
}

/// Compares two signs in constant time (for verifiers), ignoring hex case.
pub fn signs_match(expected: &str, received: &str) -> bool {
    let (a, b) = (expected.as_bytes(), received.as_bytes());
    let diff = (a.iter().zip(b)).fold(0u8, |diff, (x, y)| {
        diff | (x.to_ascii_lowercase() ^ y.to_ascii_lowercase())
    });
    a.len() == b.len() && diff == 0
}

/// Where request timestamps come from; inject a fixed clock in tests.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> i64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that always answers the same instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_millis(&self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_and_keeps_unicode() {
        let v: Value =
            serde_json::from_str(r#"{"b":[{"z":1,"a":"é\u0001"}],"a":"张三","c":null}"#).unwrap();
        assert_eq!(
            canonical_json_text(&v.to_string()).unwrap(),
            r#"{"a":"张三","b":[{"a":"é\u0001","z":1}],"c":null}"#
        );
    }

    #[test]
    fn strings_escape_only_quotes_backslashes_and_control_characters() {
        let text: String = (0u8..0x20)
            .map(char::from)
            .chain("\"\\/\u{7f}é张".chars())
            .collect();
        let mut expected = String::from("\"");
        for c in text.chars() {
            match c {
                '"' => expected.push_str("\\\""),
                '\\' => expected.push_str("\\\\"),
                '\n' => expected.push_str("\\n"),
                '\r' => expected.push_str("\\r"),
                '\t' => expected.push_str("\\t"),
                '\u{08}' => expected.push_str("\\b"),
                '\u{0c}' => expected.push_str("\\f"),
                c if (c as u32) < 0x20 => expected.push_str(&format!("\\u{:04x}", c as u32)),
                c => expected.push(c),
            }
        }
        expected.push('"');
        let json = serde_json::to_string(&text).unwrap();
        assert_eq!(canonical_json_text(&json).unwrap(), expected);
    }

    #[test]
    fn signs_match_is_case_insensitive_and_length_strict() {
        assert!(signs_match("0f63ab", "0F63AB"));
        assert!(!signs_match("0f63ab", "0f63ac"));
        assert!(!signs_match("0f63ab", "0f63a"));
    }
}
