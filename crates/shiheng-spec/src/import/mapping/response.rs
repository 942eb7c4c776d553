//! The answer's side: the payload and item schemas, every field nullable,
//! nested objects as components, the wire forms where the platform sends
//! more than the table says, and the sample's findings for the report.

use super::{
    FOLLOW_USER_FLAG, Mapper, PHONE_NUMBER, PLATFORM_TIME, Pagination, RESPONSE_ENVELOPE, allowed,
    example, is_phone, is_time, push_description, shape,
};
use crate::import::page::{Field, FieldType, is_identifier};
use crate::import::prose;
use crate::import::sample::Observed;
use crate::import::yaml::Yaml;

impl Mapper<'_> {
    /// The payload component: a page, a list, or the object itself.
    pub(super) fn payload_schema(
        &mut self,
        name: &str,
        ty: &FieldType,
        rows: &[Field],
        items: Option<&str>,
        pagination: &Option<Pagination>,
        chinese: &str,
    ) {
        let slot = self.schemas.len();
        self.schemas.push((name.to_string(), Yaml::Map(Vec::new())));
        let item = self.item.clone();
        let schema = match ty {
            FieldType::Object => {
                let what = match (pagination, items) {
                    (Some(_), Some(_)) => format!("One page of {item} items"),
                    (None, Some(_)) => format!("The {item} items"),
                    _ => "The answer".to_string(),
                };
                let description = if chinese.is_empty() {
                    format!("{what}; null when the call failed.")
                } else {
                    format!("{what} ({chinese}); null when the call failed.")
                };
                let mut props = Vec::new();
                for row in rows {
                    let counts = match pagination {
                        Some(Pagination::PageNumber { pages, total, .. }) => {
                            row.name == *pages || row.name == *total
                        }
                        _ => false,
                    };
                    let schema = if Some(row.name.as_str()) == items {
                        self.items_property(row, &item)
                    } else {
                        let mut schema = self.response_property(row, name, &row.name);
                        if counts && let Yaml::Map(entries) = &mut schema {
                            // Counts cannot be negative (as the spec's EmployeePage).
                            let at = entries
                                .iter()
                                .position(|(k, _)| k == "nullable")
                                .unwrap_or(2);
                            entries.insert(at, ("minimum".into(), Yaml::Int(0)));
                        }
                        schema
                    };
                    props.push((row.name.clone(), schema));
                }
                self.extras(&mut props, "");
                let mut entries = vec![
                    ("type".into(), Yaml::str("object")),
                    ("nullable".into(), Yaml::Bool(true)),
                    ("description".into(), Yaml::Str(description)),
                ];
                entries.push(("properties".into(), Yaml::Map(props)));
                Yaml::Map(entries)
            }
            FieldType::Array(inner) if **inner == FieldType::Object => {
                let row = Field {
                    name: "result".into(),
                    line: 0,
                    required: None,
                    ty: ty.clone(),
                    description: chinese.to_string(),
                    default: None,
                    children: rows.to_vec(),
                };
                self.item_schema(&item, &row, "[].");
                Yaml::Map(vec![
                    ("type".into(), Yaml::str("array")),
                    ("nullable".into(), Yaml::Bool(true)),
                    (
                        "description".into(),
                        Yaml::Str(format!("The {item} items; null when the call failed.")),
                    ),
                    ("items".into(), Yaml::schema_ref(&item)),
                ])
            }
            other => {
                let mut entries = self.scalar(other, "result", true, None);
                entries.push((
                    "description".into(),
                    Yaml::Str("The answer; null when the call failed.".into()),
                ));
                Yaml::Map(entries)
            }
        };
        self.schemas[slot].1 = schema;
    }

    /// The items array of a page: `type: array` of the item component.
    pub(super) fn items_property(&mut self, row: &Field, item: &str) -> Yaml {
        self.item_schema(item, row, &format!("{}[].", row.name));
        let mut entries = vec![
            ("type".into(), Yaml::str("array")),
            ("nullable".into(), Yaml::Bool(true)),
        ];
        let description = if row.description.is_empty() {
            "This page's items.".to_string()
        } else {
            format!("This page's items ({}).", row.description)
        };
        entries.push(("description".into(), Yaml::Str(description)));
        entries.push(("items".into(), Yaml::schema_ref(item)));
        Yaml::Map(entries)
    }

    pub(super) fn item_schema(&mut self, name: &str, row: &Field, prefix: &str) {
        let slot = self.schemas.len();
        self.schemas.push((name.to_string(), Yaml::Map(Vec::new())));
        let mut props = Vec::new();
        for field in &row.children {
            let schema = self.response_property(field, name, &format!("{prefix}{}", field.name));
            props.push((field.name.clone(), schema));
        }
        self.extras(&mut props, prefix);
        let description = if row.description.is_empty() {
            format!("One {name}. Every field may be absent or null.")
        } else {
            format!(
                "One {name} ({}). Every field may be absent or null.",
                row.description
            )
        };
        self.schemas[slot].1 = Yaml::Map(vec![
            ("type".into(), Yaml::str("object")),
            ("description".into(), Yaml::Str(description)),
            ("properties".into(), Yaml::Map(props)),
        ]);
    }

    /// A response field: nullable, wire forms where the platform sends more
    /// than the table says, nested objects as components.
    pub(super) fn response_property(&mut self, field: &Field, owner: &str, key: &str) -> Yaml {
        let observed = self.observations.fields.get(key).cloned();
        self.note_presence(key, field, observed.as_ref());
        match &field.ty {
            FieldType::Object => {
                let name = format!("{owner}{}", prose::upper_camel(&field.name));
                if field.children.is_empty() {
                    let mut entries = self.scalar(&FieldType::Object, &field.name, true, None);
                    push_description(&mut entries, field);
                    return Yaml::Map(entries);
                }
                let slot = self.schemas.len();
                self.schemas.push((name.clone(), Yaml::Map(Vec::new())));
                let mut props = Vec::new();
                for child in &field.children {
                    let schema =
                        self.response_property(child, &name, &format!("{key}.{}", child.name));
                    props.push((child.name.clone(), schema));
                }
                self.extras(&mut props, &format!("{key}."));
                let mut entries = vec![
                    ("type".into(), Yaml::str("object")),
                    ("nullable".into(), Yaml::Bool(true)),
                ];
                push_description(&mut entries, field);
                entries.push(("properties".into(), Yaml::Map(props)));
                self.schemas[slot].1 = Yaml::Map(entries);
                Yaml::schema_ref(&name)
            }
            FieldType::Array(inner) => {
                let items = if **inner == FieldType::Object {
                    let name = format!(
                        "{owner}{}",
                        prose::singular(&prose::upper_camel(&field.name))
                    );
                    self.item_schema(&name, field, &format!("{key}[]."));
                    Yaml::schema_ref(&name)
                } else {
                    let element = self.observations.fields.get(&format!("{key}[]")).cloned();
                    if let Some(element) = &element {
                        let unexpected = element.unexpected(allowed(inner));
                        if !unexpected.is_empty() {
                            self.report.contradictions.push(format!(
                                "`{}[]`: the table types the elements {}, the sample sends {}: not changed (no wire form is declared for array elements)",
                                self.display(key),
                                inner.label(),
                                unexpected.join(", ")
                            ));
                        }
                    }
                    Yaml::Map(self.scalar(
                        inner,
                        &prose::singular(&field.name),
                        false,
                        element.as_ref(),
                    ))
                };
                let mut entries = vec![
                    ("type".into(), Yaml::str("array")),
                    ("nullable".into(), Yaml::Bool(true)),
                ];
                push_description(&mut entries, field);
                entries.push(("items".into(), items));
                Yaml::Map(entries)
            }
            ty => self.scalar_response(field, ty, owner, key, observed.as_ref()),
        }
    }

    pub(super) fn scalar_response(
        &mut self,
        field: &Field,
        ty: &FieldType,
        owner: &str,
        key: &str,
        observed: Option<&Observed>,
    ) -> Yaml {
        let unexpected: Vec<&str> = observed
            .map(|o| o.unexpected(allowed(ty)))
            .unwrap_or_default();
        let documented = prose::known_values(&field.description);
        let shown = self.display(key);
        // A boolean the table documents as 0/1, or sent as an integer: both forms.
        let zero_one =
            !documented.is_empty() && documented.iter().all(|k| k.value == 0 || k.value == 1);
        if *ty == FieldType::Boolean && (zero_one || unexpected == ["integer"]) {
            if unexpected == ["integer"] {
                self.report.contradictions.push(format!(
                    "`{shown}`: the table types it boolean, the sample sends integers → boolean or 0/1"
                ));
            }
            return self.wire_form(
                field,
                owner,
                FOLLOW_USER_FLAG,
                &format!(
                    "boolean documented as {} → boolean or the integers 0/1",
                    if zero_one {
                        "0/1 in prose"
                    } else {
                        "sent as integers"
                    }
                ),
            );
        }
        if *ty == FieldType::String
            && (is_phone(&field.name) || is_time(&field.name) || unexpected == ["integer"])
        {
            let (component, why) = if is_phone(&field.name) {
                (
                    PHONE_NUMBER,
                    "a phone number: string or integer, read as text digit for digit",
                )
            } else if is_time(&field.name) {
                (
                    PLATFORM_TIME,
                    "a time: the platform sends text or epoch milliseconds",
                )
            } else {
                ("", "")
            };
            if !unexpected.is_empty() {
                self.report.contradictions.push(format!(
                    "`{shown}`: the table types it string, the sample sends {} ({}){}",
                    unexpected.join(", "),
                    observed
                        .map(|o| o
                            .values
                            .iter()
                            .filter(|(v, _)| !v.is_string())
                            .map(|(v, _)| v.to_string())
                            .collect::<Vec<_>>()
                            .join(", "))
                        .unwrap_or_default(),
                    if component.is_empty() {
                        String::new()
                    } else {
                        format!(" → `{component}` accepts both")
                    }
                ));
            }
            if !component.is_empty() {
                return self.spec_wire_form(field, component, why);
            }
        }
        if !unexpected.is_empty() {
            if unexpected != ["integer"] || *ty != FieldType::String {
                self.report.contradictions.push(format!(
                    "`{shown}`: the table types it {}, the sample sends {}",
                    ty.label(),
                    unexpected.join(", ")
                ));
            }
            return self.any_of(field, ty, owner, &unexpected);
        }
        let mut entries = self.scalar(ty, &field.name, true, observed);
        push_description(&mut entries, field);
        if let Some(example) = observed.and_then(example) {
            entries.push(("example".into(), example));
        }
        self.known_values(field, &mut entries, Some(key));
        let schema = Yaml::Map(entries);
        // A component of the same shape named after the field (NextStartId) or
        // after the item and the field (EmployeeStatus): refer to it.
        let wanted = shape(&schema.to_json());
        let field_upper = prose::upper_camel(&field.name);
        for candidate in [field_upper.clone(), format!("{owner}{field_upper}")] {
            if let Some(existing) = self.existing(&candidate)
                && shape(existing) == wanted
            {
                self.report.mapping.push(format!(
                    "`{}` has the shape of the existing `{candidate}`: reused",
                    field.name
                ));
                return Yaml::schema_ref(&candidate);
            }
        }
        schema
    }

    /// One of the spec's own wire-form components (PhoneNumber, PlatformTime).
    pub(super) fn spec_wire_form(&mut self, field: &Field, component: &str, why: &str) -> Yaml {
        if self.existing(component).is_none() {
            self.report.warnings.push(format!(
                "`{}` is {why}, but the spec has no `{component}`: typed string as the table says",
                field.name
            ));
            let mut entries = self.scalar(&FieldType::String, &field.name, true, None);
            push_description(&mut entries, field);
            return Yaml::Map(entries);
        }
        self.report.mapping.push(format!(
            "`{}` (line {}) is {why} → `{component}`",
            field.name, field.line
        ));
        Yaml::schema_ref(component)
    }

    /// The boolean-or-0/1 form: the spec's `FollowUserFlag` for that field,
    /// otherwise a component of the same shape for this field.
    pub(super) fn wire_form(
        &mut self,
        field: &Field,
        owner: &str,
        component: &str,
        why: &str,
    ) -> Yaml {
        if prose::upper_camel(&field.name) == component && self.existing(component).is_some() {
            self.report.mapping.push(format!(
                "`{}` (line {}): {why} → `{component}`",
                field.name, field.line
            ));
            return Yaml::schema_ref(component);
        }
        let name = format!("{owner}{}", prose::upper_camel(&field.name));
        let mut entries = Vec::new();
        push_description(&mut entries, field);
        entries.push((
            "anyOf".into(),
            Yaml::Seq(vec![
                Yaml::Map(vec![
                    ("type".into(), Yaml::str("boolean")),
                    ("nullable".into(), Yaml::Bool(true)),
                ]),
                Yaml::Map(vec![
                    ("type".into(), Yaml::str("integer")),
                    ("format".into(), Yaml::str("int32")),
                    ("minimum".into(), Yaml::Int(0)),
                    ("maximum".into(), Yaml::Int(1)),
                    ("nullable".into(), Yaml::Bool(true)),
                ]),
            ]),
        ));
        self.schemas.push((name.clone(), Yaml::Map(entries)));
        self.report.mapping.push(format!(
            "`{}` (line {}): {why} → `{name}` (anyOf, as FollowUserFlag)",
            field.name, field.line
        ));
        self.report.mapping.push(format!(
            "`{name}`: the Rust client decodes it as a bool, 0/1 included (the anyOf's branches are its documented wire forms)"
        ));
        Yaml::schema_ref(&name)
    }

    /// A field the sample sends in another JSON type than the table says:
    /// an `anyOf` of both.
    pub(super) fn any_of(
        &mut self,
        field: &Field,
        ty: &FieldType,
        owner: &str,
        unexpected: &[&str],
    ) -> Yaml {
        let name = format!("{owner}{}", prose::upper_camel(&field.name));
        let mut branches = vec![Yaml::Map(self.scalar(ty, &field.name, true, None))];
        // The build decodes an anyOf as its first typed branch; an object
        // first makes that the raw JSON value, which holds every form.
        let mut unexpected = unexpected.to_vec();
        if let Some(at) = unexpected.iter().position(|k| *k == "object") {
            let object = unexpected.remove(at);
            unexpected.insert(0, object);
            branches.clear();
        }
        for kind in &unexpected {
            let extra = match *kind {
                "integer" => FieldType::Integer,
                "number" => FieldType::Number,
                "boolean" => FieldType::Boolean,
                "string" => FieldType::String,
                "object" => FieldType::Object,
                _ => FieldType::Array(Box::new(FieldType::String)),
            };
            let mut entries = self.scalar(&extra, &field.name, true, None);
            if let FieldType::Array(_) = extra {
                entries.insert(1, ("items".into(), Yaml::Map(Vec::new())));
            }
            branches.push(Yaml::Map(entries));
        }
        if unexpected.first() == Some(&"object") {
            branches.push(Yaml::Map(self.scalar(ty, &field.name, true, None)));
        }
        let mut entries = Vec::new();
        push_description(&mut entries, field);
        entries.push(("anyOf".into(), Yaml::Seq(branches)));
        self.schemas.push((name.clone(), Yaml::Map(entries)));
        self.report.mapping.push(format!(
            "`{}` (line {}) → `{name}`: anyOf {} or {}, as the sample sends",
            field.name,
            field.line,
            ty.label(),
            unexpected.join(" or ")
        ));
        self.rust_decoding(&name, ty, &unexpected);
        Yaml::schema_ref(&name)
    }

    /// What the Rust client makes of an `anyOf` the import wrote: the build
    /// decodes it as its first typed branch, by the tolerant rule of
    /// `src/record.rs`, and takes the other branches as documented forms
    /// (no drift warning). A form that rule cannot read is reported with
    /// what the spec can say instead: never a change to Rust.
    fn rust_decoding(&mut self, name: &str, ty: &FieldType, unexpected: &[&str]) {
        if unexpected.first() == Some(&"object") {
            self.report.mapping.push(format!(
                "`{name}`: the Rust client keeps it as the raw JSON value (serde_json::Value), whichever form is sent (an anyOf whose first branch is an object)"
            ));
            return;
        }
        let rust = match ty {
            FieldType::String => "String",
            FieldType::Integer => "i64",
            FieldType::Number => "f64",
            FieldType::Boolean => "bool",
            FieldType::Object | FieldType::Array(_) => "serde_json::Value",
        };
        let unreadable: Vec<&str> = unexpected
            .iter()
            .copied()
            .filter(|kind| matches!(*kind, "object" | "array"))
            .collect();
        if unreadable.is_empty() {
            self.report.mapping.push(format!(
                "`{name}`: the Rust client decodes it as {rust} and reads the other branches' forms by its tolerant rule, without a drift warning (they are documented wire forms)"
            ));
        } else {
            self.report.warnings.push(format!(
                "`{name}`: the Rust client decodes it as {rust}; an item that sends it as {} is reported as undecodable (the listing goes on). To keep every form in the Rust client, describe the property in the spec without a `type` or `anyOf` (any JSON value: the client keeps it as serde_json::Value)",
                unreadable.join(" or ")
            ));
        }
    }

    /// Sample fields no table names: added when the sample shows one scalar
    /// type; otherwise only reported.
    pub(super) fn extras(&mut self, props: &mut Vec<(String, Yaml)>, prefix: &str) {
        // Taken out, so that what no schema takes is reported at the end.
        let (extras, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.observations.extras)
            .into_iter()
            .partition(|(at, _, _)| at == prefix);
        self.observations.extras = rest;
        for (_, name, observed) in extras {
            let name = name.as_str();
            let shown = self.display(&format!("{prefix}{name}"));
            if !is_identifier(name) {
                self.report.contradictions.push(format!(
                    "`{shown}` is in the sample but in no table, and is not a field name: not added"
                ));
                continue;
            }
            let ty = match observed.kinds.as_slice() {
                ["string"] => Some(FieldType::String),
                ["integer"] => Some(FieldType::Integer),
                ["number"] | ["integer", "number"] | ["number", "integer"] => {
                    Some(FieldType::Number)
                }
                ["boolean"] => Some(FieldType::Boolean),
                _ => None,
            };
            match ty {
                Some(ty) => {
                    let mut entries = self.scalar(&ty, name, true, Some(&observed));
                    entries.push((
                        "description".into(),
                        Yaml::str("Not in the platform's tables; seen in its published sample."),
                    ));
                    if let Some(example) = example(&observed) {
                        entries.push(("example".into(), example));
                    }
                    props.push((name.to_string(), Yaml::Map(entries)));
                    self.report.contradictions.push(format!(
                        "`{shown}` is in the sample but in no table → added as a nullable {}",
                        ty.label()
                    ));
                }
                None => self.report.contradictions.push(format!(
                    "`{shown}` is in the sample but in no table, sent as {}: not added (its type is not guessed); drift checks will report it",
                    if observed.kinds.is_empty() { "null only".to_string() } else { observed.kinds.join(" and ") }
                )),
            }
        }
    }

    pub(super) fn note_presence(&mut self, key: &str, field: &Field, observed: Option<&Observed>) {
        let Some(observed) = observed else {
            return;
        };
        let shown = self.display(key);
        if observed.present == 0 && observed.absent > 0 {
            self.absent.push(shown);
        } else if observed.nulls > 0 {
            self.nulls.push(format!("{shown} ({})", field.ty.label()));
        }
    }

    /// The grouped findings: nulls, absent fields, misshapen objects, and
    /// sample fields inside objects the tables do not describe.
    pub(super) fn sample_findings(&mut self) {
        for (at, key, _) in std::mem::take(&mut self.observations.extras) {
            let shown = self.display(&format!("{at}{key}"));
            self.report.contradictions.push(format!(
                "`{shown}` is in the sample inside an object the tables do not describe: not added"
            ));
        }
        if !self.nulls.is_empty() {
            self.report.contradictions.push(format!(
                "null where the tables document a type, in {} field{}: {} → nullable (every response field is)",
                self.nulls.len(),
                if self.nulls.len() == 1 { "" } else { "s" },
                self.nulls.join(", ")
            ));
        }
        if !self.absent.is_empty() {
            self.report.contradictions.push(format!(
                "in the tables but absent from the sample: {} → optional (every response field is)",
                self.absent.join(", ")
            ));
        }
        for (key, documented, sent) in std::mem::take(&mut self.observations.misshapen) {
            let shown = self.display(&key);
            self.report.contradictions.push(format!(
                "`{shown}`: the table documents an {documented}, the sample sends {sent}: not changed (no wire form for objects)"
            ));
        }
    }

    /// `<OperationId>Response`: the shared envelope components and `result`
    /// as the payload schema (with its items and nested components).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn response_envelope(
        &mut self,
        response_name: &str,
        operation_id: &str,
        payload_name: &str,
        payload_row: Option<&Field>,
        payload_ty: &FieldType,
        payload_rows: &[Field],
        items_field: Option<&Field>,
        pagination: &Option<Pagination>,
    ) {
        let response_slot = self.schemas.len();
        self.schemas
            .push((response_name.to_string(), Yaml::Map(Vec::new())));
        let payload_description = payload_row
            .map(|r| r.description.clone())
            .unwrap_or_default();
        self.payload_schema(
            payload_name,
            payload_ty,
            payload_rows,
            items_field.map(|f| f.name.as_str()),
            pagination,
            &payload_description,
        );
        let mut envelope_props: Vec<(String, Yaml)> = RESPONSE_ENVELOPE
            .iter()
            .map(|(n, c)| (n.to_string(), Yaml::schema_ref(c)))
            .collect();
        envelope_props.push(("result".into(), Yaml::schema_ref(payload_name)));
        self.schemas[response_slot].1 = Yaml::Map(vec![
            ("type".into(), Yaml::str("object")),
            (
                "description".into(),
                Yaml::Str(format!("Response envelope of {operation_id}.")),
            ),
            ("required".into(), Yaml::Flow(vec![Yaml::str("code")])),
            ("properties".into(), Yaml::Map(envelope_props)),
        ]);
        self.report.mapping.push(format!(
            "the answer → `{response_name}` (code, msg, traceId → ResultCode, ResultMessage, TraceId; result → `{payload_name}`)"
        ));
        self.report.mapping.push(
            "every response field is optional and nullable, as in the rest of the spec".into(),
        );
    }
}
