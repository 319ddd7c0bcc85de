//! W4 groupby, the optimisation ladder, for ANY `transactions.csv` (the "users' own
//! files" of `workloads.md`): every rung accepts, refuses and answers exactly as the
//! lab's reference reader ([`crate::data::transactions`], the grammar of
//! `workloads.md` v3, "transactions.csv, exactly") does, on its own: no caller has to
//! run another kernel first. The answers: per category the total in cents and the
//! row count, per city the total; a malformed row is the reader's error naming the
//! file, the line (physical, from the start of the file) and the field.
//!
//! How a fast rung stays exact: it proves what it assumes, a block at a time
//! ([`add_block_exact`]). A block whose lines are all in the plain subset of the
//! grammar ([`plain_block`]: six fields, nothing to trim or unquote, `id` and
//! `quantity` digits that fit, an amount of at most 9 digits before the point, valid
//! UTF-8, no lone CR) goes to the rung's fast parser, which reads such lines as the
//! reference does; any other block (spaces around fields, quotes, signs `+`, odd
//! bytes, a bad row) goes line by line to the reference reader, the one exact slow
//! path, as simdjson-style parsers keep one. Rung 7 (`avx2`, the parser of
//! `optimise`) makes the same proof per line on the window it reads anyway
//! ([`avx2::add_block_exact`]): a plain line goes to its fast parser, any other to
//! the reference reader. Totals are checked: while the rows taken by the fast path
//! times their largest possible amount, plus the absolute amounts of the rows taken
//! by the checked path, stay under 2^63, no running total can overflow
//! ([`Acc::unchecked_fits`]); past that, every row takes the checked reference
//! path, and the merge of partial totals is checked too. The header is read by the
//! reference reader ([`crate::data::transactions::header`]).
//!
//! What exactness costs: the proof is a few hundred instructions per row, the same
//! for every rung, mostly in the per-line walk over the commas and the digit tests,
//! more than in the 64-byte class masks; rung 7 makes it per line on the window it
//! reads anyway, which removes most of it (figures in `docs/optimisation.md`).
//!
//! 1. `reference`: the lab's reference reader, line by line, names interned in a map
//!    from byte strings (until v3 this rung was the csv crate, whose state machine
//!    makes a transition per byte; it cannot express "trim, unquote, trim").
//! 2. `bytes`: a hand-written parser over 1 MiB blocks of the file: line ends and
//!    commas found with memchr (vector search), no per-byte state machine; a line
//!    holding a quote (rare: checked once per block with memchr) goes through a small
//!    RFC 4180 splitter that gives the same fields.
//! 3. `packed`: names of up to 16 bytes looked up by their bytes packed in two 64-bit
//!    words plus the length, in a small open-addressing table: one multiplication to
//!    hash and one integer comparison instead of hashing and `memcmp`ing a byte string.
//! 4. `simd`, 5. `swar`, 6. `lignes` (in [`simd`]): commas and line ends of 64 bytes
//!    found in two bitmasks (SSE2); the amount parsed as one 64-bit word and the names
//!    keyed by one masked 16-byte load; then one 64-byte window per line, so that no
//!    branch depends on which separator comes next.
//! 7. `avx2` (in [`avx2`]): rung 6's window read in two AVX2 registers, one test
//!    per line for the usual case, one bounds check per line, compiled for BMI1/BMI2
//!    (chosen at run time; rung 6 elsewhere).
//! 8. `optimise`: rung 7 on `workers` threads over the mapped file, through the
//!    skeleton shared with W7 ([`super::mapped`]): line-aligned ranges, 32 per
//!    worker, handed out by a shared counter and parsed in place (no copy by `read`,
//!    20 % of rung 6's time, see below), their pages released once parsed; the
//!    partial totals merged by name.
//!
//! Where each family lives: `names` (interning, rungs 1 to 3), `acc` (running
//! totals, checked sums, the row error), `lines` (rung 2's line reader, the fallback
//! of the others), `exact` (the plain-block proof and the reference fallback),
//! [`simd`] (rungs 4 to 6), [`avx2`] (rung 7); this file holds the ladder, the
//! block drivers and the entry points (`seq`, `optimise`, `reference`).
//!
//! The profiles that chose rungs 4 to 6 (valgrind's callgrind counts instructions and
//! is steady on this shared machine; `perf record -e cpu-clock` samples time; the
//! command is `valgrind --tool=callgrind [--branch-sim=yes]
//! ./target/release/examples/rung groupby <rung> data/bench/transactions-200000.csv`,
//! on 200 000 rows):
//! - rung 3 (`packed`), 1 130 instructions per row: 35 % in the six `memchr` calls
//!   per row (each on a few bytes, where its setup costs more than its search), 24 %
//!   in `parse_cents` (UTF-8 check, `split_once`, `str::parse`): rungs 4 and 5;
//! - rung 4 (`simd`), 760 instructions per row; rung 5 (`swar`), 420: with
//!   `--branch-sim=yes`, 86 % of the mispredicted branches in the walk over the
//!   separators (is this bit a comma or the line end? is the window empty?), about
//!   two per row: rung 6 (`lignes`), 390 instructions per row and seven times fewer
//!   mispredictions;
//! - rung 6 under cachegrind, later: 49 instructions per row in the three
//!   `trim_range` tests (bounds checks and 15 branches), so rung 6 now tells from
//!   its window whether a byte at or below `b' '` touches a comma (one more mask)
//!   and trims only then: 390 → 378 instructions per row, 6 % less time (median of
//!   15 in-process runs, 8 times interleaved: 58.9 → 55.4 ms);
//! - rung 6 under `perf`: 20 % of the time in the kernel copying the file
//!   (`_copy_to_iter`, `filemap_get_read_batch`: the `read` the workload requires),
//!   the rest spread over trimming, the amount's multiplications and the name
//!   lookups, none above 7 %.
//!
//! Under `perf`, the mapped `optimise` spends most of its time parsing rows; the
//! search for quotes, once a separate `memchr` pass over each block, is folded into
//! rung 6's window (one more mask per line, see `simd::add_block_rows`). A rung
//! compiled for AVX2 and BMI right after `swar` gave 2 % fewer instructions and no
//! measurable gain; after `lignes`, where callgrind showed where its instructions
//! went (masks built 16 bytes at a time, bounds checks, `Option` plumbing, baseline
//! `bsf` and `shl %cl`, see [`avx2`]), rung 7 removes those together. The measured
//! times of every rung, and how to reproduce them, are in `docs/optimisation.md`.
//!
//! Dependencies: `memchr` (the crate behind the standard library's and ripgrep's byte
//! search, well kept) finds the line ends, commas and quotes with SIMD. Quoted line
//! ends are refused by the grammar: the file is split on line ends before it is
//! parsed.

