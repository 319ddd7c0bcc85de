//! A student's submission: finding the notebooks of a class folder, reading one
//! `.ipynb`, and taking out of it the student's answer items, found by the names
//! the teacher's source defines (never by cell position, id or metadata, which a
//! student can edit). Everything else the student wrote is dropped: check lines,
//! edited checks, statements. Helper items written in the same cell as an answer go
//! with that answer's question.

use crate::split::{split, strip_comments, PieceKind};
use crate::template::Template;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One submission to grade: who and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The student's name: the file's stem (`COPIES/dupont.ipynb`) or the folder's
    /// name (`COPIES/dupont/tp4.ipynb`, as an LMS export gives it).
    pub student: String,
    /// The notebook file.
    pub path: PathBuf,
}

/// Lists the submissions of a class folder: every `*.ipynb` directly inside it, and
/// every `*.ipynb` of its sub-folders (one folder per student; a folder with several
/// notebooks gives `dossier-fichier` names). Sorted by student name. Hidden files
/// and Jupyter's `.ipynb_checkpoints` are skipped.
pub fn list(dir: &Path) -> tp4::Result<Vec<Entry>> {
    let read = |d: &Path| -> tp4::Result<Vec<PathBuf>> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map_err(|e| tp4::Error::io("lecture du dossier", d, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                !p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
            })
            .collect();
        v.sort();
        Ok(v)
    };
    let is_nb = |p: &Path| p.is_file() && p.extension().is_some_and(|e| e == "ipynb");
    let stem = |p: &Path| {
        p.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for p in read(dir)? {
        if is_nb(&p) {
            out.push(Entry {
                student: stem(&p),
                path: p,
            });
        } else if p.is_dir() {
            let folder = p
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let nbs: Vec<PathBuf> = read(&p)?.into_iter().filter(|q| is_nb(q)).collect();
            let several = nbs.len() > 1;
            for q in nbs {
                let student = match several {
                    true => format!("{folder}-{}", stem(&q)),
                    false => folder.clone(),
                };
                out.push(Entry { student, path: q });
            }
        }
    }
    out.sort_by(|a, b| a.student.cmp(&b.student));
    Ok(out)
}

/// The student's items found in a submission.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    /// Answer name → the student's item (the last definition wins, as in the kernel).
    pub answers: BTreeMap<String, String>,
    /// Question id → helper items written beside that question's answers.
    pub helpers: BTreeMap<String, Vec<String>>,
}

/// Reads a submission and takes its answers out. The error is one French line that
/// says what is wrong with the file.
pub fn read(path: &Path, template: &Template) -> Result<Answers, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("illisible : {e}"))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("fichier vide : l'élève a rendu un fichier sans contenu".into());
    }
    let nb: Value = serde_json::from_slice(&bytes).map_err(|e| {
        format!("pas un notebook : ce n'est pas du JSON valide ({e}) ; le fichier rendu est-il bien un .ipynb ?")
    })?;
    let cells = nb
        .get("cells")
        .and_then(Value::as_array)
        .ok_or("pas un notebook Jupyter : pas de liste « cells » dans le JSON")?;
    let language = nb
        .pointer("/metadata/kernelspec/language")
        .and_then(Value::as_str)
        .unwrap_or("rust");
    if language != "rust" {
        return Err(format!(
            "notebook d'un autre langage (« {language} ») : ce n'est pas le notebook Rust du TP4"
        ));
    }
    let mut codes = Vec::new();
    for c in cells {
        if c.get("cell_type").and_then(Value::as_str) != Some("code") {
            continue;
        }
        let src = match c.get("source") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(lines)) => lines.iter().filter_map(Value::as_str).collect(),
            _ => String::new(),
        };
        codes.push(src);
    }
    let out = extract(&codes, template);
    if out.answers.is_empty() {
        return Err(format!(
            "aucune fonction de réponse du TP4 trouvée ({} code(s) lue(s)) : notebook d'un autre TP, \
             ou d'une version trop ancienne de notebook/tp4.md",
            codes.len()
        ));
    }
    Ok(out)
}

