//! rcrop's errors as Python exceptions: a crop the command line refuses is
//! a `ValueError`; a file that cannot be opened, read, decoded or written
//! an `OSError` (`FileNotFoundError`, `PermissionError`, `IsADirectoryError`
//! where the system says so, else `rcrop.FileError`). Each carries the
//! message the command line prints, which names the file.

use std::io;

use pyo3::exceptions::{
    PyFileNotFoundError, PyIsADirectoryError, PyOSError, PyPermissionError, PyRuntimeError,
    PyValueError,
};
use pyo3::{PyErr, create_exception};

use crate::error::{Error, Problem};

create_exception!(
    rcrop,
    FileError,
    PyOSError,
    "A file rcrop cannot read as what it claims to be (a damaged or truncated \
     file, a format or layout it does not read, one over the image limit), \
     or an output it cannot write."
);

/// The exception of an error, carrying its message.
pub fn to_py(error: Error) -> PyErr {
    let message = error.to_string();
    match error {
        Error::Usage(_) => PyValueError::new_err(message),
        Error::Config(_) => FileError::new_err(message),
        Error::Threads(_) => PyRuntimeError::new_err(message),
        Error::File { problem, .. } => of_problem(&problem, message),
    }
}

/// The exception of a problem with a file.
fn of_problem(problem: &Problem, message: String) -> PyErr {
    match problem {
        Problem::Crop(_)
        | Problem::Choice(_)
        | Problem::NotAnImage { .. }
        | Problem::Stack { .. } => PyValueError::new_err(message),
        Problem::Hinted { problem, .. } => of_problem(problem, message),
        Problem::IsDirectory => PyIsADirectoryError::new_err(message),
        Problem::Open(e) | Problem::Read(e) | Problem::Write(e) | Problem::Temp(e) => {
            match e.kind() {
                io::ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
                io::ErrorKind::PermissionDenied => PyPermissionError::new_err(message),
                io::ErrorKind::IsADirectory => PyIsADirectoryError::new_err(message),
                _ => FileError::new_err(message),
            }
        }
        _ => FileError::new_err(message),
    }
}
