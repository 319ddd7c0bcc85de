//! The checkers of exercise 6: each `qN_...` function takes the student's function
//! and compares it with the reference of [`super`]; the checkers of code that may
//! wait forever run it under a deadline and report "bloqué" instead of hanging.
//!
//! ```
//! use tp4::ex6::verif;
//! // Never giving up is not a timeout: rejected.
//! let v = verif::q4_timeout(|delay_ms, _timeout_ms| delay_ms);
//! assert!(!v.passed(), "{v}");
//! ```
//!
//! The references of [`super`] are private to the library, so a notebook cannot
//! hand them in as its answer:
//!
//! ```compile_fail,E0603
//! tp4::ex6::verif::q4_timeout(tp4::ex6::with_timeout);
//! ```
//!
//! An answer still holding `todo!()` is "not done yet", not a crash:
//!
//! ```
//! fn in_order(_durations_ms: &[u64], _workers: usize) -> Vec<usize> {
//!     todo!()
//! }
//! assert!(tp4::ex6::verif::q1_map(in_order).not_done());
//! ```

use super::{Outcome, Span, GRAPH_NODES};
use crate::verif::deadline::check_cases_with_deadline;
use crate::verif::work::Work;
use crate::verif::{check_cases, Status, Verdict};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Durations (ms) whose completion order is clear even on a busy machine: 60 ms
/// between two completions.
fn spaced() -> Vec<(String, (Vec<u64>, usize))> {
    vec![
        ("une tâche".into(), (vec![10], 2)),
        ("durées décroissantes".into(), (vec![180, 120, 60, 0], 4)),
        ("durées mélangées".into(), (vec![120, 0, 180, 60], 4)),
    ]
}

/// Q6.1a: `f(durations_ms, workers)` must return the task ids in submission order.
pub fn q1_map(f: impl Fn(&[u64], usize) -> Vec<usize> + Send + Sync + 'static) -> Verdict {
    let f = std::sync::Arc::new(f);
    let g = std::sync::Arc::clone(&f);
    let verdict = check_cases_with_deadline(
        "6.1 map : ordre de soumission",
        "gardez les handles dans l'ordre de soumission et attendez-les dans cet ordre",
        "une tâche n'est jamais terminée : attendez chaque handle une seule fois",
        spaced(),
        |(d, _)| (0..d.len()).collect(),
        move |(d, w)| g(d, *w),
    );
    require_concurrent(verdict, (0..6).collect(), move |d, w| f(d, w))
}

/// The task ids sorted by duration: the completion order of tasks that all start
/// together.
fn by_duration(d: &[u64]) -> Vec<usize> {
    let mut ids: Vec<usize> = (0..d.len()).collect();
    ids.sort_by_key(|&i| d[i]);
    ids
}

/// Q6.1b: `f(durations_ms, workers)` must return the ids in completion order.
pub fn q1_as_completed(f: impl Fn(&[u64], usize) -> Vec<usize> + Send + Sync + 'static) -> Verdict {
    let f = std::sync::Arc::new(f);
    let g = std::sync::Arc::clone(&f);
    let verdict = check_cases_with_deadline(
        "6.1 as_completed : ordre de fin",
        "chaque tâche envoie son résultat sur un canal commun dès qu'elle finit : on lit \
         dans l'ordre d'arrivée, pas dans l'ordre de soumission",
        "le canal de résultats ne se ferme pas : abandonnez le Sender d'origine (drop)",
        spaced(),
        |(d, _)| by_duration(d),
        // Tasks 60 ms apart can finish out of order on a loaded machine: a right
        // answer gets three runs to show the order of their durations; an answer
        // that waits in submission order shows it at every run.
        move |(d, w)| {
            let mut got = g(d, *w);
            for _ in 1..3 {
                if got == by_duration(d) {
                    break;
                }
                got = g(d, *w);
            }
            got
        },
    );
    // Equal durations finish in any order: compare the sorted ids.
    require_concurrent(verdict, (0..6).collect(), move |d, w| {
        let mut ids = f(d, w);
        ids.sort_unstable();
        ids
    })
}

