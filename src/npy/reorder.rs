//! The crop of `.npy` data into the other memory order (C order from
//! Fortran order, or the reverse), for an input that can be read at any
//! offset, in bounded memory.
//!
//! The output is written front to back, one block at a time: a block is a
//! box of the output (single indices of the output's outermost axes, a
//! range of the next, the inner axes whole) no larger than [`BLOCK`]. Each
//! block is filled by one pass over the part of the input it draws from,
//! in the input's own order, through a window of [`WINDOW`] bytes; skipped
//! stretches longer than the window are seeked over.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;

mod boxes;
mod matrix;
mod paged;

pub use boxes::{BOX, crop_reordered_at, suits};

use super::mapped::MapWindow;
use super::stream::PassError;
use super::{NpyError, Stored};

/// The most output bytes assembled in memory at once.
pub const BLOCK: usize = 40 << 20;

/// The most input bytes read at once.
pub const WINDOW: usize = 8 << 20;

/// The memory order of `.npy` data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Order {
    /// The input's order, as the streaming crop keeps it.
    #[default]
    Keep,
    /// The order `numpy.save` writes the Keras result in: C order, except
    /// where that result, a view of a Fortran-ordered input, is itself
    /// Fortran-contiguous, which `numpy.save` writes in Fortran order.
    C,
    /// Fortran order, as `numpy.save(out, numpy.asfortranarray(result))`.
    F,
}

/// Whether `numpy.save` of an array of `shape` in `order` writes
/// `fortran_order: True`, given the order of the input it was cropped from
/// (`kept` along each axis of `dims`).
pub fn writes_fortran(
    order: Order,
    input_fortran: bool,
    dims: &[usize],
    kept: &[Range<usize>],
) -> bool {
    let shape: Vec<usize> = kept.iter().map(|r| r.len()).collect();
    let c_contiguous = shape.contains(&0) || shape.iter().filter(|&&d| d > 1).count() <= 1;
    if c_contiguous {
        return false;
    }
    match order {
        Order::Keep => input_fortran,
        Order::F => true,
        Order::C => input_fortran && view_is_fortran_contiguous(dims, &shape),
    }
}

/// NumPy's test for a view of a Fortran-ordered array: every axis longer
/// than 1 has the stride it would have in a Fortran-ordered copy, so every
/// axis before it is whole.
fn view_is_fortran_contiguous(dims: &[usize], shape: &[usize]) -> bool {
    (0..shape.len())
        .filter(|&k| shape[k] != 1)
        .all(|k| (0..k).all(|j| shape[j] == dims[j]))
}

/// What to keep of a contiguous array, read in its storage order and
/// written in the reverse order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReorderPlan {
    /// Dimensions and kept ranges in input storage order, outermost first.
    stored: Stored,
    /// The most output bytes in memory at once, and input bytes read at once.
    block: usize,
    window: usize,
    /// The most bytes of a box, written at its place in the output.
    boxed: usize,
}

impl ReorderPlan {
    /// A plan for an array of logical shape `dims`, stored in Fortran order
    /// or not, keeping `kept` along each axis (clamped to the axis), written
    /// in the other order.
    pub fn new(
        dims: &[usize],
        kept: &[Range<usize>],
        itemsize: usize,
        fortran_order: bool,
    ) -> Self {
        Self {
            stored: Stored::new(dims, kept, itemsize, fortran_order),
            block: BLOCK,
            window: WINDOW,
            boxed: BOX,
        }
    }

    /// Bytes of input data the plan reads from.
    pub fn input_len(&self) -> u64 {
        self.stored.input_len()
    }

    /// Bytes of output data the plan writes.
    pub fn output_len(&self) -> u64 {
        self.stored.output_len()
    }

