//! Compact decoders and encoders for progenitor's own structs (the request
//! parameters, and any other object schema that is not a record).
//!
//! typify derives `Deserialize` and `Serialize` on each of them. serde's derive writes a
//! field enum, its identifier visitor and a visitor with `visit_seq` and
//! `visit_map` per struct, compiled again for each deserializer: at 300
//! operations these copies were about a fifth of the crate's build (the
//! scale benchmark, docs/generated-code.md). Here a struct whose serde
//! attributes are only `rename`, a bare `default` and `skip_serializing_if`
//! (what typify emits for plain objects) gets a decoder that is data
//! instead: the object is read as a JSON map (one copy per deserializer,
//! shared by every struct), then each field is taken from the map by one
//! helper per field type. Its encoder is data too: each field's wire name
//! and JSON value in a list (`to_json_fields`), written as an object by one
//! shared writer, in field order; a field typify skips when empty
//! (`skip_serializing_if`) is left out the same way.
//!
//! Behaviour is serde's: unknown fields are ignored, a missing field is an
//! error unless it is an `Option` or has a default, and a field that does
//! not fit is named in the error (`field `pageSize`: ...`, which
//! `operation::request_envelope` turns into `paramContent.pageSize`).
//! Any other serde attribute keeps typify's derives.

use proc_macro2::TokenStream;
use quote::quote;
use syn::punctuated::Punctuated;

