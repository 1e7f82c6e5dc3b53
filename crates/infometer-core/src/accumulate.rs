//! `LogitsAccumulator`: the exact, mergeable state of a fused pass (token counts, f64 sums, calibration bin counts), for chunks, shards and map/reduce.

use crate::calibration::from_bin_sums;
use crate::{CoreError, DEFAULT_BINS, Result, Summary, TokenMeasures};

/// Sums and counts from which every [`Summary`] field follows: add chunks or shards of a
/// fused pass in any grouping, merge accumulators built anywhere, and the summary equals
/// that of one pass over all the tokens (up to the rounding of f64 addition: a relative
/// 1e-15 per term).
///
/// Every mean is a ratio of sums over tokens, never a mean of per-chunk means, and the
/// calibration keeps per-bin counts and sums, so nothing is lost in a merge.
///
/// # Formula
/// ```text
/// mean_x = Σ_chunks Σ_valid x / Σ_chunks n_valid;   bins: (n_b, Σ conf_b, Σ correct_b) added bin by bin
/// ```
///
/// # Errors
/// See [`LogitsAccumulator::add`] and [`LogitsAccumulator::merge`].
///
/// # Examples
/// ```
/// use infometer_core::{Analyze, LogitsAccumulator, Rows};
/// let logits = [0.0f64, 1.0, 2.0, 0.5, -1.0, 3.0, 0.0, 0.0, 1.0];
/// let labels = [2i64, 0, 1];
/// let whole = Analyze::new(Rows::new(&logits, 3).unwrap()).labels(&labels).run().unwrap();
/// // two chunks, accumulated separately and merged
/// let a = Analyze::new(Rows::new(&logits[..3], 3).unwrap()).labels(&labels[..1]).run().unwrap();
/// let b = Analyze::new(Rows::new(&logits[3..], 3).unwrap()).labels(&labels[1..]).run().unwrap();
/// let mut left = LogitsAccumulator::new(true, false);
/// left.add(&a).unwrap();
/// let mut right = LogitsAccumulator::new(true, false);
/// right.add(&b).unwrap();
/// left.merge(&right).unwrap();
/// let (s, w) = (left.summary().unwrap(), whole.summary().unwrap());
/// assert_eq!(s.n_tokens, 3);
/// assert!((s.mean_nll.unwrap() - w.mean_nll.unwrap()).abs() < 1e-15);
/// ```
///
/// # References
/// Guo et al., "On Calibration of Modern Neural Networks", ICML 2017 (binned ECE).
#[derive(Debug, Clone, PartialEq)]
pub struct LogitsAccumulator {
    /// Whether labels were given (NLL, Brier, accuracy, calibration).
    pub has_labels: bool,
    /// Whether reference logits were given (KL both ways, JS, reference entropy).
    pub has_reference: bool,
    /// Valid tokens.
    pub n_tokens: u64,
    /// Σ entropy (nats).
    pub sum_entropy: f64,
    /// Σ top-1 probability.
    pub sum_confidence: f64,
    /// Σ NLL (nats); +inf once a label sat on a −inf logit.
    pub sum_nll: f64,
    /// Σ Brier score.
    pub sum_brier: f64,
    /// Tokens whose top-1 equals the label.
    pub n_correct: u64,
    /// Σ KL(P‖Q).
    pub sum_kl: f64,
    /// Σ KL(Q‖P).
    pub sum_kl_reverse: f64,
    /// Σ JS.
    pub sum_js: f64,
    /// Σ entropy of the reference.
    pub sum_reference_entropy: f64,
    /// Tokens per calibration bin ([`DEFAULT_BINS`] equal-width bins of top-1 confidence).
    pub bin_count: Vec<u64>,
    /// Σ confidence per bin.
    pub bin_confidence: Vec<f64>,
    /// Correct tokens per bin.
    pub bin_correct: Vec<u64>,
}

impl LogitsAccumulator {
    /// An empty state for passes with or without labels and a reference.
    pub fn new(has_labels: bool, has_reference: bool) -> Self {
        LogitsAccumulator {
            has_labels,
            has_reference,
            n_tokens: 0,
            sum_entropy: 0.0,
            sum_confidence: 0.0,
            sum_nll: 0.0,
            sum_brier: 0.0,
            n_correct: 0,
            sum_kl: 0.0,
            sum_kl_reverse: 0.0,
            sum_js: 0.0,
            sum_reference_entropy: 0.0,
            bin_count: vec![0; DEFAULT_BINS],
            bin_confidence: vec![0.0; DEFAULT_BINS],
            bin_correct: vec![0; DEFAULT_BINS],
        }
    }

