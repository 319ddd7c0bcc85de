//! Exercise 6 — concurrent.futures et patterns asynchrones: an executor with task
//! handles (results in submission order or in completion order), failures and
//! timeouts per task, tokio async on W6 with a concurrency limit, timeouts and
//! cancellation, the blocking pitfall, and a small task graph (Dask's `delayed`).
//!
//! One public item per question, each the reference answer; the checkers are in
//! [`verif`] (`ex6::verif::qN_...`). [`demo`] is what `tp4 exercice 6` runs. W6 is
//! the code of [`crate::workloads::io`], the strategies `tp4 bench` measures.

/// The title of the exercise, as the lab prints it.
pub const TITLE: &str = "Exercice 6 — concurrent.futures et patterns asynchrones";

use crate::context::Context;
use crate::data::transactions::{self, CATEGORIES, CITIES};
use crate::error::{Error, Result};
use crate::measure::{human_ratio, human_seconds, Plan};
use crate::output::{self, Section};
use crate::plot::{LineChart, Series};
use crate::workloads::{io, primes};
use crossbeam::channel;
use futures::StreamExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a task submitted to the [`Executor`] ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    /// It returned a value.
    Done(T),
    /// It returned an error (its message).
    Failed(String),
    /// It panicked (the panic message).
    Panicked(String),
    /// It did not finish in time (its result, if it ever comes, is ignored).
    TimedOut,
}

/// Q6.1 — The executor pattern (`concurrent.futures.ThreadPoolExecutor`): a pool of
/// threads to which tasks are submitted; each submission returns a handle whose
/// [`TaskHandle::wait`] gives the task's result. A panicking task is caught and
/// reported on its handle; the other tasks go on.
pub struct Executor {
    pool: rayon::ThreadPool,
}

/// The handle of a submitted task (a `Future` in `concurrent.futures`).
pub struct TaskHandle<T> {
    rx: channel::Receiver<std::thread::Result<T>>,
}

impl Executor {
    /// An executor with `workers` threads.
    pub fn new(workers: usize) -> Executor {
        Executor {
            pool: crate::workloads::pool(workers),
        }
    }

    /// Submits a task; it starts as soon as a thread is free.
    pub fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> TaskHandle<T> {
        let (tx, rx) = channel::bounded(1);
        self.pool.spawn(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
        });
        TaskHandle { rx }
    }
}

impl<T> TaskHandle<T> {
    /// Waits for the result; a panic of the task becomes `Outcome::Panicked`.
    pub fn wait(self) -> Outcome<T> {
        match self.rx.recv() {
            Ok(Ok(v)) => Outcome::Done(v),
            Ok(Err(p)) => Outcome::Panicked(crate::verif::panic::message(&*p)),
            Err(_) => Outcome::Panicked("la tâche a disparu".into()),
        }
    }

    /// Waits at most until `deadline`; after it, `Outcome::TimedOut` (a thread cannot
    /// be killed: the task runs on, but its result is dropped).
    pub fn wait_until(self, deadline: Instant) -> Outcome<T> {
        match self.rx.recv_deadline(deadline) {
            Ok(Ok(v)) => Outcome::Done(v),
            Ok(Err(p)) => Outcome::Panicked(crate::verif::panic::message(&*p)),
            Err(channel::RecvTimeoutError::Timeout) => Outcome::TimedOut,
            Err(channel::RecvTimeoutError::Disconnected) => {
                Outcome::Panicked("la tâche a disparu".into())
            }
        }
    }
}

/// Q6.1a — `executor.map`: submit one task per duration (task `i` sleeps
/// `durations_ms[i]` then returns `i`) and collect the results in submission order,
/// whatever order they finish in.
pub fn map_in_order(durations_ms: &[u64], workers: usize) -> Vec<usize> {
    let ex = Executor::new(workers);
    let handles: Vec<_> = durations_ms
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            ex.submit(move || {
                std::thread::sleep(Duration::from_millis(d));
                i
            })
        })
        .collect();
    handles
        .into_iter()
        .filter_map(|h| match h.wait() {
            Outcome::Done(i) => Some(i),
            _ => None,
        })
        .collect()
}

