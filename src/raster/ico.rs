//! ICO: the entry Pillow opens — the largest, and of equal sizes the one of
//! least color depth, the first of equals — picked from the directory, so
//! that the `image` crate (which prefers depth over size) decodes that one;
//! written whole by the `image` crate's encoder.

use std::borrow::Cow;

use image::ImageFormat;

use super::{EncodeOptions, RasterError, image_crate, png};
use crate::raster::Decoded;
use crate::tensor::{SampleType, Tensor};

/// Decodes the entry Pillow opens, a PNG one checked as PNG files are.
pub(super) fn decode(bytes: &[u8], limit: u64) -> Result<Decoded, RasterError> {
    let one = largest_entry(bytes)?;
    if let Some(entry) = png_entry(&one) {
        png::check_palette(entry)?;
    }
    image_crate::decode(&one, ImageFormat::Ico, limit).map(Decoded::from)
}

/// Height, width, channels and sample type of the entry Pillow opens.
pub(super) fn probe(
    bytes: &[u8],
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    image_crate::probe(&largest_entry(bytes)?, ImageFormat::Ico, limit)
}

/// A whole image through the `image` crate's encoder.
pub(super) fn encode(
    tensor: &Tensor,
    icc: Option<&[u8]>,
    _: EncodeOptions,
) -> Result<Vec<u8>, RasterError> {
    image_crate::encode(tensor, icc, ImageFormat::Ico)
}

const HEADER: usize = 6;
const ENTRY: usize = 16;

fn damaged(why: impl Into<String>) -> RasterError {
    RasterError::Damaged {
        format: "ICO",
        why: why.into(),
    }
}

/// One directory entry: what Pillow ranks entries by, and where its data lies.
struct Entry {
    square: u32,
    depth: u32,
    offset: usize,
    len: usize,
    raw: [u8; ENTRY],
}

fn entry(raw: [u8; ENTRY]) -> Entry {
    let side = |b: u8| if b == 0 { 256 } else { u32::from(b) };
    let colors = u32::from(raw[2]);
    let bpp = u32::from(u16::from_le_bytes([raw[6], raw[7]]));
    // Pillow's color depth: the bit count, else log2 of the palette size, else 256.
    let depth = match (bpp, colors) {
        (0, 0) => 256,
        (0, n) => u32::BITS - (n - 1).leading_zeros(),
        (b, _) => b,
    };
    let word = |at: usize| u32::from_le_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]]);
    Entry {
        square: side(raw[0]) * side(raw[1]),
        depth,
        len: word(8) as usize,
        offset: word(12) as usize,
        raw,
    }
}

/// The file cut down to the one entry Pillow would open; a file of one
/// entry is returned as it is.
fn largest_entry(bytes: &[u8]) -> Result<Cow<'_, [u8]>, RasterError> {
    let count = match bytes.get(4..HEADER) {
        Some(&[a, b]) => usize::from(u16::from_le_bytes([a, b])),
        _ => return Err(damaged("the file ends inside its header")),
    };
    if count == 0 {
        return Err(damaged("the directory lists no image"));
    }
    let table = bytes.get(HEADER..HEADER + count * ENTRY).ok_or_else(|| {
        damaged(format!(
            "the file ends inside its directory of {count} entries"
        ))
    })?;
    let entries: Vec<Entry> = table
        .chunks_exact(ENTRY)
        .filter_map(|c| c.try_into().ok().map(entry))
        .collect();
    let best = entries
        .iter()
        .reduce(|best, e| {
            let better =
                e.square > best.square || (e.square == best.square && e.depth < best.depth);
            if better { e } else { best }
        })
        .ok_or_else(|| damaged("the directory lists no image"))?;
    if count == 1 {
        return Ok(Cow::Borrowed(bytes));
    }
    let data = best
        .offset
        .checked_add(best.len)
        .and_then(|end| bytes.get(best.offset..end))
        .ok_or_else(|| {
            damaged(format!(
                "an entry's {} bytes at offset {} lie past the end of the file ({} bytes)",
                best.len,
                best.offset,
                bytes.len()
            ))
        })?;
    let mut out = Vec::with_capacity(HEADER + ENTRY + data.len());
    out.extend_from_slice(&bytes[..4]);
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&best.raw[..12]);
    out.extend_from_slice(&((HEADER + ENTRY) as u32).to_le_bytes());
    out.extend_from_slice(data);
    Ok(Cow::Owned(out))
}

/// The PNG file of a one-entry ICO made by [`largest_entry`], if its entry is one.
fn png_entry(one: &[u8]) -> Option<&[u8]> {
    let offset = one.get(18..22)?;
    let offset = u32::from_le_bytes(offset.try_into().ok()?) as usize;
    one.get(offset..)
        .filter(|data| data.starts_with(b"\x89PNG\r\n\x1a\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_entry(w: u8, h: u8, bpp: u16, len: u32, offset: u32) -> Vec<u8> {
        let mut e = vec![w, h, 0, 0, 1, 0];
        e.extend_from_slice(&bpp.to_le_bytes());
        e.extend_from_slice(&len.to_le_bytes());
        e.extend_from_slice(&offset.to_le_bytes());
        e
    }

    #[test]
    fn the_largest_entry_wins_over_a_deeper_one() {
        let mut file = vec![0, 0, 1, 0, 3, 0];
        file.extend(dir_entry(16, 16, 32, 2, 54));
        file.extend(dir_entry(32, 32, 8, 2, 56));
        file.extend(dir_entry(32, 32, 32, 2, 58));
        file.extend_from_slice(b"aabbcc");
        let one = largest_entry(&file).unwrap();
        assert_eq!(&one[4..6], &[1, 0]);
        assert_eq!(&one[6..8], &[32, 32]);
        assert_eq!(&one[12..14], &8u16.to_le_bytes());
        assert_eq!(&one[22..], b"bb");
        assert_eq!(png_entry(&one), None);
        let mut png = one.into_owned();
        png.truncate(22);
        png.extend_from_slice(b"\x89PNG\r\n\x1a\nrest");
        assert_eq!(png_entry(&png), Some(&png[22..]));
    }

    #[test]
    fn entries_past_the_end_are_damage() {
        let mut file = vec![0, 0, 1, 0, 2, 0];
        file.extend(dir_entry(16, 16, 32, 2, 38));
        file.extend(dir_entry(32, 32, 32, 900, 40));
        file.extend_from_slice(b"aabb");
        assert!(
            largest_entry(&file)
                .unwrap_err()
                .to_string()
                .contains("past the end")
        );
        assert!(largest_entry(&[0, 0, 1, 0, 5, 0]).is_err());
        assert!(largest_entry(&[0, 0, 1]).is_err());
    }
}
