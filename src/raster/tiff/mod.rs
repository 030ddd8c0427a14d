//! TIFF: the first page decoded whole or a window at a time from a file,
//! through the `tiff` crate's chunk reader, for every layout and sample
//! format; written a strip at a time by the `tiff` crate's encoder, whole
//! or into a file, the same bytes either way.

mod ahead;
mod chunk;
mod direct;
mod g4;
mod ifd;
mod jpeg_chunks;
mod lzw;
mod old_lzw;
mod page;
mod patch;
mod place;
mod predict;
mod raw;
mod read;
mod shared;
mod tables;
mod write;
mod ycbcr;

pub(super) use read::{decode, probe, source};
pub(super) use write::{encode, sink};

#[cfg(test)]
mod tests;
