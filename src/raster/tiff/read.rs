//! TIFF as scientists and scanners write it, on the `tiff` crate's chunk
//! reader: every chunk (strip or tile, of every plane) is decoded by the
//! crate and placed here, so separate planes, tiles that straddle the
//! edges, samples of any depth packed in any number of bands, palettes and
//! every sample format come out as samples of the matching [`SampleType`]. FillOrder 2 is undone on the raw
//! chunk bytes before decoding, as libtiff does. The first page is read.
//!
//! The page is read a window at a time ([`source`]): only the strips and
//! tiles a window touches are decoded, on every core, a few ahead of the
//! one placed in the rows, and the whole image ([`decode`]) is the window
//! of all its rows and columns.

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::sync::Arc;

use tiff::TiffError;
use tiff::decoder::{ChunkType, Decoder};
use tiff::tags::Tag;

use super::ahead::Ahead;
use super::chunk::{ChunkCodec, Decoders};
use super::direct::Direct;
use super::jpeg_chunks::JpegChunks;
use super::page::{Convert, JPEG, Page, limits};
use super::patch::{Patched, decodable};
use super::place::{Placement, convert};
use super::raw::RawChunks;
use super::shared::{At, Shared};
use super::tables::{Listed, fit};
use super::ycbcr::YCbCr;
use crate::raster::rows::{RowFn, RowSource, RowsInfo, StreamError, Window, read_whole};
use crate::raster::{Decoded, RasterError, guard};
use crate::tensor::SampleType;

const NAME: &str = "TIFF";
/// Compression CCITT Group 4 and LZW.
const GROUP_4: u16 = 4;
const LZW: u16 = 5;
/// Bytes of decoded strips or tiles held ahead of the one placed, at most,
/// unless it takes more to give every core one.
const AHEAD: u64 = 8 << 20;

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
    let mut rows = TiffRows::open(Shared::Bytes(bytes), limit, true)?;
    let capacity = rows.page.decoded_len() as usize;
    let tensor = read_whole(&mut rows, NAME, capacity)?;
    Ok((tensor, rows.info.icc.take()).into())
}

/// The first page read a window at a time: only the strips or tiles a
/// window's rows and columns touch are decoded, a row of them at a time
/// (every plane's, when the planes are separate), on every core, and each
/// is converted as [`decode`] converts it. The TIFF starts at the start of
/// `input`, a file or bytes in memory, which each core reads at offsets of
/// its own.
///
/// Holds one row of tiles cut to the window's columns, and the strips or
/// tiles decoded ahead (two a core, fewer where they would pass 8 MiB, but
/// one a core at least); refuses with
/// [`RasterError::Limit`] when one strip or tile, or that row, would pass
/// `limit` bytes.
pub(in crate::raster) fn source<'a>(
    input: impl Into<Shared<'a>>,
    limit: u64,
) -> Result<Box<dyn RowSource + 'a>, RasterError> {
    Ok(Box::new(TiffRows::open(input.into(), limit, false)?))
}

struct TiffRows<'a> {
    decoders: Decoders<'a>,
    codec: ChunkCodec,
    page: Page,
    info: RowsInfo,
    limit: u64,
    color_map: Vec<u16>,
    /// Chunks in one row of chunks, and in one plane.
    across: usize,
    per_plane: usize,
    ycbcr: Option<YCbCr>,
    /// How many of the strips or tiles the page needs its tables list.
    listed: Listed,
}

