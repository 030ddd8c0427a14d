//! A `.npy` array that is an image, a row at a time: read as the rows of a
//! window, each cut to the window's columns, as interleaved little-endian
//! samples, and written from such rows, so that an array of any size
//! crosses to or from an image in a few MiB. Only C-ordered data is read or
//! written this way; anything else is held whole by the caller.

use std::fs::File;
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};
use std::ops::Range;

use super::npy::npy_header;
use super::{ArrayLayout, ByteOrder, MOST_CHANNELS, SampleType, TensorError, image_dims};
use crate::data_format::DataFormat;
use crate::npy::Data;
use crate::npy::stream::PassError;
use crate::tensor::RowFn;

/// Rows are gathered into writes of about this size.
pub const WRITE_SIZE: usize = 256 << 10;

/// A C-ordered `.npy` array of batch 1 that is an image, read a row at a time.
pub struct NpyRows {
    layout: ArrayLayout,
    height: usize,
    width: usize,
    channels: usize,
    from: RowLayout,
}

/// Where the data of [`NpyRows`] lies, and how its rows are reached.
enum RowLayout {
    /// Channels last, read front to back; unless the file's length was
    /// checked against its header, the rest of the data is read too, so
    /// that data cut short is an error.
    Stream {
        data: Data<Box<dyn BufRead + Send>>,
        checked_len: bool,
    },
    /// Channels first in a regular file whose data starts `at`: each row of
    /// a window read from every plane where it lies.
    Planes { file: File, at: u64 },
}

impl NpyRows {
    /// Channels-last data of `len` bytes, read front to back from `reader`;
    /// `checked_len` tells whether the file's length was checked against
    /// its header.
    pub fn stream(
        reader: Box<dyn BufRead + Send>,
        layout: ArrayLayout,
        len: u64,
        checked_len: bool,
    ) -> Result<Self, TensorError> {
        let data = Data::new(reader, len);
        Self::new(
            layout,
            DataFormat::ChannelsLast,
            RowLayout::Stream { data, checked_len },
        )
    }

    /// Channels-first data in `file`, starting `at` bytes into it.
    pub fn planes(file: File, at: u64, layout: ArrayLayout) -> Result<Self, TensorError> {
        Self::new(
            layout,
            DataFormat::ChannelsFirst,
            RowLayout::Planes { file, at },
        )
    }

    fn new(layout: ArrayLayout, format: DataFormat, from: RowLayout) -> Result<Self, TensorError> {
        let (height, width, channels) = image_dims(layout.shape, format, MOST_CHANNELS)?;
        Ok(Self {
            layout,
            height,
            width,
            channels,
            from,
        })
    }

    /// Height, width and channels of the image.
    pub fn dims(&self) -> (usize, usize, usize) {
        (self.height, self.width, self.channels)
    }

    pub fn sample_type(&self) -> SampleType {
        self.layout.sample
    }

    /// Passes each row of the window (`rows` × `cols`, inside the image),
    /// top to bottom, to `row`.
    pub fn read_window(
        &mut self,
        rows: Range<usize>,
        cols: Range<usize>,
        row: &mut RowFn<'_>,
    ) -> Result<(), PassError> {
        let size = self.layout.sample.itemsize();
        let big = self.layout.byte_order == ByteOrder::Big;
        let to_le = |samples: &mut [u8]| {
            if big {
                samples.chunks_exact_mut(size).for_each(<[u8]>::reverse);
            }
        };
        let (w, h) = (self.width as u64, self.height as u64);
        let pixel = self.channels * size;
        match &mut self.from {
            RowLayout::Stream { data, checked_len } => {
                let mut line = vec![0; self.width * pixel];
                for y in 0..rows.end {
                    data.read_exact(&mut line)?;
                    if y < rows.start {
                        continue;
                    }
                    let kept = &mut line[cols.start * pixel..cols.end * pixel];
                    to_le(kept);
                    row(kept).map_err(PassError::Write)?;
                }
                if !*checked_len {
                    data.skip_rest()?;
                }
            }
            RowLayout::Planes { file, at } => {
                let run = cols.len() * size;
                let mut planes = vec![0; run * self.channels];
                let mut pixels = Vec::with_capacity(planes.len());
                for y in rows {
                    for (c, plane) in planes.chunks_exact_mut(run).enumerate() {
                        let start =
                            *at + ((c as u64 * h + y as u64) * w + cols.start as u64) * size as u64;
                        file.seek(SeekFrom::Start(start)).map_err(PassError::Read)?;
                        file.read_exact(plane).map_err(PassError::Read)?;
                    }
                    pixels.clear();
                    for x in 0..cols.len() {
                        for plane in planes.chunks_exact(run) {
                            pixels.extend_from_slice(&plane[x * size..(x + 1) * size]);
                        }
                    }
                    to_le(&mut pixels);
                    row(&pixels).map_err(PassError::Write)?;
                }
            }
        }
        Ok(())
    }
}

