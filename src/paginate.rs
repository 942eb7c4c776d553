//! Pagination as streams. Owns the two generic paginators (page number and
//! cursor), their request builders, the guards against endless listings, and
//! the duplicate filter with its end-of-listing summary. `build.rs` connects
//! each operation marked `x-pagination` in the spec to one of them (see
//! [`crate::operations`]); nothing here names an endpoint.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::hash::BuildHasherDefault;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::{self, BoxStream, Stream, StreamExt};

use crate::client::Client;
use crate::error::{Error, Reply};

/// Inclusive bounds of an integer request field, read from the spec's
/// `minimum`/`maximum` by `build.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The smallest accepted value.
    pub min: i64,
    /// The largest accepted value.
    pub max: i64,
}

impl Bounds {
    fn check(self, operation: &'static str, field: &str, value: i64) -> Result<(), Error> {
        if value < self.min || value > self.max {
            return Err(Error::invalid_argument(
                operation,
                format!(
                    "{field} {value} is outside {}..={} (the spec's bounds)",
                    self.min, self.max
                ),
            ));
        }
        Ok(())
    }
}

/// An operation paged by page number (`x-pagination: {style: page-number}`).
/// Implemented by `build.rs` for each such operation.
pub trait PageNumberOperation: Send + Sync + 'static {
    /// The envelope's `result` type.
    type Page: Send + 'static;
    /// One item of a page.
    type Item: Send + 'static;
    /// The spec's operationId.
    const OPERATION_ID: &'static str;
    /// Bounds of the page number field.
    const PAGE: Bounds;
    /// Bounds of the page size field.
    const PAGE_SIZE: Bounds;
    /// Fetches one page.
    fn fetch(
        client: &Client,
        page: u32,
        page_size: u32,
    ) -> impl Future<Output = Result<Reply<Self::Page>, Error>> + Send + 'static + use<Self>;
    /// The number of pages the answer reports.
    fn pages(page: &Self::Page) -> Option<i64>;
    /// The number of items the answer reports.
    fn total(page: &Self::Page) -> Option<i64>;
    /// The page's items.
    fn into_items(page: Self::Page) -> Vec<Self::Item>;
    /// The item's unique id.
    fn item_id(item: &Self::Item) -> Option<i64>;
}

/// An operation paged by cursor (`x-pagination: {style: cursor}`).
/// Implemented by `build.rs` for each such operation.
pub trait CursorOperation: Send + Sync + 'static {
    /// The envelope's `result` type.
    type Page: Send + 'static;
    /// One item of a page.
    type Item: Send + 'static;
    /// The spec's operationId.
    const OPERATION_ID: &'static str;
    /// Bounds of the cursor field.
    const CURSOR: Bounds;
    /// Bounds of the page size field.
    const PAGE_SIZE: Bounds;
    /// Fetches one page.
    fn fetch(
        client: &Client,
        cursor: i64,
        page_size: u32,
    ) -> impl Future<Output = Result<Reply<Self::Page>, Error>> + Send + 'static + use<Self>;
    /// The cursor of the next page; `None` at the end.
    fn next_cursor(page: &Self::Page) -> Option<i64>;
    /// The page's items.
    fn into_items(page: Self::Page) -> Vec<Self::Item>;
    /// The item's unique id.
    fn item_id(item: &Self::Item) -> Option<i64>;
}

/// The wire names of every field an item's schema declares, in the
/// generated struct's order. `build.rs` implements it for the item type of
/// each paginated operation; it lets a writer show absent fields as null.
pub trait ItemFields {
    /// The schema's property names, as the platform spells them.
    const FIELDS: &'static [&'static str];
}

/// Where a page sits in its listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagePosition {
    /// The page number that was requested.
    Number(u32),
    /// The cursor (`startId`) that was requested.
    Cursor(i64),
}