use super::{mapped, Rung};
use crate::cpu::Level;
use crate::data::chunks;
use crate::data::transactions::HEADER;
use crate::error::{Error, Result};
use memchr::memchr;
use rustc_hash::FxHashMap;
use std::path::Path;

mod acc;
pub mod avx2;
mod exact;
mod lines;
mod names;
pub mod simd;

pub use acc::{Acc, RowError};
pub use exact::add_block_exact;
pub use lines::parse_cents;
pub use names::{MapNames, Names, PackedNames};
// The items the rung families share with one another.
use acc::*;
use exact::*;
use lines::*;

/// The signature of every rung: (transactions path, workers) → totals.
pub type Kernel = fn(&Path, usize) -> Result<Totals>;

/// The rungs, plain kernel first, top rung (parallel) last.
pub fn ladder() -> Vec<Rung<Kernel>> {
    vec![
        Rung {
            name: "reference",
            changed: "noyau simple : le lecteur de référence du TP, noms rangés dans une table de chaînes",
            why: "référence : la grammaire de workloads.md, une ligne à la fois, chaque champ vérifié",
            parallel: false,
            run: |p, _| reference(p),
        },
        Rung {
            name: "bytes",
            changed: "lecteur écrit à la main : fins de ligne et virgules trouvées par memchr",
            why: "moins d'instructions : recherche vectorielle au lieu d'un automate par octet",
            parallel: false,
            run: |p, _| seq::<MapNames>(p),
        },
        Rung {
            name: "packed",
            changed: "noms de ≤ 16 octets cherchés par leur contenu rangé dans deux entiers",
            why: "moins d'instructions : une multiplication et une comparaison entière au lieu de hacher et comparer une chaîne",
            parallel: false,
            run: |p, _| seq::<PackedNames>(p),
        },
        Rung {
            name: "simd",
            changed: "virgules et fins de ligne de 64 octets trouvées d'un coup (SSE2), en deux masques de bits",
            why: "moins d'instructions : quelques-unes par 16 octets au lieu de six appels à memchr par ligne",
            parallel: false,
            run: |p, _| seq_with::<PackedNames>(p, SMALL_BLOCK, simd::add_block_simd),
        },
        Rung {
            name: "swar",
            changed: "montant lu comme un entier de 8 chiffres, noms lus en un seul chargement de 16 octets",
            why: "pas de branche par chiffre ni par longueur de nom : trois multiplications, un masque",
            parallel: false,
            run: |p, _| seq_with::<simd::LoadedNames>(p, SMALL_BLOCK, simd::add_block_swar),
        },
        Rung {
            name: "lignes",
            changed: "une fenêtre de 64 octets par ligne : sa fin et ses cinq virgules lues sur les masques",
            why: "plus de branche par séparateur (une sur six était mal prédite) : cinq trailing_zeros par ligne",
            parallel: false,
            run: |p, _| seq_with::<simd::LoadedNames>(p, SMALL_BLOCK, simd::add_block_rows),
        },
        Rung {
            name: "avx2",
            changed: "la même fenêtre lue en deux registres AVX2, compilée pour BMI1/BMI2 (choisie à l'exécution), un seul test par ligne pour le cas usuel",
            why: "moins d'instructions : deux fois moins de comparaisons, une vérification de bornes par ligne au lieu d'une par champ, tzcnt/blsr/bzhi en une instruction",
            parallel: false,
            run: |p, _| seq_exact::<simd::LoadedNames>(p, SMALL_BLOCK, avx2::add_block_exact),
        },
        Rung {
            name: super::STRATEGY,
            changed: "le lecteur précédent sur plusieurs cœurs, sur le fichier projeté en mémoire (mmap) : des morceaux distribués par un compteur partagé, lus sur place",
            why: "tous les cœurs lisent et agrègent leur part, sans copie du noyau vers un tampon (20 % du temps) ; fusion par nom à la fin",
            parallel: true,
            run: optimise,
        },
    ]
}

