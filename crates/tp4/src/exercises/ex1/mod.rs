//! Exercise 1 — functional programming on `transactions.csv`: filter, map, reduce.
//!
//! The reference answers of the lab, one public function per question. Every answer
//! is a chain of iterator adapters (`filter`, `map`, `fold`, `sum`...): the data
//! flows through small pure functions, nothing is mutated outside the chain, and
//! the compiler turns the chain into the same machine code as a hand-written loop
//! (question 1.6 measures it). Question 1.7 runs the same pipeline on every core
//! with rayon, whose `fold` + `reduce` is the map-reduce model in one line.
//!
//! Money is summed in integer cents ([`Transaction::revenue_cents`]): an integer sum
//! is exact, so it does not depend on the order of the additions, whereas a sum of
//! `f64` does (see [`revenue_sum_f64_par`]).
//!
//! - [`verif`]: the checkers of the notebook (`tp4::ex1::verif::q1_filter(...)`...);
//! - [`demo`]: what `tp4 exercice 1` shows and measures.

pub mod demo;
pub mod live;
pub mod verif;

/// Title of the exercise (report section, `tp4 exercice 1`).
pub const TITLE: &str = "Exercice 1 — Programmation fonctionnelle : filter, map, reduce";

pub use crate::data::transactions::Transaction;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::Path;

/// Loads `transactions.csv` (serde + csv, read as a stream of rows and collected).
///
/// The reader is [`crate::data::transactions::stream`]: an iterator of
/// `Result<Transaction>`, deserialised by serde one row at a time; collecting into
/// `Result<Vec<_>>` stops at the first malformed row and returns its French error.
pub fn load(path: &Path) -> crate::Result<Vec<Transaction>> {
    crate::data::transactions::stream(path)?.collect()
}

/// Question 1.1 — *filter* : les ventes d'une catégorie dont le montant unitaire est
/// au moins `min_amount` euros, dans l'ordre du fichier (on rend leurs `id`).
///
/// `filter` keeps the items for which the predicate is true; `map` then keeps only
/// what we need. Nothing is computed until `collect` pulls the items (laziness).
pub(crate) fn filter_ids(rows: &[Transaction], category: &str, min_amount: f64) -> Vec<u64> {
    rows.iter()
        .filter(|t| t.category == category && t.amount >= min_amount)
        .map(|t| t.id)
        .collect()
}

/// Question 1.2 — *map* : le chiffre d'affaires de chaque ligne, `montant × quantité`,
/// en euros, dans l'ordre du fichier.
///
/// `map` transforms each item independently of the others: this is what makes it
/// trivially parallel (each element can go to a different core).
pub(crate) fn revenues(rows: &[Transaction]) -> Vec<f64> {
    rows.iter().map(Transaction::revenue).collect()
}

/// The result of a reduction over line revenues, in integer cents (exact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Number of lines.
    pub count: u64,
    /// Sum of the line revenues, in cents.
    pub total_cents: i64,
    /// Smallest line revenue in cents (`None` when there is no line).
    pub min_cents: Option<i64>,
    /// Largest line revenue in cents (`None` when there is no line).
    pub max_cents: Option<i64>,
}

impl Summary {
    /// Adds one line revenue: the *fold* step (accumulator + element → accumulator).
    pub fn absorb(self, cents: i64) -> Summary {
        Summary {
            count: self.count + 1,
            total_cents: self.total_cents + cents,
            min_cents: Some(self.min_cents.map_or(cents, |m| m.min(cents))),
            max_cents: Some(self.max_cents.map_or(cents, |m| m.max(cents))),
        }
    }

    /// Merges two partial summaries: the *reduce* step of a parallel fold. It is
    /// associative and `Summary::default()` is its neutral element, which is exactly
    /// what rayon needs to combine the parts in any grouping.
    pub fn merge(self, other: Summary) -> Summary {
        let pick = |a: Option<i64>, b: Option<i64>, f: fn(i64, i64) -> i64| match (a, b) {
            (Some(x), Some(y)) => Some(f(x, y)),
            (x, y) => x.or(y),
        };
        Summary {
            count: self.count + other.count,
            total_cents: self.total_cents + other.total_cents,
            min_cents: pick(self.min_cents, other.min_cents, i64::min),
            max_cents: pick(self.max_cents, other.max_cents, i64::max),
        }
    }

    /// Mean line revenue in euros (`None` when there is no line).
    pub fn mean_euros(&self) -> Option<f64> {
        (self.count > 0).then(|| self.total_cents as f64 / 100.0 / self.count as f64)
    }
}

