//! JPEG strips and tiles, decoded by libjpeg-turbo as libtiff has libjpeg
//! decode them, so their pixels are libtiff's.

use std::io::{Read, Seek};

use tiff::decoder::{ChunkType, Decoder};
use tiff::tags::Tag;

use super::page::{Page, YCBCR};
use super::raw::RawChunks;
use crate::raster::RasterError;
use crate::raster::jpeg::{ChunkColor, decode_chunk};

/// Where each chunk's JPEG stream is, the tables they share, and how their
/// components are taken.
pub(super) struct JpegChunks {
    raw: RawChunks,
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
        // As libtiff: YCbCr is converted to RGB when its components are
        // together; separate planes are each read as stored.
        let color = match page.photometric == YCBCR && !page.planar {
            true => ChunkColor::YCbCrToRgb,
            false => ChunkColor::AsStored,
        };
        Ok(Self {
            raw: RawChunks::read(decoder, kind)?,
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
        let data = self.raw.bytes(file, number, u64::MAX, limit)?;
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
