//! Drift detection: owns the comparison of live answers with the spec the
//! SDK was generated from. [`compare`] walks any JSON value against one of
//! the spec's schemas (no HTTP); [`check`] calls every operation of the
//! SDK's operation table once (through [`shiheng::dynamic`]) and compares
//! each answer with its 200 schema, operation by operation, going on when
//! one fails. [`check_with`] does the same with [`CheckOptions`]: the
//! `paramContent` to send to the operations whose parameters the spec cannot
//! supply (the CLI's `shiheng check --params OPERATION=JSON`).
//!
//! [`CheckOptions`] also say which spec to compare with (any spec file,
//! read at run time: `shiheng check --spec FILE`; the operations called are
//! still the SDK's table, each compared with the 200 schema the file gives
//! its path) and how many pages of a paginated operation to look at
//! (following its `x-pagination`: the next page number, or the answer's
//! next cursor, never more than [`MAX_PAGES`]). Every answer compared is
//! kept in the report ([`CheckedOperation::answers`]): what
//! [`crate::patch`] turns into an amended spec.
//!
//! What was not checked is said, with the reason, and is not drift: an
//! operation the spec gives no values to call with and that was given none
//! is [`CheckOutcome::Skipped`]; one the platform answered with a business
//! error (an envelope whose `code` is not "0", such as 40004 "no store" for
//! a `storeId` invented from the spec) is [`CheckOutcome::Refused`], with
//! the params sent and the platform's code, msg and traceId; one whose
//! exchange failed (transport, HTTP, an undecodable answer) is
//! [`CheckOutcome::Failed`]. [`DriftReport::not_checked`] lists all three.
//!
//! What counts as drift is every finding of the one schema walker
//! ([`crate::schema::walk`], the same one the sandbox validates requests
//! with): a field the schema does not declare, a value outside an `enum` or
//! the `x-known-values` extension, a JSON type the schema does not allow (a
//! number where it says string, `null` where it is not `nullable`), a
//! number outside its `format` or bounds, a string or array outside its
//! length bounds, and a missing `required` field. Here they are counted per
//! place (array indices aside) and named after the operation. Drift means
//! it is time to edit `spec/` and regenerate.
//!
//! It was the SDK's `shiheng_spec::drift` once; a service needs none of it at
//! run time, so the spec tooling owns it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use futures::{StreamExt, stream};
use serde_json::{Map, Value, json};
use shiheng::operation::{OperationSpec, Pagination, PaginationStyle};
use shiheng::{Client, Error, ErrorKind, SPEC_SHA256, SPEC_VERSION};

use crate::schema::{self, Finding, MAX_DEPTH, Problem, REF_PREFIX, Rules, resolve};

/// What kind of difference: the schema walker's kinds.
pub use crate::schema::FindingKind as DriftKind;

/// One difference between a live answer and the spec. Differences at the same
/// place of every item of an array are reported once, with a count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// The spec's operationId (or what the caller of [`compare`] named).
    pub operation: String,
    /// Where, from the top of the answer: `result.result[3].phone`.
    pub path: String,
    /// What kind of difference.
    pub kind: DriftKind,
    /// What differs, e.g. `integer where the spec says string`.
    pub detail: String,
    /// How many array items showed the same difference at this place.
    pub occurrences: usize,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(the whole answer)"
        } else {
            &self.path
        };
        write!(f, "{}: {path}: {}", self.operation, self.detail)?;
        if self.occurrences > 1 {
            write!(f, " ({} occurrences)", self.occurrences)?;
        }
        Ok(())
    }
}

