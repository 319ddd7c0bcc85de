//! `tp4 bench`: the benchmark suite of the lab. It measures the reference workloads
//! W1–W7 of `workloads.md` with every strategy of [`Workload::strategies`] on a list
//! of worker counts, at the full default sizes, and reports what students learn
//! from: median wall time after a warm-up, min–max spread, speedup against `seq`,
//! efficiency (speedup / workers) and peak heap.
//!
//! Every measurement goes through [`run::measure_case`], which checks the answer of
//! every run (warm-up included) and stops a case at its first wrong answer: the
//! case is reported with `"ok": false` (JSON line, CSV, table, plot) and the other
//! cases are still measured; a case that fails without an answer (a file changed
//! during the read, a process that failed) is reported on stderr and the other
//! cases of its workload are skipped. The run then ends with an error (exit 1)
//! that lists every failure ([`Error::BenchFailed`]).
//! Options are validated by [`plan`] before any work starts. W4 and W7 read files of
//! the full size (50 MB, 100 MB), generated on demand, deterministically, into
//! `<data>/bench/` (the size is in the file name, so they are reused next time).
//!
//! Outputs: the French table on stdout, `bench.csv` and `bench.json` (the JSON lines
//! of `workloads.md`), and plots (PNG + SVG) in the output directory. With `--json`
//! stdout carries the JSON lines only, one per measurement, as they are measured.
//! Each JSON line of `tp4 bench` ends with `"simd"`, the vector level the kernels
//! ran at ([`crate::cpu::level`]: `"avx2+bmi2"`, `"sse2"`, `"scalaire"`…, lowered
//! with `TP4_SIMD`), so that two runs can be compared knowing which path ran.

use crate::alloc::human_bytes;
use crate::error::{Error, Result};
use crate::measure::{human_ratio, human_seconds, Measurement, Plan};
use crate::plot::{BarChart, LineChart, Series};
use crate::run::{self, Case, Inputs};
use crate::workloads::{io, Workload};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A JSON line of `tp4 bench`: the measurement's keys (workloads.md), then the
/// vector level the kernels ran at.
#[derive(Debug, Serialize)]
pub struct BenchLine<'a> {
    /// The measurement, its keys in the order of workloads.md.
    #[serde(flatten)]
    pub measurement: &'a Measurement,
    /// [`crate::cpu::Level::name`] of [`crate::cpu::level`].
    pub simd: &'static str,
}

impl<'a> BenchLine<'a> {
    /// The line of `m`, at the level this process runs.
    pub fn new(m: &'a Measurement) -> Self {
        BenchLine {
            measurement: m,
            simd: crate::cpu::level().name(),
        }
    }
}

/// The JSON line of `m` with its vector level (no trailing newline).
pub fn json_line(m: &Measurement) -> String {
    serde_json::to_string(&BenchLine::new(m)).expect("a measurement always serialises")
}

/// The concurrency limit C of W6 (workloads.md).
pub const IO_CONCURRENCY: usize = 100;
/// The second, large task count of W6: only async tasks are measured there.
pub const IO_LARGE_T: u64 = 100_000;
/// Largest worker count accepted: beyond it, a typo is more likely than a machine.
pub const MAX_WORKERS: usize = 1024;
/// Largest repetition count accepted.
pub const MAX_REPETITIONS: usize = 1000;

/// What the user asked for (the options of `tp4 bench`).
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Workload names; empty means all of W1–W7.
    pub workloads: Vec<String>,
    /// Strategy names; empty means every strategy of each workload.
    pub strategies: Vec<String>,
    /// Worker counts; empty means 1..=usable CPUs (at least 1 and 2).
    pub workers: Vec<usize>,
    /// Size for every selected workload (N, S, M, rows, K, T, corpus MB); `None`
    /// means the default sizes of workloads.md.
    pub size: Option<u64>,
    /// Timed repetitions after the warm-up.
    pub repetitions: usize,
    /// Print JSON lines only on stdout, no progress bar.
    pub json: bool,
    /// W4 and W7 read the files of the data folder themselves (`--fichiers-de-data`,
    /// a teacher's own files) instead of generated full-size files in `<data>/bench/`.
    pub data_files: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            workloads: Vec::new(),
            strategies: Vec::new(),
            workers: Vec::new(),
            size: None,
            repetitions: 5,
            json: false,
            data_files: false,
        }
    }
}

/// One measurement to make, with its repetition plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCase {
    /// Workload, strategy, workers, size.
    pub case: Case,
    /// Warm-up and repetitions for this case.
    pub warmup: usize,
    /// Timed repetitions for this case.
    pub repetitions: usize,
}

/// The validated plan of a benchmark run.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchPlan {
    /// The cases, in the order they run (W1 to W7, `seq` first).
    pub cases: Vec<PlannedCase>,
    /// French notes about choices made (skipped strategies, shortened plans, data).
    pub notes: Vec<String>,
    /// Rows of the transactions file to use, if W4 is selected.
    pub groupby_rows: Option<u64>,
    /// Megabytes of the corpus to use, if W7 is selected.
    pub corpus_mb: Option<u64>,
    /// W4 and W7 read `<data>/transactions.csv` and `<data>/corpus.txt` as they are.
    pub data_files: bool,
}

/// The largest size accepted per workload: beyond it the run would take hours or not
/// fit in memory, so it is certainly a typo.
pub fn max_size(w: Workload) -> u64 {
    match w {
        Workload::Primes => 1_000_000_000,
        Workload::Pi => 100_000_000_000,
        // 8 bytes per value: 2·10^9 values are 16 GB.
        Workload::Sumsq => 2_000_000_000,
        Workload::Groupby => 1_000_000_000,
        Workload::Ipc => 10_000_000_000,
        Workload::Io => 10_000_000,
        Workload::Wordcount => 100_000,
    }
}

/// What the size means for a workload, in French (for error messages).
fn size_meaning(w: Workload) -> &'static str {
    match w {
        Workload::Primes => "N (borne des nombres testés)",
        Workload::Pi => "S (nombre de points)",
        Workload::Sumsq => "M (nombre de valeurs du tableau)",
        Workload::Groupby => "R (lignes de transactions.csv)",
        Workload::Ipc => "K (nombre de messages)",
        Workload::Io => "T (nombre de tâches)",
        Workload::Wordcount => "taille du corpus en Mo",
    }
}

