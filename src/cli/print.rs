//! Everything the command line prints: errors and warnings, the progress
//! bar, `--dry-run` and `--verbose` lines, `--input-shape` and
//! `--print-config` answers, the `--report json` records ([`report`]), and
//! what `--generate` makes.
//!
//! Standard output is written a whole line at a time and flushed. A reader
//! that goes away (a closed pipe: `rcrop … | head -1`) has read all it wants:
//! what would follow is dropped without a word, and the run goes on to its
//! own exit status. What cannot be written to standard error is dropped too,
//! having nowhere else to go.

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use rcrop::{
    Error, Job, JpegWrite, Layer, LayerKeys, MemberSummary, Outcome, Part, Problem, Shape, Summary,
    to_python_json,
};

use crate::cli::plan::FormatInForce;

pub mod report;

/// Whether standard output's reader went away.
static READER_GONE: AtomicBool = AtomicBool::new(false);

/// The progress bar on the screen, for [`interrupted`] to clear.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Writes `text` to standard output, unless its reader went away.
pub fn out(text: &[u8]) -> Result<(), Error> {
    if READER_GONE.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut stdout = io::stdout().lock();
    match stdout.write_all(text).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            READER_GONE.store(true, Ordering::Relaxed);
            Ok(())
        }
        written => written.map_err(|e| Error::file("standard output", Problem::Write(e))),
    }
}

/// A line on standard output.
fn line(text: impl Display) -> Result<(), Error> {
    out(format!("{text}\n").as_bytes())
}

/// A line on standard error.
fn note(text: impl Display) {
    let _ = writeln!(io::stderr().lock(), "{text}");
}

/// An error, on standard error.
pub fn error(error: &impl Display) {
    note(format_args!("error: {error}"));
}

/// A warning, on standard error.
pub fn warning(warning: &impl Display) {
    note(format_args!("warning: {warning}"));
}

/// What a job says as it ends: its error, or its warnings unless `quiet`.
pub fn ended(outcome: &Outcome, quiet: bool) {
    match outcome {
        Outcome::Failed(e) => error(e),
        Outcome::Done(summary) if !quiet => summary.warnings.iter().for_each(warning),
        _ => {}
    }
}

/// How a batch of `total` inputs went when `failed` of them failed and
/// `not_run` were not started.
pub fn account(failed: usize, total: usize, not_run: usize) {
    let mut account = format!("{failed} of {total} inputs failed");
    if not_run > 0 {
        account.push_str(&format!(
            "; {not_run} not run (--keep-going goes on after a failure)"
        ));
    }
    error(&account);
}

/// A progress bar for a batch of `len` inputs, on a terminal, hidden when
/// `quiet`, for a single input, or on CI.
pub fn progress(len: usize, quiet: bool) -> ProgressBar {
    let wanted =
        !quiet && len > 1 && io::stderr().is_terminal() && std::env::var_os("CI").is_none();
    if !wanted {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} files, {elapsed} elapsed, {eta} left")
    {
        bar.set_style(style);
    }
    *BAR.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(bar.clone());
    bar
}

/// What is on the screen and standard output, left as it should be when a
/// signal ends the run: the progress bar cleared, and the report records
/// of the inputs that ended printed ([`report::interrupted`]). Lines are
/// written whole and flushed as they are printed, so every line printed is
/// complete.
pub fn interrupted() {
    {
        let bar = BAR.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(bar) = bar.as_ref() {
            bar.finish_and_clear();
        }
    }
    report::interrupted();
}

/// `--input-shape`: the output shape.
pub fn shape(shape: &Shape) -> Result<(), Error> {
    line(shape)
}

/// `--print-config`: the layer's `get_config()` JSON, with the name, dtype
/// policy and other keys of the config it came from, if any.
pub fn config(layer: &Layer, keys: Option<&LayerKeys>) -> Result<(), Error> {
    let config = match keys {
        Some(keys) => layer.get_config_as(keys),
        None => layer.get_config(),
    };
    line(to_python_json(&config))
}