/// How the call of one operation went.
#[derive(Debug)]
#[non_exhaustive]
pub enum CheckOutcome {
    /// It answered and the answer was compared with the spec.
    Checked {
        /// The HTTP status of the answer.
        status: u16,
        /// The answer's `traceId`, when it had one.
        trace_id: Option<String>,
    },
    /// It was not called: its request needs a value the spec gives no
    /// example, default or minimum for.
    Skipped {
        /// Why, naming the field.
        reason: String,
    },
    /// The platform answered with a business error (an envelope whose
    /// `code` is present and not "0", such as 40004 "no store"): most often
    /// it refused the params sent, which the spec's examples cannot make
    /// real. Nothing was compared; give the operation real params
    /// ([`CheckOptions::with_params`], `shiheng check --params`).
    Refused {
        /// The business error: its code, msg and traceId.
        error: Error,
        /// The `paramContent` sent (`None`: none was sent).
        params: Option<Value>,
        /// Whether those params were given ([`CheckOptions`]) rather than
        /// invented from the spec ([`first_request`]).
        given: bool,
    },
    /// The exchange failed (HTTP, transport, timeout, an answer that could
    /// not be decoded); nothing was compared.
    Failed {
        /// What the client returned.
        error: Error,
    },
}

impl CheckOutcome {
    /// Whether the answer was compared with the spec.
    pub fn is_checked(&self) -> bool {
        matches!(self, CheckOutcome::Checked { .. })
    }
}

/// The most pages of one operation [`check_with`] looks at, whatever
/// [`CheckOptions::pages`] asks (`shiheng check --all`).
pub const MAX_PAGES: usize = 1000;

/// What [`check_with`] sends besides what it invents from the spec, which
/// spec it compares with, and how many pages it reads.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CheckOptions {
    /// The `paramContent` to send to an operation, by operationId, instead
    /// of the one [`first_request`] invents. A paginated operation's object
    /// is completed with its first page at its largest page size where it
    /// names neither. An operationId not in the table is ignored.
    pub params: BTreeMap<String, Value>,
    /// The spec to compare the answers with (and to invent params from),
    /// as parsed JSON; `None`: the SDK's embedded spec.
    pub spec: Option<Arc<Value>>,
    /// How many pages of each paginated operation to look at, following
    /// its pagination from the first; 0 and 1 both mean the first page
    /// only. Never more than [`MAX_PAGES`].
    pub pages: usize,
    /// How many operations are checked at once (0: [`DEFAULT_CONCURRENCY`]).
    /// The report keeps the spec's order whatever this is.
    pub concurrency: usize,
    /// Called as each operation's check ends, in the spec's order (a
    /// progress bar over hundreds of operations).
    pub progress: Option<OnChecked>,
}

/// How many operations [`check_with`] checks at once by default.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// A callback of [`CheckOptions::progress`].
#[derive(Clone)]
pub struct OnChecked(pub Arc<dyn Fn(&CheckedOperation) + Send + Sync>);

impl std::fmt::Debug for OnChecked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnChecked(..)")
    }
}

impl CheckOptions {
    /// No params given: [`check_with`] behaves as [`check`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends `params` as the `paramContent` of `operation_id`.
    pub fn with_params(mut self, operation_id: impl Into<String>, params: Value) -> Self {
        self.params.insert(operation_id.into(), params);
        self
    }

    /// Checks up to `concurrency` operations at once (at least 1).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Calls `progress` as each operation's check ends.
    pub fn with_progress(
        mut self,
        progress: impl Fn(&CheckedOperation) + Send + Sync + 'static,
    ) -> Self {
        self.progress = Some(OnChecked(Arc::new(progress)));
        self
    }

    /// Compares with `spec` (an OpenAPI document as JSON, e.g. a spec file
    /// read with [`crate::patch::parse`]) instead of the embedded one.
    pub fn with_spec(mut self, spec: Value) -> Self {
        self.spec = Some(Arc::new(spec));
        self
    }

    /// Looks at up to `pages` pages of each paginated operation (at most
    /// [`MAX_PAGES`]).
    pub fn with_pages(mut self, pages: usize) -> Self {
        self.pages = pages.min(MAX_PAGES);
        self
    }
}

/// One operation of the table, as [`check`] handled it.
#[derive(Debug)]
#[non_exhaustive]
pub struct CheckedOperation {
    /// The spec's operationId.
    pub operation: String,
    /// Its path.
    pub path: String,
    /// Checked, skipped, refused or failed.
    pub outcome: CheckOutcome,
    /// Every answer compared with the spec, whole (envelope included), in
    /// the order the pages were read; empty when it was not checked.
    pub answers: Vec<Value>,
}

