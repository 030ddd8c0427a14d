//! The plan: what the command line asks for, decided from the flags before
//! anything runs — the layer, the options of every job, and whether to crop
//! one input, a batch into a folder or a stack, or only to describe the layer.

mod choice;

pub use choice::FormatInForce;

use std::collections::HashMap;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use rcrop::raster::{EncodeOptions, JpegCrop, formats};
use rcrop::{
    Commit, Destination, Error, FileKind, FormatOrigin, Found, Input, Job, LayerChoice, Options,
    Output, Part, Problem, Shape, Stack, find_inputs, parse_list,
};

use super::flags::Flags;
use super::generate::Generate;
use super::values::OrderArg;

/// What the command line asks for, and how to go about it.
pub struct Plan {
    pub task: Task,
    /// Worker threads for a batch; `None` is one per core.
    pub threads: Option<usize>,
    /// Go on after an input of a batch fails.
    pub keep_going: bool,
    /// Print a JSON line for each input (or for the stack) to standard output.
    pub report: bool,
    /// No progress bar and no warnings.
    pub quiet: bool,
    /// A line for each output written.
    pub verbose: bool,
    /// The data format in force and where it came from; `None` for
    /// `--generate` and for `Cropping1D`.
    pub data_format: Option<FormatInForce>,
}

/// The work a command line asks for.
pub enum Task {
    /// Print a completion script or the man page.
    Generate(Generate),
    /// Crop each input into its output; with `dry_run`, only say what
    /// each would write.
    Jobs { jobs: Vec<Job>, dry_run: bool },
    /// Crop every input into one stacked `.npy` batch.
    Stack(Stack),
    /// Print the layer's config or, given an input shape, its output shape.
    Layer {
        choice: LayerChoice,
        input_shape: Option<Shape>,
    },
}

impl Plan {
    /// The plan the flags ask for, or why they cannot be followed.
    pub fn new(flags: &Flags) -> Result<Self, Error> {
        let (task, data_format) = match flags.generate {
            Some(kind) => (Task::Generate(kind), None),
            None => {
                let (layer, data_format) = flags.layer_choice()?;
                let origin = data_format.as_ref().map(|f| f.origin.clone());
                (flags.task(layer, origin)?, data_format)
            }
        };
        if std::io::stdout().is_terminal() {
            refuse_terminal(&task)?;
        }
        Ok(Plan {
            task,
            threads: flags.jobs.map(usize::from),
            keep_going: flags.keep_going,
            report: flags.report.is_some(),
            quiet: flags.quiet,
            verbose: flags.verbose,
            data_format,
        })
    }
}

impl Flags {
    /// The output kind: `--to`, else the output's extension, else the input's kind.
    fn output_kind(&self, output: &Output) -> Result<Option<FileKind>, Error> {
        if let Some(kind) = self.to {
            return Ok(Some(kind.0));
        }
        let Output::Path(path) = output else {
            return Ok(None);
        };
        match path.extension() {
            None => Ok(None),
            Some(ext) => FileKind::from_path(path).map(Some).ok_or_else(|| {
                Error::Usage(format!(
                    "{}: unknown output extension {:?}; expected {}, or --to KIND",
                    path.display(),
                    ext.to_string_lossy(),
                    output_extensions()
                ))
            }),
        }
    }

    /// The options the flags give every job, writing the kind `to`, with
    /// where the data format in force came from.
    pub(crate) fn options(
        &self,
        to: Option<FileKind>,
        format_origin: Option<FormatOrigin>,
    ) -> Options {
        Options {
            to,
            encode: EncodeOptions {
                jpeg_quality: self.quality.unwrap_or(95),
                jpeg_crop: if self.lossless {
                    JpegCrop::Lossless
                } else if self.reencode || self.quality.is_some() {
                    JpegCrop::Reencode
                } else {
                    JpegCrop::Auto
                },
                png_compression: self.png_compression.into(),
            },
            image_limit: self.image_limit_mib << 20,
            no_clobber: self.no_clobber,
            color_mode: self.color_mode.map(Into::into),
            keys: self.key.clone(),
            members: self.members.clone(),
            order: self.order.into(),
            commit: if self.check {
                Commit::Check
            } else {
                Commit::Write
            },
            format_origin,
            autocast: self.autocast,
        }
    }

    /// The positional inputs and those from `--files-from`.
    fn input_paths(&self) -> Result<Vec<PathBuf>, Error> {
        let mut paths = self.paths.clone();
        if let Some(list) = &self.files_from {
            let mut bytes = Vec::new();
            let read = if list.as_os_str() == "-" {
                std::io::stdin().read_to_end(&mut bytes)
            } else {
                std::fs::File::open(list).and_then(|mut f| f.read_to_end(&mut bytes))
            };
            read.map_err(|e| Error::file(list.display(), Problem::Read(e)))?;
            paths.extend(parse_list(&bytes, self.null));
        }
        Ok(paths)
    }

