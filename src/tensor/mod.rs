//! The bridge between images and arrays: an image is a 4D tensor of batch 1
//! whose samples have one [`SampleType`]. Neither the image code nor the
//! `.npy` code knows the other; both speak of tensors in these terms, and
//! this is where they meet: the `.npy` view of an image ([`npy`]) and a
//! `.npy` array read and written a row at a time ([`rows`]).

pub mod npy;
pub mod npy_rows;

use std::ops::Range;

use crate::data_format::DataFormat;
use crate::layer::{CropError, Layer, Shape};

/// Where the rows of an image's window go, top to bottom, each cut to the
/// window's columns; an error from it ends the reading and is passed back.
pub type RowFn<'a> = dyn FnMut(&[u8]) -> std::io::Result<()> + 'a;

/// The kinds of sample an image tensor holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleType {
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
    F16,
    F32,
    F64,
}

impl SampleType {
    /// Every sample type, smallest first within each kind.
    pub const ALL: [SampleType; 11] = [
        SampleType::U8,
        SampleType::U16,
        SampleType::U32,
        SampleType::U64,
        SampleType::I8,
        SampleType::I16,
        SampleType::I32,
        SampleType::I64,
        SampleType::F16,
        SampleType::F32,
        SampleType::F64,
    ];

    /// The NumPy type string `numpy.save` writes for it, little-endian.
    pub fn descr(self) -> &'static str {
        match self {
            SampleType::U8 => "|u1",
            SampleType::U16 => "<u2",
            SampleType::U32 => "<u4",
            SampleType::U64 => "<u8",
            SampleType::I8 => "|i1",
            SampleType::I16 => "<i2",
            SampleType::I32 => "<i4",
            SampleType::I64 => "<i8",
            SampleType::F16 => "<f2",
            SampleType::F32 => "<f4",
            SampleType::F64 => "<f8",
        }
    }

    /// Bytes per sample.
    pub fn itemsize(self) -> usize {
        match self {
            SampleType::U8 | SampleType::I8 => 1,
            SampleType::U16 | SampleType::I16 | SampleType::F16 => 2,
            SampleType::U32 | SampleType::I32 | SampleType::F32 => 4,
            SampleType::U64 | SampleType::I64 | SampleType::F64 => 8,
        }
    }

    /// How people name it: `8-bit`, `16-bit signed`, `float32`.
    pub fn name(self) -> &'static str {
        match self {
            SampleType::U8 => "8-bit",
            SampleType::U16 => "16-bit",
            SampleType::U32 => "32-bit",
            SampleType::U64 => "64-bit",
            SampleType::I8 => "8-bit signed",
            SampleType::I16 => "16-bit signed",
            SampleType::I32 => "32-bit signed",
            SampleType::I64 => "64-bit signed",
            SampleType::F16 => "float16",
            SampleType::F32 => "float32",
            SampleType::F64 => "float64",
        }
    }

    /// The sample type and byte order of a NumPy type string, if an image
    /// can hold it: `|u1`, `<u2`, `>f4`, `<i4` and the like.
    pub fn from_type_str(s: &str) -> Option<(Self, ByteOrder)> {
        let (order, body) = match s.split_at_checked(1)? {
            ("<" | "|", body) => (ByteOrder::Little, body),
            (">", body) => (ByteOrder::Big, body),
            _ => return None,
        };
        let sample = Self::ALL.into_iter().find(|t| &t.descr()[1..] == body)?;
        Some((sample, order))
    }
}

/// A Rust type that holds samples of one [`SampleType`].
pub trait Element: Copy {
    const TYPE: SampleType;
    fn write_le(self, out: &mut Vec<u8>);
    fn read_le(bytes: &[u8]) -> Self;
}

macro_rules! element {
    ($t:ty, $sample:ident) => {
        impl Element for $t {
            const TYPE: SampleType = SampleType::$sample;
            fn write_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn read_le(bytes: &[u8]) -> Self {
                const N: usize = std::mem::size_of::<$t>();
                let mut b = [0; N];
                b.copy_from_slice(&bytes[..N]);
                <$t>::from_le_bytes(b)
            }
        }
    };
}

element!(u8, U8);
element!(u16, U16);
element!(u32, U32);
element!(u64, U64);
element!(i8, I8);
element!(i16, I16);
element!(i32, I32);
element!(i64, I64);
element!(f32, F32);
element!(f64, F64);

/// The byte order of samples in an array's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    Little,
    Big,
}

/// How an array's bytes hold a tensor: what [`Tensor::from_bytes`] needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArrayLayout {
    pub sample: SampleType,
    pub byte_order: ByteOrder,
    pub shape: [usize; 4],
    pub fortran_order: bool,
}

/// Why an array cannot be an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TensorError {
    #[error(
        "an image needs samples of one of the types images hold: uint8, uint16, uint32, int8, \
         int16, int32, float16, float32 or float64"
    )]
    SampleType,
    #[error("an image needs a 4D array")]
    Rank,
    #[error("an image output needs a batch of 1, not {0}")]
    Batch(usize),
    #[error("an image needs 1 to {most} channels ({format}), not {channels}")]
    Channels {
        format: DataFormat,
        channels: usize,
        most: usize,
    },
    #[error("the array data is {found} bytes; its header promises {expected}")]
    DataLength { expected: usize, found: usize },
}

