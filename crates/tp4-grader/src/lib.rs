//! `tp4 corriger`: grades a class of student notebooks (`tp4.ipynb`) against the
//! teacher's checks, safely and fast enough for a class.
//!
//! Design (in French for teachers in `docs/correction.md`):
//! 1. [`template`] reads `notebook/tp4.md` at grading time: the teacher's items
//!    and setup `let`s, per question its answer items (found by the names they
//!    define) and its checks and points. The grader holds no copy of any check.
//! 2. [`submission`] reads each `.ipynb` (`COPIES/*.ipynb` or `COPIES/<élève>/*.ipynb`)
//!    and takes out the student's items of those names, wherever they are; check
//!    cells, statements and cell metadata of the submission are ignored.
//! 3. [`generate`] writes one crate per submission (teacher's code, student's
//!    answers, teacher's checks, one function per question) and [`build`] compiles
//!    them all in one cargo workspace with one shared target dir; a compile error
//!    costs only the question its span falls in (its answers become `todo!()`).
//! 4. [`sandbox`] runs each question in its own child process under limits (time,
//!    CPU, memory, processes, file size), without network, in a throwaway directory,
//!    as a dedicated uid that sees neither the class folder nor the outputs, and
//!    kills whatever it left behind; [`verdict`] reads the check's own verdict line.
//! 5. [`report`] writes `notes.csv`, `notes.jsonl`, one feedback file per student,
//!    `classe.md` and the pass-rate plot.

pub mod build;
pub mod generate;
pub mod report;
pub mod sandbox;
pub mod split;
pub mod submission;
pub mod template;
pub mod verdict;

use build::Job;
use report::StudentReport;
use sandbox::{Isolation, Limits};
use std::path::{Path, PathBuf};
use template::Template;
use verdict::{Outcome, QuestionResult};

/// What to grade and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The repository root (holds `notebook/tp4.md` and `crates/tp4`).
    pub root: PathBuf,
    /// The class folder.
    pub copies: PathBuf,
    /// Where the results go.
    pub output: PathBuf,
    /// Where the generated crates and their shared target dir go (kept between
    /// runs: a second run recompiles only what changed).
    pub work: PathBuf,
    /// Per-question limits.
    pub limits: Limits,
    /// Parallel compile jobs (`None`: cargo's default).
    pub cargo_jobs: Option<usize>,
    /// The worker program for exercises 4 and 5 (`TP4_EXE`), visible in the sandbox.
    pub worker: Option<PathBuf>,
    /// Only these questions (all when empty).
    pub questions: Vec<String>,
}

/// The grading of a class.
#[derive(Debug, Clone)]
pub struct ClassReport {
    /// One report per submission, sorted by student.
    pub students: Vec<StudentReport>,
    /// The files written.
    pub written: Vec<PathBuf>,
    /// How isolated the runs were (French note when partial).
    pub isolation_note: String,
    /// Seconds spent compiling and running.
    pub compile_seconds: f64,
    /// Seconds spent running the questions.
    pub run_seconds: f64,
}

/// Progress callbacks (the CLI draws a bar; tests pass nothing).
pub trait Progress {
    /// Sets the number of steps and what is being done.
    fn start(&mut self, _len: u64, _what: &str) {}
    /// One step more, naming the student.
    fn step(&mut self, _student: &str) {}
}

/// No progress display.
pub struct Silent;
impl Progress for Silent {}

