//! What the processor can do, found once: the vector instruction level of this
//! machine ([`detected`]), the level the lab uses ([`level`], which the environment
//! variable `TP4_SIMD` can lower), and token types whose existence proves that a set
//! of instructions is usable ([`Avx2Token`], [`Avx512Token`]), after memchr's
//! `src/arch/x86_64/`.
//!
//! Why tokens: a kernel compiled with `#[target_feature(enable = "avx2")]` is
//! undefined behaviour on a processor without AVX2. Instead of each kernel asking
//! `is_x86_feature_detected!` for its own set of features (and the answer changing
//! from one kernel to the next), every SIMD path takes a token, and the only way to
//! get a token is through this module, which checks the whole set once. The same
//! token also says which path ran, so `tp4 env`, the bench JSON and exercise 7's table
//! can report it.
//!
//! A fallback always compiles: on a processor other than x86-64, or with the cargo
//! feature `sans-simd` (which stands in for such a machine in CI), every
//! architecture-specific path is compiled out, [`detected`] is [`Level::Scalar`] and
//! no token can be made.
//!
//! The cache sizes ([`caches`]) live here too: they are the other half of what the
//! processor can do for a kernel (does the array fit in the last-level cache?).

use crate::error::{Error, Result};
use std::sync::OnceLock;

/// Vector instruction levels, ordered: a level includes every level below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// No vector instructions: the portable code (what a non-x86 machine runs).
    Scalar,
    /// SSE2, 128-bit vectors: the baseline of every x86-64 processor.
    Sse2,
    /// AVX2 with FMA, BMI1, BMI2, POPCNT and LZCNT (Haswell, 2013, and later).
    Avx2,
    /// AVX-512F on top of everything [`Level::Avx2`] has.
    Avx512,
}

/// Every level, lowest first.
pub const LEVELS: [Level; 4] = [Level::Scalar, Level::Sse2, Level::Avx2, Level::Avx512];

/// The environment variable that lowers the level the lab uses.
pub const ENV_VAR: &str = "TP4_SIMD";

