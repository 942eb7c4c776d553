//! The sandbox's randomness: splitmix64, seeded, so that the same seed gives
//! the same data, trace ids and fault decisions on every run and machine.
//! Hand-written so the crate needs no `rand`.

/// splitmix64: tiny, fast and good enough for test data and fault decisions.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// A generator for one item of one table, independent of how many items
    /// came before, so that inserting items never changes the others.
    pub(crate) fn for_item(seed: u64, table: u64, index: u64) -> Self {
        Self(mix(seed ^ mix(table.wrapping_add(mix(index)))))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `lo..=hi` (`lo <= hi`), over the whole i64 range too.
    pub(crate) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        let span = hi.abs_diff(lo);
        let offset = if span == u64::MAX {
            self.next_u64()
        } else {
            self.below(span + 1)
        };
        lo.wrapping_add_unsigned(offset)
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The splitmix64 finaliser.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable number for a name (FNV-1a), to give each operation's table its
/// own stream of values whatever the order of the spec.
pub(crate) fn tag(name: &str) -> u64 {
    name.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn between_stays_within_bounds_even_at_the_extremes() {
        let mut rng = Rng::new(3);
        for _ in 0..1000 {
            let v = rng.between(-5, 5);
            assert!((-5..=5).contains(&v));
        }
        let _ = rng.between(i64::MIN, i64::MAX);
        assert_eq!(rng.between(7, 7), 7);
        assert_ne!(tag("a"), tag("b"));
    }
}
