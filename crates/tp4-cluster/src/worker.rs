//! The process mode of `tp4 cluster`: what one process of a run does, whether the
//! local launcher started it or a person started it by hand on another host.
//!
//! - A panic anywhere in the process (a worker, a timely network thread that lost
//!   its peer) aborts the process at once, after a French message: a panicking
//!   worker that unwound would leave the other processes waiting forever.
//! - Under the launcher (`supervised`), the process prints a heartbeat line every
//!   200 ms, reports its figures in `@tp4 ...` lines that the launcher reads (see
//!   [`crate::protocol`]), and exits if its standard input closes (the launcher is
//!   gone: no orphan).
//! - Process 0 prints the answer in French, checks it against an exact answer
//!   computed on its machine alone (the `optimise` kernel, timed apart from the run)
//!   when every process reads the same file, and writes it to output/.

use crate::dataflow::{Fault, Input, ShuffleStats};
use crate::jobs::Answer;
use crate::phases::{self, WorkerPhases};
use crate::process::{self, ProcessOutcome};
use crate::progress;
use crate::protocol::{
    self, RunSummary, EXIT_LAUNCHER_GONE, FAULT_VARIABLE, HEARTBEAT, HEARTBEAT_PERIOD,
    LOST_CONNECTION,
};
use crate::topology::Topology;
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tp4::{fr, Error, Result};

/// How one process is run.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The run, as seen from this process.
    pub topology: Topology,
    /// The job and its input file.
    pub input: Input,
    /// Where process 0 writes its files.
    pub output: PathBuf,
    /// Started by the local launcher (heartbeat, `@tp4` lines, stdin watch).
    pub supervised: bool,
    /// How long to wait for the other processes to connect.
    pub connect_deadline: Duration,
    /// Without a launcher (hostfile mode), the process ends itself after this long:
    /// a frozen peer on another host must not leave it waiting forever.
    pub total_deadline: Option<Duration>,
    /// Process 0 checks the answer against an exact answer computed on its machine
    /// alone ([`Answer::single_machine`]), timed apart from the run; the
    /// measurements turn it off after checking their first run.
    pub verify: bool,
    /// Process 0 prints its summary as one JSON line instead of the French report
    /// (`tp4 cluster … --json` by hand; under the launcher, the launcher prints it).
    pub json: bool,
}

/// Reads [`FAULT_VARIABLE`] for `process`: `Ok(None)` when it targets another
/// process or is unset; `Some(None)` means "never start".
pub fn fault_for(process: usize, value: Option<&str>) -> Result<Option<Option<Fault>>> {
    let Some(v) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let bad = || {
        Error::InvalidParameter(format!(
            "{FAULT_VARIABLE}={v} : attendu I:jamais, I:panique, I:faux ou I:lent:MS"
        ))
    };
    let mut parts = v.trim().split(':');
    let target: usize = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let kind = parts.next().ok_or_else(bad)?;
    let fault = match kind {
        "jamais" => None,
        "panique" => Some(Fault::Panic),
        "faux" => Some(Fault::Wrong),
        "lent" => {
            let ms: u64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
            Some(Fault::Slow(Duration::from_millis(ms)))
        }
        _ => return Err(bad()),
    };
    Ok((target == process).then_some(fault))
}

