//! Images decoded whole, and `.npy` arrays read whole as images: held in
//! memory under the image limit, cropped in place, and written in one go.

use std::io::Read;

use image::ImageFormat;

use super::route::not_an_archive;
use super::summary::sample_dtype;
use super::{Destination, Fault, Job, Summary, by_rows, image_format, sniff, sources};
use crate::data_format::DataFormat;
use crate::error::{Error, Problem};
use crate::input::{Input, Source};
use crate::kind::FileKind;
use crate::layer::{CropError, Layer, LayerChoice, Shape};
use crate::npy::Header;
use crate::npz::NpzError;
use crate::output::Output;
use crate::raster::{self, ColorMode, Decoded, Window};
use crate::tensor::npy::image_layout;
use crate::tensor::{Tensor, image_shape};

/// A tensor read from a file, with the ICC profile an image carried.
pub(super) struct Loaded {
    pub tensor: Tensor,
    pub icc: Option<Vec<u8>>,
    /// What the decoder skipped to read the file, a sentence each.
    pub skipped: Vec<String>,
}

impl Loaded {
    /// An array's samples, which carry no profile and skip nothing.
    pub(super) fn array(tensor: Tensor) -> Self {
        Loaded {
            tensor,
            icc: None,
            skipped: Vec::new(),
        }
    }
}

impl From<Decoded> for Loaded {
    fn from(decoded: Decoded) -> Self {
        Loaded {
            tensor: decoded.tensor,
            icc: decoded.icc,
            skipped: decoded.skipped,
        }
    }
}

/// Decodes an image whole, crops it and writes it into `output` as `to`.
pub(super) fn run(
    job: &Job,
    mut source: Source,
    format: ImageFormat,
    to: FileKind,
    output: &Output,
) -> Result<Summary, Fault> {
    let layer = job.image_layer()?;
    let bytes = read_image_file(&mut source, job.options.image_limit)?;
    let (cropped, summary) = crop_image(job, &bytes, format, &layer, to, output)?;
    job.write_whole(output, &cropped)?;
    Ok(summary)
}

/// The image file `bytes` decoded (only the crop's window, where the
/// format can), cropped and encoded as `to`: the bytes of `output`, and
/// its summary.
pub(super) fn crop_image(
    job: &Job,
    bytes: &[u8],
    format: ImageFormat,
    layer: &Layer,
    to: FileKind,
    output: &Output,
) -> Result<(Vec<u8>, Summary), Fault> {
    let (cropped, input_shape) = decode_cropped(bytes, format, layer, &job.options)?;
    encode_cropped(job, cropped, input_shape, image_format(layer), to, output)
}

/// One input read whole as an image and cropped, for a stack of many.
pub(crate) fn load_cropped(
    input: &Input,
    layer: &Layer,
    options: &super::Options,
) -> Result<Tensor, Error> {
    let mut source = input.open()?;
    let kind = sniff(input, &source)?;
    let named = |e: Fault| e.name(input, input);
    if let FileKind::Image(format) = kind {
        // The rows (or strips and tiles) the crop keeps, where the format
        // is read a row at a time; else the window a JPEG decodes, or all.
        let job = Job {
            input: input.clone(),
            destination: Destination::Output(Output::Stdout),
            layer: LayerChoice::Fixed(*layer),
            options: options.clone(),
        };
        let rows = by_rows::load_window(&job, &mut source, format, layer);
        if let Some(tensor) = rows.map_err(named)? {
            return Ok(tensor);
        }
        let bytes = read_image_file(&mut source, options.image_limit).map_err(named)?;
        let (cropped, _) = decode_cropped(&bytes, format, layer, options).map_err(named)?;
        return Ok(cropped.tensor);
    }
    let loaded = read_tensor(&mut source, kind, image_format(layer), options).map_err(named)?;
    loaded.tensor.crop(layer).map_err(|e| Error::file(input, e))
}

/// Reads a tensor: an image decoded, or a `.npy` array of batch 1 that can
/// be an image laid out in `format`.
fn read_tensor(
    source: &mut Source,
    kind: FileKind,
    format: DataFormat,
    options: &super::Options,
) -> Result<Loaded, Fault> {
    let limit = options.image_limit;
    match kind {
        FileKind::Npy => {
            let (header, header_len) = Header::read(&mut source.reader)?;
            let data_len = header.data_len()?;
            let not_an_image = |why| Fault::Input(Problem::not_an_image(&header, why));
            let most = sources::image_channels(options.to);
            let layout = image_layout(&header, format, false, most).map_err(not_an_image)?;
            header.check_file_len(header_len, source.remaining)?;
            let data = sources::read_whole(&mut source.reader, data_len, limit)?;
            let tensor = Tensor::from_bytes(&layout, &data, format).map_err(not_an_image)?;
            Ok(Loaded::array(tensor))
        }
        FileKind::Npz => Err(Fault::Input(
            NpzError::Refused(
                "an archive is not one array; extract a member with --key NAME first".into(),
            )
            .into(),
        )),
        FileKind::Tar => Err(Fault::Input(
            NpzError::Refused("a tar archive is not one array".into()).into(),
        )),
        FileKind::Image(codec) => {
            let bytes = read_image_file(source, limit)?;
            Ok(decode_image(&bytes, codec, options)?.into())
        }
    }
}

