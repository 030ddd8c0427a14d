//! JPEG to JPEG without re-encoding: when the crop's top and left offsets
//! fall on the file's block grid, the kept DCT blocks are copied as they
//! are (`jpegtran -crop`), unless the job asks for re-encoding.

use image::ImageFormat;

use super::{Job, Summary, image_format};
use crate::error::{Error, Problem};
use crate::layer::{Layer, Shape};
use crate::layout::DataFormat;
use crate::output::{Output, Sink};
use crate::raster::{self, Grid, JpegCrop, RasterError, Region};
use std::io::Write;

/// Crops the JPEG `bytes` into a JPEG at `output` without decoding it, if
/// the job allows it and the crop keeps the block grid. `Ok(None)` means
/// the caller re-encodes (as it does for a colour mode); with `--lossless`,
/// a crop off the grid is an error.
pub(crate) fn crop(
    job: &Job,
    layer: &Layer,
    bytes: &[u8],
    output: &Output,
) -> Result<Option<Summary>, Error> {
    let mode = job.options.encode.jpeg_crop;
    if mode == JpegCrop::Reencode || job.options.color_mode.is_some() {
        return Ok(None);
    }
    let input_error = |e: RasterError| Error::file(&job.input, e);
    let (h, w, c, sample) =
        raster::probe(bytes, ImageFormat::Jpeg, job.options.image_limit).map_err(input_error)?;
    let format = image_format(layer);
    let (dims, rows, cols, channels) = match format {
        DataFormat::ChannelsLast => ([1, h, w, c], 1, 2, 3),
        DataFormat::ChannelsFirst => ([1, c, h, w], 2, 3, 1),
    };
    let ranges = layer
        .kept_ranges(&dims)
        .map_err(|e| Error::file(&job.input, e))?;
    // Only a crop of rows and columns keeps every block it keeps.
    if ranges[0] != (0..1) || ranges[channels] != (0..c) {
        return Ok(None);
    }
    let region = Region {
        left: ranges[cols].start,
        top: ranges[rows].start,
        width: ranges[cols].len(),
        height: ranges[rows].len(),
    };
    let refuse = |why: String| Err(input_error(RasterError::NotLossless(why)));
    match raster::jpeg_grid(bytes, region).map_err(input_error)? {
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
    let cropped = raster::crop_jpeg_lossless(bytes, region).map_err(input_error)?;
    let output_error = |e| Error::file(output, Problem::Write(e));
    let mut sink = Sink::create(output)?;
    sink.write_all(&cropped).map_err(output_error)?;
    sink.commit().map_err(output_error)?;
    let output_shape = layer
        .compute_output_shape(&Shape::known(dims))
        .map_err(|e| Error::file(&job.input, e))?;
    Ok(Some(Summary {
        input_shape: Shape::known(dims),
        output_shape,
        dtype: format!("'{}'", sample.descr()),
        output: output.to_string(),
        skipped: false,
        warnings: Vec::new(),
        members: Vec::new(),
    }))
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
