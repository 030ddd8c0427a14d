//! YCbCr without JPEG, as libtiff's RGBA interface (`TIFFReadRGBAImage`,
//! `tiff2rgba`) gives it: each block of `h × v` luma samples shares one
//! Cb and one Cr, and every pixel is converted with libtiff's tables,
//! built from YCbCrCoefficients and ReferenceBlackWhite in single-precision
//! floats as `TIFFYCbCrToRGBInit` builds them.

use std::io::{Read, Seek};

use tiff::decoder::{Decoder, ifd::Value};
use tiff::tags::Tag;

use super::read::{decode_error, refuse};
use crate::raster::RasterError;

/// The tags YCbCrCoefficients, YCbCrSubSampling and ReferenceBlackWhite,
/// which the `tiff` crate does not name.
const COEFFICIENTS: Tag = Tag::Unknown(0x0211);
const SUBSAMPLING: Tag = Tag::Unknown(0x0212);
const REFERENCE_BLACK_WHITE: Tag = Tag::Unknown(0x0214);

const SHIFT: u32 = 16;
const ONE_HALF: i32 = 1 << (SHIFT - 1);

/// The chroma subsampling of a page and libtiff's conversion tables.
pub(super) struct YCbCr {
    /// Luma samples of a block across and down.
    pub h: usize,
    pub v: usize,
    cr_r: [i32; 256],
    cb_b: [i32; 256],
    cr_g: [i32; 256],
    cb_g: [i32; 256],
    y: [i32; 256],
}

impl YCbCr {
    pub fn read<R: Read + Seek>(decoder: &mut Decoder<R>) -> Result<Self, RasterError> {
        let sub = decoder
            .find_tag_unsigned_vec::<u16>(SUBSAMPLING)
            .map_err(decode_error)?
            .unwrap_or_else(|| vec![2, 2]);
        let (h, v) = match sub[..] {
            [h @ (1 | 2 | 4), v @ (1 | 2 | 4)] if v <= h => (usize::from(h), usize::from(v)),
            _ => return Err(refuse(format!("YCbCrSubsampling {sub:?} is not read"))),
        };
        let mut rationals = |tag: Tag, default: &[f32]| -> Result<Vec<f32>, RasterError> {
            let Some(value) = decoder.find_tag(tag).map_err(decode_error)? else {
                return Ok(default.to_vec());
            };
            let items = match value {
                Value::List(items) => items,
                one => vec![one],
            };
            let found: Vec<f32> = items
                .into_iter()
                .map(|item| match item {
                    // As libtiff reads a RATIONAL: a float of the quotient.
                    Value::Rational(n, d) => (f64::from(n) / f64::from(d)) as f32,
                    _ => f32::NAN,
                })
                .collect();
            match found.len() == default.len() && found.iter().all(|f| f.is_finite()) {
                true => Ok(found),
                false => Err(refuse(format!("a {tag:?} of {found:?}"))),
            }
        };
        let luma = rationals(COEFFICIENTS, &[0.299, 0.587, 0.114])?;
        let reference = rationals(
            REFERENCE_BLACK_WHITE,
            &[0.0, 255.0, 128.0, 255.0, 128.0, 255.0],
        )?;
        if luma[1] == 0.0 {
            return Err(refuse("YCbCrCoefficients with a green of 0"));
        }
        Ok(Self::tables(h, v, &luma, &reference))
    }

    fn tables(h: usize, v: usize, luma: &[f32], rbw: &[f32]) -> Self {
        let fix = |x: f32| (f64::from(x * 65536.0) + 0.5) as i32;
        let clamp2 = |f: f32| f.clamp(0.0, 2.0);
        let f1 = 2.0 - 2.0 * luma[0];
        let d1 = fix(clamp2(f1));
        let d2 = -fix(clamp2(luma[0] * f1 / luma[1]));
        let f3 = 2.0 - 2.0 * luma[2];
        let d3 = fix(clamp2(f3));
        let d4 = -fix(clamp2(luma[2] * f3 / luma[1]));
        let code = |c: i32, black: f32, white: f32, range: f32| {
            let span = if white - black != 0.0 {
                white - black
            } else {
                1.0
            };
            let v = ((c - black as i32) as f32 * range) / span;
            v.clamp(-128.0 * 32.0, 128.0 * 32.0) as i32
        };
        let mut t = Self {
            h,
            v,
            cr_r: [0; 256],
            cb_b: [0; 256],
            cr_g: [0; 256],
            cb_g: [0; 256],
            y: [0; 256],
        };
        for (i, x) in (-128..128).enumerate() {
            let cr = code(x, rbw[4] - 128.0, rbw[5] - 128.0, 127.0);
            let cb = code(x, rbw[2] - 128.0, rbw[3] - 128.0, 127.0);
            t.cr_r[i] = (d1.wrapping_mul(cr) + ONE_HALF) >> SHIFT;
            t.cb_b[i] = (d3.wrapping_mul(cb) + ONE_HALF) >> SHIFT;
            t.cr_g[i] = d2.wrapping_mul(cr);
            t.cb_g[i] = d4.wrapping_mul(cb) + ONE_HALF;
            t.y[i] = code(x + 128, rbw[0], rbw[1], 255.0);
        }
        t
    }

    /// Bytes of a data unit: a block's luma samples, then Cb and Cr.
    pub fn unit(&self) -> usize {
        self.h * self.v + 2
    }

    /// Bytes of one row of blocks of a chunk `width` pixels wide.
    pub fn block_row(&self, width: usize) -> usize {
        width.div_ceil(self.h) * self.unit()
    }

    /// Pixels `xs` of row `sub` (0 to `v − 1`) of a row of blocks, to RGB.
    pub fn to_rgb(&self, blocks: &[u8], sub: usize, xs: std::ops::Range<usize>, dest: &mut [u8]) {
        let unit = self.unit();
        for (x, rgb) in xs.zip(dest.chunks_exact_mut(3)) {
            let block = &blocks[x / self.h * unit..][..unit];
            let y = usize::from(block[sub * self.h + x % self.h]);
            let (cb, cr) = (usize::from(block[unit - 2]), usize::from(block[unit - 1]));
            let y = self.y[y];
            let r = y + self.cr_r[cr];
            let g = y + ((self.cb_g[cb] + self.cr_g[cr]) >> SHIFT);
            let b = y + self.cb_b[cb];
            rgb.copy_from_slice(&[r, g, b].map(|c| c.clamp(0, 255) as u8));
        }
    }
}
