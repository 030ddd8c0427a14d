//! The change of memory order into a file that can be written at any
//! offset: the kept data is cut into boxes of at most [`BOX`] bytes, and
//! each box is read from the input in the longest runs its layout allows,
//! reversed in memory a tile at a time, and written at its own place in the
//! output in the longest runs the output's layout allows. The input is read
//! once and the output written once, each in runs of kilobytes, where
//! writing the output front to back reads the input once per output block.

use std::fs::File;
use std::io;

use rayon::prelude::*;

use super::{PassError, ReorderPlan};
use crate::npy::NpyError;

/// The most bytes of a box: one buffer as read, one as reversed. Measured
/// on 1 GiB of float32: 4 MiB boxes took 1.2× the time of 16 MiB ones.
pub const BOX: usize = 16 << 20;

/// One axis of the kept data, stored axes outermost first: how many indices
/// the crop keeps, the box takes at a time, and the bytes from one index to
/// the next in the input and in the output.
#[derive(Clone, Copy, Debug)]
struct Axis {
    kept: usize,
    extent: usize,
    input_stride: u64,
    output_stride: u64,
}

/// Whether [`crop_reordered_at`] can take the plan: an element fits a box.
pub fn suits(plan: &ReorderPlan) -> bool {
    plan.stored.itemsize <= plan.boxed
}

/// Crops the data of a `.npy` file that starts at `data_start` of `input`
/// into `output` from `output_start` on, in the order opposite to the
/// input's. The caller has checked the input's length against the header
/// and that an element fits a box ([`suits`]). Returns the bytes written.
pub fn crop_reordered_at(
    plan: &ReorderPlan,
    input: &File,
    data_start: u64,
    output: &File,
    output_start: u64,
) -> Result<u64, PassError> {
    let total = plan.output_len();
    if total == 0 {
        return Ok(0);
    }
    let item = plan.stored.itemsize;
    let strides = plan.stored.strides();
    // Axes that keep one index move the base and nothing else.
    let mut base = data_start;
    let mut axes = Vec::new();
    let mut output_stride = item as u64;
    for (k, kept) in plan.stored.kept.iter().enumerate() {
        base += kept.start as u64 * strides[k];
        if kept.len() > 1 {
            axes.push(Axis {
                kept: kept.len(),
                extent: 1,
                input_stride: strides[k],
                output_stride,
            });
        }
        output_stride *= kept.len() as u64;
    }
    size_boxes(&mut axes, item, plan.boxed);
    let box_len = axes.iter().map(|a| a.extent).product::<usize>() * item;
    let mut read = vec![0u8; box_len];
    let mut reversed = vec![0u8; padded_len(&axes, item).0];
    let mut start = vec![0usize; axes.len()];
    loop {
        let sized: Vec<Axis> = axes
            .iter()
            .zip(&start)
            .map(|(a, &s)| Axis {
                extent: a.extent.min(a.kept - s),
                ..*a
            })
            .collect();
        let at_input = base + offset(&sized, &start, |a| a.input_stride);
        let at_output = output_start + offset(&sized, &start, |a| a.output_stride);
        let len = sized.iter().map(|a| a.extent).product::<usize>() * item;
        read_box(input, &sized, at_input, item, &mut read[..len]).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => match input.metadata() {
                Ok(meta) => PassError::Data(NpyError::ShortData {
                    expected: plan.input_len(),
                    found: meta.len().saturating_sub(data_start),
                }),
                Err(e) => PassError::Read(e),
            },
            _ => PassError::Read(e),
        })?;
        let (padded, pad) = padded_len(&sized, item);
        reverse(&sized, item, &read[..len], &mut reversed[..padded], pad);
        write_box(output, &sized, at_output, item, &reversed[..padded], pad)
            .map_err(PassError::Write)?;
        if !next_box(&axes, &mut start) {
            return Ok(total);
        }
    }
}

/// Slabs of the reversed box (its part for one index of the last axis) at
/// least this long are followed by a cache line of padding: slabs a
/// multiple of the page size apart would share the cache's sets, and the
/// lines written to side by side would evict each other.
const PADDED_SLABS: usize = 4096;

/// The bytes a reversed box takes, and the padding after each slab.
fn padded_len(axes: &[Axis], item: usize) -> (usize, usize) {
    let len = axes.iter().map(|a| a.extent).product::<usize>() * item;
    match axes.split_last() {
        Some((last, inner)) if !inner.is_empty() && len / last.extent >= PADDED_SLABS => {
            (len + 64 * last.extent, 64)
        }
        _ => (len, 0),
    }
}

