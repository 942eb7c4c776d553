//! Every operation of the table as the sandbox serves it: built once at
//! start from the configuration (generated data, or the user's, checked
//! against the spec), then asked for answers. Owns the answer bodies: a
//! page is the envelope's text around the page's items, concatenated from
//! their JSON serialized once (the fast path); only drift mode parses the
//! page's items to plant its differences (the slow path).

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::{Map, Value, json};

use super::SandboxConfig;
use super::planted::DriftPlan;
use super::table::{self, Content, Listing, Maker, Row};
use super::userdata::{self, DataError, SandboxData};
use shiheng::operation::{OperationSpec, PaginationStyle};
use shiheng_spec::schema as spec;

/// Where a page starts and how many items it holds, as the request said
/// (or the defaults), within the spec's bounds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageRequest {
    pub(crate) position: i64,
    pub(crate) page_size: i64,
}

/// One operation as served.
pub(crate) struct Served {
    pub(crate) op: &'static OperationSpec,
    content: RwLock<Content>,
    /// Makes fresh items for insertions mid-listing (paginated operations).
    maker: Option<Maker<'static>>,
    /// The result's field that echoes the page's item count, if any.
    count_field: Option<&'static str>,
    /// Other fields the result schema requires, generated once.
    extras: Map<String, Value>,
    /// The same, as `"name":value,` text for the fast path.
    extras_text: String,
    /// Where a listing starts and its page size, when the request omits them.
    defaults: PageRequest,
    drift: DriftPlan,
}

/// Every operation, by path. An operation's data is generated the first
/// time it is asked for, so the sandbox of a spec of hundreds of operations
/// starts as quickly as one of three; the user's data is read (and every
/// mistake in it reported) at start.
pub(crate) struct Catalog {
    config: SandboxConfig,
    spec: &'static Value,
    served: Vec<OnceLock<Served>>,
    by_path: HashMap<&'static str, usize>,
}

impl Catalog {
    /// Checks the configuration without generating anything: every
    /// operationId it names exists (and pages, for an item count), and the
    /// user's data fits the spec (schemas, unique ids, cursor keys).
    pub(crate) fn check(config: &SandboxConfig) -> Result<(), DataError> {
        let spec = document()?;
        for (operation_id, count) in &config.item_counts {
            let op = userdata::operation("item_counts", operation_id)?;
            if *count > super::MAX_ITEM_COUNT {
                return Err(DataError::new(
                    "item_counts",
                    None,
                    None,
                    format!(
                        "{operation_id}: {count} items is more than the sandbox generates ({} at most)",
                        super::MAX_ITEM_COUNT
                    ),
                ));
            }
            if op.pagination.is_none() {
                return Err(DataError::new(
                    "item_counts",
                    None,
                    None,
                    format!("{operation_id} does not page: it has no items to count"),
                ));
            }
        }
        for (operation_id, data) in &config.data {
            let op = userdata::operation(data.origin(), operation_id)?;
            userdata::validate(spec, op, data)?;
            if let (Some(maker), SandboxData::Items { items, origin }) =
                (Maker::new(spec, op, config.seed), data)
            {
                maker.user_rows(origin, items)?;
            }
        }
        Ok(())
    }

    /// What every operation serves, after [`Catalog::check`]: the
    /// operations given data are built now, the others when first asked.
    pub(crate) fn build(config: &SandboxConfig) -> Result<Catalog, DataError> {
        Self::check(config)?;
        let spec = document()?;
        let ops = OperationSpec::all();
        let served: Vec<OnceLock<Served>> = ops.iter().map(|_| OnceLock::new()).collect();
        for (position, &op) in ops.iter().enumerate() {
            if let Some(SandboxData::Items { items, origin }) = config.data.get(op.operation_id)
                && let Some(maker) = Maker::new(spec, op, config.seed)
            {
                let content = Content::Listing(maker.user_rows(origin, items)?);
                let _ = served[position].set(Served::new(spec, op, position, config, content));
            }
        }
        let by_path = ops.iter().enumerate().map(|(i, op)| (op.path, i)).collect();
        Ok(Catalog {
            config: config.clone(),
            spec,
            served,
            by_path,
        })
    }

    fn served(&self, position: usize) -> Option<&Served> {
        let op = *OperationSpec::all().get(position)?;
        Some(self.served.get(position)?.get_or_init(|| {
            let content = Served::generated(self.spec, op, &self.config);
            Served::new(self.spec, op, position, &self.config, content)
        }))
    }

    /// The operation served at `path`.
    pub(crate) fn by_path(&self, path: &str) -> Option<&Served> {
        self.served(*self.by_path.get(path)?)
    }

