//! Old-style LZW, written before TIFF 6: codes packed from the low bit,
//! their width growing one code later than TIFF 6's. libtiff still reads
//! it (its `LZWDecodeCompat`), telling it apart by the first two bytes;
//! the `tiff` crate does not, so these strips are decoded here.

use weezl::decode::Decoder;
use weezl::{BitOrder, LzwStatus};

use super::read::refuse;
use crate::raster::RasterError;

/// Whether LZW data starts as only old-style LZW does: libtiff's test, a
/// first byte of 0 (a new-style stream starts with a clear code, 256,
/// from the high bit) and a second byte with its low bit set.
pub(super) fn is_old_style(data: &[u8]) -> bool {
    matches!(data, [0, second, ..] if second & 1 == 1)
}

/// Decodes `data` into `out`, which it must fill, as libtiff refuses a
/// strip that holds fewer bytes than its rows.
pub(super) fn decode(data: &[u8], out: &mut [u8]) -> Result<(), RasterError> {
    let mut decoder = Decoder::new(BitOrder::Lsb, 8);
    let (mut read, mut written) = (0, 0);
    while written < out.len() {
        let result = decoder.decode_bytes(&data[read..], &mut out[written..]);
        read += result.consumed_in;
        written += result.consumed_out;
        match result.status {
            Err(e) => return Err(refuse(format!("an old-style LZW strip: {e}"))),
            Ok(LzwStatus::Ok) if result.consumed_in + result.consumed_out > 0 => {}
            Ok(_) if written == out.len() => {}
            Ok(_) => {
                return Err(refuse(format!(
                    "an old-style LZW strip of {written} bytes where its rows hold {}",
                    out.len()
                )));
            }
        }
    }
    Ok(())
}
