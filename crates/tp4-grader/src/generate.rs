//! The crate generated for one submission: the teacher's items, the student's answer
//! items (or the template's `todo!()` version of an answer that is missing or does
//! not compile), the student's helpers, and one function per question that runs the
//! setup `let`s then the teacher's checks. `main` runs the question named on its
//! command line between two marker lines holding a nonce read on stdin, so that a
//! verdict line counts only when the check ran to its end.
//!
//! The generator records which lines of `main.rs` belong to which answer, helper
//! group or check, so that a compile error can be charged to its question.

use crate::template::Template;
use std::collections::BTreeMap;

/// Who wrote a line of the generated `main.rs`, and so who pays for its errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The student's answer item of this name.
    Answer(String),
    /// The student's helpers beside this question's answers.
    Helpers(String),
    /// The teacher's check of this question (an error there means the student's
    /// answer does not have the expected signature).
    Check(String),
}

/// A generated `main.rs` with the owners of its line ranges.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The source.
    pub main_rs: String,
    /// `(first line, last line, owner)`, 1-based, inclusive.
    pub owners: Vec<(usize, usize, Owner)>,
}

impl Generated {
    /// The owner of a line, `None` for the teacher's code.
    pub fn owner(&self, line: usize) -> Option<&Owner> {
        self.owners
            .iter()
            .find(|(a, b, _)| (*a..=*b).contains(&line))
            .map(|(_, _, o)| o)
    }
}

/// The first word of the marker lines printed around a question's run.
pub const MARKER: &str = "@@tp4-corriger";

struct Writer {
    text: String,
    line: usize,
    owners: Vec<(usize, usize, Owner)>,
}

impl Writer {
    fn push(&mut self, chunk: &str, owner: Option<Owner>) {
        let first = self.line;
        let chunk = chunk.trim_end_matches('\n');
        self.text.push_str(chunk);
        self.text.push('\n');
        self.line += chunk.lines().count().max(1);
        if let Some(o) = owner {
            self.owners.push((first, self.line - 1, o));
        }
    }
}

/// The function name of a question (`1.10` → `question_1_10`).
pub fn question_fn(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("question_{safe}")
}

/// Generates `main.rs`. `answers` maps each answer name to the text to compile (the
/// student's item, or the template's).
pub fn main_rs(
    t: &Template,
    answers: &BTreeMap<String, String>,
    helpers: &BTreeMap<String, Vec<String>>,
) -> Generated {
    let mut w = Writer {
        text: String::new(),
        line: 1,
        owners: Vec::new(),
    };
    w.push(
        "// Généré par `tp4 corriger` à partir de notebook/tp4.md et d'une copie d'élève.\n\
         #![allow(warnings)]\n#![recursion_limit = \"256\"]",
        None,
    );
    for item in &t.items {
        w.push(item, None);
    }
    for a in &t.answers {
        let text = answers.get(&a.name).unwrap_or(&a.student);
        w.push(&format!("// Réponse {} : {}", a.question, a.name), None);
        w.push(text, Some(Owner::Answer(a.name.clone())));
    }
    for (q, list) in helpers {
        for h in list {
            w.push(
                &format!("// Code auxiliaire de l'élève (question {q})"),
                None,
            );
            w.push(h, Some(Owner::Helpers(q.clone())));
        }
    }
    for q in &t.questions {
        w.push(&format!("fn {}() {{", question_fn(&q.id)), None);
        for l in &q.lets {
            w.push(l, None);
        }
        for c in &q.checks {
            w.push("{", None);
            w.push(c, Some(Owner::Check(q.id.clone())));
            w.push("};", None);
        }
        w.push("}", None);
    }
    let arms: String = t
        .questions
        .iter()
        .map(|q| format!("        {:?} => {}(),\n", q.id, question_fn(&q.id)))
        .collect();
    w.push(
        &format!(
            "fn main() {{
    let question = std::env::args().nth(1).unwrap_or_default();
    let mut nonce = String::new();
    let _ = std::io::stdin().read_line(&mut nonce);
    let nonce = nonce.trim().to_string();
    ::std::println!(\"{MARKER} {{nonce}} debut {{question}}\");
    match question.as_str() {{
{arms}        _ => {{
            ::std::eprintln!(\"question inconnue : {{question}}\");
            std::process::exit(2);
        }}
    }}
    ::std::println!(\"{MARKER} {{nonce}} fin {{question}}\");
}}"
        ),
        None,
    );
    Generated {
        main_rs: w.text,
        owners: w.owners,
    }
}

/// The `Cargo.toml` of one generated crate: the notebook's `:dep` lines.
pub fn cargo_toml(t: &Template, package: &str) -> String {
    let deps: String = t.deps.iter().map(|d| format!("{d}\n")).collect();
    format!(
        "[package]\nname = \"{package}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\n{deps}"
    )
}

/// The `Cargo.toml` of the class workspace: every crate shares one target dir, so
/// that `tp4` and its dependencies compile once for the class. The profile is the
/// kernel's (evcxr compiles at opt-level 2 with overflow checks and debug
/// assertions on), so that verdicts match the notebook's.
pub fn workspace_toml(members: &[String]) -> String {
    let list: Vec<String> = members.iter().map(|m| format!("{m:?}")).collect();
    format!(
        "[workspace]\nresolver = \"2\"\nmembers = [{}]\n\n\
         [profile.dev]\nopt-level = 2\ndebug = false\ndebug-assertions = true\n\
         overflow-checks = true\nincremental = false\n",
        list.join(", ")
    )
}
