//! Luminance/chroma to RGB as OpenEXR's RGBA interface converts it
//! (`Imf::RgbaInputFile` over ImfRgbaYca.cpp): the chroma of every second
//! pixel of every second row is filled in along the rows, then down the
//! columns, by OpenEXR's 27-tap filters; each pixel becomes RGB by the
//! luminance weights of the file's chromaticities (Rec. 709's without them);
//! a pixel more saturated than its neighbours is toned down. Every step
//! rounds what it keeps to half and computes in float32 in the order
//! OpenEXR's C++ does, as OpenEXR's `Rgba` pixels hold half samples, so the
//! pixels are OpenEXR's bit for bit.
//!
//! Rows outside the data window repeat its first row and its last row with
//! chroma (one above the last row), as OpenEXR clamps them; columns outside
//! it repeat the first and the last chroma sample.

use half::f16;

/// The half samples of a data window in luminance/chroma: `y` and `a` at
/// every pixel, `ry` and `by` at every second pixel of every second row
/// (the width and height are even).
pub(super) struct Planes {
    pub width: usize,
    pub height: usize,
    pub y: Vec<f16>,
    pub ry: Vec<f16>,
    pub by: Vec<f16>,
    pub a: Option<Vec<f16>>,
}

/// The CIE xy chromaticities of the red, green and blue primaries and of the
/// white point.
pub(super) struct Chromaticities {
    pub red: [f32; 2],
    pub green: [f32; 2],
    pub blue: [f32; 2],
    pub white: [f32; 2],
}

impl Default for Chromaticities {
    /// Rec. ITU-R BT.709, OpenEXR's default.
    fn default() -> Self {
        Self {
            red: [0.6400, 0.3300],
            green: [0.3000, 0.6000],
            blue: [0.1500, 0.0600],
            white: [0.3127, 0.3290],
        }
    }
}

/// One pixel as OpenEXR's `Rgba` holds it between steps, alpha aside (it
/// passes through unchanged): luminance/chroma (`r` = RY, `g` = Y, `b` = BY)
/// or RGB.
#[derive(Clone, Copy, Default)]
struct Px {
    r: f16,
    g: f16,
    b: f16,
}

/// The taps of OpenEXR's chroma reconstruction filter, for the samples 13,
/// 11, …, 1 before the missing one and 1, 3, …, 13 after it.
const TAPS: [f32; 14] = [
    0.002128, -0.007540, 0.019597, -0.043159, 0.087929, -0.186077, 0.627123, 0.627123, -0.186077,
    0.087929, -0.043159, 0.019597, -0.007540, 0.002128,
];

/// The offsets of [`TAPS`], in the order OpenEXR sums them.
fn tap_offsets() -> impl Iterator<Item = (isize, f32)> {
    (-13..=13).step_by(2).zip(TAPS)
}

/// The filter over 14 samples, summed from the first product on.
fn filter(sample: impl Fn(isize) -> f16) -> f16 {
    let mut taps = tap_offsets().map(|(k, c)| sample(k).to_f32() * c);
    let first = taps.next().unwrap_or_default();
    f16::from_f32(taps.fold(first, |sum, v| sum + v))
}

/// The luminance weights of `c`, as OpenEXR's `computeYw`; `None` for
/// chromaticities OpenEXR refuses (white at y 0, or collinear primaries).
pub(super) fn luminance_weights(c: &Chromaticities) -> Option<[f32; 3]> {
    let ([rx, ry], [gx, gy], [bx, by], [wx, wy]) = (c.red, c.green, c.blue, c.white);
    let y = 1.0_f32;
    if wy.abs() <= 1.0 && (wx * y).abs() >= wy.abs() * f32::MAX {
        return None;
    }
    let x = wx * y / wy;
    let z = (1.0 - wx - wy) * y / wy;
    let d = rx * (by - gy) + bx * (gy - ry) + gx * (ry - by);
    let sr_n =
        x * (by - gy) - gx * (y * (by - 1.0) + by * (x + z)) + bx * (y * (gy - 1.0) + gy * (x + z));
    let sg_n =
        x * (ry - by) + rx * (y * (by - 1.0) + by * (x + z)) - bx * (y * (ry - 1.0) + ry * (x + z));
    let sb_n =
        x * (gy - ry) - rx * (y * (gy - 1.0) + gy * (x + z)) + gx * (y * (ry - 1.0) + ry * (x + z));
    let limit = d.abs() * f32::MAX;
    if d.abs() < 1.0 && (sr_n.abs() >= limit || sg_n.abs() >= limit || sb_n.abs() >= limit) {
        return None;
    }
    let m = [sr_n / d * ry, sg_n / d * gy, sb_n / d * by];
    let sum = m[0] + m[1] + m[2];
    Some([m[0] / sum, m[1] / sum, m[2] / sum])
}

