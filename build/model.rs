//! The records: one Rust struct per object schema that an answer can hold
//! (every schema reachable from a response), decoded by the rule of
//! `crate::record` rather than by typify's strict derive. For each record
//! this emits the struct (every field an `Option`, docs from the spec, an
//! `extra` map for undeclared fields), its field table and one match arm
//! per field; the rule itself is hand-written once in `src/record.rs`.
//! Progenitor is told to use these types in place of its own.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::spec::{self, Problem, Result};

/// Where the generated records live, for progenitor's replacements.
pub const MODULE: &str = "crate::generated::model";

/// What the model pass produced.
pub struct Model {
    /// The records' source.
    pub tokens: TokenStream,
    /// Every response-side component and the Rust type progenitor must use
    /// for it.
    pub replacements: Vec<(String, String)>,
    /// Each page schema that is an alias of a generic page form, and the
    /// form's type (`EmployeePage` → `NumberedPage`): the dynamic table
    /// reads such a page with its items as text (`DynOperation::paged`).
    pub page_forms: BTreeMap<String, String>,
}

struct Record {
    type_name: String,
    schema: String,
    doc: String,
    fields: Vec<Field>,
    /// The response envelope: generic over its `result` (`T`).
    generic: bool,
}

/// The one generic record every envelope-shaped response is (see
/// [`envelope_result`]).
const ENVELOPE: &str = "ResponseEnvelope";

struct Field {
    wire: String,
    rust: String,
    ty: TokenStream,
    known: Vec<String>,
    /// The JSON forms its `anyOf` documents (`STRING`, `INTEGER`, ...).
    forms: Vec<&'static str>,
    doc: String,
}

/// The component schemas reachable from any operation's responses.
pub fn response_side(doc: &Value) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<&Value> = VecDeque::new();
    for (_, _, op, _) in spec::operations(doc) {
        if let Some(responses) = op.get("responses").and_then(Value::as_object) {
            for response in responses.values() {
                let response = spec::resolve_response(doc, response);
                if let Some(schema) = spec::json_schema(response) {
                    queue.push_back(schema);
                }
            }
        }
    }
    while let Some(schema) = queue.pop_front() {
        walk_refs(schema, &mut |name| {
            if seen.insert(name.to_string())
                && let Some(target) = spec::component(doc, name)
            {
                queue.push_back(target);
            }
        });
    }
    seen
}

