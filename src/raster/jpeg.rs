//! JPEG through libjpeg-turbo's TurboJPEG API, the codec Pillow bundles:
//! decoding gives Pillow's pixels (accurate integer IDCT, fancy
//! upsampling), encoding uses libjpeg's settings, and a crop that keeps the
//! block grid is done on the DCT coefficients, as `jpegtran -crop` does it.
//!
//! Decoding is strict: a walk over the file's markers first names a scan
//! or segment cut short, and libjpeg-turbo's warnings ("Premature end of
//! JPEG file", "Corrupt JPEG data") stop it instead of leaving gray rows.

use std::ffi::CStr;
use std::os::raw::{c_int, c_uchar};
use std::ptr;

use image::{DynamicImage, ImageBuffer};
use turbojpeg_sys as tj;

use super::RasterError;

/// One TurboJPEG instance, destroyed when dropped.
struct Handle(tj::tjhandle);

impl Handle {
    /// A compressor, decompressor or transformer that stops on warnings.
    fn new(kind: tj::TJINIT) -> Result<Self, String> {
        // SAFETY: tj3Init has no preconditions; a null handle is checked.
        let handle = unsafe { tj::tj3Init(kind as c_int) };
        if handle.is_null() {
            return Err("libjpeg-turbo could not start".into());
        }
        let handle = Self(handle);
        handle.set(tj::TJPARAM_TJPARAM_STOPONWARNING, 1)?;
        Ok(handle)
    }

    fn set(&self, param: tj::TJPARAM, value: c_int) -> Result<(), String> {
        // SAFETY: the handle is live; unknown parameters are refused by the library.
        self.check(unsafe { tj::tj3Set(self.0, param as c_int, value) })
    }

    fn get(&self, param: tj::TJPARAM) -> c_int {
        // SAFETY: the handle is live.
        unsafe { tj::tj3Get(self.0, param as c_int) }
    }

    /// `Ok` for a zero status, else the library's message for it.
    fn check(&self, status: c_int) -> Result<(), String> {
        if status == 0 {
            return Ok(());
        }
        // SAFETY: the handle is live; the message is a NUL-terminated string
        // the handle owns, copied before the handle is used again.
        let message = unsafe { CStr::from_ptr(tj::tj3GetErrorStr(self.0)) };
        let message = message.to_string_lossy();
        // TurboJPEG's own checks start with the function's name: drop it.
        let message = match message.split_once("(): ") {
            Some((function, rest)) if function.starts_with("tj") => rest,
            _ => &message,
        };
        Err(message.to_string())
    }

    /// Reads the headers of `bytes`: width, height, and what they hold.
    fn read_header(&self, bytes: &[u8]) -> Result<Header, String> {
        // SAFETY: the pointer and length describe `bytes`.
        self.check(unsafe {
            tj::tj3DecompressHeader(self.0, bytes.as_ptr(), bytes.len() as tj::size_t)
        })?;
        let dimension = |param| usize::try_from(self.get(param)).unwrap_or(0);
        Ok(Header {
            width: dimension(tj::TJPARAM_TJPARAM_JPEGWIDTH),
            height: dimension(tj::TJPARAM_TJPARAM_JPEGHEIGHT),
            colour_space: self.get(tj::TJPARAM_TJPARAM_COLORSPACE),
            subsampling: self.get(tj::TJPARAM_TJPARAM_SUBSAMP),
        })
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from tj3Init and is destroyed once.
        unsafe { tj::tj3Destroy(self.0) }
    }
}

/// A buffer the library allocated, freed when dropped.
struct TjBuffer {
    data: *mut c_uchar,
    len: tj::size_t,
}

impl TjBuffer {
    fn empty() -> Self {
        Self {
            data: ptr::null_mut(),
            len: 0,
        }
    }

    fn to_vec(&self) -> Vec<u8> {
        if self.data.is_null() {
            return Vec::new();
        }
        // SAFETY: the library wrote `len` bytes at `data`.
        unsafe { std::slice::from_raw_parts(self.data, self.len as usize) }.to_vec()
    }
}

impl Drop for TjBuffer {
    fn drop(&mut self) {
        // SAFETY: `data` is null or came from the library's allocator.
        unsafe { tj::tj3Free(self.data.cast()) }
    }
}

