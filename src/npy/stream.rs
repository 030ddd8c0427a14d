//! The crop of `.npy` data as one sequential pass: in storage order a crop
//! keeps some runs of bytes and skips others, so it reads the input once,
//! front to back, through a bounded buffer, and works on pipes.

use std::collections::VecDeque;
use std::io::{self, IoSliceMut, Read, Write};
use std::ops::Range;

use super::{NpyError, ReadError, Stored};

/// What to keep of a contiguous array of any rank, read and written in its
/// storage order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamPlan {
    stored: Stored,
}

impl StreamPlan {
    /// A plan for an array of logical shape `dims` keeping `kept` along each
    /// axis (an axis with no range, or a range reaching past its axis, keeps
    /// what there is); Fortran-ordered data is stored with its axes reversed.
    pub fn new(
        dims: &[usize],
        kept: &[Range<usize>],
        itemsize: usize,
        fortran_order: bool,
    ) -> Self {
        Self {
            stored: Stored::new(dims, kept, itemsize, fortran_order),
        }
    }

    /// Bytes of input data the plan reads.
    pub fn input_len(&self) -> u64 {
        self.stored.input_len()
    }

    /// Bytes of output data the plan writes.
    pub fn output_len(&self) -> u64 {
        self.stored.output_len()
    }

    /// Bytes in each kept run: the kept part of the innermost cropped axis,
    /// with the axes inside it whole (the whole data when nothing is cropped).
    pub(super) fn kept_run_len(&self) -> u64 {
        match self.last_cropped() {
            None => self.input_len(),
            Some(axis) => self.stored.dims[axis + 1..].iter().fold(
                self.stored.itemsize as u64 * self.stored.kept[axis].len() as u64,
                |n, &d| n.saturating_mul(d as u64),
            ),
        }
    }

    /// The innermost axis the plan crops, if any.
    fn last_cropped(&self) -> Option<usize> {
        (0..self.stored.dims.len())
            .rev()
            .find(|&a| self.stored.kept[a] != (0..self.stored.dims[a]))
    }

    /// Calls `ops` with the runs to skip and keep, in storage order, adjacent
    /// skips merged. The innermost cropped axis sets the length of a kept run;
    /// the axes inside it are copied whole.
    pub(super) fn walk(&self, ops: &mut impl Ops) -> Result<(), PassError> {
        let Some(last_cropped) = self.last_cropped() else {
            return ops.keep(self.input_len());
        };
        let stride = self.stored.strides();
        let mut pending_skip = 0u64;
        self.walk_axis(0, last_cropped, &stride, &mut pending_skip, ops)?;
        ops.skip(pending_skip)
    }

    fn walk_axis(
        &self,
        axis: usize,
        last_cropped: usize,
        stride: &[u64],
        pending_skip: &mut u64,
        ops: &mut impl Ops,
    ) -> Result<(), PassError> {
        let kept = &self.stored.kept[axis];
        let before = kept.start as u64 * stride[axis];
        let after = (self.stored.dims[axis] - kept.end) as u64 * stride[axis];
        if axis == last_cropped {
            *pending_skip += before;
            if !kept.is_empty() {
                ops.skip(std::mem::take(pending_skip))?;
                ops.keep(kept.len() as u64 * stride[axis])?;
            }
            *pending_skip += after;
            return Ok(());
        }
        *pending_skip += before;
        for _ in kept.clone() {
            self.walk_axis(axis + 1, last_cropped, stride, pending_skip, ops)?;
        }
        *pending_skip += after;
        Ok(())
    }
}

/// The two things a crop does with the bytes of its input, in order.
pub(super) trait Ops {
    fn skip(&mut self, len: u64) -> Result<(), PassError>;
    fn keep(&mut self, len: u64) -> Result<(), PassError>;
}

/// Bytes asked of the reader at a time, at least, and written at a time:
/// a buffered reader or writer whose buffer is no larger hands each request
/// straight to the system instead of copying it through its own buffer.
pub const IO_SIZE: usize = 256 << 10;

/// Most buffers in one vectored read: Linux's `IOV_MAX`.
const MAX_BUFFERS: usize = 1024;

/// Most runs queued for one plain read, which bounds the queue when runs
/// are a few bytes long.
const MAX_RUNS: usize = 16 << 10;

