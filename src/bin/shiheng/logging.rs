//! The command line's diagnostics: the library's tracing (spans per call
//! and attempt, retries, redirects, at `trace` the string to sign with the
//! secret masked) on stderr, when `RUST_LOG` is set or `-v` is given;
//! nothing otherwise. Text from the platform can reach these lines (an
//! error's `msg`), so each event is written as one line with every control
//! character escaped: it can neither act on the terminal nor forge lines.

use std::io::{self, Write};

use tracing_subscriber::EnvFilter;

/// Installs the stderr subscriber: `RUST_LOG` (its usual syntax) when set,
/// otherwise `-v` for this crate's debug events, `-vv` for its trace
/// events, `-vvv` for everything (reqwest and hyper included).
pub fn init(verbosity: u8) {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|directives| !directives.trim().is_empty());
    let directives = match (from_env, verbosity) {
        (Some(directives), _) => directives,
        (None, 0) => return,
        (None, 1) => "shiheng=debug".to_string(),
        (None, 2) => "shiheng=trace".to_string(),
        (None, _) => "trace".to_string(),
    };
    let filter = EnvFilter::builder().parse_lossy(directives);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| OneLine(io::stderr()))
        .with_ansi(false)
        .try_init();
}

/// stderr, receiving one whole event per `write` (tracing-subscriber's fmt
/// layer formats an event into a buffer, then writes it once).
struct OneLine(io::Stderr);

impl Write for OneLine {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(&escape_controls(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// `event` with every C0 control byte and DEL written as `\xNN`, but for
/// tabs and the newline that ends it. Byte-wise is safe: in UTF-8 these
/// bytes never occur inside a multi-byte character. (tracing-subscriber
/// itself escapes ESC and the C1 controls in field values, not CR or LF.)
fn escape_controls(event: &[u8]) -> Vec<u8> {
    let (body, end) = match event.strip_suffix(b"\n") {
        Some(body) => (body, &b"\n"[..]),
        None => (event, &b""[..]),
    };
    let mut out = Vec::with_capacity(event.len());
    for &byte in body {
        if (byte < 0x20 && byte != b'\t') || byte == 0x7f {
            out.extend_from_slice(format!("\\x{byte:02x}").as_bytes());
        } else {
            out.push(byte);
        }
    }
    out.extend_from_slice(end);
    out
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn an_event_stays_one_line_without_control_characters() {
        let event = "DEBUG call failed: msg=\"\x1b[2J\r\nFAKE ERROR\x07\x7f\" 食亨\t.\n";
        let escaped = String::from_utf8(escape_controls(event.as_bytes())).unwrap();
        assert_eq!(
            escaped,
            "DEBUG call failed: msg=\"\\x1b[2J\\x0d\\x0aFAKE ERROR\\x07\\x7f\" 食亨\t.\n"
        );
        assert_eq!(escape_controls(b"no newline"), b"no newline");
    }
}
