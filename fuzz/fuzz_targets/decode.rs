//! What the decode-only targets share: one image format's decoder, run on
//! anything, within a 64 MiB image limit. Anything may be refused, but
//! nothing may panic (a codec panic that the guard caught is a finding
//! too), and a decoded tensor has the size it claims.

use rcrop::raster;

const LIMIT: u64 = 64 << 20;

pub fn decode(data: &[u8], format: image::ImageFormat) {
    match raster::decode(data, format, LIMIT) {
        Ok(raster::Decoded { tensor, .. }) => {
            let samples = tensor.height() * tensor.width() * tensor.channels();
            assert_eq!(
                tensor.as_le_bytes().len(),
                samples * tensor.sample_type().itemsize(),
                "a tensor of the wrong size"
            );
            let (h, w, c, sample) = raster::probe(data, format, LIMIT)
                .unwrap_or_else(|e| panic!("decoded, but the probe refuses it: {e}"));
            assert_eq!(
                (h, w, c, sample),
                (tensor.height(), tensor.width(), tensor.channels(), tensor.sample_type()),
                "the probe and the decoder disagree"
            );
        }
        Err(raster::RasterError::Panic { message, .. }) => panic!("a codec panicked: {message}"),
        Err(_) => {}
    }
}
