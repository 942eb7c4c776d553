//! The operation table: one `OperationSpec` constant per operation of the
//! spec (names, path, summary, CLI command, idempotency, schemas, and the
//! pagination fields with their bounds), the list of them all, and per
//! operation a marker type bound to its typed result, params and items plus
//! a one-line call on `crate::Client`. All runtime logic stays in the
//! hand-written generic code of `src/` (`operation`, `call`, `paginate`);
//! what is emitted here is declarative.

use std::collections::BTreeMap;

use heck::{ToKebabCase, ToShoutySnakeCase, ToSnakeCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::spec::{self, Problem, Result};

/// Methods of `crate::Client` an operation may not take the name of.
pub const RESERVED_METHODS: &[&str] = &[
    "new",
    "from_env",
    "generated",
    "base_url",
    "call_raw",
    "note_drift",
    "clone",
    "fmt",
];

/// An integer field of `paramContent` with its bounds.
pub struct Param {
    name: String,
    min: i64,
    max: i64,
}

pub enum Style {
    PageNumber {
        page: Param,
        pages: Option<String>,
        total: Option<String>,
    },
    Cursor {
        cursor: Param,
        next: String,
        key: Option<String>,
    },
}

pub struct PaginationDef {
    style: Style,
    page_size: Param,
    items: String,
    item_id: String,
    item_schema: String,
}

const PAGE_NUMBER_KEYS: &[&str] = &[
    "style", "page", "pageSize", "pages", "total", "items", "itemId",
];
const CURSOR_KEYS: &[&str] = &[
    "style",
    "cursor",
    "pageSize",
    "nextCursor",
    "items",
    "itemId",
    "cursorKey",
];

/// Reads and checks an operation's `x-pagination` against its schemas.
pub fn pagination(doc: &Value, op: &Value, value: &Value, at: &str) -> Result<PaginationDef> {
    let map = value
        .as_object()
        .ok_or_else(|| Problem::new(at, "must be a mapping"))?;
    let style = spec::str_at(value, "style")
        .ok_or_else(|| Problem::new(format!("{at}.style"), "is missing (page-number or cursor)"))?;
    let known = match style {
        "page-number" => PAGE_NUMBER_KEYS,
        "cursor" => CURSOR_KEYS,
        other => {
            return Err(Problem::new(
                format!("{at}.style"),
                format!("`{other}` is not one of page-number, cursor"),
            ));
        }
    };
    for key in map.keys() {
        if !known.contains(&key.as_str()) {
            return Err(Problem::new(
                format!("{at}.{key}"),
                format!(
                    "unknown x-pagination field for style {style} (known: {})",
                    known.join(", ")
                ),
            ));
        }
    }
    let key = |name: &str| -> Result<String> {
        spec::str_at(value, name)
            .map(str::to_string)
            .ok_or_else(|| Problem::new(format!("{at}.{name}"), "is missing or not a string"))
    };
    let optional = |name: &str| spec::str_at(value, name).map(str::to_string);

    let request = op
        .get("requestBody")
        .and_then(spec::json_schema)
        .map(|s| spec::resolve(doc, s))
        .unwrap_or(&Value::Null);
    let params = request
        .pointer("/properties/paramContent")
        .map(|s| spec::resolve(doc, s))
        .ok_or_else(|| {
            Problem::new(
                at,
                "the request envelope has no `paramContent` to page with",
            )
        })?;
    let param = |name: &str, field: &str| -> Result<Param> {
        let prop = params
            .pointer(&format!("/properties/{name}"))
            .map(|p| spec::resolve(doc, p))
            .ok_or_else(|| {
                Problem::new(
                    format!("{at}.{field}"),
                    format!("paramContent has no `{name}`"),
                )
            })?;
        if prop.get("type").and_then(Value::as_str) != Some("integer") {
            return Err(Problem::new(
                format!("{at}.{field}"),
                format!("paramContent.{name} must be an integer"),
            ));
        }
        let max_of_format = if spec::str_at(prop, "format") == Some("int32") {
            i64::from(i32::MAX)
        } else {
            i64::MAX
        };
        Ok(Param {
            name: name.to_string(),
            min: prop.get("minimum").and_then(Value::as_i64).unwrap_or(0),
            max: prop
                .get("maximum")
                .and_then(Value::as_i64)
                .unwrap_or(max_of_format),
        })
    };

    let envelope = op
        .pointer("/responses/200")
        .and_then(spec::json_schema)
        .map(|s| spec::resolve(doc, s))
        .unwrap_or(&Value::Null);
    let result_ref = envelope
        .pointer("/properties/result")
        .unwrap_or(&Value::Null);
    let result = spec::resolve(doc, result_ref);
    let result_name = spec::ref_name(result_ref).unwrap_or("result");
    let answer_integer = |name: &str, field: &str| -> Result<String> {
        let prop = result
            .pointer(&format!("/properties/{name}"))
            .map(|p| spec::resolve(doc, p))
            .ok_or_else(|| {
                Problem::new(
                    format!("{at}.{field}"),
                    format!("{result_name} has no `{name}`"),
                )
            })?;
        if prop.get("type").and_then(Value::as_str) != Some("integer") {
            return Err(Problem::new(
                format!("{at}.{field}"),
                format!("{result_name}.{name} must be an integer"),
            ));
        }
        Ok(name.to_string())
    };

    let items = key("items")?;
    let array = result
        .pointer(&format!("/properties/{items}"))
        .ok_or_else(|| {
            Problem::new(
                format!("{at}.items"),
                format!("{result_name} has no `{items}`"),
            )
        })?;
    let item_ref = array.get("items").unwrap_or(&Value::Null);
    let item_schema = spec::ref_name(item_ref).ok_or_else(|| {
        Problem::new(
            format!("{at}.items"),
            format!("{result_name}.{items} must be an array whose items are a $ref to #/components/schemas/…"),
        )
    })?;
    let item = spec::component(doc, item_schema).unwrap_or(&Value::Null);
    if item.get("properties").and_then(Value::as_object).is_none() {
        return Err(Problem::new(
            format!("{at}.items"),
            format!("the item schema {item_schema} must be an object with properties"),
        ));
    }
    let item_integer = |name: &str, field: &str| -> Result<String> {
        let prop = item
            .pointer(&format!("/properties/{name}"))
            .map(|p| spec::resolve(doc, p))
            .ok_or_else(|| {
                Problem::new(
                    format!("{at}.{field}"),
                    format!("{item_schema} has no `{name}`"),
                )
            })?;
        if prop.get("type").and_then(Value::as_str) != Some("integer") {
            return Err(Problem::new(
                format!("{at}.{field}"),
                format!("{item_schema}.{name} must be an integer"),
            ));
        }
        Ok(name.to_string())
    };
    let item_id = item_integer(&key("itemId")?, "itemId")?;
    let page_size = param(&key("pageSize")?, "pageSize")?;
    if page_size.max < 1 || page_size.min > i64::from(u32::MAX) {
        return Err(Problem::new(
            format!("{at}.pageSize"),
            "the page size bounds admit no positive size",
        ));
    }
    let style = match style {
        "page-number" => Style::PageNumber {
            page: param(&key("page")?, "page")?,
            pages: optional("pages")
                .map(|p| answer_integer(&p, "pages"))
                .transpose()?,
            total: optional("total")
                .map(|t| answer_integer(&t, "total"))
                .transpose()?,
        },
        _ => Style::Cursor {
            cursor: param(&key("cursor")?, "cursor")?,
            next: answer_integer(&key("nextCursor")?, "nextCursor")?,
            key: optional("cursorKey")
                .map(|k| item_integer(&k, "cursorKey"))
                .transpose()?,
        },
    };
    Ok(PaginationDef {
        style,
        page_size,
        items,
        item_id,
        item_schema: item_schema.to_string(),
    })
}

/// A request schema that is the platform's envelope exactly: its Rust type
/// is `crate::operation::RequestEnvelope<P>`, named by an alias in
/// progenitor's `types` module, rather than a struct (and a serde decoder)
/// of its own per operation.
pub struct EnvelopeAlias {
    pub name: String,
    pub doc: String,
    /// `P`: the parameters' type, an `Option` when `paramContent` may be
    /// left out.
    pub params: String,
    pub rust: String,
}

/// The Rust types the table binds: progenitor's request types and the
/// model's records, by schema name.
pub struct Types<'a> {
    pub replacements: &'a BTreeMap<String, String>,
    /// The request schemas that are `RequestEnvelope<P>`.
    pub envelopes: &'a [EnvelopeAlias],
    /// The page schemas that are a generic page form, and the form.
    pub page_forms: &'a BTreeMap<String, String>,
}

