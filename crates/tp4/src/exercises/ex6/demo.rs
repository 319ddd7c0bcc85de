//! The demonstration of exercise 6 (`tp4 exercice 6`, about 5 s): the executor's
//! `map` and `as_completed`, failures and timeouts per task, W6 with threads and
//! tokio, timeouts and cancellation, the blocking pitfall, and the task graph with
//! its timeline. One function per step; each prints its text and tables and appends
//! the same to the report section.

use super::*;
use crate::context::Context;
use crate::fr;
use crate::measure::{Measurement, Plan};
use crate::output::Section;
use crate::plot::{LineChart, Series};
use std::path::PathBuf;

/// Runs the demonstration and returns its report section.
pub fn demo(ctx: &Context) -> Result<Section> {
    let mut sec = Section::new(TITLE);
    let bar = ctx.steps(6, "exercice 6");
    executor(&mut sec);
    bar.inc(1);
    failures(&mut sec);
    bar.inc(1);
    w6(ctx, &mut sec)?;
    bar.inc(1);
    timeouts(&mut sec);
    bar.inc(1);
    blocking_pitfall(&mut sec);
    bar.inc(1);
    let files = graph(ctx, &mut sec)?;
    bar.inc(1);
    bar.finish_and_clear();
    for f in files.iter().filter_map(|f| f.file_name()) {
        sec.file(f);
    }
    sec.file("ex6_io.csv");
    Ok(sec)
}

/// 6.1 — `map` (submission order) against `as_completed` (completion order) on
/// random durations (seeded).
fn executor(sec: &mut Section) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(6);
    let durations: Vec<u64> = (0..8).map(|_| rng.random_range(10..150)).collect();
    let t = Instant::now();
    let in_order = map_in_order(&durations, 8);
    let t_map = t.elapsed();
    let completed = as_completed(&durations, 8);
    sec.say(format!(
        "**6.1 Exécuteur** : 8 tâches de durées aléatoires {durations:?} ms sur 8 threads. \
         `map` (ordre de soumission) → {in_order:?} en {} ; `as_completed` (ordre de fin) → \
         {completed:?} : la plus courte d'abord, chaque résultat disponible dès qu'il est prêt.",
        fr::duration(t_map)
    ));
}

/// 6.2 — Each task's outcome: value, error, panic or timeout (panic messages
/// silenced: they are reported in the table).
fn failures(sec: &mut Section) {
    let outcomes = {
        let _quiet = crate::verif::panic::Silence::new();
        run_reporting(sample_tasks(), 5, Duration::from_millis(300))
    };
    let rows: Vec<Vec<String>> = outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| {
            vec![
                format!("tâche {i}"),
                match o {
                    Outcome::Done(v) => format!("✓ résultat {v}"),
                    Outcome::Failed(e) => format!("✗ erreur : {e}"),
                    Outcome::Panicked(m) => format!("✗ panique : {m}"),
                    Outcome::TimedOut => "⏱ délai de 300 ms dépassé".into(),
                },
            ]
        })
        .collect();
    sec.say("**6.2 Erreurs et délai par tâche** : chaque échec reste celui de sa tâche.");
    sec.table("", &["tâche", "issue"], 2, rows);
}

/// One W6 run timed once, with its peak heap and the process CPU time it used (read
/// inside the timing, beside the wall time).
fn measure_io(f: fn(u64, usize) -> u64, t: u64, c: usize) -> (Measurement, f64) {
    let plan = Plan {
        warmup: 0,
        repetitions: 1,
    };
    let mut cpu = 0.0;
    let ((timings, v), peak) = crate::alloc::measure_peak(|| {
        crate::measure::time(plan, || {
            let before = crate::measure::process_cpu_time();
            let v = f(t, c);
            cpu = (crate::measure::process_cpu_time() - before).as_secs_f64();
            v
        })
    });
    let ok = v == io::expected_sum(t);
    let m = Measurement::new("io", "", c, t, &timings, v.into(), ok, peak);
    (m, cpu)
}