/// An image's rows written as a C-ordered `.npy` array, header first.
pub enum NpyRowWriter<'a> {
    /// Channels last: the rows themselves, as they come.
    Plain(&'a mut (dyn Write + Send)),
    /// Channels first: each row's samples split by channel and gathered
    /// per plane, each plane's run written at its place in the file.
    Planes(Planes<'a>),
}

/// The planes of channels-first data being written.
pub struct Planes<'a> {
    file: &'a File,
    /// Where the data starts, and the bytes of one plane.
    at: u64,
    plane_len: u64,
    itemsize: usize,
    /// Each plane's rows not yet written.
    pending: Vec<Vec<u8>>,
    /// The bytes of each plane written so far.
    written: u64,
}

impl<'a> NpyRowWriter<'a> {
    /// Channels-last data of `layout` written to `out` as it comes.
    pub fn plain(out: &'a mut (dyn Write + Send), layout: &ArrayLayout) -> io::Result<Self> {
        out.write_all(&npy_header(layout).to_bytes())?;
        Ok(NpyRowWriter::Plain(out))
    }

    /// Channels-first data of `layout` written into `file` (at its start),
    /// each plane where it lies.
    pub fn planes(mut file: &'a File, layout: &ArrayLayout) -> io::Result<Self> {
        let header = npy_header(layout).to_bytes();
        file.write_all(&header)?;
        let [_, channels, height, width] = layout.shape;
        let itemsize = layout.sample.itemsize();
        Ok(NpyRowWriter::Planes(Planes {
            file,
            at: header.len() as u64,
            plane_len: (width * height * itemsize) as u64,
            itemsize,
            pending: vec![Vec::new(); channels],
            written: 0,
        }))
    }

    /// Takes the next row: interleaved little-endian samples.
    pub fn write_row(&mut self, row: &[u8]) -> io::Result<()> {
        let planes = match self {
            NpyRowWriter::Plain(out) => return out.write_all(row),
            NpyRowWriter::Planes(planes) => planes,
        };
        let (size, channels) = (planes.itemsize, planes.pending.len());
        for pixel in row.chunks_exact(size * channels) {
            for (c, plane) in planes.pending.iter_mut().enumerate() {
                plane.extend_from_slice(&pixel[c * size..(c + 1) * size]);
            }
        }
        if planes.pending[0].len() * channels >= WRITE_SIZE {
            planes.flush()?;
        }
        Ok(())
    }

    /// Writes what is left once every row has been written.
    pub fn finish(self) -> io::Result<()> {
        match self {
            NpyRowWriter::Plain(_) => Ok(()),
            NpyRowWriter::Planes(mut planes) => planes.flush(),
        }
    }
}

impl Planes<'_> {
    fn flush(&mut self) -> io::Result<()> {
        let mut file = self.file;
        for (c, plane) in self.pending.iter_mut().enumerate() {
            file.seek(SeekFrom::Start(
                self.at + c as u64 * self.plane_len + self.written,
            ))?;
            file.write_all(plane)?;
        }
        self.written += self.pending[0].len() as u64;
        self.pending.iter_mut().for_each(Vec::clear);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;

    fn layout(shape: [usize; 4], byte_order: ByteOrder) -> ArrayLayout {
        ArrayLayout {
            sample: SampleType::U16,
            byte_order,
            shape,
            fortran_order: false,
        }
    }

    fn window(rows: &mut NpyRows, r: Range<usize>, c: Range<usize>) -> Vec<Vec<u8>> {
        let mut seen = Vec::new();
        rows.read_window(r, c, &mut |row| {
            seen.push(row.to_vec());
            Ok(())
        })
        .unwrap();
        seen
    }

    #[test]
    fn channels_last_rows_are_cut_to_the_window_and_made_little_endian() {
        let values: Vec<u16> = (0..12).collect();
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
        let reader: Box<dyn BufRead + Send> = Box::new(io::Cursor::new(bytes));
        let mut rows =
            NpyRows::stream(reader, layout([1, 3, 2, 2], ByteOrder::Big), 24, false).unwrap();
        // Row 1 holds samples 4..8; its column 1 is samples 6 and 7.
        assert_eq!(window(&mut rows, 1..2, 1..2), vec![vec![6, 0, 7, 0]]);
    }

    #[test]
    fn channels_first_rows_gather_every_plane() {
        let values: Vec<u16> = (0..12).collect();
        let tensor = Tensor::from_elements(2, 3, 2, &values).unwrap();
        let format = DataFormat::ChannelsFirst;
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&tensor.to_bytes(format)).unwrap();
        let mut rows = NpyRows::planes(file, 0, tensor.layout(format, 1)).unwrap();
        let seen = window(&mut rows, 1..2, 0..3);
        assert_eq!(seen, vec![tensor.as_le_bytes()[12..].to_vec()]);
    }

    #[test]
    fn channels_first_writing_puts_each_plane_in_its_place() {
        let values: Vec<u16> = (0..12).collect();
        let tensor = Tensor::from_elements(2, 3, 2, &values).unwrap();
        let format = DataFormat::ChannelsFirst;
        let file = tempfile::tempfile().unwrap();
        let mut out = NpyRowWriter::planes(&file, &tensor.layout(format, 1)).unwrap();
        for row in tensor.as_le_bytes().chunks_exact(12) {
            out.write_row(row).unwrap();
        }
        out.finish().unwrap();
        let mut written = Vec::new();
        (&file).seek(SeekFrom::Start(0)).unwrap();
        (&file).read_to_end(&mut written).unwrap();
        assert!(written.ends_with(&tensor.to_bytes(format)));
    }
}