fn walk_refs<'a>(schema: &'a Value, found: &mut dyn FnMut(&'a str)) {
    match schema {
        Value::Object(map) => {
            if let Some(name) = spec::ref_name(schema) {
                found(name);
            }
            for child in map.values() {
                walk_refs(child, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|child| walk_refs(child, found)),
        _ => {}
    }
}

pub fn generate(doc: &Value) -> Result<Model> {
    let mut builder = Builder {
        doc,
        records: Vec::new(),
        names: BTreeSet::new(),
    };
    let mut replacements = Vec::new();
    let mut aliases = Vec::new();
    // The head (`code`, `msg`, `traceId`, and what is required) of the
    // envelope the generic record was made from: a response with another
    // head gets a record of its own.
    let mut envelope_head: Option<Value> = None;
    for name in response_side(doc) {
        let schema = spec::component(doc, &name).unwrap_or(&Value::Null);
        let at = format!("components.schemas.{name}");
        if let Some((head, result)) = envelope_result(doc, schema) {
            if envelope_head.is_none() {
                builder.envelope(&name, schema, &at)?;
                envelope_head = Some(head.clone());
            }
            if envelope_head.as_ref() == Some(&head) {
                let result_at = format!("{at}.properties.result");
                let (ty, _) = builder.field_type(result, "", &result_at)?;
                let alias = format_ident!("{}", spec::type_name(&name));
                let envelope = format_ident!("{ENVELOPE}");
                let doc = spec::str_at(schema, "description")
                    .map_or_else(|| format!("`{name}`."), str::to_string);
                aliases.push(quote! {
                    #[doc = #doc]
                    pub type #alias = #envelope<#ty>;
                });
                replacements.push((name.clone(), format!("{MODULE}::{alias}")));
                continue;
            }
        }
        let rust = if is_record(schema) {
            builder.record(&spec::type_name(&name), &name, schema, &at)?;
            format!("{MODULE}::{}", spec::type_name(&name))
        } else {
            builder.field_type(schema, &name, &at)?.0.to_string()
        };
        replacements.push((name, rust));
    }
    let page_forms = builder.generic_pages(&page_forms(doc), &mut aliases)?;
    let records = builder.records.iter().map(emit);
    Ok(Model {
        tokens: quote! { #(#records)* #(#aliases)* },
        replacements,
        page_forms,
    })
}

fn is_record(schema: &Value) -> bool {
    schema.get("x-shiheng-type").is_none()
        && schema
            .get("properties")
            .and_then(Value::as_object)
            .is_some()
}

/// When `schema` is the platform's response envelope and nothing else
/// (documentation, `type: object`, `required`, and the properties `code`,
/// `msg`, `traceId` and `result`, each a bare `$ref`), its head and its
/// `result` property. Such responses differ only in their result, so they
/// are one generic record (`ResponseEnvelope<T>`) rather than a record,
/// with its decoder, per operation (docs/generated-code.md).
fn envelope_result<'a>(doc: &Value, schema: &'a Value) -> Option<(Value, &'a Value)> {
    let plain = spec::is_plain_object(schema);
    let props = schema.get("properties")?.as_object()?;
    let bare = |key: &str| props.get(key).and_then(spec::only_ref);
    let head = ["code", "msg", "traceId"].map(bare);
    let result = props.get("result").filter(|_| bare("result").is_some())?;
    let usable = plain
        && props.len() == 4
        && head.iter().all(Option::is_some)
        && spec::component(doc, ENVELOPE).is_none();
    usable.then(|| {
        let head = serde_json::json!({ "refs": head, "required": schema.get("required") });
        (head, result)
    })
}

/// The page schema of every paginated operation, once each, in the
/// spec's order: (schema, `x-pagination.style`, its items field).
fn page_forms(doc: &Value) -> Vec<(String, String, String)> {
    let mut pages: Vec<(String, String, String)> = Vec::new();
    for (_, _, op, _) in spec::operations(doc) {
        let Some(pagination) = op.get("x-pagination") else {
            continue;
        };
        let ok = op
            .pointer("/responses/200")
            .map(|r| spec::resolve_response(doc, r))
            .and_then(spec::json_schema)
            .map(|s| spec::resolve(doc, s));
        let page = ok
            .and_then(|envelope| envelope.pointer("/properties/result"))
            .and_then(spec::ref_name);
        let style = spec::str_at(pagination, "style");
        let items = spec::str_at(pagination, "items");
        if let (Some(page), Some(style), Some(items)) = (page, style, items)
            && !pages.iter().any(|(name, ..)| name == page)
        {
            pages.push((page.to_string(), style.to_string(), items.to_string()));
        }
    }
    pages
}

/// A page schema of the form a generic page stands for: an object and
/// nothing else (as [`spec::is_plain_object`], `nullable` allowed), whose
/// items field is an array of `$ref`s and nothing else. The item schema's
/// name, when it is.
fn page_item<'a>(page: &'a Value, items: &str) -> Option<&'a str> {
    let mut plain = page.clone();
    plain.as_object_mut()?.remove("nullable");
    let array = page.get("properties")?.get(items)?.as_object()?;
    let array_only = array.keys().all(|k| {
        [
            "type",
            "items",
            "description",
            "nullable",
            "example",
            "title",
        ]
        .contains(&k.as_str())
            || k.starts_with("x-")
    });
    let item = array.get("items").and_then(spec::only_ref);
    (spec::is_plain_object(&plain) && array_only).then_some(item)?
}

/// The page schemas of one form, becoming one generic record.
struct PageForm {
    /// The generic record's name (`NumberedPage`, `CursorPage`, ...).
    name: String,
    /// Its shape: every field but the items' type and the docs.
    key: String,
    items: String,
    /// (page schema, its item schema, the item's Rust type).
    members: Vec<(String, String, TokenStream)>,
}

