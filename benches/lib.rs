//! Seeded data generators shared by the criterion benches and the peer-comparison binary.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Logits ~ scale·N(0,1)-like (uniform sum approximation is enough for timing), seeded.
pub fn logits_f32(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            scale * (rng.random::<f32>() + rng.random::<f32>() + rng.random::<f32>() - 1.5) * 2.0
        })
        .collect()
}

/// Labels in 0..vocab, seeded.
pub fn labels(n: usize, vocab: usize, seed: u64) -> Vec<i64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(0..vocab as i64)).collect()
}

/// X ~ N(0, I_d), Y = ρX + sqrt(1 − ρ²)E: true MI = −(d/2) ln(1 − ρ²).
pub fn gaussian_pairs(
    n: usize,
    dim: usize,
    rho: f64,
    seed: u64,
) -> (infometer_continuous::Samples, infometer_continuous::Samples) {
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = Vec::with_capacity(n * dim);
    let mut y = Vec::with_capacity(n * dim);
    for _ in 0..n * dim {
        let a: f64 = StandardNormal.sample(&mut rng);
        let e: f64 = StandardNormal.sample(&mut rng);
        x.push(a);
        y.push(rho * a + (1.0 - rho * rho).sqrt() * e);
    }
    (
        infometer_continuous::Samples::new(n, dim, x).expect("finite"),
        infometer_continuous::Samples::new(n, dim, y).expect("finite"),
    )
}
