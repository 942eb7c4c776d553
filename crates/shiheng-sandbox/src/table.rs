//! What the sandbox serves for each operation of the table: the items of a
//! paginated operation (generated from its item schema, or the user's) or
//! the `result` of one without pagination, each item's JSON serialized once
//! when it is made, so that a page is built by concatenating bytes. Owns
//! the ids (unique, ascending by the cursor key, one above 2^53), the pages
//! of both styles, and the changes made mid-listing.

use serde_json::{Map, Value, json};

use super::generate::Generator;
use super::rng::{Rng, tag};
use super::samples::{self, Refinement};
use super::userdata::DataError;
use shiheng::operation::{OperationSpec, Pagination, PaginationStyle};
use shiheng_spec::schema as spec;

/// The first id above 2^53: a JavaScript `number` cannot hold it, so a client
/// that loses precision anywhere returns a different id.
pub(crate) const ABOVE_2_POW_53: i64 = 9_007_199_254_740_993;

/// Items generated for a paginated operation whose item schema has no
/// refinement, when the configuration does not say.
pub const DEFAULT_ITEM_COUNT: usize = 100;

/// The most items generated for one operation: each costs about 380 bytes
/// and 6 µs, so 2,000,000 take about 760 MB and 12 s to make. A larger
/// count is refused when the sandbox starts (and by `shiheng sandbox
/// --items` as a usage error) rather than aborting on allocation.
pub const MAX_ITEM_COUNT: usize = 2_000_000;

/// Where the index of an item inserted mid-listing starts, so that fresh
/// items never repeat the generated ones.
const INSERTED_INDEX_BASE: u64 = 1_000_000;

/// Keys left free below the first generated item of an operation without
/// a refinement (an endpoint added to the spec), so that items can be
/// inserted before it mid-listing: a cursor listing needs their keys below
/// the first.
const INSERT_ROOM: i64 = 1_000;

/// One item: the key pages are cut by, and its JSON text.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// The cursor key (for a cursor listing) or the item id; for an item
    /// without an id, its position.
    pub(crate) key: i64,
    /// The item as sent, serialized once.
    pub(crate) json: Box<str>,
}

/// The items of a paginated operation, in the order they are served.
#[derive(Debug)]
pub(crate) struct Listing {
    pub(crate) rows: Vec<Row>,
    /// Items inserted so far, so each insertion makes fresh ones.
    inserted: u64,
}

/// What an operation answers with.
#[derive(Debug)]
pub(crate) enum Content {
    /// A paginated operation's items.
    Listing(Listing),
    /// The `result` of an operation without pagination, as JSON text.
    Result(Box<str>),
}

/// Makes the items of one operation: the spec's item schema, the refinement
/// of that schema when there is one, the seed.
pub(crate) struct Maker<'s> {
    spec: &'s Value,
    op: &'static OperationSpec,
    pagination: Pagination,
    item_schema: &'s Value,
    refinement: Option<&'static Refinement>,
    /// The item field cursors follow (`cursorKey`, else the item id).
    key_field: &'static str,
    /// The bounds the spec sets on the key field.
    key_bounds: (i64, i64),
    seed: u64,
}

impl<'s> Maker<'s> {
    /// `None` when `op` does not page.
    pub(crate) fn new(spec: &'s Value, op: &'static OperationSpec, seed: u64) -> Option<Self> {
        let pagination = op.pagination?;
        let item_schema = spec::component(spec, pagination.item_schema).unwrap_or(&Value::Null);
        let key_field = key_field(&pagination);
        let key_bounds = spec::property(spec, item_schema, key_field)
            .map_or((i64::MIN, i64::MAX), spec::integer_bounds);
        Some(Self {
            spec,
            op,
            pagination,
            item_schema,
            refinement: samples::refinement(pagination.item_schema),
            key_field,
            key_bounds,
            seed,
        })
    }

    /// Items generated when the configuration does not say.
    pub(crate) fn default_count(&self) -> usize {
        self.refinement
            .map_or(DEFAULT_ITEM_COUNT, |r| r.default_count)
    }