/// 6.3 — W6 with threads and tokio, T tasks of 10 ms with at most C at a time, wall
/// time beside CPU time; writes `ex6_io.csv`.
fn w6(ctx: &Context, sec: &mut Section) -> Result<()> {
    type Io = fn(u64, usize) -> u64;
    let runs: [(&str, Io, u64, usize); 6] = [
        ("threads", io_threads, 1_000, 100),
        ("tokio (JoinSet + Semaphore)", io_tokio, 1_000, 100),
        ("tokio (buffer_unordered)", io_buffer_unordered, 1_000, 100),
        ("threads", io_threads, 10_000, 1_000),
        ("tokio (JoinSet + Semaphore)", io_tokio, 10_000, 1_000),
        ("tokio (JoinSet + Semaphore)", io_tokio, 100_000, 10_000),
    ];
    let mut rows = Vec::new();
    let mut csv = Vec::new();
    for (name, f, t, c) in runs {
        let (m, cpu) = measure_io(f, t, c);
        let ideal = io::ideal_seconds(t, c);
        rows.push(vec![
            name.to_string(),
            t.to_string(),
            c.to_string(),
            fr::seconds(m.seconds),
            fr::seconds(ideal),
            fr::ratio(m.seconds / ideal),
            fr::seconds(cpu),
            fr::percent(cpu / m.seconds, 1),
            m.peak_heap_bytes.map_or("—".into(), fr::bytes),
            if m.ok { "✓".into() } else { "✗".into() },
        ]);
        csv.push(Measurement {
            strategy: name.into(),
            cpu_seconds: Some(cpu),
            ..m
        });
    }
    let headers = [
        "stratégie",
        "T",
        "C",
        "temps",
        "idéal ⌈T/C⌉×10 ms",
        "temps / idéal",
        "CPU",
        "CPU / temps",
        "tas max",
        "somme",
    ];
    sec.say("**6.3 W6** : T tâches qui attendent 10 ms, au plus C à la fois.");
    sec.table("", &headers, 1, rows);
    crate::output::write_csv(&ctx.out("ex6_io.csv"), &csv)?;
    sec.say(
        "Attendre ne consomme pas de CPU (colonne CPU : le temps de calcul du processus \
         pendant la mesure ; à C = 100, une petite fraction du temps écoulé, le reste est \
         de l'attente ; créer et réveiller des milliers de threads ou de tâches en coûte \
         davantage) : le gain vient du recouvrement des attentes, pas des cœurs. Des threads y arrivent jusqu'à quelques \
         milliers (chacun a sa pile et se crée par un appel système) ; avec C = 10 000 il \
         faudrait 10 000 threads. Une tâche async en attente n'est qu'une petite structure : \
         T = 100 000 tâches, C = 10 000 à la fois, restent dans le même ordre de grandeur que \
         l'idéal (l'écart est le coût de créer et réveiller 100 000 tâches sur 2 cœurs).",
    );
    sec.say(tick_note(&csv[1]));
    Ok(())
}

/// What tokio's 1 ms timer granularity costs W6, with the figure measured on `m`
/// (tokio, T = 1000, C = 100), and what is left beyond it.
fn tick_note(m: &Measurement) -> String {
    let ideal = io::ideal_seconds(m.size, m.workers);
    let tick = io::tick_seconds(m.size, m.workers);
    let pct = |x: f64| fr::comma(format!("{:+.1}", 100.0 * x));
    let rest = m.seconds / tick - 1.0;
    format!(
        "Le minuteur de tokio compte en millisecondes entières et arrondit chaque échéance au \
         tick suivant : une tâche lancée juste après un tick attend 10 à 11 ms, donc chaque \
         vague de C tâches dure environ 11 ms. À T = {}, C = {} : idéal {}, idéal au tick près \
         {} ({} %) ; mesuré {} ({} % de l'idéal) : {} L'éviter en finissant chaque attente \
         par une boucle active coûterait du CPU à chaque tâche. Les threads dorment avec \
         `std::thread::sleep`, précis à quelques dizaines de microsecondes.",
        m.size,
        m.workers,
        fr::seconds(ideal),
        fr::seconds(tick),
        pct(tick / ideal - 1.0),
        fr::seconds(m.seconds),
        pct(m.seconds / ideal - 1.0),
        if rest <= 0.02 {
            "l'écart est celui de la granularité du minuteur, pas de l'ordonnanceur.".to_string()
        } else {
            format!(
                "la granularité du minuteur en explique jusqu'à {} %, le reste ({} % au-delà \
                 de l'idéal au tick près) est le temps de réveiller les tâches sur une \
                 machine occupée.",
                pct(tick / ideal - 1.0),
                pct(rest)
            )
        }
    )
}

/// 6.4 — A timeout, a task that never ends, and cancellation by `select!`.
fn timeouts(sec: &mut Section) {
    sec.say(format!(
        "**6.4 Délais et annulation** : tâche de 5 ms sous délai de 100 ms → {:?} ; tâche qui \
         ne finit jamais sous délai de 30 ms → {:?} (abandonnée, pas de blocage) ; `select!` \
         entre cette tâche et un `sleep` de 20 ms : la tâche perdante est annulée (son \
         destructeur a tourné : {}).",
        with_timeout(Some(5), 100),
        with_timeout(None, 30),
        if cancelled_by_select() { "oui" } else { "non" }
    ));
}

