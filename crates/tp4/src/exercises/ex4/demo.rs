//! The demonstration of exercise 4 (`tp4 exercice 4`, about 10 s on 2 cores): CPU
//! counts, W1 static versus work stealing versus processes with per-thread busy
//! times, process versus thread start cost, fixed pool, reproducible π, and the
//! Amdahl plot. One function per step; each prints its text and tables and appends
//! the same to the report section.

use super::*;
use crate::context::Context;
use crate::fr;
use crate::measure::{Measurement, Plan};
use crate::output::Section;
use crate::plot::{LineChart, Series};
use crate::run::{Case, Inputs};
use crate::workloads::Workload;
use std::path::PathBuf;
use std::time::Duration;

/// Size of W1 in the measured steps (primes below one million).
const N: u64 = 1_000_000;

/// Runs the demonstration and returns its report section.
pub fn demo(ctx: &Context) -> Result<Section> {
    let mut sec = Section::new(TITLE);
    let p_max = ctx.workers.iter().copied().max().unwrap_or(2).max(2);
    let bar = ctx.steps(6, "exercice 4");
    let cpus = cpus(&mut sec);
    spawn_and_scope(&mut sec, p_max);
    bar.inc(1);
    let mut inputs = Inputs::from_data_dir(&ctx.data);
    let rows = w1_strategies(&mut sec, &mut inputs, p_max)?;
    busy_times(&mut sec, p_max);
    bar.inc(1);
    start_cost(&mut sec)?;
    bar.inc(1);
    pool_and_pi(&mut sec)?;
    bar.inc(1);
    let files = amdahl(ctx, &mut sec, &mut inputs, &rows, cpus.usable)?;
    bar.inc(1);
    send_sync(&mut sec, p_max);
    bar.inc(1);
    bar.finish_and_clear();
    for f in files.iter().filter_map(|f| f.file_name()) {
        sec.file(f);
    }
    sec.file("ex4_mesures.csv");
    Ok(sec)
}

/// The W1 case of `strategy` on `workers` workers.
fn primes_case(strategy: &str, workers: usize) -> Case {
    Case {
        workload: Workload::Primes,
        strategy: strategy.into(),
        workers,
        size: N,
    }
}

/// 4.1 — The logical, physical and usable CPU counts.
fn cpus(sec: &mut Section) -> CpuCounts {
    let c = cpu_counts();
    sec.say(format!(
        "**4.1 CPU** : {} logiques, {} physiques, {} utilisables par ce processus \
         (affinité et quota cgroup). Les pools du TP sont dimensionnés sur le dernier \
         nombre : dans un conteneur limité, démarrer un thread par CPU logique ne ferait \
         que multiplier les commutations.",
        c.logical,
        c.physical.map_or("?".into(), |p| p.to_string()),
        c.usable
    ));
    c
}

/// 4.2 / 4.3 — A sum by spawned threads, a maximum by scoped threads.
fn spawn_and_scope(sec: &mut Section, p_max: usize) {
    let data: Vec<u64> = (1..=1_000_000).collect();
    let signed: Vec<i64> = (0..100_000)
        .map(|i| (i * 7919) % 100_003 - 50_000)
        .collect();
    sec.say(format!(
        "**4.2 / 4.3** : somme de 1..10⁶ par {p_max} threads `spawn` = {} (attendu {}) ; \
         maximum par {p_max} threads `scope` empruntant les données sans `Arc` = {:?}.",
        spawn_sum(data, p_max),
        500_000_500_000u64,
        scoped_max(&signed, p_max)
    ));
}

/// 4.4–4.6 — W1 sequential, static threads, rayon and processes; returns the
/// measurements (the sequential one first).
fn w1_strategies(sec: &mut Section, inputs: &mut Inputs, p_max: usize) -> Result<Vec<Measurement>> {
    let plan = Plan {
        warmup: 1,
        repetitions: 3,
    };
    let mut rows = Vec::new();
    for (strategy, workers) in [
        ("seq", 1),
        ("threads", p_max),
        ("rayon", p_max),
        ("processes", p_max),
    ] {
        rows.push(crate::run::run_case(
            &primes_case(strategy, workers),
            plan,
            inputs,
        )?);
    }
    sec.say(format!(
        "**4.4–4.6 W1** (premiers < {N}, médiane de 3 mesures)"
    ));
    sec.table("", &crate::results::HEADERS, 2, crate::results::rows(&rows));
    Ok(rows)
}

/// The busiest thread's time over the mean: 1 when the work is balanced.
fn imbalance(busy: &[Duration]) -> f64 {
    let max = busy.iter().max().copied().unwrap_or_default().as_secs_f64();
    let mean = busy.iter().map(Duration::as_secs_f64).sum::<f64>() / busy.len() as f64;
    max / mean
}

