//! Pagination as streams. Owns the request builders of paginated operations
//! ([`PageNumberRequest`], [`CursorRequest`]), the one listing engine behind
//! them (page number or cursor, as the operation's table entry says), the
//! page decoder that keeps going past an undecodable item, and [`Items`]:
//! the item stream with its exact duplicate filter, its progress guards and
//! its [`ListingSummary`]. Nothing here names an endpoint: field names,
//! bounds and styles come from [`crate::operation::OperationSpec`].
//!
//! The guards, each ending the listing with [`Error::Pagination`] rather than
//! a silent or endless result:
//! - a short or empty page while the answers report more pages or items;
//! - a cursor that does not advance, or the same page twice;
//! - [`STALLED_PAGES`] pages in a row that bring no new item id;
//! - a listing whose recent pages are almost all items already listed;
//! - more items in one page than the per-page limit;
//! - the page cap (`max_pages`) and the deadline.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt;
use std::hash::BuildHasherDefault;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, Stream, StreamExt};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::time::Instant;

use crate::call::{self, CallOptions, OptionSeed, PerCall};
use crate::client::Client;
pub use crate::error::PagePosition;
use crate::error::{self, Error, Reply, TraceOf};
use crate::operation::{OperationSpec, Paginated, Pagination, PaginationStyle};
pub use crate::record::Drifted;
use crate::record::{DynItem, FieldSeed, Observed, Record, observe};

mod engine;

pub use engine::{CHUNK_PAGES, MAX_BUFFERED_PAGES};

/// Default number of pages fetched at once by page-number listings.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Default cap on the pages of one listing.
pub const DEFAULT_MAX_PAGES: u32 = 1_000_000;
/// Default limit on the items of one page: well above any page size the
/// platform allows, far below what would hurt memory.
pub const DEFAULT_MAX_ITEMS_PER_PAGE: usize = 10_000;
/// Pages in a row without a new item id after which a listing stops.
pub const STALLED_PAGES: u32 = 3;
/// The window of recent pages the duplicate-share guard looks at (the
/// stall guard counts its pages in a row without a new id there too).
const DUPLICATE_WINDOW_PAGES: usize = 8;
const _: () = assert!(STALLED_PAGES as usize <= DUPLICATE_WINDOW_PAGES);

/// How a listing runs. The request builders set these; the CLI builds one
/// directly for operations it picks at run time.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ListingOptions {
    /// Where the listing starts: the page number or the cursor (default:
    /// the first page, or cursor 0 / the spec's minimum).
    pub start: Option<i64>,
    /// Items per page (default: the largest the spec allows).
    pub page_size: Option<u32>,
    /// Pages fetched at once, where the style allows (default 4).
    pub concurrency: usize,
    /// The most pages a listing fetches (default 1,000,000).
    pub max_pages: u32,
    /// The longest the whole listing may take, from its first poll.
    pub deadline: Option<Duration>,
    /// The most items one page may hold (default 10,000).
    pub max_items_per_page: usize,
    /// Every request's per-call settings.
    pub call: Option<Arc<CallOptions>>,
}

/// Builder methods, each `name(argument: Type) => field = value;`.
macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident($arg:ident: $ty:ty) => $($field:ident).+ = $value:expr;)*) => {$(
        $(#[$doc])*
        pub fn $name(mut self, $arg: $ty) -> Self {
            self.$($field).+ = $value;
            self
        }
    )*};
}

impl Default for ListingOptions {
    fn default() -> Self {
        Self {
            start: None,
            page_size: None,
            concurrency: DEFAULT_CONCURRENCY,
            max_pages: DEFAULT_MAX_PAGES,
            deadline: None,
            max_items_per_page: DEFAULT_MAX_ITEMS_PER_PAGE,
            call: None,
        }
    }
}

impl ListingOptions {
    /// Options with every default.
    pub fn new() -> Self {
        Self::default()
    }

    setters! {
        /// Where the listing starts (page number or cursor).
        start(start: i64) => start = Some(start);
        /// Items per page.
        page_size(page_size: u32) => page_size = Some(page_size);
        /// Pages fetched at once.
        concurrency(concurrency: usize) => concurrency = concurrency;
        /// The page cap.
        max_pages(max_pages: u32) => max_pages = max_pages;
        /// The deadline of the whole listing.
        deadline(deadline: Duration) => deadline = Some(deadline);
    }