/// Kept runs at least this long are read straight into the output buffer;
/// for shorter ones the kernel's cost per buffer outweighs a copy in user
/// space (measured: 576-byte runs crop faster copied, 1,104-byte runs
/// faster scattered).
const SCATTER_MIN: u64 = 1024;

/// Moves the kept runs of the input to a writer. With `scatter`, vectored
/// reads place kept bytes one after another in `out` and skipped bytes in
/// `scratch`, so kept bytes are copied once, by the system; without it,
/// plain reads fill `scratch` and kept runs are copied to `out`. Either way
/// reads ask for `IO_SIZE` bytes or more, and `out` leaves in writes of at
/// least `IO_SIZE` bytes (which a buffered writer passes on whole).
struct Pump<'a, R, W> {
    reader: &'a mut R,
    writer: &'a mut W,
    /// Runs announced and not yet read, in order, as `(length, keep)`.
    pending: VecDeque<(u64, bool)>,
    pending_len: u64,
    /// Kept bytes read and not yet written: the first `out_len` of `out`.
    out: Vec<u8>,
    out_len: usize,
    /// Where skipped bytes are read to, and forgotten; or, when runs are
    /// short, where every byte is read to before kept runs are copied out.
    scratch: Vec<u8>,
    /// Whether kept runs are long enough to be read straight into `out`.
    scatter: bool,
    /// Bytes read so far, and bytes of data there should be.
    read: u64,
    expected: u64,
}

impl<'a, R: Read, W: Write> Pump<'a, R, W> {
    fn new(
        reader: &'a mut R,
        writer: &'a mut W,
        plan: &StreamPlan,
        scatter: bool,
    ) -> Pump<'a, R, W> {
        let cap = |len: u64, max: usize| usize::try_from(len).map_or(max, |n| n.min(max));
        let expected = plan.input_len();
        Pump {
            reader,
            writer,
            pending: VecDeque::new(),
            pending_len: 0,
            out: vec![0; cap(plan.output_len(), 2 * IO_SIZE)],
            out_len: 0,
            scratch: vec![0; cap(expected, IO_SIZE)],
            scatter,
            read: 0,
            expected,
        }
    }

    /// Queues the next `len` bytes of input, kept or not, and reads while a
    /// full request is queued.
    fn push(&mut self, len: u64, keep: bool) -> Result<(), PassError> {
        if len == 0 {
            return Ok(());
        }
        match self.pending.back_mut() {
            Some((run, kept)) if *kept == keep => *run += len,
            _ => self.pending.push_back((len, keep)),
        }
        self.pending_len += len;
        let max_runs = if self.scatter { MAX_BUFFERS } else { MAX_RUNS };
        while self.pending_len >= IO_SIZE as u64 || self.pending.len() >= max_runs {
            self.read_once()?;
        }
        Ok(())
    }

    /// One read of the queued runs, as far as `out` and `scratch` have room;
    /// writes `out` once it holds `IO_SIZE` bytes or more.
    fn read_once(&mut self) -> Result<(), PassError> {
        let n = if self.scatter {
            self.read_scattered()?
        } else {
            self.read_whole()?
        };
        if n == 0 {
            return Err(NpyError::ShortData {
                expected: self.expected,
                found: self.read,
            }
            .into());
        }
        self.read += n as u64;
        self.pending_len -= n as u64;
        // Take the `n` bytes read off the front of the queue, from offset
        // `at` of what was read.
        let mut at = 0;
        while at < n
            && let Some((len, keep)) = self.pending.front_mut()
        {
            let taken = usize::try_from(*len).map_or(n - at, |len| len.min(n - at));
            if *keep {
                if !self.scatter {
                    self.out[self.out_len..self.out_len + taken]
                        .copy_from_slice(&self.scratch[at..at + taken]);
                }
                self.out_len += taken;
            }
            at += taken;
            *len -= taken as u64;
            if *len == 0 {
                self.pending.pop_front();
            }
        }
        if self.out_len >= IO_SIZE.min(self.out.len()) {
            self.flush()?;
        }
        Ok(())
    }

    /// One vectored read: kept runs land one after another in `out`,
    /// skipped runs in `scratch`. Returns the bytes read.
    fn read_scattered(&mut self) -> Result<usize, PassError> {
        let mut buffers = Vec::with_capacity(self.pending.len().min(MAX_BUFFERS));
        let mut out_free = &mut self.out[self.out_len..];
        let mut scratch_free = &mut self.scratch[..];
        for &(len, keep) in self.pending.iter().take(MAX_BUFFERS) {
            let free = if keep {
                &mut out_free
            } else {
                &mut scratch_free
            };
            let n = usize::try_from(len).map_or(free.len(), |len| len.min(free.len()));
            let (head, tail) = std::mem::take(free).split_at_mut(n);
            *free = tail;
            if !head.is_empty() {
                buffers.push(IoSliceMut::new(head));
            }
            if n as u64 != len {
                break;
            }
        }
        debug_assert!(!buffers.is_empty(), "a queued run always has room");
        retry(|| self.reader.read_vectored(&mut buffers))
    }

    /// One plain read of the queued runs into `scratch`, whose kept bytes
    /// the caller then copies to `out`. Returns the bytes read.
    fn read_whole(&mut self) -> Result<usize, PassError> {
        let want = usize::try_from(self.pending_len)
            .map_or(self.scratch.len(), |n| n.min(self.scratch.len()));
        retry(|| self.reader.read(&mut self.scratch[..want]))
    }

    /// Writes the kept bytes read so far.
    fn flush(&mut self) -> Result<(), PassError> {
        self.writer
            .write_all(&self.out[..self.out_len])
            .map_err(PassError::Write)?;
        self.out_len = 0;
        Ok(())
    }

    /// Reads and writes what is queued, then fails if any byte follows the data.
    fn finish(&mut self) -> Result<(), PassError> {
        while !self.pending.is_empty() {
            self.read_once()?;
        }
        self.flush()?;
        let mut probe = [0u8; 1];
        if retry(|| self.reader.read(&mut probe))? > 0 {
            return Err(NpyError::TrailingData {
                expected: self.expected,
            }
            .into());
        }
        Ok(())
    }
}

