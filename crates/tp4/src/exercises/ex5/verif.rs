//! The checkers of exercise 5: each `qN_...` function takes the student's function
//! and compares it with the reference of [`super`]. The checkers of code that may
//! block (a consumer waiting for a `Sender` that is never dropped) run it under a
//! deadline ([`check_cases_with_deadline`]) and report "bloqué" instead of hanging.
//!
//! ```
//! use tp4::ex5::verif;
//! // A closed form that sends nothing is not what 5.3 asks: rejected.
//! let v = verif::q3_bounded(|_tx, n| n.min(16));
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
//! fn accepted(_tx: std::sync::mpsc::SyncSender<u64>, _items: usize) -> usize {
//!     todo!()
//! }
//! assert!(tp4::ex5::verif::q3_bounded(accepted).not_done());
//! ```

use crate::verif::work::{draw_seed, require_work, Draw, Work};
use crate::verif::{check_cases, Verdict};
use std::path::PathBuf;
use std::sync::mpsc;

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

/// Q5.3: `f(tx, n)` receives the sender of a bounded channel whose capacity is
/// drawn at check time (the student cannot know it) and must try to send the
/// messages `0..n` without blocking, stopping at the first refusal, and return how
/// many were accepted. The check then reads what the channel really holds: the
/// answer is judged on the messages that went through, not only on the number it
/// returns (a formula sends nothing). An answer that blocks (`send` on a full
/// channel nobody reads) is reported as stuck.
pub fn q3_bounded(
    f: impl Fn(mpsc::SyncSender<u64>, usize) -> usize + Send + Sync + 'static,
) -> Verdict {
    let mut draw = Draw::new();
    let mut cases: Vec<(String, (usize, usize))> = vec![
        ("capacité 1, 10 messages".into(), (1, 10)),
        ("capacité 16, 5 messages (rien de refusé)".into(), (16, 5)),
        ("aucun message".into(), (3, 0)),
    ];
    for _ in 0..3 {
        let c = draw.range(2, 3_000) as usize;
        let n = draw.range(c as u64 / 2, c as u64 * 2) as usize;
        cases.push((
            format!("capacité {c} (tirée au hasard), {n} messages"),
            (c, n),
        ));
    }
    check_cases_with_deadline(
        "5.3 canal borné",
        "envoyez sans jamais bloquer (cherchez `SyncSender::try_send`) et arrêtez-vous au \
         premier refus : c'est le canal qui sait quand il est plein, pas une formule ; \
         la réponse compte les messages acceptés",
        "l'envoi bloque : sur un canal borné plein que personne ne lit, `send` attend \
         indéfiniment ; cherchez l'envoi qui rend une erreur au lieu d'attendre",
        cases,
        |&(c, n)| {
            let k = c.min(n);
            (k, format!("{k} messages reçus : 0, 1, 2… dans l'ordre"))
        },
        move |&(c, n)| {
            let (tx, rx) = mpsc::sync_channel::<u64>(c);
            let got = f(tx, n);
            let received: Vec<u64> = rx.try_iter().collect();
            let in_order = received.iter().enumerate().all(|(i, &m)| m == i as u64);
            let seen = if in_order {
                format!("{} messages reçus : 0, 1, 2… dans l'ordre", received.len())
            } else {
                format!(
                    "{} messages reçus, pas 0, 1, 2… dans l'ordre",
                    received.len()
                )
            };
            (got, seen)
        },
    )
}

/// Q5.4: `f(jobs, workers, work)` must return `work.job(job)` for each job, in
/// job order, the jobs taken by `workers` threads from one shared channel: at
/// least two of them must each run a real share of the jobs.
pub fn q4_worker_pool(
    f: impl Fn(Vec<u64>, usize, Work) -> Vec<u64> + Send + Sync + 'static,
) -> Verdict {
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
    let salt = draw_seed();
    let reference = Work::with_salt(salt);
    let f = std::sync::Arc::new(f);
    let g = std::sync::Arc::clone(&f);
    let verdict = check_cases_with_deadline(
        "5.4 pool de workers fait main",
        "les résultats arrivent dans l'ordre où les travaux finissent : renvoyez chaque \
         résultat avec le numéro de son travail et rangez-le à sa place",
        STUCK_CONSUMER,
        cases,
        |(jobs, _)| jobs.iter().map(|&x| reference.job(x)).collect(),
        move |(jobs, w)| g(jobs.clone(), *w, Work::with_salt(salt)),
    );
    let mut draw = Draw::new();
    let w = draw.range(2, 4) as usize;
    // Jobs of about a millisecond each (≈ 0.1 s in all): on a loaded machine, a
    // worker that starts late still finds jobs in the channel. With jobs of a few
    // microseconds, the first worker emptied it before the others were scheduled,
    // and a right answer was judged sequential under load.
    let jobs: Vec<u64> = (0..draw.range(60, 100))
        .map(|_| draw.range(8_000, 20_000))
        .collect();
    require_work(
        verdict,
        &format!(
            "{} travaux, {w} workers : les workers font les travaux",
            jobs.len()
        ),
        0.05,
        "ce sont les threads workers qui doivent appeler `travail.job`, chacun sur les \
         travaux qu'il prend dans le canal partagé (plusieurs récepteurs : cherchez \
         `crossbeam::channel`) ; le thread principal distribue et range",
        |work| jobs.iter().map(|&x| work.job(x)).collect::<Vec<u64>>(),
        |work| f(jobs.clone(), w, work),
    )
}

