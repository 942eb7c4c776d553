//! Replacing the user's files safely, for `spec import --write` and the
//! CLI's `--output`: a path is replaced only if it is a regular file the
//! user could write, through a partial file beside it created with the
//! target's mode (and owner, where the process may) and renamed over it; a
//! device, a FIFO or a terminal is never replaced by a file.

use std::fs::{Metadata, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

#[cfg(unix)]
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};

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

/// `e` with the path it is about.
pub fn named(path: &Path, e: io::Error) -> io::Error {
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
pub fn create_partial(
    partial: &Path,
    like: Option<&Metadata>,
    new_mode: u32,
) -> io::Result<std::fs::File> {
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
