//! Hooks of one's own: an [`Interceptor`] sees every request the client
//! sends (each attempt: retries and followed redirects included), after it
//! is signed, and every answer or failure, with the operation and the
//! latency. It may add headers (a correlation id, a tenant tag); it cannot
//! touch the body, so it cannot break the signature. Install them with
//! [`crate::Config::with_interceptor`]; they run in the order added.
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use shiheng::intercept::{Attempt, Interceptor, Outcome};
//!
//! #[derive(Debug, Default)]
//! struct CountFailures(AtomicU64);
//!
//! impl Interceptor for CountFailures {
//!     fn after_answer(&self, _attempt: &Attempt<'_>, outcome: &Outcome<'_>) {
//!         if !matches!(outcome, Outcome::Answered { status: 200, .. }) {
//!             self.0.fetch_add(1, Ordering::Relaxed);
//!         }
//!     }
//! }
//! ```

use std::fmt;
use std::time::Duration;

/// One attempt of a call, as interceptors see it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Attempt<'a> {
    /// The spec's operationId (`listWecomEmployees`).
    pub operation: &'static str,
    /// 1 for the first attempt, 2 for the first retry, and so on.
    pub number: u32,
    /// Where it goes (after a followed redirect: the new location).
    pub url: &'a reqwest::Url,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Outcome<'a> {
    /// An answer arrived (whatever its status; its body is in memory).
    Answered {
        /// The HTTP status.
        status: u16,
        /// The body's length in bytes (0 when it was over the size limit).
        bytes: usize,
        /// From sending to the last byte of the body.
        latency: Duration,
    },
    /// No answer: the request could not be sent or its answer not read.
    Failed {
        /// reqwest's error.
        error: &'a reqwest::Error,
        /// From sending to the failure.
        latency: Duration,
    },
}

/// A hook called for every request and every answer. Both methods do
/// nothing by default; implement the ones you need. They run on the
/// request's task: keep them quick (hand heavy work to a channel).
pub trait Interceptor: fmt::Debug + Send + Sync {
    /// Before an attempt is sent, after it was signed: add or change headers.
    fn before_send(&self, attempt: &Attempt<'_>, headers: &mut reqwest::header::HeaderMap) {
        let _ = (attempt, headers);
    }

    /// After an attempt: its answer or its failure.
    fn after_answer(&self, attempt: &Attempt<'_>, outcome: &Outcome<'_>) {
        let _ = (attempt, outcome);
    }
}

/// A shared interceptor is an interceptor: keep an `Arc` to read what it
/// recorded while the client uses it.
impl<T: Interceptor + ?Sized> Interceptor for std::sync::Arc<T> {
    fn before_send(&self, attempt: &Attempt<'_>, headers: &mut reqwest::header::HeaderMap) {
        (**self).before_send(attempt, headers);
    }

    fn after_answer(&self, attempt: &Attempt<'_>, outcome: &Outcome<'_>) {
        (**self).after_answer(attempt, outcome);
    }
}
