//! The `rcrop` binary: parse the command line, run the library, map errors
//! to exit codes.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // Without the handler, a signal would leave the temporary file behind.
    if let Err(e) = ctrlc::set_handler(|| rcrop::output::abandon_and_exit()) {
        eprintln!("warning: cannot handle interruptions: {e}");
    }
    match cli.job().and_then(|job| job.run()) {
        Ok(summary) => {
            for warning in summary.warnings {
                eprintln!("warning: {warning}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
