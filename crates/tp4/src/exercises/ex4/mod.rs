//! Exercise 4 — Introduction au multiprocessing: threads and real OS processes,
//! static chunking versus work stealing, fixed pools, reproducible random streams,
//! Amdahl's law, and why Rust needs no GIL (`Send`/`Sync`).
//!
//! One public function per question, each the reference answer; the checkers are in
//! [`verif`] (`ex4::verif::qN_...`), they take the student's function and return a
//! French [`Verdict`](crate::verif::Verdict). [`demo`] is what `tp4 exercice 4` runs.
//! The parallel code is the one of [`crate::workloads`] and [`crate::procs`], the same
//! that `tp4 bench` measures.

/// The title of the exercise, as the lab prints it.
pub const TITLE: &str = "Exercice 4 — Introduction au multiprocessing";

use crate::context::Context;
use crate::error::Result;
use crate::machine::{self, CpuQuota};
use crate::measure::{human_ratio, human_seconds, Measurement, Plan};
use crate::output::{self, Section};
use crate::plot::{LineChart, Series};
use crate::run::{Case, Inputs};
use crate::workloads::{self, pi, primes, Workload};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Q4.1 — How many CPUs may this process really use? The minimum of the affinity
/// mask (CPUs the scheduler lets us run on) and the cgroup quota rounded up (1.5
/// CPUs of quota still lets 2 threads progress). Pools are sized on this number, not
/// on the logical CPU count, which in a container may be far larger than the quota.
pub fn usable_cpus_from(affinity: usize, quota_cpus: Option<f64>) -> usize {
    machine::combine_usable(affinity, quota_cpus.map(CpuQuota::Cpus))
}

/// The three CPU counts of this machine.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuCounts {
    /// Logical CPUs (hyper-threads included): what `os.cpu_count()` shows.
    pub logical: usize,
    /// Physical cores, when the system tells.
    pub physical: Option<usize>,
    /// CPUs usable by this process (affinity and cgroup quota).
    pub usable: usize,
}

/// Q4.1 (measure) — the logical, physical and usable CPU counts of this machine.
pub fn cpu_counts() -> CpuCounts {
    CpuCounts {
        logical: machine::logical_cpus(),
        physical: sysinfo::System::physical_core_count(),
        usable: machine::usable_cpus(),
    }
}

/// Q4.2 — `std::thread::spawn` and `JoinHandle`: split `data` into `workers` owned
/// chunks (every element in exactly one chunk, the remainder included), sum each
/// chunk on its own thread, and add up the results returned by `join()`. The
/// threads own their chunk (`move`): a spawned thread may outlive the caller.
pub fn spawn_sum(data: Vec<u64>, workers: usize) -> u64 {
    let workers = workers.max(1);
    let size = data.len().div_ceil(workers).max(1);
    let handles: Vec<std::thread::JoinHandle<u64>> = data
        .chunks(size)
        .map(|c| {
            let chunk = c.to_vec();
            std::thread::spawn(move || chunk.iter().sum())
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("a summing thread panicked"))
        .sum()
}

/// Q4.3 — `std::thread::scope`: the maximum of a slice with `workers` threads that
/// borrow their part of `data` directly (no `Arc`, no copy): the scope guarantees
/// that every thread ends before `data` can be dropped. `None` for an empty slice.
pub fn scoped_max(data: &[i64], workers: usize) -> Option<i64> {
    if data.is_empty() {
        return None;
    }
    let size = data.len().div_ceil(workers.max(1));
    std::thread::scope(|s| {
        let handles: Vec<_> = data
            .chunks(size)
            .map(|c| s.spawn(move || c.iter().copied().max()))
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().expect("a max thread panicked"))
            .max()
    })
}

/// Q4.4 — W1 with static chunking: `workers` threads, one contiguous range of
/// `0..n` each. Right answer, but the thread holding the largest numbers works
/// longest (see [`primes::count_threads_busy`]).
pub fn primes_static(n: u64, workers: usize) -> u64 {
    primes::count_threads(n, workers)
}

