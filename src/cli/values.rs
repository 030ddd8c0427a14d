//! The typed values flags take: enumerations clap parses through
//! [`ValueEnum`] (and lists in completions and `--help`), and the parsers of
//! the structured values, each turned into the library's own type at the edge.

use std::ffi::OsStr;
use std::sync::LazyLock;

use clap::ValueEnum;
use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use rcrop::npy::reorder::Order;
use rcrop::raster::{ColorMode, IMAGE_FORMATS, PngCompression};
use rcrop::{CropSpec, DataFormat, FileKind, LayerClass, Shape};

/// A `--to` value: a kind rcrop writes, named by its usual extension, its
/// other extensions accepted as aliases.
#[derive(Clone, Copy, Debug)]
pub struct KindArg(pub FileKind);

/// Every kind rcrop writes, in the library's order: arrays, then images.
static KINDS: LazyLock<Vec<KindArg>> = LazyLock::new(|| {
    [FileKind::Npy, FileKind::Npz]
        .into_iter()
        .chain(IMAGE_FORMATS.map(FileKind::Image))
        .map(KindArg)
        .collect()
});

impl KindArg {
    /// The extensions other than the usual one that name this kind.
    fn aliases(self) -> Vec<&'static str> {
        let FileKind::Image(format) = self.0 else {
            return Vec::new();
        };
        format
            .extensions_str()
            .iter()
            .copied()
            .filter(|&ext| ext != self.0.extension() && ext.parse() == Ok(self.0))
            .collect()
    }
}

impl ValueEnum for KindArg {
    fn value_variants<'a>() -> &'a [Self] {
        &KINDS
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let aliases = self.aliases();
        let help = match aliases.as_slice() {
            [] => self.0.to_string(),
            others => format!("{} (also {})", self.0, others.join(", ")),
        };
        Some(
            PossibleValue::new(self.0.extension())
                .aliases(aliases)
                .help(help),
        )
    }
}

/// A `--format` value, spelled as Keras spells it.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    #[value(name = "channels_last")]
    ChannelsLast,
    #[value(name = "channels_first")]
    ChannelsFirst,
}

impl From<FormatArg> for DataFormat {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::ChannelsLast => DataFormat::ChannelsLast,
            FormatArg::ChannelsFirst => DataFormat::ChannelsFirst,
        }
    }
}

/// An `--order` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OrderArg {
    Keep,
    #[value(name = "C")]
    C,
    #[value(name = "F")]
    F,
}

impl From<OrderArg> for Order {
    fn from(order: OrderArg) -> Self {
        match order {
            OrderArg::Keep => Order::Keep,
            OrderArg::C => Order::C,
            OrderArg::F => Order::F,
        }
    }
}

/// A `--report` value.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ReportFormat {
    Json,
}

/// A `--png-compression` value.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PngLevel {
    Fast,
    Default,
    Best,
}

impl From<PngLevel> for PngCompression {
    fn from(level: PngLevel) -> Self {
        match level {
            PngLevel::Fast => PngCompression::Fast,
            PngLevel::Default => PngCompression::Default,
            PngLevel::Best => PngCompression::Best,
        }
    }
}

/// A `--color-mode` value.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ColorArg {
    Grayscale,
    Rgb,
    Rgba,
}

impl From<ColorArg> for ColorMode {
    fn from(mode: ColorArg) -> Self {
        match mode {
            ColorArg::Grayscale => ColorMode::Grayscale,
            ColorArg::Rgb => ColorMode::Rgb,
            ColorArg::Rgba => ColorMode::Rgba,
        }
    }
}

/// The parser of a `--layer` value: any text, since with `--config` it may
/// be a layer's name, but offering completions the class names.
#[derive(Clone, Copy, Debug)]
pub struct LayerName;

impl TypedValueParser for LayerName {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        let classes = LayerClass::ALL.into_iter();
        Some(Box::new(classes.map(|c| PossibleValue::new(c.name()))))
    }
}

/// `None,28,28,3`, with or without parentheses and spaces.
pub fn parse_shape(value: &str) -> Result<Shape, String> {
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
pub fn parse_crop(value: &str) -> Result<(String, CropSpec), String> {
    let spec = value.parse().map_err(|e: rcrop::SpecError| e.to_string())?;
    Ok((value.to_owned(), spec))
}

/// `H,W` (or `(H, W)`): two positive integers.
pub fn parse_target(value: &str) -> Result<(usize, usize), String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name `--to` takes is one the library reads as that kind, and
    /// every extension the library reads as a kind is a name `--to` takes.
    #[test]
    fn kinds_are_named_by_every_extension_the_library_reads() {
        let mut names = Vec::new();
        for kind in KindArg::value_variants() {
            let value = kind.to_possible_value().expect("every kind is a value");
            for name in value.get_name_and_aliases() {
                assert_eq!(name.parse::<FileKind>(), Ok(kind.0), "{name}");
                names.push(name.to_owned());
            }
        }
        for ext in [
            "jpeg", "jpg", "tif", "tiff", "pbm", "pgm", "ppm", "pnm", "ff",
        ] {
            assert!(names.iter().any(|n| n == ext), "{ext}");
        }
        assert!(!names.iter().any(|n| n == "pam"));
        let jpeg = KindArg::from_str("jpeg", false).map(|k| k.0);
        assert_eq!(jpeg, "jpg".parse::<FileKind>().map_err(|e| e.to_string()));
        assert!(KindArg::from_str("PNG", false).is_err());
    }
}
