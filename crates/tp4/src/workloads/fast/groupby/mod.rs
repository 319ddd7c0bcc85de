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
//! What exactness cost (callgrind, instructions per row of the whole `rung` example
//! on the 200 000-row generated file, before → after the proof): `avx2` 245 → 668,
//! `lignes` 393 → 816, `swar` 420 → 844, `simd` 754 → 1 119, `packed` 1 125 → 1 491,
//! `bytes` 1 255 → 1 613: the proof costs about 370 to 420 instructions per row
//! (a first, scalar version of it cost 750), the same for every rung. Where they go:
//! the per-line walk over the commas and the digit tests of `id`, `amount` and
//! `quantity`, more than the 64-byte class masks. Rung 7's proof per line on its own
//! window (two more masks, digits and bytes ≥ 0x80, control bytes with the quotes, bit tests
//! instead of the walk; no second pass over the block) brought it to 312
//! instructions per row (668 before); `tp4 bench groupby --fichiers-de-data
//! --strategies optimise --workers 2` on the 1 000 000-row file, six times
//! interleaved with the block proof, load average about 7.5 on this 2-core machine:
//! median 0.080 s against 0.113 s (−29 %).
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
//! Measured, thread CPU time of one run (median of 7, release, the 1 000 000-row
//! file, 44 MB from the page cache, this 2-core machine shared with other sessions,
//! load average 6 to 9): `bytes` 0.19 s, `packed` 0.13 s, `simd` 0.085 s, `swar`
//! 0.047 s, `lignes` 0.044 s (instructions: `csv` 3 370, `bytes` 1 260, `packed`
//! 1 130, `simd` 760, `swar` 420, `lignes` 390 per row). `tp4 bench groupby
//! --strategies optimise --workers 2 --repetitions 9 --json`, ten runs interleaved
//! with the previous `optimise` (a rayon pool over 8 ranges read by `read`): median
//! 0.028 s against 0.0305 s (load average about 1.5); 0.042 s on 1 worker. Under
//! `perf`, the mapped version spends 71 % of its time parsing rows, 9 % in the
//! `memchr` that looks for quotes in each block (the first pass over the mapped
//! bytes, so it also waits for memory), 10 % in the kernel mapping and releasing
//! pages. That `memchr` is now folded into rung 6's window (one more mask per line,
//! see `simd::add_block_rows`): 16 more instructions per row (393), one pass over
//! the bytes instead of two, 30.3 → 28.7 ms on 2 workers (median of 15 in-process
//! runs, 8 times interleaved, load average about 1.7). A rung compiled for AVX2
//! and BMI (chosen at run time) was tried after `swar`: 2 % fewer instructions, no
//! measurable gain. Callgrind on `lignes` later showed where its 393 instructions
//! per row went (masks built 16 bytes at a time, bounds checks, `Option` plumbing,
//! baseline `bsf` and `shl %cl`, see [`avx2`]): rung 7 removes those together, 245
//! instructions per row; `perf stat -r 10` of the `rung` example on the 1 000 000-row
//! file, three times interleaved: `lignes` 0.061 s, `avx2` 0.048 s (the `read` copy
//! included); `tp4 bench groupby --strategies optimise --workers 2`: 0.029 s before,
//! 0.019 to 0.021 s after, same hour.
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

pub mod avx2;
pub mod simd;

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

/// Interns names: the same bytes always give the same index, from 0.
pub trait Names: Default + Send {
    /// The index of `name`, added if new.
    fn index(&mut self, name: &[u8]) -> usize;
    /// The names in index order.
    fn names(&self) -> &[Box<[u8]>];
}

/// Rung 1 and 2's interning: a map from byte strings.
#[derive(Debug, Default)]
pub struct MapNames {
    map: FxHashMap<Box<[u8]>, usize>,
    list: Vec<Box<[u8]>>,
}

impl Names for MapNames {
    #[inline]
    fn index(&mut self, name: &[u8]) -> usize {
        if let Some(&i) = self.map.get(name) {
            return i;
        }
        let i = self.list.len();
        self.list.push(name.into());
        self.map.insert(name.into(), i);
        i
    }

    fn names(&self) -> &[Box<[u8]>] {
        &self.list
    }
}

/// Below this many slots (24 bytes each: 96 KiB), a names table grows whenever a
/// name does not land in its home slot, until every name does (see [`PackedNames`]).
const SPARSE: usize = 4096;

/// Rung 3's interning: names of up to 16 bytes keyed by their packed bytes and length
/// in an open-addressing table (64 slots to start, at most half full), longer ones in
/// a map from byte strings. Below [`SPARSE`] slots, a name that does not land in its
/// home slot makes the table double and change its hash multiplier until none is
/// displaced: with the fixed hash, 2 of the 20 generated cities shared a home slot
/// at every size, and the branch that finds them one slot further was mispredicted
/// on a tenth of the rows (rung `lignes`, median of 15 in-process runs, 8 times
/// interleaved: 60.5 → 58.0 ms). `LOADED` chooses how a name is packed: `false` for
/// [`pack16`] (rung 3), `true` for the masked 16-byte load of rung 5
/// ([`simd::LoadedNames`]); one table always uses one layout.
#[derive(Debug)]
pub struct PackedNames<const LOADED: bool = false> {
    /// (low 8 bytes, high 8 bytes, length + 1 or 0 when empty, index) per slot.
    slots: Vec<(u64, u64, u32, u32)>,
    used: usize,
    /// The odd multiplier of [`PackedNames::home`]: changed when the table is rebuilt
    /// because names share a home slot (at every size, a fixed hash keeps two names
    /// whose hash bits agree in the same slot).
    mult: u64,
    long: FxHashMap<Box<[u8]>, usize>,
    list: Vec<Box<[u8]>>,
}

impl<const LOADED: bool> Default for PackedNames<LOADED> {
    fn default() -> PackedNames<LOADED> {
        PackedNames {
            slots: vec![(0, 0, 0, 0); 64],
            used: 0,
            mult: 0x9E37_79B9_7F4A_7C15,
            long: FxHashMap::default(),
            list: Vec::new(),
        }
    }
}

/// A name of at most 16 bytes as two words that, with its length, identify it: the
/// first and the last 8 bytes (overlapping) from 8 bytes up, the first and last 4
/// from 4 bytes up, the bytes themselves below. Fixed-size loads only: the first
/// version copied each name into a zeroed buffer (a variable-length `memcpy` call per
/// name) and measured slower than the map lookup it replaced.
#[inline(always)]
fn pack16(name: &[u8]) -> (u64, u64) {
    let n = name.len();
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    let half = |b: &[u8]| u64::from(u32::from_le_bytes(b.try_into().expect("4 bytes")));
    if n >= 8 {
        (word(&name[..8]), word(&name[n - 8..]))
    } else if n >= 4 {
        (half(&name[..4]) | half(&name[n - 4..]) << 32, 0)
    } else {
        (name.iter().fold(0, |a, &b| a << 8 | u64::from(b)), 0)
    }
}

