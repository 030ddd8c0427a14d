//! The flags: the clap definitions, each with its help beside it, and the
//! prose of the help that names the formats, written once.

use std::path::PathBuf;

use clap::Parser;
use rcrop::{CropSpec, Shape};

use super::generate::Generate;
use super::values::{
    ColourArg, FormatArg, KindArg, OrderArg, PngLevel, ReportFormat, parse_crop, parse_shape,
    parse_target,
};

/// The image formats rcrop reads and writes, as the help names them.
const IMAGE_FORMAT_NAMES: &str = "PNG, JPEG, TIFF, BMP, WebP, GIF, TGA, QOI, ICO, farbfeld, \
                                Radiance HDR, OpenEXR, PNM";

/// The output extensions rcrop knows, as a refused one is answered.
pub const OUTPUT_EXTENSIONS: &str = ".npy, .npz, .png, .jpg, .jpeg, .tif, .tiff, .bmp, .webp, \
                                     .gif, .tga, .qoi, .ico, .ff, .hdr, .exr, .pbm, .pgm, .ppm or .pnm";

/// The summary line of `-h`.
const ABOUT: &str = "Apply Keras' cropping layers (Cropping1D, Cropping2D, Cropping3D, \
                     CenterCrop) to .npy files and images, exactly as Keras would";

/// The description `--help` and the man page give.
fn long_about() -> String {
    format!(
        "{ABOUT}.\n\n\
         The input is a .npy array, a .npz archive (its members of a rank the layer crops are \
         cropped, the others copied), or an image ({IMAGE_FORMAT_NAMES}) seen as a 4D tensor of \
         batch 1. The layer follows the array's rank: 3D (batch, steps, features) takes \
         Cropping1D, 4D Cropping2D, 5D Cropping3D; --layer forces one, --center-crop applies \
         CenterCrop. A .npy output has the input's dtype, byte order and memory order; an image \
         output keeps the colour type, bit depth and ICC profile. Outputs are written under a \
         temporary name and renamed into place, so a failed run never leaves a partial output."
    )
}

/// The examples and the exit statuses `--help` ends with.
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

/// The command line as clap reads it; [`super::plan`] makes sense of it.
#[derive(Debug, Parser)]
#[command(
    name = "rcrop",
    version,
    about = ABOUT,
    long_about = long_about(),
    after_help = EXAMPLES
)]
pub struct Flags {
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
    pub crop: Option<(String, CropSpec)>,

    /// Apply CenterCrop(H, W): the central H×W window of each image (offsets
    /// (dim - target) // 2), on images and 4D .npy batches. An input smaller
    /// than the target is refused (Keras would resize it). The dtype is kept.
    #[arg(long, value_name = "H,W", value_parser = parse_target, conflicts_with = "crop")]
    pub center_crop: Option<(usize, usize)>,

    /// Where the channels are: channels_last is (batch, rows, cols, channels),
    /// channels_first is (batch, channels, rows, cols); likewise for 5D.
    /// Default: the image_data_format in keras.json ($KERAS_HOME, else
    /// ~/.keras), else channels_last. Cropping1D has no data format.
    #[arg(short, long, value_name = "FORMAT", value_enum)]
    pub format: Option<FormatArg>,

    /// What to write, named by an extension of its kind. Default: from the
    /// output's extension; for standard output (or no extension), the
    /// input's own kind.
    #[arg(long, value_name = "KIND", value_enum)]
    pub to: Option<KindArg>,

    /// With a .npz archive: crop only the member with this key (x for
    /// x.npy), copying the others; repeat for more. With one --key and a
    /// .npy output, that member alone is written, cropped.
    #[arg(short, long = "key", value_name = "NAME")]
    pub key: Vec<String>,

    /// JPEG output quality, 1 to 100 (default 95). For a JPEG going to a
    /// JPEG it means re-encoding, as --reencode does.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: Option<u8>,

    /// JPEG to JPEG: crop in the DCT domain, without re-encoding, or fail
    /// when the crop's top or left offset is off the block grid (naming
    /// the nearest crops on it). Without it, a crop on the grid is lossless
    /// and one off it is re-encoded.
    #[arg(long, conflicts_with_all = ["reencode", "quality"])]
    pub lossless: bool,

    /// JPEG to JPEG: decode, crop and re-encode even when the crop keeps
    /// the block grid and could be lossless.
    #[arg(long)]
    pub reencode: bool,

