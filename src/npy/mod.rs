//! The `.npy` format: the header ([`Header`], its [`Version`] and [`Dtype`]),
//! the rules for the data that follows it ([`Data`]), and the crop of that
//! data in one pass ([`stream`]) or into the other memory order ([`reorder`]).

mod data;
mod dtype;
mod literal;
pub mod mapped;
pub mod reorder;
#[cfg(target_os = "linux")]
pub mod spliced;
pub mod stream;

use std::io::Read;
use std::ops::Range;

pub use data::Data;
pub use literal::Literal;
use reorder::{Order, ReorderPlan};
use stream::StreamPlan;

/// The six bytes every `.npy` file starts with.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The longest header `numpy.load` reads by default (`max_header_size`).
pub const MAX_HEADER_CHARS: usize = 10_000;

/// NumPy pads the header so the data starts on a multiple of this.
const ARRAY_ALIGN: usize = 64;

/// NumPy leaves room for the growth axis to reach this many digits.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// What can be wrong with a `.npy` file.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    #[error("not a .npy file: it starts with {found}, expected the magic string \\x93NUMPY")]
    Magic { found: String },
    #[error("unsupported .npy format version {0}.{1}; expected 1.0, 2.0 or 3.0")]
    Version(u8, u8),
    #[error("the file ends inside the .npy header ({0})")]
    TruncatedHeader(&'static str),
    #[error(
        "the .npy header is {0} characters long; numpy.load refuses headers over \
         {MAX_HEADER_CHARS} characters (max_header_size), and so does rcrop"
    )]
    HeaderTooLong(usize),
    #[error("the .npy header is not valid {0}")]
    Encoding(&'static str),
    #[error("cannot parse the .npy header: {0}")]
    Syntax(String),
    #[error(
        "the .npy header is {0}; expected a dict with the keys 'descr', 'fortran_order' and 'shape'"
    )]
    Keys(String),
    #[error("the .npy header's shape is {0}; expected a tuple of non-negative integers")]
    Shape(String),
    #[error("the .npy header's fortran_order is {0}; expected True or False")]
    FortranOrder(String),
    #[error("the .npy dtype {descr} is not supported: {reason}")]
    Dtype { descr: String, reason: String },
    #[error(
        "the .npy dtype {0} holds Python objects (a pickle); only fixed-size dtypes can be \
         cropped, and rcrop never unpickles"
    )]
    Object(String),
    #[error("shape {shape} of {descr} claims more bytes than a 64-bit size can hold")]
    TooLarge { shape: String, descr: String },
    #[error(
        "the header claims shape {shape} of {descr}, which is {expected} bytes of data, \
         but the file holds {found} bytes after the header"
    )]
    DataLength {
        shape: String,
        descr: String,
        expected: u64,
        found: u64,
    },
    #[error("the data ends after {found} bytes; the header promised {expected} bytes")]
    ShortData { expected: u64, found: u64 },
    #[error(
        "more bytes follow the {expected} bytes of data the header promised; expected the end of the file"
    )]
    TrailingData { expected: u64 },
}

/// A `.npy` format version: what differs is the size of the header-length
/// field and the header's text encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
    V3,
}

impl Version {
    fn from_bytes(major: u8, minor: u8) -> Result<Self, NpyError> {
        match (major, minor) {
            (1, 0) => Ok(Version::V1),
            (2, 0) => Ok(Version::V2),
            (3, 0) => Ok(Version::V3),
            _ => Err(NpyError::Version(major, minor)),
        }
    }

    fn major(self) -> u8 {
        match self {
            Version::V1 => 1,
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }

    /// Bytes of the little-endian header-length field.
    fn length_bytes(self) -> usize {
        match self {
            Version::V1 => 2,
            Version::V2 | Version::V3 => 4,
        }
    }

    /// Versions 1.0 and 2.0 are Latin-1; 3.0 is UTF-8.
    fn is_utf8(self) -> bool {
        self == Version::V3
    }
}

/// A fixed-size NumPy dtype, read from any spelling `numpy.load` accepts,
/// with the description `numpy.save` writes for it and its size in bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dtype {
    model: dtype::Model,
    descr: Literal,
    itemsize: usize,
}

