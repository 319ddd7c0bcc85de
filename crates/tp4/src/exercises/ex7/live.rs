//! What the notebook runs live in exercise 7 before the questions: task granularity
//! (W1 cut into tasks of a given size), false sharing (packed against padded
//! counters) and data layout (array of structures against structure of arrays).
//! The kernels are the library's answers to questions 7.2–7.4, private to the crate
//! so that a notebook cannot hand them in as its own; this module returns their
//! timings only, after checking each answer.

use super::{
    count_packed, count_padded, count_primes_chunked, records, sum_x_aos, sum_x_soa, to_soa,
};
use crate::measure::{time, Plan, Timings};
use crate::workloads::primes;

/// Times W1 below `n` cut into tasks of `chunk` numbers on `pool`; panics if the
/// count is not W1's reference (a bug of the library, not of the student).
pub fn time_chunked(pool: &rayon::ThreadPool, n: u64, chunk: u64, plan: Plan) -> Timings {
    let (t, count) = time(plan, || pool.install(|| count_primes_chunked(n, chunk)));
    assert_eq!(
        count,
        primes::reference_count(n),
        "tâches de {chunk} nombres"
    );
    t
}

/// Times `workers` threads adding 1 to their own counter `per_thread` times, the
/// counters next to each other in memory (`padded = false`: they share a cache line)
/// or each on its own line (`padded = true`).
pub fn time_counters(padded: bool, workers: usize, per_thread: u64, plan: Plan) -> Timings {
    let (t, total) = time(plan, || {
        if padded {
            count_padded(workers, per_thread)
        } else {
            count_packed(workers, per_thread)
        }
    });
    assert_eq!(total, workers as u64 * per_thread, "compteurs");
    t
}

/// Times the sum of one field over `n` records of 64 bytes stored as an array of
/// structures, then as a structure of arrays; returns both timings in that order.
pub fn time_layout(n: usize, plan: Plan) -> (Timings, Timings) {
    let aos = records(n);
    let soa = to_soa(&aos);
    let (t_aos, x1) = time(plan, || sum_x_aos(&aos));
    let (t_soa, x2) = time(plan, || sum_x_soa(&soa));
    assert_eq!(x1, x2, "les deux dispositions doivent donner la même somme");
    (t_aos, t_soa)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_live_measurement_checks_its_answer_and_times_it() {
        let plan = Plan {
            warmup: 0,
            repetitions: 2,
        };
        let pool = crate::workloads::pool(2);
        assert_eq!(time_chunked(&pool, 10_000, 100, plan).samples.len(), 2);
        assert_eq!(time_counters(true, 2, 1_000, plan).samples.len(), 2);
        assert_eq!(time_counters(false, 2, 1_000, plan).samples.len(), 2);
        let (a, s) = time_layout(1_000, plan);
        assert_eq!((a.samples.len(), s.samples.len()), (2, 2));
    }
}