    fn check_same(&self, labels: bool, reference: bool) -> Result<()> {
        if self.has_labels != labels {
            return Err(CoreError::Incompatible {
                what: "labels",
                expected: self.has_labels,
            });
        }
        if self.has_reference != reference {
            return Err(CoreError::Incompatible {
                what: "reference logits",
                expected: self.has_reference,
            });
        }
        Ok(())
    }

    /// Adds the valid tokens of a fused pass.
    ///
    /// # Errors
    /// [`CoreError::Incompatible`] when the pass has labels or a reference and this state
    /// does not, or the other way round.
    pub fn add(&mut self, m: &TokenMeasures) -> Result<()> {
        self.check_same(m.nll.is_some(), m.kl_pq.is_some())?;
        let correct = m.correct();
        let bins = self.bin_count.len();
        for i in (0..m.valid.len()).filter(|&i| m.valid[i]) {
            self.n_tokens += 1;
            self.sum_entropy += m.entropy[i];
            self.sum_confidence += m.top1_prob[i];
            if let (Some(nll), Some(brier), Some(ok)) = (&m.nll, &m.brier, &correct) {
                self.sum_nll += nll[i];
                self.sum_brier += brier[i];
                self.n_correct += u64::from(ok[i]);
                let c = m.top1_prob[i].clamp(0.0, 1.0);
                let b = ((c * bins as f64).ceil() as usize).clamp(1, bins) - 1;
                self.bin_count[b] += 1;
                self.bin_confidence[b] += c;
                self.bin_correct[b] += u64::from(ok[i]);
            }
            if let (Some(kl), Some(klr), Some(js), Some(h)) =
                (&m.kl_pq, &m.kl_qp, &m.js, &m.reference_entropy)
            {
                self.sum_kl += kl[i];
                self.sum_kl_reverse += klr[i];
                self.sum_js += js[i];
                self.sum_reference_entropy += h[i];
            }
        }
        Ok(())
    }

    /// Adds another state's tokens (from another chunk, shard, process or machine).
    ///
    /// # Errors
    /// [`CoreError::Incompatible`] when the two differ in labels, reference or bin count.
    pub fn merge(&mut self, other: &LogitsAccumulator) -> Result<()> {
        self.check_same(other.has_labels, other.has_reference)?;
        if self.bin_count.len() != other.bin_count.len()
            || other.bin_confidence.len() != other.bin_count.len()
            || other.bin_correct.len() != other.bin_count.len()
        {
            return Err(CoreError::ShapeMismatch {
                what: "calibration bins",
                expected: self.bin_count.len(),
                got: other.bin_count.len(),
            });
        }
        self.n_tokens += other.n_tokens;
        self.sum_entropy += other.sum_entropy;
        self.sum_confidence += other.sum_confidence;
        self.sum_nll += other.sum_nll;
        self.sum_brier += other.sum_brier;
        self.n_correct += other.n_correct;
        self.sum_kl += other.sum_kl;
        self.sum_kl_reverse += other.sum_kl_reverse;
        self.sum_js += other.sum_js;
        self.sum_reference_entropy += other.sum_reference_entropy;
        for b in 0..self.bin_count.len() {
            self.bin_count[b] += other.bin_count[b];
            self.bin_confidence[b] += other.bin_confidence[b];
            self.bin_correct[b] += other.bin_correct[b];
        }
        Ok(())
    }

    /// The token-weighted means, as [`TokenMeasures::summary`] gives them for one pass.
    ///
    /// # Errors
    /// [`CoreError::NoValidTokens`] when no token was added.
    pub fn summary(&self) -> Result<Summary> {
        if self.n_tokens == 0 {
            return Err(CoreError::NoValidTokens);
        }
        let n = self.n_tokens as f64;
        let labels = |s: f64| self.has_labels.then_some(s / n);
        let reference = |s: f64| self.has_reference.then_some(s / n);
        let mean_nll = labels(self.sum_nll);
        let calibration = if self.has_labels {
            let correct: Vec<f64> = self.bin_correct.iter().map(|&c| c as f64).collect();
            let count: Vec<usize> = self.bin_count.iter().map(|&c| c as usize).collect();
            Some(from_bin_sums(&count, &self.bin_confidence, &correct))
        } else {
            None
        };
        Ok(Summary {
            n_tokens: self.n_tokens as usize,
            mean_entropy: self.sum_entropy / n,
            mean_confidence: self.sum_confidence / n,
            mean_nll,
            perplexity: mean_nll.map(f64::exp),
            accuracy: labels(self.n_correct as f64),
            brier: labels(self.sum_brier),
            calibration,
            mean_kl: reference(self.sum_kl),
            mean_kl_reverse: reference(self.sum_kl_reverse),
            mean_js: reference(self.sum_js),
            mean_reference_entropy: reference(self.sum_reference_entropy),
        })
    }
}