/// Grades the class described by `opts`.
pub fn grade(opts: &Options, progress: &mut dyn Progress) -> tp4::Result<ClassReport> {
    let mut t = Template::load(&opts.root)?;
    if !opts.questions.is_empty() {
        t.questions.retain(|q| opts.questions.contains(&q.id));
    }
    let entries = submission::list(&opts.copies)?;
    if entries.is_empty() {
        return Err(tp4::Error::InvalidParameter(format!(
            "aucune copie dans {} : déposez-y les notebooks rendus (eleve.ipynb, ou un dossier \
             par élève contenant son .ipynb)",
            opts.copies.display()
        )));
    }
    let max = t.total_points();
    let mut students: Vec<StudentReport> = Vec::new();
    let mut jobs: Vec<Job> = Vec::new();
    let mut job_of: Vec<Option<usize>> = Vec::new();
    for e in &entries {
        let mut report = StudentReport {
            student: e.student.clone(),
            file: e.path.display().to_string(),
            questions: Vec::new(),
            total: 0.0,
            max,
            error: None,
        };
        match submission::read(&e.path, &t) {
            // Identical answers (e.g. untouched templates) compile once.
            Ok(answers) if jobs.iter().any(|j| j.answers == answers) => {
                job_of.push(jobs.iter().position(|j| j.answers == answers));
            }
            Ok(answers) => {
                job_of.push(Some(jobs.len()));
                jobs.push(Job {
                    package: format!("copie-{:03}", jobs.len() + 1),
                    answers,
                    broken: Default::default(),
                    binary: None,
                    failure: None,
                });
            }
            Err(why) => {
                report.error = Some(why);
                job_of.push(None);
            }
        }
        students.push(report);
    }
    let t0 = std::time::Instant::now();
    let class_dir = opts.work.join("classe");
    progress.start(jobs.len() as u64, "compilation");
    build::build_all(&class_dir, &t, &mut jobs, opts.cargo_jobs, |_, what| {
        progress.step(what)
    })?;
    let compile_seconds = t0.elapsed().as_secs_f64();

    let hidden = [&opts.copies, &opts.work, &opts.output]
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    // The lab's data and the worker program stay reachable from the runs.
    let visible = [Some(opts.root.join("data")), opts.worker.clone()]
        .into_iter()
        .flatten()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let iso = Isolation::probe(hidden, visible);
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
        ("RUST_BACKTRACE".into(), "0".into()),
        ("LANG".into(), "C.UTF-8".into()),
    ];
    if let Some(w) = &opts.worker {
        env.push((tp4::procs::EXE_ENV.into(), w.display().to_string()));
    }
    let t1 = std::time::Instant::now();
    let runs = job_of
        .iter()
        .filter(|j| j.is_some_and(|j| jobs[j].binary.is_some()))
        .count()
        * t.questions.len();
    progress.start(runs as u64, "exécution des vérifications");
    for (report, job) in students.iter_mut().zip(&job_of) {
        let Some(j) = job else { continue };
        let job = &jobs[*j];
        if let Some(f) = &job.failure {
            report.error = Some(f.clone());
            continue;
        }
        let binary = job.binary.clone().expect("built jobs have a binary");
        for q in &t.questions {
            progress.step(&format!("{} : question {}", report.student, q.id));
            let result = grade_question(&t, job, &binary, q, &env, &opts.limits, &iso);
            report.total += result.points;
            report.questions.push(result);
        }
    }
    let run_seconds = t1.elapsed().as_secs_f64();
    let written = report::write_all(
        &opts.output,
        &t,
        &students,
        &opts.limits.describe(iso.switch_uid),
    )?;
    Ok(ClassReport {
        students,
        written,
        isolation_note: iso.note,
        compile_seconds,
        run_seconds,
    })
}

fn grade_question(
    t: &Template,
    job: &Job,
    binary: &Path,
    q: &template::Question,
    env: &[(String, String)],
    limits: &Limits,
    iso: &Isolation,
) -> QuestionResult {
    let names: Vec<&str> = t
        .answers
        .iter()
        .filter(|a| a.question == q.id)
        .map(|a| a.name.as_str())
        .collect();
    if let Some(error) = job.broken.get(&q.id) {
        return QuestionResult {
            question: q.id.clone(),
            outcome: Outcome::CompileError,
            points: 0.0,
            message: format!(
                "erreur de compilation (la réponse a été remplacée par todo!()) :\n{error}"
            ),
            seconds: 0.0,
        };
    }
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !job.answers.answers.contains_key(*n))
        .collect();
    if !missing.is_empty() {
        return QuestionResult {
            question: q.id.clone(),
            outcome: Outcome::Missing,
            points: 0.0,
            message: format!(
                "réponse absente : aucune fonction {} dans la copie (renommée ou supprimée ?)",
                missing.join(", ")
            ),
            seconds: 0.0,
        };
    }
    let nonce = sandbox::nonce();
    match sandbox::run(binary, &q.id, &nonce, env, limits, iso) {
        Ok(run) => verdict::judge(&run, &nonce, &q.id, q.points, q.checks.len()),
        Err(e) => QuestionResult {
            question: q.id.clone(),
            outcome: Outcome::Panic,
            points: 0.0,
            message: format!("impossible de lancer la vérification : {e}"),
            seconds: 0.0,
        },
    }
}
