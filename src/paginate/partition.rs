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

use std::collections::VecDeque;

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};

use super::{CursorEngine, Fetcher, Page};
use crate::error::Error;
use crate::operation::PaginationStyle;

/// The most pages a chunk is cut to hold, by the sampled density (fewer
/// when the listing is short for its concurrency, at least two).
pub const CHUNK_PAGES: i64 = 8;
/// The pages a chunk that is not the head one may hold before it waits.
pub const MAX_BUFFERED_PAGES: usize = 16;

/// A part of the key space: the items whose key is in `(lo, hi]`.
struct Chunk<T> {
    id: u64,
    /// The chunk's upper bound; `None` for the last one.
    hi: Option<i64>,
    /// Where its next request starts.
    cursor: i64,
    /// Pages fetched and not yet yielded, in order.
    pages: VecDeque<Page<T>>,
    done: bool,
    busy: bool,
}

impl<T> Chunk<T> {
    fn new(id: u64, lo: i64, hi: Option<i64>) -> Self {
        Self {
            id,
            hi,
            cursor: lo,
            pages: VecDeque::new(),
            done: false,
            busy: false,
        }
    }

    /// Key space not scanned yet (for the last chunk: unknown, so none).
    fn room(&self) -> i64 {
        match (self.done || self.busy, self.hi) {
            (false, Some(hi)) => hi.saturating_sub(self.cursor),
            _ => 0,
        }
    }
}

type Fetched<T> = BoxFuture<'static, (u64, i64, Result<Page<T>, Error>)>;

enum State {
    First,
    Probe,
    Scan,
    Done,
}

/// The engine; see the module's header.
pub(super) struct PartitionEngine<T> {
    fetcher: Fetcher<T>,
    key: &'static str,
    concurrency: usize,
    max_pages: u32,
    fetched: u32,
    start: i64,
    state: State,
    chunks: VecDeque<Chunk<T>>,
    inflight: FuturesUnordered<Fetched<T>>,
    next_id: u64,
    /// Every item with a key up to this has been yielded, in order.
    safe_point: i64,
    /// The first page's last key and key span (for the probes).
    first: Option<(i64, i64)>,
    sequential: Option<CursorEngine<T>>,
    notice: Option<String>,
    pending: Option<Error>,
}

