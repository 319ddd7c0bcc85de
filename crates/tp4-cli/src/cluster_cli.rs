//! `tp4 cluster`: the command line of the distributed part (crate `tp4-cluster`).
//!
//! - `tp4 cluster wordcount|groupby --processus N --threads T`: the launcher starts
//!   N copies of this very binary on free 127.0.0.1 ports and watches them.
//! - `tp4 cluster wordcount|groupby --hostfile F --process I`: this process is
//!   process I of a run whose processes are listed in F (one per host).
//! - `tp4 cluster mesure`: 1, 2, 3 processes × 1, 2 threads, table and plot.
//!
//! The launcher calls the binary back with hidden options (`--adresses`,
//! `--supervise`): that is the process mode of `tp4_cluster::worker`.

use clap::{Args, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use tp4::lab::Context;
use tp4_cluster::dataflow::Input;
use tp4_cluster::launcher::{self, LaunchPlan, LaunchReport, Limits};
use tp4_cluster::worker::{self, WorkerOptions};
use tp4_cluster::{Job, Topology};

/// What `tp4 cluster` can do.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// W7 : compte les mots de corpus.txt sur plusieurs processus (map/shuffle/reduce).
    #[command(override_usage = RUN_USAGE)]
    Wordcount(RunArgs),
    /// W4 : totaux par catégorie et par ville de transactions.csv sur plusieurs processus.
    #[command(override_usage = RUN_USAGE)]
    Groupby(RunArgs),
    /// Mesure 1, 2, 3 processus × 1, 2 threads : temps, octets échangés, accélération, graphique.
    #[command(
        override_usage = "tp4 cluster mesure [--calcul wordcount|groupby] [--repetitions R]"
    )]
    Mesure(MeasureArgs),
}

/// The usage line of `tp4 cluster wordcount|groupby`.
const RUN_USAGE: &str = "tp4 cluster wordcount|groupby [--processus N] [--threads T]\n       \
     tp4 cluster wordcount|groupby --hostfile FICHIER --process I [--threads T]";

/// Options of a distributed run.
#[derive(Debug, Args)]
#[command(next_help_heading = "Options du calcul")]
pub struct RunArgs {
    /// Nombre de processus lancés sur cette machine (127.0.0.1).
    #[arg(
        long,
        default_value_t = 2,
        value_name = "N",
        conflicts_with = "hostfile"
    )]
    pub processus: usize,
    /// Threads de calcul (travailleurs timely) par processus.
    #[arg(long, default_value_t = 1, value_name = "T")]
    pub threads: usize,
    /// Fichier d'hôtes : une ligne `hôte:port` par processus (plusieurs machines).
    #[arg(long, value_name = "FICHIER", requires = "process")]
    pub hostfile: Option<PathBuf>,
    /// Numéro de ce processus (0 à N-1) dans le fichier d'hôtes ; le 0 affiche et écrit le résultat.
    #[arg(long, value_name = "I")]
    pub process: Option<usize>,
    /// Chaque machine lit son propre fichier (sa partition) au lieu d'une part du même fichier.
    #[arg(long)]
    pub partition_locale: bool,
    /// Secondes accordées à un processus pour démarrer (et aux connexions entre machines).
    #[arg(long, default_value_t = 20.0, value_name = "S")]
    pub delai_demarrage: f64,
    /// Secondes de silence après lesquelles un processus est déclaré gelé.
    #[arg(long, default_value_t = 5.0, value_name = "S")]
    pub delai_silence: f64,
    /// Durée maximale de tout le calcul, en secondes.
    #[arg(long, default_value_t = 600.0, value_name = "S")]
    pub delai: f64,
    /// Secondes d'attente (au moins 10 fois leur propre lecture) des processus qui ont fini leur étape map pour un processus en retard, avant de le nommer et d'arrêter le calcul.
    #[arg(long, default_value_t = 30.0, value_name = "S")]
    pub delai_retard: f64,
    /// (interne) adresses des processus lancés par le lanceur, séparées par des virgules.
    #[arg(long, hide = true, value_name = "LISTE", requires = "process")]
    pub adresses: Option<String>,
    /// (interne) processus surveillé par le lanceur.
    #[arg(long, hide = true)]
    pub supervise: bool,
    /// Ne vérifie pas le résultat par un calcul exact sur une seule machine (pour les
    /// mesures).
    #[arg(long, hide = true)]
    pub sans_verification: bool,
    /// Affiche le bilan (réponse, octets, temps de chaque phase par travailleur) en une ligne JSON au lieu du rapport.
    #[arg(long)]
    pub json: bool,
}

/// How the launcher runs one configuration.
#[derive(Debug, Clone, Copy)]
struct LaunchOptions {
    processes: usize,
    threads: usize,
    local_partition: bool,
    limits: Limits,
    relay: bool,
    verify: bool,
}

/// The job measured by `tp4 cluster mesure`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum JobArg {
    /// W7 wordcount.
    Wordcount,
    /// W4 groupby.
    Groupby,
}

