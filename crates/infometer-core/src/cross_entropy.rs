//! Cross-entropy loss over rows of logits with PyTorch's `F.cross_entropy` semantics: sparse or dense targets, class weights, label smoothing, temperature, reductions.

use rayon::prelude::*;

use crate::analyze::DEFAULT_IGNORE_INDEX;
use crate::kernel;
use crate::{CoreError, Element, Result, Rows};

/// The target of a cross-entropy: class indices or a probability row per token.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// One class index per row; `ignore_index` skips a row.
    Sparse(&'a [i64]),
    /// A probability row per row (same shape as the logits), e.g. soft labels.
    Dense(&'a [f64]),
}

/// How per-token losses are reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// Per-token losses (0 at ignored rows, as PyTorch).
    None,
    /// Σ of per-token losses.
    Sum,
    /// Sparse: Σ loss / Σ w_{y} over valid rows (the token count without weights);
    /// dense: Σ loss / number of rows. As PyTorch.
    #[default]
    Mean,
}

/// Options of [`cross_entropy`].
#[derive(Debug, Clone, PartialEq)]
pub struct CrossEntropyOptions {
    /// Label that marks a row to skip (sparse targets only); default −100.
    pub ignore_index: i64,
    /// Per-class weights w_c ≥ 0 (length = vocabulary), e.g. 10 for a rare critical class.
    pub weights: Option<Vec<f64>>,
    /// Label smoothing ε in [0, 1]: the target becomes (1 − ε)·target + ε/V.
    pub label_smoothing: f64,
    /// Softmax temperature T > 0; logits are divided by T.
    pub temperature: f64,
    /// The reduction.
    pub reduction: Reduction,
}

impl Default for CrossEntropyOptions {
    fn default() -> Self {
        CrossEntropyOptions {
            ignore_index: DEFAULT_IGNORE_INDEX,
            weights: None,
            label_smoothing: 0.0,
            temperature: 1.0,
            reduction: Reduction::Mean,
        }
    }
}

/// The result of [`cross_entropy`].
#[derive(Debug, Clone, PartialEq)]
pub enum Loss {
    /// Per-token losses, nats.
    PerToken(Vec<f64>),
    /// A reduced loss, nats.
    Scalar(f64),
}

impl Loss {
    /// The scalar, or None for per-token output.
    pub fn scalar(&self) -> Option<f64> {
        match self {
            Loss::Scalar(v) => Some(*v),
            Loss::PerToken(_) => None,
        }
    }
}

