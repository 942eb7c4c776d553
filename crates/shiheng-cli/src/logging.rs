//! The library's tracing on stderr: `RUST_LOG` (an env-filter directive)
//! or `-v` (the client's debug events) / `-vv` (its trace events) / `-vvv`
//! (everything, reqwest and hyper included) turn it on; without either
//! nothing is installed and nothing is logged. Every line goes through [`InertStderr`],
//! so what the platform sends (a `msg` in an event, say) cannot act on the
//! terminal. The secret never reaches a log: the library masks it at every
//! level, and this tool never logs it.

use std::io::{self, Write};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::text;

/// The longest log line, in characters.
const LOG_LINE_CAP: usize = 4000;

/// Installs the subscriber `RUST_LOG` or `verbose` asks for, if any.
pub fn init(verbose: u8) {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let filter = match (from_env, verbose) {
        (Some(directives), _) => match EnvFilter::try_new(&directives) {
            Ok(filter) => filter,
            Err(e) => {
                eprintln!(
                    "shiheng: warning: RUST_LOG is not a valid filter ({}); logging is off",
                    text::line(&e.to_string())
                );
                return;
            }
        },
        (None, 0) => return,
        (None, 1) => EnvFilter::new("shiheng=debug"),
        (None, 2) => EnvFilter::new("shiheng=trace"),
        (None, _) => EnvFilter::new("trace"),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(InertStderr)
        .try_init();
}

/// Stderr, with each log line's control characters (but its final newline)
/// escaped and its length capped.
struct InertStderr;

impl<'a> MakeWriter<'a> for InertStderr {
    type Writer = InertLine;

    fn make_writer(&'a self) -> Self::Writer {
        InertLine
    }
}

/// One log event: the formatter writes each event in one call.
struct InertLine;

impl Write for InertLine {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let line = String::from_utf8_lossy(buf);
        let body = line.strip_suffix('\n').unwrap_or(&line);
        let mut out = text::inert(body, LOG_LINE_CAP).into_owned();
        out.push('\n');
        io::stderr().lock().write_all(out.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::InertLine;

    #[test]
    fn an_event_stays_one_line_without_control_characters() {
        // Written to stderr; what is checked is that writing never fails
        // and reports the whole event as written.
        let event = "DEBUG call failed: msg=\"\x1b[2J\r\nFAKE ERROR\x07\x7f\" 食亨\t.\n";
        assert_eq!(InertLine.write(event.as_bytes()).ok(), Some(event.len()));
        assert_eq!(
            crate::text::inert("msg=\"\x1b[2J\r\nFAKE\x07\" 食亨", 100),
            "msg=\"\\u{1b}[2J\\r\\nFAKE\\u{7}\" 食亨"
        );
    }
}
