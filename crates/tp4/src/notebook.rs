//! The notebook `tp4.ipynb`, generated from one reviewed source: the corrected
//! version (`corrige/tp4.ipynb`, solutions filled in) and the student version
//! (`tp4.ipynb` at the root, each solution replaced by `todo!()` and a French comment
//! saying what to write).
//!
//! The source (`notebook/tp4.md`) is Markdown that reads well in a review: each cell
//! opens with a marker line, and code cells are fenced Rust blocks.
//!
//! ````text
//! <!-- cell:markdown -->
//! ## Exercice 1
//! <!-- cell:code -->
//! ```rust
//! fn mean(xs: &[f64]) -> f64 {
//!     // SOLUTION BEGIN: renvoyez la moyenne de `xs`
//!     xs.iter().sum::<f64>() / xs.len() as f64
//!     // SOLUTION END
//! }
//! ```
//! <!-- cell:check 1.1 -->
//! ```rust
//! tp4::ex1::verif::mean(mean).show();
//! ```
//! ````
//!
//! A check cell is a code cell tagged `check` whose output must hold the verdict of
//! question 1.1 (`<!-- cell:check 2.1 2.2 -->` for several); CI reads the tag to assert that the corrected notebook passes every
//! check and that the student notebook reports every question as not done yet. In
//! the generated notebooks a check is joined to the answer cell above it
//! ([`merge_checks`]): a verdict never judges a definition that no longer compiles.
//! `{{ROOT}}` is replaced by the path from the notebook's folder to the repository
//! root (empty at the root, `../` in `corrige/`), so that `:dep tp4` and the data
//! paths work in both. Markdown cells may hold solution regions too, between
//! `<!-- SOLUTION BEGIN: what to write -->` and `<!-- SOLUTION END -->`.
//!
//! Generation is deterministic (sorted keys, fixed cell ids, no outputs), so that the
//! committed notebooks can be compared byte for byte with what the source gives.

use crate::error::{Error, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The source of the notebook, relative to the repository root.
pub const SOURCE: &str = "notebook/tp4.md";
/// The student notebook, relative to the repository root.
pub const STUDENT: &str = "tp4.ipynb";
/// The corrected notebook, relative to the repository root.
pub const CORRECTED: &str = "corrige/tp4.ipynb";
/// The tag of check cells in the generated notebooks (read by CI).
pub const CHECK_TAG: &str = "check";

/// What a cell is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellKind {
    /// Markdown text.
    Markdown,
    /// Rust code run by the evcxr kernel.
    Code,
    /// Rust code that prints the verdicts of the questions of the answer cell above
    /// it (their ids, e.g. "1.1" or "2.1 2.2").
    Check(String),
}

/// One cell of the source, solutions included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// Markdown, code or check.
    pub kind: CellKind,
    /// The text of the cell as written in the source (with `{{ROOT}}` and solution
    /// markers).
    pub text: String,
    /// Line of the source where the cell's marker is (1-based), for error messages.
    pub line: usize,
}

/// Which notebook to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// Solutions filled in (`corrige/tp4.ipynb`).
    Corrected,
    /// Solutions replaced by `todo!()` and an instruction (`tp4.ipynb`).
    Student,
}

impl Version {
    /// The path from the notebook's folder to the repository root.
    pub fn root_prefix(self) -> &'static str {
        match self {
            Version::Corrected => "../",
            Version::Student => "",
        }
    }

    /// Where the notebook goes, relative to the repository root.
    pub fn path(self) -> &'static str {
        match self {
            Version::Corrected => CORRECTED,
            Version::Student => STUDENT,
        }
    }
}

/// One solution region of a cell: the instruction the student reads and the lines of
/// the solution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    /// Line of the source where the region starts (1-based).
    pub line: usize,
    /// What the student must write (French), from the BEGIN marker.
    pub instruction: String,
    /// The solution's lines, as written.
    pub lines: Vec<String>,
}