/// What [`check`] found.
#[derive(Debug)]
#[non_exhaustive]
pub struct DriftReport {
    /// `info.version` of the spec compared against ([`SPEC_VERSION`] for
    /// the embedded one).
    pub spec_version: String,
    /// SHA-256 of the embedded spec file ([`SPEC_SHA256`]); `None` when
    /// another spec was given ([`CheckOptions::spec`]).
    pub spec_sha256: Option<&'static str>,
    /// Every operation of the table, in the spec's order, with its outcome.
    pub operations: Vec<CheckedOperation>,
    /// Every difference found in the checked answers; empty when they match
    /// the spec.
    pub drifts: Vec<Drift>,
}

impl DriftReport {
    /// Whether any answer differed from the spec.
    pub fn has_drift(&self) -> bool {
        !self.drifts.is_empty()
    }

    /// The operations whose answer was compared with the spec.
    pub fn checked(&self) -> Vec<&CheckedOperation> {
        self.with(|o| matches!(o, CheckOutcome::Checked { .. }))
    }

    /// The operations not called, each with its reason.
    pub fn skipped(&self) -> Vec<&CheckedOperation> {
        self.with(|o| matches!(o, CheckOutcome::Skipped { .. }))
    }

    /// The operations the platform answered with a business error, each
    /// with the error and the params sent.
    pub fn refused(&self) -> Vec<&CheckedOperation> {
        self.with(|o| matches!(o, CheckOutcome::Refused { .. }))
    }

    /// The operations whose exchange failed, each with its error.
    pub fn failures(&self) -> Vec<&CheckedOperation> {
        self.with(|o| matches!(o, CheckOutcome::Failed { .. }))
    }

    /// Every operation whose answer was not compared with the spec
    /// (skipped, refused or failed), in the spec's order. None of them is
    /// drift.
    pub fn not_checked(&self) -> Vec<&CheckedOperation> {
        self.with(|o| !o.is_checked())
    }

    fn with(&self, wanted: impl Fn(&CheckOutcome) -> bool) -> Vec<&CheckedOperation> {
        self.operations
            .iter()
            .filter(|o| wanted(&o.outcome))
            .collect()
    }
}

/// Calls every operation of the table once and compares each answer with
/// its 200 response schema: a paginated one for its first page at its
/// largest page size, one without pagination with a `paramContent` built
/// from the spec (see [`first_request`]). The same as [`check_with`] with
/// no params given.
pub async fn check(client: &Client) -> Result<DriftReport, Error> {
    check_with(client, &CheckOptions::default()).await
}

/// [`check`], sending the params `options` gives an operation instead of
/// the ones invented from the spec. Each operation's outcome is reported
/// and the others are still checked when one is not: an operation with no
/// params to send is [`CheckOutcome::Skipped`], one the platform answered
/// with a business error (a check needs real data) is
/// [`CheckOutcome::Refused`], one whose exchange failed is
/// [`CheckOutcome::Failed`]. Returns `Err` only when no operation could be
/// checked and one was refused or failed: the first such error.
pub async fn check_with(client: &Client, options: &CheckOptions) -> Result<DriftReport, Error> {
    // The embedded spec is JSON (the SDK's build checks it); were it not,
    // every answer would be reported unchecked against an empty document.
    let spec: &Value = match &options.spec {
        Some(spec) => spec,
        None => schema::document().unwrap_or(&Value::Null),
    };
    let mut report = DriftReport {
        spec_version: match &options.spec {
            Some(spec) => spec
                .pointer("/info/version")
                .and_then(Value::as_str)
                .unwrap_or("(no info.version)")
                .to_string(),
            None => SPEC_VERSION.to_string(),
        },
        spec_sha256: options.spec.is_none().then_some(SPEC_SHA256),
        operations: Vec::new(),
        drifts: Vec::new(),
    };
    let pages = options.pages.clamp(1, MAX_PAGES);
    let concurrency = if options.concurrency == 0 {
        DEFAULT_CONCURRENCY
    } else {
        options.concurrency
    };
    // Bounded and in the spec's order: hundreds of operations take the
    // time of the slowest few, never more than `concurrency` at once.
    let mut checks = stream::iter(OperationSpec::all())
        .map(|op| check_operation(client, spec, options, op, pages))
        .buffered(concurrency);
    while let Some((checked, drifts)) = checks.next().await {
        if let Some(progress) = &options.progress {
            (progress.0)(&checked);
        }
        report.drifts.extend(drifts);
        report.operations.push(checked);
    }
    if report.checked().is_empty()
        && let Some(index) = report.operations.iter().position(|o| {
            matches!(
                o.outcome,
                CheckOutcome::Failed { .. } | CheckOutcome::Refused { .. }
            )
        })
    {
        match report.operations.swap_remove(index).outcome {
            CheckOutcome::Failed { error } | CheckOutcome::Refused { error, .. } => {
                return Err(error);
            }
            _ => unreachable!("matched above"),
        }
    }
    Ok(report)
}

