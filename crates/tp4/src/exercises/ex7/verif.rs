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
use crate::verif::work::{require_work_of, Draw, Work};
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

/// The tasks a 7.2 answer asked `work` to count, described in French: how many,
/// of what size, or where they stop tiling `0..n` (empty tasks ignored).
fn tasks(work: Work, n: u64) -> String {
    let ranges: Vec<(u64, u64)> = work
        .ranges()
        .into_iter()
        .map(|(_, s, e)| (s, e))
        .filter(|(s, e)| s < e)
        .collect();
    if ranges.is_empty() {
        return if n == 0 {
            "aucune tâche (n = 0)".into()
        } else {
            "aucune tâche comptée par `travail.count_primes`".into()
        };
    }
    let mut next = 0;
    for &(s, e) in &ranges {
        if s != next {
            return format!("des tâches qui ne pavent pas 0..n : après {next}, une tâche {s}..{e}");
        }
        next = e;
    }
    if next != n {
        return format!("des tâches qui s'arrêtent à {next} (n = {n})");
    }
    let sizes: Vec<u64> = ranges.iter().map(|(s, e)| e - s).collect();
    let numbers = |k: u64| crate::fr::count(k, "nombre", "nombres");
    match sizes.as_slice() {
        [one] => format!("1 tâche de {}", numbers(*one)),
        [first, middle @ .., last] if middle.iter().all(|m| m == first) && last <= first => {
            format!(
                "{} tâches de {} (la dernière : {})",
                sizes.len(),
                numbers(*first),
                numbers(*last)
            )
        }
        _ => format!(
            "{} tâches de tailles différentes ({:?}…)",
            sizes.len(),
            &sizes[..sizes.len().min(6)]
        ),
    }
}

/// Question 7.2: `student(n, chunk, work)` must count the primes below `n` with
/// tasks of `chunk` consecutive numbers, each counted by one
/// `work.count_primes(start, end)` call (the check sees the tasks), inside a
/// rayon pool of 2 threads; on a case drawn at check time (n and the task size),
/// at least two threads of the pool must each count 5 % of the numbers (a
/// dynamic scheduler on a loaded machine may be uneven; a sequential loop, or a
/// thread spinning beside it, counts nothing).
pub fn q2_chunked_primes(student: impl Fn(u64, u64, Work) -> u64 + Sync) -> Verdict {
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
         plus courte), chacune comptée par un appel à `travail.count_primes`, et sommez \
         les comptes en parallèle (cherchez `IntoParallelIterator` dans rayon)",
        cases,
        |&(n, chunk)| {
            let reference = Work::fresh();
            let count = super::count_primes_chunked_with(n, chunk, reference);
            (count, tasks(reference, n))
        },
        |&(n, chunk)| {
            let work = Work::fresh();
            let count = pool.install(|| student(n, chunk, work));
            (count, tasks(work, n))
        },
        |a, b| a == b,
    );
    let mut draw = Draw::new();
    let (n, chunk) = (draw.range(300_000, 500_000), draw.range(500, 3_000));
    require_work_of(
        verdict,
        &format!("n = {n}, tâches de {chunk} (tirés au hasard), pool de 2 threads"),
        0.05,
        Some(n),
        "les tâches doivent être réparties entre les threads du pool par rayon \
         (`into_par_iter`), chacune comptée par `travail.count_primes` dans le thread qui \
         l'exécute",
        "le compte doit être celui des nombres premiers sous n, fait par les appels à \
         `travail.count_primes` sur des tâches de la taille demandée",
        |_| crate::workloads::primes::reference_count(n),
        |work| pool.install(|| student(n, chunk, work)),
    )
}

/// The size of a cache line, in bytes, as the 7.3 check judges it.
pub const CACHE_LINE: usize = 64;

