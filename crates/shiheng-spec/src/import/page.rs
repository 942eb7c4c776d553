//! Reading a platform page as published: the field tables
//! (`名称 | 必选 | 类型 | 默认值 | 描述 |`) with their `├ `/`└ ` nesting, and
//! the sample JSON after them. Copy artefacts are tolerated (missing
//! trailing pipes, the description in the 默认值 column, stray text); a row
//! that cannot be read is kept out and reported with its line, never guessed.

use serde_json::Value;

/// What a page holds.
#[derive(Debug, Default)]
pub struct Page {
    /// The table holding the request envelope (appId, sign, paramContent...).
    pub request: Option<Table>,
    /// The table of the answer.
    pub response: Option<Table>,
    /// The first JSON value after the tables.
    pub sample: Option<Sample>,
    /// Rows and text that could not be read, each with its line.
    pub problems: Vec<Problem>,
    /// Lines outside tables and the sample (the greeting line, a title...).
    pub ignored: Vec<(usize, String)>,
}

/// One field table.
#[derive(Debug)]
pub struct Table {
    /// The header line (1-based) and the last row's line.
    pub lines: (usize, usize),
    /// Top-level rows, each with its nested rows.
    pub fields: Vec<Field>,
}

/// One readable row of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The field name, without the tree prefix.
    pub name: String,
    /// 1-based line of the row in the page.
    pub line: usize,
    /// `是` / `否`; `None` when the cell was empty.
    pub required: Option<bool>,
    /// The 类型 column.
    pub ty: FieldType,
    /// The description, from 描述 or, when that is empty, from 默认值.
    pub description: String,
    /// A literal value in 默认值 beside a description in 描述.
    pub default: Option<String>,
    /// The rows nested under this one.
    pub children: Vec<Field>,
}

/// A table's 类型 column.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    /// `string`.
    String,
    /// `integer` (int, long...).
    Integer,
    /// `number` (double, decimal...).
    Number,
    /// `boolean`.
    Boolean,
    /// `object`: its fields are the nested rows.
    Object,
    /// `x[]`: `object[]`, `string[]`...
    Array(Box<FieldType>),
}

impl FieldType {
    /// As the page writes it.
    pub fn label(&self) -> String {
        match self {
            FieldType::String => "string".into(),
            FieldType::Integer => "integer".into(),
            FieldType::Number => "number".into(),
            FieldType::Boolean => "boolean".into(),
            FieldType::Object => "object".into(),
            FieldType::Array(inner) => format!("{}[]", inner.label()),
        }
    }
}

/// The sample answer printed after the tables.
#[derive(Debug)]
pub struct Sample {
    /// First and last line of the JSON in the page.
    pub lines: (usize, usize),
    /// The JSON as printed.
    pub text: String,
    /// The JSON, parsed.
    pub value: Value,
}

/// A line the importer could not read, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// 1-based line in the page.
    pub line: usize,
    /// What the line holds (the row, or the field name), for the report.
    pub text: String,
    /// Why it was not read.
    pub why: String,
}

/// The table columns, as their header names them.
#[derive(Debug, Clone, Copy)]
struct Columns {
    name: usize,
    required: Option<usize>,
    ty: usize,
    default: Option<usize>,
    description: Option<usize>,
    count: usize,
}

/// A row on its way into the tree.
struct Row {
    field: Field,
    depth: usize,
    /// A row reported as unreadable, kept only for its place in the tree.
    unreadable: bool,
}

