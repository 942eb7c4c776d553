//! The `table` format: columns chosen from the item schema's fields (or
//! `--columns`) to fit the terminal's width, cells made inert and cut with
//! `…`, times shown as UTC text. Widths come from the first rows (up to the
//! first page), held back until then; later rows are cut to those widths.

use std::borrow::Cow;

use shiheng::record::DynRecord;
use shiheng::record::{Cell, Field};

use crate::text::{self, TEXT_CAP};

/// Rows held back to measure the columns before the first is written.
const SAMPLE_ROWS: usize = 200;
/// The widest a column starts at; wider cells are cut.
const MAX_NATURAL: usize = 32;
/// The narrowest a column is squeezed to.
const MIN_WIDTH: usize = 3;
/// Cells between columns.
const GAP: usize = 2;
/// The id column's least width: any non-negative 64-bit id (19 digits), so
/// a later page's larger id is never cut.
const ID_WIDTH: usize = 19;

/// The terminal width the table fits: `COLUMNS` when set, else the
/// terminal's when stdout is one, else 80.
pub fn terminal_width(to_terminal: bool) -> usize {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
    {
        return columns;
    }
    if to_terminal && let Some((_, columns)) = console::Term::stdout().size_checked() {
        return usize::from(columns);
    }
    80
}

/// A cell as the table shows it.
pub fn cell_text(cell: Option<Cell<'_>>) -> Cow<'_, str> {
    match cell {
        None => Cow::Borrowed(""),
        Some(Cell::Text(text)) => match text {
            Cow::Borrowed(t) => text::inert(t, TEXT_CAP),
            Cow::Owned(t) => Cow::Owned(text::inert(&t, TEXT_CAP).into_owned()),
        },
        Some(Cell::Time(Some(ms), _)) => Cow::Owned(text::utc(ms)),
        Some(Cell::Time(None, t)) => Cow::Owned(text::inert(&t, TEXT_CAP).into_owned()),
        Some(Cell::Json(json)) => Cow::Owned(text::inert(&json, TEXT_CAP).into_owned()),
        Some(other) => Cow::Owned(other.to_string()),
    }
}

/// A table being written.
pub struct Table {
    fields: Vec<&'static Field>,
    id_field: Option<&'static str>,
    explicit: bool,
    width: usize,
    sample: Vec<Vec<String>>,
    /// Index into `fields` and width of each shown column, once laid out.
    layout: Option<Vec<(usize, usize)>>,
}

impl Table {
    /// A table of `fields`; `explicit` when the user chose them (all are
    /// shown, squeezed to fit), otherwise the first that fit are shown.
    /// `id_field` (the spec's `itemId`) gets room for any id.
    pub fn new(
        fields: Vec<&'static Field>,
        id_field: Option<&'static str>,
        explicit: bool,
        width: usize,
    ) -> Self {
        Self {
            fields,
            id_field,
            explicit,
            width: width.max(MIN_WIDTH),
            sample: Vec::new(),
            layout: None,
        }
    }

    /// Adds one item's row.
    pub fn row(&mut self, item: &dyn DynRecord, out: &mut Vec<u8>) {
        match &self.layout {
            Some(layout) => {
                let cells: Vec<Cow<'_, str>> = layout
                    .iter()
                    .map(|(i, _)| cell_text(item.get(self.fields[*i].name)))
                    .collect();
                write_row(out, layout, &cells);
            }
            None => {
                let cells = self
                    .fields
                    .iter()
                    .map(|f| cell_text(item.get(f.name)).into_owned())
                    .collect();
                self.sample.push(cells);
                if self.sample.len() >= SAMPLE_ROWS {
                    self.settle(out);
                }
            }
        }
    }

    /// Lays the columns out from the rows so far and writes the header and
    /// those rows; does nothing once laid out.
    pub fn settle(&mut self, out: &mut Vec<u8>) {
        if self.layout.is_some() {
            return;
        }
        let layout = self.choose();
        let header: Vec<Cow<'_, str>> = layout
            .iter()
            .map(|(i, _)| Cow::Borrowed(self.fields[*i].name))
            .collect();
        write_row(out, &layout, &header);
        for row in std::mem::take(&mut self.sample) {
            let cells: Vec<Cow<'_, str>> = layout
                .iter()
                .map(|(i, _)| Cow::Borrowed(row[*i].as_str()))
                .collect();
            write_row(out, &layout, &cells);
        }
        self.layout = Some(layout);
    }

    /// The columns to show and their widths.
    fn choose(&self) -> Vec<(usize, usize)> {
        let natural: Vec<usize> = (0..self.fields.len())
            .map(|i| {
                let cells = self.sample.iter().map(|row| text::width(&row[i]));
                let least = if Some(self.fields[i].name) == self.id_field {
                    ID_WIDTH
                } else {
                    1
                };
                cells
                    .chain([text::width(self.fields[i].name), least])
                    .max()
                    .unwrap_or(0)
                    .clamp(1, MAX_NATURAL)
            })
            .collect();
        let total = |cols: &[(usize, usize)]| {
            cols.iter().map(|(_, w)| w).sum::<usize>() + GAP * cols.len().saturating_sub(1)
        };
        if self.explicit {
            let mut cols: Vec<(usize, usize)> = natural.iter().copied().enumerate().collect();
            while total(&cols) > self.width {
                let Some(widest) = cols
                    .iter_mut()
                    .filter(|(_, w)| *w > MIN_WIDTH)
                    .max_by_key(|(_, w)| *w)
                else {
                    break;
                };
                widest.1 -= 1;
            }
            return cols;
        }
        let mut cols = Vec::new();
        for (i, want) in natural.iter().copied().enumerate() {
            // Columns empty in every row so far would only take room.
            if !self.sample.is_empty() && self.sample.iter().all(|row| row[i].is_empty()) {
                continue;
            }
            let used = total(&cols) + if cols.is_empty() { 0 } else { GAP };
            let room = self.width.saturating_sub(used);
            if want <= room {
                cols.push((i, want));
                continue;
            }
            if room >= 2 * MIN_WIDTH || cols.is_empty() {
                cols.push((i, room.max(1)));
            }
            break;
        }
        if cols.is_empty() && !self.fields.is_empty() {
            cols.push((0, natural[0].min(self.width)));
        }
        cols
    }
}

fn write_row(out: &mut Vec<u8>, layout: &[(usize, usize)], cells: &[Cow<'_, str>]) {
    let mut line = String::new();
    for (n, ((_, width), cell)) in layout.iter().zip(cells).enumerate() {
        if n > 0 {
            line.extend(std::iter::repeat_n(' ', GAP));
        }
        let cell = text::fit(cell, *width);
        line.push_str(&cell);
        if n + 1 < layout.len() {
            line.extend(std::iter::repeat_n(
                ' ',
                width.saturating_sub(text::width(&cell)),
            ));
        }
    }
    out.extend_from_slice(line.trim_end().as_bytes());
    out.push(b'\n');
}
