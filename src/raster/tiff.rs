//! TIFF as scientists and scanners write it, on the `tiff` crate's chunk
//! reader: every chunk (strip or tile, of every plane) is decoded by the
//! crate and placed here, so separate planes, tiles that straddle the
//! edges, sub-byte gray, palettes and every sample format come out as
//! samples of the matching [`SampleType`]. FillOrder 2 is undone on the raw
//! chunk bytes before decoding, as libtiff does. The first page is read.

use std::borrow::Cow;
use std::io::Cursor;

use tiff::decoder::{ChunkType, Decoder, DecodingResult, Limits};
use tiff::tags::{PlanarConfiguration, SampleFormat, Tag};
use tiff::{ColorType, TiffError};

use super::RasterError;
use crate::tensor::{SampleType, Tensor};

const NAME: &str = "TIFF";
/// PhotometricInterpretation RGB Palette.
const PALETTE: u16 = 3;
/// PhotometricInterpretation BlackIsZero.
const BLACK_IS_ZERO: u16 = 1;
/// Compression "new-style" JPEG.
const JPEG: u16 = 7;

fn decode_error(e: TiffError) -> RasterError {
    RasterError::Tiff { why: e.to_string() }
}

fn refuse(why: impl Into<String>) -> RasterError {
    RasterError::Tiff { why: why.into() }
}

/// What the first page holds and how it becomes a tensor.
struct Page {
    width: usize,
    height: usize,
    /// Samples per pixel in the file.
    samples: usize,
    bits: u8,
    planar: bool,
    /// Channels of the tensor and the type of its samples.
    channels: usize,
    sample: SampleType,
    convert: Convert,
    compression: u16,
}

/// How decoded samples become tensor samples.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Convert {
    /// As they are.
    None,
    /// 1-, 2- or 4-bit gray, scaled to 0–255 as PNG's are.
    ScaleGray,
    /// Palette indices of `bits` bits, looked up in the colour map.
    Palette,
    /// 12-bit gray, unpacked to 16-bit samples holding 0–4095.
    Unpack12,
    /// JPEG-compressed YCbCr, which the `tiff` crate leaves unconverted,
    /// to RGB with libjpeg's integer arithmetic.
    YCbCr,
    /// 8-bit CMYK to RGB, as Keras' `load_img` gives it.
    Cmyk,
}

impl Page {
    fn read(decoder: &mut Decoder<Cursor<&[u8]>>) -> Result<Self, RasterError> {
        let (width, height) = decoder.dimensions().map_err(decode_error)?;
        let photometric = decoder
            .find_tag_unsigned::<u16>(Tag::PhotometricInterpretation)
            .map_err(decode_error)?;
        let compression = decoder
            .find_tag_unsigned::<u16>(Tag::Compression)
            .map_err(decode_error)?
            .unwrap_or(1);
        let colour = match photometric {
            // The crate reads no palettes: rcrop reads the indices as gray.
            Some(PALETTE) => ColorType::Palette(
                decoder
                    .find_tag_unsigned::<u8>(Tag::BitsPerSample)
                    .map_err(decode_error)?
                    .unwrap_or(1),
            ),
            _ => decoder.colortype().map_err(decode_error)?,
        };
        let samples = decoder
            .find_tag_unsigned::<u16>(Tag::SamplesPerPixel)
            .map_err(decode_error)?
            .unwrap_or(1) as usize;
        let planar = decoder
            .find_tag_unsigned::<u16>(Tag::PlanarConfiguration)
            .map_err(decode_error)?
            .is_some_and(|p| p == PlanarConfiguration::Planar.to_u16());
        let format = decoder
            .find_tag_unsigned_vec::<u16>(Tag::SampleFormat)
            .map_err(decode_error)?
            .and_then(|v| v.first().copied())
            .map_or(SampleFormat::Uint, SampleFormat::from_u16_exhaustive);
        let bits = match colour {
            ColorType::Gray(b)
            | ColorType::RGB(b)
            | ColorType::RGBA(b)
            | ColorType::Palette(b)
            | ColorType::CMYK(b)
            | ColorType::YCbCr(b)
            | ColorType::GrayA(b) => b,
            ColorType::Multiband { bit_depth, .. } => bit_depth,
            other => return Err(refuse(format!("{other:?} images are not read"))),
        };
        let typed = |bits: u8| sample_type(bits, format);
        let (channels, sample, convert) = match colour {
            ColorType::Gray(1 | 2 | 4) if format == SampleFormat::Uint => {
                (1, SampleType::U8, Convert::ScaleGray)
            }
            ColorType::Gray(12) if format == SampleFormat::Uint => {
                (1, SampleType::U16, Convert::Unpack12)
            }
            ColorType::Gray(b) => (1, typed(b)?, Convert::None),
            ColorType::GrayA(b) => (2, typed(b)?, Convert::None),
            ColorType::Multiband {
                bit_depth,
                num_samples: 2,
            } => (2, typed(bit_depth)?, Convert::None),
            ColorType::RGB(b) => (3, typed(b)?, Convert::None),
            ColorType::YCbCr(8) if compression == JPEG => (3, SampleType::U8, Convert::YCbCr),
            ColorType::RGBA(b) => (4, typed(b)?, Convert::None),
            ColorType::Palette(1 | 2 | 4 | 8) => (3, SampleType::U8, Convert::Palette),
            ColorType::CMYK(8) => (3, SampleType::U8, Convert::Cmyk),
            other => {
                return Err(refuse(format!(
                    "{other:?} images with {samples} samples per pixel are not read"
                )));
            }
        };
        if planar && convert != Convert::None {
            return Err(refuse(format!("{colour:?} in separate planes is not read")));
        }
        Ok(Self {
            width: width as usize,
            height: height as usize,
            samples,
            bits,
            planar,
            channels,
            sample,
            convert,
            compression,
        })
    }

