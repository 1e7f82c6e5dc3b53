//! `Distribution`: one validated discrete distribution, built from probabilities, log-probabilities or logits, and the single measures over it.

use crate::{CoreError, Element, Result};

/// Tolerance on Σp − 1 (and on Σ exp(log p) − 1) accepted by the constructors.
pub const NORMALIZATION_TOLERANCE: f64 = 1e-6;

/// A discrete distribution held as both probabilities and log-probabilities (f64).
///
/// Zero probabilities are exact zeros with log-probability −inf, so 0·ln 0 = 0 and
/// KL(p‖q) = +inf where q_i = 0 < p_i come out of the formulas without special cases
/// or epsilons.
///
/// # Errors
/// The constructors return [`CoreError::Empty`], [`CoreError::NonFinite`],
/// [`CoreError::InvalidProbability`], [`CoreError::NotNormalized`] or [`CoreError::NoMass`].
///
/// # Examples
/// ```
/// use infometer_core::{entropy, Base, Distribution};
/// let p = Distribution::from_probs(&[0.25; 4]).unwrap();
/// assert!((entropy(&p) - 4f64.ln()).abs() < 1e-15);
/// let q = Distribution::from_logits(&[0.0f32, 0.0, 0.0, 0.0]).unwrap();
/// assert!((Base::TWO.from_nats(entropy(&q)) - 2.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    p: Vec<f64>,
    lp: Vec<f64>,
}

impl Distribution {
    /// From probabilities in [0, 1] summing to 1 within [`NORMALIZATION_TOLERANCE`].
    ///
    /// # Errors
    /// See the type's documentation.
    pub fn from_probs<T: Element>(probs: &[T]) -> Result<Self> {
        if probs.is_empty() {
            return Err(CoreError::Empty {
                what: "probabilities",
            });
        }
        let mut p = Vec::with_capacity(probs.len());
        for (index, v) in probs.iter().enumerate() {
            let v = v.to_f64();
            if !v.is_finite() {
                return Err(CoreError::NonFinite {
                    what: "probabilities",
                    index,
                    value: v,
                });
            }
            if !(0.0..=1.0).contains(&v) {
                return Err(CoreError::InvalidProbability { index, value: v });
            }
            p.push(v);
        }
        check_sum(p.iter().sum())?;
        let lp = p.iter().map(|v| v.ln()).collect();
        Ok(Distribution { p, lp })
    }

    /// From non-negative counts or weights of any positive total: p_i = c_i / Σc.
    ///
    /// # Errors
    /// As [`Distribution::from_probs`]; [`CoreError::ZeroTotal`] when the total is 0.
    pub fn from_counts<T: Element>(counts: &[T]) -> Result<Self> {
        if counts.is_empty() {
            return Err(CoreError::Empty { what: "counts" });
        }
        let mut c = Vec::with_capacity(counts.len());
        for (index, v) in counts.iter().enumerate() {
            let v = v.to_f64();
            if !v.is_finite() {
                return Err(CoreError::NonFinite {
                    what: "counts",
                    index,
                    value: v,
                });
            }
            if v < 0.0 {
                return Err(CoreError::InvalidProbability { index, value: v });
            }
            c.push(v);
        }
        let total: f64 = c.iter().sum();
        if total <= 0.0 {
            return Err(CoreError::ZeroTotal { what: "counts" });
        }
        let lt = total.ln();
        let lp = c.iter().map(|v| v.ln() - lt).collect();
        let p = c.iter().map(|v| v / total).collect();
        Ok(Distribution { p, lp })
    }

