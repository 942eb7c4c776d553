//! The request side: the params schema (reused when the spec already has
//! one of the same shape), required from 是, bounds from the descriptions,
//! nested request objects as components.

use super::{ENVELOPE, Mapper, Pagination, Role, describe, int_format, push_description, shape};
use crate::import::page::{Field, FieldType};
use crate::import::prose::{self, Bounds};
use crate::import::yaml::Yaml;
use serde_json::Value;

impl Mapper<'_> {
    pub(super) fn params_schema(
        &mut self,
        name: &str,
        row: &Field,
        fields: &[Field],
        pagination: &Option<Pagination>,
    ) -> String {
        let role = |field: &str| match pagination {
            Some(Pagination::PageNumber { page, size, .. }) if field == page => Role::Page,
            Some(Pagination::PageNumber { size, .. } | Pagination::Cursor { size, .. })
                if field == size =>
            {
                Role::PageSize
            }
            Some(Pagination::Cursor { cursor, .. }) if field == cursor => Role::Cursor,
            _ => Role::Other,
        };
        let mark = self.schemas.len();
        let schema = self.object_schema(name, fields, &|f| role(f), &row.description);
        // The spec already holding the same parameters (say CursorPageParams):
        // refer to it rather than write a twin.
        let wanted = shape(&schema.to_json());
        let reused = self
            .spec
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .and_then(|all| {
                all.iter()
                    .find(|(n, s)| n.ends_with("Params") && shape(s) == wanted)
                    .map(|(n, _)| n.clone())
            });
        if let Some(existing) = reused {
            // Nested components it wrote are the existing one's too.
            self.schemas.truncate(mark);
            self.report.mapping.push(format!(
                "paramContent's fields are exactly `{existing}`'s (same fields, types, bounds, required): reused"
            ));
            return existing;
        }
        self.schemas.insert(mark, (name.to_string(), schema));
        name.to_string()
    }

    /// A request object: required from 是, bounds from the descriptions.
    pub(super) fn object_schema(
        &mut self,
        name: &str,
        fields: &[Field],
        role: &dyn Fn(&str) -> Role,
        chinese: &str,
    ) -> Yaml {
        let mut required = Vec::new();
        let mut props = Vec::new();
        for field in fields {
            match field.required {
                Some(true) => required.push(Yaml::str(&field.name)),
                Some(false) => {}
                None => self.unreadable(
                    field,
                    &format!(
                        "request field `{}` has no 必选 (是/否): not guessed",
                        field.name
                    ),
                ),
            }
            let schema = self.request_property(field, name, role(&field.name));
            props.push((field.name.clone(), schema));
        }
        let description = if chinese.is_empty() {
            "Parameters (参数内容).".to_string()
        } else {
            format!("Parameters ({chinese}).")
        };
        let mut entries = vec![
            ("type".into(), Yaml::str("object")),
            ("description".into(), Yaml::Str(description)),
        ];
        if !required.is_empty() {
            entries.push(("required".into(), Yaml::Flow(required)));
        }
        entries.push(("properties".into(), Yaml::Map(props)));
        Yaml::Map(entries)
    }

    pub(super) fn request_property(&mut self, field: &Field, owner: &str, role: Role) -> Yaml {
        match &field.ty {
            FieldType::Object => {
                let name = format!("{owner}{}", prose::upper_camel(&field.name));
                let slot = self.schemas.len();
                self.schemas.push((name.clone(), Yaml::Map(Vec::new())));
                let schema = self.object_schema(
                    &name,
                    &field.children,
                    &|_| Role::Other,
                    &field.description,
                );
                self.schemas[slot].1 = schema;
                Yaml::schema_ref(&name)
            }
            FieldType::Array(inner) => {
                let items = if **inner == FieldType::Object {
                    let name = format!(
                        "{owner}{}",
                        prose::singular(&prose::upper_camel(&field.name))
                    );
                    let slot = self.schemas.len();
                    self.schemas.push((name.clone(), Yaml::Map(Vec::new())));
                    let schema = self.object_schema(
                        &name,
                        &field.children,
                        &|_| Role::Other,
                        &field.description,
                    );
                    self.schemas[slot].1 = schema;
                    Yaml::schema_ref(&name)
                } else {
                    Yaml::Map(self.scalar(inner, &prose::singular(&field.name), false, None))
                };
                let mut entries = vec![("type".into(), Yaml::str("array"))];
                push_description(&mut entries, field);
                entries.push(("items".into(), items));
                Yaml::Map(entries)
            }
            ty => {
                let bounds = prose::bounds(&field.description);
                let mut entries = self.scalar(ty, &field.name, false, None);
                match (&bounds, ty) {
                    (Some((b, written)), FieldType::Integer | FieldType::Number) => {
                        let format_max = match int_format(&field.name, false) {
                            "int32" => i64::from(i32::MAX),
                            _ => i64::MAX,
                        };
                        let number = |n: f64| {
                            if *ty == FieldType::Integer {
                                Yaml::Int(n as i64)
                            } else {
                                Yaml::Float(n)
                            }
                        };
                        let mut added = Vec::new();
                        if let Some(min) = b.min {
                            entries.push(("minimum".into(), number(min)));
                            added.push(format!("minimum {min}"));
                        }
                        match (b.max, ty) {
                            (Some(max), _) => {
                                entries.push(("maximum".into(), number(max)));
                                added.push(format!("maximum {max}"));
                            }
                            // As the spec writes a lower bound alone: up to the format's limit.
                            (None, FieldType::Integer) if b.min.is_some() => {
                                entries.push(("maximum".into(), Yaml::Int(format_max)));
                                added.push(format!("maximum {format_max} (the format's limit)"));
                            }
                            _ => {}
                        }
                        self.report.mapping.push(format!(
                            "`{}` (line {}): `{written}` → {}",
                            field.name,
                            field.line,
                            added.join(", ")
                        ));
                    }
                    (Some((_, written)), _) => self.report.warnings.push(format!(
                        "`{}` (line {}) is a {} with bounds `{written}`: kept in the description only (a length is not guessed)",
                        field.name,
                        field.line,
                        ty.label()
                    )),
                    (None, _) => {}
                }
                let description = describe(field);
                if !description.is_empty() {
                    entries.push(("description".into(), Yaml::Str(description)));
                }
                let example = match (role, &bounds) {
                    (Role::Page | Role::Cursor, Some((Bounds { min: Some(min), .. }, _))) => {
                        Some(*min as i64)
                    }
                    (Role::PageSize, Some((Bounds { max: Some(max), .. }, _))) => Some(*max as i64),
                    _ => None,
                };
                if let Some(example) = example {
                    entries.push(("example".into(), Yaml::Int(example)));
                }
                self.known_values(field, &mut entries, None);
                Yaml::Map(entries)
            }
        }
    }

    /// `<OperationId>Request`: the shared envelope components, `paramContent`
    /// as its params schema, any other request row as written.
    pub(super) fn request_envelope(
        &mut self,
        request_name: &str,
        operation_id: &str,
        table: Option<&[Field]>,
        params_name: &str,
        pagination: &Option<Pagination>,
    ) {
        let request_rows = table.unwrap_or_default();
        let params_row = request_rows.iter().find(|f| f.name == "paramContent");
        let params_fields: Vec<Field> = params_row.map(|p| p.children.clone()).unwrap_or_default();
        let mut request_props: Vec<(String, Yaml)> = Vec::new();
        let mut request_required: Vec<Yaml> = Vec::new();
        let mut envelope_seen = Vec::new();
        for (name, component, ty) in &ENVELOPE {
            request_props.push((name.to_string(), Yaml::schema_ref(component)));
            request_required.push(Yaml::str(*name));
            match request_rows.iter().find(|f| f.name == *name) {
                Some(row) => {
                    envelope_seen.push(*name);
                    if row.ty != *ty {
                        self.report.contradictions.push(format!(
                            "the table types envelope `{name}` {} (line {}); the shared `{component}` is {}",
                            row.ty.label(),
                            row.line,
                            ty.label()
                        ));
                    }
                }
                None if table.is_some() => self.report.warnings.push(format!(
                    "the request table has no `{name}` row: the shared envelope has it anyway"
                )),
                None => {}
            }
        }
        if !envelope_seen.is_empty() {
            self.report.mapping.push(format!(
                "envelope rows {} → the shared AppId, Sign, ApiVersion, Timestamp",
                envelope_seen.join(", ")
            ));
        }
        if let Some(row) = params_row {
            let required = match row.required {
                Some(r) => r,
                None => {
                    self.unreadable(
                        row,
                        "`paramContent` has no 必选 (是/否): its requiredness is not guessed",
                    );
                    true
                }
            };
            let name = self.params_schema(params_name, row, &params_fields, pagination);
            request_props.push(("paramContent".into(), Yaml::schema_ref(&name)));
            if required {
                request_required.push(Yaml::str("paramContent"));
            }
            self.report.mapping.push(format!(
                "paramContent ({}, line {}) → `{name}`",
                if required { "required" } else { "optional" },
                row.line
            ));
        }
        for row in request_rows {
            if ENVELOPE.iter().any(|(n, _, _)| *n == row.name) || row.name == "paramContent" {
                continue;
            }
            self.report.warnings.push(format!(
                "request row `{}` (line {}) is neither the envelope nor inside paramContent: added to `{request_name}` as written",
                row.name, row.line
            ));
            let schema = self.request_property(row, request_name, Role::Other);
            request_props.push((row.name.clone(), schema));
            if row.required == Some(true) {
                request_required.push(Yaml::str(&row.name));
            }
        }
        let request_description = match params_row.map(|r| r.required) {
            Some(Some(false)) => format!(
                "Request envelope of {operation_id}. The platform marks paramContent optional on this endpoint."
            ),
            _ => format!("Request envelope of {operation_id}."),
        };
        self.schemas.insert(
            0,
            (
                request_name.to_string(),
                Yaml::Map(vec![
                    ("type".into(), Yaml::str("object")),
                    ("description".into(), Yaml::Str(request_description)),
                    ("required".into(), Yaml::Flow(request_required)),
                    ("properties".into(), Yaml::Map(request_props)),
                ]),
            ),
        );
    }
}