/// Question 7.3: `student(workers, per_thread, work)` must run `workers` threads
/// that each add 1 `per_thread` times to their own counter, made by
/// `work.counter()`, and return the total. The counters record each increment,
/// its thread and the counter's address at that moment, so the check observes
/// both the counting (each of the `workers` threads did its `per_thread`
/// increments, on its own counter) and the layout (no two counters on one
/// [`CACHE_LINE`]), on a thread count drawn at check time, whatever the load.
pub fn q3_padded_counters(student: impl Fn(usize, u64, Work) -> u64) -> Verdict {
    let q = "7.3 compteurs alignés";
    let mut draw = Draw::new();
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
    let mut passed = 0;
    for (case, (w, n)) in cases {
        let fail = |expected: String, got: String, hint: &str| {
            Verdict::failed(q, passed, case.clone(), expected, got, hint)
        };
        let work = Work::fresh();
        let got = match crate::verif::run_quietly(|| student(w, n, work)) {
            Err(m) if crate::verif::is_todo(&m) => return Verdict::new(q, passed, Status::NotDone),
            Err(m) => {
                return fail(
                    "un total".into(),
                    format!("panique : {m}"),
                    "voir le message",
                )
            }
            Ok(got) => got,
        };
        let wanted = w as u64 * n;
        if got != wanted {
            return fail(
                wanted.to_string(),
                got.to_string(),
                "le total est la somme des compteurs, lue après la fin de tous les threads",
            );
        }
        if n == 0 {
            passed += 1;
            continue;
        }
        let used = work.handles();
        let updates: u64 = used.iter().map(|h| h.updates).sum();
        if updates != wanted {
            return fail(
                format!("{wanted} incréments (`fetch_add`) sur les compteurs de `travail`"),
                format!("{updates} vus"),
                "chaque thread incrémente un compteur créé par `travail.counter()`, un \
                 `fetch_add` par incrément : c'est ainsi que le vérificateur voit les \
                 compteurs et leur place en mémoire",
            );
        }
        let own = |h: &crate::verif::work::HandleUse| h.updates == n && !h.several;
        if used.len() != w || !used.iter().all(own) {
            let shares = work.updates();
            return fail(
                format!("{w} threads faisant chacun {n} incréments sur leur propre compteur"),
                format!(
                    "incréments faits par {}{}",
                    shares.describe(),
                    if used.iter().any(|h| h.several) {
                        " (un thread a incrémenté plusieurs compteurs)"
                    } else {
                        ""
                    }
                ),
                "lancez un thread par compteur, qui n'incrémente que le sien",
            );
        }
        let mut addresses: Vec<usize> = used.iter().map(|h| h.address).collect();
        addresses.sort_unstable();
        if let Some(p) = addresses.windows(2).find(|p| p[0] == p[1]) {
            return fail(
                format!("{w} compteurs distincts, un par thread"),
                format!("plusieurs threads sur le compteur à l'adresse {:#x}", p[0]),
                "chaque thread a SON compteur (un par thread) : le faux partage vient de \
                 compteurs distincts voisins en mémoire, pas d'un compteur commun",
            );
        }
        if let Some(p) = addresses
            .windows(2)
            .find(|p| p[0] / CACHE_LINE == p[1] / CACHE_LINE)
        {
            return fail(
                format!("chaque compteur sur sa propre ligne de cache de {CACHE_LINE} octets"),
                format!(
                    "deux compteurs sur la même ligne : adresses {:#x} et {:#x}, à {} octets \
                     l'un de l'autre (faux partage)",
                    p[0],
                    p[1],
                    p[1] - p[0]
                ),
                "un compteur occupe bien moins qu'une ligne de cache, ses voisins s'y \
                 retrouvent : il faut le rembourrer et l'aligner jusqu'à occuper une ligne \
                 entière (cherchez `crossbeam::utils::CachePadded`, ou l'attribut `repr` et son option `align`)",
            );
        }
        passed += 1;
    }
    Verdict::new(q, passed, Status::Passed)
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

    use crate::verif::testing::{beside_a_spinning_thread, refused_for};
    use crate::verif::work::Counter;
    use std::sync::atomic::Ordering;

    /// The notebook's answer: one padded counter per thread.
    fn padded(workers: usize, per_thread: u64, work: Work) -> u64 {
        counters_of(workers, per_thread, || {
            crossbeam::utils::CachePadded::new(work.counter())
        })
    }

    /// Counters of any type `C` (made by `new`), one thread each.
    fn counters_of<C: Sync + std::ops::Deref<Target = Counter>>(
        workers: usize,
        per_thread: u64,
        new: impl Fn() -> C,
    ) -> u64 {
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
        counters.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    macro_rules! wrapper {
        ($name:ident, $align:literal) => {
            #[repr(align($align))]
            struct $name(Counter);
            impl std::ops::Deref for $name {
                type Target = Counter;
                fn deref(&self) -> &Counter {
                    &self.0
                }
            }
        };
    }

    #[test]
    fn counters_sharing_a_line_are_refused_whatever_the_load() {
        wrapper!(Align16, 16);
        wrapper!(Align32, 32);
        wrapper!(Align64, 64);
        for _ in 0..3 {
            // Plain neighbours (16 bytes apart), aligned on 16 or 32 bytes. (Boxed
            // one by one, counters land wherever the allocator puts them: the check
            // judges where they really are, not how they were declared.)
            let v = q3_padded_counters(|w, n, work| {
                let counters: Vec<Counter> = (0..w).map(|_| work.counter()).collect();
                std::thread::scope(|s| {
                    for c in &counters {
                        s.spawn(move || {
                            (0..n).for_each(|_| {
                                c.fetch_add(1, Ordering::Relaxed);
                            })
                        });
                    }
                });
                counters.iter().map(|c| c.load(Ordering::Relaxed)).sum()
            });
            refused_for(&v, "faux partage");
            let v = q3_padded_counters(|w, n, work| counters_of(w, n, || Align16(work.counter())));
            refused_for(&v, "faux partage");
            let v = q3_padded_counters(|w, n, work| counters_of(w, n, || Align32(work.counter())));
            refused_for(&v, "faux partage");
            // Padded to a 64-byte line and aligned: passes (see CACHE_LINE).
            let v = q3_padded_counters(|w, n, work| counters_of(w, n, || Align64(work.counter())));
            assert!(v.passed(), "{v}");
            // Padding declared but not where the counters are: a padded array
            // beside the plain counters that are really incremented.
            let v = q3_padded_counters(|w, n, work| {
                let decoy: Vec<crossbeam::utils::CachePadded<Counter>> = (0..w)
                    .map(|_| crossbeam::utils::CachePadded::new(work.counter()))
                    .collect();
                let plain: Vec<Counter> = (0..w).map(|_| work.counter()).collect();
                std::thread::scope(|s| {
                    for c in &plain {
                        s.spawn(move || {
                            (0..n).for_each(|_| {
                                c.fetch_add(1, Ordering::Relaxed);
                            })
                        });
                    }
                });
                drop(decoy);
                plain.iter().map(|c| c.load(Ordering::Relaxed)).sum()
            });
            refused_for(&v, "faux partage");
        }
    }

    #[test]
    fn padded_counters_without_their_threads_are_refused() {
        let padded_seq = |w: usize, n: u64, work: Work| {
            let counters: Vec<crossbeam::utils::CachePadded<Counter>> = (0..w)
                .map(|_| crossbeam::utils::CachePadded::new(work.counter()))
                .collect();
            for c in &counters {
                for _ in 0..n {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            }
            counters.iter().map(|c| c.load(Ordering::Relaxed)).sum()
        };
        // All incremented by the calling thread.
        let v = q3_padded_counters(padded_seq);
        refused_for(&v, "un thread par compteur");
        // The same beside a thread that spins.
        let v =
            q3_padded_counters(|w, n, work| beside_a_spinning_thread(|| padded_seq(w, n, work)));
        refused_for(&v, "un thread par compteur");
        // A closed form, with or without a sleep: nothing counted.
        let v = q3_padded_counters(|w, n, _| w as u64 * n);
        refused_for(&v, "`travail.counter()`");
        let v = q3_padded_counters(|w, n, _| {
            std::thread::sleep(std::time::Duration::from_millis(2));
            w as u64 * n
        });
        refused_for(&v, "`travail.counter()`");
        // Plain atomics of the answer's own, padded: the check cannot see them.
        let v = q3_padded_counters(|w, n, _| {
            use std::sync::atomic::AtomicU64;
            let counters: Vec<crossbeam::utils::CachePadded<AtomicU64>> = (0..w)
                .map(|_| crossbeam::utils::CachePadded::new(AtomicU64::new(0)))
                .collect();
            std::thread::scope(|s| {
                for c in &counters {
                    s.spawn(move || {
                        (0..n).for_each(|_| {
                            c.fetch_add(1, Ordering::Relaxed);
                        })
                    });
                }
            });
            counters.iter().map(|c| c.load(Ordering::Relaxed)).sum()
        });
        refused_for(&v, "`travail.counter()`");
        // One shared counter for every thread.
        let v = q3_padded_counters(|w, n, work| {
            let c = crossbeam::utils::CachePadded::new(work.counter());
            std::thread::scope(|s| {
                for _ in 0..w {
                    s.spawn(|| {
                        (0..n).for_each(|_| {
                            c.fetch_add(1, Ordering::Relaxed);
                        })
                    });
                }
            });
            c.load(Ordering::Relaxed)
        });
        refused_for(&v, "SON compteur");
        // A token share: a second thread does a few increments, the caller the rest.
        let v = q3_padded_counters(|w, n, work| {
            let counters: Vec<crossbeam::utils::CachePadded<Counter>> = (0..w)
                .map(|_| crossbeam::utils::CachePadded::new(work.counter()))
                .collect();
            if let Some(first) = counters.first() {
                std::thread::scope(|s| {
                    s.spawn(|| {
                        (0..n.min(5)).for_each(|_| {
                            first.fetch_add(1, Ordering::Relaxed);
                        })
                    });
                });
                (n.min(5)..n).for_each(|_| {
                    first.fetch_add(1, Ordering::Relaxed);
                });
            }
            for c in counters.iter().skip(1) {
                (0..n).for_each(|_| {
                    c.fetch_add(1, Ordering::Relaxed);
                });
            }
            counters.iter().map(|c| c.load(Ordering::Relaxed)).sum()
        });
        refused_for(&v, "un thread par compteur");
    }

    /// The notebook's 7.2 answer.
    fn chunked(n: u64, size: u64, work: Work) -> u64 {
        use rayon::prelude::*;
        let size = size.max(1);
        (0..n.div_ceil(size))
            .into_par_iter()
            .map(|c| work.count_primes(c * size, ((c + 1) * size).min(n)))
            .sum()
    }

    #[test]
    fn chunked_counts_without_parallel_tasks_are_refused() {
        let seq = |n: u64, size: u64, work: Work| {
            let size = size.max(1);
            (0..n.div_ceil(size))
                .map(|c| work.count_primes(c * size, ((c + 1) * size).min(n)))
                .sum::<u64>()
        };
        let v = q2_chunked_primes(seq);
        refused_for(&v, "1 thread : 100 %");
        // Beside a thread that spins.
        let v = q2_chunked_primes(|n, size, work| beside_a_spinning_thread(|| seq(n, size, work)));
        refused_for(&v, "1 thread : 100 %");
        // Parallel, but around `travail` (the workload's function directly).
        let v = q2_chunked_primes(|n, size, _| {
            use rayon::prelude::*;
            let size = size.max(1);
            (0..n.div_ceil(size))
                .into_par_iter()
                .map(|c| primes::count_range(c * size, ((c + 1) * size).min(n)))
                .sum()
        });
        refused_for(&v, "aucune tâche");
        // One task for everything (the task size ignored), or a closed form.
        let v = q2_chunked_primes(|n, _, work| work.count_primes(0, n));
        refused_for(&v, "tâches de 1");
        let v = q2_chunked_primes(|n, _, _| primes::reference_count(n));
        refused_for(&v, "aucune tâche");
        // A token share: the pool counts the first task, the caller the rest.
        let v = q2_chunked_primes(|n, size, work| {
            let size = size.max(1);
            let first = std::thread::scope(|s| {
                s.spawn(|| work.count_primes(0, size.min(n)))
                    .join()
                    .unwrap()
            });
            first
                + (1..n.div_ceil(size))
                    .map(|c| work.count_primes(c * size, ((c + 1) * size).min(n)))
                    .sum::<u64>()
        });
        refused_for(&v, "5 %");
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
        refused_for(&v, "aucune mesure");
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
        refused_for(&v, "nombre pair");
        assert!(q1_median(|_| todo!()).not_done());
    }

    #[test]
    fn q2_reference_passes_and_off_by_one_fails() {
        for _ in 0..2 {
            let v = q2_chunked_primes(chunked);
            assert!(v.passed(), "{v}");
        }
        // Forgetting the last partial task.
        let v = q2_chunked_primes(|n, chunk, work| {
            chunked(n / chunk.max(1) * chunk.max(1), chunk, work)
        });
        assert!(v.failure_case().is_some(), "{v}");
        // Tasks of the size plus one.
        let v = q2_chunked_primes(|n, chunk, work| {
            use rayon::prelude::*;
            let size = chunk + 1;
            (0..n.div_ceil(size))
                .into_par_iter()
                .map(|c| work.count_primes(c * size, ((c + 1) * size).min(n)))
                .sum()
        });
        assert!(v.failure_case().is_some(), "{v}");
    }

    #[test]
    fn q3_reference_passes_and_lost_updates_fail() {
        for _ in 0..3 {
            let v = q3_padded_counters(padded);
            assert!(v.passed(), "{v}");
        }
        // A total that forgets all but one counter.
        let v = q3_padded_counters(|w, n, work| {
            let t = padded(w, n, work);
            if w > 1 {
                n
            } else {
                t
            }
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