impl Level {
    /// The name users read (and write in `TP4_SIMD`): `"scalaire"`, `"sse2"`,
    /// `"avx2+bmi2"`, `"avx512"`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Scalar => "scalaire",
            Level::Sse2 => "sse2",
            Level::Avx2 => "avx2+bmi2",
            Level::Avx512 => "avx512",
        }
    }

    /// Reads a level from its name ([`Level::name`]; `"avx2"` is accepted for
    /// `"avx2+bmi2"`, and case does not matter), with a French error that lists the
    /// accepted values.
    pub fn parse(text: &str) -> Result<Level> {
        let t = text.trim().to_lowercase();
        let found = match t.as_str() {
            "scalaire" | "scalar" => Some(Level::Scalar),
            "sse2" => Some(Level::Sse2),
            "avx2" | "avx2+bmi2" => Some(Level::Avx2),
            "avx512" | "avx-512" => Some(Level::Avx512),
            _ => None,
        };
        found.ok_or_else(|| {
            Error::InvalidParameter(format!(
                "{ENV_VAR}={text:?} n'est pas un niveau de vectorisation connu ; \
                 valeurs possibles : scalaire, sse2, avx2, avx512 \
                 (ou retirez la variable pour utiliser tout ce que le processeur sait faire)"
            ))
        })
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What this machine has, detected on first call and cached. [`Level::Scalar`] when
/// the architecture-specific paths are compiled out (not x86-64, or feature
/// `sans-simd`).
pub fn detected() -> Level {
    static DETECTED: OnceLock<Level> = OnceLock::new();
    *DETECTED.get_or_init(detect)
}

#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
fn detect() -> Level {
    use std::arch::is_x86_feature_detected as has;
    let avx2 = has!("avx2")
        && has!("fma")
        && has!("bmi1")
        && has!("bmi2")
        && has!("popcnt")
        && has!("lzcnt");
    if avx2 && has!("avx512f") {
        Level::Avx512
    } else if avx2 {
        Level::Avx2
    } else {
        Level::Sse2
    }
}

#[cfg(not(all(target_arch = "x86_64", not(feature = "sans-simd"))))]
fn detect() -> Level {
    Level::Scalar
}

/// The cap asked by `TP4_SIMD`, read once: `Ok(None)` when the variable is unset
/// or empty, a French error when its value is not a level.
pub fn requested() -> Result<Option<Level>> {
    // The raw value is kept on error, so that each call builds the same French error.
    static REQUESTED: OnceLock<std::result::Result<Option<Level>, String>> = OnceLock::new();
    match REQUESTED.get_or_init(|| match std::env::var(ENV_VAR) {
        Ok(v) if !v.trim().is_empty() => Level::parse(&v).map(Some).map_err(|_| v),
        _ => Ok(None),
    }) {
        Ok(cap) => Ok(*cap),
        Err(raw) => Level::parse(raw).map(Some),
    }
}

/// The check the command runs at startup: a bad `TP4_SIMD` is refused with a French
/// error before any work (the library itself never panics on it, see [`level`]).
pub fn check_env() -> Result<()> {
    requested().map(|_| ())
}

/// The level the lab uses: [`detected`] capped by `TP4_SIMD`
/// (`scalaire|sse2|avx2|avx512`). A cap above what the machine has changes
/// nothing; a bad value is ignored here (the command refuses it at startup,
/// [`check_env`]).
pub fn level() -> Level {
    match requested() {
        Ok(Some(cap)) => cap.min(detected()),
        _ => detected(),
    }
}

/// Every level up to [`detected`], lowest first: what a test runs each kernel at.
pub fn available() -> Vec<Level> {
    LEVELS.into_iter().filter(|&l| l <= detected()).collect()
}

/// Proof that AVX2 + FMA + BMI1 + BMI2 + POPCNT + LZCNT are usable: the only way to
/// make one is [`Avx2Token::at`] (or [`Avx2Token::get`]), which checks them.
#[derive(Clone, Copy, Debug)]
pub struct Avx2Token(());

impl Avx2Token {
    /// A token when `level` allows AVX2 and this machine has it (so a test can run a
    /// kernel at a lower level than the machine's without touching `TP4_SIMD`).
    pub fn at(level: Level) -> Option<Self> {
        (level >= Level::Avx2 && detected() >= Level::Avx2).then_some(Avx2Token(()))
    }

    /// A token at the level the lab uses: `at(level())`.
    pub fn get() -> Option<Self> {
        Self::at(level())
    }
}

/// Proof that AVX-512F (plus everything [`Avx2Token`] proves) is usable.
#[derive(Clone, Copy, Debug)]
pub struct Avx512Token(());

impl Avx512Token {
    /// A token when `level` allows AVX-512 and this machine has it.
    pub fn at(level: Level) -> Option<Self> {
        (level >= Level::Avx512 && detected() >= Level::Avx512).then_some(Avx512Token(()))
    }

    /// A token at the level the lab uses: `at(level())`.
    pub fn get() -> Option<Self> {
        Self::at(level())
    }

    /// AVX-512 machines have everything AVX2 needs (checked at detection).
    pub fn avx2(self) -> Avx2Token {
        Avx2Token(())
    }
}

/// The data cache sizes of the first processor, in bytes (`None`: not reported).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caches {
    /// Level-1 data cache (per core).
    pub l1d: Option<u64>,
    /// Level-2 cache.
    pub l2: Option<u64>,
    /// Level-3 cache (usually shared by all cores).
    pub l3: Option<u64>,
}

impl Caches {
    /// The largest cache reported: the last level before main memory.
    pub fn last_level(&self) -> Option<u64> {
        self.l3.or(self.l2).or(self.l1d)
    }
}

/// The cache sizes, from `/sys/devices/system/cpu/cpu0/cache` (Linux); all `None`
/// when that folder is missing.
pub fn caches() -> Caches {
    caches_in(std::path::Path::new("/sys/devices/system/cpu/cpu0/cache"))
}