/// Runs this process of the run; on process 0, prints and writes the answer.
pub fn run(mut opts: WorkerOptions) -> Result<()> {
    phases::mark_process_start();
    let me = opts.topology.process;
    install_abort_on_panic(me);
    // The simulated failures of the tests: a panic or a slow read in every mode
    // (the hostfile tests cut a link during a slowed run), "never starts" only under
    // a launcher (by hand, there is nobody to notice).
    let fault = fault_for(me, std::env::var(FAULT_VARIABLE).ok().as_deref())?;
    if let Some(Some(f)) = fault {
        opts.input.fault = Some(f);
    }
    if opts.supervised {
        if let Some(None) = fault {
            loop {
                // Simulates a process that never starts: no heartbeat, no socket.
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        start_heartbeat(opts.topology.threads);
        exit_when_stdin_closes(me);
    }
    if let Some(limit) = opts.total_deadline {
        exit_after(me, limit);
    }
    let outcome = process::run(&opts.topology, &opts.input, opts.connect_deadline)?;
    if opts.supervised {
        println!("{}", protocol::done_line(outcome.wire_bytes));
    }
    if let Some(summary) = report(&opts, &outcome)? {
        if opts.supervised {
            println!("{}", protocol::result_line(&summary));
        }
    }
    Ok(())
}

/// Makes any panic of this process print a French message and abort it, so that the
/// other processes (and the launcher) see it die instead of waiting for it. Only the
/// cluster process mode installs it: elsewhere in `tp4`, panics keep unwinding
/// (the checkers of the exercises catch them).
fn install_abort_on_panic(process: usize) {
    std::panic::set_hook(Box::new(move |info| {
        let msg = tp4::verif::panic::message(info.payload());
        if msg.contains("timely communication error") {
            eprintln!(
                "erreur : processus {process} : {LOST_CONNECTION} avec un autre processus ({msg}).\n  \
                 → un processus s'est arrêté ou a planté ; timely ne sait pas reprendre un calcul \
                 en cours : relancez toute la commande."
            );
        } else {
            let place = info
                .location()
                .map(|l| format!(" ({}:{})", l.file(), l.line()))
                .unwrap_or_default();
            eprintln!("erreur : le processus {process} a paniqué : {msg}{place}");
        }
        std::process::abort();
    }));
}

/// Prints [`HEARTBEAT`] every [`HEARTBEAT_PERIOD`] for the launcher, and once the
/// `threads` workers of this process finished their map step, the "map done" line
/// ([`protocol::mapped_line`]) with the longest of those steps.
fn start_heartbeat(threads: usize) {
    std::thread::spawn(move || {
        let mut reported = false;
        loop {
            if !reported {
                if let Some(seconds) = progress::all_mapped(threads) {
                    println!("{}", protocol::mapped_line(seconds));
                    reported = true;
                }
            }
            println!("{HEARTBEAT}");
            std::thread::sleep(HEARTBEAT_PERIOD);
        }
    });
}

/// Ends the process if its standard input closes: the launcher died (even killed
/// with SIGKILL, it cannot leave this process behind).
fn exit_when_stdin_closes(process: usize) {
    std::thread::spawn(move || {
        let mut sink = [0u8; 64];
        let mut stdin = std::io::stdin();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        eprintln!("erreur : processus {process} : le lanceur a disparu, arrêt.");
        std::process::exit(EXIT_LAUNCHER_GONE);
    });
}

/// Ends the process with a French error if the run is still going after `limit`.
fn exit_after(process: usize, limit: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!(
            "erreur : processus {process} : le calcul dépasse le délai total de {} s (--delai) ; \
             un autre processus est peut-être gelé ou trop lent.\n  → arrêt de ce processus ; \
             arrêtez les autres et relancez-les tous (avec un --delai plus grand si le calcul \
             est simplement long).",
            fr::seconds_plain(limit)
        );
        std::process::exit(1);
    });
}