/// The bytes from the start of the data to index `index` of every axis.
fn offset(axes: &[Axis], index: &[usize], stride: impl Fn(&Axis) -> u64) -> u64 {
    axes.iter()
        .zip(index)
        .map(|(a, &i)| i as u64 * stride(a))
        .sum()
}

/// Sets how many indices of each axis a box takes: whole axes from both
/// ends in turn (the input's innermost, which lengthen the runs read, and
/// the output's innermost, which lengthen the runs written), the shorter
/// run first, until the next axis whole would pass `budget` bytes; that
/// axis then takes what fits.
fn size_boxes(axes: &mut [Axis], item: usize, budget: usize) {
    let Some(last) = axes.len().checked_sub(1) else {
        return;
    };
    let (mut lo, mut hi) = (0, last);
    let mut bytes = item;
    // Bytes of the runs read and written; a run read ends at a cut axis.
    let mut read_open = axes[last].input_stride == item as u64;
    let (mut read_run, mut written_run) = (item, item);
    loop {
        let from_input = read_open && read_run <= written_run;
        let k = if from_input { hi } else { lo };
        let kept = axes[k].kept;
        if bytes.saturating_mul(kept) > budget {
            axes[k].extent = (budget / bytes).clamp(1, kept);
            return;
        }
        axes[k].extent = kept;
        bytes *= kept;
        if lo == hi {
            return;
        }
        if from_input {
            read_open = axes[hi - 1].input_stride == axes[hi].input_stride * kept as u64;
            read_run *= kept;
            hi -= 1;
        } else {
            written_run *= kept;
            lo += 1;
        }
    }
}

/// Moves `start` to the next box, the input's outermost axis slowest.
/// False when every box has been visited.
fn next_box(axes: &[Axis], start: &mut [usize]) -> bool {
    for k in (0..axes.len()).rev() {
        start[k] += axes[k].extent;
        if start[k] < axes[k].kept {
            return true;
        }
        start[k] = 0;
    }
    false
}

/// How many axes, innermost first in `order`, one run of a box spans in a
/// layout with the given strides, elements of `item` bytes: each axis joins
/// while the run so far fills its stride. Returns the run's elements and
/// the axes it spans.
fn run_of(
    axes: &[Axis],
    order: &[usize],
    item: usize,
    stride: impl Fn(&Axis) -> u64,
) -> (usize, usize) {
    let (mut elements, mut spanned, mut filled) = (1, 0, item as u64);
    for &k in order {
        if stride(&axes[k]) != filled {
            break;
        }
        elements *= axes[k].extent;
        spanned += 1;
        filled = stride(&axes[k]) * axes[k].extent as u64;
    }
    (elements, spanned)
}

/// Visits the runs of a box in the order given (innermost first): calls
/// `each` with the run's offset in the layout's strides, for every index of
/// the axes the run does not span, in turn.
fn for_runs(
    axes: &[Axis],
    order: &[usize],
    item: usize,
    stride: impl Fn(&Axis) -> u64,
    mut each: impl FnMut(u64) -> io::Result<()>,
) -> io::Result<usize> {
    let (elements, spanned) = run_of(axes, order, item, &stride);
    let outer = &order[spanned..];
    let mut index = vec![0usize; outer.len()];
    loop {
        let at = outer
            .iter()
            .zip(&index)
            .map(|(&k, &i)| i as u64 * stride(&axes[k]))
            .sum();
        each(at)?;
        let mut j = 0;
        loop {
            if j == outer.len() {
                return Ok(elements);
            }
            index[j] += 1;
            if index[j] < axes[outer[j]].extent {
                break;
            }
            index[j] = 0;
            j += 1;
        }
    }
}

/// Reads a box from `input`, whose first element is at `at`, into `buf` in
/// input order.
fn read_box(input: &File, axes: &[Axis], at: u64, item: usize, buf: &mut [u8]) -> io::Result<()> {
    let order: Vec<usize> = (0..axes.len()).rev().collect();
    let run = run_of(axes, &order, item, |a| a.input_stride).0 * item;
    let mut pieces = buf.chunks_exact_mut(run.max(1));
    for_runs(
        axes,
        &order,
        item,
        |a| a.input_stride,
        |offset| read_at(input, pieces.next().unwrap_or_default(), at + offset),
    )
    .map(drop)
}