/// Estimated seconds of one run of a W6 strategy (the waits dominate).
fn io_estimate(strategy: &str, t: u64) -> f64 {
    if run::is_sequential(strategy) {
        t as f64 * io::LATENCY.as_secs_f64()
    } else {
        io::ideal_seconds(t, IO_CONCURRENCY)
    }
}

/// Validates the options and lists the cases, before any work: unknown workload or
/// strategy, zero or absurd worker counts, sizes and repetitions are French errors.
pub fn plan(opts: &Options) -> Result<BenchPlan> {
    let selected = selected_workloads(opts)?;
    check_repetitions(opts.repetitions)?;
    let workers = worker_counts(opts)?;
    check_strategies(&selected, &opts.strategies)?;
    check_size(&selected, opts.size)?;

    let mut cases = Vec::new();
    let mut notes = Vec::new();
    for &w in &selected {
        plan_workload(opts, w, &workers, &mut cases, &mut notes);
    }
    let groupby_rows = selected
        .contains(&Workload::Groupby)
        .then(|| opts.size.unwrap_or(crate::data::DEFAULT_ROWS));
    let corpus_mb = selected
        .contains(&Workload::Wordcount)
        .then(|| opts.size.unwrap_or(crate::data::DEFAULT_CORPUS_MB));
    Ok(BenchPlan {
        cases,
        notes,
        groupby_rows,
        corpus_mb,
        data_files: opts.data_files,
    })
}

/// The workloads asked for (all of them when none is named), in W1–W7 order.
fn selected_workloads(opts: &Options) -> Result<Vec<Workload>> {
    let mut selected: Vec<Workload> = Vec::new();
    for name in &opts.workloads {
        let w = Workload::parse(name)?;
        if !selected.contains(&w) {
            selected.push(w);
        }
    }
    if selected.is_empty() {
        selected = Workload::ALL.to_vec();
    }
    selected.sort();
    Ok(selected)
}

/// Refuses 0 or more than [`MAX_REPETITIONS`] timed runs.
fn check_repetitions(repetitions: usize) -> Result<()> {
    if repetitions == 0 || repetitions > MAX_REPETITIONS {
        return Err(Error::InvalidParameter(format!(
            "--repetitions {repetitions} : donnez un nombre de mesures entre 1 et \
             {MAX_REPETITIONS} (par exemple --repetitions 5)"
        )));
    }
    Ok(())
}

/// The worker counts to measure (default: what the machine offers), sorted, checked.
fn worker_counts(opts: &Options) -> Result<Vec<usize>> {
    let mut workers: Vec<usize> = if opts.workers.is_empty() {
        crate::machine::default_worker_counts()
    } else {
        opts.workers.clone()
    };
    if let Some(&bad) = workers.iter().find(|&&w| w == 0 || w > MAX_WORKERS) {
        return Err(Error::InvalidParameter(format!(
            "--workers : {bad} workers n'a pas de sens ; donnez des entiers entre 1 et \
             {MAX_WORKERS}, par exemple --workers 1,2"
        )));
    }
    workers.sort_unstable();
    workers.dedup();
    Ok(workers)
}

/// Every strategy asked for must exist for at least one selected workload.
fn check_strategies(selected: &[Workload], strategies: &[String]) -> Result<()> {
    for s in strategies {
        if !selected
            .iter()
            .any(|w| w.strategies().contains(&s.as_str()))
        {
            let known: Vec<String> = selected
                .iter()
                .map(|w| format!("{} : {}", w.name(), w.strategies().join(", ")))
                .collect();
            return Err(Error::InvalidParameter(format!(
                "stratégie inconnue « {s} » pour les charges choisies ; choix possibles — {}",
                known.join(" ; ")
            )));
        }
    }
    Ok(())
}

/// A size given on the command line must make sense for every selected workload.
fn check_size(selected: &[Workload], size: Option<u64>) -> Result<()> {
    let Some(size) = size else { return Ok(()) };
    for &w in selected {
        if size == 0 || size > max_size(w) {
            return Err(Error::InvalidParameter(format!(
                "--taille {size} pour {} : la taille est {} et doit être entre 1 et {} \
                 (défaut : {})",
                w.name(),
                size_meaning(w),
                max_size(w),
                w.default_size()
            )));
        }
    }
    Ok(())
}

/// The cases of one workload, and the notes that explain what is (not) measured.
fn plan_workload(
    opts: &Options,
    w: Workload,
    workers: &[usize],
    cases: &mut Vec<PlannedCase>,
    notes: &mut Vec<String>,
) {
    let size = opts.size.unwrap_or_else(|| w.default_size());
    let strategies: Vec<&str> = w
        .strategies()
        .iter()
        .copied()
        .filter(|s| opts.strategies.is_empty() || opts.strategies.iter().any(|o| o == s))
        .collect();
    if strategies.is_empty() {
        notes.push(format!(
            "{} ({}) : aucune des stratégies demandées ne s'applique, charge ignorée.",
            w.id(),
            w.name()
        ));
        return;
    }
    if !strategies.contains(&"seq") && w != Workload::Ipc {
        notes.push(format!(
            "{} ({}) : pas de mesure « seq » ; l'accélération n'est pas calculée sans elle \
             (ajoutez --strategies seq,…).",
            w.id(),
            w.name(),
        ));
    }
    let mut sizes = vec![size];
    if w == Workload::Io && opts.size.is_none() {
        sizes.push(IO_LARGE_T);
    }
    for &t in &sizes {
        for &s in &strategies {
            let Some((warmup, repetitions)) = repetitions_for(opts, w, s, t, notes) else {
                continue;
            };
            let counts: Vec<usize> = if run::is_sequential(s) {
                vec![1]
            } else if w == Workload::Ipc {
                vec![2]
            } else if w == Workload::Io {
                vec![IO_CONCURRENCY]
            } else {
                workers.to_vec()
            };
            for n in counts {
                cases.push(PlannedCase {
                    case: Case {
                        workload: w,
                        strategy: s.to_string(),
                        workers: n,
                        size: t,
                    },
                    warmup,
                    repetitions,
                });
            }
        }
    }
    if w == Workload::Io {
        io_notes(opts, &strategies, notes);
    }
}

