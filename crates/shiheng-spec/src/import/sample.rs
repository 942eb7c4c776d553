//! Holding the sample against the tables: for every field the tables name,
//! what the sample sent there (present, absent, null, which JSON kinds and
//! values), and every field the sample sends that no table names. The
//! mapping reads these observations to decide wire forms and known values;
//! the report lists them.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::page::{Field, FieldType};

/// What the sample sent for one field, over every object it appears in.
#[derive(Debug, Default, Clone)]
pub struct Observed {
    /// Objects that had the key (null included).
    pub present: usize,
    /// Objects that lacked it.
    pub absent: usize,
    /// Objects that had it as null.
    pub nulls: usize,
    /// JSON kinds of the non-null values: `string`, `integer`, `number`,
    /// `boolean`, `object`, `array`.
    pub kinds: Vec<&'static str>,
    /// Distinct scalar values, in the order first seen, with their counts.
    pub values: Vec<(Value, usize)>,
}

impl Observed {
    fn record(&mut self, value: Option<&Value>) {
        let Some(value) = value else {
            self.absent += 1;
            return;
        };
        self.present += 1;
        if value.is_null() {
            self.nulls += 1;
            return;
        }
        let kind = kind(value);
        if !self.kinds.contains(&kind) {
            self.kinds.push(kind);
        }
        if !value.is_object() && !value.is_array() {
            match self.values.iter_mut().find(|(v, _)| v == value) {
                Some((_, count)) => *count += 1,
                None => self.values.push((value.clone(), 1)),
            }
        }
    }

    /// Non-null kinds other than `allowed`.
    pub fn unexpected(&self, allowed: &[&str]) -> Vec<&'static str> {
        self.kinds
            .iter()
            .copied()
            .filter(|k| !allowed.contains(k))
            .collect()
    }
}

/// The JSON kind of a value, telling integers from other numbers: the
/// schema walker's reading, one for the whole crate.
pub use crate::schema::json_type as kind;

/// Everything observed, keyed by the field's path inside the payload:
/// `pages`, `result[].status`, `address.city`, `tags[]` (scalar elements).
#[derive(Debug, Default)]
pub struct Observations {
    /// The fields the tables name.
    pub fields: BTreeMap<String, Observed>,
    /// Sample fields no table names, in the order seen: the path of the
    /// object they are in (`result[].`), their key, what was sent.
    pub extras: Vec<(String, String, Observed)>,
    /// Documented objects the sample sent as something else.
    pub misshapen: Vec<(String, &'static str, String)>,
}

impl Observations {
    /// Walks `payload` against `fields` (the payload's rows).
    pub fn collect(fields: &[Field], payload: &Value, is_array: bool) -> Self {
        let mut found = Observations::default();
        if is_array {
            if let Value::Array(items) = payload {
                for item in items {
                    found.object(fields, item, "[].");
                }
            }
        } else {
            found.object(fields, payload, "");
        }
        found
    }

    fn object(&mut self, fields: &[Field], value: &Value, prefix: &str) {
        let Value::Object(map) = value else {
            return;
        };
        for field in fields {
            let key = format!("{prefix}{}", field.name);
            let value = map.get(&field.name);
            self.fields.entry(key.clone()).or_default().record(value);
            let Some(value) = value.filter(|v| !v.is_null()) else {
                continue;
            };
            match &field.ty {
                FieldType::Object => match value {
                    Value::Object(_) => self.object(&field.children, value, &format!("{key}.")),
                    other => self.misshapen(&key, "object", other),
                },
                FieldType::Array(inner) => match value {
                    Value::Array(items) => {
                        for item in items {
                            if **inner == FieldType::Object {
                                match item {
                                    Value::Object(_) => {
                                        self.object(&field.children, item, &format!("{key}[]."))
                                    }
                                    other => self.misshapen(&format!("{key}[]"), "object", other),
                                }
                            } else {
                                self.fields
                                    .entry(format!("{key}[]"))
                                    .or_default()
                                    .record(Some(item));
                            }
                        }
                    }
                    other => self.misshapen(&key, "array", other),
                },
                _ => {}
            }
        }
        self.extras_of(fields, map, prefix);
    }