/// The most channels an image has: TIFF counts its samples a pixel in 16
/// bits, and the other formats hold at most 4 (gray, gray+alpha, RGB, RGBA).
pub const MOST_CHANNELS: usize = u16::MAX as usize;

/// Height, width and channels of a 4D shape that can be one image of at
/// most `most` channels, or why not.
pub fn image_dims(
    shape: [usize; 4],
    format: DataFormat,
    most: usize,
) -> Result<(usize, usize, usize), TensorError> {
    if shape[0] != 1 {
        return Err(TensorError::Batch(shape[0]));
    }
    let (row_axis, col_axis) = format.spatial_axes();
    let channels = shape[format.channel_axis()];
    if !(1..=most).contains(&channels) {
        return Err(TensorError::Channels {
            format,
            channels,
            most,
        });
    }
    Ok((shape[row_axis], shape[col_axis], channels))
}

/// The 4D shape of one image of `height × width × channels` in a data format.
pub fn image_shape(height: usize, width: usize, channels: usize, format: DataFormat) -> [usize; 4] {
    match format {
        DataFormat::ChannelsLast => [1, height, width, channels],
        DataFormat::ChannelsFirst => [1, channels, height, width],
    }
}

/// An image as a tensor of batch 1: `height × width × channels` samples
/// in row-major order, channels interleaved, held as little-endian bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    height: usize,
    width: usize,
    channels: usize,
    sample: SampleType,
    data: Vec<u8>,
}

impl Tensor {
    /// A tensor from little-endian sample bytes; `None` unless there are
    /// `height × width × channels` samples.
    pub fn from_le_bytes(
        height: usize,
        width: usize,
        channels: usize,
        sample: SampleType,
        data: Vec<u8>,
    ) -> Option<Self> {
        let expected = height
            .checked_mul(width)?
            .checked_mul(channels)?
            .checked_mul(sample.itemsize())?;
        (data.len() == expected).then_some(Self {
            height,
            width,
            channels,
            sample,
            data,
        })
    }

    /// A tensor from samples held as a Rust type.
    pub fn from_elements<T: Element>(
        height: usize,
        width: usize,
        channels: usize,
        values: &[T],
    ) -> Option<Self> {
        let mut data = Vec::with_capacity(values.len() * T::TYPE.itemsize());
        for &v in values {
            v.write_le(&mut data);
        }
        Self::from_le_bytes(height, width, channels, T::TYPE, data)
    }

    /// The samples as a Rust type, if they are of its sample type.
    pub fn elements<T: Element>(&self) -> Option<Vec<T>> {
        (self.sample == T::TYPE).then(|| {
            self.data
                .chunks_exact(self.sample.itemsize())
                .map(T::read_le)
                .collect()
        })
    }

