//! Writing items as they arrive, in the four output formats. Owns the
//! per-type knowledge the formats need (`Row`: the field names, the table
//! columns) and nothing about fetching.
//!
//! `json`/`jsonl`/`csv` show every field of the spec's item schema: the
//! generated structs skip absent fields when serialised, so the complete list
//! of field names is read from the type itself (see `fields`), and absent
//! ones are written as null (empty in csv).

use std::io::{self, Write};

use clap::ValueEnum;
use serde::Serialize;
use serde_json::{Map, Value};
use shiheng::types::{Customer, Employee, GroupChat};

/// How items are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns of the main fields, for people.
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

/// An item the tool can print.
pub trait Row: Serialize + Default {
    /// The table's columns: header and width in terminal cells.
    const COLUMNS: &'static [(&'static str, usize)];
    /// The table's cells, in `COLUMNS` order.
    fn cells(&self) -> Vec<String>;
}

fn text(value: Option<impl ToString>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

impl Row for Employee {
    const COLUMNS: &'static [(&'static str, usize)] = &[
        ("id", 17),
        ("name", 10),
        ("status", 16),
        ("contact", 7),
        ("phone", 12),
        ("weComUserId", 20),
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            text(self.id),
            text(self.name.as_deref()),
            text(self.status),
            text(
                self.follow_user_flag
                    .map(|f| if f.get() { "yes" } else { "no" }),
            ),
            text(self.phone.as_ref()),
            text(self.we_com_user_id.as_deref()),
        ]
    }
}

impl Row for Customer {
    const COLUMNS: &'static [(&'static str, usize)] = &[
        ("id", 17),
        ("name", 16),
        ("phone", 12),
        ("memberId", 10),
        ("shCreateTime", 14),
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            text(self.id),
            text(self.name.as_deref()),
            text(self.phone.as_ref()),
            text(self.member_id),
            text(self.sh_create_time.as_ref()),
        ]
    }
}

impl Row for GroupChat {
    const COLUMNS: &'static [(&'static str, usize)] = &[
        ("id", 17),
        ("chatName", 28),
        ("num", 4),
        ("ownerName", 10),
        ("shopName", 20),
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            text(self.id),
            text(self.chat_name.as_deref()),
            text(self.num),
            text(self.owner_name.as_deref()),
            text(self.shop_name.as_deref()),
        ]
    }
}

/// Writes items one by one in a [`Format`]; call [`finish`](Self::finish)
/// at the end (it closes the JSON array and flushes).
pub struct ItemWriter<W: Write> {
    format: Format,
    out: W,
    fields: Vec<&'static str>,
    written: u64,
}

impl<W: Write> ItemWriter<W> {
    /// A writer of `T` items to `out`.
    pub fn new<T: Row>(format: Format, out: W) -> Self {
        Self {
            format,
            out,
            fields: fields::<T>(),
            written: 0,
        }
    }

    /// Writes one item (and, before the first, the header or the `[`).
    pub fn write<T: Row>(&mut self, item: &T) -> io::Result<()> {
        let first = self.written == 0;
        self.written += 1;
        match self.format {
            Format::Table => {
                if first {
                    let headers: Vec<String> =
                        T::COLUMNS.iter().map(|(h, _)| h.to_string()).collect();
                    write_table_row::<T>(&mut self.out, &headers)?;
                }
                write_table_row::<T>(&mut self.out, &item.cells())
            }
            Format::Jsonl => {
                let value = self.complete(item)?;
                serde_json::to_writer(&mut self.out, &value)?;
                self.out.write_all(b"\n")
            }
            Format::Json => {
                let value = self.complete(item)?;
                self.out.write_all(if first { b"[\n" } else { b",\n" })?;
                serde_json::to_writer(&mut self.out, &value)?;
                Ok(())
            }
            Format::Csv => {
                if first {
                    let header: Vec<String> = self.fields.iter().map(|f| csv_cell(f)).collect();
                    writeln!(self.out, "{}", header.join(","))?;
                }
                let value = self.complete(item)?;
                let cells: Vec<String> = self
                    .fields
                    .iter()
                    .map(|f| csv_cell(&plain(value.get(*f).unwrap_or(&Value::Null))))
                    .collect();
                writeln!(self.out, "{}", cells.join(","))
            }
        }
    }

