//! Checking under a deadline: a student answer that never ends (a consumer whose
//! channel never closes, a future without timeout, a deadlock) is reported as stuck
//! after a few seconds instead of freezing the notebook. Used by the checkers of
//! exercises 5 and 6.

use super::{Failure, Status, Verdict};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// Runs `f` on a thread of its own and returns its value, or `None` if it has not
/// finished after `limit` (the thread is then left behind, blocked): how a checker
/// survives a student answer that never ends, e.g. a consumer waiting forever
/// because a `Sender` was kept alive. Built on a channel and `recv_timeout`.
pub fn run_with_deadline<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).ok()
}

/// How long a student answer may run before it is declared stuck.
pub const STUCK_AFTER: Duration = Duration::from_secs(5);

/// Runs a student answer with a deadline; `Err` is the panic message or "stuck".
/// The panic is caught on the answer's own thread (not with `run_quietly`, whose
/// lock a stuck answer would hold forever); the caller silences the panic hook.
fn guarded<I: Send + Sync + 'static, O: Send + 'static>(
    f: &Arc<dyn Fn(&I) -> O + Send + Sync>,
    input: &Arc<I>,
) -> std::result::Result<O, String> {
    let (f, input) = (Arc::clone(f), Arc::clone(input));
    let run = move || crate::verif::panic::catch(|| f(&input));
    match run_with_deadline(STUCK_AFTER, run) {
        Some(r) => r,
        None => Err(format!(
            "bloqué : pas de réponse après {} s",
            STUCK_AFTER.as_secs()
        )),
    }
}

/// Checks like [`super::check_cases`], each case under a deadline ([`STUCK_AFTER`]) so
/// that an answer waiting forever (a consumer whose channel never closes, a future
/// without timeout) is reported with `stuck_hint` instead of freezing the notebook.
pub fn check_cases_with_deadline<I, O>(
    question: &str,
    hint: &str,
    stuck_hint: &str,
    cases: Vec<(String, I)>,
    reference: impl Fn(&I) -> O,
    student: impl Fn(&I) -> O + Send + Sync + 'static,
) -> Verdict
where
    I: Send + Sync + 'static,
    O: std::fmt::Debug + PartialEq + Send + 'static,
{
    let student: Arc<dyn Fn(&I) -> O + Send + Sync> = Arc::new(student);
    let _quiet = crate::verif::panic::Silence::new();
    run_cases(question, hint, stuck_hint, cases, reference, &student)
}

fn run_cases<I, O>(
    question: &str,
    hint: &str,
    stuck_hint: &str,
    cases: Vec<(String, I)>,
    reference: impl Fn(&I) -> O,
    student: &Arc<dyn Fn(&I) -> O + Send + Sync>,
) -> Verdict
where
    I: Send + Sync + 'static,
    O: std::fmt::Debug + PartialEq + Send + 'static,
{
    let mut passed = 0;
    for (name, input) in cases {
        let expected = reference(&input);
        let input = Arc::new(input);
        let failure = |got: String, hint: String| Failure {
            case: name.clone(),
            expected: format!("{expected:?}"),
            got,
            hint,
        };
        match guarded(student, &input) {
            Err(m) if crate::verif::is_todo(&m) => {
                return Verdict::new(question, passed, Status::NotDone)
            }
            Err(m) if m.starts_with("bloqué") => {
                return Verdict::new(
                    question,
                    passed,
                    Status::Failed(failure(m, stuck_hint.into())),
                )
            }
            Err(m) => {
                return Verdict::new(
                    question,
                    passed,
                    Status::Failed(failure(format!("panique : {m}"), hint.into())),
                )
            }
            Ok(got) if got == expected => passed += 1,
            Ok(got) => {
                return Verdict::new(
                    question,
                    passed,
                    Status::Failed(failure(format!("{got:?}"), hint.into())),
                )
            }
        }
    }
    Verdict::new(question, passed, Status::Passed)
}
