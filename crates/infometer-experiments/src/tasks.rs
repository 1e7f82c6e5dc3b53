//! Benchmark tasks with known mutual information: Gaussians (pairs, sparse), Student-t, additive uniform, and MI-preserving transforms.

use infometer_continuous::Samples;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use statrs::function::gamma::{digamma, ln_gamma};

/// A task: name, true MI (nats), sampler (n, seed) → (X, Y).
pub struct Task {
    /// Name.
    pub name: &'static str,
    /// True MI in nats.
    pub truth: f64,
    /// Draws n samples.
    pub sample: Box<dyn Fn(usize, u64) -> (Samples, Samples) + Sync>,
}

/// X ~ N(0, I_d), Y_i = ρ_i X_i + sqrt(1 − ρ_i²) E_i (ρ_i = `rho` for the first `active` pairs, else 0).
pub(crate) fn gauss_sparse(
    n: usize,
    d: usize,
    active: usize,
    rho: f64,
    seed: u64,
) -> (Samples, Samples) {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::with_capacity(n * d), Vec::with_capacity(n * d));
    for _ in 0..n {
        for i in 0..d {
            let a: f64 = StandardNormal.sample(&mut r);
            let e: f64 = StandardNormal.sample(&mut r);
            let p = if i < active { rho } else { 0.0 };
            x.push(a);
            y.push(p * a + (1.0 - p * p).sqrt() * e);
        }
    }
    (
        Samples::new(n, d, x).expect("finite"),
        Samples::new(n, d, y).expect("finite"),
    )
}

pub(crate) fn gauss_pairs(n: usize, d: usize, rho: f64, seed: u64) -> (Samples, Samples) {
    gauss_sparse(n, d, d, rho, seed)
}

/// Entropy of the standard d-dimensional Student-t with ν degrees of freedom.
fn t_entropy(d: f64, nu: f64) -> f64 {
    -ln_gamma((nu + d) / 2.0)
        + ln_gamma(nu / 2.0)
        + d / 2.0 * (nu * std::f64::consts::PI).ln()
        + (nu + d) / 2.0 * (digamma((nu + d) / 2.0) - digamma(nu / 2.0))
}

/// MI between the two coordinates of a bivariate Student-t with identity dispersion.
pub(crate) fn student_mi(nu: f64) -> f64 {
    2.0 * t_entropy(1.0, nu) - t_entropy(2.0, nu)
}

fn student(n: usize, nu: usize, seed: u64) -> (Samples, Samples) {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let a: f64 = StandardNormal.sample(&mut r);
        let b: f64 = StandardNormal.sample(&mut r);
        let chi: f64 = (0..nu)
            .map(|_| {
                let z: f64 = StandardNormal.sample(&mut r);
                z * z
            })
            .sum();
        let s = (chi / nu as f64).sqrt();
        x.push(a / s);
        y.push(b / s);
    }
    (
        Samples::new(n, 1, x).expect("finite"),
        Samples::new(n, 1, y).expect("finite"),
    )
}

fn map(s: &Samples, f: impl Fn(f64) -> f64) -> Samples {
    Samples::new(
        s.n_samples(),
        s.dim(),
        s.as_slice().iter().map(|&v| f(v)).collect(),
    )
    .expect("finite")
}

/// Rotates the first two coordinates by an angle proportional to the vector's norm: an
/// invertible map, so MI is unchanged.
fn spiral(s: &Samples) -> Samples {
    let d = s.dim();
    let mut out = s.as_slice().to_vec();
    for i in 0..s.n_samples() {
        let row = &mut out[i * d..(i + 1) * d];
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        let (sn, cs) = (1.5 * norm).sin_cos();
        let (a, b) = (row[0], row[1]);
        row[0] = cs * a - sn * b;
        row[1] = sn * a + cs * b;
    }
    Samples::new(s.n_samples(), d, out).expect("finite")
}

fn normal_cdf(v: f64) -> f64 {
    0.5 * (1.0 + statrs::function::erf::erf(v / std::f64::consts::SQRT_2))
}

/// The E2 task list.
pub fn benchmark_tasks() -> Vec<Task> {
    let g1 = |rho: f64| -0.5 * (1.0 - rho * rho).ln();
    vec![
        Task {
            name: "normal 1v1 ρ=0.75",
            truth: g1(0.75),
            sample: Box::new(|n, s| gauss_pairs(n, 1, 0.75, s)),
        },
        Task {
            name: "normal 3v3 pairs ρ=0.5",
            truth: 3.0 * g1(0.5),
            sample: Box::new(|n, s| gauss_pairs(n, 3, 0.5, s)),
        },
        Task {
            name: "normal 5v5 sparse (2 pairs ρ=0.8)",
            truth: 2.0 * g1(0.8),
            sample: Box::new(|n, s| gauss_sparse(n, 5, 2, 0.8, s)),
        },
        Task {
            name: "student-t 1v1 ν=1",
            truth: student_mi(1.0),
            sample: Box::new(|n, s| student(n, 1, s)),
        },
        Task {
            name: "student-t 1v1 ν=3",
            truth: student_mi(3.0),
            sample: Box::new(|n, s| student(n, 3, s)),
        },
        Task {
            name: "additive uniform ε=0.3",
            truth: 0.3 - (0.6f64).ln(),
            sample: Box::new(|n, s| {
                let mut r = ChaCha8Rng::seed_from_u64(s);
                let x: Vec<f64> = (0..n).map(|_| r.random::<f64>()).collect();
                let y: Vec<f64> = x
                    .iter()
                    .map(|v| v + 0.3 * (2.0 * r.random::<f64>() - 1.0))
                    .collect();
                (
                    Samples::from_column(&x).expect("finite"),
                    Samples::from_column(&y).expect("finite"),
                )
            }),
        },
        Task {
            name: "normal CDF of 1v1 ρ=0.75",
            truth: g1(0.75),
            sample: Box::new(|n, s| {
                let (x, y) = gauss_pairs(n, 1, 0.75, s);
                (map(&x, normal_cdf), map(&y, normal_cdf))
            }),
        },
        Task {
            name: "half-cube of 1v1 ρ=0.75",
            truth: g1(0.75),
            sample: Box::new(|n, s| {
                let (x, y) = gauss_pairs(n, 1, 0.75, s);
                let f = |v: f64| v * v.abs().sqrt();
                (map(&x, f), map(&y, f))
            }),
        },
        Task {
            name: "asinh of 1v1 ρ=0.75",
            truth: g1(0.75),
            sample: Box::new(|n, s| {
                let (x, y) = gauss_pairs(n, 1, 0.75, s);
                (map(&x, f64::asinh), map(&y, f64::asinh))
            }),
        },
        Task {
            name: "wiggly of 1v1 ρ=0.75",
            truth: g1(0.75),
            sample: Box::new(|n, s| {
                let (x, y) = gauss_pairs(n, 1, 0.75, s);
                let f = |v: f64| v + 0.4 * (3.0 * v).sin() / 3.0 * 2.0;
                (map(&x, f), map(&y, f))
            }),
        },
        Task {
            name: "spiral of 3v3 pairs ρ=0.5",
            truth: 3.0 * g1(0.5),
            sample: Box::new(|n, s| {
                let (x, y) = gauss_pairs(n, 3, 0.5, s);
                (spiral(&x), y)
            }),
        },
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn student_t_mi_matches_the_published_value() {
        // Czyż et al. 2023: bivariate Student-t, ν = 1, identity dispersion: 0.224171 nats
        assert!((super::student_mi(1.0) - 0.224171).abs() < 1e-6);
    }
}
