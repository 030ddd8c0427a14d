//! The prose of the help around the flags: the description, which names
//! the formats from the codec table, the kinds `--to` takes, the examples
//! and the exit statuses, each written once for `--help` and the man page.

use clap::ValueEnum;
use rcrop::raster::formats;

use super::values::KindArg;

/// The summary line of `-h`.
pub const ABOUT: &str = "Apply Keras' cropping layers (Cropping1D, Cropping2D, Cropping3D, \
                     CenterCrop) to .npy files and images, exactly as Keras would";

/// The description `--help` and the man page give.
pub fn long_about() -> String {
    format!(
        "{ABOUT}.\n\n\
         The input is a .npy array, a .npz archive (its members of a rank the layer crops are \
         cropped, the others copied), a tar archive (its image, .npy and .npz members cropped, \
         the others copied), or an image ({}) seen as a 4D tensor of batch 1. The layer follows the array's rank: 3D (batch, steps, features) takes \
         Cropping1D, 4D Cropping2D, 5D Cropping3D; --layer forces one, --center-crop applies \
         CenterCrop. A .npy output has the input's dtype, byte order and memory order; an image \
         output keeps the color type, bit depth and ICC profile. Outputs are written under a \
         temporary name and renamed into place, so a failed run never leaves a partial output.",
        formats::names()
    )
}

/// The long help of `--to`, naming every kind it takes.
pub fn kinds_help() -> String {
    let kinds: Vec<String> = KindArg::value_variants()
        .iter()
        .filter_map(ValueEnum::to_possible_value)
        .map(
            |kind| match kind.get_name_and_aliases().skip(1).collect::<Vec<_>>() {
                aliases if aliases.is_empty() => kind.get_name().to_owned(),
                aliases => format!("{} (or {})", kind.get_name(), aliases.join(", ")),
            },
        )
        .collect();
    format!(
        "What to write, named by an extension of its kind: {}.\n\n\
         Default: from the output's extension; for standard output (or no extension), the \
         input's own kind.",
        kinds.join(", ")
    )
}

/// The examples `--help` and the man page give, each a command line and,
/// where the command alone does not say it, what it shows.
pub const EXAMPLES: [(&str, &str); 13] = [
    ("rcrop --crop 2 --format channels_first in.npy out.npy", ""),
    ("rcrop --crop 2,2:4,4 photo.png cropped.png", ""),
    ("rcrop --crop 2,4 sequences.npy out.npy", "3D: Cropping1D"),
    (
        "rcrop --crop 1,2:3,4:5,6 volumes.npy out.npy",
        "5D: Cropping3D",
    ),
    ("rcrop --center-crop 224,224 --out-dir out photos/*.jpg", ""),
    (
        "rcrop --crop 8 --format channels_first photo.jpg tensor.npy",
        "",
    ),
    ("rcrop --crop 0 tensor.npy image.png", ""),
    (
        "cat in.npy | rcrop --crop '((1,2),(3,4))' - - > out.npy",
        "",
    ),
    (
        "rcrop --crop 4 --to jpeg --quality 90 photo.png - > small.jpg",
        "",
    ),
    ("rcrop --crop 16 --out-dir cropped/ images/*.png", ""),
    (
        "find data -name '*.png' -print0 | rcrop -c 16 --out-dir out --files-from - -0 --keep-going",
        "",
    ),
    ("rcrop --crop 2 --stack -o batch.npy a.png b.png c.png", ""),
    ("rcrop --crop 0 --out-dir frames --to png batch.npy", ""),
];

/// What `--help` ends with: the examples and the exit statuses.
pub fn after_long_help() -> String {
    let mut text = String::from("Examples:\n");
    for (command, note) in EXAMPLES {
        text.push_str(&format!("  {command}"));
        if !note.is_empty() {
            text.push_str(&format!("    ({note})"));
        }
        text.push('\n');
    }
    text.push_str("\nExit status:\n");
    for (status, meaning) in super::EXIT_STATUSES {
        text.push_str(&format!("  {status}: {meaning}\n"));
    }
    text
}
