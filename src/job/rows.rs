//! Images cropped a row at a time: the input's rows inside the crop go, as
//! they are decoded, to an encoder that writes them as they come, so an
//! image of any size crops in a few MiB. Images that cannot be read a row
//! at a time (interlaced PNG, JPEG, WebP, GIF, ...) and `.npy` arrays that
//! must be read whole (Fortran order, or channels first from a pipe) are
//! held in memory under the image limit and passed on the same way; outputs
//! written whole (JPEG, WebP, GIF, ...) get the cropped rows only.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom, Write};
use std::sync::mpsc;

use image::ImageFormat;

use super::{Job, Summary, image_format, npy_header, read_data, read_error, tensor_npy};
use crate::error::{Error, Problem};
use crate::input::{Input, Source};
use crate::kind::FileKind;
use crate::layer::{Layer, Shape};
use crate::layout::DataFormat;
use crate::npy::reorder::Order;
use crate::npy::{self, Header};
use crate::output::{Output, Sink};
use crate::raster::{self, ColorMode, RowInput, RowSink, RowSource, RowsInfo, TensorRows, Window};
use crate::tensor::{ArrayLayout, ByteOrder, Tensor};

/// Rows are gathered into writes, and into batches passed from the decoder
/// to the encoder, of about this size.
const WRITE_SIZE: usize = 256 << 10;

/// The batches of rows decoded ahead of the encoder.
const QUEUED_BATCHES: usize = 4;

/// A `.npy` output written whole, as its limit refusal names it.
const WHOLE_NPY: &str = "a .npy array in Fortran order, or channels first to standard output,";

/// What the decoder is told when the encoder has stopped.
const STOPPED: &str = "the output stopped";

/// Opens an image input a row at a time, if its format and input allow it;
/// `None` leaves the source as it was, for the whole-image path.
pub(super) fn image_source(
    job: &Job,
    source: &mut Source,
    format: ImageFormat,
) -> Result<Option<Box<dyn RowSource>>, Error> {
    let file = match &job.input {
        Input::Path(path) if source.remaining.is_some() => Some(path),
        _ => None,
    };
    let head = peek(&job.input, source, raster::STREAM_HEAD)?;
    if !raster::streams(format, &head, file.is_some()) {
        return Ok(None);
    }
    // Formats read front to back read on from the source; those read at
    // any offset open the file again.
    let input = match (raster::streams(format, &head, false), file) {
        (true, _) => RowInput::Stream(std::mem::replace(&mut source.reader, Box::new(io::empty()))),
        (false, Some(path)) => RowInput::File(BufReader::new(
            File::open(path).map_err(|e| job.input_error(Problem::Open(e)))?,
        )),
        (false, None) => return Ok(None),
    };
    raster::row_source(format, input, job.options.image_limit)
        .map(Some)
        .map_err(|e| job.input_error(e))
}

/// Reads `n` bytes ahead without consuming them.
fn peek(input: &Input, source: &mut Source, n: usize) -> Result<Vec<u8>, Error> {
    let mut head = Vec::with_capacity(n);
    (&mut source.reader)
        .take(n as u64)
        .read_to_end(&mut head)
        .map_err(|e| Error::file(input, Problem::Read(e)))?;
    let rest = std::mem::replace(&mut source.reader, Box::new(io::empty()));
    source.reader = Box::new(Cursor::new(head.clone()).chain(rest));
    Ok(head)
}

/// A `.npy` array of batch 1 that is an image, a row at a time: C-ordered
/// channels-last data front to back; channels-first data from a regular
/// file by reading each plane's row where it lies; anything else read
/// whole under the image limit.
pub(super) fn npy_source(
    job: &Job,
    source: &mut Source,
    layer: &Layer,
) -> Result<(Box<dyn RowSource>, Header), Error> {
    let (header, header_len) = job.read_header(source)?;
    let data_len = header.data_len().map_err(|e| job.input_error(e))?;
    let format = image_format(layer);
    let layout = super::image_layout(&job.input, &header, format, false)?;
    job.check_len(source, &header, header_len)?;
    let (h, w, c) = crate::tensor::image_dims(layout.shape, format)
        .map_err(|why| job.not_an_image(&header, why))?;
    let info = RowsInfo {
        width: w,
        height: h,
        channels: c,
        sample: layout.sample,
        icc: None,
    };
    if !layout.fortran_order {
        match format {
            DataFormat::ChannelsLast => {
                let reader = std::mem::replace(&mut source.reader, Box::new(io::empty()));
                let rows = NpyRows {
                    reader,
                    layout,
                    info,
                    data_len,
                    checked_len: source.remaining.is_some(),
                };
                return Ok((Box::new(rows), header));
            }
            DataFormat::ChannelsFirst => {
                if let (Input::Path(path), Some(_)) = (&job.input, source.remaining) {
                    let file = File::open(path).map_err(|e| job.input_error(Problem::Open(e)))?;
                    let rows = NpyPlanes {
                        file,
                        at: header_len,
                        layout,
                        info,
                    };
                    return Ok((Box::new(rows), header));
                }
            }
        }
    }
    let data = read_data(&job.input, source, data_len, job.options.image_limit)?;
    npy::expect_end(&mut source.reader, data_len).map_err(|e| read_error(&job.input, e))?;
    let tensor =
        Tensor::from_bytes(&layout, &data, format).map_err(|why| job.not_an_image(&header, why))?;
    Ok((Box::new(TensorRows::new(tensor, None)), header))
}

