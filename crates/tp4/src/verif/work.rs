//! Observing the work, not the threads: a checker hands the student's function a
//! [`Work`], the only way to compute the answer, and every call of it is attributed
//! to the thread that made it. A parallel answer is then one where at least two
//! threads each did a real share of the calls, whatever threads were spawned: a
//! sequential loop beside a thread that sleeps or spins, a pool of one thread or a
//! token share given to a second thread are all seen for what they are.
//!
//! The values [`Work`] returns depend on a salt drawn when the check runs, so that
//! no closed form, no table of expected results and no answer written for other
//! sizes can give the right total without making the calls.
//!
//! A [`Work`] is `Copy` and `'static` (it can be moved into `std::thread::spawn`):
//! its ledger is leaked, a few kilobytes per check.

use crate::verif::{short, Status, Verdict};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{LockResult, Mutex, MutexGuard};

/// How many threads a ledger can tell apart; calls from further threads are
/// counted together in one extra slot (no question uses that many threads).
const SLOTS: usize = 32;

/// One thread's count, alone on its cache line so that counting costs the
/// student's threads no false sharing.
#[repr(align(128))]
#[derive(Default)]
struct Slot {
    /// Thread id + 1 (0: free).
    tid: AtomicU64,
    /// Work units done by that thread.
    units: AtomicU64,
    /// Updates of a shared handle ([`Counter::fetch_add`], [`CounterMutex::lock`])
    /// made by that thread.
    updates: AtomicU64,
    /// Address of the first handle that thread updated (0: none yet).
    handle: AtomicU64,
    /// Whether that thread also updated another handle.
    several: AtomicBool,
}

/// Who did what: the units of work per thread and, for range work, the ranges.
struct Ledger {
    salt: u64,
    /// Records nothing (see [`Work::unobserved`]).
    quiet: bool,
    slots: [Slot; SLOTS],
    overflow: AtomicU64,
    ranges: Mutex<Vec<(u64, u64, u64)>>,
    /// Waits of [`Work::io`] in progress now, and the most at once.
    in_flight: AtomicU64,
    peak: AtomicU64,
    /// Updates made by threads beyond [`SLOTS`].
    overflow_updates: AtomicU64,
    /// Plain writes ([`Counter::store`]): a `load` then `store` is not an update.
    stores: AtomicU64,
}

/// The work of a checked answer: each call computes a value the answer needs and
/// records which thread asked for it (see the module doc).
#[derive(Clone, Copy)]
pub struct Work {
    ledger: &'static Ledger,
}

impl std::fmt::Debug for Work {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Work")
    }
}

impl Work {
    /// A fresh ledger whose values depend on `salt` (two works with the same salt
    /// give the same values; each counts its own calls).
    pub fn with_salt(salt: u64) -> Work {
        Work::make(salt, false)
    }

    /// A work that gives the same values as [`Work::fresh`] but records nothing:
    /// for timing a student's function (a measurement cell) without the cost of
    /// the ledger.
    pub fn unobserved() -> Work {
        Work::make(draw_seed(), true)
    }

    fn make(salt: u64, quiet: bool) -> Work {
        let ledger = Box::leak(Box::new(Ledger {
            salt,
            quiet,
            slots: Default::default(),
            overflow: AtomicU64::new(0),
            ranges: Mutex::new(Vec::new()),
            in_flight: AtomicU64::new(0),
            peak: AtomicU64::new(0),
            overflow_updates: AtomicU64::new(0),
            stores: AtomicU64::new(0),
        }));
        Work { ledger }
    }

    /// A fresh ledger with a salt drawn now (what a check uses).
    pub fn fresh() -> Work {
        Work::with_salt(draw_seed())
    }

    /// The value of item `x` (a mix of `x` and the salt, below 2³²): one unit of work,
    /// attributed to the calling thread.
    pub fn apply(&self, x: u64) -> u64 {
        self.record(1);
        mix(x ^ self.ledger.salt) >> 32
    }

    /// The score of item `x`, positive or negative: one unit of work, attributed
    /// to the calling thread.
    pub fn score(&self, x: i64) -> i64 {
        self.record(1);
        (mix(x as u64 ^ self.ledger.salt) as i64) >> 32
    }

