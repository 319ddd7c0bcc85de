//! The checkers of exercise 4: each `qN_...` function takes the student's function
//! and compares it with the reference of [`super`] on fixed, edge and generated
//! cases; the [`Verdict`] displays the French diagnosis printed by the notebook.
//!
//! ```
//! use tp4::ex4::verif;
//! let v = verif::q10_amdahl(|p, s| 1.0 / (s + (1.0 - s) / p));
//! assert!(v.passed(), "{v}");
//! ```
//!
//! The references of [`super`] are private to the library, so a notebook cannot
//! hand them in as its answer:
//!
//! ```compile_fail,E0603
//! tp4::ex4::verif::q2_spawn_sum(tp4::ex4::spawn_sum);
//! ```
//!
//! An answer still holding `todo!()` is "not done yet", not a crash:
//!
//! ```
//! fn spawn_sum(_data: Vec<u64>, _workers: usize) -> u64 {
//!     todo!()
//! }
//! assert!(tp4::ex4::verif::q2_spawn_sum(spawn_sum).not_done());
//! ```

use crate::verif::parallel::{require_parallel, still_running_after};
use crate::verif::{check_cases, close, Failure, Status, Verdict};
use crate::workloads::primes;

/// Q4.1: `f(affinity, quota_cpus)` must give the usable CPU count.
pub fn q1_usable_cpus(f: impl Fn(usize, Option<f64>) -> usize) -> Verdict {
    let cases = [
        ("sans quota", (4, None)),
        ("quota entier", (8, Some(2.0))),
        ("quota fractionnaire 1,5", (4, Some(1.5))),
        ("quota plus grand que l'affinité", (2, Some(8.0))),
        ("quota d'un demi-CPU", (4, Some(0.5))),
        ("un seul CPU", (1, None)),
    ]
    .map(|(n, i)| (n.to_string(), i));
    check_cases(
        "4.1 CPU utilisables",
        "prenez le minimum de l'affinité et du quota arrondi au-dessus (ceil), et au moins 1",
        cases,
        |&(a, q)| super::usable_cpus_from(a, q),
        |&(a, q)| f(a, q),
        |a, b| a == b,
    )
}

fn vectors() -> Vec<(String, (Vec<u64>, usize))> {
    vec![
        ("vide".into(), (vec![], 3)),
        ("un élément".into(), (vec![7], 4)),
        ("taille divisible".into(), ((1..=12).collect(), 3)),
        ("reste non nul".into(), ((1..=10).collect(), 3)),
        ("plus de workers que d'éléments".into(), (vec![5, 6], 8)),
        ("grandes valeurs".into(), (vec![u32::MAX as u64; 1001], 4)),
    ]
}

/// Q4.2: `f(data, workers)` must return the sum computed by spawned threads. A
/// wrong sum while the answer's threads are still running when it returns means a
/// missing `join` (the sum was read before the threads added their part), which
/// the verdict says rather than blame the chunks.
pub fn q2_spawn_sum(f: impl Fn(Vec<u64>, usize) -> u64) -> Verdict {
    let unjoined = std::cell::Cell::new(false);
    let verdict = check_cases(
        "4.2 thread::spawn et JoinHandle",
        "chaque élément doit être dans exactement un morceau : taille = len / workers \
         arrondi au-dessus (`div_ceil`), et le dernier morceau prend le reste",
        vectors(),
        |(v, _)| v.iter().sum::<u64>(),
        |(v, w)| {
            let (sum, running) = still_running_after(|| f(v.clone(), *w));
            unjoined.set(running > 0);
            sum
        },
        |a, b| a == b,
    );
    match verdict.status {
        Status::Failed(mut e) if unjoined.get() => {
            e.hint = "des threads travaillaient encore quand la fonction a rendu sa somme : \
                      attendez la fin de chaque thread (`join`) avant de lire leurs résultats"
                .into();
            Verdict::new(&verdict.question, verdict.cases_passed, Status::Failed(e))
        }
        _ => verdict,
    }
}

