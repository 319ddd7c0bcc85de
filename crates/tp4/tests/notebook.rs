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
    // One check per answer cell: a question may span several cells (2.1 has three
    // functions), but the same check is never run twice.
    let texts: Vec<&str> = cells
        .iter()
        .filter(|c| matches!(c.kind, CellKind::Check(_)))
        .map(|c| c.text.as_str())
        .collect();
    let unique: std::collections::BTreeSet<&str> = texts.iter().copied().collect();
    assert_eq!(unique.len(), texts.len(), "vérification répétée");
    assert!(
        checks.iter().all(|q| !q.contains(' ')),
        "une question par cellule de vérification"
    );
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

#[test]
fn statements_and_hints_quote_no_solution_code() {
    let cells = notebook::load(&root()).unwrap();
    let leaks = notebook::hint_leaks(&cells).unwrap();
    assert!(
        leaks.is_empty(),
        "code de solution cité dans un énoncé ou un indice du notebook étudiant (ligne de \
         notebook/tp4.md, texte) : {leaks:#?}"
    );
    // The prose is really scanned: statements and every `// À FAIRE` comment.
    let prose = notebook::student_prose(&cells);
    assert!(prose.iter().filter(|l| l.contains("À FAIRE")).count() >= 54);
}

#[test]
fn every_answer_cell_compiles_on_its_own() {
    // An answer cell holds one question's functions and no `use`/`type` item: imports
    // live in cells without answers, so a compile error in one answer cannot hide the
    // imports or the functions of another question.
    let cells = notebook::load(&root()).unwrap();
    for (i, cell) in cells.iter().enumerate() {
        let has_solution = !notebook::solutions(Path::new("x"), cell)
            .unwrap()
            .is_empty();
        if cell.kind != CellKind::Code || !has_solution {
            continue;
        }
        for l in cell.text.lines() {
            assert!(
                !(l.starts_with("use ") || l.starts_with("type ")),
                "ligne {} : « {l} » dans une cellule de réponse",
                cell.line
            );
        }
        let CellKind::Check(q) = &cells[i + 1].kind else {
            panic!(
                "ligne {} : pas de vérification juste après la réponse",
                cell.line
            )
        };
        // Every function of the cell is the one its check calls.
        for l in cell.text.lines().filter(|l| l.starts_with("fn ")) {
            let name = l[3..].split(['(', '<']).next().unwrap();
            assert!(
                cells[i + 1].text.contains(name),
                "ligne {} : {name} n'est pas vérifiée par la cellule {q} qui suit",
                cell.line
            );
        }
    }
}

#[test]
fn the_student_copy_has_no_teacher_material() {
    // One command gives the teacher a copy of the lab for students: no corrected
    // notebook, no notebook source, no teacher-only blocks in the docs.
    let dest = std::env::temp_dir().join(format!("tp4-copie-etudiant-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dest);
    let status = std::process::Command::new("bash")
        .arg(root().join("scripts/copie-etudiant.sh"))
        .arg(&dest)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(dest.join(notebook::STUDENT).is_file());
    assert!(dest.join("crates/tp4/Cargo.toml").is_file());
    assert!(dest.join("data/transactions.csv").is_file());
    assert!(!dest.join("corrige").exists());
    assert!(!dest.join(notebook::SOURCE).exists());
    for teacher_doc in ["docs/verifications.md", "docs/correction.md"] {
        assert!(!dest.join(teacher_doc).exists(), "{teacher_doc}");
    }
    for doc in [
        "README.md",
        "docs/exercices-1-3.md",
        "docs/exercices-4-6.md",
    ] {
        let original = std::fs::read_to_string(root().join(doc)).unwrap();
        let copy = std::fs::read_to_string(dest.join(doc)).unwrap();
        assert!(!copy.contains("<!-- enseignant -->"), "{doc}");
        assert!(copy.len() < original.len(), "{doc} : rien n'a été retiré");
    }
    let _ = std::fs::remove_dir_all(&dest);
}