/// What a JPEG's headers say.
struct Header {
    width: usize,
    height: usize,
    colour_space: c_int,
    subsampling: c_int,
}

impl Header {
    /// The pixel format rcrop decodes to, and its channel count.
    fn pixel_format(&self) -> (tj::TJPF, usize) {
        match self.colour_space as tj::TJCS {
            tj::TJCS_TJCS_GRAY => (tj::TJPF_TJPF_GRAY, 1),
            tj::TJCS_TJCS_CMYK | tj::TJCS_TJCS_YCCK => (tj::TJPF_TJPF_CMYK, 4),
            _ => (tj::TJPF_TJPF_RGB, 3),
        }
    }

    /// The size of the block grid (width, height) in pixels: the MCU, 8×8
    /// for gray and 4:4:4, 16×16 for 4:2:0 and so on.
    fn mcu(&self) -> Option<(usize, usize)> {
        Some(match self.subsampling as tj::TJSAMP {
            tj::TJSAMP_TJSAMP_444 | tj::TJSAMP_TJSAMP_GRAY => (8, 8),
            tj::TJSAMP_TJSAMP_422 => (16, 8),
            tj::TJSAMP_TJSAMP_420 => (16, 16),
            tj::TJSAMP_TJSAMP_440 => (8, 16),
            tj::TJSAMP_TJSAMP_411 => (32, 8),
            tj::TJSAMP_TJSAMP_441 => (8, 32),
            _ => return None,
        })
    }
}

fn damaged(why: String) -> RasterError {
    RasterError::Damaged {
        format: "JPEG",
        why,
    }
}

/// Decodes a whole JPEG file as Pillow does: gray stays gray, YCbCr and
/// RGB become RGB, and CMYK or YCCK become RGB as Pillow's
/// `convert("RGB")` makes them (what Keras' `load_img` gives); refuses
/// images over `limit` bytes decoded. Returns the ICC profile too.
pub(super) fn decode(
    bytes: &[u8],
    limit: u64,
) -> Result<(DynamicImage, Option<Vec<u8>>), RasterError> {
    check_complete(bytes).map_err(damaged)?;
    let handle = Handle::new(tj::TJINIT_TJINIT_DECOMPRESS).map_err(damaged)?;
    let header = handle.read_header(bytes).map_err(damaged)?;
    let (pixel_format, channels) = header.pixel_format();
    let decoded_len = (header.width as u64) * (header.height as u64) * channels as u64;
    if decoded_len > limit {
        return Err(RasterError::Limit {
            format: "JPEG",
            limit_mib: limit >> 20,
        });
    }
    let icc = icc_profile(&handle);
    let mut pixels = vec![0u8; header.width * header.height * channels];
    // SAFETY: `pixels` holds width × height pixels of `pixel_format`, rows
    // packed (pitch 0), as the headers just read describe the image.
    let status = unsafe {
        tj::tj3Decompress8(
            handle.0,
            bytes.as_ptr(),
            bytes.len() as tj::size_t,
            pixels.as_mut_ptr(),
            0,
            pixel_format as c_int,
        )
    };
    handle.check(status).map_err(damaged)?;
    let (w, h) = (header.width as u32, header.height as u32);
    let image = match channels {
        1 => ImageBuffer::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8),
        3 => ImageBuffer::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8),
        _ => {
            let inverted = has_adobe_marker(bytes);
            ImageBuffer::from_raw(w, h, cmyk_to_rgb(&pixels, inverted)).map(DynamicImage::ImageRgb8)
        }
    };
    let image = image.ok_or_else(|| damaged("fewer pixels than its size".into()))?;
    Ok((image, icc))
}

/// The tensor a JPEG decodes to — height, width, channels — from its headers.
pub(super) fn probe(bytes: &[u8], limit: u64) -> Result<(usize, usize, usize), RasterError> {
    let handle = Handle::new(tj::TJINIT_TJINIT_DECOMPRESS).map_err(damaged)?;
    let header = handle.read_header(bytes).map_err(damaged)?;
    let channels = match header.pixel_format().1 {
        1 => 1,
        _ => 3,
    };
    if (header.width as u64) * (header.height as u64) * channels as u64 > limit {
        return Err(RasterError::Limit {
            format: "JPEG",
            limit_mib: limit >> 20,
        });
    }
    Ok((header.height, header.width, channels))
}

