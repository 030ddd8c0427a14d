//! The command line: clap definitions with their help, turned into jobs,
//! run, and accounted for.

mod generate;

use std::collections::HashMap;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rcrop::npy::reorder::Order;
use rcrop::raster::{ColorMode, EncodeOptions, JpegCrop, PngCompression};
use rcrop::{
    CenterCrop, ChoiceError, CropSpec, DataFormat, Destination, Error, FileKind, Found, Input, Job,
    Layer, LayerChoice, LayerClass, Options, Outcome, Output, Problem, Settings, Shape, Stack,
    find_inputs, find_layer, keras_default, parse_list, run_batch, thread_pool, to_python_json,
};

use crate::{fail, report};
use generate::Generate;

const EXAMPLES: &str = "\
Examples:
  rcrop --crop 2 --format channels_first in.npy out.npy
  rcrop --crop 2,2:4,4 photo.png cropped.png
  rcrop --crop 2,4 sequences.npy out.npy              (3D: Cropping1D)
  rcrop --crop 1,2:3,4:5,6 volumes.npy out.npy        (5D: Cropping3D)
  rcrop --center-crop 224,224 --out-dir out photos/*.jpg
  rcrop --crop 8 --format channels_first photo.jpg tensor.npy
  rcrop --crop 0 tensor.npy image.png
  cat in.npy | rcrop --crop '((1,2),(3,4))' - - > out.npy
  rcrop --crop 4 --to jpeg --quality 90 photo.png - > small.jpg
  rcrop --crop 16 --out-dir cropped/ images/*.png
  find data -name '*.png' -print0 | rcrop -c 16 --out-dir out --files-from - -0 --keep-going
  rcrop --crop 2 --stack -o batch.npy a.png b.png c.png
  rcrop --crop 0 --out-dir frames --to png batch.npy

Exit status: 0 success; 1 an input cannot be read or cropped, or an output
cannot be written (in a batch: any input failed); 2 the command line is wrong.";

/// Apply Keras' cropping layers (Cropping1D, Cropping2D, Cropping3D,
/// CenterCrop) to .npy files and images, exactly as Keras would.
///
/// The input is a .npy array, a .npz archive (its members of a rank the
/// layer crops are cropped, the others copied), or an image (PNG, JPEG,
/// TIFF, BMP, WebP, GIF, TGA, QOI, ICO, farbfeld, Radiance HDR, OpenEXR, PNM)
/// seen as a 4D tensor of batch 1. The layer follows the array's rank: 3D
/// (batch, steps, features) takes Cropping1D, 4D Cropping2D, 5D Cropping3D;
/// --layer forces one, --center-crop applies CenterCrop. A .npy output has the input's dtype, byte order and memory
/// order; an image output keeps the colour type, bit depth and ICC profile.
/// Outputs are written under a temporary name and renamed into place, so a
/// failed run never leaves a partial output.
#[derive(Debug, Parser)]
#[command(name = "rcrop", version, after_help = EXAMPLES)]
pub struct Cli {
    /// How much to crop: Keras' cropping= value for the layer, read as the
    /// Python value it is. Cropping2D: N (all sides), H,W (symmetric rows,
    /// columns), T,B:L,R (either side of ':' may be one number), or a tuple
    /// such as ((T,B),(L,R)). Cropping1D: N, or B,E (begin, end).
    /// Cropping3D: N, A,B,C (symmetric per dimension), or A1,A2:B1,B2:C1,C2.
    #[arg(
        short,
        long,
        value_name = "SPEC",
        allow_hyphen_values = true,
        value_parser = parse_crop
    )]
    crop: Option<(String, CropSpec)>,

    /// Apply CenterCrop(H, W): the central H×W window of each image (offsets
    /// (dim - target) // 2), on images and 4D .npy batches. An input smaller
    /// than the target is refused (Keras would resize it). The dtype is kept.
    #[arg(long, value_name = "H,W", value_parser = parse_target, conflicts_with = "crop")]
    center_crop: Option<(usize, usize)>,

    /// Where the channels are: channels_last is (batch, rows, cols, channels),
    /// channels_first is (batch, channels, rows, cols); likewise for 5D.
    /// Default: the image_data_format in keras.json ($KERAS_HOME, else
    /// ~/.keras), else channels_last. Cropping1D has no data format.
    #[arg(short, long, value_name = "FORMAT", value_parser = parse_format)]
    format: Option<DataFormat>,

    /// What to write: npy, npz, png, jpeg, tiff, bmp, webp, gif, tga, qoi, ico,
    /// ff (farbfeld), hdr, exr or pnm (pbm, pgm, ppm). Default: from
    /// the output's extension; for standard output (or no extension), the
    /// input's own kind.
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    to: Option<FileKind>,

    /// With a .npz archive: crop only the member with this key (x for
    /// x.npy), copying the others; repeat for more. With one --key and a
    /// .npy output, that member alone is written, cropped.
    #[arg(short, long = "key", value_name = "NAME")]
    key: Vec<String>,

    /// JPEG output quality, 1 to 100 (default 95). For a JPEG going to a
    /// JPEG it means re-encoding, as --reencode does.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: Option<u8>,

    /// JPEG to JPEG: crop in the DCT domain, without re-encoding, or fail
    /// when the crop's top or left offset is off the block grid (naming
    /// the nearest crops on it). Without it, a crop on the grid is lossless
    /// and one off it is re-encoded.
    #[arg(long, conflicts_with_all = ["reencode", "quality"])]
    lossless: bool,

    /// JPEG to JPEG: decode, crop and re-encode even when the crop keeps
    /// the block grid and could be lossless.
    #[arg(long)]
    reencode: bool,

    /// Convert images as Keras' load_img(color_mode=...) does (Pillow's
    /// convert): grayscale, rgb or rgba. Default: the channels the file
    /// holds. Arrays (.npy) are taken as they are.
    #[arg(long, value_name = "MODE", value_enum, conflicts_with = "lossless")]
    color_mode: Option<ColourArg>,

    /// PNG output compression: fast, default or best.
    #[arg(long, value_name = "LEVEL", value_enum, default_value_t = PngLevel::Default)]
    png_compression: PngLevel,

    /// The most memory, in MiB, one image may take decoded (or an array going
    /// to an image); larger ones are refused before decoding, as a guard
    /// against decompression bombs.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1 << 24))]
    image_limit_mib: u64,

    /// Write one result per input into this folder, under the input's file
    /// name (--to changes the extension); a .npy batch going to images
    /// becomes one image a sample, <stem>_<index>.<ext>. Created if missing.
    #[arg(long, value_name = "DIR", conflicts_with = "stack")]
    out_dir: Option<PathBuf>,

    /// Stack all inputs, cropped, into one .npy batch written to --output;
    /// they must share one shape and dtype.
    #[arg(long, requires = "output")]
    stack: bool,

    /// The output file: with --stack, or instead of the second PATH.
    #[arg(short, long, value_name = "FILE", conflicts_with = "out_dir")]
    output: Option<PathBuf>,

    /// Crop the files under directories given as inputs (those with a known
    /// extension), mirroring their tree under --out-dir.
    #[arg(short, long)]
    recursive: bool,

    /// Read more inputs from FILE (- for standard input), one a line.
    #[arg(long, value_name = "FILE")]
    files_from: Option<PathBuf>,

    /// With --files-from: names are NUL-separated, as find -print0 writes them.
    #[arg(short = '0', long = "null", requires = "files_from")]
    null: bool,

    /// Worker threads for a batch. Default: one per core.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,

    /// Go on after an input fails; the exit status is still 1 if any failed.
    #[arg(long)]
    keep_going: bool,

    /// Leave outputs that already exist alone, so an interrupted batch can be rerun cheaply.
    #[arg(short = 'n', long)]
    no_clobber: bool,

    /// The memory order of .npy outputs: keep (the input's), C (what
    /// numpy.save writes of the Keras result) or F (Fortran order, as
    /// numpy.asfortranarray gives). A change of order reads the input at
    /// any offset, so it needs a file, not a pipe.
    #[arg(
        long,
        value_name = "ORDER",
        value_enum,
        default_value = "keep",
        ignore_case = true
    )]
    order: OrderArg,

    /// Print one JSON object a line to standard output for each input:
    /// input, output, input_shape, output_shape, dtype, status, error.
    #[arg(long, value_name = "FORMAT", value_enum)]
    report: Option<ReportFormat>,

    /// No progress bar and no warnings; errors are still shown.
    #[arg(short, long)]
    quiet: bool,

    /// Take the layer from a Keras config: the JSON of get_config() of a
    /// Cropping1D, Cropping2D, Cropping3D or CenterCrop, or a model's JSON
    /// (model.to_json(), Keras 2 or 3). A data_format of null means the
    /// keras.json default. --crop, --center-crop and --format may be given
    /// too, but must agree with it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// The layer: Cropping1D, Cropping2D, Cropping3D or CenterCrop forces
    /// that class, whatever the input's rank. With --config, the name of the
    /// layer to take from it; if no layer has that name and it is a class
    /// name, the only layer of that class.
    #[arg(long, value_name = "CLASS|NAME")]
    layer: Option<String>,

    /// Print the layer's get_config() JSON, as Keras 3 writes it and its
    /// from_config accepts, and exit. Without --layer, --config or
    /// --center-crop the layer is Cropping2D.
    #[arg(long, conflicts_with_all = ["input_shape", "dry_run", "out_dir", "stack", "output"])]
    print_config: bool,

    /// Print the output shape for this input shape, as Keras'
    /// compute_output_shape does, and exit: 3, 4 or 5 dimensions (the layer
    /// follows the rank), each a number or None, e.g. None,28,28,3.
    #[arg(long, value_name = "SHAPE", value_parser = parse_shape, conflicts_with_all = ["dry_run", "out_dir", "stack", "output"])]
    input_shape: Option<Shape>,

    /// Print each input's shape and its output shape, with the errors a real
    /// run would give, and write nothing.
    #[arg(long)]
    dry_run: bool,

    /// Print a shell completion script (complete-bash, complete-zsh,
    /// complete-fish, complete-powershell, complete-elvish) or the man page
    /// in roff (man) to standard output, and exit.
    #[arg(long, value_name = "KIND", value_enum, exclusive = true)]
    generate: Option<Generate>,

    /// INPUT OUTPUT; or, with --out-dir, --stack or -o, only inputs. A .npy
    /// file or an image; - for standard input or output.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OrderArg {
    Keep,
    #[value(name = "C")]
    C,
    #[value(name = "F")]
    F,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ReportFormat {
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PngLevel {
    Fast,
    Default,
    Best,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ColourArg {
    Grayscale,
    Rgb,
    Rgba,
}

fn parse_kind(value: &str) -> Result<FileKind, String> {
    value.parse().map_err(|e: rcrop::UnknownKind| e.to_string())
}

/// `None,28,28,3`, with or without parentheses and spaces.
fn parse_shape(value: &str) -> Result<Shape, String> {
    let inner = value.trim().trim_start_matches('(').trim_end_matches(')');
    let dims: Vec<Option<usize>> = inner
        .split(',')
        .map(|d| match d.trim() {
            "None" | "none" | "?" => Ok(None),
            n => n
                .parse()
                .map(Some)
                .map_err(|_| format!("{n:?} is neither a non-negative integer nor None")),
        })
        .collect::<Result<_, _>>()?;
    if !(3..=5).contains(&dims.len()) {
        return Err(format!(
            "{} dimensions; expected 3, 4 or 5, e.g. None,28,28,3",
            dims.len()
        ));
    }
    Ok(Shape(dims))
}

/// A crop spec, with the text it was read from.
fn parse_crop(value: &str) -> Result<(String, CropSpec), String> {
    let spec = value.parse().map_err(|e: rcrop::SpecError| e.to_string())?;
    Ok((value.to_owned(), spec))
}

/// `H,W` (or `(H, W)`): two positive integers.
fn parse_target(value: &str) -> Result<(usize, usize), String> {
    let spec: CropSpec = value.parse().map_err(|e: rcrop::SpecError| e.to_string())?;
    match spec {
        CropSpec::Tuple(items) => match items.as_slice() {
            [CropSpec::Int(h), CropSpec::Int(w)] if *h > 0 && *w > 0 => Ok((*h, *w)),
            [CropSpec::Int(_), CropSpec::Int(_)] => Err(format!(
                "{value:?}: a target of 0 rows or columns leaves nothing; expected H,W of at least 1"
            )),
            _ => Err(format!("{value:?}: expected H,W, two positive integers")),
        },
        _ => Err(format!("{value:?}: expected H,W, two positive integers")),
    }
}

fn parse_format(value: &str) -> Result<DataFormat, String> {
    value
        .parse()
        .map_err(|e: rcrop::UnknownDataFormat| e.to_string())
}

impl Cli {
    /// The layer, or how to choose it: from the flags, or from `--config`
    /// checked against them.
    fn layer(&self) -> Result<LayerChoice, Error> {
        if let Some(path) = &self.config {
            return self.configured(path).map(LayerChoice::Fixed);
        }
        let class = match self.layer.as_deref() {
            None => None,
            Some(name) => Some(name.parse::<LayerClass>().map_err(|e| {
                Error::Usage(format!(
                    "--layer: {e} (a layer's name is for choosing one in --config FILE)"
                ))
            })?),
        };
        if let Some((height, width)) = self.center_crop {
            if let Some(class) = class.filter(|&c| c != LayerClass::CenterCrop) {
                return Err(Error::Usage(format!(
                    "--center-crop applies CenterCrop, not --layer {class}"
                )));
            }
            let format = self.data_format(self.format)?;
            return Ok(LayerChoice::Fixed(
                CenterCrop::new(height, width, format).into(),
            ));
        }
        let Some((text, spec)) = self.crop.clone() else {
            return Err(Error::Usage(
                "the crop is missing: give --crop SPEC, --center-crop H,W or --config FILE".into(),
            ));
        };
        let usage = |e: rcrop::SpecError| Error::Usage(e.to_string());
        match class {
            Some(LayerClass::CenterCrop) => Err(Error::Usage(
                "--layer CenterCrop needs its size: --center-crop H,W".into(),
            )),
            Some(LayerClass::Cropping1D) => {
                self.refuse_format_for_1d()?;
                let layer = Layer::from_spec(LayerClass::Cropping1D, &spec, DataFormat::default());
                layer.map(LayerChoice::Fixed).map_err(usage)
            }
            Some(class) => {
                let format = self.data_format(self.format)?;
                let layer = Layer::from_spec(class, &spec, format).map_err(usage)?;
                Ok(LayerChoice::Fixed(layer))
            }
            None => {
                let classes = [3, 4, 5].map(LayerClass::for_rank);
                let fits = classes
                    .into_iter()
                    .flatten()
                    .any(|c| Layer::from_spec(c, &spec, DataFormat::default()).is_ok());
                if !fits {
                    return Err(Error::Usage(format!(
                        "crop spec {text:?}: Cropping1D, Cropping2D and Cropping3D all refuse \
                         cropping={spec}, as Keras does; they take N, B,E (1D), H,W or T,B:L,R (2D), \
                         A,B,C or A1,A2:B1,B2:C1,C2 (3D)"
                    )));
                }
                Ok(LayerChoice::ByRank {
                    spec,
                    data_format: self.data_format(self.format)?,
                })
            }
        }
    }

    /// `Cropping1D` has no data format: `--format` cannot apply to it.
    fn refuse_format_for_1d(&self) -> Result<(), Error> {
        match self.format {
            Some(format) => Err(Error::Usage(format!(
                "--format {format} does not apply to Cropping1D, which has no data format"
            ))),
            None => Ok(()),
        }
    }

    /// The layer a `--config` file holds, checked against the flags.
    fn configured(&self, path: &Path) -> Result<Layer, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::file(path.display(), Problem::Read(e)))?;
        let config = find_layer(&text, self.layer.as_deref())
            .map_err(|e| Error::file(path.display(), Problem::Config(e)))?;
        let found = config.layer;
        let class = found.class();
        let contradiction = |flag: String, found: String| {
            Error::Usage(format!(
                "{flag} contradicts {} in {}: {found}",
                config.name,
                path.display()
            ))
        };
        let what = || match class {
            LayerClass::CenterCrop => format!("CenterCrop {}", found.cropping_keras()),
            _ => format!("{class} cropping {}", found.cropping_keras()),
        };
        if let Some((_, spec)) = &self.crop {
            let given = Layer::from_spec(class, spec, DataFormat::default());
            let same = given
                .as_ref()
                .is_ok_and(|l| l.cropping_spec() == found.cropping_spec());
            if !same {
                let shown = given.map_or_else(|_| spec.to_string(), |l| l.cropping_spec());
                return Err(contradiction(format!("--crop {shown}"), what()));
            }
        }
        if let Some((height, width)) = self.center_crop {
            let given = CenterCrop::new(height, width, DataFormat::default());
            if Layer::from(given).cropping_spec() != found.cropping_spec()
                || class != LayerClass::CenterCrop
            {
                return Err(contradiction(
                    format!("--center-crop {height},{width}"),
                    what(),
                ));
            }
        }
        if class == LayerClass::Cropping1D {
            self.refuse_format_for_1d()?;
            return Ok(found);
        }
        if let (Some(flag), Some(configured)) = (self.format, config.data_format)
            && flag != configured
        {
            return Err(contradiction(
                format!("--format {flag}"),
                format!("data_format {configured}"),
            ));
        }
        Ok(config.resolve(self.data_format(config.data_format.or(self.format))?))
    }

    /// The data format given, or the Keras default; a warning about an
    /// ignored `keras.json` goes to standard error.
    fn data_format(&self, given: Option<DataFormat>) -> Result<DataFormat, Error> {
        if let Some(format) = given {
            return Ok(format);
        }
        let found = keras_default()?;
        if let Some(warning) = found.warning.filter(|_| !self.quiet) {
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
                    "{}: unknown output extension {:?}; expected .npy, .npz, .png, .jpg, .jpeg, .tif, .tiff, \
                     .bmp, .webp, .gif, .tga, .qoi, .ico, .ff, .hdr, .exr, .pbm, .pgm, .ppm or .pnm, or --to KIND",
                    path.display(),
                    ext.to_string_lossy()
                ))
            }),
        }
    }

    fn options(&self, to: Option<FileKind>) -> Options {
        Options {
            to,
            encode: EncodeOptions {
                jpeg_quality: self.quality.unwrap_or(95),
                jpeg_crop: if self.lossless {
                    JpegCrop::Lossless
                } else if self.reencode || self.quality.is_some() {
                    JpegCrop::Reencode
                } else {
                    JpegCrop::Auto
                },
                png_compression: match self.png_compression {
                    PngLevel::Fast => PngCompression::Fast,
                    PngLevel::Default => PngCompression::Default,
                    PngLevel::Best => PngCompression::Best,
                },
            },
            image_limit: self.image_limit_mib << 20,
            no_clobber: self.no_clobber,
            color_mode: self.color_mode.map(|mode| match mode {
                ColourArg::Grayscale => ColorMode::Grayscale,
                ColourArg::Rgb => ColorMode::Rgb,
                ColourArg::Rgba => ColorMode::Rgba,
            }),
            keys: self.key.clone(),
            order: match self.order {
                OrderArg::Keep => Order::Keep,
                OrderArg::C => Order::C,
                OrderArg::F => Order::F,
            },
        }
    }

    /// The positional inputs and those from `--files-from`.
    fn input_paths(&self) -> Result<Vec<PathBuf>, Error> {
        let mut paths = self.paths.clone();
        if let Some(list) = &self.files_from {
            let mut bytes = Vec::new();
            let read = if list.as_os_str() == "-" {
                std::io::stdin().read_to_end(&mut bytes)
            } else {
                std::fs::File::open(list).and_then(|mut f| f.read_to_end(&mut bytes))
            };
            read.map_err(|e| Error::file(list.display(), Problem::Read(e)))?;
            paths.extend(parse_list(&bytes, self.null));
        }
        Ok(paths)
    }

    /// What the command line asks for.
    fn plan(&self) -> Result<Plan, Error> {
        let layer = self.layer()?;
        if self.print_config || self.input_shape.is_some() {
            if !self.paths.is_empty() || self.files_from.is_some() {
                return Err(Error::Usage(
                    "--print-config and --input-shape take no input files".into(),
                ));
            }
            return Ok(Plan::Layer(layer));
        }
        if self.stack && self.order == OrderArg::F {
            return Err(Error::Usage(
                "--stack writes the stacked array in C order, as numpy.stack gives it; \
                 --order F is not available with --stack"
                    .into(),
            ));
        }
        if self.stack {
            let output = Output::from_arg(self.output.as_deref().unwrap_or(Path::new("-")));
            let found = find_inputs(&self.input_paths()?, self.recursive)?;
            return Ok(Plan::Stack(Stack {
                inputs: found.iter().map(|f| Input::from_arg(&f.path)).collect(),
                output,
                layer,
                options: self.options(Some(FileKind::Npy)),
            }));
        }
        if let Some(dir) = &self.out_dir {
            let found = find_inputs(&self.input_paths()?, self.recursive)?;
            return self.folder_jobs(dir, &found, layer).map(Plan::Jobs);
        }
        let (input, output) = match (self.paths.as_slice(), &self.output, &self.files_from) {
            ([input, output], None, None) => (input, output),
            ([input], Some(output), None) => (input, output),
            _ => {
                return Err(Error::Usage(
                    "expected INPUT OUTPUT (or INPUT -o OUTPUT); for many inputs use --out-dir DIR or --stack -o FILE"
                        .into(),
                ));
            }
        };
        if self.recursive && input.is_dir() {
            return Err(Error::Usage(format!(
                "{}: -r needs --out-dir or --stack",
                input.display()
            )));
        }
        let output = Output::from_arg(output);
        Ok(Plan::Jobs(vec![Job {
            input: Input::from_arg(input),
            options: self.options(self.output_kind(&output)?),
            destination: Destination::Output(output),
            layer,
        }]))
    }

    /// One job per input, each into `dir` (and the input's subfolder); two
    /// inputs that would write the same output, a sample of a split batch
    /// included, are refused before anything runs.
    fn folder_jobs(
        &self,
        dir: &Path,
        found: &[Found],
        layer: LayerChoice,
    ) -> Result<Vec<Job>, Error> {
        let options = self.options(self.to);
        let mut jobs = Vec::with_capacity(found.len());
        for f in found {
            if f.path.as_os_str() == "-" {
                return Err(Error::Usage(
                    "- (standard input) has no name to write under --out-dir".into(),
                ));
            }
            let Some(name) = f.path.file_name() else {
                return Err(Error::Usage(format!(
                    "{}: not a file name",
                    f.path.display()
                )));
            };
            jobs.push(Job {
                input: Input::Path(f.path.clone()),
                destination: Destination::Folder {
                    dir: dir.join(&f.subdir),
                    name: name.to_os_string(),
                },
                layer: layer.clone(),
                options: options.clone(),
            });
        }
        refuse_collisions(&jobs)?;
        Ok(jobs)
    }

    fn progress(&self, len: usize) -> ProgressBar {
        let wanted = !self.quiet
            && len > 1
            && std::io::stderr().is_terminal()
            && std::env::var_os("CI").is_none();
        if !wanted {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(len as u64);
        if let Ok(style) = ProgressStyle::with_template(
            "{bar:40} {pos}/{len} files, {elapsed} elapsed, {eta} left",
        ) {
            bar.set_style(style);
        }
        bar
    }

    /// Runs what the command line asks for and says how it went.
    pub fn run(&self) -> ExitCode {
        if let Some(kind) = self.generate {
            return generate::print(kind);
        }
        match self.plan() {
            Ok(Plan::Jobs(jobs)) => self.run_jobs(&jobs),
            Ok(Plan::Stack(stack)) => self.run_stack(&stack),
            Ok(Plan::Layer(layer)) => self.run_layer(&layer),
            Err(e) => fail(&e),
        }
    }

    /// `--print-config` or `--input-shape`: the layer alone, no data. The
    /// layer follows the rank of `--input-shape`; `--print-config` of a crop
    /// alone is `Cropping2D`'s.
    fn run_layer(&self, choice: &LayerChoice) -> ExitCode {
        let shape = self.input_shape.clone().unwrap_or(Shape::unknown(4));
        let what = format!("input shape {shape}");
        let layer = match choice.for_shape(&shape) {
            Ok(layer) => layer,
            Err(ChoiceError::Spec(e)) => {
                let hint = if self.input_shape.is_some() {
                    ""
                } else {
                    "; choose the layer with --layer"
                };
                return fail(&Error::Usage(format!("{e}{hint}")));
            }
            Err(e) => return fail(&Error::file(what, e)),
        };
        if self.input_shape.is_some() {
            return match layer.compute_output_shape(&shape) {
                Ok(out) => {
                    println!("{out}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&Error::file(what, e)),
            };
        }
        println!("{}", to_python_json(&layer.get_config()));
        ExitCode::SUCCESS
    }

    fn run_stack(&self, stack: &Stack) -> ExitCode {
        let settings = Settings {
            threads: self.jobs.map(usize::from),
            keep_going: false,
        };
        let result = thread_pool(settings).and_then(|pool| pool.install(|| stack.run()));
        match result {
            Ok(summary) => {
                if self.report.is_some() {
                    println!("{}", report::stack_line(stack.inputs.len(), &summary));
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        }
    }

    fn run_jobs(&self, jobs: &[Job]) -> ExitCode {
        if !self.dry_run
            && let Err(e) = create_folders(jobs)
        {
            return fail(&e);
        }
        let settings = Settings {
            threads: self.jobs.map(usize::from),
            keep_going: self.keep_going,
        };
        let bar = self.progress(jobs.len());
        let each = |_: &Job, outcome: &Outcome| {
            bar.suspend(|| match outcome {
                Outcome::Failed(e) => eprintln!("error: {e}"),
                Outcome::Done(summary) if !self.quiet => {
                    for warning in &summary.warnings {
                        eprintln!("warning: {warning}");
                    }
                }
                _ => {}
            });
            bar.inc(1);
        };
        let action = |job: &Job| {
            if self.dry_run {
                job.inspect()
            } else {
                job.run()
            }
        };
        let outcomes = match run_batch(jobs, settings, action, each) {
            Ok(outcomes) => outcomes,
            Err(e) => return fail(&e),
        };
        bar.finish_and_clear();
        for (job, outcome) in jobs.iter().zip(&outcomes) {
            match outcome {
                _ if self.report.is_some() => println!("{}", report::job_line(job, outcome)),
                Outcome::Done(s) if self.dry_run && !s.members.is_empty() => {
                    report::print_members(job, s)
                }
                Outcome::Done(s) if self.dry_run => {
                    println!("{}: {} -> {}", job.input, s.input_shape, s.output_shape)
                }
                _ => {}
            }
        }
        let failed = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Failed(_)))
            .count();
        let not_run = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::NotRun))
            .count();
        if failed == 0 {
            return ExitCode::SUCCESS;
        }
        let usage = outcomes
            .iter()
            .any(|o| matches!(o, Outcome::Failed(Error::Usage(_))));
        if jobs.len() > 1 {
            let mut account = format!("error: {failed} of {} inputs failed", jobs.len());
            if not_run > 0 {
                account.push_str(&format!(
                    "; {not_run} not run (--keep-going goes on after a failure)"
                ));
            }
            eprintln!("{account}");
        }
        // A crop spec the layer of some input's rank refuses is a usage error.
        ExitCode::from(if usage { 2 } else { 1 })
    }
}

/// What a command line asks for.
enum Plan {
    Jobs(Vec<Job>),
    Stack(Stack),
    Layer(LayerChoice),
}

/// Makes the output folders of a batch.
fn create_folders(jobs: &[Job]) -> Result<(), Error> {
    for job in jobs {
        if let Destination::Folder { dir, .. } = &job.destination {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::file(dir.display(), Problem::Write(e)))?;
        }
    }
    Ok(())
}

/// Refuses two jobs that would write the same output. An input whose
/// outputs cannot be known (it cannot be read) collides with nothing: its
/// own run reports why.
fn refuse_collisions(jobs: &[Job]) -> Result<(), Error> {
    let mut seen: HashMap<PathBuf, &Input> = HashMap::new();
    for job in jobs {
        for output in job.planned_outputs().unwrap_or_default() {
            let Output::Path(path) = output else {
                continue;
            };
            if let Some(other) = seen.get(&path) {
                return Err(Error::Usage(format!(
                    "{other} and {} would both write {}",
                    job.input,
                    path.display()
                )));
            }
            seen.insert(path, &job.input);
        }
    }
    Ok(())
}
