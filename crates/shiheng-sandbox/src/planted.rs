//! Drift mode: the differences from the spec a sandbox plants in its
//! answers, as a platform that changed would, chosen from each operation's
//! schemas so that every operation has some (see
//! [`SandboxConfig::drift`](super::SandboxConfig::drift) for the rules).
//! The choice is made once per operation at start; planting happens on the
//! page being served.

use serde_json::{Map, Value, json};

use shiheng::operation::OperationSpec;
use shiheng_spec::schema as spec;

/// The name of the field the spec does not declare, unless it does.
const UNDECLARED: &str = "undeclaredField";
/// The undeclared field's value.
const UNDECLARED_VALUE: &str = "planted by the sandbox's drift mode";
/// The name of the undeclared object field of one item, unless declared.
const UNDECLARED_OBJECT: &str = "undeclaredDetail";

/// The undeclared object's value: a number, an array with a null among
/// its strings, and a field only ever null, so that a spec patch made from
/// it describes objects, arrays, nullability and a type not known yet.
fn undeclared_object() -> Value {
    json!({"level": 2, "tags": ["planted", null], "note": null})
}

/// How a field is sent in a JSON type its schema does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mistype {
    /// An integer sent as its digits in a string.
    IntegerAsText,
    /// A number sent as text.
    NumberAsText,
    /// A string sent as a number.
    TextAsNumber,
    /// A boolean sent as the text "true"/"false".
    BooleanAsText,
}

/// The differences planted in one operation's answers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DriftPlan {
    /// A field added to every item (or to the result).
    undeclared: String,
    /// An object field added to one item (or to the result).
    undeclared_object: String,
    /// A field with `x-known-values` or `enum`, and a value outside them.
    unknown_value: Option<(String, Value)>,
    /// A field sent in another JSON type.
    mistyped: Option<(String, Mistype)>,
    /// Whether the envelope goes without its required `code`.
    drop_code: bool,
}

impl DriftPlan {
    /// The plan of `op`, the `position`-th operation of the table: chosen
    /// from its item schema (or its result schema, without pagination).
    pub(crate) fn new(spec: &Value, op: &OperationSpec, position: usize) -> Self {
        match op.pagination {
            Some(p) => Self::for_schema(
                spec,
                p.item_schema,
                &[p.item_id, super::table::key_field(&p)],
                position % 2 == 1,
            ),
            None => Self::for_schema(spec, op.result_schema, &[], position % 2 == 1),
        }
    }

    /// The plan for the schema `schema_name`, leaving the fields `keep`
    /// (ids and cursor keys) as they are.
    fn for_schema(spec: &Value, schema_name: &str, keep: &[&str], drop_code: bool) -> Self {
        let schema = spec::component(spec, schema_name).unwrap_or(&Value::Null);
        let properties = schema.get("properties").and_then(Value::as_object);
        let unused = |name: &str| {
            let mut name = name.to_string();
            while properties.is_some_and(|p| p.contains_key(&name)) {
                name.push('_');
            }
            name
        };
        let undeclared = unused(UNDECLARED);
        let undeclared_object = unused(UNDECLARED_OBJECT);
        let fields: Vec<(&String, &Value)> = properties
            .into_iter()
            .flatten()
            .filter(|(name, _)| !keep.contains(&name.as_str()))
            .filter_map(|(name, s)| Some((name, spec::resolve(spec, s)?)))
            .filter(|(_, s)| spec::branches(s).is_none())
            .collect();
        let unknown_value = fields
            .iter()
            .find_map(|(name, s)| Some(((*name).clone(), outside_known(s)?)));
        let known_field = unknown_value.as_ref().map(|(name, _)| name.as_str());
        let plain = |ty: &str| {
            fields.iter().find(|(name, s)| {
                Some(name.as_str()) != known_field
                    && s.get("type").and_then(Value::as_str) == Some(ty)
                    && s.get("enum").is_none()
                    && s.get("x-known-values").is_none()
            })
        };
        let mistyped = [
            ("integer", Mistype::IntegerAsText),
            ("string", Mistype::TextAsNumber),
            ("boolean", Mistype::BooleanAsText),
            ("number", Mistype::NumberAsText),
        ]
        .into_iter()
        .find_map(|(ty, how)| plain(ty).map(|(name, _)| ((*name).clone(), how)));
        Self {
            undeclared,
            undeclared_object,
            unknown_value,
            mistyped,
            drop_code,
        }
    }

    /// Plants the differences in a page's items: the undeclared field in
    /// each, the undeclared object, the unknown value and the mistyped
    /// field in the second (the first when the page has one).
    pub(crate) fn plant_items(&self, items: &mut [Value]) {
        for item in items.iter_mut() {
            if let Value::Object(map) = item {
                map.insert(self.undeclared.clone(), json!(UNDECLARED_VALUE));
            }
        }
        let target = if items.len() > 1 { 1 } else { 0 };
        if let Some(Value::Object(map)) = items.get_mut(target) {
            self.plant_values(map);
        }
    }

