//! The input file mapped a window at a time: the kernel fills the pages a
//! crop reads, and the streaming crop of a file writes its kept runs
//! straight from them, so each kept byte is copied once, into the output,
//! as an in-kernel copy of the file (`cp`) copies it.

use std::fs::File;
use std::io::{IoSlice, Write};

use memmap2::{Mmap, MmapOptions};

use super::NpyError;
use super::stream::{Ops, PassError, StreamPlan};

/// Maps the input file a window at a time: the kernel fills the pages a
/// window holds, and nothing is copied out of it but what is used. Each
/// window is unmapped before the next is mapped, so memory stays bounded.
pub(super) struct MapWindow<'a> {
    file: &'a File,
    map: Option<Mmap>,
    /// Data offset of the map's first byte.
    start: u64,
    data_start: u64,
    data_len: u64,
    size: usize,
    /// Whether each window's pages are mapped when it is (else as they
    /// are first read).
    populate: bool,
}

impl<'a> MapWindow<'a> {
    /// Windows of at most `size` bytes (unless one call asks for more) over
    /// the `data_len` bytes of data at `data_start` of `file`.
    pub(super) fn new(file: &'a File, data_start: u64, data_len: u64, size: usize) -> Self {
        Self {
            file,
            map: None,
            start: 0,
            data_start,
            data_len,
            size,
            populate: true,
        }
    }

    /// The same windows, whose pages are mapped as they are first read:
    /// cheaper where the kernel reads them itself (see [`crate::npy::spliced`]).
    pub(super) fn lazily(self) -> Self {
        Self {
            populate: false,
            ..self
        }
    }

    /// The most bytes the window maps, unless one call asks for more.
    pub(super) fn size(&self) -> usize {
        self.size
    }

    /// `len` bytes at data offset `offset`, mapping up to `until` (a data
    /// offset) ahead when the window moves.
    pub(super) fn get(&mut self, offset: u64, len: usize, until: u64) -> Result<&[u8], PassError> {
        let mapped = self.map.as_ref().map_or(0, |m| m.len());
        if offset < self.start || offset + len as u64 > self.start + mapped as u64 {
            self.map = None;
            let want = (until.max(offset + len as u64) - offset).min(self.size.max(len) as u64);
            let end = self.data_start + offset + want;
            // A file cut short since its length was checked is an error, not
            // a fault on a page past its end.
            let file_len = self.file.metadata().map_err(PassError::Read)?.len();
            if file_len < end {
                return Err(PassError::Data(NpyError::ShortData {
                    expected: self.data_len,
                    found: file_len.saturating_sub(self.data_start),
                }));
            }
            let mut options = MmapOptions::new();
            options.offset(self.data_start + offset).len(want as usize);
            if self.populate {
                options.populate();
            }
            // SAFETY: the map is read-only and private to this reader, and
            // the file was checked to hold every byte mapped. Like any
            // reader of a file, rcrop assumes nobody truncates its input
            // while it runs; were that to happen between the check above and
            // a read of the map, the system would stop the process.
            let map = unsafe { options.map(self.file) }.map_err(PassError::Read)?;
            self.map = Some(map);
            self.start = offset;
        }
        let from = (offset - self.start) as usize;
        Ok(&self.map.as_ref().map_or(&[][..], |m| &m[..])[from..from + len])
    }
}

/// The span of input one vectored write draws from, at most: the window
/// mapped at a time (measured on 1 GiB crops: 4 MiB writes as fast as
/// larger ones, and keeps the mapped pages in a few MiB).
const SPAN: usize = 4 << 20;

/// Most buffers in one vectored write: Linux's `IOV_MAX`.
const MAX_BUFFERS: usize = 1024;

/// Kept runs shorter than this are written straight from the mapped file;
/// longer ones cost less read into a buffer (see [`super::stream`]), whose
/// vectored reads leave the kernel little to do per run. Measured on 1 GiB
/// of float32 cropped by 16: 1,920-byte runs (channels first) took 0.6× the
/// CPU time mapped, 7,680-byte runs (channels last) 1.6× or more.
const RUNS_BELOW: u64 = 4 << 10;

/// Whether [`crop_file`] crops by `plan` faster than the streaming crop.
pub fn suits(plan: &StreamPlan) -> bool {
    plan.kept_run_len() < RUNS_BELOW
}

/// Crops the data of a `.npy` file that starts at `data_start` of `file`
/// into `writer`, in storage order, writing the kept runs straight from the
/// mapped file with vectored writes. The caller has checked the file's
/// length against the header. Returns the bytes written.
pub fn crop_file(
    plan: &StreamPlan,
    file: &File,
    data_start: u64,
    writer: &mut impl Write,
) -> Result<u64, PassError> {
    let window = MapWindow::new(file, data_start, plan.input_len(), SPAN);
    gather(plan, window, writer)
}

/// [`crop_file`] into a writer that splices (see [`crate::npy::spliced`]),
/// which reads the mapped pages itself: they are not mapped ahead.
#[cfg(target_os = "linux")]
pub fn splice_file(
    plan: &StreamPlan,
    file: &File,
    data_start: u64,
    writer: &mut crate::npy::spliced::SpliceWriter<'_>,
) -> Result<u64, PassError> {
    let window = MapWindow::new(file, data_start, plan.input_len(), SPAN).lazily();
    gather(plan, window, writer)
}

/// Writes the kept runs of `plan` from the mapped `window` into `writer`.
fn gather(
    plan: &StreamPlan,
    window: MapWindow<'_>,
    writer: &mut impl Write,
) -> Result<u64, PassError> {
    let mut gather = Gather {
        window,
        writer,
        at: 0,
        runs: Vec::with_capacity(MAX_BUFFERS),
    };
    if plan.input_len() > 0 {
        plan.walk(&mut gather)?;
    }
    gather.write()?;
    Ok(plan.output_len())
}

