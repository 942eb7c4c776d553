//! Hand-written field types, for the two places where the decoding rule of
//! [`crate::record`] is not enough: an employee status whose documented
//! values have names (and an undocumented 6 to keep distinguishable), and a
//! point in time sent as epoch milliseconds or as text. The spec names them
//! with `x-shiheng-type` on the schema (`EmployeeStatus`, `PlatformTime`);
//! every other field is decoded by the rule alone.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::record::{Cell, FieldKind, FieldValue};

/// An employee's status (员工状态). Undocumented values (the published sample
/// sends 6) decode as [`EmployeeStatus::Undocumented`] and keep their number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EmployeeStatus {
    /// 0: unknown (未知).
    Unknown,
    /// 1: activated (已激活).
    Activated,
    /// 2: disabled (已禁用).
    Disabled,
    /// 4: not activated (未激活).
    NotActivated,
    /// 5: left the company (退出企业).
    Left,
    /// A value the platform's table does not list, as received.
    Undocumented(i64),
}

impl EmployeeStatus {
    /// The status as the platform's integer.
    pub fn code(self) -> i64 {
        match self {
            Self::Unknown => 0,
            Self::Activated => 1,
            Self::Disabled => 2,
            Self::NotActivated => 4,
            Self::Left => 5,
            Self::Undocumented(n) => n,
        }
    }
}

impl From<i64> for EmployeeStatus {
    fn from(n: i64) -> Self {
        match n {
            0 => Self::Unknown,
            1 => Self::Activated,
            2 => Self::Disabled,
            4 => Self::NotActivated,
            5 => Self::Left,
            n => Self::Undocumented(n),
        }
    }
}

impl fmt::Display for EmployeeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown => f.write_str("unknown"),
            Self::Activated => f.write_str("activated"),
            Self::Disabled => f.write_str("disabled"),
            Self::NotActivated => f.write_str("not-activated"),
            Self::Left => f.write_str("left"),
            Self::Undocumented(n) => write!(f, "undocumented({n})"),
        }
    }
}

impl Serialize for EmployeeStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.code())
    }
}

impl<'de> Deserialize<'de> for EmployeeStatus {
    #[inline]
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StatusVisitor).map(Self::from)
    }
}

/// A point in time as the platform sends it: epoch milliseconds as a JSON
/// number (what the samples send) or text (what the tables say). Written
/// back as it came: the number, or the text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum PlatformTime {
    /// Epoch milliseconds.
    EpochMillis(i64),
    /// Text, kept as received.
    Text(String),
}

impl PlatformTime {
    /// Epoch milliseconds, when the value is a number or all-digit text.
    pub fn epoch_millis(&self) -> Option<i64> {
        match self {
            Self::EpochMillis(ms) => Some(*ms),
            Self::Text(text) => text.trim().parse().ok(),
        }
    }
}

impl fmt::Display for PlatformTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EpochMillis(ms) => write!(f, "{ms}"),
            Self::Text(text) => f.write_str(text),
        }
    }
}

impl<'de> Deserialize<'de> for PlatformTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TimeVisitor;
        impl Visitor<'_> for TimeVisitor {
            type Value = PlatformTime;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("epoch milliseconds or a time string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PlatformTime, E> {
                Ok(PlatformTime::Text(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PlatformTime, E> {
                i64::try_from(v)
                    .map(PlatformTime::EpochMillis)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PlatformTime, E> {
                Ok(PlatformTime::EpochMillis(v))
            }
        }
        d.deserialize_any(TimeVisitor)
    }
}

impl FieldValue for EmployeeStatus {
    const KIND: FieldKind = FieldKind::Custom;
    fn cell(&self) -> Cell<'_> {
        Cell::Integer(self.code())
    }
    // Once per employee: compared without formatting the number.
    fn is_known(&self, known: &[&str]) -> bool {
        self.code().is_known(known)
    }
}

impl FieldValue for PlatformTime {
    const KIND: FieldKind = FieldKind::Time;
    fn cell(&self) -> Cell<'_> {
        Cell::Time(self.epoch_millis(), Cow::Owned(self.to_string()))
    }
    fn is_known(&self, known: &[&str]) -> bool {
        match self {
            Self::EpochMillis(ms) => ms.is_known(known),
            Self::Text(text) => text.is_known(known),
        }
    }
}

/// An employee status: a JSON integer, or text holding one.
struct StatusVisitor;

impl Visitor<'_> for StatusVisitor {
    type Value = i64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an employee status integer")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
    /// `6.0`, `1e0` and `-0` are the integers they write, as in integer
    /// fields (up to 2^53, where a float is still exact).
    #[cold]
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        if v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_992.0 {
            Ok(v as i64)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_keeps_undocumented_values() {
        let s: EmployeeStatus = serde_json::from_str("6").unwrap();
        assert_eq!(s, EmployeeStatus::Undocumented(6));
        assert_eq!(serde_json::to_string(&s).unwrap(), "6");
        let s: EmployeeStatus = serde_json::from_str("1").unwrap();
        assert_eq!(s, EmployeeStatus::Activated);
        assert!(serde_json::from_str::<EmployeeStatus>("true").is_err());
        for text in ["6.0", "6e0", "0.6e1"] {
            let s: EmployeeStatus = serde_json::from_str(text).unwrap();
            assert_eq!(s, EmployeeStatus::Undocumented(6), "{text}");
        }
        let s: EmployeeStatus = serde_json::from_str("-0").unwrap();
        assert_eq!(s, EmployeeStatus::Unknown);
        assert!(serde_json::from_str::<EmployeeStatus>("6.5").is_err());
    }

    #[test]
    fn time_accepts_millis_and_text() {
        let t: PlatformTime = serde_json::from_str("1666751098000").unwrap();
        assert_eq!(t.epoch_millis(), Some(1_666_751_098_000));
        let t: PlatformTime = serde_json::from_str("\"2022-10-26 10:24:58\"").unwrap();
        assert_eq!(t, PlatformTime::Text("2022-10-26 10:24:58".into()));
        assert_eq!(t.epoch_millis(), None);
    }
}
