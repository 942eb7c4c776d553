//! The sandbox's fault injection as values: which kinds of failure are
//! injected ([`FaultKinds`]), which one a failing request gets
//! ([`FaultKind`]), and how many of each were injected ([`FaultCounts`]).
//! The decision for a request is a pure function of the seed and the
//! request's ordinal; `server` acts on it.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use super::rng::Rng;

/// One way an injected failure shows itself to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// HTTP 503 with a gateway's `text/html` page (what nginx answers when
    /// the platform behind it is down).
    Gateway,
    /// The connection is closed without an answer: the client sees a
    /// connection error or an incomplete message.
    Drop,
    /// The answer is held back for the slow-fault delay, then given
    /// normally: a client with a shorter timeout sees a timeout.
    Slow,
}

impl FaultKind {
    /// Every kind, in the order [`FaultKinds`] lists them.
    pub const ALL: [FaultKind; 3] = [FaultKind::Gateway, FaultKind::Drop, FaultKind::Slow];

    /// The name used by `--faults` and [`FaultKinds`]'s `FromStr`.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Gateway => "503",
            FaultKind::Drop => "drop",
            FaultKind::Slow => "slow",
        }
    }

    fn bit(self) -> u8 {
        match self {
            FaultKind::Gateway => 1,
            FaultKind::Drop => 2,
            FaultKind::Slow => 4,
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kinds of failure the sandbox injects; a failing request gets one of
/// the enabled kinds, each equally likely. With none enabled, nothing fails
/// whatever the failure rate.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FaultKinds(u8);

impl FaultKinds {
    /// No faults.
    pub const NONE: FaultKinds = FaultKinds(0);
    /// Only 503 gateway pages (the default, and the sandbox's behaviour
    /// before the other kinds existed).
    pub const GATEWAY: FaultKinds = FaultKinds(1);
    /// 503 pages, dropped connections and slow answers.
    pub const ALL: FaultKinds = FaultKinds(7);

    /// Only `kind`.
    pub fn only(kind: FaultKind) -> Self {
        FaultKinds(kind.bit())
    }

    /// These kinds and `kind`.
    pub fn with(self, kind: FaultKind) -> Self {
        FaultKinds(self.0 | kind.bit())
    }

    /// Whether `kind` is enabled.
    pub fn contains(self, kind: FaultKind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// Whether no kind is enabled.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The enabled kinds, in [`FaultKind::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = FaultKind> {
        FaultKind::ALL
            .into_iter()
            .filter(move |k| self.contains(*k))
    }

    pub(crate) fn bits(self) -> u8 {
        self.0
    }

    pub(crate) fn from_bits(bits: u8) -> Self {
        FaultKinds(bits & Self::ALL.0)
    }
}

impl Default for FaultKinds {
    fn default() -> Self {
        Self::GATEWAY
    }
}

impl fmt::Debug for FaultKinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(FaultKind::name))
            .finish()
    }
}

impl fmt::Display for FaultKinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let names: Vec<&str> = self.iter().map(FaultKind::name).collect();
        f.write_str(&names.join(","))
    }
}

impl FromStr for FaultKinds {
    type Err = String;

    /// A comma-separated list of `503`, `drop`, `slow`, or `all` / `none`.
    fn from_str(text: &str) -> Result<Self, String> {
        let mut kinds = FaultKinds::NONE;
        for part in text.split(',').map(str::trim) {
            kinds = match part.to_ascii_lowercase().as_str() {
                "503" | "gateway" => kinds.with(FaultKind::Gateway),
                "drop" => kinds.with(FaultKind::Drop),
                "slow" => kinds.with(FaultKind::Slow),
                "all" => FaultKinds::ALL,
                "none" => kinds,
                _ => {
                    return Err(format!(
                        "unknown fault kind {part:?}; expected 503, drop, slow, all or none"
                    ));
                }
            };
        }
        Ok(kinds)
    }
}

/// How many failures of each kind a sandbox injected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// 503 gateway pages.
    pub gateway: u64,
    /// Connections closed without an answer.
    pub dropped: u64,
    /// Answers held back past the slow-fault delay.
    pub slow: u64,
}

impl FaultCounts {
    /// Failures of every kind.
    pub fn total(&self) -> u64 {
        self.gateway + self.dropped + self.slow
    }

    /// The count of `kind`.
    pub fn of(&self, kind: FaultKind) -> u64 {
        match kind {
            FaultKind::Gateway => self.gateway,
            FaultKind::Drop => self.dropped,
            FaultKind::Slow => self.slow,
        }
    }
}

impl fmt::Display for FaultCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} faults ({} x 503, {} dropped, {} slow)",
            self.total(),
            self.gateway,
            self.dropped,
            self.slow
        )
    }
}