/// One operation of [`check_with`]: its first page (or up to `pages`
/// pages), compared with its response schema.
async fn check_operation(
    client: &Client,
    spec: &Value,
    options: &CheckOptions,
    op: &'static OperationSpec,
    pages: usize,
) -> (CheckedOperation, Vec<Drift>) {
    let given = options.params.get(op.operation_id);
    let request = match given {
        Some(params) => Ok(Some(complete_first_page(op, params.clone()))),
        None => first_request_in(spec, op),
    };
    let response_schema = response_schema_in(spec, op);
    let mut answers = Vec::new();
    let mut drifts: Vec<Drift> = Vec::new();
    let outcome = match request {
        Err(reason) => CheckOutcome::Skipped { reason },
        Ok(param_content) => {
            let mut outcome = None;
            let mut next = param_content.clone();
            for page in 0..pages {
                match shiheng::dynamic::of(op)
                    .call_whole(client, next.clone())
                    .await
                {
                    Ok(reply) => {
                        let body = reply.body;
                        let found = compare_in(spec, op.operation_id, &response_schema, &body);
                        merge(&mut drifts, found);
                        if page == 0 {
                            outcome = Some(CheckOutcome::Checked {
                                status: reply.status,
                                trace_id: body
                                    .get("traceId")
                                    .and_then(Value::as_str)
                                    .map(str::to_owned),
                            });
                        }
                        next = next_page(op, next.as_ref(), &body);
                        answers.push(body);
                        if next.is_none() {
                            break;
                        }
                    }
                    // A later page that fails ends the walk; what was
                    // read is still checked.
                    Err(_) if page > 0 => break,
                    Err(error) if error.kind() == ErrorKind::Api => {
                        outcome = Some(CheckOutcome::Refused {
                            error,
                            params: param_content.clone(),
                            given: given.is_some(),
                        });
                        break;
                    }
                    Err(error) => {
                        outcome = Some(CheckOutcome::Failed { error });
                        break;
                    }
                }
            }
            match outcome {
                Some(outcome) => outcome,
                None => CheckOutcome::Skipped {
                    reason: "no page was read".into(),
                },
            }
        }
    };
    let checked = CheckedOperation {
        operation: op.operation_id.to_string(),
        path: op.path.to_string(),
        outcome,
        answers,
    };
    (checked, drifts)
}

/// `found` (one page's drifts) counted into `drifts` (the earlier pages'):
/// the same difference at the same place is one drift with the sum of the
/// occurrences, where it was first seen.
fn merge(drifts: &mut Vec<Drift>, found: Vec<Drift>) {
    for drift in found {
        let key = blank_indices(&drift.path);
        match drifts.iter_mut().find(|d| {
            d.kind == drift.kind && d.detail == drift.detail && blank_indices(&d.path) == key
        }) {
            Some(seen) => seen.occurrences += drift.occurrences,
            None => drifts.push(drift),
        }
    }
}

