//! `--report json`: JSON Lines on standard output, a record for each input
//! as it is settled (in input order, as soon as it and every input before
//! it have ended), then a summary record; or one record for a stack. Each
//! record carries the schema number, [`SCHEMA`]; doc/batches.md describes
//! the fields.
//!
//! An input that has ended but waits for an earlier one keeps its record
//! here: a signal ([`interrupted`]) prints those, so that a killed batch
//! leaves a record for every output on disk, and no line after them.

use std::collections::BTreeMap;
use std::sync::{Mutex, TryLockError};
use std::time::{Duration, Instant};

use rcrop::{Error, Job, MemberSummary, Outcome, Part, Shape, Summary};
use serde_json::{Value, json};

use super::{action, line};
use crate::cli::plan::FormatInForce;

/// The version of the records' fields, raised when one changes meaning or
/// goes away (not when one is added).
pub const SCHEMA: u32 = 1;

/// The records of inputs that ended but are not settled, by input index;
/// `closed` once a signal printed them, after which nothing more is printed.
struct Waiting {
    records: BTreeMap<usize, Value>,
    closed: bool,
}

static WAITING: Mutex<Waiting> = Mutex::new(Waiting {
    records: BTreeMap::new(),
    closed: false,
});

fn waiting() -> std::sync::MutexGuard<'static, Waiting> {
    WAITING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The report of a batch of jobs.
pub struct Report {
    data_format: Option<FormatInForce>,
    start: Instant,
}

impl Report {
    /// A report whose records say which data format the run follows.
    pub fn new(data_format: Option<FormatInForce>) -> Self {
        Report {
            data_format,
            start: Instant::now(),
        }
    }

    /// Job `index` ended: its record waits for the inputs before it.
    pub fn ended(&self, index: usize, job: &Job, outcome: &Outcome) {
        waiting().records.insert(index, self.record(job, outcome));
    }

    /// Job `index` is settled: its record is printed.
    pub fn settled(&self, index: usize, job: &Job, outcome: &Outcome) -> Result<(), Error> {
        let mut waiting = waiting();
        waiting.records.remove(&index);
        if waiting.closed {
            return Ok(());
        }
        line(self.record(job, outcome))
    }

    /// The summary record, once every job is settled.
    pub fn summary(&self, jobs: &[Job], outcomes: &[Outcome]) -> Result<(), Error> {
        let count = |status: &str| {
            let n = outcomes.iter().filter(|o| self::status(o) == status);
            n.count()
        };
        let failures: Vec<Value> = jobs
            .iter()
            .zip(outcomes)
            .filter_map(|(job, outcome)| match outcome {
                Outcome::Failed(e) => Some(json!({
                    "input": job.input.to_string(),
                    "error": e.to_string(),
                })),
                _ => None,
            })
            .collect();
        let mut summary = json!({
            "schema": SCHEMA,
            "record": "summary",
            "inputs": jobs.len(),
            "written": count("ok"),
            "skipped": count("skipped"),
            "failed": count("failed"),
            "not_run": count("not_run"),
            "seconds": self.start.elapsed().as_secs_f64(),
            "failures": failures,
        });
        self.add_data_format(&mut summary);
        let waiting = waiting();
        if waiting.closed {
            return Ok(());
        }
        line(summary)
    }

    /// The record of a job and its outcome.
    pub(crate) fn record(&self, job: &Job, outcome: &Outcome) -> Value {
        let (summary, error) = match outcome {
            Outcome::Done(s) => (Some(s), None),
            Outcome::Failed(e) => (None, Some(e.to_string())),
            Outcome::NotRun => (None, None),
        };
        let done = summary.filter(|s| !s.skipped);
        let output = summary.map_or_else(
            || job.output_name(Part::Whole).to_string(),
            |s| s.output.clone(),
        );
        let mut record = json!({
            "schema": SCHEMA,
            "record": "input",
            "input": job.input.to_string(),
            "output": output,
            "status": status(outcome),
            "error": error,
            "input_shape": done.and_then(|s| shape_value(&s.input_shape)),
            "output_shape": done.and_then(|s| shape_value(&s.output_shape)),
            "dtype": done.filter(|s| !s.dtype.is_empty()).map(|s| s.dtype.clone()),
            "jpeg": done.and_then(|s| s.jpeg).map(|j| j.as_str()),
        });
        self.add_data_format(&mut record);
        if let Some(s) = done.filter(|s| !s.members.is_empty()) {
            record["members"] = Value::from(s.members.iter().map(member).collect::<Vec<_>>());
        }
        record
    }

    /// The record of a stack of `inputs` inputs.
    pub fn stack(&self, inputs: usize, summary: &Summary) -> Result<(), Error> {
        let mut record = json!({
            "schema": SCHEMA,
            "record": "stack",
            "inputs": inputs,
            "output": summary.output,
            "output_shape": shape_value(&summary.output_shape),
            "dtype": summary.dtype,
            "status": "ok",
            "error": null,
        });
        self.add_data_format(&mut record);
        line(record)
    }

    /// The data format in force and where it came from (`null` for
    /// `Cropping1D`, which has none).
    fn add_data_format(&self, record: &mut Value) {
        let format = self.data_format.as_ref();
        record["data_format"] = json!(format.map(|f| f.format.as_str()));
        record["data_format_from"] = json!(format.map(|f| f.origin.name()));
    }
}

/// A signal came: the records of inputs that ended, not yet printed, in
/// input order; then nothing more. A worker stuck printing a record (its
/// reader stopped reading) is waited for a second at most: nothing more
/// can be printed then anyway.
pub fn interrupted() {
    let mut waiting = None;
    for _ in 0..100 {
        match WAITING.try_lock() {
            Ok(guard) => waiting = Some(guard),
            Err(TryLockError::Poisoned(poisoned)) => waiting = Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(10)),
        }
        if waiting.is_some() {
            break;
        }
    }
    let Some(mut waiting) = waiting else {
        return;
    };
    if !waiting.closed {
        for record in std::mem::take(&mut waiting.records).into_values() {
            let _ = line(record);
        }
        waiting.closed = true;
    }
}

/// What became of a job: `ok`, `skipped`, `failed` or `not_run`.
fn status(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Done(s) if s.skipped => "skipped",
        Outcome::Done(_) => "ok",
        Outcome::Failed(_) => "failed",
        Outcome::NotRun => "not_run",
    }
}

/// One member of a `.npz` or tar archive in a record; shapes and dtype
/// are `null` for a member not read as an array or image.
fn member(m: &MemberSummary) -> Value {
    let read = !m.dtype.is_empty();
    json!({
        "name": m.name,
        "input_shape": read.then_some(&m.input_shape),
        "output_shape": read.then_some(&m.output_shape),
        "dtype": read.then_some(&m.dtype),
        "action": action(m),
        "compression": m.compression,
    })
}

/// A shape as JSON: a list of numbers, `null` where unknown; `None` for no
/// shape at all (an archive of many members, each with its own).
fn shape_value(s: &Shape) -> Option<Value> {
    (!s.0.is_empty()).then(|| Value::from(s.0.iter().map(|d| Value::from(*d)).collect::<Vec<_>>()))
}
