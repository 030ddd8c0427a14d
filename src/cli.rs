//! The command line, split by role as the data flows: [`flags`] (the clap
//! definitions, with their help) and the [`values`] they take, the [`plan`]
//! made of them, [`run`] following it, and [`print`] saying what happened;
//! [`help`] holds the prose around the flags;
//! [`generate`] prints completions and the man page; [`signals`] ends the
//! program as a signal asks.

mod flags;
mod generate;
mod help;
mod plan;
mod print;
mod run;
#[cfg(unix)]
mod signals;
mod values;

pub use flags::Flags;
pub use print::{error as print_error, warning as print_warning};
pub use run::{Failure, run};
#[cfg(unix)]
pub use signals::handle as handle_signals;