    /// The result of job `x` of a worker pool: costs as much as exercise 5's
    /// worker-pool job (the number of primes below `x`: uneven costs, so that
    /// results finish out of order) and mixes in the salt; one unit of work,
    /// attributed to the calling thread. (Computed here from the workload, not
    /// through `ex5`, which imports this module: no import cycle.)
    pub fn job(&self, x: u64) -> u64 {
        self.record(1);
        crate::workloads::primes::count_seq(x) ^ (mix(x ^ self.ledger.salt) >> 32)
    }

    /// The revenue of sale `row` in cents ([`crate::data::transactions::Transaction::revenue_cents`]):
    /// one unit of work, attributed to the calling thread.
    pub fn revenue_cents(&self, row: &crate::data::transactions::Transaction) -> i64 {
        self.record(1);
        row.revenue_cents()
    }

    /// The answer of request `id` to an I/O-bound service: waits 10 ms
    /// (`tokio::time::sleep`, inside a tokio runtime) and returns a value that mixes
    /// `id` and the salt. The ledger counts the requests waiting at the same time
    /// and remembers the most ([`Work::peak`]): how much concurrency the caller
    /// really had, observed rather than inferred from a timing.
    pub async fn io(&self, id: u64) -> u64 {
        self.record(1);
        let now = self.ledger.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        self.ledger.peak.fetch_max(now, Ordering::AcqRel);
        // Counted down even if the caller drops the future (a timeout).
        struct Leave<'a>(&'a AtomicU64);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let _leave = Leave(&self.ledger.in_flight);
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        self.io_answer(id)
    }

    /// What [`Work::io`] answers for `id`, without waiting (for the checker's
    /// expected values).
    pub(crate) fn io_answer(&self, id: u64) -> u64 {
        2 * id + (mix(id ^ self.ledger.salt) >> 40)
    }

    /// The most [`Work::io`] requests that were waiting at the same time.
    pub fn peak(&self) -> u64 {
        self.ledger.peak.load(Ordering::Acquire)
    }

    /// The number of primes in `start..end`
    /// ([`crate::workloads::primes::count_range`]): `end - start` units, and the
    /// range itself, attributed to the calling thread.
    pub fn count_primes(&self, start: u64, end: u64) -> u64 {
        self.record(end.saturating_sub(start));
        if !self.ledger.quiet {
            if let Ok(mut r) = self.ledger.ranges.lock() {
                r.push((tid(), start, end));
            }
        }
        crate::workloads::primes::count_range(start, end)
    }

    /// The points of stream `stream` of exercise 4's π estimate that fall in the
    /// disc, out of `n` drawn ([`crate::workloads::pi::hits`]): `n` units,
    /// attributed to the calling thread.
    pub fn hits(&self, stream: usize, n: u64) -> u64 {
        self.record(n);
        crate::workloads::pi::hits(stream, n)
    }

    /// A counter to share between threads (an `AtomicU64` whose `fetch_add` this
    /// ledger attributes to the calling thread, with the counter's address).
    pub fn counter(&self) -> Counter {
        Counter {
            value: AtomicU64::new(0),
            work: *self,
        }
    }

    /// A `Mutex<u64>` to share between threads, whose `lock` this ledger
    /// attributes to the calling thread.
    pub fn mutex(&self) -> CounterMutex {
        CounterMutex {
            value: Mutex::new(0),
            work: *self,
        }
    }

    /// The calling thread's slot (claimed on its first call), `None` beyond
    /// [`SLOTS`] threads. The slot's index is cached per thread, so that a call
    /// reads no other thread's slot (no false sharing in the ledger).
    fn slot(&self) -> Option<&'static Slot> {
        thread_local! {
            static CACHE: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
        }
        let key = self.ledger as *const Ledger as usize;
        let (cached, index) = CACHE.with(Cell::get);
        if cached == key {
            return Some(&self.ledger.slots[index]);
        }
        let me = tid() + 1;
        for (index, slot) in self.ledger.slots.iter().enumerate() {
            let owner = slot.tid.load(Ordering::Acquire);
            let mine = owner == me
                || (owner == 0
                    && match slot
                        .tid
                        .compare_exchange(0, me, Ordering::AcqRel, Ordering::Acquire)
                    {
                        Ok(_) => true,
                        Err(other) => other == me,
                    });
            if mine {
                CACHE.with(|c| c.set((key, index)));
                return Some(&self.ledger.slots[index]);
            }
        }
        None
    }

    /// Adds `units` to the calling thread's count.
    fn record(&self, units: u64) {
        if self.ledger.quiet {
            return;
        }
        match self.slot() {
            Some(slot) => slot.units.fetch_add(units, Ordering::Relaxed),
            None => self.ledger.overflow.fetch_add(units, Ordering::Relaxed),
        };
    }

    /// Notes one update of the shared handle at `address` by the calling thread.
    fn record_update(&self, address: usize) {
        if self.ledger.quiet {
            return;
        }
        let Some(slot) = self.slot() else {
            self.ledger.overflow_updates.fetch_add(1, Ordering::Relaxed);
            return;
        };
        slot.updates.fetch_add(1, Ordering::Relaxed);
        let first = slot.handle.load(Ordering::Relaxed);
        if first == 0 {
            slot.handle.store(address as u64, Ordering::Relaxed);
        } else if first != address as u64 && !slot.several.load(Ordering::Relaxed) {
            slot.several.store(true, Ordering::Relaxed);
        }
    }

    /// The updates of shared handles ([`Counter::fetch_add`],
    /// [`CounterMutex::lock`]) per thread, largest first.
    pub fn updates(&self) -> Shares {
        let mut per_thread: Vec<u64> = self
            .handles()
            .iter()
            .map(|h| h.updates)
            .filter(|&u| u > 0)
            .collect();
        let overflow = self.ledger.overflow_updates.load(Ordering::Relaxed);
        if overflow > 0 {
            per_thread.push(overflow);
        }
        per_thread.sort_unstable_by(|a, b| b.cmp(a));
        Shares { per_thread }
    }

    /// What each thread that updated a shared handle did: how many updates, the
    /// address of the handle, whether it also updated another one.
    pub fn handles(&self) -> Vec<HandleUse> {
        self.ledger
            .slots
            .iter()
            .filter(|s| s.tid.load(Ordering::Acquire) != 0)
            .map(|s| HandleUse {
                updates: s.updates.load(Ordering::Relaxed),
                address: s.handle.load(Ordering::Relaxed) as usize,
                several: s.several.load(Ordering::Relaxed),
            })
            .filter(|h| h.updates > 0)
            .collect()
    }

    /// How many plain writes ([`Counter::store`]) were made.
    pub fn stores(&self) -> u64 {
        self.ledger.stores.load(Ordering::Relaxed)
    }

    /// Units of work per thread so far, largest first.
    pub fn shares(&self) -> Shares {
        let mut per_thread: Vec<u64> = self
            .ledger
            .slots
            .iter()
            .filter(|s| s.tid.load(Ordering::Acquire) != 0)
            .map(|s| s.units.load(Ordering::Relaxed))
            .filter(|&u| u > 0)
            .collect();
        let overflow = self.ledger.overflow.load(Ordering::Relaxed);
        if overflow > 0 {
            per_thread.push(overflow);
        }
        per_thread.sort_unstable_by(|a, b| b.cmp(a));
        Shares { per_thread }
    }

    /// The ranges given to [`Work::count_primes`], sorted by start: (thread, start,
    /// end).
    pub fn ranges(&self) -> Vec<(u64, u64, u64)> {
        let mut r = self
            .ledger
            .ranges
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default();
        r.sort_by_key(|&(_, s, e)| (s, e));
        r
    }
}

