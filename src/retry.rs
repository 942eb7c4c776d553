//! Retry and rate-limit policy as values: what is retried, how often, how
//! long to wait, and the client-wide request rate. The middleware applies
//! them to every request; this module only decides.

use std::time::Duration;

use tokio::time::Instant;

use backon::{BackoffBuilder, ExponentialBuilder};

/// Platform codes that are never retried, whatever the policy says: a bad
/// sign, a stale timestamp, an unknown appId or a bad parameter fails the
/// same way every time.
pub const NEVER_RETRIED_CODES: &[&str] = &["40001", "40002", "40003", "40004"];

/// When and how failed requests are tried again.
///
/// Retried: connection failures (always: the request never left), and, for
/// operations marked `x-idempotent: true` in the spec, timeouts, connections
/// reset, HTTP 429/502/503/504 and the business codes in [`retry_codes`]
/// (empty by default: the platform publishes no rate-limit code). Each retry
/// is signed anew with a fresh timestamp, and waits for the backoff or the
/// server's `Retry-After` (seconds), whichever the server asks.
///
/// [`retry_codes`]: RetryPolicy::retry_codes
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 turns retries off.
    pub max_attempts: u32,
    /// The first backoff; each next one doubles, up to `max_backoff`.
    pub initial_backoff: Duration,
    /// The longest backoff.
    pub max_backoff: Duration,
    /// Whether a random part of each backoff is added (spreads out clients
    /// that failed together).
    pub jitter: bool,
    /// HTTP statuses that are retried.
    pub retry_statuses: Vec<u16>,
    /// The platform's business codes that are retried.
    pub retry_codes: Vec<String>,
    /// The longest `Retry-After` honoured; a server asking for longer ends
    /// the retries with its answer.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, backoff 200 ms doubling to 5 s with jitter, statuses
    /// 429/502/503/504, no business codes, `Retry-After` up to 60 s.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            jitter: true,
            retry_statuses: vec![429, 502, 503, 504],
            retry_codes: Vec::new(),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries: every failure is returned as it happens.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The number of attempts in all.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first and the longest backoff.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Business codes to retry (the codes of [`NEVER_RETRIED_CODES`] are ignored).
    pub fn with_retry_codes<I, S>(mut self, codes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.retry_codes = codes
            .into_iter()
            .map(Into::into)
            .filter(|c| !NEVER_RETRIED_CODES.contains(&c.as_str()))
            .collect();
        self
    }

    pub(crate) fn backoff(&self) -> impl BackoffBuilder + use<> {
        let builder = ExponentialBuilder::new()
            .with_min_delay(self.initial_backoff)
            .with_max_delay(self.max_backoff)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize);
        if self.jitter {
            builder.with_jitter()
        } else {
            builder
        }
    }

    pub(crate) fn retries_status(&self, status: u16) -> bool {
        self.retry_statuses.contains(&status)
    }

    pub(crate) fn retries_code(&self, code: &str) -> bool {
        !NEVER_RETRIED_CODES.contains(&code) && self.retry_codes.iter().any(|c| c == code)
    }
}

/// A client-wide cap on requests per second, shared by every call and every
/// concurrent page fetch of one client: each request takes the next free
/// slot, `1 / rate` seconds after the previous one.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    interval: Duration,
    next_slot: std::sync::Mutex<Instant>,
}

impl RateLimiter {
    pub(crate) fn new(requests_per_second: f64) -> Option<Self> {
        (requests_per_second.is_finite() && requests_per_second > 0.0).then(|| Self {
            interval: Duration::from_secs_f64(1.0 / requests_per_second),
            next_slot: std::sync::Mutex::new(Instant::now()),
        })
    }

    /// Waits for this request's slot.
    pub(crate) async fn acquire(&self) {
        let wait = {
            let mut next = self
                .next_slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_retried_codes_cannot_be_configured() {
        let p = RetryPolicy::default().with_retry_codes(["40001", "42900", "40004"]);
        assert_eq!(p.retry_codes, ["42900"]);
        assert!(p.retries_code("42900"));
        assert!(!p.retries_code("40001"));
    }

    #[test]
    fn backoff_yields_attempts_minus_one_delays() {
        let p = RetryPolicy::default()
            .with_max_attempts(4)
            .with_backoff(Duration::from_millis(10), Duration::from_millis(25));
        let delays: Vec<Duration> = RetryPolicy { jitter: false, ..p }
            .backoff()
            .build()
            .collect();
        assert_eq!(
            delays,
            [
                Duration::from_millis(10),
                Duration::from_millis(20),
                Duration::from_millis(25)
            ]
        );
        assert_eq!(RetryPolicy::disabled().backoff().build().count(), 0);
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn rate_limiter_spaces_requests() {
        let limiter = RateLimiter::new(10.0).unwrap();
        let started = tokio::time::Instant::now();
        for _ in 0..5 {
            limiter.acquire().await;
        }
        // Slots at 0, 100, 200, 300, 400 ms.
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
        assert!(RateLimiter::new(0.0).is_none());
    }
}