    /// From log-probabilities (≤ 0, −inf allowed) whose exponentials sum to 1 within tolerance.
    ///
    /// # Errors
    /// See the type's documentation.
    pub fn from_log_probs<T: Element>(log_probs: &[T]) -> Result<Self> {
        if log_probs.is_empty() {
            return Err(CoreError::Empty {
                what: "log-probabilities",
            });
        }
        let mut lp = Vec::with_capacity(log_probs.len());
        for (index, v) in log_probs.iter().enumerate() {
            let v = v.to_f64();
            if v.is_nan() || v == f64::INFINITY {
                return Err(CoreError::NonFinite {
                    what: "log-probabilities",
                    index,
                    value: v,
                });
            }
            if v > NORMALIZATION_TOLERANCE {
                return Err(CoreError::InvalidProbability {
                    index,
                    value: v.exp(),
                });
            }
            lp.push(v.min(0.0));
        }
        let p: Vec<f64> = lp.iter().map(|v| v.exp()).collect();
        check_sum(p.iter().sum())?;
        Ok(Distribution { p, lp })
    }

    /// softmax(logits), computed with log-sum-exp; −inf logits are zero probabilities.
    ///
    /// # Errors
    /// [`CoreError::NonFinite`] for NaN or +inf; [`CoreError::NoMass`] when all are −inf.
    pub fn from_logits<T: Element>(logits: &[T]) -> Result<Self> {
        Self::from_logits_with_temperature(logits, 1.0)
    }

    /// softmax(logits / T).
    ///
    /// # Errors
    /// As [`Distribution::from_logits`]; [`CoreError::InvalidParameter`] for T not finite and positive.
    pub fn from_logits_with_temperature<T: Element>(
        logits: &[T],
        temperature: f64,
    ) -> Result<Self> {
        if logits.is_empty() {
            return Err(CoreError::Empty { what: "logits" });
        }
        if !(temperature.is_finite() && temperature > 0.0) {
            return Err(CoreError::InvalidParameter {
                name: "temperature",
                value: temperature,
                reason: "must be finite and positive",
            });
        }
        let mut x = Vec::with_capacity(logits.len());
        for (index, v) in logits.iter().enumerate() {
            let v = v.to_f64();
            if v.is_nan() || v == f64::INFINITY {
                return Err(CoreError::NonFinite {
                    what: "logits",
                    index,
                    value: v,
                });
            }
            x.push(v / temperature);
        }
        // relative to the maximum: (x − m) − ln Σ e^{x − m}, never x − (m + ln Σ …), which
        // rounds ln Σ away when the logits are large
        let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if m == f64::NEG_INFINITY {
            return Err(CoreError::NoMass { row: 0 });
        }
        let ln_sum = x.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        let lp: Vec<f64> = x.iter().map(|v| (v - m) - ln_sum).collect();
        let p = lp.iter().map(|v| v.exp()).collect();
        Ok(Distribution { p, lp })
    }

    /// Number of outcomes.
    pub fn len(&self) -> usize {
        self.p.len()
    }
    /// Always false: a distribution has at least one outcome.
    pub fn is_empty(&self) -> bool {
        false
    }
    /// The probabilities.
    pub fn probs(&self) -> &[f64] {
        &self.p
    }
    /// The log-probabilities (nats; −inf for zeros).
    pub fn log_probs(&self) -> &[f64] {
        &self.lp
    }
}

fn check_sum(sum: f64) -> Result<()> {
    if (sum - 1.0).abs() <= NORMALIZATION_TOLERANCE {
        Ok(())
    } else {
        Err(CoreError::NotNormalized {
            sum,
            tolerance: NORMALIZATION_TOLERANCE,
        })
    }
}

pub(crate) fn same_len(p: &Distribution, q: &Distribution) -> Result<()> {
    if p.len() == q.len() {
        Ok(())
    } else {
        Err(CoreError::ShapeMismatch {
            what: "distributions",
            expected: p.len(),
            got: q.len(),
        })
    }
}

