//! 16-bit BMPs as Pillow reads them. Pillow knows two layouts of 16-bit
//! pixels, 5-5-5 and 5-6-5 (the default, and the two bit-field masks that
//! say so); it reads them as RGB, ignoring an alpha mask, and scales a
//! channel of `n` bits to 8 by `v * 255 / (2^n - 1)`, rounded down. The
//! `image` crate rounds to the nearest instead, and reads a file with an
//! alpha mask as RGBA — the 1-bit alpha of a 5-5-5-1 file, 0 in every file
//! seen, making the whole image transparent. So before decoding, the alpha
//! mask of these layouts is cleared, and after, each sample is scaled as
//! Pillow scales it: the crate's rounding is one to one, so each 8-bit
//! sample names the stored value it came from.

use super::read::{FILE_HEADER, u16_at, u32_at};

/// Where a V3 or later header holds the alpha mask.
const ALPHA_MASK: usize = FILE_HEADER + 52;
/// Where the red, green and blue masks are, inside the header or after it.
const RGB_MASKS: usize = FILE_HEADER + 40;

/// The bits of red, green and blue in a 16-bit layout Pillow reads, or
/// `None` for any other file.
fn layout(bytes: &[u8]) -> Option<[u32; 3]> {
    let header_len = u32_at(bytes, FILE_HEADER)?;
    if header_len < 40 || u16_at(bytes, FILE_HEADER + 14)? != 16 {
        return None;
    }
    match u32_at(bytes, FILE_HEADER + 16)? {
        0 => Some([5, 5, 5]),
        3 => {
            let masks = [0, 4, 8].map(|at| u32_at(bytes, RGB_MASKS + at));
            match masks {
                [Some(0x7C00), Some(0x3E0), Some(0x1F)] => Some([5, 5, 5]),
                [Some(0xF800), Some(0x7E0), Some(0x1F)] => Some([5, 6, 5]),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether the file is a 16-bit layout Pillow reads with an alpha mask
/// that must be cleared (a V3 or later header, bit fields).
pub(super) fn has_alpha_mask(bytes: &[u8]) -> bool {
    let in_header = u32_at(bytes, FILE_HEADER).is_some_and(|len| len >= 56);
    let bit_fields = u32_at(bytes, FILE_HEADER + 16) == Some(3);
    in_header
        && bit_fields
        && layout(bytes).is_some()
        && u32_at(bytes, ALPHA_MASK).is_some_and(|mask| mask != 0)
}

/// Clears the alpha mask of a file [`has_alpha_mask`] accepts.
pub(super) fn clear_alpha_mask(bytes: &mut [u8]) {
    bytes[ALPHA_MASK..ALPHA_MASK + 4].fill(0);
}

/// From the `image` crate's 8-bit samples of a 16-bit BMP to Pillow's.
pub(super) struct PillowScale {
    /// One table a channel, red, green and blue.
    tables: [[u8; 256]; 3],
}

impl PillowScale {
    /// The scale of a file's 16-bit layout, if it is one Pillow reads.
    pub(super) fn of(bytes: &[u8]) -> Option<Self> {
        layout(bytes).map(|bits| Self {
            tables: bits.map(table),
        })
    }

    /// Rescales decoded RGB samples in place.
    pub(super) fn apply(&self, rgb: &mut [u8]) {
        for pixel in rgb.chunks_exact_mut(3) {
            for (sample, table) in pixel.iter_mut().zip(&self.tables) {
                *sample = table[usize::from(*sample)];
            }
        }
    }
}

/// The crate's value of each stored `bits`-bit value, rounded to the
/// nearest, mapped to Pillow's, rounded down.
fn table(bits: u32) -> [u8; 256] {
    let max = (1u32 << bits) - 1;
    let mut out = [0u8; 256];
    for v in 0..=max {
        let nearest = (v * 255 + max / 2) / max;
        out[nearest as usize] = (v * 255 / max) as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1×1 16-bit bit-field BMP with a V3 header (56 bytes), the given
    /// masks and pixel.
    fn bmp(masks: [u32; 4], pixel: u16) -> Vec<u8> {
        let offset = FILE_HEADER + 56;
        let mut out = b"BM".to_vec();
        out.extend_from_slice(&((offset + 4) as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(offset as u32).to_le_bytes());
        let mut header = vec![0u8; 56];
        header[..4].copy_from_slice(&56u32.to_le_bytes());
        header[4..8].copy_from_slice(&1i32.to_le_bytes());
        header[8..12].copy_from_slice(&1i32.to_le_bytes());
        header[12..14].copy_from_slice(&1u16.to_le_bytes());
        header[14..16].copy_from_slice(&16u16.to_le_bytes());
        header[16..20].copy_from_slice(&3u32.to_le_bytes());
        for (i, mask) in masks.iter().enumerate() {
            header[40 + 4 * i..44 + 4 * i].copy_from_slice(&mask.to_le_bytes());
        }
        out.extend_from_slice(&header);
        out.extend_from_slice(&pixel.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    #[test]
    fn every_stored_value_scales_down_as_pillow_scales_it() {
        for (masks, bits) in [
            ([0x7C00, 0x3E0, 0x1F, 0x8000], [5, 5, 5]),
            ([0xF800, 0x7E0, 0x1F, 0], [5, 6, 5]),
        ] {
            for v in 0..32u16 {
                let g = if bits[1] == 6 { v * 2 + 1 } else { v };
                let pixel = (v << (5 + bits[1])) | (g << 5) | (31 - v);
                let mut file = bmp(masks, pixel);
                if has_alpha_mask(&file) {
                    clear_alpha_mask(&mut file);
                }
                let image =
                    image::load_from_memory_with_format(&file, image::ImageFormat::Bmp).unwrap();
                let mut rgb = image.as_rgb8().unwrap().as_raw().clone();
                PillowScale::of(&file).unwrap().apply(&mut rgb);
                let g_max = (1u32 << bits[1]) - 1;
                let expected = [
                    u32::from(v) * 255 / 31,
                    u32::from(g) * 255 / g_max,
                    u32::from(31 - v) * 255 / 31,
                ];
                assert_eq!(rgb, expected.map(|e| e as u8), "{masks:x?} {v}");
            }
        }
    }

    #[test]
    fn other_layouts_are_left_to_the_decoder() {
        let file = bmp([0xF00, 0xF0, 0xF, 0xF000], 0);
        assert!(!has_alpha_mask(&file));
        assert!(PillowScale::of(&file).is_none());
    }
}
