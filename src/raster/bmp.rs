//! BMP headers as other readers take them, rewritten in memory before the
//! `image` crate's decoder sees the file: an OS/2 2.x header becomes the
//! Windows header it extends; a pixel-data offset that points at the start
//! of the palette is moved to its end, as Pillow moves it; and a palette
//! cut short by the pixel-data offset is declared as short as it is.

use std::borrow::Cow;

use super::RasterError;

/// Size of the file header before the bitmap header.
const FILE_HEADER: usize = 14;
/// The Windows `BITMAPINFOHEADER`.
const INFO_HEADER: usize = 40;
/// The OS/2 2.x header. Shorter forms, which omit trailing fields, are
/// refused, as Pillow refuses them: no reader at hand confirms their pixels.
const OS2_V2: usize = 64;

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The file as the decoder should see it; unchanged (and not copied)
/// unless one of the two cases applies.
pub(super) fn normalize(bytes: &[u8]) -> Result<Cow<'_, [u8]>, RasterError> {
    let Some(header_len) = u32_at(bytes, FILE_HEADER) else {
        // Too short to hold a header: the decoder says so.
        return Ok(Cow::Borrowed(bytes));
    };
    let mut header_len = header_len as usize;
    let mut bytes = Cow::Borrowed(bytes);
    if header_len == OS2_V2 {
        bytes = Cow::Owned(os2_to_windows(&bytes, header_len)?);
        header_len = INFO_HEADER;
    }
    let offset = u32_at(&bytes, 10).unwrap_or(0) as usize;
    let palette_start = FILE_HEADER + header_len;
    let Some((palette_end, entry)) = palette_end(&bytes, header_len) else {
        return Ok(bytes);
    };
    if offset == palette_start && palette_end <= bytes.len() {
        bytes.to_mut()[10..14].copy_from_slice(&(palette_end as u32).to_le_bytes());
    } else if entry == 4 && (palette_start + entry..palette_end).contains(&offset) {
        let stored = ((offset - palette_start) / entry) as u32;
        let colours_used = FILE_HEADER + 32;
        bytes.to_mut()[colours_used..colours_used + 4].copy_from_slice(&stored.to_le_bytes());
    }
    Ok(bytes)
}

/// Where the palette of a paletted image ends, and the bytes of one entry,
/// for headers that have one.
fn palette_end(bytes: &[u8], header_len: usize) -> Option<(usize, usize)> {
    let (bit_count, colours_used, entry) = if header_len == 12 {
        (u16_at(bytes, FILE_HEADER + 10)?, 0, 3)
    } else {
        (
            u16_at(bytes, FILE_HEADER + 14)?,
            u32_at(bytes, FILE_HEADER + 32)?,
            4,
        )
    };
    if bit_count == 0 || bit_count > 8 {
        return None;
    }
    let colours = match colours_used {
        0 => 1usize << bit_count,
        n => (n as usize).min(1 << bit_count),
    };
    Some((FILE_HEADER + header_len + colours * entry, entry))
}

/// An OS/2 2.x file rewritten with a `BITMAPINFOHEADER`: its first fields
/// are the same, those it omits are zero, and the fields past them (units,
/// halftoning, colour encoding) say nothing a decoder needs.
fn os2_to_windows(bytes: &[u8], header_len: usize) -> Result<Vec<u8>, RasterError> {
    let unsupported = |why: &str| RasterError::Damaged {
        format: "BMP",
        why: why.into(),
    };
    let header_end = FILE_HEADER + header_len;
    let Some(header) = bytes.get(FILE_HEADER..header_end) else {
        return Err(unsupported("the file ends inside its OS/2 bitmap header"));
    };
    // OS/2 compression 3 is Huffman 1D and 4 is RLE24, not Windows' bit fields and JPEG.
    if header_len >= 20 && matches!(u32_at(header, 16), Some(3 | 4)) {
        return Err(unsupported(
            "OS/2 Huffman 1D and RLE24 compression are not supported",
        ));
    }
    let mut info = [0u8; INFO_HEADER];
    let kept = header_len.min(INFO_HEADER);
    info[..kept].copy_from_slice(&header[..kept]);
    info[..4].copy_from_slice(&(INFO_HEADER as u32).to_le_bytes());
    let mut out = Vec::with_capacity(bytes.len() + INFO_HEADER);
    out.extend_from_slice(&bytes[..FILE_HEADER]);
    out.extend_from_slice(&info);
    out.extend_from_slice(&bytes[header_end..]);
    let offset = u32_at(bytes, 10).unwrap_or(0) as i64 + INFO_HEADER as i64 - header_len as i64;
    out[10..14].copy_from_slice(&(offset.max(0) as u32).to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2×1 1-bit BMP with a header of `header_len` bytes, two palette
    /// entries and its pixel offset at `offset` (relative to the palette end
    /// when negative).
    fn bmp(header_len: usize, offset_from_palette_end: i64) -> Vec<u8> {
        let palette_end = FILE_HEADER + header_len + 8;
        let offset = (palette_end as i64 + offset_from_palette_end) as u32;
        let mut out = b"BM".to_vec();
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        let mut header = vec![0u8; header_len];
        header[..4].copy_from_slice(&(header_len as u32).to_le_bytes());
        header[4..8].copy_from_slice(&2i32.to_le_bytes());
        header[8..12].copy_from_slice(&1i32.to_le_bytes());
        header[12..14].copy_from_slice(&1u16.to_le_bytes());
        header[14..16].copy_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&[0, 0, 0, 0, 255, 255, 255, 0]);
        out.extend_from_slice(&[0b0100_0000, 0, 0, 0]);
        out
    }

    #[test]
    fn an_offset_at_the_palette_start_moves_to_its_end() {
        let at_start = bmp(40, -8);
        let fixed = normalize(&at_start).unwrap();
        assert_eq!(u32_at(&fixed, 10), Some(14 + 40 + 8));
        let right = bmp(40, 0);
        assert!(matches!(normalize(&right).unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn an_offset_inside_the_palette_makes_it_short() {
        let inside = bmp(40, -4);
        let fixed = normalize(&inside).unwrap();
        assert_eq!(u32_at(&fixed, 10), u32_at(&inside, 10));
        assert_eq!(u32_at(&fixed, 14 + 32), Some(1));
    }

    #[test]
    fn os2_v2_headers_become_windows_headers() {
        let os2 = bmp(OS2_V2, 0);
        let fixed = normalize(&os2).unwrap();
        assert_eq!(u32_at(&fixed, 14), Some(40));
        assert_eq!(u32_at(&fixed, 10), Some(14 + 40 + 8));
        assert_eq!(fixed.len(), os2.len() + 40 - OS2_V2);
        let image = image::load_from_memory_with_format(&fixed, image::ImageFormat::Bmp)
            .unwrap()
            .to_rgb8();
        assert_eq!(image.as_raw(), &[0, 0, 0, 255, 255, 255]);
    }
}
