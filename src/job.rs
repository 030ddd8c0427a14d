//! One crop of one input: read, check, crop, write, commit. The input is a
//! `.npy` array, a `.npz` archive or an image; the result goes to one
//! output, or, for a batch going to images in a folder, to one image a
//! sample. How an input is handled is decided once ([`Route`]); the run,
//! the dry run ([`Job::inspect`]) and the report follow that decision.
//! Each step returns a [`Fault`], and the job names the file it concerns
//! once, at the step's end.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::autocast::{self, Cast, Compute};
use crate::data_format::DataFormat;
use crate::error::{Error, Problem};
use crate::input::{Input, Source};
use crate::kind::FileKind;
use crate::layer::{
    ChoiceError, FormatOrigin, Layer, LayerChoice, Shape, format_hint, looks_like_other,
    refused_in_format,
};
use crate::npy::reorder::Order;
use crate::npy::{CropPlan, Header};
use crate::output::{Commit, Output, Staged};
use crate::raster::{ColorMode, EncodeOptions};
use crate::tensor::{SampleType, Tensor};

mod archive;
mod by_rows;
mod check;
mod encoder;
mod fault;
mod inspect;
mod lossless_jpeg;
mod npy_to_npy;
mod route;
mod sources;
mod split;
mod summary;
mod tar;
mod whole;

pub use archive::MemberSummary;
pub use summary::{JpegWrite, Summary};
pub(crate) use whole::load_cropped;