/// Question 1.3 — *reduce / fold* : nombre de lignes, total, minimum et maximum du
/// chiffre d'affaires par ligne, en centimes, en un seul passage.
///
/// `fold` threads an accumulator through the items: here a [`Summary`] that starts
/// empty and absorbs each line revenue. One pass, no intermediate vector.
pub(crate) fn summary(rows: &[Transaction]) -> Summary {
    rows.iter()
        .map(Transaction::revenue_cents)
        .fold(Summary::default(), Summary::absorb)
}

/// Question 1.4 — moyenne et variance (de population, divisée par n) d'une série de
/// nombres en un seul passage avec `fold` ; `None` pour une série vide.
///
/// The accumulator is Welford's triple `(n, mean, m2)`: each new value moves the
/// mean by `(x - mean) / n` and adds `(x - old_mean) × (x - new_mean)` to `m2`, the
/// sum of squared deviations. Unlike `E[x²] − E[x]²`, it does not subtract two huge,
/// nearly equal numbers, so it stays accurate on values like 10⁹ + small noise.
pub(crate) fn mean_variance(values: &[f64]) -> Option<(f64, f64)> {
    let (n, mean, m2) = values
        .iter()
        .fold((0u64, 0.0f64, 0.0f64), |(n, mean, m2), &x| {
            let n = n + 1;
            let delta = x - mean;
            let mean = mean + delta / n as f64;
            (n, mean, m2 + delta * (x - mean))
        });
    (n > 0).then(|| (mean, m2 / n as f64))
}

/// Revenue and number of lines of one group (one category).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupTotal {
    /// Sum of the line revenues of the group, in cents.
    pub revenue_cents: i64,
    /// Number of lines in the group.
    pub count: u64,
}

/// Question 1.5 — *group-by* : chiffre d'affaires (centimes) et nombre de lignes par
/// catégorie, avec `fold` dans une `HashMap` (API `entry`). Seules les catégories
/// présentes apparaissent.
///
/// This is the *reduce-by-key* of map-reduce: each row is mapped to a pair
/// (key, value) and values with the same key are combined. `entry(key)` finds or
/// inserts the slot of a key with a single hash lookup.
pub(crate) fn revenue_by_category(rows: &[Transaction]) -> HashMap<String, GroupTotal> {
    rows.iter().fold(HashMap::new(), |mut groups, t| {
        let g: &mut GroupTotal = groups.entry(t.category.clone()).or_default();
        g.revenue_cents += t.revenue_cents();
        g.count += 1;
        groups
    })
}

/// Question 1.6 (version boucle) — chiffre d'affaires total, en centimes, des ventes
/// de la catégorie `category` dont le montant unitaire est d'au moins
/// `min_amount_cents` centimes, écrit avec une boucle `for`.
pub(crate) fn pipeline_loop(rows: &[Transaction], category: &str, min_amount_cents: i64) -> i64 {
    let mut total = 0;
    for t in rows {
        if t.category == category && t.amount_cents() >= min_amount_cents {
            total += t.revenue_cents();
        }
    }
    total
}

/// Question 1.6 (version itérateurs) — le même calcul que [`pipeline_loop`] en chaîne
/// `filter` → `map` → `sum`.
///
/// Same answer, same speed: iterator adapters are generic structs that the compiler
/// inlines into one loop (a *zero-cost abstraction*). The demo measures both.
pub(crate) fn pipeline_iter(rows: &[Transaction], category: &str, min_amount_cents: i64) -> i64 {
    rows.iter()
        .filter(|t| t.category == category && t.amount_cents() >= min_amount_cents)
        .map(Transaction::revenue_cents)
        .sum()
}

/// Question 1.7 — la même chaîne en parallèle avec rayon : `par_iter` puis
/// `fold` (un [`Summary`] partiel par morceau) et `reduce` (fusion des partiels).
///
/// Rayon cuts the slice into pieces, each worker folds its pieces into its own
/// accumulator (no sharing, no lock), then partial results are merged pairwise.
/// Run it inside `tp4::workloads::pool(n).install(...)` to choose the worker count.
pub(crate) fn summary_par(rows: &[Transaction]) -> Summary {
    rows.par_iter()
        .map(Transaction::revenue_cents)
        .fold(Summary::default, Summary::absorb)
        .reduce(Summary::default, Summary::merge)
}

/// Question 1.6 in parallel: the pipeline of [`pipeline_iter`] with `par_iter`; only
/// `iter` became `par_iter`.
pub(crate) fn pipeline_par(rows: &[Transaction], category: &str, min_amount_cents: i64) -> i64 {
    rows.par_iter()
        .filter(|t| t.category == category && t.amount_cents() >= min_amount_cents)
        .map(Transaction::revenue_cents)
        .sum()
}