impl<'a> TiffRows<'a> {
    /// Reads the first page's tags; with `whole`, refuses a page whose
    /// decoded size passes `limit` before anything else.
    fn open(input: Shared<'a>, limit: u64, whole: bool) -> Result<Self, RasterError> {
        let io = |e: std::io::Error| refuse(e.to_string());
        let shared = Arc::new(input);
        let mut input = At::buffered(Arc::clone(&shared));
        let file_len = input.seek(SeekFrom::End(0)).map_err(io)?;
        let mut file = Patched::new(input).map_err(io)?;
        let listed = fit(&mut file)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
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
        // The crate's Group 4 decoder counts a strip's columns and rows in
        // 16 bits: wider or taller ones are decoded by rcrop.
        let fax_side = chunk_width.max(chunk_height.min(page.height));
        let wide_g4 = page.compression == GROUP_4 && fax_side > usize::from(u16::MAX);
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
        let copied = file.another(At::buffered(shared)).map_err(io)?;
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
        let g4 = match wide_g4 {
            true => Some(RawChunks::read(&mut decoder, kind)?),
            false => None,
        };
        let direct = Direct::new(&mut decoder, kind, &page, predictor)?;
        let info = RowsInfo {
            width: page.width,
            height: page.height,
            channels: page.channels,
            sample: page.sample,
            icc,
        };
        let rows = Self {
            decoders: Decoders::new(decoder, copied, limit),
            codec: ChunkCodec {
                kind,
                chunk_width,
                chunk_height,
                limit,
                jpeg_chunks,
                lzw,
                g4,
                predictor,
                direct,
            },
            page,
            info,
            limit,
            color_map,
            across,
            per_plane,
            ycbcr,
            listed,
        };
        if rows.chunk_len() > limit {
            return Err(rows.over_limit());
        }
        Ok(rows)
    }

    /// Bytes of one chunk decoded. The `tiff` crate decodes no padding
    /// past the image's edges: one strip of RowsPerStrip 2³²−1 is the
    /// image's height.
    fn chunk_len(&self) -> u64 {
        let (width, height) = (
            self.codec.chunk_width.min(self.page.width),
            self.codec.chunk_height.min(self.page.height),
        );
        (self.page.row_bytes(width) as u64).saturating_mul(height as u64)
    }