const MARKER_OPEN: &str = "<!-- cell:";
const MARKER_CLOSE: &str = "-->";
const CODE_BEGIN: &str = "// SOLUTION BEGIN";
const CODE_END: &str = "// SOLUTION END";
const MD_BEGIN: &str = "<!-- SOLUTION BEGIN";
const MD_END: &str = "<!-- SOLUTION END -->";

fn malformed(path: &Path, line: usize, message: impl Into<String>) -> Error {
    Error::Other(format!(
        "{}, ligne {line} : {}",
        path.display(),
        message.into()
    ))
}

/// Parses the source into cells. `path` only names the file in error messages.
pub fn parse(path: &Path, source: &str) -> Result<Vec<Cell>> {
    let mut cells: Vec<Cell> = Vec::new();
    let mut current: Option<(CellKind, usize, Vec<&str>)> = None;
    let finish = |cells: &mut Vec<Cell>, cur: Option<(CellKind, usize, Vec<&str>)>| -> Result<()> {
        let Some((kind, line, body)) = cur else {
            return Ok(());
        };
        let text = cell_text(path, &kind, line, &body)?;
        cells.push(Cell { kind, text, line });
        Ok(())
    };
    for (i, raw) in source.lines().enumerate() {
        let n = i + 1;
        if let Some(rest) = raw.strip_prefix(MARKER_OPEN) {
            let Some(spec) = rest.trim_end().strip_suffix(MARKER_CLOSE) else {
                return Err(malformed(
                    path,
                    n,
                    format!(
                        "marqueur de cellule mal fermé « {raw} » : écrivez « <!-- cell:code --> »"
                    ),
                ));
            };
            let spec = spec.trim();
            let kind = match spec.split_once(' ') {
                None if spec == "markdown" => CellKind::Markdown,
                None if spec == "code" => CellKind::Code,
                Some(("check", id)) if !id.trim().is_empty() => CellKind::Check(id.trim().into()),
                _ => {
                    return Err(malformed(
                        path,
                        n,
                        format!(
                            "type de cellule inconnu « {spec} » : choix possibles « markdown », \
                             « code », « check N.M »"
                        ),
                    ))
                }
            };
            finish(&mut cells, current.take())?;
            current = Some((kind, n, Vec::new()));
        } else if let Some((_, _, body)) = current.as_mut() {
            body.push(raw);
        } else if !raw.trim().is_empty() {
            return Err(malformed(
                path,
                n,
                "texte avant la première cellule : commencez le fichier par un marqueur \
                 « <!-- cell:markdown --> »",
            ));
        }
    }
    finish(&mut cells, current.take())?;
    if cells.is_empty() {
        return Err(malformed(path, 1, "aucune cellule : le fichier est vide"));
    }
    for cell in &cells {
        solutions(path, cell)?;
    }
    Ok(cells)
}

/// The text of a cell: markdown as is (blank lines around trimmed), code from inside
/// its ```rust fence.
fn cell_text(path: &Path, kind: &CellKind, line: usize, body: &[&str]) -> Result<String> {
    let first = body.iter().position(|l| !l.trim().is_empty());
    let last = body.iter().rposition(|l| !l.trim().is_empty());
    let (Some(first), Some(last)) = (first, last) else {
        return Err(malformed(
            path,
            line,
            "cellule vide : écrivez son contenu sous le marqueur",
        ));
    };
    let body = &body[first..=last];
    if *kind == CellKind::Markdown {
        return Ok(body.join("\n"));
    }
    let open = body[0].trim_end();
    let close = body[body.len() - 1].trim_end();
    if open != "```rust" || close != "```" || body.len() < 3 {
        return Err(malformed(
            path,
            line + first + 1,
            "une cellule de code s'écrit entre une ligne « ```rust » et une ligne « ``` »",
        ));
    }
    Ok(body[1..body.len() - 1].join("\n"))
}

