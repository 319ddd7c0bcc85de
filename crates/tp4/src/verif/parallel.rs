//! Threads an answer leaves behind: [`still_running_after`] runs a student's
//! function and counts the threads it created that are still running when it
//! returns (a forgotten `join`, question 4.2). The threads are recognised by a
//! unique name the caller gives itself for the call: threads it creates inherit it
//! (Linux copies a thread's name to the threads it creates).
//!
//! Whether an answer is parallel is not decided here: [`crate::verif::work`] hands
//! the answer the work itself and sees which threads did it. [`TRIES`] is the number
//! of runs the checkers give a right answer before they conclude.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How many times a checker runs a right answer before saying that it ran on one
/// thread, or that its result is wrong (a wrong answer is rejected at each try; a
/// right one may be unlucky on a loaded machine: its second thread found nothing
/// left to steal).
pub const TRIES: usize = 5;

static NEXT: AtomicU64 = AtomicU64::new(0);

/// Runs `f` and counts the threads it created that are still running when it
/// returns: a function that spawns threads and returns without waiting for them
/// (no `join`) leaves them behind, and what it read from them is incomplete. The
/// threads are recognised by the name they inherit from the caller (Linux); where
/// names cannot be set, the count is 0.
pub fn still_running_after<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let marker = format!("tp4run{}", NEXT.fetch_add(1, Ordering::Relaxed) % 1_000_000);
    let renamed = Rename::to(&marker);
    let out = f();
    let me = current_tid();
    let alive = || {
        marked_threads(&marker)
            .into_iter()
            .filter(|&t| t != me && !exited(t))
            .count()
    };
    let running = if renamed.is_some() {
        let deadline = Instant::now() + EXIT_GRACE;
        loop {
            let n = alive();
            if n == 0 || Instant::now() >= deadline {
                break n;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    } else {
        0
    };
    (out, running)
}

/// How long [`still_running_after`] gives the threads it sees alive to finish their
/// exit: a thread of `std::thread::scope` that the answer did not join by hand has
/// ended its closure when the scope returns (the scope waits for that, not for
/// the thread), but the thread itself may still run its teardown for a moment and
/// was counted as left running. A thread left running by a missing `join` is still
/// working (or waiting) when the answer returns and lasts well beyond that.
const EXIT_GRACE: Duration = Duration::from_millis(10);

/// Whether thread `tid` of this process is gone or only finishing its exit
/// (states "Z" and "X"): a thread that was joined may linger there a moment.
fn exited(tid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else {
        return true;
    };
    let state = stat
        .rfind(')')
        .and_then(|i| stat.get(i + 2..))
        .and_then(|r| r.chars().next());
    matches!(state, Some('Z' | 'X') | None)
}

/// Gives the calling thread a name for a while (its old name comes back on drop);
/// threads it creates inherit the name.
struct Rename(String);

impl Rename {
    fn to(name: &str) -> Option<Rename> {
        let path = "/proc/thread-self/comm";
        let old = std::fs::read_to_string(path).ok()?;
        std::fs::write(path, name).ok()?;
        Some(Rename(old.trim_end().to_string()))
    }
}

impl Drop for Rename {
    fn drop(&mut self) {
        let _ = std::fs::write("/proc/thread-self/comm", &self.0);
    }
}

/// Every live thread of this process whose name is `marker` (a thread that ends
/// while it is read is left out).
fn marked_threads(marker: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|entry| {
            let tid = entry.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            (comm.trim_end() == marker).then_some(tid)
        })
        .collect()
}

/// The Linux thread id of the calling thread.
fn current_tid() -> u32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::gettid() as u32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(n: u64) -> u64 {
        (0..n)
            .map(|i| std::hint::black_box(i).wrapping_mul(i) % 7)
            .sum()
    }

    #[test]
    fn threads_left_running_are_counted() {
        let (_, left) = still_running_after(|| {
            std::thread::spawn(|| std::thread::sleep(Duration::from_millis(200)));
        });
        assert_eq!(left, 1);
        let (_, left) = still_running_after(|| {
            std::thread::spawn(|| work(1_000)).join().unwrap();
        });
        assert_eq!(left, 0);
    }

    /// Any mix of threads left running, threads joined and scoped threads (joined by
    /// the end of their scope): only those left running are counted, and threads the checker had
    /// before the call never are.
    #[test]
    fn only_the_threads_left_running_are_counted() {
        let before: Vec<_> = (0..2)
            .map(|_| std::thread::spawn(|| std::thread::sleep(Duration::from_millis(300))))
            .collect();
        for (left, joined) in [(0, 3), (2, 0), (3, 2), (1, 1)] {
            let ((), running) = still_running_after(|| {
                for _ in 0..left {
                    std::thread::spawn(|| std::thread::sleep(Duration::from_millis(300)));
                }
                let hs: Vec<_> = (0..joined)
                    .map(|_| std::thread::spawn(|| work(1_000)))
                    .collect();
                for h in hs {
                    h.join().unwrap();
                }
                // Scoped threads joined by the end of the scope, not by hand.
                std::thread::scope(|s| {
                    s.spawn(|| work(1_000));
                    s.spawn(|| work(2_000));
                });
            });
            assert_eq!(running, left, "{left} laissés, {joined} attendus");
        }
        for h in before {
            h.join().unwrap();
        }
    }
}