/// On process 0: prints the answer, checks it, writes it; returns the summary.
fn report(opts: &WorkerOptions, outcome: &ProcessOutcome) -> Result<Option<RunSummary>> {
    let Some((answer, stats)) = &outcome.answer else {
        return Ok(None);
    };
    let t = &opts.topology;
    let job = opts.input.job;
    let checking = std::time::Instant::now();
    let verified = if opts.input.local_partition || !opts.verify {
        None
    } else {
        let exact = Answer::single_machine(job, &opts.input.path, verification_threads())?;
        if &exact != answer {
            return Err(Error::WrongAnswer {
                what: format!("tp4 cluster {}", job.name()),
                expected: headline(&exact),
                got: headline(answer),
            });
        }
        Some(true)
    };
    let verification_seconds = verified.map(|_| checking.elapsed().as_secs_f64());
    answer.check_not_empty(&opts.input.path)?;
    let (total, distinct, top) = figures(answer);
    let summary = RunSummary {
        job: job.name().into(),
        processes: t.processes(),
        threads: t.threads,
        seconds: outcome.seconds,
        total,
        distinct,
        top,
        pairs: stats.iter().map(|s| s.pairs).sum(),
        remote_pairs: stats.iter().map(|s| s.remote_pairs).sum(),
        remote_bytes: stats.iter().map(|s| s.remote_bytes).sum(),
        wire_bytes_process0: outcome.wire_bytes,
        verified,
        verification_seconds,
        phases: stats.iter().map(|s| s.phases.clone()).collect(),
    };
    let files =
        write_files(&opts.output, answer, &summary).map_err(|e| full_disk(&opts.output, e))?;
    if opts.json {
        if !opts.supervised {
            println!(
                "{}",
                serde_json::to_string(&summary).map_err(|e| Error::Other(e.to_string()))?
            );
        }
    } else {
        print!(
            "{}",
            render(
                &summary,
                answer,
                stats,
                &files,
                opts.supervised,
                !opts.input.local_partition
            )
        );
    }
    Ok(Some(summary))
}

/// Threads of the verification: every core of this machine (the run is over, its
/// workers are idle).
fn verification_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Total, distinct and top list of an answer.
fn figures(answer: &Answer) -> (u64, u64, Vec<(String, i64)>) {
    // Words and names are cut for display (`fr::cut` says how long they were): the
    // report, the summary and the JSON line stay proportionate to the answer, not to
    // one 100 MB word of the input. `cluster_<calcul>.csv` keeps them whole.
    let shown = |name: String| fr::cut(&name, fr::NAME_CHARS);
    match answer {
        Answer::WordCount(wc) => (
            wc.total,
            wc.distinct() as u64,
            wc.top(10)
                .into_iter()
                .map(|(w, c)| (shown(w), c as i64))
                .collect(),
        ),
        Answer::GroupBy(g) => (
            g.rows(),
            g.categories.len() as u64,
            g.top_cities(3)
                .into_iter()
                .map(|(c, cents)| (shown(c), cents))
                .collect(),
        ),
    }
}

/// One line that identifies an answer (for a wrong-answer message).
fn headline(answer: &Answer) -> String {
    let (total, distinct, top) = figures(answer);
    format!("total {total}, {distinct} clés, tête {top:?}")
}

/// The error of a result file that could not be written: on a full disk (or a
/// quota reached), says so in French with how to fix it (free space, or another
/// `--output`); any other error as it is.
fn full_disk(output: &Path, e: Error) -> Error {
    let full = |s: &std::io::Error| {
        matches!(
            s.kind(),
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
        ) || s.raw_os_error() == Some(28)
    };
    match e {
        Error::Io {
            ref path,
            ref source,
            ..
        } if full(source) => Error::Other(format!(
            "le disque du dossier de sortie {} est plein : le résultat ({}) n'a pas pu y être \
             écrit\n  → libérez de la place (voyez \
             `df -h {}`) ou choisissez un autre dossier de sortie avec `--output DIR`, puis \
             relancez la commande",
            output.display(),
            path.display(),
            output.display()
        )),
        other => other,
    }
}

/// A row of `cluster_wordcount.csv` (French column names: a file for the student).
#[derive(Serialize)]
struct WordRow {
    mot: String,
    occurrences: u64,
}

/// A row of `cluster_groupby.csv`: a category (with its rows) or a city (rows left
/// empty: the reference does not count them per city).
#[derive(Serialize)]
struct GroupRow {
    groupe: &'static str,
    cle: String,
    montant_centimes: i64,
    lignes: Option<u64>,
}