impl<T: Send + 'static> PartitionEngine<T> {
    pub(super) fn new(fetcher: Fetcher<T>, start: i64, concurrency: usize, max_pages: u32) -> Self {
        let pagination = fetcher.pagination;
        let key = match pagination.style {
            PaginationStyle::Cursor { key: Some(key), .. } => key,
            _ => pagination.item_id,
        };
        Self {
            fetcher,
            key,
            concurrency: concurrency.max(1),
            max_pages,
            fetched: 0,
            start,
            state: State::First,
            chunks: VecDeque::new(),
            inflight: FuturesUnordered::new(),
            next_id: 0,
            safe_point: start,
            first: None,
            sequential: None,
            notice: None,
            pending: None,
        }
    }

    pub(super) async fn next(&mut self) -> Option<Result<Page<T>, Error>> {
        if let Some(error) = self.pending.take() {
            return Some(Err(error));
        }
        if let Some(sequential) = &mut self.sequential {
            let mut page = sequential.next().await?;
            if let (Ok(page), Some(notice)) = (&mut page, self.notice.take()) {
                page.notice = Some(notice);
            }
            return Some(page);
        }
        loop {
            match self.state {
                State::Done => return None,
                State::First => return Some(self.first_page().await),
                State::Probe => {
                    if let Err(e) = self.probe().await {
                        return Some(self.fail(e));
                    }
                    if self.sequential.is_some() {
                        return Box::pin(self.next()).await;
                    }
                }
                State::Scan => return self.scan().await,
            }
        }
    }

    fn fail(&mut self, error: Error) -> Result<Page<T>, Error> {
        self.state = State::Done;
        self.inflight = FuturesUnordered::new();
        self.chunks.clear();
        Err(error)
    }

    fn count(&mut self) -> Result<(), Error> {
        if self.fetched >= self.max_pages {
            return Err(Error::Pagination {
                operation: self.fetcher.op.operation_id,
                message: format!(
                    "the listing reached its cap of {} pages (max_pages)",
                    self.max_pages
                ),
            });
        }
        self.fetched += 1;
        Ok(())
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
        self.inflight = FuturesUnordered::new();
        self.chunks.clear();
        self.state = State::Done;
        self.sequential = Some(CursorEngine::new(
            self.fetcher.clone(),
            self.safe_point,
            self.max_pages.saturating_sub(self.fetched),
        ));
    }

    async fn first_page(&mut self) -> Result<Page<T>, Error> {
        if let Err(e) = self.count() {
            return self.fail(e);
        }
        let page = match self.fetcher.fetch(self.start).await {
            Ok(page) => page,
            Err(e) => return self.fail(e),
        };
        let keys = keys_of(&self.fetcher, &page, self.key);
        if let Err(why) = contract(self.start, &keys, page.next_cursor) {
            self.safe_point = self.start;
            self.fall_back(why);
            // The sequential engine starts over from the start; this page is
            // its first answer again, so it is not yielded twice.
            return match self.sequential.as_mut() {
                Some(sequential) => match sequential.next().await {
                    Some(Ok(mut page)) => {
                        page.notice = self.notice.take();
                        Ok(page)
                    }
                    Some(Err(e)) => Err(e),
                    None => Ok(page),
                },
                None => Ok(page),
            };
        }
        let full = page.received() >= self.fetcher.page_size as usize;
        match (
            page.next_cursor,
            keys.first().and_then(|k| k.1),
            keys.last().and_then(|k| k.1),
        ) {
            (Some(next), Some(first), Some(_)) if full => {
                self.safe_point = next;
                self.first = Some((next, (next - first).max(1)));
                self.state = State::Probe;
            }
            (Some(next), ..) => {
                // A short page with a next cursor, or one without keys:
                // nothing to partition by; go on as the spec says, in order.
                self.safe_point = next;
                self.fall_back("the first page gave no key range to partition".into());
                self.notice = None;
            }
            (None, ..) => self.state = State::Done,
        }
        Ok(page)
    }

    /// Probes the key space and cuts it into chunks.
    async fn probe(&mut self) -> Result<(), Error> {
        let Some((from, span)) = self.first else {
            self.state = State::Done;
            return Ok(());
        };
        // Probe cursors: from + span × 2^j, as far as i64 goes.
        let mut cursors = Vec::new();
        let mut step = span;
        while let Some(cursor) = from.checked_add(step) {
            cursors.push(cursor);
            match step.checked_mul(2) {
                Some(next) => step = next,
                None => break,
            }
        }
        let mut probes: Vec<(i64, Page<T>)> = Vec::new();
        let mut complete = false;
        let mut first_keys = std::collections::HashSet::new();
        'batches: for batch in cursors.chunks(self.concurrency) {
            let mut news = false;
            let mut answers = Vec::with_capacity(batch.len());
            for &cursor in batch {
                self.count()?;
                answers.push(self.fetcher.fetch(cursor));
            }
            let answers = futures::future::join_all(answers).await;
            for (&cursor, answer) in batch.iter().zip(answers) {
                let page = answer?;
                let keys = keys_of(&self.fetcher, &page, self.key);
                if let Err(why) = contract(cursor, &keys, page.next_cursor) {
                    self.fall_back(format!("probe at {cursor}: {why}"));
                    return Ok(());
                }
                let tail = page.next_cursor.is_none();
                if let Some((_, Some(first))) = keys.first() {
                    news |= first_keys.insert(*first);
                }
                probes.push((cursor, page));
                if tail {
                    // Everything above this cursor is in this page.
                    complete = true;
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
        self.state = State::Scan;
        Ok(())
    }

    /// Cuts `(from, ∞)` into chunks at the probes and by sampled density.
    fn cut(&mut self, from: i64, probes: Vec<(i64, Page<T>)>, complete: bool) {
        let page = i64::from(self.fetcher.page_size);
        // (cursor, density per key) samples, the first page's included.
        let mut bounds: Vec<(i64, Option<Page<T>>)> = vec![(from, None)];
        let mut previous_density = None::<f64>;
        let mut segments: Vec<(i64, i64, f64)> = Vec::new();
        let mut lo = from;
        for (cursor, page) in probes {
            let keys = keys_of(&self.fetcher, &page, self.key);
            let density = match (
                keys.first().and_then(|k| k.1),
                keys.last().and_then(|k| k.1),
            ) {
                (Some(_), Some(last)) if last > cursor => {
                    page.received() as f64 / (last - cursor) as f64
                }
                _ => 0.0,
            };
            // Until this probe, the density of the last sample holds (the
            // first segment: the density this probe found, a fair guess).
            segments.push((lo, cursor, previous_density.unwrap_or(density)));
            previous_density = Some(density);
            lo = cursor;
            bounds.push((cursor, Some(page)));
        }
        // Chunks of at most CHUNK_PAGES pages, smaller when the listing is
        // short for the concurrency: about four chunks per request slot.
        let estimated: f64 = segments
            .iter()
            .map(|(lo, hi, d)| d * (hi - lo) as f64)
            .sum();
        let pages_per_chunk = ((estimated / page as f64) / (4 * self.concurrency) as f64)
            .clamp(2.0, CHUNK_PAGES as f64);
        let target = pages_per_chunk * page as f64;
        let mut cuts: Vec<(i64, Option<Page<T>>)> = Vec::new();
        let mut bound_pages = bounds.into_iter();
        if let Some(first) = bound_pages.next() {
            cuts.push(first);
        }
        let mut probe_pages: VecDeque<_> = bound_pages.collect();
        for (lo, hi, density) in segments {
            let estimated = density * (hi - lo) as f64;
            let pieces = ((estimated / target).ceil() as i64).clamp(1, 4096);
            for piece in 1..pieces {
                let cut = lo + ((hi - lo) as i128 * i128::from(piece) / i128::from(pieces)) as i64;
                if cut > lo && cut < hi {
                    cuts.push((cut, None));
                }
            }
            if let Some(probe) = probe_pages.pop_front() {
                cuts.push(probe);
            }
        }
        let last = cuts.len().saturating_sub(1);
        let his: Vec<Option<i64>> = cuts.iter().skip(1).map(|(next, _)| Some(*next)).collect();
        let his = his.into_iter().chain(std::iter::once(None));
        for (i, ((lo, page), hi)) in cuts.into_iter().zip(his).enumerate() {
            let mut chunk = Chunk::new(self.next_id, lo, hi);
            self.next_id += 1;
            let probed = page.is_some();
            if let Some(page) = page {
                self.accept_into(&mut chunk, lo, page);
            }
            if i == last && complete && probed {
                chunk.done = true;
            }
            self.chunks.push_back(chunk);
        }
    }

    /// A page of `chunk`, fetched at `cursor`: trimmed to the chunk, kept.
    fn accept_into(&self, chunk: &mut Chunk<T>, cursor: i64, page: Page<T>) {
        let keys = keys_of(&self.fetcher, &page, self.key);
        let cutoff = chunk.hi.and_then(|hi| {
            keys.iter()
                .find(|(_, key)| key.is_some_and(|k| k > hi))
                .map(|(index, _)| *index)
        });
        let next = page.next_cursor;
        let page = match cutoff {
            Some(cutoff) => trim(page, cutoff),
            None => page,
        };
        let past_end = match (next, chunk.hi) {
            (None, _) => true,
            (Some(next), Some(hi)) => next >= hi,
            (Some(_), None) => false,
        };
        chunk.done = cutoff.is_some() || past_end;
        chunk.cursor = next.unwrap_or(cursor);
        if page.received() > 0 {
            chunk.pages.push_back(page);
        }
    }

    async fn scan(&mut self) -> Option<Result<Page<T>, Error>> {
        loop {
            if let Some(error) = self.pending.take() {
                return Some(Err(error));
            }
            // Yield what the head chunk has, in order.
            while let Some(head) = self.chunks.front_mut() {
                if let Some(page) = head.pages.pop_front() {
                    if let Some(last) = keys_of(&self.fetcher, &page, self.key)
                        .iter()
                        .rev()
                        .find_map(|k| k.1)
                    {
                        self.safe_point = self.safe_point.max(last);
                    }
                    return Some(Ok(page));
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
            if self.chunks.is_empty() {
                self.state = State::Done;
                return None;
            }
            self.schedule();
            let (id, cursor, result) = self.inflight.next().await?;
            let page = match result {
                Ok(page) => page,
                Err(e) => return Some(self.fail(e)),
            };
            let keys = keys_of(&self.fetcher, &page, self.key);
            if let Err(why) = contract(cursor, &keys, page.next_cursor) {
                self.fall_back(format!("at {cursor}: {why}"));
                return Box::pin(self.next()).await;
            }
            let position = self.chunks.iter().position(|c| c.id == id);
            if let Some(index) = position {
                let mut chunk =
                    std::mem::replace(&mut self.chunks[index], Chunk::new(u64::MAX, 0, None));
                chunk.busy = false;
                self.accept_into(&mut chunk, cursor, page);
                self.chunks[index] = chunk;
            }
        }
    }

    /// Starts requests: the head chunks first, `concurrency` at a time; an
    /// idle slot with nothing to fetch splits the chunk with the most room.
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
            let index = match next {
                Some(index) => index,
                None => match self.split() {
                    Some(index) => index,
                    None => break,
                },
            };
            if let Err(e) = self.count() {
                self.pending = Some(e);
                self.inflight = FuturesUnordered::new();
                self.chunks.clear();
                return;
            }
            let chunk = &mut self.chunks[index];
            chunk.busy = true;
            let (id, cursor) = (chunk.id, chunk.cursor);
            let fetch = self.fetcher.fetch(cursor);
            self.inflight
                .push(Box::pin(async move { (id, cursor, fetch.await) }));
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
            .map(|(i, c)| (i, c.room()))
            .max_by_key(|(_, room)| *room)?;
        // Less than two pages of keys left (at one key per item): not worth a request.
        if room < 2 * page {
            return None;
        }
        let chunk = &mut self.chunks[index];
        let hi = chunk.hi?;
        let middle = chunk.cursor + room / 2;
        chunk.hi = Some(middle);
        let new = Chunk::new(self.next_id, middle, Some(hi));
        self.next_id += 1;
        self.chunks.insert(index + 1, new);
        Some(index + 1)
    }
}

/// Each decodable item's index in the page as received, and its key.
fn keys_of<T: Send + 'static>(
    fetcher: &Fetcher<T>,
    page: &Page<T>,
    key: &str,
) -> Vec<(usize, Option<i64>)> {
    let key_of = |item: &T| fetcher.integer(item, key);
    let items = page.items.iter().enumerate();
    items
        .filter_map(|(index, item)| Some((index, key_of(item.as_ref().ok()?))))
        .collect()
}

/// The page without its items from index `cutoff` (as received) on.
fn trim<T>(mut page: Page<T>, cutoff: usize) -> Page<T> {
    page.items.truncate(cutoff);
    page.ids.truncate(cutoff);
    page
}

/// The monotone-key contract, for a page fetched at `cursor`.
fn contract(cursor: i64, keys: &[(usize, Option<i64>)], next: Option<i64>) -> Result<(), String> {
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
