//! JPEG decoded whole as Pillow decodes it, after a walk over its markers
//! that names a scan or segment cut short.

use std::cell::RefCell;
use std::os::raw::c_int;

use turbojpeg_sys as tj;

use super::lenient::{Opened, open};
use super::markers::{check_complete, next_marker};
use super::turbo::{JpegHeader, damaged};
use crate::raster::{Decoded, RasterError, Window};
use crate::tensor::npy::sample_buffer;
use crate::tensor::{SampleType, Tensor};

/// Decodes a whole JPEG file as Pillow does: gray stays gray, YCbCr and
/// RGB become RGB, and CMYK or YCCK become RGB as Pillow's
/// `convert("RGB")` makes them (what Keras' `load_img` gives); refuses
/// images over `limit` bytes decoded. Returns the ICC profile too.
pub(in crate::raster) fn decode(bytes: &[u8], limit: u64) -> Result<Decoded, RasterError> {
    decode_with_warnings(bytes, limit).map(Decoded::from)
}

/// The `window` of a JPEG file, the pixels [`decode`] gives there, decoded
/// alone: the rows above it are skipped and the columns outside it are
/// not transformed (libjpeg-turbo's `jpeg_skip_scanlines` and
/// `jpeg_crop_scanline`), while every block is still entropy-decoded up to
/// the end-of-image marker, so the whole file is checked. `limit` bounds
/// the part decoded.
pub(in crate::raster) fn decode_window(
    bytes: &[u8],
    window: &Window,
    limit: u64,
) -> Result<Decoded, RasterError> {
    decode_part(bytes, Some(window), limit).map(Decoded::from)
}

/// A JPEG decoded: its pixels, its ICC profile, and what was skipped in
/// its headers to decode it, a sentence each.
pub(super) type Parts = (Tensor, Option<Vec<u8>>, Vec<String>);

impl From<Parts> for Decoded {
    fn from((tensor, icc, skipped): Parts) -> Self {
        Decoded {
            tensor,
            icc,
            skipped,
        }
    }
}

/// [`decode`], with what was skipped in the headers to decode it (see
/// [`super::lenient`]), a sentence each, for the job to show as warnings.
pub(super) fn decode_with_warnings(bytes: &[u8], limit: u64) -> Result<Parts, RasterError> {
    decode_part(bytes, None, limit)
}

/// The `window` of a JPEG file (all of it for `None`), decoded. A partial
/// decode that libjpeg-turbo refuses (a lossless JPEG, a sampling it has
/// no block grid for) or that fails is done again whole, so that a file
/// decodes, or fails, as it does whole.
fn decode_part(bytes: &[u8], window: Option<&Window>, limit: u64) -> Result<Parts, RasterError> {
    check_complete(bytes).map_err(damaged)?;
    let mut opened = open(bytes, tj::TJINIT_TJINIT_DECOMPRESS).map_err(damaged)?;
    let header = &opened.header;
    let (w, h) = (header.width, header.height);
    let whole = Window {
        rows: 0..h,
        cols: 0..w,
    };
    let window = window.unwrap_or(&whole);
    window.check_inside(w, h)?;
    let region = decoded_region(header, window).filter(|region| {
        let set = opened.handle.set_cropping_region(Some(region));
        set.is_ok()
    });
    let decoded = region.as_ref().unwrap_or(&whole);
    let channels = header.pixel_format().1;
    let decoded_len = (decoded.rows.len() * decoded.cols.len()) as u64 * channels as u64;
    RasterError::check_limit("JPEG", decoded_len.into(), limit)?;
    let icc = opened.icc_profile().map_err(damaged)?;
    let pixels = match decode_cut(&opened, decoded, window) {
        Err(_) if region.is_some() => {
            opened.handle.set_cropping_region(None).map_err(damaged)?;
            decode_cut(&opened, &whole, window)?
        }
        pixels => pixels?,
    };
    let (channels, pixels) = match channels {
        1 | 3 => (channels, pixels),
        _ => (3, cmyk_to_rgb(&pixels, has_adobe_marker(&opened.bytes))),
    };
    let (height, width) = (window.rows.len(), window.cols.len());
    let tensor = Tensor::from_le_bytes(height, width, channels, SampleType::U8, pixels)
        .ok_or_else(|| damaged("fewer pixels than its size".into()))?;
    Ok((tensor, icc, opened.skipped))
}