/// Warm-up and timed runs of one case; `None` when the case is not measured (W6
/// strategies that would last minutes, or that show nothing more at large T).
fn repetitions_for(
    opts: &Options,
    w: Workload,
    s: &str,
    t: u64,
    notes: &mut Vec<String>,
) -> Option<(usize, usize)> {
    let k = opts.repetitions;
    if w != Workload::Io {
        return Some((1, k));
    }
    if t == IO_LARGE_T && opts.size.is_none() && s != "tokio" {
        return None;
    }
    let est = io_estimate(s, t);
    if est > 120.0 {
        notes.push(format!(
            "W6 (io) à T = {t} : « {s} » non mesuré, il durerait {} par mesure.",
            human_seconds(est)
        ));
        return None;
    }
    if est > 2.0 {
        let repetitions = if run::is_sequential(s) { 1 } else { k.min(3) };
        notes.push(format!(
            "W6 (io) à T = {t} : « {s} » dure {} par mesure (que des attentes) : \
             {repetitions} mesure(s) sans échauffement.",
            human_seconds(est)
        ));
        return Some((0, repetitions));
    }
    Some((1, k))
}

/// What W6's table means: the large T measured with tokio only, C as "workers".
fn io_notes(opts: &Options, strategies: &[&str], notes: &mut Vec<String>) {
    if opts.size.is_none() && strategies.contains(&"tokio") {
        notes.push(format!(
            "W6 (io) à T = {IO_LARGE_T} : seule la stratégie tokio est mesurée. seq durerait \
             {} ; threads, avec ses C = {IO_CONCURRENCY} threads qui se partagent les tâches, \
             aurait le même temps idéal de {} sans rien montrer de plus. Ce qui compte ici : \
             tokio crée {IO_LARGE_T} tâches (au plus C vivantes à la fois : quelques dizaines \
             de ko, voir « tas max ») et reste proche du temps idéal.",
            human_seconds(io_estimate("seq", IO_LARGE_T)),
            human_seconds(io::ideal_seconds(IO_LARGE_T, IO_CONCURRENCY))
        ));
    }
    notes.push(format!(
        "W6 (io) : « workers » est la limite de concurrence C = {IO_CONCURRENCY} de \
         workloads.md (--workers ne s'applique pas : le temps dépend des attentes, pas \
         des cœurs)."
    ));
}

/// Path of the benchmark's transactions file of `rows` rows.
pub fn transactions_file(data: &Path, rows: u64) -> PathBuf {
    data.join("bench").join(format!("transactions-{rows}.csv"))
}

/// Path of the benchmark's corpus of `mb` megabytes.
pub fn corpus_file(data: &Path, mb: u64) -> PathBuf {
    data.join("bench").join(format!("corpus-{mb}mo.txt"))
}

/// Makes sure the full-size files of W4 and W7 exist in `<data>/bench/`, generating
/// them (deterministically, atomically, with a progress bar) if needed. Returns the
/// inputs for [`run::run_case`] and French notes saying what was done.
pub fn prepare_data(
    plan: &BenchPlan,
    data: &Path,
    progress: bool,
) -> Result<(Inputs, Vec<String>)> {
    if plan.data_files {
        return Ok(data_folder_files(plan, data));
    }
    let mut inputs = Inputs::default();
    let mut notes = Vec::new();
    if (plan.groupby_rows.is_some() || plan.corpus_mb.is_some()) && progress {
        eprintln!(
            "bench : W4 et W7 mesurés sur des fichiers générés dans {} (pas sur ceux de {}) ; \
             --fichiers-de-data mesure vos fichiers.",
            data.join("bench").display(),
            data.display()
        );
    }
    if let Some(rows) = plan.groupby_rows {
        let (path, generated) = ensure_transactions_file(data, rows, progress)?;
        notes.push(if generated {
            format!(
                "W4 : {} généré ({rows} lignes, déterministe : le même fichier sur toute \
                 machine ; réutilisé aux prochains lancements).",
                path.display()
            )
        } else {
            format!("W4 : lecture de {} ({rows} lignes).", path.display())
        });
        inputs.transactions = Some(path);
    }
    if let Some(mb) = plan.corpus_mb {
        let (path, generated) = ensure_corpus_file(data, mb, progress)?;
        notes.push(if generated {
            format!(
                "W7 : {} généré ({mb} Mo, déterministe ; réutilisé aux prochains lancements).",
                path.display()
            )
        } else {
            format!("W7 : lecture de {} ({mb} Mo).", path.display())
        });
        inputs.corpus = Some(path);
    }
    Ok((inputs, notes))
}

/// `<data>/bench/`, created if needed and writable: a refusal names it as the data
/// folder where the full-size files are generated, not as the output folder.
fn ensure_writable_data_dir(dir: &Path) -> Result<()> {
    crate::output::ensure_writable_dir(dir).map_err(|e| match e {
        Error::OutputNotWritable { path, reason } => Error::Other(format!(
            "le dossier de données {} n'est pas accessible en écriture : {reason}\n  → tp4 \
             bench y génère les fichiers de W4 et W7 à leur taille complète ; donnez-lui les \
             droits d'écriture, mesurez vos propres fichiers avec --fichiers-de-data, ou \
             indiquez un autre dossier de données avec `--data DIR`",
            path.display()
        )),
        other => other,
    })
}

/// The benchmark's transactions file of `rows` rows in `<data>/bench/`, generated
/// (deterministically, atomically, with a progress bar if `progress`) when missing,
/// reused when present; `true` when it was generated now. The main job's W4 speed
/// measurements read it too (`lab`).
pub fn ensure_transactions_file(data: &Path, rows: u64, progress: bool) -> Result<(PathBuf, bool)> {
    let path = transactions_file(data, rows);
    if path.is_file() {
        return Ok((path, false));
    }
    let dir = path.parent().expect("bench file has a parent");
    ensure_writable_data_dir(dir)?;
    crate::data::check_output_size(
        "transactions.csv",
        crate::data::transactions::estimated_bytes(rows),
        dir,
    )?;
    let bar = if progress {
        crate::progress::steps(rows, format!("génération de {} lignes", rows))
    } else {
        crate::progress::hidden()
    };
    crate::data::transactions::generate(&path, rows, |n| bar.set_position(n))?;
    bar.finish_and_clear();
    Ok((path, true))
}