use fault::Fault;
use route::Route;

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
    /// The members of a tar shard to crop, by extension (`jpg` for
    /// `000123.jpg`); the others are copied. Empty for every member rcrop
    /// reads. Default: empty.
    pub members: Vec<String>,
    /// The memory order of `.npy` outputs. Default: [`Order::Keep`].
    pub order: Order,
    /// Write outputs, or compare them with the files already there.
    /// Default: [`Commit::Write`].
    pub commit: Commit,
    /// Where the data format came from, for the hint when an array seems
    /// laid out in the other one. Default: `None`, not said.
    pub format_origin: Option<FormatOrigin>,
    /// Give `.npy` and `.npz` outputs the dtype Keras' layer gives: floats
    /// (and, for `CenterCrop`, every input) cast to the layer's compute
    /// dtype, images as `float32` arrays cast on. Default: `false`, the
    /// input's dtype kept.
    pub autocast: bool,
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
            members: Vec::new(),
            order: Order::Keep,
            commit: Commit::Write,
            format_origin: None,
            autocast: false,
        }
    }
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
    /// collisions can be refused before anything runs. Only a job that may
    /// split a batch into images opens its input: for its route, and the
    /// header of a `.npy` batch, for its size.
    pub fn planned_outputs(&self) -> Result<Vec<Output>, Error> {
        let may_split = matches!(self.destination, Destination::Folder { .. })
            && matches!(self.options.to, Some(FileKind::Image(_)));
        if !may_split {
            return Ok(vec![self.output_name(Part::Whole)]);
        }
        let mut source = self.input.open()?;
        let kind = sniff(&self.input, &source)?;
        let to = self.options.to.unwrap_or(kind);
        if !matches!(self.decide(kind, to, &mut source)?, Route::Split { .. }) {
            return Ok(vec![self.output_name(Part::Whole)]);
        }
        let (header, _) = Header::read(&mut source.reader).map_err(|e| self.input_error(e))?;
        let count = header.shape.first().copied().unwrap_or(1);
        Ok((0..count)
            .map(|index| self.output_name(Part::Sample { index, count }))
            .collect())
    }

    /// Runs the job. Everything about the input is checked before an output
    /// is created; on any failure the output is left as it was.
    pub fn run(&self) -> Result<Summary, Error> {
        let mut source = self.input.open()?;
        let route = self.route(&mut source)?;
        let result = match route {
            Route::Archive { to } => self.npz(to, false),
            Route::Tar => self.tar(source, false),
            Route::Split { to } => split::run(self, source, to),
            Route::NpyToNpy => self.to_output(|output| npy_to_npy::run(self, source, output)),
            Route::LosslessJpeg => {
                self.to_output(|output| lossless_jpeg::run(self, source, output))
            }
            Route::Rows { codec, to } => {
                self.to_output(|output| by_rows::run(self, source, codec, to, output))
            }
            Route::Whole { format, to } => {
                self.to_output(|output| whole::run(self, source, format, to, output))
            }
        };
        self.hinted(route, result)
            .map(|summary| summary.wrote(route.output_kind()))
    }

    /// What [`Job::run`] would do, from the input's header alone: its shape
    /// and the output's, with the errors a real run would give. Writes nothing.
    pub fn inspect(&self) -> Result<Summary, Error> {
        let mut source = self.input.open()?;
        let route = self.route(&mut source)?;
        let part = match route {
            Route::Split { .. } => Part::Samples,
            _ => Part::Whole,
        };
        let output = self.output_name(part);
        let result =
            inspect::plan(self, source, route, &output).map_err(|f| f.name(&self.input, &output));
        self.hinted(route, result)
    }

    /// The result of an array's route with the hint at the other data
    /// format: on a crop refused that it would take, or on an array that
    /// cannot be an image in the format in force but looks laid out in the
    /// other; as a warning for a crop that goes through on an array that
    /// looks laid out in the other.
    fn hinted(&self, route: Route, result: Result<Summary, Error>) -> Result<Summary, Error> {
        if !route.reads_arrays() {
            return result;
        }
        let origin = self.options.format_origin.as_ref();
        match result {
            Ok(mut summary) => {
                let arrays: Vec<(String, Shape)> = match summary.members.as_slice() {
                    [] => vec![(self.input.to_string(), summary.input_shape.clone())],
                    members => members
                        .iter()
                        .filter(|m| m.cropped)
                        .map(|m| {
                            let name = format!("{} (member {})", self.input, m.name);
                            (name, Shape::known(&m.input_shape))
                        })
                        .collect(),
                };
                for (name, shape) in arrays {
                    if let Some(other) = self.looks_like_other(&shape) {
                        let hint = format_hint(other, origin);
                        summary.warnings.push(format!("{name}: {hint}"));
                    }
                }
                Ok(summary)
            }
            Err(Error::File { file, problem }) => {
                let other = match problem.as_ref() {
                    Problem::Crop(e) => refused_in_format(e),
                    Problem::NotAnImage { shape, .. } => {
                        self.looks_like_other(&Shape::known(shape))
                    }
                    _ => None,
                };
                let problem = match other {
                    Some(other) => Box::new(Problem::Hinted {
                        problem,
                        hint: format_hint(other, origin),
                    }),
                    None => problem,
                };
                Err(Error::File { file, problem })
            }
            Err(e) => Err(e),
        }
    }

    /// The other data format, if an array of this shape looks laid out in
    /// it rather than in the one its layer has.
    fn looks_like_other(&self, shape: &Shape) -> Option<DataFormat> {
        let layer = self.layer.for_shape(shape).ok()?;
        looks_like_other(&layer, &shape.dims()?)
    }

    /// Runs a step that writes the one output, unless it exists already and
    /// is to be left alone, and names the file of its failure.
    fn to_output(
        &self,
        step: impl FnOnce(&Output) -> Result<Summary, Fault>,
    ) -> Result<Summary, Error> {
        let output = self.output_name(Part::Whole);
        if self.exists_already(&output) {
            return Ok(Summary::skipped(&output));
        }
        step(&output).map_err(|f| f.name(&self.input, &output))
    }

    /// Opens an output, to be written or checked as the options say.
    fn stage(&self, output: &Output) -> Result<Staged, Error> {
        Staged::create(output, self.options.commit)
    }

    /// Writes an output's bytes in one go, and commits it.
    fn write_whole(&self, output: &Output, bytes: &[u8]) -> Result<(), Fault> {
        let mut out = self.stage(output)?;
        // Straight into a file: no copy through the sink's buffer.
        match out.file().map_err(Fault::write)? {
            Some(mut file) => file.write_all(bytes),
            None => out.write_all(bytes),
        }
        .map_err(Fault::write)?;
        self.commit(out)
    }

    /// Commits an output, a difference `--check` finds said as what the
    /// files hold.
    fn commit(&self, out: Staged) -> Result<(), Fault> {
        check::commit(out, &self.options)
    }

    fn exists_already(&self, output: &Output) -> bool {
        self.options.no_clobber && matches!(output, Output::Path(p) if p.exists())
    }

    fn input_error(&self, problem: impl Into<Problem>) -> Error {
        Error::file(&self.input, problem)
    }

    /// The layer that crops an array of this shape.
    fn layer_for(&self, dims: &[usize]) -> Result<Layer, Error> {
        choose(&self.input, &self.layer, &Shape::known(dims))
    }

    /// The layer that crops images, which are 4D.
    fn image_layer(&self) -> Result<Layer, Error> {
        choose(&self.input, &self.layer, &Shape::unknown(4))
    }

    /// The header of a `.npy` output and how its data is made.
    fn crop_plan(&self, header: &Header, layer: &Layer) -> Result<(Header, CropPlan), Fault> {
        let kept = layer.kept_ranges(&header.shape)?;
        Ok(header.cropped_in(&kept, self.options.order)?)
    }

    /// The dtype the layer computes in, when outputs take Keras' dtype
    /// (`--autocast`).
    fn compute(&self) -> Result<Option<Compute>, Fault> {
        autocast::compute(self.options.autocast, self.layer.keys())
            .map_err(|e| Fault::Named(Error::Usage(format!("{}: {e}", self.input))))
    }

    /// How the data of an array's `.npy` output is cast (`--autocast`),
    /// with its header, `out`, made to say so.
    fn array_cast(&self, layer: &Layer, out: &mut Header) -> Result<Option<Cast>, Fault> {
        let Some(to) = self.compute()? else {
            return Ok(None);
        };
        let center_crop = matches!(layer, Layer::CenterCrop(_));
        let cast = autocast::array_cast(out.dtype.type_str().as_deref(), to, center_crop)
            .map_err(|e| Fault::Input(Problem::Cast(e)))?;
        if let Some(cast) = cast {
            out.dtype = cast.to().dtype();
        }
        Ok(cast)
    }

    /// How an image's samples are cast for a `.npy` output (`--autocast`).
    fn image_cast(&self, sample: SampleType) -> Result<Option<Cast>, Fault> {
        Ok(self
            .compute()?
            .and_then(|to| autocast::image_cast(sample.descr(), to)))
    }

    /// The sample type an image's output holds: cast, in a `.npy` output,
    /// with `--autocast`.
    fn output_sample(&self, sample: SampleType, to: FileKind) -> Result<SampleType, Fault> {
        Ok(match (to, self.image_cast(sample)?) {
            (FileKind::Npy, Some(cast)) => cast.to().sample(),
            _ => sample,
        })
    }

    /// An image as its `.npy` output holds it: cast with `--autocast`.
    fn npy_of(&self, tensor: Tensor) -> Result<Tensor, Fault> {
        Ok(autocast::image_for_npy(tensor, self.compute()?))
    }

    /// The input opened again for reads at any offset, which a change of
    /// memory order needs: a regular file, not standard input or a pipe.
    fn seekable(&self, source: &Source, header: &Header) -> Result<File, Fault> {
        match &self.input {
            Input::Path(path) if source.remaining.is_some() => {
                File::open(path).map_err(|e| Fault::Input(Problem::Open(e)))
            }
            _ => Err(Fault::Input(Problem::OrderNeedsFile {
                from: if header.fortran_order { "Fortran" } else { "C" },
                to: if header.fortran_order { "C" } else { "Fortran" },
            })),
        }
    }
}

/// What an opened input holds, from its first bytes.
pub(crate) fn sniff(input: &Input, source: &Source) -> Result<FileKind, Error> {
    let named = match input {
        Input::Path(path) => Some(path.as_path()),
        Input::Stdin => None,
    };
    FileKind::sniff_named(&source.prefix, named).ok_or_else(|| {
        let head = &source.prefix[..source.prefix.len().min(16)];
        let shown = format!("{:?}", head.escape_ascii().to_string());
        Error::file(input, Problem::UnknownKind(shown))
    })
}

/// Commits an output written apart from a job (a stack), as [`Options`] say.
pub(crate) fn commit(out: Staged, output: &Output, options: &Options) -> Result<(), Error> {
    check::commit(out, options).map_err(|f| f.name(output, output))
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