    /// `count` generated items with ascending unique ids from the
    /// refinement's first id (or the key's lower bound, at least 1), small
    /// random gaps, and the last one 2^53 + 1 when the key may hold it.
    pub(crate) fn generate(&self, count: usize) -> Listing {
        let mut rng = Rng::new(self.seed ^ tag(self.op.operation_id));
        let (min, max) = self.key_bounds;
        let first = self.refinement.map_or_else(
            || generic_first_key(min, max, count),
            |r| r.first_id.clamp(min, max),
        );
        let mut ids = Vec::with_capacity(count);
        let mut id = first;
        for _ in 0..count {
            if id > max {
                break;
            }
            ids.push(id);
            id = id.saturating_add(1 + rng.below(3) as i64);
        }
        if ids.len() >= 2
            && ABOVE_2_POW_53 <= max
            && let Some(last) = ids.last_mut()
        {
            *last = (*last).max(ABOVE_2_POW_53);
        }
        let rows = ids
            .into_iter()
            .enumerate()
            .map(|(index, id)| self.row(index as u64, id))
            .collect();
        Listing { rows, inserted: 0 }
    }

    /// One generated item with the id `id`.
    fn row(&self, index: u64, id: i64) -> Row {
        let mut rng = Rng::for_item(self.seed, tag(self.op.operation_id), index);
        let generator = Generator::new(self.spec);
        let mut item = match self.refinement.map(|r| (r.item)(self.seed, index, id)) {
            Some(Value::Object(mut refined)) => {
                let declared = self
                    .item_schema
                    .get("properties")
                    .and_then(Value::as_object);
                let mut item = Map::new();
                // The refinement's fields the spec still declares (a
                // refinement never plants drift), the schema's others
                // generated: a field the spec adds gets values too.
                for (field, schema) in declared.into_iter().flatten() {
                    let value = match refined.remove(field) {
                        Some(value) => value,
                        None => generator.value(schema, field, &mut rng),
                    };
                    item.insert(field.clone(), value);
                }
                item
            }
            _ => generator.object(self.item_schema, &mut rng, 0),
        };
        item.insert(self.pagination.item_id.to_string(), json!(id));
        item.insert(self.key_field.to_string(), json!(id));
        Row {
            key: id,
            json: Value::Object(item).to_string().into_boxed_str(),
        }
    }

    /// The user's items as rows: each with its key (a cursor listing
    /// requires one, and is served in ascending key order), ids unique.
    pub(crate) fn user_rows(&self, origin: &str, items: &[Value]) -> Result<Listing, DataError> {
        let cursor = matches!(self.pagination.style, PaginationStyle::Cursor { .. });
        let id_field = self.pagination.item_id;
        let mut rows = Vec::with_capacity(items.len());
        let mut seen = std::collections::HashMap::new();
        for (index, item) in items.iter().enumerate() {
            let key = item.get(self.key_field).and_then(Value::as_i64);
            if cursor && key.is_none() {
                return Err(DataError::new(
                    origin,
                    Some(index),
                    Some(self.key_field),
                    "is needed: a cursor listing serves its items in the order of this key",
                ));
            }
            if let Some(id) = item.get(id_field).and_then(Value::as_i64)
                && let Some(first) = seen.insert(id, index)
            {
                return Err(DataError::new(
                    origin,
                    Some(index),
                    Some(id_field),
                    format!("{id} repeats item {first}'s: ids must be unique"),
                ));
            }
            let key = key.unwrap_or(index as i64);
            rows.push(Row {
                key,
                json: item.to_string().into_boxed_str(),
            });
        }
        if cursor {
            rows.sort_by_key(|r| r.key);
            if let Some(w) = rows.windows(2).find(|w| w[0].key == w[1].key) {
                return Err(DataError::new(
                    origin,
                    None,
                    Some(self.key_field),
                    format!("{} appears twice: cursor keys must be unique", w[0].key),
                ));
            }
        }
        Ok(Listing { rows, inserted: 0 })
    }

