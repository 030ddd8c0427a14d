//! Deflate and LZW strips and tiles decoded here, from their stored bytes
//! straight into the buffer the `tiff` crate would fill, at about twice
//! its speed: the whole chunk inflated at once by libdeflate, or LZW
//! decoded at once ([`lzw`]), the predictor undone in place
//! ([`RowCoding`]), a clipped tile's rows moved left.
//!
//! The crate stays the reference: this path takes only the pages whose
//! samples the crate gives as stored (whole bytes, no inversion), checks
//! its result against the crate's layout for the chunk, and gives up on
//! anything else — a stream that is damaged, ends early or runs long, a
//! table that does not fit — leaving the chunk to the crate, whose pixels
//! or error rcrop then gives, as before.

use std::io::{Read, Seek};

use libdeflater::Decompressor;
use tiff::decoder::{ChunkType, Decoder};
use tiff::tags::ByteOrder;

use super::page::{Convert, Page, WHITE_IS_ZERO};
use super::predict::{Predictor, RowCoding};
use super::raw::RawChunks;
use super::read::decode_error;
use super::{lzw, old_lzw};
use crate::raster::RasterError;
use crate::tensor::SampleType;

/// Compression LZW, Adobe Deflate and the older Deflate code.
const LZW: u16 = 5;
const DEFLATE: u16 = 8;
const OLD_DEFLATE: u16 = 32946;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Codec {
    Deflate,
    Lzw,
}

/// The strips or tiles of a page this path decodes.
pub(super) struct Direct {
    codec: Codec,
    chunks: RawChunks,
    coding: RowCoding,
}

/// Where one chunk's decoded rows go, from the crate's layout for it.
#[derive(Clone, Copy, Debug)]
pub(super) struct ChunkRows {
    /// Bytes of one stored row: the strip's or the whole tile's width.
    pub stored: usize,
    /// Rows stored: a tile's full height, a strip's rows.
    pub stored_rows: usize,
    /// Bytes kept of each row (a tile's columns inside the image), and
    /// rows kept.
    pub kept: usize,
    pub rows: usize,
}

impl Direct {
    /// This path for `page`, if its compression is Deflate or LZW and the
    /// crate would give its samples as stored, whole bytes each.
    pub fn new<R: Read + Seek>(
        decoder: &mut Decoder<R>,
        kind: ChunkType,
        page: &Page,
        predictor: u16,
    ) -> Result<Option<Self>, RasterError> {
        let codec = match page.compression {
            DEFLATE | OLD_DEFLATE => Codec::Deflate,
            LZW => Codec::Lzw,
            _ => return Ok(None),
        };
        let float = matches!(
            page.stored,
            SampleType::F16 | SampleType::F32 | SampleType::F64
        );
        let predictor = match predictor {
            1 => Predictor::None,
            2 => Predictor::Horizontal,
            3 if float => Predictor::Float,
            _ => return Ok(None),
        };
        if !page.whole_bytes()
            || page.photometric == WHITE_IS_ZERO
            || page.convert == Convert::YCbCr
        {
            return Ok(None);
        }
        let coding = RowCoding {
            predictor,
            size: page.stored.itemsize(),
            samples: page.in_chunk(),
            big_endian: decoder.byte_order() == ByteOrder::BigEndian,
        };
        Ok(Some(Self {
            codec,
            chunks: RawChunks::read(decoder, kind)?,
            coding,
        }))
    }

    /// Decodes chunk `number`, read from `file`, into `chunk` as the crate
    /// would; `false` when it leaves the chunk to the crate, with `chunk`
    /// holding anything. Holds at most `limit` bytes of either.
    pub fn decode(
        &self,
        file: &mut (impl Read + Seek),
        number: usize,
        rows: ChunkRows,
        chunk: &mut Vec<u8>,
        limit: u64,
    ) -> bool {
        let Ok(data) = self.chunks.bytes(file, number, u64::MAX, limit) else {
            return false;
        };
        let needed = rows.stored.saturating_mul(rows.rows);
        let room = match self.codec {
            Codec::Deflate => rows.stored.saturating_mul(rows.stored_rows),
            // What the crate reads of the stream, and no more.
            Codec::Lzw => needed,
        };
        if rows.kept > rows.stored || rows.rows > rows.stored_rows || room as u64 > limit {
            return false;
        }
        chunk.resize(room, 0);
        let decoded = match self.codec {
            Codec::Deflate => Decompressor::new().zlib_decompress(&data, chunk).ok(),
            Codec::Lzw if old_lzw::is_old_style(&data) => None,
            Codec::Lzw => lzw::decode(&data, chunk),
        };
        if decoded.is_none_or(|n| n < needed) {
            return false;
        }
        let plain = self.coding.predictor == Predictor::None
            && (self.coding.size == 1 || self.coding.big_endian == cfg!(target_endian = "big"));
        if !plain || rows.kept < rows.stored {
            let mut scratch = Vec::new();
            for r in 0..rows.rows {
                let at = r * rows.stored;
                self.coding
                    .undo(&mut chunk[at..at + rows.stored], rows.kept, &mut scratch);
                chunk.copy_within(at..at + rows.kept, r * rows.kept);
            }
        }
        chunk.truncate(rows.kept * rows.rows);
        true
    }
}

