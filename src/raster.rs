//! Image files and tensors: an image is a 4D tensor of batch 1, its samples
//! kept as decoded (8-bit, 16-bit or float32; 1 to 4 channels), cropped by
//! whole rows and written back without converting a pixel.

use std::collections::HashSet;
use std::io::Cursor;

use image::codecs::bmp::BmpEncoder;
use image::codecs::gif::GifEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::tiff::TiffEncoder;
use image::codecs::webp::WebPEncoder;
use image::error::LimitErrorKind;
use image::{
    ColorType, DynamicImage, ImageBuffer, ImageDecoder, ImageEncoder, ImageError, ImageFormat,
    ImageReader, Limits,
};

use crate::kind::format_name;
use crate::layer::{CropError, Cropping2D, Shape};
use crate::layout::DataFormat;
use crate::npy::{Dtype, Header};

/// What can go wrong between an image file and a tensor.
#[derive(Debug, thiserror::Error)]
pub enum RasterError {
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
    #[error("cannot encode the {format} image: {source}")]
    Encode {
        format: &'static str,
        source: ImageError,
    },
}

/// The samples of an image in row-major order, channels interleaved.
#[derive(Clone, Debug, PartialEq)]
pub enum Samples {
    U8(Vec<u8>),
    U16(Vec<u16>),
    F32(Vec<f32>),
}

impl Samples {
    /// The NumPy dtype, little-endian as NumPy writes it on common machines.
    fn descr(&self) -> &'static str {
        match self {
            Samples::U8(_) => "|u1",
            Samples::U16(_) => "<u2",
            Samples::F32(_) => "<f4",
        }
    }

    fn itemsize(&self) -> usize {
        match self {
            Samples::U8(_) => 1,
            Samples::U16(_) => 2,
            Samples::F32(_) => 4,
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Samples::U8(_) => "8-bit",
            Samples::U16(_) => "16-bit",
            Samples::F32(_) => "float32",
        }
    }
}

/// An image as a tensor of batch 1: `height × width × channels` samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    height: usize,
    width: usize,
    channels: usize,
    samples: Samples,
}

impl Tensor {
    /// The image's samples as decoded: gray, gray+alpha, RGB or RGBA, at
    /// 8 or 16 bits or float32.
    pub fn from_image(image: DynamicImage) -> Result<Self, RasterError> {
        let (width, height) = (image.width() as usize, image.height() as usize);
        let (channels, samples) = match image {
            DynamicImage::ImageLuma8(b) => (1, Samples::U8(b.into_raw())),
            DynamicImage::ImageLumaA8(b) => (2, Samples::U8(b.into_raw())),
            DynamicImage::ImageRgb8(b) => (3, Samples::U8(b.into_raw())),
            DynamicImage::ImageRgba8(b) => (4, Samples::U8(b.into_raw())),
            DynamicImage::ImageLuma16(b) => (1, Samples::U16(b.into_raw())),
            DynamicImage::ImageLumaA16(b) => (2, Samples::U16(b.into_raw())),
            DynamicImage::ImageRgb16(b) => (3, Samples::U16(b.into_raw())),
            DynamicImage::ImageRgba16(b) => (4, Samples::U16(b.into_raw())),
            DynamicImage::ImageRgb32F(b) => (3, Samples::F32(b.into_raw())),
            DynamicImage::ImageRgba32F(b) => (4, Samples::F32(b.into_raw())),
            other => {
                return Err(RasterError::NotAnImage(format!(
                    "the decoded colour type {:?} has no tensor form",
                    other.color()
                )));
            }
        };
        Ok(Self {
            height,
            width,
            channels,
            samples,
        })
    }

    /// The tensor's shape in a data format.
    pub fn shape(&self, format: DataFormat) -> Shape {
        let (h, w, c) = (self.height, self.width, self.channels);
        match format {
            DataFormat::ChannelsLast => Shape::known([1, h, w, c]),
            DataFormat::ChannelsFirst => Shape::known([1, c, h, w]),
        }
    }