/// The part of a JPEG libjpeg-turbo decodes for `window`, if it is less
/// than the whole image: the window's columns widened to the block grid
/// (the MCU) and by one more MCU on each side where there is one, since
/// the smooth upsampling of 4:2:0 and 4:2:2 chroma treats the edges of a
/// partial row as the image's edges; and the rows from the window's first
/// to the last of the image. Rows above are skipped, their blocks
/// entropy-decoded and checked but not transformed; rows below are decoded
/// (in those columns only), since libjpeg-turbo would skip them to the
/// end-of-image marker unread.
fn decoded_region(header: &JpegHeader, window: &Window) -> Option<Window> {
    let (mcu, _) = header.mcu()?;
    let left = (window.cols.start / mcu).saturating_sub(1) * mcu;
    let right = (window.cols.end.div_ceil(mcu) + 1) * mcu;
    let region = Window {
        rows: window.rows.start..header.height,
        cols: left..right.min(header.width),
    };
    let whole = region.cols.len() == header.width && region.rows.len() == header.height;
    (!whole && !window.rows.is_empty() && !window.cols.is_empty()).then_some(region)
}

/// Decoded regions up to this size, where the window is at most half of
/// them, are decoded into a buffer the thread keeps for the next and the
/// window copied out: in a batch of small pictures, the pages of a new
/// buffer each cost a fault, more than decoding a row. A window that is
/// most of its region is cut in place, which copies nothing more.
const SCRATCH_MAX: usize = 4 << 20;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// `window` of the image `opened` holds, decoded: `decoded`, the region it
/// decodes (its cropping region, or the whole image), cut to the window.
fn decode_cut(
    opened: &Opened<'_>,
    decoded: &Window,
    window: &Window,
) -> Result<Vec<u8>, RasterError> {
    let channels = opened.header.pixel_format().1;
    let len = decoded.rows.len() * decoded.cols.len() * channels;
    let kept = window.rows.len() * window.cols.len() * channels;
    if kept * 2 > len || len > SCRATCH_MAX {
        let mut pixels = Vec::new();
        decompress(opened, decoded, &mut pixels)?;
        return Ok(cut(pixels, decoded, window, channels));
    }
    SCRATCH.with_borrow_mut(|scratch| {
        decompress(opened, decoded, scratch)?;
        Ok(copy_window(scratch, decoded, window, channels))
    })
}

/// Decodes the region of the image `opened` holds (its cropping region, or
/// the whole image) into `pixels`, rows packed, replacing what it held.
fn decompress(
    opened: &Opened<'_>,
    region: &Window,
    pixels: &mut Vec<u8>,
) -> Result<(), RasterError> {
    let (pixel_format, channels) = opened.header.pixel_format();
    let bytes = &opened.bytes;
    let len = region.rows.len() * region.cols.len() * channels;
    // Not zeroed first: the library writes every byte of it, or fails.
    pixels.clear();
    pixels.reserve_exact(len);
    // SAFETY: `pixels` has room for the region's rows of `pixel_format`
    // pixels, packed (pitch 0), as the headers read and the cropping region
    // set describe what the library writes.
    let status = unsafe {
        tj::tj3Decompress8(
            opened.handle.0,
            bytes.as_ptr(),
            bytes.len() as tj::size_t,
            pixels.as_mut_ptr(),
            0,
            pixel_format as c_int,
        )
    };
    opened.handle.check(status).map_err(damaged)?;
    // SAFETY: a decode that succeeds (warnings stop it) has written each of
    // the region's rows whole: all `len` bytes.
    unsafe { pixels.set_len(len) };
    Ok(())
}