    /// The output's blocks, in output order, each as the range it keeps of
    /// every input axis (indices into the kept ranges).
    fn blocks(&self) -> Blocks {
        let extents: Vec<usize> = self.stored.kept.iter().map(|r| r.len()).collect();
        // The output's outermost axis is the input's innermost: find the
        // outermost output axis whose one index holds no more than a block.
        let n = extents.len();
        let mut ranged = n - 1;
        let mut inner = self.stored.itemsize as u64
            * extents[..ranged].iter().map(|&e| e as u64).product::<u64>();
        while ranged > 0 && inner > self.block as u64 {
            ranged -= 1;
            inner /= extents[ranged].max(1) as u64;
        }
        let step = usize::try_from((self.block as u64 / inner.max(1)).max(1)).unwrap_or(usize::MAX);
        Blocks {
            extents,
            ranged,
            step,
            next: Some(vec![0; n]),
        }
    }
}

/// The blocks of the output, outermost output axis (the input's innermost,
/// the last) first: axes after `ranged` take one index at a time, axis
/// `ranged` takes `step` indices, the axes before it are whole.
struct Blocks {
    extents: Vec<usize>,
    ranged: usize,
    step: usize,
    /// The first index of the next block along each axis.
    next: Option<Vec<usize>>,
}

impl Iterator for Blocks {
    type Item = Vec<Range<usize>>;

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.next.take()?;
        let r = self.ranged;
        let block: Vec<Range<usize>> = (0..self.extents.len())
            .map(|k| match k.cmp(&r) {
                std::cmp::Ordering::Less => 0..self.extents[k],
                std::cmp::Ordering::Equal => {
                    start[k]..(start[k].saturating_add(self.step)).min(self.extents[k])
                }
                std::cmp::Ordering::Greater => start[k]..start[k] + 1,
            })
            .collect();
        // Advance: axis `ranged` by a step, then the outer output axes
        // (higher input axes) one index at a time, innermost output axis first.
        let mut next = start;
        next[r] = block[r].end;
        if next[r] >= self.extents[r] {
            next[r] = 0;
            let mut k = r + 1;
            loop {
                if k == self.extents.len() {
                    return Some(block);
                }
                next[k] += 1;
                if next[k] < self.extents[k] {
                    break;
                }
                next[k] = 0;
                k += 1;
            }
        }
        self.next = Some(next);
        Some(block)
    }
}

/// Input bytes at data offsets, asked for at increasing offsets within a
/// block: a window on the input that moves forward as needed.
trait Fetch {
    /// `len` bytes (at most the window's size) at data offset `offset`,
    /// taking up to `until` (a data offset) ahead when the window moves.
    fn get(&mut self, offset: u64, len: usize, until: u64) -> Result<&[u8], PassError>;

    /// The most bytes one call may ask for.
    fn size(&self) -> usize;
}

/// Reads input bytes through a buffer, seeking over stretches it does not
/// need: for any reader that can seek.
struct ReadWindow<'a, R> {
    reader: &'a mut R,
    buf: Vec<u8>,
    /// Input offset of `buf[0]` and bytes valid in `buf`.
    start: u64,
    len: usize,
    /// Where the reader stands.
    pos: u64,
    /// Where the data starts, and its length.
    data_start: u64,
    data_len: u64,
    /// The most bytes read at once.
    size: usize,
}

impl<R: Read + Seek> Fetch for ReadWindow<'_, R> {
    fn size(&self) -> usize {
        self.size
    }

    fn get(&mut self, offset: u64, len: usize, until: u64) -> Result<&[u8], PassError> {
        let inside = offset >= self.start && offset + len as u64 <= self.start + self.len as u64;
        if !inside {
            let want = (until.max(offset + len as u64) - offset).min(self.size as u64) as usize;
            if self.buf.len() < want {
                self.buf.resize(want, 0);
            }
            let at = self.data_start + offset;
            if self.pos != at {
                self.reader
                    .seek(SeekFrom::Start(at))
                    .map_err(PassError::Read)?;
            }
            read_full(self.reader, &mut self.buf[..want]).map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => PassError::Data(NpyError::ShortData {
                    expected: self.data_len,
                    found: offset,
                }),
                _ => PassError::Read(e),
            })?;
            self.pos = at + want as u64;
            self.start = offset;
            self.len = want;
        }
        let from = (offset - self.start) as usize;
        Ok(&self.buf[from..from + len])
    }
}

