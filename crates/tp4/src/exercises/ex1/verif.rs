//! Checkers of exercise 1: each `qN_...` function takes the student's answer (a
//! closure or a function with the signature of the reference) and compares it with
//! the reference of [`super`] on fixed cases, edge cases (no sale, one sale, ties,
//! large values) and generated samples. It returns a [`Verdict`] whose display is
//! the French diagnosis printed by the notebook.
//!
//! ```
//! use tp4::ex1::verif;
//! let v = verif::q2_revenues(|rows| rows.iter().map(|t| t.amount * t.quantity as f64).collect());
//! assert!(v.passed(), "{v}");
//! ```
//!
//! The references of [`super`] are private to the library, so a notebook cannot
//! hand them in as its answer:
//!
//! ```compile_fail,E0603
//! tp4::ex1::verif::q1_filter(tp4::ex1::filter_ids);
//! ```
//!
//! An answer still holding `todo!()` is "not done yet", not a crash:
//!
//! ```
//! use tp4::ex1::{Summary, Transaction};
//! fn summary(_rows: &[Transaction]) -> Summary {
//!     todo!()
//! }
//! assert!(tp4::ex1::verif::q3_summary(summary).not_done());
//! ```

use super::{GroupTotal, Summary, Transaction};
use crate::data::transactions::CATEGORIES;
use crate::verif::work::{require_work, Work};
use crate::verif::{check_cases, close, Verdict};
use std::collections::{BTreeMap, HashMap};

/// The shared samples, still reachable from here (`tp4::ex1::verif::sale`).
pub use crate::data::samples::{sale, sample_rows};

/// The tables the checkers of exercise 1 run on, with their French names.
pub fn cases() -> Vec<(String, Vec<Transaction>)> {
    let ties = vec![
        sale(1, "Lyon", "sport", 120.50, 2),
        sale(2, "Paris", "sport", 120.50, 2),
        sale(3, "Nice", "livres", 120.50, 2),
        sale(4, "Lyon", "sport", 120.49, 2),
        sale(5, "Lille", "sport", 3.00, 1),
    ];
    let large: Vec<Transaction> = (1..=2_000)
        .map(|i| sale(i, "Paris", CATEGORIES[i as usize % 8], 499.99, 10))
        .collect();
    vec![
        ("aucune vente (table vide)".into(), vec![]),
        (
            "une seule vente".into(),
            vec![sale(1, "Dijon", "sport", 12.34, 3)],
        ),
        ("ventes à égalité (mêmes montants)".into(), ties),
        (
            "grandes valeurs (2000 ventes à 499,99 € × 10)".into(),
            large,
        ),
        ("200 ventes générées (graine 1)".into(), sample_rows(200, 1)),
        (
            "5000 ventes générées (graine 2)".into(),
            sample_rows(5_000, 2),
        ),
    ]
}

/// Question 1.1: `student(rows, category, min_amount)` must return the ids of the
/// sales of `category` whose amount is at least `min_amount`, in file order.
pub fn q1_filter(student: impl Fn(&[Transaction], &str, f64) -> Vec<u64>) -> Verdict {
    let mut inputs = Vec::new();
    for (name, rows) in cases() {
        inputs.push((
            format!("{name}, « sport » ≥ 120,50 €"),
            (rows.clone(), "sport", 120.50),
        ));
        inputs.push((format!("{name}, « livres » ≥ 0 €"), (rows, "livres", 0.0)));
    }
    check_cases(
        "1.1 filter",
        "gardez les ventes de la catégorie ET dont le montant atteint le seuil (≥, pas >), \
         dans l'ordre du fichier, et rendez leurs id : cherchez `Iterator::filter` puis \
         `Iterator::map`",
        inputs,
        |(rows, cat, min)| super::filter_ids(rows, cat, *min),
        |(rows, cat, min)| student(rows, cat, *min),
        |a, b| a == b,
    )
}

