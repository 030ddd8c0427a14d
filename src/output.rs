//! Where results go: standard output, or a file written beside its target
//! under a temporary name and renamed into place only once it is complete,
//! so a failed run never leaves a partial file or changes an existing one.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Problem};

/// Output buffer size: large writes, bounded memory.
pub const BUFFER_SIZE: usize = 1 << 20;

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

/// An output being written. Dropping it without [`Sink::commit`] discards a
/// file output entirely.
pub enum Sink {
    Stdout(BufWriter<io::Stdout>),
    File {
        temp: BufWriter<NamedTempFile>,
        target: PathBuf,
    },
}

impl Sink {
    /// Opens `output` for writing; for a file, a temporary file in the same
    /// folder, with the permissions the target has (or would get) so the
    /// rename changes nothing but the contents.
    pub fn create(output: &Output) -> Result<Self, Error> {
        let target = match output {
            Output::Stdout => {
                return Ok(Sink::Stdout(BufWriter::with_capacity(
                    BUFFER_SIZE,
                    io::stdout(),
                )));
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
        let temp = builder
            .tempfile_in(dir)
            .map_err(|e| fail(Problem::Temp(e)))?;
        Ok(Sink::File {
            temp: BufWriter::with_capacity(BUFFER_SIZE, temp),
            target: target.clone(),
        })
    }

    /// Flushes everything and, for a file, renames it over the target.
    pub fn commit(self) -> io::Result<()> {
        match self {
            Sink::Stdout(mut out) => out.flush(),
            Sink::File { temp, target } => {
                let temp = temp.into_inner().map_err(io::IntoInnerError::into_error)?;
                temp.persist(&target).map_err(|e| e.error)?;
                Ok(())
            }
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(out) => out.write(buf),
            Sink::File { temp, .. } => temp.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(out) => out.write_all(buf),
            Sink::File { temp, .. } => temp.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(out) => out.flush(),
            Sink::File { temp, .. } => temp.flush(),
        }
    }
}
