//! One crop of one input: read, check, crop, write, commit. The input is a
//! `.npy` array or an image; the result goes to one output, or, for a batch
//! going to images, to one image a sample.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Problem};
use crate::input::{Input, Source};
use crate::kind::FileKind;
use crate::layer::{Cropping2D, Shape};
use crate::npy::stream::{self, StreamError};
use crate::npy::{Header, NpyError, ReadError};
use crate::output::{Output, Sink};
use crate::raster::{self, EncodeOptions, Tensor};

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

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Output(output) => write!(f, "{output}"),
            Destination::Folder { dir, name } => write!(f, "{}", dir.join(name).display()),
        }
    }
}

/// What to read, how to crop it, and where to write the result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub input: Input,
    pub destination: Destination,
    pub layer: Cropping2D,
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
}

impl Default for Options {
    fn default() -> Self {
        Self {
            to: None,
            encode: EncodeOptions::default(),
            image_limit: 1 << 30,
            no_clobber: false,
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
}

/// A tensor read from a file: an image, or a `.npy` array of batch 1 that can be one.
pub struct Loaded {
    pub tensor: Tensor,
    pub icc: Option<Vec<u8>>,
    pub kind: FileKind,
}

impl Job {
    /// Runs the job. Everything about the input is checked before an output
    /// is created; on any failure the output is left as it was.
    pub fn run(&self) -> Result<Summary, Error> {
        let mut source = self.input.open()?;
        let kind = sniff(&self.input, &source)?;
        let to = self.options.to.unwrap_or(kind);
        match (kind, to, &self.destination) {
            (FileKind::Npy, FileKind::Npy, _) => self.npy_to_npy(source),
            (FileKind::Npy, FileKind::Image(_), Destination::Folder { dir, name }) => {
                self.split(source, dir, name, to)
            }
            _ => {
                let output = self.output_path();
                if self.exists_already(&output) {
                    return Ok(self.skipped(&output));
                }
                let loaded = load(&self.input, &mut source, kind, self.layer, &self.options)?;
                self.finish(loaded, to, &output)
            }
        }
    }

    /// What [`Job::run`] would do, from the input's header alone: its shape
    /// and the output's, with the errors a real run would give. Writes nothing.
    pub fn inspect(&self) -> Result<Summary, Error> {
        let mut source = self.input.open()?;
        let kind = sniff(&self.input, &source)?;
        let to = self.options.to.unwrap_or(kind);
        let (input_shape, dtype) = match kind {
            FileKind::Npy => {
                let (header, header_len) = read_header(&self.input, &mut source)?;
                let (_, plan) = header
                    .cropped(&self.layer)
                    .map_err(|e| self.input_error(e))?;
                check_length(&self.input, &source, &header, header_len, plan.input_len())?;
                if let FileKind::Image(_) = to {
                    let sample = Header {
                        shape: [1]
                            .into_iter()
                            .chain(header.shape[1..].iter().copied())
                            .collect(),
                        ..header.clone()
                    };
                    let split = matches!(self.destination, Destination::Folder { .. });
                    let image_header = if split { &sample } else { &header };
                    raster::image_dims(image_header, self.layer.data_format)
                        .map_err(|e| self.input_error(e.into()))?;
                }
                (
                    header.layer_shape().unwrap_or(Shape([None; 4])),
                    header.dtype.descr().to_string(),
                )
            }
            FileKind::Image(format) => {
                let bytes = read_image_file(&self.input, &mut source, self.options.image_limit)?;
                let (h, w, c, descr) = raster::probe(&bytes, format, self.options.image_limit)
                    .map_err(|e| self.input_error(e.into()))?;
                let dims = match self.layer.data_format {
                    crate::DataFormat::ChannelsLast => [1, h, w, c],
                    crate::DataFormat::ChannelsFirst => [1, c, h, w],
                };
                (Shape::known(dims), format!("'{descr}'"))
            }
        };
        let output_shape = self
            .layer
            .compute_output_shape(input_shape)
            .map_err(|e| self.input_error(e.into()))?;
        Ok(Summary {
            input_shape,
            output_shape,
            dtype,
            output: self.destination.to_string(),
            skipped: false,
            warnings: Vec::new(),
        })
    }

    /// The single output this job writes.
    fn output_path(&self) -> Output {
        match &self.destination {
            Destination::Output(output) => output.clone(),
            Destination::Folder { dir, name } => {
                let mut path = dir.join(name);
                // `--to` sets the extension, unless the name already has one of that kind.
                if let Some(to) = self
                    .options
                    .to
                    .filter(|&to| FileKind::from_path(&path) != Some(to))
                {
                    path.set_extension(to.extension());
                }
                Output::Path(path)
            }
        }
    }

    fn exists_already(&self, output: &Output) -> bool {
        self.options.no_clobber && matches!(output, Output::Path(p) if p.exists())
    }

    fn skipped(&self, output: &Output) -> Summary {
        Summary {
            input_shape: Shape([None; 4]),
            output_shape: Shape([None; 4]),
            dtype: String::new(),
            output: output.to_string(),
            skipped: true,
            warnings: Vec::new(),
        }
    }

    fn input_error(&self, problem: Problem) -> Error {
        Error::file(&self.input, problem)
    }

    /// `.npy` to `.npy`: one sequential pass, never the whole array in memory.
    fn npy_to_npy(&self, mut source: Source) -> Result<Summary, Error> {
        let output = self.output_path();
        if self.exists_already(&output) {
            return Ok(self.skipped(&output));
        }
        let (header, header_len) = read_header(&self.input, &mut source)?;
        let (out_header, plan) = header
            .cropped(&self.layer)
            .map_err(|e| self.input_error(e))?;
        check_length(&self.input, &source, &header, header_len, plan.input_len())?;
        let mut sink = Sink::create(&output)?;
        let write_error = |e| Error::file(&output, Problem::Write(e));
        sink.write_all(&out_header.to_bytes())
            .map_err(write_error)?;
        stream::crop(&plan, &mut source.reader, &mut sink).map_err(|e| match e {
            StreamError::Read(e) => self.input_error(Problem::Read(e)),
            StreamError::Data(e) => self.input_error(e.into()),
            StreamError::Write(e) => write_error(e),
        })?;
        sink.commit().map_err(write_error)?;
        Ok(Summary {
            input_shape: header.layer_shape().unwrap_or(Shape([None; 4])),
            output_shape: out_header.layer_shape().unwrap_or(Shape([None; 4])),
            dtype: header.dtype.descr().to_string(),
            output: output.to_string(),
            skipped: false,
            warnings: Vec::new(),
        })
    }

    /// A `.npy` batch into a folder as one image a sample, named
    /// `<stem>_<index>` with indices zero-padded to the same width. C-ordered
    /// data is read a sample at a time; Fortran-ordered data, whose samples
    /// interleave, is read whole within the image limit.
    fn split(
        &self,
        mut source: Source,
        dir: &Path,
        name: &OsString,
        to: FileKind,
    ) -> Result<Summary, Error> {
        let (header, header_len) = read_header(&self.input, &mut source)?;
        let dims: [usize; 4] = header
            .shape
            .as_slice()
            .try_into()
            .map_err(|_| self.input_error(NpyError::NotFourD(header.shape_repr()).into()))?;
        let data_len = header.data_len().map_err(|e| self.input_error(e.into()))?;
        check_length(&self.input, &source, &header, header_len, data_len)?;
        let batch = dims[0];
        let sample_header = Header {
            shape: [1, dims[1], dims[2], dims[3]].to_vec(),
            ..header.clone()
        };
        raster::image_dims(&sample_header, self.layer.data_format)
            .map_err(|e| self.input_error(e.into()))?;
        let out_shape = self
            .layer
            .compute_output_shape(Shape::known(dims))
            .map_err(|e| self.input_error(e.into()))?;
        let sample_len = usize::try_from(data_len / batch.max(1) as u64).unwrap_or(usize::MAX);
        let whole = if header.fortran_order && batch > 1 {
            Some(read_exact(
                &self.input,
                &mut source,
                data_len,
                self.options.image_limit,
            )?)
        } else {
            None
        };
        let stem = Path::new(name)
            .file_stem()
            .unwrap_or(name.as_os_str())
            .to_string_lossy()
            .into_owned();
        let width = batch.saturating_sub(1).to_string().len();
        let mut warnings = Vec::new();
        for index in 0..batch {
            let output =
                Output::Path(dir.join(format!("{stem}_{index:0width$}.{}", to.extension())));
            let data = match &whole {
                Some(all) => fortran_sample(all, batch, index, header.dtype.itemsize()),
                None => read_exact(
                    &self.input,
                    &mut source,
                    sample_len as u64,
                    self.options.image_limit,
                )?,
            };
            if self.exists_already(&output) {
                continue;
            }
            let tensor = Tensor::from_npy(&sample_header, &data, self.layer.data_format)
                .map_err(|e| self.input_error(e.into()))?;
            let loaded = Loaded {
                tensor,
                icc: None,
                kind: FileKind::Npy,
            };
            warnings.extend(self.finish(loaded, to, &output)?.warnings);
        }
        if whole.is_none() {
            expect_end(&self.input, &mut source, data_len)?;
        }
        Ok(Summary {
            input_shape: Shape::known(dims),
            output_shape: out_shape,
            dtype: header.dtype.descr().to_string(),
            output: dir
                .join(format!("{stem}_*.{}", to.extension()))
                .display()
                .to_string(),
            skipped: false,
            warnings,
        })
    }

    /// Crops a tensor and writes it as `.npy` or as an image.
    fn finish(&self, loaded: Loaded, to: FileKind, output: &Output) -> Result<Summary, Error> {
        let format = self.layer.data_format;
        let input_shape = loaded.tensor.shape(format);
        let cropped = loaded
            .tensor
            .crop(&self.layer)
            .map_err(|e| self.input_error(e.into()))?;
        let output_shape = cropped.shape(format);
        let dtype = format!("'{}'", cropped.descr());
        let mut warnings = Vec::new();
        let output_error = |problem: Problem| Error::file(output, problem);
        let bytes = match to {
            FileKind::Npy => cropped.to_npy(format),
            FileKind::Image(image_format) => {
                let image = cropped
                    .into_image()
                    .map_err(|e| self.input_error(e.into()))?;
                let (bytes, warning) = raster::encode(
                    &image,
                    loaded.icc.as_deref(),
                    image_format,
                    self.options.encode,
                )
                .map_err(|e| output_error(e.into()))?;
                warnings.extend(warning.map(|w| format!("{output}: {w}")));
                bytes
            }
        };
        let mut sink = Sink::create(output)?;
        sink.write_all(&bytes)
            .map_err(|e| output_error(Problem::Write(e)))?;
        sink.commit().map_err(|e| output_error(Problem::Write(e)))?;
        Ok(Summary {
            input_shape,
            output_shape,
            dtype,
            output: output.to_string(),
            skipped: false,
            warnings,
        })
    }
}

/// What an opened input holds, from its first bytes.
pub fn sniff(input: &Input, source: &Source) -> Result<FileKind, Error> {
    FileKind::sniff(&source.prefix).ok_or_else(|| {
        let shown = format!("{:?}", source.prefix.escape_ascii().to_string());
        Error::file(input, Problem::UnknownKind(shown))
    })
}

/// Reads a tensor: an image decoded, or a `.npy` array of batch 1 that can be an image.
pub fn load(
    input: &Input,
    source: &mut Source,
    kind: FileKind,
    layer: Cropping2D,
    options: &Options,
) -> Result<Loaded, Error> {
    let fail = |e: raster::RasterError| Error::file(input, e);
    match kind {
        FileKind::Npy => {
            let (header, header_len) = read_header(input, source)?;
            let data_len = header.data_len().map_err(|e| Error::file(input, e))?;
            raster::image_dims(&header, layer.data_format).map_err(fail)?;
            check_length(input, source, &header, header_len, data_len)?;
            let data = read_exact(input, source, data_len, options.image_limit)?;
            expect_end(input, source, data_len)?;
            let tensor = Tensor::from_npy(&header, &data, layer.data_format).map_err(fail)?;
            Ok(Loaded {
                tensor,
                icc: None,
                kind,
            })
        }
        FileKind::Image(format) => {
            let limit = options.image_limit;
            let bytes = read_image_file(input, source, limit)?;
            let (image, icc) = raster::decode(&bytes, format, limit).map_err(fail)?;
            drop(bytes);
            let tensor = Tensor::from_image(image).map_err(fail)?;
            Ok(Loaded { tensor, icc, kind })
        }
    }
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

fn read_header(input: &Input, source: &mut Source) -> Result<(Header, u64), Error> {
    Header::read(&mut source.reader).map_err(|e| match e {
        ReadError::Npy(e) => Error::file(input, e),
        ReadError::Io(e) => Error::file(input, Problem::Read(e)),
    })
}

/// Fails unless a regular file holds exactly the data its header promises.
fn check_length(
    input: &Input,
    source: &Source,
    header: &Header,
    header_len: u64,
    data_len: u64,
) -> Result<(), Error> {
    let Some(remaining) = source.remaining else {
        return Ok(());
    };
    let found = remaining.saturating_sub(header_len);
    if found == data_len {
        return Ok(());
    }
    let error = NpyError::DataLength {
        shape: header.shape_repr(),
        descr: header.dtype.descr().to_string(),
        expected: data_len,
        found,
    };
    Err(Error::file(input, error))
}

/// Reads `len` bytes that are to go into memory, refusing more than `limit`.
fn read_exact(input: &Input, source: &mut Source, len: u64, limit: u64) -> Result<Vec<u8>, Error> {
    if len > limit {
        return Err(Error::file(input, Problem::TooBig(limit >> 20)));
    }
    let mut data = Vec::new();
    (&mut source.reader)
        .take(len)
        .read_to_end(&mut data)
        .map_err(|e| Error::file(input, Problem::Read(e)))?;
    if data.len() as u64 != len {
        let error = NpyError::ShortData {
            expected: len,
            found: data.len() as u64,
        };
        return Err(Error::file(input, error));
    }
    Ok(data)
}

/// Fails if anything follows the `len` bytes of data just read.
fn expect_end(input: &Input, source: &mut Source, len: u64) -> Result<(), Error> {
    let mut extra = [0u8; 1];
    match source.reader.read(&mut extra) {
        Ok(0) => Ok(()),
        Ok(_) => Err(Error::file(input, NpyError::TrailingData { expected: len })),
        Err(e) => Err(Error::file(input, Problem::Read(e))),
    }
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
