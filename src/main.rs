//! The `rcrop` binary: the command line ([`cli`]) turned into library calls,
//! what they did reported ([`report`]), and failures mapped to the documented
//! exit codes: 0 success, 1 an input or output failed, 2 a wrong command line,
//! 130 interrupted.

mod cli;
mod report;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // Without the handler, a signal would leave temporary files behind.
    let interrupted = || {
        rcrop::abandon_outputs();
        std::process::exit(130)
    };
    if let Err(e) = ctrlc::set_handler(interrupted) {
        eprintln!("warning: cannot handle interruptions: {e}");
    }
    cli.run()
}

/// The documented exit status of an error: 2 for a wrong command line, 1 for the rest.
fn exit_code(error: &rcrop::Error) -> u8 {
    match error {
        rcrop::Error::Usage(_) => 2,
        rcrop::Error::Config(_) | rcrop::Error::Threads(_) | rcrop::Error::File { .. } => 1,
    }
}

/// Says what failed and exits with its status.
fn fail(error: &rcrop::Error) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(exit_code(error))
}
