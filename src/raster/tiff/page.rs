//! What the first page holds, from its tags, and how its samples become a
//! tensor's: every sample as stored, in the smallest NumPy type that holds
//! its bits, but where a color model is converted (palettes, CMYK, JPEG's
//! YCbCr) or 1-, 2- and 4-bit gray is scaled to 0–255.

use std::io::{Read, Seek};

use tiff::decoder::{Decoder, Limits};
use tiff::tags::{PlanarConfiguration, SampleFormat, Tag};

use super::read::{decode_error, refuse};
use crate::raster::RasterError;
use crate::tensor::SampleType;

/// PhotometricInterpretation WhiteIsZero, BlackIsZero, RGB, RGB Palette,
/// Separated (CMYK) and YCbCr.
pub(super) const WHITE_IS_ZERO: u16 = 0;
pub(super) const BLACK_IS_ZERO: u16 = 1;
const RGB: u16 = 2;
pub(super) const PALETTE: u16 = 3;
const SEPARATED: u16 = 5;
pub(super) const YCBCR: u16 = 6;
/// Compression "new-style" JPEG.
pub(super) const JPEG: u16 = 7;

/// What the first page holds and how it becomes a tensor.
pub(super) struct Page {
    pub width: usize,
    pub height: usize,
    /// Samples per pixel in the file.
    pub samples: usize,
    /// Bits of each sample in the file.
    pub bits: u8,
    pub planar: bool,
    pub photometric: u16,
    pub compression: u16,
    /// The type a sample of the file is unpacked to, as stored.
    pub stored: SampleType,
    /// Channels of the tensor and the type of its samples.
    pub channels: usize,
    pub sample: SampleType,
    pub convert: Convert,
}

/// How stored samples become tensor samples.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Convert {
    /// As they are.
    None,
    /// 1-, 2- or 4-bit gray, scaled to 0–255 as PNG's are.
    ScaleGray,
    /// Palette indices looked up in the color map.
    Palette,
    /// 8-bit CMYK to RGB, as Keras' `load_img` gives it.
    Cmyk,
    /// 8-bit YCbCr without JPEG, in blocks of luma sharing their chroma,
    /// to RGB as libtiff's RGBA interface converts it.
    YCbCr,
}

impl Page {
    pub fn read<R: Read + Seek>(decoder: &mut Decoder<R>) -> Result<Self, RasterError> {
        let (width, height) = decoder.dimensions().map_err(decode_error)?;
        let mut unsigned = |tag: Tag, default: u16| {
            decoder
                .find_tag_unsigned::<u16>(tag)
                .map(|v| v.unwrap_or(default))
                .map_err(decode_error)
        };
        let photometric = unsigned(Tag::PhotometricInterpretation, BLACK_IS_ZERO)?;
        let compression = unsigned(Tag::Compression, 1)?;
        let samples = usize::from(unsigned(Tag::SamplesPerPixel, 1)?);
        let planar = unsigned(Tag::PlanarConfiguration, 1)? == PlanarConfiguration::Planar.to_u16()
            && samples > 1;
        let all_one = |values: Option<Vec<u16>>, what: &str| match values.as_deref() {
            None | Some([]) => Ok(None),
            Some([first, rest @ ..]) if rest.iter().all(|v| v == first) => Ok(Some(*first)),
            Some(v) => Err(refuse(format!(
                "{what} differs between samples ({v:?}); rcrop reads one {what} for all"
            ))),
        };
        let vec = |decoder: &mut Decoder<R>, tag| {
            decoder
                .find_tag_unsigned_vec::<u16>(tag)
                .map_err(decode_error)
        };
        let bits = all_one(vec(decoder, Tag::BitsPerSample)?, "BitsPerSample")?.unwrap_or(1);
        let format = all_one(vec(decoder, Tag::SampleFormat)?, "SampleFormat")?
            .map_or(SampleFormat::Uint, SampleFormat::from_u16_exhaustive);
        let bits = u8::try_from(bits)
            .ok()
            .filter(|b| (1..=64).contains(b))
            .ok_or_else(|| refuse(format!("{bits}-bit samples are not read")))?;
        let stored = stored_type(bits, format)?;
        let refused = |what: String| Err(refuse(format!("{what} is not read")));
        let (channels, sample, convert) = match photometric {
            PALETTE if samples == 1 && bits <= 16 => (3, SampleType::U8, Convert::Palette),
            PALETTE => {
                return refused(format!(
                    "a palette of {samples} {bits}-bit samples per pixel"
                ));
            }
            SEPARATED if samples == 4 && stored == SampleType::U8 && bits == 8 => {
                (3, SampleType::U8, Convert::Cmyk)
            }
            SEPARATED => return refused(format!("CMYK of {samples} {bits}-bit samples")),
            // libjpeg-turbo converts it to RGB as it decodes.
            YCBCR if compression == JPEG && samples == 3 => (3, SampleType::U8, Convert::None),
            YCBCR if samples == 3 && bits == 8 && !planar => (3, SampleType::U8, Convert::YCbCr),
            YCBCR => {
                return refused(format!(
                    "YCbCr of {samples} {bits}-bit samples{}",
                    if planar { " in separate planes" } else { "" }
                ));
            }
            WHITE_IS_ZERO | BLACK_IS_ZERO if samples == 1 && matches!(bits, 1 | 2 | 4) => {
                (1, SampleType::U8, Convert::ScaleGray)
            }
            WHITE_IS_ZERO | BLACK_IS_ZERO | RGB => (samples, stored, Convert::None),
            other => return refused(format!("PhotometricInterpretation {other}")),
        };
        if compression == JPEG && (bits != 8 || format != SampleFormat::Uint) {
            return refused(format!("JPEG compression of {bits}-bit {format:?} samples"));
        }
        if format != SampleFormat::Uint && convert != Convert::None {
            return refused(format!(
                "{format:?} samples with PhotometricInterpretation {photometric}"
            ));
        }
        Ok(Self {
            width: width as usize,
            height: height as usize,
            samples,
            bits,
            planar,
            photometric,
            compression,
            stored,
            channels,
            sample,
            convert,
        })
    }

