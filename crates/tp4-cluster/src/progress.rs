//! How far this process's workers are in the run, for the launcher: the workers
//! note here when they finish their map step, and the heartbeat thread of a
//! supervised process reports it once all of them have (the protocol's
//! "map done" line). The launcher can then tell a process that is only slow from
//! the ones waiting for it, and name it long before the total delay.
//!
//! One run per process: the counters are process-wide.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Workers of this process that finished their map step.
static MAPPED: AtomicUsize = AtomicUsize::new(0);
/// The longest map step of those workers, in microseconds.
static LONGEST_MAP_MICROS: AtomicU64 = AtomicU64::new(0);

/// Notes that one worker of this process finished its map step, which took
/// `seconds`.
pub fn map_done(seconds: f64) {
    LONGEST_MAP_MICROS.fetch_max((seconds.max(0.0) * 1e6) as u64, Ordering::Relaxed);
    MAPPED.fetch_add(1, Ordering::Release);
}

/// `Some(longest map step in seconds)` once `threads` workers of this process have
/// finished their map step.
pub fn all_mapped(threads: usize) -> Option<f64> {
    (MAPPED.load(Ordering::Acquire) >= threads)
        .then(|| LONGEST_MAP_MICROS.load(Ordering::Relaxed) as f64 / 1e6)
}
