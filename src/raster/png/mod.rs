//! PNG: read a row at a time when it is not interlaced, written a row at a
//! time on every core; a whole image goes through the same writer, so both
//! give the same bytes.

mod read;
mod write;

pub(super) use read::{STREAMABLE_HEAD, decode, probe, source, streams};
pub(super) use write::{encode, sink};