    /// Checks the options against the operation's bounds; returns its
    /// pagination, the start and the page size to use.
    fn resolve(
        &self,
        op: &'static OperationSpec,
    ) -> Result<(&'static Pagination, i64, u32), Error> {
        // build.rs binds listings only to operations with `x-pagination`; an
        // entry from elsewhere may have none.
        let pagination = op.pagination.as_ref().ok_or_else(|| {
            Error::invalid_argument(op.operation_id, "the operation has no x-pagination")
        })?;
        let position = pagination.position();
        let start = self.start.unwrap_or(match pagination.style {
            PaginationStyle::PageNumber { .. } => position.bounds.min.max(1),
            PaginationStyle::Cursor { .. } => position.bounds.min.max(0),
        });
        position
            .bounds
            .check(op.operation_id, position.name, start)?;
        let size = match self.page_size {
            Some(size) => i64::from(size),
            None => pagination.page_size.bounds.max.min(i64::from(u32::MAX)),
        };
        pagination
            .page_size
            .bounds
            .check(op.operation_id, pagination.page_size.name, size)?;
        let checks = [
            (size <= 0, "the page size must be positive"),
            (self.concurrency == 0, "concurrency must be at least 1"),
            (self.max_pages == 0, "max_pages must be at least 1"),
            (
                self.max_items_per_page == 0,
                "max_items_per_page must be at least 1",
            ),
        ];
        if let Some((_, message)) = checks.into_iter().find(|(failed, _)| *failed) {
            return Err(Error::invalid_argument(op.operation_id, message));
        }
        // Positive and at most `u32::MAX` (the bounds check capped it), so it fits.
        Ok((pagination, start, size as u32))
    }
}

/// An item of a page that could not be decoded even by the decoding rule,
/// kept as the platform sent it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UndecodableItem {
    /// Its index in the page.
    pub index: usize,
    /// What failed.
    pub what: String,
    /// The item's JSON, as received.
    pub raw: Box<RawValue>,
}