/// Totals of a transactions file, whatever its names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Totals {
    /// Per category, sorted by name (bytes): (name, total in cents, rows).
    pub categories: Vec<(String, i64, u64)>,
    /// Per city, sorted by name (bytes): (name, total in cents).
    pub cities: Vec<(String, i64)>,
}

impl Totals {
    /// Rows read.
    pub fn rows(&self) -> u64 {
        self.categories.iter().map(|c| c.2).sum()
    }

    /// Sum of all amounts, in cents.
    pub fn total_cents(&self) -> i64 {
        self.categories.iter().map(|c| c.1).sum()
    }

    /// The `n` cities with the largest total, ties alphabetical (bytes); only cities
    /// of the file, so fewer than `n` when the file has fewer.
    pub fn top_cities(&self, n: usize) -> Vec<(String, i64)> {
        let mut v = self.cities.clone();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.as_bytes().cmp(b.0.as_bytes())));
        v.truncate(n);
        v
    }

    /// The whole answer as in `workloads.md`, exactly as the plain kernel's
    /// [`crate::workloads::groupby::GroupBy::answer_json`] gives it: `{"total_cents",
    /// "categories": [[name, cents, rows]…], "top_cities": [[name, cents]…]}` (top 3).
    pub fn answer_json(&self) -> serde_json::Value {
        serde_json::json!({
            "total_cents": self.total_cents(),
            "categories": self.categories,
            "top_cities": self.top_cities(3),
        })
    }

    /// The totals of the plain kernel's [`crate::workloads::groupby::GroupBy`]: every
    /// category and city present in the file, sorted by name.
    pub fn from_groupby(g: &crate::workloads::groupby::GroupBy) -> Totals {
        let mut t = Totals {
            categories: g.categories().into_iter().collect(),
            cities: g.cities.iter().map(|(n, &c)| (n.clone(), c)).collect(),
        };
        t.categories
            .sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        t.cities.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        t
    }
}

/// How a rung aggregates one block of whole lines: on error, the offset of the bad
/// line in the block.
pub type BlockFn<N> = fn(&mut Acc<N>, &[u8]) -> std::result::Result<(), (usize, RowError)>;

/// Aggregates the rows of one line-aligned byte range of the file, read in blocks of
/// `block_size` bytes, each given to `add`.
pub fn aggregate_range<N: Names>(
    path: &Path,
    range: std::ops::Range<u64>,
    block_size: usize,
    add: BlockFn<N>,
) -> Result<Acc<N>> {
    aggregate_range_with(path, range, block_size, |acc, block| {
        add_block_exact(acc, block, add)
    })
}

/// [`aggregate_range`] with a block function that is exact on its own (it proves
/// what it assumes itself, as [`avx2::add_block_exact`]).
fn aggregate_range_with<N: Names>(
    path: &Path,
    range: std::ops::Range<u64>,
    block_size: usize,
    mut exact: impl FnMut(&mut Acc<N>, &[u8]) -> std::result::Result<(), (usize, RowError)>,
) -> Result<Acc<N>> {
    let mut acc = Acc::default();
    let mut offset = range.start;
    chunks::for_each_block(path, range, block_size, |block| {
        if let Err((at, e)) = exact(&mut acc, block) {
            return Err(malformed(
                path,
                line_number_at(path, offset + at as u64)?,
                e,
            ));
        }
        offset += block.len() as u64;
        Ok(())
    })?;
    Ok(acc)
}

