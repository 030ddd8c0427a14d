//! One crop from one input to one output: read, check, crop, write, commit.

use std::io::{Read, Write};

use crate::error::{Error, Problem};
use crate::input::{Input, Source};
use crate::kind::FileKind;
use crate::layer::{Cropping2D, Shape};
use crate::npy::stream::{self, StreamError};
use crate::npy::{Header, NpyError, ReadError};
use crate::output::{Output, Sink};
use crate::raster::{self, EncodeOptions, Tensor};

/// What to read, how to crop it, and where to write the result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub input: Input,
    pub output: Output,
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
}

impl Default for Options {
    fn default() -> Self {
        Self {
            to: None,
            encode: EncodeOptions::default(),
            image_limit: 1 << 30,
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
    /// Things the user should know that did not stop the job.
    pub warnings: Vec<String>,
}

impl Job {
    /// Runs the job. Everything about the input is checked before the output
    /// is created; on any failure the output is left as it was.
    pub fn run(&self) -> Result<Summary, Error> {
        let source = self.input.open()?;
        let kind = FileKind::sniff(&source.prefix).ok_or_else(|| {
            self.input_error(Problem::UnknownKind(format!(
                "{:?}",
                source.prefix.escape_ascii().to_string()
            )))
        })?;
        match (kind, self.options.to.unwrap_or(kind)) {
            (FileKind::Npy, FileKind::Npy) => self.npy_to_npy(source),
            (FileKind::Npy, to) => {
                let tensor = self.read_npy_image(source)?;
                self.finish(tensor, None, to)
            }
            (FileKind::Image(format), to) => {
                let bytes = self.read_all(source)?;
                let (image, icc) = raster::decode(&bytes, format, self.options.image_limit)
                    .map_err(|e| self.input_error(e.into()))?;
                drop(bytes);
                let tensor = Tensor::from_image(image).map_err(|e| self.input_error(e.into()))?;
                self.finish(tensor, icc, to)
            }
        }
    }

    fn input_error(&self, problem: Problem) -> Error {
        Error::file(&self.input, problem)
    }

    fn output_error(&self, problem: Problem) -> Error {
        Error::file(&self.output, problem)
    }

    fn read_header(&self, source: &mut Source) -> Result<(Header, u64), Error> {
        Header::read(&mut source.reader).map_err(|e| match e {
            ReadError::Npy(e) => self.input_error(e.into()),
            ReadError::Io(e) => self.input_error(Problem::Read(e)),
        })
    }

    /// Fails unless a regular file holds exactly the data its header promises.
    fn check_length(
        &self,
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
        Err(self.input_error(
            NpyError::DataLength {
                shape: header.shape_repr(),
                descr: header.dtype.descr().to_string(),
                expected: data_len,
                found,
            }
            .into(),
        ))
    }

    /// `.npy` to `.npy`: one sequential pass, never the whole array in memory.
    fn npy_to_npy(&self, mut source: Source) -> Result<Summary, Error> {
        let (header, header_len) = self.read_header(&mut source)?;
        let (out_header, plan) = header
            .cropped(&self.layer)
            .map_err(|e| self.input_error(e))?;
        self.check_length(&source, &header, header_len, plan.input_len())?;
        let mut sink = Sink::create(&self.output)?;
        let write_error = |e| self.output_error(Problem::Write(e));
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
            warnings: Vec::new(),
        })
    }

    /// A `.npy` array that is to become an image, read whole once it is
    /// known to be one and to fit the image limit.
    fn read_npy_image(&self, mut source: Source) -> Result<Tensor, Error> {
        let (header, header_len) = self.read_header(&mut source)?;
        let data_len = header.data_len().map_err(|e| self.input_error(e.into()))?;
        raster::image_dims(&header, self.layer.data_format)
            .map_err(|e| self.input_error(e.into()))?;
        self.check_length(&source, &header, header_len, data_len)?;
        if data_len > self.options.image_limit {
            return Err(self.input_error(Problem::TooBig(self.options.image_limit >> 20)));
        }
        let mut data = Vec::new();
        (&mut source.reader)
            .take(data_len + 1)
            .read_to_end(&mut data)
            .map_err(|e| self.input_error(Problem::Read(e)))?;
        let found = data.len() as u64;
        if found != data_len {
            let error = if found < data_len {
                NpyError::ShortData {
                    expected: data_len,
                    found,
                }
            } else {
                NpyError::TrailingData { expected: data_len }
            };
            return Err(self.input_error(error.into()));
        }
        Tensor::from_npy(&header, &data, self.layer.data_format)
            .map_err(|e| self.input_error(e.into()))
    }

    /// An image file, read whole (it is decoded in memory anyway), within the image limit.
    fn read_all(&self, source: Source) -> Result<Vec<u8>, Error> {
        let limit = self.options.image_limit;
        let mut bytes = Vec::new();
        source
            .reader
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.input_error(Problem::Read(e)))?;
        if bytes.len() as u64 > limit {
            return Err(self.input_error(Problem::TooBig(limit >> 20)));
        }
        Ok(bytes)
    }

    /// Crops a tensor and writes it as `.npy` or as an image.
    fn finish(&self, tensor: Tensor, icc: Option<Vec<u8>>, to: FileKind) -> Result<Summary, Error> {
        let format = self.layer.data_format;
        let input_shape = tensor.shape(format);
        let cropped = tensor
            .crop(&self.layer)
            .map_err(|e| self.input_error(e.into()))?;
        let output_shape = cropped.shape(format);
        let dtype = format!("'{}'", cropped.descr());
        let mut warnings = Vec::new();
        let bytes = match to {
            FileKind::Npy => cropped.to_npy(format),
            FileKind::Image(image_format) => {
                let image = cropped
                    .into_image()
                    .map_err(|e| self.input_error(e.into()))?;
                let (bytes, warning) =
                    raster::encode(&image, icc.as_deref(), image_format, self.options.encode)
                        .map_err(|e| self.output_error(e.into()))?;
                warnings.extend(warning.map(|w| format!("{}: {w}", self.output)));
                bytes
            }
        };
        let mut sink = Sink::create(&self.output)?;
        sink.write_all(&bytes)
            .map_err(|e| self.output_error(Problem::Write(e)))?;
        sink.commit()
            .map_err(|e| self.output_error(Problem::Write(e)))?;
        Ok(Summary {
            input_shape,
            output_shape,
            dtype,
            warnings,
        })
    }
}
