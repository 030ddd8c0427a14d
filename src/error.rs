//! The error type of the library and the one place that maps errors to exit codes.

use std::io;

use crate::config::ConfigError;
use crate::layer::CropError;
use crate::layout::KerasConfigError;
use crate::npy::NpyError;
use crate::raster::RasterError;
use crate::stack::Mismatch;

/// Everything that can stop a run. Messages name the file, what was found
/// and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asks for something impossible (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The Keras config that sets the default data format is unusable (exit 1).
    #[error(transparent)]
    Config(#[from] KerasConfigError),
    /// An input cannot be read or cropped, or an output cannot be written (exit 1).
    #[error("{file}: {problem}")]
    File { file: String, problem: Box<Problem> },
}

/// What went wrong with one file.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("cannot open: {0}")]
    Open(io::Error),
    #[error("cannot read: {0}")]
    Read(io::Error),
    #[error("cannot write: {0}")]
    Write(io::Error),
    #[error("cannot create a temporary file beside it: {0}")]
    Temp(io::Error),
    #[error("is a directory; expected a file")]
    IsDirectory,
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error(transparent)]
    Crop(#[from] CropError),
    #[error(transparent)]
    Raster(#[from] RasterError),
    #[error(
        "not a .npy file or an image rcrop reads: it starts with {0}; expected the .npy magic \
         string or a PNG, JPEG, TIFF, BMP, WebP or GIF signature"
    )]
    UnknownKind(String),
    #[error(transparent)]
    Stack(Box<Mismatch>),
    #[error(transparent)]
    Config(ConfigError),
    #[error(
        "the file is over the image limit of {0} MiB; raise --image-limit-mib if it is trusted"
    )]
    TooBig(u64),
}

impl Error {
    /// An error about one file, named as the user named it.
    pub fn file(file: impl ToString, problem: impl Into<Problem>) -> Self {
        Error::File {
            file: file.to_string(),
            problem: Box::new(problem.into()),
        }
    }

    /// The documented exit status: 2 for a wrong command line, 1 for the rest.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::Config(_) | Error::File { .. } => 1,
        }
    }
}
