//! Response records and the decoding rule they share. Owns the rule that
//! makes every answer the platform sends decodable unless it is absurd:
//!
//! - a string field also accepts a JSON number or boolean, kept as its text
//!   (`1` → `"1"`, `13577770000` → `"13577770000"`; integers are exact at any
//!   64-bit size, never through `f64`);
//! - an integer field also accepts a string of digits (exact, 64-bit) and an
//!   integral float up to 2^53;
//! - a boolean field also accepts `0`/`1`/`"0"`/`"1"`/`"true"`/`"false"`;
//! - a number field also accepts numeric text;
//! - a value outside a field's `x-known-values`/`enum` decodes as itself;
//! - a field the spec does not declare is kept in the record's `extra` map,
//!   as the JSON text received (numbers keep every digit).
//!
//! `build.rs` generates one struct per object schema of the answers, with
//! its field table and one match arm per field; the decoder, the encoder
//! and the rule live here once. Every coercion, and every value outside a known
//! list, is noted for the listing's summary ([`crate::ListingSummary::coercions`]) and the
//! client's drift events.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// A JSON value exactly as received: its text, numbers with every digit
/// (`123456789012345678901234567890` stays that, `1E+2` stays `1E+2`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// The value as a [`Value`] (numbers past 64 bits become floats there).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

/// A record's undeclared fields, by name, as received.
pub type Extra = std::collections::BTreeMap<String, RawJson>;

/// How a field's value was read differently from what the spec declares;
/// its Display says so in words, as `RedirectRefusal`'s does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
#[non_exhaustive]
pub enum Coercion {
    /// A JSON number where the spec says string (kept as its text).
    #[error("a number where the spec says string")]
    NumberAsText,
    /// A JSON boolean where the spec says string (kept as `"true"`/`"false"`).
    #[error("a boolean where the spec says string")]
    BooleanAsText,
    /// Text holding an integer where the spec says integer.
    #[error("text where the spec says integer")]
    TextAsInteger,
    /// A float with no fraction where the spec says integer.
    #[error("a float where the spec says integer")]
    FloatAsInteger,
    /// `0`/`1` where the spec says boolean.
    #[error("an integer where the spec says boolean")]
    IntegerAsBoolean,
    /// `"0"`/`"1"`/`"true"`/`"false"` where the spec says boolean.
    #[error("text where the spec says boolean")]
    TextAsBoolean,
    /// Numeric text where the spec says number.
    #[error("text where the spec says number")]
    TextAsNumber,
    /// A value outside the field's documented values (`x-known-values`, `enum`).
    #[error("a value the spec does not list")]
    UnknownValue,
}

/// One noted coercion: which schema's field, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct Observed {
    /// The spec's schema name (`Employee`).
    pub schema: &'static str,
    /// The field's wire name (`gender`).
    pub field: &'static str,
    /// What was coerced.
    pub kind: Coercion,
}

thread_local! {
    /// The coercions of the decode in progress on this thread, when someone
    /// is collecting them ([`observe`]); decoding is synchronous, so a
    /// thread-local scope sees exactly one decode.
    static OBSERVED: RefCell<Option<Vec<Observed>>> = const { RefCell::new(None) };
}

/// Runs `decode` and returns what it noted. Nested calls each see their own.
pub(crate) fn observe<R>(decode: impl FnOnce() -> R) -> (R, Vec<Observed>) {
    let outer = OBSERVED.replace(Some(Vec::new()));
    let result = decode();
    let noted = OBSERVED.replace(outer).unwrap_or_default();
    (result, noted)
}

fn note(at: &FieldAt, kind: Coercion) {
    // A form the spec documents for this field (a branch of its `anyOf`) is
    // not a difference from the spec.
    let received = match kind {
        Coercion::NumberAsText => WireForms::INTEGER.union(WireForms::NUMBER),
        Coercion::BooleanAsText => WireForms::BOOLEAN,
        Coercion::TextAsInteger | Coercion::TextAsBoolean | Coercion::TextAsNumber => {
            WireForms::STRING
        }
        Coercion::FloatAsInteger => WireForms::NUMBER,
        Coercion::IntegerAsBoolean => WireForms::INTEGER,
        Coercion::UnknownValue => WireForms::NONE,
    };
    if at.documented.intersects(received) {
        return;
    }
    OBSERVED.with(|cell| {
        if let Some(noted) = cell.borrow_mut().as_mut() {
            noted.push(Observed {
                schema: at.schema,
                field: at.field,
                kind,
            });
        }
    });
}