/// The solution regions of a cell, checked for balance.
pub fn solutions(path: &Path, cell: &Cell) -> Result<Vec<Solution>> {
    let (begin, end) = markers(&cell.kind);
    let mut found = Vec::new();
    let mut open: Option<Solution> = None;
    for (i, l) in cell.text.lines().enumerate() {
        // The cell's text starts one line below its marker (two for a code fence).
        let n = cell.line
            + i
            + if cell.kind == CellKind::Markdown {
                1
            } else {
                2
            };
        let t = l.trim();
        if let Some(rest) = t.strip_prefix(begin) {
            if open.is_some() {
                return Err(malformed(path, n, "SOLUTION BEGIN imbriqué : fermez d'abord la région précédente par SOLUTION END"));
            }
            let rest = rest.trim_end_matches(MARKER_CLOSE).trim();
            let instruction = rest.strip_prefix(':').unwrap_or("").trim().to_string();
            if instruction.is_empty() {
                return Err(malformed(
                    path,
                    n,
                    "SOLUTION BEGIN sans consigne : écrivez « SOLUTION BEGIN: ce que l'étudiant doit écrire »",
                ));
            }
            open = Some(Solution {
                line: n,
                instruction,
                lines: Vec::new(),
            });
        } else if t == end {
            match open.take() {
                Some(s) if s.lines.iter().any(|l| !l.trim().is_empty()) => found.push(s),
                Some(_) => return Err(malformed(path, n, "région SOLUTION vide")),
                None => return Err(malformed(path, n, "SOLUTION END sans SOLUTION BEGIN")),
            }
        } else if let Some(s) = open.as_mut() {
            s.lines.push(l.to_string());
        }
    }
    if let Some(s) = open {
        return Err(malformed(
            path,
            s.line,
            "SOLUTION BEGIN jamais fermé : ajoutez une ligne SOLUTION END",
        ));
    }
    Ok(found)
}

fn markers(kind: &CellKind) -> (&'static str, &'static str) {
    match kind {
        CellKind::Markdown => (MD_BEGIN, MD_END),
        _ => (CODE_BEGIN, CODE_END),
    }
}

/// The text of a cell in one version: markers dropped (corrected) or regions replaced
/// by the instruction and `todo!()` (student), `{{ROOT}}` replaced.
pub fn render_text(cell: &Cell, version: Version) -> String {
    let (begin, end) = markers(&cell.kind);
    let mut out: Vec<String> = Vec::new();
    let mut inside = false;
    for l in cell.text.lines() {
        let t = l.trim();
        if let Some(rest) = t.strip_prefix(begin) {
            inside = true;
            if version == Version::Student {
                let indent = &l[..l.len() - l.trim_start().len()];
                let what = rest.trim_end_matches(MARKER_CLOSE).trim();
                let what = what.strip_prefix(':').unwrap_or(what).trim();
                if cell.kind == CellKind::Markdown {
                    out.push(format!("{indent}*À vous : {what}*"));
                } else {
                    out.push(format!("{indent}// À FAIRE : {what}"));
                    out.push(format!("{indent}todo!()"));
                }
            }
        } else if t == end {
            inside = false;
        } else if !inside || version == Version::Corrected {
            out.push(l.to_string());
        }
    }
    out.join("\n").replace("{{ROOT}}", version.root_prefix())
}

/// Splits a text into Jupyter's list of lines (each but the last ending in "\n").
fn source_lines(text: &str) -> Value {
    let mut lines: Vec<Value> = text
        .split_inclusive('\n')
        .map(|l| Value::String(l.to_string()))
        .collect();
    if lines.is_empty() {
        lines.push(Value::String(String::new()));
    }
    Value::Array(lines)
}

/// The cells of one version as the notebook shows them: a check cell is joined to
/// the answer cell above it, so that answer and verdict are one cell. The kernel
/// compiles a cell as a whole: when an answer stops compiling, its check does not
/// run either, and no verdict can judge the definition the kernel kept from an
/// earlier run.
pub fn merge_checks(cells: &[Cell], version: Version) -> Vec<(CellKind, String)> {
    let mut out: Vec<(CellKind, String)> = Vec::new();
    for cell in cells {
        let text = render_text(cell, version);
        match (&cell.kind, out.last_mut()) {
            (CellKind::Check(q), Some((last @ CellKind::Code, answer))) => {
                *answer = format!("{answer}\n\n{CHECK_COMMENT}\n{text}");
                *last = CellKind::Check(q.clone());
            }
            _ => out.push((cell.kind.clone(), text)),
        }
    }
    out
}