impl<R: Read, W: Write> Ops for Pump<'_, R, W> {
    fn skip(&mut self, len: u64) -> Result<(), PassError> {
        self.push(len, false)
    }

    fn keep(&mut self, len: u64) -> Result<(), PassError> {
        self.push(len, true)
    }
}

/// A read, tried again when a signal interrupts it.
fn retry(mut read: impl FnMut() -> io::Result<usize>) -> Result<usize, PassError> {
    loop {
        match read() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            result => return result.map_err(PassError::Read),
        }
    }
}

/// Why a pass over `.npy` data stopped: reading it, writing what it keeps,
/// or the data itself.
#[derive(Debug, thiserror::Error)]
pub enum PassError {
    #[error("cannot read: {0}")]
    Read(io::Error),
    #[error("cannot write: {0}")]
    Write(io::Error),
    #[error(transparent)]
    Data(#[from] NpyError),
}

impl From<ReadError> for PassError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Npy(e) => PassError::Data(e),
            ReadError::Io(e) => PassError::Read(e),
        }
    }
}

/// Crops the data that follows a `.npy` header from `reader` into `writer`,
/// in one sequential pass, and checks that nothing follows the data.
/// Returns the number of bytes written.
pub fn crop(
    plan: &StreamPlan,
    reader: &mut impl Read,
    writer: &mut impl Write,
) -> Result<u64, PassError> {
    crop_with(plan, reader, writer, plan.kept_run_len() >= SCATTER_MIN)
}