/// Q6.1b — `as_completed`: the same tasks, results taken as they finish: every task
/// sends its result on one shared channel, read in arrival order.
pub fn as_completed(durations_ms: &[u64], workers: usize) -> Vec<usize> {
    let ex = Executor::new(workers);
    let (tx, rx) = channel::unbounded();
    for (i, &d) in durations_ms.iter().enumerate() {
        let tx = tx.clone();
        ex.submit(move || {
            std::thread::sleep(Duration::from_millis(d));
            let _ = tx.send(i);
        });
    }
    drop(tx);
    rx.iter().collect()
}

/// A task that may fail: what [`run_reporting`] runs.
pub type FallibleTask = Box<dyn FnOnce() -> std::result::Result<u64, String> + Send>;

/// Q6.2 — Failures and per-task timeout: run every task on `workers` threads and
/// report each one's outcome, in submission order: its value, its error, its panic,
/// or `TimedOut` if it has not finished `timeout` after submission. One failing task
/// never stops the others.
pub fn run_reporting(
    tasks: Vec<FallibleTask>,
    workers: usize,
    timeout: Duration,
) -> Vec<Outcome<u64>> {
    let ex = Executor::new(workers);
    let deadline = Instant::now() + timeout;
    let handles: Vec<_> = tasks.into_iter().map(|t| ex.submit(t)).collect();
    handles
        .into_iter()
        .map(|h| match h.wait_until(deadline) {
            Outcome::Done(Ok(v)) => Outcome::Done(v),
            Outcome::Done(Err(e)) => Outcome::Failed(e),
            Outcome::Failed(e) => Outcome::Failed(e),
            Outcome::Panicked(m) => Outcome::Panicked(m),
            Outcome::TimedOut => Outcome::TimedOut,
        })
        .collect()
}

/// The fixed set of tasks of the failure demo and checker: two succeed, one
/// returns an error, one panics, one is too slow (2 s).
pub fn sample_tasks() -> Vec<FallibleTask> {
    vec![
        Box::new(|| Ok(1)),
        Box::new(|| Err("connexion refusée".to_string())),
        Box::new(|| panic!("division par zéro")),
        Box::new(|| {
            std::thread::sleep(Duration::from_secs(2));
            Ok(3)
        }),
        Box::new(|| Ok(5)),
    ]
}

/// Q6.3 — W6 with tokio: T async tasks each waiting 10 ms, at most C at a time
/// (`JoinSet` and a `Semaphore` of C permits). A waiting task is a small state
/// machine, not a thread with its stack: T = 100 000 costs little.
pub fn io_tokio(t: u64, c: usize) -> u64 {
    io::tokio(t, c)
}

/// Q6.3 (variant) — the same with a stream: `buffer_unordered(C)` keeps at most C
/// futures running and yields results as they complete.
pub fn io_buffer_unordered(t: u64, c: usize) -> u64 {
    let rt = runtime();
    rt.block_on(async move {
        futures::stream::iter(0..t)
            .map(|id| async move {
                tokio::time::sleep(io::LATENCY).await;
                2 * id
            })
            .buffer_unordered(c.max(1))
            .fold(0u64, |acc, v| async move { acc + v })
            .await
    })
}

/// Q6.3 (comparison) — the same with C OS threads (each blocks while it waits).
pub fn io_threads(t: u64, c: usize) -> u64 {
    io::threads(t, c)
}

/// A multi-threaded tokio runtime on the usable CPUs, created and dropped by the
/// caller (safe in a notebook cell).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(crate::machine::usable_cpus())
        .enable_time()
        .build()
        .expect("cannot start the tokio runtime")
}

/// A single-threaded tokio runtime (what makes the blocking pitfall visible).
fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("cannot start the tokio runtime")
}

/// Q6.4 — Timeout: a task that sleeps `delay_ms` then returns 42 (`None`: a task
/// that never finishes) run under `tokio::time::timeout(timeout_ms)`: `Some(42)` if
/// it finished in time, `None` otherwise. The late task is dropped, i.e. cancelled.
pub fn with_timeout(delay_ms: Option<u64>, timeout_ms: u64) -> Option<u64> {
    current_thread_runtime().block_on(async move {
        let task = async move {
            match delay_ms {
                Some(d) => tokio::time::sleep(Duration::from_millis(d)).await,
                None => std::future::pending::<()>().await,
            }
            42
        };
        tokio::time::timeout(Duration::from_millis(timeout_ms), task)
            .await
            .ok()
    })
}