/// The `paramContent` of the page after the one `sent` asked for, from
/// the answer `body` and the operation's pagination: the next page number
/// while the answer has items (and, when it says how many pages there
/// are, up to that), or the answer's next cursor while it is not null and
/// moves. `None`: no next page (or the operation does not page).
pub fn next_page(op: &OperationSpec, sent: Option<&Value>, body: &Value) -> Option<Value> {
    let pagination = op.pagination?;
    let sent = sent?.as_object()?;
    let result = body.get("result")?;
    let position = pagination.position().name;
    let current = sent.get(position).and_then(Value::as_i64)?;
    let next = match pagination.style {
        PaginationStyle::PageNumber { pages, .. } => {
            let items = result.get(pagination.items).and_then(Value::as_array);
            if items.is_none_or(|i| i.is_empty()) {
                return None;
            }
            if let Some(pages) = pages.and_then(|p| result.get(p)).and_then(Value::as_i64)
                && current >= pages
            {
                return None;
            }
            current.checked_add(1)?
        }
        PaginationStyle::Cursor { next_cursor, .. } => {
            let next = result.get(next_cursor).and_then(Value::as_i64)?;
            if next == current {
                return None;
            }
            next
        }
        _ => return None,
    };
    let mut params = sent.clone();
    params.insert(position.to_string(), json!(next));
    Some(Value::Object(params))
}

/// The schema of `op`'s 200 answer in `spec`: the one its path's `post`
/// gives, else the SDK table's component of that name.
pub fn response_schema_in(spec: &Value, op: &OperationSpec) -> Value {
    operation_in(spec, op)
        .and_then(|o| o.pointer("/responses/200/content/application~1json/schema"))
        .cloned()
        .unwrap_or_else(|| json!({ "$ref": format!("{REF_PREFIX}{}", op.response_schema) }))
}

fn operation_in<'s>(spec: &'s Value, op: &OperationSpec) -> Option<&'s Value> {
    spec.get("paths")?.get(op.path)?.get("post")
}

/// Params given for `op`, as [`check_with`] sends them: those of a
/// paginated operation ask for its first page at its largest page size
/// where they name neither; any other value is sent as it is.
pub fn complete_first_page(op: &OperationSpec, mut params: Value) -> Value {
    if let (Some(pagination), Value::Object(map)) = (op.pagination, &mut params) {
        map.entry(pagination.position().name.to_string())
            .or_insert_with(|| json!(first_position(&pagination)));
        map.entry(pagination.page_size.name.to_string())
            .or_insert_with(|| json!(pagination.page_size.bounds.max));
    }
    params
}

/// The `paramContent` [`check`] sends to `op`, or why it cannot:
/// - every field the params schema requires gets the spec's `example` for
///   it, else its `default`, else its first `enum` value, else its
///   `minimum`; an object field is built the same way from its own
///   required fields;
/// - a paginated operation then asks for its first page (page 1 or cursor
///   0, or the spec's minimum) at its largest page size;
/// - `Ok(None)` when the operation takes no `paramContent`, or takes an
///   optional one the spec gives no values for;
/// - `Err` naming the first required field with none of those.
pub fn first_request(op: &OperationSpec) -> Result<Option<Value>, String> {
    first_request_in(schema::document()?, op)
}

/// [`first_request`] from what `spec` says of the operation's request (the
/// schema its path's `post` gives, else the SDK table's component).
pub fn first_request_in(spec: &Value, op: &OperationSpec) -> Result<Option<Value>, String> {
    let named = schema::component(spec, op.request_schema);
    let request = operation_in(spec, op)
        .and_then(|o| o.pointer("/requestBody/content/application~1json/schema"))
        .and_then(|s| resolve(spec, s))
        .or(named)
        .unwrap_or(&Value::Null);
    let Some(params) = schema::property(spec, request, "paramContent") else {
        return Ok(None);
    };
    let invented = invent(spec, params, "paramContent", 0);
    let Some(pagination) = op.pagination else {
        return match invented {
            Ok(value) => Ok(Some(value)),
            Err(_) if !op.params_required => Ok(None),
            Err(field) => Err(format!(
                "paramContent needs `{field}`, and the spec gives no example, default or minimum to send"
            )),
        };
    };
    let mut value = invented.map_err(|field| {
        format!("paramContent needs `{field}`, and the spec gives no example, default or minimum to send")
    })?;
    if let Value::Object(map) = &mut value {
        map.insert(
            pagination.position().name.to_string(),
            json!(first_position(&pagination)),
        );
        map.insert(
            pagination.page_size.name.to_string(),
            json!(pagination.page_size.bounds.max),
        );
    }
    Ok(Some(value))
}

