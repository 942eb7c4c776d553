//! Where output goes and how items are written. Owns the [`Sink`] (stdout;
//! a regular file written as `<target>.partial` with the target's mode and
//! renamed over the target only on success; a device or FIFO written
//! straight) and the [`ItemWriter`] of the four formats, which writes each
//! item from its typed record (declared fields in the spec's order, then the
//! undeclared ones) into one buffer that goes to the sink in large writes.
//!
//! Nothing here fakes completeness: a listing that fails or is interrupted
//! keeps every complete record written so far, but `json` gets no closing
//! `]` and a file target is left untouched (the records are in the
//! `.partial` file beside it).

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::ValueEnum;
use shiheng::record::DynRecord;
use shiheng::record::{Cell, Field};

use crate::signals::Signals;
use crate::table::{self, Table};
use crate::{Failure, files, text};

/// Bytes gathered before they go to the sink in one write.
const CHUNK: usize = 64 * 1024;

/// How items are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns that fit the terminal, for people.
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

impl Format {
    /// Whether an item that could not be decoded can be written as received.
    pub fn keeps_raw_items(self) -> bool {
        matches!(self, Format::Json | Format::Jsonl)
    }
}

/// Where the output goes.
pub enum Sink {
    /// Standard output.
    Stdout(io::Stdout),
    /// A regular file target, written as `partial` until [`Sink::commit`].
    File {
        /// The file being written (`<target>.partial`, with the target's
        /// mode and owner, or [`files::NEW_OUTPUT_MODE`] for a new target).
        file: File,
        /// Its path.
        partial: PathBuf,
        /// Where it goes on success.
        target: PathBuf,
    },
    /// A target that is not a regular file (a device, a FIFO, a terminal):
    /// written straight, never replaced.
    Straight(File),
}

impl Sink {
    /// Standard output; `<target>.partial` beside a regular `target`
    /// (created now, before anything is sent, so a bad path fails first; a
    /// read-only target is refused); or a device or FIFO opened as it is.
    /// A FIFO without a reader is waited for until a stop signal.
    pub async fn open(target: Option<&Path>, signals: &mut Signals) -> Result<Sink, Failure> {
        let Some(target) = target else {
            return Ok(Sink::Stdout(io::stdout()));
        };
        match files::target(target)? {
            files::Target::Regular { path, existing } => {
                let partial = files::beside(&path, ".partial");
                let file =
                    files::create_partial(&partial, existing.as_ref(), files::NEW_OUTPUT_MODE)?;
                Ok(Sink::File {
                    file,
                    partial,
                    target: path,
                })
            }
            files::Target::Special(path) => loop {
                match files::open_straight(&path) {
                    Ok(file) => return Ok(Sink::Straight(file)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        tokio::select! {
                            biased;
                            signal = signals.wait() => {
                                eprintln!(
                                    "shiheng: interrupted by {signal} while waiting for a reader of {}; nothing was sent",
                                    path.display()
                                );
                                return Err(Failure::Interrupted);
                            }
                            () = tokio::time::sleep(Duration::from_millis(20)) => {}
                        }
                    }
                    Err(e) => return Err(Failure::Output(e)),
                }
            },
        }
    }

    /// Whether the output is a terminal.
    pub fn is_terminal(&self) -> bool {
        match self {
            Sink::Stdout(out) => out.is_terminal(),
            Sink::File { .. } => false,
            Sink::Straight(file) => file.is_terminal(),
        }
    }

    /// Writes `bytes` out now.
    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(out) => {
                let mut out = out.lock();
                out.write_all(bytes)?;
                out.flush()
            }
            Sink::File { file, .. } | Sink::Straight(file) => file.write_all(bytes),
        }
    }

    /// The output is complete: a file replaces its target (synced first, so
    /// a crash leaves the old file or the new one, never half of one).
    pub fn commit(self) -> io::Result<()> {
        match self {
            Sink::Stdout(out) => out.lock().flush(),
            Sink::Straight(mut file) => file.flush(),
            Sink::File {
                file,
                partial,
                target,
            } => {
                file.sync_all()?;
                drop(file);
                std::fs::rename(&partial, &target).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!(
                            "cannot rename {} to {}: {e}",
                            partial.display(),
                            target.display()
                        ),
                    )
                })
            }
        }
    }

    /// The output is incomplete: the target is left as it was; returns the
    /// path of the partial file, when there is one.
    pub fn abandon(self) -> Option<PathBuf> {
        match self {
            Sink::Stdout(out) => {
                let _ = out.lock().flush();
                None
            }
            Sink::Straight(mut file) => {
                let _ = file.flush();
                None
            }
            Sink::File { file, partial, .. } => {
                let _ = file.sync_all();
                Some(partial)
            }
        }
    }
}

