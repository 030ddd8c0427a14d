//! One crop of one input: read, check, crop, write, commit. The input is a
//! `.npy` array or an image; the result goes to one output, or, for a batch
//! going to images in a folder, to one image a sample. This is the layer
//! that knows both formats: it turns their errors into [`Error`]s that name
//! the file, and describes images as arrays and arrays as images.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use image::ImageFormat;

use crate::error::{Error, Problem};
use crate::input::{self, Input, Source};
use crate::kind::FileKind;
use crate::layer::{ChoiceError, Layer, LayerChoice, Shape};
use crate::layout::DataFormat;

use crate::npy::reorder::{self, Order, ReorderPlan};
use crate::npy::stream::{self, StreamError};
use crate::npy::{self, CropPlan, Dtype, Header, Literal, ReadError};
use crate::npz;
use crate::output::{self, Output, Sink};
use crate::raster::{self, ColorMode, EncodeOptions};
use crate::tensor::{self, ArrayLayout, SampleType, Tensor, TensorError};

const JPEG: FileKind = FileKind::Image(ImageFormat::Jpeg);

mod archive;
mod lossless;
mod rows;

pub use archive::MemberSummary;

// The stream's requests must pass the input's and output's buffers by.
const _: () = assert!(stream::CHUNK >= input::BUFFER_SIZE && stream::CHUNK >= output::BUFFER_SIZE);

/// Where a job's result goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// One output: a file or standard output.
    Output(Output),
    /// A folder, under the input's file name (its extension set by
    /// [`Options::to`] when given); a `.npy` batch going to images becomes
    /// one image a sample, `<stem>_<index>.<ext>`.
    Folder { dir: PathBuf, name: OsString },
}

/// What to read, how to crop it, and where to write the result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub input: Input,
    pub destination: Destination,
    /// The layer, or how to choose it by the input's rank.
    pub layer: LayerChoice,
    pub options: Options,
}

/// How outputs are written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// What the output holds; `None` for the same kind as the input.
    /// Default: `None`.
    pub to: Option<FileKind>,
    /// How images are encoded. Default: [`EncodeOptions::default`].
    pub encode: EncodeOptions,
    /// The most bytes an image may take, decoded, or as an array going to an
    /// image; larger ones are refused before they are allocated. Default: 1 GiB.
    pub image_limit: u64,
    /// Leave outputs that already exist alone. Default: `false`.
    pub no_clobber: bool,
    /// Convert images as Keras' `load_img(color_mode=...)` does; `None`
    /// keeps the channels the file holds. Default: `None`.
    pub color_mode: Option<ColorMode>,
    /// The `.npz` members to crop, by key (`x` for `x.npy`); empty for every
    /// 4D member. Default: empty.
    pub keys: Vec<String>,
    /// The memory order of `.npy` outputs. Default: [`Order::Keep`].
    pub order: Order,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            to: None,
            encode: EncodeOptions::default(),
            image_limit: 1 << 30,
            no_clobber: false,
            color_mode: None,
            keys: Vec::new(),
            order: Order::Keep,
        }
    }
}

/// What a finished job did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub input_shape: Shape,
    pub output_shape: Shape,
    /// The dtype as NumPy describes it, e.g. `'<f4'`.
    pub dtype: String,
    /// Where the result went: a path, `stdout`, or a pattern for one image a sample.
    pub output: String,
    /// Whether the output existed already and was left alone (`--no-clobber`).
    pub skipped: bool,
    /// Things the user should know that did not stop the job.
    pub warnings: Vec<String>,
    /// For a `.npz` archive, what became of each member, in archive order.
    pub members: Vec<MemberSummary>,
}

/// Which of a job's results an output name is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The one result of the input.
    Whole,
    /// Sample `index` of a batch of `count` split into images.
    Sample { index: usize, count: usize },
    /// Every sample of a batch split into images, as a `*` pattern.
    Samples,
}

