//! Observing parallelism: a checker of a parallel answer runs the student's function
//! with [`observe`] and sees which threads did the work, so that a sequential loop
//! that returns the right number is not accepted as a parallel answer.
//!
//! The function runs inside a fresh rayon pool whose threads carry a unique name;
//! threads the student spawns from there inherit that name (Linux copies a thread's
//! name to the threads it creates). A monitor thread samples `/proc/self/task`
//! while the function runs and records, for every thread carrying the name, the CPU
//! time it consumed (its CPU clock, in nanoseconds); threads too short-lived to be
//! sampled are seen by the CPU time they leave in the process's total. Counting
//! threads (not speedup) keeps the check reliable on a small, loaded machine: two
//! threads that both worked are two threads even when they shared one core.
//!
//! The check must never accept a sequential answer, and a sequential answer never
//! creates a thread: only the observer's own threads could look busy. So the pool
//! is left to fall asleep before the call, the caller blocks instead of spinning,
//! the monitor does not carry the name, and a thread is "busy" only above a floor
//! that their waking up never reaches. A right answer may be unlucky on a loaded
//! machine (its second thread found nothing left to steal): it is run again, up to
//! [`TRIES`] times.

use crate::verif::{short, Status, Verdict};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// What was seen while the student's function ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// Threads created by the function (not the pool's own threads).
    pub spawned: usize,
    /// Threads (pool or spawned) that consumed at least [`BUSY`] of CPU.
    pub busy: usize,
    /// CPU time of threads that started and ended during the call without being
    /// sampled (short-lived threads of the student), when it can be told apart:
    /// the process's CPU time minus that of every thread alive at the end, counted
    /// only when no other thread of the process ran meanwhile and when it is as
    /// much as a busy thread's (zero otherwise).
    pub ended: Duration,
    /// Wall time of the call.
    pub elapsed: Duration,
}

impl Observation {
    /// Whether the work ran on at least two threads: two threads each consumed a
    /// real share of the CPU time (see [`BUSY`]), or one did and threads that ended
    /// during the call left as much behind. Spawning a thread is not enough: a
    /// thread that sleeps, or a pool of one thread beside the idle caller, is one
    /// busy thread. A thread that spins while another does the work still looks
    /// busy here: checks that must tell them apart hand the answer a
    /// [`crate::verif::work::Work`], which sees who did the work itself.
    pub fn parallel(&self) -> bool {
        self.busy >= 2 || (self.busy >= 1 && !self.ended.is_zero())
    }
}

/// CPU time a thread must consume during the call to count as "busy" (and at
/// least a tenth of the CPU time of all the observed threads). The observed
/// threads that do not work (the caller blocked in `install`, the idle pool
/// thread) stay below: they sleep, and the pool is quiet before the call; on a
/// loaded machine, waking up and yielding costs them up to about 0,9 ms in a
/// debug build, against tens of milliseconds of work in the checkers' cases.
pub const BUSY: Duration = Duration::from_micros(500);

/// Runs `f` under [`observe`] up to `tries` times until the work is seen on two
/// threads (a short-lived thread can slip between two samples of a loaded
/// machine, or the second pool thread may find no work left to steal). Retrying
/// only helps a right answer: a sequential answer never spawns, and its idle
/// threads never reach [`BUSY`], however often it runs.
pub fn observe_retry<T>(tries: usize, f: impl Fn(&rayon::ThreadPool) -> T) -> (T, Observation) {
    let mut last = observe(&f);
    for _ in 1..tries {
        if last.1.parallel() {
            break;
        }
        last = observe(&f);
    }
    last
}

static NEXT: AtomicU64 = AtomicU64::new(0);

