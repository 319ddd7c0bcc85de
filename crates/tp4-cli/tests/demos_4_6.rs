//! The demonstrations of exercises 4 to 6 run through the real `tp4` command: they
//! succeed, print their French results and write their files (plots as PNG and SVG).

mod common;

/// Runs the demonstration of exercise `n`; returns its standard output.
fn run_exercise(n: u8, out: &std::path::Path) -> String {
    let o = common::tp4_in(&common::shipped_data(), out)
        .args(["exercice", &n.to_string()])
        .env("TP4_EXE", common::TP4)
        .output()
        .unwrap();
    let stdout = common::stdout(&o);
    assert!(
        o.status.success(),
        "exercice {n}: {stdout}\n{}",
        common::stderr(&o)
    );
    stdout
}

#[test]
fn exercises_4_to_6_run_and_write_their_files() {
    let dir = common::temp_dir();
    let out = dir.path();
    let s4 = run_exercise(4, out);
    assert!(
        s4.contains("Exercice 4 — Introduction au multiprocessing"),
        "{s4}"
    );
    assert!(
        s4.contains("Coût de démarrage") && s4.contains("Amdahl"),
        "{s4}"
    );
    assert!(s4.contains("✓ juste") && !s4.contains("FAUSSE"), "{s4}");
    let s5 = run_exercise(5, out);
    assert!(
        s5.contains("✓ détecté"),
        "the crash of the child is detected: {s5}"
    );
    assert!(s5.contains("✓ mêmes totaux au centime"), "{s5}");
    let s6 = run_exercise(6, out);
    assert!(
        s6.contains("⏱ délai de 300 ms dépassé") && s6.contains("Dépendances respectées"),
        "{s6}"
    );
    for f in [
        "ex4_amdahl.png",
        "ex4_amdahl.svg",
        "ex4_mesures.csv",
        "ex5_ipc.csv",
        "ex6_io.csv",
        "ex6_graphe_taches.png",
        "ex6_graphe_taches.svg",
    ] {
        let p = out.join(f);
        assert!(
            std::fs::metadata(&p)
                .map(|m| m.len() > 100)
                .unwrap_or(false),
            "{f} missing"
        );
    }
    let svg = std::fs::read_to_string(out.join("ex4_amdahl.svg")).unwrap();
    assert!(svg.contains("Amdahl") && svg.contains("ajusté"));
}
