//! One strip or tile decoded into its samples, on any thread: each thread
//! takes a decoder of its own from [`Decoders`], reading the file at its
//! own offset, and what the decoders share ([`ChunkCodec`]) is read once.

use std::io::BufReader;
use std::sync::{Mutex, PoisonError};

use tiff::decoder::{ChunkType, Decoder};

use super::direct::{self, ChunkShape, Direct};
use super::g4;
use super::jpeg_chunks::JpegChunks;
use super::old_lzw;
use super::page::{Page, WHITE_IS_ZERO, limits};
use super::patch::Patched;
use super::raw::RawChunks;
use super::read::{decode_error, refuse};
use super::shared::At;
use crate::raster::RasterError;

/// A decoder of the page through a reader of its own.
pub(super) type PageDecoder<'a> = Decoder<Patched<BufReader<At<'a>>>>;

/// The decoders of one page, one a thread that decodes: idle ones are
/// kept, and a new one is opened when none is.
pub(super) struct Decoders<'a> {
    /// A reader of the file as the decoders see it, copied for each.
    file: Patched<BufReader<At<'a>>>,
    limit: u64,
    idle: Mutex<Vec<PageDecoder<'a>>>,
}

impl<'a> Decoders<'a> {
    /// The decoders of the page `first` decodes, as `file` reads it.
    pub fn new(first: PageDecoder<'a>, file: Patched<BufReader<At<'a>>>, limit: u64) -> Self {
        Self {
            file,
            limit,
            idle: Mutex::new(vec![first]),
        }
    }