/// Q4.3: `f(data, workers)` must return the maximum (None if empty).
pub fn q3_scoped_max(f: impl Fn(&[i64], usize) -> Option<i64>) -> Verdict {
    let cases: Vec<(String, (Vec<i64>, usize))> = vec![
        ("vide".into(), (vec![], 2)),
        ("un élément négatif".into(), (vec![-5], 2)),
        ("tous négatifs".into(), (vec![-9, -3, -7, -4], 2)),
        (
            "maximum dans le dernier morceau".into(),
            ((0..101).collect(), 3),
        ),
        ("égalités".into(), (vec![4, 4, 4], 2)),
    ];
    let verdict = check_cases(
        "4.3 thread::scope",
        "un slice vide n'a pas de maximum (None) ; n'initialisez pas le maximum à 0 \
         (valeurs négatives) ; n'oubliez pas le dernier morceau",
        cases,
        |(v, w)| super::scoped_max(v, *w),
        |(v, w)| f(v, *w),
        |a, b| a == b,
    );
    let big: Vec<i64> = (0..2_000_000).map(|i| (i * 7_919) % 1_000_003).collect();
    require_parallel(
        verdict,
        "2 000 000 valeurs, 2 workers : un thread par morceau",
        super::scoped_max(&big, 2),
        "le résultat est juste mais calculé par un seul thread : lancez un thread par \
         morceau dans std::thread::scope",
        |_| f(&big, 2),
    )
}

fn prime_cases() -> Vec<(String, (u64, usize))> {
    vec![
        ("n = 0".into(), (0, 2)),
        ("n = 3 (2 seul)".into(), (3, 2)),
        ("bornes sur des premiers".into(), (14, 2)),
        ("n = 1000, 3 workers".into(), (1000, 3)),
        ("n = 10 007, 4 workers".into(), (10_007, 4)),
        ("n = 100 000, 2 workers".into(), (100_000, 2)),
    ]
}

/// Q4.4 and Q4.5: `f(n, workers)` must count the primes below `n`.
pub fn q4_count_primes(f: impl Fn(u64, usize) -> u64 + Sync) -> Verdict {
    let verdict = check_cases(
        "4.4 W1 en parallèle",
        "les morceaux [n·w/P, n·(w+1)/P) couvrent 0..n sans trou ni chevauchement ; \
         1 n'est pas premier, 2 l'est",
        prime_cases(),
        |&(n, _)| primes::reference_count(n),
        |&(n, w)| f(n, w),
        |a, b| a == b,
    );
    require_parallel(
        verdict,
        "n = 400 000, 2 workers : le comptage doit être partagé",
        primes::reference_count(400_000),
        "le compte est juste mais un seul thread a travaillé : chaque worker doit compter \
         sa plage dans son propre thread",
        |pool| pool.install(|| f(400_000, 2)),
    )
}

/// Q4.6: `f(n, workers)` (with worker processes) must count the primes below `n`.
pub fn q6_primes_processes(f: impl Fn(u64, usize) -> crate::Result<u64>) -> Verdict {
    check_cases(
        "4.6 W1 avec des processus",
        "chaque processus calcule sa plage et écrit son résultat sur sa sortie standard ; \
         le parent lit et additionne toutes les réponses (et attend chaque enfant)",
        prime_cases(),
        |&(n, _)| Ok::<u64, String>(primes::reference_count(n)),
        |&(n, w)| f(n, w).map_err(|e| e.to_string()),
        |a, b| a == b,
    )
}

/// Whether a process id is still present (running or zombie) on this machine.
fn still_there(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].chars().next()
}

