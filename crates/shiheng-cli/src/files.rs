//! The files the tool writes and reads for the user, treated as the user's:
//! an `--output` or a spec is replaced only if it is a regular file the
//! user could write, through a partial file created with the target's mode
//! (and owner, where the process may) and renamed over it; a device, a FIFO
//! or a terminal is written straight, never replaced; a file read as a
//! secret is bounded in size and in time, one read as input (a spec,
//! params) in size.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::Path;
use std::time::{Duration, Instant};

#[cfg(unix)]
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};

pub use shiheng_spec::files::{Target, beside, create_partial, named, target};

/// The mode of a new `--output` file: a listing of employees or customers
/// holds personal data (names, phone numbers), so only the owner reads it.
pub const NEW_OUTPUT_MODE: u32 = 0o600;

/// The most a file read as input (`--spec`, `--params @file`,
/// `--param-content @file`) may hold: far above a spec of hundreds of
/// operations (2 MB at 303), far below what `/dev/zero` would fill.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// Reads `path` as UTF-8 text of at most [`MAX_INPUT_BYTES`]: a larger or
/// endless file is refused once that much was read, not read on.
pub fn read_input(path: &Path) -> Result<String, String> {
    let file = File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err("is a directory".into());
    }
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(format!(
            "more than {} MiB: not an input this tool reads",
            MAX_INPUT_BYTES / (1024 * 1024)
        ));
    }
    String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".into())
}

/// Whether `metadata` is a FIFO.
pub fn is_fifo(metadata: &Metadata) -> bool {
    #[cfg(unix)]
    {
        metadata.file_type().is_fifo()
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        false
    }
}

/// Opens `path` for writing without blocking: a FIFO with no reader yet
/// gives `WouldBlock` (ENXIO) instead of waiting in `open()`, where no
/// signal could end the wait; once open, writes block as usual.
pub fn open_straight(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    options.custom_flags(libc::O_NONBLOCK);
    let file = match options.open(path) {
        Ok(file) => file,
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            return Err(io::Error::new(io::ErrorKind::WouldBlock, "no reader yet"));
        }
        Err(e) => return Err(named(path, e)),
    };
    #[cfg(unix)]
    blocking(&file)?;
    Ok(file)
}

/// Clears `O_NONBLOCK` on an open file.
#[cfg(unix)]
fn blocking(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this function's caller owns.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The largest secret file read: a secret is a short line.
pub const MAX_SECRET_BYTES: usize = 4096;

/// How long a secret file that is a FIFO or a pipe may take to deliver the
/// secret (its writer may start after the tool).
pub const SECRET_WAIT: Duration = Duration::from_secs(10);

/// Reads the app secret from `path`: at most [`MAX_SECRET_BYTES`] (more is
/// refused, so `/dev/zero` or a huge file is not read on), UTF-8 text with
/// no control character but the trailing newline; a FIFO is opened without
/// blocking and read within [`SECRET_WAIT`]. Signals keep their default
/// action while this runs (it runs before the tool catches them), so
/// Ctrl-C ends the wait.
pub fn read_secret(path: &Path) -> Result<String, String> {
    let fail = |why: String| format!("--app-secret-file {}: {why}", path.display());
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    options.custom_flags(libc::O_NONBLOCK);
    let mut file = options
        .open(path)
        .map_err(|e| fail(format!("cannot read it: {e}")))?;
    let metadata = file.metadata().map_err(|e| fail(e.to_string()))?;
    if metadata.is_dir() {
        return Err(fail("is a directory".into()));
    }
    if metadata.is_file() && metadata.len() > MAX_SECRET_BYTES as u64 {
        return Err(fail(format!(
            "{} bytes: a secret is at most {MAX_SECRET_BYTES} bytes",
            metadata.len()
        )));
    }
    let mut bytes = Vec::with_capacity(256);
    let mut chunk = [0u8; 1024];
    let deadline = Instant::now() + SECRET_WAIT;
    let pipe = is_fifo(&metadata);
    loop {
        match file.read(&mut chunk) {
            // A FIFO whose writer has not come yet reads as its end too:
            // wait for it (bounded) until something arrived.
            Ok(0) if pipe && bytes.is_empty() => {
                if Instant::now() >= deadline {
                    return Err(fail(format!(
                        "nothing arrived within {} s",
                        SECRET_WAIT.as_secs()
                    )));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(0) => break,
            Ok(n) => {
                bytes.extend_from_slice(&chunk[..n]);
                if bytes.len() > MAX_SECRET_BYTES {
                    return Err(fail(format!(
                        "more than {MAX_SECRET_BYTES} bytes: not a secret"
                    )));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(fail(format!(
                        "nothing arrived within {} s",
                        SECRET_WAIT.as_secs()
                    )));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(fail(format!("cannot read it: {e}"))),
        }
    }
    let text = String::from_utf8(bytes).map_err(|_| fail("is not UTF-8 text".into()))?;
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(fail(format!(
            "holds the control character U+{:04X}: not a secret",
            c as u32
        )));
    }
    Ok(text.to_string())
}
