//! BMP written whole by the `image` crate's encoder, and a row at a time
//! byte for byte as that encoder writes the whole image: bottom-up rows
//! padded to 4 bytes; gray as 8-bit indices into a 256-gray palette, RGB as
//! 24-bit BGR, RGBA as 32-bit BGRA behind a `BITMAPV4HEADER` with its bit
//! fields. Rows come top first and go bottom-up, so each batch of rows is
//! written at its place in the file.

use std::io::{self, Seek, SeekFrom, Write};

use image::ImageFormat;

use crate::raster::rows::{RowSink, RowsInfo, WriteSeek};
use crate::raster::{EncodeOptions, RasterError, image_crate};
use crate::tensor::{SampleType, Tensor};

const NAME: &str = "BMP";
const FILE_HEADER: u32 = 14;
const INFO_HEADER: u32 = 40;
const V4_HEADER: u32 = 108;

/// Rows are written in runs of about this many bytes.
const RUN: usize = 256 << 10;

/// A BMP encoder taking an image like `info` (8-bit gray, RGB or RGBA) a
/// row at a time, into `out`, which it writes at any offset.
pub(in crate::raster) fn sink<'a, W: Write + Seek + Send + 'a>(
    out: W,
    info: &RowsInfo,
) -> Result<Box<dyn RowSink + 'a>, RasterError> {
    let (header, pixel, palette) = match (info.sample, info.channels) {
        (SampleType::U8, 1) => (INFO_HEADER, 1u32, 256u32),
        (SampleType::U8, 3) => (INFO_HEADER, 3, 0),
        (SampleType::U8, 4) => (V4_HEADER, 4, 0),
        _ => {
            return Err(RasterError::NotAnImage(format!(
                "BMP is not written from {} {}-channel rows",
                info.sample.name(),
                info.channels
            )));
        }
    };
    let too_big = || RasterError::CannotHold {
        format: NAME,
        found: format!("an image of {} by {} pixels", info.width, info.height),
        holds: "at most 4 GiB of pixels",
    };
    let width = u32::try_from(info.width).map_err(|_| too_big())?;
    let height = u32::try_from(info.height).map_err(|_| too_big())?;
    let padded = width
        .checked_mul(pixel)
        .and_then(|v| v.checked_next_multiple_of(4))
        .ok_or_else(too_big)?;
    let image_size = padded.checked_mul(height).ok_or_else(too_big)?;
    let offset = FILE_HEADER + header + palette * 4;
    let file_size = offset.checked_add(image_size).ok_or_else(too_big)?;
    let mut head = Vec::with_capacity(offset as usize);
    head.extend_from_slice(b"BM");
    for v in [file_size, 0, offset, header, width, height] {
        head.extend_from_slice(&v.to_le_bytes());
    }
    head.extend_from_slice(&1u16.to_le_bytes());
    head.extend_from_slice(&(pixel as u16 * 8).to_le_bytes());
    let compression = if header == V4_HEADER { 3u32 } else { 0 };
    for v in [compression, image_size, 0, 0, palette, 0] {
        head.extend_from_slice(&v.to_le_bytes());
    }
    if header == V4_HEADER {
        // Bit fields of BGRA, the sRGB color space, no end points or gamma.
        for v in [0xff << 16, 0xff << 8, 0xff, 0xff << 24, 0x7352_4742u32] {
            head.extend_from_slice(&v.to_le_bytes());
        }
        head.extend_from_slice(&[0; 48]);
    }
    for v in 0..palette {
        let v = v as u8;
        head.extend_from_slice(&[v, v, v, 0]);
    }
    Ok(Box::new(BmpWriter {
        head,
        out,
        pixel: pixel as usize,
        padded: padded as usize,
        offset: u64::from(offset),
        height: info.height,
        rows_in: 0,
        run: Vec::new(),
    }))
}

struct BmpWriter<W> {
    /// The headers and palette, written with the first rows.
    head: Vec<u8>,
    out: W,
    pixel: usize,
    padded: usize,
    /// Where the pixels start.
    offset: u64,
    height: usize,
    /// The rows taken so far.
    rows_in: usize,
    /// Rows taken but not yet written, as written (BGR, padded), top first.
    run: Vec<u8>,
}

