//! The two laws of parallel speedup, and fitting them to measurements.
//!
//! - Amdahl (fixed problem size): if a fraction `s` of the work is serial, the
//!   speedup on `p` workers is `1 / (s + (1 - s) / p)`, which tends to `1 / s`: 5 %
//!   of serial work caps the speedup at 20 whatever the number of cores.
//! - Gustafson (problem size grows with the workers, fixed time): the scaled speedup
//!   is `s + (1 - s) · p`, which keeps growing: more cores let us solve bigger
//!   problems in the same time.

/// Amdahl's speedup on `p` workers with serial fraction `s`.
pub fn amdahl(p: f64, s: f64) -> f64 {
    1.0 / (s + (1.0 - s) / p)
}

/// Gustafson's scaled speedup on `p` workers with serial fraction `s`.
pub fn gustafson(p: f64, s: f64) -> f64 {
    s + (1.0 - s) * p
}

/// The serial fraction that best explains measured speedups `(workers, speedup)`
/// under Amdahl's law, by least squares on `1/speedup = s + (1 - s)/p`, which is
/// linear in `s`: `1/S - 1/p = s (1 - 1/p)`. Points with `p = 1` carry no
/// information and are skipped. The result is clamped to [0, 1].
pub fn fit_serial_fraction(points: &[(f64, f64)]) -> Option<f64> {
    let (mut num, mut den) = (0.0, 0.0);
    for &(p, speedup) in points {
        if p <= 1.0 || speedup <= 0.0 {
            continue;
        }
        let x = 1.0 - 1.0 / p;
        let y = 1.0 / speedup - 1.0 / p;
        num += x * y;
        den += x * x;
    }
    (den > 0.0).then(|| (num / den).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laws_at_known_points() {
        assert!((amdahl(1.0, 0.3) - 1.0).abs() < 1e-12);
        assert!((amdahl(1e12, 0.05) - 20.0).abs() < 1e-6);
        assert!((amdahl(4.0, 0.0) - 4.0).abs() < 1e-12);
        assert!((gustafson(8.0, 0.25) - 6.25).abs() < 1e-12);
    }

    #[test]
    fn fit_recovers_the_serial_fraction() {
        let pts: Vec<(f64, f64)> = (1..=8)
            .map(|p| (p as f64, amdahl(p as f64, 0.12)))
            .collect();
        assert!((fit_serial_fraction(&pts).unwrap() - 0.12).abs() < 1e-9);
        assert_eq!(fit_serial_fraction(&[(1.0, 1.0)]), None);
        // Superlinear measurements clamp to 0.
        assert_eq!(fit_serial_fraction(&[(2.0, 2.2)]), Some(0.0));
    }
}
