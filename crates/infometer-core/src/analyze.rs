//! The fused per-token pass over rows of logits: log-sum-exp, entropy, NLL, top-1, Brier and, against reference logits, KL both ways and Jensen–Shannon.

use rayon::prelude::*;

use crate::kernel::{self, RowError};
use crate::{CoreError, Element, Result, Rows};

/// PyTorch's default `ignore_index`.
pub const DEFAULT_IGNORE_INDEX: i64 = -100;

/// A fused pass over rows of logits, configured with its optional inputs, then [`Analyze::run`].
///
/// A token is *valid* when its mask entry is true (or there is no mask) and, when labels are
/// given, its label is not `ignore_index`. Invalid tokens are not read at all (padding may hold
/// anything) and hold NaN in every per-token output, so that every measure sees one mask.
///
/// # Formula
/// ```text
/// d_i = x_i/T − max_j x_j/T,  s = Σ e^{d_i},  lse = max + ln s
/// H = ln s − Σ e^{d_i} d_i / s          NLL = lse − x_y/T
/// top-1 prob = 1/s                      Brier = Σ p_i² − 2 p_y + 1
/// KL(P‖Q) = Σ p_i (d_i − d'_i) − ln s + ln s'     (+inf where q_i = 0 < p_i)
/// JS = ½ KL(P‖M) + ½ KL(Q‖M),  M = (P + Q)/2
/// ```
///
/// # Errors
/// [`CoreError::ShapeMismatch`] when labels, mask or reference disagree with the logits;
/// [`CoreError::LabelOutOfRange`]; [`CoreError::NonFinite`] for NaN or +inf in a valid row
/// (−inf is a legal logit: probability 0); [`CoreError::NoMass`] for an all −inf row;
/// [`CoreError::InvalidParameter`] for a temperature that is not finite and positive.
///
/// # Examples
/// ```
/// use infometer_core::{Analyze, Rows};
/// let logits = [0.0f32; 8]; // two tokens, uniform over 4
/// let m = Analyze::new(Rows::new(&logits, 4).unwrap()).labels(&[1, -100]).run().unwrap();
/// assert!((m.entropy[0] - 4f64.ln()).abs() < 1e-6);
/// assert!(m.nll.as_ref().unwrap()[1].is_nan()); // ignored
/// assert_eq!(m.n_valid(), 1);
/// ```
///
/// # References
/// Guo et al., "On Calibration of Modern Neural Networks", ICML 2017 (Brier, confidence);
/// Lin, "Divergence measures based on the Shannon entropy", IEEE Trans. IT 37(1), 1991 (JS).
#[derive(Debug, Clone)]
pub struct Analyze<'a, T> {
    logits: Rows<'a, T>,
    labels: Option<&'a [i64]>,
    reference: Option<Rows<'a, T>>,
    mask: Option<&'a [bool]>,
    ignore_index: i64,
    temperature: f64,
    js: bool,
}

/// Per-token results of [`Analyze::run`], all in nats, NaN at invalid tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenMeasures {
    /// Vocabulary size.
    pub vocab: usize,
    /// Whether each token is valid (mask and ignore_index applied).
    pub valid: Vec<bool>,
    /// log Σ exp(x/T), the log-partition function.
    pub log_partition: Vec<f64>,
    /// Shannon entropy of softmax(x/T).
    pub entropy: Vec<f64>,
    /// Index of the most probable class (0 at invalid tokens).
    pub top1_index: Vec<u32>,
    /// Probability of the most probable class (the confidence).
    pub top1_prob: Vec<f64>,
    /// −log p(label), with labels.
    pub nll: Option<Vec<f64>>,
    /// Brier score Σ_i (p_i − 1[i = label])², with labels.
    pub brier: Option<Vec<f64>>,
    /// KL(P‖Q) against the reference.
    pub kl_pq: Option<Vec<f64>>,
    /// KL(Q‖P) against the reference.
    pub kl_qp: Option<Vec<f64>>,
    /// Jensen–Shannon divergence against the reference (≤ ln 2).
    pub js: Option<Vec<f64>>,
    /// Shannon entropy of the reference softmax(y/T), from the same sweep.
    pub reference_entropy: Option<Vec<f64>>,
    /// Labels copied for calibration (−1 where absent or invalid).
    pub labels: Option<Vec<i64>>,
}

