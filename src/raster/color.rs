//! Keras' color modes: `load_img(path, color_mode=...)` converts the image
//! Pillow opened with `convert("L")`, `convert("RGB")` or `convert("RGBA")`,
//! unless it is already in that mode (or, for grayscale, a 16-bit gray one).
//! This does the same to a decoded 8-bit image, with Pillow's arithmetic.

use crate::tensor::{SampleType, Tensor};

use super::RasterError;

/// A color mode of Keras' `load_img`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColorMode {
    /// One channel: Pillow's `convert("L")`; 16-bit gray stays as it is.
    Grayscale,
    /// Three channels: Pillow's `convert("RGB")`.
    Rgb,
    /// Four channels: Pillow's `convert("RGBA")`.
    Rgba,
}

impl ColorMode {
    /// The name Keras gives it.
    pub fn name(self) -> &'static str {
        match self {
            ColorMode::Grayscale => "grayscale",
            ColorMode::Rgb => "rgb",
            ColorMode::Rgba => "rgba",
        }
    }

    /// The channels an image has in this mode.
    pub fn channels(self) -> usize {
        match self {
            ColorMode::Grayscale => 1,
            ColorMode::Rgb => 3,
            ColorMode::Rgba => 4,
        }
    }
}

/// Converts a decoded image as Keras' `load_img` converts it. Images
/// already in the mode (for grayscale: 8-, 16- or 32-bit integer gray) are
/// returned as they are; any other image of more than 8 bits a sample is
/// refused, since Pillow holds those in modes whose conversion rcrop does
/// not reproduce.
pub fn convert(tensor: Tensor, mode: ColorMode) -> Result<Tensor, RasterError> {
    let (c, sample) = (tensor.channels(), tensor.sample_type());
    let keep = match mode {
        ColorMode::Grayscale => {
            c == 1 && matches!(sample, SampleType::U8 | SampleType::U16 | SampleType::I32)
        }
        ColorMode::Rgb => c == 3 && sample == SampleType::U8,
        ColorMode::Rgba => c == 4 && sample == SampleType::U8,
    };
    if keep {
        return Ok(tensor);
    }
    if sample != SampleType::U8 {
        return Err(RasterError::ColorMode {
            mode: mode.name(),
            found: tensor.describe(),
        });
    }
    let (h, w) = (tensor.height(), tensor.width());
    let out_c = mode.channels();
    let mut out = Vec::with_capacity(h * w * out_c);
    for pixel in tensor.as_le_bytes().chunks_exact(c) {
        let (rgb, alpha) = match c {
            1 => ([pixel[0]; 3], 255),
            2 => ([pixel[0]; 3], pixel[1]),
            3 => ([pixel[0], pixel[1], pixel[2]], 255),
            _ => ([pixel[0], pixel[1], pixel[2]], pixel[3]),
        };
        match mode {
            ColorMode::Grayscale => out.push(if c <= 2 { pixel[0] } else { luma(rgb) }),
            ColorMode::Rgb => out.extend_from_slice(&rgb),
            ColorMode::Rgba => {
                out.extend_from_slice(&rgb);
                out.push(alpha);
            }
        }
    }
    Tensor::from_le_bytes(h, w, out_c, SampleType::U8, out)
        .ok_or_else(|| RasterError::NotAnImage("the converted image lost samples".into()))
}

/// ITU-R 601-2 luma as Pillow's `convert("L")` rounds it:
/// `(R × 19595 + G × 38470 + B × 7471 + 0x8000) >> 16`.
fn luma([r, g, b]: [u8; 3]) -> u8 {
    ((u32::from(r) * 19595 + u32::from(g) * 38470 + u32::from(b) * 7471 + 0x8000) >> 16) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pillows_luma_rounds_to_nearest() {
        assert_eq!(luma([255, 255, 255]), 255);
        assert_eq!(luma([0, 0, 0]), 0);
        assert_eq!(luma([255, 0, 0]), 76);
        assert_eq!(luma([0, 255, 0]), 150);
        assert_eq!(luma([0, 0, 255]), 29);
    }

    #[test]
    fn gray_and_alpha_expand_and_drop_as_pillow_does() {
        let la = Tensor::from_le_bytes(1, 2, 2, SampleType::U8, vec![10, 0, 200, 128]).unwrap();
        let rgba = convert(la, ColorMode::Rgba).unwrap();
        assert_eq!(rgba.as_le_bytes(), [10, 10, 10, 0, 200, 200, 200, 128]);
        let rgb = convert(rgba, ColorMode::Rgb).unwrap();
        assert_eq!(rgb.as_le_bytes(), [10, 10, 10, 200, 200, 200]);
        let wide = Tensor::from_le_bytes(1, 1, 3, SampleType::U16, vec![0; 6]).unwrap();
        assert!(convert(wide, ColorMode::Grayscale).is_err());
    }
}