impl<const LOADED: bool> PackedNames<LOADED> {
    #[inline(always)]
    fn home(&self, lo: u64, hi: u64, len: u32) -> usize {
        let h = (lo ^ hi.rotate_left(31) ^ u64::from(len)).wrapping_mul(self.mult);
        (h >> 40) as usize & (self.slots.len() - 1)
    }

    /// The index of a name longer than 16 bytes (rare: a map from byte strings).
    #[inline(never)]
    fn long_index(&mut self, name: &[u8]) -> usize {
        if let Some(&i) = self.long.get(name) {
            return i;
        }
        let i = self.list.len();
        self.list.push(name.into());
        self.long.insert(name.into(), i);
        i
    }

    #[inline(never)]
    fn insert(&mut self, slot: usize, name: &[u8], key: (u64, u64, u32)) -> usize {
        let index = self.list.len();
        self.list.push(name.into());
        self.slots[slot] = (key.0, key.1, key.2, index as u32);
        self.used += 1;
        let displaced = slot != self.home(key.0, key.1, key.2);
        if displaced && self.slots.len() < SPARSE {
            // Bigger and hashed anew (another odd multiplier) until no name is
            // displaced, or the table is SPARSE slots.
            let mut len = self.slots.len();
            loop {
                len *= 2;
                self.mult = self.mult.wrapping_add(0x6A09_E667_F3BC_C908);
                if !self.rebuild(len) || len >= SPARSE {
                    break;
                }
            }
        } else if 2 * self.used > self.slots.len() {
            self.rebuild(2 * self.slots.len());
        }
        index
    }

    /// Puts every name back into a table of `len` slots; whether one of them is not
    /// in its home slot.
    fn rebuild(&mut self, len: usize) -> bool {
        let old = std::mem::replace(&mut self.slots, vec![(0, 0, 0, 0); len]);
        let mut displaced = false;
        for s in old.into_iter().filter(|s| s.2 != 0) {
            let home = self.home(s.0, s.1, s.2);
            let mut i = home;
            while self.slots[i].2 != 0 {
                i = (i + 1) & (len - 1);
            }
            displaced |= i != home;
            self.slots[i] = s;
        }
        displaced
    }

    /// The index of `name` (at most 16 bytes) whose packed words `(lo, hi)` the
    /// caller computed in this table's layout; added if new.
    #[inline(always)]
    pub fn index_key(&mut self, name: &[u8], lo: u64, hi: u64) -> usize {
        let len = name.len() as u32 + 1;
        let mut i = self.home(lo, hi, len);
        loop {
            let s = self.slots[i];
            if s.0 == lo && s.1 == hi && s.2 == len {
                return s.3 as usize;
            }
            if s.2 == 0 {
                return self.insert(i, name, (lo, hi, len));
            }
            i = (i + 1) & (self.slots.len() - 1);
        }
    }
}

impl<const LOADED: bool> Names for PackedNames<LOADED> {
    #[inline(always)]
    fn index(&mut self, name: &[u8]) -> usize {
        if name.len() > 16 {
            return self.long_index(name);
        }
        let (lo, hi) = if LOADED {
            simd::pack_copied(name)
        } else {
            pack16(name)
        };
        self.index_key(name, lo, hi)
    }

    fn names(&self) -> &[Box<[u8]>] {
        &self.list
    }
}

/// Running totals of part of a file, names interned by `N`.
#[derive(Debug, Default)]
pub struct Acc<N: Names> {
    categories: N,
    cities: N,
    category_cents: Vec<i64>,
    category_rows: Vec<u64>,
    city_cents: Vec<i64>,
    /// Rows added by the unchecked fast path, each of less than [`PLAIN_CENTS`] cents
    /// in absolute value: while `plain_rows × PLAIN_CENTS + checked_abs` stays under
    /// 2^63, no running total can have left the `i64` range (see [`Acc::unchecked_fits`]).
    plain_rows: u64,
    /// The sum of the absolute amounts added by the checked path (saturated).
    checked_abs: u64,
    /// Set when a checked sum (the reference path, or [`Acc::merge`]) did not fit.
    overflow: bool,
}

impl<N: Names> Acc<N> {
    /// Adds `rows` rows totalling `cents` to a city and a category.
    #[inline(always)]
    fn add(&mut self, city: &[u8], category: &[u8], cents: i64, rows: u64) {
        let c = self.categories.index(category);
        let t = self.cities.index(city);
        self.add_indexed(c, t, cents, rows);
    }

    /// Adds `rows` rows totalling `cents` to the category and city of these indices
    /// (a new index is the next one).
    #[inline(always)]
    fn add_indexed(&mut self, c: usize, t: usize, cents: i64, rows: u64) {
        if c == self.category_cents.len() {
            self.category_cents.push(0);
            self.category_rows.push(0);
        }
        self.category_cents[c] += cents;
        self.category_rows[c] += rows;
        if t == self.city_cents.len() {
            self.city_cents.push(0);
        }
        self.city_cents[t] += cents;
    }

    /// Adds one row with checked sums (the reference path); refuses it when a total
    /// no longer fits in 64 bits.
    fn add_checked(
        &mut self,
        city: &[u8],
        category: &[u8],
        cents: i64,
    ) -> std::result::Result<(), RowError> {
        let c = self.categories.index(category);
        let t = self.cities.index(city);
        self.add_indexed(c, t, 0, 1);
        self.checked_abs = self.checked_abs.saturating_add(cents.unsigned_abs());
        let too_large = |what: &str, name: &[u8]| RowError {
            field: "amount",
            message: crate::data::transactions::total_too_large(&format!(
                "{what} « {} »",
                crate::data::transactions::shown(&String::from_utf8_lossy(name))
            )),
        };
        self.category_cents[c] = self.category_cents[c]
            .checked_add(cents)
            .ok_or_else(|| too_large("de la catégorie", category))?;
        self.city_cents[t] = self.city_cents[t]
            .checked_add(cents)
            .ok_or_else(|| too_large("de la ville", city))?;
        Ok(())
    }

    /// Whether `rows` more rows may be added by the unchecked fast path: while every
    /// row added so far, fast or checked, and these, sum to less than 2^63 in absolute
    /// value, no running total can leave the `i64` range, whatever the order of the
    /// adds, so the unchecked sums are the reference's checked ones (which then never
    /// refuse). Past that, every row must take the checked path, in file order.
    #[inline]
    fn unchecked_fits(&self, rows: u64) -> bool {
        let bound = u128::from(self.plain_rows + rows) * u128::from(PLAIN_CENTS)
            + u128::from(self.checked_abs);
        bound < 1 << 63
    }

