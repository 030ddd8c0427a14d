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
use rcrop::{Cropping, Cropping2D, DataFormat, Shape};

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

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
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