/// Question 1.2: `student(rows)` must return `amount × quantity` of every row, in
/// file order.
pub fn q2_revenues(student: impl Fn(&[Transaction]) -> Vec<f64>) -> Verdict {
    check_cases(
        "1.2 map",
        "une valeur par ligne, dans l'ordre : montant × quantité (convertissez la quantité \
         avec `as f64` ou f64::from)",
        cases(),
        |rows| super::revenues(rows),
        |rows| student(rows),
        |a, b| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| close(*x, *y, 1e-12)),
    )
}

/// Question 1.3: `student(rows)` must return the [`Summary`] (count, total, min and
/// max of the line revenues in cents).
pub fn q3_summary(student: impl Fn(&[Transaction]) -> Summary) -> Verdict {
    check_cases(
        "1.3 reduce / fold",
        "partez de Summary::default() et ajoutez chaque t.revenue_cents() ; min et max \
         valent None pour une table vide et le premier élément les initialise",
        cases(),
        |rows| super::summary(rows),
        |rows| student(rows),
        |a, b| a == b,
    )
}

/// Question 1.4: `student(values)` must return `Some((mean, variance))` with the
/// population variance (divided by n), `None` for an empty series.
pub fn q4_mean_variance(student: impl Fn(&[f64]) -> Option<(f64, f64)>) -> Verdict {
    let mut inputs: Vec<(String, Vec<f64>)> = vec![
        ("série vide".into(), vec![]),
        ("une seule valeur".into(), vec![42.0]),
        ("valeurs toutes égales".into(), vec![7.5; 10]),
        ("1, 2, 3, 4".into(), vec![1.0, 2.0, 3.0, 4.0]),
        (
            "grandes valeurs (10⁹ + 1, + 2, + 3)".into(),
            vec![1e9 + 1.0, 1e9 + 2.0, 1e9 + 3.0],
        ),
    ];
    for (name, rows) in cases().into_iter().skip(4) {
        inputs.push((format!("revenus de {name}"), super::revenues(&rows)));
    }
    check_cases(
        "1.4 moyenne et variance en un passage",
        "variance de population : somme des (x − moyenne)² divisée par n (pas n − 1) ; \
         None pour une série vide ; accumulez (n, somme, somme des carrés) ou (n, moyenne, m2) \
         dans un seul fold",
        inputs,
        |v| super::mean_variance(v),
        |v| student(v),
        |a, b| match (a, b) {
            (None, None) => true,
            (Some((m1, v1)), Some((m2, v2))) => {
                // The variance is compared on the scale of E[x²], which accepts the
                // one-pass formula E[x²] − E[x]² despite its rounding errors.
                let scale = v1.abs() + m1 * m1;
                close(*m1, *m2, 1e-9) && (v1 - v2).abs() <= 1e-9 * scale.max(1e-300)
            }
            _ => false,
        },
    )
}

/// Question 1.5: `student(rows)` must return, for each category present, the revenue
/// in cents and the number of lines.
pub fn q5_revenue_by_category(
    student: impl Fn(&[Transaction]) -> HashMap<String, GroupTotal>,
) -> Verdict {
    // Sorted maps print in a stable order in the verdict.
    let sorted = |m: HashMap<String, GroupTotal>| m.into_iter().collect::<BTreeMap<_, _>>();
    check_cases(
        "1.5 group-by (reduce par clé)",
        "un seul passage qui remplit une table par catégorie (cherchez `HashMap::entry` et \
         `or_default`) : ajoutez le chiffre d'affaires de la ligne en centimes \
         (`revenue_cents`, pas `amount_cents`) et comptez 1 par ligne",
        cases(),
        |rows| sorted(super::revenue_by_category(rows)),
        |rows| sorted(student(rows)),
        |a, b| a == b,
    )
}

