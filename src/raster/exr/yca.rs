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
use half::slice::HalfFloatSliceExt;

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

/// The taps of OpenEXR's chroma reconstruction filter, for the samples 13,
/// 11, …, 1 before the missing one and 1, 3, …, 13 after it, in the order
/// OpenEXR sums them.
const TAPS: [(isize, f32); 14] = [
    (-13, 0.002128),
    (-11, -0.007540),
    (-9, 0.019597),
    (-7, -0.043159),
    (-5, 0.087929),
    (-3, -0.186077),
    (-1, 0.627123),
    (1, 0.627123),
    (3, -0.186077),
    (5, 0.087929),
    (7, -0.043159),
    (9, 0.019597),
    (11, -0.007540),
    (13, 0.002128),
];

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

/// A row of pixels as OpenEXR's `Rgba` holds it between steps, alpha aside
/// (it passes through unchanged): luminance/chroma (`r` = RY, `g` = Y, `b` =
/// BY) or RGB, each sample a half widened to float32.
struct Row {
    r: Vec<f32>,
    g: Vec<f32>,
    b: Vec<f32>,
}

/// Rounds every value to half, as storing it in OpenEXR's `Rgba` does.
fn round_to_half(values: &mut [f32]) {
    let mut halves = vec![f16::ZERO; values.len()];
    halves.convert_from_f32_slice(values);
    halves.convert_to_f32_slice(values);
}

fn widen(halves: &[f16]) -> Vec<f32> {
    let mut out = vec![0.0; halves.len()];
    halves.convert_to_f32_slice(&mut out);
    out
}