    /// Plants every difference in a result object.
    pub(crate) fn plant_result(&self, result: &mut Value) {
        if let Value::Object(map) = result {
            map.insert(self.undeclared.clone(), json!(UNDECLARED_VALUE));
            self.plant_values(map);
        }
    }

    /// Takes `code` out of the envelope when the plan says so.
    pub(crate) fn plant_envelope(&self, envelope: &mut Map<String, Value>) {
        if self.drop_code {
            envelope.remove("code");
        }
    }

    fn plant_values(&self, map: &mut Map<String, Value>) {
        map.insert(self.undeclared_object.clone(), undeclared_object());
        if let Some((field, value)) = &self.unknown_value {
            map.insert(field.clone(), value.clone());
        }
        if let Some((field, how)) = &self.mistyped {
            let current = map.get(field).cloned().unwrap_or(Value::Null);
            map.insert(field.clone(), mistyped(&current, *how));
        }
    }
}

/// A value of the schema's type outside its `enum` / `x-known-values`:
/// for integers the largest known plus 3 (within the bounds, else the
/// smallest unknown one), for strings `"undocumented"`.
fn outside_known(schema: &Value) -> Option<Value> {
    let known = schema
        .get("enum")
        .or_else(|| schema.get("x-known-values"))
        .and_then(Value::as_array)
        .filter(|k| !k.is_empty())?;
    match schema.get("type").and_then(Value::as_str)? {
        "integer" => {
            let (min, max) = spec::integer_bounds(schema);
            let taken: Vec<i64> = known.iter().filter_map(Value::as_i64).collect();
            let candidate = taken.iter().max().map_or(min, |m| m.saturating_add(3));
            let free = |v: &i64| !taken.contains(v) && (min..=max).contains(v);
            std::iter::once(candidate)
                .chain((0..1000).map(|i| min.saturating_add(i)))
                .find(free)
                .map(|v| json!(v))
        }
        "string" => {
            let mut text = "undocumented".to_string();
            while known.contains(&json!(text)) {
                text.push('_');
            }
            Some(json!(text))
        }
        _ => None,
    }
}

fn mistyped(current: &Value, how: Mistype) -> Value {
    match how {
        Mistype::IntegerAsText => json!(current.as_i64().unwrap_or(7).to_string()),
        Mistype::NumberAsText => json!(current.as_f64().unwrap_or(1.5).to_string()),
        Mistype::TextAsNumber => json!(
            current
                .as_str()
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(12_345)
        ),
        Mistype::BooleanAsText => json!(current.as_bool().unwrap_or(true).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Value {
        json!({"components": {"schemas": {
            "Item": {"type": "object", "properties": {
                "id": {"type": "integer"},
                "count": {"type": "integer"},
                "kind": {"$ref": "#/components/schemas/Kind"},
                "name": {"type": "string"},
                "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "undeclaredField": {"type": "string"}}},
            "Kind": {"type": "integer", "x-known-values": [0, 1, 2, 4]},
            "Texts": {"type": "object", "properties": {
                "id": {"type": "integer"},
                "label": {"type": "string", "enum": ["a", "undocumented"]},
                "note": {"type": "string"}}}}}})
    }

    #[test]
    fn every_kind_is_chosen_from_the_schema() {
        let spec = spec();
        let plan = DriftPlan::for_schema(&spec, "Item", &["id"], true);
        assert_eq!(plan.undeclared, "undeclaredField_");
        assert_eq!(plan.unknown_value, Some(("kind".into(), json!(7))));
        assert_eq!(
            plan.mistyped,
            Some(("count".into(), Mistype::IntegerAsText))
        );
        let mut items = vec![json!({"id": 1, "count": 3}), json!({"id": 2, "count": 15})];
        plan.plant_items(&mut items);
        assert_eq!(
            items[1],
            json!({"id": 2, "count": "15", "kind": 7,
                   "undeclaredField_": UNDECLARED_VALUE,
                   "undeclaredDetail": undeclared_object()})
        );
        assert_eq!(items[0]["count"], json!(3));
        let mut envelope = Map::new();
        envelope.insert("code".into(), json!("0"));
        plan.plant_envelope(&mut envelope);
        assert!(envelope.is_empty());

        let plan = DriftPlan::for_schema(&spec, "Texts", &["id"], false);
        assert_eq!(
            plan.unknown_value,
            Some(("label".into(), json!("undocumented_")))
        );
        assert_eq!(plan.mistyped, Some(("note".into(), Mistype::TextAsNumber)));
        let mut result = json!({"id": 1, "note": "12"});
        plan.plant_result(&mut result);
        assert_eq!(result["note"], json!(12));
    }

    #[test]
    fn unknown_values_stay_within_bounds() {
        let bounded = json!({"type": "integer", "minimum": 0, "maximum": 4, "enum": [0, 1, 2, 4]});
        assert_eq!(outside_known(&bounded), Some(json!(3)));
        assert_eq!(mistyped(&Value::Null, Mistype::TextAsNumber), json!(12_345));
        assert_eq!(
            mistyped(&json!(false), Mistype::BooleanAsText),
            json!("false")
        );
    }
}
