//! TIFF as scientists and scanners write it, on the `tiff` crate's chunk
//! reader: every chunk (strip or tile, of every plane) is decoded by the
//! crate and placed here, so separate planes, tiles that straddle the
//! edges, sub-byte gray, palettes and every sample format come out as
//! samples of the matching [`SampleType`]. FillOrder 2 is undone on the raw
//! chunk bytes before decoding, as libtiff does. The first page is read.
//!
//! The page is read a window at a time ([`source`]): only the strips and
//! tiles a window touches are decoded, one row of them at a time, and the
//! whole image ([`decode`]) is the window of all its rows and columns.

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::ops::Range;

use tiff::decoder::{ChunkType, Decoder, Limits};
use tiff::tags::{PlanarConfiguration, SampleFormat, Tag};
use tiff::{ColorType, TiffError};

use crate::raster::Decoded;
use crate::raster::RasterError;
use crate::raster::rows::{RowFn, RowSource, RowsInfo, StreamError, Window, read_whole};
use crate::tensor::SampleType;

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
    /// Palette indices of `bits` bits, looked up in the color map.
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
    fn read<R: Read + Seek>(decoder: &mut Decoder<R>) -> Result<Self, RasterError> {
        let (width, height) = decoder.dimensions().map_err(decode_error)?;
        let photometric = decoder
            .find_tag_unsigned::<u16>(Tag::PhotometricInterpretation)
            .map_err(decode_error)?;
        let compression = decoder
            .find_tag_unsigned::<u16>(Tag::Compression)
            .map_err(decode_error)?
            .unwrap_or(1);
        let color = match photometric {
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
        let bits = match color {
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
        let (channels, sample, convert) = match color {
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
            return Err(refuse(format!("{color:?} in separate planes is not read")));
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

/// The `tiff` crate's limits: no buffer larger than `limit` bytes.
fn limits(limit: u64) -> Limits {
    let mut limits = Limits::default();
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    limits.decoding_buffer_size = limit;
    limits.intermediate_buffer_size = limit;
    limits
}

fn open(bytes: &[u8], limit: u64) -> Result<Decoder<Cursor<&[u8]>>, RasterError> {
    Ok(Decoder::new(Cursor::new(bytes))
        .map_err(decode_error)?
        .with_limits(limits(limit)))
}

/// Height, width, channels and sample type, from the first page's tags.
pub(in crate::raster) fn probe(
    bytes: &[u8],
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    let mut decoder = open(bytes, limit)?;
    let page = Page::read(&mut decoder)?;
    check_limit(&page, limit)?;
    Ok((page.height, page.width, page.channels, page.sample))
}

fn check_limit(page: &Page, limit: u64) -> Result<(), RasterError> {
    RasterError::check_limit(NAME, page.decoded_len().into(), limit)
}

/// Decodes the first page, with its ICC profile: every row of
/// [`source`]'s, so the whole image and a window of it cannot differ.
pub(in crate::raster) fn decode(bytes: &[u8], limit: u64) -> Result<Decoded, RasterError> {
    let mut rows = TiffRows::open(Cursor::new(bytes), limit, true)?;
    let capacity = rows.page.decoded_len() as usize;
    let tensor = read_whole(&mut rows, NAME, capacity)?;
    Ok((tensor, rows.info.icc.take()).into())
}

/// The first page read a window at a time: only the strips or tiles a
/// window's rows and columns touch are decoded, one row of them at a time
/// (every plane's, when the planes are separate), and each is converted as
/// [`decode`] converts it. The TIFF starts at the start of `input`, which
/// is best buffered: the decoder reads it in small pieces.
///
/// Holds one strip or one tile, and one row of tiles cut to the window's
/// columns; refuses with [`RasterError::Limit`] when either would pass
/// `limit` bytes.
pub(in crate::raster) fn source<'a, R: Read + Seek + Send + 'a>(
    input: R,
    limit: u64,
) -> Result<Box<dyn RowSource + 'a>, RasterError> {
    Ok(Box::new(TiffRows::open(input, limit, false)?))
}

struct TiffRows<R: Read + Seek> {
    decoder: Decoder<Patched<R>>,
    page: Page,
    info: RowsInfo,
    limit: u64,
    color_map: Vec<u16>,
    kind: ChunkType,
    /// Width and height of a strip or tile, in pixels.
    chunk_width: usize,
    chunk_height: usize,
    /// Chunks in one row of chunks, and in one plane.
    across: usize,
    per_plane: usize,
    jpeg_chunks: Option<JpegChunks>,
    /// One decoded chunk, reused.
    chunk: Vec<u8>,
}

impl<R: Read + Seek> TiffRows<R> {
    /// Reads the first page's tags; with `whole`, refuses a page whose
    /// decoded size passes `limit` before anything else.
    fn open(mut input: R, limit: u64, whole: bool) -> Result<Self, RasterError> {
        let file_len = input
            .seek(SeekFrom::End(0))
            .map_err(|e| refuse(e.to_string()))?;
        let mut file = Patched::new(input).map_err(|e| refuse(e.to_string()))?;
        let mut original = Decoder::new(&mut file)
            .map_err(decode_error)?
            .with_limits(limits(limit));
        let page = Page::read(&mut original)?;
        if whole {
            check_limit(&page, limit)?;
        }
        let color_map = match page.convert {
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
        let kind = original.get_chunk_type();
        check_chunks_inside(&mut original, kind, file_len)?;
        let across = page.width.div_ceil(chunk_width);
        let per_plane = match kind {
            ChunkType::Strip => page.height.div_ceil(chunk_height),
            ChunkType::Tile => across * page.height.div_ceil(chunk_height),
        };
        let predictor = original
            .find_tag_unsigned::<u16>(Tag::Predictor)
            .map_err(decode_error)?
            .unwrap_or(1);
        let edits = decodable(&mut original, &page, predictor)?;
        drop(original);
        edits.apply(&mut file)?;
        let mut decoder = Decoder::new(file)
            .map_err(decode_error)?
            .with_limits(limits(limit));
        let jpeg_chunks = match page.compression {
            JPEG => Some(JpegChunks::read(&mut decoder, kind)?),
            _ => None,
        };
        let info = RowsInfo {
            width: page.width,
            height: page.height,
            channels: page.channels,
            sample: page.sample,
            icc,
        };
        let rows = Self {
            decoder,
            page,
            info,
            limit,
            color_map,
            kind,
            chunk_width,
            chunk_height,
            across,
            per_plane,
            jpeg_chunks,
            chunk: Vec::new(),
        };
        rows.check_chunk_size()?;
        Ok(rows)
    }

    /// Refuses a page one of whose chunks, decoded, would pass the limit.
    /// The `tiff` crate decodes no padding past the image's edges: one
    /// strip of RowsPerStrip 2³²−1 is the image's height.
    fn check_chunk_size(&self) -> Result<(), RasterError> {
        let in_chunk = if self.page.planar {
            1
        } else {
            self.page.samples
        };
        let (width, height) = (
            self.chunk_width.min(self.page.width) as u64,
            self.chunk_height.min(self.page.height) as u64,
        );
        let row = (width * u64::from(self.page.bits) * in_chunk as u64).div_ceil(8);
        if row.saturating_mul(height) > self.limit {
            return Err(self.over_limit());
        }
        Ok(())
    }

    fn over_limit(&self) -> RasterError {
        RasterError::Limit {
            format: NAME,
            limit_mib: self.limit >> 20,
        }
    }

    fn read(&mut self, window: &Window, row: &mut RowFn<'_>) -> Result<(), StreamError> {
        let (width, height) = (self.page.width, self.page.height);
        window.check_inside(width, height)?;
        if window.rows.is_empty() || window.cols.is_empty() {
            return Ok(());
        }
        let (chunk_width, chunk_height) = (self.chunk_width, self.chunk_height);
        let columns = match self.kind {
            ChunkType::Strip => 0..1,
            ChunkType::Tile => {
                window.cols.start / chunk_width..window.cols.end.div_ceil(chunk_width)
            }
        };
        let planes = if self.page.planar {
            self.page.samples
        } else {
            1
        };
        // One chunk covers the window's columns: its rows go out one by one.
        let direct = planes == 1 && columns.len() == 1;
        let line = window.cols.len() * self.info.pixel_len();
        let band_rows = if direct {
            1
        } else {
            chunk_height.min(window.rows.len())
        };
        let band_len = (band_rows as u64).saturating_mul(line as u64);
        if band_len > self.limit {
            return Err(self.over_limit().into());
        }
        let mut band = vec![0u8; band_len as usize];
        let bands = window.rows.start / chunk_height..window.rows.end.div_ceil(chunk_height);
        for band_index in bands {
            let top = band_index * chunk_height;
            let kept = top.max(window.rows.start)..(top + chunk_height).min(window.rows.end);
            for plane in 0..planes {
                for column in columns.clone() {
                    let number = plane * self.per_plane + band_index * self.across + column;
                    let origin = (top, column * chunk_width);
                    self.decode_chunk(number, origin)?;
                    let placed = Placement {
                        page: &self.page,
                        plane,
                        origin,
                        chunk_width: chunk_width.min(width - origin.1),
                        color_map: &self.color_map,
                    };
                    for y in kept.clone() {
                        let at = if direct { 0 } else { (y - kept.start) * line };
                        let dest = &mut band[at..at + line];
                        placed.put_row(&self.chunk, y, &window.cols, dest)?;
                        if direct {
                            row(dest)?;
                        }
                    }
                }
            }
            if !direct {
                for kept_row in band.chunks_exact(line).take(kept.len()) {
                    row(kept_row)?;
                }
            }
        }
        Ok(())
    }

    /// Decodes chunk `number`, whose first pixel is at `origin`, into
    /// `self.chunk`: its samples as little-endian bytes.
    fn decode_chunk(&mut self, number: usize, origin: (usize, usize)) -> Result<(), RasterError> {
        if let Some(chunks) = &self.jpeg_chunks {
            // What libtiff's JPEGPreDecode checks: a chunk's JPEG frame is
            // the size of the chunk, or the decoder would be asked for more
            // pixels than the chunk holds (or fewer).
            let (width, heights) = match self.kind {
                ChunkType::Tile => (self.chunk_width, [self.chunk_height; 2]),
                ChunkType::Strip => (
                    self.page.width,
                    [
                        self.chunk_height,
                        self.chunk_height.min(self.page.height - origin.0),
                    ],
                ),
            };
            let frame = chunks.frame_size(self.decoder.inner(), number);
            if !frame.is_some_and(|(h, w)| w == width && heights.contains(&h)) {
                let found = frame.map_or("no readable frame header".into(), |(h, w)| {
                    format!("a {w}x{h} JPEG image")
                });
                let kind = match self.kind {
                    ChunkType::Tile => "tile",
                    ChunkType::Strip => "strip",
                };
                return Err(refuse(format!(
                    "{kind} {number} holds {found} where the {kind} is {width}x{}",
                    heights[1]
                )));
            }
        }
        let number =
            u32::try_from(number).map_err(|_| refuse("more strips or tiles than TIFF holds"))?;
        let layout = self
            .decoder
            .image_chunk_buffer_layout(number)
            .map_err(decode_error)?;
        if layout.len as u64 > self.limit {
            return Err(self.over_limit());
        }
        self.chunk.resize(layout.len, 0);
        self.decoder
            .read_chunk_bytes(number, &mut self.chunk)
            .map_err(decode_error)?;
        if cfg!(target_endian = "big") && self.page.convert == Convert::None {
            let size = self.page.sample.itemsize();
            self.chunk
                .chunks_exact_mut(size)
                .for_each(|sample| sample.reverse());
        }
        Ok(())
    }
}

impl<R: Read + Seek + Send> RowSource for TiffRows<R> {
    fn info(&self) -> &RowsInfo {
        &self.info
    }

    fn read_window(&mut self, window: &Window, row: &mut RowFn<'_>) -> Result<(), StreamError> {
        self.read(window, row)
    }
}

/// The tags holding where the strips or tiles lie and how long they are.
fn chunk_tags(kind: ChunkType) -> (Tag, Tag) {
    match kind {
        ChunkType::Strip => (Tag::StripOffsets, Tag::StripByteCounts),
        ChunkType::Tile => (Tag::TileOffsets, Tag::TileByteCounts),
    }
}

/// Refuses a page one of whose strips or tiles does not lie inside its
/// file of `file_len` bytes. Only the chunks a crop touches are decoded, so
/// their tables are checked up front: a file cut short fails whatever the
/// crop.
fn check_chunks_inside<R: Read + Seek>(
    decoder: &mut Decoder<R>,
    kind: ChunkType,
    file_len: u64,
) -> Result<(), RasterError> {
    let (offsets, counts) = chunk_tags(kind);
    let offsets = decoder.get_tag_u64_vec(offsets).map_err(decode_error)?;
    let counts = decoder.get_tag_u64_vec(counts).map_err(decode_error)?;
    let what = match kind {
        ChunkType::Strip => "strip",
        ChunkType::Tile => "tile",
    };
    if offsets.len() != counts.len() {
        return Err(RasterError::Damaged {
            format: NAME,
            why: format!(
                "it gives {} {what} offsets for {} byte counts",
                offsets.len(),
                counts.len()
            ),
        });
    }
    for (number, (&at, &len)) in offsets.iter().zip(&counts).enumerate() {
        if at.checked_add(len).is_none_or(|end| end > file_len) {
            return Err(RasterError::Damaged {
                format: NAME,
                why: format!(
                    "its {what} {number} takes {len} bytes from byte {at}, past the \
                     file's end at byte {file_len}"
                ),
            });
        }
    }
    Ok(())
}

/// Where each chunk's bytes are, for looking into JPEG chunks before they
/// are decoded.
struct JpegChunks {
    offsets: Vec<u64>,
    counts: Vec<u64>,
}

impl JpegChunks {
    fn read<R: Read + Seek>(
        decoder: &mut Decoder<R>,
        kind: ChunkType,
    ) -> Result<Self, RasterError> {
        let (offsets, counts) = chunk_tags(kind);
        Ok(Self {
            offsets: decoder.get_tag_u64_vec(offsets).map_err(decode_error)?,
            counts: decoder.get_tag_u64_vec(counts).map_err(decode_error)?,
        })
    }

    /// Height and width in the frame header of chunk `number`'s JPEG
    /// stream, as far as the file holds it.
    fn frame_size(&self, file: &mut (impl Read + Seek), number: usize) -> Option<(usize, usize)> {
        /// Bytes read at once: the frame header is rarely further in.
        const PREFIX: u64 = 4096;
        let start = *self.offsets.get(number).unwrap_or(&0);
        let len = *self.counts.get(number).unwrap_or(&0);
        let mut prefix = Vec::new();
        file.seek(SeekFrom::Start(start)).ok()?;
        file.by_ref()
            .take(len.min(PREFIX))
            .read_to_end(&mut prefix)
            .ok()?;
        frame_size(|at, buf| {
            let end = at.checked_add(buf.len() as u64)?;
            if end > len {
                return None;
            }
            if let Some(held) = prefix.get(at as usize..end as usize) {
                buf.copy_from_slice(held);
                return Some(());
            }
            file.seek(SeekFrom::Start(start.checked_add(at)?)).ok()?;
            file.read_exact(buf).ok()
        })
    }
}

/// Height and width in a JPEG stream's frame header, found by walking its
/// marker segments from the start-of-image marker; `read(at, buf)` fills
/// `buf` with the stream's bytes from `at`, or fails past its end.
fn frame_size(mut read: impl FnMut(u64, &mut [u8]) -> Option<()>) -> Option<(usize, usize)> {
    let mut byte = |at: u64| {
        let mut one = [0u8; 1];
        read(at, &mut one).map(|()| one[0])
    };
    if byte(0)? != 0xFF || byte(1)? != 0xD8 {
        return None;
    }
    let mut at = 2u64;
    loop {
        while byte(at + 1) == Some(0xFF) && byte(at) == Some(0xFF) {
            at += 1;
        }
        if byte(at)? != 0xFF {
            return None;
        }
        let marker = byte(at + 1)?;
        let mut be16 = |at: u64| Some(u64::from(u16::from_be_bytes([byte(at)?, byte(at + 1)?])));
        match marker {
            // Start of frame: every SOFn but DHT, JPG and DAC.
            m @ 0xC0..=0xCF if !matches!(m, 0xC4 | 0xC8 | 0xCC) => {
                return Some((be16(at + 5)? as usize, be16(at + 7)? as usize));
            }
            // Start of scan or end of image before any frame.
            0xDA | 0xD9 => return None,
            _ => at = at.checked_add(2 + be16(at + 2)?)?,
        }
    }
}

/// Where one decoded chunk's samples go in the rows of a window.
struct Placement<'a> {
    page: &'a Page,
    plane: usize,
    /// Row and column of the chunk's first sample.
    origin: (usize, usize),
    /// Columns of the chunk inside the image, which is what a decoded row
    /// holds: the `tiff` crate clips tiles at the right edge.
    chunk_width: usize,
    color_map: &'a [u16],
}

impl Placement<'_> {
    /// Converts image row `y` of the chunk, as far as it lies in `cols`,
    /// into `dest`, the row of the window's columns.
    fn put_row(
        &self,
        chunk: &[u8],
        y: usize,
        cols: &Range<usize>,
        dest: &mut [u8],
    ) -> Result<(), RasterError> {
        let page = self.page;
        let in_chunk = if page.planar { 1 } else { page.samples };
        // Rows of packed samples end on a byte boundary.
        let row_bytes = (self.chunk_width * usize::from(page.bits) * in_chunk).div_ceil(8);
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
        let pixel_out = page.channels * page.sample.itemsize();
        let at = (first - cols.start) * pixel_out;
        let dest = &mut dest[at..at + xs.len() * pixel_out];
        match page.convert {
            Convert::None if !page.planar => {
                dest.copy_from_slice(&row[xs.start * pixel_out..xs.end * pixel_out]);
            }
            Convert::None => {
                let size = page.sample.itemsize();
                let samples = row[xs.start * size..xs.end * size].chunks_exact(size);
                for (x, sample) in samples.enumerate() {
                    let at = x * pixel_out + self.plane * size;
                    dest[at..at + size].copy_from_slice(sample);
                }
            }
            Convert::ScaleGray => {
                let max = (1u16 << page.bits) - 1;
                for (x, d) in xs.zip(dest.iter_mut()) {
                    *d = (u16::from(packed(row, x, page.bits)) * 255 / max) as u8;
                }
            }
            Convert::Palette => self.look_up(row, xs, dest)?,
            Convert::Unpack12 => {
                for (x, d) in xs.zip(dest.chunks_exact_mut(2)) {
                    d.copy_from_slice(&unpack12(row, x).to_le_bytes());
                }
            }
            Convert::YCbCr => {
                let ycc = row[xs.start * 3..xs.end * 3].chunks_exact(3);
                for (ycc, rgb) in ycc.zip(dest.chunks_exact_mut(3)) {
                    rgb.copy_from_slice(&ycc_to_rgb(ycc[0], ycc[1], ycc[2]));
                }
            }
            Convert::Cmyk => cmyk_to_rgb(&row[xs.start * 4..xs.end * 4], dest),
        }
        Ok(())
    }

    fn look_up(&self, row: &[u8], xs: Range<usize>, dest: &mut [u8]) -> Result<(), RasterError> {
        let entries = 1usize << self.page.bits;
        if self.color_map.len() < 3 * entries {
            return Err(refuse(format!(
                "a color map of {} values; {}-bit palettes need {}",
                self.color_map.len(),
                self.page.bits,
                3 * entries
            )));
        }
        for (x, rgb) in xs.zip(dest.chunks_exact_mut(3)) {
            let index = usize::from(packed(row, x, self.page.bits));
            for (c, value) in rgb.iter_mut().enumerate() {
                // As Pillow reads TIFF color maps: the high byte of each 16-bit entry.
                *value = (self.color_map[c * entries + index] >> 8) as u8;
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

/// What the `tiff` crate must see differently to decode the page: the bits
/// of every strip or tile reversed when the page says FillOrder 2 (the
/// first pixel in the low bit of each byte), as libtiff reverses them; a
/// palette page marked gray, so that the crate returns its indices; and a
/// 12-bit gray page marked as 8-bit rows of the same bytes, which rcrop
/// then unpacks.
struct Edits {
    /// Offsets and byte counts of the chunks whose bits are reversed.
    reversed: Vec<(u64, u64)>,
    /// Entries of the first page given a new value.
    tags: Vec<(Tag, u32)>,
}

fn decodable<R: Read + Seek>(
    decoder: &mut Decoder<R>,
    page: &Page,
    predictor: u16,
) -> Result<Edits, RasterError> {
    let mut edits = Edits {
        reversed: Vec::new(),
        tags: Vec::new(),
    };
    let fill_order = decoder
        .find_tag_unsigned::<u16>(Tag::FillOrder)
        .map_err(decode_error)?
        .unwrap_or(1);
    if fill_order == 2 {
        let (offsets, counts) = chunk_tags(decoder.get_chunk_type());
        let offsets = decoder.get_tag_u64_vec(offsets).map_err(decode_error)?;
        let counts = decoder.get_tag_u64_vec(counts).map_err(decode_error)?;
        edits.reversed = offsets.into_iter().zip(counts).collect();
    }
    match page.convert {
        Convert::Palette => edits
            .tags
            .push((Tag::PhotometricInterpretation, BLACK_IS_ZERO.into())),
        Convert::Unpack12 => {
            if predictor != 1 {
                return Err(refuse("12-bit samples with a predictor are not read"));
            }
            let widen = |n: u32| (u64::from(n) * 12).div_ceil(8) as u32;
            let (tile_width, _) = decoder.chunk_dimensions();
            edits.tags.push((Tag::BitsPerSample, 8));
            edits.tags.push((Tag::ImageWidth, widen(page.width as u32)));
            if decoder.get_chunk_type() == ChunkType::Tile {
                edits.tags.push((Tag::TileWidth, widen(tile_width)));
            }
        }
        _ => {}
    }
    Ok(edits)
}

impl Edits {
    /// Makes `file` read as edited, from its start.
    fn apply<R: Read + Seek>(self, file: &mut Patched<R>) -> Result<(), RasterError> {
        let io = |e: std::io::Error| refuse(e.to_string());
        let len = file.seek(SeekFrom::End(0)).map_err(io)?;
        let mut reversed = Vec::with_capacity(self.reversed.len());
        for (offset, count) in self.reversed {
            let end = offset
                .checked_add(count)
                .filter(|&end| end <= len)
                .ok_or_else(|| refuse("a strip or tile past the end of the file"))?;
            reversed.push(offset..end);
        }
        file.reverse(reversed);
        for (tag, value) in self.tags {
            let (at, bytes) = ifd::patch(file, tag, value)?;
            file.replace(at, bytes);
        }
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        Ok(())
    }
}

/// A file read with some of its bytes changed, without copying it: bit
/// reversed ranges, then bytes replaced at given offsets.
struct Patched<R> {
    inner: R,
    pos: u64,
    /// Sorted and disjoint.
    reversed: Vec<Range<u64>>,
    replaced: Vec<(u64, Vec<u8>)>,
}

impl<R: Read + Seek> Patched<R> {
    fn new(mut inner: R) -> std::io::Result<Self> {
        inner.seek(SeekFrom::Start(0))?;
        Ok(Self {
            inner,
            pos: 0,
            reversed: Vec::new(),
            replaced: Vec::new(),
        })
    }

    fn reverse(&mut self, mut ranges: Vec<Range<u64>>) {
        ranges.retain(|r| !r.is_empty());
        ranges.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        self.reversed = merged;
    }

    fn replace(&mut self, at: u64, bytes: Vec<u8>) {
        self.replaced.push((at, bytes));
    }
}

impl<R: Read> Read for Patched<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let start = self.pos;
        let end = start + n as u64;
        let first = self.reversed.partition_point(|r| r.end <= start);
        for r in self.reversed[first..].iter().take_while(|r| r.start < end) {
            let from = (r.start.max(start) - start) as usize;
            let to = (r.end.min(end) - start) as usize;
            buf[from..to].iter_mut().for_each(|b| *b = b.reverse_bits());
        }
        for (at, bytes) in &self.replaced {
            let (from, to) = ((*at).max(start), (at + bytes.len() as u64).min(end));
            if from < to {
                buf[(from - start) as usize..(to - start) as usize]
                    .copy_from_slice(&bytes[(from - at) as usize..(to - at) as usize]);
            }
        }
        self.pos = end;
        Ok(n)
    }
}

impl<R: Seek> Seek for Patched<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.pos = self.inner.seek(pos)?;
        Ok(self.pos)
    }
}

/// Edits of the first page's entries whose one value is held in the entry
/// itself (a SHORT or a LONG).
mod ifd {
    use std::io::{Read, Seek, SeekFrom};

    use super::{RasterError, Tag, refuse};

    /// Where the value of `tag`'s entry is, and the bytes that give it
    /// `value`.
    pub(super) fn patch(
        file: &mut (impl Read + Seek),
        tag: Tag,
        value: u32,
    ) -> Result<(u64, Vec<u8>), RasterError> {
        let cannot = || refuse(format!("its {tag:?} entry cannot be read"));
        let mut read = |at: u64, len: usize| -> Option<Vec<u8>> {
            file.seek(SeekFrom::Start(at)).ok()?;
            let mut out = Vec::with_capacity(len);
            file.by_ref().take(len as u64).read_to_end(&mut out).ok()?;
            Some(out)
        };
        let head = read(0, 16).ok_or_else(cannot)?;
        let big = match head.get(..2) {
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
        let bigtiff = int(&head, 2, 2) == Some(43);
        let (offset, count_len, entry_len, count_at, value_at) = if bigtiff {
            (int(&head, 8, 8), 8, 20, 4, 12)
        } else {
            (int(&head, 4, 4), 2, 12, 4, 8)
        };
        let ifd = offset.ok_or_else(cannot)?;
        let count = read(ifd, count_len).ok_or_else(cannot)?;
        let entries = int(&count, 0, count_len).ok_or_else(cannot)?.min(4096) as usize;
        let first = ifd.checked_add(count_len as u64).ok_or_else(cannot)?;
        let table = read(first, entries * entry_len).ok_or_else(cannot)?;
        for (index, entry) in table.chunks_exact(entry_len).enumerate() {
            if int(entry, 0, 2) != Some(u64::from(tag.to_u16())) {
                continue;
            }
            let size = match int(entry, 2, 2) {
                Some(3) => 2,
                Some(4) => 4,
                _ => return Err(cannot()),
            };
            let count_bytes = if bigtiff { 8 } else { 4 };
            if int(entry, count_at, count_bytes) != Some(1) {
                return Err(cannot());
            }
            let value = u64::from(value).to_be_bytes();
            let mut field = value[8 - size..].to_vec();
            if !big {
                field.reverse();
            }
            let at = first + (index * entry_len + value_at) as u64;
            return Ok((at, field));
        }
        Err(cannot())
    }
}
