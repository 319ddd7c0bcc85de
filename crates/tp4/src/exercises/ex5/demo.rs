//! The demonstration of exercise 5 (`tp4 exercice 5`, a few seconds on 2 cores):
//! producers and a consumer, backpressure, a hand-made worker pool, a pipeline of
//! threads, W5 between threads and through a pipe between processes, and shared
//! state three ways. One function per step; each prints its text and tables and
//! appends the same to the report section.

use super::*;
use crate::context::Context;
use crate::fr;
use crate::measure::Plan;
use crate::output::Section;
use crate::run::{Case, Inputs};
use crate::workloads::Workload;

/// Runs the demonstration and returns its report section.
pub fn demo(ctx: &Context) -> Result<Section> {
    let mut sec = Section::new(TITLE);
    let bar = ctx.steps(6, "exercice 5");
    let workers = ctx.workers.iter().copied().max().unwrap_or(2).max(2);
    producers(&mut sec);
    bar.inc(1);
    backpressure_table(&mut sec);
    bar.inc(1);
    pool(&mut sec, workers);
    bar.inc(1);
    pipeline(ctx, &mut sec)?;
    bar.inc(1);
    w5(ctx, &mut sec)?;
    bar.inc(1);
    shared_state(&mut sec, workers);
    bar.inc(1);
    bar.finish_and_clear();
    sec.file("ex5_ipc.csv");
    Ok(sec)
}

/// Messages per second, French format ("1,2 M/s").
fn rate(messages: f64, seconds: f64) -> String {
    let r = messages / seconds;
    if r >= 1e6 {
        format!("{} M/s", fr::decimal(r / 1e6, 1))
    } else {
        format!("{:.0} k/s", r / 1e3)
    }
}

/// "✓" when `ok`, "✗" otherwise.
fn mark(ok: bool) -> String {
    if ok { "✓" } else { "✗" }.into()
}

/// 5.1 / 5.2 — Producers and a consumer, ended by dropping the `Sender`s or by
/// sentinels.
fn producers(sec: &mut Section) {
    let t = Instant::now();
    let (count, sum) = producers_consumer(3, 100_000);
    let t1 = t.elapsed();
    let t = Instant::now();
    let (count2, sum2) = sentinel_consumer(3, 100_000);
    let t2 = t.elapsed();
    sec.say(format!(
        "**5.1 / 5.2 Producteurs → consommateur** (3 producteurs × 100 000 messages) : fin par \
         abandon des `Sender` → {count} messages, somme {sum}, {} ; avec sentinelles → \
         {count2} messages, somme {sum2}, {}. En Rust, le canal se ferme quand le dernier \
         `Sender` disparaît : la « poison pill » des queues Python est inutile.",
        fr::duration(t1),
        fr::duration(t2)
    ));
}

/// 5.3 — A bounded channel against an unbounded one, with a slow consumer.
fn backpressure_table(sec: &mut Section) {
    let delay = Duration::from_millis(2);
    let bounded = backpressure(Some(4), 40, delay);
    let unbounded = backpressure(None, 40, delay);
    let rows = vec![
        vec![
            "borné (capacité 4)".to_string(),
            accepted_before_full(4, 40).to_string(),
            fr::duration(bounded.producer_blocked),
            fr::duration(bounded.total),
        ],
        vec![
            "non borné".to_string(),
            "40".to_string(),
            fr::duration(unbounded.producer_blocked),
            fr::duration(unbounded.total),
        ],
    ];
    let headers = [
        "canal",
        "acceptés sans consommateur",
        "producteur bloqué",
        "durée totale",
    ];
    sec.say("**5.3 Contre-pression** : 40 messages, consommateur lent (2 ms par message).");
    sec.table("", &headers, 1, rows);
    sec.say(
        "Avec le canal borné, le producteur attend que le consommateur libère de la place : \
         la mémoire reste bornée à 4 messages. Sans borne, il ne s'arrête jamais et la file \
         grossit autant que le retard du consommateur.",
    );
}

/// 5.4 — A hand-made worker pool: completion order against job order.
fn pool(sec: &mut Section, workers: usize) {
    let jobs: Vec<u64> = vec![150_000, 1_000, 90_000, 10, 120_000, 5_000, 60_000, 2];
    let completion = Mutex::new(Vec::new());
    let results = worker_pool(
        jobs.clone().into_iter().enumerate().collect(),
        workers,
        |(id, x)| {
            let r = pool_job(x);
            completion.lock().expect("poisoned").push(id);
            r
        },
    );
    let expected: Vec<u64> = jobs.iter().map(|&x| pool_job(x)).collect();
    sec.say(format!(
        "**5.4 Pool de workers fait main** ({workers} workers, canal crossbeam MPMC partagé) : \
         ordre de fin des travaux {:?} ; résultats remis dans l'ordre des travaux {:?} {}",
        completion.into_inner().expect("poisoned"),
        results,
        mark(results == expected)
    ));
}

/// 5.5 — The three-thread pipeline on the shipped transactions, against W4.
fn pipeline(ctx: &Context, sec: &mut Section) -> Result<()> {
    let csv = crate::data::transactions_path(&ctx.data)?;
    let t = Instant::now();
    let totals = pipeline_totals(&csv)?;
    let tp = t.elapsed();
    let reference: super::CategoryCents = groupby::seq(&csv)?
        .categories
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    let summary: Vec<String> = totals
        .iter()
        .map(|(c, &cents)| format!("{c} {} €", fr::euros_plain_ungrouped(cents)))
        .collect();
    sec.say(format!(
        "**5.5 Pipeline** lecture → analyse → agrégation (3 threads reliés par des canaux bornés) \
         sur {} en {} : {}. {}",
        csv.display(),
        fr::duration(tp),
        summary.join(", "),
        if totals == reference {
            "✓ mêmes totaux au centime que W4 (la somme des montants ; le chiffre \
             d'affaires de l'exercice 1 multiplie chaque montant par sa quantité)."
        } else {
            "✗ différent de W4 !"
        }
    ));
    Ok(())
}

