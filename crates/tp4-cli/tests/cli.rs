//! Runs the real `tp4` binary on bad input and checks the exit code and the French
//! message: a student must learn what is wrong and how to fix it, never see a panic.

mod common;

use common::{assert_no_panic, shipped_data, stderr, stdout};

/// Runs `tp4 args…` to the end.
fn tp4(args: &[&str]) -> std::process::Output {
    common::run(args)
}

#[test]
fn env_reports_the_cpus_of_nproc() {
    let out = tempfile::tempdir().unwrap();
    let data = shipped_data();
    let o = tp4(&[
        "--data",
        data.to_str().unwrap(),
        "--output",
        out.path().to_str().unwrap(),
        "env",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let nproc = std::thread::available_parallelism().unwrap().get();
    let text = stdout(&o);
    let line = text
        .lines()
        .find(|l| l.contains("CPU utilisables par tp4"))
        .expect(&text);
    let n: usize = line
        .split(':')
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(n, nproc, "{text}");
    assert!(text.contains("Tout est prêt"), "{text}");
}

#[test]
fn env_fails_with_a_fix_when_data_is_missing() {
    let out = tempfile::tempdir().unwrap();
    let o = tp4(&[
        "--data",
        "/nonexistent/tp4",
        "--output",
        out.path().to_str().unwrap(),
        "env",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(
        text.contains("n'existe pas") && text.contains("donnees"),
        "{text}"
    );
    assert!(stderr(&o).contains("erreur : 1 problème"), "{}", stderr(&o));
}

#[test]
fn missing_data_file_says_how_to_generate_it() {
    let data = tempfile::tempdir().unwrap();
    std::fs::copy(
        shipped_data().join("corpus.txt"),
        data.path().join("corpus.txt"),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = tp4(&[
        "--data",
        data.path().to_str().unwrap(),
        "--output",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("transactions.csv") && err.contains("tp4 --data") && err.contains("donnees"),
        "{err}"
    );
    assert_no_panic(&o);
    // Nothing was run, so nothing was written.
    assert_eq!(
        std::fs::read_dir(out.path())
            .unwrap()
            .filter(|e| !e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.'))
            .count(),
        0
    );
}

#[test]
fn malformed_row_names_file_line_and_field() {
    let data = tempfile::tempdir().unwrap();
    std::fs::copy(
        shipped_data().join("corpus.txt"),
        data.path().join("corpus.txt"),
    )
    .unwrap();
    let csv = std::fs::read_to_string(shipped_data().join("transactions.csv")).unwrap();
    let mut lines: Vec<String> = csv.lines().map(String::from).collect();
    lines[41] = lines[41].replace(".", ",");
    std::fs::write(
        data.path().join("transactions.csv"),
        lines.join("\n") + "\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = tp4(&[
        "--data",
        data.path().to_str().unwrap(),
        "--output",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("transactions.csv") && err.contains("ligne 42"),
        "{err}"
    );
    assert_no_panic(&o);
}

#[test]
fn zero_and_absurd_sizes_are_refused() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap();
    for args in [
        ["--lignes", "0", "--mo", "1"],
        ["--lignes", "10", "--mo", "0"],
        ["--lignes", "10", "--mo", "99999999999"],
    ] {
        let mut all = vec!["--data", d, "donnees"];
        all.extend(args);
        let o = tp4(&all);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(stderr(&o).contains("paramètre invalide"), "{}", stderr(&o));
        assert_no_panic(&o);
    }
    let o = tp4(&["--data", d, "donnees", "--lignes", "dix"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("valeur invalide"), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 0);
}

#[test]
fn unwritable_output_is_reported_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("un-fichier");
    std::fs::write(&file, "x").unwrap();
    let out = file.join("sorties");
    let data = shipped_data();
    let o = tp4(&[
        "--data",
        data.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("n'est pas accessible en écriture") && err.contains("--output"),
        "{err}"
    );
    // Reported before any work: no table was printed.
    assert!(
        !stdout(&o).contains("Charges de référence"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn unknown_exercise_and_help_are_french() {
    let o = tp4(&["exercice", "9"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("erreur"), "{}", stderr(&o));
    let o = tp4(&["--help"]);
    assert!(o.status.success());
    let help = stdout(&o);
    assert!(
        help.contains("Utilisation") && help.contains("Commandes") && help.contains("donnees"),
        "{help}"
    );
}

#[test]
fn donnees_generates_the_shipped_files_atomically() {
    let data = tempfile::tempdir().unwrap();
    let o = tp4(&[
        "--data",
        data.path().to_str().unwrap(),
        "donnees",
        "--lignes",
        "10000",
        "--mo",
        "1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for name in ["transactions.csv", "corpus.txt"] {
        let ours = std::fs::read(data.path().join(name)).unwrap();
        let shipped = std::fs::read(shipped_data().join(name)).unwrap();
        assert!(ours == shipped, "{name}");
    }
    // No temporary file left behind.
    assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 2);
}
