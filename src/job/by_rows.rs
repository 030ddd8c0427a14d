//! Images cropped a row at a time: the input's rows inside the crop go, as
//! they are decoded, to an encoder that writes them as they come, so an
//! image of any size crops in a few MiB. `.npy` arrays that must be read
//! whole (Fortran order, or channels first from a pipe) are held in memory
//! under the image limit and passed on the same way; outputs written whole
//! (JPEG, WebP, GIF, ...) get the cropped rows only.

use std::io::{self, Write};
use std::sync::mpsc;

use image::ImageFormat;

use super::encoder::encoder;
use super::summary::sample_dtype;
use super::{Fault, Job, Summary, image_format, sources};
use crate::error::Problem;
use crate::input::Source;
use crate::kind::FileKind;
use crate::layer::{Layer, Shape};
use crate::output::Output;
use crate::raster::{self, ColorMode, RasterError, RowSource, RowsInfo, Window};
use crate::tensor::RowFn;
use crate::tensor::npy_rows::{NpyRows, WRITE_SIZE};
use crate::tensor::{SampleType, Tensor, image_shape};

/// The batches of rows decoded ahead of the encoder.
const QUEUED_BATCHES: usize = 4;

/// What the decoder is told when the encoder has stopped.
const STOPPED: &str = "the output stopped";

/// The rows a crop reads.
pub(super) enum Rows {
    /// An image's, through its codec, or an array's held in memory (no codec).
    Image(Box<dyn RowSource>, Option<ImageFormat>),
    /// A `.npy` array's, from its file.
    Array(NpyRows),
}

impl Rows {
    fn info(&self) -> RowsInfo {
        match self {
            Rows::Image(rows, _) => rows.info().clone(),
            Rows::Array(rows) => {
                let (height, width, channels) = rows.dims();
                RowsInfo {
                    width,
                    height,
                    channels,
                    sample: rows.sample_type(),
                    icc: None,
                }
            }
        }
    }

    fn read_window(&mut self, window: &Window, row: &mut RowFn<'_>) -> Result<(), Fault> {
        match self {
            Rows::Image(rows, Some(codec)) => {
                raster::read_window(*codec, rows.as_mut(), window, row)?
            }
            Rows::Image(rows, None) => rows.read_window(window, row)?,
            Rows::Array(rows) => rows.read_window(window.rows.clone(), window.cols.clone(), row)?,
        }
        Ok(())
    }
}

/// Crops an image of `codec`, or (no codec) a `.npy` array of batch 1, a
/// row at a time into `output` as `to`; an image is converted to the color
/// mode asked for.
pub(super) fn run(
    job: &Job,
    mut source: Source,
    codec: Option<ImageFormat>,
    to: FileKind,
    output: &Output,
) -> Result<Summary, Fault> {
    let layer = job.image_layer()?;
    let (rows, mode) = match codec {
        Some(codec) => {
            let rows = sources::image_source(job, &mut source, codec)?;
            (Rows::Image(rows, Some(codec)), job.options.color_mode)
        }
        None => (sources::npy_rows(job, &mut source, &layer)?, None),
    };
    crop(job, rows, mode, &layer, to, output)
}

/// Crops `rows` into `output` as `to`, converted to the color `mode` if
/// one is given, and commits.
fn crop(
    job: &Job,
    mut rows: Rows,
    mode: Option<ColorMode>,
    layer: &Layer,
    to: FileKind,
    output: &Output,
) -> Result<Summary, Fault> {
    let (source_info, out_info, window) = window_of(&rows, mode, layer)?;
    let format = image_format(layer);
    let dims = image_shape(
        source_info.height,
        source_info.width,
        out_info.channels,
        format,
    );
    let out_dims = image_shape(out_info.height, out_info.width, out_info.channels, format);
    if let FileKind::Image(image) = to {
        raster::check_holds(image, &out_info).map_err(Fault::output)?;
    }
    let mut out = job.stage(output)?;
    let icc = source_info.icc.clone();
    let (channels, sample) = (source_info.channels, source_info.sample);
    let line = out_info.row_len();
    let batch_rows = (WRITE_SIZE / line.max(1)).max(1);
    // Chosen before anything is decoded, so that an output held whole over
    // the image limit is refused first.
    let (encoder, dropped) = encoder(job, &mut out, &out_info, format, to)?;
    // The input is decoded on a thread of its own while the output is
    // encoded here: batches of rows pass between them, a few at a time.
    let (read, written) = std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(QUEUED_BATCHES);
        let reader = scope.spawn(move || {
            let mut batch = Vec::with_capacity(batch_rows * line);
            let mut put = |row: &[u8]| -> io::Result<()> {
                put_row(row, mode, (channels, sample), &mut batch)?;
                if batch.len() >= batch_rows * line {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_rows * line));
                    tx.send(full).map_err(|_| io::Error::other(STOPPED))?;
                }
                Ok(())
            };
            rows.read_window(&window, &mut put)?;
            if !batch.is_empty() {
                tx.send(batch)
                    .map_err(|_| Fault::write(io::Error::other(STOPPED)))?;
            }
            Ok::<(), Fault>(())
        });
        let written = encoder.encode(job, &out_info, format, icc.as_deref(), rx);
        let read = reader.join().unwrap_or_else(|_| {
            Err(Fault::write(io::Error::other(
                "the decoding thread panicked",
            )))
        });
        (read, written)
    });
    // A failed input stops the output, which then lacks rows: the input's
    // failure is the one to tell.
    if let Err(fault) = read {
        if let Fault::Output(_) = fault {
            written?;
        }
        return Err(fault);
    }
    let (whole, warning) = written?;
    if let Some(bytes) = whole {
        out.write_all(&bytes).map_err(Fault::write)?;
    }
    job.commit(out)?;
    Ok(Summary::written(
        Shape::known(dims),
        Shape::known(out_dims),
        sample_dtype(job.output_sample(out_info.sample, to)?),
        output,
        dropped.or(warning),
    ))
}