/// Writes the answer (CSV) and the summary (JSON) atomically into `output`.
fn write_files(output: &Path, answer: &Answer, summary: &RunSummary) -> Result<Vec<PathBuf>> {
    let csv = output.join(format!("cluster_{}.csv", summary.job));
    match answer {
        Answer::WordCount(wc) => {
            let mut rows: Vec<WordRow> = wc
                .counts
                .iter()
                .map(|(w, &c)| WordRow {
                    mot: String::from_utf8_lossy(w).into_owned(),
                    occurrences: c,
                })
                .collect();
            rows.sort_by(|a, b| b.occurrences.cmp(&a.occurrences).then(a.mot.cmp(&b.mot)));
            tp4::output::write_csv(&csv, &rows)?;
        }
        Answer::GroupBy(g) => {
            let categories = g
                .categories()
                .into_iter()
                .map(|(name, cents, rows)| GroupRow {
                    groupe: "categorie",
                    cle: name.clone(),
                    montant_centimes: cents,
                    lignes: Some(rows),
                });
            let cities = g.cities.iter().map(|(city, &cents)| GroupRow {
                groupe: "ville",
                cle: city.clone(),
                montant_centimes: cents,
                lignes: None,
            });
            let rows: Vec<GroupRow> = categories.chain(cities).collect();
            tp4::output::write_csv(&csv, &rows)?;
        }
    }
    let json = output.join(format!("cluster_{}.json", summary.job));
    tp4::output::write_json_lines(&json, std::slice::from_ref(summary))?;
    Ok(vec![csv, json])
}

/// The French report printed by process 0.
fn render(
    s: &RunSummary,
    answer: &Answer,
    stats: &[ShuffleStats],
    files: &[PathBuf],
    supervised: bool,
    verify_possible: bool,
) -> String {
    let mut out = format!(
        "── tp4 cluster {} : {} processus × {} = {} ──\n",
        s.job,
        s.processes,
        tp4::fr::count(s.threads as u64, "thread", "threads"),
        tp4::fr::count(
            (s.processes * s.threads) as u64,
            "travailleur",
            "travailleurs"
        )
    );
    out.push_str(&render_answer(s, answer));
    out.push('\n');
    out.push_str(&render_exchange(s, stats, supervised));
    out.push_str(&render_verification(s, verify_possible));
    out.push_str(&render_phases(&s.phases));
    out.push_str(&format!(
        "Temps du processus 0 (connexions comprises) : {}.\nFichiers écrits :\n",
        fr::seconds(s.seconds)
    ));
    for f in files {
        out.push_str(&format!("  {}\n", f.display()));
    }
    out
}

/// Categories shown in the report (all of them are in `cluster_groupby.csv`).
const SHOWN_CATEGORIES: usize = 30;

/// The answer part of the report: the top words, or the totals per category and
/// the top cities (names cut for display).
fn render_answer(s: &RunSummary, answer: &Answer) -> String {
    let mut out = String::new();
    match answer {
        Answer::WordCount(_) => {
            out.push_str(&format!(
                "Mots : {} au total, {}.\nLes 10 plus fréquents (égalités : ordre alphabétique) :\n",
                s.total,
                fr::count(s.distinct, "distinct", "distincts")
            ));
            let rows = s
                .top
                .iter()
                .enumerate()
                .map(|(i, (w, c))| vec![(i + 1).to_string(), w.clone(), c.to_string()])
                .collect();
            out.push_str(&tp4::output::table(
                &["rang", "mot", "occurrences"],
                2,
                rows,
            ));
        }
        Answer::GroupBy(g) => {
            out.push_str(&format!("Lignes lues : {}.\n", s.total));
            let rows = g
                .categories()
                .into_iter()
                .take(SHOWN_CATEGORIES)
                .map(|(c, cents, n)| {
                    vec![
                        fr::cut(&c, fr::NAME_CHARS),
                        fr::euros_plain_ungrouped(cents),
                        n.to_string(),
                    ]
                })
                .collect();
            out.push_str(&tp4::output::table(
                &["catégorie", "montant total (€)", "lignes"],
                1,
                rows,
            ));
            if g.categories.len() > SHOWN_CATEGORIES {
                out.push_str(&format!(
                    "… et {} autres catégories (toutes dans cluster_groupby.csv).\n",
                    g.categories.len() - SHOWN_CATEGORIES
                ));
            }
            out.push_str("\nLes 3 villes au plus gros montant :\n");
            let rows = s
                .top
                .iter()
                .map(|(c, cents)| vec![c.clone(), fr::euros_plain_ungrouped(*cents)])
                .collect();
            out.push_str(&tp4::output::table(
                &["ville", "montant total (€)"],
                1,
                rows,
            ));
        }
    }
    out
}