/// The fault settings and counters a running sandbox shares with its handlers.
pub(crate) struct FaultState {
    rate_bits: AtomicU64,
    kinds: AtomicU8,
    slow_delay_micros: AtomicU64,
    counts: [AtomicU64; 3],
    /// The last kind injected, as its bit (0: none yet).
    last: AtomicU8,
}

impl FaultState {
    pub(crate) fn new(rate: f64, kinds: FaultKinds, slow_delay_micros: u64) -> Self {
        Self {
            rate_bits: AtomicU64::new(clamp_rate(rate).to_bits()),
            kinds: AtomicU8::new(kinds.bits()),
            slow_delay_micros: AtomicU64::new(slow_delay_micros),
            counts: Default::default(),
            last: AtomicU8::new(0),
        }
    }

    pub(crate) fn rate(&self) -> f64 {
        f64::from_bits(self.rate_bits.load(Ordering::Relaxed))
    }

    pub(crate) fn set_rate(&self, rate: f64) {
        self.rate_bits
            .store(clamp_rate(rate).to_bits(), Ordering::Relaxed);
    }

    pub(crate) fn kinds(&self) -> FaultKinds {
        FaultKinds::from_bits(self.kinds.load(Ordering::Relaxed))
    }

    pub(crate) fn set_kinds(&self, kinds: FaultKinds) {
        self.kinds.store(kinds.bits(), Ordering::Relaxed);
    }

    pub(crate) fn slow_delay_micros(&self) -> u64 {
        self.slow_delay_micros.load(Ordering::Relaxed)
    }

    pub(crate) fn set_slow_delay_micros(&self, micros: u64) {
        self.slow_delay_micros.store(micros, Ordering::Relaxed);
    }

    /// The fault request number `ordinal` gets, if any, and counts it. The
    /// first draw alone decides whether it fails (so a seed fails the same
    /// requests whatever kinds are enabled); a second one picks the kind.
    pub(crate) fn decide(&self, seed: u64, ordinal: u64) -> Option<FaultKind> {
        let rate = self.rate();
        let kinds = self.kinds();
        if rate <= 0.0 || kinds.is_empty() {
            return None;
        }
        let mut rng = Rng::for_item(seed, 0xFA11, ordinal);
        if rng.next_f64() >= rate {
            return None;
        }
        let enabled: Vec<FaultKind> = kinds.iter().collect();
        let kind = *rng.pick(&enabled);
        let index = FaultKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        self.counts[index].fetch_add(1, Ordering::Relaxed);
        self.last.store(kind.bit(), Ordering::Relaxed);
        Some(kind)
    }

    pub(crate) fn counts(&self) -> FaultCounts {
        let count = |i: usize| self.counts[i].load(Ordering::Relaxed);
        FaultCounts {
            gateway: count(0),
            dropped: count(1),
            slow: count(2),
        }
    }

    pub(crate) fn last(&self) -> Option<FaultKind> {
        let bit = self.last.load(Ordering::Relaxed);
        FaultKind::ALL.into_iter().find(|k| k.bit() == bit)
    }
}

pub(crate) fn clamp_rate(rate: f64) -> f64 {
    if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_and_print() {
        assert_eq!("503,drop,slow".parse::<FaultKinds>(), Ok(FaultKinds::ALL));
        assert_eq!("all".parse::<FaultKinds>(), Ok(FaultKinds::ALL));
        assert_eq!(
            " drop , SLOW".parse::<FaultKinds>().map(|k| k.to_string()),
            Ok("drop,slow".to_string())
        );
        assert_eq!("none".parse::<FaultKinds>(), Ok(FaultKinds::NONE));
        assert!("503,teapot".parse::<FaultKinds>().is_err());
        assert_eq!(format!("{:?}", FaultKinds::GATEWAY), r#"{"503"}"#);
    }

    #[test]
    fn the_same_requests_fail_whatever_the_kinds() {
        let gateway = FaultState::new(0.3, FaultKinds::GATEWAY, 0);
        let all = FaultState::new(0.3, FaultKinds::ALL, 0);
        let none = FaultState::new(1.0, FaultKinds::NONE, 0);
        for ordinal in 0..500 {
            assert_eq!(
                gateway.decide(7, ordinal).is_some(),
                all.decide(7, ordinal).is_some()
            );
            assert_eq!(none.decide(7, ordinal), None);
        }
        let counts = all.counts();
        assert_eq!(counts.total(), gateway.counts().gateway);
        assert!(
            counts.gateway > 0 && counts.dropped > 0 && counts.slow > 0,
            "{counts}"
        );
        assert_eq!(none.counts(), FaultCounts::default());
    }
}
