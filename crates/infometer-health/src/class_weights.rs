//! Rare critical conditions in training: class-weighted cross-entropy against plain cross-entropy on an imbalanced batch — the rare class's share of the loss and of the gradient.

use infometer_core::{CrossEntropyOptions, Loss, Reduction, Rows, Target, cross_entropy};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::Result;

/// Loss and gradient shares of the rare class under one weighting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightingOutcome {
    /// The weight of the rare class.
    pub rare_weight: f64,
    /// Mean loss (PyTorch's weighted mean), nats.
    pub mean_loss: f64,
    /// Rare-class rows' share of the summed loss.
    pub rare_loss_share: f64,
    /// Rare-class rows' share of the gradient's L1 norm with respect to the logits.
    pub rare_gradient_share: f64,
}

/// An imbalanced batch: `n` cases, a fraction `rare_rate` with the rare critical class 1
/// (e.g. sepsis); the model is fairly good on the common class and poor on the rare one.
pub fn imbalanced_batch(n: usize, rare_rate: f64, seed: u64) -> (Vec<f64>, Vec<i64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut logits = Vec::with_capacity(n * 2);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let rare = rng.random::<f64>() < rare_rate;
        // the model favours the common class for everybody
        logits.push(1.5 + rng.random::<f64>());
        logits.push(if rare {
            0.8 + rng.random::<f64>()
        } else {
            -0.5 + rng.random::<f64>()
        });
        labels.push(rare as i64);
    }
    (logits, labels)
}

/// Compares weight 1 with `rare_weight` for class 1.
///
/// # Formula
/// ```text
/// ℓ_i = w_{y_i}(−log p_{i,y_i}),  mean = Σℓ_i / Σ w_{y_i},  ∂mean/∂z_i = w_{y_i}(p_i − e_{y_i}) / Σ w
/// ```
///
/// # Errors
/// As [`cross_entropy`].
pub fn compare(logits: &[f64], labels: &[i64], rare_weight: f64) -> Result<Vec<WeightingOutcome>> {
    [1.0, rare_weight]
        .iter()
        .map(|&w| {
            let opts = CrossEntropyOptions {
                weights: Some(vec![1.0, w]),
                reduction: Reduction::None,
                ..Default::default()
            };
            let Loss::PerToken(per) =
                cross_entropy(Rows::new(logits, 2)?, Target::Sparse(labels), &opts)?
            else {
                unreachable!("reduction none")
            };
            let weight = |y: i64| if y == 1 { w } else { 1.0 };
            let denom: f64 = labels.iter().map(|&y| weight(y)).sum();
            let total: f64 = per.iter().sum();
            let rare_loss: f64 = per
                .iter()
                .zip(labels)
                .filter(|(_, y)| **y == 1)
                .map(|(l, _)| l)
                .sum();
            // gradient of the weighted mean w.r.t. each row's logits
            let (mut g_rare, mut g_all) = (0.0, 0.0);
            for (i, &y) in labels.iter().enumerate() {
                let (a, b) = (logits[2 * i], logits[2 * i + 1]);
                let m = a.max(b);
                let p1 = (b - m).exp() / ((a - m).exp() + (b - m).exp());
                let g = weight(y) / denom * 2.0 * (p1 - y as f64).abs();
                g_all += g;
                if y == 1 {
                    g_rare += g;
                }
            }
            Ok(WeightingOutcome {
                rare_weight: w,
                mean_loss: total / denom,
                rare_loss_share: rare_loss / total,
                rare_gradient_share: g_rare / g_all,
            })
        })
        .collect()
}

impl std::fmt::Display for WeightingOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rare weight {}: mean CE {:.4} nats, rare share of loss {:.1}%, of gradient {:.1}%",
            self.rare_weight,
            self.mean_loss,
            100.0 * self.rare_loss_share,
            100.0 * self.rare_gradient_share
        )
    }
}
