//! TIFF as scientists and scanners write it, on the `tiff` crate's chunk
//! reader: every chunk (strip or tile, of every plane) is decoded by the
//! crate and placed here, so separate planes, tiles that straddle the
//! edges, samples of any depth packed in any number of bands, palettes and
//! every sample format come out as samples of the matching [`SampleType`]. FillOrder 2 is undone on the raw
//! chunk bytes before decoding, as libtiff does. The first page is read.
//!
//! The page is read a window at a time ([`source`]): only the strips and
//! tiles a window touches are decoded, one row of them at a time, and the
//! whole image ([`decode`]) is the window of all its rows and columns.

use std::io::{Cursor, Read, Seek, SeekFrom};

use tiff::TiffError;
use tiff::decoder::{ChunkType, Decoder};
use tiff::tags::Tag;

use super::jpeg_chunks::JpegChunks;
use super::old_lzw;
use super::page::{Convert, JPEG, Page, WHITE_IS_ZERO, limits};
use super::patch::{Patched, decodable};
use super::place::{Placement, convert};
use super::raw::RawChunks;
use super::ycbcr::YCbCr;
use crate::raster::Decoded;
use crate::raster::RasterError;
use crate::raster::rows::{RowFn, RowSource, RowsInfo, StreamError, Window, read_whole};
use crate::tensor::SampleType;

const NAME: &str = "TIFF";
/// Compression CCITT Group 4 and LZW.
const GROUP_4: u16 = 4;
const LZW: u16 = 5;

pub(super) fn decode_error(e: TiffError) -> RasterError {
    RasterError::Tiff { why: e.to_string() }
}

