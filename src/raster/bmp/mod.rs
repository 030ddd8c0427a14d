//! BMP: decoded whole by the `image` crate after its headers are put as
//! other readers take them, or a row at a time from a file when its rows
//! are stored uncompressed; written whole by the `image` crate's encoder,
//! or a row at a time into a file, byte for byte the same. 16-bit pixels
//! are read as Pillow reads them.

mod read;
mod sixteen;
mod write;

pub(super) use read::{STREAMABLE_HEAD, decode, probe, source, streams};
pub(super) use write::{encode, file_sink};

#[cfg(test)]
mod tests;
