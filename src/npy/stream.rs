//! The crop of `.npy` data as one sequential pass: in storage order a crop
//! keeps some runs of bytes and skips others, so it reads the input once,
//! front to back, through a bounded buffer, and works on pipes.

use std::io::{self, Read, Write};
use std::ops::Range;

use super::NpyError;

/// What to keep of a contiguous 4D array, in storage order (outermost axis first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamPlan {
    dims: [usize; 4],
    kept: [Range<usize>; 4],
    itemsize: usize,
}

impl StreamPlan {
    /// A plan for an array of logical shape `dims` keeping `kept` along each
    /// axis; Fortran-ordered data is stored with its axes reversed.
    pub fn new(
        dims: [usize; 4],
        kept: [Range<usize>; 4],
        itemsize: usize,
        fortran_order: bool,
    ) -> Self {
        let (mut dims, mut kept) = (dims, kept);
        if fortran_order {
            dims.reverse();
            kept.reverse();
        }
        Self {
            dims,
            kept,
            itemsize,
        }
    }

    /// Bytes of input data the plan reads.
    pub fn input_len(&self) -> u64 {
        super::byte_len(self.itemsize, &self.dims).unwrap_or(u64::MAX)
    }

    /// Bytes of output data the plan writes.
    pub fn output_len(&self) -> u64 {
        super::byte_len(self.itemsize, &self.kept.clone().map(|r| r.len())).unwrap_or(u64::MAX)
    }

    /// Calls `ops` with the runs to skip and keep, in storage order, adjacent
    /// skips merged. The innermost cropped axis sets the length of a kept run;
    /// the axes inside it are copied whole.
    fn walk(&self, ops: &mut impl Ops) -> Result<(), StreamError> {
        let Some(last_cropped) = (0..4).rev().find(|&a| self.kept[a] != (0..self.dims[a])) else {
            return ops.keep(self.input_len());
        };
        // stride[a]: bytes from one index of axis `a` to the next.
        let mut stride = [self.itemsize as u64; 4];
        for a in (0..3).rev() {
            stride[a] = stride[a + 1] * self.dims[a + 1] as u64;
        }
        let mut pending_skip = 0u64;
        self.walk_axis(0, last_cropped, &stride, &mut pending_skip, ops)?;
        ops.skip(pending_skip)
    }

    fn walk_axis(
        &self,
        axis: usize,
        last_cropped: usize,
        stride: &[u64; 4],
        pending_skip: &mut u64,
        ops: &mut impl Ops,
    ) -> Result<(), StreamError> {
        let kept = &self.kept[axis];
        let before = kept.start as u64 * stride[axis];
        let after = (self.dims[axis] - kept.end) as u64 * stride[axis];
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
trait Ops {
    fn skip(&mut self, len: u64) -> Result<(), StreamError>;
    fn keep(&mut self, len: u64) -> Result<(), StreamError>;
}

/// Bytes read at a time: large enough for few system calls, small enough
/// to stay in cache and to cost few page faults on small inputs.
const CHUNK: usize = 256 << 10;

/// Moves bytes from a reader to a writer a chunk at a time, handing the
/// kept runs of each chunk to the (buffered) writer whole.
struct Pump<'a, R, W> {
    reader: &'a mut R,
    writer: &'a mut W,
    buf: Vec<u8>,
    /// Bytes of `buf` holding data, and how many of them are consumed.
    filled: usize,
    pos: usize,
    /// Kept runs of `buf` not yet written, as `(start, end)`.
    kept: Vec<(usize, usize)>,
    /// Bytes of data consumed before `buf`'s current contents.
    done_before: u64,
    expected: u64,
}

impl<R: Read, W: Write> Pump<'_, R, W> {
    /// Passes `len` bytes of input, keeping them or not.
    fn advance(&mut self, mut len: u64, keep: bool) -> Result<(), StreamError> {
        while len > 0 {
            if self.pos == self.filled {
                self.refill()?;
            }
            let n = (self.filled - self.pos).min(usize::try_from(len).unwrap_or(usize::MAX));
            if keep {
                match self.kept.last_mut() {
                    Some((_, end)) if *end == self.pos => *end += n,
                    _ => self.kept.push((self.pos, self.pos + n)),
                }
            }
            self.pos += n;
            len -= n as u64;
        }
        Ok(())
    }

    /// Writes the kept runs, then reads the next chunk over the buffer.
    fn refill(&mut self) -> Result<(), StreamError> {
        self.flush()?;
        self.done_before += self.filled as u64;
        self.pos = 0;
        self.filled = 0;
        let n = loop {
            match self.reader.read(&mut self.buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(StreamError::Read(e)),
            }
        };
        if n == 0 {
            return Err(NpyError::ShortData {
                expected: self.expected,
                found: self.done_before,
            }
            .into());
        }
        self.filled = n;
        Ok(())
    }