/// Question 1.6: `student(rows, category, min_amount_cents)` (loop or iterator
/// version) must return the revenue in cents of the sales of `category` whose unit
/// amount is at least `min_amount_cents`.
pub fn q6_pipeline(student: impl Fn(&[Transaction], &str, i64) -> i64) -> Verdict {
    let mut inputs = Vec::new();
    for (name, rows) in cases() {
        inputs.push((
            format!("{name}, « sport » ≥ 12 050 c"),
            (rows.clone(), "sport", 12_050),
        ));
        inputs.push((format!("{name}, « beaute » ≥ 0 c"), (rows, "beaute", 0)));
    }
    inputs.push((
        "montants très élevés : une somme en euros f64 perd des centimes".into(),
        (huge_amounts(), "sport", 0),
    ));
    // Thresholds equal to amounts whose euros × 100 is not exact in f64 (0,29 € ×
    // 100 = 28,999…): drawn at check time, so that a threshold compared in f64, or
    // cents truncated instead of rounded, fails somewhere.
    let mut draw = crate::verif::work::Draw::new();
    for round in 1..=3 {
        let mut rows = Vec::new();
        let mut threshold = 0;
        while rows.len() < 12 {
            let cents = draw.range(1, 500_000) as i64;
            let euros = cents as f64 / 100.0;
            if euros * 100.0 < cents as f64 {
                threshold = if rows.is_empty() { cents } else { threshold };
                rows.push(sale(
                    rows.len() as u64 + 1,
                    "Paris",
                    "sport",
                    euros,
                    1 + (cents % 5) as u32,
                ));
            }
        }
        // Around the threshold: equal amounts must count, one cent less must not.
        let t = threshold as f64;
        rows.push(sale(100, "Lyon", "sport", (t - 1.0) / 100.0, 2));
        rows.push(sale(101, "Nice", "sport", t / 100.0, 3));
        inputs.push((
            format!("essai {round}/3 : seuil {threshold} c égal à des montants (tirés au hasard)"),
            (rows, "sport", threshold),
        ));
    }
    check_cases(
        "1.6 boucle for et chaîne d'itérateurs",
        "filtrez sur la catégorie ET un montant au moins égal au seuil (≥, pas >), comparé \
         en centimes entiers : un montant en euros f64 multiplié par 100 n'est pas exact \
         (0,29 × 100 = 28,999…) ; additionnez le chiffre d'affaires (montant × quantité) \
         en centimes : les méthodes de `Transaction` les donnent",
        inputs,
        |(rows, cat, min)| super::pipeline_iter(rows, cat, *min),
        |(rows, cat, min)| student(rows, cat, *min),
        |a, b| a == b,
    )
}

/// Sales whose total (about 2.6 × 10¹⁴ €) is beyond what an `f64` holds to the
/// cent: summing euros in `f64` and rounding at the end is off by several cents,
/// summing integer cents is exact.
fn huge_amounts() -> Vec<Transaction> {
    vec![
        sale(1, "Paris", "sport", 96_328_259_166.87, 796),
        sale(2, "Lyon", "sport", 94_159_085_255.94, 752),
        sale(3, "Nice", "sport", 97_694_957_851.5, 911),
        sale(4, "Lille", "sport", 93_009_954_992.02, 676),
        sale(5, "Dijon", "sport", 0.01, 1),
        sale(6, "Paris", "sport", 0.07, 3),
    ]
}