/// Options of `tp4 cluster mesure`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Options de la mesure")]
pub struct MeasureArgs {
    /// Calcul mesuré.
    #[arg(long, value_enum, default_value = "wordcount")]
    pub calcul: JobArg,
    /// Nombre de lancements par configuration (la médiane est retenue).
    #[arg(long, default_value_t = 3, value_name = "R")]
    pub repetitions: usize,
}

/// Runs `tp4 cluster ...`.
pub fn run(ctx: &Context, command: ClusterCommand) -> tp4::Result<ExitCode> {
    match command {
        ClusterCommand::Wordcount(a) => run_job(ctx, Job::WordCount, a),
        ClusterCommand::Groupby(a) => run_job(ctx, Job::GroupBy, a),
        ClusterCommand::Mesure(m) => run_measure(ctx, m),
    }
}

/// Runs `tp4 cluster mesure`.
fn run_measure(ctx: &Context, m: MeasureArgs) -> tp4::Result<ExitCode> {
    if m.repetitions == 0 || m.repetitions > MAX_REPETITIONS {
        return Err(tp4::Error::InvalidParameter(format!(
            "--repetitions {} : donnez un nombre de lancements entre 1 et {MAX_REPETITIONS} \
             (par exemple --repetitions 3)",
            m.repetitions
        )));
    }
    let _lock = tp4::output::lock_dir(&ctx.output)?;
    let job = match m.calcul {
        JobArg::Wordcount => Job::WordCount,
        JobArg::Groupby => Job::GroupBy,
    };
    let input = job.input(&ctx.data)?;
    // The very first run is checked against an exact single-machine answer (timed
    // apart, out of the measured time); the measurement then checks that every other
    // run gives the same answer.
    let mut first = true;
    let section = tp4_cluster::benchmark::run(job, &input, m.repetitions, &ctx.output, |p, t| {
        let verify = std::mem::take(&mut first);
        let opts = LaunchOptions {
            processes: p,
            threads: t,
            local_partition: false,
            limits: Limits::default(),
            relay: false,
            verify,
        };
        launch(ctx, job, opts)
    })?;
    println!("Fichiers écrits :");
    for f in &section.files {
        println!("  {}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The most launches per configuration `tp4 cluster mesure` accepts.
const MAX_REPETITIONS: usize = 100;

/// The most compute threads (processes × threads) per usable CPU: beyond, the
/// processes starve each other and look frozen.
const MAX_THREADS_PER_CPU: usize = 8;

/// Refuses a run on this machine with no process or thread, or far more compute
/// threads than CPUs (they would be starved and reported as frozen).
fn check_size(processes: usize, threads: usize) -> tp4::Result<()> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max = MAX_THREADS_PER_CPU * cpus;
    if processes.saturating_mul(threads) > max {
        return Err(tp4::Error::InvalidParameter(format!(
            "--processus {processes} × --threads {threads} : au plus {max} threads de calcul en tout sur cette machine \
             ({cpus} CPU utilisables, {MAX_THREADS_PER_CPU} par CPU) ; au-delà ils \
             s'affament et semblent gelés (par exemple --processus 2 --threads 1)"
        )));
    }
    Ok(())
}

/// Largest delay accepted, in seconds.
const MAX_SECONDS: f64 = 1e6;

/// A delay option in seconds, refused in French unless positive and sensible.
fn seconds(s: f64, option: &str) -> tp4::Result<Duration> {
    if !(s.is_finite() && s > 0.0 && s < MAX_SECONDS) {
        let why = if s.is_finite() && s >= MAX_SECONDS {
            format!("c'est trop long (au plus {MAX_SECONDS} s, plus de 11 jours)")
        } else {
            "donnez un nombre de secondes strictement positif".to_string()
        };
        return Err(tp4::Error::InvalidParameter(format!(
            "{option} {s} : {why}, par exemple {option} 60"
        )));
    }
    Ok(Duration::from_secs_f64(s))
}

/// Runs `tp4 cluster wordcount|groupby`: as one process of a run (hostfile or
/// under the launcher), or as the launcher of a run on this machine.
fn run_job(ctx: &Context, job: Job, a: RunArgs) -> tp4::Result<ExitCode> {
    let limits = Limits {
        startup: seconds(a.delai_demarrage, "--delai-demarrage")?,
        silence: seconds(a.delai_silence, "--delai-silence")?,
        total: seconds(a.delai, "--delai")?,
        lag: seconds(a.delai_retard, "--delai-retard")?,
    };
    let path = job.input(&ctx.data)?;
    let addresses = match (&a.adresses, &a.hostfile) {
        (Some(list), _) => Some(list.split(',').map(str::to_string).collect::<Vec<_>>()),
        (None, Some(f)) => Some(tp4_cluster::topology::read_hostfile(f)?),
        (None, None) => None,
    };
    if let Some(addresses) = addresses {
        return run_process(ctx, job, &a, path, addresses, limits);
    }
    if a.process.is_some() {
        return Err(tp4::Error::InvalidParameter(
            "--process n'a de sens qu'avec --hostfile (plusieurs machines)".into(),
        ));
    }
    check_size(a.processus, a.threads)?;
    job.check_input(&path)?;
    // The launched processes write into the output folder under this lock.
    let _lock = tp4::output::lock_dir(&ctx.output)?;
    let opts = LaunchOptions {
        processes: a.processus,
        threads: a.threads,
        local_partition: a.partition_locale,
        limits,
        relay: !a.json,
        verify: !a.sans_verification,
    };
    let report = launch(ctx, job, opts)?;
    if a.json {
        let line = serde_json::json!({
            "calcul_secondes": report.run_seconds(),
            "verification_secondes": report.summary.verification_seconds,
            "mur_secondes": report.wall_seconds,
            "octets_reseau": report.wire_bytes,
            "bilan": report.summary,
        });
        println!("{line}");
        return Ok(ExitCode::SUCCESS);
    }
    let checked = match report.summary.verification_seconds {
        Some(v) => format!(
            "vérification non comprise : {} à part, voir plus haut",
            tp4::fr::seconds(v)
        ),
        None => "sans vérification".to_string(),
    };
    println!(
        "Calcul distribué terminé en {} (temps mur, lancement des {} processus compris, \
         {checked}) ; octets envoyés sur le réseau par timely, tous processus : {}.",
        tp4::fr::seconds(report.run_seconds()),
        a.processus,
        tp4::fr::bytes(report.wire_bytes)
    );
    Ok(ExitCode::SUCCESS)
}

/// Process mode: this process is one of the run, whose processes listen on
/// `addresses`.
fn run_process(
    ctx: &Context,
    job: Job,
    a: &RunArgs,
    path: PathBuf,
    addresses: Vec<String>,
    limits: Limits,
) -> tp4::Result<ExitCode> {
    let process = a.process.unwrap_or(0);
    let opts = WorkerOptions {
        topology: Topology {
            process,
            threads: a.threads,
            addresses,
        },
        input: Input {
            job,
            path,
            local_partition: a.partition_locale,
            fault: None,
        },
        output: ctx.output.clone(),
        supervised: a.supervise,
        connect_deadline: limits.startup,
        // Under the launcher, the launcher enforces the total delay.
        total_deadline: (!a.supervise).then_some(limits.total),
        verify: !a.sans_verification,
        json: a.json,
    };
    opts.topology.validate()?;
    // Process 0 writes the results: unsupervised (one process per machine), it
    // takes the output folder's lock; under the launcher, the launcher holds it.
    let _lock = match (process, a.supervise) {
        (0, false) => Some(tp4::output::lock_dir(&ctx.output)?),
        (0, true) => {
            tp4::output::ensure_writable_dir(&ctx.output)?;
            None
        }
        _ => None,
    };
    worker::run(opts)?;
    Ok(ExitCode::SUCCESS)
}

/// Starts `processes` copies of this binary on free loopback ports and waits for them.
fn launch(ctx: &Context, job: Job, o: LaunchOptions) -> tp4::Result<LaunchReport> {
    Topology {
        process: 0,
        threads: o.threads,
        addresses: vec![String::new(); o.processes],
    }
    .validate()?;
    let program = std::env::current_exe().map_err(|e| {
        tp4::Error::Process(format!(
            "impossible de trouver le programme tp4 lui-même : {e}"
        ))
    })?;
    let addresses = tp4_cluster::topology::free_loopback_addresses(o.processes)?.join(",");
    let args = (0..o.processes)
        .map(|i| child_args(ctx, job, i, &addresses, o))
        .collect();
    launcher::launch(&LaunchPlan {
        program,
        args,
        // The children measure their launch from this instant.
        env: vec![(
            tp4_cluster::phases::LAUNCH_VARIABLE.to_string(),
            tp4_cluster::phases::launch_stamp(),
        )],
        limits: o.limits,
        relay: o.relay,
    })
}

/// The command line of process `i` under the launcher.
fn child_args(
    ctx: &Context,
    job: Job,
    i: usize,
    addresses: &str,
    o: LaunchOptions,
) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec![
        "--data".into(),
        absolute(&ctx.data).into(),
        "--output".into(),
        absolute(&ctx.output).into(),
        "cluster".into(),
        job.name().into(),
        "--threads".into(),
        o.threads.to_string().into(),
        "--process".into(),
        i.to_string().into(),
        "--adresses".into(),
        addresses.into(),
        "--supervise".into(),
        "--delai-demarrage".into(),
        // The launcher decides when a process never started: the processes wait
        // for each other longer than that, so that the launcher names the right one.
        (o.limits.startup * 2 + Duration::from_secs(5))
            .as_secs_f64()
            .to_string()
            .into(),
    ];
    if o.local_partition {
        v.push("--partition-locale".into());
    }
    if !o.verify {
        v.push("--sans-verification".into());
    }
    v
}

/// `p` as an absolute path (the children may not share our working directory).
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}
