//! Image files and tensors: an image decodes to a [`Tensor`] of batch 1, its
//! samples kept as decoded (any [`SampleType`] the format stores; 1 to 4
//! channels, or any number of TIFF's bands), and a tensor encodes back
//! without converting a pixel.
//!
//! What each format can do is one row of the codec table ([`formats`]);
//! each codec has a room of its own holding its reader and its writer
//! (`png/`, `jpeg/`, `tiff/`, `bmp/`, `pnm/`, `ico.rs`, `hdr.rs`, `exr.rs`, and
//! `image_crate.rs` for the formats the `image` crate codes as they are).
//! The functions here ask the table which room to call.

use image::ImageFormat;

use crate::tensor::{SampleType, Tensor};

mod bmp;
mod color;
mod exr;
pub mod formats;
mod gif;
mod guard;
mod hdr;
mod ico;
mod image_crate;
mod jpeg;
mod png;
mod pnm;
pub mod rows;
#[cfg(test)]
mod testing;
mod tga;
mod tiff;
mod webp;

pub use color::{ColorMode, convert as convert_color};
pub use formats::{Format, IMAGE_FORMATS};
pub use jpeg::{Grid, JpegCrop, Region, crop_lossless as crop_jpeg_lossless, grid as jpeg_grid};
pub use rows::{
    RowInput, RowOutput, RowSink, RowSource, RowsInfo, StreamError, TensorRows, Window, WriteSeek,
};

use formats::{Codec, Reads, Writes};

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
        source: image::ImageError,
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
    ColorMode { mode: &'static str, found: String },
    #[error("cannot encode the {format} image: {source}")]
    Encode {
        format: &'static str,
        source: image::ImageError,
    },
}

impl RasterError {
    /// Refuses an image of `format` whose decoded `size` in bytes passes
    /// `limit`, before anything of that size is allocated.
    pub(crate) fn check_limit(format: &'static str, size: u128, limit: u64) -> Result<(), Self> {
        if size > u128::from(limit) {
            return Err(RasterError::Limit {
                format,
                limit_mib: limit >> 20,
            });
        }
        Ok(())
    }
}

/// The name of an image format as people write it: PNG, JPEG, WebP.
pub fn format_name(format: ImageFormat) -> &'static str {
    formats::row(format).name
}

/// Decodes an image file held in memory into a tensor, with its ICC
/// profile, refusing images whose decoded size would pass `limit` bytes
/// before allocating them, and damaged files rather than guessing pixels.
pub fn decode(bytes: &[u8], format: ImageFormat, limit: u64) -> Result<Decoded, RasterError> {
    let row = formats::row(format);
    guard::guarded(row.name, || match row.codec {
        Codec::ImageCrate => image_crate::decode(bytes, format, limit).map(Decoded::from),
        Codec::Own { decode, .. } => decode(bytes, limit),
    })
}

/// Decodes the `window` of an image file held in memory, the pixels
/// [`decode`] gives there: a format that can decode a part of an image
/// (JPEG) decodes only what the window needs, and `limit` bounds that
/// part; the others are decoded whole, then cropped.
pub fn decode_window(
    bytes: &[u8],
    format: ImageFormat,
    window: &Window,
    limit: u64,
) -> Result<Decoded, RasterError> {
    let row = formats::row(format);
    if let Reads::Window(decode_window) = row.reads {
        return guard::guarded(row.name, || decode_window(bytes, window, limit));
    }
    let mut decoded = decode(bytes, format, limit)?;
    let tensor = decoded.tensor;
    window.check_inside(tensor.width(), tensor.height())?;
    decoded.tensor = tensor.cut(window.rows.clone(), window.cols.clone());
    Ok(decoded)
}

/// Whether [`decode_window`] decodes only the window of an image of
/// `format`, rather than all of it.
pub fn decodes_windows(format: ImageFormat) -> bool {
    matches!(formats::row(format).reads, Reads::Window(_))
}

/// An image file decoded whole.
#[derive(Debug)]
pub struct Decoded {
    pub tensor: Tensor,
    /// The ICC profile the file carries, if any.
    pub icc: Option<Vec<u8>>,
    /// What the decoder skipped to read the file, as readers of the format
    /// skip it (a JPEG's stray header bytes, say), a sentence each: the
    /// pixels are those other readers give, and the job says so as warnings.
    pub skipped: Vec<String>,
}

impl From<(Tensor, Option<Vec<u8>>)> for Decoded {
    fn from((tensor, icc): (Tensor, Option<Vec<u8>>)) -> Self {
        Decoded {
            tensor,
            icc,
            skipped: Vec::new(),
        }
    }
}

/// The tensor an image file would become — height, width, channels and
/// dtype — read from its header alone, with the same limit as [`decode`].
pub fn probe(
    bytes: &[u8],
    format: ImageFormat,
    limit: u64,
) -> Result<(usize, usize, usize, SampleType), RasterError> {
    let row = formats::row(format);
    guard::guarded(row.name, || match row.codec {
        Codec::ImageCrate => image_crate::probe(bytes, format, limit),
        Codec::Own { probe, .. } => probe(bytes, limit),
    })
}

