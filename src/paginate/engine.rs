//! The one listing engine. Pages are fetched in chunks of positions, at
//! most `concurrency` requests at a time, and yielded strictly in order:
//! a chunk's pages wait in it until every chunk before it is yielded. The
//! walk decides which positions a listing requests:
//!
//! - page numbers: a chunk per page, requested ahead (see
//!   [`Numbers::request_limit`]) and judged in order as they are yielded, so
//!   a page requested past the end is never yielded;
//! - a cursor: one open chunk, one page at a time, following the answers'
//!   next cursor;
//! - the partitioned scan, below.
//!
//! The partitioned cursor scan: for operations whose spec declares the
//! cursor a monotone integer key (`x-pagination.cursorKey`: items whose key
//! is greater than the cursor, ascending; the next cursor is the last
//! item's key), the key space is cut into chunks scanned concurrently and
//! stitched back in order, so the listing yields exactly the items of the
//! sequential scan, in its order, in a fraction of its time.
//!
//! 1. The first page is fetched alone; a short one ends the listing.
//! 2. Probes at exponentially growing distances past it (in batches of
//!    `concurrency`) sample the key density and find where the keys end: a
//!    probe answered with a short page has seen everything above it. A
//!    batch that finds nothing new (all its probes fell in one gap between
//!    clusters of keys) ends the probing; what lies beyond is one open
//!    chunk, scanned sequentially. The probes cost at most a few batches of
//!    requests, each answered with a page that is used as a chunk's first.
//! 3. The key space is cut at the probes, and further where the sampled
//!    density says a segment holds more than [`CHUNK_PAGES`] pages; each
//!    probe's page is the first page of the chunk that starts there.
//! 4. Chunks are scanned like sequential listings bounded above by the
//!    next chunk's start, `concurrency` requests at a time, the head chunk
//!    first; a chunk's last page may overlap the next chunk (the items past
//!    the boundary are dropped there and listed by the next chunk).
//! 5. An idle slot steals work: the chunk with the most key space left is
//!    split at the middle of what it has not scanned yet.
//!
//! Every page is checked against the contract (keys ascending and above
//! the cursor, the next cursor the last key). If the platform breaks it,
//! the scan stops and finishes sequentially from the last key it yielded
//! (a safe point: everything up to it was listed in order), and the pages
//! say so (`Page::notice`, then `ListingSummary::notices`).
//!
//! Memory: only the first `2 × concurrency` chunks are fetched ahead of the
//! one being yielded, and a chunk that is not at the head holds at most
//! [`MAX_BUFFERED_PAGES`] pages before it waits; so at most
//! `2 × concurrency × MAX_BUFFERED_PAGES` pages are held at once.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};

use super::{Fetcher, Page};
use crate::error::Error;
use crate::operation::PaginationStyle;

/// The most pages a chunk is cut to hold, by the sampled density (fewer
/// when the listing is short for its concurrency, at least two).
pub const CHUNK_PAGES: i64 = 8;
/// The pages a chunk that is not the head one may hold before it waits.
pub const MAX_BUFFERED_PAGES: usize = 16;

/// A part of the listing: the items whose position (key) is in `(lo, hi]`,
/// or, for page numbers, the one page at `cursor`.
struct Chunk<T> {
    /// The chunk's upper bound; `None` for the last one and for a page.
    hi: Option<i64>,
    /// Where its next request starts.
    cursor: i64,
    /// Pages fetched and not yet yielded, in order, then the error that
    /// ends the listing there, if any.
    pages: VecDeque<Result<Page<T>, Error>>,
    done: bool,
    busy: bool,
}

/// A decodable item's index in the page as received, and its key.
type Key = (usize, Option<i64>);

impl<T> Chunk<T> {
    /// A new chunk of `(lo, hi]`.
    fn new(lo: i64, hi: Option<i64>) -> Self {
        Chunk {
            hi,
            cursor: lo,
            pages: VecDeque::new(),
            done: false,
            busy: false,
        }
    }

    /// Ends the chunk with `error`, yielded after its pages.
    fn end_with(&mut self, error: Error) {
        self.pages.push_back(Err(error));
        self.done = true;
    }

