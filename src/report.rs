//! `--report json`: one JSON object a line for each input, and one for a stack.

use rcrop::{Job, MemberSummary, Outcome, Shape, Summary};
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
    let mut line = json!({
        "input": job.input.to_string(),
        "output": output,
        "input_shape": done.map(|s| shape(&s.input_shape)),
        "output_shape": done.map(|s| shape(&s.output_shape)),
        "dtype": done.filter(|s| !s.dtype.is_empty()).map(|s| s.dtype.clone()),
        "status": status,
        "error": error,
    });
    if let Some(s) = done.filter(|s| !s.members.is_empty()) {
        line["members"] = Value::from(s.members.iter().map(member).collect::<Vec<_>>());
    }
    line
}

/// One member of a `.npz` archive in a report line.
fn member(m: &MemberSummary) -> Value {
    json!({
        "name": m.name,
        "input_shape": m.input_shape,
        "output_shape": m.output_shape,
        "dtype": m.dtype,
        "action": if m.cropped { "cropped" } else { "copied" },
        "compression": m.compression,
    })
}

/// `--dry-run` on a `.npz` archive: a line for the archive, then one a member.
pub fn print_members(job: &Job, summary: &Summary) {
    println!("{}: archive -> {}", job.input, summary.output);
    for m in &summary.members {
        let dims = |d: &[usize]| {
            let parts: Vec<String> = d.iter().map(usize::to_string).collect();
            let comma = if d.len() == 1 { "," } else { "" };
            format!("({}{comma})", parts.join(", "))
        };
        let action = if m.cropped { "cropped" } else { "copied" };
        println!(
            "  {}: {} -> {} {} {action}, {}",
            m.name,
            dims(&m.input_shape),
            dims(&m.output_shape),
            m.dtype,
            m.compression
        );
    }
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