/// One page of a listing.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// Which page this is.
    pub position: PagePosition,
    /// The page's items, in the platform's order.
    pub items: Vec<T>,
    /// The number of pages reported (page-number listings).
    pub pages: Option<i64>,
    /// The number of items reported (page-number listings).
    pub total: Option<i64>,
    /// The next cursor reported (cursor listings); `None` at the end.
    pub next_cursor: Option<i64>,
    /// The answer's `traceId`.
    pub trace_id: Option<String>,
}

/// Default number of pages fetched at once by page-number listings.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Default cap on the pages of one listing.
pub const DEFAULT_MAX_PAGES: u32 = 1_000_000;
/// Default number of recent pages whose ids are remembered to drop duplicates.
pub const DEFAULT_DEDUP_WINDOW_PAGES: usize = 16;

/// The options both request builders share, and their item stream.
macro_rules! listing_options {
    () => {
        /// Items per page; checked against the spec's bounds before sending.
        pub fn page_size(mut self, page_size: u32) -> Self {
            self.page_size = page_size;
            self
        }

        /// The most pages a listing fetches before failing with
        /// [`Error::Pagination`] (default 1,000,000).
        pub fn max_pages(mut self, max_pages: u32) -> Self {
            self.max_pages = max_pages;
            self
        }

        /// How many recent pages' ids are remembered to drop duplicates (default 16).
        pub fn dedup_window_pages(mut self, pages: usize) -> Self {
            self.dedup_window_pages = pages;
            self
        }

        /// The longest a whole listing may take, from its first poll; past it
        /// the stream yields [`Error::Deadline`] and ends (default: none; each
        /// request still has the client's timeout).
        pub fn deadline(mut self, deadline: Duration) -> Self {
            self.deadline = Some(deadline);
            self
        }

        /// Every item of the listing, in order, without duplicates; read
        /// [`Items::summary`] at the end.
        pub fn stream(self) -> Items<Op::Item> {
            let window = self.dedup_window_pages;
            Items::new(self.pages(), Op::item_id, window)
        }
    };
}

/// A request for a page-number operation: one page with
/// [`send`](Self::send), or the whole listing as a stream of items
/// ([`stream`](Self::stream)) or of pages ([`pages`](Self::pages)).
#[must_use = "a request does nothing until sent or streamed"]
pub struct PageNumberRequest<Op> {
    client: Client,
    page: u32,
    page_size: u32,
    concurrency: usize,
    max_pages: u32,
    dedup_window_pages: usize,
    deadline: Option<Duration>,
    _op: PhantomData<fn() -> Op>,
}

impl<Op: PageNumberOperation> PageNumberRequest<Op> {
    /// A request for page 1 with the largest page size the spec allows.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            page: Op::PAGE.min.max(1) as u32,
            page_size: Op::PAGE_SIZE.max as u32,
            concurrency: DEFAULT_CONCURRENCY,
            max_pages: DEFAULT_MAX_PAGES,
            dedup_window_pages: DEFAULT_DEDUP_WINDOW_PAGES,
            deadline: None,
            _op: PhantomData,
        }
    }

    /// The page to fetch (with `send`) or to start from (with `stream`).
    pub fn page(mut self, page: u32) -> Self {
        self.page = page;
        self
    }

    /// How many pages a listing fetches at once (default 4; at least 1).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    listing_options!();

    fn validate(&self) -> Result<(), Error> {
        Op::PAGE.check(Op::OPERATION_ID, "page number", i64::from(self.page))?;
        Op::PAGE_SIZE.check(Op::OPERATION_ID, "pageSize", i64::from(self.page_size))?;
        if self.concurrency == 0 {
            return Err(Error::invalid_argument(
                Op::OPERATION_ID,
                "concurrency must be at least 1",
            ));
        }
        Ok(())
    }

    /// Fetches the one page, returning the envelope's `result`.
    pub async fn send(self) -> Result<Op::Page, Error> {
        self.send_with_reply().await.map(|reply| reply.payload)
    }

    /// Like [`send`](Self::send), with the answer's `traceId` and status.
    pub async fn send_with_reply(self) -> Result<Reply<Op::Page>, Error> {
        self.validate()?;
        Op::fetch(&self.client, self.page, self.page_size).await
    }

    /// Every page from the requested one to the last, in order. After the
    /// first page reveals `pages`, the rest are fetched `concurrency` at a
    /// time; without a usable `pages`, one at a time until an empty or short
    /// page. Yields an error and ends at the first failure.
    pub fn pages(self) -> BoxStream<'static, Result<Page<Op::Item>, Error>> {
        if let Err(e) = self.validate() {
            return stream::once(async move { Err(e) }).boxed();
        }
        let listing = NumberListing::<Op> {
            client: self.client,
            page_size: self.page_size,
            concurrency: self.concurrency,
            last_allowed: self
                .page
                .saturating_add(self.max_pages.saturating_sub(1))
                .min(Op::PAGE.max as u32),
            _op: PhantomData,
        };
        let pages = stream::unfold(
            (listing, NumberState::Start(self.page)),
            |(listing, state)| async move {
                let (item, next) = listing.step(state).await?;
                Some((item, (listing, next)))
            },
        )
        .boxed();
        with_deadline(pages, Op::OPERATION_ID, self.deadline)
    }
}

