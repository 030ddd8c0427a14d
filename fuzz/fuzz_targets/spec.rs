//! `--crop` specs: whatever `Cropping::from_str` accepts must print back, in
//! both the canonical form and the Keras form, to text that parses to the
//! same value. Anything may be refused, but nothing may panic.
//!
//! Then, as the CLI does next, the parsed crop goes into a `Cropping2D` of
//! either data format and meets a few shapes: `compute_output_shape` must
//! accept exactly the crops that leave a row and a column (sums that
//! overflow leave nothing), `kept_ranges` must agree with it, and a refusal
//! must print.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rcrop::{
    CropSpec, Cropping, Cropping2D, DataFormat, Layer, LayerClass, Shape, find_layer,
    to_python_json,
};

const SHAPES: [[usize; 4]; 3] = [[2, 7, 9, 3], [1, 1, 1, 1], [1, usize::MAX, usize::MAX, 1]];

fn check_layer(c: Cropping) {
    for format in [DataFormat::ChannelsLast, DataFormat::ChannelsFirst] {
        let layer = Cropping2D::new(c, format);
        let (row_axis, col_axis) = format.spatial_axes();
        for dims in SHAPES {
            let leaves = |a: usize, b: usize, n: usize| a.checked_add(b).is_some_and(|r| r < n);
            let fits =
                leaves(c.top, c.bottom, dims[row_axis]) && leaves(c.left, c.right, dims[col_axis]);
            match layer.compute_output_shape(&Shape::known(dims)) {
                Ok(out) => {
                    assert!(fits, "{c:?} ({format}) accepted for {dims:?}, giving {out}");
                    let kept = layer
                        .kept_ranges(&dims)
                        .expect("kept_ranges refuses what compute_output_shape accepts");
                    let lens: Vec<usize> = kept.iter().map(|r| r.len()).collect();
                    assert_eq!(Shape::known(lens), out, "{c:?} ({format}) of {dims:?}");
                }
                Err(e) => {
                    assert!(!fits, "{c:?} ({format}) refused for {dims:?}: {e}");
                    let _ = e.to_string();
                    assert!(layer.kept_ranges(&dims).is_err());
                }
            }
        }
    }
}

/// Any spec: its Python value prints back to text of the same value, and
/// each cropping layer either refuses it or makes a layer whose config
/// reads back to itself and whose rule agrees with its kept ranges.
fn check_every_layer(text: &str) {
    let Ok(spec) = text.parse::<CropSpec>() else {
        return;
    };
    let python = spec.to_string();
    let back = python
        .parse::<CropSpec>()
        .expect("a spec's Python form parses");
    assert_eq!(back.to_string(), python, "{text:?}");
    for class in [
        LayerClass::Cropping1D,
        LayerClass::Cropping2D,
        LayerClass::Cropping3D,
    ] {
        let Ok(layer) = Layer::from_spec(class, &spec, DataFormat::ChannelsFirst) else {
            continue;
        };
        let config = to_python_json(&layer.get_config());
        let read = find_layer(&config, Some(class.name())).expect("a printed config reads back");
        assert_eq!(read.resolve(DataFormat::ChannelsLast), layer, "{text:?}");
        let dims: Vec<usize> = (0..class.rank()).map(|i| 3 + 2 * i).collect();
        let shape = layer.compute_output_shape(&Shape::known(&dims));
        assert_eq!(shape.is_ok(), layer.kept_ranges(&dims).is_ok(), "{text:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    check_every_layer(s);
    let Ok(c) = s.parse::<Cropping>() else {
        return;
    };
    let canonical = c.to_string();
    assert_eq!(
        canonical.parse::<Cropping>().ok(),
        Some(c),
        "{s:?} parsed to {c:?}, whose canonical form {canonical:?} does not parse back"
    );
    let keras = c.to_keras();
    assert_eq!(
        keras.parse::<Cropping>().ok(),
        Some(c),
        "{s:?} parsed to {c:?}, whose Keras form {keras:?} does not parse back"
    );
    check_layer(c);
});