/// The benchmark's corpus of `mb` megabytes in `<data>/bench/`, generated or reused
/// as [`ensure_transactions_file`] does; `true` when it was generated now.
pub fn ensure_corpus_file(data: &Path, mb: u64, progress: bool) -> Result<(PathBuf, bool)> {
    let path = corpus_file(data, mb);
    if path.is_file() {
        return Ok((path, false));
    }
    let dir = path.parent().expect("bench file has a parent");
    ensure_writable_data_dir(dir)?;
    crate::data::check_output_size("corpus.txt", mb * 1_000_000, dir)?;
    let bar = if progress {
        crate::progress::bytes(mb * 1_000_000, format!("génération du corpus {mb} Mo"))
    } else {
        crate::progress::hidden()
    };
    crate::data::corpus::generate(&path, mb, |n| bar.set_position(n))?;
    bar.finish_and_clear();
    Ok((path, true))
}

/// The inputs of `--fichiers-de-data`: W4 and W7 read the data folder's own files
/// (answers checked against the plain sequential kernel on those files).
fn data_folder_files(plan: &BenchPlan, data: &Path) -> (Inputs, Vec<String>) {
    let inputs = Inputs::from_data_dir(data);
    let mut notes = Vec::new();
    for (selected, w, path) in [
        (plan.groupby_rows.is_some(), "W4", &inputs.transactions),
        (plan.corpus_mb.is_some(), "W7", &inputs.corpus),
    ] {
        if let (true, Some(p)) = (selected, path) {
            notes.push(format!(
                "{w} : vos fichiers, lus tels quels : {} (réponses comparées au noyau \
                 séquentiel simple ; --taille ne s'applique pas).",
                p.display()
            ));
        }
    }
    (inputs, notes)
}

/// What a benchmark run produced.
#[derive(Debug, Clone)]
pub struct Report {
    /// Every measurement, in run order.
    pub measurements: Vec<Measurement>,
    /// French notes (plan choices, data files, targets).
    pub notes: Vec<String>,
    /// Files written (CSV, JSON lines, plots).
    pub files: Vec<PathBuf>,
}

/// Runs the benchmark: validates, prepares data, measures every case (checking every
/// answer of every run; a failure does not stop the other cases, it makes the run
/// return [`Error::BenchFailed`] once the files are written), then writes `bench.csv`, `bench.json` and the plots into `output`.
/// JSON lines go to `stdout` as they are measured when `opts.json`; otherwise the
/// French table, the notes and the target figures are printed there at the end.
pub fn run(opts: &Options, data: &Path, output: &Path, stdout: &mut dyn Write) -> Result<Report> {
    let plan = plan(opts)?;
    crate::output::ensure_writable_dir(output)?;
    let progress = !opts.json;
    let (mut inputs, data_notes) = prepare_data(&plan, data, progress)?;
    let mut notes = plan.notes.clone();
    notes.extend(data_notes);

    let bar = if progress {
        crate::progress::steps(plan.cases.len() as u64, "banc d'essai W1–W7")
    } else {
        crate::progress::hidden()
    };
    let mut all = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    // Workloads whose input failed (a file missing, malformed, changed during the
    // read): their other cases would fail the same way.
    let mut broken: Vec<Workload> = Vec::new();
    for pc in &plan.cases {
        let c = &pc.case;
        if broken.contains(&c.workload) {
            continue;
        }
        bar.set_message(format!(
            "{} {} ×{}",
            c.workload.name(),
            c.strategy,
            c.workers
        ));
        let plan = Plan {
            warmup: pc.warmup,
            repetitions: pc.repetitions,
        };
        match run::measure_case(c, plan, &mut inputs) {
            Ok((mut m, wrong)) => {
                m.answer = crate::output::cut_json_strings(&m.answer, crate::fr::NAME_CHARS);
                if let Some(e) = wrong {
                    bar.suspend(|| eprintln!("bench : {e}"));
                    failures.push(format!("{} : réponse fausse", case_label(c)));
                }
                if opts.json {
                    writeln!(stdout, "{}", json_line(&m))
                        .and_then(|_| stdout.flush())
                        .map_err(|e| Error::io("écriture de", Path::new("<sortie standard>"), e))?;
                }
                all.push(m);
            }
            Err(e) => {
                bar.suspend(|| eprintln!("bench : {} : {e}", case_label(c)));
                failures.push(format!(
                    "{} : erreur (les autres mesures de {} sont sautées)",
                    case_label(c),
                    c.workload.id()
                ));
                broken.push(c.workload);
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if all.is_empty() && !failures.is_empty() {
        // Nothing measured: no empty table, no files; the errors were printed.
        return Err(Error::BenchFailed {
            failures,
            files: Vec::new(),
        });
    }

    let mut file_bytes = BTreeMap::new();
    for (name, p) in [
        ("groupby", &inputs.transactions),
        ("wordcount", &inputs.corpus),
    ] {
        if let Some(len) = p
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
        {
            file_bytes.insert(name.to_string(), len);
        }
    }
    let figures = target_figures(&all, &file_bytes);

    let mut files = Vec::new();
    let csv = output.join("bench.csv");
    crate::output::write_csv(&csv, &csv_rows(&all))?;
    files.push(csv);
    let json = output.join("bench.json");
    let lines: Vec<BenchLine> = all.iter().map(BenchLine::new).collect();
    crate::output::write_json_lines(&json, &lines)?;
    files.push(json);
    files.extend(plots(&all, output)?);

    if !opts.json {
        let text = render(&all, &notes, &figures, &files);
        stdout
            .write_all(text.as_bytes())
            .map_err(|e| Error::io("écriture de", Path::new("<sortie standard>"), e))?;
    }
    notes.extend(figures);
    if !failures.is_empty() {
        return Err(Error::BenchFailed {
            failures,
            // bench.csv and bench.json; the plots are listed above with the table.
            files: files.iter().take(2).cloned().collect(),
        });
    }
    Ok(Report {
        measurements: all,
        notes,
        files,
    })
}

/// A case for messages: `W4 groupby / optimise ×2`.
fn case_label(c: &run::Case) -> String {
    format!(
        "{} {} / {} ×{}",
        c.workload.id(),
        c.workload.name(),
        c.strategy,
        c.workers
    )
}

/// Measurements grouped by (workload, size), in run order: speedups are computed
/// within a group (W6 runs at two task counts).
pub fn groups(all: &[Measurement]) -> Vec<Vec<Measurement>> {
    let mut out: Vec<Vec<Measurement>> = Vec::new();
    for m in all {
        match out
            .iter_mut()
            .find(|g| g[0].workload == m.workload && g[0].size == m.size)
        {
            Some(g) => g.push(m.clone()),
            None => out.push(vec![m.clone()]),
        }
    }
    out
}

/// The rows of the French table, in group order ([`crate::results::rows`], whose
/// speedups follow the one rule of [`crate::results::gains`]).
pub fn table_rows(all: &[Measurement]) -> Vec<Vec<String>> {
    let ordered: Vec<Measurement> = groups(all).into_iter().flatten().collect();
    crate::results::rows(&ordered)
}

/// The French terminal table.
pub fn terminal_table(all: &[Measurement]) -> String {
    crate::output::table(&crate::results::HEADERS, 2, table_rows(all))
}

/// One row of `bench.csv`: the measurement plus speedup and efficiency.
#[derive(Debug, Clone, Serialize)]
pub struct CsvRow {
    /// Workload name.
    pub workload: String,
    /// Strategy.
    pub strategy: String,
    /// Workers.
    pub workers: usize,
    /// Size (N, S, M, rows, K, T or corpus bytes).
    pub size: u64,
    /// Median seconds.
    pub seconds: f64,
    /// Fastest run.
    pub min: f64,
    /// Slowest run.
    pub max: f64,
    /// Timed runs.
    pub runs: usize,
    /// The answer, as JSON text.
    pub answer: String,
    /// Answer check.
    pub ok: bool,
    /// Peak heap bytes (empty if unmeasured).
    pub peak_heap_bytes: Option<u64>,
    /// Baseline time / time (empty without a baseline).
    pub speedup: Option<f64>,
    /// Speedup / workers (empty for a sequential strategy).
    pub efficiency: Option<f64>,
}

/// The rows of `bench.csv`.
pub fn csv_rows(all: &[Measurement]) -> Vec<CsvRow> {
    let mut out = Vec::new();
    for g in groups(all) {
        for m in &g {
            let gains = crate::results::gains(all, m);
            out.push(CsvRow {
                workload: m.workload.clone(),
                strategy: m.strategy.clone(),
                workers: m.workers,
                size: m.size,
                seconds: m.seconds,
                min: m.min,
                max: m.max,
                runs: m.runs,
                answer: m.answer.to_string(),
                ok: m.ok,
                peak_heap_bytes: m.peak_heap_bytes,
                speedup: gains.speedup,
                efficiency: gains.efficiency,
            });
        }
    }
    out
}

fn find<'a>(all: &'a [Measurement], w: &str, s: &str, n: usize) -> Option<&'a Measurement> {
    all.iter()
        .find(|m| m.workload == w && m.strategy == s && m.workers == n)
}

fn seq_of<'a>(all: &'a [Measurement], w: &str, size: u64) -> Option<&'a Measurement> {
    all.iter()
        .find(|m| m.workload == w && m.strategy == "seq" && m.size == size)
}

