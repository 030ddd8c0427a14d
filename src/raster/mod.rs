//! Image files and tensors: an image decodes to a [`Tensor`] of batch 1, its
//! samples kept as decoded (8-bit, 16-bit or float32; 1 to 4 channels), and
//! a tensor encodes back without converting a pixel.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor};

use image::codecs::bmp::BmpEncoder;
use image::codecs::farbfeld::FarbfeldEncoder;
use image::codecs::gif::GifEncoder;
use image::codecs::hdr::HdrEncoder;
use image::codecs::ico::IcoEncoder;
use image::codecs::openexr::OpenExrEncoder;
use image::codecs::qoi::QoiEncoder;
use image::codecs::tga::TgaEncoder;
use image::codecs::webp::WebPEncoder;
use image::error::LimitErrorKind;
use image::{
    ColorType, DynamicImage, ImageBuffer, ImageDecoder, ImageEncoder, ImageError, ImageFormat,
    ImageReader, Limits,
};

use crate::tensor::{SampleType, Tensor};

mod bmp;
mod bmp_write;
mod colour;
mod guard;
mod ico;
mod jpeg;
mod png;
mod png_write;
mod pnm;
pub mod rows;
mod tiff;
mod tiff_strips;

pub use colour::{ColorMode, convert as convert_colour};
pub use jpeg::{Grid, JpegCrop, Region, crop_lossless as crop_jpeg_lossless, grid as jpeg_grid};
pub use rows::{RowSink, RowSource, RowsInfo, StreamError, TensorRows, Window};

/// What can go wrong between an image file and a tensor.
#[derive(Debug, thiserror::Error)]
pub enum RasterError {
    #[error("the {format} image is damaged: {why}")]
    Damaged { format: &'static str, why: String },
    #[error(
        "the {format} codec failed ({message}); the file is damaged or of a kind rcrop does \
         not handle"
    )]
    Panic {
        format: &'static str,
        message: String,
    },
    #[error("the TIFF image cannot be read: {why}")]
    Tiff { why: String },
    #[error("{0}")]
    GifChanged(String),
    #[error("cannot decode the {format} image: {source}")]
    Decode {
        format: &'static str,
        source: ImageError,
    },
    #[error(
        "decoding this {format} image needs more memory than the image limit of {limit_mib} MiB; \
         raise --image-limit-mib if the file is trusted"
    )]
    Limit {
        format: &'static str,
        limit_mib: u64,
    },
    #[error("{format} cannot hold {found}; it holds {holds}")]
    CannotHold {
        format: &'static str,
        found: String,
        holds: &'static str,
    },
    #[error("{0}")]
    NotAnImage(String),
    #[error("cannot crop it losslessly: {0}")]
    NotLossless(String),
    #[error(
        "--color-mode {mode} converts 8-bit images as Keras' load_img does; this image is {found}"
    )]
    ColourMode { mode: &'static str, found: String },
    #[error("cannot encode the {format} image: {source}")]
    Encode {
        format: &'static str,
        source: ImageError,
    },
}

/// The formats rcrop reads and writes.
pub const IMAGE_FORMATS: [ImageFormat; 13] = [
    ImageFormat::Png,
    ImageFormat::Jpeg,
    ImageFormat::Tiff,
    ImageFormat::Bmp,
    ImageFormat::WebP,
    ImageFormat::Gif,
    ImageFormat::Tga,
    ImageFormat::Qoi,
    ImageFormat::Ico,
    ImageFormat::Farbfeld,
    ImageFormat::Hdr,
    ImageFormat::OpenExr,
    ImageFormat::Pnm,
];

/// The name of an image format as people write it: PNG, JPEG, WebP.
pub fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "PNG",
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Tiff => "TIFF",
        ImageFormat::Bmp => "BMP",
        ImageFormat::WebP => "WebP",
        ImageFormat::Gif => "GIF",
        ImageFormat::Tga => "TGA",
        ImageFormat::Qoi => "QOI",
        ImageFormat::Ico => "ICO",
        ImageFormat::Farbfeld => "farbfeld",
        ImageFormat::Hdr => "Radiance HDR",
        ImageFormat::OpenExr => "OpenEXR",
        ImageFormat::Pnm => pnm::NAME,
        _ => "image",
    }
}

