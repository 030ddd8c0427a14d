//! Running a plan: the jobs of a batch, a stack, or the layer alone, with
//! what each step says handed to [`print`], and how it went returned as one
//! result for `main` to turn into the exit status.

use rcrop::{
    ChoiceError, Destination, Error, Job, LayerChoice, Outcome, Problem, Settings, Shape, Stack,
    run_batch, thread_pool,
};

use super::flags::Flags;
use super::generate;
use super::plan::{Plan, Task};
use super::print;

/// Why a run did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// What stopped the run, not shown yet.
    Stopped(Error),
    /// Inputs of a batch failed, each shown as it failed; `usage` when one of
    /// them was refused as the command line's fault (a crop spec the layer
    /// of its rank refuses).
    Inputs { usage: bool },
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Stopped(error)
    }
}

/// Runs what the command line asks for.
pub fn run(flags: &Flags) -> Result<(), Failure> {
    let plan = Plan::new(flags)?;
    match &plan.task {
        Task::Generate(kind) => Ok(generate::print(*kind)?),
        Task::Layer {
            choice,
            input_shape,
        } => Ok(run_layer(choice, input_shape.as_ref())?),
        Task::Stack(stack) => Ok(run_stack(&plan, stack)?),
        Task::Jobs { jobs, dry_run } => run_jobs(&plan, jobs, *dry_run),
    }
}

/// `--print-config` or `--input-shape`: the layer alone, no data. The
/// layer follows the rank of `--input-shape`; `--print-config` of a crop
/// alone is `Cropping2D`'s.
fn run_layer(choice: &LayerChoice, input_shape: Option<&Shape>) -> Result<(), Error> {
    let shape = input_shape.cloned().unwrap_or(Shape::unknown(4));
    let what = format!("input shape {shape}");
    let layer = choice.for_shape(&shape).map_err(|e| match e {
        ChoiceError::Spec(e) => {
            let hint = match input_shape {
                Some(_) => "",
                None => "; choose the layer with --layer",
            };
            Error::Usage(format!("{e}{hint}"))
        }
        e => Error::file(&what, e),
    })?;
    if input_shape.is_some() {
        let out = layer
            .compute_output_shape(&shape)
            .map_err(|e| Error::file(&what, e))?;
        print::shape(&out)
    } else {
        print::config(&layer)
    }
}

/// `--stack`: every input into one batch, on the worker threads.
fn run_stack(plan: &Plan, stack: &Stack) -> Result<(), Error> {
    let settings = Settings {
        threads: plan.threads,
        keep_going: false,
    };
    let summary = thread_pool(settings).and_then(|pool| pool.install(|| stack.run()))?;
    if plan.report {
        print::stack_report(stack.inputs.len(), &summary)?;
    }
    Ok(())
}

/// Each job into its output (or, with `dry_run`, only inspected), its
/// errors and warnings shown as it ends, and the batch accounted for.
fn run_jobs(plan: &Plan, jobs: &[Job], dry_run: bool) -> Result<(), Failure> {
    if !dry_run {
        create_folders(jobs)?;
    }
    let settings = Settings {
        threads: plan.threads,
        keep_going: plan.keep_going,
    };
    let bar = print::progress(jobs.len(), plan.quiet);
    let each = |job: &Job, outcome: &Outcome| {
        bar.suspend(|| {
            print::ended(outcome, plan.quiet);
            if let (true, false, Outcome::Done(summary)) = (plan.verbose, dry_run, outcome) {
                print::written(job, summary);
            }
        });
        bar.inc(1);
    };
    let action = |job: &Job| {
        if dry_run { job.inspect() } else { job.run() }
    };
    let outcomes = run_batch(jobs, settings, action, each)?;
    bar.finish_and_clear();
    for (job, outcome) in jobs.iter().zip(&outcomes) {
        if plan.report {
            print::job_report(job, outcome)?;
        } else if let (true, Outcome::Done(summary)) = (dry_run, outcome) {
            print::dry_run(job, summary)?;
        }
    }
    let failed = count(&outcomes, |o| matches!(o, Outcome::Failed(_)));
    if failed == 0 {
        return Ok(());
    }
    if jobs.len() > 1 {
        let not_run = count(&outcomes, |o| matches!(o, Outcome::NotRun));
        print::account(failed, jobs.len(), not_run);
    }
    let usage = outcomes
        .iter()
        .any(|o| matches!(o, Outcome::Failed(Error::Usage(_))));
    Err(Failure::Inputs { usage })
}

/// How many outcomes are of the kind `which` tells.
fn count(outcomes: &[Outcome], which: impl Fn(&Outcome) -> bool) -> usize {
    outcomes.iter().filter(|&o| which(o)).count()
}

/// Makes the output folders of a batch.
fn create_folders(jobs: &[Job]) -> Result<(), Error> {
    for job in jobs {
        if let Destination::Folder { dir, .. } = &job.destination {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::file(dir.display(), Problem::Write(e)))?;
        }
    }
    Ok(())
}
