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
use std::sync::Arc;

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

/// A decodable item's index in the page as received, and its key.
type Key = (usize, Option<i64>);

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

    /// A page fetched at `cursor` with these `keys`: trimmed to the chunk
    /// (the items past its bound are the next chunk's), kept.
    fn accept(&mut self, cursor: i64, mut page: Page<T>, keys: &[Key]) {
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
        if page.received() > 0 {
            self.pages.push_back(page);
        }
    }
}

type Fetched<T> = BoxFuture<'static, (u64, i64, Result<Page<T>, Error>)>;

enum State {
    First,
    /// Probing from the first page's next cursor, by its key span.
    Probe {
        from: i64,
        span: i64,
    },
    Scan,
    Done,
}

/// The engine; see the module's header.
pub(super) struct PartitionEngine<T> {
    fetcher: Arc<Fetcher<T>>,
    key: &'static str,
    concurrency: usize,
    start: i64,
    state: State,
    chunks: VecDeque<Chunk<T>>,
    inflight: FuturesUnordered<Fetched<T>>,
    next_id: u64,
    /// Every item with a key up to this has been yielded, in order.
    safe_point: i64,
    sequential: Option<CursorEngine<T>>,
    notice: Option<String>,
}

impl<T: Send + 'static> PartitionEngine<T> {
    pub(super) fn new(fetcher: Arc<Fetcher<T>>, start: i64, concurrency: usize) -> Self {
        let pagination = fetcher.pagination;
        let key = match pagination.style {
            PaginationStyle::Cursor { key: Some(key), .. } => key,
            _ => pagination.item_id,
        };
        Self {
            fetcher,
            key,
            concurrency: concurrency.max(1),
            start,
            state: State::First,
            chunks: VecDeque::new(),
            inflight: FuturesUnordered::new(),
            next_id: 0,
            safe_point: start,
            sequential: None,
            notice: None,
        }
    }

    pub(super) async fn next(&mut self) -> Option<Result<Page<T>, Error>> {
        if let Some(sequential) = &mut self.sequential {
            let mut page = sequential.next().await?;
            if let (Ok(page), Some(notice)) = (&mut page, self.notice.take()) {
                page.notice = Some(notice);
            }
            return Some(page);
        }
        match self.state {
            State::Done => None,
            State::First => self.first_page().await,
            State::Probe { from, span } => match self.probe(from, span).await {
                Ok(()) => Box::pin(self.next()).await,
                Err(e) => Some(self.fail(e)),
            },
            State::Scan => self.scan().await,
        }
    }

    /// Ends the scan: no more requests, the ones in flight dropped.
    fn stop(&mut self) {
        self.state = State::Done;
        self.inflight = FuturesUnordered::new();
        self.chunks.clear();
    }

    fn fail(&mut self, error: Error) -> Result<Page<T>, Error> {
        self.stop();
        Err(error)
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
        self.stop();
        // The same fetcher: what is left of the page cap is the rest's.
        self.sequential = Some(CursorEngine::new(self.fetcher.clone(), self.safe_point));
    }

    fn keys(&self, page: &Page<T>) -> Vec<Key> {
        let items = page.items.iter().enumerate();
        let key_of = |item: &T| self.fetcher.integer(item, self.key);
        items
            .filter_map(|(index, item)| Some((index, key_of(item.as_ref().ok()?))))
            .collect()
    }

    async fn first_page(&mut self) -> Option<Result<Page<T>, Error>> {
        let page = match self.fetcher.fetch(self.start).await {
            Ok(page) => page,
            Err(e) => return Some(self.fail(e)),
        };
        let keys = self.keys(&page);
        if let Err(why) = contract(self.start, &keys, page.next_cursor) {
            // The sequential engine starts over from the start; this page is
            // its first answer again, so it is not yielded twice.
            self.fall_back(why);
            return Box::pin(self.next()).await;
        }
        let full = page.received() >= self.fetcher.page_size as usize;
        match (page.next_cursor, keys.first()) {
            (Some(next), Some(&(_, Some(first)))) if full => {
                self.safe_point = next;
                let span = (next - first).max(1);
                self.state = State::Probe { from: next, span };
            }
            (Some(next), _) => {
                // A short page with a next cursor, or one without keys:
                // nothing to partition by; go on as the spec says, in order.
                self.safe_point = next;
                self.fall_back("the first page gave no key range to partition".into());
                self.notice = None;
            }
            (None, _) => self.state = State::Done,
        }
        Some(Ok(page))
    }

    /// Probes the key space above `from` and cuts it into chunks.
    async fn probe(&mut self, from: i64, span: i64) -> Result<(), Error> {
        // Probe cursors: from + span × 2^j, as far as i64 goes.
        let cursors: Vec<i64> = std::iter::successors(Some(span), |step| step.checked_mul(2))
            .map_while(|step| from.checked_add(step))
            .collect();
        let mut probes: Vec<(i64, Page<T>)> = Vec::new();
        let mut complete = false;
        let mut first_keys = std::collections::HashSet::new();
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
                probes.push((cursor, page));
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
        self.state = State::Scan;
        Ok(())
    }

    /// Cuts `(from, ∞)` into chunks at the probes and by sampled density.
    fn cut(&mut self, from: i64, probes: Vec<(i64, Page<T>)>, complete: bool) {
        // The segments up to each probe, with the items estimated in each:
        // until a probe, the density of keys the probe before it sampled
        // holds (the first segment: the density the probe found, a fair guess).
        let mut segments = Vec::with_capacity(probes.len());
        let (mut lo, mut previous) = (from, None);
        let probes: Vec<_> = probes
            .into_iter()
            .map(|(cursor, page)| {
                let keys = self.keys(&page);
                let density = keys
                    .last()
                    .and_then(|k| k.1)
                    .map_or(0.0, |last| page.received() as f64 / (last - cursor) as f64);
                let items = previous.unwrap_or(density) * (cursor - lo) as f64;
                segments.push((lo, cursor, items));
                (previous, lo) = (Some(density), cursor);
                (cursor, page, keys)
            })
            .collect();
        // Chunks of at most CHUNK_PAGES pages, smaller when the listing is
        // short for the concurrency: about four chunks per request slot.
        let page = f64::from(self.fetcher.page_size);
        let estimated: f64 = segments.iter().map(|(_, _, items)| items).sum();
        let pages_per_chunk =
            (estimated / page / (4 * self.concurrency) as f64).clamp(2.0, CHUNK_PAGES as f64);
        let target = pages_per_chunk * page;
        let mut cuts = vec![(from, None)];
        for ((lo, hi, items), (cursor, page, keys)) in segments.into_iter().zip(probes) {
            let pieces = ((items / target).ceil() as i64).clamp(1, 4096);
            for piece in 1..pieces {
                let cut = lo + ((hi - lo) as i128 * i128::from(piece) / i128::from(pieces)) as i64;
                if cut > lo && cut < hi {
                    cuts.push((cut, None));
                }
            }
            cuts.push((cursor, Some((page, keys))));
        }
        let his: Vec<_> = cuts
            .iter()
            .skip(1)
            .map(|(lo, _)| Some(*lo))
            .chain([None])
            .collect();
        let last = cuts.len() - 1;
        for (i, ((lo, probed), hi)) in cuts.into_iter().zip(his).enumerate() {
            let mut chunk = Chunk::new(self.next_id, lo, hi);
            self.next_id += 1;
            if let Some((page, keys)) = probed {
                chunk.accept(lo, page, &keys);
                chunk.done |= i == last && complete;
            }
            self.chunks.push_back(chunk);
        }
    }

    async fn scan(&mut self) -> Option<Result<Page<T>, Error>> {
        loop {
            // Yield what the head chunk has, in order.
            while let Some(head) = self.chunks.front_mut() {
                if let Some(page) = head.pages.pop_front() {
                    if let Some(last) = self.keys(&page).iter().rev().find_map(|k| k.1) {
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
            let keys = self.keys(&page);
            if let Err(why) = contract(cursor, &keys, page.next_cursor) {
                self.fall_back(format!("at {cursor}: {why}"));
                return Box::pin(self.next()).await;
            }
            if let Some(chunk) = self.chunks.iter_mut().find(|c| c.id == id) {
                chunk.busy = false;
                chunk.accept(cursor, page, &keys);
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
            let Some(index) = next.or_else(|| self.split()) else {
                break;
            };
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
