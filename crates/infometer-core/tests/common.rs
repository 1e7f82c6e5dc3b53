//! Shared tolerances and brute-force twins for the core test families.
#![allow(dead_code, unreachable_pub, missing_docs)]

/// f64 inputs against f64 references.
pub const TOL_F64: f64 = 1e-9;
/// f32 inputs (fast f32 exp/log, f64 accumulation) against f64 references.
pub const TOL_F32: f64 = 1e-5;
/// Golden values printed with 6 decimals.
pub const TOL_GOLDEN: f64 = 5e-7;

/// Brute-force per-row measures in f64 with std functions: (lse, entropy, log_probs).
pub fn naive_row(x: &[f64], t: f64) -> (f64, f64, Vec<f64>) {
    let xs: Vec<f64> = x.iter().map(|v| v / t).collect();
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + xs.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
    let lp: Vec<f64> = xs.iter().map(|v| v - lse).collect();
    let h = -lp
        .iter()
        .filter(|l| l.is_finite())
        .map(|l| l.exp() * l)
        .sum::<f64>();
    (lse, h, lp)
}

pub fn naive_kl(lp: &[f64], lq: &[f64]) -> f64 {
    lp.iter()
        .zip(lq)
        .filter(|(a, _)| a.is_finite())
        .map(|(a, b)| a.exp() * (a - b))
        .sum()
}

pub fn naive_js(lp: &[f64], lq: &[f64]) -> f64 {
    let mut s = 0.0;
    for (a, b) in lp.iter().zip(lq) {
        let (p, q) = (a.exp(), b.exp());
        let m = 0.5 * (p + q);
        if p > 0.0 {
            s += 0.5 * p * (a - m.ln());
        }
        if q > 0.0 {
            s += 0.5 * q * (b - m.ln());
        }
    }
    s
}

pub fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol || (got == want),
        "{what}: got {got}, want {want}, tol {tol}"
    );
}
