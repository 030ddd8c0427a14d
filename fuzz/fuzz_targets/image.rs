//! Image files: sniffed as rcrop sniffs them, decoded within a 64 MiB limit,
//! turned into a tensor, cropped, laid out as array bytes and encoded as PNG.
//! Anything may be refused, but nothing may panic; and:
//! - the crop has the shape `Cropping2D::compute_output_shape` promises;
//! - `to_bytes` gives exactly the bytes of that shape;
//! - PNG being lossless, an encoded PNG decodes back to the same tensor.
//!
//! The crops are derived from the image's size, so that they are always
//! valid: `(h/4, h/5)` rows and `(w/3, w/6)` columns channels-last, and the
//! same rule over `(channels, height)` channels-first.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rcrop::raster::{self, EncodeOptions};
use rcrop::{Cropping, Cropping2D, DataFormat, FileKind, Layer};

const LIMIT: u64 = 64 << 20;

fuzz_target!(|data: &[u8]| {
    let Some(FileKind::Image(format)) = FileKind::sniff(&data[..data.len().min(16)]) else {
        return;
    };
    let Ok(raster::Decoded { tensor, icc, .. }) = raster::decode(data, format, LIMIT) else {
        return;
    };
    let Ok(FileKind::Image(png)) = "png".parse::<FileKind>() else {
        unreachable!("rcrop writes PNG");
    };

    for data_format in [DataFormat::ChannelsLast, DataFormat::ChannelsFirst] {
        let shape = tensor.shape(data_format);
        let Some([_, a, b, c]) = shape.dims().and_then(|d| <[usize; 4]>::try_from(d).ok()) else {
            panic!("a tensor's shape is known and 4D: {shape}");
        };
        let (rows, cols) = match data_format {
            DataFormat::ChannelsLast => (a, b),
            DataFormat::ChannelsFirst => (b, c),
        };
        let cropping = Cropping::from_groups((rows / 4, rows / 5), (cols / 3, cols / 6));
        let layer = Layer::from(Cropping2D::new(cropping, data_format));
        let want = match layer.compute_output_shape(&shape) {
            Ok(want) => want,
            // Only an empty image leaves nothing to crop.
            Err(_) => {
                assert!(rows == 0 || cols == 0, "{cropping:?} refused for {shape}");
                continue;
            }
        };
        let cropped = tensor
            .clone()
            .crop(&layer)
            .unwrap_or_else(|e| panic!("compute_output_shape accepted what crop refuses: {e}"));
        assert_eq!(
            cropped.shape(data_format),
            want,
            "{cropping:?} of {shape} ({data_format})"
        );

        let elements: usize = want.dims().expect("known").iter().product();
        assert_eq!(
            cropped.to_bytes(data_format).len(),
            elements * cropped.sample_type().itemsize(),
            "to_bytes' length"
        );

        let Ok((bytes, _warning)) = raster::encode(
            cropped.clone(),
            icc.as_deref(),
            png,
            EncodeOptions::default(),
        ) else {
            // Float samples have no PNG form.
            continue;
        };
        let back = raster::decode(&bytes, png, LIMIT)
            .unwrap_or_else(|e| panic!("a PNG rcrop encoded does not decode: {e}"))
            .tensor;
        assert!(
            back == cropped,
            "the PNG does not decode back to the tensor it encodes"
        );
    }
});
