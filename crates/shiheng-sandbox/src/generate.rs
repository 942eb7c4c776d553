//! Data for any schema of the spec, generated deterministically from a
//! random stream: every JSON type, integer and number bounds and formats,
//! string lengths and common formats, `enum` and `x-known-values`,
//! nullable fields (sometimes null), the lenient wire forms (`anyOf` /
//! `oneOf`: a branch is picked per value), `allOf` (merged), arrays and
//! nested objects. Every value it makes conforms to the schema, so the
//! drift checker sees no difference in a sandbox that is not in drift mode.
//! Ids and cursor keys are the table's business (`table`), not this one's.

use serde_json::{Map, Number, Value, json};

use super::rng::Rng;
use shiheng::spec::{self, MAX_DEPTH};

/// Share of nullable values generated as `null`.
const NULL_SHARE: f64 = 0.15;
/// Deepest nesting generated; deeper optional parts are left out, so a
/// recursive schema still ends.
const MAX_NESTING: usize = 8;
/// Widest range of integers drawn when the schema has no bounds, so that
/// generated numbers stay readable.
const INTEGER_SPAN: i64 = 999_999;

/// Generates values of the spec's schemas.
pub(crate) struct Generator<'s> {
    spec: &'s Value,
}

impl<'s> Generator<'s> {
    pub(crate) fn new(spec: &'s Value) -> Self {
        Self { spec }
    }

    /// A value of `schema`; `name` is the field it goes in (text values are
    /// derived from it, so generated data reads as what it is).
    pub(crate) fn value(&self, schema: &Value, name: &str, rng: &mut Rng) -> Value {
        self.at(schema, name, rng, 0)
    }

    fn at(&self, schema: &Value, name: &str, rng: &mut Rng, depth: usize) -> Value {
        let Some(schema) = spec::resolve(self.spec, schema) else {
            return Value::Null;
        };
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        if let Some(branches) = spec::branches(schema)
            && !branches.is_empty()
        {
            let branch = rng.pick(branches);
            return self.at(branch, name, rng, depth + 1);
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            let merged = spec::merge_all_of(self.spec, all);
            return self.at(&merged, name, rng, depth + 1);
        }
        if schema.get("nullable") == Some(&Value::Bool(true)) && rng.chance(NULL_SHARE) {
            return Value::Null;
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array)
            && !values.is_empty()
        {
            return rng.pick(values).clone();
        }
        if let Some(known) = schema.get("x-known-values").and_then(Value::as_array)
            && !known.is_empty()
        {
            return rng.pick(known).clone();
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("integer") => json!(integer(schema, rng)),
            Some("number") => number(schema, rng),
            Some("boolean") => json!(rng.chance(0.5)),
            Some("array") => self.array(schema, name, rng, depth),
            Some("object") => Value::Object(self.object(schema, rng, depth)),
            Some(_) | None if schema.get("properties").is_some() => {
                Value::Object(self.object(schema, rng, depth))
            }
            _ => json!(string(schema, name, rng)),
        }
    }

    /// An object of `schema`: every declared property (a list of fields the
    /// platform sends), the nullable ones sometimes null; past
    /// [`MAX_NESTING`] only the required ones.
    pub(crate) fn object(&self, schema: &Value, rng: &mut Rng, depth: usize) -> Map<String, Value> {
        let mut out = Map::new();
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            return out;
        };
        let required: Vec<&str> = spec::required(schema).collect();
        for (field, property) in properties {
            if depth >= MAX_NESTING && !required.contains(&field.as_str()) {
                continue;
            }
            out.insert(field.clone(), self.at(property, field, rng, depth + 1));
        }
        out
    }

    fn array(&self, schema: &Value, name: &str, rng: &mut Rng, depth: usize) -> Value {
        let min = usize_of(schema, "minItems").unwrap_or(0);
        let max = usize_of(schema, "maxItems").unwrap_or(usize::MAX).max(min);
        let wanted = if depth >= MAX_NESTING {
            min
        } else {
            (rng.below(4) as usize).clamp(min, max.min(min.max(3)))
        };
        let items = schema.get("items").unwrap_or(&Value::Null);
        Value::Array(
            (0..wanted)
                .map(|_| self.at(items, name, rng, depth + 1))
                .collect(),
        )
    }
}

/// An integer within the schema's bounds and format, drawn from a readable
/// range near the lower bound (or zero) when the schema leaves it open.
pub(crate) fn integer(schema: &Value, rng: &mut Rng) -> i64 {
    let (min, max) = spec::integer_bounds(schema);
    if min > max {
        return min;
    }
    let lo = if min <= 0 && max >= 0 { 0 } else { min };
    let lo = if max < 0 {
        max.saturating_sub(INTEGER_SPAN).max(min)
    } else {
        lo
    };
    let hi = max.min(lo.saturating_add(INTEGER_SPAN));
    rng.between(lo, hi)
}

