//! Many jobs: spread over the cores with rayon, taken in input order,
//! stopped at the first failure unless told to keep going, and accounted
//! for one by one, in input order, whatever the timing.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Problem};
use crate::job::{Job, Summary};
use crate::kind::FileKind;

/// How a batch runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Worker threads; `None` for one per core. Default: `None`.
    pub threads: Option<usize>,
    /// Go on after a failure instead of stopping. Default: `false`.
    pub keep_going: bool,
}

/// What became of one job.
#[derive(Debug)]
pub enum Outcome {
    Done(Summary),
    Failed(Error),
    /// Not run: an earlier input, in input order, failed first.
    NotRun,
}

/// Where the outcomes of a batch go as they come.
pub trait Watch: Sync {
    /// Job `index` ended, as it did: called from the worker threads, in the
    /// order the jobs end. A job after the batch's first failure may end
    /// here as [`Outcome::Done`] and be settled as [`Outcome::NotRun`].
    fn ended(&self, index: usize, outcome: &Outcome);
    /// Job `index` is accounted for: called once a job, in input order,
    /// as soon as it and every job before it have ended, one call at a time.
    fn settled(&self, index: usize, outcome: &Outcome);
}

/// Runs `action` on every job ([`Job::run`], or [`Job::inspect`] for a dry
/// run), telling `watch` as each ends and as each is settled, and returns
/// the outcomes in the jobs' order.
///
/// The workers take the jobs in input order. Without
/// [`Settings::keep_going`], the first job to fail in input order stops the
/// batch: every job before it runs, whatever the timing, and every job
/// after it is [`Outcome::NotRun`]: none is started once the failure is
/// known, and the result of one already under way is left out (an output
/// it wrote is complete, and stays). So the same batch gives the same
/// outcomes on any number of threads. Outputs do not depend on the number
/// of threads either: each job writes its own files.
pub fn run(
    jobs: &[Job],
    settings: Settings,
    action: impl Fn(&Job) -> Result<Summary, Error> + Sync,
    watch: &impl Watch,
) -> Result<Vec<Outcome>, Error> {
    let next = AtomicUsize::new(0);
    let first_failure = AtomicUsize::new(usize::MAX);
    let ledger = Mutex::new(Ledger::new(jobs.len(), settings.keep_going));
    let work = || {
        loop {
            let index = next.fetch_add(1, Ordering::SeqCst);
            let Some(job) = jobs.get(index) else {
                return;
            };
            let stopped = !settings.keep_going && index > first_failure.load(Ordering::SeqCst);
            let outcome = if stopped {
                Outcome::NotRun
            } else {
                match action(job) {
                    Ok(summary) => Outcome::Done(summary),
                    Err(e) => {
                        first_failure.fetch_min(index, Ordering::SeqCst);
                        Outcome::Failed(e)
                    }
                }
            };
            watch.ended(index, &outcome);
            lock(&ledger).put(index, outcome, watch);
        }
    };
    // One job needs no threads: spare their start-up.
    if jobs.len() <= 1 {
        work();
    } else {
        pool(settings)?.broadcast(|_| work());
    }
    let ledger = ledger.into_inner().unwrap_or_else(|p| p.into_inner());
    Ok(ledger.settled)
}

fn lock(ledger: &Mutex<Ledger>) -> std::sync::MutexGuard<'_, Ledger> {
    ledger
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The outcomes of a batch, put back in input order as they come.
struct Ledger {
    /// Outcomes ended but waiting for an earlier one, by index.
    waiting: Vec<Option<Outcome>>,
    /// The outcomes settled so far, in input order.
    settled: Vec<Outcome>,
    keep_going: bool,
    /// Whether a settled job failed.
    failed: bool,
}

impl Ledger {
    fn new(len: usize, keep_going: bool) -> Self {
        Ledger {
            waiting: (0..len).map(|_| None).collect(),
            settled: Vec::with_capacity(len),
            keep_going,
            failed: false,
        }
    }