/// Gathers the kept runs of a span of the input, then writes them.
struct Gather<'a, W> {
    window: MapWindow<'a>,
    writer: &'a mut W,
    /// Data offset of the next byte the plan walks.
    at: u64,
    /// Kept runs gathered, as data offsets `(start, end)`, adjacent ones merged.
    runs: Vec<(u64, u64)>,
}

impl<W: Write> Gather<'_, W> {
    /// Writes the runs gathered from the span they lie in, and forgets them.
    fn write(&mut self) -> Result<(), PassError> {
        let (Some(&(first, _)), Some(&(_, last))) = (self.runs.first(), self.runs.last()) else {
            return Ok(());
        };
        let span = self.window.get(first, (last - first) as usize, last)?;
        let mut slices: Vec<IoSlice<'_>> = self
            .runs
            .iter()
            .map(|&(start, end)| {
                IoSlice::new(&span[(start - first) as usize..(end - first) as usize])
            })
            .collect();
        let mut slices = &mut slices[..];
        while !slices.is_empty() {
            match self.writer.write_vectored(slices) {
                Ok(0) => return Err(PassError::Write(std::io::ErrorKind::WriteZero.into())),
                Ok(n) => IoSlice::advance_slices(&mut slices, n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(PassError::Write(e)),
            }
        }
        self.runs.clear();
        Ok(())
    }
}

impl<W: Write> Ops for Gather<'_, W> {
    fn skip(&mut self, len: u64) -> Result<(), PassError> {
        self.at += len;
        Ok(())
    }

    fn keep(&mut self, mut len: u64) -> Result<(), PassError> {
        while len > 0 {
            let first = self.runs.first().map_or(self.at, |&(start, _)| start);
            if self.at + 1 > first + SPAN as u64 || self.runs.len() == MAX_BUFFERS {
                self.write()?;
                continue;
            }
            let n = len.min(first + SPAN as u64 - self.at);
            match self.runs.last_mut() {
                Some((_, end)) if *end == self.at => *end += n,
                _ => self.runs.push((self.at, self.at + n)),
            }
            self.at += n;
            len -= n;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{self, Seek, SeekFrom};
    use std::ops::Range;

    use super::*;
    use crate::npy::stream;

    /// A writer that keeps what it is given and counts the calls.
    #[derive(Default)]
    struct Counted {
        bytes: Vec<u8>,
        calls: usize,
    }

    impl Write for Counted {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.write_vectored(&[IoSlice::new(buf)])
        }

        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.calls += 1;
            // At most 1 MiB a call, as a pipe or a full disk may take less.
            let mut n = 0;
            for buf in bufs {
                let take = buf.len().min((1 << 20) - n);
                self.bytes.extend_from_slice(&buf[..take]);
                n += take;
            }
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A file holding `head` bytes of header, then the data `plan` reads.
    fn file_for(plan: &StreamPlan, head: usize) -> (File, Vec<u8>) {
        let data: Vec<u8> = (0..plan.input_len()).map(|i| (i * 7 % 251) as u8).collect();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&vec![b'#'; head]).unwrap();
        file.write_all(&data).unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        (file, data)
    }

    /// The mapped crop against the streaming one, with the number of writes.
    fn both(dims: &[usize], kept: &[Range<usize>], itemsize: usize) -> usize {
        let plan = StreamPlan::new(dims, kept, itemsize, false);
        let (file, data) = file_for(&plan, 77);
        let mut expected = Vec::new();
        stream::crop(&plan, &mut &data[..], &mut expected).unwrap();
        let mut out = Counted::default();
        assert_eq!(
            crop_file(&plan, &file, 77, &mut out).unwrap(),
            plan.output_len()
        );
        assert!(out.bytes == expected, "{dims:?} {kept:?}");
        out.calls
    }

    #[test]
    fn the_mapped_crop_equals_the_streaming_one() {
        both(&[2, 5, 6, 3], &[0..2, 1..4, 2..5, 0..3], 4);
        both(&[3, 300, 200, 4], &[0..3, 16..284, 16..184, 0..4], 4);
        // Runs longer than a span, and nothing cropped.
        both(&[3, 1100, 1000, 4], &[1..3, 0..1100, 0..1000, 0..4], 1);
        both(&[2, 40, 50, 3], &[0..2, 0..40, 0..50, 0..3], 2);
        both(&[1, 1, 1, 1], &[0..1, 0..1, 0..1, 0..0], 4);
        both(&[0, 4, 4, 1], &[0..0, 0..4, 0..4, 0..1], 4);
    }

    #[test]
    fn kept_runs_leave_many_to_a_write() {
        // 64 × 510 runs of 40 bytes: a write of a thousand of them at a time.
        let calls = both(&[64, 512, 10, 4], &[0..64, 1..511, 0..10, 0..4], 1);
        assert!(calls <= 64 * 510 / 1000 + 2, "{calls} writes");
    }

    #[test]
    fn a_file_cut_short_is_an_error() {
        let plan = StreamPlan::new(&[2, 64, 64, 4], &[0..2, 2..62, 2..62, 0..4], 4, false);
        let (file, _) = file_for(&plan, 10);
        file.set_len(10 + plan.input_len() / 2).unwrap();
        let err = crop_file(&plan, &file, 10, &mut Counted::default()).unwrap_err();
        assert!(
            matches!(err, PassError::Data(NpyError::ShortData { .. })),
            "{err}"
        );
    }
}
