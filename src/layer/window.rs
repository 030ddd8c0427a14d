//! The crop of an array held in memory, whatever its element type: the
//! window a layer keeps ([`Layer::kept_ranges`](super::Layer::kept_ranges)),
//! copied out of the array's bytes a run at a time, where a run is the
//! longest stretch of bytes the window keeps whole.

use std::ops::Range;

/// The window `kept` of a contiguous array of `dims`, whose elements take
/// `itemsize` bytes each, in C order or, with `fortran`, Fortran order.
pub(crate) struct Window<'a> {
    pub(crate) dims: &'a [usize],
    pub(crate) kept: &'a [Range<usize>],
    pub(crate) itemsize: usize,
    pub(crate) fortran: bool,
}

impl Window<'_> {
    /// Copies the window out of `src`, the array's bytes, into `dst`, the
    /// bytes of an array of the window's shape in the same order.
    pub(crate) fn copy(&self, src: &[u8], dst: &mut [u8]) {
        // Fortran order is C order of the axes reversed.
        let (dims, kept): (Vec<usize>, Vec<Range<usize>>) = if self.fortran {
            (
                self.dims.iter().rev().copied().collect(),
                self.kept.iter().rev().cloned().collect(),
            )
        } else {
            (self.dims.to_vec(), self.kept.to_vec())
        };
        // Bytes from one step of each axis to the next.
        let mut strides = vec![self.itemsize; dims.len()];
        for axis in (0..dims.len().saturating_sub(1)).rev() {
            strides[axis] = strides[axis + 1] * dims[axis + 1];
        }
        // The last axis cut short: the window is whole past it, so each of
        // its runs spans that axis's kept steps of the axes after it.
        let cut = (0..dims.len()).rev().find(|&a| kept[a] != (0..dims[a]));
        let Some(cut) = cut else {
            dst.copy_from_slice(src);
            return;
        };
        let run = kept[cut].len() * strides[cut];
        if run == 0 || kept[..cut].iter().any(|r| r.is_empty()) {
            return;
        }
        let mut index: Vec<usize> = kept[..cut].iter().map(|r| r.start).collect();
        for out in dst.chunks_exact_mut(run) {
            let at: usize = index
                .iter()
                .zip(&strides)
                .map(|(i, s)| i * s)
                .sum::<usize>()
                + kept[cut].start * strides[cut];
            out.copy_from_slice(&src[at..at + run]);
            // The next index of the axes before the cut, the last fastest.
            for axis in (0..cut).rev() {
                index[axis] += 1;
                if index[axis] < kept[axis].end {
                    break;
                }
                index[axis] = kept[axis].start;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The window of a C-ordered array of `dims` whose bytes count up,
    /// copied the slow way, an element at a time.
    fn by_element(dims: &[usize], kept: &[Range<usize>], itemsize: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let total: usize = dims.iter().product();
        for flat in 0..total {
            let mut rest = flat;
            let mut inside = true;
            for (axis, &n) in dims.iter().enumerate().rev() {
                inside &= kept[axis].contains(&(rest % n));
                rest /= n;
            }
            if inside {
                out.extend((0..itemsize).map(|b| (flat * itemsize + b) as u8));
            }
        }
        out
    }

    #[test]
    fn copies_the_window_of_c_ordered_arrays_by_runs() {
        let cases: [(&[usize], &[Range<usize>]); 4] = [
            (&[2, 5, 4, 3], &[0..2, 1..4, 2..3, 0..3]),
            (&[1, 6, 6, 2], &[0..1, 0..6, 1..5, 0..2]),
            (&[3, 4, 5], &[0..3, 1..3, 0..5]),
            (&[2, 3, 4, 5, 2], &[0..2, 1..2, 0..4, 1..3, 0..2]),
        ];
        for (dims, kept) in cases {
            for itemsize in [1, 2, 8] {
                let total = dims.iter().product::<usize>() * itemsize;
                let src: Vec<u8> = (0..total).map(|b| b as u8).collect();
                let expected = by_element(dims, kept, itemsize);
                let mut dst = vec![0; expected.len()];
                let window = Window {
                    dims,
                    kept,
                    itemsize,
                    fortran: false,
                };
                window.copy(&src, &mut dst);
                assert_eq!(dst, expected, "{dims:?} {kept:?} {itemsize}");
            }
        }
    }

    #[test]
    fn copies_fortran_ordered_arrays_as_their_axes_reversed() {
        let (dims, kept) = ([2, 5, 4], [0..2, 1..4, 1..2]);
        let src: Vec<u8> = (0..40).collect();
        let reversed = by_element(&[4, 5, 2], &[1..2, 1..4, 0..2], 1);
        let mut dst = vec![0; reversed.len()];
        let window = Window {
            dims: &dims,
            kept: &kept,
            itemsize: 1,
            fortran: true,
        };
        window.copy(&src, &mut dst);
        assert_eq!(dst, reversed);
    }

    #[test]
    fn copies_an_uncut_window_whole() {
        let src: Vec<u8> = (0..24).collect();
        let mut dst = vec![0; 24];
        let window = Window {
            dims: &[2, 3, 4],
            kept: &[0..2, 0..3, 0..4],
            itemsize: 1,
            fortran: false,
        };
        window.copy(&src, &mut dst);
        assert_eq!(dst, src);
    }
}