/// Which field a value belongs to, for notes and error messages.
#[derive(Debug, Clone, Copy)]
pub struct FieldAt {
    /// The spec's schema name.
    pub schema: &'static str,
    /// The field's wire name.
    pub field: &'static str,
    /// The JSON forms the spec documents for it besides its type.
    pub documented: WireForms,
}

/// JSON forms of a value, as a set: the branches of a field's `anyOf` (the
/// platform's documented wire forms, e.g. a phone as a string or a number),
/// which the decoding rule then accepts without noting a difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WireForms(u8);

impl WireForms {
    /// No form besides the declared type.
    pub const NONE: WireForms = WireForms(0);
    /// A JSON string.
    pub const STRING: WireForms = WireForms(1);
    /// A JSON integer.
    pub const INTEGER: WireForms = WireForms(2);
    /// A JSON number with a fraction.
    pub const NUMBER: WireForms = WireForms(4);
    /// A JSON boolean.
    pub const BOOLEAN: WireForms = WireForms(8);

    /// Both sets together.
    pub const fn union(self, other: WireForms) -> WireForms {
        WireForms(self.0 | other.0)
    }

    /// Whether the sets share a form.
    pub const fn intersects(self, other: WireForms) -> bool {
        self.0 & other.0 != 0
    }
}

/// What the spec declares a field to be; the CLI formats cells by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldKind {
    /// `type: string`.
    Text,
    /// `type: integer`.
    Integer,
    /// `type: number`.
    Number,
    /// `type: boolean`.
    Boolean,
    /// A point in time ([`crate::lenient::PlatformTime`]).
    Time,
    /// A hand-written type named by the spec's `x-shiheng-type`.
    Custom,
    /// A nested object.
    Record,
    /// An array.
    List,
}

/// A field of a record, as the spec declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Field {
    /// The JSON forms the spec documents besides the declared type (the
    /// branches of an `anyOf`).
    pub documented: WireForms,
    /// The wire name (`weComUserId`).
    pub name: &'static str,
    /// The Rust field name (`we_com_user_id`).
    pub rust_name: &'static str,
    /// What the spec declares it to be.
    pub kind: FieldKind,
    /// The values the spec documents (`x-known-values`, `enum`), as JSON text;
    /// empty when it lists none.
    pub known: &'static [&'static str],
}

impl Field {
    /// A field entry (for the generated field tables).
    pub const fn new(
        name: &'static str,
        rust_name: &'static str,
        kind: FieldKind,
        known: &'static [&'static str],
    ) -> Self {
        Self {
            documented: WireForms::NONE,
            name,
            rust_name,
            kind,
            known,
        }
    }

    /// The field with the JSON forms its `anyOf` documents.
    pub const fn documenting(mut self, forms: WireForms) -> Self {
        self.documented = forms;
        self
    }
}

/// A record of the answers: one object schema of the spec, decoded by the
/// rule above. `build.rs` generates each record's struct and implements
/// this trait for it (the hidden methods are that generated code's part:
/// one match arm per field); the rule itself lives in this module.
pub trait Record:
    Serialize + for<'de> Deserialize<'de> + Clone + fmt::Debug + Default + Send + Sync + 'static
{
    /// The spec's schema name.
    const SCHEMA: &'static str;
    /// The fields the spec declares, in its order (the order of JSON output).
    const FIELDS: &'static [Field];
    /// Fields the platform sent that the spec does not declare.
    fn extra(&self) -> &Extra;
    /// A declared field's value (`None` when absent, null or not declared).
    fn get(&self, name: &str) -> Option<Cell<'_>> {
        Self::index_of(name).and_then(|index| self.cell(index))
    }
    /// The index in [`FIELDS`](Self::FIELDS) of the field named `name`.
    #[doc(hidden)]
    fn index_of(name: &str) -> Option<usize>;
    /// The `index`th declared field's value.
    #[doc(hidden)]
    fn cell(&self, index: usize) -> Option<Cell<'_>>;
    /// Reads the `index`th declared field's value from `map`.
    #[doc(hidden)]
    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
    ) -> Result<(), A::Error>;
    /// Writes every declared field, in order.
    #[doc(hidden)]
    fn write_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
    /// The undeclared fields, to add to.
    #[doc(hidden)]
    fn extra_mut(&mut self) -> &mut Extra;
}