impl<'a, T: Element> Analyze<'a, T> {
    /// A pass over `logits` with no labels, mask or reference, T = 1, ignore_index = −100.
    pub fn new(logits: Rows<'a, T>) -> Self {
        Analyze {
            logits,
            labels: None,
            reference: None,
            mask: None,
            ignore_index: DEFAULT_IGNORE_INDEX,
            temperature: 1.0,
            js: true,
        }
    }
    /// Sparse labels, one per row; `ignore_index` marks tokens to skip.
    pub fn labels(mut self, labels: &'a [i64]) -> Self {
        self.labels = Some(labels);
        self
    }
    /// Reference logits Q of the same shape, for KL and JS.
    pub fn reference(mut self, reference: Rows<'a, T>) -> Self {
        self.reference = Some(reference);
        self
    }
    /// A mask, one entry per row: false excludes the token from every measure.
    pub fn mask(mut self, mask: &'a [bool]) -> Self {
        self.mask = Some(mask);
        self
    }
    /// The label value that marks a token to skip (default −100, as PyTorch).
    pub fn ignore_index(mut self, ignore_index: i64) -> Self {
        self.ignore_index = ignore_index;
        self
    }
    /// Softmax temperature T applied to both P and Q (default 1).
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.temperature = temperature;
        self
    }
    /// Whether to compute JS (one logarithm per element; default true).
    pub fn with_js(mut self, js: bool) -> Self {
        self.js = js;
        self
    }

    /// Runs the fused pass, in parallel over rows.
    ///
    /// # Errors
    /// See [`Analyze`].
    pub fn run(&self) -> Result<TokenMeasures> {
        let n = self.logits.n_rows();
        let vocab = self.logits.vocab();
        let inv_t = kernel::inverse_temperature(self.temperature)?;
        if let Some(l) = self.labels {
            check_len("labels", n, l.len())?;
            for (row, &label) in l.iter().enumerate() {
                if label != self.ignore_index && (label < 0 || label as u64 >= vocab as u64) {
                    return Err(CoreError::LabelOutOfRange { row, label, vocab });
                }
            }
        }
        if let Some(m) = self.mask {
            check_len("mask", n, m.len())?;
        }
        if let Some(r) = &self.reference {
            check_len("reference rows", n, r.n_rows())?;
            check_len("reference vocabulary", vocab, r.vocab())?;
        }
        let valid: Vec<bool> = (0..n)
            .map(|i| {
                self.mask.is_none_or(|m| m[i])
                    && self.labels.is_none_or(|l| l[i] != self.ignore_index)
            })
            .collect();

        let mut out = vec![Slot::default(); n];
        let want_js = self.js;
        let res: std::result::Result<(), CoreError> = out
            .par_iter_mut()
            .enumerate()
            .with_min_len(4)
            .try_for_each_init(
                || (Vec::new(), Vec::new(), Vec::new(), Vec::new()),
                |(sx, sy, bx, by), (i, slot)| {
                    if !valid[i] {
                        *slot = Slot::invalid();
                        return Ok(());
                    }
                    let x = T::as_lanes(self.logits.row(i), sx);
                    let label_logit = self
                        .labels
                        .map(|l| self.logits.row(i)[l[i] as usize].to_f64());
                    match &self.reference {
                        None => {
                            let st = kernel::single(x, inv_t)
                                .map_err(|e| row_err(e, i, vocab, "logits"))?;
                            *slot = Slot::from_single(&st, label_logit, inv_t);
                        }
                        Some(r) => {
                            let y = T::as_lanes(r.row(i), sy);
                            let st = kernel::pair(x, y, inv_t, want_js, bx, by).map_err(
                                |(is_ref, e)| {
                                    row_err(
                                        e,
                                        i,
                                        vocab,
                                        if is_ref { "reference logits" } else { "logits" },
                                    )
                                },
                            )?;
                            *slot = Slot::from_single(&st.p, label_logit, inv_t);
                            slot.kl_pq = st.kl_pq;
                            slot.entropy_ref = st.q.entropy;
                            slot.kl_qp = st.kl_qp;
                            slot.js = if want_js { st.js } else { f64::NAN };
                        }
                    }
                    Ok(())
                },
            );
        res?;
        let has_labels = self.labels.is_some();
        let has_ref = self.reference.is_some();
        let col = |f: fn(&Slot) -> f64| out.iter().map(f).collect::<Vec<f64>>();
        Ok(TokenMeasures {
            vocab,
            log_partition: col(|s| s.lse),
            entropy: col(|s| s.entropy),
            top1_index: out.iter().map(|s| s.top1).collect(),
            top1_prob: col(|s| s.top1_prob),
            nll: has_labels.then(|| col(|s| s.nll)),
            brier: has_labels.then(|| col(|s| s.brier)),
            kl_pq: has_ref.then(|| col(|s| s.kl_pq)),
            kl_qp: has_ref.then(|| col(|s| s.kl_qp)),
            js: (has_ref && want_js).then(|| col(|s| s.js)),
            reference_entropy: has_ref.then(|| col(|s| s.entropy_ref)),
            labels: self.labels.map(|l| {
                l.iter()
                    .zip(&valid)
                    .map(|(&y, &v)| if v { y } else { -1 })
                    .collect()
            }),
            valid,
        })
    }
}

