//! Panic capture, installed once for the whole process.
//!
//! A checker runs a student's answer, which may panic (a `todo!()`, an `unwrap` on
//! `None`, a failed assertion in a spawned thread): the panic must become a French
//! verdict, without the default hook printing "thread panicked at …" in the notebook.
//! Swapping the global hook around each call (take, set, restore) races when two
//! checkers run at once (parallel tests, a checker that spawns threads): one can
//! restore the silent hook of the other, which then stays installed for good.
//!
//! Here the hook is installed once ([`std::sync::Once`]); it forwards to the hook that
//! was there before unless at least one [`Silence`] guard is alive. Guards nest and
//! may be held on several threads at once.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

/// How many [`Silence`] guards are alive.
static SILENCERS: AtomicUsize = AtomicUsize::new(0);
/// Installs the forwarding hook once.
static INSTALL: Once = Once::new();

/// Installs the forwarding hook (idempotent). Called by [`Silence::new`]; a process
/// that installs its own hook afterwards (the cluster's abort-on-panic) keeps it.
pub fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if SILENCERS.load(Ordering::SeqCst) == 0 {
                previous(info);
            }
        }));
    });
}

/// While a `Silence` is alive, panics print nothing (they still unwind and are
/// caught by the caller).
#[must_use = "panics are silenced only while the guard is alive"]
pub struct Silence(());

impl Silence {
    /// Silences panic messages until the guard is dropped.
    pub fn new() -> Self {
        install();
        SILENCERS.fetch_add(1, Ordering::SeqCst);
        Silence(())
    }
}

impl Default for Silence {
    fn default() -> Self {
        Silence::new()
    }
}

impl Drop for Silence {
    fn drop(&mut self) {
        SILENCERS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The message of a panic payload (`panic!("…")` gives a `&str` or a `String`).
pub fn message(payload: &(dyn Any + Send)) -> String {
    crate::error::panic_message(payload)
}

/// Runs `f`, turning a panic into `Err(message)` without printing it.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let _quiet = Silence::new();
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| message(&*p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(catch(|| 42), Ok(42));
        assert_eq!(catch(|| -> u8 { panic!("boum") }), Err("boum".to_string()));
        let n = 3;
        assert_eq!(
            catch(|| -> u8 { panic!("n = {n}") }),
            Err("n = 3".to_string())
        );
    }

    #[test]
    fn nested_and_concurrent_captures_each_get_their_own_message() {
        std::thread::scope(|s| {
            for t in 0..8 {
                s.spawn(move || {
                    for i in 0..100 {
                        let inner = catch(|| catch(|| -> u8 { panic!("{t}-{i}") }));
                        assert_eq!(inner, Ok(Err(format!("{t}-{i}"))));
                    }
                });
            }
        });
    }
}