fn number(schema: &Value, rng: &mut Rng) -> Value {
    let min = schema.get("minimum").and_then(Value::as_f64);
    let max = schema.get("maximum").and_then(Value::as_f64);
    let lo = min.unwrap_or(0.0).max(-1e15);
    let hi = max.unwrap_or(lo + 10_000.0).min(1e15).max(lo);
    // Two decimals, like prices and ratios, and never past a bound.
    let v = ((lo + rng.next_f64() * (hi - lo)) * 100.0).round() / 100.0;
    let v = v.clamp(lo, hi);
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// Text for the field `name`: a recognisable value of the schema's
/// `format` (date-time, date, email, uri, uuid) or `name` with a random
/// suffix, within `minLength`/`maxLength`. `pattern` is not followed.
fn string(schema: &Value, name: &str, rng: &mut Rng) -> String {
    let n = rng.next_u64();
    let text = match schema.get("format").and_then(Value::as_str) {
        Some("date-time") => {
            let (y, m, d) = date(n);
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
                (n >> 20) % 24,
                (n >> 28) % 60,
                (n >> 36) % 60
            )
        }
        Some("date") => {
            let (y, m, d) = date(n);
            format!("{y:04}-{m:02}-{d:02}")
        }
        Some("email") => format!("user{}@example.com", n % 100_000),
        Some("uri" | "url") => format!("https://example.com/{}/{}", slug(name), n % 100_000),
        Some("uuid") => {
            let m = rng.next_u64();
            format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                n >> 32,
                (n >> 16) & 0xFFFF,
                n & 0xFFF,
                m >> 52,
                m & 0xFFFF_FFFF_FFFF
            )
        }
        _ => format!("{}-{:06x}", slug(name), n & 0xFF_FFFF),
    };
    fit_length(schema, text)
}

fn date(n: u64) -> (u64, u64, u64) {
    (2020 + n % 5, 1 + (n >> 8) % 12, 1 + (n >> 12) % 28)
}

fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(24)
        .collect();
    if s.is_empty() { "value".into() } else { s }
}

/// `text` padded or cut (by characters) to the schema's length bounds.
fn fit_length(schema: &Value, mut text: String) -> String {
    let min = usize_of(schema, "minLength").unwrap_or(0);
    let max = usize_of(schema, "maxLength").unwrap_or(usize::MAX).max(min);
    let len = text.chars().count();
    if len > max {
        text = text.chars().take(max).collect();
    }
    let len = text.chars().count();
    if len < min {
        text.extend(std::iter::repeat_n('x', min - len));
    }
    text
}

fn usize_of(schema: &Value, key: &str) -> Option<usize> {
    schema
        .get(key)
        .and_then(Value::as_u64)
        .map(|v| usize::try_from(v.min(1 << 20)).unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{UnknownFields, check};

    /// A made-up schema with every kind of field, validated by the same
    /// checker that guards requests and user data.
    fn schema() -> Value {
        json!({
            "openapi": "3.0.3",
            "components": {"schemas": {
                "Status": {"type": "integer", "format": "int32", "nullable": true,
                           "x-known-values": [1, 2, 7]},
                "Child": {"type": "object", "required": ["label"], "properties": {
                    "label": {"type": "string", "minLength": 3, "maxLength": 5},
                    "child": {"$ref": "#/components/schemas/Child"}}},
                "Thing": {"type": "object", "properties": {
                    "count": {"type": "integer", "format": "int32", "minimum": 10, "maximum": 12},
                    "big": {"type": "integer", "format": "int64", "minimum": 9_007_199_254_740_000_i64},
                    "negative": {"type": "integer", "maximum": -5},
                    "ratio": {"type": "number", "minimum": 0.5, "maximum": 0.75},
                    "flag": {"type": "boolean"},
                    "maybe": {"type": "string", "nullable": true},
                    "when": {"type": "string", "format": "date-time"},
                    "kind": {"type": "string", "enum": ["a", "b"]},
                    "status": {"$ref": "#/components/schemas/Status"},
                    "phone": {"anyOf": [{"type": "string", "nullable": true},
                                        {"type": "integer", "minimum": 0, "nullable": true}]},
                    "tags": {"type": "array", "minItems": 1, "maxItems": 2,
                             "items": {"type": "string", "minLength": 1}},
                    "nested": {"$ref": "#/components/schemas/Child"},
                    "both": {"allOf": [
                        {"type": "object", "properties": {"x": {"type": "integer"}}},
                        {"properties": {"y": {"type": "boolean"}}, "required": ["y"]}]}
                }}
            }}
        })
    }

    #[test]
    fn every_generated_value_conforms_and_every_form_appears() {
        let spec = schema();
        let thing = json!({"$ref": "#/components/schemas/Thing"});
        let generator = Generator::new(&spec);
        let mut seen_null = false;
        let mut phone_forms = std::collections::BTreeSet::new();
        for index in 0..300 {
            let mut rng = Rng::for_item(5, 9, index);
            let value = generator.value(&thing, "thing", &mut rng);
            check(&spec, &thing, &value, "thing", UnknownFields::Refuse)
                .unwrap_or_else(|v| panic!("{v}: {value}"));
            seen_null |= value["maybe"].is_null();
            phone_forms.insert(shiheng::spec::json_type(&value["phone"]));
            assert!((10..=12).contains(&value["count"].as_i64().unwrap_or(0)));
            assert!(value["negative"].as_i64().is_some_and(|v| v <= -5));
            assert!([json!(1), json!(2), json!(7), Value::Null].contains(&value["status"]));
            assert!(value["both"]["y"].is_boolean());
        }
        assert!(seen_null, "a nullable field is sometimes null");
        assert_eq!(
            phone_forms.into_iter().collect::<Vec<_>>(),
            ["integer", "null", "string"],
            "each branch of the anyOf is used"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_value() {
        let spec = schema();
        let thing = json!({"$ref": "#/components/schemas/Thing"});
        let generator = Generator::new(&spec);
        let a = generator.value(&thing, "t", &mut Rng::for_item(1, 2, 3));
        let b = generator.value(&thing, "t", &mut Rng::for_item(1, 2, 3));
        let c = generator.value(&thing, "t", &mut Rng::for_item(1, 2, 4));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