/// `pixels`, the rows of `decoded` packed, cut in place to `window`
/// (whose rows are the decoded ones or some of them, and so its columns).
fn cut(mut pixels: Vec<u8>, decoded: &Window, window: &Window, channels: usize) -> Vec<u8> {
    if decoded == window {
        return pixels;
    }
    let run = window.cols.len() * channels;
    for (y, at) in window_runs(decoded, window, channels).enumerate() {
        pixels.copy_within(at..at + run, y * run);
    }
    pixels.truncate(window.rows.len() * run);
    pixels
}

/// The rows of `window` in `pixels`, the rows of `decoded` packed, copied
/// out into a buffer that can become a `.npy` file in place.
fn copy_window(pixels: &[u8], decoded: &Window, window: &Window, channels: usize) -> Vec<u8> {
    let run = window.cols.len() * channels;
    let mut out = sample_buffer(window.rows.len() * run);
    for at in window_runs(decoded, window, channels) {
        out.extend_from_slice(&pixels[at..at + run]);
    }
    out
}

/// Where each row of `window` starts in the rows of `decoded`, packed.
fn window_runs(decoded: &Window, window: &Window, channels: usize) -> impl Iterator<Item = usize> {
    let line = decoded.cols.len() * channels;
    let from = (window.cols.start - decoded.cols.start) * channels;
    let top = window.rows.start - decoded.rows.start;
    (0..window.rows.len()).map(move |y| (top + y) * line + from)
}

/// The tensor a JPEG decodes to — height, width, channels, 8-bit samples —
/// from its headers.
pub(in crate::raster) fn probe(
    bytes: &[u8],
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    let header = open(bytes, tj::TJINIT_TJINIT_DECOMPRESS)
        .map_err(damaged)?
        .header;
    let channels = match header.pixel_format().1 {
        1 => 1,
        _ => 3,
    };
    let decoded_len = (header.width as u64) * (header.height as u64) * channels as u64;
    RasterError::check_limit("JPEG", decoded_len.into(), limit)?;
    Ok((header.height, header.width, channels, SampleType::U8))
}

