//! Checkers of exercise 7: each `qN_...` function takes the student's answer (a
//! closure or a function with the signature of the reference in [`super`]) and
//! compares it with the reference on fixed cases, edge cases (empty, one value,
//! ties, huge values) and generated cases, through [`check_cases`]. The verdict's
//! display is the French diagnosis printed by the notebook.
//!
//! ```
//! use tp4::ex7::verif;
//! let v = verif::q5_amdahl(|p, s| 1.0 / (s + (1.0 - s) / p));
//! assert!(v.passed(), "{v}");
//! ```
//!
//! The references of [`super`] are private to the library, so a notebook cannot
//! hand them in as its answer:
//!
//! ```compile_fail,E0603
//! tp4::ex7::verif::q4_to_soa(tp4::ex7::to_soa);
//! ```

use super::{PointsAos, PointsSoa};
use crate::verif::{check_cases, close, Status, Verdict};

/// Question 7.1: `student(timings)` must return the median (mean of the two middle
/// values for an even count).
pub fn q1_median(student: impl Fn(&[f64]) -> f64) -> Verdict {
    let cases: Vec<(String, Vec<f64>)> = vec![
        ("une seule mesure".into(), vec![0.42]),
        (
            "nombre impair, dans le désordre".into(),
            vec![0.3, 0.1, 0.2],
        ),
        ("nombre pair".into(), vec![0.4, 0.1, 0.3, 0.2]),
        (
            "une mesure aberrante".into(),
            vec![0.10, 0.11, 0.12, 0.13, 5.0],
        ),
        ("égalités".into(), vec![0.2, 0.2, 0.1, 0.2]),
        ("aucune mesure (NaN)".into(), vec![]),
        (
            "1001 mesures générées".into(),
            (0..1001)
                .map(|i| ((i * 7919) % 1001) as f64 * 1e-3)
                .collect(),
        ),
    ];
    check_cases(
        "7.1 médiane",
        "triez une copie des mesures (des flottants : cherchez `f64::total_cmp`) et prenez \
         la valeur du milieu ; pour un nombre pair, la moyenne des deux valeurs du milieu",
        cases,
        |xs| super::median(xs),
        |xs| student(xs),
        |a, b| close(*a, *b, 1e-12),
    )
}

/// Question 7.2: `student(n, chunk)` must count the primes below `n` with tasks of
/// `chunk` consecutive numbers (it runs inside a rayon pool of 2 threads).
pub fn q2_chunked_primes(student: impl Fn(u64, u64) -> u64 + Sync) -> Verdict {
    let mut cases: Vec<(String, (u64, u64))> = vec![
        ("n = 0".into(), (0, 10)),
        ("n = 3, tâches de 1".into(), (3, 1)),
        ("tâche plus grande que n".into(), (1_000, 5_000)),
        ("n non multiple de la taille".into(), (10_007, 1_000)),
        ("tâches de 1 nombre".into(), (5_000, 1)),
    ];
    for chunk in [10, 100, 10_000] {
        cases.push((format!("n = 100 000, tâches de {chunk}"), (100_000, chunk)));
    }
    let pool = crate::workloads::pool(2);
    let verdict = check_cases(
        "7.2 granularité",
        "découpez 0..n en tâches de `taille` nombres consécutifs (la dernière peut être \
         plus courte), comptez chacune avec `primes::count_range` et sommez les comptes en \
         parallèle (cherchez `IntoParallelIterator` dans rayon)",
        cases,
        |&(n, _chunk)| crate::workloads::primes::reference_count(n),
        |&(n, chunk)| pool.install(|| student(n, chunk)),
        |a, b| a == b,
    );
    crate::verif::parallel::require_parallel(
        verdict,
        "n = 400 000, tâches de 1 000, pool de 2 threads : les tâches doivent être partagées",
        crate::workloads::primes::reference_count(400_000),
        "le compte est juste mais un seul thread a travaillé : les tâches doivent passer par \
         into_par_iter() pour que les threads du pool se les partagent",
        |pool| pool.install(|| student(400_000, 1_000)),
    )
}

