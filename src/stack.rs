//! Many images into one batch: each input cropped, checked against the
//! first for shape and dtype, and appended to one `.npy` of shape `(N, ...)`.

use std::io::Write;

use rayon::prelude::*;

use crate::error::{Error, Problem};
use crate::input::Input;
use crate::job::{self, Options, Summary};
use crate::layer::{Cropping2D, Shape};
use crate::output::{Output, Sink};
use crate::raster::Tensor;

/// Inputs decoded at once: enough to keep every core busy, few enough to
/// keep memory bounded.
const CHUNK: usize = 16;

/// Stack many inputs into one `.npy` batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stack {
    pub inputs: Vec<Input>,
    pub output: Output,
    pub layer: Cropping2D,
    pub options: Options,
}

/// Two inputs that cannot share a batch.
#[derive(Debug, thiserror::Error)]
#[error(
    "is {shape} '{dtype}' after cropping, but {first} is {first_shape} '{first_dtype}'; \
     a stack needs one shape and dtype"
)]
pub struct Mismatch {
    shape: Shape,
    dtype: &'static str,
    first: String,
    first_shape: Shape,
    first_dtype: &'static str,
}

impl Stack {
    /// Writes the batch; fails, leaving no output, if any input fails or
    /// differs from the first in shape or dtype.
    pub fn run(&self) -> Result<Summary, Error> {
        let format = self.layer.data_format;
        let Some(first_input) = self.inputs.first() else {
            return Err(Error::Usage("--stack needs at least one input".into()));
        };
        let first = self.load(first_input)?;
        let mut header = first.npy_header(format, self.inputs.len());
        let mut sink = Sink::create(&self.output)?;
        let write_error = |e| Error::file(&self.output, Problem::Write(e));
        sink.write_all(&header.to_bytes()).map_err(write_error)?;
        sink.write_all(&first.npy_data(format))
            .map_err(write_error)?;
        for chunk in self.inputs[1..].chunks(CHUNK) {
            let tensors: Vec<Tensor> = chunk
                .par_iter()
                .map(|input| self.load(input))
                .collect::<Result<_, _>>()?;
            for (input, tensor) in chunk.iter().zip(tensors) {
                if tensor.shape(format) != first.shape(format) || tensor.descr() != first.descr() {
                    let mismatch = Mismatch {
                        shape: tensor.shape(format),
                        dtype: tensor.descr(),
                        first: first_input.to_string(),
                        first_shape: first.shape(format),
                        first_dtype: first.descr(),
                    };
                    return Err(Error::file(input, Problem::Stack(Box::new(mismatch))));
                }
                sink.write_all(&tensor.npy_data(format))
                    .map_err(write_error)?;
            }
        }
        sink.commit().map_err(write_error)?;
        header.shape[0] = self.inputs.len();
        Ok(Summary {
            input_shape: Shape([None; 4]),
            output_shape: header.layer_shape().unwrap_or(Shape([None; 4])),
            dtype: format!("'{}'", first.descr()),
            output: self.output.to_string(),
            skipped: false,
            warnings: Vec::new(),
        })
    }

    /// One input, read and cropped.
    fn load(&self, input: &Input) -> Result<Tensor, Error> {
        let mut source = input.open()?;
        let kind = job::sniff(input, &source)?;
        let loaded = job::load(input, &mut source, kind, self.layer, &self.options)?;
        loaded
            .tensor
            .crop(&self.layer)
            .map_err(|e| Error::file(input, e))
    }
}
