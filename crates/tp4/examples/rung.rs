//! Runs one rung of the W1 or W2 optimisation ladder once, on one thread, and prints
//! its answer: the program the profiles quoted in `workloads/fast/primes.rs` and
//! `workloads/fast/pi.rs` were taken on (callgrind counts every instruction of it,
//! perf samples where its time goes).
//!
//! ```sh
//! cargo build --release -p tp4 --example rung
//! valgrind --tool=callgrind --branch-sim=yes ./target/release/examples/rung primes u64 200000
//! perf record -e cpu-clock -F 5000 ./target/release/examples/rung pi f64 20000000
//! perf annotate --stdio
//! ```

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage : rung primes|pi <rung> <N ou S>";
    let (Some(workload), Some(rung), Some(size)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let size: u64 = size.parse().unwrap_or_else(|_| {
        eprintln!("{usage}");
        std::process::exit(2)
    });
    let unknown = |names: Vec<&str>| -> ! {
        eprintln!("échelon inconnu « {rung} » ; choix : {}", names.join(", "));
        std::process::exit(2)
    };
    match workload.as_str() {
        "primes" => {
            let ladder = tp4::workloads::fast::primes::ladder();
            match ladder.iter().find(|r| r.name == rung) {
                Some(r) => println!("{}", std::hint::black_box((r.run)(size, 1))),
                None => unknown(ladder.iter().map(|r| r.name).collect()),
            }
        }
        "pi" => {
            let ladder = tp4::workloads::fast::pi::ladder();
            match ladder.iter().find(|r| r.name == rung) {
                Some(r) => println!("{}", std::hint::black_box((r.run)(size, 1))),
                None => unknown(ladder.iter().map(|r| r.name).collect()),
            }
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2)
        }
    }
}
