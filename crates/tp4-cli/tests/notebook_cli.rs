//! `tp4 notebook`: regenerates both notebooks byte-identically, `--verifier` tells
//! whether the committed ones are up to date, and a broken source gets a French error
//! naming the file and the line.

mod common;

use common::{repo, text};

/// Runs `tp4 args…` to the end.
fn tp4(args: &[&str]) -> std::process::Output {
    common::run(args)
}

/// A copy of the notebook source and generated notebooks in a temporary root.
fn copy_of_repo() -> tempfile::TempDir {
    let dir = common::temp_dir();
    for f in [
        tp4::notebook::SOURCE,
        tp4::notebook::STUDENT,
        tp4::notebook::CORRECTED,
    ] {
        let to = dir.path().join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(repo().join(f), &to).unwrap();
    }
    dir
}

#[test]
fn committed_notebooks_are_up_to_date_and_regeneration_is_byte_identical() {
    let root = repo();
    let o = tp4(&["notebook", "--verifier", "--racine", root.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("à jour"));

    let copy = copy_of_repo();
    let before = std::fs::read(copy.path().join(tp4::notebook::STUDENT)).unwrap();
    let o = tp4(&["notebook", "--racine", copy.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read(copy.path().join(tp4::notebook::STUDENT)).unwrap(),
        before
    );
}

#[test]
fn a_changed_source_makes_the_notebooks_stale_until_regenerated() {
    let copy = copy_of_repo();
    let root = copy.path().to_str().unwrap();
    let src = copy.path().join(tp4::notebook::SOURCE);
    let mut s = std::fs::read_to_string(&src).unwrap();
    s.push_str("\n<!-- cell:markdown -->\nUne cellule de plus.\n");
    std::fs::write(&src, s).unwrap();
    let o = tp4(&["notebook", "--verifier", "--racine", root]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("pas à jour"), "{}", text(&o));
    assert!(tp4(&["notebook", "--racine", root]).status.success());
    let o = tp4(&["notebook", "--verifier", "--racine", root]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn a_broken_source_is_a_french_error_with_its_line() {
    let copy = copy_of_repo();
    let src = copy.path().join(tp4::notebook::SOURCE);
    let mut s = std::fs::read_to_string(&src).unwrap();
    let lines = s.lines().count();
    s.push_str("<!-- cell:code -->\n```rust\n// SOLUTION BEGIN: écrivez x\nlet x = 1;\n```\n");
    std::fs::write(&src, s).unwrap();
    let o = tp4(&["notebook", "--racine", copy.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let msg = text(&o);
    assert!(msg.contains(&format!("ligne {}", lines + 3)), "{msg}");
    assert!(
        msg.contains("jamais fermé") && !msg.contains("panicked"),
        "{msg}"
    );
}