/// The data window as RGB, or RGBA when it has alpha, row by row.
pub(super) fn to_rgb(planes: &Planes, yw: [f32; 3]) -> Vec<f32> {
    let (w, h) = (planes.width, planes.height);
    let channels = if planes.a.is_some() { 4 } else { 3 };
    let chroma = horizontal(planes);
    let rgb = |row: isize| rgb_row(planes, &chroma, row, yw);
    let mut out = Vec::with_capacity(w * h * channels);
    let (mut above, mut here) = (rgb(-1), rgb(0));
    for row in 0..h {
        let below = rgb(row as isize + 1);
        let fixed = fix_saturation(yw, [&above, &here, &below]);
        let alpha = planes.a.as_ref().map(|a| &a[row * w..(row + 1) * w]);
        for (x, p) in fixed.iter().enumerate() {
            out.extend([p.r, p.g, p.b].map(f16::to_f32));
            if let Some(alpha) = alpha {
                out.push(alpha[x].to_f32());
            }
        }
        (above, here) = (here, below);
    }
    out
}

/// The row OpenEXR reads for `row`: the first for those above the window,
/// the last with chroma (one above the last) for those below it.
fn clamp_row(row: isize, height: usize) -> usize {
    if row < 0 {
        0
    } else if row as usize >= height {
        height - 2
    } else {
        row as usize
    }
}

/// Chroma (RY, BY) at every pixel of every second row, filled in along the
/// row as OpenEXR's `reconstructChromaHoriz` does.
fn horizontal(planes: &Planes) -> Vec<Vec<(f16, f16)>> {
    let (w, half_w) = (planes.width, planes.width / 2);
    (0..planes.height / 2)
        .map(|r| {
            let ry = &planes.ry[r * half_w..(r + 1) * half_w];
            let by = &planes.by[r * half_w..(r + 1) * half_w];
            let at = |plane: &[f16], x: isize| plane[x.clamp(0, w as isize - 2) as usize / 2];
            (0..w as isize)
                .map(|x| {
                    if x % 2 == 0 {
                        (at(ry, x), at(by, x))
                    } else {
                        (filter(|k| at(ry, x + k)), filter(|k| at(by, x + k)))
                    }
                })
                .collect()
        })
        .collect()
}

/// Row `row` (-1 to the height) in RGB before the saturation fix: a row with
/// chroma as it is, another with chroma filled in down the columns from the
/// rows 1, 3, … 13 above and below (`reconstructChromaVert`); then
/// `YCAtoRGBA`.
fn rgb_row(planes: &Planes, chroma: &[Vec<(f16, f16)>], row: isize, yw: [f32; 3]) -> Vec<Px> {
    let (w, h) = (planes.width, planes.height);
    let luma = &planes.y[clamp_row(row, h) * w..][..w];
    let chroma_row = |r: isize| &chroma[clamp_row(r, h) / 2];
    (0..w)
        .map(|x| {
            let (r, b) = if row % 2 == 0 {
                chroma_row(row)[x]
            } else {
                (
                    filter(|k| chroma_row(row + k)[x].0),
                    filter(|k| chroma_row(row + k)[x].1),
                )
            };
            to_rgba(Px { r, g: luma[x], b }, yw)
        })
        .collect()
}

/// OpenEXR's `YCAtoRGBA` of one pixel.
fn to_rgba(p: Px, yw: [f32; 3]) -> Px {
    if p.r.to_f32() == 0.0 && p.b.to_f32() == 0.0 {
        return Px {
            r: p.g,
            g: p.g,
            b: p.g,
        };
    }
    let y = p.g.to_f32();
    let r = (p.r.to_f32() + 1.0) * y;
    let b = (p.b.to_f32() + 1.0) * y;
    let g = (y - r * yw[0] - b * yw[2]) / yw[1];
    Px {
        r: f16::from_f32(r),
        g: f16::from_f32(g),
        b: f16::from_f32(b),
    }
}