/// The data window as RGB, or RGBA when it has alpha, row by row.
pub(super) fn to_rgb(planes: &Planes, yw: [f32; 3]) -> Vec<f32> {
    let (w, h) = (planes.width, planes.height);
    let channels = if planes.a.is_some() { 4 } else { 3 };
    let chroma = [horizontal(&planes.ry, w), horizontal(&planes.by, w)];
    let rgb = |row: isize| {
        let rgb = to_rgba(rgb_row(&planes.y, &chroma, row, w, h), yw);
        let saturations: Vec<f32> = (0..w).map(|x| saturation(&rgb, x)).collect();
        (rgb, saturations)
    };
    let mut out = Vec::with_capacity(w * h * channels);
    let (mut above, mut here) = (rgb(-1), rgb(0));
    for row in 0..h {
        let below = rgb(row as isize + 1);
        let fixed = fix_saturation(yw, &here.0, [&above.1, &here.1, &below.1]);
        let alpha = planes.a.as_deref().map(|a| widen(&a[row * w..][..w]));
        for x in 0..w {
            out.extend([fixed.r[x], fixed.g[x], fixed.b[x]]);
            if let Some(alpha) = &alpha {
                out.push(alpha[x]);
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

/// One chroma plane at every pixel of every second row, filled in along the
/// row as OpenEXR's `reconstructChromaHoriz` does (the first and the last
/// sample repeated beyond the row's ends).
fn horizontal(plane: &[f16], w: usize) -> Vec<Vec<f32>> {
    plane
        .chunks_exact(w / 2)
        .map(|samples| {
            let samples = widen(samples);
            let at = |x: isize| samples[x.clamp(0, w as isize - 2) as usize / 2];
            let mut row: Vec<f32> = (0..w as isize)
                .map(|x| match x % 2 {
                    0 => at(x),
                    _ => sum_taps(|k| at(x + k)),
                })
                .collect();
            round_to_half(&mut row);
            row
        })
        .collect()
}

/// OpenEXR's filter sum, from the first product on.
fn sum_taps(sample: impl Fn(isize) -> f32) -> f32 {
    let [(k0, c0), rest @ ..] = TAPS;
    rest.iter()
        .fold(sample(k0) * c0, |sum, &(k, c)| sum + sample(k) * c)
}

/// Row `row` (-1 to the height) in luminance/chroma: a row with chroma as it
/// is, another with chroma filled in down the columns from the rows 1, 3, …
/// 13 above and below (`reconstructChromaVert`).
fn rgb_row(luma: &[f16], chroma: &[Vec<Vec<f32>>; 2], row: isize, w: usize, h: usize) -> Row {
    let g = widen(&luma[clamp_row(row, h) * w..][..w]);
    let [r, b] = chroma.each_ref().map(|rows| {
        let at = |k: isize| &rows[clamp_row(row + k, h) / 2];
        if row % 2 == 0 {
            return at(0).clone();
        }
        let [(k0, c0), rest @ ..] = TAPS;
        let mut sum: Vec<f32> = at(k0).iter().map(|v| v * c0).collect();
        for (k, c) in rest {
            for (s, v) in sum.iter_mut().zip(at(k)) {
                *s += v * c;
            }
        }
        round_to_half(&mut sum);
        sum
    });
    Row { r, g, b }
}

/// OpenEXR's `YCAtoRGBA` of a row.
fn to_rgba(yca: Row, yw: [f32; 3]) -> Row {
    let mut rgb = Row {
        r: yca.g.clone(),
        g: yca.g.clone(),
        b: yca.g.clone(),
    };
    for x in 0..yca.g.len() {
        if yca.r[x] == 0.0 && yca.b[x] == 0.0 {
            continue;
        }
        let y = yca.g[x];
        let r = (yca.r[x] + 1.0) * y;
        let b = (yca.b[x] + 1.0) * y;
        rgb.r[x] = r;
        rgb.g[x] = (y - r * yw[0] - b * yw[2]) / yw[1];
        rgb.b[x] = b;
    }
    for samples in [&mut rgb.r, &mut rgb.g, &mut rgb.b] {
        round_to_half(samples);
    }
    rgb
}

/// `std::max` and `std::min` as C++ has them (the first argument unless the
/// second compares greater or less), which decides what a NaN gives.
fn max(a: f32, b: f32) -> f32 {
    if a < b { b } else { a }
}

fn min(a: f32, b: f32) -> f32 {
    if b < a { b } else { a }
}

fn saturation(p: &Row, x: usize) -> f32 {
    let (r, g, b) = (p.r[x], p.g[x], p.b[x]);
    let (high, low) = (max(r, max(g, b)), min(r, min(g, b)));
    if high > 0.0 { 1.0 - low / high } else { 0.0 }
}

/// OpenEXR's `fixSaturation` of `row`, given the saturations of the rows
/// above, of it and below: a pixel whose saturation passes the mean of its
/// four diagonal neighbours' by enough is desaturated.
fn fix_saturation(yw: [f32; 3], row: &Row, saturations: [&[f32]; 3]) -> Row {
    let n = row.g.len();
    let mut out = Row {
        r: row.r.clone(),
        g: row.g.clone(),
        b: row.b.clone(),
    };
    let [above, here, below] = saturations;
    for (x, &s) in here.iter().enumerate() {
        let (left, right) = (x.saturating_sub(1), (x + 1).min(n - 1));
        let s_mean = min(
            1.0,
            0.25 * (above[left] + above[right] + below[left] + below[right]),
        );
        if s > s_mean {
            let s_max = min(1.0, 1.0 - (1.0 - s_mean) * 0.25);
            if s > s_max {
                [out.r[x], out.g[x], out.b[x]] =
                    desaturate([row.r[x], row.g[x], row.b[x]], s_max / s, yw);
            }
        }
    }
    out
}

/// A value stored in half.
fn half(v: f32) -> f32 {
    f16::from_f32(v).to_f32()
}

/// OpenEXR's `desaturate`: each sample moved toward the largest by `f`, then
/// all scaled to keep the luminance.
fn desaturate([r, g, b]: [f32; 3], f: f32, yw: [f32; 3]) -> [f32; 3] {
    let high = max(r, max(g, b));
    let out = [r, g, b].map(|v| half(max(high - (high - v) * f, 0.0)));
    let y_in = r * yw[0] + g * yw[1] + b * yw[2];
    let y_out = out[0] * yw[0] + out[1] * yw[1] + out[2] * yw[2];
    if y_out > 0.0 {
        return out.map(|v| half(v * (y_in / y_out)));
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
        let yca = Row {
            r: vec![0.0, 0.5],
            g: vec![0.75, 2.0],
            b: vec![0.0, -0.25],
        };
        let rgb = to_rgba(yca, [0.25, 0.5, 0.25]);
        assert_eq!([rgb.r[0], rgb.g[0], rgb.b[0]], [0.75; 3]);
        assert_eq!([rgb.r[1], rgb.g[1], rgb.b[1]], [3.0, 1.75, 1.5]);
        assert!(max(f32::NAN, 1.0).is_nan());
        assert_eq!(max(1.0, f32::NAN), 1.0);
        assert_eq!(min(1.0, f32::NAN), 1.0);
    }
}