impl<W: Write + Seek> BmpWriter<W> {
    /// Writes the rows gathered.
    fn flush_run(&mut self) -> io::Result<()> {
        if self.run.is_empty() {
            return Ok(());
        }
        if !self.head.is_empty() {
            self.out.write_all(&self.head)?;
            self.head = Vec::new();
        }
        // The run's rows, top first, go bottom-up: its last row first, at
        // the place of the lowest row taken so far.
        let below = (self.height - self.rows_in) as u64 * self.padded as u64;
        self.out.seek(SeekFrom::Start(self.offset + below))?;
        let reversed: Vec<u8> = self
            .run
            .chunks_exact(self.padded)
            .rev()
            .flatten()
            .copied()
            .collect();
        self.out.write_all(&reversed)?;
        self.run.clear();
        Ok(())
    }
}

impl<W: Write + Seek + Send> RowSink for BmpWriter<W> {
    fn write_row(&mut self, row: &[u8]) -> io::Result<()> {
        for px in row.chunks_exact(self.pixel) {
            match *px {
                [r, g, b] => self.run.extend_from_slice(&[b, g, r]),
                [r, g, b, a] => self.run.extend_from_slice(&[b, g, r, a]),
                _ => self.run.extend_from_slice(px),
            }
        }
        self.run
            .resize(self.run.len().next_multiple_of(self.padded), 0);
        self.rows_in += 1;
        if self.run.len() >= RUN {
            self.flush_run()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        if self.rows_in != self.height {
            return Err(io::Error::other("the image's rows ended early"));
        }
        self.flush_run()?;
        self.out.flush()
    }
}

/// A whole image through the `image` crate's encoder.
pub(in crate::raster) fn encode(
    tensor: &Tensor,
    icc: Option<&[u8]>,
    _: EncodeOptions,
) -> Result<Vec<u8>, RasterError> {
    image_crate::encode(tensor, icc, ImageFormat::Bmp)
}

/// [`sink`] on a file, as the codec table opens it.
pub(in crate::raster) fn file_sink(
    out: Box<dyn WriteSeek>,
    info: &RowsInfo,
    _: EncodeOptions,
) -> Result<Box<dyn RowSink>, RasterError> {
    sink(out, info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::ImageEncoder;
    use image::codecs::bmp::BmpEncoder;
    use std::io::Cursor;

    /// The rows written a row at a time equal the `image` crate's encoder's
    /// whole image, for gray, RGB and RGBA and widths of every padding.
    #[test]
    fn rows_written_bottom_up_equal_the_whole_image_encoder() {
        for (channels, color) in [
            (1, image::ExtendedColorType::L8),
            (3, image::ExtendedColorType::Rgb8),
            (4, image::ExtendedColorType::Rgba8),
        ] {
            for (w, h) in [(1, 1), (5, 3), (6, 700), (333, 257)] {
                let data: Vec<u8> = (0..w * h * channels)
                    .map(|i| (i * 131 % 251) as u8)
                    .collect();
                let mut whole = Vec::new();
                BmpEncoder::new(&mut whole)
                    .write_image(&data, w as u32, h as u32, color)
                    .unwrap();
                let info = RowsInfo {
                    width: w,
                    height: h,
                    channels,
                    sample: SampleType::U8,
                    icc: None,
                };
                let mut out = Cursor::new(Vec::new());
                let mut rows = sink(&mut out, &info).unwrap();
                for row in data.chunks_exact(w * channels) {
                    rows.write_row(row).unwrap();
                }
                rows.finish().unwrap();
                assert!(out.get_ref() == &whole, "{channels} channels, {w}×{h}");
            }
        }
    }

    #[test]
    fn rows_that_end_early_are_an_error() {
        let info = RowsInfo {
            width: 2,
            height: 3,
            channels: 3,
            sample: SampleType::U8,
            icc: None,
        };
        let mut out = Cursor::new(Vec::new());
        let mut rows = sink(&mut out, &info).unwrap();
        rows.write_row(&[0; 6]).unwrap();
        assert!(rows.finish().is_err());
    }
}
