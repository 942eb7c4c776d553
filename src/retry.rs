//! Retry and rate-limit policy as values: what is retried, how often, how
//! long to wait (backoff, the server's `Retry-After` in both of its forms,
//! and the caps on both), which settings make sense, and the client-wide
//! request rate. The transport applies them to every request; this module
//! only decides.

use std::time::Duration;

use tokio::time::Instant;

use backon::{BackoffBuilder, ExponentialBuilder};
use http::header::RETRY_AFTER;

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
/// server's `Retry-After` (delta-seconds or an HTTP-date), whichever is
/// longer. A `Retry-After` over [`max_retry_after`] ends the retries, and so
/// does a wait that would take the call's waiting past [`max_total_wait`]:
/// [`worst_case_wait`](RetryPolicy::worst_case_wait) is a true bound.
///
/// [`max_retry_after`]: RetryPolicy::max_retry_after
/// [`max_total_wait`]: RetryPolicy::max_total_wait
///
/// [`retry_codes`]: RetryPolicy::retry_codes
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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
    /// The longest wait before one retry that a `Retry-After` may ask for;
    /// a server asking for longer ends the retries with its answer (whose
    /// error carries the `Retry-After`, for the caller to decide).
    pub max_retry_after: Duration,
    /// The most one call may spend waiting between its attempts, all waits
    /// together; a retry whose wait would go past it is not made, and the
    /// last answer is returned.
    pub max_total_wait: Duration,
}

/// The longest any wait setting may be: longer is a mistake, not a policy.
pub const MAX_WAIT_SETTING: Duration = Duration::from_secs(24 * 60 * 60);

/// The most attempts a policy may make.
pub const MAX_ATTEMPTS: u32 = 100;

impl Default for RetryPolicy {
    /// 4 attempts, backoff 200 ms doubling to 5 s with jitter, statuses
    /// 429/502/503/504, no business codes, a `Retry-After` honoured up to
    /// 10 s, at most 15 s of waiting per call.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            jitter: true,
            retry_statuses: vec![429, 502, 503, 504],
            retry_codes: Vec::new(),
            // A server asking for more than 10 s is announcing an outage or
            // a quota reset: the caller, who sees `retry_after` in the
            // error, is better placed to wait that long than one page fetch.
            max_retry_after: Duration::from_secs(10),
            // The whole backoff schedule (at most 2.8 s) plus one honoured
            // `Retry-After` of 10 s, with room to spare; never minutes.
            max_total_wait: Duration::from_secs(15),
        }
    }
}

impl RetryPolicy {
    /// No retries: every failure is returned as it happens.
    pub fn disabled() -> Self {
        Self::default().with_max_attempts(1)
    }

    crate::config::setters! {
        /// The number of attempts in all (0 counts as 1; over [`MAX_ATTEMPTS`]
        /// is refused by [`crate::Client::new`]).
        with_max_attempts(attempts: u32) => max_attempts = attempts.max(1);

        /// Whether a random part is added to each backoff (default: yes).
        with_jitter(jitter: bool) => jitter = jitter;

        /// The HTTP statuses that are retried (default 429, 502, 503, 504).
        with_retry_statuses(statuses: impl IntoIterator<Item = u16>) =>
            retry_statuses = statuses.into_iter().collect();

        /// The longest `Retry-After` honoured (see [`RetryPolicy::max_retry_after`]).
        with_max_retry_after(max: Duration) => max_retry_after = max;

        /// The most one call may wait between attempts, all waits together
        /// (see [`RetryPolicy::max_total_wait`]).
        with_max_total_wait(max: Duration) => max_total_wait = max;

        /// Business codes to retry (the codes of [`NEVER_RETRIED_CODES`] are ignored).
        with_retry_codes(codes: impl IntoIterator<Item = impl Into<String>>) =>
            retry_codes = codes
                .into_iter()
                .map(Into::into)
                .filter(|c| !NEVER_RETRIED_CODES.contains(&c.as_str()))
                .collect();
    }

