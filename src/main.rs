//! The `rcrop` binary: parse the command line and hand it to [`cli::Cli::run`],
//! which runs the library and maps errors to exit codes.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // Without the handler, a signal would leave temporary files behind.
    if let Err(e) = ctrlc::set_handler(|| rcrop::output::abandon_and_exit()) {
        eprintln!("warning: cannot handle interruptions: {e}");
    }
    cli.run()
}