/// `std::max` and `std::min` as C++ has them (the first argument unless the
/// second compares greater or less), which decides what a NaN gives.
fn max(a: f32, b: f32) -> f32 {
    if a < b { b } else { a }
}

fn min(a: f32, b: f32) -> f32 {
    if b < a { b } else { a }
}

fn saturation(p: Px) -> f32 {
    let (r, g, b) = (p.r.to_f32(), p.g.to_f32(), p.b.to_f32());
    let (high, low) = (max(r, max(g, b)), min(r, min(g, b)));
    if high > 0.0 { 1.0 - low / high } else { 0.0 }
}

/// OpenEXR's `fixSaturation`: a pixel whose saturation passes the mean of
/// its four diagonal neighbours' by enough is desaturated.
fn fix_saturation(yw: [f32; 3], rows: [&[Px]; 3]) -> Vec<Px> {
    let n = rows[1].len();
    let at = |row: &[Px], x: usize| saturation(row[x.min(n - 1)]);
    (0..n)
        .map(|x| {
            let left = x.saturating_sub(1);
            let s_mean = min(
                1.0,
                0.25 * (at(rows[0], left)
                    + at(rows[0], x + 1)
                    + at(rows[2], left)
                    + at(rows[2], x + 1)),
            );
            let p = rows[1][x];
            let s = saturation(p);
            if s > s_mean {
                let s_max = min(1.0, 1.0 - (1.0 - s_mean) * 0.25);
                if s > s_max {
                    return desaturate(p, s_max / s, yw);
                }
            }
            p
        })
        .collect()
}

/// OpenEXR's `desaturate`: each sample moved toward the largest by `f`, then
/// all scaled to keep the luminance.
fn desaturate(p: Px, f: f32, yw: [f32; 3]) -> Px {
    let (r, g, b) = (p.r.to_f32(), p.g.to_f32(), p.b.to_f32());
    let high = max(r, max(g, b));
    let toward = |v: f32| f16::from_f32(max(high - (high - v) * f, 0.0));
    let mut out = Px {
        r: toward(r),
        g: toward(g),
        b: toward(b),
    };
    let y_in = r * yw[0] + g * yw[1] + b * yw[2];
    let y_out = out.r.to_f32() * yw[0] + out.g.to_f32() * yw[1] + out.b.to_f32() * yw[2];
    if y_out > 0.0 {
        let scale = |v: f16| f16::from_f32(v.to_f32() * (y_in / y_out));
        out = Px {
            r: scale(out.r),
            g: scale(out.g),
            b: scale(out.b),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rec_709_weighs_luminance_as_its_y_row() {
        let yw = luminance_weights(&Chromaticities::default()).unwrap();
        for (found, expected) in yw.iter().zip([0.2126, 0.7152, 0.0722]) {
            assert!((found - expected).abs() < 1e-4, "{yw:?}");
        }
    }

    #[test]
    fn chromaticities_openexr_refuses_give_no_weights() {
        let white_at_zero = Chromaticities {
            white: [0.3, 0.0],
            ..Chromaticities::default()
        };
        assert!(luminance_weights(&white_at_zero).is_none());
        let on_a_line = Chromaticities {
            red: [0.6, 0.3],
            green: [0.3, 0.3],
            blue: [0.1, 0.3],
            ..Chromaticities::default()
        };
        assert!(luminance_weights(&on_a_line).is_none());
    }

    #[test]
    fn gray_pixels_keep_their_luminance_and_nan_compares_as_cpp_does() {
        let y = f16::from_f32(0.75);
        let gray = to_rgba(
            Px {
                r: f16::ZERO,
                g: y,
                b: f16::ZERO,
            },
            [0.2, 0.7, 0.1],
        );
        assert_eq!([gray.r, gray.g, gray.b], [y, y, y]);
        assert!(max(f32::NAN, 1.0).is_nan());
        assert_eq!(max(1.0, f32::NAN), 1.0);
        assert_eq!(min(1.0, f32::NAN), 1.0);
    }
}
