//! Decoded strips and tiles placed in the rows of a window: samples
//! unpacked to whole bytes as stored, gathered from separate planes, and
//! converted to the tensor's samples.

use std::ops::Range;

use super::page::{Convert, Page};
use super::read::refuse;
use super::ycbcr::YCbCr;
use crate::raster::RasterError;
use crate::tensor::SampleType;

/// Where one decoded chunk's samples go in the rows of a window.
pub(super) struct Placement<'a> {
    pub page: &'a Page,
    pub plane: usize,
    /// Row and column of the chunk's first sample.
    pub origin: (usize, usize),
    /// Columns of the chunk inside the image, which is what a decoded row
    /// holds: the `tiff` crate clips tiles at the right edge.
    pub chunk_width: usize,
    pub color_map: &'a [u16],
    pub ycbcr: Option<&'a YCbCr>,
}

impl Placement<'_> {
    /// Image row `y` of the chunk across `cols`, where it is already the
    /// window's row: samples in bytes of their own, in one plane, nothing
    /// to convert, and the chunk spanning the columns. `None` otherwise,
    /// for [`Placement::put_row`].
    pub fn as_stored<'c>(
        &self,
        chunk: &'c [u8],
        y: usize,
        cols: &Range<usize>,
    ) -> Option<&'c [u8]> {
        let page = self.page;
        let plain = self.ycbcr.is_none()
            && !page.planar
            && page.whole_bytes()
            && page.convert == Convert::None;
        let (left, right) = (self.origin.1, self.origin.1 + self.chunk_width);
        if !plain || cols.start < left || cols.end > right {
            return None;
        }
        let row_bytes = page.row_bytes(self.chunk_width);
        let pixel = page.in_chunk() * page.stored.itemsize();
        let start = (y.checked_sub(self.origin.0)?) * row_bytes;
        let row = chunk.get(start..start + row_bytes)?;
        row.get((cols.start - left) * pixel..(cols.end - left) * pixel)
    }

    /// Puts image row `y` of the chunk, as far as it lies in `cols`, into
    /// `dest`, the row of the window's columns: converted, or as stored
    /// when the planes are separate (each plane's samples in their place in
    /// the pixel, for [`convert`] once all are there). `scratch` holds
    /// unpacked samples.
    pub fn put_row(
        &self,
        chunk: &[u8],
        y: usize,
        cols: &Range<usize>,
        dest: &mut [u8],
        scratch: &mut Vec<u8>,
    ) -> Result<(), RasterError> {
        let page = self.page;
        if let Some(ycbcr) = self.ycbcr {
            return self.put_ycbcr_row(ycbcr, chunk, y, cols, dest);
        }
        let row_bytes = page.row_bytes(self.chunk_width);
        if row_bytes == 0 {
            return Err(refuse("a chunk with empty rows"));
        }
        let r = y - self.origin.0;
        let row = chunk
            .get(r * row_bytes..(r + 1) * row_bytes)
            .ok_or_else(|| refuse("a strip or tile with fewer rows than its size"))?;
        // The chunk's columns inside the window, counted from the chunk's first.
        let first = cols.start.max(self.origin.1);
        let end = cols.end.min(self.origin.1 + self.chunk_width);
        if first >= end {
            return Ok(());
        }
        let xs = first - self.origin.1..end - self.origin.1;
        let size = page.stored.itemsize();
        let stored = if page.whole_bytes() {
            let pixel = page.in_chunk() * size;
            &row[xs.start * pixel..xs.end * pixel]
        } else {
            unpack(row, &xs, page, scratch);
            &scratch[..]
        };
        if page.planar {
            let pixel = page.stored_pixel();
            let dest = &mut dest[(first - cols.start) * pixel..(end - cols.start) * pixel];
            for (sample, pixel) in stored.chunks_exact(size).zip(dest.chunks_exact_mut(pixel)) {
                pixel[self.plane * size..(self.plane + 1) * size].copy_from_slice(sample);
            }
            return Ok(());
        }
        let pixel = page.channels * page.sample.itemsize();
        let dest = &mut dest[(first - cols.start) * pixel..(end - cols.start) * pixel];
        convert(page, self.color_map, stored, dest)
    }
}

