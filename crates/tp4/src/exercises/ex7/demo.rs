//! The demonstration of exercise 7 (`tp4 exercice 7`, and part of the default run):
//! a quick tour, under 30 s, of how to measure and what the measurements show —
//! method (warm-up, median versus mean, spread, `black_box`, release versus debug),
//! granularity, false sharing, data layout, memory, and Amdahl and Gustafson
//! measured against their models. It prints French tables and writes CSV and plots
//! (PNG + SVG) into the output directory. [`demo()`] is a list of calls, one function
//! per part; each part prints its text and tables and appends the same to the
//! report section (`Section::say`, `Section::table`).

use super::*;
use crate::alloc::measure_peak;
use crate::context::Context;
use crate::error::Result;
use crate::fr;
use crate::machine::Evidence;
use crate::measure::{time, Measurement, Plan};
use crate::output::{self, Section};
use crate::plot::{LineChart, Series};
use serde::{Deserialize, Serialize};
use std::hint::black_box;

/// Size of the W1 kernel timed in both build profiles.
pub const PROFILE_N: u64 = 200_000;
/// Values summed by the `black_box` experiment.
pub const BLACK_BOX_VALUES: usize = 10_000_000 / SCALE as usize;
/// Divides the sizes of the experiments by 10 in a debug build (tests, `cargo run`
/// without `--release`), so that the demonstration stays short there too; the
/// profile comparison keeps [`PROFILE_N`] in both.
const SCALE: u64 = if cfg!(debug_assertions) { 10 } else { 1 };
/// Size of W1 for the granularity sweep.
pub const SWEEP_N: u64 = 1_000_000 / SCALE;
/// Task sizes of the sweep (numbers per task).
pub const SWEEP_CHUNKS: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 250_000, 500_000];
/// Increments per thread of the false-sharing experiment.
pub const INCREMENTS: u64 = 10_000_000 / SCALE;
/// Records of the layout experiment.
pub const RECORDS: usize = 2_000_000 / SCALE as usize;
/// Monte Carlo points of the Amdahl experiment (and per worker for Gustafson).
pub const AMDAHL_SAMPLES: u64 = 4_000_000 / SCALE;
/// The serial fraction built into the Amdahl experiment.
pub const SERIAL: f64 = 0.2;

/// Smallest slowdown of the largest tasks (too few to keep every worker busy) over
/// the best task size that shows the granularity effect.
pub const GRANULARITY_GAP: f64 = 1.2;
/// Smallest slowdown of packed counters over padded ones that shows false sharing.
pub const FALSE_SHARING_GAP: f64 = 1.3;
/// Smallest slowdown of the array of structs over the struct of arrays.
pub const LAYOUT_GAP: f64 = 1.5;
/// How far the fitted serial fraction may be from [`SERIAL`] on a quiet machine.
pub const SERIAL_TOLERANCE: f64 = 0.15;

/// The name of the build profile this code was compiled in.
pub fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// The W1 kernel timing of one build profile, kept in the output directory so that
/// a run in the other profile can show the ratio.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProfileTiming {
    /// "debug" or "release".
    pub profile: String,
    /// N of the kernel (count of primes below N).
    pub n: u64,
    /// Median seconds.
    pub seconds: f64,
}

fn profile_file(ctx: &Context, profile: &str) -> std::path::PathBuf {
    ctx.out(&format!("ex7_profil_{profile}.json"))
}

/// Runs the demonstration: one function per part, each printing its text and
/// tables and appending the same to the report section.
pub fn demo(ctx: &Context) -> Result<Section> {
    output::ensure_writable_dir(&ctx.output)?;
    let mut section = Section::new(super::TITLE);
    let workers = ctx.workers.iter().copied().max().unwrap_or(2).max(2);
    let bar = ctx.steps(8, "exercice 7");
    bar.set_message("méthode de mesure");
    method(ctx, &mut section)?;
    bar.inc(1);
    bar.set_message("granularité");
    granularity(ctx, &mut section, workers)?;
    bar.inc(1);
    bar.set_message("faux partage");
    false_sharing(&mut section, workers)?;
    bar.inc(1);
    bar.set_message("disposition des données");
    layout(&mut section)?;
    bar.inc(1);
    bar.set_message("mémoire");
    memory(ctx, &mut section, workers)?;
    bar.inc(1);
    bar.set_message("Amdahl et Gustafson");
    laws(ctx, &mut section)?;
    bar.inc(1);
    bar.set_message("échelle d'optimisation");
    super::ladder::ladder(ctx, &mut section, workers)?;
    bar.inc(1);
    bar.set_message("COST");
    super::cost::demo_step(ctx, &mut section, workers)?;
    bar.inc(1);
    bar.finish_and_clear();
    section.file(format!("ex7_profil_{}.json", profile()));
    Ok(section)
}

