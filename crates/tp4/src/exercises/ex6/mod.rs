//! Exercise 6 — concurrent.futures et patterns asynchrones: an executor with task
//! handles (results in submission order or in completion order), failures and
//! timeouts per task, tokio async on W6 with a concurrency limit, timeouts and
//! cancellation, the blocking pitfall, and a small task graph (Dask's `delayed`).
//!
//! One public item per question, each the reference answer; the checkers are in
//! [`verif`] (`ex6::verif::qN_...`). [`demo`](demo::demo) is what `tp4 exercice 6`
//! runs, one function per step. W6 is the code of [`crate::workloads::io`], the
//! strategies `tp4 bench` measures.

pub mod demo;
pub mod verif;

pub use demo::demo;

/// The title of the exercise, as the lab prints it.
pub const TITLE: &str = "Exercice 6 — concurrent.futures et patterns asynchrones";

use crate::data::transactions;
use crate::error::{Error, Result};
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
pub(crate) fn map_in_order(durations_ms: &[u64], workers: usize) -> Vec<usize> {
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
pub(crate) fn as_completed(durations_ms: &[u64], workers: usize) -> Vec<usize> {
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
pub(crate) fn run_reporting(
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
pub(crate) fn io_tokio(t: u64, c: usize) -> u64 {
    io::tokio(t, c)
}

/// Q6.3 (variant) — the same with a stream: `buffer_unordered(C)` keeps at most C
/// futures running and yields results as they complete.
pub(crate) fn io_buffer_unordered(t: u64, c: usize) -> u64 {
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
pub(crate) fn io_threads(t: u64, c: usize) -> u64 {
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
pub(crate) fn with_timeout(delay_ms: Option<u64>, timeout_ms: u64) -> Option<u64> {
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
pub(crate) fn cancelled_by_select() -> bool {
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
pub(crate) fn offload(n: u64) -> tokio::task::JoinHandle<u64> {
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
    /// Total amount in cents per category of the file, by name.
    pub categories: std::collections::BTreeMap<String, i64>,
    /// The 3 cities with the largest total amount, in cents (fewer when the file has
    /// fewer cities; ties alphabetical).
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
pub(crate) fn task_graph(path: &Path) -> Result<GraphRun> {
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
            let mut t = std::collections::BTreeMap::<String, i64>::new();
            for r in r1.iter() {
                *t.entry(r.category.clone()).or_default() += r.amount_cents();
            }
            (t, span(GRAPH_NODES[1], s))
        });
        let by_city = tokio::task::spawn_blocking(move || {
            let s = Instant::now();
            let mut t = std::collections::BTreeMap::<String, i64>::new();
            for r in rows.iter() {
                *t.entry(r.city.clone()).or_default() += r.amount_cents();
            }
            (t, span(GRAPH_NODES[2], s))
        });
        let (a, b) = tokio::join!(by_category, by_city);
        let ((categories, cat_span), (cities, city_span)) =
            (a.map_err(join_error)?, b.map_err(join_error)?);
        let merge = tokio::task::spawn_blocking(move || {
            let s = Instant::now();
            let mut top: Vec<(String, i64)> = cities.into_iter().collect();
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