impl Job {
    /// The one rule for output names, which the run, the dry run, the
    /// report and the collision check all follow. In a folder, `--to` sets
    /// the extension unless the name already has one of that kind; a sample
    /// of a batch split into images is `<stem>_<index>.<ext>`, its index
    /// zero-padded to the width of the last one.
    pub fn output_name(&self, part: Part) -> Output {
        let (dir, name) = match &self.destination {
            Destination::Output(output) => return output.clone(),
            Destination::Folder { dir, name } => (dir, name),
        };
        let stem = || {
            Path::new(name)
                .file_stem()
                .unwrap_or(name)
                .to_string_lossy()
        };
        let ext = || self.options.to.map_or("npy", FileKind::extension);
        Output::Path(match part {
            Part::Whole => {
                let mut path = dir.join(name);
                if let Some(to) = self.options.to
                    && FileKind::from_path(&path) != Some(to)
                {
                    path.set_extension(to.extension());
                }
                path
            }
            Part::Sample { index, count } => {
                let width = count.saturating_sub(1).to_string().len();
                dir.join(format!("{}_{index:0width$}.{}", stem(), ext()))
            }
            Part::Samples => dir.join(format!("{}_*.{}", stem(), ext())),
        })
    }

    /// Every output a run would write, named by [`Job::output_name`], so that
    /// collisions can be refused before anything runs. Reads the header of
    /// an input that may be a `.npy` batch split into images, for its size.
    pub fn planned_outputs(&self) -> Result<Vec<Output>, Error> {
        let may_split = matches!(self.destination, Destination::Folder { .. })
            && matches!(self.options.to, Some(FileKind::Image(_)));
        if !may_split {
            return Ok(vec![self.output_name(Part::Whole)]);
        }
        let mut source = self.input.open()?;
        if self.sniff(&source)? != FileKind::Npy {
            return Ok(vec![self.output_name(Part::Whole)]);
        }
        let (header, _) = self.read_header(&mut source)?;
        let count = header.shape.first().copied().unwrap_or(1);
        Ok((0..count)
            .map(|index| self.output_name(Part::Sample { index, count }))
            .collect())
    }

    /// Runs the job. Everything about the input is checked before an output
    /// is created; on any failure the output is left as it was.
    pub fn run(&self) -> Result<Summary, Error> {
        let mut source = self.input.open()?;
        let kind = self.sniff(&source)?;
        let to = self.options.to.unwrap_or(kind);
        self.check_archive(kind, to)?;
        if kind == FileKind::Npz {
            return self.npz(to, false);
        }
        if self.splits(kind, to) {
            return self.split(source, to);
        }
        let output = self.output_name(Part::Whole);
        if self.exists_already(&output) {
            return Ok(skipped(&output));
        }
        if (kind, to) == (FileKind::Npy, FileKind::Npy) {
            return self.npy_to_npy(source, &output);
        }
        let layer = self.image_layer()?;
        if (kind, to) == (JPEG, JPEG) {
            let bytes = read_image_file(&self.input, &mut source, self.options.image_limit)?;
            if let Some(summary) = lossless::crop(self, &layer, &bytes, &output)? {
                return Ok(summary);
            }
            let (tensor, icc) =
                decode_image(&self.input, &bytes, ImageFormat::Jpeg, &self.options)?;
            return self.finish(Loaded { tensor, icc }, &layer, to, &output);
        }
        match kind {
            FileKind::Image(format) => {
                let mode = self.options.color_mode;
                if let Some(mut rows) = rows::image_source(self, &mut source, format)? {
                    return rows::crop(
                        self,
                        rows.as_mut(),
                        Some(format),
                        mode,
                        &layer,
                        to,
                        &output,
                    );
                }
            }
            FileKind::Npy => {
                let (mut rows, _) = rows::npy_source(self, &mut source, &layer)?;
                return rows::crop(self, rows.as_mut(), None, None, &layer, to, &output);
            }
            FileKind::Npz => {}
        }
        let loaded = read_tensor(&self.input, &mut source, kind, &layer, &self.options)?;
        self.finish(loaded, &layer, to, &output)
    }