/// A measurement of the shared runner whose answer is wrong is an error, never a
/// timing.
fn checked(m: Measurement) -> Result<Measurement> {
    if m.ok {
        Ok(m)
    } else {
        Err(crate::Error::WrongAnswer {
            what: format!("{} / {} ×{}", m.workload, m.strategy, m.workers),
            expected: "la réponse de référence".into(),
            got: m.answer.to_string(),
        })
    }
}

/// Writes this profile's W1 timing and reads the other profile's, if a run in that
/// profile left one (same N).
fn exchange_profiles(ctx: &Context, here: &ProfileTiming) -> Result<Option<ProfileTiming>> {
    output::write_text(
        &profile_file(ctx, profile()),
        &serde_json::to_string(here).expect("serialisable"),
    )?;
    let other_profile = if profile() == "debug" {
        "release"
    } else {
        "debug"
    };
    let other = profile_file(ctx, other_profile);
    Ok(
        output::read_small_file(&other, 64 << 10, "le profil enregistré")
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .filter(|o: &ProfileTiming| o.n == PROFILE_N),
    )
}

/// The table row and the paragraph about the build profile: the debug / release
/// ratio when both were measured, how to get it otherwise.
fn profile_row(here: &ProfileTiming, other: Option<&ProfileTiming>) -> (Vec<String>, String) {
    let Some(o) = other else {
        let text = format!(
            "Profil de compilation : {}. Pour comparer avec l'autre profil, lancez aussi \
             `cargo run{} -- exercice 7` : chaque lancement enregistre sa mesure dans \
             `ex7_profil_{}.json` et affiche le rapport debug / release dès que les deux \
             existent.",
            profile(),
            if profile() == "debug" {
                " --release"
            } else {
                ""
            },
            profile()
        );
        let row = vec![
            format!("noyau W1 (N = {PROFILE_N}) en {}", profile()),
            fr::seconds(here.seconds),
        ];
        return (row, text);
    };
    let (debug, release) = if profile() == "debug" {
        (here.seconds, o.seconds)
    } else {
        (o.seconds, here.seconds)
    };
    let ratio = fr::ratio(debug / release);
    let (debug, release) = (fr::seconds(debug), fr::seconds(release));
    let row = vec![
        format!("noyau W1 (N = {PROFILE_N}) en debug / en release"),
        format!("{debug} / {release} = ×{ratio}"),
    ];
    let text = format!(
        "Le même noyau (W1, N = {PROFILE_N}) mesuré dans les deux profils de compilation : \
         debug {debug} contre release {release}, soit ×{ratio}. Ne mesurez jamais en debug."
    );
    (row, text)
}

