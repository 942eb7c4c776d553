//! The YAML the importer writes: an ordered tree (so the fragment keeps the
//! page's field order) and its emitter, in the hand-written spec's style:
//! 2-space indent, block sequences indented under their key, flow lists for
//! short scalar lists (`required: [a, b]`), single quotes only where YAML
//! needs them, and long descriptions folded (`>-`).

use serde_json::Value;

/// Where folded descriptions wrap, as in the hand-written spec.
const WIDTH: usize = 88;

/// A YAML value, in the order it is written.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    /// A string, quoted only where YAML needs it.
    Str(String),
    /// An integer.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// `true` / `false`.
    Bool(bool),
    /// `null` (only in what an existing spec held: kept by `--replace`).
    Null,
    /// A mapping, keys in insertion order.
    Map(Vec<(String, Yaml)>),
    /// A block sequence (`- item` lines).
    Seq(Vec<Yaml>),
    /// A flow sequence of scalars (`[a, b]`).
    Flow(Vec<Yaml>),
}

impl Yaml {
    /// A string value.
    pub fn str(text: impl Into<String>) -> Self {
        Yaml::Str(text.into())
    }

    /// `$ref: '#/components/schemas/<name>'`.
    pub fn schema_ref(name: &str) -> Self {
        Yaml::Map(vec![(
            "$ref".into(),
            Yaml::str(format!("#/components/schemas/{name}")),
        )])
    }

    /// A value of the parsed spec as YAML to write back (short scalar lists
    /// in flow style, as the spec writes them).
    pub fn from_json(value: &Value) -> Yaml {
        match value {
            Value::Null => Yaml::Null,
            Value::Bool(b) => Yaml::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Yaml::Int(i),
                None => Yaml::Float(n.as_f64().unwrap_or(0.0)),
            },
            Value::String(s) => Yaml::Str(s.clone()),
            Value::Array(items) => {
                let items: Vec<Yaml> = items.iter().map(Yaml::from_json).collect();
                if items
                    .iter()
                    .all(|i| !matches!(i, Yaml::Map(_) | Yaml::Seq(_) | Yaml::Flow(_)))
                {
                    Yaml::Flow(items)
                } else {
                    Yaml::Seq(items)
                }
            }
            Value::Object(map) => Yaml::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Yaml::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// The same value as JSON, to compare with the parsed spec.
    pub fn to_json(&self) -> Value {
        match self {
            Yaml::Str(s) => Value::String(s.clone()),
            Yaml::Int(n) => Value::from(*n),
            Yaml::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Yaml::Bool(b) => Value::Bool(*b),
            Yaml::Null => Value::Null,
            Yaml::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Yaml::Seq(items) | Yaml::Flow(items) => {
                Value::Array(items.iter().map(Yaml::to_json).collect())
            }
        }
    }
}

/// Writes `entries` as a block mapping whose keys start at column `indent`.
pub fn emit_map(entries: &[(String, Yaml)], indent: usize, out: &mut String) {
    for (key, value) in entries {
        let pad = " ".repeat(indent);
        let key = scalar_text(key);
        match value {
            Yaml::Map(inner) if inner.is_empty() => out.push_str(&format!("{pad}{key}: {{}}\n")),
            Yaml::Map(inner) => {
                out.push_str(&format!("{pad}{key}:\n"));
                emit_map(inner, indent + 2, out);
            }
            Yaml::Seq(items) if items.is_empty() => out.push_str(&format!("{pad}{key}: []\n")),
            Yaml::Seq(items) => {
                out.push_str(&format!("{pad}{key}:\n"));
                emit_seq(items, indent + 2, out);
            }
            Yaml::Str(text) => {
                let head = format!("{pad}{key}: ");
                if needs_folding(text, head.chars().count()) {
                    out.push_str(&format!("{pad}{key}: >-\n"));
                    fold(text, indent + 2, out);
                } else {
                    out.push_str(&head);
                    out.push_str(&scalar_text(text));
                    out.push('\n');
                }
            }
            scalar => out.push_str(&format!("{pad}{key}: {}\n", inline(scalar))),
        }
    }
}

fn emit_seq(items: &[Yaml], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Yaml::Map(entries) if !entries.is_empty() => {
                // The first entry shares the dash's line; the rest align under it.
                let mut first = String::new();
                emit_map(&entries[..1], indent + 2, &mut first);
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(&first[indent + 2..]);
                emit_map(&entries[1..], indent + 2, out);
            }
            other => out.push_str(&format!("{pad}- {}\n", inline(other))),
        }
    }
}

/// A scalar or flow list on one line.
fn inline(value: &Yaml) -> String {
    match value {
        Yaml::Str(s) => scalar_text(s),
        Yaml::Int(n) => n.to_string(),
        Yaml::Float(f) => {
            let text = f.to_string();
            if text.contains(['.', 'e', 'E']) {
                text
            } else {
                format!("{text}.0")
            }
        }
        Yaml::Bool(b) => b.to_string(),
        Yaml::Null => "null".into(),
        Yaml::Flow(items) | Yaml::Seq(items) => {
            let parts: Vec<String> = items.iter().map(in_flow).collect();
            format!("[{}]", parts.join(", "))
        }
        Yaml::Map(entries) if entries.is_empty() => "{}".into(),
        Yaml::Map(entries) => {
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", flow_scalar_text(k), in_flow(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// A value inside a flow collection (`[...]`, `{...}`).
fn in_flow(value: &Yaml) -> String {
    match value {
        Yaml::Str(s) => flow_scalar_text(s),
        other => inline(other),
    }
}

/// A string inside a flow collection: `,` `[` `]` `{` `}` end a plain
/// scalar there (`[b, c]` would be two items), so such a string is quoted.
fn flow_scalar_text(text: &str) -> String {
    if text.contains([',', '[', ']', '{', '}']) && is_plain_safe(text) {
        format!("'{}'", text.replace('\'', "''"))
    } else {
        scalar_text(text)
    }
}

/// A string as a plain scalar when YAML reads it back unchanged, otherwise
/// single-quoted (or double-quoted when it holds control characters).
pub fn scalar_text(text: &str) -> String {
    if !text.chars().all(is_printable) || text.contains('\u{feff}') {
        return double_quoted(text);
    }
    if is_plain_safe(text) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "''"))
    }
}

