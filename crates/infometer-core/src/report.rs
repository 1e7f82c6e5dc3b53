//! Summaries of a fused pass: token-weighted means under one mask, and the prediction and uncertainty report.

use crate::{Calibration, CoreError, LogitsAccumulator, Result, TokenMeasures};

/// Default normalised-entropy threshold above which a position counts as uncertain.
pub const DEFAULT_UNCERTAINTY_THRESHOLD: f64 = 0.7;

/// Means over the valid tokens of a fused pass, in nats (perplexity is unitless).
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Valid tokens.
    pub n_tokens: usize,
    /// Mean entropy.
    pub mean_entropy: f64,
    /// Mean top-1 probability.
    pub mean_confidence: f64,
    /// Mean NLL (the cross-entropy), with labels.
    pub mean_nll: Option<f64>,
    /// exp(mean NLL), with labels.
    pub perplexity: Option<f64>,
    /// Fraction of valid tokens whose top-1 equals the label.
    pub accuracy: Option<f64>,
    /// Mean Brier score, with labels.
    pub brier: Option<f64>,
    /// ECE, MCE and bins (15 equal-width bins), with labels.
    pub calibration: Option<Calibration>,
    /// Mean KL(P‖Q), with a reference.
    pub mean_kl: Option<f64>,
    /// Mean KL(Q‖P), with a reference.
    pub mean_kl_reverse: Option<f64>,
    /// Mean JS, with a reference.
    pub mean_js: Option<f64>,
    /// Mean entropy of the reference, with a reference.
    pub mean_reference_entropy: Option<f64>,
}

impl TokenMeasures {
    /// Means over valid tokens: every measure sees the same mask.
    ///
    /// # Errors
    /// [`CoreError::NoValidTokens`] when every token is masked or ignored.
    ///
    /// # Examples
    /// ```
    /// use infometer_core::{Analyze, Rows};
    /// let logits = [0.0f64, 0.0, 5.0, 0.0];
    /// let m = Analyze::new(Rows::new(&logits, 2).unwrap()).labels(&[0, 0]).run().unwrap();
    /// let s = m.summary().unwrap();
    /// assert_eq!(s.n_tokens, 2);
    /// assert!((s.perplexity.unwrap() - s.mean_nll.unwrap().exp()).abs() < 1e-15);
    /// ```
    pub fn summary(&self) -> Result<Summary> {
        let mut acc = LogitsAccumulator::new(self.nll.is_some(), self.kl_pq.is_some());
        acc.add(self)?;
        acc.summary()
    }
}

/// The prediction and uncertainty report: the study guide's `analyze_predictions` and
/// `uncertainty_analysis`, computed from one fused pass with one mask.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictionReport {
    /// Valid tokens.
    pub n_tokens: usize,
    /// exp(mean NLL) (with labels).
    pub perplexity: Option<f64>,
    /// Mean NLL in nats (with labels).
    pub cross_entropy: Option<f64>,
    /// Mean entropy in nats.
    pub entropy: f64,
    /// ln V, the largest possible entropy.
    pub max_entropy: f64,
    /// Mean of H_t / ln V (0 for V = 1).
    pub normalized_entropy: f64,
    /// Mean top-1 probability.
    pub confidence: f64,
    /// The normalised-entropy threshold used.
    pub threshold: f64,
    /// Row indices of valid tokens whose normalised entropy exceeds the threshold.
    pub uncertain_positions: Vec<usize>,
    /// uncertain / valid.
    pub uncertainty_rate: f64,
    /// Mean normalised entropy of the uncertain tokens (NaN when none).
    pub mean_uncertain_normalized_entropy: f64,
    /// Largest normalised entropy over valid tokens.
    pub max_normalized_entropy: f64,
}

impl PredictionReport {
    /// Builds the report from a fused pass.
    ///
    /// # Formula
    /// ```text
    /// h_t = H_t / ln V;   uncertain ⇔ h_t > threshold;   rate = #uncertain / N
    /// ```
    ///
    /// # Errors
    /// [`CoreError::NoValidTokens`]; [`CoreError::InvalidParameter`] for a threshold outside [0, 1].
    ///
    /// # Examples
    /// ```
    /// use infometer_core::{Analyze, PredictionReport, Rows};
    /// let logits = [0.0f32, 0.0, 0.0, 9.0, 0.0, 0.0];
    /// let m = Analyze::new(Rows::new(&logits, 3).unwrap()).run().unwrap();
    /// let r = PredictionReport::new(&m, 0.7).unwrap();
    /// assert_eq!(r.uncertain_positions, vec![0]);
    /// assert_eq!(r.uncertainty_rate, 0.5);
    /// ```
    ///
    /// # References
    /// The study guide's reference module (`analyze_predictions`, `uncertainty_analysis`),
    /// reimplemented with one mask for every metric.
    pub fn new(m: &TokenMeasures, threshold: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&threshold) {
            return Err(CoreError::InvalidParameter {
                name: "threshold",
                value: threshold,
                reason: "normalised entropy threshold must lie in [0, 1]",
            });
        }
        let s = m.summary()?;
        let max_entropy = (m.vocab as f64).ln();
        let norm = |h: f64| {
            if max_entropy > 0.0 {
                (h / max_entropy).clamp(0.0, 1.0)
            } else {
                0.0
            }
        };
        let mut uncertain = Vec::new();
        let (mut sum_norm, mut sum_unc, mut max_norm) = (0.0, 0.0, 0.0f64);
        for (i, (&h, &v)) in m.entropy.iter().zip(&m.valid).enumerate() {
            if !v {
                continue;
            }
            let hn = norm(h);
            sum_norm += hn;
            max_norm = max_norm.max(hn);
            if hn > threshold {
                uncertain.push(i);
                sum_unc += hn;
            }
        }
        let n = s.n_tokens as f64;
        Ok(PredictionReport {
            n_tokens: s.n_tokens,
            perplexity: s.perplexity,
            cross_entropy: s.mean_nll,
            entropy: s.mean_entropy,
            max_entropy,
            normalized_entropy: sum_norm / n,
            confidence: s.mean_confidence,
            threshold,
            uncertainty_rate: uncertain.len() as f64 / n,
            mean_uncertain_normalized_entropy: if uncertain.is_empty() {
                f64::NAN
            } else {
                sum_unc / uncertain.len() as f64
            },
            max_normalized_entropy: max_norm,
            uncertain_positions: uncertain,
        })
    }
}
