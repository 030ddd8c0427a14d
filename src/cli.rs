//! The command line, split by role as the data flows: `flags` (the clap
//! definitions, with their help) and the `values` they take, the `plan`
//! made of them, `run` following it, and `print` saying what happened;
//! `help` holds the prose around the flags;
//! `generate` prints completions and the man page; `signals` ends the
//! program as a signal asks.
//!
//! It lives in the library, behind the `cli` feature, so that the `rcrop`
//! binary and the `rcrop` command the Python package installs run the same
//! [`main`]; it is no part of the library's API.

// Its doc comments are the --help text, where <stem> is no HTML tag.
#[allow(rustdoc::invalid_html_tags)]
mod flags;
mod generate;
mod help;
pub(crate) mod plan;
pub(crate) mod print;
pub(crate) mod run;
#[cfg(unix)]
mod signals;
mod values;

use std::ffi::OsString;

use clap::Parser;

use crate::Error;
pub(crate) use flags::Flags;
use run::Failure;

/// Every exit status and what it means, as `--help` and the man page list
/// them.
pub const EXIT_STATUSES: [(&str, &str); 4] = [
    ("0", "success"),
    (
        "1",
        "an input cannot be read or cropped, or an output cannot be written \
         (in a batch: any input failed)",
    ),
    ("2", "the command line is wrong"),
    (
        "130, 143, 129",
        "interrupted by SIGINT, SIGTERM or SIGHUP: rcrop removes its temporary files and dies \
         by the signal, which a shell reports as 128 + its number; outputs already in place \
         are complete",
    ),
];

/// Runs the command line `args` (the program's name first) and returns its
/// documented exit status ([`EXIT_STATUSES`]); `--help`, `--version` and a
/// command line clap refuses end the process as clap does.
pub fn main(args: impl IntoIterator<Item = OsString>) -> u8 {
    let flags = Flags::parse_from(args);
    // Without the handler, a signal would leave temporary files behind.
    #[cfg(unix)]
    if let Err(e) = signals::handle() {
        print::warning(&format!("cannot handle interruptions: {e}"));
    }
    match run::run(&flags) {
        Ok(()) => 0,
        Err(failure) => {
            if let Failure::Stopped(error) = &failure {
                print::error(error);
            }
            exit_status(&failure)
        }
    }
}

/// The documented exit status of a failure: 2 for a wrong command line, 1
/// for the rest. A signal's is the signal's own ([`signals::handle`]).
fn exit_status(failure: &Failure) -> u8 {
    match failure {
        Failure::Stopped(Error::Usage(_)) | Failure::Inputs { usage: true } => 2,
        Failure::Stopped(Error::Config(_) | Error::Threads(_) | Error::File { .. })
        | Failure::Inputs { usage: false } => 1,
    }
}