struct NumberListing<Op> {
    client: Client,
    page_size: u32,
    concurrency: usize,
    last_allowed: u32,
    _op: PhantomData<fn() -> Op>,
}

type Fetched<T> = (u32, Result<Page<T>, Error>);

enum NumberState<T> {
    Start(u32),
    Concurrent {
        inflight: BoxStream<'static, Fetched<T>>,
        last_known: u32,
    },
    Sequential(u32),
    Done,
}

impl<Op: PageNumberOperation> NumberListing<Op> {
    fn fetch(&self, number: u32) -> impl Future<Output = Fetched<Op::Item>> + Send + 'static {
        Self::fetch_page(&self.client, number, self.page_size)
    }

    fn fetch_page(
        client: &Client,
        number: u32,
        page_size: u32,
    ) -> impl Future<Output = Fetched<Op::Item>> + Send + 'static + use<Op> {
        let request = Op::fetch(client, number, page_size);
        async move {
            let page = request.await.map(|reply| {
                let pages = Op::pages(&reply.payload);
                let total = Op::total(&reply.payload);
                Page {
                    position: PagePosition::Number(number),
                    items: Op::into_items(reply.payload),
                    pages,
                    total,
                    next_cursor: None,
                    trace_id: reply.trace_id,
                }
            });
            (number, page)
        }
    }

    fn over_cap(&self, number: u32) -> Error {
        Error::Pagination {
            operation: Op::OPERATION_ID,
            message: format!(
                "page {number} is past the cap of {} pages per listing (max_pages)",
                self.last_allowed
            ),
        }
    }

    fn is_full(&self, page: &Page<Op::Item>) -> bool {
        page.items.len() >= self.page_size as usize
    }

    /// Whether page `number`, full, is the last one by both counts: `pages`
    /// names it and `total` is exactly `number` full pages. Then there is
    /// no need to look one page further; with only one of the two counts,
    /// either may be the one that lies.
    fn ends_exactly(&self, number: u32, page: &Page<Op::Item>) -> bool {
        page.pages == Some(i64::from(number))
            && page.total == Some(i64::from(number) * i64::from(self.page_size))
    }

    /// After a full page: look one page further, unless the counts agree it was the last.
    fn after_full(&self, number: u32, page: &Page<Op::Item>) -> NumberState<Op::Item> {
        if self.ends_exactly(number, page) {
            NumberState::Done
        } else {
            NumberState::Sequential(number.saturating_add(1))
        }
    }

    async fn step(
        &self,
        state: NumberState<Op::Item>,
    ) -> Option<(Result<Page<Op::Item>, Error>, NumberState<Op::Item>)> {
        match state {
            NumberState::Done => None,
            NumberState::Start(first) => {
                let (_, page) = self.fetch(first).await;
                let page = match page {
                    Ok(page) => page,
                    Err(e) => return Some((Err(e), NumberState::Done)),
                };
                let next = match page.pages {
                    _ if page.items.is_empty() => NumberState::Done,
                    Some(pages) if pages > i64::from(first) => {
                        let last_known = pages.min(i64::from(self.last_allowed)) as u32;
                        if last_known <= first {
                            NumberState::Sequential(first.saturating_add(1))
                        } else {
                            // Requests are made as `buffered` asks for them, so
                            // memory holds `concurrency` of them, not one per page.
                            let (client, page_size) = (self.client.clone(), self.page_size);
                            let inflight = stream::iter((first + 1)..=last_known)
                                .map(move |n| Self::fetch_page(&client, n, page_size))
                                .buffered(self.concurrency)
                                .boxed();
                            NumberState::Concurrent {
                                inflight,
                                last_known,
                            }
                        }
                    }
                    // `pages` says this was the last page, or is missing: a full
                    // page means there may be more.
                    _ if self.is_full(&page) => self.after_full(first, &page),
                    _ => NumberState::Done,
                };
                Some((Ok(page), next))
            }
            NumberState::Concurrent {
                mut inflight,
                last_known,
            } => match inflight.next().await {
                None => None,
                Some((_, Err(e))) => Some((Err(e), NumberState::Done)),
                // An empty page before the reported end: the data shrank or
                // `pages` was too high. Stop; dropping `inflight` cancels the rest.
                Some((_, Ok(page))) if page.items.is_empty() => None,
                Some((number, Ok(page))) => {
                    let next = if number < last_known {
                        NumberState::Concurrent {
                            inflight,
                            last_known,
                        }
                    } else if self.is_full(&page) {
                        // `pages` may have been too low: keep going one by one.
                        self.after_full(number, &page)
                    } else {
                        NumberState::Done
                    };
                    Some((Ok(page), next))
                }
            },
            NumberState::Sequential(number) => {
                if number > self.last_allowed || number == u32::MAX {
                    return Some((Err(self.over_cap(number)), NumberState::Done));
                }
                match self.fetch(number).await {
                    (_, Err(e)) => Some((Err(e), NumberState::Done)),
                    (_, Ok(page)) if page.items.is_empty() => None,
                    (_, Ok(page)) => {
                        let next = if self.is_full(&page) {
                            self.after_full(number, &page)
                        } else {
                            NumberState::Done
                        };
                        Some((Ok(page), next))
                    }
                }
            }
        }
    }
}

