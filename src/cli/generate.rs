//! `--generate`: shell completion scripts and the man page, made from the
//! clap definitions so that they always list the flags the binary has.

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, ValueEnum};
use clap_complete::Shell;

use super::Cli;

/// What `--generate` prints.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Generate {
    /// The man page, in roff.
    Man,
    /// A completion script for bash.
    CompleteBash,
    /// A completion script for zsh.
    CompleteZsh,
    /// A completion script for fish.
    CompleteFish,
    /// A completion script for PowerShell.
    CompletePowershell,
    /// A completion script for elvish.
    CompleteElvish,
}

/// Writes what `kind` asks for to standard output.
pub fn print(kind: Generate) -> ExitCode {
    let mut out = Vec::new();
    let mut command = Cli::command();
    let shell = match kind {
        Generate::Man => None,
        Generate::CompleteBash => Some(Shell::Bash),
        Generate::CompleteZsh => Some(Shell::Zsh),
        Generate::CompleteFish => Some(Shell::Fish),
        Generate::CompletePowershell => Some(Shell::PowerShell),
        Generate::CompleteElvish => Some(Shell::Elvish),
    };
    match shell {
        Some(shell) => clap_complete::generate(shell, &mut command, "rcrop", &mut out),
        None => {
            if let Err(e) = clap_mangen::Man::new(command).render(&mut out) {
                return fail_write(&e);
            }
        }
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&out).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail_write(&e),
    }
}

fn fail_write(e: &std::io::Error) -> ExitCode {
    eprintln!("error: standard output: cannot write: {e}");
    ExitCode::from(1)
}