/// Reads a page's text.
pub fn parse(text: &str) -> Page {
    let mut page = Page::default();
    let mut tables: Vec<(usize, usize, Vec<Row>)> = Vec::new();
    let mut current: Option<(Columns, usize, usize, Vec<Row>)> = None;
    let lines: Vec<&str> = text.lines().collect();
    let mut offsets = Vec::with_capacity(lines.len());
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        offsets.push(at);
        at += line.len();
    }
    let mut index = 0;
    while index < lines.len() {
        let number = index + 1;
        let raw = lines[index];
        let line = raw.trim_start_matches('\u{feff}');
        if let Some(columns) = header(line) {
            if let Some((_, first, last, rows)) = current.take() {
                tables.push((first, last, rows));
            }
            current = Some((columns, number, number, Vec::new()));
        } else if let Some((columns, _, last, rows)) = current.as_mut()
            && line.contains('|')
        {
            *last = number;
            if !is_separator(line) {
                match row(line, number, *columns) {
                    Ok(row) => rows.push(row),
                    Err((depth, why)) => {
                        page.problems.push(Problem {
                            line: number,
                            text: line.trim().to_string(),
                            why,
                        });
                        // Its place in the tree, so rows nested under it are left out too.
                        rows.push(Row {
                            field: Field {
                                name: String::new(),
                                line: number,
                                required: None,
                                ty: FieldType::Object,
                                description: String::new(),
                                default: None,
                                children: Vec::new(),
                            },
                            depth,
                            unreadable: true,
                        });
                    }
                }
            }
        } else {
            if let Some((_, first, last, rows)) = current.take() {
                tables.push((first, last, rows));
            }
            let trimmed = line.trim_start();
            if page.sample.is_none() && !tables.is_empty() && trimmed.starts_with(['{', '[']) {
                let start = offsets[index] + (raw.len() - trimmed.len());
                match sample(text, start, number) {
                    Ok(found) => {
                        index = found.lines.1;
                        page.sample = Some(found);
                        continue;
                    }
                    Err(problem) => {
                        page.problems.push(problem);
                        // Nothing after an unreadable sample is read as one.
                        page.sample = None;
                        index = lines.len();
                        continue;
                    }
                }
            } else if !line.trim().is_empty() {
                page.ignored.push((number, line.trim().to_string()));
            }
        }
        index += 1;
    }
    if let Some((_, first, last, rows)) = current.take() {
        tables.push((first, last, rows));
    }
    let mut built: Vec<Table> = tables
        .into_iter()
        .map(|(first, last, rows)| Table {
            lines: (first, last),
            fields: tree(rows, &mut page.problems),
        })
        .collect();
    if built.len() > 2 {
        for extra in built.drain(2..) {
            page.problems.push(Problem {
                line: extra.lines.0,
                text: String::new(),
                why: "a third field table: only the request and the response tables are read"
                    .into(),
            });
        }
    }
    // The request table is the one with the envelope; otherwise the first.
    let is_request = |t: &Table| {
        t.fields
            .iter()
            .any(|f| matches!(f.name.as_str(), "appId" | "sign" | "paramContent"))
    };
    let mut built = built.into_iter();
    match (built.next(), built.next()) {
        (Some(a), Some(b)) if is_request(&b) && !is_request(&a) => {
            page.request = Some(b);
            page.response = Some(a);
        }
        (Some(a), Some(b)) => {
            page.request = Some(a);
            page.response = Some(b);
        }
        (Some(a), None) if is_request(&a) => page.request = Some(a),
        (Some(a), None) => page.response = Some(a),
        _ => {}
    }
    page.problems.sort_by_key(|p| p.line);
    page
}

/// The cells of a table line: split on `|`, trimmed, with the empty cells a
/// leading or trailing pipe leaves dropped.
fn cells(line: &str) -> Vec<String> {
    let mut cells: Vec<String> = line.split('|').map(|c| c.trim().to_string()).collect();
    if line.trim_start().starts_with('|') && cells.first().is_some_and(String::is_empty) {
        cells.remove(0);
    }
    while cells.last().is_some_and(String::is_empty) {
        cells.pop();
    }
    cells
}

