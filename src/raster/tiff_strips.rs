//! TIFF written a strip at a time: uncompressed strips of about 1 MB (the
//! `tiff` crate's own choice), each written as soon as its rows have come,
//! with the ICC profile in its tag. A whole image is written the same way,
//! so both give the same bytes.

use std::io::{Cursor, Seek, Write};

use tiff::TiffError;
use tiff::encoder::{TiffEncoder, colortype};
use tiff::tags::Tag;

use super::RasterError;
use super::rows::RowsInfo;
use crate::tensor::{SampleType, Tensor};

/// Whether TIFF holds an image like `info` (see [`super::tiff::HOLDS`]).
pub(super) fn holds(info: &RowsInfo) -> bool {
    use SampleType as S;
    matches!(
        (info.sample, info.channels),
        (
            S::U8 | S::U16 | S::U32 | S::I8 | S::I16 | S::I32 | S::F32 | S::F64,
            1
        ) | (S::U8 | S::U16 | S::U32 | S::F32 | S::F64, 3 | 4)
    )
}

/// Writes a tensor as a TIFF, with its ICC profile; `None` if TIFF does
/// not hold it.
pub(super) fn encode(tensor: &Tensor, icc: Option<&[u8]>) -> Result<Option<Vec<u8>>, RasterError> {
    let info = RowsInfo {
        width: tensor.width(),
        height: tensor.height(),
        channels: tensor.channels(),
        sample: tensor.sample_type(),
        icc: None,
    };
    if !holds(&info) {
        return Ok(None);
    }
    let mut out = Cursor::new(Vec::new());
    let mut rows = tensor
        .as_le_bytes()
        .chunks(info.row_len().max(1) * 64)
        .map(<[u8]>::to_vec);
    write(&mut out, &info, icc, &mut || rows.next())?;
    Ok(Some(out.into_inner()))
}

/// Writes an image like `info` (which TIFF [`holds`]) to `out`, pulling its
/// rows from `next`: little-endian samples, any whole number of rows a call,
/// `None` once there are none. Fails if they end before the image does.
pub(super) fn write<W: Write + Seek>(
    out: W,
    info: &RowsInfo,
    icc: Option<&[u8]>,
    next: &mut dyn FnMut() -> Option<Vec<u8>>,
) -> Result<(), RasterError> {
    let fail = |e: TiffError| RasterError::Tiff {
        why: format!("cannot encode: {e}"),
    };
    let mut encoder = TiffEncoder::new(out).map_err(fail)?;
    let (w, h) = (info.width as u32, info.height as u32);
    macro_rules! strips {
        ($colour:ty, $t:ty) => {{
            let mut image = encoder.new_image::<$colour>(w, h).map_err(fail)?;
            if let Some(profile) = icc {
                image
                    .encoder()
                    .write_tag(Tag::IccProfile, profile)
                    .map_err(fail)?;
            }
            let size = std::mem::size_of::<$t>();
            let mut pending: Vec<u8> = Vec::new();
            let mut strip: Vec<$t> = Vec::new();
            loop {
                let want = image.next_strip_sample_count() as usize * size;
                if want == 0 {
                    break;
                }
                while pending.len() < want {
                    match next() {
                        Some(rows) => pending.extend_from_slice(&rows),
                        None => {
                            return Err(RasterError::Tiff {
                                why: "cannot encode: the image's rows ended early".into(),
                            });
                        }
                    }
                }
                strip.clear();
                strip.extend(
                    pending[..want]
                        .chunks_exact(size)
                        .map(|b| <$t>::from_le_bytes(b.try_into().expect("one sample"))),
                );
                pending.drain(..want);
                image.write_strip(&strip).map_err(fail)?;
            }
            image.finish().map_err(fail)?;
        }};
    }
    use SampleType as S;
    match (info.sample, info.channels) {
        (S::U8, 1) => strips!(colortype::Gray8, u8),
        (S::U16, 1) => strips!(colortype::Gray16, u16),
        (S::U32, 1) => strips!(colortype::Gray32, u32),
        (S::I8, 1) => strips!(colortype::GrayI8, i8),
        (S::I16, 1) => strips!(colortype::GrayI16, i16),
        (S::I32, 1) => strips!(colortype::GrayI32, i32),
        (S::F32, 1) => strips!(colortype::Gray32Float, f32),
        (S::F64, 1) => strips!(colortype::Gray64Float, f64),
        (S::U8, 3) => strips!(colortype::RGB8, u8),
        (S::U16, 3) => strips!(colortype::RGB16, u16),
        (S::U32, 3) => strips!(colortype::RGB32, u32),
        (S::F32, 3) => strips!(colortype::RGB32Float, f32),
        (S::F64, 3) => strips!(colortype::RGB64Float, f64),
        (S::U8, 4) => strips!(colortype::RGBA8, u8),
        (S::U16, 4) => strips!(colortype::RGBA16, u16),
        (S::U32, 4) => strips!(colortype::RGBA32, u32),
        (S::F32, 4) => strips!(colortype::RGBA32Float, f32),
        (S::F64, 4) => strips!(colortype::RGBA64Float, f64),
        _ => {
            return Err(RasterError::CannotHold {
                format: "TIFF",
                found: format!("{} {}-channel", info.sample.name(), info.channels),
                holds: super::tiff::HOLDS,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strips written as rows come equal the `tiff` crate's own
    /// whole-image writer, whatever rows a call brings.
    #[test]
    fn strips_from_rows_equal_the_whole_image_writer() {
        let (w, h) = (700u32, 1300u32);
        let samples: Vec<u16> = (0..w * h * 3)
            .map(|i| (u64::from(i) * 7919 % 65536) as u16)
            .collect();
        let mut whole = Cursor::new(Vec::new());
        TiffEncoder::new(&mut whole)
            .unwrap()
            .write_image::<colortype::RGB16>(w, h, &samples)
            .unwrap();
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let info = RowsInfo {
            width: w as usize,
            height: h as usize,
            channels: 3,
            sample: SampleType::U16,
            icc: None,
        };
        let line = info.row_len();
        for rows_a_call in [1, 7, 1300] {
            let mut chunks = bytes.chunks(line * rows_a_call).map(<[u8]>::to_vec);
            let mut out = Cursor::new(Vec::new());
            write(&mut out, &info, None, &mut || chunks.next()).unwrap();
            assert!(
                out.get_ref() == whole.get_ref(),
                "{rows_a_call} rows a call"
            );
        }
        let mut short = bytes.chunks(line * 100).take(3).map(<[u8]>::to_vec);
        let err = write(Cursor::new(Vec::new()), &info, None, &mut || short.next()).unwrap_err();
        assert!(err.to_string().contains("rows ended early"), "{err}");
    }
}
