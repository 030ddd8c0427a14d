//! Images a row at a time: a decoder passes the rows of a window, top to
//! bottom, each cut to the window's columns, and an encoder takes them as
//! they come. Neither holds more than a few rows (or one strip or tile row),
//! so an image of any size crops in bounded memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, Write};
use std::ops::Range;

use super::RasterError;
use crate::tensor::{SampleType, Tensor};

/// What a streamed image holds, known from its header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowsInfo {
    pub width: usize,
    pub height: usize,
    /// 1 to 4: gray, gray+alpha, RGB, RGBA; any number of a TIFF's bands.
    pub channels: usize,
    pub sample: SampleType,
    /// The ICC profile the image carries, if any.
    pub icc: Option<Vec<u8>>,
}

impl RowsInfo {
    /// What a tensor in memory holds, with `icc` for its profile.
    pub fn of(tensor: &Tensor, icc: Option<Vec<u8>>) -> Self {
        Self {
            width: tensor.width(),
            height: tensor.height(),
            channels: tensor.channels(),
            sample: tensor.sample_type(),
            icc,
        }
    }

    /// The bytes of one whole row.
    pub fn row_len(&self) -> usize {
        self.width * self.channels * self.sample.itemsize()
    }

    /// The bytes of one pixel.
    pub fn pixel_len(&self) -> usize {
        self.channels * self.sample.itemsize()
    }
}

/// The rows and columns of an image that are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub rows: Range<usize>,
    pub cols: Range<usize>,
}

impl Window {
    /// Refuses a window that does not lie inside a `width` × `height` image.
    pub fn check_inside(&self, width: usize, height: usize) -> Result<(), RasterError> {
        let (rows, cols) = (&self.rows, &self.cols);
        if rows.start > rows.end || cols.start > cols.end || rows.end > height || cols.end > width {
            return Err(RasterError::NotAnImage(format!(
                "rows {rows:?} and columns {cols:?} are not inside the {width}x{height} image"
            )));
        }
        Ok(())
    }
}

pub use crate::tensor::RowFn;

/// An image decoded a row at a time.
pub trait RowSource: Send {
    /// The image, from its header.
    fn info(&self) -> &RowsInfo;

    /// Passes each row of `window` (which lies inside the image), top to
    /// bottom, cut to the window's columns, as interleaved little-endian
    /// samples, to `row`. A format read front to back reads and checks the
    /// rest of its file too; one read at offsets decodes nothing it lets it
    /// skip (strips and tiles outside the window).
    fn read_window(&mut self, window: &Window, row: &mut RowFn<'_>) -> Result<(), StreamError>;
}

/// An image encoded a row at a time, top to bottom.
pub trait RowSink {
    /// Takes the next row: interleaved little-endian samples of the width,
    /// channels and sample type the encoder was made for.
    fn write_row(&mut self, row: &[u8]) -> io::Result<()>;

    /// Takes the next rows at once, `line` bytes each; a sink that passes
    /// its rows on whole keeps the batch rather than copying it.
    fn write_rows(&mut self, rows: Vec<u8>, line: usize) -> io::Result<()> {
        rows.chunks_exact(line.max(1))
            .try_for_each(|row| self.write_row(row))
    }