/// The shuffle part of the report: pairs per worker, remote pairs and bytes.
fn render_exchange(s: &RunSummary, stats: &[ShuffleStats], supervised: bool) -> String {
    let per_worker: Vec<String> = stats
        .iter()
        .map(|st| format!("{} → {}", st.worker, st.pairs))
        .collect();
    let mut out = format!(
        "Échange (shuffle) : {} après les combineurs (par travailleur : {}), dont {} \
         vers un autre processus, soit {} de données utiles.\n",
        fr::count(s.pairs, "paire", "paires"),
        per_worker.join(", "),
        s.remote_pairs,
        fr::bytes(s.remote_bytes)
    );
    if !supervised && s.processes > 1 {
        out.push_str(&format!(
            "Octets envoyés sur le réseau par ce processus (messages de timely, progression \
             comprise) : {}.\n",
            fr::bytes(s.wire_bytes_process0)
        ));
    }
    out
}

/// The headers of the table of phases.
const PHASE_HEADERS: [&str; 9] = [
    "processus",
    "travailleur",
    "lancement",
    "connexions",
    "map",
    "échange",
    "réduction",
    "rassemblement",
    "total",
];

/// The table of where the time went, one row per worker, and what it means.
pub fn render_phases(phases: &[WorkerPhases]) -> String {
    if phases.is_empty() {
        return String::new();
    }
    let time = |s: f64| fr::seconds(s);
    let maybe = |s: Option<f64>| s.map_or_else(|| "—".to_string(), time);
    let rows = phases
        .iter()
        .map(|p| {
            vec![
                p.process.to_string(),
                p.worker.to_string(),
                maybe(p.launch),
                time(p.connect),
                time(p.map),
                time(p.shuffle),
                time(p.reduce),
                maybe(p.gather),
                time(p.total),
            ]
        })
        .collect();
    format!(
        "Où passe le temps, par travailleur (lancement : du lanceur au début du processus ; \
         connexions : TCP et poignée de main ; échange : attente des paires des autres \
         travailleurs ; total : depuis le début du processus) :\n{}\n",
        tp4::output::table(&PHASE_HEADERS, 0, rows)
    )
}