/// Crops the rows of `rows` (decoded by `codec`, or read from a `.npy`
/// array) into `output` as `to`, converted to the colour `mode` if one is
/// given, and commits.
pub(super) fn crop(
    job: &Job,
    rows: &mut dyn RowSource,
    codec: Option<ImageFormat>,
    mode: Option<ColorMode>,
    layer: &Layer,
    to: FileKind,
    output: &Output,
) -> Result<Summary, Error> {
    let input_error = |e: raster::RasterError| job.input_error(e);
    let mut info = rows.info().clone();
    if let Some(mode) = mode {
        let pixel =
            Tensor::from_le_bytes(1, 1, info.channels, info.sample, vec![0; info.pixel_len()])
                .ok_or_else(|| input_error(raster::RasterError::NotAnImage("no pixel".into())))?;
        let converted = raster::convert_colour(pixel, mode).map_err(input_error)?;
        info.channels = converted.channels();
        info.sample = converted.sample_type();
    }
    let format = image_format(layer);
    let dims = image_dims(&info, format);
    let kept = layer.kept_ranges(&dims).map_err(|e| job.input_error(e))?;
    let (row_axis, col_axis) = format.spatial_axes();
    let window = Window {
        rows: kept[row_axis].clone(),
        cols: kept[col_axis].clone(),
    };
    let out_info = RowsInfo {
        width: window.cols.len(),
        height: window.rows.len(),
        ..info.clone()
    };
    let out_dims = image_dims(&out_info, format);
    let output_error = |problem: Problem| Error::file(output, problem);
    let write_error = |e: io::Error| output_error(Problem::Write(e));

    if let FileKind::Image(image) = to {
        raster::check_holds(image, &out_info).map_err(|e| output_error(e.into()))?;
    }
    let mut sink = Sink::create(output)?;
    let icc = rows.info().icc.clone();
    let (channels, sample) = (rows.info().channels, rows.info().sample);
    let line = out_info.row_len();
    let batch_rows = (WRITE_SIZE / line.max(1)).max(1);
    // Chosen before anything is decoded, so that an output held whole over
    // the image limit is refused first.
    let (encoder, dropped) =
        encoder(job, &mut sink, &out_info, format, to, icc.is_some()).map_err(output_error)?;
    // The input is decoded on a thread of its own while the output is
    // encoded here: batches of rows pass between them, a few at a time.
    let (read, written) = std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(QUEUED_BATCHES);
        let reader = scope.spawn(move || {
            let mut batch = Vec::with_capacity(batch_rows * line);
            let mut put = |row: &[u8]| -> io::Result<()> {
                match mode {
                    None => batch.extend_from_slice(row),
                    Some(mode) => {
                        let pixels = row.len() / (channels * sample.itemsize());
                        let converted =
                            Tensor::from_le_bytes(1, pixels, channels, sample, row.to_vec())
                                .ok_or_else(|| io::Error::other("a row of the wrong length"))
                                .and_then(|t| convert(t, mode))?;
                        batch.extend_from_slice(converted.as_le_bytes());
                    }
                }
                if batch.len() >= batch_rows * line {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_rows * line));
                    tx.send(full).map_err(|_| io::Error::other(STOPPED))?;
                }
                Ok(())
            };
            match codec {
                Some(codec) => raster::read_window(codec, rows, &window, &mut put)?,
                None => rows.read_window(&window, &mut put)?,
            }
            if !batch.is_empty() {
                tx.send(batch).map_err(|_| io::Error::other(STOPPED))?;
            }
            Ok::<(), raster::StreamError>(())
        });
        let written = encoder.encode(job, &out_info, format, icc.as_deref(), rx);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the decoding thread panicked").into()));
        (read, written)
    });
    let written = written.map_err(|e| match e {
        Finish::Write(e) => write_error(e),
        Finish::Problem(p) => output_error(p),
    });
    // A failed input stops the output, which then lacks rows: the input's
    // failure is the one to tell.
    match read {
        Err(raster::StreamError::Input(e)) => return Err(input_error(e)),
        Err(raster::StreamError::Output(e)) => {
            written?;
            return Err(write_error(e));
        }
        Ok(()) => {}
    }
    let (whole, warning) = written?;
    if let Some(bytes) = whole {
        sink.write_all(&bytes).map_err(write_error)?;
    }
    sink.commit().map_err(write_error)?;
    Ok(Summary::written(
        Shape::known(dims),
        Shape::known(out_dims),
        format!("'{}'", info.sample.descr()),
        output,
        dropped.or(warning),
    ))
}

