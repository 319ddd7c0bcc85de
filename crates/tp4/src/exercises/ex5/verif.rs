//! The checkers of exercise 5: each `qN_...` function takes the student's function
//! and compares it with the reference of [`super`]. The checkers of code that may
//! block (a consumer waiting for a `Sender` that is never dropped) run it under a
//! deadline ([`check_cases_with_deadline`]) and report "bloqué" instead of hanging.
//!
//! ```
//! use tp4::ex5::verif;
//! // A closed form that uses no channel at all is not what 5.3 asks: rejected.
//! let v = verif::q3_bounded(|capacity, n| capacity.min(n));
//! assert!(!v.passed(), "{v}");
//! ```
//!
//! The references of [`super`] are private to the library, so a notebook cannot
//! hand them in as its answer:
//!
//! ```compile_fail,E0603
//! tp4::ex5::verif::q3_bounded(tp4::ex5::accepted_before_full);
//! ```
//!
//! An answer still holding `todo!()` is "not done yet", not a crash:
//!
//! ```
//! fn accepted(_capacity: usize, _items: usize) -> usize {
//!     todo!()
//! }
//! assert!(tp4::ex5::verif::q3_bounded(accepted).not_done());
//! ```

use crate::verif::{check_cases, Failure, Status, Verdict};
use std::path::PathBuf;

pub use crate::verif::deadline::{check_cases_with_deadline, STUCK_AFTER};

const STUCK_CONSUMER: &str = "le consommateur attend encore : un Sender est resté vivant \
                              (abandonnez le Sender d'origine avec `drop` une fois les \
                              clones donnés aux producteurs), ou il manque une sentinelle";

fn producer_cases() -> Vec<(String, (usize, u64))> {
    [(1, 0), (1, 10), (3, 1_000), (4, 25_000)]
        .map(|(p, k)| (format!("{p} producteurs × {k} messages"), (p, k)))
        .into()
}

/// Q5.1: `f(producers, per_producer)` must return (messages received, sum).
pub fn q1_producers_consumer(
    f: impl Fn(usize, u64) -> (u64, u64) + Send + Sync + 'static,
) -> Verdict {
    check_cases_with_deadline(
        "5.1 plusieurs producteurs, fin par abandon des Sender",
        "clonez le Sender pour chaque producteur, abandonnez l'original (drop) : la boucle \
         `for v in rx` s'arrête quand tous les Sender sont abandonnés",
        STUCK_CONSUMER,
        producer_cases(),
        |&(p, k)| super::producers_consumer(p, k),
        move |&(p, k)| f(p, k),
    )
}

/// Q5.2: the sentinel version, same answer as Q5.1.
pub fn q2_sentinel(f: impl Fn(usize, u64) -> (u64, u64) + Send + Sync + 'static) -> Verdict {
    check_cases_with_deadline(
        "5.2 sentinelle (poison pill)",
        "une sentinelle None par producteur ; le consommateur s'arrête après en avoir reçu \
         autant que de producteurs, et ne compte pas les sentinelles comme des messages",
        STUCK_CONSUMER,
        producer_cases(),
        |&(p, k)| super::producers_consumer(p, k),
        move |&(p, k)| f(p, k),
    )
}