impl UndecodableItem {
    /// The error a listing yields for it, in the page at `position` of
    /// `operation` (with the page's `traceId`).
    pub fn into_error(
        self,
        operation: &'static str,
        position: PagePosition,
        trace_id: Option<String>,
    ) -> Error {
        Error::UndecodableItem {
            operation,
            position,
            index: self.index,
            trace_id,
            what: self.what,
            raw: self.raw,
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Page<T> {
    /// Which page this is.
    pub position: PagePosition,
    /// The page's items in the platform's order: decoded, or as received
    /// when even the decoding rule could not decode them.
    pub items: Vec<Result<T, UndecodableItem>>,
    /// Each item's id (the spec's `itemId`; `None` for an undecodable item
    /// or one without an id), in the same order.
    pub ids: Vec<Option<i64>>,
    /// The number of pages reported (page-number listings).
    pub pages: Option<i64>,
    /// The number of items reported (page-number listings).
    pub total: Option<i64>,
    /// The next cursor reported (cursor listings); `None` at the end.
    pub next_cursor: Option<i64>,
    /// The answer's `traceId`.
    pub trace_id: Option<String>,
    /// The HTTP status.
    pub status: u16,
    /// What the decoding rule coerced in this page.
    pub observed: Vec<Observed>,
    /// Something the listing has to say from here on (a partitioned scan
    /// that fell back to a sequential one, and why).
    pub notice: Option<String>,
}

/// A request builder of a paginated operation: the struct, its `new` with
/// the default concurrency given, and the methods both styles share.
macro_rules! listing_request {
    ($(#[$doc:meta])* $name:ident, concurrency $concurrency:expr, $(#[$new:meta])*) => {
        $(#[$doc])*
        #[must_use = "a request does nothing until sent or streamed"]
        pub struct $name<Op> {
            client: Client,
            options: ListingOptions,
            per_call: PerCall,
            _op: PhantomData<fn() -> Op>,
        }

        impl<Op: Paginated> $name<Op> {
            $(#[$new])*
            pub fn new(client: Client) -> Self {
                Self {
                    client,
                    options: ListingOptions::default().concurrency($concurrency),
                    per_call: PerCall::default(),
                    _op: PhantomData,
                }
            }

            setters! {
                /// Items per page; checked against the spec's bounds before sending
                /// (default: the largest the spec allows).
                page_size(page_size: u32) => options.page_size = Some(page_size);
                /// The most pages a listing fetches before failing with
                /// [`Error::Pagination`] (default 1,000,000).
                max_pages(max_pages: u32) => options.max_pages = max_pages;
                /// The most items one page may hold before the listing fails with
                /// [`Error::Pagination`] (default 10,000): bounds the memory a page
                /// can take whatever the platform sends.
                max_items_per_page(limit: usize) => options.max_items_per_page = limit;
                /// The longest a whole listing may take, from its first poll; past it
                /// the stream yields [`Error::Deadline`] and ends (default: none; each
                /// request still has the client's timeout). Durations too large to
                /// add to the clock mean no deadline.
                deadline(deadline: Duration) => options.deadline = Some(deadline);
            }

            /// The options as set so far.
            pub fn options(&self) -> &ListingOptions {
                &self.options
            }

            crate::call::per_call_methods!();

            /// Fetches the one page, returning the envelope's `result`.
            pub async fn send(self) -> Result<Op::Result, Error> {
                self.send_with_reply().await.map(|reply| reply.payload)
            }

            /// Like [`send`](Self::send), with the answer's `traceId`, status and
            /// headers. A [`deadline`](Self::deadline) bounds it too.
            pub async fn send_with_reply(self) -> Result<Reply<Op::Result>, Error> {
                let op = Op::SPEC;
                let (pagination, start, size) = self.options.resolve(op)?;
                let options = self.per_call.resolve(op.operation_id)?;
                let params = params_json(pagination, start, size);
                let call = call::call_typed::<Op>(&self.client, Some(params), options);
                let call = traced(op.operation_id, start, size, call);
                match self.options.deadline {
                    // A deadline too far to add to the clock is none (tokio's).
                    Some(limit) => tokio::time::timeout(limit, call)
                        .await
                        .unwrap_or_else(|_| Err(deadline_passed(op.operation_id, limit))),
                    None => call.await,
                }
            }

            /// Every page from the start to the end, in order; yields an error
            /// and ends at the first failure (an undecodable item is not a
            /// failure: it is an `Err` among the page's `items`).
            pub fn pages(mut self) -> BoxStream<'static, Result<Page<Op::Item>, Error>> {
                match self.per_call.resolve(Op::SPEC.operation_id) {
                    Ok(call) => {
                        self.options.call = call;
                        listing_of(self.client, self.options, Op::SPEC, ItemCodec::<Op::Item>::RECORD)
                    }
                    Err(e) => stream::once(async move { Err(e) }).boxed(),
                }
            }

            /// Every item of the listing, in order, each id once; an item that
            /// cannot be decoded is an `Err` of kind
            /// [`ErrorKind::UndecodableItem`](crate::ErrorKind::UndecodableItem)
            /// and the stream goes on after it. Read [`Items::summary`] at the end.
            pub fn stream(self) -> Items<Op::Item> {
                Items::new(Op::SPEC.operation_id, self.pages())
            }
        }
    };
}

listing_request!(
    /// A request for a page-number operation: one page with
    /// [`send`](Self::send), or the whole listing as a stream of items
    /// ([`stream`](Self::stream)) or of pages ([`pages`](Self::pages)).
    PageNumberRequest,
    concurrency DEFAULT_CONCURRENCY,
    /// A request for the first page with the largest page size the spec allows.
);

impl<Op: Paginated> PageNumberRequest<Op> {
    setters! {
        /// The page to fetch (with `send`) or to start from (with `stream`).
        page(page: u32) => options.start = Some(i64::from(page));
        /// How many pages a listing fetches at once (default 4; at least 1).
        concurrency(concurrency: usize) => options.concurrency = concurrency;
    }
}

listing_request!(
    /// A request for a cursor operation: one page with [`send`](Self::send), or
    /// the whole listing as a stream of items ([`stream`](Self::stream)) or of
    /// pages ([`pages`](Self::pages)).
    CursorRequest,
    concurrency 1,
    /// A request from the first item (the cursor's minimum, 0) with the
    /// largest page size the spec allows, one page at a time.
);

impl<Op: Paginated> CursorRequest<Op> {
    setters! {
        /// How many requests a listing makes at once (default 1). Above 1, an
        /// operation whose spec declares the cursor a monotone key
        /// (`x-pagination.cursorKey`) is listed by a partitioned scan: the key
        /// space is cut into chunks scanned concurrently and stitched back in
        /// order, so the items and their order are those of the sequential
        /// scan (see `docs/pagination.md`). Other cursor operations stay sequential.
        concurrency(concurrency: usize) => options.concurrency = concurrency;
        /// The cursor to start from (the spec's cursor field, e.g. `startId`).
        start_id(cursor: i64) => options.start = Some(cursor);
    }
}

/// `paramContent` for the page at `position`.
fn params_json(pagination: &Pagination, position: i64, page_size: u32) -> Value {
    serde_json::json!({
        pagination.position().name: position,
        pagination.page_size.name: page_size,
    })
}

/// `work`, the request for the page at `position`, in its `shiheng.call`
/// span, with its outcome recorded there.
async fn traced<R: TraceOf>(
    operation: &'static str,
    position: i64,
    page_size: u32,
    work: impl Future<Output = Result<R, Error>>,
) -> Result<R, Error> {
    let span = tracing::debug_span!(
        "shiheng.call",
        operation,
        position,
        page_size,
        trace_id = tracing::field::Empty,
    );
    let result = tracing::Instrument::instrument(work, span.clone()).await;
    let _entered = span.enter();
    error::record_outcome(&result);
    result
}

/// How a listing reads its items: the only part of it that depends on the
/// operation's types. The engines below are generic over the item type
/// only, and read everything else from the table entry at run time, so
/// that the listings chosen at run time ([`dyn_listing`]) compile the
/// engines once for [`DynItem`], not once per operation.
#[derive(Debug)]
pub(crate) struct ItemCodec<T> {
    /// Decodes one item from its JSON text, by the decoding rule.
    pub(crate) decode: fn(&str) -> serde_json::Result<T>,
    /// An integer field of an item (its id, its cursor key).
    integer: fn(&T, &str) -> Option<i64>,
}

impl<T> Clone for ItemCodec<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ItemCodec<T> {}

impl<T: Record> ItemCodec<T> {
    /// Items as the record type itself.
    const RECORD: Self = Self {
        decode: |text| serde_json::from_str::<T>(text),
        integer: |item, name| Record::get(item, name)?.as_i64(),
    };

    /// Items of the record type, boxed as [`DynItem`]s.
    const DYNAMIC: ItemCodec<DynItem> = ItemCodec {
        decode: |text| serde_json::from_str::<T>(text).map(|item| Box::new(item) as DynItem),
        integer: |item, name| item.get(name)?.as_i64(),
    };
}

/// Every page of the listing of `op`, items read by `codec`.
fn listing_of<T: Send + 'static>(
    client: Client,
    options: ListingOptions,
    op: &'static OperationSpec,
    codec: ItemCodec<T>,
) -> BoxStream<'static, Result<Page<T>, Error>> {
    let (fetcher, start) = match Fetcher::new(client, &options, op, codec) {
        Ok(made) => made,
        Err(e) => return stream::once(async move { Err(e) }).boxed(),
    };
    let engine = engine::Engine::new(fetcher, start, options.concurrency);
    let (operation, deadline) = (op.operation_id, options.deadline);
    // The deadline ends the listing with [`Error::Deadline`] once it has
    // passed since the first poll, dropping the requests in flight; one too
    // far to add to the clock is none.
    stream::unfold((engine, None), move |(mut engine, ends)| async move {
        let ends = ends.or_else(|| Instant::now().checked_add(deadline?));
        let next = match (ends, deadline) {
            (Some(ends), Some(limit)) => tokio::time::timeout_at(ends, engine.next())
                .await
                .unwrap_or_else(|_| Some(engine.fail(deadline_passed(operation, limit)))),
            _ => engine.next().await,
        };
        Some((next?, (engine, ends)))
    })
    .boxed()
}

/// Fetches and decodes the pages of one listing of `op`, and counts them
/// against its page cap; its engine's requests share it.
struct Fetcher<T> {
    client: Client,
    page_size: u32,
    max_items: usize,
    max_pages: u32,
    fetched: AtomicU32,
    call: Option<Arc<CallOptions>>,
    op: &'static OperationSpec,
    pagination: &'static Pagination,
    codec: ItemCodec<T>,
}

impl<T: Send + 'static> Fetcher<T> {
    /// The fetcher of the listing of `op` as `options` say, and its start.
    fn new(
        client: Client,
        options: &ListingOptions,
        op: &'static OperationSpec,
        codec: ItemCodec<T>,
    ) -> Result<(Arc<Self>, i64), Error> {
        let (pagination, start, page_size) = options.resolve(op)?;
        let fetcher = Self {
            client,
            page_size,
            max_items: options.max_items_per_page,
            max_pages: options.max_pages,
            fetched: AtomicU32::new(0),
            call: options.call.clone(),
            op,
            pagination,
            codec,
        };
        Ok((Arc::new(fetcher), start))
    }

    /// The page at `position`, as a future of its own; past the page cap,
    /// the cap's error instead of a request.
    fn fetch(self: &Arc<Self>, position: i64) -> BoxFuture<'static, Result<Page<T>, Error>> {
        if self.fetched.fetch_add(1, Ordering::Relaxed) >= self.max_pages {
            let name = self.pagination.position().name;
            let error = stopped(
                self.op.operation_id,
                format!(
                    "the listing reached its cap of {} pages (max_pages) at {name} {position}",
                    self.max_pages
                ),
            );
            return Box::pin(async move { Err(error) });
        }
        let fetcher = Arc::clone(self);
        Box::pin(async move { fetcher.page(position).await })
    }

    /// An integer field of an item.
    fn integer(&self, item: &T, name: &str) -> Option<i64> {
        (self.codec.integer)(item, name)
    }

    /// Fetches and decodes the page at `position`.
    async fn page(&self, position: i64) -> Result<Page<T>, Error> {
        let (op, pagination) = (self.op, self.pagination);
        let work = async {
            let params = params_json(pagination, position, self.page_size);
            let answer = call::exchange(&self.client, op, Some(params), self.call.clone()).await?;
            let position = match pagination.style {
                PaginationStyle::PageNumber { .. } => PagePosition::Number(position),
                PaginationStyle::Cursor { .. } => PagePosition::Cursor(position),
            };
            let seed = PageSeed {
                pagination,
                schema: op.result_schema,
                max_items: self.max_items,
            };
            let (reply, mut observed) =
                call::classify(op.operation_id, op.response_schema, &answer, seed);
            let reply = reply.map_err(|error| match error {
                // ItemsSeed's limit, which the envelope reports as a decoding error.
                Error::Decode { what, trace_id, .. } if what.contains(TOO_MANY_ITEMS) => {
                    let trace = trace_id.as_deref().unwrap_or("unknown");
                    let limit = self.max_items;
                    let message = format!("{position} holds more than {limit} items, the limit per page (traceId {trace})");
                    stopped(op.operation_id, message)
                }
                error => error,
            })?;
            let trace = reply.trace_id.as_deref().unwrap_or("unknown");
            let fail = |message: String| {
                stopped(
                    op.operation_id,
                    format!("{position}: {message} (traceId {trace})"),
                )
            };
            let RawPage { items, counts } = reply.payload;
            let [pages, total, next_cursor] = counts;
            let items = items.ok_or_else(|| {
                fail(format!(
                    "the answer's result has no `{}` array",
                    pagination.items
                ))
            })?;
            for (name, count) in [("pages", pages), ("total", total)] {
                if let Some(count) = count.filter(|count| *count < 0) {
                    return Err(fail(format!(
                        "the answer reports {name} {count}, which is not a count"
                    )));
                }
            }
            let (items, notes) = observe(|| {
                let decode = |(index, raw): (usize, &&RawValue)| {
                    (self.codec.decode)(raw.get()).map_err(|e| UndecodableItem {
                        index,
                        what: e.to_string(),
                        raw: (*raw).to_owned(),
                    })
                };
                items.iter().enumerate().map(decode).collect::<Vec<_>>()
            });
            observed.extend(notes);
            self.client.note_drift(op.operation_id, &observed);
            let id_of = |item: &Result<T, _>| self.integer(item.as_ref().ok()?, pagination.item_id);
            Ok(Page {
                position,
                ids: items.iter().map(id_of).collect(),
                items,
                pages,
                total,
                next_cursor,
                trace_id: reply.trace_id,
                status: reply.status,
                observed,
                notice: None,
            })
        };
        traced(op.operation_id, position, self.page_size, work).await
    }
}

const TOO_MANY_ITEMS: &str = "shiheng: too many items in one page";

/// A page's `result`, with its items still as raw JSON, and its counts:
/// `pages`, `total` and the next cursor, those the style has.
struct RawPage<'a> {
    items: Option<Vec<&'a RawValue>>,
    counts: [Option<i64>; 3],
}