/// Adds a timed case to a 6.1 verdict that passed: 6 tasks of 100 ms on 3 workers
/// take at least 600 ms one after the other (a sleep never ends early), 200 ms
/// ideally. A run under [`ONE_BY_ONE`] can only come from tasks that overlapped, so
/// it proves concurrency whatever the load; a concurrent answer delayed by a loaded
/// machine gets three runs to show it. A run under 90 ms did not wait at all.
fn require_concurrent(
    verdict: Verdict,
    expected: Vec<usize>,
    f: impl Fn(&[u64], usize) -> Vec<usize>,
) -> Verdict {
    if !verdict.passed() {
        return verdict;
    }
    let durations = [100u64; 6];
    let mut problem = None;
    for _ in 0..3 {
        let start = Instant::now();
        let got = crate::verif::run_quietly(|| f(&durations, 3));
        let wall = start.elapsed().as_secs_f64();
        problem = match got {
            Err(m) => Some(format!("panique : {m}")),
            Ok(ids) if ids != expected => Some(format!("{ids:?}")),
            Ok(_) if wall >= ONE_BY_ONE => Some(format!(
                "fini en {} : les tâches ont attendu l'une après l'autre",
                crate::fr::seconds(wall)
            )),
            Ok(_) if wall < 0.09 => Some(format!(
                "fini en {} : les tâches n'ont pas attendu leur durée",
                crate::fr::seconds(wall)
            )),
            Ok(_) => None,
        };
        if problem.is_none() {
            break;
        }
    }
    match problem {
        None => Verdict::new(&verdict.question, verdict.cases_passed + 1, Status::Passed),
        Some(got) => Verdict::failed(
            &verdict.question,
            verdict.cases_passed,
            "6 tâches de 100 ms, 3 workers (idéal 0,2 s, une à une 0,6 s)",
            format!("{expected:?} en moins de 0,58 s (au moins une fois sur 3)"),
            got,
            "soumettez toutes les tâches à l'exécuteur AVANT d'attendre la première : \
                       attendre chaque tâche juste après l'avoir soumise les exécute une à une",
        ),
    }
}

/// Below this wall time (seconds), 6 tasks of 100 ms cannot have run one after the
/// other (that takes at least 0,6 s).
const ONE_BY_ONE: f64 = 0.58;

/// The kind of an outcome, for comparison (panic messages may differ in form).
fn kind(o: &Outcome<u64>) -> String {
    match o {
        Outcome::Done(v) => format!("Done({v})"),
        Outcome::Failed(e) => format!("Failed({e})"),
        Outcome::Panicked(m) => format!("Panicked({m})"),
        Outcome::TimedOut => "TimedOut".into(),
    }
}

/// Q6.2: `f(tasks, timeout)` must report each task's outcome in order.
pub fn q2_failures(
    f: impl Fn(Vec<super::FallibleTask>, Duration) -> Vec<Outcome<u64>> + Send + Sync + 'static,
) -> Verdict {
    let cases = vec![(
        "5 tâches : 2 réussies, 1 erreur, 1 panique, 1 trop lente".to_string(),
        300u64,
    )];
    check_cases_with_deadline(
        "6.2 erreurs et délai par tâche",
        "attrapez la panique de chaque tâche (catch_unwind ou le handle du pool), gardez \
         l'Err d'une tâche pour elle seule, et n'attendez pas une tâche au-delà du délai",
        "vous attendez une tâche sans délai (recv_timeout / recv_deadline)",
        cases,
        |&ms| {
            super::run_reporting(super::sample_tasks(), 5, Duration::from_millis(ms))
                .iter()
                .map(kind)
                .collect::<Vec<_>>()
        },
        move |&ms| {
            f(super::sample_tasks(), Duration::from_millis(ms))
                .iter()
                .map(kind)
                .collect::<Vec<_>>()
        },
    )
}