/// The image's samples as decoded — gray, gray+alpha, RGB or RGBA, at 8 or
/// 16 bits or float32 — as a tensor.
fn to_tensor(image: DynamicImage) -> Result<Tensor, RasterError> {
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
                "the decoded colour type {:?} has no tensor form",
                other.color()
            )));
        }
    };
    tensor.ok_or_else(|| {
        RasterError::NotAnImage("the decoded image has fewer samples than its size".into())
    })
}

/// The tensor as an image of the matching colour type, if the `image`
/// crate has one.
fn to_image(tensor: &Tensor) -> Option<DynamicImage> {
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

/// Decodes an image file held in memory into a tensor, with its ICC
/// profile, refusing images whose decoded size would pass `limit` bytes
/// before allocating them, and damaged files rather than guessing pixels.
pub fn decode(
    bytes: &[u8],
    format: ImageFormat,
    limit: u64,
) -> Result<(Tensor, Option<Vec<u8>>), RasterError> {
    guard::guarded(format_name(format), || {
        let (image, icc) = match format {
            ImageFormat::Tiff => return tiff::decode(bytes, limit),
            ImageFormat::Pnm => return Ok((pnm::decode(bytes, limit)?, None)),
            ImageFormat::Jpeg => jpeg::decode(bytes, limit)?,
            ImageFormat::Bmp => decode_with_image(&bmp::normalize(bytes)?, format, limit)?,
            ImageFormat::Ico => {
                let one = ico::largest_entry(bytes)?;
                if let Some(entry) = ico::png_entry(&one) {
                    png::check_palette(entry)?;
                }
                decode_with_image(&one, format, limit)?
            }
            ImageFormat::Png => {
                png::check_palette(bytes)?;
                decode_with_image(bytes, format, limit)?
            }
            _ => decode_with_image(bytes, format, limit)?,
        };
        Ok((to_tensor(image)?, icc))
    })
}

/// Decodes with the `image` crate's decoder for the format.
fn decode_with_image(
    bytes: &[u8],
    format: ImageFormat,
    limit: u64,
) -> Result<(DynamicImage, Option<Vec<u8>>), RasterError> {
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
    if decoder.total_bytes() > limit {
        return Err(RasterError::Limit {
            format: name,
            limit_mib: limit >> 20,
        });
    }
    let icc = decoder.icc_profile().map_err(fail)?;
    let image = DynamicImage::from_decoder(decoder).map_err(fail)?;
    Ok((image, icc))
}

/// How many of a file's first bytes [`streams`] looks at.
pub const STREAM_HEAD: usize = 64;

// A PNG's interlace method is its 29th byte.
const _: () = assert!(STREAM_HEAD >= 29);
// A BMP's compression is in its 31st to 34th bytes.
const _: () = assert!(STREAM_HEAD >= bmp::STREAMABLE_HEAD);

/// Where an image read a row at a time comes from.
pub enum RowInput<'a> {
    /// Read front to back only: standard input, a pipe, or a file.
    Stream(Box<dyn BufRead + Send + 'a>),
    /// A regular file, read at any offset.
    File(BufReader<File>),
}

/// Whether an image of `format` whose first bytes are `head` can be read a
/// row at a time; `file` says whether its input is a regular file that can
/// be read at any offset, which some formats need. The others (interlaced
/// PNG, JPEG, WebP, GIF and the rest) are decoded whole, under the image
/// limit.
pub fn streams(format: ImageFormat, head: &[u8], file: bool) -> bool {
    match format {
        ImageFormat::Png => png::streamable(head) == Some(true),
        ImageFormat::Pnm => true,
        ImageFormat::Tiff => file,
        ImageFormat::Bmp => file && bmp::streamable(head) == Some(true),
        _ => false,
    }
}

/// Opens an image that [`streams`] said can be read a row at a time.
pub fn row_source<'a>(
    format: ImageFormat,
    input: RowInput<'a>,
    limit: u64,
) -> Result<Box<dyn RowSource + 'a>, RasterError> {
    let name = format_name(format);
    guard::guarded(name, || match (format, input) {
        (ImageFormat::Png, RowInput::Stream(r)) => png::source(r),
        (ImageFormat::Png, RowInput::File(r)) => png::source(r),
        (ImageFormat::Pnm, RowInput::Stream(r)) => pnm::source(r),
        (ImageFormat::Pnm, RowInput::File(r)) => pnm::source(r),
        (ImageFormat::Tiff, RowInput::File(r)) => tiff::source(r, limit),
        (ImageFormat::Bmp, RowInput::File(r)) => bmp::source(r, limit),
        _ => Err(RasterError::NotAnImage(format!(
            "a {name} image is not read a row at a time"
        ))),
    })
}