/// Reads a page's `result`: the counts or the next cursor by the decoding
/// rule, the items as raw JSON (each decoded on its own afterwards, so one
/// bad item cannot take its page down), at most `max_items` of them.
struct PageSeed<'p> {
    pagination: &'p Pagination,
    schema: &'static str,
    max_items: usize,
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_> {
    type Value = RawPage<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_> {
    type Value = RawPage<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a page object ({})", self.schema)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let names = match self.pagination.style {
            PaginationStyle::PageNumber { pages, total, .. } => [pages, total, None],
            PaginationStyle::Cursor { next_cursor, .. } => [None, None, Some(next_cursor)],
        };
        let mut page = RawPage {
            items: None,
            counts: [None; 3],
        };
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let key = key.as_ref();
            if key == self.pagination.items {
                let seed = ItemsSeed {
                    max_items: self.max_items,
                };
                page.items = map.next_value_seed(OptionSeed(seed))?;
            } else if let Some(i) = names.iter().position(|name| *name == Some(key)) {
                let name = names[i].unwrap_or_default();
                page.counts[i] =
                    map.next_value_seed(FieldSeed::<i64>::new(self.schema, name, &[]))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(page)
    }
}

struct ItemsSeed {
    max_items: usize,
}

impl<'de> DeserializeSeed<'de> for ItemsSeed {
    type Value = Vec<&'de RawValue>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed {
    type Value = Vec<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            if items.len() == self.max_items {
                return Err(de::Error::custom(TOO_MANY_ITEMS));
            }
            items.push(item);
        }
        Ok(items)
    }
}