/// [`crop`], reading kept runs straight into the output buffer or not.
fn crop_with(
    plan: &StreamPlan,
    reader: &mut impl Read,
    writer: &mut impl Write,
    scatter: bool,
) -> Result<u64, PassError> {
    let mut pump = Pump::new(reader, writer, plan, scatter);
    // No data: nothing to walk, however many (empty) elements the shape claims.
    if pump.expected > 0 {
        plan.walk(&mut pump)?;
    }
    pump.finish()?;
    Ok(plan.output_len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: every element whose index is in every kept range, in
    /// storage order, one element at a time.
    fn reference(
        dims: [usize; 4],
        kept: &[Range<usize>; 4],
        itemsize: usize,
        data: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let mut offset = 0;
        for a in 0..dims[0] {
            for b in 0..dims[1] {
                for c in 0..dims[2] {
                    for d in 0..dims[3] {
                        let inside = [a, b, c, d].iter().zip(kept).all(|(i, r)| r.contains(i));
                        if inside {
                            out.extend_from_slice(&data[offset..offset + itemsize]);
                        }
                        offset += itemsize;
                    }
                }
            }
        }
        out
    }

    /// A reader that gives at most 3 bytes a read, into one buffer, as a
    /// slow pipe might, so that runs cross every boundary.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(3).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// A reader that fills several buffers a read but stops after `most`
    /// bytes, part way into a buffer, and records the bytes asked each time.
    struct Pipe<'a> {
        data: &'a [u8],
        most: usize,
        asked: Vec<usize>,
    }

    impl Read for Pipe<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.read_vectored(&mut [IoSliceMut::new(buf)])
        }

        fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
            self.asked.push(bufs.iter().map(|b| b.len()).sum());
            let mut n = 0;
            for buf in bufs {
                let m = buf.len().min(self.most - n).min(self.data.len());
                buf[..m].copy_from_slice(&self.data[..m]);
                self.data = &self.data[m..];
                n += m;
            }
            Ok(n)
        }
    }

    /// A writer that records the length of each write.
    #[derive(Default)]
    struct Recorder {
        bytes: Vec<u8>,
        writes: Vec<usize>,
    }

    impl Write for Recorder {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.writes.push(buf.len());
            self.bytes.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn data_for(plan: &StreamPlan) -> Vec<u8> {
        (0..plan.input_len()).map(|i| (i * 7 % 251) as u8).collect()
    }

    /// Crops through a trickle, a whole slice and a pipe that stops part
    /// way, with kept runs read straight to the output and copied there; all
    /// must give the element-by-element crop.
    fn run(dims: [usize; 4], kept: [Range<usize>; 4], itemsize: usize) {
        let plan = StreamPlan::new(&dims, &kept, itemsize, false);
        let data = data_for(&plan);
        let expected = reference(dims, &kept, itemsize, &data);
        for scatter in [true, false] {
            for (name, mut reader) in readers(&data) {
                let mut out = Vec::new();
                let written = crop_with(&plan, &mut reader, &mut out, scatter).unwrap();
                assert_eq!(written as usize, out.len(), "{name}");
                assert!(
                    out == expected,
                    "{name}, scatter {scatter}: {dims:?} {kept:?}"
                );
            }
        }
    }

    fn readers(data: &[u8]) -> Vec<(&'static str, Box<dyn Read + '_>)> {
        let mut readers: Vec<(&str, Box<dyn Read>)> = vec![
            ("slice", Box::new(data)),
            (
                "pipe",
                Box::new(Pipe {
                    data,
                    most: 7919,
                    asked: Vec::new(),
                }),
            ),
        ];
        if data.len() < 100_000 {
            readers.push(("trickle", Box::new(Trickle(data))));
        }
        readers
    }

    #[test]
    fn streaming_equals_the_element_by_element_crop() {
        run([2, 5, 6, 3], [0..2, 1..4, 2..5, 0..3], 4);
        run([2, 3, 5, 6], [0..2, 0..3, 0..5, 1..6], 2);
        run([2, 3, 5, 6], [0..2, 0..3, 1..2, 0..6], 1);
        run([1, 4, 4, 1], [0..1, 0..4, 0..4, 0..1], 8);
        run([0, 4, 4, 2], [0..0, 1..3, 1..3, 0..2], 4);
        run([3, 4, 5, 0], [0..3, 1..3, 1..4, 0..0], 4);
    }

    #[test]
    fn large_arrays_cross_many_requests() {
        // Several times the buffers: runs split across reads and writes.
        run([3, 300, 200, 4], [0..3, 16..284, 16..184, 0..4], 4);
        run([3, 4, 300, 200], [0..3, 0..4, 1..299, 7..200], 4);
        // Nothing cropped: one run as long as the data.
        run([2, 256, 256, 3], [0..2, 0..256, 0..256, 0..3], 4);
        // Kept runs longer than the output buffer, with skips between.
        run([3, 600, 300, 4], [0..3, 1..599, 0..300, 0..4], 4);
        // One pixel kept of each image: skips far larger than the scratch.
        run([4, 512, 512, 1], [0..4, 300..301, 7..8, 0..1], 4);
        // Short rows; then runs of one byte, more than one read takes
        // (`MAX_BUFFERS` scattered, `MAX_RUNS` copied).
        run([1, 64, 3000, 1], [0..1, 0..64, 1..2999, 0..1], 1);
        run([1, 2, 5000, 2], [0..1, 0..2, 0..5000, 1..2], 1);
        run([1, 3, 9000, 2], [0..1, 0..3, 0..9000, 0..1], 1);
    }

    /// Large sequential I/O: after the first, every read asks for at least
    /// `IO_SIZE` bytes (so a buffered reader passes it on without copying), and
    /// every write but the last is at least `IO_SIZE` bytes (so a buffered
    /// writer does too).
    #[test]
    fn reads_and_writes_are_large() {
        let plan = StreamPlan::new(&[4, 512, 512, 4], &[0..4, 16..496, 16..496, 0..4], 4, false);
        let data = data_for(&plan);
        for scatter in [true, false] {
            let mut reader = Pipe {
                data: &data,
                most: 100_000,
                asked: Vec::new(),
            };
            let mut out = Recorder::default();
            crop_with(&plan, &mut reader, &mut out, scatter).unwrap();
            assert_eq!(out.bytes.len() as u64, plan.output_len());
            let (last, rest) = out.writes.split_last().unwrap();
            assert!(rest.iter().all(|&n| n >= IO_SIZE), "{:?}", out.writes);
            assert!(*last > 0 && rest.len() as u64 > plan.output_len() / (2 * IO_SIZE as u64));
            // The last requests drain the queue; the probe for trailing bytes asks one.
            let asked = &reader.asked;
            let full = asked.iter().take_while(|&&n| n >= IO_SIZE).count();
            assert!(
                full as u64 >= (plan.input_len() - IO_SIZE as u64) / 100_000,
                "scatter {scatter}: {asked:?}"
            );
        }
    }

    #[test]
    fn kept_runs_are_measured_along_the_innermost_cropped_axis() {
        let last = StreamPlan::new(&[2, 512, 512, 4], &[0..2, 16..496, 16..496, 0..4], 4, false);
        assert_eq!(last.kept_run_len(), 480 * 4 * 4);
        let first = StreamPlan::new(&[2, 4, 512, 512], &[0..2, 0..4, 16..496, 16..496], 4, false);
        assert_eq!(first.kept_run_len(), 480 * 4);
        let rows = StreamPlan::new(&[2, 8, 6, 3], &[0..2, 1..7, 0..6, 0..3], 2, false);
        assert_eq!(rows.kept_run_len(), 6 * 6 * 3 * 2);
        let whole = StreamPlan::new(&[2, 8, 6, 3], &[0..2, 0..8, 0..6, 0..3], 2, false);
        assert_eq!(whole.kept_run_len(), whole.input_len());
    }

    #[test]
    fn a_shape_with_no_data_is_not_walked() {
        // 2^60 outer indices, each with nothing in it: must return at once.
        let plan = StreamPlan::new(
            &[1 << 30, 1 << 30, 4, 0],
            &[1..2, 0..1 << 30, 1..3, 0..0],
            8,
            false,
        );
        assert_eq!(crop(&plan, &mut &[][..], &mut Vec::new()).unwrap(), 0);
        let void = StreamPlan::new(
            &[1 << 30, 1 << 30, 4, 4],
            &[1..2, 0..1 << 30, 1..3, 1..3],
            0,
            true,
        );
        assert_eq!(crop(&void, &mut &[][..], &mut Vec::new()).unwrap(), 0);
        assert_eq!(void.input_len(), 0);
    }

    #[test]
    fn fortran_order_reverses_the_axes() {
        let plan = StreamPlan::new(&[2, 3, 4, 5], &[0..2, 1..2, 0..4, 0..5], 1, true);
        assert_eq!(plan.stored.dims, [5, 4, 3, 2]);
        assert_eq!(plan.stored.kept[2], 1..2);
    }

    #[test]
    fn short_data_says_how_much_arrived() {
        let plan = StreamPlan::new(&[1, 4, 4, 1], &[0..1, 1..3, 1..3, 0..1], 1, false);
        let data = [0u8; 10];
        let err = crop(&plan, &mut &data[..], &mut Vec::new()).unwrap_err();
        assert!(
            matches!(
                err,
                PassError::Data(NpyError::ShortData {
                    expected: 16,
                    found: 10
                })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let plan = StreamPlan::new(&[1, 2, 2, 1], &[0..1, 0..2, 0..2, 0..1], 1, false);
        let data = [0u8; 5];
        let err = crop(&plan, &mut &data[..], &mut Vec::new()).unwrap_err();
        assert!(
            matches!(err, PassError::Data(NpyError::TrailingData { expected: 4 })),
            "{err:?}"
        );
    }
}
