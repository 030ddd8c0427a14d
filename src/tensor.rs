//! The bridge between images and arrays: an image is a 4D tensor of batch 1
//! whose samples have one [`SampleType`]. Neither the image code nor the
//! `.npy` code knows the other; both speak of tensors in these terms.

use std::ops::Range;

use crate::layer::{CropError, Cropping2D, Shape};
use crate::layout::DataFormat;

/// The kinds of sample an image tensor holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleType {
    U8,
    U16,
    F32,
}

impl SampleType {
    /// The NumPy type string `numpy.save` writes for it, little-endian.
    pub fn descr(self) -> &'static str {
        match self {
            SampleType::U8 => "|u1",
            SampleType::U16 => "<u2",
            SampleType::F32 => "<f4",
        }
    }

    /// Bytes per sample.
    pub fn itemsize(self) -> usize {
        match self {
            SampleType::U8 => 1,
            SampleType::U16 => 2,
            SampleType::F32 => 4,
        }
    }

    /// How people name it: `8-bit`, `16-bit`, `float32`.
    pub fn name(self) -> &'static str {
        match self {
            SampleType::U8 => "8-bit",
            SampleType::U16 => "16-bit",
            SampleType::F32 => "float32",
        }
    }

    /// The sample type and byte order of a NumPy type string, if an image
    /// can hold it: `|u1`, `<u2`, `>f4` and the like.
    pub fn from_type_str(s: &str) -> Option<(Self, ByteOrder)> {
        let (order, body) = match s.split_at_checked(1)? {
            ("<" | "|", body) => (ByteOrder::Little, body),
            (">", body) => (ByteOrder::Big, body),
            _ => return None,
        };
        let sample = match body {
            "u1" => SampleType::U8,
            "u2" => SampleType::U16,
            "f4" => SampleType::F32,
            _ => return None,
        };
        Some((sample, order))
    }
}

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
    #[error("an image needs uint8, uint16 or float32 samples")]
    SampleType,
    #[error("an image needs a 4D array")]
    Rank,
    #[error("an image output needs a batch of 1, not {0}")]
    Batch(usize),
    #[error("an image needs 1 to 4 channels ({format}), not {channels}")]
    Channels { format: DataFormat, channels: usize },
    #[error("the array data is {found} bytes; its header promises {expected}")]
    DataLength { expected: usize, found: usize },
}

/// Height, width and channels of a 4D shape that can be one image, or why not.
pub fn image_dims(
    shape: [usize; 4],
    format: DataFormat,
) -> Result<(usize, usize, usize), TensorError> {
    if shape[0] != 1 {
        return Err(TensorError::Batch(shape[0]));
    }
    let (row_axis, col_axis) = format.spatial_axes();
    let channels = shape[format.channel_axis()];
    if !(1..=4).contains(&channels) {
        return Err(TensorError::Channels { format, channels });
    }
    Ok((shape[row_axis], shape[col_axis], channels))
}

/// The samples of an image in row-major order, channels interleaved.
#[derive(Clone, Debug, PartialEq)]
pub enum Samples {
    U8(Vec<u8>),
    U16(Vec<u16>),
    F32(Vec<f32>),
}

impl Samples {
    /// Their sample type.
    pub fn sample_type(&self) -> SampleType {
        match self {
            Samples::U8(_) => SampleType::U8,
            Samples::U16(_) => SampleType::U16,
            Samples::F32(_) => SampleType::F32,
        }
    }

    /// Samples of `sample` type from bytes in `order`.
    fn from_bytes(sample: SampleType, order: ByteOrder, data: &[u8]) -> Self {
        let big = order == ByteOrder::Big;
        match sample {
            SampleType::U8 => Samples::U8(data.to_vec()),
            SampleType::U16 => Samples::U16(
                data.chunks_exact(2)
                    .map(|b| {
                        let b = [b[0], b[1]];
                        if big {
                            u16::from_be_bytes(b)
                        } else {
                            u16::from_le_bytes(b)
                        }
                    })
                    .collect(),
            ),
            SampleType::F32 => Samples::F32(
                data.chunks_exact(4)
                    .map(|b| {
                        let b = [b[0], b[1], b[2], b[3]];
                        if big {
                            f32::from_be_bytes(b)
                        } else {
                            f32::from_le_bytes(b)
                        }
                    })
                    .collect(),
            ),
        }
    }
}

/// An image as a tensor of batch 1: `height × width × channels` samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    height: usize,
    width: usize,
    channels: usize,
    samples: Samples,
}