    /// Merges the totals of another part of the file, by name (the reduce step). The
    /// sums are checked: one that does not fit marks the result, and
    /// [`Acc::checked_totals`] refuses it.
    pub fn merge(mut self, other: Acc<N>) -> Acc<N> {
        let mut overflow = self.overflow || other.overflow;
        for (i, name) in other.categories.names().iter().enumerate() {
            let c = self.categories.index(name);
            if c == self.category_cents.len() {
                self.category_cents.push(0);
                self.category_rows.push(0);
            }
            match self.category_cents[c].checked_add(other.category_cents[i]) {
                Some(v) => self.category_cents[c] = v,
                None => overflow = true,
            }
            self.category_rows[c] += other.category_rows[i];
        }
        for (i, name) in other.cities.names().iter().enumerate() {
            let t = self.cities.index(name);
            if t == self.city_cents.len() {
                self.city_cents.push(0);
            }
            match self.city_cents[t].checked_add(other.city_cents[i]) {
                Some(v) => self.city_cents[t] = v,
                None => overflow = true,
            }
        }
        self.plain_rows += other.plain_rows;
        self.checked_abs = self.checked_abs.saturating_add(other.checked_abs);
        self.overflow = overflow;
        self
    }

    /// The totals of a whole file, exactly as the lab's reader would give them: a
    /// file without rows is refused ([`crate::data::transactions::no_rows`]), and so
    /// is a total (per name, or of the whole file) that does not fit in 64 bits.
    pub fn checked_totals(self, path: &Path) -> Result<Totals> {
        if self.category_rows.iter().sum::<u64>() == 0 {
            return Err(crate::data::transactions::no_rows(path));
        }
        let whole = self
            .category_cents
            .iter()
            .try_fold(0i64, |a, &c| a.checked_add(c));
        if self.overflow || whole.is_none() {
            let what = if self.overflow {
                "d'un nom"
            } else {
                "de tout le fichier"
            };
            return Err(Error::Other(format!(
                "{} : {}",
                path.display(),
                crate::data::transactions::total_too_large(what)
            )));
        }
        Ok(self.totals())
    }

    /// The totals, names sorted by bytes.
    pub fn totals(self) -> Totals {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let mut categories: Vec<(&[u8], i64, u64)> = self
            .categories
            .names()
            .iter()
            .enumerate()
            .map(|(i, n)| (&n[..], self.category_cents[i], self.category_rows[i]))
            .collect();
        categories.sort_by(|a, b| a.0.cmp(b.0));
        let mut cities: Vec<(&[u8], i64)> = self
            .cities
            .names()
            .iter()
            .enumerate()
            .map(|(i, n)| (&n[..], self.city_cents[i]))
            .collect();
        cities.sort_by(|a, b| a.0.cmp(b.0));
        Totals {
            categories: categories
                .into_iter()
                .map(|(n, c, r)| (text(n), c, r))
                .collect(),
            cities: cities.into_iter().map(|(n, c)| (text(n), c)).collect(),
        }
    }
}

/// A malformed row, before it is located in the file.
#[derive(Debug)]
pub struct RowError {
    field: &'static str,
    message: String,
}

/// The French error of a malformed row at `line`.
fn malformed(path: &Path, line: u64, e: RowError) -> Error {
    Error::Malformed {
        path: path.to_path_buf(),
        line,
        field: e.field.into(),
        message: e.message,
    }
}

/// A field without its surrounding spaces and tabs.
#[inline(always)]
fn trim(f: &[u8]) -> &[u8] {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = f.iter().position(|b| !is_space(b)).unwrap_or(f.len());
    let end = f
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |e| e + 1);
    &f[start..end]
}

/// Parses an amount "-123.45", "7", "1.5" into cents (at most two decimals) without
/// going through `f64`.
pub fn parse_cents(s: &[u8]) -> Option<i64> {
    // The lab's one rule (sign included): the plain kernel's parser.
    crate::workloads::groupby::parse_cents(s)
}

/// The error of a row that does not have 6 fields.
fn field_count_error(n: usize) -> RowError {
    // The plain kernel's words ("1 champ", "2 champs"); the split stops counting
    // after the seventh field.
    let count = match n {
        0..=6 => crate::fr::count(n as u64, "champ", "champs"),
        _ => "plus de 6 champs".to_string(),
    };
    RowError {
        field: "ligne",
        message: format!("{count} au lieu de 6 (format : {HEADER})"),
    }
}

/// Aggregates a row given as its 6 untrimmed fields.
#[inline(always)]
fn add_row<N: Names>(acc: &mut Acc<N>, fields: &[&[u8]; 6]) -> std::result::Result<(), RowError> {
    let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let amount = trim(fields[4]);
    let cents = parse_cents(amount).ok_or_else(|| RowError {
        field: "amount",
        message: format!(
            "montant invalide « {} » (attendu : 12.34 ou -12.34, au plus deux décimales)",
            show(amount)
        ),
    })?;
    let (city, category) = (trim(fields[2]), trim(fields[3]));
    for (name, field, what) in [(city, "city", "ville"), (category, "category", "catégorie")] {
        if name.is_empty() {
            return Err(RowError {
                field,
                message: format!("{what} vide"),
            });
        }
    }
    acc.add(city, category, cents, 1);
    Ok(())
}

/// Splits a line without quotes on its commas into `out`; returns the number of
/// fields (7 for "more than 6").
#[inline(always)]
fn split_plain<'a>(line: &'a [u8], out: &mut [&'a [u8]; 6]) -> usize {
    let mut n = 0;
    let mut start = 0;
    while let Some(c) = memchr(b',', &line[start..]) {
        if n == 5 {
            return 7;
        }
        out[n] = &line[start..start + c];
        n += 1;
        start += c + 1;
    }
    out[n] = &line[start..];
    n + 1
}

/// Splits a line holding quotes into its fields, RFC 4180: a field that starts (after
/// spaces) with `"` runs to the next lone `"`, `""` inside stands for `"`, commas
/// inside are data. Fields are trimmed, after unquoting too.
fn split_quoted(line: &[u8]) -> std::result::Result<Vec<Vec<u8>>, RowError> {
    let bad = |message: &str| RowError {
        field: "ligne",
        message: message.to_string(),
    };
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && (line[i] == b' ' || line[i] == b'\t') {
            i += 1;
        }
        let mut field = Vec::new();
        if line.get(i) == Some(&b'"') {
            i += 1;
            loop {
                let q = memchr(b'"', &line[i..])
                    .ok_or_else(|| bad("guillemet non fermé (un champ entre guillemets ne peut pas contenir de fin de ligne)"))?;
                field.extend_from_slice(&line[i..i + q]);
                i += q + 1;
                if line.get(i) == Some(&b'"') {
                    field.push(b'"');
                    i += 1;
                } else {
                    break;
                }
            }
            while i < line.len() && (line[i] == b' ' || line[i] == b'\t') {
                i += 1;
            }
            if i < line.len() && line[i] != b',' {
                return Err(bad(
                    "texte après un guillemet fermant (écrire \"\" pour un guillemet)",
                ));
            }
            field = trim(&field).to_vec();
        } else {
            let end = memchr(b',', &line[i..]).map_or(line.len(), |e| i + e);
            field.extend_from_slice(trim(&line[i..end]));
            i = end;
        }
        fields.push(field);
        if i >= line.len() {
            return Ok(fields);
        }
        i += 1; // the comma
    }
}

