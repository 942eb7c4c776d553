//! From a read page to spec fragments, following the conventions of
//! `spec/shiheng-open.yaml`: the shared envelope components, one
//! `<OperationId>Request`/`<OperationId>Response` pair, a params schema, a
//! payload and an item schema, `x-pagination` inferred from the field names,
//! every response field nullable, wire forms the platform is known to send
//! (PhoneNumber, PlatformTime, FollowUserFlag) reused, and the sample's
//! contradictions written in where they change decoding.

use serde_json::Value;

use super::page::{Field, FieldType, Page, Problem};
use super::prose::{self, Bounds};
use super::report::Report;
use super::sample::{self, Observations, Observed};
use super::yaml::Yaml;

/// What the command line says about the operation.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--path`: the request path.
    pub path: String,
    /// `--operation-id`.
    pub operation_id: String,
    /// `--cli-command`: written as `x-cli-command`.
    pub cli_command: Option<String>,
    /// Overrides the item name the rule would choose.
    pub item: Option<String>,
}

/// Everything an import adds to the spec.
#[derive(Debug)]
pub struct Fragment {
    /// The request path, the key under `paths`.
    pub path: String,
    /// The path item: `post: {...}`.
    pub path_item: Yaml,
    /// New components, in the order they are written.
    pub schemas: Vec<(String, Yaml)>,
    /// A tag to declare, when the spec has none for the path's first segment.
    pub new_tag: Option<(String, String)>,
    /// The sample fixture: file name and text.
    pub sample: Option<(String, String)>,
    /// Rows or cells that could not be read: `--write` refuses.
    pub unreadable: usize,
}

/// Components every operation refers to; the importer never writes them.
const ENVELOPE: [(&str, &str, FieldType); 4] = [
    ("appId", "AppId", FieldType::String),
    ("sign", "Sign", FieldType::String),
    ("version", "ApiVersion", FieldType::String),
    ("timestamp", "Timestamp", FieldType::Integer),
];
const RESPONSE_ENVELOPE: [(&str, &str); 3] = [
    ("code", "ResultCode"),
    ("msg", "ResultMessage"),
    ("traceId", "TraceId"),
];

/// Names of the payload field that holds the items, by preference.
const ITEM_ARRAYS: &[&str] = &["result", "list", "records", "items", "rows", "data"];
const PAGE_PARAMS: &[&str] = &[
    "pageNum",
    "pageNo",
    "page",
    "currentPage",
    "current",
    "pageIndex",
];
const SIZE_PARAMS: &[&str] = &["pageSize", "size", "limit", "pageLimit", "perPage"];
const PAGES_FIELDS: &[&str] = &["pages", "totalPage", "totalPages", "pageCount"];
const TOTAL_FIELDS: &[&str] = &["total", "totalCount", "totalNum", "totalSize"];

/// The wire forms the spec already declares, by the field names they fit.
const PHONE_NUMBER: &str = "PhoneNumber";
const PLATFORM_TIME: &str = "PlatformTime";
const FOLLOW_USER_FLAG: &str = "FollowUserFlag";

/// How a request field takes part in pagination (its example follows it).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Page,
    PageSize,
    Cursor,
    Other,
}

/// The pagination the page shows.
#[derive(Debug, Clone)]
enum Pagination {
    PageNumber {
        page: String,
        size: String,
        pages: String,
        total: String,
    },
    Cursor {
        cursor: String,
        size: String,
        next: String,
        /// The cursor's description says items come after it by id.
        keyed: bool,
    },
}

struct Mapper<'a> {
    spec: &'a Value,
    report: &'a mut Report,
    schemas: Vec<(String, Yaml)>,
    observations: Observations,
    /// `result.` when the sample had the envelope, for the report's paths.
    sample_prefix: String,
    item: String,
    unreadable: usize,
    /// Fields the sample sent as null, for one report line.
    nulls: Vec<String>,
    /// Fields the tables name that the sample lacks.
    absent: Vec<String>,
}