/// Runs `f` on the calling thread and reports which threads worked. `f` receives a
/// fresh pool of 2 rayon threads: a checker of a rayon answer calls the student's
/// function inside `pool.install(..)` so that its `par_iter` uses them; threads the
/// student spawns are seen too. Where threads cannot be named (not Linux), the
/// observation says "parallel" rather than reject a right answer.
///
/// Nothing the checker does itself is counted as work: the pool's threads are
/// left to fall asleep before the first snapshot, the caller waits for the monitor
/// by blocking (not by spinning), and the monitor thread does not carry the name.
pub fn observe<T>(f: impl FnOnce(&rayon::ThreadPool) -> T) -> (T, Observation) {
    let marker = format!("tp4obs{}", NEXT.fetch_add(1, Ordering::Relaxed) % 1_000_000);
    let name = marker.clone();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .thread_name(move |_| name.clone())
        .build()
        .expect("cannot build a rayon pool");
    // Every pool thread has started (and carries its name) once it ran a broadcast;
    // after it, the threads spin a little looking for work, then sleep.
    pool.broadcast(|_| ());
    settle(&marker);
    let done = AtomicBool::new(false);
    let monitor_tid = AtomicU32::new(0);
    // Both the caller and the monitor block on it (no CPU) until the snapshot.
    let start_line = Barrier::new(2);
    std::thread::scope(|s| {
        // Spawned before the renaming, so the monitor does not carry the name.
        let monitor = s.spawn(|| {
            monitor_tid.store(current_tid(), Ordering::Release);
            start_line.wait();
            let mut seen: HashMap<u32, u64> = HashMap::new();
            let mut names: HashMap<u32, bool> = HashMap::new();
            loop {
                let finished = done.load(Ordering::Acquire);
                for (tid, cpu) in sample(&marker, &mut names) {
                    let e = seen.entry(tid).or_insert(cpu);
                    *e = (*e).max(cpu);
                }
                if finished {
                    let own = clock_ns(libc::CLOCK_THREAD_CPUTIME_ID).unwrap_or(0);
                    return (seen, own);
                }
                std::thread::yield_now();
            }
        });
        let renamed = Rename::to(&marker);
        let before = Snapshot::take(&marker, true);
        start_line.wait();
        let start = Instant::now();
        let out = {
            // Stops the monitor even if `f` panics (the scope would wait for it).
            let _stop = Stop(&done);
            f(&pool)
        };
        let elapsed = start.elapsed();
        let (seen, monitor_cpu) = monitor.join().unwrap_or_default();
        let after = Snapshot::take(&marker, false);
        let named = renamed.is_some();
        drop(renamed);
        let monitor = (monitor_tid.load(Ordering::Acquire), monitor_cpu);
        let o = summarize(&before, &after, &seen, monitor, elapsed);
        (
            out,
            if named {
                o
            } else {
                Observation::unknown(elapsed)
            },
        )
    })
}

impl Observation {
    /// What is reported where threads cannot be observed: "parallel", so that a
    /// right answer is never rejected for want of a `/proc`.
    fn unknown(elapsed: Duration) -> Observation {
        Observation {
            spawned: 1,
            busy: 2,
            ended: Duration::ZERO,
            elapsed,
        }
    }
}

/// Waits (at most 100 ms, sleeping) until every thread named `marker` sleeps: the
/// pool's threads keep looking for work for a while after a job (spinning and
/// yielding, state "R") before they block (state "S"), and that spinning must not
/// be counted as the student's work.
fn settle(marker: &str) {
    for _ in 0..100 {
        if all_asleep(marker) {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Whether every thread named `marker` is blocked (state "S" in its `stat`).
fn all_asleep(marker: &str) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return true;
    };
    dir.flatten().all(|entry| {
        let path = entry.path();
        let named =
            std::fs::read_to_string(path.join("comm")).is_ok_and(|c| c.trim_end() == marker);
        let state = || {
            let stat = std::fs::read_to_string(path.join("stat")).ok()?;
            stat.get(stat.rfind(')')? + 2..)?.chars().next()
        };
        !named || state() == Some('S')
    })
}

/// The CPU time of the whole process and of each of its live threads, at one
/// moment (a thread: whether it carries the marker, and its CPU time in ns).
struct Snapshot {
    process: u64,
    threads: HashMap<u32, (bool, u64)>,
}

impl Snapshot {
    /// Takes a snapshot. The calling thread reads its own CPU time and the
    /// process's together, last when the observation starts and first when it
    /// ends, so that reading `/proc` is counted neither as the caller's work nor as
    /// the CPU time of threads that ended.
    fn take(marker: &str, starts: bool) -> Snapshot {
        let clocks = || {
            let own = clock_ns(libc::CLOCK_THREAD_CPUTIME_ID);
            (own, clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID).unwrap_or(0))
        };
        let first = (!starts).then(clocks);
        let mut threads = threads(|comm| comm == marker);
        let (own, process) = first.unwrap_or_else(clocks);
        if let (Some(cpu), Some(entry)) = (own, threads.get_mut(&current_tid())) {
            entry.1 = cpu;
        }
        Snapshot { process, threads }
    }
}

