//! Per-token distances between two models' next-token distributions beyond KL and JS: total variation, Hellinger and Rényi divergence of order α, in log space relative to each row's maximum.

use rayon::prelude::*;

use crate::distribution::same_len;
use crate::{CoreError, Distribution, Element, Result, Rows};

/// Rényi divergence of order α between two distributions, in nats.
///
/// # Formula
/// ```text
/// D_α(P‖Q) = 1/(α − 1) · ln Σ_i p_i^α q_i^{1−α}      (α > 0, α ≠ 1; α = 1 is KL(P‖Q))
/// ```
/// +inf for α ≥ 1 where some q_i = 0 < p_i, as KL.
///
/// # Errors
/// [`CoreError::ShapeMismatch`] for different lengths; [`CoreError::InvalidParameter`] for
/// α not finite and positive.
///
/// # Examples
/// ```
/// use infometer_core::{kl_divergence, renyi_divergence, Distribution};
/// let p = Distribution::from_probs(&[0.5, 0.3, 0.2]).unwrap();
/// let q = Distribution::from_probs(&[0.2, 0.5, 0.3]).unwrap();
/// // order 1/2: −2 ln of the Bhattacharyya coefficient
/// let bc: f64 = [0.5f64 * 0.2, 0.3 * 0.5, 0.2 * 0.3].iter().map(|v| v.sqrt()).sum();
/// assert!((renyi_divergence(&p, &q, 0.5).unwrap() + 2.0 * bc.ln()).abs() < 1e-12);
/// // order 1 is KL
/// assert!((renyi_divergence(&p, &q, 1.0).unwrap() - kl_divergence(&p, &q).unwrap()).abs() < 1e-12);
/// ```
///
/// # References
/// Rényi, "On measures of entropy and information", 4th Berkeley Symposium, 1961; van Erven
/// & Harremoës, "Rényi divergence and Kullback–Leibler divergence", IEEE Trans. IT 60(7), 2014.
pub fn renyi_divergence(p: &Distribution, q: &Distribution, alpha: f64) -> Result<f64> {
    same_len(p, q)?;
    check_alpha(alpha)?;
    if alpha == 1.0 {
        return crate::kl_divergence(p, q);
    }
    Ok(renyi_from_log_probs(p.log_probs(), q.log_probs(), alpha))
}

fn check_alpha(alpha: f64) -> Result<()> {
    if alpha.is_finite() && alpha > 0.0 {
        Ok(())
    } else {
        Err(CoreError::InvalidParameter {
            name: "alpha",
            value: alpha,
            reason: "must be finite and positive",
        })
    }
}

/// 1/(α − 1) · ln Σ exp(α lp + (1 − α) lq) over the outcomes with p > 0, relative to the largest term.
fn renyi_from_log_probs(lp: &[f64], lq: &[f64], alpha: f64) -> f64 {
    let term = |a: f64, b: f64| {
        if a == f64::NEG_INFINITY {
            f64::NEG_INFINITY
        } else if b == f64::NEG_INFINITY {
            if alpha > 1.0 {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            }
        } else {
            alpha * a + (1.0 - alpha) * b
        }
    };
    let m = lp
        .iter()
        .zip(lq)
        .map(|(&a, &b)| term(a, b))
        .fold(f64::NEG_INFINITY, f64::max);
    if m == f64::INFINITY {
        return f64::INFINITY;
    }
    let s: f64 = lp
        .iter()
        .zip(lq)
        .map(|(&a, &b)| (term(a, b) - m).exp())
        .sum();
    ((m + s.ln()) / (alpha - 1.0)).max(0.0)
}

/// Per-token total variation, Hellinger distance and (optionally) Rényi divergence between
/// softmax(x / T) and softmax(y / T), row by row; NaN where `valid` is false.
#[derive(Debug, Clone, PartialEq)]
pub struct PairDistances {
    /// ½ Σ |p − q|, in [0, 1].
    pub total_variation: Vec<f64>,
    /// √(1 − Σ √(p q)), in [0, 1].
    pub hellinger: Vec<f64>,
    /// D_α(P‖Q) in nats, when an order was given.
    pub renyi: Option<Vec<f64>>,
}

