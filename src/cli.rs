//! The command line: clap definitions with their help, turned into a [`Job`].

use std::path::PathBuf;

use clap::Parser;
use rcrop::layout::keras_default;
use rcrop::{Cropping, Cropping2D, DataFormat, Error, Input, Job, Output};

const EXAMPLES: &str = "\
Examples:
  rcrop --crop 2 --format channels_first in.npy out.npy
  rcrop --crop 2,2:4,4 batch.npy cropped.npy
  cat in.npy | rcrop --crop '((1,2),(3,4))' - - > out.npy

Exit status: 0 success; 1 an input cannot be read or cropped, or an output
cannot be written; 2 the command line is wrong.";

/// Apply the Keras Cropping2D layer to .npy files, exactly as Keras would.
///
/// The input is a 4D array; rows and columns are cropped, batch and channels
/// kept. The output has the input's dtype, byte order and memory order, and
/// is written under a temporary name and renamed into place, so a failed
/// run never leaves a partial output.
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

    /// The .npy file to crop, or - for standard input.
    input: PathBuf,

    /// Where to write the result, or - for standard output.
    output: PathBuf,
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

    /// The job this command line describes.
    pub fn job(&self) -> Result<Job, Error> {
        Ok(Job {
            input: Input::from_arg(&self.input),
            output: Output::from_arg(&self.output),
            layer: Cropping2D::new(self.crop, self.data_format()?),
        })
    }
}
