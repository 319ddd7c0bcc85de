//! The demonstration of exercise 2 (`tp4 exercice 2`): closures and their traits,
//! functions that take and return functions on the shipped `transactions.csv`,
//! top-N with closures, the measured effect of `memoize` on a slow function, and
//! `move` closures sent to threads.

use crate::context::Context;
use crate::data::transactions::Transaction;
use crate::error::Result;
use crate::fr;
use crate::output::{self, Section};
use crate::plot::BarChart;
use crate::workloads::primes;
use std::time::Instant;

/// The requests of the memoization experiment: "how many primes below n?" asked
/// 24 times about only 4 distinct values, as a report would ask again and again.
pub fn memo_requests() -> Vec<u64> {
    let distinct = [60_000u64, 120_000, 180_000, 240_000];
    (0..24).map(|i| distinct[(i * 7 + i / 4) % 4]).collect()
}

/// Cities drawn on the top-N chart (more would make their names overlap).
const CHART_CITIES: usize = 6;

/// Runs the demonstration of exercise 2 (see the module documentation): one call
/// per step.
pub fn demo(ctx: &Context) -> Result<Section> {
    let mut section = Section::new(super::TITLE);
    let path = crate::data::transactions_path(&ctx.data)?;
    let rows: Vec<Transaction> =
        crate::data::transactions::stream(&path)?.collect::<Result<_>>()?;
    closure_traits(&mut section, &rows);
    higher_order(&mut section, &rows);
    top_n(ctx, &mut section, &rows)?;
    memoize_step(ctx, &mut section)?;
    threads(ctx, &mut section, &rows)?;
    Ok(section)
}

/// Step 2.1: the three closure traits, what each closure does with its captures.
fn closure_traits(section: &mut Section, rows: &[Transaction]) {
    let mut counter = super::make_counter();
    let counts: Vec<u64> = (0..3).map(|_| counter()).collect();
    let mut other = super::make_counter();
    let mut acc = super::make_accumulator();
    let totals: Vec<f64> = rows.iter().take(3).map(|t| acc(t.revenue())).collect();
    let cities: Vec<String> = rows.iter().take(4).map(|t| t.city.clone()).collect();
    let once = super::sorted_later(cities);
    let closures = vec![
        vec![
            "make_counter()".into(),
            "FnMut".into(),
            format!("{counts:?}, un second compteur rend {}", other()),
        ],
        vec![
            "make_accumulator()".into(),
            "FnMut".into(),
            format!(
                "totaux courants des 3 premières ventes : {}",
                totals
                    .iter()
                    .map(|x| fr::euros((x * 100.0).round() as i64))
                    .collect::<Vec<_>>()
                    .join(" ; ")
            ),
        ],
        vec![
            "sorted_later(villes)".into(),
            "FnOnce".into(),
            format!("{:?}", once()),
        ],
        vec![
            "make_adder(10)".into(),
            "Fn".into(),
            format!("make_adder(10)(32) = {}", super::make_adder(10)(32)),
        ],
    ];
    println!("2.1 Fermetures et ce qu'elles font de leurs captures :");
    section.text(
        "**2.1 Fermetures** : `Fn` lit ses captures, `FnMut` les modifie, `FnOnce` les consomme.",
    );
    section.table("", &["fermeture", "trait", "résultat"], 3, closures);
}

