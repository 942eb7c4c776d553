//! Data a user gives the sandbox instead of generated data: per operation,
//! the items of a paginated one or the `result` of one without pagination,
//! as Rust values or JSON files (`DIR/<operationId>.json`). Owns reading
//! such a directory and checking the data against the spec's schemas before
//! the sandbox serves anything, with errors that name the file, the item
//! and the field.

use std::fmt;
use std::path::Path;

use serde_json::Value;

use super::validate::{self, UnknownFields};
use shiheng::operation::OperationSpec;
use shiheng_spec::schema::{self as spec, REF_PREFIX};

/// Data for one operation, given by the user.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SandboxData {
    /// The items of a paginated operation. A page-number listing serves them
    /// in this order; a cursor listing in ascending order of its cursor key
    /// (which every item then needs).
    Items {
        /// The items, each an object of the operation's item schema.
        items: Vec<Value>,
        /// Where they came from, for error messages (a file's path).
        origin: String,
    },
    /// The `result` of an operation without pagination.
    Result {
        /// The result, of the operation's result schema.
        result: Value,
        /// Where it came from, for error messages (a file's path).
        origin: String,
    },
}

impl SandboxData {
    /// Where the data came from.
    pub fn origin(&self) -> &str {
        match self {
            SandboxData::Items { origin, .. } | SandboxData::Result { origin, .. } => origin,
        }
    }
}

/// Data the sandbox cannot serve: what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataError {
    /// Where the data came from: a file's path, or the call that gave it
    /// (`with_items(<operationId>)`).
    pub origin: String,
    /// The index of the item at fault (from 0), when one is.
    pub item: Option<usize>,
    /// The field at fault (`phone`, `tags[2]`), when one is.
    pub field: Option<String>,
    /// What is wrong.
    pub problem: String,
}

impl DataError {
    pub(crate) fn new(
        origin: &str,
        item: Option<usize>,
        field: Option<&str>,
        problem: impl Into<String>,
    ) -> Self {
        Self {
            origin: origin.to_string(),
            item,
            field: field.map(str::to_string),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.origin)?;
        if let Some(item) = self.item {
            write!(f, "item {item}: ")?;
        }
        match &self.field {
            Some(field) => write!(f, "`{field}` {}", self.problem),
            None => f.write_str(&self.problem),
        }
    }
}

impl std::error::Error for DataError {}

impl From<DataError> for std::io::Error {
    fn from(e: DataError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}

/// The table entry of `operation_id`, or an error naming the ones there are.
pub(crate) fn operation(
    origin: &str,
    operation_id: &str,
) -> Result<&'static OperationSpec, DataError> {
    OperationSpec::by_id(operation_id).ok_or_else(|| {
        let known: Vec<&str> = OperationSpec::all()
            .iter()
            .map(|op| op.operation_id)
            .collect();
        DataError::new(
            origin,
            None,
            None,
            format!(
                "`{operation_id}` is not an operationId of the spec (it has {})",
                known.join(", ")
            ),
        )
    })
}

#[cfg(unix)]
fn is_fifo(metadata: &std::fs::Metadata) -> bool {
    std::os::unix::fs::FileTypeExt::is_fifo(&metadata.file_type())
}

#[cfg(not(unix))]
fn is_fifo(_: &std::fs::Metadata) -> bool {
    false
}