/// The question ids of a check marker's text (`"2.1 2.2"` → both): words with a
/// `=` are options for the grader (`points=2`, read by [`check_points`]), not ids.
pub fn check_questions(spec: &str) -> Vec<&str> {
    spec.split_whitespace()
        .filter(|w| !w.contains('='))
        .collect()
}

/// The points of a check marker (`<!-- cell:check 1.1 points=2 -->` → 2), 1 by
/// default: what `tp4 corriger` gives for the question. `None` when the value is not
/// a non-negative number.
pub fn check_points(spec: &str) -> Option<f64> {
    match spec
        .split_whitespace()
        .find_map(|w| w.strip_prefix("points="))
    {
        None => Some(1.0),
        Some(v) => v.parse::<f64>().ok().filter(|p| p.is_finite() && *p >= 0.0),
    }
}

/// The comment that separates an answer from its check in a notebook cell.
pub const CHECK_COMMENT: &str =
    "// Vérification (dans la même cellule : elle juge toujours le code ci-dessus)";

/// The notebook of one version as `.ipynb` JSON (nbformat 4.5, no outputs), with a
/// final newline; the same cells always give the same bytes.
pub fn render(cells: &[Cell], version: Version) -> String {
    let cells: Vec<Value> = merge_checks(cells, version)
        .iter()
        .enumerate()
        .map(|(i, (kind, text))| {
            let id = format!("cell-{:03}", i + 1);
            let source = source_lines(text);
            match kind {
                CellKind::Markdown => json!({
                    "cell_type": "markdown", "id": id, "metadata": {}, "source": source,
                }),
                CellKind::Code => json!({
                    "cell_type": "code", "execution_count": null, "id": id,
                    "metadata": {}, "outputs": [], "source": source,
                }),
                CellKind::Check(q) => json!({
                    "cell_type": "code", "execution_count": null, "id": id,
                    "metadata": {
                        "tags": [CHECK_TAG],
                        "tp4": {"questions": check_questions(q)},
                    },
                    "outputs": [], "source": source,
                }),
            }
        })
        .collect();
    let nb = json!({
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Rust", "language": "rust", "name": "rust"},
            "language_info": {
                "codemirror_mode": "rust", "file_extension": ".rs",
                "mimetype": "text/rust", "name": "Rust", "pygment_lexer": "rust",
                "version": "",
            },
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    });
    // Jupyter's own layout: one-space indent, UTF-8 kept as is.
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    serde::Serialize::serialize(&nb, &mut ser).expect("a JSON value always serialises");
    let mut text = String::from_utf8(buf).expect("serde_json writes UTF-8");
    text.push('\n');
    text
}

/// Reads and parses the source of the repository rooted at `root`.
pub fn load(root: &Path) -> Result<Vec<Cell>> {
    let path = root.join(SOURCE);
    let source = std::fs::read_to_string(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            // Not a data file: `donnees` cannot make it (see `Error::MissingData`).
            Error::InvalidParameter(format!(
                "source du notebook introuvable : {}\n  → `tp4 notebook` se lance depuis la \
                 racine du dépôt tp4 (le dossier qui contient notebook/tp4.md), ou avec \
                 `--racine /chemin/vers/tp4`",
                path.display()
            ))
        } else {
            Error::io("lecture de", &path, e)
        }
    })?;
    parse(&path, &source)
}

/// Writes both notebooks of the repository rooted at `root` (atomically) from its
/// source; returns the paths written.
pub fn generate(root: &Path) -> Result<Vec<PathBuf>> {
    let cells = load(root)?;
    let mut written = Vec::new();
    for version in [Version::Student, Version::Corrected] {
        let path = root.join(version.path());
        crate::output::write_text(&path, &render(&cells, version))?;
        written.push(path);
    }
    Ok(written)
}

/// The notebooks of the repository rooted at `root` that differ from what its source
/// generates (empty when both are up to date).
pub fn stale(root: &Path) -> Result<Vec<PathBuf>> {
    let cells = load(root)?;
    let mut out = Vec::new();
    for version in [Version::Student, Version::Corrected] {
        let path = root.join(version.path());
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current != render(&cells, version) {
            out.push(path);
        }
    }
    Ok(out)
}