    pub fn decoded_len(&self) -> u64 {
        (self.width as u64) * (self.height as u64) * (self.channels * self.sample.itemsize()) as u64
    }

    /// Samples of a pixel in one strip or tile: one when the planes are
    /// separate.
    pub fn in_chunk(&self) -> usize {
        if self.planar { 1 } else { self.samples }
    }

    /// Whether the `tiff` crate gives the samples each in bytes of its own
    /// (8, 16, 32 or 64 bits); else they come packed from the high bit
    /// down, rows ending on a byte boundary.
    pub fn whole_bytes(&self) -> bool {
        matches!(self.bits, 8 | 16 | 32 | 64)
    }

    /// Bytes of one row of `width` pixels of a decoded strip or tile.
    pub fn row_bytes(&self, width: usize) -> usize {
        (width * usize::from(self.bits) * self.in_chunk()).div_ceil(8)
    }

    /// Bytes of one pixel as stored, every sample unpacked.
    pub fn stored_pixel(&self) -> usize {
        self.samples * self.stored.itemsize()
    }
}

/// The smallest sample type holding `bits`-bit samples of `format`.
fn stored_type(bits: u8, format: SampleFormat) -> Result<SampleType, RasterError> {
    Ok(match (format, bits) {
        (SampleFormat::Uint, 1..=8) => SampleType::U8,
        (SampleFormat::Uint, 9..=16) => SampleType::U16,
        (SampleFormat::Uint, 17..=32) => SampleType::U32,
        (SampleFormat::Uint, 33..=64) => SampleType::U64,
        (SampleFormat::Int, 1..=8) => SampleType::I8,
        (SampleFormat::Int, 9..=16) => SampleType::I16,
        (SampleFormat::Int, 17..=32) => SampleType::I32,
        (SampleFormat::Int, 33..=64) => SampleType::I64,
        (SampleFormat::IEEEFP, 16) => SampleType::F16,
        (SampleFormat::IEEEFP, 32) => SampleType::F32,
        (SampleFormat::IEEEFP, 64) => SampleType::F64,
        (format, bits) => {
            return Err(refuse(format!(
                "{bits}-bit samples of format {format:?} are not read; rcrop reads integers of 1 \
                 to 64 bits and 16-, 32- and 64-bit floats"
            )));
        }
    })
}

/// The `tiff` crate's limits: no buffer larger than `limit` bytes.
pub(super) fn limits(limit: u64) -> Limits {
    let mut limits = Limits::default();
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    limits.decoding_buffer_size = limit;
    limits.intermediate_buffer_size = limit;
    limits
}