/// Sets its flag when dropped: shows that a future was cancelled.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Q6.4 (cancellation) — `select!` between a task that never finishes and a 20 ms
/// sleep: the sleep wins, and the losing future is dropped, which cancels it (its
/// destructor runs, seen here through a flag). Returns whether it was cancelled.
pub fn cancelled_by_select() -> bool {
    let flag = Arc::new(AtomicBool::new(false));
    let f = Arc::clone(&flag);
    current_thread_runtime().block_on(async move {
        let never = async move {
            let _guard = DropFlag(f);
            std::future::pending::<()>().await;
        };
        tokio::select! {
            _ = never => unreachable!("a pending future never completes"),
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
    });
    flag.load(Ordering::SeqCst)
}

/// Q6.5 — The blocking pitfall, fixed: hand CPU-bound work (counting primes below
/// `n`) to tokio's blocking thread pool with `spawn_blocking`, so that the async
/// worker threads keep running the other tasks. Call it inside a runtime.
pub fn offload(n: u64) -> tokio::task::JoinHandle<u64> {
    tokio::task::spawn_blocking(move || primes::count_seq(n))
}

/// What [`ticks_during`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Stall {
    /// The result of the work.
    pub result: u64,
    /// Ticks of a 1 ms ticker task while the work ran.
    pub ticks: u64,
    /// Duration of the work.
    pub work: Duration,
    /// Longest gap between two ticks.
    pub longest_gap: Duration,
}

/// Q6.5 (measure) — Runs a 1 ms ticker task and `start(n)` on a single-threaded
/// runtime, and counts the ticks while the work runs: if the work blocks the
/// runtime's thread, no tick happens.
pub fn ticks_during(start: impl FnOnce(u64) -> tokio::task::JoinHandle<u64>, n: u64) -> Stall {
    current_thread_runtime().block_on(async move {
        let ticks = Arc::new(AtomicU64::new(0));
        let gap = Arc::new(AtomicU64::new(0));
        let (t2, g2) = (Arc::clone(&ticks), Arc::clone(&gap));
        let ticker = tokio::spawn(async move {
            let mut iv = tokio::time::interval(Duration::from_millis(1));
            iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut last = Instant::now();
            loop {
                iv.tick().await;
                let now = Instant::now();
                g2.fetch_max((now - last).as_micros() as u64, Ordering::Relaxed);
                last = now;
                t2.fetch_add(1, Ordering::Relaxed);
            }
        });
        // Let the ticker start.
        tokio::time::sleep(Duration::from_millis(3)).await;
        let before = ticks.load(Ordering::Relaxed);
        gap.store(0, Ordering::Relaxed);
        let t = Instant::now();
        let result = start(n).await.expect("the work panicked");
        let work = t.elapsed();
        let during = ticks.load(Ordering::Relaxed) - before;
        // Let the ticker see the end of the gap before reading it.
        tokio::time::sleep(Duration::from_millis(2)).await;
        ticker.abort();
        Stall {
            result,
            ticks: during,
            work,
            longest_gap: Duration::from_micros(gap.load(Ordering::Relaxed)),
        }
    })
}

/// One node of the task graph's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// Name of the task (French).
    pub name: String,
    /// Start, in seconds from the start of the graph.
    pub start: f64,
    /// End, in seconds from the start of the graph.
    pub end: f64,
}

/// What the task graph computed, and when each task ran.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphRun {
    /// Total amount in cents per category (order of [`CATEGORIES`]).
    pub categories: [i64; 8],
    /// The 3 cities with the largest total amount, in cents.
    pub top_cities: Vec<(String, i64)>,
    /// The timeline: chargement, par catégorie, par ville, fusion.
    pub spans: Vec<Span>,
}

/// The names of the nodes, in the order of [`GraphRun::spans`].
pub const GRAPH_NODES: [&str; 4] = ["chargement", "par catégorie", "par ville", "fusion"];

