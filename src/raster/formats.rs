//! The codec table: one row per image format rcrop reads and writes,
//! saying everything rcrop knows of it — its name, its extensions, how a
//! file of it is recognised, what it holds, whether it keeps an ICC
//! profile, how it is read and how it is written, and the room that codes
//! it. Every capability question is answered from the row; help text and
//! error messages that list formats are rendered from the table.

use image::ImageFormat;

use super::rows::{RowSink, RowSource, RowsInfo, Window, WriteSeek};
use super::{EncodeOptions, RasterError};
use super::{bmp, exr, gif, hdr, ico, jpeg, png, pnm, tga, tiff, webp};
use crate::tensor::{MOST_CHANNELS, SampleType, Tensor};

/// One image format and what rcrop does with it.
pub struct Format {
    pub format: ImageFormat,
    /// The name as people write it: PNG, JPEG, WebP.
    pub name: &'static str,
    /// The extensions taken for it on output paths and by `--to`; the
    /// first is the one rcrop gives a file it names.
    pub extensions: &'static [&'static str],
    pub signature: Signature,
    pub holds: Holds,
    /// Whether a file written keeps the input's ICC profile; where not, a
    /// warning says it was dropped.
    pub keeps_icc: bool,
    pub reads: Reads,
    pub writes: Writes,
    pub(super) codec: Codec,
}

/// How a file of a format is told from its first bytes.
#[derive(Clone, Copy)]
pub enum Signature {
    /// It starts with one of these byte strings.
    Starts(&'static [&'static [u8]]),
    /// This test of its first bytes (16 are enough) says so.
    Test(fn(&[u8]) -> bool),
    /// It has no signature: it is taken for the format by its extension.
    Extension,
}

/// What an image of a format can be, exactly, with no sample converted.
#[derive(Clone, Copy)]
pub struct Holds {
    /// The channel counts (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) it holds,
    /// each with the sample types it holds them in.
    pub pixels: &'static [(usize, &'static [SampleType])],
    /// The sample types it holds in any number of channels, up to
    /// [`MOST_CHANNELS`] (TIFF's bands); none for most formats.
    pub bands: &'static [SampleType],
    /// The largest width and height, where the format has one.
    pub max_side: Option<usize>,
    /// The same said for people, as refusals say it.
    pub text: &'static str,
}

/// How a format is read.
#[derive(Clone, Copy)]
pub enum Reads {
    /// Decoded whole, within the image limit.
    Whole,
    /// Only the crop's window decoded, held whole within the image limit;
    /// the rest of the file is still read and checked.
    Window(DecodeWindow),
    /// A row at a time, front to back, when `streams` says the file's
    /// first bytes allow it; else whole.
    Rows {
        streams: fn(&[u8]) -> bool,
        open: OpenRows,
    },
    /// A row at a time from a file read at any offset, when `streams`
    /// says the file's first bytes allow it; else whole.
    RowsFromFile {
        streams: fn(&[u8]) -> bool,
        open: OpenFileRows,
    },
}

/// How a format is written.
#[derive(Clone, Copy)]
pub enum Writes {
    /// Encoded whole, within the image limit.
    Whole,
    /// A row at a time, front to back.
    Rows(OpenSink),
    /// A row at a time, into a file written at any offset; whole when the
    /// output is a stream.
    RowsToFile(OpenFileSink),
}

/// Opens a row reader on a stream, within a limit in bytes.
pub type OpenRows = for<'a> fn(
    Box<dyn std::io::BufRead + Send + 'a>,
    u64,
) -> Result<Box<dyn RowSource + 'a>, RasterError>;

/// Opens a row reader on a file, within a limit in bytes.
pub type OpenFileRows =
    fn(std::io::BufReader<std::fs::File>, u64) -> Result<Box<dyn RowSource>, RasterError>;

/// Opens a row writer of an image like the one described on a stream.
pub type OpenSink = for<'a> fn(
    Box<dyn std::io::Write + Send + 'a>,
    &RowsInfo,
    EncodeOptions,
) -> Result<Box<dyn RowSink + 'a>, RasterError>;

