//! `tp4 corriger` as a teacher runs it, on a small class generated from the real
//! notebooks: the corrected notebook (full marks), the untouched student notebook
//! (zero), a tampered one (wrong answer, compile error, edited check, call to a
//! private reference solution, reordered and deleted cells, in an LMS-style folder),
//! a hostile one (infinite loop, runaway memory, reading another submission, network,
//! fork bomb, background process, huge file, abort) and malformed files.
//!
//! The first run compiles `tp4` and its dependencies for the class (minutes); the
//! work folder is kept under the target dir, so later runs only recompile what
//! changed.

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use tp4_grader::verdict::Outcome;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn notebook(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join(rel)).unwrap()).unwrap()
}

fn source(cell: &Value) -> String {
    match &cell["source"] {
        Value::Array(l) => l.iter().filter_map(Value::as_str).collect(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

/// Index of the code cell defining `fn name(`.
fn cell_of(nb: &Value, name: &str) -> usize {
    let pat = format!("fn {name}(");
    nb["cells"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| source(c).contains(&pat))
        .unwrap_or_else(|| panic!("{pat} introuvable"))
}

/// Replaces the answer function `name` in its cell by `code` (the check line stays).
fn set_answer(nb: &mut Value, name: &str, code: &str) {
    let i = cell_of(nb, name);
    let src = source(&nb["cells"][i]);
    let check = src
        .find(tp4::notebook::CHECK_COMMENT)
        .map_or(String::new(), |k| src[k..].to_string());
    nb["cells"][i]["source"] = Value::String(format!("{code}\n\n{check}"));
}

/// Inserts `code` at the start of the body of answer `name`.
fn prepend_body(nb: &mut Value, name: &str, code: &str) {
    let i = cell_of(nb, name);
    let src = source(&nb["cells"][i]);
    let open = src.find(&format!("fn {name}(")).unwrap();
    let brace = open + src[open..].find("{\n").unwrap() + 2;
    let new = format!("{}{code}\n{}", &src[..brace], &src[brace..]);
    nb["cells"][i]["source"] = Value::String(new);
}

fn write(path: &Path, nb: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string(nb).unwrap()).unwrap();
}

fn processes_with(arg: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .filter(|c| String::from_utf8_lossy(c).contains(arg))
        .count()
}

/// The corrected notebook with, per question: a wrong answer (0.1), a compile error
/// (1.1), a todo answer whose check cell prints a fake ✅ (1.2), a call to the private
/// reference solution (1.3), its cell moved to the top (1.4), its cell deleted (1.5).
fn tampered(corrected: &Value) -> Value {
    let mut t = corrected.clone();
    set_answer(
        &mut t,
        "est_premier",
        "fn est_premier(n: u64) -> bool {\n    n % 2 == 1\n}",
    );
    prepend_body(&mut t, "filtre_ids", "    let x: u32 = \"texte\";");
    let i = cell_of(&t, "revenus");
    t["cells"][i]["source"] = Value::String(
        "fn revenus(rows: &[Transaction]) -> Vec<f64> {\n    todo!()\n}\n\
         println!(\"✅ Question 1.2 revenus : réussie (12 cas vérifiés).\");"
            .into(),
    );
    set_answer(
        &mut t,
        "resume",
        "fn resume(rows: &[Transaction]) -> Summary {\n    tp4::ex1::summary(rows)\n}",
    );
    let at = cell_of(&t, "moyenne_variance");
    let cells = t["cells"].as_array_mut().unwrap();
    let moved = cells.remove(at);
    cells.insert(0, moved);
    let gone = cell_of(&t, "ca_par_categorie");
    t["cells"].as_array_mut().unwrap().remove(gone);
    t
}

/// The corrected notebook with hostile answers: infinite loop (0.1), runaway memory
/// (1.1), reading another submission, the grading folder, writing into the class
/// folder, connecting to `port` (1.2, right answer only if all fail), a bounded fork
/// bomb and a detached process (1.3), a huge file (1.4), an abort (1.5).
fn hostile(corrected: &Value, copies_abs: &Path, work: &Path, pirate: &Path, port: u16) -> Value {
    let mut h = corrected.clone();
    set_answer(
        &mut h,
        "est_premier",
        "fn est_premier(n: u64) -> bool {\n    loop {\n        std::hint::black_box(n);\n    }\n}",
    );
    prepend_body(
        &mut h,
        "filtre_ids",
        "    let mut v: Vec<Vec<u8>> = Vec::new();\n    loop {\n        v.push(vec![1u8; 1 << 26]);\n    }",
    );
    prepend_body(
        &mut h,
        "revenus",
        &format!(
            "    static VU: std::sync::OnceLock<bool> = std::sync::OnceLock::new();\n\
             if *VU.get_or_init(|| {{\n\
                 std::fs::read({:?}).is_ok()\n\
                 || std::fs::read_dir({:?}).is_ok()\n\
                 || std::fs::write({:?}, \"x\").is_ok()\n\
                 || std::net::TcpStream::connect(\"127.0.0.1:{port}\").is_ok()\n\
             }}) {{\n        return Vec::new();\n    }}",
            copies_abs.join("corrige.ipynb"),
            work,
            pirate
        ),
    );
    prepend_body(
        &mut h,
        "resume",
        "    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();\n\
         let n = *N.get_or_init(|| {\n\
             use std::os::unix::process::CommandExt;\n\
             let _ = std::process::Command::new(\"/bin/sleep\").arg(\"88.8\").process_group(0).spawn();\n\
             (0..400).take_while(|_| std::process::Command::new(\"/bin/sleep\").arg(\"77.7\").spawn().map(std::mem::forget).is_ok()).count()\n\
         });\n\
         if n >= 400 {\n        return Summary::default();\n    }",
    );
    prepend_body(
        &mut h,
        "moyenne_variance",
        "    let _ = std::fs::write(\"gros.bin\", vec![0u8; 200 << 20]);",
    );
    prepend_body(&mut h, "ca_par_categorie", "    std::process::abort();");
    h
}

#[test]
fn a_generated_class_gets_the_expected_verdicts_and_the_protections_hold() {
    let target = Path::new(env!("CARGO_BIN_EXE_tp4"))
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let work = target.join("tp4-corriger-test");
    let dir = tempfile::tempdir().unwrap();
    let copies = dir.path().join("COPIES");
    let out = dir.path().join("notes");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let copies_abs = std::fs::canonicalize(dir.path()).unwrap().join("COPIES");
    let pirate = copies_abs.join("pirate.txt");

    let corrected = notebook("corrige/tp4.ipynb");
    write(&copies.join("corrige.ipynb"), &corrected);
    write(&copies.join("modele.ipynb"), &notebook("tp4.ipynb"));

    write(&copies.join("martin/tp4.ipynb"), &tampered(&corrected));

    let h = hostile(&corrected, &copies_abs, &work, &pirate, port);
    write(&copies.join("hostile.ipynb"), &h);

    // Malformed.
    std::fs::write(copies.join("vide.ipynb"), "").unwrap();
    std::fs::write(copies.join("pas-json.ipynb"), "ceci n'est pas du JSON").unwrap();
    let py = serde_json::json!({"cells": [], "metadata": {"kernelspec": {"language": "python"}}, "nbformat": 4});
    write(&copies.join("python.ipynb"), &py);
    let other = serde_json::json!({"cells": [{"cell_type": "code", "source": "fn autre_tp() {}", "metadata": {}}], "metadata": {}, "nbformat": 4});
    write(&copies.join("autre-tp.ipynb"), &other);

    let run = grade_class(&copies, &out, &work, None);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    check_outputs(&out, &stdout, &pirate);

    // The same class on the path of a teacher without root (forced by the seam):
    // the compilation is reused, only the runs differ.
    let partial_out = dir.path().join("notes-sans-root");
    let run = grade_class(&copies, &partial_out, &work, Some("partielle"));
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}\n{stderr}");
    check_partial(&out, &partial_out, &stdout, &stderr);

    // As root on a kernel that refuses namespaces (forced by the seam): the runs
    // still take the dedicated uid.
    if is_root() {
        let uid_out = dir.path().join("notes-sans-espaces");
        let run = grade_class(&copies, &uid_out, &work, Some("sans-espaces"));
        let stdout = String::from_utf8_lossy(&run.stdout);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{stdout}\n{stderr}");
        check_without_namespaces(&out, &uid_out, &stdout, &stderr, &pirate);
    }
    drop(listener);
}

/// Grades the class folder `copies` into `out` (reusing the compilation in `work`),
/// with the isolation seam `seam` when given.
fn grade_class(copies: &Path, out: &Path, work: &Path, seam: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tp4"));
    if let Some(v) = seam {
        cmd.env(tp4_grader::sandbox::ISOLATION_ENV, v);
    }
    cmd.args(["corriger"])
        .arg(copies)
        .arg("--output")
        .arg(out)
        .arg("--racine")
        .arg(root())
        .arg("--travail")
        .arg(work)
        .args([
            "--questions",
            "0.1,1.1,1.2,1.3,1.4,1.5",
            "--delai",
            "10",
            "--memoire",
            "1024",
        ])
        .output()
        .unwrap()
}

/// Whether the tests run as root (the real uid, as the grader sees it).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
}