/// Refuses, before anything is decoded, an image like `info` that
/// `format` cannot hold, as [`encode`] would refuse it.
pub fn check_holds(format: ImageFormat, info: &RowsInfo) -> Result<(), RasterError> {
    let pixel = Tensor::from_le_bytes(1, 1, info.channels, info.sample, vec![0; info.pixel_len()])
        .ok_or_else(|| RasterError::NotAnImage("an image of no samples".into()))?;
    let (colours, holds_text) = holds(format);
    let fits = format != ImageFormat::Ico || (info.width <= 256 && info.height <= 256);
    let held = match format {
        ImageFormat::Tiff => tiff_strips::holds(info),
        _ => fits && to_image(&pixel).is_some_and(|image| colours.contains(&image.color())),
    };
    if held {
        return Ok(());
    }
    Err(RasterError::CannotHold {
        format: format_name(format),
        found: pixel.describe(),
        holds: holds_text,
    })
}

/// Whether [`row_sink`] has an encoder for `format`.
pub fn writes_rows(format: ImageFormat) -> bool {
    matches!(format, ImageFormat::Pnm | ImageFormat::Png)
}

/// An encoder of `format` taking the rows of an image like `info`, if the
/// format is written a row at a time, with a warning when the ICC profile
/// cannot be kept. `None` for the formats encoded whole.
#[allow(clippy::type_complexity)]
pub fn row_sink<'a, W: io::Write + Send + 'a>(
    format: ImageFormat,
    out: W,
    info: &RowsInfo,
    options: EncodeOptions,
) -> Result<Option<(Box<dyn RowSink + 'a>, Option<String>)>, RasterError> {
    match format {
        ImageFormat::Png => Ok(Some((
            png_write::sink(out, info, options.png_compression)?,
            None,
        ))),
        ImageFormat::Pnm => {
            let sink = pnm::sink(out, info)?;
            Ok(Some((
                sink,
                info.icc.as_ref().map(|_| icc_dropped(pnm::NAME)),
            )))
        }
        _ => Ok(None),
    }
}

/// A BMP encoder taking the rows of an image like `info` (8-bit gray, RGB
/// or RGBA: see [`check_holds`]) and writing them bottom-up at their place
/// in `out`, byte for byte as [`encode`] writes the whole image.
pub fn bmp_row_sink<'a, W: io::Write + io::Seek + Send + 'a>(
    out: W,
    info: &RowsInfo,
) -> Result<Box<dyn RowSink + 'a>, RasterError> {
    bmp_write::sink(out, info)
}

/// Writes an image like `info` as a TIFF a strip at a time, pulling its
/// rows from `next` (any whole number of rows a call, `None` at the end).
/// `None` if TIFF does not hold such an image; nothing is written then.
pub fn write_tiff_rows<W: io::Write + io::Seek>(
    out: W,
    info: &RowsInfo,
    icc: Option<&[u8]>,
    next: &mut dyn FnMut() -> Option<Vec<u8>>,
) -> Option<Result<(), RasterError>> {
    tiff_strips::holds(info)
        .then(|| guard::guarded("TIFF", || tiff_strips::write(out, info, icc, next)))
}

