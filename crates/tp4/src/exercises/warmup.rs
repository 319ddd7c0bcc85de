//! The warm-up question of the notebook's introduction: "is n prime?", a function
//! everyone knows, so that the student first learns how a question, its `todo!()`
//! and its check cell work before the real exercises.
//!
//! The reference is W1's trial division ([`crate::workloads::primes::is_prime`]).

use crate::verif::{check_cases, Verdict};
use crate::workloads::primes::is_prime;

/// The cases of question 0.1: edge cases first (0, 1, 2, even numbers, squares of
/// primes, a large prime), then every number below 2 000.
pub fn cases() -> Vec<(String, u64)> {
    let mut cases: Vec<(String, u64)> = [
        ("0 (pas premier)", 0),
        ("1 (pas premier)", 1),
        ("2 (le seul premier pair)", 2),
        ("3", 3),
        ("4 (pair)", 4),
        ("9 = 3 × 3", 9),
        ("25 = 5 × 5", 25),
        ("97", 97),
        ("1 000 000 007 (grand premier)", 1_000_000_007),
        ("999 983² (carré d'un grand premier)", 999_983 * 999_983),
    ]
    .into_iter()
    .map(|(name, n)| (name.to_string(), n))
    .collect();
    cases.extend((0..2_000u64).map(|n| (format!("n = {n}"), n)));
    cases
}

/// Checks the student's `is_prime` (question 0.1 of the introduction).
pub fn check_is_prime(student: impl Fn(u64) -> bool) -> Verdict {
    check_cases(
        "0.1 est premier",
        "un nombre premier a exactement deux diviseurs, 1 et lui-même : 0 et 1 ne sont pas \
         premiers ; il suffit de tester les diviseurs d jusqu'à d × d ≤ n (inclus)",
        cases(),
        |&n| is_prime(n),
        |&n| student(n),
        |a, b| a == b,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_passes_and_mistakes_are_named() {
        let v = check_is_prime(is_prime);
        assert!(v.passed(), "{v}");
        assert_eq!(v.cases_passed, 2_010);
        // Forgetting that 1 is not prime.
        let v = check_is_prime(|n| n == 1 || is_prime(n));
        assert!(v.to_string().contains("1 (pas premier)"), "{v}");
        // Stopping before √n: squares of primes pass as primes.
        let strict = |n: u64| {
            n >= 2
                && (2..n)
                    .take_while(|d| d * d < n)
                    .all(|d| !n.is_multiple_of(d))
        };
        let v = check_is_prime(strict);
        assert!(v.to_string().contains("4 (pair)"), "{v}");
        let todo = |_: u64| -> bool { todo!() };
        assert!(check_is_prime(todo).not_done());
    }
}
