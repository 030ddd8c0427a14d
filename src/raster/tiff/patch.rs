//! The file as the `tiff` crate must see it to decode the page: read
//! through [`Patched`], with some bytes changed, never copied.

use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

use tiff::decoder::{ChunkType, Decoder};
use tiff::tags::Tag;

use super::ifd;
use super::page::{BLACK_IS_ZERO, Convert, PALETTE, Page};
use super::read::{chunk_tags, decode_error, refuse};
use super::ycbcr::YCbCr;
use crate::raster::RasterError;

/// What the `tiff` crate must see differently to decode the page: the bits
/// of every strip or tile reversed when the page says FillOrder 2 (the
/// first pixel in the low bit of each byte), as libtiff reverses them; a
/// palette page marked gray, so that the crate returns its indices; more
/// than one sample a pixel marked as gray of that many bands, so that the
/// crate returns them all as stored; and samples the crate does not unpack
/// (any depth but 8, 16, 32 and 64 bits, and but 1-, 2- and 4-bit gray)
/// marked as one 8-bit gray sample a byte of the same rows, which rcrop
/// then unpacks.
pub(super) struct Edits {
    /// Offsets and byte counts of the chunks whose bits are reversed.
    reversed: Vec<(u64, u64)>,
    /// Entries of the first page given one new value.
    tags: Vec<(Tag, u32)>,
    /// Entries of the first page hidden from the crate.
    hidden: Vec<Tag>,
}

/// A private tag number no reader knows, which hidden entries take.
const HIDDEN: u16 = 65000;

pub(super) fn decodable<R: Read + Seek>(
    decoder: &mut Decoder<R>,
    page: &Page,
    predictor: u16,
) -> Result<Edits, RasterError> {
    let mut edits = Edits {
        reversed: Vec::new(),
        tags: Vec::new(),
        hidden: Vec::new(),
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
    let gray = |edits: &mut Edits| {
        edits
            .tags
            .push((Tag::PhotometricInterpretation, BLACK_IS_ZERO.into()))
    };
    if page.photometric == PALETTE || (page.samples > 1 && matches!(page.convert, Convert::None)) {
        gray(&mut edits);
    }
    if page.convert == Convert::YCbCr {
        ycbcr_blocks(decoder, page, &mut edits)?;
    }
    let crate_unpacks = page.whole_bytes() || page.convert == Convert::ScaleGray;
    if !crate_unpacks {
        if predictor != 1 {
            return Err(refuse(format!(
                "Predictor {predictor} with {}-bit samples is not read (libtiff refuses it too)",
                page.bits
            )));
        }
        let widen = |n: u32| {
            (u64::from(n) * u64::from(page.bits) * page.in_chunk() as u64)
                .div_ceil(8)
                .try_into()
                .map_err(|_| refuse("rows of more than 2^32 bytes"))
        };
        edits.tags.push((Tag::BitsPerSample, 8));
        edits
            .tags
            .push((Tag::ImageWidth, widen(page.width as u32)?));
        if decoder.get_chunk_type() == ChunkType::Tile {
            let (tile_width, _) = decoder.chunk_dimensions();
            edits.tags.push((Tag::TileWidth, widen(tile_width)?));
        }
        // Chunky rows become one sample a byte; separate planes hold one
        // sample a pixel already.
        if page.samples > 1 && !page.planar {
            edits.tags.push((Tag::SamplesPerPixel, 1));
            gray(&mut edits);
            if decoder
                .find_tag(Tag::ExtraSamples)
                .map_err(decode_error)?
                .is_some()
            {
                edits.hidden.push(Tag::ExtraSamples);
            }
        }
    }
    edits.tags.dedup();
    Ok(edits)
}

/// YCbCr in blocks of `h × v` luma samples and their Cb and Cr, shown to
/// the crate as gray rows of bytes, one row of blocks a row.
fn ycbcr_blocks<R: Read + Seek>(
    decoder: &mut Decoder<R>,
    page: &Page,
    edits: &mut Edits,
) -> Result<(), RasterError> {
    let sub = YCbCr::read(decoder)?;
    let too_big = || refuse("rows of more than 2^32 bytes");
    let across = |width: usize| u32::try_from(sub.block_row(width)).map_err(|_| too_big());
    let down = |height: u32| height.div_ceil(sub.v as u32);
    edits.tags.extend([
        (Tag::PhotometricInterpretation, BLACK_IS_ZERO.into()),
        (Tag::SamplesPerPixel, 1),
        (Tag::BitsPerSample, 8),
        (Tag::ImageWidth, across(page.width)?),
        (Tag::ImageLength, down(page.height as u32)),
    ]);
    let (chunk_width, chunk_height) = decoder.chunk_dimensions();
    match decoder.get_chunk_type() {
        // Without the tag, one strip holds every row, of blocks too.
        ChunkType::Strip
            if decoder
                .find_tag(Tag::RowsPerStrip)
                .map_err(decode_error)?
                .is_none() => {}
        ChunkType::Strip => edits.tags.push((Tag::RowsPerStrip, down(chunk_height))),
        ChunkType::Tile => edits.tags.extend([
            (Tag::TileWidth, across(chunk_width as usize)?),
            (Tag::TileLength, down(chunk_height)),
        ]),
    }
    Ok(())
}

impl Edits {
    /// Makes `file` read as edited, from its start.
    pub fn apply<R: Read + Seek>(self, file: &mut Patched<R>) -> Result<(), RasterError> {
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
            let (at, bytes) = ifd::set(file, tag, value)?;
            file.replace(at, bytes);
        }
        for tag in self.hidden {
            let (at, bytes) = ifd::rename(file, tag, HIDDEN)?;
            file.replace(at, bytes);
        }
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        Ok(())
    }
}