impl TokenMeasures {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.valid.len()
    }
    /// Number of valid tokens.
    pub fn n_valid(&self) -> usize {
        self.valid.iter().filter(|&&v| v).count()
    }
    /// Whether each valid token's top-1 class equals its label (None without labels).
    pub fn correct(&self) -> Option<Vec<bool>> {
        self.labels.as_ref().map(|l| {
            l.iter()
                .zip(&self.top1_index)
                .map(|(&y, &t)| y >= 0 && y as u64 == t as u64)
                .collect()
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    lse: f64,
    entropy: f64,
    top1: u32,
    top1_prob: f64,
    nll: f64,
    brier: f64,
    kl_pq: f64,
    kl_qp: f64,
    js: f64,
    entropy_ref: f64,
}

impl Default for Slot {
    fn default() -> Self {
        Slot::invalid()
    }
}

impl Slot {
    fn invalid() -> Self {
        let nan = f64::NAN;
        Slot {
            lse: nan,
            entropy: nan,
            top1: 0,
            top1_prob: nan,
            nll: nan,
            brier: nan,
            kl_pq: nan,
            kl_qp: nan,
            js: nan,
            entropy_ref: nan,
        }
    }
    fn from_single(st: &kernel::RowStats, label_logit: Option<f64>, inv_t: f64) -> Self {
        let mut s = Slot::invalid();
        s.lse = st.lse();
        s.entropy = st.entropy;
        s.top1 = st.top1 as u32;
        s.top1_prob = (-st.ln_sum).exp();
        if let Some(xy) = label_logit {
            let lp = st.log_prob(xy, inv_t).min(0.0);
            s.nll = -lp;
            s.brier = (st.sum_p2 - 2.0 * lp.exp() + 1.0).max(0.0);
        }
        s
    }
}

fn check_len(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(CoreError::ShapeMismatch {
            what,
            expected,
            got,
        })
    }
}

fn row_err(e: RowError, row: usize, vocab: usize, what: &'static str) -> CoreError {
    match e {
        RowError::NonFinite(j, value) => CoreError::NonFinite {
            what,
            index: row * vocab + j,
            value,
        },
        RowError::NoMass => CoreError::NoMass { row },
    }
}