/// A request for a cursor operation: one page with [`send`](Self::send), or
/// the whole listing as a stream of items ([`stream`](Self::stream)) or of
/// pages ([`pages`](Self::pages)).
#[must_use = "a request does nothing until sent or streamed"]
pub struct CursorRequest<Op> {
    client: Client,
    cursor: i64,
    page_size: u32,
    max_pages: u32,
    dedup_window_pages: usize,
    deadline: Option<Duration>,
    _op: PhantomData<fn() -> Op>,
}

impl<Op: CursorOperation> CursorRequest<Op> {
    /// A request from the first item (cursor 0) with the largest page size
    /// the spec allows.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            cursor: Op::CURSOR.min.max(0),
            page_size: Op::PAGE_SIZE.max as u32,
            max_pages: DEFAULT_MAX_PAGES,
            dedup_window_pages: DEFAULT_DEDUP_WINDOW_PAGES,
            deadline: None,
            _op: PhantomData,
        }
    }

    /// The cursor (`startId`): items with a greater id are returned.
    pub fn start_id(mut self, cursor: i64) -> Self {
        self.cursor = cursor;
        self
    }

    listing_options!();

    fn validate(&self) -> Result<(), Error> {
        Op::CURSOR.check(Op::OPERATION_ID, "startId", self.cursor)?;
        Op::PAGE_SIZE.check(Op::OPERATION_ID, "pageSize", i64::from(self.page_size))
    }

    /// Fetches the one page, returning the envelope's `result`.
    pub async fn send(self) -> Result<Op::Page, Error> {
        self.send_with_reply().await.map(|reply| reply.payload)
    }

    /// Like [`send`](Self::send), with the answer's `traceId` and status.
    pub async fn send_with_reply(self) -> Result<Reply<Op::Page>, Error> {
        self.validate()?;
        Op::fetch(&self.client, self.cursor, self.page_size).await
    }

    /// Every page from the cursor to the end (`nextStartId` null), in order,
    /// one at a time. A cursor that does not advance, or the same page twice,
    /// ends the listing with [`Error::Pagination`].
    pub fn pages(self) -> BoxStream<'static, Result<Page<Op::Item>, Error>> {
        if let Err(e) = self.validate() {
            return stream::once(async move { Err(e) }).boxed();
        }
        struct State {
            client: Client,
            page_size: u32,
            cursor: Option<i64>,
            fetched: u32,
            max_pages: u32,
            previous_ids: Vec<Option<i64>>,
        }
        let state = State {
            client: self.client,
            page_size: self.page_size,
            cursor: Some(self.cursor),
            fetched: 0,
            max_pages: self.max_pages,
            previous_ids: Vec::new(),
        };
        let pages = stream::unfold(state, |mut state| async move {
            let cursor = state.cursor.take()?;
            let stop = |message: String, state: State| {
                let error = Error::Pagination {
                    operation: Op::OPERATION_ID,
                    message,
                };
                Some((Err(error), State { cursor: None, ..state }))
            };
            if state.fetched >= state.max_pages {
                let message = format!(
                    "the cap of {} pages per listing (max_pages) was reached at startId {cursor}",
                    state.max_pages
                );
                return stop(message, state);
            }
            let reply = match Op::fetch(&state.client, cursor, state.page_size).await {
                Ok(reply) => reply,
                Err(e) => return Some((Err(e), state)),
            };
            state.fetched += 1;
            let next_cursor = Op::next_cursor(&reply.payload);
            let items = Op::into_items(reply.payload);
            let ids: Vec<Option<i64>> = items.iter().map(Op::item_id).collect();
            if !ids.is_empty() && ids == state.previous_ids {
                let message = format!(
                    "startId {cursor} returned the same page as the previous call (traceId {})",
                    reply.trace_id.as_deref().unwrap_or("unknown")
                );
                return stop(message, state);
            }
            if let Some(next) = next_cursor
                && next <= cursor
            {
                let message = format!(
                    "the cursor did not advance: startId {cursor} answered nextStartId {next} (traceId {})",
                    reply.trace_id.as_deref().unwrap_or("unknown")
                );
                return stop(message, state);
            }
            state.previous_ids = ids;
            state.cursor = next_cursor;
            let page = Page {
                position: PagePosition::Cursor(cursor),
                items,
                pages: None,
                total: None,
                next_cursor,
                trace_id: reply.trace_id,
            };
            Some((Ok(page), state))
        })
        .boxed();
        with_deadline(pages, Op::OPERATION_ID, self.deadline)
    }
}

