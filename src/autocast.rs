//! Keras' autocast: the dtype a layer's output has, and the conversion to
//! it, as NumPy's `astype` converts.
//!
//! A Keras 3 layer casts a floating input to the dtype it computes in (the
//! dtype policy's compute dtype: `float32` unless the layer's config says
//! otherwise) and leaves every other input as it is; `CenterCrop` casts every
//! input, integers too. An image reaches a layer as `img_to_array` gives it,
//! in `float32`, so an image's samples always end in the compute dtype.

use std::io::{self, Write};

use crate::layer::LayerKeys;
use crate::npy::{Dtype, Literal};
use crate::tensor::{SampleType, Tensor};

/// The floating dtype a layer computes in, as its `.npy` type string says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compute {
    F16,
    F32,
    F64,
}

/// Why a layer's output dtype cannot be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CastError {
    #[error(
        "--autocast: the layer's dtype policy `{0}` computes in a dtype rcrop does not cast to; expected float16, float32, float64 or their mixed policies"
    )]
    Policy(String),
    #[error(
        "--autocast: CenterCrop casts its input to {to}, and an array of dtype {from} has no such cast"
    )]
    Uncastable { from: String, to: &'static str },
}

impl Compute {
    /// The compute dtype of the dtype policy named `policy`.
    pub fn of_policy(policy: &str) -> Result<Compute, CastError> {
        match policy {
            "float16" | "mixed_float16" => Ok(Compute::F16),
            "float32" => Ok(Compute::F32),
            "float64" => Ok(Compute::F64),
            other => Err(CastError::Policy(other.to_owned())),
        }
    }

    /// Its NumPy name.
    pub fn name(self) -> &'static str {
        match self {
            Compute::F16 => "float16",
            Compute::F32 => "float32",
            Compute::F64 => "float64",
        }
    }

    /// The type string `numpy.save` writes for it.
    pub fn descr(self) -> &'static str {
        match self {
            Compute::F16 => "<f2",
            Compute::F32 => "<f4",
            Compute::F64 => "<f8",
        }
    }

    /// It as a `.npy` header's dtype.
    pub fn dtype(self) -> Dtype {
        Dtype::from_descr(Literal::Str(self.descr().into()))
            .expect("a float's type string is a valid dtype")
    }

    /// It as an image's sample type.
    pub fn sample(self) -> SampleType {
        match self {
            Compute::F16 => SampleType::F16,
            Compute::F32 => SampleType::F32,
            Compute::F64 => SampleType::F64,
        }
    }

    fn scalar(self) -> Scalar {
        let size = match self {
            Compute::F16 => 2,
            Compute::F32 => 4,
            Compute::F64 => 8,
        };
        Scalar {
            kind: Kind::Float,
            size,
            big_endian: false,
        }
    }
}

/// The dtype outputs take when `autocast` is asked for: the compute dtype
/// of the layer config's dtype policy (`keys`), else `float32`.
pub(crate) fn compute(
    autocast: bool,
    keys: Option<&LayerKeys>,
) -> Result<Option<Compute>, CastError> {
    if !autocast {
        return Ok(None);
    }
    Compute::of_policy(keys.map_or("float32", |keys| keys.dtype.as_str())).map(Some)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Uint,
    Float,
}

/// A numeric scalar dtype, as a `.npy` type string describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Scalar {
    kind: Kind,
    size: usize,
    big_endian: bool,
}

impl Scalar {
    /// `None` for every dtype that is not a boolean, integer or float.
    fn from_type_str(s: &str) -> Option<Scalar> {
        let mut chars = s.chars();
        let order = chars.next()?;
        let kind = match chars.next()? {
            'b' => Kind::Bool,
            'i' => Kind::Int,
            'u' => Kind::Uint,
            'f' => Kind::Float,
            _ => return None,
        };
        let size: usize = chars.as_str().parse().ok()?;
        let known = match kind {
            Kind::Bool => size == 1,
            Kind::Int | Kind::Uint => matches!(size, 1 | 2 | 4 | 8),
            Kind::Float => matches!(size, 2 | 4 | 8),
        };
        let big_endian = match order {
            '>' => size > 1,
            '<' | '|' | '=' => false,
            _ => return None,
        };
        known.then_some(Scalar {
            kind,
            size,
            big_endian,
        })
    }
}

/// A conversion of every sample from one dtype to the compute dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cast {
    from: Scalar,
    to: Compute,
}