    /// What [`Job::run`] would do, from the input's header alone: its shape
    /// and the output's, with the errors a real run would give. Writes nothing.
    pub fn inspect(&self) -> Result<Summary, Error> {
        let mut source = self.input.open()?;
        let kind = self.sniff(&source)?;
        let to = self.options.to.unwrap_or(kind);
        self.check_archive(kind, to)?;
        if kind == FileKind::Npz {
            return self.npz(to, true);
        }
        let split = self.splits(kind, to);
        let (input_shape, dtype, layer) = match kind {
            FileKind::Npy => {
                let (header, header_len) = self.read_header(&mut source)?;
                let layer = self.layer_for(&header.shape)?;
                if let (_, CropPlan::Reorder(_)) = self.crop_plan(&header, &layer)? {
                    self.seekable(&source, &header)?;
                }
                self.check_len(&source, &header, header_len)?;
                if let FileKind::Image(_) = to {
                    self.image_layout(&header, &layer, split)?;
                }
                let shape = Shape::known(&header.shape);
                (shape, header.dtype.descr().to_string(), layer)
            }
            FileKind::Npz => return self.npz(to, true),
            FileKind::Image(format) => {
                let layer = self.image_layer()?;
                let (h, w, c, sample) = match rows::image_source(self, &mut source, format)? {
                    Some(rows) => {
                        let info = rows.info();
                        (info.height, info.width, info.channels, info.sample)
                    }
                    None => {
                        let limit = self.options.image_limit;
                        let bytes = read_image_file(&self.input, &mut source, limit)?;
                        raster::probe(&bytes, format, limit).map_err(|e| self.input_error(e))?
                    }
                };
                let c = self.options.color_mode.map_or(c, ColorMode::channels);
                let dims = match image_format(&layer) {
                    DataFormat::ChannelsLast => [1, h, w, c],
                    DataFormat::ChannelsFirst => [1, c, h, w],
                };
                (Shape::known(dims), format!("'{}'", sample.descr()), layer)
            }
        };
        let output_shape = layer
            .compute_output_shape(&input_shape)
            .map_err(|e| self.input_error(e))?;
        let part = if split { Part::Samples } else { Part::Whole };
        Ok(Summary {
            input_shape,
            output_shape,
            dtype,
            output: self.output_name(part).to_string(),
            skipped: false,
            warnings: Vec::new(),
            members: Vec::new(),
        })
    }

    /// Whether the result is one image a sample: a `.npy` batch going to
    /// images in a folder.
    fn splits(&self, kind: FileKind, to: FileKind) -> bool {
        kind == FileKind::Npy
            && matches!(to, FileKind::Image(_))
            && matches!(self.destination, Destination::Folder { .. })
    }

    /// `--key` and a `.npz` output are for `.npz` inputs only.
    fn check_archive(&self, kind: FileKind, to: FileKind) -> Result<(), Error> {
        if kind == FileKind::Npz {
            return Ok(());
        }
        if !self.options.keys.is_empty() {
            return Err(
                self.input_error(Problem::Npz(npz::NpzError::Refused(format!(
                    "--key names members of a .npz archive; this input is {kind}"
                )))),
            );
        }
        if to == FileKind::Npz {
            return Err(self.input_error(not_an_archive(kind)));
        }
        Ok(())
    }

    fn exists_already(&self, output: &Output) -> bool {
        self.options.no_clobber && matches!(output, Output::Path(p) if p.exists())
    }

    fn input_error(&self, problem: impl Into<Problem>) -> Error {
        Error::file(&self.input, problem)
    }

    fn sniff(&self, source: &Source) -> Result<FileKind, Error> {
        sniff(&self.input, source)
    }

    fn read_header(&self, source: &mut Source) -> Result<(Header, u64), Error> {
        read_header(&self.input, source)
    }

    /// The layer that crops an array of this shape.
    fn layer_for(&self, dims: &[usize]) -> Result<Layer, Error> {
        choose(&self.input, &self.layer, &Shape::known(dims))
    }

    /// The layer that crops images, which are 4D.
    fn image_layer(&self) -> Result<Layer, Error> {
        choose(&self.input, &self.layer, &Shape::unknown(4))
    }

