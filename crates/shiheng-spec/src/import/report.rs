//! The import report: what was read, how each construct was mapped, what the
//! sample contradicts, and what `--write` does. Plain text, one finding a
//! line, grouped under headings, so a reviewer can check it against the page.

use super::page::Problem;

/// Findings, by section.
#[derive(Debug, Default)]
pub struct Report {
    /// The first line: which page, as which operation.
    pub title: String,
    /// What was found where in the page.
    pub read: Vec<String>,
    /// Rows and text that could not be read, with their lines.
    pub unreadable: Vec<Problem>,
    /// The names chosen and the rules that chose them.
    pub names: Vec<String>,
    /// How the page's constructs became spec constructs.
    pub mapping: Vec<String>,
    /// `x-pagination`, `x-idempotent` and `x-cli-command`.
    pub operation: Vec<String>,
    /// Where the sample and the tables disagree, and what the spec does about it.
    pub contradictions: Vec<String>,
    /// Things a person should look at.
    pub warnings: Vec<String>,
    /// What was (or would be) added, replaced or refused.
    pub changes: Vec<String>,
}

impl Report {
    /// The report as printed.
    pub fn render(&self) -> String {
        let mut out = format!("{}\n", self.title);
        let unreadable: Vec<String> = self
            .unreadable
            .iter()
            .map(|p| {
                if p.text.is_empty() {
                    format!("line {}: {}", p.line, p.why)
                } else {
                    format!("line {}: {} (`{}`)", p.line, p.why, p.text)
                }
            })
            .collect();
        for (heading, lines) in [
            ("Read", &self.read),
            ("Unreadable (left out, not guessed)", &unreadable),
            ("Names", &self.names),
            ("Mapping", &self.mapping),
            ("Operation", &self.operation),
            ("Sample against the tables", &self.contradictions),
            ("Look at", &self.warnings),
            ("Spec changes", &self.changes),
        ] {
            if lines.is_empty() {
                continue;
            }
            out.push_str(&format!("\n{heading}:\n"));
            for line in lines {
                out.push_str(&format!("  - {line}\n"));
            }
        }
        out
    }
}