/// Aggregates a line holding a quote (the rare path).
#[inline(never)]
fn add_quoted_line<N: Names>(acc: &mut Acc<N>, line: &[u8]) -> std::result::Result<(), RowError> {
    let fields = split_quoted(line)?;
    if fields.len() != 6 {
        return Err(field_count_error(fields.len()));
    }
    let f: [&[u8]; 6] = std::array::from_fn(|i| &fields[i][..]);
    add_row(acc, &f)
}

/// Aggregates one line (without its `\n`); blank lines are skipped. `may_quote` says
/// whether the block holds a quote at all.
#[inline(always)]
fn add_line<N: Names>(
    acc: &mut Acc<N>,
    line: &[u8],
    may_quote: bool,
) -> std::result::Result<(), RowError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if may_quote && memchr(b'"', line).is_some() {
        return add_quoted_line(acc, line);
    }
    let mut f = [&b""[..]; 6];
    match split_plain(line, &mut f) {
        6 => add_row(acc, &f),
        1 if trim(f[0]).is_empty() => Ok(()),
        n => Err(field_count_error(n)),
    }
}

/// Aggregates the lines of a block; on error, the offset of the bad line in the block.
fn add_block<N: Names>(
    acc: &mut Acc<N>,
    block: &[u8],
) -> std::result::Result<(), (usize, RowError)> {
    let may_quote = memchr(b'"', block).is_some();
    let mut pos = 0;
    for nl in memchr::memchr_iter(b'\n', block) {
        add_line(acc, &block[pos..nl], may_quote).map_err(|e| (pos, e))?;
        pos = nl + 1;
    }
    if pos < block.len() {
        add_line(acc, &block[pos..], may_quote).map_err(|e| (pos, e))?;
    }
    Ok(())
}

/// Largest amount, in cents, that the plain-block test ([`plain_block`]) lets through
/// to the unchecked fast path: at most 9 digits before the point.
const PLAIN_CENTS: u64 = 100_000_000_000;

/// Whether a field is 1 to `max` decimal digits.
#[inline(always)]
fn plain_digits(f: &[u8], max: usize) -> bool {
    let mut bad = f.is_empty() || f.len() > max;
    for &b in f {
        bad |= b.wrapping_sub(b'0') > 9;
    }
    !bad
}

/// Whether an amount is plain: an optional `-`, 1 to 9 digits, optionally a point
/// and 1 or 2 digits (so less than [`PLAIN_CENTS`] cents).
#[inline(always)]
fn plain_amount(f: &[u8]) -> bool {
    let f = match f.first() {
        Some(b'-') => &f[1..],
        _ => f,
    };
    // The point, if any, is 2 or 3 bytes from the end.
    let n = f.len();
    let point = if n >= 3 && f[n - 3] == b'.' {
        n - 3
    } else if n >= 2 && f[n - 2] == b'.' {
        n - 2
    } else {
        n
    };
    let frac_ok = point == n || plain_digits(&f[point + 1..], 2);
    frac_ok && plain_digits(&f[..point], 9)
}

/// The byte classes of 64 bytes from `at` (fewer at the end of `block`: the missing
/// bytes count as nothing), one bit per byte: quote, control character (below
/// 0x20), space, comma, LF, CR, and bytes ≥ 0x80.
#[derive(Clone, Copy, Default)]
struct Classes {
    quote: u64,
    control: u64,
    space: u64,
    comma: u64,
    lf: u64,
    cr: u64,
    high: u64,
}

/// [`Classes`] of `block[at..at + 64]`, with SSE2 (x86-64's baseline): 16 bytes per
/// comparison, one `movemask` per class and 16 bytes.
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
#[inline(always)]
fn classes(block: &[u8], at: usize) -> Classes {
    use std::arch::x86_64::*;
    let mut tail = [b'a'; 64];
    let bytes: &[u8] = if block.len() - at >= 64 {
        &block[at..at + 64]
    } else {
        let n = block.len() - at;
        tail[..n].copy_from_slice(&block[at..]);
        &tail
    };
    let mut c = Classes::default();
    // SAFETY: SSE2 is part of x86-64; the loads read 4 × 16 bytes of `bytes`, which
    // holds 64.
    unsafe {
        for k in 0..4 {
            let v = _mm_loadu_si128(bytes.as_ptr().add(16 * k).cast::<__m128i>());
            let m = |x: __m128i| u64::from(_mm_movemask_epi8(x) as u16) << (16 * k);
            let eq = |b: u8| m(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8)));
            c.quote |= eq(b'"');
            c.space |= eq(b' ');
            c.comma |= eq(b',');
            c.lf |= eq(b'\n');
            c.cr |= eq(b'\r');
            c.high |= m(v);
            c.control |= m(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
        }
    }
    c.control &= !c.high;
    c
}

/// [`Classes`] of `block[at..at + 64]`, one byte at a time (other targets).
#[cfg(not(all(target_arch = "x86_64", not(feature = "sans-simd"))))]
#[inline(always)]
fn classes(block: &[u8], at: usize) -> Classes {
    let mut c = Classes::default();
    for (i, &b) in block[at..block.len().min(at + 64)].iter().enumerate() {
        let bit = 1u64 << i;
        let set = |mask: &mut u64, yes: bool| *mask |= if yes { bit } else { 0 };
        set(&mut c.quote, b == b'"');
        set(&mut c.space, b == b' ');
        set(&mut c.comma, b == b',');
        set(&mut c.lf, b == b'\n');
        set(&mut c.cr, b == b'\r');
        set(&mut c.high, b >= 0x80);
        set(&mut c.control, b < 0x20);
    }
    c
}

/// Checks the numeric fields of one line `block[start..end]` (its LF excluded) whose
/// five commas are at `commas`; returns the rows it holds (0 for an empty line).
#[inline(always)]
fn plain_numbers(
    block: &[u8],
    start: usize,
    end: usize,
    commas: &[usize; 5],
    n: usize,
) -> Option<u64> {
    let end = if end > start && block[end - 1] == b'\r' {
        end - 1
    } else {
        end
    };
    if end == start && n == 0 {
        return Some(0);
    }
    let ok = n == 5
        && plain_digits(&block[start..commas[0]], 19)
        && plain_amount(&block[commas[3] + 1..commas[4]])
        && plain_digits(&block[commas[4] + 1..end], 9);
    ok.then_some(1)
}

