//! The `rcrop` binary: the command line ([`cli`]) parsed and run, and its one
//! result turned into the documented exit status ([`EXIT_STATUSES`]).

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::Failure;
use rcrop::Error;

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

fn main() -> ExitCode {
    let flags = cli::Flags::parse();
    // Without the handler, a signal would leave temporary files behind.
    #[cfg(unix)]
    if let Err(e) = cli::handle_signals() {
        cli::print_warning(&format!("cannot handle interruptions: {e}"));
    }
    match cli::run(&flags) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if let Failure::Stopped(error) = &failure {
                cli::print_error(error);
            }
            ExitCode::from(exit_status(&failure))
        }
    }
}

/// The documented exit status of a failure: 2 for a wrong command line, 1
/// for the rest. A signal's is the signal's own ([`cli::handle_signals`]).
fn exit_status(failure: &Failure) -> u8 {
    match failure {
        Failure::Stopped(Error::Usage(_)) | Failure::Inputs { usage: true } => 2,
        Failure::Stopped(Error::Config(_) | Error::Threads(_) | Error::File { .. })
        | Failure::Inputs { usage: false } => 1,
    }
}
