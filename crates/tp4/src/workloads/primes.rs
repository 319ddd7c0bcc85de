//! W1 primes: count the primes below N by trial division. Deliberately CPU-bound and
//! uneven: testing a large number costs more than testing a small one, and most odd
//! numbers are rejected after one or two divisions while primes need them all. This
//! unevenness is what makes static chunking unbalanced and work stealing shine.

use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Count of primes below 2_000_000 (workloads.md).
pub const PRIMES_BELOW_2M: u64 = 148_933;

/// Trial division by odd divisors up to √n.
#[inline]
pub fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n.is_multiple_of(2) {
        return n == 2;
    }
    let mut d = 3;
    while d * d <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 2;
    }
    true
}

/// Sequential count of primes in `lo..hi`.
pub fn count_range(lo: u64, hi: u64) -> u64 {
    (lo..hi).filter(|&k| is_prime(k)).count() as u64
}

/// Sequential count of primes below `n`.
pub fn count_seq(n: u64) -> u64 {
    count_range(0, n)
}

/// Static chunking: `workers` std threads each take one contiguous range of equal
/// length. The last range holds the biggest (costliest) numbers: imbalance.
pub fn count_threads(n: u64, workers: usize) -> u64 {
    count_threads_busy(n, workers).0
}

/// [`count_threads`] that also returns how long each thread was busy: the last
/// threads, whose numbers are larger, work longer while the first ones sit idle.
pub fn count_threads_busy(n: u64, workers: usize) -> (u64, Vec<Duration>) {
    let workers = workers.max(1) as u64;
    let parts: Vec<(u64, Duration)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                s.spawn(move || {
                    let start = Instant::now();
                    let c = count_range(n * w / workers, n * (w + 1) / workers);
                    (c, start.elapsed())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a prime-counting thread panicked"))
            .collect()
    });
    (
        parts.iter().map(|p| p.0).sum(),
        parts.into_iter().map(|p| p.1).collect(),
    )
}

/// Work stealing instrumented: rayon on a pool of `workers` threads over blocks of
/// 1024 numbers, returning the count and the busy time of each pool thread. Idle
/// threads steal blocks, so the busy times come out nearly equal.
pub fn count_rayon_busy(n: u64, workers: usize) -> (u64, Vec<Duration>) {
    const BLOCK: u64 = 1024;
    let busy: Vec<AtomicU64> = (0..workers.max(1)).map(|_| AtomicU64::new(0)).collect();
    let count = super::pool(workers).install(|| {
        (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| {
                let start = Instant::now();
                let c = count_range(b * BLOCK, ((b + 1) * BLOCK).min(n));
                let i = rayon::current_thread_index().unwrap_or(0);
                busy[i].fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
                c
            })
            .sum()
    });
    let busy = busy
        .into_iter()
        .map(|a| Duration::from_nanos(a.into_inner()))
        .collect();
    (count, busy)
}

/// Work stealing with rayon on the current pool (use `pool.install` to choose the
/// number of workers): the range is split recursively and idle workers steal halves.
pub fn count_rayon(n: u64) -> u64 {
    (0..n).into_par_iter().filter(|&k| is_prime(k)).count() as u64
}

/// An independent reference for any N: the sieve of Eratosthenes.
pub fn reference_count(n: u64) -> u64 {
    if n < 3 {
        return 0;
    }
    let n = n as usize;
    let mut composite = vec![false; n];
    let mut count = 0;
    for i in 2..n {
        if !composite[i] {
            count += 1;
            let mut j = i * i;
            while j < n {
                composite[j] = true;
                j += i;
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cases() {
        let primes: Vec<u64> = (0..30).filter(|&k| is_prime(k)).collect();
        assert_eq!(primes, vec![2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
        assert!(!is_prime(1) && !is_prime(0) && !is_prime(9) && !is_prime(25));
    }

    #[test]
    fn strategies_agree_with_the_sieve() {
        let n = 100_000;
        let expected = reference_count(n);
        assert_eq!(expected, 9_592);
        assert_eq!(count_seq(n), expected);
        assert_eq!(count_threads(n, 3), expected);
        assert_eq!(count_rayon(n), expected);
        let (c, busy) = count_threads_busy(n, 2);
        assert_eq!((c, busy.len()), (expected, 2));
        let (c, busy) = count_rayon_busy(n, 3);
        assert_eq!((c, busy.len()), (expected, 3));
        assert_eq!(count_rayon_busy(1000, 2).0, 168);
    }

    #[test]
    fn reference_matches_workloads_md() {
        assert_eq!(reference_count(2_000_000), PRIMES_BELOW_2M);
    }
}
