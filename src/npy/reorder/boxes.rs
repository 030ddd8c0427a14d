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

use super::matrix::Matrix;
use super::paged::PagedBuffer;
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
    // Each box is read while the one before it is reversed and written.
    let mut buffers = [
        PagedBuffer::new(box_len).map_err(PassError::Read)?,
        PagedBuffer::new(box_len).map_err(PassError::Read)?,
    ];
    let short = |e: io::Error| match e.kind() {
        io::ErrorKind::UnexpectedEof => match input.metadata() {
            Ok(meta) => PassError::Data(NpyError::ShortData {
                expected: plan.input_len(),
                found: meta.len().saturating_sub(data_start),
            }),
            Err(e) => PassError::Read(e),
        },
        _ => PassError::Read(e),
    };
    let mut start = vec![0usize; axes.len()];
    let mut current = Some(Placed::new(&axes, &start, base, output_start, item));
    if let Some(first) = &current {
        first.read(input, &mut buffers[0]).map_err(short)?;
    }
    while let Some(placed) = current.take() {
        if next_box(&axes, &mut start) {
            current = Some(Placed::new(&axes, &start, base, output_start, item));
        }
        let [held, next] = &mut buffers;
        let (read, written) = rayon::join(
            || current.as_ref().map_or(Ok(()), |p| p.read(input, next)),
            || placed.write(output, held),
        );
        written.map_err(PassError::Write)?;
        read.map_err(short)?;
        buffers.swap(0, 1);
    }
    Ok(total)
}

/// One box: its axes, sized to what is left of each, and where its first
/// element lies in the input and in the output.
struct Placed {
    axes: Vec<Axis>,
    item: usize,
    at_input: u64,
    at_output: u64,
}

impl Placed {
    fn new(axes: &[Axis], start: &[usize], base: u64, output_start: u64, item: usize) -> Self {
        let axes: Vec<Axis> = axes
            .iter()
            .zip(start)
            .map(|(a, &s)| Axis {
                extent: a.extent.min(a.kept - s),
                ..*a
            })
            .collect();
        Self {
            at_input: base + offset(&axes, start, |a| a.input_stride),
            at_output: output_start + offset(&axes, start, |a| a.output_stride),
            axes,
            item,
        }
    }

    fn len(&self) -> usize {
        self.axes.iter().map(|a| a.extent).product::<usize>() * self.item
    }

    /// Reads the box into the front of `buf`.
    fn read(&self, input: &File, buf: &mut [u8]) -> io::Result<()> {
        read_box(
            input,
            &self.axes,
            self.at_input,
            self.item,
            &mut buf[..self.len()],
        )
    }

    /// Writes the box, read into the front of `buf`, at its place.
    fn write(&self, output: &File, buf: &[u8]) -> io::Result<()> {
        let pad = padding(&self.axes, self.item);
        let held = &buf[..self.len()];
        reverse_and_write(&self.axes, self.item, held, pad, output, self.at_output)
    }
}

/// Slabs of the reversed box (its part for one index of the last axis) at
/// least this long are followed by a cache line of padding: slabs a
/// multiple of the page size apart would share the cache's sets, and the
/// lines written to side by side would evict each other.
const PADDED_SLABS: usize = 4096;