/// Part 1 — Method: first run against warmed-up runs, median against mean, spread,
/// `black_box`, and the build profile.
fn method(ctx: &Context, section: &mut Section) -> Result<()> {
    let once = Plan {
        warmup: 0,
        repetitions: 1,
    };
    let (first, _) = time(once, || primes::count_seq(PROFILE_N));
    let nine = Plan {
        warmup: 1,
        repetitions: 9,
    };
    let (t, count) = time(nine, || primes::count_seq(PROFILE_N));
    let secs: Vec<f64> = t.samples.iter().map(|d| d.as_secs_f64()).collect();
    // black_box: a sum whose result is ignored is dead code the compiler may delete.
    let xs = crate::workloads::sumsq::fill(BLACK_BOX_VALUES);
    let (without, _) = time(Plan::default(), || {
        // The result is unused and the loop has no side effect: it may vanish.
        let _ = crate::workloads::sumsq::sum_lanes(&xs);
    });
    let (with, _) = time(Plan::default(), || {
        black_box(crate::workloads::sumsq::sum_lanes(black_box(&xs)));
    });
    drop(xs);
    let here = ProfileTiming {
        profile: profile().into(),
        n: PROFILE_N,
        seconds: t.median(),
    };
    let other = exchange_profiles(ctx, &here)?;
    let (profile_row, profile_text) = profile_row(&here, other.as_ref());
    let rows = vec![
        vec![
            "premier passage (sans échauffement)".to_string(),
            fr::seconds(first.median()),
        ],
        vec!["médiane de 9 mesures".into(), fr::seconds(median(&secs))],
        vec!["moyenne de 9 mesures".into(), fr::seconds(mean(&secs))],
        vec![
            "min – max".into(),
            format!("{} – {}", fr::seconds(t.min()), fr::seconds(t.max())),
        ],
        vec![
            "dispersion (max − min) / médiane".into(),
            fr::percent(relative_spread(&secs), 1),
        ],
        vec![
            format!("somme de {BLACK_BOX_VALUES} valeurs, résultat ignoré"),
            fr::seconds(without.median()),
        ],
        vec!["la même avec black_box".into(), fr::seconds(with.median())],
        profile_row,
    ];
    section.say("### 1. Méthode");
    section.say(format!(
        "W1 séquentiel, N = {PROFILE_N} ({count} nombres premiers). Un échauffement, puis 9 \
         mesures : la médiane résiste aux mesures aberrantes (une autre tâche qui se réveille), \
         la moyenne non. Sans `black_box`, le compilateur peut supprimer un calcul dont le \
         résultat n'est pas utilisé : on mesure alors… rien."
    ));
    section.table("", &["mesure", "valeur"], 1, rows);
    section.say(profile_text);
    Ok(())
}

/// Part 2 — Granularity: W1 cut into tasks of every size of [`SWEEP_CHUNKS`]; writes
/// `ex7_granularite.{png,svg}`.
fn granularity(ctx: &Context, section: &mut Section, workers: usize) -> Result<()> {
    let pool = crate::workloads::pool(workers);
    let (seq_t, expected) = time(Plan::default(), || primes::count_seq(SWEEP_N));
    let plan = Plan {
        warmup: 1,
        repetitions: 3,
    };
    let mut rows = Vec::new();
    let mut points = Vec::new();
    let mut ev = Evidence::new();
    ev.timings(&seq_t);
    for &chunk in &SWEEP_CHUNKS {
        let (t, got) = time(plan, || {
            pool.install(|| count_primes_chunked(SWEEP_N, chunk))
        });
        ev.timings(&t);
        if got != expected {
            return Err(crate::Error::WrongAnswer {
                what: format!("granularité, tâches de {chunk}"),
                expected: expected.to_string(),
                got: got.to_string(),
            });
        }
        points.push((chunk as f64, t.median() * 1e3));
        rows.push(vec![
            chunk.to_string(),
            SWEEP_N.div_ceil(chunk).to_string(),
            fr::seconds(t.median()),
            fr::ratio(seq_t.median() / t.median()),
        ]);
    }
    let best = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min) / 1e3;
    // rayon splits a range adaptively, so tiny tasks cost little more; the largest
    // ones (two tasks, the second one costlier) must leave a worker idle.
    let (largest, t_largest) = points[points.len() - 1];
    ev.speedup(workers as f64, seq_t.median() / best).gap(
        format!("tâches de {largest} nombres / meilleure taille"),
        t_largest / 1e3,
        best,
        GRANULARITY_GAP,
    );
    let note = ev.note();
    let ideal = seq_t.median() / workers as f64 * 1e3;
    let last = *SWEEP_CHUNKS.last().expect("sizes") as f64;
    let files = LineChart {
        title: crate::machine::flag_title(
            format!("Granularité : W1 (N = {SWEEP_N}) sur {workers} workers"),
            &note,
        ),
        x_label: "taille d'une tâche (nombres, échelle log)".into(),
        y_label: "temps médian (ms)".into(),
        series: vec![
            Series::measured("rayon, tâches de taille fixe", points),
            Series::model(
                "idéal : temps séquentiel / workers",
                vec![(1.0, ideal), (last, ideal)],
            ),
        ],
        log_x: true,
    }
    .save(&ctx.output, "ex7_granularite")?;
    section.add_files(files);
    section.say("### 2. Granularité");
    section.say(format!(
        "W1 découpé en tâches de taille fixe sur {workers} workers (séquentiel : {}). Trop \
         petites, le coût de l'ordonnancement domine ; trop grandes, la dernière tâche (les plus \
         grands nombres, les plus coûteux) laisse les autres workers sans travail.",
        fr::seconds(seq_t.median())
    ));
    let headers = ["taille de tâche", "tâches", "médiane", "accélération"];
    section.table("", &headers, 0, rows);
    section.image("Granularité", "ex7_granularite.png");
    section.say_note(&note);
    Ok(())
}

