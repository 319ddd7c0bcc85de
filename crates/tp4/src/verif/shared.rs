//! Checking a shared counter (questions 4.12 and 5.7): the lesson is that several
//! threads update ONE counter, each addition a protected update (an atomic
//! `fetch_add`, or a `Mutex` lock), and what that costs. The answer makes the
//! counter from its [`Work`] ([`Work::counter`], [`Work::mutex`]), so every update
//! is attributed to the thread that made it, at the address it was made: the check
//! sees per-item updates (not a local sum added once), one counter (not a copy per
//! thread), atomic updates (not a `load` then a `store`) and at least two threads
//! each making a real share of them (not a loop on the calling thread beside idle
//! threads, not a closed form).

use crate::verif::work::{draw_seed, fair_floor, Draw, Work};
use crate::verif::{short, Verdict};

/// Which shared handle a question teaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handle {
    /// [`crate::verif::work::Counter`] (`travail.counter()`, `fetch_add`).
    Atomic,
    /// [`crate::verif::work::CounterMutex`] (`travail.mutex()`, `lock`).
    Mutex,
}

impl Handle {
    /// How the student makes the handle and updates it, in French.
    fn how(self) -> &'static str {
        match self {
            Handle::Atomic => "le compteur de `travail.counter()`, un `fetch_add` par ajout",
            Handle::Mutex => "le verrou de `travail.mutex()`, un `lock` par ajout",
        }
    }

    /// The update, in French.
    fn update(self) -> &'static str {
        match self {
            Handle::Atomic => "`fetch_add`",
            Handle::Mutex => "`lock`",
        }
    }
}

/// What one run of the answer gave and what the ledger saw.
struct Run {
    got: Result<u64, String>,
    expected: u64,
    updates: u64,
    handles: usize,
    several: bool,
    stores: u64,
    shares: crate::verif::work::Shares,
}

/// Runs `f(threads, per_thread, work)` once with a fresh salt.
fn run(f: &impl Fn(usize, u64, Work) -> u64, threads: usize, per_thread: u64) -> Run {
    let salt = draw_seed();
    let reference = Work::with_salt(salt);
    let expected = (0..threads as u64).map(|t| reference.apply(t)).sum::<u64>() * per_thread;
    let work = Work::with_salt(salt);
    let got = crate::verif::run_quietly(|| f(threads, per_thread, work));
    let used = work.handles();
    let mut addresses: Vec<usize> = used.iter().map(|h| h.address).collect();
    addresses.sort_unstable();
    addresses.dedup();
    Run {
        got,
        expected,
        updates: work.updates().total(),
        handles: addresses.len(),
        several: used.iter().any(|h| h.several),
        stores: work.stores(),
        shares: work.updates(),
    }
}

/// Checks a shared-counter answer `f(threads, per_thread, work)`: thread number
/// `t` adds `work.apply(t)` to one shared counter (made by `work` as `handle`
/// says), `per_thread` times, and the function returns the final total. Fixed
/// cases, then a case drawn at check time where at least two threads must each
/// make at least [`fair_floor`] of the updates (a few tries: a right answer can
/// be unlucky on a loaded machine, a sequential one never spreads).
pub fn check_shared_counter(
    question: &str,
    handle: Handle,
    hint: &str,
    f: impl Fn(usize, u64, Work) -> u64,
) -> Verdict {
    let mut draw = Draw::new();
    let (t, k) = (draw.range(2, 6) as usize, draw.range(20_000, 60_000));
    let cases = [(1, 10), (2, 10_000), (4, 2_500), (3, 0), (t, k)];
    let last = cases.len() - 1;
    let mut passed = 0;
    for (i, &(threads, per_thread)) in cases.iter().enumerate() {
        let drawn = i == last;
        let case = if drawn {
            format!("{threads} threads × {per_thread} (tiré au hasard)")
        } else {
            format!("{threads} threads × {per_thread}")
        };
        let fail = |expected: String, got: String, why: &str| {
            Verdict::failed(question, passed, case.clone(), expected, got, why)
        };
        let mut r = run(&f, threads, per_thread);
        for _ in 1..crate::verif::parallel::TRIES {
            if !drawn || r.got.is_err() || r.shares.threads_with(fair_floor(threads)) >= 2 {
                break;
            }
            r = run(&f, threads, per_thread);
        }
        let got = match r.got {
            Err(m) if crate::verif::is_todo(&m) => {
                return Verdict::new(question, passed, crate::verif::Status::NotDone)
            }
            Err(m) => return fail("un total".into(), format!("panique : {m}"), hint),
            Ok(got) => got,
        };
        let wanted = threads as u64 * per_thread;
        if r.updates < wanted {
            let why = if r.stores > 0 {
                "lire la valeur (`load`) puis écrire (`store`) n'est pas un ajout atomique : \
                 deux threads qui lisent la même valeur perdent un ajout. Cherchez une \
                 opération qui lit, ajoute et écrit d'un seul coup"
                    .to_string()
            } else if r.updates == 0 {
                format!(
                    "le compteur partagé n'a reçu aucun ajout : utilisez {}, ce qui permet \
                     au vérificateur de voir qui ajoute",
                    handle.how()
                )
            } else {
                format!(
                    "chaque ajout doit passer par le compteur partagé ({}) : une somme locale \
                     ajoutée une fois par thread évite la contention, mais cette question \
                     porte justement sur des threads qui se disputent UN compteur",
                    handle.update()
                )
            };
            return fail(
                format!("{wanted} ajouts ({}) au compteur partagé", handle.update()),
                format!("{} ajouts vus, total {got}", r.updates),
                &why,
            );
        }
        if r.handles > 1 || r.several {
            return fail(
                "un seul compteur, partagé par tous les threads".into(),
                format!("{} compteurs différents modifiés", r.handles.max(2)),
                &format!(
                    "créez UN compteur ({}) et partagez-le entre les threads (cherchez \
                     `Arc` ou `std::thread::scope`), au lieu d'un compteur par thread",
                    handle.how()
                ),
            );
        }
        if got != r.expected {
            return fail(
                short(format!("{}", r.expected)),
                short(format!("{got}")),
                "rendez la valeur du compteur partagé, lue après la fin de tous les threads \
                 (`join`) ; le thread numéro t ajoute la valeur que `travail.apply` donne à son \
                 propre numéro",
            );
        }
        if drawn && r.shares.threads_with(fair_floor(threads)) < 2 {
            return fail(
                format!(
                    "au moins 2 threads faisant chacun au moins {:.0} % des ajouts",
                    100.0 * fair_floor(threads)
                ),
                format!(
                    "total juste, mais les ajouts faits par {}",
                    r.shares.describe()
                ),
                "chaque thread lancé fait lui-même ses `par_thread` ajouts au compteur \
                 partagé ; le thread principal ne fait que lancer, attendre (`join`) et lire \
                 le total",
            );
        }
        passed += 1;
    }
    Verdict::new(question, passed, crate::verif::Status::Passed)
}