    fn crop_plan(&self, header: &Header, layer: &Layer) -> Result<(Header, CropPlan), Error> {
        let kept = layer
            .kept_ranges(&header.shape)
            .map_err(|e| self.input_error(e))?;
        header
            .cropped_in(&kept, self.options.order)
            .map_err(|e| self.input_error(e))
    }

    /// The input opened again for reads at any offset, which a change of
    /// memory order needs: a regular file, not standard input or a pipe.
    fn seekable(&self, source: &Source, header: &Header) -> Result<std::fs::File, Error> {
        let refuse = || {
            self.input_error(Problem::OrderNeedsFile {
                from: if header.fortran_order { "Fortran" } else { "C" },
                to: if header.fortran_order { "C" } else { "Fortran" },
            })
        };
        match &self.input {
            Input::Path(path) if source.remaining.is_some() => {
                std::fs::File::open(path).map_err(|e| self.input_error(Problem::Open(e)))
            }
            _ => Err(refuse()),
        }
    }

    fn check_len(&self, source: &Source, header: &Header, header_len: u64) -> Result<(), Error> {
        check_len(&self.input, source, header, header_len)
    }

    /// How a `.npy` array (or, for a split, each of its samples) holds an image.
    fn image_layout(
        &self,
        header: &Header,
        layer: &Layer,
        split: bool,
    ) -> Result<ArrayLayout, Error> {
        let mut layout = image_layout(&self.input, header, image_format(layer), split)?;
        if split {
            layout.shape[0] = 1;
        }
        Ok(layout)
    }

    /// `.npy` to `.npy`: one sequential pass, never the whole array in memory.
    fn npy_to_npy(&self, mut source: Source, output: &Output) -> Result<Summary, Error> {
        let (header, header_len) = self.read_header(&mut source)?;
        let layer = self.layer_for(&header.shape)?;
        let (out_header, plan) = self.crop_plan(&header, &layer)?;
        self.check_len(&source, &header, header_len)?;
        // Either the input's own reader, front to back, or the file opened
        // again for reads at any offset: checked before the output is created.
        let pass = match plan {
            CropPlan::Stream(plan) => Pass::Stream(plan),
            CropPlan::Reorder(plan) => Pass::Reorder(plan, self.seekable(&source, &header)?),
        };
        let mut sink = Sink::create(output)?;
        let write_error = |e| Error::file(output, Problem::Write(e));
        sink.write_all(&out_header.to_bytes())
            .map_err(write_error)?;
        match pass {
            Pass::Stream(plan) => stream::crop(&plan, &mut source.reader, &mut sink),
            Pass::Reorder(plan, file) => {
                reorder::crop_reordered_file(&plan, &file, header_len, &mut sink)
            }
        }
        .map_err(|e| match e {
            StreamError::Read(e) => self.input_error(Problem::Read(e)),
            StreamError::Data(e) => self.input_error(e),
            StreamError::Write(e) => write_error(e),
        })?;
        sink.commit().map_err(write_error)?;
        Ok(Summary {
            input_shape: Shape::known(&header.shape),
            output_shape: Shape::known(&out_header.shape),
            dtype: header.dtype.descr().to_string(),
            output: output.to_string(),
            skipped: false,
            warnings: Vec::new(),
            members: Vec::new(),
        })
    }