/// Q4.7: `f()` must start a real process, wait for it, and return its pid.
pub fn q7_child_pid(f: impl Fn() -> crate::Result<u32>) -> Verdict {
    let q = "4.7 un vrai processus";
    let fail = |passed, case: &str, expected: &str, got: String, hint: &str| {
        Verdict::new(
            q,
            passed,
            Status::Failed(Failure {
                case: case.into(),
                expected: expected.into(),
                got,
                hint: hint.into(),
            }),
        )
    };
    let mut pids = Vec::new();
    for round in 0..3 {
        let pid = match crate::verif::run_quietly(&f) {
            Err(m) if crate::verif::is_todo(&m) => return Verdict::new(q, round, Status::NotDone),
            Err(m) => {
                return fail(
                    round,
                    "lancement",
                    "un pid",
                    format!("panique : {m}"),
                    "voir le message",
                )
            }
            Ok(Err(e)) => {
                return fail(
                    round,
                    "lancement",
                    "un pid",
                    format!("erreur : {e}"),
                    "voir le message",
                )
            }
            Ok(Ok(p)) => p,
        };
        if pid == std::process::id() {
            return fail(round, "pid de l'enfant", "un pid différent du nôtre", pid.to_string(),
                "ce pid est celui du programme lui-même : un thread partage le processus ; lancez un processus (Command)");
        }
        if let Some(state) = still_there(pid) {
            return fail(
                round,
                "enfant attendu",
                "un processus terminé et attendu",
                format!("pid {pid} encore présent (état {state})"),
                "appelez wait() (ou output()) sur l'enfant : sinon il reste zombie ou orphelin",
            );
        }
        if pids.contains(&pid) {
            return fail(
                round,
                "un processus par appel",
                "un nouveau pid",
                pid.to_string(),
                "chaque appel doit démarrer un nouveau processus",
            );
        }
        pids.push(pid);
    }
    Verdict::new(q, 3, Status::Passed)
}

/// Q4.8: `f(xs, threads)` must return the sum of squares and the pool size seen
/// inside the pool.
pub fn q8_fixed_pool(f: impl Fn(&[u64], usize) -> (u64, usize)) -> Verdict {
    let cases: Vec<(String, (Vec<u64>, usize))> = vec![
        ("1 thread".into(), ((0..100).collect(), 1)),
        ("3 threads".into(), ((0..1000).collect(), 3)),
        ("5 threads, vide".into(), (vec![], 5)),
    ];
    let hint = "construisez un pool de la taille demandée (`rayon::ThreadPoolBuilder`, \
                `num_threads`) et faites le calcul dedans (`ThreadPool::install`) : hors \
                de install, c'est le pool global qui travaille";
    let verdict = check_cases(
        "4.8 pool de taille fixe",
        hint,
        cases,
        |(v, t)| super::pool_sum_squares(v, *t),
        |(v, t)| f(v, *t),
        |a, b| a == b,
    );
    let xs: Vec<u64> = (0..100_000).collect();
    require_parallel(
        verdict,
        "pool de 3 threads : ses threads doivent exister",
        super::pool_sum_squares(&xs, 3),
        "aucun thread n'a été créé : la taille rendue doit être celle d'un pool que la \
         fonction construit (ThreadPoolBuilder), pas l'argument recopié",
        |_| f(&xs, 3),
    )
}

/// Q4.9: `f(samples, workers)` must give exactly the estimate of the reference
/// streams for that worker count.
pub fn q9_pi_streams(f: impl Fn(u64, usize) -> f64) -> Verdict {
    let cases = [(10_000, 1), (10_000, 2), (30_001, 3), (50_000, 4)]
        .map(|(s, w)| (format!("{s} points, {w} workers"), (s, w)));
    check_cases(
        "4.9 π reproductible",
        "le worker w compte les points de SON flux (`pi::hits` avec son numéro w) et en \
         tire sa part du total (`pi::share`) : le résultat ne dépend ni de l'ordre des \
         threads ni de l'heure ; pas de générateur partagé",
        cases,
        |&(s, w)| super::pi_streams(s, w),
        |&(s, w)| f(s, w),
        |a, b| a == b,
    )
}

