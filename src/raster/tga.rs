//! TGA: the `image` crate's decoder and encoder, with one header field
//! taken as Pillow takes it. Pillow reads the fourth byte of every 32-bit
//! true-color pixel as alpha, whatever count of alpha bits the image
//! descriptor gives; the decoder knows only 0 and 8, so any other count of
//! such an image is declared 8 before it sees the file.

use std::borrow::Cow;

use image::ImageFormat;
use image::codecs::tga::TgaEncoder;

use super::{EncodeOptions, RasterError, image_crate};
use crate::raster::Decoded;
use crate::tensor::{SampleType, Tensor};

/// Where the header holds the image type, bits per pixel and descriptor.
const IMAGE_TYPE: usize = 2;
const PIXEL_DEPTH: usize = 16;
const DESCRIPTOR: usize = 17;
/// The descriptor's alpha-bits count.
const ALPHA_BITS: u8 = 0x0F;

/// A whole TGA through the `image` crate's decoder.
pub(super) fn decode(bytes: &[u8], limit: u64) -> Result<Decoded, RasterError> {
    Ok(image_crate::decode(&normalize(bytes), ImageFormat::Tga, limit)?.into())
}

/// Height, width, channels and sample type from the header alone.
pub(super) fn probe(
    bytes: &[u8],
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    image_crate::probe(&normalize(bytes), ImageFormat::Tga, limit)
}

/// The TGA 2.0 footer: no extension area, no developer directory, and the
/// signature that marks a TGA 2.0 file, as Pillow writes it.
const FOOTER: &[u8; 26] = b"\0\0\0\0\0\0\0\0TRUEVISION-XFILE.\0";

/// A whole image, uncompressed, top row first, with the TGA 2.0 footer:
/// the `image` crate's run-length packets cross scanlines, which TGA 2.0
/// forbids and Pillow cannot read.
pub(super) fn encode(
    tensor: &Tensor,
    icc: Option<&[u8]>,
    _: EncodeOptions,
) -> Result<Vec<u8>, RasterError> {
    let image = image_crate::image_of(tensor)?;
    let mut out = Vec::new();
    image_crate::write_image(TgaEncoder::new(&mut out).disable_rle(), &image, icc).map_err(
        |source| RasterError::Encode {
            format: "TGA",
            source,
        },
    )?;
    out.extend_from_slice(FOOTER);
    Ok(out)
}

/// The file as the decoder should see it; unchanged (and not copied)
/// unless it is 32-bit true color (raw or run-length) with an alpha-bits
/// count other than 0 or 8.
fn normalize(bytes: &[u8]) -> Cow<'_, [u8]> {
    let true_color = matches!(bytes.get(IMAGE_TYPE), Some(2 | 10));
    let (Some(&32), Some(&descriptor)) = (bytes.get(PIXEL_DEPTH), bytes.get(DESCRIPTOR)) else {
        return Cow::Borrowed(bytes);
    };
    if !true_color || matches!(descriptor & ALPHA_BITS, 0 | 8) {
        return Cow::Borrowed(bytes);
    }
    let mut bytes = bytes.to_vec();
    bytes[DESCRIPTOR] = descriptor & !ALPHA_BITS | 8;
    Cow::Owned(bytes)
}