/// The size of a cache line, in bytes, as the 7.3 check judges it.
pub const CACHE_LINE: usize = 64;

/// Question 7.3: `student(workers, per_thread)` must run `workers` threads that each
/// add 1 to their own counter `per_thread` times, and return the total together
/// with the address of each counter. The check observes the layout, not a timing:
/// on a thread count drawn at check time, no two counters may share a cache line
/// ([`CACHE_LINE`] bytes), whatever the machine's load. The counting itself must
/// run on at least two threads.
pub fn q3_padded_counters(student: impl Fn(usize, u64) -> (u64, Vec<usize>)) -> Verdict {
    let mut draw = crate::verif::work::Draw::new();
    let drawn = draw.range(3, 8) as usize;
    let cases: Vec<(String, (usize, u64))> = vec![
        ("aucun thread".into(), (0, 1_000)),
        ("un thread".into(), (1, 1_000)),
        ("deux threads, rien à compter".into(), (2, 0)),
        ("deux threads".into(), (2, 100_000)),
        (
            format!("{drawn} threads (nombre tiré au hasard)"),
            (drawn, 10_000),
        ),
    ];
    let verdict = check_cases(
        "7.3 compteurs alignés",
        "le total est la somme des compteurs, et il faut rendre l'adresse de chacun (un \
         par thread, tous distincts : une référence se convertit en pointeur brut puis en \
         usize)",
        cases.clone(),
        |&(w, n)| (w as u64 * n, w),
        |&(w, n)| {
            let (total, addresses) = student(w, n);
            let mut distinct = addresses.clone();
            distinct.sort_unstable();
            distinct.dedup();
            (total, distinct.len())
        },
        |a, b| a == b,
    );
    if !verdict.passed() {
        return verdict;
    }
    let (q, done) = (verdict.question.clone(), verdict.cases_passed);
    let (_, addresses) = match crate::verif::run_quietly(|| student(drawn, 1_000)) {
        Ok(out) => out,
        Err(m) => {
            return Verdict::failed(
                &q,
                done,
                "disposition des compteurs",
                "un résultat",
                format!("panique : {m}"),
                "voir le message",
            )
        }
    };
    let mut sorted = addresses.clone();
    sorted.sort_unstable();
    if let Some(pair) = sorted
        .windows(2)
        .find(|p| p[0] / CACHE_LINE == p[1] / CACHE_LINE)
    {
        return Verdict::failed(
            &q,
            done,
            format!("{drawn} threads : disposition des compteurs en mémoire"),
            format!("chaque compteur sur sa propre ligne de cache de {CACHE_LINE} octets"),
            format!(
                "deux compteurs sur la même ligne : adresses {:#x} et {:#x}, à {} octets \
                     l'un de l'autre (faux partage)",
                pair[0],
                pair[1],
                pair[1] - pair[0]
            ),
            "un compteur de 8 octets laisse ses voisins sur sa ligne de cache : il \
                       faut le rembourrer (et l'aligner) jusqu'à occuper une ligne entière ; \
                       cherchez `crossbeam::utils::CachePadded`",
        );
    }
    let passed = Verdict::new(&q, done + 1, Status::Passed);
    crate::verif::parallel::require_parallel(
        passed,
        "2 threads × 2 000 000 : chaque thread incrémente son compteur",
        2 * 2_000_000,
        "le total est juste mais un seul thread a compté : lancez un thread par compteur, \
         qui n'incrémente que le sien",
        |_| student(2, 2_000_000).0,
    )
}

/// Timings (seconds, best of several runs) of the 7.3 counters: the reference
/// with neighbouring counters, the reference with padded counters, and the
/// student's code, measured in turn so that the machine's load hits all three.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CounterTimings {
    /// Counters next to each other (false sharing).
    pub packed: f64,
    /// Counters on their own cache line.
    pub padded: f64,
    /// The student's counters.
    pub student: f64,
}

/// What the timings of [`CounterTimings`] say about the student's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// As fast as the padded reference.
    Padded,
    /// As slow as the neighbouring counters.
    Packed,
    /// The machine shows no false sharing now (busy, or one core): no conclusion.
    Unclear,
}

