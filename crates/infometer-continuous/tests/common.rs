//! Seeded samplers and tolerances shared by the continuous test families.
#![allow(dead_code, unreachable_pub, missing_docs)]

use infometer_continuous::Samples;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

pub fn normal(r: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(r)
}

/// (X, Y) with X ~ N(0, I_d), Y = ρX + sqrt(1 − ρ²)E: I = −(d/2) ln(1 − ρ²).
pub fn gauss(n: usize, d: usize, rho: f64, seed: u64) -> (Samples, Samples) {
    let mut r = rng(seed);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..n * d {
        let a = normal(&mut r);
        x.push(a);
        y.push(rho * a + (1.0 - rho * rho).sqrt() * normal(&mut r));
    }
    (
        Samples::new(n, d, x).unwrap(),
        Samples::new(n, d, y).unwrap(),
    )
}

pub fn uniform(r: &mut ChaCha8Rng) -> f64 {
    r.random::<f64>()
}

pub fn col(v: &[f64]) -> Samples {
    Samples::from_column(v).unwrap()
}

pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Reads the JIDT SFI heart/breath/O2 series (whitespace separated, % comments).
pub fn sfi() -> Vec<[f64; 3]> {
    let text = std::fs::read_to_string(format!(
        "{}/../infometer-health/data/jidt-SFI-heartRate_breathVol_bloodOx.txt",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('%'))
        .map(|l| {
            let v: Vec<f64> = l.split_whitespace().map(|t| t.parse().unwrap()).collect();
            [v[0], v[1], v[2]]
        })
        .collect()
}