    /// The work the command line asks for, other than `--generate`.
    fn task(&self, layer: LayerChoice, origin: Option<FormatOrigin>) -> Result<Task, Error> {
        if self.print_config || self.input_shape.is_some() {
            if !self.paths.is_empty() || self.files_from.is_some() {
                return Err(Error::Usage(
                    "--print-config and --input-shape take no input files".into(),
                ));
            }
            return Ok(Task::Layer {
                choice: layer,
                input_shape: self.input_shape.clone(),
            });
        }
        if self.stack && self.order == OrderArg::F {
            return Err(Error::Usage(
                "--stack writes the stacked array in C order, as numpy.stack gives it; \
                 --order F is not available with --stack"
                    .into(),
            ));
        }
        if self.stack {
            let output = Output::from_arg(self.output.as_deref().unwrap_or(Path::new("-")));
            let found = find_inputs(&self.input_paths()?, self.recursive)?;
            return Ok(Task::Stack(Stack {
                inputs: found.iter().map(|f| Input::from_arg(&f.path)).collect(),
                output,
                layer,
                options: self.options(Some(FileKind::Npy), origin),
            }));
        }
        if let Some(dir) = &self.out_dir {
            let found = find_inputs(&self.input_paths()?, self.recursive)?;
            let jobs = self.folder_jobs(dir, &found, layer, origin)?;
            return Ok(Task::Jobs {
                jobs,
                dry_run: self.dry_run,
            });
        }
        let (input, output) = match (self.paths.as_slice(), &self.output, &self.files_from) {
            ([input, output], None, None) => (input, output),
            ([input], Some(output), None) => (input, output),
            _ => {
                return Err(Error::Usage(
                    "expected INPUT OUTPUT (or INPUT -o OUTPUT); for many inputs use --out-dir DIR or --stack -o FILE"
                        .into(),
                ));
            }
        };
        if self.recursive && input.is_dir() {
            return Err(Error::Usage(format!(
                "{}: -r needs --out-dir or --stack",
                input.display()
            )));
        }
        let output = Output::from_arg(output);
        let job = Job {
            input: Input::from_arg(input),
            options: self.options(self.output_kind(&output)?, origin),
            destination: Destination::Output(output),
            layer,
        };
        Ok(Task::Jobs {
            jobs: vec![job],
            dry_run: self.dry_run,
        })
    }

    /// One job per input, each into `dir` (and the input's subfolder); two
    /// inputs that would write the same output, a sample of a split batch
    /// included, are refused before anything runs.
    fn folder_jobs(
        &self,
        dir: &Path,
        found: &[Found],
        layer: LayerChoice,
        origin: Option<FormatOrigin>,
    ) -> Result<Vec<Job>, Error> {
        let options = self.options(self.to.map(|kind| kind.0), origin);
        let mut jobs = Vec::with_capacity(found.len());
        for f in found {
            if f.path.as_os_str() == "-" {
                return Err(Error::Usage(
                    "- (standard input) has no name to write under --out-dir".into(),
                ));
            }
            let Some(name) = f.path.file_name() else {
                return Err(Error::Usage(format!(
                    "{}: not a file name",
                    f.path.display()
                )));
            };
            jobs.push(Job {
                input: Input::Path(f.path.clone()),
                destination: Destination::Folder {
                    dir: dir.join(&f.subdir),
                    name: name.to_os_string(),
                },
                layer: layer.clone(),
                options: options.clone(),
            });
        }
        refuse_collisions(&jobs)?;
        Ok(jobs)
    }
}

/// Refuses to write data to standard output when it is a terminal, which
/// would only garble the screen, as gzip refuses.
fn refuse_terminal(task: &Task) -> Result<(), Error> {
    let what = match task {
        Task::Stack(stack) if stack.output == Output::Stdout => "the stacked batch".to_string(),
        Task::Jobs {
            jobs,
            dry_run: false,
        } => match jobs
            .iter()
            .find(|job| job.output_name(Part::Whole) == Output::Stdout)
        {
            Some(job) => format!("the cropped {}", job.input),
            None => return Ok(()),
        },
        _ => return Ok(()),
    };
    Err(Error::Usage(format!(
        "{what} would go to standard output, which is a terminal; \
         redirect standard output or give a file"
    )))
}

/// Refuses two jobs that would write the same output. An input whose
/// outputs cannot be known (it cannot be read) collides with nothing: its
/// own run reports why.
fn refuse_collisions(jobs: &[Job]) -> Result<(), Error> {
    let mut seen: HashMap<PathBuf, &Input> = HashMap::new();
    for job in jobs {
        for output in job.planned_outputs().unwrap_or_default() {
            let Output::Path(path) = output else {
                continue;
            };
            if let Some(other) = seen.get(&path) {
                return Err(Error::Usage(format!(
                    "{other} and {} would both write {}",
                    job.input,
                    path.display()
                )));
            }
            seen.insert(path, &job.input);
        }
    }
    Ok(())
}

/// The output extensions rcrop knows, as a refused one is answered:
/// ".npy, .npz, .png, …, .pgm or .ppm".
fn output_extensions() -> String {
    let all: Vec<String> = ["npy", "npz", "tar"]
        .into_iter()
        .chain(formats::extensions())
        .map(|extension| format!(".{extension}"))
        .collect();
    match all.split_last() {
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}