/// Numerically stable ln Σ exp(x_i) in f64; −inf for an empty slice or all −inf.
///
/// # Formula
/// ```text
/// lse(x) = m + ln Σ exp(x_i − m),  m = max x_i
/// ```
///
/// # Examples
/// ```
/// let x = [1000.0, 1000.0];
/// assert!((infometer_core::log_sum_exp(&x) - (1000.0 + 2f64.ln())).abs() < 1e-12);
/// ```
///
/// # References
/// Blanchard, Higham, Higham, "Accurately computing the log-sum-exp and softmax functions", IMA J. Numer. Anal. 41(4), 2021.
pub fn log_sum_exp(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY || m.is_nan() {
        return m;
    }
    if m == f64::INFINITY {
        return f64::INFINITY;
    }
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// Information content (surprisal) −ln p of an outcome of probability p, in nats.
///
/// # Formula
/// ```text
/// I(p) = −ln p        (+inf for p = 0)
/// ```
///
/// # Errors
/// [`CoreError::InvalidProbability`] unless 0 ≤ p ≤ 1; [`CoreError::NonFinite`] for NaN.
///
/// # Examples
/// ```
/// use infometer_core::{information_content, Base};
/// let bits = Base::TWO.from_nats(information_content(0.15).unwrap());
/// assert!((bits - 2.736966).abs() < 1e-6);
/// ```
///
/// # References
/// Shannon, "A Mathematical Theory of Communication", Bell Syst. Tech. J. 27, 1948.
pub fn information_content(p: f64) -> Result<f64> {
    if p.is_nan() {
        return Err(CoreError::NonFinite {
            what: "probability",
            index: 0,
            value: p,
        });
    }
    if !(0.0..=1.0).contains(&p) {
        return Err(CoreError::InvalidProbability { index: 0, value: p });
    }
    Ok(-p.ln())
}

/// Shannon entropy H(p) in nats, with 0·ln 0 = 0.
///
/// # Formula
/// ```text
/// H(p) = −Σ p_i ln p_i
/// ```
///
/// # Examples
/// ```
/// use infometer_core::{entropy, Base, Distribution};
/// let p = Distribution::from_probs(&[0.85, 0.08, 0.04, 0.02, 0.01]).unwrap();
/// assert!((Base::TWO.from_nats(entropy(&p)) - 0.855874).abs() < 1e-6);
/// ```
///
/// # References
/// Cover & Thomas, *Elements of Information Theory*, 2nd ed., eq. 2.1.
pub fn entropy(p: &Distribution) -> f64 {
    let h: f64 =
        p.p.iter()
            .zip(&p.lp)
            .filter(|(pi, _)| **pi > 0.0)
            .map(|(pi, l)| -pi * l)
            .sum();
    h.max(0.0)
}

/// Cross-entropy H(p, q) in nats; +inf when q_i = 0 < p_i.
///
/// # Formula
/// ```text
/// H(p, q) = −Σ p_i ln q_i = H(p) + KL(p‖q)
/// ```
///
/// # Errors
/// [`CoreError::ShapeMismatch`] when the lengths differ.
///
/// # Examples
/// ```
/// use infometer_core::{cross_entropy_dist, Distribution};
/// let p = Distribution::from_probs(&[1.0, 0.0]).unwrap();
/// let q = Distribution::from_probs(&[0.5, 0.5]).unwrap();
/// assert!((cross_entropy_dist(&p, &q).unwrap() - 2f64.ln()).abs() < 1e-15);
/// ```
///
/// # References
/// Cover & Thomas, *Elements of Information Theory*, 2nd ed., §2.3.
pub fn cross_entropy_dist(p: &Distribution, q: &Distribution) -> Result<f64> {
    same_len(p, q)?;
    Ok(p.p
        .iter()
        .zip(&q.lp)
        .filter(|(pi, _)| **pi > 0.0)
        .map(|(pi, lq)| -pi * lq)
        .sum())
}

/// Kullback–Leibler divergence KL(p‖q) in nats: +inf where q_i = 0 < p_i, never an epsilon.
///
/// # Formula
/// ```text
/// KL(p‖q) = Σ_{p_i > 0} p_i (ln p_i − ln q_i)
/// ```
///
/// # Errors
/// [`CoreError::ShapeMismatch`] when the lengths differ.
///
/// # Examples
/// ```
/// use infometer_core::{kl_divergence, Distribution};
/// let p = Distribution::from_probs(&[0.7, 0.2, 0.1]).unwrap();
/// let q = Distribution::from_probs(&[0.6, 0.3, 0.1]).unwrap();
/// assert!((kl_divergence(&p, &q).unwrap() - 0.026812).abs() < 1e-6);
/// let z = Distribution::from_probs(&[1.0, 0.0, 0.0]).unwrap();
/// assert_eq!(kl_divergence(&p, &z).unwrap(), f64::INFINITY);
/// ```
///
/// # References
/// Kullback & Leibler, "On information and sufficiency", Ann. Math. Statist. 22(1), 1951.
pub fn kl_divergence(p: &Distribution, q: &Distribution) -> Result<f64> {
    same_len(p, q)?;
    let kl: f64 =
        p.p.iter()
            .zip(p.lp.iter().zip(&q.lp))
            .filter(|(pi, _)| **pi > 0.0)
            .map(|(pi, (lp, lq))| pi * (lp - lq))
            .sum();
    Ok(kl.max(0.0))
}

/// KL(p‖q) with the study guide's clamp: both sides clamped to `epsilon` first.
///
/// A documented compatibility mode for reproducing code that does
/// `p * log(p.clamp(eps) / q.clamp(eps))`; it is finite where the true KL is +inf and
/// biased elsewhere. Prefer [`kl_divergence`].
///
/// # Formula
/// ```text
/// KL_ε(p‖q) = Σ p_i ln(max(p_i, ε) / max(q_i, ε))
/// ```
///
/// # Errors
/// [`CoreError::ShapeMismatch`]; [`CoreError::InvalidParameter`] unless 0 < ε < 1.
///
/// # Examples
/// ```
/// use infometer_core::{kl_divergence_clamped, Distribution};
/// let p = Distribution::from_probs(&[0.5, 0.5]).unwrap();
/// let q = Distribution::from_probs(&[1.0, 0.0]).unwrap();
/// assert!(kl_divergence_clamped(&p, &q, 1e-8).unwrap().is_finite());
/// ```
///
/// # References
/// The behaviour it reproduces is analysed in docs/pitfalls.md.
pub fn kl_divergence_clamped(p: &Distribution, q: &Distribution, epsilon: f64) -> Result<f64> {
    same_len(p, q)?;
    if !(epsilon > 0.0 && epsilon < 1.0) {
        return Err(CoreError::InvalidParameter {
            name: "epsilon",
            value: epsilon,
            reason: "must lie in (0, 1)",
        });
    }
    Ok(p.p
        .iter()
        .zip(&q.p)
        .map(|(a, b)| a * (a.max(epsilon) / b.max(epsilon)).ln())
        .sum())
}

/// Jensen–Shannon divergence in nats, in [0, ln 2]; not the symmetrised KL.
///
/// # Formula
/// ```text
/// JS(p, q) = ½ KL(p‖m) + ½ KL(q‖m),  m = (p + q)/2
/// ```
///
/// # Errors
/// [`CoreError::ShapeMismatch`] when the lengths differ.
///
/// # Examples
/// ```
/// use infometer_core::{js_divergence, Distribution};
/// let p = Distribution::from_probs(&[1.0, 0.0]).unwrap();
/// let q = Distribution::from_probs(&[0.0, 1.0]).unwrap();
/// assert!((js_divergence(&p, &q).unwrap() - 2f64.ln()).abs() < 1e-15);
/// ```
///
/// # References
/// Lin, "Divergence measures based on the Shannon entropy", IEEE Trans. IT 37(1), 1991.
pub fn js_divergence(p: &Distribution, q: &Distribution) -> Result<f64> {
    same_len(p, q)?;
    let mut js = 0.0;
    for i in 0..p.len() {
        let (a, b) = (p.p[i], q.p[i]);
        let m = 0.5 * (a + b);
        if m <= 0.0 {
            continue;
        }
        let lm = m.ln();
        if a > 0.0 {
            js += 0.5 * a * (p.lp[i] - lm);
        }
        if b > 0.0 {
            js += 0.5 * b * (q.lp[i] - lm);
        }
    }
    Ok(js.clamp(0.0, std::f64::consts::LN_2))
}

/// Total variation distance, in [0, 1].
///
/// # Formula
/// ```text
/// TV(p, q) = ½ Σ |p_i − q_i|
/// ```
///
/// # Errors
/// [`CoreError::ShapeMismatch`] when the lengths differ.
///
/// # Examples
/// ```
/// use infometer_core::{total_variation, Distribution};
/// let p = Distribution::from_probs(&[0.5, 0.5]).unwrap();
/// let q = Distribution::from_probs(&[0.9, 0.1]).unwrap();
/// assert!((total_variation(&p, &q).unwrap() - 0.4).abs() < 1e-15);
/// ```
///
/// # References
/// Tsybakov, *Introduction to Nonparametric Estimation*, 2009, §2.4.
pub fn total_variation(p: &Distribution, q: &Distribution) -> Result<f64> {
    same_len(p, q)?;
    // rounding can push the sum a hair past 1
    Ok((0.5
        * p.p
            .iter()
            .zip(&q.p)
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>())
    .min(1.0))
}

/// Hellinger distance, in [0, 1].
///
/// # Formula
/// ```text
/// H(p, q) = sqrt(1 − Σ sqrt(p_i q_i))
/// ```
///
/// # Errors
/// [`CoreError::ShapeMismatch`] when the lengths differ.
///
/// # Examples
/// ```
/// use infometer_core::{hellinger, Distribution};
/// let p = Distribution::from_probs(&[1.0, 0.0]).unwrap();
/// let q = Distribution::from_probs(&[0.0, 1.0]).unwrap();
/// assert_eq!(hellinger(&p, &q).unwrap(), 1.0);
/// ```
///
/// # References
/// Tsybakov, *Introduction to Nonparametric Estimation*, 2009, §2.4.
pub fn hellinger(p: &Distribution, q: &Distribution) -> Result<f64> {
    same_len(p, q)?;
    let bc: f64 = p.p.iter().zip(&q.p).map(|(a, b)| (a * b).sqrt()).sum();
    Ok((1.0 - bc).max(0.0).sqrt())
}

/// Rényi entropy of order α ≥ 0 in nats; α = 1 is Shannon, α = ∞ is min-entropy.
///
/// # Formula
/// ```text
/// H_α(p) = ln(Σ p_i^α) / (1 − α)     computed as lse(α ln p_i) / (1 − α)
/// H_0 = ln |supp p|,  H_1 = H,  H_∞ = −ln max p_i
/// ```
///
/// # Errors
/// [`CoreError::InvalidParameter`] for α < 0 or NaN.
///
/// # Examples
/// ```
/// use infometer_core::{renyi_entropy, Distribution};
/// let p = Distribution::from_probs(&[0.25; 4]).unwrap();
/// assert!((renyi_entropy(&p, 2.0).unwrap() - 4f64.ln()).abs() < 1e-14);
/// ```
///
/// # References
/// Rényi, "On measures of entropy and information", Proc. 4th Berkeley Symp., 1961.
pub fn renyi_entropy(p: &Distribution, alpha: f64) -> Result<f64> {
    if alpha.is_nan() || alpha < 0.0 {
        return Err(CoreError::InvalidParameter {
            name: "alpha",
            value: alpha,
            reason: "must be ≥ 0",
        });
    }
    if (alpha - 1.0).abs() < 1e-12 {
        return Ok(entropy(p));
    }
    if alpha == f64::INFINITY {
        return Ok(-p.lp.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
    if alpha == 0.0 {
        return Ok((p.p.iter().filter(|v| **v > 0.0).count() as f64).ln());
    }
    let terms: Vec<f64> =
        p.lp.iter()
            .map(|l| {
                if *l == f64::NEG_INFINITY {
                    f64::NEG_INFINITY
                } else {
                    alpha * l
                }
            })
            .collect();
    Ok((log_sum_exp(&terms) / (1.0 - alpha)).max(0.0))
}