/// A line that is only a method call without arguments (`.into_iter()`, `.sum();`):
/// common to any Rust code, it gives nothing away.
fn is_bare_call(line: &str) -> bool {
    let t = line.trim_end_matches([';', ',']);
    t.strip_prefix('.')
        .and_then(|r| r.strip_suffix("()"))
        .is_some_and(|name| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Solution lines that still appear in the student version: lines of real code (not
/// short lines, braces or comments) of a solution region that are found anywhere in
/// the rendered student notebook. Empty when no question gives its answer away.
pub fn leaked_solutions(cells: &[Cell]) -> Result<Vec<(usize, String)>> {
    let student: Vec<String> = cells
        .iter()
        .map(|c| render_text(c, Version::Student))
        .collect();
    let student_lines: std::collections::HashSet<&str> = student
        .iter()
        .flat_map(|t| t.lines())
        .map(str::trim)
        .collect();
    let mut leaks = Vec::new();
    for cell in cells {
        for s in solutions(Path::new(SOURCE), cell)? {
            for l in &s.lines {
                let t = l.trim();
                let trivial = t.chars().count() < 8
                    || t.starts_with("//")
                    || t.chars().all(|c| "{}()[];,. ".contains(c))
                    || is_bare_call(t);
                if !trivial && student_lines.contains(t) {
                    leaks.push((s.line, t.to_string()));
                }
            }
        }
    }
    Ok(leaks)
}

/// The shortest solution line (once normalised) that [`hint_leaks`] looks for in what
/// the student reads: shorter lines (`None`, `x + n`) are common to any code.
pub const MIN_LEAK_CHARS: usize = 20;

/// Code fragments that give a question away even when shorter than
/// [`MIN_LEAK_CHARS`] or written differently from the solution.
pub const FORBIDDEN_IN_HINTS: &[&str] = &[
    "move |x| f(g(x))",
    "move |b| f(a, b)",
    "move |x| x + n",
    "fetch_add(1",
    "into_par_iter()",
    "spawn_blocking(move",
    "take_while(|",
    "or_insert_with(||",
    ".fold(Summary::default",
    "fold(x, |acc",
    "chunks(taille)",
    "CachePadded::new(",
    "n * i / w",
];

/// A line of code with its spacing removed, so that `f( a,b )` and `f(a, b)` compare
/// equal.
fn squeeze(line: &str) -> String {
    line.chars().filter(|c| !c.is_whitespace()).collect()
}

/// What the student reads in the student notebook: every markdown cell, and the
/// comments (`//` to the end of the line) of every code cell.
pub fn student_prose(cells: &[Cell]) -> Vec<String> {
    let mut out = Vec::new();
    for cell in cells {
        let text = render_text(cell, Version::Student);
        if cell.kind == CellKind::Markdown {
            out.extend(text.lines().map(str::to_string));
        } else {
            out.extend(
                text.lines()
                    .filter_map(|l| l.find("//").map(|i| l[i..].to_string())),
            );
        }
    }
    out
}

/// Solution code quoted in what the student reads (statements, `// À FAIRE` comments,
/// any other comment): a solution line of at least [`MIN_LEAK_CHARS`] characters (spaces
/// ignored) found inside a line of prose, or a fragment of [`FORBIDDEN_IN_HINTS`].
/// Returns (source line of the solution region or 0, the leaked text); empty when the
/// statements say what to compute without saying the line to write.
pub fn hint_leaks(cells: &[Cell]) -> Result<Vec<(usize, String)>> {
    let prose: Vec<String> = student_prose(cells).iter().map(|l| squeeze(l)).collect();
    let mut leaks = Vec::new();
    for cell in cells {
        for s in solutions(Path::new(SOURCE), cell)? {
            for l in &s.lines {
                let code = squeeze(l.split("//").next().unwrap_or(""));
                let code = code.trim_end_matches([';', ',', '{']);
                if code.chars().count() >= MIN_LEAK_CHARS && prose.iter().any(|p| p.contains(code))
                {
                    leaks.push((s.line, l.trim().to_string()));
                }
            }
        }
    }
    for token in FORBIDDEN_IN_HINTS {
        let t = squeeze(token);
        if let Some(p) = prose.iter().find(|p| p.contains(&t)) {
            leaks.push((0, format!("{token} (dans « {p} »)")));
        }
    }
    Ok(leaks)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "\
<!-- cell:markdown -->
# Titre

Texte.
<!-- cell:code -->
```rust
:dep tp4 = { path = \"{{ROOT}}crates/tp4\" }
```
<!-- cell:code -->
```rust
fn double(x: u64) -> u64 {
    // SOLUTION BEGIN: renvoyez le double de x
    x.wrapping_mul(2)
    // SOLUTION END
}
```
<!-- cell:check 1.1 -->
```rust
check(double).show();
```
<!-- cell:markdown -->
Pourquoi ?
<!-- SOLUTION BEGIN: expliquez -->
Parce que.
<!-- SOLUTION END -->
";

    fn cells() -> Vec<Cell> {
        parse(Path::new("tp4.md"), SRC).unwrap()
    }

    #[test]
    fn hint_leaks_finds_quoted_solution_code() {
        let leaky = SRC.replace(
            "SOLUTION BEGIN: renvoyez le double de x",
            "SOLUTION BEGIN: écrivez x.wrapping_mul( 2 ) suivi de rien",
        );
        let c = parse(Path::new("tp4.md"), &leaky).unwrap();
        // Short lines are not leaks; a long one is, spacing aside.
        assert!(hint_leaks(&c).unwrap().is_empty());
        let long = leaky
            .replace("x.wrapping_mul(2)", "x.wrapping_mul(2).wrapping_add(0)")
            .replace("x.wrapping_mul( 2 )", "x.wrapping_mul( 2 ).wrapping_add(0)");
        let c = parse(Path::new("tp4.md"), &long).unwrap();
        assert_eq!(hint_leaks(&c).unwrap().len(), 1);
        let token = SRC.replace("Pourquoi ?", "Pourquoi `Box::new(move |x| f(g(x)))` ?");
        let c = parse(Path::new("tp4.md"), &token).unwrap();
        assert_eq!(hint_leaks(&c).unwrap().len(), 1);
    }

    #[test]
    fn parses_kinds_and_texts() {
        let c = cells();
        assert_eq!(c.len(), 5);
        assert_eq!(c[0].kind, CellKind::Markdown);
        assert_eq!(c[0].text, "# Titre\n\nTexte.");
        assert_eq!(c[1].text, ":dep tp4 = { path = \"{{ROOT}}crates/tp4\" }");
        assert_eq!(c[3].kind, CellKind::Check("1.1".into()));
        let sol = solutions(Path::new("x"), &c[2]).unwrap();
        assert_eq!(sol.len(), 1);
        assert_eq!(sol[0].line, 12);
        assert_eq!(sol[0].instruction, "renvoyez le double de x");
        assert_eq!(sol[0].lines, vec!["    x.wrapping_mul(2)".to_string()]);
    }

    #[test]
    fn versions_differ_only_in_solutions_and_root() {
        let c = cells();
        assert_eq!(
            render_text(&c[1], Version::Corrected),
            ":dep tp4 = { path = \"../crates/tp4\" }"
        );
        assert_eq!(
            render_text(&c[1], Version::Student),
            ":dep tp4 = { path = \"crates/tp4\" }"
        );
        assert_eq!(
            render_text(&c[2], Version::Corrected),
            "fn double(x: u64) -> u64 {\n    x.wrapping_mul(2)\n}"
        );
        assert_eq!(
            render_text(&c[2], Version::Student),
            "fn double(x: u64) -> u64 {\n    // À FAIRE : renvoyez le double de x\n    todo!()\n}"
        );
        assert_eq!(
            render_text(&c[4], Version::Student),
            "Pourquoi ?\n*À vous : expliquez*"
        );
        assert_eq!(
            render_text(&c[4], Version::Corrected),
            "Pourquoi ?\nParce que."
        );
        assert!(leaked_solutions(&c).unwrap().is_empty());
    }

    #[test]
    fn points_are_options_not_question_ids() {
        assert_eq!(check_questions("2.1 2.2 points=3"), vec!["2.1", "2.2"]);
        assert_eq!(check_points("2.1 points=3"), Some(3.0));
        assert_eq!(check_points("2.1"), Some(1.0));
        assert_eq!(check_points("2.1 points=-1"), None);
        assert_eq!(check_points("2.1 points=x"), None);
        let c = parse(
            Path::new("x"),
            &SRC.replace("check 1.1", "check 1.1 points=2"),
        )
        .unwrap();
        let nb: Value = serde_json::from_str(&render(&c, Version::Student)).unwrap();
        assert_eq!(
            nb["cells"][2]["metadata"]["tp4"]["questions"],
            json!(["1.1"])
        );
    }

    #[test]
    fn rendering_is_valid_deterministic_json() {
        let c = cells();
        let a = render(&c, Version::Student);
        assert_eq!(a, render(&c, Version::Student));
        let v: Value = serde_json::from_str(&a).unwrap();
        assert_eq!(v["nbformat"], 4);
        assert_eq!(v["metadata"]["kernelspec"]["name"], "rust");
        let cells = v["cells"].as_array().unwrap();
        // The check is joined to its answer cell: one cell, tagged, answer first.
        assert_eq!(cells.len(), 4);
        assert_eq!(cells[2]["metadata"]["tags"][0], CHECK_TAG);
        assert_eq!(cells[2]["metadata"]["tp4"]["questions"][0], "1.1");
        let joined: String = cells[2]["source"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        let (answer, check) = (joined.find("todo!()"), joined.find("check(double)"));
        assert!(answer.is_some() && answer < check, "{joined}");
        assert!(joined.contains(CHECK_COMMENT), "{joined}");
        assert_eq!(cells[0]["source"][0], "# Titre\n");
        assert_eq!(cells[0]["source"][2], "Texte.");
        assert!(cells[2]["outputs"].as_array().unwrap().is_empty());
        assert!(a.contains("À FAIRE") && a.ends_with("}\n"));
    }

    #[test]
    fn leak_is_detected() {
        // A solution line repeated outside its region is given away to the student.
        let src = SRC.replace("check(double)", "x.wrapping_mul(2)\ncheck(double)");
        let c = parse(Path::new("x"), &src).unwrap();
        assert_eq!(
            leaked_solutions(&c).unwrap(),
            vec![(12, "x.wrapping_mul(2)".to_string())]
        );
    }

    #[test]
    fn bare_calls_are_not_leaks() {
        assert!(is_bare_call(".into_iter()") && is_bare_call(".collect();"));
        assert!(!is_bare_call(".map(|x| x * 2)") && !is_bare_call("x.into_iter()"));
    }

    #[test]
    fn malformed_sources_name_the_line() {
        let cases = [
            (
                "texte\n<!-- cell:code -->\n```rust\nx\n```\n",
                1,
                "avant la première",
            ),
            ("<!-- cell:cod -->\nx\n", 1, "inconnu"),
            ("<!-- cell:code -->\nx\n", 2, "```rust"),
            ("<!-- cell:markdown -->\n\n", 1, "vide"),
            (
                "<!-- cell:code -->\n```rust\n// SOLUTION BEGIN: a\nx\n```\n",
                3,
                "jamais fermé",
            ),
            (
                "<!-- cell:code -->\n```rust\n// SOLUTION BEGIN\nx\n// SOLUTION END\n```\n",
                3,
                "sans consigne",
            ),
            (
                "<!-- cell:code -->\n```rust\nx\n// SOLUTION END\n```\n",
                4,
                "sans SOLUTION BEGIN",
            ),
        ];
        for (src, line, what) in cases {
            let e = parse(Path::new("nb.md"), src).unwrap_err().to_string();
            assert!(e.contains(&format!("nb.md, ligne {line}")), "{src:?}: {e}");
            assert!(e.contains(what), "{src:?}: {e}");
        }
    }
}