struct Builder<'a> {
    doc: &'a Value,
    records: Vec<Record>,
    names: BTreeSet<String>,
}

impl Builder<'_> {
    fn record(
        &mut self,
        type_name: &str,
        schema_name: &str,
        schema: &Value,
        at: &str,
    ) -> Result<()> {
        if !self.names.insert(type_name.to_string()) {
            return Ok(());
        }
        let mut fields = Vec::new();
        let props = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (wire, prop) in &props {
            let field_at = format!("{at}.properties.{wire}");
            let nested = format!("{type_name}{}", spec::type_name(wire));
            let (ty, known) = self.field_type(prop, &nested, &field_at)?;
            let target = spec::resolve(self.doc, prop);
            let described = prop
                .get("description")
                .or_else(|| target.get("description"))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|d| !d.is_empty());
            let rust = spec::field_name(wire);
            let mut doc = described.map_or_else(
                || format!("`{wire}` (the spec does not describe it)."),
                str::to_string,
            );
            if rust != *wire {
                doc.push_str(&format!("\n\nJSON: `{wire}`."));
            }
            fields.push(Field {
                wire: wire.clone(),
                rust,
                ty,
                known,
                forms: documented_forms(self.doc, prop),
                doc,
            });
        }
        let doc = schema
            .get("description")
            .and_then(Value::as_str)
            .map_or_else(
                || format!("`{schema_name}` (the spec does not describe it)."),
                str::to_string,
            );
        self.records.push(Record {
            type_name: type_name.to_string(),
            schema: schema_name.to_string(),
            doc,
            fields,
            generic: false,
        });
        Ok(())
    }

    /// The generic envelope record, made from the envelope `schema_name`
    /// with its `result` as `T`.
    fn envelope(&mut self, schema_name: &str, schema: &Value, at: &str) -> Result<()> {
        self.record(ENVELOPE, ENVELOPE, schema, at)?;
        let Some(envelope) = self.records.iter_mut().find(|r| r.type_name == ENVELOPE) else {
            return Ok(());
        };
        envelope.generic = true;
        envelope.doc = format!(
            "The platform's response envelope: `code`, `msg`, `traceId` and the \
             operation's `result` (`T`). Every `…Response` schema of this form \
             (the first is `{schema_name}`) is this type with its result."
        );
        if let Some(result) = envelope.fields.iter_mut().find(|f| f.wire == "result") {
            result.ty = quote! { T };
            result.known.clear();
            result.doc = "The operation's result; null when the call failed.".into();
        }
        Ok(())
    }

    /// Every page schema of a paginated operation becomes an alias of a
    /// generic record, one per form (its fields, their types and wire
    /// names; not their docs), its items as `T`: `EmployeePage` is
    /// `NumberedPage<Employee>`. The pages of a platform's listings differ
    /// only in their item type, as its envelopes differ only in their
    /// result, and one record per form keeps the build from growing by a
    /// record per operation (docs/generated-code.md). A form whose name
    /// the spec already uses keeps a record per page.
    fn generic_pages(
        &mut self,
        pages: &[(String, String, String)],
        aliases: &mut Vec<TokenStream>,
    ) -> Result<BTreeMap<String, String>> {
        let mut page_forms = BTreeMap::new();
        let mut forms: Vec<PageForm> = Vec::new();
        let mut per_style: BTreeMap<&str, usize> = BTreeMap::new();
        for (schema, style, items) in pages {
            let at = format!("components.schemas.{schema}");
            let type_name = spec::type_name(schema);
            let Some(record) = self
                .records
                .iter()
                .find(|r| !r.generic && r.schema == *schema && r.type_name == type_name)
            else {
                continue;
            };
            let Some(item) = spec::component(self.doc, schema).and_then(|p| page_item(p, items))
            else {
                continue;
            };
            let item_type = parse_type(&format!("{MODULE}::{}", spec::type_name(item)), &at)?;
            let key = record
                .fields
                .iter()
                .map(|f| {
                    let ty = if f.wire == *items {
                        "T".to_string()
                    } else {
                        f.ty.to_string()
                    };
                    format!("{}:{}:{ty}:{:?}:{:?}", f.wire, f.rust, f.known, f.forms)
                })
                .collect::<Vec<_>>()
                .join(";");
            let key = format!("{style}|{items}|{key}");
            match forms.iter_mut().find(|f| f.key == key) {
                Some(form) => form
                    .members
                    .push((schema.clone(), item.to_string(), item_type)),
                None => {
                    let base = if style == "cursor" {
                        "CursorPage"
                    } else {
                        "NumberedPage"
                    };
                    let count = per_style.entry(base).or_default();
                    *count += 1;
                    let name = match *count {
                        1 => base.to_string(),
                        n => format!("{base}{n}"),
                    };
                    forms.push(PageForm {
                        name,
                        key,
                        items: items.clone(),
                        members: vec![(schema.clone(), item.to_string(), item_type)],
                    });
                }
            }
        }
        for form in forms {
            let taken =
                spec::component(self.doc, &form.name).is_some() || self.names.contains(&form.name);
            if taken {
                continue;
            }
            let members: Vec<Record> = form
                .members
                .iter()
                .filter_map(|(schema, ..)| {
                    let at = self
                        .records
                        .iter()
                        .position(|r| !r.generic && r.schema == *schema)?;
                    Some(self.records.remove(at))
                })
                .collect();
            let Some(first) = members.first() else {
                continue;
            };
            let mut fields = Vec::new();
            for (i, field) in first.fields.iter().enumerate() {
                let agreed = members.iter().all(|m| m.fields[i].doc == field.doc);
                let (ty, known, doc) = if field.wire == form.items {
                    let doc = if agreed {
                        field.doc.clone()
                    } else {
                        "This page's items (each page's alias says what they are).".to_string()
                    };
                    (quote! { ::std::vec::Vec<T> }, Vec::new(), doc)
                } else {
                    let doc = if agreed {
                        field.doc.clone()
                    } else {
                        format!("`{}`: each page's alias describes it.", field.wire)
                    };
                    (field.ty.clone(), field.known.clone(), doc)
                };
                fields.push(Field {
                    wire: field.wire.clone(),
                    rust: field.rust.clone(),
                    ty,
                    known,
                    forms: field.forms.clone(),
                    doc,
                });
            }
            let listed: Vec<String> = members
                .iter()
                .take(5)
                .map(|m| format!("`{}`", m.schema))
                .collect();
            let more = match members.len() - listed.len() {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            let doc = format!(
                "One page of a listing, its items as `T`: the form of the spec's pages {}{more}. \
                 Each of them is this type with its item (`{}` is `{}<{}>`).",
                listed.join(", "),
                first.type_name,
                form.name,
                spec::type_name(&form.members[0].1),
            );
            for (member, (_, _, item_type)) in members.iter().zip(&form.members) {
                let alias = format_ident!("{}", member.type_name);
                let generic = format_ident!("{}", form.name);
                let mut doc = member.doc.clone();
                for (field, generic_field) in member.fields.iter().zip(&fields) {
                    if field.doc != generic_field.doc {
                        doc.push_str(&format!("\n\n`{}`: {}", field.rust, field.doc));
                    }
                }
                aliases.push(quote! {
                    #[doc = #doc]
                    pub type #alias = #generic<#item_type>;
                });
                page_forms.insert(member.schema.clone(), form.name.clone());
            }
            self.names.insert(form.name.clone());
            self.records.push(Record {
                type_name: form.name.clone(),
                schema: form.name,
                doc,
                fields,
                generic: true,
            });
        }
        Ok(page_forms)
    }

    /// The Rust type of a field's schema, and its known values as JSON text.
    fn field_type(
        &mut self,
        schema: &Value,
        nested: &str,
        at: &str,
    ) -> Result<(TokenStream, Vec<String>)> {
        if let Some(name) = spec::ref_name(schema) {
            let target = spec::component(self.doc, name)
                .ok_or_else(|| Problem::new(at, format!("`$ref` to a missing schema `{name}`")))?;
            if is_record(target) {
                let path = format!("{MODULE}::{}", spec::type_name(name));
                return Ok((parse_type(&path, at)?, Vec::new()));
            }
            return self.field_type(
                target,
                &spec::type_name(name),
                &format!("components.schemas.{name}"),
            );
        }
        let known = known_values(schema);
        if let Some(rust) = schema.get("x-shiheng-type") {
            let rust = rust.as_str().ok_or_else(|| {
                Problem::new(
                    format!("{at}.x-shiheng-type"),
                    "must name a type of the crate (e.g. lenient::PlatformTime)",
                )
            })?;
            return Ok((
                parse_type(&format!("crate::{rust}"), &format!("{at}.x-shiheng-type"))?,
                known,
            ));
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                // The wire forms of one value: decoded as the first typed
                // branch, whose rule accepts the others' forms (a string
                // accepts numbers, a boolean accepts 0/1).
                let first = branches
                    .iter()
                    .map(|b| spec::resolve(self.doc, b))
                    .find(|b| b.get("type").is_some());
                return match first {
                    Some(branch)
                        if branch.get("type").and_then(Value::as_str) != Some("object") =>
                    {
                        let (ty, mut branch_known) =
                            self.field_type(branch, nested, &format!("{at}.{key}"))?;
                        branch_known.extend(known);
                        Ok((ty, branch_known))
                    }
                    _ => Ok((quote! { ::serde_json::Value }, known)),
                };
            }
        }
        let ty = match schema.get("type").and_then(Value::as_str) {
            Some("string") => quote! { ::std::string::String },
            Some("integer") => quote! { i64 },
            Some("number") => quote! { f64 },
            Some("boolean") => quote! { bool },
            Some("array") => {
                let items = schema.get("items").unwrap_or(&Value::Null);
                let (inner, _) =
                    self.field_type(items, &format!("{nested}Item"), &format!("{at}.items"))?;
                quote! { ::std::vec::Vec<#inner> }
            }
            Some("object") if schema.get("properties").is_some() => {
                self.record(nested, nested, schema, at)?;
                parse_type(&format!("{MODULE}::{nested}"), at)?
            }
            _ => quote! { ::serde_json::Value },
        };
        Ok((ty, known))
    }
}

