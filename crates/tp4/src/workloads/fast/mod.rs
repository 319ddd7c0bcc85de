//! The optimisation ladder of exercise 7 ("L'échelle d'optimisation", issue 15): for
//! W1 primes, W2 pi, W4 groupby and W7 wordcount, a series of kernels ("rungs") that
//! go step by step from the plain kernel the exercises teach to near what this
//! machine can do. Every rung is a real function that the lab measures and whose
//! answer it checks; the plain kernels of [`super`] stay untouched as the readable
//! baseline.
//!
//! Each workload module exposes the same surface:
//! - `ladder()`: the rungs in order, as data ([`Rung`]: a name, what changed, why it
//!   helps, and the kernel), for exercise 7's table and bar chart;
//! - `optimise(…, workers)`: the top rung, parallel over `workers` threads, started
//!   inside the call so that the worker count is the one asked for and starting the
//!   threads is inside the timing, as `workloads.md` requires (W1 and W2: a rayon
//!   pool built per call; W4 and W7: scoped threads over the mapped file,
//!   [`mapped`]). It is the strategy named [`STRATEGY`] in `tp4 bench`.
//!
//! Every rung of one workload has the same signature (the worker count is ignored by
//! the sequential rungs), so a caller can loop over `ladder()` and time each one.

pub mod groupby;
pub mod mapped;
pub mod pi;
pub mod primes;
pub mod sigbus;
pub mod sumsq;
pub mod wordcount;

/// The name of the optimised strategy in `Workload::strategies()`, the JSON lines
/// and the plots.
pub const STRATEGY: &str = "optimise";

/// One rung of an optimisation ladder: a kernel and what it teaches.
#[derive(Debug, Clone, Copy)]
pub struct Rung<K> {
    /// Short identifier, stable (results, plots): `"u64"`, `"inverse"`, `"optimise"`…
    pub name: &'static str,
    /// What changed from the rung below, in French, one line.
    pub changed: &'static str,
    /// Why it is faster (fewer instructions, no branch mispredictions, vector lanes,
    /// less memory traffic…), in French, one line.
    pub why: &'static str,
    /// Whether the kernel uses the worker count (only the top rung does).
    pub parallel: bool,
    /// The kernel.
    pub run: K,
}

/// A rayon pool of exactly `workers` threads (at least one), built for one call.
pub(crate) fn pool(workers: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers.max(1))
        .build()
        .expect("cannot build a rayon pool")
}

/// Times `f` 5 times (after one warm-up run) and returns the median wall time and the
/// median CPU time of the calling thread, in seconds: on a shared, loaded machine the
/// CPU time of a sequential rung stays close to its quiet-run wall time.
#[cfg(test)]
pub(crate) fn time_rung<T>(mut f: impl FnMut() -> T, check: impl Fn(&T)) -> (f64, f64) {
    let cpu = || {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(f64::NAN, |ns| ns * 1e-9)
    };
    check(&f());
    let (mut walls, mut cpus) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let (w0, c0) = (std::time::Instant::now(), cpu());
        let v = f();
        walls.push(w0.elapsed().as_secs_f64());
        cpus.push(cpu() - c0);
        check(&v);
    }
    (
        crate::measure::median(&walls),
        crate::measure::median(&cpus),
    )
}
