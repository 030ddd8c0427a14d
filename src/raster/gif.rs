//! GIF: the first frame on the canvas Pillow builds for it, so that the
//! tensor is what Keras' `load_img` sees. The canvas is the logical screen,
//! grown to hold a frame that reaches past it; where the frame does not
//! cover it, the canvas holds the frame's transparent index if it has one,
//! else index 0. Indices become the frame's palette colors (the global
//! palette if it has none of its own; black past the palette's end, gray
//! `(i, i, i)` without any palette, as Pillow gives them), with alpha 0 at
//! the transparent index. Extensions whose label the decoder does not know
//! are skipped, as Pillow skips them. Written whole by the `image` crate's
//! encoder.

use std::io::Cursor;
use std::num::NonZeroU64;

use gif::{ColorOutput, DecodeOptions, Decoder, DecodingError, MemoryLimit};
use image::ImageFormat;

use super::{EncodeOptions, RasterError, image_crate};
use crate::raster::Decoded;
use crate::tensor::{SampleType, Tensor};

/// The first frame as Pillow shows it, as RGBA.
pub(super) fn decode(bytes: &[u8], limit: u64) -> Result<Decoded, RasterError> {
    let mut decoder = open(bytes, limit)?;
    let screen = (decoder.width(), decoder.height());
    let global = decoder.global_palette().map(<[u8]>::to_vec);
    let frame = decoder
        .read_next_frame()
        .map_err(damaged)?
        .ok_or_else(no_frame)?;
    let (w, h) = canvas_size(screen, frame, limit)?;
    let palette = frame.palette.as_deref().or(global.as_deref());
    let colors = Colors::new(palette, frame.transparent);
    let fill = colors.rgba(frame.transparent.unwrap_or(0));
    let mut canvas: Vec<u8> = fill.iter().copied().cycle().take(w * h * 4).collect();
    let (left, top, fw) = (
        usize::from(frame.left),
        usize::from(frame.top),
        usize::from(frame.width),
    );
    if fw > 0 {
        for (y, row) in frame.buffer.chunks_exact(fw).enumerate() {
            let start = ((top + y) * w + left) * 4;
            let out = &mut canvas[start..start + fw * 4];
            for (pixel, &index) in out.chunks_exact_mut(4).zip(row) {
                pixel.copy_from_slice(&colors.rgba(index));
            }
        }
    }
    let tensor = Tensor::from_le_bytes(h, w, 4, SampleType::U8, canvas).ok_or_else(|| {
        RasterError::NotAnImage("the decoded image has fewer samples than its size".into())
    })?;
    Ok((tensor, None).into())
}

/// Height, width, channels and sample type of the first frame's canvas,
/// from the headers before its pixels.
pub(super) fn probe(
    bytes: &[u8],
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    let mut decoder = open(bytes, limit)?;
    let screen = (decoder.width(), decoder.height());
    let frame = decoder
        .next_frame_info()
        .map_err(damaged)?
        .ok_or_else(no_frame)?;
    let (w, h) = canvas_size(screen, frame, limit)?;
    Ok((h, w, 4, SampleType::U8))
}

/// A whole image through the `image` crate's encoder, checked to keep
/// every pixel.
pub(super) fn encode(
    tensor: &Tensor,
    icc: Option<&[u8]>,
    _: EncodeOptions,
) -> Result<Vec<u8>, RasterError> {
    image_crate::encode(tensor, icc, ImageFormat::Gif)
}

/// A decoder of palette indices, its allocations held to the limit.
fn open(bytes: &[u8], limit: u64) -> Result<Decoder<Cursor<&[u8]>>, RasterError> {
    let mut options = DecodeOptions::new();
    options.set_color_output(ColorOutput::Indexed);
    options.allow_unknown_blocks(only_extensions_lead(bytes));
    options.set_memory_limit(
        NonZeroU64::new(limit).map_or(MemoryLimit::Unlimited, MemoryLimit::Bytes),
    );
    options.read_info(Cursor::new(bytes)).map_err(damaged)
}

/// Whether every block before the first image is an extension, so that
/// the decoder may skip those whose label it does not know, as Pillow skips
/// them. A byte that starts no block is left for the decoder to refuse:
/// allowed, it would be read as an extension's length, where Pillow skips
/// it alone.
fn only_extensions_lead(bytes: &[u8]) -> bool {
    let flags = bytes.get(10).copied().unwrap_or(0);
    let global = if flags & 0x80 == 0 {
        0
    } else {
        3 << ((flags & 7) + 1)
    };
    let mut at = 13 + global;
    loop {
        match bytes.get(at) {
            Some(0x2C) => return true,
            Some(0x21) => at += 2,
            _ => return false,
        }
        // The extension's sub-blocks, up to the empty one that ends them.
        loop {
            match bytes.get(at) {
                Some(0) => break,
                Some(&len) => at += 1 + usize::from(len),
                None => return false,
            }
        }
        at += 1;
    }
}

/// The logical screen, grown to hold the frame as Pillow grows it: its
/// width and height, its RGBA samples within the limit.
fn canvas_size(
    screen: (u16, u16),
    frame: &gif::Frame,
    limit: u64,
) -> Result<(usize, usize), RasterError> {
    let right = usize::from(frame.left) + usize::from(frame.width);
    let bottom = usize::from(frame.top) + usize::from(frame.height);
    let (w, h) = (
        right.max(usize::from(screen.0)),
        bottom.max(usize::from(screen.1)),
    );
    RasterError::check_limit("GIF", w as u128 * h as u128 * 4, limit)?;
    Ok((w, h))
}

/// The colors of a frame's indices.
struct Colors<'a> {
    palette: Option<&'a [u8]>,
    transparent: Option<u8>,
}

impl<'a> Colors<'a> {
    fn new(palette: Option<&'a [u8]>, transparent: Option<u8>) -> Self {
        Colors {
            palette,
            transparent,
        }
    }

    /// The palette's color for an index (black past its end; gray without
    /// a palette), with alpha 0 at the transparent index.
    fn rgba(&self, index: u8) -> [u8; 4] {
        let i = usize::from(index) * 3;
        let [r, g, b] = match self.palette.map(|p| p.get(i..i + 3)) {
            Some(Some(&[r, g, b])) => [r, g, b],
            Some(_) => [0; 3],
            None => [index; 3],
        };
        let alpha = if self.transparent == Some(index) {
            0
        } else {
            255
        };
        [r, g, b, alpha]
    }
}

fn damaged(e: DecodingError) -> RasterError {
    RasterError::Damaged {
        format: "GIF",
        why: e.to_string(),
    }
}

fn no_frame() -> RasterError {
    RasterError::Damaged {
        format: "GIF",
        why: "it holds no image".into(),
    }
}