fn convert(tensor: Tensor, mode: ColorMode) -> io::Result<Tensor> {
    raster::convert_colour(tensor, mode).map_err(io::Error::other)
}

fn image_dims(info: &RowsInfo, format: DataFormat) -> [usize; 4] {
    let (h, w, c) = (info.height, info.width, info.channels);
    match format {
        DataFormat::ChannelsLast => [1, h, w, c],
        DataFormat::ChannelsFirst => [1, c, h, w],
    }
}

/// Where the cropped rows go.
enum Encoder<'a> {
    /// A TIFF file, which pulls the rows a strip at a time.
    Tiff(&'a File),
    /// An encoder or `.npy` writer that takes them as they come.
    Rows(Box<dyn RowSink + 'a>),
    /// Gathered, for an output written whole, within the image limit.
    Whole { to: FileKind, rows: Vec<u8> },
}

enum Finish {
    Write(io::Error),
    Problem(Problem),
}

/// The encoder for `to`: a row encoder where there is one for the output
/// (TIFF, BMP and channels-first `.npy` need a file), else the rows
/// gathered, within the image limit, for an output written whole. With it,
/// the warning for an ICC profile the output cannot carry (`icc`: whether
/// there is one).
fn encoder<'a>(
    job: &Job,
    sink: &'a mut Sink,
    info: &RowsInfo,
    format: DataFormat,
    to: FileKind,
    icc: bool,
) -> Result<(Encoder<'a>, Option<String>), Problem> {
    let file = sink.file().map_err(Problem::Write)?.is_some();
    let order = job.options.order;
    match to {
        FileKind::Image(ImageFormat::Tiff) if file => Ok((Encoder::Tiff(file_of(sink)?), None)),
        FileKind::Image(ImageFormat::Bmp) if file => {
            let out = io::BufWriter::with_capacity(WRITE_SIZE, file_of(sink)?);
            let rows = raster::bmp_row_sink(out, info)?;
            let dropped = icc.then(|| raster::icc_dropped(raster::format_name(ImageFormat::Bmp)));
            Ok((Encoder::Rows(rows), dropped))
        }
        FileKind::Image(image) if raster::writes_rows(image) => {
            let (rows, dropped) = raster::row_sink(image, sink, info, job.options.encode)?
                .ok_or_else(|| Problem::Write(io::Error::other("no row encoder")))?;
            Ok((Encoder::Rows(rows), dropped))
        }
        FileKind::Image(image) => Ok((whole(job, info, to, raster::format_name(image))?, None)),
        FileKind::Npy if order != Order::F && (format == DataFormat::ChannelsLast || file) => {
            let layout = ArrayLayout {
                sample: info.sample,
                byte_order: ByteOrder::Little,
                shape: image_dims(info, format),
                fortran_order: false,
            };
            let header = npy_header(&layout).to_bytes();
            if format == DataFormat::ChannelsLast {
                sink.write_all(&header).map_err(Problem::Write)?;
                return Ok((Encoder::Rows(Box::new(Plain(sink))), None));
            }
            let mut file = file_of(sink)?;
            file.write_all(&header).map_err(Problem::Write)?;
            let planes = Planes {
                file,
                at: header.len() as u64,
                plane_len: (info.width * info.height * info.sample.itemsize()) as u64,
                itemsize: info.sample.itemsize(),
                planes: vec![Vec::new(); info.channels],
                written: 0,
            };
            Ok((Encoder::Rows(Box::new(planes)), None))
        }
        FileKind::Npy => Ok((whole(job, info, to, WHOLE_NPY)?, None)),
        FileKind::Npz => Err(super::not_an_archive(FileKind::Npy)),
    }
}

