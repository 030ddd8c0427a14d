//! The reversal of a box's first and last axes in memory: a matrix for
//! each index of the axes between them, copied a column at a time, its
//! lines asked for ahead of use.

/// The matrix of the first and last axes of a box for one index of the
/// axes between: `rows` rows `from_row` bytes apart in the input, each
/// element of a row going to the output's slab of its column, slabs
/// `to_column` bytes apart.
pub(super) struct Matrix {
    pub rows: usize,
    pub from_row: usize,
    pub to_column: usize,
}

impl Matrix {
    /// Asks for the lines of `bytes` of each row from `at` in `from`.
    pub fn prefetch(&self, from: &[u8], at: usize, bytes: usize) {
        for row in 0..self.rows {
            for line in (0..bytes).step_by(64) {
                prefetch(from, at + row * self.from_row + line);
            }
        }
    }

    /// Copies `columns` columns from the start of `from` to the start of `to`.
    pub fn copy(&self, item: usize, from: &[u8], to: &mut [u8], columns: usize) {
        match item {
            1 => self.copy_n::<1>(from, to, columns),
            2 => self.copy_n::<2>(from, to, columns),
            4 => self.copy_n::<4>(from, to, columns),
            8 => self.copy_n::<8>(from, to, columns),
            16 => self.copy_n::<16>(from, to, columns),
            _ => {
                for row in 0..self.rows {
                    let line = &from[row * self.from_row..][..columns * item];
                    for (column, element) in line.chunks_exact(item).enumerate() {
                        let dst = column * self.to_column + row * item;
                        to[dst..dst + item].copy_from_slice(element);
                    }
                }
            }
        }
    }

    /// A column at a time: the rows' elements of a column land side by
    /// side in the output, so consecutive stores fill one line. A few rows
    /// (the common case: the channels of an image) are unrolled.
    fn copy_n<const N: usize>(&self, from: &[u8], to: &mut [u8], columns: usize) {
        match self.rows {
            1 => self.copy_rows::<1, N>(from, to, columns),
            2 => self.copy_rows::<2, N>(from, to, columns),
            3 => self.copy_rows::<3, N>(from, to, columns),
            4 => self.copy_rows::<4, N>(from, to, columns),
            _ => {
                for column in 0..columns {
                    let line = &mut to[column * self.to_column..][..self.rows * N];
                    for (row, element) in line.chunks_exact_mut(N).enumerate() {
                        let src = row * self.from_row + column * N;
                        element.copy_from_slice(&from[src..src + N]);
                    }
                }
            }
        }
    }

    /// [`Matrix::copy_n`] for `R` rows: each row's run is cut once, and a
    /// column is `R` fixed-size copies.
    fn copy_rows<const R: usize, const N: usize>(
        &self,
        from: &[u8],
        to: &mut [u8],
        columns: usize,
    ) {
        let lines: [&[u8]; R] =
            std::array::from_fn(|row| &from[row * self.from_row..][..columns * N]);
        for (column, slab) in to.chunks_mut(self.to_column).take(columns).enumerate() {
            let elements: [[u8; N]; R] = std::array::from_fn(|row| {
                let element = &lines[row][column * N..][..N];
                element.try_into().unwrap_or([0; N])
            });
            slab[..R * N].copy_from_slice(elements.as_flattened());
        }
    }
}

/// Asks for the cache line holding `buf[at]` to be fetched, if `at` lies
/// in `buf`.
#[inline(always)]
fn prefetch(buf: &[u8], at: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(byte) = buf.get(at) {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch is a hint that reads nothing and cannot
        // fault; the address is that of a byte of `buf`.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(byte).cast()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (buf, at);
}