/// Q6.3: `f(t, c, work)` must run `t` tasks (ids `0..t`), each awaiting
/// `work.io(id)`, at most `c` at a time, and return the sum of the answers. The
/// check observes the concurrency itself ([`Work::peak`]): never more than `c`
/// requests waiting at once, and at least two together when `c` and `t` allow it.
/// The answers mix in a salt drawn at check time: no formula gives the sum, and
/// no `sleep` makes a sequential answer look concurrent.
pub fn q3_io(f: impl Fn(u64, usize, Work) -> u64) -> Verdict {
    let mut draw = crate::verif::work::Draw::new();
    let (dt, dc) = (draw.range(30, 80), draw.range(3, 12) as usize);
    let cases =
        [(0, 5), (7, 100), (60, 10), (dt, dc)].map(|(t, c)| (format!("T = {t}, C = {c}"), (t, c)));
    let salt = crate::verif::work::draw_seed();
    let reference = Work::with_salt(salt);
    let expected = |t: u64| -> u64 { (0..t).map(|id| reference.io_answer(id)).sum() };
    check_cases(
        "6.3 W6 avec limite de concurrence",
        "chaque tâche attend la réponse que `travail` donne pour son numéro, et la \
         somme additionne ces réponses ; au plus C attentes en même temps (un sémaphore \
         de C jetons : cherchez `tokio::sync::Semaphore`), mais plusieurs à la fois : \
         une tâche à la fois n'est pas de l'asynchronisme",
        cases,
        |&(t, c)| {
            (
                expected(t),
                format!("au plus {c} à la fois, et plusieurs ensemble"),
            )
        },
        |&(t, c)| {
            let work = Work::with_salt(salt);
            let v = f(t, c, work);
            let peak = work.peak();
            let together = (c as u64).min(t) >= 2;
            let seen = if peak > c as u64 {
                format!("{peak} attentes en même temps : plus de C = {c} à la fois")
            } else if together && peak == 0 {
                "aucune attente de `travail.io` : la somme ne vient pas des tâches".into()
            } else if together && peak < 2 {
                "une seule attente à la fois : les tâches ont attendu l'une après l'autre".into()
            } else {
                format!("au plus {c} à la fois, et plusieurs ensemble")
            };
            (v, seen)
        },
        |a, b| a == b,
    )
}

/// Q6.4: `f(delay_ms, timeout_ms)` must return `Some(42)` in time, else `None`,
/// even for a task that never ends (`delay_ms = None`).
pub fn q4_timeout(f: impl Fn(Option<u64>, u64) -> Option<u64> + Send + Sync + 'static) -> Verdict {
    let cases = vec![
        ("finit à temps".to_string(), (Some(5), 500)),
        ("ne finit jamais".to_string(), (None, 30)),
        ("trop lente".to_string(), (Some(1_000), 30)),
        ("immédiate".to_string(), (Some(0), 100)),
    ];
    check_cases_with_deadline(
        "6.4 délai (timeout)",
        "enveloppez la tâche dans `tokio::time::timeout` : il rend une erreur (`Elapsed`) \
         si elle est trop lente ; traduisez-la en None",
        "la tâche qui ne finit jamais vous bloque : enveloppez-la dans tokio::time::timeout",
        cases,
        |&(d, t)| super::with_timeout(d, t),
        move |&(d, t)| f(d, t),
    )
}

/// Q6.5: `f(n)`, called inside a runtime, must start the CPU work (primes below
/// n) without blocking the runtime's thread.
pub fn q5_offload(f: impl Fn(u64) -> tokio::task::JoinHandle<u64>) -> Verdict {
    let n = 1_000_000;
    let cases = vec![(format!("premiers < {n} pendant un minuteur de 1 ms"), n)];
    check_cases(
        "6.5 travail bloquant dans l'asynchrone",
        "un calcul long dans une tâche async bloque le thread du runtime : confiez-le à \
         tokio::task::spawn_blocking (ou à rayon) et attendez son résultat",
        cases,
        |&n| {
            (
                crate::workloads::primes::count_seq(n),
                "le minuteur continue".to_string(),
            )
        },
        |&n| {
            let s = super::ticks_during(&f, n);
            let verdict = if s.ticks >= 5 {
                "le minuteur continue".to_string()
            } else {
                format!(
                    "minuteur bloqué : {} pendant {}",
                    crate::fr::count(s.ticks, "tic", "tics"),
                    crate::fr::duration(s.work)
                )
            };
            (s.result, verdict)
        },
        |a, b| a == b,
    )
}