/// The error that ends a listing of `operation` the platform cannot finish.
fn stopped(operation: &'static str, message: String) -> Error {
    Error::Pagination { operation, message }
}

fn deadline_passed(operation: &'static str, limit: Duration) -> Error {
    Error::Deadline {
        operation,
        seconds: limit.as_secs_f64(),
    }
}

impl<T> TraceOf for Page<T> {
    fn trace_of(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }
}

/// What a listing saw, for checking that nothing was lost or doubled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListingSummary {
    /// Pages received.
    pub pages: u64,
    /// Items yielded (decoded, not counting duplicates).
    pub items: u64,
    /// Items dropped because their id was already yielded.
    pub duplicates_dropped: u64,
    /// Items that could not be decoded (yielded as errors).
    pub undecodable: u64,
    /// The `total` reported by the first page that had one.
    pub first_total: Option<i64>,
    /// The `total` reported by the last page that had one.
    pub last_total: Option<i64>,
    /// How many times each field was coerced by the decoding rule: where
    /// the platform sends another form than the spec says.
    pub coercions: BTreeMap<Drifted, u64>,
    /// What the listing had to say on the way (a partitioned scan that fell
    /// back to a sequential one, and why).
    pub notices: Vec<String>,
    /// Where the listing started (its first page's position).
    pub start: Option<PagePosition>,
}