/// Q5.3: `f(capacity, items)` must count the sends accepted before the channel
/// is full.
pub fn q3_bounded(f: impl Fn(usize, usize) -> usize) -> Verdict {
    let cases = [(1, 10), (4, 10), (16, 5), (100, 1_000)]
        .map(|(c, n)| (format!("capacité {c}, {n} messages"), (c, n)));
    let hint = "un canal borné (`mpsc::sync_channel` ou `crossbeam::channel::bounded`) \
                refuse un envoi sans bloquer quand il est plein (`try_send`) : un canal \
                non borné accepte tout, sans jamais freiner le producteur";
    let verdict = check_cases(
        "5.3 canal borné",
        hint,
        cases,
        |&(c, n)| super::accepted_before_full(c, n),
        |&(c, n)| f(c, n),
        |a, b| a == b,
    );
    if !verdict.passed() {
        return verdict;
    }
    // A million sends take milliseconds; a formula such as `capacite.min(n)` answers in
    // well under a microsecond without sending anything.
    let (c, n) = (1_000_000, 1_000_005);
    let start = std::time::Instant::now();
    let got = crate::verif::run_quietly(|| f(c, n));
    let took = start.elapsed();
    let case = "capacité 1 000 000, 1 000 005 messages : les envois doivent avoir lieu";
    let fail = |got: String| {
        Verdict::new(
            &verdict.question,
            verdict.cases_passed,
            Status::Failed(Failure {
                case: case.into(),
                expected: "1 000 000 envois acceptés, un par un".into(),
                got,
                hint: "n'écrivez pas la réponse par une formule : créez le canal borné et \
                       envoyez vraiment les messages (try_send) jusqu'au premier refus"
                    .into(),
            }),
        )
    };
    match got {
        Err(m) => fail(format!("panique : {m}")),
        Ok(k) if k != c => fail(k.to_string()),
        Ok(_) if took < std::time::Duration::from_micros(500) => fail(format!(
            "la bonne valeur en {} : trop vite pour un million d'envois (aucun canal utilisé)",
            crate::fr::seconds(took.as_secs_f64())
        )),
        Ok(_) => Verdict::new(&verdict.question, verdict.cases_passed + 1, Status::Passed),
    }
}

/// Q5.4: `f(jobs, workers)` must return `pool_job(job)` for each job, in job
/// order.
pub fn q4_worker_pool(f: impl Fn(Vec<u64>, usize) -> Vec<u64> + Send + Sync + 'static) -> Verdict {
    let cases: Vec<(String, (Vec<u64>, usize))> = vec![
        ("aucun travail".into(), (vec![], 2)),
        ("un travail".into(), (vec![1000], 3)),
        (
            "coûts décroissants".into(),
            (vec![60_000, 30_000, 10, 20_000, 5, 1, 100], 2),
        ),
        (
            "plus de workers que de travaux".into(),
            (vec![7, 3, 50_000], 8),
        ),
    ];
    check_cases_with_deadline(
        "5.4 pool de workers fait main",
        "les résultats arrivent dans l'ordre où ils finissent : envoyez (id, résultat) et \
         rangez-les par id",
        STUCK_CONSUMER,
        cases,
        |(jobs, _)| jobs.iter().map(|&x| super::pool_job(x)).collect(),
        move |(jobs, w)| f(jobs.clone(), *w),
    )
}

/// Q5.5: `f(path)` must give the per-category totals in cents of W4.
pub fn q5_pipeline(f: impl Fn(&std::path::Path) -> crate::Result<super::CategoryCents>) -> Verdict {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            return Verdict::new(
                "5.5 pipeline",
                0,
                Status::Failed(Failure {
                    case: "préparation".into(),
                    expected: "un dossier temporaire".into(),
                    got: e.to_string(),
                    hint: "vérifiez l'espace disque".into(),
                }),
            )
        }
    };
    let mut cases: Vec<(String, PathBuf)> = Vec::new();
    let header_only = dir.path().join("entete.csv");
    let _ = std::fs::write(
        &header_only,
        format!("{}\n", crate::data::transactions::HEADER),
    );
    cases.push(("en-tête seul".into(), header_only));
    let no_newline = dir.path().join("sans_fin.csv");
    let _ = std::fs::write(
        &no_newline,
        format!(
            "{}\n1,2024-01-01,Paris,sport,1.50,1\n2,2024-01-02,Lyon,livres,20.00,2",
            crate::data::transactions::HEADER
        ),
    );
    cases.push(("dernière ligne sans retour".into(), no_newline));
    let generated = dir.path().join("t.csv");
    let _ = crate::data::transactions::generate(&generated, 3_000, |_| {});
    cases.push(("3 000 lignes générées".into(), generated));
    check_cases(
        "5.5 pipeline lecture → analyse → agrégation",
        "sautez l'en-tête, sommez en centimes entiers (pas en f64), n'oubliez pas le dernier \
         lot de lignes quand le fichier se termine",
        cases,
        |p| {
            crate::workloads::groupby::seq(p)
                .map(|g| g.categories.into_iter().map(|(k, v)| (k, v.0)).collect())
                .map_err(|e| e.to_string())
        },
        |p| f(p).map_err(|e| e.to_string()),
        |a, b| a == b,
    )
}