/// Q5.5: `f(path)` must give the per-category totals in cents of W4.
pub fn q5_pipeline(f: impl Fn(&std::path::Path) -> crate::Result<super::CategoryCents>) -> Verdict {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            return Verdict::failed(
                "5.5 pipeline",
                0,
                "préparation",
                "un dossier temporaire",
                e.to_string(),
                "vérifiez l'espace disque",
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

/// Q5.7: `f(threads, per_thread, work)`: thread number `t` adds `work.apply(t)`
/// to one shared total protected by the lock of `work.mutex()`, `per_thread`
/// times, one `lock` per addition (4.12 with a `Mutex`). The lock attributes
/// every update to its thread: see [`crate::verif::shared`] for what is required.
pub fn q7_shared_counter(f: impl Fn(usize, u64, Work) -> u64) -> Verdict {
    crate::verif::shared::check_shared_counter(
        "5.7 état partagé",
        crate::verif::shared::Handle::Mutex,
        "chaque ajout prend le verrou du total partagé, lit et écrit sous ce verrou \
         (cherchez `Mutex::lock` et ce que rend le garde), puis le relâche",
        f,
    )
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;
    use crate::verif::testing::{beside_a_spinning_thread, beside_sleeping_threads, refused_for};
    use crate::workloads::ipc;

    fn bounded_right(tx: mpsc::SyncSender<u64>, n: usize) -> usize {
        (0..n as u64)
            .take_while(|&i| tx.try_send(i).is_ok())
            .count()
    }

    fn pool_right(jobs: Vec<u64>, workers: usize, work: Work) -> Vec<u64> {
        worker_pool(jobs, workers, |x| work.job(x))
    }

    fn mutex_right(threads: usize, per_thread: u64, work: Work) -> u64 {
        let counter = work.mutex();
        std::thread::scope(|s| {
            for t in 0..threads {
                let counter = &counter;
                s.spawn(move || {
                    for _ in 0..per_thread {
                        *counter.lock().unwrap() += work.apply(t as u64);
                    }
                });
            }
        });
        counter.into_inner().unwrap()
    }

    #[test]
    fn bounded_answers_that_send_nothing_or_block_are_refused() {
        // Closed forms, with or without a sleep: nothing went through the channel.
        refused_for(&q3_bounded(|_, n| n.min(16)), "messages reçus");
        refused_for(
            &q3_bounded(|_, n| {
                std::thread::sleep(std::time::Duration::from_millis(2));
                n
            }),
            "messages reçus",
        );
        // Every message tried, refusals ignored: the count is n, not what went in.
        refused_for(
            &q3_bounded(|tx, n| {
                for i in 0..n as u64 {
                    let _ = tx.try_send(i);
                }
                n
            }),
            "try_send",
        );
        // A blocking send on a full channel nobody reads.
        refused_for(
            &q3_bounded(|tx, n| (0..n as u64).take_while(|&i| tx.send(i).is_ok()).count()),
            "bloque",
        );
        // A table fitted to the fixed cases, messages really sent: wrong on the
        // capacities drawn at check time.
        refused_for(
            &q3_bounded(|tx, n| {
                let k = match n {
                    10 => 1,
                    5 | 0 => n,
                    _ => n.min(100),
                };
                (0..k as u64)
                    .take_while(|&i| tx.try_send(i).is_ok())
                    .count()
            }),
            "tirée au hasard",
        );
    }

    #[test]
    fn pools_without_parallel_workers_are_refused() {
        // No worker thread: the jobs run on the calling thread.
        refused_for(
            &q4_worker_pool(|jobs, _, work| jobs.iter().map(|&x| work.job(x)).collect()),
            "1 thread : 100 %",
        );
        // One worker whatever the count asked.
        refused_for(
            &q4_worker_pool(|jobs, _, work| pool_right(jobs, 1, work)),
            "1 thread : 100 %",
        );
        // Results sorted by value instead of by job id.
        let v = q4_worker_pool(|jobs, w, work| {
            let mut r = pool_right(jobs, w, work);
            r.sort();
            r
        });
        refused_for(&v, "numéro de son travail");
    }

    #[test]
    fn totals_that_are_not_one_locked_counter_are_refused() {
        // Closed forms, with or without a sleep.
        refused_for(
            &q7_shared_counter(|t, k, work| (0..t as u64).map(|i| work.apply(i)).sum::<u64>() * k),
            "aucun ajout",
        );
        refused_for(
            &q7_shared_counter(|t, k, _| {
                std::thread::sleep(std::time::Duration::from_millis(2));
                t as u64 * k
            }),
            "aucun ajout",
        );
        // Message passing: each thread adds up on its own and sends once (a good
        // design, but not the question: no thread updates the shared total).
        refused_for(
            &q7_shared_counter(|threads, per_thread, work| {
                let (tx, rx) = mpsc::channel::<u64>();
                std::thread::scope(|s| {
                    for t in 0..threads {
                        let tx = tx.clone();
                        s.spawn(move || {
                            let mine: u64 = (0..per_thread).map(|_| work.apply(t as u64)).sum();
                            tx.send(mine).unwrap();
                        });
                    }
                });
                drop(tx);
                rx.iter().sum()
            }),
            "aucun ajout",
        );
        // Local sums, each added under the lock once.
        refused_for(
            &q7_shared_counter(|t, k, work| {
                let total = work.mutex();
                std::thread::scope(|s| {
                    for i in 0..t {
                        let total = &total;
                        s.spawn(move || {
                            let mine: u64 = (0..k).map(|_| work.apply(i as u64)).sum();
                            *total.lock().unwrap() += mine;
                        });
                    }
                });
                total.into_inner().unwrap()
            }),
            "somme locale",
        );
        // One mutex per thread.
        refused_for(
            &q7_shared_counter(|t, k, work| {
                std::thread::scope(|s| {
                    let hs: Vec<_> = (0..t)
                        .map(|i| {
                            s.spawn(move || {
                                let m = work.mutex();
                                for _ in 0..k {
                                    *m.lock().unwrap() += work.apply(i as u64);
                                }
                                m.into_inner().unwrap()
                            })
                        })
                        .collect();
                    hs.into_iter().map(|h| h.join().unwrap()).sum()
                })
            }),
            "compteurs différents",
        );
        // Every thread adds the value of thread 0.
        refused_for(
            &q7_shared_counter(|t, k, work| {
                let total = work.mutex();
                std::thread::scope(|s| {
                    for _ in 0..t {
                        s.spawn(|| {
                            for _ in 0..k {
                                *total.lock().unwrap() += work.apply(0);
                            }
                        });
                    }
                });
                total.into_inner().unwrap()
            }),
            "propre numéro",
        );
    }

    #[test]
    fn locked_counters_without_threads_are_refused() {
        let sequential = |t: usize, k: u64, work: Work| {
            let total = work.mutex();
            for i in 0..t as u64 {
                for _ in 0..k {
                    *total.lock().unwrap() += work.apply(i);
                }
            }
            total.into_inner().unwrap()
        };
        refused_for(&q7_shared_counter(sequential), "1 thread : 100 %");
        // Beside threads that sleep, or one that spins.
        refused_for(
            &q7_shared_counter(|t, k, work| {
                beside_sleeping_threads(t, 1, || sequential(t, k, work))
            }),
            "1 thread : 100 %",
        );
        refused_for(
            &q7_shared_counter(|t, k, work| beside_a_spinning_thread(|| sequential(t, k, work))),
            "1 thread : 100 %",
        );
    }

    #[test]
    fn references_pass_their_checkers() {
        assert!(q1_producers_consumer(producers_consumer).passed());
        assert!(q2_sentinel(sentinel_consumer).passed());
        let v = q3_bounded(bounded_right);
        assert!(v.passed(), "{v}");
        for _ in 0..2 {
            let v = q4_worker_pool(pool_right);
            assert!(v.passed(), "{v}");
        }
        let v = q5_pipeline(pipeline_totals);
        assert!(v.passed(), "{v}");
        // The pipe itself needs the `tp4` binary (tp4-cli/tests); the checker's
        // logic is tested with an in-process consumer of the same frames.
        assert!(q6_pipe(in_process_pipe).passed());
        for _ in 0..2 {
            let v = q7_shared_counter(mutex_right);
            assert!(v.passed(), "{v}");
        }
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
        refused_for(&v, "Sender");
        // Sentinels counted as messages.
        let v = q2_sentinel(|p, k| {
            let (c, s) = producers_consumer(p, k);
            (c + p as u64, s)
        });
        assert!(!v.passed(), "{v}");
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
        refused_for(&v, "sans retour");
        // A crash returns the partial sum.
        let v = q6_pipe(|k, b, crash| {
            let k = crash.map_or(k, |c| c.min(k));
            in_process_pipe(k, b, None)
        });
        refused_for(&v, "plante");
    }
}