    /// Writes the pending kept runs.
    fn flush(&mut self) -> Result<(), StreamError> {
        for &(start, end) in &self.kept {
            self.writer
                .write_all(&self.buf[start..end])
                .map_err(StreamError::Write)?;
        }
        self.kept.clear();
        Ok(())
    }

    /// Fails if any byte is left after the data.
    fn expect_end(&mut self) -> Result<(), StreamError> {
        self.flush()?;
        let trailing = if self.pos < self.filled {
            true
        } else {
            let mut probe = [0u8; 1];
            loop {
                match self.reader.read(&mut probe) {
                    Ok(n) => break n > 0,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(StreamError::Read(e)),
                }
            }
        };
        if trailing {
            return Err(NpyError::TrailingData {
                expected: self.expected,
            }
            .into());
        }
        Ok(())
    }
}

impl<R: Read, W: Write> Ops for Pump<'_, R, W> {
    fn skip(&mut self, len: u64) -> Result<(), StreamError> {
        self.advance(len, false)
    }

    fn keep(&mut self, len: u64) -> Result<(), StreamError> {
        self.advance(len, true)
    }
}

/// Why a streaming crop stopped.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("cannot read: {0}")]
    Read(io::Error),
    #[error("cannot write: {0}")]
    Write(io::Error),
    #[error(transparent)]
    Data(#[from] NpyError),
}

/// Crops the data that follows a `.npy` header from `reader` into `writer`,
/// in one sequential pass, and checks that nothing follows the data.
/// Returns the number of bytes written.
pub fn crop(
    plan: &StreamPlan,
    reader: &mut impl Read,
    writer: &mut impl Write,
) -> Result<u64, StreamError> {
    let expected = plan.input_len();
    let mut pump = Pump {
        reader,
        writer,
        buf: vec![0; usize::try_from(expected).map_or(CHUNK, |n| n.clamp(1, CHUNK))],
        filled: 0,
        pos: 0,
        kept: Vec::new(),
        done_before: 0,
        expected,
    };
    // No data: nothing to walk, however many (empty) elements the shape claims.
    if expected > 0 {
        plan.walk(&mut pump)?;
    }
    pump.expect_end()?;
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

    /// A reader that gives at most 3 bytes a read, as a slow pipe might, so
    /// that runs cross chunk boundaries.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(3).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn run(dims: [usize; 4], kept: [Range<usize>; 4], itemsize: usize) {
        let plan = StreamPlan::new(dims, kept.clone(), itemsize, false);
        let data: Vec<u8> = (0..plan.input_len()).map(|i| (i * 7 % 251) as u8).collect();
        let mut out = Vec::new();
        let written = crop(&plan, &mut Trickle(&data), &mut out).unwrap();
        assert_eq!(written as usize, out.len());
        assert_eq!(
            out,
            reference(dims, &kept, itemsize, &data),
            "{dims:?} {kept:?}"
        );
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
    fn a_shape_with_no_data_is_not_walked() {
        // 2^60 outer indices, each with nothing in it: must return at once.
        let plan = StreamPlan::new(
            [1 << 30, 1 << 30, 4, 0],
            [1..2, 0..1 << 30, 1..3, 0..0],
            8,
            false,
        );
        assert_eq!(crop(&plan, &mut &[][..], &mut Vec::new()).unwrap(), 0);
        let void = StreamPlan::new(
            [1 << 30, 1 << 30, 4, 4],
            [1..2, 0..1 << 30, 1..3, 1..3],
            0,
            true,
        );
        assert_eq!(crop(&void, &mut &[][..], &mut Vec::new()).unwrap(), 0);
        assert_eq!(void.input_len(), 0);
    }

    #[test]
    fn fortran_order_reverses_the_axes() {
        let plan = StreamPlan::new([2, 3, 4, 5], [0..2, 1..2, 0..4, 0..5], 1, true);
        assert_eq!(plan.dims, [5, 4, 3, 2]);
        assert_eq!(plan.kept[2], 1..2);
    }

    #[test]
    fn short_data_says_how_much_arrived() {
        let plan = StreamPlan::new([1, 4, 4, 1], [0..1, 1..3, 1..3, 0..1], 1, false);
        let data = [0u8; 10];
        let err = crop(&plan, &mut &data[..], &mut Vec::new()).unwrap_err();
        assert!(
            matches!(
                err,
                StreamError::Data(NpyError::ShortData {
                    expected: 16,
                    found: 10
                })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let plan = StreamPlan::new([1, 2, 2, 1], [0..1, 0..2, 0..2, 0..1], 1, false);
        let data = [0u8; 5];
        let err = crop(&plan, &mut &data[..], &mut Vec::new()).unwrap_err();
        assert!(
            matches!(
                err,
                StreamError::Data(NpyError::TrailingData { expected: 4 })
            ),
            "{err:?}"
        );
    }
}
