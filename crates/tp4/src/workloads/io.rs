//! W6 io: T tasks each wait 10 ms (a simulated network or disk request) and return
//! `2 * id`, at most C at a time. Waiting costs no CPU, so the speed-up comes from
//! overlapping the waits, not from cores: the ideal wall time is ceil(T / C) × 10 ms
//! on any machine. Threads can do it up to a few thousand; async tasks scale to
//! hundreds of thousands because a waiting task is a small struct, not a stack.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The simulated I/O latency.
pub const LATENCY: Duration = Duration::from_millis(10);

/// The expected sum of results: Σ 2·id = T(T-1).
pub fn expected_sum(t: u64) -> u64 {
    t * t.saturating_sub(1)
}

/// The ideal wall time in seconds: ceil(T / C) waves of 10 ms.
pub fn ideal_seconds(t: u64, c: usize) -> f64 {
    t.div_ceil(c.max(1) as u64) as f64 * LATENCY.as_secs_f64()
}

/// One task, blocking version.
fn task_blocking(id: u64) -> u64 {
    std::thread::sleep(LATENCY);
    2 * id
}

/// One after the other: T × 10 ms.
pub fn seq(t: u64) -> u64 {
    (0..t).map(task_blocking).sum()
}

/// C std threads take task ids from a shared atomic counter.
pub fn threads(t: u64, c: usize) -> u64 {
    let next = AtomicU64::new(0);
    let total = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..c.max(1).min(t.max(1) as usize) {
            s.spawn(|| loop {
                let id = next.fetch_add(1, Ordering::Relaxed);
                if id >= t {
                    break;
                }
                total.fetch_add(task_blocking(id), Ordering::Relaxed);
            });
        }
    });
    total.into_inner()
}

/// Waits `d` asynchronously, precisely. Tokio's timer counts whole milliseconds and
/// rounds a deadline up to the next tick, so `tokio::time::sleep(10 ms)` lasts 10 to
/// 11 ms, and tasks started just after a tick (every wave after the first) wait
/// 11 ms: +10 % on W6. Here the timer sleeps to 1 ms before the deadline, then the
/// task yields to the scheduler (letting other tasks run) until the deadline has
/// passed: the wait is ≥ `d` and at most a few microseconds longer.
pub async fn precise_sleep(d: Duration) {
    let deadline = tokio::time::Instant::now() + d;
    if let Some(coarse) = d.checked_sub(Duration::from_millis(1)) {
        tokio::time::sleep(coarse).await;
    }
    while tokio::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
}

/// Tokio: T async tasks, at most C waiting at once (a semaphore of C permits); each
/// waits with [`precise_sleep`]. A permit is taken before a task is spawned, so at
/// most C tasks are alive: memory stays at a few tens of kB whatever T (spawning all
/// T tasks first and letting them queue on the semaphore cost 44 MB and +1 % of time
/// at T = 100 000). The runtime is created and dropped inside the call
/// (safe in a notebook cell).
pub fn tokio(t: u64, c: usize) -> u64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(crate::machine::usable_cpus())
        .enable_time()
        .build()
        .expect("cannot start the tokio runtime");
    rt.block_on(async move {
        let limit = Arc::new(tokio::sync::Semaphore::new(c.max(1)));
        let mut set = tokio::task::JoinSet::new();
        let mut sum = 0;
        for id in 0..t {
            // Take a permit before spawning: at most C tasks exist at once, so the
            // spawning loop does not queue T waiters on the semaphore.
            let permit = Arc::clone(&limit)
                .acquire_owned()
                .await
                .expect("semaphore closed");
            set.spawn(async move {
                precise_sleep(LATENCY).await;
                drop(permit);
                2 * id
            });
            while let Some(r) = set.try_join_next() {
                sum += r.expect("an io task panicked");
            }
        }
        while let Some(r) = set.join_next().await {
            sum += r.expect("an io task panicked");
        }
        sum
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_strategies_sum_right() {
        assert_eq!(seq(5), expected_sum(5));
        assert_eq!(threads(50, 10), expected_sum(50));
        assert_eq!(tokio(200, 20), expected_sum(200));
        assert_eq!(tokio(0, 20), 0);
    }

    #[test]
    fn precise_sleep_waits_at_least_the_latency() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        for ms in [0, 1, 10] {
            let d = Duration::from_millis(ms);
            let start = std::time::Instant::now();
            rt.block_on(precise_sleep(d));
            assert!(start.elapsed() >= d, "{ms} ms");
        }
    }

    #[test]
    fn ideal_time() {
        assert!((ideal_seconds(1000, 100) - 0.1).abs() < 1e-12);
        assert!((ideal_seconds(1001, 100) - 0.11).abs() < 1e-12);
    }
}
