//! PNM written a row at a time: `P5` or `P6` at 255 or 65535, with
//! Pillow's header.

use std::io::{self, Write};

use image::ImageFormat;

use super::read::NAME;
use crate::raster::rows::{self, RowSink, RowsInfo};
use crate::raster::{EncodeOptions, RasterError, formats};
use crate::tensor::{SampleType, Tensor};

/// A PNM file being written: `P5` for gray, `P6` for RGB.
struct Sink<W> {
    out: W,
    /// The header, until the first row goes out.
    header: Option<Vec<u8>>,
    row_len: usize,
    rows_left: usize,
    wide: bool,
    /// A row of 16-bit samples turned big-endian.
    buf: Vec<u8>,
}

/// A writer of `info`'s rows as a raw PNM file, with Pillow's header
/// (`P6\n<width> <height>\n255\n`); refuses what PNM cannot hold.
/// PNM takes no encode options.
pub(in crate::raster) fn sink<'a>(
    out: Box<dyn Write + Send + 'a>,
    info: &RowsInfo,
    _: EncodeOptions,
) -> Result<Box<dyn RowSink + 'a>, RasterError> {
    let magic = match info.channels {
        1 => "P5",
        3 => "P6",
        _ => "",
    };
    let maxval = match info.sample {
        SampleType::U8 => 255,
        SampleType::U16 => 65535,
        _ => 0,
    };
    if magic.is_empty() || maxval == 0 {
        // An empty tensor only lends its description.
        let found = Tensor::from_le_bytes(0, 0, info.channels, info.sample, Vec::new())
            .map_or_else(|| "these pixels".to_string(), |t| t.describe());
        return Err(RasterError::CannotHold {
            format: NAME,
            found,
            holds: formats::row(ImageFormat::Pnm).holds.text,
        });
    }
    let header = format!("{magic}\n{} {}\n{maxval}\n", info.width, info.height);
    Ok(Box::new(Sink {
        out,
        header: Some(header.into_bytes()),
        row_len: info.row_len(),
        rows_left: info.height,
        wide: maxval > 255,
        buf: Vec::new(),
    }))
}

impl<W: Write> Sink<W> {
    fn write_header(&mut self) -> io::Result<()> {
        match self.header.take() {
            Some(header) => self.out.write_all(&header),
            None => Ok(()),
        }
    }
}

impl<W: Write> RowSink for Sink<W> {
    fn write_row(&mut self, row: &[u8]) -> io::Result<()> {
        if row.len() != self.row_len || self.rows_left == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a PNM row of {} bytes after the last row, or not of the {} bytes expected",
                    row.len(),
                    self.row_len
                ),
            ));
        }
        self.write_header()?;
        self.rows_left -= 1;
        if !self.wide {
            return self.out.write_all(row);
        }
        self.buf.resize(row.len(), 0);
        for (to, from) in self.buf.chunks_exact_mut(2).zip(row.chunks_exact(2)) {
            to.copy_from_slice(&[from[1], from[0]]);
        }
        self.out.write_all(&self.buf)
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        if self.rows_left > 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a PNM image finished {} rows short", self.rows_left),
            ));
        }
        self.write_header()?;
        self.out.flush()
    }
}
/// The tensor as a raw PNM file, through [`sink`]; PNM keeps no ICC
/// profile.
pub(in crate::raster) fn encode(
    tensor: &Tensor,
    _: Option<&[u8]>,
    options: EncodeOptions,
) -> Result<Vec<u8>, RasterError> {
    let mut out = Vec::new();
    let rows = sink(Box::new(&mut out), &RowsInfo::of(tensor, None), options)?;
    rows::write_tensor(rows, tensor).map_err(|e| RasterError::Damaged {
        format: NAME,
        why: format!("writing it failed: {e}"),
    })?;
    Ok(out)
}