/// Q4.10: `f(p, s)` must be Amdahl's speedup.
pub fn q10_amdahl(f: impl Fn(f64, f64) -> f64) -> Verdict {
    let cases = [
        (1.0, 0.3),
        (2.0, 0.0),
        (4.0, 0.1),
        (16.0, 0.05),
        (1e6, 0.05),
        (8.0, 1.0),
    ]
    .map(|(p, s)| (format!("p = {p}, s = {s}"), (p, s)));
    check_cases(
        "4.10 loi d'Amdahl",
        "S(p) = 1 / (s + (1 - s) / p) ; elle tend vers 1/s quand p grandit (ce n'est pas la \
         loi de Gustafson s + (1 - s)·p)",
        cases,
        |&(p, s)| super::amdahl_speedup(p, s),
        |&(p, s)| f(p, s),
        |a, b| close(*a, *b, 1e-9),
    )
}

/// Q4.11: `f(points)` must fit the serial fraction by least squares.
pub fn q11_serial_fraction(f: impl Fn(&[(f64, f64)]) -> Option<f64>) -> Verdict {
    let exact: Vec<(f64, f64)> = (1..=8)
        .map(|p| (p as f64, crate::models::amdahl(p as f64, 0.2)))
        .collect();
    let noisy = vec![(1.0, 1.0), (2.0, 1.7), (3.0, 2.4), (4.0, 2.6)];
    let cases: Vec<(String, Vec<(f64, f64)>)> = vec![
        ("un seul worker".into(), vec![(1.0, 1.0)]),
        ("mesures exactes, s = 0,2".into(), exact),
        ("mesures bruitées".into(), noisy),
        (
            "accélération parfaite".into(),
            vec![(1.0, 1.0), (2.0, 2.0), (4.0, 4.0)],
        ),
        (
            "accélération superlinéaire (s ajusté < 0, ramené à 0)".into(),
            vec![(1.0, 1.0), (2.0, 2.4), (4.0, 5.0)],
        ),
        (
            "ralentissement (s ajusté > 1, ramené à 1)".into(),
            vec![(1.0, 1.0), (2.0, 0.5), (4.0, 0.4)],
        ),
    ];
    check_cases(
        "4.11 fraction séquentielle ajustée",
        "moindres carrés sur tous les points p > 1 de 1/S - 1/p = s·(1 - 1/p) : \
         s = Σxy / Σx² avec x = 1 - 1/p, y = 1/S - 1/p, ramené dans [0, 1] (clamp) ; None \
         sans point p > 1",
        cases,
        |v| super::serial_fraction(v),
        |v| f(v),
        |a, b| match (a, b) {
            (Some(x), Some(y)) => close(*x, *y, 1e-6),
            _ => a == b,
        },
    )
}

/// Increments per thread of the race cases of Q4.12: each thread runs for a few
/// milliseconds even at full speed, longer than a scheduler time slice, so that a
/// `load` then `store` loses updates even when the 8 threads take turns on one
/// loaded core (a thread preempted between its `load` and its `store` overwrites
/// what the others added meanwhile).
const RACE_PER_THREAD: u64 = 1_000_000;

