//! SIGINT, SIGTERM and SIGHUP: on a thread of its own, the first one to come
//! removes the temporary files and clears what is on the screen, then ends
//! the process by that signal, so that a parent (a shell loop, a job
//! runner) sees the death by the signal and stops too. Outputs already
//! renamed into place are complete and stay.

use std::io;
use std::mem::MaybeUninit;

use libc::c_int;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use signal_hook::low_level::emulate_default_handler;

use super::print;

/// Handles the signals that end a run, except those inherited as ignored
/// (as `nohup` leaves SIGHUP), which stay ignored.
pub fn handle() -> io::Result<()> {
    let wanted: Vec<c_int> = [SIGINT, SIGTERM, SIGHUP]
        .into_iter()
        .filter(|&signal| !inherited_as_ignored(signal))
        .collect();
    let mut signals = Signals::new(&wanted)?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                rcrop::abandon_outputs();
                print::interrupted();
                // Restores the default action and raises the signal again.
                let _ = emulate_default_handler(signal);
            }
        })?;
    Ok(())
}

/// Whether `signal` was ignored when the program started.
fn inherited_as_ignored(signal: c_int) -> bool {
    let mut current = MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: with no new action, sigaction only writes the current one
    // into `current`, which is valid for writes.
    let read = unsafe { libc::sigaction(signal, std::ptr::null(), current.as_mut_ptr()) };
    // SAFETY: sigaction filled `current` in when it returned 0; a zeroed
    // sigaction is valid besides.
    read == 0 && unsafe { current.assume_init() }.sa_sigaction == libc::SIG_IGN
}
