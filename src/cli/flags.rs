//! The flags: the clap definitions, each with its help beside it; the
//! prose around them is in [`super::help`].

use std::path::PathBuf;

use clap::{Parser, ValueHint};
use rcrop::{CropSpec, Shape};

use super::generate::Generate;
use super::help::{ABOUT, after_long_help, kinds_help, long_about};
use super::values::{
    ColorArg, FormatArg, KindArg, LayerName, OrderArg, PngLevel, ReportFormat, parse_crop,
    parse_shape, parse_target,
};

/// The headings `-h` and `--help` group the flags under.
const CROP: &str = "Crop";
const INPUTS: &str = "Inputs";
const OUTPUTS: &str = "Outputs";
const IMAGES: &str = "Images";
const BATCH: &str = "Batch";
const INFORMATION: &str = "Information";

/// The command line as clap reads it; [`super::plan`] makes sense of it.
/// Each flag's first paragraph is its line in `-h`; `--help` gives it all.
#[derive(Debug, Parser)]
#[command(
    name = "rcrop",
    version,
    about = ABOUT,
    long_about = long_about(),
    after_help = "--help gives the details, examples and exit statuses.",
    after_long_help = after_long_help()
)]
pub struct Flags {
    /// How much to crop: Keras' cropping= value for the layer.
    ///
    /// Read as the Python value it is. Cropping2D: N (all sides), H,W
    /// (symmetric rows, columns), T,B:L,R (either side of ':' may be one
    /// number), or a tuple such as ((T,B),(L,R)). Cropping1D: N, or B,E
    /// (begin, end). Cropping3D: N, A,B,C (symmetric per dimension), or
    /// A1,A2:B1,B2:C1,C2.
    #[arg(
        short,
        long,
        value_name = "SPEC",
        allow_hyphen_values = true,
        value_parser = parse_crop,
        value_hint = ValueHint::Other,
        help_heading = CROP
    )]
    pub crop: Option<(String, CropSpec)>,

    /// Apply CenterCrop(H, W): the central H×W window of each image.
    ///
    /// The offsets are (dim - target) // 2, on images and 4D .npy batches.
    /// An input smaller than the target is refused (Keras would resize it).
    /// The dtype is kept.
    #[arg(
        long,
        value_name = "H,W",
        allow_hyphen_values = true,
        value_parser = parse_target,
        value_hint = ValueHint::Other,
        conflicts_with = "crop",
        help_heading = CROP
    )]
    pub center_crop: Option<(usize, usize)>,

    /// Where the channels are.
    ///
    /// channels_last is (batch, rows, cols, channels), channels_first is
    /// (batch, channels, rows, cols); likewise for 5D. Default: the
    /// image_data_format in keras.json ($KERAS_HOME, else ~/.keras), else
    /// channels_last. Cropping1D has no data format.
    #[arg(short, long, value_name = "FORMAT", value_enum, help_heading = CROP)]
    pub format: Option<FormatArg>,

    /// Force a layer class, or choose a layer of --config by name.
    ///
    /// Cropping1D, Cropping2D, Cropping3D or CenterCrop forces that class,
    /// whatever the input's rank. With --config, the name of the layer to
    /// take from it; if no layer has that name and it is a class name, the
    /// only layer of that class.
    #[arg(
        long,
        value_name = "CLASS|NAME",
        value_parser = LayerName,
        hide_possible_values = true,
        help_heading = CROP
    )]
    pub layer: Option<String>,

    /// Take the layer from a Keras config file.
    ///
    /// The JSON of get_config() of a Cropping1D, Cropping2D, Cropping3D or
    /// CenterCrop, or a model's JSON (model.to_json(), Keras 2 or 3). A
    /// data_format of null means the keras.json default. --crop,
    /// --center-crop and --format may be given too, but must agree with it.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, help_heading = CROP)]
    pub config: Option<PathBuf>,

    /// With a .npz archive: crop only the member with this key.
    ///
    /// The key is x for x.npy; the other members are copied. Repeat for
    /// more. With one --key and a .npy output, that member alone is
    /// written, cropped.
    #[arg(
        short,
        long = "key",
        value_name = "NAME",
        value_hint = ValueHint::Other,
        help_heading = CROP
    )]
    pub key: Vec<String>,

    /// With a tar shard: crop only the members with these extensions.
    ///
    /// A comma-separated list, e.g. jpg,png (jpg for 000123.jpg); the
    /// other members are copied byte for byte. Without it, every image,
    /// .npy and .npz member is cropped.
    #[arg(
        long,
        value_name = "EXT,...",
        value_delimiter = ',',
        value_hint = ValueHint::Other,
        help_heading = CROP
    )]
    pub members: Vec<String>,

    /// INPUT OUTPUT; or, with --out-dir, --stack or -o, only inputs.
    ///
    /// A .npy or .npz file, a tar archive or an image; - for standard input
    /// or output.
    #[arg(value_name = "PATH", value_hint = ValueHint::AnyPath)]
    pub paths: Vec<PathBuf>,

    /// Crop the files under folders given as inputs, mirroring their tree.
    ///
    /// Those with a known extension are taken; their tree is mirrored
    /// under --out-dir.
    #[arg(short, long, help_heading = INPUTS)]
    pub recursive: bool,

    /// Read more inputs from FILE (- for standard input), one a line.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, help_heading = INPUTS)]
    pub files_from: Option<PathBuf>,

    /// With --files-from: names are NUL-separated, as find -print0 writes them.
    #[arg(short = '0', long = "null", requires = "files_from", help_heading = INPUTS)]
    pub null: bool,

    /// Write one result per input into this folder, created if missing.
    ///
    /// Each result goes under the input's file name (--to changes the
    /// extension); a .npy batch going to images becomes one image a
    /// sample, <stem>_<index>.<ext>.
    #[arg(
        long,
        value_name = "DIR",
        value_hint = ValueHint::DirPath,
        conflicts_with = "stack",
        help_heading = OUTPUTS
    )]
    pub out_dir: Option<PathBuf>,

    /// The output file: with --stack, or instead of the second PATH.
    #[arg(
        short,
        long,
        value_name = "FILE",
        value_hint = ValueHint::FilePath,
        conflicts_with = "out_dir",
        help_heading = OUTPUTS
    )]
    pub output: Option<PathBuf>,

    /// Stack all inputs, cropped, into one .npy batch written to --output.
    ///
    /// They must share one shape and dtype.
    #[arg(long, requires = "output", help_heading = OUTPUTS)]
    pub stack: bool,

    /// What to write: npy, npz or an image format, by its extension.
    #[arg(
        long,
        value_name = "KIND",
        value_enum,
        hide_possible_values = true,
        long_help = kinds_help(),
        help_heading = OUTPUTS
    )]
    pub to: Option<KindArg>,

    /// The memory order of .npy outputs: keep, C or F.
    ///
    /// keep is the input's, C what numpy.save writes of the Keras result, F
    /// Fortran order, as numpy.asfortranarray gives. A change of order reads
    /// the input at any offset, so it needs a file, not a pipe.
    #[arg(
        long,
        value_name = "ORDER",
        value_enum,
        default_value = "keep",
        ignore_case = true,
        hide_possible_values = true,
        help_heading = OUTPUTS
    )]
    pub order: OrderArg,

    /// Give .npy and .npz outputs the dtype Keras' layer gives.
    ///
    /// Keras' layers cast floating inputs to the dtype they compute in
    /// (float32, or the dtype policy of a --config layer); CenterCrop casts
    /// every input, and images reach a layer as float32 arrays. Without it,
    /// outputs keep the input's dtype.
    #[arg(long, help_heading = OUTPUTS)]
    pub autocast: bool,

    /// Compare each output with the file already at its path; write nothing.
    ///
    /// For golden files in CI: exit 0 when every output is byte-identical, 1
    /// naming the first difference (a .npy header field or element, an
    /// image's pixel, else a byte) or a missing file.
    #[arg(long, conflicts_with_all = ["dry_run", "no_clobber"], help_heading = OUTPUTS)]
    pub check: bool,

    /// Leave outputs that already exist alone.
    ///
    /// So an interrupted batch can be rerun cheaply.
    #[arg(short = 'n', long, help_heading = OUTPUTS)]
    pub no_clobber: bool,

    /// JPEG output quality, 1 to 100 (default 95).
    ///
    /// For a JPEG going to a JPEG it means re-encoding, as --reencode does.
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        value_parser = clap::value_parser!(u8).range(1..=100),
        value_hint = ValueHint::Other,
        help_heading = IMAGES
    )]
    pub quality: Option<u8>,

    /// JPEG to JPEG: crop without re-encoding, or fail.
    ///
    /// The crop is made in the DCT domain; it fails when the crop's top or
    /// left offset is off the block grid, naming the nearest crops on it.
    /// Without it, a crop on the grid is lossless and one off it is
    /// re-encoded.
    #[arg(long, conflicts_with_all = ["reencode", "quality"], help_heading = IMAGES)]
    pub lossless: bool,

    /// JPEG to JPEG: decode, crop and re-encode, even on the block grid.
    ///
    /// Without it, a crop that keeps the block grid is lossless.
    #[arg(long, help_heading = IMAGES)]
    pub reencode: bool,

    /// Convert images to grayscale, rgb or rgba, as Keras' load_img does.
    ///
    /// As load_img(color_mode=...) does, with Pillow's convert. Default: the
    /// channels the file holds. Arrays (.npy) are taken as they are.
    #[arg(
        long,
        value_name = "MODE",
        value_enum,
        hide_possible_values = true,
        conflicts_with = "lossless",
        help_heading = IMAGES
    )]
    pub color_mode: Option<ColorArg>,

    /// PNG output compression: fast, default or best.
    #[arg(
        long,
        value_name = "LEVEL",
        value_enum,
        default_value_t = PngLevel::Default,
        hide_possible_values = true,
        help_heading = IMAGES
    )]
    pub png_compression: PngLevel,

    /// The most memory, in MiB, one image may take decoded.
    ///
    /// Or an array going to an image; larger ones are refused before
    /// decoding, as a guard against decompression bombs.
    #[arg(
        long,
        value_name = "MIB",
        default_value_t = 1024,
        allow_negative_numbers = true,
        value_parser = clap::value_parser!(u64).range(1..=1 << 24),
        value_hint = ValueHint::Other,
        help_heading = IMAGES
    )]
    pub image_limit_mib: u64,

    /// Worker threads for a batch. Default: one per core.
    #[arg(
        short = 'j',
        long,
        visible_alias = "threads",
        value_name = "N",
        allow_negative_numbers = true,
        value_parser = clap::value_parser!(u16).range(1..),
        value_hint = ValueHint::Other,
        help_heading = BATCH
    )]
    pub jobs: Option<u16>,

    /// Go on after an input fails; the exit status is still 1 if any failed.
    #[arg(long, help_heading = BATCH)]
    pub keep_going: bool,

    /// Print JSON Lines to standard output as inputs end.
    ///
    /// JSON Lines, schema 1: a record an input, in input order, each flushed
    /// as it is written (a killed batch leaves one for every output on disk),
    /// then a summary record. Fields: input, output, status, error,
    /// input_shape, output_shape, dtype, jpeg, members (.npz, tar), data_format,
    /// data_format_from.
    #[arg(long, value_name = "FORMAT", value_enum, help_heading = BATCH)]
    pub report: Option<ReportFormat>,

    /// Print "input -> output: shapes" on standard error for each output written.
    ///
    /// The line --dry-run prints, for each output as it is written.
    #[arg(short, long, help_heading = BATCH)]
    pub verbose: bool,

    /// No progress bar and no warnings; errors are still shown.
    #[arg(short, long, help_heading = BATCH)]
    pub quiet: bool,

    /// Print "input -> output: shapes" for each output, and write nothing.
    ///
    /// Each input's shape and its output's, with the errors a real run
    /// would give; a .npy batch going to images gets a line a sample.
    #[arg(long, help_heading = INFORMATION)]
    pub dry_run: bool,

    /// Print the layer's get_config() JSON, and exit.
    ///
    /// As Keras 3 writes it and its from_config accepts. Without --layer,
    /// --config or --center-crop the layer is Cropping2D.
    #[arg(
        long,
        conflicts_with_all = ["input_shape", "dry_run", "out_dir", "stack", "output"],
        help_heading = INFORMATION
    )]
    pub print_config: bool,

    /// Print the output shape for this input shape, and exit.
    ///
    /// As Keras' compute_output_shape does: 3, 4 or 5 dimensions (the layer
    /// follows the rank), each a number or None, e.g. None,28,28,3.
    #[arg(
        long,
        value_name = "SHAPE",
        allow_hyphen_values = true,
        value_parser = parse_shape,
        value_hint = ValueHint::Other,
        conflicts_with_all = ["dry_run", "out_dir", "stack", "output"],
        help_heading = INFORMATION
    )]
    pub input_shape: Option<Shape>,

    /// Print a completion script or the man page, and exit.
    ///
    /// A shell completion script (complete-bash, complete-zsh,
    /// complete-fish, complete-powershell, complete-elvish) or the man page
    /// in roff (man), to standard output.
    #[arg(
        long,
        value_name = "KIND",
        value_enum,
        exclusive = true,
        hide_possible_values = true,
        help_heading = INFORMATION
    )]
    pub generate: Option<Generate>,
}
