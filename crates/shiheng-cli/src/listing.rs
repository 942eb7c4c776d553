//! The commands of paginated operations: one page, or with `--all` every
//! item, written as the stream yields it (nothing is collected, so memory
//! stays flat however many items there are). Owns what a listing tells the
//! user on stderr: a warning once per drifted field and kind, one per item
//! that could not be decoded, and the summary; and when it stops early:
//! `--strict`, an error, or a signal.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use shiheng::operation::{OperationSpec, PaginationStyle};
use shiheng::paginate::{ListingOptions, Page};
use shiheng::record::Coercion;
use shiheng::record::DynItem;
use shiheng::{Client, ErrorKind, ListingSummary};

use crate::Failure;
use crate::cli::ListArgs;
use crate::output::{ItemWriter, Sink};
use crate::progress::Progress;
use crate::signals::Signals;
use crate::text;

/// A drifted field: its schema, its name, and how it was coerced.
type DriftKey = (&'static str, &'static str, Coercion);

/// What a listing's summary reports: the library's summary of a listing,
/// or the same counts for one page.
#[derive(Default)]
pub struct Tally {
    pages: u64,
    duplicates: u64,
    undecodable: u64,
    first_total: Option<i64>,
    last_total: Option<i64>,
    totals_disagree: bool,
    drift: BTreeMap<DriftKey, u64>,
}

impl From<&ListingSummary> for Tally {
    fn from(summary: &ListingSummary) -> Self {
        Self {
            pages: summary.pages,
            duplicates: summary.duplicates_dropped,
            undecodable: summary.undecodable,
            first_total: summary.first_total,
            last_total: summary.last_total,
            totals_disagree: summary.totals_disagree(),
            drift: summary
                .coercions
                .iter()
                .map(|(d, n)| ((d.schema, d.field, d.kind), *n))
                .collect(),
        }
    }
}

impl Tally {
    /// The total the platform reported last, when it did.
    pub fn reported_total(&self) -> Option<i64> {
        self.last_total
    }
}

/// How a listing ended.
enum End {
    /// Every item was listed.
    Complete,
    /// It stopped early for this reason.
    Failed(Failure),
    /// A signal stopped it.
    Interrupted(&'static str),
}

/// Runs a paginated operation's command.
pub async fn run(
    client: &Client,
    op: &'static OperationSpec,
    args: ListArgs,
    signals: &mut Signals,
) -> Result<(), Failure> {
    let sink = Sink::open(args.output.as_deref(), signals).await?;
    let writer = ItemWriter::new(
        args.format,
        shiheng::dynamic::of(op).item_fields(),
        op.pagination.as_ref().map(|p| p.item_id),
        args.columns.clone(),
        sink,
    );
    // Styles without --concurrency make one request at a time.
    let mut options = ListingOptions::new()
        .start(args.start)
        .page_size(args.page_size)
        .concurrency(args.concurrency.unwrap_or(1));
    if let Some(max_pages) = args.max_pages {
        options = options.max_pages(max_pages);
    }
    if let Some(deadline) = args.deadline {
        options = options.deadline(deadline);
    }
    if args.all {
        all(client, op, &args, options, writer, signals).await
    } else {
        one_page(client, op, &args, options, writer, signals).await
    }
}

/// What a listing has reported so far, and what it has left out.
struct Watch {
    strict: bool,
    keeps_raw: bool,
    pages: u64,
    warned: HashSet<(&'static str, &'static str, Coercion)>,
    /// Items that could not be decoded and could not be written (csv, table).
    left_out: u64,
}

impl Watch {
    fn new(args: &ListArgs) -> Self {
        Self {
            strict: args.strict,
            keeps_raw: args.format.keeps_raw_items(),
            pages: 0,
            warned: HashSet::new(),
            left_out: 0,
        }
    }

    /// Warns once per schema, field and kind of coercion; with `--strict`,
    /// the first is the end.
    fn coerced(
        &mut self,
        operation: &str,
        noted: impl IntoIterator<Item = DriftKey>,
        progress: &Progress,
    ) -> Result<(), Failure> {
        for (schema, field, kind) in noted {
            if !self.warned.insert((schema, field, kind)) {
                continue;
            }
            let what = format!("{operation}: {schema}.{field}: {kind}");
            if self.strict {
                return Err(Failure::Undescribed(format!(
                    "--strict: {what}; stopped before writing the page that holds it"
                )));
            }
            progress.warn(&format!(
                "{what}; kept as received and counted in the summary (the spec may need an update)"
            ));
        }
        Ok(())
    }

