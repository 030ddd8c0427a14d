//! ICO: the entry Pillow opens — the largest, and of equal sizes the one of
//! least color depth, the first of equals — picked from the directory and
//! read as Pillow reads it, trusting the image over the directory: a PNG
//! entry is a PNG file, mapped as PNG files are, however long the directory
//! says it is; a BMP entry takes its size from its own header and the AND
//! mask Pillow applies, decoded by the `image` crate from a one-entry file
//! laid out to say so. Written whole by the `image` crate's encoder.

use std::borrow::Cow;

use image::ImageFormat;

use super::{EncodeOptions, RasterError, image_crate, png};
use crate::raster::Decoded;
use crate::tensor::{SampleType, Tensor};

/// Decodes the entry Pillow opens.
pub(super) fn decode(bytes: &[u8], limit: u64) -> Result<Decoded, RasterError> {
    match chosen_entry(bytes)? {
        Chosen::Png(file) => png::decode(file, limit),
        Chosen::Bmp(one) => image_crate::decode(&one, ImageFormat::Ico, limit).map(Decoded::from),
    }
}

/// Height, width, channels and sample type of the entry Pillow opens.
pub(super) fn probe(
    bytes: &[u8],
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    match chosen_entry(bytes)? {
        Chosen::Png(file) => png::probe(file, limit),
        Chosen::Bmp(one) => image_crate::probe(&one, ImageFormat::Ico, limit),
    }
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
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn damaged(why: impl Into<String>) -> RasterError {
    RasterError::Damaged {
        format: "ICO",
        why: why.into(),
    }
}

/// One directory entry: what Pillow ranks entries by, and where its data starts.
struct Entry {
    square: u32,
    depth: u32,
    offset: usize,
    len: usize,
    bpp: u16,
    raw: [u8; ENTRY],
}

fn entry(raw: [u8; ENTRY]) -> Entry {
    let side = |b: u8| if b == 0 { 256 } else { u32::from(b) };
    let colors = u32::from(raw[2]);
    let bits = u16::from_le_bytes([raw[6], raw[7]]);
    let bpp = u32::from(bits);
    // Pillow's color depth: the bit count, else log2 of the palette size, else 256.
    let depth = match (bpp, colors) {
        (0, 0) => 256,
        (0, n) => u32::BITS - (n - 1).leading_zeros(),
        (b, _) => b,
    };
    Entry {
        square: side(raw[0]) * side(raw[1]),
        depth,
        len: u32::from_le_bytes([raw[8], raw[9], raw[10], raw[11]]) as usize,
        offset: u32::from_le_bytes([raw[12], raw[13], raw[14], raw[15]]) as usize,
        bpp: bits,
        raw,
    }
}

/// The entry Pillow opens: a PNG file, or a one-entry ICO of a BMP entry.
#[derive(Debug)]
enum Chosen<'a> {
    Png(&'a [u8]),
    Bmp(Vec<u8>),
}

fn chosen_entry(bytes: &[u8]) -> Result<Chosen<'_>, RasterError> {
    let count = match bytes.get(4..HEADER) {
        Some(&[a, b]) => usize::from(u16::from_le_bytes([a, b])),
        _ => return Err(damaged("the file ends inside its header")),
    };
    let table = bytes.get(HEADER..HEADER + count * ENTRY).ok_or_else(|| {
        damaged(format!(
            "the file ends inside its directory of {count} entries"
        ))
    })?;
    let best = table
        .chunks_exact(ENTRY)
        .filter_map(|c| c.try_into().ok().map(entry))
        .reduce(|best, e| {
            let better =
                e.square > best.square || (e.square == best.square && e.depth < best.depth);
            if better { e } else { best }
        })
        .ok_or_else(|| damaged("the directory lists no image"))?;
    let past_end = || {
        damaged(format!(
            "an entry's {} bytes at offset {} lie past the end of the file ({} bytes)",
            best.len,
            best.offset,
            bytes.len()
        ))
    };
    // Pillow reads a PNG entry from its offset on, whatever its length.
    let rest = bytes.get(best.offset..).ok_or_else(past_end)?;
    if rest.starts_with(PNG_SIGNATURE) {
        return Ok(Chosen::Png(rest));
    }
    let (width, height) = bitmap_size(rest)?;
    let data = match as_pillow_reads(rest, best.len, best.bpp, width, height) {
        Some(data) => data?,
        None => Cow::Borrowed(rest.get(..best.len).ok_or_else(past_end)?),
    };
    // The directory's sides as the `image` crate checks them: 0 for 256 and more.
    let side = |n: u32| u8::try_from(n).unwrap_or(0);
    let mut out = Vec::with_capacity(HEADER + ENTRY + data.len());
    out.extend_from_slice(&bytes[..4]);
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&[side(width), side(height)]);
    out.extend_from_slice(&best.raw[2..8]);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&((HEADER + ENTRY) as u32).to_le_bytes());
    out.extend_from_slice(&data);
    Ok(Chosen::Bmp(out))
}