    /// A page fetched at `cursor` with these `keys`: trimmed to the chunk
    /// (the items past its bound are the next chunk's), kept (an empty
    /// one only when `keep_empty`).
    fn accept(&mut self, cursor: i64, mut page: Page<T>, keys: &[Key], keep_empty: bool) {
        let cutoff = self.hi.and_then(|hi| {
            let past = keys.iter().find(|(_, key)| key.is_some_and(|k| k > hi));
            past.map(|(index, _)| *index)
        });
        if let Some(cutoff) = cutoff {
            page.items.truncate(cutoff);
            page.ids.truncate(cutoff);
        }
        let next = page.next_cursor;
        self.done =
            cutoff.is_some() || next.is_none_or(|next| self.hi.is_some_and(|hi| next >= hi));
        self.cursor = next.unwrap_or(cursor);
        if keep_empty || !page.items.is_empty() {
            self.pages.push_back(Ok(page));
        }
    }
}

/// An answer, with the position it was requested at: the chunk that
/// requested it is the busy one at that cursor.
type Fetched<T> = BoxFuture<'static, (i64, Result<Page<T>, Error>)>;

/// Which positions the listing requests.
enum Walk {
    Number(Numbers),
    /// Following the cursor; the previous page's ids.
    Cursor(Vec<Option<i64>>),
    /// The partitioned scan's first page (its first chunk's only one).
    First,
    /// Probing from the first page's next cursor, by its key span.
    Probe {
        from: i64,
        span: i64,
    },
    /// Scanning the chunks the probes cut.
    Scan,
    /// Ended: nothing more is requested.
    Done,
}

/// The engine; see the module's header.
pub(super) struct Engine<T> {
    fetcher: Arc<Fetcher<T>>,
    concurrency: usize,
    walk: Walk,
    chunks: VecDeque<Chunk<T>>,
    inflight: FuturesUnordered<Fetched<T>>,
    /// The partitioned scan's key field.
    key: &'static str,
    /// Every item with a key up to this has been yielded, in order.
    safe_point: i64,
    notice: Option<String>,
}