/// The warning « ⚠ Isolation partielle » is in both texts (before the runs and under
/// the table) and names each of `parts`; the ordinary copies get the verdicts of
/// the isolated run; returns the outcomes of `out`.
fn same_as_isolated<'a>(
    texts: [&str; 2],
    parts: impl Iterator<Item = &'a &'a str> + Clone,
    full_out: &Path,
    out: &Path,
) -> HashMap<String, Vec<(String, Outcome)>> {
    for text in texts {
        assert!(text.contains("⚠ Isolation partielle"), "{text}");
        for part in parts.clone() {
            assert!(text.contains(part), "« {part} » absent : {text}");
        }
    }
    let (full, got) = (outcomes(full_out), outcomes(out));
    for student in ["corrige", "modele", "martin", "vide", "pas-json"] {
        assert_eq!(full[student], got[student], "{student}");
    }
    got
}

/// Root without namespaces: the note says what is missing and that the dedicated
/// uid holds; verdicts of the ordinary copies are those of the isolated run; the
/// hostile copy meets the limits, its fork bomb is capped (the dedicated uid has
/// its own process count), nothing of it is left, it cannot write into the class
/// folder; only the network is open (1.2 reaches the listener).
fn check_without_namespaces(
    full_out: &Path,
    out: &Path,
    stdout: &str,
    stderr: &str,
    pirate: &Path,
) {
    println!("── root sans espaces de noms\n{stderr}\n{stdout}");
    let parts = tp4_grader::sandbox::MISSING_WITHOUT_NAMESPACES
        .iter()
        .chain(&tp4_grader::sandbox::KEPT_WITHOUT_NAMESPACES);
    let got = same_as_isolated([stdout, stderr], parts, full_out, out);
    let said = std::fs::read_to_string(out.join("retours/martin.md")).unwrap();
    assert!(!said.contains("en plus des vôtres"), "{said}");
    let x = |q: &str| got["hostile"].iter().find(|(id, _)| id == q).unwrap().1;
    assert_eq!(x("0.1"), Outcome::Timeout);
    assert_eq!(x("1.1"), Outcome::Memory);
    assert_eq!(x("1.2"), Outcome::Failed);
    assert_eq!(x("1.3"), Outcome::Passed);
    assert_eq!(x("1.4"), Outcome::Panic);
    assert_eq!(x("1.5"), Outcome::Panic);
    assert!(
        !pirate.exists(),
        "la copie a écrit dans le dossier des copies"
    );
    for arg in ["77.7", "88.8"] {
        assert_eq!(processes_with(arg), 0, "sleep {arg} left behind");
    }
    assert_eq!(
        tp4_grader::sandbox::processes_of(tp4_grader::sandbox::SANDBOX_UID),
        0
    );
}

