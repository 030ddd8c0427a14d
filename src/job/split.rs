//! A `.npy` batch into a folder as one image a sample. C-ordered data is
//! read a sample at a time; Fortran-ordered data, whose samples
//! interleave, is read whole within the image limit.

use std::io::{self, BufRead};

use super::sources::{self, read_within};
use super::summary::array_dtype;
use super::whole::{self, Loaded};
use super::{Fault, Job, Part, Summary, image_format};
use crate::error::{Error, Problem};
use crate::input::Source;
use crate::kind::FileKind;
use crate::layer::{Layer, Shape};
use crate::npy::{Data, Header};
use crate::output::Output;
use crate::tensor::npy::image_layout;
use crate::tensor::{ArrayLayout, Tensor};

/// A batch being split: what each sample is, and where its data comes from.
struct Batch {
    header: Header,
    layer: Layer,
    layout: ArrayLayout,
    output_shape: Shape,
    count: usize,
    sample_len: u64,
    data: Data<Box<dyn BufRead + Send>>,
    /// The whole data, for a batch whose samples interleave.
    whole: Option<Vec<u8>>,
}

/// Writes each sample of the batch as an image `to`; an output that exists
/// already and is to be left alone is skipped.
pub(super) fn run(job: &Job, mut source: Source, to: FileKind) -> Result<Summary, Error> {
    let samples = job.output_name(Part::Samples);
    let mut batch = Batch::read(job, &mut source).map_err(|f| f.name(&job.input, &samples))?;
    let count = batch.count;
    let mut warnings = Vec::new();
    for index in 0..count {
        let output = job.output_name(Part::Sample { index, count });
        let written = batch
            .sample(index, job.options.image_limit)
            .and_then(|data| {
                if job.exists_already(&output) {
                    return Ok(None);
                }
                batch.write(job, &data, to, &output).map(Some)
            })
            .map_err(|f| f.name(&job.input, &output))?;
        warnings.extend(written.into_iter().flat_map(|summary| summary.warnings));
    }
    if batch.whole.is_none() {
        batch
            .data
            .expect_end()
            .map_err(|e| Error::file(&job.input, e))?;
    }
    Ok(Summary {
        warnings,
        ..Summary::new(
            Shape::known(&batch.header.shape),
            batch.output_shape,
            array_dtype(&batch.header.dtype),
            &samples,
        )
    })
}

impl Batch {
    fn read(job: &Job, source: &mut Source) -> Result<Self, Fault> {
        let (header, header_len) = Header::read(&mut source.reader)?;
        let layer = job.layer_for(&header.shape)?;
        let data_len = header.data_len()?;
        header.check_file_len(header_len, source.remaining)?;
        let output_shape = layer.compute_output_shape(&Shape::known(&header.shape))?;
        let most = sources::image_channels(job.options.to);
        let layout = image_layout(&header, image_format(&layer), true, most)
            .map_err(|why| Problem::not_an_image(&header, why))?;
        let count = header.shape[0];
        let reader = std::mem::replace(&mut source.reader, Box::new(io::empty()));
        let mut data = Data::new(reader, data_len);
        let whole = if header.fortran_order && count > 1 {
            Some(read_within(&mut data, data_len, job.options.image_limit)?)
        } else {
            None
        };
        Ok(Batch {
            sample_len: data_len / count.max(1) as u64,
            header,
            layer,
            layout,
            output_shape,
            count,
            data,
            whole,
        })
    }

    /// The data of sample `index`, the samples taken in order, each
    /// within the image `limit`.
    fn sample(&mut self, index: usize, limit: u64) -> Result<Vec<u8>, Fault> {
        match &self.whole {
            Some(all) => Ok(fortran_sample(
                all,
                self.count,
                index,
                self.header.dtype.itemsize(),
            )),
            None => read_within(&mut self.data, self.sample_len, limit),
        }
    }

    /// Crops one sample's image into `output`.
    fn write(
        &self,
        job: &Job,
        data: &[u8],
        to: FileKind,
        output: &Output,
    ) -> Result<Summary, Fault> {
        let tensor = Tensor::from_bytes(&self.layout, data, image_format(&self.layer))
            .map_err(|why| Problem::not_an_image(&self.header, why))?;
        whole::write(job, Loaded::array(tensor), &self.layer, to, output)
    }
}

/// Sample `index` of a Fortran-ordered batch: every `batch`-th element.
fn fortran_sample(all: &[u8], batch: usize, index: usize, itemsize: usize) -> Vec<u8> {
    all.chunks_exact(itemsize)
        .skip(index)
        .step_by(batch)
        .flatten()
        .copied()
        .collect()
}