impl ListingSummary {
    /// Whether the reported totals changed during the listing, or, for a
    /// listing from the first page, disagree with the number of items
    /// yielded: data changed while listing, and items may have been skipped.
    /// List again (or reconcile by id).
    pub fn totals_disagree(&self) -> bool {
        let from_the_first_page = matches!(self.start, Some(PagePosition::Number(1)));
        match (self.first_total, self.last_total) {
            (Some(first), Some(last)) => {
                first != last
                    || (from_the_first_page
                        && u64::try_from(last).ok() != Some(self.items + self.undecodable))
            }
            _ => false,
        }
    }

    /// Whether the answers differed from the spec (coercions or undecodable items).
    pub fn drifted(&self) -> bool {
        !self.coercions.is_empty() || self.undecodable > 0
    }
}

/// The items of a listing, in order, each id once. Dropping it cancels the
/// requests in flight.
#[must_use = "streams do nothing unless polled"]
pub struct Items<T> {
    operation: &'static str,
    pages: BoxStream<'static, Result<Page<T>, Error>>,
    buffer: VecDeque<Result<T, Error>>,
    seen: IdSet,
    summary: ListingSummary,
    /// The new ids and the items of the recent pages that held items.
    recent: VecDeque<(u64, u64)>,
    finished: bool,
}