/// The padding after each slab of a reversed box.
fn padding(axes: &[Axis], item: usize) -> usize {
    match axes.split_last() {
        Some((_, inner)) if !inner.is_empty() => {
            let slab = inner.iter().map(|a| a.extent).product::<usize>() * item;
            if slab >= PADDED_SLABS { 64 } else { 0 }
        }
        _ => 0,
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

/// Bytes of the output a tile of [`reverse_and_write`] holds at most,
/// unless one cache line of each input row needs more: small enough to
/// stay in a core's own cache from being reversed to being written.
const TILE_BYTES: usize = 512 << 10;

/// The most bytes of a tile taken to read a cache line of each row; past
/// it, a tile is one slab, however long (at most a box).
const TILE_MOST: usize = 4 << 20;

/// Reverses the axes of a box and writes it at its place, `at`, in the
/// output: `from` holds the box in input order (the last axis fastest),
/// the output takes it in output order (the first axis fastest). The
/// first and last axes form a matrix for each index of the axes between
/// them. The last axis is cut into tiles, shared by the cores: a tile's
/// slabs (its part of the output for each of its indices of the last axis)
/// are filled in a buffer of the core's own, visiting the matrices in
/// input order so that the rows read move forward through the box, and
/// written from there while still in cache. Slabs at least
/// [`PADDED_SLABS`] long are followed by `pad` bytes in the buffer.
fn reverse_and_write(
    axes: &[Axis],
    item: usize,
    from: &[u8],
    pad: usize,
    output: &File,
    at: u64,
) -> io::Result<()> {
    let n = axes.len();
    if n < 2 {
        return write_runs(output, axes, at, item, from);
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
    let slab = to_stride[n - 1] * item;
    let matrix = Matrix {
        rows: extents[0],
        from_row: from_stride[0] * item,
        to_column: slab + pad,
    };
    let middle = &extents[1..n - 1];
    let (last, inner) = (axes[n - 1], &axes[..n - 1]);
    // A cache line of each row read, unless that would pass TILE_MOST.
    let line = (64 / item).min(TILE_MOST / matrix.to_column);
    let tile = (TILE_BYTES / matrix.to_column)
        .max(line)
        .clamp(1, last.extent);
    let tiles = last.extent.div_ceil(tile);
    (0..tiles)
        .into_par_iter()
        .try_for_each_init(Vec::new, |to: &mut Vec<u8>, t| {
            let columns = tile.min(last.extent - t * tile);
            if to.len() < columns * matrix.to_column {
                to.resize(columns * matrix.to_column, 0);
            }
            // Bytes from the start of a packed box to a middle index.
            let reach = |index: &[usize], stride: &[usize]| -> usize {
                let steps = index.iter().zip(&stride[1..]).map(|(&i, &s)| i * s);
                steps.sum::<usize>() * item
            };
            let src_of = |index: &[usize]| t * tile * item + reach(index, &from_stride);
            let mut index = vec![0usize; middle.len()];
            // The matrix a few steps on, whose lines are asked for now.
            let mut ahead = index.clone();
            let mut more = (0..AHEAD).all(|_| advance(&mut ahead, middle));
            loop {
                if more {
                    matrix.prefetch(from, src_of(&ahead), columns * item);
                    more = advance(&mut ahead, middle);
                }
                let dst = reach(&index, &to_stride);
                matrix.copy(item, &from[src_of(&index)..], &mut to[dst..], columns);
                if !advance(&mut index, middle) {
                    break;
                }
            }
            let slabs = to.chunks_exact(matrix.to_column).take(columns);
            for (i, piece) in slabs.enumerate() {
                let at = at + (t * tile + i) as u64 * last.output_stride;
                write_runs(output, inner, at, item, &piece[..slab])?;
            }
            Ok(())
        })
}

/// How many matrices ahead of the one being copied [`reverse_and_write`]
/// asks for the lines of: the lines of one matrix lie far apart, and
/// without being asked for early each would be waited for in turn.
/// Measured on a box of float32 RGBA: 0.6 s a GiB without, 0.2 s with.
const AHEAD: usize = 4;

/// The next index of the axes between the first and the last, in input
/// order (the last of them fastest, so that the rows read move forward
/// through the box); false after the last.
fn advance(index: &mut [usize], extents: &[usize]) -> bool {
    for (i, &extent) in index.iter_mut().zip(extents).rev() {
        *i += 1;
        if *i < extent {
            return true;
        }
        *i = 0;
    }
    false
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
    #[cfg(windows)]
    {
        // The cores write tiles side by side: each write names its offset.
        let mut buf = buf;
        let mut offset = offset;
        while !buf.is_empty() {
            match std::os::windows::fs::FileExt::seek_write(file, buf, offset) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    buf = &buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
    #[cfg(not(any(unix, windows)))]
    {
        // The cores write tiles side by side: a seek and its write go
        // together.
        use std::io::{Seek, SeekFrom, Write};
        static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
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
        check_boxes(dims, kept, item, fortran, &[BOX, 4096, 100, 7, item]);
    }

    fn check_boxes(
        dims: &[usize],
        kept: &[Range<usize>],
        item: usize,
        fortran: bool,
        boxes: &[usize],
    ) {
        let len = dims.iter().product::<usize>() * item;
        let mut file = vec![5u8; 11];
        file.extend((0..len).map(|i| (i * 37 % 251) as u8));
        let mut input = tempfile::tempfile().unwrap();
        input.write_all(&file).unwrap();
        for &boxed in boxes {
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
    fn a_box_of_many_tiles_of_padded_slabs_is_written_whole() {
        // 70 slabs of 24 KB along the last axis: several tiles, the last
        // one short, each slab padded in the tile's buffer; and the same
        // with more rows than are unrolled.
        let boxes = [BOX, 1 << 16];
        check_boxes(
            &[5, 30, 40, 70],
            &[0..5, 0..30, 0..40, 0..70],
            4,
            false,
            &boxes,
        );
        check_boxes(
            &[7, 30, 40, 33],
            &[1..7, 2..30, 0..40, 3..33],
            4,
            false,
            &boxes,
        );
        check_boxes(
            &[3, 20, 40, 90],
            &[0..3, 0..20, 1..40, 0..90],
            2,
            false,
            &boxes,
        );
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
