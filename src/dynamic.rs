//! Operations chosen at run time (the CLI, the drift checker): a
//! [`DynOperation`] per table entry, with results as JSON and items as
//! [`DynItem`]s. `build.rs` lists one per operation in [`all`]; the typed
//! calls behind them are the same as `Client`'s own methods.

use std::marker::PhantomData;

use futures::future::BoxFuture;
use serde_json::Value;

use crate::call;
use crate::client::Client;
use crate::error::{Error, Reply};
use crate::operation::{Operation, OperationSpec, Paginated};
use crate::paginate::{Items, ListingOptions, Page};
use crate::record::{DynItem, Field, Record};

/// An operation chosen at run time: the typed calls behind a table entry,
/// with results as JSON or as [`DynItem`]s.
pub trait DynOperation: Send + Sync {
    /// The table entry.
    fn spec(&self) -> &'static OperationSpec;
    /// Calls the operation once with `param_content` (read as the spec's
    /// parameters type; what does not fit is an [`Error::InvalidArgument`])
    /// and returns the decoded `result` as JSON.
    fn call(
        &self,
        client: &Client,
        param_content: Option<Value>,
    ) -> BoxFuture<'static, Result<Reply<Value>, Error>>;
    /// Every item of the listing, when the operation pages.
    fn list(&self, client: &Client, options: ListingOptions) -> Option<Items<DynItem>> {
        let _ = (client, options);
        None
    }
    /// The one page at `options.start`, when the operation pages (the
    /// listing's other options do not apply to one page).
    fn page(
        &self,
        client: &Client,
        options: ListingOptions,
    ) -> Option<BoxFuture<'static, Result<Page<DynItem>, Error>>> {
        let _ = (client, options);
        None
    }
    /// The item schema's declared fields, in the spec's order (empty when
    /// the operation does not page): a listing's columns before any item
    /// has arrived.
    fn item_fields(&self) -> &'static [Field] {
        &[]
    }
}

/// Every operation of the spec, in its order.
pub fn all() -> &'static [&'static dyn DynOperation] {
    crate::bindings::DYNAMIC
}

/// The operation of `spec`'s entry (every entry of this build's table has
/// one; an entry from elsewhere gets one whose calls fail with
/// [`Error::InvalidArgument`]).
pub fn of(spec: &OperationSpec) -> &'static dyn DynOperation {
    all()
        .iter()
        .copied()
        .find(|op| op.spec().operation_id == spec.operation_id)
        .unwrap_or(&Unbound)
}

/// What [`of`] gives for an entry that is not in this build's table.
struct Unbound;

impl DynOperation for Unbound {
    fn spec(&self) -> &'static OperationSpec {
        OperationSpec::all()[0]
    }

    fn call(
        &self,
        _: &Client,
        _: Option<Value>,
    ) -> BoxFuture<'static, Result<Reply<Value>, Error>> {
        Box::pin(async {
            Err(Error::invalid_argument(
                "(unknown operation)",
                "the operation is not in this build's table",
            ))
        })
    }
}

/// The [`DynOperation`] of an operation without pagination.
pub struct Binding<Op>(PhantomData<fn() -> Op>);

impl<Op> Binding<Op> {
    /// The binding of `Op`.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<Op> Default for Binding<Op> {
    fn default() -> Self {
        Self::new()
    }
}

impl<Op: Operation> DynOperation for Binding<Op> {
    fn spec(&self) -> &'static OperationSpec {
        Op::SPEC
    }

    fn call(
        &self,
        client: &Client,
        param_content: Option<Value>,
    ) -> BoxFuture<'static, Result<Reply<Value>, Error>> {
        let client = client.clone();
        Box::pin(async move { call::call_json::<Op>(&client, param_content).await })
    }
}

/// The [`DynOperation`] of a paginated operation.
pub struct PaginatedBinding<Op>(PhantomData<fn() -> Op>);

impl<Op> PaginatedBinding<Op> {
    /// The binding of `Op`.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<Op> Default for PaginatedBinding<Op> {
    fn default() -> Self {
        Self::new()
    }
}

impl<Op: Paginated> DynOperation for PaginatedBinding<Op> {
    fn spec(&self) -> &'static OperationSpec {
        Op::SPEC
    }

    fn call(
        &self,
        client: &Client,
        param_content: Option<Value>,
    ) -> BoxFuture<'static, Result<Reply<Value>, Error>> {
        Binding::<Op>::new().call(client, param_content)
    }

    fn list(&self, client: &Client, options: ListingOptions) -> Option<Items<DynItem>> {
        Some(crate::paginate::dyn_listing::<Op>(client, options))
    }

    fn page(
        &self,
        client: &Client,
        options: ListingOptions,
    ) -> Option<BoxFuture<'static, Result<Page<DynItem>, Error>>> {
        Some(crate::paginate::dyn_page::<Op>(client, options))
    }

    fn item_fields(&self) -> &'static [Field] {
        <Op::Item as Record>::FIELDS
    }
}