/// Q4.5 — W1 with work stealing: rayon in a pool of `workers` threads; the range is
/// split recursively and idle threads steal halves, so nobody waits.
pub fn primes_stealing(n: u64, workers: usize) -> u64 {
    workloads::pool(workers).install(|| primes::count_rayon(n))
}

/// Q4.6 — W1 with real OS processes (the counterpart of `multiprocessing.Pool`):
/// `tp4` starts `workers` copies of itself (`tp4 __worker primes LO HI`), each
/// counts its range and writes the count on its stdout pipe.
pub fn primes_processes(n: u64, workers: usize) -> Result<u64> {
    crate::procs::count_primes(n, workers)
}

/// Q4.7 — A process of its own: start one worker process, wait for it, and return
/// the process id it reports (different from ours, and gone once waited for).
pub fn child_pid() -> Result<u32> {
    crate::procs::child_pid()
}

/// Q4.8 — A pool with a fixed number of workers, the counterpart of `Pool(n)`:
/// `rayon::ThreadPoolBuilder::new().num_threads(threads)` then `install`, inside
/// which every rayon call uses that pool. Returns the sum of squares and the number
/// of threads seen inside the pool (`rayon::current_num_threads()`).
pub fn pool_sum_squares(xs: &[u64], threads: usize) -> (u64, usize) {
    use rayon::prelude::*;
    workloads::pool(threads).install(|| {
        (
            xs.par_iter().map(|x| x * x).sum(),
            rayon::current_num_threads(),
        )
    })
}

/// Q4.9 — W2 Monte Carlo π with one seeded stream per worker: worker `w` draws from
/// stream `w` ([`pi::stream`]), so the estimate is the same at every run with the
/// same worker count (a shared or time-seeded generator would not be).
pub fn pi_streams(samples: u64, workers: usize) -> f64 {
    pi::estimate_threads(samples, workers)
}

/// Q4.10 — Amdahl's law: the speedup on `p` workers when a fraction `s` of the work
/// is serial, `1 / (s + (1 - s) / p)`, capped by `1 / s`.
pub fn amdahl_speedup(p: f64, s: f64) -> f64 {
    crate::models::amdahl(p, s)
}

/// Q4.11 — The serial fraction that explains measured speedups `(workers, speedup)`
/// best (least squares on `1/S - 1/p = s (1 - 1/p)`); `None` without a point at more
/// than one worker.
pub fn serial_fraction(points: &[(f64, f64)]) -> Option<f64> {
    crate::models::fit_serial_fraction(points)
}

