//! One sender for progenitor's per-operation methods.
//!
//! progenitor writes each operation's method as an `async fn` that builds
//! the request, encodes the body with `RequestBuilder::json`, runs the
//! hooks and sorts the status. Every such body is compiled again per
//! operation: a state machine, its drop glue and a `json` encoder per body
//! type were about a tenth of the crate's code at 300 operations (the scale
//! benchmark, docs/generated-code.md). A method whose body is exactly that
//! shape (a JSON body, no path or query parameters, the answer as a byte
//! stream) is rewritten to encode its body and hand the request to
//! `Client::send_json`, written once here; the method keeps its name, its
//! parameters and its output, and returns `impl Future + Send`. A method of
//! any other shape keeps progenitor's body: the comparison is with the
//! tokens progenitor emits, so a new progenitor that changes them makes
//! this a no-op rather than a miscompilation.

use proc_macro2::TokenStream;
use quote::quote;

/// Rewrites the fitting methods of progenitor's `impl Client` block;
/// reports whether any was rewritten (then `sender` must be emitted).
pub fn apply(block: &mut syn::ItemImpl) -> bool {
    let mut any = false;
    for member in &mut block.items {
        if let syn::ImplItem::Fn(function) = member
            && let Some(lean) = lean(function)
        {
            *function = lean;
            any = true;
        }
    }
    any
}

/// The shared sender the rewritten methods call.
pub fn sender() -> TokenStream {
    quote! {
        impl Client {
            /// Sends `body` (already JSON) to `url` the way progenitor's
            /// generated methods do: the `api-version` header, the hooks,
            /// the answer as a byte stream, a non-2xx status as
            /// `Error::ErrorResponse`. Shared by every operation
            /// (build/shared_send.rs).
            async fn send_json(
                &self,
                url: String,
                operation_id: &'static str,
                body: ::serde_json::Result<::std::vec::Vec<u8>>,
            ) -> Result<ResponseValue<ByteStream>, Error<ByteStream>> {
                let body = body.map_err(|e| {
                    Error::InvalidRequest(format!("the request body does not encode as JSON: {e}"))
                })?;
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);
                header_map.append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(Self::api_version()),
                );
                header_map.append(
                    ::reqwest::header::CONTENT_TYPE,
                    ::reqwest::header::HeaderValue::from_static("application/json"),
                );
                let mut request = self.client.post(url).headers(header_map).body(body).build()?;
                let info = OperationInfo { operation_id };
                self.pre(&mut request, &info).await?;
                let result = self.exec(request, &info).await;
                self.post(&result, &info).await?;
                let response = result?;
                match response.status().as_u16() {
                    200..=299 => Ok(ResponseValue::stream(response)),
                    _ => Err(Error::ErrorResponse(ResponseValue::stream(response))),
                }
            }
        }
    }
}

/// The lean form of `function`, if its body is progenitor's for a JSON
/// body sent to a fixed path with the answer as a byte stream.
fn lean(function: &syn::ImplItemFn) -> Option<syn::ImplItemFn> {
    let sig = &function.sig;
    sig.asyncness?;
    let mut inputs = sig.inputs.iter();
    let (Some(syn::FnArg::Receiver(_)), Some(syn::FnArg::Typed(body)), None) =
        (inputs.next(), inputs.next(), inputs.next())
    else {
        return None;
    };
    let body_type = body_type(body)?;
    if !same(quote!(#body), quote!(body: &'a #body_type)) {
        return None;
    }
    let syn::ReturnType::Type(_, output) = &sig.output else {
        return None;
    };
    if !same(
        quote!(#output),
        quote!(Result<ResponseValue<ByteStream>, Error<ByteStream>>),
    ) {
        return None;
    }
    let stmts = &function.block.stmts;
    let url = url_expression(stmts.first()?)?;
    let operation_id = operation_id(stmts)?;
    if !same(quote!(#(#stmts)*), progenitor_body(&url, &operation_id)) {
        return None;
    }
    let attrs = &function.attrs;
    let vis = &function.vis;
    let name = &sig.ident;
    let generics = &sig.generics;
    Some(syn::parse_quote! {
        #(#attrs)*
        #vis fn #name #generics(
            &'a self,
            body: &'a #body_type,
        ) -> impl ::std::future::Future<Output = Result<ResponseValue<ByteStream>, Error<ByteStream>>> + Send + 'a {
            self.send_json(#url, #operation_id, ::serde_json::to_vec(body))
        }
    })
}

/// Token-for-token equality, but for a trailing comma before a closing
/// delimiter, which progenitor writes in some places and not in others.
fn same(a: TokenStream, b: TokenStream) -> bool {
    let text = |t: TokenStream| {
        let mut text: String = t.to_string().split_whitespace().collect();
        for close in [">", ")", "}", "]"] {
            text = text.replace(&format!(",{close}"), close);
        }
        text
    };
    text(a) == text(b)
}

/// `T` of `body: &'a T`.
fn body_type(body: &syn::PatType) -> Option<&syn::Type> {
    match &*body.ty {
        syn::Type::Reference(reference) => Some(&reference.elem),
        _ => None,
    }
}

/// `E` of `let url = E;`.
fn url_expression(stmt: &syn::Stmt) -> Option<syn::Expr> {
    let syn::Stmt::Local(local) = stmt else {
        return None;
    };
    let syn::Pat::Ident(pat) = &local.pat else {
        return None;
    };
    (pat.ident == "url").then_some(())?;
    Some((*local.init.as_ref()?.expr).clone())
}

/// `L` of `let info = OperationInfo { operation_id: L };`.
fn operation_id(stmts: &[syn::Stmt]) -> Option<syn::Expr> {
    stmts.iter().find_map(|stmt| {
        let syn::Stmt::Local(local) = stmt else {
            return None;
        };
        let syn::Expr::Struct(info) = &*local.init.as_ref()?.expr else {
            return None;
        };
        let field = info.fields.first()?;
        (info.path.is_ident("OperationInfo") && info.fields.len() == 1).then_some(())?;
        Some(field.expr.clone())
    })
}

/// progenitor 0.15's body for a JSON body and a byte-stream answer.
fn progenitor_body(url: &syn::Expr, operation_id: &syn::Expr) -> TokenStream {
    quote! {
        let url = #url;
        let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
        header_map.append(
            ::reqwest::header::HeaderName::from_static("api-version"),
            ::reqwest::header::HeaderValue::from_static(Self::api_version()),
        );
        #[allow(unused_mut)]
        let mut request = self
            .client
            .post(url)
            .json(&body)
            .headers(header_map)
            .build()?;
        let info = OperationInfo {
            operation_id: #operation_id,
        };
        self.pre(&mut request, &info).await?;
        let result = self.exec(request, &info).await;
        self.post(&result, &info).await?;
        let response = result?;
        match response.status().as_u16() {
            200..=299 => {
                Ok(ResponseValue::stream(response))
            }
            _ => {
                Err(Error::ErrorResponse(ResponseValue::stream(response)))
            }
        }
    }
}
