//! What the notebook runs live in exercise 4 before the questions: W1 (count the
//! primes below n) with static threads, rayon's work stealing and OS processes, on
//! each worker count. The kernels are the lab's W1 strategies; this module returns
//! their timings only (each answer is checked against W1's reference count here),
//! so that the notebook measures them without holding a function a checker of
//! exercise 4 would accept.

use crate::error::{Error, Result};
use crate::measure::{time, Plan, Timings};
use crate::workloads::{self, primes};

/// The three W1 strategies of the live comparison, as (label shown, name passed to
/// [`time_primes`]).
pub const PRIMES_STRATEGIES: [(&str, &str); 3] = [
    ("threads (statique)", "threads"),
    ("rayon (vol de travail)", "rayon"),
    ("processus", "processus"),
];

/// Times W1 below `n` with `strategy` (`threads`, `rayon` or `processus`, see
/// [`PRIMES_STRATEGIES`]) on `workers` workers, and checks every answer against
/// [`primes::reference_count`]. An unknown strategy or a wrong count is an error in
/// French, as is a worker process that fails.
pub fn time_primes(strategy: &str, n: u64, workers: usize, plan: Plan) -> Result<Timings> {
    let expected = primes::reference_count(n);
    let count = |n: u64| -> Result<u64> {
        match strategy {
            "threads" => Ok(primes::count_threads(n, workers)),
            "rayon" => Ok(workloads::pool(workers).install(|| primes::count_rayon(n))),
            "processus" => crate::procs::count_primes(n, workers),
            other => Err(Error::Other(format!(
                "stratégie « {other} » inconnue : choisissez threads, rayon ou processus"
            ))),
        }
    };
    let mut failure = None;
    let (t, _) = time(plan, || match count(n) {
        Ok(c) if c == expected => {}
        Ok(c) => {
            failure.get_or_insert(Error::WrongAnswer {
                what: format!("W1 ({strategy}, {workers} workers)"),
                expected: expected.to_string(),
                got: c.to_string(),
            });
        }
        Err(e) => {
            failure.get_or_insert(e);
        }
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_and_rayon_are_timed_and_unknown_names_refused() {
        let plan = Plan {
            warmup: 0,
            repetitions: 2,
        };
        for s in ["threads", "rayon"] {
            let t = time_primes(s, 10_000, 2, plan).unwrap();
            assert_eq!(t.samples.len(), 2);
        }
        let e = time_primes("magie", 10, 1, plan).unwrap_err().to_string();
        assert!(e.contains("« magie » inconnue"), "{e}");
    }
}