    /// The operation `operation_id`.
    pub(crate) fn by_id(&self, operation_id: &str) -> Option<&Served> {
        let op = OperationSpec::by_id(operation_id)?;
        self.by_path(op.path)
    }
}

impl Served {
    /// What an operation without data of the user's serves: generated
    /// items (as many as configured), or a generated result.
    fn generated(
        spec: &'static Value,
        op: &'static OperationSpec,
        config: &SandboxConfig,
    ) -> Content {
        let data = config.data.get(op.operation_id);
        match (Maker::new(spec, op, config.seed), data) {
            (Some(maker), _) => {
                let count = config
                    .item_counts
                    .get(op.operation_id)
                    .copied()
                    .unwrap_or_else(|| maker.default_count());
                Content::Listing(maker.generate(count))
            }
            (None, Some(SandboxData::Result { result, .. })) => {
                Content::Result(result.to_string().into_boxed_str())
            }
            (None, _) => Content::Result(
                table::generated_result(spec, op, config.seed)
                    .to_string()
                    .into_boxed_str(),
            ),
        }
    }

    fn new(
        spec: &'static Value,
        op: &'static OperationSpec,
        position: usize,
        config: &SandboxConfig,
        content: Content,
    ) -> Served {
        let maker = Maker::new(spec, op, config.seed);
        let (count_field, extras) = table::page_extras(spec, op, config.seed);
        let extras_text = extras
            .iter()
            .map(|(k, v)| format!("{}:{v},", json!(k)))
            .collect();
        Served {
            op,
            content: RwLock::new(content),
            maker,
            count_field,
            extras,
            extras_text,
            defaults: defaults(spec, op),
            drift: DriftPlan::new(spec, op, position),
        }
    }