/// `--dry-run`'s first line: the data format the run follows and where it
/// came from, since a `keras.json` on a machine changes it silently.
pub fn data_format(format: &FormatInForce) -> Result<(), Error> {
    line(format_args!(
        "data format: {} ({})",
        format.format.as_str(),
        format.origin
    ))
}

/// `--dry-run`: a line for each output the job would write.
pub fn dry_run(job: &Job, summary: &Summary) -> Result<(), Error> {
    outputs(job, summary).try_for_each(line)
}

/// `--verbose`: on standard error, a line for each output the job wrote,
/// saying how a JPEG was written.
pub fn written(job: &Job, summary: &Summary) {
    if !summary.skipped {
        outputs(job, summary).for_each(note);
    }
}

/// A line for each output of a job, `input -> output: shapes dtype`, and
/// for a JPEG written, `(lossless)` or `(re-encoded)`: one for the whole input; one a sample for a `.npy` batch split into images (the
/// pattern of their names, if they cannot be listed); for a `.npz` archive,
/// one for the archive, then one a member.
fn outputs(job: &Job, summary: &Summary) -> Box<dyn Iterator<Item = String>> {
    let dtype = match summary.dtype.as_str() {
        "" => String::new(),
        dtype => format!(" {}", python_dtype(dtype)),
    };
    let dtype = match summary.jpeg {
        None => dtype,
        Some(JpegWrite::Lossless) => format!("{dtype} (lossless)"),
        Some(JpegWrite::Reencoded) => format!("{dtype} (re-encoded)"),
    };
    if !summary.members.is_empty() {
        let head = format!("{} -> {}: archive", job.input, summary.output);
        let members: Vec<String> = summary.members.iter().map(member_line).collect();
        return Box::new(std::iter::once(head).chain(members));
    }
    let whole = job.output_name(Part::Whole);
    let samples = match job.planned_outputs() {
        Ok(samples) if summary.output != whole.to_string() && samples != [whole] => samples,
        _ => Vec::new(),
    };
    if samples.is_empty() {
        return Box::new(std::iter::once(format!(
            "{} -> {}: {} -> {}{dtype}",
            job.input, summary.output, summary.input_shape, summary.output_shape
        )));
    }
    let one = |shape: &Shape| {
        let mut dims = shape.0.clone();
        if let Some(first) = dims.first_mut() {
            *first = Some(1);
        }
        Shape(dims)
    };
    let (input_shape, output_shape) = (one(&summary.input_shape), one(&summary.output_shape));
    let input = job.input.to_string();
    Box::new(samples.into_iter().enumerate().map(move |(index, output)| {
        format!("{input}[{index}] -> {output}: {input_shape} -> {output_shape}{dtype}")
    }))
}

/// The line of a member of a `.npz` or tar archive, under its archive's;
/// a member not read as an array or image has no shapes to show.
fn member_line(m: &MemberSummary) -> String {
    if m.dtype.is_empty() {
        return format!("  {}: {}", m.name, action(m));
    }
    let dims = |d: &[usize]| {
        let parts: Vec<String> = d.iter().map(usize::to_string).collect();
        let comma = if d.len() == 1 { "," } else { "" };
        format!("({}{comma})", parts.join(", "))
    };
    format!(
        "  {}: {} -> {} {} {}, {}",
        m.name,
        dims(&m.input_shape),
        dims(&m.output_shape),
        python_dtype(&m.dtype),
        action(m),
        m.compression
    )
}

/// A dtype as NumPy's `dtype.descr` prints in Python: `'<f4'`, or a
/// structured dtype's list of fields as it is.
fn python_dtype(dtype: &str) -> String {
    if dtype.starts_with('[') {
        dtype.to_string()
    } else {
        format!("'{dtype}'")
    }
}

/// What became of a member of a `.npz` archive.
fn action(m: &MemberSummary) -> &'static str {
    if m.cropped { "cropped" } else { "copied" }
}