    /// Writes what is left once every row has been written.
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// How a streamed crop fails: in the input, or writing the output.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Input(#[from] RasterError),
    #[error(transparent)]
    Output(io::Error),
}

impl From<io::Error> for StreamError {
    fn from(e: io::Error) -> Self {
        StreamError::Output(e)
    }
}

/// Where an image read a row at a time comes from.
pub enum RowInput<'a> {
    /// Read front to back only: standard input, a pipe, or a file.
    Stream(Box<dyn BufRead + Send + 'a>),
    /// A regular file, read at any offset.
    File(BufReader<File>),
}

/// A file written at any offset, for the formats whose rows are not
/// written in the order they come (BMP stores them bottom-up) or whose
/// writer needs to go back (TIFF).
pub trait WriteSeek: Write + Seek + Send {}

impl<T: Write + Seek + Send> WriteSeek for T {}

/// Where an image written a row at a time goes.
pub enum RowOutput<'a> {
    /// Written front to back only: standard output, a pipe, or a file.
    Stream(Box<dyn Write + Send + 'a>),
    /// A regular file, written at any offset. It is owned, as the TIFF
    /// writer runs on a thread of its own.
    File(Box<dyn WriteSeek>),
}

/// Writes every row of `tensor` to `sink`, then finishes it: a whole image
/// written by the same encoder as one that comes a row at a time.
pub(super) fn write_tensor(mut sink: Box<dyn RowSink + '_>, tensor: &Tensor) -> io::Result<()> {
    let line = tensor.width() * tensor.channels() * tensor.sample_type().itemsize();
    for row in tensor.as_le_bytes().chunks_exact(line.max(1)) {
        sink.write_row(row)?;
    }
    sink.finish()
}

/// Every row of `source` as a tensor, read as a window of it would be, so
/// that a whole decode and a crop read a row at a time cannot differ.
/// `capacity` bytes are reserved first: the caller bounds them.
pub(super) fn read_whole(
    source: &mut dyn RowSource,
    format: &'static str,
    capacity: usize,
) -> Result<Tensor, RasterError> {
    let info = source.info().clone();
    let mut data = Vec::with_capacity(capacity);
    let whole = Window {
        rows: 0..info.height,
        cols: 0..info.width,
    };
    source
        .read_window(&whole, &mut |row| {
            data.extend_from_slice(row);
            Ok(())
        })
        .map_err(|e| match e {
            StreamError::Input(e) => e,
            StreamError::Output(e) => RasterError::NotAnImage(e.to_string()),
        })?;
    Tensor::from_le_bytes(info.height, info.width, info.channels, info.sample, data).ok_or_else(
        || RasterError::Damaged {
            format,
            why: "its rows hold fewer samples than its size".into(),
        },
    )
}

/// Copies the window of `source` into `sink`.
pub fn crop_into(
    source: &mut dyn RowSource,
    window: &Window,
    sink: &mut dyn RowSink,
) -> Result<(), StreamError> {
    source.read_window(window, &mut |row| sink.write_row(row))
}

/// A tensor in memory read a row at a time: for what cannot be streamed
/// from its file, so that every crop goes to an encoder the same way.
pub struct TensorRows {
    tensor: Tensor,
    info: RowsInfo,
}

impl TensorRows {
    pub fn new(tensor: Tensor, icc: Option<Vec<u8>>) -> Self {
        let info = RowsInfo::of(&tensor, icc);
        Self { tensor, info }
    }
}

impl RowSource for TensorRows {
    fn info(&self) -> &RowsInfo {
        &self.info
    }

    fn read_window(&mut self, window: &Window, row: &mut RowFn<'_>) -> Result<(), StreamError> {
        let (pixel, line) = (self.info.pixel_len(), self.info.row_len());
        let bytes = self.tensor.as_le_bytes();
        for y in window.rows.clone() {
            let at = y * line;
            row(&bytes[at + window.cols.start * pixel..at + window.cols.end * pixel])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tensor_passes_the_rows_of_its_window_cut_to_its_columns() {
        let values: Vec<u16> = (0..24).collect();
        let tensor = Tensor::from_elements(4, 3, 2, &values).unwrap();
        let mut rows = TensorRows::new(tensor, None);
        let window = Window {
            rows: 1..3,
            cols: 1..2,
        };
        let mut seen = Vec::new();
        rows.read_window(&window, &mut |r| {
            seen.push(r.to_vec());
            Ok(())
        })
        .unwrap();
        // Row 1 starts at sample 6, its column 1 at sample 8.
        assert_eq!(seen, vec![vec![8, 0, 9, 0], vec![14, 0, 15, 0]]);
    }
}