/// What a W5 strategy connects, and how many records one message carries.
fn w5_strategy(strategy: &str) -> (&'static str, &'static str) {
    match strategy {
        "mpsc" => ("threads, std mpsc", "1"),
        "mpsc-lots" => ("threads, std mpsc", "1024"),
        "crossbeam" => ("threads, crossbeam borné", "1"),
        "crossbeam-lots" => ("threads, crossbeam borné", "1024"),
        "pipe" => ("2 processus, tube", "1"),
        _ => ("2 processus, tube", "1024"),
    }
}

/// 5.6 — W5 between threads and through a pipe, one message per record or in
/// batches; writes `ex5_ipc.csv`; then a child that crashes mid-stream.
fn w5(ctx: &Context, sec: &mut Section) -> Result<()> {
    let k = 200_000;
    let mut inputs = Inputs::default();
    let plan = Plan {
        warmup: 1,
        repetitions: 3,
    };
    let mut ms = Vec::new();
    for s in Workload::Ipc.strategies() {
        let case = Case {
            workload: Workload::Ipc,
            strategy: s.to_string(),
            workers: 2,
            size: k,
        };
        ms.push(crate::run::run_case(&case, plan, &mut inputs)?);
    }
    let rows: Vec<Vec<String>> = ms
        .iter()
        .map(|m| {
            let (what, per) = w5_strategy(&m.strategy);
            vec![
                m.strategy.clone(),
                what.into(),
                per.into(),
                fr::seconds(m.seconds),
                rate(k as f64, m.seconds),
                mark(m.ok),
            ]
        })
        .collect();
    let headers = [
        "stratégie",
        "entre",
        "enregistrements par message",
        "médiane",
        "débit",
        "somme",
    ];
    sec.say(format!(
        "**5.6 W5** : {k} enregistrements, médiane de 3 mesures."
    ));
    sec.table("", &headers, 2, rows);
    let mut ev = crate::machine::Evidence::new();
    ms.iter().for_each(|m| {
        ev.measurement(m);
    });
    sec.say_note(&ev.note());
    crate::output::write_csv(&ctx.out("ex5_ipc.csv"), &ms)?;
    let crash = pipe_sum(k, 1, Some(k / 4));
    sec.say(format!(
        "Un message par enregistrement paie à chaque fois la synchronisation (et, entre \
         processus, un appel système `write` et le passage par le noyau) ; par lots de 1024, \
         ce coût est divisé d'autant. Protocole du tube : trames binaires (nombre \
         d'enregistrements sur 4 octets, puis id et valeur sur 8 octets chacun), trame vide = \
         fin.\n\nEnfant qui plante au milieu du flux (après {} enregistrements) : {}",
        k / 4,
        match crash {
            Ok(v) => format!("✗ aucune erreur détectée (somme {v})"),
            Err(e) => format!("✓ détecté — « {e} »"),
        }
    ));
    Ok(())
}

/// 5.7 — The same total counted with a lock, an atomic and messages, on 1 and on
/// `workers` threads.
fn shared_state(sec: &mut Section, workers: usize) {
    let per = 1_000_000;
    let total = per * workers as u64;
    type Counter = fn(usize, u64) -> u64;
    let ways: [(&str, Counter); 3] = [
        ("Arc<Mutex<u64>>", count_mutex),
        ("AtomicU64::fetch_add", count_atomic),
        ("messages (compte local puis envoi)", count_messages),
    ];
    let plan = Plan {
        warmup: 1,
        repetitions: 3,
    };
    let mut rows = Vec::new();
    let mut ratios = Vec::new();
    let mut ev = crate::machine::Evidence::new();
    for (name, f) in ways {
        let (t1, v1) = crate::measure::time(plan, || f(1, total));
        let (tw, vw) = crate::measure::time(plan, || f(workers, per));
        ev.timings(&t1).timings(&tw);
        ratios.push(format!("{name} {}", fr::ratio(tw.median() / t1.median())));
        rows.push(vec![
            name.to_string(),
            fr::seconds(t1.median()),
            fr::seconds(tw.median()),
            format!("{}", vw),
            mark(v1 == vw && vw == total),
        ]);
    }
    let headers = [
        "méthode",
        "1 thread",
        &format!("{workers} threads"),
        "total",
        "exact",
    ];
    sec.say(format!(
        "**5.7 État partagé** : {total} incréments en tout, médiane de 3 mesures."
    ));
    sec.table("", &headers, 1, rows);
    sec.say(format!(
        "Rapport temps à {workers} threads / temps à 1 thread pour le même total : {}. Un \
         rapport proche de 1 ou plus veut dire que les threads ne s'additionnent pas : ils se \
         disputent le verrou ou la ligne de cache du compteur (contention), et chaque \
         incrément reste séquentiel. Compter localement puis envoyer un seul message par \
         thread ne partage rien : c'est la seule méthode qui profite des cœurs.",
        ratios.join(", "),
    ));
    sec.say_note(&ev.note());
}