/// What one thread did with the shared handles of a [`Work`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandleUse {
    /// Updates it made.
    pub updates: u64,
    /// Address of the first handle it updated (the address the update was made
    /// at, seen by the ledger: the answer cannot declare another one).
    pub address: usize,
    /// Whether it updated another handle too.
    pub several: bool,
}

/// An `AtomicU64` whose updates are observed: [`Counter::fetch_add`] is attributed
/// to the calling thread, with the counter's address at that moment (made by
/// [`Work::counter`]). Its size is 16 bytes, far below a cache line: counters
/// placed side by side share a line, as plain atomics would.
#[derive(Debug)]
pub struct Counter {
    value: AtomicU64,
    work: Work,
}

impl Counter {
    /// Adds `v` atomically and returns the previous value (as
    /// `AtomicU64::fetch_add`); one update, attributed to the calling thread.
    pub fn fetch_add(&self, v: u64, order: Ordering) -> u64 {
        self.work.record_update(self as *const Counter as usize);
        self.value.fetch_add(v, order)
    }

    /// The current value (as `AtomicU64::load`).
    pub fn load(&self, order: Ordering) -> u64 {
        self.value.load(order)
    }

    /// Overwrites the value (as `AtomicU64::store`): a plain write, which the
    /// ledger counts apart (a `load` then a `store` is not one atomic update).
    pub fn store(&self, v: u64, order: Ordering) {
        self.work.ledger.stores.fetch_add(1, Ordering::Relaxed);
        self.value.store(v, order)
    }
}

