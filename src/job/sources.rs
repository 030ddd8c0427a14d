//! Opening an input a row at a time: an image through its codec, when its
//! format and input allow it, and a `.npy` array of batch 1 that is an image.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read};

use image::ImageFormat;

use super::by_rows::Rows;
use super::{Fault, Job, image_format};
use crate::data_format::DataFormat;
use crate::error::{Error, Problem};
use crate::input::{Input, Source};
use crate::kind::FileKind;
use crate::layer::Layer;
use crate::npy::{Data, Header};
use crate::raster::{self, RowInput, RowSource, TensorRows};
use crate::tensor::npy::image_layout;
use crate::tensor::npy_rows::NpyRows;
use crate::tensor::{MOST_CHANNELS, Tensor, TensorError};

/// The most channels an array may have to become an image of `to`: 4
/// (gray, gray+alpha, RGB, RGBA), or any number where its format holds
/// bands; whether the format holds the array's is its codec's to say.
pub(super) fn image_channels(to: Option<FileKind>) -> usize {
    match to {
        Some(FileKind::Image(format)) if raster::formats::row(format).holds.bands.is_empty() => 4,
        _ => MOST_CHANNELS,
    }
}

/// The input's file, if it is a regular file that can be opened again.
fn regular_file<'a>(job: &'a Job, source: &Source) -> Option<&'a std::path::Path> {
    match &job.input {
        Input::Path(path) if source.remaining.is_some() => Some(path),
        _ => None,
    }
}

/// Whether an image of `format` can be read a row at a time from this
/// input; the bytes looked at stay in `source`.
pub(super) fn streams(job: &Job, source: &mut Source, format: ImageFormat) -> Result<bool, Error> {
    let head = peek(source, raster::STREAM_HEAD).map_err(|e| job.input_error(e))?;
    Ok(raster::streams(
        format,
        &head,
        regular_file(job, source).is_some(),
    ))
}

/// Opens an image input that [`streams`] a row at a time: formats read
/// front to back read on from the source; those read at any offset open
/// the file again.
pub(super) fn image_source(
    job: &Job,
    source: &mut Source,
    format: ImageFormat,
) -> Result<Box<dyn RowSource>, Fault> {
    let head = peek(source, raster::STREAM_HEAD)?;
    let input = match regular_file(job, source) {
        Some(path) if !raster::streams(format, &head, false) => {
            RowInput::File(BufReader::new(File::open(path).map_err(Problem::Open)?))
        }
        _ => RowInput::Stream(std::mem::replace(&mut source.reader, Box::new(io::empty()))),
    };
    Ok(raster::row_source(format, input, job.options.image_limit)?)
}

/// Reads `n` bytes ahead without consuming them.
fn peek(source: &mut Source, n: usize) -> Result<Vec<u8>, Problem> {
    let mut head = Vec::with_capacity(n);
    (&mut source.reader)
        .take(n as u64)
        .read_to_end(&mut head)
        .map_err(Problem::Read)?;
    let rest = std::mem::replace(&mut source.reader, Box::new(io::empty()));
    source.reader = Box::new(Cursor::new(head.clone()).chain(rest));
    Ok(head)
}

/// A `.npy` array of batch 1 that is an image, a row at a time: C-ordered
/// channels-last data front to back; channels-first data from a regular
/// file by reading each plane's row where it lies; anything else read
/// whole under the image limit.
pub(super) fn npy_rows(job: &Job, source: &mut Source, layer: &Layer) -> Result<Rows, Fault> {
    let (header, header_len) = Header::read(&mut source.reader)?;
    let data_len = header.data_len()?;
    let format = image_format(layer);
    let not_an_image = |why: TensorError| Fault::Input(Problem::not_an_image(&header, why));
    let most = image_channels(job.options.to);
    let layout = image_layout(&header, format, false, most).map_err(not_an_image)?;
    header.check_file_len(header_len, source.remaining)?;
    let file = regular_file(job, source);
    let rows = match (layout.fortran_order, format, file) {
        (false, DataFormat::ChannelsLast, _) => {
            let reader = std::mem::replace(&mut source.reader, Box::new(io::empty()));
            NpyRows::stream(reader, layout, data_len, source.remaining.is_some())
        }
        (false, DataFormat::ChannelsFirst, Some(path)) => {
            let file = File::open(path).map_err(Problem::Open)?;
            NpyRows::planes(file, header_len, layout)
        }
        _ => {
            let data = read_whole(&mut source.reader, data_len, job.options.image_limit)?;
            let tensor = Tensor::from_bytes(&layout, &data, format).map_err(not_an_image)?;
            return Ok(Rows::Image(Box::new(TensorRows::new(tensor, None)), None));
        }
    };
    Ok(Rows::Array(rows.map_err(not_an_image)?))
}

/// The whole data of a `.npy` array of `len` bytes, refused over `limit`,
/// and then the end of the input.
pub(super) fn read_whole(
    reader: &mut dyn io::BufRead,
    len: u64,
    limit: u64,
) -> Result<Vec<u8>, Fault> {
    let mut data = Data::new(reader, len);
    let bytes = read_within(&mut data, len, limit)?;
    data.expect_end()?;
    Ok(bytes)
}

/// The next `len` bytes of `data`, which are to go into memory: refused
/// over `limit`.
pub(super) fn read_within<R: Read>(
    data: &mut Data<R>,
    len: u64,
    limit: u64,
) -> Result<Vec<u8>, Fault> {
    if len > limit {
        return Err(Fault::Input(Problem::TooBig(limit >> 20)));
    }
    Ok(data.read_vec(len)?)
}
