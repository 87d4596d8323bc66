//! Keeping panics away from a host's standard error.
//!
//! A panic in drg is a bug; the CLI prints it like any Rust program. But the
//! C library and the Python module run inside someone else's process, where a
//! Rust backtrace on standard error is noise the host cannot control: their
//! entry points catch the panic and turn it into an error code or an
//! exception, and mark the running thread "quiet" so that the panic hook
//! prints nothing. Panics on other threads (or in other Rust code of the same
//! process) still go to the hook that was there before.

use std::cell::Cell;
use std::sync::Once;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Whether panics on this thread are kept quiet.
pub fn is_quiet() -> bool {
    QUIET.with(Cell::get)
}

/// Marks this thread quiet or not; threads drg starts itself (see
/// [`crate::parallel::par_map`]) inherit the mark of the thread that starts
/// them.
pub fn set_quiet(quiet: bool) {
    QUIET.with(|q| q.set(quiet));
}

/// Installs, once per process, a panic hook that prints nothing for a panic on
/// a quiet thread and hands every other panic to the hook installed before.
pub fn install_quiet_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !is_quiet() {
                previous(info);
            }
        }));
    });
}

/// Runs `body` on this thread with panics kept quiet (the hook installed),
/// and returns its result or the panic's message.
pub fn catch_quietly<T>(body: impl FnOnce() -> T) -> Result<T, String> {
    install_quiet_hook();
    let was_quiet = is_quiet();
    set_quiet(true);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
    set_quiet(was_quiet);
    result.map_err(|panic| {
        panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(catch_quietly(|| 5), Ok(5));
        assert_eq!(catch_quietly(|| -> u8 { panic!("boom {}", 1) }), Err("boom 1".to_string()));
        assert!(!is_quiet());
        let from_worker = catch_quietly(|| crate::parallel::par_map(&[1, 2, 3, 4], 2, |&x| if x == 3 { panic!("three") } else { x }));
        assert_eq!(from_worker, Err("three".to_string()));
    }
}