/// What a layer does to an input of dtype `type_str` (`None` for a record
/// or other dtype without one): `None` when it leaves it as it is.
/// `center_crop` casts everything; the cropping layers cast floats only.
pub fn array_cast(
    type_str: Option<&str>,
    to: Compute,
    center_crop: bool,
) -> Result<Option<Cast>, CastError> {
    let from = type_str.and_then(Scalar::from_type_str);
    let same = |from: Scalar| from.kind == Kind::Float && from.size == to.scalar().size;
    match from {
        Some(from) if center_crop && from == to.scalar() => Ok(None),
        Some(from) if center_crop => Ok(Some(Cast { from, to })),
        // Keras compares dtypes by name: a big-endian float of the compute
        // dtype's width is left as it is.
        Some(from) if from.kind == Kind::Float && !same(from) => Ok(Some(Cast { from, to })),
        _ if !center_crop => Ok(None),
        _ => Err(CastError::Uncastable {
            from: type_str.unwrap_or("a record").to_owned(),
            to: to.name(),
        }),
    }
}

/// The cast of an image's samples (of `type_str`) to `to`: images reach a
/// layer as `float32` arrays, which the layer casts on as it casts floats.
pub fn image_cast(type_str: &str, to: Compute) -> Option<Cast> {
    let from = Scalar::from_type_str(type_str)?;
    (from != to.scalar()).then_some(Cast { from, to })
}

impl Cast {
    /// The bytes of one sample before and after.
    pub fn sizes(&self) -> (usize, usize) {
        (self.from.size, self.to.scalar().size)
    }

    /// The dtype written.
    pub fn to(&self) -> Compute {
        self.to
    }

    /// Appends the samples of `input` (whole samples) converted to `out`.
    pub fn convert(&self, input: &[u8], out: &mut Vec<u8>) {
        let (size, out_size) = self.sizes();
        out.reserve(input.len() / size * out_size);
        let big_endian = self.from.big_endian;
        let samples = input.chunks_exact(size).map(|sample| {
            let mut bytes = [0u8; 8];
            bytes[..size].copy_from_slice(sample);
            if big_endian {
                bytes[..size].reverse();
            }
            u64::from_le_bytes(bytes)
        });
        match self.to {
            Compute::F16 => samples.for_each(|b| out.extend(self.as_f16(b).to_le_bytes())),
            Compute::F32 => samples.for_each(|b| out.extend(self.as_f32(b).to_le_bytes())),
            Compute::F64 => samples.for_each(|b| out.extend(self.as_f64(b).to_le_bytes())),
        }
    }

    /// Each conversion rounds once, to nearest even, as NumPy's does.
    fn as_f32(&self, bits: u64) -> f32 {
        match (self.from.kind, self.from.size) {
            (Kind::Float, 2) => half::f16::from_bits(bits as u16).to_f32(),
            (Kind::Float, 4) => f32::from_bits(bits as u32),
            (Kind::Float, _) => f64::from_bits(bits) as f32,
            (Kind::Int, size) => signed(bits, size) as f32,
            (Kind::Uint | Kind::Bool, _) => bits as f32,
        }
    }

    fn as_f64(&self, bits: u64) -> f64 {
        match (self.from.kind, self.from.size) {
            (Kind::Float, 2) => half::f16::from_bits(bits as u16).to_f64(),
            (Kind::Float, 4) => f64::from(f32::from_bits(bits as u32)),
            (Kind::Float, _) => f64::from_bits(bits),
            (Kind::Int, size) => signed(bits, size) as f64,
            (Kind::Uint | Kind::Bool, _) => bits as f64,
        }
    }

    fn as_f16(&self, bits: u64) -> u16 {
        let half = match (self.from.kind, self.from.size) {
            (Kind::Float, 2) => half::f16::from_bits(bits as u16),
            (Kind::Float, 4) => half::f16::from_f32(f32::from_bits(bits as u32)),
            // Every integer NumPy has is exact in a float64 up to 2^53, and
            // one past float16's range either way.
            _ => half::f16::from_f64(self.as_f64(bits)),
        };
        half.to_bits()
    }
}

/// An image's samples as a `.npy` output holds them with autocast to `to`
/// (`None` for no autocast).
pub(crate) fn image_for_npy(tensor: Tensor, to: Option<Compute>) -> Tensor {
    match to.and_then(|to| image_cast(tensor.sample_type().descr(), to)) {
        Some(cast) => cast_tensor(tensor, cast),
        None => tensor,
    }
}

/// An image's samples cast as `cast` says.
fn cast_tensor(tensor: Tensor, cast: Cast) -> Tensor {
    let (height, width, channels) = (tensor.height(), tensor.width(), tensor.channels());
    let mut data = Vec::new();
    cast.convert(tensor.as_le_bytes(), &mut data);
    Tensor::from_le_bytes(height, width, channels, cast.to.sample(), data)
        .expect("a cast keeps every sample")
}

/// The `size`-byte two's-complement integer in the low bytes of `bits`.
fn signed(bits: u64, size: usize) -> i64 {
    let shift = 64 - 8 * size as u32;
    ((bits << shift) as i64) >> shift
}