/// The ICC profile the headers carry, if any (the library reports "no
/// profile" as an error, which is no profile).
fn icc_profile(handle: &Handle) -> Option<Vec<u8>> {
    let mut icc = TjBuffer::empty();
    // SAFETY: the handle has read the headers; the buffer is freed on drop.
    let status = unsafe { tj::tj3GetICCProfile(handle.0, &mut icc.data, &mut icc.len) };
    (status == 0 && !icc.data.is_null() && icc.len > 0).then(|| icc.to_vec())
}

/// Whether the file has an Adobe APP14 segment before its first scan:
/// Adobe's CMYK JPEGs store inverted inks, and Pillow reads them inverted.
fn has_adobe_marker(bytes: &[u8]) -> bool {
    let mut at = 2;
    while let Some(marker) = next_marker(bytes, &mut at) {
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

/// Encodes 8-bit gray (1 channel) or RGB (3) with libjpeg's settings, as
/// Pillow saves: baseline, Huffman tables of the standard, 4:2:0 chroma
/// subsampling for RGB, and the ICC profile in APP2 segments.
pub(super) fn encode(
    pixels: &[u8],
    width: usize,
    height: usize,
    channels: usize,
    quality: u8,
    icc: Option<&[u8]>,
) -> Result<Vec<u8>, String> {
    let (pixel_format, subsampling) = match channels {
        1 => (tj::TJPF_TJPF_GRAY, tj::TJSAMP_TJSAMP_GRAY),
        _ => (tj::TJPF_TJPF_RGB, tj::TJSAMP_TJSAMP_420),
    };
    let too_large = || format!("{width}×{height} is larger than JPEG's 65535×65535");
    let (Ok(w), Ok(h)) = (c_int::try_from(width), c_int::try_from(height)) else {
        return Err(too_large());
    };
    if width > 65535 || height > 65535 {
        return Err(too_large());
    }
    if pixels.len() != width * height * channels {
        return Err("the pixels do not fill the image".into());
    }
    let handle = Handle::new(tj::TJINIT_TJINIT_COMPRESS)?;
    handle.set(tj::TJPARAM_TJPARAM_QUALITY, c_int::from(quality))?;
    handle.set(tj::TJPARAM_TJPARAM_SUBSAMP, subsampling as c_int)?;
    if let Some(profile) = icc {
        // SAFETY: the library copies the profile; it does not write to it.
        let status = unsafe {
            tj::tj3SetICCProfile(
                handle.0,
                profile.as_ptr().cast_mut(),
                profile.len() as tj::size_t,
            )
        };
        handle.check(status)?;
    }
    let mut out = TjBuffer::empty();
    // SAFETY: `pixels` holds width × height packed pixels of `pixel_format`
    // (checked above); the library allocates the output, freed on drop.
    let status = unsafe {
        tj::tj3Compress8(
            handle.0,
            pixels.as_ptr(),
            w,
            0,
            h,
            pixel_format as c_int,
            &mut out.data,
            &mut out.len,
        )
    };
    handle.check(status)?;
    Ok(out.to_vec())
}

/// How a JPEG is cropped into a JPEG (`--lossless`, `--reencode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum JpegCrop {
    /// Losslessly when the crop keeps the block grid, else re-encoded.
    #[default]
    Auto,
    /// Losslessly, or not at all.
    Lossless,
    /// Always decoded, cropped and re-encoded.
    Reencode,
}

/// A region of a JPEG in pixels: left, top, width, height.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub left: usize,
    pub top: usize,
    pub width: usize,
    pub height: usize,
}

/// Whether a crop can be done without re-encoding, from a JPEG's headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grid {
    /// The region starts on the block grid: it can be cut losslessly.
    On,
    /// It does not: the MCU's width and height, and the nearest regions
    /// that start on the grid (the offsets rounded down and up).
    Off {
        mcu: (usize, usize),
        nearest: Vec<Region>,
    },
    /// The file's sampling has no grid TurboJPEG can cut.
    Unknown,
}

