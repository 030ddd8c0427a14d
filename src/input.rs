//! Where data comes from: a file, a FIFO, or standard input.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Problem};

/// Input buffer size: room for a `.npy` header (NumPy caps them at 10,000
/// bytes) and for telling formats apart. Bulk reads are larger and pass it
/// by, so a small buffer saves a copy and page faults on every input.
pub const BUFFER_SIZE: usize = 16 << 10;

/// How many leading bytes are kept aside to tell what a file holds: a tar
/// archive's first header block.
pub const PREFIX_LEN: u64 = 512;

/// Where an input is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Stdin,
    Path(PathBuf),
}

impl Input {
    /// `-` means standard input.
    pub fn from_arg(arg: &Path) -> Self {
        if arg == Path::new("-") {
            Input::Stdin
        } else {
            Input::Path(arg.to_path_buf())
        }
    }

    /// Opens the input for one sequential read. The length left to read is
    /// known only for regular files (standard input redirected from one included).
    pub fn open(&self) -> Result<Source, Error> {
        let fail = |problem| Error::file(self, problem);
        let (raw, remaining): (Box<dyn Read + Send>, _) = match self {
            Input::Stdin => (Box::new(io::stdin()), stdin_remaining()),
            Input::Path(path) => {
                let file = File::open(path).map_err(|e| fail(Problem::Open(e)))?;
                let meta = file.metadata().map_err(|e| fail(Problem::Open(e)))?;
                if meta.is_dir() {
                    return Err(fail(Problem::IsDirectory));
                }
                (Box::new(file), meta.is_file().then_some(meta.len()))
            }
        };
        let mut reader = BufReader::with_capacity(BUFFER_SIZE, raw);
        let mut prefix = Vec::new();
        (&mut reader)
            .take(PREFIX_LEN)
            .read_to_end(&mut prefix)
            .map_err(|e| fail(Problem::Read(e)))?;
        Ok(Source {
            reader: Box::new(Cursor::new(prefix.clone()).chain(reader)),
            prefix,
            remaining,
        })
    }
}

#[cfg(unix)]
fn stdin_remaining() -> Option<u64> {
    use std::os::fd::AsFd;
    let stdin = io::stdin();
    let fd = stdin.as_fd().try_clone_to_owned().ok()?;
    let mut file = File::from(fd);
    let meta = file.metadata().ok()?;
    // A redirected file may have been read from already: count from where it stands.
    let pos = io::Seek::stream_position(&mut file).ok()?;
    meta.is_file().then(|| meta.len().saturating_sub(pos))
}

#[cfg(not(unix))]
fn stdin_remaining() -> Option<u64> {
    None
}

impl std::fmt::Display for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::Stdin => f.write_str("stdin"),
            Input::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

/// An opened input.
pub struct Source {
    /// The whole input from its first byte.
    pub reader: Box<dyn BufRead + Send>,
    /// The first bytes, to tell what the input holds.
    pub prefix: Vec<u8>,
    /// The bytes left to read, when the input is a regular file.
    pub remaining: Option<u64>,
}
