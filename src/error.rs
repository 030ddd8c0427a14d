//! The error type of the library: every failure of a run, with the file it
//! concerns. The format modules return their own error types; this is where
//! they meet a file name.

use std::io;

use crate::config::ConfigError;
use crate::data_format::KerasConfigError;
use crate::layer::{ChoiceError, CropError, Shape};
use crate::npy::{Header, NpyError, ReadError};
use crate::npz::NpzError;
use crate::raster::RasterError;
use crate::tar::TarError;
use crate::tensor::TensorError;

/// Everything that can stop a run. Messages name the file, what was found
/// and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asks for something impossible.
    #[error("{0}")]
    Usage(String),
    /// The Keras config that sets the default data format is unusable.
    #[error(transparent)]
    Config(#[from] KerasConfigError),
    /// The worker threads of a batch cannot be started.
    #[error("cannot start the worker threads: {0}")]
    Threads(String),
    /// An input cannot be read or cropped, or an output cannot be written.
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
    #[error("does not exist; --check compares each output with the file already at its path")]
    NothingToCheck,
    #[error("differs from what rcrop writes (--check): {0}")]
    Differs(String),
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error(transparent)]
    Crop(#[from] CropError),
    #[error(transparent)]
    Choice(#[from] ChoiceError),
    #[error(transparent)]
    Raster(#[from] RasterError),
    #[error(transparent)]
    Npz(#[from] NpzError),
    #[error(transparent)]
    Cast(#[from] crate::autocast::CastError),
    #[error(transparent)]
    Tar(#[from] TarError),
    #[error("the array is {array}; {why}")]
    NotAnImage {
        array: String,
        /// The array's shape.
        shape: Vec<usize>,
        why: TensorError,
    },
    /// A refusal, with a hint at what may be wrong.
    #[error("{problem}; {hint}")]
    Hinted { problem: Box<Problem>, hint: String },
    #[error(
        "not a .npy file, .npz archive or image rcrop reads: it starts with {0}; expected the \
         .npy magic string, a zip signature, a tar header or an image signature ({signatures})",
        signatures = crate::raster::formats::signature_list()
    )]
    UnknownKind(String),
    #[error(
        "is {shape} '{dtype}' after cropping, but {first} is {first_shape} '{first_dtype}'; \
         a stack needs one shape and dtype"
    )]
    Stack {
        shape: Shape,
        dtype: &'static str,
        first: String,
        first_shape: Shape,
        first_dtype: &'static str,
    },
    #[error(transparent)]
    Config(ConfigError),
    #[error(
        "is a {from}-ordered array, and writing it in {to} order (--order) reads it at any \
         offset, which standard input and pipes do not allow; give it as a file, or use --order keep"
    )]
    OrderNeedsFile {
        from: &'static str,
        to: &'static str,
    },
    #[error(
        "the file is over the image limit of {0} MiB; raise --image-limit-mib if it is trusted"
    )]
    TooBig(u64),
    #[error(
        "{format} is written from the whole image, and the cropped image takes {need_mib} MiB, \
         over the image limit of {limit_mib} MiB; raise --image-limit-mib, or write PNG, PNM, \
         TIFF or BMP to a file, or .npy, which are written a row at a time"
    )]
    WholeTooBig {
        format: &'static str,
        need_mib: u64,
        limit_mib: u64,
    },
}

impl Error {
    /// An error about one file, named as the user named it.
    pub fn file(file: impl ToString, problem: impl Into<Problem>) -> Self {
        Error::File {
            file: file.to_string(),
            problem: Box::new(problem.into()),
        }
    }
}

impl Problem {
    /// The refusal of a `.npy` array that cannot be an image, saying why.
    pub(crate) fn not_an_image(header: &Header, why: TensorError) -> Self {
        let array = format!("{} {}", header.shape_repr(), header.dtype.descr());
        Problem::NotAnImage {
            array,
            shape: header.shape.clone(),
            why,
        }
    }
}

impl From<ReadError> for Problem {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Npy(e) => Problem::Npy(e),
            ReadError::Io(e) => Problem::Read(e),
        }
    }
}
