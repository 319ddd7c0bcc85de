//! Where the time of a run goes, per worker: process launch, TCP connections, map,
//! shuffle, reduce, gather. The overheads of distribution are measured and shown,
//! not hidden: the COST of a cluster (the cores it needs to beat one good thread) is
//! made of them.
//!
//! Every time is measured inside the process that spends it, from the instant the
//! process entered its run ([`mark_process_start`]); only the launch is measured
//! across processes: the launcher gives its children, in [`LAUNCH_VARIABLE`], the
//! wall-clock time at which it started them (same machine, same clock).

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Environment variable where the launcher writes the wall-clock time (microseconds
/// since 1970) at which it started its children.
pub const LAUNCH_VARIABLE: &str = "TP4_CLUSTER_LANCEMENT";

/// The instant this process entered its run, and the wall-clock time then.
static PROCESS_START: OnceLock<(Instant, SystemTime)> = OnceLock::new();

/// Marks the start of this process's run (the first call wins).
pub fn mark_process_start() {
    PROCESS_START.get_or_init(|| (Instant::now(), SystemTime::now()));
}

/// Seconds since [`mark_process_start`] (marked now if it was not).
pub fn since_start() -> f64 {
    PROCESS_START
        .get_or_init(|| (Instant::now(), SystemTime::now()))
        .0
        .elapsed()
        .as_secs_f64()
}

/// The value of [`LAUNCH_VARIABLE`] for children started now.
pub fn launch_stamp() -> String {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    micros.to_string()
}

/// Seconds from the launcher's start of the children (`stamp`, the value of
/// [`LAUNCH_VARIABLE`]) to the start of this process's run; `None` without a
/// launcher (processes started by hand) or with an unreadable stamp.
pub fn launch_seconds(stamp: Option<&str>) -> Option<f64> {
    let micros: u128 = stamp?.trim().parse().ok()?;
    let start = PROCESS_START
        .get_or_init(|| (Instant::now(), SystemTime::now()))
        .1;
    let now = start.duration_since(UNIX_EPOCH).ok()?.as_micros();
    Some(now.checked_sub(micros)? as f64 * 1e-6)
}

/// The times of one worker, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerPhases {
    /// The global index of the worker.
    pub worker: u32,
    /// Its process.
    pub process: u32,
    /// From the launcher's start of the processes to the start of this one's run
    /// (program loading, argument checks); `None` without a launcher.
    pub launch: Option<f64>,
    /// From the start of the run to the start of the dataflow: TCP connections to
    /// the other processes, handshake, timely's worker threads.
    pub connect: f64,
    /// Reading and mapping its range, combiner included.
    pub map: f64,
    /// From the end of its map to the moment its reducer has every pair (waiting for
    /// the slowest mapper and for the network), reduce work excluded.
    pub shuffle: f64,
    /// Adding up the pairs it received, then handing its totals on.
    pub reduce: f64,
    /// Worker 0 only: from its own totals to holding every worker's (the gather).
    pub gather: Option<f64>,
    /// From the start of the run to the end of its dataflow.
    pub total: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_is_measured_from_the_stamp() {
        mark_process_start();
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_micros()
            - 1_000_000_000;
        // A stamp 1000 s ago: the test process started after it.
        let s = launch_seconds(Some(&before.to_string())).unwrap();
        assert!(s > 0.0 && s <= 1000.0, "{s}");
        assert_eq!(launch_seconds(None), None);
        assert_eq!(launch_seconds(Some("abc")), None);
        assert!(since_start() >= 0.0);
        assert!(launch_stamp().parse::<u128>().unwrap() > before);
    }
}
