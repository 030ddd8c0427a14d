//! The `rcrop` binary: the command line ([`cli`]) parsed and run, and its one
//! result turned into the documented exit status: 0 success, 1 an input or
//! output failed, 2 a wrong command line, 130 interrupted.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::Failure;
use rcrop::Error;

fn main() -> ExitCode {
    let flags = cli::Flags::parse();
    // Without the handler, a signal would leave temporary files behind.
    let interrupted = || {
        rcrop::abandon_outputs();
        std::process::exit(130)
    };
    if let Err(e) = ctrlc::set_handler(interrupted) {
        eprintln!("warning: cannot handle interruptions: {e}");
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
/// for the rest.
fn exit_status(failure: &Failure) -> u8 {
    match failure {
        Failure::Stopped(Error::Usage(_)) | Failure::Inputs { usage: true } => 2,
        Failure::Stopped(Error::Config(_) | Error::Threads(_) | Error::File { .. })
        | Failure::Inputs { usage: false } => 1,
    }
}