/// Nanoseconds per increment, one decimal.
fn per_increment(seconds: f64) -> String {
    fr::decimal(seconds * 1e9 / INCREMENTS as f64, 1)
}

/// Part 3 — False sharing: per-thread counters packed in one cache line against padded.
fn false_sharing(section: &mut Section, workers: usize) -> Result<()> {
    let plan = Plan {
        warmup: 1,
        repetitions: 3,
    };
    let (packed, a) = time(plan, || count_packed(workers, INCREMENTS));
    let (padded, b) = time(plan, || count_padded(workers, INCREMENTS));
    let total = workers as u64 * INCREMENTS;
    if a != total || b != total {
        return Err(crate::Error::WrongAnswer {
            what: "compteurs par thread".into(),
            expected: total.to_string(),
            got: format!("{a} et {b}"),
        });
    }
    let rows = vec![
        vec![
            "compteurs voisins (une ligne de cache)".to_string(),
            fr::seconds(packed.median()),
            per_increment(packed.median()),
        ],
        vec![
            "compteurs CachePadded (une ligne chacun)".into(),
            fr::seconds(padded.median()),
            per_increment(padded.median()),
        ],
    ];
    section.say("### 3. Faux partage");
    section.say(
        "Chaque thread incrémente son propre compteur : aucun partage logique, mais si les \
         compteurs sont voisins en mémoire, chaque écriture arrache la ligne de cache (64 \
         octets) à l'autre cœur.",
    );
    section.table("", &["disposition", "médiane", "ns par incrément"], 1, rows);
    section.say(format!(
        "{workers} threads × {INCREMENTS} incréments : ×{} plus lent quand les compteurs \
         partagent une ligne de cache. (Sur une machine virtuelle, deux CPU virtuels peuvent \
         être deux hyperthreads d'un même cœur physique, qui partagent le cache L1 : l'effet y \
         est alors plus faible que sur deux vrais cœurs.)",
        fr::ratio(packed.median() / padded.median())
    ));
    let mut ev = Evidence::new();
    ev.timings(&packed).timings(&padded).gap(
        "compteurs voisins / compteurs alignés",
        packed.median(),
        padded.median(),
        FALSE_SHARING_GAP,
    );
    section.say_note(&ev.note());
    Ok(())
}

/// Part 4 — Data layout: one column summed in an array of structures and in a structure
/// of arrays.
fn layout(section: &mut Section) -> Result<()> {
    let aos = records(RECORDS);
    let soa = to_soa(&aos);
    let plan = Plan {
        warmup: 1,
        repetitions: 5,
    };
    let (t_aos, s_aos) = time(plan, || sum_x_aos(black_box(&aos)));
    let (t_soa, s_soa) = time(plan, || sum_x_soa(black_box(&soa)));
    if s_aos != s_soa {
        return Err(crate::Error::WrongAnswer {
            what: "somme de colonne SoA".into(),
            expected: s_aos.to_string(),
            got: s_soa.to_string(),
        });
    }
    drop((aos, soa));
    let rows = vec![
        vec![
            "tableau de structures (AoS)".to_string(),
            fr::seconds(t_aos.median()),
            fr::bytes(RECORDS as u64 * 64),
        ],
        vec![
            "structure de tableaux (SoA)".into(),
            fr::seconds(t_soa.median()),
            fr::bytes(RECORDS as u64 * 8),
        ],
    ];
    section.say("### 4. Disposition des données");
    section.say(
        "En AoS, lire le champ `x` amène en cache les 64 octets de l'enregistrement pour 8 \
         utiles ; en SoA la colonne est contiguë et se vectorise.",
    );
    section.table("", &["disposition", "médiane", "octets lus"], 1, rows);
    section.say(format!(
        "Somme d'une colonne sur {RECORDS} enregistrements de 8 champs : SoA ×{} plus rapide.",
        fr::ratio(t_aos.median() / t_soa.median())
    ));
    let mut ev = Evidence::new();
    ev.timings(&t_aos).timings(&t_soa).gap(
        "tableau de structures / structure de tableaux",
        t_aos.median(),
        t_soa.median(),
        LAYOUT_GAP,
    );
    section.say_note(&ev.note());
    Ok(())
}