/// Whether the file has an Adobe APP14 segment before its first scan:
/// Adobe's CMYK JPEGs store inverted inks, and Pillow reads them inverted.
fn has_adobe_marker(bytes: &[u8]) -> bool {
    let mut at = 2;
    while let Some((marker, _)) = next_marker(bytes, &mut at) {
        if matches!(marker, 0xD9 | 0xDA) {
            return false;
        }
        if matches!(marker, 0x01 | 0xD0..=0xD7) {
            continue;
        }
        let Some(len) = bytes
            .get(at..at + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        else {
            return false;
        };
        if marker == 0xEE && bytes.get(at + 2..at + 7) == Some(b"Adobe") {
            return true;
        }
        at += len.max(2);
    }
    false
}

/// CMYK as libjpeg gives it (inverted for Adobe files) to RGB exactly as
/// Pillow's `convert("RGB")` computes it: `(255 - K) - C × (255 - K) / 255`,
/// rounded.
fn cmyk_to_rgb(cmyk: &[u8], inverted: bool) -> Vec<u8> {
    let flip = if inverted { 255 } else { 0 };
    let mut rgb = Vec::with_capacity(cmyk.len() / 4 * 3);
    for pixel in cmyk.chunks_exact(4) {
        let nk = 255 - u32::from(pixel[3] ^ flip);
        for &ink in &pixel[..3] {
            let t = u32::from(ink ^ flip) * nk + 128;
            rgb.push((nk - ((t >> 8) + t) / 256) as u8);
        }
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::testing::{crop, fixtures, window};

    /// Windows of a `w` × `h` image: on and off the block grid, at each
    /// edge, one pixel, and the whole.
    fn windows(w: usize, h: usize) -> Vec<Window> {
        let mut out = vec![
            window(0..h, 0..w),
            window(1..h - 1, 1..w - 1),
            window(h / 3..h / 2 + 1, w / 3..w / 2 + 1),
            window(0..1, 0..1),
            window(h - 1..h, w - 1..w),
            window(h / 2..h, 0..w / 2 + 1),
            window(0..h / 2 + 1, w / 2..w),
        ];
        for (y, x) in [(7, 9), (8, 16), (15, 17), (16, 31), (33, 47)] {
            if y < h && x < w {
                out.push(window(y..h - (h - y) / 3, x..w - (w - x) / 4));
            }
        }
        out.retain(|win| !win.rows.is_empty() && !win.cols.is_empty());
        out
    }

    /// The bytes of the JPEG at `path` under `fixtures/`.
    fn fixture(path: &str) -> Vec<u8> {
        let found = fixtures(&["jpg"]).into_iter().find(|p| p.ends_with(path));
        std::fs::read(found.unwrap()).unwrap()
    }

    #[test]
    fn a_window_decodes_to_the_pixels_of_a_whole_decode() {
        let mut partial = 0;
        for path in fixtures(&["jpg", "jpeg"]) {
            let bytes = std::fs::read(&path).unwrap();
            let Ok((whole, icc, skipped)) = decode_with_warnings(&bytes, 1 << 30) else {
                continue;
            };
            let (w, h, c) = (whole.width(), whole.height(), whole.channels());
            let header = open(&bytes, tj::TJINIT_TJINIT_DECOMPRESS).unwrap().header;
            for win in windows(w, h) {
                partial += usize::from(decoded_region(&header, &win).is_some());
                let part = decode_window(&bytes, &win, 1 << 30).unwrap();
                let expected = crop(whole.as_le_bytes(), w, c, &win);
                let at = format!("{} {win:?}", path.display());
                assert_eq!(part.tensor.as_le_bytes(), &expected[..], "{at}");
                assert_eq!(part.tensor.width(), win.cols.len(), "{at}");
                assert_eq!((&part.icc, &part.skipped), (&icc, &skipped), "{at}");
            }
        }
        assert!(partial > 100, "{partial} windows decoded in part");
    }

    #[test]
    fn a_window_cut_in_place_equals_the_window_copied_out() {
        let decoded = window(5..20, 16..48);
        let pixels: Vec<u8> = (0..15 * 32 * 3).map(|i| (i * 7 % 251) as u8).collect();
        for win in [
            window(5..20, 16..48),
            window(9..12, 17..40),
            window(19..20, 47..48),
        ] {
            let copied = copy_window(&pixels, &decoded, &win, 3);
            assert_eq!(cut(pixels.clone(), &decoded, &win, 3), copied, "{win:?}");
            assert_eq!(copied.len(), win.rows.len() * win.cols.len() * 3);
        }
    }

    #[test]
    fn only_the_window_counts_against_the_limit() {
        let bytes = fixture("jpeg/pillow_420_q90.jpg");
        let whole = decode(&bytes, 1 << 30).unwrap().tensor;
        let (w, h) = (whole.width(), whole.height());
        let limit = (w * h * 3 / 4) as u64;
        assert!(matches!(
            decode(&bytes, limit),
            Err(RasterError::Limit { .. })
        ));
        let win = window(h * 3 / 4..h, 3..w / 4);
        let part = decode_window(&bytes, &win, limit).unwrap().tensor;
        assert_eq!(
            part.as_le_bytes(),
            &crop(whole.as_le_bytes(), w, 3, &win)[..]
        );
    }

    #[test]
    fn damage_below_the_window_fails_its_decode() {
        let bytes = fixture("wild/jpeg_baseline_corrupt_scan.jpg");
        // The damage is half way down the scan: the top rows decode alone,
        // and the rest of the file is still read.
        let err = decode_window(&bytes, &window(0..8, 0..8), 1 << 30).unwrap_err();
        assert!(err.to_string().contains("Corrupt JPEG data"), "{err}");
    }

    #[test]
    fn adobe_cmyk_is_inverted_before_pillows_conversion() {
        // Pillow: C=M=Y=0, K=0 is white; stored inverted by Adobe as 255s.
        assert_eq!(cmyk_to_rgb(&[0, 0, 0, 0], false), [255, 255, 255]);
        assert_eq!(cmyk_to_rgb(&[255, 255, 255, 255], true), [255, 255, 255]);
        assert_eq!(cmyk_to_rgb(&[255, 0, 128, 0], false), [0, 255, 127]);
    }
}