impl<T: Send + 'static> Engine<T> {
    pub(super) fn new(fetcher: Arc<Fetcher<T>>, start: i64, concurrency: usize) -> Self {
        let (walk, key) = match fetcher.pagination.style {
            PaginationStyle::PageNumber { page, .. } => {
                let last_allowed = start
                    .saturating_add(i64::from(fetcher.max_pages) - 1)
                    .min(page.bounds.max);
                let numbers = Numbers {
                    first: start,
                    last_allowed,
                    next: start + 1,
                    known_pages: None,
                    last_full: None,
                };
                (Walk::Number(numbers), "")
            }
            PaginationStyle::Cursor { key: Some(key), .. } if concurrency > 1 => (Walk::First, key),
            PaginationStyle::Cursor { .. } => (Walk::Cursor(Vec::new()), ""),
        };
        // Every walk starts with the chunk of the first position.
        Self {
            fetcher,
            concurrency: concurrency.max(1),
            walk,
            chunks: VecDeque::from([Chunk::new(start, None)]),
            inflight: FuturesUnordered::new(),
            key,
            safe_point: start,
            notice: None,
        }
    }

    pub(super) async fn next(&mut self) -> Option<Result<Page<T>, Error>> {
        if let Walk::Probe { from, span } = self.walk
            && let Err(e) = self.probe(from, span).await
        {
            return Some(self.fail(e));
        }
        self.scan().await
    }

    /// Ends the listing: no more requests, the ones in flight dropped.
    fn stop(&mut self) {
        self.walk = Walk::Done;
        self.inflight = FuturesUnordered::new();
        self.chunks.clear();
    }

    pub(super) fn fail(&mut self, error: Error) -> Result<Page<T>, Error> {
        self.stop();
        Err(error)
    }

    fn error(&self, message: String) -> Error {
        super::stopped(self.fetcher.op.operation_id, message)
    }

    /// Continues sequentially from the safe point, saying why.
    fn fall_back(&mut self, why: String) {
        tracing::warn!(
            operation = self.fetcher.op.operation_id,
            why,
            "partitioned scan stopped"
        );
        self.notice = Some(format!(
            "the partitioned scan stopped ({why}); the rest was listed sequentially from key {}",
            self.safe_point
        ));
        // The same fetcher: what is left of the page cap is the rest's.
        self.stop();
        self.walk = Walk::Cursor(Vec::new());
        self.chunks.push_back(Chunk::new(self.safe_point, None));
    }

    fn keys(&self, page: &Page<T>) -> Vec<Key> {
        let items = page.items.iter().enumerate();
        let key_of = |item: &T| self.fetcher.integer(item, self.key);
        items
            .filter_map(|(index, item)| Some((index, key_of(item.as_ref().ok()?))))
            .collect()
    }

    /// Probes the key space above `from` and cuts it into chunks.
    async fn probe(&mut self, from: i64, span: i64) -> Result<(), Error> {
        // Probe cursors: from + span × 2^j, as far as i64 goes.
        let cursors: Vec<i64> = std::iter::successors(Some(span), |step| step.checked_mul(2))
            .map_while(|step| from.checked_add(step))
            .collect();
        let mut probes = Vec::new();
        let mut complete = false;
        let mut first_keys = HashSet::new();
        'batches: for batch in cursors.chunks(self.concurrency) {
            let mut news = false;
            let answers = batch.iter().map(|&cursor| self.fetcher.fetch(cursor));
            let answers = futures::future::join_all(answers).await;
            for (&cursor, answer) in batch.iter().zip(answers) {
                let page = answer?;
                let keys = self.keys(&page);
                if let Err(why) = contract(cursor, &keys, page.next_cursor) {
                    self.fall_back(format!("probe at {cursor}: {why}"));
                    return Ok(());
                }
                if let Some(&(_, Some(first))) = keys.first() {
                    news |= first_keys.insert(first);
                }
                // A last page: everything above this cursor is in it.
                complete = page.next_cursor.is_none();
                probes.push((cursor, page, keys));
                if complete {
                    break 'batches;
                }
            }
            if !news {
                // The whole batch landed in one gap of the key space: the
                // keys are clustered far apart. Probing on would cost a
                // request per doubling of the gap; the rest is one open chunk.
                break;
            }
        }
        self.cut(from, probes, complete);
        self.walk = Walk::Scan;
        Ok(())
    }

    /// Cuts `(from, ∞)` into chunks at the probes and by sampled density.
    fn cut(&mut self, from: i64, probes: Vec<(i64, Page<T>, Vec<Key>)>, complete: bool) {
        // The segments up to each probe (their start), with the items
        // estimated in each: until a probe, the density of keys the probe
        // before it sampled holds (the first segment: the density the probe
        // found, a fair guess).
        let (mut lo, mut previous) = (from, None);
        let segments: Vec<(i64, f64)> = probes
            .iter()
            .map(|(cursor, page, keys)| {
                let density = keys
                    .last()
                    .and_then(|k| k.1)
                    .map_or(0.0, |last| page.items.len() as f64 / (last - cursor) as f64);
                let segment = (lo, previous.unwrap_or(density) * (cursor - lo) as f64);
                (previous, lo) = (Some(density), *cursor);
                segment
            })
            .collect();
        // Chunks of at most CHUNK_PAGES pages, smaller when the listing is
        // short for the concurrency: about four chunks per request slot.
        let page = f64::from(self.fetcher.page_size);
        let estimated: f64 = segments.iter().map(|(_, items)| items).sum();
        let pages_per_chunk =
            (estimated / page / (4 * self.concurrency) as f64).clamp(2.0, CHUNK_PAGES as f64);
        let target = pages_per_chunk * page;
        let mut cuts = vec![(from, None)];
        for ((lo, items), (hi, page, keys)) in segments.into_iter().zip(probes) {
            let pieces = ((items / target).ceil() as i64).clamp(1, 4096);
            for piece in 1..pieces {
                let cut = lo + ((hi - lo) as i128 * i128::from(piece) / i128::from(pieces)) as i64;
                if cut > lo && cut < hi {
                    cuts.push((cut, None));
                }
            }
            cuts.push((hi, Some((page, keys))));
        }
        // Each chunk ends where the next one starts; each probe's page is
        // the first of the chunk that starts at it.
        let mut cuts = cuts.into_iter().peekable();
        while let Some((lo, probed)) = cuts.next() {
            let hi = cuts.peek().map(|(next, _)| *next);
            let mut chunk = Chunk::new(lo, hi);
            if let Some((page, keys)) = probed {
                chunk.accept(lo, page, &keys, false);
                chunk.done |= hi.is_none() && complete;
            }
            self.chunks.push_back(chunk);
        }
    }

    /// Yields the head chunk's pages in order, fetching as it goes.
    async fn scan(&mut self) -> Option<Result<Page<T>, Error>> {
        loop {
            while let Some(head) = self.chunks.front_mut() {
                if let Some(page) = head.pages.pop_front() {
                    let position = head.cursor;
                    return Some(self.deliver(position, page));
                }
                if head.done && !head.busy {
                    if let Some(hi) = head.hi {
                        self.safe_point = self.safe_point.max(hi);
                    }
                    self.chunks.pop_front();
                    continue;
                }
                break;
            }
            self.schedule();
            let (cursor, result) = self.inflight.next().await?;
            if let Err(e) = self.arrive(cursor, result) {
                return Some(self.fail(e));
            }
        }
    }

    /// Keeps the answer at `cursor` in the chunk that requested it, as the
    /// walk says; an error ends the listing.
    fn arrive(&mut self, cursor: i64, result: Result<Page<T>, Error>) -> Result<(), Error> {
        let requester = |c: &Chunk<T>| c.busy && c.cursor == cursor;
        let Some(index) = self.chunks.iter().position(requester) else {
            return Ok(());
        };
        self.chunks[index].busy = false;
        let page = match result {
            // Page numbers yield an error in its page's turn.
            Err(e) if matches!(self.walk, Walk::Number(_)) => {
                self.chunks[index].end_with(e);
                return Ok(());
            }
            result => result?,
        };
        let keys = match self.walk {
            Walk::First | Walk::Scan => self.keys(&page),
            _ => Vec::new(),
        };
        let mut stuck = None;
        match &self.walk {
            Walk::First | Walk::Scan
                if let Err(why) = contract(cursor, &keys, page.next_cursor) =>
            {
                // At the first page, the sequential walk starts over from the
                // start: this page is its first answer again, not yielded twice.
                let first = matches!(self.walk, Walk::First);
                self.fall_back(if first {
                    why
                } else {
                    format!("at {cursor}: {why}")
                });
                return Ok(());
            }
            Walk::First => {
                let full = page.items.len() >= self.fetcher.page_size as usize;
                self.walk = match (page.next_cursor, keys.first()) {
                    (Some(next), Some(&(_, Some(first)))) if full => {
                        self.safe_point = next;
                        self.chunks[index].hi = Some(next);
                        let span = (next - first).max(1);
                        Walk::Probe { from: next, span }
                    }
                    // A short page with a next cursor, or one without keys:
                    // nothing to partition by; go on as the spec says, in order.
                    (next, _) => {
                        if next.is_some() {
                            let why = "the first page gave no key range to partition";
                            let operation = self.fetcher.op.operation_id;
                            tracing::warn!(operation, why, "partitioned scan stopped");
                        }
                        Walk::Cursor(Vec::new())
                    }
                };
            }
            Walk::Cursor(previous_ids) => {
                let field = self.fetcher.pagination.position().name;
                let trace = page.trace_id.as_deref().unwrap_or("unknown");
                if !page.ids.is_empty() && page.ids == *previous_ids {
                    return Err(self.error(format!(
                        "{field} {cursor} returned the same page as the previous call (traceId {trace})"
                    )));
                }
                if let Some(next) = page.next_cursor.filter(|next| *next <= cursor) {
                    // The page's items are delivered (duplicates are dropped by
                    // id); following the cursor would not end.
                    let next_field = match self.fetcher.pagination.style {
                        PaginationStyle::Cursor { next_cursor, .. } => next_cursor,
                        PaginationStyle::PageNumber { .. } => "next cursor",
                    };
                    stuck = Some(self.error(format!(
                        "the cursor did not advance: {field} {cursor} answered {next_field} {next} (traceId {trace})"
                    )));
                }
                self.walk = Walk::Cursor(page.ids.clone());
            }
            _ => {}
        }
        let keep_empty = !matches!(self.walk, Walk::Scan);
        let chunk = &mut self.chunks[index];
        chunk.accept(cursor, page, &keys, keep_empty);
        if let Some(error) = stuck {
            chunk.end_with(error);
        }
        Ok(())
    }

    /// The head chunk's next page, fetched at `position`, on its way out.
    fn deliver(&mut self, position: i64, page: Result<Page<T>, Error>) -> Result<Page<T>, Error> {
        let mut page = match page {
            Ok(page) => page,
            Err(e) => return self.fail(e),
        };
        page.notice = self.notice.take();
        match &mut self.walk {
            Walk::Number(numbers) => match numbers.judge(&self.fetcher, position, &page) {
                Verdict::More => {}
                Verdict::Last => self.stop(),
                Verdict::Stop(message) => {
                    // The page's items are real: deliver them, then the error.
                    let mut end = Chunk::new(position, None);
                    end.end_with(self.error(message));
                    self.stop();
                    self.chunks.push_back(end);
                }
            },
            Walk::Scan => {
                if let Some(last) = self.keys(&page).iter().rev().find_map(|k| k.1) {
                    self.safe_point = self.safe_point.max(last);
                }
            }
            _ => {}
        }
        Ok(page)
    }

    /// Starts requests: the head chunks first, `concurrency` at a time; an
    /// idle slot with nothing to fetch splits the chunk with the most room,
    /// or takes the next page number.
    fn schedule(&mut self) {
        let window = self.concurrency * 2;
        while self.inflight.len() < self.concurrency {
            let next = self
                .chunks
                .iter()
                .take(window)
                .enumerate()
                .position(|(i, c)| {
                    !c.done && !c.busy && (i == 0 || c.pages.len() < MAX_BUFFERED_PAGES)
                });
            let Some(index) = next.or_else(|| self.split()).or_else(|| self.next_number()) else {
                break;
            };
            let chunk = &mut self.chunks[index];
            chunk.busy = true;
            let cursor = chunk.cursor;
            let fetch = self.fetcher.fetch(cursor);
            self.inflight
                .push(Box::pin(async move { (cursor, fetch.await) }));
        }
    }

    /// Splits the chunk in the window with the most key space left at the
    /// middle of it; the upper half becomes a chunk of its own, right
    /// after. Returns the new chunk's index.
    fn split(&mut self) -> Option<usize> {
        let window = self.concurrency * 2;
        let page = i64::from(self.fetcher.page_size);
        let (index, room) = self
            .chunks
            .iter()
            .take(window)
            .enumerate()
            .filter(|(_, c)| !c.done && !c.busy)
            // Key space not scanned yet (for the last chunk: unknown).
            .filter_map(|(i, c)| Some((i, c.hi?.saturating_sub(c.cursor))))
            .max_by_key(|(_, room)| *room)?;
        // Less than two pages of keys left (at one key per item): not worth a request.
        if room < 2 * page {
            return None;
        }
        let chunk = &mut self.chunks[index];
        let hi = chunk.hi?;
        let middle = chunk.cursor + room / 2;
        chunk.hi = Some(middle);
        self.chunks.insert(index + 1, Chunk::new(middle, Some(hi)));
        Some(index + 1)
    }

    /// A chunk for the next page number, when the page-number walk may
    /// request it now: at most `2 × concurrency` pages requested or held.
    fn next_number(&mut self) -> Option<usize> {
        let usual =
            i64::from(self.fetcher.page_size) == self.fetcher.pagination.page_size.bounds.max;
        let Walk::Number(numbers) = &mut self.walk else {
            return None;
        };
        let number = numbers.next;
        if self.chunks.len() >= 2 * self.concurrency
            || number > numbers.request_limit(self.concurrency, usual)
        {
            return None;
        }
        numbers.next += 1;
        self.chunks.push_back(Chunk::new(number, None));
        Some(self.chunks.len() - 1)
    }
}

