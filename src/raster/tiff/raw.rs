//! The stored bytes of strips and tiles, for the codecs rcrop runs itself
//! (libjpeg-turbo, old-style LZW) rather than the `tiff` crate.

use std::io::{Read, Seek, SeekFrom};

use tiff::decoder::{ChunkType, Decoder};

use super::read::{chunk_tags, decode_error, refuse};
use crate::raster::RasterError;

/// Where each strip's or tile's bytes are.
pub(super) struct RawChunks {
    offsets: Vec<u64>,
    counts: Vec<u64>,
}

impl RawChunks {
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

    /// The first `at_most` stored bytes of chunk `number`; refuses more
    /// than `limit` bytes.
    pub fn bytes(
        &self,
        file: &mut (impl Read + Seek),
        number: usize,
        at_most: u64,
        limit: u64,
    ) -> Result<Vec<u8>, RasterError> {
        let (Some(&start), Some(&len)) = (self.offsets.get(number), self.counts.get(number)) else {
            return Err(refuse(format!("no strip or tile {number}")));
        };
        let len = len.min(at_most);
        if len > limit {
            return Err(refuse(format!(
                "a strip or tile of {len} stored bytes, over the image limit"
            )));
        }
        let io = |e: std::io::Error| refuse(e.to_string());
        let mut data = Vec::with_capacity(len as usize);
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        file.by_ref().take(len).read_to_end(&mut data).map_err(io)?;
        Ok(data)
    }
}
