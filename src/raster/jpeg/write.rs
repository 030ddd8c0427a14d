//! JPEG encoded with libjpeg's settings, as Pillow saves it.

use std::os::raw::c_int;

use turbojpeg_sys as tj;

use super::turbo::{Handle, TjBuffer};
use crate::raster::{EncodeOptions, RasterError};
use crate::tensor::Tensor;

/// Encodes 8-bit gray (1 channel) or RGB (3) with libjpeg's settings, as
/// Pillow saves: baseline, Huffman tables of the standard, 4:2:0 chroma
/// subsampling for RGB, and the ICC profile in APP2 segments.
pub(super) fn compress(
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

/// A tensor of 8-bit gray or RGB, straight from its samples, at the
/// options' quality.
pub(in crate::raster) fn encode(
    tensor: &Tensor,
    icc: Option<&[u8]>,
    options: EncodeOptions,
) -> Result<Vec<u8>, RasterError> {
    let (w, h, c) = (tensor.width(), tensor.height(), tensor.channels());
    compress(tensor.as_le_bytes(), w, h, c, options.jpeg_quality, icc).map_err(|why| {
        RasterError::Encode {
            format: "JPEG",
            source: image::ImageError::Encoding(image::error::EncodingError::new(
                image::ImageFormat::Jpeg.into(),
                why,
            )),
        }
    })
}
