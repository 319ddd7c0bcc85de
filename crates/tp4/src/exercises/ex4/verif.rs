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
//! tp4::ex4::verif::q1_usable_cpus(tp4::ex4::usable_cpus_from);
//! ```
//!
//! An answer still holding `todo!()` is "not done yet", not a crash:
//!
//! ```
//! fn spawn_sum(_data: Vec<u64>, _workers: usize, _work: tp4::verif::work::Work) -> u64 {
//!     todo!()
//! }
//! assert!(tp4::ex4::verif::q2_spawn_sum(spawn_sum).not_done());
//! ```

use crate::verif::parallel::still_running_after;
use crate::verif::work::{draw_seed, fair_floor, require_work, require_work_of, Draw, Work};
use crate::verif::{check_cases, close, Status, Verdict};
use crate::workloads::primes;

/// Q4.1: `f(affinity, quota_cpus)` must give the usable CPU count. Besides the
/// fixed cases, quotas are drawn at check time with a fractional part below and
/// above one half, so that rounding to the nearest or down fails somewhere.
pub fn q1_usable_cpus(f: impl Fn(usize, Option<f64>) -> usize) -> Verdict {
    let mut cases: Vec<(String, (usize, Option<f64>))> = [
        ("sans quota", (4, None)),
        ("quota entier", (8, Some(2.0))),
        ("quota plus grand que l'affinité", (2, Some(8.0))),
        ("quota de moins d'un CPU", (4, Some(0.4))),
        ("un seul CPU", (1, None)),
    ]
    .map(|(n, i)| (n.to_string(), i))
    .to_vec();
    let mut draw = Draw::new();
    // At least one whole CPU in every drawn quota: below one, rounding down or to
    // the nearest is clamped to 1 like rounding up, and a wrong rounding passed
    // whenever every draw fell there (1 check in 36 for the nearest).
    for (lo, hi) in [(5, 45), (55, 95), (5, 45)] {
        let whole = draw.range(1, 6);
        let frac = draw.range(lo, hi) as f64 / 100.0;
        let quota = whole as f64 + frac;
        let affinity = draw.range(whole + 2, whole + 16) as usize;
        cases.push((
            format!(
                "affinité {affinity}, quota {}",
                crate::fr::decimal(quota, 2)
            ),
            (affinity, Some(quota)),
        ));
    }
    check_cases(
        "4.1 CPU utilisables",
        "un quota fractionnaire laisse quand même progresser un thread de plus : cherchez \
         l'arrondi qui va toujours vers le haut (f64::ceil), puis le plus petit des deux \
         nombres, et jamais moins d'un CPU",
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

/// Q4.2: `f(data, workers, work)` must return the sum of `work.apply(x)` over
/// `data`, the calls made by spawned threads. A wrong sum while the answer's
/// threads are still running when it returns means a missing `join` (the sum was
/// read before the threads added their part), which the verdict says rather than
/// blame the chunks.
pub fn q2_spawn_sum(f: impl Fn(Vec<u64>, usize, Work) -> u64) -> Verdict {
    let unjoined = std::cell::Cell::new(false);
    let salt = draw_seed();
    let reference = Work::with_salt(salt);
    let verdict = check_cases(
        "4.2 thread::spawn et JoinHandle",
        "chaque élément compte exactement une fois, pour la valeur que `travail` lui \
         donne : des morceaux de len / workers arrondi au-dessus (cherchez `div_ceil`), le \
         dernier morceau prend le reste",
        vectors(),
        |(v, _)| v.iter().map(|&x| reference.apply(x)).sum::<u64>(),
        |(v, w)| {
            let (sum, running) = still_running_after(|| f(v.clone(), *w, Work::with_salt(salt)));
            unjoined.set(running > 0);
            sum
        },
        |a, b| a == b,
    );
    let verdict = match verdict.status {
        Status::Failed(mut e) if unjoined.get() => {
            e.hint = "des threads travaillaient encore quand la fonction a rendu sa somme : \
                      attendez la fin de chaque thread (`join`) avant de lire leurs résultats"
                .into();
            Verdict::new(&verdict.question, verdict.cases_passed, Status::Failed(e))
        }
        _ => verdict,
    };
    let mut draw = Draw::new();
    let (n, w) = (draw.range(200_000, 400_000), draw.range(2, 4) as usize);
    let big: Vec<u64> = (0..n).map(|i| i ^ 0x5555).collect();
    require_work(
        verdict,
        &format!("{n} éléments, {w} workers : chaque thread calcule son morceau"),
        fair_floor(w),
        "chaque thread lancé (`thread::spawn`, avec `move` et son propre morceau) doit \
         faire lui-même les appels à `travail.apply` de ce morceau ; le thread principal \
         n'additionne que ce que rendent les `join`",
        |work| big.iter().map(|&x| work.apply(x)).sum::<u64>(),
        |work| f(big.clone(), w, work),
    )
}

/// Q4.3: `f(data, workers, work)` must return the largest `work.score(x)` over
/// `data` (None if empty), the scores computed by scoped threads.
pub fn q3_scoped_max(f: impl Fn(&[i64], usize, Work) -> Option<i64>) -> Verdict {
    let salt = draw_seed();
    let reference = Work::with_salt(salt);
    // Scores are positive or negative; these inputs all score below zero.
    let negative: Vec<i64> = (0..10_000)
        .filter(|&x| reference.score(x) < 0)
        .take(40)
        .collect();
    let cases: Vec<(String, (Vec<i64>, usize))> = vec![
        ("vide".into(), (vec![], 2)),
        ("un élément".into(), (vec![-5], 2)),
        ("scores tous négatifs".into(), (negative, 3)),
        ("101 éléments, 3 workers".into(), ((0..101).collect(), 3)),
        ("égalités".into(), (vec![4, 4, 4], 2)),
    ];
    let verdict = check_cases(
        "4.3 thread::scope",
        "un slice vide n'a pas de maximum (None) ; un score peut être négatif : ne \
         partez pas d'une valeur arbitraire comme 0 (cherchez `Iterator::max`) ; chaque \
         élément appartient à un morceau, le dernier compris",
        cases,
        |(v, _)| v.iter().map(|&x| reference.score(x)).max(),
        |(v, w)| f(v, *w, Work::with_salt(salt)),
        |a, b| a == b,
    );
    let mut draw = Draw::new();
    let (n, w) = (
        draw.range(200_000, 400_000) as i64,
        draw.range(2, 4) as usize,
    );
    let big: Vec<i64> = (0..n).map(|i| i * 7 - n).collect();
    require_work(
        verdict,
        &format!("{n} éléments, {w} workers : chaque thread calcule son morceau"),
        fair_floor(w),
        "chaque thread de `std::thread::scope` doit calculer lui-même les scores \
         (`travail.score`) de son morceau emprunté ; le thread principal ne compare que \
         les maximums rendus par `join`",
        |work| big.iter().map(|&x| work.score(x)).max(),
        |work| f(&big, w, work),
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

/// Q4.4: `f(n, workers, work)` must count the primes below `n` with
/// `work.count_primes`, one contiguous range per worker thread. The check sees
/// the ranges asked for and the threads that asked: on a size drawn at check
/// time, the ranges must tile `0..n` (no gap, no overlap, `workers` of them) and
/// at least two threads must each count a real share of the numbers.
pub fn q4_count_primes(f: impl Fn(u64, usize, Work) -> u64 + Sync) -> Verdict {
    let verdict = check_cases(
        "4.4 W1 en parallèle",
        "les plages couvrent 0..n sans trou ni chevauchement (la fin d'une plage est le \
         début de la suivante, exclue) ; 1 n'est pas premier, 2 l'est",
        prime_cases(),
        |&(n, _)| primes::reference_count(n),
        |&(n, w)| f(n, w, Work::fresh()),
        |a, b| a == b,
    );
    if !verdict.passed() {
        return verdict;
    }
    let q = verdict.question.clone();
    let done = verdict.cases_passed;
    let mut draw = Draw::new();
    let (n, w) = (draw.range(150_000, 400_000), draw.range(2, 5) as usize);
    let case = format!("n = {n}, {w} workers : une plage contiguë par thread");
    let fail = |expected: String, got: String, hint: &str| {
        Verdict::failed(&q, done, case.clone(), expected, got, hint)
    };
    let mut last = None;
    for _ in 0..crate::verif::parallel::TRIES {
        let work = Work::fresh();
        let got = match crate::verif::run_quietly(|| f(n, w, work)) {
            Ok(c) => c,
            Err(m) => {
                return fail(
                    "un compte".into(),
                    format!("panique : {m}"),
                    "voir le message",
                )
            }
        };
        let expected = primes::reference_count(n);
        if got != expected {
            return fail(
                expected.to_string(),
                got.to_string(),
                "les plages doivent couvrir 0..n exactement, la dernière finissant à n",
            );
        }
        let ranges = work.ranges();
        let asked: Vec<(u64, u64)> = ranges.iter().map(|&(_, a, b)| (a, b)).collect();
        let tiles = asked.first().is_some_and(|r| r.0 == 0)
            && asked.last().is_some_and(|r| r.1 == n)
            && asked.windows(2).all(|p| p[0].1 == p[1].0);
        if !tiles || asked.len() != w {
            let shown: Vec<String> = asked
                .iter()
                .take(8)
                .map(|(a, b)| format!("{a}..{b}"))
                .collect();
            return fail(
                format!("{w} plages contiguës qui couvrent 0..{n}"),
                format!(
                    "{} demandée(s) à `travail.count_primes` : {}{}",
                    asked.len(),
                    shown.join(", "),
                    if asked.len() > 8 { ", …" } else { "" }
                ),
                "découpage statique : le worker i reçoit la i-ème de `workers` plages \
                 contiguës et la compte en un seul appel ; ses bornes se calculent à \
                 partir de n, i et workers, sans trou ni recouvrement",
            );
        }
        let shares = work.shares();
        if shares.threads_with(fair_floor(w)) >= 2 {
            return Verdict::new(&q, done + 1, Status::Passed);
        }
        last = Some(shares.describe());
    }
    fail(
        format!(
            "au moins 2 threads comptant chacun au moins {:.0} % des nombres",
            100.0 * fair_floor(w)
        ),
        format!(
            "compte juste, mais les plages ont été comptées par {}",
            last.unwrap_or_default()
        ),
        "chaque worker doit compter sa plage dans son propre thread (cherchez \
         `std::thread::scope`) : l'appel à `travail.count_primes` se fait dans le thread",
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
        Verdict::failed(q, passed, case, expected, got, hint)
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

/// Q4.8: `f(xs, threads, work)` must return the sum of `work.apply(x)` over `xs`
/// and the pool size seen inside the pool. The check sees which threads made the
/// calls: with a pool of one thread, only one; with a pool of `t` threads drawn at
/// check time, at least two and at most `t` (the global pool, or threads of the
/// answer's own, would show otherwise).
pub fn q8_fixed_pool(f: impl Fn(&[u64], usize, Work) -> (u64, usize)) -> Verdict {
    let cases: Vec<(String, (Vec<u64>, usize))> = vec![
        ("1 thread".into(), ((0..100).collect(), 1)),
        ("3 threads".into(), ((0..1000).collect(), 3)),
        ("5 threads, vide".into(), (vec![], 5)),
    ];
    let hint = "construisez un pool de la taille demandée (`rayon::ThreadPoolBuilder`, \
                `num_threads`) et faites le calcul dedans (`ThreadPool::install`) : hors \
                de install, c'est le pool global qui travaille";
    let salt = draw_seed();
    let reference = Work::with_salt(salt);
    let verdict = check_cases(
        "4.8 pool de taille fixe",
        hint,
        cases,
        |(v, t)| (v.iter().map(|&x| reference.apply(x)).sum::<u64>(), *t),
        |(v, t)| f(v, *t, Work::with_salt(salt)),
        |a, b| a == b,
    );
    if !verdict.passed() {
        return verdict;
    }
    let (q, done) = (verdict.question.clone(), verdict.cases_passed);
    let mut draw = Draw::new();
    let xs: Vec<u64> = (0..draw.range(200_000, 300_000)).collect();
    let t = draw.range(2, 4) as usize;
    let fail = |case: String, expected: String, got: String| {
        Verdict::failed(&q, done, case, expected, got, hint)
    };
    // A pool of one thread: every call on that thread.
    let one = Work::fresh();
    match crate::verif::run_quietly(|| f(&xs, 1, one)) {
        Err(m) => {
            return fail(
                "pool de 1 thread".into(),
                "un résultat".into(),
                format!("panique : {m}"),
            )
        }
        Ok(_) if one.shares().per_thread.len() > 1 => {
            return fail(
                format!("pool de 1 thread, {} éléments", xs.len()),
                "les appels à `travail` faits par le seul thread du pool".into(),
                format!("appels faits par {}", one.shares().describe()),
            )
        }
        Ok(_) => {}
    }
    let mut seen = String::new();
    for _ in 0..crate::verif::parallel::TRIES {
        let work = Work::fresh();
        let Ok((_, size)) = crate::verif::run_quietly(|| f(&xs, t, work)) else {
            return fail(
                format!("pool de {t} threads"),
                "un résultat".into(),
                "panique".into(),
            );
        };
        let shares = work.shares();
        if shares.per_thread.len() > t {
            return fail(
                format!("pool de {t} threads, {} éléments", xs.len()),
                format!("les appels à `travail` faits par au plus {t} threads"),
                format!(
                    "appels faits par {} (taille rendue : {size})",
                    shares.describe()
                ),
            );
        }
        if shares.threads_with(0.02) >= 2 {
            return Verdict::new(&q, done + 2, Status::Passed);
        }
        seen = shares.describe();
    }
    fail(
        format!("pool de {t} threads, {} éléments", xs.len()),
        "les appels à `travail` répartis sur au moins 2 threads du pool".into(),
        format!("appels faits par {seen}"),
    )
}

/// Q4.9: `f(samples, workers, work)` must give exactly the estimate of the
/// reference streams for that worker count, worker `w` drawing its points with
/// `work.hits(w, n)`; on a case drawn at check time (points and workers), at
/// least two threads must each draw [`fair_floor`] of ALL the points through
/// `work` (points drawn around it count for no thread).
pub fn q9_pi_streams(f: impl Fn(u64, usize, Work) -> f64) -> Verdict {
    let cases = [(10_000, 1), (10_000, 2), (30_001, 3), (50_000, 4)]
        .map(|(s, w)| (format!("{s} points, {w} workers"), (s, w)));
    let streams = "le worker w tire sa part des points (`pi::share`) dans SON flux, avec \
                   `travail.hits` : le résultat ne dépend ni de l'ordre des \
                   threads ni de l'heure ; pas de générateur partagé";
    let verdict = check_cases(
        "4.9 π reproductible",
        streams,
        cases,
        |&(s, w)| super::pi_streams(s, w),
        |&(s, w)| f(s, w, Work::fresh()),
        |a, b| a == b,
    );
    let mut draw = Draw::new();
    let (points, w) = (draw.range(1_500_000, 3_000_000), draw.range(2, 4) as usize);
    require_work_of(
        verdict,
        &format!("{points} points, {w} workers (tirés au hasard) : chaque flux dans son thread"),
        fair_floor(w),
        Some(points),
        "chaque worker tire les points de son flux dans son propre thread (cherchez \
         `std::thread::scope`), par `travail.hits` : le thread principal ne fait \
         qu'additionner ce que rendent les threads",
        streams,
        |_| super::pi_streams(points, w),
        |work| f(points, w, work),
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
        "la loi d'Amdahl suppose un problème de taille FIXE : la partie séquentielle s \
         ne se divise pas, seule la partie 1 - s se partage entre les p workers ; \
         l'accélération plafonne donc à 1/s quand p grandit (une formule qui croît sans \
         fin avec p est une autre loi)",
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
/// Q4.12: `f(threads, per_thread, work)`: thread number `t` adds
/// `work.apply(t)` to ONE shared counter made by `work.counter()`, `per_thread`
/// times, each addition one `fetch_add`. The counter attributes every update to
/// its thread: see [`crate::verif::shared`] for what is required.
pub fn q12_shared_counter(f: impl Fn(usize, u64, Work) -> u64) -> Verdict {
    crate::verif::shared::check_shared_counter(
        "4.12 compteur partagé (Send/Sync)",
        crate::verif::shared::Handle::Atomic,
        "tous les threads ajoutent au MÊME compteur, partagé entre eux (cherchez `Arc`), \
         chaque ajout en une opération atomique de lecture-modification-écriture",
        f,
    )
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;
    use crate::verif::testing::{
        beside_a_spinning_thread, beside_sleeping_threads, refused_for, refused_for_any,
    };
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    // ---- right answers, as the notebook's corrigé writes them

    fn spawn_sum_right(data: Vec<u64>, workers: usize, work: Work) -> u64 {
        let size = data.len().div_ceil(workers.max(1)).max(1);
        let hs: Vec<std::thread::JoinHandle<u64>> = data
            .chunks(size)
            .map(|c| {
                let part = c.to_vec();
                std::thread::spawn(move || part.iter().map(|&x| work.apply(x)).sum())
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    }

    fn scoped_max_right(data: &[i64], workers: usize, work: Work) -> Option<i64> {
        if data.is_empty() {
            return None;
        }
        let size = data.len().div_ceil(workers.max(1));
        std::thread::scope(|s| {
            let hs: Vec<_> = data
                .chunks(size)
                .map(|c| s.spawn(move || c.iter().map(|&x| work.score(x)).max()))
                .collect();
            hs.into_iter().filter_map(|h| h.join().unwrap()).max()
        })
    }

    fn primes_right(n: u64, workers: usize, work: Work) -> u64 {
        let w = workers.max(1) as u64;
        std::thread::scope(|s| {
            let hs: Vec<_> = (0..w)
                .map(|i| s.spawn(move || work.count_primes(n * i / w, n * (i + 1) / w)))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        })
    }

    fn counter_right(threads: usize, per_thread: u64, work: Work) -> u64 {
        let counter = Arc::new(work.counter());
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let c = Arc::clone(&counter);
                std::thread::spawn(move || {
                    for _ in 0..per_thread {
                        c.fetch_add(work.apply(t as u64), Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        counter.load(Ordering::Relaxed)
    }

    #[test]
    fn right_answers_pass_their_checkers() {
        assert!(q1_usable_cpus(usable_cpus_from).passed());
        for _ in 0..2 {
            let v = q2_spawn_sum(spawn_sum_right);
            assert!(v.passed(), "{v}");
            let v = q3_scoped_max(scoped_max_right);
            assert!(v.passed(), "{v}");
            let v = q4_count_primes(primes_right);
            assert!(v.passed(), "{v}");
            let v = q12_shared_counter(counter_right);
            assert!(v.passed(), "{v}");
        }
        assert!(q6_primes_processes(|n, _| Ok(primes::count_seq(n))).passed());
        let v = q8_fixed_pool(pool_sum_right);
        assert!(v.passed(), "{v}");
        let v = q9_pi_streams(pi_right);
        assert!(v.passed(), "{v}");
        assert!(q10_amdahl(amdahl_speedup).passed());
        assert!(q11_serial_fraction(serial_fraction).passed());
    }

    // ---- 4.1: rounding variants, on quotas drawn at check time

    #[test]
    fn rounding_other_than_up_is_refused() {
        for _ in 0..5 {
            let nearest =
                |a: usize, q: Option<f64>| q.map_or(a, |q| (q.round() as usize).clamp(1, a));
            refused_for(&q1_usable_cpus(nearest), "quota");
            let down = |a: usize, q: Option<f64>| q.map_or(a, |q| (q as usize).clamp(1, a));
            refused_for(&q1_usable_cpus(down), "ceil");
            // Rounded up, but with a hard-coded table of the former fixed quotas.
            let table = |a: usize, q: Option<f64>| match q {
                None => a,
                Some(1.5) => 2.min(a),
                Some(0.5) => 1,
                Some(q) => (q as usize).clamp(1, a),
            };
            refused_for(&q1_usable_cpus(table), "quota");
        }
    }

    // ---- 4.2

    #[test]
    fn spawn_sum_without_parallel_work_is_refused() {
        let seq = |d: Vec<u64>, _: usize, work: Work| d.iter().map(|&x| work.apply(x)).sum::<u64>();
        refused_for(&q2_spawn_sum(seq), "1 thread : 100 %");
        // A spawned thread that only sleeps.
        refused_for(
            &q2_spawn_sum(|d, w, work| beside_sleeping_threads(1, 2, || seq(d, w, work))),
            "1 thread : 100 %",
        );
        // One worker thread does everything.
        refused_for(
            &q2_spawn_sum(|d, w, work| std::thread::spawn(move || seq(d, w, work)).join().unwrap()),
            "1 thread : 100 %",
        );
        // Token share: the last 10 elements to a second thread.
        refused_for(
            &q2_spawn_sum(|d, w, work| {
                let cut = d.len().saturating_sub(10);
                let tail = d[cut..].to_vec();
                let h =
                    std::thread::spawn(move || tail.iter().map(|&x| work.apply(x)).sum::<u64>());
                seq(d[..cut].to_vec(), w, work) + h.join().unwrap()
            }),
            "2 threads : 100 %, 0 %",
        );
        // Sums the data, not the work's values.
        refused_for(&q2_spawn_sum(|d, _, _| d.iter().sum()), "`travail`");
    }

    #[test]
    fn a_missing_join_is_named() {
        // The threads add to a shared total that is read without waiting for them.
        let v = q2_spawn_sum(|data, workers, work| {
            let total = Arc::new(AtomicU64::new(0));
            let size = data.len().div_ceil(workers).max(1);
            for part in data.chunks(size) {
                let (part, total) = (part.to_vec(), Arc::clone(&total));
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(50));
                    total.fetch_add(part.iter().map(|&x| work.apply(x)).sum(), Ordering::Relaxed);
                });
            }
            total.load(Ordering::Relaxed)
        });
        refused_for(&v, "attendez la fin de chaque thread");
        // Chunk size len / workers drops the remainder.
        let v = q2_spawn_sum(|d, w, work| {
            let size = (d.len() / w).max(1);
            std::thread::scope(|s| {
                let hs: Vec<_> = d
                    .chunks(size)
                    .take(w)
                    .map(|c| s.spawn(move || c.iter().map(|&x| work.apply(x)).sum::<u64>()))
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum()
            })
        });
        refused_for(&v, "div_ceil");
    }

    #[test]
    fn scoped_threads_joined_by_their_scope_are_not_a_missing_join() {
        // The remainder dropped, threads joined by the end of the scope (not by
        // hand) into a shared total: the verdict blames the chunks, never a `join`.
        for _ in 0..5 {
            let v = q2_spawn_sum(|d, w, work| {
                let size = (d.len() / w).max(1);
                let total = AtomicU64::new(0);
                std::thread::scope(|s| {
                    for c in d.chunks(size).take(w) {
                        let total = &total;
                        s.spawn(move || {
                            let part = c.iter().map(|&x| work.apply(x)).sum::<u64>();
                            total.fetch_add(part, Ordering::Relaxed);
                        });
                    }
                });
                total.into_inner()
            });
            refused_for(&v, "div_ceil");
            let Status::Failed(f) = &v.status else {
                unreachable!()
            };
            assert!(!f.hint.contains("attendez la fin"), "{v}");
        }
    }

    // ---- 4.3

    #[test]
    fn scoped_max_wrong_answers_are_refused() {
        // Maximum initialised at 0 (scores may all be negative).
        refused_for(
            &q3_scoped_max(|d, w, work| {
                if d.is_empty() {
                    return None;
                }
                let size = d.len().div_ceil(w);
                std::thread::scope(|s| {
                    let hs: Vec<_> = d
                        .chunks(size)
                        .map(|c| {
                            s.spawn(move || c.iter().map(|&x| work.score(x)).fold(0, i64::max))
                        })
                        .collect();
                    hs.into_iter().map(|h| h.join().unwrap()).max()
                })
            }),
            "négatif",
        );
        // Sequential beside a spinning thread.
        refused_for(
            &q3_scoped_max(|d, _, work| {
                beside_a_spinning_thread(|| d.iter().map(|&x| work.score(x)).max())
            }),
            "1 thread : 100 %",
        );
        // Threads spawned per chunk, but the scores computed before on the caller.
        refused_for(
            &q3_scoped_max(|d, w, work| {
                let scores: Vec<i64> = d.iter().map(|&x| work.score(x)).collect();
                if scores.is_empty() {
                    return None;
                }
                let size = scores.len().div_ceil(w);
                std::thread::scope(|s| {
                    let hs: Vec<_> = scores
                        .chunks(size)
                        .map(|c| s.spawn(move || c.iter().copied().max()))
                        .collect();
                    hs.into_iter().filter_map(|h| h.join().unwrap()).max()
                })
            }),
            "1 thread : 100 %",
        );
    }

    // ---- 4.4

    #[test]
    fn prime_counts_without_a_static_split_are_refused() {
        // One range on the calling thread.
        refused_for(
            &q4_count_primes(|n, _, work| work.count_primes(0, n)),
            "1 demandée",
        );
        // The right ranges, all counted on the calling thread, beside a spinning thread.
        refused_for(
            &q4_count_primes(|n, w, work| {
                let w = w as u64;
                beside_a_spinning_thread(|| {
                    (0..w)
                        .map(|i| work.count_primes(n * i / w, n * (i + 1) / w))
                        .sum()
                })
            }),
            "1 thread : 100 %",
        );
        // Overlapping ranges (inclusive end) count boundary primes twice.
        let v = q4_count_primes(|n, w, work| {
            let w = w as u64;
            std::thread::scope(|s| {
                let hs: Vec<_> = (0..w)
                    .map(|i| {
                        s.spawn(move || work.count_primes(n * i / w, (n * (i + 1) / w + 1).min(n)))
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum()
            })
        });
        assert!(!v.passed(), "{v}");
        // Each thread counts its range in two calls: the right total and threads,
        // but not one contiguous range per worker.
        let v = q4_count_primes(|n, w, work| {
            let w = w as u64;
            std::thread::scope(|s| {
                let hs: Vec<_> = (0..w)
                    .map(|i| {
                        s.spawn(move || {
                            let (a, b) = (n * i / w, n * (i + 1) / w);
                            let mid = a + (b - a) / 2;
                            work.count_primes(a, mid) + work.count_primes(mid, b)
                        })
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum()
            })
        });
        refused_for(&v, "plages contiguës");
        // Sizes rounded down and the remainder counted on the calling thread: one
        // range too many whenever workers does not divide n, else the right split.
        let v = q4_count_primes(|n, w, work| {
            let w = w as u64;
            let size = n / w;
            let counted: u64 = std::thread::scope(|s| {
                let hs: Vec<_> = (0..w)
                    .map(|i| s.spawn(move || work.count_primes(i * size, (i + 1) * size)))
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum()
            });
            counted
                + if size * w < n {
                    work.count_primes(size * w, n)
                } else {
                    0
                }
        });
        assert!(
            v.passed() || v.to_string().contains("plages contiguës"),
            "{v}"
        );
        // Uneven: the calling thread counts almost everything, a thread gets 1 %
        // (two ranges: refused for their number, or for the share when 2 workers).
        refused_for_any(
            &q4_count_primes(|n, _, work| {
                let cut = n / 100;
                std::thread::scope(|s| {
                    let h = s.spawn(move || work.count_primes(0, cut));
                    work.count_primes(cut, n) + h.join().unwrap()
                })
            }),
            &["plages contiguës", "2 threads : 99 %, 1 %"],
        );
        assert!(q4_count_primes(|_, _, _| todo!()).not_done());
    }

    // ---- 4.8, 4.9

    fn pool_sum_right(xs: &[u64], threads: usize, work: Work) -> (u64, usize) {
        use rayon::prelude::*;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            (
                xs.par_iter().map(|&x| work.apply(x)).sum(),
                rayon::current_num_threads(),
            )
        })
    }

    #[test]
    fn pools_of_the_wrong_size_are_refused() {
        use rayon::prelude::*;
        let seq = |xs: &[u64], work: Work| xs.iter().map(|&x| work.apply(x)).sum::<u64>();
        // The size copied from the argument, the work done on the calling thread.
        refused_for(
            &q8_fixed_pool(|xs, t, work| (seq(xs, work), t)),
            "1 thread : 100 %",
        );
        // The global pool, and the size seen there.
        refused_for(
            &q8_fixed_pool(|xs, _, work| {
                (
                    xs.par_iter().map(|&x| work.apply(x)).sum(),
                    rayon::current_num_threads(),
                )
            }),
            "pool global",
        );
        // A pool of one thread whatever the size asked, the asked size returned.
        refused_for(
            &q8_fixed_pool(|xs, t, work| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .build()
                    .unwrap();
                (
                    pool.install(|| xs.par_iter().map(|&x| work.apply(x)).sum()),
                    t,
                )
            }),
            "1 thread : 100 %",
        );
        // A pool one thread too large.
        refused_for_any(
            &q8_fixed_pool(|xs, t, work| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(t + 1)
                    .build()
                    .unwrap();
                (
                    pool.install(|| xs.par_iter().map(|&x| work.apply(x)).sum()),
                    t,
                )
            }),
            &["au plus", "seul thread du pool"],
        );
    }

    /// The notebook's 4.9 answer: one scoped thread per stream.
    fn pi_right(points: u64, workers: usize, work: Work) -> f64 {
        let hits: u64 = std::thread::scope(|s| {
            let hs: Vec<_> = (0..workers)
                .map(|w| s.spawn(move || work.hits(w, pi::share(points, workers, w))))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        pi::estimate(hits, points)
    }

    #[test]
    fn pi_without_parallel_streams_is_refused() {
        // Right streams, drawn one after the other on the calling thread.
        let v = q9_pi_streams(|s, w, work| {
            let hits: u64 = (0..w).map(|i| work.hits(i, pi::share(s, w, i))).sum();
            pi::estimate(hits, s)
        });
        refused_for(&v, "1 thread : 100 %");
        // The same beside a thread that spins until the calling thread is done.
        let v = q9_pi_streams(|s, w, work| {
            beside_a_spinning_thread(|| {
                let hits: u64 = (0..w).map(|i| work.hits(i, pi::share(s, w, i))).sum();
                pi::estimate(hits, s)
            })
        });
        refused_for(&v, "1 thread : 100 %");
        // A token share: the second thread draws a thousand points of stream 1, the
        // calling thread the rest (around `travail`, with the workload's own
        // function: those points are no thread's work).
        let v = q9_pi_streams(|s, w, work| {
            let token = std::thread::scope(|sc| sc.spawn(|| work.hits(1, 1_000)).join().unwrap());
            let rest: u64 = (0..w)
                .map(|i| {
                    let n = pi::share(s, w, i);
                    if i == 1 {
                        pi::hits(1, n)
                    } else {
                        work.hits(i, n)
                    }
                })
                .sum();
            let _ = token;
            pi::estimate(rest, s)
        });
        refused_for(&v, "unités de travail");
        // Parallel threads that bypass `travail` altogether.
        let v = q9_pi_streams(|s, w, _| {
            let hits: u64 = std::thread::scope(|sc| {
                let hs: Vec<_> = (0..w)
                    .map(|i| sc.spawn(move || pi::hits(i, pi::share(s, w, i))))
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum()
            });
            pi::estimate(hits, s)
        });
        refused_for(&v, "aucun thread");
        // Every worker on the same stream, in threads.
        let v = q9_pi_streams(|s, w, work| {
            let hits: u64 = std::thread::scope(|sc| {
                let hs: Vec<_> = (0..w)
                    .map(|i| sc.spawn(move || work.hits(0, pi::share(s, w, i))))
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum()
            });
            pi::estimate(hits, s)
        });
        refused_for(&v, "SON flux");
        // A closed form (π itself), with or without a sleep.
        refused_for(&q9_pi_streams(|_, _, _| std::f64::consts::PI), "SON flux");
        refused_for(
            &q9_pi_streams(|_, _, _| {
                std::thread::sleep(Duration::from_millis(5));
                std::f64::consts::PI
            }),
            "SON flux",
        );
        // A table written for the fixed cases: the drawn case fails.
        let table = |s: u64, w: usize, _: Work| match (s, w) {
            (10_000, 1) | (10_000, 2) | (30_001, 3) | (50_000, 4) => pi_streams(s, w),
            _ => 3.0,
        };
        refused_for(&q9_pi_streams(table), "tirés au hasard");
    }

    // ---- 4.10, 4.11

    #[test]
    fn formula_mistakes_are_refused() {
        let v = q10_amdahl(crate::models::gustafson);
        assert!(!v.passed() && v.to_string().contains("taille FIXE"), "{v}");
        let v = q11_serial_fraction(|pts| {
            let (mut num, mut den) = (0.0, 0.0);
            for &(p, s) in pts.iter().filter(|p| p.0 > 1.0) {
                let x = 1.0 - 1.0 / p;
                num += x * (1.0 / s - 1.0 / p);
                den += x * x;
            }
            (den > 0.0).then(|| num / den)
        });
        refused_for(&v, "ramené");
        // Fit from the last point only.
        let v = q11_serial_fraction(|pts| {
            pts.iter()
                .rfind(|p| p.0 > 1.0)
                .map(|&(p, s)| ((1.0 / s - 1.0 / p) / (1.0 - 1.0 / p)).clamp(0.0, 1.0))
        });
        refused_for(&v, "bruitées");
    }

    #[test]
    fn processes_and_pids() {
        let v = q6_primes_processes(|n, _| Ok(primes::count_seq(n) + 1));
        assert!(!v.passed(), "{v}");
        // A thread, not a process: our own pid.
        let v = q7_child_pid(|| Ok(std::process::id()));
        refused_for(&v, "thread");
    }

    // ---- 4.12

    #[test]
    fn counters_that_are_not_one_shared_atomic_are_refused() {
        // Read then write: not one atomic update.
        refused_for(
            &q12_shared_counter(|t, k, work| {
                let c = Arc::new(work.counter());
                std::thread::scope(|s| {
                    for i in 0..t {
                        let c = Arc::clone(&c);
                        s.spawn(move || {
                            for _ in 0..k {
                                let v = c.load(Ordering::Relaxed);
                                c.store(v + work.apply(i as u64), Ordering::Relaxed);
                            }
                        });
                    }
                });
                c.load(Ordering::Relaxed)
            }),
            "`load`",
        );
        // Each thread sums locally, then adds once to the shared counter.
        refused_for(
            &q12_shared_counter(|t, k, work| {
                let c = Arc::new(work.counter());
                std::thread::scope(|s| {
                    for i in 0..t {
                        let c = Arc::clone(&c);
                        s.spawn(move || {
                            let mine: u64 = (0..k).map(|_| work.apply(i as u64)).sum();
                            c.fetch_add(mine, Ordering::Relaxed);
                        });
                    }
                });
                c.load(Ordering::Relaxed)
            }),
            "somme locale",
        );
        // One counter per thread, summed at the end.
        refused_for(
            &q12_shared_counter(|t, k, work| {
                std::thread::scope(|s| {
                    let hs: Vec<_> = (0..t)
                        .map(|i| {
                            s.spawn(move || {
                                let c = work.counter();
                                for _ in 0..k {
                                    c.fetch_add(work.apply(i as u64), Ordering::Relaxed);
                                }
                                c.load(Ordering::Relaxed)
                            })
                        })
                        .collect();
                    hs.into_iter().map(|h| h.join().unwrap()).sum()
                })
            }),
            "compteurs différents",
        );
        // A plain AtomicU64 of the answer's own: the shared counter gets nothing.
        refused_for(
            &q12_shared_counter(|t, k, work| {
                let c = Arc::new(AtomicU64::new(0));
                std::thread::scope(|s| {
                    for i in 0..t {
                        let c = Arc::clone(&c);
                        s.spawn(move || {
                            for _ in 0..k {
                                c.fetch_add(work.apply(i as u64), Ordering::Relaxed);
                            }
                        });
                    }
                });
                c.load(Ordering::Relaxed)
            }),
            "aucun ajout",
        );
        // Every thread adds the value of thread 0.
        refused_for(
            &q12_shared_counter(|t, k, work| {
                let c = Arc::new(work.counter());
                std::thread::scope(|s| {
                    for _ in 0..t {
                        let c = Arc::clone(&c);
                        s.spawn(move || {
                            for _ in 0..k {
                                c.fetch_add(work.apply(0), Ordering::Relaxed);
                            }
                        });
                    }
                });
                c.load(Ordering::Relaxed)
            }),
            "propre numéro",
        );
    }

    #[test]
    fn counters_without_threads_are_refused() {
        // All the additions on the calling thread.
        let sequential = |t: usize, k: u64, work: Work| {
            let c = work.counter();
            for i in 0..t as u64 {
                for _ in 0..k {
                    c.fetch_add(work.apply(i), Ordering::Relaxed);
                }
            }
            c.load(Ordering::Relaxed)
        };
        refused_for(&q12_shared_counter(sequential), "1 thread : 100 %");
        // The same beside threads that sleep, or spin until it is done.
        refused_for(
            &q12_shared_counter(|t, k, work| {
                beside_sleeping_threads(t, 1, || sequential(t, k, work))
            }),
            "1 thread : 100 %",
        );
        refused_for(
            &q12_shared_counter(|t, k, work| beside_a_spinning_thread(|| sequential(t, k, work))),
            "1 thread : 100 %",
        );
        // A token share: the second thread makes ten additions of thread 1's.
        refused_for(
            &q12_shared_counter(|t, k, work| {
                let c = work.counter();
                std::thread::scope(|s| {
                    s.spawn(|| {
                        for _ in 0..k.min(10) {
                            c.fetch_add(work.apply(1.min(t as u64 - 1)), Ordering::Relaxed);
                        }
                    });
                });
                for i in 0..t as u64 {
                    let done = if i == 1.min(t as u64 - 1) {
                        k.min(10)
                    } else {
                        0
                    };
                    for _ in done..k {
                        c.fetch_add(work.apply(i), Ordering::Relaxed);
                    }
                }
                c.load(Ordering::Relaxed)
            }),
            "ajouts faits par 2 threads",
        );
        // Closed forms, with or without a sleep.
        refused_for(
            &q12_shared_counter(|t, k, work| (0..t as u64).map(|i| work.apply(i)).sum::<u64>() * k),
            "aucun ajout",
        );
        refused_for(
            &q12_shared_counter(|t, k, _| {
                std::thread::sleep(Duration::from_millis(2));
                t as u64 * k
            }),
            "aucun ajout",
        );
    }
}