impl<T> Items<T> {
    /// Items of `pages`, a listing of `operation`.
    pub fn new(operation: &'static str, pages: BoxStream<'static, Result<Page<T>, Error>>) -> Self {
        Self {
            operation,
            pages,
            buffer: VecDeque::new(),
            seen: IdSet::default(),
            summary: ListingSummary::default(),
            recent: VecDeque::new(),
            finished: false,
        }
    }

    /// What the listing has seen so far; complete once the stream has ended.
    pub fn summary(&self) -> ListingSummary {
        self.summary.clone()
    }

    /// The same as [`summary`](Self::summary), borrowed: cheap enough to
    /// look at after every item (the CLI watches it for new pages and new
    /// coercions while it writes).
    pub fn summary_ref(&self) -> &ListingSummary {
        &self.summary
    }

    /// Collects every item, with the summary; stops at the first error,
    /// an undecodable item included.
    pub async fn try_collect_with_summary(mut self) -> Result<(Vec<T>, ListingSummary), Error>
    where
        T: Send,
    {
        let mut all = Vec::new();
        while let Some(item) = self.next().await {
            all.push(item?);
        }
        Ok((all, self.summary))
    }

    fn accept(&mut self, page: Page<T>) {
        self.summary.pages += 1;
        self.summary.start.get_or_insert(page.position);
        self.summary.notices.extend(page.notice.clone());
        if let Some(total) = page.total {
            self.summary.first_total.get_or_insert(total);
            self.summary.last_total = Some(total);
        }
        for observed in &page.observed {
            let key = Drifted {
                operation: self.operation,
                schema: observed.schema,
                field: observed.field,
                kind: observed.kind,
            };
            *self.summary.coercions.entry(key).or_default() += 1;
        }
        let received = page.items.len() as u64;
        let position = page.position;
        let mut new_ids = 0u64;
        for (item, id) in page.items.into_iter().zip(page.ids) {
            let trace_id = || page.trace_id.clone();
            let item = item.map_err(|bad| bad.into_error(self.operation, position, trace_id()));
            if let (Ok(_), Some(id)) = (&item, id) {
                if !self.seen.insert(id) {
                    self.summary.duplicates_dropped += 1;
                    tracing::debug!(id, "dropped a duplicate item");
                    continue;
                }
                new_ids += 1;
            }
            self.buffer.push_back(item);
        }
        self.guard_progress(position, received, new_ids);
    }

    /// Ends the listing when the platform keeps sending nothing new.
    fn guard_progress(&mut self, position: PagePosition, received: u64, new_ids: u64) {
        if received == 0 {
            return;
        }
        self.recent.push_back((new_ids, received));
        if self.recent.len() > DUPLICATE_WINDOW_PAGES {
            self.recent.pop_front();
        }
        let stalled = self.recent.iter().rev().take_while(|(new, _)| *new == 0);
        let message = if stalled.count() >= STALLED_PAGES as usize {
            Some(format!(
                "{STALLED_PAGES} pages in a row up to {position} brought no new item id: the platform is repeating itself or sends items without ids"
            ))
        } else {
            let new: u64 = self.recent.iter().map(|(new, _)| new).sum();
            let all: u64 = self.recent.iter().map(|(_, all)| all).sum();
            (self.recent.len() == DUPLICATE_WINDOW_PAGES && new * 10 < all).then(|| {
                format!(
                    "only {new} of the {all} items of the last {DUPLICATE_WINDOW_PAGES} pages (up to {position}) were new: the pages overlap and the listing would not end in reasonable time"
                )
            })
        };
        if let Some(message) = message {
            self.buffer.push_back(Err(stopped(self.operation, message)));
            self.finished = true;
        }
    }
}