/// Where a listing starts: page 1 or cursor 0, or the spec's minimum.
fn first_position(pagination: &Pagination) -> i64 {
    let least = pagination.position().bounds.min;
    match pagination.style {
        PaginationStyle::PageNumber { .. } => least.max(1),
        // A cursor, and any style a later table adds: from its least.
        _ => least.max(0),
    }
}

/// A value for a required field, from what the spec says of it; `Err`
/// with the field's path when it says nothing usable.
fn invent(spec: &Value, schema: &Value, path: &str, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(path.to_string());
    }
    for key in ["example", "default"] {
        if let Some(value) = schema.get(key) {
            return Ok(value.clone());
        }
    }
    let schema = resolve(spec, schema).ok_or_else(|| path.to_string())?;
    for key in ["example", "default"] {
        if let Some(value) = schema.get(key) {
            return Ok(value.clone());
        }
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return Ok(first.clone());
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") if schema.get("minimum").is_some() => {
            Ok(json!(schema::integer_bounds(schema).0))
        }
        Some("number") if schema.get("minimum").is_some() => {
            Ok(schema.get("minimum").cloned().unwrap_or(json!(0)))
        }
        Some("object") | None
            if schema.get("properties").is_some() || schema.get("type").is_some() =>
        {
            let mut map = Map::new();
            for field in schema::required(schema) {
                let property = schema
                    .get("properties")
                    .and_then(|p| p.get(field))
                    .ok_or_else(|| format!("{path}.{field}"))?;
                let value = invent(spec, property, &format!("{path}.{field}"), depth + 1)?;
                map.insert(field.to_string(), value);
            }
            Ok(Value::Object(map))
        }
        _ => Err(path.to_string()),
    }
}

/// Compares `json` with the spec's `components.schemas.<schema_name>` and
/// returns every difference, each named after `operation`, in the order
/// the walker met them; the same difference at the same place of several
/// array items is one [`Drift`] with a count. An unknown schema name is
/// itself reported (as [`DriftKind::Unchecked`]).
pub fn compare(operation: &str, schema_name: &str, json: &Value) -> Vec<Drift> {
    match schema::document() {
        Ok(spec) => {
            let schema = json!({ "$ref": format!("{REF_PREFIX}{schema_name}") });
            compare_in(spec, operation, &schema, json)
        }
        Err(detail) => vec![Drift {
            operation: operation.to_string(),
            path: String::new(),
            kind: DriftKind::Unchecked,
            detail,
            occurrences: 1,
        }],
    }
}

/// [`compare`] with any `schema` of any `spec` (a `$ref` to one of its
/// components, or an inline schema).
pub fn compare_in(spec: &Value, operation: &str, schema: &Value, json: &Value) -> Vec<Drift> {
    let findings = schema::walk(spec, schema, json, Rules::every_difference());
    let mut drifts: Vec<Drift> = Vec::new();
    let mut seen: HashMap<(String, DriftKind, String), usize> = HashMap::new();
    let mut count = |finding: &Finding| {
        let detail = finding.problem.to_string();
        let key = (blank_indices(&finding.path), finding.kind(), detail.clone());
        match seen.get(&key) {
            Some(&i) => drifts[i].occurrences += 1,
            None => {
                seen.insert(key, drifts.len());
                drifts.push(Drift {
                    operation: operation.to_string(),
                    path: finding.path.clone(),
                    kind: finding.kind(),
                    detail,
                    occurrences: 1,
                });
            }
        }
    };
    visit(&findings, &mut count);
    drifts
}

/// Each finding, a value that fits no branch of an `anyOf` as the closest
/// branch's findings when a branch has its type.
pub(crate) fn visit(findings: &[Finding], each: &mut impl FnMut(&Finding)) {
    for finding in findings {
        match &finding.problem {
            Problem::NoForm { closest, .. } if !closest.is_empty() => visit(closest, each),
            _ => each(finding),
        }
    }
}