/// Opens a row writer of an image like the one described on a file.
pub type OpenFileSink =
    fn(Box<dyn WriteSeek>, &RowsInfo, EncodeOptions) -> Result<Box<dyn RowSink>, RasterError>;

/// The room that decodes and encodes a format whole.
#[derive(Clone, Copy)]
pub(super) enum Codec {
    /// The `image` crate's codec for the format, as it is.
    ImageCrate,
    /// rcrop's own room for the format.
    Own {
        decode: Decode,
        probe: Probe,
        encode: Encode,
    },
}

/// The window of a file decoded, within a limit in bytes, with its ICC
/// profile.
pub type DecodeWindow = fn(&[u8], &Window, u64) -> Result<Decoded, RasterError>;

/// A whole file decoded, within a limit in bytes, with its ICC profile.
pub(super) type Decode = fn(&[u8], u64) -> Result<Decoded, RasterError>;
/// The tensor a file would become — height, width, channels, sample
/// type — from its header, within a limit in bytes.
pub(super) type Probe = fn(&[u8], u64) -> Result<(usize, usize, usize, SampleType), RasterError>;
/// A tensor the format holds encoded whole, with the ICC profile if the
/// format keeps one.
pub(super) type Encode = fn(&Tensor, Option<&[u8]>, EncodeOptions) -> Result<Vec<u8>, RasterError>;

use crate::raster::Decoded;
use SampleType::{F32, F64, I8, I16, I32, I64, U8, U16, U32, U64};

const BYTES: &[SampleType] = &[U8];
const BYTES_OR_WORDS: &[SampleType] = &[U8, U16];
const FLOATS: &[SampleType] = &[F32];
const ANY_BUT_F16: &[SampleType] = &[U8, U16, U32, U64, I8, I16, I32, I64, F32, F64];

/// 8- or 16-bit gray, gray+alpha, RGB or RGBA.
const FOUR_LAYOUTS_8_16: &[(usize, &[SampleType])] = &[
    (1, BYTES_OR_WORDS),
    (2, BYTES_OR_WORDS),
    (3, BYTES_OR_WORDS),
    (4, BYTES_OR_WORDS),
];
/// 8-bit gray, gray+alpha, RGB or RGBA.
const FOUR_LAYOUTS_8: &[(usize, &[SampleType])] = &[(1, BYTES), (2, BYTES), (3, BYTES), (4, BYTES)];
/// 8-bit RGB or RGBA.
const COLORS_8: &[(usize, &[SampleType])] = &[(3, BYTES), (4, BYTES)];

