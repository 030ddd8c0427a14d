//! The Gif decoder alone, much faster than the decode-and-encode `image` target.
#![no_main]

#[path = "decode.rs"]
mod decode;

libfuzzer_sys::fuzz_target!(|data: &[u8]| decode::decode(data, image::ImageFormat::Gif));