/// Q4.12: `f(threads, per_thread)` must count every increment of every thread.
pub fn q12_shared_counter(f: impl Fn(usize, u64) -> u64) -> Verdict {
    let mut cases: Vec<(String, (usize, u64))> = [(1, 10), (2, 10_000), (4, 2_500), (3, 0)]
        .map(|(t, k)| (format!("{t} threads × {k}"), (t, k)))
        .to_vec();
    // Many threads and increments: a `load` then `store` (instead of one atomic
    // `fetch_add`) loses updates; three runs, so that one lucky run is not enough.
    for run in 1..=3 {
        cases.push((
            format!("8 threads × {RACE_PER_THREAD}, essai {run}/3"),
            (8, RACE_PER_THREAD),
        ));
    }
    check_cases(
        "4.12 compteur partagé (Send/Sync)",
        "tous les threads doivent incrémenter le MÊME compteur : Arc<AtomicU64> (ou \
         Arc<Mutex<u64>>) cloné dans chaque thread, pas une copie par thread ; et \
         l'incrément doit être UNE opération atomique (fetch_add) : load puis store perd des \
         incréments quand deux threads lisent la même valeur",
        cases,
        |&(t, k)| t as u64 * k,
        |&(t, k)| f(t, k),
        |a, b| a == b,
    )
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;

    #[test]
    fn references_pass_their_checkers() {
        assert!(q1_usable_cpus(usable_cpus_from).passed());
        assert!(q2_spawn_sum(spawn_sum).passed());
        assert!(q3_scoped_max(scoped_max).passed());
        assert!(q4_count_primes(primes_static).passed());
        assert!(q4_count_primes(primes_stealing).passed());
        assert!(q6_primes_processes(|n, _| Ok(primes::count_seq(n))).passed());
        assert!(q8_fixed_pool(pool_sum_squares).passed());
        assert!(q9_pi_streams(pi_streams).passed());
        assert!(q10_amdahl(amdahl_speedup).passed());
        assert!(q11_serial_fraction(serial_fraction).passed());
        assert!(q12_shared_counter(shared_counter).passed());
    }

    #[test]
    fn sequential_answers_are_rejected() {
        let v = q3_scoped_max(|d, _| d.iter().copied().max());
        assert!(
            v.failure_case()
                .unwrap_or("(accepté)")
                .contains("un thread par morceau"),
            "{v}"
        );
        let v = q4_count_primes(|n, _| primes::count_range(0, n));
        assert!(
            v.failure_case().unwrap_or("(accepté)").contains("partagé"),
            "{v}"
        );
    }

    #[test]
    fn a_missing_join_is_named() {
        // The threads add to a shared total that is read without waiting for them.
        let v = q2_spawn_sum(|data, workers| {
            use std::sync::atomic::{AtomicU64, Ordering};
            let total = std::sync::Arc::new(AtomicU64::new(0));
            let size = data.len().div_ceil(workers).max(1);
            for part in data.chunks(size) {
                let (part, total) = (part.to_vec(), std::sync::Arc::clone(&total));
                std::thread::spawn(move || {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    total.fetch_add(part.iter().sum(), Ordering::Relaxed);
                });
            }
            total.load(Ordering::Relaxed)
        });
        assert!(
            v.to_string().contains("attendez la fin de chaque thread"),
            "{v}"
        );
        // A chunking mistake keeps its own hint.
        let v = q2_spawn_sum(|d, w| {
            let size = (d.len() / w).max(1);
            std::thread::scope(|s| {
                let hs: Vec<_> = d
                    .chunks(size)
                    .take(w)
                    .map(|c| s.spawn(move || c.iter().sum::<u64>()))
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum()
            })
        });
        assert!(v.to_string().contains("dernier morceau"), "{v}");
    }

    #[test]
    fn pool_size_copied_from_the_argument_is_rejected() {
        let v = q8_fixed_pool(|xs, t| (xs.iter().map(|x| x * x).sum(), t));
        assert!(
            v.failure_case()
                .unwrap_or("(accepté)")
                .contains("pool de 3"),
            "{v}"
        );
    }

    #[test]
    fn fit_without_clamp_is_rejected() {
        let v = q11_serial_fraction(|pts| {
            let (mut num, mut den) = (0.0, 0.0);
            for &(p, s) in pts.iter().filter(|p| p.0 > 1.0) {
                let x = 1.0 - 1.0 / p;
                num += x * (1.0 / s - 1.0 / p);
                den += x * x;
            }
            (den > 0.0).then(|| num / den)
        });
        assert!(
            v.failure_case().unwrap_or("(accepté)").contains("ramené"),
            "{v}"
        );
    }

    /// The racy answer: each thread reads then writes the shared counter.
    fn racy(threads: usize, per_thread: u64) -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        let counter = std::sync::Arc::new(AtomicU64::new(0));
        std::thread::scope(|s| {
            for _ in 0..threads {
                let c = std::sync::Arc::clone(&counter);
                s.spawn(move || {
                    for _ in 0..per_thread {
                        let v = c.load(Ordering::Relaxed);
                        c.store(v + 1, Ordering::Relaxed);
                    }
                });
            }
        });
        counter.load(Ordering::Relaxed)
    }

    #[test]
    fn load_then_store_race_is_rejected_every_time() {
        // Rejected at every run, on whichever case lost updates first.
        for _ in 0..20 {
            let v = q12_shared_counter(racy);
            assert!(
                v.failure_case()
                    .unwrap_or("(accepté)")
                    .contains("threads ×"),
                "{v}"
            );
        }
    }

    #[test]
    fn plausible_wrong_answers_are_rejected() {
        // Quota rounded down instead of up.
        let v = q1_usable_cpus(|a, q| q.map_or(a, |q| (q as usize).max(1).min(a)));
        assert!(!v.passed() && v.to_string().contains("1,5"), "{v}");
        // Chunk size len / workers drops the remainder.
        let v = q2_spawn_sum(|d, w| {
            let size = (d.len() / w).max(1);
            d.chunks(size).take(w).map(|c| c.iter().sum::<u64>()).sum()
        });
        assert!(!v.passed() && v.to_string().contains("reste"), "{v}");
        // Maximum initialised at 0.
        let v = q3_scoped_max(|d, _| Some(d.iter().copied().fold(0, i64::max)));
        assert!(!v.passed(), "{v}");
        // Overlapping ranges (inclusive end) count boundary primes twice.
        let v = q4_count_primes(|n, w| {
            let w = w as u64;
            (0..w)
                .map(|i| primes::count_range(n * i / w, (n * (i + 1) / w + 1).min(n)))
                .sum()
        });
        assert!(!v.passed(), "{v}");
        let v = q6_primes_processes(|n, _| Ok(primes::count_seq(n) + 1));
        assert!(!v.passed(), "{v}");
        // A thread, not a process: our own pid.
        let v = q7_child_pid(|| Ok(std::process::id()));
        assert!(!v.passed() && v.to_string().contains("thread"), "{v}");
        // Global pool instead of the asked one.
        let v =
            q8_fixed_pool(|xs, _| (xs.iter().map(|x| x * x).sum(), rayon::current_num_threads()));
        assert!(!v.passed(), "{v}");
        // Every worker on the same stream.
        let v = q9_pi_streams(|s, w| {
            let hits: u64 = (0..w).map(|i| pi::hits(0, pi::share(s, w, i))).sum();
            pi::estimate(hits, s)
        });
        assert!(!v.passed(), "{v}");
        let v = q10_amdahl(crate::models::gustafson);
        assert!(!v.passed() && v.to_string().contains("Gustafson"), "{v}");
        // Fit from the last point only.
        let v = q11_serial_fraction(|pts| {
            pts.iter()
                .rfind(|p| p.0 > 1.0)
                .map(|&(p, s)| ((1.0 / s - 1.0 / p) / (1.0 - 1.0 / p)).clamp(0.0, 1.0))
        });
        assert!(!v.passed() && v.to_string().contains("bruitées"), "{v}");
        // Each thread counts on its own copy.
        let v = q12_shared_counter(|t, k| if t == 0 { 0 } else { k });
        assert!(!v.passed(), "{v}");
        // todo!() is "not done".
        assert!(q4_count_primes(|_, _| todo!()).not_done());
    }
}