/// Steps 2.2 – 2.3: functions that take and return functions.
fn higher_order(section: &mut Section, rows: &[Transaction]) {
    let with_vat_then_discount = super::pipeline::<f64>(vec![
        Box::new(|x| x * 1.2),                     // TVA 20 %
        Box::new(|x| x * 0.9),                     // remise 10 %
        Box::new(|x| (x * 100.0).round() / 100.0), // arrondi au centime
    ]);
    // The first sale's revenue (0 € for an empty table).
    let first = rows.first().map_or(0.0, |t| t.revenue());
    let inc_then_double = super::compose(|x: i64| x * 2, |x: i64| x + 1);
    let sport = super::by_category("sport");
    let at_least = super::partial(|min: f64, t: &Transaction| t.amount >= min, 250.0);
    let hof = vec![
        vec![
            "apply_n(|x| x * 2, 10, 1)".into(),
            super::apply_n(|x: u64| x * 2, 10, 1).to_string(),
        ],
        vec![
            "compose(×2, +1)(5) = (5 + 1) × 2".into(),
            inc_then_double(5).to_string(),
        ],
        vec![
            format!("pipeline [TVA, remise, arrondi]({})", fr::decimal(first, 2)),
            fr::comma(with_vat_then_discount(first).to_string()),
        ],
        vec![
            "ventes filtrées par by_category(\"sport\")".into(),
            fr::thousands(rows.iter().filter(|t| sport(t)).count() as u64),
        ],
        vec![
            "ventes à ≥ 250 € : partial(au_moins, 250.0)".into(),
            fr::thousands(rows.iter().filter(|t| at_least(t)).count() as u64),
        ],
    ];
    let headers = ["appel", "résultat"];
    // Not one `Section::table` call: the closures' bars `|` would end a Markdown
    // table cell, so the report gets an escaped copy of the terminal's table.
    println!("2.2–2.3 Fonctions qui prennent ou rendent des fonctions :");
    println!("{}", output::table(&headers, 1, hof.clone()));
    section.text("**2.2–2.3 Fonctions d'ordre supérieur** :");
    let hof_md: Vec<Vec<String>> = hof
        .iter()
        .map(|row| row.iter().map(|c| c.replace('|', "\\|")).collect())
        .collect();
    section.text(output::markdown_table(&headers, 1, &hof_md));
}

/// One row of `ex2_top_villes.csv`.
#[derive(serde::Serialize)]
struct CityRow<'a> {
    rang: usize,
    ville: &'a str,
    chiffre_affaires_centimes: i64,
}

/// Step 2.4: top-N with closures, as a table, a CSV file and a bar chart.
fn top_n(ctx: &Context, section: &mut Section, rows: &[Transaction]) -> Result<()> {
    let top = super::top_cities(rows, 10);
    let top_rows: Vec<Vec<String>> = top
        .iter()
        .enumerate()
        .map(|(i, (c, cents))| vec![(i + 1).to_string(), c.clone(), fr::euros(*cents)])
        .collect();
    println!(
        "2.4 Les 10 villes au plus grand chiffre d'affaires (select_nth_unstable_by + sort_by) :"
    );
    section.text("**2.4 Top-N avec des fermetures** :");
    section.table("", &["rang", "ville", "chiffre d'affaires"], 2, top_rows);
    let cats = super::top_n_by(rows, |t| &t.category, 3);
    let best = super::best_sale(rows);
    section.say(format!(
        "Même fonction, autre clé (|t| &t.category) : {}. Plus grosse vente (max_by) : {}.",
        cats.iter()
            .map(|(c, v)| format!("{c} {}", fr::euros(*v)))
            .collect::<Vec<_>>()
            .join(", "),
        best.map_or("—".into(), |t| format!(
            "n° {} à {}, {}",
            t.id,
            t.city,
            fr::euros(t.revenue_cents())
        ))
    ));
    let csv: Vec<CityRow> = top
        .iter()
        .enumerate()
        .map(|(i, (c, v))| CityRow {
            rang: i + 1,
            ville: c,
            chiffre_affaires_centimes: *v,
        })
        .collect();
    output::write_csv(&ctx.out("ex2_top_villes.csv"), &csv)?;
    section.file("ex2_top_villes.csv");
    let chart = BarChart {
        title: format!("Exercice 2 — les {CHART_CITIES} villes au plus grand chiffre d'affaires"),
        y_label: "chiffre d'affaires (millions d'euros)".into(),
        bars: top
            .iter()
            .take(CHART_CITIES)
            .map(|(c, v)| (c.clone(), *v as f64 / 1e8))
            .collect(),
    };
    for f in chart.save(&ctx.output, "ex2_top_villes")? {
        section.file(f);
    }
    section.image(
        "Les villes au plus grand chiffre d'affaires",
        "ex2_top_villes.png",
    );
    Ok(())
}