/// Characters YAML allows unescaped (its `c-printable`, without tab, line
/// breaks and NEL, which a one-line scalar must not hold raw).
fn is_printable(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// A double-quoted scalar: `\` escapes for `"`, `\` and anything not printable.
fn double_quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_printable(c) && c != '\u{feff}' => out.push(c),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn is_plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    if "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || first.is_whitespace()
        || first.is_ascii_digit()
        || first == '+'
        || first == '.'
    {
        return false;
    }
    if text.ends_with(char::is_whitespace) || text.ends_with(':') {
        return false;
    }
    if text.contains(": ") || text.contains(" #") {
        return false;
    }
    // Words YAML 1.1 readers (and libyaml) take for booleans or null.
    !matches!(
        text.to_ascii_lowercase().as_str(),
        "null" | "~" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
    )
}

fn needs_folding(text: &str, head_width: usize) -> bool {
    head_width + scalar_text(text).chars().count() > WIDTH
        && text.contains(' ')
        // A block scalar cannot escape anything.
        && text.chars().all(is_printable)
        && !text.contains('\u{feff}')
}

/// A folded block scalar's lines: words joined up to the width. Descriptions
/// are single-spaced, so every break is one space and reads back unchanged.
fn fold(text: &str, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && indent + line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(&pad);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&pad);
    out.push_str(&line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(text: &str) -> Value {
        serde_yaml_ng::from_str(text).expect("the emitted YAML parses")
    }

    #[test]
    fn strings_read_back_unchanged() {
        let strings = [
            "plain text",
            "#/components/schemas/X",
            "0",
            "1.0",
            "true",
            "null",
            "it's: quoted",
            "页码 [>= 1]",
            "- dash",
            "ends with colon:",
            "{\"a\": 1}",
            "状态 0-未知 1=已激活,2=已禁用",
            "tab\there",
            "c1 \u{85}\u{9f} control and \u{feff} bom and \u{1}",
            "quote \" and \\ backslash\u{7}",
        ];
        for s in strings {
            let mut out = String::new();
            emit_map(&[("k".into(), Yaml::str(s))], 0, &mut out);
            assert_eq!(read_back(&out)["k"], Value::String(s.into()), "{out}");
        }
    }

    #[test]
    fn strings_in_flow_lists_read_back_unchanged() {
        let items = [
            "b, c", "a,b", "[x]", "{y}", "x]", "p{q}", "0", "plain", "it's, ok",
        ];
        let mut out = String::new();
        emit_map(
            &[(
                "k".into(),
                Yaml::Flow(items.iter().map(|s| Yaml::str(*s)).collect()),
            )],
            0,
            &mut out,
        );
        let expected: Vec<Value> = items.iter().map(|s| Value::String(s.to_string())).collect();
        assert_eq!(read_back(&out)["k"], Value::Array(expected), "{out}");
        assert!(out.contains("plain"), "{out}");
        assert!(!out.contains("'plain'"), "plain words stay plain: {out}");
    }

    #[test]
    fn long_descriptions_fold_and_read_back() {
        let text = "Employee status (员工状态): 0 unknown (未知), 1 activated (已激活), 2 disabled \
                    (已禁用), 4 not activated (未激活), 5 left the company (退出企业), and more words.";
        let mut out = String::new();
        emit_map(
            &[(
                "a".into(),
                Yaml::Map(vec![("description".into(), Yaml::str(text))]),
            )],
            4,
            &mut out,
        );
        assert!(out.contains("description: >-\n"), "{out}");
        assert!(out.lines().all(|l| l.chars().count() <= WIDTH), "{out}");
        assert_eq!(
            read_back(&out)["a"]["description"],
            Value::String(text.into())
        );
    }

    #[test]
    fn style_matches_the_spec() {
        let tree = vec![(
            "X".into(),
            Yaml::Map(vec![
                (
                    "required".into(),
                    Yaml::Flow(vec![Yaml::str("a"), Yaml::str("b")]),
                ),
                ("security".into(), Yaml::Flow(vec![])),
                (
                    "anyOf".into(),
                    Yaml::Seq(vec![Yaml::Map(vec![
                        ("type".into(), Yaml::str("boolean")),
                        ("nullable".into(), Yaml::Bool(true)),
                    ])]),
                ),
                (
                    "x-known-values".into(),
                    Yaml::Flow(vec![Yaml::str("0"), Yaml::Int(1)]),
                ),
                ("200".into(), Yaml::schema_ref("Y")),
            ]),
        )];
        let mut out = String::new();
        emit_map(&tree, 4, &mut out);
        assert_eq!(
            out,
            "    X:\n      required: [a, b]\n      security: []\n      anyOf:\n        - type: boolean\n          nullable: true\n      x-known-values: ['0', 1]\n      '200':\n        $ref: '#/components/schemas/Y'\n"
        );
    }
}