    /// The NumPy dtype of the samples.
    pub fn descr(&self) -> &'static str {
        self.samples.descr()
    }

    /// The crop the layer asks for, done in place: each kept run of a row
    /// moves down to its place in the cropped image, no new buffer.
    pub fn crop(mut self, layer: &Cropping2D) -> Result<Tensor, CropError> {
        let dims = self.shape(layer.data_format).dims().unwrap_or_default();
        let kept = layer.kept_ranges(dims)?;
        let (row_axis, col_axis) = layer.data_format.spatial_axes();
        let (rows, cols) = (kept[row_axis].clone(), kept[col_axis].clone());
        let (width, channels) = (self.width, self.channels);
        let run = cols.len() * channels;
        fn keep_rows<T: Copy>(
            data: &mut Vec<T>,
            rows: std::ops::Range<usize>,
            first: usize,
            width: usize,
            channels: usize,
            run: usize,
        ) {
            let count = rows.len();
            for (to, row) in rows.enumerate() {
                let from = (row * width + first) * channels;
                data.copy_within(from..from + run, to * run);
            }
            data.truncate(count * run);
        }
        match &mut self.samples {
            Samples::U8(d) => keep_rows(d, rows.clone(), cols.start, width, channels, run),
            Samples::U16(d) => keep_rows(d, rows.clone(), cols.start, width, channels, run),
            Samples::F32(d) => keep_rows(d, rows.clone(), cols.start, width, channels, run),
        }
        self.height = rows.len();
        self.width = cols.len();
        Ok(self)
    }

    /// The `.npy` header of `batch` tensors like this one stacked, as
    /// `numpy.save` writes it.
    pub fn npy_header(&self, format: DataFormat, batch: usize) -> Header {
        let mut shape = self.shape(format).dims().unwrap_or_default();
        shape[0] = batch;
        Header {
            dtype: Dtype::plain(self.descr(), self.samples.itemsize()),
            fortran_order: false,
            shape: shape.to_vec(),
        }
    }

    /// The samples in C order of the tensor's shape in `format`, little-endian.
    pub fn npy_data(&self, format: DataFormat) -> Vec<u8> {
        let (pixels, channels) = (self.height * self.width, self.channels);
        // Element `i` of the output in storage order, for either format.
        let index = |i: usize| match format {
            DataFormat::ChannelsLast => i,
            DataFormat::ChannelsFirst => (i % pixels) * channels + i / pixels,
        };
        match (&self.samples, format) {
            // Already in storage order: whole buffers, no index arithmetic.
            (Samples::U8(d), DataFormat::ChannelsLast) => d.clone(),
            (Samples::U16(d), DataFormat::ChannelsLast) => {
                d.iter().flat_map(|v| v.to_le_bytes()).collect()
            }
            (Samples::F32(d), DataFormat::ChannelsLast) => {
                d.iter().flat_map(|v| v.to_le_bytes()).collect()
            }
            (Samples::U8(d), _) => (0..d.len()).map(|i| d[index(i)]).collect(),
            (Samples::U16(d), _) => (0..d.len())
                .flat_map(|i| d[index(i)].to_le_bytes())
                .collect(),
            (Samples::F32(d), _) => (0..d.len())
                .flat_map(|i| d[index(i)].to_le_bytes())
                .collect(),
        }
    }

    /// The tensor as a `.npy` file in a data format, as `numpy.save` writes it.
    pub fn to_npy(&self, format: DataFormat) -> Vec<u8> {
        let mut out = self.npy_header(format, 1).to_bytes();
        out.extend(self.npy_data(format));
        out
    }

    /// A tensor from a batch-1 `.npy` array of uint8, uint16 or float32 with
    /// 1 to 4 channels; `data` is the array's bytes in its storage order.
    pub fn from_npy(header: &Header, data: &[u8], format: DataFormat) -> Result<Self, RasterError> {
        let dims = image_dims(header, format)?;
        let expected = dims.0 * dims.1 * dims.2 * header.dtype.itemsize();
        if data.len() != expected {
            return Err(RasterError::NotAnImage(format!(
                "the array data is {} bytes; its header promises {expected}",
                data.len()
            )));
        }
        let descr = header.dtype.type_str().unwrap_or_default();
        let big = descr.starts_with('>');
        let samples = match descr.trim_start_matches(['<', '>', '|', '=']) {
            "u1" => Samples::U8(data.to_vec()),
            "u2" => Samples::U16(
                data.chunks_exact(2)
                    .map(|b| {
                        if big {
                            u16::from_be_bytes([b[0], b[1]])
                        } else {
                            u16::from_le_bytes([b[0], b[1]])
                        }
                    })
                    .collect(),
            ),
            _ => Samples::F32(
                data.chunks_exact(4)
                    .map(|b| {
                        let b = [b[0], b[1], b[2], b[3]];
                        if big {
                            f32::from_be_bytes(b)
                        } else {
                            f32::from_le_bytes(b)
                        }
                    })
                    .collect(),
            ),
        };
        let (height, width, channels) = dims;
        // C-ordered channels_last data is already height × width × channels.
        let already_hwc = format == DataFormat::ChannelsLast && !header.fortran_order;
        if already_hwc {
            return Ok(Self {
                height,
                width,
                channels,
                samples,
            });
        }
        // Strides of the logical axes in storage order.
        let logical = header.shape.clone();
        let mut strides = [0usize; 4];
        let mut step = 1;
        let order: Vec<usize> = if header.fortran_order {
            (0..4).collect()
        } else {
            (0..4).rev().collect()
        };
        for axis in order {
            strides[axis] = step;
            step *= logical[axis];
        }
        let (row_axis, col_axis) = format.spatial_axes();
        let channel_axis = format.channel_axis();
        let offset = |y: usize, x: usize, c: usize| {
            y * strides[row_axis] + x * strides[col_axis] + c * strides[channel_axis]
        };
        let hwc = (0..height)
            .flat_map(|y| (0..width).flat_map(move |x| (0..channels).map(move |c| (y, x, c))));
        let samples = match samples {
            Samples::U8(d) => Samples::U8(hwc.map(|(y, x, c)| d[offset(y, x, c)]).collect()),
            Samples::U16(d) => Samples::U16(hwc.map(|(y, x, c)| d[offset(y, x, c)]).collect()),
            Samples::F32(d) => Samples::F32(hwc.map(|(y, x, c)| d[offset(y, x, c)]).collect()),
        };
        Ok(Self {
            height,
            width,
            channels,
            samples,
        })
    }

    /// The tensor as an image of the matching colour type.
    pub fn into_image(self) -> Result<DynamicImage, RasterError> {
        let what = self.describe();
        let (w, h) = (self.width as u32, self.height as u32);
        let image = match (self.samples, self.channels) {
            (Samples::U8(v), 1) => ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageLuma8),
            (Samples::U8(v), 2) => ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageLumaA8),
            (Samples::U8(v), 3) => ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageRgb8),
            (Samples::U8(v), 4) => ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageRgba8),
            (Samples::U16(v), 1) => ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageLuma16),
            (Samples::U16(v), 2) => ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageLumaA16),
            (Samples::U16(v), 3) => ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageRgb16),
            (Samples::U16(v), 4) => ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageRgba16),
            (Samples::F32(v), 3) => ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageRgb32F),
            (Samples::F32(v), 4) => ImageBuffer::from_raw(w, h, v).map(DynamicImage::ImageRgba32F),
            _ => None,
        };
        image.ok_or_else(|| {
            RasterError::NotAnImage(format!(
                "no image type holds {what}; images hold 8- or 16-bit samples with 1 to 4 channels, \
                 or float32 RGB or RGBA"
            ))
        })
    }

    fn describe(&self) -> String {
        let layout = match self.channels {
            1 => "gray",
            2 => "gray+alpha",
            3 => "RGB",
            _ => "RGBA",
        };
        format!("{} {layout}", self.samples.type_name())
    }
}