/// Writes a box held in output order to `output`, its first element at
/// `at`: a slab at a time, each followed by `pad` bytes in `buf`.
fn write_box(
    output: &File,
    axes: &[Axis],
    at: u64,
    item: usize,
    buf: &[u8],
    pad: usize,
) -> io::Result<()> {
    let Some((last, inner)) = axes.split_last().filter(|_| pad > 0) else {
        return write_runs(output, axes, at, item, buf);
    };
    let slab = buf.len() / last.extent - pad;
    for (i, piece) in buf.chunks_exact(slab + pad).enumerate() {
        let at = at + i as u64 * last.output_stride;
        write_runs(output, inner, at, item, &piece[..slab])?;
    }
    Ok(())
}

/// Writes a box held in output order, unpadded, in the longest runs the
/// output's layout allows.
fn write_runs(output: &File, axes: &[Axis], at: u64, item: usize, buf: &[u8]) -> io::Result<()> {
    let order: Vec<usize> = (0..axes.len()).collect();
    let run = run_of(axes, &order, item, |a| a.output_stride).0 * item;
    let mut pieces = buf.chunks_exact(run.max(1));
    for_runs(
        axes,
        &order,
        item,
        |a| a.output_stride,
        |offset| write_at(output, pieces.next().unwrap_or_default(), at + offset),
    )
    .map(drop)
}

/// Bytes of each input row [`reverse`] takes at a time, a few cache lines:
/// a tile of the output's outermost axis, whose elements are each written
/// to a slab of their own in turn.
const TILE_BYTES: usize = 256;

/// Reverses the axes of a box: `from` holds it in input order (the last
/// axis fastest), `to` gets it in output order (the first axis fastest).
/// The first and last axes form a matrix for each index of the axes
/// between them. A tile of the last axis at a time (a few cache lines of
/// each input row, a few slabs of the output), the matrices are visited in
/// output order, so that each of the tile's slabs is written front to back
/// and each input line is read once. Each slab is followed by `pad` bytes.
fn reverse(axes: &[Axis], item: usize, from: &[u8], to: &mut [u8], pad: usize) {
    let n = axes.len();
    if n < 2 {
        to.copy_from_slice(from);
        return;
    }
    let extents: Vec<usize> = axes.iter().map(|a| a.extent).collect();
    // Element strides of the box packed in input and in output order.
    let mut from_stride = vec![1usize; n];
    let mut to_stride = vec![1usize; n];
    for k in (0..n - 1).rev() {
        from_stride[k] = from_stride[k + 1] * extents[k + 1];
    }
    for k in 1..n {
        to_stride[k] = to_stride[k - 1] * extents[k - 1];
    }
    let matrix = Matrix {
        rows: extents[0],
        from_row: from_stride[0] * item,
        to_column: to_stride[n - 1] * item + pad,
    };
    let middle = &extents[1..n - 1];
    let tile = (TILE_BYTES / item).max(1);
    // Tiles write slabs of their own: the cores share them.
    let tiles = to.par_chunks_mut(tile * matrix.to_column).enumerate();
    tiles.for_each(|(t, to)| {
        let columns = to.len() / matrix.to_column;
        let mut index = vec![0usize; middle.len()];
        loop {
            let (mut src, mut dst) = (t * tile * item, 0);
            for (j, &i) in index.iter().enumerate() {
                src += i * from_stride[j + 1] * item;
                dst += i * to_stride[j + 1] * item;
            }
            matrix.copy(item, &from[src..], &mut to[dst..], columns);
            if !advance(&mut index, middle) {
                break;
            }
        }
    });
}

/// The next index of the axes between the first and the last, in output
/// order (the first of them fastest); false after the last.
fn advance(index: &mut [usize], extents: &[usize]) -> bool {
    for (i, &extent) in index.iter_mut().zip(extents) {
        *i += 1;
        if *i < extent {
            return true;
        }
        *i = 0;
    }
    false
}

/// The matrix of the first and last axes of a box for one index of the
/// axes between: `rows` rows `from_row` bytes apart in the input, each
/// element of a row going to the output's slab of its column, slabs
/// `to_column` bytes apart.
struct Matrix {
    rows: usize,
    from_row: usize,
    to_column: usize,
}

