//! Text that reaches a terminal or a spreadsheet: owns making the
//! platform's strings inert (control and bidirectional-override characters
//! escaped, length capped), csv cells that cannot act as formulas, display
//! widths, times as UTC text and numbers with thousands separators.

use std::borrow::Cow;
use std::fmt::Write as _;

use unicode_width::UnicodeWidthChar;

/// The longest piece of platform text (a `msg`, a `traceId`, a warning's
/// quote) shown on a terminal, in characters.
pub const TEXT_CAP: usize = 300;

/// The longest line of a message (an error or warning with its quotes).
pub const LINE_CAP: usize = 1000;

/// Whether `c` must not reach a terminal as itself: control characters (C0,
/// DEL, C1, which start escape sequences) and the bidirectional overrides
/// that reorder what a reader sees.
fn is_active(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Writes `c` as a visible escape: `\n`, `\r`, `\t`, or `\u{1b}`.
fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
}

/// `text` with every active character escaped and at most `cap` characters
/// of it kept (then `…`). Borrowed when nothing needed changing.
pub fn inert(text: &str, cap: usize) -> Cow<'_, str> {
    let long = text.chars().nth(cap).is_some();
    if !long && !text.chars().any(is_active) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(cap.saturating_mul(4)) + 8);
    for (n, c) in text.chars().enumerate() {
        if n == cap {
            out.push('…');
            break;
        }
        if is_active(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A message line for stderr: escaped and capped at [`LINE_CAP`].
pub fn line(text: &str) -> Cow<'_, str> {
    inert(text, LINE_CAP)
}

/// One csv cell: numbers as they are; text with its control characters
/// escaped, a leading formula character (`=`, `+`, `-`, `@`, and tab or CR
/// before escaping) neutralised with a leading `'`, and quoted when it holds
/// a comma or a quote (RFC 4180).
pub fn csv_text(text: &str, out: &mut String) {
    let escaped = inert(text, usize::MAX);
    let formula = matches!(
        text.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    );
    let quote = escaped.contains([',', '"']) || formula;
    if quote {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in escaped.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quote {
        out.push('"');
    }
}

/// Terminal cells `c` takes (East Asian wide characters take two).
pub fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// Terminal cells `text` takes.
pub fn width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

/// `text` (already inert) cut to at most `cells` terminal cells, ending in
/// `…` when cut.
pub fn fit(text: &str, cells: usize) -> Cow<'_, str> {
    if width(text) <= cells {
        return Cow::Borrowed(text);
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = char_width(c);
        if used + w + 1 > cells {
            break;
        }
        used += w;
        out.push(c);
    }
    if cells > 0 {
        out.push('…');
    }
    Cow::Owned(out)
}

/// Epoch milliseconds as UTC `YYYY-MM-DD HH:MM:SS`.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = shiheng_spec::dates::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `n` with a comma every three digits: `12,154`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` and the noun, singular or plural: `1 page`, `3 pages`.
pub fn count(n: u64, singular: &str, plural: &str) -> String {
    format!(
        "{} {}",
        thousands(n),
        if n == 1 { singular } else { plural }
    )
}

/// JSON text without the whitespace between its tokens, so an item received
/// pretty-printed still takes one jsonl line; strings are kept byte for byte.
pub fn compact_json(json: &str) -> Cow<'_, str> {
    if !json.contains(['\n', '\r']) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            in_string = c == '"';
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_text_is_escaped_and_capped() {
        assert_eq!(inert("ok 王", 10), "ok 王");
        assert!(matches!(inert("plain", 10), Cow::Borrowed(_)));
        assert_eq!(inert("a\u{1b}[2Jb\nc\u{7}", 100), "a\\u{1b}[2Jb\\nc\\u{7}");
        assert_eq!(inert("\u{202E}evil", 100), "\\u{202e}evil");
        assert_eq!(inert("\u{9b}31m", 100), "\\u{9b}31m");
        let long = "x".repeat(10_000);
        let capped = inert(&long, TEXT_CAP);
        assert_eq!(capped.chars().count(), TEXT_CAP + 1);
        assert!(capped.ends_with('…'));
    }

    #[test]
    fn csv_cells_cannot_act() {
        let cell = |text: &str| {
            let mut out = String::new();
            csv_text(text, &mut out);
            out
        };
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "\"'+1\"");
        assert_eq!(cell("-2+3"), "\"'-2+3\"");
        assert_eq!(cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(cell("\t=1"), "\"'\\t=1\"");
        assert_eq!(cell("\r=1"), "\"'\\r=1\"");
        assert_eq!(cell("line\nbreak\u{1b}"), "line\\nbreak\\u{1b}");
        assert_eq!(cell("a=b"), "a=b");
    }

    #[test]
    fn widths_and_fitting() {
        assert_eq!(width("王小明"), 6);
        assert_eq!(fit("王小明王小明", 5), "王小…");
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("abcd", 3), "ab…");
    }

    #[test]
    fn times_and_numbers() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_700_000_000_000), "2023-11-14 22:13:20");
        assert_eq!(utc(-1), "1969-12-31 23:59:59");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(12_154), "12,154");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(count(1, "page", "pages"), "1 page");
        assert_eq!(count(2, "page", "pages"), "2 pages");
    }

    #[test]
    fn json_is_compacted_outside_strings_only() {
        assert_eq!(compact_json("{\"a\": 1}"), "{\"a\": 1}");
        assert_eq!(
            compact_json("{\n  \"a b\": \"x\\\" y\",\n  \"c\": [1, 2]\n}"),
            "{\"a b\":\"x\\\" y\",\"c\":[1,2]}"
        );
    }
}
