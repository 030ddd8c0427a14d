//! BMP headers as other readers take them, rewritten in memory before the
//! `image` crate's decoder sees the file: an OS/2 2.x header becomes the
//! Windows header it extends; a pixel-data offset that points at the start
//! of the palette is moved to its end, as Pillow moves it; a palette cut
//! short by the pixel-data offset is declared as short as it is; and a
//! planes count other than 1, which Pillow ignores, is declared 1.
//!
//! Uncompressed BMPs are also read a row at a time ([`source`]): each kept
//! row is read at its offset and decoded by the same decoder, as a one-row
//! image with the file's own header and palette, so a window of the image
//! is byte for byte the whole decode's.

use std::borrow::Cow;
use std::io::{Cursor, Read, Seek, SeekFrom};

use image::codecs::bmp::BmpDecoder;
use image::{ImageDecoder, ImageFormat};

use super::sixteen::{self, PillowScale};
use crate::raster::Decoded;
use crate::raster::rows::{RowFn, RowSource, RowsInfo, StreamError, Window};
use crate::raster::{RasterError, image_crate};
use crate::tensor::{SampleType, Tensor};

const NAME: &str = "BMP";

/// Size of the file header before the bitmap header.
pub(super) const FILE_HEADER: usize = 14;
/// The Windows `BITMAPINFOHEADER`.
const INFO_HEADER: usize = 40;
/// The OS/2 2.x header. Shorter forms, which omit trailing fields, are
/// refused, as Pillow refuses them: no reader at hand confirms their pixels.
const OS2_V2: usize = 64;

pub(super) fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

pub(super) fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The file as the decoder should see it; unchanged (and not copied)
/// unless one of the cases applies.
fn normalize(bytes: &[u8]) -> Result<Cow<'_, [u8]>, RasterError> {
    normalize_head(bytes, bytes.len())
}

/// Decodes a whole BMP with the `image` crate, as normalized.
pub(in crate::raster) fn decode(bytes: &[u8], limit: u64) -> Result<Decoded, RasterError> {
    let normal = normalize(bytes)?;
    let (tensor, icc) = image_crate::decode(&normal, ImageFormat::Bmp, limit)?;
    let Some(scale) = PillowScale::of(&normal) else {
        return Ok((tensor, icc).into());
    };
    let (h, w, c) = (tensor.height(), tensor.width(), tensor.channels());
    let mut samples = tensor.into_le_bytes();
    scale.apply(&mut samples);
    let tensor = Tensor::from_le_bytes(h, w, c, SampleType::U8, samples)
        .ok_or_else(|| damaged("the decoded 16-bit image has fewer samples than its size"))?;
    Ok((tensor, icc).into())
}

/// Height, width, channels and sample type from the header alone.
pub(in crate::raster) fn probe(
    bytes: &[u8],
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    image_crate::probe(&normalize(bytes)?, ImageFormat::Bmp, limit)
}

/// [`normalize`] on the first bytes of a file of `file_len` bytes, as far
/// as they go: they come out as the whole file's would begin.
fn normalize_head(bytes: &[u8], mut file_len: usize) -> Result<Cow<'_, [u8]>, RasterError> {
    let Some(header_len) = u32_at(bytes, FILE_HEADER) else {
        // Too short to hold a header: the decoder says so.
        return Ok(Cow::Borrowed(bytes));
    };
    let mut header_len = header_len as usize;
    let mut bytes = Cow::Borrowed(bytes);
    if sixteen::has_alpha_mask(&bytes) {
        sixteen::clear_alpha_mask(bytes.to_mut());
    }
    if header_len == OS2_V2 {
        bytes = Cow::Owned(os2_to_windows(&bytes, header_len)?);
        header_len = INFO_HEADER;
        file_len = file_len.saturating_sub(OS2_V2 - INFO_HEADER);
    }
    // Pillow reads the planes field and ignores it; the decoder refuses any count but 1.
    let planes_at = FILE_HEADER + if header_len == 12 { 8 } else { 12 };
    if u16_at(&bytes, planes_at).is_some_and(|planes| planes != 1) {
        bytes.to_mut()[planes_at..planes_at + 2].copy_from_slice(&1u16.to_le_bytes());
    }
    let offset = u32_at(&bytes, 10).unwrap_or(0) as usize;
    let palette_start = FILE_HEADER + header_len;
    let Some((palette_end, entry)) = palette_end(&bytes, header_len) else {
        return Ok(bytes);
    };
    if offset == palette_start && palette_end <= file_len {
        bytes.to_mut()[10..14].copy_from_slice(&(palette_end as u32).to_le_bytes());
    } else if entry == 4 && (palette_start + entry..palette_end).contains(&offset) {
        let stored = ((offset - palette_start) / entry) as u32;
        let colors_used = FILE_HEADER + 32;
        bytes.to_mut()[colors_used..colors_used + 4].copy_from_slice(&stored.to_le_bytes());
    }
    Ok(bytes)
}

