//! Checkers: run a student's answer against the reference on fixed cases, edge cases
//! and generated cases, and give a short French verdict (which case, what was
//! expected, what came out, and a hint).
//!
//! Every exercise question has a checker built on [`check_cases`]. A student answer
//! still holding `todo!()` is reported as "not done yet" rather than as a crash, so
//! that the student notebook runs from top to bottom on day one; any other panic is
//! reported as a failure of that case, with its message.
//!
//! A question that teaches a property (parallel, shared, bounded, padded) is passed
//! only by an answer in which the checker observed that property: [`work`] hands
//! the answer the work itself and sees which threads did it, with values and sizes
//! drawn at check time, and [`shared`] checks a counter that threads share through
//! observed handles; [`parallel`] tells whether threads are still running after a
//! call (a missing `join`). `docs/verifications.md` lists, question by question,
//! the property and how it is observed.

pub mod deadline;
pub mod panic;
pub mod parallel;
pub mod shared;
#[cfg(test)]
pub(crate) mod testing;
pub mod work;

use std::fmt;

/// The outcome of a check.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Every case gave the expected answer.
    Passed,
    /// The answer still contains `todo!()` (or `unimplemented!()`).
    NotDone,
    /// A case gave a wrong answer or panicked.
    Failed(Failure),
}

/// The first case that went wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Name of the case (French), e.g. "entrée vide".
    pub case: String,
    /// Expected answer, formatted.
    pub expected: String,
    /// Obtained answer (or the panic message), formatted.
    pub got: String,
    /// A hint that points at the likely mistake (French).
    pub hint: String,
}

/// The verdict of a checker on one question.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Question id and title, e.g. "1.2 moyenne et variance".
    pub question: String,
    /// Number of cases that passed before the verdict.
    pub cases_passed: usize,
    /// The outcome.
    pub status: Status,
}

impl Verdict {
    /// Whether the answer is right.
    pub fn passed(&self) -> bool {
        self.status == Status::Passed
    }

    /// Whether the answer is still to be written.
    pub fn not_done(&self) -> bool {
        self.status == Status::NotDone
    }

    /// The name of the case that failed, `None` if the verdict did not fail: what
    /// a test of a checker asserts about a wrong answer.
    pub fn failure_case(&self) -> Option<&str> {
        match &self.status {
            Status::Failed(f) => Some(&f.case),
            _ => None,
        }
    }

    /// A verdict built by hand (for checks that are not a list of cases).
    pub fn new(question: &str, cases_passed: usize, status: Status) -> Verdict {
        Verdict {
            question: question.to_string(),
            cases_passed,
            status,
        }
    }

    /// A failed verdict: `case` went wrong after `cases_passed` cases, `expected`
    /// and `got` formatted for the student, `hint` pointing at the likely mistake.
    pub fn failed(
        question: &str,
        cases_passed: usize,
        case: impl Into<String>,
        expected: impl Into<String>,
        got: impl Into<String>,
        hint: impl Into<String>,
    ) -> Verdict {
        Verdict::new(
            question,
            cases_passed,
            Status::Failed(Failure {
                case: case.into(),
                expected: expected.into(),
                got: got.into(),
                hint: hint.into(),
            }),
        )
    }

    /// Prints the verdict (what a check cell of the notebook does) and returns it.
    pub fn show(self) -> Verdict {
        println!("{self}");
        self
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.status {
            Status::Passed => write!(
                f,
                "✅ Question {} : réussie ({}).",
                self.question,
                crate::fr::count(self.cases_passed as u64, "cas vérifié", "cas vérifiés")
            ),
            Status::NotDone => write!(
                f,
                "⏳ Question {} : pas encore faite (le code contient encore todo!()). \
                 Remplacez todo!() par votre réponse puis relancez la cellule.",
                self.question
            ),
            Status::Failed(e) => write!(
                f,
                "❌ Question {} : échec sur le cas « {} » ({} avant).\n   attendu : {}\n   obtenu  : {}\n   indice  : {}",
                self.question,
                e.case,
                crate::fr::count(self.cases_passed as u64, "cas réussi", "cas réussis"),
                e.expected,
                e.got,
                e.hint
            ),
        }
    }
}

/// Runs `f`, turning a panic into `Err(message)` without printing the panic (the
/// default hook would print "panicked at ..." in the notebook). See [`panic`].
pub fn run_quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch(f)
}

/// Whether a panic message comes from `todo!()` or `unimplemented!()`.
pub fn is_todo(message: &str) -> bool {
    message.contains("not yet implemented") || message.contains("not implemented")
}