/// 4.4 / 4.5 — Busy time of each thread, static chunks against work stealing.
fn busy_times(sec: &mut Section, p_max: usize) {
    let (_, busy_static) = primes::count_threads_busy(N, p_max);
    let (_, busy_steal) = primes::count_rayon_busy(N, p_max);
    let rows: Vec<Vec<String>> = (0..p_max)
        .map(|i| {
            vec![
                format!("thread {i}"),
                format!(
                    "[{}, {})",
                    N * i as u64 / p_max as u64,
                    N * (i as u64 + 1) / p_max as u64
                ),
                fr::duration(busy_static[i]),
                fr::duration(busy_steal[i]),
            ]
        })
        .collect();
    sec.say(format!(
        "Déséquilibre (temps du thread le plus chargé / moyenne) : découpage statique {}, \
         vol de travail {}. Tester un grand nombre coûte plus cher : le dernier morceau \
         statique travaille le plus longtemps pendant que les autres attendent ; avec \
         rayon, un thread inactif vole la moitié du travail d'un autre.",
        fr::ratio(imbalance(&busy_static)),
        fr::ratio(imbalance(&busy_steal))
    ));
    let headers = [
        "thread",
        "plage statique",
        "occupé (statique)",
        "occupé (vol de travail)",
    ];
    sec.table("", &headers, 2, rows);
}

/// 4.7 — Starting a process against starting a thread.
fn start_cost(sec: &mut Section) -> Result<()> {
    let process_cost = crate::procs::process_start_cost(15)?;
    let thread_cost = crate::procs::thread_start_cost(200);
    sec.say(format!(
        "**4.7 Coût de démarrage** (médiane) : un processus `tp4 __worker` lancé puis attendu \
         {} ; un thread créé puis joint {} ; soit {}× plus cher. Un processus a sa propre \
         mémoire (rien n'est partagé : tout passe par des tubes), un thread partage celle \
         du programme. Pid d'un enfant : {} (le nôtre : {}).",
        fr::seconds(process_cost),
        fr::seconds(thread_cost),
        (process_cost / thread_cost).round(),
        child_pid()?,
        std::process::id()
    ));
    Ok(())
}

/// 4.8 / 4.9 — A fixed pool, and π that is the same at every run.
fn pool_and_pi(sec: &mut Section) -> Result<()> {
    let xs: Vec<u64> = (0..10_000).collect();
    let (sum2, seen2) = pool_sum_squares(&xs, 2);
    let (_, seen3) = pool_sum_squares(&xs, 3);
    let s = 2_000_000;
    let (a, b, one) = (pi_streams(s, 2), pi_streams(s, 2), pi_streams(s, 1));
    let by_processes = crate::procs::estimate_pi(s, 2)?;
    sec.say(format!(
        "**4.8 Pool fixe** : `num_threads(2)` → {seen2} threads vus dans `install` \
         (somme des carrés {sum2}), `num_threads(3)` → {seen3}.\n\n**4.9 π reproductible** \
         ({s} points) : 2 workers → {} puis {} (identiques), 2 processus → \
         {} (mêmes flux, même valeur), 1 worker → {} (autres points).",
        fr::decimal(a, 6),
        fr::decimal(b, 6),
        fr::decimal(by_processes, 6),
        fr::decimal(one, 6)
    ));
    Ok(())
}

/// Measured speedups of one strategy against its own one-worker time (Amdahl
/// compares the same program on 1 and p workers); `fallback` if it has none.
fn speedups(all: &[Measurement], strategy: &str, fallback: f64) -> Vec<(f64, f64)> {
    let same = || all.iter().filter(|m| m.strategy == strategy);
    let base = same()
        .find(|m| m.workers == 1)
        .map_or(fallback, |m| m.seconds);
    same()
        .map(|m| (m.workers as f64, base / m.seconds))
        .collect()
}

/// The Amdahl plot: measured speedups of both strategies, the fitted law and the
/// ideal line, up to `p_plot` workers.
fn amdahl_chart(
    rayon_pts: &[(f64, f64)],
    thread_pts: Vec<(f64, f64)>,
    s_fit: f64,
    p_plot: usize,
) -> LineChart {
    LineChart {
        title: "Loi d'Amdahl : W1 (premiers), mesuré et théorique".into(),
        x_label: "workers (threads)".into(),
        y_label: "accélération".into(),
        series: vec![
            Series::measured("rayon (vol de travail), mesuré", rayon_pts.to_vec()),
            Series::measured("threads (découpage statique), mesuré", thread_pts),
            Series::model(
                format!("Amdahl, s = {} ajusté", fr::ratio(s_fit)),
                (1..=p_plot)
                    .map(|p| (p as f64, amdahl_speedup(p as f64, s_fit)))
                    .collect(),
            ),
            Series::model(
                "idéal (accélération = workers)",
                (1..=p_plot).map(|p| (p as f64, p as f64)).collect(),
            ),
        ],
        log_x: false,
    }
}

