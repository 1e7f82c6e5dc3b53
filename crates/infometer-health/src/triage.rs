//! Triage by uncertainty: entropy and confidence of a diagnostic distribution decide whether a case is automated, reviewed or deferred, with the deferral threshold chosen from a risk–coverage curve on a labelled cohort.

use infometer_core::{Base, Distribution, entropy};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::{HealthError, Result};

/// What to do with a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Decision {
    /// The model's answer is used as is.
    Automate,
    /// A clinician reviews the model's answer.
    Review,
    /// The case goes to a clinician without the model's answer.
    Defer,
}

/// Thresholds on normalised entropy H/ln K (0 = certain, 1 = uniform).
///
/// Defaults: automate at or below 0.4 (one diagnosis holds most of the mass: the study
/// guide's clear case [.85, .08, .04, .02, .01] sits at 0.37), defer
/// above 0.7 (the study guide's uncertainty threshold: the distribution is closer to uniform
/// than to decisive); replace them with [`choose_threshold`] on your own labelled data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TriagePolicy {
    /// Automate when normalised entropy ≤ this.
    pub automate_below: f64,
    /// Defer when normalised entropy > this; review in between.
    pub defer_above: f64,
}

impl Default for TriagePolicy {
    fn default() -> Self {
        TriagePolicy {
            automate_below: 0.4,
            defer_above: 0.7,
        }
    }
}

/// The triage of one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriageReport {
    /// Shannon entropy in bits.
    pub entropy_bits: f64,
    /// H / ln K.
    pub normalized_entropy: f64,
    /// Largest probability.
    pub confidence: f64,
    /// The decision.
    pub decision: Decision,
}

/// Triage of one diagnostic distribution (probabilities over K ≥ 2 diagnoses).
///
/// # Errors
/// Invalid probabilities (via [`Distribution::from_probs`]) or K < 2.
///
/// # Examples
/// ```
/// use infometer_health::triage::{triage, Decision, TriagePolicy};
/// assert_eq!(triage(&[0.2; 5], &TriagePolicy::default()).unwrap().decision, Decision::Defer);
/// ```
pub fn triage(probs: &[f64], policy: &TriagePolicy) -> Result<TriageReport> {
    if probs.len() < 2 {
        return Err(HealthError::Invalid(
            "triage needs at least two diagnoses".into(),
        ));
    }
    let p = Distribution::from_probs(probs)?;
    let h = entropy(&p);
    let hn = h / (probs.len() as f64).ln();
    let decision = if hn <= policy.automate_below {
        Decision::Automate
    } else if hn > policy.defer_above {
        Decision::Defer
    } else {
        Decision::Review
    };
    Ok(TriageReport {
        entropy_bits: Base::TWO.from_nats(h),
        normalized_entropy: hn,
        confidence: p.probs().iter().copied().fold(0.0, f64::max),
        decision,
    })
}

/// One case of a labelled cohort: the model's distribution and the true diagnosis.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledCase {
    /// Probabilities over diagnoses.
    pub probs: Vec<f64>,
    /// Index of the true diagnosis.
    pub truth: usize,
}

/// A point of the risk–coverage curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RiskCoverage {
    /// Normalised-entropy threshold: cases at or below it are automated.
    pub threshold: f64,
    /// Fraction of cases automated.
    pub coverage: f64,
    /// Error rate among automated cases.
    pub risk: f64,
}

/// The risk–coverage curve: for each threshold, the share automated and their error rate.
///
/// # Errors
/// Invalid distributions in the cohort, an empty cohort.
pub fn risk_coverage(cohort: &[LabelledCase]) -> Result<Vec<RiskCoverage>> {
    if cohort.is_empty() {
        return Err(HealthError::Invalid("empty cohort".into()));
    }
    let mut scored: Vec<(f64, bool)> = cohort
        .iter()
        .map(|c| {
            let p = Distribution::from_probs(&c.probs)?;
            let hn = entropy(&p) / (c.probs.len() as f64).ln();
            let top = p
                .probs()
                .iter()
                .enumerate()
                .fold((0, -1.0), |b, (i, &v)| if v > b.1 { (i, v) } else { b })
                .0;
            Ok((hn, top == c.truth))
        })
        .collect::<Result<_>>()?;
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = scored.len() as f64;
    let mut out = Vec::new();
    let mut errors = 0usize;
    for (i, &(hn, ok)) in scored.iter().enumerate() {
        errors += (!ok) as usize;
        let last_of_tie = scored.get(i + 1).is_none_or(|next| next.0 > hn);
        if last_of_tie {
            out.push(RiskCoverage {
                threshold: hn,
                coverage: (i + 1) as f64 / n,
                risk: errors as f64 / (i + 1) as f64,
            });
        }
    }
    Ok(out)
}

/// The largest automation threshold whose risk stays ≤ `max_risk` (the highest coverage at
/// an acceptable error rate); None when even the most confident case is above it.
pub fn choose_threshold(curve: &[RiskCoverage], max_risk: f64) -> Option<RiskCoverage> {
    curve
        .iter()
        .filter(|p| p.risk <= max_risk)
        .max_by(|a, b| a.coverage.total_cmp(&b.coverage))
        .copied()
}

/// A seeded synthetic cohort: K = 5 diagnoses; each patient's case difficulty sets how
/// peaked the model's distribution is, and hard cases are more often wrong.
pub fn synthetic_cohort(n: usize, seed: u64) -> Vec<LabelledCase> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let k = 5;
            let truth = rng.random_range(0..k);
            let difficulty: f64 = rng.random::<f64>();
            // the model puts its peak on the truth, except with probability growing with difficulty
            let peak = if rng.random::<f64>() < 0.85 * difficulty * difficulty {
                (truth + 1 + rng.random_range(0..k - 1)) % k
            } else {
                truth
            };
            let sharp = 6.0 * (1.0 - difficulty) + 0.2;
            let logits: Vec<f64> = (0..k)
                .map(|i| {
                    if i == peak {
                        sharp
                    } else {
                        rng.random::<f64>() * 0.5
                    }
                })
                .collect();
            let m = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = logits.iter().map(|l| (l - m).exp()).sum();
            LabelledCase {
                probs: logits.iter().map(|l| (l - m).exp() / z).collect(),
                truth,
            }
        })
        .collect()
}

impl std::fmt::Display for TriageReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "H = {:.3} bits, H/ln K = {:.3}, top-1 = {:.3} → {:?}",
            self.entropy_bits, self.normalized_entropy, self.confidence, self.decision
        )
    }
}