/// Counts the rows of a block if every line of it is in the plain subset of the
/// grammar that every fast rung reads exactly as the lab's reader does, `None`
/// otherwise. Plain: six fields, none empty, none to trim or unquote (no quote, no
/// space next to a comma or a line end, no control character but the line ends, no
/// lone CR), `id` and `quantity` digits that fit, an amount of at most 9 digits
/// before the point (less than [`PLAIN_CENTS`] cents), valid UTF-8. The byte tests
/// are made on 64-byte masks (SSE2, as simdjson's first stage), the numeric fields
/// are read between the commas those masks locate.
fn plain_block(block: &[u8]) -> Option<u64> {
    // Classes of the byte before the current one (the block starts a line).
    let (mut p_space, mut p_comma, mut p_lf, mut p_cr) = (0u64, 0u64, 1u64, 0u64);
    let mut high = 0u64;
    let mut rows = 0u64;
    let mut line_start = 0usize;
    let mut commas = [0usize; 5];
    let mut n = 0usize;
    let mut at = 0usize;
    while at < block.len() {
        let c = classes(block, at);
        let valid = match block.len() - at {
            64.. => u64::MAX,
            k => (1u64 << k) - 1,
        };
        let before = |mask: u64, carry: u64| mask << 1 | carry;
        let (b_space, b_comma, b_lf, b_cr) = (
            before(c.space, p_space),
            before(c.comma, p_comma),
            before(c.lf, p_lf),
            before(c.cr, p_cr),
        );
        let ends = c.comma | c.lf | c.cr;
        let bad = c.quote
            | (c.control & !c.lf & !c.cr)
            | (b_cr & !c.lf)
            | (b_space & ends)
            | ((b_comma | b_lf) & c.space)
            | (b_comma & ends)
            | (b_lf & c.comma);
        if bad & valid != 0 {
            return None;
        }
        high |= c.high & valid;
        let last = 63.min(block.len() - at - 1);
        (p_space, p_comma, p_lf, p_cr) = (
            c.space >> last & 1,
            c.comma >> last & 1,
            c.lf >> last & 1,
            c.cr >> last & 1,
        );
        let mut structure = (c.comma | c.lf) & valid;
        while structure != 0 {
            let bit = structure.trailing_zeros();
            let i = at + bit as usize;
            structure &= structure - 1;
            if c.comma >> bit & 1 != 0 {
                if n == 5 {
                    return None;
                }
                commas[n] = i;
                n += 1;
            } else {
                rows += plain_numbers(block, line_start, i, &commas, n)?;
                line_start = i + 1;
                n = 0;
            }
        }
        at += 64;
    }
    if line_start < block.len() {
        // A last line without a line end: it may not end with a space, a comma or a CR.
        if p_space | p_comma | p_cr != 0 {
            return None;
        }
        rows += plain_numbers(block, line_start, block.len(), &commas, n)?;
    }
    if high != 0 && std::str::from_utf8(block).is_err() {
        return None;
    }
    Some(rows)
}

/// Aggregates a block of whole lines exactly as the lab's reader would: the rung's
/// fast `add` when the block is proven plain ([`plain_block`]) and no total can
/// overflow yet, else every line through the reference reader
/// ([`crate::data::transactions::parse_line`], checked sums), as simdjson-style
/// parsers keep one exact slow path. On error, the offset of the bad line.
pub fn add_block_exact<N: Names>(
    acc: &mut Acc<N>,
    block: &[u8],
    add: BlockFn<N>,
) -> std::result::Result<(), (usize, RowError)> {
    if let Some(rows) = plain_block(block) {
        if acc.unchecked_fits(rows) {
            acc.plain_rows += rows;
            return add(acc, block);
        }
    }
    reference_block(acc, block)
}

/// Every line of a block through the lab's reader, with checked sums.
#[inline(never)]
fn reference_block<N: Names>(
    acc: &mut Acc<N>,
    block: &[u8],
) -> std::result::Result<(), (usize, RowError)> {
    let mut buf = String::new();
    let mut pos = 0;
    for raw in block.split_inclusive(|&b| b == b'\n') {
        reference_line(acc, raw, &mut buf).map_err(|e| (pos, e))?;
        pos += raw.len();
    }
    Ok(())
}

/// One line (with its line end, if any) through the lab's reader
/// ([`crate::data::transactions::parse_line`]), with checked sums; `buf` is the
/// reader's scratch space for unquoted fields.
#[inline(never)]
fn reference_line<N: Names>(
    acc: &mut Acc<N>,
    raw: &[u8],
    buf: &mut String,
) -> std::result::Result<(), RowError> {
    use crate::data::transactions::{line_content, parse_line};
    match parse_line(line_content(raw), buf) {
        Ok(Some(row)) => acc.add_checked(row.city.as_bytes(), row.category.as_bytes(), row.cents),
        Ok(None) => Ok(()),
        Err(e) => Err(RowError {
            field: e.field,
            message: e.message,
        }),
    }
}

