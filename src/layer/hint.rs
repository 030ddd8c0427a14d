//! A hint for arrays that seem laid out in the other data format: Keras
//! crops whatever axes the format names, so a wrong `--format` (or a
//! `keras.json` that sets one) crops the wrong axes, or refuses a crop that
//! would go through in the format the array is in.

use std::fmt;
use std::path::PathBuf;

use super::{CropError, Layer, Shape};
use crate::data_format::DataFormat;

/// Where the data format in force came from, for a hint to name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormatOrigin {
    /// `--format`.
    Flag,
    /// The `data_format` of the layer in this Keras config file (`--config`).
    Config(PathBuf),
    /// `image_data_format` in this `keras.json`.
    KerasJson(PathBuf),
    /// Keras' default, `channels_last`: nothing set another, this
    /// `keras.json` included.
    Default(PathBuf),
}

impl FormatOrigin {
    /// What reports call it: `flag`, `config`, `keras.json` or `default`.
    pub fn name(&self) -> &'static str {
        match self {
            FormatOrigin::Flag => "flag",
            FormatOrigin::Config(_) => "config",
            FormatOrigin::KerasJson(_) => "keras.json",
            FormatOrigin::Default(_) => "default",
        }
    }
}

impl fmt::Display for FormatOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatOrigin::Flag => f.write_str("given by --format"),
            FormatOrigin::Config(path) => {
                write!(f, "the data_format of the layer in {}", path.display())
            }
            FormatOrigin::KerasJson(path) => {
                write!(f, "set by image_data_format in {}", path.display())
            }
            FormatOrigin::Default(path) => write!(
                f,
                "Keras' default, as no --format is given and {} sets no other",
                path.display()
            ),
        }
    }
}

/// How many channels an image has at most: gray, gray+alpha, RGB, RGBA.
const CHANNELS: std::ops::RangeInclusive<usize> = 1..=4;

/// The other data format, when an array of `shape` looks laid out in it
/// rather than in the layer's: the axis it puts channels on holds 1 to 4
/// entries, and the axis the layer's format puts them on does not.
pub fn looks_like_other(layer: &Layer, shape: &[usize]) -> Option<DataFormat> {
    let format = layer.data_format()?;
    let other = other(format);
    let holds_channels = |format| {
        channel_axis(format, shape.len()).is_some_and(|axis| CHANNELS.contains(&shape[axis]))
    };
    (shape.len() == layer.class().rank() && holds_channels(other) && !holds_channels(format))
        .then_some(other)
}

/// For a crop the layer refuses, the other data format, when the crop goes
/// through in it or the array looks laid out in it.
pub fn refused_in_format(error: &CropError) -> Option<DataFormat> {
    let other = other(error.layer.data_format()?);
    let shape = error.shape.dims()?;
    let accepted = error
        .layer
        .with_data_format(other)
        .compute_output_shape(&Shape::known(&shape))
        .is_ok();
    (accepted || looks_like_other(&error.layer, &shape).is_some()).then_some(other)
}

/// The hint that an array may be in `other` format, naming the one in
/// force, where it came from, and how to pass the other.
pub fn format_hint(other: DataFormat, origin: Option<&FormatOrigin>) -> String {
    let in_force = match origin {
        Some(origin) => format!("{} is in force ({origin})", self::other(other)),
        None => format!("{} is in force", self::other(other)),
    };
    let how = match origin {
        Some(FormatOrigin::Config(path)) => {
            format!("set its data_format to \"{other}\" in {}", path.display())
        }
        _ => format!("pass --format {other}"),
    };
    format!(
        "if the array is laid out {other} ({}), {how}; {in_force}",
        layout(other)
    )
}

fn other(format: DataFormat) -> DataFormat {
    match format {
        DataFormat::ChannelsLast => DataFormat::ChannelsFirst,
        DataFormat::ChannelsFirst => DataFormat::ChannelsLast,
    }
}

/// The axis of channels in a tensor of `rank` with a batch axis.
fn channel_axis(format: DataFormat, rank: usize) -> Option<usize> {
    match format {
        _ if rank < 3 => None,
        DataFormat::ChannelsLast => Some(rank - 1),
        DataFormat::ChannelsFirst => Some(1),
    }
}

/// Where a format puts the channels, in words.
fn layout(format: DataFormat) -> &'static str {
    match format {
        DataFormat::ChannelsLast => "channels on the last axis",
        DataFormat::ChannelsFirst => "channels on axis 1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::LayerClass;

    fn layer(spec: &str, format: DataFormat) -> Layer {
        Layer::from_spec(LayerClass::Cropping2D, &spec.parse().unwrap(), format).unwrap()
    }

    const LAST: DataFormat = DataFormat::ChannelsLast;
    const FIRST: DataFormat = DataFormat::ChannelsFirst;

    #[test]
    fn channels_on_the_other_axis_point_at_the_other_format() {
        assert_eq!(
            looks_like_other(&layer("1", FIRST), &[2, 28, 28, 3]),
            Some(LAST)
        );
        assert_eq!(
            looks_like_other(&layer("1", LAST), &[2, 3, 28, 28]),
            Some(FIRST)
        );
        // Either layout could hold it, or neither: no hint.
        assert_eq!(looks_like_other(&layer("1", FIRST), &[2, 3, 28, 3]), None);
        assert_eq!(looks_like_other(&layer("1", LAST), &[2, 28, 28, 3]), None);
        assert_eq!(looks_like_other(&layer("1", LAST), &[2, 9, 9, 9]), None);
    }

    #[test]
    fn a_refusal_points_at_a_format_that_takes_the_crop() {
        let refusal = |spec, format, shape: &[usize]| {
            let layer = layer(spec, format);
            refused_in_format(&layer.kept_ranges(shape).unwrap_err())
        };
        assert_eq!(refusal("2", FIRST, &[2, 28, 28, 3]), Some(LAST));
        assert_eq!(refusal("20", LAST, &[2, 28, 28, 3]), None);
    }

    #[test]
    fn the_hint_says_how_to_pass_the_other_format_and_where_this_one_came_from() {
        let json = PathBuf::from("/k/keras.json");
        let hint = format_hint(LAST, Some(&FormatOrigin::KerasJson(json)));
        assert_eq!(
            hint,
            "if the array is laid out channels_last (channels on the last axis), pass \
             --format channels_last; channels_first is in force (set by image_data_format \
             in /k/keras.json)"
        );
        let config = FormatOrigin::Config(PathBuf::from("model.json"));
        assert!(format_hint(FIRST, Some(&config)).contains("set its data_format"));
    }
}