/// Shortens a formatted value to keep verdicts readable.
pub fn short(s: String) -> String {
    const MAX: usize = 300;
    if s.chars().count() <= MAX {
        s
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}… ({} caractères en tout)", s.chars().count())
    }
}

/// Checks a student's function against the reference on every case, in order, and
/// stops at the first wrong answer. `same` compares answers (use `==`, or a
/// tolerance for floats); `hint` explains the likely mistake.
pub fn check_cases<I, O: fmt::Debug>(
    question: &str,
    hint: &str,
    cases: impl IntoIterator<Item = (String, I)>,
    reference: impl Fn(&I) -> O,
    student: impl Fn(&I) -> O,
    same: impl Fn(&O, &O) -> bool,
) -> Verdict {
    let mut passed = 0;
    for (name, input) in cases {
        let expected = reference(&input);
        match run_quietly(|| student(&input)) {
            Err(msg) if is_todo(&msg) => return Verdict::new(question, passed, Status::NotDone),
            Err(msg) => {
                return Verdict::failed(
                    question,
                    passed,
                    name,
                    short(format!("{expected:?}")),
                    format!("panique : {msg}"),
                    hint,
                )
            }
            Ok(got) if same(&expected, &got) => passed += 1,
            Ok(got) => {
                return Verdict::failed(
                    question,
                    passed,
                    name,
                    short(format!("{expected:?}")),
                    short(format!("{got:?}")),
                    hint,
                )
            }
        }
    }
    Verdict::new(question, passed, Status::Passed)
}

