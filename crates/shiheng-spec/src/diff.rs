//! `shiheng spec diff OLD NEW`: what changed between two versions of the
//! spec, change by change, and for whom it breaks. This module owns the
//! comparison ([`diff`], pure: two parsed documents in, a [`Report`] out),
//! the classification of each change (for Rust callers of this SDK as
//! `build.rs` generates it, on the wire, for the teams generating clients
//! in other languages), the semver check of `info.version`, the three
//! renderings (text, markdown, JSON), reading `OLD`/`NEW` (a file or
//! `REV:PATH` through `git show`) and the command's arguments and exit
//! codes. docs/spec-diff.md describes the whole.

use std::collections::{BTreeMap, HashSet};
use std::process::Command;

use clap::{Args, ValueEnum};
use serde_json::{Map, Value, json};

/// Who a change concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Audience {
    /// Rust callers of this SDK, as `build.rs` generates it: records are
    /// `#[non_exhaustive]` structs of `Option` fields, methods are named by
    /// the operationId, unknown values of a field are kept.
    Rust,
    /// What goes over the wire: clients already deployed, whatever their
    /// language.
    Wire,
    /// The teams generating clients from the file in other languages (Java,
    /// TypeScript, Python, as CI's contract legs generate them).
    OtherLanguages,
}

impl Audience {
    /// The name used in every format: `rust`, `wire`, `other-languages`.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Rust => "rust",
            Audience::Wire => "wire",
            Audience::OtherLanguages => "other-languages",
        }
    }
}

const ALL: &[Audience] = &[Audience::Rust, Audience::Wire, Audience::OtherLanguages];
const CODE: &[Audience] = &[Audience::Rust, Audience::OtherLanguages];
const NONE: &[Audience] = &[];

/// The section of a CHANGELOG a change belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// Breaks someone in [`Change::affects`].
    Breaking,
    /// Something new that breaks nobody (an operation, a field, a value).
    Added,
    /// Any other change that breaks nobody (a widened bound, retries).
    Changed,
    /// The semver check of `info.version` (not an API change itself).
    Version,
}

impl Category {
    /// `breaking`, `added`, `changed` or `version`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Breaking => "breaking",
            Category::Added => "added",
            Category::Changed => "changed",
            Category::Version => "version",
        }
    }
}

/// One change between the two documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Where in the spec, as a dotted path
    /// (`components.schemas.Employee.properties.name`).
    pub location: String,
    /// Every operationId the change reaches (an operation's own change, or
    /// every operation whose request or responses reach a changed schema
    /// through `$ref`s); empty for a change of the document (`info.version`).
    pub operations: Vec<String>,
    /// A stable name of the kind of change (`field-removed`, `bound-narrowed`,
    /// `operation-moved`, …), for machines.
    pub kind: &'static str,
    /// The section it belongs to; [`Category::Breaking`] exactly when
    /// [`Change::breaking`].
    pub category: Category,
    /// Whether it breaks someone listed in [`Change::affects`].
    pub breaking: bool,
    /// For a breaking change, whom it breaks; for another one, who should
    /// take note (empty when nobody needs to act).
    pub affects: Vec<Audience>,
    /// What changed, for people.
    pub message: String,
}

/// The semver increment a set of changes calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bump {
    /// Nothing to release.
    None,
    /// Fixes and clarifications only.
    Patch,
    /// Additions that break nobody.
    Minor,
    /// Something breaks.
    Major,
}

impl Bump {
    /// `none`, `patch`, `minor` or `major`.
    pub fn as_str(self) -> &'static str {
        match self {
            Bump::None => "none",
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        }
    }
}

/// The changes between two documents, in the order of the new document
/// (operations, then their schemas), then the version's.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every change found, the semver check's included.
    pub changes: Vec<Change>,
    /// The old document's `info.version`.
    pub old_version: Option<String>,
    /// The new document's `info.version`.
    pub new_version: Option<String>,
}

impl Report {
    /// Whether any change is breaking.
    pub fn is_breaking(&self) -> bool {
        self.changes.iter().any(|c| c.breaking)
    }

    /// Whether the semver check reported a missing bump of `info.version`.
    pub fn version_bump_missing(&self) -> bool {
        self.changes.iter().any(|c| c.category == Category::Version)
    }

    /// The increment the changes call for.
    pub fn required_bump(&self) -> Bump {
        required_bump(&self.changes)
    }

    fn count(&self, category: Category) -> usize {
        self.changes
            .iter()
            .filter(|c| c.category == category)
            .count()
    }
}

