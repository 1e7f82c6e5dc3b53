//! Defer when the models disagree: triage over an ensemble that defers on epistemic uncertainty (mutual information) or on total entropy, compared by risk–coverage curves on a seeded cohort where some cases are out of distribution.

use infometer_core::{Ensemble, Rows};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution as _, StandardNormal};
use serde::Serialize;

use crate::{HealthError, Result};

/// A labelled cohort scored by an ensemble: logits [members, cases, classes].
#[derive(Debug, Clone, PartialEq)]
pub struct EnsembleCohort {
    /// Members M.
    pub members: usize,
    /// Diagnoses K.
    pub classes: usize,
    /// Member-major logits, M · N · K values.
    pub logits: Vec<f64>,
    /// The true diagnosis of each case.
    pub labels: Vec<usize>,
    /// Whether each case is out of distribution.
    pub ood: Vec<bool>,
}

/// A seeded cohort of `n` cases over `classes` diagnoses, scored by `members` models.
///
/// In-distribution cases have a shared logit vector z = s·e_c + N(0, 1) (s ~ U(0.5, 4): some
/// cases are clear, others ambiguous); the true diagnosis is drawn from softmax(z), so the
/// ambiguous ones carry irreducible (aleatoric) error; each member sees z + N(0, 0.3²). A
/// share `ood_share` of cases are out of distribution: each member is confidently wrong in
/// its own way (3·e_{c_m} + N(0, 1), c_m drawn per member) and the diagnosis is uniform.
///
/// # Errors
/// [`HealthError::OutOfRange`] for n = 0, fewer than 2 members or classes, or a share outside
/// [0, 1).
///
/// # Examples
/// ```
/// use infometer_health::ensemble_triage::synthetic_cohort;
/// let c = synthetic_cohort(100, 0.2, 5, 4, 7).unwrap();
/// assert_eq!(c.logits.len(), 5 * 100 * 4);
/// assert_eq!(c.ood.iter().filter(|&&o| o).count(), 20);
/// ```
pub fn synthetic_cohort(
    n: usize,
    ood_share: f64,
    members: usize,
    classes: usize,
    seed: u64,
) -> Result<EnsembleCohort> {
    for (name, v, ok) in [
        ("cases", n as f64, n > 0),
        ("members", members as f64, members >= 2),
        ("classes", classes as f64, classes >= 2),
        ("ood_share", ood_share, (0.0..1.0).contains(&ood_share)),
    ] {
        if !ok {
            return Err(HealthError::OutOfRange {
                name,
                value: v,
                expected: "n ≥ 1, members ≥ 2, classes ≥ 2, share in [0, 1)",
            });
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n_ood = (ood_share * n as f64).round() as usize;
    let mut logits = vec![0.0; members * n * classes];
    let mut labels = Vec::with_capacity(n);
    let mut ood = Vec::with_capacity(n);
    let normal = |rng: &mut ChaCha8Rng| -> f64 { StandardNormal.sample(rng) };
    for i in 0..n {
        let is_ood = i >= n - n_ood;
        if is_ood {
            for m in 0..members {
                let c = rng.random_range(0..classes);
                for k in 0..classes {
                    let bump = if k == c { 3.0 } else { 0.0 };
                    logits[(m * n + i) * classes + k] = bump + normal(&mut rng);
                }
            }
            labels.push(rng.random_range(0..classes));
        } else {
            let c = rng.random_range(0..classes);
            let s = rng.random_range(0.5..4.0);
            let z: Vec<f64> = (0..classes)
                .map(|k| if k == c { s } else { 0.0 } + normal(&mut rng))
                .collect();
            // the diagnosis is drawn from softmax(z)
            let mx = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let w: Vec<f64> = z.iter().map(|x| (x - mx).exp()).collect();
            let mut u = rng.random::<f64>() * w.iter().sum::<f64>();
            let mut y = classes - 1;
            for (k, wk) in w.iter().enumerate() {
                if u < *wk {
                    y = k;
                    break;
                }
                u -= wk;
            }
            labels.push(y);
            for m in 0..members {
                for k in 0..classes {
                    logits[(m * n + i) * classes + k] = z[k] + 0.3 * normal(&mut rng);
                }
            }
        }
        ood.push(is_ood);
    }
    Ok(EnsembleCohort {
        members,
        classes,
        logits,
        labels,
        ood,
    })
}

/// Risk at every coverage: cases kept in increasing order of `score` (ties by index), and
/// the error rate among the first k, for k = 1..=N.
///
/// # Formula
/// ```text
/// risk(k) = (1/k) Σ_{j ≤ k} error_(j),   AURC = (1/N) Σ_k risk(k)
/// ```
///
/// # Examples
/// ```
/// use infometer_health::ensemble_triage::risk_coverage;
/// let r = risk_coverage(&[0.1, 0.9, 0.5], &[false, true, false]);
/// assert_eq!(r, vec![0.0, 0.0, 1.0 / 3.0]);
/// ```
///
/// # References
/// Geifman & El-Yaniv, "Selective classification for deep neural networks", NeurIPS 2017.
pub fn risk_coverage(score: &[f64], error: &[bool]) -> Vec<f64> {
    risk_along(&ranked(score), error)
}

/// Case indices in increasing order of score, ties by index.
fn ranked(score: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&a, &b| score[a].total_cmp(&score[b]).then(a.cmp(&b)));
    order
}

/// The error rate among the first k cases of `order`, for every k.
fn risk_along(order: &[usize], error: &[bool]) -> Vec<f64> {
    let mut wrong = 0usize;
    order
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            wrong += usize::from(error[i]);
            wrong as f64 / (k + 1) as f64
        })
        .collect()
}

