//! Timing a computation the way a careful experimenter does: warm-up runs first
//! (caches, page faults, lazy pools), then several timed repetitions, and the median
//! reported with the min–max spread. The median resists the outliers that a shared
//! machine produces (another process waking up); the mean does not.
//!
//! A [`Measurement`] is one row of results (workload × strategy × workers): it is
//! written as a CSV row and as the JSON line of `../shared/workloads.md`.

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// How many times to run a computation.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Untimed runs before the timed ones.
    pub warmup: usize,
    /// Timed runs (at least 1).
    pub repetitions: usize,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            warmup: 1,
            repetitions: 5,
        }
    }
}

/// Wall times of the timed runs of a computation.
#[derive(Debug, Clone, PartialEq)]
pub struct Timings {
    /// One duration per timed run, in run order.
    pub samples: Vec<Duration>,
}

impl Timings {
    fn sorted_secs(&self) -> Vec<f64> {
        let mut s: Vec<f64> = self.samples.iter().map(Duration::as_secs_f64).collect();
        s.sort_by(f64::total_cmp);
        s
    }

    /// The median in seconds (see [`median`]).
    pub fn median(&self) -> f64 {
        median(&self.sorted_secs())
    }

    /// The mean in seconds.
    pub fn mean(&self) -> f64 {
        let s = self.sorted_secs();
        s.iter().sum::<f64>() / s.len() as f64
    }

    /// The fastest run in seconds.
    pub fn min(&self) -> f64 {
        self.sorted_secs().first().copied().unwrap_or(f64::NAN)
    }

    /// The slowest run in seconds.
    pub fn max(&self) -> f64 {
        self.sorted_secs().last().copied().unwrap_or(f64::NAN)
    }

    /// Relative spread `(max - min) / median`: above 10-20 %, the machine was busy
    /// and the figure should be taken with care.
    pub fn spread(&self) -> f64 {
        (self.max() - self.min()) / self.median()
    }
}

/// Runs `f` according to `plan` and returns the timings and the value of the last
/// run. The value goes through [`std::hint::black_box`] so that the compiler cannot
/// drop a computation whose result looks unused.
pub fn time<T>(plan: Plan, mut f: impl FnMut() -> T) -> (Timings, T) {
    for _ in 0..plan.warmup {
        std::hint::black_box(f());
    }
    let mut samples = Vec::with_capacity(plan.repetitions.max(1));
    let mut last = None;
    for _ in 0..plan.repetitions.max(1) {
        let start = Instant::now();
        let v = std::hint::black_box(f());
        samples.push(start.elapsed());
        last = Some(v);
    }
    (Timings { samples }, last.expect("at least one repetition"))
}

/// Like [`time`], also returning the peak heap bytes over the timed runs (`None`
/// when the tracking allocator is not installed).
pub fn time_with_memory<T>(plan: Plan, mut f: impl FnMut() -> T) -> (Timings, T, Option<u64>) {
    let mut peak: Option<u64> = None;
    let (t, v) = time(plan, || {
        let (v, p) = crate::alloc::measure_peak(&mut f);
        peak = match (peak, p) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        v
    });
    (t, v, peak)
}

/// One result row: a workload run with one strategy on a number of workers. Fields
/// and names are those of the JSON lines of `../shared/workloads.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Workload name (`primes`, `pi`, ..., or a demonstration name).
    pub workload: String,
    /// Strategy (`seq`, `threads`, `rayon`, `processes`, `tokio`, ...).
    pub strategy: String,
    /// Number of workers (1 for a sequential strategy).
    pub workers: usize,
    /// Problem size (N, S, M, rows, K, T or corpus bytes).
    pub size: u64,
    /// Median wall time in seconds.
    pub seconds: f64,
    /// Fastest run in seconds.
    pub min: f64,
    /// Slowest run in seconds.
    pub max: f64,
    /// Number of timed runs.
    pub runs: usize,
    /// The answer computed (a number for most workloads).
    pub answer: serde_json::Value,
    /// Whether the answer passed the check of workloads.md.
    pub ok: bool,
    /// Peak heap bytes during the runs (`null` if unmeasured).
    pub peak_heap_bytes: Option<u64>,
    /// Median process CPU time of the timed runs in seconds (user + system, every
    /// thread), measured where it teaches something (W6: waiting should cost no
    /// CPU); absent from the JSON line when not measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_seconds: Option<f64>,
}