    fn decoded_len(&self) -> u64 {
        (self.width as u64) * (self.height as u64) * (self.channels * self.sample.itemsize()) as u64
    }
}

/// The sample type of `bits`-bit samples in `format`.
fn sample_type(bits: u8, format: SampleFormat) -> Result<SampleType, RasterError> {
    Ok(match (format, bits) {
        (SampleFormat::Uint, 8) => SampleType::U8,
        (SampleFormat::Uint, 16) => SampleType::U16,
        (SampleFormat::Uint, 32) => SampleType::U32,
        (SampleFormat::Int, 8) => SampleType::I8,
        (SampleFormat::Int, 16) => SampleType::I16,
        (SampleFormat::Int, 32) => SampleType::I32,
        (SampleFormat::IEEEFP, 16) => SampleType::F16,
        (SampleFormat::IEEEFP, 32) => SampleType::F32,
        (SampleFormat::IEEEFP, 64) => SampleType::F64,
        (format, bits) => {
            return Err(refuse(format!(
                "{bits}-bit samples of format {format:?} are not read; rcrop reads 8-, 16- and \
                 32-bit integers and 16-, 32- and 64-bit floats"
            )));
        }
    })
}

fn open(bytes: &[u8], limit: u64) -> Result<Decoder<Cursor<&[u8]>>, RasterError> {
    let mut limits = Limits::default();
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    limits.decoding_buffer_size = limit;
    limits.intermediate_buffer_size = limit;
    Ok(Decoder::new(Cursor::new(bytes))
        .map_err(decode_error)?
        .with_limits(limits))
}

/// Height, width, channels and sample type, from the first page's tags.
pub(super) fn probe(
    bytes: &[u8],
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    let mut decoder = open(bytes, limit)?;
    let page = Page::read(&mut decoder)?;
    check_limit(&page, limit)?;
    Ok((page.height, page.width, page.channels, page.sample))
}

fn check_limit(page: &Page, limit: u64) -> Result<(), RasterError> {
    if page.decoded_len() > limit {
        return Err(RasterError::Limit {
            format: NAME,
            limit_mib: limit >> 20,
        });
    }
    Ok(())
}