/// Question 1.7: `student(rows, work)` is the parallel [`Summary`] of the
/// revenues `work.revenue_cents(row)` (rayon `fold` + `reduce`); it is run inside a
/// pool of 2 workers and must give exactly the sequential summary. On a table
/// whose size is drawn at check time, both threads of the pool must each read a
/// real share of the rows: the check sees which thread asked for each revenue.
pub fn q7_summary_par(student: impl Fn(&[Transaction], Work) -> Summary + Sync) -> Verdict {
    let pool = crate::workloads::pool(2);
    let verdict = check_cases(
        "1.7 fold + reduce en parallèle (rayon)",
        "chaque thread réduit sa part (`fold`), puis les résumés partiels sont fusionnés \
         (`reduce`) : la fusion doit combiner count, total, min ET max, et l'élément \
         neutre est le résumé vide ; cherchez `ParallelIterator::fold` et `reduce` dans la \
         documentation de rayon",
        cases(),
        |rows| super::summary(rows),
        |rows| pool.install(|| student(rows, Work::fresh())),
        |a, b| a == b,
    );
    let n = crate::verif::work::Draw::new().range(200_000, 400_000) as usize;
    let big = sample_rows(n, 3);
    require_work(
        verdict,
        &format!("{n} ventes, pool de 2 threads : le travail doit être partagé"),
        0.05,
        "les deux threads du pool doivent chacun lire une part des ventes \
         (`travail.revenue_cents`) : une boucle ou un iter() séquentiel n'en occupe \
         qu'un ; cherchez par_iter()",
        |work| {
            big.iter()
                .map(|t| work.revenue_cents(t))
                .fold(Summary::default(), Summary::absorb)
        },
        |work| pool.install(|| student(&big, work)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn thresholds_compared_in_f64_are_refused() {
        for _ in 0..5 {
            // Threshold compared on euros × 100 in f64.
            let v = q6_pipeline(|rows, cat, min| {
                rows.iter()
                    .filter(|t| t.category == cat && t.amount * 100.0 >= min as f64)
                    .map(Transaction::revenue_cents)
                    .sum()
            });
            assert!(
                v.failure_case().unwrap_or("(accepté)").contains("seuil"),
                "{v}"
            );
            // Cents truncated instead of rounded.
            let v = q6_pipeline(|rows, cat, min| {
                rows.iter()
                    .filter(|t| t.category == cat && (t.amount * 100.0) as i64 >= min)
                    .map(Transaction::revenue_cents)
                    .sum()
            });
            assert!(
                v.failure_case().unwrap_or("(accepté)").contains("seuil"),
                "{v}"
            );
        }
    }

    #[test]
    fn references_pass() {
        let verdicts = [
            q1_filter(super::super::filter_ids),
            q2_revenues(super::super::revenues),
            q3_summary(super::super::summary),
            q4_mean_variance(super::super::mean_variance),
            q5_revenue_by_category(super::super::revenue_by_category),
            q6_pipeline(super::super::pipeline_loop),
            q6_pipeline(super::super::pipeline_iter),
            q6_pipeline(super::super::pipeline_par),
            q7_summary_par(|rows, work| {
                rows.par_iter()
                    .map(|t| work.revenue_cents(t))
                    .fold(Summary::default, Summary::absorb)
                    .reduce(Summary::default, Summary::merge)
            }),
        ];
        for v in verdicts {
            assert!(v.passed(), "{v}");
        }
    }

    #[test]
    fn textbook_one_pass_variance_is_accepted() {
        let v = q4_mean_variance(|xs| {
            let (n, s, s2) = xs.iter().fold((0.0, 0.0, 0.0), |(n, s, s2), x| {
                (n + 1.0, s + x, s2 + x * x)
            });
            (n > 0.0).then(|| (s / n, s2 / n - (s / n) * (s / n)))
        });
        assert!(v.passed(), "{v}");
    }

    #[test]
    fn wrong_answers_are_caught() {
        // Strict threshold instead of ≥.
        let v = q1_filter(|rows, cat, min| {
            rows.iter()
                .filter(|t| t.category == cat && t.amount > min)
                .map(|t| t.id)
                .collect()
        });
        assert!(
            v.failure_case().unwrap_or("(accepté)").contains("égalité"),
            "{v}"
        );
        // Amount instead of revenue.
        let v = q2_revenues(|rows| rows.iter().map(|t| t.amount).collect());
        assert!(v.failure_case().is_some());
        // Min stuck at 0 because the accumulator starts at 0.
        let v = q3_summary(|rows| {
            let cents: Vec<i64> = rows.iter().map(Transaction::revenue_cents).collect();
            Summary {
                count: cents.len() as u64,
                total_cents: cents.iter().sum(),
                min_cents: Some(cents.iter().fold(0, |a, &b| a.min(b))),
                max_cents: cents.iter().max().copied(),
            }
        });
        assert!(
            v.failure_case().unwrap_or("(accepté)").contains("vide"),
            "{v}"
        );
        // Sample variance (n − 1).
        let v = q4_mean_variance(|xs| {
            let n = xs.len() as f64;
            let m = xs.iter().sum::<f64>() / n;
            (n > 0.0).then(|| {
                (
                    m,
                    xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0),
                )
            })
        });
        assert!(v.to_string().contains("❌"), "{v}");
        // Amount instead of revenue in the group-by.
        let v = q5_revenue_by_category(|rows| {
            let mut m: HashMap<String, GroupTotal> = HashMap::new();
            for t in rows {
                let g = m.entry(t.category.clone()).or_default();
                g.revenue_cents += t.amount_cents();
                g.count += 1;
            }
            m
        });
        assert!(
            v.failure_case()
                .unwrap_or("(accepté)")
                .contains("une seule vente"),
            "{v}"
        );
        // Strict threshold in the pipeline.
        let v = q6_pipeline(|rows, cat, min| {
            rows.iter()
                .filter(|t| t.category == cat && t.amount_cents() > min)
                .map(Transaction::revenue_cents)
                .sum()
        });
        assert!(
            v.failure_case().unwrap_or("(accepté)").contains("égalité"),
            "{v}"
        );
        // A merge that forgets the min and max of the right-hand part.
        let v = q7_summary_par(|rows, work| {
            rows.par_iter()
                .map(|t| work.revenue_cents(t))
                .fold(Summary::default, Summary::absorb)
                .reduce(Summary::default, |a, b| Summary {
                    count: a.count + b.count,
                    total_cents: a.total_cents + b.total_cents,
                    ..a
                })
        });
        assert!(v.failure_case().is_some());
    }

    #[test]
    fn euros_in_f64_rounded_at_the_end_are_rejected() {
        let v = q6_pipeline(|rows, cat, min| {
            let euros: f64 = rows
                .iter()
                .filter(|t| t.category == cat && t.amount_cents() >= min)
                .map(|t| t.amount * t.quantity as f64)
                .sum();
            (euros * 100.0).round() as i64
        });
        assert!(
            v.failure_case()
                .unwrap_or("(accepté)")
                .contains("très élevés"),
            "{v}"
        );
    }

    #[test]
    fn summaries_without_parallel_reads_are_refused() {
        let seq = |rows: &[Transaction], work: Work| {
            rows.iter()
                .map(|t| work.revenue_cents(t))
                .fold(Summary::default(), Summary::absorb)
        };
        // Sequential.
        let v = q7_summary_par(seq);
        assert!(v.to_string().contains("1 thread : 100 %"), "{v}");
        // Sequential beside a thread that spins meanwhile.
        let v = q7_summary_par(|rows, work| {
            crate::verif::testing::beside_a_spinning_thread(|| seq(rows, work))
        });
        assert!(v.to_string().contains("1 thread : 100 %"), "{v}");
        // rayon, but in a pool of one thread of its own.
        let v = q7_summary_par(|rows, work| {
            let one = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap();
            one.install(|| {
                rows.par_iter()
                    .map(|t| work.revenue_cents(t))
                    .fold(Summary::default, Summary::absorb)
                    .reduce(Summary::default, Summary::merge)
            })
        });
        assert!(v.to_string().contains("1 thread : 100 %"), "{v}");
        // The revenues read from the rows, not through the work: nobody seen.
        let v = q7_summary_par(|rows, _| {
            rows.par_iter()
                .map(Transaction::revenue_cents)
                .fold(Summary::default, Summary::absorb)
                .reduce(Summary::default, Summary::merge)
        });
        assert!(v.to_string().contains("aucun appel"), "{v}");
    }

    #[test]
    fn unfinished_answer_is_not_done() {
        assert!(q3_summary(|_| todo!()).not_done());
    }
}