impl CounterTimings {
    /// Classifies the student's time: nearer (geometric midpoint) the padded or the
    /// packed reference, when the two references differ by at least 1.5×.
    pub fn verdict(&self) -> Padding {
        if self.packed < 1.5 * self.padded {
            Padding::Unclear
        } else if self.student <= (self.packed * self.padded).sqrt() {
            Padding::Padded
        } else {
            Padding::Packed
        }
    }
}

/// Measures the student's 7.3 counters beside both references (`workers` threads,
/// `per_thread` increments, best of `runs`): a figure to look at, never a verdict
/// ([`q3_padded_counters`] judges the layout; a timing on a loaded machine cannot
/// tell false sharing apart).
pub fn measure_counters(
    student: impl Fn(usize, u64) -> u64,
    workers: usize,
    per_thread: u64,
    runs: usize,
) -> CounterTimings {
    let time = |f: &dyn Fn(usize, u64) -> u64| {
        let start = std::time::Instant::now();
        std::hint::black_box(f(workers, per_thread));
        start.elapsed().as_secs_f64()
    };
    let mut best = [f64::INFINITY; 3];
    for _ in 0..runs.max(1) {
        best[0] = best[0].min(time(&super::count_packed));
        best[1] = best[1].min(time(&super::count_padded));
        best[2] = best[2].min(time(&student));
    }
    CounterTimings {
        packed: best[0],
        padded: best[1],
        student: best[2],
    }
}

/// Question 7.4: `student(aos)` must convert an array of structs into a struct of
/// arrays, keeping the order of the records.
pub fn q4_to_soa(student: impl Fn(&PointsAos) -> PointsSoa) -> Verdict {
    let cases: Vec<(String, PointsAos)> = vec![
        ("aucun enregistrement".into(), PointsAos::default()),
        ("un enregistrement".into(), super::records(1)),
        ("1003 enregistrements".into(), super::records(1003)),
        (
            "grandes valeurs".into(),
            PointsAos {
                records: vec![super::Record8 {
                    x: f64::MAX,
                    rest: [1e300; 7],
                }],
            },
        ),
    ];
    check_cases(
        "7.4 tableau de structures → structure de tableaux",
        "une colonne par champ : le vecteur des x, et pour chaque j de 0 à 6 le vecteur des \
         rest[j], dans l'ordre des enregistrements (cherchez `Iterator::map` et `collect`)",
        cases,
        super::to_soa,
        |aos| student(aos),
        |a, b| a == b,
    )
}

/// Model cases `(workers, serial fraction)` of questions 7.5 and 7.6.
fn law_cases() -> Vec<(String, (f64, f64))> {
    let mut cases: Vec<(String, (f64, f64))> = vec![
        ("1 worker".into(), (1.0, 0.3)),
        ("aucune partie séquentielle".into(), (8.0, 0.0)),
        ("tout séquentiel".into(), (8.0, 1.0)),
        ("2 workers, 10 % séquentiel".into(), (2.0, 0.1)),
        ("un million de workers, 5 %".into(), (1e6, 0.05)),
    ];
    for p in [2.0, 4.0, 16.0, 64.0] {
        for s in [0.01, 0.25, 0.5] {
            cases.push((format!("p = {p}, s = {s}"), (p, s)));
        }
    }
    cases
}

/// Question 7.5: `student(p, s)` must return Amdahl's speedup on `p` workers with a
/// serial fraction `s`.
pub fn q5_amdahl(student: impl Fn(f64, f64) -> f64) -> Verdict {
    check_cases(
        "7.5 loi d'Amdahl",
        "S(p) = 1 / (s + (1 − s) / p) : la partie séquentielle s ne s'accélère pas",
        law_cases(),
        |&(p, s)| crate::models::amdahl(p, s),
        |&(p, s)| student(p, s),
        |a, b| close(*a, *b, 1e-9),
    )
}

