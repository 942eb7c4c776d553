//! Operations chosen at run time (the CLI, the drift checker): one
//! [`DynOperation`] per table entry, plain data (the entry and the typed
//! calls behind it as function pointers), with results as JSON and items
//! as [`DynItem`]s. `build.rs` lists one per operation in [`all`]; the
//! calls behind them are `Client`'s own.

use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::call::{self, RawReply, ResultJson};
use crate::client::Client;
use crate::error::{Error, Reply};
use crate::operation::{Operation, OperationSpec, Paginated};
use crate::paginate::{ItemCodec, Items, ListingOptions, Page};
use crate::record::{Cell, DynItem, Field, Record};

type OnePage = BoxFuture<'static, Result<Page<DynItem>, Error>>;

/// An operation chosen at run time: its table entry and its typed calls.
#[derive(Clone, Copy)]
pub struct DynOperation {
    spec: &'static OperationSpec,
    /// `None` for an entry that is not in this build's table.
    result_json: Option<ResultJson>,
    /// How a paginated operation's items are read: the listing engines
    /// themselves are compiled once for every operation
    /// (`crate::paginate::dyn_listing`).
    codec: Option<ItemCodec<DynItem>>,
    /// A paginated operation's item fields (empty for any other).
    item_fields: &'static [Field],
}

impl DynOperation {
    /// The entry of an operation without pagination.
    pub const fn plain<Op: Operation>() -> Self {
        Self {
            spec: Op::SPEC,
            result_json: Some(call::result_json::<Op::Result>),
            codec: None,
            item_fields: &[],
        }
    }

    /// The entry of a paginated operation.
    pub const fn paginated<Op: Paginated>() -> Self {
        Self {
            codec: Some(crate::paginate::dyn_codec::<Op>()),
            item_fields: <Op::Item as Record>::FIELDS,
            ..Self::plain::<Op>()
        }
    }

    /// The entry of a paginated operation whose page is of a generic form
    /// (`P` is that form with [`RawItem`]s): its single call reads the page
    /// with the items as text, then each item by the item codec, so that
    /// no page decoder is compiled per operation (docs/generated-code.md).
    pub(crate) const fn paged<Op: Paginated, P>() -> Self
    where
        P: Record + DeserializeOwned + Serialize,
    {
        Self {
            spec: Op::SPEC,
            result_json: Some(page_json::<Op, P>),
            codec: Some(crate::paginate::dyn_codec::<Op>()),
            item_fields: <Op::Item as Record>::FIELDS,
        }
    }

    /// The table entry.
    pub fn spec(&self) -> &'static OperationSpec {
        self.spec
    }

    /// Calls the operation once with `param_content` (read as the spec's
    /// parameters type; what does not fit is an [`Error::InvalidArgument`])
    /// and returns the decoded `result` as JSON.
    pub fn call(
        &self,
        client: &Client,
        param_content: Option<Value>,
    ) -> BoxFuture<'static, Result<Reply<Value>, Error>> {
        let (client, spec, decode) = (client.clone(), self.spec, self.result_json);
        Box::pin(async move {
            call::call_json(&client, spec, decode.ok_or_else(unbound)?, param_content).await
        })
    }

    /// Calls the operation once and returns the whole answer as JSON, as
    /// the platform sent it (business errors are still errors): for
    /// comparing live answers with the spec.
    pub fn call_whole(
        &self,
        client: &Client,
        param_content: Option<Value>,
    ) -> BoxFuture<'static, Result<RawReply, Error>> {
        let (client, spec, decode) = (client.clone(), self.spec, self.result_json);
        Box::pin(async move {
            decode.ok_or_else(unbound)?;
            let answer = call::exchange(&client, spec, param_content, None).await?;
            call::whole(spec.operation_id, spec.response_schema, &answer)
        })
    }

    /// Every item of the listing, when the operation pages.
    pub fn list(&self, client: &Client, options: ListingOptions) -> Option<Items<DynItem>> {
        self.codec
            .map(|codec| crate::paginate::dyn_listing(client, options, self.spec, codec))
    }

    /// The one page at `options.start`, when the operation pages (the
    /// listing's other options do not apply to one page).
    pub fn page(&self, client: &Client, options: ListingOptions) -> Option<OnePage> {
        self.codec
            .map(|codec| crate::paginate::dyn_page(client, options, self.spec, codec))
    }

    /// The item schema's declared fields, in the spec's order (empty when
    /// the operation does not page): a listing's columns before any item
    /// has arrived.
    pub fn item_fields(&self) -> &'static [Field] {
        self.item_fields
    }
}

impl std::fmt::Debug for DynOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynOperation")
            .field("operation", &self.spec.operation_id)
            .field("paginated", &self.codec.is_some())
            .finish()
    }
}

/// Every operation of the spec, in its order.
pub fn all() -> &'static [DynOperation] {
    crate::bindings::DYNAMIC
}

/// The operation of `spec`'s entry (every entry of this build's table has
/// one; an entry from elsewhere gets one whose calls fail with
/// [`Error::InvalidArgument`]).
pub fn of(spec: &'static OperationSpec) -> DynOperation {
    all()
        .iter()
        .find(|op| op.spec.operation_id == spec.operation_id)
        .copied()
        .unwrap_or(DynOperation {
            spec,
            result_json: None,
            codec: None,
            item_fields: &[],
        })
}

/// A page of `Op` read as `P` (its form, items as text), as JSON: what
/// `call::result_json::<Op::Result>` gives, with the items read by the
/// item codec of `Op`.
fn page_json<Op: Paginated, P>(text: &str) -> serde_json::Result<Value>
where
    P: Record + DeserializeOwned + Serialize,
{
    page_of_form::<P>(text, Op::SPEC, crate::paginate::dyn_codec::<Op>())
}

/// [`page_json`]'s work, compiled once per page form rather than once
/// per operation.
fn page_of_form<P>(
    text: &str,
    op: &OperationSpec,
    codec: ItemCodec<DynItem>,
) -> serde_json::Result<Value>
where
    P: Record + DeserializeOwned + Serialize,
{
    let page = serde_json::from_str::<P>(text)?;
    let field = op.pagination.map_or("", |p| p.items);
    let items = match Record::get(&page, field) {
        Some(Cell::Json(items)) => Some(items),
        _ => None,
    };
    let page = serde_json::to_value(&page)?;
    with_items(page, field, items.as_deref(), codec)
}

/// `page` with its items field `field` replaced by `items` (a JSON array's
/// text) read by `codec` and written as the records write themselves.
fn with_items(
    mut page: Value,
    field: &str,
    items: Option<&str>,
    codec: ItemCodec<DynItem>,
) -> serde_json::Result<Value> {
    let (Some(items), Some(object)) = (items, page.as_object_mut()) else {
        return Ok(page);
    };
    let texts: Vec<&RawValue> = serde_json::from_str(items)?;
    let mut out = Vec::new();
    let mut decoded = Vec::with_capacity(texts.len());
    for text in texts {
        out.clear();
        codec.decode(text.get())?.append_json(&mut out)?;
        decoded.push(serde_json::from_slice(&out)?);
    }
    object.insert(field.to_owned(), Value::Array(decoded));
    Ok(page)
}

fn unbound() -> Error {
    Error::invalid_argument(
        "(unknown operation)",
        "the operation is not in this build's table",
    )
}