/// Passes the rows of `window` from `source` to `row`, with a panic in the
/// codec turned into an error.
pub fn read_window(
    format: ImageFormat,
    source: &mut dyn RowSource,
    window: &Window,
    row: &mut rows::RowFn<'_>,
) -> Result<(), StreamError> {
    guard::guarded(format_name(format), || source.read_window(window, row))
}

/// The tensor an image file would become — height, width, channels and
/// dtype — read from its header alone, with the same limit as [`decode`].
pub fn probe(
    bytes: &[u8],
    format: ImageFormat,
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    let name = format_name(format);
    let bytes = match format {
        ImageFormat::Bmp => bmp::normalize(bytes)?,
        ImageFormat::Ico => ico::largest_entry(bytes)?,
        _ => std::borrow::Cow::Borrowed(bytes),
    };
    guard::guarded(name, || match format {
        ImageFormat::Tiff => tiff::probe(&bytes, limit),
        ImageFormat::Pnm => pnm::probe(&bytes, limit),
        ImageFormat::Jpeg => jpeg::probe(&bytes, limit).map(|(h, w, c)| (h, w, c, SampleType::U8)),
        _ => probe_with_image(&bytes, format, limit),
    })
}

fn probe_with_image(
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
    if decoder.total_bytes() > limit {
        return Err(RasterError::Limit {
            format: name,
            limit_mib: limit >> 20,
        });
    }
    let (w, h) = decoder.dimensions();
    let colour = decoder.color_type();
    let sample = match colour.bytes_per_pixel() / colour.channel_count() {
        1 => SampleType::U8,
        2 => SampleType::U16,
        _ => SampleType::F32,
    };
    Ok((
        h as usize,
        w as usize,
        usize::from(colour.channel_count()),
        sample,
    ))
}

/// PNG compression effort (`--png-compression`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PngCompression {
    Fast,
    #[default]
    Default,
    Best,
}

/// How images are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EncodeOptions {
    /// JPEG quality, 1 to 100. Default: 95.
    pub jpeg_quality: u8,
    /// PNG compression effort. Default: [`PngCompression::Default`].
    pub png_compression: PngCompression,
    /// How a JPEG is cropped into a JPEG. Default: [`JpegCrop::Auto`].
    pub jpeg_crop: JpegCrop,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            jpeg_quality: 95,
            png_compression: PngCompression::Default,
            jpeg_crop: JpegCrop::Auto,
        }
    }
}

/// The colour types each output format holds exactly.
fn holds(format: ImageFormat) -> (&'static [ColorType], &'static str) {
    use ColorType::*;
    match format {
        ImageFormat::Png => (
            &[L8, La8, Rgb8, Rgba8, L16, La16, Rgb16, Rgba16],
            "8- or 16-bit gray, gray+alpha, RGB or RGBA",
        ),
        ImageFormat::Jpeg => (&[L8, Rgb8], "8-bit gray or RGB"),
        ImageFormat::Tiff => (&[], tiff::HOLDS),
        ImageFormat::Bmp => (&[L8, Rgb8, Rgba8], "8-bit gray, RGB or RGBA"),
        ImageFormat::WebP => (
            &[L8, La8, Rgb8, Rgba8],
            "8-bit gray, gray+alpha, RGB or RGBA",
        ),
        ImageFormat::Gif => (
            &[Rgb8, Rgba8],
            "8-bit RGB or RGBA of at most 256 colours, alpha 0 or 255",
        ),
        ImageFormat::Tga => (
            &[L8, La8, Rgb8, Rgba8],
            "8-bit gray, gray+alpha, RGB or RGBA",
        ),
        ImageFormat::Qoi => (&[Rgb8, Rgba8], "8-bit RGB or RGBA"),
        ImageFormat::Ico => (&[L8, La8, Rgb8, Rgba8, L16, La16, Rgb16, Rgba16], ICO_HOLDS),
        ImageFormat::Farbfeld => (&[Rgba16], "16-bit RGBA"),
        ImageFormat::Hdr => (&[Rgb32F], "float32 RGB"),
        ImageFormat::OpenExr => (&[Rgb32F, Rgba32F], "float32 RGB or RGBA"),
        ImageFormat::Pnm => (&[L8, Rgb8, L16, Rgb16], pnm::HOLDS),
        _ => (&[], "nothing rcrop writes"),
    }
}