/// Step 2.5: memoize on a slow function, measured; table, CSV file and chart.
fn memoize_step(ctx: &Context, section: &mut Section) -> Result<()> {
    let memo = memoize_experiment(ctx)?;
    let headers = [
        "version",
        "appels de la fonction lente",
        "temps total",
        "accélération",
    ];
    let memo_rows = vec![
        vec![
            "sans cache".into(),
            memo.requests.to_string(),
            fr::seconds(memo.plain_seconds),
            "1,00".into(),
        ],
        vec![
            "memoize(f)".into(),
            memo.slow_calls.to_string(),
            fr::seconds(memo.memo_seconds),
            fr::ratio(memo.plain_seconds / memo.memo_seconds),
        ],
    ];
    println!(
        "2.5 memoize sur une fonction lente (nombre de premiers < n par divisions) : {} requêtes, {} valeurs distinctes",
        memo.requests, memo.slow_calls
    );
    section.text(format!(
        "**2.5 memoize** : {} requêtes « combien de nombres premiers sous n ? » portant sur {} \
         valeurs distinctes ; la version mémoïsée ne calcule chaque valeur qu'une fois.",
        memo.requests, memo.slow_calls
    ));
    section.table("", &headers, 1, memo_rows);
    output::write_csv(&ctx.out("ex2_memoize.csv"), &memo.csv_rows())?;
    section.file("ex2_memoize.csv");
    let chart = BarChart {
        title: "Exercice 2 — effet de memoize (24 requêtes, 4 valeurs distinctes)".into(),
        y_label: "temps total (s)".into(),
        bars: vec![
            ("sans cache".into(), memo.plain_seconds),
            ("memoize(f)".into(), memo.memo_seconds),
        ],
    };
    for f in chart.save(&ctx.output, "ex2_memoize")? {
        section.file(f);
    }
    section.image("Effet de memoize", "ex2_memoize.png");
    Ok(())
}

/// Step 2.6: `move` closures sent to threads, one sum per chunk then join, against
/// scoped threads that borrow.
fn threads(ctx: &Context, section: &mut Section, rows: &[Transaction]) -> Result<()> {
    // The functions of 2.6 add `u64`: refunds (negative lines) are left out, not cast
    // (`-250 as u64` overflows the sum, a panic in a debug build).
    let data: Vec<u64> = rows
        .iter()
        .filter_map(|t| u64::try_from(t.revenue_cents()).ok())
        .collect();
    let refunds = rows.len() - data.len();
    let expected: u64 = data.iter().sum();
    let mut thread_rows = Vec::new();
    for &w in &ctx.workers {
        // The vector is cloned outside the timed part: `parallel_sum` consumes it.
        let plan = crate::measure::Plan {
            warmup: 1,
            repetitions: 7,
        };
        let mut copies = vec![data.clone(); plan.warmup + plan.repetitions].into_iter();
        let mut spawned = 0;
        let (t, _) = crate::measure::time(plan, || {
            let mine = copies.next().unwrap_or_default();
            spawned = super::parallel_sum(mine, w);
        });
        let t_spawn = t.median();
        let (t, scoped) = crate::measure::time(plan, || super::scoped_sum(&data, w));
        let t_scoped = t.median();
        if spawned != expected || scoped != expected {
            return Err(crate::Error::WrongAnswer {
                what: format!("exercice 2 / somme sur {w} threads"),
                expected: expected.to_string(),
                got: format!("{spawned} et {scoped}"),
            });
        }
        thread_rows.push(vec![
            w.to_string(),
            fr::euros(spawned as i64),
            fr::seconds(t_spawn),
            fr::seconds(t_scoped),
        ]);
    }
    let headers = [
        "threads",
        "somme des ventes",
        "spawn + move + Arc",
        "thread::scope",
    ];
    println!("2.6 Fermetures move envoyées à des threads (une somme par morceau, puis join) :");
    section.text("**2.6 Fermetures `move` et threads** :");
    section.table("", &headers, 1, thread_rows);
    if refunds > 0 {
        section.say(format!(
            "Somme des lignes positives seulement ({} mis à part) : les fonctions de 2.6 \
             additionnent des u64, sans signe.",
            fr::count(refunds as u64, "remboursement", "remboursements")
        ));
    }
    section.say(
        "thread::spawn exige une fermeture 'static (elle possède tout ce qu'elle utilise : le \
         thread peut survivre à l'appelant) et Send (ses captures peuvent changer de thread) : \
         on déplace (move) un Arc dans chaque thread. Emprunter une variable locale ou \
         capturer un Rc est refusé à la compilation (voir les doctests compile_fail de \
         tp4::ex2::parallel_sum). thread::scope attend ses threads avant de rendre la main : \
         ils peuvent emprunter. Sur 10 000 nombres, lancer les threads coûte plus que la \
         somme : l'exercice 4 mesure quand le parallélisme paie.",
    );
    Ok(())
}

