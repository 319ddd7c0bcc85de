//! The demonstration of exercise 7 (`tp4 exercice 7`, and part of the default run):
//! a quick tour, under 30 s, of how to measure and what the measurements show —
//! method (warm-up, median versus mean, spread, `black_box`, release versus debug),
//! granularity, false sharing, data layout, memory, and Amdahl and Gustafson
//! measured against their models. It prints French tables and writes CSV and plots
//! (PNG + SVG) into the output directory.

use super::*;
use crate::alloc::{human_bytes, measure_peak};
use crate::context::Context;
use crate::error::Result;
use crate::measure::{human_ratio, human_seconds, time, Plan};
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
    ctx.out(&format!("ex7-profil-{profile}.json"))
}

fn ms(s: f64) -> String {
    human_seconds(s)
}

/// Runs the demonstration.
pub fn demo(ctx: &Context) -> Result<Section> {
    output::ensure_writable_dir(&ctx.output)?;
    let mut section = Section::new(super::TITLE);
    let workers = ctx.workers.iter().copied().max().unwrap_or(2).max(2);
    let bar = ctx.steps(6, "exercice 7");

    // 1. Method.
    bar.set_message("méthode de mesure");
    let (first, _) = time(
        Plan {
            warmup: 0,
            repetitions: 1,
        },
        || primes::count_seq(PROFILE_N),
    );
    let (t, count) = time(
        Plan {
            warmup: 1,
            repetitions: 9,
        },
        || primes::count_seq(PROFILE_N),
    );
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
    output::write_text(
        &profile_file(ctx, profile()),
        &serde_json::to_string(&here).expect("serialisable"),
    )?;
    let other_profile = if profile() == "debug" {
        "release"
    } else {
        "debug"
    };
    let other: Option<ProfileTiming> = std::fs::read_to_string(profile_file(ctx, other_profile))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .filter(|o: &ProfileTiming| o.n == PROFILE_N);
    let mut method = vec![
        vec![
            "premier passage (sans échauffement)".to_string(),
            ms(first.median()),
        ],
        vec!["médiane de 9 mesures".into(), ms(median(&secs))],
        vec!["moyenne de 9 mesures".into(), ms(mean(&secs))],
        vec![
            "min – max".into(),
            format!("{} – {}", ms(t.min()), ms(t.max())),
        ],
        vec![
            "dispersion (max − min) / médiane".into(),
            format!("{:.1} %", 100.0 * relative_spread(&secs)).replace('.', ","),
        ],
        vec![
            format!("somme de {BLACK_BOX_VALUES} valeurs, résultat ignoré"),
            ms(without.median()),
        ],
        vec!["la même avec black_box".into(), ms(with.median())],
    ];
    let profile_text = match &other {
        Some(o) => {
            let (debug, release) = if profile() == "debug" {
                (here.seconds, o.seconds)
            } else {
                (o.seconds, here.seconds)
            };
            method.push(vec![
                format!("noyau W1 (N = {PROFILE_N}) en debug / en release"),
                format!(
                    "{} / {} = ×{}",
                    ms(debug),
                    ms(release),
                    human_ratio(debug / release)
                ),
            ]);
            format!(
                "Le même noyau (W1, N = {PROFILE_N}) mesuré dans les deux profils de compilation : \
                 debug {} contre release {}, soit ×{}. Ne mesurez jamais en debug.",
                ms(debug),
                ms(release),
                human_ratio(debug / release)
            )
        }
        None => {
            method.push(vec![
                format!("noyau W1 (N = {PROFILE_N}) en {}", profile()),
                ms(here.seconds),
            ]);
            format!(
                "Profil de compilation : {}. Pour comparer avec l'autre profil, lancez aussi \
                 `cargo run{} -- exercice 7` : chaque lancement enregistre sa mesure dans \
                 `ex7-profil-{}.json` et affiche le rapport debug / release dès que les deux \
                 existent.",
                profile(),
                if profile() == "debug" {
                    " --release"
                } else {
                    ""
                },
                profile()
            )
        }
    };
    let headers = ["mesure", "valeur"];
    println!("1. Méthode (W1, {count} premiers sous {PROFILE_N})");
    println!("{}", output::table(&headers, 1, method.clone()));
    println!("{profile_text}");
    section.text(format!(
        "### 1. Méthode\n\nW1 séquentiel, N = {PROFILE_N} ({count} nombres premiers). Un \
         échauffement, puis 9 mesures : la médiane résiste aux mesures aberrantes (une autre \
         tâche qui se réveille), la moyenne non. Sans `black_box`, le compilateur peut supprimer \
         un calcul dont le résultat n'est pas utilisé : on mesure alors… rien.\n\n{}\n{}",
        output::markdown_table(&headers, 1, &method),
        profile_text
    ));
    bar.inc(1);

    // 2. Granularity.
    bar.set_message("granularité");
    let pool = crate::workloads::pool(workers);
    let (seq_t, expected) = time(Plan::default(), || primes::count_seq(SWEEP_N));
    let mut sweep_rows = Vec::new();
    let mut points = Vec::new();
    for &chunk in &SWEEP_CHUNKS {
        let (t, got) = time(
            Plan {
                warmup: 1,
                repetitions: 3,
            },
            || pool.install(|| count_primes_chunked(SWEEP_N, chunk)),
        );
        if got != expected {
            return Err(crate::Error::WrongAnswer {
                what: format!("granularité, tâches de {chunk}"),
                expected: expected.to_string(),
                got: got.to_string(),
            });
        }
        points.push((chunk as f64, t.median() * 1e3));
        sweep_rows.push(vec![
            chunk.to_string(),
            SWEEP_N.div_ceil(chunk).to_string(),
            ms(t.median()),
            human_ratio(seq_t.median() / t.median()),
        ]);
    }
    let ideal = seq_t.median() / workers as f64 * 1e3;
    let files = LineChart {
        title: format!("Granularité : W1 (N = {SWEEP_N}) sur {workers} workers"),
        x_label: "taille d'une tâche (nombres, échelle log)".into(),
        y_label: "temps médian (ms)".into(),
        series: vec![
            Series::measured("rayon, tâches de taille fixe", points.clone()),
            Series::model(
                "idéal : temps séquentiel / workers",
                vec![(1.0, ideal), (*SWEEP_CHUNKS.last().unwrap() as f64, ideal)],
            ),
        ],
        log_x: true,
    }
    .save(&ctx.output, "ex7-granularite")?;
    files.into_iter().for_each(|f| section.file(f));
    let headers = ["taille de tâche", "tâches", "médiane", "accélération"];
    println!(
        "\n2. Granularité (W1, N = {SWEEP_N}, {workers} workers ; séquentiel : {})",
        ms(seq_t.median())
    );
    println!("{}", output::table(&headers, 0, sweep_rows.clone()));
    section.text(format!(
        "### 2. Granularité\n\nW1 découpé en tâches de taille fixe sur {workers} workers \
         (séquentiel : {}). Trop petites, le coût de l'ordonnancement domine ; trop grandes, la \
         dernière tâche (les plus grands nombres, les plus coûteux) laisse les autres workers \
         sans travail.\n\n{}",
        ms(seq_t.median()),
        output::markdown_table(&headers, 1, &sweep_rows)
    ));
    section.image("Granularité", "ex7-granularite.png");
    bar.inc(1);

    // 3. False sharing.
    bar.set_message("faux partage");
    let plan3 = Plan {
        warmup: 1,
        repetitions: 3,
    };
    let (packed, a) = time(plan3, || count_packed(workers, INCREMENTS));
    let (padded, b) = time(plan3, || count_padded(workers, INCREMENTS));
    let total = workers as u64 * INCREMENTS;
    if a != total || b != total {
        return Err(crate::Error::WrongAnswer {
            what: "compteurs par thread".into(),
            expected: total.to_string(),
            got: format!("{a} et {b}"),
        });
    }
    let fs_rows = vec![
        vec![
            "compteurs voisins (une ligne de cache)".to_string(),
            ms(packed.median()),
            format!("{:.1}", packed.median() * 1e9 / INCREMENTS as f64).replace('.', ","),
        ],
        vec![
            "compteurs CachePadded (une ligne chacun)".into(),
            ms(padded.median()),
            format!("{:.1}", padded.median() * 1e9 / INCREMENTS as f64).replace('.', ","),
        ],
    ];
    let fs_text = format!(
        "{workers} threads × {INCREMENTS} incréments : ×{} plus lent quand les compteurs \
         partagent une ligne de cache. (Sur une machine virtuelle, deux CPU virtuels peuvent \
         être deux hyperthreads d'un même cœur physique, qui partagent le cache L1 : l'effet y \
         est alors plus faible que sur deux vrais cœurs.)",
        human_ratio(packed.median() / padded.median())
    );
    let headers = ["disposition", "médiane", "ns par incrément"];
    println!("\n3. Faux partage");
    println!("{}", output::table(&headers, 1, fs_rows.clone()));
    println!("{fs_text}");
    section.text(format!(
        "### 3. Faux partage\n\nChaque thread incrémente son propre compteur : aucun partage \
         logique, mais si les compteurs sont voisins en mémoire, chaque écriture arrache la \
         ligne de cache (64 octets) à l'autre cœur.\n\n{}\n{fs_text}",
        output::markdown_table(&headers, 1, &fs_rows)
    ));
    bar.inc(1);

    // 4. Data layout.
    bar.set_message("disposition des données");
    let aos = records(RECORDS);
    let soa = to_soa(&aos);
    let plan4 = Plan {
        warmup: 1,
        repetitions: 5,
    };
    let (t_aos, s_aos) = time(plan4, || sum_x_aos(black_box(&aos)));
    let (t_soa, s_soa) = time(plan4, || sum_x_soa(black_box(&soa)));
    if s_aos != s_soa {
        return Err(crate::Error::WrongAnswer {
            what: "somme de colonne SoA".into(),
            expected: s_aos.to_string(),
            got: s_soa.to_string(),
        });
    }
    drop((aos, soa));
    let layout_rows = vec![
        vec![
            "tableau de structures (AoS)".to_string(),
            ms(t_aos.median()),
            human_bytes(RECORDS as u64 * 64),
        ],
        vec![
            "structure de tableaux (SoA)".into(),
            ms(t_soa.median()),
            human_bytes(RECORDS as u64 * 8),
        ],
    ];
    let layout_text = format!(
        "Somme d'une colonne sur {RECORDS} enregistrements de 8 champs : SoA ×{} plus rapide.",
        human_ratio(t_aos.median() / t_soa.median())
    );
    let headers = ["disposition", "médiane", "octets lus"];
    println!("\n4. Disposition des données");
    println!("{}", output::table(&headers, 1, layout_rows.clone()));
    println!("{layout_text}");
    section.text(format!(
        "### 4. Disposition des données\n\nEn AoS, lire le champ `x` amène en cache les 64 \
         octets de l'enregistrement pour 8 utiles ; en SoA la colonne est contiguë et se \
         vectorise.\n\n{}\n{layout_text}",
        output::markdown_table(&headers, 1, &layout_rows)
    ));
    bar.inc(1);

    // 5. Memory.
    bar.set_message("mémoire");
    let dir = tempfile::tempdir().map_err(|e| crate::Error::io("création de", &ctx.output, e))?;
    let mut mem_rows = Vec::new();
    let (mut streaming, mut loading) = (Vec::new(), Vec::new());
    for rows in [10_000u64, 40_000, 160_000] {
        let path = dir.path().join(format!("t{rows}.csv"));
        crate::data::transactions::generate(&path, rows, |_| {})?;
        let (g, p_stream) = measure_peak(|| crate::workloads::groupby::seq(&path));
        let g = g?;
        let (all, p_load) = measure_peak(|| crate::data::transactions::load(&path));
        let all = all?;
        if g.rows() != rows || all.len() as u64 != rows {
            return Err(crate::Error::WrongAnswer {
                what: "lignes lues".into(),
                expected: rows.to_string(),
                got: format!("{} et {}", g.rows(), all.len()),
            });
        }
        drop(all);
        let show = |p: Option<u64>| p.map_or("— (allocateur non suivi)".into(), human_bytes);
        mem_rows.push(vec![rows.to_string(), show(p_stream), show(p_load)]);
        if let (Some(a), Some(b)) = (p_stream, p_load) {
            streaming.push((rows as f64, a as f64 / 1e6));
            loading.push((rows as f64, b as f64 / 1e6));
        }
    }
    if !streaming.is_empty() {
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
        .save(&ctx.output, "ex7-memoire")?
        .into_iter()
        .for_each(|f| section.file(f));
        section.image("Mémoire", "ex7-memoire.png");
    }
    // Peak heap of each strategy of W1 and W7 (shipped corpus).
    let mut inputs = crate::run::Inputs::from_data_dir(&ctx.data);
    let mut per_strategy = Vec::new();
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
            let m = crate::run::run_case(
                &case,
                Plan {
                    warmup: 0,
                    repetitions: 1,
                },
                &mut inputs,
            )?;
            per_strategy.push(vec![
                format!("{} {} ×{}", m.workload, m.strategy, m.workers),
                m.peak_heap_bytes
                    .map_or("— (allocateur non suivi)".into(), human_bytes),
            ]);
        }
    }
    let headers = ["lignes", "pic en flux", "pic en chargeant tout"];
    let headers2 = ["charge et stratégie", "pic de tas"];
    println!("\n5. Mémoire");
    println!("{}", output::table(&headers, 0, mem_rows.clone()));
    println!("{}", output::table(&headers2, 1, per_strategy.clone()));
    section.text(format!(
        "### 5. Mémoire\n\nPic de tas mesuré par l'allocateur de suivi : la lecture en flux \
         garde un tampon de taille fixe quelle que soit la taille du fichier, le chargement \
         complet grandit avec lui.\n\n{}\n{}",
        output::markdown_table(&headers, 1, &mem_rows),
        output::markdown_table(&headers2, 1, &per_strategy)
    ));
    bar.inc(1);

    // 6. Amdahl and Gustafson.
    bar.set_message("Amdahl et Gustafson");
    let mut counts: Vec<usize> = ctx.workers.clone();
    counts.push(1);
    counts.sort_unstable();
    counts.dedup();
    let plan6 = Plan {
        warmup: 1,
        repetitions: 3,
    };
    let (t1, h1) = time(plan6, || amdahl_hits(AMDAHL_SAMPLES, SERIAL, 1));
    let mut amdahl_pts = Vec::new();
    let mut gustafson_pts = Vec::new();
    let mut law_rows = Vec::new();
    for &p in &counts {
        let (tp, hp) = if p == 1 {
            (t1.clone(), h1)
        } else {
            time(plan6, || amdahl_hits(AMDAHL_SAMPLES, SERIAL, p))
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
            let (g1, _) = time(plan6, || amdahl_hits(scaled, serial, 1));
            let (gp, _) = time(plan6, || amdahl_hits(scaled, serial, p));
            g1.median() / gp.median()
        };
        gustafson_pts.push((p as f64, scaled_speedup));
        law_rows.push(vec![
            p.to_string(),
            human_ratio(speedup),
            human_ratio(amdahl_speedup(p as f64, SERIAL)),
            human_ratio(scaled_speedup),
            human_ratio(gustafson_speedup(p as f64, SERIAL)),
        ]);
    }
    let fitted = crate::models::fit_serial_fraction(&amdahl_pts);
    let top = counts.last().copied().unwrap_or(2).max(8);
    let model = |f: fn(f64, f64) -> f64| -> Vec<(f64, f64)> {
        (1..=top).map(|p| (p as f64, f(p as f64, SERIAL))).collect()
    };
    LineChart {
        title: format!(
            "Amdahl et Gustafson : partie séquentielle s = {} %",
            SERIAL * 100.0
        ),
        x_label: "nombre de workers".into(),
        y_label: "accélération".into(),
        series: vec![
            Series::measured("Amdahl mesuré (taille fixe)", amdahl_pts.clone()),
            Series::model("modèle d'Amdahl", model(amdahl_speedup)),
            Series::measured("Gustafson mesuré (taille ∝ workers)", gustafson_pts),
            Series::model("modèle de Gustafson", model(gustafson_speedup)),
        ],
        log_x: false,
    }
    .save(&ctx.output, "ex7-amdahl-gustafson")?
    .into_iter()
    .for_each(|f| section.file(f));
    let fit_text = match fitted {
        Some(s) => format!(
            "Fraction séquentielle ajustée sur les mesures : {} % (construite : {:.0} %). \
             Au-delà de {} workers la machine n'a plus de cœurs : les modèles sont prolongés \
             en pointillés, l'accélération d'Amdahl plafonne à 1/s = {}.",
            format!("{:.1}", 100.0 * s).replace('.', ","),
            100.0 * SERIAL,
            crate::machine::usable_cpus(),
            human_ratio(1.0 / SERIAL)
        ),
        None => "Un seul nombre de workers : pas d'ajustement possible.".into(),
    };
    let headers = [
        "workers",
        "Amdahl mesuré",
        "Amdahl modèle",
        "Gustafson mesuré",
        "Gustafson modèle",
    ];
    println!(
        "\n6. Amdahl et Gustafson (π Monte-Carlo, {:.0} % de partie séquentielle)",
        100.0 * SERIAL
    );
    println!("{}", output::table(&headers, 0, law_rows.clone()));
    println!("{fit_text}");
    section.text(format!(
        "### 6. Amdahl et Gustafson\n\nπ par Monte-Carlo dont {:.0} % des points sont tirés \
         par un seul thread. À taille fixe (Amdahl) l'accélération plafonne ; si la taille \
         grandit avec le nombre de workers (Gustafson), elle continue de croître.\n\n{}\n{fit_text}",
        100.0 * SERIAL,
        output::markdown_table(&headers, 1, &law_rows)
    ));
    section.image("Amdahl et Gustafson", "ex7-amdahl-gustafson.png");
    bar.inc(1);
    bar.finish_and_clear();

    section.file(format!("ex7-profil-{}.json", profile()));
    Ok(section)
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
    fn demo_writes_its_plots_and_reads_the_other_profile() {
        let data = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data"));
        let out = tempfile::tempdir().unwrap();
        let ctx = crate::context::Context::quiet(data, out.path());
        // A release measurement left by an earlier run: the ratio is shown.
        crate::output::write_text(
            &out.path().join("ex7-profil-release.json"),
            r#"{"profile":"release","n":200000,"seconds":0.01}"#,
        )
        .unwrap();
        let section = demo(&ctx).unwrap();
        for f in [
            "ex7-granularite.png",
            "ex7-granularite.svg",
            "ex7-memoire.png",
            "ex7-amdahl-gustafson.svg",
            "ex7-profil-debug.json",
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
