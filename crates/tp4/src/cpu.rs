//! What the processor can do, detected at run time: the vector level of the machine
//! ([`Level`]) and token types that prove a set of features ([`Avx2Token`],
//! [`Avx512Token`]), so that a SIMD kernel is only ever called with the proof in
//! hand. (Minimal version: plain `is_x86_feature_detected!`, no forced level.)

/// A vector level of the processor, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// No vector instruction used: the portable code.
    Scalar,
    /// SSE2 (every x86-64 processor).
    Sse2,
    /// AVX2, FMA, BMI1, BMI2, POPCNT and LZCNT.
    Avx2,
    /// AVX-512F on top of everything of [`Level::Avx2`].
    Avx512,
}

impl Level {
    /// The name shown to users (`tp4 env`, tables, JSON).
    pub fn name(self) -> &'static str {
        match self {
            Level::Scalar => "scalaire",
            Level::Sse2 => "sse2",
            Level::Avx2 => "avx2+bmi2",
            Level::Avx512 => "avx512",
        }
    }
}

/// Whether the processor has everything [`Avx2Token`] proves.
#[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
fn has_avx2() -> bool {
    is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
        && is_x86_feature_detected!("bmi1")
        && is_x86_feature_detected!("bmi2")
        && is_x86_feature_detected!("popcnt")
        && is_x86_feature_detected!("lzcnt")
}

/// The highest level this processor supports.
pub fn detected() -> Level {
    #[cfg(all(target_arch = "x86_64", not(feature = "sans-simd")))]
    {
        if has_avx2() {
            if is_x86_feature_detected!("avx512f") {
                return Level::Avx512;
            }
            return Level::Avx2;
        }
        Level::Sse2
    }
    #[cfg(not(all(target_arch = "x86_64", not(feature = "sans-simd"))))]
    Level::Scalar
}

/// The level the kernels run at (here: the detected one).
pub fn level() -> Level {
    detected()
}

/// Every level up to [`level`], lowest first: the tests run each kernel at each.
pub fn available() -> Vec<Level> {
    [Level::Scalar, Level::Sse2, Level::Avx2, Level::Avx512]
        .into_iter()
        .filter(|l| *l <= level())
        .collect()
}

/// Proof that the processor has AVX2, FMA, BMI1, BMI2, POPCNT and LZCNT.
#[derive(Clone, Copy, Debug)]
pub struct Avx2Token(());

impl Avx2Token {
    /// The token if `level` allows AVX2 and the processor has it.
    pub fn at(level: Level) -> Option<Self> {
        (level >= Level::Avx2 && detected() >= Level::Avx2).then_some(Avx2Token(()))
    }

    /// The token at the current [`level`].
    pub fn get() -> Option<Self> {
        Self::at(level())
    }
}

/// Proof that the processor has AVX-512F and everything of [`Avx2Token`].
#[derive(Clone, Copy, Debug)]
pub struct Avx512Token(());

impl Avx512Token {
    /// The token if `level` allows AVX-512 and the processor has it.
    pub fn at(level: Level) -> Option<Self> {
        (level >= Level::Avx512 && detected() >= Level::Avx512).then_some(Avx512Token(()))
    }

    /// The token at the current [`level`].
    pub fn get() -> Option<Self> {
        Self::at(level())
    }

    /// AVX-512 implies AVX2.
    pub fn avx2(self) -> Avx2Token {
        Avx2Token(())
    }
}