/// Every `*.json` file of `dir`, in name order, as `(operationId, data)`:
/// an array of items for a paginated operation, `{"result": …}` for one
/// without pagination. Other files are ignored; a `.JSON` in another case,
/// or a `.json` that is a directory or a FIFO, is an error naming it.
pub(crate) fn read_dir(dir: &Path) -> Result<Vec<(String, SandboxData)>, DataError> {
    let shown = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        DataError::new(
            &shown,
            None,
            None,
            format!("cannot read the directory: {e}"),
        )
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            DataError::new(
                &shown,
                None,
                None,
                format!("cannot read the directory: {e}"),
            )
        })?;
        let path = entry.path();
        let Some(extension) = path.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        if !extension.eq_ignore_ascii_case("json") {
            continue;
        }
        // A file that looks like data but would be skipped (or would block
        // the start, a FIFO) is named, never silently replaced by generated data.
        let origin = path.display().to_string();
        if extension != "json" {
            return Err(DataError::new(
                &origin,
                None,
                None,
                "is not read: data files are named <operationId>.json, in lower case",
            ));
        }
        let kind = match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => None,
            Ok(m) if m.is_dir() => Some("a directory"),
            Ok(m) if is_fifo(&m) => Some("a FIFO"),
            Ok(_) => Some("not a regular file"),
            Err(e) => {
                return Err(DataError::new(
                    &origin,
                    None,
                    None,
                    format!("cannot read: {e}"),
                ));
            }
        };
        if let Some(kind) = kind {
            return Err(DataError::new(
                &origin,
                None,
                None,
                format!("is {kind}: data files must be regular files"),
            ));
        }
        paths.push(path);
    }
    paths.sort();
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        let origin = path.display().to_string();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let op = operation(&origin, stem)?;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| DataError::new(&origin, None, None, format!("cannot read: {e}")))?;
        let json: Value = serde_json::from_str(&text)
            .map_err(|e| DataError::new(&origin, None, None, format!("is not JSON: {e}")))?;
        let data = match (op.pagination, json) {
            (Some(_), Value::Array(items)) => SandboxData::Items { items, origin },
            (Some(_), other) => {
                return Err(DataError::new(
                    &origin,
                    None,
                    None,
                    format!(
                        "must be a JSON array of {} items, not {}",
                        op.pagination.map_or("", |p| p.item_schema),
                        spec::json_type(&other)
                    ),
                ));
            }
            (None, Value::Object(mut map)) if map.contains_key("result") => SandboxData::Result {
                result: map.remove("result").unwrap_or(Value::Null),
                origin,
            },
            (None, _) => {
                return Err(DataError::new(
                    &origin,
                    None,
                    None,
                    format!(
                        "must be an object {{\"result\": …}} holding a {} ({} does not page)",
                        op.result_schema, op.operation_id
                    ),
                ));
            }
        };
        out.push((op.operation_id.to_string(), data));
    }
    Ok(out)
}

/// Checks `data` against the schemas of `op`: each item against the item
/// schema, a result against the result schema; fields the schema does not
/// declare are refused (in data a user wrote they are most likely typos).
pub(crate) fn validate(
    spec: &Value,
    op: &'static OperationSpec,
    data: &SandboxData,
) -> Result<(), DataError> {
    let check = |schema_name: &str, value: &Value, item: Option<usize>| {
        let schema = serde_json::json!({ "$ref": format!("{REF_PREFIX}{schema_name}") });
        validate::check(spec, &schema, value, "", UnknownFields::Refuse).map_err(|v| {
            let field = (!v.path.is_empty()).then_some(v.path.as_str());
            let problem = if field.is_none() {
                format!("{} (it must be a {schema_name})", v.problem)
            } else {
                v.problem.clone()
            };
            DataError::new(data.origin(), item, field, problem)
        })
    };
    match (op.pagination, data) {
        (Some(pagination), SandboxData::Items { items, .. }) => {
            for (index, item) in items.iter().enumerate() {
                check(pagination.item_schema, item, Some(index))?;
            }
            Ok(())
        }
        (None, SandboxData::Result { result, .. }) => check(op.result_schema, result, None),
        (Some(_), SandboxData::Result { origin, .. }) => Err(DataError::new(
            origin,
            None,
            None,
            format!("{} pages: give it items, not a result", op.operation_id),
        )),
        (None, SandboxData::Items { origin, .. }) => Err(DataError::new(
            origin,
            None,
            None,
            format!(
                "{} does not page: give it a result, not items",
                op.operation_id
            ),
        )),
    }
}