impl Dtype {
    /// Reads a header's `descr` as `numpy.load` does: a type string such as
    /// `'<f4'`, `'f4'` or `'float32'`, a list of fields for a record, or a
    /// `(dtype, shape)` tuple. Object dtypes are refused.
    pub fn from_descr(descr: Literal) -> Result<Self, NpyError> {
        let model = dtype::Model::from_descr(&descr).map_err(|e| match e {
            dtype::DescrError::Object => NpyError::Object(descr.to_string()),
            dtype::DescrError::Invalid(reason) => NpyError::Dtype {
                descr: descr.to_string(),
                reason,
            },
        })?;
        Ok(Self {
            descr: model.descr(),
            itemsize: model.itemsize(),
            model,
        })
    }

    /// Bytes per element.
    pub fn itemsize(&self) -> usize {
        self.itemsize
    }

    /// The description as `numpy.save` writes it, e.g. `'<f4'` or
    /// `[('a', '|u1'), ('', '|V3'), ('b', '<i4')]`.
    pub fn descr(&self) -> &Literal {
        &self.descr
    }

    /// The type string of a plain (non-structured) dtype, e.g. `<u2`.
    pub fn type_str(&self) -> Option<String> {
        self.model.type_str()
    }
}

/// A parsed `.npy` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub dtype: Dtype,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
}

impl Header {
    /// Reads the header from the start of a `.npy` stream, leaving the reader
    /// at the first byte of data. Returns the header and its length in bytes.
    /// Never allocates more than the largest header NumPy itself would read.
    pub fn read(reader: &mut impl Read) -> Result<(Self, u64), ReadError> {
        let mut prefix = [0u8; 8];
        read_header_bytes(reader, &mut prefix, "magic string and version")?;
        if &prefix[..6] != MAGIC {
            return Err(NpyError::Magic {
                found: escape_bytes(&prefix),
            }
            .into());
        }
        let version = Version::from_bytes(prefix[6], prefix[7])?;
        let mut len_bytes = [0u8; 4];
        let len_field = &mut len_bytes[..version.length_bytes()];
        read_header_bytes(reader, len_field, "header length")?;
        let len = u32::from_le_bytes(len_bytes) as usize;
        // A UTF-8 character is at most 4 bytes: past this, it is too long for sure.
        let limit = if version.is_utf8() {
            4 * MAX_HEADER_CHARS
        } else {
            MAX_HEADER_CHARS
        };
        if len > limit {
            return Err(NpyError::HeaderTooLong(len).into());
        }
        let mut raw = vec![0u8; len];
        read_header_bytes(reader, &mut raw, "header text")?;
        let text = if version.is_utf8() {
            String::from_utf8(raw).map_err(|_| NpyError::Encoding("UTF-8"))?
        } else {
            raw.iter().map(|&b| char::from(b)).collect()
        };
        let chars = text.chars().count();
        if chars > MAX_HEADER_CHARS {
            return Err(NpyError::HeaderTooLong(chars).into());
        }
        let header = Self::from_literal_text(&text, !version.is_utf8())?;
        Ok((header, (8 + version.length_bytes() + len) as u64))
    }

    /// Reads the header dict itself, checking its keys and values as
    /// `numpy.load` does for format versions 1.0 and 2.0.
    pub fn from_text(text: &str) -> Result<Self, NpyError> {
        Self::from_literal_text(text, true)
    }

    /// Reads the header dict; Python 2's long integers (`3L`) are read only
    /// in versions 1.0 and 2.0, which Python 2 wrote.
    fn from_literal_text(text: &str, longs: bool) -> Result<Self, NpyError> {
        let parse = if longs {
            literal::parse_with_longs
        } else {
            literal::parse
        };
        let dict = parse(text).map_err(NpyError::Syntax)?;
        let Literal::Dict(entries) = &dict else {
            return Err(NpyError::Keys(dict.to_string()));
        };
        // As in a Python dict, a key given twice takes its last value; the
        // keys must be these three and no other.
        let get = |key: &str| {
            entries
                .iter()
                .rev()
                .find(|(k, _)| *k == Literal::Str(key.into()))
                .map(|(_, v)| v)
        };
        let known = ["descr", "fortran_order", "shape"];
        let only_known = entries
            .iter()
            .all(|(k, _)| matches!(k, Literal::Str(k) if known.contains(&k.as_str())));
        let (Some(descr), Some(order), Some(shape), true) =
            (get("descr"), get("fortran_order"), get("shape"), only_known)
        else {
            return Err(NpyError::Keys(dict.to_string()));
        };
        let fortran_order = match order {
            Literal::Bool(b) => *b,
            other => return Err(NpyError::FortranOrder(other.to_string())),
        };
        let bad_shape = || NpyError::Shape(shape.to_string());
        let Literal::Tuple(dims) = shape else {
            return Err(bad_shape());
        };
        let shape = dims
            .iter()
            .map(|d| match d {
                Literal::Int(n) => usize::try_from(*n).map_err(|_| bad_shape()),
                _ => Err(bad_shape()),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            dtype: Dtype::from_descr(descr.clone())?,
            fortran_order,
            shape,
        })
    }