const ICO_HOLDS: &str = "8- or 16-bit gray, gray+alpha, RGB or RGBA of at most 256 by 256 pixels";

/// Encodes an image, keeping its ICC profile where the format can carry
/// one. Returns the file's bytes and, if the profile had to be dropped, a
/// warning saying so.
pub fn encode(
    tensor: Tensor,
    icc: Option<&[u8]>,
    format: ImageFormat,
    options: EncodeOptions,
) -> Result<(Vec<u8>, Option<String>), RasterError> {
    let name = format_name(format);
    let (colours, holds_text) = holds(format);
    let described = tensor.describe();
    let cannot_hold = |found: String| RasterError::CannotHold {
        format: name,
        found,
        holds: holds_text,
    };
    if format == ImageFormat::Tiff {
        let written = guard::guarded(name, || tiff_strips::encode(&tensor, icc))?;
        return written
            .map(|bytes| (bytes, None))
            .ok_or_else(|| cannot_hold(described));
    }
    if format == ImageFormat::Png {
        return guard::guarded(name, || encode_png(&tensor, icc, options.png_compression))
            .map(|bytes| (bytes, None));
    }
    if format == ImageFormat::Pnm {
        let bytes = pnm::encode(&tensor)?;
        return Ok((bytes, icc.map(|_| icc_dropped(name))));
    }
    if format == ImageFormat::Jpeg
        && tensor.sample_type() == SampleType::U8
        && matches!(tensor.channels(), 1 | 3)
    {
        // Straight from the tensor's samples, without an image copy.
        let (w, h, c) = (tensor.width(), tensor.height(), tensor.channels());
        let quality = options.jpeg_quality;
        return guard::guarded(name, || {
            jpeg::encode(tensor.as_le_bytes(), w, h, c, quality, icc).map_err(|why| {
                RasterError::Encode {
                    format: name,
                    source: ImageError::Encoding(image::error::EncodingError::new(
                        ImageFormat::Jpeg.into(),
                        why,
                    )),
                }
            })
        })
        .map(|bytes| (bytes, None));
    }
    let fits = |image: &DynamicImage| {
        format != ImageFormat::Ico || (image.width() <= 256 && image.height() <= 256)
    };
    let image = to_image(&tensor)
        .filter(|image| colours.contains(&image.color()) && fits(image))
        .ok_or_else(|| cannot_hold(described.clone()))?;
    if format == ImageFormat::Gif {
        check_gif_palette(&image).map_err(|why| cannot_hold(format!("{described} with {why}")))?;
    }
    guard::guarded(name, || encode_image(&image, icc, format, options)).map_err(|e| match e {
        RasterError::GifChanged(why) => cannot_hold(format!("{described} with {why}")),
        e => e,
    })
}

/// PNG through the row encoder, so that a whole image and one streamed a
/// row at a time give the same bytes.
fn encode_png(
    tensor: &Tensor,
    icc: Option<&[u8]>,
    compression: PngCompression,
) -> Result<Vec<u8>, RasterError> {
    let info = rows::RowsInfo {
        width: tensor.width(),
        height: tensor.height(),
        channels: tensor.channels(),
        sample: tensor.sample_type(),
        icc: icc.map(<[u8]>::to_vec),
    };
    let mut out = Vec::new();
    let mut sink = png_write::sink(&mut out, &info, compression)?;
    let fail = |e| RasterError::Encode {
        format: "PNG",
        source: ImageError::IoError(e),
    };
    for row in tensor.as_le_bytes().chunks_exact(info.row_len()) {
        sink.write_row(row).map_err(fail)?;
    }
    sink.finish().map_err(fail)?;
    Ok(out)
}

