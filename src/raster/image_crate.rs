//! The formats the `image` crate codes as they are — QOI and farbfeld —
//! and what every room that leans on that crate (WebP's, GIF's, ICO's,
//! BMP's, Radiance HDR's, OpenEXR's and the rest) shares: its images to and from tensors,
//! its decoders held to the image limit, and its encoders keeping an ICC
//! profile where they can.

use std::collections::HashSet;
use std::io::Cursor;

use image::codecs::bmp::BmpEncoder;
use image::codecs::farbfeld::FarbfeldEncoder;
use image::codecs::gif::GifEncoder;
use image::codecs::hdr::HdrEncoder;
use image::codecs::ico::IcoEncoder;
use image::codecs::openexr::OpenExrEncoder;
use image::codecs::qoi::QoiEncoder;
use image::codecs::webp::WebPEncoder;
use image::error::LimitErrorKind;
use image::{
    DynamicImage, ImageBuffer, ImageDecoder, ImageEncoder, ImageError, ImageFormat, ImageReader,
    Limits,
};

use super::{RasterError, format_name};
use crate::tensor::{SampleType, Tensor};

/// The image's samples as decoded — gray, gray+alpha, RGB or RGBA, at 8 or
/// 16 bits or float32 — as a tensor.
pub(super) fn to_tensor(image: DynamicImage) -> Result<Tensor, RasterError> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let tensor = match image {
        DynamicImage::ImageLuma8(b) => Tensor::from_le_bytes(h, w, 1, SampleType::U8, b.into_raw()),
        DynamicImage::ImageLumaA8(b) => {
            Tensor::from_le_bytes(h, w, 2, SampleType::U8, b.into_raw())
        }
        DynamicImage::ImageRgb8(b) => Tensor::from_le_bytes(h, w, 3, SampleType::U8, b.into_raw()),
        DynamicImage::ImageRgba8(b) => Tensor::from_le_bytes(h, w, 4, SampleType::U8, b.into_raw()),
        DynamicImage::ImageLuma16(b) => Tensor::from_elements(h, w, 1, b.as_raw()),
        DynamicImage::ImageLumaA16(b) => Tensor::from_elements(h, w, 2, b.as_raw()),
        DynamicImage::ImageRgb16(b) => Tensor::from_elements(h, w, 3, b.as_raw()),
        DynamicImage::ImageRgba16(b) => Tensor::from_elements(h, w, 4, b.as_raw()),
        DynamicImage::ImageRgb32F(b) => Tensor::from_elements(h, w, 3, b.as_raw()),
        DynamicImage::ImageRgba32F(b) => Tensor::from_elements(h, w, 4, b.as_raw()),
        other => {
            return Err(RasterError::NotAnImage(format!(
                "the decoded color type {:?} has no tensor form",
                other.color()
            )));
        }
    };
    tensor.ok_or_else(|| {
        RasterError::NotAnImage("the decoded image has fewer samples than its size".into())
    })
}

/// The tensor as an image of the matching color type, if the `image`
/// crate has one.
pub(super) fn to_image(tensor: &Tensor) -> Option<DynamicImage> {
    use DynamicImage as D;
    let (w, h) = (tensor.width() as u32, tensor.height() as u32);
    let u8s = || Some(tensor.as_le_bytes().to_vec());
    let u16s = || tensor.elements::<u16>();
    let f32s = || tensor.elements::<f32>();
    Some(match (tensor.sample_type(), tensor.channels()) {
        (SampleType::U8, 1) => D::ImageLuma8(ImageBuffer::from_raw(w, h, u8s()?)?),
        (SampleType::U8, 2) => D::ImageLumaA8(ImageBuffer::from_raw(w, h, u8s()?)?),
        (SampleType::U8, 3) => D::ImageRgb8(ImageBuffer::from_raw(w, h, u8s()?)?),
        (SampleType::U8, 4) => D::ImageRgba8(ImageBuffer::from_raw(w, h, u8s()?)?),
        (SampleType::U16, 1) => D::ImageLuma16(ImageBuffer::from_raw(w, h, u16s()?)?),
        (SampleType::U16, 2) => D::ImageLumaA16(ImageBuffer::from_raw(w, h, u16s()?)?),
        (SampleType::U16, 3) => D::ImageRgb16(ImageBuffer::from_raw(w, h, u16s()?)?),
        (SampleType::U16, 4) => D::ImageRgba16(ImageBuffer::from_raw(w, h, u16s()?)?),
        (SampleType::F32, 3) => D::ImageRgb32F(ImageBuffer::from_raw(w, h, f32s()?)?),
        (SampleType::F32, 4) => D::ImageRgba32F(ImageBuffer::from_raw(w, h, f32s()?)?),
        _ => return None,
    })
}