/// The window `layer` keeps of `rows`: the rows' own info, the info of the
/// rows kept (converted to the color `mode`, if one is given), and the
/// window.
fn window_of(
    rows: &Rows,
    mode: Option<ColorMode>,
    layer: &Layer,
) -> Result<(RowsInfo, RowsInfo, Window), Fault> {
    let source_info = rows.info();
    let mut info = source_info.clone();
    if let Some(mode) = mode {
        let pixel =
            Tensor::from_le_bytes(1, 1, info.channels, info.sample, vec![0; info.pixel_len()])
                .ok_or_else(|| RasterError::NotAnImage("no pixel".into()))?;
        let converted = raster::convert_color(pixel, mode)?;
        info.channels = converted.channels();
        info.sample = converted.sample_type();
    }
    let format = image_format(layer);
    let dims = image_shape(info.height, info.width, info.channels, format);
    let kept = layer.kept_ranges(&dims)?;
    let (row_axis, col_axis) = format.spatial_axes();
    let window = Window {
        rows: kept[row_axis].clone(),
        cols: kept[col_axis].clone(),
    };
    let out_info = RowsInfo {
        width: window.cols.len(),
        height: window.rows.len(),
        ..info
    };
    Ok((source_info, out_info, window))
}

/// Appends a decoded row (of `channels` samples of `sample` a pixel) to
/// `out`, converted to the color `mode` if one is given.
fn put_row(
    row: &[u8],
    mode: Option<ColorMode>,
    (channels, sample): (usize, SampleType),
    out: &mut Vec<u8>,
) -> io::Result<()> {
    let Some(mode) = mode else {
        out.extend_from_slice(row);
        return Ok(());
    };
    let pixels = row.len() / (channels * sample.itemsize());
    let converted = Tensor::from_le_bytes(1, pixels, channels, sample, row.to_vec())
        .ok_or_else(|| io::Error::other("a row of the wrong length"))
        .and_then(|t| raster::convert_color(t, mode).map_err(io::Error::other))?;
    out.extend_from_slice(converted.as_le_bytes());
    Ok(())
}

/// The crop of an image input read a row at a time, as a tensor held under
/// the image limit: only the rows the crop keeps are decoded (the rest of a
/// file read front to back still checked to its end), and of a TIFF only
/// the strips and tiles they lie in. `None` when the input is not read a
/// row at a time.
pub(super) fn load_window(
    job: &Job,
    source: &mut Source,
    format: ImageFormat,
    layer: &Layer,
) -> Result<Option<Tensor>, Fault> {
    if !sources::streams(job, source, format)? {
        return Ok(None);
    }
    let mut rows = Rows::Image(sources::image_source(job, source, format)?, Some(format));
    let mode = job.options.color_mode;
    let (source_info, out_info, window) = window_of(&rows, mode, layer)?;
    let limit = job.options.image_limit;
    let size = (out_info.row_len() as u64).saturating_mul(out_info.height as u64);
    if size > limit {
        return Err(Fault::Input(Problem::TooBig(limit >> 20)));
    }
    let mut data = Vec::with_capacity(size as usize);
    let (channels, sample) = (source_info.channels, source_info.sample);
    rows.read_window(&window, &mut |row| {
        put_row(row, mode, (channels, sample), &mut data)
    })?;
    let (h, w, c) = (out_info.height, out_info.width, out_info.channels);
    Tensor::from_le_bytes(h, w, c, out_info.sample, data)
        .map(Some)
        .ok_or_else(|| {
            Fault::Input(Problem::Read(io::Error::other(
                "the image's rows ended early",
            )))
        })
}
