//! Compiling the class: one cargo workspace holding one generated crate per
//! submission, built with one `cargo build --keep-going --message-format=json`, so
//! that `tp4` and its dependencies compile once for the class and the submissions'
//! crates compile in parallel. A compile error is charged to the question whose
//! lines it falls in (rustc's JSON spans against the generator's line owners): that
//! question's answers are replaced by the template's `todo!()` versions and the
//! crate is built again, until it builds (at most once per question, plus one).

use crate::generate::{self, Generated, Owner};
use crate::submission::Answers;
use crate::template::Template;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One submission being compiled.
#[derive(Debug, Clone)]
pub struct Job {
    /// The crate's package name (`copie-001`).
    pub package: String,
    /// The student's items.
    pub answers: Answers,
    /// Questions whose answers were replaced, with the first compile error.
    pub broken: BTreeMap<String, String>,
    /// The compiled program, once built.
    pub binary: Option<PathBuf>,
    /// Why it could not be built at all (French), if so.
    pub failure: Option<String>,
}

impl Job {
    /// The generated source with broken questions' answers replaced.
    pub fn generate(&self, t: &Template) -> Generated {
        let mut chosen = BTreeMap::new();
        for a in &t.answers {
            if self.broken.contains_key(&a.question) {
                continue; // the template's version
            }
            if let Some(text) = self.answers.answers.get(&a.name) {
                chosen.insert(a.name.clone(), text.clone());
            }
        }
        let helpers = self
            .answers
            .helpers
            .iter()
            .filter(|(q, _)| !self.broken.contains_key(*q))
            .map(|(q, h)| (q.clone(), h.clone()))
            .collect();
        generate::main_rs(t, &chosen, &helpers)
    }
}

/// The question an owner's errors are charged to.
fn question_of(owner: &Owner, t: &Template) -> Option<String> {
    match owner {
        Owner::Answer(name) => t
            .answers
            .iter()
            .find(|a| &a.name == name)
            .map(|a| a.question.clone()),
        Owner::Helpers(q) | Owner::Check(q) => Some(q.clone()),
    }
}

/// Writes the workspace and the crates of `jobs` under `dir`.
fn write_workspace(dir: &Path, t: &Template, jobs: &[Job]) -> tp4::Result<Vec<Generated>> {
    let members: Vec<String> = jobs.iter().map(|j| j.package.clone()).collect();
    tp4::output::write_text(&dir.join("Cargo.toml"), &generate::workspace_toml(&members))?;
    let lock = t.root.join("Cargo.lock");
    if !dir.join("Cargo.lock").exists() && lock.is_file() {
        // The repository's versions: no dependency resolution, no network.
        std::fs::copy(&lock, dir.join("Cargo.lock"))
            .map_err(|e| tp4::Error::io("écriture de", &dir.join("Cargo.lock"), e))?;
    }
    let mut out = Vec::new();
    for j in jobs {
        let krate = dir.join(&j.package);
        let toml = generate::cargo_toml(t, &j.package);
        write_if_changed(&krate.join("Cargo.toml"), &toml)?;
        let g = j.generate(t);
        write_if_changed(&krate.join("src/main.rs"), &g.main_rs)?;
        out.push(g);
    }
    Ok(out)
}

fn write_if_changed(path: &Path, text: &str) -> tp4::Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| tp4::Error::io("création de", parent, e))?;
    }
    tp4::output::write_text(path, text)
}

/// What one cargo invocation said, per package.
#[derive(Default)]
struct CargoReport {
    /// package → errors `(line in main.rs or None, message)`.
    errors: BTreeMap<String, Vec<(Option<usize>, String)>>,
    /// package → executable.
    binaries: BTreeMap<String, PathBuf>,
    /// cargo's own stderr (dependency failures, lock problems).
    stderr: String,
}

fn package_name(id: &str) -> String {
    // "path+file:///…/copie-001#0.0.0" or "copie-001 0.0.0 (path+file://…)".
    let id = id.split(' ').next().unwrap_or(id);
    let id = id.rsplit('/').next().unwrap_or(id);
    id.split('#').next().unwrap_or(id).to_string()
}