    pub fn height(&self) -> usize {
        self.height
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    pub fn sample_type(&self) -> SampleType {
        self.sample
    }

    /// The samples' little-endian bytes, channels interleaved.
    pub fn as_le_bytes(&self) -> &[u8] {
        &self.data
    }

    /// The samples' little-endian bytes, channels interleaved.
    pub fn into_le_bytes(self) -> Vec<u8> {
        self.data
    }

    /// The tensor's shape in a data format.
    pub fn shape(&self, format: DataFormat) -> Shape {
        Shape::known(self.dims(format))
    }

    fn dims(&self, format: DataFormat) -> [usize; 4] {
        image_shape(self.height, self.width, self.channels, format)
    }

    /// How `batch` tensors like this one stacked are laid out in C order.
    pub fn layout(&self, format: DataFormat, batch: usize) -> ArrayLayout {
        let mut shape = self.dims(format);
        shape[0] = batch;
        ArrayLayout {
            sample: self.sample,
            byte_order: ByteOrder::Little,
            shape,
            fortran_order: false,
        }
    }

    /// Describes the tensor as people do: `8-bit RGB`, `float32 gray`.
    pub fn describe(&self) -> String {
        let layout = match self.channels {
            1 => "gray",
            2 => "gray+alpha",
            3 => "RGB",
            4 => "RGBA",
            n => return format!("{} samples in {n} channels", self.sample.name()),
        };
        format!("{} {layout}", self.sample.name())
    }

    /// The crop the layer asks for, done in place: each kept run of a row
    /// moves down to its place in the cropped image, no new buffer. A layer
    /// that takes no 4D tensor (`Cropping1D`, `Cropping3D`) refuses it.
    pub fn crop(self, layer: &Layer) -> Result<Tensor, CropError> {
        let format = layer.data_format().unwrap_or_default();
        let kept = layer.kept_ranges(&self.dims(format))?;
        let (row_axis, col_axis) = format.spatial_axes();
        Ok(self.cut(kept[row_axis].clone(), kept[col_axis].clone()))
    }

    /// The `rows` and `cols` of the image (which lie inside it), cut in
    /// place as [`Tensor::crop`] cuts them.
    pub fn cut(mut self, rows: Range<usize>, cols: Range<usize>) -> Tensor {
        let pixel = self.channels * self.sample.itemsize();
        let run = cols.len() * pixel;
        let count = rows.len();
        for (to, row) in rows.enumerate() {
            let from = (row * self.width + cols.start) * pixel;
            self.data.copy_within(from..from + run, to * run);
        }
        self.data.truncate(count * run);
        self.height = count;
        self.width = cols.len();
        self
    }

    /// The samples in C order of the tensor's shape in `format`, little-endian.
    pub fn to_bytes(&self, format: DataFormat) -> Vec<u8> {
        match format {
            // Already in storage order.
            DataFormat::ChannelsLast => self.data.clone(),
            DataFormat::ChannelsFirst => {
                let size = self.sample.itemsize();
                let pixel = self.channels * size;
                let mut out = Vec::with_capacity(self.data.len());
                for c in 0..self.channels {
                    for p in self.data.chunks_exact(pixel) {
                        out.extend_from_slice(&p[c * size..(c + 1) * size]);
                    }
                }
                out
            }
        }
    }

    /// A tensor from the bytes of a batch-1 array laid out as `layout` says.
    pub fn from_bytes(
        layout: &ArrayLayout,
        data: &[u8],
        format: DataFormat,
    ) -> Result<Self, TensorError> {
        let (height, width, channels) = image_dims(layout.shape, format, MOST_CHANNELS)?;
        let size = layout.sample.itemsize();
        let expected = height * width * channels * size;
        if data.len() != expected {
            return Err(TensorError::DataLength {
                expected,
                found: data.len(),
            });
        }
        let mut data = data.to_vec();
        if layout.byte_order == ByteOrder::Big {
            data.chunks_exact_mut(size).for_each(<[u8]>::reverse);
        }
        let tensor = |data| Self {
            height,
            width,
            channels,
            sample: layout.sample,
            data,
        };
        // C-ordered channels_last data is already height × width × channels.
        if format == DataFormat::ChannelsLast && !layout.fortran_order {
            return Ok(tensor(data));
        }
        // Strides, in elements, of the logical axes in storage order.
        let mut strides = [0usize; 4];
        let mut step = 1;
        let order: [usize; 4] = if layout.fortran_order {
            [0, 1, 2, 3]
        } else {
            [3, 2, 1, 0]
        };
        for axis in order {
            strides[axis] = step;
            step *= layout.shape[axis];
        }
        let (row_axis, col_axis) = format.spatial_axes();
        let channel_axis = format.channel_axis();
        let mut hwc = Vec::with_capacity(data.len());
        for y in 0..height {
            for x in 0..width {
                for c in 0..channels {
                    let at =
                        y * strides[row_axis] + x * strides[col_axis] + c * strides[channel_axis];
                    hwc.extend_from_slice(&data[at * size..(at + 1) * size]);
                }
            }
        }
        Ok(tensor(hwc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_strings_name_the_samples_images_hold() {
        assert_eq!(
            SampleType::from_type_str("|u1"),
            Some((SampleType::U8, ByteOrder::Little))
        );
        assert_eq!(
            SampleType::from_type_str(">f4"),
            Some((SampleType::F32, ByteOrder::Big))
        );
        assert_eq!(
            SampleType::from_type_str("<i2"),
            Some((SampleType::I16, ByteOrder::Little))
        );
        assert_eq!(SampleType::from_type_str("<f16"), None);
        assert_eq!(SampleType::from_type_str("<c8"), None);
        assert_eq!(SampleType::from_type_str(""), None);
        assert_eq!(SampleType::from_type_str("u1"), None);
    }

    #[test]
    fn channels_first_bytes_round_trip() {
        let values: Vec<u16> = (0..12).collect();
        let t = Tensor::from_elements(2, 3, 2, &values).unwrap();
        let format = DataFormat::ChannelsFirst;
        let bytes = t.to_bytes(format);
        let back = Tensor::from_bytes(&t.layout(format, 1), &bytes, format).unwrap();
        assert_eq!(back, t);
        // Plane 0 holds the even samples, plane 1 the odd.
        assert_eq!(&bytes[..4], &[0, 0, 2, 0]);
    }

    #[test]
    fn arrays_that_are_no_image_say_why() {
        let last = DataFormat::ChannelsLast;
        assert_eq!(
            image_dims([2, 4, 4, 3], last, 4),
            Err(TensorError::Batch(2))
        );
        assert!(matches!(
            image_dims([1, 4, 4, 5], last, 4),
            Err(TensorError::Channels { channels: 5, .. })
        ));
        assert_eq!(
            image_dims([1, 4, 4, 13], last, MOST_CHANNELS),
            Ok((4, 4, 13))
        );
        assert!(matches!(
            image_dims([1, 4, 4, 0], last, MOST_CHANNELS),
            Err(TensorError::Channels { channels: 0, .. })
        ));
        assert_eq!(
            image_dims([1, 3, 4, 5], DataFormat::ChannelsFirst, 4),
            Ok((4, 5, 3))
        );
    }
}
