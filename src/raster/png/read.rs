//! PNG read a row at a time, and what the PNG decoder leaves unchecked,
//! checked before it runs.

use std::io::{self, BufRead, Seek, SeekFrom};

use image::ImageFormat;

use crate::raster::Decoded;
use crate::raster::rows::{RowFn, RowSource, RowsInfo, StreamError, Window};
use crate::raster::{RasterError, image_crate};
use crate::tensor::SampleType;

/// The bytes a caller must peek at for [`streams`]: the interlace method
/// is the 29th.
pub(in crate::raster) const STREAMABLE_HEAD: usize = 29;

/// Whether a PNG whose first bytes are `head` can be read a row at a time:
/// it is not interlaced (byte 28, in `IHDR`). Not when `head` is too short
/// to tell or is not a PNG's beginning.
pub(in crate::raster) fn streams(head: &[u8]) -> bool {
    head.get(8..STREAMABLE_HEAD)
        .is_some_and(|ihdr| ihdr[4..8] == *b"IHDR" && ihdr[20] == 0)
}

/// Decodes a whole PNG with the `image` crate, after the checks its
/// decoder leaves out.
pub(in crate::raster) fn decode(bytes: &[u8], limit: u64) -> Result<Decoded, RasterError> {
    check_palette(bytes)?;
    image_crate::decode(bytes, ImageFormat::Png, limit).map(Decoded::from)
}

/// Height, width, channels and sample type from the header alone.
pub(in crate::raster) fn probe(
    bytes: &[u8],
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    image_crate::probe(bytes, ImageFormat::Png, limit)
}

/// A non-interlaced PNG, read a row at a time with the transformations the
/// whole-image decoder applies: palettes, low bit depths and `tRNS` expanded
/// to 8-bit gray, gray+alpha, RGB or RGBA; 16-bit kept, as little-endian.
/// It holds a few rows at a time, whatever the image limit.
pub(in crate::raster) fn source<'a>(
    input: Box<dyn BufRead + Send + 'a>,
    _limit: u64,
) -> Result<Box<dyn RowSource + 'a>, RasterError> {
    let mut decoder = png::Decoder::new(NoSeek(input));
    decoder.set_transformations(png::Transformations::EXPAND);
    decoder.ignore_checksums(false);
    let reader = decoder.read_info().map_err(damaged)?;
    let png_info = reader.info();
    if png_info.interlaced {
        return Err(RasterError::NotAnImage(
            "an interlaced PNG cannot be read a row at a time".into(),
        ));
    }
    if let Some(palette) = &png_info.palette
        && palette.len() % 3 != 0
    {
        return Err(RasterError::Damaged {
            format: "PNG",
            why: format!(
                "its PLTE chunk holds {} bytes, not a whole number of 3-byte colors",
                palette.len()
            ),
        });
    }
    let icc = png_info.icc_profile.as_ref().map(|p| p.to_vec());
    let (color, depth) = reader.output_color_type();
    let channels = color.samples();
    let sample = match depth {
        png::BitDepth::Eight => SampleType::U8,
        png::BitDepth::Sixteen => SampleType::U16,
        other => {
            return Err(RasterError::NotAnImage(format!(
                "a {other:?}-bit PNG row after expansion has no tensor form"
            )));
        }
    };
    let info = RowsInfo {
        width: png_info.width as usize,
        height: png_info.height as usize,
        channels,
        sample,
        icc,
    };
    Ok(Box::new(PngRows {
        reader,
        info,
        swapped: Vec::new(),
    }))
}

struct PngRows<R: BufRead> {
    reader: png::Reader<NoSeek<R>>,
    info: RowsInfo,
    /// A 16-bit row turned little-endian.
    swapped: Vec<u8>,
}

impl<R: BufRead + Send> RowSource for PngRows<R> {
    fn info(&self) -> &RowsInfo {
        &self.info
    }