impl Fetch for MapWindow<'_> {
    fn size(&self) -> usize {
        self.size()
    }

    fn get(&mut self, offset: u64, len: usize, until: u64) -> Result<&[u8], PassError> {
        self.get(offset, len, until)
    }
}

/// `read_exact`, tried again when a signal interrupts it.
fn read_full(reader: &mut impl Read, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match reader.read(buf) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => buf = &mut buf[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Crops the data of a `.npy` file that starts at `data_start` of `reader`
/// into `writer`, in the order opposite to the input's, reading through a
/// buffer. The caller has checked the length against the header. Returns
/// the bytes written.
pub fn crop_reordered<R: Read + Seek>(
    plan: &ReorderPlan,
    reader: &mut R,
    data_start: u64,
    writer: &mut impl Write,
) -> Result<u64, PassError> {
    let mut window = ReadWindow {
        reader,
        buf: Vec::new(),
        start: 0,
        len: 0,
        pos: u64::MAX,
        data_start,
        data_len: plan.input_len(),
        size: plan.window,
    };
    reorder_with(plan, &mut window, writer)
}

/// [`crop_reordered`] for a file, read through mapped windows: the pages a
/// block needs are mapped, not copied, which is what makes a change of
/// order cost a few passes over memory rather than over the whole file.
pub fn crop_reordered_file(
    plan: &ReorderPlan,
    file: &File,
    data_start: u64,
    writer: &mut impl Write,
) -> Result<u64, PassError> {
    let mut window = MapWindow::new(file, data_start, plan.input_len(), plan.window);
    reorder_with(plan, &mut window, writer)
}

fn reorder_with(
    plan: &ReorderPlan,
    window: &mut impl Fetch,
    writer: &mut impl Write,
) -> Result<u64, PassError> {
    let total = plan.output_len();
    if total == 0 {
        return Ok(0);
    }
    let strides = plan.stored.strides();
    let mut out = Vec::new();
    for block in plan.blocks() {
        if plan.stored.itemsize > window.size() {
            copy_large_elements(plan, &block, &strides, window, writer)?;
            continue;
        }
        fill_block(plan, &block, &strides, window, &mut out)?;
        writer.write_all(&out).map_err(PassError::Write)?;
    }
    Ok(total)
}

/// Elements larger than the window (records of many bytes) are copied one
/// at a time, each in window-sized pieces, in output order.
fn copy_large_elements(
    plan: &ReorderPlan,
    block: &[Range<usize>],
    strides: &[u64],
    window: &mut impl Fetch,
    writer: &mut impl Write,
) -> Result<(), PassError> {
    let n = block.len();
    let mut index = vec![0usize; n];
    loop {
        let offset: u64 = (0..n)
            .map(|k| (plan.stored.kept[k].start + block[k].start + index[k]) as u64 * strides[k])
            .sum();
        let end = offset + plan.stored.itemsize as u64;
        let mut at = offset;
        while at < end {
            let len = (end - at).min(plan.window as u64) as usize;
            let piece = window.get(at, len, end)?;
            writer.write_all(piece).map_err(PassError::Write)?;
            at += len as u64;
        }
        // Next element in output order: the input's first axis fastest.
        let mut k = 0;
        loop {
            if k == n {
                return Ok(());
            }
            index[k] += 1;
            if index[k] < block[k].len() {
                break;
            }
            index[k] = 0;
            k += 1;
        }
    }
}

/// Runs gathered at once: their input offsets and output places are kept
/// in a small table, so that the element at each position of a run can be
/// copied for all of them in turn.
const TILE_RUNS: usize = 4096;

/// Fills `out` with one block in output order, reading it in input order.
/// Along the input's innermost axis the kept elements are a run; the
/// output's outermost axis is that same axis, so consecutive elements of a
/// run land a whole output row apart. Runs are therefore taken a tile at a
/// time, and the tile is copied position by position: all first elements,
/// then all second elements, and so on, each pass writing close together.
fn fill_block(
    plan: &ReorderPlan,
    block: &[Range<usize>],
    strides: &[u64],
    window: &mut impl Fetch,
    out: &mut Vec<u8>,
) -> Result<(), PassError> {
    let n = block.len();
    let item = plan.stored.itemsize;
    // Output strides within the block: the input's first axis is the
    // output's innermost.
    let mut ostride = vec![item; n];
    for k in 1..n {
        ostride[k] = ostride[k - 1] * block[k - 1].len();
    }
    let block_len = ostride[n - 1] * block[n - 1].len();
    out.clear();
    out.resize(block_len, 0);
    let offset_of = |index: &[usize]| -> u64 {
        (0..n)
            .map(|k| (plan.stored.kept[k].start + block[k].start + index[k]) as u64 * strides[k])
            .sum()
    };
    let last: Vec<usize> = block.iter().map(|r| r.len() - 1).collect();
    let until = offset_of(&last) + item as u64;
    let run = block[n - 1].len();
    let run_bytes = (run * item) as u64;
    let step = ostride[n - 1];
    let mut index = vec![0usize; n];
    let mut tile: Vec<(usize, usize)> = Vec::with_capacity(TILE_RUNS);
    let mut more = true;
    while more {
        // Gather runs while they fit the window together.
        tile.clear();
        let first = offset_of(&index);
        loop {
            let base = offset_of(&index);
            let fits = base + run_bytes - first <= window.size() as u64;
            if !tile.is_empty() && (!fits || tile.len() == TILE_RUNS) {
                break;
            }
            if !fits {
                // One run longer than the window: copied in pieces.
                let out_at: usize = (0..n - 1).map(|k| index[k] * ostride[k]).sum();
                copy_long_run(window, base, run, item, until, &mut out[out_at..], step)?;
            } else {
                let out_at = (0..n - 1).map(|k| index[k] * ostride[k]).sum();
                tile.push(((base - first) as usize, out_at));
            }
            more = advance(&mut index, block);
            if !more {
                break;
            }
        }
        let Some(&(last_rel, _)) = tile.last() else {
            continue;
        };
        let bytes = window.get(first, last_rel + run_bytes as usize, until)?;
        copy_tile(bytes, &tile, item, run, out, step);
    }
    Ok(())
}

/// The next run in input order: the odometer over every input axis but
/// the innermost. False when every run has been visited.
fn advance(index: &mut [usize], block: &[Range<usize>]) -> bool {
    let mut k = index.len() - 1;
    while k > 0 {
        k -= 1;
        index[k] += 1;
        if index[k] < block[k].len() {
            return true;
        }
        index[k] = 0;
    }
    false
}

/// A run longer than the window, read a window at a time.
fn copy_long_run(
    window: &mut impl Fetch,
    base: u64,
    run: usize,
    item: usize,
    until: u64,
    out: &mut [u8],
    step: usize,
) -> Result<(), PassError> {
    let per_window = (window.size() / item).max(1);
    let mut done = 0;
    while done < run {
        let count = (run - done).min(per_window);
        let bytes = window.get(base + (done * item) as u64, count * item, until)?;
        for (i, element) in bytes.chunks_exact(item).enumerate() {
            let at = (done + i) * step;
            out[at..at + item].copy_from_slice(element);
        }
        done += count;
    }
    Ok(())
}

/// Copies a tile of runs: for each position in a run, the element of every
/// run, from `bytes` (at each run's offset) to `out` (at each run's place,
/// `step` bytes further for each position).
fn copy_tile(
    bytes: &[u8],
    tile: &[(usize, usize)],
    item: usize,
    run: usize,
    out: &mut [u8],
    step: usize,
) {
    match item {
        1 => copy_tile_n::<1>(bytes, tile, run, out, step),
        2 => copy_tile_n::<2>(bytes, tile, run, out, step),
        4 => copy_tile_n::<4>(bytes, tile, run, out, step),
        8 => copy_tile_n::<8>(bytes, tile, run, out, step),
        16 => copy_tile_n::<16>(bytes, tile, run, out, step),
        _ => {
            for position in 0..run {
                let (from, to) = (position * item, position * step);
                for &(rel, at) in tile {
                    out[at + to..at + to + item]
                        .copy_from_slice(&bytes[rel + from..rel + from + item]);
                }
            }
        }
    }
}

fn copy_tile_n<const N: usize>(
    bytes: &[u8],
    tile: &[(usize, usize)],
    run: usize,
    out: &mut [u8],
    step: usize,
) {
    for position in 0..run {
        let (from, to) = (position * N, position * step);
        for &(rel, at) in tile {
            let src: [u8; N] = bytes[rel + from..rel + from + N]
                .try_into()
                .unwrap_or([0; N]);
            out[at + to..at + to + N].copy_from_slice(&src);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// Logical index of each element of an array stored C or Fortran order.
    fn reference(
        dims: &[usize],
        kept: &[Range<usize>],
        item: usize,
        fortran: bool,
        data: &[u8],
        out_fortran: bool,
    ) -> Vec<u8> {
        let n = dims.len();
        let stride = |shape: &[usize], f: bool| -> Vec<usize> {
            let mut s = vec![1; n];
            if f {
                for k in 1..n {
                    s[k] = s[k - 1] * shape[k - 1];
                }
            } else {
                for k in (0..n.saturating_sub(1)).rev() {
                    s[k] = s[k + 1] * shape[k + 1];
                }
            }
            s
        };
        let shape: Vec<usize> = kept.iter().map(|r| r.len()).collect();
        let total: usize = shape.iter().product();
        let in_stride = stride(dims, fortran);
        let out_stride = stride(&shape, out_fortran);
        let mut out = vec![0u8; total * item];
        let mut index = vec![0usize; n];
        for _ in 0..total {
            let src: usize = (0..n)
                .map(|k| (kept[k].start + index[k]) * in_stride[k])
                .sum();
            let dst: usize = (0..n).map(|k| index[k] * out_stride[k]).sum();
            out[dst * item..(dst + 1) * item].copy_from_slice(&data[src * item..(src + 1) * item]);
            for k in (0..n).rev() {
                index[k] += 1;
                if index[k] < shape[k] {
                    break;
                }
                index[k] = 0;
            }
        }
        out
    }

    fn check(dims: &[usize], kept: &[Range<usize>], item: usize, fortran: bool) {
        for (block, window) in [(BLOCK, WINDOW), (64, 16), (100, 7), (1, 1)] {
            check_with(dims, kept, item, fortran, block, window);
        }
    }

    fn check_with(
        dims: &[usize],
        kept: &[Range<usize>],
        item: usize,
        fortran: bool,
        block: usize,
        window: usize,
    ) {
        let len = dims.iter().product::<usize>() * item;
        let data: Vec<u8> = (0..len).map(|i| (i * 31 % 253) as u8).collect();
        let mut file = vec![7u8; 13];
        file.extend_from_slice(&data);
        let mut plan = ReorderPlan::new(dims, kept, item, fortran);
        plan.block = block;
        plan.window = window;
        let mut out = Vec::new();
        let written = crop_reordered(&plan, &mut Cursor::new(&file), 13, &mut out).unwrap();
        assert_eq!(written as usize, out.len());
        let mut on_disk = tempfile::tempfile().unwrap();
        on_disk.write_all(&file).unwrap();
        let mut mapped = Vec::new();
        crop_reordered_file(&plan, &on_disk, 13, &mut mapped).unwrap();
        assert!(
            mapped == out,
            "mapped: {dims:?} {kept:?} block {block} window {window}"
        );
        let expected = reference(dims, kept, item, fortran, &data, !fortran);
        assert!(
            out == expected,
            "{dims:?} {kept:?} item {item} fortran {fortran}"
        );
    }

    /// An array's dimensions, what is kept along each, and its item size.
    pub(super) type Case = (&'static [usize], &'static [Range<usize>], usize);

    /// The arrays every way of changing the order is checked on.
    pub(super) const CASES: &[Case] = &[
        (&[2, 5, 6, 3], &[0..2, 1..4, 2..5, 0..3], 4),
        (&[3, 4, 5, 2], &[0..3, 0..4, 1..5, 0..2], 1),
        (&[1, 7, 3, 2], &[0..1, 2..7, 0..3, 1..2], 8),
        (&[2, 3, 4], &[0..2, 1..3, 0..4], 3),
        (&[2, 3, 4, 5, 6], &[1..2, 0..3, 1..3, 0..5, 2..6], 2),
        (&[4, 4], &[1..3, 0..4], 16),
        (&[9, 40, 33, 3], &[0..9, 4..36, 4..29, 0..3], 4),
    ];

    #[test]
    fn reordering_equals_the_element_by_element_copy() {
        for fortran in [true, false] {
            for &(dims, kept, item) in CASES {
                check(dims, kept, item, fortran);
            }
        }
    }

    #[test]
    fn a_file_cut_short_is_an_error() {
        let plan = ReorderPlan::new(&[2, 3, 4, 5], &[0..2, 1..3, 0..4, 1..4], 4, true);
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&[1u8; 100]).unwrap();
        let err = crop_reordered_file(&plan, &file, 0, &mut Vec::new()).unwrap_err();
        assert!(
            matches!(err, PassError::Data(NpyError::ShortData { .. })),
            "{err:?}"
        );
        let err = crop_reordered(&plan, &mut Cursor::new(vec![1u8; 100]), 0, &mut Vec::new())
            .unwrap_err();
        assert!(
            matches!(err, PassError::Data(NpyError::ShortData { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn blocks_cover_the_output_in_order_within_the_bound() {
        // One sample of (3, 1100, 1100, 4) float32 is 18.5 MiB: two to a block.
        let plan = ReorderPlan::new(
            &[3, 1100, 1100, 4],
            &[0..3, 0..1100, 0..1100, 0..4],
            4,
            true,
        );
        let blocks: Vec<_> = plan.blocks().collect();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0][3], 0..2);
        assert_eq!(blocks[1][3], 2..3);
        // A sample larger than a block: split along the next axis.
        let plan = ReorderPlan::new(
            &[2, 4000, 4000, 1],
            &[0..2, 0..4000, 0..4000, 0..1],
            4,
            true,
        );
        let blocks: Vec<_> = plan.blocks().collect();
        let size = |b: &Vec<Range<usize>>| b.iter().map(|r| r.len()).product::<usize>() * 4;
        assert!(blocks.iter().all(|b| size(b) <= BLOCK));
        assert_eq!(blocks.iter().map(size).sum::<usize>(), 2 * 4000 * 4000 * 4);
    }

    #[test]
    fn numpy_save_keeps_fortran_order_only_for_contiguous_views() {
        let dims = [2, 5, 6, 3];
        let f = |order, kept: &[Range<usize>]| writes_fortran(order, true, &dims, kept);
        let whole = [0..2, 0..5, 0..6, 0..3];
        let rows = [0..2, 1..4, 0..6, 0..3];
        let last = [0..2, 0..5, 0..6, 1..2];
        assert!(f(Order::C, &whole));
        assert!(!f(Order::C, &rows));
        assert!(f(Order::Keep, &rows));
        assert!(f(Order::F, &rows));
        // One non-trivial axis left: C-contiguous, written in C order.
        assert!(!f(Order::F, &[0..1, 0..5, 0..1, 0..1]));
        // Only the last axis cut: still Fortran-contiguous.
        assert!(f(Order::C, &[0..2, 0..5, 0..6, 1..3]));
        assert!(f(Order::C, &last));
        assert!(!writes_fortran(Order::C, false, &dims, &whole));
        assert!(writes_fortran(Order::F, false, &dims, &rows));
    }
}