impl Tensor {
    /// A tensor from samples in row-major order, channels interleaved;
    /// `None` unless there are `height × width × channels` of them.
    pub fn new(height: usize, width: usize, channels: usize, samples: Samples) -> Option<Self> {
        let len = match &samples {
            Samples::U8(v) => v.len(),
            Samples::U16(v) => v.len(),
            Samples::F32(v) => v.len(),
        };
        let expected = height.checked_mul(width)?.checked_mul(channels)?;
        (len == expected).then_some(Self {
            height,
            width,
            channels,
            samples,
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

    pub fn samples(&self) -> &Samples {
        &self.samples
    }

    pub fn into_samples(self) -> Samples {
        self.samples
    }

    pub fn sample_type(&self) -> SampleType {
        self.samples.sample_type()
    }

    /// The tensor's shape in a data format.
    pub fn shape(&self, format: DataFormat) -> Shape {
        Shape::known(self.dims(format))
    }

    fn dims(&self, format: DataFormat) -> [usize; 4] {
        let (h, w, c) = (self.height, self.width, self.channels);
        match format {
            DataFormat::ChannelsLast => [1, h, w, c],
            DataFormat::ChannelsFirst => [1, c, h, w],
        }
    }

    /// How `batch` tensors like this one stacked are laid out in C order.
    pub fn layout(&self, format: DataFormat, batch: usize) -> ArrayLayout {
        let mut shape = self.dims(format);
        shape[0] = batch;
        ArrayLayout {
            sample: self.sample_type(),
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
            _ => "RGBA",
        };
        format!("{} {layout}", self.sample_type().name())
    }

    /// The crop the layer asks for, done in place: each kept run of a row
    /// moves down to its place in the cropped image, no new buffer.
    pub fn crop(mut self, layer: &Cropping2D) -> Result<Tensor, CropError> {
        let kept = layer.kept_ranges(self.dims(layer.data_format))?;
        let (row_axis, col_axis) = layer.data_format.spatial_axes();
        let (rows, cols) = (kept[row_axis].clone(), kept[col_axis].clone());
        let (width, channels) = (self.width, self.channels);
        let run = cols.len() * channels;
        fn keep_rows<T: Copy>(
            data: &mut Vec<T>,
            rows: Range<usize>,
            first: usize,
            width: usize,
            channels: usize,
            run: usize,
        ) {
            let count = rows.len();
            for (to, row) in rows.enumerate() {
                let from = (row * width + first) * channels;
                data.copy_within(from..from + run, to * run);
            }
            data.truncate(count * run);
        }
        match &mut self.samples {
            Samples::U8(d) => keep_rows(d, rows.clone(), cols.start, width, channels, run),
            Samples::U16(d) => keep_rows(d, rows.clone(), cols.start, width, channels, run),
            Samples::F32(d) => keep_rows(d, rows.clone(), cols.start, width, channels, run),
        }
        self.height = rows.len();
        self.width = cols.len();
        Ok(self)
    }

    /// The samples in C order of the tensor's shape in `format`, little-endian.
    pub fn to_bytes(&self, format: DataFormat) -> Vec<u8> {
        let (pixels, channels) = (self.height * self.width, self.channels);
        // Element `i` of the output in storage order, for either format.
        let index = |i: usize| match format {
            DataFormat::ChannelsLast => i,
            DataFormat::ChannelsFirst => (i % pixels) * channels + i / pixels,
        };
        match (&self.samples, format) {
            // Already in storage order: whole buffers, no index arithmetic.
            (Samples::U8(d), DataFormat::ChannelsLast) => d.clone(),
            (Samples::U16(d), DataFormat::ChannelsLast) => {
                d.iter().flat_map(|v| v.to_le_bytes()).collect()
            }
            (Samples::F32(d), DataFormat::ChannelsLast) => {
                d.iter().flat_map(|v| v.to_le_bytes()).collect()
            }
            (Samples::U8(d), _) => (0..d.len()).map(|i| d[index(i)]).collect(),
            (Samples::U16(d), _) => (0..d.len())
                .flat_map(|i| d[index(i)].to_le_bytes())
                .collect(),
            (Samples::F32(d), _) => (0..d.len())
                .flat_map(|i| d[index(i)].to_le_bytes())
                .collect(),
        }
    }

    /// A tensor from the bytes of a batch-1 array laid out as `layout` says.
    pub fn from_bytes(
        layout: &ArrayLayout,
        data: &[u8],
        format: DataFormat,
    ) -> Result<Self, TensorError> {
        let (height, width, channels) = image_dims(layout.shape, format)?;
        let expected = height * width * channels * layout.sample.itemsize();
        if data.len() != expected {
            return Err(TensorError::DataLength {
                expected,
                found: data.len(),
            });
        }
        let samples = Samples::from_bytes(layout.sample, layout.byte_order, data);
        // C-ordered channels_last data is already height × width × channels.
        if format == DataFormat::ChannelsLast && !layout.fortran_order {
            return Ok(Self {
                height,
                width,
                channels,
                samples,
            });
        }
        // Strides of the logical axes in storage order.
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
        let offset = |y: usize, x: usize, c: usize| {
            y * strides[row_axis] + x * strides[col_axis] + c * strides[channel_axis]
        };
        let hwc = (0..height)
            .flat_map(|y| (0..width).flat_map(move |x| (0..channels).map(move |c| (y, x, c))));
        let samples = match samples {
            Samples::U8(d) => Samples::U8(hwc.map(|(y, x, c)| d[offset(y, x, c)]).collect()),
            Samples::U16(d) => Samples::U16(hwc.map(|(y, x, c)| d[offset(y, x, c)]).collect()),
            Samples::F32(d) => Samples::F32(hwc.map(|(y, x, c)| d[offset(y, x, c)]).collect()),
        };
        Ok(Self {
            height,
            width,
            channels,
            samples,
        })
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
        assert_eq!(SampleType::from_type_str("<f8"), None);
        assert_eq!(SampleType::from_type_str(""), None);
        assert_eq!(SampleType::from_type_str("u1"), None);
    }

    #[test]
    fn channels_first_bytes_round_trip() {
        let t = Tensor::new(2, 3, 2, Samples::U16((0..12).collect())).unwrap();
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
        assert_eq!(image_dims([2, 4, 4, 3], last), Err(TensorError::Batch(2)));
        assert!(matches!(
            image_dims([1, 4, 4, 5], last),
            Err(TensorError::Channels { channels: 5, .. })
        ));
        assert_eq!(
            image_dims([1, 3, 4, 5], DataFormat::ChannelsFirst),
            Ok((4, 5, 3))
        );
    }
}
