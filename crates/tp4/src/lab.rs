//! The whole lab, headless: what `tp4` (and `cargo run --release`) runs with no
//! subcommand. It checks the environment, runs every reference workload at a small
//! size, sequentially and in parallel, then every exercise demonstration, and writes
//! `resultats.csv`, `resultats.json`, the plots and `rapport.md` into the output
//! directory.

pub use crate::context::Context;
use crate::environment;
use crate::error::{Error, Result};
use crate::measure::{Measurement, Plan};
use crate::output::{self, Section};
use crate::results;
use crate::run::{self, Case, Inputs};
use crate::workloads::Workload;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The small sizes of the default run: the whole lab must finish in about a minute
/// on a 2-core machine. `tp4 bench` uses the full sizes of workloads.md.
pub fn quick_size(w: Workload) -> u64 {
    match w {
        Workload::Primes => 1_000_000,
        Workload::Pi => 5_000_000,
        Workload::Sumsq => 10_000_000,
        Workload::Ipc => 200_000,
        Workload::Io => 100,
        // W4 and W7 read the shipped files whatever the size.
        Workload::Groupby | Workload::Wordcount => 0,
    }
}

/// The cases of the default run: each strategy on each worker count (once for the
/// sequential ones; W6 with C = 10 concurrent tasks; W5 with its two threads).
pub fn quick_cases(workers: &[usize]) -> Vec<Case> {
    let mut cases = Vec::new();
    for w in Workload::ALL {
        for s in run::runnable_strategies(w) {
            let counts: Vec<usize> = if run::is_sequential(s) {
                vec![1]
            } else if w == Workload::Io {
                vec![10]
            } else if w == Workload::Ipc {
                vec![2]
            } else {
                workers.to_vec()
            };
            for n in counts {
                cases.push(Case {
                    workload: w,
                    strategy: s.to_string(),
                    workers: n,
                    size: quick_size(w),
                });
            }
        }
    }
    cases
}

/// Runs the reference workloads at small sizes; returns the measurements and the
/// report section (table and speedup plot).
pub fn run_workloads(ctx: &Context) -> Result<(Vec<Measurement>, Section)> {
    let cases = quick_cases(&ctx.workers);
    let bar = ctx.steps(cases.len() as u64, "charges de référence W1–W7");
    let mut inputs = Inputs::from_data_dir(&ctx.data);
    let mut all = Vec::new();
    for case in &cases {
        bar.set_message(format!(
            "{} {} ×{}",
            case.workload.name(),
            case.strategy,
            case.workers
        ));
        // The simulated I/O waits for real: fewer repetitions keep the run short.
        let plan = if case.workload == Workload::Io {
            Plan {
                warmup: 0,
                repetitions: 3,
            }
        } else {
            Plan {
                warmup: 1,
                repetitions: 3,
            }
        };
        let m = run::run_case(case, plan, &mut inputs)?;
        all.push(m);
        bar.inc(1);
    }
    bar.finish_and_clear();

    write_results(ctx, &all)?;
    let plot = results::speedup_plot(
        &all,
        "rayon",
        &["primes", "pi", "sumsq", "groupby", "wordcount"],
        "Accélération avec rayon (tailles réduites)",
        &ctx.output,
        "acceleration",
    )?;

    let mut section = Section::new("Charges de référence W1–W7");
    section.text(
        "Chaque charge de `workloads.md` est exécutée à taille réduite, en séquentiel puis en \
         parallèle, et sa réponse est vérifiée à chaque fois. Temps : médiane de 3 mesures après \
         un échauffement. Accélération = temps séquentiel / temps ; efficacité = accélération / workers.",
    );
    section.text(results::markdown_table(&all));
    section.image("Accélération par charge", "acceleration.png");
    section.text(
        "Sur une machine à 2 cœurs l'accélération plafonne à 2. W1 et W2 (calcul pur) s'en \
         approchent ; W3 est limitée par la bande passante mémoire, pas par les cœurs ; W4 et W7 \
         lisent ici de petits fichiers, où le coût de démarrage des threads pèse. Pour W3, \
         `rayon` utilise le noyau vectorisé de `seq-simd` : comparez-le à `seq-simd` pour \
         voir l'effet des cœurs seuls. Lancez `tp4 bench` pour les tailles complètes.",
    );
    section.file("resultats.csv");
    section.file("resultats.json");
    for f in plot {
        section.file(f);
    }
    Ok((all, section))
}

/// Writes `resultats.csv` (the rows of `tp4 bench`: answer as JSON text, speedup,
/// efficiency; a whole answer such as W4's or W7's is an object, which a CSV cell can
/// only hold as text) and `resultats.json` (one JSON line per measurement).
fn write_results(ctx: &Context, all: &[Measurement]) -> Result<()> {
    output::write_csv(&ctx.out("resultats.csv"), &crate::bench::csv_rows(all))?;
    output::write_json_lines(&ctx.out("resultats.json"), all)
}

/// What the default run produced.
#[derive(Debug)]
pub struct LabSummary {
    /// Every measurement of the reference workloads.
    pub measurements: Vec<Measurement>,
    /// The report sections, in order.
    pub sections: Vec<Section>,
    /// Wall time of the whole run in seconds.
    pub seconds: f64,
    /// Path of `rapport.md`.
    pub report: PathBuf,
}

