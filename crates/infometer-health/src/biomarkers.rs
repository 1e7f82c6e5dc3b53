//! Biomarker ranking: mutual information (Ross's mixed estimator, with permutation p-values) against Pearson correlation, on a seeded cohort where one biomarker acts non-linearly.

use infometer_continuous::{Samples, mixed_mi, permutation_test};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use crate::{HealthError, Result};

/// One biomarker's association with a binary outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BiomarkerScore {
    /// Name.
    pub name: String,
    /// Mixed discrete–continuous MI with the outcome, nats.
    pub mi: f64,
    /// Permutation p-value of the MI.
    pub p_value: f64,
    /// Pearson correlation with the outcome (point-biserial).
    pub pearson_r: f64,
    /// Rank by MI (1 = strongest).
    pub rank_mi: usize,
    /// Rank by |r| (1 = strongest).
    pub rank_correlation: usize,
}

/// A seeded cohort: `n` patients (even), binary outcome; biomarkers
/// `lactate` (shifted up in cases: linear), `potassium` (extreme in either direction in cases:
/// U-shaped, built in mirrored pairs so its correlation with the outcome is exactly 0), and
/// `noise`.
pub fn synthetic_cohort(n: usize, seed: u64) -> (Vec<i64>, Vec<(String, Vec<f64>)>) {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let n = n / 2 * 2;
    let mut outcome = Vec::with_capacity(n);
    let (mut lac, mut pot, mut noise) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n / 2 {
        let y = (i % 2) as i64; // balanced, pairs share an outcome
        let g = |r: &mut ChaCha8Rng| -> f64 { StandardNormal.sample(r) };
        let v = if y == 1 {
            2.2 + 0.5 * g(&mut r)
        } else {
            0.7 * g(&mut r)
        };
        for sign in [1.0, -1.0] {
            outcome.push(y);
            pot.push(sign * v);
            lac.push(0.6 * y as f64 + g(&mut r));
            noise.push(g(&mut r));
        }
    }
    (
        outcome,
        vec![
            ("lactate".into(), lac),
            ("potassium".into(), pot),
            ("noise".into(), noise),
        ],
    )
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// Ranks biomarkers by MI with the outcome (k = 3, `permutations` surrogates) and by |r|.
///
/// # Errors
/// Shape mismatches, too few samples, no biomarkers.
pub fn rank(
    outcome: &[i64],
    markers: &[(String, Vec<f64>)],
    permutations: usize,
    seed: u64,
) -> Result<Vec<BiomarkerScore>> {
    if markers.is_empty() {
        return Err(HealthError::Invalid("no biomarkers".into()));
    }
    let y: Vec<f64> = outcome.iter().map(|&v| v as f64).collect();
    let mut scores = markers
        .iter()
        .map(|(name, x)| {
            let s = Samples::from_column(x)?;
            let t = permutation_test(x.len(), permutations, seed, |p| {
                let l: Vec<i64> = p.iter().map(|&i| outcome[i]).collect();
                mixed_mi(&l, &s, 3)
            })?;
            Ok(BiomarkerScore {
                name: name.clone(),
                mi: t.observed,
                p_value: t.p_value,
                pearson_r: pearson(x, &y),
                rank_mi: 0,
                rank_correlation: 0,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut by_mi: Vec<usize> = (0..scores.len()).collect();
    by_mi.sort_by(|&a, &b| scores[b].mi.total_cmp(&scores[a].mi));
    let mut by_r: Vec<usize> = (0..scores.len()).collect();
    by_r.sort_by(|&a, &b| {
        scores[b]
            .pearson_r
            .abs()
            .total_cmp(&scores[a].pearson_r.abs())
    });
    for (rank, &i) in by_mi.iter().enumerate() {
        scores[i].rank_mi = rank + 1;
    }
    for (rank, &i) in by_r.iter().enumerate() {
        scores[i].rank_correlation = rank + 1;
    }
    Ok(scores)
}

impl std::fmt::Display for BiomarkerScore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: MI {:.4} nats (p = {:.3}, rank {}), r = {:+.3} (rank {})",
            self.name, self.mi, self.p_value, self.rank_mi, self.pearson_r, self.rank_correlation
        )
    }
}