/// The per-format state of an [`ItemWriter`].
enum Shape {
    Json,
    Jsonl,
    Csv(Vec<&'static Field>),
    Table(Table),
}

/// Writes items one by one in a [`Format`]. Call [`finish`](Self::finish)
/// when the listing is complete, [`abandon`](Self::abandon) when it is not.
pub struct ItemWriter {
    shape: Shape,
    buf: Vec<u8>,
    sink: Sink,
    written: u64,
}

impl ItemWriter {
    /// A writer of items whose schema declares `fields` (`id_field` the one
    /// that identifies an item), showing `columns` (table and csv; all
    /// fields when `None`).
    pub fn new(
        format: Format,
        fields: &'static [Field],
        id_field: Option<&'static str>,
        columns: Option<Vec<&'static Field>>,
        sink: Sink,
    ) -> Self {
        let explicit = columns.is_some();
        let columns = columns.unwrap_or_else(|| fields.iter().collect());
        let shape = match format {
            Format::Json => Shape::Json,
            Format::Jsonl => Shape::Jsonl,
            Format::Csv => Shape::Csv(columns),
            Format::Table => Shape::Table(Table::new(
                columns,
                id_field,
                explicit,
                table::terminal_width(sink.is_terminal()),
            )),
        };
        Self {
            shape,
            buf: Vec::with_capacity(CHUNK + 4096),
            sink,
            written: 0,
        }
    }

    /// Records written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes one item.
    pub fn item(&mut self, item: &dyn DynRecord) -> io::Result<()> {
        match &mut self.shape {
            Shape::Jsonl => {
                item.append_json(&mut self.buf)?;
                self.buf.push(b'\n');
            }
            Shape::Json => {
                self.buf
                    .extend_from_slice(if self.written == 0 { b"[\n" } else { b",\n" });
                item.append_json(&mut self.buf)?;
            }
            Shape::Csv(columns) => {
                if self.written == 0 {
                    csv_header(columns, &mut self.buf);
                }
                csv_row(columns, item, &mut self.buf);
            }
            Shape::Table(table) => table.row(item, &mut self.buf),
        }
        self.written += 1;
        if self.buf.len() >= CHUNK {
            self.drain()?;
        }
        Ok(())
    }

    /// Writes an item as received (JSON text), in the formats that can;
    /// returns whether it was written.
    pub fn raw(&mut self, json: &str) -> io::Result<bool> {
        let json = text::compact_json(json);
        match self.shape {
            Shape::Jsonl => {
                self.buf.extend_from_slice(json.as_bytes());
                self.buf.push(b'\n');
            }
            Shape::Json => {
                self.buf
                    .extend_from_slice(if self.written == 0 { b"[\n" } else { b",\n" });
                self.buf.extend_from_slice(json.as_bytes());
            }
            Shape::Csv(_) | Shape::Table(_) => return Ok(false),
        }
        self.written += 1;
        Ok(true)
    }

    /// Sends what is gathered to the sink: called whenever the next item is
    /// not ready yet, so what has arrived is visible while the next page is
    /// on its way. A table lays its columns out at the first call.
    pub fn flush(&mut self) -> io::Result<()> {
        if let Shape::Table(table) = &mut self.shape
            && self.written > 0
        {
            table.settle(&mut self.buf);
        }
        self.drain()
    }

    fn drain(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.sink.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Ends a complete output (an empty listing is `[]` in json, a header
    /// alone in csv and table) and commits it.
    pub fn finish(mut self) -> io::Result<()> {
        match &mut self.shape {
            Shape::Json if self.written == 0 => self.buf.extend_from_slice(b"[]\n"),
            Shape::Json => self.buf.extend_from_slice(b"\n]\n"),
            Shape::Csv(columns) if self.written == 0 => csv_header(columns, &mut self.buf),
            Shape::Table(table) => table.settle(&mut self.buf),
            Shape::Csv(_) | Shape::Jsonl => {}
        }
        self.drain()?;
        self.sink.commit()
    }

    /// Ends an incomplete output: every complete record written so far is
    /// kept, nothing closes it (no `]`), and a file target is left as it was.
    /// Returns the partial file's path, when there is one.
    pub fn abandon(mut self) -> Option<PathBuf> {
        match &mut self.shape {
            // The records stay one per line; the missing `]` shows it is cut.
            Shape::Json if self.written > 0 => self.buf.push(b'\n'),
            Shape::Table(table) if self.written > 0 => table.settle(&mut self.buf),
            _ => {}
        }
        let _ = self.drain();
        self.sink.abandon()
    }
}

fn csv_header(columns: &[&'static Field], out: &mut Vec<u8>) {
    let mut line = String::new();
    for (n, field) in columns.iter().enumerate() {
        if n > 0 {
            line.push(',');
        }
        text::csv_text(field.name, &mut line);
    }
    line.push('\n');
    out.extend_from_slice(line.as_bytes());
}

fn csv_row(columns: &[&'static Field], item: &dyn DynRecord, out: &mut Vec<u8>) {
    let mut line = String::new();
    for (n, field) in columns.iter().enumerate() {
        if n > 0 {
            line.push(',');
        }
        match item.get(field.name) {
            None => {}
            Some(Cell::Text(t)) => text::csv_text(&t, &mut line),
            // Epoch milliseconds are a number; any other form is text.
            Some(Cell::Time(Some(_), t)) if t.parse::<i64>().is_ok() => line.push_str(&t),
            Some(Cell::Time(_, t)) => text::csv_text(&t, &mut line),
            Some(Cell::Json(json)) => text::csv_text(&json, &mut line),
            // Numbers and booleans cannot start a formula that acts: a
            // negative number is a number.
            Some(other) => line.push_str(&other.to_string()),
        }
    }
    line.push('\n');
    out.extend_from_slice(line.as_bytes());
}