/// Q4.12 — `Send`/`Sync`: `threads` threads each add 1 to a shared counter
/// `per_thread` times; the counter is an `Arc<AtomicU64>`, so the total is exact.
///
/// Python's GIL lets one thread run Python code at a time; Rust threads run truly in
/// parallel, and the compiler refuses any sharing that could race. An `Rc` (its
/// count is not atomic) cannot be sent to another thread:
///
/// ```compile_fail,E0277
/// use std::rc::Rc;
/// let counter = Rc::new(0u64);
/// let c = Rc::clone(&counter);
/// std::thread::spawn(move || println!("{c}")); // error: `Rc<u64>` cannot be sent between threads safely
/// ```
///
/// and a `RefCell` (its borrow flag is not atomic) cannot be shared between threads,
/// even inside an `Arc`:
///
/// ```compile_fail,E0277
/// use std::{cell::RefCell, sync::Arc};
/// let counter = Arc::new(RefCell::new(0u64));
/// let c = Arc::clone(&counter);
/// std::thread::spawn(move || *c.borrow_mut() += 1); // error: `RefCell<u64>` cannot be shared between threads safely
/// ```
///
/// The thread-safe versions compile: `Arc<Mutex<u64>>` or `Arc<AtomicU64>`:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// let counter = Arc::new(Mutex::new(0u64));
/// let c = Arc::clone(&counter);
/// std::thread::spawn(move || *c.lock().unwrap() += 1).join().unwrap();
/// assert_eq!(*counter.lock().unwrap(), 1);
/// ```
pub fn shared_counter(threads: usize, per_thread: u64) -> u64 {
    let counter = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let c = Arc::clone(&counter);
            std::thread::spawn(move || {
                for _ in 0..per_thread {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a counting thread panicked");
    }
    counter.load(Ordering::Relaxed)
}

/// The checkers of exercise 4: each takes the student's function and compares it
/// with the reference on fixed, edge and generated cases.
pub mod verif {
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

    /// Q4.2: `f(data, workers)` must return the sum computed by spawned threads.
    pub fn q2_spawn_sum(f: impl Fn(Vec<u64>, usize) -> u64) -> Verdict {
        check_cases(
            "4.2 thread::spawn et JoinHandle",
            "chaque élément doit être dans exactement un morceau : taille = ceil(len / workers), \
             et le dernier morceau prend le reste",
            vectors(),
            |(v, w)| super::spawn_sum(v.clone(), *w),
            |(v, w)| f(v.clone(), *w),
            |a, b| a == b,
        )
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
        check_cases(
            "4.3 thread::scope",
            "un slice vide n'a pas de maximum (None) ; n'initialisez pas le maximum à 0 \
             (valeurs négatives) ; n'oubliez pas le dernier morceau",
            cases,
            |(v, w)| super::scoped_max(v, *w),
            |(v, w)| f(v, *w),
            |a, b| a == b,
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
    pub fn q4_count_primes(f: impl Fn(u64, usize) -> u64) -> Verdict {
        check_cases(
            "4.4 / 4.5 W1 en parallèle",
            "les morceaux [n·w/P, n·(w+1)/P) couvrent 0..n sans trou ni chevauchement ; \
             1 n'est pas premier, 2 l'est",
            prime_cases(),
            |&(n, _)| primes::reference_count(n),
            |&(n, w)| f(n, w),
            |a, b| a == b,
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
                Err(m) if crate::verif::is_todo(&m) => {
                    return Verdict::new(q, round, Status::NotDone)
                }
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
        check_cases(
            "4.8 pool de taille fixe",
            "construisez un pool avec ThreadPoolBuilder::new().num_threads(n) et faites le calcul \
             dans pool.install(|| ...) : hors de install, c'est le pool global qui travaille",
            cases,
            |(v, t)| super::pool_sum_squares(v, *t),
            |(v, t)| f(v, *t),
            |a, b| a == b,
        )
    }

    /// Q4.9: `f(samples, workers)` must give exactly the estimate of the reference
    /// streams for that worker count.
    pub fn q9_pi_streams(f: impl Fn(u64, usize) -> f64) -> Verdict {
        let cases = [(10_000, 1), (10_000, 2), (30_001, 3), (50_000, 4)]
            .map(|(s, w)| (format!("{s} points, {w} workers"), (s, w)));
        check_cases(
            "4.9 π reproductible",
            "le worker w tire ses points dans pi::stream(w) (x puis y), et prend \
             pi::share(total, workers, w) points ; pas de générateur partagé ni semé sur l'heure",
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
        ];
        check_cases(
            "4.11 fraction séquentielle ajustée",
            "moindres carrés sur tous les points p > 1 de 1/S - 1/p = s·(1 - 1/p) : \
             s = Σxy / Σx² avec x = 1 - 1/p, y = 1/S - 1/p ; None sans point p > 1",
            cases,
            |v| super::serial_fraction(v),
            |v| f(v),
            |a, b| match (a, b) {
                (Some(x), Some(y)) => close(*x, *y, 1e-6),
                _ => a == b,
            },
        )
    }

    /// Q4.12: `f(threads, per_thread)` must count every increment of every thread.
    pub fn q12_shared_counter(f: impl Fn(usize, u64) -> u64) -> Verdict {
        let cases = [(1, 10), (2, 10_000), (4, 2_500), (3, 0)]
            .map(|(t, k)| (format!("{t} threads × {k}"), (t, k)));
        check_cases(
            "4.12 compteur partagé (Send/Sync)",
            "tous les threads doivent incrémenter le MÊME compteur : Arc<AtomicU64> (ou \
             Arc<Mutex<u64>>) cloné dans chaque thread, pas une copie par thread",
            cases,
            |&(t, k)| super::shared_counter(t, k),
            |&(t, k)| f(t, k),
            |a, b| a == b,
        )
    }
}

/// Time of one case through the shared runner (what `tp4 bench` measures too).
fn measure(case: Case, plan: Plan, inputs: &mut Inputs) -> Result<Measurement> {
    let m = crate::run::run_case(&case, plan, inputs)?;
    if !m.ok {
        return Err(crate::Error::WrongAnswer {
            what: format!("{} / {}", m.workload, m.strategy),
            expected: "la réponse de référence".into(),
            got: m.answer.to_string(),
        });
    }
    Ok(m)
}

pub use crate::machine::load_note;

/// A float with 6 decimals and a French decimal comma.
fn fr6(x: f64) -> String {
    format!("{x:.6}").replace('.', ",")
}

fn ms(d: Duration) -> String {
    human_seconds(d.as_secs_f64())
}

/// The demonstration of exercise 4 (about 10 s on 2 cores): CPU counts, W1 static
/// versus work stealing versus processes with per-thread busy times, process versus
/// thread start cost, fixed pool, reproducible π, and the Amdahl plot.
pub fn demo(ctx: &Context) -> Result<Section> {
    let mut sec = Section::new(TITLE);
    let say = |sec: &mut Section, text: String| {
        println!("{}\n", text.replace("**", ""));
        sec.text(text);
    };
    let p_max = ctx.workers.iter().copied().max().unwrap_or(2).max(2);
    let bar = ctx.steps(6, "exercice 4");

    // 4.1 CPUs.
    let c = cpu_counts();
    say(
        &mut sec,
        format!(
            "**4.1 CPU** : {} logiques, {} physiques, {} utilisables par ce processus \
             (affinité et quota cgroup). Les pools du TP sont dimensionnés sur le dernier \
             nombre : dans un conteneur limité, démarrer un thread par CPU logique ne ferait \
             que multiplier les commutations.",
            c.logical,
            c.physical.map_or("?".into(), |p| p.to_string()),
            c.usable
        ),
    );

    // 4.2 / 4.3 spawn and scope.
    let data: Vec<u64> = (1..=1_000_000).collect();
    let signed: Vec<i64> = (0..100_000)
        .map(|i| (i * 7919) % 100_003 - 50_000)
        .collect();
    say(
        &mut sec,
        format!(
            "**4.2 / 4.3** : somme de 1..10⁶ par {p_max} threads `spawn` = {} (attendu {}) ; \
             maximum par {p_max} threads `scope` empruntant les données sans `Arc` = {:?}.",
            spawn_sum(data, p_max),
            500_000_500_000u64,
            scoped_max(&signed, p_max)
        ),
    );
    bar.inc(1);

    // 4.4–4.6 W1: static, stealing, processes.
    let n = 1_000_000;
    let mut inputs = Inputs::from_data_dir(&ctx.data);
    let plan = Plan {
        warmup: 1,
        repetitions: 3,
    };
    let mut rows = Vec::new();
    for (strategy, workers) in [
        ("seq", 1),
        ("threads", p_max),
        ("rayon", p_max),
        ("processes", p_max),
    ] {
        rows.push(measure(
            Case {
                workload: Workload::Primes,
                strategy: strategy.into(),
                workers,
                size: n,
            },
            plan,
            &mut inputs,
        )?);
    }
    let table = crate::results::terminal_table(&rows);
    println!("W1 : nombres premiers < {n}, médiane de 3 mesures\n{table}\n");
    sec.text(format!(
        "**4.4–4.6 W1** (premiers < {n}, médiane de 3 mesures)"
    ));
    sec.text(crate::results::markdown_table(&rows));
    let (_, busy_static) = primes::count_threads_busy(n, p_max);
    let (_, busy_steal) = primes::count_rayon_busy(n, p_max);
    let busy_rows: Vec<Vec<String>> = (0..p_max)
        .map(|i| {
            vec![
                format!("thread {i}"),
                format!(
                    "[{}, {})",
                    n * i as u64 / p_max as u64,
                    n * (i as u64 + 1) / p_max as u64
                ),
                ms(busy_static[i]),
                ms(busy_steal[i]),
            ]
        })
        .collect();
    let headers = [
        "thread",
        "plage statique",
        "occupé (statique)",
        "occupé (vol de travail)",
    ];
    println!("{}", output::table(&headers, 2, busy_rows.clone()));
    let imbalance = |b: &[Duration]| {
        let max = b.iter().max().copied().unwrap_or_default().as_secs_f64();
        let mean = b.iter().map(Duration::as_secs_f64).sum::<f64>() / b.len() as f64;
        max / mean
    };
    say(
        &mut sec,
        format!(
            "Déséquilibre (temps du thread le plus chargé / moyenne) : découpage statique {}, \
             vol de travail {}. Tester un grand nombre coûte plus cher : le dernier morceau \
             statique travaille le plus longtemps pendant que les autres attendent ; avec \
             rayon, un thread inactif vole la moitié du travail d'un autre.",
            human_ratio(imbalance(&busy_static)),
            human_ratio(imbalance(&busy_steal))
        ),
    );
    sec.text(output::markdown_table(&headers, 1, &busy_rows));
    bar.inc(1);

    // 4.7 start cost.
    let process_cost = crate::procs::process_start_cost(15)?;
    let thread_cost = crate::procs::thread_start_cost(200);
    say(
        &mut sec,
        format!(
            "**4.7 Coût de démarrage** (médiane) : un processus `tp4 __worker` lancé puis attendu \
             {} ; un thread créé puis joint {} ; soit {}× plus cher. Un processus a sa propre \
             mémoire (rien n'est partagé : tout passe par des tubes), un thread partage celle \
             du programme. Pid d'un enfant : {} (le nôtre : {}).",
            human_seconds(process_cost),
            human_seconds(thread_cost),
            (process_cost / thread_cost).round(),
            child_pid()?,
            std::process::id()
        ),
    );
    bar.inc(1);

    // 4.8 fixed pool, 4.9 reproducible pi.
    let xs: Vec<u64> = (0..10_000).collect();
    let (sum2, seen2) = pool_sum_squares(&xs, 2);
    let (_, seen3) = pool_sum_squares(&xs, 3);
    let s = 2_000_000;
    let (a, b, one) = (pi_streams(s, 2), pi_streams(s, 2), pi_streams(s, 1));
    let by_processes = crate::procs::estimate_pi(s, 2)?;
    say(
        &mut sec,
        format!(
            "**4.8 Pool fixe** : `num_threads(2)` → {seen2} threads vus dans `install` \
             (somme des carrés {sum2}), `num_threads(3)` → {seen3}.\n\n**4.9 π reproductible** \
             ({s} points) : 2 workers → {} puis {} (identiques), 2 processus → \
             {} (mêmes flux, même valeur), 1 worker → {} (autres points).",
            fr6(a),
            fr6(b),
            fr6(by_processes),
            fr6(one)
        ),
    );
    bar.inc(1);

    // 4.10 / 4.11 Amdahl.
    let mut amdahl_rows = Vec::new();
    let plan5 = Plan {
        warmup: 1,
        repetitions: 5,
    };
    let mut counts = ctx.workers.clone();
    if !counts.contains(&1) {
        counts.insert(0, 1);
    }
    for &w in &counts {
        for strategy in ["rayon", "threads"] {
            amdahl_rows.push(measure(
                Case {
                    workload: Workload::Primes,
                    strategy: strategy.into(),
                    workers: w,
                    size: n,
                },
                plan5,
                &mut inputs,
            )?);
        }
    }
    // Amdahl compares the same program on 1 and p workers: each strategy's own
    // one-worker time is its baseline.
    let points = |strategy: &str| -> Vec<(f64, f64)> {
        let same = || amdahl_rows.iter().filter(|m| m.strategy == strategy);
        let base = same()
            .find(|m| m.workers == 1)
            .map_or(rows[0].seconds, |m| m.seconds);
        same()
            .map(|m| (m.workers as f64, base / m.seconds))
            .collect()
    };
    let (rayon_pts, thread_pts) = (points("rayon"), points("threads"));
    let s_fit = serial_fraction(&rayon_pts).unwrap_or(0.0);
    let p_plot = p_max.max(8);
    let chart = LineChart {
        title: "Loi d'Amdahl : W1 (premiers), mesuré et théorique".into(),
        x_label: "workers (threads)".into(),
        y_label: "accélération".into(),
        series: vec![
            Series::measured("rayon (vol de travail), mesuré", rayon_pts.clone()),
            Series::measured("threads (découpage statique), mesuré", thread_pts),
            Series::model(
                format!("Amdahl, s = {} ajusté", human_ratio(s_fit)),
                (1..=p_plot)
                    .map(|p| (p as f64, amdahl_speedup(p as f64, s_fit)))
                    .collect(),
            ),
            Series::model(
                "idéal (accélération = workers)",
                (1..=p_plot).map(|p| (p as f64, p as f64)).collect(),
            ),
        ],
        log_x: false,
    };
    let files = chart.save(&ctx.output, "ex4_amdahl")?;
    output::write_csv(
        &ctx.out("ex4_mesures.csv"),
        &[rows.clone(), amdahl_rows].concat(),
    )?;
    let cap = if s_fit > 0.0 {
        format!("{:.1}", 1.0 / s_fit).replace('.', ",")
    } else {
        "∞".into()
    };
    say(
        &mut sec,
        format!(
            "**4.10 / 4.11 Amdahl** : accélérations mesurées (rayon) {} ; fraction séquentielle \
             ajustée s = {} ; plafond théorique 1/s = {cap} quel que soit le nombre de cœurs. \
             Sur cette machine, {} CPU utilisables : au-delà, des workers en plus n'accélèrent \
             plus rien.{}",
            rayon_pts
                .iter()
                .map(|(p, s)| format!("{p}→{}", human_ratio(*s)))
                .collect::<Vec<_>>()
                .join(", "),
            human_ratio(s_fit),
            c.usable,
            load_note(c.usable)
        ),
    );
    sec.image("Loi d'Amdahl, mesuré et théorique", "ex4_amdahl.png");
    bar.inc(1);

    // 4.12 Send/Sync.
    say(
        &mut sec,
        format!(
            "**4.12 Send/Sync** : {p_max} threads × 100 000 incréments d'un `Arc<AtomicU64>` = {} \
             (exact). Partager un `Rc` ou un `RefCell` entre threads ne compile pas (voir les \
             doctests `compile_fail` de `ex4::shared_counter`) : pas de GIL en Rust, les threads \
             tournent vraiment en parallèle et les courses de données sont refusées à la compilation.",
            shared_counter(p_max, 100_000)
        ),
    );
    bar.inc(1);
    bar.finish_and_clear();
    for f in files.iter().filter_map(|f| f.file_name()) {
        sec.file(f);
    }
    sec.file("ex4_mesures.csv");
    Ok(sec)
}

#[cfg(test)]
mod tests {
    use super::verif::*;
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

    #[test]
    fn busy_times_show_the_imbalance_of_static_chunks() {
        // Answers only; the imbalance itself is measured in the demo.
        let (c, b) = primes::count_threads_busy(50_000, 2);
        assert_eq!(c, primes::reference_count(50_000));
        assert_eq!(b.len(), 2);
        assert_eq!(cpu_counts().usable, machine::usable_cpus());
    }
}