/// Maps a read page onto spec fragments, noting every decision in `report`.
pub fn map(
    page: &Page,
    spec: &Value,
    options: &Options,
    report: &mut Report,
) -> Result<Fragment, String> {
    let path = options.path.trim();
    if !path.starts_with('/') || path.len() < 2 || !path.chars().all(|c| c.is_ascii_graphic()) {
        return Err(format!("--path `{path}` must be a path like /x/y/list"));
    }
    let operation_id = options.operation_id.trim();
    if operation_id.is_empty()
        || !operation_id.starts_with(|c: char| c.is_ascii_lowercase())
        || !operation_id.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(format!(
            "--operation-id `{operation_id}` must be lowerCamelCase, like listWecomTags"
        ));
    }
    if let Some(command) = &options.cli_command
        && (command.is_empty()
            || !command.starts_with(|c: char| c.is_ascii_lowercase())
            || !command
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    {
        return Err(format!(
            "--cli-command `{command}` must be kebab-case, like wecom-tags"
        ));
    }
    for name in ENVELOPE
        .iter()
        .map(|(_, c, _)| *c)
        .chain(RESPONSE_ENVELOPE.iter().map(|(_, c)| *c))
    {
        if spec
            .pointer(&format!("/components/schemas/{name}"))
            .is_none()
        {
            return Err(format!(
                "the spec has no components.schemas.{name}: the importer maps the envelope onto the shared components"
            ));
        }
    }
    let Some(response) = &page.response else {
        return Err(
            "the page has no response table (`名称 | 必选 | 类型 | 默认值 | 描述 |` after the request table)"
                .into(),
        );
    };
    report.unreadable.extend(page.problems.iter().cloned());
    report.read.push(match &page.request {
        Some(t) => format!(
            "request table, lines {}–{}: {} rows",
            t.lines.0,
            t.lines.1,
            count(&t.fields)
        ),
        None => "no request table: the request is the bare envelope".into(),
    });
    report.read.push(format!(
        "response table, lines {}–{}: {} rows",
        response.lines.0,
        response.lines.1,
        count(&response.fields)
    ));
    for (line, text) in &page.ignored {
        report.read.push(format!(
            "line {line} is not a table or the sample, ignored: {}",
            shorten(text)
        ));
    }

    let tag = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    if let Some(item) = &options.item
        && !(item.starts_with(|c: char| c.is_ascii_uppercase())
            && item.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(format!("--item `{item}` must be UpperCamelCase, like Tag"));
    }
    let item = options
        .item
        .clone()
        .unwrap_or_else(|| prose::item_name(operation_id, &tag));
    let mut mapper = Mapper {
        spec,
        report,
        schemas: Vec::new(),
        observations: Observations::default(),
        sample_prefix: String::new(),
        item: item.clone(),
        unreadable: page.problems.len(),
        nulls: Vec::new(),
        absent: Vec::new(),
    };

    // ---- the answer: envelope or not, payload rows, items ----------------
    let top = &response.fields;
    let envelope_in_table =
        top.iter().any(|f| f.name == "code") && top.iter().any(|f| f.name == "result");
    let (payload_rows, payload_ty, payload_row) = if envelope_in_table {
        for field in top {
            match RESPONSE_ENVELOPE.iter().find(|(n, _)| *n == field.name) {
                Some((name, _)) if field.ty != FieldType::String => {
                    mapper.report.contradictions.push(format!(
                        "the table types envelope `{name}` {} (line {}); the shared component is a string",
                        field.ty.label(),
                        field.line
                    ));
                }
                Some(_) => {}
                None if field.name == "result" => {}
                None => mapper.report.warnings.push(format!(
                    "response envelope field `{}` (line {}) is not part of the shared envelope: left out",
                    field.name, field.line
                )),
            }
        }
        let result = top
            .iter()
            .find(|f| f.name == "result")
            .expect("checked above");
        mapper.report.mapping.push(format!(
            "the response table includes the envelope (code, msg, traceId, result): its `result` (line {}) is the payload",
            result.line
        ));
        (result.children.clone(), result.ty.clone(), Some(result))
    } else {
        (top.clone(), FieldType::Object, None)
    };

    // ---- the sample ------------------------------------------------------
    if let Some(found) = &page.sample {
        let (payload, envelope_problems) = match sample::split_envelope(&found.value) {
            Some((payload, problems)) => {
                mapper.sample_prefix = "result.".into();
                (payload, problems)
            }
            None => (&found.value, Vec::new()),
        };
        mapper.report.read.push(format!(
            "sample, {}: {}",
            if found.lines.0 == found.lines.1 {
                format!("line {}", found.lines.0)
            } else {
                format!("lines {}–{}", found.lines.0, found.lines.1)
            },
            if mapper.sample_prefix.is_empty() {
                "the payload alone"
            } else {
                "with the envelope"
            }
        ));
        mapper.report.contradictions.extend(envelope_problems);
        if payload.is_null() {
            mapper
                .report
                .warnings
                .push("the sample's result is null: nothing to hold against the tables".into());
        }
        mapper.observations = Observations::collect(
            &payload_rows,
            payload,
            matches!(payload_ty, FieldType::Array(_)),
        );
    } else {
        mapper.report.warnings.push(
            "the page has no sample JSON after the tables: nothing was checked against a real answer"
                .into(),
        );
    }

    // ---- request ---------------------------------------------------------
    let request_rows: Vec<Field> = page
        .request
        .as_ref()
        .map(|t| t.fields.clone())
        .unwrap_or_default();
    let params_row = request_rows.iter().find(|f| f.name == "paramContent");
    let params_fields: Vec<Field> = params_row.map(|p| p.children.clone()).unwrap_or_default();

    // ---- pagination ------------------------------------------------------
    let items_field = match &payload_ty {
        FieldType::Object => ITEM_ARRAYS.iter().find_map(|name| {
            payload_rows
                .iter()
                .find(|f| f.name == *name && f.ty == FieldType::Array(Box::new(FieldType::Object)))
        }),
        _ => None,
    };
    let pagination = mapper.pagination(&params_fields, &payload_rows, items_field);

    // ---- names -----------------------------------------------------------
    let upper = prose::upper_camel(operation_id);
    let request_name = format!("{upper}Request");
    let response_name = format!("{upper}Response");
    let payload_name = match (&payload_ty, &pagination, items_field) {
        (FieldType::Object, Some(_), _) => format!("{item}Page"),
        (FieldType::Object, None, Some(_)) => format!("{item}List"),
        (FieldType::Object, None, None) => item.clone(),
        (FieldType::Array(_), _, _) => format!("{item}List"),
        _ => format!("{upper}Result"),
    };
    let verb = prose::words(operation_id)
        .first()
        .filter(|w| prose::READ_VERBS.contains(&w.as_str()))
        .cloned();
    mapper.report.names.push(format!(
        "item `{item}`: {}",
        if options.item.is_some() {
            "from --item".to_string()
        } else {
            format!(
                "the operationId without {}the tag `{tag}`, its last word singular",
                verb.map(|v| format!("its verb `{v}` and "))
                    .unwrap_or_default()
            )
        }
    ));
    mapper.report.names.push(format!(
        "`{request_name}` and `{response_name}`: the operationId in UpperCamelCase + Request/Response"
    ));
    mapper.report.names.push(format!(
        "payload `{payload_name}`: {}",
        match (&payload_ty, &pagination, items_field) {
            (FieldType::Object, Some(_), _) => "<item>Page (a page of items)",
            (FieldType::Object, None, Some(_)) => "<item>List (items without pagination)",
            (FieldType::Object, None, None) => "the item itself (the answer is one object)",
            (FieldType::Array(_), _, _) => "<item>List (the answer is an array)",
            _ => "<OperationId>Result (the answer is a single value)",
        }
    ));
    mapper
        .report
        .names
        .push("nested objects: <Owner><Field> (arrays: the field's last word singular)".into());

    // ---- request schemas ---------------------------------------------------
    let mut request_props: Vec<(String, Yaml)> = Vec::new();
    let mut request_required: Vec<Yaml> = Vec::new();
    let mut envelope_seen = Vec::new();
    for (name, component, ty) in &ENVELOPE {
        request_props.push((name.to_string(), Yaml::schema_ref(component)));
        request_required.push(Yaml::str(*name));
        match request_rows.iter().find(|f| f.name == *name) {
            Some(row) => {
                envelope_seen.push(*name);
                if row.ty != *ty {
                    mapper.report.contradictions.push(format!(
                        "the table types envelope `{name}` {} (line {}); the shared `{component}` is {}",
                        row.ty.label(),
                        row.line,
                        ty.label()
                    ));
                }
            }
            None if page.request.is_some() => mapper.report.warnings.push(format!(
                "the request table has no `{name}` row: the shared envelope has it anyway"
            )),
            None => {}
        }
    }
    if !envelope_seen.is_empty() {
        mapper.report.mapping.push(format!(
            "envelope rows {} → the shared AppId, Sign, ApiVersion, Timestamp",
            envelope_seen.join(", ")
        ));
    }
    if let Some(row) = params_row {
        let required = match row.required {
            Some(r) => r,
            None => {
                mapper.unreadable(
                    row,
                    "`paramContent` has no 必选 (是/否): its requiredness is not guessed",
                );
                true
            }
        };
        let name = mapper.params_schema(
            &format!("{payload_name}Params"),
            row,
            &params_fields,
            &pagination,
        );
        request_props.push(("paramContent".into(), Yaml::schema_ref(&name)));
        if required {
            request_required.push(Yaml::str("paramContent"));
        }
        mapper.report.mapping.push(format!(
            "paramContent ({}, line {}) → `{name}`",
            if required { "required" } else { "optional" },
            row.line
        ));
    }
    for row in &request_rows {
        if ENVELOPE.iter().any(|(n, _, _)| *n == row.name) || row.name == "paramContent" {
            continue;
        }
        mapper.report.warnings.push(format!(
            "request row `{}` (line {}) is neither the envelope nor inside paramContent: added to `{request_name}` as written",
            row.name, row.line
        ));
        let schema = mapper.request_property(row, &request_name, Role::Other);
        request_props.push((row.name.clone(), schema));
        if row.required == Some(true) {
            request_required.push(Yaml::str(&row.name));
        }
    }
    let request_description = match params_row.map(|r| r.required) {
        Some(Some(false)) => format!(
            "Request envelope of {operation_id}. The platform marks paramContent optional on this endpoint."
        ),
        _ => format!("Request envelope of {operation_id}."),
    };
    mapper.schemas.insert(
        0,
        (
            request_name.clone(),
            Yaml::Map(vec![
                ("type".into(), Yaml::str("object")),
                ("description".into(), Yaml::Str(request_description)),
                ("required".into(), Yaml::Flow(request_required)),
                ("properties".into(), Yaml::Map(request_props)),
            ]),
        ),
    );

    // ---- response schemas --------------------------------------------------
    let response_slot = mapper.schemas.len();
    mapper
        .schemas
        .push((response_name.clone(), Yaml::Map(Vec::new())));
    let payload_description = payload_row
        .map(|r| r.description.clone())
        .unwrap_or_default();
    mapper.payload_schema(
        &payload_name,
        &payload_ty,
        &payload_rows,
        items_field.map(|f| f.name.as_str()),
        &pagination,
        &payload_description,
    );
    let mut envelope_props: Vec<(String, Yaml)> = RESPONSE_ENVELOPE
        .iter()
        .map(|(n, c)| (n.to_string(), Yaml::schema_ref(c)))
        .collect();
    envelope_props.push(("result".into(), Yaml::schema_ref(&payload_name)));
    mapper.schemas[response_slot].1 = Yaml::Map(vec![
        ("type".into(), Yaml::str("object")),
        (
            "description".into(),
            Yaml::Str(format!("Response envelope of {operation_id}.")),
        ),
        ("required".into(), Yaml::Flow(vec![Yaml::str("code")])),
        ("properties".into(), Yaml::Map(envelope_props)),
    ]);
    mapper.report.mapping.push(format!(
        "the answer → `{response_name}` (code, msg, traceId → ResultCode, ResultMessage, TraceId; result → `{payload_name}`)"
    ));
    mapper
        .report
        .mapping
        .push("every response field is optional and nullable, as in the rest of the spec".into());

    // ---- the operation -----------------------------------------------------
    let operation = mapper.operation(
        operation_id,
        &tag,
        &request_name,
        &response_name,
        &pagination,
        items_field.map(|f| f.name.as_str()),
        options.cli_command.as_deref(),
    );
    mapper.sample_findings();
    let new_tag = match spec.get("tags").and_then(Value::as_array) {
        Some(tags)
            if tags
                .iter()
                .any(|t| t.get("name").and_then(Value::as_str) == Some(&tag)) =>
        {
            None
        }
        _ => {
            mapper.report.mapping.push(format!(
                "tag `{tag}` (the path's first segment) is not declared: it is added to `tags`"
            ));
            Some((tag.clone(), format!("Operations under /{tag}/.")))
        }
    };
    let sample = page.sample.as_ref().map(|s| {
        let file = format!("{}.json", path.trim_matches('/').replace('/', "-"));
        (file, super::page::pretty(&s.text))
    });
    if let Some((file, _)) = &sample {
        mapper.report.names.push(format!(
            "sample fixture `tests/fixtures/samples/{file}`: the path with `/` as `-`, like the existing fixtures"
        ));
    }
    Ok(Fragment {
        path: path.to_string(),
        path_item: Yaml::Map(vec![("post".into(), operation)]),
        schemas: mapper.schemas,
        new_tag,
        sample,
        unreadable: mapper.unreadable,
    })
}

