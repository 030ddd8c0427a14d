//! Radiance HDR in each of its eight orientations. The resolution line
//! after the header says how the scanlines run: its first sign and axis
//! give the order of the scanlines, its second the order of the pixels
//! along each one, and each axis carries its own size (`-Y N +X M` is N
//! scanlines of M pixels, top to bottom, left to right; `+X M -Y N` is M
//! scanlines of N pixels, left to right, top to bottom). The `image`
//! crate's decoder reads the standard `-Y N +X M` alone, so the line is
//! declared standard with the same scanline count and length, and the
//! pixels decoded are then put where the picture shows them: the tensor is
//! the image as displayed, row 0 its top (Y points up, X right).

use std::borrow::Cow;

use image::ImageFormat;

use super::{EncodeOptions, RasterError, image_crate};
use crate::raster::Decoded;
use crate::tensor::{SampleType, Tensor};

/// A whole Radiance HDR file, as displayed.
pub(super) fn decode(bytes: &[u8], limit: u64) -> Result<Decoded, RasterError> {
    let (bytes, orientation) = normalize(bytes);
    let (tensor, icc) = image_crate::decode(&bytes, ImageFormat::Hdr, limit)?;
    let tensor = match orientation {
        Some(orientation) => orientation.display(&tensor)?,
        None => tensor,
    };
    Ok((tensor, icc).into())
}

/// Height, width, channels and sample type of the image as displayed,
/// from the header alone.
pub(super) fn probe(
    bytes: &[u8],
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    let (bytes, orientation) = normalize(bytes);
    let (scanlines, length, channels, sample) =
        image_crate::probe(&bytes, ImageFormat::Hdr, limit)?;
    Ok(match orientation {
        Some(o) if o.transposed => (length, scanlines, channels, sample),
        _ => (scanlines, length, channels, sample),
    })
}

/// The standard orientation, as the `image` crate's encoder writes it.
pub(super) fn encode(
    tensor: &Tensor,
    icc: Option<&[u8]>,
    _: EncodeOptions,
) -> Result<Vec<u8>, RasterError> {
    image_crate::encode(tensor, icc, ImageFormat::Hdr)
}

/// How the scanlines of a file other than standard run.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Orientation {
    /// The scanlines run along X (they are columns of the picture).
    transposed: bool,
    /// The scanlines come bottom to top (or right to left, transposed).
    scanlines_reversed: bool,
    /// The pixels of a scanline run right to left (or bottom to top,
    /// transposed).
    pixels_reversed: bool,
}

/// `-Y N +X M`: top to bottom, left to right.
const STANDARD: Orientation = Orientation {
    transposed: false,
    scanlines_reversed: false,
    pixels_reversed: false,
};

impl Orientation {
    /// The orientation of a resolution line's two sign-and-axis words, if
    /// they are two of `-Y`, `+Y`, `-X`, `+X` naming both axes.
    fn parse(first: &str, second: &str) -> Option<Self> {
        // For each word: its axis is Y, and it runs the way other than
        // the standard's for that axis (-Y top to bottom, +X left to right).
        let word = |w: &str| match w {
            "-Y" => Some((true, false)),
            "+Y" => Some((true, true)),
            "+X" => Some((false, false)),
            "-X" => Some((false, true)),
            _ => None,
        };
        let ((first_y, scanlines_reversed), (second_y, pixels_reversed)) =
            (word(first)?, word(second)?);
        (first_y != second_y).then_some(Orientation {
            transposed: !first_y,
            scanlines_reversed,
            pixels_reversed,
        })
    }

    /// The picture as displayed from its scanlines decoded one a row.
    fn display(self, stored: &Tensor) -> Result<Tensor, RasterError> {
        let (scanlines, length) = (stored.height(), stored.width());
        let (height, width) = if self.transposed {
            (length, scanlines)
        } else {
            (scanlines, length)
        };
        let pixel = stored.channels() * stored.sample_type().itemsize();
        let from = stored.as_le_bytes();
        let mut to = vec![0; from.len()];
        for s in 0..scanlines {
            let s_at = if self.scanlines_reversed {
                scanlines - 1 - s
            } else {
                s
            };
            for p in 0..length {
                let p_at = if self.pixels_reversed {
                    length - 1 - p
                } else {
                    p
                };
                let (row, col) = if self.transposed {
                    (p_at, s_at)
                } else {
                    (s_at, p_at)
                };
                let src = (s * length + p) * pixel;
                let dst = (row * width + col) * pixel;
                to[dst..dst + pixel].copy_from_slice(&from[src..src + pixel]);
            }
        }
        Tensor::from_le_bytes(height, width, stored.channels(), stored.sample_type(), to)
            .ok_or_else(|| RasterError::NotAnImage("the decoded image has the wrong size".into()))
    }
}

/// The file as the decoder should see it, with the orientation its
/// resolution line gave when that was not the standard one; unchanged (and
/// not copied) when it is standard or cannot be read, which the decoder
/// then reports.
fn normalize(bytes: &[u8]) -> (Cow<'_, [u8]>, Option<Orientation>) {
    let unchanged = (Cow::Borrowed(bytes), None);
    // The header ends at its first empty line; the resolution line follows.
    let Some(start) = bytes.windows(2).position(|w| w == b"\n\n").map(|at| at + 2) else {
        return unchanged;
    };
    let Some(len) = bytes[start..].iter().position(|&b| b == b'\n') else {
        return unchanged;
    };
    let Ok(line) = std::str::from_utf8(&bytes[start..start + len]) else {
        return unchanged;
    };
    let words: Vec<&str> = line.split_whitespace().collect();
    let [first, scanlines, second, length] = words[..] else {
        return unchanged;
    };
    match Orientation::parse(first, second) {
        Some(o) if o != STANDARD => {
            let standard = format!("-Y {scanlines} +X {length}");
            let mut out = Vec::with_capacity(bytes.len() + standard.len());
            out.extend_from_slice(&bytes[..start]);
            out.extend_from_slice(standard.as_bytes());
            out.extend_from_slice(&bytes[start + len..]);
            (Cow::Owned(out), Some(o))
        }
        _ => unchanged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &[u8] = b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n";

    fn file(line: &str) -> Vec<u8> {
        [HEAD, line.as_bytes(), b"\n\x01\x02\x03\x04"].concat()
    }

    #[test]
    fn a_line_other_than_standard_is_declared_standard_with_its_sizes() {
        let bytes = file("+X 12 -Y 9");
        let (seen, orientation) = normalize(&bytes);
        assert_eq!(*seen, *file("-Y 12 +X 9"));
        assert_eq!(
            orientation,
            Some(Orientation {
                transposed: true,
                scanlines_reversed: false,
                pixels_reversed: false,
            })
        );
    }

    #[test]
    fn a_standard_or_unreadable_line_is_left_to_the_decoder() {
        for line in ["-Y 9 +X 12", "-Y 9 -Y 12", "+Z 9 +X 12", "-Y 9 +X", ""] {
            let bytes = file(line);
            let (seen, orientation) = normalize(&bytes);
            assert!(matches!(seen, Cow::Borrowed(_)), "{line}");
            assert_eq!(orientation, None, "{line}");
        }
    }
}