/// Counts the spawned and busy threads from the CPU times before, during (the
/// monitor's samples of the marked threads) and after.
fn summarize(
    before: &Snapshot,
    after: &Snapshot,
    seen: &HashMap<u32, u64>,
    monitor: (u32, u64),
    elapsed: Duration,
) -> Observation {
    let start_of = |t: &u32| before.threads.get(t).map_or(0, |&(_, c)| c);
    let mut ours: HashMap<u32, u64> = seen.clone();
    for (t, &(marked, cpu)) in &after.threads {
        if marked {
            let e = ours.entry(*t).or_insert(cpu);
            *e = (*e).max(cpu);
        }
    }
    let spawned = ours
        .keys()
        .filter(|t| !before.threads.contains_key(t))
        .count();
    let used: Vec<u64> = ours
        .iter()
        .map(|(t, &cpu)| cpu.saturating_sub(start_of(t)))
        .collect();
    let ended = ended_cpu(before, after, monitor);
    let floor = (BUSY.as_nanos() as u64).max((used.iter().sum::<u64>() + ended) / 10);
    let busy = used.iter().filter(|&&c| c >= floor).count();
    Observation {
        spawned,
        busy,
        ended: Duration::from_nanos(if ended >= floor { ended } else { 0 }),
        elapsed,
    }
}

/// CPU time consumed during the call by threads that no longer exist at its end:
/// the process's CPU time minus that of the live threads. It can only be the
/// student's threads when no other thread ran meanwhile: every other thread idle
/// (but the monitor, which reports its own CPU time), none gone, none new — a thread that another one creates and
/// ends in the meantime costs its creator CPU time. Zero when that is not so.
fn ended_cpu(before: &Snapshot, after: &Snapshot, (monitor, monitor_end): (u32, u64)) -> u64 {
    let start_of = |t: &u32| before.threads.get(t).map(|&(_, c)| c);
    let others_quiet = after
        .threads
        .iter()
        .all(|(t, &(marked, cpu))| marked || start_of(t) == Some(cpu))
        && before
            .threads
            .iter()
            .all(|(t, &(marked, _))| marked || *t == monitor || after.threads.contains_key(t));
    if !others_quiet || before.process == 0 || monitor_end == 0 {
        return 0;
    }
    let live: u64 = after
        .threads
        .iter()
        .map(|(t, &(_, cpu))| cpu.saturating_sub(start_of(t).unwrap_or(0)))
        .sum();
    let monitor_cpu = monitor_end.saturating_sub(start_of(&monitor).unwrap_or(monitor_end));
    let total = after.process.saturating_sub(before.process);
    total.saturating_sub(live + monitor_cpu)
}

/// Runs `f` and counts the threads it created that are still running when it
/// returns: a function that spawns threads and returns without waiting for them
/// (no `join`) leaves them behind, and what it read from them is incomplete. The
/// threads are recognised by the name they inherit from the caller (Linux); where
/// names cannot be set, the count is 0.
pub fn still_running_after<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let marker = format!("tp4run{}", NEXT.fetch_add(1, Ordering::Relaxed) % 1_000_000);
    let renamed = Rename::to(&marker);
    let out = f();
    let me = current_tid();
    let running = if renamed.is_some() {
        threads(|comm| comm == marker)
            .into_iter()
            .filter(|&(t, (marked, _))| marked && t != me && !exited(t))
            .count()
    } else {
        0
    };
    (out, running)
}