/// Float comparison with a relative tolerance, for answers computed in a different
/// order than the reference.
pub fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300) || (a.is_nan() && b.is_nan())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cases() -> Vec<(String, Vec<i64>)> {
        vec![
            ("vide".into(), vec![]),
            ("un élément".into(), vec![5]),
            ("négatifs".into(), vec![-3, 4, -1]),
        ]
    }

    #[allow(clippy::ptr_arg)] // the checker passes `&I` with I = Vec<i64>
    fn reference(v: &Vec<i64>) -> i64 {
        v.iter().sum()
    }

    #[test]
    fn reference_passes() {
        let v = check_cases("0.1 somme", "", cases(), reference, reference, |a, b| {
            a == b
        });
        assert!(v.passed(), "{v}");
        assert_eq!(v.cases_passed, 3);
        assert!(v.to_string().starts_with("✅"));
    }

    #[test]
    fn wrong_answer_names_the_case() {
        let wrong = |v: &Vec<i64>| v.iter().map(|x| x.abs()).sum::<i64>();
        let v = check_cases(
            "0.1 somme",
            "les négatifs comptent",
            cases(),
            reference,
            wrong,
            |a, b| a == b,
        );
        let Status::Failed(f) = &v.status else {
            panic!("{v}")
        };
        assert_eq!(f.case, "négatifs");
        assert_eq!((f.expected.as_str(), f.got.as_str()), ("0", "8"));
        assert!(v.to_string().contains("indice  : les négatifs comptent"));
    }

    #[test]
    fn todo_is_not_done_and_other_panics_fail() {
        let todo = |_: &Vec<i64>| -> i64 { todo!() };
        assert!(check_cases("q", "", cases(), reference, todo, |a, b| a == b).not_done());
        let boom = |v: &Vec<i64>| v[0];
        let v = check_cases("q", "", cases(), reference, boom, |a, b| a == b);
        assert!(
            matches!(v.status, Status::Failed(ref f) if f.got.contains("panique")),
            "{v}"
        );
    }

    #[test]
    fn float_tolerance() {
        assert!(close(1.0, 1.0 + 1e-12, 1e-9));
        assert!(!close(1.0, 1.001, 1e-9));
    }

    /// The checkers' sources, whose strings (hints, case names) the notebook shows.
    const CHECKERS: [(&str, &str); 9] = [
        ("verif", include_str!("shared.rs")),
        ("ex7", include_str!("../exercises/ex7/cost.rs")),
        ("ex1", include_str!("../exercises/ex1/verif.rs")),
        ("ex2", include_str!("../exercises/ex2/verif.rs")),
        ("ex3", include_str!("../exercises/ex3/verif.rs")),
        ("ex4", include_str!("../exercises/ex4/verif.rs")),
        ("ex5", include_str!("../exercises/ex5/verif.rs")),
        ("ex6", include_str!("../exercises/ex6/verif.rs")),
        ("ex7", include_str!("../exercises/ex7/verif.rs")),
    ];

    /// The string literals of a source file before its tests, with their line,
    /// line continuations (`\` + newline + indentation) joined.
    fn literals(src: &str) -> Vec<(usize, String)> {
        let code = src.split("#[cfg(test)]").next().unwrap_or(src);
        let mut out = Vec::new();
        let mut chars = code.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '/' && chars.peek().is_some_and(|&(_, n)| n == '/') {
                // A comment (doc examples hold code on purpose): skip the line.
                for (_, n) in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
            } else if c == '\'' {
                // A char literal such as '"' (a lifetime has no closing quote soon).
                let rest = &code[i + 1..];
                if let Some(end) = rest.char_indices().take(3).find(|&(_, q)| q == '\'') {
                    for _ in 0..rest[..end.0 + 1].chars().count() {
                        chars.next();
                    }
                }
            } else if c == '"' {
                let mut text = String::new();
                let mut escaped = false;
                for (_, n) in chars.by_ref() {
                    match (escaped, n) {
                        (true, _) => {
                            escaped = false;
                            text.push('\\');
                            text.push(n);
                        }
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        (false, _) => text.push(n),
                    }
                }
                let joined = text
                    .split("\\\n")
                    .map(str::trim_start)
                    .collect::<Vec<_>>()
                    .join("");
                out.push((code[..i].matches('\n').count() + 1, joined));
            }
        }
        out
    }

    /// Why `text` reads like a line of solution code (`None` if it does not):
    /// a closure, a call with its arguments, a `let`, a turbofish... An API name
    /// alone (`fold`, `Iterator::fold`, `join()`) is fine: it says what to look
    /// up, not what to write.
    fn solution_code(text: &str) -> Option<&'static str> {
        let patterns: [(&str, &str); 7] = [
            ("move |", "une fermeture move"),
            ("|x|", "une fermeture"),
            (".par_iter()", "un appel de méthode de rayon"),
            (".sum::<", "un turbofish"),
            ("Box::new(", "une construction de Box"),
            ("let ", "un let"),
            ("=>", "un bras de match"),
        ];
        if let Some((_, why)) = patterns.iter().find(|(p, _)| text.contains(p)) {
            return Some(why);
        }
        let b = text.as_bytes();
        // A closure's parameter list: `|a, b|` followed by an expression.
        let closure = text.match_indices('|').any(|(i, _)| {
            text[i + 1..].find('|').is_some_and(|j| {
                let params = &text[i + 1..i + 1 + j];
                !params.is_empty()
                    && params.len() < 20
                    && params
                        .chars()
                        .all(|c| c.is_alphanumeric() || "_&(), ".contains(c))
                    && params.chars().any(char::is_alphanumeric)
            })
        });
        if closure {
            return Some("une fermeture");
        }
        // A call with arguments: an identifier glued to `(` that is not `()`. Not
        // counted: a one-letter function of a formula (`S(p)`), and a value shown
        // through a format placeholder (`Done({v})`).
        let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        let call = (1..b.len()).any(|i| {
            let one_letter = i < 2 || !ident(b[i - 2]);
            b[i] == b'('
                && ident(b[i - 1])
                && !one_letter
                && b.get(i + 1).is_some_and(|&n| n != b')' && n != b'{')
        });
        call.then_some("un appel avec ses arguments")
    }

    #[test]
    fn the_solution_detector_sees_code_and_lets_api_names_pass() {
        for code in [
            "rows.iter().filter(...).map(|t| t.id).collect()",
            "move |x| f(g(x))",
            "Box::new(move |x| f(g(x)))",
            "c.fetch_add(1, Relaxed)",
            "(0..n).fold(x, |acc, _| f(acc))",
            "let mut count = 0",
            "data.par_iter().sum::<u64>()",
        ] {
            assert!(solution_code(code).is_some(), "{code}");
        }
        for prose in [
            "cherchez `Iterator::fold` dans la documentation",
            "attendez la fin de chaque thread (`join`)",
            "un seuil inclusif (≥, pas >), dans l'ordre du fichier",
            "appelez `wait()` sur l'enfant",
            "par catégorie ∥ par ville",
            "S(p) = 1 / (s + (1 − s) / p)",
            "Done({v})",
        ] {
            assert_eq!(solution_code(prose), None, "{prose}");
        }
    }

    #[test]
    fn no_checker_string_gives_the_solution_away() {
        let mut found = Vec::new();
        for (ex, src) in CHECKERS {
            for (line, text) in literals(src) {
                if let Some(why) = solution_code(&text) {
                    found.push(format!("{ex}/verif.rs:{line} ({why}) : {text}"));
                }
            }
        }
        assert!(found.is_empty(), "{}", found.join("\n"));
    }
}