/// Where `region` of the JPEG lies against its block grid.
pub fn grid(bytes: &[u8], region: Region) -> Result<Grid, RasterError> {
    let handle = Handle::new(tj::TJINIT_TJINIT_TRANSFORM).map_err(damaged)?;
    let header = handle.read_header(bytes).map_err(damaged)?;
    let Some((mcu_w, mcu_h)) = header.mcu() else {
        return Ok(Grid::Unknown);
    };
    if region.left.is_multiple_of(mcu_w) && region.top.is_multiple_of(mcu_h) {
        return Ok(Grid::On);
    }
    let choices = |at: usize, len: usize, step: usize, total: usize| {
        let down = at / step * step;
        let up = down + step;
        let mut out = vec![(down, len + (at - down))];
        if down != at && up < at + len {
            out.push((up, len - (up - at)));
        }
        out.retain(|&(start, len)| len > 0 && start + len <= total);
        out
    };
    let mut nearest = Vec::new();
    for (top, height) in choices(region.top, region.height, mcu_h, header.height) {
        for (left, width) in choices(region.left, region.width, mcu_w, header.width) {
            nearest.push(Region {
                left,
                top,
                width,
                height,
            });
        }
    }
    Ok(Grid::Off {
        mcu: (mcu_w, mcu_h),
        nearest,
    })
}

/// Cuts `region` out of a JPEG without decoding it: the kept DCT blocks are
/// copied unchanged, and every marker (ICC profile, EXIF, comments) is
/// kept, as `jpegtran -crop WxH+X+Y -copy all` does. The region must start
/// on the block grid (see [`grid`]).
pub fn crop_lossless(bytes: &[u8], region: Region) -> Result<Vec<u8>, RasterError> {
    check_complete(bytes).map_err(damaged)?;
    let handle = Handle::new(tj::TJINIT_TJINIT_TRANSFORM).map_err(damaged)?;
    handle.read_header(bytes).map_err(damaged)?;
    let int = |n: usize| c_int::try_from(n).map_err(|_| damaged(format!("{n} is too large")));
    let transform = tj::tjtransform {
        r: tj::tjregion {
            x: int(region.left)?,
            y: int(region.top)?,
            w: int(region.width)?,
            h: int(region.height)?,
        },
        op: tj::TJXOP_TJXOP_NONE as c_int,
        options: tj::TJXOPT_CROP as c_int,
        data: ptr::null_mut(),
        customFilter: None,
    };
    let mut out = TjBuffer::empty();
    // SAFETY: one transform, one output buffer the library allocates and
    // `out` frees; the input pointer and length describe `bytes`.
    let status = unsafe {
        tj::tj3Transform(
            handle.0,
            bytes.as_ptr(),
            bytes.len() as tj::size_t,
            1,
            &mut out.data,
            &mut out.len,
            &transform,
        )
    };
    handle.check(status).map_err(damaged)?;
    Ok(out.to_vec())
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

    #[test]
    fn adobe_cmyk_is_inverted_before_pillows_conversion() {
        // Pillow: C=M=Y=0, K=0 is white; stored inverted by Adobe as 255s.
        assert_eq!(cmyk_to_rgb(&[0, 0, 0, 0], false), [255, 255, 255]);
        assert_eq!(cmyk_to_rgb(&[255, 255, 255, 255], true), [255, 255, 255]);
        assert_eq!(cmyk_to_rgb(&[255, 0, 128, 0], false), [0, 255, 127]);
    }

    #[test]
    fn offsets_off_the_grid_name_the_nearest_crops_on_it() {
        let pixels = vec![128u8; 64 * 48 * 3];
        let file = encode(&pixels, 64, 48, 3, 90, None).unwrap();
        let on = Region {
            left: 16,
            top: 32,
            width: 13,
            height: 5,
        };
        assert_eq!(grid(&file, on).unwrap(), Grid::On);
        let off = Region {
            left: 20,
            top: 16,
            width: 30,
            height: 20,
        };
        let Grid::Off { mcu, nearest } = grid(&file, off).unwrap() else {
            panic!("off the grid");
        };
        assert_eq!(mcu, (16, 16));
        let lefts: Vec<_> = nearest.iter().map(|r| (r.left, r.width)).collect();
        assert_eq!(lefts, [(16, 34), (32, 18)]);
        assert!(nearest.iter().all(|r| r.top == 16 && r.height == 20));
    }
}