/// The pixels of a strip or tile: `full` (width, height) as stored (a
/// strip's full height is its rows), `inside` the part inside the image,
/// each of `pixel` bytes.
#[derive(Clone, Copy, Debug)]
pub(super) struct ChunkShape {
    pub full: (usize, usize),
    pub inside: (usize, usize),
    pub pixel: usize,
}

/// The crate's buffer length for chunk `number` and, where its layout is
/// rows of the columns of `shape` inside the image, those rows: at least
/// the rows inside, at most the rows stored (the crate decodes a tile of a
/// second or later plane whole, and rcrop places only the rows inside).
pub(super) fn chunk_rows<R: Read + Seek>(
    decoder: &mut Decoder<R>,
    number: u32,
    kind: ChunkType,
    shape: ChunkShape,
) -> Result<(usize, Option<ChunkRows>), RasterError> {
    let layout = decoder
        .image_chunk_buffer_layout(number)
        .map_err(decode_error)?;
    let kept = shape.inside.0.saturating_mul(shape.pixel);
    let rows = layout.len.checked_div(kept).unwrap_or(0);
    let laid_out = layout.row_stride.map(|stride| stride.get()) == Some(kept)
        && rows * kept == layout.len
        && (shape.inside.1..=shape.full.1).contains(&rows);
    let rows = ChunkRows {
        stored: shape.full.0.saturating_mul(shape.pixel),
        stored_rows: match kind {
            ChunkType::Tile => shape.full.1,
            ChunkType::Strip => rows,
        },
        kept,
        rows,
    };
    Ok((layout.len, laid_out.then_some(rows)))
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// Every strip and tile of every file in fixtures/predictors/, decoded
    /// here and by the crate: this path takes each, and gives the crate's
    /// bytes.
    #[test]
    fn every_predictor_at_every_sample_width_decodes_as_the_crate_does() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/predictors");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "tif"))
            .collect();
        files.sort();
        assert!(files.len() >= 25, "{files:?}");
        let mut seen = std::collections::BTreeSet::new();
        for path in files {
            let bytes = std::fs::read(&path).unwrap();
            let mut decoder = Decoder::new(Cursor::new(&bytes[..])).unwrap();
            let page = Page::read(&mut decoder).unwrap();
            let kind = decoder.get_chunk_type();
            let predictor = decoder.find_tag_unsigned::<u16>(tiff::tags::Tag::Predictor);
            let predictor = predictor.unwrap().unwrap();
            let direct = Direct::new(&mut decoder, kind, &page, predictor).unwrap();
            let direct = direct.unwrap_or_else(|| panic!("{path:?} left to the crate"));
            seen.insert((predictor, page.stored.itemsize(), page.in_chunk()));
            let (width, height) = decoder.chunk_dimensions();
            let (width, height) = match kind {
                ChunkType::Tile => (width as usize, height as usize),
                ChunkType::Strip => (page.width, height as usize),
            };
            let pixel = page.in_chunk() * page.stored.itemsize();
            let offsets = super::super::read::chunk_tags(kind).0;
            let chunks = decoder.get_tag_u64_vec(offsets).unwrap().len();
            let (across, down) = (page.width.div_ceil(width), page.height.div_ceil(height));
            for number in 0..chunks {
                let (y, x) = (number / across % down * height, number % across * width);
                let shape = ChunkShape {
                    full: (width, height),
                    inside: (width.min(page.width - x), height.min(page.height - y)),
                    pixel,
                };
                let at = u32::try_from(number).unwrap();
                let (len, rows) = chunk_rows(&mut decoder, at, kind, shape).unwrap();
                let mut ours = Vec::new();
                let rows =
                    rows.unwrap_or_else(|| panic!("{path:?}: chunk {number}: {len} {shape:?}"));
                let taken = direct.decode(decoder.inner(), number, rows, &mut ours, u64::MAX);
                assert!(taken, "{path:?}: chunk {number} left to the crate");
                let mut theirs = vec![0; len];
                decoder.read_chunk_bytes(at, &mut theirs).unwrap();
                assert!(ours == theirs, "{path:?}: chunk {number} differs");
            }
        }
        for (predictor, sizes) in [(2, [1, 2, 4, 8].as_slice()), (3, &[2, 4, 8])] {
            for &size in sizes {
                let with = seen.iter().any(|&(p, s, _)| p == predictor && s == size);
                assert!(with, "predictor {predictor}, {size}-byte samples: {seen:?}");
            }
        }
    }
}