    /// Pushes what was written so far to the output.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Ends the output (an empty listing is `[]` in json, a header alone in
    /// csv) and flushes.
    pub fn finish<T: Row>(mut self) -> io::Result<()> {
        match self.format {
            Format::Json if self.written == 0 => self.out.write_all(b"[]\n")?,
            Format::Json => self.out.write_all(b"\n]\n")?,
            Format::Csv if self.written == 0 => {
                let header: Vec<String> = self.fields.iter().map(|f| csv_cell(f)).collect();
                writeln!(self.out, "{}", header.join(","))?;
            }
            Format::Table if self.written == 0 => {
                let headers: Vec<String> = T::COLUMNS.iter().map(|(h, _)| h.to_string()).collect();
                write_table_row::<T>(&mut self.out, &headers)?;
            }
            _ => {}
        }
        self.out.flush()
    }

    /// The item as a JSON object with every field of its schema, in the
    /// type's field order, absent ones as null.
    fn complete<T: Row>(&self, item: &T) -> io::Result<Value> {
        let Value::Object(mut present) = serde_json::to_value(item)? else {
            return Err(io::Error::other("an item did not serialise to an object"));
        };
        let mut out = Map::new();
        for field in &self.fields {
            out.insert(
                (*field).to_string(),
                present.remove(*field).unwrap_or(Value::Null),
            );
        }
        // Fields the list does not know (none today) are kept, not dropped.
        out.extend(present);
        Ok(Value::Object(out))
    }
}