impl Measurement {
    /// Builds a row from timings.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        workload: &str,
        strategy: &str,
        workers: usize,
        size: u64,
        timings: &Timings,
        answer: serde_json::Value,
        ok: bool,
        peak_heap_bytes: Option<u64>,
    ) -> Self {
        Measurement {
            workload: workload.into(),
            strategy: strategy.into(),
            workers,
            size,
            seconds: timings.median(),
            min: timings.min(),
            max: timings.max(),
            runs: timings.samples.len(),
            answer,
            ok,
            peak_heap_bytes,
            cpu_seconds: None,
        }
    }

    /// The JSON line of workloads.md (no trailing newline).
    pub fn json_line(&self) -> String {
        serde_json::to_string(self).expect("a measurement always serialises")
    }
}

/// The CPU time this process has used so far, user and system, over all its threads
/// (`getrusage(RUSAGE_SELF)`; zero if the call fails). The difference of two readings
/// around a computation is the CPU it used, to set beside its wall time: a program
/// that waits (W6) should use almost none.
pub fn process_cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given, zeroed here.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage` for the call's duration.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// The median of timings, the lab's one median: the mean of the two middle values
/// for an even count, `NaN` for no value (never a panic). It resists an outlier,
/// which the mean does not.
pub fn median(values: &[f64]) -> f64 {
    let mut s = values.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// Speedup of `t` against the baseline time `base` (`base / t`).
pub fn speedup(base: f64, t: f64) -> f64 {
    base / t
}

/// Parallel efficiency: speedup divided by the number of workers.
pub fn efficiency(base: f64, t: f64, workers: usize) -> f64 {
    speedup(base, t) / workers as f64
}

/// Formats seconds for a French table: "1,234 s", "12,3 ms", "850 µs".
pub fn human_seconds(s: f64) -> String {
    crate::fr::seconds(s)
}

/// Formats a ratio with a French decimal comma ("1,97").
pub fn human_ratio(x: f64) -> String {
    crate::fr::ratio(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: &[u64]) -> Timings {
        Timings {
            samples: ms.iter().map(|&m| Duration::from_millis(m)).collect(),
        }
    }

    #[test]
    fn process_cpu_time_grows_with_work() {
        let before = process_cpu_time();
        let mut x = 0u64;
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(50) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        assert!(process_cpu_time() > before);
    }

    #[test]
    fn the_median_takes_the_middle_pair_and_accepts_no_value() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn median_resists_an_outlier() {
        let x = t(&[10, 11, 12, 13, 500]);
        assert!((x.median() - 0.012).abs() < 1e-12);
        assert!(x.mean() > 0.1);
        assert!((x.min() - 0.010).abs() < 1e-12);
        assert!((x.max() - 0.5).abs() < 1e-12);
        assert!((t(&[10, 20]).median() - 0.015).abs() < 1e-12);
    }

    #[test]
    fn time_runs_warmup_and_repetitions() {
        let mut calls = 0;
        let (timings, last) = time(
            Plan {
                warmup: 2,
                repetitions: 3,
            },
            || {
                calls += 1;
                calls
            },
        );
        assert_eq!(calls, 5);
        assert_eq!(last, 5);
        assert_eq!(timings.samples.len(), 3);
    }

    #[test]
    fn json_line_has_the_fields_of_workloads_md() {
        let m = Measurement::new(
            "primes",
            "rayon",
            2,
            2_000_000,
            &t(&[400, 410, 430]),
            148_933.into(),
            true,
            Some(1024),
        );
        let v: serde_json::Value = serde_json::from_str(&m.json_line()).unwrap();
        for k in [
            "workload",
            "strategy",
            "workers",
            "size",
            "seconds",
            "min",
            "max",
            "runs",
            "answer",
            "ok",
            "peak_heap_bytes",
        ] {
            assert!(v.get(k).is_some(), "missing {k}");
        }
        assert_eq!(v["answer"], 148_933);
        assert_eq!(v["seconds"], 0.41);
    }

    #[test]
    fn french_formats() {
        assert_eq!(human_seconds(1.2345), "1,234 s");
        assert_eq!(human_seconds(0.0123), "12,3 ms");
        assert_eq!(human_ratio(1.966), "1,97");
    }
}
