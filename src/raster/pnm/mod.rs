//! PNM — PBM, PGM and PPM, plain (`P1`–`P3`) and raw (`P4`–`P6`) — read
//! and written a row at a time. Headers and samples are read as Pillow reads
//! them, so the pixels are those Keras' `load_img` gives: a bitmap becomes
//! 8-bit gray of 0 (black) and 255 (white), a maximum value other than 255
//! or 65535 scales the samples to 0–255 (up to 255) or 0–65535 (above),
//! rounding halves to even as Python does, and a sample above the maximum
//! value is the top of the range in a raw file and refused in a plain one.
//! Above 255, samples are 16-bit (Pillow's PGM reader gives the same values
//! in 32-bit mode `I`; its PPM reader cuts RGB to 8 bits, which rcrop
//! does not). Written files are `P5` or `P6` at 255 or 65535, as Pillow
//! writes them.

mod read;
mod write;

pub(super) use read::{decode, is_pnm, probe, source};
pub(super) use write::{encode, sink};

#[cfg(test)]
mod tests;
