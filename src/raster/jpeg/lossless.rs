//! JPEG cropped on its DCT coefficients, as `jpegtran -crop` does, when
//! the crop keeps the block grid.

use std::os::raw::c_int;
use std::ptr;

use turbojpeg_sys as tj;

use super::lenient::open;
use super::markers::check_complete;
use super::turbo::{TjBuffer, damaged};
use crate::raster::RasterError;

/// How a JPEG is cropped into a JPEG (`--lossless`, `--reencode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum JpegCrop {
    /// Losslessly when the crop keeps the block grid, else re-encoded.
    #[default]
    Auto,
    /// Losslessly, or not at all.
    Lossless,
    /// Always decoded, cropped and re-encoded.
    Reencode,
}

/// A region of a JPEG in pixels: left, top, width, height.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub left: usize,
    pub top: usize,
    pub width: usize,
    pub height: usize,
}

/// Whether a crop can be done without re-encoding, from a JPEG's headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grid {
    /// The region starts on the block grid: it can be cut losslessly.
    On,
    /// It does not: the MCU's width and height, and the nearest regions
    /// that start on the grid (the offsets rounded down and up).
    Off {
        mcu: (usize, usize),
        nearest: Vec<Region>,
    },
    /// The file's sampling has no grid TurboJPEG can cut.
    Unknown,
}

/// Where `region` of the JPEG lies against its block grid.
pub fn grid(bytes: &[u8], region: Region) -> Result<Grid, RasterError> {
    let header = open(bytes, tj::TJINIT_TJINIT_TRANSFORM)
        .map_err(damaged)?
        .header;
    let Some((mcu_w, mcu_h)) = header.mcu() else {
        return Ok(Grid::Unknown);
    };
    if region.left.is_multiple_of(mcu_w) && region.top.is_multiple_of(mcu_h) {
        return Ok(Grid::On);
    }
    let choices = |at: usize, len: usize, step: usize, total: usize| {
        let down = at / step * step;
        let up = down + step;
        let mut out = vec![(down, len + (at - down))];
        if down != at && up < at + len {
            out.push((up, len - (up - at)));
        }
        out.retain(|&(start, len)| len > 0 && start + len <= total);
        out
    };
    let mut nearest = Vec::new();
    for (top, height) in choices(region.top, region.height, mcu_h, header.height) {
        for (left, width) in choices(region.left, region.width, mcu_w, header.width) {
            nearest.push(Region {
                left,
                top,
                width,
                height,
            });
        }
    }
    Ok(Grid::Off {
        mcu: (mcu_w, mcu_h),
        nearest,
    })
}

/// Cuts `region` out of a JPEG without decoding it: the kept DCT blocks are
/// copied unchanged, and every marker (ICC profile, EXIF, comments) is
/// kept, as `jpegtran -crop WxH+X+Y -copy all` does. The region must start
/// on the block grid (see [`grid`]).
pub fn crop_lossless(bytes: &[u8], region: Region) -> Result<Vec<u8>, RasterError> {
    check_complete(bytes).map_err(damaged)?;
    let opened = open(bytes, tj::TJINIT_TJINIT_TRANSFORM).map_err(damaged)?;
    let (handle, bytes) = (&opened.handle, &opened.bytes);
    let int = |n: usize| c_int::try_from(n).map_err(|_| damaged(format!("{n} is too large")));
    let transform = tj::tjtransform {
        r: tj::tjregion {
            x: int(region.left)?,
            y: int(region.top)?,
            w: int(region.width)?,
            h: int(region.height)?,
        },
        op: tj::TJXOP_TJXOP_NONE as c_int,
        options: tj::TJXOPT_CROP as c_int,
        data: ptr::null_mut(),
        customFilter: None,
    };
    let mut out = TjBuffer::empty();
    // SAFETY: one transform, one output buffer the library allocates and
    // `out` frees; the input pointer and length describe `bytes`.
    let status = unsafe {
        tj::tj3Transform(
            handle.0,
            bytes.as_ptr(),
            bytes.len() as tj::size_t,
            1,
            &mut out.data,
            &mut out.len,
            &transform,
        )
    };
    handle.check(status).map_err(damaged)?;
    Ok(out.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::jpeg::write::compress;

    #[test]
    fn offsets_off_the_grid_name_the_nearest_crops_on_it() {
        let pixels = vec![128u8; 64 * 48 * 3];
        let file = compress(&pixels, 64, 48, 3, 90, None).unwrap();
        let on = Region {
            left: 16,
            top: 32,
            width: 13,
            height: 5,
        };
        assert_eq!(grid(&file, on).unwrap(), Grid::On);
        let off = Region {
            left: 20,
            top: 16,
            width: 30,
            height: 20,
        };
        let Grid::Off { mcu, nearest } = grid(&file, off).unwrap() else {
            panic!("off the grid");
        };
        assert_eq!(mcu, (16, 16));
        let lefts: Vec<_> = nearest.iter().map(|r| (r.left, r.width)).collect();
        assert_eq!(lefts, [(16, 34), (32, 18)]);
        assert!(nearest.iter().all(|r| r.top == 16 && r.height == 20));
    }
}