/// Question 7.6: `student(p, s)` must return Gustafson's scaled speedup.
pub fn q6_gustafson(student: impl Fn(f64, f64) -> f64) -> Verdict {
    check_cases(
        "7.6 loi de Gustafson",
        "S(p) = s + (1 − s) · p : la taille du problème grandit avec p, le temps reste fixe",
        law_cases(),
        |&(p, s)| crate::models::gustafson(p, s),
        |&(p, s)| student(p, s),
        |a, b| close(*a, *b, 1e-9),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::primes;

    #[test]
    fn the_verdict_follows_the_nearer_reference() {
        let t = |student| CounterTimings {
            packed: 0.30,
            padded: 0.10,
            student,
        };
        assert_eq!(t(0.11).verdict(), Padding::Padded);
        assert_eq!(t(0.28).verdict(), Padding::Packed);
        // References too close to tell (no false sharing visible, e.g. one core).
        let close = CounterTimings {
            packed: 0.12,
            padded: 0.10,
            student: 0.30,
        };
        assert_eq!(close.verdict(), Padding::Unclear);
    }

    /// The notebook's answer: one padded counter per thread, and their addresses.
    fn padded(workers: usize, per_thread: u64) -> (u64, Vec<usize>) {
        use crossbeam::utils::CachePadded;
        use std::sync::atomic::{AtomicU64, Ordering};
        let counters: Vec<CachePadded<AtomicU64>> = (0..workers)
            .map(|_| CachePadded::new(AtomicU64::new(0)))
            .collect();
        std::thread::scope(|s| {
            for c in &counters {
                s.spawn(move || {
                    for _ in 0..per_thread {
                        c.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        let addresses = counters
            .iter()
            .map(|c| &**c as *const AtomicU64 as usize)
            .collect();
        (
            counters.iter().map(|c| c.load(Ordering::Relaxed)).sum(),
            addresses,
        )
    }

    /// Counters of any type `C` (made by `new`), one thread each.
    fn counters_of<C: Sync + std::ops::Deref<Target = std::sync::atomic::AtomicU64>>(
        workers: usize,
        per_thread: u64,
        new: impl Fn() -> C,
    ) -> (u64, Vec<usize>) {
        use std::sync::atomic::Ordering;
        let counters: Vec<C> = (0..workers).map(|_| new()).collect();
        std::thread::scope(|s| {
            for c in &counters {
                s.spawn(move || {
                    for _ in 0..per_thread {
                        c.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        let addresses = counters.iter().map(|c| &**c as *const _ as usize).collect();
        (
            counters.iter().map(|c| c.load(Ordering::Relaxed)).sum(),
            addresses,
        )
    }

    #[test]
    fn counters_sharing_a_line_are_refused_whatever_the_load() {
        use std::sync::atomic::AtomicU64;
        // Plain neighbours (8 bytes apart).
        #[derive(Default)]
        struct Plain(AtomicU64);
        impl std::ops::Deref for Plain {
            type Target = AtomicU64;
            fn deref(&self) -> &AtomicU64 {
                &self.0
            }
        }
        // Aligned, but on 16 bytes: four counters per line.
        #[repr(align(16))]
        #[derive(Default)]
        struct Align16(AtomicU64);
        impl std::ops::Deref for Align16 {
            type Target = AtomicU64;
            fn deref(&self) -> &AtomicU64 {
                &self.0
            }
        }
        // Padded to 64 bytes and aligned: passes.
        #[repr(align(64))]
        #[derive(Default)]
        struct Align64(AtomicU64);
        impl std::ops::Deref for Align64 {
            type Target = AtomicU64;
            fn deref(&self) -> &AtomicU64 {
                &self.0
            }
        }
        for _ in 0..3 {
            let v = q3_padded_counters(|w, n| counters_of(w, n, Plain::default));
            assert!(v.to_string().contains("faux partage"), "{v}");
            let v = q3_padded_counters(|w, n| counters_of(w, n, Align16::default));
            assert!(v.to_string().contains("faux partage"), "{v}");
            let v = q3_padded_counters(|w, n| counters_of(w, n, Align64::default));
            assert!(v.passed(), "{v}");
        }
    }

    #[test]
    fn padded_counters_without_threads_are_refused() {
        use crossbeam::utils::CachePadded;
        use std::sync::atomic::{AtomicU64, Ordering};
        // Padded counters, all incremented by the calling thread.
        let v = q3_padded_counters(|w, n| {
            let counters: Vec<CachePadded<AtomicU64>> = (0..w)
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect();
            for c in &counters {
                for _ in 0..n {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            }
            let a = counters
                .iter()
                .map(|c| &**c as *const AtomicU64 as usize)
                .collect();
            (counters.iter().map(|c| c.load(Ordering::Relaxed)).sum(), a)
        });
        assert!(v.to_string().contains("un seul thread"), "{v}");
        // A closed form with made-up addresses: no thread counted.
        let v = q3_padded_counters(|w, n| (w as u64 * n, (0..w).map(|i| 4096 + 128 * i).collect()));
        assert!(v.to_string().contains("un seul thread"), "{v}");
        // One address for every counter.
        let v = q3_padded_counters(|w, n| (padded(w, n).0, vec![64; w]));
        assert!(v.failure_case().is_some(), "{v}");
    }

    #[test]
    fn sequential_chunks_are_rejected() {
        let v = q2_chunked_primes(|n, size| {
            (0..n.div_ceil(size))
                .map(|c| primes::count_range(c * size, ((c + 1) * size).min(n)))
                .sum()
        });
        assert!(v.to_string().contains("un seul thread"), "{v}");
    }

    #[test]
    fn median_of_nothing_is_nan() {
        let v = q1_median(|xs| {
            let mut s = xs.to_vec();
            s.sort_by(f64::total_cmp);
            let n = s.len();
            if n % 2 == 1 {
                s[n / 2]
            } else {
                (s[n / 2 - 1] + s[n / 2]) / 2.0
            }
        });
        assert!(v.to_string().contains("aucune mesure"), "{v}");
    }

    #[test]
    fn q1_reference_passes_and_mean_fails() {
        assert!(q1_median(super::super::median).passed());
        let v = q1_median(super::super::mean);
        assert!(v.failure_case().is_some(), "{v}");
        // Forgetting the even case fails on it.
        let upper = |xs: &[f64]| {
            let mut s = xs.to_vec();
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        };
        let v = q1_median(upper);
        assert!(v.to_string().contains("nombre pair"), "{v}");
        assert!(q1_median(|_| todo!()).not_done());
    }

    #[test]
    fn q2_reference_passes_and_off_by_one_fails() {
        assert!(q2_chunked_primes(super::super::count_primes_chunked).passed());
        // Forgetting the last partial task.
        let v = q2_chunked_primes(|n, chunk| {
            super::super::count_primes_chunked(n / chunk.max(1) * chunk.max(1), chunk)
        });
        assert!(v.failure_case().is_some(), "{v}");
    }

    #[test]
    fn q3_reference_passes_and_lost_updates_fail() {
        for _ in 0..3 {
            let v = q3_padded_counters(padded);
            assert!(v.passed(), "{v}");
        }
        let v = q3_padded_counters(|w, n| {
            let (_, a) = padded(w, n);
            (if w > 1 { n } else { w as u64 * n }, a)
        });
        assert!(v.failure_case().is_some(), "{v}");
    }

    #[test]
    fn q4_reference_passes_and_swapped_columns_fail() {
        assert!(q4_to_soa(super::super::to_soa).passed());
        let v = q4_to_soa(|aos| {
            let mut s = super::super::to_soa(aos);
            s.rest.swap(0, 1);
            s
        });
        assert!(v.failure_case().is_some(), "{v}");
    }

    #[test]
    fn q5_q6_reference_passes_and_swapped_laws_fail() {
        assert!(q5_amdahl(super::super::amdahl_speedup).passed());
        assert!(q6_gustafson(super::super::gustafson_speedup).passed());
        assert!(q5_amdahl(super::super::gustafson_speedup)
            .failure_case()
            .is_some());
        assert!(q6_gustafson(super::super::amdahl_speedup)
            .failure_case()
            .is_some());
        assert!(q5_amdahl(|p, _| p).failure_case().is_some());
    }
}