/// A `Mutex<u64>` whose locks are observed: each [`CounterMutex::lock`] is one
/// update attributed to the calling thread (made by [`Work::mutex`]).
#[derive(Debug)]
pub struct CounterMutex {
    value: Mutex<u64>,
    work: Work,
}

impl CounterMutex {
    /// Takes the lock (as `Mutex::lock`); one update, attributed to the calling
    /// thread.
    pub fn lock(&self) -> LockResult<MutexGuard<'_, u64>> {
        self.work
            .record_update(self as *const CounterMutex as usize);
        self.value.lock()
    }

    /// The value, consuming the mutex (as `Mutex::into_inner`).
    pub fn into_inner(self) -> LockResult<u64> {
        self.value.into_inner()
    }
}

/// The units of work each thread did, largest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shares {
    /// Units per thread that did any, largest first.
    pub per_thread: Vec<u64>,
}

impl Shares {
    /// All units.
    pub fn total(&self) -> u64 {
        self.per_thread.iter().sum()
    }

    /// How many threads each did at least `min` of the work (a fraction of the
    /// total, and at least one unit).
    pub fn threads_with(&self, min: f64) -> usize {
        let floor = ((self.total() as f64 * min).ceil() as u64).max(1);
        self.per_thread.iter().filter(|&&u| u >= floor).count()
    }

    /// How many threads each did at least `min` of `total` units (at least one
    /// unit).
    pub fn threads_with_of(&self, min: f64, total: u64) -> usize {
        let floor = ((total as f64 * min).ceil() as u64).max(1);
        self.per_thread.iter().filter(|&&u| u >= floor).count()
    }

    /// The shares in French, e.g. "3 threads : 60 %, 30 %, 10 %".
    pub fn describe(&self) -> String {
        if self.per_thread.is_empty() {
            return "aucun thread (aucun appel à `travail`)".into();
        }
        let total = self.total().max(1) as f64;
        let parts: Vec<String> = self
            .per_thread
            .iter()
            .take(8)
            .map(|&u| format!("{:.0} %", 100.0 * u as f64 / total))
            .collect();
        let more = if self.per_thread.len() > 8 {
            ", …"
        } else {
            ""
        };
        format!(
            "{} : {}{more}",
            crate::fr::count(self.per_thread.len() as u64, "thread", "threads"),
            parts.join(", ")
        )
    }
}

/// The smallest share each of two threads must do for an answer with `workers`
/// workers to count as parallel: half of a fair share, so that an uneven but
/// real split passes and a token share (a few items handed to a second thread)
/// does not.
pub fn fair_floor(workers: usize) -> f64 {
    0.5 / workers.max(2) as f64
}

/// A seed that differs between calls and runs (time, a counter and an address).
pub fn draw_seed() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let local = 0u8;
    mix(t ^ N.fetch_add(0x9E37_79B9, Ordering::Relaxed) ^ (&local as *const u8 as u64))
}

/// A small generator for check inputs drawn at check time (splitmix64).
#[derive(Debug, Clone)]
pub struct Draw(u64);

