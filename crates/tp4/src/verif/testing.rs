//! Helpers of the checkers' own tests (compiled for tests only): the assertion
//! that a verdict refused an answer for the right reason, and the disguises of a
//! sequential answer that every "is the work really parallel" check must see
//! through (a thread that spins, threads that sleep, beside work done on the
//! calling thread).

use super::{Status, Verdict};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Asserts that `v` failed with `what` in its case, expected value, answer or
/// hint.
pub(crate) fn refused_for(v: &Verdict, what: &str) {
    refused_for_any(v, &[what]);
}

/// Asserts that `v` failed with one of `any` in its case, expected value, answer
/// or hint. The message is printed before the assertion fails: the checkers that
/// run under a deadline silence panic messages while they run.
pub(crate) fn refused_for_any(v: &Verdict, any: &[&str]) {
    let ok = match &v.status {
        Status::Failed(f) => {
            let text = format!("{} | {} | {} | {}", f.case, f.expected, f.got, f.hint);
            any.iter().any(|w| text.contains(w))
        }
        _ => false,
    };
    if !ok {
        eprintln!("expected one of {any:?} in: {v}");
    }
    assert!(ok, "expected one of {any:?} in: {v}");
}

/// Runs `f` on the calling thread while a second thread spins until `f` has
/// returned: a sequential answer beside a thread that looks busy.
pub(crate) fn beside_a_spinning_thread<T>(f: impl FnOnce() -> T) -> T {
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        });
        let out = f();
        done.store(true, Ordering::Relaxed);
        out
    })
}

/// Runs `f` on the calling thread beside `threads` threads that only sleep `ms`
/// milliseconds each (all joined before it returns): a sequential answer that
/// spawns threads.
pub(crate) fn beside_sleeping_threads<T>(threads: usize, ms: u64, f: impl FnOnce() -> T) -> T {
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(move || std::thread::sleep(Duration::from_millis(ms)));
        }
        f()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_helpers_run_the_work_on_the_calling_thread() {
        let me = std::thread::current().id();
        assert_eq!(beside_a_spinning_thread(|| std::thread::current().id()), me);
        assert_eq!(
            beside_sleeping_threads(3, 1, || std::thread::current().id()),
            me
        );
        let v = Verdict::failed("q", 0, "cas", "1", "2", "indice");
        refused_for(&v, "indice");
        refused_for_any(&v, &["absent", "cas"]);
        let passed = Verdict::new("q", 1, Status::Passed);
        assert!(std::panic::catch_unwind(|| refused_for(&passed, "q")).is_err());
        assert!(std::panic::catch_unwind(|| refused_for(&v, "absent")).is_err());
    }
}