/// A peak heap for a table, or why there is none.
fn peak(p: Option<u64>) -> String {
    p.map_or("— (allocateur non suivi)".into(), fr::bytes)
}

/// Peak heap of streaming W4 against loading every row, on growing files: the table
/// rows, and whether the plot `ex7_memoire.{png,svg}` was drawn (only when the
/// allocator is tracked).
fn heap_growth(ctx: &Context, section: &mut Section) -> Result<(Vec<Vec<String>>, bool)> {
    // In the output folder, removed on every path, Ctrl-C included (a `/tmp`
    // folder stayed behind after an interrupt).
    let dir = crate::output::ScratchDir::new(&ctx.output, "ex7")?;
    let mut rows = Vec::new();
    let (mut streaming, mut loading) = (Vec::new(), Vec::new());
    for lines in [10_000u64, 40_000, 160_000] {
        let path = dir.path().join(format!("t{lines}.csv"));
        crate::data::transactions::generate(&path, lines, |_| {})?;
        let (g, p_stream) = measure_peak(|| crate::workloads::groupby::seq(&path));
        let g = g?;
        let (all, p_load) = measure_peak(|| crate::data::transactions::load(&path));
        let all = all?;
        if g.rows() != lines || all.len() as u64 != lines {
            return Err(crate::Error::WrongAnswer {
                what: "lignes lues".into(),
                expected: lines.to_string(),
                got: format!("{} et {}", g.rows(), all.len()),
            });
        }
        drop(all);
        rows.push(vec![lines.to_string(), peak(p_stream), peak(p_load)]);
        if let (Some(a), Some(b)) = (p_stream, p_load) {
            streaming.push((lines as f64, a as f64 / 1e6));
            loading.push((lines as f64, b as f64 / 1e6));
        }
    }
    let plotted = !streaming.is_empty();
    if plotted {
        LineChart {
            title: "Pic de tas : lecture en flux contre chargement complet".into(),
            x_label: "lignes de transactions.csv".into(),
            y_label: "pic de tas (Mo)".into(),
            series: vec![
                Series::measured("en flux (W4 groupby::seq)", streaming),
                Series::measured("tout charger (transactions::load)", loading),
            ],
            log_x: false,
        }
        .save(&ctx.output, "ex7_memoire")
        .map(|files| section.add_files(files))?;
    }
    Ok((rows, plotted))
}

/// Peak heap of every strategy of W1 and W7 (shipped corpus), through the shared
/// runner (a wrong answer is an error).
fn heap_per_strategy(ctx: &Context, workers: usize) -> Result<Vec<Vec<String>>> {
    let mut inputs = crate::run::Inputs::from_data_dir(&ctx.data);
    let once = Plan {
        warmup: 0,
        repetitions: 1,
    };
    let mut rows = Vec::new();
    for (w, size) in [
        (crate::workloads::Workload::Primes, 300_000),
        (crate::workloads::Workload::Wordcount, 0),
    ] {
        for s in crate::run::runnable_strategies(w) {
            let case = crate::run::Case {
                workload: w,
                strategy: s.to_string(),
                workers,
                size,
            };
            let m = checked(crate::run::run_case(&case, once, &mut inputs)?)?;
            rows.push(vec![
                format!("{} {} ×{}", m.workload, m.strategy, m.workers),
                peak(m.peak_heap_bytes),
            ]);
        }
    }
    Ok(rows)
}

