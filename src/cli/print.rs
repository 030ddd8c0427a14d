//! Everything the command line prints: errors and warnings, the progress
//! bar, `--dry-run` lines, `--input-shape` and `--print-config` answers, and
//! the `--report json` lines (one JSON object a line for each input, and one
//! for a stack).

use std::fmt::Display;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use rcrop::{Job, Layer, MemberSummary, Outcome, Part, Shape, Summary, to_python_json};
use serde_json::{Value, json};

/// An error, on standard error.
pub fn error(error: &impl Display) {
    eprintln!("error: {error}");
}

/// A warning, on standard error.
pub fn warning(warning: &impl Display) {
    eprintln!("warning: {warning}");
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
        !quiet && len > 1 && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
    if !wanted {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} files, {elapsed} elapsed, {eta} left")
    {
        bar.set_style(style);
    }
    bar
}

/// `--input-shape`: the output shape.
pub fn shape(shape: &Shape) {
    println!("{shape}");
}

/// `--print-config`: the layer's `get_config()` JSON.
pub fn config(layer: &Layer) {
    println!("{}", to_python_json(&layer.get_config()));
}

/// `--dry-run`: the input's shape and its output's; for a `.npz` archive, a
/// line for the archive, then one a member.
pub fn dry_run(job: &Job, summary: &Summary) {
    if summary.members.is_empty() {
        println!(
            "{}: {} -> {}",
            job.input, summary.input_shape, summary.output_shape
        );
        return;
    }
    println!("{}: archive -> {}", job.input, summary.output);
    for m in &summary.members {
        let dims = |d: &[usize]| {
            let parts: Vec<String> = d.iter().map(usize::to_string).collect();
            let comma = if d.len() == 1 { "," } else { "" };
            format!("({}{comma})", parts.join(", "))
        };
        println!(
            "  {}: {} -> {} {} {}, {}",
            m.name,
            dims(&m.input_shape),
            dims(&m.output_shape),
            m.dtype,
            action(m),
            m.compression
        );
    }
}

/// `--report json`: the line for a job and its outcome.
pub fn job_report(job: &Job, outcome: &Outcome) {
    let (status, summary, error) = match outcome {
        Outcome::Done(s) if s.skipped => ("skipped", Some(s), None),
        Outcome::Done(s) => ("ok", Some(s), None),
        Outcome::Failed(e) => ("failed", None, Some(e.to_string())),
        Outcome::NotRun => ("not_run", None, None),
    };
    let done = summary.filter(|s| !s.skipped);
    let output = summary.map_or_else(
        || job.output_name(Part::Whole).to_string(),
        |s| s.output.clone(),
    );
    let mut line = json!({
        "input": job.input.to_string(),
        "output": output,
        "input_shape": done.map(|s| shape_value(&s.input_shape)),
        "output_shape": done.map(|s| shape_value(&s.output_shape)),
        "dtype": done.filter(|s| !s.dtype.is_empty()).map(|s| s.dtype.clone()),
        "status": status,
        "error": error,
    });
    if let Some(s) = done.filter(|s| !s.members.is_empty()) {
        line["members"] = Value::from(s.members.iter().map(member).collect::<Vec<_>>());
    }
    println!("{line}");
}

/// `--report json`: the line for a stack of `inputs` inputs.
pub fn stack_report(inputs: usize, summary: &Summary) {
    let line = json!({
        "inputs": inputs,
        "output": summary.output,
        "output_shape": shape_value(&summary.output_shape),
        "dtype": summary.dtype,
        "status": "ok",
        "error": null,
    });
    println!("{line}");
}

/// One member of a `.npz` archive in a report line.
fn member(m: &MemberSummary) -> Value {
    json!({
        "name": m.name,
        "input_shape": m.input_shape,
        "output_shape": m.output_shape,
        "dtype": m.dtype,
        "action": action(m),
        "compression": m.compression,
    })
}

/// What became of a member of a `.npz` archive.
fn action(m: &MemberSummary) -> &'static str {
    if m.cropped { "cropped" } else { "copied" }
}

/// A shape as JSON: a list of numbers, `null` where unknown.
fn shape_value(s: &Shape) -> Value {
    Value::from(s.0.iter().map(|d| Value::from(*d)).collect::<Vec<_>>())
}
