//! JPEG strips and tiles, decoded by libjpeg-turbo as libtiff has libjpeg
//! decode them, so their pixels are libtiff's.

use std::io::{Read, Seek, SeekFrom};

use tiff::decoder::{ChunkType, Decoder};
use tiff::tags::Tag;

use super::page::{Page, YCBCR};
use super::read::{chunk_tags, decode_error, refuse};
use crate::raster::RasterError;
use crate::raster::jpeg::{ChunkColor, decode_chunk};

/// Where each chunk's JPEG stream is, the tables they share, and how their
/// components are taken.
pub(super) struct JpegChunks {
    offsets: Vec<u64>,
    counts: Vec<u64>,
    tables: Option<Vec<u8>>,
    components: usize,
    color: ChunkColor,
}

impl JpegChunks {
    pub fn read<R: Read + Seek>(
        decoder: &mut Decoder<R>,
        kind: ChunkType,
        page: &Page,
    ) -> Result<Self, RasterError> {
        let (offsets, counts) = chunk_tags(kind);
        // As libtiff: YCbCr is converted to RGB when its components are
        // together; separate planes are each read as stored.
        let color = match page.photometric == YCBCR && !page.planar {
            true => ChunkColor::YCbCrToRgb,
            false => ChunkColor::AsStored,
        };
        Ok(Self {
            offsets: decoder.get_tag_u64_vec(offsets).map_err(decode_error)?,
            counts: decoder.get_tag_u64_vec(counts).map_err(decode_error)?,
            tables: decoder.get_tag_u8_vec(Tag::JPEGTables).ok(),
            components: page.in_chunk(),
            color,
        })
    }

    /// Decodes chunk `number`: the width and height of its JPEG frame, and
    /// its samples.
    pub fn decode(
        &self,
        file: &mut (impl Read + Seek),
        number: usize,
        limit: u64,
    ) -> Result<(usize, usize, Vec<u8>), RasterError> {
        let (Some(&start), Some(&len)) = (self.offsets.get(number), self.counts.get(number)) else {
            return Err(refuse(format!("no strip or tile {number}")));
        };
        if len > limit {
            return Err(refuse(format!(
                "a JPEG strip or tile of {len} bytes, over the image limit"
            )));
        }
        let io = |e: std::io::Error| refuse(e.to_string());
        let mut data = Vec::with_capacity(len as usize);
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        file.by_ref().take(len).read_to_end(&mut data).map_err(io)?;
        let chunk = decode_chunk(
            self.tables.as_deref(),
            &data,
            self.components,
            self.color,
            limit,
        )
        .map_err(|why| RasterError::Damaged {
            format: "TIFF",
            why: format!("its JPEG strip or tile {number}: {why}"),
        })?;
        Ok((chunk.width, chunk.height, chunk.samples))
    }
}
