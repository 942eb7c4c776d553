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
use crate::operation::{OperationSpec, Paginated};
use crate::paginate::{ItemCodec, Items, ListingOptions, Page};
use crate::record::{Cell, DynItem, Field, Record};

type OnePage = BoxFuture<'static, Result<Page<DynItem>, Error>>;
type JsonResult = serde_json::Result<Value>;

/// A page form with its items as text (`NumberedPage<RawItem>`).
pub(crate) trait PageForm: Record + DeserializeOwned + Serialize {}
impl<P: Record + DeserializeOwned + Serialize> PageForm for P {}

/// An operation chosen at run time: its table entry and its typed calls.
#[derive(Clone, Copy, Debug)]
pub struct DynOperation {
    pub(crate) spec: &'static OperationSpec,
    /// `None` for an entry that is not in this build's table.
    pub(crate) result_json: Option<ResultJson>,
    /// How a paginated operation's items are read: the listing engines
    /// themselves are compiled once for every operation
    /// (`crate::paginate::dyn_listing`).
    pub(crate) codec: Option<ItemCodec<DynItem>>,
    /// A paginated operation's item fields (empty for any other).
    pub(crate) item_fields: &'static [Field],
}

impl DynOperation {
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
/// [`result_json`]`::<Op::Result>` gives, with the items read by the
/// item codec of `Op`.
pub(crate) fn page_json<Op: Paginated, P: PageForm>(text: &str) -> JsonResult {
    page_of_form::<P>(text, Op::SPEC, crate::paginate::dyn_codec::<Op>())
}

/// [`page_json`]'s work, compiled once per page form: the page as JSON,
/// its items read again from their text, one by one, by `codec`.
fn page_of_form<P: PageForm>(
    text: &str,
    op: &OperationSpec,
    codec: ItemCodec<DynItem>,
) -> JsonResult {
    let page = serde_json::from_str::<P>(text)?;
    let field = op.pagination.map_or("", |p| p.items);
    let mut json = serde_json::to_value(&page)?;
    if let (Some(Cell::Json(items)), Some(object)) = (page.get(field), json.as_object_mut()) {
        let mut decoded = Vec::new();
        for item in serde_json::from_str::<Vec<&RawValue>>(&items)? {
            let mut out = Vec::new();
            (codec.decode)(item.get())?.append_json(&mut out)?;
            decoded.push(serde_json::from_slice(&out)?);
        }
        object.insert(field.to_owned(), Value::Array(decoded));
    }
    Ok(json)
}

/// `T` read from `text` by the decoding rule, as JSON: the result of an
/// operation that does not page by a generic form.
#[allow(dead_code)] // a spec whose every operation pages by a generic form does not use it
pub(crate) fn result_json<T: DeserializeOwned + Serialize>(text: &str) -> JsonResult {
    // Through the JSON text rather than `to_value`: the records' encoders
    // for text are compiled anyway (the CLI writes items as text), one for
    // `Value` would be one more per record.
    serde_json::from_slice(&serde_json::to_vec(&serde_json::from_str::<T>(text)?)?)
}

fn unbound() -> Error {
    Error::invalid_argument(
        "(unknown operation)",
        "the operation is not in this build's table",
    )
}