/// The 1-based line number of the byte at `offset` (the error path only).
fn line_number_at(path: &Path, offset: u64) -> Result<u64> {
    let mut newlines = 0u64;
    chunks::for_each_block(path, 0..offset, 1 << 20, |b| {
        newlines += memchr::memchr_iter(b'\n', b).count() as u64;
        Ok(())
    })?;
    Ok(newlines + 1)
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
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn write(dir: &tempfile::TempDir, text: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join("transactions.csv");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Rung 7's exact block reader at `level`, as a block function.
    fn exact_at(level: Level) -> BlockFn<simd::LoadedNames> {
        match level {
            Level::Scalar => |a, b| avx2::add_block_exact_at(Level::Scalar, a, b),
            Level::Sse2 => |a, b| avx2::add_block_exact_at(Level::Sse2, a, b),
            Level::Avx2 => |a, b| avx2::add_block_exact_at(Level::Avx2, a, b),
            Level::Avx512 => |a, b| avx2::add_block_exact_at(Level::Avx512, a, b),
        }
    }

    /// Every rung, on 1 and 3 workers, then rungs 7 and 8 (`avx2`, `optimise`) at
    /// every vector level of this machine ([`crate::cpu::available`]).
    fn every_rung(path: &Path) -> Vec<(String, Result<Totals>)> {
        let mut out = Vec::new();
        for rung in ladder() {
            for workers in [1, 3] {
                out.push((
                    format!("{} w={workers}", rung.name),
                    (rung.run)(path, workers),
                ));
            }
        }
        for level in crate::cpu::available() {
            out.push((
                format!("avx2 @{level}"),
                seq_exact::<simd::LoadedNames>(path, SMALL_BLOCK, exact_at(level)),
            ));
            out.push((
                format!("optimise w=2 @{level}"),
                optimise_at(level, path, 2),
            ));
        }
        out
    }

    #[test]
    fn short_fields_with_spaces_are_trimmed() {
        // Lines under 64 bytes (rung 6's one-window path) whose names and amounts
        // have spaces or tabs on either side, among clean lines.
        let dir = tempfile::tempdir().unwrap();
        let pads = ["", " ", "\t", "  ", " \t"];
        let mut text = format!("{HEADER}\n");
        for i in 0..2_000usize {
            let p = |k: usize| pads[(i / 5usize.pow(k as u32)) % 5];
            let city = ["Lyon", "Nice", "Pau"][i % 3];
            let cat = ["sport", "jeux"][i % 2];
            text += &format!(
                "{i},d,{}{city}{},{}{cat}{},{}{}.{:02}{},1\n",
                p(0),
                p(1),
                p(2),
                p(3),
                p(1),
                i % 90,
                i % 100,
                p(0)
            );
        }
        let path = write(&dir, text.as_bytes());
        let expected = Totals::from_groupby(&crate::workloads::groupby::seq(&path).unwrap());
        assert_eq!((expected.cities.len(), expected.categories.len()), (3, 2));
        for (name, got) in every_rung(&path) {
            assert_eq!(got.unwrap(), expected, "{name}");
        }
    }

    /// Rungs 6 and 7 read one 64-byte window per line and rung 7 needs 96 bytes left
    /// in the block: lines of 20 to 110 bytes (the date field padded), names of 1 to 18
    /// bytes (16 is the longest keyed by a load), amounts of every length the fast
    /// parser takes and some it gives back, signs, CRLF on some lines, files of every
    /// size around the ends of a block, with and without a final line end.
    #[test]
    fn line_lengths_around_the_window_match_the_plain_kernel() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = format!("{HEADER}\n");
        for i in 0..3_000usize {
            let id = "7".repeat(1 + i % 19);
            let date = format!("2024-01-01{}", "x".repeat(i * 7 % 50));
            let city = "abcdefghijklmnopqr"[..1 + i % 18].to_string();
            let cat = [
                "x",
                "sport",
                "électronique",
                "0123456789abcdef",
                "catégorie-longue",
            ][i % 5];
            let cents = (i as i64 * 104_729) % 10_000_000 - 2_000_000;
            let amount = match i % 7 {
                0 => format!("+{}.{:02}", cents.abs() / 100, cents.abs() % 100),
                1 => format!("{}", cents / 100),
                2 => format!("{}.{}", cents / 100, (cents.abs() % 100) / 10),
                _ => amount_text(i as i64 * 6, cents),
            };
            let end = if i % 11 == 0 { "\r\n" } else { "\n" };
            text += &format!("{id},{date},{city},{cat},{amount},3{end}");
        }
        let full = text.into_bytes();
        let mut cuts = vec![full.len(), full.len() - 1];
        for from in [95, 96, 97, 200, 140_000] {
            // The line end at or after `from` bytes of data: cut after it, or before.
            let from = HEADER.len() + 1 + from;
            let nl = from + memchr(b'\n', &full[from..]).unwrap();
            cuts.extend([nl + 1, nl]);
        }
        for cut in cuts {
            let path = write(&dir, &full[..cut]);
            let expected = Totals::from_groupby(&crate::workloads::groupby::seq(&path).unwrap());
            for (name, got) in every_rung(&path) {
                assert_eq!(got.unwrap(), expected, "{name}, {cut} bytes");
            }
        }
    }

    #[test]
    fn generated_file_matches_the_plain_kernel() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        crate::data::transactions::generate(&path, 5_000, |_| {}).unwrap();
        let expected = Totals::from_groupby(&crate::workloads::groupby::seq(&path).unwrap());
        assert_eq!((expected.categories.len(), expected.cities.len()), (8, 20));
        for (name, got) in every_rung(&path) {
            assert_eq!(got.unwrap(), expected, "{name}");
        }
    }

    /// An amount of `cents` written in one of the shapes a file may use (chosen by
    /// `id`): two decimals, none, one, a `+` sign, spaces around, 7 digits before the
    /// point.
    fn amount_text(id: i64, cents: i64) -> String {
        let (sign, a) = (if cents < 0 { "-" } else { "" }, cents.abs());
        match id % 6 {
            1 if a % 100 == 0 => format!("{sign}{}", a / 100),
            2 if a % 10 == 0 => format!("{sign}{}.{}", a / 100, a % 100 / 10),
            3 if cents > 0 => format!("+{}.{:02}", a / 100, a % 100),
            4 => format!(" {sign}{}.{:02}\t", a / 100, a % 100),
            _ => format!("{sign}{}.{:02}", a / 100, a % 100),
        }
    }

    /// A teacher's own file as a spreadsheet exports it, and its totals: 50 other
    /// cities (accents, one longer than 16 bytes; with `quotes`, commas and quotes in
    /// a name and quoted fields), 12 other categories, BOM, CRLF, spaces around
    /// fields, blank lines, refunds, amounts of every shape, no final line end.
    fn teacher_file(quotes: bool, rows: i64) -> (String, Totals) {
        let cities: Vec<String> = (0..50)
            .map(|i| match i {
                0 => "Besançon".to_string(),
                1 => "Saint-Étienne-du-Rouvray-sur-Mer".to_string(),
                2 if quotes => "Ville, \"la\" belle".to_string(),
                2 => "V".to_string(),
                3 => "Clermont-Ferrand".to_string(),
                _ => format!("Cité-{i}-é"),
            })
            .collect();
        let categories: Vec<String> = (0..12).map(|i| format!("catégorie ñ{i}")).collect();
        let mut text = "\u{feff}id,date,city,category,amount,quantity\r\n".to_string();
        let mut cat_totals: BTreeMap<String, (i64, u64)> = BTreeMap::new();
        let mut city_totals: BTreeMap<String, i64> = BTreeMap::new();
        let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        for id in 1..=rows {
            let city = &cities[(id * 7 % 50) as usize];
            let cat = &categories[(id * 5 % 12) as usize];
            let mut cents = (id * 7919 % 100_000) - 20_000;
            if id % 97 == 0 {
                cents += 123_456_700;
            }
            let amount = amount_text(id, cents);
            let city_field = match quotes && (city.contains([',', '"']) || id % 3 == 0) {
                true => quoted(city),
                false => city.clone(),
            };
            let cat_field = match id % 4 {
                0 => format!("  {cat} "),
                _ => cat.clone(),
            };
            let amount_field = match quotes && id % 5 == 0 {
                true => quoted(&amount),
                false => amount,
            };
            text.push_str(&format!(
                "{id},2024-01-01,{city_field},{cat_field},{amount_field},1\r\n"
            ));
            if id % 500 == 0 {
                text.push_str("\r\n");
            }
            let e = cat_totals.entry(cat.clone()).or_default();
            e.0 += cents;
            e.1 += 1;
            *city_totals.entry(city.clone()).or_default() += cents;
        }
        text.push_str("9999999,2024-01-01,Besançon,catégorie ñ0,-0.5,1");
        cat_totals.get_mut("catégorie ñ0").unwrap().0 -= 50;
        cat_totals.get_mut("catégorie ñ0").unwrap().1 += 1;
        *city_totals.get_mut("Besançon").unwrap() -= 50;
        let expected = Totals {
            categories: cat_totals
                .into_iter()
                .map(|(n, (c, r))| (n, c, r))
                .collect(),
            cities: city_totals.into_iter().collect(),
        };
        (text, expected)
    }

    /// A teacher's file (50 other cities, 12 other categories), with and without
    /// quotes (a block without any takes the SIMD path of rungs 4 to 6), larger than
    /// several blocks: every rung equals the plain kernel and the expected totals.
    #[test]
    fn other_names_quotes_bom_crlf_and_refunds() {
        for quotes in [true, false] {
            let (text, expected) = teacher_file(quotes, 7_000);
            let dir = tempfile::tempdir().unwrap();
            let path = write(&dir, text.as_bytes());
            let plain = crate::workloads::groupby::seq(&path).unwrap();
            assert_eq!(Totals::from_groupby(&plain), expected, "quotes: {quotes}");
            for (name, got) in every_rung(&path) {
                assert_eq!(got.unwrap(), expected, "{name}, quotes: {quotes}");
            }
            assert_eq!((expected.categories.len(), expected.cities.len()), (12, 50));
            assert_eq!(expected.rows(), 7_001);
            assert_eq!(expected.top_cities(3).len(), 3);
        }
    }

    #[test]
    fn small_files_and_few_cities() {
        let dir = tempfile::tempdir().unwrap();
        let header = format!("{HEADER}\n");
        let path = write(&dir, header.as_bytes());
        for (name, got) in every_rung(&path) {
            let err = got.unwrap_err().to_string();
            assert!(err.contains("que l'en-tête"), "{name}: {err}");
        }
        let path = write(
            &dir,
            format!("{header}1,2024-01-01,Lyon,sport,12.3,1").as_bytes(),
        );
        for (name, got) in every_rung(&path) {
            let t = got.unwrap();
            assert_eq!(t.top_cities(3), vec![("Lyon".to_string(), 1230)], "{name}");
            assert_eq!(t.categories, vec![("sport".to_string(), 1230, 1)], "{name}");
        }
    }

    #[test]
    fn small_name_tables_keep_every_name_home() {
        use crate::data::transactions::{CATEGORIES, CITIES};
        for names in [&CITIES[..], &CATEGORIES[..]] {
            let mut t = simd::LoadedNames::default();
            for n in names {
                t.index(n.as_bytes());
            }
            for n in names {
                let (lo, hi) = simd::pack_copied(n.as_bytes());
                let home = t.slots[t.home(lo, hi, n.len() as u32 + 1)];
                assert!(
                    (home.0, home.1) == (lo, hi),
                    "{n} is not in its home slot ({} slots)",
                    t.slots.len()
                );
            }
        }
        // Many names: the table stops doubling for displaced names at SPARSE slots.
        let mut t = simd::LoadedNames::default();
        for i in 0..3000 {
            assert_eq!(t.index(format!("ville{i}").as_bytes()), i);
        }
        assert_eq!(t.slots.len(), SPARSE * 2);
        for i in (0..3000).step_by(7) {
            assert_eq!(t.index(format!("ville{i}").as_bytes()), i);
        }
    }

    #[test]
    fn the_first_bad_line_is_reported_whatever_the_workers() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = format!("{HEADER}\n");
        for i in 2..=30_000 {
            let amount = match i {
                12_345 => "1.234".to_string(), // the first bad line
                25_000 => "x".to_string(),     // a later one, in another range
                _ => format!("{}.{:02}", i % 500, i % 100),
            };
            text += &format!("{i},2024-01-01,Lyon,sport,{amount},1\n");
        }
        let path = write(&dir, text.as_bytes());
        for workers in [1, 2, 3, 8] {
            let msg = optimise(&path, workers).unwrap_err().to_string();
            assert!(
                msg.contains("ligne 12345") && msg.contains("1.234"),
                "{workers}: {msg}"
            );
        }
    }

    #[test]
    fn malformed_files_are_located_errors() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, &str, &str); 6] = [
            ("", "en-tête", "en-tête"),
            ("id,date,ville\n", "en-tête", "ville"),
            (
                "HEADER\n1,d,Lyon,sport,1.00,1\n2,d,Lyon,sport,1.234,1\n",
                "amount",
                "1.234",
            ),
            (
                "HEADER\n1,d,Lyon,sport,1.00,1\n\n2,d,Lyon,sport\n",
                "ligne 4",
                "champs",
            ),
            ("HEADER\r\n1,d,Lyon,sport,1.00,1,extra\r\n", "ligne 2", "6"),
            // The plain kernel's words: "1 champ", not "1 champs".
            (
                "HEADER\n1,d,Lyon,sport,1.00,1\nabc\n",
                "ligne 3",
                "1 champ au lieu de 6",
            ),
        ];
        for (text, want1, want2) in cases {
            let path = write(&dir, text.replace("HEADER", HEADER).as_bytes());
            for (name, got) in every_rung(&path) {
                let msg = got.unwrap_err().to_string();
                assert!(msg.contains(want1) && msg.contains(want2), "{name}: {msg}");
            }
        }
        let path = write(
            &dir,
            format!("{HEADER}\n1,d,\"Lyon,sport,1.00,1\n").as_bytes(),
        );
        let msg = seq::<PackedNames>(&path).unwrap_err().to_string();
        assert!(
            msg.contains("ligne 2") && msg.contains("guillemet"),
            "{msg}"
        );
    }

    /// Random files from bytes that matter to the readers (digits, separators, point,
    /// signs, spaces, tabs, CR, quotes, a non-ASCII letter), line lengths around the
    /// 64-byte window: rungs 2 to 8 agree with each other (same totals, or the same
    /// located error) and, when they find no error, with the plain kernel wherever it
    /// accepts the file too.
    #[test]
    fn random_files_give_the_same_answer_or_error_in_every_fast_rung() {
        let dir = tempfile::tempdir().unwrap();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for case in 0..60 {
            let mut text = format!("{HEADER}\n");
            for id in 0..200 + next(300) {
                let noisy = case % 3 == 0 && next(40) == 0;
                if noisy {
                    let alphabet = b"0123456789,,,..--+  \t\r\"\"ab\xc3\xa9\n";
                    let bytes: Vec<u8> = (0..next(90))
                        .map(|_| alphabet[next(alphabet.len() as u64) as usize])
                        .collect();
                    text += &String::from_utf8_lossy(&bytes);
                    text.push('\n');
                    continue;
                }
                let city =
                    ["Lyon", "Saint-Étienne", "Clermont-Ferrand", "V", " Pau "][next(5) as usize];
                let cat =
                    ["sport", "jeux", "\"maison\"", "catégorie-de-plus-de-16"][next(4) as usize];
                let cents = next(20_000_000) as i64 - 5_000_000;
                let amount = amount_text(next(7) as i64, cents);
                let date = "2024-01-01x".repeat(1 + next(5) as usize);
                let end = ["\n", "\r\n"][next(2) as usize];
                text += &format!("{id},{date},{city},{cat},{amount},1{end}");
            }
            if next(2) == 0 {
                text.pop();
            }
            let path = write(&dir, text.as_bytes());
            let results: Vec<(String, std::result::Result<Totals, String>)> = every_rung(&path)
                .into_iter()
                .filter(|(name, _)| !name.starts_with("reference"))
                .map(|(name, r)| (name, r.map_err(|e| e.to_string())))
                .collect();
            let first = &results[0].1;
            for (name, r) in &results {
                assert_eq!(r, first, "case {case}, {name}");
            }
            if let (Ok(t), Ok(plain)) = (first, crate::workloads::groupby::seq(&path)) {
                assert_eq!(*t, Totals::from_groupby(&plain), "case {case}");
            }
        }
    }

    /// A file saved with classic Mac line ends (a lone CR) was summed by the plain
    /// kernel (the csv crate takes CR as a line end) and refused by every reader that
    /// cuts at LF with a misleading "no row" error: now every path refuses it with
    /// the same message, which says how to convert it; CRLF stays accepted.
    #[test]
    fn lone_cr_line_ends_are_refused_by_every_path() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{HEADER}\r1,2024-01-01,Lyon,sport,1.00,1\r2,d,Nice,jeux,2.00,1\r");
        let path = write(&dir, text.as_bytes());
        let plain = crate::workloads::groupby::seq(&path)
            .unwrap_err()
            .to_string();
        assert!(
            plain.contains("ligne 1") && plain.contains("CR seul") && plain.contains("tr '"),
            "{plain}"
        );
        let rayon = crate::workloads::groupby::rayon(&path, 2).unwrap_err();
        assert_eq!(rayon.to_string(), plain);
        for (name, got) in every_rung(&path) {
            assert_eq!(got.unwrap_err().to_string(), plain, "{name}");
        }
        let path = write(&dir, text.replace('\r', "\r\n").as_bytes());
        assert_eq!(crate::workloads::groupby::seq(&path).unwrap().rows(), 2);
        for (name, got) in every_rung(&path) {
            assert_eq!(got.unwrap().rows(), 2, "{name}");
        }
    }

    /// A bad row after many good ones (inside the 64-byte windows of rung 6, after
    /// several blocks): every rung names its line and field.
    #[test]
    fn errors_deep_in_a_file_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let good = |id: usize| format!("{id},2024-01-01,Lyon,sport,{id}.25,1\n");
        for (bad, field, shown) in [
            ("7,2024-01-01,Lyon,sport,1.2x,1\n", "amount", "1.2x"),
            ("7,2024-01-01,Lyon,sport,1.00,1,8\n", "ligne", "6"),
            ("7,2024-01-01,Lyon,sport\n", "ligne", "champs"),
            ("7,2024-01-01,,sport,1.00,1\n", "city", "vide"),
        ] {
            let mut text = format!("{HEADER}\n");
            text.extend((1..=4_000).map(good));
            text.push_str(bad);
            text.extend((1..=100).map(good));
            let path = write(&dir, text.as_bytes());
            for (name, got) in every_rung(&path) {
                let msg = got.unwrap_err().to_string();
                assert!(
                    msg.contains("ligne 4002") && msg.contains(field) && msg.contains(shown),
                    "{name}: {msg}"
                );
            }
        }
    }

    #[test]
    fn amounts_and_quotes_parse_exactly() {
        assert_eq!(parse_cents(b"-12.34"), Some(-1234));
        assert_eq!(parse_cents(b"-0.5"), Some(-50));
        assert_eq!(parse_cents(b"7"), Some(700));
        assert_eq!(parse_cents(b"1.234"), None);
        assert_eq!(parse_cents(b"--1"), None);
        assert_eq!(parse_cents(b"-"), None);
        let f = split_quoted(br#" "a,""b""" , c ,"", d"#).unwrap();
        assert_eq!(
            f,
            vec![
                b"a,\"b\"".to_vec(),
                b"c".to_vec(),
                b"".to_vec(),
                b"d".to_vec()
            ]
        );
    }

    /// Quiet-run timings on the transactions of `TP4_OPT_DATA` (release only:
    /// `TP4_OPT_DATA=/tmp/opt-data cargo test --release -p tp4 --lib
    /// fast::groupby::tests::timings -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn timings() {
        let dir = std::env::var("TP4_OPT_DATA").unwrap_or_else(|_| "data".into());
        let path = Path::new(&dir).join(crate::data::TRANSACTIONS_FILE);
        let expected = Totals::from_groupby(&crate::workloads::groupby::seq(&path).unwrap());
        for rung in ladder() {
            let (wall, cpu) = super::super::time_rung(
                || (rung.run)(&path, 2).unwrap(),
                |v| assert_eq!(*v, expected),
            );
            println!(
                "W4 {:10} wall {wall:.4} s, thread CPU {cpu:.4} s",
                rung.name
            );
        }
    }
}