    /// The header of the cropped array and the plan that crops the data,
    /// given the index range kept along each axis: the same dtype; the same
    /// order, except that an output NumPy would see as C-contiguous (at most
    /// one dimension above 1) is written in C order, as `numpy.save` writes it.
    pub fn cropped(&self, kept: &[Range<usize>]) -> Result<(Header, StreamPlan), NpyError> {
        self.data_len()?;
        let plan = StreamPlan::new(&self.shape, kept, self.dtype.itemsize, self.fortran_order);
        let header = self.cropped_header(kept, Order::Keep);
        Ok((header, plan))
    }

    /// The header of the cropped array written in `order`, and the plan that
    /// crops the data: one sequential pass when the output keeps the input's
    /// order (or both orders give the same bytes), else a reordering pass
    /// that reads the input at any offset.
    pub fn cropped_in(
        &self,
        kept: &[Range<usize>],
        order: Order,
    ) -> Result<(Header, CropPlan), NpyError> {
        self.data_len()?;
        let header = self.cropped_header(kept, order);
        let c_contiguous =
            header.shape.contains(&0) || header.shape.iter().filter(|&&d| d > 1).count() <= 1;
        let plan = if c_contiguous || header.fortran_order == self.fortran_order {
            CropPlan::Stream(StreamPlan::new(
                &self.shape,
                kept,
                self.dtype.itemsize,
                self.fortran_order,
            ))
        } else {
            CropPlan::Reorder(ReorderPlan::new(
                &self.shape,
                kept,
                self.dtype.itemsize,
                self.fortran_order,
            ))
        };
        Ok((header, plan))
    }

    fn cropped_header(&self, kept: &[Range<usize>], order: Order) -> Header {
        let kept = clamp_kept(&self.shape, kept);
        Header {
            dtype: self.dtype.clone(),
            fortran_order: reorder::writes_fortran(order, self.fortran_order, &self.shape, &kept),
            shape: kept.iter().map(|r| r.len()).collect(),
        }
    }

    /// Fails unless `found` bytes follow the header, as many as it promises.
    pub fn check_data_len(&self, found: u64) -> Result<(), NpyError> {
        let expected = self.data_len()?;
        if found == expected {
            return Ok(());
        }
        Err(NpyError::DataLength {
            shape: self.shape_repr(),
            descr: self.dtype.descr.to_string(),
            expected,
            found,
        })
    }

    /// The shape as Python prints it, e.g. `(2, 3, 4, 5)`.
    pub fn shape_repr(&self) -> String {
        shape_literal(&self.shape).to_string()
    }

    /// The number of data bytes the header promises, if it fits in 64 bits.
    pub fn data_len(&self) -> Result<u64, NpyError> {
        byte_len(self.dtype.itemsize, &self.shape).ok_or_else(|| NpyError::TooLarge {
            shape: self.shape_repr(),
            descr: self.dtype.descr.to_string(),
        })
    }

    /// The header as `numpy.save` writes it: the same dict text, padding,
    /// alignment and the oldest version that can hold it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let order = if self.fortran_order { "True" } else { "False" };
        let mut text = format!(
            "{{'descr': {}, 'fortran_order': {order}, 'shape': {}, }}",
            self.dtype.descr,
            self.shape_repr()
        );
        let growth_axis = if self.fortran_order {
            self.shape.last()
        } else {
            self.shape.first()
        };
        if let Some(dim) = growth_axis {
            let digits = dim.to_string().len();
            text.extend(std::iter::repeat_n(
                ' ',
                GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits),
            ));
        }
        let latin1: Option<Vec<u8>> = text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect();
        match latin1 {
            Some(bytes) => {
                wrap(&bytes, Version::V1).unwrap_or_else(|| wrap_v2(&bytes, Version::V2))
            }
            None => wrap_v2(text.as_bytes(), Version::V3),
        }
    }
}

/// How the data of a cropped array is produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CropPlan {
    /// In the input's order, in one sequential pass ([`stream::crop`]).
    Stream(StreamPlan),
    /// In the other order, reading the input at any offset
    /// ([`reorder::crop_reordered`]).
    Reorder(ReorderPlan),
}