/// Q6.6 — A small task graph, the counterpart of Dask's `delayed`: load the
/// transactions → two independent aggregations (per category, per city) → merge.
/// Expressed with futures: the two aggregations are spawned together and awaited
/// with `tokio::join!`, so they run at the same time; the merge waits for both.
pub fn task_graph(path: &Path) -> Result<GraphRun> {
    let path = path.to_path_buf();
    let t0 = Instant::now();
    let span = move |name: &str, start: Instant| Span {
        name: name.into(),
        start: (start - t0).as_secs_f64(),
        end: t0.elapsed().as_secs_f64(),
    };
    runtime().block_on(async move {
        let load = tokio::task::spawn_blocking(move || {
            let s = Instant::now();
            transactions::load(&path).map(|rows| (Arc::new(rows), span(GRAPH_NODES[0], s)))
        });
        let (rows, load_span) = load.await.map_err(join_error)??;
        let r1 = Arc::clone(&rows);
        let by_category = tokio::task::spawn_blocking(move || {
            let s = Instant::now();
            let mut t = [0i64; 8];
            for r in r1.iter() {
                if let Some(i) = CATEGORIES.iter().position(|c| *c == r.category) {
                    t[i] += r.amount_cents();
                }
            }
            (t, span(GRAPH_NODES[1], s))
        });
        let by_city = tokio::task::spawn_blocking(move || {
            let s = Instant::now();
            let mut t = [0i64; 20];
            for r in rows.iter() {
                if let Some(i) = CITIES.iter().position(|c| *c == r.city) {
                    t[i] += r.amount_cents();
                }
            }
            (t, span(GRAPH_NODES[2], s))
        });
        let (a, b) = tokio::join!(by_category, by_city);
        let ((categories, cat_span), (cities, city_span)) =
            (a.map_err(join_error)?, b.map_err(join_error)?);
        let merge = tokio::task::spawn_blocking(move || {
            let s = Instant::now();
            let mut top: Vec<(String, i64)> =
                CITIES.iter().map(|c| c.to_string()).zip(cities).collect();
            top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            top.truncate(3);
            (top, span(GRAPH_NODES[3], s))
        });
        let (top_cities, merge_span) = merge.await.map_err(join_error)?;
        Ok(GraphRun {
            categories,
            top_cities,
            spans: vec![load_span, cat_span, city_span, merge_span],
        })
    })
}

fn join_error(e: tokio::task::JoinError) -> Error {
    Error::Other(format!("une tâche du graphe a échoué : {e}"))
}