/// A BMP entry laid out so that the `image` crate reads what Pillow reads:
/// its pixels whatever the directory's length, then the AND mask Pillow
/// applies — none where the directory gives 32 bits per pixel (the alpha
/// is the pixels' fourth byte), else the mask's rows that end where the
/// directory's length ends. None where the pixels' length cannot be told
/// from the header (compressed, or a palette it need not have), or the
/// file ends inside them: then the entry is read as the directory gives it.
fn as_pillow_reads(
    rest: &[u8],
    len: usize,
    entry_bpp: u16,
    width: u32,
    height: u32,
) -> Option<Result<Cow<'_, [u8]>, RasterError>> {
    let (bpp, end) = pixels_end(rest, width, height)?;
    let pixels = rest.get(..end)?;
    if entry_bpp == 32 {
        return (bpp == 32).then_some(Ok(Cow::Borrowed(pixels)));
    }
    let mask_len = (width as usize).div_ceil(32) * 4 * height as usize;
    let mask = len
        .checked_sub(mask_len)
        .and_then(|start| rest.get(start..len))
        .ok_or_else(|| {
            damaged(format!(
                "an entry of {len} bytes at the end of a {} byte file cannot end in \
                 the {mask_len} bytes of its AND mask",
                rest.len()
            ))
        });
    Some(mask.map(|mask| Cow::Owned([pixels, mask].concat())))
}

/// The bits per pixel of a BMP entry and where its pixels end, for an
/// uncompressed one whose palette is where its header says.
fn pixels_end(data: &[u8], width: u32, height: u32) -> Option<(u16, usize)> {
    let u16_at = |at: usize| Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?));
    let header = u32_at(0)? as usize;
    let (bpp, entry_bytes, compression, used) = if header == 12 {
        (u16_at(10)?, 3, 0, 0)
    } else {
        (u16_at(14)?, 4, u32_at(16)?, u32_at(32)? as usize)
    };
    let masks = match (header, compression) {
        (_, 0) => 0,
        (40, 3) => 12,
        (40, 6) => 16,
        (h, 3 | 6) if h > 40 => 0,
        _ => return None,
    };
    let colors = match (bpp, used) {
        (1 | 4 | 8, 0) => 1 << bpp,
        (1 | 4 | 8, n) => n,
        (16 | 24 | 32, 0) => 0,
        _ => return None,
    };
    let stride = (width as usize * usize::from(bpp)).div_ceil(32) * 4;
    Some((
        bpp,
        header + masks + colors * entry_bytes + stride * height as usize,
    ))
}