fn header(line: &str) -> Option<Columns> {
    if !line.contains('|') {
        return None;
    }
    let cells = cells(line);
    let find = |names: &[&str]| cells.iter().position(|c| names.contains(&c.as_str()));
    let name = find(&["名称", "参数名", "参数名称", "字段", "字段名", "参数"])?;
    let ty = find(&["类型", "数据类型", "参数类型"])?;
    Some(Columns {
        name,
        required: find(&["必选", "必填", "是否必填", "是否必须", "是否必选"]),
        ty,
        default: find(&["默认值"]),
        description: find(&["描述", "说明", "备注", "含义"]),
        count: cells.len(),
    })
}

fn is_separator(line: &str) -> bool {
    line.chars()
        .all(|c| matches!(c, '-' | '|' | ':' | ' ' | '\t'))
}

/// Deeper rows are reported, not followed (the mapping recurses per level).
const MAX_DEPTH: usize = 32;

/// The tree marks a copied page puts before nested names; each counts one level.
const TREE_MARKS: [char; 6] = ['├', '└', '│', '┣', '┗', '┃'];
/// Drawing and spacing characters that come with the marks.
const TREE_FILL: [char; 6] = ['─', '━', ' ', '\t', '\u{3000}', '\u{a0}'];

fn row(line: &str, number: usize, columns: Columns) -> Result<Row, (usize, String)> {
    let mut cells = cells(line);
    // A description holding `|` spills into extra cells: join them back.
    if cells.len() > columns.count
        && let Some(last) = columns.description.or(columns.default)
        && last + 1 == columns.count
    {
        let tail = cells.split_off(last).join(" | ");
        cells.push(tail);
    }
    let cell = |i: Option<usize>| {
        i.and_then(|i| cells.get(i))
            .map(String::as_str)
            .unwrap_or("")
    };
    // The first column keeps its leading blanks: under a `└ ` the tree
    // continues with spaces where `│ ` would be.
    let raw_name = if columns.name == 0 {
        let text = line.split('|').next().unwrap_or("");
        if line.trim_start().starts_with('|') {
            let after = &line[line.find('|').map_or(0, |i| i + 1)..];
            let first = after.split('|').next().unwrap_or("");
            first.strip_prefix(' ').unwrap_or(first)
        } else {
            text
        }
    } else {
        cell(Some(columns.name))
    };
    let prefix_len = raw_name
        .char_indices()
        .find(|(_, c)| !TREE_MARKS.contains(c) && !TREE_FILL.contains(c))
        .map_or(raw_name.len(), |(i, _)| i);
    let depth = tree_depth(&raw_name[..prefix_len]);
    let name = raw_name[prefix_len..].trim();
    read_row(&cells, name, number, columns)
        .map(|field| Row {
            field,
            depth,
            unreadable: false,
        })
        .map_err(|why| (depth, why))
}

/// The cells of one row, once its name and depth are known.
fn read_row(
    cells: &[String],
    name: &str,
    number: usize,
    columns: Columns,
) -> Result<Field, String> {
    let cell = |i: Option<usize>| {
        i.and_then(|i| cells.get(i))
            .map(String::as_str)
            .unwrap_or("")
    };
    if name.is_empty() {
        return Err("no field name".into());
    }
    if !is_identifier(name) {
        return Err(format!("`{name}` is not a field name"));
    }
    let ty_text = cell(Some(columns.ty));
    if ty_text.is_empty() {
        return Err(format!("`{name}` has no type"));
    }
    let ty = field_type(ty_text).ok_or_else(|| format!("`{name}`: unknown type `{ty_text}`"))?;
    let required_text = cell(columns.required);
    let required = match required_text {
        "" => None,
        "是" | "Y" | "y" | "yes" | "Yes" | "true" | "必填" | "必选" | "√" => Some(true),
        "否" | "N" | "n" | "no" | "No" | "false" | "非必填" | "可选" | "选填" => {
            Some(false)
        }
        other => return Err(format!("`{name}`: required `{other}` is neither 是 nor 否")),
    };
    let default_text = cell(columns.default);
    let description_text = cell(columns.description);
    let (description, default) = match (default_text, description_text) {
        ("", d) => (d.to_string(), None),
        (d, "") => (d.to_string(), None),
        (d, e) if d == e => (d.to_string(), None),
        (d, e) if is_literal(d) => (e.to_string(), Some(d.to_string())),
        (d, e) => (format!("{d} {e}"), None),
    };
    Ok(Field {
        name: name.to_string(),
        line: number,
        required,
        ty,
        description: normalize_space(&description),
        default,
        children: Vec::new(),
    })
}