/// `result.result[3].phone` → `result.result[].phone`.
fn blank_indices(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_schema_and_hostile_values_do_not_panic() {
        let drifts = compare("x", "NoSuchSchema", &json!({}));
        assert_eq!(drifts[0].kind, DriftKind::Unchecked);
        let any = OperationSpec::all()[0].response_schema;
        let mut deep = json!(1);
        for _ in 0..200 {
            deep = json!({ "result": deep });
        }
        let _ = compare("x", any, &deep);
        let _ = compare("x", any, &json!([1, "a", null]));
    }

    #[test]
    fn every_paginated_operation_asks_for_its_first_page_at_the_largest_size() {
        for op in OperationSpec::all() {
            let Some(pagination) = op.pagination else {
                continue;
            };
            let params = first_request(op).expect("a first page").expect("params");
            let start = params[pagination.position().name].as_i64().expect("start");
            assert!(start == 0 || start == 1, "{}: {params}", op.operation_id);
            assert_eq!(
                params[pagination.page_size.name],
                json!(pagination.page_size.bounds.max)
            );
        }
    }

    #[test]
    fn next_page_follows_the_pagination_and_stops() {
        let body = |fields: &[(&str, Value)]| {
            let result: Map<String, Value> = fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            json!({ "result": result })
        };
        for op in OperationSpec::all() {
            let Some(pagination) = op.pagination else {
                continue;
            };
            let first = first_request(op).expect("a first page");
            let position = pagination.position().name;
            let start = first.as_ref().expect("params")[position]
                .as_i64()
                .expect("start");
            match pagination.style {
                PaginationStyle::PageNumber { pages, .. } => {
                    let mut fields = vec![(pagination.items, json!([{}]))];
                    if let Some(pages) = pages {
                        fields.push((pages, json!(start + 1)));
                    }
                    let next = next_page(op, first.as_ref(), &body(&fields)).expect("next");
                    assert_eq!(next[position], json!(start + 1));
                    let last = next_page(op, Some(&next), &body(&fields));
                    assert!(pages.is_none() || last.is_none(), "{last:?}");
                    let empty = body(&[(pagination.items, json!([]))]);
                    assert_eq!(next_page(op, first.as_ref(), &empty), None);
                }
                PaginationStyle::Cursor { next_cursor, .. } => {
                    let next = next_page(op, first.as_ref(), &body(&[(next_cursor, json!(77))]));
                    assert_eq!(next.expect("next")[position], json!(77));
                    let end = body(&[(next_cursor, Value::Null)]);
                    assert_eq!(next_page(op, first.as_ref(), &end), None);
                    let stuck = body(&[(next_cursor, json!(start))]);
                    assert_eq!(next_page(op, first.as_ref(), &stuck), None);
                }
                _ => {}
            }
        }
    }

    #[test]
    fn required_fields_come_from_example_default_enum_or_minimum() {
        let spec = json!({"components": {"schemas": {
            "Code": {"type": "string", "example": "sh001"},
            "Params": {"type": "object", "required": ["a", "b", "c", "d", "e", "f"],
                "properties": {
                    "a": {"$ref": "#/components/schemas/Code"},
                    "b": {"type": "integer", "default": 7},
                    "c": {"type": "string", "enum": ["x", "y"]},
                    "d": {"type": "integer", "format": "int32", "minimum": 3},
                    "e": {"type": "object", "required": ["g"],
                          "properties": {"g": {"type": "boolean", "example": false}}},
                    "f": {"type": "string", "example": "given", "minLength": 1},
                    "optional": {"type": "string"}}},
            "Needy": {"type": "object", "required": ["name"],
                      "properties": {"name": {"type": "string"}}}
        }}});
        let params = json!({"$ref": "#/components/schemas/Params"});
        assert_eq!(
            invent(&spec, &params, "paramContent", 0),
            Ok(json!({"a": "sh001", "b": 7, "c": "x", "d": 3, "e": {"g": false}, "f": "given"}))
        );
        let needy = json!({"$ref": "#/components/schemas/Needy"});
        assert_eq!(
            invent(&spec, &needy, "paramContent", 0),
            Err("paramContent.name".to_string())
        );
    }
}