    /// Checks a streaming listing's summary for a new page's coercions.
    fn page(
        &mut self,
        summary: &ListingSummary,
        operation: &str,
        progress: &Progress,
    ) -> Result<(), Failure> {
        if summary.pages == self.pages {
            return Ok(());
        }
        self.pages = summary.pages;
        let noted: Vec<DriftKey> = summary
            .coercions
            .keys()
            .map(|d| (d.schema, d.field, d.kind))
            .collect();
        self.coerced(operation, noted, progress)
    }

    /// An item that could not be decoded: written as received where the
    /// format can hold it, otherwise reported; with `--strict`, the end.
    fn undecodable(
        &mut self,
        error: shiheng::Error,
        writer: &mut ItemWriter,
        progress: &Progress,
    ) -> Result<(), Failure> {
        if self.strict {
            return Err(Failure::Platform(error));
        }
        let written = writer.raw(error.raw_item().unwrap_or("null"))?;
        let fate = if written {
            "written as received"
        } else {
            self.left_out += 1;
            "left out: this format cannot hold it (json and jsonl keep it as received)"
        };
        progress.warn(&format!("{}; {fate}", crate::error_line(&error)));
        Ok(())
    }
}

async fn all(
    client: &Client,
    op: &'static OperationSpec,
    args: &ListArgs,
    options: ListingOptions,
    mut writer: ItemWriter,
    signals: &mut Signals,
) -> Result<(), Failure> {
    let Some(mut items) = shiheng::dynamic::of(op).list(client, options) else {
        return Err(Failure::Usage(format!("{} does not page", op.operation_id)));
    };
    let progress = Progress::new();
    let mut watch = Watch::new(args);
    let end = loop {
        // Flush whenever the next item is not ready yet: what has arrived is
        // visible while the next page is on its way, and writes stay batched.
        let next = match items.next().now_or_never() {
            Some(next) => next,
            None => {
                if let Err(e) = writer.flush() {
                    break End::Failed(e.into());
                }
                tokio::select! {
                    biased;
                    signal = signals.wait() => break End::Interrupted(signal),
                    next = items.next() => next,
                }
            }
        };
        if let Err(failure) = watch.page(items.summary_ref(), op.operation_id, &progress) {
            break End::Failed(failure);
        }
        let outcome = match next {
            None => break End::Complete,
            Some(Ok(item)) => writer.item(&*item).map_err(Failure::from),
            Some(Err(e)) if e.kind() == ErrorKind::UndecodableItem => {
                watch.undecodable(e, &mut writer, &progress)
            }
            Some(Err(e)) => Err(e.into()),
        };
        if let Err(failure) = outcome {
            break End::Failed(failure);
        }
        progress.item(items.summary_ref());
    };
    progress.clear();
    // Dropping the stream cancels the requests still in flight.
    let tally = Tally::from(items.summary_ref());
    drop(items);
    finish(end, writer, &watch, &tally, &progress)
}

/// Ends the output by how the listing ended, and prints the summary.
fn finish(
    end: End,
    writer: ItemWriter,
    watch: &Watch,
    summary: &Tally,
    progress: &Progress,
) -> Result<(), Failure> {
    let written = writer.written();
    let end = match end {
        End::Complete if watch.left_out == 0 => match writer.finish() {
            Ok(()) => {
                eprintln!("{}", summary_line(written, summary, watch.keeps_raw));
                print_drift(summary);
                if summary.totals_disagree {
                    let message = if summary.first_total == summary.last_total {
                        format!(
                            "the platform reports {} items but {written} were listed: the data changed during the listing, items may be missing; list again",
                            known(summary.last_total)
                        )
                    } else {
                        format!(
                            "the data changed during the listing (total {} at the start, {} at the end): items may be missing; list again",
                            known(summary.first_total),
                            known(summary.last_total)
                        )
                    };
                    progress.warn(&message);
                }
                return Ok(());
            }
            Err(e) => {
                eprintln!("{}", summary_line(written, summary, watch.keeps_raw));
                return Err(e.into());
            }
        },
        End::Complete => End::Failed(Failure::Undescribed(format!(
            "{} could not be decoded and {} not written (see the warnings; --format jsonl keeps them as received)",
            text::count(watch.left_out, "item", "items"),
            if watch.left_out == 1 { "was" } else { "were" }
        ))),
        other => other,
    };
    let partial = writer.abandon();
    eprintln!("{}", summary_line(written, summary, watch.keeps_raw));
    print_drift(summary);
    if let Some(partial) = partial {
        eprintln!(
            "the output is incomplete: the target was left as it was; what was written is in {}",
            partial.display()
        );
    }
    match end {
        End::Interrupted(signal) => {
            eprintln!(
                "shiheng: interrupted by {signal}: stopped after {}; the output is incomplete",
                text::count(written, "item", "items")
            );
            Err(Failure::Interrupted)
        }
        End::Failed(failure) => Err(failure),
        End::Complete => Ok(()),
    }
}

fn known(value: Option<i64>) -> String {
    value.map_or_else(|| "unknown".to_string(), |v| v.to_string())
}

/// The one wording of a listing's summary:
/// `464 items in 10 pages, 0 duplicates dropped`, then what drifted.
pub fn summary_line(written: u64, summary: &Tally, keeps_raw: bool) -> String {
    let mut line = format!(
        "{} in {}, {} dropped",
        text::count(written, "item", "items"),
        text::count(summary.pages, "page", "pages"),
        text::count(summary.duplicates, "duplicate", "duplicates"),
    );
    if summary.undecodable > 0 {
        line.push_str(&format!(
            ", {} undecodable ({})",
            text::thousands(summary.undecodable),
            if keeps_raw {
                "written as received"
            } else {
                "not written"
            }
        ));
    }
    let coerced: u64 = summary.drift.values().sum();
    if coerced > 0 {
        line.push_str(&format!(
            ", {} coerced",
            text::count(coerced, "value", "values")
        ));
    }
    line
}

/// One line per drifted field and kind, with its count.
pub fn drift_lines(summary: &Tally) -> Vec<String> {
    summary
        .drift
        .iter()
        .map(|((schema, field, kind), n)| {
            format!(
                "  drift: {schema}.{field}: {kind} ({})",
                text::count(*n, "value", "values")
            )
        })
        .collect()
}

fn print_drift(summary: &Tally) {
    for line in drift_lines(summary) {
        eprintln!("{line}");
    }
}

async fn one_page(
    client: &Client,
    op: &'static OperationSpec,
    args: &ListArgs,
    options: ListingOptions,
    mut writer: ItemWriter,
    signals: &mut Signals,
) -> Result<(), Failure> {
    let Some(fetch) = shiheng::dynamic::of(op).page(client, options) else {
        return Err(Failure::Usage(format!("{} does not page", op.operation_id)));
    };
    let page = tokio::select! {
        biased;
        signal = signals.wait() => {
            writer.abandon();
            eprintln!("shiheng: interrupted by {signal} before the page arrived; nothing was written");
            return Err(Failure::Interrupted);
        }
        page = fetch => page?,
    };
    let progress = Progress::new();
    let mut watch = Watch::new(args);
    let mut summary = Tally {
        pages: 1,
        undecodable: page.items.iter().filter(|item| item.is_err()).count() as u64,
        ..Tally::default()
    };
    for seen in &page.observed {
        *summary
            .drift
            .entry((seen.schema, seen.field, seen.kind))
            .or_default() += 1;
    }
    let footer = footer(op, args, &page);
    let end = match write_page(op, page, &mut writer, &mut watch, &progress) {
        Ok(()) => End::Complete,
        Err(failure) => End::Failed(failure),
    };
    let complete = matches!(end, End::Complete) && watch.left_out == 0;
    let outcome = finish(end, writer, &watch, &summary, &progress);
    if complete {
        eprintln!("{footer}");
    }
    outcome
}

/// Writes one page's items, undecodable ones in their place.
fn write_page(
    op: &'static OperationSpec,
    page: Page<DynItem>,
    writer: &mut ItemWriter,
    watch: &mut Watch,
    progress: &Progress,
) -> Result<(), Failure> {
    let noted = page.observed.iter().map(|o| (o.schema, o.field, o.kind));
    watch.coerced(op.operation_id, noted.collect::<Vec<_>>(), progress)?;
    for item in page.items {
        match item {
            Ok(item) => writer.item(&*item)?,
            Err(bad) => {
                let error = bad.into_error(op.operation_id, page.position, page.trace_id.clone());
                watch.undecodable(error, writer, progress)?;
            }
        }
    }
    Ok(())
}

/// Where a single page sits in its listing, and how to get the next one.
fn footer(op: &OperationSpec, args: &ListArgs, page: &Page<DynItem>) -> String {
    let flag = &args.position_flag;
    let Some(pagination) = &op.pagination else {
        return String::new();
    };
    match pagination.style {
        PaginationStyle::PageNumber { .. } => {
            let more = page.pages.is_some_and(|pages| pages > args.start);
            format!(
                "page {} of {} ({} in total){}",
                args.start,
                known(page.pages),
                page.total.map_or_else(
                    || "items unknown".into(),
                    |t| text::count(t.max(0) as u64, "item", "items")
                ),
                if more {
                    format!("; next: {flag} {}, or --all for every item", args.start + 1)
                } else {
                    String::new()
                }
            )
        }
        _ => match page.next_cursor {
            Some(next) => format!("more after this page: {flag} {next}, or --all for every item"),
            None => "this was the last page".to_string(),
        },
    }
}

/// `Duration` as the summary shows it: `19.8 ms`, `2.41 s`.
pub fn elapsed(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}