/// An image file decoded and cropped by `layer`, converted to the color
/// mode asked for, with the shape of the whole image: a format that decodes
/// a window (JPEG) decodes only the crop's.
pub(super) fn decode_cropped(
    bytes: &[u8],
    format: ImageFormat,
    layer: &Layer,
    options: &super::Options,
) -> Result<(Loaded, Shape), Fault> {
    let data_format = image_format(layer);
    // The limit bounds what is decoded, the window; a file whose headers
    // do not read is decoded whole, to fail as it fails whole.
    let probed = match raster::decodes_windows(format) {
        true => raster::probe(bytes, format, u64::MAX).ok(),
        false => None,
    };
    let Some((h, w, c, _)) = probed else {
        let mut loaded = Loaded::from(decode_image(bytes, format, options)?);
        let shape = loaded.tensor.shape(data_format);
        loaded.tensor = loaded.tensor.crop(layer)?;
        return Ok((loaded, shape));
    };
    // Such formats hold 8-bit samples, which a color mode gives its channels.
    let c = options.color_mode.map_or(c, ColorMode::channels);
    let dims = image_shape(h, w, c, data_format);
    let window = image_window(layer, &dims)?;
    let mut decoded = raster::decode_window(bytes, format, &window, options.image_limit)?;
    if let Some(mode) = options.color_mode {
        decoded.tensor = raster::convert_color(decoded.tensor, mode)?;
    }
    Ok((decoded.into(), Shape::known(dims)))
}

/// The rows and columns `layer` keeps of an image of `dims`, laid out as
/// the layer says.
pub(super) fn image_window(layer: &Layer, dims: &[usize]) -> Result<Window, CropError> {
    let kept = layer.kept_ranges(dims)?;
    let (rows, cols) = image_format(layer).spatial_axes();
    Ok(Window {
        rows: kept[rows].clone(),
        cols: kept[cols].clone(),
    })
}

/// Decodes an image file, converted to the color mode asked for.
pub(super) fn decode_image(
    bytes: &[u8],
    format: ImageFormat,
    options: &super::Options,
) -> Result<Decoded, Fault> {
    let mut decoded = raster::decode(bytes, format, options.image_limit)?;
    if let Some(mode) = options.color_mode {
        decoded.tensor = raster::convert_color(decoded.tensor, mode)?;
    }
    Ok(decoded)
}

/// An image file, read whole (it is decoded in memory anyway), within the limit.
pub(super) fn read_image_file(source: &mut Source, limit: u64) -> Result<Vec<u8>, Fault> {
    // A file's size is known: one buffer of that size, filled in one go.
    let expected = source.remaining.filter(|&n| n <= limit).unwrap_or(0);
    let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    (&mut source.reader)
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(Problem::Read)?;
    if bytes.len() as u64 > limit {
        return Err(Fault::Input(Problem::TooBig(limit >> 20)));
    }
    Ok(bytes)
}

/// Crops a tensor and writes it as `.npy` or as an image, then commits.
pub(super) fn write(
    job: &Job,
    loaded: Loaded,
    layer: &Layer,
    to: FileKind,
    output: &Output,
) -> Result<Summary, Fault> {
    let input_shape = loaded.tensor.shape(image_format(layer));
    let cropped = Loaded {
        tensor: loaded.tensor.crop(layer)?,
        ..loaded
    };
    let format = image_format(layer);
    let (bytes, summary) = encode_cropped(job, cropped, input_shape, format, to, output)?;
    job.write_whole(output, &bytes)?;
    Ok(summary)
}

/// Encodes a cropped tensor, cut from an image of `input_shape`, laid out
/// in `format`, as `.npy` or as an image: the bytes of `output`, and its
/// summary.
fn encode_cropped(
    job: &Job,
    cropped: Loaded,
    input_shape: Shape,
    format: DataFormat,
    to: FileKind,
    output: &Output,
) -> Result<(Vec<u8>, Summary), Fault> {
    let Loaded {
        tensor: cropped,
        icc,
        skipped,
    } = cropped;
    let output_shape = cropped.shape(format);
    let dtype = sample_dtype(job.output_sample(cropped.sample_type(), to)?);
    let (bytes, warning) = match to {
        FileKind::Npy => (
            job.npy_of(cropped)?.into_npy(format, job.options.order),
            None,
        ),
        to @ (FileKind::Npz | FileKind::Tar) => {
            return Err(Fault::Output(not_an_archive(FileKind::Npy, to)));
        }
        FileKind::Image(image) => {
            raster::encode(cropped, icc.as_deref(), image, job.options.encode)
                .map_err(Fault::output)?
        }
    };
    let mut summary = Summary::written(input_shape, output_shape, dtype, output, warning);
    let skipped = skipped.iter();
    summary
        .warnings
        .extend(skipped.map(|what| format!("{}: {what}", job.input)));
    Ok((bytes, summary))
}