    /// Adds up to `n` fresh items before the first one, with keys below it
    /// (still ascending, never below the key's lower bound or 1); returns
    /// how many it added.
    pub(crate) fn insert(&self, listing: &mut Listing, n: usize) -> Result<usize, String> {
        let (min, max) = self.key_bounds;
        let lowest = min.max(1);
        let keys = listing.rows.iter().map(|r| r.key);
        let first = keys
            .clone()
            .min()
            .unwrap_or_else(|| self.refinement.map_or(lowest, |r| r.first_id));
        let room = usize::try_from(first.saturating_sub(lowest)).unwrap_or(usize::MAX);
        let cursor = matches!(self.pagination.style, PaginationStyle::Cursor { .. });
        let fresh_keys: Vec<i64> = if room >= n {
            (0..n).map(|k| first - (n - k) as i64).collect()
        } else if !cursor {
            // A page-number listing serves its rows in order, whatever
            // their keys: fresh ones above the largest do as well.
            let last = keys.max().unwrap_or(lowest - 1);
            let above = usize::try_from(max.saturating_sub(last)).unwrap_or(usize::MAX);
            if above < n {
                return Err(format!(
                    "{}: no room for {n} new items: the spec bounds `{}` to {min}..={max} and the listing's keys run from {first} to {last}",
                    self.op.operation_id, self.key_field
                ));
            }
            (1..=n).map(|k| last + k as i64).collect()
        } else {
            return Err(format!(
                "{}: no room for {n} new items before the first: a cursor listing needs their `{}` below the first item's ({first}), and the spec's minimum ({lowest}) leaves {room}",
                self.op.operation_id, self.key_field
            ));
        };
        let fresh: Vec<Row> = fresh_keys
            .into_iter()
            .enumerate()
            .map(|(k, id)| self.row(INSERTED_INDEX_BASE + listing.inserted + k as u64, id))
            .collect();
        listing.inserted += n as u64;
        listing.rows.splice(0..0, fresh);
        Ok(n)
    }
}

/// The first key of generated items without a refinement: the key's lower
/// bound (at least 1) plus [`INSERT_ROOM`], when the bounds hold that many
/// more keys than `count` items need (gaps of up to 3 between them).
fn generic_first_key(min: i64, max: i64, count: usize) -> i64 {
    let lowest = min.max(1);
    let needed = i64::try_from(count)
        .unwrap_or(i64::MAX)
        .saturating_mul(3)
        .saturating_add(INSERT_ROOM);
    if max.saturating_sub(lowest) > needed {
        lowest + INSERT_ROOM
    } else {
        lowest
    }
}

impl Listing {
    /// Removes the first `n` items; returns how many it removed.
    pub(crate) fn remove(&mut self, n: usize) -> usize {
        let n = n.min(self.rows.len());
        self.rows.drain(..n);
        n
    }

    /// Items whose key is greater than `cursor`, at most `page_size`, and the
    /// cursor of the next page (the last key returned; `None` when nothing
    /// follows).
    pub(crate) fn cursor_page(&self, cursor: i64, page_size: usize) -> (&[Row], Option<i64>) {
        let from = self.rows.partition_point(|r| r.key <= cursor);
        let to = from.saturating_add(page_size).min(self.rows.len());
        let next = if to < self.rows.len() && to > from {
            Some(self.rows[to - 1].key)
        } else {
            None
        };
        (&self.rows[from..to], next)
    }

    /// Page `page` (from 1) of `page_size` items, with the number of pages
    /// and of items.
    pub(crate) fn number_page(&self, page: u64, page_size: u64) -> (&[Row], u64, u64) {
        let total = self.rows.len() as u64;
        let pages = total.div_ceil(page_size.max(1));
        let from = page.saturating_sub(1).saturating_mul(page_size).min(total) as usize;
        let to = (from as u64).saturating_add(page_size).min(total) as usize;
        (&self.rows[from..to], pages, total)
    }
}