    /// An idle decoder, or a new one.
    pub fn take(&self) -> Result<PageDecoder<'a>, RasterError> {
        if let Some(decoder) = self.lock().pop() {
            return Ok(decoder);
        }
        let at = At::buffered(self.file.inner().get_ref().file().clone());
        let file = self.file.another(at).map_err(|e| refuse(e.to_string()))?;
        Ok(Decoder::new(file)
            .map_err(decode_error)?
            .with_limits(limits(self.limit)))
    }

    /// Keeps `decoder` for the next chunk.
    pub fn put(&self, decoder: PageDecoder<'a>) {
        self.lock().push(decoder);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<PageDecoder<'a>>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How the page's strips or tiles are decoded, the same for every thread.
pub(super) struct ChunkCodec {
    pub kind: ChunkType,
    /// Width and height of a strip or tile, in pixels.
    pub chunk_width: usize,
    pub chunk_height: usize,
    pub limit: u64,
    pub jpeg_chunks: Option<JpegChunks>,
    /// Where LZW strips are, to tell old-style ones.
    pub lzw: Option<RawChunks>,
    /// Where Group 4 strips or tiles too wide or tall for the crate are.
    pub g4: Option<RawChunks>,
    pub predictor: u16,
    /// Deflate and LZW decoded by rcrop, where it can.
    pub direct: Option<Direct>,
}

impl ChunkCodec {
    /// Decodes chunk `number` of `page`, whose first pixel is at `origin`,
    /// into `chunk`: its samples as little-endian bytes.
    pub fn decode(
        &self,
        page: &Page,
        decoder: &mut PageDecoder<'_>,
        number: usize,
        origin: (usize, usize),
        chunk: &mut Vec<u8>,
    ) -> Result<(), RasterError> {
        if let Some(chunks) = &self.jpeg_chunks {
            let (w, h, samples) = chunks.decode(decoder.inner(), number, self.limit)?;
            *chunk = samples;
            return self.place_jpeg(page, number, origin, (w, h), chunk);
        }
        let index = number;
        let number =
            u32::try_from(number).map_err(|_| refuse("more strips or tiles than TIFF holds"))?;
        let width = match self.kind {
            ChunkType::Tile => self.chunk_width,
            ChunkType::Strip => page.width,
        };
        let shape = ChunkShape {
            full: (width, self.chunk_height),
            inside: (
                width.min(page.width.saturating_sub(origin.1)),
                self.chunk_height.min(page.height.saturating_sub(origin.0)),
            ),
            pixel: page.in_chunk() * page.stored.itemsize(),
        };
        let (len, rows) = direct::chunk_rows(decoder, number, self.kind, shape)?;
        if len as u64 > self.limit {
            return Err(RasterError::Limit {
                format: "TIFF",
                limit_mib: self.limit >> 20,
            });
        }
        if let Some(raw) = &self.g4 {
            chunk.resize(len, 0);
            let data = raw.bytes(decoder.inner(), index, u64::MAX, self.limit)?;
            return self.group_4(page, origin, &data, chunk);
        }
        if let Some(raw) = &self.lzw
            && old_lzw::is_old_style(&raw.bytes(decoder.inner(), index, 2, self.limit)?)
        {
            chunk.resize(len, 0);
            let data = || raw.bytes(decoder.inner(), index, u64::MAX, self.limit);
            return self.old_lzw(page, origin, data, chunk);
        }
        let done = match (&self.direct, rows) {
            (Some(direct), Some(rows)) => {
                direct.decode(decoder.inner(), index, rows, chunk, self.limit)
            }
            _ => false,
        };
        if !done {
            chunk.resize(len, 0);
            decoder
                .read_chunk_bytes(number, chunk)
                .map_err(decode_error)?;
        }
        if cfg!(target_endian = "big") && page.whole_bytes() {
            let size = page.stored.itemsize();
            chunk
                .chunks_exact_mut(size)
                .for_each(|sample| sample.reverse());
        }
        Ok(())
    }

    /// Decodes a strip or tile, old-style LZW, whose first pixel is at
    /// `origin`, into `chunk`, sized for its pixels inside the image;
    /// `data` reads its bytes.
    fn old_lzw(
        &self,
        page: &Page,
        origin: (usize, usize),
        data: impl FnOnce() -> Result<Vec<u8>, RasterError>,
        chunk: &mut [u8],
    ) -> Result<(), RasterError> {
        if page.bits > 8 {
            return Err(refuse(format!(
                "old-style LZW with {}-bit samples is not read",
                page.bits
            )));
        }
        let (stored, kept) = self.sizes(page, origin);
        let coded = old_lzw::Chunk {
            stored,
            kept,
            bits: page.bits.into(),
            samples: page.in_chunk(),
            predictor: self.predictor,
        };
        coded.decode(&data()?, chunk, self.limit)?;
        invert_white_is_zero(page, chunk);
        Ok(())
    }

    /// Pixels across and rows of the strip or tile whose first pixel is at
    /// `origin`, as coded (a tile's whole size, edges too) and inside the
    /// image.
    fn sizes(&self, page: &Page, origin: (usize, usize)) -> ((usize, usize), (usize, usize)) {
        let kept = (
            self.chunk_width.min(page.width - origin.1),
            self.chunk_height.min(page.height - origin.0),
        );
        let stored = match self.kind {
            ChunkType::Tile => (self.chunk_width, self.chunk_height),
            ChunkType::Strip => kept,
        };
        (stored, kept)
    }

    /// Decodes a Group 4 strip or tile whose first pixel is at `origin`
    /// into `chunk`, sized for its pixels inside the image.
    fn group_4(
        &self,
        page: &Page,
        origin: (usize, usize),
        data: &[u8],
        chunk: &mut [u8],
    ) -> Result<(), RasterError> {
        if page.bits != 1 || page.in_chunk() != 1 {
            return Err(refuse(format!(
                "CCITT Group 4 of {} samples of {} bits a pixel (it codes one bit a pixel)",
                page.in_chunk(),
                page.bits
            )));
        }
        let (stored, kept) = self.sizes(page, origin);
        let coded = g4::Chunk { stored, kept };
        coded.decode(data, chunk)?;
        invert_white_is_zero(page, chunk);
        Ok(())
    }

    /// Keeps a decoded JPEG chunk as [`Placement`](super::place::Placement)
    /// reads chunks: rows of the chunk's columns inside the image. What
    /// libtiff's JPEGPreDecode checks first: the frame is the size of the
    /// chunk (a strip's may stop at the image's last row), or libjpeg would
    /// be asked for more pixels than the chunk holds, or fewer.
    fn place_jpeg(
        &self,
        page: &Page,
        number: usize,
        origin: (usize, usize),
        (w, h): (usize, usize),
        samples: &mut Vec<u8>,
    ) -> Result<(), RasterError> {
        let (kind, width, heights) = match self.kind {
            ChunkType::Tile => ("tile", self.chunk_width, [self.chunk_height; 2]),
            ChunkType::Strip => (
                "strip",
                page.width,
                [
                    self.chunk_height,
                    self.chunk_height.min(page.height - origin.0),
                ],
            ),
        };
        if w != width || !heights.contains(&h) {
            return Err(refuse(format!(
                "{kind} {number} holds a {w}x{h} JPEG image where the {kind} is {width}x{}",
                heights[1]
            )));
        }
        let pixel = page.in_chunk();
        let kept = width.min(page.width - origin.1) * pixel;
        if kept < width * pixel {
            for row in 1..h {
                samples.copy_within(row * width * pixel..row * width * pixel + kept, row * kept);
            }
            samples.truncate(h * kept);
        }
        Ok(())
    }
}

/// What the crate does to the samples of a gray page of WhiteIsZero.
fn invert_white_is_zero(page: &Page, chunk: &mut [u8]) {
    if page.photometric == WHITE_IS_ZERO && page.samples == 1 {
        chunk.iter_mut().for_each(|b| *b = !*b);
    }
}