/// A JSON value as a csv or table cell: strings without quotes, null empty.
fn plain(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn write_table_row<T: Row>(out: &mut impl Write, cells: &[String]) -> io::Result<()> {
    let mut line = String::new();
    for (i, ((_, width), cell)) in T::COLUMNS.iter().zip(cells).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        let cell = fit(cell, *width);
        let pad = width.saturating_sub(display_width(&cell));
        line.push_str(&cell);
        if i + 1 < T::COLUMNS.len() {
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    writeln!(out, "{}", line.trim_end())
}

/// Terminal cells of `c`: East Asian wide characters take two.
fn char_width(c: char) -> usize {
    let wide = matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF | 0x20000..=0x3FFFD);
    if c.is_control() {
        0
    } else if wide {
        2
    } else {
        1
    }
}

fn display_width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

/// `text` cut to `width` cells, with `…` when cut; control characters
/// become spaces so one item stays one line.
fn fit(text: &str, width: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if display_width(&clean) <= width {
        return clean;
    }
    let mut out = String::new();
    let mut used = 0;
    for c in clean.chars() {
        let w = char_width(c);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// The names of every field of `T`'s schema, in declaration order.
pub fn fields<T: Row>() -> Vec<&'static str> {
    let mut names = fields::Names::default();
    // A default item has every field absent, so each one reaches the
    // serializer through `skip_field`; the list comes from the type itself.
    let _ = T::default().serialize(&mut names);
    names.0
}

mod fields {
    //! A serde serializer that only records a struct's field names, present
    //! (`serialize_field`) or skipped (`skip_field`).
    use std::fmt;

    use serde::Serialize;
    use serde::ser::{self, Impossible, SerializeStruct};

    #[derive(Default)]
    pub struct Names(pub Vec<&'static str>);

    #[derive(Debug)]
    pub struct NotAStruct;

    impl fmt::Display for NotAStruct {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("not a struct")
        }
    }

    impl std::error::Error for NotAStruct {}

    impl ser::Error for NotAStruct {
        fn custom<T: fmt::Display>(_: T) -> Self {
            NotAStruct
        }
    }

    macro_rules! refuse {
        ($($name:ident($($arg:ty),*)),* $(,)?) => {
            $(fn $name(self, $(_: $arg),*) -> Result<(), NotAStruct> { Err(NotAStruct) })*
        };
    }

    impl ser::Serializer for &mut Names {
        type Ok = ();
        type Error = NotAStruct;
        type SerializeSeq = Impossible<(), NotAStruct>;
        type SerializeTuple = Impossible<(), NotAStruct>;
        type SerializeTupleStruct = Impossible<(), NotAStruct>;
        type SerializeTupleVariant = Impossible<(), NotAStruct>;
        type SerializeMap = Impossible<(), NotAStruct>;
        type SerializeStruct = Self;
        type SerializeStructVariant = Impossible<(), NotAStruct>;

        refuse!(
            serialize_bool(bool),
            serialize_i8(i8),
            serialize_i16(i16),
            serialize_i32(i32),
            serialize_i64(i64),
            serialize_u8(u8),
            serialize_u16(u16),
            serialize_u32(u32),
            serialize_u64(u64),
            serialize_f32(f32),
            serialize_f64(f64),
            serialize_char(char),
            serialize_str(&str),
            serialize_bytes(&[u8]),
            serialize_none(),
            serialize_unit(),
            serialize_unit_struct(&'static str),
            serialize_unit_variant(&'static str, u32, &'static str),
        );

        fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<(), NotAStruct> {
            Err(NotAStruct)
        }
        fn serialize_newtype_struct<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: &T,
        ) -> Result<(), NotAStruct> {
            Err(NotAStruct)
        }
        fn serialize_newtype_variant<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<(), NotAStruct> {
            Err(NotAStruct)
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotAStruct> {
            Err(NotAStruct)
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotAStruct> {
            Err(NotAStruct)
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, NotAStruct> {
            Err(NotAStruct)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, NotAStruct> {
            Err(NotAStruct)
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotAStruct> {
            Err(NotAStruct)
        }
        fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, NotAStruct> {
            Ok(self)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, NotAStruct> {
            Err(NotAStruct)
        }
    }

    impl SerializeStruct for &mut Names {
        type Ok = ();
        type Error = NotAStruct;
        fn serialize_field<T: ?Sized + Serialize>(
            &mut self,
            key: &'static str,
            _: &T,
        ) -> Result<(), NotAStruct> {
            self.0.push(key);
            Ok(())
        }
        fn skip_field(&mut self, key: &'static str) -> Result<(), NotAStruct> {
            self.0.push(key);
            Ok(())
        }
        fn end(self) -> Result<(), NotAStruct> {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_from_the_types() {
        let employee = fields::<Employee>();
        assert_eq!(employee.len(), 15);
        assert!(employee.contains(&"followUserFlag") && employee.contains(&"weComUserId"));
        assert_eq!(fields::<Customer>().len(), 10);
        assert_eq!(fields::<GroupChat>().len(), 12);
    }

    #[test]
    fn jsonl_fills_absent_fields_with_null() {
        let mut out = Vec::new();
        let mut writer = ItemWriter::new::<Customer>(Format::Jsonl, &mut out);
        let item = Customer {
            id: Some(9_007_199_254_740_993),
            ..Customer::default()
        };
        writer.write(&item).expect("write");
        writer.finish::<Customer>().expect("finish");
        let line: Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(line["id"], serde_json::json!(9_007_199_254_740_993i64));
        assert!(line["phone"].is_null() && line.get("phone").is_some());
    }

    #[test]
    fn table_cells_are_cut_by_terminal_width() {
        assert_eq!(display_width("王小明"), 6);
        assert_eq!(fit("王小明王小明", 5), "王小…");
        assert_eq!(csv_cell("a,\"b\""), "\"a,\"\"b\"\"\"");
    }
}
