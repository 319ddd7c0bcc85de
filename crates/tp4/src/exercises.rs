//! The exercises of the lab, in order: each has a reference solution module
//! (`tp4::ex1`...), checkers, and a demonstration that `tp4 exercice N` and the
//! default run execute. This module is the list the CLI and the default run use.

use crate::lab::Demo;

/// The demonstrations of the exercises that exist, in the order of the lab.
pub fn all() -> Vec<Demo> {
    vec![
        (crate::ex1::TITLE, crate::ex1::demo::demo),
        (crate::ex2::TITLE, crate::ex2::demo::demo),
        (crate::ex3::TITLE, crate::ex3::demo::demo),
        (
            "Exercice 4 — Introduction au multiprocessing",
            crate::ex4::demo,
        ),
        (
            "Exercice 5 — Communication entre processus : queues et pipes",
            crate::ex5::demo,
        ),
        (
            "Exercice 6 — concurrent.futures et patterns asynchrones",
            crate::ex6::demo,
        ),
        (
            "Exercice 7 — Benchmarks de performance et optimisation",
            crate::ex7::demo::demo,
        ),
    ]
}

/// The demonstration of exercise `n`, if it exists.
pub fn demo(n: u8) -> Option<Demo> {
    let all = all();
    let prefix = format!("Exercice {n} ");
    all.into_iter()
        .find(|(title, _)| title.starts_with(&prefix))
}