/// Bytes of `dims` elements of `itemsize` bytes, if it fits in 64 bits: zero
/// whenever any factor is, whatever the others, as NumPy counts it.
pub fn byte_len(itemsize: usize, dims: &[usize]) -> Option<u64> {
    if itemsize == 0 || dims.contains(&0) {
        return Some(0);
    }
    dims.iter()
        .try_fold(itemsize as u64, |acc, &d| acc.checked_mul(d as u64))
}

/// The header is read from the file; what went wrong is either the file's
/// bytes or the reading itself.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
}

fn read_header_bytes(
    reader: &mut impl Read,
    buf: &mut [u8],
    part: &'static str,
) -> Result<(), ReadError> {
    reader.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => ReadError::Npy(NpyError::TruncatedHeader(part)),
        _ => ReadError::Io(e),
    })
}

fn shape_literal(shape: &[usize]) -> Literal {
    Literal::Tuple(shape.iter().map(|&d| Literal::Int(d as i128)).collect())
}

/// Magic, version, length field, the header text, spaces and a newline so
/// that the data starts on a 64-byte boundary; `None` if the length does not fit.
fn wrap(text: &[u8], version: Version) -> Option<Vec<u8>> {
    let len_bytes = version.length_bytes();
    let hlen = text.len() + 1;
    let padlen = ARRAY_ALIGN - (MAGIC.len() + 2 + len_bytes + hlen) % ARRAY_ALIGN;
    let total = hlen + padlen;
    let mut out = Vec::with_capacity(MAGIC.len() + 2 + len_bytes + total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[version.major(), 0]);
    match version {
        Version::V1 => out.extend_from_slice(&u16::try_from(total).ok()?.to_le_bytes()),
        Version::V2 | Version::V3 => {
            out.extend_from_slice(&u32::try_from(total).ok()?.to_le_bytes())
        }
    }
    out.extend_from_slice(text);
    out.extend(std::iter::repeat_n(b' ', padlen));
    out.push(b'\n');
    Some(out)
}

/// A header under [`MAX_HEADER_CHARS`] always fits a 32-bit length.
fn wrap_v2(text: &[u8], version: Version) -> Vec<u8> {
    wrap(text, version).unwrap_or_default()
}

/// Shows the first bytes of a file that is not `.npy`, printable as is, the rest escaped.
fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    out.extend(bytes.iter().flat_map(|b| b.escape_ascii()).map(char::from));
    out.push('"');
    out
}

/// `kept` made to fit `dims`: an axis with no range, or a range reaching
/// past its axis, keeps what there is.
fn clamp_kept(dims: &[usize], kept: &[Range<usize>]) -> Vec<Range<usize>> {
    dims.iter()
        .enumerate()
        .map(|(axis, &d)| match kept.get(axis) {
            Some(r) => r.start.min(d)..r.end.clamp(r.start.min(d), d),
            None => 0..d,
        })
        .collect()
}

/// What a crop keeps of an array, as its data is stored: the axes and the
/// range kept along each, outermost first (Fortran-ordered data is stored
/// with its axes reversed), and the bytes of one element. Both crop plans
/// start from it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stored {
    dims: Vec<usize>,
    kept: Vec<Range<usize>>,
    itemsize: usize,
}

impl Stored {
    fn new(dims: &[usize], kept: &[Range<usize>], itemsize: usize, fortran_order: bool) -> Self {
        let mut dims = dims.to_vec();
        let mut kept = clamp_kept(&dims, kept);
        if fortran_order {
            dims.reverse();
            kept.reverse();
        }
        Self {
            dims,
            kept,
            itemsize,
        }
    }

    /// Bytes of the whole data.
    fn input_len(&self) -> u64 {
        byte_len(self.itemsize, &self.dims).unwrap_or(u64::MAX)
    }

    /// Bytes of the data kept.
    fn output_len(&self) -> u64 {
        let shape: Vec<usize> = self.kept.iter().map(|r| r.len()).collect();
        byte_len(self.itemsize, &shape).unwrap_or(u64::MAX)
    }