fn parse_type(path: &str, at: &str) -> Result<TokenStream> {
    syn::parse_str::<syn::Type>(path)
        .map(|ty| quote! { #ty })
        .map_err(|e| Problem::new(at, format!("`{path}` is not a Rust type: {e}")))
}

/// The JSON forms the branches of a field's `anyOf`/`oneOf` document: the
/// decoding rule accepts them without noting a difference.
fn documented_forms(doc: &Value, schema: &Value) -> Vec<&'static str> {
    let schema = spec::resolve(doc, schema);
    let mut forms = Vec::new();
    for key in ["anyOf", "oneOf"] {
        for branch in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let form = match spec::resolve(doc, branch)
                .get("type")
                .and_then(Value::as_str)
            {
                Some("string") => "STRING",
                Some("integer") => "INTEGER",
                Some("number") => "NUMBER",
                Some("boolean") => "BOOLEAN",
                _ => continue,
            };
            if !forms.contains(&form) {
                forms.push(form);
            }
        }
    }
    forms
}

/// `x-known-values` and `enum`, as JSON text (`"1"`, `6`).
fn known_values(schema: &Value) -> Vec<String> {
    ["x-known-values", "enum"]
        .iter()
        .filter_map(|key| schema.get(*key).and_then(Value::as_array))
        .flatten()
        .filter(|v| !v.is_null())
        .map(Value::to_string)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn emit(record: &Record) -> TokenStream {
    let name = format_ident!("{}", record.type_name);
    let schema = &record.schema;
    let doc = &record.doc;
    let idents: Vec<_> = record.fields.iter().map(|f| ident(&f.rust)).collect();
    let types: Vec<_> = record.fields.iter().map(|f| &f.ty).collect();
    let docs: Vec<_> = record.fields.iter().map(|f| &f.doc).collect();
    let wires: Vec<_> = record.fields.iter().map(|f| &f.wire).collect();
    let rust_names: Vec<_> = record.fields.iter().map(|f| &f.rust).collect();
    let indexes: Vec<_> = (0..record.fields.len()).collect();
    let known: Vec<TokenStream> = record
        .fields
        .iter()
        .map(|f| {
            let values = &f.known;
            quote! { &[#(#values),*] }
        })
        .collect();
    let documenting: Vec<TokenStream> = record
        .fields
        .iter()
        .map(|f| match f.forms.split_first() {
            None => quote! {},
            Some((first, rest)) => {
                let first = format_ident!("{}", first);
                let rest = rest.iter().map(|r| format_ident!("{}", r));
                quote! {
                    .documenting(crate::record::WireForms::#first #(.union(crate::record::WireForms::#rest))*)
                }
            }
        })
        .collect();
    let by_name: BTreeMap<&str, usize> = record
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f.wire.as_str(), i))
        .collect();
    let (match_names, match_indexes): (Vec<_>, Vec<_>) = by_name.into_iter().unzip();
    let (params, args, bounds) = if record.generic {
        (
            quote! { <T> },
            quote! { <T> },
            quote! {
                <T: crate::record::FieldValue + ::std::clone::Clone + ::std::fmt::Debug
                    + ::std::default::Default + ::std::marker::Send + ::std::marker::Sync + 'static>
            },
        )
    } else {
        (quote! {}, quote! {}, quote! {})
    };
    let de_bounds = if record.generic {
        quote! { <'de, T: crate::record::FieldValue + ::std::clone::Clone + ::std::fmt::Debug
        + ::std::default::Default + ::std::marker::Send + ::std::marker::Sync + 'static> }
    } else {
        quote! { <'de> }
    };
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, Default, PartialEq)]
        #[non_exhaustive]
        pub struct #name #params {
            #(
                #[doc = #docs]
                pub #idents: ::std::option::Option<#types>,
            )*
            /// Fields the platform sent that the spec does not declare, as
            /// received: a field the platform adds reaches you before the
            /// spec names it (and `shiheng check` reports it).
            pub extra: crate::record::Extra,
        }

        impl #bounds crate::record::Record for #name #args {
            const SCHEMA: &'static str = #schema;
            const FIELDS: &'static [crate::record::Field] = &[
                #(
                    crate::record::Field::new(
                        #wires,
                        #rust_names,
                        <#types as crate::record::FieldValue>::KIND,
                        #known,
                    )#documenting,
                )*
            ];
            fn extra(&self) -> &crate::record::Extra {
                &self.extra
            }
            fn index_of(name: &str) -> ::std::option::Option<usize> {
                match name {
                    #( #match_names => ::std::option::Option::Some(#match_indexes), )*
                    _ => ::std::option::Option::None,
                }
            }
            fn cell(&self, index: usize) -> ::std::option::Option<crate::record::Cell<'_>> {
                match index {
                    #( #indexes => self.#idents.as_ref().map(crate::record::FieldValue::cell), )*
                    _ => ::std::option::Option::None,
                }
            }
            fn read_field<'de, A: ::serde::de::MapAccess<'de>>(
                &mut self,
                index: usize,
                map: &mut A,
            ) -> ::std::result::Result<(), A::Error> {
                let fields = <Self as crate::record::Record>::FIELDS;
                match index {
                    #( #indexes => self.#idents = crate::record::read(map, #schema, &fields[#indexes])?, )*
                    _ => {}
                }
                ::std::result::Result::Ok(())
            }
            fn write_fields<M: ::serde::ser::SerializeMap>(
                &self,
                map: &mut M,
            ) -> ::std::result::Result<(), M::Error> {
                #( map.serialize_entry(#wires, &self.#idents)?; )*
                ::std::result::Result::Ok(())
            }
            fn extra_mut(&mut self) -> &mut crate::record::Extra {
                &mut self.extra
            }
        }

        impl #bounds ::serde::Serialize for #name #args {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                crate::record::serialize(self, s)
            }
        }

        impl #de_bounds ::serde::Deserialize<'de> for #name #args {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                crate::record::deserialize(d)
            }
        }
    }
}

/// An identifier for a field name (keywords were already suffixed).
fn ident(name: &str) -> proc_macro2::Ident {
    format_ident!("{}", name)
}