impl<T> Stream for Items<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.buffer.pop_front() {
                match &item {
                    Ok(_) => this.summary.items += 1,
                    Err(Error::UndecodableItem { .. }) => this.summary.undecodable += 1,
                    Err(_) => {}
                }
                return Poll::Ready(Some(item));
            }
            if this.finished {
                return Poll::Ready(None);
            }
            match std::task::ready!(this.pages.poll_next_unpin(cx)) {
                Some(Ok(page)) => this.accept(page),
                Some(Err(e)) => {
                    this.finished = true;
                    return Poll::Ready(Some(Err(e)));
                }
                None => this.finished = true,
            }
        }
    }
}

impl<T> Unpin for Items<T> {}

/// Every id a listing has yielded, exactly: recent ids in a hash set, older
/// ones merged into a sorted vector (8 bytes an id). The hash set is merged
/// when it holds an eighth of the sorted ones (at least 65,536), so the
/// whole costs about 10 bytes per id and amortised O(log n) per lookup.
#[derive(Default)]
struct IdSet {
    sorted: Vec<i64>,
    recent: HashSet<i64, BuildHasherDefault<IdHasher>>,
}

impl IdSet {
    const MIN_RECENT: usize = 65_536;

    /// Records `id`; false if it was already there.
    fn insert(&mut self, id: i64) -> bool {
        if self.sorted.binary_search(&id).is_ok() || !self.recent.insert(id) {
            return false;
        }
        if self.recent.len() >= Self::MIN_RECENT.max(self.sorted.len() / 8) {
            self.merge();
        }
        true
    }

    /// Moves the recent ids into the sorted vector, merging from the back
    /// so no second vector is needed.
    fn merge(&mut self) {
        let mut recent: Vec<i64> = self.recent.drain().collect();
        recent.sort_unstable();
        let old_len = self.sorted.len();
        self.sorted.resize(old_len + recent.len(), 0);
        let (mut i, mut j, mut k) = (old_len, recent.len(), self.sorted.len());
        while j > 0 {
            k -= 1;
            if i > 0 && self.sorted[i - 1] > recent[j - 1] {
                self.sorted[k] = self.sorted[i - 1];
                i -= 1;
            } else {
                self.sorted[k] = recent[j - 1];
                j -= 1;
            }
        }
        self.recent.shrink_to(Self::MIN_RECENT);
    }
}

/// A multiplicative hash for integer ids: SipHash's resistance to chosen
/// keys buys little for ids of one's own listing, and it was the listing's
/// largest cost after JSON decoding.
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn write_i64(&mut self, id: i64) {
        self.0 = (id as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(26);
    }
}

/// The listing of `op` with its items as [`DynItem`]s, read by `codec`:
/// compiled once for every operation chosen at run time.
pub(crate) fn dyn_listing(
    client: &Client,
    options: ListingOptions,
    op: &'static OperationSpec,
    codec: ItemCodec<DynItem>,
) -> Items<DynItem> {
    Items::new(
        op.operation_id,
        listing_of(client.clone(), options, op, codec),
    )
}

/// The item codec of `Op`'s listing chosen at run time: the one piece of
/// a dynamic listing compiled per operation.
pub(crate) const fn dyn_codec<Op: Paginated>() -> ItemCodec<DynItem> {
    ItemCodec::<Op::Item>::DYNAMIC
}

/// The one page of `op` at `options.start`, with its items as
/// [`DynItem`]s read by `codec`.
pub(crate) fn dyn_page(
    client: &Client,
    options: ListingOptions,
    op: &'static OperationSpec,
    codec: ItemCodec<DynItem>,
) -> BoxFuture<'static, Result<Page<DynItem>, Error>> {
    let made = Fetcher::new(client.clone(), &options, op, codec);
    Box::pin(async move {
        let (fetcher, start) = made?;
        fetcher.page(start).await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_set_is_exact_across_merges() {
        let mut set = IdSet::default();
        let n = 200_000i64;
        for id in (0..n).map(|i| (i * 7919) % n) {
            assert!(set.insert(id), "{id} was new");
        }
        assert!(!set.sorted.is_empty(), "merged at least once");
        assert!(set.sorted.windows(2).all(|w| w[0] < w[1]));
        for id in [0, 1, n / 2, n - 1] {
            assert!(!set.insert(id), "{id} was seen");
        }
        assert!(set.insert(n) && set.insert(-1) && set.insert(i64::MAX));
    }
}