/// Whether thread `tid` of this process is gone or only finishing its exit
/// (states "Z" and "X"): a thread that was joined may linger there a moment.
fn exited(tid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else {
        return true;
    };
    let state = stat
        .rfind(')')
        .and_then(|i| stat.get(i + 2..))
        .and_then(|r| r.chars().next());
    matches!(state, Some('Z' | 'X') | None)
}

/// Gives the calling thread a name for a while (its old name comes back on drop);
/// threads it creates inherit the name.
struct Rename(String);

impl Rename {
    fn to(name: &str) -> Option<Rename> {
        let path = "/proc/thread-self/comm";
        let old = std::fs::read_to_string(path).ok()?;
        std::fs::write(path, name).ok()?;
        Some(Rename(old.trim_end().to_string()))
    }
}

impl Drop for Rename {
    fn drop(&mut self) {
        let _ = std::fs::write("/proc/thread-self/comm", &self.0);
    }
}

/// Adds one case to a verdict that passed: `run` (the student's function on a
/// large enough input) must give `expected` AND run on at least two threads.
/// A verdict that already failed is returned unchanged.
pub fn require_parallel<T: PartialEq + std::fmt::Debug>(
    verdict: Verdict,
    case: &str,
    expected: T,
    hint: &str,
    run: impl Fn(&rayon::ThreadPool) -> T,
) -> Verdict {
    if !verdict.passed() {
        return verdict;
    }
    let q = verdict.question.clone();
    let n = verdict.cases_passed;
    let fail = |got: String, expected: String| Verdict::failed(&q, n, case, expected, got, hint);
    match crate::verif::run_quietly(|| observe_retry(TRIES, &run)) {
        Err(m) => fail(format!("panique : {m}"), short(format!("{expected:?}"))),
        Ok((got, _)) if got != expected => {
            fail(short(format!("{got:?}")), short(format!("{expected:?}")))
        }
        Ok((_, o)) if !o.parallel() => fail(
            "un seul thread a travaillé (code séquentiel)".into(),
            "le travail réparti sur au moins 2 threads".into(),
        ),
        Ok(_) => Verdict::new(&q, n + 1, Status::Passed),
    }
}

/// How many times [`require_parallel`] runs a right answer before saying that it
/// ran on one thread (a sequential answer is rejected at each try).
pub const TRIES: usize = 5;

/// Sets its flag when dropped.
struct Stop<'a>(&'a AtomicBool);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Every live thread of this process: whether its name satisfies `marked`, and its
/// CPU time in ns (a thread that ends while it is read is left out).
fn threads(marked: impl Fn(&str) -> bool) -> HashMap<u32, (bool, u64)> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let path = entry.path();
        let Ok(comm) = std::fs::read_to_string(path.join("comm")) else {
            continue; // the thread ended meanwhile
        };
        let Some(cpu) = thread_cpu_ns(tid, &path) else {
            continue;
        };
        out.insert(tid, (marked(comm.trim_end()), cpu));
    }
    out
}

/// One sample of the monitor: the CPU time of the live threads named `marker`.
/// Kept cheap so that samples come often: a thread's name is read once (`names`
/// remembers whether it carries the marker), then only its CPU clock.
fn sample(marker: &str, names: &mut HashMap<u32, bool>) -> Vec<(u32, u64)> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in dir.flatten() {
        let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let marked = *names.entry(tid).or_insert_with(|| {
            std::fs::read_to_string(entry.path().join("comm")).is_ok_and(|c| c.trim_end() == marker)
        });
        if let Some(cpu) = marked.then(|| thread_cpu_ns(tid, &entry.path())).flatten() {
            out.push((tid, cpu));
        }
    }
    out
}

/// The Linux thread id of the calling thread.
fn current_tid() -> u32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::gettid() as u32 }
}

/// Reads a clock of `clock_gettime` in ns.
fn clock_ns(clock: libc::clockid_t) -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let ok = unsafe { libc::clock_gettime(clock, &mut ts) } == 0;
    ok.then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// CPU time of one thread of this process in ns: its CPU clock (exact, also for a