/// Decodes the first page, with its ICC profile.
pub(super) fn decode(bytes: &[u8], limit: u64) -> Result<(Tensor, Option<Vec<u8>>), RasterError> {
    let mut original = open(bytes, limit)?;
    let page = Page::read(&mut original)?;
    check_limit(&page, limit)?;
    let colour_map = match page.convert {
        Convert::Palette => original
            .get_tag_u16_vec(Tag::ColorMap)
            .map_err(decode_error)?,
        _ => Vec::new(),
    };
    let icc = original.get_tag_u8_vec(Tag::IccProfile).ok();
    let (chunk_width, chunk_height) = original.chunk_dimensions();
    let (chunk_width, chunk_height) = (chunk_width as usize, chunk_height as usize);
    if chunk_width == 0 || chunk_height == 0 {
        return Err(refuse("a strip or tile of size 0"));
    }
    let across = page.width.div_ceil(chunk_width);
    let per_plane = match original.get_chunk_type() {
        ChunkType::Strip => page.height.div_ceil(chunk_height),
        ChunkType::Tile => across * page.height.div_ceil(chunk_height),
    };
    let predictor = original
        .find_tag_unsigned::<u16>(Tag::Predictor)
        .map_err(decode_error)?
        .unwrap_or(1);
    let copy = decodable(bytes, &mut original, &page, predictor)?;
    let mut decoder = open(&copy, limit)?;
    let chunk_type = decoder.get_chunk_type();
    let jpeg_chunks = match page.compression {
        JPEG => Some(JpegChunks::read(&mut decoder, chunk_type)?),
        _ => None,
    };
    let mut out = vec![0u8; page.decoded_len() as usize];
    let planes = if page.planar { page.samples } else { 1 };
    for plane in 0..planes {
        for index in 0..per_plane {
            let number = plane * per_plane + index;
            let origin = (
                (index / across) * chunk_height,
                (index % across) * chunk_width,
            );
            if let Some(chunks) = &jpeg_chunks {
                // What libtiff's JPEGPreDecode checks: a chunk's JPEG frame
                // is the size of the chunk, or the decoder would be asked
                // for more pixels than the chunk holds (or fewer).
                let (width, heights) = match chunk_type {
                    ChunkType::Tile => (chunk_width, [chunk_height; 2]),
                    ChunkType::Strip => (
                        page.width,
                        [chunk_height, chunk_height.min(page.height - origin.0)],
                    ),
                };
                let frame = frame_size(chunks.data(&copy, number));
                if !frame.is_some_and(|(h, w)| w == width && heights.contains(&h)) {
                    let found = frame.map_or("no readable frame header".into(), |(h, w)| {
                        format!("a {w}x{h} JPEG image")
                    });
                    let kind = match chunk_type {
                        ChunkType::Tile => "tile",
                        ChunkType::Strip => "strip",
                    };
                    return Err(refuse(format!(
                        "{kind} {number} holds {found} where the {kind} is {width}x{}",
                        heights[1]
                    )));
                }
            }
            let chunk = decoder.read_chunk(number as u32).map_err(decode_error)?;
            let placed = Placement {
                page: &page,
                plane,
                origin,
                chunk_width: chunk_width.min(page.width - origin.1),
                colour_map: &colour_map,
            };
            placed.put(&chunk_bytes(chunk), &mut out)?;
        }
    }
    let tensor = Tensor::from_le_bytes(page.height, page.width, page.channels, page.sample, out)
        .ok_or_else(|| refuse("fewer samples than its size"))?;
    Ok((tensor, icc))
}

/// Where each chunk's bytes are, for looking into JPEG chunks before they
/// are decoded.
struct JpegChunks {
    offsets: Vec<u64>,
    counts: Vec<u64>,
}

impl JpegChunks {
    fn read(decoder: &mut Decoder<Cursor<&[u8]>>, kind: ChunkType) -> Result<Self, RasterError> {
        let (offsets, counts) = match kind {
            ChunkType::Strip => (Tag::StripOffsets, Tag::StripByteCounts),
            ChunkType::Tile => (Tag::TileOffsets, Tag::TileByteCounts),
        };
        Ok(Self {
            offsets: decoder.get_tag_u64_vec(offsets).map_err(decode_error)?,
            counts: decoder.get_tag_u64_vec(counts).map_err(decode_error)?,
        })
    }