pub(super) fn refuse(why: impl Into<String>) -> RasterError {
    RasterError::Tiff { why: why.into() }
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
    /// Where LZW strips are, to tell old-style ones.
    lzw: Option<RawChunks>,
    predictor: u16,
    ycbcr: Option<YCbCr>,
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
        let ycbcr = match page.convert {
            Convert::YCbCr => Some(YCbCr::read(&mut original)?),
            _ => None,
        };
        let icc = original.get_tag_u8_vec(Tag::IccProfile).ok();
        let (chunk_width, chunk_height) = original.chunk_dimensions();
        let (chunk_width, chunk_height) = (chunk_width as usize, chunk_height as usize);
        if chunk_width == 0 || chunk_height == 0 {
            return Err(refuse("a strip or tile of size 0"));
        }
        // The Group 4 decoder counts a strip's columns and rows in 16 bits.
        let fax_side = chunk_width.max(chunk_height.min(page.height));
        if page.compression == GROUP_4 && fax_side > usize::from(u16::MAX) {
            return Err(refuse(format!(
                "CCITT Group 4 strips or tiles of {fax_side} pixels a side are not read; the \
                 Group 4 decoder rcrop uses reads at most 65535"
            )));
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
            JPEG => Some(JpegChunks::read(&mut decoder, kind, &page)?),
            _ => None,
        };
        let lzw = match page.compression {
            LZW => Some(RawChunks::read(&mut decoder, kind)?),
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
            lzw,
            predictor,
            ycbcr,
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
        // Separate planes to convert are gathered as stored first.
        let staged = planes > 1 && self.page.convert != Convert::None;
        let band_line = match staged {
            true => window.cols.len() * self.page.stored_pixel(),
            false => line,
        };
        let band_rows = if direct {
            1
        } else {
            chunk_height.min(window.rows.len())
        };
        let band_len = (band_rows as u64).saturating_mul(band_line as u64);
        if band_len > self.limit {
            return Err(self.over_limit().into());
        }
        let mut band = vec![0u8; band_len as usize];
        let mut converted = vec![0u8; if staged { line } else { 0 }];
        let mut scratch = Vec::new();
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
                        ycbcr: self.ycbcr.as_ref(),
                    };
                    for y in kept.clone() {
                        let at = if direct {
                            0
                        } else {
                            (y - kept.start) * band_line
                        };
                        let dest = &mut band[at..at + band_line];
                        placed.put_row(&self.chunk, y, &window.cols, dest, &mut scratch)?;
                        if direct {
                            row(dest)?;
                        }
                    }
                }
            }
            if !direct {
                for kept_row in band.chunks_exact(band_line).take(kept.len()) {
                    if staged {
                        convert(&self.page, &self.color_map, kept_row, &mut converted)?;
                        row(&converted)?;
                    } else {
                        row(kept_row)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Decodes chunk `number`, whose first pixel is at `origin`, into
    /// `self.chunk`: its samples as little-endian bytes.
    fn decode_chunk(&mut self, number: usize, origin: (usize, usize)) -> Result<(), RasterError> {
        if let Some(chunks) = &self.jpeg_chunks {
            let (w, h, samples) = chunks.decode(self.decoder.inner(), number, self.limit)?;
            return self.place_jpeg(number, origin, (w, h), samples);
        }
        let index = number;
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
        if let Some(raw) = &self.lzw {
            let file = self.decoder.inner();
            if old_lzw::is_old_style(&raw.bytes(file, index, 2, self.limit)?) {
                return self.old_lzw(index);
            }
        }
        self.decoder
            .read_chunk_bytes(number, &mut self.chunk)
            .map_err(decode_error)?;
        if cfg!(target_endian = "big") && self.page.whole_bytes() {
            let size = self.page.stored.itemsize();
            self.chunk
                .chunks_exact_mut(size)
                .for_each(|sample| sample.reverse());
        }
        Ok(())
    }

    /// Decodes strip `number`, old-style LZW, into `self.chunk`, sized
    /// for its rows: strips only (tiles came with TIFF 6), no predictor,
    /// samples of at most 8 bits, as the files that use it hold.
    fn old_lzw(&mut self, number: usize) -> Result<(), RasterError> {
        let page = &self.page;
        if self.kind == ChunkType::Tile || self.predictor != 1 || page.bits > 8 {
            return Err(refuse(format!(
                "old-style LZW in {} with Predictor {} and {}-bit samples is not read",
                if self.kind == ChunkType::Tile {
                    "tiles"
                } else {
                    "strips"
                },
                self.predictor,
                page.bits
            )));
        }
        let data = self.lzw.as_ref().map_or(Ok(Vec::new()), |raw| {
            raw.bytes(self.decoder.inner(), number, u64::MAX, self.limit)
        })?;
        old_lzw::decode(&data, &mut self.chunk)?;
        // What the crate does for a gray page of WhiteIsZero.
        if page.photometric == WHITE_IS_ZERO && page.samples == 1 {
            self.chunk.iter_mut().for_each(|b| *b = !*b);
        }
        Ok(())
    }

    /// Keeps a decoded JPEG chunk as [`Placement`] reads chunks: rows of
    /// the chunk's columns inside the image. What libtiff's JPEGPreDecode
    /// checks first: the frame is the size of the chunk (a strip's may stop
    /// at the image's last row), or libjpeg would be asked for more pixels
    /// than the chunk holds, or fewer.
    fn place_jpeg(
        &mut self,
        number: usize,
        origin: (usize, usize),
        (w, h): (usize, usize),
        mut samples: Vec<u8>,
    ) -> Result<(), RasterError> {
        let (kind, width, heights) = match self.kind {
            ChunkType::Tile => ("tile", self.chunk_width, [self.chunk_height; 2]),
            ChunkType::Strip => (
                "strip",
                self.page.width,
                [
                    self.chunk_height,
                    self.chunk_height.min(self.page.height - origin.0),
                ],
            ),
        };
        if w != width || !heights.contains(&h) {
            return Err(refuse(format!(
                "{kind} {number} holds a {w}x{h} JPEG image where the {kind} is {width}x{}",
                heights[1]
            )));
        }
        let pixel = self.page.in_chunk();
        let kept = width.min(self.page.width - origin.1) * pixel;
        if kept < width * pixel {
            for row in 1..h {
                samples.copy_within(row * width * pixel..row * width * pixel + kept, row * kept);
            }
            samples.truncate(h * kept);
        }
        self.chunk = samples;
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
pub(super) fn chunk_tags(kind: ChunkType) -> (Tag, Tag) {
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