/// Q5.6: `f(k, batch, crash_after)` must return the exact sum, and an error when
/// the child crashes.
pub fn q6_pipe(f: impl Fn(u64, usize, Option<u64>) -> crate::Result<f64>) -> Verdict {
    // (K, batch, crash_after)
    type PipeCase = (u64, usize, Option<u64>);
    let cases: Vec<(String, PipeCase)> = vec![
        ("aucun enregistrement".into(), (0, 1, None)),
        ("un message par enregistrement".into(), (5_000, 1, None)),
        ("par lots de 1024".into(), (20_000, 1024, None)),
        ("lot partiel à la fin".into(), (1_000, 300, None)),
        ("l'enfant plante au milieu".into(), (50_000, 1, Some(1_000))),
    ];
    check_cases(
        "5.6 tube entre deux processus",
        "envoyez tous les enregistrements puis la trame de fin ; lisez la somme de l'enfant ; \
         si l'enfant s'arrête anormalement (statut de wait), renvoyez une erreur et jamais \
         une somme partielle",
        cases,
        |&(k, _, crash)| match crash {
            Some(_) => Err("erreur".to_string()),
            None => Ok(crate::workloads::ipc::producer_sum(k)),
        },
        |&(k, b, crash)| f(k, b, crash).map_err(|e| e.to_string()),
        |a, b| match (a, b) {
            (Ok(x), Ok(y)) => x == y,
            (Err(_), Err(_)) => true,
            _ => false,
        },
    )
}