/// Part 5 — Memory: peak heap of streaming against loading, and of every strategy.
fn memory(ctx: &Context, section: &mut Section, workers: usize) -> Result<()> {
    let (growth, plotted) = heap_growth(ctx, section)?;
    let per_strategy = heap_per_strategy(ctx, workers)?;
    section.say("### 5. Mémoire");
    section.say(
        "Pic de tas mesuré par l'allocateur de suivi : la lecture en flux garde un tampon de \
         taille fixe quelle que soit la taille du fichier, le chargement complet grandit avec \
         lui.",
    );
    let headers = ["lignes", "pic en flux", "pic en chargeant tout"];
    section.table("", &headers, 0, growth);
    section.table("", &["charge et stratégie", "pic de tas"], 1, per_strategy);
    if plotted {
        section.image("Mémoire", "ex7_memoire.png");
    }
    Ok(())
}

/// Measured Amdahl and Gustafson speedups on each worker count, with the table
/// rows: (Amdahl points, Gustafson points, rows).
type LawPoints = (Vec<(f64, f64)>, Vec<(f64, f64)>, Vec<Vec<String>>);

/// Times the Monte Carlo π with its serial part at fixed size (Amdahl) and at a
/// size growing with the workers (Gustafson), on each of `counts`.
fn law_points(counts: &[usize]) -> Result<LawPoints> {
    let plan = Plan {
        warmup: 1,
        repetitions: 3,
    };
    let (t1, h1) = time(plan, || amdahl_hits(AMDAHL_SAMPLES, SERIAL, 1));
    let (mut amdahl_pts, mut gustafson_pts, mut rows) = (Vec::new(), Vec::new(), Vec::new());
    for &p in counts {
        let (tp, hp) = if p == 1 {
            (t1.clone(), h1)
        } else {
            time(plan, || amdahl_hits(AMDAHL_SAMPLES, SERIAL, p))
        };
        if hp != h1 {
            return Err(crate::Error::WrongAnswer {
                what: format!("Amdahl sur {p} workers"),
                expected: h1.to_string(),
                got: hp.to_string(),
            });
        }
        let speedup = t1.median() / tp.median();
        amdahl_pts.push((p as f64, speedup));
        // Gustafson: the parallel part grows with p, the serial part stays.
        let scaled = (AMDAHL_SAMPLES as f64 * (SERIAL + (1.0 - SERIAL) * p as f64)) as u64;
        let serial = SERIAL * AMDAHL_SAMPLES as f64 / scaled as f64;
        let scaled_speedup = if p == 1 {
            1.0
        } else {
            let (g1, _) = time(plan, || amdahl_hits(scaled, serial, 1));
            let (gp, _) = time(plan, || amdahl_hits(scaled, serial, p));
            g1.median() / gp.median()
        };
        gustafson_pts.push((p as f64, scaled_speedup));
        rows.push(vec![
            p.to_string(),
            fr::ratio(speedup),
            fr::ratio(amdahl_speedup(p as f64, SERIAL)),
            fr::ratio(scaled_speedup),
            fr::ratio(gustafson_speedup(p as f64, SERIAL)),
        ]);
    }
    Ok((amdahl_pts, gustafson_pts, rows))
}