/// Where the palette of a paletted image ends, and the bytes of one entry,
/// for headers that have one.
fn palette_end(bytes: &[u8], header_len: usize) -> Option<(usize, usize)> {
    let (bit_count, colors_used, entry) = if header_len == 12 {
        (u16_at(bytes, FILE_HEADER + 10)?, 0, 3)
    } else {
        (
            u16_at(bytes, FILE_HEADER + 14)?,
            u32_at(bytes, FILE_HEADER + 32)?,
            4,
        )
    };
    if bit_count == 0 || bit_count > 8 {
        return None;
    }
    let colors = match colors_used {
        0 => 1usize << bit_count,
        n => (n as usize).min(1 << bit_count),
    };
    Some((FILE_HEADER + header_len + colors * entry, entry))
}

/// An OS/2 2.x file rewritten with a `BITMAPINFOHEADER`: its first fields
/// are the same, those it omits are zero, and the fields past them (units,
/// halftoning, color encoding) say nothing a decoder needs.
fn os2_to_windows(bytes: &[u8], header_len: usize) -> Result<Vec<u8>, RasterError> {
    let unsupported = |why: &str| RasterError::Damaged {
        format: "BMP",
        why: why.into(),
    };
    let header_end = FILE_HEADER + header_len;
    let Some(header) = bytes.get(FILE_HEADER..header_end) else {
        return Err(unsupported("the file ends inside its OS/2 bitmap header"));
    };
    // OS/2 compression 3 is Huffman 1D and 4 is RLE24, not Windows' bit fields and JPEG.
    if header_len >= 20 && matches!(u32_at(header, 16), Some(3 | 4)) {
        return Err(unsupported(
            "OS/2 Huffman 1D and RLE24 compression are not supported",
        ));
    }
    let mut info = [0u8; INFO_HEADER];
    let kept = header_len.min(INFO_HEADER);
    info[..kept].copy_from_slice(&header[..kept]);
    info[..4].copy_from_slice(&(INFO_HEADER as u32).to_le_bytes());
    let mut out = Vec::with_capacity(bytes.len() + INFO_HEADER);
    out.extend_from_slice(&bytes[..FILE_HEADER]);
    out.extend_from_slice(&info);
    out.extend_from_slice(&bytes[header_end..]);
    let offset = u32_at(bytes, 10).unwrap_or(0) as i64 + INFO_HEADER as i64 - header_len as i64;
    out[10..14].copy_from_slice(&(offset.max(0) as u32).to_le_bytes());
    Ok(out)
}

/// The bytes a caller must peek at for [`streamable`].
pub(in crate::raster) const STREAMABLE_HEAD: usize = FILE_HEADER + 20;

/// Whether a BMP whose first bytes are `head` can be read a row at a time
/// by [`source`]: its rows are stored uncompressed (1-, 2-, 4- and 8-bit
/// palettes, 16-, 24- and 32-bit colors, bit fields of 16 or 32 bits),
/// after its header. Not the rest — RLE, JPEG or PNG inside, headers the
/// decoder does not know — which the whole-image decoder reads or refuses.
pub(in crate::raster) fn streams(head: &[u8]) -> bool {
    streamable(head) == Some(true)
}

/// [`streams`], with `None` when `head` is too short to tell or is not a
/// BMP's beginning.
pub(in crate::raster) fn streamable(head: &[u8]) -> Option<bool> {
    if head.get(..2)? != b"BM" {
        return None;
    }
    let offset = u32_at(head, 10)? as usize;
    let header_len = u32_at(head, FILE_HEADER)? as usize;
    let pixels_after_header = offset >= FILE_HEADER + header_len;
    let readable = match header_len {
        12 => matches!(u16_at(head, FILE_HEADER + 10)?, 1 | 4 | 8 | 24),
        40 | 52 | 56 | OS2_V2 | 108 | 124 => {
            let bit_count = u16_at(head, FILE_HEADER + 14)?;
            match u32_at(head, FILE_HEADER + 16)? {
                0 => matches!(bit_count, 1 | 2 | 4 | 8 | 16 | 24 | 32),
                3 => header_len != OS2_V2 && matches!(bit_count, 16 | 32),
                _ => false,
            }
        }
        _ => false,
    };
    Some(readable && pixels_after_header)
}