/// Q5.7: `f(threads, per_thread)` (mutex, atomic or messages) must count every
/// increment.
pub fn q7_shared_counter(f: impl Fn(usize, u64) -> u64) -> Verdict {
    let cases = [(1, 1000), (2, 50_000), (4, 10_000), (3, 0)]
        .map(|(t, k)| (format!("{t} threads × {k}"), (t, k)));
    let verdict = check_cases(
        "5.7 état partagé",
        "chaque incrément doit être atomique (lock, fetch_add) ou local puis envoyé une fois ; \
         lire puis écrire en deux temps perd des incréments",
        cases,
        |&(t, k)| super::count_atomic(t, k),
        |&(t, k)| f(t, k),
        |a, b| a == b,
    );
    crate::verif::parallel::require_parallel(
        verdict,
        "4 threads × 200 000 : les threads doivent exister",
        800_000,
        "le total est juste mais aucun thread n'a compté : calculer threads × par_thread ne \
         partage aucun état ; lancez les threads, chacun incrémente l'état partagé",
        |_| f(4, 200_000),
    )
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;
    use crate::workloads::ipc;

    #[test]
    fn closed_forms_are_rejected() {
        let v = q3_bounded(|capacite, n| capacite.min(n));
        assert!(v.to_string().contains("trop vite"), "{v}");
        let v = q7_shared_counter(|threads, par_thread| threads as u64 * par_thread);
        assert!(v.to_string().contains("aucun thread"), "{v}");
    }

    #[test]
    fn references_pass_their_checkers() {
        assert!(q1_producers_consumer(producers_consumer).passed());
        assert!(q2_sentinel(sentinel_consumer).passed());
        assert!(q3_bounded(accepted_before_full).passed());
        let v = q4_worker_pool(|jobs, w| worker_pool(jobs, w, pool_job));
        assert!(v.passed(), "{v}");
        let v = q5_pipeline(pipeline_totals);
        assert!(v.passed(), "{v}");
        // The pipe itself needs the `tp4` binary (tp4-cli/tests); the checker's
        // logic is tested with an in-process consumer of the same frames.
        assert!(q6_pipe(in_process_pipe).passed());
        assert!(q7_shared_counter(count_mutex).passed());
        assert!(q7_shared_counter(count_atomic).passed());
        assert!(q7_shared_counter(count_messages).passed());
    }

    /// The frames of `pipe_sum` consumed in this process (for the checker's test).
    fn in_process_pipe(k: u64, batch: usize, crash: Option<u64>) -> Result<f64> {
        if crash.is_some() {
            return Err(Error::Other("l'enfant s'est arrêté".into()));
        }
        let mut frames = Vec::new();
        ipc::produce_batches(k, batch, |rs| {
            frames.extend_from_slice(&(rs.len() as u32).to_le_bytes());
            for r in rs {
                frames.extend_from_slice(&r.id.to_le_bytes());
                frames.extend_from_slice(&r.value.to_le_bytes());
            }
            true
        });
        frames.extend_from_slice(&0u32.to_le_bytes());
        crate::procs::consume_frames(&frames[..], None)
    }

    #[test]
    fn plausible_wrong_answers_are_rejected() {
        // The original Sender is kept: the consumer waits forever.
        let v = q1_producers_consumer(|p, k| {
            let (tx, rx) = mpsc::channel::<u64>();
            for _ in 0..p {
                let tx = tx.clone();
                std::thread::spawn(move || (0..k).for_each(|i| tx.send(i).unwrap()));
            }
            let mut n = 0;
            for _ in rx {
                n += 1;
            }
            (n, 0)
        });
        assert!(!v.passed() && v.to_string().contains("Sender"), "{v}");
        // Sentinels counted as messages.
        let v = q2_sentinel(|p, k| {
            let (c, s) = producers_consumer(p, k);
            (c + p as u64, s)
        });
        assert!(!v.passed(), "{v}");
        // Unbounded channel.
        let v = q3_bounded(|_, n| {
            let (tx, _rx) = mpsc::channel::<usize>();
            (0..n).take_while(|&i| tx.send(i).is_ok()).count()
        });
        assert!(!v.passed() && v.to_string().contains("non borné"), "{v}");
        // Results sorted by value instead of by job id.
        let v = q4_worker_pool(|jobs, w| {
            let mut r = worker_pool(jobs, w, pool_job);
            r.sort();
            r
        });
        assert!(!v.passed() && v.to_string().contains("par id"), "{v}");
        // The classic pipeline bug: the last, partial batch is never sent.
        let v = q5_pipeline(|p| {
            let text = std::fs::read_to_string(p).map_err(|e| Error::io("lecture de", p, e))?;
            let lines: Vec<&str> = text.lines().skip(1).collect();
            let mut t = crate::exercises::ex5::CategoryCents::new();
            let mut buf = String::new();
            for batch in lines.chunks_exact(1024) {
                for line in batch {
                    let row = crate::data::transactions::parse_line(line.as_bytes(), &mut buf);
                    if let Ok(Some(row)) = row {
                        *t.entry(row.category.to_string()).or_default() += row.cents;
                    }
                }
            }
            if t.is_empty() {
                return Err(crate::data::transactions::no_rows(p));
            }
            Ok(t)
        });
        assert!(!v.passed() && v.to_string().contains("sans retour"), "{v}");
        // A crash returns the partial sum.
        let v = q6_pipe(|k, b, crash| {
            let k = crash.map_or(k, |c| c.min(k));
            in_process_pipe(k, b, None)
        });
        assert!(!v.passed() && v.to_string().contains("plante"), "{v}");
        // Read-then-write in two steps on an atomic: loses updates under contention
        // (not deterministic), so the deterministic stand-in: one thread's count.
        let v = q7_shared_counter(|_, k| k);
        assert!(!v.passed(), "{v}");
    }
}