/// One deferral rule's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleResult {
    /// Area under the risk–coverage curve (lower is better).
    pub aurc: f64,
    /// Error rate among the automated cases at the coverage of [`EnsembleTriageReport`].
    pub risk_at_coverage: f64,
    /// Share of the out-of-distribution cases that are deferred at that coverage.
    pub ood_deferred: f64,
}

/// Deferral on epistemic uncertainty versus on total entropy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnsembleTriageReport {
    /// Cases.
    pub n: usize,
    /// Out-of-distribution cases.
    pub n_ood: usize,
    /// Error rate of the ensemble's top-1 over every case.
    pub error_rate: f64,
    /// The share of cases automated.
    pub coverage: f64,
    /// Deferring on mutual information (the models disagree).
    pub epistemic: RuleResult,
    /// Deferring on the entropy of the mean prediction.
    pub total: RuleResult,
    /// Mean mutual information of in-distribution and of OOD cases, nats.
    pub mean_mi_in_vs_ood: (f64, f64),
}

/// Scores the cohort with [`Ensemble`] and compares the two deferral rules at `coverage`.
///
/// # Errors
/// [`HealthError::OutOfRange`] for a coverage outside (0, 1] or a label ≥ classes; a cohort
/// whose logits or OOD flags do not match its sizes ([`HealthError::Core`]).
///
/// # Examples
/// ```
/// use infometer_health::ensemble_triage::{compare_rules, synthetic_cohort};
/// let c = synthetic_cohort(400, 0.15, 8, 5, 1).unwrap();
/// let r = compare_rules(&c, 0.8).unwrap();
/// // OOD cases are where the members disagree: MI flags more of them
/// assert!(r.epistemic.ood_deferred > r.total.ood_deferred);
/// ```
pub fn compare_rules(c: &EnsembleCohort, coverage: f64) -> Result<EnsembleTriageReport> {
    if !(coverage > 0.0 && coverage <= 1.0) {
        return Err(HealthError::OutOfRange {
            name: "coverage",
            value: coverage,
            expected: "(0, 1]",
        });
    }
    let n = c.labels.len();
    let per = n * c.classes;
    if c.ood.len() != n {
        return Err(infometer_core::CoreError::ShapeMismatch {
            what: "cohort OOD flags (one per case)",
            expected: n,
            got: c.ood.len(),
        }
        .into());
    }
    if let Some(&y) = c.labels.iter().find(|&&y| y >= c.classes) {
        return Err(HealthError::OutOfRange {
            name: "label",
            value: y as f64,
            expected: "0..classes",
        });
    }
    if c.logits.len() != c.members * per {
        return Err(infometer_core::CoreError::ShapeMismatch {
            what: "cohort logits",
            expected: c.members * per,
            got: c.logits.len(),
        }
        .into());
    }
    let rows = (0..c.members)
        .map(|m| Rows::new(&c.logits[m * per..(m + 1) * per], c.classes))
        .collect::<infometer_core::Result<Vec<_>>>()?;
    let e = Ensemble::new(rows)?.run()?;
    // the ensemble's top-1: argmax of the mean probability (of Σ_m p_m)
    let error: Vec<bool> = (0..n)
        .map(|i| {
            // each member's softmax once, then Σ_m p_m,k (the mean's argmax) class by class
            let rows: Vec<(&[f64], f64, f64)> = (0..c.members)
                .map(|m| {
                    let r = &c.logits[(m * n + i) * c.classes..(m * n + i + 1) * c.classes];
                    let mx = r.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    (r, mx, r.iter().map(|x| (x - mx).exp()).sum::<f64>())
                })
                .collect();
            let mut best = (f64::NEG_INFINITY, 0);
            for k in 0..c.classes {
                let p: f64 = rows.iter().map(|&(r, mx, z)| (r[k] - mx).exp() / z).sum();
                if p > best.0 {
                    best = (p, k);
                }
            }
            best.1 != c.labels[i]
        })
        .collect();
    let keep = ((coverage * n as f64).round() as usize).clamp(1, n);
    let n_ood = c.ood.iter().filter(|&&o| o).count();
    let rule = |score: &[f64]| -> RuleResult {
        let order = ranked(score);
        let curve = risk_along(&order, &error);
        let deferred_ood = order[keep..].iter().filter(|&&i| c.ood[i]).count();
        RuleResult {
            aurc: curve.iter().sum::<f64>() / n as f64,
            risk_at_coverage: curve[keep - 1],
            ood_deferred: if n_ood > 0 {
                deferred_ood as f64 / n_ood as f64
            } else {
                0.0
            },
        }
    };
    let mean_where = |want: bool| {
        let v: Vec<f64> = (0..n)
            .filter(|&i| c.ood[i] == want)
            .map(|i| e.mutual_information[i])
            .collect();
        if v.is_empty() {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    Ok(EnsembleTriageReport {
        n,
        n_ood,
        error_rate: error.iter().filter(|&&x| x).count() as f64 / n as f64,
        coverage,
        epistemic: rule(&e.mutual_information),
        total: rule(&e.total),
        mean_mi_in_vs_ood: (mean_where(false), mean_where(true)),
    })
}