/// Runs the whole lab: environment, reference workloads, exercise demonstrations,
/// report. Prints as it goes (French); returns what was produced.
pub fn run_all(ctx: &Context) -> Result<LabSummary> {
    ctx.preflight()?;
    run_checked(ctx)
}

/// [`run_all`] once the data and the output folder have been checked.
fn run_checked(ctx: &Context) -> Result<LabSummary> {
    let start = Instant::now();
    let env = environment::inspect(&ctx.data, &ctx.output);
    println!("TP4 : fondamentaux du calcul parallèle et distribué\n");
    println!("Environnement : {}", env.summary());
    println!(
        "Données : {}   Sorties : {}\n",
        ctx.data.display(),
        ctx.shown_output().display()
    );

    let (measurements, section) = run_workloads(ctx)?;
    println!("Charges de référence (tailles réduites, médiane de 3 mesures)");
    println!("{}\n", results::terminal_table(&measurements));
    let mut sections = vec![section];

    for exercise in &crate::exercises::ALL {
        println!("── {} ──", exercise.title);
        let s = (exercise.demo)(ctx)?;
        sections.push(s);
        println!();
    }

    let seconds = start.elapsed().as_secs_f64();
    let report = ctx.out("rapport.md");
    let preamble = format!(
        "Rapport généré par `tp4` en {}.\n\nEnvironnement : {}.",
        crate::measure::human_seconds(seconds),
        env.summary()
    );
    output::write_report(&report, "Rapport du TP4", &preamble, &sections)?;
    Ok(LabSummary {
        measurements,
        sections,
        seconds,
        report,
    })
}

/// [`run_all`] with its files written as one set: the run writes into a hidden
/// staging folder inside the output folder (`.tp4-tp-PID.tmp`), and only a run that
/// completed moves its files into place, at the end, by renames. A failed or
/// interrupted run leaves the previous run's files as they were, never a `rapport.md`
/// of one run beside CSV files of another; its staging folder is removed (by the
/// interrupt handler, or at the next run if the process was killed).
pub fn run_all_staged(ctx: &Context) -> Result<LabSummary> {
    // Bad data is reported before the output folder is created or locked; the
    // lock (which creates the folder) keeps a second run from interleaving.
    ctx.check_data()?;
    let _lock = output::lock_dir(&ctx.output)?;
    let staging = output::ScratchDir::new(&ctx.output, "tp")?;
    let dir = staging.path().to_path_buf();
    let mut staged = ctx.clone();
    staged.output = dir.clone();
    staged.shown_output = Some(ctx.output.clone());
    let mut summary = run_checked(&staged)?;
    let entries = std::fs::read_dir(&dir).map_err(|e| Error::io("lecture de", &dir, e))?;
    for entry in entries.flatten() {
        let to = ctx.output.join(entry.file_name());
        std::fs::rename(entry.path(), &to).map_err(|e| Error::io("écriture de", &to, e))?;
    }
    drop(staging);
    summary.report = ctx.output.join("rapport.md");
    for s in &mut summary.sections {
        for f in &mut s.files {
            if let Ok(name) = f.strip_prefix(&dir) {
                *f = name.to_path_buf();
            }
        }
    }
    Ok(summary)
}

/// Lists the files of the output directory that the run wrote, for the final message.
pub fn written_files(ctx: &Context, summary: &LabSummary) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = summary
        .sections
        .iter()
        .flat_map(|s| s.files.iter())
        .map(|f| {
            if f.exists() {
                f.clone()
            } else {
                ctx.output.join(f)
            }
        })
        .collect();
    files.push(summary.report.clone());
    files.sort();
    files.dedup();
    files.retain(|f| f.exists());
    files
}

/// Convenience for tests and the notebook: the default context on given folders,
/// without progress bars and with workers 1 and 2 (see [`Context::quiet`]).
pub fn quiet_context(data: &Path, output: &Path) -> Context {
    Context::quiet(data, output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measurement(workload: &str, strategy: &str, answer: serde_json::Value) -> Measurement {
        Measurement {
            workload: workload.into(),
            strategy: strategy.into(),
            workers: 1,
            size: 10,
            seconds: 0.5,
            min: 0.4,
            max: 0.6,
            runs: 3,
            answer,
            ok: true,
            peak_heap_bytes: None,
            cpu_seconds: None,
        }
    }

    /// The main job's CSV holds whole answers (W4 and W7 answers are JSON objects, as
    /// `workloads.md` asks): a CSV writer given the objects themselves fails ("serializing
    /// maps is not supported", seen in CI).
    #[test]
    fn results_hold_whole_answers() {
        let out = tempfile::tempdir().unwrap();
        let ctx = quiet_context(Path::new("data"), out.path());
        let top = serde_json::json!({"categories": {"sport": {"total_cents": 120, "rows": 2}}});
        let all = vec![
            measurement("primes", "seq", serde_json::json!(148_933)),
            measurement("groupby", "seq", top.clone()),
        ];
        write_results(&ctx, &all).unwrap();
        let mut reader = csv::Reader::from_path(out.path().join("resultats.csv")).unwrap();
        let headers = reader.headers().unwrap().clone();
        let answer = headers.iter().position(|h| h == "answer").unwrap();
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 2);
        let groupby = rows.iter().find(|r| &r[0] == "groupby").unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&groupby[answer]).unwrap();
        assert_eq!(parsed, top);
        let json = std::fs::read_to_string(out.path().join("resultats.json")).unwrap();
        assert_eq!(json.lines().count(), 2);
    }
}
