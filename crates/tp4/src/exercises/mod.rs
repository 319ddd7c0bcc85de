//! The teaching material: the warm-up question and the seven exercises, every one
//! the same shape (`exN/mod.rs`: statement summary, [`TITLE`](ex1::TITLE) and the
//! reference solutions; `exN/verif.rs`: the checkers; `exN/demo.rs`: the
//! demonstration, one function per step), and [`ALL`], the one registry that the
//! CLI (`tp4 exercice N`), the whole lab and the tests use.
//!
//! An exercise imports the layers below it (data, workloads, procs, run, context,
//! verif, fr...), never another exercise: the sources are checked by a test.

pub mod ex1;
pub mod ex2;
pub mod ex3;
pub mod ex4;
pub mod ex5;
pub mod ex6;
pub mod ex7;
pub mod warmup;

use crate::context::Context;
use crate::error::Result;
use crate::output::Section;

/// One exercise of the lab: its number, its title and its demonstration.
#[derive(Debug, Clone, Copy)]
pub struct Exercise {
    /// The number used on the command line (`tp4 exercice 4`).
    pub number: u8,
    /// The title printed and written in the report.
    pub title: &'static str,
    /// Runs the demonstration and returns its report section.
    pub demo: fn(&Context) -> Result<Section>,
}

/// The exercises, in the order of the lab.
pub const ALL: [Exercise; 7] = [
    Exercise {
        number: 1,
        title: ex1::TITLE,
        demo: ex1::demo::demo,
    },
    Exercise {
        number: 2,
        title: ex2::TITLE,
        demo: ex2::demo::demo,
    },
    Exercise {
        number: 3,
        title: ex3::TITLE,
        demo: ex3::demo::demo,
    },
    Exercise {
        number: 4,
        title: ex4::TITLE,
        demo: ex4::demo::demo,
    },
    Exercise {
        number: 5,
        title: ex5::TITLE,
        demo: ex5::demo::demo,
    },
    Exercise {
        number: 6,
        title: ex6::TITLE,
        demo: ex6::demo::demo,
    },
    Exercise {
        number: 7,
        title: ex7::TITLE,
        demo: ex7::demo::demo,
    },
];

/// The exercise numbered `n`, if it exists.
pub fn find(n: u8) -> Option<&'static Exercise> {
    ALL.iter().find(|e| e.number == n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_numbered_in_order_and_titled_by_number() {
        for (i, e) in ALL.iter().enumerate() {
            assert_eq!(e.number as usize, i + 1);
            assert!(e.title.starts_with(&format!("Exercice {} ", e.number)));
        }
        assert_eq!(find(4).map(|e| e.number), Some(4));
        assert!(find(0).is_none() && find(8).is_none());
    }

    /// The exercises whose demonstrations read only the shipped data files (the
    /// others start processes or time long workloads).
    const DATA_DEMOS: [u8; 3] = [1, 2, 3];

    #[test]
    fn the_data_demos_survive_empty_data_files() {
        let dir = tempfile::tempdir().unwrap();
        let header = format!("{}\n", crate::data::transactions::HEADER);
        std::fs::write(dir.path().join("transactions.csv"), header).unwrap();
        std::fs::write(dir.path().join("corpus.txt"), "").unwrap();
        let ctx = Context::quiet(dir.path(), &dir.path().join("out"));
        for n in DATA_DEMOS {
            let e = find(n).unwrap();
            // A header without rows is said plainly (issue 12), never a panic.
            if let Err(err) = (e.demo)(&ctx) {
                let msg = err.to_string();
                assert!(msg.contains("que l'en-tête"), "exercice {n} : {msg}");
            }
        }
    }

    #[test]
    fn missing_data_is_a_french_error_in_the_data_demos() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context::quiet(dir.path(), &dir.path().join("out"));
        for n in DATA_DEMOS {
            let msg = (find(n).unwrap().demo)(&ctx).unwrap_err().to_string();
            assert!(
                msg.contains("introuvable") && msg.contains("donnees"),
                "exercice {n} : {msg}"
            );
        }
    }
}
