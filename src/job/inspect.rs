//! The dry run: what a job's route would do, from the input's header alone,
//! with the errors a real run would give. Writes nothing.

use image::ImageFormat;

use super::summary::{array_dtype, sample_dtype};
use super::whole::read_image_file;
use super::{Fault, Job, Route, Summary, image_format, sources};
use crate::error::Problem;
use crate::input::Source;
use crate::kind::FileKind;
use crate::layer::{Layer, Shape};
use crate::npy::{CropPlan, Header};
use crate::output::Output;
use crate::raster::{self, ColorMode};
use crate::tensor::image_shape;
use crate::tensor::npy::image_layout;

/// The summary a run on `route` would give, its result going to `output`.
pub(super) fn plan(
    job: &Job,
    mut source: Source,
    route: Route,
    output: &Output,
) -> Result<Summary, Fault> {
    let to = route.output_kind();
    let (input_shape, dtype, layer) = match route {
        Route::Archive { to } => return Ok(job.npz(to, true)?),
        Route::Tar => return Ok(job.tar(source, true)?),
        Route::Split { .. } => array(job, &mut source, true, true)?,
        Route::Rows { codec: None, .. } => array(job, &mut source, true, false)?,
        Route::NpyToNpy => array(job, &mut source, false, false)?,
        Route::Rows {
            codec: Some(codec), ..
        } => image(job, &mut source, (codec, to), true)?,
        Route::Whole { format, .. } => image(job, &mut source, (format, to), false)?,
        Route::LosslessJpeg => image(job, &mut source, (ImageFormat::Jpeg, to), false)?,
    };
    let output_shape = layer.compute_output_shape(&input_shape)?;
    Ok(Summary::new(input_shape, output_shape, dtype, output))
}

/// A `.npy` input's shape, dtype and layer, checked as a run checks them;
/// `to_image` when it becomes images, `split` when one a sample.
fn array(
    job: &Job,
    source: &mut Source,
    to_image: bool,
    split: bool,
) -> Result<(Shape, String, Layer), Fault> {
    let (header, header_len) = Header::read(&mut source.reader)?;
    let layer = job.layer_for(&header.shape)?;
    let (mut out_header, plan) = job.crop_plan(&header, &layer)?;
    if let CropPlan::Reorder(_) = plan {
        job.seekable(source, &header)?;
    }
    header.check_file_len(header_len, source.remaining)?;
    if to_image {
        let most = sources::image_channels(job.options.to);
        image_layout(&header, image_format(&layer), split, most)
            .map_err(|why| Problem::not_an_image(&header, why))?;
    }
    if !to_image {
        job.array_cast(&layer, &mut out_header)?;
    }
    let shape = Shape::known(&header.shape);
    Ok((shape, array_dtype(&out_header.dtype), layer))
}

/// An image input's shape and dtype as a tensor, and the layer: from its
/// header when it is read a row at a time (`by_rows`), else from the whole
/// file.
fn image(
    job: &Job,
    source: &mut Source,
    (format, to): (ImageFormat, FileKind),
    by_rows: bool,
) -> Result<(Shape, String, Layer), Fault> {
    let layer = job.image_layer()?;
    let (h, w, c, sample) = if by_rows {
        let rows = sources::image_source(job, source, format)?;
        let info = rows.info();
        (info.height, info.width, info.channels, info.sample)
    } else {
        let limit = job.options.image_limit;
        let bytes = read_image_file(source, limit)?;
        raster::probe(&bytes, format, limit)?
    };
    let c = job.options.color_mode.map_or(c, ColorMode::channels);
    let dims = image_shape(h, w, c, image_format(&layer));
    let sample = job.output_sample(sample, to)?;
    Ok((Shape::known(dims), sample_dtype(sample), layer))
}