    /// The bytes of chunk `number`, as far as the file holds them.
    fn data<'a>(&self, file: &'a [u8], number: usize) -> &'a [u8] {
        let at = |v: &[u64]| {
            v.get(number)
                .map_or(0, |&x| usize::try_from(x).unwrap_or(usize::MAX))
        };
        let start = at(&self.offsets).min(file.len());
        let end = start.saturating_add(at(&self.counts)).min(file.len());
        &file[start..end]
    }
}

/// Height and width in a JPEG stream's frame header, found by walking its
/// marker segments from the start-of-image marker.
fn frame_size(data: &[u8]) -> Option<(usize, usize)> {
    let be16 = |at: usize| Some(u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]) as usize);
    if !data.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut at = 2usize;
    loop {
        while data.get(at + 1) == Some(&0xFF) && data.get(at) == Some(&0xFF) {
            at += 1;
        }
        if *data.get(at)? != 0xFF {
            return None;
        }
        match *data.get(at + 1)? {
            // Start of frame: every SOFn but DHT, JPG and DAC.
            m @ 0xC0..=0xCF if !matches!(m, 0xC4 | 0xC8 | 0xCC) => {
                return Some((be16(at + 5)?, be16(at + 7)?));
            }
            // Start of scan or end of image before any frame.
            0xDA | 0xD9 => return None,
            _ => at = at.checked_add(2 + be16(at + 2)?)?,
        }
    }
}

/// A decoded chunk's samples as little-endian bytes.
fn chunk_bytes(chunk: DecodingResult) -> Vec<u8> {
    fn le<T: Copy, const N: usize>(values: &[T], bytes: impl Fn(T) -> [u8; N]) -> Vec<u8> {
        values.iter().flat_map(|&v| bytes(v)).collect()
    }
    match chunk {
        DecodingResult::U8(v) => v,
        DecodingResult::I8(v) => v.iter().map(|&b| b as u8).collect(),
        DecodingResult::U16(v) => le(&v, u16::to_le_bytes),
        DecodingResult::I16(v) => le(&v, i16::to_le_bytes),
        DecodingResult::U32(v) => le(&v, u32::to_le_bytes),
        DecodingResult::I32(v) => le(&v, i32::to_le_bytes),
        DecodingResult::U64(v) => le(&v, u64::to_le_bytes),
        DecodingResult::I64(v) => le(&v, i64::to_le_bytes),
        DecodingResult::F16(v) => le(&v, |h| h.to_bits().to_le_bytes()),
        DecodingResult::F32(v) => le(&v, f32::to_le_bytes),
        DecodingResult::F64(v) => le(&v, f64::to_le_bytes),
    }
}

/// Where one decoded chunk goes in the tensor.
struct Placement<'a> {
    page: &'a Page,
    plane: usize,
    /// Row and column of the chunk's first sample.
    origin: (usize, usize),
    /// Columns of the chunk inside the image, which is what a decoded row
    /// holds: the `tiff` crate clips tiles at the right edge.
    chunk_width: usize,
    colour_map: &'a [u16],
}