/// Rewrites the decodable structs of `items` (progenitor's `types` module)
/// and adds the helpers they call.
pub fn apply(items: &mut Vec<syn::Item>) {
    let mut added = Vec::new();
    for item in items.iter_mut() {
        if let syn::Item::Struct(item) = item
            && let Some(decoder) = compact(item)
        {
            added.push(decoder);
        }
    }
    if added.is_empty() {
        return;
    }
    items.push(syn::parse_quote! {
        /// The field readers of the compact decoders (build/compact.rs):
        /// compiled once per field type, not per struct.
        #[doc(hidden)]
        pub mod compact {
            use ::serde_json::{Map, Value};

            /// Takes the required field `name` from `map`; an `Option`
            /// field may be missing.
            pub fn field<T: ::serde::de::DeserializeOwned>(
                map: &mut Map<String, Value>,
                name: &str,
            ) -> ::std::result::Result<T, String> {
                match map.remove(name) {
                    Some(value) => {
                        ::serde_json::from_value(value).map_err(|e| format!("field `{name}`: {e}"))
                    }
                    None => ::serde_json::from_value(Value::Null)
                        .map_err(|_| format!("field `{name}`: missing")),
                }
            }

            /// Appends the field `name` with `value` as JSON.
            pub fn put<T: ::serde::Serialize>(
                fields: &mut ::std::vec::Vec<(&'static str, Value)>,
                name: &'static str,
                value: &T,
            ) -> ::std::result::Result<(), String> {
                let value = ::serde_json::to_value(value).map_err(|e| format!("field `{name}`: {e}"))?;
                fields.push((name, value));
                Ok(())
            }

            /// Writes `fields` as an object, in their order.
            pub fn write<S: ::serde::Serializer>(
                fields: ::std::result::Result<::std::vec::Vec<(&'static str, Value)>, String>,
                s: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeMap;
                let fields = fields.map_err(<S::Error as ::serde::ser::Error>::custom)?;
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (name, value) in &fields {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }

            /// Takes the field `name` from `map`, its default when missing.
            pub fn field_or_default<T: ::serde::de::DeserializeOwned + Default>(
                map: &mut Map<String, Value>,
                name: &str,
            ) -> ::std::result::Result<T, String> {
                match map.contains_key(name) {
                    true => field(map, name),
                    false => Ok(T::default()),
                }
            }
        }
    });
    for decoder in added {
        items.extend(
            syn::parse2::<syn::File>(decoder)
                .map(|f| f.items)
                .unwrap_or_default(),
        );
    }
}

/// The decoder of `item`, its `Deserialize` derive removed, if its serde
/// attributes allow one.
fn compact(item: &mut syn::ItemStruct) -> Option<TokenStream> {
    if !item.generics.params.is_empty() || item.attrs.iter().any(|a| a.path().is_ident("serde")) {
        return None;
    }
    let syn::Fields::Named(fields) = &item.fields else {
        return None;
    };
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    let mut wire_names = Vec::new();
    for field in &fields.named {
        let ident = field.ident.as_ref()?;
        let mut name = ident.to_string().trim_start_matches("r#").to_string();
        let mut default = false;
        let mut skip: Option<syn::ExprPath> = None;
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
            let mut plain = true;
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    name = meta.value()?.parse::<syn::LitStr>()?.value();
                } else if meta.path.is_ident("default") && !meta.input.peek(syn::Token![=]) {
                    default = true;
                } else if meta.path.is_ident("skip_serializing_if") {
                    skip = Some(meta.value()?.parse::<syn::LitStr>()?.parse()?);
                } else {
                    plain = false;
                }
                Ok(())
            })
            .ok()?;
            if !plain {
                return None;
            }
        }
        let read = match default {
            true => quote! { compact::field_or_default(&mut map, #name)? },
            false => quote! { compact::field(&mut map, #name)? },
        };
        reads.push(quote! { #ident: #read });
        wire_names.push(name.clone());
        let put = quote! { compact::put(&mut fields, #name, &self.#ident)?; };
        writes.push(match skip {
            Some(skip) => quote! { if !#skip(&self.#ident) { #put } },
            None => put,
        });
    }
    let derive = item
        .attrs
        .iter_mut()
        .find(|a| a.path().is_ident("derive"))?;
    let paths = derive
        .parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
        .ok()?;
    let is = |p: &syn::Path, name: &str| p.segments.last().is_some_and(|s| s.ident == name);
    let is_serde = |p: &syn::Path| is(p, "Deserialize") || is(p, "Serialize");
    if !paths.iter().any(|p| is(p, "Deserialize")) || !paths.iter().any(|p| is(p, "Serialize")) {
        return None;
    }
    let kept = paths.iter().filter(|p| !is_serde(p));
    *derive = syn::parse_quote!(#[derive(#(#kept),*)]);
    // Read above; with both derives gone nothing else would read them.
    // The wire name stays in the docs, as on the records.
    if let syn::Fields::Named(fields) = &mut item.fields {
        for (field, wire) in fields.named.iter_mut().zip(&wire_names) {
            field.attrs.retain(|a| !a.path().is_ident("serde"));
            if field.ident.as_ref().is_some_and(|i| i != wire.as_str()) {
                let doc = format!("\n\nJSON: `{wire}`.");
                field.attrs.push(syn::parse_quote!(#[doc = #doc]));
            }
        }
    }
    let name = &item.ident;
    Some(quote! {
        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                d: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let map = <::serde_json::Map<String, ::serde_json::Value> as ::serde::Deserialize>::deserialize(d)?;
                Self::from_json_map(map).map_err(<D::Error as ::serde::de::Error>::custom)
            }
        }
        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(
                &self,
                s: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                compact::write(self.to_json_fields(), s)
            }
        }
        impl #name {
            #[allow(unused_mut)]
            fn to_json_fields(
                &self,
            ) -> ::std::result::Result<::std::vec::Vec<(&'static str, ::serde_json::Value)>, String> {
                let mut fields = ::std::vec::Vec::new();
                #(#writes)*
                ::std::result::Result::Ok(fields)
            }
            #[allow(unused_mut, unused_variables)]
            fn from_json_map(
                mut map: ::serde_json::Map<String, ::serde_json::Value>,
            ) -> ::std::result::Result<Self, String> {
                ::std::result::Result::Ok(Self { #(#reads),* })
            }
        }
    })
}