impl Draw {
    /// A generator seeded by [`draw_seed`].
    pub fn new() -> Draw {
        Draw(draw_seed())
    }

    /// A generator from a given seed: the same seed draws the same numbers (a check
    /// that draws its cases from a seed it was given, so that tests can repeat it).
    pub fn from_seed(seed: u64) -> Draw {
        Draw(seed)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        lo + mix(self.0) % (hi - lo + 1)
    }
}

impl Default for Draw {
    fn default() -> Self {
        Draw::new()
    }
}

/// splitmix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The calling thread's id (Linux thread id; elsewhere a hash of `ThreadId`).
fn tid() -> u64 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no arguments and cannot fail.
        unsafe { libc::gettid() as u64 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        std::thread::current().id().hash(&mut h);
        h.finish() >> 1
    }
}

/// What a check concludes from the shares of a right result.
#[derive(Debug, Clone, PartialEq)]
pub enum Spread {
    /// At least two threads each did at least the floor.
    Parallel,
    /// Fewer: the shares, described in French.
    Lopsided(String),
}

/// Runs `run` with fresh works (same salt as `expected_with`'s) up to
/// [`crate::verif::parallel::TRIES`] times until the result is right and spread
/// over two threads each doing at least `floor` of the work. Returns the last
/// result, its expected value and the spread. With `units`, the floor is a share
/// of that many units (the work the answer must do) rather than of the units
/// seen: work done without `Work` does not count. A right parallel answer can be
/// unlucky on a loaded machine (a thread starved of CPU until the others took
/// everything); a sequential one never spreads.
pub fn run_spread<T: PartialEq>(
    floor: f64,
    units: Option<u64>,
    expected_with: impl Fn(Work) -> T,
    run: impl Fn(Work) -> T,
) -> (T, T, Spread, Work) {
    let mut tries = 0;
    loop {
        tries += 1;
        let salt = draw_seed();
        let expected = expected_with(Work::with_salt(salt));
        let work = Work::with_salt(salt);
        let got = run(work);
        let shares = work.shares();
        let total = units.unwrap_or_else(|| shares.total());
        let spread = if shares.threads_with_of(floor, total) >= 2 {
            Spread::Parallel
        } else {
            Spread::Lopsided(shares.describe())
        };
        if got != expected || spread == Spread::Parallel || tries >= crate::verif::parallel::TRIES {
            return (got, expected, spread, work);
        }
    }
}

/// Adds one case to a verdict that passed: `run` (the student's function, handed
/// a fresh [`Work`]) must give the value `expected_with` computes with the same
/// salt, AND at least two threads must each have done `floor` of the work. The
/// verdict says what was seen: the shares of the threads that worked. A verdict
/// that already failed is returned unchanged.
pub fn require_work<T: PartialEq + std::fmt::Debug>(
    verdict: Verdict,
    case: &str,
    floor: f64,
    hint: &str,
    expected_with: impl Fn(Work) -> T,
    run: impl Fn(Work) -> T,
) -> Verdict {
    require_work_of(
        verdict,
        case,
        floor,
        None,
        hint,
        "le résultat doit venir des appels à `travail` (un par élément), sur ces \
         données-ci : leurs valeurs changent à chaque vérification",
        expected_with,
        run,
    )
}