fn encode_image(
    image: &DynamicImage,
    icc: Option<&[u8]>,
    format: ImageFormat,
    options: EncodeOptions,
) -> Result<(Vec<u8>, Option<String>), RasterError> {
    let name = format_name(format);
    let mut out = Vec::new();
    let fail = |source| RasterError::Encode {
        format: name,
        source,
    };
    let dropped = match format {
        ImageFormat::Jpeg => {
            encode_jpeg(&mut out, image, icc, options.jpeg_quality).map(|()| false)
        }
        ImageFormat::Bmp => write_image(BmpEncoder::new(&mut out), image, icc),
        ImageFormat::WebP => write_image(WebPEncoder::new_lossless(&mut out), image, icc),
        ImageFormat::Tga => write_image(TgaEncoder::new(&mut out), image, icc),
        ImageFormat::Qoi => write_image(QoiEncoder::new(&mut out), image, icc),
        ImageFormat::Ico => write_image(IcoEncoder::new(&mut out), image, icc),
        ImageFormat::Farbfeld => write_image(FarbfeldEncoder::new(&mut out), image, icc),
        ImageFormat::Hdr => write_image(HdrEncoder::new(&mut out), image, icc),
        ImageFormat::OpenExr => write_image(OpenExrEncoder::new(Cursor::new(&mut out)), image, icc),
        _ => GifEncoder::new(&mut out)
            .encode(
                image.as_bytes(),
                image.width(),
                image.height(),
                image.color().into(),
            )
            .map(|()| icc.is_some()),
    }
    .map_err(fail)?;
    if format == ImageFormat::Gif {
        check_gif_round_trip(image, &out).map_err(RasterError::GifChanged)?;
    }
    Ok((out, dropped.then(|| icc_dropped(name))))
}

/// The warning for an ICC profile the output format cannot carry.
pub fn icc_dropped(format: &str) -> String {
    format!("{format} cannot carry an ICC profile; the input's profile was dropped")
}

/// JPEG with libjpeg-turbo at libjpeg's settings: 4:2:0 chroma
/// subsampling, and the ICC profile in APP2 segments.
fn encode_jpeg(
    out: &mut Vec<u8>,
    image: &DynamicImage,
    icc: Option<&[u8]>,
    quality: u8,
) -> Result<(), ImageError> {
    let channels = usize::from(image.color().channel_count());
    let (w, h) = (image.width() as usize, image.height() as usize);
    *out = jpeg::encode(image.as_bytes(), w, h, channels, quality, icc).map_err(|why| {
        ImageError::Encoding(image::error::EncodingError::new(
            ImageFormat::Jpeg.into(),
            why,
        ))
    })?;
    Ok(())
}

/// Writes the image; returns whether an ICC profile had to be dropped.
fn write_image(
    mut encoder: impl ImageEncoder,
    image: &DynamicImage,
    icc: Option<&[u8]>,
) -> Result<bool, ImageError> {
    let dropped = match icc {
        Some(profile) => encoder.set_icc_profile(profile.to_vec()).is_err(),
        None => false,
    };
    encoder.write_image(
        image.as_bytes(),
        image.width(),
        image.height(),
        image.color().into(),
    )?;
    Ok(dropped)
}

/// GIF holds at most 256 colours, one of them fully transparent: anything
/// more would be quantized, which rcrop refuses to do silently.
fn check_gif_palette(image: &DynamicImage) -> Result<(), String> {
    let rgba = image.to_rgba8();
    let mut colours = HashSet::new();
    let mut transparent = HashSet::new();
    for p in rgba.pixels() {
        let [r, g, b, a] = p.0;
        match a {
            0 => transparent.insert([r, g, b]),
            255 => colours.insert([r, g, b]),
            _ => return Err(format!("a partial alpha of {a}")),
        };
        if colours.len() + usize::from(!transparent.is_empty()) > 256 {
            return Err("more than 256 colours".into());
        }
    }
    if transparent.len() > 1 {
        return Err(format!(
            "transparent (alpha 0) pixels of {} colours, which GIF stores as one",
            transparent.len()
        ));
    }
    Ok(())
}

/// The GIF written must decode to exactly the pixels given: a GIF encoder
/// is free to remap colours, and rcrop changes none silently.
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
