//! `tp4 corriger`: grades a folder of student notebooks (see `tp4_grader` and
//! `docs/correction.md`). Parses the options, draws the progress bar naming the
//! student, and prints the summary table at the end.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The options of `tp4 corriger`.
#[derive(Debug, Args)]
pub struct GradeArgs {
    /// Dossier des copies : COPIES/eleve.ipynb, ou un dossier par élève
    /// (COPIES/eleve/tp4.ipynb, comme un export de Moodle).
    #[arg(value_name = "COPIES")]
    copies: PathBuf,
    /// Racine du dépôt tp4 (le dossier qui contient notebook/tp4.md) : les vérifications
    /// sont lues dans sa source, jamais dans les copies.
    #[arg(long, default_value = ".", value_name = "DOSSIER")]
    racine: PathBuf,
    /// Dossier de travail (crates générées, compilation partagée par la classe ; gardé
    /// d'une correction à l'autre). Par défaut : RACINE/target/tp4-corriger.
    #[arg(long, value_name = "DOSSIER")]
    travail: Option<PathBuf>,
    /// Temps réel maximal d'une question, en secondes.
    #[arg(long, default_value_t = 60, value_name = "S")]
    delai: u64,
    /// Temps CPU maximal d'une question (tous threads), en secondes.
    #[arg(long, default_value_t = 120, value_name = "S")]
    cpu: u64,
    /// Mémoire maximale d'une question (espace d'adressage), en Mio.
    #[arg(long, default_value_t = 4096, value_name = "MIO")]
    memoire: u64,
    /// Seulement ces questions (séparées par des virgules, par exemple 1.1,4.2).
    #[arg(long, value_delimiter = ',', value_name = "LISTE")]
    questions: Vec<String>,
    /// Compilations en parallèle (défaut : une par CPU).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
}

struct Bar(indicatif::ProgressBar);

impl tp4_grader::Progress for Bar {
    fn start(&mut self, len: u64, what: &str) {
        self.0.finish_and_clear();
        self.0 = tp4::progress::steps(len, what);
    }
    fn step(&mut self, student: &str) {
        self.0.set_message(student.to_string());
        if !student.starts_with("compilation") {
            self.0.inc(1);
        }
    }
}

/// Runs `tp4 corriger`.
pub fn run(args: GradeArgs, output: PathBuf) -> tp4::Result<ExitCode> {
    if !args.copies.is_dir() {
        return Err(tp4::Error::InvalidParameter(format!(
            "{} n'est pas un dossier : donnez le dossier des copies (un .ipynb par élève, ou un \
             dossier par élève)",
            args.copies.display()
        )));
    }
    let work = args
        .travail
        .unwrap_or_else(|| args.racine.join("target/tp4-corriger"));
    std::fs::create_dir_all(&output)
        .map_err(|e| tp4::Error::io("création du dossier", &output, e))?;
    let opts = tp4_grader::Options {
        root: args.racine,
        copies: args.copies,
        output: output.clone(),
        work,
        limits: tp4_grader::sandbox::Limits {
            wall: Duration::from_secs(args.delai.max(1)),
            cpu_seconds: args.cpu.max(1),
            memory_bytes: args.memoire.max(64) << 20,
            ..Default::default()
        },
        cargo_jobs: args.jobs,
        // `tp4` itself is a worker program for exercises 4 and 5.
        worker: std::env::var_os(tp4::procs::EXE_ENV)
            .map(PathBuf::from)
            .or_else(|| std::env::current_exe().ok()),
        questions: args.questions,
    };
    // Said before any student code runs, and again under the summary table.
    let iso = tp4_grader::sandbox::Isolation::probe(Vec::new(), Vec::new());
    if !iso.full {
        eprintln!("⚠ Isolation partielle : {}.", iso.note);
    }
    let mut bar = Bar(tp4::progress::hidden());
    let report = tp4_grader::grade(&opts, &mut bar)?;
    bar.0.finish_and_clear();
    println!("{:<24} {:>9}  ✅  ❌  ⏳  autres", "élève", "note");
    for r in &report.students {
        match &r.error {
            Some(e) => println!("{:<24} {:>9}  {e}", r.student, "—"),
            None => {
                let n = |o: tp4_grader::verdict::Outcome| {
                    r.questions.iter().filter(|q| q.outcome == o).count()
                };
                use tp4_grader::verdict::Outcome::*;
                let (p, f, d) = (n(Passed), n(Failed), n(NotDone));
                println!(
                    "{:<24} {:>9}  {p:>2}  {f:>2}  {d:>2}  {:>2}",
                    r.student,
                    format!("{}/{}", r.total, r.max),
                    r.questions.len() - p - f - d
                );
            }
        }
    }
    println!(
        "\n{} copies : compilation {:.0} s, vérifications {:.0} s. Résultats dans {} (notes.csv, \
         notes.jsonl, classe.md, reussite.svg, retours/).",
        report.students.len(),
        report.compile_seconds,
        report.run_seconds,
        output.display()
    );
    if !report.isolation_note.is_empty() {
        println!("⚠ Isolation partielle : {}.", report.isolation_note);
    }
    Ok(ExitCode::SUCCESS)
}