/// A field's value, for output that is not JSON (csv cells, tables) and for
/// the paginators (ids).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Cell<'a> {
    /// Text, as received.
    Text(Cow<'a, str>),
    /// An integer.
    Integer(i64),
    /// A number.
    Number(f64),
    /// A boolean.
    Boolean(bool),
    /// A point in time: epoch milliseconds, or text when it was not a number.
    Time(Option<i64>, Cow<'a, str>),
    /// Anything else (objects, arrays, custom types), as compact JSON.
    Json(String),
}

impl Cell<'_> {
    /// The value as an integer, when it is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Cell::Integer(n) => Some(*n),
            Cell::Time(ms, _) => *ms,
            _ => None,
        }
    }
}

impl fmt::Display for Cell<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Text(text) | Cell::Time(_, text) => f.write_str(text),
            Cell::Integer(n) => write!(f, "{n}"),
            Cell::Number(n) => write!(f, "{n}"),
            Cell::Boolean(b) => write!(f, "{b}"),
            Cell::Json(json) => f.write_str(json),
        }
    }
}

/// A type a record field can hold: decoded by the rule, shown as a [`Cell`].
pub trait FieldValue: Sized + Serialize + DeserializeOwned {
    /// What the spec declares the field to be.
    const KIND: FieldKind = FieldKind::Record;
    /// Decodes one field value; `Ok(None)` for null. By default through the
    /// type's own `Deserialize` (nested records, the types of
    /// [`crate::lenient`]); scalars and lists by the decoding rule.
    fn decode<'de, D: Deserializer<'de>>(d: D, _at: &FieldAt) -> Result<Option<Self>, D::Error> {
        Option::deserialize(d)
    }
    /// The value as a cell; by default as compact JSON (nested records,
    /// lists).
    fn cell(&self) -> Cell<'_> {
        Cell::Json(serde_json::to_string(self).unwrap_or_default())
    }
    /// Whether the value is one of `known` (the JSON texts of the values
    /// the spec documents, `6`, `"1"`); true when the type cannot tell.
    fn is_known(&self, _known: &[&str]) -> bool {
        true
    }
}

/// Decodes a field with [`FieldValue::decode`], then checks its known values.
pub(crate) struct FieldSeed<T> {
    at: FieldAt,
    known: &'static [&'static str],
    _type: PhantomData<fn() -> T>,
}

impl<T> FieldSeed<T> {
    /// A seed for the field `field` of schema `schema`.
    pub(crate) fn new(
        schema: &'static str,
        field: &'static str,
        known: &'static [&'static str],
    ) -> Self {
        Self {
            at: FieldAt {
                schema,
                field,
                documented: WireForms::NONE,
            },
            known,
            _type: PhantomData,
        }
    }
}

impl<'de, T: FieldValue> DeserializeSeed<'de> for FieldSeed<T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        let value = T::decode(d, &self.at)?;
        if !self.known.is_empty() && value.as_ref().is_some_and(|v| !v.is_known(self.known)) {
            note(&self.at, Coercion::UnknownValue);
        }
        Ok(value)
    }
}

fn shape_error<E: de::Error>(at: &FieldAt, found: &str, wanted: &str) -> E {
    E::custom(format_args!(
        "{}.{}: {found} where the spec says {wanted}",
        at.schema, at.field
    ))
}

/// A JSON scalar as the parser handed it over, before a field's rule reads it.
enum Scalar<'a> {
    Text(Cow<'a, str>),
    /// An integer, from `i64::MIN` to `u64::MAX`.
    Integer(i128),
    /// A number the parser could only give as a float: one with a fraction
    /// or an exponent, or an integer past 64 bits.
    Float(f64),
    Boolean(bool),
}

/// One visitor for every scalar field: it hands the value to `T::read`,
/// the field type's rule; null is `None`; arrays and objects are refused.
struct ScalarVisitor<'a, T>(&'a FieldAt, PhantomData<fn() -> T>);

