//! The command line: clap definitions with their help, turned into a [`Job`].

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use rcrop::layout::keras_default;
use rcrop::raster::{EncodeOptions, PngCompression};
use rcrop::{Cropping, Cropping2D, DataFormat, Error, FileKind, Input, Job, Options, Output};

const EXAMPLES: &str = "\
Examples:
  rcrop --crop 2 --format channels_first in.npy out.npy
  rcrop --crop 2,2:4,4 photo.png cropped.png
  rcrop --crop 8 --format channels_first photo.jpg tensor.npy
  rcrop --crop 0 tensor.npy image.png
  cat in.npy | rcrop --crop '((1,2),(3,4))' - - > out.npy
  rcrop --crop 4 --to jpeg --quality 90 photo.png - > small.jpg

Exit status: 0 success; 1 an input cannot be read or cropped, or an output
cannot be written; 2 the command line is wrong.";

/// Apply the Keras Cropping2D layer to .npy files and images, exactly as Keras would.
///
/// The input is a 4D .npy array, or an image (PNG, JPEG, TIFF, BMP, WebP,
/// GIF) seen as a tensor of batch 1; rows and columns are cropped, batch and
/// channels kept. A .npy output has the input's dtype, byte order and memory
/// order; an image output keeps the colour type, bit depth and ICC profile.
/// Outputs are written under a temporary name and renamed into place, so a
/// failed run never leaves a partial output.
#[derive(Debug, Parser)]
#[command(name = "rcrop", version, after_help = EXAMPLES)]
pub struct Cli {
    /// How much to crop: N (all sides), H,W (symmetric rows, columns),
    /// T,B:L,R (top, bottom, left, right; either side of ':' may be one
    /// number), or a Keras tuple such as ((T,B),(L,R)), (H,W) or (H,(L,R)).
    #[arg(short, long, value_name = "SPEC", allow_hyphen_values = true)]
    crop: Cropping,

    /// Where the channels are: channels_last is (batch, rows, cols, channels),
    /// channels_first is (batch, channels, rows, cols). Default: the
    /// image_data_format in keras.json ($KERAS_HOME, else ~/.keras), else
    /// channels_last.
    #[arg(short, long, value_name = "FORMAT", value_parser = parse_format)]
    format: Option<DataFormat>,

    /// What to write: npy, png, jpeg, tiff, bmp, webp or gif. Default: from
    /// the output's extension; for standard output (or no extension), the
    /// input's own kind.
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    to: Option<FileKind>,

    /// JPEG output quality, 1 to 100.
    #[arg(long, value_name = "N", default_value_t = 95, value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,

    /// PNG output compression: fast, default or best.
    #[arg(long, value_name = "LEVEL", value_enum, default_value_t = PngLevel::Default)]
    png_compression: PngLevel,

    /// The most memory, in MiB, one image may take decoded (or an array going
    /// to an image); larger ones are refused before decoding, as a guard
    /// against decompression bombs.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1 << 24))]
    image_limit_mib: u64,

    /// The .npy file or image to crop, or - for standard input.
    input: PathBuf,

    /// Where to write the result, or - for standard output.
    output: PathBuf,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PngLevel {
    Fast,
    Default,
    Best,
}

fn parse_kind(value: &str) -> Result<FileKind, String> {
    value
        .parse()
        .map_err(|e: rcrop::kind::UnknownKind| e.to_string())
}

fn parse_format(value: &str) -> Result<DataFormat, String> {
    value
        .parse()
        .map_err(|e: rcrop::layout::UnknownDataFormat| e.to_string())
}

impl Cli {
    /// The data format asked for, or the Keras default; a warning about an
    /// ignored `keras.json` goes to standard error.
    fn data_format(&self) -> Result<DataFormat, Error> {
        if let Some(format) = self.format {
            return Ok(format);
        }
        let found = keras_default()?;
        if let Some(warning) = found.warning {
            eprintln!("warning: {warning}");
        }
        Ok(found.format)
    }

    /// The output kind: `--to`, else the output's extension, else the input's kind.
    fn output_kind(&self, output: &Output) -> Result<Option<FileKind>, Error> {
        if self.to.is_some() {
            return Ok(self.to);
        }
        let Output::Path(path) = output else {
            return Ok(None);
        };
        match path.extension() {
            None => Ok(None),
            Some(ext) => FileKind::from_path(path).map(Some).ok_or_else(|| {
                Error::Usage(format!(
                    "{}: unknown output extension {:?}; expected .npy, .png, .jpg, .jpeg, .tif, .tiff, \
                     .bmp, .webp or .gif, or --to KIND",
                    path.display(),
                    ext.to_string_lossy()
                ))
            }),
        }
    }

    /// The job this command line describes.
    pub fn job(&self) -> Result<Job, Error> {
        let output = Output::from_arg(&self.output);
        let options = Options {
            to: self.output_kind(&output)?,
            encode: EncodeOptions {
                jpeg_quality: self.quality,
                png_compression: match self.png_compression {
                    PngLevel::Fast => PngCompression::Fast,
                    PngLevel::Default => PngCompression::Default,
                    PngLevel::Best => PngCompression::Best,
                },
            },
            image_limit: self.image_limit_mib << 20,
        };
        Ok(Job {
            input: Input::from_arg(&self.input),
            output,
            layer: Cropping2D::new(self.crop, self.data_format()?),
            options,
        })
    }
}