fn required_bump(changes: &[Change]) -> Bump {
    let has = |cat| changes.iter().any(|c: &Change| c.category == cat);
    if has(Category::Breaking) {
        Bump::Major
    } else if has(Category::Added) {
        Bump::Minor
    } else if has(Category::Changed) {
        Bump::Patch
    } else {
        Bump::None
    }
}

// ---- reading ----------------------------------------------------------------

/// Reads `OLD` or `NEW`: a file when `arg` names one, otherwise `REV:PATH`
/// through `git show REV:PATH` (run in the current directory). The error
/// is one line.
pub fn load(arg: &str) -> Result<Value, String> {
    let path = std::path::Path::new(arg);
    let text = if path.is_file() {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {arg}: {e}"))?
    } else if let Some((rev, file)) = arg
        .split_once(':')
        .filter(|(r, f)| !r.is_empty() && !f.is_empty())
    {
        let output = Command::new("git")
            .arg("show")
            .arg(format!("{rev}:{file}"))
            .output()
            .map_err(|e| format!("cannot run git to read {arg}: {e}"))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let why = stderr
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("failed");
            return Err(format!("cannot read {arg} from git: {}", why.trim()));
        }
        String::from_utf8(output.stdout).map_err(|_| format!("{arg} is not UTF-8 text"))?
    } else if path.exists() {
        return Err(format!("cannot read {arg}: not a file"));
    } else {
        return Err(format!("cannot read {arg}: no such file (nor REV:PATH)"));
    };
    parse(&text).map_err(|e| format!("{arg}: {e}"))
}

/// Parses a spec's text (YAML or JSON) and checks that it is OpenAPI 3.0.x.
pub fn parse(text: &str) -> Result<Value, String> {
    let value: Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let e = e.to_string();
        format!("not YAML or JSON: {}", e.lines().next().unwrap_or(""))
    })?;
    if !value.is_object() {
        return Err("not an OpenAPI document (not a mapping)".into());
    }
    match value.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0.") => Ok(value),
        Some(v) => Err(format!("OpenAPI {v} is not supported (3.0.x only)")),
        None => Err("not an OpenAPI 3.0.x document (no `openapi` version)".into()),
    }
}

// ---- comparing --------------------------------------------------------------

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

struct Operation<'a> {
    path: &'a str,
    method: &'a str,
    value: &'a Value,
}

fn operations(doc: &Value) -> BTreeMap<String, Operation<'_>> {
    let mut out = BTreeMap::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        for method in METHODS {
            let Some(op) = item.get(*method) else {
                continue;
            };
            let id = op.get("operationId").and_then(Value::as_str).map_or_else(
                || format!("{} {path}", method.to_uppercase()),
                str::to_owned,
            );
            out.insert(
                id,
                Operation {
                    path,
                    method,
                    value: op,
                },
            );
        }
    }
    out
}

/// Whether the schema is read in a request (what callers send) or in an
/// answer (what they receive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Side {
    Request,
    Response,
}

struct Collector {
    changes: Vec<Change>,
}

impl Collector {
    fn push(
        &mut self,
        location: &str,
        operation: Option<&str>,
        kind: &'static str,
        category: Category,
        affects: &[Audience],
        message: String,
    ) {
        let breaking = category == Category::Breaking;
        if let Some(existing) = self
            .changes
            .iter_mut()
            .find(|c| c.location == location && c.kind == kind && c.message == message)
        {
            if let Some(op) = operation
                && !existing.operations.iter().any(|o| o == op)
            {
                existing.operations.push(op.to_owned());
            }
            return;
        }
        self.changes.push(Change {
            location: location.to_owned(),
            operations: operation.map(str::to_owned).into_iter().collect(),
            kind,
            category,
            breaking,
            affects: affects.to_vec(),
            message,
        });
    }
}

