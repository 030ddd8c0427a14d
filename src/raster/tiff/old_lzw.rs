//! Old-style LZW, written before TIFF 6: codes packed from the low bit,
//! their width growing one code later than TIFF 6's. libtiff still reads
//! it (its `LZWDecodeCompat`), telling it apart by the first two bytes;
//! the `tiff` crate does not, so these strips and tiles are decoded here,
//! and their horizontal predictor undone, as libtiff undoes it.

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

/// A strip or tile of samples of at most 8 bits, as stored and as kept.
pub(super) struct Chunk {
    /// Pixels across and rows as stored: a tile's whole size, edges too.
    pub stored: (usize, usize),
    /// Pixels across and rows inside the image, as the `tiff` crate gives
    /// a chunk.
    pub kept: (usize, usize),
    /// Bits of a sample and samples of a pixel in the chunk.
    pub bits: usize,
    pub samples: usize,
    pub predictor: u16,
}

impl Chunk {
    fn row_bytes(&self, width: usize) -> usize {
        (width * self.bits * self.samples).div_ceil(8)
    }

    /// Bytes as stored, refused over `limit`.
    fn stored_len(&self, limit: u64) -> Result<usize, RasterError> {
        let len = (self.row_bytes(self.stored.0) as u64).saturating_mul(self.stored.1 as u64);
        if len > limit {
            return Err(RasterError::Limit {
                format: "TIFF",
                limit_mib: limit >> 20,
            });
        }
        Ok(len as usize)
    }

    /// Decodes `data` into `out`, sized for the kept rows: the whole chunk
    /// as stored (libtiff refuses one that holds fewer bytes), its
    /// predictor undone, cut to the kept pixels.
    pub fn decode(&self, data: &[u8], out: &mut [u8], limit: u64) -> Result<(), RasterError> {
        if self.predictor != 1 && (self.predictor != 2 || self.bits != 8) {
            return Err(refuse(format!(
                "old-style LZW with Predictor {} and {}-bit samples is not read (libtiff \
                 undoes predictor 2 of 8-bit samples)",
                self.predictor, self.bits
            )));
        }
        let (stored, kept) = (self.row_bytes(self.stored.0), self.row_bytes(self.kept.0));
        let mut whole = Vec::new();
        let all = match self.stored == self.kept {
            true => &mut *out,
            false => {
                whole.resize(self.stored_len(limit)?, 0);
                &mut whole[..]
            }
        };
        decode(data, all)?;
        if self.predictor == 2 {
            for row in all.chunks_exact_mut(stored) {
                for i in self.samples..row.len() {
                    row[i] = row[i].wrapping_add(row[i - self.samples]);
                }
            }
        }
        if self.stored != self.kept {
            for (to, from) in out.chunks_exact_mut(kept).zip(whole.chunks_exact(stored)) {
                to.copy_from_slice(&from[..kept]);
            }
        }
        Ok(())
    }
}

/// Decodes `data` into `out`, which it must fill, as libtiff refuses a
/// strip that holds fewer bytes than its rows.
fn decode(data: &[u8], out: &mut [u8]) -> Result<(), RasterError> {
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