    /// A `.npy` batch into a folder as one image a sample. C-ordered data is
    /// read a sample at a time; Fortran-ordered data, whose samples
    /// interleave, is read whole within the image limit.
    fn split(&self, mut source: Source, to: FileKind) -> Result<Summary, Error> {
        let (header, header_len) = self.read_header(&mut source)?;
        let layer = self.layer_for(&header.shape)?;
        let data_len = header.data_len().map_err(|e| self.input_error(e))?;
        self.check_len(&source, &header, header_len)?;
        let out_shape = layer
            .compute_output_shape(&Shape::known(&header.shape))
            .map_err(|e| self.input_error(e))?;
        let layout = self.image_layout(&header, &layer, true)?;
        let count = header.shape[0];
        let limit = self.options.image_limit;
        let sample_len = data_len / count.max(1) as u64;
        let whole = if header.fortran_order && count > 1 {
            Some(read_data(&self.input, &mut source, data_len, limit)?)
        } else {
            None
        };
        let mut warnings = Vec::new();
        for index in 0..count {
            let output = self.output_name(Part::Sample { index, count });
            let data = match &whole {
                Some(all) => fortran_sample(all, count, index, header.dtype.itemsize()),
                None => read_data(&self.input, &mut source, sample_len, limit)?,
            };
            if self.exists_already(&output) {
                continue;
            }
            let tensor = Tensor::from_bytes(&layout, &data, image_format(&layer))
                .map_err(|why| self.not_an_image(&header, why))?;
            let loaded = Loaded { tensor, icc: None };
            warnings.extend(self.finish(loaded, &layer, to, &output)?.warnings);
        }
        if whole.is_none() {
            npy::expect_end(&mut source.reader, data_len)
                .map_err(|e| read_error(&self.input, e))?;
        }
        Ok(Summary {
            input_shape: Shape::known(&header.shape),
            output_shape: out_shape,
            dtype: header.dtype.descr().to_string(),
            output: self.output_name(Part::Samples).to_string(),
            skipped: false,
            warnings,
            members: Vec::new(),
        })
    }

    fn not_an_image(&self, header: &Header, why: TensorError) -> Error {
        not_an_image(&self.input, header, why)
    }

    /// Crops a tensor and writes it as `.npy` or as an image, then commits.
    fn finish(
        &self,
        loaded: Loaded,
        layer: &Layer,
        to: FileKind,
        output: &Output,
    ) -> Result<Summary, Error> {
        let format = image_format(layer);
        let input_shape = loaded.tensor.shape(format);
        let cropped = loaded.tensor.crop(layer).map_err(|e| self.input_error(e))?;
        let output_shape = cropped.shape(format);
        let dtype = format!("'{}'", cropped.sample_type().descr());
        let output_error = |problem: Problem| Error::file(output, problem);
        let (bytes, warning) = match to {
            FileKind::Npy => (tensor_npy(&cropped, format, self.options.order), None),
            FileKind::Npz => return Err(output_error(not_an_archive(FileKind::Npy))),
            FileKind::Image(image_format) => raster::encode(
                cropped,
                loaded.icc.as_deref(),
                image_format,
                self.options.encode,
            )
            .map_err(|e| output_error(e.into()))?,
        };
        let mut sink = Sink::create(output)?;
        sink.write_all(&bytes)
            .map_err(|e| output_error(Problem::Write(e)))?;
        sink.commit().map_err(|e| output_error(Problem::Write(e)))?;
        Ok(Summary::written(
            input_shape,
            output_shape,
            dtype,
            output,
            warning,
        ))
    }
}

impl Summary {
    /// What a job that wrote `output` did, with the warning it gave, if any.
    fn written(
        input_shape: Shape,
        output_shape: Shape,
        dtype: String,
        output: &Output,
        warning: Option<String>,
    ) -> Self {
        Summary {
            input_shape,
            output_shape,
            dtype,
            output: output.to_string(),
            skipped: false,
            warnings: warning
                .map(|w| format!("{output}: {w}"))
                .into_iter()
                .collect(),
            members: Vec::new(),
        }
    }
}

/// How the data of a `.npy` output is produced: from the input's reader, or
/// from the input file read at any offset.
enum Pass {
    Stream(stream::StreamPlan),
    Reorder(ReorderPlan, std::fs::File),
}

/// What a job that left an existing output alone reports.
fn skipped(output: &Output) -> Summary {
    Summary {
        input_shape: Shape::unknown(4),
        output_shape: Shape::unknown(4),
        dtype: String::new(),
        output: output.to_string(),
        skipped: true,
        warnings: Vec::new(),
        members: Vec::new(),
    }
}

/// A tensor read from a file, with the ICC profile an image carried.
pub(crate) struct Loaded {
    pub tensor: Tensor,
    pub icc: Option<Vec<u8>>,
}

/// The refusal to make an archive of something else.
fn not_an_archive(kind: FileKind) -> Problem {
    Problem::Npz(npz::NpzError::Refused(format!(
        "only a .npz archive can become a .npz; this input is {kind}"
    )))
}

