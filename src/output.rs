//! Where results go: standard output, or a file written beside its target
//! under a temporary name and renamed into place only once it is complete,
//! so a failed run never leaves a partial file or changes an existing one.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use tempfile::NamedTempFile;

use crate::error::{Error, Problem};

/// Output buffer size: large writes, bounded memory.
pub const BUFFER_SIZE: usize = 256 << 10;

/// Where a result is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Stdout,
    Path(PathBuf),
}

impl Output {
    /// `-` means standard output.
    pub fn from_arg(arg: &Path) -> Self {
        if arg == Path::new("-") {
            Output::Stdout
        } else {
            Output::Path(arg.to_path_buf())
        }
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Stdout => f.write_str("stdout"),
            Output::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The temporary files being written, so that a signal can remove them.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    PENDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes every temporary file still being written, and stops this process
/// from creating or committing any output from then on: for a SIGINT,
/// SIGTERM or SIGHUP handler that then exits, so that an interrupted run
/// leaves only complete outputs.
pub fn abandon() {
    let files = pending();
    for path in files.iter() {
        let _ = fs::remove_file(path);
    }
    // Held until the process ends: no output is created or renamed meanwhile.
    std::mem::forget(files);
}

/// Takes a temporary file off the pending list when its sink goes.
struct Registered(PathBuf);

impl Drop for Registered {
    fn drop(&mut self) {
        pending().retain(|p| p != &self.0);
    }
}

/// An output being written. Dropping it without [`Staged::commit`] discards a
/// file output entirely.
pub struct Staged(Inner);

enum Inner {
    Stdout(BufWriter<io::Stdout>),
    File {
        temp: BufWriter<NamedTempFile>,
        target: PathBuf,
        _registered: Registered,
    },
}

impl Staged {
    /// Opens `output` for writing; for a file, a temporary file in the same
    /// folder, with the permissions the target has (or would get) so the
    /// rename changes nothing but the contents.
    pub fn create(output: &Output) -> Result<Self, Error> {
        let target = match output {
            Output::Stdout => {
                let out = BufWriter::with_capacity(BUFFER_SIZE, io::stdout());
                return Ok(Staged(Inner::Stdout(out)));
            }
            Output::Path(target) => target,
        };
        let fail = |problem| Error::file(output, problem);
        let existing = fs::metadata(target).ok();
        if existing.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(fail(Problem::IsDirectory));
        }
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".rcrop-").suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = existing
                .as_ref()
                .map_or(0o666, |m| m.permissions().mode() & 0o7777);
            builder.permissions(fs::Permissions::from_mode(mode));
        }
        let mut files = pending();
        let temp = builder
            .tempfile_in(dir)
            .map_err(|e| fail(Problem::Temp(e)))?;
        files.push(temp.path().to_path_buf());
        Ok(Staged(Inner::File {
            _registered: Registered(temp.path().to_path_buf()),
            temp: BufWriter::with_capacity(BUFFER_SIZE, temp),
            target: target.clone(),
        }))
    }

    /// The file being written, with everything written so far flushed to
    /// it, for writes at any offset; `None` for standard output. Nothing
    /// may be written through the sink itself after such writes.
    pub fn file(&mut self) -> io::Result<Option<&fs::File>> {
        match &mut self.0 {
            Inner::Stdout(_) => Ok(None),
            Inner::File { temp, .. } => {
                temp.flush()?;
                Ok(Some(temp.get_ref().as_file()))
            }
        }
    }

    /// Flushes everything and, for a file, renames it over the target.
    pub fn commit(self) -> io::Result<()> {
        match self.0 {
            Inner::Stdout(mut out) => out.flush(),
            Inner::File {
                temp,
                target,
                _registered,
            } => {
                let temp = temp.into_inner().map_err(io::IntoInnerError::into_error)?;
                // Renamed under the lock: a signal now either finds the temporary
                // file still pending, or the output complete.
                let files = pending();
                let renamed = temp.persist(&target).map_err(|e| e.error);
                drop(files);
                renamed.map(drop)
            }
        }
    }
}

impl Write for Staged {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.0 {
            Inner::Stdout(out) => out.write(buf),
            Inner::File { temp, .. } => temp.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.0 {
            Inner::Stdout(out) => out.write_all(buf),
            Inner::File { temp, .. } => temp.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.0 {
            Inner::Stdout(out) => out.flush(),
            Inner::File { temp, .. } => temp.flush(),
        }
    }
}
