//! The frame size of JPEG strips and tiles, read before they are decoded.

use std::io::{Read, Seek, SeekFrom};

use tiff::decoder::{ChunkType, Decoder};

use super::read::{chunk_tags, decode_error};
use crate::raster::RasterError;

/// Where each chunk's bytes are, for looking into JPEG chunks before they
/// are decoded.
pub(super) struct JpegChunks {
    offsets: Vec<u64>,
    counts: Vec<u64>,
}

impl JpegChunks {
    pub fn read<R: Read + Seek>(
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
    pub fn frame_size(
        &self,
        file: &mut (impl Read + Seek),
        number: usize,
    ) -> Option<(usize, usize)> {
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