/// The item field a cursor listing is ordered by: `cursorKey`, else the id.
pub(crate) fn key_field(pagination: &Pagination) -> &'static str {
    match pagination.style {
        PaginationStyle::Cursor { key: Some(key), .. } => key,
        _ => pagination.item_id,
    }
}

/// A generated `result` for an operation without pagination: an object of
/// its result schema (never null, whatever the schema's `nullable`).
pub(crate) fn generated_result(spec: &Value, op: &'static OperationSpec, seed: u64) -> Value {
    let mut rng = Rng::for_item(seed, tag(op.operation_id), 0);
    let generator = Generator::new(spec);
    let schema = spec::component(spec, op.result_schema).unwrap_or(&Value::Null);
    match generator.value(schema, op.result_schema, &mut rng) {
        Value::Null => Value::Object(generator.object(schema, &mut rng, 0)),
        value => value,
    }
}

/// The parts of a result object other than the items and the pagination
/// fields, for a paginated operation: `Some(field)` when the result declares
/// an integer field named like the request's page size field (filled with
/// the number of items in the page), and the other fields the result
/// schema requires, generated once.
pub(crate) fn page_extras(
    spec: &Value,
    op: &'static OperationSpec,
    seed: u64,
) -> (Option<&'static str>, Map<String, Value>) {
    let Some(pagination) = op.pagination else {
        return (None, Map::new());
    };
    let Some(result) = spec::component(spec, op.result_schema) else {
        return (None, Map::new());
    };
    let size_name = pagination.page_size.name;
    let count = spec::property(spec, result, size_name)
        .filter(|p| p.get("type").and_then(Value::as_str) == Some("integer"))
        .map(|_| size_name);
    let mut served = vec![pagination.items, size_name];
    match pagination.style {
        PaginationStyle::PageNumber { pages, total, .. } => {
            served.extend(pages.into_iter().chain(total))
        }
        PaginationStyle::Cursor { next_cursor, .. } => served.push(next_cursor),
        _ => {}
    }
    let mut rng = Rng::for_item(seed, tag(op.operation_id) ^ 0xE7, 0);
    let generator = Generator::new(spec);
    let mut extras = Map::new();
    for field in spec::required(result).filter(|f| !served.contains(f)) {
        if let Some(schema) = result.get("properties").and_then(|p| p.get(field)) {
            extras.insert(field.to_string(), generator.value(schema, field, &mut rng));
        }
    }
    (count, extras)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(keys: &[i64]) -> Listing {
        Listing {
            rows: keys
                .iter()
                .map(|k| Row {
                    key: *k,
                    json: format!("{{\"id\":{k}}}").into_boxed_str(),
                })
                .collect(),
            inserted: 0,
        }
    }

    #[test]
    fn cursor_pages_cover_every_item_once_in_key_order() {
        let t = listing(&[3, 4, 9, 10, 11, 40, ABOVE_2_POW_53]);
        let (mut seen, mut cursor) = (Vec::new(), 0);
        for _ in 0..100 {
            let (rows, next) = t.cursor_page(cursor, 3);
            seen.extend(rows.iter().map(|r| r.key));
            match next {
                Some(n) => cursor = n,
                None => break,
            }
        }
        assert_eq!(seen, [3, 4, 9, 10, 11, 40, ABOVE_2_POW_53]);
        assert_eq!(t.cursor_page(ABOVE_2_POW_53, 3).0.len(), 0);
        assert_eq!(t.cursor_page(9, 2).1, Some(11));
    }

    #[test]
    fn number_pages_count_pages_and_items() {
        let t = listing(&[1, 2, 3, 4, 5]);
        let (rows, pages, total) = t.number_page(2, 2);
        assert_eq!((rows.len(), pages, total), (2, 3, 5));
        assert_eq!(t.number_page(4, 2).0.len(), 0);
        assert_eq!(t.number_page(u64::MAX, u64::MAX).0.len(), 0);
    }
}