    /// The first and the longest backoff (a maximum shorter than the first
    /// is raised to it; over [`MAX_WAIT_SETTING`] is refused).
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The longest one call can spend waiting between its attempts under
    /// this policy, whatever the server answers: each of the
    /// `max_attempts - 1` waits is at most the larger of the jittered
    /// backoff (up to twice `max_backoff`) and `max_retry_after`, and all
    /// of them together at most `max_total_wait`. Time spent in the
    /// attempts themselves (each up to the request timeout) and in the rate
    /// limiter comes on top.
    pub fn worst_case_wait(&self) -> Duration {
        let jitter = if self.jitter { 2 } else { 1 };
        // Only a retried status brings a `Retry-After` that may stretch a wait.
        let honoured = if self.retry_statuses.is_empty() {
            Duration::ZERO
        } else {
            self.max_retry_after
        };
        let steady = RetryPolicy {
            jitter: false,
            ..self.clone()
        };
        // The backoff yields one delay per retry (`max_attempts - 1`).
        steady
            .backoff()
            .build()
            .map(|delay| delay.saturating_mul(jitter).max(honoured))
            .fold(Duration::ZERO, Duration::saturating_add)
            .min(self.max_total_wait)
    }

    /// Checks that the policy makes sense; the message says what does not.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_attempts == 0 {
            return Err("retry policy: max_attempts is 0; 1 means no retries".into());
        }
        if self.max_attempts > MAX_ATTEMPTS {
            return Err(format!(
                "retry policy: max_attempts {} is over {MAX_ATTEMPTS}",
                self.max_attempts
            ));
        }
        for (name, value) in [
            ("initial_backoff", self.initial_backoff),
            ("max_backoff", self.max_backoff),
            ("max_retry_after", self.max_retry_after),
            ("max_total_wait", self.max_total_wait),
        ] {
            if value > MAX_WAIT_SETTING {
                return Err(format!(
                    "retry policy: {name} of {value:?} is longer than {MAX_WAIT_SETTING:?}"
                ));
            }
        }
        if self.initial_backoff > self.max_backoff {
            return Err(format!(
                "retry policy: initial_backoff {:?} is longer than max_backoff {:?}",
                self.initial_backoff, self.max_backoff
            ));
        }
        if let Some(status) = self
            .retry_statuses
            .iter()
            .find(|s| !(400..=599).contains(*s))
        {
            return Err(format!(
                "retry policy: HTTP {status} is not an error status (400 to 599)"
            ));
        }
        Ok(())
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

    /// The wait before attempt `attempts_made + 1`, given the backoff's
    /// next delay and the server's `Retry-After`, when `waited` has been
    /// spent waiting already; or why there is no next attempt.
    pub(crate) fn wait_before_retry(
        &self,
        attempts_made: u32,
        backoff: Option<Duration>,
        retry_after: Option<Duration>,
        waited: Duration,
    ) -> Result<Duration, &'static str> {
        let Some(backoff) = backoff.filter(|_| attempts_made < self.max_attempts) else {
            return Err("attempts used up");
        };
        let wait = match retry_after {
            Some(asked) if asked > self.max_retry_after => {
                return Err("Retry-After is over max_retry_after");
            }
            Some(asked) => asked.max(backoff),
            None => backoff,
        };
        if waited.saturating_add(wait) > self.max_total_wait {
            return Err("the wait would go past max_total_wait");
        }
        Ok(wait)
    }

    pub(crate) fn retries_code(&self, code: &str) -> bool {
        !NEVER_RETRIED_CODES.contains(&code) && self.retry_codes.iter().any(|c| c == code)
    }
}

/// The slowest rate limit accepted: one request an hour. Slower is a
/// mistake (a listing would take days), not a policy.
pub const MIN_RATE_LIMIT: f64 = 1.0 / 3600.0;

/// The fastest rate limit accepted: beyond a million requests per second
/// the limiter could not space anything, so the setting would mean nothing.
pub const MAX_RATE_LIMIT: f64 = 1_000_000.0;

/// Checks a requests-per-second setting; the message says what is wrong.
pub(crate) fn validate_rate_limit(requests_per_second: f64) -> Result<(), String> {
    // NaN and the infinities are outside the range too.
    if (MIN_RATE_LIMIT..=MAX_RATE_LIMIT).contains(&requests_per_second) {
        return Ok(());
    }
    Err(format!(
        "rate limit of {requests_per_second} requests per second: it must be a number from \
         1/3600 (one an hour) to {MAX_RATE_LIMIT}; for no limit, do not set one"
    ))
}

