//! Kernel density estimates of mutual information: a Gaussian kernel with a full bandwidth matrix (Scott, Silverman or given), resubstitution or leave-one-out, and JIDT's box kernel.

use rayon::prelude::*;

use crate::ksg::ordered_mean;
use crate::samples::check_same_n;
use crate::{ContinuousError, Result, Samples};

/// How the Gaussian kernel's bandwidth matrix H = h² Σ̂ is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Bandwidth {
    /// Scott's rule: h = N^{−1/(d+4)}.
    #[default]
    Scott,
    /// Silverman's rule: h = (4/(d+2))^{1/(d+4)} N^{−1/(d+4)}.
    Silverman,
    /// A given factor h.
    Factor(f64),
}

/// Settings of [`kde_mi`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct KdeConfig {
    /// The bandwidth rule.
    pub bandwidth: Bandwidth,
    /// Leave-one-out: exclude x_i from its own density estimate (less biased upward).
    pub leave_one_out: bool,
    /// Replace each column of X and Y by the normal scores of its ranks first
    /// ([`Samples::copula`]): heavy tails no longer dominate the bandwidth.
    pub copula: bool,
    /// Seed of the copula's tie-breaking permutation (X uses seed, Y seed + 0x9E3779B9).
    pub seed: u64,
}

fn factor(b: Bandwidth, n: usize, d: usize) -> Result<f64> {
    let (n, d) = (n as f64, d as f64);
    let h = match b {
        Bandwidth::Scott => n.powf(-1.0 / (d + 4.0)),
        Bandwidth::Silverman => (4.0 / (d + 2.0)).powf(1.0 / (d + 4.0)) * n.powf(-1.0 / (d + 4.0)),
        Bandwidth::Factor(h) => h,
    };
    if h.is_finite() && h > 0.0 {
        Ok(h)
    } else {
        Err(ContinuousError::InvalidParameter {
            name: "bandwidth",
            value: h,
            reason: "must be finite and positive",
        })
    }
}

/// Per-point log density of a Gaussian KDE with H = h² Σ̂ (Σ̂ the sample covariance).
fn log_density(s: &Samples, b: Bandwidth, loo: bool) -> Result<Vec<f64>> {
    let (n, d) = (s.n_samples(), s.dim());
    let h = factor(b, n, d)?;
    let cov = crate::gaussian::covariance(s);
    let hmat = cov * (h * h);
    let ch = hmat.cholesky().ok_or(ContinuousError::SingularCovariance {
        what: "KDE bandwidth matrix",
    })?;
    let l = ch.l();
    let ln_det: f64 = (0..d).map(|i| 2.0 * l[(i, i)].ln()).sum();
    // whiten: u_i = L⁻¹ x_i, so (x_i − x_j)ᵀ H⁻¹ (x_i − x_j) = ‖u_i − u_j‖²
    let mut u = vec![0.0; n * d];
    for i in 0..n {
        let v = nalgebra::DVector::from_column_slice(s.row(i));
        let w = l
            .solve_lower_triangular(&v)
            .ok_or(ContinuousError::SingularCovariance {
                what: "KDE bandwidth matrix",
            })?;
        u[i * d..(i + 1) * d].copy_from_slice(w.as_slice());
    }
    let norm = -0.5 * (d as f64) * (2.0 * std::f64::consts::PI).ln() - 0.5 * ln_det;
    let count = if loo { n - 1 } else { n } as f64;
    Ok((0..n)
        .into_par_iter()
        .with_min_len(16)
        .map(|i| {
            let ui = &u[i * d..(i + 1) * d];
            // log-sum-exp over kernels
            let mut terms: Vec<f64> = Vec::with_capacity(n);
            for j in 0..n {
                if loo && j == i {
                    continue;
                }
                let uj = &u[j * d..(j + 1) * d];
                let q: f64 = ui.iter().zip(uj).map(|(a, b)| (a - b) * (a - b)).sum();
                terms.push(-0.5 * q);
            }
            infometer_core::log_sum_exp(&terms) + norm - count.ln()
        })
        .collect())
}

