//! The streaming crop of a whole `.npy` file, whatever its header claims.
//!
//! Input layout: 5 control bytes, then the `.npy` file itself.
//! - bytes 0..4: the crop `top, bottom, left, right`, each `byte % 16`;
//! - byte 4: bits 0..6 cap each `read` at that many bytes (0: no cap), bits
//!   6..8 cap each `write` at that many bytes (0: no cap), so that runs
//!   cross buffer and slice boundaries as they do on pipes.
//!
//! For both data formats: read the header, the layer's kept ranges and
//! `Header::cropped`, and when that
//! is accepted `npy::stream::crop` the rest of the file. Checked:
//! - nothing panics, hangs or allocates hugely, whatever the header claims;
//! - the crop succeeds exactly when the file holds as many data bytes as the
//!   header promises, and then writes `plan.output_len()` bytes, which is the
//!   cropped header's `data_len()`;
//! - for small arrays, the bytes written equal an element-by-element crop in
//!   the storage order of the input and of the cropped header.
#![no_main]

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::ops::Range;

use libfuzzer_sys::fuzz_target;
use rcrop::npy::Header;
use rcrop::npy::stream::{self, PassError};
use rcrop::{Cropping, Cropping2D, DataFormat};

/// Gives at most `cap` bytes a read (all it can when `cap` is 0).
struct CappedReader<'a> {
    data: &'a [u8],
    cap: usize,
}

impl Read for CappedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = buf.len().min(self.data.len());
        if self.cap > 0 {
            n = n.min(self.cap);
        }
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }

    /// Fills buffer after buffer, as `readv` does, up to `cap` bytes in all.
    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let mut total = 0;
        for buf in bufs {
            let room = if self.cap > 0 {
                self.cap - total
            } else {
                usize::MAX
            };
            let n = buf.len().min(self.data.len()).min(room);
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            total += n;
        }
        Ok(total)
    }
}

/// Takes at most `cap` bytes a write (all it is given when `cap` is 0).
struct CappedWriter {
    out: Vec<u8>,
    cap: usize,
}

impl Write for CappedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = if self.cap > 0 {
            buf.len().min(self.cap)
        } else {
            buf.len()
        };
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut written = 0;
        for b in bufs {
            let room = if self.cap > 0 {
                self.cap - written
            } else {
                usize::MAX
            };
            let n = b.len().min(room);
            self.out.extend_from_slice(&b[..n]);
            written += n;
            if n < b.len() || (self.cap > 0 && written == self.cap) {
                break;
            }
        }
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Above this many elements, the element-by-element reference is skipped.
const REFERENCE_MAX_ELEMENTS: u64 = 1 << 16;

fn elements(shape: &[usize]) -> Option<u64> {
    shape
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
}

/// Byte strides of a 4D array of `dims` stored in C or Fortran order.
fn strides(dims: [usize; 4], itemsize: usize, fortran: bool) -> [usize; 4] {
    let mut strides = [0; 4];
    let mut step = itemsize;
    let order: [usize; 4] = if fortran { [0, 1, 2, 3] } else { [3, 2, 1, 0] };
    for axis in order {
        strides[axis] = step;
        // Wraps only for an empty array, whose strides are never used.
        step = step.wrapping_mul(dims[axis]);
    }
    strides
}

/// The cropped array's bytes, one element at a time: output elements in the
/// output's storage order, each read from its place in the input's.
fn reference(input: &Header, output: &Header, kept: &[Range<usize>], data: &[u8]) -> Vec<u8> {
    let itemsize = input.dtype.itemsize();
    let in_dims: [usize; 4] = input.shape.as_slice().try_into().unwrap();
    let out_dims: [usize; 4] = output.shape.as_slice().try_into().unwrap();
    let in_strides = strides(in_dims, itemsize, input.fortran_order);
    let total = elements(&out_dims).unwrap() as usize;
    let mut out = Vec::with_capacity(total * itemsize);
    for flat in 0..total {
        // The output index of the `flat`-th element in the output's storage order.
        let mut index = [0usize; 4];
        let mut rest = flat;
        let order: [usize; 4] = if output.fortran_order {
            [0, 1, 2, 3]
        } else {
            [3, 2, 1, 0]
        };
        for axis in order {
            index[axis] = rest % out_dims[axis];
            rest /= out_dims[axis];
        }
        let offset: usize = (0..4)
            .map(|a| (kept[a].start + index[a]) * in_strides[a])
            .sum();
        out.extend_from_slice(&data[offset..offset + itemsize]);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let (control, file) = data.split_at(5);
    let cropping = Cropping {
        top: usize::from(control[0] % 16),
        bottom: usize::from(control[1] % 16),
        left: usize::from(control[2] % 16),
        right: usize::from(control[3] % 16),
    };
    let read_cap = usize::from(control[4] & 0x3f);
    let write_cap = usize::from(control[4] >> 6);

    let mut reader = file;
    let Ok((header, header_len)) = Header::read(&mut reader) else {
        return;
    };
    assert_eq!(header_len as usize, file.len() - reader.len());
    let rest = reader;

    for format in [DataFormat::ChannelsLast, DataFormat::ChannelsFirst] {
        let layer = Cropping2D::new(cropping, format);
        if header.shape.len() != 4 {
            return;
        }
        let Ok(kept) = layer.kept_ranges(&header.shape) else {
            continue;
        };
        let Ok((out_header, plan)) = header.cropped(&kept) else {
            continue;
        };
        let input_len = header
            .data_len()
            .expect("Header::cropped accepted a header whose data_len overflows");
        assert_eq!(
            plan.input_len(),
            input_len,
            "plan and header disagree on the input size"
        );
        let output_len = out_header
            .data_len()
            .expect("the cropped header's data_len overflows");
        assert_eq!(
            plan.output_len(),
            output_len,
            "plan and cropped header disagree on the output size"
        );
        assert_eq!(out_header.dtype, header.dtype);

        let mut source = CappedReader {
            data: rest,
            cap: read_cap,
        };
        let mut sink = CappedWriter {
            out: Vec::new(),
            cap: write_cap,
        };
        let result = stream::crop(&plan, &mut source, &mut sink);
        let complete = rest.len() as u64 == input_len;
        match result {
            Ok(written) => {
                assert!(
                    complete,
                    "crop accepted {} data bytes for a header promising {input_len}",
                    rest.len()
                );
                assert_eq!(written, output_len, "crop's returned length");
                assert_eq!(sink.out.len() as u64, output_len, "bytes actually written");
                let small = elements(&header.shape).is_some_and(|n| n <= REFERENCE_MAX_ELEMENTS);
                if small {
                    let kept = layer.kept_ranges(&header.shape).unwrap();
                    let want = reference(&header, &out_header, &kept, rest);
                    assert!(
                        sink.out == want,
                        "streamed crop differs from the element-by-element crop: \
                         {header:?} cropped by {cropping:?} ({format}) to {out_header:?}"
                    );
                }
            }
            Err(PassError::Data(_)) => {
                assert!(
                    !complete,
                    "crop refused {input_len} data bytes for a header promising exactly that"
                );
                assert!(
                    sink.out.len() as u64 <= output_len,
                    "wrote more than the output length"
                );
            }
            Err(e) => panic!("an in-memory reader or writer failed: {e}"),
        }
    }
});