    /// Convert images as Keras' load_img(color_mode=...) does (Pillow's
    /// convert): grayscale, rgb or rgba. Default: the channels the file
    /// holds. Arrays (.npy) are taken as they are.
    #[arg(long, value_name = "MODE", value_enum, conflicts_with = "lossless")]
    pub color_mode: Option<ColourArg>,

    /// PNG output compression: fast, default or best.
    #[arg(long, value_name = "LEVEL", value_enum, default_value_t = PngLevel::Default)]
    pub png_compression: PngLevel,

    /// The most memory, in MiB, one image may take decoded (or an array going
    /// to an image); larger ones are refused before decoding, as a guard
    /// against decompression bombs.
    #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1 << 24))]
    pub image_limit_mib: u64,

    /// Write one result per input into this folder, under the input's file
    /// name (--to changes the extension); a .npy batch going to images
    /// becomes one image a sample, <stem>_<index>.<ext>. Created if missing.
    #[arg(long, value_name = "DIR", conflicts_with = "stack")]
    pub out_dir: Option<PathBuf>,

    /// Stack all inputs, cropped, into one .npy batch written to --output;
    /// they must share one shape and dtype.
    #[arg(long, requires = "output")]
    pub stack: bool,

    /// The output file: with --stack, or instead of the second PATH.
    #[arg(short, long, value_name = "FILE", conflicts_with = "out_dir")]
    pub output: Option<PathBuf>,

    /// Crop the files under directories given as inputs (those with a known
    /// extension), mirroring their tree under --out-dir.
    #[arg(short, long)]
    pub recursive: bool,

    /// Read more inputs from FILE (- for standard input), one a line.
    #[arg(long, value_name = "FILE")]
    pub files_from: Option<PathBuf>,

    /// With --files-from: names are NUL-separated, as find -print0 writes them.
    #[arg(short = '0', long = "null", requires = "files_from")]
    pub null: bool,

    /// Worker threads for a batch. Default: one per core.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Go on after an input fails; the exit status is still 1 if any failed.
    #[arg(long)]
    pub keep_going: bool,

    /// Leave outputs that already exist alone, so an interrupted batch can be rerun cheaply.
    #[arg(short = 'n', long)]
    pub no_clobber: bool,

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
    pub order: OrderArg,

    /// Print one JSON object a line to standard output for each input:
    /// input, output, input_shape, output_shape, dtype, status, error.
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub report: Option<ReportFormat>,

    /// No progress bar and no warnings; errors are still shown.
    #[arg(short, long)]
    pub quiet: bool,

    /// Take the layer from a Keras config: the JSON of get_config() of a
    /// Cropping1D, Cropping2D, Cropping3D or CenterCrop, or a model's JSON
    /// (model.to_json(), Keras 2 or 3). A data_format of null means the
    /// keras.json default. --crop, --center-crop and --format may be given
    /// too, but must agree with it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The layer: Cropping1D, Cropping2D, Cropping3D or CenterCrop forces
    /// that class, whatever the input's rank. With --config, the name of the
    /// layer to take from it; if no layer has that name and it is a class
    /// name, the only layer of that class.
    #[arg(long, value_name = "CLASS|NAME")]
    pub layer: Option<String>,

    /// Print the layer's get_config() JSON, as Keras 3 writes it and its
    /// from_config accepts, and exit. Without --layer, --config or
    /// --center-crop the layer is Cropping2D.
    #[arg(long, conflicts_with_all = ["input_shape", "dry_run", "out_dir", "stack", "output"])]
    pub print_config: bool,

    /// Print the output shape for this input shape, as Keras'
    /// compute_output_shape does, and exit: 3, 4 or 5 dimensions (the layer
    /// follows the rank), each a number or None, e.g. None,28,28,3.
    #[arg(long, value_name = "SHAPE", value_parser = parse_shape, conflicts_with_all = ["dry_run", "out_dir", "stack", "output"])]
    pub input_shape: Option<Shape>,

    /// Print each input's shape and its output shape, with the errors a real
    /// run would give, and write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Print a shell completion script (complete-bash, complete-zsh,
    /// complete-fish, complete-powershell, complete-elvish) or the man page
    /// in roff (man) to standard output, and exit.
    #[arg(long, value_name = "KIND", value_enum, exclusive = true)]
    pub generate: Option<Generate>,

    /// INPUT OUTPUT; or, with --out-dir, --stack or -o, only inputs. A .npy
    /// file or an image; - for standard input or output.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}