impl Placement<'_> {
    fn put(&self, chunk: &[u8], out: &mut [u8]) -> Result<(), RasterError> {
        let page = self.page;
        let in_chunk = if page.planar { 1 } else { page.samples };
        // Rows of packed samples end on a byte boundary.
        let row_bytes = (self.chunk_width * usize::from(page.bits) * in_chunk).div_ceil(8);
        if row_bytes == 0 {
            return Err(refuse("a chunk with empty rows"));
        }
        let pixel_out = page.channels * page.sample.itemsize();
        for (r, row) in chunk.chunks_exact(row_bytes).enumerate() {
            let y = self.origin.0 + r;
            if y >= page.height {
                break;
            }
            let start = (y * page.width + self.origin.1) * pixel_out;
            let dest = &mut out[start..start + self.chunk_width * pixel_out];
            match page.convert {
                Convert::None if !page.planar => {
                    dest.copy_from_slice(&row[..dest.len()]);
                }
                Convert::None => {
                    let size = page.sample.itemsize();
                    for (x, sample) in row.chunks_exact(size).take(self.chunk_width).enumerate() {
                        let at = x * pixel_out + self.plane * size;
                        dest[at..at + size].copy_from_slice(sample);
                    }
                }
                Convert::ScaleGray => {
                    let max = (1u16 << page.bits) - 1;
                    for (x, d) in dest.iter_mut().enumerate() {
                        *d = (u16::from(packed(row, x, page.bits)) * 255 / max) as u8;
                    }
                }
                Convert::Palette => self.look_up(row, dest)?,
                Convert::Unpack12 => {
                    for (x, d) in dest.chunks_exact_mut(2).enumerate() {
                        d.copy_from_slice(&unpack12(row, x).to_le_bytes());
                    }
                }
                Convert::YCbCr => {
                    for (ycc, rgb) in row.chunks_exact(3).zip(dest.chunks_exact_mut(3)) {
                        rgb.copy_from_slice(&ycc_to_rgb(ycc[0], ycc[1], ycc[2]));
                    }
                }
                Convert::Cmyk => cmyk_to_rgb(row, dest),
            }
        }
        Ok(())
    }

    fn look_up(&self, row: &[u8], dest: &mut [u8]) -> Result<(), RasterError> {
        let entries = 1usize << self.page.bits;
        if self.colour_map.len() < 3 * entries {
            return Err(refuse(format!(
                "a colour map of {} values; {}-bit palettes need {}",
                self.colour_map.len(),
                self.page.bits,
                3 * entries
            )));
        }
        for (x, rgb) in dest.chunks_exact_mut(3).enumerate() {
            let index = usize::from(packed(row, x, self.page.bits));
            for (c, value) in rgb.iter_mut().enumerate() {
                // As Pillow reads TIFF colour maps: the high byte of each 16-bit entry.
                *value = (self.colour_map[c * entries + index] >> 8) as u8;
            }
        }
        Ok(())
    }
}

/// Sample `x` of a row of `bits`-bit samples packed from the high bit down.
fn packed(row: &[u8], x: usize, bits: u8) -> u8 {
    let bits = usize::from(bits);
    let bit = x * bits;
    let shift = 8 - bits - bit % 8;
    (row[bit / 8] >> shift) & ((1u16 << bits) - 1) as u8
}

/// Sample `x` of a row of 12-bit samples, packed from the high bit down.
fn unpack12(row: &[u8], x: usize) -> u16 {
    let at = x / 2 * 3;
    let byte = |i: usize| u16::from(row[at + i]);
    if x.is_multiple_of(2) {
        byte(0) << 4 | byte(1) >> 4
    } else {
        (byte(1) & 0x0F) << 8 | byte(2)
    }
}

/// JFIF YCbCr to RGB exactly as libjpeg's `ycc_rgb_convert` computes it:
/// 16-bit fixed-point coefficients, rounded, clamped to 0–255.
fn ycc_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    const fn fix(x: f64) -> i32 {
        (x * 65536.0 + 0.5) as i32
    }
    const HALF: i32 = 1 << 15;
    let (y, cb, cr) = (i32::from(y), i32::from(cb) - 128, i32::from(cr) - 128);
    let r = y + ((fix(1.402) * cr + HALF) >> 16);
    let g = y + ((-fix(0.34414) * cb - fix(0.71414) * cr + HALF) >> 16);
    let b = y + ((fix(1.772) * cb + HALF) >> 16);
    [r, g, b].map(|v| v.clamp(0, 255) as u8)
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