/// One row's log-probabilities into `out`: (x − max)·inv_t − ln Σ e^{(x − max)·inv_t}, the
/// difference taken before scaling so that nothing overflows.
fn row_log_probs<T: Element>(
    x: &[T],
    inv_t: f64,
    what: &'static str,
    row: usize,
    out: &mut Vec<f64>,
) -> Result<()> {
    out.clear();
    let mut m = f64::NEG_INFINITY;
    for (j, v) in x.iter().enumerate() {
        let v = v.to_f64();
        if v.is_nan() || v == f64::INFINITY {
            return Err(CoreError::NonFinite {
                what,
                index: row * x.len() + j,
                value: v,
            });
        }
        m = m.max(v);
        out.push(v);
    }
    if m == f64::NEG_INFINITY {
        return Err(CoreError::NoMass { row });
    }
    for s in out.iter_mut() {
        *s = (*s - m) * inv_t;
    }
    let ln_sum = out.iter().map(|s| s.exp()).sum::<f64>().ln();
    for s in out.iter_mut() {
        *s -= ln_sum;
    }
    Ok(())
}

/// Per-token total variation, Hellinger and Rényi divergence of two logits tensors.
///
/// # Formula
/// ```text
/// TV = ½ Σ_i |p_i − q_i|,   H = √(1 − Σ_i √(p_i q_i)),   D_α = 1/(α − 1) ln Σ_i p_i^α q_i^{1−α}
/// p = softmax(x / T), q = softmax(y / T), log-probabilities relative to each row's maximum
/// ```
///
/// # Errors
/// [`CoreError::ShapeMismatch`] for different shapes or a `valid` of the wrong length;
/// [`CoreError::NonFinite`] for NaN or +inf logits; [`CoreError::NoMass`] for a row of −inf;
/// [`CoreError::InvalidParameter`] for T or α not finite and positive.
///
/// # Examples
/// ```
/// use infometer_core::{pair_distances, Rows};
/// let x = [0.0f64, 0.0, 10.0, 0.0];
/// let y = [0.0f64, 0.0, 0.0, 10.0];
/// let d = pair_distances(Rows::new(&x, 2).unwrap(), Rows::new(&y, 2).unwrap(), 1.0, Some(2.0), None).unwrap();
/// assert_eq!(d.total_variation[0], 0.0); // identical rows
/// assert!(d.total_variation[1] > 0.99 && d.hellinger[1] > 0.99);
/// ```
///
/// # References
/// Le Cam, *Asymptotic Methods in Statistical Decision Theory*, 1986 (TV, Hellinger); van
/// Erven & Harremoës, IEEE Trans. IT 60(7), 2014 (Rényi).
pub fn pair_distances<T: Element>(
    logits: Rows<'_, T>,
    reference: Rows<'_, T>,
    temperature: f64,
    alpha: Option<f64>,
    valid: Option<&[bool]>,
) -> Result<PairDistances> {
    let (n, v) = (logits.n_rows(), logits.vocab());
    if reference.n_rows() != n || reference.vocab() != v {
        return Err(CoreError::ShapeMismatch {
            what: "reference logits",
            expected: n * v,
            got: reference.n_rows() * reference.vocab(),
        });
    }
    if let Some(m) = valid.filter(|m| m.len() != n) {
        return Err(CoreError::ShapeMismatch {
            what: "mask",
            expected: n,
            got: m.len(),
        });
    }
    let inv_t = crate::kernel::inverse_temperature(temperature)?;
    if let Some(a) = alpha {
        check_alpha(a)?;
    }
    let rows: Vec<(f64, f64, f64)> = (0..n)
        .into_par_iter()
        .with_min_len(8)
        .map_init(
            || (Vec::with_capacity(v), Vec::with_capacity(v)),
            |(lp, lq), i| -> Result<(f64, f64, f64)> {
                if valid.is_some_and(|m| !m[i]) {
                    return Ok((f64::NAN, f64::NAN, f64::NAN));
                }
                row_log_probs(logits.row(i), inv_t, "logits", i, lp)?;
                row_log_probs(reference.row(i), inv_t, "reference logits", i, lq)?;
                let (mut tv, mut bc) = (0.0, 0.0);
                for (&a, &b) in lp.iter().zip(lq.iter()) {
                    tv += (a.exp() - b.exp()).abs();
                    bc += (0.5 * (a + b)).exp();
                }
                let r = match alpha {
                    Some(1.0) => lp
                        .iter()
                        .zip(lq.iter())
                        .filter(|(a, _)| **a > f64::NEG_INFINITY)
                        .map(|(&a, &b)| a.exp() * (a - b))
                        .sum::<f64>()
                        .max(0.0),
                    Some(a) => renyi_from_log_probs(lp, lq, a),
                    None => f64::NAN,
                };
                Ok(((0.5 * tv).min(1.0), (1.0 - bc).max(0.0).sqrt(), r))
            },
        )
        .collect::<Result<_>>()?;
    Ok(PairDistances {
        total_variation: rows.iter().map(|r| r.0).collect(),
        hellinger: rows.iter().map(|r| r.1).collect(),
        renyi: alpha.map(|_| rows.iter().map(|r| r.2).collect()),
    })
}