/// The checkers of exercise 6.
pub mod verif {
    use super::{Outcome, Span, GRAPH_NODES};
    use crate::verif::deadline::check_cases_with_deadline;
    use crate::verif::{check_cases, Failure, Status, Verdict};
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
        check_cases_with_deadline(
            "6.1 map : ordre de soumission",
            "gardez les handles dans l'ordre de soumission et attendez-les dans cet ordre",
            "une tâche n'est jamais terminée : attendez chaque handle une seule fois",
            spaced(),
            |(d, _)| (0..d.len()).collect(),
            move |(d, w)| f(d, *w),
        )
    }

    /// Q6.1b: `f(durations_ms, workers)` must return the ids in completion order.
    pub fn q1_as_completed(
        f: impl Fn(&[u64], usize) -> Vec<usize> + Send + Sync + 'static,
    ) -> Verdict {
        check_cases_with_deadline(
            "6.1 as_completed : ordre de fin",
            "chaque tâche envoie son résultat sur un canal commun dès qu'elle finit : on lit \
             dans l'ordre d'arrivée, pas dans l'ordre de soumission",
            "le canal de résultats ne se ferme pas : abandonnez le Sender d'origine (drop)",
            spaced(),
            |(d, _)| {
                let mut ids: Vec<usize> = (0..d.len()).collect();
                ids.sort_by_key(|&i| d[i]);
                ids
            },
            move |(d, w)| f(d, *w),
        )
    }

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

    /// Q6.3: `f(t, c)` must return Σ 2·id and respect the limit of C tasks at a
    /// time (so it cannot take less than ceil(T/C) × 10 ms).
    pub fn q3_io(f: impl Fn(u64, usize) -> u64) -> Verdict {
        let cases = [(0, 5), (7, 100), (60, 10), (100, 25)]
            .map(|(t, c)| (format!("T = {t}, C = {c}"), (t, c)));
        check_cases(
            "6.3 W6 avec limite de concurrence",
            "chaque tâche renvoie 2·id ; au plus C tâches attendent en même temps (Semaphore \
             de C jetons ou buffer_unordered(C)) : sans limite, tout finit en 10 ms",
            cases,
            |&(t, _)| {
                (
                    crate::workloads::io::expected_sum(t),
                    "limite respectée".to_string(),
                )
            },
            |&(t, c)| {
                let start = Instant::now();
                let v = f(t, c);
                let ideal = crate::workloads::io::ideal_seconds(t, c);
                let wall = start.elapsed().as_secs_f64();
                let limit = if wall >= 0.9 * ideal {
                    "limite respectée".to_string()
                } else {
                    format!(
                        "fini en {} < idéal {} : plus de C tâches à la fois",
                        crate::measure::human_seconds(wall),
                        crate::measure::human_seconds(ideal)
                    )
                };
                (v, limit)
            },
            |a, b| a == b,
        )
    }

    /// Q6.4: `f(delay_ms, timeout_ms)` must return `Some(42)` in time, else `None`,
    /// even for a task that never ends (`delay_ms = None`).
    pub fn q4_timeout(
        f: impl Fn(Option<u64>, u64) -> Option<u64> + Send + Sync + 'static,
    ) -> Verdict {
        let cases = vec![
            ("finit à temps".to_string(), (Some(5), 500)),
            ("ne finit jamais".to_string(), (None, 30)),
            ("trop lente".to_string(), (Some(1_000), 30)),
            ("immédiate".to_string(), (Some(0), 100)),
        ];
        check_cases_with_deadline(
            "6.4 délai (timeout)",
            "tokio::time::timeout(durée, tâche).await renvoie Err(Elapsed) si la tâche est trop \
             lente : traduisez-le en None",
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
                        "minuteur bloqué : {} tic(s) pendant {}",
                        s.ticks,
                        crate::measure::human_seconds(s.work.as_secs_f64())
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
    pub fn q6_task_graph(
        f: impl Fn(&std::path::Path) -> crate::Result<super::GraphRun>,
    ) -> Verdict {
        let q = "6.6 graphe de tâches";
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => {
                return Verdict::new(
                    q,
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
}

/// The demonstration of exercise 6 (about 5 s).
pub fn demo(ctx: &Context) -> Result<Section> {
    let mut sec = Section::new(TITLE);
    let say = |sec: &mut Section, text: String| {
        println!("{}\n", text.replace("**", ""));
        sec.text(text);
    };
    let bar = ctx.steps(6, "exercice 6");

    // 6.1 map vs as_completed, random durations (seeded).
    use rand::{Rng, SeedableRng};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(6);
    let durations: Vec<u64> = (0..8).map(|_| rng.random_range(10..150)).collect();
    let t = Instant::now();
    let in_order = map_in_order(&durations, 8);
    let t_map = t.elapsed();
    let completed = as_completed(&durations, 8);
    say(
        &mut sec,
        format!(
            "**6.1 Exécuteur** : 8 tâches de durées aléatoires {durations:?} ms sur 8 threads. \
             `map` (ordre de soumission) → {in_order:?} en {} ; `as_completed` (ordre de fin) → \
             {completed:?} : la plus courte d'abord, chaque résultat disponible dès qu'il est prêt.",
            human_seconds(t_map.as_secs_f64())
        ),
    );
    bar.inc(1);

    // 6.2 failures and timeout (panic messages silenced: they are reported below).
    let outcomes = {
        let _quiet = crate::verif::panic::Silence::new();
        run_reporting(sample_tasks(), 5, Duration::from_millis(300))
    };
    let rows: Vec<Vec<String>> = outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| {
            vec![
                format!("tâche {i}"),
                match o {
                    Outcome::Done(v) => format!("✓ résultat {v}"),
                    Outcome::Failed(e) => format!("✗ erreur : {e}"),
                    Outcome::Panicked(m) => format!("✗ panique : {m}"),
                    Outcome::TimedOut => "⏱ délai de 300 ms dépassé".into(),
                },
            ]
        })
        .collect();
    let headers = ["tâche", "issue"];
    println!(
        "6.2 Erreurs et délai par tâche\n{}\n",
        output::table(&headers, 2, rows.clone())
    );
    sec.text("**6.2 Erreurs et délai par tâche** : chaque échec reste celui de sa tâche.");
    sec.text(output::markdown_table(&headers, 1, &rows));
    bar.inc(1);

    // 6.3 W6.
    let plan = Plan {
        warmup: 0,
        repetitions: 1,
    };
    type Io = fn(u64, usize) -> u64;
    let mut rows = Vec::new();
    let mut csv = Vec::new();
    let runs: [(&str, Io, u64, usize); 6] = [
        ("threads", io_threads, 1_000, 100),
        ("tokio (JoinSet + Semaphore)", io_tokio, 1_000, 100),
        ("tokio (buffer_unordered)", io_buffer_unordered, 1_000, 100),
        ("threads", io_threads, 10_000, 1_000),
        ("tokio (JoinSet + Semaphore)", io_tokio, 10_000, 1_000),
        ("tokio (JoinSet + Semaphore)", io_tokio, 100_000, 10_000),
    ];
    for (name, f, t, c) in runs {
        let ((timings, v), peak) =
            crate::alloc::measure_peak(|| crate::measure::time(plan, || f(t, c)));
        let ideal = io::ideal_seconds(t, c);
        let ok = v == io::expected_sum(t);
        rows.push(vec![
            name.to_string(),
            t.to_string(),
            c.to_string(),
            human_seconds(timings.median()),
            human_seconds(ideal),
            human_ratio(timings.median() / ideal),
            peak.map_or("—".into(), crate::alloc::human_bytes),
            if ok { "✓".into() } else { "✗".into() },
        ]);
        csv.push(crate::measure::Measurement::new(
            "io",
            name,
            c,
            t,
            &timings,
            v.into(),
            ok,
            peak,
        ));
    }
    let headers = [
        "stratégie",
        "T",
        "C",
        "temps",
        "idéal ⌈T/C⌉×10 ms",
        "temps / idéal",
        "tas max",
        "somme",
    ];
    println!(
        "6.3 W6 : T tâches de 10 ms, au plus C à la fois\n{}\n",
        output::table(&headers, 1, rows.clone())
    );
    sec.text("**6.3 W6** : T tâches qui attendent 10 ms, au plus C à la fois.");
    sec.text(output::markdown_table(&headers, 1, &rows));
    output::write_csv(&ctx.out("ex6_io.csv"), &csv)?;
    say(
        &mut sec,
        "Attendre ne consomme pas de CPU : le gain vient du recouvrement des attentes, pas des \
         cœurs. Des threads y arrivent jusqu'à quelques milliers (chacun a sa pile et se crée \
         par un appel système) ; avec C = 10 000 il faudrait 10 000 threads. Une tâche async en \
         attente n'est qu'une petite structure : T = 100 000 tâches, C = 10 000 à la fois, \
         restent dans le même ordre de grandeur que l'idéal (colonne temps / idéal ; l'écart \
         est le coût de créer et réveiller 100 000 tâches sur 2 cœurs)."
            .into(),
    );
    bar.inc(1);

    // 6.4 timeouts and cancellation.
    say(
        &mut sec,
        format!(
            "**6.4 Délais et annulation** : tâche de 5 ms sous délai de 100 ms → {:?} ; tâche qui \
             ne finit jamais sous délai de 30 ms → {:?} (abandonnée, pas de blocage) ; `select!` \
             entre cette tâche et un `sleep` de 20 ms : la tâche perdante est annulée (son \
             destructeur a tourné : {}).",
            with_timeout(Some(5), 100),
            with_timeout(None, 30),
            if cancelled_by_select() { "oui" } else { "non" }
        ),
    );
    bar.inc(1);

    // 6.5 the blocking pitfall.
    let n = 1_500_000;
    let blocking = ticks_during(|n| tokio::spawn(async move { primes::count_seq(n) }), n);
    let fixed = ticks_during(offload, n);
    let rayon_way = ticks_during(
        |n| {
            let (tx, rx) = tokio::sync::oneshot::channel();
            rayon::spawn(move || {
                let _ = tx.send(primes::count_seq(n));
            });
            tokio::spawn(async move { rx.await.expect("the rayon task vanished") })
        },
        n,
    );
    let rows: Vec<Vec<String>> = [
        ("calcul dans une tâche async (bloquant)", &blocking),
        ("spawn_blocking", &fixed),
        ("confié à rayon", &rayon_way),
    ]
    .iter()
    .map(|(name, s)| {
        vec![
            name.to_string(),
            human_seconds(s.work.as_secs_f64()),
            s.ticks.to_string(),
            human_seconds(s.longest_gap.as_secs_f64()),
        ]
    })
    .collect();
    let headers = [
        "où tourne le calcul",
        "durée du calcul",
        "tics du minuteur (1 ms)",
        "plus long trou",
    ];
    println!(
        "6.5 Le piège du calcul bloquant (runtime à un thread, premiers < {n})\n{}\n",
        output::table(&headers, 1, rows.clone())
    );
    sec.text(format!(
        "**6.5 Le piège du calcul bloquant** (runtime à un thread, premiers < {n}) : un minuteur \
         de 1 ms tourne à côté."
    ));
    sec.text(output::markdown_table(&headers, 1, &rows));
    say(
        &mut sec,
        "Un calcul dans une tâche async ne rend jamais la main (pas d'`await`) : le thread du \
         runtime est pris, toutes les autres tâches attendent. `spawn_blocking` ou rayon le \
         déplacent sur d'autres threads et le runtime reste réactif."
            .into(),
    );
    bar.inc(1);

    // 6.6 task graph and its timeline.
    let csv_path = crate::data::transactions_path(&ctx.data)?;
    let g = task_graph(&csv_path)?;
    let reference = crate::workloads::groupby::seq(&csv_path)?;
    let same = g.categories == reference.category_cents
        && g.top_cities
            .iter()
            .map(|(c, v)| (c.as_str(), *v))
            .eq(reference.top_cities(3));
    let series: Vec<Series> = g
        .spans
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let lane = (i + 1) as f64;
            Series::measured(
                format!(
                    "{} ({} → {})",
                    s.name,
                    human_seconds(s.start),
                    human_seconds(s.end)
                ),
                vec![
                    (s.start * 1e3, lane),
                    (s.end.max(s.start + 1e-5) * 1e3, lane),
                ],
            )
        })
        .collect();
    let chart = LineChart {
        title: "Graphe de tâches : chronologie (chargement → 2 agrégations → fusion)".into(),
        x_label: "temps depuis le début (ms)".into(),
        y_label: "tâche (1 = chargement … 4 = fusion)".into(),
        series,
        log_x: false,
    };
    let files = chart.save(&ctx.output, "ex6_graphe_taches")?;
    let overlap = {
        let (a, b) = (&g.spans[1], &g.spans[2]);
        a.start.max(b.start) < a.end.min(b.end)
    };
    let top: Vec<String> = g
        .top_cities
        .iter()
        .map(|(c, v)| format!("{c} {},{:02} €", v / 100, v % 100))
        .collect();
    say(
        &mut sec,
        format!(
            "**6.6 Graphe de tâches** (l'équivalent de `dask.delayed`) sur {} : 3 premières villes \
             {} ; {} Les deux agrégations dépendent seulement du chargement : lancées ensemble, \
             elles {} ; la fusion attend les deux. {}",
            csv_path.display(),
            top.join(", "),
            if same {
                "✓ mêmes totaux que W4."
            } else {
                "✗ totaux différents de W4 !"
            },
            if overlap {
                "se sont exécutées en même temps (voir la chronologie)"
            } else {
                "auraient pu s'exécuter en même temps (ici trop courtes pour se chevaucher)"
            },
            match verif::timeline_problem(&g.spans) {
                None => "Dépendances respectées.".to_string(),
                Some(p) => format!("Problème : {p}"),
            }
        ),
    );
    sec.image("Chronologie du graphe de tâches", "ex6_graphe_taches.png");
    bar.inc(1);
    bar.finish_and_clear();
    for f in files.iter().filter_map(|f| f.file_name()) {
        sec.file(f);
    }
    sec.file("ex6_io.csv");
    Ok(sec)
}

#[cfg(test)]
mod tests {
    use super::verif::*;
    use super::*;

    #[test]
    fn references_pass_their_checkers() {
        let v = q1_map(map_in_order);
        assert!(v.passed(), "{v}");
        let v = q1_as_completed(as_completed);
        assert!(v.passed(), "{v}");
        let v = q2_failures(|t, d| run_reporting(t, 5, d));
        assert!(v.passed(), "{v}");
        let v = q3_io(io_tokio);
        assert!(v.passed(), "{v}");
        assert!(q3_io(io_buffer_unordered).passed());
        assert!(q3_io(io_threads).passed());
        let v = q4_timeout(with_timeout);
        assert!(v.passed(), "{v}");
        let v = q5_offload(offload);
        assert!(v.passed(), "{v}");
        let v = q6_task_graph(task_graph);
        assert!(v.passed(), "{v}");
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
        // No concurrency limit: every task at once.
        let v = q3_io(|t, _| io::tokio(t, 1 << 20));
        assert!(!v.passed() && v.to_string().contains("plus de C"), "{v}");
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