/// The file as the `tiff` crate can decode it: with the bits of every strip
/// or tile reversed when the page says FillOrder 2 (the first pixel in the
/// low bit of each byte), as libtiff reverses them; a palette page marked
/// gray, so that the crate returns its indices; and a 12-bit gray page
/// marked as 8-bit rows of the same bytes, which rcrop then unpacks.
fn decodable<'a>(
    bytes: &'a [u8],
    decoder: &mut Decoder<Cursor<&[u8]>>,
    page: &Page,
    predictor: u16,
) -> Result<Cow<'a, [u8]>, RasterError> {
    let mut copy = Cow::Borrowed(bytes);
    let fill_order = decoder
        .find_tag_unsigned::<u16>(Tag::FillOrder)
        .map_err(decode_error)?
        .unwrap_or(1);
    if fill_order == 2 {
        let (offsets, counts) = match decoder.get_chunk_type() {
            ChunkType::Strip => (Tag::StripOffsets, Tag::StripByteCounts),
            ChunkType::Tile => (Tag::TileOffsets, Tag::TileByteCounts),
        };
        let offsets = decoder.get_tag_u64_vec(offsets).map_err(decode_error)?;
        let counts = decoder.get_tag_u64_vec(counts).map_err(decode_error)?;
        let owned = copy.to_mut();
        for (&offset, &count) in offsets.iter().zip(&counts) {
            let chunk = usize::try_from(offset)
                .ok()
                .zip(usize::try_from(count).ok())
                .and_then(|(start, count)| owned.get_mut(start..start.checked_add(count)?))
                .ok_or_else(|| refuse("a strip or tile past the end of the file"))?;
            chunk.iter_mut().for_each(|b| *b = b.reverse_bits());
        }
    }
    match page.convert {
        Convert::Palette => ifd::patch(
            copy.to_mut(),
            Tag::PhotometricInterpretation,
            BLACK_IS_ZERO.into(),
        )?,
        Convert::Unpack12 => {
            if predictor != 1 {
                return Err(refuse("12-bit samples with a predictor are not read"));
            }
            let widen = |n: u32| (u64::from(n) * 12).div_ceil(8) as u32;
            let (tile_width, _) = decoder.chunk_dimensions();
            let owned = copy.to_mut();
            ifd::patch(owned, Tag::BitsPerSample, 8)?;
            ifd::patch(owned, Tag::ImageWidth, widen(page.width as u32))?;
            if decoder.get_chunk_type() == ChunkType::Tile {
                ifd::patch(owned, Tag::TileWidth, widen(tile_width))?;
            }
        }
        _ => {}
    }
    Ok(copy)
}

/// In-place edits of the first page's entries whose one value is held in
/// the entry itself (a SHORT or a LONG).
mod ifd {
    use super::{RasterError, Tag, refuse};

    pub(super) fn patch(bytes: &mut [u8], tag: Tag, value: u32) -> Result<(), RasterError> {
        let cannot = || refuse(format!("its {tag:?} entry cannot be read"));
        let big = match bytes.get(..2) {
            Some(b"MM") => true,
            Some(b"II") => false,
            _ => return Err(cannot()),
        };
        let int = |b: &[u8], at: usize, n: usize| -> Option<u64> {
            let field = b.get(at..at.checked_add(n)?)?;
            let fold = |acc: u64, &x: &u8| acc << 8 | u64::from(x);
            Some(if big {
                field.iter().fold(0, fold)
            } else {
                field.iter().rev().fold(0, fold)
            })
        };
        let bigtiff = int(bytes, 2, 2) == Some(43);
        let (offset, count_len, entry_len, count_at, value_at) = if bigtiff {
            (int(bytes, 8, 8), 8, 20, 4, 12)
        } else {
            (int(bytes, 4, 4), 2, 12, 4, 8)
        };
        let ifd = usize::try_from(offset.ok_or_else(cannot)?).map_err(|_| cannot())?;
        let entries = int(bytes, ifd, count_len).ok_or_else(cannot)?;
        for i in 0..entries.min(4096) as usize {
            let entry = ifd + count_len + i * entry_len;
            if int(bytes, entry, 2) != Some(u64::from(tag.to_u16())) {
                continue;
            }
            let size = match int(bytes, entry + 2, 2) {
                Some(3) => 2,
                Some(4) => 4,
                _ => return Err(cannot()),
            };
            let count_bytes = if bigtiff { 8 } else { 4 };
            if int(bytes, entry + count_at, count_bytes) != Some(1) {
                return Err(cannot());
            }
            let at = entry + value_at;
            let field = bytes.get_mut(at..at + size).ok_or_else(cannot)?;
            let value = u64::from(value).to_be_bytes();
            field.copy_from_slice(&value[8 - size..]);
            if !big {
                field.reverse();
            }
            return Ok(());
        }
        Err(cannot())
    }
}

/// The types TIFF output holds, as the `tiff` crate writes them.
pub(super) const HOLDS: &str = "gray of any sample type rcrop reads but float16; RGB or RGBA of \
     8-, 16- or 32-bit unsigned integers or float32/64 (no gray+alpha)";