    /// Takes the outcome of job `index`, and settles every job it was the
    /// last to wait for.
    fn put(&mut self, index: usize, outcome: Outcome, watch: &impl Watch) {
        self.waiting[index] = Some(outcome);
        while let Some(outcome) = self
            .waiting
            .get_mut(self.settled.len())
            .and_then(Option::take)
        {
            let outcome = if self.failed && !self.keep_going {
                Outcome::NotRun
            } else {
                outcome
            };
            self.failed |= matches!(outcome, Outcome::Failed(_));
            watch.settled(self.settled.len(), &outcome);
            self.settled.push(outcome);
        }
    }
}

/// The worker threads `settings` ask for.
pub fn pool(settings: Settings) -> Result<rayon::ThreadPool, Error> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = settings.threads {
        pool = pool.num_threads(n);
    }
    pool.build().map_err(|e| Error::Threads(e.to_string()))
}

/// One input of a batch and the folder, relative to the output folder,
/// that its result goes into (empty but for files found under a directory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    pub subdir: PathBuf,
}

/// The inputs named on the command line: files as given, directories (with
/// `recursive`) walked in sorted order for the files rcrop reads, by
/// extension, their tree kept as `subdir`. Symbolic links to directories are
/// not followed.
pub fn find_inputs(paths: &[PathBuf], recursive: bool) -> Result<Vec<Found>, Error> {
    let mut found = Vec::new();
    for path in paths {
        if path.as_os_str() != "-" && path.is_dir() {
            if !recursive {
                return Err(Error::Usage(format!(
                    "{} is a directory; expected a file, or -r to crop the files under it",
                    path.display()
                )));
            }
            walk(path, Path::new(""), &mut found)?;
        } else {
            found.push(Found {
                path: path.clone(),
                subdir: PathBuf::new(),
            });
        }
    }
    Ok(found)
}

fn walk(dir: &Path, subdir: &Path, found: &mut Vec<Found>) -> Result<(), Error> {
    let entries = fs::read_dir(dir).map_err(|e| Error::file(dir.display(), Problem::Open(e)))?;
    let mut entries: Vec<_> = entries
        .collect::<Result<_, _>>()
        .map_err(|e| Error::file(dir.display(), Problem::Read(e)))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            walk(&path, &subdir.join(entry.file_name()), found)?;
        } else if path.is_file() && FileKind::from_path(&path).is_some() {
            found.push(Found {
                path,
                subdir: subdir.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// File names from a list, one a line or (with `nul`) NUL-separated, as
/// `find -print0` writes them; empty entries are skipped. On Unix the names
/// are bytes, taken as they are.
pub fn parse_list(bytes: &[u8], nul: bool) -> Vec<PathBuf> {
    let separator = if nul { b'\0' } else { b'\n' };
    bytes
        .split(|&b| b == separator)
        .filter(|name| !name.is_empty())
        .map(path_from_bytes)
        .collect()
}

#[cfg(unix)]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_newlines_or_nuls_and_skip_empty_names() {
        assert_eq!(
            parse_list(b"a.png\n\nb c.png\n", false),
            [PathBuf::from("a.png"), PathBuf::from("b c.png")]
        );
        assert_eq!(
            parse_list(b"a\nb.png\0c.png\0", true),
            [PathBuf::from("a\nb.png"), PathBuf::from("c.png")]
        );
    }

    #[test]
    fn directories_are_walked_in_order_for_known_kinds() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "b.png",
            "a.npy",
            "notes.txt",
            "sub/c.JPG",
            "sub/deeper/d.tif",
        ] {
            let path = dir.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, b"").unwrap();
        }
        let found = find_inputs(&[dir.path().to_path_buf()], true).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|f| f.path.strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            names,
            ["a.npy", "b.png", "sub/c.JPG", "sub/deeper/d.tif"].map(PathBuf::from)
        );
        assert_eq!(found[3].subdir, PathBuf::from("sub/deeper"));
        assert!(matches!(
            find_inputs(&[dir.path().to_path_buf()], false),
            Err(Error::Usage(_))
        ));
    }
}
