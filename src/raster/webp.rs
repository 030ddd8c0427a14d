//! WebP, decoded and encoded by the `image` crate, with two things held to
//! libwebp (so Pillow, so `load_img`): the container's sizes must agree with
//! the data, and an animation's first frame is placed on a transparent
//! canvas as it is, never blended (libwebp blends no frame onto the empty
//! canvas; the `image-webp` crate blends the first frame too, and its
//! blending of an opaque pixel over nothing gives 254 for 255).

use std::borrow::Cow;

use image::ImageFormat;

use super::{EncodeOptions, RasterError, image_crate};
use crate::raster::Decoded;
use crate::tensor::{SampleType, Tensor};

/// Decodes the image, or an animation's first frame as libwebp shows it.
pub(super) fn decode(bytes: &[u8], limit: u64) -> Result<Decoded, RasterError> {
    let riff = checked(bytes)?;
    image_crate::decode(&first_frame_unblended(riff), ImageFormat::WebP, limit).map(Decoded::from)
}

/// Height, width, channels and sample type, from the headers.
pub(super) fn probe(
    bytes: &[u8],
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    image_crate::probe(checked(bytes)?, ImageFormat::WebP, limit)
}

/// A whole image through the `image` crate's lossless encoder.
pub(super) fn encode(
    tensor: &Tensor,
    icc: Option<&[u8]>,
    _: EncodeOptions,
) -> Result<Vec<u8>, RasterError> {
    image_crate::encode(tensor, icc, ImageFormat::WebP)
}

/// The RIFF header: `RIFF`, the size of what follows, `WEBP`.
const RIFF_HEADER: usize = 12;
/// A chunk header: its tag and the size of its payload.
const CHUNK_HEADER: usize = 8;
/// The least RIFF size libwebp takes: the `WEBP` tag and one chunk header.
const MIN_RIFF_SIZE: u64 = 12;
/// An `ANMF` chunk's frame header before the frame's own chunks: offsets,
/// size, duration and flags.
const FRAME_HEADER: usize = 16;
/// In an `ANMF` frame's flags, the bit that says "do not blend".
const NO_BLEND: u8 = 0b10;

/// The RIFF container as libwebp reads it — up to the end its size field
/// gives, bytes after it ignored — once every chunk, and every chunk inside
/// an animation frame, is found to lie within it. A size that claims more
/// bytes than there are is a damaged file, as libwebp has it.
fn checked(bytes: &[u8]) -> Result<&[u8], RasterError> {
    let claimed = u64::from(le32(bytes, 4).unwrap_or(0));
    let riff_end = claimed + CHUNK_HEADER as u64;
    if claimed < MIN_RIFF_SIZE || riff_end > bytes.len() as u64 {
        return Err(damaged(format!(
            "the RIFF header gives a size of {claimed} bytes, and {} follow it",
            bytes.len().saturating_sub(CHUNK_HEADER)
        )));
    }
    let riff = &bytes[..riff_end as usize];
    for chunk in chunks(riff, RIFF_HEADER)? {
        if chunk.tag == *b"ANMF" && chunk.payload.len() >= FRAME_HEADER {
            let end = chunk.start + chunk.payload.len();
            chunks(&riff[..end], chunk.start + FRAME_HEADER)?;
        }
    }
    Ok(riff)
}

/// A RIFF chunk: its tag, the offset of its payload, and its payload.
struct Chunk<'a> {
    tag: [u8; 4],
    start: usize,
    payload: &'a [u8],
}

/// The chunks from `from` to the end of `data` (the file, or the file up
/// to a frame's end); a size past the end is an error.
fn chunks(data: &[u8], from: usize) -> Result<Vec<Chunk<'_>>, RasterError> {
    let mut found = Vec::new();
    let mut at = from;
    while at + CHUNK_HEADER <= data.len() {
        let tag: [u8; 4] = data[at..at + 4].try_into().unwrap_or_default();
        let size = le32(data, at + 4).unwrap_or(0) as usize;
        let start = at + CHUNK_HEADER;
        let Some(payload) = data.get(start..start.saturating_add(size)) else {
            let name = if tag.iter().all(|&c| c.is_ascii_alphanumeric() || c == b' ') {
                format!("its {} chunk", String::from_utf8_lossy(&tag).trim_end())
            } else {
                "a chunk".into()
            };
            return Err(damaged(format!(
                "{name} at byte {at} gives a size of {size} bytes, and {} follow it",
                data.len() - start
            )));
        };
        found.push(Chunk {
            tag,
            start,
            payload,
        });
        at = start + size + size % 2;
    }
    Ok(found)
}

/// The file with its first animation frame marked "do not blend", so that
/// it is placed on the empty canvas as it is, as libwebp places it; a still
/// image as it is.
fn first_frame_unblended(riff: &[u8]) -> Cow<'_, [u8]> {
    let first = chunks(riff, RIFF_HEADER)
        .ok()
        .and_then(|found| found.into_iter().find(|chunk| chunk.tag == *b"ANMF"));
    match first {
        Some(frame) if frame.payload.len() >= FRAME_HEADER => {
            let mut owned = riff.to_vec();
            owned[frame.start + FRAME_HEADER - 1] |= NO_BLEND;
            Cow::Owned(owned)
        }
        _ => Cow::Borrowed(riff),
    }
}

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn damaged(why: String) -> RasterError {
    RasterError::Damaged {
        format: "WebP",
        why,
    }
}