fn count(fields: &[Field]) -> usize {
    fields.iter().map(|f| 1 + count(&f.children)).sum()
}

fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(60).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// `English (中文).`, `中文` alone when the name has no known English, or
/// `English.` when the page gave no words.
fn describe(field: &Field) -> String {
    let chinese = field.description.trim();
    // Inside the parentheses a final full stop would double the one after them.
    let chinese = chinese.trim_end_matches(['.', '。']);
    let mut text = match (prose::english(&field.name), chinese.is_empty()) {
        (Some(english), false) => format!("{english} ({chinese})."),
        (Some(english), true) => format!("{english}."),
        (None, false) => chinese.to_string(),
        (None, true) => String::new(),
    };
    if let Some(default) = &field.default {
        text.push_str(&format!(" Default on the page: {default}."));
    }
    text
}

fn is_id(name: &str) -> bool {
    name == "id" || name.ends_with("Id") || name.ends_with("ID") || name.ends_with("Ids")
}

fn is_time(name: &str) -> bool {
    name == "time"
        || name.ends_with("Time")
        || name.ends_with("At")
        || name.to_ascii_lowercase().ends_with("timestamp")
}

fn is_phone(name: &str) -> bool {
    name == "phone" || name.ends_with("Phone")
}

/// `int64` for ids, times, counts and cursors; `int32` otherwise.
fn int_format(name: &str, wide: bool) -> &'static str {
    if wide
        || is_id(name)
        || is_time(name)
        || PAGES_FIELDS.contains(&name)
        || TOTAL_FIELDS.contains(&name)
        || name.to_ascii_lowercase().starts_with("next")
    {
        "int64"
    } else {
        "int32"
    }
}