/// Encodes an image, keeping its ICC profile where the format can carry
/// one. Returns the file's bytes and, if the profile had to be dropped, a
/// warning saying so.
pub fn encode(
    tensor: Tensor,
    icc: Option<&[u8]>,
    format: ImageFormat,
    options: EncodeOptions,
) -> Result<(Vec<u8>, Option<String>), RasterError> {
    let row = formats::row(format);
    let described = tensor.describe();
    let cannot_hold = |found: String| RasterError::CannotHold {
        format: row.name,
        found,
        holds: row.holds.text,
    };
    let (w, h, c) = (tensor.width(), tensor.height(), tensor.channels());
    if !row.holds.admits(w, h, c, tensor.sample_type()) {
        return Err(cannot_hold(described));
    }
    let bytes = guard::guarded(row.name, || match row.codec {
        Codec::ImageCrate => image_crate::encode(&tensor, icc, format),
        Codec::Own { encode, .. } => encode(&tensor, icc, options),
    })
    .map_err(|e| match e {
        RasterError::GifChanged(why) => cannot_hold(format!("{described} with {why}")),
        e => e,
    })?;
    Ok((bytes, row.icc_warning(icc.is_some())))
}

/// Refuses, before anything is decoded, an image like `info` that
/// `format` cannot hold, as [`encode`] would refuse it.
pub fn check_holds(format: ImageFormat, info: &RowsInfo) -> Result<(), RasterError> {
    let pixel = Tensor::from_le_bytes(1, 1, info.channels, info.sample, vec![0; info.pixel_len()])
        .ok_or_else(|| RasterError::NotAnImage("an image of no samples".into()))?;
    let row = formats::row(format);
    if row
        .holds
        .admits(info.width, info.height, info.channels, info.sample)
    {
        return Ok(());
    }
    Err(RasterError::CannotHold {
        format: row.name,
        found: pixel.describe(),
        holds: row.holds.text,
    })
}

/// How many of a file's first bytes [`streams`] looks at.
pub const STREAM_HEAD: usize = 64;

// A PNG's interlace method is its 29th byte.
const _: () = assert!(STREAM_HEAD >= png::STREAMABLE_HEAD);
// A BMP's compression is in its 31st to 34th bytes.
const _: () = assert!(STREAM_HEAD >= bmp::STREAMABLE_HEAD);

/// Whether an image of `format` whose first bytes are `head` can be read a
/// row at a time; `file` says whether its input is a regular file that can
/// be read at any offset, which some formats need. The others (interlaced
/// PNG, JPEG, WebP, GIF and the rest) are decoded whole, under the image
/// limit.
pub fn streams(format: ImageFormat, head: &[u8], file: bool) -> bool {
    formats::row(format).streams(head, file)
}

/// Opens an image that [`streams`] said can be read a row at a time.
pub fn row_source<'a>(
    format: ImageFormat,
    input: RowInput<'a>,
    limit: u64,
) -> Result<Box<dyn RowSource + 'a>, RasterError> {
    let row = formats::row(format);
    guard::guarded(row.name, || match (row.reads, input) {
        (Reads::Rows { open, .. }, RowInput::Stream(r)) => open(r, limit),
        (Reads::Rows { open, .. }, RowInput::File(r)) => open(Box::new(r), limit),
        (Reads::RowsFromFile { open, .. }, RowInput::File(r)) => open(r, limit),
        _ => Err(RasterError::NotAnImage(format!(
            "a {} image is not read a row at a time",
            row.name
        ))),
    })
}

/// An encoder of `format` taking the rows of an image like `info` into
/// `output`, with the warning for an ICC profile it cannot keep; `None`
/// where the format is encoded whole, or needs a file and `output` is a
/// stream. Refuses an image the format does not hold.
#[allow(clippy::type_complexity)]
pub fn row_sink<'a>(
    format: ImageFormat,
    output: RowOutput<'a>,
    info: &RowsInfo,
    options: EncodeOptions,
) -> Result<Option<(Box<dyn RowSink + 'a>, Option<String>)>, RasterError> {
    let row = formats::row(format);
    let sink = match (row.writes, output) {
        (Writes::Rows(open), RowOutput::Stream(w)) => open(w, info, options)?,
        (Writes::Rows(open), RowOutput::File(f)) => open(Box::new(f), info, options)?,
        (Writes::RowsToFile(open), RowOutput::File(f)) => open(f, info, options)?,
        _ => return Ok(None),
    };
    Ok(Some((sink, row.icc_warning(info.icc.is_some()))))
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

/// The warning for an ICC profile the output format cannot carry.
pub fn icc_dropped(format: &str) -> String {
    format!("{format} cannot carry an ICC profile; the input's profile was dropped")
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
