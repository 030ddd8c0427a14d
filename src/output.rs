//! Where results go: standard output, or a file written beside its target
//! under a temporary name and renamed into place only once it is complete,
//! so a failed run never leaves a partial file or changes an existing one;
//! or, to check golden files, compared with the file already at its target
//! and then removed.

use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
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

/// What becomes of a complete output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Commit {
    /// Renamed over its target. Default.
    #[default]
    Write,
    /// Compared with the file already at its target, which must exist and is
    /// left alone, then removed (`--check`, for golden files).
    Check,
}

/// A temporary file, on the pending list while it exists.
struct Temp {
    file: NamedTempFile,
    _registered: Registered,
}

/// Why an output was not committed.
#[derive(Debug)]
pub enum CommitError {
    /// It could not be written or renamed into place.
    Write(io::Error),
    /// It differs from the file already at its target ([`Commit::Check`]).
    Differs(Difference),
}

/// An output that differs from the file already at its target: both are
/// there to be compared until this is dropped, which removes the output.
pub struct Difference {
    /// The file already there.
    pub target: PathBuf,
    /// The first byte at which they differ: where the shorter one ends, if
    /// it is the start of the other.
    pub offset: u64,
    written: Temp,
}

impl Difference {
    /// The output that would have been written.
    pub fn written(&self) -> &Path {
        self.written.file.path()
    }
}

impl std::fmt::Debug for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Difference")
            .field("target", &self.target)
            .field("offset", &self.offset)
            .field("written", &self.written())
            .finish()
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
        commit: Commit,
        _registered: Registered,
    },
}

impl Staged {
    /// Opens `output` for writing, to be committed as `commit` says; for a
    /// file, a temporary file in the same folder, with the permissions the
    /// target has (or would get) so the rename changes nothing but the
    /// contents. A check needs a file to compare with.
    pub fn create(output: &Output, commit: Commit) -> Result<Self, Error> {
        let target = match (output, commit) {
            (Output::Stdout, Commit::Write) => {
                let out = BufWriter::with_capacity(BUFFER_SIZE, io::stdout());
                return Ok(Staged(Inner::Stdout(out)));
            }
            (Output::Stdout, Commit::Check) => {
                return Err(Error::Usage(
                    "--check compares each output with the file already there; standard \
                     output has none: give the output's file"
                        .into(),
                ));
            }
            (Output::Path(target), _) => target,
        };
        let fail = |problem| Error::file(output, problem);
        let existing = fs::metadata(target).ok();
        if existing.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(fail(Problem::IsDirectory));
        }
        if commit == Commit::Check && existing.is_none() {
            return Err(fail(Problem::NothingToCheck));
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
            commit,
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

    /// The file being written and where in it the output has come to,
    /// everything written so far flushed, for writes at any offset from
    /// there: the staged file, or standard output where it is a regular
    /// file opened without `O_APPEND` (a shell's `> file`). The caller moves
    /// the file's position past what it writes; nothing may be written
    /// through the sink itself after such writes. `None` for any other
    /// standard output (a pipe, a terminal, a file appended to).
    pub fn at_offsets(&mut self) -> io::Result<Option<(fs::File, u64)>> {
        self.flush()?;
        let file = match &self.0 {
            Inner::File { temp, .. } => temp.get_ref().as_file().try_clone()?,
            Inner::Stdout(_) => match stdout_file() {
                Some(file) => file,
                None => return Ok(None),
            },
        };
        let at = (&file).stream_position()?;
        Ok(Some((file, at)))
    }

    /// Flushes everything and, for a file, renames it over the target, or
    /// compares it with the target and removes it ([`Commit::Check`]).
    pub fn commit(self) -> Result<(), CommitError> {
        let (temp, target, commit, registered) = match self.0 {
            Inner::Stdout(mut out) => return out.flush().map_err(CommitError::Write),
            Inner::File {
                temp,
                target,
                commit,
                _registered,
            } => (temp, target, commit, _registered),
        };
        let temp = temp
            .into_inner()
            .map_err(|e| CommitError::Write(e.into_error()))?;
        if commit == Commit::Check {
            let written = Temp {
                file: temp,
                _registered: registered,
            };
            return match first_difference(written.file.path(), &target) {
                Ok(None) => Ok(()),
                Ok(Some(offset)) => Err(CommitError::Differs(Difference {
                    target,
                    offset,
                    written,
                })),
                Err(e) => Err(CommitError::Write(e)),
            };
        }
        // Renamed under the lock: a signal now either finds the temporary
        // file still pending, or the output complete.
        let files = pending();
        let renamed = temp.persist(&target).map_err(|e| e.error);
        drop(files);
        renamed.map(drop).map_err(CommitError::Write)
    }
}

/// The offset of the first byte at which two files differ, `None` if they
/// are the same; read a block at a time.
fn first_difference(a: &Path, b: &Path) -> io::Result<Option<u64>> {
    let open = |path| fs::File::open(path).map(|f| BufReader::with_capacity(BUFFER_SIZE, f));
    let (mut a, mut b) = (open(a)?, open(b)?);
    let (mut block_a, mut block_b) = (vec![0; BUFFER_SIZE], vec![0; BUFFER_SIZE]);
    let mut offset = 0u64;
    loop {
        let n = fill(&mut a, &mut block_a)?;
        let m = fill(&mut b, &mut block_b)?;
        let same = n.min(m);
        if block_a[..same] != block_b[..same] {
            let i = block_a
                .iter()
                .zip(&block_b)
                .take_while(|(x, y)| x == y)
                .count();
            return Ok(Some(offset + i as u64));
        }
        if n != m {
            return Ok(Some(offset + same as u64));
        }
        if n == 0 {
            return Ok(None);
        }
        offset += n as u64;
    }
}

/// Reads until `block` is full or the reader ends; returns the bytes read.
fn fill(reader: &mut impl Read, block: &mut [u8]) -> io::Result<usize> {
    let mut len = 0;
    while len < block.len() {
        match reader.read(&mut block[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(len)
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

    /// Many buffers in one write: into a file, one `writev` past the
    /// buffer (emptied first), as the mapped crop writes its kept runs.
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match &mut self.0 {
            Inner::Stdout(out) => out.write_vectored(bufs),
            Inner::File { temp, .. } => {
                temp.flush()?;
                temp.get_mut().as_file_mut().write_vectored(bufs)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.0 {
            Inner::Stdout(out) => out.flush(),
            Inner::File { temp, .. } => temp.flush(),
        }
    }
}

/// Standard output as a file of its own (sharing its position), where it
/// is a regular file that is not appended to.
#[cfg(unix)]
fn stdout_file() -> Option<fs::File> {
    use std::os::fd::AsFd;
    let stdout = io::stdout();
    let fd = stdout.as_fd();
    let stat = rustix::fs::fstat(fd).ok()?;
    let regular = rustix::fs::FileType::from_raw_mode(stat.st_mode).is_file();
    let appended = rustix::fs::fcntl_getfl(fd)
        .ok()?
        .contains(rustix::fs::OFlags::APPEND);
    if !regular || appended {
        return None;
    }
    fd.try_clone_to_owned().ok().map(fs::File::from)
}

#[cfg(not(unix))]
fn stdout_file() -> Option<fs::File> {
    None
}