/// The page-number walk. Pages are requested ahead, `concurrency` at a
/// time, and yielded strictly in order: a slow page holds back the
/// yielding, not the requesting, so one slow answer does not idle the
/// other slots (no head-of-line blocking), while at most `2 × concurrency`
/// pages are requested or held at once (bounded memory).
///
/// How far ahead: the pages the answers report (`pages`) when they report
/// it; otherwise, speculatively, `concurrency` pages past the last full one
/// (a listing that ends early costs at most that many empty answers). The
/// first pages are requested together when the page size is the largest the
/// spec allows (the usual listing); with another size the first page goes
/// alone. Each page is judged in order (see `judge`), so a page requested
/// past the end is never yielded.
struct Numbers {
    first: i64,
    /// The last page it may request: the page cap's, or the spec's bound.
    last_allowed: i64,
    /// The next page to request.
    next: i64,
    /// The last page the answers say exists.
    known_pages: Option<i64>,
    /// The last page judged full (more may follow).
    last_full: Option<i64>,
}

impl Numbers {
    /// The last page worth requesting now (`usual`: the page size is the
    /// largest the spec allows).
    fn request_limit(&self, concurrency: usize, usual: bool) -> i64 {
        let speculative = |after: i64| after.saturating_add(concurrency as i64);
        let limit = match (self.last_full, self.known_pages) {
            (None, _) if usual && concurrency > 1 => speculative(self.first - 1),
            (None, _) => self.first,
            // Within the reported pages; past them, one page at a time.
            (Some(full), Some(pages)) if full < pages => pages,
            (Some(full), Some(_)) => full + 1,
            (Some(full), None) => speculative(full),
        };
        limit.min(self.last_allowed)
    }