const TABLE: [Format; 13] = [
    Format {
        format: ImageFormat::Png,
        name: "PNG",
        extensions: &["png"],
        signature: Signature::Starts(&[b"\x89PNG\r\n\x1a\n"]),
        holds: Holds {
            pixels: FOUR_LAYOUTS_8_16,
            bands: &[],
            max_side: None,
            text: "8- or 16-bit gray, gray+alpha, RGB or RGBA",
        },
        keeps_icc: true,
        reads: Reads::Rows {
            streams: png::streams,
            open: png::source,
        },
        writes: Writes::Rows(png::sink),
        codec: Codec::Own {
            decode: png::decode,
            probe: png::probe,
            encode: png::encode,
        },
    },
    Format {
        format: ImageFormat::Jpeg,
        name: "JPEG",
        extensions: &["jpg", "jpeg"],
        signature: Signature::Starts(&[&[0xff, 0xd8, 0xff]]),
        holds: Holds {
            pixels: &[(1, BYTES), (3, BYTES)],
            bands: &[],
            max_side: None,
            text: "8-bit gray or RGB",
        },
        keeps_icc: true,
        reads: Reads::Window(jpeg::decode_window),
        writes: Writes::Whole,
        codec: Codec::Own {
            decode: jpeg::decode,
            probe: jpeg::probe,
            encode: jpeg::encode,
        },
    },
    Format {
        format: ImageFormat::Tiff,
        name: "TIFF",
        extensions: &["tiff", "tif"],
        // Classic TIFF (version 42) and BigTIFF (43), either byte order.
        signature: Signature::Starts(&[b"MM\x00*", b"II*\x00", b"II\x2B\x00", b"MM\x00\x2B"]),
        holds: Holds {
            pixels: &[(1, ANY_BUT_F16)],
            bands: ANY_BUT_F16,
            max_side: None,
            text: "any number of channels of any sample type rcrop reads but float16",
        },
        keeps_icc: true,
        reads: Reads::RowsFromFile {
            streams: always,
            open: tiff::source,
        },
        writes: Writes::RowsToFile(tiff::sink),
        codec: Codec::Own {
            decode: tiff::decode,
            probe: tiff::probe,
            encode: tiff::encode,
        },
    },
    Format {
        format: ImageFormat::Bmp,
        name: "BMP",
        extensions: &["bmp"],
        signature: Signature::Starts(&[b"BM"]),
        holds: Holds {
            pixels: &[(1, BYTES), (3, BYTES), (4, BYTES)],
            bands: &[],
            max_side: None,
            text: "8-bit gray, RGB or RGBA",
        },
        keeps_icc: false,
        reads: Reads::RowsFromFile {
            streams: bmp::streams,
            open: bmp::source,
        },
        writes: Writes::RowsToFile(bmp::file_sink),
        codec: Codec::Own {
            decode: bmp::decode,
            probe: bmp::probe,
            encode: bmp::encode,
        },
    },
    Format {
        format: ImageFormat::WebP,
        name: "WebP",
        extensions: &["webp"],
        signature: Signature::Test(is_webp),
        holds: Holds {
            pixels: FOUR_LAYOUTS_8,
            bands: &[],
            max_side: None,
            text: "8-bit gray, gray+alpha, RGB or RGBA",
        },
        keeps_icc: true,
        reads: Reads::Whole,
        writes: Writes::Whole,
        codec: Codec::Own {
            decode: webp::decode,
            probe: webp::probe,
            encode: webp::encode,
        },
    },
    Format {
        format: ImageFormat::Gif,
        name: "GIF",
        extensions: &["gif"],
        signature: Signature::Starts(&[b"GIF89a", b"GIF87a"]),
        holds: Holds {
            pixels: COLORS_8,
            bands: &[],
            max_side: None,
            text: "8-bit RGB or RGBA of at most 256 colors, alpha 0 or 255",
        },
        keeps_icc: false,
        reads: Reads::Whole,
        writes: Writes::Whole,
        codec: Codec::Own {
            decode: gif::decode,
            probe: gif::probe,
            encode: gif::encode,
        },
    },
    Format {
        format: ImageFormat::Tga,
        name: "TGA",
        extensions: &["tga"],
        signature: Signature::Extension,
        holds: Holds {
            pixels: FOUR_LAYOUTS_8,
            bands: &[],
            max_side: None,
            text: "8-bit gray, gray+alpha, RGB or RGBA",
        },
        keeps_icc: false,
        reads: Reads::Whole,
        writes: Writes::Whole,
        codec: Codec::Own {
            decode: tga::decode,
            probe: tga::probe,
            encode: tga::encode,
        },
    },
    Format {
        format: ImageFormat::Qoi,
        name: "QOI",
        extensions: &["qoi"],
        signature: Signature::Starts(&[b"qoif"]),
        holds: Holds {
            pixels: COLORS_8,
            bands: &[],
            max_side: None,
            text: "8-bit RGB or RGBA",
        },
        keeps_icc: false,
        reads: Reads::Whole,
        writes: Writes::Whole,
        codec: Codec::ImageCrate,
    },
    Format {
        format: ImageFormat::Ico,
        name: "ICO",
        extensions: &["ico"],
        signature: Signature::Starts(&[&[0, 0, 1, 0]]),
        holds: Holds {
            pixels: FOUR_LAYOUTS_8_16,
            bands: &[],
            max_side: Some(256),
            text: "8- or 16-bit gray, gray+alpha, RGB or RGBA of at most 256 by 256 pixels",
        },
        keeps_icc: false,
        reads: Reads::Whole,
        writes: Writes::Whole,
        codec: Codec::Own {
            decode: ico::decode,
            probe: ico::probe,
            encode: ico::encode,
        },
    },
    Format {
        format: ImageFormat::Farbfeld,
        name: "farbfeld",
        extensions: &["ff"],
        signature: Signature::Starts(&[b"farbfeld"]),
        holds: Holds {
            pixels: &[(4, &[U16])],
            bands: &[],
            max_side: None,
            text: "16-bit RGBA",
        },
        keeps_icc: false,
        reads: Reads::Whole,
        writes: Writes::Whole,
        codec: Codec::ImageCrate,
    },
    Format {
        format: ImageFormat::Hdr,
        name: "Radiance HDR",
        extensions: &["hdr"],
        signature: Signature::Starts(&[b"#?RADIANCE"]),
        holds: Holds {
            pixels: &[(3, FLOATS)],
            bands: &[],
            max_side: None,
            text: "float32 RGB",
        },
        keeps_icc: false,
        reads: Reads::Whole,
        writes: Writes::Whole,
        codec: Codec::Own {
            decode: hdr::decode,
            probe: hdr::probe,
            encode: hdr::encode,
        },
    },
    Format {
        format: ImageFormat::OpenExr,
        name: "OpenEXR",
        extensions: &["exr"],
        signature: Signature::Starts(&[&[0x76, 0x2f, 0x31, 0x01]]),
        holds: Holds {
            pixels: &[(3, FLOATS), (4, FLOATS)],
            bands: &[],
            max_side: None,
            text: "float32 RGB or RGBA",
        },
        keeps_icc: false,
        reads: Reads::Whole,
        writes: Writes::Whole,
        codec: Codec::Own {
            decode: exr::decode,
            probe: exr::probe,
            encode: exr::encode,
        },
    },
    Format {
        format: ImageFormat::Pnm,
        name: "PNM",
        // PAM (`.pam`), a PNM of the `image` crate's, is not written.
        extensions: &["pnm", "pbm", "pgm", "ppm"],
        signature: Signature::Test(pnm::is_pnm),
        holds: Holds {
            pixels: &[(1, BYTES_OR_WORDS), (3, BYTES_OR_WORDS)],
            bands: &[],
            max_side: None,
            text: "8- or 16-bit gray or RGB",
        },
        keeps_icc: false,
        reads: Reads::Rows {
            streams: always,
            open: pnm::source,
        },
        writes: Writes::Rows(pnm::sink),
        codec: Codec::Own {
            decode: pnm::decode,
            probe: pnm::probe,
            encode: pnm::encode,
        },
    },
];