/// Width and height of a BMP entry from its own header, as Pillow takes
/// them: the header's height counts the AND mask's rows too, so half of it.
fn bitmap_size(data: &[u8]) -> Result<(u32, u32), RasterError> {
    let short = || {
        damaged(format!(
            "the file ends inside an entry's bitmap header ({} bytes left)",
            data.len()
        ))
    };
    let size = data.get(..4).ok_or_else(short)?;
    let (width, height) = if u32::from_le_bytes([size[0], size[1], size[2], size[3]]) == 12 {
        let d = data.get(4..8).ok_or_else(short)?;
        (
            u32::from(u16::from_le_bytes([d[0], d[1]])),
            u32::from(u16::from_le_bytes([d[2], d[3]])),
        )
    } else {
        let d = data.get(4..12).ok_or_else(short)?;
        (
            i32::from_le_bytes([d[0], d[1], d[2], d[3]]).unsigned_abs(),
            i32::from_le_bytes([d[4], d[5], d[6], d[7]]).unsigned_abs(),
        )
    };
    Ok((width, height / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_entry(w: u8, h: u8, bpp: u16, offset: u32) -> Vec<u8> {
        let mut e = vec![w, h, 0, 0, 1, 0];
        e.extend_from_slice(&bpp.to_le_bytes());
        e.extend_from_slice(&12u32.to_le_bytes());
        e.extend_from_slice(&offset.to_le_bytes());
        e
    }

    /// The start of a BITMAPINFOHEADER of `w` by `h` rows (mask rows included).
    fn dib(w: i32, h: i32) -> Vec<u8> {
        let mut d = 40u32.to_le_bytes().to_vec();
        d.extend_from_slice(&w.to_le_bytes());
        d.extend_from_slice(&h.to_le_bytes());
        d
    }

    #[test]
    fn the_largest_entry_wins_over_a_deeper_one_and_its_own_size_over_the_directory() {
        let mut file = vec![0, 0, 1, 0, 3, 0];
        file.extend(dir_entry(16, 16, 32, 54));
        file.extend(dir_entry(32, 32, 8, 66));
        file.extend(dir_entry(32, 32, 32, 78));
        file.extend(dib(16, 32));
        file.extend(dib(300, -40));
        file.extend(dib(32, 64));
        file.extend_from_slice(b"more");
        let Ok(Chosen::Bmp(one)) = chosen_entry(&file) else {
            panic!("a BMP entry");
        };
        assert_eq!(&one[4..6], &[1, 0]);
        assert_eq!(&one[6..8], &[0, 20]);
        assert_eq!(&one[12..14], &8u16.to_le_bytes());
        assert_eq!(&one[14..18], &12u32.to_le_bytes());
        assert_eq!(&one[22..], &file[66..78]);
    }

    #[test]
    fn a_png_entry_is_the_rest_of_the_file() {
        let mut file = vec![0, 0, 1, 0, 1, 0];
        file.extend(dir_entry(16, 16, 32, 22));
        file.extend_from_slice(b"\x89PNG\r\n\x1a\nlonger than 12");
        assert!(matches!(chosen_entry(&file), Ok(Chosen::Png(png)) if png == &file[22..]));
    }

    #[test]
    fn entries_past_the_end_are_damage() {
        let mut file = vec![0, 0, 1, 0, 2, 0];
        file.extend(dir_entry(16, 16, 32, 38));
        file.extend(dir_entry(32, 32, 32, 900));
        file.extend_from_slice(b"aabbccddeeff");
        let why = |file: &[u8]| chosen_entry(file).unwrap_err().to_string();
        assert!(why(&file).contains("past the end"));
        file[6] = 64;
        file[7] = 64;
        file[14] = 13;
        assert!(why(&file).contains("13 bytes at offset 38"));
        file.truncate(41);
        assert!(why(&file).contains("bitmap header (3 bytes left)"));
        assert!(why(&[0, 0, 1, 0, 5, 0]).contains("directory of 5"));
        assert!(why(&[0, 0, 1, 0, 0, 0]).contains("no image"));
        assert!(why(&[0, 0, 1]).contains("header"));
    }

    /// A BMP entry of 40-byte header, `w` by `rows` pixels of `bpp` bits,
    /// then `tail` bytes numbered from 0.
    fn bitmap(w: i32, rows: i32, bpp: u16, tail: u8) -> Vec<u8> {
        let mut d = dib(w, rows * 2);
        d.extend_from_slice(&1u16.to_le_bytes());
        d.extend_from_slice(&bpp.to_le_bytes());
        d.resize(40, 0);
        d.extend(0..tail);
        d
    }

    #[test]
    fn the_mask_is_the_one_pillow_applies() {
        // 1 bit: a palette of 2 colors and 2 rows of 4 bytes end at 56; the
        // mask's 8 bytes end where the directory's length does, wherever that is.
        let rest = bitmap(8, 2, 1, 30);
        let read = |len| as_pillow_reads(&rest, len, 1, 8, 2).map(|r| r.map(Cow::into_owned));
        let laid = [&rest[..56], &rest[52..60]].concat();
        assert_eq!(read(60).and_then(Result::ok), Some(laid));
        let laid = [&rest[..56], &rest[56..64]].concat();
        assert_eq!(read(64).and_then(Result::ok), Some(laid));
        let err = read(5).and_then(Result::err).map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("entry of 5 bytes")));
        // 32 bits: the pixels alone, the mask left out; not so where the
        // directory and the header disagree, or the pixels are cut short.
        let rest = bitmap(2, 2, 32, 30);
        let read =
            |bpp, rest: &[u8]| as_pillow_reads(rest, 3, bpp, 2, 2).map(|r| r.map(Cow::into_owned));
        assert_eq!(
            read(32, &rest).and_then(Result::ok),
            Some(rest[..56].to_vec())
        );
        assert!(read(32, &bitmap(2, 2, 24, 30)).is_none());
        assert!(read(32, &rest[..50]).is_none());
        let mut rle = bitmap(2, 2, 8, 30);
        rle[16] = 1;
        assert!(read(8, &rle).is_none());
    }
}