    /// The page a validated `paramContent` asks for: its fields, or the
    /// defaults for those it omits.
    pub(crate) fn page_request(&self, params: Option<&Value>) -> Option<PageRequest> {
        let pagination = self.op.pagination?;
        let field = |name: &str| params.and_then(|p| p.get(name)).and_then(Value::as_i64);
        Some(PageRequest {
            position: field(pagination.position().name).unwrap_or(self.defaults.position),
            page_size: field(pagination.page_size.name).unwrap_or(self.defaults.page_size),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Content> {
        // A handler that panicked cannot leave the content half-written
        // (every change is one `splice`/`drain`), so a poisoned lock is
        // still usable.
        self.content
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Content> {
        self.content
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds `n` fresh items before the first one; returns `n`, or why it
    /// cannot.
    pub(crate) fn insert(&self, n: usize) -> Result<usize, String> {
        match (&self.maker, &mut *self.write()) {
            (Some(maker), Content::Listing(listing)) => maker.insert(listing, n),
            _ => Err(self.not_paged()),
        }
    }

    /// Removes the first `n` items; returns how many (fewer when it holds
    /// fewer), or why it cannot.
    pub(crate) fn remove(&self, n: usize) -> Result<usize, String> {
        match &mut *self.write() {
            Content::Listing(listing) => Ok(listing.remove(n)),
            Content::Result(_) => Err(self.not_paged()),
        }
    }

    fn not_paged(&self) -> String {
        format!(
            "{} does not page (no x-pagination in the spec): it has no items",
            self.op.operation_id
        )
    }

    /// The number of items, for a paginated operation.
    pub(crate) fn items(&self) -> Option<usize> {
        match &*self.read() {
            Content::Listing(listing) => Some(listing.rows.len()),
            Content::Result(_) => None,
        }
    }

    /// The success envelope's body for `page` (ignored without pagination),
    /// with `trace_id`; in drift mode, with the planted differences.
    pub(crate) fn answer(&self, page: Option<PageRequest>, trace_id: &str, drift: bool) -> Vec<u8> {
        let content = self.read();
        let (fields, rows, result): (Vec<(&str, Value)>, &[Row], Option<&str>) =
            match (&*content, self.op.pagination, page) {
                (Content::Listing(listing), Some(pagination), Some(page)) => {
                    let (fields, rows) = self.page(listing, &pagination.style, page);
                    (fields, rows, None)
                }
                (Content::Listing(_), _, _) => (Vec::new(), &[], None),
                (Content::Result(text), _, _) => (Vec::new(), &[], Some(text)),
            };
        if drift {
            return self.drifted(&fields, rows, result, trace_id);
        }
        let mut out = Vec::with_capacity(
            128 + self.extras_text.len() + rows.iter().map(|r| r.json.len() + 1).sum::<usize>(),
        );
        out.extend_from_slice(br#"{"code":"0","msg":null,"traceId":"#);
        out.extend_from_slice(json!(trace_id).to_string().as_bytes());
        out.extend_from_slice(br#","result":"#);
        if let Some(text) = result {
            out.extend_from_slice(text.as_bytes());
            out.push(b'}');
            return out;
        }
        out.push(b'{');
        out.extend_from_slice(self.extras_text.as_bytes());
        for (name, value) in &fields {
            out.extend_from_slice(json!(name).to_string().as_bytes());
            out.push(b':');
            out.extend_from_slice(value.to_string().as_bytes());
            out.push(b',');
        }
        let items = self.op.pagination.map_or("result", |p| p.items);
        out.extend_from_slice(json!(items).to_string().as_bytes());
        out.extend_from_slice(b":[");
        for (i, row) in rows.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(row.json.as_bytes());
        }
        out.extend_from_slice(b"]}}");
        out
    }

    /// The page's rows and the result's pagination fields (named by the
    /// table): pages and total, or the next cursor; and the item count
    /// where the result schema has a field for it.
    fn page<'a>(
        &self,
        listing: &'a Listing,
        style: &PaginationStyle,
        page: PageRequest,
    ) -> (Vec<(&'static str, Value)>, &'a [Row]) {
        let size = page.page_size.max(1);
        let mut fields = Vec::new();
        let rows = match *style {
            PaginationStyle::PageNumber { pages, total, .. } => {
                let (rows, page_count, item_count) =
                    listing.number_page(page.position.unsigned_abs(), size.unsigned_abs());
                fields.extend(pages.map(|name| (name, json!(page_count))));
                fields.extend(total.map(|name| (name, json!(item_count))));
                rows
            }
            PaginationStyle::Cursor { next_cursor, .. } => {
                let (rows, next) =
                    listing.cursor_page(page.position, usize::try_from(size).unwrap_or(usize::MAX));
                fields.push((next_cursor, json!(next)));
                rows
            }
            // A style the SDK added after this sandbox: no items.
            _ => &[],
        };
        if let Some(name) = self.count_field {
            fields.push((name, json!(rows.len())));
        }
        (fields, rows)
    }

    /// The slow path: the answer as a value, with drift planted.
    fn drifted(
        &self,
        fields: &[(&str, Value)],
        rows: &[Row],
        result: Option<&str>,
        trace_id: &str,
    ) -> Vec<u8> {
        let result = match result {
            Some(text) => {
                let mut result: Value = serde_json::from_str(text).unwrap_or(Value::Null);
                self.drift.plant_result(&mut result);
                result
            }
            None => {
                let mut items: Vec<Value> = rows
                    .iter()
                    .map(|r| serde_json::from_str(&r.json).unwrap_or(Value::Null))
                    .collect();
                self.drift.plant_items(&mut items);
                let mut page = self.extras.clone();
                for (name, value) in fields {
                    page.insert((*name).to_string(), value.clone());
                }
                let items_name = self.op.pagination.map_or("result", |p| p.items);
                page.insert(items_name.to_string(), Value::Array(items));
                Value::Object(page)
            }
        };
        let mut envelope = Map::new();
        envelope.insert("code".into(), json!("0"));
        envelope.insert("msg".into(), Value::Null);
        envelope.insert("traceId".into(), json!(trace_id));
        envelope.insert("result".into(), result);
        self.drift.plant_envelope(&mut envelope);
        Value::Object(envelope).to_string().into_bytes()
    }
}

fn document() -> Result<&'static Value, DataError> {
    shiheng_spec::schema::document()
        .map_err(|e| DataError::new("the embedded spec", None, None, e.to_string()))
}

/// Where a listing starts and its page size when `paramContent` (or a
/// field of it) is absent: the field's `default` in the spec, else the
/// first page (or cursor 0) and the largest page size.
fn defaults(spec: &Value, op: &'static OperationSpec) -> PageRequest {
    let Some(pagination) = op.pagination else {
        return PageRequest {
            position: 0,
            page_size: 0,
        };
    };
    let params = op
        .params_schema
        .and_then(|name| spec::component(spec, name));
    let default = |name: &str| {
        params
            .and_then(|p| spec::property(spec, p, name))
            .and_then(|p| p.get("default"))
            .and_then(Value::as_i64)
    };
    let position = pagination.position();
    let first = match pagination.style {
        PaginationStyle::PageNumber { .. } => position.bounds.min.max(1),
        PaginationStyle::Cursor { .. } => position.bounds.min.max(0),
        _ => position.bounds.min,
    };
    PageRequest {
        position: default(position.name).unwrap_or(first),
        page_size: default(pagination.page_size.name).unwrap_or(pagination.page_size.bounds.max),
    }
}
