//! The command line, split by role as the data flows: [`flags`] (the clap
//! definitions, with their help) and the [`values`] they take, the [`plan`]
//! made of them, [`run`] following it, and [`print`] saying what happened;
//! [`generate`] prints completions and the man page.

mod flags;
mod generate;
mod plan;
mod print;
mod run;
mod values;

pub use flags::Flags;
pub use print::error as print_error;
pub use run::{Failure, run};
