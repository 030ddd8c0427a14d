//! Properties over random shapes, item sizes, memory orders, data formats
//! and crops: the streaming crop equals a plain crop of an ndarray view, the
//! spec prints and parses back to itself, and an invalid crop is refused
//! before any byte is written.

use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use proptest::prelude::*;
use rcrop::npy::stream::{self, StreamPlan};
use rcrop::{
    CenterCrop, CropSpec, Cropping, Cropping1D, Cropping2D, Cropping3D, DataFormat, Layer, Shape,
    Sides,
};

fn cropping() -> impl Strategy<Value = Cropping> {
    (0..4usize, 0..4usize, 0..4usize, 0..4usize).prop_map(|(top, bottom, left, right)| Cropping {
        top,
        bottom,
        left,
        right,
    })
}

fn sides() -> impl Strategy<Value = Sides> {
    (0..4usize, 0..4usize).prop_map(|(b, e)| Sides::new(b, e))
}

fn format() -> impl Strategy<Value = DataFormat> {
    prop_oneof![
        Just(DataFormat::ChannelsLast),
        Just(DataFormat::ChannelsFirst)
    ]
}

/// Any of the four layers with small crops, in either data format.
fn layer() -> impl Strategy<Value = Layer> {
    prop_oneof![
        sides().prop_map(|s| Layer::from(Cropping1D::new(s))),
        (cropping(), format()).prop_map(|(c, f)| Layer::from(Cropping2D::new(c, f))),
        (prop::array::uniform3(sides()), format())
            .prop_map(|(c, f)| Layer::from(Cropping3D::new(c, f))),
        (1..5usize, 1..5usize, format())
            .prop_map(|(h, w, f)| Layer::from(CenterCrop::new(h, w, f))),
    ]
}

/// The bytes of the elements `layer.call` keeps, in the output's storage order.
fn reference(
    dims: &[usize],
    itemsize: usize,
    fortran: bool,
    layer: &Layer,
    data: &[u8],
) -> Vec<u8> {
    // Each element holds its own storage offset.
    let offsets: Vec<usize> = (0..data.len() / itemsize).collect();
    let offsets = if fortran {
        ArrayD::from_shape_vec(IxDyn(dims).f(), offsets).unwrap()
    } else {
        ArrayD::from_shape_vec(IxDyn(dims), offsets).unwrap()
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
        dims in prop::collection::vec(0..7usize, 5),
        itemsize in prop_oneof![Just(1usize), Just(2), Just(3), Just(8), Just(16)],
        fortran in any::<bool>(),
        layer in layer(),
    ) {
        let dims = &dims[..layer.class().rank()];
        let len = dims.iter().product::<usize>() * itemsize;
        let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        match layer.kept_ranges(dims) {
            Ok(kept) => {
                let plan = StreamPlan::new(dims, &kept, itemsize, fortran);
                let mut out = Vec::new();
                stream::crop(&plan, &mut data.as_slice(), &mut out).unwrap();
                prop_assert_eq!(out, reference(dims, itemsize, fortran, &layer, &data));
            }
            Err(e) => {
                // Refused, as Keras refuses: a cropped side with nothing left,
                // or (CenterCrop) a side smaller than the target.
                prop_assert!(layer.call(ArrayD::<u8>::zeros(IxDyn(dims)).view()).is_err(), "{e}");
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
        dims in prop::collection::vec(0..9usize, 5),
        layer in layer(),
    ) {
        let dims = &dims[..layer.class().rank()];
        match (layer.compute_output_shape(&Shape::known(dims)), layer.kept_ranges(dims)) {
            (Ok(shape), Ok(kept)) => {
                let lens: Vec<usize> = kept.iter().map(|r| r.len()).collect();
                prop_assert_eq!(shape, Shape::known(lens));
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "disagree: {a:?} vs {b:?}"),
        }
    }

    #[test]
    fn any_text_either_parses_to_a_spec_that_prints_back_or_is_refused(text in "[0-9(), :\\[\\]-]{0,16}") {
        if let Ok(crop) = text.parse::<Cropping>() {
            prop_assert_eq!(crop.to_string().parse::<Cropping>().unwrap(), crop);
        }
        if let Ok(spec) = text.parse::<CropSpec>() {
            let python = spec.to_string();
            prop_assert_eq!(python.parse::<CropSpec>().unwrap().to_string(), python);
        }
    }
}
