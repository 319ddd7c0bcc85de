//! Exercise 4 — Introduction au multiprocessing: threads and real OS processes,
//! static chunking versus work stealing, fixed pools, reproducible random streams,
//! Amdahl's law, and why Rust needs no GIL (`Send`/`Sync`).
//!
//! One public function per question, each the reference answer; the checkers are in
//! [`verif`] (`ex4::verif::qN_...`), they take the student's function and return a
//! French [`Verdict`](crate::verif::Verdict). [`demo`](demo::demo) is what
//! `tp4 exercice 4` runs, one function per step. The parallel code is the one of
//! [`crate::workloads`] and [`crate::procs`], the same that `tp4 bench` measures.

pub mod demo;
pub mod live;
pub mod verif;

pub use crate::machine::load_note;
pub use demo::demo;

/// The title of the exercise, as the lab prints it.
pub const TITLE: &str = "Exercice 4 — Introduction au multiprocessing";

use crate::environment::{self, CpuQuota};
use crate::error::Result;
use crate::workloads::{self, pi, primes};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Q4.1 — How many CPUs may this process really use? The minimum of the affinity
/// mask (CPUs the scheduler lets us run on) and the cgroup quota rounded up (1.5
/// CPUs of quota still lets 2 threads progress). Pools are sized on this number, not
/// on the logical CPU count, which in a container may be far larger than the quota.
pub(crate) fn usable_cpus_from(affinity: usize, quota_cpus: Option<f64>) -> usize {
    environment::combine_usable(affinity, quota_cpus.map(CpuQuota::Cpus))
}

/// The three CPU counts of this machine.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuCounts {
    /// Logical CPUs (hyper-threads included): what `os.cpu_count()` shows.
    pub logical: usize,
    /// Physical cores, when the system tells.
    pub physical: Option<usize>,
    /// CPUs usable by this process (affinity and cgroup quota).
    pub usable: usize,
}

/// Q4.1 (measure) — the logical, physical and usable CPU counts of this machine.
pub fn cpu_counts() -> CpuCounts {
    CpuCounts {
        logical: environment::logical_cpus(),
        physical: sysinfo::System::physical_core_count(),
        usable: environment::usable_cpus(),
    }
}

/// Q4.2 — `std::thread::spawn` and `JoinHandle`: split `data` into `workers` owned
/// chunks (every element in exactly one chunk, the remainder included), sum each
/// chunk on its own thread, and add up the results returned by `join()`. The
/// threads own their chunk (`move`): a spawned thread may outlive the caller.
pub(crate) fn spawn_sum(data: Vec<u64>, workers: usize) -> u64 {
    let workers = workers.max(1);
    let size = data.len().div_ceil(workers).max(1);
    let handles: Vec<std::thread::JoinHandle<u64>> = data
        .chunks(size)
        .map(|c| {
            let chunk = c.to_vec();
            std::thread::spawn(move || chunk.iter().sum())
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("a summing thread panicked"))
        .sum()
}

/// Q4.3 — `std::thread::scope`: the maximum of a slice with `workers` threads that
/// borrow their part of `data` directly (no `Arc`, no copy): the scope guarantees
/// that every thread ends before `data` can be dropped. `None` for an empty slice.
pub(crate) fn scoped_max(data: &[i64], workers: usize) -> Option<i64> {
    if data.is_empty() {
        return None;
    }
    let size = data.len().div_ceil(workers.max(1));
    std::thread::scope(|s| {
        let handles: Vec<_> = data
            .chunks(size)
            .map(|c| s.spawn(move || c.iter().copied().max()))
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().expect("a max thread panicked"))
            .max()
    })
}

/// Q4.7 — A process of its own: start one worker process, wait for it, and return
/// the process id it reports (different from ours, and gone once waited for).
pub(crate) fn child_pid() -> Result<u32> {
    crate::procs::child_pid()
}

/// Q4.8 — A pool with a fixed number of workers, the counterpart of `Pool(n)`:
/// `rayon::ThreadPoolBuilder::new().num_threads(threads)` then `install`, inside
/// which every rayon call uses that pool. Returns the sum of squares and the number
/// of threads seen inside the pool (`rayon::current_num_threads()`).
pub(crate) fn pool_sum_squares(xs: &[u64], threads: usize) -> (u64, usize) {
    use rayon::prelude::*;
    workloads::pool(threads).install(|| {
        (
            xs.par_iter().map(|x| x * x).sum(),
            rayon::current_num_threads(),
        )
    })
}

/// Q4.9 — W2 Monte Carlo π with one seeded stream per worker: worker `w` draws from
/// stream `w` ([`pi::stream`]), so the estimate is the same at every run with the
/// same worker count (a shared or time-seeded generator would not be).
pub(crate) fn pi_streams(samples: u64, workers: usize) -> f64 {
    pi::estimate_threads(samples, workers)
}

/// Q4.10 — Amdahl's law: the speedup on `p` workers when a fraction `s` of the work
/// is serial, `1 / (s + (1 - s) / p)`, capped by `1 / s`.
pub(crate) fn amdahl_speedup(p: f64, s: f64) -> f64 {
    crate::models::amdahl(p, s)
}

/// Q4.11 — The serial fraction that explains measured speedups `(workers, speedup)`
/// best (least squares on `1/S - 1/p = s (1 - 1/p)`); `None` without a point at more
/// than one worker.
pub(crate) fn serial_fraction(points: &[(f64, f64)]) -> Option<f64> {
    crate::models::fit_serial_fraction(points)
}

/// Q4.12 — `Send`/`Sync`: `threads` threads each add 1 to a shared counter
/// `per_thread` times; the counter is an `Arc<AtomicU64>`, so the total is exact.
///
/// Python's GIL lets one thread run Python code at a time; Rust threads run truly in
/// parallel, and the compiler refuses any sharing that could race. An `Rc` (its
/// count is not atomic) cannot be sent to another thread:
///
/// ```compile_fail,E0277
/// use std::rc::Rc;
/// let counter = Rc::new(0u64);
/// let c = Rc::clone(&counter);
/// std::thread::spawn(move || println!("{c}")); // error: `Rc<u64>` cannot be sent between threads safely
/// ```
///
/// and a `RefCell` (its borrow flag is not atomic) cannot be shared between threads,
/// even inside an `Arc`:
///
/// ```compile_fail,E0277
/// use std::{cell::RefCell, sync::Arc};
/// let counter = Arc::new(RefCell::new(0u64));
/// let c = Arc::clone(&counter);
/// std::thread::spawn(move || *c.borrow_mut() += 1); // error: `RefCell<u64>` cannot be shared between threads safely
/// ```
///
/// The thread-safe versions compile: `Arc<Mutex<u64>>` or `Arc<AtomicU64>`:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// let counter = Arc::new(Mutex::new(0u64));
/// let c = Arc::clone(&counter);
/// std::thread::spawn(move || *c.lock().unwrap() += 1).join().unwrap();
/// assert_eq!(*counter.lock().unwrap(), 1);
/// ```
pub(crate) fn shared_counter(threads: usize, per_thread: u64) -> u64 {
    let counter = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let c = Arc::clone(&counter);
            std::thread::spawn(move || {
                for _ in 0..per_thread {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a counting thread panicked");
    }
    counter.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_times_show_the_imbalance_of_static_chunks() {
        // Answers only; the imbalance itself is measured in the demo.
        let (c, b) = primes::count_threads_busy(50_000, 2);
        assert_eq!(c, primes::reference_count(50_000));
        assert_eq!(b.len(), 2);
        assert_eq!(cpu_counts().usable, environment::usable_cpus());
    }
}
