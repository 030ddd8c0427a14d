//! Where the cropped rows go: chosen before anything is decoded, so that an
//! output held whole over the image limit is refused first. Row encoders
//! (the codec table says which formats have one) and `.npy` writers take
//! them as they come, and an output written whole gathers them within the
//! image limit.

use std::fs::File;
use std::io;
use std::sync::mpsc;

use super::route::not_an_archive;
use super::{Fault, Job};
use crate::autocast::Cast;
use crate::data_format::DataFormat;
use crate::error::Problem;
use crate::kind::FileKind;
use crate::npy::reorder::Order;
use crate::output::Staged;
use crate::raster::{self, RasterError, RowOutput, RowSink, RowsInfo};
use crate::tensor::npy_rows::{NpyRowWriter, WRITE_SIZE};
use crate::tensor::{ArrayLayout, ByteOrder, Tensor, image_shape};

/// A `.npy` output written whole, as its limit refusal names it.
const WHOLE_NPY: &str = "a .npy array in Fortran order, or channels first to standard output,";

/// Where the cropped rows go.
pub(super) enum Encoder<'a> {
    /// An encoder or `.npy` writer that takes them as they come.
    Rows(Box<dyn RowSink + 'a>),
    /// Gathered, for an output written whole, within the image limit.
    Whole { to: FileKind, rows: Vec<u8> },
}

/// What an encoder leaves: the bytes of an output written whole, still to
/// be written, and the warning for an ICC profile it could not carry.
type Encoded = (Option<Vec<u8>>, Option<String>);

/// The encoder for `to`: a row encoder where there is one for the output
/// (some, like channels-first `.npy`, need a file), else the rows
/// gathered, within the image limit, for an output written whole. With it,
/// the warning for an ICC profile (in `info`) the output cannot carry.
pub(super) fn encoder<'a>(
    job: &Job,
    out: &'a mut Staged,
    info: &RowsInfo,
    format: DataFormat,
    to: FileKind,
) -> Result<(Encoder<'a>, Option<String>), Fault> {
    let file = out.file().map_err(Fault::write)?.is_some();
    match to {
        FileKind::Image(image) => {
            let output = if file {
                let file = file_of(out)?.try_clone().map_err(Fault::write)?;
                RowOutput::File(Box::new(io::BufWriter::with_capacity(WRITE_SIZE, file)))
            } else {
                RowOutput::Stream(Box::new(out))
            };
            match raster::row_sink(image, output, info, job.options.encode) {
                Ok(Some((rows, dropped))) => Ok((Encoder::Rows(rows), dropped)),
                Ok(None) => Ok((whole(job, info, to, raster::format_name(image))?, None)),
                Err(e) => Err(Fault::output(e)),
            }
        }
        FileKind::Npy
            if job.options.order != Order::F && (format == DataFormat::ChannelsLast || file) =>
        {
            let cast = job.image_cast(info.sample)?;
            let layout = ArrayLayout {
                sample: cast.map_or(info.sample, |c| c.to().sample()),
                byte_order: ByteOrder::Little,
                shape: image_shape(info.height, info.width, info.channels, format),
                fortran_order: false,
            };
            let writer = match format {
                DataFormat::ChannelsLast => NpyRowWriter::plain(out, &layout),
                DataFormat::ChannelsFirst => NpyRowWriter::planes(file_of(out)?, &layout),
            };
            let writer: Box<dyn RowSink> = Box::new(writer.map_err(Fault::write)?);
            let sink = match cast {
                None => writer,
                Some(cast) => Box::new(CastRows {
                    inner: writer,
                    cast,
                    row: Vec::new(),
                }),
            };
            Ok((Encoder::Rows(sink), None))
        }
        FileKind::Npy => Ok((whole(job, info, to, WHOLE_NPY)?, None)),
        to @ (FileKind::Npz | FileKind::Tar) => {
            Err(Fault::Output(not_an_archive(FileKind::Npy, to)))
        }
    }
}