/// [`require_work`] where the answer must do `units` units of work through the
/// [`Work`] (each thread's share is counted against them, so work done around
/// the `Work` does not count), and `mismatch` is the hint for a wrong result.
#[allow(clippy::too_many_arguments)]
pub fn require_work_of<T: PartialEq + std::fmt::Debug>(
    verdict: Verdict,
    case: &str,
    floor: f64,
    units: Option<u64>,
    hint: &str,
    mismatch: &str,
    expected_with: impl Fn(Work) -> T,
    run: impl Fn(Work) -> T,
) -> Verdict {
    if !verdict.passed() {
        return verdict;
    }
    let q = verdict.question.clone();
    let n = verdict.cases_passed;
    let fail = |got: String, expected: String, hint: &str| {
        Verdict::failed(&q, n, case, expected, got, hint)
    };
    let what = match units {
        Some(u) => format!("des {u} unités de travail de `travail`"),
        None => "des appels à `travail`".into(),
    };
    match crate::verif::run_quietly(|| run_spread(floor, units, &expected_with, &run)) {
        Err(m) if crate::verif::is_todo(&m) => Verdict::new(&q, n, Status::NotDone),
        Err(m) => fail(format!("panique : {m}"), "un résultat".into(), hint),
        Ok((got, expected, _, _)) if got != expected => fail(
            short(format!("{got:?}")),
            short(format!("{expected:?}")),
            mismatch,
        ),
        Ok((_, _, Spread::Lopsided(seen), _)) => fail(
            format!("résultat juste, mais le travail s'est fait sur {seen}"),
            format!(
                "au moins 2 threads faisant chacun au moins {:.0} % {what}",
                100.0 * floor
            ),
            hint,
        ),
        Ok(_) => Verdict::new(&q, n + 1, Status::Passed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_attributed_to_threads() {
        let w = Work::with_salt(7);
        (0..30).for_each(|i| {
            w.apply(i);
        });
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..10 {
                    w.apply(i);
                }
            });
        });
        let sh = w.shares();
        assert_eq!(sh.per_thread, vec![30, 10]);
        assert_eq!(sh.threads_with(0.2), 2);
        assert_eq!(sh.threads_with(0.3), 1);
        assert!(
            sh.describe().starts_with("2 threads : 75 %, 25 %"),
            "{}",
            sh.describe()
        );
    }

    #[test]
    fn values_depend_on_the_salt_only() {
        let (a, b, c) = (Work::with_salt(1), Work::with_salt(1), Work::with_salt(2));
        assert_eq!(a.apply(5), b.apply(5));
        assert_ne!(a.apply(5), c.apply(5));
        assert!((0..100).any(|i| a.score(i) < 0) && (0..100).any(|i| a.score(i) > 0));
    }

    #[test]
    fn ranges_are_recorded() {
        let w = Work::with_salt(0);
        assert_eq!(w.count_primes(10, 20) + w.count_primes(0, 10), 8);
        let r: Vec<(u64, u64)> = w.ranges().iter().map(|&(_, s, e)| (s, e)).collect();
        assert_eq!(r, vec![(0, 10), (10, 20)]);
        assert_eq!(w.shares().per_thread, vec![20]);
    }

    #[test]
    fn handle_updates_are_attributed_with_their_address() {
        let w = Work::with_salt(3);
        let (a, b) = (w.counter(), w.mutex());
        a.fetch_add(2, Ordering::Relaxed);
        std::thread::scope(|s| {
            s.spawn(|| {
                for _ in 0..3 {
                    *b.lock().unwrap() += 1;
                }
                a.store(9, Ordering::Relaxed);
            });
        });
        assert_eq!(w.updates().per_thread, vec![3, 1]);
        let mut used = w.handles();
        used.sort_by_key(|h| h.updates);
        assert_eq!(used[0].address, &a as *const Counter as usize);
        assert_eq!(used[1].address, &b as *const CounterMutex as usize);
        assert!(used.iter().all(|h| !h.several));
        assert_eq!((w.stores(), a.load(Ordering::Relaxed)), (1, 9));
        // One thread on two counters is seen.
        w.counter().fetch_add(1, Ordering::Relaxed);
        assert!(w.handles().iter().any(|h| h.several));
        // Nothing is kept by an unobserved work, whose values are the same kind.
        let q = Work::unobserved();
        q.counter().fetch_add(1, Ordering::Relaxed);
        assert_eq!(q.count_primes(0, 10), 4);
        assert_eq!(q.hits(0, 100), crate::workloads::pi::hits(0, 100));
        assert!(q.updates().per_thread.is_empty() && q.shares().per_thread.is_empty());
        assert!(q.ranges().is_empty());
    }

    #[test]
    fn draws_differ() {
        let mut d = Draw::new();
        let xs: Vec<u64> = (0..20).map(|_| d.range(1, 1000)).collect();
        assert!(xs.iter().all(|&x| (1..=1000).contains(&x)));
        assert!(xs.windows(2).any(|p| p[0] != p[1]));
        assert_ne!(draw_seed(), draw_seed());
    }
}