impl Placement<'_> {
    /// [`Placement::put_row`] for YCbCr in blocks: row `y` of the image is
    /// one of the `v` rows of luma of a row of blocks.
    fn put_ycbcr_row(
        &self,
        ycbcr: &YCbCr,
        chunk: &[u8],
        y: usize,
        cols: &Range<usize>,
        dest: &mut [u8],
    ) -> Result<(), RasterError> {
        let row_bytes = ycbcr.block_row(self.chunk_width);
        let r = y - self.origin.0;
        let blocks = chunk
            .get(r / ycbcr.v * row_bytes..(r / ycbcr.v + 1) * row_bytes)
            .ok_or_else(|| refuse("a strip or tile with fewer rows than its size"))?;
        let first = cols.start.max(self.origin.1);
        let end = cols.end.min(self.origin.1 + self.chunk_width);
        if first < end {
            let dest = &mut dest[(first - cols.start) * 3..(end - cols.start) * 3];
            let xs = first - self.origin.1..end - self.origin.1;
            ycbcr.to_rgb(blocks, r % ycbcr.v, xs, dest);
        }
        Ok(())
    }
}

/// Samples `xs` of a row of packed samples, each of `page.bits` bits from
/// the high bit down, into `out` as little-endian samples of the page's
/// stored type; signed samples are sign-extended.
fn unpack(row: &[u8], xs: &Range<usize>, page: &Page, out: &mut Vec<u8>) {
    let bits = usize::from(page.bits);
    let in_chunk = page.in_chunk();
    let size = page.stored.itemsize();
    let signed = matches!(
        page.stored,
        SampleType::I8 | SampleType::I16 | SampleType::I32
    );
    let shift = 64 - bits as u32;
    out.clear();
    for i in xs.start * in_chunk..xs.end * in_chunk {
        let value = packed(row, i * bits, bits);
        let value = if signed {
            ((value << shift) as i64 >> shift) as u64
        } else {
            value
        };
        out.extend_from_slice(&value.to_le_bytes()[..size]);
    }
}

/// The `bits` bits (at most 57) of `row` from bit `at`, counted from the
/// high bit of the first byte.
fn packed(row: &[u8], at: usize, bits: usize) -> u64 {
    let (first, last) = (at / 8, (at + bits - 1) / 8);
    let word = row[first..=last]
        .iter()
        .fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    let unused = (last + 1) * 8 - (at + bits);
    (word >> unused) & ((1u64 << bits) - 1)
}

/// Converts a row of pixels as stored into the tensor's samples.
pub(super) fn convert(
    page: &Page,
    color_map: &[u16],
    stored: &[u8],
    dest: &mut [u8],
) -> Result<(), RasterError> {
    match page.convert {
        Convert::None => dest.copy_from_slice(stored),
        Convert::ScaleGray => {
            let max = (1u16 << page.bits) - 1;
            for (&v, d) in stored.iter().zip(dest.iter_mut()) {
                *d = (u16::from(v) * 255 / max) as u8;
            }
        }
        Convert::Palette => look_up(page, color_map, stored, dest)?,
        Convert::Cmyk => cmyk_to_rgb(stored, dest),
        Convert::YCbCr => return Err(refuse("YCbCr in separate planes is not read")),
    }
    Ok(())
}

/// Palette indices looked up: as Pillow and libtiff read TIFF color maps,
/// the high byte of each 16-bit entry.
fn look_up(
    page: &Page,
    color_map: &[u16],
    stored: &[u8],
    dest: &mut [u8],
) -> Result<(), RasterError> {
    let entries = 1usize << page.bits;
    if color_map.len() < 3 * entries {
        return Err(refuse(format!(
            "a color map of {} values; {}-bit palettes need {}",
            color_map.len(),
            page.bits,
            3 * entries
        )));
    }
    let size = page.stored.itemsize();
    for (index, rgb) in stored.chunks_exact(size).zip(dest.chunks_exact_mut(3)) {
        let index = match *index {
            [i] => usize::from(i),
            [lo, hi] => usize::from(u16::from_le_bytes([lo, hi])),
            _ => return Err(refuse("palette indices of more than 16 bits")),
        };
        for (c, value) in rgb.iter_mut().enumerate() {
            *value = (color_map[c * entries + index] >> 8) as u8;
        }
    }
    Ok(())
}

/// 8-bit CMYK to RGB exactly as Pillow's `convert("RGB")`, and so Keras'
/// `load_img`, computes it: `(255 - K) - C × (255 - K) / 255`, rounded.
fn cmyk_to_rgb(row: &[u8], dest: &mut [u8]) {
    for (cmyk, rgb) in row.chunks_exact(4).zip(dest.chunks_exact_mut(3)) {
        let nk = 255 - u32::from(cmyk[3]);
        for (out, &ink) in rgb.iter_mut().zip(cmyk) {
            let t = u32::from(ink) * nk + 128;
            *out = (nk - ((t >> 8) + t) / 256) as u8;
        }
    }
}