/// Gaussian-kernel estimate of I(X; Y) in nats.
///
/// # Formula
/// ```text
/// I = ⟨ ln f̂_XY(x_i, y_i) − ln f̂_X(x_i) − ln f̂_Y(y_i) ⟩,  f̂(v) = (1/N) Σ_j φ_H(v − v_j)
/// ```
///
/// # Errors
/// [`ContinuousError::ShapeMismatch`]; [`ContinuousError::NotEnoughSamples`] for N < 3;
/// [`ContinuousError::SingularCovariance`] for constant or collinear columns;
/// [`ContinuousError::InvalidParameter`] for a bad bandwidth factor;
/// [`ContinuousError::ConstantColumn`] with `copula` on.
///
/// # Examples
/// ```
/// use infometer_continuous::{kde_mi, KdeConfig, Samples};
/// let x: Vec<f64> = (0..300).map(|i| (i as f64 * 0.37).sin()).collect();
/// let y: Vec<f64> = (0..300).map(|i| (i as f64 * 1.91).cos()).collect();
/// let mi = kde_mi(&Samples::from_column(&x).unwrap(), &Samples::from_column(&y).unwrap(),
///                 &KdeConfig { leave_one_out: true, ..Default::default() }).unwrap();
/// assert!(mi.abs() < 0.1);
/// ```
///
/// # References
/// Moon, Rajagopalan, Lall, "Estimation of mutual information using kernel density
/// estimators", Phys. Rev. E 52, 2318, 1995; Scott, *Multivariate Density Estimation*, 1992.
pub fn kde_mi(x: &Samples, y: &Samples, cfg: &KdeConfig) -> Result<f64> {
    Ok(ordered_mean(&kde_terms(x, y, cfg)?))
}

/// The per-point terms of [`kde_mi`]: ln f̂_XY − ln f̂_X − ln f̂_Y at each sample.
pub(crate) fn kde_terms(x: &Samples, y: &Samples, cfg: &KdeConfig) -> Result<Vec<f64>> {
    check_same_n(x, y)?;
    if x.n_samples() < 3 {
        return Err(ContinuousError::NotEnoughSamples {
            estimator: "KDE mutual information",
            needed: 3,
            got: x.n_samples(),
        });
    }
    let scores;
    let (x, y) = if cfg.copula {
        scores = crate::copula_variables(&[x, y], cfg.seed)?;
        (&scores[0], &scores[1])
    } else {
        (x, y)
    };
    let xy = x.hstack(y)?;
    let fxy = log_density(&xy, cfg.bandwidth, cfg.leave_one_out)?;
    let fx = log_density(x, cfg.bandwidth, cfg.leave_one_out)?;
    let fy = log_density(y, cfg.bandwidth, cfg.leave_one_out)?;
    Ok(fxy
        .iter()
        .zip(&fx)
        .zip(&fy)
        .map(|((a, b), c)| a - b - c)
        .collect())
}

/// Box-kernel (step kernel) estimate of I(X; Y) in nats, as JIDT's kernel calculator.
///
/// Columns are standardised first when `standardize` (JIDT's default), so `width` is in
/// standard deviations (JIDT's default 0.25). Counts include the point itself.
///
/// # Formula
/// ```text
/// I = ⟨ ln( N · n_xy(i) / (n_x(i) · n_y(i)) ) ⟩,   n_·(i) = #{j : ‖v_j − v_i‖_∞ < width}
/// ```
///
/// # Errors
/// [`ContinuousError::ShapeMismatch`]; [`ContinuousError::ConstantColumn`];
/// [`ContinuousError::InvalidParameter`] for a width that is not positive.
///
/// # Examples
/// ```
/// use infometer_continuous::{box_kernel_mi, Samples};
/// let x: Vec<f64> = (0..500).map(|i| (i as f64 * 0.37).sin()).collect();
/// let mi = box_kernel_mi(&Samples::from_column(&x).unwrap(), &Samples::from_column(&x).unwrap(), 0.25, true).unwrap();
/// assert!(mi > 1.0);
/// ```
///
/// # References
/// Kantz & Schreiber, *Nonlinear Time Series Analysis*, 1997; JIDT `MutualInfoCalculatorMultiVariateKernel`.
pub fn box_kernel_mi(x: &Samples, y: &Samples, width: f64, standardize: bool) -> Result<f64> {
    Ok(ordered_mean(&box_terms(x, y, width, standardize)?))
}

/// The per-point terms of [`box_kernel_mi`]: ln(N · n_xy / (n_x · n_y)) at each sample.
pub(crate) fn box_terms(
    x: &Samples,
    y: &Samples,
    width: f64,
    standardize: bool,
) -> Result<Vec<f64>> {
    check_same_n(x, y)?;
    if !(width.is_finite() && width > 0.0) {
        return Err(ContinuousError::InvalidParameter {
            name: "width",
            value: width,
            reason: "must be finite and positive",
        });
    }
    let (x, y) = if standardize {
        (x.standardized()?, y.standardized()?)
    } else {
        (x.clone(), y.clone())
    };
    let n = x.n_samples();
    let maxd = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()))
    };
    let terms: Vec<f64> = (0..n)
        .into_par_iter()
        .with_min_len(16)
        .map(|i| {
            let (mut nx, mut ny, mut nxy) = (0usize, 0usize, 0usize);
            for j in 0..n {
                let ix = maxd(x.row(i), x.row(j)) < width;
                let iy = maxd(y.row(i), y.row(j)) < width;
                nx += ix as usize;
                ny += iy as usize;
                nxy += (ix && iy) as usize;
            }
            (n as f64 * nxy as f64 / (nx as f64 * ny as f64)).ln()
        })
        .collect();
    Ok(terms)
}
