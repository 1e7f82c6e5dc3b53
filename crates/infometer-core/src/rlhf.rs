//! RLHF and distillation: sampled-token KL estimators (k1, k2, k3), KL-penalised rewards and the temperature-scaled distillation loss.

use crate::{Analyze, CoreError, Element, Result, Rows};

/// The three per-token estimators of KL(π‖π_ref) from a token sampled from π.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KlEstimates {
    /// k1 = −log r: unbiased, high variance, can be negative.
    pub k1: f64,
    /// k2 = ½ (log r)²: biased, low variance, ≥ 0.
    pub k2: f64,
    /// k3 = (r − 1) − log r: unbiased, low variance, ≥ 0.
    pub k3: f64,
}

/// Per-token KL estimators from the sampled tokens' log-probabilities under π and π_ref.
///
/// With r = π_ref(x)/π(x) for x ~ π, E\[k1\] = E\[k3\] = KL(π‖π_ref). Note the sign of k1: it is
/// log π − log π_ref = −log r (some write "log r" with r = π/π_ref; the value is the same).
/// k3 is computed as expm1(log r) − log r to keep precision when r ≈ 1.
///
/// # Formula
/// ```text
/// log r = log π_ref(x) − log π(x)
/// k1 = −log r,   k2 = ½ (log r)²,   k3 = (r − 1) − log r
/// ```
///
/// # Errors
/// [`CoreError::ShapeMismatch`]; [`CoreError::NonFinite`] for NaN; [`CoreError::OutOfDomain`]
/// for a log-probability above 0 (+inf included).
///
/// # Examples
/// ```
/// let e = infometer_core::kl_estimators(&[-1.0], &[-1.5]).unwrap();
/// assert!((e[0].k1 - 0.5).abs() < 1e-15);
/// assert!((e[0].k3 - ((-0.5f64).exp() - 1.0 + 0.5)).abs() < 1e-15);
/// ```
///
/// # References
/// Schulman, "Approximating KL Divergence", 2020 (k1, k2, k3); Ouyang et al., "Training
/// language models to follow instructions with human feedback", NeurIPS 2022.
pub fn kl_estimators(logp_policy: &[f64], logp_ref: &[f64]) -> Result<Vec<KlEstimates>> {
    if logp_policy.len() != logp_ref.len() {
        return Err(CoreError::ShapeMismatch {
            what: "reference log-probabilities",
            expected: logp_policy.len(),
            got: logp_ref.len(),
        });
    }
    for (what, xs) in [
        ("policy log-probabilities", logp_policy),
        ("reference log-probabilities", logp_ref),
    ] {
        if let Some((index, &value)) = xs.iter().enumerate().find(|(_, v)| v.is_nan() || **v > 0.0)
        {
            return Err(if value.is_nan() {
                CoreError::NonFinite { what, index, value }
            } else {
                CoreError::OutOfDomain {
                    what,
                    index,
                    value,
                    domain: "a log-probability is ≤ 0",
                }
            });
        }
    }
    Ok(logp_policy
        .iter()
        .zip(logp_ref)
        .map(|(&lp, &lr)| {
            let log_r = lr - lp;
            KlEstimates {
                k1: -log_r,
                k2: 0.5 * log_r * log_r,
                k3: log_r.exp_m1() - log_r,
            }
        })
        .collect())
}

/// KL-penalised rewards r_t − β·KL_t, per token (or per sequence).
///
/// # Formula
/// ```text
/// r'_t = r_t − β KL_t
/// ```
///
/// # Errors
/// [`CoreError::ShapeMismatch`]; [`CoreError::InvalidParameter`] for β < 0 or NaN.
///
/// # Examples
/// ```
/// let r = infometer_core::kl_penalized_rewards(&[1.0, 0.0], &[0.5, 0.1], 0.2).unwrap();
/// assert_eq!(r, vec![0.9, -0.020000000000000004]);
/// ```
///
/// # References
/// Ziegler et al., "Fine-Tuning Language Models from Human Preferences", 2019, eq. 2.
pub fn kl_penalized_rewards(rewards: &[f64], kl: &[f64], beta: f64) -> Result<Vec<f64>> {
    if rewards.len() != kl.len() {
        return Err(CoreError::ShapeMismatch {
            what: "kl",
            expected: rewards.len(),
            got: kl.len(),
        });
    }
    if beta.is_nan() || beta < 0.0 {
        return Err(CoreError::InvalidParameter {
            name: "beta",
            value: beta,
            reason: "must be ≥ 0",
        });
    }
    Ok(rewards.iter().zip(kl).map(|(r, k)| r - beta * k).collect())
}

/// Knowledge-distillation loss T²·KL(softmax(t/T) ‖ softmax(s/T)), mean over valid tokens.
///
/// # Formula
/// ```text
/// L = T² · (1/N) Σ_t KL( softmax(teacher_t / T) ‖ softmax(student_t / T) )
/// ```
///
/// # Errors
/// As [`Analyze::run`]; [`CoreError::NoValidTokens`] when every token is masked.
///
/// # Examples
/// ```
/// use infometer_core::{distillation_loss, Rows};
/// let t = [1.0f32, 2.0, 3.0];
/// let loss = distillation_loss(Rows::new(&t, 3).unwrap(), Rows::new(&t, 3).unwrap(), 2.0, None).unwrap();
/// assert!(loss.abs() < 1e-6);
/// ```
///
/// # References
/// Hinton, Vinyals, Dean, "Distilling the Knowledge in a Neural Network", 2015.
pub fn distillation_loss<T: Element>(
    teacher: Rows<'_, T>,
    student: Rows<'_, T>,
    temperature: f64,
    mask: Option<&[bool]>,
) -> Result<f64> {
    let mut a = Analyze::new(teacher)
        .reference(student)
        .temperature(temperature)
        .with_js(false);
    if let Some(m) = mask {
        a = a.mask(m);
    }
    let m = a.run()?;
    let kl = m.kl_pq.expect("reference given");
    let (s, c) = kl
        .iter()
        .zip(&m.valid)
        .filter(|(_, v)| **v)
        .fold((0.0, 0usize), |(s, c), (x, _)| (s + x, c + 1));
    if c == 0 {
        return Err(CoreError::NoValidTokens);
    }
    Ok(temperature * temperature * s / c as f64)
}