/// A scalar field type's part of the rule.
trait ScalarRule: Sized {
    /// What the spec says, for messages (`string`, `integer`).
    const WANTED: &'static str;
    /// The value from `scalar` and the coercion it took, if any, or what
    /// was found instead.
    fn read(scalar: Scalar<'_>) -> Result<(Self, Option<Coercion>), &'static str>;
}

impl<'de, T: ScalarRule> Visitor<'de> for ScalarVisitor<'_, T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a {} (or a form the decoding rule reads as one)",
            T::WANTED
        )
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.scalar(Scalar::Text(Cow::Borrowed(v)))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        self.scalar(Scalar::Text(Cow::Owned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.scalar(Scalar::Integer(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.scalar(Scalar::Integer(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.scalar(Scalar::Float(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.scalar(Scalar::Boolean(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(shape_error(self.0, "an array", T::WANTED))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(shape_error(self.0, "an object", T::WANTED))
    }
}

impl<T: ScalarRule> ScalarVisitor<'_, T> {
    #[inline(always)]
    fn scalar<E: de::Error>(&self, scalar: Scalar<'_>) -> Result<Option<T>, E> {
        let (value, coerced) =
            T::read(scalar).map_err(|found| shape_error(self.0, found, T::WANTED))?;
        if let Some(kind) = coerced {
            note(self.0, kind);
        }
        Ok(Some(value))
    }
}

/// The largest integer an `f64` holds exactly.
const EXACT_IN_F64: f64 = 9_007_199_254_740_992.0;

/// Text: strings as they are; numbers and booleans as their JSON text.
impl ScalarRule for String {
    const WANTED: &'static str = "string";
    #[inline(always)]
    fn read(scalar: Scalar<'_>) -> Result<(Self, Option<Coercion>), &'static str> {
        match scalar {
            Scalar::Text(text) => Ok((text.into_owned(), None)),
            Scalar::Integer(n) => Ok((n.to_string(), Some(Coercion::NumberAsText))),
            // JSON parsers hand over non-integers (and integers past 64
            // bits) as f64: past 2^53 an integral value may already have
            // lost digits, so it is refused rather than invented.
            Scalar::Float(v) if !v.is_finite() || (v.fract() == 0.0 && v.abs() > EXACT_IN_F64) => {
                Err("a number too large to keep exactly")
            }
            Scalar::Float(v) => Ok((v.to_string(), Some(Coercion::NumberAsText))),
            Scalar::Boolean(b) => Ok((b.to_string(), Some(Coercion::BooleanAsText))),
        }
    }
}

/// Integers: JSON integers, digit text and integral floats up to 2^53.
impl ScalarRule for i64 {
    const WANTED: &'static str = "integer";
    #[inline(always)]
    fn read(scalar: Scalar<'_>) -> Result<(Self, Option<Coercion>), &'static str> {
        match scalar {
            Scalar::Integer(n) => Ok((n.try_into().map_err(|_| "an integer above 2^63-1")?, None)),
            Scalar::Float(v) if v.fract() == 0.0 && v.abs() <= EXACT_IN_F64 => {
                Ok((v as i64, Some(Coercion::FloatAsInteger)))
            }
            Scalar::Float(v) if v.fract() != 0.0 || !v.is_finite() => {
                Err("a number with a fraction")
            }
            Scalar::Float(_) => Err("an integer too large to keep exactly"),
            Scalar::Text(text) => match text.trim().parse() {
                Ok(n) => Ok((n, Some(Coercion::TextAsInteger))),
                Err(_) => Err("text that is not an integer"),
            },
            Scalar::Boolean(_) => Err("a boolean"),
        }
    }
}

/// Numbers: JSON numbers and numeric text.
impl ScalarRule for f64 {
    const WANTED: &'static str = "number";
    #[inline(always)]
    fn read(scalar: Scalar<'_>) -> Result<(Self, Option<Coercion>), &'static str> {
        match scalar {
            Scalar::Float(v) => Ok((v, None)),
            Scalar::Integer(n) => Ok((n as f64, None)),
            Scalar::Text(text) => match text.trim().parse::<f64>() {
                Ok(n) if n.is_finite() => Ok((n, Some(Coercion::TextAsNumber))),
                _ => Err("text that is not a number"),
            },
            Scalar::Boolean(_) => Err("a boolean"),
        }
    }
}

/// Booleans: JSON booleans, `0`/`1` and their text, `"true"`/`"false"`.
impl ScalarRule for bool {
    const WANTED: &'static str = "boolean";
    #[inline(always)]
    fn read(scalar: Scalar<'_>) -> Result<(Self, Option<Coercion>), &'static str> {
        match scalar {
            Scalar::Boolean(b) => Ok((b, None)),
            Scalar::Integer(n @ (0 | 1)) => Ok((n == 1, Some(Coercion::IntegerAsBoolean))),
            Scalar::Integer(_) => Err("an integer other than 0 or 1"),
            Scalar::Float(_) => Err("a number with a fraction"),
            Scalar::Text(text) => match text.trim() {
                "1" | "true" => Ok((true, Some(Coercion::TextAsBoolean))),
                "0" | "false" => Ok((false, Some(Coercion::TextAsBoolean))),
                _ => Err("text other than 0/1/true/false"),
            },
        }
    }
}

impl FieldValue for String {
    const KIND: FieldKind = FieldKind::Text;
    fn decode<'de, D: Deserializer<'de>>(d: D, at: &FieldAt) -> Result<Option<Self>, D::Error> {
        d.deserialize_any(ScalarVisitor::<Self>(at, PhantomData))
    }
    fn cell(&self) -> Cell<'_> {
        Cell::Text(Cow::Borrowed(self))
    }
    fn is_known(&self, known: &[&str]) -> bool {
        // A JSON string is the text in quotes; a known value that needs
        // escapes is compared the slow way.
        known.iter().any(
            |k| match k.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
                Some(inner) if !inner.contains('\\') => inner == self,
                _ => serde_json::to_string(self).is_ok_and(|text| text == *k),
            },
        )
    }
}

impl FieldValue for i64 {
    const KIND: FieldKind = FieldKind::Integer;
    fn decode<'de, D: Deserializer<'de>>(d: D, at: &FieldAt) -> Result<Option<Self>, D::Error> {
        d.deserialize_any(ScalarVisitor::<Self>(at, PhantomData))
    }
    fn cell(&self) -> Cell<'_> {
        Cell::Integer(*self)
    }
    fn is_known(&self, known: &[&str]) -> bool {
        known.iter().any(|k| k.parse::<i64>() == Ok(*self))
    }
}

impl FieldValue for f64 {
    const KIND: FieldKind = FieldKind::Number;
    fn decode<'de, D: Deserializer<'de>>(d: D, at: &FieldAt) -> Result<Option<Self>, D::Error> {
        d.deserialize_any(ScalarVisitor::<Self>(at, PhantomData))
    }
    fn cell(&self) -> Cell<'_> {
        Cell::Number(*self)
    }
}

impl FieldValue for bool {
    const KIND: FieldKind = FieldKind::Boolean;
    fn decode<'de, D: Deserializer<'de>>(d: D, at: &FieldAt) -> Result<Option<Self>, D::Error> {
        d.deserialize_any(ScalarVisitor::<Self>(at, PhantomData))
    }
    fn cell(&self) -> Cell<'_> {
        Cell::Boolean(*self)
    }
    fn is_known(&self, known: &[&str]) -> bool {
        known.contains(&if *self { "true" } else { "false" })
    }
}

/// Arrays: each element by its own rule; null elements are dropped (an
/// array of nothing holds nothing), a scalar where an array belongs fails.
struct ListVisitor<'a, T>(&'a FieldAt, PhantomData<fn() -> T>);

impl<'de, T: FieldValue> Visitor<'de> for ListVisitor<'_, T> {
    type Value = Option<Vec<T>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        let element = || FieldSeed::<T> {
            at: *self.0,
            known: &[],
            _type: PhantomData,
        };
        while let Some(element) = seq.next_element_seed(element())? {
            out.extend(element);
        }
        Ok(Some(out))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<T: FieldValue> FieldValue for Vec<T> {
    const KIND: FieldKind = FieldKind::List;
    fn decode<'de, D: Deserializer<'de>>(d: D, at: &FieldAt) -> Result<Option<Self>, D::Error> {
        // Null, else an array: `deserialize_any` would compile the parser's
        // every path into each list's decoder.
        d.deserialize_option(ListVisitor::<T>(at, PhantomData))
    }
}

impl FieldValue for Value {
    const KIND: FieldKind = FieldKind::Custom;
    fn cell(&self) -> Cell<'_> {
        match self {
            Value::String(s) => Cell::Text(Cow::Borrowed(s)),
            other => Cell::Json(other.to_string()),
        }
    }
}

/// Writes a record as a JSON object: its declared fields in the spec's
/// order (absent ones as null), then `extra`. The `Serialize` impl that
/// `build.rs` generates for each record calls this.
pub(crate) fn serialize<T: Record, S: Serializer>(record: &T, s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(T::FIELDS.len() + record.extra().len()))?;
    record.write_fields(&mut map)?;
    for (key, value) in record.extra() {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

/// Reads a record from a JSON object by the decoding rule. The
/// `Deserialize` impl that `build.rs` generates for each record calls this.
/// Anything but an object is refused by the format ("invalid type: …,
/// expected an object (Employee)"); `deserialize_map` rather than
/// `deserialize_any` keeps the parser's scalar paths out of each record's
/// decoder.
pub(crate) fn deserialize<'de, T: Record, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_map(RecordVisitor::<T>(PhantomData))
}

/// Reads one declared field (the `index`th of `T::FIELDS`) from `map`; the
/// generated `Record::read_field` calls it for each field.
pub(crate) fn read<'de, V: FieldValue, A: MapAccess<'de>>(
    map: &mut A,
    schema: &'static str,
    field: &'static Field,
) -> Result<Option<V>, A::Error> {
    let mut seed = FieldSeed::<V>::new(schema, field.name, field.known);
    seed.at.documented = field.documented;
    map.next_value_seed(seed)
}

struct RecordVisitor<T>(PhantomData<fn() -> T>);

impl<'de, T: Record> Visitor<'de> for RecordVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object ({})", T::SCHEMA)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut out = T::default();
        while let Some(key) = map.next_key_seed(KeySeed(T::index_of))? {
            match key {
                Ok(index) => out.read_field(index, &mut map)?,
                Err(name) => {
                    out.extra_mut().insert(name, map.next_value()?);
                }
            }
        }
        Ok(out)
    }
}

/// Reads a field name as the index of a declared field (by the record's
/// `index_of`), or else the undeclared name. The lookup is a value, not a
/// type parameter, so that reading keys is compiled once per JSON reader
/// rather than once per record and reader.
struct KeySeed(fn(&str) -> Option<usize>);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Result<usize, String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Result<usize, String>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok((self.0)(v).ok_or_else(|| v.to_owned()))
    }
}