/// Compares two parsed documents (see [`parse`]); the semver check of
/// `info.version` is the last change when it fails.
pub fn diff(old: &Value, new: &Value) -> Report {
    let mut out = Collector {
        changes: Vec::new(),
    };
    let old_ops = operations(old);
    let new_ops = operations(new);
    let mut matched: Vec<(&str, &str)> = Vec::new();
    let mut old_left: Vec<&str> = Vec::new();
    for id in old_ops.keys() {
        if new_ops.contains_key(id) {
            matched.push((id, id));
        } else {
            old_left.push(id);
        }
    }
    let mut new_left: Vec<&str> = new_ops
        .keys()
        .filter(|id| !old_ops.contains_key(*id))
        .map(String::as_str)
        .collect();
    // Same path and method, another operationId: a rename.
    old_left.retain(|old_id| {
        let o = &old_ops[*old_id];
        if let Some(pos) = new_left.iter().position(|new_id| {
            let n = &new_ops[*new_id];
            n.path == o.path && n.method == o.method
        }) {
            let new_id = new_left.remove(pos);
            out.push(
                &format!("paths.{}.{}.operationId", o.path, o.method),
                Some(new_id),
                "operation-renamed",
                Category::Breaking,
                CODE,
                format!(
                    "operationId `{old_id}` renamed to `{new_id}` (same path): the Rust method and \
                     other languages' generated methods are renamed; the wire is unchanged"
                ),
            );
            matched.push((old_id, new_id));
            false
        } else {
            true
        }
    });
    for id in &old_left {
        let o = &old_ops[*id];
        out.push(
            &format!("paths.{}.{}", o.path, o.method),
            Some(id),
            "operation-removed",
            Category::Breaking,
            ALL,
            format!(
                "operation `{id}` ({} {}) removed",
                o.method.to_uppercase(),
                o.path
            ),
        );
    }
    for id in &new_left {
        let n = &new_ops[*id];
        out.push(
            &format!("paths.{}.{}", n.path, n.method),
            Some(id),
            "operation-added",
            Category::Added,
            NONE,
            format!(
                "operation `{id}` ({} {}) added",
                n.method.to_uppercase(),
                n.path
            ),
        );
    }
    for (old_id, new_id) in matched {
        let o = &old_ops[old_id];
        let n = &new_ops[new_id];
        let mut walker = Walker {
            old_doc: old,
            new_doc: new,
            op: new_id,
            side: Side::Request,
            visited: HashSet::new(),
            depth: 0,
            out: &mut out,
        };
        walker.operation(o, n);
    }
    let old_version = version(old);
    let new_version = version(new);
    if old_version != new_version {
        out.push(
            "info.version",
            None,
            "version-changed",
            Category::Changed,
            NONE,
            format!(
                "info.version {} -> {}",
                old_version.as_deref().unwrap_or("(none)"),
                new_version.as_deref().unwrap_or("(none)")
            ),
        );
    }
    let mut changes = out.changes;
    if let Some(check) = semver_check(&changes, old_version.as_deref(), new_version.as_deref()) {
        changes.push(check);
    }
    Report {
        changes,
        old_version,
        new_version,
    }
}

fn version(doc: &Value) -> Option<String> {
    match doc.pointer("/info/version")? {
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn semver(v: &str) -> Option<(u64, u64, u64)> {
    let core = v.trim().trim_start_matches('v');
    let core = core.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next().unwrap_or(Some(0))?;
    let patch = parts.next().unwrap_or(Some(0))?;
    Some((major, minor, patch))
}

/// Whether `new` is at least the `needed` increment over `old`. Before 1.0,
/// as Cargo reads versions, a minor increment may break and a patch may add.
fn bumped(old: (u64, u64, u64), new: (u64, u64, u64), needed: Bump) -> bool {
    let (major, minor) = if old.0 == 0 {
        (new.0 > 0 || new.1 > old.1, new > old)
    } else {
        (
            new.0 > old.0,
            new.0 > old.0 || (new.0 == old.0 && new.1 > old.1),
        )
    };
    match needed {
        Bump::Major => major,
        Bump::Minor => minor,
        Bump::Patch | Bump::None => true,
    }
}

fn semver_check(changes: &[Change], old: Option<&str>, new: Option<&str>) -> Option<Change> {
    let needed = required_bump(changes);
    if needed < Bump::Minor {
        return None;
    }
    let what = if needed == Bump::Major {
        "breaking changes"
    } else {
        "additions"
    };
    let message = match (old.and_then(semver), new.and_then(semver)) {
        (Some(o), Some(n)) if bumped(o, n, needed) => return None,
        (Some(_), Some(_)) => format!(
            "{what} need a {} bump of info.version, but it went {} -> {}",
            needed.as_str(),
            old.unwrap_or_default(),
            new.unwrap_or_default()
        ),
        _ => format!(
            "{what} need a {} bump of info.version, which is not a semantic version ({} -> {})",
            needed.as_str(),
            old.unwrap_or("(none)"),
            new.unwrap_or("(none)")
        ),
    };
    Some(Change {
        location: "info.version".into(),
        operations: Vec::new(),
        kind: "version-bump-missing",
        category: Category::Version,
        breaking: false,
        affects: Vec::new(),
        message,
    })
}

struct Walker<'a, 'o> {
    old_doc: &'a Value,
    new_doc: &'a Value,
    op: &'a str,
    side: Side,
    /// The components already compared for this operation and side (a
    /// `$ref` cycle ends here).
    visited: HashSet<(String, bool)>,
    /// How deep the comparison is (inline schemas nest without a name).
    depth: usize,
    out: &'o mut Collector,
}

/// Follows `$ref`s (local JSON pointers) to the schema; also returns the
/// last reference's location as a dotted path.
fn resolve<'v>(doc: &'v Value, mut value: &'v Value) -> (Option<String>, &'v Value) {
    let mut name = None;
    for _ in 0..32 {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let Some(pointer) = reference.strip_prefix('#') else {
            break;
        };
        let Some(target) = doc.pointer(pointer) else {
            break;
        };
        name = Some(
            pointer
                .trim_start_matches('/')
                .split('/')
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect::<Vec<_>>()
                .join("."),
        );
        value = target;
    }
    (name, value)
}

/// The JSON form of a schema, without its details: its type and format, or
/// its composition's branches.
fn shape(doc: &Value, schema: &Value) -> String {
    let (_, s) = resolve(doc, schema);
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(branches) = s.get(key).and_then(Value::as_array) {
            let mut parts: Vec<String> = branches.iter().map(|b| shape(doc, b)).collect();
            parts.sort();
            parts.dedup();
            return format!("{key}({})", parts.join(" | "));
        }
    }
    let ty = s
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or(if s.get("properties").is_some() {
            "object"
        } else {
            "any"
        });
    match s.get("format").and_then(Value::as_str) {
        Some(format) => format!("{ty} ({format})"),
        None => ty.to_owned(),
    }
}