/// The nesting depth a name's prefix draws: one level per tree mark, and
/// one per blank column (two spaces, a full-width space or a tab) where a
/// finished branch leaves no `│`. The single space after a mark separates.
fn tree_depth(prefix: &str) -> usize {
    let mut depth = 0;
    let mut blanks = 0;
    let mut after_mark = false;
    for c in prefix.chars() {
        if TREE_MARKS.contains(&c) {
            depth += 1 + blanks / 2;
            blanks = 0;
            after_mark = true;
            continue;
        }
        match c {
            ' ' | '\u{a0}' if after_mark => after_mark = false,
            ' ' | '\u{a0}' => blanks += 1,
            '\u{3000}' | '\t' => {
                blanks += 2;
                after_mark = false;
            }
            _ => {}
        }
    }
    depth + blanks / 2
}

/// A field name the spec and the generators can carry as it is.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A 默认值 cell that holds a value rather than words: a number, a boolean,
/// or a short ASCII token.
fn is_literal(text: &str) -> bool {
    text.parse::<f64>().is_ok()
        || matches!(text, "true" | "false" | "null")
        || (text.len() <= 16 && text.chars().all(|c| c.is_ascii_graphic()))
}

fn normalize_space(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn field_type(text: &str) -> Option<FieldType> {
    let lower: String = text
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let scalar = |t: &str| match t {
        "string" | "str" | "varchar" | "text" | "char" => Some(FieldType::String),
        "integer" | "int" | "long" | "int32" | "int64" | "short" | "bigint" => {
            Some(FieldType::Integer)
        }
        "number" | "double" | "float" | "decimal" | "bigdecimal" => Some(FieldType::Number),
        "boolean" | "bool" => Some(FieldType::Boolean),
        "object" => Some(FieldType::Object),
        _ => None,
    };
    if let Some(inner) = lower.strip_suffix("[]") {
        return scalar(inner).map(|t| FieldType::Array(Box::new(t)));
    }
    for open in ["array<", "list<", "array[", "list["] {
        if let Some(inner) = lower.strip_prefix(open) {
            let inner = inner.strip_suffix(['>', ']'])?;
            return scalar(inner).map(|t| FieldType::Array(Box::new(t)));
        }
    }
    scalar(&lower)
}

/// Nests rows by their depth. A row more than one level below the one
/// before, or under a field that is not an object, is reported; so are the
/// rows nested under a row that was.
fn tree(mut rows: Vec<Row>, problems: &mut Vec<Problem>) -> Vec<Field> {
    // A table indented as a whole (copied from a code block) starts deeper.
    let base = rows.iter().map(|r| r.depth).min().unwrap_or(0);
    for row in &mut rows {
        row.depth -= base;
    }
    // Arena of accepted rows; `path` holds, per depth, the row that new rows
    // of the next depth nest under (None: that row was not accepted).
    let mut arena: Vec<(Field, Vec<usize>)> = Vec::new();
    let mut roots = Vec::new();
    let mut path: Vec<Option<usize>> = Vec::new();
    for Row {
        field,
        depth,
        unreadable,
    } in rows
    {
        if unreadable {
            if depth <= path.len() {
                path.truncate(depth);
                path.push(None);
            }
            continue;
        }
        if depth > MAX_DEPTH {
            problems.push(Problem {
                line: field.line,
                text: field.name.clone(),
                why: format!("`{}` is nested deeper than {MAX_DEPTH} levels", field.name),
            });
            continue;
        }
        if depth > path.len() {
            problems.push(Problem {
                line: field.line,
                text: field.name.clone(),
                why: format!(
                    "`{}` is nested {depth} levels deep right after a row {} deep",
                    field.name,
                    path.len().saturating_sub(1)
                ),
            });
            continue;
        }
        path.truncate(depth);
        let parent = match depth.checked_sub(1) {
            None => None,
            Some(d) => match path[d] {
                Some(parent) => Some(parent),
                None => {
                    problems.push(Problem {
                        line: field.line,
                        text: field.name.clone(),
                        why: format!("`{}` is nested under a row that was left out", field.name),
                    });
                    path.push(None);
                    continue;
                }
            },
        };
        if let Some(parent) = parent {
            let parent_field = &arena[parent].0;
            if !matches!(parent_field.ty, FieldType::Object)
                && parent_field.ty != FieldType::Array(Box::new(FieldType::Object))
            {
                problems.push(Problem {
                    line: field.line,
                    text: field.name.clone(),
                    why: format!(
                        "`{}` is nested under `{}`, which is {}, not an object",
                        field.name,
                        parent_field.name,
                        parent_field.ty.label()
                    ),
                });
                path.push(None);
                continue;
            }
        }
        let id = arena.len();
        arena.push((field, Vec::new()));
        match parent {
            Some(parent) => arena[parent].1.push(id),
            None => roots.push(id),
        }
        path.push(Some(id));
    }
    fn build(arena: &[(Field, Vec<usize>)], id: usize) -> Field {
        let (field, children) = &arena[id];
        let mut field = field.clone();
        field.children = children.iter().map(|&c| build(arena, c)).collect();
        field
    }
    roots.iter().map(|&id| build(&arena, id)).collect()
}

/// The JSON value starting at byte `start`, with the lines it spans.
fn sample(text: &str, start: usize, first_line: usize) -> Result<Sample, Problem> {
    let rest = &text[start..];
    let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
    match stream.next() {
        Some(Ok(value)) => {
            let end = stream.byte_offset();
            let json = &rest[..end];
            let last_line = first_line + json.matches('\n').count();
            Ok(Sample {
                lines: (first_line, last_line),
                text: json.to_string(),
                value,
            })
        }
        Some(Err(e)) => Err(Problem {
            line: first_line + e.line().saturating_sub(1),
            text: String::new(),
            why: format!("the sample JSON cannot be read: {e}"),
        }),
        None => Err(Problem {
            line: first_line,
            text: String::new(),
            why: "the sample JSON is empty".into(),
        }),
    }
}

/// The sample re-indented as the project's fixtures are (two spaces, one
/// member per line), token by token so numbers and key order stay exactly
/// as the platform printed them.
pub fn pretty(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let mut depth = 0usize;
    let mut chars = json.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                let mut escaped = false;
                for s in chars.by_ref() {
                    out.push(s);
                    if escaped {
                        escaped = false;
                    } else if s == '\\' {
                        escaped = true;
                    } else if s == '"' {
                        break;
                    }
                }
            }
            '{' | '[' => {
                out.push(c);
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                if chars.peek().is_some_and(|&n| n == '}' || n == ']') {
                    out.push(chars.next().unwrap_or(']'));
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_with_and_without_trailing_pipes_and_nesting() {
        let page = parse(
            "greeting\n\
             名称 | 必选 | 类型 | 默认值 | 描述 |\n\
             ---|---|---|---|---|\n\
             paramContent | 是 | object | 参数 | |\n\
             ├ startId | 是 | integer | 起始id [>= 0] | |\n\
             └ pageSize | 是 | integer | | 每页条数 [1~100]\n\
             名称 | 必选 | 类型 | 默认值 | 描述\n\
             ---|---|---|---|---\n\
             result | 否 | object[] | 列表 |\n\
             ├ group | 否 | object | 分组 | |\n\
             │ ├ rules | 否 | object[] | 规则 | |\n\
             │ │ └ values | 否 | string[] | 值 | |\n\
             │ └ name | 否 | string | 1 | 名称\n\
             └ id | 否 | integer | id |\n",
        );
        assert!(page.problems.is_empty(), "{:?}", page.problems);
        assert_eq!(page.ignored, [(1, "greeting".to_string())]);
        let request = page.request.unwrap();
        let params = &request.fields[0];
        assert_eq!(params.children.len(), 2);
        assert_eq!(params.children[1].description, "每页条数 [1~100]");
        let response = page.response.unwrap();
        let result = &response.fields[0];
        assert_eq!(result.ty, FieldType::Array(Box::new(FieldType::Object)));
        let group = &result.children[0];
        assert_eq!(group.children[0].children[0].name, "values");
        assert_eq!(
            group.children[0].children[0].ty,
            FieldType::Array(Box::new(FieldType::String))
        );
        assert_eq!(group.children[1].default.as_deref(), Some("1"));
        assert_eq!(group.children[1].description, "名称");
        assert_eq!(result.children[1].name, "id");
        assert_eq!(result.children[1].line, 14);
    }

    #[test]
    fn tree_prefixes_of_every_style() {
        assert_eq!(tree_depth(""), 0);
        assert_eq!(tree_depth("├ "), 1);
        assert_eq!(tree_depth("├─ "), 1);
        assert_eq!(tree_depth("│ ├ "), 2);
        assert_eq!(tree_depth("├ ├ "), 2);
        assert_eq!(tree_depth("  ├ "), 2);
        assert_eq!(tree_depth("│   └ "), 3);
        assert_eq!(tree_depth("    └ "), 3);
        assert_eq!(tree_depth("\u{3000}├ "), 2);
        assert_eq!(tree_depth("  "), 1);
    }

    #[test]
    fn unreadable_rows_are_reported_with_their_line_and_children() {
        let page = parse(
            "名称 | 必选 | 类型 | 默认值 | 描述 |\n\
             ---|---|---|---|---|\n\
             ok | 否 | string | 好 | |\n\
             bad | 否 | map<string,string> | 坏 | |\n\
             ├ child | 否 | string | 子 | |\n\
             weird | 也许 | string | x | |\n\
             ├ ├ deep | 否 | string | 深 | |\n\
             name | 否 | string | 名 |\n\
             ├ under | 否 | string | 在字符串下 |\n",
        );
        let lines: Vec<usize> = page.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [4, 5, 6, 7, 9], "{:#?}", page.problems);
        assert!(page.problems[0].why.contains("map<string,string>"));
        assert!(page.problems[2].why.contains("也许"));
        assert!(page.problems[4].why.contains("not an object"));
        let fields = page.response.unwrap().fields;
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["ok", "name"]);
    }

    #[test]
    fn the_sample_is_read_pretty_or_compact_and_reindented() {
        let page = parse(
            "名称 | 必选 | 类型 | 默认值 | 描述 |\n---|---|---|---|---|\nid | 否 | integer | id |\n\n{\n\"a\": [1, {\"b\":9007199254740993}],\n\"c\": {}, \"d\": \"x|y\"\n}\ntrailing words\n",
        );
        let sample = page.sample.unwrap();
        assert_eq!(sample.lines, (5, 8));
        assert_eq!(page.ignored, [(9, "trailing words".to_string())]);
        assert_eq!(
            pretty(&sample.text),
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": 9007199254740993\n    }\n  ],\n  \"c\": {},\n  \"d\": \"x|y\"\n}\n"
        );
    }

    #[test]
    fn a_broken_sample_is_reported_at_its_line() {
        let page = parse(
            "名称 | 必选 | 类型 | 默认值 | 描述 |\n---|---|---|---|---|\nid | 否 | integer | id |\n{\n\"a\": 1,\n\"b\": oops\n}\n",
        );
        assert!(page.sample.is_none());
        assert_eq!(page.problems[0].line, 6, "{:?}", page.problems);
    }
}
