//! From a read page to spec fragments, following the conventions of
//! `spec/shiheng-open.yaml`: the shared envelope components, one
//! `<OperationId>Request`/`<OperationId>Response` pair, a params schema, a
//! payload and an item schema, `x-pagination` inferred from the field names,
//! every response field nullable, wire forms the platform is known to send
//! (PhoneNumber, PlatformTime, FollowUserFlag) reused, and the sample's
//! contradictions written in where they change decoding.

mod operation;
mod request;
mod response;

use serde_json::Value;

use super::page::{Field, FieldType, Page, Problem};
use super::prose;
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

/// A request path the spec can hold and the platform can serve: `/`, then
/// segments of letters, digits, `-`, `_`, `.` and `~` (URL-unreserved
/// characters), none empty, none `.` or `..`; no query, fragment or
/// template (`{id}`: the importer defines no path parameters).
fn check_path(path: &str) -> Result<(), String> {
    let like = "must be a path like /x/y/list";
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("--path `{path}` {like}"));
    };
    if rest.is_empty() {
        return Err(format!("--path `{path}` {like}"));
    }
    for segment in rest.split('/') {
        let why = if segment.is_empty() {
            "has an empty segment (`//` or a trailing `/`)".to_string()
        } else if segment == "." || segment == ".." {
            format!("has a `{segment}` segment")
        } else if let Some(c) = segment
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-_.~".contains(*c)))
        {
            match c {
                '?' => "has a query (`?`)".to_string(),
                '#' => "has a fragment (`#`)".to_string(),
                '{' | '}' => "has a template (`{…}`), and the importer defines no path parameters"
                    .to_string(),
                c => format!("has the character {c:?}"),
            }
        } else {
            continue;
        };
        return Err(format!(
            "--path `{}` {why}: it {like} (letters, digits, - _ . ~ between slashes)",
            path.escape_debug()
        ));
    }
    Ok(())
}

/// Maps a read page onto spec fragments, noting every decision in `report`.
pub fn map(
    page: &Page,
    spec: &Value,
    options: &Options,
    report: &mut Report,
) -> Result<Fragment, String> {
    let path = options.path.trim();
    check_path(path)?;
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

    // ---- request and response schemas ---------------------------------------
    mapper.request_envelope(
        &request_name,
        operation_id,
        page.request.as_ref().map(|t| t.fields.as_slice()),
        &format!("{payload_name}Params"),
        &pagination,
    );
    mapper.response_envelope(
        &response_name,
        operation_id,
        &payload_name,
        payload_row,
        &payload_ty,
        &payload_rows,
        items_field,
        &pagination,
    );

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

/// A schema without the words (description, example) and the Rust client's
/// own refinements (`x-shiheng-type`), to compare shapes.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| {
                    !matches!(k.as_str(), "description" | "example" | "x-shiheng-type")
                })
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