/// What an opened input holds, from its first bytes.
pub(crate) fn sniff(input: &Input, source: &Source) -> Result<FileKind, Error> {
    let named = match input {
        Input::Path(path) => Some(path.as_path()),
        Input::Stdin => None,
    };
    FileKind::sniff_named(&source.prefix, named).ok_or_else(|| {
        let shown = format!("{:?}", source.prefix.escape_ascii().to_string());
        Error::file(input, Problem::UnknownKind(shown))
    })
}

/// The layer of a choice for an input of this shape: a crop spec the
/// layer refuses is a usage error, a rank no layer takes an input error.
pub(crate) fn choose(input: &Input, choice: &LayerChoice, shape: &Shape) -> Result<Layer, Error> {
    choice.for_shape(shape).map_err(|e| match e {
        ChoiceError::Spec(e) => Error::Usage(format!("{input}: {e}")),
        rank @ ChoiceError::Rank(_) => Error::file(input, rank),
    })
}

/// The data format images are laid out in for a layer: its own, or
/// `channels_last` for `Cropping1D`, which has none (and crops no image).
pub(crate) fn image_format(layer: &Layer) -> DataFormat {
    layer.data_format().unwrap_or_default()
}

/// Reads a tensor: an image decoded, or a `.npy` array of batch 1 that can be an image.
pub(crate) fn read_tensor(
    input: &Input,
    source: &mut Source,
    kind: FileKind,
    layer: &Layer,
    options: &Options,
) -> Result<Loaded, Error> {
    let format = image_format(layer);
    let limit = options.image_limit;
    match kind {
        FileKind::Npy => {
            let (header, header_len) = read_header(input, source)?;
            let data_len = header.data_len().map_err(|e| Error::file(input, e))?;
            let layout = image_layout(input, &header, format, false)?;
            check_len(input, source, &header, header_len)?;
            let data = read_data(input, source, data_len, limit)?;
            npy::expect_end(&mut source.reader, data_len).map_err(|e| read_error(input, e))?;
            let tensor = Tensor::from_bytes(&layout, &data, format)
                .map_err(|why| not_an_image(input, &header, why))?;
            Ok(Loaded { tensor, icc: None })
        }
        FileKind::Npz => Err(Error::file(
            input,
            Problem::Npz(npz::NpzError::Refused(
                "an archive is not one array; extract a member with --key NAME first".into(),
            )),
        )),
        FileKind::Image(format) => {
            let bytes = read_image_file(input, source, limit)?;
            let (tensor, icc) = decode_image(input, &bytes, format, options)?;
            Ok(Loaded { tensor, icc })
        }
    }
}

/// Decodes an image file, converted to the colour mode asked for.
fn decode_image(
    input: &Input,
    bytes: &[u8],
    format: ImageFormat,
    options: &Options,
) -> Result<(Tensor, Option<Vec<u8>>), Error> {
    let fail = |e| Error::file(input, e);
    let (tensor, icc) = raster::decode(bytes, format, options.image_limit).map_err(fail)?;
    match options.color_mode {
        Some(mode) => Ok((raster::convert_colour(tensor, mode).map_err(fail)?, icc)),
        None => Ok((tensor, icc)),
    }
}

/// The `.npy` header that describes arrays laid out as `layout` says.
pub(crate) fn npy_header(layout: &ArrayLayout) -> Header {
    Header {
        dtype: Dtype::from_descr(Literal::Str(layout.sample.descr().into()))
            .expect("the type string of an image sample is a valid dtype"),
        fortran_order: layout.fortran_order,
        shape: layout.shape.to_vec(),
    }
}

/// A tensor as a `.npy` file, as `numpy.save` writes it: in C order, or
/// in Fortran order for [`Order::F`], transposed in memory (an image is
/// held there whole anyway).
fn tensor_npy(tensor: &Tensor, format: DataFormat, order: Order) -> Vec<u8> {
    let layout = tensor.layout(format, 1);
    let kept: Vec<_> = layout.shape.iter().map(|&d| 0..d).collect();
    let mut header = npy_header(&layout);
    let data = tensor.to_bytes(format);
    header.fortran_order = reorder::writes_fortran(order, false, &layout.shape, &kept);
    let mut out = header.to_bytes();
    if header.fortran_order {
        let plan = ReorderPlan::new(&layout.shape, &kept, layout.sample.itemsize(), false);
        // Reading and writing memory cannot fail.
        let _ = reorder::crop_reordered(&plan, &mut std::io::Cursor::new(&data), 0, &mut out);
    } else {
        out.extend(data);
    }
    out
}