/// 6.5 — CPU work on a single-threaded runtime: inside an async task (the ticker
/// stops), with `spawn_blocking`, and on rayon.
fn blocking_pitfall(sec: &mut Section) {
    let n = 1_500_000;
    let blocking = ticks_during(|n| tokio::spawn(async move { primes::count_seq(n) }), n);
    let fixed = ticks_during(offload, n);
    let rayon_way = ticks_during(
        |n| {
            let (tx, rx) = tokio::sync::oneshot::channel();
            rayon::spawn(move || {
                let _ = tx.send(primes::count_seq(n));
            });
            tokio::spawn(async move { rx.await.expect("the rayon task vanished") })
        },
        n,
    );
    let rows: Vec<Vec<String>> = [
        ("calcul dans une tâche async (bloquant)", &blocking),
        ("spawn_blocking", &fixed),
        ("confié à rayon", &rayon_way),
    ]
    .iter()
    .map(|(name, s)| {
        vec![
            name.to_string(),
            fr::duration(s.work),
            s.ticks.to_string(),
            fr::duration(s.longest_gap),
        ]
    })
    .collect();
    let headers = [
        "où tourne le calcul",
        "durée du calcul",
        "tics du minuteur (1 ms)",
        "plus long trou",
    ];
    sec.say(format!(
        "**6.5 Le piège du calcul bloquant** (runtime à un thread, premiers < {n}) : un minuteur \
         de 1 ms tourne à côté."
    ));
    sec.table("", &headers, 1, rows);
    sec.say(
        "Un calcul dans une tâche async ne rend jamais la main (pas d'`await`) : le thread du \
         runtime est pris, toutes les autres tâches attendent. `spawn_blocking` ou rayon le \
         déplacent sur d'autres threads et le runtime reste réactif.",
    );
}

/// The timeline of the task graph: one horizontal segment per task.
fn timeline_chart(spans: &[Span]) -> LineChart {
    let series: Vec<Series> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let lane = (i + 1) as f64;
            Series::measured(
                format!(
                    "{} ({} → {})",
                    s.name,
                    fr::seconds(s.start),
                    fr::seconds(s.end)
                ),
                vec![
                    (s.start * 1e3, lane),
                    (s.end.max(s.start + 1e-5) * 1e3, lane),
                ],
            )
        })
        .collect();
    LineChart {
        title: "Graphe de tâches : chronologie (chargement → 2 agrégations → fusion)".into(),
        x_label: "temps depuis le début (ms)".into(),
        y_label: "tâche (1 = chargement … 4 = fusion)".into(),
        series,
        log_x: false,
    }
}

/// 6.6 — The task graph on the shipped transactions, against W4; writes its
/// timeline `ex6_graphe_taches.{png,svg}` and returns those files.
fn graph(ctx: &Context, sec: &mut Section) -> Result<Vec<PathBuf>> {
    let csv_path = crate::data::transactions_path(&ctx.data)?;
    let g = task_graph(&csv_path)?;
    let reference = crate::workloads::groupby::seq(&csv_path)?;
    let same = g
        .categories
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .eq(reference.categories.iter().map(|(k, v)| (k.as_str(), v.0)))
        && g.top_cities == reference.top_cities(3);
    let files = timeline_chart(&g.spans).save(&ctx.output, "ex6_graphe_taches")?;
    let overlap = {
        let (a, b) = (&g.spans[1], &g.spans[2]);
        a.start.max(b.start) < a.end.min(b.end)
    };
    let top: Vec<String> = g
        .top_cities
        .iter()
        .map(|(c, v)| format!("{c} {} €", fr::euros_plain_ungrouped(*v)))
        .collect();
    sec.say(format!(
        "**6.6 Graphe de tâches** (l'équivalent de `dask.delayed`) sur {} : 3 premières villes \
         {} ; {} Les deux agrégations dépendent seulement du chargement : lancées ensemble, \
         elles {} ; la fusion attend les deux. {}",
        csv_path.display(),
        top.join(", "),
        if same {
            "✓ mêmes totaux que W4."
        } else {
            "✗ totaux différents de W4 !"
        },
        if overlap {
            "se sont exécutées en même temps (voir la chronologie)"
        } else {
            "auraient pu s'exécuter en même temps (ici trop courtes pour se chevaucher)"
        },
        match verif::timeline_problem(&g.spans) {
            None => "Dépendances respectées.".to_string(),
            Some(p) => format!("Problème : {p}"),
        }
    ));
    sec.image("Chronologie du graphe de tâches", "ex6_graphe_taches.png");
    Ok(files)
}