impl Types<'_> {
    fn of(&self, schema: &str, at: &str) -> Result<TokenStream> {
        let path = match self.replacements.get(schema) {
            Some(rust) => rust.clone(),
            None => format!("crate::generated::types::{}", spec::type_name(schema)),
        };
        syn::parse_str::<syn::Type>(&path)
            .map(|ty| quote! { #ty })
            .map_err(|e| Problem::new(at, format!("`{path}` is not a Rust type: {e}")))
    }
}

/// The generated table (`operations.rs`: data and the typed bindings) and
/// the calls on `Client` with the run-time registry (`calls.rs`, which sit
/// above the paginators).
pub struct Generated {
    pub table: TokenStream,
    pub calls: TokenStream,
    /// Whether some entry reads a page by its form: a selection without
    /// one leaves `crate::dynamic::page_json` and its helpers unused.
    pub reads_page_forms: bool,
}

pub fn generate(doc: &Value, types: &Types<'_>) -> Result<Generated> {
    let mut consts = Vec::new();
    let mut calls = Vec::new();
    let mut dynamic = Vec::new();
    let mut names = Vec::new();
    let mut reads_page_forms = false;
    for (path, _, op, at) in spec::operations(doc) {
        let id = spec::str_at(op, "operationId").unwrap_or_default();
        let method = spec::field_name(id);
        if RESERVED_METHODS.contains(&method.as_str()) {
            return Err(Problem::new(
                format!("{at}.operationId"),
                format!("`{id}` would name the method `{method}`, which `Client` already has"),
            ));
        }
        let const_name = format_ident!("{}", id.to_shouty_snake_case());
        let marker = format_ident!("{}", spec::type_name(id));
        let method_ident = format_ident!("{}", method);
        let progenitor_method = id.to_snake_case();
        let progenitor_ident = format_ident!("{}", progenitor_method);
        let summary = spec::str_at(op, "summary").unwrap_or(id).trim().to_string();
        let description = spec::str_at(op, "description")
            .unwrap_or("")
            .trim()
            .to_string();
        let cli_command =
            spec::str_at(op, "x-cli-command").map_or_else(|| id.to_kebab_case(), str::to_string);
        let idempotent = op.get("x-idempotent") == Some(&Value::Bool(true));

        let body = op
            .get("requestBody")
            .and_then(spec::json_schema)
            .unwrap_or(&Value::Null);
        let request_schema = spec::ref_name(body).unwrap_or("").to_string();
        // An envelope's body is its `paramContent` read as `P` (the signer's
        // fields are the transport's): one decoder per parameters type.
        let read_body = match types.envelopes.iter().find(|e| e.name == request_schema) {
            Some(envelope) => {
                let params = syn::parse_str::<syn::Type>(&envelope.params).map_err(|e| {
                    Problem::new(
                        &at,
                        format!("`{}` is not a Rust type: {e}", envelope.params),
                    )
                })?;
                quote! { crate::operation::request_envelope::<#params> }
            }
            None => {
                let body = types.of(&request_schema, &at)?;
                quote! { crate::operation::request_body::<#body> }
            }
        };
        let request = spec::resolve(doc, body);
        let params_ref = request.pointer("/properties/paramContent");
        let params_schema = params_ref.and_then(spec::ref_name);
        let params_required = spec::is_required(request, "paramContent");
        let params_type = match (params_ref, params_schema) {
            (None, _) => quote! { () },
            (Some(_), Some(name)) => types.of(name, &at)?,
            (Some(_), None) => quote! { ::serde_json::Value },
        };
        let params_schema = match params_schema {
            Some(name) => quote! { ::std::option::Option::Some(#name) },
            None => quote! { ::std::option::Option::None },
        };

        let ok = op
            .pointer("/responses/200")
            .and_then(spec::json_schema)
            .unwrap_or(&Value::Null);
        let response_schema = spec::ref_name(ok).unwrap_or("").to_string();
        let envelope = spec::resolve(doc, ok);
        let result_schema = envelope
            .pointer("/properties/result")
            .and_then(spec::ref_name)
            .unwrap_or("")
            .to_string();
        let result_type = types.of(&result_schema, &at)?;

        let paged = match op.get("x-pagination") {
            Some(value) => Some(pagination(doc, op, value, &format!("{at}.x-pagination"))?),
            None => None,
        };
        let pagination_tokens = match &paged {
            None => quote! { ::std::option::Option::None },
            Some(def) => {
                let style = match &def.style {
                    Style::PageNumber { page, pages, total } => {
                        let page = param_tokens(page);
                        let pages = option_str(pages.as_deref());
                        let total = option_str(total.as_deref());
                        quote! {
                            crate::operation::PaginationStyle::PageNumber {
                                page: #page,
                                pages: #pages,
                                total: #total,
                            }
                        }
                    }
                    Style::Cursor { cursor, next, key } => {
                        let cursor = param_tokens(cursor);
                        let key = option_str(key.as_deref());
                        quote! {
                            crate::operation::PaginationStyle::Cursor {
                                cursor: #cursor,
                                next_cursor: #next,
                                key: #key,
                            }
                        }
                    }
                };
                let page_size = param_tokens(&def.page_size);
                let (items, item_id, item_schema) = (&def.items, &def.item_id, &def.item_schema);
                quote! {
                    ::std::option::Option::Some(crate::operation::Pagination {
                        style: #style,
                        page_size: #page_size,
                        items: #items,
                        item_id: #item_id,
                        item_schema: #item_schema,
                    })
                }
            }
        };
        // The dynamic table's entry (`crate::dynamic::DynOperation`), as
        // data. A page of a generic form is read with its items as text,
        // each item then by the item codec: the page's decoder is compiled
        // once per form, not once per operation.
        let op = quote! { crate::operations::#marker };
        let result_json = match (&paged, types.page_forms.get(&result_schema)) {
            (Some(_), Some(form)) => {
                reads_page_forms = true;
                let form = format_ident!("{form}");
                quote! { crate::dynamic::page_json::<#op, crate::generated::model::#form<crate::record::RawItem>> }
            }
            _ => {
                quote! { crate::dynamic::result_json::<<#op as crate::operation::Operation>::Result> }
            }
        };
        let (codec, item_fields) = match &paged {
            Some(_) => (
                quote! { ::std::option::Option::Some(crate::paginate::dyn_codec::<#op>()) },
                quote! { <<#op as crate::operation::Paginated>::Item as crate::record::Record>::FIELDS },
            ),
            None => (quote! { ::std::option::Option::None }, quote! { &[] }),
        };
        let binding = quote! {
            crate::dynamic::DynOperation {
                spec: <#op as crate::operation::Operation>::SPEC,
                result_json: ::std::option::Option::Some(#result_json),
                codec: #codec,
                item_fields: #item_fields,
            }
        };
        let const_doc = format!("The table entry of `{id}` (POST {path}): {summary}");
        let marker_doc = format!(
            "`{id}` (POST {path}), as a type: binds the table entry [`{const_name}`] to its typed \
             result, parameters and items. Call it with [`Client::{method}`](crate::Client::{method})."
        );
        let (request_type, how) = match paged.as_ref().map(|d| &d.style) {
            Some(Style::PageNumber { .. }) => (
                quote! { crate::paginate::PageNumberRequest<crate::operations::#marker> },
                "page-number pagination: `.send()` fetches one page, `.stream()` every item, `.pages()` every page",
            ),
            Some(Style::Cursor { .. }) => (
                quote! { crate::paginate::CursorRequest<crate::operations::#marker> },
                "cursor pagination: `.send()` fetches one page, `.stream()` every item, `.pages()` every page",
            ),
            None => (
                quote! { crate::call::CallRequest<crate::operations::#marker> },
                "one call: set `.params(…)` when it takes parameters, then `.send()`",
            ),
        };
        let method_doc = if description.is_empty() || description == summary {
            format!("{summary}.\n\n`{id}` (POST {path}), with {how}.")
        } else {
            format!("{summary}.\n\n{description}\n\n`{id}` (POST {path}), with {how}.")
        };
        let paginated_impl = paged.as_ref().map(|def| {
            let item_type = types.of(&def.item_schema, &at);
            item_type.map(|item_type| {
                quote! {
                    impl crate::operation::Paginated for #marker {
                        type Item = #item_type;
                    }
                }
            })
        });
        let paginated_impl = paginated_impl.transpose()?;
        consts.push(quote! {
            #[doc = #const_doc]
            pub const #const_name: crate::operation::OperationSpec = crate::operation::OperationSpec {
                operation_id: #id,
                method: #progenitor_method,
                path: #path,
                summary: #summary,
                cli_command: #cli_command,
                idempotent: #idempotent,
                request_schema: #request_schema,
                params_schema: #params_schema,
                params_required: #params_required,
                response_schema: #response_schema,
                result_schema: #result_schema,
                pagination: #pagination_tokens,
                send: {
                    fn send(
                        client: &crate::generated::Client,
                        envelope: ::serde_json::Value,
                    ) -> ::futures::future::BoxFuture<'_, crate::operation::Sent> {
                        crate::operation::send_through(
                            client,
                            envelope,
                            #read_body,
                            |client, body| ::std::boxed::Box::pin(client.#progenitor_ident(body)),
                        )
                    }
                    send
                },
            };

            #[doc = #marker_doc]
            #[derive(Debug, Clone, Copy)]
            pub struct #marker;

            impl crate::operation::Operation for #marker {
                type Result = #result_type;
                type Params = #params_type;
                const SPEC: &'static crate::operation::OperationSpec = &#const_name;
            }

            #paginated_impl
        });
        calls.push(quote! {
            #[doc = #method_doc]
            pub fn #method_ident(&self) -> #request_type {
                <#request_type>::new(self.clone())
            }
        });
        dynamic.push(binding);
        names.push(const_name);
    }
    Ok(Generated {
        reads_page_forms,
        table: quote! {
            #(#consts)*

            /// Every operation of the spec, in its order.
            pub static OPERATIONS: &[&crate::operation::OperationSpec] = &[#(&#names),*];
        },
        // One block: rustc checks the items of a type's inherent impl blocks
        // against each other pairwise, so a block per operation cost
        // seconds at 300 operations.
        calls: quote! {
            impl crate::Client {
                #(#calls)*
            }

            /// Every operation of the spec, in its order, for callers that
            /// choose one at run time.
            pub static DYNAMIC: &[crate::dynamic::DynOperation] = &[#(#dynamic),*];
        },
    })
}

fn param_tokens(param: &Param) -> TokenStream {
    let (name, min, max) = (&param.name, param.min, param.max);
    quote! {
        crate::operation::ParamField {
            name: #name,
            bounds: crate::operation::Bounds { min: #min, max: #max },
        }
    }
}

fn option_str(value: Option<&str>) -> TokenStream {
    match value {
        Some(v) => quote! { ::std::option::Option::Some(#v) },
        None => quote! { ::std::option::Option::None },
    }
}