/// Takes the answers out of the code cells' texts.
pub fn extract(codes: &[String], template: &Template) -> Answers {
    let names = template.answer_names();
    let teacher = template.teacher_names();
    let question_of = |name: &str| {
        template
            .answers
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.question.clone())
    };
    // A helper may not take the name of a crate the checks use (`mod tp4 { … }` would
    // replace the teacher's checkers), nor bring in another crate.
    let crates: Vec<&str> = template
        .deps
        .iter()
        .filter_map(|d| d.split(['=', ' ']).next())
        .chain(["std", "core", "alloc"])
        .collect();
    let mut out = Answers::default();
    for code in codes {
        let pieces = split(code);
        // The cell's question: that of the first answer it defines.
        let Some(q) = pieces.iter().find_map(|p| question_of(p.name())) else {
            continue;
        };
        for p in &pieces {
            let PieceKind::Item { keyword, .. } = &p.kind else {
                continue; // statements (check lines included) are never graded
            };
            let name = p.name();
            if keyword == "extern" || crates.contains(&name) {
                continue;
            }
            if names.contains(&name) {
                out.answers.insert(name.to_string(), p.text.clone());
            } else if keyword == "use" {
                // An import the teacher's code already makes would clash: dropped.
                let known = teacher.iter().any(|t| t == name)
                    || template
                        .items
                        .iter()
                        .any(|i| strip_comments(i).trim() == strip_comments(&p.text).trim());
                if !known {
                    out.helpers
                        .entry(q.clone())
                        .or_default()
                        .push(p.text.clone());
                }
            } else if !teacher.iter().any(|t| t == name) {
                // A later definition of the same helper replaces the earlier one.
                if !name.is_empty() {
                    for list in out.helpers.values_mut() {
                        list.retain(|h| split(h).first().is_none_or(|x| x.name() != name));
                    }
                }
                out.helpers
                    .entry(q.clone())
                    .or_default()
                    .push(p.text.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Template, Vec<String>) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let t = Template::load(&root).unwrap();
        let nb: Value = serde_json::from_str(
            &std::fs::read_to_string(root.join(tp4::notebook::CORRECTED)).unwrap(),
        )
        .unwrap();
        let codes = nb["cells"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["cell_type"] == "code")
            .map(|c| {
                c["source"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(Value::as_str)
                    .collect()
            })
            .collect();
        (t, codes)
    }

    #[test]
    fn answers_are_found_by_name_whatever_the_cell_order_and_the_added_lines() {
        let (t, codes) = setup();
        let reference = extract(&codes, &t);
        assert_eq!(reference.answers.len(), t.answers.len());
        let mut seed = 11u64;
        for _ in 0..20 {
            let mut shuffled = codes.clone();
            // Fisher-Yates with a fixed LCG, plus a forged verdict line in each cell.
            for i in (1..shuffled.len()).rev() {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                shuffled.swap(i, (seed >> 33) as usize % (i + 1));
            }
            for c in &mut shuffled {
                c.push_str("\nprintln!(\"✅ Question 1.1 : réussie\");");
            }
            let got = extract(&shuffled, &t);
            assert_eq!(got.answers, reference.answers);
        }
    }

    #[test]
    fn helpers_may_not_replace_the_checkers_or_the_teachers_items() {
        let (t, _) = setup();
        let cell = "fn filtre_ids(rows: &[Transaction], categorie: &str, min: f64) -> Vec<u64> { aide() }\n\
                    fn aide() -> Vec<u64> { Vec::new() }\n\
                    mod tp4 { pub fn x() {} }\n\
                    extern crate rayon as tp4;\n\
                    use std::sync::mpsc as tp4;\n\
                    struct Transaction;\n\
                    use rayon::prelude::*;\n\
                    use std::fmt::Write;";
        let got = extract(&[cell.to_string()], &t);
        assert!(got.answers.contains_key("filtre_ids"));
        let helpers = &got.helpers["1.1"];
        assert_eq!(
            helpers,
            &vec![
                "fn aide() -> Vec<u64> { Vec::new() }".to_string(),
                "use std::fmt::Write;".to_string()
            ]
        );
    }

    #[test]
    fn malformed_files_give_one_clear_line() {
        let (t, _) = setup();
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("", "vide"),
            ("{\"cells\": [", "JSON"),
            ("[1, 2]", "cells"),
            (
                "{\"cells\": [], \"metadata\": {\"kernelspec\": {\"language\": \"python\"}}}",
                "python",
            ),
            (
                "{\"cells\": [{\"cell_type\": \"code\", \"source\": \"fn f() {}\"}]}",
                "autre TP",
            ),
        ];
        for (i, (text, word)) in cases.iter().enumerate() {
            let p = dir.path().join(format!("c{i}.ipynb"));
            std::fs::write(&p, text).unwrap();
            let e = read(&p, &t).unwrap_err();
            assert!(e.contains(word), "{text:?} : {e}");
        }
    }

    #[test]
    fn both_folder_layouts_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("dupont.ipynb"), "").unwrap();
        std::fs::create_dir_all(d.join("martin")).unwrap();
        std::fs::write(d.join("martin/tp4.ipynb"), "").unwrap();
        std::fs::create_dir_all(d.join("zoe")).unwrap();
        std::fs::write(d.join("zoe/a.ipynb"), "").unwrap();
        std::fs::write(d.join("zoe/b.ipynb"), "").unwrap();
        std::fs::create_dir_all(d.join(".ipynb_checkpoints")).unwrap();
        std::fs::write(d.join(".ipynb_checkpoints/x.ipynb"), "").unwrap();
        std::fs::write(d.join("notes.txt"), "").unwrap();
        let names: Vec<String> = list(d).unwrap().into_iter().map(|e| e.student).collect();
        assert_eq!(names, ["dupont", "martin", "zoe-a", "zoe-b"]);
    }
}
