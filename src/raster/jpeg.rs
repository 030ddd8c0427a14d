//! JPEG decoding that refuses damage: zune-jpeg in strict mode (corrupt
//! entropy data, a premature end of a scan or a marker out of place are
//! errors, not gray fill), and a walk over the file's markers that finds
//! the end-of-image marker after the last scan.

use image::{DynamicImage, ImageBuffer};
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use super::RasterError;

/// Decodes a whole JPEG file: gray stays gray, RGB stays RGB, and CMYK or
/// YCCK become RGB, as before; refuses images over `limit` bytes decoded.
pub(super) fn decode(
    bytes: &[u8],
    limit: u64,
) -> Result<(DynamicImage, Option<Vec<u8>>), RasterError> {
    let damaged = |why: String| RasterError::Damaged {
        format: "JPEG",
        why,
    };
    check_complete(bytes).map_err(damaged)?;
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(usize::MAX)
        .set_max_height(usize::MAX);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder
        .decode_headers()
        .map_err(|e| damaged(e.to_string()))?;
    let (Some((width, height)), Some(colour)) = (decoder.dimensions(), decoder.input_colorspace())
    else {
        return Err(damaged("the headers give no size or colour space".into()));
    };
    let out = match colour {
        ColorSpace::Luma => ColorSpace::Luma,
        _ => ColorSpace::RGB,
    };
    let decoded_len = (width as u64) * (height as u64) * out.num_components() as u64;
    if decoded_len > limit {
        return Err(RasterError::Limit {
            format: "JPEG",
            limit_mib: limit >> 20,
        });
    }
    decoder.set_options(decoder.options().jpeg_set_out_colorspace(out));
    let pixels = decoder.decode().map_err(|e| damaged(e.to_string()))?;
    let icc = decoder.icc_profile();
    let (w, h) = (width as u32, height as u32);
    let image = match out {
        ColorSpace::Luma => ImageBuffer::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8),
        _ => ImageBuffer::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8),
    };
    let image = image.ok_or_else(|| damaged("fewer pixels than its size".into()))?;
    Ok((image, icc))
}

/// Walks the markers from the start of the file and fails unless the last
/// scan's data ends in the end-of-image marker. Segment lengths are
/// followed, and entropy-coded data is skipped up to its next marker (a
/// `0xFF` byte there is stuffed as `FF 00`, and restart markers belong to it).
fn check_complete(bytes: &[u8]) -> Result<(), String> {
    let mut at = 2; // past the start-of-image marker
    let mut scan_start = None;
    loop {
        let Some(marker) = next_marker(bytes, &mut at) else {
            return Err(match scan_start {
                Some(start) => format!(
                    "the scan data ends after {} bytes, before the end-of-image marker",
                    bytes.len() - start
                ),
                None => "the file ends before its first scan".into(),
            });
        };
        match marker {
            0xD9 => return Ok(()),
            0x01 | 0xD0..=0xD7 => {}
            _ => {
                let len = bytes
                    .get(at..at + 2)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                    .ok_or_else(|| {
                        format!("the file ends inside the header of marker FF{marker:02X}")
                    })?;
                if len < 2 || at + len > bytes.len() {
                    return Err(format!(
                        "marker FF{marker:02X} at byte {} claims {len} bytes; the file ends first",
                        at - 2
                    ));
                }
                at += len;
                if marker == 0xDA {
                    scan_start = Some(at);
                    skip_entropy_data(bytes, &mut at);
                }
            }
        }
    }
}

/// The next marker's code, `at` left just past it; `None` at the end.
fn next_marker(bytes: &[u8], at: &mut usize) -> Option<u8> {
    while *at < bytes.len() && bytes[*at] != 0xFF {
        *at += 1;
    }
    // Fill bytes: any number of 0xFF may precede a marker code.
    while *at < bytes.len() && bytes[*at] == 0xFF {
        *at += 1;
    }
    let code = *bytes.get(*at)?;
    *at += 1;
    Some(code)
}

/// Moves `at` to the first marker after a scan's entropy-coded data that
/// is neither a stuffed byte nor a restart marker.
fn skip_entropy_data(bytes: &[u8], at: &mut usize) {
    while *at + 1 < bytes.len() {
        if bytes[*at] == 0xFF && !matches!(bytes[*at + 1], 0x00 | 0xD0..=0xD7 | 0xFF) {
            return;
        }
        *at += 1;
    }
    *at = bytes.len();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Start of image, a scan header of `len` bytes, `data`, and what follows.
    fn jpeg(data: &[u8], tail: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x04, 0x01, 0x02];
        out.extend_from_slice(data);
        out.extend_from_slice(tail);
        out
    }

    #[test]
    fn a_scan_must_end_in_the_end_of_image_marker() {
        assert_eq!(
            check_complete(&jpeg(&[1, 0xFF, 0x00, 2], &[0xFF, 0xD9])),
            Ok(())
        );
        let restarts = jpeg(&[1, 0xFF, 0xD0, 2, 0xFF, 0xD7], &[0xFF, 0xD9, 9, 9]);
        assert_eq!(check_complete(&restarts), Ok(()));
        let cut = check_complete(&jpeg(&[1; 14], &[])).unwrap_err();
        assert!(cut.contains("ends after 14 bytes"), "{cut}");
        let lying = [0xFF, 0xD8, 0xFF, 0xE0, 0x40, 0x00, 1, 2];
        assert!(
            check_complete(&lying)
                .unwrap_err()
                .contains("claims 16384 bytes")
        );
        assert!(check_complete(&[0xFF, 0xD8]).is_err());
    }

    #[test]
    fn progressive_scans_are_followed_to_the_end() {
        let mut two_scans = jpeg(&[5, 6], &[0xFF, 0xC4, 0x00, 0x03, 0xD9]);
        two_scans.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 7, 0xFF, 0xD9]);
        assert_eq!(check_complete(&two_scans), Ok(()));
        two_scans.truncate(two_scans.len() - 2);
        assert!(check_complete(&two_scans).is_err());
    }
}
