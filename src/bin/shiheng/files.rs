//! The files the tool writes and reads for the user, treated as the user's:
//! an `--output` or a spec is replaced only if it is a regular file the
//! user could write, through a partial file created with the target's mode
//! (and owner, where the process may) and renamed over it; a device, a FIFO
//! or a terminal is written straight, never replaced; a file read as a
//! secret is bounded in size and in time.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[cfg(unix)]
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};

/// The mode of a new `--output` file: a listing of employees or customers
/// holds personal data (names, phone numbers), so only the owner reads it.
pub const NEW_OUTPUT_MODE: u32 = 0o600;

/// The mode of a new spec or sample file written by `spec import`: source
/// files, readable as a checkout makes them (the umask still applies).
pub const NEW_SOURCE_MODE: u32 = 0o644;

/// What a path to be written names.
pub enum Target {
    /// A regular file, existing or not: written beside it and renamed over
    /// it. `path` is where the file really is (a symbolic link resolved, so
    /// the link stays a link).
    Regular {
        /// The file to replace.
        path: PathBuf,
        /// Its metadata when it exists.
        existing: Option<Metadata>,
    },
    /// A device, a FIFO, a socket or a terminal: written straight.
    Special(PathBuf),
}

/// Looks at `path` before anything is written: a directory is an error, a
/// regular file the user could not write (read-only, or not theirs to
/// write) is refused, and anything that is not a regular file is written
/// straight.
pub fn target(path: &Path) -> io::Result<Target> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Target::Regular {
                path: path.to_path_buf(),
                existing: None,
            });
        }
        Err(e) => return Err(named(path, e)),
    };
    if metadata.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            format!("{} is a directory", path.display()),
        ));
    }
    if !metadata.is_file() {
        return Ok(Target::Special(path.to_path_buf()));
    }
    let real = if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        std::fs::canonicalize(path).map_err(|e| named(path, e))?
    } else {
        path.to_path_buf()
    };
    writable(&real, &metadata)?;
    Ok(Target::Regular {
        path: real,
        existing: Some(metadata),
    })
}

/// Refuses a regular file that has no write permission for anyone (even
/// for root, who could write it: a read-only file says "do not replace"),
/// or that the user may not write.
fn writable(path: &Path, metadata: &Metadata) -> io::Result<()> {
    if metadata.permissions().readonly() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is read-only{}: not replaced (make it writable to allow it)",
                path.display(),
                mode_note(metadata)
            ),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))?;
        // SAFETY: a valid NUL-terminated path; access() only reads it.
        let allowed = unsafe { libc::access(c_path.as_ptr(), libc::W_OK) } == 0;
        if !allowed {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{} is not writable by this user{}: not replaced",
                    path.display(),
                    mode_note(metadata)
                ),
            ));
        }
    }
    Ok(())
}

fn mode_note(metadata: &Metadata) -> String {
    #[cfg(unix)]
    {
        format!(" (mode {:04o})", metadata.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        String::new()
    }
}

fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// `<path><suffix>` beside `path`.
pub fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Creates `partial` for writing with `like`'s mode and owner (where the
/// process may set it), or with `new_mode` when the target is new. A
/// partial file left by an earlier run is replaced; anything else at that
/// path (a directory, a FIFO, a link) is refused.
pub fn create_partial(partial: &Path, like: Option<&Metadata>, new_mode: u32) -> io::Result<File> {
    match std::fs::symlink_metadata(partial) {
        Ok(m) if m.file_type().is_file() => {
            std::fs::remove_file(partial).map_err(|e| named(partial, e))?
        }
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} exists and is not a regular file: move it away",
                    partial.display()
                ),
            ));
        }
        Err(_) => {}
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        let mode = like.map_or(new_mode, |m| m.permissions().mode() & 0o777);
        // Never more open than the target while it is written.
        options.mode(mode & 0o777);
    }
    let file = options.open(partial).map_err(|e| named(partial, e))?;
    #[cfg(unix)]
    if let Some(like) = like {
        // The owner first (changing it may clear set-id bits), then the
        // mode exactly, which the umask may have narrowed at creation.
        let _ = std::os::unix::fs::fchown(&file, Some(like.uid()), Some(like.gid()));
        file.set_permissions(std::fs::Permissions::from_mode(
            like.permissions().mode() & 0o7777,
        ))
        .map_err(|e| named(partial, e))?;
    }
    #[cfg(not(unix))]
    let _ = (like, new_mode);
    Ok(file)
}

/// Writes `text` to the regular file `path` through a partial file beside
/// it (mode and owner of the file it replaces, `new_mode` for a new one),
/// synced and renamed over it: a failure never leaves half a file. A
/// device or FIFO is written straight.
pub fn replace(path: &Path, text: &[u8], suffix: &str, new_mode: u32) -> io::Result<()> {
    use std::io::Write;
    match target(path)? {
        Target::Special(path) => OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text))
            .map_err(|e| named(&path, e)),
        Target::Regular { path, existing } => {
            let partial = beside(&path, suffix);
            let mut file = create_partial(&partial, existing.as_ref(), new_mode)?;
            let written = file
                .write_all(text)
                .and_then(|()| file.sync_all())
                .and_then(|()| std::fs::rename(&partial, &path));
            written.map_err(|e| {
                let _ = std::fs::remove_file(&partial);
                named(&path, e)
            })
        }
    }
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