/// Part 6 — Amdahl and Gustafson measured against their models; writes
/// `ex7_amdahl_gustafson.{png,svg}`.
fn laws(ctx: &Context, section: &mut Section) -> Result<()> {
    let mut counts: Vec<usize> = ctx.workers.clone();
    counts.push(1);
    counts.sort_unstable();
    counts.dedup();
    let (amdahl_pts, gustafson_pts, rows) = law_points(&counts)?;
    let fitted = crate::models::fit_serial_fraction(&amdahl_pts);
    let mut ev = Evidence::new();
    for &(p, s) in amdahl_pts.iter().chain(&gustafson_pts) {
        ev.speedup(p, s);
    }
    if let Some(s) = fitted.filter(|_| counts.len() > 1) {
        ev.serial_fit(s, (SERIAL - SERIAL_TOLERANCE)..=(SERIAL + SERIAL_TOLERANCE));
    }
    let note = ev.note();
    let top = counts.last().copied().unwrap_or(2).max(8);
    let model = |f: fn(f64, f64) -> f64| -> Vec<(f64, f64)> {
        (1..=top).map(|p| (p as f64, f(p as f64, SERIAL))).collect()
    };
    LineChart {
        title: crate::machine::flag_title(
            format!(
                "Amdahl et Gustafson : partie séquentielle s = {} %",
                SERIAL * 100.0
            ),
            &note,
        ),
        x_label: "nombre de workers".into(),
        y_label: "accélération".into(),
        series: vec![
            Series::measured("Amdahl mesuré (taille fixe)", amdahl_pts),
            Series::model("modèle d'Amdahl", model(amdahl_speedup)),
            Series::measured("Gustafson mesuré (taille ∝ workers)", gustafson_pts),
            Series::model("modèle de Gustafson", model(gustafson_speedup)),
        ],
        log_x: false,
    }
    .save(&ctx.output, "ex7_amdahl_gustafson")
    .map(|files| section.add_files(files))?;
    section.say("### 6. Amdahl et Gustafson");
    section.say(format!(
        "π par Monte-Carlo dont {:.0} % des points sont tirés par un seul thread. À taille fixe \
         (Amdahl) l'accélération plafonne ; si la taille grandit avec le nombre de workers \
         (Gustafson), elle continue de croître.",
        100.0 * SERIAL
    ));
    let headers = [
        "workers",
        "Amdahl mesuré",
        "Amdahl modèle",
        "Gustafson mesuré",
        "Gustafson modèle",
    ];
    section.table("", &headers, 0, rows);
    section.say(match fitted {
        Some(s) => format!(
            "Fraction séquentielle ajustée sur les mesures : {} (construite : {:.0} %). \
             Au-delà de {} workers la machine n'a plus de cœurs : les modèles sont prolongés \
             en pointillés, l'accélération d'Amdahl plafonne à 1/s = {}.",
            fr::percent(s, 1),
            100.0 * SERIAL,
            crate::environment::usable_cpus(),
            fr::ratio(1.0 / SERIAL)
        ),
        None => "Un seul nombre de workers : pas d'ajustement possible.".into(),
    });
    section.image("Amdahl et Gustafson", "ex7_amdahl_gustafson.png");
    section.say_note(&note);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_timing_round_trips() {
        let p = ProfileTiming {
            profile: profile().into(),
            n: PROFILE_N,
            seconds: 0.5,
        };
        let s = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<ProfileTiming>(&s).unwrap(), p);
        // The unit tests are a debug build.
        assert_eq!(profile(), "debug");
    }

    #[test]
    fn a_wrong_answer_of_the_runner_is_an_error_not_a_timing() {
        let timings = crate::measure::Timings {
            samples: vec![std::time::Duration::from_millis(3)],
        };
        let wrong = Measurement::new("primes", "rayon", 2, 100, &timings, 24.into(), false, None);
        let e = checked(wrong.clone()).unwrap_err();
        assert!(matches!(e, crate::Error::WrongAnswer { .. }), "{e}");
        assert!(e.to_string().contains("rayon"), "{e}");
        let right = Measurement { ok: true, ..wrong };
        assert_eq!(checked(right.clone()).unwrap(), right);
    }

    #[test]
    fn demo_writes_its_plots_and_reads_the_other_profile() {
        let data = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data"));
        let out = tempfile::tempdir().unwrap();
        let ctx = crate::context::Context::quiet(data, out.path());
        // A release measurement left by an earlier run: the ratio is shown.
        crate::output::write_text(
            &out.path().join("ex7_profil_release.json"),
            r#"{"profile":"release","n":200000,"seconds":0.01}"#,
        )
        .unwrap();
        let section = demo(&ctx).unwrap();
        for f in [
            "ex7_granularite.png",
            "ex7_granularite.svg",
            "ex7_memoire.png",
            "ex7_amdahl_gustafson.svg",
            "ex7_profil_debug.json",
        ] {
            assert!(out.path().join(f).is_file(), "{f}");
        }
        let md = &section.markdown;
        assert!(md.contains("en debug / en release"), "{md}");
        assert!(md.contains("CachePadded") && md.contains("SoA"), "{md}");
        assert!(md.contains("Fraction séquentielle ajustée"), "{md}");
        assert!(section.title.starts_with("Exercice 7 "));
    }
}