/// A schema without the words (description, example), to compare shapes.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "description" | "example"))
                .map(|(k, v)| {
                    let v = if k == "required" {
                        // Order of `required` carries no meaning.
                        let mut list: Vec<Value> = v.as_array().cloned().unwrap_or_default();
                        list.sort_by_key(|a| a.to_string());
                        Value::Array(list)
                    } else {
                        shape(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        other => other.clone(),
    }
}

impl Mapper<'_> {
    fn unreadable(&mut self, field: &Field, why: &str) {
        self.unreadable += 1;
        self.report.unreadable.push(Problem {
            line: field.line,
            text: field.name.clone(),
            why: why.to_string(),
        });
    }

    fn existing(&self, name: &str) -> Option<&Value> {
        self.spec.pointer(&format!("/components/schemas/{name}"))
    }

    fn display(&self, key: &str) -> String {
        format!("{}{key}", self.sample_prefix)
    }

    fn pagination(
        &mut self,
        params: &[Field],
        payload: &[Field],
        items: Option<&Field>,
    ) -> Option<Pagination> {
        let find = |fields: &[Field], names: &[&str]| {
            names
                .iter()
                .find_map(|n| {
                    fields
                        .iter()
                        .find(|f| f.name == *n && f.ty == FieldType::Integer)
                })
                .map(|f| f.name.clone())
        };
        let page = find(params, PAGE_PARAMS);
        let size = find(params, SIZE_PARAMS);
        let cursor_field = params.iter().find(|f| {
            let lower = f.name.to_ascii_lowercase();
            f.ty == FieldType::Integer
                && (lower == "cursor"
                    || (["start", "last", "since", "from", "min"]
                        .iter()
                        .any(|p| lower.starts_with(p))
                        && lower.ends_with("id")))
        });
        let pages = find(payload, PAGES_FIELDS);
        let total = find(payload, TOTAL_FIELDS);
        let next = payload
            .iter()
            .find(|f| f.name.to_ascii_lowercase().starts_with("next") && f.ty == FieldType::Integer)
            .map(|f| f.name.clone());
        let found = match (&page, &size, &pages, &total, cursor_field, &next) {
            (Some(page), Some(size), Some(pages), Some(total), _, _) => {
                Some(Pagination::PageNumber {
                    page: page.clone(),
                    size: size.clone(),
                    pages: pages.clone(),
                    total: total.clone(),
                })
            }
            (_, Some(size), _, _, Some(cursor), Some(next)) => {
                let (_, written) = prose::bounds(&cursor.description).unwrap_or_default();
                let words = cursor.description.replace(&written, " ");
                let keyed = words.contains("大于")
                    || words.contains('>')
                    || words.to_ascii_lowercase().contains("greater than");
                Some(Pagination::Cursor {
                    cursor: cursor.name.clone(),
                    size: size.clone(),
                    next: next.clone(),
                    keyed,
                })
            }
            _ => None,
        };
        let hints = [
            page.as_deref(),
            size.as_deref(),
            cursor_field.map(|f| f.name.as_str()),
            pages.as_deref(),
            total.as_deref(),
            next.as_deref(),
        ];
        match (&found, items) {
            (Some(_), None) => {
                self.report.operation.push(
                    "no x-pagination: the paging fields are there but the answer has no array of objects (result, list, records...) to page through"
                        .into(),
                );
                None
            }
            (Some(_), Some(items))
                if !items
                    .children
                    .iter()
                    .any(|f| f.name == "id" && f.ty == FieldType::Integer) =>
            {
                self.report.operation.push(format!(
                    "no x-pagination: the items (`{}`) have no integer `id` for the paginators to drop duplicates by",
                    items.name
                ));
                None
            }
            (None, _) if hints.iter().any(Option::is_some) => {
                let present: Vec<&str> = hints.iter().flatten().copied().collect();
                self.report.operation.push(format!(
                    "no x-pagination: found only {} (page-number needs a page number and size in the request and pages and total in the answer; cursor needs a start id and size in the request and a next id in the answer)",
                    present.join(", ")
                ));
                None
            }
            _ => found,
        }
    }

    fn params_schema(
        &mut self,
        name: &str,
        row: &Field,
        fields: &[Field],
        pagination: &Option<Pagination>,
    ) -> String {
        let role = |field: &str| match pagination {
            Some(Pagination::PageNumber { page, size, .. }) if field == page => Role::Page,
            Some(Pagination::PageNumber { size, .. } | Pagination::Cursor { size, .. })
                if field == size =>
            {
                Role::PageSize
            }
            Some(Pagination::Cursor { cursor, .. }) if field == cursor => Role::Cursor,
            _ => Role::Other,
        };
        let mark = self.schemas.len();
        let schema = self.object_schema(name, fields, &|f| role(f), &row.description);
        // The spec already holding the same parameters (say CursorPageParams):
        // refer to it rather than write a twin.
        let wanted = shape(&schema.to_json());
        let reused = self
            .spec
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .and_then(|all| {
                all.iter()
                    .find(|(n, s)| n.ends_with("Params") && shape(s) == wanted)
                    .map(|(n, _)| n.clone())
            });
        if let Some(existing) = reused {
            // Nested components it wrote are the existing one's too.
            self.schemas.truncate(mark);
            self.report.mapping.push(format!(
                "paramContent's fields are exactly `{existing}`'s (same fields, types, bounds, required): reused"
            ));
            return existing;
        }
        self.schemas.insert(mark, (name.to_string(), schema));
        name.to_string()
    }

    /// A request object: required from 是, bounds from the descriptions.
    fn object_schema(
        &mut self,
        name: &str,
        fields: &[Field],
        role: &dyn Fn(&str) -> Role,
        chinese: &str,
    ) -> Yaml {
        let mut required = Vec::new();
        let mut props = Vec::new();
        for field in fields {
            match field.required {
                Some(true) => required.push(Yaml::str(&field.name)),
                Some(false) => {}
                None => self.unreadable(
                    field,
                    &format!(
                        "request field `{}` has no 必选 (是/否): not guessed",
                        field.name
                    ),
                ),
            }
            let schema = self.request_property(field, name, role(&field.name));
            props.push((field.name.clone(), schema));
        }
        let description = if chinese.is_empty() {
            "Parameters (参数内容).".to_string()
        } else {
            format!("Parameters ({chinese}).")
        };
        let mut entries = vec![
            ("type".into(), Yaml::str("object")),
            ("description".into(), Yaml::Str(description)),
        ];
        if !required.is_empty() {
            entries.push(("required".into(), Yaml::Flow(required)));
        }
        entries.push(("properties".into(), Yaml::Map(props)));
        Yaml::Map(entries)
    }

    fn request_property(&mut self, field: &Field, owner: &str, role: Role) -> Yaml {
        match &field.ty {
            FieldType::Object => {
                let name = format!("{owner}{}", prose::upper_camel(&field.name));
                let slot = self.schemas.len();
                self.schemas.push((name.clone(), Yaml::Map(Vec::new())));
                let schema = self.object_schema(
                    &name,
                    &field.children,
                    &|_| Role::Other,
                    &field.description,
                );
                self.schemas[slot].1 = schema;
                Yaml::schema_ref(&name)
            }
            FieldType::Array(inner) => {
                let items = if **inner == FieldType::Object {
                    let name = format!(
                        "{owner}{}",
                        prose::singular(&prose::upper_camel(&field.name))
                    );
                    let slot = self.schemas.len();
                    self.schemas.push((name.clone(), Yaml::Map(Vec::new())));
                    let schema = self.object_schema(
                        &name,
                        &field.children,
                        &|_| Role::Other,
                        &field.description,
                    );
                    self.schemas[slot].1 = schema;
                    Yaml::schema_ref(&name)
                } else {
                    Yaml::Map(self.scalar(inner, &prose::singular(&field.name), false, None))
                };
                let mut entries = vec![("type".into(), Yaml::str("array"))];
                push_description(&mut entries, field);
                entries.push(("items".into(), items));
                Yaml::Map(entries)
            }
            ty => {
                let bounds = prose::bounds(&field.description);
                let mut entries = self.scalar(ty, &field.name, false, None);
                match (&bounds, ty) {
                    (Some((b, written)), FieldType::Integer | FieldType::Number) => {
                        let format_max = match int_format(&field.name, false) {
                            "int32" => i64::from(i32::MAX),
                            _ => i64::MAX,
                        };
                        let number = |n: f64| {
                            if *ty == FieldType::Integer {
                                Yaml::Int(n as i64)
                            } else {
                                Yaml::Float(n)
                            }
                        };
                        let mut added = Vec::new();
                        if let Some(min) = b.min {
                            entries.push(("minimum".into(), number(min)));
                            added.push(format!("minimum {min}"));
                        }
                        match (b.max, ty) {
                            (Some(max), _) => {
                                entries.push(("maximum".into(), number(max)));
                                added.push(format!("maximum {max}"));
                            }
                            // As the spec writes a lower bound alone: up to the format's limit.
                            (None, FieldType::Integer) if b.min.is_some() => {
                                entries.push(("maximum".into(), Yaml::Int(format_max)));
                                added.push(format!("maximum {format_max} (the format's limit)"));
                            }
                            _ => {}
                        }
                        self.report.mapping.push(format!(
                            "`{}` (line {}): `{written}` → {}",
                            field.name,
                            field.line,
                            added.join(", ")
                        ));
                    }
                    (Some((_, written)), _) => self.report.warnings.push(format!(
                        "`{}` (line {}) is a {} with bounds `{written}`: kept in the description only (a length is not guessed)",
                        field.name,
                        field.line,
                        ty.label()
                    )),
                    (None, _) => {}
                }
                let description = describe(field);
                if !description.is_empty() {
                    entries.push(("description".into(), Yaml::Str(description)));
                }
                let example = match (role, &bounds) {
                    (Role::Page | Role::Cursor, Some((Bounds { min: Some(min), .. }, _))) => {
                        Some(*min as i64)
                    }
                    (Role::PageSize, Some((Bounds { max: Some(max), .. }, _))) => Some(*max as i64),
                    _ => None,
                };
                if let Some(example) = example {
                    entries.push(("example".into(), Yaml::Int(example)));
                }
                self.known_values(field, &mut entries, None);
                Yaml::Map(entries)
            }
        }
    }

    /// `type`/`format` (and `nullable`) of a scalar.
    fn scalar(
        &self,
        ty: &FieldType,
        name: &str,
        nullable: bool,
        observed: Option<&Observed>,
    ) -> Vec<(String, Yaml)> {
        let mut entries = Vec::new();
        match ty {
            FieldType::Integer => {
                let wide = observed.is_some_and(|o| {
                    o.values.iter().any(|(v, _)| {
                        v.as_i64().is_none_or(|n| i32::try_from(n).is_err()) && v.is_number()
                    })
                });
                entries.push(("type".into(), Yaml::str("integer")));
                entries.push(("format".into(), Yaml::str(int_format(name, wide))));
            }
            FieldType::Number => entries.push(("type".into(), Yaml::str("number"))),
            FieldType::Boolean => entries.push(("type".into(), Yaml::str("boolean"))),
            FieldType::String => entries.push(("type".into(), Yaml::str("string"))),
            FieldType::Object => entries.push(("type".into(), Yaml::str("object"))),
            FieldType::Array(_) => entries.push(("type".into(), Yaml::str("array"))),
        }
        if nullable {
            entries.push(("nullable".into(), Yaml::Bool(true)));
        }
        entries
    }

    /// `x-known-values` from a value list in the description, plus the
    /// values the sample sends beyond it.
    fn known_values(
        &mut self,
        field: &Field,
        entries: &mut Vec<(String, Yaml)>,
        key: Option<&str>,
    ) {
        let documented = prose::known_values(&field.description);
        if documented.is_empty() {
            return;
        }
        let as_string = field.ty == FieldType::String;
        let mut values: Vec<Yaml> = documented
            .iter()
            .map(|k| {
                if as_string {
                    Yaml::Str(k.value.to_string())
                } else {
                    Yaml::Int(k.value)
                }
            })
            .collect();
        let listed: Vec<String> = documented
            .iter()
            .map(|k| {
                if as_string {
                    format!("\"{}\"", k.value)
                } else {
                    k.value.to_string()
                }
            })
            .collect();
        self.report.mapping.push(format!(
            "`{}` (line {}): the value list in its description → x-known-values [{}]",
            field.name,
            field.line,
            listed.join(", ")
        ));
        if let Some(key) = key
            && let Some(observed) = self.observations.fields.get(key)
        {
            for (value, times) in &observed.values {
                let new = match value {
                    Value::Number(n) if !as_string => n.as_i64().map(Yaml::Int),
                    Value::String(s) if as_string => Some(Yaml::Str(s.clone())),
                    _ => None,
                };
                let Some(new) = new else { continue };
                if values.contains(&new) {
                    continue;
                }
                self.report.contradictions.push(format!(
                    "`{}`: the sample sends {value} ({times} {}), which the table's list ({}) does not name → added to x-known-values",
                    self.display(key),
                    if *times == 1 { "time" } else { "times" },
                    listed.join(", ")
                ));
                values.push(new);
            }
        }
        entries.push(("x-known-values".into(), Yaml::Flow(values)));
    }

    /// The payload component: a page, a list, or the object itself.
    fn payload_schema(
        &mut self,
        name: &str,
        ty: &FieldType,
        rows: &[Field],
        items: Option<&str>,
        pagination: &Option<Pagination>,
        chinese: &str,
    ) {
        let slot = self.schemas.len();
        self.schemas.push((name.to_string(), Yaml::Map(Vec::new())));
        let item = self.item.clone();
        let schema = match ty {
            FieldType::Object => {
                let what = match (pagination, items) {
                    (Some(_), Some(_)) => format!("One page of {item} items"),
                    (None, Some(_)) => format!("The {item} items"),
                    _ => "The answer".to_string(),
                };
                let description = if chinese.is_empty() {
                    format!("{what}; null when the call failed.")
                } else {
                    format!("{what} ({chinese}); null when the call failed.")
                };
                let mut props = Vec::new();
                for row in rows {
                    let counts = match pagination {
                        Some(Pagination::PageNumber { pages, total, .. }) => {
                            row.name == *pages || row.name == *total
                        }
                        _ => false,
                    };
                    let schema = if Some(row.name.as_str()) == items {
                        self.items_property(row, &item)
                    } else {
                        let mut schema = self.response_property(row, name, &row.name);
                        if counts && let Yaml::Map(entries) = &mut schema {
                            // Counts cannot be negative (as the spec's EmployeePage).
                            let at = entries
                                .iter()
                                .position(|(k, _)| k == "nullable")
                                .unwrap_or(2);
                            entries.insert(at, ("minimum".into(), Yaml::Int(0)));
                        }
                        schema
                    };
                    props.push((row.name.clone(), schema));
                }
                self.extras(&mut props, "");
                let mut entries = vec![
                    ("type".into(), Yaml::str("object")),
                    ("nullable".into(), Yaml::Bool(true)),
                    ("description".into(), Yaml::Str(description)),
                ];
                entries.push(("properties".into(), Yaml::Map(props)));
                Yaml::Map(entries)
            }
            FieldType::Array(inner) if **inner == FieldType::Object => {
                let row = Field {
                    name: "result".into(),
                    line: 0,
                    required: None,
                    ty: ty.clone(),
                    description: chinese.to_string(),
                    default: None,
                    children: rows.to_vec(),
                };
                self.item_schema(&item, &row, "[].");
                Yaml::Map(vec![
                    ("type".into(), Yaml::str("array")),
                    ("nullable".into(), Yaml::Bool(true)),
                    (
                        "description".into(),
                        Yaml::Str(format!("The {item} items; null when the call failed.")),
                    ),
                    ("items".into(), Yaml::schema_ref(&item)),
                ])
            }
            other => {
                let mut entries = self.scalar(other, "result", true, None);
                entries.push((
                    "description".into(),
                    Yaml::Str("The answer; null when the call failed.".into()),
                ));
                Yaml::Map(entries)
            }
        };
        self.schemas[slot].1 = schema;
    }

    /// The items array of a page: `type: array` of the item component.
    fn items_property(&mut self, row: &Field, item: &str) -> Yaml {
        self.item_schema(item, row, &format!("{}[].", row.name));
        let mut entries = vec![
            ("type".into(), Yaml::str("array")),
            ("nullable".into(), Yaml::Bool(true)),
        ];
        let description = if row.description.is_empty() {
            "This page's items.".to_string()
        } else {
            format!("This page's items ({}).", row.description)
        };
        entries.push(("description".into(), Yaml::Str(description)));
        entries.push(("items".into(), Yaml::schema_ref(item)));
        Yaml::Map(entries)
    }

    fn item_schema(&mut self, name: &str, row: &Field, prefix: &str) {
        let slot = self.schemas.len();
        self.schemas.push((name.to_string(), Yaml::Map(Vec::new())));
        let mut props = Vec::new();
        for field in &row.children {
            let schema = self.response_property(field, name, &format!("{prefix}{}", field.name));
            props.push((field.name.clone(), schema));
        }
        self.extras(&mut props, prefix);
        let description = if row.description.is_empty() {
            format!("One {name}. Every field may be absent or null.")
        } else {
            format!(
                "One {name} ({}). Every field may be absent or null.",
                row.description
            )
        };
        self.schemas[slot].1 = Yaml::Map(vec![
            ("type".into(), Yaml::str("object")),
            ("description".into(), Yaml::Str(description)),
            ("properties".into(), Yaml::Map(props)),
        ]);
    }

    /// A response field: nullable, wire forms where the platform sends more
    /// than the table says, nested objects as components.
    fn response_property(&mut self, field: &Field, owner: &str, key: &str) -> Yaml {
        let observed = self.observations.fields.get(key).cloned();
        self.note_presence(key, field, observed.as_ref());
        match &field.ty {
            FieldType::Object => {
                let name = format!("{owner}{}", prose::upper_camel(&field.name));
                if field.children.is_empty() {
                    let mut entries = self.scalar(&FieldType::Object, &field.name, true, None);
                    push_description(&mut entries, field);
                    return Yaml::Map(entries);
                }
                let slot = self.schemas.len();
                self.schemas.push((name.clone(), Yaml::Map(Vec::new())));
                let mut props = Vec::new();
                for child in &field.children {
                    let schema =
                        self.response_property(child, &name, &format!("{key}.{}", child.name));
                    props.push((child.name.clone(), schema));
                }
                self.extras(&mut props, &format!("{key}."));
                let mut entries = vec![
                    ("type".into(), Yaml::str("object")),
                    ("nullable".into(), Yaml::Bool(true)),
                ];
                push_description(&mut entries, field);
                entries.push(("properties".into(), Yaml::Map(props)));
                self.schemas[slot].1 = Yaml::Map(entries);
                Yaml::schema_ref(&name)
            }
            FieldType::Array(inner) => {
                let items = if **inner == FieldType::Object {
                    let name = format!(
                        "{owner}{}",
                        prose::singular(&prose::upper_camel(&field.name))
                    );
                    self.item_schema(&name, field, &format!("{key}[]."));
                    Yaml::schema_ref(&name)
                } else {
                    let element = self.observations.fields.get(&format!("{key}[]")).cloned();
                    if let Some(element) = &element {
                        let unexpected = element.unexpected(allowed(inner));
                        if !unexpected.is_empty() {
                            self.report.contradictions.push(format!(
                                "`{}[]`: the table types the elements {}, the sample sends {}: not changed (no wire form is declared for array elements)",
                                self.display(key),
                                inner.label(),
                                unexpected.join(", ")
                            ));
                        }
                    }
                    Yaml::Map(self.scalar(
                        inner,
                        &prose::singular(&field.name),
                        false,
                        element.as_ref(),
                    ))
                };
                let mut entries = vec![
                    ("type".into(), Yaml::str("array")),
                    ("nullable".into(), Yaml::Bool(true)),
                ];
                push_description(&mut entries, field);
                entries.push(("items".into(), items));
                Yaml::Map(entries)
            }
            ty => self.scalar_response(field, ty, owner, key, observed.as_ref()),
        }
    }

    fn scalar_response(
        &mut self,
        field: &Field,
        ty: &FieldType,
        owner: &str,
        key: &str,
        observed: Option<&Observed>,
    ) -> Yaml {
        let unexpected: Vec<&str> = observed
            .map(|o| o.unexpected(allowed(ty)))
            .unwrap_or_default();
        let documented = prose::known_values(&field.description);
        let shown = self.display(key);
        // A boolean the table documents as 0/1, or sent as an integer: both forms.
        let zero_one =
            !documented.is_empty() && documented.iter().all(|k| k.value == 0 || k.value == 1);
        if *ty == FieldType::Boolean && (zero_one || unexpected == ["integer"]) {
            if unexpected == ["integer"] {
                self.report.contradictions.push(format!(
                    "`{shown}`: the table types it boolean, the sample sends integers → boolean or 0/1"
                ));
            }
            return self.wire_form(
                field,
                owner,
                FOLLOW_USER_FLAG,
                &format!(
                    "boolean documented as {} → boolean or the integers 0/1",
                    if zero_one {
                        "0/1 in prose"
                    } else {
                        "sent as integers"
                    }
                ),
            );
        }
        if *ty == FieldType::String
            && (is_phone(&field.name) || is_time(&field.name) || unexpected == ["integer"])
        {
            let (component, why) = if is_phone(&field.name) {
                (
                    PHONE_NUMBER,
                    "a phone number: string or integer, read as text digit for digit",
                )
            } else if is_time(&field.name) {
                (
                    PLATFORM_TIME,
                    "a time: the platform sends text or epoch milliseconds",
                )
            } else {
                ("", "")
            };
            if !unexpected.is_empty() {
                self.report.contradictions.push(format!(
                    "`{shown}`: the table types it string, the sample sends {} ({}){}",
                    unexpected.join(", "),
                    observed
                        .map(|o| o
                            .values
                            .iter()
                            .filter(|(v, _)| !v.is_string())
                            .map(|(v, _)| v.to_string())
                            .collect::<Vec<_>>()
                            .join(", "))
                        .unwrap_or_default(),
                    if component.is_empty() {
                        String::new()
                    } else {
                        format!(" → `{component}` accepts both")
                    }
                ));
            }
            if !component.is_empty() {
                return self.spec_wire_form(field, component, why);
            }
        }
        if !unexpected.is_empty() {
            if unexpected != ["integer"] || *ty != FieldType::String {
                self.report.contradictions.push(format!(
                    "`{shown}`: the table types it {}, the sample sends {}",
                    ty.label(),
                    unexpected.join(", ")
                ));
            }
            return self.any_of(field, ty, owner, &unexpected);
        }
        let mut entries = self.scalar(ty, &field.name, true, observed);
        push_description(&mut entries, field);
        if let Some(example) = observed.and_then(example) {
            entries.push(("example".into(), example));
        }
        self.known_values(field, &mut entries, Some(key));
        let schema = Yaml::Map(entries);
        // A component of the same shape named after the field (NextStartId) or
        // after the item and the field (EmployeeStatus): refer to it.
        let wanted = shape(&schema.to_json());
        let field_upper = prose::upper_camel(&field.name);
        for candidate in [field_upper.clone(), format!("{owner}{field_upper}")] {
            if let Some(existing) = self.existing(&candidate)
                && shape(existing) == wanted
            {
                self.report.mapping.push(format!(
                    "`{}` has the shape of the existing `{candidate}`: reused",
                    field.name
                ));
                return Yaml::schema_ref(&candidate);
            }
        }
        schema
    }

    /// One of the spec's own wire-form components (PhoneNumber, PlatformTime).
    fn spec_wire_form(&mut self, field: &Field, component: &str, why: &str) -> Yaml {
        if self.existing(component).is_none() {
            self.report.warnings.push(format!(
                "`{}` is {why}, but the spec has no `{component}`: typed string as the table says",
                field.name
            ));
            let mut entries = self.scalar(&FieldType::String, &field.name, true, None);
            push_description(&mut entries, field);
            return Yaml::Map(entries);
        }
        self.report.mapping.push(format!(
            "`{}` (line {}) is {why} → `{component}`",
            field.name, field.line
        ));
        Yaml::schema_ref(component)
    }

    /// The boolean-or-0/1 form: the spec's `FollowUserFlag` for that field,
    /// otherwise a component of the same shape for this field.
    fn wire_form(&mut self, field: &Field, owner: &str, component: &str, why: &str) -> Yaml {
        if prose::upper_camel(&field.name) == component && self.existing(component).is_some() {
            self.report.mapping.push(format!(
                "`{}` (line {}): {why} → `{component}`",
                field.name, field.line
            ));
            return Yaml::schema_ref(component);
        }
        let name = format!("{owner}{}", prose::upper_camel(&field.name));
        let mut entries = Vec::new();
        push_description(&mut entries, field);
        entries.push((
            "anyOf".into(),
            Yaml::Seq(vec![
                Yaml::Map(vec![
                    ("type".into(), Yaml::str("boolean")),
                    ("nullable".into(), Yaml::Bool(true)),
                ]),
                Yaml::Map(vec![
                    ("type".into(), Yaml::str("integer")),
                    ("format".into(), Yaml::str("int32")),
                    ("minimum".into(), Yaml::Int(0)),
                    ("maximum".into(), Yaml::Int(1)),
                    ("nullable".into(), Yaml::Bool(true)),
                ]),
            ]),
        ));
        self.schemas.push((name.clone(), Yaml::Map(entries)));
        self.report.mapping.push(format!(
            "`{}` (line {}): {why} → `{name}` (anyOf, as FollowUserFlag)",
            field.name, field.line
        ));
        self.lenient_warning(&name, "crate::lenient::Flag");
        Yaml::schema_ref(&name)
    }

    /// A field the sample sends in another JSON type than the table says:
    /// an `anyOf` of both.
    fn any_of(&mut self, field: &Field, ty: &FieldType, owner: &str, unexpected: &[&str]) -> Yaml {
        let name = format!("{owner}{}", prose::upper_camel(&field.name));
        let mut branches = vec![Yaml::Map(self.scalar(ty, &field.name, true, None))];
        for kind in unexpected {
            let extra = match *kind {
                "integer" => FieldType::Integer,
                "number" => FieldType::Number,
                "boolean" => FieldType::Boolean,
                "string" => FieldType::String,
                "object" => FieldType::Object,
                _ => FieldType::Array(Box::new(FieldType::String)),
            };
            let mut entries = self.scalar(&extra, &field.name, true, None);
            if let FieldType::Array(_) = extra {
                entries.insert(1, ("items".into(), Yaml::Map(Vec::new())));
            }
            branches.push(Yaml::Map(entries));
        }
        let mut entries = Vec::new();
        push_description(&mut entries, field);
        entries.push(("anyOf".into(), Yaml::Seq(branches)));
        self.schemas.push((name.clone(), Yaml::Map(entries)));
        self.report.mapping.push(format!(
            "`{}` (line {}) → `{name}`: anyOf {} or {}, as the sample sends",
            field.name,
            field.line,
            ty.label(),
            unexpected.join(" or ")
        ));
        self.lenient_warning(&name, "a hand-written type in src/lenient.rs");
        Yaml::schema_ref(&name)
    }

    fn lenient_warning(&mut self, name: &str, rust: &str) {
        self.report.warnings.push(format!(
            "`{name}` is an anyOf of scalars: the Rust generator (typify) cannot decode that by itself; map it in build.rs LENIENT_TYPES (to {rust}) before relying on the Rust client"
        ));
    }

    /// Sample fields no table names: added when the sample shows one scalar
    /// type; otherwise only reported.
    fn extras(&mut self, props: &mut Vec<(String, Yaml)>, prefix: &str) {
        // Taken out, so that what no schema takes is reported at the end.
        let (extras, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.observations.extras)
            .into_iter()
            .partition(|(at, _, _)| at == prefix);
        self.observations.extras = rest;
        for (_, name, observed) in extras {
            let name = name.as_str();
            let shown = self.display(&format!("{prefix}{name}"));
            if !super::page::is_identifier(name) {
                self.report.contradictions.push(format!(
                    "`{shown}` is in the sample but in no table, and is not a field name: not added"
                ));
                continue;
            }
            let ty = match observed.kinds.as_slice() {
                ["string"] => Some(FieldType::String),
                ["integer"] => Some(FieldType::Integer),
                ["number"] | ["integer", "number"] | ["number", "integer"] => {
                    Some(FieldType::Number)
                }
                ["boolean"] => Some(FieldType::Boolean),
                _ => None,
            };
            match ty {
                Some(ty) => {
                    let mut entries = self.scalar(&ty, name, true, Some(&observed));
                    entries.push((
                        "description".into(),
                        Yaml::str("Not in the platform's tables; seen in its published sample."),
                    ));
                    if let Some(example) = example(&observed) {
                        entries.push(("example".into(), example));
                    }
                    props.push((name.to_string(), Yaml::Map(entries)));
                    self.report.contradictions.push(format!(
                        "`{shown}` is in the sample but in no table → added as a nullable {}",
                        ty.label()
                    ));
                }
                None => self.report.contradictions.push(format!(
                    "`{shown}` is in the sample but in no table, sent as {}: not added (its type is not guessed); drift checks will report it",
                    if observed.kinds.is_empty() { "null only".to_string() } else { observed.kinds.join(" and ") }
                )),
            }
        }
    }

    fn note_presence(&mut self, key: &str, field: &Field, observed: Option<&Observed>) {
        let Some(observed) = observed else {
            return;
        };
        let shown = self.display(key);
        if observed.present == 0 && observed.absent > 0 {
            self.absent.push(shown);
        } else if observed.nulls > 0 {
            self.nulls.push(format!("{shown} ({})", field.ty.label()));
        }
    }

    /// The grouped findings: nulls, absent fields, misshapen objects, and
    /// sample fields inside objects the tables do not describe.
    fn sample_findings(&mut self) {
        for (at, key, _) in std::mem::take(&mut self.observations.extras) {
            let shown = self.display(&format!("{at}{key}"));
            self.report.contradictions.push(format!(
                "`{shown}` is in the sample inside an object the tables do not describe: not added"
            ));
        }
        if !self.nulls.is_empty() {
            self.report.contradictions.push(format!(
                "null where the tables document a type, in {} field{}: {} → nullable (every response field is)",
                self.nulls.len(),
                if self.nulls.len() == 1 { "" } else { "s" },
                self.nulls.join(", ")
            ));
        }
        if !self.absent.is_empty() {
            self.report.contradictions.push(format!(
                "in the tables but absent from the sample: {} → optional (every response field is)",
                self.absent.join(", ")
            ));
        }
        for (key, documented, sent) in std::mem::take(&mut self.observations.misshapen) {
            let shown = self.display(&key);
            self.report.contradictions.push(format!(
                "`{shown}`: the table documents an {documented}, the sample sends {sent}: not changed (no wire form for objects)"
            ));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn operation(
        &mut self,
        operation_id: &str,
        tag: &str,
        request: &str,
        response: &str,
        pagination: &Option<Pagination>,
        items: Option<&str>,
        cli_command: Option<&str>,
    ) -> Yaml {
        let summary = prose::summary(operation_id);
        let (summary, description) = match pagination {
            Some(Pagination::PageNumber { .. }) => (
                format!("{summary}, one page at a time"),
                "Page-number pagination, imported from the platform's page.",
            ),
            Some(Pagination::Cursor { .. }) => (
                format!("{summary} by cursor"),
                "Cursor pagination, imported from the platform's page.",
            ),
            None => (summary, "One call, imported from the platform's page."),
        };
        let mut entries = vec![
            ("tags".into(), Yaml::Flow(vec![Yaml::str(tag)])),
            ("operationId".into(), Yaml::str(operation_id)),
            ("summary".into(), Yaml::Str(summary)),
            ("description".into(), Yaml::str(description)),
        ];
        if prose::is_read(operation_id) {
            entries.push(("x-idempotent".into(), Yaml::Bool(true)));
            self.report.operation.push(format!(
                "x-idempotent: true (`{}` is a read verb: list, query, get, page, search, find, fetch, count, batch)",
                prose::words(operation_id)[0]
            ));
        } else {
            self.report.operation.push(
                "no x-idempotent: the operationId does not start with a read verb (list, query, get...), so a client will not retry it blindly"
                    .into(),
            );
        }
        let items = items.unwrap_or("result").to_string();
        match pagination {
            Some(Pagination::PageNumber {
                page,
                size,
                pages,
                total,
            }) => {
                entries.push((
                    "x-pagination".into(),
                    Yaml::Map(vec![
                        ("style".into(), Yaml::str("page-number")),
                        ("page".into(), Yaml::str(page)),
                        ("pageSize".into(), Yaml::str(size)),
                        ("pages".into(), Yaml::str(pages)),
                        ("total".into(), Yaml::str(total)),
                        ("items".into(), Yaml::str(&items)),
                        ("itemId".into(), Yaml::str("id")),
                    ]),
                ));
                self.report.operation.push(format!(
                    "x-pagination page-number: the request has {page} and {size}, the answer {pages} and {total}; items `{items}`, itemId `id`"
                ));
            }
            Some(Pagination::Cursor {
                cursor,
                size,
                next,
                keyed,
            }) => {
                let mut pagination = vec![
                    ("style".into(), Yaml::str("cursor")),
                    ("cursor".into(), Yaml::str(cursor)),
                    ("pageSize".into(), Yaml::str(size)),
                    ("nextCursor".into(), Yaml::str(next)),
                    ("items".into(), Yaml::str(&items)),
                    ("itemId".into(), Yaml::str("id")),
                ];
                if *keyed {
                    pagination.push(("cursorKey".into(), Yaml::str("id")));
                }
                entries.push(("x-pagination".into(), Yaml::Map(pagination)));
                self.report.operation.push(format!(
                    "x-pagination cursor: the request has {cursor} and {size}, the answer {next}; items `{items}`, itemId `id`"
                ));
                if *keyed {
                    self.report.operation.push(format!(
                        "cursorKey: id — `{cursor}`'s description says items come with an id greater than it (the cursor is a monotone integer key; the next cursor is the last item's id)"
                    ));
                }
            }
            None => {
                if !self
                    .report
                    .operation
                    .iter()
                    .any(|l| l.starts_with("no x-pagination"))
                {
                    self.report
                        .operation
                        .push("no x-pagination: the request has no page number or start id".into());
                }
            }
        }
        match cli_command {
            Some(command) => {
                entries.push(("x-cli-command".into(), Yaml::str(command)));
                self.report
                    .operation
                    .push(format!("x-cli-command: {command} (the CLI's subcommand)"));
            }
            None => self.report.operation.push(format!(
                "no x-cli-command: the CLI will name the command `{}` (the operationId in kebab-case)",
                prose::kebab(operation_id)
            )),
        }
        entries.push(("security".into(), Yaml::Flow(Vec::new())));
        entries.push((
            "requestBody".into(),
            Yaml::Map(vec![
                ("required".into(), Yaml::Bool(true)),
                ("content".into(), json_content(request)),
            ]),
        ));
        let mut responses = vec![(
            "200".into(),
            Yaml::Map(vec![
                (
                    "description".into(),
                    Yaml::str("The response envelope; `code` says whether the call succeeded."),
                ),
                ("content".into(), json_content(response)),
            ]),
        )];
        if self
            .spec
            .pointer("/components/responses/InvalidRequest")
            .is_some()
        {
            responses.push((
                "400".into(),
                Yaml::Map(vec![(
                    "$ref".into(),
                    Yaml::str("#/components/responses/InvalidRequest"),
                )]),
            ));
        }
        entries.push(("responses".into(), Yaml::Map(responses)));
        Yaml::Map(entries)
    }
}

fn json_content(schema: &str) -> Yaml {
    Yaml::Map(vec![(
        "application/json".into(),
        Yaml::Map(vec![("schema".into(), Yaml::schema_ref(schema))]),
    )])
}

fn push_description(entries: &mut Vec<(String, Yaml)>, field: &Field) {
    let description = describe(field);
    if !description.is_empty() {
        entries.push(("description".into(), Yaml::Str(description)));
    }
}

/// The JSON kinds a documented type accepts.
fn allowed(ty: &FieldType) -> &'static [&'static str] {
    match ty {
        FieldType::String => &["string"],
        FieldType::Integer => &["integer"],
        FieldType::Number => &["integer", "number"],
        FieldType::Boolean => &["boolean"],
        FieldType::Object => &["object"],
        FieldType::Array(_) => &["array"],
    }
}

/// The first value the sample sent, unless it is a placeholder (`xxxx`).
fn example(observed: &Observed) -> Option<Yaml> {
    observed.values.iter().find_map(|(value, _)| match value {
        Value::Number(n) => n
            .as_i64()
            .map(Yaml::Int)
            .or_else(|| n.as_f64().map(Yaml::Float)),
        Value::String(s) if !s.chars().all(|c| c == 'x' || c == 'X') && s.chars().count() <= 60 => {
            Some(Yaml::Str(s.clone()))
        }
        Value::Bool(b) => Some(Yaml::Bool(*b)),
        _ => None,
    })
}