/// Ends `pages` with [`Error::Deadline`] once `deadline` has passed since
/// its first poll; the requests in flight are dropped with it.
fn with_deadline<T: Send + 'static>(
    pages: BoxStream<'static, Result<T, Error>>,
    operation: &'static str,
    deadline: Option<Duration>,
) -> BoxStream<'static, Result<T, Error>> {
    let Some(limit) = deadline else {
        return pages;
    };
    let state = (Some(pages), None::<tokio::time::Instant>);
    stream::unfold(state, move |(pages, started)| async move {
        let mut pages = pages?;
        let started = started.unwrap_or_else(tokio::time::Instant::now);
        // A deadline past what an Instant can hold (Duration::MAX) never comes.
        let next = match started.checked_add(limit) {
            Some(until) => tokio::time::timeout_at(until, pages.next()).await,
            None => Ok(pages.next().await),
        };
        match next {
            Ok(Some(item)) => Some((item, (Some(pages), Some(started)))),
            Ok(None) => None,
            Err(_) => {
                let error = Error::Deadline {
                    operation,
                    seconds: limit.as_secs_f64(),
                };
                Some((Err(error), (None, Some(started))))
            }
        }
    })
    .boxed()
}

/// What a listing saw, for checking that nothing was lost or doubled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListingSummary {
    /// Pages received.
    pub pages: u64,
    /// Items yielded.
    pub items: u64,
    /// Items dropped because their id was already yielded.
    pub duplicates_dropped: u64,
    /// The `total` reported by the first page that had one.
    pub first_total: Option<i64>,
    /// The `total` reported by the last page that had one.
    pub last_total: Option<i64>,
}

