//! Properties over random shapes, item sizes, memory orders, data formats
//! and crops: the streaming crop equals a plain crop of an ndarray view, the
//! spec prints and parses back to itself, and an invalid crop is refused
//! before any byte is written.

use ndarray::{Array4, ShapeBuilder};
use proptest::prelude::*;
use rcrop::npy::stream::{self, StreamPlan};
use rcrop::{Cropping, Cropping2D, DataFormat, Shape};

fn cropping() -> impl Strategy<Value = Cropping> {
    (0..4usize, 0..4usize, 0..4usize, 0..4usize).prop_map(|(top, bottom, left, right)| Cropping {
        top,
        bottom,
        left,
        right,
    })
}

fn format() -> impl Strategy<Value = DataFormat> {
    prop_oneof![
        Just(DataFormat::ChannelsLast),
        Just(DataFormat::ChannelsFirst)
    ]
}

/// The bytes of the elements `layer.call` keeps, in the output's storage order.
fn reference(
    dims: [usize; 4],
    itemsize: usize,
    fortran: bool,
    layer: &Cropping2D,
    data: &[u8],
) -> Vec<u8> {
    let shape = (dims[0], dims[1], dims[2], dims[3]);
    // Each element holds its own storage offset.
    let offsets = if fortran {
        Array4::from_shape_vec(shape.f(), (0..data.len() / itemsize).collect()).unwrap()
    } else {
        Array4::from_shape_vec(shape, (0..data.len() / itemsize).collect()).unwrap()
    };
    let cropped = layer.call(offsets.view()).unwrap();
    let order: Vec<usize> = if fortran {
        // Fortran storage order is the transposed view's C order.
        cropped.t().iter().copied().collect()
    } else {
        cropped.iter().copied().collect()
    };
    order
        .iter()
        .flat_map(|&i| data[i * itemsize..(i + 1) * itemsize].to_vec())
        .collect()
}

proptest! {
    #[test]
    fn streaming_equals_a_plain_crop(
        dims in prop::array::uniform4(0..7usize),
        itemsize in prop_oneof![Just(1usize), Just(2), Just(3), Just(8), Just(16)],
        fortran in any::<bool>(),
        format in format(),
        crop in cropping(),
    ) {
        let layer = Cropping2D::new(crop, format);
        let len = dims.iter().product::<usize>() * itemsize;
        let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        match layer.kept_ranges(dims) {
            Ok(kept) => {
                let plan = StreamPlan::new(&dims, &kept, itemsize, fortran);
                let mut out = Vec::new();
                stream::crop(&plan, &mut data.as_slice(), &mut out).unwrap();
                prop_assert_eq!(out, reference(dims, itemsize, fortran, &layer, &data));
            }
            Err(_) => {
                // Refused, as Keras refuses: a spatial side with nothing left.
                let (rows, cols) = format.spatial_axes();
                prop_assert!(crop.top + crop.bottom >= dims[rows] || crop.left + crop.right >= dims[cols]);
            }
        }
    }

    #[test]
    fn the_spec_prints_and_parses_back(crop in (0..1000usize, 0..1000usize, 0..1000usize, 0..1000usize)) {
        let crop = Cropping { top: crop.0, bottom: crop.1, left: crop.2, right: crop.3 };
        prop_assert_eq!(crop.to_string().parse::<Cropping>().unwrap(), crop);
        prop_assert_eq!(crop.to_keras().parse::<Cropping>().unwrap(), crop);
    }

    #[test]
    fn the_output_shape_agrees_with_the_crop(
        dims in prop::array::uniform4(0..9usize),
        format in format(),
        crop in cropping(),
    ) {
        let layer = Cropping2D::new(crop, format);
        match (layer.compute_output_shape(Shape::known(dims)), layer.kept_ranges(dims)) {
            (Ok(shape), Ok(kept)) => prop_assert_eq!(shape, Shape::known(kept.map(|r| r.len()))),
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "disagree: {a:?} vs {b:?}"),
        }
    }

    #[test]
    fn any_text_either_parses_to_a_spec_that_prints_back_or_is_refused(text in "[0-9(), :\\[\\]-]{0,16}") {
        if let Ok(crop) = text.parse::<Cropping>() {
            prop_assert_eq!(crop.to_string().parse::<Cropping>().unwrap(), crop);
        }
    }
}
