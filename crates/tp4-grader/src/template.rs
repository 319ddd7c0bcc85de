//! What the teacher's source `notebook/tp4.md` gives the grader: the dependencies
//! (`:dep` lines), the teacher's items (imports, types, helpers: every item without a
//! solution region), the top-level `let`s of the setup cells, and per question its
//! answer items (each with its corrected and its student `todo!()` version), its
//! check code and its points.
//!
//! Everything here is read from the source at grading time: the grader holds no
//! copy of any check, so it grades with whatever checks the source holds.

use crate::split::{split, PieceKind};
use std::path::{Path, PathBuf};
use tp4::notebook::{self, Cell, CellKind, Version};

/// One answer item: an item of the source holding a solution region.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The name it defines (`filtre_ids`): how the student's version is found.
    pub name: String,
    /// The question whose check follows it.
    pub question: String,
    /// The student template's version (`todo!()`): what replaces an answer that
    /// does not compile or is missing.
    pub student: String,
}

/// One graded question.
#[derive(Debug, Clone)]
pub struct Question {
    /// Its id, e.g. "1.1".
    pub id: String,
    /// Points, from `points=` on its check marker (1 by default).
    pub points: f64,
    /// The code of its check cells, in order.
    pub checks: Vec<String>,
    /// The top-level `let`s the notebook has run before its last check.
    pub lets: Vec<String>,
}

/// The grading template read from `notebook/tp4.md`.
#[derive(Debug, Clone)]
pub struct Template {
    /// The repository root (absolute).
    pub root: PathBuf,
    /// `name = spec` lines for the generated Cargo.toml, from the `:dep` lines.
    pub deps: Vec<String>,
    /// The teacher's items, in source order.
    pub items: Vec<String>,
    /// The answer items, in source order.
    pub answers: Vec<Answer>,
    /// The questions, in source order.
    pub questions: Vec<Question>,
}

impl Template {
    /// Reads the template of the repository rooted at `root`.
    pub fn load(root: &Path) -> tp4::Result<Template> {
        let root = std::fs::canonicalize(root)
            .map_err(|e| tp4::Error::io("lecture du dossier", root, e))?;
        let cells = notebook::load(&root)?;
        Template::from_cells(&root, &cells)
    }

    /// Builds the template from parsed cells; `root` replaces `{{ROOT}}`.
    pub fn from_cells(root: &Path, cells: &[Cell]) -> tp4::Result<Template> {
        let prefix = format!("{}/", root.display());
        let mut t = Template {
            root: root.to_path_buf(),
            deps: Vec::new(),
            items: Vec::new(),
            answers: Vec::new(),
            questions: Vec::new(),
        };
        let mut lets: Vec<String> = Vec::new();
        let mut pending: Vec<Answer> = Vec::new();
        for cell in cells {
            // Files the notebook writes go to the throwaway directory of the run.
            let mut cell = cell.clone();
            cell.text = cell
                .text
                .replace("{{ROOT}}output", "sortie")
                .replace("{{ROOT}}", &prefix);
            match &cell.kind {
                CellKind::Markdown => {}
                CellKind::Code => {
                    let corrected = split(&notebook::render_text(&cell, Version::Corrected));
                    let student = split(&notebook::render_text(&cell, Version::Student));
                    if corrected.len() != student.len() {
                        return Err(source_error(
                            &cell,
                            "une région SOLUTION doit être à l'intérieur d'une fonction",
                        ));
                    }
                    for (c, s) in corrected.iter().zip(&student) {
                        if c.text != s.text {
                            if c.name().is_empty() {
                                return Err(source_error(
                                    &cell,
                                    "une région SOLUTION doit être à l'intérieur d'un élément nommé (fn, struct…)",
                                ));
                            }
                            pending.push(Answer {
                                name: c.name().to_string(),
                                question: String::new(),
                                student: s.text.clone(),
                            });
                            continue;
                        }
                        match &c.kind {
                            PieceKind::Item { keyword, .. } => {
                                // Each kernel cell may repeat an import; one module may
                                // not: an import whose names are all known is dropped.
                                let known = t.teacher_names();
                                let names = item_names(&c.text);
                                let repeated = keyword == "use"
                                    && !names.is_empty()
                                    && names.iter().all(|n| known.contains(n));
                                if !repeated && !t.items.contains(&c.text) {
                                    t.items.push(c.text.clone());
                                }
                            }
                            PieceKind::Let => lets.push(c.text.clone()),
                            PieceKind::Statement => {
                                if let Some(dep) = c.text.trim().strip_prefix(":dep") {
                                    t.deps.push(dep.trim().to_string());
                                }
                            }
                        }
                    }
                }
                CellKind::Check(spec) => {
                    let ids = notebook::check_questions(spec);
                    let points = notebook::check_points(spec).ok_or_else(|| {
                        source_error(
                            &cell,
                            "points= attend un nombre positif, par exemple points=2",
                        )
                    })?;
                    let text = notebook::render_text(&cell, Version::Corrected);
                    for a in pending.drain(..) {
                        t.answers.push(Answer {
                            question: ids[0].to_string(),
                            ..a
                        });
                    }
                    for id in ids {
                        let q = match t.questions.iter().position(|q| q.id == id) {
                            Some(i) => &mut t.questions[i],
                            None => {
                                t.questions.push(Question {
                                    id: id.to_string(),
                                    points,
                                    checks: Vec::new(),
                                    lets: Vec::new(),
                                });
                                t.questions.last_mut().expect("just pushed")
                            }
                        };
                        q.checks.push(text.clone());
                        q.lets = lets.clone();
                    }
                }
            }
        }
        if t.questions.is_empty() {
            return Err(tp4::Error::Other(format!(
                "{} : aucune question (marqueur « <!-- cell:check N.M --> ») : rien à corriger",
                notebook::SOURCE
            )));
        }
        Ok(t)
    }