/// The verification line of the report.
fn render_verification(s: &RunSummary, verify_possible: bool) -> String {
    match s.verified {
        Some(_) => format!(
            "Vérification : identique au calcul exact sur une seule machine (noyau `optimise` \
             de tp4 bench sur {}, sans le cluster) ; faite après le calcul distribué, elle a \
             pris {}, hors des temps du calcul ci-dessous.\n",
            tp4::fr::count(verification_threads() as u64, "thread", "threads"),
            fr::seconds(s.verification_seconds.unwrap_or(0.0))
        ),
        None if !verify_possible => {
            "Vérification : impossible ici (chaque processus a lu sa propre partition).\n"
                .to_string()
        }
        None => "Vérification : non faite (--sans-verification).\n".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::Job;

    #[test]
    fn fault_variable() {
        assert_eq!(fault_for(1, None).unwrap(), None);
        assert_eq!(fault_for(1, Some("2:panique")).unwrap(), None);
        assert_eq!(
            fault_for(2, Some("2:panique")).unwrap(),
            Some(Some(Fault::Panic))
        );
        assert_eq!(fault_for(0, Some("0:jamais")).unwrap(), Some(None));
        assert_eq!(
            fault_for(1, Some("1:lent:250")).unwrap(),
            Some(Some(Fault::Slow(Duration::from_millis(250))))
        );
        assert!(fault_for(1, Some("1:boum")).is_err());
        assert!(fault_for(1, Some("x:jamais")).is_err());
    }

    #[test]
    fn process_zero_writes_checked_files() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus.txt");
        std::fs::write(&corpus, "b a c\na b, d\n").unwrap();
        let opts = WorkerOptions {
            topology: Topology {
                process: 0,
                threads: 2,
                addresses: vec!["127.0.0.1:1".into()],
            },
            input: Input {
                job: Job::WordCount,
                path: corpus,
                local_partition: false,
                fault: None,
            },
            output: dir.path().join("sortie"),
            supervised: false,
            connect_deadline: Duration::from_secs(5),
            total_deadline: None,
            verify: true,
            json: false,
        };
        let outcome = process::run(&opts.topology, &opts.input, opts.connect_deadline).unwrap();
        let summary = report(&opts, &outcome).unwrap().unwrap();
        assert_eq!((summary.total, summary.distinct), (6, 5));
        assert_eq!(summary.top[0], ("a".to_string(), 2));
        assert_eq!(summary.verified, Some(true));
        // One record of times per worker; only worker 0 gathers.
        let p = &summary.phases;
        assert_eq!(p.iter().map(|w| w.worker).collect::<Vec<_>>(), [0, 1]);
        assert!(p
            .iter()
            .all(|w| w.map > 0.0 && w.total >= w.map && w.launch.is_none()));
        assert!(p[0].gather.is_some() && p[1].gather.is_none());
        let table = render_phases(p);
        assert!(
            table.contains("rassemblement") && table.lines().count() == 7,
            "{table}"
        );
        let json =
            std::fs::read_to_string(dir.path().join("sortie/cluster_wordcount.json")).unwrap();
        assert!(json.contains("\"phases\":[{\"worker\":0"), "{json}");
        let csv = std::fs::read_to_string(dir.path().join("sortie/cluster_wordcount.csv")).unwrap();
        assert_eq!(csv, "mot,occurrences\na,2\nb,1\n\"b,\",1\nc,1\nd,1\n");
    }

    #[test]
    fn groupby_csv_has_categories_then_cities_with_empty_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut g = tp4::workloads::groupby::GroupBy::default();
        g.add("Saint-Étienne", "thé", -50);
        g.add("Lyon", "alimentation", 1284);
        let (total, distinct, top) = figures(&Answer::GroupBy(Box::new(g.clone())));
        let summary = RunSummary {
            job: "groupby".into(),
            processes: 1,
            threads: 1,
            seconds: 0.0,
            total,
            distinct,
            top,
            pairs: 0,
            remote_pairs: 0,
            remote_bytes: 0,
            wire_bytes_process0: 0,
            verified: None,
            verification_seconds: None,
            phases: Vec::new(),
        };
        let files = write_files(dir.path(), &Answer::GroupBy(Box::new(g)), &summary).unwrap();
        let csv = std::fs::read_to_string(&files[0]).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(distinct, 2);
        assert_eq!(lines[0], "groupe,cle,montant_centimes,lignes");
        assert_eq!(lines[1], "categorie,alimentation,1284,1");
        assert_eq!(lines[2], "categorie,thé,-50,1");
        assert_eq!(lines[3], "ville,Lyon,1284,");
        assert_eq!(lines[4], "ville,Saint-Étienne,-50,");
        assert_eq!(lines.len(), 5);
        assert!(csv.ends_with(",\n"), "{csv}");
    }

    /// Issue 24 item 11: a full disk under the output folder is said in French with
    /// how to fix it; other errors pass unchanged.
    #[test]
    fn a_full_disk_says_how_to_fix_it() {
        let out = Path::new("/data/sortie");
        for source in [
            std::io::Error::from_raw_os_error(28),
            std::io::Error::from(std::io::ErrorKind::StorageFull),
        ] {
            let e = Error::io("écriture de", &out.join("cluster_groupby.csv"), source);
            let m = full_disk(out, e).to_string();
            assert!(
                m.contains("le disque du dossier de sortie /data/sortie est plein")
                    && m.contains("cluster_groupby.csv")
                    && m.contains("libérez de la place")
                    && m.contains("--output DIR")
                    && !m.contains("No space"),
                "{m}"
            );
        }
        let other = Error::io(
            "écriture de",
            &out.join("x"),
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        assert!(full_disk(out, other)
            .to_string()
            .contains("permission refusée"));
    }
}