#[cfg(test)]
mod plain_tests {
    use super::*;

    #[test]
    fn ranges_merge_into_the_whole_answer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        crate::data::transactions::generate(&path, 3_000, |_| {}).unwrap();
        let start = check_header(&path).unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        let ranges = chunks::line_ranges_from(&path, 3, start).unwrap();
        let acc = ranges
            .into_iter()
            .map(|r| optimise_range(&path, r).unwrap())
            .reduce(Acc::merge)
            .unwrap();
        let whole = optimise_range(&path, start..len).unwrap();
        assert_eq!(
            acc.checked_totals(&path).unwrap(),
            whole.checked_totals(&path).unwrap()
        );
    }

    #[test]
    fn generated_files_are_plain_to_the_fast_path() {
        let mut text = Vec::new();
        crate::data::transactions::write_rows(&mut text, 5_000, |_| {}).unwrap();
        let body = &text[HEADER.len() + 1..];
        assert_eq!(plain_block(body), Some(5_000));
        // Each rule, at every offset of the 64-byte masks.
        let row = b"12,2024-01-01,Le Havre,sport,-12.5,3\n";
        for pad in 0..70 {
            let mut ok = b"\n".repeat(pad);
            ok.extend_from_slice(row);
            assert_eq!(plain_block(&ok), Some(1), "{pad}");
            let crlf = [&b"\r\n".repeat(pad)[..], b"1,d,c,k,1,1\r\n"].concat();
            assert_eq!(plain_block(&crlf), Some(1), "{pad}");
            for bad in [
                &b"12,2024-01-01,Le Havre ,sport,-12.5,3\n"[..],
                b"12,2024-01-01, Le Havre,sport,-12.5,3\n",
                b"12,2024-01-01,\"Le Havre\",sport,-12.5,3\n",
                b"12,2024-01-01,Le\tHavre,sport,-12.5,3\n",
                b"12,2024-01-01,Le\rHavre,sport,-12.5,3\n",
                b"12,,Le Havre,sport,-12.5,3\n",
                b",2024-01-01,Le Havre,sport,-12.5,3\n",
                b"12,2024-01-01,Le Havre,sport,-12.5,\n",
                b"12,2024-01-01,Le Havre,sport,-12.5,3,\n",
                b"12,2024-01-01,Le Havre,sport,+12.5,3\n",
                b"12,2024-01-01,Le Havre,sport,1234567890,3\n",
                b"12,2024-01-01,Le Havre,sport,12.,3\n",
                b"-12,2024-01-01,Le Havre,sport,12,3\n",
                b"12,2024-01-01,Le Havre,sport,12,3a\n",
                b"12,2024-01-01,Le Havre,sport,12\n",
                b" \n",
                b"12,2024-01-01,Le Havre,sport,12,3\r",
                b"12,2024-01-01,Le Havre,sport,12,3 ",
                b"12,2024-01-01,Le \xff,sport,12,3\n",
            ] {
                let mut text = b"\n".repeat(pad);
                text.extend_from_slice(bad);
                assert_eq!(
                    plain_block(&text),
                    None,
                    "{pad} {:?}",
                    String::from_utf8_lossy(bad)
                );
            }
        }
    }
}
