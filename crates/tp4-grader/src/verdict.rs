//! The verdict of one question, read from what its run printed: the check's own
//! verdict lines (`✅ / ⏳ / ❌ Question Q …`, the same the notebook shows), counted
//! only between the two marker lines of the run (so a check that did not run to its
//! end gives no verdict), or the way the run ended (timeout, panic, memory).

use crate::generate::MARKER;
use crate::sandbox::RunOutput;
use serde::{Deserialize, Serialize};

/// What happened to one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The check said ✅.
    Passed,
    /// The check said ❌.
    Failed,
    /// The check said ⏳ (the answer is still `todo!()`).
    NotDone,
    /// No answer item of that name in the submission.
    Missing,
    /// The answer did not compile (replaced by the template's `todo!()`).
    CompileError,
    /// The run went over its time limit.
    Timeout,
    /// The run panicked outside the check's own catching, or ended early.
    Panic,
    /// The run went over its memory limit.
    Memory,
}

impl Outcome {
    /// The label in `notes.csv` and the feedback.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Passed => "✅",
            Outcome::Failed => "❌",
            Outcome::NotDone => "⏳",
            Outcome::Missing => "absente",
            Outcome::CompileError => "erreur de compilation",
            Outcome::Timeout => "délai dépassé",
            Outcome::Panic => "panique",
            Outcome::Memory => "mémoire dépassée",
        }
    }
}

/// The verdict of one question for one student.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionResult {
    /// Question id.
    pub question: String,
    /// What happened.
    pub outcome: Outcome,
    /// Points earned.
    pub points: f64,
    /// The check's message (its verdict lines) or why there is none (French).
    pub message: String,
    /// Wall-clock seconds of its run (0 when it did not run).
    pub seconds: f64,
}

fn rank(o: Outcome) -> u8 {
    match o {
        Outcome::Passed => 0,
        Outcome::NotDone => 1,
        _ => 2,
    }
}

/// The verdict lines of question `q` in the run's output, each with the indented
/// lines that follow it (expected, got, hint), between the nonce's markers. `None`
/// when the end marker is missing (the check did not finish).
pub fn verdict_lines(stdout: &str, nonce: &str, q: &str) -> Option<Vec<(Outcome, String)>> {
    let begin = format!("{MARKER} {nonce} debut {q}");
    let end = format!("{MARKER} {nonce} fin {q}");
    let lines: Vec<&str> = stdout.lines().collect();
    let from = lines.iter().position(|l| *l == begin)?;
    let to = from + lines[from..].iter().position(|l| *l == end)?;
    let mut out: Vec<(Outcome, String)> = Vec::new();
    let mut i = from + 1;
    while i < to {
        let l = lines[i];
        let found = [
            ("✅", Outcome::Passed),
            ("❌", Outcome::Failed),
            ("⏳", Outcome::NotDone),
        ]
        .into_iter()
        .find_map(|(mark, o)| {
            let rest = l.split_once(mark)?.1.trim_start();
            let id = rest.strip_prefix("Question ")?.split_whitespace().next()?;
            (id == q).then_some(o)
        });
        i += 1;
        if let Some(o) = found {
            let mut text = l.trim().to_string();
            while i < to && lines[i].starts_with("   ") {
                text.push('\n');
                text.push_str(lines[i]);
                i += 1;
            }
            out.push((o, text));
        }
    }
    Some(out)
}

/// The verdict of question `q` (worth `points`) from its run. `checks` is how many
/// check cells the question has: each must print its verdict.
pub fn judge(run: &RunOutput, nonce: &str, q: &str, points: f64, checks: usize) -> QuestionResult {
    let result = |outcome: Outcome, message: String| QuestionResult {
        question: q.to_string(),
        points: if outcome == Outcome::Passed {
            points
        } else {
            0.0
        },
        outcome,
        message,
        seconds: run.elapsed.as_secs_f64(),
    };
    let stderr_tail = || {
        let t: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with("note: run with"))
            .take(6)
            .collect();
        t.join("\n")
    };
    if run.timed_out {
        return result(
            Outcome::Timeout,
            format!(
                "délai dépassé : arrêtée après {:.0} s (boucle infinie ou interblocage ?)",
                run.elapsed.as_secs_f64()
            ),
        );
    }
    if run.stderr.contains("memory allocation of") || run.stderr.contains("capacity overflow") {
        return result(
            Outcome::Memory,
            format!("mémoire dépassée : {}", stderr_tail()),
        );
    }
    use std::os::unix::process::ExitStatusExt;
    let signal = run.status.and_then(|s| s.signal());
    if signal == Some(libc::SIGXFSZ) {
        return result(
            Outcome::Panic,
            "arrêtée : limite de taille de fichier dépassée (le code a écrit un fichier trop gros)"
                .to_string(),
        );
    }
    if signal == Some(libc::SIGXCPU) || signal == Some(libc::SIGKILL) {
        return result(
            Outcome::Timeout,
            "délai dépassé : limite de temps CPU atteinte".to_string(),
        );
    }
    match verdict_lines(&run.stdout, nonce, q) {
        Some(lines) if lines.len() >= checks => {
            let worst = lines.iter().map(|(o, _)| *o).max_by_key(|o| rank(*o));
            let outcome = worst.unwrap_or(Outcome::Failed);
            let message: Vec<String> = lines.into_iter().map(|(_, t)| t).collect();
            result(outcome, message.join("\n"))
        }
        Some(_) => result(
            Outcome::Failed,
            "la vérification n'a pas affiché tous ses verdicts".to_string(),
        ),
        None if run.stderr.contains("panicked") => result(
            Outcome::Panic,
            format!("panique hors de la vérification : {}", stderr_tail()),
        ),
        None => result(
            Outcome::Panic,
            format!(
                "le programme s'est arrêté avant la fin de la vérification ({}){}",
                run.status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "état inconnu".into()),
                match stderr_tail() {
                    t if t.is_empty() => String::new(),
                    t => format!(" : {t}"),
                }
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lines_between_the_markers_count() {
        let out = "✅ Question 1.1 : faux, avant le début\n@@tp4-corriger n1 debut 1.1\n\
                   ❌ Question 1.1 x : échec sur le cas « a » (0 cas réussi avant).\n   attendu : 1\n   obtenu  : 2\n\
                   ✅ Question 1.10 : autre question\n@@tp4-corriger n1 fin 1.1\n";
        let v = verdict_lines(out, "n1", "1.1").unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].0, Outcome::Failed);
        assert!(v[0].1.contains("obtenu  : 2"));
        assert!(verdict_lines(out, "autre", "1.1").is_none());
        // A forged end marker without the nonce does not count.
        let forged =
            "@@tp4-corriger n1 debut 1.1\n✅ Question 1.1 : réussie\n@@tp4-corriger x fin 1.1\n";
        assert!(verdict_lines(forged, "n1", "1.1").is_none());
    }
}