/// The file a sink known to write one writes, for writes at any offset.
fn file_of(sink: &mut Sink) -> Result<&File, Problem> {
    sink.file()
        .map_err(Problem::Write)?
        .ok_or_else(|| Problem::Write(io::Error::other("the output is not a file")))
}

/// Room for the rows of an output written whole, within the image limit.
fn whole<'a>(
    job: &Job,
    info: &RowsInfo,
    to: FileKind,
    name: &'static str,
) -> Result<Encoder<'a>, Problem> {
    let rows = Vec::with_capacity(within_limit(job, info, name)?);
    Ok(Encoder::Whole { to, rows })
}

impl Encoder<'_> {
    /// Encodes the rows coming from `rx`; for an output written whole,
    /// returns its bytes, still to be written, and the warning for an ICC
    /// profile it could not carry.
    #[allow(clippy::type_complexity)]
    fn encode(
        self,
        job: &Job,
        info: &RowsInfo,
        format: DataFormat,
        icc: Option<&[u8]>,
        rx: mpsc::Receiver<Vec<u8>>,
    ) -> Result<(Option<Vec<u8>>, Option<String>), Finish> {
        let mut rows = match self {
            Encoder::Tiff(file) => {
                let mut out = io::BufWriter::with_capacity(WRITE_SIZE, file);
                let next = &mut || rx.recv().ok();
                // The output was checked to hold the image: the writer takes it.
                if let Some(written) = raster::write_tiff_rows(&mut out, info, icc, next) {
                    written.map_err(|e| Finish::Problem(e.into()))?;
                }
                out.flush().map_err(Finish::Write)?;
                return Ok((None, None));
            }
            Encoder::Rows(sink) => Ok(sink),
            Encoder::Whole { to, rows } => Err((to, rows)),
        };
        let line = info.row_len();
        let mut count = 0;
        for batch in rx {
            match &mut rows {
                Ok(sink) => {
                    for row in batch.chunks_exact(line) {
                        sink.write_row(row).map_err(Finish::Write)?;
                    }
                }
                Err((_, gathered)) => gathered.extend_from_slice(&batch),
            }
            count += batch.len() / line;
        }
        if count != info.height {
            return Err(Finish::Write(io::Error::other(
                "the image's rows ended early",
            )));
        }
        let (to, gathered) = match rows {
            Ok(sink) => return sink.finish().map(|()| (None, None)).map_err(Finish::Write),
            Err(whole) => whole,
        };
        let tensor = Tensor::from_le_bytes(
            info.height,
            info.width,
            info.channels,
            info.sample,
            gathered,
        )
        .ok_or_else(|| Finish::Write(io::Error::other("the rows do not fill the image")))?;
        match to {
            FileKind::Image(image) => raster::encode(tensor, icc, image, job.options.encode)
                .map(|(bytes, dropped)| (Some(bytes), dropped))
                .map_err(|e| Finish::Problem(e.into())),
            _ => Ok((Some(tensor_npy(&tensor, format, job.options.order)), None)),
        }
    }
}

/// The bytes of a cropped image held whole, if within the image limit.
fn within_limit(job: &Job, info: &RowsInfo, format: &'static str) -> Result<usize, Problem> {
    let limit = job.options.image_limit;
    let size = (info.row_len() as u64).saturating_mul(info.height as u64);
    if size > limit {
        return Err(Problem::WholeTooBig {
            format,
            need_mib: size.div_ceil(1 << 20),
            limit_mib: limit >> 20,
        });
    }
    Ok(size as usize)
}

/// Channels-last `.npy` data: the rows themselves.
struct Plain<'a>(&'a mut Sink);

impl RowSink for Plain<'_> {
    fn write_row(&mut self, row: &[u8]) -> io::Result<()> {
        self.0.write_all(row)
    }

    fn finish(self: Box<Self>) -> io::Result<()> {
        Ok(())
    }
}

/// Channels-first `.npy` data: each row's samples split by channel and
/// gathered per plane, each plane's run written at its place in the file.
struct Planes<'a> {
    file: &'a File,
    /// Where the data starts.
    at: u64,
    plane_len: u64,
    itemsize: usize,
    /// Each plane's rows not yet written.
    planes: Vec<Vec<u8>>,
    /// The bytes of each plane written so far.
    written: u64,
}

