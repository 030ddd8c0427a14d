//! Third-party codecs behind a guard: a panic inside one becomes an error
//! naming the format and what failed, instead of ending the process. While
//! a guarded codec runs on a thread, the panic hook stays silent for it;
//! panics anywhere else are reported as before.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use super::RasterError;

thread_local! {
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

static QUIET_HOOK: Once = Once::new();

/// Runs `codec`, turning a panic inside it into [`RasterError::Panic`].
pub(super) fn guarded<T, E: From<RasterError>>(
    format: &'static str,
    codec: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was = GUARDED.with(|g| g.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(codec));
    GUARDED.with(|g| g.set(was));
    result.unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(RasterError::Panic { format, message }.into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_becomes_an_error() {
        let err = guarded::<(), RasterError>("TIFF", || panic!("assertion failed: buf.len() >= 4"))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("the TIFF codec failed (assertion failed: buf.len() >= 4)"),
            "{err}"
        );
        assert_eq!(guarded::<_, RasterError>("PNG", || Ok(7)).unwrap(), 7);
        assert!(!GUARDED.with(Cell::get));
    }
}
