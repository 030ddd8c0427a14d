//! `--generate`: shell completion scripts and the man page, made from the
//! clap definitions so that they always list the flags the binary has.

use std::io::Write;

use clap::{CommandFactory, ValueEnum};
use clap_complete::Shell;
use rcrop::{Error, Problem};

use super::flags::Flags;

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
pub fn print(kind: Generate) -> Result<(), Error> {
    let mut out = Vec::new();
    let mut command = Flags::command();
    let shell = match kind {
        Generate::Man => None,
        Generate::CompleteBash => Some(Shell::Bash),
        Generate::CompleteZsh => Some(Shell::Zsh),
        Generate::CompleteFish => Some(Shell::Fish),
        Generate::CompletePowershell => Some(Shell::PowerShell),
        Generate::CompleteElvish => Some(Shell::Elvish),
    };
    let written = match shell {
        Some(shell) => {
            clap_complete::generate(shell, &mut command, "rcrop", &mut out);
            Ok(())
        }
        None => clap_mangen::Man::new(command).render(&mut out),
    };
    let mut stdout = std::io::stdout().lock();
    written
        .and_then(|()| stdout.write_all(&out))
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::file("standard output", Problem::Write(e)))
}