impl Planes<'_> {
    fn flush(&mut self) -> io::Result<()> {
        let mut file = self.file;
        for (c, plane) in self.planes.iter_mut().enumerate() {
            file.seek(SeekFrom::Start(
                self.at + c as u64 * self.plane_len + self.written,
            ))?;
            file.write_all(plane)?;
        }
        self.written += self.planes[0].len() as u64;
        self.planes.iter_mut().for_each(Vec::clear);
        Ok(())
    }
}

impl RowSink for Planes<'_> {
    fn write_row(&mut self, row: &[u8]) -> io::Result<()> {
        let (size, channels) = (self.itemsize, self.planes.len());
        for pixel in row.chunks_exact(size * channels) {
            for (c, plane) in self.planes.iter_mut().enumerate() {
                plane.extend_from_slice(&pixel[c * size..(c + 1) * size]);
            }
        }
        if self.planes[0].len() * channels >= WRITE_SIZE {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.flush()
    }
}

/// C-ordered channels-last `.npy` data read front to back.
struct NpyRows {
    reader: Box<dyn io::BufRead + Send>,
    layout: ArrayLayout,
    info: RowsInfo,
    data_len: u64,
    /// Whether the input's length was checked against its header.
    checked_len: bool,
}

impl RowSource for NpyRows {
    fn info(&self) -> &RowsInfo {
        &self.info
    }

    fn read_window(
        &mut self,
        window: &Window,
        row: &mut raster::rows::RowFn<'_>,
    ) -> Result<(), raster::StreamError> {
        let info = &self.info;
        let line = info.row_len();
        let pixel = info.pixel_len();
        let mut buf = vec![0; line];
        let layout = ArrayLayout {
            shape: [1, 1, window.cols.len(), info.channels],
            ..self.layout
        };
        let damaged = |e: io::Error| {
            raster::RasterError::NotAnImage(format!("the array data ends early ({e})"))
        };
        for y in 0..window.rows.end {
            self.reader.read_exact(&mut buf).map_err(damaged)?;
            if y < window.rows.start {
                continue;
            }
            let kept = &buf[window.cols.start * pixel..window.cols.end * pixel];
            if layout.byte_order == ByteOrder::Little {
                row(kept)?;
            } else {
                let tensor = Tensor::from_bytes(&layout, kept, DataFormat::ChannelsLast)
                    .map_err(|e| raster::RasterError::NotAnImage(e.to_string()))?;
                row(tensor.as_le_bytes())?;
            }
        }
        if !self.checked_len {
            // A pipe: read the rest, so that a stream cut short is an error.
            let rest = self.data_len - (window.rows.end * line) as u64;
            let copied =
                io::copy(&mut (&mut self.reader).take(rest), &mut io::sink()).map_err(damaged)?;
            if copied != rest {
                return Err(damaged(io::ErrorKind::UnexpectedEof.into()).into());
            }
        }
        Ok(())
    }
}

/// C-ordered channels-first `.npy` data in a regular file: each row of a
/// window read from every plane where it lies.
struct NpyPlanes {
    file: File,
    /// Where the data starts.
    at: u64,
    layout: ArrayLayout,
    info: RowsInfo,
}

impl RowSource for NpyPlanes {
    fn info(&self) -> &RowsInfo {
        &self.info
    }

    fn read_window(
        &mut self,
        window: &Window,
        row: &mut raster::rows::RowFn<'_>,
    ) -> Result<(), raster::StreamError> {
        let info = &self.info;
        let size = info.sample.itemsize() as u64;
        let (w, h) = (info.width as u64, info.height as u64);
        let run = window.cols.len() * size as usize;
        let mut planes = vec![0; run * info.channels];
        let layout = ArrayLayout {
            shape: [1, info.channels, 1, window.cols.len()],
            ..self.layout
        };
        let damaged = |e: io::Error| {
            raster::RasterError::NotAnImage(format!("the array data cannot be read ({e})"))
        };
        for y in window.rows.clone() {
            for (c, plane) in planes.chunks_exact_mut(run).enumerate() {
                let at =
                    self.at + ((c as u64 * h + y as u64) * w + window.cols.start as u64) * size;
                self.file.seek(SeekFrom::Start(at)).map_err(damaged)?;
                self.file.read_exact(plane).map_err(damaged)?;
            }
            let tensor = Tensor::from_bytes(&layout, &planes, DataFormat::ChannelsFirst)
                .map_err(|e| raster::RasterError::NotAnImage(e.to_string()))?;
            row(tensor.as_le_bytes())?;
        }
        Ok(())
    }
}
