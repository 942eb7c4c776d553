//! The command line's diagnostics: the library's tracing (spans per call
//! and attempt, retries, redirects, at `trace` the string to sign with the
//! secret masked) on stderr, when `RUST_LOG` is set or `-v` is given;
//! nothing otherwise. tracing-subscriber escapes control characters in
//! field values, so text from the platform cannot act on the terminal.

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
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