/// The speed targets of the lab, with the figures reached (French lines):
/// rayon efficiency on 2 workers for W1, W2, W7 (target ≥ 90 %), W3 against the
/// measured read bandwidth (≥ 80 %), W6 tokio against the ideal time rounded to
/// tokio's 1 ms tick (within 5 %, with the CPU time beside the wall time),
/// and the reading rates of W4 and W7 in MB/s. `file_bytes` gives the size of the
/// files read by W4 and W7.
pub fn target_figures(all: &[Measurement], file_bytes: &BTreeMap<String, u64>) -> Vec<String> {
    let mut out = Vec::new();
    for w in ["primes", "pi", "wordcount", "sumsq", "groupby"] {
        if let (Some(r), Some(s)) = (
            find(all, w, "rayon", 2),
            all.iter().find(|m| m.workload == w && m.strategy == "seq"),
        ) {
            let e = s.seconds / r.seconds / 2.0;
            let target = matches!(w, "primes" | "pi" | "wordcount");
            out.push(format!(
                "{w} : efficacité de rayon sur 2 workers = {} %{}",
                crate::fr::decimal(100.0 * e, 1),
                if target {
                    if e >= 0.9 {
                        " (objectif ≥ 90 % : atteint)"
                    } else {
                        " (objectif ≥ 90 % : NON atteint)"
                    }
                } else {
                    ""
                }
            ));
        }
    }
    // W3 against the read baseline: the best parallel sum (rayon or the top rung of
    // the ladder) vs the best read.
    let best = |names: &[&str]| {
        all.iter()
            .filter(|m| m.workload == "sumsq" && names.contains(&m.strategy.as_str()))
            .min_by(|a, b| a.seconds.total_cmp(&b.seconds))
    };
    if let (Some(r), Some(b)) = (
        best(&["rayon", crate::workloads::fast::STRATEGY]),
        best(&["bandwidth"]),
    ) {
        let gbs = |m: &Measurement| m.size as f64 * 8.0 / m.seconds / 1e9;
        let ratio = gbs(r) / gbs(b);
        out.push(format!(
            "sumsq : {} lit {} Go/s (×{}), soit {:.0} % de la bande passante de lecture \
             mesurée ({} Go/s, ×{}) (objectif ≥ 80 % : {})",
            r.strategy,
            human_ratio(gbs(r)),
            r.workers,
            100.0 * ratio,
            human_ratio(gbs(b)),
            b.workers,
            if ratio >= 0.8 {
                "atteint"
            } else {
                "NON atteint"
            }
        ));
    }
    for m in all
        .iter()
        .filter(|m| m.workload == "io" && m.strategy != "seq")
    {
        out.push(io_figure(m));
    }
    for (w, bytes) in file_bytes {
        let mut ms: Vec<&Measurement> = all.iter().filter(|m| &m.workload == w).collect();
        ms.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
        if let Some(seq) = seq_of(all, w, ms.first().map_or(0, |m| m.size)) {
            out.push(format!(
                "{w} : lecture + calcul à {:.0} Mo/s en séquentiel ({} lus)",
                *bytes as f64 / seq.seconds / 1e6,
                human_bytes(*bytes)
            ));
        }
        if let Some(best) = ms.first().filter(|m| m.strategy != "seq") {
            out.push(format!(
                "{w} : {:.0} Mo/s au mieux ({} ×{})",
                *bytes as f64 / best.seconds / 1e6,
                best.strategy,
                best.workers
            ));
        }
    }
    out
}