/// A page's item as its JSON text: what the dynamic table reads a page of
/// a generic form with (`NumberedPage<RawItem>`), so that the page's
/// decoder is compiled once per form; each item is then read by its
/// operation's item codec (`crate::dynamic`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct RawItem(Option<Box<RawValue>>);

impl FieldValue for RawItem {}

/// A nested record is a field value like any other.
impl<T: Record> FieldValue for T {}

/// A coercion the decoding rule made during a listing: where, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct Drifted {
    /// The spec's operationId.
    pub operation: &'static str,
    /// The schema and field (`Employee`, `gender`).
    pub schema: &'static str,
    /// The field's wire name.
    pub field: &'static str,
    /// What was coerced.
    pub kind: Coercion,
}

impl fmt::Display for Drifted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}.{}: {}",
            self.operation, self.schema, self.field, self.kind
        )
    }
}

/// A record whose type is chosen at run time (the CLI lists whichever
/// operation the command line names).
pub trait DynRecord: fmt::Debug + Send + Sync {
    /// The spec's schema name.
    fn schema(&self) -> &'static str;
    /// The declared fields, in the spec's order.
    fn fields(&self) -> &'static [Field];
    /// A declared field's value.
    fn get(&self, name: &str) -> Option<Cell<'_>>;
    /// Fields the spec does not declare.
    fn extra(&self) -> &Extra;
    /// Appends the record as JSON to `out`: declared fields in order, then
    /// `extra`. Through a concrete buffer rather than a `dyn Write`: serde
    /// writes JSON in many small pieces, and a virtual call per piece was
    /// most of the cost of writing an item (for writers of many items, such
    /// as the CLI).
    fn append_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()>;
}