    /// The names of all answer items.
    pub fn answer_names(&self) -> Vec<&str> {
        self.answers.iter().map(|a| a.name.as_str()).collect()
    }

    /// The names the teacher's items define (a student may not redefine them).
    pub fn teacher_names(&self) -> Vec<String> {
        self.items.iter().flat_map(|i| item_names(i)).collect()
    }

    /// The total of the points.
    pub fn total_points(&self) -> f64 {
        self.questions.iter().map(|q| q.points).sum()
    }
}

/// The names an item defines: its name, or every name a `use` brings in
/// (`use a::{B, c::D as E};` → B, E).
pub fn item_names(item: &str) -> Vec<String> {
    let mut names = Vec::new();
    for piece in split(item) {
        let text = crate::split::strip_comments(&piece.text);
        match (&piece.kind, text.find('{'), text.rfind('}')) {
            (PieceKind::Item { keyword, .. }, Some(open), Some(close))
                if keyword == "use" && open < close =>
            {
                for part in text[open + 1..close].split(',') {
                    let part = part.trim();
                    let name = match part.rsplit_once(" as ") {
                        Some((_, alias)) => alias.trim(),
                        None => part.rsplit("::").next().unwrap_or("").trim(),
                    };
                    if !name.is_empty() && name != "*" && name != "self" {
                        names.push(name.to_string());
                    }
                }
            }
            _ if !piece.name().is_empty() => names.push(piece.name().to_string()),
            _ => {}
        }
    }
    names
}

fn source_error(cell: &Cell, message: &str) -> tp4::Error {
    tp4::Error::Other(format!(
        "{}, ligne {} : {message}",
        notebook::SOURCE,
        cell.line
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_source_gives_every_question_its_answers_and_checks() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let t = Template::load(&root).unwrap();
        assert!(t.questions.len() >= 40, "{}", t.questions.len());
        assert!(t.deps.iter().any(|d| d.starts_with("tp4 ")), "{:?}", t.deps);
        for q in &t.questions {
            assert!(!q.checks.is_empty());
            assert!(
                t.answers.iter().any(|a| a.question == q.id),
                "question {} sans réponse",
                q.id
            );
        }
        for a in &t.answers {
            assert!(a.student.contains("todo!()"), "{}", a.student);
        }
        assert!(t.answer_names().contains(&"filtre_ids"));
        assert!(!t.items.iter().any(|i| i.contains("SOLUTION")));
        // One module: no name may be defined twice by the teacher's items.
        let mut names = t.teacher_names();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "{names:?}");
    }
}