/// The total revenue in euros summed as `f64`, left to right.
pub(crate) fn revenue_sum_f64_seq(rows: &[Transaction]) -> f64 {
    rows.iter().map(Transaction::revenue).sum()
}

/// The total revenue in euros summed as `f64` by rayon: the additions are grouped
/// differently (each worker sums its pieces, then the partial sums are added), and
/// since floating-point addition is not associative — `(a + b) + c` may differ from
/// `a + (b + c)` in the last bits — the result may differ slightly from
/// [`revenue_sum_f64_seq`], and even from one run to the next. Integer cents do not
/// have this problem: integer addition is associative.
pub(crate) fn revenue_sum_f64_par(rows: &[Transaction]) -> f64 {
    rows.par_iter().map(Transaction::revenue).sum()
}

/// The total revenue in euros as `f64`, summed in `parts` consecutive blocks whose
/// partial sums are then added: a deterministic imitation of the grouping of a
/// parallel sum, to show the effect of the order of additions reproducibly.
pub(crate) fn revenue_sum_f64_blocks(rows: &[Transaction], parts: usize) -> f64 {
    let size = rows.len().div_ceil(parts.max(1)).max(1);
    rows.chunks(size)
        .map(|block| block.iter().map(Transaction::revenue).sum::<f64>())
        .sum()
}