/// [`caches`] over any folder of the same layout (`indexN/{level,type,size}`).
pub fn caches_in(dir: &std::path::Path) -> Caches {
    let mut out = Caches::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let read = |f: &str| std::fs::read_to_string(entry.path().join(f)).ok();
        let (Some(level), Some(kind), Some(size)) = (read("level"), read("type"), read("size"))
        else {
            continue;
        };
        let Some(bytes) = parse_size(&size) else {
            continue;
        };
        match (level.trim(), kind.trim()) {
            ("1", "Data" | "Unified") => out.l1d = Some(bytes),
            ("2", "Data" | "Unified") => out.l2 = Some(bytes),
            ("3", "Data" | "Unified") => out.l3 = Some(bytes),
            _ => {}
        }
    }
    out
}

/// Reads a sysfs cache size: `"48K"`, `"2048K"`, `"32M"`, or a plain byte count.
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let n: u64 = digits.parse().ok()?;
    let mult = match unit.trim() {
        "" | "B" => 1,
        "K" | "KB" | "KiB" => 1 << 10,
        "M" | "MB" | "MiB" => 1 << 20,
        "G" | "GB" | "GiB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_levels_are_ordered() {
        for l in LEVELS {
            assert_eq!(Level::parse(l.name()).unwrap(), l);
            assert_eq!(Level::parse(&l.name().to_uppercase()).unwrap(), l);
        }
        assert_eq!(Level::parse("avx2").unwrap(), Level::Avx2);
        assert!(LEVELS.windows(2).all(|w| w[0] < w[1]));
        let e = Level::parse("avx3").unwrap_err().to_string();
        assert!(
            e.contains("TP4_SIMD") && e.contains("scalaire, sse2, avx2, avx512"),
            "{e}"
        );
    }

    #[test]
    fn available_levels_run_up_to_the_detected_one() {
        let a = available();
        assert_eq!(a[0], Level::Scalar);
        assert_eq!(*a.last().unwrap(), detected());
        assert!(level() <= detected());
        #[cfg(not(all(target_arch = "x86_64", not(feature = "sans-simd"))))]
        assert_eq!(detected(), Level::Scalar);
        #[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
        assert!(detected() >= Level::Sse2);
    }

    #[test]
    fn a_token_exists_only_when_the_level_and_the_machine_allow_it() {
        for l in LEVELS {
            let ok = |want: Level| l >= want && detected() >= want;
            assert_eq!(Avx2Token::at(l).is_some(), ok(Level::Avx2), "{l}");
            assert_eq!(Avx512Token::at(l).is_some(), ok(Level::Avx512), "{l}");
        }
        assert_eq!(Avx2Token::get().is_some(), level() >= Level::Avx2);
    }

    #[test]
    fn cache_sizes_are_read_from_a_sysfs_like_folder() {
        assert_eq!(parse_size("48K\n"), Some(48 << 10));
        assert_eq!(parse_size("491520K"), Some(491_520 << 10));
        assert_eq!(parse_size("32M"), Some(32 << 20));
        assert_eq!(parse_size("12"), Some(12));
        assert_eq!(parse_size("K"), None);
        assert_eq!(parse_size("3X"), None);
        let dir = tempfile::tempdir().unwrap();
        for (i, (level, kind, size)) in [
            ("1", "Data", "48K"),
            ("1", "Instruction", "64K"),
            ("2", "Unified", "2048K"),
            ("3", "Unified", "30M"),
        ]
        .into_iter()
        .enumerate()
        {
            let d = dir.path().join(format!("index{i}"));
            std::fs::create_dir(&d).unwrap();
            std::fs::write(d.join("level"), level).unwrap();
            std::fs::write(d.join("type"), kind).unwrap();
            std::fs::write(d.join("size"), size).unwrap();
        }
        let c = caches_in(dir.path());
        assert_eq!(
            c,
            Caches {
                l1d: Some(48 << 10),
                l2: Some(2 << 20),
                l3: Some(30 << 20)
            }
        );
        assert_eq!(c.last_level(), Some(30 << 20));
        assert_eq!(caches_in(&dir.path().join("absent")), Caches::default());
    }
}