/// The measured effect of [`super::memoize`].
#[derive(Debug, Clone)]
pub struct MemoExperiment {
    /// Requests made.
    pub requests: usize,
    /// Calls of the slow function by the memoized version (distinct arguments).
    pub slow_calls: usize,
    /// Wall time of the requests without cache.
    pub plain_seconds: f64,
    /// Wall time of the requests through `memoize`.
    pub memo_seconds: f64,
}

/// One row of `ex2_memoize.csv`.
#[derive(Debug, serde::Serialize)]
struct MemoRow {
    version: &'static str,
    requetes: usize,
    appels_fonction_lente: usize,
    secondes: f64,
}

impl MemoExperiment {
    fn csv_rows(&self) -> Vec<MemoRow> {
        vec![
            MemoRow {
                version: "sans-cache",
                requetes: self.requests,
                appels_fonction_lente: self.requests,
                secondes: self.plain_seconds,
            },
            MemoRow {
                version: "memoize",
                requetes: self.requests,
                appels_fonction_lente: self.slow_calls,
                secondes: self.memo_seconds,
            },
        ]
    }
}

/// Answers [`memo_requests`] with and without [`super::memoize`], checks that the
/// answers agree and counts the calls of the slow function.
pub fn memoize_experiment(ctx: &Context) -> Result<MemoExperiment> {
    let requests = memo_requests();
    let bar = ctx.steps(2, "exercice 2 : memoize");
    let start = Instant::now();
    let plain: Vec<u64> = requests.iter().map(|&n| primes::count_seq(n)).collect();
    let plain_seconds = start.elapsed().as_secs_f64();
    bar.inc(1);
    let calls = std::cell::Cell::new(0usize);
    let start = Instant::now();
    let mut cached = super::memoize(|n: u64| {
        calls.set(calls.get() + 1);
        primes::count_seq(n)
    });
    let memo: Vec<u64> = requests.iter().map(|&n| cached(n)).collect();
    let memo_seconds = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    if memo != plain {
        return Err(crate::Error::WrongAnswer {
            what: "exercice 2 / memoize".into(),
            expected: format!("{plain:?}"),
            got: format!("{memo:?}"),
        });
    }
    Ok(MemoExperiment {
        requests: requests.len(),
        slow_calls: calls.get(),
        plain_seconds,
        memo_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_have_four_distinct_values() {
        let r = memo_requests();
        let distinct: std::collections::BTreeSet<u64> = r.iter().copied().collect();
        assert_eq!((r.len(), distinct.len()), (24, 4));
    }

    #[test]
    fn demo_runs_and_writes_its_files() {
        let dir = tempfile::tempdir().unwrap();
        crate::data::transactions::generate(&dir.path().join("transactions.csv"), 300, |_| {})
            .unwrap();
        let out = dir.path().join("out");
        let ctx = crate::context::Context::quiet(dir.path(), &out);
        let s = demo(&ctx).unwrap();
        assert!(s.markdown.contains("memoize"));
        // Closure bars are escaped inside Markdown tables.
        assert!(
            s.markdown.contains(r"apply_n(\|x\| x * 2, 10, 1)"),
            "{}",
            s.markdown
        );
        for f in [
            "ex2_top_villes.csv",
            "ex2_top_villes.png",
            "ex2_memoize.csv",
            "ex2_memoize.svg",
        ] {
            assert!(out.join(f).is_file(), "{f}");
        }
        let csv = std::fs::read_to_string(out.join("ex2_memoize.csv")).unwrap();
        assert!(csv.contains("memoize") && csv.lines().count() == 3, "{csv}");
    }
}