impl<T: Record> DynRecord for T {
    fn schema(&self) -> &'static str {
        T::SCHEMA
    }
    fn fields(&self) -> &'static [Field] {
        T::FIELDS
    }
    fn get(&self, name: &str) -> Option<Cell<'_>> {
        Record::get(self, name)
    }
    fn extra(&self) -> &Extra {
        Record::extra(self)
    }
    fn append_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        // One writer type: the library compiles each record's encoder per
        // writer type, for every record of the spec (docs/generated-code.md).
        serde_json::to_writer(out, self)
    }
}

/// An item of a listing chosen at run time.
pub type DynItem = Box<dyn DynRecord>;

#[cfg(test)]
mod tests {
    use super::*;

    /// What `build.rs` generates for a schema, written out by hand.
    #[derive(Clone, Debug, Default, PartialEq)]
    struct Person {
        id: Option<i64>,
        name: Option<String>,
        gender: Option<String>,
        active: Option<bool>,
        score: Option<f64>,
        tags: Option<Vec<String>>,
        r#type: Option<String>,
        extra: Extra,
    }

    impl Record for Person {
        const SCHEMA: &'static str = "Person";
        const FIELDS: &'static [Field] = &[
            Field::new("id", "id", <i64 as FieldValue>::KIND, &[]),
            Field::new("name", "name", <String as FieldValue>::KIND, &[]),
            Field::new(
                "gender",
                "gender",
                <String as FieldValue>::KIND,
                &["\"0\"", "\"1\"", "\"2\""],
            ),
            Field::new("active", "active", <bool as FieldValue>::KIND, &[]),
            Field::new("score", "score", <f64 as FieldValue>::KIND, &[]),
            Field::new("tags", "tags", <Vec<String> as FieldValue>::KIND, &[]),
            Field::new("type", "r#type", <String as FieldValue>::KIND, &[]),
        ];
        fn extra(&self) -> &Extra {
            &self.extra
        }
        fn index_of(name: &str) -> Option<usize> {
            match name {
                "id" => Some(0),
                "name" => Some(1),
                "gender" => Some(2),
                "active" => Some(3),
                "score" => Some(4),
                "tags" => Some(5),
                "type" => Some(6),
                _ => None,
            }
        }
        fn cell(&self, index: usize) -> Option<Cell<'_>> {
            match index {
                0 => self.id.as_ref().map(FieldValue::cell),
                1 => self.name.as_ref().map(FieldValue::cell),
                2 => self.gender.as_ref().map(FieldValue::cell),
                3 => self.active.as_ref().map(FieldValue::cell),
                4 => self.score.as_ref().map(FieldValue::cell),
                5 => self.tags.as_ref().map(FieldValue::cell),
                6 => self.r#type.as_ref().map(FieldValue::cell),
                _ => None,
            }
        }
        fn read_field<'de, A: MapAccess<'de>>(
            &mut self,
            index: usize,
            map: &mut A,
        ) -> Result<(), A::Error> {
            let fields = Self::FIELDS;
            match index {
                0 => self.id = read(map, Self::SCHEMA, &fields[0])?,
                1 => self.name = read(map, Self::SCHEMA, &fields[1])?,
                2 => self.gender = read(map, Self::SCHEMA, &fields[2])?,
                3 => self.active = read(map, Self::SCHEMA, &fields[3])?,
                4 => self.score = read(map, Self::SCHEMA, &fields[4])?,
                5 => self.tags = read(map, Self::SCHEMA, &fields[5])?,
                6 => self.r#type = read(map, Self::SCHEMA, &fields[6])?,
                _ => {}
            }
            Ok(())
        }
        fn write_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
            map.serialize_entry("id", &self.id)?;
            map.serialize_entry("name", &self.name)?;
            map.serialize_entry("gender", &self.gender)?;
            map.serialize_entry("active", &self.active)?;
            map.serialize_entry("score", &self.score)?;
            map.serialize_entry("tags", &self.tags)?;
            map.serialize_entry("type", &self.r#type)?;
            Ok(())
        }
        fn extra_mut(&mut self) -> &mut Extra {
            &mut self.extra
        }
    }

    impl Serialize for Person {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize(self, s)
        }
    }

    impl<'de> Deserialize<'de> for Person {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            deserialize(d)
        }
    }

    fn decode(json: &str) -> (Result<Person, serde_json::Error>, Vec<Observed>) {
        observe(|| serde_json::from_str::<Person>(json))
    }

    #[test]
    fn declared_forms_decode_without_notes() {
        let (p, noted) = decode(
            r#"{"id":9007199254740993,"name":"张三","gender":"1","active":true,"score":1.5,"tags":["a"],"type":"x"}"#,
        );
        let p = p.unwrap();
        assert_eq!(p.id, Some(9_007_199_254_740_993));
        assert_eq!(p.name.as_deref(), Some("张三"));
        assert_eq!(p.r#type.as_deref(), Some("x"));
        assert!(noted.is_empty(), "{noted:?}");
    }

    #[test]
    fn other_scalar_forms_are_coerced_exactly_and_noted() {
        let (p, noted) = decode(
            r#"{"id":"9007199254740993","name":13577770000,"gender":1,"active":"0","score":"2.5","tags":[1,null,true]}"#,
        );
        let p = p.unwrap();
        assert_eq!(p.id, Some(9_007_199_254_740_993));
        assert_eq!(p.name.as_deref(), Some("13577770000"));
        assert_eq!(p.gender.as_deref(), Some("1"));
        assert_eq!(p.active, Some(false));
        assert_eq!(p.score, Some(2.5));
        assert_eq!(p.tags, Some(vec!["1".to_string(), "true".to_string()]));
        let kinds: Vec<(&str, Coercion)> = noted.iter().map(|o| (o.field, o.kind)).collect();
        assert!(kinds.contains(&("id", Coercion::TextAsInteger)));
        assert!(kinds.contains(&("name", Coercion::NumberAsText)));
        assert!(kinds.contains(&("gender", Coercion::NumberAsText)));
        assert!(kinds.contains(&("active", Coercion::TextAsBoolean)));
        assert!(kinds.contains(&("score", Coercion::TextAsNumber)));
        assert!(kinds.contains(&("tags", Coercion::BooleanAsText)));
    }

    #[test]
    fn unknown_values_and_fields_are_kept() {
        let (p, noted) = decode(r#"{"gender":"7","nickname":"小王","id":null}"#);
        let p = p.unwrap();
        assert_eq!(p.gender.as_deref(), Some("7"));
        assert_eq!(p.id, None);
        assert_eq!(p.extra["nickname"].get(), "\"小王\"");
        assert_eq!(
            noted,
            [Observed {
                schema: "Person",
                field: "gender",
                kind: Coercion::UnknownValue
            }]
        );
        // Output: declared fields in the spec's order, absent ones null, then extra.
        let out = serde_json::to_string(&p).unwrap();
        assert!(
            out.starts_with(r#"{"id":null,"name":null,"gender":"7","#),
            "{out}"
        );
        assert!(out.ends_with(r#""type":null,"nickname":"小王"}"#), "{out}");
    }

    #[test]
    fn absurd_values_fail_with_the_field_named() {
        for (json, want) in [
            (
                r#"{"name":{"a":1}}"#,
                "Person.name: an object where the spec says string",
            ),
            (r#"{"id":"12a"}"#, "Person.id: text that is not an integer"),
            (r#"{"id":1.5}"#, "Person.id: a number with a fraction"),
            (
                r#"{"active":2}"#,
                "Person.active: an integer other than 0 or 1",
            ),
            (
                r#"{"name":123456789012345678901234567890}"#,
                "too large to keep exactly",
            ),
            ("null", "invalid type: null, expected an object (Person)"),
            (
                r#""x""#,
                "invalid type: string \"x\", expected an object (Person)",
            ),
            ("[1]", "invalid type: sequence, expected an object (Person)"),
        ] {
            let err = decode(json).0.unwrap_err().to_string();
            assert!(err.contains(want), "{json}: {err}");
        }
    }

    #[test]
    fn append_json_writes_what_serialize_writes() {
        let p = decode(r#"{"id":1,"nickname":"小王"}"#).0.unwrap();
        let mut out = Vec::new();
        DynRecord::append_json(&p, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(&p).unwrap()
        );
    }

    #[test]
    fn notes_are_only_collected_inside_observe() {
        let p: Person = serde_json::from_str(r#"{"name":1}"#).unwrap();
        assert_eq!(p.name.as_deref(), Some("1"));
        let ((), noted) = observe(|| ());
        assert!(noted.is_empty());
    }

    #[test]
    fn values_decode_from_serde_json_values_too() {
        let value = serde_json::json!({"id": "5", "tags": ["x"], "extra1": [1]});
        let p: Person = serde_json::from_value(value).unwrap();
        assert_eq!(p.id, Some(5));
        assert_eq!(p.extra["extra1"].to_value(), serde_json::json!([1]));
        assert_eq!(Record::get(&p, "id"), Some(Cell::Integer(5)));
        assert_eq!(Record::get(&p, "nope"), None);
        assert_eq!(
            <Person as Record>::FIELDS[2].known,
            ["\"0\"", "\"1\"", "\"2\""]
        );
    }
}