/// The formats rcrop reads and writes, in the order help text lists them.
pub static FORMATS: [Format; 13] = TABLE;

/// The row for anything else: named "image", holding nothing, decoded by
/// the `image` crate if at all.
/// Its `format` stands for any of them.
static OTHER: Format = Format {
    format: ImageFormat::Dds,
    name: "image",
    extensions: &[],
    signature: Signature::Extension,
    holds: Holds {
        pixels: &[],
        bands: &[],
        max_side: None,
        text: "nothing rcrop writes",
    },
    keeps_icc: false,
    reads: Reads::Whole,
    writes: Writes::Whole,
    codec: Codec::ImageCrate,
};

/// The image formats of the table, in its order.
pub const IMAGE_FORMATS: [ImageFormat; 13] = {
    let mut out = [ImageFormat::Png; 13];
    let mut i = 0;
    while i < out.len() {
        out[i] = TABLE[i].format;
        i += 1;
    }
    out
};

/// The row of `format`; for a format rcrop does not know, a row that
/// reads and writes nothing of its own.
pub fn row(format: ImageFormat) -> &'static Format {
    FORMATS
        .iter()
        .find(|f| f.format == format)
        .unwrap_or(&OTHER)
}

/// The format a file's first bytes (16 are enough) say it is, if rcrop
/// reads it by its signature.
pub fn sniff(prefix: &[u8]) -> Option<ImageFormat> {
    FORMATS
        .iter()
        .find(|f| match f.signature {
            Signature::Starts(magics) => magics.iter().any(|m| prefix.starts_with(m)),
            Signature::Test(test) => test(prefix),
            Signature::Extension => false,
        })
        .map(|f| f.format)
}