impl ListingSummary {
    /// Whether the reported totals changed during the listing, or disagree
    /// with the number of items yielded: data changed while listing, and
    /// items may have been skipped. List again (or reconcile by id).
    pub fn totals_disagree(&self) -> bool {
        match (self.first_total, self.last_total) {
            (Some(first), Some(last)) => {
                first != last || u64::try_from(last).ok() != Some(self.items)
            }
            _ => false,
        }
    }
}

/// The items of a listing, in order, with duplicates (by id, within the
/// recent pages) dropped. Dropping it cancels the requests in flight.
#[must_use = "streams do nothing unless polled"]
pub struct Items<T> {
    pages: BoxStream<'static, Result<Page<T>, Error>>,
    buffer: VecDeque<T>,
    item_id: fn(&T) -> Option<i64>,
    recent: RecentIds,
    window_pages: usize,
    summary: ListingSummary,
    finished: bool,
}

impl<T> Items<T> {
    /// Items of `pages`, identified by `item_id`, remembering the ids of the
    /// last `window_pages` pages.
    pub fn new(
        pages: BoxStream<'static, Result<Page<T>, Error>>,
        item_id: fn(&T) -> Option<i64>,
        window_pages: usize,
    ) -> Self {
        Self {
            pages,
            buffer: VecDeque::new(),
            item_id,
            recent: RecentIds::default(),
            window_pages: window_pages.max(1),
            summary: ListingSummary::default(),
            finished: false,
        }
    }

    /// What the listing has seen so far; complete once the stream has ended.
    pub fn summary(&self) -> ListingSummary {
        self.summary
    }

    /// Collects every item, with the summary.
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
        if let Some(total) = page.total {
            self.summary.first_total.get_or_insert(total);
            self.summary.last_total = Some(total);
        }
        let mut page_ids = Vec::with_capacity(page.items.len());
        for item in page.items {
            if let Some(id) = (self.item_id)(&item) {
                if !self.recent.insert(id) {
                    self.summary.duplicates_dropped += 1;
                    tracing::debug!(id, "dropped a duplicate item");
                    continue;
                }
                page_ids.push(id);
            }
            self.buffer.push_back(item);
        }
        self.recent.end_page(page_ids, self.window_pages);
    }
}

/// The ids of the last few pages: one set to look up, and each page's ids
/// to forget when it leaves the window.
#[derive(Default)]
struct RecentIds {
    set: HashSet<i64, BuildHasherDefault<IdHasher>>,
    pages: VecDeque<Vec<i64>>,
}

impl RecentIds {
    /// Records `id`; false if it is already in the window.
    fn insert(&mut self, id: i64) -> bool {
        self.set.insert(id)
    }

    fn end_page(&mut self, ids: Vec<i64>, window_pages: usize) {
        self.pages.push_back(ids);
        while self.pages.len() > window_pages {
            for id in self.pages.pop_front().unwrap_or_default() {
                self.set.remove(&id);
            }
        }
    }
}

/// A multiplicative hash for integer ids. SipHash's resistance to chosen
/// keys buys nothing here (the set holds at most a window of pages), and it
/// was the listing's largest cost after JSON decoding.
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

impl<T> Stream for Items<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.buffer.pop_front() {
                this.summary.items += 1;
                return Poll::Ready(Some(Ok(item)));
            }
            if this.finished {
                return Poll::Ready(None);
            }
            match this.pages.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => this.finished = true,
                Poll::Ready(Some(Err(e))) => {
                    this.finished = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(page))) => this.accept(page),
            }
        }
    }
}

impl<T> Unpin for Items<T> {}
