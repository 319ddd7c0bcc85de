//! The committed notebooks are exactly what `notebook/tp4.md` generates, the student
//! version gives no solution away, and every question has its check cell.

use std::path::{Path, PathBuf};
use tp4::notebook::{self, CellKind, Version};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The lines of the code cells of a notebook.
fn code_lines(ipynb: &str) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_str(ipynb).unwrap();
    json["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .flat_map(|c| c["source"].as_array().unwrap().iter())
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn committed_notebooks_match_the_source() {
    let stale = notebook::stale(&root()).unwrap();
    assert!(
        stale.is_empty(),
        "notebooks pas à jour : {stale:?} → lancez `cargo run -p tp4-cli -- notebook`"
    );
    // Generating twice gives the same bytes.
    let cells = notebook::load(&root()).unwrap();
    for v in [Version::Student, Version::Corrected] {
        assert_eq!(notebook::render(&cells, v), notebook::render(&cells, v));
    }
}

#[test]
fn no_student_question_contains_its_solution() {
    let cells = notebook::load(&root()).unwrap();
    let leaks = notebook::leaked_solutions(&cells).unwrap();
    assert!(
        leaks.is_empty(),
        "solutions visibles dans tp4.ipynb : {leaks:?}"
    );
    let student = std::fs::read_to_string(root().join(notebook::STUDENT)).unwrap();
    let corrected = std::fs::read_to_string(root().join(notebook::CORRECTED)).unwrap();
    let mut regions = 0;
    for cell in &cells {
        for s in notebook::solutions(Path::new(notebook::SOURCE), cell).unwrap() {
            regions += 1;
            // The instruction is in the student version, as a comment with todo!().
            assert!(
                student.contains(&s.instruction.replace('"', "\\\"")),
                "{}",
                s.instruction
            );
            // The corrected version holds the solution.
            let first = s.lines.iter().find(|l| !l.trim().is_empty()).unwrap();
            assert!(corrected.contains(&first.replace('\\', "\\\\").replace('"', "\\\"")));
        }
    }
    assert!(regions >= 1);
    let todo_lines = |nb: &str| {
        code_lines(nb)
            .iter()
            .filter(|l| l.trim() == "todo!()")
            .count()
    };
    assert_eq!(
        todo_lines(&student),
        cells
            .iter()
            .filter(|c| c.kind != CellKind::Markdown)
            .map(|c| notebook::solutions(Path::new("x"), c).unwrap().len())
            .sum::<usize>(),
        "un todo!() par région de solution de code"
    );
    assert_eq!(todo_lines(&corrected), 0);
    assert!(!corrected.contains("SOLUTION") && !student.contains("SOLUTION"));
}

#[test]
fn every_question_is_followed_by_its_check_and_paths_fit_each_folder() {
    let cells = notebook::load(&root()).unwrap();
    let mut pending = false;
    let mut checks = Vec::new();
    for cell in &cells {
        let has_solution = !notebook::solutions(Path::new("x"), cell)
            .unwrap()
            .is_empty();
        match &cell.kind {
            CellKind::Check(q) => {
                checks.push(q.clone());
                pending = false;
            }
            CellKind::Code if has_solution => {
                assert!(
                    !pending,
                    "question sans vérification avant la ligne {}",
                    cell.line
                );
                pending = true;
            }
            _ => {}
        }
    }
    assert!(
        !pending,
        "la dernière question n'a pas de cellule de vérification"
    );
    let mut unique = checks.clone();
    unique.dedup();
    assert_eq!(unique, checks, "question vérifiée deux fois de suite");
    let student = std::fs::read_to_string(root().join(notebook::STUDENT)).unwrap();
    let corrected = std::fs::read_to_string(root().join(notebook::CORRECTED)).unwrap();
    assert!(student.contains(r#"path = \"crates/tp4\""#));
    assert!(corrected.contains(r#"path = \"../crates/tp4\""#));
    // The relative paths point at the real crate and data from each notebook's folder.
    for (nb, prefix) in [(notebook::STUDENT, ""), (notebook::CORRECTED, "../")] {
        let dir = root().join(nb).parent().unwrap().to_path_buf();
        assert!(dir.join(format!("{prefix}crates/tp4/Cargo.toml")).is_file());
        assert!(dir.join(format!("{prefix}data/transactions.csv")).is_file());
    }
    assert!(!student.contains("{{ROOT}}") && !corrected.contains("{{ROOT}}"));
}