    fn read_window(&mut self, window: &Window, row: &mut RowFn<'_>) -> Result<(), StreamError> {
        let pixel = self.info.pixel_len();
        let cols = window.cols.start * pixel..window.cols.end * pixel;
        let sixteen = self.info.sample == SampleType::U16;
        for y in 0..window.rows.end {
            let data = match self.reader.next_row() {
                Ok(Some(r)) => r.data(),
                Ok(None) => {
                    return Err(RasterError::Damaged {
                        format: "PNG",
                        why: format!(
                            "its image data ends after {y} of its {} rows",
                            self.info.height
                        ),
                    }
                    .into());
                }
                Err(e) => return Err(damaged(e).into()),
            };
            if y < window.rows.start {
                continue;
            }
            let kept = data.get(cols.clone()).ok_or_else(|| RasterError::Damaged {
                format: "PNG",
                why: format!("row {y} is shorter than its width"),
            })?;
            if sixteen {
                self.swapped.clear();
                self.swapped
                    .extend(kept.chunks_exact(2).flat_map(|s| [s[1], s[0]]));
                row(&self.swapped)?;
            } else {
                row(kept)?;
            }
        }
        self.read_to_end()?;
        Ok(())
    }
}

impl<R: BufRead> PngRows<R> {
    /// Reads the rows below the window and every chunk after them up to
    /// `IEND`, checking each chunk's CRC and the zlib checksum, so that
    /// damage below the crop fails it as it fails a whole decode.
    fn read_to_end(&mut self) -> Result<(), RasterError> {
        while self.reader.next_row().map_err(damaged)?.is_some() {}
        self.reader.finish().map_err(damaged)
    }
}

/// A decoding failure, worded as the whole-image decoder words it.
fn damaged(e: png::DecodingError) -> RasterError {
    RasterError::Decode {
        format: "PNG",
        source: image::ImageError::Decoding(image::error::DecodingError::new(
            image::ImageFormat::Png.into(),
            e,
        )),
    }
}

/// A reader the PNG decoder may hold: it reads front to back and never
/// seeks, so standard input and pipes qualify. A seek, should one come,
/// fails rather than reading the wrong bytes.
struct NoSeek<R>(R);

impl<R: BufRead> io::Read for NoSeek<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: BufRead> BufRead for NoSeek<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.0.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.0.consume(amt)
    }
}

impl<R> Seek for NoSeek<R> {
    fn seek(&mut self, _: SeekFrom) -> io::Result<u64> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the PNG is read front to back",
        ))
    }
}

/// Refuses a `PLTE` chunk whose length is not a whole number of 3-byte
/// colors, as libpng does ("invalid palette length"); the `png` crate
/// would read past the end of the last, partial color.
pub(in crate::raster) fn check_palette(bytes: &[u8]) -> Result<(), RasterError> {
    // The signature, then chunks: a 4-byte length, a 4-byte type, the data
    // and a 4-byte CRC. The palette comes before the first IDAT.
    let mut at = 8usize;
    while let Some(head) = bytes.get(at..at.saturating_add(8)) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        match &head[4..8] {
            b"PLTE" if len % 3 != 0 => {
                return Err(RasterError::Damaged {
                    format: "PNG",
                    why: format!(
                        "its PLTE chunk (at byte {at}) holds {len} bytes, not a whole number \
                         of 3-byte colors"
                    ),
                });
            }
            b"IDAT" | b"IEND" => break,
            _ => {}
        }
        at = at.saturating_add(12).saturating_add(len as usize);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&[0; 4]);
        out
    }

    #[test]
    fn a_palette_of_whole_colors_passes_and_a_partial_one_is_named() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0; 13]));
        let mut whole = png.clone();
        whole.extend(chunk(b"PLTE", &[0; 6]));
        assert!(check_palette(&whole).is_ok());
        png.extend(chunk(b"PLTE", &[0; 5]));
        let err = check_palette(&png).unwrap_err().to_string();
        assert!(
            err.contains("PLTE chunk (at byte 33) holds 5 bytes"),
            "{err}"
        );
        // Cut anywhere, the walk ends without reading past the end.
        for cut in 0..png.len() {
            let _ = check_palette(&png[..cut]);
        }
    }
}