    fn extras_of(&mut self, fields: &[Field], map: &Map<String, Value>, prefix: &str) {
        for (key, value) in map {
            if fields.iter().any(|f| &f.name == key) {
                continue;
            }
            match self
                .extras
                .iter_mut()
                .find(|(p, k, _)| p == prefix && k == key)
            {
                Some((_, _, observed)) => observed.record(Some(value)),
                None => {
                    let mut observed = Observed::default();
                    observed.record(Some(value));
                    self.extras
                        .push((prefix.to_string(), key.clone(), observed));
                }
            }
        }
    }

    fn misshapen(&mut self, key: &str, documented: &'static str, value: &Value) {
        if !self.misshapen.iter().any(|(k, _, _)| k == key) {
            self.misshapen
                .push((key.to_string(), documented, kind(value).to_string()));
        }
    }
}

/// The sample's envelope, when it has one: `(payload, problems)`. A sample
/// with `code` and `result` at the top is an envelope; the problems are
/// envelope fields of another kind than the shared components declare.
pub fn split_envelope(sample: &Value) -> Option<(&Value, Vec<String>)> {
    let map = sample.as_object()?;
    if !(map.contains_key("code") && map.contains_key("result")) {
        return None;
    }
    let mut problems = Vec::new();
    for (field, allowed) in [
        ("code", &["string"][..]),
        ("msg", &["string", "null"][..]),
        ("traceId", &["string", "null"][..]),
    ] {
        if let Some(value) = map.get(field)
            && !allowed.contains(&kind(value))
        {
            problems.push(format!(
                "envelope `{field}` is {} ({value}) where the shared component declares {}",
                kind(value),
                allowed.join(" or ")
            ));
        }
    }
    Some((&map["result"], problems))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::page::parse;
    use serde_json::json;

    #[test]
    fn observations_cover_nested_arrays_nulls_and_extras() {
        let page = parse(
            "名称 | 必选 | 类型 | 默认值 | 描述 |\n---|---|---|---|---|\n\
             pages | 否 | integer | 页数 |\n\
             result | 否 | object[] | 列表 |\n\
             ├ id | 否 | integer | id |\n\
             ├ tags | 否 | string[] | 标签 |\n\
             └ shop | 否 | object | 门店 |\n\
             │ └ name | 否 | string | 名称 |\n",
        );
        let fields = page.response.unwrap().fields;
        let payload = json!({"pages": null, "extra": 1, "result": [
            {"id": 6, "tags": ["a", 1], "shop": {"name": 5, "more": true}},
            {"id": 6, "shop": "none"}
        ]});
        let o = Observations::collect(&fields, &payload, false);
        assert_eq!(o.fields["pages"].nulls, 1);
        assert_eq!(o.fields["result[].id"].values, [(json!(6), 2)]);
        assert_eq!(o.fields["result[].tags"].absent, 1);
        assert_eq!(o.fields["result[].tags[]"].kinds, ["string", "integer"]);
        assert_eq!(o.fields["result[].shop.name"].kinds, ["integer"]);
        let extras: Vec<String> = o.extras.iter().map(|(p, k, _)| format!("{p}{k}")).collect();
        assert_eq!(extras, ["result[].shop.more", "extra"]);
        assert_eq!(
            o.misshapen,
            [("result[].shop".to_string(), "object", "string".to_string())]
        );
    }

    #[test]
    fn envelopes_are_recognised_and_checked() {
        let sample = json!({"code": 0, "msg": null, "traceId": "t", "result": {"a": 1}});
        let (payload, problems) = split_envelope(&sample).unwrap();
        assert_eq!(payload, &json!({"a": 1}));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("`code` is integer"));
        assert!(split_envelope(&json!({"result": []})).is_none());
    }
}