    /// What page `number` says about the rest of the listing.
    fn judge<T>(&mut self, fetcher: &Fetcher<T>, number: i64, page: &Page<T>) -> Verdict {
        let size = i64::from(fetcher.page_size);
        let received = page.items.len() as i64;
        let before = (number - 1).saturating_mul(size);
        let claims_more = page.pages.is_some_and(|pages| pages > number)
            || page
                .total
                .is_some_and(|total| total > before.saturating_add(received));
        if received < size {
            if claims_more {
                let counts = match (page.pages, page.total) {
                    (Some(p), Some(t)) => format!("{p} pages and {t} items"),
                    (Some(p), None) => format!("{p} pages"),
                    (None, Some(t)) => format!("{t} items"),
                    (None, None) => "no counts".to_string(),
                };
                return Verdict::Stop(format!(
                    "page {number} held {received} of {size} items, but the answer reports {counts}: items would be missing (traceId {})",
                    page.trace_id.as_deref().unwrap_or("unknown")
                ));
            }
            return Verdict::Last;
        }
        // A full page. Both counts agreeing that it is the last one is the
        // only reason not to look further: either alone may be the one that lies.
        if page.pages == Some(number) && page.total == Some(number.saturating_mul(size)) {
            return Verdict::Last;
        }
        if let Some(pages) = page.pages {
            self.known_pages = Some(self.known_pages.map_or(pages, |known| known.max(pages)));
        }
        self.last_full = Some(number);
        if number < self.last_allowed {
            return Verdict::More;
        }
        let bound = fetcher.pagination.position().bounds.max;
        Verdict::Stop(if number >= bound {
            format!(
                "page {number} was full, but {bound} is the largest page number the spec allows"
            )
        } else {
            format!(
                "the listing reached its cap of {} pages (max_pages) at page {number}, which was full",
                fetcher.max_pages
            )
        })
    }
}

enum Verdict {
    More,
    Last,
    Stop(String),
}

/// The monotone-key contract, for a page fetched at `cursor`.
fn contract(cursor: i64, keys: &[Key], next: Option<i64>) -> Result<(), String> {
    let mut previous = cursor;
    for (index, key) in keys {
        let Some(key) = key else {
            return Err(format!("item {index} has no key"));
        };
        if *key <= previous {
            return Err(format!(
                "item {index} has key {key}, not above {previous}: keys are not ascending above the cursor"
            ));
        }
        previous = *key;
    }
    match (next, keys.last()) {
        (Some(next), Some(_)) if next != previous => Err(format!(
            "the next cursor {next} is not the last item's key {previous}"
        )),
        _ => Ok(()),
    }
}