fn outcomes(out: &Path) -> HashMap<String, Vec<(String, Outcome)>> {
    std::fs::read_to_string(out.join("notes.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let qs = v["questions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| {
                    (
                        q["question"].as_str().unwrap().to_string(),
                        serde_json::from_value(q["outcome"].clone()).unwrap(),
                    )
                })
                .collect();
            (v["student"].as_str().unwrap().to_string(), qs)
        })
        .collect()
}

/// Without namespaces nor a uid of its own, the verdicts of the ordinary copies
/// are those of the isolated run, the warning says what is missing and what holds
/// (before the runs and under the table), and against the hostile copy the limits,
/// the group kill and the orphan sweep still hold; reading another submission is
/// the documented gap.
fn check_partial(full_out: &Path, out: &Path, stdout: &str, stderr: &str) {
    println!("── sans root\n{stderr}\n{stdout}");
    let parts = tp4_grader::sandbox::MISSING_WITHOUT_ROOT
        .iter()
        .chain(&tp4_grader::sandbox::KEPT_WITHOUT_ROOT);
    let partial = same_as_isolated([stdout, stderr], parts, full_out, out);
    // The feedback says the process limit comes on top of the teacher's own tasks
    // (the uid is the teacher's), and only on this path.
    let said = |dir: &Path| std::fs::read_to_string(dir.join("retours/martin.md")).unwrap();
    assert!(said(out).contains("processus et threads en plus des vôtres"));
    assert!(!said(full_out).contains("en plus des vôtres"));
    let x = |q: &str| partial["hostile"].iter().find(|(id, _)| id == q).unwrap().1;
    assert_eq!(x("0.1"), Outcome::Timeout);
    assert_eq!(x("1.1"), Outcome::Memory);
    assert_eq!(x("1.4"), Outcome::Panic);
    assert_eq!(x("1.5"), Outcome::Panic);
    // The gap: another submission is readable, so the hostile answer gives up.
    assert_eq!(x("1.2"), Outcome::Failed);
    if !is_root() {
        // The fork bomb is capped (the kernel exempts root from RLIMIT_NPROC).
        assert_eq!(x("1.3"), Outcome::Passed);
    }
    for arg in ["77.7", "88.8"] {
        assert_eq!(processes_with(arg), 0, "sleep {arg} left behind");
    }
}