fn cargo(dir: &Path, packages: &[&str], jobs: Option<usize>) -> tp4::Result<CargoReport> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(dir)
        .args(["build", "--keep-going", "--message-format=json"])
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for p in packages {
        cmd.args(["-p", p]);
    }
    if let Some(j) = jobs {
        cmd.arg(format!("-j{j}"));
    }
    let out = cmd.output().map_err(|e| {
        tp4::Error::Other(format!(
            "cargo introuvable ({e}) : la correction compile les copies avec cargo ; installez Rust"
        ))
    })?;
    let mut report = CargoReport {
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ..Default::default()
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let pkg = package_name(v["package_id"].as_str().unwrap_or(""));
        match v["reason"].as_str() {
            Some("compiler-artifact") => {
                if let Some(exe) = v["executable"].as_str() {
                    report.binaries.insert(pkg, PathBuf::from(exe));
                }
            }
            Some("compiler-message") if v["message"]["level"] == "error" => {
                let m = &v["message"];
                let line = m["spans"].as_array().and_then(|spans| {
                    spans
                        .iter()
                        .find(|s| s["is_primary"] == true)
                        .and_then(|s| s["line_start"].as_u64())
                        .map(|l| l as usize)
                });
                let text = m["rendered"]
                    .as_str()
                    .or(m["message"].as_str())
                    .unwrap_or("")
                    .to_string();
                if m["spans"].as_array().is_some_and(|s| !s.is_empty()) {
                    report.errors.entry(pkg).or_default().push((line, text));
                } else {
                    report.errors.entry(pkg).or_default();
                }
            }
            _ => {}
        }
    }
    Ok(report)
}

/// The first lines of a rendered compile error, for the feedback.
fn short_error(text: &str) -> String {
    let lines: Vec<&str> = text.lines().take(12).collect();
    lines.join("\n")
}

/// Compiles every job in `dir` (the class workspace), charging compile errors to
/// questions, until each job builds or cannot be built. `progress` is told how many
/// jobs are built after each round.
pub fn build_all(
    dir: &Path,
    t: &Template,
    jobs: &mut [Job],
    cargo_jobs: Option<usize>,
    mut progress: impl FnMut(usize, &str),
) -> tp4::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| tp4::Error::io("création de", dir, e))?;
    let rounds = t.questions.len() + 2;
    for round in 0..rounds {
        let gens = write_workspace(dir, t, jobs)?;
        let pending: Vec<usize> = (0..jobs.len())
            .filter(|&i| jobs[i].binary.is_none() && jobs[i].failure.is_none())
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        progress(
            jobs.len() - pending.len(),
            &format!(
                "compilation, passe {} ({} copies)",
                round + 1,
                pending.len()
            ),
        );
        let names: Vec<&str> = pending.iter().map(|&i| jobs[i].package.as_str()).collect();
        let report = cargo(dir, &names, cargo_jobs)?;
        for &i in &pending {
            let job = &mut jobs[i];
            let errors = report.errors.get(&job.package);
            match (errors, report.binaries.get(&job.package)) {
                (None, Some(bin)) => job.binary = Some(bin.clone()),
                (errors, _) => {
                    let errors = errors.cloned().unwrap_or_default();
                    let mut charged = BTreeSet::new();
                    for (line, text) in &errors {
                        let owner = line.and_then(|l| gens[i].owner(l));
                        if let Some(q) = owner.and_then(|o| question_of(o, t)) {
                            if !job.broken.contains_key(&q) {
                                job.broken.insert(q.clone(), short_error(text));
                            }
                            charged.insert(q);
                        }
                    }
                    if charged.is_empty() {
                        // Not attributable (the teacher's code, the linker, cargo):
                        // every answer goes, then the template must build.
                        let all_broken = t.questions.iter().all(|q| job.broken.contains_key(&q.id));
                        let why = errors
                            .first()
                            .map(|(_, e)| short_error(e))
                            .unwrap_or_else(|| short_error(&report.stderr));
                        if all_broken {
                            job.failure = Some(format!(
                                "le programme de correction ne compile pas même sans les réponses de l'élève : {why}"
                            ));
                        } else {
                            for q in &t.questions {
                                job.broken.entry(q.id.clone()).or_insert_with(|| {
                                    format!("erreur non attribuable à une question : {why}")
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    for job in jobs.iter_mut().filter(|j| j.binary.is_none()) {
        job.failure.get_or_insert_with(|| {
            "la compilation n'a pas abouti après le nombre maximal de passes".into()
        });
    }
    Ok(())
}