/// Checks a timeline: the four nodes, and each starts after what it needs ends.
pub fn timeline_problem(spans: &[Span]) -> Option<String> {
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    if names != GRAPH_NODES {
        return Some(format!("tâches {names:?} au lieu de {GRAPH_NODES:?}"));
    }
    let (load, cat, city, merge) = (&spans[0], &spans[1], &spans[2], &spans[3]);
    if cat.start < load.end || city.start < load.end {
        return Some("une agrégation commence avant la fin du chargement".into());
    }
    if merge.start < cat.end || merge.start < city.end {
        return Some("la fusion commence avant la fin des deux agrégations".into());
    }
    None
}

/// Q6.6: `f(path)` must give the W4 totals and a timeline that respects the
/// dependencies of the graph.
pub fn q6_task_graph(f: impl Fn(&std::path::Path) -> crate::Result<super::GraphRun>) -> Verdict {
    let q = "6.6 graphe de tâches";
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            return Verdict::failed(
                q,
                0,
                "préparation",
                "un dossier temporaire",
                e.to_string(),
                "vérifiez l'espace disque",
            )
        }
    };
    let path: PathBuf = dir.path().join("t.csv");
    let _ = crate::data::transactions::generate(&path, 5_000, |_| {});
    let summarize = |r: crate::Result<super::GraphRun>| match r {
        Ok(g) => Ok((
            g.categories,
            g.top_cities,
            timeline_problem(&g.spans).unwrap_or_else(|| "dépendances respectées".into()),
        )),
        Err(e) => Err(e.to_string()),
    };
    check_cases(
        q,
        "chargement → (par catégorie ∥ par ville) → fusion : les deux agrégations lancées \
         ensemble (tokio::join!), la fusion après les deux ; montants en centimes",
        vec![("5 000 transactions".to_string(), path)],
        |p| summarize(super::task_graph(p)),
        |p| summarize(f(p)),
        |a, b| a == b,
    )
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;

    /// Submits each task and waits for it at once: one after the other.
    fn one_by_one(durations: &[u64], workers: usize) -> Vec<usize> {
        let ex = Executor::new(workers);
        durations
            .iter()
            .enumerate()
            .filter_map(|(i, &d)| {
                let h = ex.submit(move || {
                    std::thread::sleep(Duration::from_millis(d));
                    i
                });
                match h.wait() {
                    Outcome::Done(i) => Some(i),
                    _ => None,
                }
            })
            .collect()
    }

    #[test]
    fn sequential_executions_are_rejected() {
        let v = q1_map(one_by_one);
        assert!(v.to_string().contains("l'une après l'autre"), "{v}");
        let v = q1_as_completed(|d, w| {
            let mut ids = one_by_one(d, w);
            ids.sort_by_key(|&i| d[i]);
            ids
        });
        assert!(v.to_string().contains("l'une après l'autre"), "{v}");
    }

    /// The notebook's answer to 6.3: a semaphore of `c` permits.
    fn io_semaphore(t: u64, c: usize, work: Work) -> u64 {
        runtime().block_on(async move {
            let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(c.max(1)));
            let hs: Vec<_> = (0..t)
                .map(|id| {
                    let permits = std::sync::Arc::clone(&permits);
                    tokio::spawn(async move {
                        let _p = permits.acquire().await.unwrap();
                        work.io(id).await
                    })
                })
                .collect();
            let mut sum = 0;
            for h in hs {
                sum += h.await.unwrap();
            }
            sum
        })
    }

    /// Another right answer: a stream with `buffer_unordered(c)`.
    fn io_stream(t: u64, c: usize, work: Work) -> u64 {
        runtime().block_on(async move {
            futures::stream::iter(0..t)
                .map(|id| async move { work.io(id).await })
                .buffer_unordered(c.max(1))
                .fold(0u64, |a, v| async move { a + v })
                .await
        })
    }

    #[test]
    fn io_answers_without_real_concurrency_are_refused() {
        // One request after the other.
        let v = q3_io(|t, _, work| {
            current_thread_runtime().block_on(async move {
                let mut sum = 0;
                for id in 0..t {
                    sum += work.io(id).await;
                }
                sum
            })
        });
        assert!(v.to_string().contains("l'une après l'autre"), "{v}");
        // A closed form plus a sleep as long as the ideal: no request waited.
        let v = q3_io(|t, c, _| {
            std::thread::sleep(Duration::from_millis(10 * t.div_ceil(c.max(1) as u64)));
            t * t.saturating_sub(1)
        });
        assert!(v.failure_case().is_some(), "{v}");
        // No limit: every request at once.
        let v = q3_io(|t, _, work| io_semaphore(t, usize::MAX >> 4, work));
        assert!(v.to_string().contains("plus de C"), "{v}");
        // A limit one too large.
        let v = q3_io(|t, c, work| io_semaphore(t, c + 1, work));
        assert!(v.to_string().contains("plus de C"), "{v}");
    }

    /// Asserts that `v` passed, printing it first (checkers under a deadline
    /// silence panic messages while they run).
    fn must_pass(v: &Verdict) {
        if !v.passed() {
            eprintln!("refused: {v}");
        }
        assert!(v.passed(), "{v}");
    }

    #[test]
    fn references_pass_their_checkers() {
        let v = q1_map(map_in_order);
        must_pass(&v);
        let v = q1_as_completed(as_completed);
        must_pass(&v);
        let v = q2_failures(|t, d| run_reporting(t, 5, d));
        must_pass(&v);
        for _ in 0..3 {
            let v = q3_io(io_semaphore);
            must_pass(&v);
            let v = q3_io(io_stream);
            must_pass(&v);
        }
        let v = q4_timeout(with_timeout);
        must_pass(&v);
        let v = q5_offload(offload);
        must_pass(&v);
        let v = q6_task_graph(task_graph);
        must_pass(&v);
        assert!(cancelled_by_select());
    }

    #[test]
    fn plausible_wrong_answers_are_rejected() {
        // as_completed that waits in submission order.
        let v = q1_as_completed(map_in_order);
        assert!(
            !v.passed() && v.to_string().contains("ordre d'arrivée"),
            "{v}"
        );
        let v = q1_map(as_completed);
        assert!(!v.passed(), "{v}");
        // No per-task timeout: waits for the slow task (2 s) — reported as Done(3).
        let v = q2_failures(|t, _| run_reporting(t, 5, Duration::from_secs(4)));
        assert!(!v.passed() && v.to_string().contains("TimedOut"), "{v}");
        // A panic that is not caught.
        let v = q2_failures(|tasks, _| {
            tasks
                .into_iter()
                .take(3)
                .map(|t| match t() {
                    Ok(v) => Outcome::Done(v),
                    Err(e) => Outcome::Failed(e),
                })
                .collect()
        });
        assert!(!v.passed() && v.to_string().contains("panique"), "{v}");
        // Timeout forgotten: a never-ending task blocks (reported as stuck).
        let v = q4_timeout(|d, _| {
            current_thread_runtime().block_on(async move {
                match d {
                    Some(d) => tokio::time::sleep(Duration::from_millis(d)).await,
                    None => std::future::pending::<()>().await,
                }
                Some(42)
            })
        });
        assert!(!v.passed() && v.to_string().contains("bloqué"), "{v}");
        // CPU work inside an async task on the runtime thread.
        let v = q5_offload(|n| tokio::spawn(async move { primes::count_seq(n) }));
        assert!(
            !v.passed() && v.to_string().contains("minuteur bloqué"),
            "{v}"
        );
        // Merge before the aggregations end (a timeline that lies about order).
        let v = q6_task_graph(|p| {
            let mut g = task_graph(p)?;
            g.spans[3].start = g.spans[1].start;
            Ok(g)
        });
        assert!(!v.passed() && v.to_string().contains("fusion"), "{v}");
    }
}