/// When `n` is an `anyOf`/`oneOf` of wire forms that widens the plain
/// schema `o` (as `shiheng check --write-spec` writes them, and as this
/// SDK's build reads them: the type of the first typed branch): that first
/// branch, whose shape is `o`'s.
fn wire_forms_added<'n>(
    new_doc: &'n Value,
    o: &Value,
    n: &'n Value,
    old_shape: &str,
) -> Option<&'n Value> {
    if ["anyOf", "oneOf", "allOf"]
        .iter()
        .any(|k| o.get(k).is_some())
    {
        return None;
    }
    let branches = n
        .get("anyOf")
        .or_else(|| n.get("oneOf"))
        .and_then(Value::as_array)?;
    let first = branches
        .iter()
        .find(|b| resolve(new_doc, b).1.get("type").is_some())?;
    (shape(new_doc, first) == old_shape).then_some(first)
}

fn body_schema(body: Option<&Value>) -> Option<&Value> {
    body.and_then(|b| b.pointer("/content/application~1json/schema"))
}

fn last_segment(location: &str) -> &str {
    location.rsplit('.').next().unwrap_or(location)
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

impl Walker<'_, '_> {
    fn push(
        &mut self,
        location: &str,
        kind: &'static str,
        category: Category,
        affects: &[Audience],
        message: String,
    ) {
        self.out
            .push(location, Some(self.op), kind, category, affects, message);
    }

    fn operation(&mut self, o: &Operation<'_>, n: &Operation<'_>) {
        let here = format!("paths.{}.{}", n.path, n.method);
        if o.path != n.path || o.method != n.method {
            self.push(
                &here,
                "operation-moved",
                Category::Breaking,
                &[Audience::Wire],
                format!(
                    "operation `{}` moved from {} {} to {} {}: deployed clients call the old path; \
                     the Rust method (named by the operationId) is unchanged",
                    self.op,
                    o.method.to_uppercase(),
                    o.path,
                    n.method.to_uppercase(),
                    n.path
                ),
            );
        }
        self.pagination(
            o.value.get("x-pagination"),
            n.value.get("x-pagination"),
            &here,
        );
        let idem = |v: &Value| {
            v.get("x-idempotent")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        if idem(o.value) != idem(n.value) {
            let message = if idem(n.value) {
                "now `x-idempotent`: clients may retry it after a failure that may have reached the server"
            } else {
                "no longer `x-idempotent`: clients no longer retry it after a failure that may have \
                 reached the server"
            };
            self.push(
                &format!("{here}.x-idempotent"),
                "idempotency-changed",
                Category::Changed,
                CODE,
                message.into(),
            );
        }
        // The request body.
        self.side = Side::Request;
        let old_body = o
            .value
            .get("requestBody")
            .map(|b| resolve(self.old_doc, b).1);
        let new_body = n
            .value
            .get("requestBody")
            .map(|b| resolve(self.new_doc, b).1);
        match (body_schema(old_body), body_schema(new_body)) {
            (Some(os), Some(ns)) => self.schema(os, ns, &format!("{here}.requestBody")),
            (None, Some(_)) => self.push(
                &format!("{here}.requestBody"),
                "request-body-added",
                Category::Breaking,
                ALL,
                "a request body is now required".into(),
            ),
            (Some(_), None) => self.push(
                &format!("{here}.requestBody"),
                "request-body-removed",
                Category::Breaking,
                CODE,
                "the request body was removed".into(),
            ),
            (None, None) => {}
        }
        // Every answer with a JSON schema, by status.
        self.side = Side::Response;
        self.visited.clear();
        let empty = Map::new();
        let old_responses = o
            .value
            .get("responses")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let new_responses = n
            .value
            .get("responses")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (status, new_response) in new_responses {
            let Some(old_response) = old_responses.get(status) else {
                continue;
            };
            let (_, old_r) = resolve(self.old_doc, old_response);
            let (new_name, new_r) = resolve(self.new_doc, new_response);
            let location = new_name.unwrap_or_else(|| format!("{here}.responses.{status}"));
            let schema = |r: &'_ Value| r.pointer("/content/application~1json/schema").cloned();
            if let (Some(os), Some(ns)) = (schema(old_r), schema(new_r)) {
                self.schema(&os, &ns, &location);
            }
        }
    }

    fn pagination(&mut self, old: Option<&Value>, new: Option<&Value>, here: &str) {
        let location = format!("{here}.x-pagination");
        match (old, new) {
            (None, None) => {}
            (Some(_), None) => self.push(
                &location,
                "pagination-removed",
                Category::Breaking,
                &[Audience::Wire, Audience::Rust],
                "no longer paginated: the Rust listing methods and pagers of this operation go"
                    .into(),
            ),
            (None, Some(_)) => self.push(
                &location,
                "pagination-added",
                Category::Breaking,
                &[Audience::Wire, Audience::Rust],
                "now paginated: the Rust client lists it through a pager instead of one call"
                    .into(),
            ),
            (Some(o), Some(n)) => {
                let empty = Map::new();
                let om = o.as_object().unwrap_or(&empty);
                let nm = n.as_object().unwrap_or(&empty);
                let mut keys: Vec<&String> = om.keys().chain(nm.keys()).collect();
                keys.sort();
                keys.dedup();
                for key in keys {
                    let (ov, nv) = (om.get(key), nm.get(key));
                    if ov == nv {
                        continue;
                    }
                    let fmt = |v: Option<&Value>| v.map_or_else(|| "(none)".into(), show);
                    let what = if key == "style" {
                        "pagination style".to_owned()
                    } else {
                        format!("pagination field `{key}`")
                    };
                    self.push(
                        &format!("{location}.{key}"),
                        "pagination-changed",
                        Category::Breaking,
                        &[Audience::Wire, Audience::Rust],
                        format!("{what} changed from {} to {}", fmt(ov), fmt(nv)),
                    );
                }
            }
        }
    }

    /// Compares a schema as read from both documents at `location`.
    fn schema(&mut self, old: &Value, new: &Value, location: &str) {
        if self.depth > 64 {
            return;
        }
        self.depth += 1;
        self.schema_inner(old, new, location);
        self.depth -= 1;
    }

    fn schema_inner(&mut self, old: &Value, new: &Value, location: &str) {
        let (old_name, o) = resolve(self.old_doc, old);
        let (new_name, n) = resolve(self.new_doc, new);
        let location = match (&old_name, &new_name) {
            (Some(a), Some(b)) if a == b => a.clone(),
            _ => location.to_owned(),
        };
        if let Some(name) = new_name.filter(|_| old_name.is_some())
            && !self.visited.insert((name, self.side == Side::Request))
        {
            return;
        }
        let side = match self.side {
            Side::Request => "request",
            Side::Response => "response",
        };
        let (old_shape, new_shape) = (shape(self.old_doc, o), shape(self.new_doc, n));
        if old_shape != new_shape
            && let Some(first) = wire_forms_added(self.new_doc, o, n, &old_shape)
        {
            self.push(
                &location,
                "wire-form-added",
                Category::Breaking,
                &[Audience::OtherLanguages],
                format!(
                    "{side} field `{}` is now {new_shape}: an anyOf of its wire forms whose \
                     first branch keeps {old_shape}, so the Rust type is unchanged (its \
                     decoding accepts the other forms); clients generated in other \
                     languages get a wrapper type for the anyOf",
                    last_segment(&location)
                ),
            );
            self.schema(old, first, &location);
            return;
        }
        if old_shape != new_shape {
            self.push(
                &location,
                "type-changed",
                Category::Breaking,
                ALL,
                format!(
                    "{side} field `{}` changed type from {old_shape} to {new_shape}",
                    last_segment(&location)
                ),
            );
            return;
        }
        let rust_type = |s: &Value| s.get("x-shiheng-type").cloned();
        if rust_type(o) != rust_type(n) {
            self.push(
                &format!("{location}.x-shiheng-type"),
                "rust-type-changed",
                Category::Breaking,
                &[Audience::Rust],
                format!(
                    "the Rust type of `{}` changed from {} to {}",
                    last_segment(&location),
                    rust_type(o).map_or_else(|| "the generated one".into(), |v| show(&v)),
                    rust_type(n).map_or_else(|| "the generated one".into(), |v| show(&v)),
                ),
            );
        }
        self.bounds(o, n, &location);
        self.values(o, n, &location);
        self.properties(o, n, &location);
        if let (Some(oi), Some(ni)) = (o.get("items"), n.get("items")) {
            self.schema(oi, ni, &format!("{location}.items"));
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            if let (Some(ob), Some(nb)) = (
                o.get(key).and_then(Value::as_array),
                n.get(key).and_then(Value::as_array),
            ) && ob.len() == nb.len()
            {
                for (i, (a, b)) in ob.iter().zip(nb).enumerate() {
                    self.schema(a, b, &format!("{location}.{key}.{i}"));
                }
            }
        }
    }

    fn bounds(&mut self, o: &Value, n: &Value, location: &str) {
        // (keyword, whether a greater value narrows)
        const BOUNDS: &[(&str, bool)] = &[
            ("minimum", true),
            ("maximum", false),
            ("minLength", true),
            ("maxLength", false),
            ("minItems", true),
            ("maxItems", false),
        ];
        let field = last_segment(location).to_owned();
        for &(key, greater_narrows) in BOUNDS {
            let (ov, nv) = (o.get(key).and_then(number), n.get(key).and_then(number));
            let narrowed = match (ov, nv) {
                (Some(a), Some(b)) if a == b => continue,
                (None, None) => continue,
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (Some(a), Some(b)) => (b > a) == greater_narrows,
            };
            let fmt = |v: Option<&Value>| v.map_or_else(|| "none".into(), show);
            let from_to = format!("{} to {}", fmt(o.get(key)), fmt(n.get(key)));
            let loc = format!("{location}.{key}");
            match (self.side, narrowed) {
                (Side::Request, true) => self.push(
                    &loc,
                    "bound-narrowed",
                    Category::Breaking,
                    &[Audience::Wire],
                    format!("request field `{field}`: `{key}` narrowed from {from_to}: values accepted before are now refused"),
                ),
                (Side::Request, false) => self.push(
                    &loc,
                    "bound-widened",
                    Category::Changed,
                    NONE,
                    format!("request field `{field}`: `{key}` widened from {from_to}"),
                ),
                (Side::Response, true) => self.push(
                    &loc,
                    "bound-narrowed",
                    Category::Changed,
                    NONE,
                    format!("response field `{field}`: `{key}` narrowed from {from_to}"),
                ),
                (Side::Response, false) => self.push(
                    &loc,
                    "bound-widened",
                    Category::Changed,
                    &[Audience::OtherLanguages],
                    format!(
                        "response field `{field}`: `{key}` widened from {from_to}: clients that \
                         validate answers against the old bound would refuse the new values"
                    ),
                ),
            }
        }
    }

    fn values(&mut self, o: &Value, n: &Value, location: &str) {
        let field = last_segment(location).to_owned();
        for key in ["enum", "x-known-values"] {
            let list = |s: &Value| s.get(key).and_then(Value::as_array).cloned();
            let (ol, nl) = (list(o), list(n));
            if ol == nl {
                continue;
            }
            let loc = format!("{location}.{key}");
            let (ov, nv) = (
                ol.clone().unwrap_or_default(),
                nl.clone().unwrap_or_default(),
            );
            let added: Vec<String> = nv.iter().filter(|v| !ov.contains(v)).map(show).collect();
            let removed: Vec<String> = ov.iter().filter(|v| !nv.contains(v)).map(show).collect();
            let enumerated = key == "enum";
            // An enum that appears restricts every value; one that goes widens.
            if enumerated && ol.is_none() {
                if self.side == Side::Request {
                    self.push(
                        &loc,
                        "enum-narrowed",
                        Category::Breaking,
                        ALL,
                        format!(
                            "request field `{field}` is now restricted to {}",
                            nv.iter().map(show).collect::<Vec<_>>().join(", ")
                        ),
                    );
                } else {
                    self.push(&loc, "enum-added", Category::Changed, &[Audience::OtherLanguages], format!(
                        "response field `{field}` is now an enum ({}): strict generated enums refuse other values", nv.iter().map(show).collect::<Vec<_>>().join(", ")));
                }
                continue;
            }
            if enumerated && nl.is_none() {
                self.push(&loc, "enum-removed", Category::Breaking, CODE, format!(
                    "field `{field}` is no longer an enum: generated enum types become plain values"));
                continue;
            }
            if !added.is_empty() {
                let list = added.join(", ");
                match (enumerated, self.side) {
                    (false, _) => self.push(&loc, "known-value-added", Category::Added, NONE, format!(
                        "field `{field}`: new known value {list} (clients keep any value already)")),
                    (true, Side::Request) => self.push(&loc, "enum-widened", Category::Added, NONE, format!(
                        "request field `{field}` accepts {list}")),
                    (true, Side::Response) => self.push(&loc, "enum-value-added", Category::Added, &[Audience::OtherLanguages], format!(
                        "response field `{field}` may now be {list}: Rust keeps unknown values, but \
                         strict generated enums in other languages may refuse them")),
                }
            }
            if !removed.is_empty() {
                let list = removed.join(", ");
                match (enumerated, self.side) {
                    (false, _) => self.push(&loc, "known-value-removed", Category::Changed, NONE, format!(
                        "field `{field}`: {list} no longer listed as a known value")),
                    (true, Side::Request) => self.push(&loc, "enum-narrowed", Category::Breaking, ALL, format!(
                        "request field `{field}` no longer accepts {list}")),
                    (true, Side::Response) => self.push(&loc, "enum-value-removed", Category::Breaking, CODE, format!(
                        "response field `{field}` no longer has the value {list}: generated enum variants go")),
                }
            }
        }
    }

    fn properties(&mut self, o: &Value, n: &Value, location: &str) {
        let empty = Map::new();
        let op = o
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let np = n
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let required = |s: &Value| -> Vec<String> {
            s.get("required")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let (or, nr) = (required(o), required(n));
        for (name, old_prop) in op {
            let loc = format!("{location}.properties.{name}");
            match np.get(name) {
                None => match self.side {
                    Side::Response => self.push(&loc, "field-removed", Category::Breaking, ALL, format!(
                        "response field `{name}` removed: the Rust record and other languages' models lose it")),
                    Side::Request => self.push(&loc, "field-removed", Category::Breaking, ALL, format!(
                        "request field `{name}` removed: code that sets it no longer compiles, and the platform ignores or refuses it")),
                },
                Some(new_prop) => {
                    let (was, is) = (or.contains(name), nr.contains(name));
                    if was != is {
                        match (self.side, is) {
                            (Side::Request, true) => self.push(&loc, "field-made-required", Category::Breaking, ALL, format!(
                                "request field `{name}` is now required: requests without it are refused")),
                            (Side::Request, false) => self.push(&loc, "field-made-optional", Category::Changed, NONE, format!(
                                "request field `{name}` is now optional")),
                            (Side::Response, true) => self.push(&loc, "field-made-required", Category::Changed, NONE, format!(
                                "response field `{name}` is now always present")),
                            (Side::Response, false) => self.push(&loc, "field-made-optional", Category::Changed, &[Audience::OtherLanguages], format!(
                                "response field `{name}` may now be absent (Rust records hold every field as an Option already)")),
                        }
                    }
                    self.schema(old_prop, new_prop, &loc);
                }
            }
        }
        for name in np.keys().filter(|k| !op.contains_key(*k)) {
            let loc = format!("{location}.properties.{name}");
            match (self.side, nr.contains(name)) {
                (Side::Request, true) => self.push(&loc, "required-field-added", Category::Breaking, ALL, format!(
                    "required request field `{name}` added: requests without it are refused")),
                (Side::Request, false) => self.push(&loc, "field-added", Category::Added, NONE, format!(
                    "optional request field `{name}` added")),
                (Side::Response, _) => self.push(&loc, "field-added", Category::Added, NONE, format!(
                    "response field `{name}` added (Rust records are `#[non_exhaustive]` with `Option` fields: not breaking)")),
            }
        }
    }
}

// ---- rendering --------------------------------------------------------------

/// The output formats of `shiheng spec diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: one block per change, then a summary.
    Text,
    /// For CHANGELOG.md: `### Breaking`, `### Added`, `### Changed`.
    Markdown,
    /// An object with a `changes` array and a `summary`.
    Json,
}

fn affects_list(c: &Change) -> String {
    c.affects
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn summary_line(report: &Report) -> String {
    let bump = match report.required_bump() {
        Bump::None => "no version bump needed".to_owned(),
        bump => format!("needs a {} version bump", bump.as_str()),
    };
    format!(
        "{} breaking, {} added, {} changed; info.version {} -> {}; {bump}{}",
        report.count(Category::Breaking),
        report.count(Category::Added),
        report.count(Category::Changed),
        report.old_version.as_deref().unwrap_or("(none)"),
        report.new_version.as_deref().unwrap_or("(none)"),
        if report.version_bump_missing() {
            " (missing)"
        } else {
            ""
        }
    )
}

/// The report for people: one block per change, then a summary line.
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    if report.changes.is_empty() {
        out.push_str("no changes\n");
    }
    for c in &report.changes {
        let label = match c.category {
            Category::Breaking => "BREAKING",
            Category::Added => "added",
            Category::Changed => "changed",
            Category::Version => "VERSION",
        };
        out.push_str(&format!("{label:<9} {}\n", c.location));
        if !c.operations.is_empty() {
            out.push_str(&format!(
                "          operation: {}\n",
                c.operations.join(", ")
            ));
        }
        if !c.affects.is_empty() {
            let word = if c.breaking { "breaks" } else { "note for" };
            out.push_str(&format!("          {word}: {}\n", affects_list(c)));
        }
        out.push_str(&format!("          {}\n", c.message));
    }
    out.push_str(&format!("summary: {}\n", summary_line(report)));
    out
}

/// The report as CHANGELOG sections (`### Breaking`, `### Added`,
/// `### Changed`); a missing version bump comes first as a quote.
pub fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    for c in report
        .changes
        .iter()
        .filter(|c| c.category == Category::Version)
    {
        out.push_str(&format!("> **Version:** {}\n\n", c.message));
    }
    for (category, title) in [
        (Category::Breaking, "Breaking"),
        (Category::Added, "Added"),
        (Category::Changed, "Changed"),
    ] {
        let items: Vec<&Change> = report
            .changes
            .iter()
            .filter(|c| c.category == category)
            .collect();
        if items.is_empty() {
            continue;
        }
        out.push_str(&format!("### {title}\n\n"));
        for c in items {
            let ops = if c.operations.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = c.operations.iter().map(|o| format!("`{o}`")).collect();
                format!("{}: ", names.join(", "))
            };
            let who = if c.affects.is_empty() {
                String::new()
            } else if c.breaking {
                format!("; breaks {}", affects_list(c))
            } else {
                format!("; note for {}", affects_list(c))
            };
            out.push_str(&format!("- {ops}{} (`{}`{who})\n", c.message, c.location));
        }
        out.push('\n');
    }
    if out.is_empty() {
        out.push_str("No changes to the spec.\n");
    }
    out
}

