//! JPEG to JPEG without re-encoding: when the crop's top and left offsets
//! fall on the file's block grid, the kept DCT blocks are copied as they
//! are (`jpegtran -crop`), unless the job asks for re-encoding.

use image::ImageFormat;

use super::summary::{JpegWrite, sample_dtype};
use super::whole;
use super::{Fault, Job, Summary, image_format};
use crate::input::Source;
use crate::kind::FileKind;
use crate::layer::{Layer, Shape};
use crate::output::Output;
use crate::raster::{self, Grid, JpegCrop, RasterError, Region};
use crate::tensor::image_shape;

/// Crops a JPEG into a JPEG at `output`: losslessly where it can, else
/// decoded and encoded again.
pub(super) fn run(job: &Job, mut source: Source, output: &Output) -> Result<Summary, Fault> {
    let layer = job.image_layer()?;
    let bytes = whole::read_image_file(&mut source, job.options.image_limit)?;
    let (cropped, summary) = crop(job, &layer, &bytes, output)?;
    job.write_whole(output, &cropped)?;
    Ok(summary)
}

/// Crops the JPEG `bytes` into the bytes of a JPEG at `output`, with its
/// summary: losslessly where it can, else decoded and encoded again.
pub(super) fn crop(
    job: &Job,
    layer: &Layer,
    bytes: &[u8],
    output: &Output,
) -> Result<(Vec<u8>, Summary), Fault> {
    if let Some(done) = lossless(job, layer, bytes, output)? {
        return Ok(done);
    }
    let jpeg = FileKind::Image(ImageFormat::Jpeg);
    whole::crop_image(job, bytes, ImageFormat::Jpeg, layer, jpeg, output)
}

/// Crops the JPEG `bytes` without decoding them, if the job allows it and
/// the crop keeps the block grid. `Ok(None)` means the caller re-encodes
/// (as it does for a color mode); with `--lossless`, a crop off the grid
/// is an error.
fn lossless(
    job: &Job,
    layer: &Layer,
    bytes: &[u8],
    output: &Output,
) -> Result<Option<(Vec<u8>, Summary)>, Fault> {
    let mode = job.options.encode.jpeg_crop;
    if mode == JpegCrop::Reencode || job.options.color_mode.is_some() {
        return Ok(None);
    }
    let (h, w, c, sample) = raster::probe(bytes, ImageFormat::Jpeg, job.options.image_limit)?;
    let format = image_format(layer);
    let dims = image_shape(h, w, c, format);
    let (rows, cols) = format.spatial_axes();
    let ranges = layer.kept_ranges(&dims)?;
    // Only a crop of rows and columns keeps every block it keeps.
    if ranges[0] != (0..1) || ranges[format.channel_axis()] != (0..c) {
        return Ok(None);
    }
    let region = Region {
        left: ranges[cols].start,
        top: ranges[rows].start,
        width: ranges[cols].len(),
        height: ranges[rows].len(),
    };
    let refuse = |why: String| Err(RasterError::NotLossless(why).into());
    match raster::jpeg_grid(bytes, region)? {
        Grid::On => {}
        _ if mode == JpegCrop::Auto => return Ok(None),
        Grid::Off { mcu, nearest } => {
            let nearest: Vec<String> = nearest.iter().map(|r| spec(*r, h, w)).collect();
            return refuse(format!(
                "the crop {} starts off the file's block grid of {}×{} pixels (its MCU), \
                 which a lossless crop keeps; the nearest crops on the grid (top,bottom:left,right) \
                 are {}; without --lossless, rcrop re-encodes",
                spec(region, h, w),
                mcu.0,
                mcu.1,
                nearest.join(", ")
            ));
        }
        Grid::Unknown => {
            return refuse(
                "its chroma sampling has no block grid libjpeg-turbo can cut; without \
                 --lossless, rcrop re-encodes"
                    .into(),
            );
        }
    }
    let cropped = raster::crop_jpeg_lossless(bytes, region)?;
    let output_shape = layer.compute_output_shape(&Shape::known(dims))?;
    let summary = Summary {
        jpeg: Some(JpegWrite::Lossless),
        ..Summary::new(
            Shape::known(dims),
            output_shape,
            sample_dtype(sample),
            output,
        )
    };
    Ok(Some((cropped, summary)))
}

/// A region of an `h`×`w` image as the crop spec that keeps it.
fn spec(r: Region, h: usize, w: usize) -> String {
    format!(
        "{},{}:{},{}",
        r.top,
        h - r.top - r.height,
        r.left,
        w - r.left - r.width
    )
}