/// W6's line of the targets: wall time against the ideal ceil(T/C) × 10 ms, the share
/// of the gap that tokio's 1 ms timer granularity explains (each wave rounded up to
/// the next tick: [`io::tick_seconds`]), and the process CPU time beside the wall time
/// (waiting should cost almost none). Tokio's target is within 5 % of the tick-rounded
/// ideal: the granularity is shown, not counted as a scheduling cost.
fn io_figure(m: &Measurement) -> String {
    let ideal = io::ideal_seconds(m.size, m.workers);
    let pct = |x: f64| crate::fr::comma(format!("{:+.1}", 100.0 * x));
    let mut line = format!(
        "io : {} à T = {}, C = {} : {} pour un idéal de {} (écart {} %",
        m.strategy,
        m.size,
        m.workers,
        human_seconds(m.seconds),
        human_seconds(ideal),
        pct(m.seconds / ideal - 1.0)
    );
    let tick = io::tick_seconds(m.size, m.workers);
    if m.strategy == "tokio" {
        line += &format!(
            " ; le minuteur de tokio, qui compte en millisecondes entières, en coûte \
             jusqu'à {} % : idéal au tick près {}",
            pct(tick / ideal - 1.0),
            human_seconds(tick)
        );
    }
    line += ")";
    if let Some(cpu) = m.cpu_seconds {
        line += &format!(
            " ; CPU {} ({} % du temps : attendre ne calcule pas)",
            human_seconds(cpu),
            crate::fr::decimal(100.0 * cpu / m.seconds, 1)
        );
    }
    if m.strategy == "tokio" {
        let over = m.seconds / tick - 1.0;
        line += if over <= 0.05 {
            " ; objectif ≤ 5 % au-delà du tick : atteint"
        } else {
            " ; objectif ≤ 5 % au-delà du tick : NON atteint"
        };
    }
    line
}

/// The French text printed after a run (table, notes, targets, files).
pub fn render(
    all: &[Measurement],
    notes: &[String],
    figures: &[String],
    files: &[PathBuf],
) -> String {
    let mut s = String::from(
        "Banc d'essai W1–W7 (médiane des mesures après échauffement ; accélération = temps seq / \
         temps ; efficacité = accélération / workers ; chaque réponse est vérifiée)\n",
    );
    s.push_str(&format!(
        "Instructions vectorielles utilisées : {} (processeur : {} ; TP4_SIMD=scalaire|sse2|avx2|avx512 \
         pour abaisser le niveau)\n",
        crate::cpu::level().name(),
        crate::cpu::detected().name()
    ));
    s.push_str(&terminal_table(all));
    s.push('\n');
    let spread: Vec<String> = all
        .iter()
        .filter(|m| m.runs > 1 && m.seconds > 0.0 && (m.max - m.min) / m.seconds > 0.2)
        .map(|m| format!("{} {} ×{}", m.workload, m.strategy, m.workers))
        .collect();
    if !spread.is_empty() {
        s.push_str(&format!(
            "\nAttention : dispersion (max − min) > 20 % de la médiane pour {} : la machine \
             était occupée, relancez avec plus de --repetitions.\n",
            spread.join(", ")
        ));
    }
    if !notes.is_empty() {
        s.push_str("\nRemarques :\n");
        for n in notes {
            s.push_str(&format!("  - {n}\n"));
        }
    }
    if !figures.is_empty() {
        s.push_str("\nObjectifs de vitesse :\n");
        for f in figures {
            s.push_str(&format!("  - {f}\n"));
        }
    }
    s.push_str("\nFichiers écrits :\n");
    for f in files {
        s.push_str(&format!("  {}\n", f.display()));
    }
    s
}