/// thread running right now; the clock id of thread `tid` is `(!tid << 3) | 6` on
/// Linux), else `schedstat`, else the user + system ticks of `stat` (100 Hz).
fn thread_cpu_ns(tid: u32, task: &std::path::Path) -> Option<u64> {
    if let Some(ns) = clock_ns((!(tid as libc::clockid_t) << 3) | 6) {
        return Some(ns);
    }
    if let Ok(s) = std::fs::read_to_string(task.join("schedstat")) {
        return s.split_whitespace().next()?.parse().ok();
    }
    let stat = std::fs::read_to_string(task.join("stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks * 10_000_000)
}

/// Burns about `ms` milliseconds of CPU (a known amount of work per item for
/// checkers whose inputs are durations). Returns a value so the work is not
/// optimised away.
pub fn spin(ms: u64) -> u64 {
    let end = Instant::now() + Duration::from_millis(ms);
    let mut x = 0u64;
    while Instant::now() < end {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    fn work(n: u64) -> u64 {
        (0..n)
            .map(|i| std::hint::black_box(i).wrapping_mul(i) % 7)
            .sum()
    }

    #[test]
    fn sequential_loop_is_one_thread() {
        let (sum, o) = observe(|_| (0..64u64).map(|_| work(200_000)).sum::<u64>());
        assert!(sum > 0);
        assert_eq!(o.spawned, 0, "{o:?}");
        assert!(!o.parallel(), "{o:?}");
    }

    #[test]
    fn rayon_uses_two_threads() {
        let (_, o) = observe(|pool| {
            pool.install(|| {
                (0..64u64)
                    .into_par_iter()
                    .map(|_| work(200_000))
                    .sum::<u64>()
            })
        });
        assert!(o.parallel(), "{o:?}");
    }

    #[test]
    fn spawned_threads_are_seen() {
        // Threads of tens of ms each in a debug build (like the checkers' cases):
        // seen by the monitor, or by the CPU time they leave behind.
        let (_, o) = observe_retry(TRIES, |_| {
            std::thread::scope(|s| {
                let hs: Vec<_> = (0..2).map(|_| s.spawn(|| work(3_000_000))).collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
            })
        });
        assert!(o.spawned >= 1 && o.parallel(), "{o:?}");
    }

    #[test]
    fn a_sleeping_thread_beside_sequential_work_is_not_parallel() {
        for _ in 0..5 {
            let (_, o) = observe(|_| {
                let idle = std::thread::spawn(|| std::thread::sleep(Duration::from_millis(30)));
                let s = (0..64u64).map(|_| work(20_000)).sum::<u64>();
                idle.join().unwrap();
                s
            });
            assert!(!o.parallel(), "{o:?}");
        }
    }

    #[test]
    fn a_pool_of_one_thread_is_not_parallel() {
        for _ in 0..5 {
            let (_, o) = observe(|_| {
                let one = rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .build()
                    .unwrap();
                one.install(|| {
                    (0..64u64)
                        .into_par_iter()
                        .map(|_| work(20_000))
                        .sum::<u64>()
                })
            });
            assert!(!o.parallel(), "{o:?}");
        }
    }

    #[test]
    fn threads_left_running_are_counted() {
        let (_, left) = still_running_after(|| {
            std::thread::spawn(|| std::thread::sleep(Duration::from_millis(200)));
        });
        assert_eq!(left, 1);
        let (_, left) = still_running_after(|| {
            std::thread::spawn(|| work(1_000)).join().unwrap();
        });
        assert_eq!(left, 0);
    }

    #[test]
    fn sequential_work_inside_the_pool_is_never_parallel() {
        // The same job as `rayon_uses_two_threads`, one thread: the idle pool thread
        // and the blocked caller must never count, at any try.
        for _ in 0..10 {
            let (_, o) =
                observe(|pool| pool.install(|| (0..64u64).map(|_| work(20_000)).sum::<u64>()));
            assert!(!o.parallel(), "{o:?}");
        }
    }
}