/// 4.10 / 4.11 — W1 on every worker count, the fitted serial fraction and the
/// Amdahl plot; writes `ex4_amdahl.{png,svg}` and `ex4_mesures.csv`, returns the plot
/// files.
fn amdahl(
    ctx: &Context,
    sec: &mut Section,
    inputs: &mut Inputs,
    rows: &[Measurement],
    usable: usize,
) -> Result<Vec<PathBuf>> {
    let plan5 = Plan {
        warmup: 1,
        repetitions: 5,
    };
    let mut counts = ctx.workers.clone();
    if !counts.contains(&1) {
        counts.insert(0, 1);
    }
    let mut amdahl_rows = Vec::new();
    for &w in &counts {
        for strategy in ["rayon", "threads"] {
            amdahl_rows.push(crate::run::run_case(
                &primes_case(strategy, w),
                plan5,
                inputs,
            )?);
        }
    }
    let rayon_pts = speedups(&amdahl_rows, "rayon", rows[0].seconds);
    let thread_pts = speedups(&amdahl_rows, "threads", rows[0].seconds);
    let s_fit = serial_fraction(&rayon_pts).unwrap_or(0.0);
    let note = evidence(rows, &amdahl_rows, &rayon_pts, &thread_pts, s_fit).note();
    let p_max = ctx.workers.iter().copied().max().unwrap_or(2).max(2);
    let mut chart = amdahl_chart(&rayon_pts, thread_pts, s_fit, p_max.max(8));
    chart.title = crate::machine::flag_title(chart.title, &note);
    let files = chart.save(&ctx.output, "ex4_amdahl")?;
    crate::output::write_csv(
        &ctx.out("ex4_mesures.csv"),
        &[rows.to_vec(), amdahl_rows].concat(),
    )?;
    let cap = if s_fit > 0.0 {
        fr::decimal(1.0 / s_fit, 1)
    } else {
        "∞".into()
    };
    sec.say(format!(
        "**4.10 / 4.11 Amdahl** : accélérations mesurées (rayon) {} ; fraction séquentielle \
         ajustée s = {} ; plafond théorique 1/s = {cap} quel que soit le nombre de cœurs. \
         Sur cette machine, {usable} CPU utilisables : au-delà, des workers en plus \
         n'accélèrent plus rien.",
        rayon_pts
            .iter()
            .map(|(p, s)| format!("{p}→{}", fr::ratio(*s)))
            .collect::<Vec<_>>()
            .join(", "),
        fr::ratio(s_fit),
    ));
    sec.image("Loi d'Amdahl, mesuré et théorique", "ex4_amdahl.png");
    sec.say_note(&note);
    Ok(files)
}

/// Largest serial fraction W1 shows on a quiet machine: its only serial parts are
/// starting the workers and adding their counts.
const PLAUSIBLE_SERIAL: f64 = 0.3;

/// What the W1 figures rest on: every measurement's repetitions, the speedups
/// against sequential (4.4–4.6) and against one worker (Amdahl), and the fitted
/// serial fraction.
fn evidence(
    rows: &[Measurement],
    amdahl_rows: &[Measurement],
    rayon_pts: &[(f64, f64)],
    thread_pts: &[(f64, f64)],
    s_fit: f64,
) -> crate::machine::Evidence {
    let mut ev = crate::machine::Evidence::new();
    for m in rows.iter().chain(amdahl_rows) {
        ev.measurement(m);
    }
    for m in &rows[1..] {
        ev.speedup(m.workers as f64, rows[0].seconds / m.seconds);
    }
    for &(p, s) in rayon_pts.iter().chain(thread_pts) {
        ev.speedup(p, s);
    }
    if rayon_pts.iter().any(|&(p, _)| p > 1.0) {
        ev.serial_fit(s_fit, 0.0..=PLAUSIBLE_SERIAL);
    }
    ev
}

/// 4.12 — A counter shared by every thread through `Arc<AtomicU64>`.
fn send_sync(sec: &mut Section, p_max: usize) {
    sec.say(format!(
        "**4.12 Send/Sync** : {p_max} threads × 100 000 incréments d'un `Arc<AtomicU64>` = {} \
         (exact). Partager un `Rc` ou un `RefCell` entre threads ne compile pas (voir les \
         doctests `compile_fail` de `ex4::shared_counter`) : pas de GIL en Rust, les threads \
         tournent vraiment en parallèle et les courses de données sont refusées à la compilation.",
        shared_counter(p_max, 100_000)
    ));
}
