//! `--generate`: shell completion scripts and the man page, made from the
//! clap definitions so that they always list the flags the binary has.

use std::io;

use clap::{CommandFactory, ValueEnum};
use clap_complete::Shell;
use rcrop::{Error, Problem};
use roff::{Roff, bold, roman};

use super::flags::Flags;
use super::help::EXAMPLES;
use super::print;

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
    match shell {
        Some(shell) => clap_complete::generate(shell, &mut command, "rcrop", &mut out),
        None => {
            man(command, &mut out).map_err(|e| Error::file("the man page", Problem::Write(e)))?
        }
    }
    print::out(&out)
}

/// The man page: clap's sections, with EXAMPLES and EXIT STATUS before
/// VERSION.
fn man(command: clap::Command, out: &mut Vec<u8>) -> io::Result<()> {
    let page = clap_mangen::Man::new(command);
    page.render_title(out)?;
    page.render_name_section(out)?;
    page.render_synopsis_section(out)?;
    page.render_description_section(out)?;
    page.render_options_section(out)?;
    let mut roff = Roff::new();
    roff.control("SH", ["EXAMPLES"]);
    for (command, note) in EXAMPLES {
        roff.control("TP", []).text([bold(command)]);
        if !note.is_empty() {
            roff.text([roman(note)]);
        }
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (status, meaning) in super::EXIT_STATUSES {
        roff.control("TP", [])
            .text([bold(status)])
            .text([roman(meaning)]);
    }
    roff.to_writer(out)?;
    page.render_version_section(out)
}
