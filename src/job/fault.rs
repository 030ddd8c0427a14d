//! Why a step of a job failed, before the file it concerns is named: each
//! step returns a [`Fault`], and the job names the input or the output once,
//! where the step ends.

use std::fmt::Display;
use std::io;

use crate::error::{Error, Problem};
use crate::layer::CropError;
use crate::npy::stream::PassError;
use crate::npy::{NpyError, ReadError};
use crate::npz::NpzError;
use crate::raster::{RasterError, StreamError};

/// A step's failure, and which of its files it concerns.
#[derive(Debug)]
pub(crate) enum Fault {
    /// The input: its bytes, reading it, or what is asked of it.
    Input(Problem),
    /// The output: encoding or writing it.
    Output(Problem),
    /// A failure that names its file already: a usage error, or an output
    /// that cannot be created.
    Named(Error),
}

impl Fault {
    /// The output cannot be written.
    pub fn write(e: io::Error) -> Self {
        Fault::Output(Problem::Write(e))
    }

    /// The output cannot take what it was given.
    pub fn output(problem: impl Into<Problem>) -> Self {
        Fault::Output(problem.into())
    }

    /// The error, naming `input` or `output` as the failure concerns.
    pub fn name(self, input: &impl Display, output: &impl Display) -> Error {
        match self {
            Fault::Input(problem) => Error::file(input, problem),
            Fault::Output(problem) => Error::file(output, problem),
            Fault::Named(error) => error,
        }
    }
}

impl From<Error> for Fault {
    fn from(error: Error) -> Self {
        Fault::Named(error)
    }
}

/// The failures of the input's own formats and of the crop.
macro_rules! input_fault {
    ($($from:ty),*) => {$(
        impl From<$from> for Fault {
            fn from(e: $from) -> Self {
                Fault::Input(e.into())
            }
        }
    )*};
}

input_fault!(
    Problem,
    NpyError,
    ReadError,
    NpzError,
    RasterError,
    CropError
);

/// A pass over `.npy` data fails in the input, or in writing what it keeps.
impl From<PassError> for Fault {
    fn from(e: PassError) -> Self {
        match e {
            PassError::Read(e) => Fault::Input(Problem::Read(e)),
            PassError::Data(e) => Fault::Input(e.into()),
            PassError::Write(e) => Fault::write(e),
        }
    }
}

/// An image read a row at a time fails in its decoding, or in what takes
/// its rows.
impl From<StreamError> for Fault {
    fn from(e: StreamError) -> Self {
        match e {
            StreamError::Input(e) => Fault::Input(e.into()),
            StreamError::Output(e) => Fault::write(e),
        }
    }
}