/// Decodes with the `image` crate's decoder for the format, with the ICC
/// profile, refusing an image whose decoded size would pass `limit` bytes.
pub(super) fn decode(
    bytes: &[u8],
    format: ImageFormat,
    limit: u64,
) -> Result<(Tensor, Option<Vec<u8>>), RasterError> {
    let name = format_name(format);
    let fail = |source: ImageError| match source {
        ImageError::Limits(e)
            if matches!(
                e.kind(),
                LimitErrorKind::InsufficientMemory | LimitErrorKind::DimensionError
            ) =>
        {
            RasterError::Limit {
                format: name,
                limit_mib: limit >> 20,
            }
        }
        source => RasterError::Decode {
            format: name,
            source,
        },
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(limit);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(fail)?;
    // Not every decoder holds to `max_alloc`: check the claimed size here too.
    RasterError::check_limit(name, decoder.total_bytes().into(), limit)?;
    let icc = decoder.icc_profile().map_err(fail)?;
    let image = DynamicImage::from_decoder(decoder).map_err(fail)?;
    Ok((to_tensor(image)?, icc))
}

/// Height, width, channels and sample type from the `image` crate's
/// decoder for the format, which reads the header alone.
pub(super) fn probe(
    bytes: &[u8],
    format: ImageFormat,
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    let name = format_name(format);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.no_limits();
    let decoder = reader
        .into_decoder()
        .map_err(|source| RasterError::Decode {
            format: name,
            source,
        })?;
    RasterError::check_limit(name, decoder.total_bytes().into(), limit)?;
    let (w, h) = decoder.dimensions();
    let color = decoder.color_type();
    let sample = match color.bytes_per_pixel() / color.channel_count() {
        1 => SampleType::U8,
        2 => SampleType::U16,
        _ => SampleType::F32,
    };
    Ok((
        h as usize,
        w as usize,
        usize::from(color.channel_count()),
        sample,
    ))
}

/// Encodes a tensor the format holds with the `image` crate's encoder for
/// it (WebP losslessly; also BMP's and ICO's, for their rooms). GIF is
/// checked to keep every pixel as it is.
pub(super) fn encode(
    tensor: &Tensor,
    icc: Option<&[u8]>,
    format: ImageFormat,
) -> Result<Vec<u8>, RasterError> {
    let image = image_of(tensor)?;
    if format == ImageFormat::Gif {
        check_gif_palette(&image).map_err(RasterError::GifChanged)?;
    }
    let mut out = Vec::new();
    match format {
        ImageFormat::Bmp => write_image(BmpEncoder::new(&mut out), &image, icc),
        ImageFormat::Ico => write_image(IcoEncoder::new(&mut out), &image, icc),
        ImageFormat::WebP => write_image(WebPEncoder::new_lossless(&mut out), &image, icc),
        ImageFormat::Qoi => write_image(QoiEncoder::new(&mut out), &image, icc),
        ImageFormat::Farbfeld => write_image(FarbfeldEncoder::new(&mut out), &image, icc),
        ImageFormat::Hdr => write_image(HdrEncoder::new(&mut out), &image, icc),
        ImageFormat::OpenExr => {
            write_image(OpenExrEncoder::new(Cursor::new(&mut out)), &image, icc)
        }
        ImageFormat::Gif => GifEncoder::new(&mut out).encode(
            image.as_bytes(),
            image.width(),
            image.height(),
            image.color().into(),
        ),
        _ => Err(ImageError::Unsupported(
            image::error::UnsupportedError::from_format_and_kind(
                format.into(),
                image::error::UnsupportedErrorKind::Format(format.into()),
            ),
        )),
    }
    .map_err(|source| RasterError::Encode {
        format: format_name(format),
        source,
    })?;
    if format == ImageFormat::Gif {
        check_gif_round_trip(&image, &out).map_err(RasterError::GifChanged)?;
    }
    Ok(out)
}

/// The tensor as an image, for an encoder; the codec table has checked
/// that the format holds it.
pub(super) fn image_of(tensor: &Tensor) -> Result<DynamicImage, RasterError> {
    to_image(tensor)
        .ok_or_else(|| RasterError::NotAnImage(format!("{} has no image form", tensor.describe())))
}

/// Writes the image, with the ICC profile if the encoder keeps one.
pub(super) fn write_image(
    mut encoder: impl ImageEncoder,
    image: &DynamicImage,
    icc: Option<&[u8]>,
) -> Result<(), ImageError> {
    if let Some(profile) = icc {
        // An encoder that cannot keep it says so; the codec table knows.
        let _ = encoder.set_icc_profile(profile.to_vec());
    }
    encoder.write_image(
        image.as_bytes(),
        image.width(),
        image.height(),
        image.color().into(),
    )
}

/// GIF holds at most 256 colors, one of them fully transparent: anything
/// more would be quantized, which rcrop refuses to do silently.
fn check_gif_palette(image: &DynamicImage) -> Result<(), String> {
    let rgba = image.to_rgba8();
    let mut colors = HashSet::new();
    let mut transparent = HashSet::new();
    for p in rgba.pixels() {
        let [r, g, b, a] = p.0;
        match a {
            0 => transparent.insert([r, g, b]),
            255 => colors.insert([r, g, b]),
            _ => return Err(format!("a partial alpha of {a}")),
        };
        if colors.len() + usize::from(!transparent.is_empty()) > 256 {
            return Err("more than 256 colors".into());
        }
    }
    if transparent.len() > 1 {
        return Err(format!(
            "transparent (alpha 0) pixels of {} colors, which GIF stores as one",
            transparent.len()
        ));
    }
    Ok(())
}

/// The GIF written must decode to exactly the pixels given: a GIF encoder
/// is free to remap colors, and rcrop changes none silently.
fn check_gif_round_trip(image: &DynamicImage, gif: &[u8]) -> Result<(), String> {
    let back = image::load_from_memory_with_format(gif, ImageFormat::Gif)
        .map_err(|e| format!("a GIF that does not decode back ({e})"))?;
    let (want, got) = (image.to_rgba8(), back.to_rgba8());
    match want.pixels().zip(got.pixels()).position(|(a, b)| a != b) {
        None if want.dimensions() == got.dimensions() => Ok(()),
        None => Err("a GIF of another size".into()),
        Some(i) => {
            let (x, y) = (i as u32 % want.width(), i as u32 / want.width());
            Err(format!(
                "pixels GIF cannot store as they are: ({x}, {y}) is {:?} and would become {:?}",
                want.get_pixel(x, y).0,
                got.get_pixel(x, y).0
            ))
        }
    }
}
