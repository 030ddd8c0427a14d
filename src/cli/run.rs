//! Running a plan: the jobs of a batch, a stack, or the layer alone, with
//! what each step says handed to [`print`], and how it went returned as one
//! result for `main` to turn into the exit status.

use std::sync::Mutex;

use indicatif::ProgressBar;
use rcrop::{
    ChoiceError, Commit, Destination, Error, Job, LayerChoice, Outcome, Problem, Settings, Shape,
    Stack, Watch, run_batch, thread_pool,
};

use super::flags::Flags;
use super::generate;
use super::plan::{Plan, Task};
use super::print::{self, report::Report};

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
        print::config(&layer, choice.keys())
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
        Report::new(plan.data_format.clone()).stack(stack.inputs.len(), &summary)?;
    }
    Ok(())
}

/// Each job into its output (or, with `dry_run`, only inspected), what
/// each says shown in input order as it is settled, and the batch
/// accounted for.
fn run_jobs(plan: &Plan, jobs: &[Job], dry_run: bool) -> Result<(), Failure> {
    let settings = prepare(plan, jobs, dry_run)?;
    let batch = Batch {
        plan,
        jobs,
        dry_run,
        bar: print::progress(jobs.len(), plan.quiet),
        report: plan.report.then(|| Report::new(plan.data_format.clone())),
        broken: Mutex::new(None),
    };
    if let (true, false, Some(format)) = (dry_run, plan.report, &plan.data_format) {
        print::data_format(format)?;
    }
    let action = |job: &Job| {
        if dry_run { job.inspect() } else { job.run() }
    };
    let outcomes = run_batch(jobs, settings, action, &batch)?;
    batch.bar.finish_and_clear();
    if let Some(error) = batch.broken.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(error.into());
    }
    if let Some(report) = &batch.report {
        report.summary(jobs, &outcomes)?;
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

/// Makes the output folders a batch of `jobs` writes into, and returns
/// how the batch runs.
pub(crate) fn prepare(plan: &Plan, jobs: &[Job], dry_run: bool) -> Result<Settings, Error> {
    // A check writes nothing, output folders included.
    let checks = jobs.iter().any(|job| job.options.commit == Commit::Check);
    if !dry_run && !checks {
        create_folders(jobs)?;
    }
    Ok(Settings {
        threads: plan.threads,
        keep_going: plan.keep_going,
    })
}

/// A batch under way: the progress bar moves as each job ends; what a job
/// says is shown when it is settled, in input order.
struct Batch<'a> {
    plan: &'a Plan,
    jobs: &'a [Job],
    dry_run: bool,
    bar: ProgressBar,
    report: Option<Report>,
    /// The first failure to write to standard output.
    broken: Mutex<Option<Error>>,
}

impl Watch for Batch<'_> {
    fn ended(&self, index: usize, outcome: &Outcome) {
        self.bar.inc(1);
        if let Some(report) = &self.report {
            report.ended(index, &self.jobs[index], outcome);
        }
    }

    fn settled(&self, index: usize, outcome: &Outcome) {
        let job = &self.jobs[index];
        self.bar.suspend(|| {
            print::ended(outcome, self.plan.quiet);
            if let (true, false, Outcome::Done(summary)) =
                (self.plan.verbose, self.dry_run, outcome)
            {
                print::written(job, summary);
            }
        });
        let printed = match (&self.report, outcome) {
            (Some(report), _) => report.settled(index, job, outcome),
            (None, Outcome::Done(summary)) if self.dry_run => print::dry_run(job, summary),
            _ => Ok(()),
        };
        if let Err(e) = printed {
            let mut broken = self.broken.lock().unwrap_or_else(|p| p.into_inner());
            broken.get_or_insert(e);
        }
    }
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