/// A writer that casts the samples written through it on their way.
pub struct CastWriter<W: Write> {
    inner: W,
    cast: Cast,
    /// The bytes of a sample split between two writes.
    carry: Vec<u8>,
    buf: Vec<u8>,
}

impl<W: Write> CastWriter<W> {
    pub fn new(inner: W, cast: Cast) -> Self {
        CastWriter {
            inner,
            cast,
            carry: Vec::new(),
            buf: Vec::new(),
        }
    }
}

impl<W: Write> Write for CastWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let size = self.cast.from.size;
        self.buf.clear();
        let mut rest = data;
        if !self.carry.is_empty() {
            let take = (size - self.carry.len()).min(rest.len());
            self.carry.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.carry.len() == size {
                self.cast.convert(&self.carry, &mut self.buf);
                self.carry.clear();
            }
        }
        let whole = rest.len() / size * size;
        self.cast.convert(&rest[..whole], &mut self.buf);
        self.carry.extend_from_slice(&rest[whole..]);
        self.inner.write_all(&self.buf)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cast(from: &str, to: Compute, input: &[u8]) -> Vec<u8> {
        let cast = array_cast(Some(from), to, true).unwrap().unwrap();
        let mut out = Vec::new();
        cast.convert(input, &mut out);
        out
    }

    #[test]
    fn floats_round_to_nearest_even_once() {
        // 1 + 2^-24 is halfway between two float32s: it rounds to even.
        let x = 1.0f64 + 2f64.powi(-24);
        assert_eq!(
            cast("<f8", Compute::F32, &x.to_le_bytes()),
            1.0f32.to_le_bytes()
        );
        let big = (2f64.powi(60) + 1.0).to_be_bytes();
        assert_eq!(cast(">f8", Compute::F32, &big), 2f32.powi(60).to_le_bytes());
        // 2049 is halfway between the float16s 2048 and 2050.
        assert_eq!(
            cast("<i4", Compute::F16, &2049i32.to_le_bytes()),
            0x6800u16.to_le_bytes()
        );
        assert_eq!(
            cast("<f2", Compute::F64, &0x3c00u16.to_le_bytes()),
            1f64.to_le_bytes()
        );
    }

    #[test]
    fn integers_keep_their_sign_and_value() {
        assert_eq!(cast("|i1", Compute::F32, &[0xff]), (-1f32).to_le_bytes());
        assert_eq!(cast("|u1", Compute::F32, &[0xff]), 255f32.to_le_bytes());
        assert_eq!(cast("|b1", Compute::F32, &[1]), 1f32.to_le_bytes());
        let max = u64::MAX.to_le_bytes();
        assert_eq!(cast("<u8", Compute::F32, &max), 2f32.powi(64).to_le_bytes());
        let min = i64::MIN.to_be_bytes();
        assert_eq!(
            cast(">i8", Compute::F64, &min),
            (-(2f64.powi(63))).to_le_bytes()
        );
    }

    #[test]
    fn the_cropping_layers_cast_floats_only() {
        let f32 = Compute::F32;
        assert_eq!(array_cast(Some("<i4"), f32, false), Ok(None));
        assert_eq!(array_cast(Some("<c8"), f32, false), Ok(None));
        assert_eq!(array_cast(None, f32, false), Ok(None));
        assert_eq!(array_cast(Some("<f4"), f32, false), Ok(None));
        assert_eq!(array_cast(Some(">f4"), f32, false), Ok(None));
        assert!(array_cast(Some("<f8"), f32, false).unwrap().is_some());
        assert!(
            array_cast(Some("<f4"), Compute::F16, false)
                .unwrap()
                .is_some()
        );
        assert!(array_cast(Some("<i4"), f32, true).unwrap().is_some());
        assert!(array_cast(Some(">f4"), f32, true).unwrap().is_some());
        let refused = array_cast(Some("<c8"), f32, true).unwrap_err().to_string();
        assert!(refused.contains("dtype <c8 has no such cast"), "{refused}");
        assert!(Compute::of_policy("uint8").is_err());
        assert_eq!(Compute::of_policy("mixed_float16"), Ok(Compute::F16));
    }

    #[test]
    fn a_sample_split_between_writes_is_cast_whole() {
        let cast = array_cast(Some("<f8"), Compute::F32, false)
            .unwrap()
            .unwrap();
        let data: Vec<u8> = [1.5f64, -2.25, 3.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let mut writer = CastWriter::new(Vec::new(), cast);
        for piece in data.chunks(5) {
            writer.write_all(piece).unwrap();
        }
        let expected: Vec<u8> = [1.5f32, -2.25, 3.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(writer.inner, expected);
    }
}