/// The report as JSON: `{"changes": [...], "summary": {...}}`; each change
/// has `location`, `operation` (the first operationId or null),
/// `operations`, `kind`, `category`, `breaking`, `affects` and `message`.
pub fn render_json(report: &Report) -> Value {
    let changes: Vec<Value> = report
        .changes
        .iter()
        .map(|c| {
            json!({
                "location": c.location,
                "operation": c.operations.first(),
                "operations": c.operations,
                "kind": c.kind,
                "category": c.category.as_str(),
                "breaking": c.breaking,
                "affects": c.affects.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                "message": c.message,
            })
        })
        .collect();
    json!({
        "changes": changes,
        "summary": {
            "breaking": report.count(Category::Breaking),
            "added": report.count(Category::Added),
            "changed": report.count(Category::Changed),
            "total": report.changes.len(),
            "oldVersion": report.old_version,
            "newVersion": report.new_version,
            "requiredBump": report.required_bump().as_str(),
            "versionBumpMissing": report.version_bump_missing(),
        }
    })
}

// ---- the command ------------------------------------------------------------

/// `shiheng spec diff OLD NEW`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old spec: a file, or REV:PATH read with `git show` (a path that
    /// exists as a file wins).
    old: String,
    /// The new spec: a file, or REV:PATH.
    new: String,
    /// text (for people), markdown (for CHANGELOG.md) or json.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Exit 1 also when info.version is not bumped as the changes need
    /// (major for breaking changes, minor for additions).
    #[arg(long)]
    require_version_bump: bool,
}

/// Runs `shiheng spec diff`: the report on stdout; returns
/// the exit code, 1 when something is breaking (or, with
/// `--require-version-bump`, the version is not bumped as needed) and 0
/// otherwise. Bad input is an `Err` of one line (exit 2).
pub fn run(args: &DiffArgs) -> Result<u8, String> {
    let old = load(&args.old)?;
    let new = load(&args.new)?;
    let report = diff(&old, &new);
    let text = match args.format {
        Format::Text => render_text(&report),
        Format::Markdown => render_markdown(&report),
        Format::Json => {
            let mut s =
                serde_json::to_string_pretty(&render_json(&report)).map_err(|e| e.to_string())?;
            s.push('\n');
            s
        }
    };
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(format!("cannot write the report: {e}"));
    }
    let failing =
        report.is_breaking() || (args.require_version_bump && report.version_bump_missing());
    Ok(u8::from(failing))
}