impl RowSink for NpyRowWriter<'_> {
    fn write_row(&mut self, row: &[u8]) -> io::Result<()> {
        NpyRowWriter::write_row(self, row)
    }

    fn finish(self: Box<Self>) -> io::Result<()> {
        NpyRowWriter::finish(*self)
    }
}

/// Rows cast on their way to a `.npy` writer (`--autocast`).
struct CastRows<'a> {
    inner: Box<dyn RowSink + 'a>,
    cast: Cast,
    row: Vec<u8>,
}

impl RowSink for CastRows<'_> {
    fn write_row(&mut self, row: &[u8]) -> io::Result<()> {
        self.row.clear();
        self.cast.convert(row, &mut self.row);
        self.inner.write_row(&self.row)
    }

    fn finish(self: Box<Self>) -> io::Result<()> {
        self.inner.finish()
    }
}

/// The file an output known to write one writes, for writes at any offset.
fn file_of(out: &mut Staged) -> Result<&File, Fault> {
    out.file()
        .map_err(Fault::write)?
        .ok_or_else(|| Fault::write(io::Error::other("the output is not a file")))
}

/// Room for the rows of an output written whole, within the image limit.
fn whole<'a>(
    job: &Job,
    info: &RowsInfo,
    to: FileKind,
    name: &'static str,
) -> Result<Encoder<'a>, Fault> {
    let limit = job.options.image_limit;
    let size = (info.row_len() as u64).saturating_mul(info.height as u64);
    if size > limit {
        return Err(Fault::Output(Problem::WholeTooBig {
            format: name,
            need_mib: size.div_ceil(1 << 20),
            limit_mib: limit >> 20,
        }));
    }
    let rows = Vec::with_capacity(size as usize);
    Ok(Encoder::Whole { to, rows })
}

impl Encoder<'_> {
    /// Encodes the rows coming from `rx`; for an output written whole,
    /// returns its bytes, still to be written, and the warning for an ICC
    /// profile it could not carry.
    pub(super) fn encode(
        self,
        job: &Job,
        info: &RowsInfo,
        format: DataFormat,
        icc: Option<&[u8]>,
        rx: mpsc::Receiver<Vec<u8>>,
    ) -> Result<Encoded, Fault> {
        let mut rows = match self {
            Encoder::Rows(sink) => Ok(sink),
            Encoder::Whole { to, rows } => Err((to, rows)),
        };
        let line = info.row_len();
        let mut count = 0;
        for batch in rx {
            count += batch.len() / line;
            match &mut rows {
                Ok(sink) => sink.write_rows(batch, line).map_err(sink_error)?,
                Err((_, gathered)) => gathered.extend_from_slice(&batch),
            }
        }
        if count != info.height {
            return Err(Fault::write(io::Error::other(
                "the image's rows ended early",
            )));
        }
        let (to, gathered) = match rows {
            Ok(sink) => return sink.finish().map(|()| (None, None)).map_err(sink_error),
            Err(whole) => whole,
        };
        let tensor = Tensor::from_le_bytes(
            info.height,
            info.width,
            info.channels,
            info.sample,
            gathered,
        )
        .ok_or_else(|| Fault::write(io::Error::other("the rows do not fill the image")))?;
        match to {
            FileKind::Image(image) => raster::encode(tensor, icc, image, job.options.encode)
                .map(|(bytes, dropped)| (Some(bytes), dropped))
                .map_err(Fault::output),
            _ => Ok((
                Some(job.npy_of(tensor)?.into_npy(format, job.options.order)),
                None,
            )),
        }
    }
}

/// A row encoder's failure: the codec's own error where it gave one (a
/// writer on a thread of its own passes it inside the I/O error), else a
/// failed write.
fn sink_error(e: io::Error) -> Fault {
    match e.downcast::<RasterError>() {
        Ok(raster) => Fault::output(raster),
        Err(e) => Fault::write(e),
    }
}