/// Header, bit masks and palette at their largest: 256 colors of 4 bytes.
const META_MAX: usize = FILE_HEADER + 124 + 16 + 256 * 4;

/// An uncompressed BMP (see [`streamable`]; any other is refused) read a
/// row at a time, bottom-up or top-down: each kept row is read at its
/// offset, so only one row of the file is held, and decoded as the whole
/// image's decoder decodes it, to 8-bit RGB, or RGBA when the file has an
/// alpha mask. The BMP starts at the start of `input`. Refuses, as the
/// whole decode does, a file that ends before its last row.
pub(in crate::raster) fn source<'a, R: Read + Seek + Send + 'a>(
    input: R,
    limit: u64,
) -> Result<Box<dyn RowSource + 'a>, RasterError> {
    Ok(Box::new(BmpReader::open(input, limit)?))
}

struct BmpReader<R> {
    input: R,
    info: RowsInfo,
    /// Where the top row is in the file, and the step to the next one down.
    top: u64,
    step: i64,
    stride: usize,
    /// The file's header and palette as a one-row image, its row last.
    one_row: Vec<u8>,
    meta_len: usize,
    decoded: Vec<u8>,
    /// Pillow's scale, for a 16-bit file.
    scale: Option<PillowScale>,
}

fn damaged(why: impl Into<String>) -> RasterError {
    RasterError::Damaged {
        format: NAME,
        why: why.into(),
    }
}

fn decode_error(source: image::ImageError) -> RasterError {
    RasterError::Decode {
        format: NAME,
        source,
    }
}

impl<R: Read + Seek> BmpReader<R> {
    fn open(mut input: R, limit: u64) -> Result<Self, RasterError> {
        let io = |e: std::io::Error| damaged(e.to_string());
        let file_len = input.seek(SeekFrom::End(0)).map_err(io)?;
        input.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut head = Vec::new();
        (&mut input)
            .take(META_MAX as u64)
            .read_to_end(&mut head)
            .map_err(io)?;
        if streamable(&head) != Some(true) {
            return Err(RasterError::NotAnImage(
                "this BMP is compressed or not one rcrop reads a row at a time".into(),
            ));
        }
        let file_len = usize::try_from(file_len).unwrap_or(usize::MAX);
        let normal = normalize_head(&head, file_len)?;
        // Where a byte of the normalized file is in the file.
        let shift = (head.len() - normal.len()) as u64;
        let normal_len = file_len.saturating_sub(shift as usize);
        let header_len = u32_at(&normal, FILE_HEADER).unwrap_or(0) as usize;
        let core = header_len == 12;
        let bit_count = u16_at(&normal, FILE_HEADER + if core { 10 } else { 14 }).unwrap_or(0);
        let compression = if core {
            0
        } else {
            u32_at(&normal, FILE_HEADER + 16).unwrap_or(0)
        };
        let header_end = FILE_HEADER + header_len;
        let masks_end = match (compression, header_len) {
            (3, INFO_HEADER) => header_end + 12,
            _ => header_end,
        };
        let meta_len = masks_end.max(palette_end(&normal, header_len).map_or(0, |(end, _)| end));
        let meta = normal
            .get(..meta_len)
            .filter(|_| meta_len <= normal_len)
            .ok_or_else(|| damaged("the file ends inside its header or palette"))?;
        let offset = u64::from(u32_at(&normal, 10).unwrap_or(0));
        // The decoder checks the header as the whole image's decoder does.
        let mut one_row = meta.to_vec();
        one_row[10..14].copy_from_slice(&(meta_len as u32).to_le_bytes());
        let decoder = BmpDecoder::new(Cursor::new(&one_row[..])).map_err(decode_error)?;
        let (width, height) = decoder.dimensions();
        let channels = usize::from(decoder.color_type().channel_count());
        let (width, height) = (width as usize, height as usize);
        // A negative height (a two's complement field) says the top row is first.
        let top_down = !core && u32_at(&one_row, FILE_HEADER + 8).is_some_and(|h| h >> 31 == 1);
        let stride = (usize::from(bit_count) * width).div_ceil(32) * 4;
        let pixels = (stride as u64).saturating_mul(height as u64);
        if offset.saturating_add(pixels) > normal_len as u64 {
            return Err(damaged(format!(
                "its {height} rows of {stride} bytes from byte {offset} pass the end of the file"
            )));
        }
        RasterError::check_limit(NAME, (stride + width * channels) as u128, limit)?;
        // A one-row image: height 1, its row right after the palette.
        if core {
            one_row[FILE_HEADER + 6..FILE_HEADER + 8].copy_from_slice(&1u16.to_le_bytes());
        } else {
            one_row[FILE_HEADER + 8..FILE_HEADER + 12].copy_from_slice(&1i32.to_le_bytes());
        }
        let first = shift + offset;
        let last = first + (stride * height.saturating_sub(1)) as u64;
        let (top, step) = if top_down {
            (first, stride as i64)
        } else {
            (last, -(stride as i64))
        };
        Ok(Self {
            input,
            info: RowsInfo {
                width,
                height,
                channels,
                sample: SampleType::U8,
                icc: None,
            },
            top,
            step,
            stride,
            one_row,
            meta_len,
            decoded: vec![0; width * channels],
            scale: PillowScale::of(&normal),
        })
    }

