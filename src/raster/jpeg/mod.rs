//! JPEG through libjpeg-turbo's TurboJPEG API, the codec Pillow bundles:
//! decoding gives Pillow's pixels (accurate integer IDCT, fancy
//! upsampling), encoding uses libjpeg's settings, and a crop that keeps the
//! block grid is done on the DCT coefficients, as `jpegtran -crop` does it.
//!
//! Decoding is strict: a walk over the file's markers first names a scan
//! or segment cut short, and libjpeg-turbo's warnings ("Premature end of
//! JPEG file", "Corrupt JPEG data") stop it instead of leaving gray rows —
//! but for the few in the headers that Pillow decodes past, which are
//! skipped as Pillow skips them (see `lenient`).

mod chunk;
mod lenient;
mod lossless;
mod markers;
mod read;
mod turbo;
mod write;

pub(super) use chunk::{ChunkColor, decode_chunk};
pub use lossless::{Grid, JpegCrop, Region, crop_lossless, grid};
pub(super) use read::{decode, decode_window, probe};
pub(super) use write::encode;