/// How a 4D `.npy` array of an image's sample type holds images: the whole
/// array as one image, or (`split`) each sample of the batch as one.
fn image_layout(
    input: &Input,
    header: &Header,
    format: DataFormat,
    split: bool,
) -> Result<ArrayLayout, Error> {
    let refuse = |why| not_an_image(input, header, why);
    let (sample, byte_order) = header
        .dtype
        .type_str()
        .and_then(|s| SampleType::from_type_str(&s))
        .ok_or_else(|| refuse(TensorError::SampleType))?;
    let mut shape: [usize; 4] = header
        .shape
        .as_slice()
        .try_into()
        .map_err(|_| refuse(TensorError::Rank))?;
    if split {
        shape[0] = 1;
    }
    tensor::image_dims(shape, format).map_err(refuse)?;
    Ok(ArrayLayout {
        sample,
        byte_order,
        shape,
        fortran_order: header.fortran_order,
    })
}

fn not_an_image(input: &Input, header: &Header, why: TensorError) -> Error {
    let array = format!("{} {}", header.shape_repr(), header.dtype.descr());
    Error::file(input, Problem::NotAnImage { array, why })
}

/// An image file, read whole (it is decoded in memory anyway), within the limit.
fn read_image_file(input: &Input, source: &mut Source, limit: u64) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    (&mut source.reader)
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::file(input, Problem::Read(e)))?;
    if bytes.len() as u64 > limit {
        return Err(Error::file(input, Problem::TooBig(limit >> 20)));
    }
    Ok(bytes)
}

fn read_error(input: &Input, e: ReadError) -> Error {
    match e {
        ReadError::Npy(e) => Error::file(input, e),
        ReadError::Io(e) => Error::file(input, Problem::Read(e)),
    }
}

fn read_header(input: &Input, source: &mut Source) -> Result<(Header, u64), Error> {
    Header::read(&mut source.reader).map_err(|e| read_error(input, e))
}

/// Fails unless a regular file holds exactly the data its header promises;
/// the length of a pipe is not known in advance.
fn check_len(
    input: &Input,
    source: &Source,
    header: &Header,
    header_len: u64,
) -> Result<(), Error> {
    match source.remaining {
        Some(remaining) => header
            .check_data_len(remaining.saturating_sub(header_len))
            .map_err(|e| Error::file(input, e)),
        None => Ok(()),
    }
}

/// Reads `len` bytes of array data that are to go into memory, refusing
/// more than `limit`.
fn read_data(input: &Input, source: &mut Source, len: u64, limit: u64) -> Result<Vec<u8>, Error> {
    if len > limit {
        return Err(Error::file(input, Problem::TooBig(limit >> 20)));
    }
    npy::read_data(&mut source.reader, len).map_err(|e| read_error(input, e))
}

/// Sample `index` of a Fortran-ordered batch: every `batch`-th element.
fn fortran_sample(all: &[u8], batch: usize, index: usize, itemsize: usize) -> Vec<u8> {
    all.chunks_exact(itemsize)
        .skip(index)
        .step_by(batch)
        .flatten()
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::ByteOrder;

    #[test]
    fn every_sample_type_makes_the_header_numpy_writes() {
        for sample in [SampleType::U8, SampleType::U16, SampleType::F32] {
            let layout = ArrayLayout {
                sample,
                byte_order: ByteOrder::Little,
                shape: [2, 3, 4, 1],
                fortran_order: false,
            };
            let header = npy_header(&layout);
            assert_eq!(header.dtype.itemsize(), sample.itemsize());
            assert_eq!(header.dtype.type_str().as_deref(), Some(sample.descr()));
        }
    }
}