/// The format an extension (lower case, no dot) names, if rcrop writes it.
pub fn by_extension(extension: &str) -> Option<ImageFormat> {
    FORMATS
        .iter()
        .find(|f| f.extensions.contains(&extension))
        .map(|f| f.format)
}

/// The format names, as help text lists them: "PNG, JPEG, TIFF, …".
pub fn names() -> String {
    FORMATS
        .iter()
        .map(|f| f.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `--to` values and extensions, each format's first with the others
/// (or, where the extension does not spell the name, the name) in
/// brackets: "png, jpg (jpeg), tiff (tif), …, ff (farbfeld), …".
pub fn extension_list() -> String {
    let one = |f: &Format| {
        let (first, others) = f.extensions.split_first().unwrap_or((&"", &[]));
        if !others.is_empty() {
            format!("{first} ({})", others.join(", "))
        } else if !f.name.eq_ignore_ascii_case(first) {
            format!("{first} ({})", f.name)
        } else {
            first.to_string()
        }
    };
    FORMATS.iter().map(one).collect::<Vec<_>>().join(", ")
}

/// Every extension taken for an output path, in the table's order.
pub fn extensions() -> impl Iterator<Item = &'static str> {
    FORMATS.iter().flat_map(|f| f.extensions.iter().copied())
}

/// How files are recognised, as the refusal of an unknown file says it:
/// "PNG, JPEG, …, PNM; TGA by its .tga extension".
pub fn signature_list() -> String {
    let (by_name, signed): (Vec<&Format>, Vec<&Format>) = FORMATS
        .iter()
        .partition(|f| matches!(f.signature, Signature::Extension));
    let mut text = signed.iter().map(|f| f.name).collect::<Vec<_>>().join(", ");
    for f in by_name {
        let extension = f.extensions.first().copied().unwrap_or_default();
        text.push_str(&format!("; {} by its .{extension} extension", f.name));
    }
    text
}

impl Holds {
    /// Whether an image of `width` × `height` pixels of `channels`
    /// samples of `sample` is held exactly.
    pub fn admits(&self, width: usize, height: usize, channels: usize, sample: SampleType) -> bool {
        let fits = self
            .max_side
            .is_none_or(|side| width <= side && height <= side);
        let listed = self
            .pixels
            .iter()
            .any(|&(c, samples)| c == channels && samples.contains(&sample));
        let band = (1..=MOST_CHANNELS).contains(&channels) && self.bands.contains(&sample);
        fits && (listed || band)
    }
}

impl Format {
    /// Whether a file of this format whose first bytes are `head` is read
    /// a row at a time; `file` says whether it is a regular file that can
    /// be read at any offset.
    pub fn streams(&self, head: &[u8], file: bool) -> bool {
        match self.reads {
            Reads::Whole | Reads::Window(_) => false,
            Reads::Rows { streams, .. } => streams(head),
            Reads::RowsFromFile { streams, .. } => file && streams(head),
        }
    }

    /// The warning for an ICC profile an output of this format cannot
    /// keep, if there is one to drop.
    pub fn icc_warning(&self, icc: bool) -> Option<String> {
        (icc && !self.keeps_icc).then(|| super::icc_dropped(self.name))
    }
}

/// A WebP file: a RIFF container of form type `WEBP`.
fn is_webp(prefix: &[u8]) -> bool {
    prefix.len() >= 12 && prefix.starts_with(b"RIFF") && prefix[8..12] == *b"WEBP"
}

/// For formats every file of which is read a row at a time.
fn always(_: &[u8]) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_format_has_one_row_and_its_extensions_are_its_own() {
        let formats: HashSet<_> = FORMATS.iter().map(|f| f.format).collect();
        assert_eq!(formats.len(), FORMATS.len());
        let names: HashSet<_> = FORMATS.iter().map(|f| f.name).collect();
        assert_eq!(names.len(), FORMATS.len());
        let extensions: Vec<_> = extensions().collect();
        let unique: HashSet<_> = extensions.iter().collect();
        assert_eq!(unique.len(), extensions.len(), "an extension used twice");
        for f in &FORMATS {
            assert!(!f.extensions.is_empty(), "{}", f.name);
            for ext in f.extensions {
                assert_eq!(*ext, ext.to_ascii_lowercase());
                assert_eq!(by_extension(ext), Some(f.format), "{ext}");
                // Every extension is one the `image` crate knows the format by.
                assert!(f.format.extensions_str().contains(ext), "{ext}");
            }
            assert_eq!(row(f.format).name, f.name);
            assert!(!f.holds.pixels.is_empty() && !f.holds.text.is_empty());
        }
        assert_eq!(IMAGE_FORMATS.len(), FORMATS.len());
        assert_eq!(row(ImageFormat::Dds).name, "image");
    }

    #[test]
    fn signatures_tell_every_format_but_those_named_by_extension() {
        for (head, format) in [
            (
                &b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..],
                Some(ImageFormat::Png),
            ),
            (b"\xff\xd8\xff\xe0", Some(ImageFormat::Jpeg)),
            (b"II*\x00\x08\0\0\0", Some(ImageFormat::Tiff)),
            (b"MM\x00\x2B\0\x08", Some(ImageFormat::Tiff)),
            (b"BM\0\0", Some(ImageFormat::Bmp)),
            (b"RIFF\x10\0\0\0WEBPVP8 ", Some(ImageFormat::WebP)),
            (b"RIFF\x10\0\0\0WAVE", None),
            (b"GIF87a", Some(ImageFormat::Gif)),
            (b"qoif\0\0\0\x01", Some(ImageFormat::Qoi)),
            (b"\0\0\x01\0\x01\0", Some(ImageFormat::Ico)),
            (b"farbfeld\0\0", Some(ImageFormat::Farbfeld)),
            (b"#?RADIANCE\n", Some(ImageFormat::Hdr)),
            (b"\x76\x2f\x31\x01\x02\0\0\0", Some(ImageFormat::OpenExr)),
            (b"P6\n", Some(ImageFormat::Pnm)),
            (b"P7\nWIDTH", None),
            (b"\0\0\x02\0", None),
        ] {
            assert_eq!(sniff(head), format, "{head:?}");
        }
        // Where the table and the `image` crate both know a signature, they agree.
        for f in &FORMATS {
            if let Signature::Starts(magics) = f.signature {
                // BigTIFF's (with a `+`) the `image` crate does not know.
                for magic in magics.iter().filter(|m| !m.contains(&b'+')) {
                    assert_eq!(image::guess_format(magic).ok(), Some(f.format));
                }
            }
        }
    }

    #[test]
    fn lists_are_rendered_from_the_table() {
        assert_eq!(
            names(),
            "PNG, JPEG, TIFF, BMP, WebP, GIF, TGA, QOI, ICO, farbfeld, Radiance HDR, OpenEXR, PNM"
        );
        assert_eq!(
            extension_list(),
            "png, jpg (jpeg), tiff (tif), bmp, webp, gif, tga, qoi, ico, ff (farbfeld), \
             hdr (Radiance HDR), exr (OpenEXR), pnm (pbm, pgm, ppm)"
        );
        assert_eq!(
            signature_list(),
            "PNG, JPEG, TIFF, BMP, WebP, GIF, QOI, ICO, farbfeld, Radiance HDR, OpenEXR, PNM; \
             TGA by its .tga extension"
        );
    }

    /// The row says an ICC profile is kept exactly where the encoder keeps
    /// it, whole and a row at a time.
    #[test]
    fn keeps_icc_is_what_the_encoders_do() {
        let icc = [7u8; 64];
        for f in &FORMATS {
            let &(channels, samples) = &f.holds.pixels[0];
            let sample = samples[0];
            let tensor = Tensor::from_le_bytes(
                2,
                2,
                channels,
                sample,
                vec![0; 4 * channels * sample.itemsize()],
            )
            .unwrap();
            let (_, warning) =
                super::super::encode(tensor, Some(&icc), f.format, EncodeOptions::default())
                    .unwrap_or_else(|e| panic!("{}: {e}", f.name));
            assert_eq!(warning.is_none(), f.keeps_icc, "{}", f.name);
        }
    }

    /// The format table of `doc/formats.md` says what this table says:
    /// one row a format, in this order, with its extensions, how it is
    /// found, how it is read and written, and whether it keeps a profile.
    #[test]
    fn the_documented_format_table_is_this_table() {
        let doc = include_str!("../../doc/formats.md");
        let rows: Vec<Vec<&str>> = doc
            .lines()
            .skip_while(|line| !line.starts_with("| format |"))
            .skip(2)
            .take_while(|line| line.starts_with('|'))
            .map(|line| line.trim_matches('|').split(" | ").map(str::trim).collect())
            .collect();
        let expected: Vec<Vec<String>> = FORMATS
            .iter()
            .map(|f| {
                let mut extensions: Vec<_> =
                    f.extensions.iter().map(|e| format!("`.{e}`")).collect();
                extensions.sort();
                let found = match f.signature {
                    Signature::Extension => "extension",
                    _ => "content",
                };
                let read = match f.reads {
                    Reads::Whole => "whole",
                    Reads::Window(_) => "the crop",
                    Reads::Rows { .. } => "by rows",
                    Reads::RowsFromFile { .. } => "by rows from a file",
                };
                let written = match f.writes {
                    Writes::Whole => "whole",
                    Writes::Rows(_) => "by rows",
                    Writes::RowsToFile(_) => "by rows to a file",
                };
                let icc = if f.keeps_icc { "yes" } else { "no" };
                [f.name, &extensions.join(", "), found, read, written, icc]
                    .map(String::from)
                    .to_vec()
            })
            .collect();
        let documented: Vec<Vec<String>> = rows
            .iter()
            .map(|cells| {
                let mut extensions: Vec<_> = cells[1].split(", ").collect();
                extensions.sort();
                [
                    cells[0],
                    &extensions.join(", "),
                    cells[2],
                    cells[4],
                    cells[5],
                    cells[6],
                ]
                .map(String::from)
                .to_vec()
            })
            .collect();
        assert_eq!(documented, expected);
    }

    #[test]
    fn holds_admits_the_listed_pixels_within_the_largest_side() {
        let ico = row(ImageFormat::Ico);
        assert!(ico.holds.admits(256, 256, 4, U16));
        assert!(!ico.holds.admits(257, 1, 4, U8));
        assert!(!ico.holds.admits(1, 1, 4, F32));
        let tiff = row(ImageFormat::Tiff);
        assert!(tiff.holds.admits(1, 1, 1, I16));
        assert!(tiff.holds.admits(1, 1, 2, U8));
        assert!(tiff.holds.admits(1, 1, 3, I8));
        assert!(tiff.holds.admits(1, 1, 13, U16));
        assert!(tiff.holds.admits(1, 1, MOST_CHANNELS, F64));
        assert!(!tiff.holds.admits(1, 1, MOST_CHANNELS + 1, U8));
        assert!(!tiff.holds.admits(1, 1, 0, U8));
    }
}