/// The rows repeated `times` times, ids renumbered: a bigger table in memory for
/// timing, with known answers (each total is `times` times the one of `rows`).
pub fn replicate(rows: &[Transaction], times: usize) -> Vec<Transaction> {
    let n = rows.len() as u64;
    (0..times as u64)
        .flat_map(|k| {
            rows.iter().map(move |t| Transaction {
                id: k * n + t.id,
                ..t.clone()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Transaction> {
        verif::sample_rows(3_000, 7)
    }

    #[test]
    fn loop_iter_and_par_agree() {
        let rows = rows();
        for cat in crate::data::transactions::CATEGORIES {
            let a = pipeline_loop(&rows, cat, 10_000);
            assert_eq!(a, pipeline_iter(&rows, cat, 10_000));
            assert_eq!(
                a,
                crate::workloads::pool(2).install(|| pipeline_par(&rows, cat, 10_000))
            );
        }
        assert_eq!(
            crate::workloads::pool(2).install(|| summary_par(&rows)),
            summary(&rows)
        );
    }

    #[test]
    fn summary_by_hand() {
        let mut rows = rows();
        rows.truncate(3);
        let cents: Vec<i64> = rows.iter().map(Transaction::revenue_cents).collect();
        let s = summary(&rows);
        assert_eq!(s.count, 3);
        assert_eq!(s.total_cents, cents.iter().sum::<i64>());
        assert_eq!(s.min_cents, cents.iter().min().copied());
        assert_eq!(s.max_cents, cents.iter().max().copied());
        assert_eq!(summary(&[]), Summary::default());
        assert_eq!(summary(&[]).mean_euros(), None);
    }

    #[test]
    fn welford_matches_two_pass_and_resists_cancellation() {
        assert_eq!(mean_variance(&[]), None);
        assert_eq!(mean_variance(&[4.0]), Some((4.0, 0.0)));
        let (m, v) = mean_variance(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!((m - 2.5).abs() < 1e-12 && (v - 1.25).abs() < 1e-12);
        let big = [1e9 + 1.0, 1e9 + 2.0, 1e9 + 3.0];
        let (m, v) = mean_variance(&big).unwrap();
        assert!(
            (m - (1e9 + 2.0)).abs() < 1e-6 && (v - 2.0 / 3.0).abs() < 1e-6,
            "{v}"
        );
    }

    #[test]
    fn group_by_adds_up_to_the_summary() {
        let rows = rows();
        let g = revenue_by_category(&rows);
        let s = summary(&rows);
        assert_eq!(
            g.values().map(|g| g.revenue_cents).sum::<i64>(),
            s.total_cents
        );
        assert_eq!(g.values().map(|g| g.count).sum::<u64>(), s.count);
        assert_eq!(g.len(), 8);
    }

    #[test]
    fn replicate_multiplies_totals_and_block_sums_are_close() {
        let rows = rows();
        let big = replicate(&rows, 3);
        assert_eq!(big.len(), 9_000);
        assert_eq!(big.last().unwrap().id, 9_000);
        assert_eq!(summary(&big).total_cents, 3 * summary(&rows).total_cents);
        let seq = revenue_sum_f64_seq(&big);
        for parts in [1, 2, 7] {
            let b = revenue_sum_f64_blocks(&big, parts);
            assert!(crate::verif::close(seq, b, 1e-12), "{seq} {b}");
        }
        assert_eq!(revenue_sum_f64_blocks(&big, 1), seq);
        let par = crate::workloads::pool(2).install(|| revenue_sum_f64_par(&big));
        assert!(crate::verif::close(seq, par, 1e-12));
    }

    /// workloads.md v3 rule 7 for the exercises, on generated files: amounts near
    /// the 64-bit limit, refunds, quantities 0 to 10 (and huge ones). The loader
    /// either refuses, at the line an independent `i128` oracle names, with a "trop
    /// grand" message; or accepts, and then every money sum of exercises 1 and 2
    /// (summary, sequential and parallel; totals by category; top cities) equals the
    /// oracle's exact `i128` sum (a wrap-around would differ; in debug it panics).
    #[test]
    fn money_sums_are_exact_or_refused_as_too_large() {
        use rand::{Rng, SeedableRng};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("transactions.csv");
        let (mut refused, mut accepted) = (0, 0);
        for seed in 0..400u64 {
            let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
            let n = rng.random_range(1..40);
            let scale: i64 = [
                100,
                1_000_000_000_000,
                300_000_000_000_000_000,
                i64::MAX / 4,
            ][rng.random_range(0..4)];
            let mut text = String::from("id,date,city,category,amount,quantity\n");
            let mut cells: Vec<(String, String, i64, u32)> = Vec::new();
            for i in 0..n {
                let mut cents = rng.random_range(-scale / 8..=scale);
                if rng.random_range(0..50) == 0 {
                    cents = [i64::MAX, i64::MIN + 1, -i64::MAX / 2][rng.random_range(0..3)];
                }
                let quantity = match rng.random_range(0..30) {
                    0 => u32::MAX,
                    _ => rng.random_range(0..=10),
                };
                let city = ["Paris", "Lyon", "Nice"][rng.random_range(0..3)].to_string();
                let cat = ["sport", "livres"][rng.random_range(0..2)].to_string();
                let sign = if cents < 0 { "-" } else { "" };
                let abs = cents.unsigned_abs();
                text.push_str(&format!(
                    "{},2024-01-02,{city},{cat},{sign}{}.{:02},{quantity}\n",
                    i + 1,
                    abs / 100,
                    abs % 100
                ));
                cells.push((city, cat, cents, quantity));
            }
            std::fs::write(&path, &text).unwrap();
            // The oracle: the first row (line = index + 2) whose revenue or whose
            // running sum of sales or of refunds leaves i64, in i128.
            let (mut sales, mut refunds) = (0i128, 0i128);
            let mut first_bad = None;
            for (i, (_, _, cents, q)) in cells.iter().enumerate() {
                let w = i128::from(*cents) * i128::from((*q).max(1));
                if w >= 0 {
                    sales += w;
                } else {
                    refunds += w;
                }
                let fits = |v: i128| i64::try_from(v).is_ok();
                if !fits(w) || !fits(sales) || !fits(refunds) {
                    first_bad = Some(i as u64 + 2);
                    break;
                }
            }
            match (load(&path), first_bad) {
                (Err(e), Some(line)) => {
                    refused += 1;
                    let m = e.to_string();
                    assert!(
                        matches!(e, crate::Error::Malformed { line: l, .. } if l == line),
                        "seed {seed}: {m}"
                    );
                    assert!(m.contains("trop grand"), "seed {seed}: {m}");
                }
                (Ok(rows), None) => {
                    accepted += 1;
                    let revenue =
                        |c: &(String, String, i64, u32)| i128::from(c.2) * i128::from(c.3);
                    let total: i128 = cells.iter().map(revenue).sum();
                    let s = summary(&rows);
                    assert_eq!(i128::from(s.total_cents), total, "seed {seed}");
                    let par = crate::workloads::pool(2).install(|| summary_par(&rows));
                    assert_eq!(par, s, "seed {seed}");
                    for (cat, g) in revenue_by_category(&rows) {
                        let want: i128 = cells.iter().filter(|c| c.1 == cat).map(revenue).sum();
                        assert_eq!(i128::from(g.revenue_cents), want, "seed {seed} {cat}");
                    }
                    for (city, cents) in crate::exercises::ex2::top_cities(&rows, 3) {
                        let want: i128 = cells.iter().filter(|c| c.0 == city).map(revenue).sum();
                        assert_eq!(i128::from(cents), want, "seed {seed} {city}");
                    }
                }
                (got, want) => panic!("seed {seed}: {got:?}, oracle {want:?}\n{text}"),
            }
        }
        // Both outcomes were exercised, many times.
        assert!(
            refused > 50 && accepted > 50,
            "{refused} refused, {accepted} accepted"
        );
    }
}
