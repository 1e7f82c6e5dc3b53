//! Kozachenko–Leonenko differential entropy and the k-NN KL divergence estimator (Wang, Kulkarni, Verdú 2009).

use rayon::prelude::*;
use statrs::function::gamma::ln_gamma;

use crate::ksg::{Digamma, ordered_mean};
use crate::neighbors::{Backend, Index, Metric};
use crate::{ContinuousError, Result, Samples};

/// ln of the volume of the unit ball of the metric in d dimensions.
fn ln_unit_ball(d: usize, metric: Metric) -> f64 {
    let d = d as f64;
    match metric {
        Metric::MaxNorm => d * std::f64::consts::LN_2,
        Metric::Euclidean => 0.5 * d * std::f64::consts::PI.ln() - ln_gamma(0.5 * d + 1.0),
    }
}

/// Kozachenko–Leonenko differential entropy in nats (no standardisation, no noise).
///
/// # Formula
/// ```text
/// H = ψ(N) − ψ(k) + ln V_d + (d/N) Σ_i ln ρ_i,   ρ_i = distance to the k-th neighbour,
/// V_d = 2^d (max-norm) or π^{d/2}/Γ(d/2 + 1) (Euclidean)
/// ```
///
/// # Errors
/// [`ContinuousError::TooFewSamples`] for k ≥ N; [`ContinuousError::ZeroDistance`] when
/// duplicates make some ρ_i = 0 (the estimate would be −∞); [`ContinuousError::InvalidParameter`] for k = 0.
///
/// # Examples
/// ```
/// use infometer_continuous::{kl_entropy, Metric, Samples};
/// # let mut s = 42u64;
/// # let mut u = move || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (s >> 11) as f64 / (1u64 << 53) as f64 };
/// // H(U(0, 1)) = 0
/// let x: Vec<f64> = (0..4000).map(|_| u()).collect();
/// let h = kl_entropy(&Samples::from_column(&x).unwrap(), 4, Metric::MaxNorm).unwrap();
/// assert!(h.abs() < 0.05, "{h}");
/// ```
///
/// # References
/// Kozachenko & Leonenko, "Sample estimate of the entropy of a random vector", Probl.
/// Inf. Transm. 23, 1987; Kraskov et al. 2004, eq. (20).
pub fn kl_entropy(x: &Samples, k: usize, metric: Metric) -> Result<f64> {
    let n = x.n_samples();
    if k == 0 {
        return Err(ContinuousError::InvalidParameter {
            name: "k",
            value: 0.0,
            reason: "must be at least 1",
        });
    }
    if k >= n {
        return Err(ContinuousError::TooFewSamples {
            k,
            available: n.saturating_sub(1),
        });
    }
    let idx = Index::for_knn(x, metric, 0, Backend::Auto);
    let logs: Vec<f64> = idx.kth_map(k).into_iter().map(f64::ln).collect();
    if logs.iter().any(|l| !l.is_finite()) {
        return Err(ContinuousError::ZeroDistance {
            what: "Kozachenko–Leonenko entropy",
        });
    }
    let psi = Digamma::new(n);
    Ok(
        psi.at(n) - psi.at(k)
            + ln_unit_ball(x.dim(), metric)
            + x.dim() as f64 * ordered_mean(&logs),
    )
}

/// k-NN estimate of KL(P‖Q) in nats from samples of P (n × d) and Q (m × d), Euclidean.
///
/// # Formula
/// ```text
/// KL = (d/n) Σ_i ln(ν_k(i) / ρ_k(i)) + ln(m / (n − 1))
/// ρ_k(i): k-th neighbour of x_i among the other x;  ν_k(i): k-th neighbour of x_i among the y
/// ```
///
/// # Errors
/// [`ContinuousError::ShapeMismatch`] for different dimensions; [`ContinuousError::TooFewSamples`]
/// for k ≥ n or k > m; [`ContinuousError::ZeroDistance`] for duplicated samples.
///
/// # Examples
/// ```
/// use infometer_continuous::{knn_kl_divergence, Samples};
/// # let mut s = 42u64;
/// # let mut u = move || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (s >> 11) as f64 / (1u64 << 53) as f64 };
/// let p: Vec<f64> = (0..4000).map(|_| u()).collect();       // U(0, 1)
/// let q: Vec<f64> = (0..4000).map(|_| 2.0 * u()).collect(); // U(0, 2): KL = ln 2
/// let kl = knn_kl_divergence(&Samples::from_column(&p).unwrap(), &Samples::from_column(&q).unwrap(), 4).unwrap();
/// assert!((kl - 2f64.ln()).abs() < 0.05, "{kl}");
/// ```
///
/// # References
/// Wang, Kulkarni, Verdú, "Divergence Estimation for Multidimensional Densities Via
/// k-Nearest-Neighbor Distances", IEEE Trans. IT 55(5), 2009, eq. (5).
pub fn knn_kl_divergence(p: &Samples, q: &Samples, k: usize) -> Result<f64> {
    if p.dim() != q.dim() {
        return Err(ContinuousError::ShapeMismatch {
            what: "dimensions of P and Q samples",
            expected: p.dim(),
            got: q.dim(),
        });
    }
    let (n, m) = (p.n_samples(), q.n_samples());
    if k == 0 {
        return Err(ContinuousError::InvalidParameter {
            name: "k",
            value: 0.0,
            reason: "must be at least 1",
        });
    }
    if k >= n || k > m {
        return Err(ContinuousError::TooFewSamples {
            k,
            available: (n.saturating_sub(1)).min(m),
        });
    }
    let pi = Index::new(p, Metric::Euclidean, 0, Backend::Auto);
    let qi = Index::new(q, Metric::Euclidean, 0, Backend::Auto);
    let terms: Vec<f64> = (0..n)
        .into_par_iter()
        .with_min_len(64)
        .map(|i| {
            let rho = pi.knn(i, k)[k - 1].0;
            let nu = qi.kth_from_point(p.row(i), k);
            (nu / rho).ln()
        })
        .collect();
    if terms.iter().any(|t| !t.is_finite()) {
        return Err(ContinuousError::ZeroDistance {
            what: "k-NN KL divergence",
        });
    }
    Ok(p.dim() as f64 * ordered_mean(&terms) + (m as f64 / (n - 1) as f64).ln())
}
