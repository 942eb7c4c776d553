//! The progress bar of a listing, on stderr when a person is watching it:
//! a spinner with the count and an integer rate, which becomes a bar once
//! the listing reports its total. When stderr is not a terminal there is no
//! bar at all, and no per-item bookkeeping either. Warnings go through
//! [`Progress::warn`] so they print above the bar, not through it.

use std::io::{self, IsTerminal};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use shiheng::ListingSummary;

use crate::text;

/// A listing's progress bar, or nothing.
pub struct Progress(Option<ProgressBar>);

fn style(template: &str) -> Option<ProgressStyle> {
    ProgressStyle::with_template(template).ok().map(|style| {
        style.with_key(
            "rate",
            |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                let rate = state.per_sec();
                let rate = if rate.is_finite() && rate > 0.0 {
                    rate as u64
                } else {
                    0
                };
                let _ = write!(out, "{} items/s", text::thousands(rate));
            },
        )
    })
}

impl Progress {
    /// A bar when stderr is a terminal; nothing otherwise.
    pub fn new() -> Self {
        if !io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Some(style) = style("{spinner} {human_pos} items, {rate}, {elapsed}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(100));
        Self(Some(bar))
    }

    /// A bar of `total` steps when stderr is a terminal; nothing otherwise.
    pub fn counting(total: usize, what: &str) -> Self {
        if !io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = ProgressBar::with_draw_target(
            Some(u64::try_from(total).unwrap_or(u64::MAX)),
            ProgressDrawTarget::stderr(),
        );
        if let Ok(style) =
            ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what}, {{elapsed}}"))
        {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(100));
        Self(Some(bar))
    }

    /// The bar, to advance from another task.
    pub fn bar(&self) -> Option<ProgressBar> {
        self.0.clone()
    }

    /// One more item written.
    pub fn item(&self, summary: &ListingSummary) {
        let Some(bar) = &self.0 else {
            return;
        };
        bar.inc(1);
        if bar.length().is_none()
            && let Some(total) = summary.last_total
        {
            bar.set_length(u64::try_from(total).unwrap_or(0));
            if let Some(style) = style("{bar:40} {human_pos}/{human_len} items, {rate}, eta {eta}")
            {
                bar.set_style(style);
            }
        }
    }

    /// Prints `line` on stderr above the bar.
    pub fn warn(&self, line: &str) {
        let print = || eprintln!("shiheng: warning: {}", text::line(line));
        match &self.0 {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// Removes the bar from the screen.
    pub fn clear(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
