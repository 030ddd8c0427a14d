//! The `rcrop` binary: the library's command line ([`rcrop::cli::main`]) run
//! on the program's arguments, its result the exit status.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(rcrop::cli::main(std::env::args_os()))
}