/// The wait an answer's `Retry-After` header asks for (RFC 9110 §10.2.3):
/// either delta-seconds, or an HTTP-date measured against `now_millis` (a
/// date already past asks for no wait). `None` when there is none, or it is
/// neither. Seconds too many to count saturate, so that the cap refuses
/// them. The one place it is read, for the transport's waits and for
/// [`crate::Error::Http`].
pub(crate) fn retry_after(headers: &http::HeaderMap, now_millis: i64) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    let since_epoch = Duration::from_millis(u64::try_from(now_millis).unwrap_or(0));
    let now = std::time::UNIX_EPOCH.checked_add(since_epoch)?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
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
    /// A limiter for a rate that passed [`validate_rate_limit`]; `None` for
    /// any other (never a panic).
    pub(crate) fn new(requests_per_second: f64) -> Option<Self> {
        validate_rate_limit(requests_per_second).ok()?;
        let interval = Duration::try_from_secs_f64(1.0 / requests_per_second).ok()?;
        Some(Self {
            interval,
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
            *next = slot.checked_add(self.interval).unwrap_or(slot);
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

    #[test]
    fn nonsense_rates_are_refused_without_a_panic() {
        for rate in [
            0.0,
            -1.0,
            1e-20,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
            f64::MIN_POSITIVE,
        ] {
            assert!(validate_rate_limit(rate).is_err(), "{rate}");
            assert!(RateLimiter::new(rate).is_none(), "{rate}");
        }
        for rate in [MIN_RATE_LIMIT, 0.5, 10.0, MAX_RATE_LIMIT] {
            assert!(RateLimiter::new(rate).is_some(), "{rate}");
        }
    }

    fn retry_after_wait(value: &str, now_millis: i64) -> Option<Duration> {
        let mut headers = http::HeaderMap::new();
        headers.insert(RETRY_AFTER, value.parse().unwrap());
        retry_after(&headers, now_millis)
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        // 2015-10-21T07:28:00Z, the example date of RFC 9110.
        let date_millis = 1_445_412_480_000;
        let now = date_millis - 20_000;
        assert_eq!(retry_after_wait("7", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after_wait(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            retry_after_wait("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(20))
        );
        // The obsolete forms RFC 9110 says a recipient must accept.
        assert_eq!(
            retry_after_wait("Wednesday, 21-Oct-15 07:28:00 GMT", now),
            Some(Duration::from_secs(20))
        );
        assert_eq!(
            retry_after_wait("Wed Oct 21 07:28:00 2015", now),
            Some(Duration::from_secs(20))
        );
        // A date in the past asks for no wait.
        assert_eq!(
            retry_after_wait("Wed, 21 Oct 2015 07:28:00 GMT", date_millis + 5_000),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after_wait("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        for junk in ["", "-1", "1.5", "soon", "Wed, 32 Oct 2015 07:28:00 GMT"] {
            assert_eq!(retry_after_wait(junk, now), None, "{junk:?}");
        }
    }

    #[test]
    fn the_default_worst_case_wait_is_15_seconds() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.worst_case_wait(), Duration::from_secs(15));
        // Without Retry-After: the jittered backoffs, 2 x (200 + 400 + 800)
        // ms (backon doubles in f32, hence a few nanoseconds more).
        let no_retry_after = RetryPolicy {
            max_retry_after: Duration::ZERO,
            ..RetryPolicy::default()
        };
        let wait = no_retry_after.worst_case_wait();
        assert!(
            wait.abs_diff(Duration::from_millis(2800)) < Duration::from_micros(1),
            "{wait:?}"
        );
        assert_eq!(RetryPolicy::disabled().worst_case_wait(), Duration::ZERO);
        // Uncapped, it would be 3 x 10 s.
        let uncapped = RetryPolicy::default().with_max_total_wait(MAX_WAIT_SETTING);
        assert_eq!(uncapped.worst_case_wait(), Duration::from_secs(30));
    }

    #[test]
    fn validation_names_what_makes_no_sense() {
        assert!(RetryPolicy::default().validate().is_ok());
        let zero = RetryPolicy {
            max_attempts: 0,
            ..RetryPolicy::default()
        };
        assert!(zero.validate().unwrap_err().contains("max_attempts"));
        let upside_down = RetryPolicy {
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        assert!(
            upside_down
                .validate()
                .unwrap_err()
                .contains("initial_backoff")
        );
        let forever = RetryPolicy::default().with_max_total_wait(Duration::MAX);
        assert!(forever.validate().unwrap_err().contains("max_total_wait"));
        let success = RetryPolicy {
            retry_statuses: vec![200],
            ..RetryPolicy::default()
        };
        assert!(success.validate().unwrap_err().contains("HTTP 200"));
    }
}
