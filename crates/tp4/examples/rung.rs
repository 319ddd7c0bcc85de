//! Runs one rung of an optimisation ladder (W1, W2, W4 or W7) once and prints its
//! answer: the program the profiles quoted in `workloads/fast/` and
//! `docs/optimisation.md` were taken on
//! (callgrind counts every instruction of it, perf samples where its time goes).
//! W1 and W2 take a size, W4 and W7 a file; an optional last argument gives the
//! worker count (1 by default, which is what the sequential rungs use anyway).
//!
//! ```sh
//! cargo build --release -p tp4 --example rung
//! valgrind --tool=callgrind --branch-sim=yes ./target/release/examples/rung primes u64 200000
//! perf record -e cpu-clock -F 5000 ./target/release/examples/rung pi f64 20000000
//! perf stat -e task-clock,instructions,cycles ./target/release/examples/rung wordcount bits data/bench/corpus-20mo.txt
//! perf record -e cpu-clock ./target/release/examples/rung groupby lignes data/bench/transactions-200000.csv
//! perf annotate --stdio
//! ```

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage : rung primes|pi <échelon> <N ou S> [workers] | rung groupby|wordcount <échelon> <fichier> [workers]";
    let (Some(workload), Some(rung), Some(size)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let workers: usize = match args.get(4).map(|w| w.parse()) {
        None => 1,
        Some(Ok(w)) => w,
        Some(Err(_)) => {
            eprintln!("{usage}");
            std::process::exit(2)
        }
    };
    let number = || -> u64 {
        size.parse().unwrap_or_else(|_| {
            eprintln!("{usage}");
            std::process::exit(2)
        })
    };
    let path = std::path::Path::new(size);
    let fail = |e: tp4::error::Error| -> ! {
        eprintln!("erreur : {e}");
        std::process::exit(1)
    };
    match workload.as_str() {
        "primes" => {
            let run = pick(tp4::workloads::fast::primes::ladder(), rung);
            println!("{}", std::hint::black_box(run(number(), workers)));
        }
        "pi" => {
            let run = pick(tp4::workloads::fast::pi::ladder(), rung);
            println!("{}", std::hint::black_box(run(number(), workers)));
        }
        "groupby" => {
            let run = pick(tp4::workloads::fast::groupby::ladder(), rung);
            let totals = run(path, workers).unwrap_or_else(|e| fail(e));
            println!("{}", totals.answer_json());
        }
        "wordcount" => {
            let run = pick(tp4::workloads::fast::wordcount::ladder(), rung);
            let wc = run(path, workers).unwrap_or_else(|e| fail(e));
            println!("{}", wc.answer_json());
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2)
        }
    }
}

/// The kernel of the rung called `name`, or exit 2 with the names to choose from.
fn pick<K: Copy>(ladder: Vec<tp4::workloads::fast::Rung<K>>, name: &str) -> K {
    match ladder.iter().find(|r| r.name == name) {
        Some(r) => r.run,
        None => {
            let names: Vec<&str> = ladder.iter().map(|r| r.name).collect();
            eprintln!("échelon inconnu « {name} » ; choix : {}", names.join(", "));
            std::process::exit(2)
        }
    }
}