/// The plots of a run, PNG + SVG each: speedup of rayon for every workload
/// (`bench_acceleration`), speedup of every strategy per workload
/// (`bench_acceleration_<charge>`), efficiency (`bench_efficacite`) and a bar chart of
/// the strategies per workload (`bench_strategies_<charge>`).
pub fn plots(all: &[Measurement], dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let scaling: Vec<&str> = ["primes", "pi", "sumsq", "groupby", "wordcount"]
        .into_iter()
        .filter(|w| {
            all.iter()
                .filter(|m| m.workload == *w && !run::is_sequential(&m.strategy))
                .count()
                > 0
        })
        .collect();
    if all.iter().any(|m| m.strategy == "rayon") && !scaling.is_empty() {
        files.extend(crate::results::speedup_plot(
            all,
            "rayon",
            &scaling,
            "Accélération avec rayon (vol de travail), tailles de workloads.md",
            dir,
            "bench_acceleration",
        )?);
    }
    let mut efficiency = Vec::new();
    let mut max_workers = 1usize;
    for &w in &scaling {
        let mut series = Vec::new();
        let strategies: Vec<&str> = {
            let mut v: Vec<&str> = all
                .iter()
                .filter(|m| m.workload == w && !run::is_sequential(&m.strategy))
                .map(|m| m.strategy.as_str())
                .collect();
            v.dedup();
            v
        };
        let mut top = 1usize;
        for s in strategies {
            let mut pts: Vec<(f64, f64)> = all
                .iter()
                .filter(|m| m.workload == w && m.strategy == s)
                .filter_map(|m| Some((m.workers as f64, crate::results::gains(all, m).speedup?)))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            top = top.max(pts.last().map_or(1, |p| p.0 as usize));
            if s == "rayon" {
                efficiency.push(Series::measured(
                    w,
                    pts.iter().map(|&(x, y)| (x, 100.0 * y / x)).collect(),
                ));
            }
            series.push(Series::measured(s, pts));
        }
        max_workers = max_workers.max(top);
        series.push(Series::model(
            "idéal (accélération = workers)",
            (1..=top).map(|x| (x as f64, x as f64)).collect(),
        ));
        files.extend(
            LineChart {
                title: format!("{w} : accélération par stratégie"),
                x_label: "nombre de workers".into(),
                y_label: "accélération (temps seq / temps)".into(),
                series,
                log_x: false,
            }
            .save(dir, &format!("bench_acceleration_{w}"))?,
        );
    }
    if !efficiency.is_empty() {
        efficiency.push(Series::model(
            "idéal (100 %)",
            (1..=max_workers).map(|x| (x as f64, 100.0)).collect(),
        ));
        files.extend(
            LineChart {
                title: "Efficacité de rayon (accélération / workers)".into(),
                x_label: "nombre de workers".into(),
                y_label: "efficacité (%)".into(),
                series: efficiency,
                log_x: false,
            }
            .save(dir, "bench_efficacite")?,
        );
    }
    for g in groups(all) {
        let w = g[0].workload.clone();
        if files
            .iter()
            .any(|f| f.ends_with(format!("bench_strategies_{w}.png")))
        {
            continue; // one bar chart per workload: its first size (W6: T = 1000)
        }
        // Each strategy at its largest worker count.
        let mut bars: Vec<(String, f64)> = Vec::new();
        for m in &g {
            let label = if run::is_sequential(&m.strategy) || w == "ipc" {
                m.strategy.clone()
            } else {
                format!("{} ×{}", m.strategy, m.workers)
            };
            let last = g
                .iter()
                .filter(|o| o.strategy == m.strategy)
                .map(|o| o.workers)
                .max();
            if Some(m.workers) == last {
                bars.push((label, m.seconds));
            }
        }
        files.extend(
            BarChart {
                title: format!("{w} : temps médian par stratégie (taille {})", g[0].size),
                y_label: "temps médian (s)".into(),
                bars,
            }
            .save(dir, &format!("bench_strategies_{w}"))?,
        );
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding 11 of issue 24: a data folder where `bench/` cannot be made is named
    /// as the data folder, never as the output folder.
    #[test]
    fn an_unwritable_data_folder_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let not_a_dir = dir.path().join("fichier");
        std::fs::write(&not_a_dir, "x").unwrap();
        let err = ensure_transactions_file(&not_a_dir, 10, false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("dossier de données") && !err.contains("dossier de sortie"),
            "{err}"
        );
    }
    use crate::measure::Timings;
    use std::time::Duration;

    fn opts(workloads: &[&str]) -> Options {
        Options {
            workloads: workloads.iter().map(|s| s.to_string()).collect(),
            workers: vec![1, 2],
            ..Default::default()
        }
    }

    #[test]
    fn plan_runs_seq_once_and_parallel_strategies_per_worker_count() {
        let mut o = opts(&["primes"]);
        o.strategies = vec!["seq".into(), "rayon".into()];
        let p = plan(&o).unwrap();
        let got: Vec<(String, usize, u64)> = p
            .cases
            .iter()
            .map(|c| (c.case.strategy.clone(), c.case.workers, c.case.size))
            .collect();
        assert_eq!(
            got,
            vec![
                ("seq".into(), 1, 2_000_000),
                ("rayon".into(), 1, 2_000_000),
                ("rayon".into(), 2, 2_000_000)
            ]
        );
        assert!(p.cases.iter().all(|c| c.warmup == 1 && c.repetitions == 5));
        assert_eq!((p.groupby_rows, p.corpus_mb), (None, None));
    }

    #[test]
    fn plan_covers_every_strategy_of_every_workload_by_default() {
        let p = plan(&opts(&[])).unwrap();
        for w in Workload::ALL {
            for s in w.strategies() {
                assert!(
                    p.cases
                        .iter()
                        .any(|c| c.case.workload == w && c.case.strategy == *s),
                    "{} {s} missing",
                    w.name()
                );
            }
        }
        assert_eq!(p.groupby_rows, Some(crate::data::DEFAULT_ROWS));
        assert_eq!(p.corpus_mb, Some(crate::data::DEFAULT_CORPUS_MB));
        // W6: C = 100, seq once without warm-up (10 s), tokio also at T = 100 000.
        let io: Vec<&PlannedCase> = p
            .cases
            .iter()
            .filter(|c| c.case.workload == Workload::Io)
            .collect();
        assert!(io
            .iter()
            .all(|c| c.case.workers == IO_CONCURRENCY || c.case.strategy == "seq"));
        let seq = io.iter().find(|c| c.case.strategy == "seq").unwrap();
        assert_eq!((seq.warmup, seq.repetitions), (0, 1));
        let large: Vec<&str> = io
            .iter()
            .filter(|c| c.case.size == IO_LARGE_T)
            .map(|c| c.case.strategy.as_str())
            .collect();
        assert_eq!(large, vec!["tokio"]);
        assert!(p
            .notes
            .iter()
            .any(|n| n.contains("seule la stratégie tokio")));
        // W5 always runs between two threads.
        assert!(p
            .cases
            .iter()
            .filter(|c| c.case.workload == Workload::Ipc)
            .all(|c| c.case.workers == 2));
    }

    #[test]
    fn bad_options_are_french_errors() {
        let err = |o: Options| plan(&o).unwrap_err().to_string();
        let msg = err(opts(&["tri"]));
        assert!(
            msg.contains("charge inconnue") && msg.contains("tri"),
            "{msg}"
        );
        let mut o = opts(&["primes"]);
        o.strategies = vec!["magie".into()];
        let msg = err(o);
        assert!(msg.contains("stratégie inconnue « magie »") && msg.contains("rayon"));
        let mut o = opts(&["primes"]);
        o.workers = vec![0, 2];
        assert!(err(o).contains("0 workers"));
        let mut o = opts(&["primes"]);
        o.size = Some(0);
        assert!(err(o).contains("--taille 0"));
        let mut o = opts(&["sumsq"]);
        o.size = Some(u64::MAX);
        let msg = err(o);
        assert!(msg.contains("sumsq") && msg.contains("2000000000"), "{msg}");
        let mut o = opts(&["pi"]);
        o.repetitions = 0;
        assert!(err(o).contains("--repetitions 0"));
    }

    #[test]
    fn strategies_not_applicable_to_a_workload_are_skipped_with_a_note() {
        let mut o = opts(&["primes", "ipc"]);
        o.strategies = vec!["seq".into(), "rayon".into()];
        let p = plan(&o).unwrap();
        assert!(p.cases.iter().all(|c| c.case.workload == Workload::Primes));
        assert!(p.notes.iter().any(|n| n.contains("ipc")));
    }

    fn m(w: &str, s: &str, n: usize, size: u64, ms: u64) -> Measurement {
        let t = Timings {
            samples: vec![Duration::from_millis(ms)],
        };
        Measurement::new(w, s, n, size, &t, 1.into(), true, Some(100))
    }

    #[test]
    fn groups_separate_sizes_and_targets_are_computed() {
        let all = vec![
            m("primes", "seq", 1, 10, 100),
            m("primes", "rayon", 2, 10, 52),
            m("io", "tokio", 100, 1000, 104),
            m("io", "tokio", 100, 100_000, 11_600),
            m("sumsq", "rayon", 2, 1_000_000_000, 1000),
            m("sumsq", "bandwidth", 2, 1_000_000_000, 900),
            m("wordcount", "seq", 1, 100_000_000, 1000),
            m("wordcount", "rayon", 2, 100_000_000, 500),
        ];
        assert_eq!(groups(&all).len(), 5);
        let rows = table_rows(&all);
        assert_eq!(rows[1][7], "96 %");
        // No baseline for the W6 groups: no speedup shown.
        assert_eq!(rows[3][6], "—");
        let mut bytes = BTreeMap::new();
        bytes.insert("wordcount".to_string(), 100_000_000);
        let f = target_figures(&all, &bytes).join("\n");
        assert!(
            f.contains("primes : efficacité de rayon sur 2 workers = 96,2 %"),
            "{f}"
        );
        assert!(f.contains("objectif ≥ 90 % : atteint"), "{f}");
        assert!(f.contains("90 % de la bande passante"), "{f}");
        assert!(f.contains("sumsq : rayon lit"), "{f}");
        // W3's best parallel sum is the faster of rayon and the ladder's top rung.
        let mut with_optimise = all.clone();
        with_optimise.push(m("sumsq", "optimise", 2, 1_000_000_000, 950));
        let f = target_figures(&with_optimise, &bytes).join("\n");
        assert!(f.contains("sumsq : optimise lit"), "{f}");
        assert!(f.contains("95 % de la bande passante"), "{f}");
        assert!(f.contains("écart +4,0 % ; le minuteur de tokio"), "{f}");
        assert!(f.contains("en coûte jusqu'à +10,0 %"), "{f}");
        assert!(f.contains("idéal au tick près 110,0 ms"), "{f}");
        assert!(
            f.contains("objectif ≤ 5 % au-delà du tick : atteint"),
            "{f}"
        );
        assert!(f.contains("écart +16,0 % ; le minuteur"), "{f}");
        assert!(f.contains("au-delà du tick : NON atteint"), "{f}");
        let with_cpu = Measurement {
            cpu_seconds: Some(0.0026),
            ..m("io", "threads", 100, 1000, 104)
        };
        let line = io_figure(&with_cpu);
        assert!(line.contains("CPU 2,6 ms (2,5 % du temps"), "{line}");
        assert!(!line.contains("minuteur de tokio"), "{line}");
        assert!(f.contains("wordcount : lecture + calcul à 100 Mo/s"), "{f}");
        assert!(f.contains("200 Mo/s au mieux (rayon ×2)"), "{f}");
        let csv = csv_rows(&all);
        assert_eq!(csv[1].speedup.map(|s| (s * 100.0).round()), Some(192.0));
        assert_eq!(csv[0].efficiency, None);
        assert_eq!(csv[2].speedup, None);
    }

    const JSON_KEYS: [&str; 12] = [
        "workload",
        "strategy",
        "workers",
        "size",
        "seconds",
        "min",
        "max",
        "runs",
        "answer",
        "ok",
        "peak_heap_bytes",
        "simd",
    ];

    #[test]
    fn json_mode_prints_only_json_lines_with_the_keys_of_workloads_md() {
        let dir = tempfile::tempdir().unwrap();
        let o = Options {
            workloads: vec!["primes".into(), "sumsq".into()],
            strategies: vec!["seq".into(), "rayon".into(), "bandwidth".into()],
            workers: vec![1, 2],
            size: Some(20_000),
            repetitions: 2,
            json: true,
            data_files: false,
        };
        let mut out = Vec::new();
        let r = run(&o, dir.path(), &dir.path().join("out"), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), r.measurements.len());
        assert_eq!(lines.len(), 3 + 5);
        for line in lines {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            // Exactly the keys of workloads.md, in its order, then the vector level.
            assert_eq!(v.as_object().unwrap().len(), JSON_KEYS.len(), "{line}");
            let positions: Vec<usize> = JSON_KEYS
                .iter()
                .map(|k| line.find(&format!("\"{k}\":")).expect(k))
                .collect();
            assert!(positions.windows(2).all(|p| p[0] < p[1]), "{line}");
            assert_eq!(v["ok"], true);
            assert_eq!(v["simd"], crate::cpu::level().name());
            assert_eq!(v["runs"], 2);
            assert_eq!(v["size"], 20_000);
        }
        let out = dir.path().join("out");
        for f in [
            "bench.csv",
            "bench.json",
            "bench_acceleration.png",
            "bench_acceleration_primes.svg",
            "bench_efficacite.png",
            "bench_strategies_sumsq.png",
        ] {
            assert!(out.join(f).is_file(), "{f} missing");
        }
        let csv = std::fs::read_to_string(out.join("bench.csv")).unwrap();
        assert!(csv.starts_with("workload,strategy,workers,size,seconds"));
        assert!(csv.contains("speedup,efficiency"));
    }

    #[test]
    fn file_workloads_generate_their_data_and_print_a_french_table() {
        let dir = tempfile::tempdir().unwrap();
        let o = Options {
            workloads: vec!["groupby".into(), "wordcount".into()],
            // OS processes need the `tp4` binary: tested in crates/tp4-cli/tests.
            strategies: vec!["seq".into(), "rayon".into()],
            workers: vec![2],
            size: Some(1),
            repetitions: 1,
            json: false,
            data_files: false,
        };
        let mut out = Vec::new();
        let r = run(&o, dir.path(), &dir.path().join("out"), &mut out).unwrap();
        assert!(transactions_file(dir.path(), 1).is_file());
        assert!(corpus_file(dir.path(), 1).is_file());
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("médiane") && text.contains("✓ juste"),
            "{text}"
        );
        assert!(text.contains("Mo/s"), "{text}");
        assert!(r.measurements.iter().all(|m| m.ok));
        assert!(r
            .measurements
            .iter()
            .any(|m| m.workload == "groupby" && m.size == 1));
    }
}
