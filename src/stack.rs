//! Many images into one batch: each input cropped, checked against the
//! first for shape and dtype, and appended to one `.npy` of shape `(N, ...)`.

use std::io::Write;

use rayon::prelude::*;

use crate::autocast;
use crate::error::{Error, Problem};
use crate::input::Input;
use crate::job::{self, Options, Summary};
use crate::layer::{LayerChoice, Shape};
use crate::output::{Output, Staged};
use crate::tensor::Tensor;
use crate::tensor::npy::npy_header;

/// Inputs decoded at once: enough to keep every core busy, few enough to
/// keep memory bounded.
const INPUTS_AT_ONCE: usize = 16;

/// Stack many inputs into one `.npy` batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stack {
    pub inputs: Vec<Input>,
    pub output: Output,
    /// The layer, or how to choose it: images are 4D.
    pub layer: LayerChoice,
    pub options: Options,
}

impl Stack {
    /// Writes the batch; fails, leaving no output, if any input fails or
    /// differs from the first in shape or dtype.
    pub fn run(&self) -> Result<Summary, Error> {
        let Some(first_input) = self.inputs.first() else {
            return Err(Error::Usage("--stack needs at least one input".into()));
        };
        let layer = job::choose(first_input, &self.layer, &Shape::unknown(4))?;
        let format = job::image_format(&layer);
        let compute = autocast::compute(self.options.autocast, self.layer.keys())
            .map_err(|e| Error::Usage(e.to_string()))?;
        let load = |input| {
            job::load_cropped(input, &layer, &self.options)
                .map(|tensor| autocast::image_for_npy(tensor, compute))
        };
        let first = load(first_input)?;
        let header = npy_header(&first.layout(format, self.inputs.len()));
        let mut out = Staged::create(&self.output, self.options.commit)?;
        let write_error = |e| Error::file(&self.output, Problem::Write(e));
        out.write_all(&header.to_bytes()).map_err(write_error)?;
        out.write_all(&first.to_bytes(format))
            .map_err(write_error)?;
        for chunk in self.inputs[1..].chunks(INPUTS_AT_ONCE) {
            let tensors: Vec<Tensor> = chunk.par_iter().map(load).collect::<Result<_, _>>()?;
            for (input, tensor) in chunk.iter().zip(tensors) {
                let (dtype, first_dtype) = (tensor.sample_type(), first.sample_type());
                if tensor.shape(format) != first.shape(format) || dtype != first_dtype {
                    let mismatch = Problem::Stack {
                        shape: tensor.shape(format),
                        dtype: dtype.descr(),
                        first: first_input.to_string(),
                        first_shape: first.shape(format),
                        first_dtype: first_dtype.descr(),
                    };
                    return Err(Error::file(input, mismatch));
                }
                out.write_all(&tensor.to_bytes(format))
                    .map_err(write_error)?;
            }
        }
        job::commit(out, &self.output, &self.options)?;
        let mut output_shape = first.shape(format);
        output_shape.0[0] = Some(self.inputs.len());
        Ok(Summary::new(
            Shape::unknown(4),
            output_shape,
            first.sample_type().descr().to_string(),
            &self.output,
        ))
    }
}