/// Checks the header with the lab's reader ([`crate::data::transactions::header`]:
/// byte-order mark, blank lines before it, quotes and spaces) and returns the offset
/// of the first byte after it.
pub fn check_header(path: &Path) -> Result<u64> {
    Ok(crate::data::transactions::header(path)?.rows_start)
}

/// Length of the file, with a French error.
fn file_len(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .map_err(|e| Error::io("lecture de", path, e))?
        .len())
}

/// Bytes read at a time by rungs 2 and 3.
const BLOCK: usize = 1 << 20;

/// Bytes read at a time by rungs 4 to 7: a quarter of this machine's 512 KiB L2
/// cache, so that the block just copied by `read` is still there when it is parsed.
const SMALL_BLOCK: usize = 1 << 17;

/// Rungs 2 to 7 on one thread: the header checked, then the data lines of the file
/// read in blocks of `block_size` bytes, each given to `add`.
fn seq_with<N: Names>(path: &Path, block_size: usize, add: BlockFn<N>) -> Result<Totals> {
    let start = check_header(path)?;
    aggregate_range(path, start..file_len(path)?, block_size, add)?.checked_totals(path)
}

/// [`seq_with`] with a block function exact on its own (rung 7).
fn seq_exact<N: Names>(path: &Path, block_size: usize, exact: BlockFn<N>) -> Result<Totals> {
    let start = check_header(path)?;
    aggregate_range_with(path, start..file_len(path)?, block_size, exact)?.checked_totals(path)
}

/// Rungs 2 and 3: the hand-written parser on one thread, names interned by `N`.
pub fn seq<N: Names>(path: &Path) -> Result<Totals> {
    seq_with::<N>(path, BLOCK, add_block)
}

/// Rung 7 (`avx2`, the parser of `optimise`) on one line-aligned byte range of the
/// file that starts after the header ([`check_header`] gives where the rows start):
/// exact on its own, errors name the line counted from the start of the file. For
/// the readers that share a file out themselves (the cluster's nodes); merge the
/// parts with [`Acc::merge`], then [`Acc::checked_totals`] gives the answer (or the
/// refusal of a file without rows or of a total too large).
pub fn optimise_range(path: &Path, range: std::ops::Range<u64>) -> Result<Acc<simd::LoadedNames>> {
    aggregate_range_with(path, range, SMALL_BLOCK, avx2::add_block_exact)
}

/// Rung 8, the `optimise` strategy: rung 7 on `workers` threads (the calling thread
/// is one of them) over the mapped file, through the skeleton of
/// [`mapped::over_ranges`]: line-aligned ranges handed out by a shared counter, each
/// parsed in place in blocks of [`SMALL_BLOCK`] bytes (no copy by `read`), its pages
/// released once parsed; the partial totals merged by name. A malformed row is the
/// same located error as in the other rungs (the first bad line of the file).
pub fn optimise(path: &Path, workers: usize) -> Result<Totals> {
    optimise_at(crate::cpu::level(), path, workers)
}

/// [`optimise`] at an explicit vector level (at most the machine's): rung 7's AVX2
/// reader with an AVX2 level, rung 6's below. What the tests run at every level.
pub fn optimise_at(level: Level, path: &Path, workers: usize) -> Result<Totals> {
    let start = check_header(path)? as usize;
    let text = mapped::map(path)?;
    let add = |acc: &mut Acc<simd::LoadedNames>, r: std::ops::Range<usize>| {
        for (at, block) in mapped::line_blocks(&text[r.clone()], SMALL_BLOCK) {
            if let Err((bad, e)) = avx2::add_block_exact_at(level, acc, block) {
                let line = line_number_at(path, (r.start + at + bad) as u64)?;
                return Err(malformed(path, line, e));
            }
        }
        Ok(())
    };
    let acc = mapped::over_ranges(&text, start, workers, Acc::default, add, Acc::merge)?;
    acc.checked_totals(path)
}

/// Rung 1: the lab's reference reader ([`crate::data::transactions`], the plain
/// kernel's grammar, line by line), names interned in a map from byte strings.
pub fn reference(path: &Path) -> Result<Totals> {
    let mut acc = Acc::<MapNames>::default();
    crate::data::transactions::try_for_each_row(path, |row| {
        acc.add_checked(row.city.as_bytes(), row.category.as_bytes(), row.cents)
            .map_err(|e| crate::data::transactions::RowError {
                field: e.field,
                message: e.message,
            })
    })?;
    acc.checked_totals(path)
}

#[cfg(test)]
mod tests;
