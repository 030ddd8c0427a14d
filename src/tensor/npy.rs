//! The `.npy` view of an image: the header of the array an image becomes,
//! and how the bytes of a `.npy` array hold images.

use super::{ArrayLayout, SampleType, Tensor, TensorError, image_dims};
use crate::data_format::DataFormat;
use crate::npy::reorder::{self, Order, ReorderPlan};
use crate::npy::{Dtype, Header, Literal};

/// The `.npy` header that describes arrays laid out as `layout` says.
pub fn npy_header(layout: &ArrayLayout) -> Header {
    Header {
        dtype: Dtype::from_descr(Literal::Str(layout.sample.descr().into()))
            .expect("the type string of an image sample is a valid dtype"),
        fortran_order: layout.fortran_order,
        shape: layout.shape.to_vec(),
    }
}

/// The most bytes the `.npy` header of an image takes: NumPy pads a header
/// to a multiple of 64 bytes, and a 4D shape of sides under a billion fits
/// in 128 (a larger one's moves the samples to a new buffer).
const IMAGE_HEADER_MAX: usize = 128;

/// An empty buffer for `len` bytes of samples, with room to spare for the
/// `.npy` header [`Tensor::into_npy`] puts in front of them: a tensor made
/// from it becomes a `.npy` file in place, not in a new buffer.
pub fn sample_buffer(len: usize) -> Vec<u8> {
    Vec::with_capacity(len.saturating_add(IMAGE_HEADER_MAX))
}

/// How a 4D `.npy` array of an image's sample type holds images of at most
/// `most` channels: the whole array as one image, or (`split`) each sample
/// of the batch as one.
pub fn image_layout(
    header: &Header,
    format: DataFormat,
    split: bool,
    most: usize,
) -> Result<ArrayLayout, TensorError> {
    let (sample, byte_order) = header
        .dtype
        .type_str()
        .and_then(|s| SampleType::from_type_str(&s))
        .ok_or(TensorError::SampleType)?;
    let mut shape: [usize; 4] = header
        .shape
        .as_slice()
        .try_into()
        .map_err(|_| TensorError::Rank)?;
    if split {
        shape[0] = 1;
    }
    image_dims(shape, format, most)?;
    Ok(ArrayLayout {
        sample,
        byte_order,
        shape,
        fortran_order: header.fortran_order,
    })
}

impl Tensor {
    /// The tensor as a `.npy` file, as `numpy.save` writes it: in C order,
    /// or in Fortran order for [`Order::F`], transposed in memory (an image
    /// is held there whole anyway). Channels last in C order, the samples
    /// stay where they are and the header goes in front of them.
    pub fn into_npy(self, format: DataFormat, order: Order) -> Vec<u8> {
        let layout = self.layout(format, 1);
        let kept: Vec<_> = layout.shape.iter().map(|&d| 0..d).collect();
        let mut header = npy_header(&layout);
        header.fortran_order = reorder::writes_fortran(order, false, &layout.shape, &kept);
        let head = header.to_bytes();
        if header.fortran_order {
            let data = self.to_bytes(format);
            let plan = ReorderPlan::new(&layout.shape, &kept, layout.sample.itemsize(), false);
            let mut out = head;
            // Reading and writing memory cannot fail.
            let _ = reorder::crop_reordered(&plan, &mut std::io::Cursor::new(&data), 0, &mut out);
            return out;
        }
        let mut out = match format {
            DataFormat::ChannelsLast => self.into_le_bytes(),
            DataFormat::ChannelsFirst => self.to_bytes(format),
        };
        out.splice(0..0, head);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::ByteOrder;

    #[test]
    fn every_sample_type_makes_the_header_numpy_writes() {
        for sample in [SampleType::U8, SampleType::U16, SampleType::F32] {
            let layout = ArrayLayout {
                sample,
                byte_order: ByteOrder::Little,
                shape: [2, 3, 4, 1],
                fortran_order: false,
            };
            let header = npy_header(&layout);
            assert_eq!(header.dtype.itemsize(), sample.itemsize());
            assert_eq!(header.dtype.type_str().as_deref(), Some(sample.descr()));
        }
    }

    #[test]
    fn a_tensor_in_a_sample_buffer_becomes_a_npy_file_in_place() {
        let mut data = sample_buffer(5 * 7 * 3);
        data.resize(5 * 7 * 3, 9);
        let at = data.as_ptr();
        let tensor = Tensor::from_le_bytes(5, 7, 3, SampleType::U8, data).unwrap();
        let npy = tensor.into_npy(DataFormat::ChannelsLast, Order::Keep);
        assert_eq!(npy.as_ptr(), at);
        assert_eq!(npy.len(), 128 + 5 * 7 * 3);
        assert!(npy[128..].iter().all(|&b| b == 9));
    }

    #[test]
    fn the_header_of_an_image_of_any_likely_size_fits_the_room_left() {
        for sample in SampleType::ALL {
            let layout = ArrayLayout {
                sample,
                byte_order: ByteOrder::Little,
                shape: [1, 999_999_999, 999_999_999, 999_999_999],
                fortran_order: true,
            };
            assert!(npy_header(&layout).to_bytes().len() <= IMAGE_HEADER_MAX);
        }
    }

    #[test]
    fn a_batch_split_into_images_holds_one_image_a_sample() {
        let layout = ArrayLayout {
            sample: SampleType::U8,
            byte_order: ByteOrder::Little,
            shape: [5, 2, 3, 1],
            fortran_order: false,
        };
        let header = npy_header(&layout);
        let last = DataFormat::ChannelsLast;
        assert_eq!(
            image_layout(&header, last, false, 4),
            Err(TensorError::Batch(5))
        );
        assert_eq!(
            image_layout(&header, last, true, 4).unwrap().shape,
            [1, 2, 3, 1]
        );
    }
}