/// Height, width and channels of an array that can become an image, or why it cannot.
pub fn image_dims(
    header: &Header,
    format: DataFormat,
) -> Result<(usize, usize, usize), RasterError> {
    let refuse = |why: String| {
        RasterError::NotAnImage(format!(
            "the array is {} {}; {why}",
            header.shape_repr(),
            header.dtype.descr()
        ))
    };
    let descr = header.dtype.type_str().unwrap_or_default();
    if !matches!(descr, "|u1" | "<u1" | ">u1" | "<u2" | ">u2" | "<f4" | ">f4") {
        return Err(refuse(
            "an image needs uint8, uint16 or float32 samples".into(),
        ));
    }
    let dims: [usize; 4] = header
        .shape
        .as_slice()
        .try_into()
        .map_err(|_| refuse("an image needs a 4D array".into()))?;
    if dims[0] != 1 {
        return Err(refuse(format!(
            "an image output needs a batch of 1, not {}",
            dims[0]
        )));
    }
    let (row_axis, col_axis) = format.spatial_axes();
    let channels = dims[format.channel_axis()];
    if !(1..=4).contains(&channels) {
        return Err(refuse(format!(
            "an image needs 1 to 4 channels ({format}), not {channels}"
        )));
    }
    Ok((dims[row_axis], dims[col_axis], channels))
}