    fn read(&mut self, window: &Window, row: &mut RowFn<'_>) -> Result<(), StreamError> {
        let (width, height) = (self.info.width, self.info.height);
        window.check_inside(width, height)?;
        let pixel = self.info.channels;
        let cols = window.cols.start * pixel..window.cols.end * pixel;
        self.one_row.resize(self.meta_len + self.stride, 0);
        for y in window.rows.clone() {
            let at = self.top as i64 + self.step * y as i64;
            let io = |e: std::io::Error| damaged(format!("row {y} cannot be read: {e}"));
            self.input.seek(SeekFrom::Start(at as u64)).map_err(io)?;
            self.input
                .read_exact(&mut self.one_row[self.meta_len..])
                .map_err(io)?;
            let decoder = BmpDecoder::new(Cursor::new(&self.one_row[..])).map_err(decode_error)?;
            decoder
                .read_image(&mut self.decoded)
                .map_err(decode_error)?;
            if let Some(scale) = &self.scale {
                scale.apply(&mut self.decoded);
            }
            row(&self.decoded[cols.clone()])?;
        }
        Ok(())
    }
}

impl<R: Read + Seek + Send> RowSource for BmpReader<R> {
    fn info(&self) -> &RowsInfo {
        &self.info
    }

    fn read_window(&mut self, window: &Window, row: &mut RowFn<'_>) -> Result<(), StreamError> {
        self.read(window, row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2×1 1-bit BMP with a header of `header_len` bytes, two palette
    /// entries and its pixel offset at `offset` (relative to the palette end
    /// when negative).
    fn bmp(header_len: usize, offset_from_palette_end: i64) -> Vec<u8> {
        let palette_end = FILE_HEADER + header_len + 8;
        let offset = (palette_end as i64 + offset_from_palette_end) as u32;
        let mut out = b"BM".to_vec();
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        let mut header = vec![0u8; header_len];
        header[..4].copy_from_slice(&(header_len as u32).to_le_bytes());
        header[4..8].copy_from_slice(&2i32.to_le_bytes());
        header[8..12].copy_from_slice(&1i32.to_le_bytes());
        header[12..14].copy_from_slice(&1u16.to_le_bytes());
        header[14..16].copy_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&[0, 0, 0, 0, 255, 255, 255, 0]);
        out.extend_from_slice(&[0b0100_0000, 0, 0, 0]);
        out
    }

    #[test]
    fn an_offset_at_the_palette_start_moves_to_its_end() {
        let at_start = bmp(40, -8);
        let fixed = normalize(&at_start).unwrap();
        assert_eq!(u32_at(&fixed, 10), Some(14 + 40 + 8));
        let right = bmp(40, 0);
        assert!(matches!(normalize(&right).unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn an_offset_inside_the_palette_makes_it_short() {
        let inside = bmp(40, -4);
        let fixed = normalize(&inside).unwrap();
        assert_eq!(u32_at(&fixed, 10), u32_at(&inside, 10));
        assert_eq!(u32_at(&fixed, 14 + 32), Some(1));
    }

    #[test]
    fn os2_v2_headers_become_windows_headers() {
        let os2 = bmp(OS2_V2, 0);
        let fixed = normalize(&os2).unwrap();
        assert_eq!(u32_at(&fixed, 14), Some(40));
        assert_eq!(u32_at(&fixed, 10), Some(14 + 40 + 8));
        assert_eq!(fixed.len(), os2.len() + 40 - OS2_V2);
        let image = image::load_from_memory_with_format(&fixed, image::ImageFormat::Bmp)
            .unwrap()
            .to_rgb8();
        assert_eq!(image.as_raw(), &[0, 0, 0, 255, 255, 255]);
    }
}