impl Matrix {
    /// Copies `columns` columns from the start of `from` to the start of `to`.
    fn copy(&self, item: usize, from: &[u8], to: &mut [u8], columns: usize) {
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
    /// side in the output, so consecutive stores fill one line.
    fn copy_n<const N: usize>(&self, from: &[u8], to: &mut [u8], columns: usize) {
        for column in 0..columns {
            let line = &mut to[column * self.to_column..][..self.rows * N];
            for (row, element) in line.chunks_exact_mut(N).enumerate() {
                let src = row * self.from_row + column * N;
                let value: [u8; N] = from[src..src + N].try_into().unwrap_or([0; N]);
                element.copy_from_slice(&value);
            }
        }
    }
}

/// Fills `buf` from `file` at `offset`.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = file;
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(buf)
    }
}

/// Writes `buf` to `file` at `offset`.
fn write_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut file = file;
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(buf)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read, Seek, SeekFrom, Write};
    use std::ops::Range;

    use super::super::crop_reordered;
    use super::*;

    /// The boxed crop, through files at offsets, against the crop written
    /// front to back (itself checked element by element).
    fn check(dims: &[usize], kept: &[Range<usize>], item: usize, fortran: bool) {
        let len = dims.iter().product::<usize>() * item;
        let mut file = vec![5u8; 11];
        file.extend((0..len).map(|i| (i * 37 % 251) as u8));
        let mut input = tempfile::tempfile().unwrap();
        input.write_all(&file).unwrap();
        for boxed in [BOX, 4096, 100, 7, item] {
            let mut plan = ReorderPlan::new(dims, kept, item, fortran);
            plan.boxed = boxed;
            let mut expected = b"head".to_vec();
            crop_reordered(&plan, &mut Cursor::new(&file), 11, &mut expected).unwrap();
            let mut output = tempfile::tempfile().unwrap();
            output.write_all(b"head").unwrap();
            let written = crop_reordered_at(&plan, &input, 11, &output, 4).unwrap();
            assert_eq!(written, plan.output_len());
            let mut got = Vec::new();
            output.seek(SeekFrom::Start(0)).unwrap();
            output.read_to_end(&mut got).unwrap();
            assert!(
                got == expected,
                "{dims:?} {kept:?} item {item} fortran {fortran} box {boxed}"
            );
        }
    }

    #[test]
    fn boxes_write_what_the_front_to_back_crop_writes() {
        for fortran in [true, false] {
            for &(dims, kept, item) in super::super::tests::CASES {
                check(dims, kept, item, fortran);
            }
        }
    }

    #[test]
    fn a_file_cut_short_is_an_error() {
        let plan = ReorderPlan::new(&[2, 3, 4, 5], &[0..2, 1..3, 0..4, 1..4], 4, true);
        let mut input = tempfile::tempfile().unwrap();
        input.write_all(&[1u8; 100]).unwrap();
        let output = tempfile::tempfile().unwrap();
        let err = crop_reordered_at(&plan, &input, 0, &output, 0).unwrap_err();
        assert!(
            matches!(
                err,
                PassError::Data(NpyError::ShortData {
                    expected: 480,
                    found: 100
                })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn boxes_of_a_large_array_read_and_write_long_runs() {
        // Fortran-ordered float32 (256, 512, 512, 4) cropped by 16: stored
        // as (4, 512, 512, 256), the samples innermost.
        let plan = ReorderPlan::new(
            &[256, 512, 512, 4],
            &[0..256, 16..496, 16..496, 0..4],
            4,
            true,
        );
        let strides = plan.stored.strides();
        let mut output_stride = 4;
        let mut axes: Vec<Axis> = (0..4)
            .map(|k| {
                let kept = plan.stored.kept[k].len();
                let axis = Axis {
                    kept,
                    extent: 1,
                    input_stride: strides[k],
                    output_stride,
                };
                output_stride *= kept as u64;
                axis
            })
            .collect();
        size_boxes(&mut axes, 4, BOX);
        let extents: Vec<usize> = axes.iter().map(|a| a.extent).collect();
        assert_eq!(extents, [4, 480, 8, 256]);
        let inward: Vec<usize> = (0..4).rev().collect();
        assert_eq!(run_of(&axes, &inward, 4, |a| a.input_stride), (2048, 2));
        assert_eq!(
            run_of(&axes, &[0, 1, 2, 3], 4, |a| a.output_stride),
            (15360, 3)
        );
    }
}