/// Decodes an image file held in memory, with its ICC profile, refusing
/// images whose decoded size would pass `limit` bytes before allocating them.
pub fn decode(
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

/// The tensor an image file would become — height, width, channels and
/// dtype — read from its header alone, with the same limit as [`decode`].
pub fn probe(
    bytes: &[u8],
    format: ImageFormat,
    limit: u64,
) -> Result<(usize, usize, usize, &'static str), RasterError> {
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
    let descr = match colour.bytes_per_pixel() / colour.channel_count() {
        1 => "|u1",
        2 => "<u2",
        _ => "<f4",
    };
    Ok((
        h as usize,
        w as usize,
        usize::from(colour.channel_count()),
        descr,
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
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            jpeg_quality: 95,
            png_compression: PngCompression::Default,
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
        ImageFormat::Tiff => (
            &[L8, Rgb8, Rgba8, L16, Rgb16, Rgba16, Rgb32F, Rgba32F],
            "8- or 16-bit gray, RGB or RGBA, or float32 RGB or RGBA (no gray+alpha)",
        ),
        ImageFormat::Bmp => (&[L8, Rgb8, Rgba8], "8-bit gray, RGB or RGBA"),
        ImageFormat::WebP => (
            &[L8, La8, Rgb8, Rgba8],
            "8-bit gray, gray+alpha, RGB or RGBA",
        ),
        ImageFormat::Gif => (
            &[Rgb8, Rgba8],
            "8-bit RGB or RGBA of at most 256 colours, alpha 0 or 255",
        ),
        _ => (&[], "nothing rcrop writes"),
    }
}

/// Encodes an image, keeping its ICC profile where the format can carry
/// one. Returns the file's bytes and, if the profile had to be dropped, a
/// warning saying so.
pub fn encode(
    image: &DynamicImage,
    icc: Option<&[u8]>,
    format: ImageFormat,
    options: EncodeOptions,
) -> Result<(Vec<u8>, Option<String>), RasterError> {
    let name = format_name(format);
    let (colours, holds_text) = holds(format);
    let cannot_hold = |found: String| RasterError::CannotHold {
        format: name,
        found,
        holds: holds_text,
    };
    let tensor_name = |img: &DynamicImage| {
        Tensor::from_image(img.clone())
            .map(|t| t.describe())
            .unwrap_or_default()
    };
    if !colours.contains(&image.color()) {
        return Err(cannot_hold(tensor_name(image)));
    }
    if format == ImageFormat::Gif {
        check_gif_palette(image)
            .map_err(|why| cannot_hold(format!("{} with {why}", tensor_name(image))))?;
    }
    let mut out = Vec::new();
    let fail = |source| RasterError::Encode {
        format: name,
        source,
    };
    let dropped = match format {
        ImageFormat::Png => {
            let compression = match options.png_compression {
                PngCompression::Fast => CompressionType::Fast,
                PngCompression::Default => CompressionType::Default,
                PngCompression::Best => CompressionType::Best,
            };
            write_image(
                PngEncoder::new_with_quality(&mut out, compression, FilterType::Adaptive),
                image,
                icc,
            )
        }
        ImageFormat::Jpeg => {
            encode_jpeg(&mut out, image, icc, options.jpeg_quality).map(|()| false)
        }
        ImageFormat::Tiff => write_image(TiffEncoder::new(Cursor::new(&mut out)), image, icc),
        ImageFormat::Bmp => write_image(BmpEncoder::new(&mut out), image, icc),
        ImageFormat::WebP => write_image(WebPEncoder::new_lossless(&mut out), image, icc),
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
    let warning = dropped
        .then(|| format!("{name} cannot carry an ICC profile; the input's profile was dropped"));
    Ok((out, warning))
}

/// JPEG with the SIMD encoder of `jpeg-encoder`, 4:2:0 chroma subsampling
/// as libjpeg uses by default, and the ICC profile in APP2 segments.
fn encode_jpeg(
    out: &mut Vec<u8>,
    image: &DynamicImage,
    icc: Option<&[u8]>,
    quality: u8,
) -> Result<(), ImageError> {
    let fail = |e: jpeg_encoder::EncodingError| {
        ImageError::Encoding(image::error::EncodingError::new(
            ImageFormat::Jpeg.into(),
            e,
        ))
    };
    let (Ok(width), Ok(height)) = (u16::try_from(image.width()), u16::try_from(image.height()))
    else {
        return Err(ImageError::Limits(image::error::LimitError::from_kind(
            LimitErrorKind::DimensionError,
        )));
    };
    let colour = match image.color() {
        ColorType::L8 => jpeg_encoder::ColorType::Luma,
        _ => jpeg_encoder::ColorType::Rgb,
    };
    let mut encoder = jpeg_encoder::Encoder::new(out, quality);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    if let Some(profile) = icc {
        encoder.add_icc_profile(profile).map_err(fail)?;
    }
    encoder
        .encode(image.as_bytes(), width, height, colour)
        .map_err(fail)
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
    for p in rgba.pixels() {
        let [r, g, b, a] = p.0;
        match a {
            0 => colours.insert([0, 0, 0, 0]),
            255 => colours.insert([r, g, b, a]),
            _ => return Err(format!("a partial alpha of {a}")),
        };
        if colours.len() > 256 {
            return Err("more than 256 colours".into());
        }
    }
    Ok(())
}
