//! Test samples shared by the checkers and the tests: sales drawn like the rows of
//! `transactions.csv` (same cities, categories and ranges) from a seed, and single
//! hand-written sales. They live with the data rather than in one exercise, so that
//! the checkers of several exercises use them without importing each other.

use crate::data::transactions::{Transaction, CATEGORIES, CITIES};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// `n` random sales drawn like the rows of `transactions.csv` (same cities,
/// categories, ranges), from `seed`: the generated cases of the checkers.
pub fn sample_rows(n: usize, seed: u64) -> Vec<Transaction> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (1..=n as u64)
        .map(|id| {
            let cents: u32 = rng.random_range(100..50_000);
            let date = format!(
                "2024-{:02}-{:02}",
                rng.random_range(1..=12),
                rng.random_range(1..=28)
            );
            let city = CITIES[rng.random_range(0..CITIES.len())];
            let category = CATEGORIES[rng.random_range(0..CATEGORIES.len())];
            let quantity = rng.random_range(1..=10);
            Transaction::new(id, &date, city, category, i64::from(cents), quantity)
        })
        .collect()
}

/// One sale, for hand-written cases (`amount` in euros, rounded to the cent).
pub fn sale(id: u64, city: &str, category: &str, amount: f64, quantity: u32) -> Transaction {
    let cents = (amount * 100.0).round() as i64;
    Transaction::new(id, "2024-06-15", city, category, cents, quantity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_deterministic_and_in_range() {
        let a = sample_rows(200, 7);
        assert_eq!(a, sample_rows(200, 7));
        assert_ne!(a, sample_rows(200, 8));
        assert!(a.iter().all(|t| (1.0..500.0).contains(&t.amount)
            && (1..=10).contains(&t.quantity)
            && CITIES.contains(&t.city.as_str())
            && CATEGORIES.contains(&t.category.as_str())));
        assert_eq!(sale(3, "Lyon", "sport", 1.5, 2).revenue_cents(), 300);
    }
}