    /// Chunks decoded ahead of the one placed: [`AHEAD`] bytes of them,
    /// but one a core and two at most, and, with the one placed, within
    /// the limit (one at least).
    fn ahead(&self) -> usize {
        let chunk = self.chunk_len().max(1);
        let threads = rayon::current_num_threads() as u64;
        let ahead = (AHEAD / chunk).clamp(threads, 2 * threads);
        ahead.min((self.limit / chunk).saturating_sub(1)).max(1) as usize
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
        let (chunk_width, chunk_height) = (self.codec.chunk_width, self.codec.chunk_height);
        let columns = match self.codec.kind {
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
        let first_band = window.rows.start / chunk_height;
        let bands = window.rows.end.div_ceil(chunk_height) - first_band;
        let per_band = planes * columns.len();
        // A band's chunks are held whole and its rows put together one at a
        // time, each while in cache, where the chunks take little more
        // memory than the band would; else the band is filled chunk by chunk.
        let held_len = (per_band as u64).saturating_mul(self.chunk_len());
        let hold = !direct && held_len <= band_len.saturating_mul(2).min(self.limit);
        let mut band = vec![0u8; if hold { band_line } else { band_len as usize }];
        let mut held: Vec<(Vec<u8>, Placement)> =
            Vec::with_capacity(if hold { per_band } else { 0 });
        let mut converted = vec![0u8; if staged { line } else { 0 }];
        let mut scratch = Vec::new();
        let total = bands * per_band;
        // The chunk the `index`th of the window is: its band, plane and column.
        let chunk = |index: usize| {
            let (band, within) = (first_band + index / per_band, index % per_band);
            let plane = within / columns.len();
            (band, plane, columns.start + within % columns.len())
        };
        let (codec, page, decoders) = (&self.codec, &self.page, &self.decoders);
        let number = |(band, plane, column)| plane * self.per_plane + band * self.across + column;
        if let Listed::First { listed, needed } = self.listed {
            let mut numbers = (0..total).map(|index| number(chunk(index)));
            if let Some(missing) = numbers.find(|&n| n as u64 >= listed) {
                let what = chunk_name(codec.kind);
                return Err(refuse(format!(
                    "its {what} {missing} is missing: its tables list {listed} of the {needed} \
                     {what}s the page needs (libtiff reads no more either)"
                ))
                .into());
            }
        }
        let work = |(number, origin, mut samples): (usize, (usize, usize), Vec<u8>)| {
            let done = guard::guarded(NAME, || {
                let mut decoder = decoders.take()?;
                codec.decode(page, &mut decoder, number, origin, &mut samples)?;
                decoders.put(decoder);
                Ok::<_, RasterError>(())
            });
            (done, samples)
        };
        let ahead = self.ahead();
        rayon::in_place_scope(|scope| {
            let mut queue = Ahead::new(scope, &work);
            let mut spare: Vec<Vec<u8>> = Vec::new();
            let mut queued = 0;
            let mut fill = |queue: &mut Ahead<_, _>, spare: &mut Vec<Vec<u8>>| {
                while queued < total && queue.len() < ahead {
                    let (band, plane, column) = chunk(queued);
                    let origin = (band * chunk_height, column * chunk_width);
                    let samples = spare.pop().unwrap_or_default();
                    queue.push((number((band, plane, column)), origin, samples));
                    queued += 1;
                }
            };
            fill(&mut queue, &mut spare);
            // A row of the window as it is put together, converted if its
            // planes were gathered as stored.
            let mut give = |stored: &[u8]| -> Result<(), StreamError> {
                if staged {
                    convert(page, &self.color_map, stored, &mut converted)?;
                    row(&converted)?;
                } else {
                    row(stored)?;
                }
                Ok(())
            };
            for index in 0..total {
                let (done, samples) = queue
                    .next()
                    .ok_or_else(|| refuse("a thread decoding its strips or tiles stopped"))?;
                // The cores decode the next ones while this one is placed.
                fill(&mut queue, &mut spare);
                done?;
                let (band_index, plane, column) = chunk(index);
                let top = band_index * chunk_height;
                let kept = top.max(window.rows.start)..(top + chunk_height).min(window.rows.end);
                let origin = (top, column * chunk_width);
                let placed = Placement {
                    page,
                    plane,
                    origin,
                    chunk_width: chunk_width.min(width - origin.1),
                    color_map: &self.color_map,
                    ycbcr: self.ycbcr.as_ref(),
                };
                if hold {
                    held.push((samples, placed));
                    if index % per_band == per_band - 1 {
                        for y in kept.clone() {
                            for (samples, placed) in &held {
                                placed.put_row(
                                    samples,
                                    y,
                                    &window.cols,
                                    &mut band,
                                    &mut scratch,
                                )?;
                            }
                            give(&band)?;
                        }
                        spare.extend(held.drain(..).map(|(samples, _)| samples));
                    }
                    continue;
                }
                for y in kept.clone() {
                    if direct && let Some(stored) = placed.as_stored(&samples, y, &window.cols) {
                        give(stored)?;
                        continue;
                    }
                    let at = if direct {
                        0
                    } else {
                        (y - kept.start) * band_line
                    };
                    let dest = &mut band[at..at + band_line];
                    placed.put_row(&samples, y, &window.cols, dest, &mut scratch)?;
                    if direct {
                        give(dest)?;
                    }
                }
                spare.push(samples);
                if !direct && index % per_band == per_band - 1 {
                    for kept_row in band.chunks_exact(band_line).take(kept.len()) {
                        give(kept_row)?;
                    }
                }
            }
            Ok(())
        })
    }
}

impl RowSource for TiffRows<'_> {
    fn info(&self) -> &RowsInfo {
        &self.info
    }

    fn read_window(&mut self, window: &Window, row: &mut RowFn<'_>) -> Result<(), StreamError> {
        self.read(window, row)
    }
}

/// What a chunk of `kind` is called.
fn chunk_name(kind: ChunkType) -> &'static str {
    match kind {
        ChunkType::Strip => "strip",
        ChunkType::Tile => "tile",
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
    let what = chunk_name(kind);
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