fn check_outputs(out: &Path, stdout: &str, pirate: &Path) {
    // Shown with --nocapture: what a teacher reads.
    println!("{stdout}");
    for f in ["notes.csv", "retours/hostile.md"] {
        println!(
            "── {f}\n{}",
            std::fs::read_to_string(out.join(f)).unwrap_or_default()
        );
    }
    let reports: HashMap<String, Value> = std::fs::read_to_string(out.join("notes.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["student"].as_str().unwrap().to_string(), v)
        })
        .collect();
    let outcome = |student: &str, q: &str| -> (Outcome, String) {
        let r = &reports[student];
        let x = r["questions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["question"] == q)
            .unwrap_or_else(|| panic!("{student} {q} : {r}"));
        (
            serde_json::from_value(x["outcome"].clone()).unwrap(),
            x["message"].as_str().unwrap().to_string(),
        )
    };
    let qs = ["0.1", "1.1", "1.2", "1.3", "1.4", "1.5"];
    for q in qs {
        assert_eq!(
            outcome("corrige", q).0,
            Outcome::Passed,
            "{:?}",
            outcome("corrige", q)
        );
        assert_eq!(
            outcome("modele", q).0,
            Outcome::NotDone,
            "{:?}",
            outcome("modele", q)
        );
    }
    assert_eq!(reports["corrige"]["total"], 6.0);
    assert_eq!(reports["modele"]["total"], 0.0);

    let m = |q| outcome("martin", q);
    assert_eq!(m("0.1").0, Outcome::Failed, "{:?}", m("0.1"));
    assert_eq!(m("1.1").0, Outcome::CompileError, "{:?}", m("1.1"));
    assert!(m("1.1").1.contains("mismatched types"), "{:?}", m("1.1"));
    assert_eq!(m("1.2").0, Outcome::NotDone, "{:?}", m("1.2"));
    assert_eq!(m("1.3").0, Outcome::CompileError, "{:?}", m("1.3"));
    assert!(m("1.3").1.contains("private"), "{:?}", m("1.3"));
    assert_eq!(m("1.4").0, Outcome::Passed, "{:?}", m("1.4"));
    assert_eq!(m("1.5").0, Outcome::Missing, "{:?}", m("1.5"));

    let full = tp4_grader::sandbox::Isolation::probe(Vec::new(), Vec::new()).full;
    let x = |q| outcome("hostile", q);
    assert_eq!(x("0.1").0, Outcome::Timeout, "{:?}", x("0.1"));
    assert_eq!(x("1.1").0, Outcome::Memory, "{:?}", x("1.1"));
    assert_eq!(x("1.4").0, Outcome::Panic, "{:?}", x("1.4"));
    assert!(x("1.4").1.contains("fichier"), "{:?}", x("1.4"));
    assert_eq!(x("1.5").0, Outcome::Panic, "{:?}", x("1.5"));
    assert!(
        !pirate.exists(),
        "la copie a écrit dans le dossier des copies"
    );
    assert_eq!(
        processes_with("77.7"),
        0,
        "des processus de la copie restent"
    );
    if full {
        // No file of another submission, no grading folder, no network, no fork bomb.
        assert_eq!(x("1.2").0, Outcome::Passed, "{:?}", x("1.2"));
        assert_eq!(x("1.3").0, Outcome::Passed, "{:?}", x("1.3"));
        assert_eq!(processes_with("88.8"), 0, "un processus détaché reste");
        assert_eq!(
            tp4_grader::sandbox::processes_of(tp4_grader::sandbox::SANDBOX_UID),
            0
        );
    } else {
        assert!(stdout.contains("Isolation partielle"), "{stdout}");
    }

    for (student, word) in [
        ("vide", "vide"),
        ("pas-json", "JSON"),
        ("python", "python"),
        ("autre-tp", "autre TP"),
    ] {
        let e = reports[student]["error"].as_str().unwrap_or("");
        assert!(e.contains(word), "{student} : {e}");
    }

    let csv = std::fs::read_to_string(out.join("notes.csv")).unwrap();
    assert!(
        csv.starts_with("eleve,0.1,1.1,1.2,1.3,1.4,1.5,total,sur,erreur\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1 + 8);
    assert!(csv.contains("corrige,✅,✅,✅,✅,✅,✅,6,6,"), "{csv}");
    let feedback = std::fs::read_to_string(out.join("retours/martin.md")).unwrap();
    assert!(feedback.contains("erreur de compilation") && feedback.contains("absente"));
    assert!(feedback.contains("s de temps réel"), "{feedback}");
    let class = std::fs::read_to_string(out.join("classe.md")).unwrap();
    assert!(class.contains("Échecs les plus fréquents"), "{class}");
    // 4 graded copies, 9 points: the mean with a French decimal comma.
    assert!(class.contains("moyenne 2,"), "{class}");
    assert!(out.join("reussite.svg").is_file() && out.join("reussite.png").is_file());
}

/// The 30-submission benchmark of issue 27 (minutes: run it on purpose with
/// `cargo test --release -p tp4-cli --test corriger -- --ignored --nocapture`).
/// Every question of the notebook; 6 right answers, 6 untouched templates, 6 with
/// wrong answers, 6 with compile errors, 6 with infinite loops. Each right-based
/// submission differs by a comment, so that it compiles on its own like a real one.
#[test]
#[ignore]
fn benchmark_a_class_of_30() {
    let target = Path::new(env!("CARGO_BIN_EXE_tp4"))
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let work = target.join("tp4-corriger-bench");
    let dir = tempfile::tempdir().unwrap();
    let copies = dir.path().join("COPIES");
    let corrected = notebook("corrige/tp4.ipynb");
    let template = notebook("tp4.ipynb");
    let tag =
        |nb: &mut Value, k: usize| prepend_body(nb, "est_premier", &format!("    // copie {k}"));
    for k in 0..6 {
        let mut right = corrected.clone();
        tag(&mut right, k);
        write(&copies.join(format!("juste-{k}.ipynb")), &right);
        write(&copies.join(format!("modele-{k}.ipynb")), &template);
        let mut wrong = corrected.clone();
        tag(&mut wrong, 10 + k);
        set_answer(&mut wrong, "revenus", "fn revenus(rows: &[Transaction]) -> Vec<f64> {\n    rows.iter().map(|t| t.amount).collect()\n}");
        set_answer(
            &mut wrong,
            "moyenne_variance",
            "fn moyenne_variance(xs: &[f64]) -> Option<(f64, f64)> {\n    None\n}",
        );
        write(&copies.join(format!("faux-{k}.ipynb")), &wrong);
        let mut broken = corrected.clone();
        tag(&mut broken, 20 + k);
        prepend_body(&mut broken, "filtre_ids", "    let x: u32 = \"texte\";");
        prepend_body(&mut broken, "appliquer_n", "    let y = inconnue;");
        write(&copies.join(format!("compile-{k}.ipynb")), &broken);
        let mut slow = corrected.clone();
        tag(&mut slow, 30 + k);
        set_answer(&mut slow, "resume", "fn resume(rows: &[Transaction]) -> Summary {\n    loop {\n        std::hint::black_box(rows);\n    }\n}");
        write(&copies.join(format!("boucle-{k}.ipynb")), &slow);
    }
    let out = dir.path().join("notes");
    let t0 = std::time::Instant::now();
    let run = Command::new(env!("CARGO_BIN_EXE_tp4"))
        .arg("corriger")
        .arg(&copies)
        .arg("--output")
        .arg(&out)
        .arg("--racine")
        .arg(root())
        .arg("--travail")
        .arg(&work)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    println!(
        "{stdout}\n30 copies corrigées en {:.0} s",
        t0.elapsed().as_secs_f64()
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let csv = std::fs::read_to_string(out.join("notes.csv")).unwrap();
    assert_eq!(csv.lines().count(), 31, "{csv}");
    for line in csv.lines().filter(|l| l.starts_with("modele-")) {
        assert!(line.contains(",0,"), "{line}");
    }
    for line in csv.lines().filter(|l| l.starts_with("compile-")) {
        assert!(line.contains("erreur de compilation"), "{line}");
    }
    for line in csv.lines().filter(|l| l.starts_with("boucle-")) {
        assert!(line.contains("délai dépassé"), "{line}");
    }
}
