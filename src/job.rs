//! One crop from one input to one output: read, check, crop, write, commit.

use std::io::Write;

use crate::error::{Error, Problem};
use crate::input::Input;
use crate::layer::{Cropping2D, Shape};
use crate::npy::stream::{self, StreamError};
use crate::npy::{Header, NpyError, ReadError};
use crate::output::{Output, Sink};

/// What to read, how to crop it, and where to write the result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub input: Input,
    pub output: Output,
    pub layer: Cropping2D,
}

/// What a finished job did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub input_shape: Shape,
    pub output_shape: Shape,
    /// The dtype as NumPy describes it, e.g. `<f4`.
    pub dtype: String,
}

impl Job {
    /// Runs the job. Everything about the input is checked before the output
    /// is created; on any failure the output is left as it was.
    pub fn run(&self) -> Result<Summary, Error> {
        let input_error = |problem: Problem| Error::file(&self.input, problem);
        let output_error = |e| Error::file(&self.output, Problem::Write(e));
        let mut source = self.input.open()?;
        let (header, header_len) = Header::read(&mut source.reader).map_err(|e| match e {
            ReadError::Npy(e) => input_error(e.into()),
            ReadError::Io(e) => input_error(Problem::Read(e)),
        })?;
        let (out_header, plan) = header.cropped(&self.layer).map_err(input_error)?;
        if let Some(remaining) = source.remaining {
            let found = remaining.saturating_sub(header_len);
            if found != plan.input_len() {
                return Err(input_error(
                    NpyError::DataLength {
                        shape: header.shape_repr(),
                        descr: header.dtype.descr().to_string(),
                        expected: plan.input_len(),
                        found,
                    }
                    .into(),
                ));
            }
        }
        let mut sink = Sink::create(&self.output)?;
        sink.write_all(&out_header.to_bytes())
            .map_err(output_error)?;
        stream::crop(&plan, &mut source.reader, &mut sink).map_err(|e| match e {
            StreamError::Read(e) => input_error(Problem::Read(e)),
            StreamError::Data(e) => input_error(e.into()),
            StreamError::Write(e) => output_error(e),
        })?;
        sink.commit().map_err(output_error)?;
        Ok(Summary {
            input_shape: header.layer_shape().unwrap_or(Shape([None; 4])),
            output_shape: out_header.layer_shape().unwrap_or(Shape([None; 4])),
            dtype: header.dtype.descr().to_string(),
        })
    }
}
