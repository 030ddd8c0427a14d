//! `--report json`: one JSON object a line for each input, and one for a stack.

use rcrop::{Job, Outcome, Shape, Summary};
use serde_json::{Value, json};

fn shape(s: &Shape) -> Value {
    Value::from(s.0.iter().map(|d| Value::from(*d)).collect::<Vec<_>>())
}

/// The line for a job and its outcome.
pub fn job_line(job: &Job, outcome: &Outcome) -> Value {
    let (status, summary, error) = match outcome {
        Outcome::Done(s) if s.skipped => ("skipped", Some(s), None),
        Outcome::Done(s) => ("ok", Some(s), None),
        Outcome::Failed(e) => ("failed", None, Some(e.to_string())),
        Outcome::NotRun => ("not_run", None, None),
    };
    let done = summary.filter(|s| !s.skipped);
    let output = summary.map_or_else(
        || job.output_name(rcrop::Part::Whole).to_string(),
        |s| s.output.clone(),
    );
    json!({
        "input": job.input.to_string(),
        "output": output,
        "input_shape": done.map(|s| shape(&s.input_shape)),
        "output_shape": done.map(|s| shape(&s.output_shape)),
        "dtype": done.map(|s| s.dtype.clone()),
        "status": status,
        "error": error,
    })
}

/// The line for a stack of `inputs` inputs.
pub fn stack_line(inputs: usize, summary: &Summary) -> Value {
    json!({
        "inputs": inputs,
        "output": summary.output,
        "output_shape": shape(&summary.output_shape),
        "dtype": summary.dtype,
        "status": "ok",
        "error": null,
    })
}