/// Cross-entropy between targets and softmax(logits / T), as `torch.nn.functional.cross_entropy`.
///
/// # Formula
/// ```text
/// sparse:  ℓ_i = (1 − ε) w_{y_i} (−log p_{i,y_i}) + (ε / V) Σ_c w_c (−log p_{i,c})
///          mean = Σ_i ℓ_i / Σ_{i valid} w_{y_i}
/// dense:   ℓ_i = −Σ_c w_c t'_{i,c} log p_{i,c},  t' = (1 − ε) t + ε / V,  mean = Σ ℓ_i / N
/// ```
/// Ignored rows contribute 0 and no weight. Where PyTorch returns NaN for a mean over zero
/// valid rows, this returns [`CoreError::NoValidTokens`].
///
/// # Errors
/// [`CoreError::ShapeMismatch`], [`CoreError::LabelOutOfRange`], [`CoreError::NonFinite`],
/// [`CoreError::NoMass`], [`CoreError::InvalidParameter`] (ε outside [0, 1], T ≤ 0, a
/// negative or non-finite weight), [`CoreError::NoValidTokens`] (mean with nothing valid).
///
/// # Examples
/// ```
/// use infometer_core::{cross_entropy, CrossEntropyOptions, Rows, Target};
/// let logits = [3.0f64, -2.0, -2.0, -2.0, -2.0];
/// let loss = cross_entropy(Rows::new(&logits, 5).unwrap(), Target::Sparse(&[0]),
///                          &CrossEntropyOptions::default()).unwrap();
/// assert!((loss.scalar().unwrap() - 0.026595).abs() < 1e-6);
/// ```
///
/// # References
/// PyTorch documentation, `torch.nn.CrossEntropyLoss`; Szegedy et al., "Rethinking the
/// Inception Architecture", CVPR 2016 (label smoothing).
pub fn cross_entropy<T: Element>(
    logits: Rows<'_, T>,
    target: Target<'_>,
    opts: &CrossEntropyOptions,
) -> Result<Loss> {
    let n = logits.n_rows();
    let v = logits.vocab();
    let eps = opts.label_smoothing;
    if !(0.0..=1.0).contains(&eps) {
        return Err(CoreError::InvalidParameter {
            name: "label_smoothing",
            value: eps,
            reason: "must lie in [0, 1]",
        });
    }
    kernel::inverse_temperature(opts.temperature)?;
    if let Some(w) = &opts.weights {
        if w.len() != v {
            return Err(CoreError::ShapeMismatch {
                what: "class weights",
                expected: v,
                got: w.len(),
            });
        }
        if let Some(&x) = w.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
            return Err(CoreError::InvalidParameter {
                name: "weight",
                value: x,
                reason: "class weights must be finite and non-negative",
            });
        }
    }
    let inv_t = 1.0 / opts.temperature;
    let w = |c: usize| opts.weights.as_ref().map_or(1.0, |w| w[c]);
    let (sparse, dense) = match target {
        Target::Sparse(l) => {
            if l.len() != n {
                return Err(CoreError::ShapeMismatch {
                    what: "labels",
                    expected: n,
                    got: l.len(),
                });
            }
            for (row, &label) in l.iter().enumerate() {
                if label != opts.ignore_index && (label < 0 || label as u64 >= v as u64) {
                    return Err(CoreError::LabelOutOfRange {
                        row,
                        label,
                        vocab: v,
                    });
                }
            }
            (Some(l), None)
        }
        Target::Dense(t) => {
            if t.len() != n * v {
                return Err(CoreError::ShapeMismatch {
                    what: "dense targets",
                    expected: n * v,
                    got: t.len(),
                });
            }
            if let Some((index, &value)) = t.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                return Err(CoreError::NonFinite {
                    what: "dense targets",
                    index,
                    value,
                });
            }
            (None, Some(t))
        }
    };
    // per row: (loss, weight in the mean's denominator)
    let per_row: Vec<(f64, f64)> = (0..n)
        .into_par_iter()
        .with_min_len(4)
        .map_init(Vec::new, |scratch, i| -> Result<(f64, f64)> {
            if sparse.is_some_and(|l| l[i] == opts.ignore_index) {
                return Ok((0.0, 0.0));
            }
            let raw = logits.row(i);
            let x = T::as_lanes(raw, scratch);
            let st = kernel::single(x, inv_t).map_err(|e| match e {
                kernel::RowError::NonFinite(j, value) => CoreError::NonFinite {
                    what: "logits",
                    index: i * v + j,
                    value,
                },
                kernel::RowError::NoMass => CoreError::NoMass { row: i },
            })?;
            let logp = |c: usize| st.log_prob(raw[c].to_f64(), inv_t);
            // Σ_c w_c (−log p_c), only when smoothing needs it; +inf if any logit is −inf
            let smooth = |weighted: bool| -> f64 {
                (0..v)
                    .map(|c| if weighted { w(c) } else { 1.0 } * -logp(c))
                    .sum::<f64>()
            };
            if let Some(l) = sparse {
                let y = l[i] as usize;
                let mut loss = (1.0 - eps) * w(y) * -logp(y);
                if eps > 0.0 {
                    loss += eps / v as f64 * smooth(true);
                }
                Ok((loss, w(y)))
            } else {
                let t = &dense.expect("dense target")[i * v..(i + 1) * v];
                let mut loss = 0.0;
                for c in 0..v {
                    let tc = (1.0 - eps) * t[c] + eps / v as f64;
                    if tc != 0.0 {
                        loss += w(c) * tc * -logp(c);
                    }
                }
                Ok((loss, 1.0))
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(match opts.reduction {
        Reduction::None => Loss::PerToken(per_row.into_iter().map(|(l, _)| l).collect()),
        Reduction::Sum => Loss::Scalar(per_row.iter().map(|(l, _)| l).sum()),
        Reduction::Mean => {
            let denom: f64 = per_row.iter().map(|(_, d)| d).sum();
            let valid = sparse.map_or(n, |l| l.iter().filter(|&&y| y != opts.ignore_index).count());
            if valid == 0 {
                return Err(CoreError::NoValidTokens);
            }
            Loss::Scalar(per_row.iter().map(|(l, _)| l).sum::<f64>() / denom)
        }
    })
}