    /// Bytes from one index of each stored axis to the next.
    fn strides(&self) -> Vec<u64> {
        let n = self.dims.len();
        let mut stride = vec![self.itemsize as u64; n];
        for k in (0..n.saturating_sub(1)).rev() {
            stride[k] = stride[k + 1] * self.dims[k + 1] as u64;
        }
        stride
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(descr: &str, fortran_order: bool, shape: &[usize]) -> Header {
        Header {
            dtype: Dtype::from_descr(literal::parse(descr).unwrap()).unwrap(),
            fortran_order,
            shape: shape.to_vec(),
        }
    }

    #[test]
    fn written_header_is_what_numpy_writes() {
        // np.save of np.zeros((2, 3, 4, 5), '<f4'), bytes 8.. as written by NumPy 2.
        let h = header("'<f4'", false, &[2, 3, 4, 5]);
        let bytes = h.to_bytes();
        assert_eq!(bytes.len() % 64, 0);
        assert_eq!(&bytes[..10], b"\x93NUMPY\x01\x00v\x00");
        let text = std::str::from_utf8(&bytes[10..]).unwrap();
        assert!(
            text.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4, 5), }")
        );
        assert!(text.ends_with(" \n"));
    }

    #[test]
    fn a_header_reads_back_as_written() {
        for h in [
            header("'<f4'", true, &[2, 3, 4, 5]),
            header("[('a', '<i4'), ('b', '<f8', (2,))]", false, &[1, 1, 1, 1]),
            header("[('π', '<u2')]", false, &[0, 3, 3, 1]),
        ] {
            let bytes = h.to_bytes();
            let (back, len) = Header::read(&mut bytes.as_slice()).unwrap();
            assert_eq!(back, h);
            assert_eq!(len as usize, bytes.len());
        }
    }

    #[test]
    fn a_non_latin1_header_is_version_3() {
        let bytes = header("[('π', '<u2')]", false, &[1, 2, 3, 4]).to_bytes();
        assert_eq!(bytes[6], 3);
    }

    #[test]
    fn itemsizes_follow_numpy() {
        let size = |d: &str| header(d, false, &[1]).dtype.itemsize();
        assert_eq!(size("'|b1'"), 1);
        assert_eq!(size("'>c16'"), 16);
        assert_eq!(size("'<U3'"), 12);
        assert_eq!(size("'|S5'"), 5);
        assert_eq!(size("'<M8[ns]'"), 8);
        assert_eq!(size("[('a', '<i4'), (('title', 'b'), '<f8', (2, 3))]"), 52);
    }

    #[test]
    fn object_and_unknown_dtypes_are_refused() {
        let err = |d: &str| Dtype::from_descr(literal::parse(d).unwrap()).unwrap_err();
        assert!(matches!(err("'|O'"), NpyError::Object(_)));
        assert!(matches!(err("[('a', '|O')]"), NpyError::Object(_)));
        assert!(matches!(err("'<f3'"), NpyError::Dtype { .. }));
        assert!(matches!(err("'<q8'"), NpyError::Dtype { .. }));
        assert!(matches!(err("5"), NpyError::Dtype { .. }));
    }

    #[test]
    fn a_lying_header_length_is_refused_before_reading() {
        let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        let err = Header::read(&mut bytes.as_slice()).unwrap_err();
        assert!(
            matches!(err, ReadError::Npy(NpyError::HeaderTooLong(_))),
            "{err}"
        );
    }

    #[test]
    fn header_keys_and_values_are_checked() {
        let bad = [
            "{'descr': '<f4', 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, -2)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 1: 1}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}",
            "[1, 2]",
        ];
        for text in bad {
            assert!(Header::from_text(text).is_err(), "{text}");
        }
        let twice = "{'descr': '<i2', 'fortran_order': True, 'descr': 'f4', 'shape': (1, 2)}";
        let h = Header::from_text(twice).unwrap();
        assert_eq!(h.dtype.descr().to_string(), "'<f4'");
        assert!(
            Header::from_text("{'descr': '<f4', 'fortran_order': False, 'shape': (True, 2)}")
                .is_err()
        );
    }

    #[test]
    fn a_data_length_that_overflows_is_an_error() {
        let h = header("'<f8'", false, &[1 << 40, 1 << 40, 1, 1]);
        assert!(matches!(h.data_len(), Err(NpyError::TooLarge { .. })));
    }

    #[test]
    fn an_empty_axis_makes_no_data_whatever_the_others_claim() {
        let h = header("'<f8'", true, &[1 << 40, 1 << 40, 0, 1 << 40]);
        assert_eq!(h.data_len().unwrap(), 0);
        assert_eq!(
            header("'|V0'", false, &[1 << 40, 1 << 40, 3, 1])
                .data_len()
                .unwrap(),
            0
        );
    }
}