/// A file read with some of its bytes changed, without copying it: bit
/// reversed ranges, then bytes replaced at given offsets, and bytes read
/// past its end.
pub(super) struct Patched<R> {
    inner: R,
    pos: u64,
    /// Sorted and disjoint.
    reversed: Vec<Range<u64>>,
    replaced: Vec<(u64, Vec<u8>)>,
    /// Bytes read from this offset, the end of the file, on.
    tail: (u64, Vec<u8>),
}

impl<R: Read + Seek> Patched<R> {
    pub fn new(mut inner: R) -> std::io::Result<Self> {
        inner.seek(SeekFrom::Start(0))?;
        Ok(Self {
            inner,
            pos: 0,
            reversed: Vec::new(),
            replaced: Vec::new(),
            tail: (0, Vec::new()),
        })
    }

    /// A reader of the same file through `inner`, from its start, with
    /// the same bytes changed.
    pub fn another<S: Read + Seek>(&self, inner: S) -> std::io::Result<Patched<S>> {
        let mut other = Patched::new(inner)?;
        other.reversed = self.reversed.clone();
        other.replaced = self.replaced.clone();
        other.tail = self.tail.clone();
        Ok(other)
    }

    /// The reader under the changes.
    pub fn inner(&self) -> &R {
        &self.inner
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

    pub(super) fn replace(&mut self, at: u64, bytes: Vec<u8>) {
        self.replaced.push((at, bytes));
    }

    /// Makes `bytes` read after those appended before, past the end of the
    /// file, which is at `end`; returns the offset they are read at.
    pub(super) fn append(&mut self, end: u64, bytes: &[u8]) -> u64 {
        if self.tail.1.is_empty() {
            self.tail.0 = end;
        }
        let at = self.tail.0 + self.tail.1.len() as u64;
        self.tail.1.extend_from_slice(bytes);
        at
    }
}

impl<R: Read> Read for Patched<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let (tail_at, tail) = &self.tail;
        if !tail.is_empty() && self.pos >= *tail_at {
            let from =
                usize::try_from(self.pos - tail_at).map_or(tail.len(), |f| f.min(tail.len()));
            let n = buf.len().min(tail.len() - from);
            buf[..n].copy_from_slice(&tail[from..from + n]);
            self.pos += n as u64;
            return Ok(n);
        }
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
        // From where this reader is, which reads past the end leave the
        // file's own reader behind.
        let pos = match pos {
            SeekFrom::Current(by) => {
                SeekFrom::Start(self.pos.checked_add_signed(by).ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, "a seek before the start")
                })?)
            }
            other => other,
        };
        self.pos = self.inner.seek(pos)?;
        Ok(self.pos)
    }
}
